/* fuzz_auth.c - libFuzzer target for the gateway's tokens file parser (lj_auth_parse
 * in gateway/auth.c): the input is the file's bytes.
 *
 * Properties checked beyond "no crash" and no leak: when the file is accepted, the
 * first field of every non-comment line (read here independently: LF-separated, cut at
 * CR, split at space and tab) is a token that lj_auth_check finds, with a grant of at
 * least one non-empty glob without ',', and no other word of the file is a token (a
 * line split in two made its tail an entry once); when it is refused, the message
 * holds none of those fields (tokens never reach messages) unless the field is a
 * piece of the message's own fixed text. On files of many lines the lookups are a sample spread
 * evenly over lines and words (each lookup costs every entry, by design).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static const char fixed_text[] = "line : want `<token> <glob>[,<glob>...]` no globs holds a NUL "
                                 "byte is longer than 4095 bytes no tokens in it 0123456789";

/* Calls fn(field, ctx) for the first field of every line that has one. */
static void each_first_field(const uint8_t *data, size_t size,
                             void (*fn)(const char *field, void *ctx), void *ctx)
{
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *line = copy; line && line <= copy + size;) {
        char *nl = memchr(line, '\n', (size_t)(copy + size - line));
        if (nl)
            *nl = '\0';
        line[strcspn(line, "\r")] = '\0';
        char *save = NULL, *field = strtok_r(line, " \t", &save);
        if (field && *field != '#')
            fn(field, ctx);
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
}

static void must_be_granted(const char *field, void *ctx)
{
    const struct lj_auth *a = ctx;
    const struct lj_grant *g = lj_auth_check(a, field);
    if (g == NULL || g->nglobs == 0)
        abort();
    for (size_t i = 0; i < g->nglobs; i++)
        if (g->globs[i][0] == '\0' || strchr(g->globs[i], ','))
            abort();
}

struct fields {
    const char **v;
    size_t n, cap;
    char *store;        /* copies of the fields, one after another */
    size_t used;
};

static void collect(const char *field, void *ctx)
{
    struct fields *f = ctx;
    size_t len = strlen(field) + 1;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        const char **v = realloc(f->v, cap * sizeof *v);
        if (v == NULL)
            abort();
        f->v = v;
        f->cap = cap;
    }
    memcpy(f->store + f->used, field, len);
    f->v[f->n++] = f->store + f->used;
    f->used += len;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* lj_auth_check costs every entry times 256 bytes (constant time by design), so a file
 * of n lines gets about CHECK_BUDGET / n lookups, spread evenly over its lines and
 * words: about CHECK_BUDGET x 256 byte comparisons per input, whatever its size. */
#define CHECK_BUDGET 1000

/* Every line's first field is granted; every word granted is some line's first field. */
static void check_tokens(const uint8_t *data, size_t size, const struct lj_auth *a)
{
    struct fields f = { .store = malloc(size + 1) };
    char *copy = malloc(size + 1);
    if (copy == NULL || f.store == NULL)
        abort();
    each_first_field(data, size, collect, &f);
    size_t lookups = 1 + CHECK_BUDGET / (f.n + 1);
    for (size_t i = 0; i < f.n; i += 1 + f.n / lookups)
        must_be_granted(f.v[i], (void *)a);
    qsort(f.v, f.n, sizeof *f.v, by_string);
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t words = 0, i = 0;
    for (size_t k = 0; k < size; k++)
        words += !strchr(" \t\r\n", copy[k]) && (k == 0 || strchr(" \t\r\n", copy[k - 1]));
    size_t stride = 1 + words / lookups;
    for (char *save = NULL, *w = strtok_r(copy, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save), i++)
        if (i % stride == 0 && lj_auth_check(a, w) != NULL &&
            bsearch(&w, f.v, f.n, sizeof *f.v, by_string) == NULL)
            abort();
    free(copy);
    free(f.v);
    free(f.store);
}

static void must_not_be_told(const char *field, void *ctx)
{
    const char *err = ctx;
    if (strlen(field) >= 6 && strstr(fixed_text, field) == NULL && strstr(err, field) != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lj_auth *a = NULL;
    char err[256] = "";
    lj_status st = lj_auth_parse((const char *)data, size, &a, err, sizeof err);

    if (st == LJ_OK) {
        if (a == NULL)
            abort();
        check_tokens(data, size, a);
        lj_auth_destroy(a);
    } else if (st == LJ_INVAL) {
        if (a != NULL || err[0] == '\0')
            abort();
        each_first_field(data, size, must_not_be_told, err);
    } else if (st != LJ_NOMEM) {
        abort();
    }
    return 0;
}
