/* table.h - the follow table: one slot per followed container, holding its follow
 * (follow.h) and what the main loop must remember about it between transfers.
 *
 * Slots are reused after their follow is destroyed; a follow id is
 * (generation << 32 | slot index), so a late ack for an old follow finds nothing.
 * Positions: a follow begins where the subject's last stored record says its streams
 * stand (lj_table_position), or, with no record of this container, where the engine
 * says this container's current run began (lj_table_first_since).
 *
 * Main thread only. Does not talk to the engine (docker.c) or decide what to follow
 * (selection.c); lj_table_position reads JetStream through the sink.
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
#include "record.h"
#include "sink.h"

struct lj_table_slot {
    struct lj_follow *f;      /* NULL when the slot is free */
    uint32_t gen;             /* bumped at every reuse */
    bool positioned;          /* cursor recovered from JetStream */
    bool drained;             /* a transfer ended with the container stopped */
    bool restart;             /* a start event came while a transfer still ran */
    bool removed;             /* destroyed: free once idle */
    bool rename_pending;      /* renamed: re-point once the FIFO drains */
    bool unreadable;          /* the engine cannot read its log: never transferred */
    char reason[256];         /* ... and Docker's reason, for the registry */
    int64_t since_ns;         /* where to begin without a stored record of this container */
    int64_t retry_at;         /* monotonic ns before which no transfer is started */
};

/* Invariant: slots[0..n) exist; a free slot has f == NULL. */
struct lj_table {
    struct lj_table_slot *slots;
    size_t n;
    struct lj_follow_config cfg; /* for every new follow; host is borrowed */
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

/* Appends the per-container Prometheus series (lines, bytes, retries, errors,
 * skipped, truncated, seconds behind) labelled "<host>/<name>", and adds the lines
 * sent but unacked and the lines queued to *in_flight and *queued. */
void lj_table_render_metrics(const struct lj_table *t, struct lj_buf *b, size_t *in_flight,
                             size_t *queued);

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
 * none): *line_no the last line_no, pos[stdout, stderr] each stream's position, *same
 * whether the record is this container's (else only line_no carries over and pos is
 * untouched). Pure. */
void lj_table_position_from(const struct lj_record *last, const char *container_id,
                            uint64_t *line_no, struct lj_follow_pos pos[2], bool *same);

/* Positions s's follow from the subject's last stored record (blocking JetStream
 * request). LJ_OK and s->positioned, or the sink's error in err (retry later). */
lj_status lj_table_position(struct lj_table *t, struct lj_table_slot *s, struct lj_sink *sink,
                            char *err, size_t errlen);

/* Re-points s (renamed, FIFO empty) at name's subject, continuing its line_no.
 * LJ_AGAIN while another follow still holds lines for that subject or s's FIFO is not
 * empty; the sink's error otherwise. */
lj_status lj_table_rename(struct lj_table *t, struct lj_table_slot *s, const char *name,
                          struct lj_sink *sink, char *err, size_t errlen);

#endif
