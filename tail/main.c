/* main.c - logjet-tail: options, signals, then one tail run (tail.c).
 *
 * Threads: this one (everything in tail.c), nats.c's own, natsconn's connector, and
 * source.c's registry watcher; source.h says how data crosses. Signals only set `stop`,
 * which the main loop reads at least every 50 ms; it then prints what the reorder
 * window holds, saves the resume file and exits 0.
 *
 * Options come from the common table (common/config.h: --help, LOGJET_* twins). What
 * that table cannot express is handled here first: QUERY arguments, short flags (-t,
 * -i, -e, -H, -l, -r, -A, -B, -C, -o) and options that may repeat (-i, -e, -H, -l,
 * --exclude-container: every occurrence counts; their environment twin is used only
 * when no flag is given).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "natsconn.h"
#include "subject.h"
#include "tail.h"
#include "template.h"
#include "timeutil.h"
#include "when.h"

static const char summary[] =
    "Follows container logs from logjet's NATS stream, like `docker logs -f` or stern, across\n"
    "every host that runs logjet-publisher. QUERY is a glob over <host>/<name> ('web-*/api*',\n"
    "'*/nginx'; with -r a regular expression); several QUERY select their union; none selects\n"
    "all containers. Containers that appear later and match are picked up.\n"
    "\n"
    "Guarantees: every line is printed at most once (by stream sequence per container); a hole\n"
    "(lines expired from the stream, or missed) prints one gap line with the exact number of\n"
    "lines lost. With --resume FILE a later run continues exactly after the last line handled\n"
    "(the file is written before the lines it covers are printed: a kill -9 can lose lines from\n"
    "the screen, never print one twice). Lines of one container keep their stream order.\n"
    "Lines of different containers are merged by Docker timestamp: two lines that reach\n"
    "logjet-tail within --delay of each other are printed in timestamp order, whatever the\n"
    "hosts' clocks; a line that arrives later than that behind a newer one already printed is\n"
    "printed at once, out of order, never dropped. --delay 0 prints on arrival.\n"
    "\n"
    "Short forms: -r --regex, -l --label, -i --include, -e --exclude, -H --highlight, -A --after,\n"
    "-B --before, -C --context, -o --output, -t --timestamps=short.\n"
    "Exit status: 0 after Ctrl-C or the end of --no-follow output, 1 when nothing matches with\n"
    "--no-follow, 2 on errors (bad options, NATS not reachable at start).";

struct opts {
    struct lj_natsconn_options nats;
    const char *js_stream, *host, *exclude_container, *state, *label;
    const char *tail, *since, *until, *level, *stream, *include, *exclude, *highlight;
    const char *output, *template, *timestamps, *color, *ansi, *resume;
    long delay, after, before, context, buffer_lines;
    bool regex, no_follow, utc, events;
};

static struct opts o;

