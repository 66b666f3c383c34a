/* feedint.h - what the feed's files share (feed.c, live.c, fetcher.c, registry.c):
 * the feed itself, its queued fetch requests and live subscriptions, and the few
 * functions one of them calls in another.
 *
 * Internal to the feed: nothing outside those files includes it (the hub sees feed.h
 * only). Which thread writes which field is said at each field; the locks are taken
 * in the order conn_lock, subs_lock, lock, never the other way.
 */
#ifndef LJ_FEEDINT_H
#define LJ_FEEDINT_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "feed.h"

#define LJ_FEED_FETCH_WAIT_MS 5000
#define LJ_FEED_CLOSE_WAIT_MS 5000
#define LJ_FEED_REGISTRY_BUCKET "LOGJET_CONTAINERS"

struct fetch_req {
    struct fetch_req *next;
    char *subject;
    uint64_t start, end;
    int64_t since_ns;    /* > 0: a seek (lj_feed_seek), not a range */
};

/* One live subscription, as the hub holds it: the subject stays while connections
 * come and go, sub is the current connection's (NULL between connections). */
struct live_sub {
    struct lj_feed *f;
    struct live_sub *prev, *next;     /* f->subs, under subs_lock */
    natsSubscription *sub;            /* under subs_lock */
    char subject[];                   /* "live.logs.<h>.<c>" */
};

struct lj_feed {
    struct lj_feed_config cfg;
    struct lj_natsconn *conn;
    pthread_rwlock_t conn_lock;       /* nc, js: written by the registry thread only */
    natsConnection *nc;               /* NULL between connections */
    jsCtx *js;
    pthread_mutex_t subs_lock;        /* after conn_lock when both are taken */
    struct live_sub *subs;

    pthread_mutex_t lock;             /* guards head/tail and the fetch queue */
    pthread_cond_t fetch_cond;
    struct lj_feed_event *head, *tail;
    struct fetch_req *fhead, *ftail;
    atomic_bool wake_pending;         /* a wake is on its way to the service thread */
    atomic_bool stopping;
    atomic_bool connected;

    pthread_t fetcher, registry;
    bool fetcher_started, registry_started;
    kvWatcher *watcher;               /* registry thread's; guarded by lock for Stop */

    atomic_uint_fast64_t consumers_created, fetch_errors, reconnects;
};

/* Appends e to the inbox and wakes the service thread (once until it takes the
 * inbox). The inbox owns e from here. Any thread. */
void lj_feed_push(struct lj_feed *f, struct lj_feed_event *e);

/* A new event of kind for subject (copied); NULL when memory runs out. The caller
 * owns it until lj_feed_push. */
struct lj_feed_event *lj_feed_event_new(enum lj_feed_kind kind, const char *subject);

/* Decodes one stored record into a line (one reference, the caller's); NULL when the
 * payload is not a LogRecord. Any thread. */
struct lj_line *lj_feed_decode(const void *data, size_t len, uint64_t seq);

/* A connection is up: marks the feed connected, counts it and queues a CONNECTED
 * event. Registry thread or nats.c's callback thread. */
void lj_feed_on_connected(struct lj_feed *f);

/* live.c: subscribes ls on nc (the caller holds conn_lock and subs_lock); drops ls's
 * subscription on the current connection (subs_lock held), keeping ls listed. */
natsStatus lj_live_subscribe(struct lj_feed *f, natsConnection *nc, struct live_sub *ls);
void lj_live_drop(struct live_sub *ls);

/* The fetcher and registry threads' bodies (arg: the feed), until f->stopping. */
void *lj_fetcher_main(void *arg);
void *lj_registry_main(void *arg);

#endif
