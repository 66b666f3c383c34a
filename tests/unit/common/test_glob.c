/* Unit tests for common/glob.c. */
#include "check.h"
#include "glob.h"

int main(void)
{
    CHECK(lj_glob_match("*", "h/web-1"));
    CHECK(lj_glob_match("h/web-*", "h/web-1"));
    CHECK(!lj_glob_match("h/web-*", "h/db-1"));
    CHECK(lj_glob_match("*/nginx*", "web-1/nginx-proxy"));
    CHECK(!lj_glob_match("*/nginx*", "web-1/proxy-nginx"));
    CHECK(lj_glob_match("h/w?b-1", "h/web-1"));
    CHECK(lj_glob_match("h/*-*-x", "h/a-b-c-x"));
    CHECK(!lj_glob_match("h/web-1", "h/web-10"));
    CHECK(lj_glob_match("h/web-1", "h/web-1"));
    CHECK(lj_glob_match("**a", "bbba"));
    CHECK(!lj_glob_match("", "x"));
    CHECK(lj_glob_is_pattern("a*"));
    CHECK(!lj_glob_is_pattern("h/web-1"));
    CHECK_DONE();
}
