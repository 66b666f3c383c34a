/* when.h - the times --since and --until take, in the forms `docker logs` accepts:
 * a duration before now ("10m", "1h30m", "1.5h", "90s", "250ms"), RFC 3339 with a zone
 * ("2026-12-01T10:00:00Z", "...+01:00", fractions allowed), a local date or date and time
 * without a zone ("2026-12-01", "2026-12-01T10:00:00"), or Unix seconds ("1764583200",
 * "1764583200.5"). Pure: reads no clock (the caller passes now) and prints nothing. */
#ifndef LJ_WHEN_H
#define LJ_WHEN_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* A Go-style duration ("1h30m", "1.5s", "500ms"; units ns us ms s m h) into *ns.
 * LJ_INVAL for anything else, a number without a unit included ("10"), or an overflow. */
lj_status lj_when_duration(const char *s, int64_t *ns);

/* Parses s as described above into nanoseconds since the epoch; a duration counts back
 * from now_ns. LJ_INVAL with a message naming s when it is none of the forms. */
lj_status lj_when_parse(const char *s, int64_t now_ns, int64_t *out_ns, char *err,
                        size_t errlen);

#endif
