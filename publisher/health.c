/* health.c - /healthz and /metrics of the publisher (health.h). */
#include "health.h"

#include <string.h>

#include "metrics.h"

static void render_metrics(const struct lj_health_view *v, struct lj_buf *b)
{
    const struct { const char *name, *type, *help; uint64_t v; } g[] = {
        { "logjet_publisher_engine_reconnects_total", "counter",
          "Times the Docker engine connection was lost and re-established.", v->engine_reconnects },
        { "logjet_publisher_nats_reconnects_total", "counter",
          "Times the NATS connection was re-established.", lj_sink_reconnects(v->sink) },
        { "logjet_publisher_up", "gauge", "1 when both the Docker engine and JetStream are reachable.",
          v->env->engine_up && v->env->nats_ready && lj_sink_connected(v->sink) },
    };
    lj_table_render_metrics(v->table, b);
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        lj_metrics_header(b, g[i].name, g[i].type, g[i].help);
        lj_metrics_u64(b, g[i].name, NULL, NULL, g[i].v);
    }
}

int lj_health_answer(const struct lj_health_view *v, const char *path, struct lj_buf *body,
                     const char **type)
{
    if (strcmp(path, "/healthz") == 0) {
        char why[600];
        bool nats = lj_sink_healthy(v->sink, why, sizeof why) && v->env->nats_ready;
        bool engine = v->env->engine_up;
        lj_buf_appendf(body, "%s\nnats: %s%s\ndocker: %s\n", nats && engine ? "ok" : "unavailable",
                       nats ? "connected" : "not connected: ",
                       nats ? "" : why[0] ? why : "JetStream stream or bucket not ready",
                       engine ? "connected" : "not connected");
        return nats && engine ? 200 : 503;
    }
    if (strcmp(path, "/metrics") == 0) {
        *type = "text/plain; version=0.0.4; charset=utf-8";
        render_metrics(v, body);
        return 200;
    }
    lj_buf_appendf(body, "not found; try /healthz or /metrics\n");
    return 404;
}
