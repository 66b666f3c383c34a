/* hub.c - watches, rings, gap repair, fan-out by cursor, the registry and the
 * session list.
 *
 * Ordering argument: a watch applies lines strictly in seq order. A line is applied
 * only when its Nats-Last-Sequence (the previous stored seq of the same subject) is
 * not newer than the ring's newest seq; otherwise the lines in between are fetched
 * first and the line waits in `held`. Duplicates (seq <= newest) are dropped. So the
 * ring, and every tap reading it, sees each stored line once and in order.
 *
 * Fan-out: apply_line appends to the ring and puts the watch on the dirty list; at
 * the end of the service pass wake_watch wakes the sessions of its taps (once per
 * pass, not per line) and recomputes the lowest cursor, which tells trim_ring which
 * lines older than the window a tap still needs. The lines themselves are read from
 * the ring by lj_session_next_frame. Per line the hub does O(1) work; per pass,
 * O(taps) of the watches that got lines.
 */
#include "hub.h"

#include <assert.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "glob.h"
#include "lifecycle.h"
#include "since.h"
#include "log.h"
#include "metrics.h"
#include "subject.h"
#include "timeutil.h"

#define NBUCKETS 4096
#define HELD_MAX 200000          /* lines held during a fetch before the oldest go */
#define FETCH_GIVE_UP 5          /* failed gap fills in a row before the hole is announced */
#define FETCH_RETRY_NS 1000000000LL
#define QUEUE_IDLE_NS 1000000000LL   /* an empty queue idle this long gives its storage back */

struct held {
    struct lj_line *line;
    uint64_t last_seq;
};

struct lj_watch {
    char *subject;               /* "logs.<h>.<c>", owned; table key */
    char *key;                   /* "host/name", owned */
    void *nats_sub;              /* feed handle */
    struct lj_ring ring;
    bool loaded;                 /* the ring was filled from JetStream */
    bool fetching;               /* a fetch is in flight */
    int64_t retry_at;            /* mono ns; 0 = no failed fetch to retry */
    uint64_t resolved;           /* JetStream was read up to this seq: older holes are
                                    holes in the stream itself, not ours to fill */
    struct held *held;           /* lines waiting for a fetch, seq order: nheld entries
                                    from held_head on */
    size_t held_head, nheld, heldcap;
    int fetch_failures;          /* in a row */
    struct lj_tap *taps;
    size_t ntaps;
    struct lj_tap *exact;        /* the taps with filters (linked by xnext): shown each
                                    line they have not passed before it is evicted */
    uint64_t low;                /* no live tap's cursor is below it (a lower bound,
                                    recomputed by wake_watch; lowered by serve_tap) */
    bool dirty;                  /* on the hub's dirty watch list: got lines this pass */
    struct lj_watch *dirty_next;
    int64_t idle_since;          /* mono ns when the last tap left; 0 while watched */
    struct lj_watch *bnext;      /* bucket chain */
};

struct centry {
    char *kvkey;                 /* "<h>.<c>" encoded, owned; table key */
    char *key;                   /* "host/name" */
    char *json;                  /* container object for list and /api/containers */
    struct lj_lifecycle_state lc;   /* its last entry, for lifecycle events */
    bool renamed_away;           /* its container took another name: its removal is no news */
    struct centry *bnext;
};

struct lj_hub {
    struct lj_hub_config cfg;
    struct lj_feed *feed;
    struct lj_feed_event *backlog;    /* taken from the feed, not applied yet, oldest first */
    struct lj_feed_event *backlog_tail;
    void (*writable)(void *wsi);
    struct lj_watch *watches[NBUCKETS];
    size_t nwatches;
    struct centry *registry[NBUCKETS];
    size_t ncontainers;
    struct lj_session *sessions;      /* open sessions */
    size_t nsessions;
    struct lj_session *graveyard;     /* closed, freed on the next tick */
    struct lj_session *dirty;         /* wake list, linked by dirty_next */
    struct lj_watch *dirty_watches;   /* watches that got lines, linked by dirty_next */
    struct lj_sub *globs;             /* glob subs waiting for new containers, and plain
                                         ones waiting for theirs to be registered */
    double watch_tokens;              /* the gateway's watch creation bucket */
    size_t freed_untrimmed;           /* watches freed since the last malloc_trim */
    int64_t watch_refill_ns;
    struct lj_session *starved;       /* spent their grep budget, by starved_next */
    struct lj_tap *preparing;         /* filtered replays still scanning, by pnext */
    struct lj_hub_stats stats;
    struct lj_lifecycle *lifecycle;   /* removals held for a rename */
    atomic_bool registry_synced;      /* the bucket's entries at start-up are applied:
                                         until then lists would be short, so not healthy */
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return (size_t)(h % NBUCKETS);
}

static struct lj_watch *watch_find(struct lj_hub *h, const char *subject)
{
    for (struct lj_watch *w = h->watches[hash(subject)]; w; w = w->bnext)
        if (strcmp(w->subject, subject) == 0)
            return w;
    return NULL;
}

static struct centry *centry_find(struct lj_hub *h, const char *kvkey)
{
    for (struct centry *c = h->registry[hash(kvkey)]; c; c = c->bnext)
        if (strcmp(c->kvkey, kvkey) == 0)
            return c;
    return NULL;
}

lj_status lj_hub_create(const struct lj_hub_config *cfg, struct lj_hub **out)
{
    struct lj_hub *h = calloc(1, sizeof(*h));
    if (!h)
        return LJ_NOMEM;
    if (lj_lifecycle_create(&h->lifecycle) != LJ_OK) {
        free(h);
        return LJ_NOMEM;
    }
    h->cfg = *cfg;
    if (!h->cfg.max_watches)
        h->cfg.max_watches = LJ_HUB_WATCHES_MAX;
    h->watch_tokens = LJ_HUB_WATCH_BURST;
    h->watch_refill_ns = lj_time_mono_ns();
    *out = h;
    return LJ_OK;
}

void lj_hub_set_feed(struct lj_hub *h, struct lj_feed *feed)
{
    h->feed = feed;
}

void lj_hub_set_writable(struct lj_hub *h, void (*writable)(void *wsi))
{
    h->writable = writable;
}

/* ---- watches ---- */

