/* consentminer gateway — bridges consenting browsers to a pool or monerod: serves the
 * page's files, speaks stratum over WebSocket at /ws, requires a consent record at every
 * login, verifies every share with RandomX before crediting it, and pays only --wallet.
 * Options are read here; the server is gateway_server.c (map in gateway.h).
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wallet_address.h"
#include "cli_args.h"
#include "commands.h"
#include "gateway_server.h"

#define MAX_ORIGINS 32
#define MAX_TRUST_PROXY 64
#define MAX_POOLS 16

static void usage(FILE *out)
{
    fprintf(out,
            "usage: consentminer gateway --listen HOST:PORT (--pool HOST:PORT | --daemon URL)\n"
            "                            --wallet ADDRESS [options]\n\n"
            "Lets visitors of a site mine for it, with their consent: browsers connect over\n"
            "WebSocket at /ws, log in with their consent record, and get their own work; every\n"
            "share is verified with RandomX before it counts. The reward goes to --wallet only.\n\n"
            "upstream (one of):\n"
            "  --pool HOST:PORT        a stratum pool (stratum+tls:// or --tls for TLS); repeat\n"
            "                          for failover, tried in order\n"
            "  --failback S            while on a later --pool, try the first again every S\n"
            "                          seconds and go back once it logs in (default 60)\n"
            "  --daemon URL            monerod's RPC (http://127.0.0.1:18081): solo mining\n"
            "  --wallet ADDRESS        payout address (required; browsers cannot change it)\n"
            "  --pass TEXT             stratum password (default x)\n"
            "  --tls                   connect to the pool over TLS\n"
            "  --tls-fingerprint HEX   SHA-256 pin of the pool's certificate\n\n"
            "serving:\n"
            "  --listen HOST:PORT      address to listen on (required; port 0 picks one)\n"
            "  --static DIR            serve the page's files from DIR (no listing, no escape)\n"
            "  --frame-dir DIR         serve the consent frame (consent-ui's dist/frame) at\n"
            "                          /frame/; only this frame can log in\n"
            "  --origin URL            a site that may embed the consent frame (CSP\n"
            "                          frame-ancestors; repeat for more; default: only this\n"
            "                          gateway's own origin)\n"
            "  --public-origin URL     the frame's origin as browsers see it (behind a proxy;\n"
            "                          default http(s)://<Host of the request>); WebSocket\n"
            "                          logins and /consent/ requests must come from it\n"
            "  --cert FILE --key FILE  serve https/wss with this PEM certificate and key\n\n"
            "behind a reverse proxy:\n"
            "  --trust-proxy CIDR      a proxy's network (127.0.0.1/32, fd00::/8; repeat for\n"
            "                          more): from a peer in it the visitor's address comes\n"
            "                          from a PROXY v1 line or X-Forwarded-For (right-most\n"
            "                          untrusted) for per-IP limits and logs; from any other\n"
            "                          peer both are ignored and a PROXY line is refused\n\n"
            "operations:\n"
            "  --admin-listen HOST:PORT  serve /stats and /metrics here only (plain HTTP:\n"
            "                          keep it private), and /healthz; without it they are\n"
            "                          served on --listen, as /healthz always is\n"
            "  --log-format text|json  log lines as text (default) or one JSON object each\n"
            "                          (time, level, msg, fields); both start with UTC time\n"
            "  --log-visitors MODE     what the log says about visitors (address, agent\n"
            "                          string, consent grant id): full (as they are, the\n"
            "                          default), hash (a keyed hash, key drawn at start:\n"
            "                          one run's lines match, no address is recovered) or\n"
            "                          none\n\n"
            "consent:\n"
            "  --consent-keys FILE     HMAC keys for consent tokens, lines \"KID HEXKEY\" (>= 32\n"
            "                          bytes); the first signs, all verify (rotation); share\n"
            "                          the file among a site's gateways. Default: a random key\n"
            "                          per start (remembered consents end with a restart)\n"
            "  --max-threads N         highest thread ceiling a consent may grant, 1..256\n"
            "                          (default 8)\n"
            "  --session-ttl S         session tokens live S seconds and are renewed while\n"
            "                          mining; a revocation reaches other gateways within S\n"
            "                          (default 600)\n\n"
            "browsers:\n"
            "  --share-interval S      aim each browser's difficulty at one share per S\n"
            "                          seconds (default 30)\n"
            "  --start-diff N          first difficulty (default: from the consent's threads)\n"
            "  --min-diff N            lowest difficulty (default 1)\n"
            "  --max-diff N            highest difficulty (default: upstream's)\n\n"
            "limits:\n"
            "  --max-conns N           simultaneous connections (default 20000)\n"
            "  --max-per-ip N          simultaneous connections per IP, 0 unlimited (default 64)\n"
            "  --ipv6-prefix N         IPv6 addresses count per /N for --max-per-ip (default 64)\n"
            "  --max-message BYTES     largest WebSocket message (default 4096)\n"
            "  --handshake-timeout S   time to upgrade and log in (default 10)\n"
            "  --idle-timeout S        time without a message (default 300)\n"
            "  --submit-rate R         submits per second per browser (default 2, burst 20)\n"
            "  --submit-burst N\n"
            "  --max-invalid N         invalid shares before disconnect (default 10); as many\n"
            "                          from one address start its cool-down\n"
            "  --invalid-cooldown S    an address past --max-invalid may not log in or submit\n"
            "                          for S seconds (default 60)\n"
            "  --verify-per-session N  shares one session may have waiting for verification\n"
            "                          (default 4; more are answered busy)\n"
            "  --verify-per-ip N       ... and one address, all its sessions (default 16)\n"
            "  --verify-threads N      RandomX verification threads (default: CPUs)\n"
            "  --verify-queue N        shares waiting for verification (default 4096)\n"
            "  --per-upstream N        browsers per upstream connection, 1..256 (default 256)\n"
            "  --max-upstreams N       upstream connections (default 64)\n"
            "  --quiet                 log refusals and upstream events only\n"
            "  -h, --help              show this help\n\n"
            "endpoints: /ws (stratum over WebSocket), /frame/ (the consent frame),\n"
            "           POST /consent/grant, /consent/session, /consent/revoke (consent tokens),\n"
            "           /stats (JSON), /metrics (Prometheus), /healthz (200 while an upstream is\n"
            "           up, else 503 and why); /stats and /metrics on --admin-listen if given\n");
}

/* An origin as browsers send it: scheme://host[:port], nothing after. It also goes into
 * a CSP header, where a space or ';' would start another source or directive, and a '*'
 * would be a wildcard letting every https site embed the frame. A DNS name is at most
 * 253 characters; with a port, 262 covers every host. */