#define STR(n, mv, def, h, dst) { n, LJ_OPT_STRING, mv, def, h, &o.dst, 0, 0 }
#define INT(n, mv, def, h, dst, lo, hi) { n, LJ_OPT_INT, mv, def, h, &o.dst, lo, hi }
#define BOOL(n, h, dst) { n, LJ_OPT_BOOL, NULL, NULL, h, &o.dst, 0, 0 }
static const struct lj_opt table[] = {
    LJ_NATSCONN_OPTIONS(o.nats),
    STR("js-stream", "NAME", "LOGS", "the JetStream stream (the daemons' --stream)", js_stream),
    BOOL("regex", "QUERY arguments are regular expressions over <host>/<name> (-r)", regex),
    STR("host", "GLOB", NULL, "only containers on hosts matching GLOB", host),
    STR("exclude-container", "REGEX", NULL, "never containers whose name matches (repeatable)",
        exclude_container),
    STR("state", "STATE", "all", "running, stopped or all (from the registry)", state),
    STR("label", "KEY=VALUE", NULL, "only containers with this label (or KEY: any value; -l, "
        "repeatable, all must hold)", label),
    STR("tail", "N", NULL, "history lines per container, or 'all' (default 10; all with --since)",
        tail),
    STR("since", "WHEN", NULL, "history from WHEN: 10m, 2h, RFC 3339, Unix seconds", since),
    STR("until", "WHEN", NULL, "nothing after WHEN (same forms); exits once it has passed", until),
    BOOL("no-follow", "print the history and exit", no_follow),
    INT("delay", "MS", "250", "reorder window: how long a line may wait for an older one", delay,
        0, 60000),
    STR("resume", "FILE", NULL, "continue after the last line FILE records, and record there", resume),
    STR("level", "LIST", NULL, "only these levels: trace,debug,info,warn,error,fatal,unknown", level),
    STR("stream", "LIST", NULL, "only stdout or stderr (stdout,stderr for both)", stream),
    STR("include", "REGEX", NULL, "only lines matching (-i, repeatable: any)", include),
    STR("exclude", "REGEX", NULL, "never lines matching (-e, repeatable)", exclude),
    STR("highlight", "REGEX", NULL, "highlight matches on a terminal (-H, repeatable)", highlight),
    INT("after", "N", "0", "lines after each --include match (-A)", after, 0, LJ_FILTER_CONTEXT_MAX),
    INT("before", "N", "0", "lines before each --include match (-B)", before, 0,
        LJ_FILTER_CONTEXT_MAX),
    INT("context", "N", "0", "lines before and after each match (-C)", context, 0,
        LJ_FILTER_CONTEXT_MAX),
    STR("output", "FORMAT", "default", "default, raw (lines only) or json (-o)", output),
    STR("template", "TEMPLATE", NULL, "format each line: '{ref} {level} {line}'; fields host "
        "name ref id id_full stream level ts time unix_nano line_no seq line truncated color "
        "reset; {{ }} \\n \\t", template),
    STR("timestamps", "short|full", NULL, "print Docker's timestamp (-t: short)", timestamps),
    BOOL("utc", "times in UTC instead of local time", utc),
    STR("color", "WHEN", "auto", "auto (a terminal and no NO_COLOR), always or never", color),
    STR("ansi", "WHEN", "auto", "escape sequences in lines: auto (colour kept when we colour), "
        "keep (colour only) or strip; cursor moves and titles are always removed", ansi),
    BOOL("events", "interleave Docker lifecycle changes (start, exit with code, OOM, removal, "
         "rename)", events),
    INT("buffer-lines", "N", "200000", "most lines the reorder window holds (memory bound)",
        buffer_lines, 1000, 100000000),
};
#define NOPTS (sizeof table / sizeof table[0])

/* Repeatable options and QUERY arguments, collected before the table sees argv. */
struct multi {
    const char **queries, **include, **exclude, **highlight, **labels, **xcontainer;
    size_t nqueries, ninclude, nexclude, nhighlight, nlabels, nxcontainer;
};

static volatile int stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int add(const char ***list, size_t *n, const char *v)
{
    const char **g = realloc(*list, (*n + 1) * sizeof *g);
    if (g == NULL)
        return -1;
    g[(*n)++] = v;
    *list = g;
    return 0;
}

static const struct { const char *s, *l; } shorts[] = {
    { "-r", "--regex" }, { "-l", "--label" }, { "-i", "--include" }, { "-e", "--exclude" },
    { "-H", "--highlight" }, { "-A", "--after" }, { "-B", "--before" }, { "-C", "--context" },
    { "-o", "--output" },
};

/* The list a repeatable long option collects into, or NULL. */
static const char ***multi_list(struct multi *m, const char *name, size_t **n)
{
    if (strcmp(name, "--include") == 0) return *n = &m->ninclude, &m->include;
    if (strcmp(name, "--exclude") == 0) return *n = &m->nexclude, &m->exclude;
    if (strcmp(name, "--highlight") == 0) return *n = &m->nhighlight, &m->highlight;
    if (strcmp(name, "--label") == 0) return *n = &m->nlabels, &m->labels;
    if (strcmp(name, "--exclude-container") == 0) return *n = &m->nxcontainer, &m->xcontainer;
    return NULL;
}

