/* follow.c - one container: logs transfer, demux, record FIFO, acks, retries.
 *
 * FIFO invariants (checked by assert_fifo in debug builds):
 *   - entries are consecutive line_nos: entry i holds head_line_no + i;
 *   - states are ACKED/SENT/UNSENT in any mix, but only the head may leave, and only
 *     when ACKED; UNSENT entries are sent strictly in line_no order (next_unsent);
 *   - in_flight == number of SENT entries <= LJ_FOLLOW_WINDOW (+ the ones a rewind
 *     turned back into UNSENT, which it subtracts).
 */
#include "follow.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demux.h"
#include "docker.h"
#include "fifo.h"
#include "level.h"
#include "subject.h"
#include "timeutil.h"

enum pend_state { PEND_UNSENT, PEND_SENT, PEND_ACKED };

/* A line taken, remembered to recognise it when Docker sends it again (follow.h). */
struct recent {
    int64_t ts;
    uint32_t index;
    uint32_t hash;          /* FNV-1a of the line's bytes as taken */
};

/* Per stream: the lines taken in the last LJ_FOLLOW_RECENT_NS (at least
 * LJ_FOLLOW_RECENT_MIN, at most LJ_FOLLOW_RECENT_MAX), oldest first. */
struct recent_ring {
    struct lj_fifo q;       /* struct recent */
    size_t probe;           /* offset from the oldest where the next repeat likely is */
};

struct pend {
    uint8_t *payload;       /* packed LogRecord, owned */
    size_t len;
    size_t line_len;
    int64_t ts_ns;          /* Docker's timestamp, for lag */
    int64_t sent_mono_ns;   /* when last sent, for the ack timeout */
    uint32_t attempt;
    uint32_t ts_index;
    int stream;             /* 0 stdout, 1 stderr */
    enum pend_state state;
};

struct lj_follow {
    struct lj_follow_config cfg;
    uint64_t follow_id;
    char id[65];
    char name[256];
    char subject[LJ_SUBJECT_MAX];
    bool tty;

    struct lj_demux *demux;
    CURL *handle;            /* running transfer, or NULL */
    bool paused;             /* the transfer is paused for backpressure */
    bool pause_next;         /* the next write callback should pause */
    char error[256];         /* demux error of the running transfer */
    long http_status;        /* the engine's answer to the last finished transfer */
    lj_status error_status;

    uint64_t line_no;        /* line_no of the newest line taken */
    /* Cursor, per stream (stdout, stderr): the newest line taken from it. Docker keeps
     * each stream in time order but may write a stdout and a stderr line out of time
     * order, so one position per stream is what makes skipping exact. */
    struct lj_follow_pos cursor[2];
    /* Per transfer and stream: the previous line's position, to number lines sharing
     * a timestamp (index 0, 1, ...). */
    struct lj_follow_pos seen[2];
    /* Per transfer and stream: a line past the cursor was taken. A transfer re-reads
     * from a little before the cursor; within a stream the engine sends lines in its
     * file's order, so after the first new line every line is new, whatever its
     * timestamp says (a clock stepped back must not make lines look old). */
    bool past_cursor[2];
    int64_t newest_ts;       /* newest ts taken from either stream, for lag */
    struct recent_ring recent[2];
    /* A rotation repeat was seen: the transfer ends and the next one reads from
     * reread_since, the oldest line remembered (follow.h, Rotation). */
    bool reread;
    int64_t reread_since;
    uint64_t reread_line_no;  /* line_no when the last re-read was decided */

    struct lj_fifo fifo;     /* struct pend, oldest first */
    size_t fifo_bytes;       /* payload bytes of the records in the FIFO */
    uint64_t head_line_no;   /* line_no of the oldest record in the FIFO */
    size_t next_unsent;      /* offset from head of the first UNSENT entry */
    size_t in_flight;
    int64_t acked_ts;        /* ts of the newest acked line */
    /* Recovery after a failed or lost publish: nothing is sent before resume_at, then
     * one record at a time until one is acknowledged (see lj_follow_recover). */
    bool recovering;
    int64_t resume_at;       /* monotonic ns */
    int64_t backoff_ns;

