/* fuzz_demux.c - libFuzzer target for publisher/demux.c.
 *
 * Input: byte 0 picks TTY or not (bit 0) and max_line_bytes (bits 1-3); byte 1 seeds
 * the split sizes; the rest is the stream. The stream is fed twice, whole and in
 * pseudo-random pieces, then finished; both runs must give the same status and the
 * same lines (stream, stamp, bytes, truncated flag), and every line must respect the
 * header's promises (len <= max_line_bytes, truncated only at the cap).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "demux.h"

struct seen {
    size_t max, lines;
    uint64_t hash;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void on_line(void *ctx, const struct lj_demux_line *l)
{
    struct seen *s = ctx;
    unsigned char flags[2] = { (unsigned char)l->stream, (unsigned char)l->truncated };

    if (l->len > s->max || (l->truncated && l->len != s->max) ||
        (l->stream != LJ_STREAM_STDOUT && l->stream != LJ_STREAM_STDERR) ||
        (l->len > 0 && l->data == NULL))
        abort();
    s->lines++;
    s->hash = mix(s->hash, flags, sizeof flags);
    s->hash = mix(s->hash, &l->ts_unix_nano, sizeof l->ts_unix_nano);
    s->hash = mix(s->hash, &l->len, sizeof l->len);
    s->hash = mix(s->hash, l->data, l->len);
}

static lj_status run(bool tty, size_t max, const char *p, size_t n, unsigned seed,
                     struct seen *s)
{
    struct lj_demux *d = lj_demux_create(tty, max);
    char err[128];
    lj_status st = LJ_OK, first = LJ_OK;
    uint32_t r = seed * 2654435761u + 1;

    if (d == NULL)
        abort();
    s->max = max;
    s->lines = 0;
    s->hash = 0xcbf29ce484222325ull;
    for (size_t off = 0; off < n;) {
        size_t k = n - off;
        if (seed != 0) {
            r = r * 1103515245u + 12345u;
            size_t want = 1 + (r >> 16) % (seed % 64 + 1);
            k = want < k ? want : k;
        }
        st = lj_demux_feed(d, p + off, k, on_line, s, err, sizeof err);
        if (st != LJ_OK && first == LJ_OK)
            first = st;
        if (st != first)  /* a dead demux repeats its status */
            abort();
        off += k;
    }
    lj_demux_finish(d, on_line, s);
    lj_demux_destroy(d);
    return first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t maxes[8] = { 1, 2, 7, 31, 100, 16384, 20000, 65536 };
    struct seen whole, split;

    if (size < 2)
        return 0;
    bool tty = data[0] & 1;
    size_t max = maxes[(data[0] >> 1) & 7];
    unsigned seed = data[1] | 1u;
    const char *p = (const char *)data + 2;
    size_t n = size - 2;

    lj_status a = run(tty, max, p, n, 0, &whole);
    lj_status b = run(tty, max, p, n, seed, &split);
    if (a != b || whole.lines != split.lines || whole.hash != split.hash)
        abort();
    return 0;
}