/* true when table option --name (with dashes) takes a value. */
static bool takes_value(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(name + 2, table[i].name) == 0)
            return table[i].type != LJ_OPT_BOOL;
    return false;
}

/* Rewrites argv into out (for the table) and m; returns -1 with err on a missing value. */
static int prescan(int argc, char **argv, char **out, int *outc, struct multi *m, char *err,
                   size_t errlen)
{
    int k = 0;
    bool rest = false;
    out[k++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (rest || (a[0] != '-' || a[1] == '\0')) {
            if (add(&m->queries, &m->nqueries, a) < 0) return -1;
            continue;
        }
        if (strcmp(a, "--") == 0) { rest = true; continue; }
        if (strcmp(a, "-t") == 0) { out[k++] = "--timestamps=short"; continue; }
        if (strcmp(a, "--timestamps") == 0) {
            bool val = i + 1 < argc && (!strcmp(argv[i + 1], "short") || !strcmp(argv[i + 1], "full"));
            out[k++] = val ? (argv[++i][0] == 's' ? "--timestamps=short" : "--timestamps=full")
                           : "--timestamps=short";
            continue;
        }
        for (size_t s = 0; s < sizeof shorts / sizeof shorts[0]; s++)
            if (strcmp(a, shorts[s].s) == 0)
                a = shorts[s].l;
        char name[64];
        const char *eq = strchr(a, '=');
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        size_t *n;
        const char ***list = multi_list(m, name, &n);
        if (list == NULL) {
            out[k++] = (char *)a;
            if (!eq && takes_value(name) && i + 1 < argc)
                out[k++] = argv[++i];    /* its value, even when it looks like a QUERY */
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL) {
            snprintf(err, errlen, "option %s needs a value", name);
            return -1;
        }
        if (add(list, n, v) < 0) return -1;
    }
    out[k] = NULL;
    *outc = k;
    return 0;
}

static int fail(const char *msg)
{
    fprintf(stderr, "logjet-tail: %s\n", msg);
    return 2;
}

/* One list: the flags given, else the environment twin (through the table), else none. */
static lj_status each(const char **list, size_t n, const char *env_value,
                      lj_status (*fn)(void *arg, const char *v, char *err, size_t errlen),
                      void *arg, char *err, size_t errlen)
{
    if (n == 0 && env_value != NULL)
        return fn(arg, env_value, err, errlen);
    for (size_t i = 0; i < n; i++)
        if (fn(arg, list[i], err, errlen) != LJ_OK)
            return LJ_INVAL;
    return LJ_OK;
}

static lj_status add_include(void *a, const char *v, char *e, size_t n)
{
    return lj_regexes_add(&((struct lj_tail_config *)a)->filter.include, v, 0, e, n);
}
static lj_status add_exclude(void *a, const char *v, char *e, size_t n)
{
    return lj_regexes_add(&((struct lj_tail_config *)a)->filter.exclude, v, 0, e, n);
}
static lj_status add_xcontainer(void *a, const char *v, char *e, size_t n)
{
    return lj_regexes_add(&((struct lj_tail_config *)a)->select.exclude, v, REG_NOSUB, e, n);
}
static lj_status add_label(void *a, const char *v, char *e, size_t n)
{
    return lj_select_add_label(&((struct lj_tail_config *)a)->select, v, e, n);
}
static lj_status add_query(void *a, const char *v, char *e, size_t n)
{
    return lj_select_add_query(&((struct lj_tail_config *)a)->select, v, e, n);
}

static struct lj_regexes highlight;
static lj_status add_highlight(void *a, const char *v, char *e, size_t n)
{
    (void)a;
    return lj_regexes_add(&highlight, v, 0, e, n);
}

