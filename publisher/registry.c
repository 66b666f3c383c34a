/* registry.c - ContainerInfo entries in the LOGJET_CONTAINERS bucket. */
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

lj_status lj_registry_put(struct lj_sink *sink, const char *host,
                          const struct lj_docker_container *c, const char *state, char *err,
                          size_t errlen)
{
    char key[2 * LJ_SUBJECT_TOKEN_MAX + 2];
    int nlabels = cJSON_GetArraySize(c->labels), i = 0;
    Logjet__V1__ContainerInfo__LabelsEntry *entries = NULL, **ptrs = NULL;
    lj_pb_container info;
    uint8_t *buf = NULL;
    size_t len = 0;
    lj_status s;

    if ((s = lj_registry_key(host, c->name, key, sizeof key)) != LJ_OK)
        return lj_fail(err, errlen, s, "container name '%s' too long for a key", c->name);
    entries = calloc((size_t)nlabels + 1, sizeof *entries);
    ptrs = calloc((size_t)nlabels + 1, sizeof *ptrs);
    if (entries == NULL || ptrs == NULL) {
        s = LJ_NOMEM;
        goto out;
    }
    const cJSON *label;
    cJSON_ArrayForEach(label, c->labels) {
        if (!cJSON_IsString(label))
            continue;
        logjet__v1__container_info__labels_entry__init(&entries[i]);
        entries[i].key = label->string;
        entries[i].value = label->valuestring;
        ptrs[i] = &entries[i];
        i++;
    }
    logjet__v1__container_info__init(&info);
    info.id = (char *)c->id;
    info.name = (char *)c->name;
    info.image = (char *)c->image;
    info.n_labels = (size_t)i;
    info.labels = ptrs;
    info.state = (char *)(state ? state : c->state);
    info.host = (char *)host;
    info.started_at_unix_nano = c->started_ns;
    info.finished_at_unix_nano = c->finished_ns;
    info.tty = c->tty;
    info.exit_code = c->exit_code;
    info.oom_killed = c->oom_killed;
    info.updated_at_unix_nano = lj_time_now_ns();
    if ((s = lj_container_pack(&info, &buf, &len)) == LJ_OK)
        s = lj_sink_kv_put(sink, key, buf, len, err, errlen);
out:
    free(buf);
    free(ptrs);
    free(entries);
    return s;
}
