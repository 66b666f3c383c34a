/* record.h - the protobuf glue: logjet.v1.LogRecord and ContainerInfo in and out.
 *
 * This is the only header through which protobuf-c types reach the daemons. Packing
 * works from plain C views (struct lj_record) so the publisher's hot path needs no
 * allocation; unpacking returns protobuf-c objects that the caller frees.
 */
#ifndef LJ_RECORD_H
#define LJ_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logjet.pb-c.h"
#include "status.h"

typedef Logjet__V1__LogRecord lj_pb_record;
typedef Logjet__V1__ContainerInfo lj_pb_container;

enum lj_stream { LJ_STREAM_STDOUT = 0, LJ_STREAM_STDERR = 1 };

enum lj_level {
    LJ_LEVEL_UNKNOWN = 0, LJ_LEVEL_TRACE, LJ_LEVEL_DEBUG, LJ_LEVEL_INFO,
    LJ_LEVEL_WARN, LJ_LEVEL_ERROR, LJ_LEVEL_FATAL, LJ_LEVEL_COUNT
};

/* A borrowed view of one record; nothing here is owned. */
struct lj_record {
    const char *host, *container_id, *container;
    enum lj_stream stream;
    int64_t ts_unix_nano;
    const uint8_t *line;
    size_t line_len;
    enum lj_level level;
    uint64_t line_no;
    bool truncated;
    uint32_t ts_index;
    bool other_seen;            /* the other stream's position below is meaningful */
    int64_t other_ts_unix_nano;
    uint32_t other_ts_index;
};

/* The newer of the two stream positions r carries (its own line's, the other
 * stream's when other_seen). */
int64_t lj_record_newest_ts(const struct lj_record *r);

/* Lower-case names as used in the browser protocol: "info", "stderr". */
const char *lj_level_name(enum lj_level level);
const char *lj_stream_name(enum lj_stream stream);
/* Reverse of lj_level_name, case-insensitive; -1 when unknown. */
int lj_level_from_name(const char *name);

/* Bytes lj_record_pack will write. */
size_t lj_record_packed_size(const struct lj_record *r);
/* Serialises r into out (at least lj_record_packed_size bytes); returns bytes written. */
size_t lj_record_pack(const struct lj_record *r, uint8_t *out);

/* Parses a LogRecord. On LJ_OK *out is owned by the caller: lj_record_free it.
 * LJ_PROTO when the bytes are not a LogRecord. */
lj_status lj_record_unpack(const uint8_t *data, size_t len, lj_pb_record **out);
void lj_record_free(lj_pb_record *r);
/* A view of an unpacked record that borrows m's memory (valid until lj_record_free),
 * so that code outside this file never reads protobuf-c fields or enums. */
void lj_record_view(const lj_pb_record *m, struct lj_record *out);

/* One label of a container; borrowed. */
struct lj_label {
    const char *key, *value;
};

/* A borrowed view of one registry entry (ContainerInfo), for packing. */
struct lj_container {
    const char *id, *name, *image, *state, *host;
    const struct lj_label *labels; /* for packing; NULL in a view (lj_container_label) */
    size_t nlabels;
    int64_t started_ns, finished_ns, updated_ns;
    int exit_code;                 /* the last run's, once it finished */
    bool oom_killed;               /* the last run was OOM-killed */
    bool tty;
    const char *unreadable_reason; /* "" or NULL: the engine can read its log */
    bool renamed;                  /* renamed_from below is set (ContainerInfo 14) */
    struct lj_record renamed_from; /* its newest record under an earlier name */
};

/* Packs c as a ContainerInfo into a malloc'd buffer (*out, *outlen) the caller frees.
 * LJ_NOMEM when out of memory. */
lj_status lj_container_pack_view(const struct lj_container *c, uint8_t **out, size_t *outlen);

/* Parses a LogRecord into a plain view: *holder owns the memory view points into
 * (lj_record_free it when done with view); callers need no protobuf-c field.
 * LJ_PROTO when the bytes are not a LogRecord (*holder is then NULL). */
lj_status lj_record_unpack_view(const uint8_t *data, size_t len, lj_pb_record **holder,
                                struct lj_record *view);

/* Fills v (struct lj_container above) from c; v borrows c's memory, its strings are
 * never NULL ("" when unset), and its labels are read with lj_container_label. */
void lj_container_view(const lj_pb_container *c, struct lj_container *v);
/* The value of label key in c, or NULL when c has no such label. */
const char *lj_container_label(const lj_pb_container *c, const char *key);

/* Packs c (an unpacked entry, changed here) with state and updated_ns set and
 * everything else as it was: a removed container keeps its image, labels, run times
 * and exit. Returns a malloc'd buffer (*out, *outlen) the caller frees. */
lj_status lj_container_repack(lj_pb_container *c, const char *state, int64_t updated_ns,
                              uint8_t **out, size_t *outlen);
/* ContainerInfo: pack returns a malloc'd buffer (*out, *outlen) the caller frees. */
lj_status lj_container_pack(const lj_pb_container *c, uint8_t **out, size_t *outlen);
lj_status lj_container_unpack(const uint8_t *data, size_t len, lj_pb_container **out);
void lj_container_free(lj_pb_container *c);

#endif
