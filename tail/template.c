/* template.c - compiles --template strings into literal and field parts, renders them.
 * Does not format values (output.c does) and never prints. */
#include "template.h"

#include <stdlib.h>
#include <string.h>

static const char *const field_names[LJ_TF_COUNT] = {
#define LJ_TEMPLATE_NAME(id, name) name,
    LJ_TEMPLATE_FIELDS(LJ_TEMPLATE_NAME)
#undef LJ_TEMPLATE_NAME
};

/* A part is a literal (field < 0: text[off..off+len)) or a field reference. */
struct part {
    int field;
    size_t off, len;
};

struct lj_template {
    char *text;             /* the literal bytes, escapes resolved */
    size_t text_len;
    struct part *parts;
    size_t nparts;
    unsigned uses;          /* bit per field */
};

static lj_status add_part(struct lj_template *t, int field, size_t off, size_t len)
{
    if (field < 0 && len == 0)
        return LJ_OK;
    struct part *grown = realloc(t->parts, (t->nparts + 1) * sizeof *grown);
    if (grown == NULL)
        return LJ_NOMEM;
    t->parts = grown;
    t->parts[t->nparts++] = (struct part){ field, off, len };
    if (field >= 0)
        t->uses |= 1u << field;
    return LJ_OK;
}

static int field_id(const char *name, size_t n)
{
    for (int i = 0; i < LJ_TF_COUNT; i++)
        if (strlen(field_names[i]) == n && memcmp(field_names[i], name, n) == 0)
            return i;
    return -1;
}

static char unescape(char c)
{
    return c == 'n' ? '\n' : c == 't' ? '\t' : c;
}

/* Parses src into t; literal bytes go to t->text (sized strlen(src)+1 by the caller). */
static lj_status parse(struct lj_template *t, const char *src, char *err, size_t errlen)
{
    size_t lit = 0;    /* start in t->text of the literal being collected */
    for (size_t i = 0; src[i]; i++) {
        char c = src[i];
        if (c == '\\' && (src[i + 1] == 'n' || src[i + 1] == 't' || src[i + 1] == '\\')) {
            t->text[t->text_len++] = unescape(src[++i]);
        } else if ((c == '{' || c == '}') && src[i + 1] == c) {
            t->text[t->text_len++] = c;
            i++;
        } else if (c == '}') {
            return lj_fail(err, errlen, LJ_INVAL, "template: unmatched '}' at offset %zu "
                           "(write '}}' for a brace)", i);
        } else if (c == '{') {
            const char *end = strchr(src + i + 1, '}');
            if (end == NULL)
                return lj_fail(err, errlen, LJ_INVAL, "template: '{' at offset %zu is never "
                               "closed (write '{{' for a brace)", i);
            size_t n = (size_t)(end - (src + i + 1));
            int f = field_id(src + i + 1, n);
            if (f < 0)
                return lj_fail(err, errlen, LJ_INVAL, "template: unknown field '{%.*s}' (fields: "
                               "host name ref id id_full stream level ts time unix_nano "
                               "line_no seq line truncated color reset)", (int)(n > 64 ? 64 : n),
                               src + i + 1);
            if (add_part(t, -1, lit, t->text_len - lit) != LJ_OK || add_part(t, f, 0, 0) != LJ_OK)
                return LJ_NOMEM;
            lit = t->text_len;
            i += n + 1;
        } else {
            t->text[t->text_len++] = c;
        }
    }
    if (add_part(t, -1, lit, t->text_len - lit) != LJ_OK)
        return LJ_NOMEM;
    return LJ_OK;
}

lj_status lj_template_create(const char *src, struct lj_template **out, char *err,
                             size_t errlen)
{
    struct lj_template *t = calloc(1, sizeof *t);
    lj_status st;
    if (t == NULL || (t->text = malloc(strlen(src) + 1)) == NULL) {
        free(t);
        return lj_fail(err, errlen, LJ_NOMEM, "out of memory");
    }
    if ((st = parse(t, src, err, errlen)) != LJ_OK) {
        if (st == LJ_NOMEM)
            lj_fail(err, errlen, LJ_NOMEM, "out of memory");
        lj_template_destroy(t);
        return st;
    }
    *out = t;
    return LJ_OK;
}

void lj_template_destroy(struct lj_template *t)
{
    if (t == NULL)
        return;
    free(t->parts);
    free(t->text);
    free(t);
}

int lj_template_uses(const struct lj_template *t, enum lj_template_field f)
{
    return (t->uses >> f) & 1u;
}

lj_status lj_template_render(const struct lj_template *t, const struct lj_template_values *v,
                             struct lj_buf *out)
{
    lj_status st = LJ_OK;
    for (size_t i = 0; i < t->nparts && st == LJ_OK; i++) {
        const struct part *p = &t->parts[i];
        if (p->field < 0)
            st = lj_buf_append(out, t->text + p->off, p->len);
        else if (v->v[p->field].str != NULL)
            st = lj_buf_append(out, v->v[p->field].str, v->v[p->field].len);
    }
    return st == LJ_OK ? lj_buf_append(out, "\n", 1) : st;
}
