/* feed.h - everything the gateway reads from NATS, handed to the service thread.
 *
 * Three sources, all ending as struct lj_feed_event in one locked FIFO:
 *  - live lines: core subscriptions on live.logs.<host>.<container> (nats.c's
 *    delivery thread decodes the record and encodes its JSON before queueing it);
 *  - fetches: the fetcher thread reads a range of one subject from JetStream with a
 *    short-lived ordered consumer (replay fill, gap fill, catch-up after reconnect);
 *  - the registry: the registry thread watches the LOGJET_CONTAINERS bucket.
 * Each push wakes the service thread through the `wake` callback, at most once until
 * the service thread takes the queue (an atomic flag gates it).
 * The feed never touches sessions, rings or lws.
 *
 * Four files: feed.c (life, inbox, connection callbacks, counters), live.c (live
 * subscriptions), fetcher.c (the fetcher thread), registry.c (the registry thread and
 * the connection it owns); feedint.h holds what they share.
 */
#ifndef LJ_FEED_H
#define LJ_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "natsconn.h"
#include "record.h"
#include "status.h"

enum lj_feed_kind {
    LJ_FEED_LIVE,          /* subject, last_seq, lines[0] */
    LJ_FEED_FETCHED,       /* subject, lines[0..nlines) in seq order, end_seq asked */
    LJ_FEED_FETCH_FAILED,  /* subject */
    LJ_FEED_SOUGHT,        /* subject, since_ns asked, first_seq, oldest_seq (lj_feed_seek) */
    LJ_FEED_REGISTRY_PUT,  /* subject = KV key "<host>.<container>" (encoded), info */
    LJ_FEED_REGISTRY_DEL,  /* subject = KV key */
    LJ_FEED_REGISTRY_SYNCED, /* every entry the bucket held when the watch began came
                                before this (also when there is no bucket yet) */
    LJ_FEED_CONNECTED,     /* (re)connected to NATS */
};

struct lj_feed_event {
    enum lj_feed_kind kind;
    struct lj_feed_event *next;
    char *subject;             /* owned: "logs.<h>.<c>" or the KV key */
    uint64_t last_seq;         /* LIVE: Nats-Last-Sequence; FETCHED: the end asked for */
    struct lj_line **lines;    /* owned array; one reference each */
    size_t nlines;
    lj_pb_container *info;     /* owned */
    int64_t since_ns;          /* SOUGHT: the time asked */
    uint64_t first_seq;        /* SOUGHT: first stored at or after it (0: none, or failed) */
    uint64_t oldest_seq;       /* SOUGHT: the subject's oldest stored (0: none, or failed) */
};

struct lj_feed_config {
    const struct lj_natsconn_options *nats; /* server(s), credentials, TLS; outlive the feed */
    const char *name;          /* connection name the server shows: logjet-gateway@<hostname> */
    const char *stream;        /* "LOGS" */
    void (*wake)(void *arg);   /* called from any thread; must be cheap and thread-safe */
    void *wake_arg;
};

struct lj_feed;

/* Starts connecting (natsconn's connector retries in the background while NATS is not
 * up or refuses us) and starts the fetcher and registry threads. On LJ_OK *out belongs to the caller. Main thread. */
lj_status lj_feed_create(const struct lj_feed_config *cfg, struct lj_feed **out,
                         char *err, size_t errlen);

/* Stops the threads, closes the connection, waits until nats.c's threads have exited
 * (so no callback runs afterwards) and frees pending events. That wait closes the NATS
 * library, so there is one feed per process and no NATS use after this. Every handle
 * from lj_feed_subscribe must be released first; otherwise the wait gives up after
 * a few seconds and the feed is leaked rather than freed under a running callback.
 * Main thread; blocks up to a fetch timeout plus that wait. NULL is fine. */
void lj_feed_destroy(struct lj_feed *f);

/* Subscribes to the live subject of js_subject ("logs.<h>.<c>"). *handle identifies
 * it for lj_feed_unsubscribe, which must come before lj_feed_destroy. Thread-safe;
 * does not block on the network. */
lj_status lj_feed_subscribe(struct lj_feed *f, const char *js_subject, void **handle);
void lj_feed_unsubscribe(void *handle);   /* NULL is fine */

/* Asks the fetcher for the stored lines of js_subject with start <= seq <= end
 * (start 0 = from the oldest, end 0 = up to the newest). The answer comes back as a
 * FETCHED or FETCH_FAILED event. Thread-safe, never blocks. */
lj_status lj_feed_fetch(struct lj_feed *f, const char *js_subject, uint64_t start, uint64_t end);

/* Asks the fetcher where js_subject's lines stored at or after since_ns (Unix ns) begin:
 * a JetStream consumer with DeliverByStartTime (the stream's own store time, which is
 * Docker's time plus the trip to NATS), and the subject's oldest stored line. The
 * answer comes back as a SOUGHT event (its seqs 0 when the read failed, or when there
 * is no such line). Thread-safe, never blocks. */
lj_status lj_feed_seek(struct lj_feed *f, const char *js_subject, int64_t since_ns);

/* Takes every queued event, oldest first (NULL when none); the caller frees each with
 * lj_feed_event_free. Service thread. */
struct lj_feed_event *lj_feed_take(struct lj_feed *f);
void lj_feed_event_free(struct lj_feed_event *e);

/* Wakes the service thread again through the same atomic-gated door the producers
 * use (at most one wake in flight), for a consumer that left work for a later pass.
 * Service thread; never blocks on the feed's lock. */
void lj_feed_rewake(struct lj_feed *f);

bool lj_feed_connected(const struct lj_feed *f);

/* true when connected and nothing is wrong; otherwise false with the reason (no
 * secrets) in why: the last connection failure, or a recent permission violation.
 * Any thread. */
bool lj_feed_healthy(const struct lj_feed *f, char *why, size_t whylen);

/* Counters for /metrics. */
uint64_t lj_feed_consumers_created(const struct lj_feed *f);
uint64_t lj_feed_fetch_errors(const struct lj_feed *f);
uint64_t lj_feed_reconnects(const struct lj_feed *f);

#endif
