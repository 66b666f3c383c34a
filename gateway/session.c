/* session.c - one browser: control messages in, frames out of the taps' cursors
 * and a small queue of whole messages.
 *
 * Frame building reuses the server's one scratch buffer and reads lines where the
 * ring keeps them, so an idle session costs only this struct, its subs and taps (plus
 * lws's own per-connection state). What a tap owes and in which order is described
 * in session.h; tap_next below is the one place that decides it.
 */
#include "session.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "grep.h"
#include "stats.h"
#include "timeutil.h"

/* ---- the message queue ---- */

void lj_session_trim(struct lj_session *s, int64_t now, int64_t idle_ns)
{
    if (lj_fifo_len(&s->q) || s->q.cap <= LJ_SESSION_QUEUE_KEEP || now - s->progress_ns < idle_ns)
        return;
    lj_fifo_resize(&s->q, 0);   /* empty: frees the storage, cannot fail */
}

void lj_session_push_msg(struct lj_session *s, char *msg, size_t len)
{
    struct lj_item *it;
    if (s->closing || !(it = lj_fifo_push(&s->q))) {
        free(msg);
        return;
    }
    *it = (struct lj_item){ .msg = msg, .len = len };
    s->qbytes += len;
    s->ops.wake(s->ops.ctx, s);
}

/* Queues the text of b (taken over) as a message. */
static void push_buf(struct lj_session *s, struct lj_buf *b)
{
    size_t len = b->len;
    lj_buf_cstr(b);
    lj_session_push_msg(s, b->data, len);
    lj_buf_init(b);
}

/* ---- gateway -> client messages ---- */

/* Queues an error frame; returns LJ_LIMIT once the session has erred too often. */
static lj_status send_error(struct lj_session *s, const char *id, enum lj_control_error code,
                            const char *msg)
{
    struct lj_buf b;
    lj_buf_init(&b);
    lj_buf_append(&b, "{\"type\":\"error\",\"id\":", 21);
    if (id && *id)
        lj_json_string(&b, id, strlen(id));
    else
        lj_buf_append(&b, "null", 4);
    lj_buf_appendf(&b, ",\"code\":\"%s\",\"message\":", lj_control_error_name(code));
    lj_json_string(&b, msg, strlen(msg));
    lj_buf_append(&b, "}", 1);
    push_buf(s, &b);
    lj_buf_finish(&b);
    s->stats->control_errors++;
    return ++s->errors > LJ_SESSION_ERRORS_MAX ? LJ_LIMIT : LJ_OK;
}

/* ---- subscriptions ---- */

static void sub_free(struct lj_sub *sub)
{
    if (!sub)
        return;
    lj_tap_destroy_all(sub);
    lj_grep_destroy(sub->grep);
    free(sub->id_json);
    free(sub);
}

static struct lj_sub *find_sub(struct lj_session *s, const char *id, size_t *index)
{
    for (size_t i = 0; i < s->nsubs; i++)
        if (strcmp(s->subs[i]->id, id) == 0) {
            if (index)
                *index = i;
            return s->subs[i];
        }
    return NULL;
}

/* Builds a sub from a validated request; errors go into msg. */
static lj_status sub_create(struct lj_session *s, const struct lj_control *c, struct lj_sub **out,
                            char *msg, size_t msglen)
{
    struct lj_sub *sub = calloc(1, sizeof(*sub));
    struct lj_buf idj;
    lj_status st = LJ_OK;

    if (!sub)
        return LJ_NOMEM;
    sub->session = s;
    sub->owner = &s->owner;
    sub->grant = s->grant;
    strcpy(sub->id, c->id);
    strcpy(sub->pattern, c->container);
    sub->glob = lj_glob_is_pattern(c->container);
    sub->levels = c->levels;
    sub->streams = c->streams;
    sub->replay = c->replay;
    sub->after_seq = c->after_seq;
    sub->after_line_no = c->after_line_no;
    sub->since_ns = c->since_ns;
    lj_buf_init(&idj);
    if (lj_json_string(&idj, c->id, strlen(c->id)) != LJ_OK)
        st = LJ_NOMEM;
    lj_buf_cstr(&idj);
    sub->id_json = idj.data;
    if (st == LJ_OK && c->grep[0])
        st = lj_grep_compile(c->grep, &sub->grep, msg, msglen);
    if (st != LJ_OK) {
        sub_free(sub);
        return st;
    }
    *out = sub;
    return LJ_OK;
}

