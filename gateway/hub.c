/* hub.c - taps attached to watches and served from their rings, fan-out by cursor,
 * the feed's events applied in slices, and the glob subscriptions.
 * The watch table itself (lookup, creation bounds, linger, trimming) is watches.c's.
 *
 * Fan-out: a watch (watch.c) appends a line to its ring and tells the hub
 * (got_lines), which puts it on the dirty list; at the end of the service pass
 * wake_watch wakes the sessions of its taps (once per pass, not per line) and
 * recomputes the lowest cursor, which tells lj_watch_trim which lines older than the
 * window a tap still needs. The lines themselves are read from the ring by
 * lj_session_next_frame. Per line the hub does O(1) work; per pass, O(taps) of the
 * watches that got lines. The order of lines within a watch is argued in watch.c; the
 * container table is containers.c's.
 */
#include "hub.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "events.h"
#include "glob.h"
#include "list.h"
#include "lifecycle.h"
#include "replay.h"
#include "sessions.h"
#include "watch.h"
#include "watches.h"
#include "log.h"
#include "subject.h"
#include "timeutil.h"

struct lj_hub {
    struct lj_hub_config cfg;
    struct lj_feed *feed;
    struct lj_feed_event *backlog;    /* taken from the feed, not applied yet, oldest first */
    struct lj_feed_event *backlog_tail;
    struct lj_watches watches;        /* the table, its bounds and dirty list */
    struct lj_containers *containers;   /* the registry's view */
    struct lj_sessions *sessions;     /* the server's (borrowed): to wake, starve, count */
    struct lj_sub *globs;             /* glob subs waiting for new containers, and plain
                                         ones waiting for theirs to be registered */
    struct lj_replay replay;          /* filtered replays still scanning */
    struct lj_stats stats;
    atomic_bool registry_synced;      /* the bucket's entries at start-up are applied:
                                         until then lists would be short, so not healthy */
};

/* The container table's hooks (containers.h), below. */
static void glob_discover(void *arg, const char *key);
static void broadcast(void *arg, const struct lj_lifecycle_event *ev);

lj_status lj_hub_create(const struct lj_hub_config *cfg, struct lj_hub **out)
{
    struct lj_hub *h = calloc(1, sizeof(*h));
    if (!h)
        return LJ_NOMEM;
    struct lj_containers_hooks hooks = { .discover = glob_discover, .emit = broadcast, .arg = h };
    if (lj_containers_create(&hooks, &h->containers) != LJ_OK) {
        free(h);
        return LJ_NOMEM;
    }
    h->cfg = *cfg;
    h->replay.stats = &h->stats;
    lj_watches_init(&h->watches, cfg->max_watches);
    h->watches.env.stats = &h->stats;
    h->watches.env.depth = cfg->depth;
    h->watches.env.max_queue = cfg->limits.max_queue;
    *out = h;
    return LJ_OK;
}

void lj_hub_set_feed(struct lj_hub *h, struct lj_feed *feed)
{
    h->feed = feed;
    h->watches.env.feed = feed;
}

void lj_hub_set_sessions(struct lj_hub *h, struct lj_sessions *sessions)
{
    h->sessions = sessions;
}

/* ---- watches ---- */




/* A fetch answered: on the first load the taps waiting for the ring are served, at
 * its head as it is now; then the held lines follow. */
static void on_fetched(struct lj_hub *h, struct lj_watch *w, struct lj_feed_event *e)
{
    if (lj_watch_fetched(w, e))
        for (struct lj_tap *t = w->taps; t; t = t->wnext)
            if (!t->live)
                lj_replay_serve(&h->replay, w, t);
    lj_watch_drain(w);
}

/* ---- taps ---- */

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



/* Creates a tap of sub on container key and attaches it (serving it when the ring
 * is ready). ask: why, for the watch bounds (watches.h). */
static lj_status tap_add(struct lj_hub *h, struct lj_sub *sub, const char *key, bool from_start,
                         enum lj_watches_ask ask)
{
    char subject[LJ_SUBJECT_MAX];
    struct lj_watch *w;
    struct lj_tap *t;

    if (subject_of(key, subject, sizeof(subject)) != LJ_OK)
        return LJ_INVAL;
    if (!(w = lj_watches_find(&h->watches, subject))) {
        if (!lj_watches_admit(&h->watches, sub->owner, ask))
            return LJ_LIMIT;
        if (!(w = lj_watches_add(&h->watches, subject, key)))
            return LJ_NATS;
    }
    if (lj_tap_create(sub, &t) != LJ_OK)
        return LJ_NOMEM;
    t->watch = w;
    t->floor = &w->floor;
    t->key = w->key;
    t->from_start = from_start;
    t->exact = lj_sub_exact(sub);
    LJ_LIST_PUSH(w->taps, t, wnext, wprev);
    w->ntaps++;
    if (t->exact)
        LJ_LIST_PUSH(w->exact, t, xnext, xprev);
    w->idle_since = 0;
    if (sub->since_ns && !sub->after_seq) {
        /* Without an answer (out of memory) it is served from the window's start. */
        t->seeking = h->feed && lj_feed_seek(h->feed, subject, sub->since_ns) == LJ_OK;
        t->seek_first = 1;
    }
    if (w->loaded)
        lj_replay_serve(&h->replay, w, t);
    return LJ_OK;
}

