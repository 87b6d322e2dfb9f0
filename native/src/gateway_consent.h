/* consentminer gateway — consent from the consent frame only (issue 14): the endpoints
 * that issue and revoke tokens, and the checks at login and renewal.
 *
 *   POST /consent/grant    after the visitor's click in the frame: a grant token (the
 *                          remembered yes) and a first session token
 *   POST /consent/session  a grant token -> a new session token (--session-ttl)
 *   POST /consent/revoke   a grant token -> refused from now on, its sessions closed
 *   login / "consent"      a session token: signature, kind, expiry, revocation, and at
 *                          most `threads` open sessions per grant
 *
 * Every endpoint needs Origin to be the frame's own origin (gw_frame_origin_ok), and no
 * CORS header is sent, so a script in another origin can neither ask nor read.
 */
#ifndef CM_NATIVE_GATEWAY_CONSENT_H
#define CM_NATIVE_GATEWAY_CONSENT_H

#include "consent_token.h"
#include "gateway_server.h"

typedef struct gw_consent gw_consent;

/* Takes ownership of ring. NULL when out of memory. */
gw_consent *gw_consent_new(gw_keyring *ring, int max_threads, int session_ttl_s);
void gw_consent_free(gw_consent *gc);
/* Replaces the keys (SIGHUP: --consent-keys read again); takes ownership of ring. Grants,
 * revocations and open sessions are kept. */
void gw_consent_set_ring(gw_consent *gc, gw_keyring *ring);

/* gw_http_env.consent: ud is the gw_server. */
void gw_consent_http(void *server, const gw_http_req *r, gw_http_resp *out);

/* A login's consent: 0 with the session's consent fields set (threads, throttle, expiry,
 * grant id, counted as open), or -1 after the connection was failed with the reason. */
int gw_consent_login(gw_conn *c, gw_msg *m);
/* The "consent" message: a new session token from the same grant. */
void gw_consent_renew(gw_conn *c, gw_msg *m);
/* The session ends: no longer counted against its grant. */
void gw_consent_session_end(gw_conn *c);

#endif
