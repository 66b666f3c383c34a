/* table.c - slots of followed containers, their ids and starting positions, and what
 * engine events, listings and finished transfers mean for them. Logs what an operator
 * needs (following, stopped, renamed, unreadable, retries), as the main loop's part. */
#include "table.h"

#include <assert.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entries.h"
#include "log.h"
#include "metrics.h"
#include "registry.h"
#include "subject.h"
#include "timeutil.h"

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
    free(t->unwritten);
    t->slots = NULL;
    t->unwritten = NULL;
    t->n = t->nunwritten = t->unwritten_cap = 0;
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

void lj_table_position_from(const struct lj_record *last, const struct lj_record *renamed_from,
                            const char *container_id, uint64_t *line_no,
                            struct lj_follow_pos pos[2], bool *same)
{
    *line_no = last ? last->line_no : 0;
    if (last == NULL || strcmp(last->container_id, container_id) != 0)
        last = NULL;
    /* A rename's record is newer than any of this name's when the container came back
     * to a name it had held before (a -> b -> a): its lines under b came later. */
    if (renamed_from != NULL && strcmp(renamed_from->container_id, container_id) == 0 &&
        (last == NULL || lj_record_newest_ts(renamed_from) > lj_record_newest_ts(last)))
        last = renamed_from;
    *same = last != NULL;
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
    lj_pb_container *entry = NULL;
    struct lj_record last, from;
    struct lj_follow_pos pos[2] = { { 0, -1 }, { 0, -1 } };
    uint64_t seq = 0, line_no;
    bool same, renamed;
    lj_status st = lj_sink_last_record(sink, lj_follow_subject(s->f), &m, &seq, err, errlen);

    if (st != LJ_OK && st != LJ_NOT_FOUND)
        return st;
    if (st == LJ_OK)
        lj_record_view(m, &last);
    /* Renamed before a line was stored under this name: where it stood under the
     * earlier one (the registry keeps it, see registry.h), or its log would be read
     * again from the start. */
    renamed = lj_registry_renamed_from(sink, t->cfg.host, lj_follow_name(s->f),
                                       lj_follow_container_id(s->f), &entry, &from) == LJ_OK;
    lj_table_position_from(st == LJ_OK ? &last : NULL, renamed ? &from : NULL,
                           lj_follow_container_id(s->f), &line_no, pos, &same);
    lj_follow_set_position(s->f, line_no, same ? &pos[0] : NULL, same ? &pos[1] : NULL,
                           s->since_ns);
    lj_container_free(entry);
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

void lj_table_render_metrics(const struct lj_table *t, struct lj_buf *b)
{
    size_t in_flight = 0, queued = 0;
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
        { "logjet_publisher_rotation_repeats_total",
          "Lines Docker's follow sent again after a log rotation (skipped).",
          offsetof(struct lj_follow_stats, repeats) },
        { "logjet_publisher_rotation_backfilled_total",
          "Lines Docker's follow skipped at a log rotation, read again from the rotated file.",
          offsetof(struct lj_follow_stats, backfilled) },
        { "logjet_publisher_rotation_rereads_total",
          "Logs transfers ended to read a rotated log again.",
          offsetof(struct lj_follow_stats, rereads) },
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
                in_flight += lj_follow_in_flight(f);
                queued += lj_follow_pending(f);
                continue;
            }
            memcpy(&v, (const uint8_t *)lj_follow_stats(f) + per[m].off, sizeof v);
            lj_metrics_u64(b, per[m].name, "container", label, v);
        }
    }
    lj_metrics_header(b, "logjet_publisher_acks_pending", "gauge",
                      "Lines sent to JetStream and not yet acknowledged.");
    lj_metrics_u64(b, "logjet_publisher_acks_pending", NULL, NULL, in_flight);
    lj_metrics_header(b, "logjet_publisher_lines_queued", "gauge",
                      "Lines read from Docker and not yet acknowledged (sent or not).");
    lj_metrics_u64(b, "logjet_publisher_lines_queued", NULL, NULL, queued);
    lj_metrics_header(b, "logjet_publisher_containers_followed", "gauge",
                      "Containers whose logs are followed.");
    lj_metrics_u64(b, "logjet_publisher_containers_followed", NULL, NULL, lj_table_followed(t));
}

