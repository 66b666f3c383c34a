/* Unit tests for gateway/session.c and the fan-out of gateway/hub.c: cursors into a
 * watch's ring, replay and resume seams, slow clients (exact gaps with and without
 * filters, the named line always next, bounded ring), wake-ups once per pass.
 *
 * No NATS and no lws: the hub runs without a feed, the test hands it the events the
 * feed would (lj_hub_apply), and plays the server (next_frame until it says no). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "hub.h"
#include "join.h"
#include "session.h"
#include "sessions.h"
#include "timeutil.h"

#define SUBJECT "logs.h.c"
#define EV_MAX 30000

/* ---- feed side ---- */

static struct lj_line *mk(uint64_t line_no)
{
    char text[32];
    lj_pb_record r = LOGJET__V1__LOG_RECORD__INIT;
    struct lj_line *l = NULL;
    snprintf(text, sizeof(text), "line %llu", (unsigned long long)line_no);
    r.host = "h";
    r.container = "c";
    r.line.data = (uint8_t *)text;
    r.line.len = strlen(text);
    r.line_no = line_no;
    r.level = line_no % 3 == 0 ? LOGJET__V1__LEVEL__ERROR : LOGJET__V1__LEVEL__INFO;
    lj_line_create(&r, line_no * 10, &l);   /* seqs have holes, like a shared stream */
    return l;
}

static struct lj_feed_event *event(enum lj_feed_kind kind, size_t n)
{
    struct lj_feed_event *e = calloc(1, sizeof(*e));
    e->kind = kind;
    e->subject = strdup(SUBJECT);
    e->lines = calloc(n ? n : 1, sizeof(*e->lines));
    return e;
}

/* The initial fetch answers with lines first..last (none when first > last). */
static void fetched(struct lj_hub *h, uint64_t first, uint64_t last)
{
    struct lj_feed_event *e = event(LJ_FEED_FETCHED, last >= first ? last - first + 1 : 0);
    for (uint64_t n = first; n <= last; n++)
        e->lines[e->nlines++] = mk(n);
    lj_hub_apply(h, e);
}

/* One live line n whose republish says its predecessor was stored at last_seq. */
static void live_after(struct lj_hub *h, uint64_t n, uint64_t last_seq)
{
    struct lj_feed_event *e = event(LJ_FEED_LIVE, 1);
    e->lines[0] = mk(n);
    e->nlines = 1;
    e->last_seq = last_seq;
    lj_hub_apply(h, e);
}

/* Live lines first..last, then one service pass (wakes sessions). */
static void live(struct lj_hub *h, uint64_t first, uint64_t last)
{
    for (uint64_t n = first; n <= last; n++)
        live_after(h, n, (n - 1) * 10);
    lj_hub_service(h);
}

/* ---- client side ---- */

struct ev {
    char type;               /* L line, R replayed, G gap, E error, H hello, C containers,
                                V event, T retention */
    char id[16];
    uint64_t seq, line_no, after, next, lost;
    char reason[16];
};

struct client {
    struct lj_session *s;
    int wakes;               /* writable requests */
    struct ev ev[EV_MAX];
    size_t n;
    size_t frames, line_frames;
};

static struct lj_buf tx;

static void on_writable(void *wsi)
{
    ((struct client *)wsi)->wakes++;
}

/* The test plays the server: it owns the session list and lends it to the hub. A
 * client's struct stands for its connection (wsi). */
static struct lj_sessions sessions;

static void lend_sessions(struct lj_hub *h)
{
    memset(&sessions, 0, sizeof(sessions));
    sessions.stats = lj_hub_stats(h);
    sessions.writable = on_writable;
    lj_hub_set_sessions(h, &sessions);
}

/* The server's tick after its service pass: closed sessions freed, the hub's
 * housekeeping, stalled sessions handed to close_cb. */
static void server_tick(struct lj_hub *h, int64_t stall_ns, void (*close_cb)(void *wsi))
{
    lj_sessions_reap(&sessions);
    lj_hub_tick(h);
    lj_sessions_tick(&sessions, lj_time_mono_ns(), stall_ns, close_cb);
}

/* The server's destroy, then the hub's. */
static void hub_free(struct lj_hub *h)
{
    lj_sessions_finish(&sessions);
    lj_hub_set_sessions(h, NULL);
    lj_hub_destroy(h);
}

static uint64_t num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

