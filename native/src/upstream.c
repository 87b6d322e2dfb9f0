/* consentminer — the generic side of upstream.h: dispatch to the pool or monerod. */
#include <stddef.h>

#include "upstream_impl.h"

int cm_upstream_submit(cm_upstream *u, const char *job_id, uint32_t nonce, const uint8_t hash[32],
                       void *ctx)
{
    if (u == NULL || job_id == NULL || hash == NULL)
        return CM_E_INVAL;
    return u->ops->submit(u, job_id, nonce, hash, ctx);
}

void cm_upstream_close(cm_upstream *u)
{
    if (u != NULL)
        u->ops->close(u);
}
