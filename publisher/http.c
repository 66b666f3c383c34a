/* http.c - the publisher's HTTP/1.x responder for /healthz and /metrics.
 *
 * Why hand-made and not libwebsockets (measured in bench/http, figures and the whole
 * argument in bench/RESULTS.md): both keep /healthz answering under 1000 idle and
 * slowloris connections, so the loop decides. The publisher's loop is curl_multi_poll
 * with a few extra fds. lws shares a loop only by external poll (ADD/DEL/
 * CHANGE_MODE_POLL_FD callbacks: compiled out of Debian 12's libwebsockets 4.1.6,
 * measured: none arrive) or as a guest of libuv/glib (which the publisher does not
 * run); what remains is lws on a thread of its own with every metric crossing to it
 * under a lock, and a 400 KB library, for two plain-text endpoints. Here the part that
 * reads outside bytes is lj_http_parse: pure, unit-tested and fuzzed (fuzz_http).
 *
 * Connection phases, each with one deadline:
 *   READING   accepted, reading the head; closed LJ_HTTP_DEADLINE_MS after the accept
 *             whatever it sends (slowloris), or as soon as lj_http_parse decides;
 *   WRITING   the answer is built and is sent as the socket takes it; closed when the
 *             peer takes nothing for LJ_HTTP_DEADLINE_MS (up to twice that: progress
 *             is our sends or, when those wait, the kernel's send queue shrinking,
 *             SIOCOUTQ, since POLLOUT comes only once half the buffer is free), or
 *             when the whole answer took longer than ANSWER_MAX_NS (a slow reader);
 *   DRAINING  sent and shut down for writing; reads and discards until the peer closes
 *             or LINGER_NS passes, so an early error answer (414, 431) is not lost to a
 *             reset caused by request bytes left unread.
 * The listening socket has TCP_DEFER_ACCEPT: the kernel hands a connection to accept()
 * only once its first bytes arrived (or after DEFER_SECS), so silent connections wait
 * in the kernel, and a health check arrives with its request, which is read and
 * answered in the same call that accepts it. When every slot is taken, a new
 * connection takes the slot of the client that is worth least (evict_for_new): a
 * draining one first, then the oldest still reading, then the one whose write stalled
 * longest. Connections that send a byte and go idle therefore cost their slot only
 * until newer ones need it. What this does not stop is a connection flood (connects
 * in a tight loop until the accept queue overflows): that is for a firewall.
 *
 * Does not log (the caller sees only what it serves), keep connections alive, read
 * request bodies or speak TLS.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "timeutil.h"

#define MS_NS 1000000LL
#define DEADLINE_NS ((int64_t)LJ_HTTP_DEADLINE_MS * MS_NS)
#define LINGER_NS (1000 * MS_NS)
#define DRAIN_MAX (64 * 1024)     /* discarded bytes after which a draining peer is cut off */
#define ANSWER_MAX_NS (600000 * MS_NS)    /* 10 min: eviction, not this, protects the slots */
#define DEFER_SECS 5

enum phase { FREE, DRAINING, READING, WRITING };    /* in eviction order, FREE aside */

struct client {
    int fd;                 /* -1 exactly when phase == FREE */
    enum phase phase;
    int64_t since_ns;       /* entered its phase (WRITING: last progress); eviction order */
    int64_t deadline_ns;    /* closed when the monotonic clock passes it */
    size_t len;             /* READING: bytes in req, <= LJ_HTTP_HEAD_MAX; DRAINING: discarded */
    struct lj_buf out;      /* WRITING: the response, sent from out_off on */
    size_t out_off;
    int64_t answered_ns;    /* WRITING: when the answer was built */
    size_t queued;          /* WRITING: SIOCOUTQ at the last deadline, SIZE_MAX after a send */
    char req[LJ_HTTP_HEAD_MAX];
};

struct lj_http {
    int listen_fd;
    lj_http_handler handler;
    void *ctx;
    struct client clients[LJ_HTTP_MAX_CLIENTS];
};

/* ---- the request parser (pure) ------------------------------------------------------- */

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_vchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

