/* consentminer gateway — the log: one line per event on standard error, each starting
 * with its UTC time (ISO 8601), as text or as one JSON object (--log-format json), and
 * what it says about visitors (--log-visitors).
 *
 * Visitors' addresses, their miners' agent strings and their consent grants' ids are
 * personal data in many places. --log-visitors hash replaces each with a keyed hash
 * (HMAC-SHA256 under a key drawn at start and never written anywhere): the lines of one
 * run still show which connections came from the same address, but nothing in the log
 * leads back to the address, and two runs' hashes do not match. none leaves them out.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <mbedtls/md.h>

#include "consentminer/hex.h"
#include "gateway_server.h"
#include "safe_text.h"

static int log_json;
static gw_log_visitors log_visitors;
static uint8_t visitor_key[32];

int gw_log_setup(int json, gw_log_visitors visitors)
{
    log_json = json;
    log_visitors = visitors;
    if (visitors != GW_VISITORS_HASH)
        return 0;
    size_t got = 0;
    while (got < sizeof visitor_key) {
        ssize_t n = getrandom(visitor_key + got, sizeof visitor_key - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

gw_log_visitors gw_log_visitor_mode(void)
{
    return log_visitors;
}

const char *gw_log_visitor(const char *text, char *out, size_t cap)
{
    if (!text || log_visitors == GW_VISITORS_NONE)
        return NULL;
    if (log_visitors == GW_VISITORS_FULL) {
        snprintf(out, cap, "%s", text);
        return out;
    }
    uint8_t mac[32];
    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), visitor_key,
                        sizeof visitor_key, (const unsigned char *)text, strlen(text), mac))
        return NULL;
    /* 64 bits: no two visitors of a run share one, and short enough to read. */
    char hex[17];
    cm_hex_encode(mac, 8, hex);
    snprintf(out, cap, "h:%s", hex);
    return out;
}

/* The time in front of every line: ISO 8601, UTC, milliseconds. */
static void stamp(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char sec[32];
    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

/* Outside text as a JSON string: escaped like a text line first, so that it is valid
 * UTF-8 (jansson refuses anything else) and reads the same in both formats. */
static json_t *safe_string(const char *text)
{
    char buf[1024];
    txt_log_escape(buf, sizeof buf, text, strlen(text));
    return json_string(buf);
}

void gw_log_fields(const char *level, json_t *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char text[1024], esc[4096], when[48];
    int len = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (len < 0) {
        json_decref(fields);
        return;
    }
    if ((size_t)len >= sizeof text)
        len = (int)sizeof text - 1;
    stamp(when, sizeof when);
    /* Lines quote outside text (Origin, agents, method names, pool and monerod errors):
     * escaped here, once for every line, so none can forge a line or drive a terminal. */
    txt_log_escape(esc, sizeof esc, text, (size_t)len);
    if (!log_json) {
        fprintf(stderr, "%s gateway: %s\n", when, esc);
        json_decref(fields);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "level", json_string(level));
    json_object_set_new(o, "msg", json_string(esc));
    if (fields) {
        const char *k;
        json_t *v;
        json_object_foreach(fields, k, v)
        {
            if (json_object_get(o, k))
                continue; /* time, level and msg are the log's own */
            json_object_set_new(
                o, k, json_is_string(v) ? safe_string(json_string_value(v)) : json_incref(v));
        }
        json_decref(fields);
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
}

void gw_vlog(const char *fmt, va_list ap)
{
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    gw_log_fields("info", NULL, "%s", text);
}

void gw_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_vlog(fmt, ap);
    va_end(ap);
}

/* ---- visitors ---- */

const char *gw_conn_who(const gw_conn *c, char *out, size_t cap)
{
    char v[32];
    switch (log_visitors) {
    case GW_VISITORS_FULL:
        snprintf(out, cap, "%s", c->peer[0] ? c->peer : "?");
        break;
    case GW_VISITORS_HASH:
        snprintf(out, cap, "%s#%llu", gw_log_visitor(c->ip, v, sizeof v) ? v : "?",
                 (unsigned long long)c->id);
        break;
    default:
        snprintf(out, cap, "#%llu", (unsigned long long)c->id);
        break;
    }
    return out;
}

json_t *gw_conn_fields(const gw_conn *c)
{
    json_t *f = json_object();
    json_object_set_new(f, "conn", json_integer((json_int_t)c->id));
    char v[64];
    if (gw_log_visitor(c->ip, v, sizeof v))
        json_object_set_new(f, "visitor", json_string(v));
    return f;
}

/* Replaces every occurrence of what in text (in place, within cap) by with. */
static void replace_all(char *text, size_t cap, const char *what, const char *with)
{
    size_t wl = strlen(what), rl = strlen(with);
    if (!wl)
        return;
    char *p = text;
    while ((p = strstr(p, what))) {
        size_t tail = strlen(p + wl);
        if ((size_t)(p - text) + rl + tail + 1 > cap)
            return;
        memmove(p + rl, p + wl, tail + 1);
        memcpy(p, with, rl);
        p += rl;
    }
}

const char *gw_conn_redact(const gw_conn *c, const char *text, char *out, size_t cap)
{
    snprintf(out, cap, "%s", text ? text : "");
    if (log_visitors == GW_VISITORS_FULL)
        return out;
    char v[32];
    const char *with = gw_log_visitor(c->ip, v, sizeof v);
    if (!with)
        with = "(address not logged)";
    /* The per-IP key first: an IPv4 address is its own key, an IPv6 one its prefix. */
    if (strcmp(c->ip_key, "?"))
        replace_all(out, cap, c->ip_key, with);
    if (strcmp(c->ip, "?"))
        replace_all(out, cap, c->ip, with);
    return out;
}
