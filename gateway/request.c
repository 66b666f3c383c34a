/* request.c - reading one request for the server (request.h): header copies of any
 * length, the token from query, bearer header or cookie, the trusted proxy's user
 * header, the grant they give, the origin and the gate every request passes.
 *
 * Never answers or closes a connection, and never keeps anything past the callback
 * it is called from. Tokens are wiped from the stack once read.
 */
#include "request.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cidr.h"
#include "cookie.h"
#include "log.h"
#include "serverint.h"

/* ---- request inspection ---- */

/* A request header's whole value on the heap (the caller frees), or NULL when absent
 * or out of memory. No fixed buffer: a long header must never read as "absent". */
char *lj_request_header_dup(struct lws *wsi, enum lws_token_indexes t)
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

bool lj_request_header_present(struct lws *wsi, enum lws_token_indexes t)
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
    if (!lj_request_header_present(wsi, WSI_TOKEN_HTTP_COOKIE) || !(frag = malloc(LJ_SERVER_HEADER_MAX + 1)))
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

const char *lj_request_peer_name(struct lws *wsi, char *buf, size_t n)
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
        return lj_request_header_dup(wsi, (enum lws_token_indexes)srv->proxy_token);
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
const struct lj_grant *lj_request_grant(struct lj_server *srv, struct lws *wsi, unsigned *status)
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
                   lj_log_quote(q, sizeof(q), user), lj_request_peer_name(wsi, peer, sizeof(peer)));
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

bool lj_request_origin_ok(struct lj_server *srv, struct lws *wsi)
{
    char *origin = lj_request_header_dup(wsi, WSI_TOKEN_ORIGIN), *host = lj_request_header_dup(wsi, WSI_TOKEN_HOST);
    bool ok = (origin || !lj_request_header_present(wsi, WSI_TOKEN_ORIGIN))
              && lj_auth_origin_ok(srv->cfg.allowed_origins, origin, host ? host : "");
    free(origin);
    free(host);
    return ok;
}

/* The request's path (without the query), or "" when it has none. */
const char *lj_request_path(struct lws *wsi, char *uri, size_t n, int *method)
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

bool lj_request_path_is(struct lws *wsi, const char *want)
{
    char uri[256];
    int method;
    return strcmp(lj_request_path(wsi, uri, sizeof(uri), &method), want) == 0;
}

/* ---- the gate every request passes, HTTP or upgrade, before anything is served ---- */

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
        for (int i = 0; i < 64 && lj_request_header_present(wsi, (enum lws_token_indexes)t); i++) {
            int n = lws_hdr_fragment_length(wsi, (enum lws_token_indexes)t, i);
            if (n <= 0)
                break;
            if (n >= LJ_SERVER_HEADER_MAX)
                return 431;
        }
    return 0;
}

struct lj_request_refusal lj_request_gate(struct lj_server *srv, struct lws *wsi, const char *path)
{
    char peer[64];
    struct lj_request_refusal r = { 0, NULL, NULL };

    unsigned capped = header_capped(wsi);
    if (capped == 414) {
        r = (struct lj_request_refusal){ 414, "uri_too_long", "request URI too long\n" };
    } else if (capped) {
        r = (struct lj_request_refusal){ 431, "header_too_large", "request header too large\n" };
    } else if (lj_request_header_present(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)) {
        /* No endpoint takes a body; a chunked one would be read as the next request. */
        r = (struct lj_request_refusal){ 400, "transfer_encoding", "request bodies are not accepted\n" };
    } else if (srv->cfg.check_host && strcmp(path, "/healthz") != 0 && strcmp(path, "/metrics") != 0) {
        /* /healthz and /metrics name no container: probes and scrapers may use any Host. */
        char *host = lj_request_header_dup(wsi, WSI_TOKEN_HOST);
        if ((host || !lj_request_header_present(wsi, WSI_TOKEN_HOST)) && lj_auth_host_ok(srv->cfg.allowed_hosts, host)) {
            free(host);
        } else {
            char q[300];
            lj_log(LJ_LOG_WARN, "request refused", "reason=host host=%s peer=%s",
                   lj_log_quote(q, sizeof(q), host ? host : "(too long)"), lj_request_peer_name(wsi, peer, sizeof(peer)));
            free(host);
            return (struct lj_request_refusal){ 403, NULL, "host not allowed (see --allowed-hosts)\n" };
        }
    }
    if (!r.status && srv->proxy_header) {
        char *user = proxy_user(srv, wsi);
        if (user && !from_trusted_proxy(srv, wsi))
            r = (struct lj_request_refusal){ 403, "proxy_header_untrusted", "user header from an untrusted address\n" };
        free(user);
    }
    if (r.reason)
        lj_log(LJ_LOG_WARN, "request refused", "reason=%s peer=%s", r.reason, lj_request_peer_name(wsi, peer, sizeof(peer)));
    return r;
}