    /* Holding (lj_follow_hold): nothing is sent, and the FIFO keeps only the newest
     * `hold` records (older ones leave it unsent, their line_nos counted). */
    size_t hold;

    struct lj_follow_stats stats;
};

static struct pend *entry(struct lj_follow *f, size_t i)
{
    return lj_fifo_peek(&f->fifo, i);
}

static size_t fifo_len(const struct lj_follow *f)
{
    return lj_fifo_len(&f->fifo);
}

/* The O(1) invariants, checked on every change. The full walk over the FIFO (every
 * state consistent with next_unsent and in_flight) is O(n) per call, which on the hot
 * path costs more than everything else together; it runs only when the build defines
 * LJ_FOLLOW_CHECK_FIFO. */
static void assert_fifo(struct lj_follow *f)
{
    assert(f->next_unsent <= fifo_len(f));
    assert(f->in_flight <= f->next_unsent);
    assert(fifo_len(f) == 0 || f->head_line_no + fifo_len(f) - 1 == f->line_no);
    assert(fifo_len(f) > 0 || f->fifo_bytes == 0);
#ifdef LJ_FOLLOW_CHECK_FIFO
    size_t sent = 0, bytes = 0;
    for (size_t i = 0; i < fifo_len(f); i++) {
        const struct pend *p = entry(f, i);
        sent += p->state == PEND_SENT;
        bytes += p->len;
        assert(i < f->next_unsent || p->state == PEND_UNSENT);
    }
    assert(sent == f->in_flight);
    assert(bytes == f->fifo_bytes);
#endif
    (void)f;
}

struct lj_follow *lj_follow_create(const struct lj_follow_config *cfg, uint64_t follow_id,
                                   const char *id, const char *name, bool tty)
{
    struct lj_follow *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->cfg = *cfg;
    f->follow_id = follow_id;
    f->tty = tty;
    snprintf(f->id, sizeof f->id, "%s", id);
    snprintf(f->name, sizeof f->name, "%s", name);
    lj_fifo_init(&f->fifo, sizeof(struct pend));
    bool stored = lj_fifo_resize(&f->fifo, 256) == LJ_OK;
    f->demux = lj_demux_create(tty, cfg->max_line_bytes);
    for (int i = 0; i < 2; i++) {
        f->cursor[i] = (struct lj_follow_pos){ 0, -1 };
        lj_fifo_init(&f->recent[i].q, sizeof(struct recent));
        stored = stored && lj_fifo_resize(&f->recent[i].q, LJ_FOLLOW_RECENT_MIN) == LJ_OK;
    }
    if (!stored || f->demux == NULL ||
        lj_subject_build("logs", cfg->host, name, f->subject, sizeof f->subject) != LJ_OK) {
        lj_follow_destroy(f);
        return NULL;
    }
    return f;
}

void lj_follow_destroy(struct lj_follow *f)
{
    if (f == NULL)
        return;
    assert(f->handle == NULL);
    for (size_t i = 0; i < fifo_len(f); i++)
        free(entry(f, i)->payload);
    lj_fifo_finish(&f->fifo);
    lj_fifo_finish(&f->recent[0].q);
    lj_fifo_finish(&f->recent[1].q);
    lj_demux_destroy(f->demux);
    free(f);
}

void lj_follow_set_position(struct lj_follow *f, uint64_t last_line_no,
                            const struct lj_follow_pos *stdout_pos,
                            const struct lj_follow_pos *stderr_pos, int64_t since_ns)
{
    assert(fifo_len(f) == 0);
    f->line_no = last_line_no;
    f->head_line_no = last_line_no + 1;
    f->cursor[LJ_STREAM_STDOUT] = stdout_pos ? *stdout_pos : (struct lj_follow_pos){ since_ns, -1 };
    f->cursor[LJ_STREAM_STDERR] = stderr_pos ? *stderr_pos : (struct lj_follow_pos){ since_ns, -1 };
    f->newest_ts = f->cursor[0].ts > f->cursor[1].ts ? f->cursor[0].ts : f->cursor[1].ts;
    f->acked_ts = f->newest_ts;
}

