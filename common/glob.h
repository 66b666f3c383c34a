/* glob.h - `*` and `?` wildcards over "<host>/<container>" names, as used by
 * subscribe.container and the tokens file's ACLs. `*` matches any run of bytes,
 * '/' included ("*" alone matches every container); there are no classes or escapes. */
#ifndef LJ_GLOB_H
#define LJ_GLOB_H

#include <stdbool.h>

/* true when name matches pattern. Linear in practice (greedy with one backtrack
 * point), never recursive. */
bool lj_glob_match(const char *pattern, const char *name);

/* true when pattern holds a wildcard. */
bool lj_glob_is_pattern(const char *pattern);

#endif
