/* server.c - libwebsockets glue: one protocol ("logjet") handles the dynamic HTTP
 * endpoints and the /ws connections; static files come from an lws file mount.
 *
 * Every request, plain or upgrade, first passes request_gate (a header at its size
 * cap, Transfer-Encoding, Host, the proxy's user header from untrusted peers) from
 * lws's filter callbacks,
 * which answer a refusal themselves and close; plain requests then pass the method
 * and --ui-dir containment checks (http_filter). The security headers are the
 * vhost's header list, which lws adds to every response it or we write. TLS is lws's
 * (OpenSSL); this file only checks the pair first (tls.c) and reloads it on request.
 *
 * Rules kept here: exactly one lws_write per writable callback; a session is never
 * freed in a callback of its own connection (CLOSED hands it to the hub, which frees
 * it on its next tick); lines reach this thread only through the hub (rings read by
 * the sessions' cursors).
 */
#include "server.h"

#include <libwebsockets.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cookie.h"
#include "join.h"
#include "session.h"
#include "log.h"
#include "timeutil.h"
#include "tls.h"

#define HTTP_CHUNK 16384

struct lj_server {
    struct lj_server_config cfg;
    struct lj_hub *hub;
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

/* Request header sizes. lws 4.1 closes a connection whose request head overflows its
 * header space inside lws_parse, before any callback (nothing can answer). So every
 * header lws knows is capped at LJ_SERVER_HEADER_MAX by its token limits (the rest of
 * a longer one is skipped, not stored), the space holds twice that, and request_gate
 * answers 431 for a header that reached its cap: a header that alone is too long gets
 * an answer. Headers lws does not know are not capped; a head over the whole space is
 * still closed unanswered. */
#define LJ_SERVER_HEADER_SPACE (2 * LJ_SERVER_HEADER_MAX)

/* Per connection: a WebSocket session or one HTTP response being written. */
struct pss {
    struct lj_session *session;    /* ws: owned by the hub's list */
    const struct lj_grant *grant;  /* from the upgrade request */
    char *body;                    /* http: owned response body */
    size_t body_len, body_off;
};

static struct lj_server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ---- request inspection ---- */

/* A request header's whole value on the heap (the caller frees), or NULL when absent
 * or out of memory. No fixed buffer: a long header must never read as "absent". */
static char *header_dup(struct lws *wsi, enum lws_token_indexes t)
{
    int n = lws_hdr_total_length(wsi, t);
    char *v;
    if (n <= 0 || !(v = malloc((size_t)n + 1)))
        return NULL;
    if (lws_hdr_copy(wsi, v, n + 1, t) < 0) {
        free(v);
        return NULL;
    }
    return v;
}

static bool header_present(struct lws *wsi, enum lws_token_indexes t)
{
    return lws_hdr_total_length(wsi, t) > 0;
}

/* The token from a logjet_token cookie. Every Cookie header is parsed on its own
 * (lws joins repeated Cookie headers without a separator). The buffer holds all the
 * header space lws has, so no Cookie header is too long to read. */
static bool cookie_token(struct lws *wsi, char *tok, size_t n)
{
    bool found = false;
    char *frag;
    if (!header_present(wsi, WSI_TOKEN_HTTP_COOKIE) || !(frag = malloc(LJ_SERVER_HEADER_MAX + 1)))
        return false;
    for (int i = 0; !found; i++) {
        int len = lws_hdr_copy_fragment(wsi, frag, LJ_SERVER_HEADER_MAX + 1, WSI_TOKEN_HTTP_COOKIE, i);
        if (len < 0)
            break;   /* no fragment i */
        found = lj_cookie_get(frag, (size_t)len, "logjet_token", tok, n);
        memset(frag, 0, (size_t)len);
    }
    free(frag);
    return found;
}

/* Copies the request's token (query, bearer header, or cookie) into tok. */
static bool request_token(struct lws *wsi, char *tok, size_t n)
{
    char hdr[LJ_AUTH_TOKEN_MAX + 64];
    const char *p;

    char arg[LJ_AUTH_TOKEN_MAX + 16];
    if ((p = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof(arg))) && *p) {
        snprintf(tok, n, "%s", p);
        memset(arg, 0, sizeof(arg));
        return true;
    }
    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) > 7
        && strncasecmp(hdr, "Bearer ", 7) == 0) {
        size_t k = strnlen(hdr + 7, n - 1);
        memcpy(tok, hdr + 7, k);
        tok[k] = '\0';
        memset(hdr, 0, sizeof(hdr));
        return k > 0;
    }
    return cookie_token(wsi, tok, n);
}