static void tap_detach(struct lj_hub *h, struct lj_tap *t)
{
    struct lj_watch *w = t->watch;
    if (!w)
        return;
    lj_replay_forget(&h->replay, t);
    LJ_LIST_UNLINK(w->taps, t, wnext, wprev);
    if (t->exact)
        LJ_LIST_UNLINK(w->exact, t, xnext, xprev);
    t->watch = NULL;
    t->floor = NULL;
    t->key = NULL;
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
    return lj_watches_find(&h->watches, subject) || lj_containers_has(h->containers, subject + sizeof(prefix) - 1);
}

static void to_sub(void *arg, const struct lj_lifecycle_event *ev)
{
    lj_events_to_sub(arg, ev);
}

static lj_status tell_entry(void *arg, const char *key, const struct lj_lifecycle_state *lc)
{
    if (lj_events_covers(arg, key))
        lj_lifecycle_current(key, lc, to_sub, arg);
    return LJ_OK;
}

/* A subscription that asks for history (replay, resume) is told the lifecycle state
 * of what it covers as it is now: lines come from the store, events only live. */
static void tell_current(struct lj_hub *h, struct lj_sub *sub)
{
    if (!sub->replay && !sub->after_seq && !sub->since_ns)
        return;
    lj_containers_each(h->containers, tell_entry, sub);
}

/* A registry entry a glob subscribe finds: a tap when the glob and the grant allow. */
struct glob_add {
    struct lj_hub *h;
    struct lj_sub *sub;
};

static lj_status glob_entry(void *arg, const char *key, const struct lj_lifecycle_state *lc)
{
    struct glob_add *ga = arg;
    (void)lc;
    if (!lj_glob_match(ga->sub->pattern, key) || !lj_grant_allows(ga->sub->grant, key))
        return LJ_OK;
    return tap_add(ga->h, ga->sub, key, false, LJ_WATCHES_ASK_GLOB);
}

lj_status lj_hub_subscribe(struct lj_hub *h, struct lj_sub *sub)
{
    lj_status st = LJ_OK;
    if (!sub->glob && known(h, sub->pattern)) {
        st = tap_add(h, sub, sub->pattern, false, LJ_WATCHES_ASK_NAME);
        if (st == LJ_OK)
            tell_current(h, sub);
        return st;
    }
    if (sub->glob) {
        struct glob_add ga = { h, sub };
        if (!lj_watches_admit_client(sub->owner))
            return LJ_LIMIT;
        st = lj_containers_each(h->containers, glob_entry, &ga);
    }
    tell_current(h, sub);
    /* globs, and a plain name not known yet, wait for the registry (glob_discover) */
    sub->waiting = true;
    LJ_LIST_PUSH(h->globs, sub, glob_next, glob_prev);
    return st;
}

void lj_hub_unsubscribe(struct lj_hub *h, struct lj_sub *sub)
{
    for (size_t i = 0; i < sub->ntaps; i++)
        tap_detach(h, sub->taps[i]);
    if (!sub->waiting)
        return;
    sub->waiting = false;
    LJ_LIST_UNLINK(h->globs, sub, glob_next, glob_prev);
}

/* A container new to the registry: glob subs that match it start following it from
 * its first retained line, so nothing it printed before we heard of it is missed. */
static void glob_discover(void *arg, const char *key)
{
    struct lj_hub *h = arg;
    for (struct lj_sub *s = h->globs; s; s = s->glob_next)
        if (!*s->owner->closing && lj_glob_match(s->pattern, key)
            && lj_grant_allows(s->grant, key) && !sub_has_key(s, key)
            && tap_add(h, s, key, true, LJ_WATCHES_ASK_REGISTRY) == LJ_LIMIT)
            lj_log(LJ_LOG_WARN, "watch limit reached: a subscription misses a new container",
                   "container=%s max_watches=%u", key, (unsigned)h->watches.max);
}

/* Lifecycle events: every subscription covering the container is told. */
static void broadcast(void *arg, const struct lj_lifecycle_event *ev)
{
    struct lj_hub *h = arg;
    if (h->sessions)
        lj_events_broadcast(h->sessions->open, ev);
}

