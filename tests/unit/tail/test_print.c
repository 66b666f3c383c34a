/* Unit tests for tail/print.c: the default, raw, json and template forms. */
#include "check.h"
#include "print.h"

int main(void)
{
    struct lj_buf out, scratch;
    struct lj_print_config c = { .mode = LJ_PRINT_DEFAULT, .ansi = LJ_TERM_STRIP, .utc = true };
    struct lj_record r = { .host = "h1", .container_id = "0123456789abcdef", .container = "api",
                           .stream = LJ_STREAM_STDERR, .ts_unix_nano = 1764583200123456789LL,
                           .line = (const uint8_t *)"he said \"hi\"\x1b]0;t\x07\n", .line_len = 19,
                           .level = LJ_LEVEL_WARN, .line_no = 7 };
    lj_buf_init(&out);
    lj_buf_init(&scratch);

    CHECK_INT(lj_print_record(&c, &r, 42, &out, &scratch), LJ_OK);
    CHECK_STR(lj_buf_cstr(&out), "h1/api WARN  he said \"hi\"^J\n");
    lj_buf_reset(&out);
    c.ts = LJ_PRINT_TS_SHORT;
    lj_print_record(&c, &r, 42, &out, &scratch);
    CHECK_STR(lj_buf_cstr(&out), "h1/api 10:00:00.123 WARN  he said \"hi\"^J\n");
    lj_buf_reset(&out);
    c.ts = LJ_PRINT_TS_FULL;
    lj_print_record(&c, &r, 42, &out, &scratch);
    CHECK_STR(lj_buf_cstr(&out), "h1/api 2025-12-01T10:00:00.123456789Z WARN  he said \"hi\"^J\n");
    lj_buf_reset(&out);
    c.mode = LJ_PRINT_RAW;
    lj_print_record(&c, &r, 42, &out, &scratch);
    CHECK_STR(lj_buf_cstr(&out), "he said \"hi\"^J\n");
    lj_buf_reset(&out);
    c.mode = LJ_PRINT_JSON;
    lj_print_record(&c, &r, 42, &out, &scratch);
    CHECK_STR(lj_buf_cstr(&out),
              "{\"type\":\"line\",\"seq\":42,\"host\":\"h1\",\"container\":\"api\",\"container_id\":"
              "\"0123456789abcdef\",\"stream\":\"stderr\",\"ts\":\"2025-12-01T10:00:00.123456789Z\","
              "\"ts_unix_nano\":1764583200123456789,\"level\":\"warn\",\"line_no\":7,\"truncated\":false,"
              "\"line\":\"he said \\\"hi\\\"\\u001b]0;t\\u0007\\n\"}\n");
    lj_buf_reset(&out);
    lj_print_json_string(&out, (const uint8_t *)"\xff\xc3\xa9", 3);
    CHECK_STR(lj_buf_cstr(&out), "\"\\ufffd\xc3\xa9\"");

    /* template */
    struct lj_template *t = NULL;
    char err[128];
    CHECK_INT(lj_template_create("{seq} {ref} {id} {stream} {level} {line_no} {line}", &t, err,
                                 sizeof err), LJ_OK);
    c.mode = LJ_PRINT_TEMPLATE;
    c.tmpl = t;
    lj_buf_reset(&out);
    lj_print_record(&c, &r, 42, &out, &scratch);
    CHECK_STR(lj_buf_cstr(&out), "42 h1/api 0123456789ab stderr warn 7 he said \"hi\"^J\n");
    lj_template_destroy(t);

    /* colour: prefix, level, highlight */
    struct lj_regexes hl = { 0 };
    lj_regexes_add(&hl, "said", 0, err, sizeof err);
    c = (struct lj_print_config){ .mode = LJ_PRINT_DEFAULT, .color = true, .ansi = LJ_TERM_STRIP,
                                  .highlight = &hl };
    lj_buf_reset(&out);
    lj_print_record(&c, &r, 42, &out, &scratch);
    char want[256];
    snprintf(want, sizeof want, "\x1b[%sm" "h1/api\x1b[0m \x1b[33mWARN \x1b[0m he \x1b[7msaid\x1b[27m "
             "\"hi\"^J\n", (const char *[]){ "31", "32", "33", "34", "35", "36", "91", "92", "93",
                                            "94", "95", "96" }[lj_print_color_of("h1", "api")]);
    CHECK_STR(lj_buf_cstr(&out), want);
    CHECK_INT(lj_print_color_of("h1", "api"), lj_print_color_of("h1", "api"));
    regfree(&hl.re[0]);
    free(hl.re);

    /* gap and event lines */
    c = (struct lj_print_config){ .mode = LJ_PRINT_DEFAULT, .ansi = LJ_TERM_STRIP };
    lj_buf_reset(&out);
    lj_print_gap(&c, "h1", "api", 12, 413, "expired", &out);
    CHECK_STR(lj_buf_cstr(&out), "h1/api [logjet-tail] gap: 400 lines lost (line_no 13..412, expired)\n");
    c.mode = LJ_PRINT_JSON;
    lj_buf_reset(&out);
    lj_print_gap(&c, "h1", "api", 12, 14, "expired", &out);
    CHECK_STR(lj_buf_cstr(&out), "{\"type\":\"gap\",\"host\":\"h1\",\"container\":\"api\",\"after_line_no\":12,"
              "\"next_line_no\":14,\"lost\":1,\"reason\":\"expired\"}\n");
    struct lj_print_event e = { .host = "h1", .name = "api", .what = "exited", .ts_ns = 0,
                                .has_exit_code = true, .exit_code = 137, .oom_killed = true };
    c.mode = LJ_PRINT_DEFAULT;
    lj_buf_reset(&out);
    lj_print_event(&c, &e, &out);
    CHECK_STR(lj_buf_cstr(&out), "h1/api [docker] exited (exit code 137, OOM-killed)\n");
    c.mode = LJ_PRINT_JSON;
    lj_buf_reset(&out);
    lj_print_event(&c, &e, &out);
    CHECK_STR(lj_buf_cstr(&out), "{\"type\":\"event\",\"event\":\"exited\",\"ts\":\"1970-01-01T00:00:00.000000000Z\","
              "\"host\":\"h1\",\"container\":\"api\",\"exit_code\":137,\"oom_killed\":true}\n");
    lj_buf_finish(&out);
    lj_buf_finish(&scratch);
    CHECK_DONE();
}
