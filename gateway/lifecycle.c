/* lifecycle.c - registry entries compared, lifecycle events out (see lifecycle.h).
 *
 * The rules, from one entry of a container to the next:
 *   StartedAt moved (or a new entry that is running): a run began: `started` for a
 *     container never started before, else `restarted`. A run can begin and end
 *     between two entries (a container that exits at once is never seen running), so
 *     the start is judged by StartedAt, not by the state.
 *   the state is an ended one (exited, dead) and the run is new or FinishedAt moved:
 *     `oom_killed` first when State.OOMKilled, then `exited` with the exit code.
 *   the state became "removed": held for a rename, then `removed`.
 *   a put under another key with the id of a held removal: `renamed` (the removal is
 *     dropped; the new key's entry starts no run when StartedAt is the same).
 * Does not know who is told; the hub's emit callback decides.
 */
#include "lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "timeutil.h"

struct pending {
    struct pending *next;
    char *key;
    struct lj_lifecycle_state st;
    int64_t due_ns;
};

struct lj_lifecycle {
    struct pending *removals;    /* waiting for the second half of a rename */
};

lj_status lj_lifecycle_create(struct lj_lifecycle **out)
{
    struct lj_lifecycle *lc = calloc(1, sizeof(*lc));
    if (!lc)
        return LJ_NOMEM;
    *out = lc;
    return LJ_OK;
}

void lj_lifecycle_destroy(struct lj_lifecycle *lc)
{
    if (!lc)
        return;
    for (struct pending *p = lc->removals, *n; p; p = n) {
        n = p->next;
        free(p->key);
        free(p);
    }
    free(lc);
}

void lj_lifecycle_state_of(const lj_pb_container *info, struct lj_lifecycle_state *st)
{
    struct lj_container v;
    lj_container_view(info, &v);
    memset(st, 0, sizeof(*st));
    snprintf(st->id, sizeof(st->id), "%s", v.id);
    snprintf(st->state, sizeof(st->state), "%s", v.state);
    st->started_ns = v.started_ns;
    st->finished_ns = v.finished_ns;
    st->updated_ns = v.updated_ns;
    st->exit_code = v.exit_code;
    st->oom_killed = v.oom_killed;
}

const char *lj_lifecycle_name(enum lj_lifecycle_kind kind)
{
    switch (kind) {
    case LJ_LIFECYCLE_STARTED: return "started";
    case LJ_LIFECYCLE_RESTARTED: return "restarted";
    case LJ_LIFECYCLE_OOM_KILLED: return "oom_killed";
    case LJ_LIFECYCLE_EXITED: return "exited";
    case LJ_LIFECYCLE_REMOVED: return "removed";
    case LJ_LIFECYCLE_RENAMED: return "renamed";
    }
    return "unknown";
}

static bool ended(const struct lj_lifecycle_state *st)
{
    return strcmp(st->state, "exited") == 0 || strcmp(st->state, "dead") == 0;
}

static void emit_kind(enum lj_lifecycle_kind kind, const char *key, const struct lj_lifecycle_state *st,
                      int64_t ts, bool current, lj_lifecycle_emit emit, void *arg)
{
    struct lj_lifecycle_event ev = {
        .kind = kind, .key = key, .ts_ns = ts ? ts : lj_time_now_ns(), .exit_code = st->exit_code,
        .oom_killed = st->oom_killed, .current = current,
    };
    emit(arg, &ev);
}

static void emit_end(const char *key, const struct lj_lifecycle_state *st, bool current,
                     lj_lifecycle_emit emit, void *arg)
{
    if (st->oom_killed)
        emit_kind(LJ_LIFECYCLE_OOM_KILLED, key, st, st->finished_ns, current, emit, arg);
    emit_kind(LJ_LIFECYCLE_EXITED, key, st, st->finished_ns, current, emit, arg);
}

