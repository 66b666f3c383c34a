/* main.c - logjet-publisher: follows the logs of every container on one Docker host and
 * publishes each line as a logjet.v1.LogRecord to JetStream, subject
 * logs.<host>.<container>, nothing lost or doubled across restarts of anything.
 *
 * Threads:
 *   main    runs everything in this file: one curl_multi loop with the /events stream and
 *           one logs transfer per followed container, the HTTP health/metrics socket,
 *           acks, retries and registry writes. All publisher state belongs to it.
 *   nats.c  its own threads read the NATS connection and run sink.c's ack subscription
 *           and connection callbacks. They never touch publisher state: they append to
 *           the sink's locked ack queue and call curl_multi_wakeup(), the only door into
 *           the main loop.
 *
 * Flow control: a follow's FIFO of records waiting for acks pauses its Docker transfer
 * when it grows (follow.h); while NATS is away nothing is sent and the transfers stay
 * paused, so the engine's log file holds the backlog. Not done here: parsing bytes
 * (demux.c), detecting levels (level.c), talking JetStream (sink.c).
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "docker.h"
#include "follow.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "natsconn.h"
#include "natsurl.h"
#include "registry.h"
#include "subject.h"
#include "sink.h"
#include "timeutil.h"

#define TICK_MS 100
#define ENGINE_BACKOFF_MAX_MS 10000
#define TRANSFER_RETRY_NS (1000LL * 1000000)
#define NATS_RETRY_NS (1000LL * 1000000)
#define RECORD_OVERHEAD 4096     /* a record's bytes besides its line, and its headers */
#define SHUTDOWN_GRACE_NS (10LL * 1000000000)
#define EVENTS_LINE_MAX (1u << 20)
#define ACK_BATCH 4096
#define EXTRA_FDS (LJ_HTTP_MAX_CLIENTS + 2)

struct options {
    struct lj_natsconn_options nats;
    const char *docker_host, *host_id, *stream, *http, *include, *exclude;
    const char *log_level;
    long replay_depth, replicas, max_line_bytes, ack_timeout_ms;
    bool opt_in;
};

/* One followed container. A slot is reused after its follow is destroyed; follow ids
 * carry the slot's generation so a late ack for an old follow finds nothing. */
struct slot {
    struct lj_follow *f;      /* NULL when the slot is free */
    uint32_t gen;
    bool positioned;          /* cursor recovered from JetStream */
    bool drained;             /* a transfer ended with the container stopped */
    bool restart;             /* a start event came while a transfer still ran */
    bool removed;             /* destroyed: free once idle */
    bool rename_pending;      /* renamed: re-point once the FIFO drains */
    int64_t since_ns;         /* where to begin without a stored record of this container */
    int64_t retry_at;         /* monotonic ns before which no transfer is started */
};

struct event {
    char action[16];
    char id[65];
    char name[256], old_name[256];
};

struct app {
    struct options o;
    char host_id[256];
    struct lj_docker *docker;
    struct lj_sink *sink;
    CURLM *multi;
    struct lj_http *http;
    int sigfd;

    struct slot *slots;
    size_t nslots;

    CURL *events;             /* the /events stream, NULL while the engine is down */
    struct lj_buf events_buf; /* bytes of the current, incomplete event line */
    struct event *queue;      /* events parsed during curl_multi_perform, handled after */
    size_t nqueue, qcap;
    int64_t last_event_ns;
    bool engine_up;
    int64_t engine_retry_at;
    int engine_backoff_ms;
    uint64_t engine_reconnects;

    bool nats_ready;
    int64_t nats_retry_at;
    uint64_t seen_reconnects;

    regex_t include, exclude;
    bool has_include, has_exclude;

    bool stopping;
    int64_t stop_deadline;
};

/* ---- options ----------------------------------------------------------------------- */

static struct options opts;

static const struct lj_opt option_table[] = {
    LJ_NATSCONN_OPTIONS(opts.nats),
    { "docker-host", LJ_OPT_STRING, "URL", "unix:///var/run/docker.sock",
      "Docker engine: unix:///path or tcp://host:port", &opts.docker_host, 0, 0 },
    { "host-id", LJ_OPT_STRING, "NAME", "", "this host's name in subjects (default: hostname)",
      &opts.host_id, 0, 0 },
    { "stream", LJ_OPT_STRING, "NAME", "LOGS", "JetStream stream holding the lines",
      &opts.stream, 0, 0 },
    { "replay-depth", LJ_OPT_INT, "N", "1000", "lines kept per container (MaxMsgsPerSubject)",
      &opts.replay_depth, 1, 10000000 },
    { "replicas", LJ_OPT_INT, "N", "1", "stream and registry replicas when creating them",
      &opts.replicas, 1, 5 },
    { "http", LJ_OPT_STRING, "ADDR:PORT", "127.0.0.1:9101", "serve /healthz and /metrics here",
      &opts.http, 0, 0 },
    { "max-line-bytes", LJ_OPT_INT, "N", "64KiB", "longer lines are cut and marked truncated",
      &opts.max_line_bytes, 1024, 16 * 1024 * 1024 },
    { "opt-in", LJ_OPT_BOOL, NULL, "false",
      "follow only containers labelled logjet.enable=true", &opts.opt_in, 0, 0 },
    { "include", LJ_OPT_STRING, "REGEX", "", "follow only containers whose name matches",
      &opts.include, 0, 0 },
    { "exclude", LJ_OPT_STRING, "REGEX", "", "never follow containers whose name matches",
      &opts.exclude, 0, 0 },
    { "ack-timeout-ms", LJ_OPT_INT, "MS", "5000", "resend a line not acknowledged this long",
      &opts.ack_timeout_ms, 100, 600000 },
    { "log-level", LJ_OPT_STRING, "LEVEL", "info", "debug, info, warn or error",
      &opts.log_level, 0, 0 },
};
#define NOPTIONS (sizeof option_table / sizeof option_table[0])

