/* Unit tests for publisher/demux.c.
 *
 * Replays log streams recorded from a real dockerd (data/NAME.raw, see data/record.sh)
 * whole, one byte at a time and in random chunks, and checks every line, stream,
 * timestamp and truncation flag against what `docker logs` showed (data/NAME.expected).
 * Hand-built streams cover what a healthy engine does not send: type-3 error frames,
 * bad headers, missing stamps, TTY text that only looks like a continuation.
 *
 * Usage: test_demux DATA_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "demux.h"
#include "timeutil.h"

/* ---- collecting lines ------------------------------------------------------ */

struct got_line {
    enum lj_stream stream;
    int64_t ts;
    char *data;
    size_t len;
    bool truncated;
};

struct got {
    struct got_line *v;
    size_t n, cap;
};

static void collect(void *ctx, const struct lj_demux_line *l)
{
    struct got *g = ctx;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        g->v = realloc(g->v, g->cap * sizeof *g->v);
    }
    struct got_line *o = &g->v[g->n++];
    o->stream = l->stream;
    o->ts = l->ts_unix_nano;
    o->len = l->len;
    o->truncated = l->truncated;
    o->data = malloc(l->len + 1);
    memcpy(o->data, l->data, l->len);
    o->data[l->len] = '\0';
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i].data);
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* Feeds data in pieces: chunk 0 = whole, 1 = byte by byte, else random sizes from the
 * seed chunk (1..max_chunk bytes). Returns the last status. */
static lj_status feed(bool tty, size_t max_line, const char *data, size_t len, unsigned chunk,
                      size_t max_chunk, struct got *g, char *err, size_t errlen)
{
    struct lj_demux *d = lj_demux_create(tty, max_line);
    uint64_t rng = chunk * 0x9E3779B97F4A7C15ull + 1;
    lj_status st = LJ_OK;
    size_t off = 0;

    while (off < len && st == LJ_OK) {
        size_t n = len - off;
        if (chunk == 1) {
            n = 1;
        } else if (chunk > 1) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            size_t r = (size_t)(rng >> 33) % max_chunk + 1;
            n = r < n ? r : n;
        }
        st = lj_demux_feed(d, data + off, n, collect, g, err, errlen);
        off += n;
    }
    lj_demux_finish(d, collect, g);
    lj_demux_destroy(d);
    return st;
}

/* ---- recorded streams ------------------------------------------------------ */

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static uint64_t fnv1a64(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

/* One line of an .expected file (see data/expected.py). */
struct want {
    enum lj_stream stream;
    int64_t ts;
    size_t len;
    uint64_t hash;
};

static size_t load_expected(const char *dir, const char *name, struct want *w, size_t max)
{
    size_t len, n = 0;
    char *text = slurp(dir, name, &len), *save = NULL;

    for (char *ln = strtok_r(text, "\n", &save); ln && n < max; ln = strtok_r(NULL, "\n", &save)) {
        char stream[16], ts[64];
        unsigned long long l, h;
        if (sscanf(ln, "%15s %63s %llu %llx", stream, ts, &l, &h) != 4)
            continue;
        w[n].stream = strcmp(stream, "stderr") == 0 ? LJ_STREAM_STDERR : LJ_STREAM_STDOUT;
        CHECK_INT(lj_time_parse(ts, strlen(ts), &w[n].ts), LJ_OK);
        w[n].len = (size_t)l;
        w[n].hash = h;
        n++;
    }
    free(text);
    return n;
}

/* Lines of g on one stream must be exactly want's lines of that stream. */
static void check_stream(const struct got *g, const struct want *w, size_t nw, enum lj_stream s,
                         const char *what)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < g->n && g->v[i].stream != s)
            i++;
        while (j < nw && w[j].stream != s)
            j++;
        if (i == g->n || j == nw)
            break;
        if (g->v[i].len != w[j].len || fnv1a64(g->v[i].data, g->v[i].len) != w[j].hash ||
            g->v[i].ts != w[j].ts || g->v[i].truncated) {
            fprintf(stderr, "%s: line %zu: len %zu ts %lld, want len %zu ts %lld\n", what, j,
                    g->v[i].len, (long long)g->v[i].ts, w[j].len, (long long)w[j].ts);
            CHECK(0);
        }
        i++, j++;
    }
    CHECK(i == g->n && j == nw);
}

