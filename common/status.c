/* status.c - names and messages of lj_status, generated from LJ_STATUS_MAP. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const names[] = {
#define LJ_STATUS_NAME(name, msg) "LJ_" #name,
    LJ_STATUS_MAP(LJ_STATUS_NAME)
#undef LJ_STATUS_NAME
};

static const char *const messages[] = {
#define LJ_STATUS_MSG(name, msg) msg,
    LJ_STATUS_MAP(LJ_STATUS_MSG)
#undef LJ_STATUS_MSG
};

const char *lj_status_name(lj_status s)
{
    return (unsigned)s < LJ_STATUS_COUNT ? names[s] : "LJ_UNKNOWN";
}

const char *lj_status_str(lj_status s)
{
    return (unsigned)s < LJ_STATUS_COUNT ? messages[s] : "unknown status";
}

lj_status lj_fail(char *err, size_t errlen, lj_status s, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return s;
}
