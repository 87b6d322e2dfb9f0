/* consentminer gateway — the running server's state: connections, sessions, upstream
 * slots, shares in flight, counters (internal to native/; see gateway.h for the map).
 *
 * Everything here lives on the loop thread; only gw_verify crosses to other threads.
 */
#ifndef CM_NATIVE_GATEWAY_SERVER_H
#define CM_NATIVE_GATEWAY_SERVER_H

#include <uv.h>

#include "consentminer/stats.h"
#include "gateway.h"
#include "gateway_acct.h"
#include "gateway_fair.h"
#include "gateway_proxy.h"
#include "upstream.h"

/* Why a connection was refused or ended by the gateway; each one is logged and counted. */
typedef enum gw_refusal {
    GW_R_CAPACITY = 0,      /* --max-conns reached */
    GW_R_PER_IP,            /* --max-per-ip reached */
    GW_R_BAD_REQUEST,       /* malformed HTTP, or an upgrade that is not a valid one */
    GW_R_ORIGIN,            /* Origin not on the allow-list */
    GW_R_HANDSHAKE_TIMEOUT, /* no upgrade or no login in time */
    GW_R_IDLE_TIMEOUT,      /* no message for --idle-timeout */
    GW_R_TOO_BIG,           /* a message over --max-message */
    GW_R_PROTOCOL,          /* WebSocket protocol error, binary message */
    GW_R_STRIKES,           /* too many malformed messages */
    GW_R_INVALID_SHARES,    /* too many invalid shares */
    GW_R_RATE,              /* submits far beyond the rate limit */
    GW_R_NO_CONSENT,        /* login without a consent record */
    GW_R_CONSENT_EXPIRED,   /* login with an expired record, or it expired meanwhile */
    GW_R_CONSENT_INVALID,   /* a record out of range */
    GW_R_LOGIN,             /* any other failed login (algo, unauthenticated request) */
    GW_R_SLOW_READER,       /* the browser does not read what it is sent */
    GW_R_TLS,               /* TLS handshake or record failure */
    GW_R_CONSENT_REVOKED,   /* a session token from a revoked grant, or revoked meanwhile */
    GW_R_CONSENT_REPLAY,    /* more sessions from one grant than its thread ceiling */
    GW_R_COOLDOWN,          /* login from an address cooling down after invalid shares */
    GW_R_PROXY,             /* a PROXY line from an untrusted peer, or a malformed PROXY
                             * line or X-Forwarded-For from a trusted proxy */
    GW_R_COUNT
} gw_refusal;

const char *gw_refusal_name(gw_refusal r);

/* What became of a share a browser submitted: every share gets exactly one. */
typedef enum gw_outcome {
    GW_O_ACCEPTED = 0, /* verified, meets the browser's target (and upstream's answer, if sent) */
    GW_O_INVALID,      /* hash mismatch */
    GW_O_LOW_DIFF,     /* hash does not meet the browser's target */
    GW_O_BAD_NONCE,    /* nonce outside the browser's byte */
    GW_O_DUPLICATE,
    GW_O_STALE,    /* unknown job, superseded upstream connection, upstream down */
    GW_O_REJECTED, /* upstream said no */
    GW_O_RATE,     /* over the submit rate */
    GW_O_BUSY,     /* verification queue full or verification failed to run */
    GW_O_COUNT
} gw_outcome;

const char *gw_outcome_name(gw_outcome o);

typedef struct gw_stats {
    uint64_t conns_total, conns_open, ws_open, sessions_open, sessions_total;
    uint64_t refused[GW_R_COUNT];
    uint64_t shares_received, shares_pending;
    uint64_t shares[GW_O_COUNT];
    uint64_t verified_diff; /* sum of difficulties of accepted shares */
    uint64_t up_submitted, up_accepted, up_rejected, up_stale;
    uint64_t blocks_submitted, blocks_accepted, blocks_rejected;
    /* Blocks monerod answered stale: another block of the same height (often a second
     * browser thread's, on the same template) got there first. Not a rejection. */
    uint64_t blocks_stale;
    cm_stats *rate; /* accepted difficulty as hashes: the verified hash rate */
    /* The RandomX hash of each verified share, as a histogram (gw_stats_verify_seconds). */
    uint64_t verify_buckets[16];
    uint64_t verify_count;
    double verify_sum_s;
    int64_t started_ms;
} gw_stats;

/* An upstream job, shared by every browser job made from it. */
typedef struct gw_upjob {
    int refs;
    cm_job job;
    uint64_t difficulty; /* monerod's block difficulty; 0 from a pool */
    int slot;
    uint64_t epoch; /* the slot's connection epoch when the job came */
    uint64_t work;  /* gw_acct's identity of its work; 0: retired before it came */
} gw_upjob;

