/* containers.h - the gateway's table of known containers: its view of the
 * LOGJET_CONTAINERS bucket, each entry's /api/containers JSON and its last
 * lifecycle state, and the lifecycle events (lifecycle.h) its changes mean.
 *
 * The table reports through hooks given at creation: a container new to it
 * (discover: globs start following it) and each lifecycle event (emit). It does not
 * know watches, taps, sessions or NATS; the hub applies the feed's registry events
 * to it. Service thread only.
 */
#ifndef LJ_CONTAINERS_H
#define LJ_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "lifecycle.h"
#include "record.h"
#include "status.h"

struct lj_containers;

struct lj_containers_hooks {
    void (*discover)(void *arg, const char *key);   /* "host/name" new to the table */
    void (*emit)(void *arg, const struct lj_lifecycle_event *ev);
    void *arg;
};

/* On LJ_OK *out belongs to the caller (lj_containers_destroy); hooks are copied. */
lj_status lj_containers_create(const struct lj_containers_hooks *hooks,
                               struct lj_containers **out);

/* Frees every entry and the held removals (no events). NULL is fine. */
void lj_containers_destroy(struct lj_containers *t);

/* The bucket's entry kvkey ("<h>.<c>", encoded) now holds info. A new container is
 * announced to discover first; then, once synced (the entries the bucket held at
 * start-up are no news), what changed goes out as lifecycle events. An entry
 * without host or name is ignored. */
void lj_containers_put(struct lj_containers *t, const char *kvkey, const lj_pb_container *info,
                       bool synced);

/* The bucket's entry kvkey was deleted: forgotten, and (once synced) announced as
 * removed unless it already was. */
void lj_containers_del(struct lj_containers *t, const char *kvkey, bool synced);

/* Once a second: emits the removals held for a rename that did not come. */
void lj_containers_tick(struct lj_containers *t, int64_t now_mono_ns);

/* Whether kvkey is in the table. */
bool lj_containers_has(const struct lj_containers *t, const char *kvkey);

size_t lj_containers_count(const struct lj_containers *t);

/* Calls fn for every entry with a key, in table order, until fn returns other than
 * LJ_OK; returns that status (LJ_OK when all were visited). */
lj_status lj_containers_each(const struct lj_containers *t,
                             lj_status (*fn)(void *arg, const char *key,
                                             const struct lj_lifecycle_state *lc),
                             void *arg);

/* Appends {"host":..,"name":..,...} objects, comma separated, for every entry grant
 * allows. */
void lj_containers_json(const struct lj_containers *t, const struct lj_grant *grant,
                        struct lj_buf *out);

#endif