static void remove_sub(struct lj_session *s, size_t i);

static lj_status do_subscribe(struct lj_session *s, const struct lj_control *c)
{
    char msg[160];
    struct lj_sub *sub = NULL;
    lj_status st;

    if (find_sub(s, c->id, NULL))
        return send_error(s, c->id, LJ_CONTROL_E_BAD_REQUEST, "id already in use");
    if (s->nsubs >= LJ_SESSION_SUBS_MAX)
        return send_error(s, c->id, LJ_CONTROL_E_LIMIT, "too many subscriptions (64)");
    if (!lj_glob_is_pattern(c->container) && !lj_grant_allows(s->grant, c->container))
        return send_error(s, c->id, LJ_CONTROL_E_FORBIDDEN, "container not allowed for this token");
    if (!lj_glob_is_pattern(c->container) && !strchr(c->container, '/'))
        return send_error(s, c->id, LJ_CONTROL_E_BAD_REQUEST, "container must be \"<host>/<name>\"");
    st = sub_create(s, c, &sub, msg, sizeof(msg));
    if (st != LJ_OK)
        return send_error(s, c->id, lj_control_error_of(st),
                          st == LJ_NOMEM ? "out of memory" : msg);
    s->subs[s->nsubs++] = sub;
    st = s->ops.subscribe(s->ops.ctx, sub);
    if (st != LJ_OK) {
        remove_sub(s, s->nsubs - 1);
        return send_error(s, c->id, lj_control_error_of(st),
                          st == LJ_INVAL ? "malformed container name"
                          : st == LJ_LIMIT ? "too many new containers watched at once (this "
                                             "client or the gateway); try again later"
                          : "cannot subscribe now");
    }
    return LJ_OK;
}

static void remove_sub(struct lj_session *s, size_t i)
{
    struct lj_sub *sub = s->subs[i];
    s->ops.unsubscribe(s->ops.ctx, sub);
    if (s->gap_tap && s->gap_tap->sub == sub)
        s->gap_tap = NULL;   /* its line goes with the sub */
    s->subs[i] = s->subs[--s->nsubs];
    sub_free(sub);
}

static lj_status do_unsubscribe(struct lj_session *s, const struct lj_control *c)
{
    size_t i;
    if (!find_sub(s, c->id, &i))
        return send_error(s, c->id, LJ_CONTROL_E_NOT_FOUND, "no subscription with this id");
    remove_sub(s, i);
    return LJ_OK;
}

static void do_list(struct lj_session *s, const struct lj_control *c)
{
    struct lj_buf b;
    lj_buf_init(&b);
    lj_buf_append(&b, "{\"type\":\"containers\",", 21);
    if (c->id[0]) {
        lj_buf_append(&b, "\"id\":", 5);
        lj_json_string(&b, c->id, strlen(c->id));
        lj_buf_append(&b, ",", 1);
    }
    lj_buf_append(&b, "\"containers\":[", 14);
    s->ops.list(s->ops.ctx, s->grant, &b);
    lj_buf_append(&b, "]}", 2);
    push_buf(s, &b);
    lj_buf_finish(&b);
}

static lj_status handle(struct lj_session *s, const char *data, size_t len)
{
    struct lj_control c;
    char msg[160];
    lj_status st = lj_control_parse(data, len, s->ops.depth, &c, msg, sizeof(msg));

    if (st != LJ_OK)
        return send_error(s, c.id, lj_control_error_of(st), msg);
    switch (c.op) {
    case LJ_CONTROL_SUBSCRIBE: return do_subscribe(s, &c);
    case LJ_CONTROL_UNSUBSCRIBE: return do_unsubscribe(s, &c);
    case LJ_CONTROL_LIST: do_list(s, &c); return LJ_OK;
    }
    return LJ_OK;
}

