/* demux.c - Docker log stream bytes -> whole lines with stream, timestamp, truncation.
 *
 * Non-TTY wire format (GET /containers/{id}/logs, stdcopy framing), one frame per
 * Docker message:
 *
 *   offset  size  field
 *   0       1     stream type: 0 stdin (never sent; taken as stdout), 1 stdout,
 *                 2 stderr, 3 engine error (text, no timestamp; ends the stream)
 *   1       3     zero; anything else means we are out of step
 *   4       4     payload length, unsigned big-endian
 *   8       len   payload
 *
 * Payload of a type 0-2 frame (timestamps=1):
 *
 *   "2026-11-25T14:36:41.193618044Z" ' ' text ['\n']
 *    RFC 3339 stamp up to the first space (30 bytes from Docker)
 *
 * TTY wire format: no frames; the same payloads (stamp, space, text) back to back,
 * one merged stream, the pty's "\r\n" endings.
 *
 * A message holds at most 16384 text bytes. A longer line is split into several
 * messages that all carry the first one's stamp; only the last ends in '\n'. Without
 * frames (TTY) a continuation is recognised only by position: its stamp follows
 * exactly 16384 text bytes of an unterminated message, so there we check that the
 * bytes parse as a stamp before stripping them, and keep them as text otherwise.
 *
 * Hot path: a line whose bytes are all inside one feed call is handed out straight
 * from the caller's buffer (no copy); only lines cut by a call boundary or longer than
 * a message are assembled in a per-stream buffer that grows to max_line_bytes and is
 * then reused. Stamps sharing the previous stamp's whole seconds skip timegm().
 *
 * Does not allocate per line, does not print, does not know about NATS or levels.
 */
#include "demux.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

#define HEADER_BYTES 8
#define MSG_TEXT_MAX 16384  /* Docker's copier buffer: text bytes per message */
#define STAMP_MAX 63        /* longest stamp we accept, without the space */
#define ERRTEXT_MAX 256     /* engine error text we keep */
#define FIRST_CAP 256       /* first allocation of a line buffer */

enum phase {
    PH_HEADER,     /* reading an 8-byte frame header (non-TTY) */
    PH_STAMP,      /* reading a message's stamp, which must be there */
    PH_TTY_CONT,   /* TTY: 16384 text bytes done, maybe a continuation stamp */
    PH_TEXT,       /* reading message text */
    PH_ERRTEXT,    /* reading a type-3 frame's text */
};

/* A line being assembled for one stream. Invariants: len <= cap <= max_line_bytes;
 * buf holds the line's first len bytes; pending_cr (TTY only) is a '\r' seen last and
 * not stored yet, dropped if '\n' follows; open iff a message started the line. */
struct line {
    char *buf;
    size_t len, cap;
    int64_t ts;
    uint64_t opened;   /* order in which lines opened, for lj_demux_finish */
    bool open, truncated, pending_cr;
};

struct lj_demux {
    bool tty;
    size_t max;                 /* max_line_bytes >= 1 */
    enum phase phase;
    unsigned char hdr[HEADER_BYTES];
    size_t hdr_len;             /* header bytes collected, < HEADER_BYTES */
    uint64_t frame_left;        /* non-TTY: payload bytes of the frame not yet read */
    enum lj_stream cur;         /* stream of the current message */
    char stamp[STAMP_MAX + 1];
    size_t stamp_len;           /* stamp bytes collected across calls, <= STAMP_MAX */
    size_t msg_text;            /* TTY: text bytes of the current message so far */
    int64_t msg_ts;             /* stamp of the current message */
    struct line lines[2];       /* by enum lj_stream */
    uint64_t opened_count;
    char errtext[ERRTEXT_MAX];
    size_t errtext_len;
    lj_status dead;             /* LJ_OK while alive */
    char dead_msg[ERRTEXT_MAX + 64];
    char cache_prefix[19];      /* "YYYY-MM-DDTHH:MM:SS" of the last fixed-form stamp */
    int64_t cache_base;         /* its value in ns; valid when cache_valid */
    bool cache_valid;
};

