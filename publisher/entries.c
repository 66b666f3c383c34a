/* entries.c - the follow table's registry entries (entries.h). */
#include "entries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry.h"
#include "subject.h"
#include "timeutil.h"

/* Remembers that id's entry under name was not written, for the tick (once per id and
 * name: the tick writes what the engine says then). */
static void unwritten_add(struct lj_table *t, const char *id, const char *name, bool removed)
{
    for (size_t i = 0; i < t->nunwritten; i++)
        if (strcmp(t->unwritten[i].id, id) == 0 && strcmp(t->unwritten[i].name, name) == 0) {
            t->unwritten[i].removed = removed;
            return;
        }
    if (t->nunwritten == t->unwritten_cap) {
        size_t cap = t->unwritten_cap ? t->unwritten_cap * 2 : 16;
        struct lj_table_unwritten *u = realloc(t->unwritten, cap * sizeof *u);
        if (u == NULL) {
            lj_log(LJ_LOG_ERROR, "registry entry lost (out of memory)", "container=%s", name);
            return;
        }
        t->unwritten = u;
        t->unwritten_cap = cap;
    }
    struct lj_table_unwritten *u = &t->unwritten[t->nunwritten++];
    snprintf(u->id, sizeof u->id, "%s", id);
    snprintf(u->name, sizeof u->name, "%s", name);
    u->removed = removed;
}

/* Writes c's registry entry ("removed" is said of containers that were followed,
 * whose labels are gone), with the reason its log cannot be read, if so. Not written
 * (NATS away, a failed write): the tick tries again. */
void lj_entries_put(struct lj_table *t, struct lj_table_env *env,
                    const struct lj_docker_container *c, const char *state,
                    const struct lj_record *renamed_from)
{
    char err[256], q[300];
    struct lj_table_slot *s = lj_table_by_container(t, c->id);
    bool removed = state != NULL && strcmp(state, "removed") == 0;
    if (!removed && !lj_table_selected(env, c))
        return;
    if (!env->nats_ready) {
        unwritten_add(t, c->id, c->name, removed);
    } else if (lj_registry_put(env->sink, t->cfg.host, c, state,
                               s && s->unreadable ? s->reason : NULL, renamed_from, err,
                               sizeof err) != LJ_OK) {
        lj_log(LJ_LOG_WARN, "registry update failed; will retry", "container=%s error=%s",
               c->name, lj_log_quote(q, sizeof q, err));
        unwritten_add(t, c->id, c->name, removed);
    }
}

/* Says in the registry that container id, followed under name, is gone. */
void lj_entries_removed(struct lj_table *t, struct lj_table_env *env, const char *id,
                        const char *name)
{
    struct lj_docker_container c = { 0 };
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "%s", name);
    lj_entries_put(t, env, &c, "removed", NULL);
}

/* A container with no slot (stopped, its follow freed once its lines were stored) was
 * removed or renamed: its entry under name, if the registry has one for this very
 * container, says so. Asking the bucket (one request, only for such events) is exact
 * whatever the selection, and right after a publisher restart too; a container never
 * followed has no entry and gets none. */
void lj_entries_retire(struct lj_table *t, struct lj_table_env *env, const char *id,
                       const char *name)
{
    if (name[0] == '\0')
        return;
    lj_status st = env->nats_ready ? lj_registry_lists(env->sink, t->cfg.host, name, id)
                                   : LJ_NATS;
    if (st == LJ_OK)
        lj_entries_removed(t, env, id, name);
    else if (st != LJ_NOT_FOUND)
        unwritten_add(t, id, name, true);    /* asked again once NATS answers */
}

/* The newest record stored of container id under name: the subject's last record when
 * it is id's, or what name's registry entry kept from an earlier rename, whichever is
 * newer. False when there is neither. *m and *entry hold the memory (freed by the
 * caller, also on false). */
bool lj_entries_newest_stored(struct lj_table *t, struct lj_table_env *env, const char *id,
                              const char *name, lj_pb_record **m, lj_pb_container **entry,
                              struct lj_record *out)
{
    char subject[LJ_SUBJECT_MAX], err[256];
    struct lj_record last, from;
    uint64_t seq;
    bool own = false, renamed;
    *m = NULL;
    *entry = NULL;
    if (lj_subject_build("logs", t->cfg.host, name, subject, sizeof subject) == LJ_OK &&
        lj_sink_last_record(env->sink, subject, m, &seq, err, sizeof err) == LJ_OK) {
        lj_record_view(*m, &last);
        own = strcmp(last.container_id, id) == 0;
    }
    /* (renamed_from is id's: lj_registry_renamed_from checks.) */
    renamed = lj_registry_renamed_from(env->sink, t->cfg.host, name, id, entry, &from) == LJ_OK;
    if (own && (!renamed || lj_record_newest_ts(&last) >= lj_record_newest_ts(&from)))
        *out = last;
    else if (renamed)
        *out = from;
    return own || renamed;
}

