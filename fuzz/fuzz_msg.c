/* libFuzzer target: one stratum message as a browser sends it (a WebSocket text), to the
 * typed request, then what the session does first with it: a login's consent token goes
 * through gw_token_verify (with a fixed key, so a seed can carry a valid token), and
 * every outcome is serialised as the reply the browser would get. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consent_token.h"
#include "gateway.h"

/* The key of fuzz/make_seeds.py's tokens (kid "fuzz"). */
static gw_keyring *ring(void)
{
    static gw_keyring *k;
    if (!k) {
        char path[] = "/tmp/cm-fuzz-keys-XXXXXX", err[200];
        int fd = mkstemp(path);
        static const char line[] =
            "fuzz 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
        if (fd < 0 || write(fd, line, sizeof line - 1) != (ssize_t)(sizeof line - 1))
            abort();
        close(fd);
        k = gw_keyring_load(path, err, sizeof err);
        unlink(path);
        if (!k)
            abort();
    }
    return k;
}

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
        if ((m.method == GW_M_LOGIN || m.method == GW_M_CONSENT) &&
            m.consent_form == GW_CONSENT_TOKEN) {
            gw_token t;
            char why[200];
            int64_t now = 1795000000000LL; /* a fixed clock: runs repeat */
            gw_token_err te = gw_token_verify(ring(), m.consent_token, now, &t, why, sizeof why);
            if (te != GW_TOKEN_OK && !why[0])
                abort(); /* every refusal names its reason */
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
