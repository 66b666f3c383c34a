/* term.c - the terminal sanitiser (see term.h).
 *
 * Escape sequences recognised (ECMA-48), all removed except a kept SGR:
 *   ESC [ P* I* F     CSI: P in 0x30-0x3F, I in 0x20-0x2F, F in 0x40-0x7E; SGR is F='m'
 *                     with P only digits, ';' and ':' (at most 64 of them) and no I
 *   ESC ] ... BEL|ESC \         OSC (window title, hyperlinks, clipboard)
 *   ESC P|X|^|_ ... BEL|ESC \   DCS, SOS, PM, APC
 *   ESC I* F          other escapes (charset switches, cursor save/restore): F in 0x30-0x7E
 * An unterminated string sequence runs to the end of the line. A malformed CSI is
 * dropped up to the offending byte, which is then treated as ordinary input.
 * Does not know about colours of its own or the prefix: output.c adds those.
 */
#include "term.h"

#include <stdbool.h>

#define ESC 0x1b
#define BEL 0x07
#define SGR_MAX 64

static const char reset[] = "\x1b[0m";
static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t lj_term_utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Skips a string sequence (OSC, DCS, ...) whose body starts at i; returns the index after
 * its terminator, or n. */
static size_t skip_string(const uint8_t *p, size_t n, size_t i)
{
    for (; i < n; i++) {
        if (p[i] == BEL)
            return i + 1;
        if (p[i] == ESC && i + 1 < n && p[i + 1] == '\\')
            return i + 2;
    }
    return n;
}

/* A CSI whose parameters start at i. Returns the index after it; *sgr says whether it is
 * a well-formed SGR (then p[i..end-1] is its parameters and final 'm'). */
static size_t skip_csi(const uint8_t *p, size_t n, size_t i, bool *sgr)
{
    size_t start = i;
    bool plain = true;
    *sgr = false;
    for (; i < n && p[i] >= 0x30 && p[i] <= 0x3f; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == ';' || p[i] == ':'))
            plain = false;
    size_t nparams = i - start;
    for (; i < n && p[i] >= 0x20 && p[i] <= 0x2f; i++)
        plain = false;
    if (i < n && p[i] >= 0x40 && p[i] <= 0x7e) {
        *sgr = plain && p[i] == 'm' && nparams <= SGR_MAX;
        return i + 1;
    }
    return i;    /* malformed: the offending byte is processed as input */
}

/* An escape sequence at p[i] == ESC: appends it when it is a kept SGR; returns the
 * index after it. */
static size_t escape(const uint8_t *p, size_t n, size_t i, enum lj_term_mode mode,
                     struct lj_buf *out, bool *kept, lj_status *st)
{
    if (i + 1 >= n)
        return n;
    uint8_t c = p[i + 1];
    if (c == '[') {
        bool sgr;
        size_t end = skip_csi(p, n, i + 2, &sgr);
        if (sgr && mode == LJ_TERM_KEEP_SGR) {
            *st = lj_buf_append(out, p + i, end - i);
            *kept = true;
        }
        return end;
    }
    if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
        return skip_string(p, n, i + 2);
    size_t j = i + 1;
    while (j < n && p[j] >= 0x20 && p[j] <= 0x2f)
        j++;
    return j < n && p[j] >= 0x30 && p[j] <= 0x7e ? j + 1 : j;
}

lj_status lj_term_sanitize(const uint8_t *p, size_t n, enum lj_term_mode mode,
                           struct lj_buf *out)
{
    lj_status st = LJ_OK;
    bool kept = false;
    size_t i = 0;

    while (i < n && st == LJ_OK) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f)
            run++;
        if (run > i) {
            st = lj_buf_append(out, p + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = p[i];
        if (c == ESC) {
            i = escape(p, n, i, mode, out, &kept, &st);
        } else if (c == '\t') {
            st = lj_buf_append(out, "\t", 1);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char caret[2] = { '^', c == 0x7f ? '?' : (char)(c + 0x40) };
            st = lj_buf_append(out, caret, 2);
            i++;
        } else {
            size_t len = lj_term_utf8_len(p + i, n - i);
            /* C1 controls (U+0080..U+009F, e.g. the 8-bit CSI) are commands too. */
            if (len == 0 || (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
                st = lj_buf_append(out, replacement, 3);
                i += len ? len : 1;
            } else {
                st = lj_buf_append(out, p + i, len);
                i += len;
            }
        }
    }
    if (st == LJ_OK && kept)
        st = lj_buf_append(out, reset, sizeof reset - 1);
    return st;
}
