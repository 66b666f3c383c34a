/* sink.h - the publisher's NATS side: connection, stream and bucket set-up, pipelined
 * JetStream publishing with acknowledgements handed back to the main thread, and
 * reading a subject's last stored record.
 *
 * Publishing is JetStream's request/reply done by hand rather than with nats.c's
 * js_PublishMsgAsync: each message carries a reply subject
 *     <inbox>.<follow_id>.<line_no>.<attempt>
 * and one wildcard subscription on <inbox>.> receives the acks. That keeps every
 * decision (timeouts, retries, ordering) in the main thread, where the follow that owns
 * the line lives, and needs none of nats.c's async-publish state, which in 3.4.1 can
 * crash when destroyed with messages in flight.
 *
 * Threads: lj_sink_publish, _ensure_*, _last_record, _kv_* and _take_acks are for the
 * main thread only. The ack subscription and connection callbacks run on nats.c's
 * threads: they only append to a locked queue / bump atomics and call the wake function
 * (which must be thread-safe, e.g. curl_multi_wakeup).
 */
#ifndef LJ_SINK_H
#define LJ_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ack.h"
#include "natsconn.h"
#include "record.h"
#include "status.h"

struct lj_sink;

struct lj_sink_config {
    const struct lj_natsconn_options *nats; /* server(s), credentials, TLS; must outlive the sink */
    const char *name;       /* connection name the server shows: logjet-publisher@<host-id> */
    const char *stream;     /* "LOGS" */
    long replay_depth;      /* MaxMsgsPerSubject */
    long replicas;          /* stream and bucket replicas */
};

typedef void (*lj_sink_wake_fn)(void *ctx);

/* Starts connecting (in the background, through natsconn: it returns before the server
 * answers). wake(ctx) is called from other threads whenever acks, a new connection or
 * connection changes are waiting. On failure (bad URL, unreadable credentials, no
 * memory) returns an error naming the option in err. *out is owned by the caller:
 * lj_sink_destroy. */
lj_status lj_sink_create(struct lj_sink **out, const struct lj_sink_config *cfg,
                         lj_sink_wake_fn wake, void *ctx, char *err, size_t errlen);

/* Closes the connection (after a bounded flush) and frees everything. Accepts NULL.
 * Must not be called with the wake function's target already freed. */
void lj_sink_destroy(struct lj_sink *s);

/* Attaches a connection the connector has made (ack inbox, JetStream context) and hands
 * back one nats.c gave up. Returns true when a new connection was attached: stream and
 * bucket must then be ensured again (lj_sink_ensure). A new connection after a lost one
 * counts as a reconnection (lj_sink_reconnects). Main thread, once per loop turn. */
bool lj_sink_poll(struct lj_sink *s);

/* true when connected and nothing is wrong; otherwise false with the reason (no
 * secrets) in why: the last connection failure, or a recent permission violation.
 * Any thread. */
bool lj_sink_healthy(struct lj_sink *s, char *why, size_t whylen);

/* Connected right now (any thread). */
bool lj_sink_connected(struct lj_sink *s);

/* Number of completed reconnections so far (any thread). A change means every message
 * whose ack had not arrived may have been lost in the old connection. */
uint64_t lj_sink_reconnects(struct lj_sink *s);

/* Tells the sink that the caller has rewound every follow for reconnection count n
 * (lj_sink_reconnects): until then lj_sink_publish refuses, so that no new line is
 * sent on a new connection ahead of the resends of older unacked ones. Main thread. */
void lj_sink_accept_reconnects(struct lj_sink *s, uint64_t n);

/* The largest message the connected server accepts (its max_payload); 0 when not
 * connected. */
int64_t lj_sink_max_payload(struct lj_sink *s);

/* Creates stream and registry bucket when missing; leaves existing ones alone and, when
 * the stream's settings differ from ours, fills warn (size warnlen) with what differs.
 * Blocks for up to a few seconds. LJ_NATS when NATS refused or is not reachable. */
lj_status lj_sink_ensure(struct lj_sink *s, char *warn, size_t warnlen, char *err,
                         size_t errlen);

/* Queues one record in the connection's write buffer without waiting: it leaves with
 * the next lj_sink_flush_sent (or, at the latest, with nats.c's flusher about 1 ms
 * later). The ack arrives later through lj_sink_take_acks. LJ_CLOSED when not
 * connected, reconnecting, or reconnected since the last lj_sink_accept_reconnects
 * (nothing was sent); LJ_NATS on other failures. */
lj_status lj_sink_publish(struct lj_sink *s, const char *subject, const char *msg_id,
                          const uint8_t *data, size_t len, uint64_t follow_id,
                          uint64_t line_no, uint32_t attempt);

/* Moves up to max pending acks into out, oldest first; returns how many. */
size_t lj_sink_take_acks(struct lj_sink *s, struct lj_ack *out, size_t max);

/* The last stored record of subject: LJ_OK with *out (caller frees with
 * lj_record_free) and *seq, LJ_NOT_FOUND when the subject holds none, LJ_NATS or
 * LJ_PROTO otherwise. Blocks for one request (about a millisecond). */
lj_status lj_sink_last_record(struct lj_sink *s, const char *subject, lj_pb_record **out,
                              uint64_t *seq, char *err, size_t errlen);

/* The stream's subjects matching filter (e.g. "logs.<host>.>") that hold messages:
 * *subjects (n strings) freed with lj_sink_subjects_free. Blocks for one request. */
lj_status lj_sink_subjects(struct lj_sink *s, const char *filter, char ***subjects, size_t *n,
                           char *err, size_t errlen);
void lj_sink_subjects_free(char **subjects, size_t n);

/* Stores value under key in the registry bucket. Blocks for one request. */
lj_status lj_sink_kv_put(struct lj_sink *s, const char *key, const uint8_t *value,
                         size_t len, char *err, size_t errlen);

/* The value under key in the registry bucket: LJ_OK with *value (caller frees) and
 * *len, LJ_NOT_FOUND when the key holds nothing (or was deleted), LJ_NATS otherwise.
 * Blocks for one request. */
lj_status lj_sink_kv_get(struct lj_sink *s, const char *key, uint8_t **value, size_t *len,
                         char *err, size_t errlen);

/* Writes everything lj_sink_publish queued since the last call in one socket write,
 * then waits at most 1 ms for the server's PONG (nats.c's only flush is a PING). Call it
 * once per round of publishing, before the main loop sleeps: one write per round
 * instead of one per line, and no line waits for a timer. Main thread. */
void lj_sink_flush_sent(struct lj_sink *s);

/* Forces out anything buffered, waiting at most timeout_ms for the server. */
void lj_sink_flush(struct lj_sink *s, int timeout_ms);

#endif
