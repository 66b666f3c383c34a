/* merge.c - k-way merge of per-container FIFOs through a min-heap of sources
 * (O(log sources) per line). Knows nothing of records, NATS or output. */
#include "merge.h"

#include <assert.h>
#include <stdlib.h>

void lj_merge_init(struct lj_merge *m, size_t max_items)
{
    *m = (struct lj_merge){ .max_items = max_items ? max_items : 1 };
}

void lj_merge_finish(struct lj_merge *m)
{
    free(m->heap);
    m->heap = NULL;
    m->n = m->cap = 0;
}

void lj_merge_src_init(struct lj_merge_src *s)
{
    *s = (struct lj_merge_src){ .heap_pos = SIZE_MAX };
}

static bool before(const struct lj_merge_src *a, const struct lj_merge_src *b)
{
    if (a->head->ts_ns != b->head->ts_ns)
        return a->head->ts_ns < b->head->ts_ns;
    return a->head->order < b->head->order;
}

static void place(struct lj_merge *m, size_t i, struct lj_merge_src *s)
{
    m->heap[i] = s;
    s->heap_pos = i;
}

static void sift_up(struct lj_merge *m, size_t i)
{
    struct lj_merge_src *s = m->heap[i];
    while (i > 0 && before(s, m->heap[(i - 1) / 2])) {
        place(m, i, m->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(m, i, s);
}

static void sift_down(struct lj_merge *m, size_t i)
{
    struct lj_merge_src *s = m->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->n)
            break;
        if (c + 1 < m->n && before(m->heap[c + 1], m->heap[c]))
            c++;
        if (!before(m->heap[c], s))
            break;
        place(m, i, m->heap[c]);
        i = c;
    }
    place(m, i, s);
}

lj_status lj_merge_push(struct lj_merge *m, struct lj_merge_src *src, struct lj_merge_item *item,
                        int64_t ts_ns, int64_t arrived_ns)
{
    if (src->head == NULL && m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct lj_merge_src **grown = realloc(m->heap, ncap * sizeof *grown);
        if (grown == NULL)
            return LJ_NOMEM;
        m->heap = grown;
        m->cap = ncap;
    }
    item->next = NULL;
    item->ts_ns = ts_ns;
    item->arrived_ns = arrived_ns;
    item->order = m->next_order++;
    m->items++;
    if (src->head != NULL) {
        src->tail->next = item;
        src->tail = item;
        return LJ_OK;
    }
    src->head = src->tail = item;
    m->heap[m->n] = src;
    sift_up(m, m->n++);
    return LJ_OK;
}

lj_status lj_merge_insert(struct lj_merge *m, struct lj_merge_src *src, struct lj_merge_item *item,
                          int64_t ts_ns, int64_t arrived_ns)
{
    if (src->head == NULL || src->head->ts_ns >= ts_ns) {
        if (src->head == NULL)
            return lj_merge_push(m, src, item, ts_ns, arrived_ns);
        *item = (struct lj_merge_item){ .next = src->head, .ts_ns = ts_ns, .arrived_ns = arrived_ns,
                                        .order = m->next_order++ };
        src->head = item;
        m->items++;
        sift_up(m, src->heap_pos);    /* the head's key only went down */
        return LJ_OK;
    }
    struct lj_merge_item *p = src->head;
    while (p->next != NULL && p->next->ts_ns < ts_ns)
        p = p->next;
    *item = (struct lj_merge_item){ .next = p->next, .ts_ns = ts_ns, .arrived_ns = arrived_ns,
                                    .order = m->next_order++ };
    p->next = item;
    if (item->next == NULL)
        src->tail = item;
    m->items++;
    return LJ_OK;
}

struct lj_merge_item *lj_merge_pop(struct lj_merge *m, int64_t now_ns, int64_t delay_ns,
                                   bool flush, struct lj_merge_src **src)
{
    if (m->n == 0)
        return NULL;
    struct lj_merge_src *s = m->heap[0];
    struct lj_merge_item *it = s->head;
    assert(s->heap_pos == 0 && it != NULL);
    if (!flush && m->items <= m->max_items && now_ns - it->arrived_ns < delay_ns)
        return NULL;
    s->head = it->next;
    m->items--;
    if (s->head == NULL) {
        s->tail = NULL;
        s->heap_pos = SIZE_MAX;
        if (--m->n > 0) {
            place(m, 0, m->heap[m->n]);
            sift_down(m, 0);
        }
    } else {
        sift_down(m, 0);
    }
    it->next = NULL;
    *src = s;
    return it;
}

int64_t lj_merge_deadline(const struct lj_merge *m, int64_t delay_ns)
{
    if (m->n == 0)
        return INT64_MAX;
    return m->heap[0]->head->arrived_ns + delay_ns;
}
