/* fifo.h - a FIFO of fixed-size elements in a power-of-two ring that grows by copying:
 * push at the back, pop at the front, and any held element by its position.
 *
 * Every element pushed gets an absolute index (0, 1, 2, ... since lj_fifo_init); the
 * FIFO holds the elements [tail, head) and element i lives in slot i & (cap - 1), so
 * an index stays valid while the element is held, across growth and shrinking.
 * lj_fifo_peek counts from the front instead (k = i - tail). The storage doubles when
 * a push finds it full and is changed on request (lj_fifo_resize: a burst's storage
 * given back, or the first storage reserved); each move copies the held elements in
 * at most a few contiguous runs.
 *
 * It stores bytes, not objects: it never looks inside an element, so whatever an
 * element owns is released by the caller before it pops or finishes. Not locked:
 * one thread at a time, the caller's. Embedded: lj_fifo_init / lj_fifo_finish.
 */
#ifndef LJ_FIFO_H
#define LJ_FIFO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Storage a push into an empty FIFO without any gets (elements). */
#define LJ_FIFO_MIN_CAP 4

/* 32 bytes, embedded in every session: the sizes are 32 bits (2^31 elements at most). */
struct lj_fifo {
    unsigned char *slots;   /* owned, cap * esize bytes; NULL while cap is 0 */
    uint32_t esize;         /* bytes of one element, > 0 */
    uint32_t cap;           /* slots: 0 or a power of two, >= head - tail */
    uint64_t tail, head;    /* held elements [tail, head) by absolute index */
};

/* An empty FIFO of esize-byte elements, without storage (nothing allocated). */
void lj_fifo_init(struct lj_fifo *q, uint32_t esize);

/* Frees the storage. The elements are not looked at: release what they own first. */
void lj_fifo_finish(struct lj_fifo *q);

/* Moves the held elements into new storage of cap slots: cap is a power of two not
 * below lj_fifo_len(q), or 0 for an empty FIFO (its storage is freed). LJ_NOMEM (also
 * for cap over 2^31) leaves q as it was. */
lj_status lj_fifo_resize(struct lj_fifo *q, size_t cap);

/* Doubles the storage (LJ_FIFO_MIN_CAP slots when there is none). LJ_NOMEM leaves q as
 * it was (also at 2^31 slots). */
lj_status lj_fifo_grow(struct lj_fifo *q);

static inline size_t lj_fifo_len(const struct lj_fifo *q)
{
    return (size_t)(q->head - q->tail);
}

/* The element of absolute index i, tail <= i < head. */
static inline void *lj_fifo_at(const struct lj_fifo *q, uint64_t i)
{
    assert(i >= q->tail && i < q->head);
    return q->slots + (size_t)(i & (q->cap - 1)) * q->esize;
}

/* The k-th held element from the front, k < lj_fifo_len(q). */
static inline void *lj_fifo_peek(const struct lj_fifo *q, size_t k)
{
    return lj_fifo_at(q, q->tail + k);
}

/* Room for one element at the back (index head, held from now on), or NULL when the
 * FIFO was full and could not grow (nothing pushed). The slot's bytes are left as
 * they were: the caller writes the whole element. */
static inline void *lj_fifo_push(struct lj_fifo *q)
{
    if (lj_fifo_len(q) == q->cap && lj_fifo_grow(q) != LJ_OK)
        return NULL;
    return q->slots + (size_t)(q->head++ & (q->cap - 1)) * q->esize;
}

/* Drops the front element (the caller has released what it owns). Not empty. */
static inline void lj_fifo_pop(struct lj_fifo *q)
{
    assert(q->tail < q->head);
    q->tail++;
}

#endif
