/* source.c - NATS for logjet-tail: the connection (through common/natsconn), live
 * subscription, JetStream reads, registry watch (see source.h for the threads). */
#include "source.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natsconn.h"

#define REGISTRY_BUCKET "LOGJET_CONTAINERS"
#define READ_WAIT_MS 5000
#define CLOSE_WAIT_MS 5000
#define START_WAIT_MS 10000    /* nats.c gives one attempt 2 s */

struct lj_source {
    struct lj_source_config cfg;
    struct lj_natsconn *conn;
    natsConnection *nc;               /* taken from conn; nats.c reconnects it */
    jsCtx *js;
    natsSubscription *live;

    pthread_t registry;
    bool registry_started;
    pthread_mutex_t lock;             /* guards the queue, watcher and ready */
    pthread_cond_t ready_cond;
    struct lj_source_entry *head, *tail;
    atomic_bool queued;               /* head != NULL, readable without the lock */
    bool ready;                       /* the initial contents are queued */
    kvWatcher *watcher;
    atomic_bool stopping;
};

/* ---- connection ---- */

/* The first connection, waited for at most START_WAIT_MS, or until the first attempt
 * failed (natsconn's reason is no longer the initial "connecting to <server>"): a user
 * at a terminal wants to know at once. */
static lj_status connect_nats(struct lj_source *s, char *err, size_t errlen)
{
    char why[512], initial[600];
    const char *url;
    const struct lj_natsconn_hooks hooks = { .quiet_connect = true };
    lj_status st = lj_natsconn_create(s->cfg.nats, s->cfg.name, &hooks, &s->conn, err, errlen);
    if (st != LJ_OK)
        return st;
    url = lj_natsconn_url(s->conn);
    snprintf(initial, sizeof initial, "connecting to %s", url);
    for (int64_t end = nats_Now() + START_WAIT_MS;;) {
        if ((s->nc = lj_natsconn_take(s->conn)) != NULL)
            break;
        bool healthy = lj_natsconn_healthy(s->conn, why, sizeof why);
        if ((!healthy && strcmp(why, initial) != 0) || nats_Now() >= end) {
            /* "cannot connect to <server>: <cause>": the server is named once. */
            const char *cause = why;
            size_t n = strlen("cannot connect to ") + strlen(url) + 2;
            if (!strncmp(why, "cannot connect to ", 18) && !strncmp(why + 18, url, strlen(url))
                && !strncmp(why + n - 2, ": ", 2))
                cause = why + n;
            return lj_fail(err, errlen, LJ_NATS, "cannot connect to NATS at %s: %s", url, cause);
        }
        nats_Sleep(10);
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = READ_WAIT_MS;
    natsStatus ns = natsConnection_JetStream(&s->js, s->nc, &jo);
    if (ns != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "JetStream context: %s", natsStatus_GetText(ns));
    return LJ_OK;
}

/* ---- the registry thread ---- */

static void queue_entry(struct lj_source *s, kvEntry *e, bool initial)
{
    struct lj_source_entry *q = calloc(1, sizeof *q);
    if (q == NULL || (q->key = strdup(kvEntry_Key(e))) == NULL) {
        free(q);
        return;
    }
    q->initial = initial;
    if (kvEntry_Operation(e) == kvOp_Put
        && lj_container_unpack(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &q->info) != LJ_OK) {
        lj_source_entry_free(q);
        return;    /* not a ContainerInfo: nothing a consumer can use */
    }
    pthread_mutex_lock(&s->lock);
    if (s->tail)
        s->tail->next = q;
    else
        s->head = q;
    s->tail = q;
    atomic_store(&s->queued, true);
    pthread_mutex_unlock(&s->lock);
}

static void set_ready(struct lj_source *s)
{
    pthread_mutex_lock(&s->lock);
    s->ready = true;
    pthread_cond_broadcast(&s->ready_cond);
    pthread_mutex_unlock(&s->lock);
}

/* Watches the bucket until an error or stop; returns to be retried. */
static void watch_once(struct lj_source *s, bool *initial)
{
    kvStore *kv = NULL;
    kvWatcher *w = NULL;
    natsStatus st = js_KeyValue(&kv, s->js, REGISTRY_BUCKET);
    if (st == NATS_NOT_FOUND)
        set_ready(s);    /* no publisher has run yet: nothing to wait for */
    if (st != NATS_OK || kvStore_WatchAll(&w, kv, NULL) != NATS_OK) {
        kvStore_Destroy(kv);
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->watcher = w;
    pthread_mutex_unlock(&s->lock);
    while (!atomic_load(&s->stopping)) {
        kvEntry *e = NULL;
        st = kvWatcher_Next(&e, w, 1000);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK)
            break;
        if (e == NULL) {    /* end of the initial contents */
            *initial = false;
            set_ready(s);
            continue;
        }
        queue_entry(s, e, *initial);
        kvEntry_Destroy(e);
    }
    pthread_mutex_lock(&s->lock);
    s->watcher = NULL;
    pthread_mutex_unlock(&s->lock);
    kvWatcher_Destroy(w);
    kvStore_Destroy(kv);
}

static void *registry_main(void *arg)
{
    struct lj_source *s = arg;
    bool initial = true;
    while (!atomic_load(&s->stopping)) {
        watch_once(s, &initial);
        for (int i = 0; i < 10 && !atomic_load(&s->stopping); i++)
            nats_Sleep(100);
    }
    return NULL;
}

bool lj_source_registry_wait(struct lj_source *s, int timeout_ms)
{
    int64_t end = nats_Now() + timeout_ms;
    pthread_mutex_lock(&s->lock);
    while (!s->ready && nats_Now() < end) {
        pthread_mutex_unlock(&s->lock);
        nats_Sleep(10);
        pthread_mutex_lock(&s->lock);
    }
    bool ready = s->ready;
    pthread_mutex_unlock(&s->lock);
    return ready;
}

struct lj_source_entry *lj_source_registry_take(struct lj_source *s)
{
    if (!atomic_load(&s->queued))
        return NULL;
    pthread_mutex_lock(&s->lock);
    struct lj_source_entry *e = s->head;
    s->head = s->tail = NULL;
    atomic_store(&s->queued, false);
    pthread_mutex_unlock(&s->lock);
    return e;
}

void lj_source_entry_free(struct lj_source_entry *e)
{
    if (e == NULL)
        return;
    lj_container_free(e->info);
    free(e->key);
    free(e);
}

/* ---- create / destroy ---- */

lj_status lj_source_create(const struct lj_source_config *cfg, struct lj_source **out,
                           char *err, size_t errlen)
{
    struct lj_source *s = calloc(1, sizeof *s);
    lj_status st;
    if (s == NULL)
        return lj_fail(err, errlen, LJ_NOMEM, "out of memory");
    s->cfg = *cfg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->ready_cond, NULL);
    st = connect_nats(s, err, errlen);
    if (st == LJ_OK && !(s->registry_started = pthread_create(&s->registry, NULL, registry_main, s) == 0))
        st = lj_fail(err, errlen, LJ_NOMEM, "cannot start the registry thread");
    if (st != LJ_OK) {
        lj_source_destroy(s);
        return st;
    }
    *out = s;
    return LJ_OK;
}