static void watch_free(struct lj_hub *h, struct lj_watch *w)
{
    struct lj_watch **pp = &h->watches[hash(w->subject)];
    while (*pp != w)
        pp = &(*pp)->bnext;
    *pp = w->bnext;
    h->nwatches--;
    for (struct lj_watch **d = &h->dirty_watches; w->dirty && *d; d = &(*d)->dirty_next)
        if (*d == w) {
            *d = w->dirty_next;
            break;
        }
    lj_feed_unsubscribe(w->nats_sub);
    for (size_t i = 0; i < w->nheld; i++)
        lj_line_unref(w->held[w->held_head + i].line);
    free(w->held);
    lj_ring_finish(&w->ring);
    free(w->subject);
    free(w->key);
    free(w);
}

static void watch_fetch(struct lj_hub *h, struct lj_watch *w, uint64_t end)
{
    uint64_t start = w->loaded ? lj_ring_last_seq(&w->ring) + 1 : 0;
    if (!h->feed || lj_feed_fetch(h->feed, w->subject, start, end) != LJ_OK) {
        w->retry_at = lj_time_mono_ns() + FETCH_RETRY_NS;
        return;
    }
    w->fetching = true;
    w->retry_at = 0;
}

/* Creates the watch for js subject / key, subscribed and loading. */
static struct lj_watch *watch_create(struct lj_hub *h, const char *subject, const char *key)
{
    struct lj_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->subject = strdup(subject);
    w->key = strdup(key);
    if (!w->subject || !w->key || lj_ring_init(&w->ring, h->cfg.depth) != LJ_OK
        || (h->feed && lj_feed_subscribe(h->feed, subject, &w->nats_sub) != LJ_OK)) {
        lj_ring_finish(&w->ring);
        free(w->subject);
        free(w->key);
        free(w);
        return NULL;
    }
    size_t b = hash(subject);
    w->bnext = h->watches[b];
    h->watches[b] = w;
    h->nwatches++;
    /* Subscribed before fetching: whatever is stored after the fetch's snapshot
     * arrives live and is merged by seq, so nothing falls between the two. */
    watch_fetch(h, w, 0);
    return w;
}

/* Evicts the oldest line, first showing it to the exact taps that have not passed
 * it (they count it as lost when their filters pass it). Unfiltered taps left behind
 * count their loss from the index distance when they next read. */
static void evict_oldest(struct lj_watch *w)
{
    struct lj_ring *r = &w->ring;
    if (r->tail >= w->low)
        for (struct lj_tap *t = w->exact; t; t = t->xnext)
            if (t->live && t->cursor == r->tail)
                lj_tap_drop(t);
    lj_ring_evict(r);
}

/* Keeps the window (the newest `depth` lines) and, older than it, only lines some
 * tap's cursor has not passed, while the ring's bytes stay under max_queue. Past
 * that the oldest go even if a slow tap still needs them: memory stays bounded per
 * watch and a slow client never holds back the others; it gets an exact gap. */
static void trim_ring(struct lj_hub *h, struct lj_watch *w)
{
    struct lj_ring *r = &w->ring;
    while (lj_ring_count(r) > r->depth) {
        if (r->tail >= w->low && lj_ring_bytes_from(r, r->tail) <= h->cfg.limits.max_queue)
            break;
        evict_oldest(w);
    }
}

static void mark_watch(struct lj_hub *h, struct lj_watch *w)
{
    if (w->dirty || !w->ntaps)
        return;
    w->dirty = true;
    w->dirty_next = h->dirty_watches;
    h->dirty_watches = w;
}

/* Fan-out by cursor: the line is appended once; the taps read it from the ring when
 * their sessions are written. O(1) per line; the watch's sessions are woken once per
 * service pass (wake_watch). */
static void apply_line(struct lj_hub *h, struct lj_watch *w, struct lj_line *l)
{
    while (lj_ring_push(&w->ring, l) != LJ_OK)
        evict_oldest(w);    /* cannot grow: the slowest reader loses the oldest line */
    h->stats.lines_in++;
    l->ring_ns = lj_time_mono_ns();
    if (w->loaded)
        lj_hub_stats_wait(&h->stats, 0, l->ring_ns - l->recv_ns);
    trim_ring(h, w);
    mark_watch(h, w);
}

static void hold(struct lj_watch *w, struct lj_line *l, uint64_t last_seq)
{
    if (w->nheld == HELD_MAX) {   /* a later gap fill recovers what goes here */
        lj_line_unref(w->held[w->held_head].line);
        w->held_head++;
        w->nheld--;
    }
    if (w->held_head + w->nheld == w->heldcap) {
        if (w->held_head > w->heldcap / 2) {    /* room at the front: slide (amortised) */
            memmove(w->held, w->held + w->held_head, w->nheld * sizeof(*w->held));
            w->held_head = 0;
        } else {
            size_t ncap = w->heldcap ? w->heldcap * 2 : 64;
            struct held *grown = realloc(w->held, ncap * sizeof(*grown));
            if (!grown) {
                lj_line_unref(l);
                return;
            }
            w->held = grown;
            w->heldcap = ncap;
        }
    }
    w->held[w->held_head + w->nheld++] = (struct held){ l, last_seq };
}

/* Applies held lines in order until one needs a fetch (which is then started). */
static void drain_held(struct lj_hub *h, struct lj_watch *w)
{
    size_t i = 0;
    for (; i < w->nheld && !w->fetching; i++) {
        struct held *x = &w->held[w->held_head + i];
        uint64_t newest = lj_ring_last_seq(&w->ring);
        if (x->line->seq <= newest) {
            lj_line_unref(x->line);
            continue;
        }
        if (x->last_seq > newest && x->last_seq > w->resolved) {
            h->stats.gap_fills++;
            watch_fetch(h, w, x->last_seq);
            if (w->fetching)
                break;
            /* cannot fetch now: keep holding, the tick retries */
            break;
        }
        apply_line(h, w, x->line);
        lj_line_unref(x->line);
    }
    w->held_head += i;
    w->nheld -= i;
    if (w->nheld == 0)
        w->held_head = 0;
}

/* A live line (we own one reference). */
static void on_live(struct lj_hub *h, struct lj_watch *w, struct lj_line *l, uint64_t last_seq)
{
    hold(w, l, last_seq);
    if (w->loaded && !w->fetching)
        drain_held(h, w);
}

