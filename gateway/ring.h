/* ring.h - one container's lines in stream order, each at an absolute index: the
 * log that every viewer of the container reads through its own cursor.
 *
 * Indexes count the lines appended since the ring was created (0, 1, 2, ...); the
 * ring retains the lines [tail, head). The newest `depth` of them are the window:
 * what a replay or a resume may see, exactly the old fixed ring of `depth` lines.
 * Lines older than the window stay as long as the owner (the hub) keeps them for a
 * viewer that has not read them yet; the owner decides when the oldest goes
 * (lj_ring_evict), so the ring itself never drops a line behind anyone's back.
 *
 * The lines are a common/fifo of slots, whose absolute indexes are the ring's: the
 * retained lines are [lines.tail, lines.head) ("tail" and "head" below).
 * Invariants (asserted): seq strictly increases with the index; tail <= head;
 * the storage (lines.cap) is a power of two > depth, so the window always fits
 * without growing. The ring
 * holds one reference on each retained line and knows the bytes of their JSON
 * (lj_ring_bytes_from), so a cursor's distance from the head is known in bytes.
 * The evicted index remembers, for up to LJ_RING_HISTORY_FACTOR x depth lines that
 * left the window most recently with contiguous line_no, their seq, so that a client
 * resuming from a seq outside the window gets an exact `lost`.
 * Service thread only.
 */
#ifndef LJ_RING_H
#define LJ_RING_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "line.h"
#include "status.h"

#define LJ_RING_HISTORY_FACTOR 4

struct lj_ring_slot {
    struct lj_line *line;     /* one reference */
    uint64_t off;             /* JSON bytes appended before this line (ever) */
};

struct lj_ring {
    struct lj_fifo lines;        /* struct lj_ring_slot: retained lines [lines.tail,
                                    lines.head); head = next index; cap > depth */
    uint32_t depth;              /* window: the newest `depth` lines */
    uint64_t bytes_in;           /* JSON bytes appended ever */
    uint64_t *old;               /* seqs that left the window, circular, old_cap entries */
    uint32_t old_cap, old_head, old_count;
    uint64_t old_last_line_no;   /* line_no of the newest entry of old */
};

/* depth >= 1. LJ_NOMEM on failure (the ring is then safe to finish). */
lj_status lj_ring_init(struct lj_ring *r, uint32_t depth);
void lj_ring_finish(struct lj_ring *r);   /* drops every reference */

/* Appends line (takes a new reference) at index head. line->seq must be greater than
 * lj_ring_last_seq(r). Grows the storage when full; LJ_NOMEM (nothing appended) when
 * that fails, which can only happen while more than depth lines are retained: evict
 * and retry. */
lj_status lj_ring_push(struct lj_ring *r, struct lj_line *line);

/* Drops the oldest retained line (tail++). The ring must not be empty. */
void lj_ring_evict(struct lj_ring *r);

/* Gives back storage a burst grew (count <= cap / 4), keeping cap > depth. */
void lj_ring_shrink(struct lj_ring *r);

static inline uint64_t lj_ring_count(const struct lj_ring *r) { return lj_fifo_len(&r->lines); }

/* The slot of absolute index i, tail <= i < head. */
static inline struct lj_ring_slot *lj_ring_slot_at(const struct lj_ring *r, uint64_t i)
{
    return lj_fifo_at(&r->lines, i);
}

/* The line at absolute index i, tail <= i < head. */
static inline struct lj_line *lj_ring_get(const struct lj_ring *r, uint64_t i)
{
    return lj_ring_slot_at(r, i)->line;
}

/* JSON bytes of the retained lines from index i (clamped to tail) to the head. */
static inline uint64_t lj_ring_bytes_from(const struct lj_ring *r, uint64_t i)
{
    if (i < r->lines.tail)
        i = r->lines.tail;
    return i >= r->lines.head ? 0 : r->bytes_in - lj_ring_slot_at(r, i)->off;
}

/* Index of the oldest line of the window. */
static inline uint64_t lj_ring_window_start(const struct lj_ring *r)
{
    return lj_ring_count(r) > r->depth ? r->lines.head - r->depth : r->lines.tail;
}

/* seq of the newest line, 0 when empty. */
uint64_t lj_ring_last_seq(const struct lj_ring *r);

/* Index of the first line of the window with seq > after (head when none). */
uint64_t lj_ring_index_after(const struct lj_ring *r, uint64_t after);

/* line_no of the line stored at seq, from the window or the evicted index; false when
 * unknown. */
bool lj_ring_line_no(const struct lj_ring *r, uint64_t seq, uint64_t *line_no);

/* line_no of the newest line with a seq <= seq (seq need not be one of this ring's:
 * stream sequences interleave containers), from the window or the evicted index;
 * false when unknown (older than both). */
bool lj_ring_line_no_at_or_before(const struct lj_ring *r, uint64_t seq, uint64_t *line_no);

#endif
