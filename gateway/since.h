/* since.h - where a time jump (subscribe "since") starts in a container's log.
 *
 * The hub asks JetStream (lj_feed_seek) for the first line stored at or after the
 * time and the container's oldest stored line; lj_since_from turns that answer into
 * the index in the watch's ring the tap starts from, checked against the ring's own
 * lines, and tells the client (`retention`) when the time is older than what is kept.
 * Lines stamped before the time are left out later, by lj_tap_check. Does not fetch,
 * does not move cursors. Service thread only.
 */
#ifndef LJ_SINCE_H
#define LJ_SINCE_H

#include <stdint.h>

#include "ring.h"
#include "tap.h"

/* The first index of ring r (the log of container key, "host/name") for tap t, whose
 * sub has since_ns and whose seek_first / seek_oldest hold JetStream's answer
 * (seek_first 0: nothing stored since, 1: no answer, the whole window). Within the
 * window; r->lines.head when nothing is to be replayed. May queue a `retention` frame on
 * t's sub, and logs when JetStream's answer had to be corrected. */
uint64_t lj_since_from(const struct lj_ring *r, const char *key, struct lj_tap *t);

#endif
