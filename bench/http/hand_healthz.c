/* hand_healthz.c - /healthz served by publisher/http.c on a poll loop shaped like the
 * publisher's (lj_http_fds, poll with a 100 ms tick, lj_http_process), the hand-made
 * side of the comparison in bench/http. Not part of logjet.
 *
 * Usage: hand_healthz PORT SECONDS
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

static long requests;

static int handler(void *ctx, const char *path, struct lj_buf *body, const char **type)
{
    (void)ctx;
    (void)type;
    requests++;
    if (strcmp(path, "/healthz") != 0)
        return 404;
    lj_buf_appendf(body, "ok\n");
    return 200;
}

int main(int argc, char **argv)
{
    char addr[64], err[256];
    struct lj_http *h = NULL;
    if (argc != 3) {
        fprintf(stderr, "usage: hand_healthz PORT SECONDS\n");
        return 2;
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%s", argv[1]);
    if (lj_http_create(&h, addr, handler, NULL, err, sizeof err) != LJ_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    time_t stop = time(NULL) + atol(argv[2]);
    while (time(NULL) < stop) {
        struct curl_waitfd w[LJ_HTTP_MAX_CLIENTS + 1];
        struct pollfd p[LJ_HTTP_MAX_CLIENTS + 1];
        unsigned n = lj_http_fds(h, w, LJ_HTTP_MAX_CLIENTS + 1);
        for (unsigned k = 0; k < n; k++)
            p[k] = (struct pollfd){ .fd = w[k].fd,
                                    .events = (short)(w[k].events & CURL_WAIT_POLLOUT ? POLLOUT : POLLIN) };
        poll(p, n, 100);
        lj_http_process(h);
    }
    lj_http_destroy(h);
    printf("requests=%ld\n", requests);
    return 0;
}