static void serve_tap(struct lj_hub *h, struct lj_watch *w, struct lj_tap *t);
static bool replay_scan(struct lj_hub *h, struct lj_tap *t);

/* A fetch answered: its lines come before everything held. */
static void on_fetched(struct lj_hub *h, struct lj_watch *w, struct lj_feed_event *e)
{
    bool first = !w->loaded;
    w->fetching = false;
    w->fetch_failures = 0;
    if (e->last_seq > w->resolved)
        w->resolved = e->last_seq;
    for (size_t i = 0; i < e->nlines; i++)
        if (e->lines[i]->seq > lj_ring_last_seq(&w->ring))
            apply_line(h, w, e->lines[i]);
    w->loaded = true;
    if (first)
        for (struct lj_tap *t = w->taps; t; t = t->wnext)
            if (!t->live)
                serve_tap(h, w, t);
    drain_held(h, w);
}

static void on_fetch_failed(struct lj_hub *h, struct lj_watch *w)
{
    w->fetching = false;
    w->retry_at = lj_time_mono_ns() + FETCH_RETRY_NS;
    if (!w->loaded || !w->nheld || ++w->fetch_failures < FETCH_GIVE_UP)
        return;
    /* JetStream will not fill the hole (no permission, an outage behind a live core
     * connection): stop holding the live lines back. What is missing shows as a jump
     * in line_no, which every viewer gets as an `expired` gap. */
    const struct held *newest = &w->held[w->held_head + w->nheld - 1];
    lj_log(LJ_LOG_WARN, "cannot fill a missed republish from JetStream; going on without it",
           "container=%s failures=%d", w->key, w->fetch_failures);
    if (newest->last_seq > w->resolved)
        w->resolved = newest->last_seq;
    w->fetch_failures = 0;
    w->retry_at = 0;
    drain_held(h, w);
}

/* ---- taps ---- */

/* Expired-window check for a resume: lines after after_seq that the window no longer
 * has. lost is exact when the line_no of the container's newest line at or before
 * after_seq is known (the client's hint, the window, or the evicted index); otherwise
 * every line before the oldest retained one is counted. after_seq is a stream
 * sequence, so for a glob it positions every container; the after_line_no hint is one
 * container's and only used for a single-container subscription. */
static void resume_gap(struct lj_hub *h, struct lj_watch *w, struct lj_tap *t)
{
    const struct lj_ring *r = &w->ring;
    uint64_t start = lj_ring_window_start(r);
    struct lj_line *oldest = start < r->head ? lj_ring_get(r, start) : NULL;
    uint64_t after = t->sub->after_seq, known = 0, lost;

    if (!oldest || after >= oldest->seq || oldest->line_no <= 1)
        return;
    if (t->sub->after_line_no && !t->sub->glob)
        known = t->sub->after_line_no;
    else if (!lj_ring_line_no_at_or_before(r, after, &known))
        known = 0;
    if (known + 1 >= oldest->line_no)
        return;
    lost = oldest->line_no - 1 - known;
    h->stats.gaps_expired++;
    h->stats.lost_expired += lost;
    lj_session_gap_expired(t, after, oldest->seq, lost);
}

static void preparing_unlink(struct lj_hub *h, struct lj_tap *t)
{
    for (struct lj_tap **pp = &h->preparing; *pp; pp = &(*pp)->pnext)
        if (*pp == t) {
            *pp = t->pnext;
            break;
        }
    t->pnext = NULL;
}

/* Goes on scanning back for a preparing tap's replay (the last sub->replay lines at
 * or before its replay_end that pass its filters) until they are found, the window's
 * start is reached, or the session's grep budget is spent. Lines that left the window
 * meanwhile are not replayed. true when the replay was found and the tap released. */
static bool replay_scan(struct lj_hub *h, struct lj_tap *t)
{
    struct lj_watch *w = t->watch;
    const struct lj_ring *r = &w->ring;
    uint64_t start = lj_ring_window_start(r);

    if (t->scan < start)
        t->scan = start;
    while (t->scan > start && t->scan_got < t->sub->replay) {
        enum lj_grep_result k = lj_tap_check(t, t->scan - 1, lj_ring_get(r, t->scan - 1));
        if (k == LJ_GREP_MORE)
            return false;
        t->scan--;
        if (k == LJ_GREP_YES)
            t->scan_got++;
    }
    preparing_unlink(h, t);
    if (t->scan < w->low)
        w->low = t->scan;
    lj_tap_prepared(t, t->scan);
    return true;
}

/* Starts the tap's cursor at its replay (last N matching lines of the window) or its
 * resume (seq > after_seq); `replayed` follows once the cursor reaches today's head,
 * then live lines. */
static void serve_tap(struct lj_hub *h, struct lj_watch *w, struct lj_tap *t)
{
    const struct lj_sub *sub = t->sub;
    const struct lj_ring *r = &w->ring;
    uint64_t start = lj_ring_window_start(r), from = r->head;
    bool hole_first = false;

    if (t->seeking)
        return;    /* on_sought serves it */

    /* A resume, also for a container a glob found later: the client has every line up
     * to after_seq (a stream sequence, comparable across containers). */
    if (sub->after_seq) {
        resume_gap(h, w, t);
        from = lj_ring_index_after(r, sub->after_seq);
        /* The line before from is the client's last one: a hole right after it is
         * news. Before the window, resume_gap has counted it already. */
        hole_first = from > start;
    } else if (sub->since_ns) {
        from = lj_since_from(&w->ring, w->key, t);
    } else {
        uint64_t want = t->from_start ? r->head - start : sub->replay;
        if (want >= r->head - start)
            from = start;
        else if (!t->exact)
            from = r->head - want;
        else {
            /* The last `want` lines that pass the filters: scanned back from the head in
             * slices of the session's grep budget (replay_scan), so a costly grep costs
             * its own client time and never holds the service thread. Meanwhile the tap
             * is live at the head, so the lines that arrive are kept for it. */
            h->stats.replays_from_ring++;
            lj_tap_serve(t, r, r->head, 0, lj_ring_last_seq(r), false);
            t->preparing = true;
            t->scan = r->head;
            t->scan_got = 0;
            t->pnext = h->preparing;
            h->preparing = t;
            if (r->head < w->low)
                w->low = r->head;
            replay_scan(h, t);
            return;
        }
    }
    uint64_t newest = lj_ring_last_seq(r);
    if (from < w->low)
        w->low = from;
    h->stats.replays_from_ring++;
    lj_tap_serve(t, r, from, sub->after_seq, newest > sub->after_seq ? newest : sub->after_seq,
                 hole_first);
}

