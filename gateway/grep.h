/* grep.h - the server-side `grep` filter: a regular expression with bounded cost.
 *
 * glibc's regexec takes seconds on `(a+)+$` against a 16 KiB line, so the gateway
 * carries its own matcher: the pattern compiles to a Thompson NFA of at most
 * LJ_GREP_PROG_MAX instructions and a line is searched by simulating all states at
 * once, so a match costs at most (bytes scanned) x (instructions) steps whatever the
 * pattern. Lines are searched in their first LJ_GREP_SCAN_MAX bytes only.
 *
 * Syntax (ERE-like, bytes): literals, `.`, `[...]` (ranges, `^` negation),
 * `\d \w \s \D \W \S` and escaped punctuation, `* + ?`, `{n}`, `{n,}`, `{n,m}`
 * (n, m <= 32), `|`, `( )`, `(?:` `)`, `^`, `$`, and a leading `(?i)` for case-blind
 * matching. No back-references, no captures.
 */
#ifndef LJ_GREP_H
#define LJ_GREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define LJ_GREP_PATTERN_MAX 256   /* bytes */
#define LJ_GREP_PROG_MAX 512      /* NFA instructions */
#define LJ_GREP_SCAN_MAX 16384    /* bytes of a line searched */

struct lj_grep;

/* Compiles pattern (NUL-terminated). On LJ_OK *out belongs to the caller
 * (lj_grep_destroy). LJ_INVAL with a message in err for bad syntax, LJ_LIMIT when the
 * pattern or its program is too large, LJ_NOMEM. */
lj_status lj_grep_compile(const char *pattern, struct lj_grep **out, char *err, size_t errlen);

void lj_grep_destroy(struct lj_grep *g);

/* true when the pattern matches anywhere in s (n bytes). Never allocates; reentrant
 * for different lj_grep objects, not for one object on two threads. */
bool lj_grep_match(struct lj_grep *g, const char *s, size_t n);

/* The same match in slices, so a caller can bound the work it does at once (a hostile
 * pattern on a 16 KB line costs tens of milliseconds). A step is one live NFA thread
 * over one byte; bytes are taken whole while *budget is not 0, so a call spends at
 * most *budget steps plus one byte's (< LJ_GREP_PROG_MAX) and always makes progress;
 * *budget is lowered by what was spent, to 0 at the least (run must not be NULL when
 * budget is not). LJ_GREP_MORE: the budget ran
 * out; *run holds where the match stopped (allocated here, owned by the caller) and a
 * later call with the same g, s, n and run goes on from there. YES or NO: the match is
 * decided and *run is freed and NULL. A run allocation that fails finishes the match
 * unbounded. Same reentrancy as lj_grep_match: a run does not tie up g between calls. */
enum lj_grep_result { LJ_GREP_NO, LJ_GREP_YES, LJ_GREP_MORE };
struct lj_grep_run;
enum lj_grep_result lj_grep_step(struct lj_grep *g, struct lj_grep_run **run, const char *s,
                                 size_t n, uint64_t *budget);

/* Frees a suspended match (NULL is fine). */
void lj_grep_run_free(struct lj_grep_run *run);

#endif
