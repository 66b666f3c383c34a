/* http.c - a few-hundred-line HTTP/1.0 responder for health and metrics. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "timeutil.h"

#define REQUEST_MAX 8192
#define CLIENT_TIMEOUT_NS (5LL * 1000000000)

struct client {
    int fd;                 /* -1 when the slot is free */
    size_t len;
    int64_t since_ns;       /* accepted, or last progress while writing */
    struct lj_buf out;      /* the response, sent from out_off on as the socket takes it */
    size_t out_off;
    bool answered;          /* the response is built: only writing is left */
    char req[REQUEST_MAX];
};

struct lj_http {
    int listen_fd;
    lj_http_handler handler;
    void *ctx;
    struct client clients[LJ_HTTP_MAX_CLIENTS];
};

static int listen_on(const char *host, int port, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char portstr[8];
    int fd = -1, one = 1, rc;

    snprintf(portstr, sizeof portstr, "%d", port);
    if ((rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res)) != 0) {
        lj_fail(err, errlen, LJ_INVAL, "--http address '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
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
    c->len = 0;
    c->answered = false;
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

unsigned lj_http_fds(struct lj_http *h, struct curl_waitfd *fds, unsigned max)
{
    unsigned n = 0;
    if (n < max)
        fds[n++] = (struct curl_waitfd){ .fd = h->listen_fd, .events = CURL_WAIT_POLLIN };
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS && n < max; i++)
        if (h->clients[i].fd >= 0)
            fds[n++] = (struct curl_waitfd){
                .fd = h->clients[i].fd,
                .events = h->clients[i].answered ? CURL_WAIT_POLLOUT : CURL_WAIT_POLLIN };
    return n;
}

/* Sends what the socket takes now; the rest waits for the next POLLOUT. Drops the
 * client when everything is sent or the peer is gone. */
static void write_some(struct client *c, int64_t now)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (now - c->since_ns > CLIENT_TIMEOUT_NS)
                drop(c);    /* not reading its answer */
            return;
        }
        if (w <= 0) {
            drop(c);
            return;
        }
        c->out_off += (size_t)w;
        c->since_ns = now;
    }
    drop(c);
}

static void respond(struct lj_http *h, struct client *c)
{
    char method[8] = "", path[1024] = "", head[256];
    struct lj_buf body;
    const char *type = "text/plain; charset=utf-8";
    int status;

    lj_buf_init(&body);
    c->req[c->len] = '\0';
    if (sscanf(c->req, "%7s %1023s", method, path) != 2) {
        status = 400;
        lj_buf_appendf(&body, "bad request\n");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = 405;
        lj_buf_appendf(&body, "only GET\n");
    } else {
        char *q = strchr(path, '?');
        if (q)
            *q = '\0';
        status = h->handler(h->ctx, path, &body, &type);
    }
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : status == 404 ? "Not Found"
                             : status == 503 ? "Service Unavailable" : "Error",
                     type, body.len);
    lj_buf_reset(&c->out);
    lj_status st = lj_buf_append(&c->out, head, (size_t)n);
    if (st == LJ_OK && strcmp(method, "HEAD") != 0 && body.len)
        st = lj_buf_append(&c->out, body.data, body.len);
    lj_buf_finish(&body);
    if (st != LJ_OK) {
        drop(c);
        return;
    }
    c->answered = true;
    c->out_off = 0;
    c->since_ns = lj_time_mono_ns();
    write_some(c, c->since_ns);
}

static void accept_clients(struct lj_http *h)
{
    for (;;) {
        int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct client *c = NULL;
        for (int i = 0; i < LJ_HTTP_MAX_CLIENTS && c == NULL; i++)
            if (h->clients[i].fd < 0)
                c = &h->clients[i];
        if (c == NULL) {
            static const char busy[] = "HTTP/1.0 503 Busy\r\nContent-Length: 0\r\n\r\n";
            (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);    /* best effort */
            close(fd);
            continue;
        }
        c->fd = fd;
        c->len = 0;
        c->since_ns = lj_time_mono_ns();
    }
}

static void read_client(struct lj_http *h, struct client *c, int64_t now)
{
    ssize_t r = recv(c->fd, c->req + c->len, REQUEST_MAX - 1 - c->len, 0);
    if (r > 0) {
        c->len += (size_t)r;
        c->req[c->len] = '\0';
        if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") || c->len >= REQUEST_MAX - 1)
            respond(h, c);
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        drop(c);
    } else if (now - c->since_ns > CLIENT_TIMEOUT_NS) {
        drop(c);
    }
}

void lj_http_process(struct lj_http *h)
{
    int64_t now = lj_time_mono_ns();
    accept_clients(h);
    for (int i = 0; i < LJ_HTTP_MAX_CLIENTS; i++)
        if (h->clients[i].fd >= 0) {
            if (h->clients[i].answered)
                write_some(&h->clients[i], now);
            else
                read_client(h, &h->clients[i], now);
        }
}
