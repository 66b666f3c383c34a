/* main.c - logjet-publisher: follows the logs of every container on one Docker host and
 * publishes each line as a logjet.v1.LogRecord to JetStream, subject
 * logs.<host>.<container>, nothing lost or doubled across restarts of anything.
 * Here: options, set-up, the main loop (engine and NATS connections, signals) and
 * teardown. Not here: the event stream (events.c), the follow table, starting
 * positions and what events and transfers mean for them (table.c), which containers
 * (selection.c), parsing bytes (demux.c), levels (level.c), JetStream (sink.c), the
 * registry's entries (registry.c), the health and metrics pages (health.c).
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
 * paused, so the engine's log file holds the backlog.
 *
 * Start-up and every reconnect to the engine follow the ordered argument in engine.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "docker.h"
#include "engine.h"
#include "events.h"
#include "follow.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "natsconn.h"
#include "natsurl.h"
#include "selection.h"
#include "sink.h"
#include "table.h"
#include "timeutil.h"

#define TICK_MS 100
#define NATS_RETRY_NS (1000LL * 1000000)
#define RECORD_OVERHEAD 4096     /* a record's bytes besides its line, and its headers */
#define SHUTDOWN_GRACE_NS (10LL * 1000000000)
#define EXTRA_FDS (LJ_HTTP_MAX_CLIENTS + 2)

struct options {
    struct lj_natsconn_options nats;
    const char *docker_host, *host_id, *stream, *http, *include, *exclude;
    const char *log_level;
    long replay_depth, replicas, max_line_bytes, ack_timeout_ms, backfill_max, backfill_at_once;
    bool opt_in, backfill_stopped;
};

struct app {
    struct options o;
    char host_id[256];
    struct lj_http *http;
    int sigfd;
    struct lj_selection sel;
    struct lj_table table;
    struct lj_events events;
    struct lj_table_env env;  /* the handles above as the table sees them, and the flags */
    int64_t nats_retry_at;
    uint64_t seen_reconnects;
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
    { "backfill-stopped", LJ_OPT_BOOL, NULL, "true", "publish the last --replay-depth lines of "
      "stopped containers never stored (=false: only containers seen running)",
      &opts.backfill_stopped, 0, 0 },
    { "backfill-max", LJ_OPT_INT, "N", "200", "backfill only the N most recently finished",
      &opts.backfill_max, 0, 1000000 },
    { "backfill-at-once", LJ_OPT_INT, "N", "4", "backfill reads N logs at a time at most",
      &opts.backfill_at_once, 1, 1000 },
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
    return lj_selection_init(&a->sel, a->o.include, a->o.exclude, a->o.opt_in, err, errlen);
}

/* ---- NATS --------------------------------------------------------------------------- */

