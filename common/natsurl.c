/* natsurl.c - splitting and checking --nats-url lists. */
#include "natsurl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits copy (modified in place) at commas into list; returns the count or -1. */
static int split(char *copy, const char **list, char *err, size_t errlen, const char *orig)
{
    int n = 0;
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
            lj_fail(err, errlen, LJ_INVAL, "--nats-url '%s': expected nats://host:port", tok);
            return -1;
        }
        const char *hostport = scheme ? scheme + 3 : tok;
        if (*hostport == '\0' || *hostport == ':') {
            lj_fail(err, errlen, LJ_INVAL, "--nats-url '%s': no host", tok);
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
    if (st != NATS_OK)
        return lj_fail(err, errlen, LJ_NATS, "--nats-url '%s': %s", list, natsStatus_GetText(st));
    return LJ_OK;
}