/* Splits "host/name" at its last '/' and builds "logs.<h>.<c>". */
static lj_status subject_of(const char *key, char *subject, size_t n)
{
    const char *slash = strrchr(key, '/');
    char host[LJ_CONTROL_CONTAINER_MAX + 1];
    if (!slash || slash == key || !slash[1] || (size_t)(slash - key) >= sizeof(host))
        return LJ_INVAL;
    memcpy(host, key, (size_t)(slash - key));
    host[slash - key] = '\0';
    return lj_subject_build("logs", host, slash + 1, subject, n);
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

/* Whether a new watch may be created for s (NULL: for the registry's news, which
 * only the total bounds); takes the tokens when it may. */
static bool watch_admit(struct lj_hub *h, struct lj_session *s)
{
    int64_t now = lj_time_mono_ns();
    if (h->nwatches >= h->cfg.max_watches)
        return false;
    if (!s)
        return true;
    bucket_refill(&h->watch_tokens, &h->watch_refill_ns, LJ_HUB_WATCH_BURST, LJ_HUB_WATCH_RATE, now);
    bucket_refill(&s->watch_tokens, &s->watch_refill_ns, LJ_HUB_CLIENT_WATCH_BURST,
                  LJ_HUB_CLIENT_WATCH_RATE, now);
    if (h->watch_tokens < 1 || s->watch_tokens < 1)
        return false;
    h->watch_tokens -= 1;
    s->watch_tokens -= 1;
    return true;
}

/* Creates a tap of sub on container key and attaches it (serving it when the ring
 * is ready). by: the session whose subscribe asks (rationed), NULL for a container
 * the registry just announced. */
static lj_status tap_add(struct lj_hub *h, struct lj_sub *sub, const char *key, bool from_start,
                         struct lj_session *by)
{
    char subject[LJ_SUBJECT_MAX];
    struct lj_watch *w;
    struct lj_tap *t, **grown;

    if (subject_of(key, subject, sizeof(subject)) != LJ_OK)
        return LJ_INVAL;
    if (!(w = watch_find(h, subject))) {
        if (!watch_admit(h, by))
            return LJ_LIMIT;
        if (!(w = watch_create(h, subject, key)))
            return LJ_NATS;
    }
    if (!(grown = realloc(sub->taps, (sub->ntaps + 1) * sizeof(*grown))))
        return LJ_NOMEM;
    sub->taps = grown;
    if (!(t = calloc(1, sizeof(*t))))
        return LJ_NOMEM;
    sub->taps[sub->ntaps++] = t;
    t->sub = sub;
    t->watch = w;
    t->from_start = from_start;
    t->exact = lj_sub_exact(sub);
    t->wnext = w->taps;
    if (w->taps)
        w->taps->wprev = t;
    w->taps = t;
    w->ntaps++;
    if (t->exact) {
        t->xnext = w->exact;
        if (w->exact)
            w->exact->xprev = t;
        w->exact = t;
    }
    w->idle_since = 0;
    if (sub->since_ns && !sub->after_seq) {
        /* Without an answer (out of memory) it is served from the window's start. */
        t->seeking = h->feed && lj_feed_seek(h->feed, subject, sub->since_ns) == LJ_OK;
        t->seek_first = 1;
    }
    if (w->loaded)
        serve_tap(h, w, t);
    return LJ_OK;
}

static void tap_detach(struct lj_hub *h, struct lj_tap *t)
{
    struct lj_watch *w = t->watch;
    if (!w)
        return;
    if (t->preparing) {
        preparing_unlink(h, t);
        t->preparing = false;
    }
    if (t->wprev)
        t->wprev->wnext = t->wnext;
    else
        w->taps = t->wnext;
    if (t->wnext)
        t->wnext->wprev = t->wprev;
    if (t->exact) {
        if (t->xprev)
            t->xprev->xnext = t->xnext;
        else
            w->exact = t->xnext;
        if (t->xnext)
            t->xnext->xprev = t->xprev;
    }
    t->watch = NULL;
    if (--w->ntaps == 0)
        w->idle_since = lj_time_mono_ns();
}

static bool sub_has_key(const struct lj_sub *sub, const char *key)
{
    for (size_t i = 0; i < sub->ntaps; i++)
        if (sub->taps[i]->watch && strcmp(sub->taps[i]->watch->key, key) == 0)
            return true;
    return false;
}

/* Whether the registry or a watch knows the container key ("host/name"). */
static bool known(struct lj_hub *h, const char *key)
{
    char subject[LJ_SUBJECT_MAX];
    static const char prefix[] = "logs.";
    if (subject_of(key, subject, sizeof(subject)) != LJ_OK)
        return true;    /* tap_add answers the malformed name */
    /* the registry's key is the subject's two tokens: "<h>.<c>" */
    return watch_find(h, subject) || centry_find(h, subject + sizeof(prefix) - 1);
}

static void to_sub(void *arg, const struct lj_lifecycle_event *ev)
{
    lj_events_to_sub(arg, ev);
}

/* A subscription that asks for history (replay, resume) is told the lifecycle state
 * of what it covers as it is now: lines come from the store, events only live. */
static void tell_current(struct lj_hub *h, struct lj_sub *sub)
{
    if (!sub->replay && !sub->after_seq && !sub->since_ns)
        return;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct centry *c = h->registry[b]; c; c = c->bnext)
            if (c->key && lj_events_covers(sub, c->key))
                lj_lifecycle_current(c->key, &c->lc, to_sub, sub);
}

lj_status lj_hub_subscribe(struct lj_hub *h, struct lj_sub *sub)
{
    lj_status st = LJ_OK;
    if (!sub->glob && known(h, sub->pattern)) {
        st = tap_add(h, sub, sub->pattern, false, sub->session);
        if (st == LJ_OK)
            tell_current(h, sub);
        return st;
    }
    for (size_t b = 0; sub->glob && b < NBUCKETS && st == LJ_OK; b++)
        for (struct centry *c = h->registry[b]; c && st == LJ_OK; c = c->bnext)
            if (lj_glob_match(sub->pattern, c->key) && lj_grant_allows(sub->session->grant, c->key))
                st = tap_add(h, sub, c->key, false, sub->session);
    tell_current(h, sub);
    /* globs, and a plain name not known yet, wait for the registry (glob_discover) */
    sub->waiting = true;
    sub->glob_next = h->globs;
    sub->glob_prev = NULL;
    if (h->globs)
        h->globs->glob_prev = sub;
    h->globs = sub;
    return st;
}

