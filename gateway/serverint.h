/* serverint.h - what the server's files share (server.c, request.c, http.c, ws.c):
 * the server itself and the per-connection data lws keeps for the "logjet" protocol.
 *
 * Internal to the server: nothing outside those four files includes it (the rest
 * of the gateway sees server.h only). Declares no functions. Every field is read and
 * written on the service thread only.
 */
#ifndef LJ_SERVERINT_H
#define LJ_SERVERINT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "server.h"
#include "sessions.h"

struct lj_session;

struct lj_server {
    struct lj_server_config cfg;
    struct lj_hub *hub;
    struct lj_sessions sessions;   /* owns every session; lent to the hub */
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct lj_buf tx;              /* frame scratch, shared by all sessions */
    lws_sorted_usec_list_t tick;
    bool shutting_down;
    struct lws_http_mount mounts[4];
    char *ui_root;                 /* realpath of cfg.ui_dir, owned; NULL without one */
    char *proxy_header;            /* "remote-user:" as lws keys custom headers; owned */
    int proxy_token;               /* lws token index when the header is a known one, else -1 */
    struct lws_protocol_vhost_options headers[6];   /* added to every response */
    struct lws_token_limits token_limits;           /* every known header's cap */
};

/* Per connection (lws's per-session data): a WebSocket session or one HTTP response
 * being written. Zeroed by lws when the connection starts. */
struct lj_server_pss {
    struct lj_session *session;    /* ws: owned by srv->sessions; NULL once closed */
    const struct lj_grant *grant;  /* from the upgrade request */
    char *body;                    /* http: owned response body */
    size_t body_len, body_off;
};

#endif
