/* registry.c - the feed's registry thread: owns the NATS connection (attaches each one
 * natsconn's connector makes, hands back one nats.c gave up) and, while connected,
 * watches the LOGJET_CONTAINERS bucket, queueing each entry as a REGISTRY_PUT or
 * REGISTRY_DEL event and the end of the initial values as REGISTRY_SYNCED.
 *
 * The only writer of the feed's nc and js (under conn_lock). Does not keep the
 * container table (the hub's containers.c does) or read streams.
 */
#include "feedint.h"

#include "log.h"
#include "natsconn.h"

/* ---- the registry thread ---- */

static void registry_entry(struct lj_feed *f, kvEntry *e)
{
    kvOperation op = kvEntry_Operation(e);
    struct lj_feed_event *ev = lj_feed_event_new(op == kvOp_Put ? LJ_FEED_REGISTRY_PUT : LJ_FEED_REGISTRY_DEL,
                                         kvEntry_Key(e));
    if (ev && op == kvOp_Put
        && lj_container_unpack(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &ev->info) != LJ_OK) {
        lj_feed_event_free(ev);
        return;
    }
    if (ev)
        lj_feed_push(f, ev);
}

static void registry_synced(struct lj_feed *f)
{
    struct lj_feed_event *ev = lj_feed_event_new(LJ_FEED_REGISTRY_SYNCED, "");
    if (ev)
        lj_feed_push(f, ev);
}

/* Watches the bucket until an error; returns to be retried. */
static void registry_watch(struct lj_feed *f)
{
    kvStore *kv = NULL;
    kvWatcher *w = NULL;

    natsStatus ks = js_KeyValue(&kv, f->js, LJ_FEED_REGISTRY_BUCKET);
    if (ks != NATS_OK) {
        /* No bucket yet (no publisher has run): the registry is empty, and that is
         * known; the watch begins when a retry finds the bucket. */
        if (ks == NATS_NOT_FOUND)
            registry_synced(f);
        return;
    }
    if (kvStore_WatchAll(&w, kv, NULL) == NATS_OK) {
        pthread_mutex_lock(&f->lock);
        f->watcher = w;
        pthread_mutex_unlock(&f->lock);
        while (!atomic_load(&f->stopping)) {
            kvEntry *e = NULL;
            natsStatus s = kvWatcher_Next(&e, w, 1000);
            if (s == NATS_TIMEOUT)
                continue;
            if (s != NATS_OK)
                break;
            if (e) {
                registry_entry(f, e);
                kvEntry_Destroy(e);
            } else {             /* NULL marks the end of the initial values */
                registry_synced(f);
            }
        }
        pthread_mutex_lock(&f->lock);
        f->watcher = NULL;
        pthread_mutex_unlock(&f->lock);
        kvWatcher_Destroy(w);
    }
    kvStore_Destroy(kv);
}

/* ---- the connection, owned by the registry thread ---- */

/* Builds the JetStream context and every live subscription on nc. */
static void attach(struct lj_feed *f, natsConnection *nc)
{
    jsOptions jo;
    natsStatus s;

    jsOptions_Init(&jo);
    jo.Wait = LJ_FEED_FETCH_WAIT_MS;
    pthread_rwlock_wrlock(&f->conn_lock);
    f->nc = nc;
    s = natsConnection_JetStream(&f->js, nc, &jo);
    pthread_mutex_lock(&f->subs_lock);
    for (struct live_sub *ls = f->subs; ls && s == NATS_OK; ls = ls->next)
        s = lj_live_subscribe(f, nc, ls);
    pthread_mutex_unlock(&f->subs_lock);
    pthread_rwlock_unlock(&f->conn_lock);
    if (s != NATS_OK)
        lj_log(LJ_LOG_WARN, "cannot set up the new NATS connection", "error=\"%s\"",
               natsStatus_GetText(s));
    if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED)
        lj_feed_on_connected(f);
}

/* Drops what was built on the connection nats.c gave up, and gives it back. */
static void detach(struct lj_feed *f)
{
    natsConnection *nc;
    atomic_store(&f->connected, false);
    pthread_rwlock_wrlock(&f->conn_lock);
    pthread_mutex_lock(&f->subs_lock);
    for (struct live_sub *ls = f->subs; ls; ls = ls->next)
        lj_live_drop(ls);
    pthread_mutex_unlock(&f->subs_lock);
    jsCtx_Destroy(f->js);
    f->js = NULL;
    nc = f->nc;
    f->nc = NULL;
    pthread_rwlock_unlock(&f->conn_lock);
    lj_natsconn_lost(f->conn, nc);
}

void *lj_registry_main(void *arg)
{
    struct lj_feed *f = arg;
    natsConnection *nc;
    while (!atomic_load(&f->stopping)) {
        if (f->nc && natsConnection_IsClosed(f->nc))
            detach(f);
        if (!f->nc && (nc = lj_natsconn_take(f->conn)) != NULL)
            attach(f, nc);
        if (f->nc)
            registry_watch(f);
        for (int i = 0; i < 10 && !atomic_load(&f->stopping) && f->nc
                        && !natsConnection_IsClosed(f->nc); i++)
            nats_Sleep(100);
        if (!f->nc)
            nats_Sleep(50);
    }
    return NULL;
}
