/* table.c - slots of followed containers, their ids and starting positions. */
#include "table.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "subject.h"

void lj_table_init(struct lj_table *t, const struct lj_follow_config *cfg)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
}

void lj_table_finish(struct lj_table *t, CURLM *multi)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f)
            lj_table_remove(t, &t->slots[i], multi);
    free(t->slots);
    t->slots = NULL;
    t->n = 0;
}

static uint64_t follow_id_of(size_t index, uint32_t gen)
{
    return (uint64_t)gen << 32 | (uint64_t)index;
}

static struct lj_table_slot *free_slot(struct lj_table *t)
{
    size_t i;
    for (i = 0; i < t->n && t->slots[i].f != NULL; i++)
        ;
    if (i == t->n) {
        size_t n = t->n ? t->n * 2 : 16;
        struct lj_table_slot *s = realloc(t->slots, n * sizeof *s);
        if (s == NULL)
            return NULL;
        memset(s + t->n, 0, (n - t->n) * sizeof *s);
        t->slots = s;
        t->n = n;
    }
    return &t->slots[i];
}

struct lj_table_slot *lj_table_add(struct lj_table *t, const struct lj_docker_container *c,
                                   int64_t since_ns)
{
    struct lj_table_slot *s = free_slot(t);
    if (s == NULL)
        return NULL;
    uint32_t gen = s->gen + 1;
    memset(s, 0, sizeof *s);
    s->gen = gen;
    s->since_ns = since_ns;
    s->f = lj_follow_create(&t->cfg, follow_id_of((size_t)(s - t->slots), gen), c->id, c->name,
                            c->tty);
    return s->f ? s : NULL;
}

void lj_table_remove(struct lj_table *t, struct lj_table_slot *s, CURLM *multi)
{
    assert(s >= t->slots && s < t->slots + t->n && s->f != NULL);
    lj_follow_stop(s->f, multi);
    lj_follow_destroy(s->f);
    s->f = NULL;
}

struct lj_table_slot *lj_table_by_follow_id(struct lj_table *t, uint64_t follow_id)
{
    size_t index = (size_t)(follow_id & 0xffffffffu);
    if (index >= t->n || t->slots[index].f == NULL ||
        t->slots[index].gen != (uint32_t)(follow_id >> 32))
        return NULL;
    return &t->slots[index];
}

struct lj_table_slot *lj_table_by_container(struct lj_table *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f && strcmp(lj_follow_container_id(t->slots[i].f), id) == 0)
            return &t->slots[i];
    return NULL;
}

struct lj_table_slot *lj_table_by_handle(struct lj_table *t, CURL *h)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f && lj_follow_handle(t->slots[i].f) == h)
            return &t->slots[i];
    return NULL;
}

size_t lj_table_followed(const struct lj_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->slots[i].f != NULL && !t->slots[i].removed && !t->slots[i].unreadable;
    return n;
}

bool lj_table_drained(const struct lj_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f && lj_follow_pending(t->slots[i].f) > 0)
            return false;
    return true;
}

bool lj_table_subject_busy(const struct lj_table *t, const struct lj_table_slot *s,
                           const char *subject)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct lj_table_slot *o = &t->slots[i];
        if (o != s && o->f && lj_follow_pending(o->f) > 0 &&
            strcmp(lj_follow_subject(o->f), subject) == 0)
            return true;
    }
    return false;
}

int64_t lj_table_first_since(const struct lj_docker_container *c)
{
    /* Created is fixed before the container's first line can be written. Not the end
     * of a previous run either: the engine also sets FinishedAt while it starts a new
     * container (measured: 2-10 ms before StartedAt, after its first lines). */
    return c->created_ns;
}

void lj_table_position_from(const struct lj_record *last, const char *container_id,
                            uint64_t *line_no, struct lj_follow_pos pos[2], bool *same)
{
    *line_no = last ? last->line_no : 0;
    *same = last && strcmp(last->container_id, container_id) == 0;
    if (!*same)
        return;
    int this = last->stream == LJ_STREAM_STDERR ? 1 : 0;
    pos[this] = (struct lj_follow_pos){ last->ts_unix_nano, last->ts_index };
    if (last->other_seen) {
        pos[1 - this] = (struct lj_follow_pos){ last->other_ts_unix_nano, last->other_ts_index };
    } else {
        /* No line of the other stream was taken before this record, so every one the
         * engine has after it is new; one that Docker logged up to the reorder window
         * earlier is new too. (Not since_ns: that is where the run began, and the
         * container may have restarted while no publisher ran.) */
        int64_t t = last->ts_unix_nano - LJ_FOLLOW_REORDER_NS;
        pos[1 - this] = (struct lj_follow_pos){ t > 0 ? t : 0, -1 };
    }
}

