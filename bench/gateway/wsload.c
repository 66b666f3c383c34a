/* wsload.c - WebSocket load generator for the gateway benchmark.
 *
 * Opens N WebSocket connections (raw sockets, epoll, a minimal client handshake),
 * spread over P forked processes, and receives one container's lines on each:
 *
 *   --mode logjet  the gateway's /ws: sends {"op":"subscribe",...}, ready at `replayed`,
 *                  then counts the lines of every `lines` frame (and `gap` frames);
 *   --mode nats    nats-server's websocket listener, raw NATS protocol: CONNECT, SUB
 *                  <subject>, PING; ready at PONG; parses MSG/HMSG, answers PING, and
 *                  takes each LogRecord's `line` (field 6) with a minimal protobuf walk.
 *
 * Lines come from tsgen ("LJTS=<ns> n=<i> ..."): each received line gives a latency
 * (this process's CLOCK_REALTIME at the read that completed it, minus the container's
 * write time in the line) and its number n (missing and out-of-order lines are counted
 * per connection). Every line on every connection is measured, into a histogram.
 *
 * Prints "ready <N>" on stdout once every connection is subscribed; ends when every
 * connection has line --expect, or --idle-ms after the last line, or at --timeout;
 * then prints one JSON object with the totals, latency percentiles and its own CPU time
 * from `ready` to the end (all processes).
 *
 * Usage: wsload --mode logjet|nats --port PORT [--host 127.0.0.1] [--path /ws]
 *               [--container H/C] [--subject S] [--conns N] [--procs P]
 *               [--expect LINES] [--idle-ms MS] [--timeout S] [--hold] [--deflate]
 *               [--replay N] [--taps K]
 * --hold: connect and subscribe, print ready, then wait (idle-connection memory test)
 * until stdin closes.
 * --deflate: offer permessage-deflate (RFC 7692) the way Chromium does
 * ("permessage-deflate; client_max_window_bits"); where the server's 101 agrees, frames
 * with RSV1 are inflated before the parsers see them. The JSON result counts the
 * connections that agreed (deflate_conns), gives one answer as sent (deflate_answer),
 * and separates wire_bytes (WebSocket bytes off the socket after the handshake: frame
 * headers and payload as sent) from payload_bytes (message bytes after inflate). Without
 * the option no extension is offered, and a server that answers one anyway is refused.
 * This client never compresses what it sends (RSV1 clear is always allowed). The
 * observer connection (--observe-port) never offers deflate: it stays a fixed reference.
 *
 * --replay N: the subscribe asks for the last N lines of each container (logjet mode).
 * --taps K: a connection is ready at its K-th `replayed` frame, not its first (a glob
 * subscription gets one per container it covers).
 * Lines may carry a global n (bench/tail's tailgen --marker, numbered over all its
 * containers): then order and loss per connection mean nothing, only the totals do.
 *
 * Does NOT: speak TLS, send compressed frames, or validate UTF-8.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Latency histogram: 1 us buckets below 100 ms, then 1 ms buckets up to 100 s. */
#define H_FINE 100000
#define H_COARSE 100000
#define H_BUCKETS (H_FINE + H_COARSE + 1)

struct shared {                     /* one per process, in a MAP_SHARED region */
    atomic_int ready;               /* connections subscribed */
    atomic_int failed;              /* connections that could not subscribe */
    /* bytes, frames: data frames and their payload as received; the observer's not counted */
    long long lines, missing, reorder, gap_frames, gap_lost, closed, bytes, frames;
    long long first_rx, last_rx;    /* CLOCK_REALTIME ns */
    long long complete;             /* connections that got --expect */
    double cpu_user, cpu_sys;       /* from ready to the end */
    uint64_t hist[H_BUCKETS];
    /* --deflate: what the servers agreed and what it saved (observer excluded) */
    long long wire_bytes;           /* frame headers + payload as received */
    long long payload_bytes;        /* data message bytes after inflate */
    long long deflate_conns;        /* 101s that agreed permessage-deflate */
    long long deflate_server_no_ctx, deflate_client_no_ctx;
    long long deflate_msgs;         /* messages that came compressed (RSV1) */
    long long deflate_errors;       /* connections dropped for a bad extension or stream */
    char deflate_answer[160];       /* the first agreeing Sec-WebSocket-Extensions value */
};

enum mode { M_LOGJET, M_NATS };
enum state { S_CONNECTING, S_HANDSHAKE, S_OPEN, S_DONE };