static const char summary[] =
    "Follows the logs of every container on a Docker host and publishes each line to NATS\n"
    "JetStream as a logjet.v1.LogRecord on subject logs.<host>.<container>. Containers\n"
    "labelled logjet.enable=false are skipped. Nothing is lost or doubled across restarts.";

static lj_status compile_regex(regex_t *re, const char *pattern, const char *opt, char *err,
                               size_t errlen)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        return lj_fail(err, errlen, LJ_INVAL, "--%s '%s': %s", opt, pattern, msg);
    }
    return LJ_OK;
}

static lj_status check_options(struct app *a, char *err, size_t errlen)
{
    enum lj_log_level lvl;
    if (lj_log_parse_level(a->o.log_level, &lvl) != 0)
        return lj_fail(err, errlen, LJ_INVAL, "--log-level '%s': expected debug, info, warn or error",
                       a->o.log_level);
    lj_log_set_level(lvl);
    if (a->o.host_id[0] == '\0') {
        if (gethostname(a->host_id, sizeof a->host_id) != 0)
            return lj_fail(err, errlen, LJ_INVAL, "cannot read the hostname; set --host-id");
        a->host_id[sizeof a->host_id - 1] = '\0';
    } else {
        snprintf(a->host_id, sizeof a->host_id, "%s", a->o.host_id);
    }
    if (lj_natsconn_check(&a->o.nats, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if (a->o.include[0] &&
        compile_regex(&a->include, a->o.include, "include", err, errlen) != LJ_OK)
        return LJ_INVAL;
    a->has_include = a->o.include[0] != '\0';
    if (a->o.exclude[0] &&
        compile_regex(&a->exclude, a->o.exclude, "exclude", err, errlen) != LJ_OK)
        return LJ_INVAL;
    a->has_exclude = a->o.exclude[0] != '\0';
    return LJ_OK;
}

/* ---- slots --------------------------------------------------------------------------- */

static uint64_t follow_id_of(size_t index, uint32_t gen)
{
    return (uint64_t)gen << 32 | (uint64_t)index;
}

static struct slot *slot_by_follow_id(struct app *a, uint64_t id)
{
    size_t index = (size_t)(id & 0xffffffffu);
    if (index >= a->nslots || a->slots[index].f == NULL ||
        a->slots[index].gen != (uint32_t)(id >> 32))
        return NULL;
    return &a->slots[index];
}

static struct slot *slot_by_container(struct app *a, const char *id)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f && strcmp(lj_follow_container_id(a->slots[i].f), id) == 0)
            return &a->slots[i];
    return NULL;
}

static struct slot *slot_by_handle(struct app *a, CURL *h)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f && lj_follow_handle(a->slots[i].f) == h)
            return &a->slots[i];
    return NULL;
}

static size_t followed_count(const struct app *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nslots; i++)
        n += a->slots[i].f != NULL && !a->slots[i].removed;
    return n;
}

static struct slot *slot_new(struct app *a, const struct lj_docker_container *c, int64_t since)
{
    size_t i;
    for (i = 0; i < a->nslots && a->slots[i].f != NULL; i++)
        ;
    if (i == a->nslots) {
        size_t n = a->nslots ? a->nslots * 2 : 16;
        struct slot *s = realloc(a->slots, n * sizeof *s);
        if (s == NULL)
            return NULL;
        memset(s + a->nslots, 0, (n - a->nslots) * sizeof *s);
        a->slots = s;
        a->nslots = n;
    }
    struct slot *s = &a->slots[i];
    struct lj_follow_config fc = { .host = a->host_id,
                                   .max_line_bytes = (size_t)a->o.max_line_bytes,
                                   .ack_timeout_ns = a->o.ack_timeout_ms * 1000000LL };
    uint32_t gen = s->gen + 1;
    memset(s, 0, sizeof *s);
    s->gen = gen;
    s->since_ns = since;
    s->f = lj_follow_create(&fc, follow_id_of(i, gen), c->id, c->name, c->tty);
    if (s->f == NULL)
        return NULL;
    lj_log(LJ_LOG_INFO, "following container", "container=%s id=%.12s tty=%d subject=%s",
           c->name, c->id, c->tty, lj_follow_subject(s->f));
    return s;
}

static void slot_free(struct app *a, struct slot *s)
{
    lj_follow_stop(s->f, a->multi);
    lj_log(LJ_LOG_INFO, "stopped following container", "container=%s",
           lj_follow_name(s->f));
    lj_follow_destroy(s->f);
    s->f = NULL;
}

/* ---- selection and registry ---------------------------------------------------------- */

static bool selected(const struct app *a, const struct lj_docker_container *c)
{
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(c->labels, "logjet.enable");
    const char *v = cJSON_IsString(label) ? label->valuestring : NULL;
    if (v && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0))
        return false;
    if (a->o.opt_in && !(v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                               strcmp(v, "yes") == 0)))
        return false;
    if (a->has_include && regexec(&a->include, c->name, 0, NULL, 0) != 0)
        return false;
    if (a->has_exclude && regexec(&a->exclude, c->name, 0, NULL, 0) == 0)
        return false;
    return true;
}

