/* fifo.c - the FIFO's storage moves (fifo.h): a new block, the held elements copied
 * in contiguous runs so that element i stays at slot i & (cap - 1), the old freed.
 * Everything else is inline in the header.
 */
#include "fifo.h"

#include <stdlib.h>
#include <string.h>

void lj_fifo_init(struct lj_fifo *q, uint32_t esize)
{
    assert(esize > 0);
    *q = (struct lj_fifo){ .esize = esize };
}

void lj_fifo_finish(struct lj_fifo *q)
{
    free(q->slots);
    q->slots = NULL;
    q->cap = 0;
    q->tail = q->head;
}

lj_status lj_fifo_resize(struct lj_fifo *q, size_t cap)
{
    unsigned char *n = NULL;
    assert((cap & (cap - 1)) == 0 && cap >= lj_fifo_len(q));
    if (cap > (size_t)1 << 31 || (cap > 0 && !(n = malloc(cap * q->esize))))
        return LJ_NOMEM;
    /* Runs that are contiguous in both the old and the new storage: at most three
     * (the old wraps once, the new at most once). */
    for (uint64_t i = q->tail; i < q->head;) {
        size_t from = (size_t)(i & (q->cap - 1)), to = (size_t)(i & (cap - 1));
        size_t run = (size_t)(q->head - i);
        if (run > q->cap - from)
            run = q->cap - from;
        if (run > cap - to)
            run = cap - to;
        memcpy(n + to * q->esize, q->slots + from * q->esize, run * q->esize);
        i += run;
    }
    free(q->slots);
    q->slots = n;
    q->cap = (uint32_t)cap;
    return LJ_OK;
}

lj_status lj_fifo_grow(struct lj_fifo *q)
{
    return lj_fifo_resize(q, q->cap ? (size_t)q->cap * 2 : LJ_FIFO_MIN_CAP);
}