static void str(const cJSON *o, const char *k, char *dst, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    snprintf(dst, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void record(struct client *c, const char *json, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    char type[16];
    CHECK(o != NULL);
    if (!o)
        return;
    str(o, "type", type, sizeof(type));
    struct ev e = { .type = strcmp(type, "event") == 0 ? 'V' : strcmp(type, "retention") == 0 ? 'T'
                                                                                      : (char)(type[0] - 32) };
    str(o, "id", e.id, sizeof(e.id));
    if (strcmp(type, "lines") == 0) {
        const cJSON *l;
        c->line_frames++;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(o, "lines")) {
            struct ev x = { .type = 'L', .seq = num(l, "seq"), .line_no = num(l, "line_no") };
            memcpy(x.id, e.id, sizeof(x.id));
            if (c->n < EV_MAX)
                c->ev[c->n++] = x;
        }
    } else {
        e.seq = num(o, "seq");
        e.after = num(o, "after_seq");
        e.next = num(o, "next_seq");
        e.lost = num(o, "lost");
        str(o, "reason", e.reason, sizeof(e.reason));
        if (e.type == 'V')
            str(o, "event", e.reason, sizeof(e.reason));
        if (e.type == 'T')
            e.line_no = num(o, "first_line_no");
        if (c->n < EV_MAX)
            c->ev[c->n++] = e;
    }
    cJSON_Delete(o);
}

/* Writes up to max frames (0 = until nothing is left), like the writable callbacks. */
static size_t drain(struct client *c, size_t max)
{
    size_t k = 0;
    while ((!max || k < max) && lj_session_next_frame(c->s, &tx, 16)) {
        record(c, tx.data + 16, tx.len - 16);
        c->frames++;
        k++;
    }
    return k;
}

static void registry_put(struct lj_hub *h, const char *c);

/* A hub that has not heard of any container yet. */
static struct lj_hub *hub_bare(uint32_t depth, size_t max_queue, size_t max_frame)
{
    struct lj_hub_config cfg = { .depth = depth, .linger_ns = 0,
                                 .limits = { .max_queue = max_queue, .max_frame = max_frame,
                                             .depth = depth } };
    struct lj_hub *h = NULL;
    CHECK_INT(lj_hub_create(&cfg, &h), LJ_OK);
    lend_sessions(h);
    return h;
}

/* A hub whose registry knows container h/c (SUBJECT): a plain subscribe to it gets
 * its watch at once. */
static struct lj_hub *hub_new(uint32_t depth, size_t max_queue, size_t max_frame)
{
    struct lj_hub *h = hub_bare(depth, max_queue, max_frame);
    registry_put(h, "c");
    return h;
}

static struct client *cl_connect(struct lj_hub *h, size_t max_queue, size_t max_frame, uint32_t depth)
{
    struct client *c = calloc(1, sizeof(*c));
    struct lj_control_limits lim = { .max_queue = max_queue, .max_frame = max_frame, .depth = depth };
    struct lj_session_ops ops;
    lj_join_session_ops(h, &ops);
    CHECK_INT(lj_sessions_open(&sessions, &ops, c, lj_grant_all(), &lim, &c->s), LJ_OK);
    drain(c, 0);   /* hello */
    CHECK(c->n == 1 && c->ev[0].type == 'H');
    c->n = 0;
    return c;
}

static void cl_send(struct client *c, const char *json)
{
    CHECK_INT(lj_session_receive(c->s, json, strlen(json), true), LJ_OK);
}

static size_t count(const struct client *c, char type)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        k += c->ev[i].type == type;
    return k;
}

/* Checks the client's lines of id: line_no from `first` on, each gap exactly where a
 * hole is (after_seq = the line before, next_seq = the line after, lost = the hole,
 * counting only lines `keep` passes); returns the total announced lost. */
static uint64_t check_stream(const struct client *c, const char *id, uint64_t first, uint64_t last,
                             bool (*keep)(uint64_t), bool replayed_first)
{
    uint64_t prev = first - 1, lost = 0, prev_seq = 0;
    bool live = !replayed_first;
    const struct ev *gap = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const struct ev *e = &c->ev[i];
        if (strcmp(e->id, id) != 0)
            continue;
        if (e->type == 'R') {
            CHECK(!live);
            live = true;
            continue;
        }
        if (e->type == 'G') {
            CHECK(gap == NULL);
            CHECK(strcmp(e->reason, "slow_client") == 0 || strcmp(e->reason, "expired") == 0);
            if (prev_seq)    /* before the first line: test_first_gap_after_seq */
                CHECK_INT(e->after, prev_seq);
            gap = e;
            lost += e->lost;
            continue;
        }
        if (e->type != 'L')
            continue;
        uint64_t hole = 0;
        for (uint64_t n = prev + 1; n < e->line_no; n++)
            hole += keep(n);
        if (gap) {
            CHECK_INT(e->seq, gap->next);
            CHECK_INT(gap->lost, hole);
            CHECK(hole > 0);
        } else {
            CHECK_INT(hole, 0);
        }
        CHECK(keep(e->line_no));
        gap = NULL;
        prev = e->line_no;
        prev_seq = e->seq;
    }
    if (gap) {   /* an orphan gap: nothing after it yet; next_seq - 1 was lost */
        uint64_t hole = 0, end = (gap->next - 1) / 10;
        for (uint64_t n = prev + 1; n <= end; n++)
            hole += keep(n);
        CHECK_INT(gap->lost, hole);
        prev = end;
    }
    while (last > first && !keep(last))
        last--;
    CHECK_INT(prev, last);
    CHECK(live);
    return lost;
}

static bool all(uint64_t n) { (void)n; return true; }
static bool errors(uint64_t n) { return n % 3 == 0; }
static bool errors_7(uint64_t n) { return n % 3 == 0 && n % 10 == 7; }

/* ---- tests ---- */

/* replay:1000 of 3000 lines: exactly 2001..3000, `replayed`, then live lines with no
 * gap or duplicate at the seam; a resume gets exactly what it missed; an expired
 * resume gets a gap with the exact lost. */
