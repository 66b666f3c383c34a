/* Unit tests for common/fifo.c: order kept through pushes, pops and every storage move,
 * growth while the held elements wrap around the end of the storage, shrinking,
 * absolute indexes that stay valid, and a failed move that changes nothing. A random
 * run checks it all against a plain array (seed printed, LJ_TEST_SEED to repeat). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fifo.h"

/* An element whose every byte depends on its value, so a torn copy shows. */
struct elem {
    uint64_t v;
    char tag[13];
};

static struct elem make(uint64_t v)
{
    struct elem e = { .v = v };
    for (size_t i = 0; i < sizeof(e.tag); i++)
        e.tag[i] = (char)('a' + (v * 7 + i) % 26);
    return e;
}

static bool same(const struct elem *e, uint64_t v)
{
    struct elem want = make(v);
    return e->v == v && memcmp(e->tag, want.tag, sizeof(want.tag)) == 0;
}

static void push(struct lj_fifo *q, uint64_t v)
{
    struct elem *e = lj_fifo_push(q);
    CHECK(e != NULL);
    if (e)
        *e = make(v);
}

/* Pushes from, from + 1, ..., to - 1. */
static void push_range(struct lj_fifo *q, uint64_t from, uint64_t to)
{
    for (uint64_t v = from; v < to; v++)
        push(q, v);
}

/* Holds exactly first, first + 1, ..., first + n - 1, front to back. */
static bool holds(const struct lj_fifo *q, uint64_t first, size_t n)
{
    if (lj_fifo_len(q) != n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (!same(lj_fifo_peek(q, k), first + k))
            return false;
    return true;
}

static void test_grow_from_nothing(void)
{
    struct lj_fifo q;
    lj_fifo_init(&q, sizeof(struct elem));
    CHECK(q.slots == NULL && q.cap == 0 && lj_fifo_len(&q) == 0);
    push(&q, 0);
    CHECK_INT(q.cap, LJ_FIFO_MIN_CAP);
    push_range(&q, 1, 100);
    CHECK_INT(q.cap, 128);
    CHECK(holds(&q, 0, 100));
    for (int i = 0; i < 40; i++)
        lj_fifo_pop(&q);
    CHECK(holds(&q, 40, 60));
    CHECK_INT(q.tail, 40);
    CHECK_INT(q.head, 100);
    lj_fifo_finish(&q);
    CHECK(q.slots == NULL && q.cap == 0 && lj_fifo_len(&q) == 0);
}

/* Full and wrapped (the front near the end of the storage, the back at its start):
 * the push that grows it keeps every element, in order, at its absolute index. */
static void test_grow_while_wrapped(void)
{
    struct lj_fifo q;
    lj_fifo_init(&q, sizeof(struct elem));
    CHECK_INT(lj_fifo_resize(&q, 4), LJ_OK);
    push_range(&q, 0, 4);
    lj_fifo_pop(&q), lj_fifo_pop(&q), lj_fifo_pop(&q);
    push_range(&q, 4, 7);
    CHECK_INT(q.cap, 4);                              /* full: 3 at slot 3, 4..6 at 0..2 */
    CHECK(lj_fifo_at(&q, 3) == q.slots + 3 * sizeof(struct elem));
    CHECK(lj_fifo_at(&q, 4) == q.slots);
    push(&q, 7);                                      /* grows */
    CHECK_INT(q.cap, 8);
    CHECK(holds(&q, 3, 5));
    for (uint64_t i = 3; i < 8; i++) {
        CHECK(same(lj_fifo_at(&q, i), i));
        CHECK(lj_fifo_at(&q, i) == q.slots + (i & 7) * sizeof(struct elem));
    }
    /* wrapped again at 8 slots, then grown to 16 and to 32 in one stretch */
    push_range(&q, 8, 40);
    CHECK_INT(q.cap, 64);
    CHECK(holds(&q, 3, 37));
    lj_fifo_finish(&q);
}

/* Shrinking, also while wrapped, and down to nothing once empty. */
static void test_shrink(void)
{
    struct lj_fifo q;
    lj_fifo_init(&q, sizeof(struct elem));
    push_range(&q, 0, 1000);
    for (int i = 0; i < 995; i++)
        lj_fifo_pop(&q);
    push(&q, 1000);
    push(&q, 1001);                                   /* 995..1001: slots 995..1001 of 1024 */
    CHECK_INT(q.cap, 1024);
    CHECK_INT(lj_fifo_resize(&q, 8), LJ_OK);          /* wraps at 8: 995 at slot 3 */
    CHECK_INT(q.cap, 8);
    CHECK(holds(&q, 995, 7));
    CHECK(lj_fifo_at(&q, 1000) == q.slots + 0);
    while (lj_fifo_len(&q))
        lj_fifo_pop(&q);
    CHECK_INT(lj_fifo_resize(&q, 0), LJ_OK);
    CHECK(q.slots == NULL && q.cap == 0);
    push(&q, 1002);                                   /* and it starts again */
    CHECK(holds(&q, 1002, 1));
    CHECK_INT(q.tail, 1002);
    lj_fifo_finish(&q);
}

/* A move that cannot be made (more than 2^31 slots) changes nothing. */
static void test_failed_move(void)
{
    struct lj_fifo q;
    lj_fifo_init(&q, sizeof(struct elem));
    push_range(&q, 0, 6);
    unsigned char *slots = q.slots;
    size_t huge = (size_t)1 << 32;                    /* a power of two, over the bound */
    CHECK_INT(lj_fifo_resize(&q, huge), LJ_NOMEM);
    CHECK(q.slots == slots && q.cap == 8);
    CHECK(holds(&q, 0, 6));
    lj_fifo_finish(&q);
}

/* Random pushes, pops and moves against a plain array, for several element sizes. */
static void test_random(unsigned seed)
{
    srand(seed);
    for (uint32_t esize = 1; esize <= 40; esize += 13) {
        struct lj_fifo q;
        unsigned char *model = malloc(20000 * esize);   /* element j at model + j * esize */
        size_t front = 0, back = 0;                      /* model holds [front, back) */
        lj_fifo_init(&q, esize);
        for (int step = 0; step < 20000 && back < 20000; step++) {
            int op = rand() % 100;
            if (op < 55) {
                unsigned char *e = lj_fifo_push(&q);
                CHECK(e != NULL);
                for (size_t b = 0; b < esize; b++)
                    model[back * esize + b] = e[b] = (unsigned char)rand();
                back++;
            } else if (op < 95) {
                if (back > front) {
                    lj_fifo_pop(&q);
                    front++;
                }
            } else {
                size_t cap = LJ_FIFO_MIN_CAP;             /* the smallest that holds them */
                while (cap < back - front)
                    cap *= 2;
                if (rand() % 2)
                    cap *= 2;
                CHECK_INT(lj_fifo_resize(&q, back == front && rand() % 2 ? 0 : cap), LJ_OK);
            }
            CHECK_INT(lj_fifo_len(&q), back - front);
            CHECK_INT(q.tail, front);
            if (step % 97 == 0 || step > 19990)
                for (size_t j = front; j < back; j++)
                    CHECK(memcmp(lj_fifo_at(&q, j), model + j * esize, esize) == 0);
        }
        lj_fifo_finish(&q);
        free(model);
    }
}

int main(void)
{
    const char *env = getenv("LJ_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("seed %u (LJ_TEST_SEED=%u repeats it)\n", seed, seed);
    test_grow_from_nothing();
    test_grow_while_wrapped();
    test_shrink();
    test_failed_move();
    test_random(seed);
    CHECK_DONE();
}
