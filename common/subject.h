/* subject.h - NATS subject tokens for hosts and containers (public API, see README).
 *
 * A token is the name with every byte outside [A-Za-z0-9_-] written as =HH, upper-case
 * hex: "my.app" -> "my=2Eapp". The encoding is injective, so a token always decodes to
 * the name it came from, and a token never contains '.', '*', '>' or whitespace.
 * The same token is a valid JetStream KV key part: nats.c accepts only
 * [-/_=.A-Za-z0-9] in keys, which is why the escape is '=' and not '%' (the first
 * scheme, %HH, made every dotted name unregistrable).
 */
#ifndef LJ_SUBJECT_H
#define LJ_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* Longest encoded token we build: names are capped so that a subject fits easily
 * within NATS limits. Docker names are at most 128 bytes here in practice. */
#define LJ_SUBJECT_TOKEN_MAX 768
#define LJ_SUBJECT_MAX (2 * LJ_SUBJECT_TOKEN_MAX + 32)

/* Encodes name (len bytes) into dst (size n, NUL-terminated). Returns LJ_OK, or
 * LJ_LIMIT when dst is too small (dst then holds an empty string), LJ_INVAL for an
 * empty name. */
lj_status lj_subject_encode(const char *name, size_t len, char *dst, size_t n);

/* Decodes a token back into dst (size n). Returns LJ_INVAL on a malformed escape or a
 * byte that encoding never produces (so decode(encode(x)) == x and nothing else
 * decodes), LJ_LIMIT when dst is too small. *outlen gets the decoded length. */
lj_status lj_subject_decode(const char *token, char *dst, size_t n, size_t *outlen);

/* Builds "<prefix>.<enc(host)>.<enc(container)>" into dst (size n). */
lj_status lj_subject_build(const char *prefix, const char *host, const char *container,
                           char *dst, size_t n);

#endif
