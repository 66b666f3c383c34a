/* filter.h - which lines print: --level, --stream, -i/--include, -e/--exclude, and
 * grep-style context (-A, -B, -C) around --include matches.
 *
 * Semantics (stern's, plus context): a line whose level or stream is not selected, or
 * that matches any --exclude, is removed and never shown, not even as context. If
 * --include is given, a remaining line is a match when it matches any of them; with
 * -B N the N remaining lines before a match (of the same container) and with -A N the
 * N after it are shown too. Context is kept per container (struct lj_context), since
 * lines of different containers are unrelated. Regular expressions are POSIX extended
 * (regcomp), matched over the line's bytes (NULs included). Pure: no I/O.
 */
#ifndef LJ_FILTER_H
#define LJ_FILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "status.h"

struct lj_regexes {
    regex_t *re;
    size_t n;
};

struct lj_filter {
    unsigned levels;           /* bit per enum lj_level; all set by default */
    unsigned streams;          /* bit per enum lj_stream */
    struct lj_regexes include, exclude;
    int before, after;         /* context lines, 0..LJ_FILTER_CONTEXT_MAX */
};

#define LJ_FILTER_CONTEXT_MAX 10000

void lj_filter_init(struct lj_filter *f);
void lj_filter_finish(struct lj_filter *f);

/* Adds a pattern to list. LJ_INVAL with regcomp's message and the pattern in err. */
lj_status lj_regexes_add(struct lj_regexes *list, const char *pattern, int cflags, char *err,
                         size_t errlen);
/* true when any pattern of list matches line (n bytes). */
bool lj_regexes_match(const struct lj_regexes *list, const uint8_t *line, size_t n);

/* Parses "warn,error" into f->levels / "stdout" into f->streams. LJ_INVAL naming the
 * unknown entry. */
lj_status lj_filter_set_levels(struct lj_filter *f, const char *list, char *err, size_t errlen);
lj_status lj_filter_set_streams(struct lj_filter *f, const char *list, char *err, size_t errlen);

/* true when the line survives --level, --stream and --exclude. */
bool lj_filter_keep(const struct lj_filter *f, enum lj_level level, enum lj_stream stream,
                    const uint8_t *line, size_t n);
/* true when the line is a match (always, without --include). */
bool lj_filter_match(const struct lj_filter *f, const uint8_t *line, size_t n);

/* Per-container context: a ring of up to `before` held lines (opaque items, the
 * caller's) and how many lines after the last match still print. */
struct lj_context {
    void **ring;
    size_t cap, start, n;
    int after_left;
    uint64_t index;            /* lines offered so far */
    uint64_t last_printed;     /* index of the last line printed + 1; 0 = none yet */
};

lj_status lj_context_init(struct lj_context *c, int before);
/* Hands every held item to drop (may be NULL) and frees the ring. */
void lj_context_finish(struct lj_context *c, void (*drop)(void *item));

/* Offers one kept line. The items to print now, in order, are written to out (room for
 * before + 1) and their count returned; *separator is set when they do not follow the
 * last printed line of this container (grep's "--"). An item neither printed nor held is
 * returned in *dropped (and an item pushed out of the ring too: at most one), for the
 * caller to free. */
size_t lj_context_offer(struct lj_context *c, const struct lj_filter *f, bool match, void *item,
                        void **out, bool *separator, void **dropped);

#endif