lj_status lj_session_receive(struct lj_session *s, const char *data, size_t len, bool final)
{
    lj_status st = LJ_OK;
    if (s->closing)
        return LJ_OK;
    if (!s->rx_too_big && s->rx.len + len > LJ_CONTROL_FRAME_MAX) {
        s->rx_too_big = true;
        lj_buf_finish(&s->rx);
    }
    if (!s->rx_too_big && lj_buf_append(&s->rx, data, len) != LJ_OK)
        s->rx_too_big = true;
    if (!final)
        return LJ_OK;
    if (s->rx_too_big)
        st = send_error(s, NULL, LJ_CONTROL_E_LIMIT, "control frame larger than 4096 bytes");
    else
        st = handle(s, s->rx.data ? s->rx.data : "", s->rx.len);
    s->rx_too_big = false;
    lj_buf_finish(&s->rx);
    /* Answers (containers lists, errors) pile up only for a client that asks and does
     * not read: past the queue bound it is closed rather than grow without end. */
    if (st == LJ_OK && s->qbytes > s->lim.max_queue)
        st = LJ_LIMIT;
    return st;
}

/* ---- frames out ---- */

/* A slow_client gap (lj_tap_gap_frame); the line it names opens the next frame. */
static void gap_frame(struct lj_session *s, struct lj_tap *t, struct lj_line *l,
                      struct lj_buf *out)
{
    if (lj_tap_gap_frame(t, l, out))
        s->gap_tap = t;
}

/* The frame for one of tap's events (anything but lines). */
static void event_frame(struct lj_session *s, struct lj_tap *t, enum lj_tap_next k,
                        struct lj_line *l, struct lj_buf *out)
{
    switch (k) {
    case LJ_TAP_PRE:
        lj_buf_append(out, t->pre_msg, strlen(t->pre_msg));
        free(t->pre_msg);
        t->pre_msg = NULL;
        break;
    case LJ_TAP_REPLAYED: lj_tap_replayed_frame(t, out); break;
    case LJ_TAP_GAP: gap_frame(s, t, l, out); break;
    case LJ_TAP_NONE:
    case LJ_TAP_BUSY:
    case LJ_TAP_LINE: assert(!"not an event"); break;
    }
}

/* The sub's tap whose next line has the lowest seq (NULL when none has a line ready),
 * so a glob sub's containers interleave in stream order. */
static struct lj_tap *next_line_tap(struct lj_sub *sub, struct lj_line **line)
{
    struct lj_tap *best = NULL;
    *line = NULL;
    for (size_t i = 0; i < sub->ntaps; i++) {
        struct lj_line *l;
        if (lj_tap_next(sub->taps[i], &l) == LJ_TAP_LINE && (!best || l->seq < (*line)->seq)) {
            best = sub->taps[i];
            *line = l;
        }
    }
    return best;
}

/* The taps of a glob sub with a line to send, as a binary min-heap on that line's
 * seq: the merge in seq order costs O(log taps) a line instead of a scan of every
 * tap. Only the tap just advanced changes while a frame is built (one thread, no new
 * lines meanwhile), so the heap stays valid for the whole frame. */
struct merge {
    struct merge_ent { uint64_t seq; struct lj_tap *tap; struct lj_line *line; } *e;
    size_t n;
};

static void merge_down(struct merge *m, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->n)
            return;
        if (c + 1 < m->n && m->e[c + 1].seq < m->e[c].seq)
            c++;
        if (m->e[i].seq <= m->e[c].seq)
            return;
        struct merge_ent x = m->e[i];
        m->e[i] = m->e[c];
        m->e[c] = x;
        i = c;
    }
}

/* Fills m with every tap of sub that has a line to send; false when out of memory. */
static bool merge_init(struct merge *m, struct lj_sub *sub)
{
    m->n = 0;
    if ((m->e = malloc(sub->ntaps * sizeof(*m->e))) == NULL)
        return false;
    for (size_t i = 0; i < sub->ntaps; i++) {
        struct lj_line *l;
        if (lj_tap_next(sub->taps[i], &l) == LJ_TAP_LINE)
            m->e[m->n++] = (struct merge_ent){ l->seq, sub->taps[i], l };
    }
    for (size_t i = m->n / 2; i-- > 0;)
        merge_down(m, i);
    return true;
}

/* After the root's line was sent: its tap's next line takes its place, if any. */
static void merge_next(struct merge *m)
{
    struct lj_line *l;
    if (lj_tap_next(m->e[0].tap, &l) == LJ_TAP_LINE)
        m->e[0] = (struct merge_ent){ l->seq, m->e[0].tap, l };
    else
        m->e[0] = m->e[--m->n];
    merge_down(m, 0);
}

/* The seq a sub's lines must stay below now: the lowest floor of its taps (tap.h),
 * UINT64_MAX for a sub of one tap, whose own order the tap keeps. */
