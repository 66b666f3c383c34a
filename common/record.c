/* record.c - protobuf-c wrappers for logjet.v1 messages. */
#include "record.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const level_names[LJ_LEVEL_COUNT] = {
    "unknown", "trace", "debug", "info", "warn", "error", "fatal",
};

const char *lj_level_name(enum lj_level level)
{
    return (unsigned)level < LJ_LEVEL_COUNT ? level_names[level] : "unknown";
}

const char *lj_stream_name(enum lj_stream stream)
{
    return stream == LJ_STREAM_STDERR ? "stderr" : "stdout";
}

int lj_level_from_name(const char *name)
{
    for (int i = 0; i < LJ_LEVEL_COUNT; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return LJ_LEVEL_WARN;
    return -1;
}

/* Fills a protobuf-c struct that borrows r's memory. */
static void view(const struct lj_record *r, lj_pb_record *m)
{
    logjet__v1__log_record__init(m);
    m->host = (char *)r->host;
    m->container_id = (char *)r->container_id;
    m->container = (char *)r->container;
    m->stream = (Logjet__V1__Stream)r->stream;
    m->ts_unix_nano = r->ts_unix_nano;
    m->line.data = (uint8_t *)r->line;
    m->line.len = r->line_len;
    m->level = (Logjet__V1__Level)r->level;
    m->line_no = r->line_no;
    m->truncated = r->truncated;
    m->ts_index = r->ts_index;
    m->other_seen = r->other_seen;
    m->other_ts_unix_nano = r->other_ts_unix_nano;
    m->other_ts_index = r->other_ts_index;
}

size_t lj_record_packed_size(const struct lj_record *r)
{
    lj_pb_record m;
    view(r, &m);
    return logjet__v1__log_record__get_packed_size(&m);
}

size_t lj_record_pack(const struct lj_record *r, uint8_t *out)
{
    lj_pb_record m;
    view(r, &m);
    return logjet__v1__log_record__pack(&m, out);
}

lj_status lj_record_unpack(const uint8_t *data, size_t len, lj_pb_record **out)
{
    *out = logjet__v1__log_record__unpack(NULL, len, data);
    return *out ? LJ_OK : LJ_PROTO;
}

void lj_record_free(lj_pb_record *r)
{
    if (r != NULL)
        logjet__v1__log_record__free_unpacked(r, NULL);
}

lj_status lj_container_pack(const lj_pb_container *c, uint8_t **out, size_t *outlen)
{
    size_t n = logjet__v1__container_info__get_packed_size(c);
    *out = malloc(n ? n : 1);
    if (*out == NULL)
        return LJ_NOMEM;
    *outlen = logjet__v1__container_info__pack(c, *out);
    return LJ_OK;
}

lj_status lj_container_unpack(const uint8_t *data, size_t len, lj_pb_container **out)
{
    *out = logjet__v1__container_info__unpack(NULL, len, data);
    return *out ? LJ_OK : LJ_PROTO;
}

void lj_container_free(lj_pb_container *c)
{
    if (c != NULL)
        logjet__v1__container_info__free_unpacked(c, NULL);
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

lj_status lj_record_unpack_view(const uint8_t *data, size_t len, lj_pb_record **holder,
                                struct lj_record *v)
{
    lj_pb_record *m = logjet__v1__log_record__unpack(NULL, len, data);
    *holder = m;
    if (m == NULL)
        return LJ_PROTO;
    memset(v, 0, sizeof *v);
    v->host = str_or_empty(m->host);
    v->container_id = str_or_empty(m->container_id);
    v->container = str_or_empty(m->container);
    v->stream = m->stream == LOGJET__V1__STREAM__STDERR ? LJ_STREAM_STDERR : LJ_STREAM_STDOUT;
    v->ts_unix_nano = m->ts_unix_nano;
    v->line = m->line.data;
    v->line_len = m->line.len;
    v->level = (unsigned)m->level < LJ_LEVEL_COUNT ? (enum lj_level)m->level : LJ_LEVEL_UNKNOWN;
    v->line_no = m->line_no;
    v->truncated = m->truncated;
    v->ts_index = m->ts_index;
    v->other_seen = m->other_seen;
    v->other_ts_unix_nano = m->other_ts_unix_nano;
    v->other_ts_index = m->other_ts_index;
    return LJ_OK;
}

void lj_container_view(const lj_pb_container *c, struct lj_container *v)
{
    v->id = str_or_empty(c->id);
    v->name = str_or_empty(c->name);
    v->image = str_or_empty(c->image);
    v->state = str_or_empty(c->state);
    v->host = str_or_empty(c->host);
    v->started_at_unix_nano = c->started_at_unix_nano;
    v->finished_at_unix_nano = c->finished_at_unix_nano;
    v->updated_at_unix_nano = c->updated_at_unix_nano;
    v->exit_code = c->exit_code;
    v->oom_killed = c->oom_killed;
    v->tty = c->tty;
    v->nlabels = c->n_labels;
}

const char *lj_container_label(const lj_pb_container *c, const char *key)
{
    for (size_t i = 0; i < c->n_labels; i++)
        if (c->labels[i]->key && strcmp(c->labels[i]->key, key) == 0)
            return str_or_empty(c->labels[i]->value);
    return NULL;
}