/* 0 for the method names we serve, 405 for any other token, 400 for none. */
static int method_status(const unsigned char *m, size_t n, enum lj_http_method *out)
{
    if (n == 3 && memcmp(m, "GET", 3) == 0)
        *out = LJ_HTTP_GET;
    else if (n == 4 && memcmp(m, "HEAD", 4) == 0)
        *out = LJ_HTTP_HEAD;
    else
        return n ? 405 : 400;
    return 0;
}

/* 0 for HTTP/1.x, 505 for another HTTP/d.d or HTTP/d, 400 for anything else. */
static int version_status(const unsigned char *v, size_t n)
{
    if (n < 6 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9')
        return 400;
    if (n == 8 && v[6] == '.' && v[7] >= '0' && v[7] <= '9')
        return v[5] == '1' ? 0 : 505;
    return n == 6 ? 505 : 400;
}

int lj_http_parse(const char *buf, size_t len, struct lj_http_request *req)
{
    enum { METHOD, TARGET, VERSION, LINE_LF, FIELD, NAME, VALUE, VALUE_LF, END_LF } s = METHOD;
    const unsigned char *p = (const unsigned char *)buf;
    size_t n = len < LJ_HTTP_HEAD_MAX ? len : LJ_HTTP_HEAD_MAX;
    size_t path_at = 0, path_end = 0, ver_at = 0;
    enum lj_http_method method = LJ_HTTP_GET;
    int st;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (s <= LINE_LF && i >= LJ_HTTP_LINE_MAX)
            return 414;
        switch (s) {
        case METHOD:
            if (c == ' ') {
                if ((st = method_status(p, i, &method)) != 0)
                    return st;
                path_at = i + 1;
                s = TARGET;
            } else if (!is_tchar(c)) {
                return 400;
            }
            break;
        case TARGET:
            if (c == ' ' && i > path_at) {
                path_end = path_end ? path_end : i;
                ver_at = i + 1;
                s = VERSION;
            } else if ((i == path_at && c != '/') || !is_vchar(c)) {
                return 400;
            } else if (c == '?' && !path_end) {
                path_end = i;
            }
            break;
        case VERSION:
            if (c == '\r' || c == '\n') {
                if ((st = version_status(p + ver_at, i - ver_at)) != 0)
                    return st;
                s = c == '\r' ? LINE_LF : FIELD;
            } else if (!is_vchar(c)) {
                return 400;
            }
            break;
        case LINE_LF:
        case VALUE_LF:
            if (c != '\n')
                return 400;     /* a bare CR */
            s = FIELD;
            break;
        case FIELD:             /* the start of a field line, or the blank line */
            if (c == '\r')
                s = END_LF;
            else if (c == '\n')
                goto done;
            else if (!is_tchar(c))
                return 400;     /* leading white space (obs-fold), or no name */
            else
                s = NAME;
            break;
        case NAME:
            if (c == ':')
                s = VALUE;
            else if (!is_tchar(c))
                return 400;
            break;
        case VALUE:
            if (c == '\r')
                s = VALUE_LF;
            else if (c == '\n')
                s = FIELD;
            else if ((c < 0x20 && c != '\t') || c == 0x7f)
                return 400;
            break;
        case END_LF:
            if (c != '\n')
                return 400;
done:
            *req = (struct lj_http_request){ .method = method, .path = buf + path_at,
                                             .path_len = path_end - path_at, .head_len = i + 1 };
            return 200;
        }
    }
    if (s <= LINE_LF && n >= LJ_HTTP_LINE_MAX)
        return 414;
    return n >= LJ_HTTP_HEAD_MAX ? 431 : 0;
}

/* ---- listening and connections ------------------------------------------------------- */

static int listen_on(const char *host, int port, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char portstr[8];
    int fd = -1, one = 1, defer = DEFER_SECS, rc;

    snprintf(portstr, sizeof portstr, "%d", port);
    if ((rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res)) != 0) {
        lj_fail(err, errlen, LJ_INVAL, "--http address '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* A connection reaches accept() only once its first bytes have arrived (or
         * after DEFER_SECS): idle connections wait in the kernel, not in our slots. */
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            lj_fail(err, errlen, LJ_IO, "--http %s:%d: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    } else {
        lj_fail(err, errlen, LJ_IO, "socket: %s", strerror(errno));
    }
    freeaddrinfo(res);
    return fd;
}

