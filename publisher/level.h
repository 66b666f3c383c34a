/* level.h - guessing a log line's severity from its text.
 *
 * Recognises JSON objects with a level-like key (level, lvl, severity, loglevel, ...;
 * string values in any case, numeric pino/bunyan levels, journald PRIORITY), logfmt
 * `level=`, and common shapes ([ERROR], ERROR:, WARN, glog E1123/W.../I..., Python
 * logging, Java logback, nginx/apache error logs, Android logcat, .NET console, Monolog,
 * Windows event exports, ...; publisher/level.c lists them in order). Returns
 * LJ_LEVEL_UNKNOWN when nothing matches: a guess is never presented as a fact. Looks at
 * most at the first 512 bytes, never allocates, and is safe on arbitrary binary input.
 */
#ifndef LJ_LEVEL_H
#define LJ_LEVEL_H

#include <stddef.h>

#include "record.h"

/* The level of line (len bytes, need not be NUL-terminated; NULL only with len 0).
 * A pure function of the first 512 bytes: safe from any thread, cannot fail. */
enum lj_level lj_level_detect(const char *line, size_t len);

#endif
