/* Unit tests for publisher/follow.c pieces that need no servers: the message id that
 * makes resends idempotent, and the record it goes with. */
#include <stdint.h>

#include "check.h"
#include "follow.h"
#include "record.h"

static const char cid[] = "623e3ffafbf7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182930";

static void test_msg_id_format_and_stability(void)
{
    char a[96], b[96];
    size_t n = lj_follow_msg_id(cid, 1, 1795619203974351010LL, 2, a, sizeof a);
    CHECK_STR(a, "623e3ffafbf7-1-1795619203974351010-2");
    CHECK_INT(n, strlen(a));
    /* Same line, any process, any time: same id. */
    lj_follow_msg_id(cid, 1, 1795619203974351010LL, 2, b, sizeof b);
    CHECK_STR(a, b);
    /* Any of the coordinates differing gives another id. */
    lj_follow_msg_id(cid, 0, 1795619203974351010LL, 2, b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    lj_follow_msg_id(cid, 1, 1795619203974351011LL, 2, b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    lj_follow_msg_id(cid, 1, 1795619203974351010LL, 3, b, sizeof b);
    CHECK(strcmp(a, b) != 0);
    /* A short buffer is truncated, never overrun. */
    char tiny[8];
    lj_follow_msg_id(cid, 1, 1, 0, tiny, sizeof tiny);
    CHECK_INT(strlen(tiny), 7);
}

static void test_record_round_trip(void)
{
    static const uint8_t line[] = "level=warn msg=\"disk \xff almost full\"";
    struct lj_record r = {
        .host = "web-1", .container_id = cid, .container = "my.app",
        .stream = LJ_STREAM_STDERR, .ts_unix_nano = 1795619203974351010LL,
        .line = line, .line_len = sizeof line - 1, .level = LJ_LEVEL_WARN,
        .line_no = 4001, .truncated = true, .ts_index = 2,
        .other_seen = true, .other_ts_unix_nano = 1795619203974000000LL, .other_ts_index = 0,
    };
    uint8_t buf[512];
    size_t n = lj_record_pack(&r, buf);
    CHECK_INT(n, lj_record_packed_size(&r));
    lj_pb_record *m = NULL;
    CHECK_INT(lj_record_unpack(buf, n, &m), LJ_OK);
    if (m == NULL)
        return;
    CHECK_STR(m->host, "web-1");
    CHECK_STR(m->container_id, cid);
    CHECK_STR(m->container, "my.app");
    CHECK_INT(m->stream, LJ_STREAM_STDERR);
    CHECK_INT(m->ts_unix_nano, 1795619203974351010LL);
    CHECK_INT(m->line.len, sizeof line - 1);
    CHECK(memcmp(m->line.data, line, sizeof line - 1) == 0);
    CHECK_INT(m->level, LJ_LEVEL_WARN);
    CHECK_INT(m->line_no, 4001);
    CHECK(m->truncated);
    CHECK_INT(m->ts_index, 2);
    CHECK(m->other_seen);
    CHECK_INT(m->other_ts_unix_nano, 1795619203974000000LL);
    lj_record_free(m);
    /* Garbage is refused, not misread. */
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    CHECK_INT(lj_record_unpack(junk, sizeof junk, &m), LJ_PROTO);
}

int main(void)
{
    test_msg_id_format_and_stability();
    test_record_round_trip();
    CHECK_DONE();
}
