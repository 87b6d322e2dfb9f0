/* consentminer — what an upstream implementation provides behind upstream.h.
 *
 * Each implementation's struct starts with a cm_upstream, whose ops table the generic
 * cm_upstream_submit / cm_upstream_close dispatch through.
 */
#ifndef CM_NATIVE_UPSTREAM_IMPL_H
#define CM_NATIVE_UPSTREAM_IMPL_H

#include "upstream.h"

typedef struct cm_upstream_ops {
    int (*submit)(cm_upstream *u, const char *job_id, uint32_t nonce, const uint8_t hash[32],
                  void *ctx);
    void (*close)(cm_upstream *u);
} cm_upstream_ops;

struct cm_upstream {
    const cm_upstream_ops *ops;
};

#endif
