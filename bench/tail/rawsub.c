/* rawsub.c - the benchmark's baseline: a bare nats.c subscriber on live.logs.> that
 * writes every payload (the raw protobuf bytes) and a newline to stdout, through
 * stdio's buffer. No decoding, no ordering, no dedupe: the floor for any consumer.
 *   rawsub URL [SUBJECT] [N]
 * It exits after N messages (N given and > 0) or on SIGINT/SIGTERM, and then reports on
 * stderr one line: the messages received, the seconds from the first to the last, its
 * CPU seconds, its peak RSS (KiB) and the messages nats.c dropped as a slow consumer.
 * Not a test. */
#include <inttypes.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    if (argc < 2 || natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK
        || natsConnection_SubscribeSync(&sub, nc, argc > 2 ? argv[2] : "live.logs.>") != NATS_OK) {
        fprintf(stderr, "usage: rawsub URL [SUBJECT] (and a reachable server)\n");
        return 2;
    }
    natsSubscription_SetPendingLimits(sub, 1000000, 256 * 1024 * 1024);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    long want = argc > 3 ? atol(argv[3]) : 0, got = 0;
    int64_t first = 0, last = 0;
    while (!stop && (want == 0 || got < want)) {
        natsMsg *m = NULL;
        natsStatus s = natsSubscription_NextMsg(&m, sub, 100);
        if (s == NATS_TIMEOUT) {
            fflush(stdout);
            continue;
        }
        if (s != NATS_OK)
            continue;
        if (got++ == 0)
            first = nats_NowInNanoSeconds();
        last = nats_NowInNanoSeconds();
        fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), stdout);
        fputc('\n', stdout);
        natsMsg_Destroy(m);
    }
    fflush(stdout);
    struct rusage ru;
    int64_t dropped = 0;
    getrusage(RUSAGE_SELF, &ru);
    natsSubscription_GetDropped(sub, &dropped);
    /* messages, seconds first to last, CPU seconds, peak RSS in KiB, dropped */
    fprintf(stderr, "%ld %.6f %.3f %ld %" PRId64 "\n", got, (double)(last - first) / 1e9,
            ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
            ru.ru_maxrss, dropped);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    return 0;
}
