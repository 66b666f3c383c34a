/* Unit tests for tail/filter.c: levels, streams, include/exclude, -A/-B/-C context. */
#include <stdint.h>

#include "check.h"
#include "filter.h"

#define L(s) (const uint8_t *)(s), strlen(s)

/* Feeds lines 0..n-1 (text[i]) through f and context c; writes printed ids and "--". */
static void run(struct lj_filter *f, const char *const *text, int n, char *out, size_t cap)
{
    struct lj_context c;
    void *print[64], *dropped;
    bool sep;
    static int ids[64];
    size_t o = 0;
    lj_context_init(&c, f->before);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        ids[i] = i;
        if (!lj_filter_keep(f, LJ_LEVEL_INFO, LJ_STREAM_STDOUT, L(text[i])))
            continue;
        size_t k = lj_context_offer(&c, f, lj_filter_match(f, L(text[i])), &ids[i], print, &sep,
                                    &dropped);
        if (k && sep)
            o += (size_t)snprintf(out + o, cap - o, "-- ");
        for (size_t j = 0; j < k; j++)
            o += (size_t)snprintf(out + o, cap - o, "%d ", *(int *)print[j]);
    }
    lj_context_finish(&c, NULL);
}

int main(void)
{
    struct lj_filter f;
    char err[256], out[512];
    static const char *const text[] = {
        "a0", "a1", "MATCH 2", "a3", "a4", "a5", "a6", "MATCH 7", "MATCH 8", "a9", "skip 10",
        "a11", "a12", "MATCH 13",
    };

    lj_filter_init(&f);
    CHECK(lj_filter_keep(&f, LJ_LEVEL_UNKNOWN, LJ_STREAM_STDERR, L("x")));
    CHECK_INT(lj_filter_set_levels(&f, "warn,error", err, sizeof err), LJ_OK);
    CHECK(!lj_filter_keep(&f, LJ_LEVEL_INFO, LJ_STREAM_STDOUT, L("x")));
    CHECK(lj_filter_keep(&f, LJ_LEVEL_WARN, LJ_STREAM_STDOUT, L("x")));
    CHECK(lj_filter_keep(&f, LJ_LEVEL_ERROR, LJ_STREAM_STDOUT, L("x")));
    CHECK_INT(lj_filter_set_levels(&f, "warn,loud", err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "'loud'") != NULL);
    CHECK_INT(lj_filter_set_levels(&f, "WARNING,unknown", err, sizeof err), LJ_OK);
    CHECK(lj_filter_keep(&f, LJ_LEVEL_WARN, LJ_STREAM_STDOUT, L("x")));
    CHECK(lj_filter_keep(&f, LJ_LEVEL_UNKNOWN, LJ_STREAM_STDOUT, L("x")));
    CHECK_INT(lj_filter_set_streams(&f, "stderr", err, sizeof err), LJ_OK);
    CHECK(!lj_filter_keep(&f, LJ_LEVEL_WARN, LJ_STREAM_STDOUT, L("x")));
    CHECK(lj_filter_keep(&f, LJ_LEVEL_WARN, LJ_STREAM_STDERR, L("x")));
    CHECK_INT(lj_filter_set_streams(&f, "stdin", err, sizeof err), LJ_INVAL);
    lj_filter_finish(&f);

    /* include / exclude: any include matches; any exclude removes; NULs are bytes */
    lj_filter_init(&f);
    CHECK_INT(lj_regexes_add(&f.include, "err(or)?", 0, err, sizeof err), LJ_OK);
    CHECK_INT(lj_regexes_add(&f.include, "^fatal", 0, err, sizeof err), LJ_OK);
    CHECK_INT(lj_regexes_add(&f.exclude, "healthz", 0, err, sizeof err), LJ_OK);
    CHECK_INT(lj_regexes_add(&f.exclude, "(", 0, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "'('") != NULL);
    CHECK(lj_filter_match(&f, L("an error here")));
    CHECK(lj_filter_match(&f, L("fatal: x")));
    CHECK(!lj_filter_match(&f, L("all fine")));
    CHECK(!lj_filter_keep(&f, LJ_LEVEL_INFO, LJ_STREAM_STDOUT, L("GET /healthz err")));
    CHECK(lj_filter_match(&f, (const uint8_t *)"a\0err", 5));
    lj_filter_finish(&f);

    /* context: -B 2 -A 1 around MATCH, "skip" removed entirely, separators between groups */
    lj_filter_init(&f);
    lj_regexes_add(&f.include, "MATCH", 0, err, sizeof err);
    lj_regexes_add(&f.exclude, "skip", 0, err, sizeof err);
    f.before = 2;
    f.after = 1;
    run(&f, text, 14, out, sizeof out);
    CHECK_STR(out, "0 1 2 3 -- 5 6 7 8 9 11 12 13 ");   /* 10 is removed: 9 and 11 touch */
    f.before = 0;
    f.after = 0;
    run(&f, text, 14, out, sizeof out);
    CHECK_STR(out, "2 7 8 13 ");    /* no context, no separators (grep) */
    f.before = 10;
    f.after = 10;
    run(&f, text, 14, out, sizeof out);
    CHECK_STR(out, "0 1 2 3 4 5 6 7 8 9 11 12 13 ");
    lj_filter_finish(&f);

    /* no --include: everything prints, never a separator */
    lj_filter_init(&f);
    f.before = 3;
    run(&f, text, 5, out, sizeof out);
    CHECK_STR(out, "0 1 2 3 4 ");
    lj_filter_finish(&f);
    CHECK_DONE();
}
