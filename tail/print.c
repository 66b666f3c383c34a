/* print.c - formats records, gaps and events for the terminal, pipes and jq.
 * Does not decide what prints (filter.c) nor write to stdout (main.c). */
#include "print.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

static const char *const palette[LJ_PRINT_COLORS] = {
    "31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96",
};
static const char *const level_color[LJ_LEVEL_COUNT] = {
    NULL, "90", "36", "32", "33", "31", "1;31",
};
static const char *const level_tag[LJ_LEVEL_COUNT] = {
    NULL, "TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "FATAL",
};

unsigned lj_print_color_of(const char *host, const char *name)
{
    uint32_t h = 2166136261u;    /* FNV-1a over "host/name" */
    for (const char *p = host; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % LJ_PRINT_COLORS;
}

lj_status lj_print_json_string(struct lj_buf *out, const uint8_t *s, size_t n)
{
    lj_status st = lj_buf_append(out, "\"", 1);
    for (size_t i = 0; i < n && st == LJ_OK;) {
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            st = lj_buf_append(out, s + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            st = lj_buf_append(out, e, 2);
            i++;
        } else if (c < 0x20) {
            st = c == '\n' ? lj_buf_append(out, "\\n", 2) : c == '\t' ? lj_buf_append(out, "\\t", 2)
               : lj_buf_appendf(out, "\\u%04x", c);
            i++;
        } else {
            size_t len = lj_term_utf8_len(s + i, n - i);
            st = len ? lj_buf_append(out, s + i, len) : lj_buf_append(out, "\\ufffd", 6);
            i += len ? len : 1;
        }
    }
    return st == LJ_OK ? lj_buf_append(out, "\"", 1) : st;
}

/* Text of a time as -t prints it: short "15:04:05.000" or full RFC 3339 with ns. */
static void format_time(const struct lj_print_config *c, enum lj_print_ts ts, int64_t ns,
                        char *dst, size_t n)
{
    time_t sec = (time_t)(ns / 1000000000);
    long frac = (long)(ns % 1000000000);
    struct tm tm;
    char base[32], zone[16] = "Z";
    if (c->utc)
        gmtime_r(&sec, &tm);
    else
        localtime_r(&sec, &tm);
    if (ts == LJ_PRINT_TS_SHORT) {
        strftime(base, sizeof base, "%H:%M:%S", &tm);
        snprintf(dst, n, "%s.%03ld", base, frac / 1000000);
        return;
    }
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!c->utc) {
        int off = (int)(tm.tm_gmtoff / 60) % (24 * 60);
        snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60,
                 abs(off) % 60);
    }
    snprintf(dst, n, "%s.%09ld%s", base, frac, zone);
}

static lj_status color_on(const struct lj_print_config *c, struct lj_buf *out, const char *code)
{
    return c->color && code ? lj_buf_appendf(out, "\x1b[%sm", code) : LJ_OK;
}

static lj_status color_off(const struct lj_print_config *c, struct lj_buf *out, const char *code)
{
    return c->color && code ? lj_buf_append(out, "\x1b[0m", 4) : LJ_OK;
}

/* "<host>/<name> " in the container's colour; the names are sanitised too (a host id is
 * whatever the publisher was given). */
static lj_status prefix(const struct lj_print_config *c, const char *host, const char *name,
                        struct lj_buf *out)
{
    const char *code = palette[lj_print_color_of(host, name)];
    lj_status st = color_on(c, out, code);
    if (st == LJ_OK) st = lj_term_sanitize((const uint8_t *)host, strlen(host), LJ_TERM_STRIP, out);
    if (st == LJ_OK) st = lj_buf_append(out, "/", 1);
    if (st == LJ_OK) st = lj_term_sanitize((const uint8_t *)name, strlen(name), LJ_TERM_STRIP, out);
    if (st == LJ_OK) st = color_off(c, out, code);
    return st == LJ_OK ? lj_buf_append(out, " ", 1) : st;
}

/* Appends text (NUL-free, sanitised) with --highlight matches in reverse video. */
static lj_status highlighted(const struct lj_print_config *c, const char *text, size_t n,
                             struct lj_buf *out)
{
    const struct lj_regexes *h = c->highlight;
    size_t at = 0;
    if (!c->color || h == NULL || h->n == 0)
        return lj_buf_append(out, text, n);
    while (at < n) {
        regmatch_t best = { -1, -1 };
        for (size_t i = 0; i < h->n; i++) {
            regmatch_t m = { .rm_so = (regoff_t)at, .rm_eo = (regoff_t)n };
            if (regexec(&h->re[i], text, 1, &m, REG_STARTEND | (at ? REG_NOTBOL : 0)) == 0
                && m.rm_eo > m.rm_so && (best.rm_so < 0 || m.rm_so < best.rm_so))
                best = m;
        }
        if (best.rm_so < 0)
            break;
        if (lj_buf_append(out, text + at, (size_t)best.rm_so - at) != LJ_OK
            || lj_buf_append(out, "\x1b[7m", 4) != LJ_OK
            || lj_buf_append(out, text + best.rm_so, (size_t)(best.rm_eo - best.rm_so)) != LJ_OK
            || lj_buf_append(out, "\x1b[27m", 5) != LJ_OK)
            return LJ_NOMEM;
        at = (size_t)best.rm_eo;
    }
    return lj_buf_append(out, text + at, n - at);
}