static uint64_t sub_limit(struct lj_sub *sub)
{
    uint64_t limit = UINT64_MAX;
    if (sub->ntaps < 2)
        return limit;
    for (size_t i = 0; i < sub->ntaps; i++) {
        struct lj_line *l;
        lj_tap_next(sub->taps[i], &l);
        uint64_t f = lj_tap_floor(sub->taps[i]);
        if (f < limit)
            limit = f;
    }
    return limit;
}

/* Lines frame: lines of one sub from its taps' cursors, in seq order, below limit
 * (sub_limit, lowered as the taps move), up to max_frame; a tap with an event to send
 * first (a gap, `replayed`) sits out. `first` (the tap of a just-sent gap) opens it
 * with its pin. */
static void lines_frame(struct lj_session *s, struct lj_sub *sub, struct lj_tap *first,
                        uint64_t limit, struct lj_buf *out)
{
    struct lj_stats *st = s->stats;
    struct merge m = { NULL, 0 };
    bool heap = false;
    int64_t last_ts = 0, now = lj_time_mono_ns();
    bool any = false;

    lj_buf_appendf(out, "{\"type\":\"lines\",\"id\":%s,\"lines\":[", sub->id_json);
    while (out->len < s->lim.max_frame) {
        struct lj_line *l;
        struct lj_tap *t = first;
        if (t) {
            l = t->pin;
        } else if (heap) {
            t = m.n ? m.e[0].tap : NULL;
            l = m.n ? m.e[0].line : NULL;
        } else {
            t = next_line_tap(sub, &l);
        }
        if (!t || !l || (l->seq >= limit && t != first))
            break;
        if (any)
            lj_buf_append(out, ",", 1);
        lj_buf_append(out, l->data, l->json_len);
        any = true;
        last_ts = l->ts_ns;
        st->lines_out++;
        if (l->seq > t->replayed_seq) {    /* live: its wait inside the gateway */
            lj_stats_wait(st, LJ_STATS_WAIT_FRAME, now - l->recv_ns);
            lj_stats_wait(st, LJ_STATS_WAIT_RING_TO_FRAME, now - l->ring_ns);
        }
        lj_tap_advance(t, l);   /* may free a pin: l is not used after this */
        if (sub->ntaps > 1) {   /* what t has next may hold the others back */
            struct lj_line *x;
            lj_tap_next(t, &x);
            uint64_t f = lj_tap_floor(t);
            if (f < limit)
                limit = f;
        }
        if (heap)
            merge_next(&m);
        else if (!first && sub->ntaps > 4)
            heap = merge_init(&m, sub);    /* many taps and more than one line: merge */
        first = NULL;
    }
    free(m.e);
    lj_buf_append(out, "]}", 2);
    if (any)
        st->lag_ns = lj_time_now_ns() - last_ts;
}

/* One frame of the subs, taking turns from s->rr: a tap's event, or a lines frame.
 * false when no sub has anything to send. A line at or past the sub's limit waits,
 * and so does the slow_client gap that must come right before it. */
static bool sub_frame(struct lj_session *s, struct lj_buf *out)
{
    for (size_t k = 0; k < s->nsubs; k++) {
        size_t i = (s->rr + k) % s->nsubs;
        struct lj_sub *sub = s->subs[i];
        uint64_t limit = sub_limit(sub);
        bool lines = false;
        for (size_t j = 0; j < sub->ntaps; j++) {
            struct lj_tap *t = sub->taps[j];
            struct lj_line *l;
            enum lj_tap_next kind = lj_tap_next(t, &l);
            if (kind == LJ_TAP_LINE) {
                lines = lines || l->seq < limit;
            } else if (kind == LJ_TAP_GAP && l && l->seq >= limit) {
                continue;
            } else if (kind != LJ_TAP_NONE && kind != LJ_TAP_BUSY) {
                event_frame(s, t, kind, l, out);
                s->rr = i;    /* this sub's lines come next */
                return true;
            }
        }
        if (lines) {
            lines_frame(s, sub, NULL, limit, out);
            s->rr = i + 1;
            return true;
        }
    }
    return false;
}

