/* filter.c - line selection and grep-style context (see filter.h). Never prints. */
#include "filter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALL_LEVELS ((1u << LJ_LEVEL_COUNT) - 1)

void lj_filter_init(struct lj_filter *f)
{
    *f = (struct lj_filter){ .levels = ALL_LEVELS, .streams = 3 };
}

static void regexes_finish(struct lj_regexes *l)
{
    for (size_t i = 0; i < l->n; i++)
        regfree(&l->re[i]);
    free(l->re);
    l->re = NULL;
    l->n = 0;
}

void lj_filter_finish(struct lj_filter *f)
{
    regexes_finish(&f->include);
    regexes_finish(&f->exclude);
}

lj_status lj_regexes_add(struct lj_regexes *list, const char *pattern, int cflags, char *err,
                         size_t errlen)
{
    regex_t *grown = realloc(list->re, (list->n + 1) * sizeof *grown);
    if (grown == NULL)
        return lj_fail(err, errlen, LJ_NOMEM, "out of memory");
    list->re = grown;
    int rc = regcomp(&list->re[list->n], pattern, REG_EXTENDED | cflags);
    if (rc != 0) {
        char msg[160];
        regerror(rc, &list->re[list->n], msg, sizeof msg);
        return lj_fail(err, errlen, LJ_INVAL, "bad regular expression '%s': %s", pattern, msg);
    }
    list->n++;
    return LJ_OK;
}

bool lj_regexes_match(const struct lj_regexes *list, const uint8_t *line, size_t n)
{
    /* A record's line is not NUL-terminated. REG_STARTEND (glibc, BSD) bounds the match
     * by the length, NULs included, but sanitizers' regexec interceptors still read up
     * to a NUL, so the line is matched from a terminated copy (on the stack when short). */
    char small[4096], *text = small;
    bool hit = false;
    if (list->n == 0)
        return false;
    if (n >= sizeof small && (text = malloc(n + 1)) == NULL)
        return false;
    if (n)
        memcpy(text, line, n);
    text[n] = '\0';
    for (size_t i = 0; i < list->n && !hit; i++) {
        regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)n };
        hit = regexec(&list->re[i], text, 1, &m, REG_STARTEND) == 0;
    }
    if (text != small)
        free(text);
    return hit;
}

/* Calls one(name, len) for every comma-separated entry of list; stops on failure. */
static lj_status each_name(const char *list, int (*id)(const char *, size_t), unsigned *mask,
                           const char *what, char *err, size_t errlen)
{
    unsigned m = 0;
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int v = id(p, n);
        if (v < 0)
            return lj_fail(err, errlen, LJ_INVAL, "unknown %s '%.*s' in '%s'", what, (int)n, p,
                           list);
        m |= 1u << v;
        if (end == NULL)
            break;
        p = end + 1;
    }
    *mask = m;
    return LJ_OK;
}

static int level_id(const char *s, size_t n)
{
    char name[16];
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, s, n);
    name[n] = '\0';
    return lj_level_from_name(name);
}

static int stream_id(const char *s, size_t n)
{
    if (n == 6 && strncasecmp(s, "stdout", 6) == 0)
        return LJ_STREAM_STDOUT;
    if (n == 6 && strncasecmp(s, "stderr", 6) == 0)
        return LJ_STREAM_STDERR;
    return -1;
}

lj_status lj_filter_set_levels(struct lj_filter *f, const char *list, char *err, size_t errlen)
{
    return each_name(list, level_id, &f->levels, "level (trace debug info warn error fatal "
                     "unknown)", err, errlen);
}

lj_status lj_filter_set_streams(struct lj_filter *f, const char *list, char *err, size_t errlen)
{
    return each_name(list, stream_id, &f->streams, "stream (stdout stderr)", err, errlen);
}

bool lj_filter_keep(const struct lj_filter *f, enum lj_level level, enum lj_stream stream,
                    const uint8_t *line, size_t n)
{
    return (f->levels >> level & 1u) && (f->streams >> stream & 1u)
        && !lj_regexes_match(&f->exclude, line, n);
}

bool lj_filter_match(const struct lj_filter *f, const uint8_t *line, size_t n)
{
    return f->include.n == 0 || lj_regexes_match(&f->include, line, n);
}

lj_status lj_context_init(struct lj_context *c, int before)
{
    *c = (struct lj_context){ 0 };
    if (before > 0 && (c->ring = calloc((size_t)before, sizeof *c->ring)) == NULL)
        return LJ_NOMEM;
    c->cap = before > 0 ? (size_t)before : 0;
    return LJ_OK;
}

void lj_context_finish(struct lj_context *c, void (*drop)(void *item))
{
    for (size_t i = 0; i < c->n && drop; i++)
        drop(c->ring[(c->start + i) % c->cap]);
    free(c->ring);
    *c = (struct lj_context){ 0 };
}

size_t lj_context_offer(struct lj_context *c, const struct lj_filter *f, bool match, void *item,
                        void **out, bool *separator, void **dropped)
{
    uint64_t idx = c->index++;
    size_t k = 0;
    *dropped = NULL;
    *separator = false;
    if (match || c->after_left > 0) {
        uint64_t first = idx - (match ? c->n : 0);
        *separator = c->last_printed != 0 && first != c->last_printed && f->include.n > 0
                     && (f->before > 0 || f->after > 0);    /* grep: "--" only with context */
        for (; match && c->n > 0; c->n--, c->start = (c->start + 1) % c->cap)
            out[k++] = c->ring[c->start];
        out[k++] = item;
        c->last_printed = idx + 1;
        c->after_left = match ? f->after : c->after_left - 1;
        return k;
    }
    if (c->cap == 0) {
        *dropped = item;
        return 0;
    }
    if (c->n == c->cap) {
        *dropped = c->ring[c->start];
        c->start = (c->start + 1) % c->cap;
        c->n--;
    }
    c->ring[(c->start + c->n++) % c->cap] = item;
    return 0;
}
