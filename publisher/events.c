/* events.c - the /events transfer and its line parser. */
#include "events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lj_events_parser_init(struct lj_events_parser *p)
{
    memset(p, 0, sizeof *p);
    lj_buf_init(&p->line);
}

void lj_events_parser_finish(struct lj_events_parser *p)
{
    lj_buf_finish(&p->line);
    free(p->queue);
    p->queue = NULL;
    p->n = p->cap = 0;
}

void lj_events_parser_reset_line(struct lj_events_parser *p)
{
    lj_buf_reset(&p->line);
}

static void take_line(struct lj_events_parser *p, const char *line, size_t len)
{
    struct lj_docker_event ev;
    if (lj_docker_event_parse(line, len, &ev) != LJ_OK) {
        p->skipped++;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct lj_docker_event *q = realloc(p->queue, cap * sizeof *q);
        if (q == NULL) {
            p->dropped = true;
            return;
        }
        p->queue = q;
        p->cap = cap;
    }
    p->queue[p->n++] = ev;
}

void lj_events_parser_feed(struct lj_events_parser *p, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t k = nl ? (size_t)(nl - data) : len;
        size_t room = LJ_EVENTS_LINE_MAX - p->line.len;
        if (lj_buf_append(&p->line, data, k < room ? k : room) != LJ_OK)
            p->dropped = true;
        if (nl == NULL)
            return;
        take_line(p, p->line.data ? p->line.data : "", p->line.len);
        lj_buf_reset(&p->line);
        data += k + 1;
        len -= k + 1;
    }
}

void lj_events_init(struct lj_events *e)
{
    memset(e, 0, sizeof *e);
    lj_events_parser_init(&e->parser);
}

static void drop_handle(struct lj_events *e, CURLM *multi)
{
    if (e->handle) {
        curl_multi_remove_handle(multi, e->handle);
        curl_easy_cleanup(e->handle);
        e->handle = NULL;
    }
}

void lj_events_finish(struct lj_events *e, CURLM *multi)
{
    drop_handle(e, multi);
    lj_events_parser_finish(&e->parser);
}

bool lj_events_due(const struct lj_events *e, int64_t now_mono)
{
    return e->state == LJ_EVENTS_DOWN && now_mono >= e->retry_at;
}

/* Runs inside curl_multi_perform: only queues. */
static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct lj_events *e = ctx;
    lj_events_parser_feed(&e->parser, data, size * n);
    return size * n;
}

/* The end of the response headers (an empty line) of a 200 answer means the engine
 * has subscribed this request (it answers after parsing the filters and just before
 * it takes its event ring's lock; since= covers that moment). */
static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct lj_events *e = ctx;
    size_t len = size * n;
    long code = 0;
    if ((len == 2 && data[0] == '\r' && data[1] == '\n') || (len == 1 && data[0] == '\n')) {
        curl_easy_getinfo(e->handle, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200)
            e->state = LJ_EVENTS_SUBSCRIBED;
    }
    return len;
}

lj_status lj_events_open(struct lj_events *e, struct lj_docker *docker, CURLM *multi,
                         int64_t since_ns, int64_t now_mono)
{
    static const char filters[] =
        "{\"type\":[\"container\"],\"event\":[\"start\",\"die\",\"destroy\",\"rename\"]}";
    char path[512];
    char *esc = curl_easy_escape(NULL, filters, 0);

    if (esc == NULL)
        return LJ_NOMEM;
    snprintf(path, sizeof path, "/events?since=%" PRId64 ".%09" PRId64 "&filters=%s",
             since_ns / 1000000000, since_ns % 1000000000, esc);
    curl_free(esc);
    lj_events_parser_reset_line(&e->parser);
    e->handle = lj_docker_stream(docker, path, on_body, e);
    if (e->handle == NULL)
        return LJ_NOMEM;
    curl_easy_setopt(e->handle, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e->handle, CURLOPT_HEADERDATA, e);
    if (curl_multi_add_handle(multi, e->handle) != CURLM_OK) {
        curl_easy_cleanup(e->handle);
        e->handle = NULL;
        return LJ_NOMEM;
    }
    e->state = LJ_EVENTS_OPENING;
    e->opened_at = now_mono;
    return LJ_OK;
}

int lj_events_failed(struct lj_events *e, int64_t now_mono)
{
    e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : LJ_EVENTS_BACKOFF_MIN_MS;
    if (e->backoff_ms > LJ_EVENTS_BACKOFF_MAX_MS)
        e->backoff_ms = LJ_EVENTS_BACKOFF_MAX_MS;
    e->retry_at = now_mono + e->backoff_ms * 1000000LL;
    return e->backoff_ms;
}

void lj_events_lost(struct lj_events *e, CURLM *multi, int64_t now_mono)
{
    drop_handle(e, multi);
    if (e->state == LJ_EVENTS_SUBSCRIBED) {
        e->reconnects++;
        e->backoff_ms = 0;
        e->retry_at = now_mono + LJ_EVENTS_BACKOFF_MIN_MS * 1000000LL;
    } else {
        lj_events_failed(e, now_mono);
    }
    e->state = LJ_EVENTS_DOWN;
}

bool lj_events_stalled(const struct lj_events *e, int64_t now_mono)
{
    return e->state == LJ_EVENTS_OPENING && now_mono - e->opened_at > LJ_EVENTS_OPEN_TIMEOUT_NS;
}

const struct lj_docker_event *lj_events_queued(const struct lj_events *e, size_t *n)
{
    *n = e->parser.n;
    return e->parser.queue;
}

void lj_events_clear(struct lj_events *e)
{
    e->parser.n = 0;
}
