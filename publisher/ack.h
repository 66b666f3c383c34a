/* ack.h - one JetStream acknowledgement: the struct the sink hands to the main thread,
 * and the two parsers that make it from what the server sends back.
 *
 * Reply subject of every published message (written by lj_sink_publish, read back here):
 *     <inbox>.<follow_id>.<line_no>.<attempt>      e.g. _INBOX.abc123.7.4001.0
 * each number in canonical decimal (no sign, no leading zero, no white space).
 * PubAck payloads (JSON):
 *     {"stream":"LOGS","seq":1234}                  stored
 *     {"stream":"LOGS","seq":1234,"duplicate":true} already stored (same Nats-Msg-Id)
 *     {"error":{"code":503,"err_code":10077,"description":"..."}}
 * or, when no stream listens, nats-server's 503 "no responders" status message.
 *
 * Pure functions over bytes: no NATS types, no allocation that outlives a call, no
 * logging; safe on any thread (the sink calls them on nats.c's ack thread).
 */
#ifndef LJ_ACK_H
#define LJ_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One acknowledgement (or failure) of a published message, as seen by the main thread. */
struct lj_ack {
    uint64_t follow_id;
    uint64_t line_no;
    uint32_t attempt;
    bool ok;             /* stored (or a duplicate of a stored message) */
    bool duplicate;
    bool no_stream;      /* nobody answered for the stream: gone, or no leader yet */
    uint64_t seq;        /* stream sequence when ok, <= 2^53 (exact in JSON) */
    char error[120];     /* the server's description when !ok, NUL-terminated */
};

/* Reads "<follow_id>.<line_no>.<attempt>" after the first prefix_len bytes of the
 * NUL-terminated subject, which must be followed by '.'. Returns false (a unchanged in
 * its ids) for anything else: a missing or empty field, a sign, a leading zero, a
 * number over its type, trailing bytes. */
bool lj_ack_parse_reply(const char *subject, size_t prefix_len, struct lj_ack *a);

/* Fills a's ok/duplicate/no_stream/seq/error from a PubAck payload of len bytes (need
 * not be NUL-terminated). no_responders: the message was nats-server's 503 status.
 * Never fails: anything unusable becomes !ok with a reason in a->error. */
void lj_ack_parse_puback(const char *data, size_t len, bool no_responders, struct lj_ack *a);

#endif
