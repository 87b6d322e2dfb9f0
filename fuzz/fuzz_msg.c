/* libFuzzer target: one stratum message as a browser sends it (a WebSocket text), to the
 * typed request, then what the session does first with it: a login's consent record goes
 * through cm_consent_restore and cm_consent_check, and every outcome is serialised as
 * the reply the browser would get. */
#include <stdlib.h>
#include <string.h>

#include "consentminer/consent.h"
#include "gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_msg m;
    gw_msg_error e;
    size_t len = 0;
    char *reply;
    if (gw_msg_parse((const char *)data, size, &m, &e)) {
        if (e.code == 0 || !e.message[0])
            abort(); /* every refusal names its reason */
        reply = gw_msg_error_reply(e.id, e.code, e.message, &len);
    } else {
        if (m.method == GW_M_LOGIN && m.has_consent) {
            cm_consent *c = cm_consent_new();
            cm_error err;
            int64_t now = 1795000000000LL; /* a fixed clock: runs repeat */
            if (c && !cm_consent_restore(c, m.granted_at, m.expires_at, m.threads, m.throttle, now,
                                         &err))
                (void)cm_consent_check(c, now);
            cm_consent_free(c);
        }
        if (m.method == GW_M_SUBMIT && (!m.job_id || !*m.job_id))
            abort(); /* a submit that parsed names its job */
        reply = gw_msg_result_reply(m.id, json_pack("{s:s}", "status", "OK"), &len);
    }
    if (reply && strlen(reply) != len)
        abort();
    free(reply);
    gw_msg_clear(&m);
    gw_msg_error_clear(&e);
    return 0;
}
