/* follow.h - one container's log stream: from Docker bytes to acknowledged records.
 *
 * A follow owns the container's logs transfer (a curl easy handle in the main loop's
 * multi), its demux, and a FIFO of records in line_no order, each UNSENT, SENT (waiting
 * for JetStream's ack) or ACKED. Records leave the FIFO from the head only once acked,
 * and the FIFO's length is the backpressure signal: past LJ_FOLLOW_HIGH_WATER records
 * (or LJ_FOLLOW_HIGH_WATER_BYTES) the transfer is paused (Docker's log file is the buffer), below LJ_FOLLOW_LOW_WATER it
 * resumes. Nothing is dropped.
 *
 * Cursor: per stream, (ts, ts_index) of the newest line taken into the FIFO, where
 * ts_index numbers the lines of that stream sharing one timestamp. Docker keeps each
 * stream in time order, but a stderr line may be written after a newer stdout line, so
 * a new transfer asks for since = newest position - LJ_FOLLOW_REORDER_NS (inclusive)
 * and skips every line at or before its stream's cursor. Restarts of the transfer, of
 * the container or of the publisher (which recovers both positions from the subject's
 * last stored record) neither skip nor repeat a line.
 * Rotation: Docker 20.10's live follow of a json-file log that rotates repeats lines
 * after a rotation, and skips lines of a file that rotated away before it read them
 * (it reads slower than the container writes: a paused transfer, a busy host). The
 * follow keeps, per stream, the lines it took in the last LJ_FOLLOW_RECENT_NS
 * (timestamp, index, a hash of the bytes; 64 to 16384 of them). A line older than the newest taken that is among them is a
 * repeat and is skipped; the first repeat ends the transfer with LJ_AGAIN (start the
 * next one at once), and the next transfer reads from the oldest remembered line: in
 * that overlap a line not remembered was never taken (Docker's follow skipped it) and
 * is taken now, late but once ("backfilled"); the re-read reaches back no further than
 * LJ_FOLLOW_REREAD_NS before the newest line. Lines deleted with a rotated file before
 * any read cannot be read again; the README's known limits say how many that is.
 * Each record's Nats-Msg-Id is "<container id>-<stream>-<ts>-<ts_index>": the same line
 * always gets the same id, so a resent line is stored once (JetStream deduplicates
 * within its 2 minute window).
 *
 * Main thread only. The curl write callback runs inside curl_multi_perform.
 */
#ifndef LJ_FOLLOW_H
#define LJ_FOLLOW_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink.h"
#include "status.h"

#define LJ_FOLLOW_HIGH_WATER 16384 /* records in the FIFO before the transfer pauses */
#define LJ_FOLLOW_LOW_WATER 4096   /* ... and below which it resumes */
#define LJ_FOLLOW_HIGH_WATER_BYTES (8u << 20) /* record bytes in the FIFO before it pauses
                                                 (long lines: memory stays bounded) */
/* Records SENT but not yet acked, at most. JetStream's acks come back tens of ms late
 * when nats-server is busy; 1024 in flight capped a flooding container at about
 * 1024 / ack delay. LOW_WATER >= WINDOW keeps the window full when a paused transfer
 * resumes. */
#define LJ_FOLLOW_WINDOW 4096
#define LJ_FOLLOW_REORDER_NS 1000000000LL /* how far stdout and stderr may interleave */
/* Lines remembered per stream to tell rotation repeats: those of the last
 * LJ_FOLLOW_RECENT_NS, but at least _MIN and at most _MAX. */
#define LJ_FOLLOW_RECENT_NS (2 * 1000000000LL)
#define LJ_FOLLOW_RECENT_MIN 64
#define LJ_FOLLOW_RECENT_MAX 16384
#define LJ_FOLLOW_REREAD_NS (30 * 1000000000LL) /* a re-read after a rotation reaches back
                                                   at most this far before the newest line */

/* A position in one stream: Docker's timestamp and the index among lines sharing it.
 * index -1 means "nothing taken at ts": every line with a timestamp >= ts is new. */
struct lj_follow_pos {
    int64_t ts;
    int64_t index;
};

struct lj_follow_stats {
    uint64_t lines, bytes;         /* acked records and their line bytes */
    uint64_t retries;              /* records sent again after a failure or timeout */
    uint64_t errors;               /* negative acks received */
    uint64_t skipped;              /* lines Docker sent again that were already taken */
    uint64_t repeats;              /* of those, repeated by a follow across a log rotation */
    uint64_t backfilled;           /* lines a follow skipped, taken late from a re-read */
    uint64_t rereads;              /* transfers ended to read a rotated log again */
    uint64_t truncated;            /* lines cut at max_line_bytes */
    uint64_t held_out;             /* lines left out while holding (older than kept) */
};

struct lj_follow;
struct lj_docker;

