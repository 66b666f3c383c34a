/* server.c - libwebsockets glue: the lws context (listener, TLS, keepalive, header
 * limits, the security headers, the file mount for --ui-dir), the one protocol
 * ("logjet") whose callback sends each reason to its handler, the once-a-second tick,
 * shutdown and the TLS reload.
 *
 * Every request, plain or upgrade, first passes the gate (request.c) from lws's
 * filter callbacks, which answer a refusal themselves and close; plain requests then
 * pass the method and --ui-dir containment checks (http.c); /ws connections are
 * ws.c's. The security headers are the vhost's header list, which lws adds to every
 * response it or we write. TLS is lws's (OpenSSL); this file only checks the pair
 * first (tls.c) and reloads it on request. It does not read requests or write frames.
 */
#include "server.h"

#include <libwebsockets.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "serverint.h"
#include "timeutil.h"
#include "tls.h"
#include "ws.h"

/* Request header sizes. lws 4.1 closes a connection whose request head overflows its
 * header space inside lws_parse, before any callback (nothing can answer). So every
 * header lws knows is capped at LJ_SERVER_HEADER_MAX by its token limits (the rest of
 * a longer one is skipped, not stored), the space holds twice that, and lj_request_gate
 * answers 431 for a header that reached its cap: a header that alone is too long gets
 * an answer. Headers lws does not know are not capped; a head over the whole space is
 * still closed unanswered. */
#define LJ_SERVER_HEADER_SPACE (2 * LJ_SERVER_HEADER_MAX)

static struct lj_server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lj_server *srv = server_of(wsi);
    struct lj_server_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (srv)
            lj_hub_service(srv->hub);
        return 0;
    case LWS_CALLBACK_HTTP:
        return lj_http_request(srv, wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return lj_http_writable(wsi, pss);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            free(pss->body);
            pss->body = NULL;
        }
        break;
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
        return lj_http_filter(srv, wsi);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return lj_ws_filter(srv, wsi, pss);
    case LWS_CALLBACK_ESTABLISHED:
        return lj_ws_established(srv, wsi, pss);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return lj_ws_writable(srv, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return lj_ws_receive(wsi, pss, in, len);
    case LWS_CALLBACK_CLOSED:
        lj_ws_closed(srv, pss);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* rx_buffer_size: lws allocates it for every WebSocket connection, idle or not; a
 * control frame larger than it arrives in pieces, which lj_session_receive joins (up to
 * LJ_CONTROL_FRAME_MAX). At LJ_CONTROL_FRAME_MAX (4096) it was over half of an idle
 * subscribed connection's memory: 7.4 KB a connection at 10,000, 4.0 KB with 512
 * (bench/gateway/idle.mjs).
 * tx_packet_size: the most one send() may carry; lws keeps the rest of a frame and
 * sends it on later writable turns, each a pass through poll() over every connection.
 * Left at 0 it is rx_buffer_size: 4096 cut a 64 KiB lines frame into 16 sends, and 512
 * made an active client beside 10,000 idle ones seconds late. A whole frame
 * (max_frame, 64 KiB, plus the line that crosses it) goes in one send. */
#define LJ_SERVER_RX_BUFFER 512
#define LJ_SERVER_TX_PACKET (128 * 1024)

static const struct lws_protocols protocols[] = {
    { .name = "logjet", .callback = callback, .per_session_data_size = sizeof(struct lj_server_pss),
      .rx_buffer_size = LJ_SERVER_RX_BUFFER, .tx_packet_size = LJ_SERVER_TX_PACKET },
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

static void tick_close(void *wsi)
{
    /* A stalled client cannot take a close frame: drop the connection outright. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* Once a second: a service pass, the sessions closed since the last tick freed, the
 * hub's housekeeping, then stalled sessions dropped and idle queues trimmed. */
static void tick(lws_sorted_usec_list_t *sul)
{
    struct lj_server *srv = lws_container_of(sul, struct lj_server, tick);
    lj_hub_service(srv->hub);
    lj_sessions_reap(&srv->sessions);
    lj_hub_tick(srv->hub);
    lj_sessions_tick(&srv->sessions, lj_time_mono_ns(), srv->cfg.stall_ns, tick_close);
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
    srv->sessions.stats = lj_hub_stats(hub);
    srv->sessions.writable = request_writable;
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
    lj_hub_set_sessions(hub, &srv->sessions);
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
    lj_sessions_each(&srv->sessions, request_writable);
    int64_t deadline = lj_time_mono_ns() + 3000000000LL;
    while (srv->sessions.count > 0 && lj_time_mono_ns() < deadline)
        lws_service(srv->ctx, 0);
}

void lj_server_destroy(struct lj_server *s)
{
    if (!s)
        return;
    if (s->ctx) {
        lws_sul_cancel(&s->tick);
        lws_context_destroy(s->ctx);   /* CLOSED for every connection left */
    }
    /* Freed here, with the hub still alive: each session detaches its taps. */
    lj_sessions_finish(&s->sessions);
    if (s->hub)
        lj_hub_set_sessions(s->hub, NULL);
    lj_buf_finish(&s->tx);
    free(s->ui_root);
    free(s->proxy_header);
    free(s);
}

