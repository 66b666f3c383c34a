/* glob.c - wildcard matching with the usual single-backtrack-point algorithm:
 * on a mismatch, retry from the last '*' one byte further. O(len(p) x len(n)) worst. */
#include "glob.h"

#include <string.h>

bool lj_glob_match(const char *p, const char *n)
{
    const char *star = NULL, *resume = NULL;

    while (*n) {
        if (*p == '*') {
            star = p++;
            resume = n;
        } else if (*p == '?' || *p == *n) {
            p++;
            n++;
        } else if (star) {
            p = star + 1;
            n = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool lj_glob_is_pattern(const char *pattern)
{
    return strpbrk(pattern, "*?") != NULL;
}