static void registry_put(struct app *a, const struct lj_docker_container *c, const char *state)
{
    char err[256];
    /* "removed" is said of containers that were followed, whose labels are gone. */
    bool removed = state != NULL && strcmp(state, "removed") == 0;
    if (!a->nats_ready || (!removed && !selected(a, c)))
        return;
    if (lj_registry_put(a->sink, a->host_id, c, state, err, sizeof err) != LJ_OK) {
        char q[300];
        lj_log(LJ_LOG_WARN, "registry update failed", "container=%s error=%s", c->name,
               lj_log_quote(q, sizeof q, err));
    }
}

/* ---- following --------------------------------------------------------------------- */

/* Recovers where the subject stands from its last stored record. */
static lj_status position(struct app *a, struct slot *s)
{
    char err[256], q[300];
    lj_pb_record *last = NULL;
    uint64_t seq = 0;
    lj_status st = lj_sink_last_record(a->sink, lj_follow_subject(s->f), &last, &seq, err,
                                       sizeof err);
    if (st == LJ_NOT_FOUND) {
        lj_follow_set_position(s->f, 0, NULL, NULL, s->since_ns);
    } else if (st == LJ_OK) {
        bool same = strcmp(last->container_id, lj_follow_container_id(s->f)) == 0;
        struct lj_follow_pos pos[2] = { { 0, -1 }, { 0, -1 } };
        int this = last->stream == LOGJET__V1__STREAM__STDERR ? 1 : 0;
        pos[this] = (struct lj_follow_pos){ last->ts_unix_nano, last->ts_index };
        if (last->other_seen) {
            pos[1 - this] = (struct lj_follow_pos){ last->other_ts_unix_nano,
                                                    last->other_ts_index };
        } else {
            /* No line of the other stream was taken before this record, so every one
             * the engine has after it is new; one that Docker logged up to the reorder
             * window earlier is new too. (Not since_ns: that is the current run's
             * start, and the container may have restarted while we were away.) */
            int64_t t = last->ts_unix_nano - LJ_FOLLOW_REORDER_NS;
            pos[1 - this] = (struct lj_follow_pos){ t > 0 ? t : 0, -1 };
        }
        /* A record of another container under the same name (recreated) only tells
         * where line_no stands; this container's lines are all new. */
        lj_follow_set_position(s->f, last->line_no, same ? &pos[0] : NULL,
                               same ? &pos[1] : NULL, s->since_ns);
        lj_log(LJ_LOG_DEBUG, "recovered position", "container=%s line_no=%" PRIu64
               " seq=%" PRIu64 " same_container=%d", lj_follow_name(s->f), last->line_no, seq,
               same);
        lj_record_free(last);
    } else {
        lj_log(LJ_LOG_WARN, "cannot read last stored record", "container=%s error=%s",
               lj_follow_name(s->f), lj_log_quote(q, sizeof q, err));
        return st;
    }
    s->positioned = true;
    return LJ_OK;
}

/* True when a follow other than s still has unstored lines for subject (a removed or
 * renamed container whose name a new one took): s must not read the subject's last
 * line_no before they are stored, or both would number lines from the same place. */
static bool subject_busy(struct app *a, const struct slot *s, const char *subject)
{
    for (size_t i = 0; i < a->nslots; i++) {
        const struct slot *o = &a->slots[i];
        if (o != s && o->f && lj_follow_pending(o->f) > 0 &&
            strcmp(lj_follow_subject(o->f), subject) == 0)
            return true;
    }
    return false;
}

static void start_transfer(struct app *a, struct slot *s, bool follow)
{
    if (a->stopping || lj_follow_transferring(s->f))
        return;
    if (!a->engine_up || !a->nats_ready) {
        /* Not now: the tick tries again (a stopped container needs its final read too). */
        s->retry_at = lj_time_mono_ns() + TRANSFER_RETRY_NS;
        return;
    }
    if (!s->positioned &&
        (subject_busy(a, s, lj_follow_subject(s->f)) || position(a, s) != LJ_OK)) {
        s->retry_at = lj_time_mono_ns() + NATS_RETRY_NS;
        return;
    }
    if (lj_follow_start(s->f, a->docker, a->multi, follow) != LJ_OK)
        s->retry_at = lj_time_mono_ns() + TRANSFER_RETRY_NS;
}

/* Makes sure container c is followed if selected; since applies to a new follow. */
static void follow_container(struct app *a, const struct lj_docker_container *c, int64_t since)
{
    struct slot *s = slot_by_container(a, c->id);
    if (!selected(a, c))
        return;
    if (s == NULL && (s = slot_new(a, c, since)) == NULL) {
        lj_log(LJ_LOG_ERROR, "out of memory following container", "container=%s", c->name);
        return;
    }
    s->drained = false;
    s->removed = false;
    if (lj_follow_transferring(s->f))
        s->restart = true;
    else
        start_transfer(a, s, true);
}

