/* feed.c - NATS side of the gateway (feed.h): the feed's life (create, destroy and
 * the order its threads stop in), the inbox every thread appends events to, the
 * connection callbacks, and the counters.
 *
 * The other parts: live.c (live subscriptions, nats.c's delivery thread), fetcher.c
 * (the fetcher thread: JetStream reads), registry.c (the registry thread: the KV
 * watch, and the connection it owns). Threads here: nats.c's own (reader, flusher,
 * the global message-delivery thread that runs live_cb, the callbacks for connection
 * state), natsconn's connector, "fetcher" and "registry". None of them touches
 * gateway state: they only append events to the inbox.
 * The registry thread also owns the connection: it attaches each one the connector
 * makes (JetStream context, every live subscription again) and hands back one nats.c
 * gave up, under conn_lock (written there only; the fetcher and lj_feed_subscribe
 * read under it).
 */
#include "feedint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natsconn.h"

/* ---- the inbox ---- */

void lj_feed_push(struct lj_feed *f, struct lj_feed_event *e)
{
    pthread_mutex_lock(&f->lock);
    if (f->tail)
        f->tail->next = e;
    else
        f->head = e;
    f->tail = e;
    pthread_mutex_unlock(&f->lock);
    /* One wake per batch: lws_cancel_service() is a pipe write, too dear per line. */
    if (!atomic_exchange(&f->wake_pending, true))
        f->cfg.wake(f->cfg.wake_arg);
}

struct lj_feed_event *lj_feed_take(struct lj_feed *f)
{
    struct lj_feed_event *e;
    /* Clear the flag first: a push racing with us then wakes the loop again. */
    atomic_store(&f->wake_pending, false);
    pthread_mutex_lock(&f->lock);
    e = f->head;
    f->head = f->tail = NULL;
    pthread_mutex_unlock(&f->lock);
    return e;
}

void lj_feed_rewake(struct lj_feed *f)
{
    if (!atomic_exchange(&f->wake_pending, true))
        f->cfg.wake(f->cfg.wake_arg);
}

void lj_feed_event_free(struct lj_feed_event *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nlines; i++)
        lj_line_unref(e->lines[i]);
    free(e->lines);
    free(e->subject);
    if (e->info)
        lj_container_free(e->info);
    free(e);
}

struct lj_feed_event *lj_feed_event_new(enum lj_feed_kind kind, const char *subject)
{
    struct lj_feed_event *e = calloc(1, sizeof(*e));
    if (e && !(e->subject = strdup(subject))) {
        free(e);
        e = NULL;
    }
    if (e)
        e->kind = kind;
    return e;
}

/* Decodes one stored record into a line; NULL when the payload is not a LogRecord. */
struct lj_line *lj_feed_decode(const void *data, size_t len, uint64_t seq)
{
    lj_pb_record *r = NULL;
    struct lj_line *l = NULL;
    if (lj_record_unpack(data, len, &r) == LJ_OK) {
        if (lj_line_create(r, seq, &l) != LJ_OK)
            l = NULL;
        lj_record_free(r);
    }
    return l;
}

void lj_feed_on_connected(struct lj_feed *f)
{
    struct lj_feed_event *e = lj_feed_event_new(LJ_FEED_CONNECTED, "");
    atomic_store(&f->connected, true);
    atomic_fetch_add(&f->reconnects, 1);
    if (e)
        lj_feed_push(f, e);
}

/* ---- connection callbacks (nats.c's threads; natsconn logs the changes) ---- */

static void reconnected_cb(natsConnection *nc, void *arg)
{
    (void)nc;
    lj_feed_on_connected(arg);
}

static void disconnected_cb(natsConnection *nc, void *arg)
{
    struct lj_feed *f = arg;
    (void)nc;
    atomic_store(&f->connected, false);
}

static natsStatus tune(natsOptions *o, void *arg)
{
    (void)arg;
    natsStatus s = natsOptions_SetSendAsap(o, true);
    if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(o, true);
    return s;
}

