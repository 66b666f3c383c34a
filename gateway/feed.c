/* feed.c - NATS side of the gateway: connection, live subscriptions, the fetcher
 * thread (JetStream reads) and the registry thread (KV watch).
 *
 * Threads here: nats.c's own (reader, flusher, the global message-delivery thread
 * that runs live_cb, the callbacks for connection state), "fetcher" and "registry".
 * None of them touches gateway state: they only append events to the inbox.
 */
#include "feed.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "natsurl.h"
#include "subject.h"

#define LJ_FEED_FETCH_WAIT_MS 5000
#define LJ_FEED_CLOSE_WAIT_MS 5000
#define LJ_FEED_REGISTRY_BUCKET "LOGJET_CONTAINERS"

struct fetch_req {
    struct fetch_req *next;
    char *subject;
    uint64_t start, end;
};

struct lj_feed {
    struct lj_feed_config cfg;
    natsConnection *nc;
    jsCtx *js;

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

lj_status lj_feed_subscribe(struct lj_feed *f, const char *js_subject, void **handle)
{
    char subject[LJ_SUBJECT_MAX + 8];
    natsSubscription *sub = NULL;

    snprintf(subject, sizeof(subject), "live.%s", js_subject);
    if (natsConnection_Subscribe(&sub, f->nc, subject, live_cb, f) != NATS_OK)
        return LJ_NATS;
    /* The default 65,536 pending messages would drop lines during a burst; a drop
     * would be repaired by gap fill, but it is cheaper not to drop. */
    natsSubscription_SetPendingLimits(sub, 1000000, 512 * 1024 * 1024);
    *handle = sub;
    return LJ_OK;
}

void lj_feed_unsubscribe(void *handle)
{
    natsSubscription *sub = handle;
    if (!sub)
        return;
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
}

/* ---- the fetcher thread ---- */

lj_status lj_feed_fetch(struct lj_feed *f, const char *js_subject, uint64_t start, uint64_t end)
{
    struct fetch_req *r = calloc(1, sizeof(*r));
    if (!r || !(r->subject = strdup(js_subject))) {
        free(r);
        return LJ_NOMEM;
    }
    r->start = start;
    r->end = end;
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

/* Reads start..end of subject through an ordered consumer into ev. */
static lj_status read_range(struct lj_feed *f, const char *subject, uint64_t start, uint64_t end,
                            struct lj_feed_event *ev)
{
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsOptions jo;
    size_t cap = 0;
    lj_status st = LJ_OK;

    jsOptions_Init(&jo);
    jo.Wait = LJ_FEED_FETCH_WAIT_MS;
    jsSubOptions_Init(&so);
    so.Stream = f->cfg.stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = start > 1 ? js_DeliverByStartSequence : js_DeliverAll;
    so.Config.OptStartSeq = start > 1 ? start : 0;
    if (js_SubscribeSync(&sub, f->js, subject, &jo, &so, NULL) != NATS_OK)
        return LJ_NATS;
    atomic_fetch_add(&f->consumers_created, 1);
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

static void run_fetch(struct lj_feed *f, struct fetch_req *r)
{
    struct lj_feed_event *ev = new_event(LJ_FEED_FETCHED, r->subject);
    uint64_t newest = 0;
    lj_status st = ev ? last_seq(f, r->subject, &newest) : LJ_NOMEM;

    if (!ev)
        return;
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

/* Watches the bucket until an error; returns to be retried. */
static void registry_watch(struct lj_feed *f)
{
    kvStore *kv = NULL;
    kvWatcher *w = NULL;

    if (js_KeyValue(&kv, f->js, LJ_FEED_REGISTRY_BUCKET) != NATS_OK)
        return;
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
            if (e) {             /* NULL marks the end of the initial values */
                registry_entry(f, e);
                kvEntry_Destroy(e);
            }
        }
        pthread_mutex_lock(&f->lock);
        f->watcher = NULL;
        pthread_mutex_unlock(&f->lock);
        kvWatcher_Destroy(w);
    }
    kvStore_Destroy(kv);
}

static void *registry_main(void *arg)
{
    struct lj_feed *f = arg;
    while (!atomic_load(&f->stopping)) {
        registry_watch(f);
        for (int i = 0; i < 10 && !atomic_load(&f->stopping); i++)
            nats_Sleep(100);
    }
    return NULL;
}

/* ---- connection ---- */

static void connected_cb(natsConnection *nc, void *arg)
{
    struct lj_feed *f = arg;
    struct lj_feed_event *e = new_event(LJ_FEED_CONNECTED, "");
    (void)nc;
    atomic_store(&f->connected, true);
    atomic_fetch_add(&f->reconnects, 1);
    if (e)
        push_event(f, e);
}

static void disconnected_cb(natsConnection *nc, void *arg)
{
    struct lj_feed *f = arg;
    (void)nc;
    atomic_store(&f->connected, false);
}

static void error_cb(natsConnection *nc, natsSubscription *sub, natsStatus err, void *arg)
{
    (void)nc;
    (void)sub;
    (void)arg;
    lj_log(LJ_LOG_WARN, "nats asynchronous error", "error=\"%s\"", natsStatus_GetText(err));
}

static natsStatus make_options(struct lj_feed *f, natsOptions **out)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK) s = natsOptions_SetName(o, "logjet-gateway");
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(o, true, connected_cb, f);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, connected_cb, f);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(o, disconnected_cb, f);
    if (s == NATS_OK) s = natsOptions_SetErrorHandler(o, error_cb, f);
    if (s == NATS_OK) s = natsOptions_SetSendAsap(o, true);
    if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(o, true);
    if (s != NATS_OK)
        natsOptions_Destroy(o);
    else
        *out = o;
    return s;
}

