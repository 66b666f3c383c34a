/* bench_demux.c - cost of publisher/demux.c per line on a recorded Docker log stream.
 *
 * Usage: bench_demux FILE [tty] [REPEAT]
 * FILE is the raw body of GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1
 * (see README.md for how to record one). The whole file is read into memory, then fed
 * REPEAT times (default 5, best run reported) in 16 KiB pieces (what libcurl hands a
 * write callback), in random 1..32 KiB pieces, in 8-byte pieces and byte by byte; each
 * run prints lines, ns per line and MB/s. Time is this thread's CPU time, so that on a
 * shared machine other load inflates the numbers less. The line callback only counts,
 * so this is the demux alone: no level detection, no protobuf, no NATS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demux.h"

struct count {
    uint64_t lines, bytes;
};

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_line(void *ctx, const struct lj_demux_line *l)
{
    struct count *c = ctx;
    c->lines++;
    c->bytes += l->len;
}

/* Feeds the whole buffer in pieces of `piece` bytes (0: random 1..32 KiB); returns ns. */
static int64_t run(bool tty, const char *buf, size_t len, size_t piece, struct count *c)
{
    struct lj_demux *d = lj_demux_create(tty, 64 * 1024);
    char err[128];
    uint32_t r = 12345;
    int64_t t0 = cpu_ns();

    memset(c, 0, sizeof *c);
    for (size_t off = 0; off < len;) {
        size_t n = piece;
        if (piece == 0) {
            r = r * 1103515245u + 12345u;
            n = 1 + (r >> 8) % (32 * 1024);
        }
        if (n > len - off)
            n = len - off;
        if (lj_demux_feed(d, buf + off, n, on_line, c, err, sizeof err) != LJ_OK) {
            fprintf(stderr, "demux: %s\n", err);
            exit(1);
        }
        off += n;
    }
    lj_demux_finish(d, on_line, c);
    int64_t dt = cpu_ns() - t0;
    lj_demux_destroy(d);
    return dt;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; size_t piece; } modes[] = {
        { "16 KiB pieces", 16384 }, { "random pieces", 0 }, { "8-byte pieces", 8 },
        { "1-byte pieces", 1 },
    };
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [tty] [REPEAT]\n", argv[0]);
        return 2;
    }
    bool tty = argc > 2 && strcmp(argv[2], "tty") == 0;
    int repeat = argc > 3 ? atoi(argv[3]) : 5;
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(len);
    if (buf == NULL || fread(buf, 1, len, f) != len)
        return 1;
    fclose(f);

    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        struct count c;
        int64_t best = INT64_MAX;
        for (int i = 0; i < repeat; i++) {
            int64_t dt = run(tty, buf, len, modes[m].piece, &c);
            if (dt < best)
                best = dt;
        }
        printf("%-14s %s: %llu lines, %.1f ns/line, %.0f MB/s\n", modes[m].name,
               tty ? "tty" : "frames", (unsigned long long)c.lines,
               (double)best / (double)c.lines, (double)len / ((double)best / 1e9) / 1e6);
    }
    free(buf);
    return 0;
}