struct gw_conn;

/* One upstream connection and the (up to 256) browsers whose nonce bytes it hands out. */
typedef struct gw_slot {
    struct gw_server *srv;
    int index;
    int open; /* has an upstream object (connected or retrying) */
    cm_upstream *u;
    int up;
    char reason[160]; /* why it is down */
    uint64_t epoch;   /* +1 every time it comes up */
    gw_upjob *job;    /* current job, NULL while there is none */
    uint8_t used[32]; /* nonce bytes in use (bitmap) */
    int count;
    struct gw_conn *members;
    int64_t empty_since_ms;
    uint64_t connects, jobs;
} gw_slot;

#define GW_JOBS_KEPT 4

/* A job given to one browser. Duplicates are not refused here but by gw_acct, keyed
 * on the upstream work whatever job id a nonce comes with. */
typedef struct gw_bjob {
    char id[20];
    gw_upjob *up; /* NULL: free */
    uint64_t diff, target64;
    uint32_t submitted; /* shares recorded for it */
} gw_bjob;

typedef struct gw_session {
    int logged_in;
    char sid[17];
    int64_t consent_expires_ms;
    int threads, throttle;
    char grant_id[33]; /* the consent grant this session was made from (issue 14) */
    char agent[64];
    gw_slot *slot;
    int nonce_byte; /* -1: none yet */
    struct gw_conn *slot_prev, *slot_next;
    gw_vardiff vd;
    gw_bjob jobs[GW_JOBS_KEPT];
    int newest; /* index of the newest job in jobs[] */
    gw_bucket bucket;
    gw_bucket msg_bucket; /* getjob and keepalived, at the submit rate */
    int invalid, strikes, rate_strikes, msg_strikes;
    int recorded; /* shares recorded on its slot's works: its byte is not reused soon */
    int inflight; /* shares waiting for or in verification */
    gw_ipstate *ipst;
    gw_vowner owner; /* its queue for verification */
    uint64_t accepted;
} gw_session;

typedef struct gw_tls gw_tls;

enum { GW_PHASE_HTTP = 0, GW_PHASE_WS, GW_PHASE_DRAIN, GW_PHASE_FILE };

struct gw_file_send; /* a static file on its way out (gateway_server.c) */

typedef struct gw_conn {
    uv_tcp_t tcp; /* first: the handle's address is the connection's */
    struct gw_server *srv;
    struct gw_conn *prev, *next;
    uint64_t id;
    char ip[46];
    char ip_key[GW_IP_KEY_MAX]; /* what the per-IP limit counts it under (gw_ip_key) */
    char peer[128];
    int phase;
    int closing;          /* uv_close called */
    int refs;             /* the handle plus shares in flight */
    int shares_in_flight; /* submitted, not yet answered */
    int going_away;       /* draining: close with 1001 once shares_in_flight is 0 */
    int64_t deadline_ms;  /* handshake, login or drain deadline (loop time) */
    int64_t idle_ms;      /* idle deadline in the WebSocket phase */
    gw_http_req *http;
    gw_ws *ws;
    gw_tls *tls;
    struct gw_file_send *file; /* in GW_PHASE_FILE */
    gw_session s;
    /* behind a proxy (--trust-proxy) */
    int trusted; /* the address so far is a trusted proxy's: the visitor's is to come */
    int counted; /* counted in the per-IP table under ip_key */
    int prelude; /* the first bytes are still to show whether they are a PROXY line */
    char pre[GW_PROXY_V1_MAX];
    size_t pre_len;
} gw_conn;

/* A share between its submit and its answer. */
typedef struct gw_share {
    gw_vreq req;
    gw_conn *c;
    json_t *id; /* the browser's request id */
    gw_upjob *up;
    uint64_t diff, target64;
    uint32_t nonce;
    int block;        /* went upstream as a block candidate */
    gw_ipstate *ipst; /* a reference, and one in-flight share of it and of the session */
} gw_share;

typedef struct gw_server {
    uv_loop_t *loop;
    gw_config cfg;
    uv_tcp_t listener;
    uv_timer_t sweep;
    uv_timer_t stop_timer; /* while draining after SIGTERM */
    int64_t stop_deadline_ms;
    uv_signal_t sigint, sigterm, sighup;
    gw_conn *conns;
    gw_iptable *ips;
    gw_verify *verify;
    gw_slot *slots;
    int nslots;
    gw_stats stats;
    gw_http_env http_env;
    uint64_t next_conn_id;
    gw_acct *acct;
    gw_fair *fair;
    void *tls_conf;             /* gw_tls_conf when --cert/--key */
    struct gw_consent *consent; /* tokens, grants' open sessions, revocations */
    char *frame_ancestors;      /* the CSP source list for /frame/ */
    int stopping;               /* 1: draining after a signal, 2: closing everything */
    int daemon_mode;
    struct gw_admin *admin; /* --admin-listen (gateway_admin.c), or NULL */
    char read_buf[65536];   /* every read lands here; it is consumed before the next */
} gw_server;

