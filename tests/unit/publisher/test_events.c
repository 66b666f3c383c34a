/* test_events.c - the /events line parser (events.c with docker.c's decoder), fed a
 * recorded stream whole, byte by byte and in every two-piece split, plus cut lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "events.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b = malloc(1 << 16);
    *n = f && b ? fread(b, 1, 1 << 16, f) : 0;
    if (f)
        fclose(f);
    return b;
}

static void check_recorded(const struct lj_events_parser *p)
{
    CHECK_INT(p->n, 4);
    CHECK_INT(p->skipped, 2);
    if (p->n != 4)
        return;
    CHECK_STR(p->queue[0].action, "start");
    CHECK_STR(p->queue[0].name, "web.1.x9f");
    CHECK_STR(p->queue[0].id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    CHECK(p->queue[0].time_ns / 1000 == 1764619200123456LL);
    CHECK_STR(p->queue[1].action, "die");
    CHECK_STR(p->queue[2].action, "rename");
    CHECK_STR(p->queue[2].name, "after");
    CHECK_STR(p->queue[2].old_name, "before");
    CHECK_STR(p->queue[3].action, "destroy");
    CHECK_STR(p->queue[3].old_name, "");
}

int main(int argc, char **argv)
{
    char path[4096];
    size_t n;
    struct lj_events_parser p;

    snprintf(path, sizeof path, "%s/events.raw", argc > 1 ? argv[1] : ".");
    char *raw = slurp(path, &n);
    CHECK(n > 500);

    lj_events_parser_init(&p);
    lj_events_parser_feed(&p, raw, n);
    check_recorded(&p);
    lj_events_parser_finish(&p);

    lj_events_parser_init(&p);
    for (size_t i = 0; i < n; i++)
        lj_events_parser_feed(&p, raw + i, 1);
    check_recorded(&p);
    lj_events_parser_finish(&p);

    for (size_t cut = 0; cut <= n; cut += 7) {
        lj_events_parser_init(&p);
        lj_events_parser_feed(&p, raw, cut);
        lj_events_parser_feed(&p, raw + cut, n - cut);
        CHECK_INT(p.n, 4);
        lj_events_parser_finish(&p);
    }

    /* A partial line is kept across feeds and dropped by reset_line. */
    lj_events_parser_init(&p);
    lj_events_parser_feed(&p, raw, 40);
    lj_events_parser_reset_line(&p);
    lj_events_parser_feed(&p, raw + 40, n - 40);
    CHECK_INT(p.n, 3);
    lj_events_parser_finish(&p);

    /* A line over LJ_EVENTS_LINE_MAX is cut, skipped, and the next line still parses. */
    size_t big = LJ_EVENTS_LINE_MAX + 100;
    char *huge = malloc(big + n);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '\n';
    memcpy(huge + big, raw, n);
    lj_events_parser_init(&p);
    lj_events_parser_feed(&p, huge, big + n);
    CHECK_INT(p.n, 4);
    CHECK_INT(p.skipped, 3);
    CHECK(p.line.len == 0);
    lj_events_parser_finish(&p);
    free(huge);

    /* An id of the wrong length or a missing Action is not an event. */
    struct lj_docker_event ev;
    CHECK_INT(lj_docker_event_parse("{\"Action\":\"start\",\"Actor\":{\"ID\":\"abc\"}}", 39, &ev), LJ_PROTO);
    CHECK_INT(lj_docker_event_parse("{}", 2, &ev), LJ_PROTO);
    CHECK_INT(lj_docker_event_parse("", 0, &ev), LJ_PROTO);
    free(raw);
    CHECK_DONE();
}