void lj_hub_unsubscribe(struct lj_hub *h, struct lj_sub *sub)
{
    for (size_t i = 0; i < sub->ntaps; i++)
        tap_detach(h, sub->taps[i]);
    if (!sub->waiting)
        return;
    sub->waiting = false;
    if (sub->glob_prev)
        sub->glob_prev->glob_next = sub->glob_next;
    else if (h->globs == sub)
        h->globs = sub->glob_next;
    if (sub->glob_next)
        sub->glob_next->glob_prev = sub->glob_prev;
    sub->glob_next = sub->glob_prev = NULL;
}

/* A container new to the registry: glob subs that match it start following it from
 * its first retained line, so nothing it printed before we heard of it is missed. */
static void glob_discover(struct lj_hub *h, const char *key)
{
    for (struct lj_sub *s = h->globs; s; s = s->glob_next)
        if (!s->session->closing && lj_glob_match(s->pattern, key)
            && lj_grant_allows(s->session->grant, key) && !sub_has_key(s, key)
            && tap_add(h, s, key, true, NULL) == LJ_LIMIT)
            lj_log(LJ_LOG_WARN, "watch limit reached: a subscription misses a new container",
                   "container=%s max_watches=%u", key, (unsigned)h->cfg.max_watches);
}

/* ---- registry ---- */

static void time_or_null(struct lj_buf *b, const char *name, int64_t ns)
{
    char ts[LJ_TIME_RFC3339_MAX];
    if (!ns) {
        lj_buf_appendf(b, ",\"%s\":null", name);
        return;
    }
    lj_time_format(ns, ts);
    lj_buf_appendf(b, ",\"%s\":\"%s\"", name, ts);
}

/* The /api/containers object of info. */
static lj_status container_json(const lj_pb_container *c, struct lj_buf *b)
{
    lj_buf_append(b, "{\"host\":", 8);
    lj_json_string(b, c->host ? c->host : "", c->host ? strlen(c->host) : 0);
    lj_buf_append(b, ",\"name\":", 8);
    lj_json_string(b, c->name ? c->name : "", c->name ? strlen(c->name) : 0);
    lj_buf_append(b, ",\"id\":", 6);
    lj_json_string(b, c->id ? c->id : "", c->id ? strlen(c->id) : 0);
    lj_buf_append(b, ",\"image\":", 9);
    lj_json_string(b, c->image ? c->image : "", c->image ? strlen(c->image) : 0);
    lj_buf_append(b, ",\"state\":", 9);
    lj_json_string(b, c->state ? c->state : "", c->state ? strlen(c->state) : 0);
    lj_buf_append(b, ",\"labels\":{", 11);
    for (size_t i = 0; i < c->n_labels; i++) {
        if (i)
            lj_buf_append(b, ",", 1);
        lj_json_string(b, c->labels[i]->key, strlen(c->labels[i]->key));
        lj_buf_append(b, ":", 1);
        lj_json_string(b, c->labels[i]->value, strlen(c->labels[i]->value));
    }
    lj_buf_append(b, "}", 1);
    time_or_null(b, "started_at", c->started_at_unix_nano);
    time_or_null(b, "finished_at", c->finished_at_unix_nano);
    lj_buf_appendf(b, ",\"tty\":%s}", c->tty ? "true" : "false");
    return LJ_OK;
}

static void centry_free(struct centry *c)
{
    free(c->kvkey);
    free(c->key);
    free(c->json);
    free(c);
}

/* Another entry with c's container id that is not removed: the old name of a rename
 * whose new name is written first (or NULL). */
static struct centry *centry_twin(struct lj_hub *h, const struct centry *c)
{
    if (!c->lc.id[0] || strcmp(c->lc.state, "removed") == 0)
        return NULL;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct centry *o = h->registry[b]; o; o = o->bnext)
            if (o != c && o->key && !o->renamed_away && strcmp(o->lc.id, c->lc.id) == 0
                && strcmp(o->lc.state, "removed") != 0)
                return o;
    return NULL;
}

/* Lifecycle events: every subscription covering the container is told. */
static void broadcast(void *arg, const struct lj_lifecycle_event *ev)
{
    struct lj_hub *h = arg;
    lj_events_broadcast(h->sessions, ev);
}

static void on_registry_put(struct lj_hub *h, const char *kvkey, const lj_pb_container *info)
{
    struct centry *c = centry_find(h, kvkey);
    struct lj_buf b;
    bool fresh = !c;
    struct lj_lifecycle_state was, now;

    if (!info->host || !info->name || !*info->host || !*info->name)
        return;
    lj_buf_init(&b);
    container_json(info, &b);
    if (fresh) {
        if (!(c = calloc(1, sizeof(*c))) || !(c->kvkey = strdup(kvkey))) {
            if (c)
                centry_free(c);
            lj_buf_finish(&b);
            return;
        }
        size_t n = strlen(info->host) + strlen(info->name) + 2;
        if ((c->key = malloc(n)))
            snprintf(c->key, n, "%s/%s", info->host, info->name);
        size_t bk = hash(kvkey);
        c->bnext = h->registry[bk];
        h->registry[bk] = c;
        h->ncontainers++;
    }
    free(c->json);
    c->json = strdup(lj_buf_cstr(&b));
    lj_buf_finish(&b);
    was = c->lc;
    lj_lifecycle_state_of(info, &now);
    /* A "removed" entry carries only the id and name: the run it ended stays known. */
    if (!fresh && strcmp(now.state, "removed") == 0 && !now.started_ns && strcmp(was.id, now.id) == 0) {
        now.started_ns = was.started_ns;
        now.finished_ns = was.finished_ns;
        now.exit_code = was.exit_code;
        now.oom_killed = was.oom_killed;
    }
    c->lc = now;
    if (fresh && c->key)
        glob_discover(h, c->key);
    /* The entries the bucket held at start-up are no news: events only after them. */
    if (!c->key || !atomic_load(&h->registry_synced))
        return;
    if (c->renamed_away && strcmp(now.state, "removed") == 0) {
        c->renamed_away = false;    /* the second half of a rename already told */
        return;
    }
    struct centry *twin = fresh ? centry_twin(h, c) : NULL;
    if (lj_lifecycle_put(h->lifecycle, c->key, fresh ? NULL : &was, &now, twin ? twin->key : NULL,
                         twin ? &twin->lc : NULL, lj_time_mono_ns(), broadcast, h))
        twin->renamed_away = true;
}

