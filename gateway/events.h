/* events.h - what a subscription is told about its containers besides their lines:
 * lifecycle events (lifecycle.h), an `event` frame for every subscription that covers
 * the container or for one subscription; and, for a time jump, a `retention` frame
 * when the time asked is older than what is still stored.
 *
 * A subscription covers a container when its pattern is the container's "host/name"
 * or a glob matching it, and its session's grant allows it. Events are not lines:
 * the subscription's level, stream and grep filters do not apply to them, and they
 * have no sequence (a resume does not repeat live events). Frames go through the
 * session's message queue. Does not derive events (lifecycle.c does) nor know NATS.
 * Service thread only.
 */
#ifndef LJ_EVENTS_H
#define LJ_EVENTS_H

#include "lifecycle.h"
#include "tap.h"

struct lj_session;

/* Queues ev on every subscription of the sessions of the list (linked by next,
 * starting at sessions) that covers ev->key (or, for a rename, ev->new_key); once
 * per subscription. Closing sessions are skipped. */
void lj_events_broadcast(struct lj_session *sessions, const struct lj_lifecycle_event *ev);

/* Queues ev on sub alone (the current state told at subscribe). */
void lj_events_to_sub(struct lj_sub *sub, const struct lj_lifecycle_event *ev);

/* Queues on sub the `retention` frame of container key: lines of it stored before
 * `first` (the oldest the gateway can serve, line_no > 1) are gone, and the time sub
 * asked for (its since_ns) is older than first's. */
void lj_events_retention(struct lj_sub *sub, const char *key, const struct lj_line *first);

/* Whether sub covers the container key ("host/name"). */
bool lj_events_covers(const struct lj_sub *sub, const char *key);

#endif