/* ---- driving the follows -------------------------------------------------------------- */


bool lj_table_selected(const struct lj_table_env *env, const struct lj_docker_container *c)
{
    return lj_selection_wants(env->sel, c->name, c->labels, c->nlabels);
}

/* ---- following --------------------------------------------------------------------- */

/* The container of s is gone: its slot goes once its lines are stored, and the
 * registry says so (whichever comes first of the transfer's end and the destroy
 * event: the other may find the slot freed already). */
static void mark_removed(struct lj_table *t, struct lj_table_env *env, struct lj_table_slot *s)
{
    s->removed = true;
    lj_entries_removed(t, env, lj_follow_container_id(s->f), lj_follow_name(s->f));
}

static void start_transfer(struct lj_table *t, struct lj_table_env *env, struct lj_table_slot *s,
                           bool follow)
{
    char err[256], q[300];
    if (env->stopping || s->unreadable || lj_follow_transferring(s->f))
        return;
    if (!env->engine_up || !env->nats_ready) {
        /* Not now: the tick tries again (a stopped container needs its final read too). */
        s->retry_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
        return;
    }
    if (!s->positioned && lj_table_subject_busy(t, s, lj_follow_subject(s->f))) {
        s->retry_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
        return;
    }
    if (!s->positioned && lj_table_position(t, s, env->sink, err, sizeof err) != LJ_OK) {
        lj_log(LJ_LOG_WARN, "cannot read last stored record", "container=%s error=%s",
               lj_follow_name(s->f), lj_log_quote(q, sizeof q, err));
        s->retry_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
        return;
    }
    if (lj_follow_start(s->f, env->docker, env->multi, follow) != LJ_OK)
        s->retry_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
}

/* The backfill of s read its log to the end, or the container started again: what the
 * follow holds is published. */
static void end_backfill(struct lj_table_slot *s)
{
    const struct lj_follow_stats *st = lj_follow_stats(s->f);
    s->backfill = false;
    lj_log(LJ_LOG_INFO, "stopped container backfilled", "container=%s lines=%zu older=%" PRIu64,
           lj_follow_name(s->f), lj_follow_pending(s->f), st->held_out);
    lj_follow_hold(s->f, 0);
}

/* Makes sure container c is followed if selected (a second call only notes that a
 * transfer running now must be followed by another). */
static void follow_container(struct lj_table *t, struct lj_table_env *env,
                             const struct lj_docker_container *c)
{
    struct lj_table_slot *s = lj_table_by_container(t, c->id);
    if (!lj_table_selected(env, c))
        return;
    if (s == NULL) {
        if ((s = lj_table_add(t, c, lj_table_first_since(c))) == NULL) {
            lj_log(LJ_LOG_ERROR, "cannot follow container (out of memory?)", "container=%s",
                   c->name);
            return;
        }
        lj_log(LJ_LOG_INFO, "following container", "container=%s id=%.12s tty=%d subject=%s",
               c->name, c->id, c->tty, lj_follow_subject(s->f));
    }
    s->drained = false;
    s->removed = false;
    if (s->backfill && c->running)
        end_backfill(s);    /* started again: what is held and every new line go out */
    else if (s->backfill)
        return;             /* the tick reads it, backfill.at_once at a time */
    if (lj_follow_transferring(s->f))
        s->restart = true;
    else
        start_transfer(t, env, s, true);
}

/* Reads of stopped containers' logs for a backfill running now. */
static size_t backfills_running(const struct lj_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->slots[i].f && t->slots[i].backfill && lj_follow_transferring(t->slots[i].f);
    return n;
}

/* The engine refused a transfer with an HTTP error: when the reason is that the
 * container's logging driver cannot be read, say so once and never try again. */
static bool check_unreadable(struct lj_table *t, struct lj_table_env *env, struct lj_table_slot *s)
{
    struct lj_docker_container c;
    char err[256];
    const char *id = lj_follow_container_id(s->f);
    if (lj_follow_http_status(s->f) < 400 ||
        lj_docker_logs_readable(env->docker, id, s->reason, sizeof s->reason) != LJ_UNSUPPORTED)
        return false;
    s->unreadable = true;
    if (lj_docker_inspect(env->docker, id, &c, err, sizeof err) != LJ_OK)
        return true;
    lj_log(LJ_LOG_WARN, "the engine cannot read this container's log; not followed",
           "container=%s log_driver=%s reason=\"%s\"", c.name, c.log_driver, s->reason);
    lj_entries_put(t, env, &c, NULL, NULL);
    lj_docker_container_finish(&c);
    return true;
}

