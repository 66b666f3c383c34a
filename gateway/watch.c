/* watch.c - one watched container: its ring, the lines held while a hole is
 * fetched, the gap fill, and eviction.
 *
 * Ordering argument: a watch applies lines strictly in seq order. A line is applied
 * only when its Nats-Last-Sequence (the previous stored seq of the same subject) is
 * not newer than the ring's newest seq; otherwise the lines in between are fetched
 * first and the line waits in `held`. Duplicates (seq <= newest) are dropped. So the
 * ring, and every tap reading it, sees each stored line once and in order.
 *
 * A glob's order: while a fetch may still bring lines (in flight, owed after a failed
 * request, or lines held for it), `floor` is the ring's newest seq + 1: the lines to
 * come are at or past it, so the glob's frames hold back other containers' newer lines
 * (tap.h lj_tap_floor). When it clears, the taps are woken (got_lines) to send them.
 *
 * Eviction: the window (the newest `depth` lines) always stays; older lines stay
 * only while some tap's cursor has not passed them and the ring's bytes stay under
 * max_queue. An exact tap is shown each line it has not passed before it goes.
 *
 * Does not serve taps, wake sessions or keep the watch table: the hub does, told
 * through env->got_lines and lj_watch_fetched's answer.
 */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stats.h"
#include "timeutil.h"

#define HELD_MAX 200000          /* lines held during a fetch before the oldest go */
#define FETCH_GIVE_UP 5          /* failed gap fills in a row before the hole is announced */
#define FETCH_RETRY_NS 1000000000LL

struct held {
    struct lj_line *line;
    uint64_t last_seq;
};

/* The i-th held line, oldest first. */
static struct held *held_at(struct lj_watch *w, size_t i)
{
    return lj_fifo_peek(&w->held, i);
}

/* floor from the fetch state: set while JetStream may still bring lines past the
 * ring's newest; clearing it wakes the taps, whose sessions may hold lines back for it. */
static void set_floor(struct lj_watch *w)
{
    bool owed = w->loaded && (w->fetching || w->retry_at || lj_fifo_len(&w->held));
    uint64_t f = owed ? lj_ring_last_seq(&w->ring) + 1 : 0;
    bool cleared = w->floor && !f;
    w->floor = f;
    if (cleared)
        w->env->got_lines(w->env->arg, w);
}

void lj_watch_fetch(struct lj_watch *w, uint64_t end)
{
    uint64_t start = w->loaded ? lj_ring_last_seq(&w->ring) + 1 : 0;
    if (!w->env->feed || lj_feed_fetch(w->env->feed, w->subject, start, end) != LJ_OK) {
        w->retry_at = lj_time_mono_ns() + FETCH_RETRY_NS;
        set_floor(w);
        return;
    }
    w->fetching = true;
    w->retry_at = 0;
    set_floor(w);
}

void lj_watch_destroy(struct lj_watch *w)
{
    if (!w)
        return;
    lj_feed_unsubscribe(w->nats_sub);
    for (size_t i = 0; i < lj_fifo_len(&w->held); i++)
        lj_line_unref(held_at(w, i)->line);
    lj_fifo_finish(&w->held);
    lj_ring_finish(&w->ring);
    free(w->subject);
    free(w->key);
    free(w);
}

lj_status lj_watch_create(const struct lj_watch_env *env, const char *subject, const char *key,
                          struct lj_watch **out)
{
    struct lj_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return LJ_NOMEM;
    w->env = env;
    lj_fifo_init(&w->held, sizeof(struct held));
    w->subject = strdup(subject);
    w->key = strdup(key);
    if (!w->subject || !w->key || lj_ring_init(&w->ring, env->depth) != LJ_OK
        || (env->feed && lj_feed_subscribe(env->feed, subject, &w->nats_sub) != LJ_OK)) {
        lj_watch_destroy(w);    /* what was made so far; nats_sub is NULL */
        return LJ_NATS;
    }
    /* Subscribed before fetching: whatever is stored after the fetch's snapshot
     * arrives live and is merged by seq, so nothing falls between the two. */
    lj_watch_fetch(w, 0);
    *out = w;
    return LJ_OK;
}

/* Evicts the oldest line, first showing it to the exact taps that have not passed
 * it (they count it as lost when their filters pass it). Unfiltered taps left behind
 * count their loss from the index distance when they next read. */
static void evict_oldest(struct lj_watch *w)
{
    struct lj_ring *r = &w->ring;
    if (r->lines.tail >= w->low)
        for (struct lj_tap *t = w->exact; t; t = t->xnext)
            if (t->live && t->cursor == r->lines.tail)
                lj_tap_drop(t);
    lj_ring_evict(r);
}