/* The live subject: narrower than every host when --host is a plain name. */
static void live_subject(const char *host, char *dst, size_t n)
{
    char tok[LJ_SUBJECT_TOKEN_MAX];
    if (host && strpbrk(host, "*?") == NULL
        && lj_subject_encode(host, strlen(host), tok, sizeof tok) == LJ_OK)
        snprintf(dst, n, "live.logs.%s.>", tok);
    else
        snprintf(dst, n, "live.logs.>");
}

static lj_status output_options(struct lj_tail_config *c, struct lj_template **tmpl, char *err,
                                size_t errlen)
{
    bool tty = isatty(c->out_fd) == 1;
    const char *no_color = getenv("NO_COLOR");
    struct lj_print_config *p = &c->print;
    if (!strcmp(o.output, "default")) p->mode = LJ_PRINT_DEFAULT;
    else if (!strcmp(o.output, "raw")) p->mode = LJ_PRINT_RAW;
    else if (!strcmp(o.output, "json")) p->mode = LJ_PRINT_JSON;
    else return lj_fail(err, errlen, LJ_INVAL, "--output: expected default, raw or json, got '%s'", o.output);
    if (o.template) {
        if (lj_template_create(o.template, tmpl, err, errlen) != LJ_OK)
            return LJ_INVAL;
        p->mode = LJ_PRINT_TEMPLATE;
        p->tmpl = *tmpl;
    }
    if (!strcmp(o.color, "always")) p->color = true;
    else if (!strcmp(o.color, "never")) p->color = false;
    else if (!strcmp(o.color, "auto")) p->color = tty && (no_color == NULL || no_color[0] == '\0');
    else return lj_fail(err, errlen, LJ_INVAL, "--color: expected auto, always or never, got '%s'", o.color);
    if (!strcmp(o.ansi, "keep")) p->ansi = LJ_TERM_KEEP_SGR;
    else if (!strcmp(o.ansi, "strip")) p->ansi = LJ_TERM_STRIP;
    else if (!strcmp(o.ansi, "auto")) p->ansi = p->color ? LJ_TERM_KEEP_SGR : LJ_TERM_STRIP;
    else return lj_fail(err, errlen, LJ_INVAL, "--ansi: expected auto, keep or strip, got '%s'", o.ansi);
    if (o.timestamps == NULL) p->ts = LJ_PRINT_TS_NONE;
    else if (!strcmp(o.timestamps, "short")) p->ts = LJ_PRINT_TS_SHORT;
    else if (!strcmp(o.timestamps, "full")) p->ts = LJ_PRINT_TS_FULL;
    else return lj_fail(err, errlen, LJ_INVAL, "--timestamps: expected short or full, got '%s'", o.timestamps);
    p->utc = o.utc;
    p->highlight = &highlight;
    return LJ_OK;
}

