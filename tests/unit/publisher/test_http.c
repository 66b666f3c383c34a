/* Unit tests for publisher/http.c: the request parser on byte strings (every answer,
 * every limit, decided as early as the bytes allow), and the server over real loopback
 * sockets: a response larger than the socket buffers reaches a client that starts
 * reading late, whole; HEAD gets no body; over-long request lines and heads get
 * 414/431 and a close; 1000 idle connections and a slowloris client do not keep
 * /healthz from answering 200, and the slow client is cut off at the head deadline. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

#include "check.h"
#include "http.h"

#define BIG (8u * 1024 * 1024)

static int handler(void *ctx, const char *path, struct lj_buf *body, const char **type)
{
    (void)ctx;
    *type = "text/plain";
    if (strcmp(path, "/healthz") == 0) {
        lj_buf_appendf(body, "ok\n");
        return 200;
    }
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

/* Runs the server's loop as the publisher's does (poll on lj_http_fds, then
 * lj_http_process) until *done is set or max_s seconds passed (a bound for a hang, far
 * above what the exchanges take even under valgrind on a loaded machine). */
static void serve_until(struct lj_http *h, const bool *done, int tick_ms, int max_s)
{
    int64_t end = lj_time_mono_ns() + (int64_t)max_s * 1000000000;
    while (!__atomic_load_n(done, __ATOMIC_ACQUIRE) && lj_time_mono_ns() < end) {
        struct curl_waitfd w[LJ_HTTP_MAX_CLIENTS + 1];
        struct pollfd p[LJ_HTTP_MAX_CLIENTS + 1];
        unsigned n = lj_http_fds(h, w, LJ_HTTP_MAX_CLIENTS + 1);
        for (unsigned k = 0; k < n; k++)
            p[k] = (struct pollfd){ .fd = w[k].fd,
                                    .events = (short)((w[k].events & CURL_WAIT_POLLIN ? POLLIN : 0) |
                                                      (w[k].events & CURL_WAIT_POLLOUT ? POLLOUT : 0)) };
        poll(p, n, tick_ms);
        lj_http_process(h);
    }
}

/* Starts a server on port, runs client(arg) on a thread against it until *done, and
 * stops both. */
static void serve_client(int port, void *(*client)(void *), void *arg, const bool *done,
                         int tick_ms)
{
    char addr[32], err[256];
    struct lj_http *h = NULL;
    pthread_t t;

    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    CHECK_INT(lj_http_create(&h, addr, handler, NULL, err, sizeof err), LJ_OK);
    if (h == NULL)
        return;
    pthread_create(&t, NULL, client, arg);
    serve_until(h, done, tick_ms, 240);
    pthread_join(t, NULL);
    lj_http_destroy(h);
}

