/* timeutil.c - clocks and RFC 3339 formatting/parsing. No time zones beyond offsets. */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t lj_time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lj_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lj_time_format(int64_t unix_ns, char dst[LJ_TIME_RFC3339_MAX])
{
    time_t sec = (time_t)(unix_ns / 1000000000);
    long ns = (long)(unix_ns % 1000000000);
    struct tm tm;
    if (ns < 0)
        ns += 1000000000, sec--;
    gmtime_r(&sec, &tm);
    snprintf(dst, LJ_TIME_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ns);
}

/* Reads exactly n decimal digits at s; -1 when any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

lj_status lj_time_parse(const char *s, size_t len, int64_t *unix_ns)
{
    struct tm tm;
    size_t i = 19;
    long frac = 0;
    int offset = 0;

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return LJ_INVAL;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_mon = digits(s + 5, 2) - 1;
    tm.tm_mday = digits(s + 8, 2);
    tm.tm_hour = digits(s + 11, 2);
    tm.tm_min = digits(s + 14, 2);
    tm.tm_sec = digits(s + 17, 2);
    if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
        tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return LJ_INVAL;
    if (s[i] == '.') {
        int nd = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
            if (nd < 9)
                frac = frac * 10 + (s[i] - '0');
        if (nd == 0)
            return LJ_INVAL;
        for (; nd < 9; nd++)
            frac *= 10;
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int hh = digits(s + i + 1, 2), mm = digits(s + i + 4, 2);
        if (hh < 0 || mm < 0)
            return LJ_INVAL;
        offset = (hh * 60 + mm) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return LJ_INVAL;
    }
    if (i != len)
        return LJ_INVAL;
    if (tm.tm_year < 70) {
        *unix_ns = 0;
        return LJ_OK;
    }
    time_t sec = timegm(&tm) - offset;
    if (sec < 0) {
        *unix_ns = 0; /* an offset pushed 1970 before the epoch: as "never" */
        return LJ_OK;
    }
    if (sec > INT64_MAX / 1000000000 - 1)
        return LJ_INVAL; /* past 2262: does not fit int64 nanoseconds */
    *unix_ns = (int64_t)sec * 1000000000 + frac;
    return LJ_OK;
}