/* The peer's address; false when it cannot be read. */
static bool peer_addr(struct lws *wsi, struct sockaddr_storage *ss)
{
    socklen_t len = sizeof(*ss);
    lws_sockfd_type fd = lws_get_socket_fd(wsi);
    return fd >= 0 && getpeername(fd, (struct sockaddr *)ss, &len) == 0;
}

static const char *peer_name(struct lws *wsi, char *buf, size_t n)
{
    lws_get_peer_simple(wsi, buf, n);
    return buf;
}

/* The --auth-proxy-header value (owned by the caller), or NULL when the request has none. */
static char *proxy_user(struct lj_server *srv, struct lws *wsi)
{
    if (!srv->proxy_header)
        return NULL;
    if (srv->proxy_token >= 0)
        return header_dup(wsi, (enum lws_token_indexes)srv->proxy_token);
    int nlen = (int)strlen(srv->proxy_header);
    int n = lws_hdr_custom_length(wsi, srv->proxy_header, nlen);
    char *v;
    if (n < 0 || !(v = malloc((size_t)n + 1)))
        return NULL;
    if (lws_hdr_custom_copy(wsi, v, n + 1, srv->proxy_header, nlen) < 0) {
        free(v);
        return NULL;
    }
    return v;
}

static bool from_trusted_proxy(struct lj_server *srv, struct lws *wsi)
{
    struct sockaddr_storage ss;
    return srv->cfg.trusted_proxies && peer_addr(wsi, &ss)
           && lj_cidr_match(srv->cfg.trusted_proxies, (struct sockaddr *)&ss);
}

/* The grant for this request, or NULL when refused (*status then says 401 for a
 * missing or unknown token, 403 for a user the tokens file does not name). A trusted
 * proxy's user header wins over any token the request carries (the proxy has
 * authenticated the person); without it a request is judged by its token. */
static const struct lj_grant *request_grant(struct lj_server *srv, struct lws *wsi, unsigned *status)
{
    char tok[LJ_AUTH_TOKEN_MAX + 2];
    const struct lj_grant *g;
    char *user;
    *status = 401;
    if (!srv->cfg.auth)
        return lj_grant_all();
    if ((user = proxy_user(srv, wsi)) && !*user) {
        free(user);   /* an empty header names nobody (a proxy's anonymous route): token */
        user = NULL;
    }
    if (user) {
        g = from_trusted_proxy(srv, wsi) ? lj_auth_user(srv->cfg.auth, user) : NULL;
        if (!g) {
            char q[300], peer[64];
            *status = 403;
            lj_log(LJ_LOG_WARN, "request refused", "reason=unknown_user user=%s peer=%s",
                   lj_log_quote(q, sizeof(q), user), peer_name(wsi, peer, sizeof(peer)));
        }
        free(user);
        return g;
    }
    if (!request_token(wsi, tok, sizeof(tok)))
        return NULL;
    g = lj_auth_check(srv->cfg.auth, tok);
    memset(tok, 0, sizeof(tok));
    return g;
}

static bool origin_ok(struct lj_server *srv, struct lws *wsi)
{
    char *origin = header_dup(wsi, WSI_TOKEN_ORIGIN), *host = header_dup(wsi, WSI_TOKEN_HOST);
    bool ok = (origin || !header_present(wsi, WSI_TOKEN_ORIGIN))
              && lj_auth_origin_ok(srv->cfg.allowed_origins, origin, host ? host : "");
    free(origin);
    free(host);
    return ok;
}

/* The request's path (without the query), or "" when it has none. */
static const char *request_path(struct lws *wsi, char *uri, size_t n, int *method)
{
    char *p = NULL;
    int len = 0;
    *method = lws_http_get_uri_and_method(wsi, &p, &len);
    if (*method < 0 || !p || len <= 0 || (size_t)len >= n)
        return "";
    memcpy(uri, p, (size_t)len);
    uri[len] = '\0';
    return uri;
}

