/* livelat.c - the publisher benchmark's latency probe: Docker's timestamp of a line to its
 * arrival on a core NATS subscriber of live.logs.<host>.<container>.
 *
 * Subscribes to SUBJECT, takes COUNT messages (each a LogRecord republished by the
 * stream), stamps each with CLOCK_REALTIME as it is received and prints
 *     livelat <n> p50 <ms> p90 <ms> p99 <ms> max <ms>
 * Docker stamps a line with the same host clock when it reads it from the container, so
 * the difference is the whole way: engine -> publisher -> JetStream -> RePublish ->
 * subscriber. Prints "ready" once subscribed, so the caller can start the container.
 * Gives up after TIMEOUT_S seconds without a message.
 *
 * Does not check order or completeness: the throughput phases do.
 *
 * usage: livelat NATS_URL SUBJECT COUNT
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "record.h"

#define TIMEOUT_S 60

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    long want, got = 0;
    double *lat;

    if (argc != 4 || (want = atol(argv[3])) <= 0) {
        fprintf(stderr, "usage: livelat NATS_URL SUBJECT COUNT\n");
        return 2;
    }
    lat = calloc((size_t)want, sizeof *lat);
    if (lat == NULL || natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
        natsConnection_SubscribeSync(&sub, nc, argv[2]) != NATS_OK ||
        natsSubscription_SetPendingLimits(sub, -1, -1) != NATS_OK ||
        natsConnection_Flush(nc) != NATS_OK) {
        fprintf(stderr, "livelat: %s\n", nats_GetLastError(NULL));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (got < want) {
        natsMsg *m = NULL;
        lj_pb_record *r = NULL;
        struct timespec now;
        if (natsSubscription_NextMsg(&m, sub, TIMEOUT_S * 1000) != NATS_OK)
            break;
        clock_gettime(CLOCK_REALTIME, &now);
        if (lj_record_unpack((const uint8_t *)natsMsg_GetData(m),
                             (size_t)natsMsg_GetDataLength(m), &r) == LJ_OK) {
            double ns = (double)now.tv_sec * 1e9 + (double)now.tv_nsec - (double)r->ts_unix_nano;
            lat[got++] = ns / 1e6;
        }
        lj_record_free(r);
        natsMsg_Destroy(m);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    if (got == 0) {
        fprintf(stderr, "livelat: no message\n");
        free(lat);
        return 1;
    }
    qsort(lat, (size_t)got, sizeof *lat, cmp);
    printf("livelat %ld p50 %.3f p90 %.3f p99 %.3f max %.3f\n", got, lat[got / 2],
           lat[got * 9 / 10], lat[got * 99 / 100], lat[got - 1]);
    free(lat);
    return got == want ? 0 : 1;
}
