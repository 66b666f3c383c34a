/* natsurl.h - the --nats-url value both daemons take: one URL or a comma-separated list
 * (a cluster), checked up front so a typo is reported with the offending value instead
 * of as a connection that never comes up. */
#ifndef LJ_NATSURL_H
#define LJ_NATSURL_H

#include <nats/nats.h>
#include <stddef.h>

#include "status.h"

#define LJ_NATSURL_MAX 16

/* Checks every URL of list (nats://, tls://, or host:port) and gives them to opts with
 * natsOptions_SetServers. LJ_INVAL naming the bad entry, or LJ_NATS. */
lj_status lj_natsurl_apply(natsOptions *opts, const char *list, char *err, size_t errlen);

/* Only the check, for option parsing before any connection is made. */
lj_status lj_natsurl_check(const char *list, char *err, size_t errlen);

#endif
