/* Unit tests for gateway/control.c, plus a mutation run over many random frames
 * (the parser must never crash, leak or accept garbage silently). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "control.h"
#include "record.h"

static lj_status parse(const char *s, struct lj_control *c, char *msg)
{
    return lj_control_parse(s, strlen(s), 1000, c, msg, 160);
}

static void valid(void)
{
    struct lj_control c;
    char msg[160];
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/web-*\",\"replay\":100,"
                    "\"after_seq\":5,\"levels\":[\"warn\",\"error\"],\"streams\":[\"stderr\"],"
                    "\"grep\":\"time.*out\",\"future\":1}", &c, msg), LJ_OK);
    CHECK_INT(c.op, LJ_CONTROL_SUBSCRIBE);
    CHECK_STR(c.id, "a");
    CHECK_STR(c.container, "h/web-*");
    CHECK_INT(c.replay, 100);
    CHECK_INT(c.after_seq, 5);
    CHECK_INT(c.levels, (1u << LJ_LEVEL_WARN) | (1u << LJ_LEVEL_ERROR));
    CHECK_INT(c.streams, 1u << LJ_STREAM_STDERR);
    CHECK_STR(c.grep, "time.*out");
    CHECK_INT(parse("{\"op\":\"unsubscribe\",\"id\":\"a\"}", &c, msg), LJ_OK);
    CHECK_INT(c.op, LJ_CONTROL_UNSUBSCRIBE);
    CHECK_INT(parse("{\"op\":\"list\"}", &c, msg), LJ_OK);
    CHECK_INT(c.op, LJ_CONTROL_LIST);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"b\",\"container\":\"h/x\"}", &c, msg), LJ_OK);
    CHECK_INT(c.replay, 0);
    CHECK_INT(c.levels, 0);
    CHECK_INT(c.since_ns, 0);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"t\",\"container\":\"h/x\","
                    "\"since\":\"2026-12-01T10:00:00.5+01:00\"}", &c, msg), LJ_OK);
    CHECK_INT(c.since_ns, 1796115600500000000LL);   /* 09:00:00.5Z */
}

static void invalid(void)
{
    struct lj_control c;
    char msg[160];
    CHECK_INT(parse("not json", &c, msg), LJ_PROTO);
    CHECK_INT(parse("[1,2]", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"dance\"}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"container\":\"h/x\"}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"z\"}", &c, msg), LJ_PROTO);
    CHECK_STR(c.id, "z");   /* salvaged for the error frame */
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"replay\":1001}", &c, msg), LJ_LIMIT);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"replay\":-1}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"replay\":1.5}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"levels\":[\"loud\"]}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"levels\":\"warn\"}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"streams\":[\"stdin\"]}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":7,\"container\":\"h/x\"}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"since\":\"yesterday\"}", &c, msg), LJ_PROTO);
    CHECK(strstr(msg, "since") != NULL);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"since\":1764579600}", &c, msg), LJ_PROTO);
    CHECK_INT(parse("{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"since\":\"1960-01-01T00:00:00Z\"}", &c, msg), LJ_PROTO);
    char big[LJ_CONTROL_FRAME_MAX + 64];
    memset(big, ' ', sizeof(big));
    memcpy(big, "{\"op\":\"list\"}", 13);
    CHECK_INT(lj_control_parse(big, sizeof(big), 1000, &c, msg, sizeof(msg)), LJ_LIMIT);
    char grep[600] = "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/x\",\"grep\":\"";
    memset(grep + strlen(grep), 'a', 300);
    strcat(grep, "\"}");
    CHECK_INT(parse(grep, &c, msg), LJ_LIMIT);
    CHECK_STR(lj_control_error_name(lj_control_error_of(LJ_LIMIT)), "limit");
    CHECK_STR(lj_control_error_name(lj_control_error_of(LJ_PROTO)), "bad_request");
    /* A malformed container name is the request's fault, wherever it is found. */
    CHECK_STR(lj_control_error_name(lj_control_error_of(LJ_INVAL)), "bad_request");
    CHECK_STR(lj_control_error_name(lj_control_error_of(LJ_NOT_FOUND)), "not_found");
    CHECK_STR(lj_control_error_name(lj_control_error_of(LJ_NATS)), "limit");
    CHECK_STR(lj_control_error_name(LJ_CONTROL_E_FORBIDDEN), "forbidden");
}

/* Random single-byte mutations, truncations and splices of valid frames. */
static void mutations(void)
{
    static const char *seeds[] = {
        "{\"op\":\"subscribe\",\"id\":\"a\",\"container\":\"h/web-*\",\"replay\":100,\"after_seq\":5,"
        "\"levels\":[\"warn\",\"error\"],\"streams\":[\"stderr\"],\"grep\":\"x\"}",
        "{\"op\":\"unsubscribe\",\"id\":\"a\"}", "{\"op\":\"list\"}",
    };
    char buf[512], msg[160];
    struct lj_control c;
    unsigned seed = 12345;
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        const char *s = seeds[(unsigned)i % 3];
        size_t n = strlen(s);
        memcpy(buf, s, n);
        int edits = 1 + rand_r(&seed) % 4;
        for (int e = 0; e < edits; e++)
            buf[(size_t)rand_r(&seed) % n] = (char)(rand_r(&seed) & 0xff);
        if (rand_r(&seed) % 4 == 0)
            n = (size_t)rand_r(&seed) % n;
        if (lj_control_parse(buf, n, 1000, &c, msg, sizeof(msg)) == LJ_OK)
            accepted++;
        else
            CHECK(msg[0] != '\0');
    }
    CHECK(accepted > 0);
}

int main(void)
{
    valid();
    invalid();
    mutations();
    CHECK_DONE();
}