/* A logs transfer ended: decide whether to read again. */
static void on_logs_done(struct app *a, struct slot *s, CURLcode rc)
{
    char err[256], q[300];
    struct lj_docker_container c;
    lj_status st = lj_follow_transfer_done(s->f, a->multi, rc, err, sizeof err);

    if (st == LJ_AGAIN && !a->stopping) {
        /* The log rotated under a live follow: read it again now (follow.h). */
        lj_log(LJ_LOG_DEBUG, "log rotated; reading it again", "container=%s",
               lj_follow_name(s->f));
        start_transfer(a, s, true);
        return;
    }
    if (st != LJ_OK) {
        if (a->engine_up && !a->stopping)
            lj_log(LJ_LOG_WARN, "logs transfer failed; retrying", "container=%s error=%s",
                   lj_follow_name(s->f), lj_log_quote(q, sizeof q, err));
        /* Even a failed final read: the slot must not be freed before the log's end. */
        s->drained = false;
        s->retry_at = lj_time_mono_ns() + TRANSFER_RETRY_NS;
        return;
    }
    if (a->stopping || !a->engine_up)
        return;
    st = lj_docker_inspect(a->docker, lj_follow_container_id(s->f), &c, err, sizeof err);
    if (st == LJ_NOT_FOUND) {
        s->removed = true;
        return;
    }
    bool running = st == LJ_OK && c.running;
    lj_docker_container_finish(&c);
    if (st != LJ_OK) {
        s->retry_at = lj_time_mono_ns() + TRANSFER_RETRY_NS;
    } else if (running || s->restart) {
        /* Restarted while we read (docker restart, restart policy): Docker ended the
         * stream; a new one from the cursor takes the rest of the old run and the new. */
        s->restart = false;
        start_transfer(a, s, true);
    } else if (!s->drained) {
        /* Stopped: one last non-following read from the cursor picks up a final line
         * the follow may have missed at exit. */
        s->drained = true;
        start_transfer(a, s, false);
    }
}

/* ---- engine events ----------------------------------------------------------------- */

static void queue_event(struct app *a, const char *line, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(j, "Action");
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(j, "Actor");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(actor, "ID");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(attrs, "name");
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(attrs, "oldName");
    const cJSON *tn = cJSON_GetObjectItemCaseSensitive(j, "timeNano");

    if (cJSON_IsString(action) && cJSON_IsString(id) && strlen(id->valuestring) == 64) {
        if (a->nqueue == a->qcap) {
            size_t cap = a->qcap ? a->qcap * 2 : 64;
            struct event *q = realloc(a->queue, cap * sizeof *q);
            if (q == NULL)
                goto out; /* re-listed at the next engine reconnect */
            a->queue = q;
            a->qcap = cap;
        }
        struct event *e = &a->queue[a->nqueue++];
        snprintf(e->action, sizeof e->action, "%s", action->valuestring);
        snprintf(e->id, sizeof e->id, "%s", id->valuestring);
        snprintf(e->name, sizeof e->name, "%s", cJSON_IsString(name) ? name->valuestring : "");
        snprintf(e->old_name, sizeof e->old_name, "%s",
                 cJSON_IsString(old) ? old->valuestring + (old->valuestring[0] == '/') : "");
        if (cJSON_IsNumber(tn))
            a->last_event_ns = (int64_t)tn->valuedouble;
    }
out:
    cJSON_Delete(j);
}

/* Write callback of /events: one JSON object per line. Runs inside curl_multi_perform,
 * so it only queues; handle_events does the work. */
static size_t on_events_body(char *data, size_t size, size_t n, void *ctx)
{
    struct app *a = ctx;
    size_t len = size * n;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n') {
            if (a->events_buf.len < EVENTS_LINE_MAX)
                lj_buf_append(&a->events_buf, &data[i], 1);
            continue;
        }
        queue_event(a, a->events_buf.data ? a->events_buf.data : "", a->events_buf.len);
        lj_buf_reset(&a->events_buf);
    }
    return len;
}

/* Says in the registry that container id, followed under name, is gone. Its labels
 * are gone with it, so none are written. */
static void registry_removed(struct app *a, const char *id, const char *name)
{
    struct lj_docker_container c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "%s", name);
    c.labels = cJSON_CreateObject();
    registry_put(a, &c, "removed");
    cJSON_Delete(c.labels);
}

/* The container of s is gone: its slot goes once its lines are stored, and the
 * registry says so. */
static void mark_removed(struct app *a, struct slot *s)
{
    s->removed = true;
    registry_removed(a, lj_follow_container_id(s->f), lj_follow_name(s->f));
}

static void handle_rename(struct app *a, const struct event *e)
{
    struct slot *s = slot_by_container(a, e->id);
    if (s == NULL)
        return;    /* not followed: nothing of it is in the registry */
    registry_removed(a, e->id, e->old_name);
    lj_follow_stop(s->f, a->multi);
    s->rename_pending = true;
}

static bool has_own_record(struct app *a, const struct lj_docker_container *c);

/* true when the stream's newest line of name on this host is container id's. */
static bool own_lines(struct app *a, const char *id, const char *name)
{
    struct lj_docker_container c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "%s", name);
    return has_own_record(a, &c);
}

static void handle_event(struct app *a, const struct event *e)
{
    struct lj_docker_container c;
    char err[256];
    struct slot *s;
    lj_status st = lj_docker_inspect(a->docker, e->id, &c, err, sizeof err);

    lj_log(LJ_LOG_DEBUG, "engine event", "action=%s id=%.12s name=%s", e->action, e->id,
           e->name[0] ? e->name : "-");
    if (strcmp(e->action, "destroy") == 0 || st == LJ_NOT_FOUND) {
        if ((s = slot_by_container(a, e->id)) != NULL)
            mark_removed(a, s);
        else if (strcmp(e->action, "destroy") == 0 && e->name[0] && own_lines(a, e->id, e->name))
            /* Stopped and read to its end before the removal, so no slot is left: its
             * registry entry still says "exited" unless it is written here. */
            registry_removed(a, e->id, e->name);
        if (st == LJ_OK)
            lj_docker_container_finish(&c);
        return;
    }
    if (st != LJ_OK)
        return;
    if (strcmp(e->action, "rename") == 0)
        handle_rename(a, e);
    registry_put(a, &c, NULL);
    if (strcmp(e->action, "start") == 0)
        follow_container(a, &c, c.created_ns);
    lj_docker_container_finish(&c);
}