static void on_registry_del(struct lj_hub *h, const char *kvkey)
{
    struct centry **pp = &h->registry[hash(kvkey)];
    while (*pp && strcmp((*pp)->kvkey, kvkey) != 0)
        pp = &(*pp)->bnext;
    if (*pp) {
        struct centry *c = *pp;
        *pp = c->bnext;
        if (c->key && strcmp(c->lc.state, "removed") != 0 && atomic_load(&h->registry_synced)) {
            struct lj_lifecycle_state gone = c->lc;
            snprintf(gone.state, sizeof(gone.state), "removed");
            gone.updated_ns = lj_time_now_ns();
            lj_lifecycle_put(h->lifecycle, c->key, &c->lc, &gone, NULL, NULL, lj_time_mono_ns(),
                             broadcast, h);
        }
        centry_free(c);
        h->ncontainers--;
    }
}

void lj_hub_containers_json(struct lj_hub *h, const struct lj_grant *grant, struct lj_buf *out)
{
    bool first = true;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct centry *c = h->registry[b]; c; c = c->bnext) {
            if (!c->key || !c->json || !lj_grant_allows(grant, c->key))
                continue;
            if (!first)
                lj_buf_append(out, ",", 1);
            lj_buf_append(out, c->json, strlen(c->json));
            first = false;
        }
}

/* ---- events ---- */

/* JetStream said where the lines from a time on begin: the taps that asked (by that
 * time) are served once the ring is loaded. */
static void on_sought(struct lj_hub *h, struct lj_watch *w, const struct lj_feed_event *e)
{
    for (struct lj_tap *t = w->taps; t; t = t->wnext) {
        if (!t->seeking || t->sub->since_ns != e->since_ns)
            continue;
        t->seeking = false;
        /* Both 0: the read failed (or nothing is stored): the window, filtered by time. */
        t->seek_first = e->first_seq ? e->first_seq : e->oldest_seq ? 0 : 1;
        t->seek_oldest = e->oldest_seq;
        if (w->loaded && !t->live)
            serve_tap(h, w, t);
    }
}

/* After a (re)connect: anything stored while we were away is fetched. */
static void on_connected(struct lj_hub *h)
{
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct lj_watch *w = h->watches[b]; w; w = w->bnext)
            if (!w->fetching)
                watch_fetch(h, w, 0);
}

static void on_event(struct lj_hub *h, struct lj_feed_event *e)
{
    struct lj_watch *w = NULL;
    if (e->kind == LJ_FEED_LIVE || e->kind == LJ_FEED_FETCHED || e->kind == LJ_FEED_FETCH_FAILED
        || e->kind == LJ_FEED_SOUGHT)
        if (!(w = watch_find(h, e->subject)))
            return;    /* released meanwhile */
    switch (e->kind) {
    case LJ_FEED_LIVE:
        on_live(h, w, e->lines[0], e->last_seq);
        e->nlines = 0;    /* the reference moved into the watch */
        break;
    case LJ_FEED_FETCHED: on_fetched(h, w, e); break;
    case LJ_FEED_FETCH_FAILED: on_fetch_failed(h, w); break;
    case LJ_FEED_SOUGHT: on_sought(h, w, e); break;
    case LJ_FEED_REGISTRY_PUT: on_registry_put(h, e->subject, e->info); break;
    case LJ_FEED_REGISTRY_DEL: on_registry_del(h, e->subject); break;
    case LJ_FEED_CONNECTED: on_connected(h); break;
    case LJ_FEED_REGISTRY_SYNCED: atomic_store(&h->registry_synced, true); break;
    }
}

void lj_hub_apply(struct lj_hub *h, struct lj_feed_event *e)
{
    on_event(h, e);
    lj_feed_event_free(e);
}

void lj_hub_mark_dirty(struct lj_hub *h, struct lj_session *s)
{
    if (s->dirty || !s->wsi)
        return;
    if (s->idle) {    /* it has had nothing to send: the stall clock starts now */
        s->idle = false;
        s->progress_ns = lj_time_mono_ns();
    }
    s->dirty = true;
    s->dirty_next = h->dirty;
    h->dirty = s;
}

void lj_hub_starved(struct lj_hub *h, struct lj_session *s)
{
    if (s->starved || s->closing)
        return;
    s->starved = true;
    s->starved_next = h->starved;
    h->starved = s;
    if (h->feed)
        lj_feed_rewake(h->feed);
}

/* A new service pass: the sessions that spent their grep budget get it back and are
 * woken, and the filtered replays still scanning go on (each within its budget). */
static void refill(struct lj_hub *h)
{
    struct lj_session *s = h->starved;
    h->starved = NULL;
    while (s) {
        struct lj_session *n = s->starved_next;
        s->starved = false;
        s->grep_budget = LJ_SESSION_GREP_BUDGET;
        lj_hub_mark_dirty(h, s);
        s = n;
    }
    for (struct lj_tap *t = h->preparing, *n; t; t = n) {
        n = t->pnext;
        replay_scan(h, t);
    }
}

/* Recomputes w->low from the live taps' cursors and, when wake, puts their sessions
 * on the wake list: once per watch per service pass however many lines came. A tap
 * with filters is first moved over the lines it does not want, so a client whose
 * filters reject everything new is not woken for nothing. */
static void wake_watch(struct lj_hub *h, struct lj_watch *w, bool wake)
{
    uint64_t low = w->ring.head;
    for (struct lj_tap *t = w->taps; t; t = t->wnext) {
        struct lj_session *s = t->sub->session;
        if (!t->live)
            continue;
        /* A closing session's taps still count for `low` until it is freed (within
         * a second), so an exact tap is never left behind the tail. */
        if (wake && !s->dirty && !s->closing && (!t->exact || lj_tap_pending(t)))
            lj_hub_mark_dirty(h, s);
        if (t->cursor < low)
            low = t->cursor;
    }
    w->low = low;
}