lj_status lj_feed_create(const struct lj_feed_config *cfg, struct lj_feed **out,
                         char *err, size_t errlen)
{
    struct lj_feed *f = calloc(1, sizeof(*f));
    lj_status st;

    if (!f)
        return LJ_NOMEM;
    struct lj_natsconn_hooks hooks = { .tune = tune, .disconnected = disconnected_cb,
                                       .reconnected = reconnected_cb,
                                       .closed = disconnected_cb, .arg = f };
    f->cfg = *cfg;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->fetch_cond, NULL);
    pthread_rwlock_init(&f->conn_lock, NULL);
    pthread_mutex_init(&f->subs_lock, NULL);
    st = lj_natsconn_create(cfg->nats, cfg->name, &hooks, &f->conn, err, errlen);
    if (st == LJ_OK && !(f->fetcher_started = pthread_create(&f->fetcher, NULL, lj_fetcher_main, f) == 0))
        st = lj_fail(err, errlen, LJ_NOMEM, "cannot start fetcher thread");
    if (st == LJ_OK && !(f->registry_started = pthread_create(&f->registry, NULL, lj_registry_main, f) == 0))
        st = lj_fail(err, errlen, LJ_NOMEM, "cannot start registry thread");
    if (st != LJ_OK) {
        lj_feed_destroy(f);
        return st;
    }
    *out = f;
    return LJ_OK;
}

void lj_feed_destroy(struct lj_feed *f)
{
    if (!f)
        return;
    atomic_store(&f->stopping, true);
    pthread_mutex_lock(&f->lock);
    pthread_cond_broadcast(&f->fetch_cond);
    if (f->watcher)
        kvWatcher_Stop(f->watcher);
    pthread_mutex_unlock(&f->lock);
    /* Closed (not yet destroyed) before the joins: a request the fetcher or the
     * registry is blocked in then fails at once instead of after its timeout, which
     * with NATS down would hold the exit for seconds. */
    lj_natsconn_stop(f->conn);
    pthread_rwlock_rdlock(&f->conn_lock);
    if (f->nc)
        natsConnection_Close(f->nc);
    pthread_rwlock_unlock(&f->conn_lock);
    if (f->fetcher_started)
        pthread_join(f->fetcher, NULL);
    if (f->registry_started)
        pthread_join(f->registry, NULL);
    jsCtx_Destroy(f->js);
    if (!lj_natsconn_close(f->conn, f->nc))
        return;    /* a callback may still come: leaked rather than freed under it */
    lj_natsconn_destroy(f->conn);
    /* Close only queues disconnected_cb on nats.c's callback thread, and the delivery
     * thread may still be inside live_cb: both write into f. Wait for every nats.c
     * thread to exit before freeing it. This needs every NATS object destroyed first
     * (the hub's subscriptions included, see feed.h); if one was not, the wait times
     * out and f is left allocated: a leak at exit, never a write into freed memory. */
    if (nats_CloseAndWait(LJ_FEED_CLOSE_WAIT_MS) == NATS_TIMEOUT)
        return;
    for (struct fetch_req *r = f->fhead, *n; r; r = n) {
        n = r->next;
        free(r->subject);
        free(r);
    }
    for (struct lj_feed_event *e = f->head, *n; e; e = n) {
        n = e->next;
        lj_feed_event_free(e);
    }
    pthread_cond_destroy(&f->fetch_cond);
    pthread_mutex_destroy(&f->lock);
    pthread_rwlock_destroy(&f->conn_lock);
    pthread_mutex_destroy(&f->subs_lock);
    free(f);
}

bool lj_feed_connected(const struct lj_feed *f)
{
    return atomic_load(&((struct lj_feed *)f)->connected);
}

bool lj_feed_healthy(const struct lj_feed *f, char *why, size_t whylen)
{
    return lj_natsconn_healthy(f->conn, why, whylen);
}

uint64_t lj_feed_consumers_created(const struct lj_feed *f)
{
    return atomic_load(&((struct lj_feed *)f)->consumers_created);
}

uint64_t lj_feed_fetch_errors(const struct lj_feed *f)
{
    return atomic_load(&((struct lj_feed *)f)->fetch_errors);
}

uint64_t lj_feed_reconnects(const struct lj_feed *f)
{
    return atomic_load(&((struct lj_feed *)f)->reconnects);
}
