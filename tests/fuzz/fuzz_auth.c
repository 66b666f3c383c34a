/* fuzz_auth.c - libFuzzer target for the gateway's tokens file parser (lj_auth_parse
 * in gateway/auth.c): the input is the file's bytes.
 *
 * The target reads the file again on its own (lines split at LF and cut at CR, words
 * split at space and tab up to one starting with '#'; two words are a token line,
 * three starting with "user" a user line, no words a blank or comment line, anything
 * else, a NUL byte or a line over 4095 bytes makes the file bad) and checks, beyond
 * "no crash" and no leak:
 *   - lj_auth_parse accepts exactly the files this reading finds good;
 *   - an accepted file holds as many tokens and users as it has such lines (a line
 *     split in two made its tail an entry once), every token line's token is found
 *     (a sample on big files: each lookup costs every entry, by design) and every
 *     user, each with a non-empty grant of globs without ',';
 *   - a refusal's message holds no token of the file (tokens of 6 bytes or more that
 *     are not pieces of the message's fixed text): messages name lines, never words
 *     of the file (a user named twice was echoed, and a user name can hold a token).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define LOOKUP_BUDGET 1000      /* lookups x entries per input: ~256k byte comparisons */

struct line {
    char *w[3];     /* the first words (NUL-terminated, inside the reading's copy) */
    int n;          /* words before any '#' word, counted up to 4 */
};

struct reading {
    char *copy;
    struct line *lines;
    size_t nlines;
    size_t tokens, users;
    bool good;
};

static bool globs_ok(const char *list)
{
    return list[strspn(list, ",")] != '\0';
}

static void read_line(struct reading *r, char *s, size_t len)
{
    struct line *l = &r->lines[r->nlines++];
    char *save = NULL;
    l->n = 0;
    if (memchr(s, '\0', len) || len > 4095) {
        r->good = false;
        return;
    }
    s[len] = '\0';
    s[strcspn(s, "\r")] = '\0';
    for (char *t = strtok_r(s, " \t", &save); t && l->n < 4 && *t != '#';
         t = strtok_r(NULL, " \t", &save)) {
        if (l->n < 3)
            l->w[l->n] = t;
        l->n++;
    }
    if (l->n == 2 && strlen(l->w[0]) <= LJ_AUTH_TOKEN_MAX && globs_ok(l->w[1])) {
        r->tokens++;
    } else if (l->n == 3 && strcmp(l->w[0], "user") == 0 &&
               strlen(l->w[1]) <= LJ_AUTH_USER_MAX && globs_ok(l->w[2])) {
        for (size_t i = 0; i + 1 < r->nlines; i++)
            if (r->lines[i].n == 3 && strcmp(r->lines[i].w[0], "user") == 0 &&
                strcmp(r->lines[i].w[1], l->w[1]) == 0)
                r->good = false;    /* a user given twice */
        r->users++;
    } else if (l->n != 0) {
        r->good = false;
    }
}

static void read_file(struct reading *r, const uint8_t *data, size_t size)
{
    r->copy = malloc(size + 1);
    r->lines = malloc((size + 1) * sizeof *r->lines);
    if (r->copy == NULL || r->lines == NULL)
        abort();
    memcpy(r->copy, data, size);
    r->copy[size] = '\0';
    r->good = true;
    for (size_t at = 0; at < size && r->good;) {
        char *nl = memchr(r->copy + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (r->copy + at)) : size - at;
        read_line(r, r->copy + at, len);
        at += len + 1;
    }
    if (r->tokens + r->users == 0)
        r->good = false;
}

static void check_grant(const struct lj_grant *g)
{
    if (g == NULL || g->nglobs == 0)
        abort();
    for (size_t i = 0; i < g->nglobs; i++)
        if (g->globs[i][0] == '\0' || strchr(g->globs[i], ','))
            abort();
}

static void check_accepted(const struct reading *r, const struct lj_auth *a)
{
    if (lj_auth_token_count(a) != r->tokens || lj_auth_user_count(a) != r->users)
        abort();
    size_t lookups = 1 + LOOKUP_BUDGET / (r->tokens + 1), stride = 1 + r->tokens / lookups;
    size_t k = 0;
    for (size_t i = 0; i < r->nlines; i++) {
        const struct line *l = &r->lines[i];
        if (l->n == 2 && k++ % stride == 0)
            check_grant(lj_auth_check(a, l->w[0]));
        else if (l->n == 3)
            check_grant(lj_auth_user(a, l->w[1]));
    }
}

static const char fixed_text[] = "line : want `<token> <glob>[,<glob>...]` or `user <name> "
                                 "<glob>[,<glob>...]` no globs holds a NUL byte is longer than "
                                 "4095 bytes no tokens and no users in it user name over the user "
                                 "of given again 0123456789";

static void check_refused(const struct reading *r, const char *err)
{
    for (size_t i = 0; i < r->nlines; i++) {
        const char *t = r->lines[i].n == 2 ? r->lines[i].w[0] : NULL;
        if (t && strlen(t) >= 6 && !strstr(fixed_text, t) && strstr(err, t))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lj_auth *a = NULL;
    struct reading r = { 0 };
    char err[256] = "";
    lj_status st = lj_auth_parse((const char *)data, size, &a, err, sizeof err);

    read_file(&r, data, size);
    if (st == LJ_OK) {
        if (a == NULL || !r.good)
            abort();
        check_accepted(&r, a);
        lj_auth_destroy(a);
    } else if (st == LJ_INVAL) {
        if (a != NULL || err[0] == '\0' || r.good)
            abort();
        check_refused(&r, err);
    } else if (st != LJ_NOMEM) {
        abort();
    }
    free(r.lines);
    free(r.copy);
    return 0;
}
