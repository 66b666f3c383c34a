/* http.h - the server's plain HTTP side: the dynamic endpoints (/healthz, /metrics,
 * /api/containers) with their answers written in chunks, the filter every plain
 * request passes (the gate, GET and HEAD only, --ui-dir containment, HEAD of a
 * static file), and the answer-and-close used for refusals.
 *
 * Static files themselves are served by lws's file mount (set up in server.c); this
 * module only decides whether a path may reach it. Does not handle WebSocket
 * connections (ws.c) or read tokens (request.c). Service thread only, inside lws
 * callbacks of the request's own connection.
 */
#ifndef LJ_HTTP_H
#define LJ_HTTP_H

#include <libwebsockets.h>

struct lj_server;
struct lj_server_pss;

/* LWS_CALLBACK_HTTP: answers a dynamic endpoint (404 for any other path). The body
 * is owned by pss until written (lj_http_writable) or the connection closes. Returns
 * what the callback returns to lws (nonzero: close). */
int lj_http_request(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss);

/* LWS_CALLBACK_HTTP_WRITEABLE: writes the next chunk (16 KB) of pss's body, frees it
 * after the last one and completes the transaction. Returns as lj_http_request. */
int lj_http_writable(struct lws *wsi, struct lj_server_pss *pss);

/* LWS_CALLBACK_FILTER_HTTP_CONNECTION: refuses (answering, then closing) a request
 * the gate refuses, a method other than GET or HEAD, and a static path outside
 * --ui-dir; answers HEAD of a static file itself. 0 lets lws serve the request. */
int lj_http_filter(struct lj_server *srv, struct lws *wsi);

/* Answers status with text (text/plain) and Connection: close, from a filter
 * callback. Returns nonzero, which that callback returns to have lws close. */
int lj_http_refuse(struct lws *wsi, unsigned status, const char *text);

#endif
