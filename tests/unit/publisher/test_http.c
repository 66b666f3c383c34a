/* Unit tests for publisher/http.c over real loopback sockets: a response larger than
 * the socket buffers reaches a client that starts reading late, whole; bad requests
 * get their status. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "http.h"

#define BIG (8u * 1024 * 1024)

static int handler(void *ctx, const char *path, struct lj_buf *body, const char **type)
{
    (void)ctx;
    *type = "text/plain";
    if (strcmp(path, "/big") != 0)
        return 404;
    for (size_t i = 0; i < BIG / 64; i++)
        lj_buf_appendf(body, "m_%08zu %052zu\n", i, i);    /* 64 bytes a line */
    return 200;
}

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

struct fetch {
    int port, delay_ms;
    const char *request;
    char head[512];
    size_t body_len, content_length;
    bool body_ok, done;
};

/* Client thread: sends the request, waits delay_ms before reading a byte, reads all. */
static void *fetch_main(void *arg)
{
    struct fetch *f = arg;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0), rcv = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);    /* make the server wait */
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        (void)!write(fd, f->request, strlen(f->request));
        usleep((useconds_t)f->delay_ms * 1000);
        static char buf[BIG + 4096];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) > 0)
            n += (size_t)r;
        char *end = memmem(buf, n, "\r\n\r\n", 4);
        if (end) {
            size_t hl = (size_t)(end - buf) + 4;
            snprintf(f->head, sizeof f->head, "%.*s", (int)hl, buf);
            const char *cl = strstr(f->head, "Content-Length: ");
            f->content_length = cl ? strtoul(cl + 16, NULL, 10) : 0;
            f->body_len = n - hl;
            f->body_ok = f->body_len >= 64 && memcmp(buf + hl, "m_00000000 ", 11) == 0 &&
                         memcmp(buf + n - 9, "00131071\n", 9) == 0;
        }
    }
    close(fd);
    __atomic_store_n(&f->done, true, __ATOMIC_RELEASE);
    return NULL;
}

/* Runs the server's loop until the client thread finished (or 20 s). */
static void serve_until_done(struct lj_http *h, struct fetch *f)
{
    for (int i = 0; i < 20000 && !__atomic_load_n(&f->done, __ATOMIC_ACQUIRE); i++) {
        struct curl_waitfd w[LJ_HTTP_MAX_CLIENTS + 1];
        struct pollfd p[LJ_HTTP_MAX_CLIENTS + 1];
        unsigned n = lj_http_fds(h, w, LJ_HTTP_MAX_CLIENTS + 1);
        for (unsigned k = 0; k < n; k++)
            p[k] = (struct pollfd){ .fd = w[k].fd,
                                    .events = (short)((w[k].events & CURL_WAIT_POLLIN ? POLLIN : 0) |
                                                      (w[k].events & CURL_WAIT_POLLOUT ? POLLOUT : 0)) };
        poll(p, n, 1);
        lj_http_process(h);
    }
}

/* Starts a server on f->port, runs the client thread against it and stops both. */
static void exchange(struct fetch *f)
{
    char addr[32], err[256];
    struct lj_http *h = NULL;
    pthread_t t;

    snprintf(addr, sizeof addr, "127.0.0.1:%d", f->port);
    CHECK_INT(lj_http_create(&h, addr, handler, NULL, err, sizeof err), LJ_OK);
    if (h == NULL)
        return;
    pthread_create(&t, NULL, fetch_main, f);
    serve_until_done(h, f);
    pthread_join(t, NULL);
    lj_http_destroy(h);
}

static void test_large_response_to_a_late_reader(void)
{
    struct fetch f = { .port = free_port(), .delay_ms = 300,
                       .request = "GET /big HTTP/1.0\r\n\r\n" };
    exchange(&f);
    CHECK(strncmp(f.head, "HTTP/1.0 200 OK\r\n", 17) == 0);
    CHECK_INT(f.content_length, BIG);
    CHECK_INT(f.body_len, BIG);    /* the whole body, though it is many socket buffers */
    CHECK(f.body_ok);
}

static void test_status_codes(void)
{
    static const struct { const char *req, *status; } cases[] = {
        { "GET /nope HTTP/1.0\r\n\r\n", "HTTP/1.0 404 " },
        { "POST /big HTTP/1.0\r\n\r\n", "HTTP/1.0 405 " },
        { "\r\n\r\n", "HTTP/1.0 400 " },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fetch f = { .port = free_port(), .request = cases[i].req };
        exchange(&f);
        CHECK(strncmp(f.head, cases[i].status, strlen(cases[i].status)) == 0);
    }
}

int main(void)
{
    test_large_response_to_a_late_reader();
    test_status_codes();
    CHECK_DONE();
}
