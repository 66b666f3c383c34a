/* registry.c - ContainerInfo entries in the LOGJET_CONTAINERS bucket: a container
 * from docker.h becomes a plain lj_container view, packed by common/record.c. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "subject.h"
#include "timeutil.h"

lj_status lj_registry_key(const char *host, const char *name, char *dst, size_t n)
{
    char h[LJ_SUBJECT_TOKEN_MAX], c[LJ_SUBJECT_TOKEN_MAX];
    lj_status s;
    if ((s = lj_subject_encode(host, strlen(host), h, sizeof h)) != LJ_OK ||
        (s = lj_subject_encode(name, strlen(name), c, sizeof c)) != LJ_OK)
        return s;
    int len = snprintf(dst, n, "%s.%s", h, c);
    return len < 0 || (size_t)len >= n ? LJ_LIMIT : LJ_OK;
}

/* The bucket's entry for key, unpacked: LJ_OK with *info (lj_container_free it). */
static lj_status get_entry(struct lj_sink *sink, const char *key, lj_pb_container **info)
{
    char err[256];
    uint8_t *value = NULL;
    size_t len = 0;
    lj_status s = lj_sink_kv_get(sink, key, &value, &len, err, sizeof err);
    *info = NULL;
    if (s == LJ_OK)
        s = len > 0 ? lj_container_unpack(value, len, info) : LJ_NOT_FOUND;
    free(value);
    return s;
}

lj_status lj_registry_put(struct lj_sink *sink, const char *host,
                          const struct lj_docker_container *c, const char *state,
                          const char *unreadable_reason, const struct lj_record *renamed_from,
                          char *err, size_t errlen)
{
    char key[2 * LJ_SUBJECT_TOKEN_MAX + 2];
    struct lj_label *labels = calloc(c->nlabels + 1, sizeof *labels);
    lj_pb_container *old = NULL;
    struct lj_container prev;
    uint8_t *buf = NULL;
    size_t len = 0;
    lj_status s;

    if (labels == NULL)
        return LJ_NOMEM;
    if ((s = lj_registry_key(host, c->name, key, sizeof key)) != LJ_OK) {
        free(labels);
        return lj_fail(err, errlen, s, "container name '%s' too long for a key", c->name);
    }
    for (size_t i = 0; i < c->nlabels; i++)
        labels[i] = (struct lj_label){ c->labels[i].key, c->labels[i].value };
    struct lj_container info = {
        .id = c->id, .name = c->name, .image = c->image, .state = state ? state : c->state,
        .host = host, .labels = labels, .nlabels = c->nlabels, .started_ns = c->started_ns,
        .finished_ns = c->finished_ns, .updated_ns = lj_time_now_ns(), .tty = c->tty,
        .exit_code = c->exit_code, .oom_killed = c->oom_killed,
        .unreadable_reason = unreadable_reason,
    };
    bool same = false;
    if (get_entry(sink, key, &old) == LJ_OK) {
        lj_container_view(old, &prev);
        same = strcmp(prev.id, c->id) == 0;
    }
    if (renamed_from != NULL) {
        info.renamed = true;
        info.renamed_from = *renamed_from;
    } else if (same && prev.renamed) {
        info.renamed = true;
        info.renamed_from = prev.renamed_from;
    }
    /* "removed" is said with only an id and a name: the entry keeps what it knew of
     * the container (image, labels, its last run and exit). */
    if (same && renamed_from == NULL && info.state && strcmp(info.state, "removed") == 0)
        s = lj_container_repack(old, "removed", info.updated_ns, &buf, &len);
    else
        s = lj_container_pack_view(&info, &buf, &len);
    if (s == LJ_OK)
        s = lj_sink_kv_put(sink, key, buf, len, err, errlen);
    lj_container_free(old);
    free(buf);
    free(labels);
    return s;
}

lj_status lj_registry_renamed_from(struct lj_sink *sink, const char *host, const char *name,
                                   const char *id, lj_pb_container **holder,
                                   struct lj_record *out)
{
    char key[2 * LJ_SUBJECT_TOKEN_MAX + 2];
    struct lj_container v;
    *holder = NULL;
    if (lj_registry_key(host, name, key, sizeof key) != LJ_OK ||
        get_entry(sink, key, holder) != LJ_OK)
        return LJ_NOT_FOUND;
    lj_container_view(*holder, &v);
    if (!v.renamed || strcmp(v.id, id) != 0 || strcmp(v.renamed_from.container_id, id) != 0) {
        lj_container_free(*holder);
        *holder = NULL;
        return LJ_NOT_FOUND;
    }
    *out = v.renamed_from;
    return LJ_OK;
}

lj_status lj_registry_lists(struct lj_sink *sink, const char *host, const char *name,
                            const char *id)
{
    char key[2 * LJ_SUBJECT_TOKEN_MAX + 2];
    lj_pb_container *info = NULL;
    struct lj_container v;
    lj_status s;

    if ((s = lj_registry_key(host, name, key, sizeof key)) != LJ_OK)
        return LJ_NOT_FOUND;    /* no such key can exist */
    if ((s = get_entry(sink, key, &info)) != LJ_OK)
        return s;
    lj_container_view(info, &v);
    s = strcmp(v.id, id) == 0 && strcmp(v.state, "removed") != 0 ? LJ_OK : LJ_NOT_FOUND;
    lj_container_free(info);
    return s;
}
