/* consentminer — a newline-delimited text connection over TCP, optionally TLS, on libuv.
 *
 * It resolves, connects, runs the TLS handshake (tls.h) with a deadline, then hands each
 * line to on_line. A line longer than max_line is discarded up to its newline and
 * reported through on_oversize, so a hostile peer cannot grow memory. on_close comes at
 * most once, with the reason, always from the loop (never from inside a call the owner
 * made); after it, or after the owner calls cm_line_stream_close, no callback is made and
 * the object frees itself once libuv lets go of it. Writing to a peer that has gone
 * raises SIGPIPE: the process must ignore it (signal(SIGPIPE, SIG_IGN)), as libuv
 * expects.
 */
#ifndef CM_NATIVE_LINE_STREAM_H
#define CM_NATIVE_LINE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct cm_line_stream cm_line_stream;

typedef struct cm_line_stream_events {
    void (*on_open)(void *ud);                         /* connected, TLS trusted */
    void (*on_line)(void *ud, char *line, size_t len); /* NUL-terminated, no "\n" */
    void (*on_oversize)(void *ud, size_t discarded);   /* a too-long line was dropped */
    void (*on_close)(void *ud, const char *reason);    /* lost; the stream is gone */
} cm_line_stream_events;

typedef struct cm_line_stream_config {
    const char *host;
    int port;
    int tls;
    const char *ca_file;      /* NULL: the system store */
    const uint8_t *pin;       /* 32 bytes or NULL */
    size_t max_line;          /* longest accepted line, bytes */
    uint32_t open_timeout_ms; /* resolve + connect + handshake */
} cm_line_stream_config;

/* Starts connecting. NULL only when out of memory. */
cm_line_stream *cm_line_stream_open(uv_loop_t *loop, const cm_line_stream_config *cfg,
                                    const cm_line_stream_events *ev, void *ud);

/* Queues data (already newline-terminated) for the peer. 0, or -1 when the stream is
 * not open (the caller keeps the data). */
int cm_line_stream_send(cm_line_stream *s, const char *data, size_t len);

/* Closes without calling on_close. */
void cm_line_stream_close(cm_line_stream *s);

#endif