void lj_source_destroy(struct lj_source *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stopping, true);
    pthread_mutex_lock(&s->lock);
    if (s->watcher)
        kvWatcher_Stop(s->watcher);
    pthread_mutex_unlock(&s->lock);
    lj_natsconn_stop(s->conn);
    if (s->live) {
        natsSubscription_Unsubscribe(s->live);
        natsSubscription_Destroy(s->live);
    }
    /* Closed before the join: a request the registry thread is blocked in fails at once. */
    if (s->nc)
        natsConnection_Close(s->nc);
    if (s->registry_started)
        pthread_join(s->registry, NULL);
    jsCtx_Destroy(s->js);
    if (!lj_natsconn_close(s->conn, s->nc))
        return;    /* a callback may still come: leaked rather than freed under it */
    lj_natsconn_destroy(s->conn);
    /* nats.c's threads may still run a callback: wait for them before freeing s. */
    if (nats_CloseAndWait(CLOSE_WAIT_MS) == NATS_TIMEOUT)
        return;
    for (struct lj_source_entry *e = s->head, *n; e; e = n) {
        n = e->next;
        lj_source_entry_free(e);
    }
    pthread_cond_destroy(&s->ready_cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- live lines ---- */

lj_status lj_source_live_start(struct lj_source *s, char *err, size_t errlen)
{
    natsStatus st = natsConnection_SubscribeSync(&s->live, s->nc, s->cfg.live_subject);
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(s->live, s->cfg.pending_msgs, s->cfg.pending_bytes);
    if (st == NATS_OK)
        st = natsConnection_FlushTimeout(s->nc, READ_WAIT_MS);
    if (st != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "cannot subscribe to %s: %s", s->cfg.live_subject,
                       natsStatus_GetText(st));
    return LJ_OK;
}

static uint64_t header_u64(natsMsg *m, const char *name)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, name, &v) != NATS_OK || v == NULL)
        return 0;
    return strtoull(v, NULL, 10);
}

