/* request.h - reading one request, plain HTTP or WebSocket upgrade, for the server:
 * its headers, path and peer, the grant its token or trusted proxy user gives, and
 * the gate every request passes before anything is served (a header or the URI at
 * its cap, a request body, the Host, a user header from an untrusted peer).
 *
 * Only reads what lws parsed and logs refusals (never a secret). It does not answer,
 * write or close (http.c and ws.c do), and does not parse tokens files, cookies or
 * address ranges itself (auth, cookie, cidr do). Service thread only, inside an lws
 * callback of the request's own connection.
 */
#ifndef LJ_REQUEST_H
#define LJ_REQUEST_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth.h"

struct lj_server;

/* A request header's whole value on the heap (the caller frees it), or NULL when it
 * is absent or memory runs out. */
char *lj_request_header_dup(struct lws *wsi, enum lws_token_indexes t);

/* true when the request carries header t (with a value). */
bool lj_request_header_present(struct lws *wsi, enum lws_token_indexes t);

/* The peer's address as text, written into buf (n bytes); returns buf. */
const char *lj_request_peer_name(struct lws *wsi, char *buf, size_t n);

/* The grant for this request (owned by the server's auth, or lj_grant_all() without
 * tokens), or NULL when refused; *status then says 401 (missing or unknown token) or
 * 403 (a trusted proxy's user the tokens file does not name, logged). */
const struct lj_grant *lj_request_grant(struct lj_server *srv, struct lws *wsi, unsigned *status);

/* true when the Origin header, if any, is allowed (lj_auth_origin_ok). */
bool lj_request_origin_ok(struct lj_server *srv, struct lws *wsi);

/* Copies the request's path (without the query) into uri (n bytes) and sets *method
 * (an LWSHUMETH_ value, negative without one). Returns uri, or "" when the request has
 * no path or it does not fit. */
const char *lj_request_path(struct lws *wsi, char *uri, size_t n, int *method);

/* true when the request's path is exactly want. */
bool lj_request_path_is(struct lws *wsi, const char *want);

/* What the gate answers a request it refuses. */
struct lj_request_refusal {
    unsigned status;     /* 0: go on */
    const char *reason;  /* logged */
    const char *text;    /* answered */
};

/* The checks that do not depend on what is asked for: 414 or 431 for the URI or a
 * header at its cap (LJ_SERVER_HEADER_MAX), 400 for Transfer-Encoding, 403 for a Host
 * lj_auth_host_ok refuses (path /healthz and /metrics take any Host) or for the proxy
 * user header from an untrusted peer. Logs each refusal. status 0: go on. */
struct lj_request_refusal lj_request_gate(struct lj_server *srv, struct lws *wsi, const char *path);

#endif
