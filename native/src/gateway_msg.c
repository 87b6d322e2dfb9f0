/* consentminer gateway — one browser message (a JSON text) to a typed stratum request.
 *
 * Checks shapes and ranges only; what the values mean (is the consent still valid, is
 * the job known) is the session's business. Each malformed message gets an error that
 * names the field at fault; a message without an id is a notification and gets no
 * reply (JSON-RPC 2.0, section 4.1).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "consentminer/hex.h"
#include "gateway.h"
#include "safe_text.h"

static int err(gw_msg_error *e, int code, const char *fmt, const char *arg)
{
    e->code = code;
    /* The message may quote the browser's text: cut it only between characters, or the
     * reply would not serialise and the close reason would fail the browser's socket. */
    char full[2 * sizeof e->message];
    snprintf(full, sizeof full, fmt, arg ? arg : "");
    txt_utf8_cut(e->message, sizeof e->message, full);
    return -1;
}

static int hex_exact(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int h = cm_hex_digit(s[2 * i]), l = cm_hex_digit(s[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (uint8_t)(h * 16 + l);
    }
    return 0;
}

/* A JSON number holding an integer (JavaScript sends Date.now() as a number, which
 * jansson reads as an integer, but 1.7e12 style reals are accepted when whole). */
static int get_int(json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < lo || i > hi)
            return -1;
        *out = (int64_t)i;
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    d = json_real_value(v);
    if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* Only the form here: whether the token is one this gateway issued, and still holds, is
 * the session's business, which names the reason when it is not. */
static int parse_consent(json_t *params, gw_msg *m)
{
    json_t *c = json_object_get(params, "consent");
    if (!c || json_is_null(c))
        m->consent_form = GW_CONSENT_ABSENT;
    else if (json_is_string(c)) {
        m->consent_form = GW_CONSENT_TOKEN;
        m->consent_token = json_string_value(c);
    } else
        m->consent_form = GW_CONSENT_OTHER;
    return 0;
}

static int parse_login(json_t *params, gw_msg *m, gw_msg_error *e)
{
    json_t *algo = json_object_get(params, "algo");
    m->algo_ok = 1;
    if (algo) {
        m->algo_ok = 0;
        if (!json_is_array(algo))
            return err(e, GW_E_PARAMS, "params.algo is not a list%s", NULL);
        size_t i;
        json_t *a;
        json_array_foreach(algo, i, a)
        {
            if (json_is_string(a) && !strcmp(json_string_value(a), "rx/0"))
                m->algo_ok = 1;
        }
    }
    json_t *agent = json_object_get(params, "agent");
    if (json_is_string(agent))
        m->agent = json_string_value(agent);
    /* What the browser asks for, at most the token's ceilings (the session checks). */
    static const char *asks[] = {"threads", "throttle"};
    int *dst[] = {&m->want_threads, &m->want_throttle};
    for (int i = 0; i < 2; i++) {
        json_t *f = json_object_get(params, asks[i]);
        int64_t v;
        if (!f || json_is_null(f))
            continue;
        if (get_int(f, 1, i ? 100 : 256, &v))
            return err(e, GW_E_PARAMS,
                       i ? "params.%s is not a whole number of percent 1..100"
                         : "params.%s is not a whole number 1..256",
                       asks[i]);
        *dst[i] = (int)v;
    }
    return parse_consent(params, m);
}

static int parse_session_id(json_t *params, gw_msg *m, gw_msg_error *e)
{
    json_t *sid = json_object_get(params, "id");
    if (sid && !json_is_string(sid))
        return err(e, GW_E_PARAMS, "params.id is not a string%s", NULL);
    m->session_id = sid ? json_string_value(sid) : NULL;
    return 0;
}

static int parse_submit(json_t *params, gw_msg *m, gw_msg_error *e)
{
    if (parse_session_id(params, m, e))
        return -1;
    json_t *job = json_object_get(params, "job_id");
    if (!json_is_string(job) || !json_string_length(job) || json_string_length(job) > CM_JOB_ID_MAX)
        return err(e, GW_E_PARAMS, "params.job_id is not a string of 1..64 characters%s", NULL);
    m->job_id = json_string_value(job);
    json_t *nonce = json_object_get(params, "nonce");
    uint8_t nb[4];
    if (!json_is_string(nonce) || hex_exact(json_string_value(nonce), nb, 4))
        return err(e, GW_E_PARAMS, "params.nonce is not 8 hex characters (the 4 blob bytes)%s",
                   NULL);
    m->nonce =
        (uint32_t)nb[0] | (uint32_t)nb[1] << 8 | (uint32_t)nb[2] << 16 | (uint32_t)nb[3] << 24;
    json_t *result = json_object_get(params, "result");
    if (!json_is_string(result) || hex_exact(json_string_value(result), m->result, 32))
        return err(e, GW_E_PARAMS, "params.result is not 64 hex characters (the hash)%s", NULL);
    return 0;
}

int gw_msg_parse(const char *text, size_t len, gw_msg *m, gw_msg_error *e)
{
    memset(m, 0, sizeof *m);
    memset(e, 0, sizeof *e);
    json_error_t je;
    /* JSON_REJECT_DUPLICATES: {"method":"login","method":"submit"} is not one request. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        e->reply = 1; /* JSON-RPC answers a parse error with id null */
        char quoted[81], text[100];
        txt_utf8_cut(quoted, sizeof quoted, je.text);
        snprintf(text, sizeof text, "%s at column %d", quoted, je.column);
        return err(e, GW_E_PARSE, "message is not JSON: %s", text);
    }
    m->root = root;
    if (!json_is_object(root)) {
        e->reply = 1;
        return err(e, GW_E_REQUEST, "message is not a JSON object%s", NULL);
    }
    json_t *id = json_object_get(root, "id");
    if (id && !json_is_null(id)) {
        if (!json_is_integer(id) && !json_is_string(id)) {
            e->reply = 1;
            return err(e, GW_E_REQUEST, "id is neither a number nor a string%s", NULL);
        }
        m->id = id;
        e->reply = 1;
        e->id = json_incref(id);
    }
    json_t *method = json_object_get(root, "method");
    if (!json_is_string(method))
        return err(e, GW_E_REQUEST, "method is missing or not a string%s", NULL);
    const char *name = json_string_value(method);
    json_t *params = json_object_get(root, "params");
    static const char *known[] = {"login", "submit", "keepalived", "getjob", "consent"};
    int found = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        found |= !strcmp(name, known[i]);
    if (!found) {
        char shown[41];
        txt_utf8_cut(shown, sizeof shown, name);
        return err(e, GW_E_METHOD, "unknown method %s", shown);
    }
    if (params && !json_is_object(params))
        return err(e, GW_E_PARAMS, "params is not an object%s", NULL);
    if (!strcmp(name, "login")) {
        m->method = GW_M_LOGIN;
        if (!params)
            return err(e, GW_E_PARAMS, "login without params%s", NULL);
        return parse_login(params, m, e);
    }
    if (!strcmp(name, "submit")) {
        m->method = GW_M_SUBMIT;
        if (!params)
            return err(e, GW_E_PARAMS, "submit without params%s", NULL);
        return parse_submit(params, m, e);
    }
    if (!strcmp(name, "consent")) {
        m->method = GW_M_CONSENT;
        if (!params)
            return err(e, GW_E_PARAMS, "consent without params%s", NULL);
        if (parse_session_id(params, m, e))
            return -1;
        return parse_consent(params, m);
    }
    if (!strcmp(name, "keepalived")) {
        m->method = GW_M_KEEPALIVED;
        return params ? parse_session_id(params, m, e) : 0;
    }
    m->method = GW_M_GETJOB;
    return params ? parse_session_id(params, m, e) : 0;
}

void gw_msg_clear(gw_msg *m)
{
    if (m->root)
        json_decref(m->root);
    m->root = NULL;
    m->id = NULL;
}

void gw_msg_error_clear(gw_msg_error *e)
{
    if (e->id)
        json_decref(e->id);
    e->id = NULL;
}

static char *dump(json_t *obj, size_t *len)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (s && len)
        *len = strlen(s);
    return s;
}

char *gw_msg_error_reply(json_t *id, int code, const char *message, size_t *len)
{
    /* jansson refuses a string that is not UTF-8, and the browser would get no answer:
     * messages quoting upstream text cut by a byte count are mended here. */
    char clean[512];
    txt_utf8_cut(clean, sizeof clean, message);
    json_t *o = json_pack("{s:O?,s:s,s:{s:i,s:s}}", "id", id, "jsonrpc", "2.0", "error", "code",
                          code, "message", clean);
    return o ? dump(o, len) : NULL;
}

char *gw_msg_result_reply(json_t *id, json_t *result, size_t *len)
{
    json_t *o =
        json_pack("{s:O?,s:s,s:n,s:o}", "id", id, "jsonrpc", "2.0", "error", "result", result);
    return o ? dump(o, len) : NULL;
}