/* ---- taking lines -------------------------------------------------------------------- */

/* True when the line of stream st at (ts, index) was taken before: it is at or before
 * that stream's cursor. */
static bool already_taken(const struct lj_follow *f, int st, int64_t ts, int64_t index)
{
    const struct lj_follow_pos *c = &f->cursor[st];
    return ts < c->ts || (ts == c->ts && index <= c->index);
}

static uint32_t line_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static struct recent *recent_at(const struct recent_ring *rr, size_t i)
{
    return lj_fifo_peek(&rr->q, i);
}

static void remember(struct recent_ring *rr, int64_t ts, int64_t index, uint32_t hash)
{
    bool full = lj_fifo_len(&rr->q) == rr->q.cap;
    /* A full ring grows while its oldest line is recent: a busy stream keeps its last
     * LJ_FOLLOW_RECENT_NS, a quiet one only LJ_FOLLOW_RECENT_MIN lines. */
    if (full && rr->q.cap < LJ_FOLLOW_RECENT_MAX && ts - recent_at(rr, 0)->ts < LJ_FOLLOW_RECENT_NS)
        full = lj_fifo_grow(&rr->q) != LJ_OK; /* no memory: the oldest is forgotten instead */
    if (full) {
        lj_fifo_pop(&rr->q);
        rr->probe -= rr->probe > 0;
    }
    struct recent *r = lj_fifo_push(&rr->q);  /* not full: cannot fail */
    *r = (struct recent){ ts, (uint32_t)index, hash };
}

/* True when ts falls where the ring knows every line taken: at or after its oldest. */
static bool recent_covers(const struct recent_ring *rr, int64_t ts)
{
    return lj_fifo_len(&rr->q) > 0 && ts >= recent_at(rr, 0)->ts;
}

/* The remembered line with this timestamp and hash: its index, or -1. Repeats come in
 * the order they were taken, so the entry after the last match is tried first. */
static int64_t recall(struct recent_ring *rr, int64_t ts, uint32_t hash)
{
    if (rr->probe < lj_fifo_len(&rr->q)) {
        const struct recent *r = recent_at(rr, rr->probe);
        if (r->ts == ts && r->hash == hash) {
            rr->probe++;
            return r->index;
        }
    }
    for (size_t i = lj_fifo_len(&rr->q); i-- > 0;) {
        const struct recent *r = recent_at(rr, i);
        if (r->ts == ts && r->hash == hash) {
            rr->probe = i + 1;
            return r->index;
        }
    }
    return -1;
}

/* The head record leaves the FIFO (acked, or older than what a hold keeps). */
static void drop_head(struct lj_follow *f)
{
    struct pend *p = entry(f, 0);
    f->fifo_bytes -= p->len;
    free(p->payload);
    p->payload = NULL;
    lj_fifo_pop(&f->fifo);
    f->head_line_no++;
}

