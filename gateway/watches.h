/* watches.h - the hub's table of watches (watch.h): one per watched container, found
 * by its subject, created within the bounds below, released a linger after its last
 * tap left, and the list of those that got lines in the current service pass.
 *
 * Owns every watch in it (created by lj_watches_add, freed here only). Does not
 * attach taps, serve replays or wake sessions: the hub does, and reads a watch's tap
 * list itself. Service thread only.
 */
#ifndef LJ_WATCHES_H
#define LJ_WATCHES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "watch.h"

struct lj_tap_owner;

/* Watch creation bounds. A watch is a NATS subscription plus a JetStream read, so a
 * client subscribing to name after name must not make thousands: an exact name the
 * registry does not know waits for it without a watch (lj_hub_subscribe), and new
 * watches are rationed per client and per gateway (token buckets: a burst, then a
 * rate per second), with a total bound. Past any of them subscribe answers `limit`.
 * A glob subscribe takes one client token however many containers it matches; each
 * watch it creates takes a gateway token (enum lj_watches_ask). */
#define LJ_WATCHES_MAX 10000
#define LJ_WATCHES_CLIENT_BURST 64     /* a client's 64 subscriptions at once */
#define LJ_WATCHES_CLIENT_RATE 16      /* per second after that */
#define LJ_WATCHES_BURST 2000          /* the whole gateway */
#define LJ_WATCHES_RATE 500

#define LJ_WATCHES_BUCKETS 4096

/* Embedded in the hub: lj_watches_init, then fill env (its got_lines and arg are set
 * by init and must stay). */
struct lj_watches {
    struct lj_watch_env env;          /* what every watch shares */
    struct lj_watch *buckets[LJ_WATCHES_BUCKETS];   /* by subject hash, chained by bnext */
    size_t count;                     /* watches in the table */
    uint32_t max;                     /* bound on count */
    struct lj_watch *dirty;           /* got lines this pass, linked by dirty_next */
    double tokens;                    /* the gateway's creation bucket */
    int64_t refill_ns;                /* mono ns it was last refilled */
    size_t freed_untrimmed;           /* watches freed since the last malloc_trim */
};

/* An empty table bounded at max watches (0: LJ_WATCHES_MAX). */
void lj_watches_init(struct lj_watches *ws, uint32_t max);

/* Frees every watch (each unsubscribes from the feed). Their taps must be detached. */
void lj_watches_finish(struct lj_watches *ws);

/* The watch of subject ("logs.<h>.<c>"), or NULL. */
struct lj_watch *lj_watches_find(struct lj_watches *ws, const char *subject);

/* Who asks for a new watch, and so which bounds apply: the registry's news only the
 * total; a glob subscribe's matches the gateway's bucket too (the subscribe itself took
 * one of its client's tokens, lj_watches_admit_client: a glob over 1000 containers is
 * one request, and the registry, not the client, decides how many it matches); a plain
 * name also its client's bucket, a token a watch. */
enum lj_watches_ask { LJ_WATCHES_ASK_REGISTRY, LJ_WATCHES_ASK_GLOB, LJ_WATCHES_ASK_NAME };

/* Whether a new watch may be created for a tap of by's (by: the session's owner; unused
 * for LJ_WATCHES_ASK_REGISTRY); takes the tokens the ask needs when it may. */
bool lj_watches_admit(struct lj_watches *ws, struct lj_tap_owner *by, enum lj_watches_ask ask);

/* Takes one of by's tokens (a glob subscribe's one) when it has one. */
bool lj_watches_admit_client(struct lj_tap_owner *by);

/* Creates the watch for subject / key, subscribed and loading, into the table; NULL
 * when it cannot (out of memory, no NATS subscription). The table owns it. */
struct lj_watch *lj_watches_add(struct lj_watches *ws, const char *subject, const char *key);

/* Takes the next watch off the list of those that got lines this pass; NULL when none. */
struct lj_watch *lj_watches_take_dirty(struct lj_watches *ws);

/* After a (re)connect: every watch not fetching now fetches what was stored meanwhile. */
void lj_watches_refetch(struct lj_watches *ws);

/* Once a second: frees the watches without taps for longer than linger_ns, retries
 * failed fetches due by now, and for every other watch calls low(arg, w) (which must
 * bring w->low up to date) before evicting what no cursor needs and shrinking its
 * ring. Hands freed memory back to the kernel after TRIM_AFTER_WATCHES releases. */
void lj_watches_tick(struct lj_watches *ws, int64_t now, int64_t linger_ns,
                     void (*low)(void *arg, struct lj_watch *w), void *arg);

#endif
