/* ack.c - parsers for JetStream's answers to a publish (formats in ack.h).
 *
 * Both read bytes another process sent: the reply subject comes back from the server
 * on our inbox subscription (anyone allowed to publish there can forge one), the
 * PubAck is JSON from the server. Neither trusts a number beyond its type: a sequence
 * is taken only when it is an integer JSON can carry exactly (0..2^53), since casting
 * an out-of-range double to an integer is undefined behaviour.
 * Does not decide what to do with an ack: the follow does.
 */
#include "ack.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define SEQ_MAX 9007199254740992.0      /* 2^53 */

/* A canonical decimal at *p up to stop, at most max; advances *p past it. */
static bool read_number(const char **p, char stop, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (*s != stop)
        return false;
    *p = s;
    *out = v;
    return true;
}

bool lj_ack_parse_reply(const char *subject, size_t prefix_len, struct lj_ack *a)
{
    uint64_t follow_id, line_no, attempt;
    const char *p;
    if (strnlen(subject, prefix_len + 1) <= prefix_len || subject[prefix_len] != '.')
        return false;
    p = subject + prefix_len + 1;
    if (!read_number(&p, '.', UINT64_MAX, &follow_id))
        return false;
    p++;
    if (!read_number(&p, '.', UINT64_MAX, &line_no))
        return false;
    p++;
    if (!read_number(&p, '\0', UINT32_MAX, &attempt))
        return false;
    a->follow_id = follow_id;
    a->line_no = line_no;
    a->attempt = (uint32_t)attempt;
    return true;
}

void lj_ack_parse_puback(const char *data, size_t len, bool no_responders, struct lj_ack *a)
{
    cJSON *root = len > 0 ? cJSON_ParseWithLength(data, len) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");

    a->ok = a->duplicate = a->no_stream = false;
    a->seq = 0;
    a->error[0] = '\0';
    if (no_responders) {
        a->no_stream = true;
        snprintf(a->error, sizeof a->error, "no responders (stream missing or no leader)");
    } else if (root == NULL) {
        snprintf(a->error, sizeof a->error, "unparsable ack");
    } else if (error != NULL) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(error, "description");
        snprintf(a->error, sizeof a->error, "%s",
                 cJSON_IsString(d) && d->valuestring ? d->valuestring : "JetStream error");
    } else if (!cJSON_IsNumber(seq)) {
        snprintf(a->error, sizeof a->error, "ack without sequence");
    } else if (!(seq->valuedouble >= 0 && seq->valuedouble <= SEQ_MAX) ||
               seq->valuedouble != (double)(uint64_t)seq->valuedouble) {
        snprintf(a->error, sizeof a->error, "ack with a bad sequence");
    } else {
        a->ok = true;
        a->seq = (uint64_t)seq->valuedouble;
        a->duplicate = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "duplicate"));
    }
    cJSON_Delete(root);
}
