/* Unit tests for publisher/ack.c: reply subjects in and out of canonical form, PubAck
 * payloads as nats-server 2.9 sends them, and the ones it must not be trusted for
 * (a sequence that is negative, fractional or past 2^53 was taken as "stored" and cast
 * with undefined behaviour before). */
#include <inttypes.h>
#include <stdio.h>

#include "ack.h"
#include "check.h"

#define INBOX "_INBOX.abc123"

static void test_reply_subjects(void)
{
    static const struct { const char *subj; bool ok; uint64_t f, l; uint32_t at; } cases[] = {
        { INBOX ".7.4001.0", true, 7, 4001, 0 },
        { INBOX ".0.0.0", true, 0, 0, 0 },
        { INBOX ".18446744073709551615.18446744073709551615.4294967295", true,
          UINT64_MAX, UINT64_MAX, UINT32_MAX },
        { INBOX ".18446744073709551616.1.0", false, 0, 0, 0 },     /* over uint64 */
        { INBOX ".1.1.4294967296", false, 0, 0, 0 },               /* over uint32 (was cut) */
        { INBOX ".1.1", false, 0, 0, 0 },
        { INBOX ".1..0", false, 0, 0, 0 },                          /* empty field (was 0) */
        { INBOX ".-1.1.0", false, 0, 0, 0 },                        /* sign (was 2^64-1) */
        { INBOX ". 1.1.0", false, 0, 0, 0 },                        /* white space */
        { INBOX ".+1.1.0", false, 0, 0, 0 },
        { INBOX ".01.1.0", false, 0, 0, 0 },                        /* leading zero */
        { INBOX ".1.1.0.", false, 0, 0, 0 },
        { INBOX ".1.1.0x", false, 0, 0, 0 },
        { INBOX "x1.1.0", false, 0, 0, 0 },
        { INBOX, false, 0, 0, 0 },
        { "_INBOX", false, 0, 0, 0 },
        { "", false, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lj_ack a = { .follow_id = 99, .line_no = 99, .attempt = 99 };
        bool ok = lj_ack_parse_reply(cases[i].subj, strlen(INBOX), &a);
        if (ok != cases[i].ok)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].subj);
        CHECK(ok == cases[i].ok);
        CHECK_INT(a.follow_id, ok ? cases[i].f : 99);
        CHECK_INT(a.line_no, ok ? cases[i].l : 99);
        CHECK_INT(a.attempt, ok ? cases[i].at : 99);
    }
}

static void puback(const char *json, bool no_responders, struct lj_ack *a)
{
    memset(a, 0x5a, sizeof *a);     /* every field must be written */
    lj_ack_parse_puback(json, strlen(json), no_responders, a);
}

static void test_pubacks(void)
{
    struct lj_ack a;
    puback("{\"stream\":\"LOGS\",\"seq\":1234}", false, &a);
    CHECK(a.ok && !a.duplicate && !a.no_stream);
    CHECK_INT(a.seq, 1234);
    CHECK_STR(a.error, "");
    puback("{\"stream\":\"LOGS\",\"seq\":9007199254740992,\"duplicate\":true}", false, &a);
    CHECK(a.ok && a.duplicate);
    CHECK_INT(a.seq, 9007199254740992ull);
    puback("{\"error\":{\"code\":503,\"err_code\":10077,\"description\":\"maximum messages exceeded\"}}",
           false, &a);
    CHECK(!a.ok && !a.no_stream);
    CHECK_STR(a.error, "maximum messages exceeded");
    puback("{\"error\":{\"code\":500}}", false, &a);
    CHECK_STR(a.error, "JetStream error");
    puback("", true, &a);
    CHECK(!a.ok && a.no_stream);
    puback("", false, &a);
    CHECK(!a.ok);
    CHECK_STR(a.error, "unparsable ack");
    puback("{\"stream\":\"LOGS\"}", false, &a);
    CHECK_STR(a.error, "ack without sequence");
    static const char *bad_seq[] = {
        "{\"seq\":-1}", "{\"seq\":1.5}", "{\"seq\":1e300}", "{\"seq\":-1e300}",
        "{\"seq\":9007199254740994}", "{\"seq\":18446744073709551616}",
    };
    for (size_t i = 0; i < sizeof bad_seq / sizeof bad_seq[0]; i++) {
        puback(bad_seq[i], false, &a);
        CHECK(!a.ok);
        CHECK_STR(a.error, "ack with a bad sequence");
    }
    /* Not NUL-terminated: only len bytes are read. */
    char buf[] = "{\"seq\":12}XXXX";
    lj_ack_parse_puback(buf, 10, false, &a);
    CHECK(a.ok);
    CHECK_INT(a.seq, 12);
    /* A description longer than the field is cut, still terminated. */
    char big[400];
    snprintf(big, sizeof big, "{\"error\":{\"description\":\"%0300d\"}}", 7);
    puback(big, false, &a);
    CHECK_INT(strlen(a.error), sizeof a.error - 1);
}

int main(void)
{
    test_reply_subjects();
    test_pubacks();
    CHECK_DONE();
}
