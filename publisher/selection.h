/* selection.h - which containers the publisher follows: the logjet.enable label
 * (false/0/no always opts out; with opt-in, only true/1/yes opts in), then --include
 * and --exclude, POSIX extended regexes matched against the container name.
 * Pure: no I/O, no logging. Does not list containers (docker.c) or follow them.
 */
#ifndef LJ_SELECTION_H
#define LJ_SELECTION_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "docker.h"
#include "status.h"

struct lj_selection {
    bool opt_in;
    bool has_include, has_exclude;
    regex_t include, exclude;  /* compiled only when has_... */
};

/* Compiles include and exclude ("" for none). LJ_INVAL naming the option, the
 * pattern and regcomp's reason in err. On failure nothing needs finishing. */
lj_status lj_selection_init(struct lj_selection *s, const char *include, const char *exclude,
                            bool opt_in, char *err, size_t errlen);
/* Frees the regexes; s may be zeroed and never initialised. */
void lj_selection_finish(struct lj_selection *s);

/* True when a container of this name and these labels is to be followed. */
bool lj_selection_wants(const struct lj_selection *s, const char *name,
                        const struct lj_docker_label *labels, size_t nlabels);

/* The value of label key among labels, or NULL. */
const char *lj_selection_label(const struct lj_docker_label *labels, size_t nlabels,
                               const char *key);

#endif
