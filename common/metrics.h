/* metrics.h - writing Prometheus text exposition format (version 0.0.4) into a buffer.
 * No registry: each daemon renders its own counters when /metrics is asked for. */
#ifndef LJ_METRICS_H
#define LJ_METRICS_H

#include <stdint.h>

#include "buf.h"

/* "# HELP name help\n# TYPE name type\n"; type is "counter" or "gauge". */
void lj_metrics_header(struct lj_buf *b, const char *name, const char *type,
                       const char *help);

/* "name{label="value"} v\n"; label may be NULL for none; value is escaped. */
void lj_metrics_u64(struct lj_buf *b, const char *name, const char *label,
                    const char *value, uint64_t v);
void lj_metrics_f64(struct lj_buf *b, const char *name, const char *label,
                    const char *value, double v);

#endif
