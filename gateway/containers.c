/* containers.c - the container table (containers.h): entries by KV key in a hash
 * table, the JSON the list and /api/containers give, and the lifecycle events a
 * change means (lifecycle.c decides them; this file feeds it old and new states).
 * Does not subscribe, watch or serve anything.
 */
#include "containers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "timeutil.h"

#define NBUCKETS 4096

struct centry {
    char *kvkey;                 /* "<h>.<c>" encoded, owned; table key */
    char *key;                   /* "host/name" */
    char *json;                  /* container object for list and /api/containers */
    struct lj_lifecycle_state lc;   /* its last entry, for lifecycle events */
    bool renamed_away;           /* its container took another name: its removal is no news */
    struct centry *bnext;
};

struct lj_containers {
    struct centry *table[NBUCKETS];
    size_t count;
    struct lj_lifecycle *lifecycle;   /* removals held for a rename */
    struct lj_containers_hooks hooks;
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return (size_t)(h % NBUCKETS);
}

static struct centry *centry_find(const struct lj_containers *t, const char *kvkey)
{
    for (struct centry *c = t->table[hash(kvkey)]; c; c = c->bnext)
        if (strcmp(c->kvkey, kvkey) == 0)
            return c;
    return NULL;
}

static void centry_free(struct centry *c)
{
    free(c->kvkey);
    free(c->key);
    free(c->json);
    free(c);
}

lj_status lj_containers_create(const struct lj_containers_hooks *hooks,
                               struct lj_containers **out)
{
    struct lj_containers *t = calloc(1, sizeof(*t));
    if (!t)
        return LJ_NOMEM;
    if (lj_lifecycle_create(&t->lifecycle) != LJ_OK) {
        free(t);
        return LJ_NOMEM;
    }
    t->hooks = *hooks;
    *out = t;
    return LJ_OK;
}

void lj_containers_destroy(struct lj_containers *t)
{
    if (!t)
        return;
    lj_lifecycle_destroy(t->lifecycle);
    for (size_t b = 0; b < NBUCKETS; b++)
        while (t->table[b]) {
            struct centry *c = t->table[b];
            t->table[b] = c->bnext;
            centry_free(c);
        }
    free(t);
}

/* ---- JSON ---- */

static void time_or_null(struct lj_buf *b, const char *name, int64_t ns)
{
    char ts[LJ_TIME_RFC3339_MAX];
    if (!ns) {
        lj_buf_appendf(b, ",\"%s\":null", name);
        return;
    }
    lj_time_format(ns, ts);
    lj_buf_appendf(b, ",\"%s\":\"%s\"", name, ts);
}

/* The /api/containers object of info. */
static lj_status container_json(const lj_pb_container *c, struct lj_buf *b)
{
    lj_buf_append(b, "{\"host\":", 8);
    lj_json_string(b, c->host ? c->host : "", c->host ? strlen(c->host) : 0);
    lj_buf_append(b, ",\"name\":", 8);
    lj_json_string(b, c->name ? c->name : "", c->name ? strlen(c->name) : 0);
    lj_buf_append(b, ",\"id\":", 6);
    lj_json_string(b, c->id ? c->id : "", c->id ? strlen(c->id) : 0);
    lj_buf_append(b, ",\"image\":", 9);
    lj_json_string(b, c->image ? c->image : "", c->image ? strlen(c->image) : 0);
    lj_buf_append(b, ",\"state\":", 9);
    lj_json_string(b, c->state ? c->state : "", c->state ? strlen(c->state) : 0);
    lj_buf_append(b, ",\"labels\":{", 11);
    for (size_t i = 0; i < c->n_labels; i++) {
        if (i)
            lj_buf_append(b, ",", 1);
        lj_json_string(b, c->labels[i]->key, strlen(c->labels[i]->key));
        lj_buf_append(b, ":", 1);
        lj_json_string(b, c->labels[i]->value, strlen(c->labels[i]->value));
    }
    lj_buf_append(b, "}", 1);
    time_or_null(b, "started_at", c->started_at_unix_nano);
    time_or_null(b, "finished_at", c->finished_at_unix_nano);
    lj_buf_appendf(b, ",\"tty\":%s}", c->tty ? "true" : "false");
    return LJ_OK;
}

void lj_containers_json(const struct lj_containers *t, const struct lj_grant *grant,
                        struct lj_buf *out)
{
    bool first = true;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct centry *c = t->table[b]; c; c = c->bnext) {
            if (!c->key || !c->json || !lj_grant_allows(grant, c->key))
                continue;
            if (!first)
                lj_buf_append(out, ",", 1);
            lj_buf_append(out, c->json, strlen(c->json));
            first = false;
        }
}

