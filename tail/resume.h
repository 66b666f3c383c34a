/* resume.h - the --resume file: where a previous run stopped, per container.
 *
 *   # logjet-tail resume v1
 *   mark 1234                      (every selected line with seq <= 1234 was handled)
 *   logs.web-1.api 1200 87         (subject, last stream sequence handled, its line_no)
 *
 * Written whole to "<file>.tmp" and renamed over the file, so a reader (or a crash)
 * never sees half of one. Does not decide when to save (main.c does: before each write
 * to stdout, so a line is never printed twice across runs).
 */
#ifndef LJ_RESUME_H
#define LJ_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

struct lj_resume_entry {
    const char *subject;
    uint64_t seq, line_no;
};

/* Reads path, calling fn for every entry (subject valid during the call only) and
 * setting *mark (0 when absent). A missing file is LJ_OK with no entries. LJ_IO or
 * LJ_INVAL naming the file and line otherwise. */
lj_status lj_resume_load(const char *path, uint64_t *mark,
                         lj_status (*fn)(void *arg, const char *subject, uint64_t seq,
                                         uint64_t line_no),
                         void *arg, char *err, size_t errlen);

/* Replaces path with mark and the n entries. LJ_IO naming the file on failure. */
lj_status lj_resume_save(const char *path, uint64_t mark, const struct lj_resume_entry *e,
                         size_t n, char *err, size_t errlen);

#endif