void lj_table_transfer_done(struct lj_table *t, struct lj_table_env *env, struct lj_table_slot *s,
                            CURLcode rc)
{
    char err[256], q[300];
    struct lj_docker_container c;
    lj_status st = lj_follow_transfer_done(s->f, env->multi, rc, err, sizeof err);

    if (st == LJ_AGAIN && !env->stopping) {
        /* The log rotated under a live follow: read it again now (follow.h). */
        lj_log(LJ_LOG_DEBUG, "log rotated; reading it again", "container=%s",
               lj_follow_name(s->f));
        start_transfer(t, env, s, !s->backfill);
        return;
    }
    if (st == LJ_OK && s->backfill)
        end_backfill(s);
    if (st != LJ_OK) {
        if (!env->engine_up || env->stopping || check_unreadable(t, env, s))
            return;
        lj_log(LJ_LOG_WARN, "logs transfer failed; retrying", "container=%s error=%s",
               lj_follow_name(s->f), lj_log_quote(q, sizeof q, err));
        /* Even a failed final read: the slot must not be freed before the log's end. */
        s->drained = false;
        s->retry_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
        return;
    }
    if (env->stopping || !env->engine_up)
        return;
    st = lj_docker_inspect(env->docker, lj_follow_container_id(s->f), &c, err, sizeof err);
    if (st == LJ_NOT_FOUND) {
        mark_removed(t, env, s);
        return;
    }
    bool running = st == LJ_OK && c.running;
    lj_docker_container_finish(&c);
    if (st != LJ_OK) {
        s->retry_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
    } else if (running || s->restart) {
        /* Restarted while we read (docker restart, restart policy): Docker ended the
         * stream; a new one from the cursor takes the rest of the old run and the new. */
        s->restart = false;
        start_transfer(t, env, s, true);
    } else if (!s->drained) {
        /* Stopped: one last non-following read from the cursor picks up a final line
         * the follow may have missed at exit. */
        s->drained = true;
        start_transfer(t, env, s, false);
    }
}

/* ---- engine events and listings ------------------------------------------------------ */

void lj_table_on_event(struct lj_table *t, struct lj_table_env *env,
                       const struct lj_docker_event *e)
{
    struct lj_docker_container c;
    char err[256];
    struct lj_table_slot *s = lj_table_by_container(t, e->id);
    lj_status st = lj_docker_inspect(env->docker, e->id, &c, err, sizeof err);

    lj_log(LJ_LOG_DEBUG, "engine event", "action=%s id=%.12s name=%s", e->action, e->id,
           e->name[0] ? e->name : "-");
    if (strcmp(e->action, "destroy") == 0 || st == LJ_NOT_FOUND) {
        if (s != NULL)
            mark_removed(t, env, s);
        else
            lj_entries_retire(t, env, e->id, e->name);
    } else if (st == LJ_OK && strcmp(e->action, "rename") == 0) {
        /* The new name's entry says where the lines stand under the old one (under the
         * follow's name when an earlier rename is still pending); the old name's entry
         * goes; a follow moves once its FIFO is stored. */
        bool moved = s != NULL && strcmp(lj_follow_name(s->f), c.name) != 0;
        lj_entries_renamed(t, env, &c, moved ? lj_follow_name(s->f) : e->old_name);
        if (moved) {
            lj_entries_removed(t, env, e->id, e->old_name);
            lj_follow_stop(s->f, env->multi);
            s->rename_pending = true;
        } else {
            /* No follow, or one the listing made under the new name already (the
             * rename came between the events' T0 and the listing: the sync found
             * the earlier name, below). */
            lj_entries_retire(t, env, e->id, e->old_name);
        }
    } else if (st == LJ_OK) {
        lj_entries_put(t, env, &c, NULL, NULL);
        if (strcmp(e->action, "start") == 0)
            follow_container(t, env, &c);
    }
    lj_docker_container_finish(&c);
}

/* A stopped container the sync saw, ranked for the backfill by when it finished. */
struct stopped {
    char id[65];
    int64_t finished_ns;
    bool own;                 /* its subject's last record is its own: read as usual */
};