/* Everything one feed call needs besides the demux. */
struct sink {
    lj_demux_line_fn fn;
    void *ctx;
};

struct lj_demux *lj_demux_create(bool tty, size_t max_line_bytes)
{
    struct lj_demux *d;

    assert(max_line_bytes >= 1);
    d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->tty = tty;
    d->max = max_line_bytes;
    d->phase = tty ? PH_STAMP : PH_HEADER;
    d->dead = LJ_OK;
    return d;
}

void lj_demux_destroy(struct lj_demux *d)
{
    if (d == NULL)
        return;
    free(d->lines[0].buf);
    free(d->lines[1].buf);
    free(d);
}

/* ---- stamps ---------------------------------------------------------------- */

/* Parses a stamp. Docker's fixed form "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" with the same
 * whole seconds as the previous one costs a compare and nine digits; anything else
 * goes through lj_time_parse. Both give the same value. */
static bool parse_stamp(struct lj_demux *d, const char *s, size_t n, int64_t *ns)
{
    bool fixed = n == 30 && s[19] == '.' && s[29] == 'Z';
    int64_t frac = 0;

    if (fixed) {
        for (size_t i = 20; i < 29; i++) {
            if (s[i] < '0' || s[i] > '9') {
                fixed = false;
                break;
            }
            frac = frac * 10 + (s[i] - '0');
        }
    }
    if (fixed && d->cache_valid && memcmp(s, d->cache_prefix, 19) == 0) {
        *ns = d->cache_base + frac;
        return true;
    }
    if (lj_time_parse(s, n, ns) != LJ_OK)
        return false;
    /* lj_time_parse maps years before 1970 to 0 whatever the fraction: not cacheable. */
    d->cache_valid = fixed && *ns > 0;
    if (d->cache_valid) {
        memcpy(d->cache_prefix, s, 19);
        d->cache_base = *ns - frac;
    }
    return true;
}

/* Bytes that can occur in a stamp lj_time_parse accepts. */
static bool stamp_byte(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == ':' || c == '.' || c == '+' ||
           c == 'T' || c == 't' || c == 'Z' || c == 'z';
}

/* ---- line assembly --------------------------------------------------------- */

static void line_reset(struct line *ln)
{
    ln->len = 0;
    ln->open = ln->truncated = ln->pending_cr = false;
}

static void line_open(struct lj_demux *d, struct line *ln, int64_t ts)
{
    if (ln->open)
        return;  /* a continuation message: the line keeps its first stamp */
    ln->open = true;
    ln->ts = ts;
    ln->opened = ++d->opened_count;
}

/* Stores n bytes, up to the cap; beyond it sets truncated. Returns false on no memory. */
static bool line_store(struct lj_demux *d, struct line *ln, const char *p, size_t n)
{
    size_t room = d->max - ln->len, take = n < room ? n : room;

    if (take < n)
        ln->truncated = true;
    if (take == 0)
        return true;
    if (ln->len + take > ln->cap) {
        size_t cap = ln->cap ? ln->cap : FIRST_CAP;
        while (cap < ln->len + take)
            cap *= 2;
        if (cap > d->max)
            cap = d->max;
        char *nb = realloc(ln->buf, cap);
        if (nb == NULL)
            return false;
        ln->buf = nb;
        ln->cap = cap;
    }
    memcpy(ln->buf + ln->len, p, take);
    ln->len += take;
    return true;
}

/* Appends text without '\n'. On a TTY a final '\r' is held back until we know whether
 * '\n' follows it. */
static bool line_append(struct lj_demux *d, struct line *ln, const char *p, size_t n)
{
    if (n == 0)
        return true;
    if (ln->pending_cr) {
        ln->pending_cr = false;
        if (!line_store(d, ln, "\r", 1))
            return false;
    }
    if (d->tty && p[n - 1] == '\r') {
        ln->pending_cr = true;
        n--;
    }
    return line_store(d, ln, p, n);
}

