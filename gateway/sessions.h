/* sessions.h - the server's sessions, the one owner of every struct lj_session: the
 * open ones (each created here, by lj_sessions_open), the closed ones waiting for the
 * next tick to be freed (a session is never freed inside a callback of its own
 * connection), the wake list (sessions with something to send, asked a writable
 * callback once per service pass) and the starved list (spent their grep budget).
 *
 * Created, closed and freed only here, on the server's calls (open on ESTABLISHED,
 * closed on CLOSED, reaped on the tick, finished on destroy). The hub borrows the
 * list (lj_hub_set_sessions) to wake, starve and count sessions, never to add, close
 * or free one. The only place outside session.c that writes a session's fields (its
 * list links, dirty, idle, progress_ns, starved, wsi, closing). Does not build frames
 * or know watches; lws is reached only through the functions it is handed.
 * Service thread only.
 */
#ifndef LJ_SESSIONS_H
#define LJ_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct lj_control_limits;
struct lj_grant;
struct lj_session;
struct lj_session_ops;
struct lj_stats;

/* Embedded in the server; zero it, then set stats and writable. */
struct lj_sessions {
    struct lj_session *open;        /* open sessions, by next/prev */
    size_t count;                   /* of open */
    struct lj_session *graveyard;   /* closed, freed on the next tick (by next) */
    struct lj_session *dirty;       /* wake list, by dirty_next */
    struct lj_session *starved;     /* spent their grep budget, by starved_next */
    struct lj_stats *stats;         /* slow_closes */
    void (*writable)(void *wsi);    /* asks lws for a writable callback on wsi */
};

/* Creates an open session for connection wsi (lj_session_create: ops copied, hello
 * queued). On LJ_OK the list owns it and *out is a borrowed pointer, valid until
 * lj_sessions_closed. LJ_NOMEM. */
lj_status lj_sessions_open(struct lj_sessions *ss, const struct lj_session_ops *ops, void *wsi,
                           const struct lj_grant *grant, const struct lj_control_limits *lim,
                           struct lj_session **out);

/* s's connection is gone (its CLOSED callback): off every list, closing, no wsi;
 * freed by the next lj_sessions_reap. */
void lj_sessions_closed(struct lj_sessions *ss, struct lj_session *s);

/* Puts s on the wake list (it has something to send); an idle session's stall clock
 * starts now. Nothing for a session without a connection. */
void lj_sessions_wake(struct lj_sessions *ss, struct lj_session *s);

/* Puts s on the starved list; true when it was not on it yet (the caller then makes
 * sure a service pass comes soon). false for a closing session. */
bool lj_sessions_starve(struct lj_sessions *ss, struct lj_session *s);

/* A new pass: the starved sessions get their grep budget back and are woken. */
void lj_sessions_refill(struct lj_sessions *ss);

/* true when s is neither on the wake list nor closing (worth waking). */
bool lj_sessions_asleep(const struct lj_session *s);

/* Asks ss->writable(wsi) once for every session on the wake list, and empties it. */
void lj_sessions_write(struct lj_sessions *ss);

/* Calls fn with the connection of every open session (for shutdown). */
void lj_sessions_each(struct lj_sessions *ss, void (*fn)(void *wsi));

/* Frees the sessions closed since the last call. */
void lj_sessions_reap(struct lj_sessions *ss);

/* Once a second: marks closing the sessions stalled past stall_ns with something to
 * send (counted in slow_closes) and hands their connections to close_cb (which drops
 * them), and trims idle sessions' queues. */
void lj_sessions_tick(struct lj_sessions *ss, int64_t now, int64_t stall_ns,
                      void (*close_cb)(void *wsi));

/* Adds the open sessions' subscriptions and backlog bytes to *subs and *queued. */
void lj_sessions_gauges(const struct lj_sessions *ss, size_t *subs, size_t *queued);

/* Closes and frees every session (the server's destroy, after lws closed them all). */
void lj_sessions_finish(struct lj_sessions *ss);

#endif
