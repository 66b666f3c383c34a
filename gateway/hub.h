/* hub.h - the fan-out: one watch (watch.h) per container that has viewers, shared by
 * all of them.
 *
 * The hub keeps the table of watches (watches.h) and attaches each subscription's
 * taps (tap.h) to them: a new tap is served its replay or resume from the watch's ring, then the
 * live lines through its cursor. Fan-out is by cursor: a new line is appended once
 * and the watch's sessions are woken once per service pass; each session reads the
 * lines through its taps' cursors. A viewer whose cursor falls behind what the ring
 * keeps loses those lines and gets an exact gap. A watch lingers `linger` after its
 * last viewer.
 *
 * The hub also applies the feed's registry events to the container table
 * (containers.h), keeps the glob subscriptions waiting for new containers, and the
 * gauges behind /metrics (the counters: stats.h). It borrows the server's session
 * list (sessions.h) to wake, starve and count sessions, and never creates, closes or
 * frees a session. Service thread only, except where a function says otherwise.
 */
#ifndef LJ_HUB_H
#define LJ_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "feed.h"
#include "ring.h"
#include "control.h"
#include "tap.h"
#include "stats.h"

struct lj_hub_config {
    uint32_t depth;            /* ring window and replay bound (default 1000) */
    int64_t linger_ns;         /* keep a watch this long after its last viewer */
    struct lj_control_limits limits;
    uint32_t max_watches;      /* watched containers at most (0: LJ_WATCHES_MAX, watches.h) */
};

struct lj_hub;
struct lj_session;
struct lj_sessions;

/* On LJ_OK *out belongs to the caller (lj_hub_destroy). */
lj_status lj_hub_create(const struct lj_hub_config *cfg, struct lj_hub **out);

/* Frees the registry and the watches, unsubscribing each watch from the feed. Call it
 * after lj_server_destroy (which frees the sessions, so every tap is detached) and
 * before lj_feed_destroy, which needs every subscription released first. Main
 * thread. NULL is fine. */
void lj_hub_destroy(struct lj_hub *h);

/* Gives the hub its NATS feed (not owned; it must outlive the hub). */
void lj_hub_set_feed(struct lj_hub *h, struct lj_feed *feed);

/* Lends the hub the server's session list (not owned; NULL takes it back): the hub
 * wakes and starves sessions on it and asks their writable callbacks through it.
 * Until it has one, no session exists and a service pass wakes nobody. */
void lj_hub_set_sessions(struct lj_hub *h, struct lj_sessions *sessions);

/* Applies queued feed events (lines into rings, registry changes, fetch results) for
 * at most LJ_HUB_SLICE_NS, then wakes the sessions of the watches that got lines and
 * asks for a writable callback on each session that has something to send. Events left over stay in order in the hub's backlog and the
 * loop is woken again (lj_feed_rewake), so writes run between slices. Service thread. */
#define LJ_HUB_SLICE_NS 2000000LL
void lj_hub_service(struct lj_hub *h);

/* Applies one feed event now and frees it (what lj_hub_service does with each queued
 * one; also the unit tests' door). Does not wake sessions: lj_hub_service does.
 * Service thread. */
void lj_hub_apply(struct lj_hub *h, struct lj_feed_event *e);

/* Once a second: retries failed fetches, releases lingering watches, trims rings
 * of lines no cursor needs any more, and ages the container table. */
void lj_hub_tick(struct lj_hub *h);

/* Puts s on the wake list (it has something to send); an idle session's stall
 * clock starts now. */
void lj_hub_mark_dirty(struct lj_hub *h, struct lj_session *s);

/* s spent its grep budget (lj_tap_check): the next service pass refills it and wakes
 * s, and that pass comes soon (the loop is woken). */
void lj_hub_starved(struct lj_hub *h, struct lj_session *s);

/* Attaches sub's taps: one for a plain container, one per matching registry entry for
 * a glob (and later ones as they appear). A plain name that neither the registry nor
 * a watch knows yet waits, without a NATS subscription, and is served from its first
 * retained line once the registry has it. LJ_NOMEM, LJ_INVAL (malformed name),
 * LJ_LIMIT (a watch bound above), LJ_NATS (cannot subscribe). */
lj_status lj_hub_subscribe(struct lj_hub *h, struct lj_sub *sub);

/* Detaches every tap of sub and forgets it as a glob. */
void lj_hub_unsubscribe(struct lj_hub *h, struct lj_sub *sub);

/* Appends {"host":..,"name":..,...} objects, comma separated, for every registry
 * entry grant allows. */
void lj_hub_containers_json(struct lj_hub *h, const struct lj_grant *grant, struct lj_buf *out);

/* Appends the Prometheus text of the hub's gauges and counters. */
void lj_hub_metrics(struct lj_hub *h, struct lj_buf *out);

/* The counters the hub and its sessions write into (owned by the hub). */
struct lj_stats *lj_hub_stats(struct lj_hub *h);
uint32_t lj_hub_depth(const struct lj_hub *h);
bool lj_hub_nats_connected(const struct lj_hub *h);

/* true when the feed's NATS connection is up, nothing is wrong and the registry's
 * entries at start-up are loaded (so lists are complete); otherwise false with the
 * reason (no secrets) in why, for /healthz. Any thread. */
bool lj_hub_nats_healthy(const struct lj_hub *h, char *why, size_t whylen);

#endif
