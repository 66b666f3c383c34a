/* feed.c - NATS side of the gateway: connection, live subscriptions, the fetcher
 * thread (JetStream reads) and the registry thread (KV watch).
 *
 * Threads here: nats.c's own (reader, flusher, the global message-delivery thread
 * that runs live_cb, the callbacks for connection state), natsconn's connector,
 * "fetcher" and "registry". None of them touches gateway state: they only append
 * events to the inbox.
 * The registry thread also owns the connection: it attaches each one the connector
 * makes (JetStream context, every live subscription again) and hands back one nats.c
 * gave up, under conn_lock (written there only; the fetcher and lj_feed_subscribe
 * read under it).
 */
#include "feed.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "log.h"
#include "natsconn.h"
#include "subject.h"

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

/* ---- the inbox ---- */

static void push_event(struct lj_feed *f, struct lj_feed_event *e)
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

static struct lj_feed_event *new_event(enum lj_feed_kind kind, const char *subject)
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

/* ---- live lines ---- */

static uint64_t header_u64(natsMsg *m, const char *name)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, name, &v) != NATS_OK || !v)
        return 0;
    return strtoull(v, NULL, 10);
}

/* Decodes one stored record into a line; NULL when the payload is not a LogRecord. */
static struct lj_line *decode(const void *data, size_t len, uint64_t seq)
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

/* nats.c delivery thread. Subject is "live.logs.<h>.<c>". */
static void live_cb(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
    struct lj_feed *f = arg;
    uint64_t seq = header_u64(m, "Nats-Sequence");
    const char *subject = natsMsg_GetSubject(m);
    struct lj_feed_event *e = NULL;
    struct lj_line *l;

    (void)nc;
    (void)sub;
    if (seq && strncmp(subject, "live.", 5) == 0
        && (l = decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), seq))) {
        e = new_event(LJ_FEED_LIVE, subject + 5);
        if (e && (e->lines = malloc(sizeof(*e->lines)))) {
            e->lines[0] = l;
            e->nlines = 1;
            e->last_seq = header_u64(m, "Nats-Last-Sequence");
            push_event(f, e);
        } else {
            lj_line_unref(l);
            lj_feed_event_free(e);
        }
    }
    natsMsg_Destroy(m);
}

/* Subscribes ls on nc; caller holds conn_lock and subs_lock. */
static natsStatus live_subscribe(struct lj_feed *f, natsConnection *nc, struct live_sub *ls)
{
    natsStatus s = natsConnection_Subscribe(&ls->sub, nc, ls->subject, live_cb, f);
    /* The default 65,536 pending messages would drop lines during a burst; a drop
     * would be repaired by gap fill, but it is cheaper not to drop. */
    if (s == NATS_OK)
        natsSubscription_SetPendingLimits(ls->sub, 1000000, 512 * 1024 * 1024);
    return s;
}

static void live_drop(struct live_sub *ls)
{
    if (ls->sub) {
        natsSubscription_Unsubscribe(ls->sub);
        natsSubscription_Destroy(ls->sub);
        ls->sub = NULL;
    }
}

lj_status lj_feed_subscribe(struct lj_feed *f, const char *js_subject, void **handle)
{
    size_t n = strlen(js_subject) + 6;
    struct live_sub *ls = calloc(1, sizeof(*ls) + n);
    natsStatus s = NATS_OK;

    if (!ls)
        return LJ_NOMEM;
    ls->f = f;
    snprintf(ls->subject, n, "live.%s", js_subject);
    pthread_rwlock_rdlock(&f->conn_lock);
    pthread_mutex_lock(&f->subs_lock);
    /* Without a connection the subscription is made when the next one is attached. */
    if (f->nc && (s = live_subscribe(f, f->nc, ls)) != NATS_OK && natsConnection_IsClosed(f->nc)) {
        ls->sub = NULL;
        s = NATS_OK;    /* given up by nats.c, not yet handed back: the next one subscribes it */
    }
    if (s == NATS_OK) {
        LJ_LIST_PUSH(f->subs, ls, next, prev);
    }
    pthread_mutex_unlock(&f->subs_lock);
    pthread_rwlock_unlock(&f->conn_lock);
    if (s != NATS_OK) {
        free(ls);
        return LJ_NATS;
    }
    *handle = ls;
    return LJ_OK;
}

