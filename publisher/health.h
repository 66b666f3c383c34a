/* health.h - the publisher's /healthz and /metrics answers, from a view of its state.
 *
 * Pure formatting of what the main loop knows: it reads the table, the sink and the
 * flags it is given and writes the body; it opens nothing and changes nothing. Main
 * thread (the HTTP server's handler runs there). Does not serve HTTP (http.c).
 */
#ifndef LJ_HEALTH_H
#define LJ_HEALTH_H

#include <stdint.h>

#include "buf.h"
#include "sink.h"
#include "table.h"

struct lj_health_view {
    const struct lj_table *table;
    struct lj_sink *sink;
    const struct lj_table_env *env;  /* engine_up and nats_ready */
    uint64_t engine_reconnects;
};

/* The answer to GET path: the status code, the body in body and, when not plain text,
 * its content type in *type. /healthz is 200 only while both the engine and JetStream
 * are reachable (503 says which is not); /metrics is Prometheus text; else 404. */
int lj_health_answer(const struct lj_health_view *v, const char *path, struct lj_buf *body,
                     const char **type);

#endif
