/* buf.c - growable byte buffer, doubling growth. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lj_buf_init(struct lj_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void lj_buf_finish(struct lj_buf *b)
{
    free(b->data);
    lj_buf_init(b);
}

lj_status lj_buf_reserve(struct lj_buf *b, size_t more)
{
    if (more >= ((size_t)-1) / 2 - b->len)
        return LJ_NOMEM;
    size_t need = b->len + more + 1;
    if (need <= b->cap)
        return LJ_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return LJ_NOMEM;
    b->data = p;
    b->cap = cap;
    return LJ_OK;
}

lj_status lj_buf_append(struct lj_buf *b, const void *p, size_t n)
{
    if (lj_buf_reserve(b, n) != LJ_OK)
        return LJ_NOMEM;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return LJ_OK;
}

lj_status lj_buf_appendf(struct lj_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || lj_buf_reserve(b, (size_t)n) != LJ_OK)
        return LJ_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LJ_OK;
}

const char *lj_buf_cstr(struct lj_buf *b)
{
    if (b->data == NULL)
        return "";
    b->data[b->len] = '\0';
    return b->data;
}