struct lj_follow_config {
    const char *host;              /* --host-id */
    size_t max_line_bytes;
    int64_t ack_timeout_ns;
};

/* A follow for container id/name (tty: raw stream). id is 64 hex. Returns NULL on no
 * memory or when the name cannot form a subject. Destroy with lj_follow_destroy, after
 * removing its transfer from the multi (lj_follow_stop). */
struct lj_follow *lj_follow_create(const struct lj_follow_config *cfg, uint64_t follow_id,
                                   const char *id, const char *name, bool tty);
void lj_follow_destroy(struct lj_follow *f);

/* Sets where the subject stands: the last stored line_no and the positions of each
 * stream taken so far (NULL: none, lines from since_ns on are new). Call once, before
 * the first transfer. */
void lj_follow_set_position(struct lj_follow *f, uint64_t last_line_no,
                            const struct lj_follow_pos *stdout_pos,
                            const struct lj_follow_pos *stderr_pos, int64_t since_ns);

/* Starts a logs transfer from the cursor (follow=1 to keep following, 0 to read what is
 * there and end) and adds it to multi. LJ_AGAIN if one is already running. */
lj_status lj_follow_start(struct lj_follow *f, struct lj_docker *docker, CURLM *multi,
                          bool follow);

/* Removes the running transfer, if any, from multi (its partial line is kept). */
void lj_follow_stop(struct lj_follow *f, CURLM *multi);

/* The transfer behind handle h finished with rc. Flushes an unterminated last line and
 * releases the handle. Returns the transfer's error text in err when rc != CURLE_OK or
 * the stream was malformed (the follow is then ready for a new transfer); LJ_AGAIN when
 * the follow ended it itself after a log rotation: start the next transfer right away. */
lj_status lj_follow_transfer_done(struct lj_follow *f, CURLM *multi, CURLcode rc, char *err,
                                  size_t errlen);

/* Publishes UNSENT records while the window allows; resumes a paused transfer when the
 * FIFO has drained below the low water mark. Returns records sent. */
size_t lj_follow_pump(struct lj_follow *f, struct lj_sink *sink);

/* Applies one ack addressed to this follow. */
void lj_follow_on_ack(struct lj_follow *f, const struct lj_ack *a);

/* After a reconnect, a negative ack or an ack timeout: every record not yet acked is
 * sent again, in line_no order, but only after delay_ns, and then one at a time until
 * one is acknowledged. Pipelining on through a failure would let a later line be stored
 * before an earlier one that failed (as when a stream leader changes); sending a single
 * probe first means nothing can overtake. */
void lj_follow_recover(struct lj_follow *f, int64_t delay_ns);

/* Recovers when the oldest SENT record has waited longer than the ack timeout. */
void lj_follow_check_timeouts(struct lj_follow *f, int64_t now_mono_ns);

/* A rename: records taken from now on go to the new name's subject, continuing its
 * line_no after last_line_no. LJ_AGAIN (nothing changed) while records are queued:
 * stop the transfer and call again once lj_follow_pending() is 0. */
lj_status lj_follow_rename(struct lj_follow *f, const char *name, uint64_t last_line_no);

/* Holding, for reading a stopped container's log that was never stored (keep > 0,
 * before anything is taken): nothing is published, the transfer never pauses, and the
 * FIFO keeps only the newest keep records; older ones are left out unsent, their
 * line_nos counted (so the kept ones are numbered from the log's first line) and
 * counted in stats.held_out. keep 0 ends holding: what is kept is published in order. */
void lj_follow_hold(struct lj_follow *f, size_t keep);

/* The Nats-Msg-Id of a line: "<first 12 of container id>-<stream 0|1>-<ts>-<ts_index>".
 * Depends only on where the line sits in the container's log, so it is the same in
 * every publisher process that ever reads that line. Returns its length. */
size_t lj_follow_msg_id(const char *container_id, int stream, int64_t ts_ns,
                        uint32_t ts_index, char *dst, size_t n);

bool lj_follow_transferring(const struct lj_follow *f);
bool lj_follow_idle(const struct lj_follow *f);   /* no transfer and an empty FIFO */
size_t lj_follow_pending(const struct lj_follow *f); /* records in the FIFO */
size_t lj_follow_in_flight(const struct lj_follow *f);
uint64_t lj_follow_id(const struct lj_follow *f);
const char *lj_follow_container_id(const struct lj_follow *f);
const char *lj_follow_name(const struct lj_follow *f);
const char *lj_follow_subject(const struct lj_follow *f);
CURL *lj_follow_handle(const struct lj_follow *f);
/* The engine's HTTP status for the last finished transfer (0: no answer at all). */
long lj_follow_http_status(const struct lj_follow *f);
/* Seconds between the newest line read and the newest line acked (0 when caught up). */
double lj_follow_lag_seconds(const struct lj_follow *f);
const struct lj_follow_stats *lj_follow_stats(const struct lj_follow *f);

#endif
