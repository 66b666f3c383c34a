/* status.h - the one status type of logjet.
 *
 * Every fallible function in common/, publisher/ and gateway/ returns an lj_status.
 * The names and messages come from one table (LJ_STATUS_MAP) so they cannot drift.
 * Library code never prints: it returns a status and, where useful, fills an error
 * buffer the caller passed (char *err, size_t errlen).
 */
#ifndef LJ_STATUS_H
#define LJ_STATUS_H

#include <stddef.h>

#define LJ_STATUS_MAP(X)                                                   \
    X(OK,        "success")                                                \
    X(NOMEM,     "out of memory")                                          \
    X(INVAL,     "invalid argument")                                       \
    X(IO,        "input/output error")                                     \
    X(PROTO,     "protocol violation")                                     \
    X(TIMEOUT,   "timed out")                                              \
    X(NOT_FOUND, "not found")                                              \
    X(CLOSED,    "connection closed")                                      \
    X(AGAIN,     "try again later")                                        \
    X(LIMIT,     "limit reached")                                          \
    X(NATS,      "NATS error")                                             \
    X(DOCKER,    "Docker engine error")                                    \
    X(UNSUPPORTED, "not supported")

typedef enum lj_status {
#define LJ_STATUS_ENUM(name, msg) LJ_##name,
    LJ_STATUS_MAP(LJ_STATUS_ENUM)
#undef LJ_STATUS_ENUM
    LJ_STATUS_COUNT
} lj_status;

/* "LJ_TIMEOUT" style name of s; never NULL (unknown values give "LJ_UNKNOWN"). */
const char *lj_status_name(lj_status s);

/* Human message of s ("timed out"); never NULL. */
const char *lj_status_str(lj_status s);

/* Writes printf-style text into err (size errlen, may be 0/NULL) and returns s,
 * so a failing function can end with `return lj_fail(err, errlen, LJ_INVAL, ...)`. */
lj_status lj_fail(char *err, size_t errlen, lj_status s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