/* The same lines with a cap: prefixes, truncated exactly when longer. */
static void check_capped(const struct got *ref, const struct got *g, size_t cap, const char *what)
{
    CHECK_INT(g->n, ref->n);
    for (size_t i = 0; i < g->n && i < ref->n; i++) {
        size_t want = ref->v[i].len < cap ? ref->v[i].len : cap;
        if (g->v[i].stream != ref->v[i].stream || g->v[i].ts != ref->v[i].ts ||
            g->v[i].len != want || memcmp(g->v[i].data, ref->v[i].data, want) != 0 ||
            g->v[i].truncated != (ref->v[i].len > cap)) {
            fprintf(stderr, "%s: capped line %zu differs\n", what, i);
            CHECK(0);
        }
    }
}

static void test_recording(const char *dir, const char *name, bool tty)
{
    char raw_name[64], exp_name[64], err[256];
    struct want w[256];
    struct got ref = {0}, g = {0};
    size_t len;

    snprintf(raw_name, sizeof raw_name, "%s.raw", name);
    snprintf(exp_name, sizeof exp_name, "%s.expected", name);
    char *raw = slurp(dir, raw_name, &len);
    size_t nw = load_expected(dir, exp_name, w, 256);
    CHECK(nw > 20);

    /* Whole, with a cap above every line: exactly what docker logs shows. */
    CHECK_INT(feed(tty, 1 << 20, raw, len, 0, 0, &ref, err, sizeof err), LJ_OK);
    CHECK_INT(ref.n, nw);
    check_stream(&ref, w, nw, LJ_STREAM_STDOUT, name);
    check_stream(&ref, w, nw, LJ_STREAM_STDERR, name);

    /* Byte by byte and in random pieces: the same lines in the same order. */
    for (unsigned chunk = 1; chunk < 40; chunk++) {
        size_t max_chunk = chunk < 10 ? 9 : chunk < 20 ? 100 : chunk < 30 ? 20000 : 70000;
        CHECK_INT(feed(tty, 1 << 20, raw, len, chunk, max_chunk, &g, err, sizeof err), LJ_OK);
        check_capped(&ref, &g, 1 << 20, name);
        got_free(&g);
    }

    /* Capped at the publisher's default 64 KiB, at 20000 and at 1. */
    size_t caps[] = { 65536, 20000, 1 };
    for (size_t c = 0; c < 3; c++) {
        for (unsigned chunk = 0; chunk < 4; chunk++) {
            CHECK_INT(feed(tty, caps[c], raw, len, chunk, 5000, &g, err, sizeof err), LJ_OK);
            check_capped(&ref, &g, caps[c], name);
            got_free(&g);
        }
    }
    /* The 200 KiB line is the only one over 64 KiB. */
    size_t over = 0;
    for (size_t i = 0; i < ref.n; i++)
        over += ref.v[i].len > 65536;
    CHECK_INT(over, 1);
    /* The unterminated final line came from lj_demux_finish. */
    CHECK_STR(ref.v[ref.n - 1].data, "unterminated final line");

    got_free(&ref);
    free(raw);
}

/* ---- hand-built streams ---------------------------------------------------- */

#define TS1 "2026-11-25T14:36:41.193618044Z"
#define TS2 "2026-11-25T14:36:41.500000000Z"
#define TS3 "2026-11-25T14:36:42.000000001Z"