static int origin_ok(const char *v)
{
    const char *host = !strncmp(v, "http://", 7)    ? v + 7
                       : !strncmp(v, "https://", 8) ? v + 8
                                                    : NULL;
    return host && *host && strlen(host) <= 262 && !strpbrk(host, "/ \t;,'\"*");
}

static int split_host_port(const char *opt, const char *text, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= cap) {
        fprintf(stderr, "consentminer gateway: %s %s: expected HOST:PORT\n", opt, text);
        return -1;
    }
    size_t hl = (size_t)(colon - text);
    if (text[0] == '[' && hl >= 2 && text[hl - 1] == ']') {
        memcpy(host, text + 1, hl - 2);
        host[hl - 2] = 0;
    } else {
        memcpy(host, text, hl);
        host[hl] = 0;
    }
    long p;
    char what[40];
    snprintf(what, sizeof what, "%s port", opt);
    if (cm_arg_int(what, colon + 1, 0, 65535, &p))
        return -1;
    *port = (int)p;
    return 0;
}

/* Everything the options give: the server's config and the storage its pointers use. */
typedef struct gateway_options {
    gw_config cfg;
    const char *listen;
    const char *origins[MAX_ORIGINS];
    const char *pools[MAX_POOLS];
    gw_cidr trust[MAX_TRUST_PROXY];
    size_t n_pools, n_trust;
    char host[256], admin_host[256];
    char static_real[PATH_MAX], frame_real[PATH_MAX];
} gateway_options;