static void take_line(void *ctx, const struct lj_demux_line *l)
{
    struct lj_follow *f = ctx;
    int st = l->stream == LJ_STREAM_STDERR ? 1 : 0;
    int64_t index = l->ts_unix_nano == f->seen[st].ts ? f->seen[st].index + 1 : 0;
    const struct lj_follow_pos *other = &f->cursor[1 - st];
    struct recent_ring *rr = &f->recent[st];
    uint32_t hash;
    bool late = false;
    struct lj_record r;
    struct pend *p;

    if (f->error_status != LJ_OK || f->reread)
        return;    /* a line was refused: none after it may be taken (the cursor would pass it) */
    hash = line_hash(l->data, l->len);
    /* At or before the cursor, where the ring covers, the ring alone knows whether the
     * line was taken (its index from this transfer's numbering may differ: a repeat
     * can begin inside a group of lines sharing a timestamp). */
    const struct lj_follow_pos *c = &f->cursor[st];
    bool not_after = l->ts_unix_nano < c->ts || (l->ts_unix_nano == c->ts && c->index >= 0);
    int64_t known = not_after && recent_covers(rr, l->ts_unix_nano) ?
        recall(rr, l->ts_unix_nano, hash) : -1;
    if (known >= 0) {
        f->seen[st] = (struct lj_follow_pos){ l->ts_unix_nano, known };
        f->stats.skipped++;
        if (f->past_cursor[st]) {
            /* Past the overlap and sent again: a follow repeating lines after a log
             * rotation. Read again from the oldest line remembered: lines the follow
             * skipped may still be in the rotated file. Not again before a line was
             * taken since the last re-read (a repeat that came back on every re-read
             * would otherwise restart the transfer forever). */
            f->stats.repeats++;
            if (f->line_no == f->reread_line_no)
                return;
            f->reread_line_no = f->line_no;
            f->reread = true;
            f->reread_since = INT64_MAX;
            for (int i = 0; i < 2; i++)
                if (lj_fifo_len(&f->recent[i].q) && recent_at(&f->recent[i], 0)->ts < f->reread_since)
                    f->reread_since = recent_at(&f->recent[i], 0)->ts;
            /* A quiet stream's ring can reach far back; what a follow skips at a
             * rotation is recent, and a re-read of the whole retained log per rotation
             * would multiply the reading. */
            if (f->reread_since < f->newest_ts - LJ_FOLLOW_REREAD_NS)
                f->reread_since = f->newest_ts - LJ_FOLLOW_REREAD_NS;
        }
        return;
    }
    if (already_taken(f, st, l->ts_unix_nano, index)) {
        if (!f->past_cursor[st] && !recent_covers(rr, l->ts_unix_nano)) {
            f->seen[st] = (struct lj_follow_pos){ l->ts_unix_nano, index };
            f->stats.skipped++;     /* the overlap before what the ring knows: the cursor says */
            return;
        }
        /* Never taken: in the overlap, a line Docker's follow skipped (backfilled now);
         * past it, a line stamped by a clock stepped back (new, whatever its time). */
        late = !f->past_cursor[st];
    } else {
        f->past_cursor[st] = true;
    }
    f->seen[st] = (struct lj_follow_pos){ l->ts_unix_nano, index };
    r = (struct lj_record){
        .host = f->cfg.host, .container_id = f->id, .container = f->name,
        .stream = l->stream, .ts_unix_nano = l->ts_unix_nano,
        .line = (const uint8_t *)l->data, .line_len = l->len,
        .level = lj_level_detect(l->data, l->len), .line_no = f->line_no + 1,
        .truncated = l->truncated, .ts_index = (uint32_t)index,
        .other_seen = other->index >= 0, .other_ts_unix_nano = other->index >= 0 ? other->ts : 0,
        .other_ts_index = other->index >= 0 ? (uint32_t)other->index : 0,
    };
    size_t len = lj_record_packed_size(&r);
    uint8_t *payload = malloc(len ? len : 1);
    if (payload == NULL || (p = lj_fifo_push(&f->fifo)) == NULL) {
        /* Out of memory: stop this transfer; it restarts from the cursor. */
        free(payload);
        f->error_status = LJ_NOMEM;
        snprintf(f->error, sizeof f->error, "out of memory");
        return;
    }
    memset(p, 0, sizeof *p);
    p->len = len;
    p->payload = payload;
    lj_record_pack(&r, p->payload);
    p->line_len = l->len;
    p->ts_ns = l->ts_unix_nano;
    p->ts_index = (uint32_t)index;
    p->stream = st;
    p->state = PEND_UNSENT;
    if (fifo_len(f) == 1)
        f->head_line_no = f->line_no + 1;
    f->fifo_bytes += p->len;
    f->line_no++;
    if (f->hold > 0 && fifo_len(f) > f->hold) {
        /* Older than what is kept: never sent, but its line_no stays taken. */
        assert(f->next_unsent == 0 && entry(f, 0)->state == PEND_UNSENT);
        drop_head(f);
        f->stats.held_out++;
    }
    if (late)
        f->stats.backfilled++;   /* older than the cursor, which stays where it is */
    else
        f->cursor[st] = (struct lj_follow_pos){ l->ts_unix_nano, index };
    remember(rr, l->ts_unix_nano, index, hash);
    if (l->ts_unix_nano > f->newest_ts)
        f->newest_ts = l->ts_unix_nano;
    f->stats.truncated += l->truncated;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct lj_follow *f = ctx;
    size_t len = size * n;

    if (f->error_status != LJ_OK || f->reread)
        return 0; /* abort the transfer; it restarts from the cursor */
    if (f->pause_next || (f->hold == 0 && (fifo_len(f) >= LJ_FOLLOW_HIGH_WATER ||
                                           f->fifo_bytes >= LJ_FOLLOW_HIGH_WATER_BYTES))) {
        /* curl keeps these bytes and hands them over again after unpausing. */
        f->paused = true;
        f->pause_next = false;
        return CURL_WRITEFUNC_PAUSE;
    }
    f->error_status = lj_demux_feed(f->demux, data, len, take_line, f, f->error,
                                    sizeof f->error);
    return f->error_status == LJ_OK ? len : 0;
}

