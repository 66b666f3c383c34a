/* natsurl.c - splitting and checking --nats-url lists. */
#include "natsurl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the `userinfo@` part at the start of u (after any scheme), 0 if none. */
static size_t userinfo_len(const char *u)
{
    size_t n = strcspn(u, "/,");
    const char *at = memchr(u, '@', n);
    return at ? (size_t)(at - u) + 1 : 0;
}

static const char *after_scheme(const char *u)
{
    const char *scheme = strstr(u, "://");
    size_t n = strcspn(u, ",");
    return scheme && (size_t)(scheme - u) < n ? scheme + 3 : u;
}

const char *lj_natsurl_redact(const char *list, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return out;
    for (const char *p = list; *p && o + 1 < outlen;) {
        const char *hp = after_scheme(p);
        size_t skip = userinfo_len(hp);
        while (p < hp && o + 1 < outlen)
            out[o++] = *p++;
        if (skip > 0) {
            for (const char *r = "***@"; *r && o + 1 < outlen; r++)
                out[o++] = *r;
            p += skip;
        }
        while (*p && *p != ',' && o + 1 < outlen)
            out[o++] = *p++;
        if (*p == ',' && o + 1 < outlen)
            out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

bool lj_natsurl_wants_tls(const char *list)
{
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        while (*p == ' ')
            p++;
        if (strncmp(p, "tls://", 6) == 0)
            return true;
    }
    return false;
}

bool lj_natsurl_first_host(const char *list, char *out, size_t outlen)
{
    const char *h = after_scheme(list);
    size_t n;
    while (*h == ' ')
        h++;
    h += userinfo_len(h);
    if (*h == '[') {
        n = strcspn(++h, "]");
    } else {
        n = strcspn(h, ":/,");
    }
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, h, n);
    out[n] = '\0';
    return true;
}

/* Splits copy (modified in place) at commas into list; returns the count or -1. */
static int split(char *copy, const char **list, char *err, size_t errlen, const char *orig_raw)
{
    char orig[512], shown[512];
    int n = 0;
    lj_natsurl_redact(orig_raw, orig, sizeof orig);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (n == LJ_NATSURL_MAX) {
            lj_fail(err, errlen, LJ_INVAL, "--nats-url '%s': more than %d URLs", orig,
                    LJ_NATSURL_MAX);
            return -1;
        }
        const char *scheme = strstr(tok, "://");
        if (scheme != NULL && strncmp(tok, "nats://", 7) != 0 && strncmp(tok, "tls://", 6) != 0) {
            lj_fail(err, errlen, LJ_INVAL, "--nats-url '%s': expected nats://host:port or tls://host:port",
                    lj_natsurl_redact(tok, shown, sizeof shown));
            return -1;
        }
        const char *hostport = scheme ? scheme + 3 : tok;
        hostport += userinfo_len(hostport);
        if (*hostport == '\0' || *hostport == ':') {
            lj_fail(err, errlen, LJ_INVAL, "--nats-url '%s': no host",
                    lj_natsurl_redact(tok, shown, sizeof shown));
            return -1;
        }
        list[n++] = tok;
    }
    if (n == 0)
        lj_fail(err, errlen, LJ_INVAL, "--nats-url '%s': no URL", orig);
    return n > 0 ? n : -1;
}

lj_status lj_natsurl_check(const char *list, char *err, size_t errlen)
{
    const char *urls[LJ_NATSURL_MAX];
    char *copy = strdup(list);
    int n;
    if (copy == NULL)
        return LJ_NOMEM;
    n = split(copy, urls, err, errlen, list);
    free(copy);
    return n > 0 ? LJ_OK : LJ_INVAL;
}

lj_status lj_natsurl_apply(natsOptions *opts, const char *list, char *err, size_t errlen)
{
    const char *urls[LJ_NATSURL_MAX];
    char *copy = strdup(list);
    natsStatus st;
    int n;
    if (copy == NULL)
        return LJ_NOMEM;
    if ((n = split(copy, urls, err, errlen, list)) < 0) {
        free(copy);
        return LJ_INVAL;
    }
    st = natsOptions_SetServers(opts, urls, n);
    free(copy);
    if (st != NATS_OK) {
        char shown[512];
        return lj_fail(err, errlen, LJ_NATS, "--nats-url '%s': %s",
                       lj_natsurl_redact(list, shown, sizeof shown), natsStatus_GetText(st));
    }
    return LJ_OK;
}