static void emit(const struct sink *k, enum lj_stream st, int64_t ts, const char *p,
                 size_t n, bool truncated)
{
    struct lj_demux_line out = {
        .stream = st, .ts_unix_nano = ts, .data = p, .len = n, .truncated = truncated,
    };
    k->fn(k->ctx, &out);
}

/* Hands out the assembled line (a '\n' ended it, or the stream ended) and resets it. */
static void line_emit(const struct sink *k, enum lj_stream st, struct line *ln)
{
    emit(k, st, ln->ts, ln->buf, ln->len, ln->truncated);
    line_reset(ln);
}

/* Feeds message text (n bytes, possibly several lines) to the current stream's line.
 * Lines held entirely in p go out without a copy. */
static bool text_feed(struct lj_demux *d, const struct sink *k, const char *p, size_t n)
{
    struct line *ln = &d->lines[d->cur];

    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        line_open(d, ln, d->msg_ts);
        if (nl == NULL)
            return line_append(d, ln, p, n);
        size_t seg = (size_t)(nl - p);
        if (ln->len == 0 && !ln->pending_cr && !ln->truncated) {
            size_t body = seg;
            if (d->tty && body > 0 && p[body - 1] == '\r')
                body--;
            emit(k, d->cur, ln->ts, p, body < d->max ? body : d->max, body > d->max);
            line_reset(ln);
        } else {
            if (!line_append(d, ln, p, seg))
                return false;
            ln->pending_cr = false;  /* "\r\n" -> end of line */
            line_emit(k, d->cur, ln);
        }
        p += seg + 1;
        n -= seg + 1;
    }
    return true;
}

/* ---- protocol steps -------------------------------------------------------- */

static lj_status die(struct lj_demux *d, lj_status s, const char *msg)
{
    d->dead = s;
    strncpy(d->dead_msg, msg, sizeof d->dead_msg - 1);
    d->dead_msg[sizeof d->dead_msg - 1] = '\0';
    return s;
}

/* A complete frame header in h. */
static lj_status header_done(struct lj_demux *d, const unsigned char *h)
{
    char msg[96];

    if (h[1] != 0 || h[2] != 0 || h[3] != 0 || h[0] > 3) {
        snprintf(msg, sizeof msg, "bad frame header %02x %02x %02x %02x", h[0], h[1], h[2],
                 h[3]);
        return die(d, LJ_PROTO, msg);
    }
    d->frame_left = (uint64_t)h[4] << 24 | (uint64_t)h[5] << 16 | (uint64_t)h[6] << 8 | h[7];
    if (h[0] == 3 && d->frame_left == 0)
        return die(d, LJ_DOCKER, "engine error without text");
    if (h[0] == 3) {
        d->errtext_len = 0;
        d->phase = PH_ERRTEXT;
    } else if (d->frame_left > 0) {  /* Docker never sends empty frames; skip them */
        d->cur = h[0] == 2 ? LJ_STREAM_STDERR : LJ_STREAM_STDOUT;
        d->stamp_len = 0;
        d->phase = PH_STAMP;
    }
    return LJ_OK;
}

/* Reads header bytes; returns bytes consumed. */
static size_t step_header(struct lj_demux *d, const char *p, size_t n, lj_status *st)
{
    if (d->hdr_len == 0 && n >= HEADER_BYTES) {
        *st = header_done(d, (const unsigned char *)p);
        return HEADER_BYTES;
    }
    size_t take = HEADER_BYTES - d->hdr_len;
    if (take > n)
        take = n;
    memcpy(d->hdr + d->hdr_len, p, take);
    d->hdr_len += take;
    if (d->hdr_len == HEADER_BYTES) {
        d->hdr_len = 0;
        *st = header_done(d, d->hdr);
    }
    return take;
}