lj_status lj_table_position(struct lj_table *t, struct lj_table_slot *s, struct lj_sink *sink,
                            char *err, size_t errlen)
{
    lj_pb_record *m = NULL;
    struct lj_record last;
    struct lj_follow_pos pos[2] = { { 0, -1 }, { 0, -1 } };
    uint64_t seq = 0, line_no;
    bool same;
    lj_status st = lj_sink_last_record(sink, lj_follow_subject(s->f), &m, &seq, err, errlen);

    (void)t;
    if (st != LJ_OK && st != LJ_NOT_FOUND)
        return st;
    if (st == LJ_OK)
        lj_record_view(m, &last);
    lj_table_position_from(st == LJ_OK ? &last : NULL, lj_follow_container_id(s->f), &line_no,
                           pos, &same);
    lj_follow_set_position(s->f, line_no, same ? &pos[0] : NULL, same ? &pos[1] : NULL,
                           s->since_ns);
    lj_record_free(m);
    s->positioned = true;
    return LJ_OK;
}

lj_status lj_table_rename(struct lj_table *t, struct lj_table_slot *s, const char *name,
                          struct lj_sink *sink, char *err, size_t errlen)
{
    char subject[LJ_SUBJECT_MAX];
    lj_pb_record *m = NULL;
    uint64_t seq, line_no = 0;
    lj_status st;

    if (lj_follow_pending(s->f) > 0)
        return LJ_AGAIN;
    if ((st = lj_subject_build("logs", t->cfg.host, name, subject, sizeof subject)) != LJ_OK)
        return lj_fail(err, errlen, st, "container name '%s' cannot form a subject", name);
    if (lj_table_subject_busy(t, s, subject))
        return LJ_AGAIN;
    st = lj_sink_last_record(sink, subject, &m, &seq, err, errlen);
    if (st == LJ_OK) {
        struct lj_record last;
        lj_record_view(m, &last);
        line_no = last.line_no;
    }
    lj_record_free(m);
    if (st != LJ_OK && st != LJ_NOT_FOUND)
        return st;
    return lj_follow_rename(s->f, name, line_no);
}

void lj_table_render_metrics(const struct lj_table *t, struct lj_buf *b, size_t *in_flight,
                             size_t *queued)
{
    static const struct { const char *name, *help; size_t off; } per[] = {
        { "logjet_publisher_lines_total", "Lines stored in JetStream (acknowledged).",
          offsetof(struct lj_follow_stats, lines) },
        { "logjet_publisher_bytes_total", "Bytes of line text stored in JetStream.",
          offsetof(struct lj_follow_stats, bytes) },
        { "logjet_publisher_publish_retries_total", "Lines sent again after a failure or timeout.",
          offsetof(struct lj_follow_stats, retries) },
        { "logjet_publisher_publish_errors_total", "Negative acknowledgements from JetStream.",
          offsetof(struct lj_follow_stats, errors) },
        { "logjet_publisher_lines_skipped_total", "Lines Docker sent again that were already taken.",
          offsetof(struct lj_follow_stats, skipped) },
        { "logjet_publisher_lines_truncated_total", "Lines cut at --max-line-bytes.",
          offsetof(struct lj_follow_stats, truncated) },
    };
    char label[600];
    for (size_t m = 0; m <= sizeof per / sizeof per[0]; m++) {
        bool lag = m == sizeof per / sizeof per[0];
        if (lag)
            lj_metrics_header(b, "logjet_publisher_seconds_behind", "gauge",
                              "Docker time between the newest line read and the newest line stored.");
        else
            lj_metrics_header(b, per[m].name, "counter", per[m].help);
        for (size_t i = 0; i < t->n; i++) {
            const struct lj_follow *f = t->slots[i].f;
            uint64_t v;
            if (f == NULL)
                continue;
            snprintf(label, sizeof label, "%s/%s", t->cfg.host, lj_follow_name(f));
            if (lag) {
                lj_metrics_f64(b, "logjet_publisher_seconds_behind", "container", label,
                               lj_follow_lag_seconds(f));
                *in_flight += lj_follow_in_flight(f);
                *queued += lj_follow_pending(f);
                continue;
            }
            memcpy(&v, (const uint8_t *)lj_follow_stats(f) + per[m].off, sizeof v);
            lj_metrics_u64(b, per[m].name, "container", label, v);
        }
    }
}
