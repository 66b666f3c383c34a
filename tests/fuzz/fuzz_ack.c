/* fuzz_ack.c - libFuzzer target for publisher/ack.c: the reply subjects and PubAck
 * payloads that come back from the NATS server.
 *
 * First byte: bit 0 picks the reply-subject parser (else the PubAck parser), bit 1 the
 * no-responders flag, bits 2-7 the inbox prefix length; the rest is the subject or
 * the payload. Properties checked beyond "no crash": an accepted subject is exactly
 * the canonical "<prefix>.<f>.<l>.<a>" its numbers format back to, and numbers taken
 * from the input always format into a subject that parses back to them; a PubAck is
 * "ok" only when the payload holds an integer "seq" in 0..2^53 equal to a->seq and
 * no "error", every ack carries a NUL-terminated error text, and no-responders is
 * never ok.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"

static void fuzz_reply(const uint8_t *data, size_t size, size_t prefix_len)
{
    char *s = malloc(size + 1), canon[256];
    struct lj_ack a = { 0 };
    if (s == NULL)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    if (lj_ack_parse_reply(s, prefix_len, &a)) {
        snprintf(canon, sizeof canon, "%.*s.%" PRIu64 ".%" PRIu64 ".%" PRIu32, (int)prefix_len, s,
                 a.follow_id, a.line_no, a.attempt);
        if (strlen(s) >= sizeof canon || strcmp(canon, s) != 0)
            abort();
    }
    free(s);

    /* Numbers from the input, formatted as lj_sink_publish does, parse back. */
    uint64_t f = 0, l = 0;
    uint32_t at = 0;
    memcpy(&f, data, size < 8 ? size : 8);
    if (size > 8)
        memcpy(&l, data + 8, size - 8 < 8 ? size - 8 : 8);
    if (size > 16)
        memcpy(&at, data + 16, size - 16 < 4 ? size - 16 : 4);
    snprintf(canon, sizeof canon, "_INBOX.x.%" PRIu64 ".%" PRIu64 ".%" PRIu32, f, l, at);
    if (!lj_ack_parse_reply(canon, 8, &a) || a.follow_id != f || a.line_no != l || a.attempt != at)
        abort();
}

static void fuzz_puback(const uint8_t *data, size_t size, bool no_responders)
{
    struct lj_ack a;
    memset(&a, 0x5a, sizeof a);
    lj_ack_parse_puback((const char *)data, size, no_responders, &a);
    if (memchr(a.error, '\0', sizeof a.error) == NULL)
        abort();
    if (no_responders && (a.ok || !a.no_stream))
        abort();
    if (!a.ok)
        return;
    if (a.error[0] != '\0' || size == 0)
        abort();
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
    if (!cJSON_IsNumber(seq) || cJSON_GetObjectItemCaseSensitive(root, "error") != NULL ||
        !(seq->valuedouble >= 0 && seq->valuedouble <= 9007199254740992.0) ||
        (double)a.seq != seq->valuedouble)
        abort();
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        size_t prefix = (size_t)(data[0] >> 2);
        fuzz_reply(data + 1, size - 1, prefix < size - 1 ? prefix : size - 1);
    } else {
        fuzz_puback(data + 1, size - 1, (data[0] & 2) != 0);
    }
    return 0;
}
