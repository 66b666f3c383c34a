/* http.h - the publisher's minimal HTTP/1.0 server for /healthz and /metrics.
 *
 * Non-blocking and driven by the main loop: lj_http_fds lists the sockets to wait on
 * (the loop passes them to curl_multi_poll as extra fds), lj_http_process serves what
 * is ready. One request per connection, GET only, 8 KiB request limit, at most
 * LJ_HTTP_MAX_CLIENTS at once; a client that sends nothing for 5 s is dropped.
 * Not a general web server, and never exposed beyond loopback by default.
 */
#ifndef LJ_HTTP_H
#define LJ_HTTP_H

#include <curl/curl.h>

#include "buf.h"
#include "status.h"

#define LJ_HTTP_MAX_CLIENTS 16

/* Fills body and *content_type for path ("/metrics"); returns the HTTP status. */
typedef int (*lj_http_handler)(void *ctx, const char *path, struct lj_buf *body,
                               const char **content_type);

struct lj_http;

/* Listens on addr ("ADDR:PORT"). LJ_INVAL/LJ_IO with the address in err. */
lj_status lj_http_create(struct lj_http **out, const char *addr, lj_http_handler handler,
                         void *ctx, char *err, size_t errlen);
void lj_http_destroy(struct lj_http *h);

/* Writes up to max wait descriptors into fds; returns how many. */
unsigned lj_http_fds(struct lj_http *h, struct curl_waitfd *fds, unsigned max);

/* Accepts, reads and answers whatever is ready, without blocking. */
void lj_http_process(struct lj_http *h);

#endif
