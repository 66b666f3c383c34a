/* gen.c - the benchmark's load: creates a LOGS-like stream in memory (RePublish
 * logs.> -> live.logs.>, MaxMsgsPerSubject 1000; memory storage so that JetStream can
 * take more than 100k lines/s on this machine) and stores N LogRecords of ~100-byte
 * lines spread over C containers as fast as js_PublishAsync allows, then prints the rate.
 *   gen URL N CONTAINERS
 * Not a test. */
#include <inttypes.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "timeutil.h"

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    jsStreamConfig sc;
    jsRePublish rp = { .Source = "logs.>", .Destination = "live.logs.>" };
    const char *subjects[] = { "logs.>" };
    if (argc < 4 || natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK) {
        fprintf(stderr, "usage: gen URL N CONTAINERS\n");
        return 2;
    }
    long n = atol(argv[2]), nc_count = atol(argv[3]);
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 8192;
    natsConnection_JetStream(&js, nc, &jo);
    jsStreamConfig_Init(&sc);
    sc.Name = "LOGS";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_MemoryStorage;
    sc.MaxMsgsPerSubject = 1000;
    sc.AllowDirect = true;
    sc.RePublish = &rp;
    js_AddStream(NULL, js, &sc, NULL, NULL);
    char line[128], subject[64], name[32], id[65];
    memset(id, 'a', 64);
    id[64] = '\0';
    uint64_t *line_no = calloc((size_t)nc_count, sizeof *line_no);
    uint8_t buf[1024];
    int64_t t0 = lj_time_mono_ns();
    for (long i = 0; i < n; i++) {
        long c = i % nc_count;
        snprintf(name, sizeof name, "c%05ld", c);
        snprintf(subject, sizeof subject, "logs.bench.%s", name);
        int len = snprintf(line, sizeof line, "%07ld the quick brown fox jumps over the lazy dog "
                           "level=info request_id=abcdef0123 took=12ms", i);
        struct lj_record r = { .host = "bench", .container_id = id, .container = name,
                               .ts_unix_nano = lj_time_now_ns(), .line = (const uint8_t *)line,
                               .line_len = (size_t)len, .level = LJ_LEVEL_INFO,
                               .line_no = ++line_no[c] };
        size_t sz = lj_record_pack(&r, buf);
        if (js_PublishAsync(js, subject, buf, (int)sz, NULL) != NATS_OK)
            i--;    /* stalled: try again */
    }
    js_PublishAsyncComplete(js, NULL);
    double secs = (double)(lj_time_mono_ns() - t0) / 1e9;
    printf("%ld records in %.2f s: %.0f/s\n", n, secs, (double)n / secs);
    free(line_no);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return 0;
}
