/* fuzz_term.c - libFuzzer target for logjet-tail's terminal sanitiser and template parser.
 *
 * Any bytes through the sanitiser, in both modes: the output never holds an ESC that does
 * not start a well-formed SGR ("ESC [" digits/;/: "m"), no C0 control but TAB, no DEL,
 * no C1 control and no invalid UTF-8; stripping leaves no ESC at all. The same bytes as a
 * template: it compiles or fails cleanly, and a compiled one renders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "term.h"

static void check_output(const struct lj_buf *b, enum lj_term_mode mode)
{
    const uint8_t *p = (const uint8_t *)b->data;
    for (size_t i = 0; i < b->len;) {
        if (p[i] == 0x1b) {
            if (mode == LJ_TERM_STRIP || i + 1 >= b->len || p[i + 1] != '[')
                abort();
            size_t j = i + 2;
            while (j < b->len && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' || p[j] == ':'))
                j++;
            if (j >= b->len || p[j] != 'm')
                abort();
            i = j + 1;
            continue;
        }
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            abort();
        size_t len = lj_term_utf8_len(p + i, b->len - i);
        if (len == 0 || (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
            abort();
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lj_buf b;
    lj_buf_init(&b);
    for (int mode = LJ_TERM_STRIP; mode <= LJ_TERM_KEEP_SGR; mode++) {
        lj_buf_reset(&b);
        if (lj_term_sanitize(data, size, (enum lj_term_mode)mode, &b) != LJ_OK)
            abort();
        check_output(&b, (enum lj_term_mode)mode);
    }
    char *src = malloc(size + 1);
    if (src == NULL)
        abort();
    memcpy(src, data, size);
    src[size] = '\0';
    struct lj_template *t = NULL;
    char err[256];
    if (lj_template_create(src, &t, err, sizeof err) == LJ_OK) {
        struct lj_template_values v;
        memset(&v, 0, sizeof v);
        for (int f = 0; f < LJ_TF_COUNT; f++)
            v.v[f].str = "x", v.v[f].len = 1;
        lj_buf_reset(&b);
        if (lj_template_render(t, &v, &b) != LJ_OK || b.len == 0 || b.data[b.len - 1] != '\n'
            || b.len > 2 * size + 2)
            abort();
    } else if (err[0] == '\0') {
        abort();    /* a failure always says why */
    }
    lj_template_destroy(t);
    free(src);
    lj_buf_finish(&b);
    return 0;
}