struct conn {
    int fd;
    enum state st;
    int ready;
    char *rbuf;                     /* raw bytes from the socket */
    size_t rlen;
    /* frame decoder */
    int in_payload;
    uint64_t remaining;
    int opcode, fin, ctrl;
    /* assembled payload: one message (logjet) or the NATS byte stream (nats) */
    char *msg;
    size_t mlen, mcap;
    char ctl[256];
    size_t ctllen;
    long long last_n;
    enum mode mode;
    int port;
    const char *path;
    int observer;                   /* the reference NATS connection (--observe-port) */
    int replayed;                   /* `replayed` frames so far */
    int sampled;                    /* keeps its receipt time of every line */
    struct pmd {                    /* permessage-deflate state, --deflate */
        int agreed;                 /* the server's 101 accepted it */
        int server_no_ctx;          /* server_no_context_takeover: fresh window per message */
        int compressed;             /* the message being received had RSV1 on its first frame */
        int ended;                  /* it held a final (BFINAL) block: the rest is ignored */
        z_stream *z;                /* raw inflater, made at the first compressed message */
    } pmd;
};

/* The observer: one direct nats-server websocket client on the same subject in the
 * first process, for the pipeline's latency up to nats-server in the same run; and
 * per line, its receipt time and the first connection's, for the gateway's own hop. */
struct observed {
    atomic_int ready;
    long long lines;
    uint64_t hist[H_BUCKETS];
};
static struct observed *obs;
static long long *obs_rx, *first_rx_of;  /* [expect + 1], CLOCK_REALTIME ns */

static struct {
    enum mode mode;
    const char *host, *path, *container, *subject;
    int port, conns, procs, idle_ms, timeout_s, hold;
    long long expect;
    int observe_port;
    const char *observe_path;
    int deflate;
    int replay, taps;
} opt = {M_LOGJET, "127.0.0.1", "/ws", NULL, NULL, 0, 1, 1, 3000, 120, 0, 0, 0, "/", 0, 0, 1};

#define RBUF 262144

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *m)
{
    perror(m);
    exit(1);
}

static void grow(struct conn *c, size_t need)
{
    if (c->mlen + need <= c->mcap)
        return;
    size_t cap = c->mcap ? c->mcap : 65536;
    while (cap < c->mlen + need)
        cap *= 2;
    c->msg = realloc(c->msg, cap);
    if (!c->msg)
        die("realloc");
    c->mcap = cap;
}

/* Sends one masked client frame; blocking semantics are fine for these tiny writes. */
static void send_frame(struct conn *c, int opcode, const char *p, size_t n)
{
    unsigned char h[14 + 4096];
    size_t k = 0;
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (n > 4096)
        return;
    h[k++] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[k++] = (unsigned char)(0x80 | n);
    } else {
        h[k++] = 0x80 | 126;
        h[k++] = (unsigned char)(n >> 8);
        h[k++] = (unsigned char)n;
    }
    memcpy(h + k, mask, 4);
    k += 4;
    for (size_t i = 0; i < n; i++)
        h[k + i] = (unsigned char)p[i] ^ mask[i & 3];
    k += n;
    size_t off = 0;
    while (off < k) {
        ssize_t w = write(c->fd, h + off, k - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {c->fd, POLLOUT, 0};
                poll(&pf, 1, 100);
                continue;
            }
            return;
        }
        off += (size_t)w;
    }
}

static size_t bucket(long long us)
{
    if (us < 0)
        us = 0;
    if (us < H_FINE)
        return (size_t)us;
    if ((us - H_FINE) / 1000 < H_COARSE)
        return (size_t)(H_FINE + (us - H_FINE) / 1000);
    return H_BUCKETS - 1;
}

static void record(struct shared *sh, struct conn *c, long long ts, long long n, long long rx)
{
    if (c->observer) {
        obs->hist[bucket((rx - ts) / 1000)]++;
        obs->lines++;
        if (n > 0 && n <= opt.expect)
            obs_rx[n] = rx;
        return;
    }
    if (c->sampled && n > 0 && n <= opt.expect)
        first_rx_of[n] = rx;
    sh->hist[bucket((rx - ts) / 1000)]++;
    sh->lines++;
    if (!sh->first_rx || rx < sh->first_rx)
        sh->first_rx = rx;
    if (rx > sh->last_rx)
        sh->last_rx = rx;
    if (n == c->last_n + 1) {
        c->last_n = n;
    } else if (n > c->last_n) {
        sh->missing += n - c->last_n - 1;
        c->last_n = n;
    } else {
        sh->reorder++;
    }
    if (opt.expect && n == opt.expect)
        sh->complete++;
}

