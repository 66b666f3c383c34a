/* session.h - one browser connection: its subscriptions and its outgoing queue.
 *
 * A session never talks to lws: the server feeds it received frames
 * (lj_session_receive) and asks it for the next frame to send
 * (lj_session_next_frame); the hub pushes lines into it. Service thread only.
 *
 * Outgoing frames (gateway -> client, JSON text, one per writable callback):
 *
 *  type      | carries                                   | built by
 *  ----------|-------------------------------------------|-------------------------
 *  hello     | version, depth, limits                    | lj_session_create
 *  lines     | id, lines[] (shared line objects, 1..n)   | next_frame, batched per sub
 *  replayed  | id, seq                                   | lj_session_replayed
 *  gap       | id, container, after_seq, next_seq, lost, | next_frame (slow_client),
 *            | reason                                    | lj_session_gap (expired)
 *  error     | id, code, message                         | receive
 *  containers| containers[]                              | receive (op list)
 *
 * Queue bound: line bytes queued are kept under max_queue; past it the oldest queued
 * lines are dropped and counted per tap, and a `gap` with reason slow_client and the
 * exact count precedes that tap's next line. Messages (replayed, gap, error, ...) are
 * never dropped.
 */
#ifndef LJ_SESSION_H
#define LJ_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "control.h"
#include "line.h"
#include "status.h"

#define LJ_SESSION_SUBS_MAX 64
#define LJ_SESSION_ERRORS_MAX 20      /* control errors before the session is closed */

struct lj_hub;
struct lj_watch;
struct lj_session;

/* One subscribe request. Owned by its session. */
struct lj_sub {
    /* read per line by fan-out (lj_tap_wants, lj_session_push_line): kept together */
    struct lj_session *session;
    unsigned levels, streams;  /* masks, 0 = all */
    struct lj_grep *grep;      /* owned; NULL = no grep */
    char *id_json;             /* owned: the id as a JSON string with quotes */
    char id[LJ_CONTROL_ID_MAX + 1];
    char pattern[LJ_CONTROL_CONTAINER_MAX + 1];
    bool glob;
    uint32_t replay;
    uint64_t after_seq, after_line_no;
    struct lj_tap **taps;      /* owned array of owned taps */
    size_t ntaps;
    struct lj_sub *glob_next, *glob_prev;   /* hub's list of glob subs */
};

/* One sub on one container. Owned by its sub; linked into its watch. */
struct lj_tap {
    struct lj_sub *sub;
    struct lj_watch *watch;    /* hub's; NULL once detached */
    bool live;                 /* replay served; new lines flow */
    bool from_start;           /* found by a glob after subscribing: replay all */
    uint64_t last_seq;         /* highest seq queued or skipped: live lines <= it ignored */
    uint64_t sent_seq;         /* highest seq written to the client (gap after_seq) */
    uint64_t dropped;          /* lines dropped for slowness since sent_seq */
    uint64_t drop_last_seq;    /* seq of the newest dropped line */
    struct lj_tap *wnext, *wprev;   /* watch's tap list */
};

struct lj_session_limits {
    size_t max_queue;          /* bytes of queued lines (default 4 MiB) */
    size_t max_frame;          /* bytes of one lines frame before closing it (64 KiB) */
    uint32_t depth;            /* replay bound */
};

/* An outgoing item: a shared line of a tap, or an owned whole message. */
struct lj_item {
    struct lj_line *line;      /* ref held; NULL for a message or a dropped slot */
    struct lj_tap *tap;
    char *msg;                 /* owned frame payload */
    uint32_t len;
};

/* Field order matters: fan-out touches every session once per line, so the fields
 * lj_session_push_line reads and writes come first, in one or two adjacent cache
 * lines; the 64 sub pointers and the rest follow. */
struct lj_session {
    struct lj_item *q;         /* circular queue, qcap slots (0 or a power of two, so
                                  indexes wrap with a mask), qlen used from qhead; the
                                  storage stays when it empties (lj_session_trim) */
    size_t qcap, qhead, qlen;
    size_t qbytes;             /* bytes of queued lines and messages */
    bool closing;              /* no more frames; close requested */
    bool dirty;                /* on the hub's wake list */
    struct lj_hub *hub;
    void *wsi;                 /* the server's handle; NULL once the connection closed */
    struct lj_session_limits lim;
    struct lj_session *dirty_next;
    int64_t progress_ns;       /* mono time of the last write or of the queue filling */
    size_t drop_cursor;        /* items before it (from qhead) are messages, dropped, or the
                                  one line a just-sent gap named as next_seq */
    const struct lj_grant *grant;
    struct lj_sub *subs[LJ_SESSION_SUBS_MAX];
    size_t nsubs;
    int errors;                /* control errors so far */
    uint64_t gaps_pending;     /* taps with dropped > 0 */
    struct lj_session *next, *prev;
    struct lj_buf rx;          /* control frame being reassembled */
    bool rx_too_big;
};

/* Creates a session for an authorised connection and queues `hello`. On LJ_OK *out
 * is owned by the hub's session list (see lj_hub_session_add). */
lj_status lj_session_create(struct lj_hub *hub, void *wsi, const struct lj_grant *grant,
                            const struct lj_session_limits *lim, struct lj_session **out);

/* Frees the session: detaches its taps, drops its queue. Never call it from a
 * callback of the session's own connection; the hub calls it on the next loop turn. */
void lj_session_destroy(struct lj_session *s);

/* Feeds a received text fragment; final marks the end of the message. Handles the
 * control message (subscribe, unsubscribe, list) and queues any answer. Returns
 * LJ_OK, or LJ_LIMIT when the session made too many mistakes and must be closed. */
lj_status lj_session_receive(struct lj_session *s, const char *data, size_t len, bool final);

/* Builds the next frame into out (after `pre` reserved bytes, for LWS_PRE) and
 * returns true, or false when nothing is queued. Exactly one frame per call. */
bool lj_session_next_frame(struct lj_session *s, struct lj_buf *out, size_t pre);

/* Called by the hub for each line a live tap should see (filters applied here). */
void lj_session_push_line(struct lj_tap *tap, struct lj_line *line);

/* Queues `replayed` for tap's sub with seq. */
void lj_session_replayed(struct lj_tap *tap, uint64_t seq);

/* Queues a `gap` (reason "expired") for tap. */
void lj_session_gap_expired(struct lj_tap *tap, uint64_t after_seq, uint64_t next_seq,
                            uint64_t lost);

/* true when the tap's filters let line through. */
bool lj_tap_wants(const struct lj_tap *tap, const struct lj_line *line);

/* Gives back an empty queue's storage when it is large (a burst's) and the session
 * has been idle (no write, no new line) for idle_ns. Called from the hub's tick;
 * service thread. */
#define LJ_SESSION_QUEUE_KEEP 256
void lj_session_trim(struct lj_session *s, int64_t now, int64_t idle_ns);

/* Queues an owned message (len bytes of msg, taken over even on failure). */
void lj_session_push_msg(struct lj_session *s, char *msg, size_t len);

#endif
