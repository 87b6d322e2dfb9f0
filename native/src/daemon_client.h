/* consentminer — an upstream that is monerod: solo mining over its JSON-RPC.
 *
 * It asks `get_block_template` (wallet_address plus reserve_size, or an extra_nonce),
 * polls `/get_height` every poll_ms and asks for a new template when the chain moves
 * (and every refresh_ms anyway, to pick up new transactions), and turns each template
 * into a job: blob = blockhashing_blob, target64 from `difficulty`, seed_hash, height.
 * A submit writes the nonce into the template blob at the same offset as in the hashing
 * blob (both start with the same block header) and sends `submit_block`; the answer
 * comes back through on_result, never synchronously. A submit for a template that the
 * chain has moved past is answered STALE with the reason; a submit made while monerod is
 * unreachable is retried when it answers again if the template is still current.
 *
 * Distinct work for many miners: each instance created with a different extra_nonce
 * gets templates whose coinbase differs, so their hashing blobs (and nonce spaces)
 * never overlap; a gateway with more than 256 miners (one NiceHash byte each) opens one
 * instance per 256.
 * Everything runs on the loop given at creation; call cm_upstream_submit and
 * cm_upstream_close from that loop's thread only.
 */
#ifndef CM_NATIVE_DAEMON_CLIENT_H
#define CM_NATIVE_DAEMON_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "upstream.h"

typedef struct cm_daemon_config {
    const char *url;       /* "http://host:port" (path ignored; /json_rpc is used) */
    const char *wallet;    /* the address that receives block rewards; required */
    uint32_t reserve_size; /* bytes reserved in the coinbase extra (0..255) */
    /* Bytes monerod puts into the coinbase extra instead of reserved zeros (monerod's
     * extra_nonce parameter, 0..255 bytes; then reserve_size must be 0). NULL: none. */
    const uint8_t *extra_nonce;
    size_t extra_nonce_len;
    uint32_t poll_ms;    /* chain height poll; 0: 1000 */
    uint32_t refresh_ms; /* new template even without a new block; 0: 30000 */
    uint32_t timeout_ms; /* per HTTP request; 0: 10000 */
} cm_daemon_config;

/* Creates a monerod upstream and starts asking for work. The config is copied. NULL
 * (with a message in err, if not NULL) when the url does not parse, the wallet is
 * missing, sizes are out of range or memory runs out. */
cm_upstream *cm_upstream_daemon_new(uv_loop_t *loop, const cm_daemon_config *cfg,
                                    const cm_upstream_events *ev, void *ud, cm_error *err);

#endif