static void handle_events(struct app *a)
{
    for (size_t i = 0; i < a->nqueue; i++)
        handle_event(a, &a->queue[i]);
    a->nqueue = 0;
}

/* ---- engine connection -------------------------------------------------------------- */

static lj_status start_events(struct app *a)
{
    char path[512];
    static const char filters[] =
        "{\"type\":[\"container\"],\"event\":[\"start\",\"die\",\"destroy\",\"rename\"]}";
    char *esc = curl_easy_escape(NULL, filters, 0);
    int64_t since = a->last_event_ns ? a->last_event_ns : lj_time_now_ns();
    if (esc == NULL)
        return LJ_NOMEM;
    snprintf(path, sizeof path, "/events?since=%" PRId64 ".%09" PRId64 "&filters=%s",
             since / 1000000000, since % 1000000000, esc);
    curl_free(esc);
    lj_buf_reset(&a->events_buf);
    a->events = lj_docker_stream(a->docker, path, on_events_body, a);
    if (a->events == NULL || curl_multi_add_handle(a->multi, a->events) != CURLM_OK) {
        curl_easy_cleanup(a->events);
        a->events = NULL;
        return LJ_NOMEM;
    }
    return LJ_OK;
}

/* A stopped container is read to its end only if this publisher stored lines of it
 * before: it may have printed its last lines while the publisher was down. */
static bool has_own_record(struct app *a, const struct lj_docker_container *c)
{
    char subject[LJ_SUBJECT_MAX], err[256];
    lj_pb_record *last = NULL;
    uint64_t seq;
    bool own;
    if (lj_subject_build("logs", a->host_id, c->name, subject, sizeof subject) != LJ_OK ||
        lj_sink_last_record(a->sink, subject, &last, &seq, err, sizeof err) != LJ_OK)
        return false;
    own = strcmp(last->container_id, c->id) == 0;
    lj_record_free(last);
    return own;
}

/* Follows every running container, and finishes reading stopped ones this publisher
 * had followed, as after start-up or an engine outage. */
static lj_status sync_containers(struct app *a, char *err, size_t errlen)
{
    char (*ids)[65] = NULL;
    size_t n = 0;
    lj_status st = lj_docker_list(a->docker, true, &ids, &n, err, errlen);
    if (st != LJ_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        struct lj_docker_container c;
        if (lj_docker_inspect(a->docker, ids[i], &c, err, errlen) != LJ_OK)
            continue;
        if (c.running) {
            registry_put(a, &c, NULL);
            follow_container(a, &c, c.started_ns);
        } else if (selected(a, &c) && (slot_by_container(a, c.id) != NULL ||
                                       has_own_record(a, &c))) {
            /* Stopped, maybe while the engine was out of reach: read it to the end. */
            registry_put(a, &c, NULL);
            follow_container(a, &c, c.started_ns);
        }
        lj_docker_container_finish(&c);
    }
    /* Followed containers no longer listed were removed while we could not see it. */
    for (size_t k = 0; k < a->nslots; k++) {
        struct slot *s = &a->slots[k];
        bool listed = false;
        if (s->f == NULL || s->removed)
            continue;
        for (size_t i = 0; i < n && !listed; i++)
            listed = strcmp(ids[i], lj_follow_container_id(s->f)) == 0;
        if (!listed)
            mark_removed(a, s);
    }
    free(ids);
    return LJ_OK;
}

static void connect_engine(struct app *a)
{
    char err[256], q[300];
    int64_t now = lj_time_mono_ns();
    if (a->engine_up || now < a->engine_retry_at || !a->nats_ready)
        return;
    if (lj_docker_ping(a->docker, err, sizeof err) != LJ_OK || start_events(a) != LJ_OK) {
        a->engine_backoff_ms = a->engine_backoff_ms ? a->engine_backoff_ms * 2 : 250;
        if (a->engine_backoff_ms > ENGINE_BACKOFF_MAX_MS)
            a->engine_backoff_ms = ENGINE_BACKOFF_MAX_MS;
        a->engine_retry_at = now + a->engine_backoff_ms * 1000000LL;
        lj_log(LJ_LOG_WARN, "Docker engine not reachable; retrying", "host=%s error=%s retry_ms=%d",
               lj_docker_host(a->docker), lj_log_quote(q, sizeof q, err), a->engine_backoff_ms);
        return;
    }
    a->engine_up = true;
    a->engine_backoff_ms = 0;
    if (sync_containers(a, err, sizeof err) != LJ_OK)
        lj_log(LJ_LOG_WARN, "listing containers failed", "error=%s",
               lj_log_quote(q, sizeof q, err));
    lj_log(LJ_LOG_INFO, "Docker engine connected", "host=%s containers_followed=%zu",
           lj_docker_host(a->docker), followed_count(a));
}

