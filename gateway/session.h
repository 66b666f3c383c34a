/* session.h - one browser connection: its subscriptions, its cursors into the
 * watched containers' logs, and its few queued messages.
 *
 * A session never talks to lws: the server feeds it received frames
 * (lj_session_receive) and asks it for the next frame to send
 * (lj_session_next_frame). Service thread only.
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
#include "ring.h"
#include "status.h"

#define LJ_SESSION_SUBS_MAX 64
#define LJ_SESSION_ERRORS_MAX 20      /* control errors before the session is closed */

struct lj_hub;
struct lj_watch;
struct lj_session;

/* One subscribe request. Owned by its session. */
struct lj_sub {
    struct lj_session *session;
    unsigned levels, streams;  /* masks, 0 = all */
    struct lj_grep *grep;      /* owned; NULL = no grep */
    char *id_json;             /* owned: the id as a JSON string with quotes */
    char id[LJ_CONTROL_ID_MAX + 1];
    char pattern[LJ_CONTROL_CONTAINER_MAX + 1];
    bool glob;
    bool waiting;              /* on the hub's list of subs waiting for the registry */
    uint32_t replay;
    uint64_t after_seq, after_line_no;
    int64_t since_ns;          /* a time jump: lines with Docker ts >= it (0 = none) */
    struct lj_tap **taps;      /* owned array of owned taps */
    size_t ntaps;
    struct lj_sub *glob_next, *glob_prev;   /* hub's list of glob subs */
};

/* One sub on one container. Owned by its sub; linked into its watch. The cursor
 * fields are only read and moved by session.c (lj_tap_serve, lj_tap_drop, frames);
 * the hub reads `cursor` to know which lines a tap still needs.
 * Invariants: once live, tail of ring <= cursor <= head for an exact tap (the hub
 * shows it every line before evicting it); an unfiltered tap's cursor may fall behind
 * the tail, and the distance is what it lost. replay_end <= head. */
struct lj_tap {
    struct lj_sub *sub;
    const struct lj_ring *ring;   /* the watch's log; set when served */
    uint64_t cursor;           /* absolute index of the next line to consider */
    uint64_t replay_end;       /* lines below it are the replay; `replayed` at it */
    uint64_t min_seq;          /* live lines with seq <= it are skipped (a resume from
                                  a seq this gateway has not seen yet) */
    uint64_t replayed_seq;     /* the seq `replayed` announces */
    uint64_t wanted_at;        /* cursor + 1 when the line at cursor is known to pass
                                  the filters (0: not checked) */
    uint64_t hole_at;          /* cursor + 1 once the line_no hole before the line at
                                  cursor was announced (or is not ours to announce) */
    bool live;                 /* served: the cursor is valid */
    bool replay_pending;       /* `replayed` not sent yet */
    bool from_start;           /* found by a glob after subscribing: replay all */
    bool exact;                /* lj_sub_exact: on the watch's exact list (lj_tap_drop) */
    struct lj_line *pin;       /* ref: named by the gap just sent, goes out next */
    char *pre_msg;             /* owned: expired gap to send before the first line */
    uint64_t sent_seq;         /* seq of the last line sent (a gap's after_seq) */
    uint64_t dropped;          /* lines lost to slowness, not yet announced */
    uint64_t drop_last_seq;    /* seq of the newest of them (an orphan gap's next_seq - 1) */
    struct lj_grep_run *run;   /* owned: a grep match suspended on the line at index
                                  run_at - 1 (its session's budget ran out) */
    uint64_t run_at;
    bool preparing;            /* the hub is still looking for the replay's first line
                                  (a filtered replay, scanned back in budgeted slices):
                                  live, but nothing to send until it is found */
    uint64_t scan;             /* preparing: lines [scan, replay_end) are scanned */
    uint32_t scan_got;         /* preparing: how many of them pass the filters */
    struct lj_tap *pnext;      /* hub's list of preparing taps */
    bool seeking;              /* since: waiting for JetStream's answer (lj_feed_seek) */
    uint64_t seek_first;       /* since: first seq stored at or after it (0: none) */
    uint64_t seek_oldest;      /* since: the container's oldest stored seq (0: none) */
    struct lj_watch *watch;    /* hub's; NULL once detached */
    struct lj_tap *wnext, *wprev;   /* watch's tap list */
    struct lj_tap *xnext, *xprev;   /* watch's exact list (exact taps only) */
};

struct lj_session_limits {
    size_t max_queue;          /* bytes a container's log keeps for a lagging client
                                  (per watch, default 4 MiB) */
    size_t max_frame;          /* bytes of one lines frame before closing it (64 KiB) */
    uint32_t depth;            /* replay bound */
};

/* An owned whole message waiting to be sent. */
struct lj_item {
    char *msg;                 /* owned frame payload */
    size_t len;
};

/* Grep steps (grep.h) a session may spend before the next service pass: what one
 * client's filters cost the service thread between two chances of every other client
 * to be written (about 1-3 ms here). */
#define LJ_SESSION_GREP_BUDGET 131072

