/* source.h - logjet-tail's side of NATS: the connection, the one live subscription,
 * JetStream reads of history and gap fills, and the registry watch.
 *
 * Threads: nats.c's own (reader, flusher, connection callbacks), natsconn's connector
 * (common/natsconn.h: it and the callbacks log a one-line notice on stderr when the
 * connection is lost or back), and "registry", which watches the
 * LOGJET_CONTAINERS bucket and queues its entries for the main thread. Live lines are
 * NOT handed over by a callback: the subscription is synchronous and the main thread
 * pulls from it (lj_source_next), so nats.c's pending limits bound the memory of lines
 * waiting to be printed; a line dropped there is noticed from Nats-Last-Sequence and
 * read back from JetStream. Everything else here is called from the main thread.
 * Does not decide what is selected, printed or merged.
 */
#ifndef LJ_SOURCE_H
#define LJ_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "natsconn.h"
#include "record.h"
#include "status.h"

struct lj_source;

struct lj_source_config {
    const struct lj_natsconn_options *nats;   /* the --nats-* options */
    const char *name;               /* connection name the server shows */
    const char *stream;             /* "LOGS" */
    const char *live_subject;       /* "live.logs.>" or "live.logs.<host>.>" */
    int pending_msgs;               /* live lines nats.c may hold before dropping */
    int pending_bytes;
};

/* Connects through common/natsconn (failing within seconds, naming the server and the
 * cause, when the first attempt fails: a user at a terminal wants to know) and starts
 * the registry thread; nats.c reconnects afterwards. */
lj_status lj_source_create(const struct lj_source_config *cfg, struct lj_source **out,
                           char *err, size_t errlen);
/* Closes everything; NULL is fine. Blocks up to a few seconds for nats.c's threads. */
void lj_source_destroy(struct lj_source *s);

/* Subscribes to the live subject and waits until the server has it (flush), so every
 * line stored after this returns reaches lj_source_next. */
lj_status lj_source_live_start(struct lj_source *s, char *err, size_t errlen);

/* The stream's last sequence now (0 when empty). */
lj_status lj_source_last_seq(struct lj_source *s, uint64_t *seq, char *err, size_t errlen);

/* Calls fn for every subject of the stream under filter ("logs.>") that holds lines. */
lj_status lj_source_subjects(struct lj_source *s, const char *filter,
                             void (*fn)(void *arg, const char *subject), void *arg,
                             char *err, size_t errlen);

/* One live line: subject without "live.", its stream sequence and the previous
 * sequence of the same subject (Nats-Last-Sequence; 0 for the subject's first). */
struct lj_source_msg {
    const char *subject;
    uint64_t seq, last_seq;
    const uint8_t *data;
    size_t len;
    void *handle;
};

/* Waits up to timeout_ms (>= 1) for a live line. LJ_OK with *m filled (free it with
 * lj_source_msg_free), LJ_TIMEOUT, or LJ_CLOSED. */
lj_status lj_source_next(struct lj_source *s, int timeout_ms, struct lj_source_msg *m);
void lj_source_msg_free(struct lj_source_msg *m);
/* Live lines nats.c dropped because the main thread fell behind (they are refilled). */
int64_t lj_source_dropped(struct lj_source *s);

/* Reads stored lines of subject in stream order, from sequence from_seq (>= 1) or, when
 * from_ns > 0, from the first line stored at or after that time, up to and including
 * upto_seq (stops earlier when nothing more is stored). fn gets each one and returns
 * false to stop. Blocks; LJ_NATS naming the subject on failure. */
lj_status lj_source_read(struct lj_source *s, const char *subject, uint64_t from_seq,
                         int64_t from_ns, uint64_t upto_seq,
                         bool (*fn)(void *arg, uint64_t seq, const uint8_t *data, size_t len),
                         void *arg, char *err, size_t errlen);

/* Like lj_source_read from from_seq, one direct get per line (the stream allows direct
 * gets): slower than a consumer for many lines, but it never pushes more at a client
 * than it asked for, so it works where a burst just cut the connection (a slow
 * consumer); used to read back lines missed live. */
lj_status lj_source_read_direct(struct lj_source *s, const char *subject, uint64_t from_seq,
                                uint64_t upto_seq,
                                bool (*fn)(void *arg, uint64_t seq, const uint8_t *data, size_t len),
                                void *arg, char *err, size_t errlen);

/* A registry change: key "<host>.<container>" (tokens), info NULL for a delete. */
struct lj_source_entry {
    struct lj_source_entry *next;
    char *key;
    lj_pb_container *info;
    bool initial;                   /* part of the bucket's contents at start */
};

/* Waits up to timeout_ms for the registry's initial contents; false on timeout (no
 * bucket yet, or NATS slow): the watch goes on regardless. */
bool lj_source_registry_wait(struct lj_source *s, int timeout_ms);
/* Every queued registry change, oldest first; the caller frees each with
 * lj_source_entry_free. NULL when none. Cheap when none (one atomic load). */
struct lj_source_entry *lj_source_registry_take(struct lj_source *s);
void lj_source_entry_free(struct lj_source_entry *e);

#endif
