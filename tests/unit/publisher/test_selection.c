/* test_selection.c - the logjet.enable label, --opt-in, --include and --exclude. */
#include "check.h"
#include "selection.h"

int main(void)
{
    struct lj_selection s;
    char err[256];
    struct lj_docker_label off[] = { { "team", "core" }, { "logjet.enable", "false" } };
    struct lj_docker_label no[] = { { "logjet.enable", "no" } };
    struct lj_docker_label on[] = { { "logjet.enable", "true" } };
    struct lj_docker_label yes[] = { { "logjet.enable", "yes" } };
    struct lj_docker_label other[] = { { "logjet.enable", "maybe" } };

    CHECK_INT(lj_selection_init(&s, "", "", false, err, sizeof err), LJ_OK);
    CHECK(lj_selection_wants(&s, "web", NULL, 0));
    CHECK(lj_selection_wants(&s, "web", other, 1));
    CHECK(!lj_selection_wants(&s, "web", off, 2));
    CHECK(!lj_selection_wants(&s, "web", no, 1));
    CHECK_STR(lj_selection_label(off, 2, "team"), "core");
    CHECK(lj_selection_label(off, 2, "absent") == NULL);
    lj_selection_finish(&s);

    CHECK_INT(lj_selection_init(&s, "", "", true, err, sizeof err), LJ_OK);
    CHECK(!lj_selection_wants(&s, "web", NULL, 0));
    CHECK(!lj_selection_wants(&s, "web", other, 1));
    CHECK(lj_selection_wants(&s, "web", on, 1));
    CHECK(lj_selection_wants(&s, "web", yes, 1));
    lj_selection_finish(&s);

    CHECK_INT(lj_selection_init(&s, "^app-", "-debug$", false, err, sizeof err), LJ_OK);
    CHECK(lj_selection_wants(&s, "app-web", NULL, 0));
    CHECK(!lj_selection_wants(&s, "db", NULL, 0));
    CHECK(!lj_selection_wants(&s, "app-web-debug", NULL, 0));
    CHECK(!lj_selection_wants(&s, "app-web", off, 2));
    CHECK(lj_selection_wants(&s, "app-web.1.x9f", NULL, 0));
    lj_selection_finish(&s);

    CHECK_INT(lj_selection_init(&s, "(", "", false, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "--include '('") != NULL);
    CHECK_INT(lj_selection_init(&s, "", "[", false, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "--exclude '['") != NULL);
    lj_selection_finish(&s);
    CHECK_DONE();
}
