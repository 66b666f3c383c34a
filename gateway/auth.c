/* auth.c - tokens file parsing, constant-time token lookup, ACL and origin checks. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

struct entry {
    char *token;              /* owned */
    size_t len;
    struct lj_grant grant;
};

struct lj_auth {
    struct entry *entries;    /* owned; n of them */
    size_t n;
};

static void grant_finish(struct lj_grant *g)
{
    for (size_t i = 0; i < g->nglobs; i++)
        free(g->globs[i]);
    free(g->globs);
}

void lj_auth_destroy(struct lj_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->entries[i].token);
        grant_finish(&a->entries[i].grant);
    }
    free(a->entries);
    free(a);
}

/* Splits "g1,g2" into the grant; LJ_INVAL when empty. */
static lj_status parse_globs(char *list, struct lj_grant *g)
{
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char **grown = realloc(g->globs, (g->nglobs + 1) * sizeof(*grown));
        if (!grown)
            return LJ_NOMEM;
        g->globs = grown;
        if (!(g->globs[g->nglobs] = strdup(tok)))
            return LJ_NOMEM;
        g->nglobs++;
    }
    return g->nglobs ? LJ_OK : LJ_INVAL;
}

/* Parses one non-comment line into a new entry of a. */
static lj_status parse_line(struct lj_auth *a, char *line, int lineno, char *err, size_t errlen)
{
    char *save = NULL, *token = strtok_r(line, " \t", &save);
    char *globs = strtok_r(NULL, " \t", &save), *extra = strtok_r(NULL, " \t", &save);
    struct entry e = { 0 };
    lj_status st;

    if (!token || *token == '#')
        return LJ_OK;
    if (!globs || (extra && *extra != '#') || strlen(token) > LJ_AUTH_TOKEN_MAX)
        return lj_fail(err, errlen, LJ_INVAL, "tokens file line %d: want `<token> <glob>[,<glob>...]`",
                       lineno);
    struct entry *grown = realloc(a->entries, (a->n + 1) * sizeof(*grown));
    if (!grown)
        return LJ_NOMEM;
    a->entries = grown;
    st = parse_globs(globs, &e.grant);
    if (st == LJ_OK && !(e.token = strdup(token)))
        st = LJ_NOMEM;
    if (st != LJ_OK) {
        grant_finish(&e.grant);
        return st == LJ_NOMEM ? st : lj_fail(err, errlen, st, "tokens file line %d: no globs", lineno);
    }
    e.len = strlen(token);
    a->entries[a->n++] = e;
    return LJ_OK;
}

lj_status lj_auth_load(const char *path, struct lj_auth **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct lj_auth *a;
    char line[4096];
    int lineno = 0;
    lj_status st = LJ_OK;

    if (!f)
        return lj_fail(err, errlen, LJ_IO, "cannot open tokens file %s: %s", path, strerror(errno));
    if (!(a = calloc(1, sizeof(*a)))) {
        fclose(f);
        return LJ_NOMEM;
    }
    while (st == LJ_OK && fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        st = parse_line(a, line, lineno, err, errlen);
    }
    fclose(f);
    if (st == LJ_OK && a->n == 0)
        st = lj_fail(err, errlen, LJ_INVAL, "tokens file %s holds no tokens", path);
    if (st != LJ_OK) {
        lj_auth_destroy(a);
        return st;
    }
    *out = a;
    return LJ_OK;
}

/* Compares every byte position up to LJ_AUTH_TOKEN_MAX so timing does not reveal
 * how long a prefix matched, nor the stored token's length. */
static int ct_equal(const char *stored, size_t slen, const char *given, size_t glen)
{
    unsigned diff = (unsigned)(slen ^ glen);
    for (size_t i = 0; i < LJ_AUTH_TOKEN_MAX; i++) {
        unsigned char s = i < slen ? (unsigned char)stored[i] : 0;
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= (unsigned)(s ^ g);
    }
    return diff == 0;
}

const struct lj_grant *lj_auth_check(const struct lj_auth *a, const char *token)
{
    const struct lj_grant *found = NULL;
    size_t glen;

    if (!a || !token)
        return NULL;
    glen = strnlen(token, LJ_AUTH_TOKEN_MAX + 1);
    if (glen > LJ_AUTH_TOKEN_MAX || glen == 0)
        return NULL;
    for (size_t i = 0; i < a->n; i++)   /* no early exit */
        if (ct_equal(a->entries[i].token, a->entries[i].len, token, glen) && !found)
            found = &a->entries[i].grant;
    return found;
}

const struct lj_grant *lj_grant_all(void)
{
    static char star[] = "*";
    static char *globs[] = { star };
    static const struct lj_grant all = { globs, 1 };
    return &all;
}

bool lj_grant_allows(const struct lj_grant *g, const char *key)
{
    for (size_t i = 0; g && i < g->nglobs; i++)
        if (lj_glob_match(g->globs[i], key))
            return true;
    return false;
}

/* "http://h:p" -> "h:p" (the part after "://"), or the whole string. */
static const char *origin_hostport(const char *origin)
{
    const char *p = strstr(origin, "://");
    return p ? p + 3 : origin;
}

bool lj_auth_origin_ok(const char *allowed, const char *origin, const char *host)
{
    if (!origin || !*origin)
        return true;    /* not a browser: tokens are the protection */
    if (!allowed || !*allowed)
        return host && strcasecmp(origin_hostport(origin), host) == 0;
    size_t olen = strlen(origin);
    for (const char *p = allowed; *p;) {
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        if ((n == 1 && *p == '*') || (n == olen && strncasecmp(p, origin, n) == 0))
            return true;
        p += strcspn(p, ",");
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}
