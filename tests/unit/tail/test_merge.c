/* Unit tests for tail/merge.c: the reorder window. */
#include <stdint.h>

#include "check.h"
#include "merge.h"

#define MS 1000000LL

struct it { struct lj_merge_item m; int id; };

static struct it items[100000];

/* Pops every due item at now into ids (returns count). */
static int pop_all(struct lj_merge *m, int64_t now, int64_t delay, bool flush, int *ids)
{
    struct lj_merge_src *src;
    struct lj_merge_item *x;
    int n = 0;
    while ((x = lj_merge_pop(m, now, delay, flush, &src)) != NULL)
        ids[n++] = ((struct it *)x)->id;
    return n;
}

static void push(struct lj_merge *m, struct lj_merge_src *s, int id, int64_t ts, int64_t at)
{
    items[id].id = id;
    CHECK_INT(lj_merge_push(m, s, &items[id].m, ts, at), LJ_OK);
}

int main(void)
{
    struct lj_merge m;
    struct lj_merge_src a, b, c;
    int ids[100000], n;

    /* Two hosts: b's older line arrives 100 ms after a's newer one, within a 250 ms window. */
    lj_merge_init(&m, 1000);
    lj_merge_src_init(&a); lj_merge_src_init(&b);
    push(&m, &a, 1, 2000 * MS, 0);
    CHECK_INT(pop_all(&m, 100 * MS, 250 * MS, false, ids), 0);      /* not due yet */
    push(&m, &b, 2, 1990 * MS, 100 * MS);
    CHECK_INT(lj_merge_deadline(&m, 250 * MS), 350 * MS);           /* b's head is the min */
    CHECK_INT(pop_all(&m, 300 * MS, 250 * MS, false, ids), 0);
    n = pop_all(&m, 350 * MS, 250 * MS, false, ids);
    CHECK_INT(n, 2); CHECK_INT(ids[0], 2); CHECK_INT(ids[1], 1);
    CHECK_INT(lj_merge_deadline(&m, 250 * MS), INT64_MAX);

    /* Later than the window: printed at once, out of order, never dropped. */
    push(&m, &a, 3, 3000 * MS, 1000 * MS);
    CHECK_INT(pop_all(&m, 1300 * MS, 250 * MS, false, ids), 1);
    push(&m, &b, 4, 2500 * MS, 1400 * MS);
    CHECK_INT(pop_all(&m, 1650 * MS, 250 * MS, false, ids), 1); CHECK_INT(ids[0], 4);

    /* Within one source, arrival order wins over timestamps (stdout/stderr skew). */
    push(&m, &a, 5, 5000 * MS, 2000 * MS);
    push(&m, &a, 6, 4000 * MS, 2000 * MS);
    push(&m, &b, 7, 4500 * MS, 2000 * MS);
    n = pop_all(&m, 0, 0, true, ids);
    CHECK_INT(n, 3); CHECK_INT(ids[0], 7); CHECK_INT(ids[1], 5); CHECK_INT(ids[2], 6);

    /* Equal timestamps: arrival order. */
    push(&m, &a, 8, 100, 0); push(&m, &b, 9, 100, 0); push(&m, &a, 10, 100, 0);
    n = pop_all(&m, 0, 0, true, ids);
    CHECK_INT(n, 3); CHECK_INT(ids[0], 8); CHECK_INT(ids[1], 9); CHECK_INT(ids[2], 10);
    lj_merge_finish(&m);

    /* Insert: before the first item at or after its timestamp, the head included. */
    push(&m, &a, 11, 500, 0); push(&m, &a, 12, 700, 0); push(&m, &b, 13, 450, 0);
    CHECK_INT(lj_merge_insert(&m, &a, &items[14].m, 600, 0), LJ_OK); items[14].id = 14;
    CHECK_INT(lj_merge_insert(&m, &a, &items[15].m, 400, 0), LJ_OK); items[15].id = 15;
    CHECK_INT(lj_merge_insert(&m, &a, &items[16].m, 900, 0), LJ_OK); items[16].id = 16;
    n = pop_all(&m, 0, 0, true, ids);
    CHECK_INT(n, 6);
    CHECK_INT(ids[0], 15); CHECK_INT(ids[1], 13); CHECK_INT(ids[2], 11); CHECK_INT(ids[3], 14);
    CHECK_INT(ids[4], 12); CHECK_INT(ids[5], 16);
    CHECK_INT(lj_merge_insert(&m, &b, &items[17].m, 1, 0), LJ_OK);    /* into an empty source */
    CHECK_INT(pop_all(&m, 0, 0, true, ids), 1);
    lj_merge_finish(&m);

    /* The bound: past max_items the oldest goes out early. */
    lj_merge_init(&m, 3);
    lj_merge_src_init(&a);
    for (int i = 0; i < 5; i++)
        push(&m, &a, 20 + i, i, 0);
    n = pop_all(&m, 0, 1000 * MS, false, ids);
    CHECK_INT(n, 2); CHECK_INT(ids[0], 20); CHECK_INT(ids[1], 21);
    CHECK_INT(m.items, 3);
    CHECK_INT(pop_all(&m, 0, 0, true, ids), 3);
    lj_merge_finish(&m);

    /* Many sources, shuffled timestamps, each source increasing: the output is sorted. */
    lj_merge_init(&m, 1000000);
    static struct lj_merge_src srcs[300];
    for (int s = 0; s < 300; s++)
        lj_merge_src_init(&srcs[s]);
    uint32_t seed = 12345;
    int64_t next_ts[300] = { 0 };
    for (int i = 0; i < 30000; i++) {
        seed = seed * 1103515245u + 12345u;
        int s = (int)((seed >> 8) % 300);
        next_ts[s] += 1 + (seed >> 20) % 1000;
        push(&m, &srcs[s], 100 + i, next_ts[s], 0);
    }
    n = pop_all(&m, 0, 0, true, ids);
    CHECK_INT(n, 30000);
    int sorted = 1;
    for (int i = 1; i < n; i++)
        if (items[ids[i]].m.ts_ns < items[ids[i - 1]].m.ts_ns)
            sorted = 0;
    CHECK(sorted);
    CHECK_INT(c.heap_pos = 0, 0);
    lj_merge_finish(&m);
    CHECK_DONE();
}
