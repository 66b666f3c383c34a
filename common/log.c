/* log.c - logfmt lines on stderr. Does not rotate, buffer or ship logs anywhere:
 * that is the supervisor's job (systemd, Docker, Kubernetes all collect stderr). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum lj_log_level min_level = LJ_LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void lj_log_set_level(enum lj_log_level level)
{
    min_level = level;
}

int lj_log_parse_level(const char *s, enum lj_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum lj_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *lj_log_quote(char *dst, size_t n, const char *s)
{
    size_t o = 0;
    int needs = (*s == '\0');

    if (n == 0)
        return dst;
    for (const char *p = s; *p && !needs; p++)
        needs = (unsigned char)*p <= ' ' || *p == '=' || *p == '"' || *p == '\\';
    if (!needs) {
        snprintf(dst, n, "%s", s);
        return dst;
    }
#define PUT(c) do { if (o + 1 < n) dst[o++] = (c); } while (0)
    PUT('"');
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') { PUT('\\'); PUT((char)c); }
        else if (c == '\n') { PUT('\\'); PUT('n'); }
        else if (c < ' ') PUT('?');
        else PUT((char)c);
    }
    PUT('"');
#undef PUT
    dst[o] = '\0';
    return dst;
}

void lj_log(enum lj_log_level level, const char *msg, const char *fmt, ...)
{
    char line[4096], qmsg[512];
    struct timespec now;
    struct tm tm;
    int len;

    if (level < min_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    len = snprintf(line, sizeof line,
                   "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=%s",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, now.tv_nsec / 1000000, level_names[level],
                   lj_log_quote(qmsg, sizeof qmsg, msg));
    if (fmt != NULL && len > 0 && (size_t)len < sizeof line - 2) {
        va_list ap;
        line[len++] = ' ';
        va_start(ap, fmt);
        int more = vsnprintf(line + len, sizeof line - (size_t)len, fmt, ap);
        va_end(ap);
        if (more > 0)
            len += more;
    }
    if (len < 0)
        return;
    if ((size_t)len > sizeof line - 2)
        len = (int)sizeof line - 2;
    line[len++] = '\n';
    /* One write so concurrent lines never interleave; stderr failures are ignored. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)len);
    (void)w;
}
