/* registry.h - the LOGJET_CONTAINERS key-value entries: one logjet.v1.ContainerInfo per
 * <host>.<container> (tokens =HH-encoded), written on every start, die, rename and
 * destroy so gateways can list containers, including removed ones whose lines are
 * still retained. Main thread only; each put is one blocking request.
 * Does not decide when to write (main.c) nor pack protobuf (common/record.c).
 */
#ifndef LJ_REGISTRY_H
#define LJ_REGISTRY_H

#include <stdbool.h>

#include "docker.h"
#include "record.h"
#include "sink.h"
#include "status.h"

/* Writes c's entry; state overrides c->state when not NULL ("removed": an entry the
 * bucket holds for this very container keeps its image, labels, times and exit);
 * unreadable_reason (NULL or "" when the log is readable) says why the engine cannot
 * read its log. renamed_from (a rename: c's newest record under an earlier name) is
 * written as the entry's renamed_from; when NULL, the one the bucket's entry already
 * holds for this very container is kept (one read before the write), so that start
 * and die events do not drop it before a record is stored under the new name.
 * LJ_NATS when the bucket could not be written (the caller retries later), LJ_LIMIT
 * when the name cannot form a key. */
lj_status lj_registry_put(struct lj_sink *sink, const char *host,
                          const struct lj_docker_container *c, const char *state,
                          const char *unreadable_reason, const struct lj_record *renamed_from,
                          char *err, size_t errlen);

/* The renamed_from record of host/name's entry when the entry is container id's: LJ_OK
 * with *out borrowing *holder (lj_container_free it); LJ_NOT_FOUND when there is none
 * (or it is another container's, or the bucket cannot be read). */
lj_status lj_registry_renamed_from(struct lj_sink *sink, const char *host, const char *name,
                                   const char *id, lj_pb_container **holder,
                                   struct lj_record *out);

/* LJ_OK when the bucket lists container id under host/name in a state other than
 * "removed": the entry is this container's and still says it exists. LJ_NOT_FOUND
 * when it does not; LJ_NATS (or LJ_PROTO) when the bucket cannot be read. */
lj_status lj_registry_lists(struct lj_sink *sink, const char *host, const char *name,
                            const char *id);

/* The key of host/name: "<enc(host)>.<enc(name)>" into dst. */
lj_status lj_registry_key(const char *host, const char *name, char *dst, size_t n);

#endif
