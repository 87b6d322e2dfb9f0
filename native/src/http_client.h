/* consentminer — one HTTP/1.1 POST on libuv, for monerod's RPC.
 *
 * Each request opens its own connection (Connection: close), so a slow poll never holds
 * up a block submission. The response is parsed with http-parser and capped in size.
 */
#ifndef CM_NATIVE_HTTP_CLIENT_H
#define CM_NATIVE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Largest response body accepted: a block template with a full mempool stays far below. */
#define CM_HTTP_MAX_BODY (8u << 20)

typedef struct cm_http_req cm_http_req;

/* Called once: status is the HTTP status (>0) with the body (NUL-terminated), or 0 with
 * error saying what failed (connect, timeout, parse). The request frees itself after. */
typedef void (*cm_http_cb)(void *ud, int status, const char *body, size_t len, const char *error);

/* Starts a POST of body to http://host:port/path. NULL when out of memory. */
cm_http_req *cm_http_post(uv_loop_t *loop, const char *host, int port, const char *path,
                          const char *body, size_t body_len, uint32_t timeout_ms, cm_http_cb cb,
                          void *ud);

/* Abandons the request: its callback will not be called. */
void cm_http_cancel(cm_http_req *r);

/* Splits "http://host:port[/path]" into host and port (80 when absent). 0 or -1. */
int cm_http_parse_url(const char *url, char *host, size_t host_len, int *port);

#endif
