/* Unit tests for gateway/grep.c: ERE subset semantics and bounded cost. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "grep.h"

static int m(const char *pat, const char *s)
{
    struct lj_grep *g = NULL;
    char err[128];
    if (lj_grep_compile(pat, &g, err, sizeof(err)) != LJ_OK)
        return -1;
    int r = lj_grep_match(g, s, strlen(s));
    lj_grep_destroy(g);
    return r;
}

/* lj_grep_step in slices of `slice` steps: same answer as one lj_grep_match, every
 * call within its budget, and the work is done in ceil(steps / slice) calls or so. */
static int sliced(const char *pat, const char *s, uint64_t slice, int *calls)
{
    struct lj_grep *g = NULL;
    struct lj_grep_run *run = NULL;
    char err[128];
    enum lj_grep_result r;
    if (lj_grep_compile(pat, &g, err, sizeof(err)) != LJ_OK)
        return -1;
    *calls = 0;
    do {
        uint64_t budget = slice;
        r = lj_grep_step(g, &run, s, strlen(s), &budget);
        CHECK(budget <= slice);   /* lowered, never below 0 */
        CHECK(r != LJ_GREP_MORE || run != NULL);
        ++*calls;
    } while (r == LJ_GREP_MORE && *calls < 1000000);
    CHECK(run == NULL);
    lj_grep_destroy(g);
    return r == LJ_GREP_YES;
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

int main(void)
{
    CHECK_INT(m("timeout", "request timeout after 3s"), 1);
    CHECK_INT(m("timeout", "request ok"), 0);
    CHECK_INT(m("^GET ", "GET /x"), 1);
    CHECK_INT(m("^GET ", "x GET /x"), 0);
    CHECK_INT(m("done$", "all done"), 1);
    CHECK_INT(m("done$", "done!"), 0);
    CHECK_INT(m("$", "anything"), 1);
    CHECK_INT(m("^$", ""), 1);
    CHECK_INT(m("a.c", "abc"), 1);
    CHECK_INT(m("colou?r", "color"), 1);
    CHECK_INT(m("colou?r", "colour"), 1);
    CHECK_INT(m("ab+c", "ac"), 0);
    CHECK_INT(m("ab+c", "abbbc"), 1);
    CHECK_INT(m("ab*c", "ac"), 1);
    CHECK_INT(m("(error|warn)ing", "a warning"), 1);
    CHECK_INT(m("(?:error|warn)ing", "erroring"), 1);
    CHECK_INT(m("[0-9]{3}", "code 404"), 1);
    CHECK_INT(m("[0-9]{3}", "code 40"), 0);
    CHECK_INT(m("^a{2,3}$", "aaa"), 1);
    CHECK_INT(m("^a{2,3}$", "aaaa"), 0);
    CHECK_INT(m("^a{2,}$", "aaaaaa"), 1);
    CHECK_INT(m("[^a-z]", "abc"), 0);
    CHECK_INT(m("[^a-z]", "abC"), 1);
    CHECK_INT(m("\\d+ms", "took 15ms"), 1);
    CHECK_INT(m("\\w+=\\S+", "key=value"), 1);
    CHECK_INT(m("\\.", "a.b"), 1);
    CHECK_INT(m("\\.", "ab"), 0);
    CHECK_INT(m("(?i)ERROR", "an error"), 1);
    CHECK_INT(m("ERROR", "an error"), 0);
    CHECK_INT(m("(?i)[A-C]x", "bX"), 1);
    /* rejected patterns */
    CHECK_INT(m("(a", "a"), -1);
    CHECK_INT(m("a)", "a"), -1);
    CHECK_INT(m("*a", "a"), -1);
    CHECK_INT(m("(a)\\1", "aa"), -1);
    CHECK_INT(m("a{1000}", "a"), -1);
    CHECK_INT(m("[abc", "a"), -1);
    char big[LJ_GREP_PATTERN_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(m(big, "a"), -1);

    /* sliced matching gives the same answers, resuming exactly where it stopped */
    const char *pats[] = { "timeout", "^GET ", "done$", "(error|warn)ing", "a{3}b", "(?i)ERROR",
                           "(?:(?:.*){4}){2}Z", "x.*y$" };
    const char *subjects[] = { "request timeout after 3s", "GET /x", "all done", "a warning",
                               "aaaab", "an error", "no zed here", "x and y", "x and y!", "" };
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
        for (size_t j = 0; j < sizeof(subjects) / sizeof(subjects[0]); j++)
            for (uint64_t slice = 1; slice <= 64; slice *= 4) {
                int calls;
                CHECK_INT(sliced(pats[i], subjects[j], slice, &calls), m(pats[i], subjects[j]));
            }
    {
        /* a suspended run dropped half way is freed, and a fresh run starts over */
        struct lj_grep *g = NULL;
        struct lj_grep_run *run = NULL;
        char err[128];
        uint64_t budget = 3;
        CHECK_INT(lj_grep_compile("needle", &g, err, sizeof(err)), LJ_OK);
        CHECK_INT(lj_grep_step(g, &run, "hay hay needle", 14, &budget), LJ_GREP_MORE);
        CHECK(budget == 0 && run != NULL);
        CHECK_INT(lj_grep_step(g, &run, "hay hay needle", 14, &budget), LJ_GREP_MORE);  /* 0: no work */
        lj_grep_run_free(run);
        run = NULL;
        budget = 1000;
        CHECK_INT(lj_grep_step(g, &run, "hay hay needle", 14, &budget), LJ_GREP_YES);
        CHECK(run == NULL && budget < 1000);
        lj_grep_destroy(g);
    }

    /* catastrophic patterns stay linear: 16 KiB line, a few ms at most */
    static char line[LJ_GREP_SCAN_MAX + 1];
    memset(line, 'a', LJ_GREP_SCAN_MAX - 1);
    line[LJ_GREP_SCAN_MAX - 1] = '!';
    const char *evil[] = { "(a+)+$", "(a|aa)*c", "((a*)*)*b$", "(a*)*(b*)*(c*)*x", "(.*a){20}z",
                           "(a?){30}a{30}" };
    /* under valgrind everything is ~50x slower: only the native run checks the time */
    const char *preload = getenv("LD_PRELOAD");
    double bound = preload && strstr(preload, "vgpreload") ? 60000 : 250;
    for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = m(evil[i], line);
        double ms = ms_since(&t0);
        CHECK(r == 0 || r == 1);
        if (ms > bound / 4)
            fprintf(stderr, "pattern %s took %.1f ms\n", evil[i], ms);
        CHECK(ms < bound);
    }
    CHECK_DONE();
}
