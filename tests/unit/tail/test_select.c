/* Unit tests for tail/select.c: globs, regex queries, host, exclusions, state, labels. */
#include "check.h"
#include "select.h"

/* A ContainerInfo with one label, built through the record glue. */
static lj_pb_container *info(const char *state, const char *key, const char *value)
{
    Logjet__V1__ContainerInfo c;
    Logjet__V1__ContainerInfo__LabelsEntry e, *ep = &e;
    uint8_t *buf;
    size_t len;
    lj_pb_container *out = NULL;
    logjet__v1__container_info__init(&c);
    logjet__v1__container_info__labels_entry__init(&e);
    e.key = (char *)key;
    e.value = (char *)value;
    c.state = (char *)state;
    c.labels = &ep;
    c.n_labels = 1;
    lj_container_pack(&c, &buf, &len);
    lj_container_unpack(buf, len, &out);
    free(buf);
    return out;
}

int main(void)
{
    struct lj_select s;
    char err[256];
    lj_pb_container *run_web = info("running", "app", "web"), *exited_db = info("exited", "app", "db");

    lj_select_init(&s);
    CHECK_INT(lj_select_match(&s, "h1", "anything", NULL), LJ_SELECT_YES);   /* no query: all */
    CHECK_INT(lj_select_add_query(&s, "web-*/api*", err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_add_query(&s, "*/nginx", err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_match(&s, "web-1", "api-7", NULL), LJ_SELECT_YES);
    CHECK_INT(lj_select_match(&s, "db-1", "nginx", NULL), LJ_SELECT_YES);
    CHECK_INT(lj_select_match(&s, "db-1", "nginx2", NULL), LJ_SELECT_NO);
    CHECK_INT(lj_select_match(&s, "web-1", "worker", NULL), LJ_SELECT_NO);
    s.host_glob = "web-*";
    CHECK_INT(lj_select_match(&s, "db-1", "nginx", NULL), LJ_SELECT_NO);
    CHECK_INT(lj_select_match(&s, "web-2", "nginx", NULL), LJ_SELECT_YES);
    CHECK_INT(lj_regexes_add(&s.exclude, "^api-7$", REG_NOSUB, err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_match(&s, "web-1", "api-7", NULL), LJ_SELECT_NO);
    CHECK_INT(lj_select_match(&s, "web-1", "api-70", NULL), LJ_SELECT_YES);
    lj_select_finish(&s);

    lj_select_init(&s);
    s.regex = true;
    CHECK_INT(lj_select_add_query(&s, "^h[0-9]/(api|web)$", err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_add_query(&s, "[", err, sizeof err), LJ_INVAL);
    CHECK_INT(lj_select_match(&s, "h1", "api", NULL), LJ_SELECT_YES);
    CHECK_INT(lj_select_match(&s, "h1", "apix", NULL), LJ_SELECT_NO);
    /* state and labels need the registry */
    CHECK_INT(lj_select_set_state(&s, "running", err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_set_state(&s, "paused", err, sizeof err), LJ_INVAL);
    CHECK_INT(lj_select_match(&s, "h1", "api", NULL), LJ_SELECT_NEED_INFO);
    CHECK_INT(lj_select_match(&s, "h1", "api", run_web), LJ_SELECT_YES);
    CHECK_INT(lj_select_match(&s, "h1", "api", exited_db), LJ_SELECT_NO);
    CHECK_INT(lj_select_match(&s, "h1", "nope", NULL), LJ_SELECT_NO);   /* name decides first */
    lj_select_set_state(&s, "stopped", err, sizeof err);
    CHECK_INT(lj_select_match(&s, "h1", "api", exited_db), LJ_SELECT_YES);
    lj_select_set_state(&s, "all", err, sizeof err);
    CHECK_INT(lj_select_add_label(&s, "app=web", err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_match(&s, "h1", "api", run_web), LJ_SELECT_YES);
    CHECK_INT(lj_select_match(&s, "h1", "api", exited_db), LJ_SELECT_NO);
    CHECK_INT(lj_select_add_label(&s, "app", err, sizeof err), LJ_OK);       /* key present */
    CHECK_INT(lj_select_match(&s, "h1", "api", run_web), LJ_SELECT_YES);
    CHECK_INT(lj_select_add_label(&s, "tier", err, sizeof err), LJ_OK);
    CHECK_INT(lj_select_match(&s, "h1", "api", run_web), LJ_SELECT_NO);
    CHECK_INT(lj_select_add_label(&s, "=x", err, sizeof err), LJ_INVAL);
    lj_select_finish(&s);
    lj_container_free(run_web);
    lj_container_free(exited_db);
    CHECK_DONE();
}
