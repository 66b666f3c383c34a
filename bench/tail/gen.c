/* gen.c - the logjet-tail benchmark's load generator.
 *
 *   tailgen URL N [options]
 *     --containers C   containers the lines are spread over (1000), round robin
 *     --hosts H        host ids the containers are split between (2): bench0, bench1, ...
 *     --rate R         offered lines/s over all connections (0 = as fast as JetStream takes them)
 *     --conns K        publishing connections, one thread each (1); container c goes to c % K
 *     --pending P      js_PublishAsync window per connection (65536)
 *     --storage file|memory   the stream's storage (file, as the publisher creates it)
 *     --msg-id         give every line a Nats-Msg-Id, as the publisher does (off)
 *     --no-republish   leave RePublish out of the stream (to measure what it costs)
 *     --create-only    create the stream and exit (a consumer can then be started first)
 *     --prefix P       container names are P0000, P0001, ... ("svc-")
 *     --registry       also write each container's registry entry (LOGJET_CONTAINERS, the
 *                      bucket created as the publisher creates it) before the first line,
 *                      so a gateway knows them and globs find them
 *     --line-from L    every container's line_no continues after L (a second run on the
 *                      same stream; 0)
 *     --marker         lines begin "LJTS=<CLOCK_REALTIME ns> n=<i> " (i counts from 1 over
 *                      all containers), the marker bench/gateway/wsload measures latency by
 *
 * Creates (unless it exists) a stream LOGS on logs.> shaped like the one the publisher
 * creates (publisher/sink.c: RePublish logs.> -> live.logs.>, MaxMsgsPerSubject 1000,
 * AllowDirect, DiscardOld, 2 min duplicate window, file storage). Memory storage is
 * there to compare only: on nats-server 2.9.10 a memory stream with RePublish slows
 * down with every stored line (2000 lines at 88k/s, 20000 at 2.5k/s on this machine),
 * while a file stream with RePublish stays near 60k/s per connection. Then stores N LogRecords
 * packed with common/record.c (~100-byte lines, line numbers per container, Docker-like
 * nanosecond timestamps) on logs.<host>.<container>, pipelined with js_PublishAsync.
 *
 * Prints one line on stdout:
 *   sent N stored S failed F secs T rate R
 * where S is what the stream's state says it received (LastSeq growth), F the
 * publishes the server answered with an error, T the seconds from the first publish to
 * the last ack, R = S / T. Exit status 0 when S == N.
 *
 * Does NOT: consume, measure consumers, or pretend to be a publisher (the registry
 * entries are written once, never updated; no ack bookkeeping). Not a test. */
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "subject.h"
#include "timeutil.h"

#define MAX_CONNS 16

struct gen_cfg {
    const char *url;
    long n, containers, hosts, conns, pending, line_from;
    double rate;
    const char *prefix;
    bool file, msg_id, republish, create_only, registry, marker;
};

struct gen_thread {
    const struct gen_cfg *cfg;
    int index;
    pthread_t tid;
    natsStatus status;
};

static atomic_long failed;

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    (void)closure;
    atomic_fetch_add(&failed, 1);
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
    nanosleep(&ts, NULL);
}

static natsStatus connect(const struct gen_cfg *cfg, natsConnection **nc, jsCtx **js)
{
    natsOptions *o = NULL;
    jsOptions jo;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = natsOptions_SetURL(o, cfg->url);
    if (st == NATS_OK)
        st = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    if (st != NATS_OK)
        return st;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = cfg->pending;
    jo.PublishAsync.StallWait = 30000;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.Wait = 30000;
    return natsConnection_JetStream(js, *nc, &jo);
}

static natsStatus ensure_stream(jsCtx *js, const struct gen_cfg *cfg, uint64_t *last_seq)
{
    jsStreamInfo *si = NULL;
    const char *subjects[] = { "logs.>" };
    jsStreamConfig sc;
    jsRePublish rp;
    natsStatus st = js_GetStreamInfo(&si, js, "LOGS", NULL, NULL);
    if (st == NATS_NOT_FOUND) {
        jsStreamConfig_Init(&sc);
        jsRePublish_Init(&rp);
        rp.Source = "logs.>";
        rp.Destination = "live.logs.>";
        sc.Name = "LOGS";
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.MaxMsgsPerSubject = 1000;
        sc.Discard = js_DiscardOld;
        sc.Storage = cfg->file ? js_FileStorage : js_MemoryStorage;
        sc.Duplicates = 120LL * 1000000000;
        sc.AllowDirect = true;
        sc.RePublish = cfg->republish ? &rp : NULL;
        st = js_AddStream(&si, js, &sc, NULL, NULL);
    }
    if (st == NATS_OK)
        *last_seq = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return st;
}

