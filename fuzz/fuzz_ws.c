/* libFuzzer target: bytes from a browser after the upgrade, through wslay's framing
 * into the stratum message parser, with replies queued back as a session would.
 *
 * The first byte picks how the bytes are split into reads; each complete text message
 * is parsed (gateway_msg.c) and answered with an error or a result, and every third
 * message starts a close, so queued replies meet closing handshakes.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

typedef struct harness {
    gw_ws *ws;
    size_t written;
    unsigned messages;
} harness;

static void on_text(void *ud, const char *msg, size_t len)
{
    harness *h = ud;
    gw_msg m;
    gw_msg_error e;
    size_t rl = 0;
    char *reply;
    if (gw_msg_parse(msg, len, &m, &e))
        reply = gw_msg_error_reply(e.id, e.code, e.message, &rl);
    else
        reply = gw_msg_result_reply(m.id, json_pack("{s:s}", "status", "OK"), &rl);
    if (reply) {
        gw_ws_send_text(h->ws, reply, rl);
        free(reply);
    }
    gw_msg_clear(&m);
    gw_msg_error_clear(&e);
    if (++h->messages % 3 == 0)
        gw_ws_close(h->ws, 1008, "fuzz close");
}

static int write_cb(void *ud, const uint8_t *data, size_t len)
{
    harness *h = ud;
    (void)data;
    h->written += len;
    return 0;
}

static void on_close(void *ud, unsigned code, const char *reason)
{
    (void)ud;
    (void)code;
    if (!reason)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = 1 + data[0] % 200;
    data++;
    size--;
    harness h = {0};
    gw_ws_callbacks cb = {on_text, write_cb, on_close};
    h.ws = gw_ws_new(&cb, &h, 4096);
    if (!h.ws)
        return 0;
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        if (gw_ws_feed(h.ws, data + off, n))
            break;
    }
    gw_ws_free(h.ws);
    return 0;
}