/* Appends a frame of type t with payload p to buf at *n. */
static void frame(char *buf, size_t *n, int t, const char *p, size_t len)
{
    unsigned char h[8] = { (unsigned char)t, 0, 0, 0, (unsigned char)(len >> 24),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                           (unsigned char)len };
    memcpy(buf + *n, h, 8);
    memcpy(buf + *n + 8, p, len);
    *n += 8 + len;
}
#define FRAME(buf, n, t, s) frame(buf, n, t, s, sizeof(s) - 1)

static int64_t ts_of(const char *s)
{
    int64_t v = 0;
    CHECK_INT(lj_time_parse(s, strlen(s), &v), LJ_OK);
    return v;
}

static void test_engine_error(void)
{
    char buf[512], err[128];
    size_t n = 0;
    FRAME(buf, &n, 1, TS1 " before the error\n");
    FRAME(buf, &n, 3, "Error grabbing logs: invalid character 'x' looking for beginning of value\n");
    FRAME(buf, &n, 1, TS2 " never seen\n");
    for (unsigned chunk = 0; chunk < 8; chunk++) {
        struct got g = {0};
        err[0] = '\0';
        CHECK_INT(feed(false, 100, buf, n, chunk, 7, &g, err, sizeof err), LJ_DOCKER);
        CHECK_STR(err, "Error grabbing logs: invalid character 'x' looking for beginning of value");
        CHECK_INT(g.n, 1);
        CHECK_STR(g.v[0].data, "before the error");
        got_free(&g);
    }
    /* Dead after the error: the same status again, with the same text. */
    struct lj_demux *d = lj_demux_create(false, 100);
    struct got g = {0};
    CHECK_INT(lj_demux_feed(d, buf, n, collect, &g, err, sizeof err), LJ_DOCKER);
    CHECK_INT(lj_demux_feed(d, buf, 8, collect, &g, err, sizeof err), LJ_DOCKER);
    CHECK_STR(err, "Error grabbing logs: invalid character 'x' looking for beginning of value");
    CHECK_INT(g.n, 1);
    /* finish revives it for a new stream */
    lj_demux_finish(d, collect, &g);
    CHECK_INT(lj_demux_feed(d, buf, 8 + sizeof(TS1 " before the error\n") - 1, collect, &g,
                            err, sizeof err), LJ_OK);
    CHECK_INT(g.n, 2);
    lj_demux_destroy(d);
    got_free(&g);
}

static void test_bad_streams(void)
{
    char buf[256], err[128];
    struct got g = {0};
    size_t n = 0;

    FRAME(buf, &n, 1, TS1 " good\n");
    memcpy(buf + n, "\x01\x00\x01\x00\x00\x00\x00\x05hello", 13);  /* byte 2 not zero */
    for (unsigned chunk = 0; chunk < 4; chunk++) {
        CHECK_INT(feed(false, 100, buf, n + 13, chunk, 5, &g, err, sizeof err), LJ_PROTO);
        CHECK(strstr(err, "bad frame header") != NULL);
        CHECK_INT(g.n, 1);
        got_free(&g);
    }
    n = 0;
    FRAME(buf, &n, 7, TS1 " type 7\n");
    CHECK_INT(feed(false, 100, buf, n, 0, 0, &g, err, sizeof err), LJ_PROTO);
    n = 0;
    FRAME(buf, &n, 1, "no timestamp here\n");
    CHECK_INT(feed(false, 100, buf, n, 0, 0, &g, err, sizeof err), LJ_PROTO);
    CHECK(strstr(err, "bad timestamp") != NULL);
    n = 0;
    FRAME(buf, &n, 2, "2026-11-25T14:36");  /* frame ends inside the stamp */
    CHECK_INT(feed(false, 100, buf, n, 1, 0, &g, err, sizeof err), LJ_PROTO);
    n = 0;
    FRAME(buf, &n, 1, "0123456789012345678901234567890123456789012345678901234567890123456789 x\n");
    CHECK_INT(feed(false, 100, buf, n, 0, 0, &g, err, sizeof err), LJ_PROTO);
    CHECK_INT(feed(true, 100, "hello world\r\n", 13, 0, 0, &g, err, sizeof err), LJ_PROTO);
    CHECK_INT(feed(true, 100, "no-space-then-newline\nx", 23, 1, 0, &g, err, sizeof err),
              LJ_PROTO);
    CHECK_INT(g.n, 0);
    got_free(&g);
}

