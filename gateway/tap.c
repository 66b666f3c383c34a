/* tap.c - a tap's life (created into its sub's array, freed with it), its cursor:
 * filters, serve/prepared/drop from the hub, and the one function (lj_tap_next)
 * that orders what a tap sends. Builds only the tap's own frames (gap, replayed);
 * the lines frame and the session's queue are session.c's.
 * Does not know hubs, sessions or lws: it wakes its session through sub->owner.
 */
#include "tap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* ---- life ---- */

lj_status lj_tap_create(struct lj_sub *sub, struct lj_tap **out)
{
    struct lj_tap *t, **grown;
    if (!(grown = realloc(sub->taps, (sub->ntaps + 1) * sizeof(*grown))))
        return LJ_NOMEM;
    sub->taps = grown;
    if (!(t = calloc(1, sizeof(*t))))
        return LJ_NOMEM;
    sub->taps[sub->ntaps++] = t;
    t->sub = sub;
    *out = t;
    return LJ_OK;
}

void lj_tap_destroy_all(struct lj_sub *sub)
{
    for (size_t i = 0; i < sub->ntaps; i++) {
        assert(!sub->taps[i]->watch);
        lj_line_unref(sub->taps[i]->pin);
        lj_grep_run_free(sub->taps[i]->run);
        free(sub->taps[i]->pre_msg);
        free(sub->taps[i]);
    }
    free(sub->taps);
    sub->taps = NULL;
    sub->ntaps = 0;
}

/* ---- filters ---- */

enum lj_grep_result lj_tap_check(struct lj_tap *t, uint64_t i, const struct lj_line *l)
{
    const struct lj_sub *sub = t->sub;
    const struct lj_tap_owner *o = sub->owner;
    enum lj_grep_result r;

    if (sub->levels && !(sub->levels & (1u << l->level)))
        return LJ_GREP_NO;
    /* a time jump: "from that time on" by Docker's time, whatever the store's time */
    if (sub->since_ns && l->ts_ns < sub->since_ns)
        return LJ_GREP_NO;
    if (sub->streams && !(sub->streams & (1u << l->stream)))
        return LJ_GREP_NO;
    if (!sub->grep)
        return LJ_GREP_YES;
    if (t->run && t->run_at != i + 1) {    /* suspended on a line it no longer needs */
        lj_grep_run_free(t->run);
        t->run = NULL;
    }
    r = *o->grep_budget ? lj_grep_step(sub->grep, &t->run, lj_line_text(l), l->text_len,
                                       o->grep_budget)
                        : LJ_GREP_MORE;
    if (r == LJ_GREP_MORE) {
        t->run_at = i + 1;
        o->starved(o->ctx);
    }
    return r;
}

bool lj_sub_exact(const struct lj_sub *sub)
{
    return sub->levels || sub->streams || sub->grep || sub->after_seq || sub->since_ns;
}

/* ---- cursors ---- */

/* Whether the line at index i goes to tap's client (LJ_GREP_MORE: not decided yet). */
static enum lj_grep_result wants_at(struct lj_tap *t, uint64_t i, const struct lj_line *l)
{
    if (i >= t->replay_end && l->seq <= t->min_seq)
        return LJ_GREP_NO;
    return t->exact ? lj_tap_check(t, i, l) : LJ_GREP_YES;
}

void lj_tap_serve(struct lj_tap *t, const struct lj_ring *r, uint64_t from, uint64_t min_seq,
                  uint64_t replayed_seq, bool hole_first)
{
    assert(from >= lj_ring_window_start(r) && from <= r->lines.head);
    t->ring = r;
    t->cursor = from;
    t->hole_at = hole_first ? 0 : from + 1;
    /* A gap before any line is sent says where the client stands: after the line it
     * resumed from, or after the newest line before the first one it will get. */
    t->sent_seq = min_seq ? min_seq : (from > r->lines.tail ? lj_ring_get(r, from - 1)->seq : 0);
    t->replay_end = r->lines.head;
    t->min_seq = min_seq;
    t->replayed_seq = replayed_seq;
    t->replay_pending = true;
    t->live = true;
    t->sub->owner->wake(t->sub->owner->ctx);
}

void lj_tap_prepared(struct lj_tap *t, uint64_t from)
{
    const struct lj_ring *r = t->ring;
    assert(t->preparing && from >= lj_ring_window_start(r));
    t->preparing = false;
    if (from < t->cursor) {
        t->cursor = from;
        t->hole_at = from + 1;
        t->wanted_at = 0;
        t->sent_seq = from > r->lines.tail ? lj_ring_get(r, from - 1)->seq : 0;
    }
    t->sub->owner->wake(t->sub->owner->ctx);
}

void lj_tap_drop(struct lj_tap *t)
{
    const struct lj_line *l = lj_ring_get(t->ring, t->cursor);
    assert(t->exact && t->live);
    if (wants_at(t, t->cursor, l) != LJ_GREP_NO) {
        t->dropped++;
        t->drop_last_seq = l->seq;
    }
    t->cursor++;
}

/* Lines JetStream no longer held between the line at t's cursor and the one before
 * it in the ring (a fetch after a long disconnection): announced as an `expired` gap
 * (queued in pre_msg), or folded into the tap's pending slow_client count. True when
 * a gap message is now due. */
static bool hole_before(struct lj_tap *t, const struct lj_line *l)
{
    const struct lj_ring *r = t->ring;
    if (t->cursor <= r->lines.tail || (t->cursor >= t->replay_end && l->seq <= t->min_seq))
        return false;
    const struct lj_line *prev = lj_ring_get(r, t->cursor - 1);
    if (l->line_no <= prev->line_no + 1)
        return false;
    uint64_t lost = l->line_no - prev->line_no - 1;
    struct lj_stats *st = t->sub->owner->stats;
    st->gaps_expired++;
    st->lost_expired += lost;
    if (t->dropped) {
        t->dropped += lost;
        return false;
    }
    lj_tap_gap_expired(t, prev->seq, l->seq, lost);
    return t->pre_msg != NULL;
}

