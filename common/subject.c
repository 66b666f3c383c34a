/* subject.c - the =HH token encoding of host and container names (subjects and KV keys). */
#include "subject.h"

#include <stdio.h>
#include <string.h>

static bool plain(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1; /* lower-case hex is never produced, so it is not accepted */
}

lj_status lj_subject_encode(const char *name, size_t len, char *dst, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    if (n == 0)
        return LJ_LIMIT;
    dst[0] = '\0';
    if (len == 0)
        return LJ_INVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        size_t need = plain(c) ? 1 : 3;
        if (o + need >= n) {
            dst[0] = '\0';
            return LJ_LIMIT;
        }
        if (need == 1) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '=';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
    return LJ_OK;
}

lj_status lj_subject_decode(const char *token, char *dst, size_t n, size_t *outlen)
{
    size_t o = 0;
    for (const char *p = token; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '=') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return LJ_INVAL;
            c = hi << 4 | lo;
            if (plain((unsigned char)c))
                return LJ_INVAL; /* encoding never escapes a plain byte */
            p += 2;
        } else if (!plain((unsigned char)c)) {
            return LJ_INVAL;
        }
        if (o + 1 >= n)
            return LJ_LIMIT;
        dst[o++] = (char)c;
    }
    if (o == 0)
        return LJ_INVAL;
    dst[o] = '\0';
    if (outlen)
        *outlen = o;
    return LJ_OK;
}

lj_status lj_subject_build(const char *prefix, const char *host, const char *container,
                           char *dst, size_t n)
{
    char h[LJ_SUBJECT_TOKEN_MAX], c[LJ_SUBJECT_TOKEN_MAX];
    lj_status s;

    if ((s = lj_subject_encode(host, strlen(host), h, sizeof h)) != LJ_OK)
        return s;
    if ((s = lj_subject_encode(container, strlen(container), c, sizeof c)) != LJ_OK)
        return s;
    int len = snprintf(dst, n, "%s.%s.%s", prefix, h, c);
    return len < 0 || (size_t)len >= n ? LJ_LIMIT : LJ_OK;
}
