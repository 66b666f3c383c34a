/* select.h - which containers logjet-tail follows.
 *
 * A container is "<host>/<name>". It is selected when it matches one QUERY (a glob with
 * the gateway's semantics, common/glob.h, or with -r a POSIX extended regular expression
 * searched in "<host>/<name>"; no QUERY selects all), --host (a glob over the host),
 * none of --exclude-container (regular expressions over the name), --state (running,
 * stopped = anything else, all) and every -l key=value (or -l key: present with any
 * value). Host and name alone decide the first three; state and labels need the
 * registry's entry, so a decision may be "need the entry". Pure.
 */
#ifndef LJ_SELECT_H
#define LJ_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "filter.h"
#include "record.h"
#include "status.h"

enum lj_select_state { LJ_SELECT_ALL, LJ_SELECT_RUNNING, LJ_SELECT_STOPPED };
enum lj_select_result { LJ_SELECT_NO, LJ_SELECT_YES, LJ_SELECT_NEED_INFO };

struct lj_select {
    const char **globs;           /* borrowed from argv */
    size_t nglobs;
    struct lj_regexes queries;    /* with -r */
    bool regex;
    const char *host_glob;        /* NULL: any host */
    struct lj_regexes exclude;
    enum lj_select_state state;
    const char **labels;          /* "key=value" or "key", borrowed */
    size_t nlabels;
};

void lj_select_init(struct lj_select *s);
void lj_select_finish(struct lj_select *s);

/* Adds one positional QUERY (compiled when s->regex). LJ_INVAL naming a bad regex. */
lj_status lj_select_add_query(struct lj_select *s, const char *q, char *err, size_t errlen);
lj_status lj_select_add_label(struct lj_select *s, const char *kv, char *err, size_t errlen);
lj_status lj_select_set_state(struct lj_select *s, const char *v, char *err, size_t errlen);

/* true when the decision needs the registry's entry (state or labels are asked for). */
bool lj_select_needs_info(const struct lj_select *s);

/* Decides for host/name; info may be NULL when the registry has no entry (yet). */
enum lj_select_result lj_select_match(const struct lj_select *s, const char *host,
                                      const char *name, const lj_pb_container *info);

#endif
