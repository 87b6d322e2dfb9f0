/* consentminer gateway — the parts and how they fit (internal to native/).
 *
 * One libuv loop owns every socket. A browser connection goes through:
 *   gateway_server.c   accept, per-IP and total limits, reads/writes, optional TLS,
 *                      the one sweep timer (handshake/idle deadlines, difficulty retarget)
 *   gateway_http.c     the request (http-parser), static files, /frame/, /stats, /metrics,
 *                      the /consent/ POST bodies, upgrade (from the frame's origin only)
 *   gateway_ws.c       WebSocket framing (wslay), one JSON object per text message
 *   gateway_msg.c      JSON message -> typed stratum request (jansson), with the error
 *                      each malformed message gets
 *   gateway_session.c  login with consent, per-browser nonce byte and difficulty,
 *                      jobs, submits, replies
 *   gateway_acct.c     share accounting without sockets: live upstream works, the
 *                      duplicate set keyed on (work, nonce), nonce-byte reuse, job ids
 *   gateway_fair.c     per address: shares in flight, its verification turn, the
 *                      cool-down that invalid shares cost
 *   gateway_vardiff.c  the difficulty that aims at one share per interval
 *   gateway_verify.c   RandomX light-mode verification on its own threads (never on the
 *                      loop), one cache per seed shared by those threads, addresses and
 *                      sessions taken in turn
 *   gateway_upstream.c upstream connections, each serving up to 256 browsers (one
 *                      nonce byte each), and what reaches the pool or monerod
 *   gateway_limits.c   origin allow-list, per-IP counts, submit rate, refusal log
 *   gateway_proxy.c    --trust-proxy networks, the visitor's address from a PROXY v1
 *                      line or X-Forwarded-For (gateway_proxy.h)
 *   gateway_stats.c    counters, /stats JSON, /metrics Prometheus text, /healthz
 *   gateway_admin.c    --admin-listen: /stats, /metrics, /healthz on their own listener
 *   gateway_log.c      log lines (text or JSON) and what they say about visitors
 *   gateway_tls.c      wss: mbedTLS server side over memory buffers
 *   gateway_consent.c  POST /consent/{grant,session,revoke}, the consent checks at login
 *                      and renewal, grants' open sessions and revocations
 *   consent_token.c    consent tokens: key ring, HMAC-SHA256 sign and verify
 *
 * The parsing layers (http, ws, msg) take bytes and give results through callbacks,
 * without sockets, so fuzz/ drives them directly.
 *
 * Browser protocol (docs/design.md, "Browser <-> gateway"): stratum messages, one JSON object
 * per WebSocket text message at /ws. Error codes in replies: JSON-RPC's -32700 (not
 * JSON), -32600 (not a request), -32601 (unknown method), -32602 (bad params); the core's
 * consent codes -10 (no consent), -11 (expired), -12 (revoked), -13 (invalid record);
 * and the share and session codes of gw_code below.
 */
#ifndef CM_NATIVE_GATEWAY_H
#define CM_NATIVE_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <jansson.h>
#include <uv.h>

#include "consentminer/job.h"

/* Error codes a browser can get besides JSON-RPC's and the consent ones. */
typedef enum gw_code {
    GW_E_PARSE = -32700,
    GW_E_REQUEST = -32600,
    GW_E_METHOD = -32601,
    GW_E_PARAMS = -32602,
    GW_E_UNAUTH = -100,        /* a method other than login before a successful login */
    GW_E_STALE = -101,         /* job unknown, superseded, or upstream unavailable */
    GW_E_INVALID_SHARE = -102, /* the RandomX hash is not what the browser claimed */
    GW_E_LOW_DIFF = -103,      /* the hash does not meet the browser's target */
    GW_E_DUPLICATE = -104,     /* this nonce was already submitted for this job */
    GW_E_BAD_NONCE = -105,     /* the nonce's top byte is not this browser's byte */
    GW_E_REJECTED = -106,      /* the pool or monerod rejected the share */
    GW_E_RATE = -107,          /* too many submits per second */
    GW_E_BUSY = -108,          /* the verification queue is full; not counted against it */
    GW_E_LOGIN = -109          /* already logged in, or algo not offered */
} gw_code;

/* ---- configuration (cmd_gateway.c fills it) ---- */

