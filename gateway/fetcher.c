/* fetcher.c - the feed's fetcher thread (feed.h lj_feed_fetch, lj_feed_seek): a queue
 * of requests, each answered by a JetStream read through a short-lived ordered
 * consumer (ring fills, gap fills, catch-ups) or a start-time lookup, and queued back
 * as a FETCHED, FETCH_FAILED or SOUGHT event.
 *
 * One request at a time, under conn_lock as a reader, so the connection does not
 * change under a read. Does not subscribe to live subjects or watch the registry.
 */
#include "feedint.h"

#include <stdlib.h>
#include <string.h>

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
        struct lj_line *l = seq <= end ? lj_feed_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), seq) : NULL;
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
    struct lj_feed_event *ev = lj_feed_event_new(LJ_FEED_SOUGHT, r->subject);
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
    lj_feed_push(f, ev);
}

static void run_fetch(struct lj_feed *f, struct fetch_req *r)
{
    struct lj_feed_event *ev = lj_feed_event_new(LJ_FEED_FETCHED, r->subject);
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
    lj_feed_push(f, ev);
}

void *lj_fetcher_main(void *arg)
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
