/* cookie.h - reads one cookie out of a Cookie request header (RFC 6265 section 5.4).
 *
 * Does not set cookies, decode percent escapes or know which cookie matters: the
 * server asks for "logjet_token". Pure: no allocation, no I/O.
 */
#ifndef LJ_COOKIE_H
#define LJ_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the cookie called name in header (len bytes, a Cookie header value:
 * `a=1; b=2`). Names compare exactly (case-sensitive, the whole name: `xname=` is not
 * `name=`); spaces and tabs around pairs are skipped; a value in double quotes loses
 * them. The first pair with that name wins. On true, out holds the value
 * NUL-terminated; false when absent, empty, holding a control byte, or longer than
 * outlen - 1 bytes (out is then ""). Never reads past header + len. */
bool lj_cookie_get(const char *header, size_t len, const char *name, char *out, size_t outlen);

#endif
