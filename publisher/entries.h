/* entries.h - the follow table's side of the registry (LOGJET_CONTAINERS): writing a
 * container's entry, and again from the tick when it could not be written (NATS away,
 * a failed write); retiring the entry of a container removed or renamed; and where a
 * container's stored lines stand across renames: the subject's last record, the
 * entry's renamed_from, or, for a rename no publisher saw, another subject whose last
 * record is the container's.
 *
 * Main thread; each call blocks for one or a few small JetStream requests. Does not
 * pack entries (registry.c) nor decide when they are written (table.c).
 */
#ifndef LJ_ENTRIES_H
#define LJ_ENTRIES_H

#include <stdbool.h>
#include <stddef.h>

#include "docker.h"
#include "record.h"
#include "table.h"

/* Writes c's entry: state overrides Docker's (NULL: c->state; "removed" is written
 * whatever the selection), with the slot's unreadable reason and renamed_from (NULL:
 * the entry's own is kept, registry.h). Not written now: the tick writes it later. */
void lj_entries_put(struct lj_table *t, struct lj_table_env *env,
                    const struct lj_docker_container *c, const char *state,
                    const struct lj_record *renamed_from);
/* Says that container id, followed under name, is gone. */
void lj_entries_removed(struct lj_table *t, struct lj_table_env *env, const char *id,
                        const char *name);
/* Says so only if name's entry still lists container id (a container with no slot was
 * removed or renamed; one never followed has no entry and gets none). */
void lj_entries_retire(struct lj_table *t, struct lj_table_env *env, const char *id,
                       const char *name);
/* Container id, called name until now, is now c->name: c's entry gets renamed_from,
 * the newest record stored of it under name (or under a name before that). */
void lj_entries_renamed(struct lj_table *t, struct lj_table_env *env,
                        const struct lj_docker_container *c, const char *name);

/* The newest record stored of container id under name: the subject's last record when
 * it is id's, or name's entry's renamed_from, whichever is newer. False when neither.
 * *m and *entry hold the memory (the caller frees both, also on false). */
bool lj_entries_newest_stored(struct lj_table *t, struct lj_table_env *env, const char *id,
                              const char *name, lj_pb_record **m, lj_pb_container **entry,
                              struct lj_record *out);
/* True when lines of c were stored (under its name, or one it was renamed from). */
bool lj_entries_stored(struct lj_table *t, struct lj_table_env *env,
                       const struct lj_docker_container *c);

/* For the sync: the container and name of each subject's last record on this host, to
 * find where a container renamed while no publisher watched left its lines. */
struct lj_entries_last {
    char id[65];
    char name[256];
    int64_t newest_ts;
};

/* Every subject of this host with its last record's container (n set; NULL when the
 * stream cannot be read or holds none). One request per subject: the sync reads it
 * once, and only when a listed container has no record under its name. */
struct lj_entries_last *lj_entries_lasts(struct lj_table *t, struct lj_table_env *env, size_t *n);
/* c has no record under its name: when a subject's last record in v is c's under
 * another name, c was renamed while no publisher watched; its entry is written as the
 * rename event would have, and true. */
bool lj_entries_renamed_unseen(struct lj_table *t, struct lj_table_env *env,
                               const struct lj_docker_container *c,
                               struct lj_entries_last *v, size_t n);

/* Writes the entries not written before, from the engine's state now (at most once a
 * second; those that fail again wait for the next). */
void lj_entries_write_unwritten(struct lj_table *t, struct lj_table_env *env);

#endif