static void engine_lost(struct app *a, CURLcode rc)
{
    curl_multi_remove_handle(a->multi, a->events);
    curl_easy_cleanup(a->events);
    a->events = NULL;
    if (a->stopping)
        return;
    a->engine_up = false;
    a->engine_reconnects++;
    a->engine_retry_at = lj_time_mono_ns() + 250 * 1000000LL;
    /* Every logs transfer dies with the engine; stop them now so that all restart from
     * their cursors once it is back, and re-list, since the event ring is lost too. */
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f) {
            lj_follow_stop(a->slots[i].f, a->multi);
            a->slots[i].retry_at = lj_time_mono_ns();
        }
    lj_log(LJ_LOG_WARN, "lost the Docker engine; reconnecting", "host=%s error=\"%s\"",
           lj_docker_host(a->docker), curl_easy_strerror(rc));
}

/* ---- NATS --------------------------------------------------------------------------- */

static void check_nats(struct app *a)
{
    static char last_err[256];     /* a failure repeated every retry is logged once */
    char warn[512], err[256], q[600];
    uint64_t rc;

    if (lj_sink_poll(a->sink))
        a->nats_ready = false;     /* a new connection: stream and bucket again */
    rc = lj_sink_reconnects(a->sink);

    if (rc != a->seen_reconnects) {
        /* Acks of records sent on the old connection may never come: send every
         * unacked record again, in order; JetStream drops the ones it already has. */
        a->seen_reconnects = rc;
        for (size_t i = 0; i < a->nslots; i++)
            if (a->slots[i].f)
                lj_follow_recover(a->slots[i].f, 0);
        lj_sink_accept_reconnects(a->sink, rc);
    }
    if (a->nats_ready || !lj_sink_connected(a->sink) || lj_time_mono_ns() < a->nats_retry_at)
        return;
    if (lj_sink_ensure(a->sink, warn, sizeof warn, err, sizeof err) != LJ_OK) {
        if (strcmp(err, last_err) != 0)
            lj_log(LJ_LOG_WARN, "JetStream not ready; retrying", "error=%s",
                   lj_log_quote(q, sizeof q, err));
        snprintf(last_err, sizeof last_err, "%s", err);
        a->nats_retry_at = lj_time_mono_ns() + NATS_RETRY_NS;
        return;
    }
    if (warn[0])
        lj_log(LJ_LOG_WARN, "existing stream settings differ; left as they are",
               "stream=%s differences=%s", a->o.stream, lj_log_quote(q, sizeof q, warn));
    /* A record must fit the server's max_payload, with room for its other fields and
     * headers; otherwise it could never be stored and would hold up its container. */
    int64_t max_payload = lj_sink_max_payload(a->sink), room = max_payload - RECORD_OVERHEAD;
    if (max_payload > 0 && a->o.max_line_bytes > room) {
        lj_log(LJ_LOG_WARN, "--max-line-bytes is more than the NATS server takes; lowered",
               "max_line_bytes=%ld max_payload=%" PRId64 " now=%" PRId64,
               a->o.max_line_bytes, max_payload, room);
        a->o.max_line_bytes = (long)room;
    }
    a->nats_ready = true;
    last_err[0] = '\0';
}

static void take_acks(struct app *a)
{
    static struct lj_ack acks[ACK_BATCH];
    size_t n;
    while ((n = lj_sink_take_acks(a->sink, acks, ACK_BATCH)) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct slot *s = slot_by_follow_id(a, acks[i].follow_id);
            if (s == NULL)
                continue;
            if (!acks[i].ok)
                lj_log(LJ_LOG_WARN, "publish refused; will retry", "container=%s line_no=%"
                       PRIu64 " error=\"%s\"", lj_follow_name(s->f), acks[i].line_no,
                       acks[i].error);
            if (acks[i].no_stream && a->nats_ready) {
                /* The stream may be gone (a server that lost its store, a deleted
                 * stream): check it, and create it again, before sending more. */
                a->nats_ready = false;
                a->nats_retry_at = 0;
            }
            lj_follow_on_ack(s->f, &acks[i]);
        }
    }
}

/* ---- timers -------------------------------------------------------------------------- */

static void finish_rename(struct app *a, struct slot *s)
{
    struct lj_docker_container c;
    char err[256], subject[LJ_SUBJECT_MAX], old[LJ_SUBJECT_MAX];
    lj_pb_record *last = NULL;
    uint64_t seq, line_no = 0;
    lj_status st;

    if (lj_follow_pending(s->f) > 0 || !a->nats_ready)
        return;
    if (lj_docker_inspect(a->docker, lj_follow_container_id(s->f), &c, err, sizeof err) != LJ_OK)
        return;
    if (lj_subject_build("logs", a->host_id, c.name, subject, sizeof subject) != LJ_OK
        || subject_busy(a, s, subject))
        goto out;
    st = lj_sink_last_record(a->sink, subject, &last, &seq, err, sizeof err);
    if (st == LJ_OK)
        line_no = last->line_no;
    lj_record_free(last);
    if (st != LJ_OK && st != LJ_NOT_FOUND)
        goto out; /* NATS trouble: try again at the next tick */
    snprintf(old, sizeof old, "%s", lj_follow_subject(s->f));
    if (lj_follow_rename(s->f, c.name, line_no) == LJ_OK) {
        s->rename_pending = false;
        lj_log(LJ_LOG_INFO, "container renamed", "from=%s to=%s", old, subject);
        if (c.running)
            start_transfer(a, s, true);
    }
out:
    lj_docker_container_finish(&c);
}

