/* join.c - the session ops of join.h: thin adapters from a session's void * context
 * to the hub. No logic of its own. */
#include "join.h"

#include "hub.h"
#include "session.h"

static lj_status ops_subscribe(void *ctx, struct lj_sub *sub) { return lj_hub_subscribe(ctx, sub); }
static void ops_unsubscribe(void *ctx, struct lj_sub *sub) { lj_hub_unsubscribe(ctx, sub); }
static void ops_wake(void *ctx, struct lj_session *s) { lj_hub_mark_dirty(ctx, s); }
static void ops_starved(void *ctx, struct lj_session *s) { lj_hub_starved(ctx, s); }

static void ops_list(void *ctx, const struct lj_grant *grant, struct lj_buf *out)
{
    lj_hub_containers_json(ctx, grant, out);
}

void lj_join_session_ops(struct lj_hub *hub, struct lj_session_ops *out)
{
    *out = (struct lj_session_ops){ .subscribe = ops_subscribe, .unsubscribe = ops_unsubscribe,
                                    .list = ops_list, .wake = ops_wake, .starved = ops_starved,
                                    .ctx = hub, .depth = lj_hub_depth(hub),
                                    .stats = lj_hub_stats(hub) };
}
