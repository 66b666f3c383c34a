/* Unit tests for gateway/ring.c: order, eviction, lookup and the evicted index. */
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

int main(void)
{
    struct lj_ring r;
    uint64_t ln;
    CHECK_INT(lj_ring_init(&r, 4), LJ_OK);
    CHECK_INT(lj_ring_last_seq(&r), 0);
    CHECK_INT(lj_ring_index_after(&r, 0), 0);
    /* seqs 10, 20, ..., line_no 1, 2, ... */
    for (uint64_t i = 1; i <= 10; i++) {
        struct lj_line *l = mk(i * 10, i);
        lj_ring_push(&r, l);
        lj_line_unref(l);
    }
    CHECK_INT(r.count, 4);
    CHECK_INT(lj_ring_at(&r, 0)->seq, 70);
    CHECK_INT(lj_ring_last_seq(&r), 100);
    CHECK_INT(lj_ring_index_after(&r, 0), 0);
    CHECK_INT(lj_ring_index_after(&r, 70), 1);
    CHECK_INT(lj_ring_index_after(&r, 75), 1);
    CHECK_INT(lj_ring_index_after(&r, 100), 4);
    CHECK(lj_ring_line_no(&r, 80, &ln));
    CHECK_INT(ln, 8);
    /* evicted: 10..60 remembered with their line_no */
    CHECK(lj_ring_line_no(&r, 10, &ln));
    CHECK_INT(ln, 1);
    CHECK(lj_ring_line_no(&r, 60, &ln));
    CHECK_INT(ln, 6);
    CHECK(!lj_ring_line_no(&r, 55, &ln));
    CHECK(!lj_ring_line_no(&r, 5, &ln));
    /* the index keeps HISTORY_FACTOR x cap entries */
    for (uint64_t i = 11; i <= 40; i++) {
        struct lj_line *l = mk(i * 10, i);
        lj_ring_push(&r, l);
        lj_line_unref(l);
    }
    CHECK(!lj_ring_line_no(&r, 10, &ln));
    CHECK(lj_ring_line_no(&r, 360, &ln));
    CHECK_INT(ln, 36);
    CHECK(lj_ring_line_no(&r, 210, &ln));
    CHECK_INT(ln, 21);
    CHECK(!lj_ring_line_no(&r, 200, &ln));
    /* a break in line_no restarts the index */
    for (uint64_t k = 0; k < 4; k++) {   /* evicts 370..400: still contiguous */
        struct lj_line *l = mk(1000 + k * 10, 500 + k);
        lj_ring_push(&r, l);
        lj_line_unref(l);
    }
    CHECK(lj_ring_line_no(&r, 400, &ln));
    CHECK_INT(ln, 40);
    struct lj_line *l = mk(1040, 504);   /* evicts seq 1000, line 500: a break */
    lj_ring_push(&r, l);
    lj_line_unref(l);
    CHECK(!lj_ring_line_no(&r, 400, &ln));
    CHECK(lj_ring_line_no(&r, 1000, &ln));
    CHECK_INT(ln, 500);
    lj_ring_finish(&r);
    CHECK_DONE();
}