bool lj_session_next_frame(struct lj_session *s, struct lj_buf *out, size_t pre)
{
    if (s->asked_ns) {
        lj_stats_wait(s->stats, LJ_STATS_WAIT_WRITABLE, lj_time_mono_ns() - s->asked_ns);
        s->asked_ns = 0;
    } else if (s->again_ns) {
        lj_stats_wait(s->stats, LJ_STATS_WAIT_AGAIN, lj_time_mono_ns() - s->again_ns);
    }
    s->again_ns = 0;
    lj_buf_reset(out);
    lj_buf_reserve(out, pre);
    out->len = pre;
    if (s->gap_tap) {
        struct lj_tap *t = s->gap_tap;
        s->gap_tap = NULL;
        lines_frame(s, t->sub, t, sub_limit(t->sub), out);
    } else if (lj_fifo_len(&s->q)) {
        struct lj_item *it = lj_fifo_peek(&s->q, 0);
        lj_buf_append(out, it->msg, it->len);
        s->qbytes -= it->len;
        free(it->msg);
        it->msg = NULL;
        lj_fifo_pop(&s->q);
    } else if (!sub_frame(s, out)) {
        s->idle = true;
        return false;
    }
    s->idle = false;
    s->progress_ns = lj_time_mono_ns();
    s->stats->frames_out++;
    s->stats->bytes_out += out->len - pre;
    return true;
}

bool lj_session_pending(struct lj_session *s)
{
    bool any = s->gap_tap || lj_fifo_len(&s->q);
    for (size_t i = 0; !any && i < s->nsubs; i++)
        for (size_t j = 0; !any && j < s->subs[i]->ntaps; j++)
            any = lj_tap_pending(s->subs[i]->taps[j]);
    if (any) {
        if (!s->again_ns)
            s->again_ns = lj_time_mono_ns();
        return true;
    }
    s->idle = true;
    return false;
}

uint64_t lj_session_backlog(const struct lj_session *s)
{
    uint64_t n = s->qbytes;
    for (size_t i = 0; i < s->nsubs; i++)
        for (size_t j = 0; j < s->subs[i]->ntaps; j++) {
            const struct lj_tap *t = s->subs[i]->taps[j];
            if (t->live)
                n += lj_ring_bytes_from(t->ring, t->cursor) + (t->pin ? t->pin->json_len : 0);
        }
    return n;
}

/* ---- life cycle ---- */

/* The tap owner's callbacks (tap.h): the session's taps wake it through its ops. */
static void owner_wake(void *ctx)
{
    struct lj_session *s = ctx;
    s->ops.wake(s->ops.ctx, s);
}

static void owner_starved(void *ctx)
{
    struct lj_session *s = ctx;
    s->ops.starved(s->ops.ctx, s);
}

lj_status lj_session_create(const struct lj_session_ops *ops, void *wsi,
                            const struct lj_grant *grant, const struct lj_control_limits *lim,
                            struct lj_session **out)
{
    struct lj_session *s = calloc(1, sizeof(*s));
    struct lj_buf b;

    if (!s)
        return LJ_NOMEM;
    s->ops = *ops;
    s->stats = ops->stats;
    s->wsi = wsi;
    s->grant = grant;
    s->lim = *lim;
    s->grep_budget = LJ_SESSION_GREP_BUDGET;
    lj_fifo_init(&s->q, sizeof(struct lj_item));
    s->owner = (struct lj_tap_owner){ .wake = owner_wake, .starved = owner_starved, .ctx = s,
                                      .grep_budget = &s->grep_budget, .stats = s->stats,
                                      .closing = &s->closing, .watch_tokens = -1 };
    s->progress_ns = lj_time_mono_ns();
    lj_buf_init(&s->rx);
    lj_buf_init(&b);
    lj_buf_appendf(&b, "{\"type\":\"hello\",\"version\":1,\"server\":\"logjet-gateway/%s\","
                   "\"depth\":%u,\"max_subscriptions\":%d,\"max_control_bytes\":%d}",
                   LJ_VERSION, lim->depth, LJ_SESSION_SUBS_MAX, LJ_CONTROL_FRAME_MAX);
    push_buf(s, &b);
    lj_buf_finish(&b);
    *out = s;
    return LJ_OK;
}

void lj_session_destroy(struct lj_session *s)
{
    if (!s)
        return;
    while (s->nsubs)
        remove_sub(s, s->nsubs - 1);
    for (size_t i = 0; i < lj_fifo_len(&s->q); i++)
        free(((struct lj_item *)lj_fifo_peek(&s->q, i))->msg);
    lj_fifo_finish(&s->q);
    lj_buf_finish(&s->rx);
    free(s);
}
