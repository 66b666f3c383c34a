/* natsurl.h - the --nats-url value both daemons take: one URL or a comma-separated list
 * (a cluster), checked up front so a typo is reported with the offending value instead
 * of as a connection that never comes up. A URL may carry credentials
 * (nats://user:password@host:port); every text this module produces shows them as ***. */
#ifndef LJ_NATSURL_H
#define LJ_NATSURL_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define LJ_NATSURL_MAX 16

/* Checks every URL of list (nats://, tls://, or host:port) and gives them to opts with
 * natsOptions_SetServers. LJ_INVAL naming the bad entry, or LJ_NATS. */
lj_status lj_natsurl_apply(natsOptions *opts, const char *list, char *err, size_t errlen);

/* Copies list into out (size outlen, always NUL-terminated) with the credentials of
 * every URL (`user:password@`, `token@`) replaced by `***@`, for logs, errors and
 * labels: pub:s3cret@h:4222 after the scheme is shown as ***@h:4222. Returns out. */
const char *lj_natsurl_redact(const char *list, char *out, size_t outlen);

/* true when some URL of list starts with tls:// (TLS is then required). */
bool lj_natsurl_wants_tls(const char *list);

/* Host of the first URL of list (without user info, port or brackets) into out;
 * false when it has none or it does not fit. */
bool lj_natsurl_first_host(const char *list, char *out, size_t outlen);

/* Only the check, for option parsing before any connection is made. */
lj_status lj_natsurl_check(const char *list, char *err, size_t errlen);

#endif
