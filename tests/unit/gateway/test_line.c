/* Unit tests for gateway/line.c: the line JSON object and UTF-8 repair. */
#include <string.h>

#include "check.h"
#include "line.h"

static const char *clean(const char *s, size_t n, struct lj_buf *b)
{
    lj_buf_reset(b);
    lj_utf8_clean(b, s, n);
    return lj_buf_cstr(b);
}

int main(void)
{
    struct lj_buf b;
    lj_buf_init(&b);
    CHECK_STR(clean("plain", 5, &b), "plain");
    CHECK_STR(clean("caf\xc3\xa9", 5, &b), "caf\xc3\xa9");
    CHECK_STR(clean("a\xff" "b", 3, &b), "a\xef\xbf\xbd" "b");
    /* truncated 3-byte sequence: one U+FFFD for the maximal subpart */
    CHECK_STR(clean("a\xe2\x82" "b", 4, &b), "a\xef\xbf\xbd" "b");
    CHECK_STR(clean("\xed\xa0\x80", 3, &b), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    CHECK_STR(clean("\xf0\x9f\x98\x80", 4, &b), "\xf0\x9f\x98\x80");
    CHECK_STR(clean("\xc0\xaf", 2, &b), "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */

    lj_buf_reset(&b);
    lj_json_string(&b, "q\"b\\n\n\t\x01\xff", 9);
    CHECK_STR(lj_buf_cstr(&b), "\"q\\\"b\\\\n\\n\\t\\u0001\xef\xbf\xbd\"");

    lj_pb_record r = LOGJET__V1__LOG_RECORD__INIT;
    r.host = "h1";
    r.container = "web.1";
    r.stream = LOGJET__V1__STREAM__STDERR;
    r.ts_unix_nano = 1764081401193618044LL;
    r.line.data = (uint8_t *)"GET / \"x\"";
    r.line.len = 9;
    r.level = LOGJET__V1__LEVEL__WARN;
    r.line_no = 7;
    struct lj_line *l = NULL;
    CHECK_INT(lj_line_create(&r, 42, &l), LJ_OK);
    CHECK_STR(l->data, "{\"seq\":42,\"container\":\"h1/web.1\",\"ts\":\"2025-11-25T14:36:41.193618044Z\","
                       "\"stream\":\"stderr\",\"level\":\"warn\",\"line_no\":7,\"line\":\"GET / \\\"x\\\"\"}");
    CHECK_INT(l->json_len, strlen(l->data));
    CHECK_STR(lj_line_text(l), "GET / \"x\"");
    CHECK_INT(l->seq, 42);
    CHECK_INT(l->level, LJ_LEVEL_WARN);
    CHECK_INT(l->stream, LJ_STREAM_STDERR);
    CHECK_INT(l->refs, 1);
    lj_line_ref(l);
    lj_line_unref(l);
    lj_line_unref(l);
    r.truncated = true;
    CHECK_INT(lj_line_create(&r, 43, &l), LJ_OK);
    CHECK(strstr(l->data, ",\"truncated\":true}") != NULL);
    lj_line_unref(l);
    lj_buf_finish(&b);
    CHECK_DONE();
}
