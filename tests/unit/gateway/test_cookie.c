/* Unit tests for gateway/cookie.c: one cookie out of a Cookie header. */
#include <string.h>

#include "check.h"
#include "cookie.h"

static const char *get(const char *hdr, const char *name, size_t outlen)
{
    static char out[512];
    return lj_cookie_get(hdr, strlen(hdr), name, out, outlen) ? out : NULL;
}

int main(void)
{
    char big[2048], out2[16];
    CHECK_STR(get("logjet_token=T", "logjet_token", 64), "T");
    CHECK_STR(get("a=1; logjet_token=T; b=2", "logjet_token", 64), "T");
    CHECK_STR(get("a=1;logjet_token=T;b=2", "logjet_token", 64), "T");
    CHECK_STR(get("  logjet_token = T  ", "logjet_token", 64), "T");
    CHECK_STR(get("logjet_token=\"T q\"", "logjet_token", 64), "T q");
    CHECK_STR(get("logjet_token=a=b", "logjet_token", 64), "a=b");
    CHECK_STR(get("logjet_token=first; logjet_token=second", "logjet_token", 64), "first");
    CHECK(get("xlogjet_token=T", "logjet_token", 64) == NULL);
    CHECK(get("logjet_tokenx=T", "logjet_token", 64) == NULL);
    CHECK(get("a=logjet_token=T", "logjet_token", 64) == NULL);
    CHECK(get("Logjet_Token=T", "logjet_token", 64) == NULL);
    CHECK(get("logjet_token=", "logjet_token", 64) == NULL);
    CHECK(get("logjet_token=\"\"", "logjet_token", 64) == NULL);
    CHECK(get("logjet_token", "logjet_token", 64) == NULL);
    CHECK(get("", "logjet_token", 64) == NULL);
    CHECK(get("logjet_token=12345", "logjet_token", 5) == NULL);     /* does not fit */
    CHECK_STR(get("logjet_token=1234", "logjet_token", 5), "1234");
    CHECK_STR(get("logjet_token=\"", "logjet_token", 64), "\"");
    /* a long header: the cookie is found wherever it is */
    size_t n = 0;
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "c%d=%020d; ", i, i);
    snprintf(big + n, sizeof(big) - n, "logjet_token=deep");
    CHECK(strlen(big) > 1000);
    CHECK_STR(get(big, "logjet_token", 64), "deep");
    CHECK(lj_cookie_get("logjet_token=a\0b", 15, "logjet_token", out2, sizeof(out2)) == false);
    CHECK(get("logjet_token=a\tb", "logjet_token", 64) == NULL);
    /* never reads past len: the value stops at the given length */
    char out[16];
    CHECK(lj_cookie_get("logjet_token=abcdef", 16, "logjet_token", out, sizeof(out)));
    CHECK_STR(out, "abc");
    CHECK_DONE();
}
