/* Unit tests for publisher/level.c: every line of data/levels.txt ("EXPECTED<TAB>line",
 * \xHH escapes allowed) must be detected as EXPECTED, plus edge cases of the API.
 *
 * Usage: test_level DATA_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    test_edges();
    CHECK_DONE();
}