enum {
    OPT_LISTEN = 256,
    OPT_POOL,
    OPT_FAILBACK,
    OPT_DAEMON,
    OPT_WALLET,
    OPT_PASS,
    OPT_TLS,
    OPT_TLS_FINGERPRINT,
    OPT_STATIC,
    OPT_FRAME_DIR,
    OPT_ORIGIN,
    OPT_PUBLIC_ORIGIN,
    OPT_CERT,
    OPT_KEY,
    OPT_TRUST_PROXY,
    OPT_ADMIN_LISTEN,
    OPT_LOG_FORMAT,
    OPT_LOG_VISITORS,
    OPT_CONSENT_KEYS,
    OPT_MAX_THREADS,
    OPT_SESSION_TTL,
    OPT_SHARE_INTERVAL,
    OPT_START_DIFF,
    OPT_MIN_DIFF,
    OPT_MAX_DIFF,
    OPT_MAX_CONNS,
    OPT_MAX_PER_IP,
    OPT_IPV6_PREFIX,
    OPT_MAX_MESSAGE,
    OPT_HANDSHAKE_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_SUBMIT_RATE,
    OPT_SUBMIT_BURST,
    OPT_MAX_INVALID,
    OPT_INVALID_COOLDOWN,
    OPT_VERIFY_PER_SESSION,
    OPT_VERIFY_PER_IP,
    OPT_VERIFY_THREADS,
    OPT_VERIFY_QUEUE,
    OPT_PER_UPSTREAM,
    OPT_MAX_UPSTREAMS,
    OPT_QUIET,
};

#define ARG(name, key)                                                                             \
    {                                                                                              \
        name, required_argument, NULL, key                                                         \
    }
