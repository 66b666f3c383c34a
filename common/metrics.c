/* metrics.c - Prometheus text format helpers. Allocation failures leave the output
 * short, which a scraper reports; they are not worth failing a request for. */
#include "metrics.h"

#include <inttypes.h>

void lj_metrics_header(struct lj_buf *b, const char *name, const char *type,
                       const char *help)
{
    lj_buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels(struct lj_buf *b, const char *name, const char *label, const char *value)
{
    lj_buf_appendf(b, "%s", name);
    if (label == NULL)
        return;
    lj_buf_appendf(b, "{%s=\"", label);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            lj_buf_appendf(b, "\\%c", *p);
        else if (*p == '\n')
            lj_buf_appendf(b, "\\n");
        else
            lj_buf_append(b, p, 1);
    }
    lj_buf_appendf(b, "\"}");
}

void lj_metrics_u64(struct lj_buf *b, const char *name, const char *label,
                    const char *value, uint64_t v)
{
    labels(b, name, label, value);
    lj_buf_appendf(b, " %" PRIu64 "\n", v);
}

void lj_metrics_f64(struct lj_buf *b, const char *name, const char *label,
                    const char *value, double v)
{
    labels(b, name, label, value);
    lj_buf_appendf(b, " %.6g\n", v);
}
