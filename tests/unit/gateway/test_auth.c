/* Unit tests for gateway/auth.c: tokens file, ACL and origins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"

static char *write_file(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/lj-test-tokensXXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

int main(void)
{
    struct lj_auth *a = NULL;
    char err[256];
    char *p = write_file("# tokens\n\nadmin-token *\nweb-token h/web-*,other/nginx\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_OK);
    unlink(p);
    const struct lj_grant *g = lj_auth_check(a, "web-token");
    CHECK(g != NULL);
    CHECK(lj_grant_allows(g, "h/web-1"));
    CHECK(lj_grant_allows(g, "other/nginx"));
    CHECK(!lj_grant_allows(g, "h/db-1"));
    CHECK(lj_grant_allows(lj_auth_check(a, "admin-token"), "any/thing"));
    CHECK(lj_auth_check(a, "web-toke") == NULL);
    CHECK(lj_auth_check(a, "web-tokenx") == NULL);
    CHECK(lj_auth_check(a, "") == NULL);
    CHECK(lj_auth_check(a, NULL) == NULL);
    CHECK(lj_grant_allows(lj_grant_all(), "h/x"));
    lj_auth_destroy(a);

    p = write_file("lonely-token\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "lonely") == NULL);   /* tokens never in messages */
    unlink(p);
    p = write_file("# nothing\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_INVAL);
    unlink(p);
    CHECK_INT(lj_auth_load("/nonexistent/tokens", &a, err, sizeof(err)), LJ_IO);

    CHECK(lj_auth_origin_ok("", NULL, "127.0.0.1:8080"));
    CHECK(lj_auth_origin_ok("", "http://127.0.0.1:8080", "127.0.0.1:8080"));
    CHECK(!lj_auth_origin_ok("", "http://evil.example", "127.0.0.1:8080"));
    CHECK(lj_auth_origin_ok("https://a.example, http://b.example", "http://b.example", "x"));
    CHECK(!lj_auth_origin_ok("https://a.example", "http://a.example", "x"));
    CHECK(lj_auth_origin_ok("*", "http://whatever", "x"));
    CHECK_DONE();
}
