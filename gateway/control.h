/* control.h - parsing the browser's control messages (client -> gateway, JSON text).
 *
 *   {"op":"subscribe","id":"a","container":"h/web-*","replay":100,"after_seq":0,
 *    "levels":["warn","error"],"streams":["stderr"],"grep":"timeout"}
 *   {"op":"unsubscribe","id":"a"}      {"op":"list"}
 *
 * Field   | type              | bound / meaning
 * --------|-------------------|-----------------------------------------------
 * op      | string, required  | subscribe, unsubscribe, list
 * id      | string            | 1..128 bytes; required for (un)subscribe
 * container | string          | "<host>/<name>", `*`/`?` globs, 1..512 bytes
 * replay  | integer           | 0..max_replay (the ring depth)
 * after_seq | integer         | >= 0; > 0 means resume after that stream sequence
 * after_line_no | integer     | optional hint: line_no of after_seq (exact `lost`)
 * levels  | array of string   | trace debug info warn error fatal unknown
 * streams | array of string   | stdout stderr
 * grep    | string            | <= 256 bytes, see grep.h
 * since   | string            | RFC 3339 time (Z or an offset, 0-9 fraction digits):
 *         |                   | the lines from then on (a time jump), instead of replay
 * Unknown fields are ignored (forward compatibility). A frame is at most 4 KiB.
 *
 * Also the protocol's error codes (one table) and the limits a client is held to;
 * applying them is the session's job.
 *
 * Pure function of its input: no allocation survives a call, no logging, any thread.
 */
#ifndef LJ_CONTROL_H
#define LJ_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "grep.h"
#include "status.h"

#define LJ_CONTROL_FRAME_MAX 4096
#define LJ_CONTROL_ID_MAX 128
#define LJ_CONTROL_CONTAINER_MAX 512

enum lj_control_op { LJ_CONTROL_SUBSCRIBE, LJ_CONTROL_UNSUBSCRIBE, LJ_CONTROL_LIST };

struct lj_control {
    enum lj_control_op op;
    char id[LJ_CONTROL_ID_MAX + 1];               /* "" when absent */
    char container[LJ_CONTROL_CONTAINER_MAX + 1];
    uint32_t replay;
    uint64_t after_seq;
    uint64_t after_line_no;                       /* 0 = not given */
    unsigned levels;                              /* bit (1 << lj_level); 0 = all */
    unsigned streams;                             /* bit (1 << lj_stream); 0 = all */
    char grep[LJ_GREP_PATTERN_MAX + 1];           /* "" = no grep */
    int64_t since_ns;                             /* Unix ns; 0 = not given */
};

/* Parses one frame (len bytes, not necessarily NUL-terminated) into *out.
 * Returns LJ_OK; or LJ_LIMIT (error code "limit") for an oversized frame or field;
 * or LJ_PROTO (code "bad_request") for malformed JSON, a wrong type or a bad value.
 * On failure msg holds a short reason and out->id the request's id when it could be
 * read (so the error frame can name it). */
lj_status lj_control_parse(const char *json, size_t len, uint32_t max_replay,
                           struct lj_control *out, char *msg, size_t msglen);

/* The bounds a client is held to (the session applies them; `hello` announces depth). */
struct lj_control_limits {
    size_t max_queue;          /* bytes a container's log keeps for a lagging client
                                  (per watch, default 4 MiB) */
    size_t max_frame;          /* bytes of one lines frame before closing it (64 KiB) */
    uint32_t depth;            /* replay bound */
};

/* The protocol's error codes (the `code` of an error frame), from one table so the
 * control parser and the session cannot name the same failure differently. */
#define LJ_CONTROL_ERROR_MAP(X)                                                    \
    X(BAD_REQUEST, "bad_request") /* malformed JSON, bad field, id in use, bad name */ \
    X(FORBIDDEN,   "forbidden")   /* the token may not see that container */           \
    X(NOT_FOUND,   "not_found")   /* unsubscribe of an unknown id */                   \
    X(LIMIT,       "limit")       /* a size, count or rate bound; or try again later */

enum lj_control_error {
#define LJ_CONTROL_ERROR_ENUM(name, code) LJ_CONTROL_E_##name,
    LJ_CONTROL_ERROR_MAP(LJ_CONTROL_ERROR_ENUM)
#undef LJ_CONTROL_ERROR_ENUM
    LJ_CONTROL_E_COUNT
};

/* The wire name of e ("bad_request"); never NULL. */
const char *lj_control_error_name(enum lj_control_error e);

/* The one mapping from a failed request's status to its code: LJ_LIMIT and the
 * failures a retry may cure (LJ_AGAIN, LJ_NOMEM, LJ_NATS) give LIMIT, LJ_NOT_FOUND
 * gives NOT_FOUND, anything else (LJ_PROTO, LJ_INVAL: the request itself is wrong)
 * BAD_REQUEST. A refusal by the token is not a status: callers name FORBIDDEN. */
enum lj_control_error lj_control_error_of(lj_status s);

#endif