static void test_replay_seam(void)
{
    struct lj_hub *h = hub_new(1000, 4 << 20, 65536);
    struct client *a = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/c\"}");
    fetched(h, 1, 0);
    for (uint64_t n = 1; n <= 3000; n += 100) {   /* a keeps up */
        live(h, n, n + 99);
        drain(a, 0);
    }
    CHECK_INT(check_stream(a, "a", 1, 3000, all, true), 0);

    struct client *b = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(b, "{\"op\":\"subscribe\",\"id\":\"b\",\"container\":\"h/c\",\"replay\":1000}");
    drain(b, 3);                         /* part of the replay, then live lines arrive */
    live(h, 3001, 3020);
    drain(b, 0);
    CHECK_INT(check_stream(b, "b", 2001, 3020, all, true), 0);
    CHECK_INT(count(b, 'R'), 1);
    for (size_t i = 0; i < b->n; i++)    /* replayed sits exactly after line 3000 */
        if (b->ev[i].type == 'R') {
            CHECK_INT(b->ev[i].seq, 30000);
            CHECK_INT(b->ev[i - 1].line_no, 3000);
            CHECK_INT(b->ev[i + 1].line_no, 3001);
        }
    CHECK(b->line_frames < 10);          /* batched: many lines per frame */

    /* filtered replay: the last 10 lines that pass, from the window only */
    struct client *f = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(f, "{\"op\":\"subscribe\",\"id\":\"f\",\"container\":\"h/c\",\"replay\":10,\"levels\":[\"error\"]}");
    drain(f, 0);
    CHECK_INT(count(f, 'L'), 10);
    CHECK_INT(f->ev[0].line_no, 2991);
    CHECK_INT(f->ev[9].line_no, 3018);

    /* resume from line 2500: exactly 2501..3020 */
    struct client *r = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(r, "{\"op\":\"subscribe\",\"id\":\"r\",\"container\":\"h/c\",\"after_seq\":25000}");
    live(h, 3021, 3021);
    drain(r, 0);
    CHECK_INT(check_stream(r, "r", 2501, 3021, all, true), 0);
    CHECK_INT(r->ev[0].line_no, 2501);

    /* expired: line 1500 left the window; lost is exact from line_no */
    struct client *x = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(x, "{\"op\":\"subscribe\",\"id\":\"x\",\"container\":\"h/c\",\"after_seq\":15000}");
    drain(x, 0);
    CHECK(x->n > 2 && x->ev[0].type == 'G');
    CHECK_STR(x->ev[0].reason, "expired");
    CHECK_INT(x->ev[0].after, 15000);
    CHECK_INT(x->ev[0].next, 20220);     /* oldest of the window: line 2022 */
    CHECK_INT(x->ev[0].lost, 2022 - 1 - 1500);
    CHECK_INT(x->ev[1].line_no, 2022);
    CHECK_INT(count(x, 'L'), 1000);
    hub_free(h);
    free(a), free(b), free(f), free(r), free(x);
}

/* A stalled client next to a reading one: the reader gets everything; the stalled
 * one, when it reads again, a gap with the exact count right before the next line;
 * the ring stays bounded. With filters, lost counts only lines the filters pass. */
static void test_slow(const char *filter, bool (*keep)(uint64_t))
{
    const size_t maxq = 64 * 1024;
    char req[256];
    struct lj_hub *h = hub_new(100, maxq, 8192);
    struct client *fast = cl_connect(h, maxq, 8192, 100);
    struct client *slow = cl_connect(h, maxq, 8192, 100);
    cl_send(fast, "{\"op\":\"subscribe\",\"id\":\"f\",\"container\":\"h/c\"}");
    snprintf(req, sizeof(req), "{\"op\":\"subscribe\",\"id\":\"s\",\"container\":\"h/c\"%s}", filter);
    cl_send(slow, req);
    fetched(h, 1, 0);
    drain(slow, 0);                      /* replayed */
    for (uint64_t n = 1; n <= 20000; n += 50) {
        live(h, n, n + 49);
        drain(fast, 0);
        CHECK(lj_session_backlog(slow->s) <= maxq + 200);
        if (n == 10001)
            drain(slow, 2);              /* reads a little in the middle */
    }
    CHECK_INT(check_stream(fast, "f", 1, 20000, all, true), 0);
    CHECK_INT(count(fast, 'G'), 0);
    drain(slow, 0);
    uint64_t lost = check_stream(slow, "s", 1, 20000, keep, true);
    uint64_t wanted = 0;
    for (uint64_t n = 1; n <= 20000; n++)
        wanted += keep(n);
    CHECK(lost > 0);
    CHECK_INT(count(slow, 'L') + lost, wanted);
    CHECK_INT(lj_hub_stats(h)->lost_slow, lost);
    CHECK_INT(lj_hub_stats(h)->gaps_slow, count(slow, 'G'));
    hub_free(h);
    free(fast), free(slow);
}

/* The line a gap names is the next one sent, even when the ring evicts it (and more)
 * before the client reads again; a filtered tap whose lost lines have no successor
 * yet gets an orphan gap naming the seq after the newest lost line. */
static void test_pin_and_orphan(void)
{
    const size_t maxq = 16 * 1024;
    struct lj_hub *h = hub_new(10, maxq, 2048);
    struct client *c = cl_connect(h, maxq, 2048, 10);
    struct client *e = cl_connect(h, maxq, 2048, 10);
    cl_send(c, "{\"op\":\"subscribe\",\"id\":\"c\",\"container\":\"h/c\"}");
    cl_send(e, "{\"op\":\"subscribe\",\"id\":\"e\",\"container\":\"h/c\",\"levels\":[\"error\"],"
            "\"grep\":\"7$\"}");
    fetched(h, 1, 0);
    drain(c, 0);
    drain(e, 0);
    live(h, 1, 2000);
    CHECK_INT(drain(c, 1), 1);           /* the gap */
    CHECK(c->ev[c->n - 1].type == 'G');
    uint64_t named = c->ev[c->n - 1].next;
    live(h, 2001, 4000);                 /* evicts the named line and more */
    CHECK_INT(drain(c, 1), 1);
    CHECK(c->ev[c->n - 1].type == 'L');
    size_t k = c->n;
    while (c->ev[k - 1].type == 'L')
        k--;
    CHECK_INT(c->ev[k].seq, named);      /* first line after the gap */
    drain(c, 0);
    check_stream(c, "c", 1, 4000, all, true);
    CHECK(count(c, 'G') >= 2);

    /* e: error lines ending in 7 (line_no 27, 57, 87, ...): lost ones, then only
     * lines it does not want: an orphan gap, and nothing else. */
    for (uint64_t n = 4001; n <= 4200; n++) {
        struct lj_feed_event *ev = event(LJ_FEED_LIVE, 1);
        lj_pb_record r = LOGJET__V1__LOG_RECORD__INIT;
        r.host = "h";
        r.container = "c";
        r.line.data = (uint8_t *)"x";
        r.line.len = 1;
        r.line_no = n;
        r.level = LOGJET__V1__LEVEL__INFO;
        lj_line_create(&r, n * 10, &ev->lines[0]);
        ev->nlines = 1;
        ev->last_seq = (n - 1) * 10;
        lj_hub_apply(h, ev);
    }
    lj_hub_service(h);
    drain(e, 0);
    CHECK(count(e, 'G') >= 1);
    CHECK(e->ev[e->n - 1].type == 'G');
    CHECK_INT(e->ev[e->n - 1].next, 39871);   /* after 3987, the last lost error-7 line */
    check_stream(e, "e", 1, 3987, errors_7, true);
    /* unsubscribe with a pinned line and pending drops frees everything */
    live(h, 4201, 6000);
    drain(c, 1);
    cl_send(c, "{\"op\":\"unsubscribe\",\"id\":\"c\"}");
    CHECK(!lj_session_pending(c->s));
    hub_free(h);
    free(c), free(e);
}