/* The held removal of the container with id under another key than key, unlinked. */
static struct pending *take_rename_source(struct lj_lifecycle *lc, const char *id, const char *key)
{
    for (struct pending **pp = &lc->removals; *pp; pp = &(*pp)->next) {
        struct pending *p = *pp;
        if (id[0] && strcmp(p->st.id, id) == 0 && strcmp(p->key, key) != 0) {
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

/* st: the removed entry; old: the one before it, whose run a rename keeps (a removed
 * entry may carry no times). */
static void hold_removal(struct lj_lifecycle *lc, const char *key, const struct lj_lifecycle_state *old,
                         const struct lj_lifecycle_state *st, int64_t now_ns)
{
    struct pending *p = calloc(1, sizeof(*p));
    if (!p || !(p->key = strdup(key))) {
        free(p);
        return;    /* out of memory: this removal is not told */
    }
    p->st = *st;
    if (!p->st.started_ns && old)
        p->st.started_ns = old->started_ns;
    p->due_ns = now_ns + LJ_LIFECYCLE_RENAME_WAIT_NS;
    p->next = lc->removals;
    lc->removals = p;
}

bool lj_lifecycle_put(struct lj_lifecycle *lc, const char *key, const struct lj_lifecycle_state *old,
                      const struct lj_lifecycle_state *now, const char *twin_key,
                      const struct lj_lifecycle_state *twin, int64_t now_ns, lj_lifecycle_emit emit,
                      void *arg)
{
    bool removed = strcmp(now->state, "removed") == 0;
    struct pending *from = removed ? NULL : take_rename_source(lc, now->id, key);

    if (!from && !removed && !old && twin && twin_key && now->id[0] && strcmp(twin->id, now->id) == 0) {
        /* the new name written before the old one's removal */
        struct lj_lifecycle_event ev = { .kind = LJ_LIFECYCLE_RENAMED, .key = twin_key, .new_key = key,
                                         .ts_ns = now->updated_ns ? now->updated_ns : lj_time_now_ns() };
        emit(arg, &ev);
        return true;
    }
    if (from) {
        struct lj_lifecycle_event ev = { .kind = LJ_LIFECYCLE_RENAMED, .key = from->key, .new_key = key,
                                         .ts_ns = now->updated_ns ? now->updated_ns : lj_time_now_ns() };
        emit(arg, &ev);
        bool same_run = from->st.started_ns == now->started_ns;
        free(from->key);
        free(from);
        if (!old && same_run)
            return false;    /* the same run under its new name */
    }
    if (removed) {
        if (!old || strcmp(old->state, "removed") != 0)
            hold_removal(lc, key, old, now, now_ns);
        return false;
    }
    bool running = strcmp(now->state, "running") == 0;
    bool started = now->started_ns > 0 && (old ? old->started_ns != now->started_ns
                                              : running || ended(now));
    if (started)
        emit_kind(old && old->started_ns ? LJ_LIFECYCLE_RESTARTED : LJ_LIFECYCLE_STARTED, key, now,
                  now->started_ns, false, emit, arg);
    if (ended(now) && (started || !old || !ended(old) || old->finished_ns != now->finished_ns))
        emit_end(key, now, false, emit, arg);
    return false;
}

void lj_lifecycle_tick(struct lj_lifecycle *lc, int64_t now_ns, bool flush, lj_lifecycle_emit emit,
                       void *arg)
{
    for (struct pending **pp = &lc->removals; *pp;) {
        struct pending *p = *pp;
        if (!flush && now_ns < p->due_ns) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        emit_kind(LJ_LIFECYCLE_REMOVED, p->key, &p->st, p->st.updated_ns, false, emit, arg);
        free(p->key);
        free(p);
    }
}

void lj_lifecycle_current(const char *key, const struct lj_lifecycle_state *st,
                          lj_lifecycle_emit emit, void *arg)
{
    if (st->started_ns)
        emit_kind(LJ_LIFECYCLE_STARTED, key, st, st->started_ns, true, emit, arg);
    if (ended(st) || (strcmp(st->state, "removed") == 0 && st->finished_ns))
        emit_end(key, st, true, emit, arg);
    if (strcmp(st->state, "removed") == 0)
        emit_kind(LJ_LIFECYCLE_REMOVED, key, st, st->updated_ns, true, emit, arg);
}

void lj_lifecycle_json(const struct lj_lifecycle_event *ev, struct lj_buf *b)
{
    char ts[LJ_TIME_RFC3339_MAX];
    lj_time_format(ev->ts_ns, ts);
    lj_buf_append(b, ",\"container\":", 13);
    lj_json_string(b, ev->key, strlen(ev->key));
    lj_buf_appendf(b, ",\"event\":\"%s\",\"ts\":\"%s\"", lj_lifecycle_name(ev->kind), ts);
    if (ev->kind == LJ_LIFECYCLE_EXITED || ev->kind == LJ_LIFECYCLE_OOM_KILLED)
        lj_buf_appendf(b, ",\"exit_code\":%d,\"oom_killed\":%s", ev->exit_code,
                       ev->oom_killed ? "true" : "false");
    if (ev->kind == LJ_LIFECYCLE_RENAMED && ev->new_key) {
        lj_buf_append(b, ",\"new_container\":", 17);
        lj_json_string(b, ev->new_key, strlen(ev->new_key));
    }
    if (ev->current)
        lj_buf_append(b, ",\"current\":true", 15);
    lj_buf_append(b, "}", 1);
}
