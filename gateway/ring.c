/* ring.c - fixed-capacity ring of shared lines with binary search by seq. */
#include "ring.h"

#include <assert.h>
#include <stdlib.h>

lj_status lj_ring_init(struct lj_ring *r, uint32_t cap)
{
    assert(cap >= 1);
    *r = (struct lj_ring){ .cap = cap, .old_cap = cap * LJ_RING_HISTORY_FACTOR };
    r->slots = calloc(cap, sizeof(*r->slots));
    r->old = calloc(r->old_cap, sizeof(*r->old));
    return r->slots && r->old ? LJ_OK : LJ_NOMEM;
}

void lj_ring_finish(struct lj_ring *r)
{
    for (uint32_t i = 0; r->slots && i < r->count; i++)
        lj_line_unref(lj_ring_at(r, i));
    free(r->slots);
    free(r->old);
    *r = (struct lj_ring){ 0 };
}

/* Records an evicted line; a break in line_no restarts the index. */
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

void lj_ring_push(struct lj_ring *r, struct lj_line *line)
{
    assert(line->seq > lj_ring_last_seq(r));
    if (r->count == r->cap) {
        struct lj_line *oldest = r->slots[r->head];
        remember(r, oldest);
        lj_line_unref(oldest);
        r->head = (r->head + 1) % r->cap;
        r->count--;
    }
    lj_line_ref(line);
    r->slots[(r->head + r->count) % r->cap] = line;
    r->count++;
}

uint64_t lj_ring_last_seq(const struct lj_ring *r)
{
    return r->count ? lj_ring_at(r, r->count - 1)->seq : 0;
}

uint32_t lj_ring_index_after(const struct lj_ring *r, uint64_t after)
{
    uint32_t lo = 0, hi = r->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lj_ring_at(r, mid)->seq <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Binary search of the evicted index; its line_no values are contiguous. */
static bool old_line_no(const struct lj_ring *r, uint64_t seq, uint64_t *line_no)
{
    uint32_t lo = 0, hi = r->old_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t s = r->old[(r->old_head + mid) % r->old_cap];
        if (s == seq) {
            *line_no = r->old_last_line_no - (r->old_count - 1 - mid);
            return true;
        }
        if (s < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool lj_ring_line_no(const struct lj_ring *r, uint64_t seq, uint64_t *line_no)
{
    uint32_t i = lj_ring_index_after(r, seq - 1);
    if (seq && i < r->count && lj_ring_at(r, i)->seq == seq) {
        *line_no = lj_ring_at(r, i)->line_no;
        return true;
    }
    return old_line_no(r, seq, line_no);
}
