/* consentminer gateway — bridges consenting browsers to a pool or monerod: serves the
 * page's files, speaks stratum over WebSocket at /ws, requires a consent record at every
 * login, verifies every share with RandomX before crediting it, and pays only --wallet.
 * Options are read here; the server is gateway_server.c (map in gateway.h).
 */
#include <limits.h>
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

int cm_cmd_gateway(int argc, char **argv)
{
    gw_config cfg;
    gw_config_defaults(&cfg);
    static const char *origins[MAX_ORIGINS];
    static char host[256], admin_host[256];
    static char static_real[PATH_MAX], frame_real[PATH_MAX];
    const char *listen = NULL;
    static gw_cidr trust[MAX_TRUST_PROXY];
    size_t n_trust = 0;
    static const char *pools[MAX_POOLS];
    size_t n_pools = 0;
    long v;
    double d;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define VALUE()                                                                                    \
    do {                                                                                           \
        if (!(val = cm_arg_value(argc, argv, &i)))                                                 \
            return 2;                                                                              \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--listen")) {
            VALUE();
            listen = val;
        } else if (!strcmp(a, "--pool")) {
            VALUE();
            if (n_pools == MAX_POOLS) {
                fprintf(stderr, "consentminer gateway: at most %d --pool\n", MAX_POOLS);
                return 2;
            }
            pools[n_pools++] = val;
            cfg.pool = pools[0];
        } else if (!strcmp(a, "--daemon")) {
            VALUE();
            cfg.daemon = val;
        } else if (!strcmp(a, "--wallet")) {
            VALUE();
            cfg.wallet = val;
        } else if (!strcmp(a, "--pass")) {
            VALUE();
            cfg.pool_pass = val;
        } else if (!strcmp(a, "--tls")) {
            cfg.pool_tls = 1;
        } else if (!strcmp(a, "--tls-fingerprint")) {
            VALUE();
            cfg.pool_fingerprint = val;
        } else if (!strcmp(a, "--static")) {
            VALUE();
            if (!realpath(val, static_real)) {
                fprintf(stderr, "consentminer gateway: --static %s: no such directory\n", val);
                return 2;
            }
            cfg.static_dir = static_real;
        } else if (!strcmp(a, "--frame-dir")) {
            VALUE();
            if (!realpath(val, frame_real)) {
                fprintf(stderr, "consentminer gateway: --frame-dir %s: no such directory\n", val);
                return 2;
            }
            cfg.frame_dir = frame_real;
        } else if (!strcmp(a, "--consent-keys")) {
            VALUE();
            cfg.consent_keys = val;
        } else if (!strcmp(a, "--public-origin")) {
            VALUE();
            if (!origin_ok(val)) {
                fprintf(stderr,
                        "consentminer gateway: --public-origin %s: expected http://host[:port] "
                        "or https://host[:port] (no path, no wildcard), as browsers send it\n",
                        val);
                return 2;
            }
            cfg.public_origin = val;
        } else if (!strcmp(a, "--max-threads")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 256, &v))
                return 2;
            cfg.max_threads = (int)v;
        } else if (!strcmp(a, "--session-ttl")) {
            VALUE();
            if (cm_arg_int(a, val, 10, 86400, &v))
                return 2;
            cfg.session_ttl_s = (int)v;
        } else if (!strcmp(a, "--admin-listen") || !strcmp(a, "--log-format") ||
                   !strcmp(a, "--log-visitors")) {
            /* operations (issue 16): admin listener and log */
            VALUE();
            if (a[2] == 'a') {
                if (split_host_port(a, val, admin_host, sizeof admin_host, &cfg.admin_port))
                    return 2;
                cfg.admin_host = admin_host;
            } else if (a[6] == 'f' && (cfg.log_json = !strcmp(val, "json")) == 0 &&
                       strcmp(val, "text")) {
                fprintf(stderr, "consentminer gateway: --log-format %s: expected text or json\n",
                        val);
                return 2;
            } else if (a[6] == 'v') {
                static const char *modes[] = {"full", "hash", "none"};
                int m = 0;
                while (m < 3 && strcmp(val, modes[m]))
                    m++;
                if (m == 3) {
                    fprintf(stderr,
                            "consentminer gateway: --log-visitors %s: expected full, hash or "
                            "none\n",
                            val);
                    return 2;
                }
                cfg.log_visitors = m;
            }
        } else if (!strcmp(a, "--origin")) {
            VALUE();
            if (cfg.n_origins == MAX_ORIGINS) {
                fprintf(stderr, "consentminer gateway: at most %d --origin\n", MAX_ORIGINS);
                return 2;
            }
            if (!origin_ok(val)) {
                fprintf(stderr,
                        "consentminer gateway: --origin %s: expected http://host[:port] or "
                        "https://host[:port] (no path, no wildcard), as browsers send it\n",
                        val);
                return 2;
            }
            origins[cfg.n_origins++] = val;
        } else if (!strcmp(a, "--cert")) {
            VALUE();
            cfg.cert = val;
        } else if (!strcmp(a, "--key")) {
            VALUE();
            cfg.key = val;
        } else if (!strcmp(a, "--share-interval")) {
            VALUE();
            if (cm_arg_double(a, val, 1, 3600, &d))
                return 2;
            cfg.share_interval_s = d;
        } else if (!strcmp(a, "--start-diff") || !strcmp(a, "--min-diff") ||
                   !strcmp(a, "--max-diff")) {
            VALUE();
            if (cm_arg_int(a, val, 1, LONG_MAX, &v))
                return 2;
            if (a[2] == 's')
                cfg.start_diff = (uint64_t)v;
            else if (a[3] == 'i')
                cfg.min_diff = (uint64_t)v;
            else
                cfg.max_diff = (uint64_t)v;
        } else if (!strcmp(a, "--max-conns")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 1000000, &v))
                return 2;
            cfg.max_conns = (int)v;
        } else if (!strcmp(a, "--max-per-ip")) {
            VALUE();
            if (cm_arg_int(a, val, 0, 1000000, &v))
                return 2;
            cfg.max_per_ip = (int)v;
        } else if (!strcmp(a, "--ipv6-prefix")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 128, &v))
                return 2;
            cfg.ipv6_prefix = (int)v;
        } else if (!strcmp(a, "--max-message")) {
            VALUE();
            if (cm_arg_int(a, val, 256, 1 << 20, &v))
                return 2;
            cfg.max_message = (size_t)v;
        } else if (!strcmp(a, "--handshake-timeout") || !strcmp(a, "--idle-timeout")) {
            VALUE();
            if (cm_arg_double(a, val, 0.1, 86400, &d))
                return 2;
            if (a[2] == 'h')
                cfg.handshake_timeout_ms = (int)(d * 1000);
            else
                cfg.idle_timeout_ms = (int)(d * 1000);
        } else if (!strcmp(a, "--submit-rate")) {
            VALUE();
            if (cm_arg_double(a, val, 0.01, 10000, &d))
                return 2;
            cfg.submit_rate = d;
        } else if (!strcmp(a, "--submit-burst")) {
            VALUE();
            if (cm_arg_double(a, val, 1, 100000, &d))
                return 2;
            cfg.submit_burst = d;
        } else if (!strcmp(a, "--max-invalid")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 1000000, &v))
                return 2;
            cfg.max_invalid = (int)v;
        } else if (!strcmp(a, "--verify-threads")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 256, &v))
                return 2;
            cfg.verify_threads = (int)v;
        } else if (!strcmp(a, "--invalid-cooldown")) {
            VALUE();
            if (cm_arg_double(a, val, 0, 86400, &d))
                return 2;
            cfg.invalid_cooldown_ms = (int)(d * 1000);
        } else if (!strcmp(a, "--verify-per-session") || !strcmp(a, "--verify-per-ip")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 1000000, &v))
                return 2;
            if (a[13] == 's')
                cfg.verify_per_session = (int)v;
            else
                cfg.verify_per_ip = (int)v;
        } else if (!strcmp(a, "--verify-queue")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 1000000, &v))
                return 2;
            cfg.verify_queue = (int)v;
        } else if (!strcmp(a, "--per-upstream")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 256, &v))
                return 2;
            cfg.per_upstream = (int)v;
        } else if (!strcmp(a, "--max-upstreams")) {
            VALUE();
            if (cm_arg_int(a, val, 1, 65536, &v))
                return 2;
            cfg.max_upstreams = (int)v;
        } else if (!strcmp(a, "--quiet")) {
            cfg.quiet = 1;
        } else if (!strcmp(a, "--trust-proxy")) { /* behind a reverse proxy */
            VALUE();
            char err[160];
            if (n_trust == MAX_TRUST_PROXY) {
                fprintf(stderr, "consentminer gateway: at most %d --trust-proxy\n",
                        MAX_TRUST_PROXY);
                return 2;
            }
            if (gw_cidr_parse(val, &trust[n_trust], err, sizeof err)) {
                fprintf(stderr,
                        "consentminer gateway: --trust-proxy %s: %s; expected a network such "
                        "as 127.0.0.1/32 or fd00::/8\n",
                        val, err);
                return 2;
            }
            n_trust++;
        } else if (!strcmp(a, "--failback")) { /* with several --pool */
            VALUE();
            if (cm_arg_int(a, val, 1, 86400, &v))
                return 2;
            cfg.pool_failback_s = (int)v;
        } else {
            fprintf(stderr, "consentminer gateway: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
#undef VALUE
    }
    if (!listen || split_host_port("--listen", listen, host, sizeof host, &cfg.listen_port)) {
        fprintf(stderr, "consentminer gateway: --listen HOST:PORT is required\n");
        return 2;
    }
    cfg.listen_host = host;
    if (!cfg.pool == !cfg.daemon) {
        fprintf(stderr, "consentminer gateway: give exactly one of --pool or --daemon\n");
        return 2;
    }
    if (!cfg.wallet || !*cfg.wallet) {
        fprintf(stderr, "consentminer gateway: --wallet is required: the reward goes there, "
                        "never to an address a browser names\n");
        return 2;
    }
    {
        /* A pool login may carry a worker name or difficulty after the address. */
        size_t n = cfg.pool ? wallet_address_span(cfg.wallet) : strlen(cfg.wallet);
        char err[160];
        if (wallet_address_check(cfg.wallet, n, NULL, err, sizeof err)) {
            fprintf(stderr, "consentminer gateway: --wallet %.*s: %s\n", (int)n, cfg.wallet, err);
            return 2;
        }
    }
    if (!cfg.cert != !cfg.key) {
        fprintf(stderr, "consentminer gateway: --cert and --key go together\n");
        return 2;
    }
    if (cfg.max_diff && cfg.min_diff > cfg.max_diff) {
        fprintf(stderr, "consentminer gateway: --min-diff is above --max-diff\n");
        return 2;
    }
    cfg.origins = origins;
    cfg.trust_proxy = trust;
    cfg.n_trust_proxy = n_trust;
    cfg.pools = pools;
    cfg.n_pools = n_pools;
    return gw_server_run(&cfg);
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