/* Keeps the window (the newest `depth` lines) and, older than it, only lines some
 * tap's cursor has not passed, while the ring's bytes stay under max_queue. Past
 * that the oldest go even if a slow tap still needs them: memory stays bounded per
 * watch and a slow client never holds back the others; it gets an exact gap. */
void lj_watch_trim(struct lj_watch *w)
{
    struct lj_ring *r = &w->ring;
    while (lj_ring_count(r) > r->depth) {
        if (r->lines.tail >= w->low && lj_ring_bytes_from(r, r->lines.tail) <= w->env->max_queue)
            break;
        evict_oldest(w);
    }
}

/* Fan-out by cursor: the line is appended once; the taps read it from the ring when
 * their sessions are written. O(1) per line; the watch's sessions are woken once per
 * service pass (wake_watch). */
static void apply_line(struct lj_watch *w, struct lj_line *l)
{
    while (lj_ring_push(&w->ring, l) != LJ_OK)
        evict_oldest(w);    /* cannot grow: the slowest reader loses the oldest line */
    w->env->stats->lines_in++;
    l->ring_ns = lj_time_mono_ns();
    if (w->loaded)
        lj_stats_wait(w->env->stats, LJ_STATS_WAIT_RING, l->ring_ns - l->recv_ns);
    lj_watch_trim(w);
    w->env->got_lines(w->env->arg, w);
}

static void hold(struct lj_watch *w, struct lj_line *l, uint64_t last_seq)
{
    struct held *h;
    if (lj_fifo_len(&w->held) == HELD_MAX) {   /* a later gap fill recovers what goes here */
        lj_line_unref(held_at(w, 0)->line);
        lj_fifo_pop(&w->held);
    }
    if (!(h = lj_fifo_push(&w->held))) {
        lj_line_unref(l);
        return;
    }
    *h = (struct held){ l, last_seq };
}

/* Applies held lines in order until one needs a fetch (which is then started). */
void lj_watch_drain(struct lj_watch *w)
{
    size_t i = 0;
    for (; i < lj_fifo_len(&w->held) && !w->fetching; i++) {
        struct held *x = held_at(w, i);
        uint64_t newest = lj_ring_last_seq(&w->ring);
        if (x->line->seq <= newest) {
            lj_line_unref(x->line);
            continue;
        }
        if (x->last_seq > newest && x->last_seq > w->resolved) {
            w->env->stats->gap_fills++;
            lj_watch_fetch(w, x->last_seq);
            if (w->fetching)
                break;
            /* cannot fetch now: keep holding, the tick retries */
            break;
        }
        apply_line(w, x->line);
        lj_line_unref(x->line);
    }
    while (i--)
        lj_fifo_pop(&w->held);
    set_floor(w);
}

/* A live line (we own one reference). */
void lj_watch_live(struct lj_watch *w, struct lj_line *l, uint64_t last_seq)
{
    hold(w, l, last_seq);
    if (w->loaded && !w->fetching)
        lj_watch_drain(w);
    else
        set_floor(w);
}

bool lj_watch_fetched(struct lj_watch *w, const struct lj_feed_event *e)
{
    bool first = !w->loaded;
    w->fetching = false;
    w->retry_at = 0;    /* a request that failed before is answered by this one */
    w->fetch_failures = 0;
    if (e->last_seq > w->resolved)
        w->resolved = e->last_seq;
    for (size_t i = 0; i < e->nlines; i++)
        if (e->lines[i]->seq > lj_ring_last_seq(&w->ring))
            apply_line(w, e->lines[i]);
    w->loaded = true;
    set_floor(w);
    return first;
}

void lj_watch_fetch_failed(struct lj_watch *w)
{
    w->fetching = false;
    w->retry_at = lj_time_mono_ns() + FETCH_RETRY_NS;
    set_floor(w);
    if (!w->loaded || !lj_fifo_len(&w->held) || ++w->fetch_failures < FETCH_GIVE_UP)
        return;
    /* JetStream will not fill the hole (no permission, an outage behind a live core
     * connection): stop holding the live lines back. What is missing shows as a jump
     * in line_no, which every viewer gets as an `expired` gap. */
    const struct held *newest = held_at(w, lj_fifo_len(&w->held) - 1);
    lj_log(LJ_LOG_WARN, "cannot fill a missed republish from JetStream; going on without it",
           "container=%s failures=%d", w->key, w->fetch_failures);
    if (newest->last_seq > w->resolved)
        w->resolved = newest->last_seq;
    w->fetch_failures = 0;
    w->retry_at = 0;
    lj_watch_drain(w);
}