/* The registry bucket as the publisher creates it (publisher/sink.c), and one running
 * container's entry per container under "<host>.<name>" (tokens encoded). */
static natsStatus register_all(jsCtx *js, const struct gen_cfg *cfg)
{
    kvStore *kv = NULL;
    kvConfig kc;
    natsStatus st = js_KeyValue(&kv, js, "LOGJET_CONTAINERS");
    if (st == NATS_NOT_FOUND) {
        kvConfig_Init(&kc);
        kc.Bucket = "LOGJET_CONTAINERS";
        kc.History = 1;
        kc.StorageType = js_FileStorage;
        st = js_CreateKeyValue(&kv, js, &kc);
    }
    int64_t now = lj_time_now_ns();
    for (long c = 0; c < cfg->containers && st == NATS_OK; c++) {
        char host[32], name[64], id[65], subject[LJ_SUBJECT_MAX];
        uint8_t *buf = NULL;
        size_t len = 0;
        snprintf(host, sizeof host, "bench%ld", c % cfg->hosts);
        snprintf(name, sizeof name, "%.20s%04ld", cfg->prefix, c);
        snprintf(id, sizeof id, "%064ld", c);
        struct lj_container info = { .id = id, .name = name, .image = "bench", .state = "running",
                                     .host = host, .started_ns = now, .updated_ns = now };
        if (lj_subject_build("logs", host, name, subject, sizeof subject) != LJ_OK
            || lj_container_pack_view(&info, &buf, &len) != LJ_OK) {
            st = NATS_ERR;
            break;
        }
        /* the key is the subject without "logs.": "<h>.<c>" */
        st = kvStore_Put(NULL, kv, subject + 5, buf, (int)len);
        free(buf);
    }
    kvStore_Destroy(kv);
    return st;
}

static void *publish_loop(void *arg)
{
    struct gen_thread *t = arg;
    const struct gen_cfg *cfg = t->cfg;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = connect(cfg, &nc, &js);
    char id[65], line[200], subject[LJ_SUBJECT_MAX], name[64], host[32], msg_id[96];
    uint8_t buf[1024];
    long mine = 0;
    /* The containers of this thread are c = index, index + K, ...; every K-th line of
     * the global round robin is this thread's, so a run with K connections offers the
     * same lines as one with a single connection. */
    long per_round = 0;
    for (long c = t->index; c < cfg->containers; c += cfg->conns)
        per_round++;
    uint64_t *line_no = calloc((size_t)per_round + 1, sizeof *line_no);
    for (long k = 0; line_no && k <= per_round; k++)
        line_no[k] = (uint64_t)cfg->line_from;
    double rate = cfg->rate > 0 ? cfg->rate * (double)per_round / (double)cfg->containers : 0;
    int64_t t0 = lj_time_mono_ns();
    for (long i = 0; i < cfg->n && st == NATS_OK; i++) {
        long c = i % cfg->containers;
        if (c % cfg->conns != t->index)
            continue;
        long k = c / cfg->conns;
        if (rate > 0 && (mine & 63) == 0) {
            int64_t due = t0 + (int64_t)((double)mine * 1e9 / rate);
            int64_t now = lj_time_mono_ns();
            if (due > now)
                sleep_ns(due - now);
        }
        snprintf(host, sizeof host, "bench%ld", c % cfg->hosts);
        snprintf(name, sizeof name, "%.20s%04ld", cfg->prefix, c);
        snprintf(id, sizeof id, "%064ld", c);
        int64_t ts = lj_time_now_ns();
        int len = 0;
        if (cfg->marker)
            len = snprintf(line, sizeof line, "LJTS=%019" PRId64 " n=%ld ", ts, i + 1);
        len += snprintf(line + len, sizeof line - (size_t)len, "%07ld GET /api/v1/items?page=%ld 200 "
                        "level=info request_id=%08lx took=%ldms user=bench", i, i % 97,
                        (unsigned long)i * 2654435761UL, i % 250);
        struct lj_record r = { .host = host, .container_id = id, .container = name,
                               .ts_unix_nano = ts, .line = (const uint8_t *)line,
                               .line_len = (size_t)len, .level = LJ_LEVEL_INFO,
                               .line_no = ++line_no[k] };
        size_t sz = lj_record_pack(&r, buf);
        if (lj_subject_build("logs", host, name, subject, sizeof subject) != LJ_OK) {
            st = NATS_ERR;
            break;
        }
        if (cfg->msg_id) {
            natsMsg *m = NULL;
            snprintf(msg_id, sizeof msg_id, "%.12s-0-%" PRId64 "-0", id, ts);
            st = natsMsg_Create(&m, subject, NULL, (const char *)buf, (int)sz);
            if (st == NATS_OK)
                st = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
            if (st == NATS_OK)
                st = js_PublishMsgAsync(js, &m, NULL);
            natsMsg_Destroy(m);   /* NULL when published: the library owns it then */
        } else {
            st = js_PublishAsync(js, subject, buf, (int)sz, NULL);
        }
        mine++;
    }
    if (st == NATS_OK) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 60000;
        st = js_PublishAsyncComplete(js, &po);
    }
    t->status = st;
    free(line_no);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return NULL;
}

