/* resume.c - reads and atomically replaces the --resume file. Never prints. */
#include "resume.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "# logjet-tail resume v1"

lj_status lj_resume_load(const char *path, uint64_t *mark,
                         lj_status (*fn)(void *, const char *, uint64_t, uint64_t), void *arg,
                         char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[2048], subject[1600];
    unsigned lineno = 0;
    lj_status st = LJ_OK;
    *mark = 0;
    if (f == NULL)
        return errno == ENOENT ? LJ_OK
             : lj_fail(err, errlen, LJ_IO, "cannot read %s: %s", path, strerror(errno));
    while (st == LJ_OK && fgets(line, sizeof line, f) != NULL) {
        uint64_t seq, lno;
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "mark %" SCNu64, mark) == 1)
            continue;
        if (sscanf(line, "%1599s %" SCNu64 " %" SCNu64, subject, &seq, &lno) != 3)
            st = lj_fail(err, errlen, LJ_INVAL, "%s:%u: not a resume entry (delete the file to "
                         "start afresh)", path, lineno);
        else
            st = fn(arg, subject, seq, lno);
    }
    fclose(f);
    return st;
}

lj_status lj_resume_save(const char *path, uint64_t mark, const struct lj_resume_entry *e,
                         size_t n, char *err, size_t errlen)
{
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if ((f = fopen(tmp, "w")) == NULL)
        return lj_fail(err, errlen, LJ_IO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, HEADER "\nmark %" PRIu64 "\n", mark);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %" PRIu64 " %" PRIu64 "\n", e[i].subject, e[i].seq, e[i].line_no);
    if (ferror(f) | (fclose(f) != 0) || rename(tmp, path) != 0) {
        int saved = errno;
        remove(tmp);
        return lj_fail(err, errlen, LJ_IO, "cannot write %s: %s", path, strerror(saved));
    }
    return LJ_OK;
}