/* gateway_server.c */
int gw_server_run(const gw_config *cfg);
void gw_conn_refuse(gw_conn *c, gw_refusal why, const char *detail);
void gw_conn_close(gw_conn *c, const char *why);
int gw_conn_send_text(gw_conn *c, const char *text, size_t len);
/* Sends an error reply, then closes the WebSocket with a policy-violation code. */
void gw_conn_fail(gw_conn *c, json_t *id, int code, const char *message, gw_refusal why);
void gw_conn_unref(gw_conn *c);
int64_t gw_now(gw_server *s); /* loop time, ms */

/* gateway_session.c */
void gw_session_init(gw_conn *c);
void gw_session_message(gw_conn *c, const char *text, size_t len);
void gw_session_end(gw_conn *c);
void gw_session_new_job(gw_conn *c);            /* the slot's job changed */
void gw_session_sweep(gw_conn *c, int64_t now); /* retarget, consent expiry */
void gw_session_verified(gw_server *s, gw_vreq *req);
void gw_session_upstream_result(gw_server *s, gw_share *sh, cm_submit_outcome o,
                                const char *reason);
void gw_share_finish(gw_server *s, gw_share *sh, gw_outcome o, const char *reason);
void gw_upjob_unref(gw_upjob *j);

/* gateway_upstream.c */
int gw_upstream_start(gw_server *s);
void gw_upstream_stop(gw_server *s);
/* Gives the session a slot and a nonce byte (opening an upstream connection if all are
 * full). -1 when --max-upstreams connections are all full. */
int gw_upstream_join(gw_server *s, gw_conn *c);
void gw_upstream_leave(gw_server *s, gw_conn *c);
void gw_upstream_sweep(gw_server *s, int64_t now);
/* Sends a verified share up; its answer comes to gw_session_upstream_result. NULL when
 * sent, else why it could not be (upstream down, job from an earlier connection). */
const char *gw_upstream_submit(gw_server *s, gw_share *sh);

/* gateway_stats.c */
int gw_stats_init(gw_stats *st, int64_t now_ms);
void gw_stats_free(gw_stats *st);
char *gw_stats_json(void *server, size_t *len);
char *gw_stats_metrics(void *server, size_t *len);

/* Counts one verification's hash time in the latency histogram. */
void gw_stats_verify_seconds(gw_stats *st, double seconds);
/* /healthz: 200 "ok" while an upstream connection is up, else 503 and why. */
char *gw_stats_health(void *server, int *status, size_t *len);

/* gateway_admin.c: the --admin-listen listener (/stats, /metrics, /healthz only). */
int gw_admin_start(gw_server *s, const char *host, int port);
void gw_admin_stop(gw_server *s);
void gw_admin_free(gw_server *s); /* after the loop has closed its handles */

/* gateway_log.c: what the log says about a connection's visitor (--log-visitors): its
 * "ip:port#id", "h:HASH#id" or "#id"; and the JSON fields conn and visitor. */
const char *gw_conn_who(const gw_conn *c, char *out, size_t cap);
json_t *gw_conn_fields(const gw_conn *c);
/* text with the connection's address (and per-IP key) replaced as --log-visitors says. */
const char *gw_conn_redact(const gw_conn *c, const char *text, char *out, size_t cap);

/* gateway_tls.c */
void *gw_tls_conf_new(const char *cert, const char *key, char *err, size_t errlen);
/* Drops the caller's reference; the configuration goes when its last connection does. */
void gw_tls_conf_free(void *conf);
gw_tls *gw_tls_new(void *conf);
void gw_tls_free(gw_tls *t);
/* Ciphertext from the wire: plaintext comes out through plain(), ciphertext to send
 * through wire(). Returns 0, or -1 on a TLS failure (the connection ends). */
int gw_tls_feed(gw_tls *t, const uint8_t *data, size_t len,
                int (*plain)(void *ud, const uint8_t *p, size_t n),
                int (*wire)(void *ud, const uint8_t *p, size_t n), void *ud);
int gw_tls_write(gw_tls *t, const uint8_t *data, size_t len,
                 int (*wire)(void *ud, const uint8_t *p, size_t n), void *ud);

#endif