/* "LJTS=<19 digits> n=<digits>" at p (len bytes available). */
static int parse_marker(const char *p, size_t len, long long *ts, long long *n)
{
    if (len < 28 || memcmp(p, "LJTS=", 5) != 0)
        return -1;
    long long t = 0, k = 0;
    size_t i = 5;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        t = t * 10 + (p[i] - '0');
    if (i + 3 > len || memcmp(p + i, " n=", 3) != 0)
        return -1;
    for (i += 3; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        k = k * 10 + (p[i] - '0');
    *ts = t;
    *n = k;
    return 0;
}

/* A complete gateway message (JSON text). */
static void logjet_message(struct shared *sh, struct conn *c, const char *m, size_t len, long long rx)
{
    static const char lk[] = "\"line\":\"";
    if (len > 15 && memcmp(m, "{\"type\":\"lines\"", 15) == 0) {
        const char *p = m, *end = m + len;
        while ((p = memmem(p, (size_t)(end - p), lk, sizeof(lk) - 1)) != NULL) {
            long long ts, n;
            p += sizeof(lk) - 1;
            if (parse_marker(p, (size_t)(end - p), &ts, &n) == 0)
                record(sh, c, ts, n, rx);
        }
        return;
    }
    if (len > 16 && memcmp(m, "{\"type\":\"replayed\"", 18) == 0) {
        if (!c->ready && ++c->replayed >= opt.taps) {
            c->ready = 1;
            atomic_fetch_add(&sh->ready, 1);
        }
        return;
    }
    if (len > 12 && memcmp(m, "{\"type\":\"gap\"", 13) == 0) {
        const char *l = memmem(m, len, "\"lost\":", 7);
        sh->gap_frames++;
        if (l)
            sh->gap_lost += atoll(l + 7);
        return;
    }
    if (len > 14 && memcmp(m, "{\"type\":\"error\"", 15) == 0)
        fprintf(stderr, "wsload: gateway error: %.*s\n", (int)(len > 300 ? 300 : len), m);
}

/* Varint at *p (< end); -1 when truncated. */
static int varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int s = 0; s < 64 && *p < end; s += 7) {
        unsigned char b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* A LogRecord: finds field 6 (line, bytes) and measures it. */
static void nats_record(struct shared *sh, struct conn *c, const unsigned char *p, size_t len, long long rx)
{
    const unsigned char *end = p + len;
    while (p < end) {
        uint64_t key, v;
        if (varint(&p, end, &key) != 0)
            return;
        switch (key & 7) {
        case 0:
            if (varint(&p, end, &v) != 0)
                return;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        case 2:
            if (varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
                return;
            if ((key >> 3) == 6) {
                long long ts, n;
                if (parse_marker((const char *)p, (size_t)v, &ts, &n) == 0)
                    record(sh, c, ts, n, rx);
                return;
            }
            p += v;
            break;
        default:
            return;
        }
    }
}

/* Parses whole NATS protocol messages from c->msg; keeps a partial tail. */
static void nats_stream(struct shared *sh, struct conn *c, long long rx)
{
    size_t off = 0;
    while (off < c->mlen) {
        char *s = c->msg + off;
        char *eol = memmem(s, c->mlen - off, "\r\n", 2);
        if (!eol)
            break;
        size_t ll = (size_t)(eol - s);
        if (ll >= 4 && (memcmp(s, "HMSG", 4) == 0 || memcmp(s, "MSG ", 4) == 0)) {
            /* last one (MSG) or two (HMSG) numbers: [hdr_len] total_len */
            int hmsg = s[0] == 'H';
            char *q = eol;
            long long total = 0, hdr = 0, mul = 1;
            while (q > s && q[-1] >= '0' && q[-1] <= '9') {
                total += (q[-1] - '0') * mul;
                mul *= 10;
                q--;
            }
            if (hmsg) {
                q--;
                mul = 1;
                while (q > s && q[-1] >= '0' && q[-1] <= '9') {
                    hdr += (q[-1] - '0') * mul;
                    mul *= 10;
                    q--;
                }
            }
            size_t need = ll + 2 + (size_t)total + 2;
            if (c->mlen - off < need)
                break;
            const unsigned char *body = (const unsigned char *)eol + 2;
            nats_record(sh, c, body + hdr, (size_t)(total - hdr), rx);
            off += need;
            continue;
        }
        if (ll == 4 && memcmp(s, "PING", 4) == 0) {
            send_frame(c, 2, "PONG\r\n", 6);
        } else if (ll == 4 && memcmp(s, "PONG", 4) == 0) {
            if (!c->ready) {
                c->ready = 1;
                atomic_fetch_add(c->observer ? &obs->ready : &sh->ready, 1);
            }
        } else if (ll >= 4 && memcmp(s, "-ERR", 4) == 0) {
            fprintf(stderr, "wsload: nats: %.*s\n", (int)ll, s);
        }
        off += ll + 2;
    }
    if (off) {
        memmove(c->msg, c->msg + off, c->mlen - off);
        c->mlen -= off;
    }
}

static void on_message_bytes(struct conn *c, const char *p, size_t n)
{
    grow(c, n);
    memcpy(c->msg + c->mlen, p, n);
    c->mlen += n;
}

/* ---- permessage-deflate (RFC 7692), only with --deflate ---------------------------- */

/* The offer, as Chromium sends it; "" without --deflate. */
static const char *pmd_offer(void)
{
    return opt.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "";
}

static void pmd_error(struct shared *sh, const char *what, const char *detail, size_t dlen)
{
    if (sh->deflate_errors++ < 5)
        fprintf(stderr, "wsload: permessage-deflate: %s%s%.*s\n", what, dlen ? ": " : "", (int)dlen, detail ? detail : "");
}

/* Case-insensitive "name" at p (n bytes), followed by end, '=', ';', ',' or blank. */
static int pmd_token_is(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n >= k && strncasecmp(p, name, k) == 0 &&
           (n == k || p[k] == '=' || p[k] == ';' || p[k] == ',' || p[k] == ' ' || p[k] == '\t');
}

/* A window-bits value ("15" or "\"15\"") in p..end: 8..15, else -1. */
static int pmd_bits(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - p >= 2 && *p == '"' && end[-1] == '"') {
        p++;
        end--;
    }
    if (end - p < 1 || end - p > 2)
        return -1;
    int v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v >= 8 && v <= 15 ? v : -1;
}

/* Reads the 101's Sec-WebSocket-Extensions (hdr: the response up to its blank line) into
 * c->pmd. No such header: plain frames, 0. An answer this client did not offer (any
 * extension without --deflate, another extension, a second one, an unknown or repeated
 * parameter, a bad window size) fails the connection as RFC 7692 §5 asks: -1. */
static int pmd_accept(struct shared *sh, struct conn *c, const char *hdr, size_t len)
{
    static const char key[] = "\r\nsec-websocket-extensions:";
    const char *end = hdr + len, *v = NULL, *ve = NULL;
    for (const char *p = hdr; p + sizeof(key) - 1 <= end; p++) {
        if (strncasecmp(p, key, sizeof(key) - 1) != 0)
            continue;
        if (v) {
            pmd_error(sh, "more than one Sec-WebSocket-Extensions header", NULL, 0);
            return -1;
        }
        v = p + sizeof(key) - 1;
        ve = memmem(v, (size_t)(end - v), "\r\n", 2);
        if (!ve)
            ve = end;
    }
    if (!v)
        return 0;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    if (!opt.deflate || c->observer || !pmd_token_is(v, (size_t)(ve - v), "permessage-deflate") ||
        memchr(v, ',', (size_t)(ve - v))) {
        pmd_error(sh, "the server answered an extension that was not offered", v, (size_t)(ve - v));
        return -1;
    }
    int seen_snc = 0, seen_cnc = 0, seen_smw = 0, seen_cmw = 0;
    for (const char *p = memchr(v, ';', (size_t)(ve - v)); p && p < ve;) {
        const char *q = p + 1, *e = memchr(q, ';', (size_t)(ve - q));
        if (!e)
            e = ve;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        const char *eq = memchr(q, '=', (size_t)(e - q));
        size_t n = (size_t)(e - q);
        int bad = 0;
        if (pmd_token_is(q, n, "server_no_context_takeover") && !eq)
            bad = seen_snc++;
        else if (pmd_token_is(q, n, "client_no_context_takeover") && !eq)
            bad = seen_cnc++;
        else if (pmd_token_is(q, n, "server_max_window_bits") && eq)
            bad = seen_smw++ || pmd_bits(eq + 1, e) < 0;
        else if (pmd_token_is(q, n, "client_max_window_bits") && (!eq || pmd_bits(eq + 1, e) >= 0))
            bad = seen_cmw++;      /* allowed: it was offered; binds only what this client sends */
        else
            bad = 1;
        if (bad) {
            pmd_error(sh, "bad parameter in the server's answer", v, (size_t)(ve - v));
            return -1;
        }
        p = e;
    }
    c->pmd.agreed = 1;
    c->pmd.server_no_ctx = seen_snc;
    sh->deflate_conns++;
    sh->deflate_server_no_ctx += seen_snc;
    sh->deflate_client_no_ctx += seen_cnc;
    if (!sh->deflate_answer[0]) {
        size_t k = 0;
        for (const char *p = v; p < ve && k + 1 < sizeof(sh->deflate_answer); p++)
            sh->deflate_answer[k++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '\'' : *p;
        sh->deflate_answer[k] = 0;
    }
    return 0;
}

/* A frame header's RSV bits (b0: the frame's first byte). RSV1 on the first frame of a
 * data message marks it compressed; RSV1 anywhere else, without agreement, or RSV2/RSV3
 * is a protocol error: -1. */
static int pmd_frame(struct shared *sh, struct conn *c, unsigned char b0)
{
    int op = b0 & 0x0f, rsv1 = (b0 & 0x40) != 0;
    if ((b0 & 0x30) || (rsv1 && (!c->pmd.agreed || op == 0 || op >= 8))) {
        char d[48];
        int n = snprintf(d, sizeof(d), "first byte 0x%02x%s", b0, c->pmd.agreed ? "" : " (deflate not agreed)");
        pmd_error(sh, "RSV bits the extension does not allow", d, (size_t)n);
        return -1;
    }
    if (op != 0 && op < 8)
        c->pmd.compressed = rsv1;
    return 0;
}

/* Inflates n bytes of a compressed message onto c->msg (raw deflate; window 15, the
 * largest, which inflates whatever window the server used: zlib cannot inflate with
 * 8 bits what it deflated with "8", which it raises to 9). After a final block the
 * message's remaining bytes (at least the appended tail) are not deflate data: skipped. */
static int pmd_inflate(struct shared *sh, struct conn *c, const unsigned char *p, size_t n)
{
    z_stream *z = c->pmd.z;
    if (!z) {
        z = c->pmd.z = calloc(1, sizeof(*z));
        if (!z || inflateInit2(z, -15) != Z_OK)
            die("inflateInit2");
    }
    if (c->pmd.ended)
        return 0;
    z->next_in = (Bytef *)p;
    z->avail_in = (uInt)n;
    for (;;) {
        grow(c, 4 * (size_t)z->avail_in + 4096);
        z->next_out = (Bytef *)c->msg + c->mlen;
        z->avail_out = (uInt)(c->mcap - c->mlen);
        int r = inflate(z, Z_SYNC_FLUSH);
        size_t got = (size_t)(c->mcap - c->mlen) - z->avail_out;
        c->mlen += got;
        if (!c->observer)
            sh->payload_bytes += (long long)got;
        if (r == Z_STREAM_END) {
            c->pmd.ended = 1;   /* the next message starts a new stream */
            break;
        } else if (r == Z_BUF_ERROR && !got && !z->avail_in) {
            break;              /* nothing left to do */
        } else if (r != Z_OK) {
            pmd_error(sh, "inflate failed", z->msg ? z->msg : "", z->msg ? strlen(z->msg) : 0);
            return -1;
        }
        if (!z->avail_in && z->avail_out)
            break;              /* all input taken, all output out */
    }
    return 0;
}

/* The end of a compressed message: its 00 00 ff ff tail (§7.2.2), and a fresh window
 * when the server keeps none across messages or ended its stream in this one. */
static int pmd_message_end(struct shared *sh, struct conn *c)
{
    static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
    if (pmd_inflate(sh, c, tail, sizeof(tail)) != 0)
        return -1;
    sh->deflate_msgs++;
    c->pmd.compressed = 0;
    if (c->pmd.server_no_ctx || c->pmd.ended)
        inflateReset(c->pmd.z);
    c->pmd.ended = 0;
    return 0;
}

/* One data frame's payload bytes onto c->msg, inflated when the message is compressed. */
static int pmd_payload(struct shared *sh, struct conn *c, const char *p, size_t n)
{
    if (c->pmd.compressed)
        return pmd_inflate(sh, c, (const unsigned char *)p, n);
    on_message_bytes(c, p, n);
    if (!c->observer)
        sh->payload_bytes += (long long)n;
    return 0;
}

/* Ends a connection whose extension use was wrong; one not yet subscribed counts as failed. */
static void pmd_drop(struct shared *sh, struct conn *c)
{
    c->st = S_DONE;
    if (!c->ready && !c->observer)
        atomic_fetch_add(&sh->failed, 1);
}

static void pmd_free(struct conn *c)
{
    if (c->pmd.z) {
        inflateEnd(c->pmd.z);
        free(c->pmd.z);
        c->pmd.z = NULL;
    }
}

static void control_frame(struct conn *c)
{
    if (c->opcode == 9)
        send_frame(c, 10, c->ctl, c->ctllen);
}

/* Decodes frames from c->rbuf. */
static void deframe(struct shared *sh, struct conn *c, long long rx)
{
    size_t off = 0;
    const unsigned char *b = (const unsigned char *)c->rbuf;
    while (off < c->rlen) {
        if (!c->in_payload) {
            size_t avail = c->rlen - off, hl = 2;
            if (avail < 2)
                break;
            uint64_t len = b[off + 1] & 0x7f;
            if (len == 126)
                hl = 4;
            else if (len == 127)
                hl = 10;
            if (avail < hl)
                break;
            if (len == 126)
                len = ((uint64_t)b[off + 2] << 8) | b[off + 3];
            else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = (len << 8) | b[off + 2 + i];
            }
            int op = b[off] & 0x0f;
            if (pmd_frame(sh, c, b[off]) != 0) {
                pmd_drop(sh, c);
                return;
            }
            c->fin = b[off] >> 7;
            c->ctrl = op >= 8;
            if (!c->ctrl && op != 0)
                c->opcode = op;
            if (c->ctrl) {
                c->opcode = op;
                c->ctllen = 0;
            }
            c->remaining = len;
            c->in_payload = 1;
            off += hl;
            if (op == 8) {
                sh->closed++;
                c->st = S_DONE;
                return;
            }
        }
        size_t take = c->rlen - off;
        if (take > c->remaining)
            take = (size_t)c->remaining;
        if (c->ctrl) {
            size_t k = take;
            if (c->ctllen + k > sizeof(c->ctl))
                k = sizeof(c->ctl) - c->ctllen;
            memcpy(c->ctl + c->ctllen, c->rbuf + off, k);
            c->ctllen += k;
        } else {
            if (pmd_payload(sh, c, c->rbuf + off, take) != 0) {
                pmd_drop(sh, c);
                return;
            }
            if (!c->observer)
                sh->bytes += (long long)take;
        }
        off += take;
        c->remaining -= take;
        if (c->remaining == 0) {
            c->in_payload = 0;
            if (c->ctrl) {
                control_frame(c);
            } else {
                if (!c->observer)
                    sh->frames++;
                if (c->fin && c->pmd.compressed && pmd_message_end(sh, c) != 0) {
                    pmd_drop(sh, c);
                    return;
                }
                if (c->mode == M_NATS) {
                    nats_stream(sh, c, rx);
                } else if (c->fin) {
                    logjet_message(sh, c, c->msg, c->mlen, rx);
                    c->mlen = 0;
                }
            }
        }
    }
    if (!c->observer)
        sh->wire_bytes += (long long)off;
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

static void start_connect(struct conn *c, int ep)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)c->port);
    inet_pton(AF_INET, opt.host, &a.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS)
        die("connect");
    c->st = S_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void send_handshake(struct conn *c, int ep)
{
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                     c->path, opt.host, c->port, c->observer ? "" : pmd_offer());
    if (write(c->fd, req, (size_t)n) != n)
        die("handshake write");
    c->st = S_HANDSHAKE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_open(struct conn *c)
{
    char m[1024];
    int n;
    if (c->mode == M_LOGJET)
        n = snprintf(m, sizeof(m), "{\"op\":\"subscribe\",\"id\":\"b\",\"container\":\"%s\",\"replay\":%d}",
                     opt.container, opt.replay);
    else
        n = snprintf(m, sizeof(m),
                     "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,"
                     "\"protocol\":1}\r\nSUB %s 1\r\nPING\r\n", opt.subject);
    send_frame(c, c->mode == M_LOGJET ? 1 : 2, m, (size_t)n);
}