typedef struct gw_config {
    const char *listen_host;
    int listen_port;
    const char *pool;         /* host:port, or NULL (the first of pools) */
    const char *const *pools; /* --pool in failover order (the stratum client's list) */
    size_t n_pools;
    int pool_failback_s;          /* while on a later pool, try the first again this often */
    const char *daemon;           /* http://host:port, or NULL */
    const char *wallet;           /* payout address: always the gateway's */
    const char *pool_pass;        /* stratum password ("x" by default) */
    int pool_tls;                 /* stratum over TLS */
    const char *pool_fingerprint; /* SHA-256 pin for the pool's certificate, or NULL */
    const char *static_dir;       /* real path, or NULL */
    const char **origins;         /* may embed the consent frame; 0: the gateway only */
    size_t n_origins;
    const char *cert, *key;  /* wss when both are set */
    double share_interval_s; /* vardiff aims at one share per this many seconds */
    uint64_t start_diff;     /* 0: estimated from the consent's thread count */
    uint64_t min_diff, max_diff;
    size_t max_message;       /* largest WebSocket message accepted (bytes) */
    size_t max_request;       /* largest HTTP request head accepted (bytes) */
    int max_per_ip;           /* simultaneous connections per IP; 0: unlimited */
    int ipv6_prefix;          /* IPv6 addresses count per this prefix for max_per_ip */
    int max_conns;            /* simultaneous connections in all */
    int handshake_timeout_ms; /* from accept to a finished WebSocket upgrade/login */
    int idle_timeout_ms;      /* no message from the browser for this long */
    double submit_rate;       /* submits per second per browser, sustained */
    double submit_burst;      /* ... and in a burst */
    int max_invalid;          /* invalid shares before disconnect (per session, and per
                                 address before its cool-down) */
    int invalid_cooldown_ms;  /* an address past max_invalid may not log in or submit */
    int verify_per_session;   /* shares one session may have waiting for verification */
    int verify_per_ip;        /* ... and one address, all its sessions together */
    int max_strikes;          /* malformed messages before disconnect */
    int verify_threads;
    int verify_queue; /* most verifications waiting */
    int per_upstream; /* browsers per upstream connection, at most 256 */
    int max_upstreams;
    int quiet; /* fewer log lines (benchmarks) */

    /* behind a reverse proxy (--trust-proxy, gateway_proxy.h): peers in these networks
     * pass the visitor's address on (PROXY v1 line, X-Forwarded-For) */
    const struct gw_cidr *trust_proxy;
    size_t n_trust_proxy;

    /* consent (issue 14) */
    const char *consent_keys;  /* --consent-keys FILE, or NULL: one ephemeral key */
    const char *public_origin; /* the consent frame's origin behind a proxy, or NULL */
    const char *frame_dir;     /* real path of --frame-dir, or NULL */
    int max_threads;           /* highest thread ceiling a grant may carry */
    int session_ttl_s;         /* session tokens live this long */

    /* operations (issue 16): the admin listener and the log */
    const char *admin_host; /* --admin-listen: /stats, /metrics, /healthz there only */
    int admin_port;
    int log_json;     /* --log-format json: one JSON object per line */
    int log_visitors; /* --log-visitors: a gw_log_visitors */
} gw_config;

void gw_config_defaults(gw_config *cfg);

/* ---- log (gateway_log.c) ---- */

/* What the log says about visitors (their address, their miner's agent string, their
 * consent grant's id): as it is, a keyed hash (a key per run: lines of one run can be
 * matched, no address recovered), or nothing. */
typedef enum gw_log_visitors {
    GW_VISITORS_FULL = 0,
    GW_VISITORS_HASH,
    GW_VISITORS_NONE
} gw_log_visitors;

/* Before the first line. -1 when no random key could be drawn for hashing. */
int gw_log_setup(int json, gw_log_visitors visitors);
gw_log_visitors gw_log_visitor_mode(void);
/* text (an address, an agent string, a grant id) as the log may show it, written to out;
 * NULL when it is not to be logged at all. */
const char *gw_log_visitor(const char *text, char *out, size_t cap);
/* One line at a level ("info", "warn", "error") with fields for the JSON format (taken
 * over; NULL for none; text lines show the message only). String fields are escaped
 * like the message, so outside text may go in with json_string_nocheck. */
