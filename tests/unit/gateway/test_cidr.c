/* Unit tests for gateway/cidr.c: address range lists and peer matching. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "cidr.h"

static bool match(const struct lj_cidr_list *l, const char *addr)
{
    struct sockaddr_in a4 = { .sin_family = AF_INET };
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
    if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1)
        return lj_cidr_match(l, (struct sockaddr *)&a4);
    if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1)
        return lj_cidr_match(l, (struct sockaddr *)&a6);
    return false;
}

int main(void)
{
    struct lj_cidr_list *l = NULL;
    char err[256];

    CHECK_INT(lj_cidr_parse("127.0.0.1, 10.0.0.0/8,192.168.1.128/25, fd00::/8, ::1", &l, err, sizeof(err)), LJ_OK);
    CHECK(match(l, "127.0.0.1"));
    CHECK(!match(l, "127.0.0.2"));
    CHECK(match(l, "10.255.1.2"));
    CHECK(!match(l, "11.0.0.1"));
    CHECK(match(l, "192.168.1.200"));
    CHECK(!match(l, "192.168.1.127"));
    CHECK(match(l, "fd12:3456::1"));
    CHECK(!match(l, "fe80::1"));
    CHECK(match(l, "::1"));
    CHECK(!match(l, "::2"));
    CHECK(match(l, "::ffff:10.1.2.3"));        /* IPv4 peer on a dual-stack socket */
    CHECK(!match(l, "::ffff:11.1.2.3"));
    CHECK(!lj_cidr_match(l, NULL));
    CHECK(!lj_cidr_match(NULL, NULL));
    lj_cidr_destroy(l);

    CHECK_INT(lj_cidr_parse("0.0.0.0/0", &l, err, sizeof(err)), LJ_OK);
    CHECK(match(l, "203.0.113.9"));
    CHECK(!match(l, "2001:db8::1"));
    lj_cidr_destroy(l);
    CHECK_INT(lj_cidr_parse("10.1.2.3/31", &l, err, sizeof(err)), LJ_OK);   /* host bits masked */
    CHECK(match(l, "10.1.2.2"));
    CHECK(!match(l, "10.1.2.4"));
    lj_cidr_destroy(l);

    const char *bad[] = { "", " , ", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "localhost", "10.0.0", "1.2.3.4/0008", "10.0.0.0/8,,bogus" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        l = NULL;
        CHECK_INT(lj_cidr_parse(bad[i], &l, err, sizeof(err)), LJ_INVAL);
        CHECK(l == NULL);
    }
    CHECK_INT(lj_cidr_parse("10.0.0.0/8,bogus", &l, err, sizeof(err)), LJ_INVAL);
    CHECK(strstr(err, "bogus") != NULL);
    CHECK_DONE();
}