static bool path_is(struct lws *wsi, const char *want)
{
    char uri[256];
    int method;
    return strcmp(request_path(wsi, uri, sizeof(uri), &method), want) == 0;
}

/* true when path names a file that resolves (symbolic links followed) inside the UI
 * directory, or names nothing (lws then answers 404). A link that leads outside
 * is refused: only what the directory itself holds is served. lws opens the file
 * after this check, so a link swapped in between wins that race: the directory is
 * the operator's, and the check is against links already in it. */
static bool static_path_ok(struct lj_server *srv, const char *path)
{
    char file[PATH_MAX], real[PATH_MAX];
    size_t rl = strlen(srv->ui_root);
    const char *def = path[strlen(path) - 1] == '/' ? "index.html" : "";
    if (snprintf(file, sizeof(file), "%s%s%s", srv->cfg.ui_dir, path, def) >= (int)sizeof(file))
        return false;
    if (!realpath(file, real))
        return true;   /* absent: lws says 404 */
    return strncmp(real, srv->ui_root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0');
}

/* ---- HTTP endpoints ---- */

/* Answers with status and body (owned from here). A HEAD request gets the same
 * headers, Content-Length included, and no body: a body there would be read as the
 * start of the next response on a kept-alive connection. */
static int http_reply(struct lws *wsi, struct pss *pss, int status, const char *type, char *body,
                      size_t len)
{
    uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    pss->body = body;
    pss->body_len = len;
    pss->body_off = 0;
    if (lws_add_http_common_headers(wsi, (unsigned)status, type, len, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                        (const unsigned char *)"no-store", 8, &p, end)
        || lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    if (header_present(wsi, WSI_TOKEN_HEAD_URI)) {
        free(pss->body);
        pss->body = NULL;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

/* Answers status and closes the connection, for requests answered before lws serves
 * anything (its filter callbacks). body may be NULL (HEAD: headers only, content_len
 * still the length a GET would get). Returns nonzero, which is what those callbacks
 * return to have lws close. */
static int http_answer_close(struct lws *wsi, unsigned status, const char *type, size_t content_len,
                             const char *body)
{
    uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    size_t bl = body ? strlen(body) : 0;
    if (lws_add_http_common_headers(wsi, status, type, content_len, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end)
        || lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < bl)
        return 1;
    memcpy(p, body ? body : "", bl);
    p += bl;
    lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
    return 1;
}

static int http_refuse(struct lws *wsi, unsigned status, const char *text)
{
    return http_answer_close(wsi, status, "text/plain", strlen(text), text);
}

static int http_text(struct lws *wsi, struct pss *pss, int status, const char *type, const char *text)
{
    char *body = strdup(text);
    return body ? http_reply(wsi, pss, status, type, body, strlen(body)) : 1;
}

static int http_containers(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    unsigned status;
    const struct lj_grant *g = request_grant(srv, wsi, &status);
    struct lj_buf b;
    if (!g && status == 403)
        return http_text(wsi, pss, 403, "application/json",
                         "{\"error\":\"forbidden\",\"message\":\"user not in the tokens file\"}");
    if (!g)
        return http_text(wsi, pss, 401, "application/json",
                         "{\"error\":\"unauthorized\",\"message\":\"missing or unknown token\"}");
    lj_buf_init(&b);
    lj_buf_append(&b, "{\"containers\":[", 15);
    lj_hub_containers_json(srv->hub, g, &b);
    lj_buf_append(&b, "]}", 2);
    size_t len = b.len;
    return http_reply(wsi, pss, 200, "application/json", b.data, len);
}

static int http_request(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    struct lj_buf b;
    if (path_is(wsi, "/healthz")) {
        char why[600], text[640];
        bool up = lj_hub_nats_healthy(srv->hub, why, sizeof(why));
        snprintf(text, sizeof(text), "nats not ready: %s\n", why);
        return http_text(wsi, pss, up ? 200 : 503, "text/plain", up ? "ok\n" : text);
    }
    if (path_is(wsi, "/metrics")) {
        lj_buf_init(&b);
        lj_hub_metrics(srv->hub, &b);
        size_t len = b.len;
        return http_reply(wsi, pss, 200, "text/plain; version=0.0.4", b.data, len);
    }
    if (path_is(wsi, "/api/containers"))
        return http_containers(srv, wsi, pss);
    return http_text(wsi, pss, 404, "text/plain", "not found\n");
}

static int http_writable(struct lws *wsi, struct pss *pss)
{
    uint8_t buf[LWS_PRE + HTTP_CHUNK];
    size_t n = pss->body_len - pss->body_off;
    if (!pss->body)
        return 0;
    if (n > HTTP_CHUNK)
        n = HTTP_CHUNK;
    memcpy(buf + LWS_PRE, pss->body + pss->body_off, n);
    pss->body_off += n;
    bool final = pss->body_off == pss->body_len;
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return 1;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(pss->body);
    pss->body = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- the gate every request passes, HTTP or upgrade, before anything is served ---- */

struct refusal {
    unsigned status;     /* 0: go on */
    const char *reason;  /* logged */
    const char *text;    /* answered */
};

/* Checks that do not depend on what is asked for. Logged here, without secrets. */
/* 0, or the answer to a request one of whose headers (one fragment: repeated headers
 * are fragments) reached its cap, so that lws kept only its beginning: 414 for the
 * request line's URI, which is capped the same way, 431 for a header. */
static unsigned header_capped(struct lws *wsi)
{
    char *uri;
    int uri_len;
    if (lws_http_get_uri_and_method(wsi, &uri, &uri_len) >= 0 && uri_len >= LJ_SERVER_HEADER_MAX)
        return 414;
    for (int t = 0; t < (int)WSI_TOKEN_COUNT; t++)
        for (int i = 0; i < 64 && header_present(wsi, (enum lws_token_indexes)t); i++) {
            int n = lws_hdr_fragment_length(wsi, (enum lws_token_indexes)t, i);
            if (n <= 0)
                break;
            if (n >= LJ_SERVER_HEADER_MAX)
                return 431;
        }
    return 0;
}

static struct refusal request_gate(struct lj_server *srv, struct lws *wsi, const char *path)
{
    char peer[64];
    struct refusal r = { 0, NULL, NULL };

    unsigned capped = header_capped(wsi);
    if (capped == 414) {
        r = (struct refusal){ 414, "uri_too_long", "request URI too long\n" };
    } else if (capped) {
        r = (struct refusal){ 431, "header_too_large", "request header too large\n" };
    } else if (header_present(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)) {
        /* No endpoint takes a body; a chunked one would be read as the next request. */
        r = (struct refusal){ 400, "transfer_encoding", "request bodies are not accepted\n" };
    } else if (srv->cfg.check_host && strcmp(path, "/healthz") != 0 && strcmp(path, "/metrics") != 0) {
        /* /healthz and /metrics name no container: probes and scrapers may use any Host. */
        char *host = header_dup(wsi, WSI_TOKEN_HOST);
        if ((host || !header_present(wsi, WSI_TOKEN_HOST)) && lj_auth_host_ok(srv->cfg.allowed_hosts, host)) {
            free(host);
        } else {
            char q[300];
            lj_log(LJ_LOG_WARN, "request refused", "reason=host host=%s peer=%s",
                   lj_log_quote(q, sizeof(q), host ? host : "(too long)"), peer_name(wsi, peer, sizeof(peer)));
            free(host);
            return (struct refusal){ 403, NULL, "host not allowed (see --allowed-hosts)\n" };
        }
    }
    if (!r.status && srv->proxy_header) {
        char *user = proxy_user(srv, wsi);
        if (user && !from_trusted_proxy(srv, wsi))
            r = (struct refusal){ 403, "proxy_header_untrusted", "user header from an untrusted address\n" };
        free(user);
    }
    if (r.reason)
        lj_log(LJ_LOG_WARN, "request refused", "reason=%s peer=%s", r.reason, peer_name(wsi, peer, sizeof(peer)));
    return r;
}

/* HEAD of a static file, answered here: lws 4.1's file mount answers a HEAD but then
 * misreads the next request on the connection (it got 403). Connection: close keeps
 * the exchange unambiguous. path is already known to resolve inside the UI dir. */
static int head_static(struct lj_server *srv, struct lws *wsi, const char *path)
{
    char file[PATH_MAX];
    struct stat st;
    const char *type;
    const char *def = path[strlen(path) - 1] == '/' ? "index.html" : "";
    if (snprintf(file, sizeof(file), "%s%s%s", srv->cfg.ui_dir, path, def) >= (int)sizeof(file)
        || stat(file, &st) != 0 || !S_ISREG(st.st_mode))
        return http_answer_close(wsi, 404, "text/plain", 10, NULL);
    if (!(type = lws_get_mimetype(file, &srv->mounts[3])))
        return http_answer_close(wsi, 415, "text/plain", 0, NULL);
    return http_answer_close(wsi, 200, type, (size_t)st.st_size, NULL);
}

static bool is_dynamic(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 || strcmp(path, "/api/containers") == 0;
}

/* LWS_CALLBACK_FILTER_HTTP_CONNECTION: plain HTTP requests (not upgrades). */
static int http_filter(struct lj_server *srv, struct lws *wsi)
{
    char uri[1024];
    int method;
    const char *path = request_path(wsi, uri, sizeof(uri), &method);
    struct refusal r = request_gate(srv, wsi, path);

    if (r.status)
        return http_refuse(wsi, r.status, r.text);
    if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD)
        return http_refuse(wsi, 405, "only GET and HEAD\n");
    if (!srv->ui_root || is_dynamic(path))
        return 0;
    if (!static_path_ok(srv, path)) {
        char q[300], peer[64];
        lj_log(LJ_LOG_WARN, "request refused", "reason=outside_ui_dir path=%s peer=%s",
               lj_log_quote(q, sizeof(q), path), peer_name(wsi, peer, sizeof(peer)));
        return http_refuse(wsi, 404, "not found\n");
    }
    return method == LWSHUMETH_HEAD ? head_static(srv, wsi, path) : 0;
}

/* ---- WebSocket ---- */

static int ws_filter(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    const struct lj_grant *g;
    char peer[64];
    struct refusal r = request_gate(srv, wsi, "/ws");
    if (r.status)
        return http_refuse(wsi, r.status, r.text);
    if (!path_is(wsi, "/ws") || srv->shutting_down)
        return 1;
    if (!origin_ok(srv, wsi)) {
        lj_log(LJ_LOG_INFO, "websocket refused", "reason=origin peer=%s", peer_name(wsi, peer, sizeof(peer)));
        return http_refuse(wsi, 403, "origin not allowed\n");
    }
    unsigned status;
    if (!(g = request_grant(srv, wsi, &status))) {
        lj_log(LJ_LOG_INFO, "websocket refused", "reason=%s peer=%s", status == 403 ? "user" : "token",
               peer_name(wsi, peer, sizeof(peer)));
        return http_refuse(wsi, status, status == 403 ? "user not in the tokens file\n"
                                                      : "missing or unknown token\n");
    }
    if (lj_hub_session_count(srv->hub) >= srv->cfg.max_clients) {
        lj_log(LJ_LOG_WARN, "websocket refused", "reason=max_clients");
        return 1;
    }
    if (pss)
        pss->grant = g;
    return 0;
}

static int ws_established(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    unsigned status;
    const struct lj_grant *g = pss->grant ? pss->grant : request_grant(srv, wsi, &status);
    struct lj_session_ops ops;
    lj_join_session_ops(srv->hub, &ops);
    if (!g || lj_session_create(&ops, wsi, g, &srv->cfg.limits, &pss->session) != LJ_OK)
        return -1;
    lj_hub_session_add(srv->hub, pss->session);
    lws_callback_on_writable(wsi);
    return 0;
}

static int ws_writable(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    struct lj_session *s = pss->session;
    if (!s)
        return 0;
    if (srv->shutting_down) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"shutting down", 13);
        return -1;
    }
    /* Exactly one lws_write per writable callback (with permessage-deflate lws may keep
     * part of a frame; a second write in the same callback could interleave with it).
     * Each frame already batches every queued line of a subscription up to max_frame. */
    if (!lj_session_next_frame(s, &srv->tx, LWS_PRE))
        return 0;
    size_t len = srv->tx.len - LWS_PRE;
    if (lws_write(wsi, (unsigned char *)srv->tx.data + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    if (lj_session_pending(s))
        lws_callback_on_writable(wsi);
    return 0;
}

static int ws_receive(struct lws *wsi, struct pss *pss, void *in, size_t len)
{
    struct lj_session *s = pss->session;
    if (!s)
        return -1;
    if (lws_frame_is_binary(wsi))
        return 0;   /* the protocol is text only; binary frames are ignored */
    if (lj_session_receive(s, in, len, lws_is_final_fragment(wsi)) == LJ_LIMIT) {
        static const char why[] = "too many errors or unread answers";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, sizeof why - 1);
        return -1;
    }
    if (lj_session_pending(s))
        lws_callback_on_writable(wsi);
    return 0;
}

static void ws_closed(struct lj_server *srv, struct pss *pss)
{
    if (pss->session)
        lj_hub_session_closed(srv->hub, pss->session);   /* freed on a later tick */
    pss->session = NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lj_server *srv = server_of(wsi);
    struct pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (srv)
            lj_hub_service(srv->hub);
        return 0;
    case LWS_CALLBACK_HTTP:
        return http_request(srv, wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writable(wsi, pss);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            free(pss->body);
            pss->body = NULL;
        }
        break;
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
        return http_filter(srv, wsi);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(srv, wsi, pss);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(srv, wsi, pss);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writable(srv, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(wsi, pss, in, len);
    case LWS_CALLBACK_CLOSED:
        ws_closed(srv, pss);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { .name = "logjet", .callback = callback, .per_session_data_size = sizeof(struct pss),
      .rx_buffer_size = LJ_CONTROL_FRAME_MAX },
    { 0 },
};

static const struct lws_extension extensions[] = {
    { "permessage-deflate", lws_extension_callback_pm_deflate,
      "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
    { NULL, NULL, NULL },
};

/* MIME types lws does not know by itself. */
static const struct lws_protocol_vhost_options mime_wasm = { NULL, NULL, ".wasm", "application/wasm" };
static const struct lws_protocol_vhost_options mime_map = { &mime_wasm, NULL, ".map", "application/json" };
static const struct lws_protocol_vhost_options mime_manifest = { &mime_map, NULL, ".webmanifest",
                                                                 "application/manifest+json" };
static const struct lws_protocol_vhost_options mime_json = { &mime_manifest, NULL, ".json", "application/json" };
static const struct lws_protocol_vhost_options mime_svg = { &mime_json, NULL, ".svg", "image/svg+xml" };
static const struct lws_protocol_vhost_options mime_mjs = { &mime_svg, NULL, ".mjs", "text/javascript" };

static void mount_callback(struct lws_http_mount *m, const char *path, struct lws_http_mount *next)
{
    memset(m, 0, sizeof(*m));
    m->mount_next = next;
    m->mountpoint = path;
    m->protocol = "logjet";
    m->origin_protocol = LWSMPRO_CALLBACK;
    m->mountpoint_len = (unsigned char)strlen(path);
}

/* Dynamic endpoints, and the UI directory at "/" when given. */
static void setup_mounts(struct lj_server *srv)
{
    struct lws_http_mount *files = NULL;
    if (srv->cfg.ui_dir) {
        files = &srv->mounts[3];
        memset(files, 0, sizeof(*files));
        files->mountpoint = "/";
        files->mountpoint_len = 1;
        files->origin = srv->cfg.ui_dir;
        files->def = "index.html";
        files->origin_protocol = LWSMPRO_FILE;
        files->extra_mimetypes = &mime_mjs;
        files->cache_max_age = 60;        /* seconds; then revalidate */
        files->cache_reusable = 1;
        files->cache_revalidate = 1;
    }
    mount_callback(&srv->mounts[2], "/api/containers", files);
    mount_callback(&srv->mounts[1], "/metrics", &srv->mounts[2]);
    mount_callback(&srv->mounts[0], "/healthz", &srv->mounts[1]);
}

static void tick_close(struct lj_session *s)
{
    /* A stalled client cannot take a close frame: drop the connection outright. */
    if (s->wsi)
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    s->closing = true;
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct lj_server *srv = lws_container_of(sul, struct lj_server, tick);
    lj_hub_service(srv->hub);
    lj_hub_tick(srv->hub, tick_close);
    lws_sul_schedule(srv->ctx, 0, &srv->tick, tick, LWS_US_PER_SEC);
}

static void lws_log_line(int level, const char *line)
{
    char msg[512], quoted[600];
    snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(line, "\n"), line);
    lj_log(level == LLL_ERR ? LJ_LOG_ERROR : LJ_LOG_WARN, "libwebsockets", "detail=%s",
           lj_log_quote(quoted, sizeof(quoted), msg));
}

static void request_writable(void *wsi)
{
    lws_callback_on_writable(wsi);
}

/* The headers every response carries (lws adds a vhost's list to every status line,
 * its own error pages and file mounts included). The UI loads only its own files and
 * opens only its own WebSocket; CSP 'self' covers ws: and wss: to the same host. */
static void setup_headers(struct lj_server *srv)
{
    static const char *const fixed[][2] = {
        { "content-security-policy:", "default-src 'none'; script-src 'self'; style-src 'self'; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'" },
        { "x-content-type-options:", "nosniff" },
        { "referrer-policy:", "no-referrer" },
        { "x-frame-options:", "DENY" },
        { "strict-transport-security:", "max-age=31536000" },
    };
    size_t n = srv->cfg.tls_cert ? 5 : 4;   /* HSTS only over TLS (RFC 6797 7.2) */
    for (size_t i = 0; i < n; i++) {
        struct lws_protocol_vhost_options *h = &srv->headers[i];
        memset(h, 0, sizeof(*h));
        h->name = fixed[i][0];
        h->value = fixed[i][1];
        h->next = i + 1 < n ? &srv->headers[i + 1] : NULL;
    }
}

/* Prepares --auth-proxy-header: lws keys unknown headers by their lower-cased name
 * with its colon, and known ones by token index. */
static lj_status setup_proxy_header(struct lj_server *srv, const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    srv->proxy_token = -1;
    if (n == 0 || n > 64 || strcspn(name, ":\r\n \t") != n)
        return lj_fail(err, errlen, LJ_INVAL, "--auth-proxy-header '%s' is not a header name", name);
    if (!(srv->proxy_header = malloc(n + 2)))
        return LJ_NOMEM;
    for (size_t i = 0; i < n; i++)
        srv->proxy_header[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    memcpy(srv->proxy_header + n, ":", 2);
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        const unsigned char *known = lws_token_to_string((enum lws_token_indexes)t);
        if (known && strcmp((const char *)known, srv->proxy_header) == 0)
            srv->proxy_token = t;
    }
    return LJ_OK;
}

static const lws_retry_bo_t keepalive_policy_default = {
    .secs_since_valid_ping = 30, .secs_since_valid_hangup = 75,
};

lj_status lj_server_create(const struct lj_server_config *cfg, struct lj_hub *hub,
                           struct lj_server **out, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    struct lj_server *srv = calloc(1, sizeof(*srv));
    static lws_retry_bo_t keepalive;

    if (!srv)
        return LJ_NOMEM;
    srv->cfg = *cfg;
    srv->hub = hub;
    lj_buf_init(&srv->tx);
    if (cfg->ui_dir && !(srv->ui_root = realpath(cfg->ui_dir, NULL))) {
        lj_status st = lj_fail(err, errlen, LJ_IO, "--ui-dir %s: %s", cfg->ui_dir, strerror(errno));
        lj_server_destroy(srv);
        return st;
    }
    if (cfg->proxy_header) {
        lj_status st = setup_proxy_header(srv, cfg->proxy_header, err, errlen);
        if (st != LJ_OK) {
            lj_server_destroy(srv);
            return st;
        }
    }
    if (cfg->tls_cert) {
        lj_status st = lj_tls_check(cfg->tls_cert, cfg->tls_key, err, errlen);
        if (st != LJ_OK) {
            lj_server_destroy(srv);
            return st;
        }
    }
    setup_mounts(srv);
    setup_headers(srv);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);

    keepalive = keepalive_policy_default;
    if (cfg->ping_secs > 0)
        keepalive.secs_since_valid_ping = (uint16_t)cfg->ping_secs;
    if (cfg->idle_secs > 0)
        keepalive.secs_since_valid_hangup = (uint16_t)cfg->idle_secs;

    memset(&info, 0, sizeof(info));
    info.port = cfg->port ? cfg->port : CONTEXT_PORT_NO_LISTEN_SERVER;
    info.iface = cfg->host && *cfg->host ? cfg->host : NULL;
    info.protocols = protocols;
    info.mounts = &srv->mounts[0];
    info.extensions = cfg->deflate ? extensions : NULL;
    info.user = srv;
    info.retry_and_idle_policy = &keepalive;
    info.timeout_secs = 20;
    info.headers = &srv->headers[0];
    info.max_http_header_data = LJ_SERVER_HEADER_SPACE;
    for (int t = 0; t < (int)WSI_TOKEN_COUNT; t++)
        srv->token_limits.token_limit[t] = LJ_SERVER_HEADER_MAX;
    info.token_limits = &srv->token_limits;
    /* A listener that cannot bind fails the start instead of logging and serving nothing. */
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6
                   | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (cfg->host && strchr(cfg->host, ':'))
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    if (cfg->tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        /* TLS 1.2 and 1.3 only. HTTP/1.1 only: every request of a connection then has
         * its own lws connection, which the request gate and /ws rely on. */
        info.ssl_options_set = (long)(SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1
                                      | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
        info.ssl_cipher_list = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!SHA1:!RC4:!3DES";
        info.alpn = "http/1.1";
    }
    info.fd_limit_per_thread = (unsigned)(cfg->max_clients + 256);
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        lj_server_destroy(srv);
        return lj_fail(err, errlen, LJ_IO, "cannot listen on %s:%d", cfg->host && *cfg->host ? cfg->host : "*",
                       cfg->port);
    }
    srv->vhost = lws_get_vhost_by_name(srv->ctx, "default");
    if (cfg->port > 0 && (!srv->vhost || lws_get_vhost_listen_port(srv->vhost) <= 0)) {
        lj_server_destroy(srv);
        return lj_fail(err, errlen, LJ_IO, "cannot listen on %s:%d: no listening socket",
                       cfg->host && *cfg->host ? cfg->host : "*", cfg->port);
    }
    lj_hub_set_writable(hub, request_writable);
    lws_sul_schedule(srv->ctx, 0, &srv->tick, tick, LWS_US_PER_SEC);
    *out = srv;
    return LJ_OK;
}

int lj_server_port(const struct lj_server *s)
{
    return s->vhost ? lws_get_vhost_listen_port(s->vhost) : s->cfg.port;
}

void lj_server_wake(void *arg)
{
    struct lj_server *srv = arg;
    if (srv && srv->ctx)
        lws_cancel_service(srv->ctx);
}

static void say_goodbye(struct lj_session *s)
{
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

/* SIGHUP: the certificate and key are read again. The pair is checked first, so a
 * half-written or mismatched pair leaves the serving one in place; connections
 * already open keep the certificate they started with. */
static void reload_tls(struct lj_server *srv)
{
    char err[512], q[600];
    if (!srv->cfg.tls_cert) {
        lj_log(LJ_LOG_INFO, "reload: nothing to reload", "reason=no_tls");
        return;
    }
    if (lj_tls_check(srv->cfg.tls_cert, srv->cfg.tls_key, err, sizeof(err)) != LJ_OK) {
        lj_log(LJ_LOG_ERROR, "certificate not reloaded", "error=%s", lj_log_quote(q, sizeof(q), err));
        return;
    }
    if (lws_tls_cert_updated(srv->ctx, srv->cfg.tls_cert, srv->cfg.tls_key, NULL, 0, NULL, 0) != 0) {
        lj_log(LJ_LOG_ERROR, "certificate not reloaded", "error=\"libwebsockets refused it\"");
        return;
    }
    lj_log(LJ_LOG_INFO, "certificate reloaded", "cert=%s", lj_log_quote(q, sizeof(q), srv->cfg.tls_cert));
}

void lj_server_run(struct lj_server *srv, atomic_bool *stop, atomic_bool *reload)
{
    while (!atomic_load(stop)) {
        if (reload && atomic_exchange(reload, false))
            reload_tls(srv);
        if (lws_service(srv->ctx, 0) < 0)
            break;
    }
    /* Going away: every client gets a 1001 close and reconnects elsewhere. */
    srv->shutting_down = true;
    lj_hub_each_session(srv->hub, say_goodbye);
    int64_t deadline = lj_time_mono_ns() + 3000000000LL;
    while (lj_hub_session_count(srv->hub) > 0 && lj_time_mono_ns() < deadline)
        lws_service(srv->ctx, 0);
}

void lj_server_destroy(struct lj_server *s)
{
    if (!s)
        return;
    if (s->ctx) {
        lws_sul_cancel(&s->tick);
        lws_context_destroy(s->ctx);
    }
    lj_buf_finish(&s->tx);
    free(s->ui_root);
    free(s->proxy_header);
    free(s);
}