static void check_nats(struct app *a)
{
    static char last_err[256];     /* a failure repeated every retry is logged once */
    char warn[512], err[256], q[600];
    uint64_t rc;

    if (lj_sink_poll(a->env.sink))
        a->env.nats_ready = false; /* a new connection: stream and bucket again */
    rc = lj_sink_reconnects(a->env.sink);

    if (rc != a->seen_reconnects) {
        /* Acks of records sent on the old connection may never come: send every
         * unacked record again, in order; JetStream drops the ones it already has. */
        a->seen_reconnects = rc;
        lj_table_recover_all(&a->table);
        lj_sink_accept_reconnects(a->env.sink, rc);
    }
    if (a->env.nats_ready || !lj_sink_connected(a->env.sink) || lj_time_mono_ns() < a->nats_retry_at)
        return;
    if (lj_sink_ensure(a->env.sink, warn, sizeof warn, err, sizeof err) != LJ_OK) {
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
    int64_t max_payload = lj_sink_max_payload(a->env.sink), room = max_payload - RECORD_OVERHEAD;
    if (max_payload > 0 && a->o.max_line_bytes > room) {
        lj_log(LJ_LOG_WARN, "--max-line-bytes is more than the NATS server takes; lowered",
               "max_line_bytes=%ld max_payload=%" PRId64 " now=%" PRId64,
               a->o.max_line_bytes, max_payload, room);
        a->o.max_line_bytes = (long)room;
        a->table.cfg.max_line_bytes = (size_t)room;
    }
    a->env.nats_ready = true;
    last_err[0] = '\0';
}


/* ---- HTTP ----------------------------------------------------------------------------- */

static int on_http(void *ctx, const char *path, struct lj_buf *body, const char **type)
{
    struct app *a = ctx;
    const struct lj_health_view v = { &a->table, a->env.sink, &a->env, a->events.reconnects };
    return lj_health_answer(&v, path, body, type);
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
    while ((m = curl_multi_info_read(a->env.multi, &left)) != NULL) {
        struct lj_table_slot *s;
        if (m->msg != CURLMSG_DONE)
            continue;
        if (m->easy_handle == a->events.handle)
            lj_engine_lost(&a->events, &a->table, &a->env, m->data.result);
        else if ((s = lj_table_by_handle(&a->table, m->easy_handle)) != NULL)
            lj_table_transfer_done(&a->table, &a->env, s, m->data.result);
    }
}

static void begin_stop(struct app *a, const char *why)
{
    if (a->env.stopping)
        return;
    a->env.stopping = true;
    a->stop_deadline = lj_time_mono_ns() + SHUTDOWN_GRACE_NS;
    lj_log(LJ_LOG_INFO, "stopping: no more reading, waiting for pending acks", "signal=%s", why);
    lj_table_stop_all(&a->table, a->env.multi);
    lj_events_lost(&a->events, a->env.multi, lj_time_mono_ns());
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
        curl_multi_poll(a->env.multi, fds, n, TICK_MS, NULL);
        read_signals(a);
        curl_multi_perform(a->env.multi, &running);
        handle_done_transfers(a);
        check_nats(a);
        lj_table_take_acks(&a->table, &a->env);
        if (!a->env.stopping) {
            lj_engine_connect(&a->events, &a->table, &a->env);
            lj_engine_dispatch(&a->events, &a->table, &a->env);
            lj_table_tick(&a->table, &a->env);
        } else {
            lj_table_check_timeouts(&a->table);
        }
        lj_table_pump(&a->table, &a->env);
        lj_sink_flush_sent(a->env.sink);
        lj_http_process(a->http);
        if (a->env.stopping && (lj_table_drained(&a->table) || lj_time_mono_ns() > a->stop_deadline)) {
            if (!lj_table_drained(&a->table))
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
    if ((st = lj_docker_create(&a->env.docker, a->o.docker_host, err, errlen)) != LJ_OK)
        return st;
    if ((st = lj_docker_ping(a->env.docker, err, errlen)) != LJ_OK)
        return st;
    if ((a->env.multi = curl_multi_init()) == NULL)
        return LJ_NOMEM;
    return lj_sink_create(&a->env.sink, &sc, wake, a->env.multi, err, errlen);
}

static void teardown(struct app *a)
{
    if (a->env.multi) {
        lj_table_finish(&a->table, a->env.multi);
        lj_events_finish(&a->events, a->env.multi);
    }
    if (a->env.sink)
        lj_sink_flush(a->env.sink, 1000);
    lj_sink_destroy(a->env.sink);
    lj_http_destroy(a->http);
    if (a->env.multi)
        curl_multi_cleanup(a->env.multi);
    lj_docker_destroy(a->env.docker);
    lj_selection_finish(&a->sel);
    if (a->sigfd >= 0)
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
    a.env.sel = &a.sel;
    lj_events_init(&a.events);
    if (check_options(&a, err, sizeof err) != LJ_OK) {
        fprintf(stderr, "logjet-publisher: %s\n", err);
        lj_events_finish(&a.events, NULL);
        return 2;
    }
    lj_table_init(&a.table, &(struct lj_follow_config){
        .host = a.host_id, .max_line_bytes = (size_t)a.o.max_line_bytes,
        .ack_timeout_ns = a.o.ack_timeout_ms * 1000000LL });
    if (a.o.backfill_stopped)
        a.table.backfill = (struct lj_table_backfill){ (size_t)a.o.backfill_max,
            (size_t)a.o.backfill_at_once, (size_t)a.o.replay_depth };
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
