/* httpload.c - load and abuse for a /healthz server on loopback (bench/http).
 *
 *   httpload rate PORT SECONDS CONC
 *       CONC threads, each: connect, GET /healthz, read to the close, again. Prints
 *       requests/s and how many answers were not 200.
 *   httpload storm PORT IDLE SLOW SECONDS RECONNECT
 *       IDLE connections that send nothing, SLOW that trickle a header byte every
 *       100 ms; with RECONNECT=1 each one the server closes is opened again at once
 *       (an attacker keeping them all open). Every 500 ms a probe GET /healthz (5 s
 *       limit): prints each probe's status and time, then totals.
 * Not part of logjet; loopback only; everything it opens it closes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static int64_t stop_ns;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int connect_to(void)
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

/* True when buf holds a whole response head and Content-Length bytes of body. */
static bool answered(const char *buf, size_t n)
{
    const char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "\ncontent-length:");
    return end && cl && cl < end && (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10) <= n;
}

/* One GET /healthz; returns the status (0 when none came within timeout_ms). */
static int probe(int timeout_ms)
{
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n";
    char buf[1024];
    size_t n = 0;
    int status = 0, fd = connect_to();
    int64_t end = now_ns() + (int64_t)timeout_ms * 1000000;
    if (fd < 0)
        return 0;
    if (send(fd, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1)) {
        for (;;) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int left = (int)((end - now_ns()) / 1000000);
            if (left <= 0 || poll(&p, 1, left) <= 0)
                break;
            ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
            if (r <= 0 || (n += (size_t)r) >= sizeof buf - 1)
                break;
            buf[n] = '\0';
            if (answered(buf, n))
                break;      /* a keep-alive server does not close: stop at the body's end */
        }
        buf[n] = '\0';
        if (n > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
            status = atoi(buf + 9);
    }
    close(fd);
    return status;
}

static long done_ok[64], done_bad[64];

static void *rate_main(void *arg)
{
    long i = (long)arg;
    while (now_ns() < stop_ns) {
        if (probe(5000) == 200)
            done_ok[i]++;
        else
            done_bad[i]++;
    }
    return NULL;
}

static int rate(int seconds, int conc)
{
    pthread_t t[64];
    if (conc < 1 || conc > 64)
        return 2;
    int64_t t0 = now_ns();
    stop_ns = t0 + (int64_t)seconds * 1000000000;
    for (long i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, rate_main, (void *)i);
    long ok = 0, bad = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(t[i], NULL);
        ok += done_ok[i];
        bad += done_bad[i];
    }
    double s = (double)(now_ns() - t0) / 1e9;
    printf("rate: %d connections, %.1f s: %ld ok (%.0f req/s), %ld not 200\n", conc, s, ok,
           (double)ok / s, bad);
    return 0;
}

static bool closed_by_peer(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;
    return poll(&p, 1, 0) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static long probes, probes_ok;
static int64_t worst_ms;

/* Probe thread of a storm: one /healthz every 500 ms, beside the abuse. */
static void *probe_main(void *arg)
{
    (void)arg;
    while (now_ns() < stop_ns) {
        int64_t t0 = now_ns();
        int st = probe(5000);
        int64_t ms = (now_ns() - t0) / 1000000;
        probes++;
        probes_ok += st == 200;
        worst_ms = ms > worst_ms ? ms : worst_ms;
        printf("probe %ld: %d in %lld ms\n", probes, st, (long long)ms);
        usleep(500 * 1000);
    }
    return NULL;
}

static int storm(int idle, int slow, int seconds, bool reconnect)
{
    int total = idle + slow, *fd = calloc((size_t)total, sizeof *fd);
    long closed = 0;
    pthread_t t;
    for (int i = 0; i < total; i++)
        fd[i] = connect_to();
    printf("storm: %d idle and %d slowloris connections open\n", idle, slow);
    stop_ns = now_ns() + (int64_t)seconds * 1000000000;
    pthread_create(&t, NULL, probe_main, NULL);
    for (int tick = 0; now_ns() < stop_ns; tick++) {
        for (int i = 0; i < total; i++) {
            if (fd[i] >= 0 && closed_by_peer(fd[i])) {
                closed++;
                close(fd[i]);
                fd[i] = reconnect ? connect_to() : -1;
            }
            if (i >= idle && fd[i] >= 0) {
                const char *b = tick == 0 ? "GET /healthz HTTP/1.1\r\nX: " : "a";
                (void)!send(fd[i], b, strlen(b), MSG_NOSIGNAL);
            }
        }
        usleep(100 * 1000);
    }
    pthread_join(t, NULL);
    int open_left = 0;
    for (int i = 0; i < total; i++)
        if (fd[i] >= 0) {
            open_left += !closed_by_peer(fd[i]);
            close(fd[i]);
        }
    printf("storm: %ld/%ld probes 200, slowest %lld ms; the server closed %ld connections, "
           "%d still open at the end\n", probes_ok, probes, (long long)worst_ms, closed, open_left);
    free(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "rate") == 0) {
        port = atoi(argv[2]);
        return rate(atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 7 && strcmp(argv[1], "storm") == 0) {
        port = atoi(argv[2]);
        return storm(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]) != 0);
    }
    fprintf(stderr, "usage: httpload rate PORT SECONDS CONC | "
                    "httpload storm PORT IDLE SLOW SECONDS RECONNECT\n");
    return 2;
}
