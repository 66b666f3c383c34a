/* Unit tests for tail/template.c: parsing, errors, rendering. */
#include "check.h"
#include "template.h"

static const char *render(const char *src, struct lj_buf *b)
{
    struct lj_template *t = NULL;
    char err[256];
    struct lj_template_values v = { 0 };
    v.v[LJ_TF_NAME].str = "api"; v.v[LJ_TF_NAME].len = 3;
    v.v[LJ_TF_LINE].str = "hello world"; v.v[LJ_TF_LINE].len = 5;   /* len bounds it */
    v.v[LJ_TF_LEVEL].str = "warn"; v.v[LJ_TF_LEVEL].len = 4;
    lj_buf_reset(b);
    if (lj_template_create(src, &t, err, sizeof err) != LJ_OK)
        return NULL;
    lj_template_render(t, &v, b);
    lj_template_destroy(t);
    return lj_buf_cstr(b);
}

static lj_status compile_error(const char *src, char *err, size_t n)
{
    struct lj_template *t = NULL;
    lj_status st = lj_template_create(src, &t, err, n);
    lj_template_destroy(t);
    return st;
}

int main(void)
{
    struct lj_buf b;
    char err[256];
    lj_buf_init(&b);
    CHECK_STR(render("{name} {level}: {line}", &b), "api warn: hello\n");
    CHECK_STR(render("", &b), "\n");
    CHECK_STR(render("plain", &b), "plain\n");
    CHECK_STR(render("{{{name}}}", &b), "{api}\n");
    CHECK_STR(render("a\\tb\\nc\\\\d\\q", &b), "a\tb\nc\\d\\q\n");
    CHECK_STR(render("{host}|{name}", &b), "|api\n");          /* unset renders nothing */
    CHECK_STR(render("{line}{line}", &b), "hellohello\n");
    CHECK_INT(compile_error("{nope}", err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "{nope}") != NULL);
    CHECK_INT(compile_error("x {name", err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "offset 2") != NULL);
    CHECK_INT(compile_error("x }", err, sizeof err), LJ_INVAL);
    CHECK_INT(compile_error("{}", err, sizeof err), LJ_INVAL);
    CHECK_INT(compile_error("{name }", err, sizeof err), LJ_INVAL);
    struct lj_template *t = NULL;
    CHECK_INT(lj_template_create("{seq} {line}", &t, err, sizeof err), LJ_OK);
    CHECK(lj_template_uses(t, LJ_TF_SEQ) && lj_template_uses(t, LJ_TF_LINE));
    CHECK(!lj_template_uses(t, LJ_TF_HOST));
    lj_template_destroy(t);
    lj_buf_finish(&b);
    CHECK_DONE();
}