struct lj_session {
    bool closing;              /* no more frames; close requested */
    bool starved;              /* on the hub's starved list: spent its grep budget */
    uint64_t grep_budget;      /* steps left until the hub refills it (next pass) */
    struct lj_session *starved_next;
    double watch_tokens;       /* watches this client may still create (hub.h bucket) */
    int64_t watch_refill_ns;   /* mono time the bucket was last refilled */
    bool dirty;                /* on the hub's wake list */
    bool idle;                 /* the last next_frame found nothing to send */
    struct lj_hub *hub;
    void *wsi;                 /* the server's handle; NULL once the connection closed */
    struct lj_session *dirty_next;
    int64_t progress_ns;       /* mono time of the last frame, or of leaving idle */
    int64_t asked_ns;          /* mono time the hub asked for a writable callback (0: none
                                  outstanding), for the wait metric */
    int64_t again_ns;          /* mono time a written frame left more to send (0: none) */
    struct lj_tap *gap_tap;    /* its pin must open the next frame */
    struct lj_item *q;         /* queued messages, circular, qcap slots (0 or a power of
                                  two), qlen used from qhead */
    size_t qcap, qhead, qlen;
    size_t qbytes;             /* bytes of queued messages */
    size_t rr;                 /* next sub to serve (round robin) */
    struct lj_session_limits lim;
    const struct lj_grant *grant;
    struct lj_sub *subs[LJ_SESSION_SUBS_MAX];
    size_t nsubs;
    int errors;                /* control errors so far */
    struct lj_session *next, *prev;
    struct lj_buf rx;          /* control frame being reassembled */
    bool rx_too_big;
};

/* Creates a session for an authorised connection and queues `hello`. On LJ_OK *out
 * is owned by the hub's session list (see lj_hub_session_add). */
lj_status lj_session_create(struct lj_hub *hub, void *wsi, const struct lj_grant *grant,
                            const struct lj_session_limits *lim, struct lj_session **out);

/* Frees the session: detaches its taps, drops its messages. Never call it from a
 * callback of the session's own connection; the hub calls it on the next loop turn. */
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

/* Starts tap on ring r (its watch's log): the replay or resume is [from, head) of r,
 * then `replayed` with replayed_seq, then live lines with seq > min_seq. Wakes the
 * session through the hub. from must lie in the ring's window or at its head.
 * Whenever the tap reaches a line whose line_no is more than one past the line before
 * it in the ring (lines JetStream no longer had when the gateway fetched them), an
 * `expired` gap with the exact count goes out first; hole_first says whether that
 * holds for the line at from too (a resume right after its after_seq line), or only
 * from the next one on (a replay does not report what lies before its first line). */
void lj_tap_serve(struct lj_tap *tap, const struct lj_ring *r, uint64_t from, uint64_t min_seq,
                  uint64_t replayed_seq, bool hole_first);

/* A preparing tap (served at the ring's head, tap->preparing set by the hub) found its
 * replay: the cursor moves back to from (when lower; it must lie in the window) and
 * the session is woken. */
void lj_tap_prepared(struct lj_tap *tap, uint64_t from);

/* The hub is about to evict the line at index `cursor` of an exact tap that has not
 * passed it: counts it as lost when the tap's filters pass it, or when the session's
 * grep budget is spent before the grep decided (then `lost` is an upper bound: a
 * filter that cannot keep up with its container never holds up the service thread),
 * and moves on. */
void lj_tap_drop(struct lj_tap *tap);

/* true when the tap has something to send (skipping filtered-out lines on the way). */
bool lj_tap_pending(struct lj_tap *tap);

/* Sets the `gap` (reason "expired") tap sends before its first line. */
void lj_session_gap_expired(struct lj_tap *tap, uint64_t after_seq, uint64_t next_seq,
                            uint64_t lost);

/* Whether the tap's filters let line (at ring index i) through: LJ_GREP_YES or
 * LJ_GREP_NO, or LJ_GREP_MORE when the session's grep budget ran out before the grep
 * decided (the match is suspended in the tap and goes on from where it stopped when
 * called again for the same i; the session is put on the hub's starved list, which
 * refills the budget on the next service pass). */
enum lj_grep_result lj_tap_check(struct lj_tap *tap, uint64_t i, const struct lj_line *line);

/* true when the sub has level, stream or grep filters, a time (since), or resumes (after_seq): its taps
 * must see every line before it is evicted to count losses exactly. */
bool lj_sub_exact(const struct lj_sub *sub);

/* Bytes this session's cursors and messages still have to send (unfiltered upper
 * bound, for /metrics). */
uint64_t lj_session_backlog(const struct lj_session *s);

/* Gives back an empty message queue's storage when it is large (a burst's) and the
 * session has been idle (no frame) for idle_ns. Called from the hub's tick. */
#define LJ_SESSION_QUEUE_KEEP 16
void lj_session_trim(struct lj_session *s, int64_t now, int64_t idle_ns);

/* Queues an owned message (len bytes of msg, taken over even on failure). */
void lj_session_push_msg(struct lj_session *s, char *msg, size_t len);

#endif
