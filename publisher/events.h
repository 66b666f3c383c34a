/* events.h - the engine's event stream: GET /events?since=...&filters=... as one
 * long transfer in the main loop's curl multi, split into lines here and decoded by
 * docker.c into a queue that the main loop drains after curl_multi_perform; its
 * state (down, opening, subscribed), the reconnect backoff, and when the containers
 * must be listed again (after every subscription, since an outage loses events).
 *
 * Wire format: one JSON object per line, "\n"-terminated, chunked over HTTP/1.1:
 *   {"status":"start","id":"<64 hex>","Type":"container","Action":"start",
 *    "Actor":{"ID":"<64 hex>","Attributes":{"name":"web","oldName":"/old",...}},
 *    "scope":"local","time":1764620000,"timeNano":1764620000123456789}
 * Lines longer than LJ_EVENTS_LINE_MAX are cut (and then skipped as malformed).
 *
 * Does not act on events (main.c), decide what to follow (selection.c) or hold the
 * follows (table.c). Main thread only; the parser is pure and may be fed any bytes.
 */
#ifndef LJ_EVENTS_H
#define LJ_EVENTS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "docker.h"
#include "status.h"

#define LJ_EVENTS_LINE_MAX (1u << 20)
#define LJ_EVENTS_BACKOFF_MIN_MS 250
#define LJ_EVENTS_BACKOFF_MAX_MS 10000
#define LJ_EVENTS_OPEN_TIMEOUT_NS (5LL * 1000000000) /* no answer to /events: retry */

/* Bytes to events. Invariant: line holds the bytes after the last '\n' (at most
 * LJ_EVENTS_LINE_MAX of them); queue[0..n) are decoded, not yet taken. */
struct lj_events_parser {
    struct lj_buf line;
    struct lj_docker_event *queue;
    size_t n, cap;
    uint64_t skipped;      /* lines that were not a container event */
    bool dropped;          /* an event was lost to memory: the caller re-lists */
};

void lj_events_parser_init(struct lj_events_parser *p);
void lj_events_parser_finish(struct lj_events_parser *p);
/* Feeds len bytes (any split, any content); complete lines become events. */
void lj_events_parser_feed(struct lj_events_parser *p, const char *data, size_t len);
/* Forgets a partial line (a new transfer begins); queued events stay. */
void lj_events_parser_reset_line(struct lj_events_parser *p);

enum lj_events_state {
    LJ_EVENTS_DOWN,        /* no transfer; lj_events_due says when to try */
    LJ_EVENTS_OPENING,     /* request made, the engine has not answered yet */
    LJ_EVENTS_SUBSCRIBED,  /* the engine answered 200: every later event reaches us */
};

struct lj_events {
    struct lj_events_parser parser;
    CURL *handle;          /* the transfer, NULL when DOWN */
    enum lj_events_state state;
    int64_t opened_at;     /* monotonic ns of the request */
    int64_t retry_at;      /* monotonic ns before which no new attempt is made */
    int backoff_ms;        /* 0 after a success, else 250 .. 10000 */
    uint64_t reconnects;   /* subscriptions lost after they were up */
};

void lj_events_init(struct lj_events *e);
/* Removes the transfer from multi, frees everything. */
void lj_events_finish(struct lj_events *e, CURLM *multi);

/* True when DOWN and the backoff has passed. */
bool lj_events_due(const struct lj_events *e, int64_t now_mono);

/* Requests /events of container start, die, destroy and rename events from since_ns
 * (the engine's clock, inclusive: the engine replays what its 256-event ring holds
 * from there) and adds the transfer to multi: state OPENING. LJ_NOMEM on failure
 * (state stays DOWN; call lj_events_failed). */
lj_status lj_events_open(struct lj_events *e, struct lj_docker *docker, CURLM *multi,
                         int64_t since_ns, int64_t now_mono);

/* An attempt to reach the engine failed: the next waits twice as long (250 ms up to
 * 10 s). Returns that wait in ms. */
int lj_events_failed(struct lj_events *e, int64_t now_mono);

/* The transfer ended (the engine went away, or the stream broke) or stalled in
 * OPENING: it is removed from multi, state DOWN, the next attempt in 250 ms. Counts a
 * reconnect when it had been subscribed. */
void lj_events_lost(struct lj_events *e, CURLM *multi, int64_t now_mono);

/* True when an OPENING request has had no answer for LJ_EVENTS_OPEN_TIMEOUT_NS. */
bool lj_events_stalled(const struct lj_events *e, int64_t now_mono);

/* The decoded events queued so far; *n set. Valid until lj_events_clear. */
const struct lj_docker_event *lj_events_queued(const struct lj_events *e, size_t *n);
void lj_events_clear(struct lj_events *e);

#endif
