/* docker.c - Engine API requests over libcurl, and the one door for cJSON: every
 * answer of the engine is decoded here into the plain structs of docker.h. */
#include "docker.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "timeutil.h"

#define API_MAX_MAJOR 1
#define API_MAX_MINOR 41
#define REQUEST_TIMEOUT_MS 5000L
#define MAX_RESPONSE (64u << 20)

struct lj_docker {
    char host[512];          /* as configured */
    char socket_path[512];   /* unix socket, or "" for tcp */
    char base[600];          /* "http://localhost/v1.41" */
    char origin[512];        /* "http://localhost" or "http://host:port" */
};

void lj_docker_container_finish(struct lj_docker_container *c)
{
    for (size_t i = 0; i < c->nlabels; i++) {
        free(c->labels[i].key);
        free(c->labels[i].value);
    }
    free(c->labels);
    c->labels = NULL;
    c->nlabels = 0;
}

lj_status lj_docker_create(struct lj_docker **out, const char *host, char *err,
                           size_t errlen)
{
    struct lj_docker *d = calloc(1, sizeof *d);
    if (d == NULL)
        return LJ_NOMEM;
    snprintf(d->host, sizeof d->host, "%s", host);
    if (strncmp(host, "unix://", 7) == 0 && host[7] == '/') {
        snprintf(d->socket_path, sizeof d->socket_path, "%s", host + 7);
        snprintf(d->origin, sizeof d->origin, "http://localhost");
    } else if (strncmp(host, "tcp://", 6) == 0 && host[6] != '\0') {
        snprintf(d->origin, sizeof d->origin, "http://%s", host + 6);
    } else {
        free(d);
        return lj_fail(err, errlen, LJ_INVAL,
                       "--docker-host '%s': expected unix:///path/to/docker.sock or tcp://host:port",
                       host);
    }
    snprintf(d->base, sizeof d->base, "%s/v%d.%d", d->origin, API_MAX_MAJOR, API_MAX_MINOR);
    *out = d;
    return LJ_OK;
}

void lj_docker_destroy(struct lj_docker *d)
{
    free(d);
}

const char *lj_docker_host(const struct lj_docker *d)
{
    return d->host;
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    struct lj_buf *b = ctx;
    if (b->len + size * n > MAX_RESPONSE || lj_buf_append(b, p, size * n) != LJ_OK)
        return 0;
    return size * n;
}

static CURL *new_handle(struct lj_docker *d, const char *url)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (d->socket_path[0])
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    return h;
}

/* GET url into body; *code is the HTTP status. */
static lj_status get_body(struct lj_docker *d, const char *url, struct lj_buf *body,
                          long *code, char *err, size_t errlen)
{
    CURL *h = new_handle(d, url);
    CURLcode rc;

    *code = 0;
    if (h == NULL)
        return LJ_NOMEM;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return lj_fail(err, errlen, LJ_DOCKER, "Docker engine at %s: %s", d->host,
                       curl_easy_strerror(rc));
    return LJ_OK;
}

/* GET url into a parsed JSON document. */
static lj_status get_json(struct lj_docker *d, const char *url, cJSON **out, char *err,
                          size_t errlen)
{
    struct lj_buf body;
    long code = 0;
    lj_status s;

    lj_buf_init(&body);
    if ((s = get_body(d, url, &body, &code, err, errlen)) != LJ_OK) {
        lj_buf_finish(&body);
        return s;
    }
    *out = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
    if (code == 404) {
        lj_buf_finish(&body);
        cJSON_Delete(*out);
        *out = NULL;
        return LJ_NOT_FOUND;
    }
    if (code != 200 || *out == NULL) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(*out, "message");
        lj_fail(err, errlen, LJ_DOCKER, "Docker engine at %s: HTTP %ld %s", d->host, code,
                cJSON_IsString(m) ? m->valuestring : "");
        cJSON_Delete(*out);
        *out = NULL;
        lj_buf_finish(&body);
        return LJ_DOCKER;
    }
    lj_buf_finish(&body);
    return LJ_OK;
}

