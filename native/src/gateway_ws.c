/* consentminer gateway — WebSocket framing with wslay's event API, fed from libuv.
 *
 * wslay pulls bytes through a recv callback and pushes bytes through a send callback; it
 * does no I/O. libuv pushes bytes at us in read callbacks. So gw_ws_feed lends wslay the
 * bytes just read (the recv callback copies from them and reports "would block" when
 * they run out), and the send callback hands frames to the connection's writer, which
 * queues them on the socket. Nothing here touches a socket, so fuzz/ feeds it directly.
 *
 * Messages are put together here, not by wslay: wslay's buffering keeps every fragment
 * in an allocation of its own (with its queue entry, about 80 bytes for a 1-byte
 * fragment), so 4,000 one-byte fragments of a 4 KiB message held 321 KiB. Here a
 * message is one buffer that never exceeds --max-message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "gateway.h"
#include "safe_text.h"

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
    size_t max_message;
    char *msg; /* the text message being put together, msg_len of msg_cap bytes used */
    size_t msg_len, msg_cap;
    uint64_t msg_total; /* the message's length so far, binary ones (not kept) included */
    int frame_is_data;  /* the frame being read belongs to a text or binary message */
    int msg_is_text;
    int too_big; /* the message outgrew max_message: end with 1009 */
};

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user_data)
{
    (void)flags;
    gw_ws *ws = user_data;
    if (ws->too_big) { /* stops wslay; gw_ws_feed sends the 1009 */
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
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

static void on_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user_data)
{
    (void)ctx;
    gw_ws *ws = user_data;
    /* Control frames (at most 125 bytes) are still buffered by wslay, which answers
     * pings and closes from them. */
    ws->frame_is_data = !(arg->opcode & 0x8);
    if (!ws->frame_is_data)
        return;
    if (arg->opcode != WSLAY_CONTINUATION_FRAME) {
        ws->msg_len = 0;
        ws->msg_total = 0;
        ws->msg_is_text = arg->opcode == WSLAY_TEXT_FRAME;
    }
    if (arg->payload_length > ws->max_message - ws->msg_total)
        ws->too_big = 1;
    else
        ws->msg_total += arg->payload_length;
}

static void on_frame_chunk(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user_data)
{
    (void)ctx;
    gw_ws *ws = user_data;
    /* A binary message is refused once complete; its bytes are not kept. */
    if (!ws->frame_is_data || !ws->msg_is_text || ws->too_big || arg->data_length == 0)
        return;
    size_t need = ws->msg_len + arg->data_length;
    if (need > ws->msg_cap) {
        size_t cap = ws->msg_cap ? ws->msg_cap * 2 : 256;
        if (cap < need)
            cap = need;
        if (cap > ws->max_message)
            cap = ws->max_message;
        char *m = realloc(ws->msg, cap);
        if (!m) {
            ws->too_big = 1;
            return;
        }
        ws->msg = m;
        ws->msg_cap = cap;
    }
    memcpy(ws->msg + ws->msg_len, arg->data, arg->data_length);
    ws->msg_len = need;
}

/* An idle socket keeps no message buffer: thousands of them wait between shares. */
static void drop_message(gw_ws *ws)
{
    free(ws->msg);
    ws->msg = NULL;
    ws->msg_len = ws->msg_cap = 0;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user_data)
{
    gw_ws *ws = user_data;
    if (ws->close_pending || wslay_event_get_close_sent(ctx)) {
        drop_message(ws);
        return; /* closing: what arrives now is not acted on */
    }
    if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->msg_length == 1) {
        ws->bad_close = 1; /* RFC 6455 5.5.1: a body, if any, starts with a 2-byte code */
        return;
    }
    if (ws->too_big)
        return; /* what was kept is a part: gw_ws_feed ends the connection with 1009 */
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        /* The message is ours to hand on, but a reply may start the next one: take it. */
        char *text = ws->msg;
        size_t len = ws->msg_len;
        ws->msg = NULL;
        ws->msg_len = ws->msg_cap = 0;
        ws->cb.on_text(ws->ud, text ? text : "", len);
        free(text);
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
        .on_frame_recv_start_callback = on_frame_start,
        .on_frame_recv_chunk_callback = on_frame_chunk,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_server_init(&ws->ctx, &callbacks, ws)) {
        free(ws);
        return NULL;
    }
    ws->max_message = max_message;
    wslay_event_config_set_no_buffering(ws->ctx, 1);
    /* A single frame over the cap gets close 1009 from wslay before it is read; with
     * buffering off wslay checks frames one by one, so on_frame_start checks the sum. */
    wslay_event_config_set_max_recv_msg_length(ws->ctx, max_message);
    return ws;
}

void gw_ws_free(gw_ws *ws)
{
    if (!ws)
        return;
    wslay_event_context_free(ws->ctx);
    drop_message(ws);
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
    uint8_t body[126]; /* 2 for the code, at most 123 for the reason, 1 for the NUL */
    size_t rl = txt_utf8_cut((char *)body + 2, sizeof body - 2, reason);
    body[0] = (uint8_t)(code >> 8);
    body[1] = (uint8_t)code;
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
    if (ws->too_big) {
        drop_message(ws);
        protocol_close(ws, WSLAY_CODE_MESSAGE_TOO_BIG, "message over --max-message");
        return 1;
    }
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
    /* A control frame's payload is at most 125 bytes, 2 of them the code; the reason must
     * be UTF-8 (RFC 6455 5.5.1), or the browser fails the connection without reading it. */
    txt_utf8_cut(ws->close_reason, sizeof ws->close_reason, reason);
    ws->close_code = code;
    ws->close_pending = 1;
    flush(ws);
}

int gw_ws_closing(const gw_ws *ws)
{
    return ws->failed || ws->own_close || ws->close_pending ||
           wslay_event_get_close_sent(ws->ctx) || wslay_event_get_close_received(ws->ctx);
}
