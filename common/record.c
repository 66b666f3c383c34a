/* record.c - protobuf-c wrappers for logjet.v1 messages. */
#include "record.h"

#include <stdio.h>

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

int64_t lj_record_newest_ts(const struct lj_record *r)
{
    return r->other_seen && r->other_ts_unix_nano > r->ts_unix_nano ? r->other_ts_unix_nano
                                                                     : r->ts_unix_nano;
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

void lj_record_view(const lj_pb_record *m, struct lj_record *out)
{
    *out = (struct lj_record){
        .host = m->host, .container_id = m->container_id, .container = m->container,
        .stream = m->stream == LOGJET__V1__STREAM__STDERR ? LJ_STREAM_STDERR : LJ_STREAM_STDOUT,
        .ts_unix_nano = m->ts_unix_nano, .line = m->line.data, .line_len = m->line.len,
        .level = (unsigned)m->level < LJ_LEVEL_COUNT ? (enum lj_level)m->level : LJ_LEVEL_UNKNOWN,
        .line_no = m->line_no, .truncated = m->truncated, .ts_index = m->ts_index,
        .other_seen = m->other_seen, .other_ts_unix_nano = m->other_ts_unix_nano,
        .other_ts_index = m->other_ts_index,
    };
}

lj_status lj_container_pack_view(const struct lj_container *c, uint8_t **out, size_t *outlen)
{
    Logjet__V1__ContainerInfo info;
    Logjet__V1__ContainerInfo__LabelsEntry *entries = calloc(c->nlabels + 1, sizeof *entries);
    Logjet__V1__ContainerInfo__LabelsEntry **ptrs = calloc(c->nlabels + 1, sizeof *ptrs);
    lj_status s = LJ_NOMEM;

    if (entries == NULL || ptrs == NULL)
        goto out;
    for (size_t i = 0; i < c->nlabels; i++) {
        logjet__v1__container_info__labels_entry__init(&entries[i]);
        entries[i].key = (char *)c->labels[i].key;
        entries[i].value = (char *)c->labels[i].value;
        ptrs[i] = &entries[i];
    }
    logjet__v1__container_info__init(&info);
    info.id = (char *)c->id;
    info.name = (char *)c->name;
    info.image = (char *)(c->image ? c->image : "");
    info.n_labels = c->nlabels;
    info.labels = ptrs;
    info.state = (char *)(c->state ? c->state : "");
    info.host = (char *)c->host;
    info.started_at_unix_nano = c->started_ns;
    info.finished_at_unix_nano = c->finished_ns;
    info.tty = c->tty;
    info.exit_code = c->exit_code;
    info.oom_killed = c->oom_killed;
    info.updated_at_unix_nano = c->updated_ns;
    info.unreadable_reason = (char *)(c->unreadable_reason ? c->unreadable_reason : "");
    lj_pb_record from;
    if (c->renamed) {
        struct lj_record r = c->renamed_from;
        r.line = NULL;
        r.line_len = 0;
        view(&r, &from);
        info.renamed_from = &from;
    }
    s = lj_container_pack(&info, out, outlen);
out:
    free(ptrs);
    free(entries);
    return s;
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

lj_status lj_container_repack(lj_pb_container *c, const char *state, int64_t updated_ns,
                              uint8_t **out, size_t *outlen)
{
    char *was = c->state;
    c->state = (char *)state;
    c->updated_at_unix_nano = updated_ns;
    lj_status s = lj_container_pack(c, out, outlen);
    c->state = was;    /* freed by the unpacker's allocator */
    return s;
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
    lj_record_view(m, v);
    return LJ_OK;
}

void lj_container_view(const lj_pb_container *c, struct lj_container *v)
{
    v->id = str_or_empty(c->id);
    v->name = str_or_empty(c->name);
    v->image = str_or_empty(c->image);
    v->state = str_or_empty(c->state);
    v->host = str_or_empty(c->host);
    v->labels = NULL;
    v->nlabels = c->n_labels;
    v->started_ns = c->started_at_unix_nano;
    v->finished_ns = c->finished_at_unix_nano;
    v->updated_ns = c->updated_at_unix_nano;
    v->exit_code = c->exit_code;
    v->oom_killed = c->oom_killed;
    v->tty = c->tty;
    v->unreadable_reason = str_or_empty(c->unreadable_reason);
    v->renamed = c->renamed_from != NULL;
    if (v->renamed)
        lj_record_view(c->renamed_from, &v->renamed_from);
    else
        memset(&v->renamed_from, 0, sizeof v->renamed_from);
}

const char *lj_container_label(const lj_pb_container *c, const char *key)
{
    for (size_t i = 0; i < c->n_labels; i++)
        if (c->labels[i]->key && strcmp(c->labels[i]->key, key) == 0)
            return str_or_empty(c->labels[i]->value);
    return NULL;
}