void lj_hub_containers_json(struct lj_hub *h, const struct lj_grant *grant, struct lj_buf *out)
{
    lj_containers_json(h->containers, grant, out);
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
            lj_replay_serve(&h->replay, w, t);
    }
}

static void on_event(struct lj_hub *h, struct lj_feed_event *e)
{
    struct lj_watch *w = NULL;
    if (e->kind == LJ_FEED_LIVE || e->kind == LJ_FEED_FETCHED || e->kind == LJ_FEED_FETCH_FAILED
        || e->kind == LJ_FEED_SOUGHT)
        if (!(w = lj_watches_find(&h->watches, e->subject)))
            return;    /* released meanwhile */
    switch (e->kind) {
    case LJ_FEED_LIVE:
        lj_watch_live(w, e->lines[0], e->last_seq);
        e->nlines = 0;    /* the reference moved into the watch */
        break;
    case LJ_FEED_FETCHED: on_fetched(h, w, e); break;
    case LJ_FEED_FETCH_FAILED: lj_watch_fetch_failed(w); break;
    case LJ_FEED_SOUGHT: on_sought(h, w, e); break;
    case LJ_FEED_REGISTRY_PUT:
        lj_containers_put(h->containers, e->subject, e->info, atomic_load(&h->registry_synced));
        break;
    case LJ_FEED_REGISTRY_DEL:
        lj_containers_del(h->containers, e->subject, atomic_load(&h->registry_synced));
        break;
    case LJ_FEED_CONNECTED: lj_watches_refetch(&h->watches); break;   /* what came meanwhile */
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
    lj_sessions_wake(h->sessions, s);
}

void lj_hub_starved(struct lj_hub *h, struct lj_session *s)
{
    if (lj_sessions_starve(h->sessions, s) && h->feed)
        lj_feed_rewake(h->feed);
}

/* A new service pass: the sessions that spent their grep budget get it back and are
 * woken, and the filtered replays still scanning go on (each within its budget). */
static void refill(struct lj_hub *h)
{
    if (h->sessions)
        lj_sessions_refill(h->sessions);
    lj_replay_scan_all(&h->replay);
}

/* Recomputes w->low from the live taps' cursors and, when wake, puts their sessions
 * on the wake list: once per watch per service pass however many lines came. A tap
 * with filters is first moved over the lines it does not want, so a client whose
 * filters reject everything new is not woken for nothing. */
static void wake_watch(struct lj_hub *h, struct lj_watch *w, bool wake)
{
    uint64_t low = w->ring.lines.head;
    for (struct lj_tap *t = w->taps; t; t = t->wnext) {
        struct lj_session *s = t->sub->session;
        if (!t->live)
            continue;
        /* A closing session's taps still count for `low` until it is freed (within
         * a second), so an exact tap is never left behind the tail. */
        if (wake && lj_sessions_asleep(s) && (!t->exact || lj_tap_pending(t)))
            lj_sessions_wake(h->sessions, s);
        if (t->cursor < low)
            low = t->cursor;
    }
    w->low = low;
}

/* The watch table's tick asks for w->low before it trims w's ring. */
static void low_of(void *arg, struct lj_watch *w)
{
    wake_watch(arg, w, false);
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
    struct lj_watch *w;
    while ((w = lj_watches_take_dirty(&h->watches)))
        wake_watch(h, w, true);
    if (h->sessions)
        lj_sessions_write(h->sessions);
}

/* ---- housekeeping ---- */


void lj_hub_tick(struct lj_hub *h)
{
    int64_t now = lj_time_mono_ns();
    lj_watches_tick(&h->watches, now, h->cfg.linger_ns, low_of, h);
    lj_containers_tick(h->containers, now);
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
    lj_containers_destroy(h->containers);
    lj_watches_finish(&h->watches);
    free(h);
}

struct lj_stats *lj_hub_stats(struct lj_hub *h) { return &h->stats; }


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
    lj_stats_metric(b, "counter", name, help, v);
}

static void gauge(struct lj_buf *b, const char *name, const char *help, uint64_t v)
{
    lj_stats_metric(b, "gauge", name, help, v);
}

void lj_hub_metrics(struct lj_hub *h, struct lj_buf *b)
{
    size_t subs = 0, queued = 0;
    if (h->sessions)
        lj_sessions_gauges(h->sessions, &subs, &queued);
    gauge(b, "logjet_gateway_clients", "Open WebSocket clients.", h->sessions ? h->sessions->count : 0);
    gauge(b, "logjet_gateway_subscriptions", "Client subscriptions.", subs);
    gauge(b, "logjet_gateway_nats_subscriptions",
          "Core NATS subscriptions on live subjects (one per watched container).", h->watches.count);
    gauge(b, "logjet_gateway_containers", "Containers known from the registry.", lj_containers_count(h->containers));
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
    lj_stats_metrics(&h->stats, b);
}