void lj_feed_unsubscribe(void *handle)
{
    struct live_sub *ls = handle;
    struct lj_feed *f;
    if (!ls)
        return;
    f = ls->f;
    pthread_rwlock_rdlock(&f->conn_lock);
    pthread_mutex_lock(&f->subs_lock);
    live_drop(ls);
    LJ_LIST_UNLINK(f->subs, ls, next, prev);
    pthread_mutex_unlock(&f->subs_lock);
    pthread_rwlock_unlock(&f->conn_lock);
    free(ls);
}

/* ---- the fetcher thread ---- */

static lj_status queue_request(struct lj_feed *f, const char *js_subject, uint64_t start, uint64_t end,
                               int64_t since_ns)
{
    struct fetch_req *r = calloc(1, sizeof(*r));
    if (!r || !(r->subject = strdup(js_subject))) {
        free(r);
        return LJ_NOMEM;
    }
    r->start = start;
    r->end = end;
    r->since_ns = since_ns;
    pthread_mutex_lock(&f->lock);
    if (f->ftail)
        f->ftail->next = r;
    else
        f->fhead = r;
    f->ftail = r;
    pthread_cond_signal(&f->fetch_cond);
    pthread_mutex_unlock(&f->lock);
    return LJ_OK;
}

lj_status lj_feed_fetch(struct lj_feed *f, const char *js_subject, uint64_t start, uint64_t end)
{
    return queue_request(f, js_subject, start, end, 0);
}

lj_status lj_feed_seek(struct lj_feed *f, const char *js_subject, int64_t since_ns)
{
    return since_ns > 0 ? queue_request(f, js_subject, 0, 0, since_ns) : LJ_INVAL;
}

/* Appends l to ev's lines. */
static lj_status add_line(struct lj_feed_event *ev, struct lj_line *l, size_t *cap)
{
    if (ev->nlines == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct lj_line **grown = realloc(ev->lines, ncap * sizeof(*grown));
        if (!grown)
            return LJ_NOMEM;
        ev->lines = grown;
        *cap = ncap;
    }
    ev->lines[ev->nlines++] = l;
    return LJ_OK;
}

/* Newest stored seq of subject: 0 with LJ_OK when it holds nothing. */
static lj_status last_seq(struct lj_feed *f, const char *subject, uint64_t *seq)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetLastMsg(&m, f->js, f->cfg.stream, subject, NULL, &jerr);
    *seq = 0;
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
        return LJ_OK;
    if (s != NATS_OK)
        return LJ_NATS;
    *seq = natsMsg_GetSequence(m);
    natsMsg_Destroy(m);
    return LJ_OK;
}

/* An ordered consumer on subject (counted in consumers_created) delivering from stream
 * seq start_seq (> 0), from the first message stored at or after since_ns (> 0), or
 * from its oldest (both 0). */
static lj_status ordered_consumer(struct lj_feed *f, const char *subject, uint64_t start_seq,
                                  int64_t since_ns, natsSubscription **sub)
{
    jsSubOptions so;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = LJ_FEED_FETCH_WAIT_MS;
    jsSubOptions_Init(&so);
    so.Stream = f->cfg.stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = start_seq > 0 ? js_DeliverByStartSequence
                            : since_ns > 0  ? js_DeliverByStartTime : js_DeliverAll;
    so.Config.OptStartSeq = start_seq;
    so.Config.OptStartTime = start_seq > 0 ? 0 : since_ns;
    if (js_SubscribeSync(sub, f->js, subject, &jo, &so, NULL) != NATS_OK)
        return LJ_NATS;
    atomic_fetch_add(&f->consumers_created, 1);
    return LJ_OK;
}
/* Reads start..end of subject through an ordered consumer into ev. */
static lj_status read_range(struct lj_feed *f, const char *subject, uint64_t start, uint64_t end,
                            struct lj_feed_event *ev)
{
    natsSubscription *sub = NULL;
    size_t cap = 0;
    lj_status st = LJ_OK;