/* ---- transfers ----------------------------------------------------------------------- */

lj_status lj_follow_start(struct lj_follow *f, struct lj_docker *docker, CURLM *multi,
                          bool follow)
{
    char path[512];
    int64_t since = f->cursor[0].ts > f->cursor[1].ts ? f->cursor[0].ts : f->cursor[1].ts;

    if (f->handle != NULL)
        return LJ_AGAIN;
    /* A line of one stream may sit in the log after newer lines of the other; starting
     * LJ_FOLLOW_REORDER_NS before the newest position catches it (already_taken skips
     * what was seen). since= takes sec.nanosec and is inclusive. */
    since = since > LJ_FOLLOW_REORDER_NS ? since - LJ_FOLLOW_REORDER_NS : 0;
    if (f->reread && f->reread_since < since)
        since = f->reread_since > 0 ? f->reread_since : 0;  /* after a rotation (follow.h) */
    snprintf(path, sizeof path,
             "/containers/%s/logs?stdout=1&stderr=1&timestamps=1&follow=%d&since=%" PRId64
             ".%09" PRId64, f->id, follow ? 1 : 0, since / 1000000000, since % 1000000000);
    f->handle = lj_docker_stream(docker, path, on_body, f);
    if (f->handle == NULL)
        return LJ_NOMEM;
    for (int i = 0; i < 2; i++)
        f->seen[i] = (struct lj_follow_pos){ INT64_MIN, -1 };
    f->past_cursor[0] = f->past_cursor[1] = false;
    f->paused = f->pause_next = false;
    f->error_status = LJ_OK;
    f->error[0] = '\0';
    f->reread = false;
    f->recent[0].probe = f->recent[1].probe = 0;
    if (curl_multi_add_handle(multi, f->handle) != CURLM_OK) {
        curl_easy_cleanup(f->handle);
        f->handle = NULL;
        return LJ_NOMEM;
    }
    return LJ_OK;
}

void lj_follow_stop(struct lj_follow *f, CURLM *multi)
{
    if (f->handle == NULL)
        return;
    curl_multi_remove_handle(multi, f->handle);
    curl_easy_cleanup(f->handle);
    f->handle = NULL;
    f->paused = false;
    /* A partial line stays in the demux's buffers only until the next transfer resets
     * it; the next transfer reads it again from the cursor. */
    lj_demux_destroy(f->demux);
    f->demux = lj_demux_create(f->tty, f->cfg.max_line_bytes);
}

