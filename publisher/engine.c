/* engine.c - the Docker engine connection in the main loop (engine.h). */
#include "engine.h"

#include "log.h"
#include "timeutil.h"

void lj_engine_connect(struct lj_events *ev, struct lj_table *t, struct lj_table_env *env)
{
    char err[256], q[300];
    int64_t now = lj_time_mono_ns(), t0 = 0;
    if (env->engine_up || !env->nats_ready)
        return;
    if (ev->state == LJ_EVENTS_SUBSCRIBED) {
        env->engine_up = true;
        if (lj_table_sync(t, env, err, sizeof err) != LJ_OK)
            lj_log(LJ_LOG_WARN, "listing containers failed", "error=%s",
                   lj_log_quote(q, sizeof q, err));
        lj_log(LJ_LOG_INFO, "Docker engine connected", "host=%s containers_followed=%zu",
               lj_docker_host(env->docker), lj_table_followed(t));
    } else if (lj_events_stalled(ev, now)) {
        lj_events_lost(ev, env->multi, now);
        lj_log(LJ_LOG_WARN, "Docker engine did not answer /events; retrying", "host=%s",
               lj_docker_host(env->docker));
    } else if (lj_events_due(ev, now)) {
        err[0] = '\0';
        if (lj_docker_ping(env->docker, err, sizeof err) != LJ_OK ||
            lj_docker_clock(env->docker, &t0, err, sizeof err) != LJ_OK ||
            lj_events_open(ev, env->docker, env->multi, t0, now) != LJ_OK) {
            int ms = lj_events_failed(ev, now);
            lj_log(LJ_LOG_WARN, "Docker engine not reachable; retrying", "host=%s error=%s retry_ms=%d",
                   lj_docker_host(env->docker), lj_log_quote(q, sizeof q, err), ms);
        }
    }
}

void lj_engine_dispatch(struct lj_events *ev, struct lj_table *t, struct lj_table_env *env)
{
    size_t n;
    const struct lj_docker_event *e = lj_events_queued(ev, &n);
    for (size_t i = 0; i < n; i++)
        lj_table_on_event(t, env, &e[i]);
    lj_events_clear(ev);
}

void lj_engine_lost(struct lj_events *ev, struct lj_table *t, struct lj_table_env *env,
                    CURLcode rc)
{
    bool was_up = env->engine_up;
    lj_events_lost(ev, env->multi, lj_time_mono_ns());
    env->engine_up = false;
    if (env->stopping)
        return;
    /* Transfers restart from their cursors once the engine is back, after a re-list
     * (the event ring is lost too). */
    lj_table_engine_lost(t, env);
    lj_log(LJ_LOG_WARN, was_up ? "lost the Docker engine; reconnecting"
                               : "Docker engine refused /events; retrying",
           "host=%s error=\"%s\"", lj_docker_host(env->docker), curl_easy_strerror(rc));
}