/* Fan-out cost: however many lines a pass brings, each session is woken once; a tap
 * whose filters reject every new line is not woken at all; the ring keeps only the
 * window once every reader has caught up. */
static void no_close(void *wsi)
{
    (void)wsi;
    CHECK(!"no session stalls here");
}

static void test_wakes(void)
{
    struct lj_hub *h = hub_new(100, 1 << 20, 65536);
    struct client *a = cl_connect(h, 1 << 20, 65536, 100);
    struct client *e = cl_connect(h, 1 << 20, 65536, 100);
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/c\"}");
    cl_send(e, "{\"op\":\"subscribe\",\"id\":\"e\",\"container\":\"h/c\",\"levels\":[\"fatal\"]}");
    fetched(h, 1, 0);
    lj_hub_service(h);
    drain(a, 0);
    drain(e, 0);
    a->wakes = e->wakes = 0;
    live(h, 1, 500);
    CHECK_INT(a->wakes, 1);
    CHECK_INT(e->wakes, 0);
    CHECK(!lj_session_pending(e->s));
    drain(a, 0);
    CHECK(!lj_session_pending(a->s));
    CHECK_INT(count(a, 'L'), 500);
    /* each live line's wait was counted once into its ring and once into its frame,
     * and the one writable request the wake made was answered */
    const struct lj_stats *st = lj_hub_stats(h);
    uint64_t ring = 0, frame = 0, asked = 0, ring_to_frame = 0;
    for (int k = 0; k < LJ_STATS_WAIT_BUCKETS; k++) {
        ring += st->wait[0][k];
        frame += st->wait[1][k];
        asked += st->wait[2][k];
        ring_to_frame += st->wait[4][k];
    }
    CHECK_INT(ring, 500);
    CHECK_INT(frame, 500);
    CHECK_INT(ring_to_frame, 500);
    CHECK(asked >= 1);
    /* everyone has read everything: the tick trims the ring back to its window */
    const struct lj_ring *r = a->s->subs[0]->taps[0]->ring;
    CHECK(lj_ring_count(r) == 500);
    server_tick(h, 3600000000000LL, no_close);
    CHECK_INT(lj_ring_count(r), 100);
    CHECK_INT(lj_session_backlog(a->s), 0);
    hub_free(h);
    free(a), free(e);
}

/* A line of container c (h/<c>) with its own line_no at stream seq. */
static struct lj_feed_event *line_of(const char *c, uint64_t line_no, uint64_t seq,
                                     enum lj_feed_kind kind)
{
    lj_pb_record r = LOGJET__V1__LOG_RECORD__INIT;
    struct lj_feed_event *e = calloc(1, sizeof(*e));
    char subject[64];
    snprintf(subject, sizeof(subject), "logs.h.%s", c);
    e->kind = kind;
    e->subject = strdup(subject);
    e->lines = calloc(1, sizeof(*e->lines));
    r.host = "h";
    r.container = (char *)c;
    r.line.data = (uint8_t *)"x";
    r.line.len = 1;
    r.line_no = line_no;
    lj_line_create(&r, seq, &e->lines[0]);
    e->nlines = 1;
    return e;
}

static void registry_put(struct lj_hub *h, const char *c)
{
    lj_pb_container info = LOGJET__V1__CONTAINER_INFO__INIT;
    struct lj_feed_event *e = calloc(1, sizeof(*e));
    char key[64];
    uint8_t *buf = NULL;
    size_t len = 0;
    info.host = "h";
    info.name = (char *)c;
    CHECK_INT(lj_container_pack(&info, &buf, &len), LJ_OK);
    snprintf(key, sizeof(key), "h.%s", c);
    e->kind = LJ_FEED_REGISTRY_PUT;
    e->subject = strdup(key);
    CHECK_INT(lj_container_unpack(buf, len, &e->info), LJ_OK);
    free(buf);
    lj_hub_apply(h, e);
}

/* A glob sub over two containers: each container's replay, then its `replayed`, then
 * its live lines; lines of both merged in stream (seq) order within frames. */
