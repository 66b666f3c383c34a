/* watches.c - the hub's watch table (watches.h): a hash of watches by subject, the
 * creation bounds (a total and two token buckets), the dirty list the watches' own
 * got_lines callback fills, and the per-second release and trimming.
 *
 * Does not know taps beyond a watch's tap count, nor sessions: the hub's low callback
 * reads the cursors.
 */
#include "watches.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "timeutil.h"

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return (size_t)(h % LJ_WATCHES_BUCKETS);
}

struct lj_watch *lj_watches_find(struct lj_watches *ws, const char *subject)
{
    for (struct lj_watch *w = ws->buckets[hash(subject)]; w; w = w->bnext)
        if (strcmp(w->subject, subject) == 0)
            return w;
    return NULL;
}

/* The watch env's got_lines: w joins the dirty list (woken at the end of the pass). */
static void mark_watch(void *arg, struct lj_watch *w)
{
    struct lj_watches *ws = arg;
    if (w->dirty || !w->ntaps)
        return;
    w->dirty = true;
    w->dirty_next = ws->dirty;
    ws->dirty = w;
}

void lj_watches_init(struct lj_watches *ws, uint32_t max)
{
    memset(ws, 0, sizeof(*ws));
    ws->env.got_lines = mark_watch;
    ws->env.arg = ws;
    ws->max = max ? max : LJ_WATCHES_MAX;
    ws->tokens = LJ_WATCHES_BURST;
    ws->refill_ns = lj_time_mono_ns();
}

static void watch_free(struct lj_watches *ws, struct lj_watch *w)
{
    struct lj_watch **pp = &ws->buckets[hash(w->subject)];
    while (*pp != w)
        pp = &(*pp)->bnext;
    *pp = w->bnext;
    ws->count--;
    for (struct lj_watch **d = &ws->dirty; w->dirty && *d; d = &(*d)->dirty_next)
        if (*d == w) {
            *d = w->dirty_next;
            break;
        }
    lj_watch_destroy(w);
}

struct lj_watch *lj_watches_add(struct lj_watches *ws, const char *subject, const char *key)
{
    struct lj_watch *w;
    if (lj_watch_create(&ws->env, subject, key, &w) != LJ_OK)
        return NULL;
    size_t b = hash(subject);
    w->bnext = ws->buckets[b];
    ws->buckets[b] = w;
    ws->count++;
    return w;
}

/* Refills a token bucket of burst tokens at rate a second. */
static void bucket_refill(double *tokens, int64_t *at, double burst, double rate, int64_t now)
{
    if (*tokens < 0)
        *tokens = burst;
    else
        *tokens += (double)(now - *at) * rate / 1e9;
    if (*tokens > burst)
        *tokens = burst;
    *at = now;
}

/* Takes one of client's tokens when it has one. */
static bool client_admit(struct lj_tap_owner *client, int64_t now)
{
    bucket_refill(&client->watch_tokens, &client->watch_refill_ns, LJ_WATCHES_CLIENT_BURST,
                  LJ_WATCHES_CLIENT_RATE, now);
    if (client->watch_tokens < 1)
        return false;
    client->watch_tokens -= 1;
    return true;
}

bool lj_watches_admit_client(struct lj_tap_owner *by)
{
    return client_admit(by, lj_time_mono_ns());
}

bool lj_watches_admit(struct lj_watches *ws, struct lj_tap_owner *by, enum lj_watches_ask ask)
{
    int64_t now = lj_time_mono_ns();
    if (ws->count >= ws->max)
        return false;
    if (ask == LJ_WATCHES_ASK_REGISTRY)
        return true;
    bucket_refill(&ws->tokens, &ws->refill_ns, LJ_WATCHES_BURST, LJ_WATCHES_RATE, now);
    if (ws->tokens < 1 || (ask == LJ_WATCHES_ASK_NAME && !client_admit(by, now)))
        return false;
    ws->tokens -= 1;
    return true;
}

struct lj_watch *lj_watches_take_dirty(struct lj_watches *ws)
{
    struct lj_watch *w = ws->dirty;
    if (w) {
        ws->dirty = w->dirty_next;
        w->dirty = false;
    }
    return w;
}

void lj_watches_refetch(struct lj_watches *ws)
{
    for (size_t b = 0; b < LJ_WATCHES_BUCKETS; b++)
        for (struct lj_watch *w = ws->buckets[b]; w; w = w->bnext)
            if (!w->fetching)
                lj_watch_fetch(w, 0);
}

/* Watches released (since the last trim) past which the freed memory is handed back to
 * the kernel, and also when the last one went: glibc keeps freed heap (per thread
 * arena) for reuse otherwise, so a burst of watches would leave the process at its
 * peak size. A trim costs about a millisecond per 100 MB of heap. */
#define TRIM_AFTER_WATCHES 32

void lj_watches_tick(struct lj_watches *ws, int64_t now, int64_t linger_ns,
                     void (*low)(void *arg, struct lj_watch *w), void *arg)
{
    size_t freed = ws->freed_untrimmed;
    for (size_t b = 0; b < LJ_WATCHES_BUCKETS; b++)
        for (struct lj_watch *w = ws->buckets[b], *n; w; w = n) {
            n = w->bnext;
            if (!w->ntaps && w->idle_since && now - w->idle_since > linger_ns) {
                watch_free(ws, w);
                freed++;
                continue;
            }
            if (!w->fetching && w->retry_at && now >= w->retry_at)
                lj_watch_fetch(w, 0);
            /* Lines kept for readers that caught up or left since the last line. */
            low(arg, w);
            lj_watch_trim(w);
            lj_ring_shrink(&w->ring);
        }
    ws->freed_untrimmed = freed;
    if (freed >= TRIM_AFTER_WATCHES || (freed && !ws->count)) {
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        ws->freed_untrimmed = 0;
    }
}

void lj_watches_finish(struct lj_watches *ws)
{
    ws->dirty = NULL;
    for (size_t b = 0; b < LJ_WATCHES_BUCKETS; b++) {
        while (ws->buckets[b])
            watch_free(ws, ws->buckets[b]);
    }
}
