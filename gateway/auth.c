/* auth.c - tokens file parsing, constant-time token lookup, user lookup, ACL, origin
 * and Host checks. Reads no request and prints nothing: the server hands in the
 * header values it got and logs what these functions decide.
 *
 * The tokens file is read whole (at most FILE_MAX bytes) and parsed from memory by
 * lj_auth_parse, so the parser sees exactly the bytes of the file: a line longer than
 * LINE_MAX_BYTES or holding a NUL byte is an error naming its number, never silently
 * split or cut (a split line used to turn its tail into an entry of its own). */
#include "auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

#define LINE_MAX_BYTES 4095
#define FILE_MAX (16u << 20)

struct entry {
    char *token;              /* owned */
    size_t len;
    struct lj_grant grant;
};

/* A `user <name> <globs>` line: a name a trusted proxy vouches for. */
struct user {
    char *name;               /* owned */
    int lineno;               /* where the file gives it, for messages */
    struct lj_grant grant;
};

struct lj_auth {
    struct entry *entries;    /* owned; n of them */
    size_t n;
    struct user *users;       /* owned; nusers of them */
    size_t nusers;
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
    for (size_t i = 0; i < a->nusers; i++) {
        free(a->users[i].name);
        grant_finish(&a->users[i].grant);
    }
    free(a->users);
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

/* Appends a `user <name> <globs>` line to a. */
static lj_status add_user(struct lj_auth *a, const char *name, char *globs, int lineno, char *err,
                          size_t errlen)
{
    struct user u = { 0 };
    lj_status st;

    if (strlen(name) > LJ_AUTH_USER_MAX)
        return lj_fail(err, errlen, LJ_INVAL, "line %d: user name over %d bytes", lineno,
                       LJ_AUTH_USER_MAX);
    for (size_t i = 0; i < a->nusers; i++)
        if (strcmp(a->users[i].name, name) == 0)
            return lj_fail(err, errlen, LJ_INVAL, "line %d: the user of line %d given again",
                           lineno, a->users[i].lineno);    /* no file bytes in messages */
    struct user *grown = realloc(a->users, (a->nusers + 1) * sizeof(*grown));
    if (!grown)
        return LJ_NOMEM;
    a->users = grown;
    st = parse_globs(globs, &u.grant);
    if (st == LJ_OK && !(u.name = strdup(name)))
        st = LJ_NOMEM;
    if (st != LJ_OK) {
        grant_finish(&u.grant);
        return st == LJ_NOMEM ? st : lj_fail(err, errlen, st, "line %d: no globs", lineno);
    }
    u.lineno = lineno;
    a->users[a->nusers++] = u;
    return LJ_OK;
}

/* Appends a `<token> <globs>` line to a. */
static lj_status add_token(struct lj_auth *a, const char *token, char *globs, int lineno, char *err,
                           size_t errlen)
{
    struct entry e = { 0 };
    lj_status st;

    struct entry *grown = realloc(a->entries, (a->n + 1) * sizeof(*grown));
    if (!grown)
        return LJ_NOMEM;
    a->entries = grown;
    st = parse_globs(globs, &e.grant);
    if (st == LJ_OK && !(e.token = strdup(token)))
        st = LJ_NOMEM;
    if (st != LJ_OK) {
        grant_finish(&e.grant);
        return st == LJ_NOMEM ? st : lj_fail(err, errlen, st, "line %d: no globs", lineno);
    }
    e.len = strlen(token);
    a->entries[a->n++] = e;
    return LJ_OK;
}

/* Parses one line. Two words are always a token and its globs (so every file written
 * before user lines existed means what it meant, even for a token spelt "user");
 * three words are a user line only when the first is exactly "user". */
static lj_status parse_line(struct lj_auth *a, char *line, int lineno, char *err, size_t errlen)
{
    char *save = NULL, *w[4] = { 0 };
    int n = 0;

    for (char *t = strtok_r(line, " \t", &save); t && n < 4 && *t != '#'; t = strtok_r(NULL, " \t", &save))
        w[n++] = t;
    if (n == 0)
        return LJ_OK;
    if (n == 3 && strcmp(w[0], "user") == 0)
        return add_user(a, w[1], w[2], lineno, err, errlen);
    if (n != 2 || strlen(w[0]) > LJ_AUTH_TOKEN_MAX)
        return lj_fail(err, errlen, LJ_INVAL, "line %d: want `<token> <glob>[,<glob>...]` "
                       "or `user <name> <glob>[,<glob>...]`", lineno);
    return add_token(a, w[0], w[1], lineno, err, errlen);
}

lj_status lj_auth_parse(const char *text, size_t len, struct lj_auth **out, char *err,
                        size_t errlen)
{
    struct lj_auth *a = calloc(1, sizeof(*a));
    char line[LINE_MAX_BYTES + 1];
    int lineno = 0;
    lj_status st = LJ_OK;

    if (!a)
        return LJ_NOMEM;
    for (size_t at = 0; st == LJ_OK && at < len; lineno++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        if (memchr(text + at, '\0', n))
            st = lj_fail(err, errlen, LJ_INVAL, "line %d holds a NUL byte", lineno + 1);
        else if (n > LINE_MAX_BYTES)
            st = lj_fail(err, errlen, LJ_INVAL, "line %d is longer than %d bytes", lineno + 1,
                         LINE_MAX_BYTES);
        else {
            memcpy(line, text + at, n);
            line[n] = '\0';
            line[strcspn(line, "\r")] = '\0';
            st = parse_line(a, line, lineno + 1, err, errlen);
        }
        at += n + 1;
    }
    if (st == LJ_OK && a->n == 0 && a->nusers == 0)
        st = lj_fail(err, errlen, LJ_INVAL, "no tokens and no users in it");
    if (st != LJ_OK) {
        lj_auth_destroy(a);
        return st;
    }
    *out = a;
    return LJ_OK;
}

lj_status lj_auth_load(const char *path, struct lj_auth **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    lj_status st = LJ_OK;

    if (!f)
        return lj_fail(err, errlen, LJ_IO, "cannot open tokens file %s: %s", path, strerror(errno));
    if (!(text = malloc(FILE_MAX + 1)))
        st = LJ_NOMEM;
    else if ((len = fread(text, 1, FILE_MAX + 1, f)) > FILE_MAX)
        st = lj_fail(err, errlen, LJ_INVAL, "tokens file %s is larger than %u bytes", path, FILE_MAX);
    else if (ferror(f))
        st = lj_fail(err, errlen, LJ_IO, "cannot read tokens file %s: %s", path, strerror(errno));
    fclose(f);
    if (st == LJ_OK && (st = lj_auth_parse(text, len, out, err, errlen)) == LJ_INVAL) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        lj_fail(err, errlen, LJ_INVAL, "tokens file %s: %s", path, why);
    }
    free(text);
    return st;
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

const struct lj_grant *lj_auth_user(const struct lj_auth *a, const char *name)
{
    for (size_t i = 0; a && name && i < a->nusers; i++)
        if (strcmp(a->users[i].name, name) == 0)
            return &a->users[i].grant;
    return NULL;
}

size_t lj_auth_token_count(const struct lj_auth *a)
{
    return a ? a->n : 0;
}

size_t lj_auth_user_count(const struct lj_auth *a)
{
    return a ? a->nusers : 0;
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

/* The host part of a Host header value: "[v6]:p" -> "v6", "name:p" -> "name"; a value
 * with several colons and no brackets is taken whole. Copies into out (n bytes);
 * false when it does not fit. */
static bool host_name(const char *host, char *out, size_t n)
{
    const char *b = host, *e;
    if (*host == '[') {
        b = host + 1;
        if (!(e = strchr(b, ']')))
            return false;
    } else {
        e = strchr(host, ':');
        if (!e || strchr(e + 1, ':'))
            e = host + strlen(host);
    }
    if ((size_t)(e - b) >= n)
        return false;
    memcpy(out, b, (size_t)(e - b));
    out[e - b] = '\0';
    if (out[0] && out[e - b - 1] == '.')   /* "localhost." is "localhost" */
        out[e - b - 1] = '\0';
    return true;
}

static bool name_is_loopback(const char *name)
{
    struct in_addr a4;
    struct in6_addr a6;
    size_t n = strlen(name);
    if (strcasecmp(name, "localhost") == 0
        || (n > 10 && strcasecmp(name + n - 10, ".localhost") == 0))
        return true;   /* RFC 6761: browsers resolve these to loopback themselves */
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool lj_auth_host_ok(const char *allowed, const char *host)
{
    char name[256];
    if (!host || !*host)
        return true;    /* not a browser (HTTP/1.0 without Host): rebinding needs one */
    if (strpbrk(host, ", \t"))
        return false;   /* several Host headers (joined with ',') or junk */
    if (!host_name(host, name, sizeof(name)) || !*name)
        return false;
    if (name_is_loopback(name))
        return true;
    for (const char *p = allowed ? allowed : ""; *p;) {
        size_t n = strcspn(p, ",");
        const char *q = p;
        while (n && *q == ' ')
            q++, n--;
        while (n && q[n - 1] == ' ')
            n--;
        if ((n == 1 && *q == '*') || (n == strlen(name) && strncasecmp(q, name, n) == 0))
            return true;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return false;
}