/* ---- changes ---- */

/* Another entry with c's container id that is not removed: the old name of a rename
 * whose new name is written first (or NULL). */
static struct centry *centry_twin(const struct lj_containers *t, const struct centry *c)
{
    if (!c->lc.id[0] || strcmp(c->lc.state, "removed") == 0)
        return NULL;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct centry *o = t->table[b]; o; o = o->bnext)
            if (o != c && o->key && !o->renamed_away && strcmp(o->lc.id, c->lc.id) == 0
                && strcmp(o->lc.state, "removed") != 0)
                return o;
    return NULL;
}

void lj_containers_put(struct lj_containers *t, const char *kvkey, const lj_pb_container *info,
                       bool synced)
{
    struct centry *c = centry_find(t, kvkey);
    struct lj_buf b;
    bool fresh = !c;
    struct lj_lifecycle_state was, now;

    if (!info->host || !info->name || !*info->host || !*info->name)
        return;
    lj_buf_init(&b);
    container_json(info, &b);
    if (fresh) {
        if (!(c = calloc(1, sizeof(*c))) || !(c->kvkey = strdup(kvkey))) {
            if (c)
                centry_free(c);
            lj_buf_finish(&b);
            return;
        }
        size_t n = strlen(info->host) + strlen(info->name) + 2;
        if ((c->key = malloc(n)))
            snprintf(c->key, n, "%s/%s", info->host, info->name);
        size_t bk = hash(kvkey);
        c->bnext = t->table[bk];
        t->table[bk] = c;
        t->count++;
    }
    free(c->json);
    c->json = strdup(lj_buf_cstr(&b));
    lj_buf_finish(&b);
    was = c->lc;
    lj_lifecycle_state_of(info, &now);
    /* A "removed" entry carries only the id and name: the run it ended stays known. */
    if (!fresh && strcmp(now.state, "removed") == 0 && !now.started_ns && strcmp(was.id, now.id) == 0) {
        now.started_ns = was.started_ns;
        now.finished_ns = was.finished_ns;
        now.exit_code = was.exit_code;
        now.oom_killed = was.oom_killed;
    }
    c->lc = now;
    if (fresh && c->key)
        t->hooks.discover(t->hooks.arg, c->key);
    /* The entries the bucket held at start-up are no news: events only after them. */
    if (!c->key || !synced)
        return;
    if (c->renamed_away && strcmp(now.state, "removed") == 0) {
        c->renamed_away = false;    /* the second half of a rename already told */
        return;
    }
    struct centry *twin = fresh ? centry_twin(t, c) : NULL;
    if (lj_lifecycle_put(t->lifecycle, c->key, fresh ? NULL : &was, &now, twin ? twin->key : NULL,
                         twin ? &twin->lc : NULL, lj_time_mono_ns(), t->hooks.emit, t->hooks.arg))
        twin->renamed_away = true;
}

void lj_containers_del(struct lj_containers *t, const char *kvkey, bool synced)
{
    struct centry **pp = &t->table[hash(kvkey)];
    while (*pp && strcmp((*pp)->kvkey, kvkey) != 0)
        pp = &(*pp)->bnext;
    if (*pp) {
        struct centry *c = *pp;
        *pp = c->bnext;
        if (c->key && strcmp(c->lc.state, "removed") != 0 && synced) {
            struct lj_lifecycle_state gone = c->lc;
            snprintf(gone.state, sizeof(gone.state), "removed");
            gone.updated_ns = lj_time_now_ns();
            lj_lifecycle_put(t->lifecycle, c->key, &c->lc, &gone, NULL, NULL, lj_time_mono_ns(),
                             t->hooks.emit, t->hooks.arg);
        }
        centry_free(c);
        t->count--;
    }
}

void lj_containers_tick(struct lj_containers *t, int64_t now_mono_ns)
{
    lj_lifecycle_tick(t->lifecycle, now_mono_ns, false, t->hooks.emit, t->hooks.arg);
}

bool lj_containers_has(const struct lj_containers *t, const char *kvkey)
{
    return centry_find(t, kvkey) != NULL;
}

size_t lj_containers_count(const struct lj_containers *t)
{
    return t->count;
}

lj_status lj_containers_each(const struct lj_containers *t,
                             lj_status (*fn)(void *arg, const char *key,
                                             const struct lj_lifecycle_state *lc),
                             void *arg)
{
    lj_status st = LJ_OK;
    for (size_t b = 0; b < NBUCKETS && st == LJ_OK; b++)
        for (const struct centry *c = t->table[b]; c && st == LJ_OK; c = c->bnext)
            if (c->key)
                st = fn(arg, c->key, &c->lc);
    return st;
}
