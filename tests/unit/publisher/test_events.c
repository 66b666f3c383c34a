/* test_events.c - the /events line parser (events.c with docker.c's decoder), fed a
 * stream recorded from the engine whole, byte by byte and split at many places, with
 * noise lines, a dropped partial line and a line over the cap. */
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

#define REC_ID "ac214f3b3fcd39a869ff124606c10e7758db2e19303d16b4ef6ef8f21b36b513"

/* data/events.raw: GET /events of dockerd 20.10.24 (API 1.41), recorded while a
 * container was run, renamed, started again and removed. */
static void check_recorded(const struct lj_events_parser *p, size_t skipped)
{
    static const char *const actions[] = { "start", "die", "rename", "start", "die", "destroy" };
    CHECK_INT(p->n, 6);
    CHECK_INT(p->skipped, skipped);
    if (p->n != 6)
        return;
    for (size_t i = 0; i < 6; i++) {
        CHECK_STR(p->queue[i].action, actions[i]);
        CHECK_STR(p->queue[i].id, REC_ID);
        CHECK(i == 0 || p->queue[i].time_ns >= p->queue[i - 1].time_ns);
    }
    CHECK_STR(p->queue[0].name, "pcrec.1_x");
    CHECK(p->queue[0].time_ns / 1000 == 1796156474971645LL);
    CHECK_STR(p->queue[2].name, "pcrec-renamed");
    CHECK_STR(p->queue[2].old_name, "pcrec.1_x");
    CHECK_STR(p->queue[3].name, "pcrec-renamed");
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
    check_recorded(&p, 0);
    lj_events_parser_finish(&p);

    lj_events_parser_init(&p);
    for (size_t i = 0; i < n; i++)
        lj_events_parser_feed(&p, raw + i, 1);
    check_recorded(&p, 0);
    lj_events_parser_finish(&p);

    /* Lines that are not container events in between are skipped. */
    static const char noise[] = "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"x\"}}\n"
                                "not json at all\n\n";
    lj_events_parser_init(&p);
    lj_events_parser_feed(&p, noise, sizeof noise - 1);
    lj_events_parser_feed(&p, raw, n);
    check_recorded(&p, 3);
    lj_events_parser_finish(&p);

    for (size_t cut = 0; cut <= n; cut += 7) {
        lj_events_parser_init(&p);
        lj_events_parser_feed(&p, raw, cut);
        lj_events_parser_feed(&p, raw + cut, n - cut);
        CHECK_INT(p.n, 6);
        lj_events_parser_finish(&p);
    }

    /* A partial line is kept across feeds and dropped by reset_line. */
    lj_events_parser_init(&p);
    lj_events_parser_feed(&p, raw, 40);
    lj_events_parser_reset_line(&p);
    lj_events_parser_feed(&p, raw + 40, n - 40);
    CHECK_INT(p.n, 5);
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
    CHECK_INT(p.n, 6);
    CHECK_INT(p.skipped, 1);
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