static void test_glob_merge(void)
{
    struct lj_hub *h = hub_new(100, 1 << 20, 65536);
    struct client *g = cl_connect(h, 1 << 20, 65536, 100);
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/*\"}");
    fetched(h, 1, 0);    /* h/c (hub_new's) holds nothing */
    registry_put(h, "a");
    registry_put(h, "b");
    /* initial fetches: a has seqs 1, 3, 5; b has 2, 4, 6 */
    const char *names[2] = { "a", "b" };
    for (int k = 0; k < 2; k++) {
        struct lj_feed_event *e = line_of(names[k], 1, (uint64_t)k + 1, LJ_FEED_FETCHED);
        e->lines = realloc(e->lines, 3 * sizeof(*e->lines));
        for (uint64_t n = 2; n <= 3; n++) {
            struct lj_feed_event *x = line_of(names[k], n, (uint64_t)k + 1 + 2 * (n - 1),
                                              LJ_FEED_FETCHED);
            e->lines[e->nlines++] = x->lines[0];
            x->nlines = 0;
            lj_feed_event_free(x);
        }
        lj_hub_apply(h, e);
    }
    lj_hub_service(h);
    drain(g, 0);
    for (uint64_t n = 4; n <= 6; n++) {   /* live: a 7, b 8, a 9, b 10, a 11, b 12 */
        for (int k = 0; k < 2; k++) {
            struct lj_feed_event *e = line_of(names[k], n, 2 * n - 1 + (uint64_t)k, LJ_FEED_LIVE);
            e->last_seq = 2 * n - 3 + (uint64_t)k;
            lj_hub_apply(h, e);
        }
    }
    lj_hub_service(h);
    drain(g, 0);
    /* lines 1..12 in seq order, none twice; one replayed per container (seq 5, 6, 0),
     * each after that container's replay lines and before its live lines */
    uint64_t want = 1;
    int replayed = 0;
    for (size_t i = 0; i < g->n; i++) {
        const struct ev *e = &g->ev[i];
        if (e->type == 'L') {
            CHECK_INT(e->seq, want);
            want++;
        } else if (e->type == 'R') {
            CHECK(e->seq == 5 || e->seq == 6 || e->seq == 0);   /* 0: h/c, empty */
            CHECK(want > e->seq && want <= 7);
            replayed++;
        } else {
            CHECK(!"unexpected frame");
        }
    }
    CHECK_INT(want, 13);
    CHECK_INT(replayed, 3);
    CHECK(g->line_frames <= 3);
    hub_free(h);
    free(g);
}

/* One line of container c at seq, live (its predecessor stored at last_seq) or as a
 * fetch's answer (last_seq unused). */
static void line_to(struct lj_hub *h, const char *c, uint64_t line_no, uint64_t seq,
                    enum lj_feed_kind kind, uint64_t last_seq)
{
    struct lj_feed_event *e = line_of(c, line_no, seq, kind);
    e->last_seq = last_seq;
    lj_hub_apply(h, e);
}

/* The seqs of the lines c got, in order; true when they only ever increase. */
static bool seqs_rise(const struct client *c, uint64_t *last)
{
    bool rise = true;
    *last = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->ev[i].type == 'L') {
            rise = rise && c->ev[i].seq > *last;
            *last = c->ev[i].seq;
        }
    return rise;
}

/* A glob's lines leave in seq order even while one container's lines come late: while
 * a's missed republish is fetched, b's newer line waits (a client cut there resumes
 * after the highest seq it got, 2, and gets a's 7 and 10 then b's 12; sending 12 first
 * would have lost 7 and 10 on such a resume). The same while a container found by the
 * glob is still loading: its older lines go first. */
static void test_glob_order_behind_fetch(void)
{
    struct lj_hub *h = hub_bare(100, 1 << 20, 65536);
    struct client *g = cl_connect(h, 1 << 20, 65536, 100);
    uint64_t last;
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/*\"}");
    registry_put(h, "a");
    registry_put(h, "b");
    line_to(h, "a", 1, 1, LJ_FEED_FETCHED, 0);
    lj_hub_service(h);
    drain(g, 0);
    CHECK_INT(count(g, 'L'), 0);          /* b is loading: its lines may be older */
    line_to(h, "b", 1, 2, LJ_FEED_FETCHED, 0);
    lj_hub_service(h);
    drain(g, 0);
    CHECK_INT(count(g, 'L'), 2);
    line_to(h, "a", 3, 10, LJ_FEED_LIVE, 7);   /* a's line 2 (seq 7) was missed: fetched */
    line_to(h, "b", 2, 12, LJ_FEED_LIVE, 2);
    lj_hub_service(h);
    drain(g, 0);
    CHECK(seqs_rise(g, &last));
    CHECK_INT(last, 2);                   /* fails without the floor: 12 went out */
    line_to(h, "a", 2, 7, LJ_FEED_FETCHED, 0);
    lj_hub_service(h);
    drain(g, 0);
    CHECK(seqs_rise(g, &last));
    CHECK_INT(last, 12);
    CHECK_INT(count(g, 'L'), 5);
    /* a container the glob finds later, whose lines are older than b's newest */
    registry_put(h, "c");
    line_to(h, "b", 3, 20, LJ_FEED_LIVE, 12);
    lj_hub_service(h);
    drain(g, 0);
    CHECK_INT(count(g, 'L'), 5);          /* c is loading */
    struct lj_feed_event *e = line_of("c", 1, 15, LJ_FEED_FETCHED);
    lj_hub_apply(h, e);
    lj_hub_service(h);
    drain(g, 0);
    CHECK(seqs_rise(g, &last));
    CHECK_INT(count(g, 'L'), 7);
    hub_free(h);
    free(g);
}

/* A glob over many containers (the heap merge): every live line once, in seq order,
 * and the merge costs O(log containers) a line (printed, not asserted). */
