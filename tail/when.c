/* when.c - --since/--until values: durations, RFC 3339, local dates, Unix seconds.
 * Does not read the clock (now is passed in) and never prints. */
#include "when.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

static int64_t unit_ns(const char *u, size_t n)
{
    static const struct { const char *name; int64_t ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "ms", 1000000 },
        { "s", 1000000000LL }, { "m", 60 * 1000000000LL }, { "h", 3600 * 1000000000LL },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

/* One "<digits>[.<digits>]<unit>" group at *p; adds its value to *total. */
static lj_status duration_group(const char **p, int64_t *total)
{
    const char *s = *p, *u;
    long double v = 0, scale = 1;
    bool digits = false;
    for (; isdigit((unsigned char)*s); s++, digits = true)
        v = v * 10 + (*s - '0');
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++, digits = true)
            v += (*s - '0') * (scale /= 10);
    if (!digits)
        return LJ_INVAL;
    for (u = s; *s && !isdigit((unsigned char)*s) && *s != '.'; s++)
        ;
    int64_t ns = unit_ns(u, (size_t)(s - u));
    if (ns == 0 || v * ns > (long double)INT64_MAX - *total)
        return LJ_INVAL;
    *total += (int64_t)(v * ns);
    *p = s;
    return LJ_OK;
}

lj_status lj_when_duration(const char *s, int64_t *ns)
{
    int64_t total = 0;
    if (s == NULL || *s == '\0')
        return LJ_INVAL;
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return LJ_OK;
    }
    while (*s)
        if (duration_group(&s, &total) != LJ_OK)
            return LJ_INVAL;
    *ns = total;
    return LJ_OK;
}

/* "1764583200" or "1764583200.123456789". */
static lj_status unix_seconds(const char *s, int64_t *out)
{
    int64_t sec = 0, frac = 0, scale = 100000000;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return LJ_INVAL;
    for (; isdigit((unsigned char)*p); p++) {
        if (sec > (INT64_MAX / 1000000000 - 10) / 10)
            return LJ_INVAL;
        sec = sec * 10 + (*p - '0');
    }
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += scale ? (*p - '0') * scale : 0;
    if (*p != '\0')
        return LJ_INVAL;
    *out = sec * 1000000000 + frac;
    return LJ_OK;
}

/* A date or date-time without a zone, in local time (as docker does). */
static lj_status local_time(const char *s, int64_t *out)
{
    static const char *const forms[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                         "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, forms[i], &tm);
        if (end == NULL || *end != '\0')
            continue;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return LJ_INVAL;
        *out = (int64_t)t * 1000000000;
        return LJ_OK;
    }
    return LJ_INVAL;
}

lj_status lj_when_parse(const char *s, int64_t now_ns, int64_t *out_ns, char *err,
                        size_t errlen)
{
    int64_t d;
    if (s != NULL && lj_when_duration(s, &d) == LJ_OK && strcmp(s, "0") != 0) {
        *out_ns = now_ns - d;
        return LJ_OK;
    }
    if (s != NULL && (unix_seconds(s, out_ns) == LJ_OK
                      || lj_time_parse(s, strlen(s), out_ns) == LJ_OK
                      || local_time(s, out_ns) == LJ_OK))
        return LJ_OK;
    return lj_fail(err, errlen, LJ_INVAL,
                   "'%s' is not a time: use a duration (10m, 1h30m), RFC 3339 "
                   "(2026-12-01T10:00:00Z) or Unix seconds", s ? s : "");
}