static void test_frames_misc(void)
{
    char buf[512], err[128];
    size_t n = 0;
    FRAME(buf, &n, 0, TS1 " from stdin means stdout\n");
    FRAME(buf, &n, 2, TS2 " two\nlines in one frame\n");
    FRAME(buf, &n, 1, "");  /* empty frame: ignored */
    FRAME(buf, &n, 1, "2026-11-25T15:36:42.5+01:00 other stamp form, crlf kept\r\n");
    FRAME(buf, &n, 2, TS3 " partial err ");       /* opened first */
    FRAME(buf, &n, 1, TS3 " partial out");
    FRAME(buf, &n, 2, TS1 "  continued\n");        /* keeps TS3 */
    FRAME(buf, &n, 1, TS2 "  and never ended");
    for (unsigned chunk = 0; chunk < 12; chunk++) {
        struct got g = {0};
        CHECK_INT(feed(false, 100, buf, n, chunk, 11, &g, err, sizeof err), LJ_OK);
        CHECK_INT(g.n, 6);
        if (g.n != 6)
            continue;
        CHECK_STR(g.v[0].data, "from stdin means stdout");
        CHECK_INT(g.v[0].stream, LJ_STREAM_STDOUT);
        CHECK_INT(g.v[0].ts, ts_of(TS1));
        CHECK_STR(g.v[1].data, "two");
        CHECK_STR(g.v[2].data, "lines in one frame");
        CHECK_INT(g.v[2].stream, LJ_STREAM_STDERR);
        CHECK_INT(g.v[2].ts, ts_of(TS2));
        CHECK_STR(g.v[3].data, "other stamp form, crlf kept\r");
        CHECK_INT(g.v[3].ts, ts_of("2026-11-25T14:36:42.500000000Z"));
        CHECK_STR(g.v[4].data, "partial err  continued");
        CHECK_INT(g.v[4].stream, LJ_STREAM_STDERR);
        CHECK_INT(g.v[4].ts, ts_of(TS3));
        CHECK_STR(g.v[5].data, "partial out and never ended");
        CHECK_INT(g.v[5].ts, ts_of(TS3));
        got_free(&g);
    }
}

static void test_finish_order(void)
{
    char buf[256], err[128];
    size_t n = 0;
    FRAME(buf, &n, 1, TS1 " out first");
    FRAME(buf, &n, 2, TS2 " err second");
    struct got g = {0};
    CHECK_INT(feed(false, 100, buf, n, 0, 0, &g, err, sizeof err), LJ_OK);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.v[0].data, "out first");
    CHECK_STR(g.v[1].data, "err second");
    got_free(&g);
}

static void test_truncation(void)
{
    char err[128];
    struct got g = {0};
    const char *tty = TS1 " 12345\r\n" TS1 " 123456\r\n" TS1 " abcd\r\r\n" TS2 " ab\rcd\n";
    for (unsigned chunk = 0; chunk < 10; chunk++) {
        CHECK_INT(feed(true, 5, tty, strlen(tty), chunk, 4, &g, err, sizeof err), LJ_OK);
        CHECK_INT(g.n, 4);
        if (g.n == 4) {
            CHECK_STR(g.v[0].data, "12345");
            CHECK(!g.v[0].truncated);
            CHECK_STR(g.v[1].data, "12345");
            CHECK(g.v[1].truncated);
            CHECK_STR(g.v[2].data, "abcd\r");
            CHECK(!g.v[2].truncated);
            CHECK_STR(g.v[3].data, "ab\rcd");
        }
        got_free(&g);
    }
}