static void test_glob_merge_many(void)
{
    enum { T = 300, PER = 40 };
    struct lj_hub *h = hub_new(1000, 64 << 20, 65536);
    struct client *g = cl_connect(h, 64 << 20, 65536, 1000);
    char name[32];
    uint64_t seq = 1;
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/*\"}");
    fetched(h, 1, 0);    /* h/c (hub_new's) holds nothing */
    for (int k = 0; k < T; k++) {
        snprintf(name, sizeof(name), "c%d", k);
        registry_put(h, name);
        lj_hub_apply(h, line_of(name, 1, seq++, LJ_FEED_FETCHED));
    }
    lj_hub_service(h);
    drain(g, 0);
    g->n = 0;
    for (int n = 2; n < 2 + PER; n++)
        for (int k = 0; k < T; k++) {
            snprintf(name, sizeof(name), "c%d", k);
            struct lj_feed_event *e = line_of(name, (uint64_t)n, seq, LJ_FEED_LIVE);
            e->last_seq = seq - T;
            seq++;
            lj_hub_apply(h, e);
        }
    lj_hub_service(h);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    drain(g, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t want = T + 1;
    for (size_t i = 0; i < g->n; i++)
        if (g->ev[i].type == 'L')
            CHECK_INT(g->ev[i].seq, want++);
    CHECK_INT(want, T + 1 + (uint64_t)T * PER);
    fprintf(stderr, "glob over %d containers: %d lines in %.1f ms\n", T, T * PER,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    hub_free(h);
    free(g);
}

/* ---- found in review ---- */

static int closes;
static void count_close(void *wsi) { (void)wsi; closes++; }

/* Like the server: a frame, then another only while lj_session_pending says so. */
static void drain_like_server(struct client *c)
{
    while (lj_session_pending(c->s) && lj_session_next_frame(c->s, &tx, 16)) {
        record(c, tx.data + 16, tx.len - 16);
        c->frames++;
    }
}

/* A healthy client quiet for longer than stall_ns is not closed as slow when a line
 * arrives and the tick runs before its writable callback (its stall clock restarts). */
static void test_quiet_client_not_slow(void)
{
    int64_t stall_ns = 20000000LL;   /* 20 ms */
    struct lj_hub_config cfg = { .depth = 100, .linger_ns = 0,
                                 .limits = { .max_queue = 1 << 20, .max_frame = 65536, .depth = 100 } };
    struct lj_hub *h = NULL;
    CHECK_INT(lj_hub_create(&cfg, &h), LJ_OK);
    lend_sessions(h);
    struct client *a = calloc(1, sizeof(*a));
    struct lj_session_ops ops;
    lj_join_session_ops(h, &ops);
    CHECK_INT(lj_sessions_open(&sessions, &ops, a, lj_grant_all(), &cfg.limits, &a->s), LJ_OK);
    drain_like_server(a);
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/c\"}");
    fetched(h, 1, 10);
    lj_hub_service(h);
    drain_like_server(a);               /* replayed; client fully caught up */
    CHECK(!lj_session_pending(a->s));
    struct timespec ts = { 0, 50000000 };   /* quiet for 50 ms > stall_ns */
    nanosleep(&ts, NULL);
    live(h, 11, 11);                    /* one new line: the session is woken ... */
    closes = 0;
    server_tick(h, stall_ns, count_close);   /* ... and the tick runs before the write */
    CHECK_INT(closes, 0);
    hub_free(h);
    free(a);
}

/* A catch-up / gap fill finds JetStream already discarded lines (more than
 * MaxMsgsPerSubject were stored during a NATS outage): the client gets an expired gap
 * with the exact count where line_no jumps. */
static void test_catchup_hole_without_gap(void)
{
    struct lj_hub *h = hub_new(1000, 4 << 20, 65536);
    struct client *a = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/c\"}");
    fetched(h, 1, 0);
    live(h, 1, 100);
    drain(a, 0);
    /* reconnect: the next republished line says its predecessor is line 2100's seq;
     * the gap fill (start = 1010) gets only what JetStream kept: lines 1101..2100 */
    live_after(h, 2101, 21000);                  /* held; a fetch is asked for */
    fetched(h, 1101, 2100);
    lj_hub_service(h);
    drain(a, 0);
    CHECK_INT(count(a, 'L'), 100 + 1001);
    CHECK_INT(count(a, 'G'), 1);         /* fails: 0, line_no jumps 100 -> 1101 silently */
    check_stream(a, "a", 1, 2101, all, true);
    hub_free(h);
    free(a);
}

/* A glob resume whose containers are discovered after subscribing (the registry is
 * still loading, e.g. right after a gateway restart) honours after_seq for them. */
static void test_glob_resume_discovered_later(void)
{
    struct lj_hub *h = hub_bare(1000, 4 << 20, 65536);
    struct client *g = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/*\",\"after_seq\":500}");
    registry_put(h, "c");
    fetched(h, 1, 100);                  /* seqs 10..1000 */
    lj_hub_service(h);
    drain(g, 0);
    size_t dup = 0;
    for (size_t i = 0; i < g->n; i++)
        dup += g->ev[i].type == 'L' && g->ev[i].seq <= 500;
    CHECK_INT(dup, 0);                   /* fails: 50 lines the client already had */
    CHECK_INT(count(g, 'L'), 50);
    hub_free(h);
    free(g);
}

/* The first slow_client gap of a resumed tap that has sent nothing yet names the
 * client's after_seq (it used to say 0). */
static void test_first_gap_after_seq(void)
{
    const size_t maxq = 16 * 1024;
    struct lj_hub *h = hub_new(10, maxq, 2048);
    struct client *a = cl_connect(h, maxq, 2048, 10);
    struct client *b = cl_connect(h, maxq, 2048, 10);
    cl_send(b, "{\"op\":\"subscribe\",\"id\":\"b\",\"container\":\"h/c\"}");
    fetched(h, 1, 0);
    live(h, 1, 10);
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"r\",\"container\":\"h/c\",\"after_seq\":50}");
    live(h, 11, 2000);       /* the client reads nothing meanwhile */
    drain(a, 0);
    for (size_t i = 0; i < a->n; i++)
        if (a->ev[i].type == 'G') {
            CHECK_INT(a->ev[i].after, 50);
            break;
        }
    hub_free(h);
    free(a), free(b);
}