void gw_log_fields(const char *level, json_t *fields, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void gw_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void gw_vlog(const char *fmt, va_list ap);
/* Milliseconds since the Unix epoch (consent records use wall time). */
int64_t gw_wall_ms(void);

/* ---- HTTP request (gateway_http.c) ---- */

#define GW_HTTP_FIELD_MAX 256
#define GW_HTTP_URL_MAX 2048
/* A POST body (the /consent/ endpoints' JSON: two tokens of about 400 bytes at most). */
#define GW_HTTP_BODY_MAX 4096
/* X-Forwarded-For kept (its right end): room for 20 IPv6 hops. */
#define GW_HTTP_XFF_MAX 1024

typedef enum gw_http_state {
    GW_HTTP_MORE = 0, /* need more bytes */
    GW_HTTP_DONE = 1, /* request head complete */
    GW_HTTP_ERROR = 2 /* malformed: answer error_status and close */
} gw_http_state;

typedef struct gw_http_req gw_http_req;

gw_http_req *gw_http_req_new(size_t max_head);
void gw_http_req_free(gw_http_req *r);
/* Feeds bytes; returns how many were consumed (the rest, after a finished head, belong to
 * the next protocol). Check gw_http_req_state afterwards. */
size_t gw_http_req_feed(gw_http_req *r, const char *data, size_t len);
gw_http_state gw_http_req_state(const gw_http_req *r);

/* What to send back: a full response in `head` + `body`, or an upgrade. */
typedef struct gw_http_resp {
    int status;
    int upgrade; /* 1: switch to WebSocket after sending head */
    int close;   /* 1: close after sending */
    char *head;  /* malloc'd status line and headers, CRLF CRLF included */
    size_t head_len;
    char *body; /* malloc'd or NULL */
    size_t body_len;
    /* A static file to send after head, in pieces (the server reads it off the loop):
     * an open descriptor, or -1. gw_http_resp_free closes it unless the server took it. */
    int file_fd;
    uint64_t file_size;
    char reason[160]; /* for the log when a request is refused */
} gw_http_resp;

/* The services a route needs, so the router runs without a server (fuzz, tests). */
typedef struct gw_http_env {
    const char *static_dir; /* NULL: no static files */
    const char **origins;
    size_t n_origins;
    /* Filled on demand: malloc'd body. NULL callbacks give 404. */
    char *(*stats_json)(void *ud, size_t *len);
    char *(*metrics_text)(void *ud, size_t *len);
    /* /healthz: the body, and 200 or 503 in *status. NULL: 404. */
    char *(*healthz)(void *ud, int *status, size_t *len);
    void *ud;
    /* The consent frame (issue 14): its files, who may embed it, the endpoints. */
    const char *frame_dir;       /* NULL: no /frame/ */
    const char *frame_ancestors; /* CSP source list; NULL: 'self' */
    const char *public_origin;   /* the frame origin; NULL: scheme://Host of the request */
    int tls;                     /* the scheme of that origin: https when 1 */
    /* POST /consent/...: answers into out (gw_http_json). NULL: 404. */
    void (*consent)(void *ud, const gw_http_req *r, gw_http_resp *out);
} gw_http_env;

void gw_http_route(const gw_http_env *env, const gw_http_req *r, gw_http_resp *out);
/* The request's path and query, its Origin header (NULL when absent), and a POST's
 * body (NUL-terminated; "" when none). */
const char *gw_http_req_url(const gw_http_req *r);
const char *gw_http_req_origin(const gw_http_req *r);
const char *gw_http_req_body(const gw_http_req *r, size_t *len);
/* Every X-Forwarded-For header of the request joined by ", " (its right end when long),
 * or NULL when there was none. */
const char *gw_http_req_xff(const gw_http_req *r);
/* The consent frame's origin for this request: env->public_origin, else
 * http(s)://<Host>. 0, or -1 when there is none (no Host) or it does not fit. */
int gw_frame_origin(const gw_http_env *env, const gw_http_req *r, char *out, size_t cap);
/* 1 when the request's Origin is the consent frame's origin. */
int gw_frame_origin_ok(const gw_http_env *env, const gw_http_req *r);
/* A JSON response (json is copied), never with CORS headers. */
void gw_http_json(gw_http_resp *out, int status, const char *json);
/* A plain error response (used for refusals before any request, e.g. per-IP limit). */
void gw_http_error(int status, const char *reason, gw_http_resp *out);
/* An empty response: every field zero but file_fd, which is -1 (no file). Every response
 * starts here, so that freeing one never closes descriptor 0. */
void gw_http_resp_init(gw_http_resp *resp);
void gw_http_resp_free(gw_http_resp *resp);
/* Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2); out holds 29 bytes. */
int gw_ws_accept_key(const char *key, char out[32]);
/* Maps a URL path to a file under root. Returns 0 and fills out (capacity PATH_MAX) or
 * -1 (escape, missing, not a regular file, hidden file). */
int gw_static_resolve(const char *root, const char *url, char *out, size_t cap);
const char *gw_static_type(const char *path);

/* ---- WebSocket (gateway_ws.c) ---- */

typedef struct gw_ws gw_ws;

typedef struct gw_ws_callbacks {
    /* One complete text message (valid UTF-8, at most max_message bytes). */
    void (*on_text)(void *ud, const char *msg, size_t len);
    /* Bytes to put on the wire. Return 0, or -1 to fail the connection. */
    int (*write)(void *ud, const uint8_t *data, size_t len);
    /* The protocol is over (close frame exchanged or protocol error), with why. */
    void (*on_close)(void *ud, unsigned code, const char *reason);
} gw_ws_callbacks;

gw_ws *gw_ws_new(const gw_ws_callbacks *cb, void *ud, size_t max_message);
void gw_ws_free(gw_ws *ws);
/* Bytes from the wire. Returns 0 while the connection goes on, 1 once it should close
 * (after what was written through cb->write has been sent). */
int gw_ws_feed(gw_ws *ws, const uint8_t *data, size_t len);
int gw_ws_send_text(gw_ws *ws, const char *text, size_t len);
/* Starts the closing handshake with a status code and a reason (at most 123 bytes). */
void gw_ws_close(gw_ws *ws, unsigned code, const char *reason);
int gw_ws_closing(const gw_ws *ws);

/* ---- stratum messages (gateway_msg.c) ---- */

typedef enum gw_method {
    GW_M_LOGIN = 1,
    GW_M_SUBMIT,
    GW_M_KEEPALIVED,
    GW_M_GETJOB,
    GW_M_CONSENT /* a new session token for a logged-in session (renewal) */
} gw_method;

/* What params.consent held (login, consent). */
typedef enum gw_consent_form {
    GW_CONSENT_ABSENT = 0, /* missing or null */
    GW_CONSENT_TOKEN,      /* a string: consent_token */
    GW_CONSENT_OTHER       /* anything else, e.g. a record object a script made itself */
} gw_consent_form;

typedef struct gw_msg {
    json_t *root; /* owned; gw_msg_clear releases it */
    json_t *id;   /* borrowed from root; NULL when the message has no id */
    gw_method method;
    /* login and consent */
    gw_consent_form consent_form;
    const char *consent_token;       /* borrowed from root; NULL unless GW_CONSENT_TOKEN */
    int want_threads, want_throttle; /* login's params.threads/throttle; 0 when absent */
    const char *agent;               /* may be NULL */
    int algo_ok;                     /* algo absent, or a list naming rx/0 */
    /* submit / keepalived / getjob */
    const char *session_id; /* may be NULL */
    const char *job_id;
    uint32_t nonce;
    uint8_t result[32];
} gw_msg;

typedef struct gw_msg_error {
    int code;   /* a gw_code */
    int reply;  /* 1: the message had an id, answer it with the error */
    json_t *id; /* a new reference, or NULL */
    char message[160];
} gw_msg_error;

/* Parses one text message. 0 with *m filled, or -1 with *e filled. Either way call
 * gw_msg_clear / gw_msg_error_clear afterwards. */
int gw_msg_parse(const char *text, size_t len, gw_msg *m, gw_msg_error *e);
void gw_msg_clear(gw_msg *m);
void gw_msg_error_clear(gw_msg_error *e);

/* Serialises {"id":id,"jsonrpc":"2.0","error":{"code","message"}} (id NULL -> null). */
char *gw_msg_error_reply(json_t *id, int code, const char *message, size_t *len);
/* {"id":id,"jsonrpc":"2.0","error":null,"result":result}; steals result. */
char *gw_msg_result_reply(json_t *id, json_t *result, size_t *len);

/* ---- difficulty (gateway_vardiff.c) ---- */

typedef struct gw_vardiff {
    uint64_t diff;     /* current difficulty */
    int64_t since_ms;  /* when counting for the next retarget began */
    uint64_t sum_diff; /* difficulty credited since then */
    uint32_t shares;   /* shares since then */
} gw_vardiff;

typedef struct gw_vardiff_cfg {
    double interval_s;
    uint64_t min_diff, max_diff;
} gw_vardiff_cfg;

void gw_vardiff_init(gw_vardiff *v, uint64_t diff, int64_t now_ms);
/* Counts one accepted share of difficulty d (the one the job had). */
void gw_vardiff_share(gw_vardiff *v, uint64_t d);
/* The new difficulty when it should change now, else 0. */
uint64_t gw_vardiff_retarget(gw_vardiff *v, const gw_vardiff_cfg *cfg, int64_t now_ms);

/* ---- verification threads (gateway_verify.c) ---- */

typedef struct gw_verify gw_verify;

struct gw_vreq;
struct gw_vgroup;

/* Fair queueing (issue 13): a request waits in its owner's queue (one owner a session),
 * owners with requests in their group's ring (one group an address), groups in one
 * ring. A thread takes the next group's next owner's oldest request, so one address
 * with many sockets gets the same turns as one visitor, and one session of an address
 * the same as another; a group or owner that had nothing waiting goes to the front.
 * The fields belong to gw_verify once the owner has a request. */
typedef struct gw_vowner {
    struct gw_vreq *head, *tail;
    struct gw_vowner *next;
    struct gw_vgroup *group; /* set by the caller before the first request */
    int queued;
} gw_vowner;

typedef struct gw_vgroup {
    gw_vowner *head, *tail;
    struct gw_vgroup *next;
    int queued;
} gw_vgroup;

typedef struct gw_vreq {
    struct gw_vreq *next;
    gw_vowner *owner; /* NULL: a shared owner of its own */
    uint8_t blob[CM_BLOB_MAX];
    size_t blob_len;
    uint8_t seed[32];
    uint8_t claimed[32];
    /* results */
    uint8_t hash[32];
    int match;      /* 1: hash == claimed */
    int error;      /* a cm_err when the hash could not be computed */
    int cancelled;  /* taken out of the queue unhashed (gw_verify_cancel) */
    double seconds; /* how long the RandomX hash took (the verification latency) */
    void *ud;
} gw_vreq;

/* done runs on the loop thread for every request, in no particular order. */
typedef void (*gw_verify_done)(void *ud, gw_vreq *req);

gw_verify *gw_verify_new(uv_loop_t *loop, int threads, int max_queue, gw_verify_done done,
                         void *ud);
/* 0 queued; -1 the queue is full (the caller answers "busy"). */
int gw_verify_submit(gw_verify *v, gw_vreq *req);
/* Takes every request of owner out of the queue unhashed: they come back through done
 * (on a later loop turn) with cancelled set. Returns how many. */
int gw_verify_cancel(gw_verify *v, gw_vowner *owner);
/* Builds the cache for a seed ahead of the first share (a new seed from upstream). */
void gw_verify_prepare(gw_verify *v, const uint8_t seed[32]);
/* Stops the threads; requests still queued come back through done with error
 * CM_E_STOPPED. Closes its handle; free happens after the loop runs the close. */
void gw_verify_free(gw_verify *v);
/* Counters: hashes computed, the threads' wall time spent hashing and the CPU time
 * those hashes took (seconds), requests waiting. Any pointer may be NULL. */
void gw_verify_counters(gw_verify *v, uint64_t *hashes, double *busy_s, double *cpu_s, int *queued);

/* ---- limits (gateway_limits.c) ---- */

/* Room for the longest key: an IPv6 address (45), "/128" and the NUL. */
#define GW_IP_KEY_MAX 52

typedef struct gw_iptable gw_iptable;
gw_iptable *gw_iptable_new(void);
void gw_iptable_free(gw_iptable *t);
/* Adds one connection from ip; returns the new count. */
int gw_iptable_add(gw_iptable *t, const char *ip);
/* The text the per-IP limit counts a peer address under: an IPv4 address (also when
 * IPv4-mapped in IPv6) as it is, an IPv6 address as its first v6_prefix bits with
 * "/N" (one household or server gets a /64, so every /128 counting apart would let one
 * party hold unlimited connections). Returns 0, or -1 for another address family. */
int gw_ip_key(const struct sockaddr *sa, int v6_prefix, char *out, size_t cap);
void gw_iptable_remove(gw_iptable *t, const char *ip);

typedef struct gw_bucket {
    double tokens;
    int64_t last_ms;
} gw_bucket;
void gw_bucket_init(gw_bucket *b, double burst, int64_t now_ms);
/* 1 when a token was taken, 0 when the rate is exceeded. */
int gw_bucket_take(gw_bucket *b, double rate, double burst, int64_t now_ms);

#endif