static void tick(struct app *a)
{
    int64_t now = lj_time_mono_ns();
    for (size_t i = 0; i < a->nslots; i++) {
        struct slot *s = &a->slots[i];
        if (s->f == NULL)
            continue;
        lj_follow_check_timeouts(s->f, now);
        if ((s->removed || s->drained) && lj_follow_idle(s->f)) {
            /* Removed, or stopped and read to the end: a start event brings it back,
             * positioned again from its last stored record. */
            slot_free(a, s);
            continue;
        }
        if (s->rename_pending) {
            finish_rename(a, s);
            continue;
        }
        if (!lj_follow_transferring(s->f) && !s->removed && !s->drained && s->retry_at &&
            now >= s->retry_at) {
            s->retry_at = 0;
            start_transfer(a, s, true);
        }
    }
}

static void pump_all(struct app *a)
{
    if (!a->nats_ready)
        return;
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f)
            lj_follow_pump(a->slots[i].f, a->sink);
    lj_sink_flush_sent(a->sink);
}

/* ---- HTTP ----------------------------------------------------------------------------- */

static void render_metrics(struct app *a, struct lj_buf *b)
{
    size_t in_flight = 0, queued = 0;
    char label[600];
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
    for (size_t m = 0; m < sizeof per / sizeof per[0]; m++) {
        lj_metrics_header(b, per[m].name, "counter", per[m].help);
        for (size_t i = 0; i < a->nslots; i++) {
            if (a->slots[i].f == NULL)
                continue;
            const uint8_t *st = (const uint8_t *)lj_follow_stats(a->slots[i].f);
            uint64_t v;
            memcpy(&v, st + per[m].off, sizeof v);
            snprintf(label, sizeof label, "%s/%s", a->host_id, lj_follow_name(a->slots[i].f));
            lj_metrics_u64(b, per[m].name, "container", label, v);
        }
    }
    lj_metrics_header(b, "logjet_publisher_seconds_behind", "gauge",
                      "Docker time between the newest line read and the newest line stored.");
    for (size_t i = 0; i < a->nslots; i++) {
        if (a->slots[i].f == NULL)
            continue;
        snprintf(label, sizeof label, "%s/%s", a->host_id, lj_follow_name(a->slots[i].f));
        lj_metrics_f64(b, "logjet_publisher_seconds_behind", "container", label,
                       lj_follow_lag_seconds(a->slots[i].f));
        in_flight += lj_follow_in_flight(a->slots[i].f);
        queued += lj_follow_pending(a->slots[i].f);
    }
    lj_metrics_header(b, "logjet_publisher_acks_pending", "gauge",
                      "Lines sent to JetStream and not yet acknowledged.");
    lj_metrics_u64(b, "logjet_publisher_acks_pending", NULL, NULL, in_flight);
    lj_metrics_header(b, "logjet_publisher_lines_queued", "gauge",
                      "Lines read from Docker and not yet acknowledged (sent or not).");
    lj_metrics_u64(b, "logjet_publisher_lines_queued", NULL, NULL, queued);
    lj_metrics_header(b, "logjet_publisher_containers_followed", "gauge",
                      "Containers whose logs are followed.");
    lj_metrics_u64(b, "logjet_publisher_containers_followed", NULL, NULL, followed_count(a));
    lj_metrics_header(b, "logjet_publisher_engine_reconnects_total", "counter",
                      "Times the Docker engine connection was lost and re-established.");
    lj_metrics_u64(b, "logjet_publisher_engine_reconnects_total", NULL, NULL,
                   a->engine_reconnects);
    lj_metrics_header(b, "logjet_publisher_nats_reconnects_total", "counter",
                      "Times the NATS connection was re-established.");
    lj_metrics_u64(b, "logjet_publisher_nats_reconnects_total", NULL, NULL,
                   lj_sink_reconnects(a->sink));
    lj_metrics_header(b, "logjet_publisher_up", "gauge",
                      "1 when both the Docker engine and JetStream are reachable.");
    lj_metrics_u64(b, "logjet_publisher_up", NULL, NULL,
                   a->engine_up && a->nats_ready && lj_sink_connected(a->sink));
}

static int on_http(void *ctx, const char *path, struct lj_buf *body, const char **type)
{
    struct app *a = ctx;
    if (strcmp(path, "/healthz") == 0) {
        char why[600];
        bool nats = lj_sink_healthy(a->sink, why, sizeof why) && a->nats_ready;
        lj_buf_appendf(body, "%s\nnats: %s%s\ndocker: %s\n",
                       nats && a->engine_up ? "ok" : "unavailable",
                       nats ? "connected" : "not connected: ",
                       nats ? "" : why[0] ? why : "JetStream stream or bucket not ready",
                       a->engine_up ? "connected" : "not connected");
        return nats && a->engine_up ? 200 : 503;
    }
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4; charset=utf-8";
        render_metrics(a, body);
        return 200;
    }
    lj_buf_appendf(body, "not found; try /healthz or /metrics\n");
    return 404;
}

/* ---- main loop ----------------------------------------------------------------------- */

static void wake(void *ctx)
{
    curl_multi_wakeup(ctx);
}

static void handle_done_transfers(struct app *a)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(a->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *h = m->easy_handle;
        CURLcode rc = m->data.result;
        struct slot *s;
        if (h == a->events)
            engine_lost(a, rc);
        else if ((s = slot_by_handle(a, h)) != NULL)
            on_logs_done(a, s, rc);
    }
}

static void begin_stop(struct app *a, const char *why)
{
    if (a->stopping)
        return;
    a->stopping = true;
    a->stop_deadline = lj_time_mono_ns() + SHUTDOWN_GRACE_NS;
    lj_log(LJ_LOG_INFO, "stopping: no more reading, waiting for pending acks", "signal=%s", why);
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f)
            lj_follow_stop(a->slots[i].f, a->multi);
    if (a->events) {
        curl_multi_remove_handle(a->multi, a->events);
        curl_easy_cleanup(a->events);
        a->events = NULL;
    }
}

