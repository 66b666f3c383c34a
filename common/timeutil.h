/* timeutil.h - clocks and RFC 3339 timestamps with nanoseconds, all in UTC. */
#ifndef LJ_TIMEUTIL_H
#define LJ_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Nanoseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t lj_time_now_ns(void);

/* Nanoseconds from CLOCK_MONOTONIC: for timeouts and intervals only. */
int64_t lj_time_mono_ns(void);

/* Longest output of lj_time_format, with its NUL. */
#define LJ_TIME_RFC3339_MAX 64

/* Writes "2026-11-25T14:36:41.193618044Z" (always 9 fraction digits) into dst. */
void lj_time_format(int64_t unix_ns, char dst[LJ_TIME_RFC3339_MAX]);

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" from s (len bytes,
 * need not be NUL-terminated), 0 to 9 fraction digits. Returns LJ_OK and sets *unix_ns,
 * or LJ_INVAL. Years before 1970 (Docker's "0001-01-01T00:00:00Z", never) give
 * *unix_ns = 0. */
lj_status lj_time_parse(const char *s, size_t len, int64_t *unix_ns);

#endif
