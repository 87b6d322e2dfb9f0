/* consentminer gateway — WebSocket framing with wslay's event API, fed from libuv.
 *
 * wslay pulls bytes through a recv callback and pushes bytes through a send callback; it
 * does no I/O. libuv pushes bytes at us in read callbacks. So gw_ws_feed lends wslay the
 * bytes just read (the recv callback copies from them and reports "would block" when
 * they run out), and the send callback hands frames to the connection's writer, which
 * queues them on the socket. Nothing here touches a socket, so fuzz/ feeds it directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "gateway.h"

struct gw_ws {
    wslay_event_context_ptr ctx;
    gw_ws_callbacks cb;
    void *ud;
    const uint8_t *in; /* bytes lent by gw_ws_feed */
    size_t in_len;
    int failed;        /* the writer failed or wslay reported an error */
    int in_recv;       /* inside wslay_event_recv: queue only, flush after it returns */
    int close_pending; /* a close asked for while messages were still queued */
    int bad_close;     /* the browser's close frame had a 1-byte body */
    int own_close;     /* we ended it with our own close frame after a protocol error */
    unsigned close_code;
    char close_reason[124];
    int close_reported;
};

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user_data)
{
    (void)flags;
    gw_ws *ws = user_data;
    if (ws->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < ws->in_len ? len : ws->in_len;
    memcpy(buf, ws->in, n);
    ws->in += n;
    ws->in_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user_data)
{
    (void)flags;
    gw_ws *ws = user_data;
    if (ws->cb.write(ws->ud, data, len)) {
        ws->failed = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void report_close(gw_ws *ws, unsigned code, const char *reason)
{
    if (ws->close_reported)
        return;
    ws->close_reported = 1;
    if (ws->cb.on_close)
        ws->cb.on_close(ws->ud, code, reason);
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user_data)
{
    gw_ws *ws = user_data;
    if (ws->close_pending || wslay_event_get_close_sent(ctx))
        return; /* closing: what arrives now is not acted on */
    if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->msg_length == 1) {
        ws->bad_close = 1; /* RFC 6455 5.5.1: a body, if any, starts with a 2-byte code */
        return;
    }
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        ws->cb.on_text(ws->ud, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        /* The protocol is JSON text; a binary message is a client speaking something else. */
        gw_ws_close(ws, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not accepted");
    }
    /* Ping is answered with pong by wslay; a close frame is answered by wslay too. */
}

gw_ws *gw_ws_new(const gw_ws_callbacks *cb, void *ud, size_t max_message)
{
    gw_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->cb = *cb;
    ws->ud = ud;
    struct wslay_event_callbacks callbacks = {
        .recv_callback = recv_cb,
        .send_callback = send_cb,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_server_init(&ws->ctx, &callbacks, ws)) {
        free(ws);
        return NULL;
    }
    /* Larger messages get close 1009 from wslay before they are buffered whole. */
    wslay_event_config_set_max_recv_msg_length(ws->ctx, max_message);
    return ws;
}

void gw_ws_free(gw_ws *ws)
{
    if (!ws)
        return;
    wslay_event_context_free(ws->ctx);
    free(ws);
}

static int send_queued(gw_ws *ws)
{
    if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx)) {
        report_close(ws, WSLAY_CODE_ABNORMAL_CLOSURE, "write failed");
        return 1;
    }
    return 0;
}

/* Sends what is queued. A close waits until the messages before it are out: wslay sends
 * control frames ahead of queued messages and drops those still queued once its close
 * is sent, which would lose the error reply that explains the close. The writer takes
 * everything at once, so one send empties the message queue. */
static int flush(gw_ws *ws)
{
    if (ws->in_recv)
        return 0;
    if (send_queued(ws))
        return 1;
    if (ws->close_pending && wslay_event_get_queued_msg_count(ws->ctx) == 0) {
        ws->close_pending = 0;
        if (!wslay_event_get_close_sent(ws->ctx))
            wslay_event_queue_close(ws->ctx, (uint16_t)ws->close_code,
                                    (const uint8_t *)ws->close_reason, strlen(ws->close_reason));
        return send_queued(ws);
    }
    return 0;
}

/* After a framing error wslay queues a close without a status code (and treats a
 * close frame with a 1-byte body as a normal close). The browser should hear 1002, so
 * wslay's queue is shut and the close goes out through wslay's frame layer instead. */
static ssize_t frame_send_cb(const uint8_t *data, size_t len, int flags, void *user_data)
{
    (void)flags;
    gw_ws *ws = user_data;
    return ws->cb.write(ws->ud, data, len) ? WSLAY_ERR_CALLBACK_FAILURE : (ssize_t)len;
}

static void protocol_close(gw_ws *ws, unsigned code, const char *reason)
{
    wslay_event_shutdown_write(ws->ctx);
    wslay_event_shutdown_read(ws->ctx);
    ws->own_close = 1;
    struct wslay_frame_callbacks fcb = {frame_send_cb, NULL, NULL};
    wslay_frame_context_ptr fctx;
    if (wslay_frame_context_init(&fctx, &fcb, ws))
        return;
    uint8_t body[125];
    size_t rl = strlen(reason);
    if (rl > sizeof body - 2)
        rl = sizeof body - 2;
    body[0] = (uint8_t)(code >> 8);
    body[1] = (uint8_t)code;
    memcpy(body + 2, reason, rl);
    struct wslay_frame_iocb iocb = {.fin = 1,
                                    .opcode = WSLAY_CONNECTION_CLOSE,
                                    .payload_length = rl + 2,
                                    .data = body,
                                    .data_length = rl + 2};
    wslay_frame_send(fctx, &iocb);
    wslay_frame_context_free(fctx);
    report_close(ws, code, reason);
}

/* 1 when both directions are done: our close was sent and theirs came, or a failure. */
static int finished(gw_ws *ws)
{
    if (ws->failed || ws->own_close)
        return 1;
    if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx))
        return 1;
    return 0;
}