static const struct option gateway_longopts[] = {
    ARG("listen", OPT_LISTEN),
    ARG("pool", OPT_POOL),
    ARG("failback", OPT_FAILBACK),
    ARG("daemon", OPT_DAEMON),
    ARG("wallet", OPT_WALLET),
    ARG("pass", OPT_PASS),
    {"tls", no_argument, NULL, OPT_TLS},
    ARG("tls-fingerprint", OPT_TLS_FINGERPRINT),
    ARG("static", OPT_STATIC),
    ARG("frame-dir", OPT_FRAME_DIR),
    ARG("origin", OPT_ORIGIN),
    ARG("public-origin", OPT_PUBLIC_ORIGIN),
    ARG("cert", OPT_CERT),
    ARG("key", OPT_KEY),
    ARG("trust-proxy", OPT_TRUST_PROXY),
    ARG("admin-listen", OPT_ADMIN_LISTEN),
    ARG("log-format", OPT_LOG_FORMAT),
    ARG("log-visitors", OPT_LOG_VISITORS),
    ARG("consent-keys", OPT_CONSENT_KEYS),
    ARG("max-threads", OPT_MAX_THREADS),
    ARG("session-ttl", OPT_SESSION_TTL),
    ARG("share-interval", OPT_SHARE_INTERVAL),
    ARG("start-diff", OPT_START_DIFF),
    ARG("min-diff", OPT_MIN_DIFF),
    ARG("max-diff", OPT_MAX_DIFF),
    ARG("max-conns", OPT_MAX_CONNS),
    ARG("max-per-ip", OPT_MAX_PER_IP),
    ARG("ipv6-prefix", OPT_IPV6_PREFIX),
    ARG("max-message", OPT_MAX_MESSAGE),
    ARG("handshake-timeout", OPT_HANDSHAKE_TIMEOUT),
    ARG("idle-timeout", OPT_IDLE_TIMEOUT),
    ARG("submit-rate", OPT_SUBMIT_RATE),
    ARG("submit-burst", OPT_SUBMIT_BURST),
    ARG("max-invalid", OPT_MAX_INVALID),
    ARG("invalid-cooldown", OPT_INVALID_COOLDOWN),
    ARG("verify-per-session", OPT_VERIFY_PER_SESSION),
    ARG("verify-per-ip", OPT_VERIFY_PER_IP),
    ARG("verify-threads", OPT_VERIFY_THREADS),
    ARG("verify-queue", OPT_VERIFY_QUEUE),
    ARG("per-upstream", OPT_PER_UPSTREAM),
    ARG("max-upstreams", OPT_MAX_UPSTREAMS),
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
#undef ARG

/* The options that go straight into gw_config: text kept as given, flags set to 1, and
 * numbers in a range, stored as what the field is (int, uint64_t, size_t; double, or
 * seconds kept as int milliseconds). The others are taken by gateway_take. AT gives a
 * field's offset when the field has the type named, and fails to compile otherwise. */
#define AT(field, type)                                                                            \
    (offsetof(gw_config, field) + 0 * sizeof(_Generic(((gw_config *)0)->field, type : 1)))
typedef struct field_opt {
    int key;
    size_t at;
} field_opt;
static const field_opt text[] = {
    {OPT_DAEMON, AT(daemon, const char *)},
    {OPT_WALLET, AT(wallet, const char *)},
    {OPT_PASS, AT(pool_pass, const char *)},
    {OPT_TLS_FINGERPRINT, AT(pool_fingerprint, const char *)},
    {OPT_CERT, AT(cert, const char *)},
    {OPT_KEY, AT(key, const char *)},
    {OPT_CONSENT_KEYS, AT(consent_keys, const char *)},
};
static const field_opt flag[] = {
    {OPT_TLS, AT(pool_tls, int)},
    {OPT_QUIET, AT(quiet, int)},
};
static const struct {
    int key;
    long min, max;
    size_t at;
    char as; /* 'i' int, 'u' uint64_t, 'z' size_t */
} whole[] = {
    {OPT_FAILBACK, 1, 86400, AT(pool_failback_s, int), 'i'},
    {OPT_MAX_THREADS, 1, 256, AT(max_threads, int), 'i'},
    {OPT_SESSION_TTL, 10, 86400, AT(session_ttl_s, int), 'i'},
    {OPT_START_DIFF, 1, LONG_MAX, AT(start_diff, uint64_t), 'u'},
    {OPT_MIN_DIFF, 1, LONG_MAX, AT(min_diff, uint64_t), 'u'},
    {OPT_MAX_DIFF, 1, LONG_MAX, AT(max_diff, uint64_t), 'u'},
    {OPT_MAX_CONNS, 1, 1000000, AT(max_conns, int), 'i'},
    {OPT_MAX_PER_IP, 0, 1000000, AT(max_per_ip, int), 'i'},
    {OPT_IPV6_PREFIX, 1, 128, AT(ipv6_prefix, int), 'i'},
    {OPT_MAX_MESSAGE, 256, 1 << 20, AT(max_message, size_t), 'z'},
    {OPT_MAX_INVALID, 1, 1000000, AT(max_invalid, int), 'i'},
    {OPT_VERIFY_PER_SESSION, 1, 1000000, AT(verify_per_session, int), 'i'},
    {OPT_VERIFY_PER_IP, 1, 1000000, AT(verify_per_ip, int), 'i'},
    {OPT_VERIFY_THREADS, 1, 256, AT(verify_threads, int), 'i'},
    {OPT_VERIFY_QUEUE, 1, 1000000, AT(verify_queue, int), 'i'},
    {OPT_PER_UPSTREAM, 1, 256, AT(per_upstream, int), 'i'},
    {OPT_MAX_UPSTREAMS, 1, 65536, AT(max_upstreams, int), 'i'},
};
static const struct {
    int key;
    double min, max;
    size_t at;
    char as; /* 'd' double, 'm' seconds stored as int milliseconds */
} real[] = {
    {OPT_SHARE_INTERVAL, 1, 3600, AT(share_interval_s, double), 'd'},
    {OPT_HANDSHAKE_TIMEOUT, 0.1, 86400, AT(handshake_timeout_ms, int), 'm'},
    {OPT_IDLE_TIMEOUT, 0.1, 86400, AT(idle_timeout_ms, int), 'm'},
    {OPT_SUBMIT_RATE, 0.01, 10000, AT(submit_rate, double), 'd'},
    {OPT_SUBMIT_BURST, 1, 100000, AT(submit_burst, double), 'd'},
    {OPT_INVALID_COOLDOWN, 0, 86400, AT(invalid_cooldown_ms, int), 'm'},
};
#undef AT

/* An option of the tables above into cfg: 0, or 2 when its value is out of range. */
static int take_plain(gw_config *cfg, int key, const char *arg, const char *name)
{
    char *at = (char *)cfg;
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (text[i].key == key) {
            *(const char **)(at + text[i].at) = arg;
            return 0;
        }
    for (size_t i = 0; i < sizeof flag / sizeof flag[0]; i++)
        if (flag[i].key == key) {
            *(int *)(at + flag[i].at) = 1;
            return 0;
        }
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        if (whole[i].key != key)
            continue;
        long v;
        if (cm_arg_int(name, arg, whole[i].min, whole[i].max, &v))
            return 2;
        if (whole[i].as == 'u')
            *(uint64_t *)(at + whole[i].at) = (uint64_t)v;
        else if (whole[i].as == 'z')
            *(size_t *)(at + whole[i].at) = (size_t)v;
        else
            *(int *)(at + whole[i].at) = (int)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        if (real[i].key != key)
            continue;
        double d;
        if (cm_arg_double(name, arg, real[i].min, real[i].max, &d))
            return 2;
        if (real[i].as == 'm')
            *(int *)(at + real[i].at) = (int)(d * 1000);
        else
            *(double *)(at + real[i].at) = d;
        return 0;
    }
    return 0;
}

