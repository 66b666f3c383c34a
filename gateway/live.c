/* live.c - the feed's live subscriptions (feed.h lj_feed_subscribe): one core NATS
 * subscription per watched container on live.logs.<h>.<c>, made again on every new
 * connection, and the delivery callback that decodes each line and queues it.
 *
 * live_cb runs on nats.c's global delivery thread; subscribe and unsubscribe on the
 * service thread. Does not read JetStream (fetcher.c) or own the connection
 * (registry.c attaches it).
 */
#include "feedint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"

/* ---- live lines ---- */

static uint64_t header_u64(natsMsg *m, const char *name)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, name, &v) != NATS_OK || !v)
        return 0;
    return strtoull(v, NULL, 10);
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
        && (l = lj_feed_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), seq))) {
        e = lj_feed_event_new(LJ_FEED_LIVE, subject + 5);
        if (e && (e->lines = malloc(sizeof(*e->lines)))) {
            e->lines[0] = l;
            e->nlines = 1;
            e->last_seq = header_u64(m, "Nats-Last-Sequence");
            lj_feed_push(f, e);
        } else {
            lj_line_unref(l);
            lj_feed_event_free(e);
        }
    }
    natsMsg_Destroy(m);
}

/* Subscribes ls on nc; caller holds conn_lock and subs_lock. */
natsStatus lj_live_subscribe(struct lj_feed *f, natsConnection *nc, struct live_sub *ls)
{
    natsStatus s = natsConnection_Subscribe(&ls->sub, nc, ls->subject, live_cb, f);
    /* The default 65,536 pending messages would drop lines during a burst; a drop
     * would be repaired by gap fill, but it is cheaper not to drop. */
    if (s == NATS_OK)
        natsSubscription_SetPendingLimits(ls->sub, 1000000, 512 * 1024 * 1024);
    return s;
}

void lj_live_drop(struct live_sub *ls)
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
    if (f->nc && (s = lj_live_subscribe(f, f->nc, ls)) != NATS_OK && natsConnection_IsClosed(f->nc)) {
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
    lj_live_drop(ls);
    LJ_LIST_UNLINK(f->subs, ls, next, prev);
    pthread_mutex_unlock(&f->subs_lock);
    pthread_rwlock_unlock(&f->conn_lock);
    free(ls);
}