static void exchange(struct fetch *f)
{
    serve_client(f->port, fetch_main, f, &f->done, 1);
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

/* ---- the parser ---- */

static int parse(const char *s, struct lj_http_request *rq)
{
    return lj_http_parse(s, strlen(s), rq);
}

static void test_parse_answers(void)
{
    static const struct { const char *req; int status; const char *path; } cases[] = {
        { "GET /healthz HTTP/1.0\r\n\r\n", 200, "/healthz" },
        { "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: kube-probe/1.29\r\n\r\n", 200, "/metrics" },
        { "HEAD / HTTP/1.1\n\n", 200, "/" },                         /* bare LF lines */
        { "GET /a?b?c HTTP/1.1\r\nX:\r\nY: \tv\t\r\n\r\n", 200, "/a" },
        { "GET /%41 HTTP/1.9\r\n\r\n", 200, "/%41" },               /* any 1.x, not decoded */
        { "GET /h HTTP/1.0\r\n\r", 0, NULL },
        { "GET /h HTTP/1.0\r\nHost: a\r\n", 0, NULL },
        { "GET /h HTTP/1.0", 0, NULL },
        { "GET", 0, NULL },
        { "", 0, NULL },
        { "POST /h HTTP/1.0\r\n\r\n", 405, NULL },
        { "PUT ", 405, NULL },                                           /* decided at the space */
        { "OPTIONS * HTTP/1.1\r\n\r\n", 405, NULL },
        { "get /h HTTP/1.0\r\n\r\n", 405, NULL },                     /* methods are case-sensitive */
        { "GET /h HTTP/2.0\r\n\r\n", 505, NULL },
        { "GET /h HTTP/3\r\n", 505, NULL },
        { "GET /h HTTP/1.0\r\n\r\n", 200, "/h" },
        { "\r\n\r\n", 400, NULL },
        { " GET / HTTP/1.0\r\n\r\n", 400, NULL },
        { "GET  / HTTP/1.0\r\n\r\n", 400, NULL },                    /* empty target */
        { "GET h HTTP/1.0\r\n\r\n", 400, NULL },                      /* not origin-form */
        { "GET http://a/h HTTP/1.0\r\n\r\n", 400, NULL },
        { "GET /h\x01", 400, NULL },
        { "GET /h\r\n\r\n", 400, NULL },                              /* HTTP/0.9 */
        { "GET /h FTP/1.0\r\n\r\n", 400, NULL },
        { "GET /h HTTP/1.0 x\r\n\r\n", 400, NULL },
        { "GET /h HTTP/1.0\rX", 400, NULL },                             /* bare CR */
        { "GET /h HTTP/1.0\r\n Host: a\r\n\r\n", 400, NULL },        /* obs-fold */
        { "GET /h HTTP/1.0\r\n: a\r\n\r\n", 400, NULL },             /* no name */
        { "GET /h HTTP/1.0\r\nHo st: a\r\n\r\n", 400, NULL },
        { "GET /h HTTP/1.0\r\nHost: a\x7f\r\n\r\n", 400, NULL },
        { "GET /h HTTP/1.0\r\nHost: a\rb\r\n\r\n", 400, NULL },
        { "GET /h HTTP/1.0\r\n\rx", 400, NULL },
        { "\x16\x03\x01\x02\x00\x01", 400, NULL },                  /* a TLS hello: at once */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lj_http_request rq = { .path = NULL };
        int st = parse(cases[i].req, &rq);
        if (st != cases[i].status)
            fprintf(stderr, "case %zu: \"%s\"\n", i, cases[i].req);
        CHECK_INT(st, cases[i].status);
        if (cases[i].path && st == 200) {
            CHECK_INT(rq.path_len, strlen(cases[i].path));
            CHECK(rq.path && memcmp(rq.path, cases[i].path, rq.path_len) == 0);
            CHECK_INT(rq.head_len, strlen(cases[i].req));
        }
    }
    struct lj_http_request rq;
    CHECK_INT(parse("HEAD /x HTTP/1.1\r\n\r\nGET /y", &rq), 200);
    CHECK_INT(rq.method, LJ_HTTP_HEAD);
    CHECK_INT(rq.head_len, 20);                                    /* what follows is ignored */
    CHECK_INT(parse("GET /y HTTP/1.1\r\n\r\n", &rq), 200);
    CHECK_INT(rq.method, LJ_HTTP_GET);
}

/* A request line of exactly `line` bytes (CRLF included) then `fields` bytes of one
 * header field and the blank line. */
static char *request_of(size_t line, size_t fields, size_t *len)
{
    char *s = malloc(line + fields + 8);
    size_t n = 0;
    n += (size_t)sprintf(s, "GET /");
    while (n < line - strlen(" HTTP/1.1\r\n"))
        s[n++] = 'a';
    n += (size_t)sprintf(s + n, " HTTP/1.1\r\n");
    if (fields) {
        n += (size_t)sprintf(s + n, "X-Pad: ");
        while (n < line + fields - 2)
            s[n++] = 'b';
        n += (size_t)sprintf(s + n, "\r\n");
    }
    n += (size_t)sprintf(s + n, "\r\n");
    *len = n;
    return s;
}

static void test_parse_limits(void)
{
    struct lj_http_request rq;
    size_t len;
    char *s = request_of(LJ_HTTP_LINE_MAX, 0, &len);       /* the longest line allowed */
    CHECK_INT(lj_http_parse(s, len, &rq), 200);
    CHECK_INT(rq.path_len, LJ_HTTP_LINE_MAX - strlen("GET  HTTP/1.1\r\n"));
    free(s);
    s = request_of(LJ_HTTP_LINE_MAX + 1, 0, &len);
    CHECK_INT(lj_http_parse(s, len, &rq), 414);
    CHECK_INT(lj_http_parse(s, LJ_HTTP_LINE_MAX, &rq), 414);   /* decided at the limit */
    CHECK_INT(lj_http_parse(s, LJ_HTTP_LINE_MAX - 1, &rq), 0);
    free(s);
    s = request_of(100, LJ_HTTP_HEAD_MAX - 100 - 2, &len);    /* the longest head allowed */
    CHECK_INT(len, LJ_HTTP_HEAD_MAX);
    CHECK_INT(lj_http_parse(s, len, &rq), 200);
    CHECK_INT(rq.head_len, LJ_HTTP_HEAD_MAX);
    free(s);
    s = request_of(100, LJ_HTTP_HEAD_MAX - 100 - 1, &len);
    CHECK_INT(lj_http_parse(s, len, &rq), 431);
    CHECK_INT(lj_http_parse(s, LJ_HTTP_HEAD_MAX, &rq), 431);
    CHECK_INT(lj_http_parse(s, LJ_HTTP_HEAD_MAX - 1, &rq), 0);
    free(s);
}

/* Every prefix of a valid request reads "more", and a decided answer stays decided. */
static void test_parse_prefixes(void)
{
    static const char *reqs[] = {
        "GET /metrics?a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
        "HEAD /healthz HTTP/1.0\n\n",
        "DELETE /x HTTP/1.1\r\n\r\n",
        "GET /x HTTP/1.1\r\n\tHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct lj_http_request rq;
        size_t len = strlen(reqs[i]);
        int final = lj_http_parse(reqs[i], len, &rq), first = 0;
        for (size_t n = 0; n <= len; n++) {
            int st = lj_http_parse(reqs[i], n, &rq);
            if (first == 0)
                first = st;
            CHECK(st == 0 || st == final);
            CHECK(first == 0 || st == first);
        }
        CHECK(final != 0);
    }
}

/* ---- the server under unfriendly clients ---- */

static int connect_to(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Reads until EOF or timeout_ms; returns the bytes read, or -1 when the peer never
 * closed within the time. */
static ssize_t read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    int64_t end = lj_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t left = (end - lj_time_mono_ns()) / 1000000;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0) {
            buf[n] = '\0';
            return (ssize_t)n;
        }
        n += (size_t)r;
        if (n + 1 >= cap)
            return -1;
    }
}

