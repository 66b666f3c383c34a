/* ring.c - the growable log of shared lines with absolute indexes, binary search by
 * seq over its window, and the index of seqs that left the window. It does not know
 * cursors or viewers: the hub decides what to evict. */
#include "ring.h"

#include <stdlib.h>

/* Smallest power of two greater than depth (at least 16). */
static uint32_t cap_for(uint32_t depth)
{
    uint32_t cap = 16;
    while (cap <= depth)
        cap *= 2;
    return cap;
}

lj_status lj_ring_init(struct lj_ring *r, uint32_t depth)
{
    assert(depth >= 1);
    *r = (struct lj_ring){ .depth = depth, .old_cap = depth * LJ_RING_HISTORY_FACTOR };
    lj_fifo_init(&r->lines, sizeof(struct lj_ring_slot));
    r->old = calloc(r->old_cap, sizeof(*r->old));
    return lj_fifo_resize(&r->lines, cap_for(depth)) == LJ_OK && r->old ? LJ_OK : LJ_NOMEM;
}

void lj_ring_finish(struct lj_ring *r)
{
    while (lj_ring_count(r))
        lj_ring_evict(r);
    lj_fifo_finish(&r->lines);
    free(r->old);
    *r = (struct lj_ring){ 0 };
}

/* Records a line leaving the window; a break in line_no restarts the index. The index
 * (old, old_cap seqs) is not a common/fifo: it never grows, holds exactly depth x
 * LJ_RING_HISTORY_FACTOR seqs (not a power of two) and overwrites its oldest. */
static void remember(struct lj_ring *r, const struct lj_line *l)
{
    if (r->old_count && l->line_no != r->old_last_line_no + 1)
        r->old_count = 0;
    if (r->old_count == r->old_cap) {
        r->old_head = (r->old_head + 1) % r->old_cap;
        r->old_count--;
    }
    r->old[(r->old_head + r->old_count) % r->old_cap] = l->seq;
    r->old_count++;
    r->old_last_line_no = l->line_no;
}

lj_status lj_ring_push(struct lj_ring *r, struct lj_line *line)
{
    assert(line->seq > lj_ring_last_seq(r));
    struct lj_ring_slot *s = lj_fifo_push(&r->lines);   /* grows when full */
    if (!s)
        return LJ_NOMEM;
    lj_line_ref(line);
    *s = (struct lj_ring_slot){ line, r->bytes_in };
    r->bytes_in += line->json_len;
    /* The line depth places back from the newest just left the window. */
    if (lj_ring_count(r) > r->depth)
        remember(r, lj_ring_get(r, r->lines.head - r->depth - 1));
    return LJ_OK;
}

void lj_ring_evict(struct lj_ring *r)
{
    struct lj_ring_slot *s = lj_fifo_peek(&r->lines, 0);
    lj_line_unref(s->line);
    s->line = NULL;
    lj_fifo_pop(&r->lines);
}

void lj_ring_shrink(struct lj_ring *r)
{
    uint32_t ncap = r->lines.cap, floor = cap_for(r->depth);
    while (ncap > floor && lj_ring_count(r) <= ncap / 4)
        ncap /= 2;
    if (ncap != r->lines.cap)
        lj_fifo_resize(&r->lines, ncap);   /* on failure the larger storage simply stays */
}

uint64_t lj_ring_last_seq(const struct lj_ring *r)
{
    return lj_ring_count(r) ? lj_ring_get(r, r->lines.head - 1)->seq : 0;
}

uint64_t lj_ring_index_after(const struct lj_ring *r, uint64_t after)
{
    uint64_t lo = lj_ring_window_start(r), hi = r->lines.head;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (lj_ring_get(r, mid)->seq <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The evicted index, oldest first: entry k (0-based) holds a seq and, its line_no
 * values being contiguous, line_no old_last_line_no - (old_count - 1 - k). */
static uint64_t old_seq(const struct lj_ring *r, uint32_t k)
{
    return r->old[(r->old_head + k) % r->old_cap];
}

/* How many entries of the evicted index have a seq <= seq (binary search). */
static uint32_t old_upto(const struct lj_ring *r, uint64_t seq)
{
    uint32_t lo = 0, hi = r->old_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (old_seq(r, mid) <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* line_no of the n-th entry (1-based) of the evicted index. */
static uint64_t old_line_no(const struct lj_ring *r, uint32_t n)
{
    return r->old_last_line_no - (r->old_count - n);
}

bool lj_ring_line_no_at_or_before(const struct lj_ring *r, uint64_t seq, uint64_t *line_no)
{
    uint64_t i = lj_ring_index_after(r, seq);
    if (i > lj_ring_window_start(r)) {
        *line_no = lj_ring_get(r, i - 1)->line_no;
        return true;
    }
    uint32_t n = old_upto(r, seq);    /* before the window: the evicted index */
    if (n == 0)
        return false;
    *line_no = old_line_no(r, n);
    return true;
}

bool lj_ring_line_no(const struct lj_ring *r, uint64_t seq, uint64_t *line_no)
{
    uint64_t i = seq ? lj_ring_index_after(r, seq - 1) : r->lines.head;
    if (i < r->lines.head && lj_ring_get(r, i)->seq == seq) {
        *line_no = lj_ring_get(r, i)->line_no;
        return true;
    }
    uint32_t n = old_upto(r, seq);
    if (n == 0 || old_seq(r, n - 1) != seq)
        return false;
    *line_no = old_line_no(r, n);
    return true;
}
