/* cidr.h - a list of address ranges (`--trusted-proxies 10.0.0.0/8,::1,...`) and
 * whether a peer address falls in one of them.
 *
 * Does not resolve names: only IPv4 and IPv6 literals, with or without /prefix (a
 * bare address is /32 or /128). An IPv4 peer seen as an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, as on a dual-stack socket) matches the IPv4 ranges.
 */
#ifndef LJ_CIDR_H
#define LJ_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "status.h"

struct lj_cidr_list;

/* Parses a comma-separated list (spaces around items allowed). On LJ_OK *out belongs
 * to the caller (lj_cidr_destroy). LJ_INVAL with the bad item named in err when an
 * item is not an address or its prefix is out of range, or the list is empty;
 * LJ_NOMEM. */
lj_status lj_cidr_parse(const char *list, struct lj_cidr_list **out, char *err, size_t errlen);

void lj_cidr_destroy(struct lj_cidr_list *l);

/* true when sa (AF_INET or AF_INET6) lies in one of l's ranges. NULL l: false. */
bool lj_cidr_match(const struct lj_cidr_list *l, const struct sockaddr *sa);

#endif
