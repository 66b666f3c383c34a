/* Unit tests for tail/term.c: nothing in a line can command the terminal. */
#include "check.h"
#include "term.h"

static const char *san(const char *in, size_t n, enum lj_term_mode mode, struct lj_buf *b)
{
    lj_buf_reset(b);
    lj_term_sanitize((const uint8_t *)in, n, mode, b);
    return lj_buf_cstr(b);
}
#define SAN(lit, mode) san(lit, sizeof(lit) - 1, mode, &b)

int main(void)
{
    struct lj_buf b;
    lj_buf_init(&b);
    CHECK_STR(SAN("plain text", LJ_TERM_STRIP), "plain text");
    CHECK_STR(SAN("tab\there", LJ_TERM_STRIP), "tab\there");
    /* colour: kept (with a reset at the end) or stripped */
    CHECK_STR(SAN("\x1b[31mred\x1b[0m", LJ_TERM_KEEP_SGR), "\x1b[31mred\x1b[0m\x1b[0m");
    CHECK_STR(SAN("\x1b[1;38;5;208mx", LJ_TERM_KEEP_SGR), "\x1b[1;38;5;208mx\x1b[0m");
    CHECK_STR(SAN("\x1b[31mred\x1b[0m", LJ_TERM_STRIP), "red");
    /* window title (OSC, BEL- or ST-terminated, or unterminated) */
    CHECK_STR(SAN("a\x1b]0;HACKED\x07" "b", LJ_TERM_KEEP_SGR), "ab");
    CHECK_STR(SAN("a\x1b]2;HACKED\x1b\\b", LJ_TERM_KEEP_SGR), "ab");
    CHECK_STR(SAN("a\x1b]0;HACKED", LJ_TERM_KEEP_SGR), "a");
    CHECK_STR(SAN("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", LJ_TERM_KEEP_SGR), "alink");
    /* cursor moves, clears, private modes, DCS, charset switches */
    CHECK_STR(SAN("\x1b[2J\x1b[H\x1b[10;20Hx\x1b[?1049h\x1b[6n", LJ_TERM_KEEP_SGR), "x");
    CHECK_STR(SAN("\x1b[1Ax\x1b[K", LJ_TERM_KEEP_SGR), "x");
    CHECK_STR(SAN("\x1bPq#0;1\x1b\\x", LJ_TERM_KEEP_SGR), "x");
    CHECK_STR(SAN("\x1b(0x\x1b" "7\x1b" "8\x1b" "c", LJ_TERM_KEEP_SGR), "x");
    CHECK_STR(SAN("\x1b[?25lm", LJ_TERM_KEEP_SGR), "m");     /* not an SGR: '?' */
    CHECK_STR(SAN("\x1b[31;!m", LJ_TERM_KEEP_SGR), "");      /* intermediate byte */
    CHECK_STR(SAN("x\x1b", LJ_TERM_KEEP_SGR), "x");
    CHECK_STR(SAN("\x1b[31\x07", LJ_TERM_KEEP_SGR), "^G");   /* malformed CSI */
    /* control bytes become visible; CR cannot overwrite the prefix */
    CHECK_STR(SAN("a\rb\bc\x07" "d\x7f", LJ_TERM_STRIP), "a^Mb^Hc^Gd^?");
    CHECK_STR(san("a\0b", 3, LJ_TERM_STRIP, &b), "a^@b");
    /* C1 controls (8-bit CSI U+009B), raw 0x9b, invalid UTF-8 */
    CHECK_STR(SAN("\xc2\x9b" "2J", LJ_TERM_KEEP_SGR), "\xef\xbf\xbd" "2J");
    CHECK_STR(SAN("\x9b" "2J", LJ_TERM_KEEP_SGR), "\xef\xbf\xbd" "2J");
    CHECK_STR(SAN("\xff\xc3", LJ_TERM_STRIP), "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_STR(SAN("\xed\xa0\x80", LJ_TERM_STRIP), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_STR(SAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", LJ_TERM_STRIP),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* an over-long SGR is not passed through */
    char longsgr[100] = "\x1b[";
    for (int i = 2; i < 90; i++) longsgr[i] = '1';
    longsgr[90] = 'm';
    CHECK_STR(san(longsgr, 91, LJ_TERM_KEEP_SGR, &b), "");
    lj_buf_finish(&b);
    CHECK_DONE();
}
