/* http.c - the server's plain HTTP answers (http.h): the dynamic endpoints, their
 * bodies written in chunks of HTTP_CHUNK, refusals answered and closed from lws's
 * filter callback, and the --ui-dir checks before lws's file mount serves a file.
 *
 * A HEAD request gets the headers a GET would get and no body. Does not look at
 * tokens itself (request.c gives the grant) and never touches a WebSocket session.
 */
#include "http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hub.h"
#include "log.h"
#include "request.h"
#include "serverint.h"

#define HTTP_CHUNK 16384

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
static int http_reply(struct lws *wsi, struct lj_server_pss *pss, int status, const char *type, char *body,
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
    if (lj_request_header_present(wsi, WSI_TOKEN_HEAD_URI)) {
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

int lj_http_refuse(struct lws *wsi, unsigned status, const char *text)
{
    return http_answer_close(wsi, status, "text/plain", strlen(text), text);
}

static int http_text(struct lws *wsi, struct lj_server_pss *pss, int status, const char *type, const char *text)
{
    char *body = strdup(text);
    return body ? http_reply(wsi, pss, status, type, body, strlen(body)) : 1;
}

static int http_containers(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss)
{
    unsigned status;
    const struct lj_grant *g = lj_request_grant(srv, wsi, &status);
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

int lj_http_request(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss)
{
    struct lj_buf b;
    if (lj_request_path_is(wsi, "/healthz")) {
        char why[600], text[640];
        bool up = lj_hub_nats_healthy(srv->hub, why, sizeof(why));
        snprintf(text, sizeof(text), "nats not ready: %s\n", why);
        return http_text(wsi, pss, up ? 200 : 503, "text/plain", up ? "ok\n" : text);
    }
    if (lj_request_path_is(wsi, "/metrics")) {
        lj_buf_init(&b);
        lj_hub_metrics(srv->hub, &b);
        size_t len = b.len;
        return http_reply(wsi, pss, 200, "text/plain; version=0.0.4", b.data, len);
    }
    if (lj_request_path_is(wsi, "/api/containers"))
        return http_containers(srv, wsi, pss);
    return http_text(wsi, pss, 404, "text/plain", "not found\n");
}

int lj_http_writable(struct lws *wsi, struct lj_server_pss *pss)
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
int lj_http_filter(struct lj_server *srv, struct lws *wsi)
{
    char uri[1024];
    int method;
    const char *path = lj_request_path(wsi, uri, sizeof(uri), &method);
    struct lj_request_refusal r = lj_request_gate(srv, wsi, path);

    if (r.status)
        return lj_http_refuse(wsi, r.status, r.text);
    if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD)
        return lj_http_refuse(wsi, 405, "only GET and HEAD\n");
    if (!srv->ui_root || is_dynamic(path))
        return 0;
    if (!static_path_ok(srv, path)) {
        char q[300], peer[64];
        lj_log(LJ_LOG_WARN, "request refused", "reason=outside_ui_dir path=%s peer=%s",
               lj_log_quote(q, sizeof(q), path), lj_request_peer_name(wsi, peer, sizeof(peer)));
        return lj_http_refuse(wsi, 404, "not found\n");
    }
    return method == LWSHUMETH_HEAD ? head_static(srv, wsi, path) : 0;
}
