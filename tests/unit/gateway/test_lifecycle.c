/* Unit tests for gateway/lifecycle.c: which registry changes become which events, in
 * which order; a removal held for a rename; the state told at subscribe; the JSON. */
#include "check.h"
#include "lifecycle.h"

#define MAXEV 16

struct seen {
    char text[MAXEV][160];
    int n;
};

/* Records "kind key ts code" (and the new key of a rename). */
static void rec(void *arg, const struct lj_lifecycle_event *ev)
{
    struct seen *s = arg;
    if (s->n < MAXEV)
        snprintf(s->text[s->n++], sizeof s->text[0], "%s %s %lld %d%s%s%s", lj_lifecycle_name(ev->kind),
                 ev->key, (long long)ev->ts_ns, ev->exit_code, ev->new_key ? " -> " : "",
                 ev->new_key ? ev->new_key : "", ev->current ? " current" : "");
}

static struct lj_lifecycle_state st(const char *id, const char *state, int64_t started, int64_t finished,
                                    int code, bool oom)
{
    struct lj_lifecycle_state s = { .started_ns = started, .finished_ns = finished, .updated_ns = 99,
                                    .exit_code = code, .oom_killed = oom };
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.state, sizeof s.state, "%s", state);
    return s;
}

static void test_runs(void)
{
    struct lj_lifecycle *lc = NULL;
    struct seen s = { 0 };
    CHECK_INT(lj_lifecycle_create(&lc), LJ_OK);
    struct lj_lifecycle_state created = st("a", "created", 0, 0, 0, false);
    struct lj_lifecycle_state run1 = st("a", "running", 10, 0, 0, false);
    struct lj_lifecycle_state end1 = st("a", "exited", 10, 20, 3, false);
    struct lj_lifecycle_state run2 = st("a", "running", 30, 20, 0, false);
    struct lj_lifecycle_state oom2 = st("a", "exited", 30, 40, 137, true);
    struct lj_lifecycle_state quick = st("a", "exited", 50, 51, 1, false);
    lj_lifecycle_put(lc, "h/a", NULL, &created, NULL, NULL, 0, rec, &s);      /* nothing ran yet */
    lj_lifecycle_put(lc, "h/a", &created, &run1, NULL, NULL, 0, rec, &s);
    lj_lifecycle_put(lc, "h/a", &run1, &run1, NULL, NULL, 0, rec, &s);        /* the same entry again */
    lj_lifecycle_put(lc, "h/a", &run1, &end1, NULL, NULL, 0, rec, &s);
    lj_lifecycle_put(lc, "h/a", &end1, &run2, NULL, NULL, 0, rec, &s);
    lj_lifecycle_put(lc, "h/a", &run2, &oom2, NULL, NULL, 0, rec, &s);
    lj_lifecycle_put(lc, "h/a", &oom2, &quick, NULL, NULL, 0, rec, &s);       /* a run never seen running */
    CHECK_INT(s.n, 7);
    CHECK_STR(s.text[0], "started h/a 10 0");
    CHECK_STR(s.text[1], "exited h/a 20 3");
    CHECK_STR(s.text[2], "restarted h/a 30 0");
    CHECK_STR(s.text[3], "oom_killed h/a 40 137");
    CHECK_STR(s.text[4], "exited h/a 40 137");
    CHECK_STR(s.text[5], "restarted h/a 50 1");
    CHECK_STR(s.text[6], "exited h/a 51 1");
    /* a container new to the registry that already ended */
    lj_lifecycle_put(lc, "h/b", NULL, &end1, NULL, NULL, 0, rec, &s);
    CHECK_STR(s.text[7], "started h/b 10 3");
    lj_lifecycle_destroy(lc);
}

