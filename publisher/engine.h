/* engine.h - the publisher's connection to the Docker engine: the start-up sequence
 * (subscribe to /events, then list), the engine's events handed to the follow table,
 * and what an outage does. One step per main-loop turn, main thread only.
 *
 * Start-up, and every reconnect to the engine, in this order (lj_engine_connect):
 *   1. T0 := the engine's own clock (GET /info SystemTime), never ours: the engine
 *      stamps events with its clock, and ours may be ahead of it (tcp://, a VM, no NTP);
 *      a since= ahead of the engine loses every event up to our "now".
 *   2. GET /events?since=T0 is opened, and nothing is listed until the engine has
 *      answered it (events.c: SUBSCRIBED). From then on every event reaches us live;
 *      those from T0 to the subscription (one round trip) are replayed from the
 *      engine's 256-event ring, since= being inclusive.
 *   3. Only then are the containers listed (all=1, at T1 > T0 on the engine's clock)
 *      and each inspected: every one running is followed; a stopped one is read to its
 *      end if it is followed already or lines of it were stored (under this name or
 *      one it had before), and backfilled if none were (table.h, lj_table_sync).
 *   4. A container not running in that listing starts after it. The engine shows a
 *      container as running in its list before it records the start event
 *      (daemon/start.go: CheckpointTo, then LogContainerEvent), so that event is
 *      stamped after T1 > T0 and comes through step 2. No container falls between: it
 *      is running at T1 (step 3) or starts after T1 (step 4). One that is both is
 *      followed once (follow_container is idempotent).
 *   5. Events are acted on only after the listing (lj_engine_dispatch runs after
 *      lj_engine_connect), so a replayed event never acts on a container the listing
 *      has not seen yet; a replayed one is harmless (start: already followed; destroy:
 *      not listed, so already marked removed; rename: re-points to the current name, or
 *      finds the follow already there when the listing came after the rename).
 *   An outage loses the ring's events: every reconnect takes steps 1-5 again, and a
 *   followed container that is no longer listed is marked removed.
 * Where each follow then begins in the container's log is table.h's argument.
 *
 * Does not parse the event stream (events.c) nor decide what an event means for a
 * follow (table.c); it orders them.
 */
#ifndef LJ_ENGINE_H
#define LJ_ENGINE_H

#include <curl/curl.h>

#include "events.h"
#include "table.h"

/* Steps 1-3 above, one per call (a loop turn): nothing while the engine is up or NATS
 * is not ready; else ping, read the engine's clock and open /events (with backoff),
 * and once subscribed, list (lj_table_sync) and mark the engine up. */
void lj_engine_connect(struct lj_events *ev, struct lj_table *t, struct lj_table_env *env);

/* Step 5: hands every queued event to the table, in order, and clears the queue. */
void lj_engine_dispatch(struct lj_events *ev, struct lj_table *t, struct lj_table_env *env);

/* The /events transfer ended with rc: the engine is down; every transfer is stopped to
 * restart from its cursor once the engine is back and listed again. */
void lj_engine_lost(struct lj_events *ev, struct lj_table *t, struct lj_table_env *env,
                    CURLcode rc);

#endif
