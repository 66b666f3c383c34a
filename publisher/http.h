/* http.h - the publisher's small HTTP/1.x responder for /healthz and /metrics.
 *
 * Non-blocking and driven by the main loop: lj_http_fds lists the sockets to wait on
 * (the loop passes them to curl_multi_poll as extra fds), lj_http_process serves what
 * is ready. One GET or HEAD per connection (answered HTTP/1.0, Connection: close),
 * request line at most LJ_HTTP_LINE_MAX bytes (else 414), head at most LJ_HTTP_HEAD_MAX
 * (else 431), a whole head within LJ_HTTP_DEADLINE_MS of the accept (a slow sender is
 * dropped however it trickles), LJ_HTTP_MAX_CLIENTS connections at once. A new
 * connection never waits for a free slot: when all are taken, the one that has kept
 * its slot longest without a request is closed for it (see evict_for_new in http.c),
 * so idle or slow connections cannot starve a health check.
 * Not a general web server: no keep-alive, no request bodies, no TLS.
 */
#ifndef LJ_HTTP_H
#define LJ_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

#define LJ_HTTP_MAX_CLIENTS 64
#define LJ_HTTP_LINE_MAX 2048          /* request line, its CRLF included */
#define LJ_HTTP_HEAD_MAX 8192          /* request line and header fields, blank line included */
#define LJ_HTTP_DEADLINE_MS 5000       /* accept to whole head; a stalled write gets 1-2 of these */

/* Fills body and *content_type for path ("/metrics"); returns the HTTP status. For a
 * HEAD request the body is built as for GET and only its length is sent. */
typedef int (*lj_http_handler)(void *ctx, const char *path, struct lj_buf *body,
                               const char **content_type);

enum lj_http_method { LJ_HTTP_GET, LJ_HTTP_HEAD };

/* A parsed request head; path points into the parser's input. */
struct lj_http_request {
    enum lj_http_method method;
    const char *path;       /* origin-form target up to '?' or the end: starts with '/' */
    size_t path_len;        /* >= 1, < LJ_HTTP_LINE_MAX */
    size_t head_len;        /* bytes up to and including the blank line */
};

/* Parses the start of a request, buf[0..len), with no NUL needed. Returns
 *   0   the bytes are a valid beginning but not yet a whole head: read more;
 *   200 a whole head, *req filled (bytes after head_len are ignored);
 *   400 malformed (bad request line, bare CR, control bytes, a header without a name);
 *   405 a well-formed method other than GET or HEAD;
 *   414 no end of the request line within LJ_HTTP_LINE_MAX bytes;
 *   431 no end of the head within LJ_HTTP_HEAD_MAX bytes;
 *   505 a version other than HTTP/1.0 or HTTP/1.1.
 * The answer depends only on the bytes it has read: once nonzero for a prefix, it is
 * the same for every longer input, so a connection can be answered and closed as soon
 * as it is decided. Pure: reads at most min(len, LJ_HTTP_HEAD_MAX) bytes, no state. */
int lj_http_parse(const char *buf, size_t len, struct lj_http_request *req);

struct lj_http;

/* Listens on addr ("ADDR:PORT"). LJ_INVAL/LJ_IO with the address in err. */
lj_status lj_http_create(struct lj_http **out, const char *addr, lj_http_handler handler,
                         void *ctx, char *err, size_t errlen);
void lj_http_destroy(struct lj_http *h);    /* closes every connection; NULL is fine */

/* Writes up to max wait descriptors into fds; returns how many (at most
 * LJ_HTTP_MAX_CLIENTS + 1). */
unsigned lj_http_fds(struct lj_http *h, struct curl_waitfd *fds, unsigned max);

/* Accepts, reads and answers whatever is ready and closes connections past their
 * deadline, without blocking. Call it at least every few hundred milliseconds. */
void lj_http_process(struct lj_http *h);

#endif
