/* cidr.c - parsing and matching address ranges. Every range is kept as 16 bytes
 * (IPv4 as ::ffff:a.b.c.d, its prefix plus 96) so one comparison serves both families.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct range {
    uint8_t addr[16];      /* masked to prefix bits */
    unsigned prefix;       /* 0..128 */
};

struct lj_cidr_list {
    struct range *r;       /* owned; n of them */
    size_t n;
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void mask(uint8_t a[16], unsigned prefix)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
        a[i] &= (uint8_t)(0xff00u >> keep);
    }
}

/* "a.b.c.d[/n]" or "v6[/n]" in [b, b+n) into r. */
static bool parse_one(const char *b, size_t n, struct range *r)
{
    char s[64], *slash, *end;
    struct in_addr a4;
    long prefix = -1;
    unsigned max;

    if (n == 0 || n >= sizeof(s))
        return false;
    memcpy(s, b, n);
    s[n] = '\0';
    if ((slash = strchr(s, '/'))) {
        *slash = '\0';
        if (slash[1] < '0' || slash[1] > '9')
            return false;
        prefix = strtol(slash + 1, &end, 10);
        if (*end || end - (slash + 1) > 3)
            return false;
    }
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memcpy(r->addr, v4mapped, 12);
        memcpy(r->addr + 12, &a4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, s, r->addr) == 1) {
        max = 128;
    } else {
        return false;
    }
    if (prefix > (long)max)
        return false;
    r->prefix = (unsigned)(prefix < 0 ? (long)max : prefix) + (max == 32 ? 96 : 0);
    mask(r->addr, r->prefix);
    return true;
}

lj_status lj_cidr_parse(const char *list, struct lj_cidr_list **out, char *err, size_t errlen)
{
    struct lj_cidr_list *l = calloc(1, sizeof(*l));
    const char *p = list ? list : "";
    lj_status st = LJ_OK;

    if (!l)
        return LJ_NOMEM;
    while (st == LJ_OK && *p) {
        size_t n = strcspn(p, ",");
        const char *b = p;
        while (n && (*b == ' ' || *b == '\t'))
            b++, n--;
        while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
            n--;
        struct range r;
        struct range *grown;
        if (!parse_one(b, n, &r))
            st = lj_fail(err, errlen, LJ_INVAL, "'%.*s' is not an address or address/prefix",
                         (int)(n > 64 ? 64 : n), b);
        else if (!(grown = realloc(l->r, (l->n + 1) * sizeof(*grown))))
            st = LJ_NOMEM;
        else
            (l->r = grown)[l->n++] = r;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    if (st == LJ_OK && l->n == 0)
        st = lj_fail(err, errlen, LJ_INVAL, "no address ranges in '%s'", list ? list : "");
    if (st != LJ_OK) {
        lj_cidr_destroy(l);
        return st;
    }
    *out = l;
    return LJ_OK;
}

void lj_cidr_destroy(struct lj_cidr_list *l)
{
    if (!l)
        return;
    free(l->r);
    free(l);
}

bool lj_cidr_match(const struct lj_cidr_list *l, const struct sockaddr *sa)
{
    uint8_t a[16];

    if (!l || !sa)
        return false;
    if (sa->sa_family == AF_INET) {
        memcpy(a, v4mapped, 12);
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else {
        return false;
    }
    for (size_t i = 0; i < l->n; i++) {
        uint8_t m[16];
        memcpy(m, a, 16);
        mask(m, l->r[i].prefix);
        if (memcmp(m, l->r[i].addr, 16) == 0)
            return true;
    }
    return false;
}
