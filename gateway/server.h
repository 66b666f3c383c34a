/* server.h - the libwebsockets side: listening socket, HTTP endpoints, /ws.
 *
 * HTTP(S): GET/HEAD of / and static files from --ui-dir (lws file mount with MIME
 * types and caching headers; only files resolving inside the directory), /healthz,
 * /metrics, /api/containers; security headers on every response. WebSocket upgrades
 * are accepted on /ws only, after the Host, origin, token or proxy-user and
 * client-cap checks; each connection gets a struct lj_session, which the server owns
 * (sessions.h: created, closed and freed there, lent to the hub). Runs on the service
 * thread, which is the only thread calling into lws except lj_server_wake. Does not
 * parse tokens files, cookies or address ranges (auth, cookie, cidr do).
 *
 * Four files: server.c (the lws context, the protocol's callback, tick, shutdown),
 * request.c (reading a request and the gate), http.c (plain HTTP answers), ws.c (the
 * /ws connections); serverint.h holds what they share.
 */
#ifndef LJ_SERVER_H
#define LJ_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "cidr.h"
#include "hub.h"
#include "status.h"

struct lj_server_config {
    const char *host;            /* listen address; "" = all interfaces */
    int port;                    /* 0 = any free port */
    const char *ui_dir;          /* NULL = no static files */
    const struct lj_auth *auth;  /* NULL = no tokens required */
    const char *allowed_origins; /* see lj_auth_origin_ok */
    size_t max_clients;
    int64_t stall_ns;            /* close a session whose queue made no progress this long */
    struct lj_control_limits limits;
    int ping_secs, idle_secs;    /* keepalive ping after idle; hang up after */
    bool deflate;                /* offer permessage-deflate */
    const char *tls_cert, *tls_key;  /* PEM files; NULL = plain HTTP */
    bool check_host;             /* refuse Host headers lj_auth_host_ok refuses */
    const char *allowed_hosts;   /* --allowed-hosts, see lj_auth_host_ok */
    const char *proxy_header;    /* --auth-proxy-header name; NULL = none */
    const struct lj_cidr_list *trusted_proxies;  /* who may send proxy_header */
};

/* Bytes of one request header (or the URI) the gateway takes; at that length it answers
 * 431 (414). Cookies from an SSO proxy can be long. The whole head may take twice it. */
#define LJ_SERVER_HEADER_MAX 16384

struct lj_server;

/* Creates the lws context and listens, and lends hub the server's session list
 * (lj_hub_set_sessions). On LJ_OK *out belongs to the caller. Fails
 * (LJ_IO, LJ_INVAL, with err naming the file or address) when the UI directory, the
 * certificate or the key cannot be read, certificate and key do not match, or no
 * socket could be bound. cfg's strings must outlive the server. */
lj_status lj_server_create(const struct lj_server_config *cfg, struct lj_hub *hub,
                           struct lj_server **out, char *err, size_t errlen);

/* Destroys the lws context (lws closes every connection left), then frees every
 * session, detaching its taps from hub, and takes the list back from hub. hub must
 * still be alive. NULL is fine. */
void lj_server_destroy(struct lj_server *s);

/* The port actually listened on. */
int lj_server_port(const struct lj_server *s);

/* Serves until *stop becomes true, then closes every client with 1001 (going away)
 * and waits up to 3 s for them to go. Whenever *reload (may be NULL) is found true
 * it is cleared and the TLS certificate and key are read again (logged either way).
 * Service thread; wake it (lj_server_wake) after setting either flag. */
void lj_server_run(struct lj_server *s, atomic_bool *stop, atomic_bool *reload);

/* Wakes the service loop. Any thread, and async-signal context. arg is the server. */
void lj_server_wake(void *arg);

#endif
