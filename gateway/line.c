/* line.c - encoding a LogRecord into its shared browser JSON object.
 * UTF-8 repair follows the "maximal subpart" rule browsers use (one U+FFFD per
 * broken sequence), so the gateway and a TextDecoder agree on what a line says. */
#include "line.h"

#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid; on 0, *skip is
 * the length of the maximal invalid subpart to replace by one U+FFFD (>= 1). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *skip)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *skip = 1;
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *skip = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

static const char replacement[3] = { (char)0xEF, (char)0xBF, (char)0xBD };

lj_status lj_utf8_clean(struct lj_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t skip = 0, k = utf8_seq(p + i, n - i, &skip);
        lj_status st = k ? lj_buf_append(b, p + i, k) : lj_buf_append(b, replacement, 3);
        if (st != LJ_OK)
            return st;
        i += k ? k : skip;
    }
    return LJ_OK;
}

/* Appends the escape for control byte c. */
static lj_status json_control(struct lj_buf *b, unsigned char c)
{
    switch (c) {
    case '\n': return lj_buf_append(b, "\\n", 2);
    case '\r': return lj_buf_append(b, "\\r", 2);
    case '\t': return lj_buf_append(b, "\\t", 2);
    case '\b': return lj_buf_append(b, "\\b", 2);
    case '\f': return lj_buf_append(b, "\\f", 2);
    default:   return lj_buf_appendf(b, "\\u%04x", c);
    }
}

lj_status lj_json_string(struct lj_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    lj_status st = lj_buf_append(b, "\"", 1);

    /* Copies runs of plain bytes in one append; handles the rest one by one. */
    while (st == LJ_OK && i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            run++;
            i++;
            continue;
        }
        if (run)
            st = lj_buf_append(b, p + i - run, run);
        run = 0;
        if (st != LJ_OK)
            break;
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            st = lj_buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            st = json_control(b, c);
            i++;
        } else {
            size_t skip = 0, k = utf8_seq(p + i, n - i, &skip);
            st = k ? lj_buf_append(b, p + i, k) : lj_buf_append(b, replacement, 3);
            i += k ? k : skip;
        }
    }
    if (st == LJ_OK && run)
        st = lj_buf_append(b, p + i - run, run);
    return st == LJ_OK ? lj_buf_append(b, "\"", 1) : st;
}

static lj_status encode_json(struct lj_buf *b, const lj_pb_record *r, uint64_t seq)
{
    char ts[LJ_TIME_RFC3339_MAX];
    lj_status st;

    lj_time_format(r->ts_unix_nano, ts);
    st = lj_buf_appendf(b, "{\"seq\":%llu,\"container\":", (unsigned long long)seq);
    if (st == LJ_OK) {
        struct lj_buf name;
        lj_buf_init(&name);
        st = lj_buf_appendf(&name, "%s/%s", r->host ? r->host : "",
                            r->container ? r->container : "");
        if (st == LJ_OK)
            st = lj_json_string(b, name.data, name.len);
        lj_buf_finish(&name);
    }
    if (st == LJ_OK)
        st = lj_buf_appendf(b, ",\"ts\":\"%s\",\"stream\":\"%s\",\"level\":\"%s\","
                            "\"line_no\":%llu,\"line\":", ts,
                            lj_stream_name((enum lj_stream)r->stream),
                            lj_level_name((enum lj_level)r->level),
                            (unsigned long long)r->line_no);
    if (st == LJ_OK)
        st = lj_json_string(b, (const char *)r->line.data, r->line.len);
    if (st == LJ_OK && r->truncated)
        st = lj_buf_append(b, ",\"truncated\":true", 17);
    return st == LJ_OK ? lj_buf_append(b, "}", 1) : st;
}

lj_status lj_line_create(const lj_pb_record *r, uint64_t seq, struct lj_line **out)
{
    struct lj_buf json, text;
    struct lj_line *l = NULL;
    lj_status st;

    lj_buf_init(&json);
    lj_buf_init(&text);
    st = encode_json(&json, r, seq);
    if (st == LJ_OK)
        st = lj_utf8_clean(&text, (const char *)r->line.data, r->line.len);
    if (st == LJ_OK && (json.len > UINT32_MAX / 2 || text.len > UINT32_MAX / 2))
        st = LJ_LIMIT;
    if (st == LJ_OK && !(l = malloc(sizeof(*l) + json.len + text.len + 2)))
        st = LJ_NOMEM;
    if (st == LJ_OK) {
        l->refs = 1;
        l->json_len = (uint32_t)json.len;
        l->text_len = (uint32_t)text.len;
        l->level = (uint8_t)((int)r->level >= 0 && (int)r->level < LJ_LEVEL_COUNT ? (int)r->level : 0);
        l->stream = (uint8_t)((int)r->stream == LJ_STREAM_STDERR ? LJ_STREAM_STDERR : LJ_STREAM_STDOUT);
        l->seq = seq;
        l->line_no = r->line_no;
        l->ts_ns = r->ts_unix_nano;
        l->recv_ns = lj_time_mono_ns();
        l->ring_ns = l->recv_ns;
        memcpy(l->data, lj_buf_cstr(&json), json.len + 1);
        memcpy(l->data + json.len + 1, lj_buf_cstr(&text), text.len + 1);
        *out = l;
    }
    lj_buf_finish(&json);
    lj_buf_finish(&text);
    return st;
}

void lj_line_unref(struct lj_line *l)
{
    if (l && --l->refs == 0)
        free(l);
}
