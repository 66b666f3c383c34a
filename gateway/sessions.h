/* sessions.h - the hub's sessions: the open ones, the closed ones waiting for the next
 * tick to be freed (a session is never freed inside a callback of its own
 * connection), the wake list (sessions with something to send, asked a writable
 * callback once per service pass) and the starved list (spent their grep budget).
 *
 * The only place outside session.c that writes a session's fields (its list links,
 * dirty, idle, progress_ns, starved, wsi, closing). Does not build frames or know
 * watches; lws is reached only through the writable function it is handed.
 * Service thread only.
 */
#ifndef LJ_SESSIONS_H
#define LJ_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lj_session;
struct lj_stats;

/* Embedded in the hub; zero it, then set stats. */
struct lj_sessions {
    struct lj_session *open;        /* open sessions, by next/prev */
    size_t count;                   /* of open */
    struct lj_session *graveyard;   /* closed, freed on the next tick (by next) */
    struct lj_session *dirty;       /* wake list, by dirty_next */
    struct lj_session *starved;     /* spent their grep budget, by starved_next */
    struct lj_stats *stats;         /* slow_closes */
};

/* s is open: the list owns it from now on. */
void lj_sessions_add(struct lj_sessions *ss, struct lj_session *s);

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

/* Asks writable(wsi) once for every session on the wake list, and empties it. */
void lj_sessions_write(struct lj_sessions *ss, void (*writable)(void *wsi));

/* Calls fn for every open session (fn may close it). */
void lj_sessions_each(struct lj_sessions *ss, void (*fn)(struct lj_session *s));

/* Frees the sessions closed since the last call. */
void lj_sessions_reap(struct lj_sessions *ss);

/* Once a second: returns through close_cb the sessions stalled past stall_ns with
 * something to send (counted in slow_closes), and trims idle sessions' queues. */
void lj_sessions_tick(struct lj_sessions *ss, int64_t now, int64_t stall_ns,
                      void (*close_cb)(struct lj_session *s));

/* Adds the open sessions' subscriptions and backlog bytes to *subs and *queued. */
void lj_sessions_gauges(const struct lj_sessions *ss, size_t *subs, size_t *queued);

/* Closes and frees every session (shutdown). */
void lj_sessions_finish(struct lj_sessions *ss);

#endif