static int gateway_take(void *opts, int key, const char *arg, const char *name)
{
    gateway_options *o = opts;
    gw_config *cfg = &o->cfg;
    char err[160];
    switch (key) {
    case OPT_LISTEN:
        o->listen = arg;
        return 0;
    case OPT_POOL:
        if (o->n_pools == MAX_POOLS) {
            fprintf(stderr, "consentminer gateway: at most %d --pool\n", MAX_POOLS);
            return 2;
        }
        o->pools[o->n_pools++] = arg;
        cfg->pool = o->pools[0];
        return 0;
    case OPT_STATIC:
    case OPT_FRAME_DIR: {
        char *real = key == OPT_STATIC ? o->static_real : o->frame_real;
        if (!realpath(arg, real)) {
            fprintf(stderr, "consentminer gateway: %s %s: no such directory\n", name, arg);
            return 2;
        }
        *(key == OPT_STATIC ? &cfg->static_dir : &cfg->frame_dir) = real;
        return 0;
    }
    case OPT_ORIGIN:
        if (cfg->n_origins == MAX_ORIGINS) {
            fprintf(stderr, "consentminer gateway: at most %d --origin\n", MAX_ORIGINS);
            return 2;
        }
        /* fall through */
    case OPT_PUBLIC_ORIGIN:
        if (!origin_ok(arg)) {
            fprintf(stderr,
                    "consentminer gateway: %s %s: expected http://host[:port] or "
                    "https://host[:port] (no path, no wildcard), as browsers send it\n",
                    name, arg);
            return 2;
        }
        if (key == OPT_ORIGIN)
            o->origins[cfg->n_origins++] = arg;
        else
            cfg->public_origin = arg;
        return 0;
    case OPT_TRUST_PROXY:
        if (o->n_trust == MAX_TRUST_PROXY) {
            fprintf(stderr, "consentminer gateway: at most %d --trust-proxy\n", MAX_TRUST_PROXY);
            return 2;
        }
        if (gw_cidr_parse(arg, &o->trust[o->n_trust], err, sizeof err)) {
            fprintf(stderr,
                    "consentminer gateway: --trust-proxy %s: %s; expected a network such "
                    "as 127.0.0.1/32 or fd00::/8\n",
                    arg, err);
            return 2;
        }
        o->n_trust++;
        return 0;
    case OPT_ADMIN_LISTEN:
        if (split_host_port(name, arg, o->admin_host, sizeof o->admin_host, &cfg->admin_port))
            return 2;
        cfg->admin_host = o->admin_host;
        return 0;
    case OPT_LOG_FORMAT:
        if (strcmp(arg, "json") && strcmp(arg, "text")) {
            fprintf(stderr, "consentminer gateway: --log-format %s: expected text or json\n", arg);
            return 2;
        }
        cfg->log_json = !strcmp(arg, "json");
        return 0;
    case OPT_LOG_VISITORS: {
        static const char *modes[] = {"full", "hash", "none"};
        int m = 0;
        while (m < 3 && strcmp(arg, modes[m]))
            m++;
        if (m == 3) {
            fprintf(stderr,
                    "consentminer gateway: --log-visitors %s: expected full, hash or none\n", arg);
            return 2;
        }
        cfg->log_visitors = m;
        return 0;
    }
    }
    return take_plain(cfg, key, arg, name);
}

