/* line.h - one log record encoded once as its browser JSON object, shared by reference.
 *
 * A record arriving from NATS is turned into a struct lj_line on the thread that
 * received it; from then on only the service thread touches it. The ring of its
 * container and every session queue that carries it hold a reference; the bytes are
 * never copied per client. Does not know about frames, sessions or NATS.
 *
 * The JSON object (exactly the contract's line object):
 *   {"seq":S,"container":"host/name","ts":"RFC3339 ns","stream":"stdout",
 *    "level":"info","line_no":L,"line":"..."}            (+ "truncated":true when cut)
 * Invalid UTF-8 in the line becomes U+FFFD; nothing else about the line changes.
 */
#ifndef LJ_LINE_H
#define LJ_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"
#include "status.h"

struct lj_line {
    uint32_t refs;       /* owners; service thread only once published (1 at creation) */
    uint32_t json_len;   /* bytes of the JSON object at data[0] */
    uint32_t text_len;   /* bytes of the UTF-8-clean line at text(), NUL-terminated */
    uint8_t level;       /* enum lj_level */
    uint8_t stream;      /* enum lj_stream */
    uint64_t seq;        /* JetStream stream sequence, > 0 */
    uint64_t line_no;    /* per container, from 1, contiguous */
    int64_t ts_ns;       /* Docker's timestamp */
    int64_t recv_ns;     /* CLOCK_MONOTONIC when the gateway received it (lag metric) */
    int64_t ring_ns;     /* CLOCK_MONOTONIC when it was appended to its ring (wait metric) */
    char data[];         /* JSON object, NUL, clean text, NUL */
};

/* Encodes record r stored at stream sequence seq. On LJ_OK *out has refs == 1 and
 * belongs to the caller (lj_line_unref). LJ_NOMEM on allocation failure. Any thread. */
lj_status lj_line_create(const lj_pb_record *r, uint64_t seq, struct lj_line **out);

/* The clean line text (NUL-terminated, text_len bytes), for filters. */
static inline const char *lj_line_text(const struct lj_line *l)
{
    return l->data + l->json_len + 1;
}

static inline void lj_line_ref(struct lj_line *l) { l->refs++; }

/* Drops one reference; frees at zero. NULL is fine. Service thread (or the creator
 * before the line was handed over). */
void lj_line_unref(struct lj_line *l);

/* Appends s (n bytes) to b as a JSON string with quotes: escapes '"', '\\' and
 * control bytes, and writes U+FFFD for every invalid UTF-8 sequence. */
lj_status lj_json_string(struct lj_buf *b, const char *s, size_t n);

/* Appends to b the UTF-8-clean copy of s (invalid sequences -> U+FFFD), no escaping. */
lj_status lj_utf8_clean(struct lj_buf *b, const char *s, size_t n);

#endif
