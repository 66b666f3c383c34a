/* server.c - libwebsockets glue: one protocol ("logjet") handles the dynamic HTTP
 * endpoints and the /ws connections; static files come from an lws file mount.
 *
 * Rules kept here: exactly one lws_write per writable callback; a session is never
 * freed in a callback of its own connection (CLOSED hands it to the hub, which frees
 * it on its next tick); lines reach this thread only through the hub (rings read by
 * the sessions' cursors).
 */
#include "server.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

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
};

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
        return k > 0;
    }
    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_COOKIE) > 0
        && (p = strstr(hdr, "logjet_token="))) {
        p += strlen("logjet_token=");
        snprintf(tok, n, "%.*s", (int)strcspn(p, "; "), p);
        return tok[0] != '\0';
    }
    return false;
}

/* The grant for this request, or NULL when refused. */
static const struct lj_grant *request_grant(struct lj_server *srv, struct lws *wsi)
{
    char tok[LJ_AUTH_TOKEN_MAX + 2];
    const struct lj_grant *g;
    if (!srv->cfg.auth)
        return lj_grant_all();
    if (!request_token(wsi, tok, sizeof(tok)))
        return NULL;
    g = lj_auth_check(srv->cfg.auth, tok);
    memset(tok, 0, sizeof(tok));
    return g;
}

static bool origin_ok(struct lj_server *srv, struct lws *wsi)
{
    char origin[256] = "", host[256] = "";
    int olen = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
    lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
    return lj_auth_origin_ok(srv->cfg.allowed_origins, olen > 0 ? origin : NULL, host);
}

static bool path_is(struct lws *wsi, const char *want)
{
    char uri[256];
    int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
    return n > 0 && strcmp(uri, want) == 0;
}

/* ---- HTTP endpoints ---- */

static int http_reply(struct lws *wsi, struct pss *pss, int status, const char *type, char *body,
                      size_t len)
{
    uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    pss->body = body;
    pss->body_len = len;
    pss->body_off = 0;
    if (lws_add_http_common_headers(wsi, (unsigned)status, type, len, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                        (const unsigned char *)"no-store", 8, &p, end)
        || lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_text(struct lws *wsi, struct pss *pss, int status, const char *type, const char *text)
{
    char *body = strdup(text);
    return body ? http_reply(wsi, pss, status, type, body, strlen(body)) : 1;
}

static int http_containers(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    const struct lj_grant *g = request_grant(srv, wsi);
    struct lj_buf b;
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
        bool up = lj_hub_nats_connected(srv->hub);
        return http_text(wsi, pss, up ? 200 : 503, "text/plain", up ? "ok\n" : "nats disconnected\n");
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

/* ---- WebSocket ---- */

static int ws_filter(struct lj_server *srv, struct lws *wsi, struct pss *pss)
{
    const struct lj_grant *g;
    if (!path_is(wsi, "/ws") || srv->shutting_down)
        return 1;
    if (!origin_ok(srv, wsi)) {
        lj_log(LJ_LOG_INFO, "websocket refused", "reason=origin");
        return 1;
    }
    if (!(g = request_grant(srv, wsi))) {
        lj_log(LJ_LOG_INFO, "websocket refused", "reason=token");
        return 1;
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
    const struct lj_grant *g = pss->grant ? pss->grant : request_grant(srv, wsi);
    if (!g || lj_session_create(srv->hub, wsi, g, &srv->cfg.limits, &pss->session) != LJ_OK)
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
    setup_mounts(srv);
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
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (cfg->host && strchr(cfg->host, ':'))
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    info.fd_limit_per_thread = (unsigned)(cfg->max_clients + 256);
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        lj_server_destroy(srv);
        return lj_fail(err, errlen, LJ_IO, "cannot listen on %s:%d", cfg->host && *cfg->host ? cfg->host : "*",
                       cfg->port);
    }
    srv->vhost = lws_get_vhost_by_name(srv->ctx, "default");
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

void lj_server_run(struct lj_server *srv, atomic_bool *stop)
{
    while (!atomic_load(stop))
        if (lws_service(srv->ctx, 0) < 0)
            break;
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
    free(s);
}