/* Moves the feed's queued events behind the backlog. Taking also re-opens the feed's
 * wake gate, so a line pushed after this wakes the loop again. */
static void take_events(struct lj_hub *h)
{
    struct lj_feed_event *e = lj_feed_take(h->feed);
    if (!e)
        return;
    if (h->backlog_tail)
        h->backlog_tail->next = e;
    else
        h->backlog = e;
    while (e->next)
        e = e->next;
    h->backlog_tail = e;
}

/* Applies events, oldest first, until none is left or the slice is spent. Returns
 * true when events are left for a later pass. */
static bool apply_events(struct lj_hub *h)
{
    int64_t end = lj_time_mono_ns() + LJ_HUB_SLICE_NS;
    take_events(h);
    while (h->backlog) {
        struct lj_feed_event *e = h->backlog;
        if (!(h->backlog = e->next))
            h->backlog_tail = NULL;
        lj_hub_apply(h, e);
        /* Why a time slice: at 1000 clients one line costs ~1 ms of fan-out, and a
         * pass that drained a seconds-long backlog left every client unwritten. */
        if (lj_time_mono_ns() >= end)
            return h->backlog != NULL;
        if (!h->backlog)
            take_events(h);
    }
    return false;
}

void lj_hub_service(struct lj_hub *h)
{
    refill(h);
    if (h->feed && apply_events(h))
        lj_feed_rewake(h->feed);   /* EVENT_WAIT_CANCELLED again after the writes */
    while (h->dirty_watches) {
        struct lj_watch *w = h->dirty_watches;
        h->dirty_watches = w->dirty_next;
        w->dirty = false;
        wake_watch(h, w, true);
    }
    /* One writable request per session per loop pass, however many lines it got. */
    while (h->dirty) {
        struct lj_session *s = h->dirty;
        h->dirty = s->dirty_next;
        s->dirty = false;
        if (s->wsi && h->writable) {
            if (!s->asked_ns)
                s->asked_ns = lj_time_mono_ns();
            h->writable(s->wsi);
        }
    }
}

/* ---- sessions ---- */

void lj_hub_session_add(struct lj_hub *h, struct lj_session *s)
{
    s->prev = NULL;
    s->next = h->sessions;
    if (h->sessions)
        h->sessions->prev = s;
    h->sessions = s;
    h->nsessions++;
}

static void session_unlink(struct lj_hub *h, struct lj_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        h->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->nsessions--;
}

void lj_hub_session_closed(struct lj_hub *h, struct lj_session *s)
{
    struct lj_session **pp = &h->dirty;
    session_unlink(h, s);
    while (*pp && *pp != s)
        pp = &(*pp)->dirty_next;
    if (*pp)
        *pp = s->dirty_next;
    for (pp = &h->starved; s->starved && *pp; pp = &(*pp)->starved_next)
        if (*pp == s) {
            *pp = s->starved_next;
            break;
        }
    s->starved = false;
    s->dirty = false;
    s->wsi = NULL;
    s->closing = true;
    s->next = h->graveyard;
    h->graveyard = s;
}

size_t lj_hub_session_count(const struct lj_hub *h)
{
    return h->nsessions;
}

void lj_hub_each_session(struct lj_hub *h, void (*fn)(struct lj_session *s))
{
    for (struct lj_session *s = h->sessions, *n; s; s = n) {
        n = s->next;
        fn(s);
    }
}

/* ---- housekeeping ---- */

/* Watches released (since the last trim) past which the freed memory is handed back to
 * the kernel, and also when the last one went: glibc keeps freed heap (per thread
 * arena) for reuse otherwise, so a burst of watches would leave the process at its
 * peak size. A trim costs about a millisecond per 100 MB of heap. */
#define TRIM_AFTER_WATCHES 32

static void tick_watches(struct lj_hub *h, int64_t now)
{
    size_t freed = h->freed_untrimmed;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct lj_watch *w = h->watches[b], *n; w; w = n) {
            n = w->bnext;
            if (!w->ntaps && w->idle_since && now - w->idle_since > h->cfg.linger_ns) {
                watch_free(h, w);
                freed++;
                continue;
            }
            if (!w->fetching && w->retry_at && now >= w->retry_at)
                watch_fetch(h, w, 0);
            /* Lines kept for readers that caught up or left since the last line. */
            wake_watch(h, w, false);
            trim_ring(h, w);
            lj_ring_shrink(&w->ring);
        }
    h->freed_untrimmed = freed;
    if (freed >= TRIM_AFTER_WATCHES || (freed && !h->nwatches)) {
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        h->freed_untrimmed = 0;
    }
}

void lj_hub_tick(struct lj_hub *h, void (*close_cb)(struct lj_session *s))
{
    int64_t now = lj_time_mono_ns();
    /* Sessions closed during the last second: no callback of theirs is running. */
    while (h->graveyard) {
        struct lj_session *s = h->graveyard;
        h->graveyard = s->next;
        lj_session_destroy(s);
    }
    tick_watches(h, now);
    lj_lifecycle_tick(h->lifecycle, now, false, broadcast, h);
    for (struct lj_session *s = h->sessions, *n; s; s = n) {
        n = s->next;
        if (!s->closing && now - s->progress_ns > h->cfg.stall_ns && lj_session_pending(s)) {
            h->stats.slow_closes++;
            close_cb(s);
        }
        lj_session_trim(s, now, QUEUE_IDLE_NS);
    }
}

void lj_hub_destroy(struct lj_hub *h)
{
    if (!h)
        return;
    while (h->backlog) {
        struct lj_feed_event *e = h->backlog;
        h->backlog = e->next;
        lj_feed_event_free(e);
    }
    h->backlog_tail = NULL;
    h->dirty_watches = NULL;
    while (h->sessions) {
        struct lj_session *s = h->sessions;
        lj_hub_session_closed(h, s);
    }
    while (h->graveyard) {
        struct lj_session *s = h->graveyard;
        h->graveyard = s->next;
        lj_session_destroy(s);
    }
    lj_lifecycle_destroy(h->lifecycle);
    for (size_t b = 0; b < NBUCKETS; b++) {
        while (h->watches[b])
            watch_free(h, h->watches[b]);
        while (h->registry[b]) {
            struct centry *c = h->registry[b];
            h->registry[b] = c->bnext;
            centry_free(c);
        }
    }
    free(h);
}