    if (ordered_consumer(f, subject, start > 1 ? start : 0, 0, &sub) != LJ_OK)
        return LJ_NATS;
    for (;;) {
        natsMsg *m = NULL;
        jsMsgMetaData *meta = NULL;
        if (natsSubscription_NextMsg(&m, sub, LJ_FEED_FETCH_WAIT_MS) != NATS_OK) {
            st = LJ_NATS;
            break;
        }
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            natsMsg_Destroy(m);
            continue;    /* a heartbeat or flow-control message */
        }
        uint64_t seq = meta->Sequence.Stream, pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
        struct lj_line *l = seq <= end ? decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), seq) : NULL;
        natsMsg_Destroy(m);
        if (l && add_line(ev, l, &cap) != LJ_OK) {
            lj_line_unref(l);
            st = LJ_NOMEM;
            break;
        }
        if (seq >= end || pending == 0)
            break;
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return st;
}

/* The stream seq of subject's first stored message by start time (since_ns > 0) or
 * of its oldest (0): 0 with LJ_OK when there is none. An ordered consumer; whether it
 * has anything to deliver is asked first, so an empty answer costs no wait. */
static lj_status first_seq(struct lj_feed *f, const char *subject, int64_t since_ns, uint64_t *seq)
{
    natsSubscription *sub = NULL;
    jsConsumerInfo *ci = NULL;
    jsOptions jo;
    lj_status st = LJ_OK;

    *seq = 0;
    jsOptions_Init(&jo);
    jo.Wait = LJ_FEED_FETCH_WAIT_MS;
    if (ordered_consumer(f, subject, 0, since_ns, &sub) != LJ_OK)
        return LJ_NATS;
    if (natsSubscription_GetConsumerInfo(&ci, sub, &jo, NULL) != NATS_OK)
        st = LJ_NATS;
    else {
        /* Nothing to deliver by the consumer's count: still a short wait, in case the
         * count lags behind; a real answer is waited for in full. */
        bool some = ci->NumPending + ci->Delivered.Consumer > 0;
        for (int tries = 0; tries < 100 && !*seq; tries++) {
            natsMsg *m = NULL;
            jsMsgMetaData *meta = NULL;
            natsStatus ns = natsSubscription_NextMsg(&m, sub, some ? LJ_FEED_FETCH_WAIT_MS : 250);
            if (ns == NATS_TIMEOUT && !some)
                break;
            if (ns != NATS_OK) {
                st = LJ_NATS;
                break;
            }
            if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {   /* else a heartbeat */
                *seq = meta->Sequence.Stream;
                jsMsgMetaData_Destroy(meta);
            }
            natsMsg_Destroy(m);
        }
    }
    jsConsumerInfo_Destroy(ci);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return st;
}

static void run_seek(struct lj_feed *f, struct fetch_req *r)
{
    struct lj_feed_event *ev = new_event(LJ_FEED_SOUGHT, r->subject);
    if (!ev)
        return;
    ev->since_ns = r->since_ns;
    pthread_rwlock_rdlock(&f->conn_lock);
    if (!f->js || first_seq(f, r->subject, r->since_ns, &ev->first_seq) != LJ_OK
        || first_seq(f, r->subject, 0, &ev->oldest_seq) != LJ_OK) {
        atomic_fetch_add(&f->fetch_errors, 1);
        ev->first_seq = ev->oldest_seq = 0;
    }
    pthread_rwlock_unlock(&f->conn_lock);
    push_event(f, ev);
}

