/* select.c - container selection (see select.h). Never prints. */
#include "select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

void lj_select_init(struct lj_select *s)
{
    *s = (struct lj_select){ .state = LJ_SELECT_ALL };
}

void lj_select_finish(struct lj_select *s)
{
    struct lj_filter f;    /* reuses the filter's regex clean-up */
    lj_filter_init(&f);
    f.include = s->queries;
    f.exclude = s->exclude;
    lj_filter_finish(&f);
    free(s->globs);
    free(s->labels);
    *s = (struct lj_select){ 0 };
}

static lj_status push(const char ***list, size_t *n, const char *v)
{
    const char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return LJ_NOMEM;
    grown[(*n)++] = v;
    *list = grown;
    return LJ_OK;
}

lj_status lj_select_add_query(struct lj_select *s, const char *q, char *err, size_t errlen)
{
    if (s->regex)
        return lj_regexes_add(&s->queries, q, REG_NOSUB, err, errlen);
    if (push(&s->globs, &s->nglobs, q) != LJ_OK)
        return lj_fail(err, errlen, LJ_NOMEM, "out of memory");
    return LJ_OK;
}

lj_status lj_select_add_label(struct lj_select *s, const char *kv, char *err, size_t errlen)
{
    if (kv[0] == '\0' || kv[0] == '=')
        return lj_fail(err, errlen, LJ_INVAL, "-l: expected key=value or key, got '%s'", kv);
    if (push(&s->labels, &s->nlabels, kv) != LJ_OK)
        return lj_fail(err, errlen, LJ_NOMEM, "out of memory");
    return LJ_OK;
}

lj_status lj_select_set_state(struct lj_select *s, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "all") == 0) s->state = LJ_SELECT_ALL;
    else if (strcmp(v, "running") == 0) s->state = LJ_SELECT_RUNNING;
    else if (strcmp(v, "stopped") == 0) s->state = LJ_SELECT_STOPPED;
    else return lj_fail(err, errlen, LJ_INVAL, "--state: expected running, stopped or all, "
                        "got '%s'", v);
    return LJ_OK;
}

bool lj_select_needs_info(const struct lj_select *s)
{
    return s->state != LJ_SELECT_ALL || s->nlabels > 0;
}

static bool query_match(const struct lj_select *s, const char *ref)
{
    if (s->regex)
        return s->queries.n == 0 || lj_regexes_match(&s->queries, (const uint8_t *)ref,
                                                     strlen(ref));
    for (size_t i = 0; i < s->nglobs; i++)
        if (lj_glob_match(s->globs[i], ref))
            return true;
    return s->nglobs == 0;
}

static bool info_match(const struct lj_select *s, const lj_pb_container *info)
{
    struct lj_container v;
    lj_container_view(info, &v);
    bool running = strcmp(v.state, "running") == 0;
    if ((s->state == LJ_SELECT_RUNNING && !running) || (s->state == LJ_SELECT_STOPPED && running))
        return false;
    for (size_t i = 0; i < s->nlabels; i++) {
        const char *eq = strchr(s->labels[i], '=');
        char key[256];
        size_t kn = eq ? (size_t)(eq - s->labels[i]) : strlen(s->labels[i]);
        snprintf(key, sizeof key, "%.*s", (int)kn, s->labels[i]);
        const char *val = lj_container_label(info, key);
        if (val == NULL || (eq && strcmp(val, eq + 1) != 0))
            return false;
    }
    return true;
}

enum lj_select_result lj_select_match(const struct lj_select *s, const char *host,
                                      const char *name, const lj_pb_container *info)
{
    char ref[1024];
    snprintf(ref, sizeof ref, "%s/%s", host, name);
    if (!query_match(s, ref) || (s->host_glob && !lj_glob_match(s->host_glob, host))
        || lj_regexes_match(&s->exclude, (const uint8_t *)name, strlen(name)))
        return LJ_SELECT_NO;
    if (!lj_select_needs_info(s))
        return LJ_SELECT_YES;
    if (info == NULL)
        return LJ_SELECT_NEED_INFO;
    return info_match(s, info) ? LJ_SELECT_YES : LJ_SELECT_NO;
}