static int by_finish_desc(const void *a, const void *b)
{
    const struct stopped *x = a, *y = b;
    return (x->finished_ns < y->finished_ns) - (x->finished_ns > y->finished_ns);
}

/* Enters the never-stored ones among the backfill.max most recently finished of the
 * stopped containers in the registry and in the table, holding; the tick reads them. */
static void backfill_stopped(struct lj_table *t, struct lj_table_env *env, struct stopped *v,
                             size_t n)
{
    size_t chosen = 0, never = 0;
    qsort(v, n, sizeof *v, by_finish_desc);
    for (size_t i = 0; i < n; i++) {
        struct lj_docker_container c;
        struct lj_table_slot *s;
        char err[256];
        never += !v[i].own;
        if (v[i].own || i >= t->backfill.max ||
            lj_docker_inspect(env->docker, v[i].id, &c, err, sizeof err) != LJ_OK)
            continue;
        if (!c.running && (s = lj_table_add(t, &c, lj_table_first_since(&c))) != NULL) {
            lj_entries_put(t, env, &c, NULL, NULL);
            s->backfill = true;
            lj_follow_hold(s->f, t->backfill.depth);
            s->retry_at = lj_time_mono_ns();
            chosen++;
        }
        lj_docker_container_finish(&c);
    }
    if (never > 0)
        lj_log(LJ_LOG_INFO, "stopped containers never stored", "backfilling=%zu "
               "left_out=%zu max=%zu at_once=%zu lines_each=%zu", chosen, never - chosen,
               t->backfill.max, t->backfill.at_once, t->backfill.depth);
}

lj_status lj_table_sync(struct lj_table *t, struct lj_table_env *env, char *err, size_t errlen)
{
    char (*ids)[65] = NULL;
    size_t n = 0, nstopped = 0;
    struct stopped *stopped = NULL;
    struct lj_entries_last *lasts = NULL;
    size_t nlasts = 0;
    bool lasts_read = false;
    lj_status st = lj_docker_list(env->docker, true, &ids, &n, err, errlen);
    if (st != LJ_OK)
        return st;
    if (t->backfill.max > 0 && n > 0 && (stopped = calloc(n, sizeof *stopped)) == NULL)
        lj_log(LJ_LOG_WARN, "no memory to backfill stopped containers", "containers=%zu", n);
    for (size_t i = 0; i < n; i++) {
        struct lj_docker_container c;
        if (lj_docker_inspect(env->docker, ids[i], &c, err, errlen) != LJ_OK)
            continue;
        bool sel = lj_table_selected(env, &c);
        bool stored = sel && (lj_table_by_container(t, c.id) != NULL || lj_entries_stored(t, env, &c));
        if (sel && !stored) {
            /* New, or renamed while no publisher watched: the subjects tell (read once). */
            if (!lasts_read) {
                lasts = lj_entries_lasts(t, env, &nlasts);
                lasts_read = true;
            }
            stored = lj_entries_renamed_unseen(t, env, &c, lasts, nlasts);
        }
        /* A stopped one with lines stored may have printed its last ones while we could
         * not see it. */
        if (c.running || stored) {
            lj_entries_put(t, env, &c, NULL, NULL);
            follow_container(t, env, &c);
        }
        /* Never started ones have no log. */
        if (stopped != NULL && sel && !c.running && c.started_ns > 0) {
            struct stopped *v = &stopped[nstopped++];
            snprintf(v->id, sizeof v->id, "%s", c.id);
            v->finished_ns = c.finished_ns;
            v->own = stored;
        }
        lj_docker_container_finish(&c);
    }
    for (size_t k = 0; k < t->n; k++) {
        struct lj_table_slot *s = &t->slots[k];
        bool listed = false;
        if (s->f == NULL || s->removed)
            continue;
        for (size_t i = 0; i < n && !listed; i++)
            listed = strcmp(ids[i], lj_follow_container_id(s->f)) == 0;
        if (!listed)
            mark_removed(t, env, s);
    }
    if (stopped != NULL)
        backfill_stopped(t, env, stopped, nstopped);
    free(lasts);
    free(stopped);
    free(ids);
    return LJ_OK;
}

/* ---- timers -------------------------------------------------------------------------- */

