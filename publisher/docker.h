/* docker.h - the Docker Engine API over libcurl (unix socket or tcp).
 *
 * Small blocking requests (version, list, inspect) for the main thread, and configured
 * easy handles for the long-lived streams (events, logs) that the main loop drives with
 * curl_multi. The API version is pinned to what the engine reports (capped at the
 * newest this code knows, 1.41), so requests are never refused as too new.
 * Does not interpret log bytes (demux.c) or decide what to follow (main.c).
 */
#ifndef LJ_DOCKER_H
#define LJ_DOCKER_H

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "status.h"

struct lj_docker;

/* What the publisher needs to know about one container. */
struct lj_docker_container {
    char id[65];
    char name[256];       /* without Docker's leading '/' */
    char image[256];
    char state[32];       /* created, running, paused, restarting, exited, dead, removing */
    bool running;
    bool tty;
    int64_t created_ns, started_ns, finished_ns; /* 0 when unknown/never */
    int exit_code;        /* State.ExitCode of the last run (0 while running) */
    bool oom_killed;      /* State.OOMKilled of the last run */
    cJSON *labels;        /* object of strings; owned, free with lj_docker_container_finish */
};

void lj_docker_container_finish(struct lj_docker_container *c);

/* Parses host ("unix:///path" or "tcp://host:port") without contacting the engine.
 * LJ_INVAL naming the value when it is neither. */
lj_status lj_docker_create(struct lj_docker **out, const char *host, char *err,
                           size_t errlen);
void lj_docker_destroy(struct lj_docker *d);

/* GET /version: checks the engine answers and pins the API version. Blocks up to 5 s.
 * LJ_DOCKER with curl's or the engine's error in err. */
lj_status lj_docker_ping(struct lj_docker *d, char *err, size_t errlen);

/* Ids of containers (GET /containers/json; all=false: running only). *ids is malloc'd,
 * each id a 65-byte slot; caller frees *ids. */
lj_status lj_docker_list(struct lj_docker *d, bool all, char (**ids)[65], size_t *n, char *err,
                         size_t errlen);

/* GET /containers/{id}/json into out (caller finishes it). LJ_NOT_FOUND when gone. */
lj_status lj_docker_inspect(struct lj_docker *d, const char *id,
                            struct lj_docker_container *out, char *err, size_t errlen);

/* An easy handle for a streaming GET of path (after the version prefix, e.g.
 * "/containers/ID/logs?..."), delivering body bytes to write(ctx) and with no overall
 * timeout. The caller adds it to a multi handle and cleans it up. NULL on no memory. */
CURL *lj_docker_stream(struct lj_docker *d, const char *path, curl_write_callback write,
                       void *ctx);

/* The engine address as given (for logs). */
const char *lj_docker_host(const struct lj_docker *d);

#endif
