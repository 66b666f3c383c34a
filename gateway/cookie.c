/* cookie.c - one cookie's value from a Cookie header.
 *
 *   cookie-string = cookie-pair *( ";" SP cookie-pair )
 *   cookie-pair   = cookie-name "=" cookie-value
 *   cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
 *
 * Parsed leniently the way browsers send it (";" with or without the space); pairs
 * without "=" are skipped. Knows nothing about tokens or HTTP beyond this header.
 */
#include "cookie.h"

#include <string.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* [b, e) without surrounding spaces and tabs. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_ows(**b))
        (*b)++;
    while (*e > *b && is_ows((*e)[-1]))
        (*e)--;
}

/* Copies the value [b, e), without a pair of surrounding quotes, into out. A value
 * holding a control byte (NUL included) is refused: no browser sends one, and a NUL
 * would cut the value short where the caller treats it as a string. */
static bool copy_value(const char *b, const char *e, char *out, size_t outlen)
{
    if (e - b >= 2 && *b == '"' && e[-1] == '"')
        b++, e--;
    if (b == e || (size_t)(e - b) >= outlen)
        return false;
    for (const char *p = b; p < e; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    memcpy(out, b, (size_t)(e - b));
    out[e - b] = '\0';
    return true;
}

bool lj_cookie_get(const char *header, size_t len, const char *name, char *out, size_t outlen)
{
    const char *p = header, *end = header + len;
    size_t nlen = strlen(name);

    if (outlen)
        out[0] = '\0';
    if (!header || !outlen || nlen == 0)
        return false;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq) {
            const char *nb = p, *ne = eq, *vb = eq + 1, *ve = pe;
            trim(&nb, &ne);
            trim(&vb, &ve);
            if ((size_t)(ne - nb) == nlen && memcmp(nb, name, nlen) == 0) {
                if (copy_value(vb, ve, out, outlen))
                    return true;
                out[0] = '\0';
                return false;
            }
        }
        p = semi ? semi + 1 : end;
    }
    return false;
}
