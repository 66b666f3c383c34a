/* table.h - the follow table: one slot per followed container, holding its follow
 * (follow.h) and what the main loop must remember about it between transfers.
 *
 * Slots are reused after their follow is destroyed; a follow id is
 * (generation << 32 | slot index), so a late ack for an old follow finds nothing.
 * Positions: a follow begins where the subject's last stored record says its streams
 * stand (lj_table_position), or, with no record of this container, where the engine
 * says this container's current run began (lj_table_first_since).
 *
 * The table also decides what the engine's facts mean for the follows: an event
 * (lj_table_on_event), a listing (lj_table_sync), a finished transfer
 * (lj_table_transfer_done) and the timers (lj_table_tick). Those block on small engine
 * and JetStream requests and log what an operator needs; they run on the main thread
 * after curl_multi_perform, never inside a curl callback.
 *
 * Main thread only. Does not read the event stream (events.c), decide what to follow
 * (selection.c) or publish (sink.c, follow.c).
 */
#ifndef LJ_TABLE_H
#define LJ_TABLE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "docker.h"
#include "follow.h"
#include "events.h"
#include "record.h"
#include "selection.h"
#include "sink.h"

/* How long a transfer, a JetStream read or a registry write that failed waits before it
 * is tried again. */
#define LJ_TABLE_RETRY_NS (1000LL * 1000000)

struct lj_table_slot {
    struct lj_follow *f;      /* NULL when the slot is free */
    uint32_t gen;             /* bumped at every reuse */
    bool positioned;          /* cursor recovered from JetStream */
    bool drained;             /* a transfer ended with the container stopped */
    bool restart;             /* a start event came while a transfer still ran */
    bool removed;             /* destroyed: free once idle */
    bool rename_pending;      /* renamed: re-point once the FIFO drains */
    bool unreadable;          /* the engine cannot read its log: never transferred */
    bool backfill;            /* a stopped container never stored: its log is read to
                                 its end holding the newest lines (lj_follow_hold) */
    char reason[256];         /* ... and Docker's reason, for the registry */
    int64_t since_ns;         /* where to begin without a stored record of this container */
    int64_t retry_at;         /* monotonic ns before which no transfer is started */
};

/* Backfill of stopped containers (lj_table_sync): which are read, and how many at once.
 * All zero: none. */
struct lj_table_backfill {
    size_t max;               /* only the max most recently finished stopped containers */
    size_t at_once;           /* reads of their logs running at the same time, at most */
    size_t depth;             /* lines published of each: the newest depth */
};

/* A registry entry not written (NATS away, the write failed): the tick writes it again
 * from the engine's state of the container then. */
struct lj_table_unwritten {
    char id[65];
    char name[256];
    bool removed;             /* the entry must say removed (if it still lists id) */
};

/* Invariant: slots[0..n) exist; a free slot has f == NULL. */
struct lj_table {
    struct lj_table_slot *slots;
    size_t n;
    struct lj_table_unwritten *unwritten; /* nunwritten of cap, one per id and name */
    size_t nunwritten, unwritten_cap;
    int64_t unwritten_at;     /* monotonic ns of the next try */
    struct lj_follow_config cfg; /* for every new follow; host is borrowed */
    struct lj_table_backfill backfill; /* set by the caller after lj_table_init */
};

void lj_table_init(struct lj_table *t, const struct lj_follow_config *cfg);
/* Stops (from multi) and destroys every follow, frees the slots. */
void lj_table_finish(struct lj_table *t, CURLM *multi);

/* A new slot following container c from since_ns when its subject holds no record of
 * it. NULL on no memory or a name that cannot form a subject. */
struct lj_table_slot *lj_table_add(struct lj_table *t, const struct lj_docker_container *c,
                                   int64_t since_ns);
/* Stops the slot's transfer, destroys its follow; the slot becomes free. */
void lj_table_remove(struct lj_table *t, struct lj_table_slot *s, CURLM *multi);

struct lj_table_slot *lj_table_by_follow_id(struct lj_table *t, uint64_t follow_id);
struct lj_table_slot *lj_table_by_container(struct lj_table *t, const char *id);
struct lj_table_slot *lj_table_by_handle(struct lj_table *t, CURL *h);
/* Followed containers: slots in use, not removed, with a readable log. */
size_t lj_table_followed(const struct lj_table *t);
/* True when every follow's FIFO is empty. */
bool lj_table_drained(const struct lj_table *t);

/* Appends the follows' Prometheus series: per container (lines, bytes, retries,
 * errors, skipped, truncated, seconds behind, labelled "<host>/<name>"), then the
 * totals of lines unacked and queued, and the count followed. */
void lj_table_render_metrics(const struct lj_table *t, struct lj_buf *b);

