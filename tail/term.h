/* term.h - makes a log line safe to write to a terminal.
 *
 * A line is bytes from a container: it may hold escape sequences that set the window
 * title (OSC), move the cursor, clear the screen, query the terminal, or switch
 * character sets. The sanitiser keeps only colour and style (SGR, "ESC [ ... m") and
 * only when asked; every other escape sequence is removed whole, other control bytes
 * (CR, BS, BEL, ...; TAB is kept) become visible caret forms ("^M"), C1 controls and
 * invalid UTF-8 become U+FFFD, so nothing in a line can reach the terminal as a
 * command. A line that kept any SGR ends with a reset, so colour never leaks into the
 * next line or prefix. Pure: no I/O, no locale.
 */
#ifndef LJ_TERM_H
#define LJ_TERM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "status.h"

enum lj_term_mode {
    LJ_TERM_STRIP,    /* every escape sequence removed (output that is not a terminal) */
    LJ_TERM_KEEP_SGR, /* colour and style pass through, everything else removed */
};

/* Appends the sanitised form of line (n bytes, any content) to out. LJ_NOMEM only. */
lj_status lj_term_sanitize(const uint8_t *line, size_t n, enum lj_term_mode mode,
                           struct lj_buf *out);

/* Length of the valid UTF-8 sequence at p (n > 0 bytes left), 0 when it is invalid
 * (overlong, surrogate, past U+10FFFF, truncated). */
size_t lj_term_utf8_len(const uint8_t *p, size_t n);

#endif