lj_status lj_http_create(struct lj_http **out, const char *addr, lj_http_handler handler,
                         void *ctx, char *err, size_t errlen)
{
    char host[256];
    int port;
    struct lj_http *h;

    if (lj_parse_hostport(addr, host, sizeof host, &port, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if ((h = calloc(1, sizeof *h)) == NULL)
        return LJ_NOMEM;
    h->handler = handler;
    h->ctx = ctx;
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS; i++)
        h->clients[i].fd = -1;
    if ((h->listen_fd = listen_on(host, port, err, errlen)) < 0) {
        free(h);
        return LJ_IO;
    }
    *out = h;
    return LJ_OK;
}

static void drop(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->phase = FREE;
    c->len = 0;
    c->out_off = 0;
    lj_buf_finish(&c->out);
}

void lj_http_destroy(struct lj_http *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS; i++)
        drop(&h->clients[i]);
    close(h->listen_fd);
    free(h);
}

static short wanted(const struct client *c)
{
    return c->phase == WRITING ? POLLOUT : POLLIN;
}

unsigned lj_http_fds(struct lj_http *h, struct curl_waitfd *fds, unsigned max)
{
    unsigned n = 0;
    if (n < max)
        fds[n++] = (struct curl_waitfd){ .fd = h->listen_fd, .events = CURL_WAIT_POLLIN };
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS && n < max; i++)
        if (h->clients[i].phase != FREE)
            fds[n++] = (struct curl_waitfd){
                .fd = h->clients[i].fd,
                .events = wanted(&h->clients[i]) == POLLOUT ? CURL_WAIT_POLLOUT
                                                            : CURL_WAIT_POLLIN };
    return n;
}

/* Reads and discards until the peer closes (then closes too), the socket is empty, or
 * the peer has sent more than DRAIN_MAX since the answer. */
static void drain(struct client *c)
{
    char scratch[4096];
    for (;;) {
        ssize_t r = recv(c->fd, scratch, sizeof scratch, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (r <= 0 || (c->len += (size_t)r) > DRAIN_MAX) {
            drop(c);
            return;
        }
    }
}

/* Sends what the socket takes now; the rest waits for the next POLLOUT. When all is
 * sent, shuts the socket down for writing and drains it. */
static void write_some(struct client *c, int64_t now)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (w <= 0) {
            drop(c);
            return;
        }
        c->out_off += (size_t)w;
        c->since_ns = now;
        c->deadline_ns = now + DEADLINE_NS;
        c->queued = SIZE_MAX;
    }
    lj_buf_finish(&c->out);    /* a /metrics answer can be large: free it now */
    shutdown(c->fd, SHUT_WR);
    c->phase = DRAINING;
    c->since_ns = now;
    c->deadline_ns = now + LINGER_NS;
    c->len = 0;
    drain(c);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default:  return "Error";
    }
}

/* Builds the answer for a decided request (status from lj_http_parse) and starts
 * writing it. For 200 the handler decides the status and the body. */
static void respond(struct lj_http *h, struct client *c, int status,
                    const struct lj_http_request *rq, int64_t now)
{
    const char *type = "text/plain; charset=utf-8";
    bool head_only = status == 200 && rq->method == LJ_HTTP_HEAD;
    char head[320];
    struct lj_buf body;
    lj_status st;

    lj_buf_init(&body);
    if (status == 200) {
        char path[LJ_HTTP_LINE_MAX];
        memcpy(path, rq->path, rq->path_len);
        path[rq->path_len] = '\0';
        status = h->handler(h->ctx, path, &body, &type);
        now = lj_time_mono_ns();    /* the write deadline counts from here, not from
                                     * before a slow handler (a large /metrics) */
    } else {
        lj_buf_appendf(&body, "%s\n", reason(status));
    }
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, reason(status), type, body.len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    lj_buf_reset(&c->out);
    st = n > 0 && (size_t)n < sizeof head ? lj_buf_append(&c->out, head, (size_t)n) : LJ_INVAL;
    if (st == LJ_OK && !head_only && body.len)
        st = lj_buf_append(&c->out, body.data, body.len);
    lj_buf_finish(&body);
    if (st != LJ_OK) {
        drop(c);
        return;
    }
    c->phase = WRITING;
    c->out_off = 0;
    c->answered_ns = now;
    c->queued = SIZE_MAX;
    c->since_ns = now;
    c->deadline_ns = now + DEADLINE_NS;
    write_some(c, now);
}

