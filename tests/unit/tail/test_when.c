/* Unit tests for tail/when.c: --since/--until forms. */
#include <stdlib.h>

#include "check.h"
#include "when.h"

#define S 1000000000LL

int main(void)
{
    int64_t ns = 0, now = 1764583200 * S;
    char err[256];

    CHECK_INT(lj_when_duration("10m", &ns), LJ_OK); CHECK_INT(ns, 600 * S);
    CHECK_INT(lj_when_duration("1h30m", &ns), LJ_OK); CHECK_INT(ns, 5400 * S);
    CHECK_INT(lj_when_duration("1.5h", &ns), LJ_OK); CHECK_INT(ns, 5400 * S);
    CHECK_INT(lj_when_duration("250ms", &ns), LJ_OK); CHECK_INT(ns, 250000000);
    CHECK_INT(lj_when_duration("2h3m4s5ms6us7ns", &ns), LJ_OK);
    CHECK_INT(ns, 7384 * S + 5006007);
    CHECK_INT(lj_when_duration("10", &ns), LJ_INVAL);       /* a unit is needed */
    CHECK_INT(lj_when_duration("m", &ns), LJ_INVAL);
    CHECK_INT(lj_when_duration("10x", &ns), LJ_INVAL);
    CHECK_INT(lj_when_duration("", &ns), LJ_INVAL);
    CHECK_INT(lj_when_duration("99999999999999h", &ns), LJ_INVAL);

    CHECK_INT(lj_when_parse("10m", now, &ns, err, sizeof err), LJ_OK); CHECK_INT(ns, now - 600 * S);
    CHECK_INT(lj_when_parse("2025-12-01T10:00:00Z", now, &ns, err, sizeof err), LJ_OK);
    CHECK_INT(ns, 1764583200 * S);
    CHECK_INT(lj_when_parse("2025-12-01T11:00:00.5+01:00", now, &ns, err, sizeof err), LJ_OK);
    CHECK_INT(ns, 1764583200 * S + 500000000);
    CHECK_INT(lj_when_parse("1764583200", now, &ns, err, sizeof err), LJ_OK); CHECK_INT(ns, 1764583200 * S);
    CHECK_INT(lj_when_parse("1764583200.25", now, &ns, err, sizeof err), LJ_OK);
    CHECK_INT(ns, 1764583200 * S + 250000000);
    setenv("TZ", "UTC", 1);
    CHECK_INT(lj_when_parse("2025-12-01", now, &ns, err, sizeof err), LJ_OK); CHECK_INT(ns, 1764547200 * S);
    CHECK_INT(lj_when_parse("2025-12-01T10:00:00", now, &ns, err, sizeof err), LJ_OK);
    CHECK_INT(ns, 1764583200 * S);
    CHECK_INT(lj_when_parse("yesterday", now, &ns, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "'yesterday'") != NULL);
    CHECK_INT(lj_when_parse("2026-13-01T00:00:00Z", now, &ns, err, sizeof err), LJ_INVAL);
    CHECK_INT(lj_when_parse("17645x", now, &ns, err, sizeof err), LJ_INVAL);
    CHECK_DONE();
}
