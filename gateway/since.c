/* since.c - a time jump's first index in a ring (see since.h). */
#include "since.h"

#include <stdbool.h>

#include "events.h"
#include "log.h"

uint64_t lj_since_from(const struct lj_ring *r, const char *key, struct lj_tap *t)
{
    uint64_t start = lj_ring_window_start(r), since = (uint64_t)t->sub->since_ns;
    /* 0: nothing stored since, by JetStream: from the head (live lines only) */
    uint64_t from = t->seek_first ? lj_ring_index_after(r, t->seek_first - 1) : r->lines.head;
    if (from < start)
        from = start;
    /* JetStream's answer is checked against the window: nats-server 2.9.10 now and
     * then answers a start time with a later position than the first line stored at
     * it (seen here once in 6 test runs: 6 lines late on a container being written;
     * an earlier run got no line at all for a time inside a finished container's
     * lines, most likely the same), so the lines just before `from` stamped at or after
     * the time are taken too. */
    uint64_t asked = from;
    while (from > start && (uint64_t)lj_ring_get(r, from - 1)->ts_ns >= since)
        from--;
    if (from < asked)
        lj_log(LJ_LOG_INFO, "time jump: JetStream's start-time answer was late; the window's lines "
               "stamped since are taken too", "container=%s lines=%llu first_seq=%llu", key,
               (unsigned long long)(asked - from), (unsigned long long)t->seek_first);
    /* the oldest line kept, with lines before it gone, and later than the time asked */
    const struct lj_line *first = from < r->lines.head ? lj_ring_get(r, from) : NULL;
    bool oldest = from == start || t->seek_first == t->seek_oldest;
    if (first && oldest && first->line_no > 1 && first->ts_ns > t->sub->since_ns)
        lj_events_retention(t->sub, key, first);
    return from;
}
