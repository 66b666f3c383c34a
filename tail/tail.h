/* tail.h - the tailer: history, the live stream, the merge, filters and output of one
 * logjet-tail run, driven from main.c's options. */
#ifndef LJ_TAIL_H
#define LJ_TAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "filter.h"
#include "natsconn.h"
#include "print.h"
#include "select.h"
#include "status.h"

struct lj_tail_config {
    const struct lj_natsconn_options *nats;   /* the --nats-* options */
    const char *nats_name;            /* connection name: logjet-tail@<hostname> */
    const char *stream;
    const char *live_subject;         /* "live.logs.>" or narrower for a literal --host */
    struct lj_select select;
    struct lj_filter filter;
    struct lj_print_config print;
    long tail;                        /* lines per container from history; -1 = all retained */
    int64_t since_ns, until_ns;       /* 0 = not given */
    bool follow;
    bool events;
    int64_t delay_ns;
    long buffer_lines;                /* merge bound */
    const char *resume_path;          /* NULL: no resume */
    int out_fd;
};

/* Runs until the history is printed (no follow), --until has passed, or *stop is set
 * (by a signal handler); then flushes everything held and saves the resume file.
 * Returns the process exit status: 0, 1 when nothing matched with no follow, 2 on
 * errors (written to stderr as one log line, the only thing that logs here). */
int lj_tail_run(struct lj_tail_config *cfg, volatile int *stop);

#endif
