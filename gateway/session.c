/* session.c - one browser: control messages in, batched frames out, bounded queue.
 *
 * Frame building reuses the server's one scratch buffer, so an idle session costs
 * only this struct (plus lws's own per-connection state). */
#include "session.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "grep.h"
#include "hub.h"
#include "timeutil.h"

/* ---- the queue ---- */

static struct lj_item *q_at(struct lj_session *s, size_t i)
{
    return &s->q[(s->qhead + i) & (s->qcap - 1)];
}

static lj_status q_grow(struct lj_session *s)
{
    size_t ncap = s->qcap ? s->qcap * 2 : 64;
    struct lj_item *n = malloc(ncap * sizeof(*n));
    assert((ncap & (ncap - 1)) == 0);
    if (!n)
        return LJ_NOMEM;
    for (size_t i = 0; i < s->qlen; i++)
        n[i] = *q_at(s, i);
    free(s->q);
    s->q = n;
    s->qcap = ncap;
    s->qhead = 0;
    return LJ_OK;
}

static lj_status q_push(struct lj_session *s, struct lj_item it)
{
    if (s->qlen == s->qcap && q_grow(s) != LJ_OK)
        return LJ_NOMEM;
    if (s->qlen == 0)
        s->progress_ns = lj_time_mono_ns();
    *q_at(s, s->qlen++) = it;
    return LJ_OK;
}

/* Keeps the storage when the queue empties: bursty fan-out used to free and refault
 * it again and again (lj_session_trim gives it back once the session is idle). */
static void q_pop(struct lj_session *s)
{
    assert(s->qlen > 0);
    s->qhead = (s->qhead + 1) & (s->qcap - 1);
    s->qlen--;
    if (s->drop_cursor)
        s->drop_cursor--;
}

void lj_session_trim(struct lj_session *s, int64_t now, int64_t idle_ns)
{
    if (s->qlen || s->qcap <= LJ_SESSION_QUEUE_KEEP || now - s->progress_ns < idle_ns)
        return;
    free(s->q);
    s->q = NULL;
    s->qcap = s->qhead = 0;
}

static bool item_dead(const struct lj_item *it) { return !it->line && !it->msg; }

static void pop_dead(struct lj_session *s)
{
    while (s->qlen && item_dead(q_at(s, 0)))
        q_pop(s);
}

/* Drops the oldest queued lines until the queue fits max_queue, counting them per tap. */
static void enforce_bound(struct lj_session *s)
{
    struct lj_hub_stats *st = lj_hub_stats(s->hub);
    while (s->qbytes > s->lim.max_queue && s->drop_cursor < s->qlen) {
        struct lj_item *it = q_at(s, s->drop_cursor++);
        if (!it->line)
            continue;    /* messages are never dropped */
        struct lj_tap *t = it->tap;
        if (t->dropped++ == 0)
            s->gaps_pending++;
        t->drop_last_seq = it->line->seq;
        st->lost_slow++;
        s->qbytes -= it->line->json_len;
        lj_line_unref(it->line);
        it->line = NULL;
        it->tap = NULL;
    }
    pop_dead(s);
}

void lj_session_push_line(struct lj_tap *tap, struct lj_line *line)
{
    struct lj_session *s = tap->sub->session;
    if (s->closing)
        return;
    lj_line_ref(line);
    if (q_push(s, (struct lj_item){ .line = line, .tap = tap }) != LJ_OK) {
        lj_line_unref(line);
        return;
    }
    s->qbytes += line->json_len;
    if (s->qbytes > s->lim.max_queue)
        enforce_bound(s);
    lj_hub_mark_dirty(s->hub, s);
}