static double tv(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void worker(struct shared *sh, int n, int first)
{
    int ep = epoll_create1(0);
    struct conn *cs = calloc((size_t)n, sizeof(*cs));
    struct epoll_event evs[256];
    int started = 0, inflight = 0, done_handshakes = 0;
    long long deadline = now_ns() + (long long)opt.timeout_s * 1000000000LL;
    struct rusage ru0 = {0}, ru1;
    int counted_ready = 0;

    if (!cs || ep < 0)
        die("worker");
    for (int i = 0; i < n; i++) {
        cs[i].rbuf = malloc(RBUF);
        cs[i].fd = -1;
        cs[i].mode = opt.mode;
        cs[i].port = opt.port;
        cs[i].path = opt.path;
    }
    cs[0].sampled = first && opt.expect && opt.observe_port;
    struct conn oc = {.fd = -1, .mode = M_NATS, .observer = 1};
    if (first && opt.observe_port) {
        oc.rbuf = malloc(RBUF);
        oc.port = opt.observe_port;
        oc.path = opt.observe_path;
        start_connect(&oc, ep);
    }
    for (;;) {
        while (started < n && inflight < 32) {
            start_connect(&cs[started++], ep);
            inflight++;
        }
        int ready_now = atomic_load(&sh->ready);
        if (!counted_ready && ready_now + atomic_load(&sh->failed) >= n) {
            counted_ready = 1;
            getrusage(RUSAGE_SELF, &ru0);
            if (opt.hold) {
                /* idle: wait for the parent to end us */
                for (;;)
                    pause();
            }
        }
        long long now = now_ns();
        if (now > deadline)
            break;
        if (opt.expect && sh->complete >= n)
            break;
        if (sh->last_rx && now - sh->last_rx > (long long)opt.idle_ms * 1000000LL)
            break;
        int k = epoll_wait(ep, evs, 256, 100);
        long long rx = now_ns();
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st == S_CONNECTING) {
                int err = 0;
                socklen_t el = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    fprintf(stderr, "wsload: connect: %s\n", strerror(err));
                    atomic_fetch_add(&sh->failed, 1);
                    c->st = S_DONE;
                    close(c->fd);
                    inflight--;
                    continue;
                }
                send_handshake(c, ep);
                continue;
            }
            if (c->st == S_DONE)
                continue;
            for (;;) {
                ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r <= 0) {
                    if (c->st != S_DONE) {
                        sh->closed++;
                        if (!c->ready)
                            atomic_fetch_add(&sh->failed, 1);
                        if (c->st == S_HANDSHAKE)
                            inflight--;
                    }
                    c->st = S_DONE;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    pmd_free(c);
                    break;
                }
                c->rlen += (size_t)r;
                if (c->st == S_HANDSHAKE) {
                    char *e = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
                    if (!e)
                        continue;
                    if (c->rlen < 12 || memcmp(c->rbuf + 9, "101", 3) != 0 ||
                        pmd_accept(sh, c, c->rbuf, (size_t)(e - c->rbuf)) != 0) {
                        fprintf(stderr, "wsload: handshake refused: %.*s\n", (int)(e - c->rbuf), c->rbuf);
                        atomic_fetch_add(&sh->failed, 1);
                        c->st = S_DONE;
                        close(c->fd);
                        inflight--;
                        break;
                    }
                    size_t hl = (size_t)(e + 4 - c->rbuf);
                    memmove(c->rbuf, c->rbuf + hl, c->rlen - hl);
                    c->rlen -= hl;
                    c->st = S_OPEN;
                    inflight--;
                    done_handshakes++;
                    on_open(c);
                }
                deframe(sh, c, rx);
                if (c->st == S_DONE) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    pmd_free(c);
                    break;
                }
                if ((size_t)r < RBUF / 2)
                    break;
            }
        }
    }
    getrusage(RUSAGE_SELF, &ru1);
    if (opt.expect)
        for (int i = 0; i < n; i++)
            if (cs[i].ready && cs[i].last_n < opt.expect)
                sh->missing += opt.expect - cs[i].last_n;
    if (counted_ready) {
        sh->cpu_user = tv(ru1.ru_utime) - tv(ru0.ru_utime);
        sh->cpu_sys = tv(ru1.ru_stime) - tv(ru0.ru_stime);
    }
    (void)done_handshakes;
    _exit(0);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static double pct(const uint64_t *h, uint64_t total, double p)
{
    if (!total)
        return -1;
    uint64_t want = (uint64_t)((double)total * p), acc = 0;
    if (want >= total)
        want = total - 1;
    for (size_t b = 0; b < H_BUCKETS; b++) {
        acc += h[b];
        if (acc > want)
            return b < H_FINE ? (double)b / 1000.0 : (double)(H_FINE + (b - H_FINE) * 1000) / 1000.0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--hold")) {
            opt.hold = 1;
            continue;
        }
        if (!strcmp(a, "--deflate")) {
            opt.deflate = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "wsload: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--mode"))
            opt.mode = !strcmp(v, "nats") ? M_NATS : M_LOGJET;
        else if (!strcmp(a, "--host"))
            opt.host = v;
        else if (!strcmp(a, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(a, "--path"))
            opt.path = v;
        else if (!strcmp(a, "--container"))
            opt.container = v;
        else if (!strcmp(a, "--subject"))
            opt.subject = v;
        else if (!strcmp(a, "--conns"))
            opt.conns = atoi(v);
        else if (!strcmp(a, "--procs"))
            opt.procs = atoi(v);
        else if (!strcmp(a, "--expect"))
            opt.expect = atoll(v);
        else if (!strcmp(a, "--idle-ms"))
            opt.idle_ms = atoi(v);
        else if (!strcmp(a, "--observe-port"))
            opt.observe_port = atoi(v);
        else if (!strcmp(a, "--observe-path"))
            opt.observe_path = v;
        else if (!strcmp(a, "--timeout"))
            opt.timeout_s = atoi(v);
        else if (!strcmp(a, "--replay"))
            opt.replay = atoi(v);
        else if (!strcmp(a, "--taps"))
            opt.taps = atoi(v);
        else {
            fprintf(stderr, "wsload: unknown option %s\n", a);
            return 2;
        }
    }
    if (!opt.port || (opt.mode == M_LOGJET && !opt.container) || ((opt.mode == M_NATS || opt.observe_port) && !opt.subject)) {
        fprintf(stderr, "usage: wsload --mode logjet|nats --port PORT (--container H/C | --subject S) [--deflate] ...\n");
        return 2;
    }
    if (opt.procs < 1)
        opt.procs = 1;
    if (opt.procs > opt.conns)
        opt.procs = opt.conns;
    signal(SIGPIPE, SIG_IGN);

    size_t shsz = sizeof(struct shared) * (size_t)opt.procs;
    struct shared *sh = mmap(NULL, shsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap");
    memset(sh, 0, shsz);
    size_t osz = sizeof(struct observed) + 2 * sizeof(long long) * (size_t)(opt.expect + 1);
    obs = mmap(NULL, osz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (obs == MAP_FAILED)
        die("mmap");
    obs_rx = (long long *)(obs + 1);
    first_rx_of = obs_rx + opt.expect + 1;
    pid_t *pids = calloc((size_t)opt.procs, sizeof(pid_t));
    for (int p = 0; p < opt.procs; p++) {
        int n = opt.conns / opt.procs + (p < opt.conns % opt.procs);
        pids[p] = fork();
        if (pids[p] == 0)
            worker(&sh[p], n, p == 0);
        if (pids[p] < 0)
            die("fork");
    }
    /* wait for every connection to be subscribed (or failed) */
    long long t_end = now_ns() + 60000000000LL;
    for (;;) {
        int r = 0, f = 0;
        for (int p = 0; p < opt.procs; p++) {
            r += atomic_load(&sh[p].ready);
            f += atomic_load(&sh[p].failed);
        }
        if (r + f >= opt.conns && (!opt.observe_port || atomic_load(&obs->ready))) {
            printf("ready %d failed %d\n", r, f);
            fflush(stdout);
            break;
        }
        if (now_ns() > t_end) {
            printf("ready %d failed %d (timed out)\n", r, opt.conns - r);
            fflush(stdout);
            break;
        }
        usleep(2000);
    }
    if (opt.hold) {
        char b[64];
        while (read(0, b, sizeof(b)) > 0)
            ;
        for (int p = 0; p < opt.procs; p++)
            kill(pids[p], SIGKILL);
    }
    for (int p = 0; p < opt.procs; p++)
        waitpid(pids[p], NULL, 0);

    struct shared *t = calloc(1, sizeof(*t));
    for (int p = 0; p < opt.procs; p++) {
        struct shared *s = &sh[p];
        t->ready += s->ready;
        t->failed += s->failed;
        t->lines += s->lines;
        t->missing += s->missing;
        t->reorder += s->reorder;
        t->gap_frames += s->gap_frames;
        t->gap_lost += s->gap_lost;
        t->closed += s->closed;
        t->bytes += s->bytes;
        t->frames += s->frames;
        t->complete += s->complete;
        t->wire_bytes += s->wire_bytes;
        t->payload_bytes += s->payload_bytes;
        t->deflate_conns += s->deflate_conns;
        t->deflate_server_no_ctx += s->deflate_server_no_ctx;
        t->deflate_client_no_ctx += s->deflate_client_no_ctx;
        t->deflate_msgs += s->deflate_msgs;
        t->deflate_errors += s->deflate_errors;
        if (!t->deflate_answer[0])
            memcpy(t->deflate_answer, s->deflate_answer, sizeof(t->deflate_answer));
        t->cpu_user += s->cpu_user;
        t->cpu_sys += s->cpu_sys;
        if (s->first_rx && (!t->first_rx || s->first_rx < t->first_rx))
            t->first_rx = s->first_rx;
        if (s->last_rx > t->last_rx)
            t->last_rx = s->last_rx;
        for (size_t b = 0; b < H_BUCKETS; b++)
            t->hist[b] += s->hist[b];
    }
    uint64_t total = 0, ototal = 0;
    for (size_t b = 0; b < H_BUCKETS; b++) {
        total += t->hist[b];
        ototal += obs->hist[b];
    }
    /* the gateway's own hop: first connection's receipt minus the observer's, per line */
    long long *hop = malloc(sizeof(long long) * (size_t)(opt.expect + 1));
    size_t nh = 0;
    for (long long i = 1; i <= opt.expect && opt.observe_port; i++)
        if (obs_rx[i] && first_rx_of[i])
            hop[nh++] = first_rx_of[i] - obs_rx[i];
    qsort(hop, nh, sizeof(*hop), cmp_ll);
#define HOP(p) (nh ? (double)hop[(size_t)((double)(nh - 1) * (p))] / 1e6 : 0.0)
    printf("{\"observer_lines\":%lld,\"observer_p50\":%.3f,\"observer_p99\":%.3f,\"hop_lines\":%zu,"
           "\"hop_p50\":%.3f,\"hop_p99\":%.3f,", obs->lines, pct(obs->hist, ototal, 0.5),
           pct(obs->hist, ototal, 0.99), nh, HOP(0.5), HOP(0.99));
    printf("\"deflate_offered\":%d,\"deflate_conns\":%lld,\"deflate_answer\":\"%s\","
           "\"deflate_server_no_context_takeover\":%lld,\"deflate_client_no_context_takeover\":%lld,"
           "\"deflate_msgs\":%lld,\"deflate_errors\":%lld,\"wire_bytes\":%lld,\"payload_bytes\":%lld,",
           opt.deflate, t->deflate_conns, t->deflate_answer, t->deflate_server_no_ctx, t->deflate_client_no_ctx,
           t->deflate_msgs, t->deflate_errors, t->wire_bytes, t->payload_bytes);
    printf("\"conns\":%d,\"ready\":%d,\"failed\":%d,\"lines\":%lld,\"missing\":%lld,\"reorder\":%lld,"
           "\"gap_frames\":%lld,\"gap_lost\":%lld,\"closed\":%lld,\"bytes\":%lld,\"frames\":%lld,"
           "\"complete\":%lld,\"first_rx\":%lld,\"last_rx\":%lld,\"cpu_user\":%.3f,\"cpu_sys\":%.3f,"
           "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}\n",
           opt.conns, (int)t->ready, (int)t->failed, t->lines, t->missing, t->reorder, t->gap_frames,
           t->gap_lost, t->closed, t->bytes, t->frames, t->complete, t->first_rx, t->last_rx,
           t->cpu_user, t->cpu_sys, pct(t->hist, total, 0.5), pct(t->hist, total, 0.9),
           pct(t->hist, total, 0.99), pct(t->hist, total, 0.999), pct(t->hist, total, 1.0));
    return 0;
}
