/* tail.c - one logjet-tail run: which containers, their history, the live stream, the
 * reorder window, filters and output.
 *
 * Everything here runs on the main thread (source.h names the others). The order of a
 * start is what makes the switch from history to live exact:
 *   1. subscribe to the live subject and flush (every line stored from now on arrives
 *      there), then read the stream's last sequence: the boundary B;
 *   2. read each selected container's history from JetStream up to B;
 *   3. take live lines; a line at or below what a container already took is dropped
 *      (at most once, keyed by stream sequence), and a line whose Nats-Last-Sequence
 *      is above it means lines were missed (a dropped republish, a container selected
 *      late): they are read back from JetStream first.
 * A hole that JetStream cannot fill any more (lines expired) is counted from line_no
 * and printed as one gap line. Does not parse options (main.c) or talk NATS (source.c).
 */
#include "tail.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "merge.h"
#include "record.h"
#include "resume.h"
#include "source.h"
#include "subject.h"
#include "timeutil.h"

#define OUT_FLUSH_BYTES (64 * 1024)
#define LOOP_WAIT_MS 50
#define REGISTRY_WAIT_MS 3000
#define SINCE_STORE_MARGIN_NS (60LL * 1000000000)  /* stored time may trail Docker's */

enum sel { SEL_UNDECIDED, SEL_NO, SEL_YES };

/* One container ("<host>.<container>" key), seen in the stream or the registry. */
struct ctr {
    struct ctr *hnext;
    char *key, *subject, *host, *name;
    enum sel sel;
    bool decided;                 /* sel was worked out at least once */
    bool resumed;                 /* had an entry in the resume file */
    uint64_t taken_seq;           /* every line with seq <= this was taken or skipped */
    uint64_t taken_line_no;       /* line_no of the newest line taken; 0 = unknown */
    int64_t taken_ts;             /* Docker timestamp of the newest line taken */
    uint64_t done_seq, done_line_no; /* handed to the filter: what the resume file says */
    struct lj_merge_src src;
    struct lj_context ctx;
    lj_pb_container *info;        /* newest registry entry, owned; NULL = none */
    int64_t removed_due;          /* mono ns when its "removed" event prints, 0 = none */
    int64_t removed_ts;           /* the removal's registry time */
};

enum item_kind { IT_LINE, IT_GAP, IT_EVENT };

struct item {
    struct lj_merge_item m;       /* first: items are found from it */
    enum item_kind kind;
    struct ctr *c;
    uint64_t seq;
    lj_pb_record *holder;
    struct lj_record r;
    uint64_t gap_after, gap_next;
    struct lj_print_event ev;
    char *ev_detail;
    char ev_what[32];             /* ev.what points here: registry entries do not last */
    int64_t due;                  /* held events: mono ns when they join the merge */
};

struct tail {
    struct lj_tail_config *cfg;
    struct lj_source *src;
    struct ctr **buckets;
    size_t nbuckets, nctrs;
    struct ctr **all;             /* every ctr, for iteration */
    struct lj_merge merge;
    struct item **held;           /* lifecycle lines waiting for their container's lines */
    size_t nheld;
    uint64_t boundary;            /* B above */
    uint64_t resume_mark;         /* from the file: lines above it are new to us */
    uint64_t mark;                /* highest live seq handled */
    struct ctr **removals;        /* removed ones whose event waits: a rename? */
    size_t nremovals;
    struct lj_buf out, scratch;
    char err[512];
    bool live;                    /* history is done: later selections start at the boundary */
    bool failed, out_closed;
    uint64_t printed;
};

/* ---- the container table ---- */

static size_t hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211u;
    return h;
}

static void ctr_free(struct ctr *c)
{
    lj_context_finish(&c->ctx, NULL);
    lj_container_free(c->info);
    free(c->key);
    free(c->subject);
    free(c->host);
    free(c->name);
    free(c);
}