/* A glob resume: after_seq is a seq of some other container (stream sequences are
 * shared), after_line_no that container's line_no: the expired count of each
 * container comes from its own newest line at or before after_seq. */
static void test_glob_resume_expired(const char *req, uint64_t want_lost)
{
    struct lj_hub *h = hub_new(1000, 4 << 20, 65536);
    struct client *b = cl_connect(h, 4 << 20, 65536, 1000);
    struct client *g = cl_connect(h, 4 << 20, 65536, 1000);
    registry_put(h, "c");
    cl_send(b, "{\"op\":\"subscribe\",\"id\":\"b\",\"container\":\"h/c\"}");
    fetched(h, 1, 3000);              /* window: lines 2001..3000, seqs 20010..30000 */
    cl_send(g, req);
    lj_hub_service(h);
    drain(g, 0);
    /* seq 15005 is not a seq of c; c's lines after it are 1501..3000: 500 expired */
    CHECK(g->ev[0].type == 'G');
    CHECK_INT(g->ev[0].lost, want_lost);
    hub_free(h);
    free(b), free(g);
}

/* A client that asks for the container list again and again and never reads is
 * closed once the answers pass its queue bound, instead of growing without end. */
static void test_list_spam(void)
{
    struct lj_hub *h = hub_new(100, 1 << 20, 65536);
    struct client *a = cl_connect(h, 1 << 20, 65536, 100);
    char name[32];
    lj_status st = LJ_OK;
    int sent = 0;
    for (int k = 0; k < 1000; k++) {
        snprintf(name, sizeof(name), "container-%d", k);
        registry_put(h, name);
    }
    for (; sent < 2000 && st == LJ_OK; sent++) {
        static const char list[] = "{\"op\":\"list\"}";
        st = lj_session_receive(a->s, list, sizeof list - 1, true);
    }
    CHECK_INT(st, LJ_LIMIT);
    CHECK(sent < 2000);
    CHECK(a->s->qbytes < (2u << 20));    /* the bound plus the one answer that crossed it */
    hub_free(h);
    free(a);
}

/* A gap fill that keeps failing stops holding live lines back: after a few failures
 * the held lines go out, behind an expired gap with the exact count of what is missing. */
static void test_gap_fill_gives_up(void)
{
    struct lj_hub *h = hub_new(1000, 4 << 20, 65536);
    struct client *a = cl_connect(h, 4 << 20, 65536, 1000);
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/c\"}");
    fetched(h, 1, 0);
    live(h, 1, 10);
    drain(a, 0);
    for (uint64_t n = 20; n <= 30; n++)    /* 11..19 were never republished to us */
        live_after(h, n, (n - 1) * 10);
    lj_hub_service(h);
    drain(a, 0);
    CHECK_INT(count(a, 'L'), 10);            /* held while the hole is being filled */
    for (int k = 0; k < 5; k++)
        lj_hub_apply(h, event(LJ_FEED_FETCH_FAILED, 0));
    lj_hub_service(h);
    drain(a, 0);
    CHECK_INT(count(a, 'L'), 10 + 11);
    CHECK_INT(count(a, 'G'), 1);
    for (size_t i = 0; i < a->n; i++)
        if (a->ev[i].type == 'G') {
            CHECK_STR(a->ev[i].reason, "expired");
            CHECK_INT(a->ev[i].after, 100);
            CHECK_INT(a->ev[i].next, 200);
            CHECK_INT(a->ev[i].lost, 9);
        }
    hub_free(h);
    free(a);
}

/* The hub's gauge of watches (NATS subscriptions), from its /metrics text. */
static unsigned long watches(struct lj_hub *h)
{
    struct lj_buf b;
    unsigned long n = 999999;
    lj_buf_init(&b);
    lj_hub_metrics(h, &b);
    const char *p = strstr(lj_buf_cstr(&b), "\nlogjet_gateway_nats_subscriptions ");
    if (p)
        n = strtoul(p + strlen("\nlogjet_gateway_nats_subscriptions "), NULL, 10);
    lj_buf_finish(&b);
    return n;
}

/* A name the registry does not know makes no watch until it is registered; new watches
 * are rationed per client (a burst of 64, then 16 a second): a storm of subscribe and
 * unsubscribe over registered names is answered `limit` past the burst. */
static void test_watch_bounds(void)
{
    struct lj_hub *h = hub_bare(100, 1 << 20, 65536);
    struct client *a = cl_connect(h, 1 << 20, 65536, 100);
    char req[160], name[16];
    cl_send(a, "{\"op\":\"subscribe\",\"id\":\"x\",\"container\":\"h/x\"}");
    for (int i = 0; i < 1000; i++) {
        snprintf(req, sizeof(req), "{\"op\":\"subscribe\",\"id\":\"u\",\"container\":\"h/u%d\"}", i);
        cl_send(a, req);
        cl_send(a, "{\"op\":\"unsubscribe\",\"id\":\"u\"}");
    }
    lj_hub_service(h);
    drain(a, 0);
    CHECK_INT(count(a, 'E'), 0);
    CHECK_INT(watches(h), 0);
    registry_put(h, "x");               /* appears: the waiting sub gets its watch */
    CHECK_INT(watches(h), 1);

    struct client *b = cl_connect(h, 1 << 20, 65536, 100);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        registry_put(h, name);
    }
    /* subscribe + unsubscribe, name after name, until the first answer is an error */
    int ok = 0;
    int64_t t0 = lj_time_mono_ns();
    for (int i = 0; i < 300 && count(b, 'E') == 0; i++) {
        snprintf(req, sizeof(req), "{\"op\":\"subscribe\",\"id\":\"s\",\"container\":\"h/n%d\"}", i);
        cl_send(b, req);
        drain(b, 0);
        if (count(b, 'E') == 0) {
            ok++;
            cl_send(b, "{\"op\":\"unsubscribe\",\"id\":\"s\"}");
        }
    }
    /* the burst, plus what the rate added meanwhile (a run under valgrind is slow) */
    double secs = (double)(lj_time_mono_ns() - t0) / 1e9;
    CHECK(count(b, 'E') == 1 && ok >= 64 && ok <= 64 + 16 * secs + 1);
    CHECK(watches(h) == 1 + (unsigned long)ok);
    hub_free(h);
    free(a);
    free(b);
}

