/* merge.h - the reorder window: lines of many containers merged by Docker timestamp.
 *
 * Each source (a container) keeps its own items in arrival order, which for a
 * container is stream order; a min-heap orders the sources by the timestamp of their
 * oldest item. The merge releases the oldest-timestamped head once it has waited
 * `delay` since it arrived, so two lines that arrive within `delay` of each other come
 * out in timestamp order, whatever the clocks of their hosts. A line that arrives
 * later than that behind a newer one already released comes out at once, out of
 * order, never dropped. Within one source the order is always arrival order.
 * A bound on the items held forces the oldest out early (memory stays bounded at any
 * input rate). Items are the caller's: embed struct lj_merge_item and free them after
 * lj_merge_pop. Pure and single-threaded.
 */
#ifndef LJ_MERGE_H
#define LJ_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct lj_merge_item {
    struct lj_merge_item *next;   /* the source's FIFO */
    int64_t ts_ns;                /* the merge key: Docker's timestamp */
    int64_t arrived_ns;           /* monotonic clock when it reached the merge */
    uint64_t order;               /* tie-break: arrival order across all sources */
};

struct lj_merge_src {
    struct lj_merge_item *head, *tail;
    size_t heap_pos;              /* index in the heap, or SIZE_MAX when empty */
};

struct lj_merge {
    struct lj_merge_src **heap;   /* min-heap by (head->ts_ns, head->order) */
    size_t n, cap;
    size_t items;                 /* items held, all sources */
    size_t max_items;             /* past this, the oldest head is released early */
    uint64_t next_order;
};

void lj_merge_init(struct lj_merge *m, size_t max_items);
/* Frees the heap only; items still held remain the caller's. */
void lj_merge_finish(struct lj_merge *m);
void lj_merge_src_init(struct lj_merge_src *s);
static inline bool lj_merge_src_empty(const struct lj_merge_src *s) { return s->head == NULL; }

/* Appends item to src, with its timestamp and arrival time. LJ_NOMEM when the heap
 * cannot grow (item is then not held). */
lj_status lj_merge_push(struct lj_merge *m, struct lj_merge_src *src, struct lj_merge_item *item,
                        int64_t ts_ns, int64_t arrived_ns);

/* Like lj_merge_push, but item goes before the first item of src whose timestamp is
 * at or after ts_ns (at the end when none): for a line that belongs before lines that
 * overtook it (a container's start, heard of after its first lines). */
lj_status lj_merge_insert(struct lj_merge *m, struct lj_merge_src *src, struct lj_merge_item *item,
                          int64_t ts_ns, int64_t arrived_ns);

/* The next item to print, or NULL when none is due: the head with the smallest
 * timestamp, if it arrived at least delay_ns before now_ns, or if flush is true, or if
 * more than max_items are held. *src gets its source. */
struct lj_merge_item *lj_merge_pop(struct lj_merge *m, int64_t now_ns, int64_t delay_ns,
                                   bool flush, struct lj_merge_src **src);

/* When the next item becomes due (monotonic ns); INT64_MAX when nothing is held. */
int64_t lj_merge_deadline(const struct lj_merge *m, int64_t delay_ns);

#endif
