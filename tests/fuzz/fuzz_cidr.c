/* fuzz_cidr.c - libFuzzer target for gateway/cidr.c (--trusted-proxies) and the Host
 * check of gateway/auth.c (lj_auth_host_ok), the two parsers that judge where a
 * request comes from.
 *
 * Input: the first 16 bytes are an address (IPv6; also read as IPv4 from bytes 12..15),
 * the rest a NUL-free list given to lj_cidr_parse and, as a Host value, to
 * lj_auth_host_ok. Checks beyond "no crash": a list that parses matches an IPv4
 * address exactly when it matches the same address mapped into IPv6 (::ffff:a.b.c.d);
 * a failed parse leaves *out alone and names a reason; every Host the check accepts
 * without an allowed list is loopback by an independent reading (is_loopback_host);
 * "*" accepts every single name that starts with a letter or digit.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cidr.h"

static void check_list(const char *list, const uint8_t addr[16])
{
    struct lj_cidr_list *l = (struct lj_cidr_list *)(uintptr_t)1;
    char err[200] = "";
    if (lj_cidr_parse(list, &l, err, sizeof(err)) != LJ_OK) {
        if (l != (struct lj_cidr_list *)(uintptr_t)1 || !err[0])
            abort();
        return;
    }
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
    struct sockaddr_in a4 = { .sin_family = AF_INET };
    memcpy(&a6.sin6_addr, addr, 16);
    lj_cidr_match(l, (struct sockaddr *)&a6);
    memcpy(&a4.sin_addr, addr + 12, 4);
    memset(&a6.sin6_addr, 0, 10);
    memset((uint8_t *)&a6.sin6_addr + 10, 0xff, 2);
    memcpy((uint8_t *)&a6.sin6_addr + 12, addr + 12, 4);
    if (lj_cidr_match(l, (struct sockaddr *)&a4) != lj_cidr_match(l, (struct sockaddr *)&a6))
        abort();
    lj_cidr_destroy(l);
}

/* An independent reading of "loopback Host": the name (inside [...], else before the
 * one colon, else the whole value), less one trailing dot, is localhost or *.localhost
 * (any case), an IPv4 address in 127/8 or ::1. */
static int is_loopback_host(const char *host)
{
    char name[300];
    const char *b = host, *e;
    struct in_addr a4;
    struct in6_addr a6;
    if (host[0] == '[') {
        b = host + 1;
        e = strchr(b, ']');
    } else {
        e = strchr(host, ':');
        if (e && strchr(e + 1, ':'))
            e = NULL;
        if (!e)
            e = host + strlen(host);
    }
    if (!e || (size_t)(e - b) >= sizeof(name) || e == b)
        return 0;
    memcpy(name, b, (size_t)(e - b));
    name[e - b] = '\0';
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        name[--n] = '\0';
    if (strcasecmp(name, "localhost") == 0 || (n > 10 && strcasecmp(name + n - 10, ".localhost") == 0))
        return 1;
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static void check_host(const char *host)
{
    if (lj_auth_host_ok("", host) && host[0] && !is_loopback_host(host))
        abort();
    if (!lj_auth_host_ok("*", host) && isalnum((unsigned char)host[0]) && !strpbrk(host, ", \t")
        && strlen(host) < 200)
        abort();   /* "*" takes every single, well-formed name */
    lj_auth_host_ok("a.example, b.example,,", host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t addr[16] = { 0 };
    if (size < 16)
        return 0;
    memcpy(addr, data, 16);
    char *s = malloc(size - 16 + 1);
    if (!s)
        return 0;
    memcpy(s, data + 16, size - 16);
    s[size - 16] = '\0';
    check_list(s, addr);
    check_host(s);
    free(s);
    return 0;
}