static lj_status history_options(struct lj_tail_config *c, char *err, size_t errlen)
{
    int64_t now = lj_time_now_ns();
    char *end;
    if (o.since && lj_when_parse(o.since, now, &c->since_ns, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if (o.until && lj_when_parse(o.until, now, &c->until_ns, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if (c->since_ns == 0 && o.since)
        c->since_ns = 1;    /* "0": from the very start */
    if (o.tail == NULL)
        c->tail = o.since ? -1 : 10;
    else if (!strcmp(o.tail, "all") || !strcmp(o.tail, "-1"))
        c->tail = -1;
    else if ((c->tail = strtol(o.tail, &end, 10)) < 0 || *end || end == o.tail || c->tail > 100000000)
        return lj_fail(err, errlen, LJ_INVAL, "--tail: expected a number of lines or 'all', got '%s'", o.tail);
    c->follow = !o.no_follow;
    c->delay_ns = o.delay * 1000000LL;
    c->buffer_lines = o.buffer_lines;
    c->resume_path = o.resume;
    c->events = o.events;
    return LJ_OK;
}

static lj_status selection_options(struct lj_tail_config *c, struct multi *m, char *err,
                                   size_t errlen)
{
    lj_status st = LJ_OK;
    c->select.regex = o.regex;
    c->select.host_glob = o.host;
    if (st == LJ_OK) st = each(m->queries, m->nqueries, NULL, add_query, c, err, errlen);
    if (st == LJ_OK) st = each(m->labels, m->nlabels, o.label, add_label, c, err, errlen);
    if (st == LJ_OK) st = each(m->xcontainer, m->nxcontainer, o.exclude_container, add_xcontainer, c, err, errlen);
    if (st == LJ_OK) st = lj_select_set_state(&c->select, o.state, err, errlen);
    if (st == LJ_OK) st = each(m->include, m->ninclude, o.include, add_include, c, err, errlen);
    if (st == LJ_OK) st = each(m->exclude, m->nexclude, o.exclude, add_exclude, c, err, errlen);
    if (st == LJ_OK) st = each(m->highlight, m->nhighlight, o.highlight, add_highlight, c, err, errlen);
    if (st == LJ_OK && o.level) st = lj_filter_set_levels(&c->filter, o.level, err, errlen);
    if (st == LJ_OK && o.stream) st = lj_filter_set_streams(&c->filter, o.stream, err, errlen);
    if (st == LJ_OK && lj_natsconn_check(&o.nats, err, errlen) != LJ_OK) st = LJ_INVAL;
    c->filter.before = (int)(o.before ? o.before : o.context);
    c->filter.after = (int)(o.after ? o.after : o.context);
    return st;
}

int main(int argc, char **argv)
{
    struct lj_tail_config cfg = { .out_fd = STDOUT_FILENO };
    struct multi m = { 0 };
    struct lj_template *tmpl = NULL;
    enum lj_config_action action;
    char err[512] = "", live[LJ_SUBJECT_TOKEN_MAX + 32], host[256] = "", name[300];
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int nargs = 0, rc = 2;

    lj_natsconn_global_init();     /* first: see natsconn.h */
    lj_select_init(&cfg.select);
    lj_filter_init(&cfg.filter);
    if (args == NULL || prescan(argc, argv, args, &nargs, &m, err, sizeof err) != 0) {
        rc = fail(err[0] ? err : "out of memory");
        goto out;
    }
    if (lj_config_parse(table, NOPTS, nargs, args, &action, err, sizeof err) != LJ_OK) {
        rc = fail(err);
        goto out;
    }
    if (action != LJ_CONFIG_RUN) {
        if (action == LJ_CONFIG_HELP)
            lj_config_usage(stdout, "logjet-tail [QUERY]...", summary, table, NOPTS);
        else
            printf("logjet-tail %s\n", LJ_VERSION);
        rc = 0;
        goto out;
    }
    if (selection_options(&cfg, &m, err, sizeof err) != LJ_OK
        || history_options(&cfg, err, sizeof err) != LJ_OK
        || output_options(&cfg, &tmpl, err, sizeof err) != LJ_OK) {
        rc = fail(err);
        goto out;
    }
    live_subject(o.host, live, sizeof live);
    gethostname(host, sizeof host - 1);
    snprintf(name, sizeof name, "logjet-tail@%s", host);
    cfg.nats = &o.nats;
    cfg.nats_name = name;
    cfg.stream = o.js_stream;
    cfg.live_subject = live;

    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = lj_tail_run(&cfg, &stop);
out:
    lj_template_destroy(tmpl);
    lj_select_finish(&cfg.select);
    lj_filter_finish(&cfg.filter);
    struct lj_filter hl;
    lj_filter_init(&hl);
    hl.include = highlight;
    lj_filter_finish(&hl);
    free(m.queries);
    free(m.include);
    free(m.exclude);
    free(m.highlight);
    free(m.labels);
    free(m.xcontainer);
    free(args);
    return rc;
}