/* What the options say together: where to listen, one upstream, a payout address. */
static int gateway_check(gateway_options *o)
{
    gw_config *cfg = &o->cfg;
    if (!o->listen ||
        split_host_port("--listen", o->listen, o->host, sizeof o->host, &cfg->listen_port)) {
        fprintf(stderr, "consentminer gateway: --listen HOST:PORT is required\n");
        return 2;
    }
    cfg->listen_host = o->host;
    if (!cfg->pool == !cfg->daemon) {
        fprintf(stderr, "consentminer gateway: give exactly one of --pool or --daemon\n");
        return 2;
    }
    if (!cfg->wallet || !*cfg->wallet) {
        fprintf(stderr, "consentminer gateway: --wallet is required: the reward goes there, "
                        "never to an address a browser names\n");
        return 2;
    }
    /* A pool login may carry a worker name or difficulty after the address. */
    size_t n = cfg->pool ? wallet_address_span(cfg->wallet) : strlen(cfg->wallet);
    char err[160];
    if (wallet_address_check(cfg->wallet, n, NULL, err, sizeof err)) {
        fprintf(stderr, "consentminer gateway: --wallet %.*s: %s\n", (int)n, cfg->wallet, err);
        return 2;
    }
    if (!cfg->cert != !cfg->key) {
        fprintf(stderr, "consentminer gateway: --cert and --key go together\n");
        return 2;
    }
    if (cfg->max_diff && cfg->min_diff > cfg->max_diff) {
        fprintf(stderr, "consentminer gateway: --min-diff is above --max-diff\n");
        return 2;
    }
    cfg->origins = o->origins;
    cfg->trust_proxy = o->trust;
    cfg->n_trust_proxy = o->n_trust;
    cfg->pools = o->pools;
    cfg->n_pools = o->n_pools;
    return 0;
}

int cm_cmd_gateway(int argc, char **argv)
{
    /* Static: the server keeps pointers into it for its whole run. */
    static gateway_options o;
    memset(&o, 0, sizeof o);
    gw_config_defaults(&o.cfg);
    static const cli_spec spec = {"gateway", "h", gateway_longopts, usage, gateway_take};
    int rc = cli_parse(&spec, argc, argv, &o);
    if (rc == 1) /* --help */
        return 0;
    if (rc == 0)
        rc = gateway_check(&o);
    return rc ? rc : gw_server_run(&o.cfg);
}

void gw_config_defaults(gw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->pool_pass = "x";
    cfg->share_interval_s = 30;
    cfg->min_diff = 1;
    cfg->max_message = 4096;
    cfg->max_request = 8192;
    cfg->max_per_ip = 64;
    cfg->ipv6_prefix = 64;
    cfg->max_conns = 20000;
    cfg->handshake_timeout_ms = 10000;
    cfg->idle_timeout_ms = 300000;
    cfg->submit_rate = 2;
    cfg->submit_burst = 20;
    cfg->max_invalid = 10;
    cfg->invalid_cooldown_ms = 60000;
    cfg->verify_per_session = 4;
    cfg->verify_per_ip = 16;
    cfg->max_strikes = 10;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->verify_threads = cpus > 0 ? (int)cpus : 1;
    cfg->verify_queue = 4096;
    cfg->per_upstream = 256;
    cfg->max_upstreams = 64;
    cfg->max_threads = 8;
    cfg->session_ttl_s = 600;
}
