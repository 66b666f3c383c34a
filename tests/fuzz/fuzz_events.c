/* fuzz_events.c - libFuzzer target for the /events line parser: publisher/events.c
 * (line splitting, the line cap) with docker.c's decoder (lj_docker_event_parse).
 *
 * Input: byte 0 seeds the split sizes; the rest is the stream. It is fed twice, whole
 * and in pseudo-random pieces; both runs must give the same events (every field) and
 * the same count of skipped lines, every event must hold a 64-character id and
 * NUL-terminated strings, and the partial line must stay within LJ_EVENTS_LINE_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

static void run(const char *p, size_t n, unsigned seed, struct lj_events_parser *ep)
{
    uint32_t r = seed * 2654435761u + 1;
    lj_events_parser_init(ep);
    for (size_t off = 0; off < n;) {
        size_t k = n - off;
        if (seed != 0) {
            r = r * 1103515245u + 12345u;
            size_t want = 1 + (r >> 16) % (seed % 97 + 1);
            k = want < k ? want : k;
        }
        lj_events_parser_feed(ep, p + off, k);
        if (ep->line.len > LJ_EVENTS_LINE_MAX)
            abort();
        off += k;
    }
}

static void check_event(const struct lj_docker_event *e)
{
    if (strlen(e->id) != 64 || memchr(e->action, '\0', sizeof e->action) == NULL ||
        memchr(e->name, '\0', sizeof e->name) == NULL ||
        memchr(e->old_name, '\0', sizeof e->old_name) == NULL || e->old_name[0] == '/' ||
        e->time_ns < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lj_events_parser whole, split;
    if (size < 1)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    run(p, n, 0, &whole);
    run(p, n, data[0] | 1u, &split);
    if (whole.n != split.n || whole.skipped != split.skipped || whole.dropped != split.dropped)
        abort();
    for (size_t i = 0; i < whole.n; i++) {
        check_event(&whole.queue[i]);
        if (memcmp(&whole.queue[i], &split.queue[i], sizeof whole.queue[i]) != 0)
            abort();
    }
    lj_events_parser_finish(&whole);
    lj_events_parser_finish(&split);
    return 0;
}