static void test_removal_and_rename(void)
{
    struct lj_lifecycle *lc = NULL;
    struct seen s = { 0 };
    CHECK_INT(lj_lifecycle_create(&lc), LJ_OK);
    struct lj_lifecycle_state run = st("x", "running", 10, 0, 0, false);
    struct lj_lifecycle_state gone = st("x", "removed", 0, 0, 0, false);
    /* a rename: the old name removed, then the new one with the same id and run */
    lj_lifecycle_put(lc, "h/old", &run, &gone, NULL, NULL, 1000, rec, &s);
    CHECK_INT(s.n, 0);
    lj_lifecycle_put(lc, "h/new", NULL, &run, NULL, NULL, 1001, rec, &s);
    CHECK_INT(s.n, 1);
    CHECK_STR(s.text[0], "renamed h/old 99 0 -> h/new");
    lj_lifecycle_tick(lc, 1000 + LJ_LIFECYCLE_RENAME_WAIT_NS, false, rec, &s);
    CHECK_INT(s.n, 1);
    /* a removal: told once its wait is over, and only once */
    lj_lifecycle_put(lc, "h/new", &run, &gone, NULL, NULL, 2000, rec, &s);
    lj_lifecycle_put(lc, "h/new", &gone, &gone, NULL, NULL, 2001, rec, &s);
    lj_lifecycle_tick(lc, 2000 + LJ_LIFECYCLE_RENAME_WAIT_NS - 1, false, rec, &s);
    CHECK_INT(s.n, 1);
    lj_lifecycle_tick(lc, 2000 + LJ_LIFECYCLE_RENAME_WAIT_NS, false, rec, &s);
    CHECK_INT(s.n, 2);
    CHECK_STR(s.text[1], "removed h/new 99 0");
    /* flush at exit; another id under another name is no rename */
    lj_lifecycle_put(lc, "h/y", &run, &gone, NULL, NULL, 3000, rec, &s);
    struct lj_lifecycle_state other = st("z", "running", 70, 0, 0, false);
    lj_lifecycle_put(lc, "h/z", NULL, &other, NULL, NULL, 3001, rec, &s);
    CHECK_STR(s.text[2], "started h/z 70 0");
    lj_lifecycle_tick(lc, 3002, true, rec, &s);
    CHECK_INT(s.n, 4);
    CHECK_STR(s.text[3], "removed h/y 99 0");
    /* the other order: the new name first, while the old entry (its twin) still stands */
    struct lj_lifecycle_state ended = st("q", "exited", 10, 20, 3, false);
    CHECK(lj_lifecycle_put(lc, "h/q2", NULL, &ended, "h/q", &ended, 4000, rec, &s));
    CHECK_INT(s.n, 5);
    CHECK_STR(s.text[4], "renamed h/q 99 0 -> h/q2");
    /* a twin of another id is no rename */
    CHECK(!lj_lifecycle_put(lc, "h/r2", NULL, &run, "h/q", &ended, 4001, rec, &s));
    CHECK_STR(s.text[5], "started h/r2 10 0");
    lj_lifecycle_destroy(lc);
}

static void test_current_and_json(void)
{
    struct seen s = { 0 };
    struct lj_lifecycle_state oom = st("a", "exited", 10, 20, 137, true);
    struct lj_lifecycle_state run = st("a", "running", 30, 20, 0, false);
    lj_lifecycle_current("h/a", &oom, rec, &s);
    lj_lifecycle_current("h/a", &run, rec, &s);
    CHECK_INT(s.n, 4);
    CHECK_STR(s.text[0], "started h/a 10 137 current");
    CHECK_STR(s.text[1], "oom_killed h/a 20 137 current");
    CHECK_STR(s.text[2], "exited h/a 20 137 current");
    CHECK_STR(s.text[3], "started h/a 30 0 current");

    struct lj_buf b;
    struct lj_lifecycle_event ev = { .kind = LJ_LIFECYCLE_EXITED, .key = "h/we\"b", .ts_ns = 1764633600000000001LL,
                                     .exit_code = 137, .oom_killed = true };
    lj_buf_init(&b);
    lj_lifecycle_json(&ev, &b);
    CHECK_STR(lj_buf_cstr(&b), ",\"container\":\"h/we\\\"b\",\"event\":\"exited\",\"ts\":\"2025-12-02T00:00:00.000000001Z\","
                               "\"exit_code\":137,\"oom_killed\":true}");
    lj_buf_finish(&b);
    struct lj_lifecycle_event rn = { .kind = LJ_LIFECYCLE_RENAMED, .key = "h/a", .new_key = "h/b", .ts_ns = 1,
                                     .current = true };
    lj_buf_init(&b);
    lj_lifecycle_json(&rn, &b);
    CHECK_STR(lj_buf_cstr(&b), ",\"container\":\"h/a\",\"event\":\"renamed\",\"ts\":\"1970-01-01T00:00:00.000000001Z\","
                               "\"new_container\":\"h/b\",\"current\":true}");
    lj_buf_finish(&b);
}

int main(void)
{
    test_runs();
    test_removal_and_rename();
    test_current_and_json();
    CHECK_DONE();
}