/* TTY: after 16384 text bytes the next bytes are a stamp only if they parse as one. */
static void test_tty_continuation(void)
{
    size_t body = 16384, n = 0;
    char *buf = malloc(5 * body), err[128];
    struct got g = {0};

    if (buf == NULL)
        abort();
    n += (size_t)sprintf(buf + n, "%s ", TS1);
    memset(buf + n, 'a', body);
    n += body;
    n += (size_t)sprintf(buf + n, "%s tail\r\n", TS2);  /* a real continuation */
    n += (size_t)sprintf(buf + n, "%s ", TS3);
    memset(buf + n, 'b', body);
    n += body;
    n += (size_t)sprintf(buf + n, "2026-13-99T99:99:99Z not a stamp\r\n");
    n += (size_t)sprintf(buf + n, "%s ", TS3);
    memset(buf + n, 'c', body - 1);
    n += body - 1;
    n += (size_t)sprintf(buf + n, "\r%s \n", TS1);  /* '\r' is the 16384th byte */
    n += (size_t)sprintf(buf + n, "%s ", TS2);
    memset(buf + n, 'd', body);
    n += body;
    n += (size_t)sprintf(buf + n, "2026-11-25T14:36");  /* stream ends in a stamp */
    for (unsigned chunk = 0; chunk < 12; chunk++) {
        CHECK_INT(feed(true, 1 << 20, buf, n, chunk, 3000, &g, err, sizeof err), LJ_OK);
        CHECK_INT(g.n, 4);
        if (g.n == 4) {
            CHECK_INT(g.v[0].len, body + 4);
            CHECK(memcmp(g.v[0].data + body, "tail", 4) == 0);
            CHECK_INT(g.v[0].ts, ts_of(TS1));
            CHECK_INT(g.v[1].len, body + strlen("2026-13-99T99:99:99Z not a stamp"));
            CHECK(strcmp(g.v[1].data + body, "2026-13-99T99:99:99Z not a stamp") == 0);
            CHECK_INT(g.v[1].ts, ts_of(TS3));
            CHECK_INT(g.v[2].len, body - 1);
            CHECK_INT(g.v[3].len, body + 16);
            CHECK(strcmp(g.v[3].data + body, "2026-11-25T14:36") == 0);
        }
        got_free(&g);
    }
    free(buf);
}

/* The stamp fast path gives lj_time_parse's values. */
static void test_stamps(void)
{
    const char *stamps[] = {
        "2026-11-25T14:36:41.193618044Z", "2026-11-25T14:36:41.000000001Z",
        "2026-11-25T14:36:42.999999999Z", "2026-11-25T14:36:42.5Z",
        "2026-11-25T14:36:42Z", "1969-12-31T23:59:59.999999999Z",
        "1969-12-31T23:59:59.000000001Z", "2026-11-25T14:36:42.999999999+02:00",
        "2026-11-25T14:36:42.123456789Z",
    };
    char buf[128], err[64];
    struct lj_demux *d = lj_demux_create(false, 100);
    struct got g = {0};
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        size_t n = 0;
        char payload[80];
        int len = snprintf(payload, sizeof payload, "%s x\n", stamps[i]);
        frame(buf, &n, 1, payload, (size_t)len);
        CHECK_INT(lj_demux_feed(d, buf, n, collect, &g, err, sizeof err), LJ_OK);
        CHECK_INT(g.n, i + 1);
        if (g.n == i + 1)
            CHECK_INT(g.v[i].ts, ts_of(stamps[i]));
    }
    lj_demux_destroy(d);
    got_free(&g);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    test_recording(argv[1], "frames", false);
    test_recording(argv[1], "tty", true);
    test_engine_error();
    test_bad_streams();
    test_frames_misc();
    test_finish_order();
    test_truncation();
    test_tty_continuation();
    test_stamps();
    CHECK_DONE();
}