/* Reads what has arrived of the head and answers as soon as the parser decides. */
static void read_request(struct lj_http *h, struct client *c, int64_t now)
{
    struct lj_http_request rq;
    for (;;) {
        ssize_t r = recv(c->fd, c->req + c->len, sizeof c->req - c->len, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (r <= 0) {
            drop(c);            /* gone before a whole head */
            return;
        }
        c->len += (size_t)r;
        int status = lj_http_parse(c->req, c->len, &rq);
        if (status != 0) {
            respond(h, c, status, &rq, now);
            return;
        }
    }
}

static void service(struct lj_http *h, struct client *c, int64_t now)
{
    switch (c->phase) {
    case READING:  read_request(h, c, now); break;
    case WRITING:  write_some(c, now); break;
    case DRAINING: drain(c); break;
    case FREE:     break;
    }
}

/* The slot a new connection takes when none is free: see the file header. */
static struct client *evict_for_new(struct lj_http *h)
{
    struct client *v = &h->clients[0];
    for (int i = 1; i < LJ_HTTP_MAX_CLIENTS; i++) {
        struct client *c = &h->clients[i];
        if (c->phase < v->phase || (c->phase == v->phase && c->since_ns < v->since_ns))
            v = c;
    }
    drop(v);
    return v;
}

/* Accepts up to LJ_HTTP_MAX_CLIENTS waiting connections (the rest wait for the next
 * call) and reads each at once: a health check's request is often there already. */
static void accept_clients(struct lj_http *h, int64_t now)
{
    for (int k = 0; k < LJ_HTTP_MAX_CLIENTS; k++) {
        int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;     /* EAGAIN, or EMFILE and the like: the backlog keeps it */
        struct client *c = NULL;
        for (int i = 0; i < LJ_HTTP_MAX_CLIENTS && c == NULL; i++)
            if (h->clients[i].phase == FREE)
                c = &h->clients[i];
        if (c == NULL)
            c = evict_for_new(h);
        c->fd = fd;
        c->phase = READING;
        c->len = 0;
        c->since_ns = now;
        c->deadline_ns = now + DEADLINE_NS;
        read_request(h, c, now);
    }
}

/* A writer past its deadline whose peer has taken bytes from the send queue since the
 * last look gets another LJ_HTTP_DEADLINE_MS, within ANSWER_MAX_NS of its answer. */
static bool still_taking(struct client *c, int64_t now)
{
    int q;
    if (c->phase != WRITING || now - c->answered_ns > ANSWER_MAX_NS ||
        ioctl(c->fd, SIOCOUTQ, &q) != 0 || q < 0 || (size_t)q >= c->queued)
        return false;
    c->queued = (size_t)q;
    c->deadline_ns = now + DEADLINE_NS;
    return true;
}

void lj_http_process(struct lj_http *h)
{
    struct pollfd p[LJ_HTTP_MAX_CLIENTS + 1];
    int slot[LJ_HTTP_MAX_CLIENTS + 1];
    nfds_t n = 0;

    p[n++] = (struct pollfd){ .fd = h->listen_fd, .events = POLLIN };
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS; i++)
        if (h->clients[i].phase != FREE) {
            slot[n] = i;
            p[n++] = (struct pollfd){ .fd = h->clients[i].fd, .events = wanted(&h->clients[i]) };
        }
    if (poll(p, n, 0) < 0)
        return;         /* EINTR: the next call serves it */
    int64_t now = lj_time_mono_ns();
    for (nfds_t k = 1; k < n; k++)
        if (p[k].revents)
            service(h, &h->clients[slot[k]], now);
    if (p[0].revents & POLLIN)
        accept_clients(h, now);
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS; i++)
        if (h->clients[i].phase != FREE && now > h->clients[i].deadline_ns &&
            !still_taking(&h->clients[i], now))
            drop(&h->clients[i]);
}