lj_status lj_source_next(struct lj_source *s, int timeout_ms, struct lj_source_msg *out)
{
    natsMsg *m = NULL;
    for (;;) {
        natsStatus st = natsSubscription_NextMsg(&m, s->live, timeout_ms > 0 ? timeout_ms : 1);
        if (st == NATS_TIMEOUT)
            return LJ_TIMEOUT;
        if (st == NATS_SLOW_CONSUMER)
            continue;    /* logged by natsconn; the gap is refilled */
        if (st != NATS_OK)
            return LJ_CLOSED;
        const char *subject = natsMsg_GetSubject(m);
        uint64_t seq = header_u64(m, "Nats-Sequence");
        if (seq == 0 || strncmp(subject, "live.", 5) != 0) {
            natsMsg_Destroy(m);    /* not a republished stored line */
            continue;
        }
        *out = (struct lj_source_msg){
            .subject = subject + 5, .seq = seq, .last_seq = header_u64(m, "Nats-Last-Sequence"),
            .data = (const uint8_t *)natsMsg_GetData(m), .len = (size_t)natsMsg_GetDataLength(m),
            .handle = m,
        };
        return LJ_OK;
    }
}

void lj_source_msg_free(struct lj_source_msg *m)
{
    natsMsg_Destroy(m->handle);
    m->handle = NULL;
}

int64_t lj_source_dropped(struct lj_source *s)
{
    int64_t n = 0;
    if (s->live)
        natsSubscription_GetDropped(s->live, &n);
    return n;
}

/* ---- JetStream ---- */

lj_status lj_source_last_seq(struct lj_source *s, uint64_t *seq, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetStreamInfo(&si, s->js, s->cfg.stream, NULL, &jerr);
    if (st == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        *seq = 0;
        return LJ_OK;    /* no publisher has created it yet */
    }
    if (st != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "stream %s: %s", s->cfg.stream, natsStatus_GetText(st));
    *seq = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return LJ_OK;
}