struct lj_hub_stats *lj_hub_stats(struct lj_hub *h) { return &h->stats; }

const char *lj_hub_watch_key(const struct lj_watch *w) { return w ? w->key : ""; }

uint32_t lj_hub_depth(const struct lj_hub *h) { return h->cfg.depth; }

bool lj_hub_nats_connected(const struct lj_hub *h)
{
    return h->feed && lj_feed_connected(h->feed);
}

bool lj_hub_nats_healthy(const struct lj_hub *h, char *why, size_t whylen)
{
    if (!h->feed) {
        snprintf(why, whylen, "NATS feed not started");
        return false;
    }
    if (!lj_feed_healthy(h->feed, why, whylen))
        return false;
    if (!atomic_load(&h->registry_synced)) {
        /* A balancer must not send clients to a gateway whose container list is not
         * loaded yet: /api/containers and list would answer short. */
        snprintf(why, whylen, "container registry not loaded yet");
        return false;
    }
    return true;
}

/* ---- /metrics ---- */

static void counter(struct lj_buf *b, const char *name, const char *help, uint64_t v)
{
    lj_metrics_header(b, name, "counter", help);
    lj_metrics_u64(b, name, NULL, NULL, v);
}

static void gauge(struct lj_buf *b, const char *name, const char *help, uint64_t v)
{
    lj_metrics_header(b, name, "gauge", help);
    lj_metrics_u64(b, name, NULL, NULL, v);
}

void lj_hub_metrics(struct lj_hub *h, struct lj_buf *b)
{
    const struct lj_hub_stats *st = &h->stats;
    size_t subs = 0, queued = 0;
    for (struct lj_session *s = h->sessions; s; s = s->next) {
        subs += s->nsubs;
        queued += lj_session_backlog(s);
    }
    gauge(b, "logjet_gateway_clients", "Open WebSocket clients.", h->nsessions);
    gauge(b, "logjet_gateway_subscriptions", "Client subscriptions.", subs);
    gauge(b, "logjet_gateway_nats_subscriptions",
          "Core NATS subscriptions on live subjects (one per watched container).", h->nwatches);
    gauge(b, "logjet_gateway_containers", "Containers known from the registry.", h->ncontainers);
    gauge(b, "logjet_gateway_queued_bytes",
          "Bytes clients have still to receive (lines behind their cursors, unfiltered; messages).",
          queued);
    gauge(b, "logjet_gateway_nats_connected", "1 when connected to NATS.", lj_hub_nats_connected(h));
    counter(b, "logjet_gateway_jetstream_consumers_created_total",
            "JetStream consumers created (ring fills, gap fills, catch-ups).",
            h->feed ? lj_feed_consumers_created(h->feed) : 0);
    counter(b, "logjet_gateway_fetch_errors_total", "Failed JetStream fetches.",
            h->feed ? lj_feed_fetch_errors(h->feed) : 0);
    counter(b, "logjet_gateway_nats_connects_total", "NATS (re)connections.",
            h->feed ? lj_feed_reconnects(h->feed) : 0);
    counter(b, "logjet_gateway_lines_in_total", "Distinct lines added to rings.", st->lines_in);
    counter(b, "logjet_gateway_gap_fills_total", "Missed republishes repaired from JetStream.",
            st->gap_fills);
    counter(b, "logjet_gateway_replays_total", "Subscriptions served from a ring.",
            st->replays_from_ring);
    counter(b, "logjet_gateway_frames_out_total", "WebSocket frames sent.", st->frames_out);
    counter(b, "logjet_gateway_bytes_out_total", "WebSocket payload bytes sent.", st->bytes_out);
    counter(b, "logjet_gateway_lines_out_total", "Lines sent to clients.", st->lines_out);
    lj_metrics_header(b, "logjet_gateway_gaps_total", "counter", "Gap messages sent, by reason.");
    lj_metrics_u64(b, "logjet_gateway_gaps_total", "reason", "slow_client", st->gaps_slow);
    lj_metrics_u64(b, "logjet_gateway_gaps_total", "reason", "expired", st->gaps_expired);
    lj_metrics_header(b, "logjet_gateway_lost_lines_total", "counter",
                      "Lines announced as lost in gap messages, by reason.");
    lj_metrics_u64(b, "logjet_gateway_lost_lines_total", "reason", "slow_client", st->lost_slow);
    lj_metrics_u64(b, "logjet_gateway_lost_lines_total", "reason", "expired", st->lost_expired);
    counter(b, "logjet_gateway_slow_client_closes_total", "Clients closed for staying stalled.",
            st->slow_closes);
    counter(b, "logjet_gateway_control_errors_total", "Control messages answered with error.",
            st->control_errors);
    lj_metrics_header(b, "logjet_gateway_line_wait_seconds", "histogram",
                      "Live lines' wait inside the gateway, from their arrival from NATS to "
                      "their ring (stage=ring) and to the frame that carries them (stage=frame); "
                      "from a session's wake to its writable callback (stage=writable), from a write "
                      "that left more to the next callback (stage=again), from ring to frame "
                      "(stage=ring_to_frame).");
    for (int stage = 0; stage < 5; stage++) {
        static const char *const names[] = { "ring", "frame", "writable", "again", "ring_to_frame" };
        const char *name = names[stage];
        uint64_t cum = 0;
        for (int k = 0; k < LJ_HUB_WAIT_BUCKETS; k++) {
            cum += st->wait[stage][k];
            if (k < LJ_HUB_WAIT_BUCKETS - 1)
                lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n",
                               name, (double)(125000LL << k) / 1e9, (unsigned long long)cum);
            else
                lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n",
                               name, (unsigned long long)cum);
        }
        lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_sum{stage=\"%s\"} %.6f\n", name,
                       (double)st->wait_sum_ns[stage] / 1e9);
        lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_count{stage=\"%s\"} %llu\n", name,
                       (unsigned long long)cum);
    }
    lj_metrics_header(b, "logjet_gateway_lag_seconds", "gauge",
                      "Container write to frame sent, for the newest frame.");
    lj_metrics_f64(b, "logjet_gateway_lag_seconds", NULL, NULL, (double)st->lag_ns / 1e9);
}
