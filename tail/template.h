/* template.h - the --template format string: literal text with {field} references.
 *
 *   --template '{time} {name} {level}: {line}'
 *
 * Fields: host, name, ref (host/name), id (12 hex), id_full, stream, level, ts (RFC 3339
 * with ns, UTC), time (as -t prints it), unix_nano, line_no, seq, line, truncated
 * ("true"/"false"), color and reset (the container's colour on and off; empty without
 * colour). "{{" and "}}" are literal braces; "\n", "\t" and "\\" are a newline, a tab and
 * a backslash. Every rendered line ends with a newline. Nothing else: no conditionals,
 * no functions, no widths. Pure.
 */
#ifndef LJ_TEMPLATE_H
#define LJ_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define LJ_TEMPLATE_FIELDS(X) \
    X(HOST, "host") X(NAME, "name") X(REF, "ref") X(ID, "id") X(ID_FULL, "id_full") \
    X(STREAM, "stream") X(LEVEL, "level") X(TS, "ts") X(TIME, "time")            \
    X(UNIX_NANO, "unix_nano") X(LINE_NO, "line_no") X(SEQ, "seq") X(LINE, "line") \
    X(TRUNCATED, "truncated") X(COLOR, "color") X(RESET, "reset")

enum lj_template_field {
#define LJ_TEMPLATE_ENUM(id, name) LJ_TF_##id,
    LJ_TEMPLATE_FIELDS(LJ_TEMPLATE_ENUM)
#undef LJ_TEMPLATE_ENUM
    LJ_TF_COUNT
};

struct lj_template;

/* The values a line renders with: one string (len bytes, need not be NUL-terminated)
 * per field; a NULL str renders as nothing. */
struct lj_template_values {
    struct { const char *str; size_t len; } v[LJ_TF_COUNT];
};

/* Compiles src. On LJ_OK *out is the caller's (lj_template_destroy). LJ_INVAL with a
 * message naming the unknown field or the position of an unmatched brace. */
lj_status lj_template_create(const char *src, struct lj_template **out, char *err,
                             size_t errlen);
void lj_template_destroy(struct lj_template *t);

/* true when the template uses field f (so the caller can skip preparing the others). */
int lj_template_uses(const struct lj_template *t, enum lj_template_field f);

/* Appends the rendered line, newline included, to out. LJ_NOMEM only. */
lj_status lj_template_render(const struct lj_template *t, const struct lj_template_values *v,
                             struct lj_buf *out);

#endif
