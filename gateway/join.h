/* join.h - joins a session to the hub: the lj_session_ops (session.h) a session is
 * created with, each the hub function (hub.h) of the same name.
 *
 * The one file that includes both session.h and hub.h, so that neither session.c nor
 * hub.c names the other. Holds no state. Service thread only.
 */
#ifndef LJ_JOIN_H
#define LJ_JOIN_H

struct lj_hub;
struct lj_session_ops;

/* Fills *out with hub's side of a session: subscribe, unsubscribe, list, wake
 * (lj_hub_mark_dirty), starved, the replay depth and the counters. hub must outlive
 * the sessions created with it. */
void lj_join_session_ops(struct lj_hub *hub, struct lj_session_ops *out);

#endif