lj_status lj_source_subjects(struct lj_source *s, const char *filter,
                             void (*fn)(void *, const char *), void *arg, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = filter;
    natsStatus st = js_GetStreamInfo(&si, s->js, s->cfg.stream, &o, &jerr);
    if (st == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return LJ_OK;
    if (st != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "stream %s: %s", s->cfg.stream, natsStatus_GetText(st));
    if (si->State.Subjects != NULL)
        for (int i = 0; i < si->State.Subjects->Count; i++)
            fn(arg, si->State.Subjects->List[i].Subject);
    jsStreamInfo_Destroy(si);
    return LJ_OK;
}

/* Sequence and store time of subject's newest line; 0 when it has none. */
static lj_status last_stored(struct lj_source *s, const char *subject, uint64_t *seq,
                             int64_t *ns, char *err, size_t errlen)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_GetLastMsg(&m, s->js, s->cfg.stream, subject, NULL, &jerr);
    *seq = 0;
    *ns = 0;
    if (st == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
        return LJ_OK;
    if (st != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "reading %s: %s", subject, natsStatus_GetText(st));
    *seq = natsMsg_GetSequence(m);
    *ns = natsMsg_GetTime(m);
    natsMsg_Destroy(m);
    return LJ_OK;
}

lj_status lj_source_read(struct lj_source *s, const char *subject, uint64_t from_seq,
                         int64_t from_ns, uint64_t upto_seq,
                         bool (*fn)(void *, uint64_t, const uint8_t *, size_t), void *arg,
                         char *err, size_t errlen)
{
    natsSubscription *sub = NULL;
    jsSubOptions so;
    lj_status ret = LJ_OK;

    /* An ordered consumer says "nothing (more) in range" only by silence, so first ask
     * for the subject's newest line: the read then ends on reaching it. */
    uint64_t last = 0;
    int64_t last_ns = 0;
    if ((ret = last_stored(s, subject, &last, &last_ns, err, errlen)) != LJ_OK)
        return ret;
    if (last < upto_seq)
        upto_seq = last;
    if (last == 0 || upto_seq < from_seq || (from_ns > 0 && last_ns < from_ns))
        return LJ_OK;
    jsSubOptions_Init(&so);
    so.Stream = s->cfg.stream;
    so.Ordered = true;
    if (from_ns > 0) {
        so.Config.DeliverPolicy = js_DeliverByStartTime;
        so.Config.OptStartTime = from_ns;
    } else if (from_seq > 1) {
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = from_seq;
    }
    natsStatus st = js_SubscribeSync(&sub, s->js, subject, NULL, &so, NULL);
    if (st != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "cannot read %s: %s", subject, natsStatus_GetText(st));
    for (bool more = true; more;) {
        natsMsg *m = NULL;
        jsMsgMetaData *meta = NULL;
        st = natsSubscription_NextMsg(&m, sub, READ_WAIT_MS);
        if (st == NATS_TIMEOUT) {
            break;    /* nothing (more) stored in range: an ordered consumer says so by silence */
        }
        if (st != NATS_OK) {
            ret = lj_fail(err, errlen, LJ_NATS, "reading %s: %s", subject, natsStatus_GetText(st));
            break;
        }
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            natsMsg_Destroy(m);
            continue;    /* a heartbeat or flow-control message */
        }
        uint64_t seq = meta->Sequence.Stream, pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
        if (seq <= upto_seq)
            more = fn(arg, seq, (const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
        natsMsg_Destroy(m);
        if (seq >= upto_seq || pending == 0)
            more = false;
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return ret;
}

lj_status lj_source_read_direct(struct lj_source *s, const char *subject, uint64_t from_seq,
                                uint64_t upto_seq,
                                bool (*fn)(void *, uint64_t, const uint8_t *, size_t), void *arg,
                                char *err, size_t errlen)
{
    for (uint64_t seq = from_seq; seq <= upto_seq;) {
        natsMsg *m = NULL;
        jsDirectGetMsgOptions o;
        jsDirectGetMsgOptions_Init(&o);
        o.Sequence = seq;
        o.NextBySubject = subject;
        natsStatus st = js_DirectGetMsg(&m, s->js, s->cfg.stream, NULL, &o);
        if (st == NATS_NOT_FOUND)
            return LJ_OK;    /* nothing stored at or after seq */
        if (st != NATS_OK)
            return lj_fail(err, errlen, LJ_NATS, "reading %s: %s", subject, natsStatus_GetText(st));
        uint64_t got = natsMsg_GetSequence(m);
        bool more = got <= upto_seq
            && fn(arg, got, (const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
        natsMsg_Destroy(m);
        if (!more || got < seq)
            break;
        seq = got + 1;
    }
    return LJ_OK;
}
