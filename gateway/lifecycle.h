/* lifecycle.h - a container's lifecycle changes (started, restarted, exited,
 * OOM-killed, removed, renamed) derived from successive entries of the container
 * registry, and the browser `event` object that carries one.
 *
 * The hub keeps each container's last state (struct lj_lifecycle_state, in its
 * registry entry) and hands every new entry to lj_lifecycle_put, which compares the
 * two and calls `emit` for each change. A rename is two entries, in either order: the
 * new name with the container's id, and the old name as removed. A new entry whose id
 * another entry of the registry (its twin) still has is the new name: `renamed` at
 * once, and the twin's removal that follows is no news. A removal first may be the
 * first half of a rename, so it waits LJ_LIFECYCLE_RENAME_WAIT_NS for the second half
 * before it is emitted (lj_lifecycle_tick).
 * Does not know about sessions, subscriptions, NATS or lws; never prints.
 * Service thread only.
 */
#ifndef LJ_LIFECYCLE_H
#define LJ_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"
#include "status.h"

#define LJ_LIFECYCLE_RENAME_WAIT_NS (1500 * 1000000LL)

enum lj_lifecycle_kind {
    LJ_LIFECYCLE_STARTED,      /* the container's first run began */
    LJ_LIFECYCLE_RESTARTED,    /* a later run began */
    LJ_LIFECYCLE_OOM_KILLED,   /* the run ended killed by the kernel's OOM killer */
    LJ_LIFECYCLE_EXITED,       /* the run ended, with exit_code */
    LJ_LIFECYCLE_REMOVED,      /* the container is gone */
    LJ_LIFECYCLE_RENAMED,      /* the container now goes by new_key */
};

/* What the hub keeps of a container's last registry entry. */
struct lj_lifecycle_state {
    char id[65];
    char state[16];            /* Docker's state, cut to 15 bytes */
    int64_t started_ns, finished_ns, updated_ns;
    int exit_code;
    bool oom_killed;
};

struct lj_lifecycle_event {
    enum lj_lifecycle_kind kind;
    const char *key;           /* "host/name" the event is about */
    const char *new_key;       /* RENAMED: "host/new-name"; else NULL */
    int64_t ts_ns;             /* Docker's time of it (StartedAt, FinishedAt; for a
                                  removal or rename the registry write's time) */
    int exit_code;             /* EXITED, OOM_KILLED */
    bool oom_killed;
    bool current;              /* describes the state at subscribe, not a change */
};

typedef void (*lj_lifecycle_emit)(void *arg, const struct lj_lifecycle_event *ev);

struct lj_lifecycle;

/* On LJ_OK *out belongs to the caller (lj_lifecycle_destroy, NULL is fine). */
lj_status lj_lifecycle_create(struct lj_lifecycle **out);
void lj_lifecycle_destroy(struct lj_lifecycle *lc);

/* The state of a registry entry. */
void lj_lifecycle_state_of(const lj_pb_container *info, struct lj_lifecycle_state *st);

/* A new registry entry for key ("host/name"): old is the state before it (NULL when
 * the container is new to the registry), now the new one; twin_key/twin another entry
 * with now's id that is not removed (NULL when none). Calls emit for each change,
 * oldest first; a removal is held (see above). Returns true when the entry is twin's
 * container under its new name (`renamed` emitted): the caller then says nothing of
 * twin's removal. now_ns: CLOCK_MONOTONIC. */
bool lj_lifecycle_put(struct lj_lifecycle *lc, const char *key, const struct lj_lifecycle_state *old,
                      const struct lj_lifecycle_state *now, const char *twin_key,
                      const struct lj_lifecycle_state *twin, int64_t now_ns, lj_lifecycle_emit emit,
                      void *arg);

/* Emits the removals that waited long enough for a rename (all of them when flush). */
void lj_lifecycle_tick(struct lj_lifecycle *lc, int64_t now_ns, bool flush, lj_lifecycle_emit emit,
                       void *arg);

/* Emits the events that describe state st of key as it is now (marked current): its
 * run's start, its end (OOM kill, exit) once it ended, its removal. */
void lj_lifecycle_current(const char *key, const struct lj_lifecycle_state *st,
                          lj_lifecycle_emit emit, void *arg);

/* Appends the frame's fields after its id: `,"container":..,"event":..,"ts":..}` and
 * the kind's own fields (see docs/protocol.md). */
void lj_lifecycle_json(const struct lj_lifecycle_event *ev, struct lj_buf *b);

/* "started", "exited", ...: the protocol's name of kind. */
const char *lj_lifecycle_name(enum lj_lifecycle_kind kind);

#endif