/* A message's stamp s (n bytes, no space) has been read; the text follows. */
static lj_status stamp_done(struct lj_demux *d, const char *s, size_t n)
{
    char msg[STAMP_MAX + 48];

    if (!parse_stamp(d, s, n, &d->msg_ts)) {
        snprintf(msg, sizeof msg, "bad timestamp \"%.*s\"", (int)n, s);
        return die(d, LJ_PROTO, msg);
    }
    d->stamp_len = 0;
    d->msg_text = 0;
    line_open(d, &d->lines[d->cur], d->msg_ts);
    d->phase = PH_TEXT;
    return LJ_OK;
}

/* Reads a required stamp and its space; returns bytes consumed. In frames the stamp
 * must end inside the frame. */
static size_t step_stamp(struct lj_demux *d, const char *p, size_t n, lj_status *st)
{
    size_t lim = n, room = STAMP_MAX - d->stamp_len, used;

    if (!d->tty && d->frame_left < lim)
        lim = (size_t)d->frame_left;
    const char *sp = memchr(p, ' ', lim < room + 1 ? lim : room + 1);
    if (sp != NULL) {
        used = (size_t)(sp - p) + 1;
        if (d->stamp_len == 0) {
            *st = stamp_done(d, p, used - 1);
        } else {
            memcpy(d->stamp + d->stamp_len, p, used - 1);
            *st = stamp_done(d, d->stamp, d->stamp_len + used - 1);
        }
    } else if (lim > room || (d->tty && memchr(p, '\n', lim) != NULL)) {
        used = lim;
        *st = die(d, LJ_PROTO, "message without a timestamp");
    } else {
        used = lim;
        memcpy(d->stamp + d->stamp_len, p, lim);
        d->stamp_len += lim;
        if (!d->tty && d->frame_left == lim)
            *st = die(d, LJ_PROTO, "frame ends inside its timestamp");
    }
    if (!d->tty) {
        d->frame_left -= used;
        if (d->frame_left == 0 && *st == LJ_OK)
            d->phase = PH_HEADER;  /* a message with no text */
    }
    return used;
}

/* TTY, after 16384 text bytes of an unterminated message: strips the continuation
 * stamp if the next bytes are one, else keeps them as text. Returns bytes consumed. */
static size_t step_tty_cont(struct lj_demux *d, const char *p, size_t n, lj_status *st)
{
    size_t i = 0;
    int64_t ts;

    while (i < n && d->stamp_len + i < STAMP_MAX && stamp_byte(p[i]))
        i++;
    if (i < n && p[i] == ' ') {
        const char *s = p;
        if (d->stamp_len > 0) {
            memcpy(d->stamp + d->stamp_len, p, i);
            s = d->stamp;
        }
        if (parse_stamp(d, s, d->stamp_len + i, &ts)) {
            d->stamp_len = 0;
            d->msg_text = 0;
            d->phase = PH_TEXT;
            return i + 1;
        }
    } else if (i == n && d->stamp_len + i < STAMP_MAX) {
        memcpy(d->stamp + d->stamp_len, p, i);  /* undecided: wait for more bytes */
        d->stamp_len += i;
        return i;
    }
    /* Not a stamp: what we held is text of a message of unknown length. The bytes at
     * p[0..i) are re-read as text. */
    if (!line_append(d, &d->lines[d->cur], d->stamp, d->stamp_len))
        *st = die(d, LJ_NOMEM, "out of memory for a line");
    d->msg_text = d->stamp_len;
    d->stamp_len = 0;
    d->phase = PH_TEXT;
    return 0;
}

/* Reads message text; returns bytes consumed. */
static size_t step_text(struct lj_demux *d, const struct sink *k, const char *p, size_t n,
                        lj_status *st)
{
    size_t lim = n, used;

    if (!d->tty) {
        if (d->frame_left < lim)
            lim = (size_t)d->frame_left;
        used = lim;
        d->frame_left -= lim;
        if (d->frame_left == 0)
            d->phase = PH_HEADER;
    } else {
        if (MSG_TEXT_MAX - d->msg_text < lim)
            lim = MSG_TEXT_MAX - d->msg_text;
        const char *nl = memchr(p, '\n', lim);
        used = nl ? (size_t)(nl - p) + 1 : lim;
        d->msg_text += used;
        if (nl != NULL)
            d->phase = PH_STAMP;
        else if (d->msg_text == MSG_TEXT_MAX)
            d->phase = PH_TTY_CONT;
    }
    if (!text_feed(d, k, p, used))
        *st = die(d, LJ_NOMEM, "out of memory for a line");
    return used;
}

