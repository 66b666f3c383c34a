/* ring.h - the last `depth` lines of one container, in stream order, plus the
 * sequence numbers of lines that fell out of it.
 *
 * Invariants (asserted): seq strictly increases from oldest to newest; count <= cap.
 * The ring holds one reference on each line. The evicted index remembers, for up to
 * LJ_RING_HISTORY_FACTOR x cap lines evicted most recently with contiguous line_no,
 * their seq, so that a client resuming from an evicted seq gets an exact `lost`.
 * Service thread only.
 */
#ifndef LJ_RING_H
#define LJ_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "status.h"

#define LJ_RING_HISTORY_FACTOR 4

struct lj_ring {
    struct lj_line **slots;   /* owned array of cap; slots[(head + i) % cap], i < count */
    uint32_t cap, head, count;
    uint64_t *old;            /* evicted seqs, circular, old_cap entries */
    uint32_t old_cap, old_head, old_count;
    uint64_t old_last_line_no;   /* line_no of the newest evicted seq */
};

/* cap >= 1. LJ_NOMEM on failure (ring then safe to finish). */
lj_status lj_ring_init(struct lj_ring *r, uint32_t cap);
void lj_ring_finish(struct lj_ring *r);   /* drops every reference */

/* Appends line (takes a new reference); evicts the oldest when full.
 * line->seq must be greater than lj_ring_last_seq(r). */
void lj_ring_push(struct lj_ring *r, struct lj_line *line);

static inline struct lj_line *lj_ring_at(const struct lj_ring *r, uint32_t i)
{
    return r->slots[(r->head + i) % r->cap];
}

/* seq of the newest line, 0 when empty. */
uint64_t lj_ring_last_seq(const struct lj_ring *r);

/* Index of the first line with seq > after (count when none). */
uint32_t lj_ring_index_after(const struct lj_ring *r, uint64_t after);

/* line_no of the line stored at seq, from the ring or the evicted index; false when
 * unknown. */
bool lj_ring_line_no(const struct lj_ring *r, uint64_t seq, uint64_t *line_no);

#endif