static lj_status print_json(const struct lj_record *r, uint64_t seq, struct lj_buf *out)
{
    char ts[LJ_TIME_RFC3339_MAX];
    lj_time_format(r->ts_unix_nano, ts);
    lj_status st = lj_buf_appendf(out, "{\"type\":\"line\",\"seq\":%" PRIu64 ",\"host\":", seq);
    if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)r->host, strlen(r->host));
    if (st == LJ_OK) st = lj_buf_append(out, ",\"container\":", 13);
    if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)r->container, strlen(r->container));
    if (st == LJ_OK) st = lj_buf_append(out, ",\"container_id\":", 16);
    if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)r->container_id,
                                               strlen(r->container_id));
    if (st == LJ_OK)
        st = lj_buf_appendf(out, ",\"stream\":\"%s\",\"ts\":\"%s\",\"ts_unix_nano\":%" PRId64
                            ",\"level\":\"%s\",\"line_no\":%" PRIu64 ",\"truncated\":%s,\"line\":",
                            lj_stream_name(r->stream), ts, r->ts_unix_nano, lj_level_name(r->level),
                            r->line_no, r->truncated ? "true" : "false");
    if (st == LJ_OK) st = lj_print_json_string(out, r->line, r->line_len);
    return st == LJ_OK ? lj_buf_append(out, "}\n", 2) : st;
}

static lj_status print_template(const struct lj_print_config *c, const struct lj_record *r,
                                uint64_t seq, const char *line, size_t line_len, struct lj_buf *out)
{
    struct lj_template_values v;
    char ref[1024], ts[LJ_TIME_RFC3339_MAX], tm[64], nano[24], lno[24], sq[24], color[16];
    memset(&v, 0, sizeof v);
#define SET(f, s, n) (v.v[LJ_TF_##f].str = (s), v.v[LJ_TF_##f].len = (n))
#define SETS(f, s) SET(f, (s), strlen(s))
    snprintf(ref, sizeof ref, "%s/%s", r->host, r->container);
    lj_time_format(r->ts_unix_nano, ts);
    format_time(c, c->ts == LJ_PRINT_TS_FULL ? LJ_PRINT_TS_FULL : LJ_PRINT_TS_SHORT,
                r->ts_unix_nano, tm, sizeof tm);
    snprintf(nano, sizeof nano, "%" PRId64, r->ts_unix_nano);
    snprintf(lno, sizeof lno, "%" PRIu64, r->line_no);
    snprintf(sq, sizeof sq, "%" PRIu64, seq);
    snprintf(color, sizeof color, "\x1b[%sm", palette[lj_print_color_of(r->host, r->container)]);
    SETS(HOST, r->host); SETS(NAME, r->container); SETS(REF, ref);
    SET(ID, r->container_id, strnlen(r->container_id, 12)); SETS(ID_FULL, r->container_id);
    SETS(STREAM, lj_stream_name(r->stream)); SETS(LEVEL, lj_level_name(r->level));
    SETS(TS, ts); SETS(TIME, tm); SETS(UNIX_NANO, nano); SETS(LINE_NO, lno); SETS(SEQ, sq);
    SET(LINE, line, line_len); SETS(TRUNCATED, r->truncated ? "true" : "false");
    if (c->color) {
        SETS(COLOR, color);
        SETS(RESET, "\x1b[0m");
    }
#undef SETS
#undef SET
    return lj_template_render(c->tmpl, &v, out);
}

lj_status lj_print_record(const struct lj_print_config *c, const struct lj_record *r,
                          uint64_t seq, struct lj_buf *out, struct lj_buf *scratch)
{
    lj_status st = LJ_OK;
    if (c->mode == LJ_PRINT_JSON)
        return print_json(r, seq, out);
    lj_buf_reset(scratch);
    if ((st = lj_term_sanitize(r->line, r->line_len, c->ansi, scratch)) != LJ_OK)
        return st;
    if (c->mode == LJ_PRINT_TEMPLATE)
        return print_template(c, r, seq, lj_buf_cstr(scratch), scratch->len, out);
    if (c->mode == LJ_PRINT_DEFAULT) {
        st = prefix(c, r->host, r->container, out);
        if (st == LJ_OK && c->ts != LJ_PRINT_TS_NONE) {
            char tm[64];
            format_time(c, c->ts, r->ts_unix_nano, tm, sizeof tm);
            st = lj_buf_appendf(out, "%s ", tm);
        }
        if (st == LJ_OK && level_tag[r->level]) {
            st = color_on(c, out, level_color[r->level]);
            if (st == LJ_OK) st = lj_buf_append(out, level_tag[r->level], 5);
            if (st == LJ_OK) st = color_off(c, out, level_color[r->level]);
            if (st == LJ_OK) st = lj_buf_append(out, " ", 1);
        }
    }
    if (st == LJ_OK) st = highlighted(c, lj_buf_cstr(scratch), scratch->len, out);
    return st == LJ_OK ? lj_buf_append(out, "\n", 1) : st;
}

