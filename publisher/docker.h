/* docker.h - the Docker Engine API over libcurl (unix socket or tcp).
 *
 * Small blocking requests (version, list, inspect) for the main thread, and configured
 * easy handles for the long-lived streams (events, logs) that the main loop drives with
 * curl_multi. The API version is pinned to what the engine reports (capped at the
 * newest this code knows, 1.41), so requests are never refused as too new.
 * It is the only file that sees cJSON: containers, labels and events leave it as plain
 * structs. Does not interpret log bytes (demux.c), split the event stream into lines
 * (events.c) or decide what to follow (selection.c, main.c).
 */
#ifndef LJ_DOCKER_H
#define LJ_DOCKER_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "status.h"

struct lj_docker;

/* One container label; both strings NUL-terminated. */
struct lj_docker_label {
    char *key, *value;
};

/* What the publisher needs to know about one container. */
struct lj_docker_container {
    char id[65];
    char name[256];       /* without Docker's leading '/' */
    char image[256];
    char state[32];       /* created, running, paused, restarting, exited, dead, removing */
    char log_driver[64];  /* HostConfig.LogConfig.Type: json-file, local, none, syslog, ... */
    bool running;
    bool tty;
    int64_t created_ns, started_ns, finished_ns; /* 0 when unknown/never */
    int exit_code;        /* State.ExitCode of the last run (0 while running) */
    bool oom_killed;      /* State.OOMKilled of the last run */
    /* Config.Labels in the engine's order; owned (array and strings), freed by
     * lj_docker_container_finish. NULL when nlabels is 0. */
    struct lj_docker_label *labels;
    size_t nlabels;
};

/* Frees c's labels; c may be finished twice, or zeroed and finished. */
void lj_docker_container_finish(struct lj_docker_container *c);

/* One line of GET /events, decoded: a container event the publisher acts on. */
struct lj_docker_event {
    char action[16];      /* start, die, destroy, rename (cut at 15 bytes) */
    char id[65];          /* the container's 64-hex id */
    char name[256];       /* Attributes.name ("" when absent) */
    char old_name[256];   /* Attributes.oldName without its '/' (rename only) */
    int64_t time_ns;      /* timeNano; 0 when absent */
};

/* Decodes one /events line (a JSON object, no newline) into out. LJ_PROTO when it is
 * not JSON or not a container event with an Action and a 64-character Actor.ID (such
 * lines are skipped by the caller). Pure: no I/O, no allocation kept. */
lj_status lj_docker_event_parse(const char *line, size_t len, struct lj_docker_event *out);

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

/* The engine's own clock (GET /info, SystemTime) in Unix ns: where a /events
 * subscription's since= must come from, since the publisher's clock may differ from
 * the engine's (tcp://, a VM, no NTP). Blocks up to 5 s. */
lj_status lj_docker_clock(struct lj_docker *d, int64_t *unix_ns, char *err, size_t errlen);

/* Whether the engine can read container id's log: GET /containers/{id}/logs with
 * tail=0. LJ_OK when it can; LJ_UNSUPPORTED with Docker's own reason in reason (the
 * 501 answer of a logging driver such as none or syslog: "configured logging driver
 * does not support reading"); LJ_NOT_FOUND when the container is gone; LJ_DOCKER
 * otherwise. Blocks up to 5 s. */
lj_status lj_docker_logs_readable(struct lj_docker *d, const char *id, char *reason,
                                  size_t reasonlen);

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
