/* jspub.c - baseline (b) of the publisher benchmark: a bare nats.c async-publish loop.
 *
 * Publishes N messages of SIZE bytes, each with a unique Nats-Msg-Id, to one subject of
 * an existing stream, as fast as JetStream acknowledges them (js_PublishAsync with at
 * most 4096 in flight), and prints "jspub <n> msgs <seconds> s <rate> msgs/s".
 * The stream is the one logjet-publisher created, so per-subject eviction is the same.
 *
 * usage: jspub NATS_URL SUBJECT N SIZE
 */
#include <inttypes.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    natsStatus st;

    if (argc != 5) {
        fprintf(stderr, "usage: jspub NATS_URL SUBJECT N SIZE\n");
        return 2;
    }
    long n = atol(argv[3]), size = atol(argv[4]);
    char *payload = malloc((size_t)size);
    memset(payload, 'x', (size_t)size);
    if ((st = natsConnection_ConnectTo(&nc, argv[1])) != NATS_OK) {
        fprintf(stderr, "connect: %s\n", natsStatus_GetText(st));
        return 1;
    }
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 4096;
    jo.Wait = 10000;
    natsConnection_JetStream(&js, nc, &jo);
    uint64_t tag = (uint64_t)time(NULL);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        char id[64];
        jsPubOptions po;
        jsPubOptions_Init(&po);
        snprintf(id, sizeof id, "jspub-%" PRIu64 "-%ld", tag, i);
        po.MsgId = id;
        po.MaxWait = 10000;
        while ((st = js_PublishAsync(js, argv[2], payload, (int)size, &po)) == NATS_TIMEOUT)
            ;
        if (st != NATS_OK) {
            fprintf(stderr, "publish %ld: %s\n", i, natsStatus_GetText(st));
            return 1;
        }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    st = js_PublishAsyncComplete(js, &po);
    double t = now() - t0;
    printf("jspub %ld msgs %.3f s %.0f msgs/s%s\n", n, t, n / t, st == NATS_OK ? "" : " (incomplete)");
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    free(payload);
    return st == NATS_OK ? 0 : 1;
}