/* A registry entry of h/<c> in state with its run's times (ns) and exit code. */
static void registry_state_id(struct lj_hub *h, const char *c, const char *id, const char *state,
                              int64_t started, int64_t finished, int code, bool oom)
{
    lj_pb_container info = LOGJET__V1__CONTAINER_INFO__INIT;
    struct lj_feed_event *e = calloc(1, sizeof(*e));
    char key[64];
    uint8_t *buf = NULL;
    size_t len = 0;
    info.host = "h";
    info.name = (char *)c;
    info.id = (char *)id;
    info.state = (char *)state;
    info.started_at_unix_nano = started;
    info.finished_at_unix_nano = finished;
    info.exit_code = code;
    info.oom_killed = oom;
    CHECK_INT(lj_container_pack(&info, &buf, &len), LJ_OK);
    snprintf(key, sizeof(key), "h.%s", c);
    e->kind = LJ_FEED_REGISTRY_PUT;
    e->subject = strdup(key);
    CHECK_INT(lj_container_unpack(buf, len, &e->info), LJ_OK);
    free(buf);
    lj_hub_apply(h, e);
}

static void no_close_cb(void *wsi) { (void)wsi; }

/* ... with the container's name as its id. */
static void registry_state(struct lj_hub *h, const char *c, const char *state, int64_t started,
                           int64_t finished, int code, bool oom)
{
    registry_state_id(h, c, c, state, started, finished, code, oom);
}

/* Lifecycle events reach the subscriptions covering the container (whatever their
 * filters), once each; the state at subscribe only for one that asks for history;
 * none for the entries the registry held at start-up. */
static void test_lifecycle_events(void)
{
    struct lj_hub *h = hub_bare(100, 1 << 20, 65536);
    struct client *g = cl_connect(h, 1 << 20, 65536, 100), *o = cl_connect(h, 1 << 20, 65536, 100);
    registry_state(h, "old", "exited", 5, 6, 1, false);     /* held at start-up: no news */
    struct lj_feed_event *synced = calloc(1, sizeof(*synced));
    synced->kind = LJ_FEED_REGISTRY_SYNCED;
    synced->subject = strdup("");
    lj_hub_apply(h, synced);
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/w*\",\"levels\":[\"fatal\"]}");
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"x\",\"container\":\"h/w\"}");
    cl_send(o, "{\"op\":\"subscribe\",\"id\":\"o\",\"container\":\"h/other\"}");
    registry_state(h, "w", "running", 10, 0, 0, false);
    registry_state(h, "w", "running", 10, 0, 0, false);     /* the same again: nothing */
    registry_state(h, "w", "exited", 10, 20, 137, true);
    drain(g, 0);
    drain(o, 0);
    CHECK_INT(count(g, 'V'), 6);    /* started, oom_killed, exited; on both subscriptions */
    CHECK_INT(count(o, 'V'), 0);
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->ev[i].type == 'V' && strcmp(g->ev[i].id, "g") == 0) {
            static const char *const want[] = { "started", "oom_killed", "exited" };
            if (k < 3)
                CHECK_STR(g->ev[i].reason, want[k]);
            k++;
        }
    CHECK_INT(k, 3);
    /* history asked: the current state first (a live-only one got none above) */
    g->n = 0;
    cl_send(g, "{\"op\":\"subscribe\",\"id\":\"r\",\"container\":\"h/*\",\"replay\":5}");
    drain(g, 0);
    CHECK_INT(count(g, 'V'), 5);    /* old: started, exited; w: started, oom_killed, exited */
    /* a rename as the publisher writes it: the new name first, then the old one removed */
    g->n = 0;
    registry_state_id(h, "w2", "w", "exited", 10, 20, 137, true);
    registry_state_id(h, "w", "w", "removed", 0, 0, 0, false);
    struct timespec wait = { 1, 600000000 };   /* past the rename wait: no removal told */
    nanosleep(&wait, NULL);
    server_tick(h, 3600000000000LL, no_close_cb);
    drain(g, 0);
    CHECK_INT(count(g, 'V'), 3);    /* renamed, once on each of g's three subscriptions */
    for (size_t i = 0; i < g->n; i++)
        if (g->ev[i].type == 'V')
            CHECK_STR(g->ev[i].reason, "renamed");
    hub_free(h);
    free(g);
    free(o);
}

int main(void)
{
    lj_buf_init(&tx);
    test_replay_seam();
    test_slow("", all);
    test_slow(",\"levels\":[\"error\"]", errors);
    test_slow(",\"levels\":[\"error\"],\"grep\":\"7$\"", errors_7);
    test_pin_and_orphan();
    test_wakes();
    test_glob_merge();
    test_glob_merge_many();
    test_glob_order_behind_fetch();
    test_quiet_client_not_slow();
    test_catchup_hole_without_gap();
    test_glob_resume_discovered_later();
    test_watch_bounds();
    test_first_gap_after_seq();
    test_glob_resume_expired("{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/*\",\"after_seq\":15005}", 500);
    test_glob_resume_expired("{\"op\":\"subscribe\",\"id\":\"g\",\"container\":\"h/*\",\"after_seq\":15005,"
                             "\"after_line_no\":99999}", 500);
    test_list_spam();
    test_gap_fill_gives_up();
    test_lifecycle_events();
    lj_buf_finish(&tx);
    CHECK_DONE();
}