lj_status lj_follow_transfer_done(struct lj_follow *f, CURLM *multi, CURLcode rc, char *err,
                                  size_t errlen)
{
    lj_status s = f->error_status;
    if (s == LJ_OK && f->reread) {
        /* Ended by on_body after a rotation repeat (follow.h): the next transfer, from
         * reread_since, is wanted at once. The partial line is read again there. */
        f->stats.rereads++;
        s = lj_fail(err, errlen, LJ_AGAIN, "log rotated; reading it again");
        f->error_status = LJ_AGAIN;
    } else if (s == LJ_OK && rc == CURLE_OK) {
        lj_demux_finish(f->demux, take_line, f);
    } else if (s != LJ_OK) {
        lj_fail(err, errlen, s, "%s", f->error);
    } else {
        s = lj_fail(err, errlen, LJ_DOCKER, "%s", curl_easy_strerror(rc));
    }
    curl_easy_getinfo(f->handle, CURLINFO_RESPONSE_CODE, &f->http_status);
    curl_multi_remove_handle(multi, f->handle);
    curl_easy_cleanup(f->handle);
    f->handle = NULL;
    f->paused = false;
    if (s != LJ_OK) {
        /* Unterminated text of a broken transfer is not flushed: the next transfer
         * reads the whole line again from the cursor. */
        lj_demux_destroy(f->demux);
        f->demux = lj_demux_create(f->tty, f->cfg.max_line_bytes);
        f->error_status = f->demux ? LJ_OK : LJ_NOMEM;
    }
    return s;
}

/* ---- publishing and acks ------------------------------------------------------------- */

size_t lj_follow_msg_id(const char *container_id, int stream, int64_t ts_ns,
                        uint32_t ts_index, char *dst, size_t n)
{
    int len = snprintf(dst, n, "%.12s-%d-%" PRId64 "-%" PRIu32, container_id, stream, ts_ns,
                       ts_index);
    return len < 0 ? 0 : (size_t)len;
}

size_t lj_follow_pump(struct lj_follow *f, struct lj_sink *sink)
{
    size_t sent = 0, window = LJ_FOLLOW_WINDOW;
    char id[96];

    if (f->recovering)
        window = lj_time_mono_ns() < f->resume_at ? 0 : 1; /* wait, then probe */
    if (f->hold > 0)
        window = 0;
    while (f->next_unsent < fifo_len(f) && f->in_flight < window) {
        struct pend *p = entry(f, f->next_unsent);
        uint64_t line_no = f->head_line_no + f->next_unsent;
        lj_follow_msg_id(f->id, p->stream, p->ts_ns, p->ts_index, id, sizeof id);
        if (lj_sink_publish(sink, f->subject, id, p->payload, p->len, f->follow_id, line_no,
                            p->attempt) != LJ_OK)
            break; /* not connected: the reconnect rewinds and pumps again */
        p->state = PEND_SENT;
        p->sent_mono_ns = lj_time_mono_ns();
        f->in_flight++;
        f->next_unsent++;
        sent++;
    }
    if (f->paused && f->handle != NULL && fifo_len(f) < LJ_FOLLOW_LOW_WATER &&
        f->fifo_bytes < LJ_FOLLOW_HIGH_WATER_BYTES / 4) {
        f->paused = false;
        curl_easy_pause(f->handle, CURLPAUSE_CONT); /* may call on_body right away */
    }
    assert_fifo(f);
    return sent;
}

static void pop_acked(struct lj_follow *f)
{
    while (fifo_len(f) > 0 && entry(f, 0)->state == PEND_ACKED) {
        struct pend *p = entry(f, 0);
        f->stats.lines++;
        f->stats.bytes += p->line_len;
        f->acked_ts = p->ts_ns;
        drop_head(f);
        f->next_unsent--;
    }
}

void lj_follow_on_ack(struct lj_follow *f, const struct lj_ack *a)
{
    if (a->line_no < f->head_line_no || a->line_no >= f->head_line_no + fifo_len(f))
        return; /* a late ack for a record already acked through another attempt */
    struct pend *p = entry(f, a->line_no - f->head_line_no);
    if (a->ok) {
        if (p->state == PEND_SENT)
            f->in_flight--;
        if (p->state == PEND_UNSENT) {
            /* Stored by an earlier attempt while a rewind queued it again: it stays
             * queued (next_unsent order) but the resend will be a duplicate. */
            return;
        }
        if (f->recovering && a->attempt == p->attempt) {
            f->recovering = false; /* the probe went through: pipeline again */
            f->backoff_ns = 0;
        }
        p->state = PEND_ACKED;
        pop_acked(f);
    } else if (p->state == PEND_SENT && a->attempt == p->attempt) {
        f->stats.errors++;
        f->backoff_ns = f->backoff_ns ? f->backoff_ns * 2 : 100000000LL;
        if (f->backoff_ns > 2000000000LL)
            f->backoff_ns = 2000000000LL;
        lj_follow_recover(f, f->backoff_ns);
    }
    assert_fifo(f);
}