static bool drained(const struct app *a)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f && lj_follow_pending(a->slots[i].f) > 0)
            return false;
    return true;
}

static void read_signals(struct app *a)
{
    struct signalfd_siginfo si;
    while (read(a->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        begin_stop(a, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
}

static int run(struct app *a)
{
    struct curl_waitfd fds[EXTRA_FDS];
    int running;
    for (;;) {
        unsigned n = 0;
        fds[n++] = (struct curl_waitfd){ .fd = a->sigfd, .events = CURL_WAIT_POLLIN };
        n += lj_http_fds(a->http, fds + n, EXTRA_FDS - n);
        curl_multi_poll(a->multi, fds, n, TICK_MS, NULL);
        read_signals(a);
        curl_multi_perform(a->multi, &running);
        handle_done_transfers(a);
        check_nats(a);
        take_acks(a);
        if (!a->stopping) {
            connect_engine(a);
            handle_events(a);
            tick(a);
        } else {
            int64_t now = lj_time_mono_ns();
            for (size_t i = 0; i < a->nslots; i++)
                if (a->slots[i].f)
                    lj_follow_check_timeouts(a->slots[i].f, now);
        }
        pump_all(a);
        lj_http_process(a->http);
        if (a->stopping && (drained(a) || lj_time_mono_ns() > a->stop_deadline)) {
            if (!drained(a))
                lj_log(LJ_LOG_WARN, "stopped with lines unacknowledged; they are read again "
                       "from Docker at the next start", NULL);
            return 0;
        }
    }
}

static lj_status setup(struct app *a, char *err, size_t errlen)
{
    sigset_t mask;
    char name[300];
    struct lj_sink_config sc = { .nats = &a->o.nats, .name = name, .stream = a->o.stream,
                                 .replay_depth = a->o.replay_depth, .replicas = a->o.replicas };
    lj_status st;

    snprintf(name, sizeof name, "logjet-publisher@%s", a->host_id);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    if ((a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        return lj_fail(err, errlen, LJ_IO, "signalfd: %s", strerror(errno));
    /* Local mistakes (a bad --http address, a port in use) are reported before
     * anything remote is tried, so they are not hidden behind an engine that is down. */
    if ((st = lj_http_create(&a->http, a->o.http, on_http, a, err, errlen)) != LJ_OK)
        return st;
    if ((st = lj_docker_create(&a->docker, a->o.docker_host, err, errlen)) != LJ_OK)
        return st;
    if ((st = lj_docker_ping(a->docker, err, errlen)) != LJ_OK)
        return st;
    if ((a->multi = curl_multi_init()) == NULL)
        return LJ_NOMEM;
    return lj_sink_create(&a->sink, &sc, wake, a->multi, err, errlen);
}

static void teardown(struct app *a)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (a->slots[i].f)
            slot_free(a, &a->slots[i]);
    free(a->slots);
    if (a->events) {
        curl_multi_remove_handle(a->multi, a->events);
        curl_easy_cleanup(a->events);
    }
    if (a->sink)
        lj_sink_flush(a->sink, 1000);
    lj_sink_destroy(a->sink);
    lj_http_destroy(a->http);
    if (a->multi)
        curl_multi_cleanup(a->multi);
    lj_docker_destroy(a->docker);
    lj_buf_finish(&a->events_buf);
    free(a->queue);
    if (a->has_include)
        regfree(&a->include);
    if (a->has_exclude)
        regfree(&a->exclude);
    if (a->sigfd > 0)
        close(a->sigfd);
}

int main(int argc, char **argv)
{
    static struct app a;
    enum lj_config_action action;
    char err[512], shown[512];
    int rc = 1;

    lj_natsconn_global_init();     /* first: see natsconn.h */
    if (lj_config_parse(option_table, NOPTIONS, argc, argv, &action, err, sizeof err) != LJ_OK) {
        fprintf(stderr, "logjet-publisher: %s\n", err);
        return 2;
    }
    if (action == LJ_CONFIG_HELP) {
        lj_config_usage(stdout, "logjet-publisher", summary, option_table, NOPTIONS);
        return 0;
    }
    if (action == LJ_CONFIG_VERSION) {
        printf("logjet-publisher %s\n", LJ_VERSION);
        return 0;
    }
    a.o = opts;
    a.sigfd = -1;
    lj_buf_init(&a.events_buf);
    if (check_options(&a, err, sizeof err) != LJ_OK) {
        fprintf(stderr, "logjet-publisher: %s\n", err);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (setup(&a, err, sizeof err) != LJ_OK) {
        fprintf(stderr, "logjet-publisher: %s\n", err);
    } else {
        lj_log(LJ_LOG_INFO, "logjet-publisher started", "version=%s host_id=%s nats=%s docker=%s http=%s",
               LJ_VERSION, a.host_id, lj_natsurl_redact(a.o.nats.url, shown, sizeof shown),
               a.o.docker_host, a.o.http);
        rc = run(&a);
        lj_log(rc == 0 ? LJ_LOG_INFO : LJ_LOG_WARN, "logjet-publisher stopped",
               "clean=%d", rc == 0);
    }
    teardown(&a);
    curl_global_cleanup();
    nats_CloseAndWait(2000);
    return rc == 0 ? 0 : 1;
}
