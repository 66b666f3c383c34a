/* watch.h - one watched container: the core NATS subscription on its live subject,
 * its ring (ring.h) of lines with absolute indexes, the lines held back while a hole
 * is fetched from JetStream, and eviction.
 *
 * The ring always keeps the last `depth` lines (the window), plus older ones some
 * tap's cursor has not passed yet, up to max_queue bytes. It is filled from
 * JetStream once, when the watch is created; after that every viewer's replay comes
 * from memory. A line whose Nats-Last-Sequence is beyond the ring's newest seq
 * reveals a missed republish: the hole is fetched and the held lines follow it, so
 * viewers never see a hole the stream does not have (the argument is in watch.c).
 *
 * The watch does not keep the table of watches, serve taps or wake sessions: the hub
 * does (hub.h), and owns the fields marked "hub" below. Service thread only.
 */
#ifndef LJ_WATCH_H
#define LJ_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "fifo.h"
#include "ring.h"
#include "tap.h"

struct lj_stats;
struct lj_watch;

/* What every watch shares, kept by the hub (it outlives its watches). */
struct lj_watch_env {
    struct lj_feed *feed;          /* NULL in unit tests: no NATS */
    struct lj_stats *stats;
    uint32_t depth;                /* the window */
    size_t max_queue;              /* ring bytes kept for lagging cursors */
    void (*got_lines)(void *arg, struct lj_watch *w);   /* lines were added to w's ring,
                                                           or its floor cleared */
    void *arg;
};

struct lj_watch {
    const struct lj_watch_env *env;
    char *subject;               /* "logs.<h>.<c>", owned; table key */
    char *key;                   /* "host/name", owned */
    void *nats_sub;              /* feed handle */
    struct lj_ring ring;
    bool loaded;                 /* the ring was filled from JetStream */
    bool fetching;               /* a fetch is in flight */
    int64_t retry_at;            /* mono ns; 0 = no failed fetch to retry */
    uint64_t resolved;           /* JetStream was read up to this seq: older holes are
                                    holes in the stream itself, not ours to fill */
    uint64_t floor;              /* while non-zero: lines with seq >= it may still come
                                    from JetStream (a fetch in flight or owed, or lines
                                    held for one), so a glob sends no newer line of
                                    another container (lj_tap_floor); 0 otherwise */
    struct lj_fifo held;         /* struct held: lines waiting for a fetch, seq order */
    int fetch_failures;          /* in a row */
    struct lj_tap *taps;         /* hub: the taps reading it (by wnext) */
    size_t ntaps;                /* hub */
    struct lj_tap *exact;        /* the taps with filters (linked by xnext): shown each
                                    line they have not passed before it is evicted */
    uint64_t low;                /* no live tap's cursor is below it (a lower bound,
                                    recomputed by wake_watch; lowered by serve_tap) */
    bool dirty;                  /* hub: on the hub's dirty watch list: got lines this pass */
    struct lj_watch *dirty_next;
    int64_t idle_since;          /* hub: mono ns when the last tap left; 0 while watched */
    struct lj_watch *bnext;      /* hub: bucket chain */
};

/* Creates the watch for subject ("logs.<h>.<c>") / key ("host/name"), subscribed and
 * loading (a fetch of what JetStream keeps is asked for). On LJ_OK *out is the
 * caller's (lj_watch_destroy). LJ_NOMEM, LJ_NATS (cannot subscribe). */
lj_status lj_watch_create(const struct lj_watch_env *env, const char *subject, const char *key,
                          struct lj_watch **out);

/* Unsubscribes and frees w with its ring and held lines. NULL is fine. */
void lj_watch_destroy(struct lj_watch *w);

/* Asks JetStream for the lines after the ring's newest up to seq end (0: all); on
 * failure retry_at is set for the hub's tick. */
void lj_watch_fetch(struct lj_watch *w, uint64_t end);

/* A live line (the caller's reference moves into the watch), last_seq its
 * Nats-Last-Sequence: held, then applied in order once nothing is missing before it. */
void lj_watch_live(struct lj_watch *w, struct lj_line *l, uint64_t last_seq);

/* A fetch answered (e: LJ_FEED_FETCHED): its lines go into the ring. Returns true
 * when this was the first load, so the hub can serve the waiting taps; the caller
 * then calls lj_watch_drain. */
bool lj_watch_fetched(struct lj_watch *w, const struct lj_feed_event *e);

/* Applies held lines in order until one needs a fetch (which is then started). */
void lj_watch_drain(struct lj_watch *w);

/* A fetch failed: retried by the tick; after FETCH_GIVE_UP failures in a row the held
 * lines go on without the hole (which viewers then get as an `expired` gap). */
void lj_watch_fetch_failed(struct lj_watch *w);

/* Evicts what neither the window nor a cursor under max_queue keeps. */
void lj_watch_trim(struct lj_watch *w);

#endif
