/* Unit tests for common/config.c and common/timeutil.c: flags over environment over
 * defaults, errors that name the offending value, RFC 3339 round trips. */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "config.h"
#include "natsurl.h"
#include "timeutil.h"

static const char *url, *name;
static long depth;
static bool flag;
static const struct lj_opt opts[] = {
    { "nats-url", LJ_OPT_STRING, "URL", "nats://127.0.0.1:4222", "url", &url, 0, 0 },
    { "host-id", LJ_OPT_STRING, "NAME", "", "name", &name, 0, 0 },
    { "replay-depth", LJ_OPT_INT, "N", "1000", "depth", &depth, 1, 100000 },
    { "opt-in", LJ_OPT_BOOL, NULL, "false", "flag", &flag, 0, 0 },
};

static lj_status parse(int argc, char **argv, char *err)
{
    enum lj_config_action action;
    return lj_config_parse(opts, 4, argc, argv, &action, err, 256);
}

static void test_precedence(void)
{
    char err[256];
    char *none[] = { "prog" };
    unsetenv("LOGJET_NATS_URL");
    CHECK_INT(parse(1, none, err), LJ_OK);
    CHECK_STR(url, "nats://127.0.0.1:4222");
    CHECK_INT(depth, 1000);
    setenv("LOGJET_NATS_URL", "nats://env:1", 1);
    setenv("LOGJET_REPLAY_DEPTH", "64k", 1);
    setenv("LOGJET_OPT_IN", "yes", 1);
    CHECK_INT(parse(1, none, err), LJ_OK);
    CHECK_STR(url, "nats://env:1");
    CHECK_INT(depth, 65536);
    CHECK(flag);
    char *args[] = { "prog", "--nats-url", "nats://flag:2", "--replay-depth=10", "--host-id", "h" };
    CHECK_INT(parse(6, args, err), LJ_OK);
    CHECK_STR(url, "nats://flag:2");
    CHECK_INT(depth, 10);
    CHECK_STR(name, "h");
    unsetenv("LOGJET_NATS_URL");
    unsetenv("LOGJET_REPLAY_DEPTH");
    unsetenv("LOGJET_OPT_IN");
}

static void test_errors_name_the_value(void)
{
    char err[256];
    char *bad1[] = { "prog", "--replay-depth", "lots" };
    CHECK_INT(parse(3, bad1, err), LJ_INVAL);
    CHECK(strstr(err, "lots") != NULL && strstr(err, "--replay-depth") != NULL);
    char *bad2[] = { "prog", "--replay-depth", "0" };
    CHECK_INT(parse(3, bad2, err), LJ_INVAL);
    CHECK(strstr(err, "0 is outside 1..100000") != NULL);
    char *bad3[] = { "prog", "--no-such" };
    CHECK_INT(parse(2, bad3, err), LJ_INVAL);
    CHECK(strstr(err, "--no-such") != NULL);
    char *bad4[] = { "prog", "--nats-url" };
    CHECK_INT(parse(2, bad4, err), LJ_INVAL);
    setenv("LOGJET_REPLAY_DEPTH", "x1", 1);
    char *none[] = { "prog" };
    CHECK_INT(parse(1, none, err), LJ_INVAL);
    CHECK(strstr(err, "LOGJET_REPLAY_DEPTH") != NULL && strstr(err, "x1") != NULL);
    unsetenv("LOGJET_REPLAY_DEPTH");
}

static void test_hostport(void)
{
    char host[64], err[128];
    int port;
    CHECK_INT(lj_parse_hostport("127.0.0.1:9101", host, sizeof host, &port, err, sizeof err), LJ_OK);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 9101);
    CHECK_INT(lj_parse_hostport("[::1]:80", host, sizeof host, &port, err, sizeof err), LJ_OK);
    CHECK_STR(host, "::1");
    CHECK(lj_host_is_loopback("::1") && lj_host_is_loopback("127.0.0.2"));
    CHECK(!lj_host_is_loopback("0.0.0.0"));
    CHECK_INT(lj_parse_hostport("host:99999", host, sizeof host, &port, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "host:99999") != NULL);
    CHECK_INT(lj_parse_hostport("nohost", host, sizeof host, &port, err, sizeof err), LJ_INVAL);
}

static void test_time(void)
{
    static const char *stamps[] = {
        "2026-11-25T14:36:41.193618044Z", "1970-01-01T00:00:00.000000001Z",
        "2262-01-01T00:00:00.999999999Z",
    };
    char out[LJ_TIME_RFC3339_MAX];
    int64_t ns;
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        CHECK_INT(lj_time_parse(stamps[i], strlen(stamps[i]), &ns), LJ_OK);
        lj_time_format(ns, out);
        CHECK_STR(out, stamps[i]);
    }
    CHECK_INT(lj_time_parse("2026-11-25T15:36:41.5+01:00", 27, &ns), LJ_OK);
    lj_time_format(ns, out);
    CHECK_STR(out, "2026-11-25T14:36:41.500000000Z");
    CHECK_INT(lj_time_parse("0001-01-01T00:00:00Z", 20, &ns), LJ_OK);
    CHECK_INT(ns, 0);
    CHECK_INT(lj_time_parse("1970-01-01T00:00:00+01:00", 25, &ns), LJ_OK);
    CHECK_INT(ns, 0);
    CHECK_INT(lj_time_parse("2602-11-25T15:36:41.5+01:00", 27, &ns), LJ_INVAL);
    CHECK_INT(lj_time_parse("2026-11-25 14:36:41Z", 20, &ns), LJ_INVAL);
    CHECK_INT(lj_time_parse("2026-13-25T14:36:41Z", 20, &ns), LJ_INVAL);
}

static void test_natsurl(void)
{
    char err[256];
    CHECK_INT(lj_natsurl_check("nats://127.0.0.1:4222", err, sizeof err), LJ_OK);
    CHECK_INT(lj_natsurl_check("nats://a:1,nats://b:2, tls://c:3", err, sizeof err), LJ_OK);
    CHECK_INT(lj_natsurl_check("localhost:4222", err, sizeof err), LJ_OK);
    CHECK_INT(lj_natsurl_check("nats://a:1,http://b:2", err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "'http://b:2'") != NULL);
    CHECK_INT(lj_natsurl_check("", err, sizeof err), LJ_INVAL);
    CHECK_INT(lj_natsurl_check("nats://", err, sizeof err), LJ_INVAL);
    natsOptions *o = NULL;
    natsOptions_Create(&o);
    CHECK_INT(lj_natsurl_apply(o, "nats://a:1,nats://b:2", err, sizeof err), LJ_OK);
    natsOptions_Destroy(o);
    nats_Close();
}

int main(void)
{
    test_natsurl();
    test_precedence();
    test_errors_name_the_value();
    test_hostport();
    test_time();
    CHECK_DONE();
}