lj_status lj_print_gap(const struct lj_print_config *c, const char *host, const char *name,
                       uint64_t after, uint64_t next, const char *reason, struct lj_buf *out)
{
    uint64_t lost = next - after - 1;
    lj_status st;
    if (c->mode == LJ_PRINT_JSON) {
        st = lj_buf_append(out, "{\"type\":\"gap\",\"host\":", 21);
        if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)host, strlen(host));
        if (st == LJ_OK) st = lj_buf_append(out, ",\"container\":", 13);
        if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)name, strlen(name));
        return st == LJ_OK ? lj_buf_appendf(out, ",\"after_line_no\":%" PRIu64 ",\"next_line_no\":%"
                                            PRIu64 ",\"lost\":%" PRIu64 ",\"reason\":\"%s\"}\n",
                                            after, next, lost, reason) : st;
    }
    st = c->mode == LJ_PRINT_DEFAULT ? prefix(c, host, name, out) : LJ_OK;
    if (st == LJ_OK) st = color_on(c, out, "1;31");
    if (st == LJ_OK)
        st = lj_buf_appendf(out, "[logjet-tail] gap: %" PRIu64 " line%s lost (line_no %" PRIu64
                            "..%" PRIu64 ", %s)", lost, lost == 1 ? "" : "s", after + 1, next - 1,
                            reason);
    if (st == LJ_OK) st = color_off(c, out, "1;31");
    return st == LJ_OK ? lj_buf_append(out, "\n", 1) : st;
}

lj_status lj_print_event(const struct lj_print_config *c, const struct lj_print_event *e,
                         struct lj_buf *out)
{
    char ts[LJ_TIME_RFC3339_MAX], code[48] = "";
    lj_status st;
    lj_time_format(e->ts_ns, ts);
    if (c->mode == LJ_PRINT_JSON) {
        st = lj_buf_appendf(out, "{\"type\":\"event\",\"event\":\"%s\",\"ts\":\"%s\",\"host\":",
                            e->what, ts);
        if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)e->host, strlen(e->host));
        if (st == LJ_OK) st = lj_buf_append(out, ",\"container\":", 13);
        if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)e->name, strlen(e->name));
        if (st == LJ_OK && e->has_exit_code)
            st = lj_buf_appendf(out, ",\"exit_code\":%d,\"oom_killed\":%s", e->exit_code,
                                e->oom_killed ? "true" : "false");
        if (st == LJ_OK && e->detail) {
            st = lj_buf_append(out, ",\"detail\":", 10);
            if (st == LJ_OK) st = lj_print_json_string(out, (const uint8_t *)e->detail, strlen(e->detail));
        }
        return st == LJ_OK ? lj_buf_append(out, "}\n", 2) : st;
    }
    if (e->has_exit_code)
        snprintf(code, sizeof code, " (exit code %d%s)", e->exit_code,
                 e->oom_killed ? ", OOM-killed" : "");
    st = c->mode != LJ_PRINT_RAW ? prefix(c, e->host, e->name, out) : LJ_OK;
    if (st == LJ_OK && c->mode == LJ_PRINT_DEFAULT && c->ts != LJ_PRINT_TS_NONE) {
        char tm[64];
        format_time(c, c->ts, e->ts_ns, tm, sizeof tm);
        st = lj_buf_appendf(out, "%s ", tm);
    }
    if (st == LJ_OK) st = color_on(c, out, "1");
    if (st == LJ_OK) st = lj_buf_appendf(out, "[docker] %s%s", e->what, code);
    if (st == LJ_OK && e->detail) {
        st = lj_buf_append(out, " ", 1);
        if (st == LJ_OK) st = lj_term_sanitize((const uint8_t *)e->detail, strlen(e->detail),
                                               LJ_TERM_STRIP, out);
    }
    if (st == LJ_OK) st = color_off(c, out, "1");
    return st == LJ_OK ? lj_buf_append(out, "\n", 1) : st;
}

lj_status lj_print_separator(const struct lj_print_config *c, struct lj_buf *out)
{
    return c->mode == LJ_PRINT_JSON ? LJ_OK : lj_buf_append(out, "--\n", 3);
}