/* Every SENT record goes back to UNSENT with a new attempt number. */
static void rewind_sent(struct lj_follow *f)
{
    size_t first = f->next_unsent;
    for (size_t i = 0; i < f->next_unsent; i++) {
        if (entry(f, i)->state == PEND_SENT) {
            first = i;
            break;
        }
    }
    /* From the oldest unacked record on, everything is sent again in line_no order,
     * acked ones included: resending a stored record is a harmless duplicate (same
     * Nats-Msg-Id), while skipping it could let a later line overtake an earlier one. */
    for (size_t i = first; i < f->next_unsent; i++) {
        struct pend *p = entry(f, i);
        p->state = PEND_UNSENT;
        p->attempt++;
        f->stats.retries++;
    }
    f->in_flight = 0;
    f->next_unsent = first;
    assert_fifo(f);
}

void lj_follow_recover(struct lj_follow *f, int64_t delay_ns)
{
    rewind_sent(f);
    f->recovering = true;
    f->resume_at = lj_time_mono_ns() + delay_ns;
}

void lj_follow_check_timeouts(struct lj_follow *f, int64_t now_mono_ns)
{
    for (size_t i = 0; i < f->next_unsent; i++) {
        struct pend *p = entry(f, i);
        if (p->state != PEND_SENT)
            continue;
        if (now_mono_ns - p->sent_mono_ns > f->cfg.ack_timeout_ns)
            lj_follow_recover(f, 0);
        return; /* only the oldest SENT entry matters */
    }
}

lj_status lj_follow_rename(struct lj_follow *f, const char *name, uint64_t last_line_no)
{
    char subject[LJ_SUBJECT_MAX];
    lj_status s;
    /* Every queued record is published on the follow's one subject, so a rename waits
     * for the FIFO to drain; then numbering continues the new subject's. */
    if (fifo_len(f) > 0)
        return LJ_AGAIN;
    if ((s = lj_subject_build("logs", f->cfg.host, name, subject, sizeof subject)) != LJ_OK)
        return s;
    snprintf(f->name, sizeof f->name, "%s", name);
    memcpy(f->subject, subject, sizeof subject);
    f->line_no = last_line_no;
    f->head_line_no = last_line_no + 1;
    return LJ_OK;
}

void lj_follow_hold(struct lj_follow *f, size_t keep)
{
    assert(keep == 0 || fifo_len(f) == 0);
    f->hold = keep;
}

/* ---- accessors ----------------------------------------------------------------------- */

bool lj_follow_transferring(const struct lj_follow *f) { return f->handle != NULL; }
bool lj_follow_idle(const struct lj_follow *f) { return f->handle == NULL && fifo_len(f) == 0; }
size_t lj_follow_pending(const struct lj_follow *f) { return fifo_len(f); }
size_t lj_follow_in_flight(const struct lj_follow *f) { return f->in_flight; }
uint64_t lj_follow_id(const struct lj_follow *f) { return f->follow_id; }
const char *lj_follow_container_id(const struct lj_follow *f) { return f->id; }
const char *lj_follow_name(const struct lj_follow *f) { return f->name; }
const char *lj_follow_subject(const struct lj_follow *f) { return f->subject; }
CURL *lj_follow_handle(const struct lj_follow *f) { return f->handle; }
long lj_follow_http_status(const struct lj_follow *f) { return f->http_status; }
const struct lj_follow_stats *lj_follow_stats(const struct lj_follow *f) { return &f->stats; }

double lj_follow_lag_seconds(const struct lj_follow *f)
{
    if (fifo_len(f) == 0 || f->newest_ts <= f->acked_ts)
        return 0;
    return (double)(f->newest_ts - f->acked_ts) / 1e9;
}
