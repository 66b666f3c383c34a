/* session.h - one browser connection: its subscriptions, its cursors into the
 * watched containers' logs, and its few queued messages.
 *
 * A session never talks to lws: the server feeds it received frames
 * (lj_session_receive) and asks it for the next frame to send
 * (lj_session_next_frame). Nor does it know the hub: it reaches the fan-out only
 * through the lj_session_ops given at creation. Service thread only.
 *
 * Fan-out by cursor: a line is never copied or queued per session. Each watched
 * container's lines sit once in its watch's ring (ring.h, absolute indexes); each tap
 * (one subscription on one container) holds a cursor, the index of the next line it
 * has not considered. The hub appends a line once and wakes the sessions of the
 * watch's taps; lj_session_next_frame then reads the lines from the cursors, applies
 * the tap's filters and advances. What a tap owes its client is therefore:
 *
 *   pre_msg            an `expired` gap of a resume, before anything else
 *   pin                the line a slow_client gap just named as next_seq
 *   [cursor, head)     lines of the ring, filtered; those below replay_end are the
 *                      replay (or resume), then `replayed` (replay_pending), then live
 *   dropped            lines lost to slowness, announced by a gap before the next one
 *
 * Slow clients: the hub keeps lines older than the window for a lagging cursor only
 * while the ring's bytes stay under max_queue (per watch). When it evicts a line a
 * cursor has not passed, that tap loses it: for an unfiltered tap the count is the
 * index distance (counted lazily, when the cursor is next read); a tap with filters
 * (the hub's "exact" list) is shown each such line as it goes (lj_tap_drop) and counts
 * only those its filters pass. Either way the `gap` carries the exact number.
 *
 * Outgoing frames (gateway -> client, JSON text, one per call of next_frame):
 *
 *  type      | carries                                   | built by
 *  ----------|-------------------------------------------|-------------------------
 *  hello     | version, depth, limits                    | lj_session_create (queued)
 *  lines     | id, lines[] (shared line objects, 1..n)   | next_frame, from the cursors
 *            |                                           | of one sub, merged by seq
 *  replayed  | id, seq                                   | next_frame, at replay_end
 *  gap       | id, container, after_seq, next_seq, lost, | next_frame (slow_client),
 *            | reason                                    | lj_session_gap_expired
 *  event     | id, container, event, ts, ...             | events.c (queued)
 *  retention | id, container, since, first_ts, first_seq | events.c (queued), for since
 *  error     | id, code, message                         | receive (queued)
 *  containers| containers[]                              | receive (op list, queued)
 *
 * Order: queued messages go first; then subscriptions take turns (one frame each).
 * Per tap: pre_msg, replay lines, `replayed`, live lines, and a slow_client gap is
 * followed directly by a lines frame that starts with the line it named.
 */
#ifndef LJ_SESSION_H
#define LJ_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "control.h"
#include "grep.h"
#include "line.h"
#include "fifo.h"
#include "ring.h"
#include "status.h"
#include "tap.h"

#define LJ_SESSION_SUBS_MAX 64
#define LJ_SESSION_ERRORS_MAX 20      /* control errors before the session is closed */

struct lj_stats;
struct lj_watch;
struct lj_session;

/* An owned whole message waiting to be sent. */
struct lj_item {
    char *msg;                 /* owned frame payload */
    size_t len;
};

/* What a session needs of the fan-out, given at creation (join.c fills it in from
 * the hub): the session never names the hub. Service thread only. */
struct lj_session_ops {
    lj_status (*subscribe)(void *ctx, struct lj_sub *sub);  /* attach sub's taps */
    void (*unsubscribe)(void *ctx, struct lj_sub *sub);     /* detach them */
    void (*list)(void *ctx, const struct lj_grant *grant, struct lj_buf *out); /* containers */
    void (*wake)(void *ctx, struct lj_session *s);          /* s has something to send */
    void (*starved)(void *ctx, struct lj_session *s);       /* s spent its grep budget */
    void *ctx;
    uint32_t depth;                                         /* replay bound */
    struct lj_stats *stats;                                 /* the counters it writes into */
};

