/* print.h - how logjet-tail writes lines, gaps and lifecycle events.
 *
 * Modes:
 *   default   "<host>/<name> [time] [LEVEL] <line>", the prefix in the container's
 *             colour (a hash of host/name: the same colour in every run), the level
 *             coloured, --highlight matches in reverse video
 *   raw       the line only
 *   json      one object per line: {"type":"line","seq":..,"host":..,"container":..,
 *             "container_id":..,"stream":..,"ts":..,"ts_unix_nano":..,"level":..,
 *             "line_no":..,"truncated":..,"line":..}; gaps and events are objects of
 *             "type" "gap" and "event"
 *   template  --template (template.h)
 * In every mode but json the line goes through the terminal sanitiser (term.h) first;
 * json escapes every control byte instead. Invalid UTF-8 becomes U+FFFD. Appends to a
 * buffer; never writes to a file itself.
 */
#ifndef LJ_PRINT_H
#define LJ_PRINT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "filter.h"
#include "record.h"
#include "template.h"
#include "term.h"

enum lj_print_mode { LJ_PRINT_DEFAULT, LJ_PRINT_RAW, LJ_PRINT_JSON, LJ_PRINT_TEMPLATE };
enum lj_print_ts { LJ_PRINT_TS_NONE, LJ_PRINT_TS_SHORT, LJ_PRINT_TS_FULL };

struct lj_print_config {
    enum lj_print_mode mode;
    bool color;                        /* our own colours (prefix, level, highlight) */
    enum lj_term_mode ansi;            /* what happens to escape sequences in lines */
    enum lj_print_ts ts;
    bool utc;                          /* times in UTC rather than local time */
    const struct lj_template *tmpl;    /* LJ_PRINT_TEMPLATE only */
    const struct lj_regexes *highlight;
};

/* A lifecycle change from the registry (--events). */
struct lj_print_event {
    const char *host, *name;
    const char *what;                  /* "started", "exited", "removed", "renamed", ... */
    int64_t ts_ns;
    bool has_exit_code;
    int exit_code;
    bool oom_killed;
    const char *detail;                /* e.g. the new name of a rename; may be NULL */
};

/* Palette index (0..LJ_PRINT_COLORS-1) of a container: stable across runs. */
#define LJ_PRINT_COLORS 12
unsigned lj_print_color_of(const char *host, const char *name);

/* Appends one record (with its stream sequence) to out; scratch is working space. */
lj_status lj_print_record(const struct lj_print_config *c, const struct lj_record *r,
                          uint64_t seq, struct lj_buf *out, struct lj_buf *scratch);

/* Appends the line saying `lost` lines of host/name (line_no after+1 .. next-1) are gone. */
lj_status lj_print_gap(const struct lj_print_config *c, const char *host, const char *name,
                       uint64_t after_line_no, uint64_t next_line_no, const char *reason,
                       struct lj_buf *out);

lj_status lj_print_event(const struct lj_print_config *c, const struct lj_print_event *e,
                         struct lj_buf *out);

/* grep's "--" between context groups that do not touch (not in json mode). */
lj_status lj_print_separator(const struct lj_print_config *c, struct lj_buf *out);

/* Appends s (n bytes) as a JSON string, quotes included. */
lj_status lj_print_json_string(struct lj_buf *out, const uint8_t *s, size_t n);

#endif
