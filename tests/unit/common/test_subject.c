/* Unit tests for common/subject.c: the =HH token encoding and its round trip. */
#include <stdint.h>

#include "check.h"
#include "subject.h"

static void test_examples(void)
{
    char out[256];
    CHECK_INT(lj_subject_encode("my.app", 6, out, sizeof out), LJ_OK);
    CHECK_STR(out, "my=2Eapp");
    CHECK_INT(lj_subject_encode("web_1-a", 7, out, sizeof out), LJ_OK);
    CHECK_STR(out, "web_1-a");
    CHECK_INT(lj_subject_encode("a b*>%=", 7, out, sizeof out), LJ_OK);
    CHECK_STR(out, "a=20b=2A=3E=25=3D");
    CHECK_INT(lj_subject_encode("\xc3\xa9", 2, out, sizeof out), LJ_OK);
    CHECK_STR(out, "=C3=A9");
    CHECK_INT(lj_subject_encode("", 0, out, sizeof out), LJ_INVAL);
    CHECK_INT(lj_subject_encode("a.b", 3, out, 4), LJ_LIMIT);
    CHECK_INT(lj_subject_build("logs", "host.1", "my.app", out, sizeof out), LJ_OK);
    CHECK_STR(out, "logs.host=2E1.my=2Eapp");
}

static void test_decode_rejects(void)
{
    char out[64];
    const char *bad[] = { "", "a.b", "=2", "=zz", "=2e", "=41", "a b", "=", "%41", "a=3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(lj_subject_decode(bad[i], out, sizeof out, NULL) == LJ_INVAL);
    size_t n;
    CHECK_INT(lj_subject_decode("my=2Eapp", out, sizeof out, &n), LJ_OK);
    CHECK_STR(out, "my.app");
    CHECK_INT(n, 6);
}

/* Every byte value, in random names, survives encode then decode unchanged. */
static void test_round_trip(void)
{
    uint32_t seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        char name[64], enc[256], dec[64];
        size_t len = 1 + iter % 40, n = 0;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            name[i] = (char)((seed >> 16) & 0xff);
            if (name[i] == '\0')
                name[i] = 'x';
        }
        name[len] = '\0';
        CHECK(lj_subject_encode(name, len, enc, sizeof enc) == LJ_OK);
        CHECK(strpbrk(enc, ". *>\t\r\n") == NULL);
        /* valid as a KV key part too: only [-_=A-Za-z0-9] */
        CHECK(strspn(enc, "-_=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == strlen(enc));
        CHECK(lj_subject_decode(enc, dec, sizeof dec, &n) == LJ_OK);
        CHECK(n == len && memcmp(dec, name, len) == 0);
    }
}

int main(void)
{
    test_examples();
    test_decode_rejects();
    test_round_trip();
    CHECK_DONE();
}
