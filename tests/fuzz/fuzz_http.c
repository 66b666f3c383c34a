/* fuzz_http.c - libFuzzer target for lj_http_parse (publisher/http.c), the publisher's
 * HTTP request parser: the input is what a client sends to --http.
 *
 * Properties checked beyond "no crash": the answer is one of the documented statuses;
 * it is decided by a prefix and never changes after (the bytes up to the deciding one
 * read 0, every longer prefix reads the same answer: checked at the deciding length
 * found by bisection and at a few lengths past it); a 200 names a path inside the
 * input that starts with '/', holds only visible bytes and no '?', and a head that
 * ends in LF within LJ_HTTP_HEAD_MAX and parses alone to the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static int parse(const uint8_t *d, size_t n, struct lj_http_request *rq)
{
    return lj_http_parse((const char *)d, n, rq);
}

static void check_request(const uint8_t *data, size_t size, const struct lj_http_request *rq)
{
    const char *base = (const char *)data;
    struct lj_http_request again;
    if (rq->method != LJ_HTTP_GET && rq->method != LJ_HTTP_HEAD)
        abort();
    if (rq->head_len == 0 || rq->head_len > size || rq->head_len > LJ_HTTP_HEAD_MAX ||
        data[rq->head_len - 1] != '\n')
        abort();
    if (rq->path < base || rq->path_len == 0 || rq->path_len >= LJ_HTTP_LINE_MAX ||
        rq->path + rq->path_len > base + rq->head_len || rq->path[0] != '/')
        abort();
    for (size_t i = 0; i < rq->path_len; i++)
        if (rq->path[i] == '?' || rq->path[i] <= ' ' || rq->path[i] == 0x7f)
            abort();
    if (parse(data, rq->head_len, &again) != 200 || again.method != rq->method ||
        again.path != rq->path || again.path_len != rq->path_len || again.head_len != rq->head_len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lj_http_request rq;
    int st = parse(data, size, &rq);

    switch (st) {
    case 0:
        if (size >= LJ_HTTP_HEAD_MAX || parse(data, size / 2, &rq) != 0)
            abort();
        return 0;
    case 200:
        check_request(data, size, &rq);
        break;
    case 400: case 405: case 414: case 431: case 505:
        break;
    default:
        abort();
    }
    /* The deciding length d: parse(d - 1) == 0 and parse(d) == st. */
    size_t lo = 0, hi = size;     /* parse(lo) may be 0, parse(hi) == st */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int m = parse(data, mid, &rq);
        if (m != 0 && m != st)
            abort();
        if (m == 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || parse(data, lo - 1, &rq) != 0 || parse(data, lo, &rq) != st)
        abort();
    for (size_t k = lo; k <= size; k += 1 + (size - lo) / 4)
        if (parse(data, k, &rq) != st)
            abort();
    return 0;
}
