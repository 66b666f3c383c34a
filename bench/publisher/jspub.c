/* jspub.c - baseline (b) of the publisher benchmark: a bare nats.c publish loop into
 * JetStream, as fast as it can be made, to measure the ceiling the publisher is held to.
 *
 * Publishes N messages of SIZE bytes to one subject of an existing stream (the one
 * logjet-publisher created, so storage, per-subject eviction, the duplicate window and
 * RePublish are the publisher's), each with a Nats-Msg-Id of the publisher's form
 * ("<12 hex>-0-<ts ns>-<index>"), waits until every one is acknowledged and prints
 *     jspub <n> msgs <seconds> s <rate> msgs/s mode <mode> depth <depth> cpu <seconds> s
 * Exits non-zero if any message was refused or never acknowledged.
 *
 * Strategies (MODE), so that the fastest one can be kept as the ceiling:
 *   async  js_PublishAsync with at most DEPTH in flight (nats.c's own async publish;
 *          its flusher thread writes batches, 1 ms after the first message of each)
 *   asap   request/reply by hand, as the publisher does: one reply subject per message
 *          under a wildcard inbox, at most DEPTH unacknowledged, SendAsap (one socket
 *          write per message)
 *   batch  the same, without SendAsap: messages are buffered and written once per
 *          DEPTH/4 messages with natsConnection_Flush (and by nats.c's flusher)
 *
 * Does not create the stream, check ordering or read anything back: bench.mjs counts
 * what JetStream stored.
 *
 * usage: jspub NATS_URL SUBJECT N SIZE [async|asap|batch] [DEPTH]
 */
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct acks {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long acked, failed;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The publisher's Msg-Id form (lj_follow_msg_id): container id prefix, stream, Docker
 * timestamp, index among lines sharing it. */
static void msg_id(char *dst, size_t n, int64_t ts, long i)
{
    snprintf(dst, n, "%.12s-0-%" PRId64 "-%ld", "0123456789abcdef", ts, i & 1);
}

static void on_ack(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct acks *a = closure;
    const char *d = natsMsg_GetData(msg);
    bool ok = d != NULL && strstr(d, "\"seq\"") != NULL && strstr(d, "\"error\"") == NULL;
    (void)nc;
    (void)sub;
    pthread_mutex_lock(&a->lock);
    a->acked++;
    a->failed += !ok;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    natsMsg_Destroy(msg);
}

/* Waits until no more than `limit` messages of `sent` are unacknowledged. */
static void wait_window(struct acks *a, long sent, long limit)
{
    pthread_mutex_lock(&a->lock);
    while (sent - a->acked > limit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;
        if (pthread_cond_timedwait(&a->cond, &a->lock, &until) != 0)
            break; /* lost acks: give up waiting, the count below shows it */
    }
    pthread_mutex_unlock(&a->lock);
}

static int run_async(natsConnection *nc, const char *subject, long n, const char *payload,
                     long size, long depth)
{
    jsCtx *js = NULL;
    jsOptions jo;
    jsPubOptions po;
    natsStatus st;
    int64_t ts = wall_ns();

    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = depth;
    jo.Wait = 10000;
    if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK)
        return 1;
    for (long i = 0; i < n; i++) {
        char id[64];
        jsPubOptions_Init(&po);
        msg_id(id, sizeof id, ts + i / 2, i);
        po.MsgId = id;
        po.MaxWait = 10000;
        while ((st = js_PublishAsync(js, subject, payload, (int)size, &po)) == NATS_TIMEOUT)
            ;
        if (st != NATS_OK) {
            fprintf(stderr, "publish %ld: %s\n", i, natsStatus_GetText(st));
            jsCtx_Destroy(js);
            return 1;
        }
    }
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    st = js_PublishAsyncComplete(js, &po);
    jsCtx_Destroy(js);
    return st == NATS_OK ? 0 : 1;
}

static int run_by_hand(natsConnection *nc, const char *subject, long n, const char *payload,
                       long size, long depth, bool batch)
{
    struct acks a = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
    natsSubscription *sub = NULL;
    natsInbox *inbox = NULL;
    char wild[96];
    int64_t ts = wall_ns();
    long flush_every = depth / 4 > 0 ? depth / 4 : 1;
    natsStatus st = natsInbox_Create(&inbox);

    if (st == NATS_OK) {
        snprintf(wild, sizeof wild, "%s.>", (const char *)inbox);
        st = natsConnection_Subscribe(&sub, nc, wild, on_ack, &a);
    }
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(sub, -1, -1);
    for (long i = 0; st == NATS_OK && i < n; i++) {
        char id[64], reply[128];
        natsMsg *msg = NULL;
        wait_window(&a, i, depth - 1);
        snprintf(reply, sizeof reply, "%s.1.%ld.0", (const char *)inbox, i + 1);
        msg_id(id, sizeof id, ts + i / 2, i);
        st = natsMsg_Create(&msg, subject, reply, payload, (int)size);
        if (st == NATS_OK)
            st = natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
        if (st == NATS_OK)
            st = natsConnection_PublishMsg(nc, msg);
        natsMsg_Destroy(msg);
        if (st == NATS_OK && batch && (i + 1) % flush_every == 0)
            st = natsConnection_FlushTimeout(nc, 10000);
    }
    if (st == NATS_OK && batch)
        st = natsConnection_FlushTimeout(nc, 10000);
    if (st != NATS_OK)
        fprintf(stderr, "publish: %s\n", natsStatus_GetText(st));
    wait_window(&a, n, 0);
    if (sub != NULL) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    natsInbox_Destroy(inbox);
    if (a.acked != n || a.failed != 0)
        fprintf(stderr, "acked %ld of %ld, %ld refused\n", a.acked, n, a.failed);
    return st == NATS_OK && a.acked == n && a.failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    natsOptions *o = NULL;
    int rc;

    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: jspub NATS_URL SUBJECT N SIZE [async|asap|batch] [DEPTH]\n");
        return 2;
    }
    long n = atol(argv[3]), size = atol(argv[4]);
    const char *mode = argc > 5 ? argv[5] : "async";
    long depth = argc > 6 ? atol(argv[6]) : 4096;
    if (n <= 0 || size <= 0 || depth <= 0 ||
        (strcmp(mode, "async") && strcmp(mode, "asap") && strcmp(mode, "batch"))) {
        fprintf(stderr, "jspub: bad N, SIZE, DEPTH or MODE\n");
        return 2;
    }
    char *payload = malloc((size_t)size);
    memset(payload, 'x', (size_t)size);
    if (natsOptions_Create(&o) != NATS_OK || natsOptions_SetURL(o, argv[1]) != NATS_OK ||
        natsOptions_SetSendAsap(o, strcmp(mode, "asap") == 0) != NATS_OK ||
        natsConnection_Connect(&nc, o) != NATS_OK) {
        fprintf(stderr, "connect %s: %s\n", argv[1], nats_GetLastError(NULL));
        return 1;
    }
    double t0 = now();
    if (strcmp(mode, "async") == 0)
        rc = run_async(nc, argv[2], n, payload, size, depth);
    else
        rc = run_by_hand(nc, argv[2], n, payload, size, depth, strcmp(mode, "batch") == 0);
    double t = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("jspub %ld msgs %.3f s %.0f msgs/s mode %s depth %ld cpu %.2f s%s\n", n, t, n / t,
           mode, depth, cpu, rc == 0 ? "" : " (incomplete)");
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    free(payload);
    return rc;
}