struct storm {
    int port, idle;
    int64_t healthz_ms, slow_cut_ms;
    int oldest_closed, newest_open, idle_closed;
    char healthz[256];
    bool done;
};

static bool closed_by_peer(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;
    return poll(&p, 1, 0) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

/* Client thread: a slowloris connection trickling a byte every 20 ms, `idle`
 * connections that send one byte and go idle, then /healthz timed; then a fresh slowloris timed until the server
 * cuts it off. */
static void *storm_main(void *arg)
{
    struct storm *s = arg;
    int *idle = calloc((size_t)s->idle, sizeof *idle);
    int slow = connect_to(s->port);
    static const char trickle[] = "GET /healthz HTTP/1.1\r\nX-a: ";
    size_t sent = 0;

    for (int i = 0; i < s->idle; i++) {
        idle[i] = connect_to(s->port);
        /* One byte each, so that the kernel's deferred accept hands them over at once:
         * what is tested is the server's eviction, not TCP_DEFER_ACCEPT. */
        if (idle[i] >= 0)
            (void)!send(idle[i], "G", 1, MSG_NOSIGNAL);
        if (i % 50 == 0 && slow >= 0)
            (void)!send(slow, i / 50 < (int)sizeof trickle - 1 ? &trickle[i / 50] : "b", 1,
                        MSG_NOSIGNAL);
        sent++;
    }
    usleep(100 * 1000);     /* let the server accept the last of them */
    int64_t t0 = lj_time_mono_ns();
    int fd = connect_to(s->port);
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n";
    char buf[4096];
    if (fd >= 0 && write(fd, get, sizeof get - 1) == (ssize_t)(sizeof get - 1) &&
        read_all(fd, buf, sizeof buf, 60000) > 0)
        snprintf(s->healthz, sizeof s->healthz, "%.255s", buf);
    s->healthz_ms = (lj_time_mono_ns() - t0) / 1000000;
    if (fd >= 0)
        close(fd);

    s->oldest_closed = idle[0] >= 0 && closed_by_peer(idle[0]);
    s->newest_open = idle[s->idle - 1] >= 0 && !closed_by_peer(idle[s->idle - 1]);
    for (int i = 0; i < s->idle; i++) {
        s->idle_closed += idle[i] < 0 || closed_by_peer(idle[i]);
        if (idle[i] >= 0)
            close(idle[i]);
    }
    if (slow >= 0)
        close(slow);
    free(idle);

    /* Alone now: a slowloris keeps its slot only until the head deadline. */
    t0 = lj_time_mono_ns();
    slow = connect_to(s->port);
    s->slow_cut_ms = -1;
    for (int i = 0; slow >= 0 && i < 1000; i++) {
        if (send(slow, i < (int)sizeof trickle - 1 ? &trickle[i] : "b", 1, MSG_NOSIGNAL) != 1 ||
            closed_by_peer(slow)) {
            s->slow_cut_ms = (lj_time_mono_ns() - t0) / 1000000;
            break;
        }
        usleep(20 * 1000);
    }
    if (slow >= 0)
        close(slow);
    __atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static void test_idle_connections_do_not_starve_healthz(void)
{
    struct storm s = { .port = free_port(), .idle = 1000 };
    serve_client(s.port, storm_main, &s, &s.done, 100);    /* the publisher's loop ticks every 100 ms */
    printf("1000 idle + slowloris: /healthz answered in %lld ms (\"%.15s\"), %d of %d idle "
           "connections closed by the server; a lone slowloris cut off after %lld ms\n",
           (long long)s.healthz_ms, s.healthz, s.idle_closed, s.idle, (long long)s.slow_cut_ms);
    CHECK(strncmp(s.healthz, "HTTP/1.0 200 OK\r\n", 17) == 0);
    CHECK(strstr(s.healthz, "\r\n\r\nok\n") != NULL);
    CHECK(s.healthz_ms < LJ_HTTP_DEADLINE_MS);     /* did not wait for idle ones to time out */
    CHECK(s.oldest_closed);                        /* the oldest idle made room */
    CHECK(s.newest_open);
    CHECK(s.idle_closed >= s.idle - LJ_HTTP_MAX_CLIENTS);
    CHECK(s.slow_cut_ms >= 0 && s.slow_cut_ms < LJ_HTTP_DEADLINE_MS + 3000);
}

/* Sends req whole and reads the answer until the server closes; returns its length. */
static ssize_t ask(int port, const char *req, size_t len, char *buf, size_t cap)
{
    int fd = connect_to(port);
    ssize_t n = -1;
    if (fd >= 0 && send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len)
        n = read_all(fd, buf, cap, 120000);
    if (fd >= 0)
        close(fd);
    return n;
}

struct asks {
    int port;
    char head[2048], limit_line[512], limit_head[512], limit_flood[512];
    ssize_t head_len;
    bool done;
};

static void *asks_main(void *arg)
{
    struct asks *a = arg;
    static const char head[] = "HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t len;
    a->head_len = ask(a->port, head, sizeof head - 1, a->head, sizeof a->head);
    char *s = request_of(LJ_HTTP_LINE_MAX + 1, 0, &len);
    ask(a->port, s, len, a->limit_line, sizeof a->limit_line);
    free(s);
    s = request_of(100, LJ_HTTP_HEAD_MAX, &len);
    ask(a->port, s, len, a->limit_head, sizeof a->limit_head);
    free(s);
    /* A request line of 1 MiB: the 414 must arrive, not a reset for the unread rest. */
    s = request_of(1 << 20, 0, &len);
    int fd = connect_to(a->port);
    if (fd >= 0) {
        (void)!send(fd, s, 64 * 1024, MSG_NOSIGNAL);    /* fits the socket buffers */
        read_all(fd, a->limit_flood, sizeof a->limit_flood, 60000);
        close(fd);
    }
    free(s);
    __atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static void test_head_and_limits(void)
{
    struct asks a = { .port = free_port() };
    serve_client(a.port, asks_main, &a, &a.done, 1);
    /* HEAD: the GET's headers and Content-Length, no body, then a close. */
    CHECK(strncmp(a.head, "HTTP/1.0 200 OK\r\n", 17) == 0);
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %u\r\n", BIG);
    CHECK(strstr(a.head, want) != NULL);
    char *end = strstr(a.head, "\r\n\r\n");
    CHECK(end != NULL && a.head_len == end + 4 - a.head);
    CHECK(strncmp(a.limit_line, "HTTP/1.0 414 ", 13) == 0);
    CHECK(strncmp(a.limit_head, "HTTP/1.0 431 ", 13) == 0);
    CHECK(strncmp(a.limit_flood, "HTTP/1.0 414 ", 13) == 0);
}

int main(void)
{
    test_parse_answers();
    test_parse_limits();
    test_parse_prefixes();
    test_large_response_to_a_late_reader();
    test_status_codes();
    test_head_and_limits();
    test_idle_connections_do_not_starve_healthz();
    CHECK_DONE();
}