lj_status lj_docker_ping(struct lj_docker *d, char *err, size_t errlen)
{
    char url[700];
    cJSON *v = NULL;
    int major = 0, minor = 0;
    lj_status s;

    snprintf(url, sizeof url, "%s/version", d->origin);
    if ((s = get_json(d, url, &v, err, errlen)) != LJ_OK)
        return s == LJ_NOT_FOUND ? LJ_DOCKER : s;
    const cJSON *api = cJSON_GetObjectItemCaseSensitive(v, "ApiVersion");
    if (!cJSON_IsString(api) || sscanf(api->valuestring, "%d.%d", &major, &minor) != 2) {
        cJSON_Delete(v);
        return lj_fail(err, errlen, LJ_DOCKER, "%s does not look like a Docker engine", d->host);
    }
    cJSON_Delete(v);
    if (major > API_MAX_MAJOR || (major == API_MAX_MAJOR && minor > API_MAX_MINOR))
        major = API_MAX_MAJOR, minor = API_MAX_MINOR;
    if (major == 1 && minor < 25)
        return lj_fail(err, errlen, LJ_DOCKER, "engine API %d.%d at %s is too old (need 1.25+)",
                       major, minor, d->host);
    snprintf(d->base, sizeof d->base, "%s/v%d.%d", d->origin, major, minor);
    return LJ_OK;
}

lj_status lj_docker_list(struct lj_docker *d, bool all, char (**ids)[65], size_t *n, char *err,
                         size_t errlen)
{
    char url[700];
    cJSON *list = NULL;
    lj_status s;

    snprintf(url, sizeof url, "%s/containers/json%s", d->base, all ? "?all=1" : "");
    if ((s = get_json(d, url, &list, err, errlen)) != LJ_OK)
        return s == LJ_NOT_FOUND ? LJ_DOCKER : s;
    int count = cJSON_GetArraySize(list);
    *ids = calloc(count > 0 ? (size_t)count : 1, sizeof **ids);
    *n = 0;
    if (*ids == NULL) {
        cJSON_Delete(list);
        return LJ_NOMEM;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "Id");
        if (cJSON_IsString(id) && strlen(id->valuestring) == 64)
            memcpy((*ids)[(*n)++], id->valuestring, 65);
    }
    cJSON_Delete(list);
    return LJ_OK;
}

static void copy_str(char *dst, size_t n, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    snprintf(dst, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* Config.Labels (an object of strings) into c's plain array. */
static lj_status copy_labels(struct lj_docker_container *c, const cJSON *labels)
{
    int n = cJSON_IsObject(labels) ? cJSON_GetArraySize(labels) : 0;
    const cJSON *l;

    if (n <= 0)
        return LJ_OK;
    if ((c->labels = calloc((size_t)n, sizeof *c->labels)) == NULL)
        return LJ_NOMEM;
    cJSON_ArrayForEach(l, labels) {
        if (!cJSON_IsString(l) || l->string == NULL)
            continue;
        struct lj_docker_label *e = &c->labels[c->nlabels];
        e->key = strdup(l->string);
        e->value = strdup(l->valuestring);
        if (e->key == NULL || e->value == NULL) {
            c->nlabels++;
            lj_docker_container_finish(c);
            return LJ_NOMEM;
        }
        c->nlabels++;
    }
    return LJ_OK;
}

static int64_t time_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    int64_t ns = 0;
    if (cJSON_IsString(v) && lj_time_parse(v->valuestring, strlen(v->valuestring), &ns) != LJ_OK)
        ns = 0;
    return ns;
}

lj_status lj_docker_inspect(struct lj_docker *d, const char *id,
                            struct lj_docker_container *out, char *err, size_t errlen)
{
    char url[800], name[256];
    cJSON *j = NULL;
    lj_status s;

    memset(out, 0, sizeof *out);
    snprintf(url, sizeof url, "%s/containers/%s/json", d->base, id);
    if ((s = get_json(d, url, &j, err, errlen)) != LJ_OK)
        return s;
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "State");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(j, "Config");
    copy_str(out->id, sizeof out->id, j, "Id");
    copy_str(name, sizeof name, j, "Name");
    snprintf(out->name, sizeof out->name, "%s", name[0] == '/' ? name + 1 : name);
    copy_str(out->image, sizeof out->image, config, "Image");
    copy_str(out->state, sizeof out->state, state, "Status");
    copy_str(out->log_driver, sizeof out->log_driver,
             cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "HostConfig"),
                                              "LogConfig"), "Type");
    out->running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running"));
    out->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "Tty"));
    out->created_ns = time_field(j, "Created");
    out->started_ns = time_field(state, "StartedAt");
    out->finished_ns = time_field(state, "FinishedAt");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(state, "ExitCode");
    out->exit_code = cJSON_IsNumber(code) ? code->valueint : 0;
    out->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "OOMKilled"));
    s = copy_labels(out, cJSON_GetObjectItemCaseSensitive(config, "Labels"));
    cJSON_Delete(j);
    return s;
}

