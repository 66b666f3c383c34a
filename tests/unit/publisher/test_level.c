/* Unit tests for publisher/level.c: every line of data/levels.txt ("EXPECTED<TAB>line",
 * \xHH escapes allowed) must be detected as EXPECTED; the labelled real-world corpus
 * data/level-corpus.txt ("SYSTEM<TAB>EXPECTED<TAB>line") is scored per system and must
 * reach ACCURACY_FLOOR overall with no false level at all; plus edge cases of the API.
 * Prints per-system accuracy and the detector's cost in ns per corpus line (measured,
 * never asserted: the machine is shared).
 *
 * Usage: test_level DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "level.h"

/* Replaces \xHH escapes in place; returns the new length. */
static size_t unescape(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        unsigned v;
        if (s[i] == '\\' && s[i + 1] == 'x' && sscanf(s + i + 2, "%2x", &v) == 1) {
            s[o++] = (char)v;
            i += 3;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

static void test_corpus(const char *dir)
{
    char path[1024], buf[4096];
    int lines = 0, unknown = 0;

    snprintf(path, sizeof path, "%s/levels.txt", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    while (fgets(buf, sizeof buf, f) != NULL) {
        buf[strcspn(buf, "\n")] = '\0';
        char *tab = strchr(buf, '\t');
        if (buf[0] == '#' || tab == NULL)
            continue;
        *tab = '\0';
        char *line = tab + 1;
        size_t len = unescape(line);
        const char *got = lj_level_name(lj_level_detect(line, len));
        check_count++;
        if (strcmp(got, buf) != 0) {
            check_failures++;
            fprintf(stderr, "levels.txt: got %s, want %s: %s\n", got, buf, tab + 1);
        }
        lines++;
        unknown += strcmp(buf, "unknown") == 0;
    }
    fclose(f);
    CHECK(lines >= 80);
    CHECK(unknown >= 5);
    printf("%d corpus lines (%d unknown)\n", lines, unknown);
}

/* Overall share of corpus lines detected as labelled, in percent, that must be kept. */
#define ACCURACY_FLOOR 99.0
#define CORPUS_MAX 1024
#define SYSTEMS_MAX 128

struct corpus_line {
    char system[32];
    int want;       /* enum lj_level */
    char line[1024];
    size_t len;
};

static struct corpus_line corpus[CORPUS_MAX];

struct system_score {
    char name[32];
    int lines, right, unknown_got;
};

/* Reads data/level-corpus.txt into corpus[]; returns the number of lines. */
static int corpus_load(const char *dir)
{
    char path[1024], buf[2048];
    int n = 0;

    snprintf(path, sizeof path, "%s/level-corpus.txt", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    while (fgets(buf, sizeof buf, f) != NULL) {
        buf[strcspn(buf, "\n")] = '\0';
        if (buf[0] == '#' || buf[0] == '\0')
            continue;
        char *t1 = strchr(buf, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        int want;
        if (t2 == NULL || t1 - buf >= (long)sizeof corpus[0].system ||
            (*t2 = '\0', want = lj_level_from_name(t1 + 1)) < 0 ||
            strlen(t2 + 1) >= sizeof corpus[0].line || n == CORPUS_MAX) {
            fprintf(stderr, "level-corpus.txt: malformed or too many lines near: %s\n", buf);
            exit(2);
        }
        struct corpus_line *c = &corpus[n++];
        memcpy(c->system, buf, (size_t)(t1 - buf));
        c->system[t1 - buf] = '\0';
        c->want = want;
        strcpy(c->line, t2 + 1);
        c->len = unescape(c->line);
    }
    fclose(f);
    return n;
}

static struct system_score *score_of(struct system_score *s, int *count, const char *name)
{
    for (int i = 0; i < *count; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    if (*count == SYSTEMS_MAX) {
        fprintf(stderr, "level-corpus.txt: more than %d systems\n", SYSTEMS_MAX);
        exit(2);
    }
    struct system_score *n = &s[(*count)++];
    memset(n, 0, sizeof *n);
    strcpy(n->name, name);
    return n;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time: the machine is shared */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Scores the corpus: accuracy per system, false levels (a level detected where the label
 * says another one, or none) listed one by one, and the cost per line. */
static void test_real_corpus(const char *dir)
{
    static struct system_score scores[SYSTEMS_MAX];
    int n = corpus_load(dir), systems = 0, right = 0, false_levels = 0, negatives = 0;

    for (int i = 0; i < n; i++) {
        struct corpus_line *c = &corpus[i];
        struct system_score *sc = score_of(scores, &systems, c->system);
        int got = (int)lj_level_detect(c->line, c->len);
        sc->lines++;
        negatives += c->want == LJ_LEVEL_UNKNOWN;
        if (got == c->want) {
            sc->right++;
            right++;
        } else if (got == LJ_LEVEL_UNKNOWN) {
            sc->unknown_got++;
            printf("  missed  %-13s want %-5s: %s\n", c->system,
                   lj_level_name((enum lj_level)c->want), c->line);
        } else {
            false_levels++;
            fprintf(stderr, "  FALSE   %-13s got %s, want %s: %s\n", c->system,
                    lj_level_name((enum lj_level)got), lj_level_name((enum lj_level)c->want),
                    c->line);
        }
    }
    printf("level corpus: %-13s %5s %5s %8s\n", "system", "lines", "right", "accuracy");
    for (int i = 0; i < systems; i++)
        printf("level corpus: %-13s %5d %5d %7.1f%%\n", scores[i].name, scores[i].lines,
               scores[i].right, 100.0 * scores[i].right / scores[i].lines);
    double accuracy = n ? 100.0 * right / n : 0;
    printf("level corpus: %d systems, %d lines (%d without a level), %d right: %.1f%% overall, "
           "%d false levels\n", systems, n, negatives, right, accuracy, false_levels);

    /* Cost per line over the whole corpus, best of a few rounds. */
    volatile unsigned sink = 0;
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (int rep = 0; rep < 200; rep++)
            for (int i = 0; i < n; i++)
                sink += (unsigned)lj_level_detect(corpus[i].line, corpus[i].len);
        double per = (now_ns() - t0) / (200.0 * n);
        if (round == 0 || per < best)
            best = per;
    }
    printf("level corpus: %.0f ns per line (CPU time, best of 5 rounds of %d lines)\n", best, 200 * n);

    CHECK(systems >= 15);
    CHECK(negatives >= 40);
    CHECK(accuracy >= ACCURACY_FLOOR);
    CHECK_INT(false_levels, 0);
}

static void test_edges(void)
{
    CHECK_INT(lj_level_detect(NULL, 0), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("ERROR", 0), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("ERROR", 5), LJ_LEVEL_ERROR);
    CHECK_INT(lj_level_detect("{\"level\":", 9), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("{\"level\":\"warn", 14), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("{\"level\":\"warn\\\"\"}", 18), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("1:M 01 Jan", 10), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("E1234", 5), LJ_LEVEL_UNKNOWN);
    CHECK_INT(lj_level_detect("\x1b[", 2), LJ_LEVEL_UNKNOWN);
    /* Not NUL-terminated: only len bytes count. */
    CHECK_INT(lj_level_detect("INFO ERROR", 4), LJ_LEVEL_INFO);
    CHECK_INT(lj_level_detect("level=warnxx", 10), LJ_LEVEL_WARN);

    /* A level word past the window is not seen; one inside it is. */
    char big[2048];
    memset(big, 'x', sizeof big);
    big[100] = ' ';
    memcpy(big + 101, "level=error ", 12);
    CHECK_INT(lj_level_detect(big, sizeof big), LJ_LEVEL_ERROR);
    memset(big, 'x', sizeof big);
    big[1000] = ' ';
    memcpy(big + 1001, "level=error ", 12);
    CHECK_INT(lj_level_detect(big, sizeof big), LJ_LEVEL_UNKNOWN);

    /* Arbitrary bytes never crash and never read past len. */
    static const char alphabet[] = "{}\"[]:= \x1b\\ELWIFlevrion01#*.-/";
    unsigned seed = 1;
    for (int i = 0; i < 20000; i++) {
        char junk[64];
        size_t n = (size_t)(i % 64);
        for (size_t j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            junk[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        char *heap = malloc(n ? n : 1);
        memcpy(heap, junk, n);
        CHECK((unsigned)lj_level_detect(heap, n) < LJ_LEVEL_COUNT);
        free(heap);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    test_corpus(argv[1]);
    test_real_corpus(argv[1]);
    test_edges();
    CHECK_DONE();
}