static bool parse(int argc, char **argv, struct gen_cfg *cfg)
{
    if (argc < 3)
        return false;
    cfg->url = argv[1];
    cfg->n = atol(argv[2]);
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--msg-id") == 0)
            cfg->msg_id = true;
        else if (strcmp(a, "--no-republish") == 0)
            cfg->republish = false;
        else if (strcmp(a, "--create-only") == 0)
            cfg->create_only = true;
        else if (strcmp(a, "--registry") == 0)
            cfg->registry = true;
        else if (strcmp(a, "--marker") == 0)
            cfg->marker = true;
        else if (v == NULL)
            return false;
        else if (strcmp(a, "--containers") == 0 && ++i)
            cfg->containers = atol(v);
        else if (strcmp(a, "--hosts") == 0 && ++i)
            cfg->hosts = atol(v);
        else if (strcmp(a, "--rate") == 0 && ++i)
            cfg->rate = atof(v);
        else if (strcmp(a, "--conns") == 0 && ++i)
            cfg->conns = atol(v);
        else if (strcmp(a, "--pending") == 0 && ++i)
            cfg->pending = atol(v);
        else if (strcmp(a, "--storage") == 0 && ++i)
            cfg->file = strcmp(v, "memory") != 0;
        else if (strcmp(a, "--line-from") == 0 && ++i)
            cfg->line_from = atol(v);
        else if (strcmp(a, "--prefix") == 0 && ++i)
            cfg->prefix = v;
        else
            return false;
    }
    return cfg->n >= 0 && cfg->containers > 0 && cfg->hosts > 0 && cfg->hosts <= cfg->containers
           && cfg->conns > 0 && cfg->conns <= MAX_CONNS && cfg->conns <= cfg->containers
           && cfg->pending > 0 && cfg->rate >= 0 && *cfg->prefix && cfg->line_from >= 0;
}

int main(int argc, char **argv)
{
    struct gen_cfg cfg = { .containers = 1000, .hosts = 2, .conns = 1, .pending = 65536,
                           .republish = true, .file = true, .prefix = "svc-" };
    struct gen_thread th[MAX_CONNS];
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    uint64_t seq0 = 0, seq1 = 0;
    int rc = 1;

    if (!parse(argc, argv, &cfg)) {
        fprintf(stderr, "usage: tailgen URL N [--containers C] [--hosts H] [--rate R] "
                        "[--conns K] [--pending P] [--storage file|memory] [--msg-id] "
                        "[--no-republish] [--create-only] [--prefix P] [--registry] "
                        "[--marker] [--line-from L]\n");
        return 2;
    }
    natsStatus st = connect(&cfg, &nc, &js);
    if (st == NATS_OK)
        st = ensure_stream(js, &cfg, &seq0);
    if (st != NATS_OK) {
        fprintf(stderr, "tailgen: %s: %s\n", cfg.url, natsStatus_GetText(st));
        goto out;
    }
    if (st == NATS_OK && cfg.registry)
        st = register_all(js, &cfg);
    if (st != NATS_OK) {
        fprintf(stderr, "tailgen: registry: %s\n", natsStatus_GetText(st));
        goto out;
    }
    if (cfg.create_only) {
        rc = 0;
        goto out;
    }
    int64_t t0 = lj_time_mono_ns();
    for (int i = 0; i < cfg.conns; i++) {
        th[i] = (struct gen_thread){ .cfg = &cfg, .index = i };
        pthread_create(&th[i].tid, NULL, publish_loop, &th[i]);
    }
    for (int i = 0; i < cfg.conns; i++) {
        pthread_join(th[i].tid, NULL);
        if (th[i].status != NATS_OK && st == NATS_OK)
            st = th[i].status;
    }
    double secs = (double)(lj_time_mono_ns() - t0) / 1e9;
    if (st == NATS_OK)
        st = ensure_stream(js, &cfg, &seq1);
    if (st != NATS_OK)
        fprintf(stderr, "tailgen: %s\n", natsStatus_GetText(st));
    long stored = (long)(seq1 - seq0);
    printf("sent %ld stored %ld failed %ld secs %.3f rate %.0f\n", cfg.n, stored,
           atomic_load(&failed), secs, (double)stored / secs);
    rc = st == NATS_OK && stored == cfg.n ? 0 : 1;
out:
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}
