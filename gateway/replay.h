/* replay.h - where a tap starts in its watch's ring, and the filtered replays still
 * being looked for.
 *
 * A replay of N lines for an unfiltered tap is the last N of the window. For a tap
 * with filters the last N lines that pass them are scanned back from the head in
 * slices of its session's grep budget (the tap is "preparing": live at the head, so
 * lines that arrive meanwhile are kept for it), so a costly grep costs its own client
 * time and never holds the service thread. A resume starts after after_seq, a time
 * jump where since.h says. Service thread only; does not attach or detach taps.
 */
#ifndef LJ_REPLAY_H
#define LJ_REPLAY_H

#include <stdbool.h>

#include "tap.h"
#include "watch.h"

/* Embedded in the hub; zero it, then set stats. */
struct lj_replay {
    struct lj_tap *preparing;      /* filtered replays still scanning, by pnext */
    struct lj_stats *stats;        /* replays_from_ring, expired gaps */
};

/* Starts t's cursor in w's ring at its replay, resume or time jump; `replayed`
 * follows once the cursor reaches today's head, then live lines. A tap still waiting
 * for JetStream's answer to a time jump (seeking) is left for the caller to serve
 * again. May lower w->low to the cursor. */
void lj_replay_serve(struct lj_replay *rp, struct lj_watch *w, struct lj_tap *t);

/* A new service pass: every preparing tap scans on, within its session's refilled
 * budget. */
void lj_replay_scan_all(struct lj_replay *rp);

/* t is being detached: no longer scanned for. */
void lj_replay_forget(struct lj_replay *rp, struct lj_tap *t);

#endif
