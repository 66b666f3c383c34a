/* sessions.c - the server's sessions (sessions.h): each one's creation and freeing,
 * the list of open ones, the closed ones freed on the next tick (never inside their
 * own callback), the wake list (one writable request per session per pass) and the
 * starved list.
 * Does not build frames, parse control messages or talk to lws beyond the
 * writable request it is handed.
 */
#include "sessions.h"

#include "list.h"
#include "session.h"

#include "stats.h"
#include "timeutil.h"

#define QUEUE_IDLE_NS 1000000000LL   /* an empty queue idle this long gives its storage back */

lj_status lj_sessions_open(struct lj_sessions *ss, const struct lj_session_ops *ops, void *wsi,
                           const struct lj_grant *grant, const struct lj_control_limits *lim,
                           struct lj_session **out)
{
    struct lj_session *s;
    lj_status st = lj_session_create(ops, wsi, grant, lim, &s);
    if (st != LJ_OK)
        return st;
    LJ_LIST_PUSH(ss->open, s, next, prev);
    ss->count++;
    *out = s;
    return LJ_OK;
}

static void session_unlink(struct lj_sessions *ss, struct lj_session *s)
{
    LJ_LIST_UNLINK(ss->open, s, next, prev);
    ss->count--;
}

void lj_sessions_closed(struct lj_sessions *ss, struct lj_session *s)
{
    struct lj_session **pp = &ss->dirty;
    session_unlink(ss, s);
    while (*pp && *pp != s)
        pp = &(*pp)->dirty_next;
    if (*pp)
        *pp = s->dirty_next;
    for (pp = &ss->starved; s->starved && *pp; pp = &(*pp)->starved_next)
        if (*pp == s) {
            *pp = s->starved_next;
            break;
        }
    s->starved = false;
    s->dirty = false;
    s->wsi = NULL;
    s->closing = true;
    s->next = ss->graveyard;
    ss->graveyard = s;
}

void lj_sessions_wake(struct lj_sessions *ss, struct lj_session *s)
{
    if (s->dirty || !s->wsi)
        return;
    if (s->idle) {    /* it has had nothing to send: the stall clock starts now */
        s->idle = false;
        s->progress_ns = lj_time_mono_ns();
    }
    s->dirty = true;
    s->dirty_next = ss->dirty;
    ss->dirty = s;
}

bool lj_sessions_starve(struct lj_sessions *ss, struct lj_session *s)
{
    if (s->starved || s->closing)
        return false;
    s->starved = true;
    s->starved_next = ss->starved;
    ss->starved = s;
    return true;
}

void lj_sessions_refill(struct lj_sessions *ss)
{
    struct lj_session *s = ss->starved;
    ss->starved = NULL;
    while (s) {
        struct lj_session *n = s->starved_next;
        s->starved = false;
        s->grep_budget = LJ_SESSION_GREP_BUDGET;
        lj_sessions_wake(ss, s);
        s = n;
    }
}

bool lj_sessions_asleep(const struct lj_session *s)
{
    return !s->dirty && !s->closing;
}

void lj_sessions_write(struct lj_sessions *ss)
{
    /* One writable request per session per loop pass, however many lines it got. */
    while (ss->dirty) {
        struct lj_session *s = ss->dirty;
        ss->dirty = s->dirty_next;
        s->dirty = false;
        if (s->wsi && ss->writable) {
            if (!s->asked_ns)
                s->asked_ns = lj_time_mono_ns();
            ss->writable(s->wsi);
        }
    }
}

void lj_sessions_each(struct lj_sessions *ss, void (*fn)(void *wsi))
{
    for (struct lj_session *s = ss->open, *n; s; s = n) {
        n = s->next;
        if (s->wsi)
            fn(s->wsi);
    }
}

void lj_sessions_reap(struct lj_sessions *ss)
{
    while (ss->graveyard) {
        struct lj_session *s = ss->graveyard;
        ss->graveyard = s->next;
        lj_session_destroy(s);
    }
}

void lj_sessions_tick(struct lj_sessions *ss, int64_t now, int64_t stall_ns,
                      void (*close_cb)(void *wsi))
{
    for (struct lj_session *s = ss->open, *n; s; s = n) {
        n = s->next;
        if (!s->closing && now - s->progress_ns > stall_ns && lj_session_pending(s)) {
            ss->stats->slow_closes++;
            if (s->wsi)
                close_cb(s->wsi);
            s->closing = true;
        }
        lj_session_trim(s, now, QUEUE_IDLE_NS);
    }
}

void lj_sessions_gauges(const struct lj_sessions *ss, size_t *subs, size_t *queued)
{
    for (const struct lj_session *s = ss->open; s; s = s->next) {
        *subs += s->nsubs;
        *queued += lj_session_backlog(s);
    }
}

void lj_sessions_finish(struct lj_sessions *ss)
{
    while (ss->open)
        lj_sessions_closed(ss, ss->open);
    lj_sessions_reap(ss);
}
