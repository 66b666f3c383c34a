/* tap.h - one subscription's cursor into one container's ring: what the tap owes
 * its client, in which order, and the filters that decide it.
 *
 * A tap reads lines where the watch's ring (ring.h) keeps them; nothing is copied
 * per tap. Taps are created and freed here only, into and with their sub's array
 * (which owns them); the hub asks for them, links them into its watches and moves
 * them (serve, prepared, drop); the session reads them (lj_tap_next) into frames. The tap
 * reaches its session only through the lj_tap_owner the session gave its sub: a wake
 * and a starved callback, the grep budget and the counters. It does not know hubs,
 * watches (beyond an opaque pointer the hub keeps in it), sessions, NATS or lws.
 * Service thread only.
 */
#ifndef LJ_TAP_H
#define LJ_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "control.h"
#include "grep.h"
#include "line.h"
#include "ring.h"

struct lj_session;
struct lj_stats;
struct lj_watch;
struct lj_tap;

/* What a sub's taps need of their session, set up by the session when it is created
 * and living as long as it. */
struct lj_tap_owner {
    void (*wake)(void *ctx);       /* it has something to send */
    void (*starved)(void *ctx);    /* it spent its grep budget (grep_budget is 0) */
    void *ctx;
    uint64_t *grep_budget;         /* grep steps it may still spend this pass */
    struct lj_stats *stats;        /* counters gaps and losses go into */
    const bool *closing;           /* true once its session is closing */
    double watch_tokens;           /* watches it may still create (watches.h bucket; <0: full) */
    int64_t watch_refill_ns;       /* mono time the bucket was last refilled */
};

/* One subscribe request. Owned by its session. */
struct lj_sub {
    struct lj_session *session;   /* opaque here: the session.h side of a sub */
    struct lj_tap_owner *owner;   /* its session's wake, budget, counters, bucket */
    const struct lj_grant *grant; /* its session's: which containers it may see */
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
    struct lj_tap **taps;      /* owned array of owned taps (lj_tap_create) */
    size_t ntaps;
    struct lj_sub *glob_next, *glob_prev;   /* hub's list of glob subs */
};

/* One sub on one container. Owned by its sub; linked into its watch. The cursor
 * fields are only read and moved by tap.c (lj_tap_serve, lj_tap_drop, lj_tap_next);
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
    const uint64_t *floor;     /* its watch's floor (watch.h), set and cleared by the hub
                                  with `watch` */
    const char *key;           /* "host/name" of its container (the watch's); NULL once
                                  detached */
    struct lj_tap *wnext, *wprev;   /* watch's tap list */
    struct lj_tap *xnext, *xprev;   /* watch's exact list (exact taps only) */
};

/* Creates a tap of sub (zeroed but for its sub) at the end of sub->taps, which owns
 * it from then on; *out borrows it until lj_tap_destroy_all(sub). LJ_NOMEM (sub
 * unchanged but for spare room in its array). */
lj_status lj_tap_create(struct lj_sub *sub, struct lj_tap **out);

/* Frees every tap of sub (its pin, suspended grep match and pending message) and the
 * array. Each must be detached from its watch first (lj_hub_unsubscribe). */
void lj_tap_destroy_all(struct lj_sub *sub);

/* What a tap sends next (lj_tap_next). */
enum lj_tap_next {
    LJ_TAP_NONE,       /* nothing to send now */
    LJ_TAP_PRE,        /* pre_msg */
    LJ_TAP_REPLAYED,   /* `replayed` */
    LJ_TAP_GAP,        /* slow_client gap before *line (NULL: no next line yet) */
    LJ_TAP_LINE,       /* *line (the pin or the line at cursor) */
    LJ_TAP_BUSY,       /* its filters need more of the session's grep budget (next pass) */
};

/* What tap sends next, into *line for LJ_TAP_LINE and LJ_TAP_GAP (a ref the ring or
 * the pin keeps; not the caller's). Moves the cursor over lines the tap does not
 * want, and over lines evicted before an unfiltered tap read them (counting them as
 * dropped), but never past replay_end while `replayed` is owed. The one place that
 * orders a tap's output: pre_msg, pin, [replay lines], replayed, live lines; a gap
 * before the line that follows a loss. */
enum lj_tap_next lj_tap_next(struct lj_tap *tap, struct lj_line **line);

/* The lowest seq tap may still send later that it cannot send now; UINT64_MAX when
 * whatever it sends later is newer than anything another tap can send now. 0 before it
 * is served (its replay may start anywhere), the window's start while its replay is
 * positioned, the line its grep has not decided, its watch's floor while a fetch may
 * bring lines. Call after lj_tap_next. A sub of several taps (a glob) sends no line at
 * or past the lowest floor of its taps: its lines leave in seq order, so a client that
 * resumes after the highest seq it received misses none (docs/protocol.md). */
uint64_t lj_tap_floor(const struct lj_tap *tap);

/* Marks line, which lj_tap_next just returned as LJ_TAP_LINE, as sent. */
void lj_tap_advance(struct lj_tap *tap, const struct lj_line *line);

/* Appends the `replayed` frame and clears replay_pending. */
void lj_tap_replayed_frame(struct lj_tap *tap, struct lj_buf *out);

/* Appends the slow_client `gap` frame before l, the tap's next line (NULL: none yet;
 * the gap then names the seq after the newest lost one), and counts it. l becomes the
 * tap's pin and must open the tap's next frame; returns true when it did. */
bool lj_tap_gap_frame(struct lj_tap *tap, struct lj_line *l, struct lj_buf *out);

/* Starts tap on ring r (its watch's log): the replay or resume is [from, head) of r,
 * then `replayed` with replayed_seq, then live lines with seq > min_seq. Wakes the
 * session (its owner's wake). from must lie in the ring's window or at its head.
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
void lj_tap_gap_expired(struct lj_tap *tap, uint64_t after_seq, uint64_t next_seq,
                        uint64_t lost);

/* Whether the tap's filters let line (at ring index i) through: LJ_GREP_YES or
 * LJ_GREP_NO, or LJ_GREP_MORE when the session's grep budget ran out before the grep
 * decided (the match is suspended in the tap and goes on from where it stopped when
 * called again for the same i; its owner's starved callback puts the session on the
 * hub's starved list, which refills the budget on the next service pass). */
enum lj_grep_result lj_tap_check(struct lj_tap *tap, uint64_t i, const struct lj_line *line);

/* true when the sub has level, stream or grep filters, a time (since), or resumes (after_seq): its taps
 * must see every line before it is evicted to count losses exactly. */
bool lj_sub_exact(const struct lj_sub *sub);

#endif
