/* demux.h - turns the byte stream of Docker's GET /containers/{id}/logs into lines.
 *
 * The publisher always asks for timestamps=1, so every Docker message starts with a
 * 30-byte RFC 3339 stamp and a space. Non-TTY containers send 8-byte framed messages;
 * TTY containers send raw bytes (one merged stream, lines end in \r\n). Docker splits a
 * line longer than 16 KiB into several messages that share the first one's timestamp,
 * only the last ending in '\n'; the demux reassembles them per stream, strips the
 * repeated stamps, caps a line at max_line_bytes (marking it truncated) and hands out
 * whole lines. It does not know about NATS, containers or levels.
 *
 * Not thread-safe: one demux per follow, used from the publisher's main thread.
 */
#ifndef LJ_DEMUX_H
#define LJ_DEMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "status.h"

/* One reassembled line, valid only during the callback: data points either into the
 * bytes passed to lj_demux_feed or into the demux's own per-stream buffer. */
struct lj_demux_line {
    enum lj_stream stream;
    int64_t ts_unix_nano;  /* Docker's stamp of the line's first message */
    const char *data;      /* the line without '\n' (and without '\r' before it on TTYs) */
    size_t len;            /* <= max_line_bytes */
    bool truncated;        /* the line was longer than max_line_bytes */
};

/* Called once per line, in the order lines complete. It must not call back into the
 * same demux. */
typedef void (*lj_demux_line_fn)(void *ctx, const struct lj_demux_line *line);

struct lj_demux;

/* Returns a demux for a container with (tty) or without a TTY, or NULL on no memory.
 * max_line_bytes >= 1. Free with lj_demux_destroy. */
struct lj_demux *lj_demux_create(bool tty, size_t max_line_bytes);
void lj_demux_destroy(struct lj_demux *d); /* accepts NULL */

/* Consumes all len bytes (any split: headers and payloads may be cut at any byte) and
 * calls fn for every line they complete. Returns LJ_OK; LJ_DOCKER when the engine sent
 * an error frame (type 3; its text in err); LJ_PROTO when the stream is out of step
 * (bad header, missing or malformed timestamp); LJ_NOMEM when a line buffer could not
 * grow. err (errlen bytes, may be NULL/0) gets a one-line message on failure. After an
 * error the demux is dead: every later call returns the same status and message, and
 * lines completed before the error have been delivered. Never blocks, never prints.
 * Memory: per stream one buffer that grows (doubling) to at most max_line_bytes and is
 * reused; lines held whole in data are handed out without a copy. */
lj_status lj_demux_feed(struct lj_demux *d, const char *data, size_t len,
                        lj_demux_line_fn fn, void *ctx, char *err, size_t errlen);

/* End of stream: emits any unterminated partial lines (oldest first) and resets the
 * demux for a new stream (same tty/max settings), clearing a dead demux's error too.
 * Bytes of an incomplete header or timestamp are dropped; on a TTY, bytes that might
 * have been a continuation stamp are kept as text. */
void lj_demux_finish(struct lj_demux *d, lj_demux_line_fn fn, void *ctx);

#endif