/* Collects a type-3 frame's text; when complete, the stream is over. */
static size_t step_errtext(struct lj_demux *d, const char *p, size_t n, lj_status *st)
{
    size_t lim = n < d->frame_left ? n : (size_t)d->frame_left;
    size_t keep = ERRTEXT_MAX - 1 - d->errtext_len;

    memcpy(d->errtext + d->errtext_len, p, lim < keep ? lim : keep);
    d->errtext_len += lim < keep ? lim : keep;
    d->frame_left -= lim;
    if (d->frame_left == 0) {
        while (d->errtext_len > 0 && (d->errtext[d->errtext_len - 1] == '\n' ||
                                      d->errtext[d->errtext_len - 1] == '\r'))
            d->errtext_len--;
        d->errtext[d->errtext_len] = '\0';
        *st = die(d, LJ_DOCKER, d->errtext);
    }
    return lim;
}

lj_status lj_demux_feed(struct lj_demux *d, const char *data, size_t len,
                        lj_demux_line_fn fn, void *ctx, char *err, size_t errlen)
{
    struct sink k = { fn, ctx };
    lj_status st = d->dead;

    assert(d != NULL && fn != NULL && (data != NULL || len == 0));
    while (st == LJ_OK && len > 0) {
        size_t used = 0;
        switch (d->phase) {
        case PH_HEADER:   used = step_header(d, data, len, &st); break;
        case PH_STAMP:    used = step_stamp(d, data, len, &st); break;
        case PH_TTY_CONT: used = step_tty_cont(d, data, len, &st); break;
        case PH_TEXT:     used = step_text(d, &k, data, len, &st); break;
        case PH_ERRTEXT:  used = step_errtext(d, data, len, &st); break;
        }
        data += used;
        len -= used;
    }
    if (st != LJ_OK)
        lj_fail(err, errlen, st, "%s", d->dead_msg);
    return st;
}

/* Emits the open line of stream st, if any, after appending what TTY state held. */
static void flush_line(struct lj_demux *d, const struct sink *k, enum lj_stream st)
{
    struct line *ln = &d->lines[st];

    if (!ln->open)
        return;
    if (ln->pending_cr) {
        ln->pending_cr = false;
        (void)line_store(d, ln, "\r", 1);  /* on no memory the '\r' is lost, nothing else */
    }
    line_emit(k, st, ln);
}

void lj_demux_finish(struct lj_demux *d, lj_demux_line_fn fn, void *ctx)
{
    struct sink k = { fn, ctx };
    struct line *out = &d->lines[LJ_STREAM_STDOUT], *err = &d->lines[LJ_STREAM_STDERR];

    assert(d != NULL && fn != NULL);
    if (d->dead == LJ_OK && d->phase == PH_TTY_CONT && d->stamp_len > 0)
        (void)line_append(d, &d->lines[d->cur], d->stamp, d->stamp_len);
    if (err->open && (!out->open || err->opened < out->opened)) {
        flush_line(d, &k, LJ_STREAM_STDERR);
        flush_line(d, &k, LJ_STREAM_STDOUT);
    } else {
        flush_line(d, &k, LJ_STREAM_STDOUT);
        flush_line(d, &k, LJ_STREAM_STDERR);
    }
    d->phase = d->tty ? PH_STAMP : PH_HEADER;
    d->hdr_len = 0;
    d->frame_left = 0;
    d->stamp_len = 0;
    d->msg_text = 0;
    d->errtext_len = 0;
    d->dead = LJ_OK;
    d->dead_msg[0] = '\0';
}