int gw_ws_feed(gw_ws *ws, const uint8_t *data, size_t len)
{
    if (ws->failed || ws->own_close)
        return 1;
    ws->in = data;
    ws->in_len = len;
    ws->in_recv = 1;
    int rv = wslay_event_recv(ws->ctx);
    ws->in_recv = 0;
    ws->in = NULL;
    ws->in_len = 0;
    if (ws->bad_close || (rv == WSLAY_ERR_CALLBACK_FAILURE && !ws->failed)) {
        protocol_close(ws, WSLAY_CODE_PROTOCOL_ERROR, "malformed WebSocket frame");
        return 1;
    }
    if (rv) {
        /* wslay has queued the matching close frame (1002 protocol error, 1007 invalid
         * UTF-8, 1009 too big) where it could; send it, then end. */
        flush(ws);
        unsigned code = wslay_event_get_status_code_sent(ws->ctx);
        report_close(ws, code ? code : WSLAY_CODE_PROTOCOL_ERROR,
                     "protocol error in WebSocket frames");
        return 1;
    }
    if (flush(ws))
        return 1;
    if (wslay_event_get_close_received(ws->ctx)) {
        unsigned code = wslay_event_get_status_code_received(ws->ctx);
        report_close(ws, code, "closed by the browser");
    }
    if (finished(ws)) {
        report_close(ws, wslay_event_get_status_code_sent(ws->ctx), "closing handshake done");
        return 1;
    }
    return 0;
}

int gw_ws_send_text(gw_ws *ws, const char *text, size_t len)
{
    if (ws->failed || ws->own_close || ws->close_pending || wslay_event_get_close_sent(ws->ctx))
        return -1;
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(ws->ctx, &msg))
        return -1;
    return flush(ws) ? -1 : 0;
}

void gw_ws_close(gw_ws *ws, unsigned code, const char *reason)
{
    if (ws->failed || ws->own_close || ws->close_pending || wslay_event_get_close_sent(ws->ctx))
        return;
    /* A control frame's payload is at most 125 bytes, 2 of them the code. */
    snprintf(ws->close_reason, sizeof ws->close_reason, "%s", reason ? reason : "");
    ws->close_code = code;
    ws->close_pending = 1;
    flush(ws);
}

int gw_ws_closing(const gw_ws *ws)
{
    return ws->failed || ws->own_close || ws->close_pending ||
           wslay_event_get_close_sent(ws->ctx) || wslay_event_get_close_received(ws->ctx);
}
