/* buf.h - a growable byte buffer. Embedded in other structs: lj_buf_init/_finish.
 * Always keeps one spare byte so data can be NUL-terminated for C string use. */
#ifndef LJ_BUF_H
#define LJ_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "status.h"

struct lj_buf {
    char *data;  /* NULL until the first append; owned */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated; len < cap whenever data != NULL */
};

void lj_buf_init(struct lj_buf *b);
void lj_buf_finish(struct lj_buf *b);          /* frees data; b is reusable after init */
static inline void lj_buf_reset(struct lj_buf *b) { b->len = 0; }

/* Ensures room for `more` bytes after len (plus the spare byte). LJ_NOMEM on failure. */
lj_status lj_buf_reserve(struct lj_buf *b, size_t more);
lj_status lj_buf_append(struct lj_buf *b, const void *p, size_t n);
lj_status lj_buf_appendf(struct lj_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminates (without counting it in len) and returns data ("" when empty). */
const char *lj_buf_cstr(struct lj_buf *b);

#endif
