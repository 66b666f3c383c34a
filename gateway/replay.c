/* replay.c - where a tap starts in its watch's ring: a replay (the last N lines, or
 * the last N its filters pass, scanned back in budgeted slices), a resume after a seq
 * (with the `expired` gap for what the window lost), or a time jump (since.c).
 * Does not attach taps to watches, fetch, or wake sessions (lj_tap_serve does).
 */
#include "replay.h"

#include "since.h"
#include "stats.h"

/* Expired-window check for a resume: lines after after_seq that the window no longer
 * has. lost is exact when the line_no of the container's newest line at or before
 * after_seq is known (the client's hint, the window, or the evicted index); otherwise
 * every line before the oldest retained one is counted. after_seq is a stream
 * sequence, so for a glob it positions every container; the after_line_no hint is one
 * container's and only used for a single-container subscription. */
static void resume_gap(struct lj_replay *rp, struct lj_watch *w, struct lj_tap *t)
{
    const struct lj_ring *r = &w->ring;
    uint64_t start = lj_ring_window_start(r);
    struct lj_line *oldest = start < r->lines.head ? lj_ring_get(r, start) : NULL;
    uint64_t after = t->sub->after_seq, known = 0, lost;

    if (!oldest || after >= oldest->seq || oldest->line_no <= 1)
        return;
    if (t->sub->after_line_no && !t->sub->glob)
        known = t->sub->after_line_no;
    else if (!lj_ring_line_no_at_or_before(r, after, &known))
        known = 0;
    if (known + 1 >= oldest->line_no)
        return;
    lost = oldest->line_no - 1 - known;
    rp->stats->gaps_expired++;
    rp->stats->lost_expired += lost;
    lj_tap_gap_expired(t, after, oldest->seq, lost);
}

static void preparing_unlink(struct lj_replay *rp, struct lj_tap *t)
{
    for (struct lj_tap **pp = &rp->preparing; *pp; pp = &(*pp)->pnext)
        if (*pp == t) {
            *pp = t->pnext;
            break;
        }
    t->pnext = NULL;
}

/* Goes on scanning back for a preparing tap's replay (the last sub->replay lines at
 * or before its replay_end that pass its filters) until they are found, the window's
 * start is reached, or the session's grep budget is spent. Lines that left the window
 * meanwhile are not replayed. true when the replay was found and the tap released. */
static bool replay_scan(struct lj_replay *rp, struct lj_tap *t)
{
    struct lj_watch *w = t->watch;
    const struct lj_ring *r = &w->ring;
    uint64_t start = lj_ring_window_start(r);

    if (t->scan < start)
        t->scan = start;
    while (t->scan > start && t->scan_got < t->sub->replay) {
        enum lj_grep_result k = lj_tap_check(t, t->scan - 1, lj_ring_get(r, t->scan - 1));
        if (k == LJ_GREP_MORE)
            return false;
        t->scan--;
        if (k == LJ_GREP_YES)
            t->scan_got++;
    }
    preparing_unlink(rp, t);
    if (t->scan < w->low)
        w->low = t->scan;
    lj_tap_prepared(t, t->scan);
    return true;
}

/* Starts the tap's cursor at its replay (last N matching lines of the window) or its
 * resume (seq > after_seq); `replayed` follows once the cursor reaches today's head,
 * then live lines. */
void lj_replay_serve(struct lj_replay *rp, struct lj_watch *w, struct lj_tap *t)
{
    const struct lj_sub *sub = t->sub;
    const struct lj_ring *r = &w->ring;
    uint64_t start = lj_ring_window_start(r), from = r->lines.head;
    bool hole_first = false;

    if (t->seeking)
        return;    /* on_sought serves it */

    /* A resume, also for a container a glob found later: the client has every line up
     * to after_seq (a stream sequence, comparable across containers). */
    if (sub->after_seq) {
        resume_gap(rp, w, t);
        from = lj_ring_index_after(r, sub->after_seq);
        /* The line before from is the client's last one: a hole right after it is
         * news. Before the window, resume_gap has counted it already. */
        hole_first = from > start;
    } else if (sub->since_ns) {
        from = lj_since_from(&w->ring, w->key, t);
    } else {
        uint64_t want = t->from_start ? r->lines.head - start : sub->replay;
        if (want >= r->lines.head - start)
            from = start;
        else if (!t->exact)
            from = r->lines.head - want;
        else {
            /* The last `want` lines that pass the filters: scanned back from the head in
             * slices of the session's grep budget (replay_scan), so a costly grep costs
             * its own client time and never holds the service thread. Meanwhile the tap
             * is live at the head, so the lines that arrive are kept for it. */
            rp->stats->replays_from_ring++;
            lj_tap_serve(t, r, r->lines.head, 0, lj_ring_last_seq(r), false);
            t->preparing = true;
            t->scan = r->lines.head;
            t->scan_got = 0;
            t->pnext = rp->preparing;
            rp->preparing = t;
            if (r->lines.head < w->low)
                w->low = r->lines.head;
            replay_scan(rp, t);
            return;
        }
    }
    uint64_t newest = lj_ring_last_seq(r);
    if (from < w->low)
        w->low = from;
    rp->stats->replays_from_ring++;
    lj_tap_serve(t, r, from, sub->after_seq, newest > sub->after_seq ? newest : sub->after_seq,
                 hole_first);
}

void lj_replay_scan_all(struct lj_replay *rp)
{
    for (struct lj_tap *t = rp->preparing, *n; t; t = n) {
        n = t->pnext;
        replay_scan(rp, t);
    }
}

void lj_replay_forget(struct lj_replay *rp, struct lj_tap *t)
{
    if (!t->preparing)
        return;
    preparing_unlink(rp, t);
    t->preparing = false;
}
