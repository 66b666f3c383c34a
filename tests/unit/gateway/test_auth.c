/* Unit tests for gateway/auth.c: tokens file, user lines, ACL, origins and Host names. */
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

/* A line longer than the parser's line buffer must not become two entries: its tail
 * ("second-token *") was read as a line of its own and granted everything. */
static void test_long_line_is_refused_whole(void)
{
    struct lj_auth *a = NULL;
    char err[256];
    size_t n = 0;
    char *text = malloc(8192);
    n += (size_t)sprintf(text, "first-token h/");
    while (n < 4095)
        text[n++] = 'x';
    n += (size_t)sprintf(text + n, "second-token *\nthird-token *\n");
    char *p = write_file(text);
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "line 1 is longer than 4095 bytes") != NULL);
    CHECK(strstr(err, p) != NULL);                  /* names the file */
    CHECK(strstr(err, "token") == NULL || strstr(err, "second-token") == NULL);
    unlink(p);
    if (a)
        CHECK(lj_auth_check(a, "second-token") == NULL);
    lj_auth_destroy(a);
    a = NULL;
    /* 4095 bytes is still one line. */
    text[4095] = '\n';
    CHECK_INT(lj_auth_parse(text, 4096, &a, err, sizeof(err)), LJ_OK);
    CHECK(a && lj_auth_check(a, "first-token") != NULL);
    lj_auth_destroy(a);
    free(text);
}

static void test_parse_bytes(void)
{
    static const char crlf[] = "t1 a/*\r\n# c\r\n\r\nt2 b/*,c/* # note\r\nt3 d/x";   /* no final LF */
    struct lj_auth *a = NULL;
    char err[256];
    CHECK_INT(lj_auth_parse(crlf, sizeof crlf - 1, &a, err, sizeof(err)), LJ_OK);
    CHECK(lj_grant_allows(lj_auth_check(a, "t1"), "a/q"));
    CHECK(lj_grant_allows(lj_auth_check(a, "t2"), "c/q"));
    CHECK(lj_grant_allows(lj_auth_check(a, "t3"), "d/x"));
    CHECK(!lj_grant_allows(lj_auth_check(a, "t3"), "a/q"));
    lj_auth_destroy(a);
    static const char nul[] = "t1 a/*\nsecret\0x *\n";
    a = NULL;
    CHECK_INT(lj_auth_parse(nul, sizeof nul - 1, &a, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "line 2 holds a NUL byte") != NULL);
    CHECK(strstr(err, "secret") == NULL);
    CHECK(a == NULL);
    /* A user named twice: the message names the lines, not the name (a name is the
     * file's bytes and can hold anything, a token too). */
    static const char twice[] = "user al-secret-token-9 a/*\nal-secret-token-9 *\nuser al-secret-token-9 b/*\n";
    CHECK_INT(lj_auth_parse(twice, sizeof twice - 1, &a, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "line 3: the user of line 1 given again") != NULL);
    CHECK(strstr(err, "secret") == NULL);
    CHECK_INT(lj_auth_parse("", 0, &a, err, sizeof(err)), LJ_INVAL);
    CHECK_INT(lj_auth_parse("tok ,,\n", 7, &a, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "line 1: no globs") != NULL);
}

int main(void)
{
    test_long_line_is_refused_whole();
    test_parse_bytes();
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

    /* user lines: three words, the first "user"; a two-word line is always a token */
    p = write_file("user tok-a *\nuser alice h/web-*,h/db\nuser bob@example.com h/api-* # comment\n"
                   "plain-token h/x\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_OK);
    unlink(p);
    CHECK_INT(lj_auth_token_count(a), 1);
    CHECK_INT(lj_auth_user_count(a), 3);
    g = lj_auth_user(a, "alice");
    CHECK(g && lj_grant_allows(g, "h/web-1") && lj_grant_allows(g, "h/db") && !lj_grant_allows(g, "h/api-1"));
    CHECK(lj_grant_allows(lj_auth_user(a, "bob@example.com"), "h/api-9"));
    CHECK(lj_auth_user(a, "Alice") == NULL);          /* exact names */
    CHECK(lj_auth_user(a, "plain-token") == NULL);    /* a token is not a user */
    CHECK(lj_auth_check(a, "alice") == NULL);         /* a user is not a token */
    CHECK(lj_auth_check(a, "user") == NULL);
    CHECK(lj_grant_allows(lj_auth_user(a, "tok-a"), "any/x"));
    CHECK(lj_auth_check(a, "tok-a") == NULL);
    lj_auth_destroy(a);
    p = write_file("user h/web-*\n");                /* an old file's token spelt "user" */
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_OK);
    unlink(p);
    CHECK(lj_grant_allows(lj_auth_check(a, "user"), "h/web-1"));
    CHECK_INT(lj_auth_user_count(a), 0);
    lj_auth_destroy(a);
    p = write_file("user alice h/a\nuser alice h/b\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "line 2") != NULL);
    unlink(p);
    p = write_file("users alice h/a\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_INVAL);
    unlink(p);
    p = write_file("user alice h/a extra\n");
    CHECK_INT(lj_auth_load(p, &a, err, sizeof(err)), LJ_INVAL);
    unlink(p);

    /* Host names a loopback or tokenless listener serves */
    CHECK(lj_auth_host_ok("", NULL));
    CHECK(lj_auth_host_ok("", ""));
    CHECK(lj_auth_host_ok("", "127.0.0.1:8080"));
    CHECK(lj_auth_host_ok("", "127.9.8.7"));
    CHECK(lj_auth_host_ok("", "localhost:8080"));
    CHECK(lj_auth_host_ok("", "LocalHost."));
    CHECK(lj_auth_host_ok("", "ui.localhost:1"));
    CHECK(lj_auth_host_ok("", "[::1]:8080"));
    CHECK(lj_auth_host_ok("", "::1"));
    CHECK(!lj_auth_host_ok("", "evil.example"));
    CHECK(!lj_auth_host_ok("", "127.0.0.1.evil.example"));
    CHECK(!lj_auth_host_ok("", "localhost.evil.example"));
    CHECK(!lj_auth_host_ok("", "evillocalhost"));
    CHECK(!lj_auth_host_ok("", "128.0.0.1"));
    CHECK(!lj_auth_host_ok("", "[::2]:80"));
    CHECK(!lj_auth_host_ok("", "[::1"));
    CHECK(!lj_auth_host_ok("", "127.0.0.1:80,evil.example"));   /* two Host headers */
    CHECK(!lj_auth_host_ok("", ":8080"));
    CHECK(lj_auth_host_ok("logs.example.com, Other.example", "logs.example.com:443"));
    CHECK(lj_auth_host_ok("logs.example.com, Other.example", "other.EXAMPLE"));
    CHECK(!lj_auth_host_ok("logs.example.com", "example.com"));
    CHECK(!lj_auth_host_ok("logs.example.com", "xlogs.example.com"));
    CHECK(lj_auth_host_ok("*", "anything.example"));
    CHECK_DONE();
}