static void finish_rename(struct lj_table *t, struct lj_table_env *env, struct lj_table_slot *s)
{
    struct lj_docker_container c;
    char err[256], old[LJ_SUBJECT_MAX];

    if (lj_follow_pending(s->f) > 0 || !env->nats_ready ||
        lj_docker_inspect(env->docker, lj_follow_container_id(s->f), &c, err, sizeof err) != LJ_OK)
        return;    /* the next tick tries again */
    snprintf(old, sizeof old, "%s", lj_follow_name(s->f));
    if (lj_table_rename(t, s, c.name, env->sink, err, sizeof err) == LJ_OK) {
        /* Every line read under the old name is stored now: the entry says exactly
         * where they end (the event wrote what was stored then). */
        lj_entries_renamed(t, env, &c, old);
        s->rename_pending = false;
        lj_log(LJ_LOG_INFO, "container renamed", "from=%s to=%s subject=%s", old, c.name,
               lj_follow_subject(s->f));
        if (c.running)
            start_transfer(t, env, s, true);
    }
    lj_docker_container_finish(&c);
}

void lj_table_tick(struct lj_table *t, struct lj_table_env *env)
{
    int64_t now = lj_time_mono_ns();
    lj_entries_write_unwritten(t, env);
    for (size_t i = 0; i < t->n; i++) {
        struct lj_table_slot *s = &t->slots[i];
        if (s->f == NULL)
            continue;
        lj_follow_check_timeouts(s->f, now);
        if ((s->removed || s->drained) && lj_follow_idle(s->f)) {
            /* Removed, or stopped and read to the end: a start event brings it back,
             * positioned again from its last stored record. */
            lj_log(LJ_LOG_INFO, "stopped following container", "container=%s",
                   lj_follow_name(s->f));
            lj_table_remove(t, s, env->multi);
        } else if (s->rename_pending) {
            finish_rename(t, env, s);
        } else if (!lj_follow_transferring(s->f) && !s->removed && !s->drained && s->retry_at &&
                   now >= s->retry_at &&
                   (!s->backfill || backfills_running(t) < t->backfill.at_once)) {
            s->retry_at = 0;
            start_transfer(t, env, s, !s->backfill);
        }
    }
}


void lj_table_engine_lost(struct lj_table *t, struct lj_table_env *env)
{
    /* Every logs transfer dies with the engine; stop them now so that all restart from
     * their cursors once it is back. */
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f) {
            lj_follow_stop(t->slots[i].f, env->multi);
            t->slots[i].retry_at = lj_time_mono_ns();
        }
}

void lj_table_stop_all(struct lj_table *t, CURLM *multi)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f)
            lj_follow_stop(t->slots[i].f, multi);
}

void lj_table_take_acks(struct lj_table *t, struct lj_table_env *env)
{
    static struct lj_ack acks[4096];
    size_t n;
    while ((n = lj_sink_take_acks(env->sink, acks, sizeof acks / sizeof acks[0])) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct lj_table_slot *s = lj_table_by_follow_id(t, acks[i].follow_id);
            if (s == NULL)
                continue;    /* a follow destroyed since: its record is stored or not */
            if (!acks[i].ok)
                lj_log(LJ_LOG_WARN, "publish refused; will retry", "container=%s line_no=%"
                       PRIu64 " error=\"%s\"", lj_follow_name(s->f), acks[i].line_no,
                       acks[i].error);
            /* The stream may be gone (a server that lost its store, a deleted stream):
             * check it, and create it again, before sending more. */
            if (acks[i].no_stream)
                env->nats_ready = false;
            lj_follow_on_ack(s->f, &acks[i]);
        }
    }
}

void lj_table_recover_all(struct lj_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f)
            lj_follow_recover(t->slots[i].f, 0);
}

void lj_table_check_timeouts(struct lj_table *t)
{
    int64_t now = lj_time_mono_ns();
    for (size_t i = 0; i < t->n; i++)
        if (t->slots[i].f)
            lj_follow_check_timeouts(t->slots[i].f, now);
}

void lj_table_pump(struct lj_table *t, struct lj_table_env *env)
{
    for (size_t i = 0; i < t->n && env->nats_ready; i++)
        if (t->slots[i].f)
            lj_follow_pump(t->slots[i].f, env->sink);
}