static lj_status connect_nats(struct lj_feed *f, char *err, size_t errlen)
{
    natsOptions *o = NULL;
    jsOptions jo;
    natsStatus s = make_options(f, &o);

    /* One URL or a comma-separated list (a cluster), checked with the bad entry named. */
    if (s == NATS_OK && lj_natsurl_apply(o, f->cfg.nats_url, err, errlen) != LJ_OK) {
        natsOptions_Destroy(o);
        return LJ_INVAL;
    }
    if (s == NATS_OK) {
        s = natsConnection_Connect(&f->nc, o);
        if (s == NATS_OK)
            atomic_store(&f->connected, true);
        else if (s == NATS_NOT_YET_CONNECTED)
            s = NATS_OK;    /* connects in the background; connected_cb follows */
        natsOptions_Destroy(o);
    }
    jsOptions_Init(&jo);
    jo.Wait = LJ_FEED_FETCH_WAIT_MS;
    if (s == NATS_OK)
        s = natsConnection_JetStream(&f->js, f->nc, &jo);
    if (s != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "cannot set up NATS connection to %s: %s",
                       f->cfg.nats_url, natsStatus_GetText(s));
    return LJ_OK;
}

lj_status lj_feed_create(const struct lj_feed_config *cfg, struct lj_feed **out,
                         char *err, size_t errlen)
{
    struct lj_feed *f = calloc(1, sizeof(*f));
    lj_status st;

    if (!f)
        return LJ_NOMEM;
    f->cfg = *cfg;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->fetch_cond, NULL);
    st = connect_nats(f, err, errlen);
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
    if (f->nc)
        natsConnection_Close(f->nc);
    if (f->fetcher_started)
        pthread_join(f->fetcher, NULL);
    if (f->registry_started)
        pthread_join(f->registry, NULL);
    jsCtx_Destroy(f->js);
    natsConnection_Destroy(f->nc);
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
    free(f);
}

bool lj_feed_connected(const struct lj_feed *f)
{
    return atomic_load(&((struct lj_feed *)f)->connected);
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