static void run_fetch(struct lj_feed *f, struct fetch_req *r)
{
    struct lj_feed_event *ev = new_event(LJ_FEED_FETCHED, r->subject);
    uint64_t newest = 0;
    lj_status st;

    if (!ev)
        return;
    pthread_rwlock_rdlock(&f->conn_lock);
    st = f->js ? last_seq(f, r->subject, &newest) : LJ_CLOSED;
    uint64_t end = r->end && r->end < newest ? r->end : newest;
    ev->last_seq = end;
    if (st == LJ_OK && newest && r->start <= end)
        st = read_range(f, r->subject, r->start, end, ev);
    if (st != LJ_OK) {
        atomic_fetch_add(&f->fetch_errors, 1);
        for (size_t i = 0; i < ev->nlines; i++)
            lj_line_unref(ev->lines[i]);
        ev->nlines = 0;
        ev->kind = LJ_FEED_FETCH_FAILED;
    }
    pthread_rwlock_unlock(&f->conn_lock);
    push_event(f, ev);
}

static void *fetcher_main(void *arg)
{
    struct lj_feed *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!atomic_load(&f->stopping)) {
        struct fetch_req *r = f->fhead;
        if (!r) {
            pthread_cond_wait(&f->fetch_cond, &f->lock);
            continue;
        }
        f->fhead = r->next;
        if (!f->fhead)
            f->ftail = NULL;
        pthread_mutex_unlock(&f->lock);
        if (r->since_ns > 0)
            run_seek(f, r);
        else
            run_fetch(f, r);
        free(r->subject);
        free(r);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---- the registry thread ---- */

static void registry_entry(struct lj_feed *f, kvEntry *e)
{
    kvOperation op = kvEntry_Operation(e);
    struct lj_feed_event *ev = new_event(op == kvOp_Put ? LJ_FEED_REGISTRY_PUT : LJ_FEED_REGISTRY_DEL,
                                         kvEntry_Key(e));
    if (ev && op == kvOp_Put
        && lj_container_unpack(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &ev->info) != LJ_OK) {
        lj_feed_event_free(ev);
        return;
    }
    if (ev)
        push_event(f, ev);
}

static void registry_synced(struct lj_feed *f)
{
    struct lj_feed_event *ev = new_event(LJ_FEED_REGISTRY_SYNCED, "");
    if (ev)
        push_event(f, ev);
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

static void on_connected(struct lj_feed *f)
{
    struct lj_feed_event *e = new_event(LJ_FEED_CONNECTED, "");
    atomic_store(&f->connected, true);
    atomic_fetch_add(&f->reconnects, 1);
    if (e)
        push_event(f, e);
}

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
        s = live_subscribe(f, nc, ls);
    pthread_mutex_unlock(&f->subs_lock);
    pthread_rwlock_unlock(&f->conn_lock);
    if (s != NATS_OK)
        lj_log(LJ_LOG_WARN, "cannot set up the new NATS connection", "error=\"%s\"",
               natsStatus_GetText(s));
    if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED)
        on_connected(f);
}

/* Drops what was built on the connection nats.c gave up, and gives it back. */
static void detach(struct lj_feed *f)
{
    natsConnection *nc;
    atomic_store(&f->connected, false);
    pthread_rwlock_wrlock(&f->conn_lock);
    pthread_mutex_lock(&f->subs_lock);
    for (struct live_sub *ls = f->subs; ls; ls = ls->next)
        live_drop(ls);
    pthread_mutex_unlock(&f->subs_lock);
    jsCtx_Destroy(f->js);
    f->js = NULL;
    nc = f->nc;
    f->nc = NULL;
    pthread_rwlock_unlock(&f->conn_lock);
    lj_natsconn_lost(f->conn, nc);
}

static void *registry_main(void *arg)
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

/* ---- connection callbacks (nats.c's threads; natsconn logs the changes) ---- */

static void reconnected_cb(natsConnection *nc, void *arg)
{
    (void)nc;
    on_connected(arg);
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
    if (st == LJ_OK && !(f->fetcher_started = pthread_create(&f->fetcher, NULL, fetcher_main, f) == 0))
        st = lj_fail(err, errlen, LJ_NOMEM, "cannot start fetcher thread");
    if (st == LJ_OK && !(f->registry_started = pthread_create(&f->registry, NULL, registry_main, f) == 0))
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
