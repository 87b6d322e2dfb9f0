/* consentminer — an upstream that is a stratum pool (Monero flavour, as xmrig speaks it),
 * over TCP or TLS, with a failover list.
 *
 * Behaviour (see docs/design.md, Protocols):
 *  - connects to urls[0]; on failure (refused, TLS verification, login error, dropped,
 *    no reply in time) it tries the next url after an exponential backoff with jitter,
 *    bounded by backoff_max_ms, cycling through the list;
 *  - while on a failover url it probes urls[0] every primary_retry_ms and goes back to
 *    it as soon as a login there succeeds;
 *  - honours `client.reconnect` (params [host, port, wait_s] or {host, port, wait}) to a
 *    host of the url list (any port); a redirect elsewhere is logged and ignored;
 *    sends `keepalived` when idle (only to a pool that lists the "keepalive" extension;
 *    any line from the pool counts as a sign of life), detects NiceHash from the login
 *    reply's extensions
 *    ("nicehash") or a nicehash.com host, and then marks every job nicehash with the
 *    pool's fixed top nonce byte;
 *  - a submit made while disconnected waits for the next login and is sent if its job
 *    is still the pool's current job, else answered STALE with the reason; every submit
 *    is answered exactly once through on_result, never synchronously from
 *    cm_upstream_submit.
 * Everything runs on the loop given at creation; call cm_upstream_submit and
 * cm_upstream_close from that loop's thread only (worker threads hop over a uv_async_t).
 * The process must ignore SIGPIPE (a pool closing mid-write would otherwise kill it).
 */
#ifndef CM_NATIVE_STRATUM_CLIENT_H
#define CM_NATIVE_STRATUM_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "upstream.h"

typedef struct cm_pool_config {
    /* Pool addresses in failover order, "host:port" (an optional "stratum+tcp://",
     * "stratum+ssl://" or "stratum+tls://" prefix sets TLS for that entry). At least one. */
    const char *const *urls;
    size_t url_count;
    const char *user;   /* the login: usually the wallet address; required */
    const char *pass;   /* NULL: "x" */
    const char *agent;  /* NULL: "consentminer/<version>" */
    const char *rig_id; /* sent as the login's params.rigid (xmrig's name); NULL: none */
    int tls;            /* 1: TLS for every entry */
    /* SHA-256 of the server certificate (DER), 64 hex characters (colons allowed), or
     * NULL to verify against ca_file. With a pin, the pin alone decides, and every entry
     * uses TLS. */
    const char *tls_fingerprint;
    const char *ca_file;       /* NULL: /etc/ssl/certs/ca-certificates.crt */
    uint32_t backoff_min_ms;   /* 0: 1000 */
    uint32_t backoff_max_ms;   /* 0: 60000 */
    uint32_t keepalive_ms;     /* idle time before a keepalived; 0: 60000 */
    uint32_t reply_timeout_ms; /* a login or submit without reply is a dead pool; 0: 30000 */
    uint32_t primary_retry_ms; /* probe urls[0] while on a failover; 0: 60000 */
} cm_pool_config;

/* Creates a pool upstream and starts connecting. The config is copied. Returns NULL
 * (with a message in err, if not NULL) when a url does not parse, user is missing, the
 * pin is not 32 bytes of hex or memory runs out. Events arrive later, on the loop. */
cm_upstream *cm_upstream_pool_new(uv_loop_t *loop, const cm_pool_config *cfg,
                                  const cm_upstream_events *ev, void *ud, cm_error *err);

#endif