static lj_status grow_table(struct tail *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 1024;
    struct ctr **b = calloc(n, sizeof *b);
    struct ctr **all = realloc(t->all, n * sizeof *all);
    if (b == NULL || all == NULL) {
        free(b);
        if (all)
            t->all = all;
        return LJ_NOMEM;
    }
    t->all = all;
    for (size_t i = 0; i < t->nctrs; i++) {
        struct ctr *c = t->all[i];
        size_t h = hash(c->key) % n;
        c->hnext = b[h];
        b[h] = c;
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
    return LJ_OK;
}

/* Splits "<htok>.<ctok>" and decodes both; LJ_INVAL when key is not such a key. */
static lj_status decode_key(const char *key, char **host, char **name)
{
    const char *dot = strchr(key, '.');
    char h[LJ_SUBJECT_TOKEN_MAX], tok[LJ_SUBJECT_TOKEN_MAX], n[LJ_SUBJECT_TOKEN_MAX];
    size_t hl, nl;
    if (dot == NULL || strchr(dot + 1, '.') || (size_t)(dot - key) >= sizeof tok)
        return LJ_INVAL;
    memcpy(tok, key, (size_t)(dot - key));
    tok[dot - key] = '\0';
    if (lj_subject_decode(tok, h, sizeof h, &hl) != LJ_OK
        || lj_subject_decode(dot + 1, n, sizeof n, &nl) != LJ_OK
        || memchr(h, '\0', hl) || memchr(n, '\0', nl))
        return LJ_INVAL;
    *host = strndup(h, hl);
    *name = strndup(n, nl);
    return *host && *name ? LJ_OK : LJ_NOMEM;
}

/* The ctr of key, created when missing; NULL when key is malformed or on no memory. */
static struct ctr *ctr_get(struct tail *t, const char *key)
{
    size_t h = t->nbuckets ? hash(key) % t->nbuckets : 0;
    for (struct ctr *c = t->nbuckets ? t->buckets[h] : NULL; c; c = c->hnext)
        if (strcmp(c->key, key) == 0)
            return c;
    if (t->nctrs == t->nbuckets && grow_table(t) != LJ_OK)
        return NULL;
    struct ctr *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if ((c->key = strdup(key)) == NULL || decode_key(key, &c->host, &c->name) != LJ_OK
        || asprintf(&c->subject, "logs.%s", key) < 0) {
        c->subject = NULL;
        ctr_free(c);
        return NULL;
    }
    lj_merge_src_init(&c->src);
    h = hash(key) % t->nbuckets;
    c->hnext = t->buckets[h];
    t->buckets[h] = c;
    t->all[t->nctrs++] = c;
    return c;
}

/* Decides whether c is followed; a yes is final (a container that stops matching its
 * --state keeps its last lines on screen). */
static void decide(struct tail *t, struct ctr *c)
{
    if (c->sel == SEL_YES)
        return;
    c->decided = true;
    switch (lj_select_match(&t->cfg->select, c->host, c->name, c->info)) {
    case LJ_SELECT_YES:
        if (lj_context_init(&c->ctx, t->cfg->filter.before) != LJ_OK)
            return;
        c->sel = SEL_YES;
        /* Selected after start: every line stored since the boundary is its news. */
        if (t->live && c->taken_seq < t->boundary && !c->resumed)
            c->taken_seq = t->boundary;
        break;
    case LJ_SELECT_NO:
        c->sel = SEL_NO;
        break;
    case LJ_SELECT_NEED_INFO:
        c->sel = SEL_UNDECIDED;
        break;
    }
}

/* ---- output ---- */

static void write_all(struct tail *t, const char *p, size_t n)
{
    while (n > 0 && !t->out_closed) {
        ssize_t w = write(t->cfg->out_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->out_closed = true;    /* e.g. `| head`: stop quietly */
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Saves the resume file, then writes what is buffered: a crash between the two loses
 * lines from the screen but never prints one twice in a later run. */
static void flush_out(struct tail *t, bool force)
{
    if (t->out.len == 0 && !force)
        return;
    if (t->cfg->resume_path) {
        struct lj_resume_entry *e = calloc(t->nctrs ? t->nctrs : 1, sizeof *e);
        size_t n = 0;
        for (size_t i = 0; e && i < t->nctrs; i++)
            if (t->all[i]->sel == SEL_YES && t->all[i]->done_seq > 0)
                e[n++] = (struct lj_resume_entry){ t->all[i]->subject, t->all[i]->done_seq,
                                                   t->all[i]->done_line_no };
        char err[512];
        if (e == NULL || lj_resume_save(t->cfg->resume_path, t->mark, e, n, err, sizeof err) != LJ_OK)
            lj_log(LJ_LOG_WARN, "cannot save the resume file", "error=\"%s\"", e ? err : "no memory");
        free(e);
    }
    write_all(t, t->out.data, t->out.len);
    lj_buf_reset(&t->out);
}

static void item_free(struct item *it)
{
    if (it == NULL)
        return;
    lj_record_free(it->holder);
    free(it->ev_detail);
    free(it);
}

static void item_drop(void *p)
{
    item_free(p);
}

static void emit_line(struct tail *t, struct item *it)
{
    if (lj_print_record(&t->cfg->print, &it->r, it->seq, &t->out, &t->scratch) == LJ_OK)
        t->printed++;
}

/* A line leaves the merge: the filter decides, context may release held lines. */
static void offer_line(struct tail *t, struct item *it)
{
    struct ctr *c = it->c;
    const struct lj_filter *f = &t->cfg->filter;
    void *out[LJ_FILTER_CONTEXT_MAX + 1], *dropped = NULL;
    bool sep;
    c->done_seq = it->seq;
    c->done_line_no = it->r.line_no;
    if (!lj_filter_keep(f, it->r.level, it->r.stream, it->r.line, it->r.line_len)) {
        item_free(it);
        return;
    }
    bool match = lj_filter_match(f, it->r.line, it->r.line_len);
    size_t n = lj_context_offer(&c->ctx, f, match, it, out, &sep, &dropped);
    if (n > 0 && sep)
        lj_print_separator(&t->cfg->print, &t->out);
    for (size_t i = 0; i < n; i++) {
        emit_line(t, out[i]);
        item_free(out[i]);
    }
    item_free(dropped);
}

static void emit(struct tail *t, struct item *it)
{
    switch (it->kind) {
    case IT_LINE:
        offer_line(t, it);
        break;
    case IT_GAP:
        lj_print_gap(&t->cfg->print, it->c->host, it->c->name, it->gap_after, it->gap_next,
                     "not in the stream any more", &t->out);
        item_free(it);
        break;
    case IT_EVENT:
        lj_print_event(&t->cfg->print, &it->ev, &t->out);
        item_free(it);
        break;
    }
    if (t->out.len >= OUT_FLUSH_BYTES)
        flush_out(t, false);
}

/* Prints every item that is due (all of them when flush). */
static void drain(struct tail *t, bool flush)
{
    struct lj_merge_src *src;
    struct lj_merge_item *m;
    int64_t now = lj_time_mono_ns();
    while ((m = lj_merge_pop(&t->merge, now, t->cfg->delay_ns, flush, &src)) != NULL)
        emit(t, (struct item *)m);
}

/* ---- taking lines ---- */

static void push(struct tail *t, struct lj_merge_src *src, struct item *it, int64_t ts,
                 int64_t arrived)
{
    if (lj_merge_push(&t->merge, src, &it->m, ts, arrived) != LJ_OK) {
        item_free(it);
        t->failed = true;
        snprintf(t->err, sizeof t->err, "out of memory in the reorder window");
    }
}

/* Takes one stored line of c into the merge: once per sequence, with a gap item in
 * front when line_no jumps. arrived 0 = due at once (history). Returns false when the
 * line is past --until (the reader may stop). */
static bool take(struct tail *t, struct ctr *c, uint64_t seq, const uint8_t *data, size_t len,
                 int64_t arrived)
{
    struct item *it;
    if (seq <= c->taken_seq)
        return true;
    c->taken_seq = seq;
    if ((it = calloc(1, sizeof *it)) == NULL || lj_record_unpack_view(data, len, &it->holder, &it->r) != LJ_OK) {
        item_free(it);    /* not a LogRecord: nothing to print */
        return true;
    }
    it->kind = IT_LINE;
    it->c = c;
    it->seq = seq;
    if (t->cfg->until_ns && it->r.ts_unix_nano > t->cfg->until_ns) {
        item_free(it);
        return false;
    }
    if (t->cfg->since_ns && it->r.ts_unix_nano < t->cfg->since_ns) {
        c->taken_line_no = it->r.line_no;
        item_free(it);
        return true;
    }
    if (c->taken_line_no > 0 && it->r.line_no > c->taken_line_no + 1) {
        struct item *gap = calloc(1, sizeof *gap);
        if (gap) {
            gap->kind = IT_GAP;
            gap->c = c;
            gap->gap_after = c->taken_line_no;
            gap->gap_next = it->r.line_no;
            push(t, &c->src, gap, it->r.ts_unix_nano, arrived);
        }
    }
    c->taken_line_no = it->r.line_no;
    if (it->r.ts_unix_nano > c->taken_ts)
        c->taken_ts = it->r.ts_unix_nano;
    push(t, &c->src, it, it->r.ts_unix_nano, arrived);
    return true;
}

/* ---- history ---- */

struct reader {
    struct tail *t;
    struct ctr *c;
    int64_t arrived;
    /* --tail N: the last N (seq, data) seen, in a ring */
    long keep;
    struct kept { uint64_t seq; uint8_t *data; size_t len; } *ring;
    size_t start, n;
    bool stopped_by_until;
};

static bool read_direct(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    struct reader *r = arg;
    return take(r->t, r->c, seq, data, len, r->arrived);
}

/* true when a stored line is inside --since/--until; *past when after --until. */
static bool in_window(const struct lj_tail_config *cfg, const uint8_t *data, size_t len, bool *past)
{
    lj_pb_record *holder = NULL;
    struct lj_record v;
    bool in = true;
    *past = false;
    if ((cfg->since_ns || cfg->until_ns) && lj_record_unpack_view(data, len, &holder, &v) == LJ_OK) {
        *past = cfg->until_ns && v.ts_unix_nano > cfg->until_ns;
        in = !*past && !(cfg->since_ns && v.ts_unix_nano < cfg->since_ns);
    }
    lj_record_free(holder);
    return in;
}

static bool read_ring(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
    struct reader *r = arg;
    bool past;
    if (!in_window(r->t->cfg, data, len, &past))
        return !past;    /* --tail counts lines inside the window only */
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return false;
    memcpy(copy, data, len);
    if (r->n == (size_t)r->keep) {
        free(r->ring[r->start].data);
        r->start = (r->start + 1) % (size_t)r->keep;
        r->n--;
    }
    r->ring[(r->start + r->n++) % (size_t)r->keep] = (struct kept){ seq, copy, len };
    return true;
}

/* Reads c's stored lines up to the boundary into the merge. */
static void read_history(struct tail *t, struct ctr *c)
{
    struct lj_tail_config *cfg = t->cfg;
    struct reader r = { .t = t, .c = c, .arrived = 0, .keep = cfg->tail };
    uint64_t from = 1;
    int64_t from_ns = 0;
    bool all = true;
    char err[512];

    if (c->resumed) {
        from = c->taken_seq + 1;               /* exactly after the previous run */
    } else if (t->resume_mark > 0) {
        from = t->resume_mark + 1;             /* new since the previous run: all of it */
        c->taken_seq = t->resume_mark;
    } else {
        if (cfg->since_ns)
            from_ns = cfg->since_ns - SINCE_STORE_MARGIN_NS;
        all = cfg->tail < 0;
    }
    if (!all && cfg->tail == 0) {
        c->taken_seq = t->boundary;
        return;
    }
    if (!all && (r.ring = calloc((size_t)cfg->tail, sizeof *r.ring)) == NULL)
        return;
    lj_status st = lj_source_read(t->src, c->subject, from, from_ns > 0 ? from_ns : 0, t->boundary,
                                  all ? read_direct : read_ring, &r, err, sizeof err);
    if (st != LJ_OK)
        lj_log(LJ_LOG_WARN, "cannot read history", "container=%s/%s error=\"%s\"", c->host,
               c->name, err);
    for (size_t i = 0; i < r.n; i++) {
        struct kept *k = &r.ring[(r.start + i) % (size_t)cfg->tail];
        take(t, c, k->seq, k->data, k->len, 0);
        free(k->data);
    }
    free(r.ring);
    /* Everything up to the boundary was considered, printed or not. */
    if (c->taken_seq < t->boundary)
        c->taken_seq = t->boundary;
}

/* Reads back what c missed before the live line at seq (Nats-Last-Sequence said so). */
static void fill(struct tail *t, struct ctr *c, uint64_t seq)
{
    struct reader r = { .t = t, .c = c, .arrived = lj_time_mono_ns() };
    char err[512];
    if (lj_source_read_direct(t->src, c->subject, c->taken_seq + 1, seq - 1, read_direct, &r, err,
                              sizeof err) != LJ_OK)
        lj_log(LJ_LOG_WARN, "cannot read missed lines", "container=%s/%s error=\"%s\"", c->host,
               c->name, err);
}

/* ---- the registry ---- */

/* A lifecycle line joins its container's own lines, so it keeps its place among them
 * whatever the timestamps say (Docker stamps a run's last lines when it reads them,
 * which can be after FinishedAt; StartedAt is taken after the process already runs).
 * A start goes in at once: the publisher writes the registry before it follows the new
 * run. Anything else waits this long first, as the registry hears of an exit before
 * the container's last lines have come through the publisher. */
#define EVENT_HOLD_NS (1500 * 1000000LL)
#define START_LEAD_NS (1000 * 1000000LL)

static void push_event(struct tail *t, struct ctr *c, const char *what, int64_t ts,
                       const struct lj_container *v, bool exit_code, const char *detail)
{
    struct item *it = calloc(1, sizeof *it);
    if (it == NULL)
        return;
    it->kind = IT_EVENT;
    it->c = c;
    snprintf(it->ev_what, sizeof it->ev_what, "%s", what);
    it->ev = (struct lj_print_event){ .host = c->host, .name = c->name, .what = it->ev_what,
                                      .ts_ns = ts ? ts : lj_time_now_ns(),
                                      .has_exit_code = exit_code, .exit_code = v->exit_code,
                                      .oom_killed = v->oom_killed };
    if (detail && (it->ev_detail = strdup(detail)) != NULL)
        it->ev.detail = it->ev_detail;
    if (strcmp(what, "started") == 0) {
        /* Before any line of the run already waiting in the window: StartedAt is taken
         * after the process runs, so its first lines may carry earlier timestamps. */
        int64_t at = it->ev.ts_ns - START_LEAD_NS;
        if (at <= v->finished_ns)
            at = v->finished_ns + 1;
        if (lj_merge_insert(&t->merge, &c->src, &it->m, at, lj_time_mono_ns()) != LJ_OK)
            item_free(it);
        return;
    }
    struct item **grown = realloc(t->held, (t->nheld + 1) * sizeof *grown);
    if (grown == NULL) {
        item_free(it);
        return;
    }
    t->held = grown;
    it->due = lj_time_mono_ns() + EVENT_HOLD_NS;
    t->held[t->nheld++] = it;
}

/* Held lifecycle lines whose wait is over (all when flush) join their container. */
static void events_release(struct tail *t, bool flush)
{
    int64_t now = lj_time_mono_ns();
    for (size_t i = 0; i < t->nheld;) {
        struct item *it = t->held[i];
        if (!flush && now < it->due) {
            i++;
            continue;
        }
        t->held[i] = t->held[--t->nheld];
        int64_t ts = it->ev.ts_ns > it->c->taken_ts ? it->ev.ts_ns : it->c->taken_ts;
        push(t, &it->c->src, it, ts, now);
    }
}

/* A "removed" entry may be the first half of a rename (the publisher writes the old
 * name as removed, then the new name with the same id): its event waits this long for
 * the second half before it prints as a removal. */
#define RENAME_WAIT_NS (1500 * 1000000LL)

static void removal_due(struct tail *t, struct ctr *c, int64_t ts)
{
    struct ctr **grown = realloc(t->removals, (t->nremovals + 1) * sizeof *grown);
    if (grown == NULL)
        return;
    t->removals = grown;
    c->removed_due = lj_time_mono_ns() + RENAME_WAIT_NS;
    c->removed_ts = ts;
    t->removals[t->nremovals++] = c;
}

static void removal_drop(struct tail *t, size_t i)
{
    t->removals[i]->removed_due = 0;
    t->removals[i] = t->removals[--t->nremovals];
}

/* Prints the removals that waited long enough (all of them when flush). */
static void removals_expire(struct tail *t, bool flush)
{
    int64_t now = lj_time_mono_ns();
    for (size_t i = 0; i < t->nremovals;) {
        struct ctr *c = t->removals[i];
        if (!flush && now < c->removed_due) {
            i++;
            continue;
        }
        struct lj_container v;
        lj_container_view(c->info, &v);
        push_event(t, c, "removed", c->removed_ts, &v, false, NULL);
        removal_drop(t, i);
    }
}

/* The waiting removal of the container with id, under another key than key: a rename. */
static struct ctr *rename_source(struct tail *t, const char *id, const char *key, size_t *at)
{
    for (size_t i = 0; i < t->nremovals; i++) {
        struct lj_container v;
        lj_container_view(t->removals[i]->info, &v);
        if (v.id[0] && strcmp(v.id, id) == 0 && strcmp(t->removals[i]->key, key) != 0) {
            *at = i;
            return t->removals[i];
        }
    }
    return NULL;
}

/* The lifecycle change from old to new of container c, as event lines. */
static void lifecycle(struct tail *t, struct ctr *c, const lj_pb_container *old,
                      const lj_pb_container *new)
{
    struct lj_container o = { .state = "" }, n;
    size_t at;
    if (old)
        lj_container_view(old, &o);
    lj_container_view(new, &n);
    bool was_running = strcmp(o.state, "running") == 0, running = strcmp(n.state, "running") == 0;
    struct ctr *from = strcmp(n.state, "removed") != 0 ? rename_source(t, n.id, c->key, &at) : NULL;
    if (from != NULL) {
        push_event(t, from, "renamed", from->removed_ts, &n, false, n.name);
        removal_drop(t, at);
        if (old == NULL || o.started_ns == n.started_ns)
            return;    /* the same run under its new name */
    }
    bool ended = strcmp(n.state, "exited") == 0 || strcmp(n.state, "dead") == 0
                 || strcmp(n.state, "removing") == 0;
    /* A run is new when StartedAt moved, even if it already ended by the time the
     * publisher looked (a container that exits at once is never seen running). */
    bool started = n.started_ns > 0
                   && (old == NULL ? running : o.started_ns != n.started_ns);
    if (started)
        push_event(t, c, "started", n.started_ns, &n, false, NULL);
    if (ended && (was_running || started || old == NULL
                  || o.finished_ns != n.finished_ns)) {
        push_event(t, c, n.oom_killed ? "OOM-killed" : "exited", n.finished_ns, &n, true, NULL);
    } else if (strcmp(n.state, "removed") == 0 && strcmp(o.state, "removed") != 0) {
        if (c->removed_due == 0)
            removal_due(t, c, n.updated_ns);
    } else if (!started && !ended && strcmp(n.state, o.state) != 0 && !(running && was_running)) {
        push_event(t, c, n.state, n.updated_ns, &n, false, NULL);
    }
}

static void registry_changes(struct tail *t, struct lj_source_entry *list)
{
    for (struct lj_source_entry *e = list, *next; e; e = next) {
        next = e->next;
        struct ctr *c = ctr_get(t, e->key);
        if (c != NULL && e->info != NULL) {
            lj_pb_container *old = c->info;
            c->info = e->info;
            e->info = NULL;
            decide(t, c);
            if (t->cfg->events && !e->initial && c->sel == SEL_YES)
                lifecycle(t, c, old, c->info);
            lj_container_free(old);
        }
        lj_source_entry_free(e);
    }
    if (t->cfg->events) {
        removals_expire(t, false);
        events_release(t, false);
    }
}

/* ---- start-up ---- */

static void add_subject(void *arg, const char *subject)
{
    struct tail *t = arg;
    if (strncmp(subject, "logs.", 5) == 0)
        ctr_get(t, subject + 5);
}

static lj_status load_entry(void *arg, const char *subject, uint64_t seq, uint64_t line_no)
{
    struct tail *t = arg;
    struct ctr *c = strncmp(subject, "logs.", 5) == 0 ? ctr_get(t, subject + 5) : NULL;
    if (c != NULL) {
        c->resumed = true;
        c->taken_seq = c->done_seq = seq;
        c->taken_line_no = c->done_line_no = line_no;
    }
    return LJ_OK;
}

static lj_status start(struct tail *t)
{
    struct lj_tail_config *cfg = t->cfg;
    struct lj_source_config sc = { .nats = cfg->nats, .name = cfg->nats_name, .stream = cfg->stream,
                                   .live_subject = cfg->live_subject,
                                   .pending_msgs = 1000000, .pending_bytes = 256 * 1024 * 1024 };
    lj_status st = lj_source_create(&sc, &t->src, t->err, sizeof t->err);
    if (st == LJ_OK && cfg->resume_path)
        st = lj_resume_load(cfg->resume_path, &t->resume_mark, load_entry, t, t->err, sizeof t->err);
    if (st == LJ_OK && cfg->follow)
        st = lj_source_live_start(t->src, t->err, sizeof t->err);
    if (st == LJ_OK)
        st = lj_source_last_seq(t->src, &t->boundary, t->err, sizeof t->err);
    if (st == LJ_OK)
        st = lj_source_subjects(t->src, "logs.>", add_subject, t, t->err, sizeof t->err);
    if (st != LJ_OK)
        return st;
    t->mark = t->boundary;
    lj_source_registry_wait(t->src, REGISTRY_WAIT_MS);
    registry_changes(t, lj_source_registry_take(t->src));
    return LJ_OK;
}

/* Decides every known container and reads the history of the selected ones. */
static size_t history(struct tail *t)
{
    size_t selected = 0;
    for (size_t i = 0; i < t->nctrs; i++) {
        struct ctr *c = t->all[i];
        decide(t, c);
        if (c->sel != SEL_YES)
            continue;
        selected++;
        read_history(t, c);
    }
    drain(t, true);
    flush_out(t, false);
    t->live = true;
    return selected;
}

/* ---- live ---- */

static void live_line(struct tail *t, struct lj_source_msg *m)
{
    struct ctr *c = strncmp(m->subject, "logs.", 5) == 0 ? ctr_get(t, m->subject + 5) : NULL;
    if (m->seq > t->mark)
        t->mark = m->seq;
    if (c == NULL)
        return;
    if (!c->decided)
        decide(t, c);
    if (c->sel != SEL_YES)
        return;
    if (m->last_seq > c->taken_seq && m->seq > c->taken_seq)
        fill(t, c, m->seq);
    take(t, c, m->seq, m->data, m->len, lj_time_mono_ns());
}

static int wait_ms(struct tail *t)
{
    int64_t due = lj_merge_deadline(&t->merge, t->cfg->delay_ns);
    if (due == INT64_MAX)
        return LOOP_WAIT_MS;
    int64_t ms = (due - lj_time_mono_ns()) / 1000000 + 1;
    return ms < 1 ? 1 : ms > LOOP_WAIT_MS ? LOOP_WAIT_MS : (int)ms;
}

static void follow(struct tail *t, volatile int *stop)
{
    struct lj_tail_config *cfg = t->cfg;
    while (!*stop && !t->failed && !t->out_closed) {
        struct lj_source_msg m;
        lj_status st = lj_source_next(t->src, wait_ms(t), &m);
        if (st == LJ_OK) {
            live_line(t, &m);
            lj_source_msg_free(&m);
            /* Take everything already waiting before printing: fewer, larger writes. */
            for (int i = 0; i < 4096 && lj_source_next(t->src, 1, &m) == LJ_OK; i++) {
                live_line(t, &m);
                lj_source_msg_free(&m);
            }
        } else if (st == LJ_CLOSED) {
            break;
        }
        registry_changes(t, lj_source_registry_take(t->src));
        drain(t, false);
        flush_out(t, false);
        if (cfg->until_ns && lj_time_now_ns() > cfg->until_ns + cfg->delay_ns)
            break;
    }
}

int lj_tail_run(struct lj_tail_config *cfg, volatile int *stop)
{
    struct tail t = { .cfg = cfg };
    int rc = 0;
    lj_merge_init(&t.merge, (size_t)cfg->buffer_lines);
    lj_buf_init(&t.out);
    lj_buf_init(&t.scratch);
    if (start(&t) != LJ_OK) {
        lj_log(LJ_LOG_ERROR, "logjet-tail cannot start", "error=\"%s\"", t.err);
        rc = 2;
        goto out;
    }
    size_t selected = history(&t);
    if (!cfg->follow && selected == 0) {
        lj_log(LJ_LOG_ERROR, "no container matches", "stream=%s", cfg->stream);
        rc = 1;
        goto out;
    }
    if (cfg->follow && !(cfg->until_ns && cfg->until_ns < lj_time_now_ns())) {
        if (selected == 0)
            lj_log(LJ_LOG_INFO, "no container matches yet; waiting for one", NULL);
        follow(&t, stop);
    }
    removals_expire(&t, true);
    events_release(&t, true);
    drain(&t, true);
    flush_out(&t, true);
    if (t.failed) {
        lj_log(LJ_LOG_ERROR, "logjet-tail stopped", "error=\"%s\"", t.err);
        rc = 2;
    }
out:
    /* Held items (a failed start, or context lines never released) are freed here. */
    for (struct lj_merge_src *s; ;) {
        struct lj_merge_item *m = lj_merge_pop(&t.merge, 0, 0, true, &s);
        if (m == NULL)
            break;
        item_free((struct item *)m);
    }
    for (size_t i = 0; i < t.nctrs; i++) {
        lj_context_finish(&t.all[i]->ctx, item_drop);
        ctr_free(t.all[i]);
    }
    free(t.all);
    free(t.buckets);
    free(t.removals);
    for (size_t i = 0; i < t.nheld; i++)
        item_free(t.held[i]);
    free(t.held);
    lj_merge_finish(&t.merge);
    lj_source_destroy(t.src);
    lj_buf_finish(&t.out);
    lj_buf_finish(&t.scratch);
    return rc;
}