/* Grep steps (grep.h) a session may spend before the next service pass: what one
 * client's filters cost the service thread between two chances of every other client
 * to be written (about 1-3 ms here). */
#define LJ_SESSION_GREP_BUDGET 131072

struct lj_session {
    bool closing;              /* no more frames; close requested */
    bool starved;              /* on the sessions' starved list: spent its grep budget */
    uint64_t grep_budget;      /* steps left until the hub refills it (next pass) */
    struct lj_session *starved_next;
    bool dirty;                /* on the sessions' wake list */
    bool idle;                 /* the last next_frame found nothing to send */
    struct lj_session_ops ops; /* the fan-out, as given at creation */
    struct lj_stats *stats;    /* the counters it writes into (the hub's, not owned) */
    struct lj_tap_owner owner; /* its subs' taps reach it through this (tap.h) */
    void *wsi;                 /* the server's handle; NULL once the connection closed */
    struct lj_session *dirty_next;
    int64_t progress_ns;       /* mono time of the last frame, or of leaving idle */
    int64_t asked_ns;          /* mono time the hub asked for a writable callback (0: none
                                  outstanding), for the wait metric */
    int64_t again_ns;          /* mono time a written frame left more to send (0: none) */
    struct lj_tap *gap_tap;    /* its pin must open the next frame */
    struct lj_fifo q;          /* queued messages (struct lj_item), oldest first */
    size_t qbytes;             /* bytes of queued messages */
    size_t rr;                 /* next sub to serve (round robin) */
    struct lj_control_limits lim;
    const struct lj_grant *grant;
    struct lj_sub *subs[LJ_SESSION_SUBS_MAX];
    size_t nsubs;
    int errors;                /* control errors so far */
    struct lj_session *next, *prev;
    struct lj_buf rx;          /* control frame being reassembled */
    bool rx_too_big;
};

/* Creates a session for an authorised connection and queues `hello`; ops is copied.
 * Only the server's session list calls it (lj_sessions_open), and owns *out. */
lj_status lj_session_create(const struct lj_session_ops *ops, void *wsi,
                            const struct lj_grant *grant, const struct lj_control_limits *lim,
                            struct lj_session **out);

/* Frees the session: detaches its taps, drops its messages. Never call it from a
 * callback of the session's own connection; the server's list calls it on the next
 * tick (lj_sessions_reap). */
void lj_session_destroy(struct lj_session *s);

/* Feeds a received text fragment; final marks the end of the message. Handles the
 * control message (subscribe, unsubscribe, list) and queues any answer. Returns
 * LJ_OK, or LJ_LIMIT when the session made too many mistakes, or has more than
 * max_queue bytes of unread answers, and must be closed. */
lj_status lj_session_receive(struct lj_session *s, const char *data, size_t len, bool final);

/* Builds the next frame into out (after `pre` reserved bytes, for LWS_PRE) and
 * returns true, or false when there is nothing to send (the session is then idle).
 * Exactly one frame per call. Advances cursors; never blocks. */
bool lj_session_next_frame(struct lj_session *s, struct lj_buf *out, size_t pre);

/* true when next_frame would produce a frame. Skips lines no filter lets through on
 * the way (O(taps) plus the lines skipped). */
/* false also marks the session idle: its stall clock restarts when it next gets
 * something to send (lj_hub_mark_dirty). */
bool lj_session_pending(struct lj_session *s);

/* Bytes this session's cursors and messages still have to send (unfiltered upper
 * bound, for /metrics). */
uint64_t lj_session_backlog(const struct lj_session *s);

/* Gives back an empty message queue's storage when it is large (a burst's) and the
 * session has been idle (no frame) for idle_ns. Called from the server's tick
 * (lj_sessions_tick). */
#define LJ_SESSION_QUEUE_KEEP 16
void lj_session_trim(struct lj_session *s, int64_t now, int64_t idle_ns);

/* Queues an owned message (len bytes of msg, taken over even on failure). */
void lj_session_push_msg(struct lj_session *s, char *msg, size_t len);

#endif