/* True when a follow other than s still has unstored lines for subject (a removed or
 * renamed container whose name a new one took): s must not read the subject's last
 * line_no before they are stored, or both would number lines from the same place. */
bool lj_table_subject_busy(const struct lj_table *t, const struct lj_table_slot *s,
                           const char *subject);

/* Where container c's lines begin when its subject holds no record of it: its
 * creation, so every line the engine holds of it is taken. Never StartedAt (Docker
 * stamps a fast container's first lines up to a few ms before it) nor FinishedAt (the
 * engine sets it while it starts a new container, after its first lines). Pure. */
int64_t lj_table_first_since(const struct lj_docker_container *c);

/* Where a follow of container_id stands given the subject's last stored record (NULL:
 * none) and the registry entry's renamed_from (NULL: none): *line_no the subject's last
 * line_no, pos[stdout, stderr] each stream's position from the newer of the two that
 * is this container's, *same whether there is one (else only line_no carries over and
 * pos is untouched). Pure. */
void lj_table_position_from(const struct lj_record *last, const struct lj_record *renamed_from,
                            const char *container_id, uint64_t *line_no,
                            struct lj_follow_pos pos[2], bool *same);

/* Positions s's follow from the subject's last stored record (blocking JetStream
 * request). LJ_OK and s->positioned, or the sink's error in err (retry later). */
lj_status lj_table_position(struct lj_table *t, struct lj_table_slot *s, struct lj_sink *sink,
                            char *err, size_t errlen);

/* Re-points s (renamed, FIFO empty) at name's subject, continuing its line_no.
 * LJ_AGAIN while another follow still holds lines for that subject or s's FIFO is not
 * empty; the sink's error otherwise. */
lj_status lj_table_rename(struct lj_table *t, struct lj_table_slot *s, const char *name,
                          struct lj_sink *sink, char *err, size_t errlen);

/* What the table's drivers need of the publisher; main.c owns it and its flags. */
struct lj_table_env {
    struct lj_docker *docker;
    struct lj_sink *sink;
    CURLM *multi;
    const struct lj_selection *sel;
    bool engine_up;       /* subscribed to /events and listed: transfers may start */
    bool nats_ready;      /* the stream and bucket exist: records and registry writes go */
    bool stopping;        /* shutting down: nothing new is started */
};

/* True when the selection (labels, --include/--exclude) wants c. */
bool lj_table_selected(const struct lj_table_env *env, const struct lj_docker_container *c);

/* Acts on one engine event: start follows c (if selected), die and rename update the
 * registry (a rename re-points the follow once its FIFO is stored), destroy marks the
 * follow removed. Inspects the container (blocking). */
void lj_table_on_event(struct lj_table *t, struct lj_table_env *env,
                       const struct lj_docker_event *e);

/* Lists every container (all=1) and follows each running one, and each stopped one
 * that is followed already or whose subject's last record is its own; a followed
 * container no longer listed is marked removed. A stopped one never stored is
 * backfilled when it is among the backfill.max most recently finished stopped ones
 * (those with records included, so the set is the same after a restart): entered in
 * the registry at once, its log read (backfill.at_once at a time, by the tick) to its
 * end and its newest backfill.depth lines published, numbered from its first line.
 * A restart in the middle finds the lines published so far as its own and goes on
 * from there like any stopped container. The engine's error in err. */
lj_status lj_table_sync(struct lj_table *t, struct lj_table_env *env, char *err, size_t errlen);

/* The transfer of s ended with rc: read again (restarted, or a final read of a stopped
 * container), retry later, or mark the log unreadable (reported once, never retried). */
void lj_table_transfer_done(struct lj_table *t, struct lj_table_env *env,
                            struct lj_table_slot *s, CURLcode rc);

/* Once per loop turn: ack timeouts, freeing drained or removed slots, pending renames,
 * transfers due for a retry, registry entries not yet written. */
void lj_table_tick(struct lj_table *t, struct lj_table_env *env);

/* The engine went away: every transfer is stopped and due again once it is back. */
void lj_table_engine_lost(struct lj_table *t, struct lj_table_env *env);

/* Hands every ack the sink has queued to its follow (acks of destroyed follows are
 * dropped); an ack saying the stream is gone clears env->nats_ready. */
void lj_table_take_acks(struct lj_table *t, struct lj_table_env *env);
/* After a NATS reconnect: every follow resends what is unacked, in order. */
void lj_table_recover_all(struct lj_table *t);
/* Ack timeouts of every follow (the tick does this too; this is for shutdown). */
void lj_table_check_timeouts(struct lj_table *t);
/* Publishes what every follow may send now, while env->nats_ready. */
void lj_table_pump(struct lj_table *t, struct lj_table_env *env);

/* Stops every transfer (shutdown); FIFOs are kept to drain. */
void lj_table_stop_all(struct lj_table *t, CURLM *multi);

#endif