void lj_session_push_msg(struct lj_session *s, char *msg, size_t len)
{
    if (s->closing || q_push(s, (struct lj_item){ .msg = msg, .len = (uint32_t)len }) != LJ_OK) {
        free(msg);
        return;
    }
    s->qbytes += len;
    lj_hub_mark_dirty(s->hub, s);
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

void lj_session_replayed(struct lj_tap *tap, uint64_t seq)
{
    struct lj_buf b;
    lj_buf_init(&b);
    if (lj_buf_appendf(&b, "{\"type\":\"replayed\",\"id\":%s,\"seq\":%llu}", tap->sub->id_json,
                       (unsigned long long)seq) == LJ_OK)
        push_buf(tap->sub->session, &b);
    lj_buf_finish(&b);
}

static void gap_json(struct lj_buf *b, const struct lj_tap *tap, uint64_t after, uint64_t next,
                     uint64_t lost, const char *reason)
{
    const char *key = lj_hub_watch_key(tap->watch);
    lj_buf_appendf(b, "{\"type\":\"gap\",\"id\":%s,\"container\":", tap->sub->id_json);
    lj_json_string(b, key, strlen(key));
    lj_buf_appendf(b, ",\"after_seq\":%llu,\"next_seq\":%llu,\"lost\":%llu,\"reason\":\"%s\"}",
                   (unsigned long long)after, (unsigned long long)next,
                   (unsigned long long)lost, reason);
}

void lj_session_gap_expired(struct lj_tap *tap, uint64_t after_seq, uint64_t next_seq,
                            uint64_t lost)
{
    struct lj_buf b;
    lj_buf_init(&b);
    gap_json(&b, tap, after_seq, next_seq, lost, "expired");
    push_buf(tap->sub->session, &b);
    lj_buf_finish(&b);
}

/* Queues an error frame; returns LJ_LIMIT once the session has erred too often. */
static lj_status send_error(struct lj_session *s, const char *id, const char *code, const char *msg)
{
    struct lj_buf b;
    lj_buf_init(&b);
    lj_buf_append(&b, "{\"type\":\"error\",\"id\":", 21);
    if (id && *id)
        lj_json_string(&b, id, strlen(id));
    else
        lj_buf_append(&b, "null", 4);
    lj_buf_appendf(&b, ",\"code\":\"%s\",\"message\":", code);
    lj_json_string(&b, msg, strlen(msg));
    lj_buf_append(&b, "}", 1);
    push_buf(s, &b);
    lj_buf_finish(&b);
    lj_hub_stats(s->hub)->control_errors++;
    return ++s->errors > LJ_SESSION_ERRORS_MAX ? LJ_LIMIT : LJ_OK;
}

bool lj_tap_wants(const struct lj_tap *tap, const struct lj_line *l)
{
    const struct lj_sub *sub = tap->sub;
    if (sub->levels && !(sub->levels & (1u << l->level)))
        return false;
    if (sub->streams && !(sub->streams & (1u << l->stream)))
        return false;
    return !sub->grep || lj_grep_match(sub->grep, lj_line_text(l), l->text_len);
}

/* ---- subscriptions ---- */

static void sub_free(struct lj_sub *sub)
{
    if (!sub)
        return;
    for (size_t i = 0; i < sub->ntaps; i++)
        free(sub->taps[i]);
    free(sub->taps);
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
    strcpy(sub->id, c->id);
    strcpy(sub->pattern, c->container);
    sub->glob = lj_glob_is_pattern(c->container);
    sub->levels = c->levels;
    sub->streams = c->streams;
    sub->replay = c->replay;
    sub->after_seq = c->after_seq;
    sub->after_line_no = c->after_line_no;
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

/* Removes queued lines of sub's taps (their taps are about to be freed). */
static void purge_sub(struct lj_session *s, const struct lj_sub *sub)
{
    for (size_t i = 0; i < s->qlen; i++) {
        struct lj_item *it = q_at(s, i);
        if (it->line && it->tap->sub == sub) {
            s->qbytes -= it->line->json_len;
            lj_line_unref(it->line);
            it->line = NULL;
            it->tap = NULL;
        }
    }
    for (size_t i = 0; i < sub->ntaps; i++)
        if (sub->taps[i]->dropped)
            s->gaps_pending--;
    pop_dead(s);
}

static void remove_sub(struct lj_session *s, size_t i);

static lj_status do_subscribe(struct lj_session *s, const struct lj_control *c)
{
    char msg[160];
    struct lj_sub *sub = NULL;
    lj_status st;

    if (find_sub(s, c->id, NULL))
        return send_error(s, c->id, "bad_request", "id already in use");
    if (s->nsubs >= LJ_SESSION_SUBS_MAX)
        return send_error(s, c->id, "limit", "too many subscriptions (64)");
    if (!lj_glob_is_pattern(c->container) && !lj_grant_allows(s->grant, c->container))
        return send_error(s, c->id, "forbidden", "container not allowed for this token");
    if (!lj_glob_is_pattern(c->container) && !strchr(c->container, '/'))
        return send_error(s, c->id, "bad_request", "container must be \"<host>/<name>\"");
    st = sub_create(s, c, &sub, msg, sizeof(msg));
    if (st != LJ_OK)
        return send_error(s, c->id, st == LJ_LIMIT ? "limit" : "bad_request",
                          st == LJ_NOMEM ? "out of memory" : msg);
    s->subs[s->nsubs++] = sub;
    st = lj_hub_subscribe(s->hub, sub);
    if (st != LJ_OK) {
        remove_sub(s, s->nsubs - 1);
        return send_error(s, c->id, st == LJ_INVAL ? "bad_request" : "limit",
                          st == LJ_INVAL ? "malformed container name" : "cannot subscribe now");
    }
    return LJ_OK;
}

static void remove_sub(struct lj_session *s, size_t i)
{
    struct lj_sub *sub = s->subs[i];
    lj_hub_unsubscribe(s->hub, sub);
    purge_sub(s, sub);
    s->subs[i] = s->subs[--s->nsubs];
    sub_free(sub);
}

static lj_status do_unsubscribe(struct lj_session *s, const struct lj_control *c)
{
    size_t i;
    if (!find_sub(s, c->id, &i))
        return send_error(s, c->id, "not_found", "no subscription with this id");
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
    lj_hub_containers_json(s->hub, s->grant, &b);
    lj_buf_append(&b, "]}", 2);
    push_buf(s, &b);
    lj_buf_finish(&b);
}

static lj_status handle(struct lj_session *s, const char *data, size_t len)
{
    struct lj_control c;
    char msg[160];
    lj_status st = lj_control_parse(data, len, lj_hub_depth(s->hub), &c, msg, sizeof(msg));

    if (st != LJ_OK)
        return send_error(s, c.id, lj_control_error_code(st), msg);
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
        st = send_error(s, NULL, "limit", "control frame larger than 4096 bytes");
    else
        st = handle(s, s->rx.data ? s->rx.data : "", s->rx.len);
    s->rx_too_big = false;
    lj_buf_finish(&s->rx);
    return st;
}

/* ---- frames out ---- */

/* A slow_client gap for a tap whose dropped lines have no successor queued yet. */
static bool orphan_gap(struct lj_session *s, struct lj_buf *out)
{
    for (size_t i = 0; i < s->nsubs; i++)
        for (size_t k = 0; k < s->subs[i]->ntaps; k++) {
            struct lj_tap *t = s->subs[i]->taps[k];
            if (!t->dropped)
                continue;
            gap_json(out, t, t->sent_seq, t->drop_last_seq + 1, t->dropped, "slow_client");
            lj_hub_stats(s->hub)->gaps_slow++;
            t->sent_seq = t->drop_last_seq;
            t->dropped = 0;
            s->gaps_pending--;
            return true;
        }
    return false;
}

/* True when lines of it's tap were dropped before it: a slow_client gap must go out
 * first. Drops take the oldest queued lines of a tap, so every dropped line lies
 * between the tap's last sent line and its first live line with a higher sequence. */
static bool needs_gap(const struct lj_item *it)
{
    return it->tap->dropped && it->line->seq > it->tap->drop_last_seq;
}

/* Lines frame: consecutive lines of one sub (none of whose taps owes a gap). */
static void lines_frame(struct lj_session *s, struct lj_buf *out)
{
    struct lj_sub *sub = q_at(s, 0)->tap->sub;
    struct lj_hub_stats *st = lj_hub_stats(s->hub);
    const struct lj_line *last = NULL;
    bool first = true;

    lj_buf_appendf(out, "{\"type\":\"lines\",\"id\":%s,\"lines\":[", sub->id_json);
    while (s->qlen && out->len < s->lim.max_frame) {
        struct lj_item *it = q_at(s, 0);
        if (item_dead(it)) {
            q_pop(s);
            continue;
        }
        if (!it->line || it->tap->sub != sub || needs_gap(it))
            break;
        if (!first)
            lj_buf_append(out, ",", 1);
        lj_buf_append(out, it->line->data, it->line->json_len);
        first = false;
        it->tap->sent_seq = it->line->seq;
        s->qbytes -= it->line->json_len;
        st->lines_out++;
        if (last)
            lj_line_unref((struct lj_line *)last);
        last = it->line;
        it->line = NULL;
        q_pop(s);
    }
    lj_buf_append(out, "]}", 2);
    if (last) {
        st->lag_ns = lj_time_now_ns() - last->ts_ns;
        lj_line_unref((struct lj_line *)last);
    }
}

bool lj_session_next_frame(struct lj_session *s, struct lj_buf *out, size_t pre)
{
    struct lj_item *it;

    lj_buf_reset(out);
    lj_buf_reserve(out, pre);
    out->len = pre;
    pop_dead(s);
    if (!s->qlen)
        return s->gaps_pending && orphan_gap(s, out);
    it = q_at(s, 0);
    s->progress_ns = lj_time_mono_ns();
    if (it->msg) {
        lj_buf_append(out, it->msg, it->len);
        s->qbytes -= it->len;
        free(it->msg);
        it->msg = NULL;
        q_pop(s);
    } else if (needs_gap(it)) {
        struct lj_tap *t = it->tap;
        gap_json(out, t, t->sent_seq, it->line->seq, t->dropped, "slow_client");
        lj_hub_stats(s->hub)->gaps_slow++;
        t->dropped = 0;
        s->gaps_pending--;
        /* The gap named this line as next_seq: it must be the next one sent, so later
         * drops start behind it (the bound may be exceeded by this one line). */
        if (s->drop_cursor == 0)
            s->drop_cursor = 1;
    } else {
        lines_frame(s, out);
    }
    lj_hub_stats(s->hub)->frames_out++;
    lj_hub_stats(s->hub)->bytes_out += out->len - pre;
    return true;
}

/* ---- life cycle ---- */

lj_status lj_session_create(struct lj_hub *hub, void *wsi, const struct lj_grant *grant,
                            const struct lj_session_limits *lim, struct lj_session **out)
{
    struct lj_session *s = calloc(1, sizeof(*s));
    struct lj_buf b;

    if (!s)
        return LJ_NOMEM;
    s->hub = hub;
    s->wsi = wsi;
    s->grant = grant;
    s->lim = *lim;
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
    for (size_t i = 0; i < s->qlen; i++) {
        struct lj_item *it = q_at(s, i);
        lj_line_unref(it->line);
        free(it->msg);
    }
    free(s->q);
    lj_buf_finish(&s->rx);
    free(s);
}
