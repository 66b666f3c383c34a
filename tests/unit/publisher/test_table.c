/* test_table.c - the follow table: slot reuse and generations, lookups, where a
 * follow begins (first run, a later run, a stored record of this or another
 * container), and subjects still busy with another follow's lines. */
#include "check.h"
#include "table.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

int main(void)
{
    struct lj_table t;
    struct lj_follow_config cfg = { .host = "h1", .max_line_bytes = 65536,
                                    .ack_timeout_ns = 5000000000LL };
    struct lj_docker_container a = { .id = ID_A, .name = "web.1", .created_ns = 100 };
    struct lj_docker_container b = { .id = ID_B, .name = "db", .created_ns = 200 };

    /* From Created, whatever StartedAt and FinishedAt say. */
    a.started_ns = 150;
    CHECK_INT(lj_table_first_since(&a), 100);
    a.finished_ns = 140;
    CHECK_INT(lj_table_first_since(&a), 100);
    a.finished_ns = 160;
    CHECK_INT(lj_table_first_since(&a), 100);
    a.finished_ns = 0;

    lj_table_init(&t, &cfg);
    struct lj_table_slot *sa = lj_table_add(&t, &a, 100);
    struct lj_table_slot *sb = lj_table_add(&t, &b, 200);
    CHECK(sa != NULL && sb != NULL && sa != sb);
    CHECK(lj_table_by_container(&t, ID_A) == sa);
    CHECK(lj_table_by_container(&t, ID_B) == sb);
    uint64_t id_a = lj_follow_id(sa->f);
    CHECK(lj_table_by_follow_id(&t, id_a) == sa);
    CHECK_INT(lj_table_followed(&t), 2);
    sb->unreadable = true;
    CHECK_INT(lj_table_followed(&t), 1);
    CHECK(lj_table_drained(&t));
    CHECK(!lj_table_subject_busy(&t, sb, "logs.h1.web=2E1"));

    /* A removed slot is reused with a new generation: the old id finds nothing. */
    size_t index = (size_t)(sa - t.slots);
    lj_table_remove(&t, sa, NULL);
    CHECK(lj_table_by_follow_id(&t, id_a) == NULL);
    struct lj_table_slot *sc = lj_table_add(&t, &a, 100);
    CHECK((size_t)(sc - t.slots) == index);
    CHECK(lj_follow_id(sc->f) != id_a);
    CHECK(lj_table_by_follow_id(&t, lj_follow_id(sc->f)) == sc);
    CHECK_STR(lj_follow_subject(sc->f), "logs.h1.web=2E1");

    /* Growth past the first 16 slots keeps every slot findable. */
    struct lj_docker_container many[40];
    for (int i = 0; i < 40; i++) {
        many[i] = (struct lj_docker_container){ .created_ns = 1 };
        snprintf(many[i].id, sizeof many[i].id, "%064d", i);
        snprintf(many[i].name, sizeof many[i].name, "c%d", i);
        CHECK(lj_table_add(&t, &many[i], 1) != NULL);
    }
    for (int i = 0; i < 40; i++) {
        struct lj_table_slot *s = lj_table_by_container(&t, many[i].id);
        CHECK(s != NULL && strcmp(lj_follow_name(s->f), many[i].name) == 0);
    }

    /* Positions from the last stored record. */
    uint64_t line_no = 99;
    struct lj_follow_pos pos[2] = { { 0, -1 }, { 0, -1 } };
    bool same = true;
    lj_table_position_from(NULL, NULL, ID_A, &line_no, pos, &same);
    CHECK_INT(line_no, 0);
    CHECK(!same);
    struct lj_record last = { .container_id = ID_A, .stream = LJ_STREAM_STDERR,
                              .ts_unix_nano = 5000000000LL, .ts_index = 2, .line_no = 7 };
    lj_table_position_from(&last, NULL, ID_A, &line_no, pos, &same);
    CHECK(same);
    CHECK_INT(line_no, 7);
    CHECK_INT(pos[1].ts, 5000000000LL);
    CHECK_INT(pos[1].index, 2);
    CHECK_INT(pos[0].ts, 5000000000LL - LJ_FOLLOW_REORDER_NS);
    CHECK_INT(pos[0].index, -1);
    last.other_seen = true;
    last.other_ts_unix_nano = 4900000000LL;
    last.other_ts_index = 0;
    lj_table_position_from(&last, NULL, ID_A, &line_no, pos, &same);
    CHECK_INT(pos[0].ts, 4900000000LL);
    CHECK_INT(pos[0].index, 0);
    /* Another container under the same name: only line_no carries over. */
    pos[0] = pos[1] = (struct lj_follow_pos){ 1, -1 };
    lj_table_position_from(&last, NULL, ID_B, &line_no, pos, &same);
    CHECK(!same);
    CHECK_INT(line_no, 7);
    CHECK_INT(pos[0].ts, 1);

    /* Renamed to a name another container wrote before: line_no is the subject's, the
     * positions are where the container stood under its earlier name. */
    struct lj_record from = { .container_id = ID_B, .stream = LJ_STREAM_STDOUT,
                              .ts_unix_nano = 6000000000LL, .ts_index = 1, .line_no = 300,
                              .other_seen = true, .other_ts_unix_nano = 5500000000LL };
    lj_table_position_from(&last, &from, ID_B, &line_no, pos, &same);
    CHECK(same);
    CHECK_INT(line_no, 7);
    CHECK_INT(pos[0].ts, 6000000000LL);
    CHECK_INT(pos[0].index, 1);
    CHECK_INT(pos[1].ts, 5500000000LL);
    /* Back to a name it held before (a -> b -> a): the rename's record is newer than the
     * subject's own last one, so it wins; an older one does not. */
    from.container_id = ID_A;
    lj_table_position_from(&last, &from, ID_A, &line_no, pos, &same);
    CHECK(same);
    CHECK_INT(line_no, 7);
    CHECK_INT(pos[0].ts, 6000000000LL);
    from.ts_unix_nano = 1000000000LL;
    from.other_ts_unix_nano = 900000000LL;
    lj_table_position_from(&last, &from, ID_A, &line_no, pos, &same);
    CHECK_INT(pos[1].ts, 5000000000LL);
    CHECK_INT(pos[1].index, 2);
    /* Another container's rename record is never used. */
    from.container_id = ID_B;
    lj_table_position_from(NULL, &from, ID_A, &line_no, pos, &same);
    CHECK(!same);
    CHECK_INT(line_no, 0);

    lj_table_finish(&t, NULL);
    CHECK_DONE();
}