/* Container id, named name until now, was renamed to c's name: c's entry keeps where
 * its lines stand under the earlier name (registry.h), so that a publisher that finds
 * nothing of it under the new one resumes there. */
void lj_entries_renamed(struct lj_table *t, struct lj_table_env *env,
                        const struct lj_docker_container *c, const char *name)
{
    lj_pb_record *m;
    lj_pb_container *entry;
    struct lj_record from;
    if (!env->nats_ready)
        return;
    bool have = lj_entries_newest_stored(t, env, c->id, name, &m, &entry, &from);
    lj_entries_put(t, env, c, NULL, have ? &from : NULL);
    lj_container_free(entry);
    lj_record_free(m);
}

/* A stopped container is read to its end as usual when lines of it were stored before
 * (under this name, or under an earlier one it was renamed from): it may have printed
 * its last lines while the publisher was down. */
bool lj_entries_stored(struct lj_table *t, struct lj_table_env *env,
                       const struct lj_docker_container *c)
{
    lj_pb_record *m;
    lj_pb_container *entry;
    struct lj_record last;
    bool own = lj_entries_newest_stored(t, env, c->id, c->name, &m, &entry, &last);
    lj_container_free(entry);
    lj_record_free(m);
    return own;
}

struct lj_entries_last *lj_entries_lasts(struct lj_table *t, struct lj_table_env *env,
                                         size_t *n)
{
    char filter[LJ_SUBJECT_MAX], err[256], **subjects = NULL;
    size_t count = 0;
    struct lj_entries_last *v = NULL;
    *n = 0;
    if (lj_subject_build("logs", t->cfg.host, "x", filter, sizeof filter) != LJ_OK)
        return NULL;
    strcpy(strrchr(filter, '.') + 1, ">");
    if (lj_sink_subjects(env->sink, filter, &subjects, &count, err, sizeof err) != LJ_OK ||
        count == 0 || (v = calloc(count, sizeof *v)) == NULL) {
        lj_sink_subjects_free(subjects, count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        lj_pb_record *m = NULL;
        struct lj_record last;
        uint64_t seq;
        if (lj_sink_last_record(env->sink, subjects[i], &m, &seq, err, sizeof err) != LJ_OK)
            continue;
        lj_record_view(m, &last);
        struct lj_entries_last *e = &v[(*n)++];
        snprintf(e->id, sizeof e->id, "%s", last.container_id);
        snprintf(e->name, sizeof e->name, "%s", last.container);
        e->newest_ts = lj_record_newest_ts(&last);
        lj_record_free(m);
    }
    lj_sink_subjects_free(subjects, count);
    return v;
}

/* c has no record under its name: if a subject's last record is c's under another
 * name, c was renamed while no publisher watched. Its entry then says where its lines
 * stand (as a rename event would have), and true. */
bool lj_entries_renamed_unseen(struct lj_table *t, struct lj_table_env *env,
                               const struct lj_docker_container *c,
                               struct lj_entries_last *v, size_t n)
{
    const struct lj_entries_last *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, c->id) == 0 && strcmp(v[i].name, c->name) != 0 &&
            (best == NULL || v[i].newest_ts > best->newest_ts))
            best = &v[i];
    if (best == NULL)
        return false;
    lj_log(LJ_LOG_INFO, "container renamed while not watched", "from=%s to=%s", best->name,
           c->name);
    lj_entries_renamed(t, env, c, best->name);
    lj_entries_retire(t, env, c->id, best->name);
    return true;
}

/* Writes the registry entries not written before, from the engine's state now. */
void lj_entries_write_unwritten(struct lj_table *t, struct lj_table_env *env)
{
    size_t n = t->nunwritten;
    struct lj_table_unwritten *u = t->unwritten;
    if (n == 0 || !env->nats_ready || !env->engine_up || lj_time_mono_ns() < t->unwritten_at)
        return;
    /* Writes that fail again add to a fresh list. */
    t->unwritten = NULL;
    t->nunwritten = t->unwritten_cap = 0;
    t->unwritten_at = lj_time_mono_ns() + LJ_TABLE_RETRY_NS;
    for (size_t i = 0; i < n; i++) {
        struct lj_docker_container c;
        char err[256];
        lj_status st = u[i].removed ? LJ_NOT_FOUND :
                       lj_docker_inspect(env->docker, u[i].id, &c, err, sizeof err);
        if (st == LJ_OK && strcmp(c.name, u[i].name) == 0)
            lj_entries_put(t, env, &c, NULL, NULL);
        else if (st == LJ_OK || st == LJ_NOT_FOUND)
            lj_entries_retire(t, env, u[i].id, u[i].name);    /* gone, or renamed since */
        else
            unwritten_add(t, u[i].id, u[i].name, u[i].removed);
        if (st == LJ_OK)
            lj_docker_container_finish(&c);
    }
    free(u);
}