lj_status lj_docker_clock(struct lj_docker *d, int64_t *unix_ns, char *err, size_t errlen)
{
    char url[700];
    cJSON *info = NULL;
    lj_status s;

    snprintf(url, sizeof url, "%s/info", d->base);
    if ((s = get_json(d, url, &info, err, errlen)) != LJ_OK)
        return s == LJ_NOT_FOUND ? LJ_DOCKER : s;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(info, "SystemTime");
    s = cJSON_IsString(t) && lj_time_parse(t->valuestring, strlen(t->valuestring), unix_ns) == LJ_OK
        && *unix_ns > 0 ? LJ_OK
        : lj_fail(err, errlen, LJ_DOCKER, "Docker engine at %s: /info has no SystemTime", d->host);
    cJSON_Delete(info);
    return s;
}

lj_status lj_docker_logs_readable(struct lj_docker *d, const char *id, char *reason,
                                  size_t reasonlen)
{
    char url[800];
    struct lj_buf body;
    long code = 0;
    lj_status s;

    snprintf(url, sizeof url, "%s/containers/%s/logs?stdout=1&stderr=1&tail=0", d->base, id);
    lj_buf_init(&body);
    if ((s = get_body(d, url, &body, &code, reason, reasonlen)) == LJ_OK && code != 200) {
        /* The engine answers an error as {"message": "..."}. */
        cJSON *j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        snprintf(reason, reasonlen, "%s", cJSON_IsString(m) ? m->valuestring : "");
        if (reason[0] == '\0')
            snprintf(reason, reasonlen, "HTTP %ld", code);
        s = code == 404 ? LJ_NOT_FOUND : code == 501 ? LJ_UNSUPPORTED : LJ_DOCKER;
        cJSON_Delete(j);
    }
    lj_buf_finish(&body);
    return s;
}

/* Copies the string field key of obj into dst (cut to n - 1 bytes; "" when absent),
 * without its leading slashes when skip_slash is set. */
static void copy_field(char *dst, size_t n, const cJSON *obj, const char *key, int skip_slash)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *str = cJSON_IsString(v) ? v->valuestring : "";
    while (skip_slash && str[0] == '/')
        str++;    /* a Docker name never starts with '/': every leading one goes */
    snprintf(dst, n, "%s", str);
}

lj_status lj_docker_event_parse(const char *line, size_t len, struct lj_docker_event *out)
{
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(j, "Action");
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(j, "Actor");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(actor, "ID");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes");
    const cJSON *tn = cJSON_GetObjectItemCaseSensitive(j, "timeNano");
    lj_status s = LJ_PROTO;

    memset(out, 0, sizeof *out);
    if (cJSON_IsString(action) && cJSON_IsString(id) && strlen(id->valuestring) == 64) {
        snprintf(out->action, sizeof out->action, "%s", action->valuestring);
        memcpy(out->id, id->valuestring, 65);
        copy_field(out->name, sizeof out->name, attrs, "name", 0);
        copy_field(out->old_name, sizeof out->old_name, attrs, "oldName", 1);
        /* timeNano is an integer of up to 19 digits: as a double it is off by up to a
         * few hundred ns, which is all a log line needs of it. */
        if (cJSON_IsNumber(tn) && tn->valuedouble > 0 && tn->valuedouble < 9.2e18)
            out->time_ns = (int64_t)tn->valuedouble;
        s = LJ_OK;
    }
    cJSON_Delete(j);
    return s;
}

CURL *lj_docker_stream(struct lj_docker *d, const char *path, curl_write_callback write,
                       void *ctx)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", d->base, path);
    CURL *h = new_handle(d, url);
    if (h == NULL)
        return NULL;
    /* No CURLOPT_TIMEOUT: a follow lasts as long as the container runs. A dead peer is
     * noticed by TCP keepalive on tcp:// and by the socket closing on unix://. */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ctx);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    return h;
}
