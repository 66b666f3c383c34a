/* log.h - the daemons' own log lines: logfmt on stderr, one write per line.
 *
 *   ts=2026-11-25T14:36:41.193Z level=info msg="following container" container=web-1
 *
 * Only main loops and thread entry points log (style rule 7); library code returns
 * statuses. lj_log is thread-safe: each line is formatted first and written with a
 * single write(2), so lines from different threads never interleave.
 */
#ifndef LJ_LOG_H
#define LJ_LOG_H

#include <stddef.h>

enum lj_log_level { LJ_LOG_DEBUG, LJ_LOG_INFO, LJ_LOG_WARN, LJ_LOG_ERROR };

/* Lines below this level are dropped. Default LJ_LOG_INFO. Set once at start-up. */
void lj_log_set_level(enum lj_log_level level);

/* Parses "debug|info|warn|error"; returns 0 and sets *out, or -1. */
int lj_log_parse_level(const char *s, enum lj_log_level *out);

/* Logs msg (quoted) followed by the logfmt fields produced by fmt, e.g.
 *   lj_log(LJ_LOG_INFO, "container followed", "container=%s id=%.12s", name, id);
 * fmt may be NULL for no fields. Field values that may hold spaces or quotes must be
 * passed through lj_log_quote first. */
void lj_log(enum lj_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes s as a logfmt value into dst (always NUL-terminated, truncated to n):
 * quoted and escaped when it holds spaces, '=', quotes or control bytes. Returns dst. */
const char *lj_log_quote(char *dst, size_t n, const char *s);

#endif