enum lj_tap_next lj_tap_next(struct lj_tap *t, struct lj_line **line)
{
    const struct lj_ring *r = t->ring;
    *line = NULL;
    if (!t->live)
        return LJ_TAP_NONE;
    if (t->preparing)
        return LJ_TAP_BUSY;
    if (t->pre_msg)
        return LJ_TAP_PRE;
    if (t->pin) {
        *line = t->pin;
        return LJ_TAP_LINE;
    }
    if (t->cursor < r->lines.tail) {
        /* Only unfiltered taps fall behind the tail: every line in between was theirs. */
        assert(!t->exact && r->lines.tail < r->lines.head);
        t->dropped += r->lines.tail - t->cursor;
        t->drop_last_seq = lj_ring_get(r, r->lines.tail)->seq - 1;
        t->cursor = r->lines.tail;
    }
    for (;;) {
        if (t->replay_pending && t->cursor >= t->replay_end)
            return LJ_TAP_REPLAYED;
        if (t->cursor >= r->lines.head)
            return t->dropped ? LJ_TAP_GAP : LJ_TAP_NONE;
        struct lj_line *l = lj_ring_get(r, t->cursor);
        if (t->hole_at != t->cursor + 1) {
            t->hole_at = t->cursor + 1;
            if (hole_before(t, l))
                return LJ_TAP_PRE;
        }
        /* wanted_at: filters (a grep) run once per line, however often it is peeked */
        enum lj_grep_result want = t->wanted_at == t->cursor + 1 ? LJ_GREP_YES
                                                                  : wants_at(t, t->cursor, l);
        if (want == LJ_GREP_MORE)
            return LJ_TAP_BUSY;
        if (want == LJ_GREP_YES) {
            t->wanted_at = t->cursor + 1;
            *line = l;
            return t->dropped ? LJ_TAP_GAP : LJ_TAP_LINE;
        }
        t->cursor++;
    }
}

uint64_t lj_tap_floor(const struct lj_tap *t)
{
    if (!t->floor)
        return UINT64_MAX;    /* detached: nothing more comes */
    if (!t->live)
        return 0;
    const struct lj_ring *r = t->ring;
    uint64_t f = *t->floor ? *t->floor : UINT64_MAX, g = UINT64_MAX;
    if (t->preparing) {
        if (r->lines.tail < r->lines.head)
            g = lj_ring_get(r, r->lines.tail)->seq;
    } else if (!t->pin && t->cursor < r->lines.head && t->wanted_at != t->cursor + 1) {
        g = lj_ring_get(r, t->cursor)->seq;    /* not yet known to pass its filters */
    }
    return g < f ? g : f;
}

bool lj_tap_pending(struct lj_tap *t)
{
    struct lj_line *l;
    enum lj_tap_next k = lj_tap_next(t, &l);
    return k != LJ_TAP_NONE && k != LJ_TAP_BUSY;
}

void lj_tap_advance(struct lj_tap *t, const struct lj_line *l)
{
    t->sent_seq = l->seq;
    if (t->pin) {
        assert(t->pin == l);
        lj_line_unref(t->pin);
        t->pin = NULL;
    } else {
        t->cursor++;
    }
}

/* ---- the tap's own frames ---- */

static void gap_json(struct lj_buf *b, const struct lj_tap *tap, uint64_t after, uint64_t next,
                     uint64_t lost, const char *reason)
{
    const char *key = tap->key ? tap->key : "";
    lj_buf_appendf(b, "{\"type\":\"gap\",\"id\":%s,\"container\":", tap->sub->id_json);
    lj_json_string(b, key, strlen(key));
    lj_buf_appendf(b, ",\"after_seq\":%llu,\"next_seq\":%llu,\"lost\":%llu,\"reason\":\"%s\"}",
                   (unsigned long long)after, (unsigned long long)next,
                   (unsigned long long)lost, reason);
}

void lj_tap_gap_expired(struct lj_tap *tap, uint64_t after_seq, uint64_t next_seq,
                        uint64_t lost)
{
    struct lj_buf b;
    lj_buf_init(&b);
    gap_json(&b, tap, after_seq, next_seq, lost, "expired");
    lj_buf_cstr(&b);
    free(tap->pre_msg);
    tap->pre_msg = b.data;   /* NULL only when out of memory: the gap is then lost */
}

void lj_tap_replayed_frame(struct lj_tap *t, struct lj_buf *out)
{
    lj_buf_appendf(out, "{\"type\":\"replayed\",\"id\":%s,\"seq\":%llu}", t->sub->id_json,
                   (unsigned long long)t->replayed_seq);
    t->replay_pending = false;
}

bool lj_tap_gap_frame(struct lj_tap *t, struct lj_line *l, struct lj_buf *out)
{
    struct lj_stats *st = t->sub->owner->stats;
    gap_json(out, t, t->sent_seq, l ? l->seq : t->drop_last_seq + 1, t->dropped, "slow_client");
    st->gaps_slow++;
    st->lost_slow += t->dropped;
    t->dropped = 0;
    if (!l) {
        t->sent_seq = t->drop_last_seq;
        return false;
    }
    assert(!t->pin && lj_ring_get(t->ring, t->cursor) == l);
    lj_line_ref(l);
    t->pin = l;
    t->cursor++;
    return true;
}
