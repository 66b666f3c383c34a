/* Unit tests for gateway/ring.c: absolute indexes, the window, retention beyond it,
 * eviction, byte accounting, growth and shrinking, lookup and the evicted index. */
#include "check.h"
#include "ring.h"

static struct lj_line *mk(uint64_t seq, uint64_t line_no)
{
    lj_pb_record r = LOGJET__V1__LOG_RECORD__INIT;
    struct lj_line *l = NULL;
    r.host = "h";
    r.container = "c";
    r.line_no = line_no;
    lj_line_create(&r, seq, &l);
    return l;
}

/* Appends seq, line_no and keeps at most depth lines (what a hub with no reader does). */
static void push_keep(struct lj_ring *r, uint64_t seq, uint64_t line_no)
{
    struct lj_line *l = mk(seq, line_no);
    CHECK_INT(lj_ring_push(r, l), LJ_OK);
    lj_line_unref(l);
    while (lj_ring_count(r) > r->depth)
        lj_ring_evict(r);
}

static void test_window(void)
{
    struct lj_ring r;
    uint64_t ln;
    CHECK_INT(lj_ring_init(&r, 4), LJ_OK);
    CHECK_INT(lj_ring_last_seq(&r), 0);
    CHECK_INT(lj_ring_index_after(&r, 0), 0);
    CHECK_INT(lj_ring_window_start(&r), 0);
    /* seqs 10, 20, ..., line_no 1, 2, ... */
    for (uint64_t i = 1; i <= 10; i++)
        push_keep(&r, i * 10, i);
    CHECK_INT(lj_ring_count(&r), 4);
    CHECK_INT(r.lines.tail, 6);
    CHECK_INT(r.lines.head, 10);
    CHECK_INT(lj_ring_window_start(&r), 6);
    CHECK_INT(lj_ring_get(&r, 6)->seq, 70);
    CHECK_INT(lj_ring_last_seq(&r), 100);
    CHECK_INT(lj_ring_index_after(&r, 0), 6);
    CHECK_INT(lj_ring_index_after(&r, 70), 7);
    CHECK_INT(lj_ring_index_after(&r, 75), 7);
    CHECK_INT(lj_ring_index_after(&r, 100), 10);
    CHECK(lj_ring_line_no(&r, 80, &ln));
    CHECK_INT(ln, 8);
    /* left the window: 10..60 remembered with their line_no */
    CHECK(lj_ring_line_no(&r, 10, &ln));
    CHECK_INT(ln, 1);
    CHECK(lj_ring_line_no(&r, 60, &ln));
    CHECK_INT(ln, 6);
    CHECK(!lj_ring_line_no(&r, 55, &ln));
    CHECK(!lj_ring_line_no(&r, 5, &ln));
    /* the newest line at or before a seq of another container (seqs interleave) */
    CHECK(lj_ring_line_no_at_or_before(&r, 85, &ln));
    CHECK_INT(ln, 8);
    CHECK(lj_ring_line_no_at_or_before(&r, 100, &ln));
    CHECK_INT(ln, 10);
    CHECK(lj_ring_line_no_at_or_before(&r, 1000, &ln));
    CHECK_INT(ln, 10);
    CHECK(lj_ring_line_no_at_or_before(&r, 55, &ln));
    CHECK_INT(ln, 5);
    CHECK(lj_ring_line_no_at_or_before(&r, 65, &ln));
    CHECK_INT(ln, 6);
    CHECK(lj_ring_line_no_at_or_before(&r, 10, &ln));
    CHECK_INT(ln, 1);
    CHECK(!lj_ring_line_no_at_or_before(&r, 5, &ln));
    /* the index keeps HISTORY_FACTOR x depth entries */
    for (uint64_t i = 11; i <= 40; i++)
        push_keep(&r, i * 10, i);
    CHECK(!lj_ring_line_no(&r, 10, &ln));
    CHECK(lj_ring_line_no(&r, 360, &ln));
    CHECK_INT(ln, 36);
    CHECK(lj_ring_line_no(&r, 210, &ln));
    CHECK_INT(ln, 21);
    CHECK(!lj_ring_line_no(&r, 200, &ln));
    /* a break in line_no restarts the index */
    for (uint64_t k = 0; k < 4; k++)   /* 370..400 leave the window: still contiguous */
        push_keep(&r, 1000 + k * 10, 500 + k);
    CHECK(lj_ring_line_no(&r, 400, &ln));
    CHECK_INT(ln, 40);
    push_keep(&r, 1040, 504);          /* seq 1000, line 500 leaves: a break */
    CHECK(!lj_ring_line_no(&r, 400, &ln));
    CHECK(lj_ring_line_no(&r, 1000, &ln));
    CHECK_INT(ln, 500);
    lj_ring_finish(&r);
}

/* Lines kept beyond the window (for a lagging reader): indexes stay stable while the
 * storage grows, the window still means the newest depth lines, bytes add up. */
static void test_retention(void)
{
    struct lj_ring r;
    uint64_t json = 0, ln;
    CHECK_INT(lj_ring_init(&r, 4), LJ_OK);
    uint32_t cap0 = r.lines.cap;
    CHECK(cap0 > 4 && (cap0 & (cap0 - 1)) == 0);
    for (uint64_t i = 1; i <= 1000; i++) {
        struct lj_line *l = mk(i * 2, i);
        json += l->json_len;
        CHECK_INT(lj_ring_push(&r, l), LJ_OK);
        lj_line_unref(l);
    }
    CHECK_INT(r.lines.tail, 0);
    CHECK_INT(r.lines.head, 1000);
    CHECK(r.lines.cap >= 1000);
    CHECK_INT(lj_ring_window_start(&r), 996);
    CHECK_INT(lj_ring_get(&r, 0)->seq, 2);
    CHECK_INT(lj_ring_get(&r, 999)->seq, 2000);
    CHECK_INT(lj_ring_bytes_from(&r, 0), json);
    CHECK_INT(lj_ring_bytes_from(&r, 999), lj_ring_get(&r, 999)->json_len);
    CHECK_INT(lj_ring_bytes_from(&r, 1000), 0);
    /* resume and replay see only the window */
    CHECK_INT(lj_ring_index_after(&r, 0), 996);
    CHECK_INT(lj_ring_index_after(&r, 1993), 996);
    CHECK_INT(lj_ring_index_after(&r, 1994), 997);
    /* a seq outside the window but still retained: known from the evicted index
     * (its last 4 x depth entries) */
    CHECK(lj_ring_line_no(&r, 1992, &ln));
    CHECK_INT(ln, 996);
    CHECK(lj_ring_line_no(&r, 1962, &ln));
    CHECK_INT(ln, 981);
    CHECK(!lj_ring_line_no(&r, 1960, &ln));
    /* evicting moves the tail; bytes before it no longer count */
    uint64_t first = lj_ring_get(&r, 0)->json_len;
    lj_ring_evict(&r);
    CHECK_INT(r.lines.tail, 1);
    CHECK_INT(lj_ring_bytes_from(&r, 0), json - first);
    CHECK_INT(lj_ring_bytes_from(&r, 1), json - first);
    while (lj_ring_count(&r) > 4)
        lj_ring_evict(&r);
    lj_ring_shrink(&r);
    CHECK_INT(r.lines.cap, cap0);
    CHECK_INT(lj_ring_get(&r, 996)->seq, 1994);
    CHECK_INT(lj_ring_get(&r, 999)->seq, 2000);
    CHECK_INT(lj_ring_last_seq(&r), 2000);
    lj_ring_finish(&r);
}

int main(void)
{
    test_window();
    test_retention();
    CHECK_DONE();
}
