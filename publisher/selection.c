/* selection.c - the label and name rules that decide which containers are followed. */
#include "selection.h"

#include <stdio.h>
#include <string.h>

static lj_status compile(regex_t *re, const char *pattern, const char *opt, char *err,
                         size_t errlen)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        return lj_fail(err, errlen, LJ_INVAL, "--%s '%s': %s", opt, pattern, msg);
    }
    return LJ_OK;
}

lj_status lj_selection_init(struct lj_selection *s, const char *include, const char *exclude,
                            bool opt_in, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opt_in = opt_in;
    if (include[0] && compile(&s->include, include, "include", err, errlen) != LJ_OK)
        return LJ_INVAL;
    s->has_include = include[0] != '\0';
    if (exclude[0] && compile(&s->exclude, exclude, "exclude", err, errlen) != LJ_OK) {
        lj_selection_finish(s);
        return LJ_INVAL;
    }
    s->has_exclude = exclude[0] != '\0';
    return LJ_OK;
}

void lj_selection_finish(struct lj_selection *s)
{
    if (s->has_include)
        regfree(&s->include);
    if (s->has_exclude)
        regfree(&s->exclude);
    s->has_include = s->has_exclude = false;
}

const char *lj_selection_label(const struct lj_docker_label *labels, size_t nlabels,
                               const char *key)
{
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(labels[i].key, key) == 0)
            return labels[i].value;
    return NULL;
}

static bool one_of(const char *v, const char *a, const char *b, const char *c)
{
    return v && (strcmp(v, a) == 0 || strcmp(v, b) == 0 || strcmp(v, c) == 0);
}

bool lj_selection_wants(const struct lj_selection *s, const char *name,
                        const struct lj_docker_label *labels, size_t nlabels)
{
    const char *v = lj_selection_label(labels, nlabels, "logjet.enable");
    if (one_of(v, "false", "0", "no"))
        return false;
    if (s->opt_in && !one_of(v, "true", "1", "yes"))
        return false;
    if (s->has_include && regexec(&s->include, name, 0, NULL, 0) != 0)
        return false;
    if (s->has_exclude && regexec(&s->exclude, name, 0, NULL, 0) == 0)
        return false;
    return true;
}
