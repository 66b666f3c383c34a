/* stats.h - the gateway's counters behind /metrics, one struct that the hub (lines
 * in, gap fills, replays, closes) and the sessions (frames, bytes, gaps, control
 * errors, waits) both write into, and its Prometheus text.
 *
 * It does not know hubs, sessions, watches or lws: it is plain numbers and a
 * histogram. The gauges that need a walk over live objects (clients, subscriptions,
 * queued bytes) stay with their owner (lj_hub_metrics). Service thread only.
 */
#ifndef LJ_STATS_H
#define LJ_STATS_H

#include <stdint.h>

#include "buf.h"

#define LJ_STATS_WAIT_BUCKETS 17   /* 125 us .. 4.1 s, then +Inf */

/* The wait stages of a live line (see struct lj_stats.wait). */
enum lj_stats_wait_stage {
    LJ_STATS_WAIT_RING,          /* nats.c's delivery (recv_ns) to its ring */
    LJ_STATS_WAIT_FRAME,         /* delivery to the frame that carries it */
    LJ_STATS_WAIT_WRITABLE,      /* a session's writable request to its callback */
    LJ_STATS_WAIT_AGAIN,         /* a frame written with more pending to the next callback */
    LJ_STATS_WAIT_RING_TO_FRAME, /* its ring to its frame */
    LJ_STATS_WAIT_STAGES
};

struct lj_stats {
    uint64_t lines_in;         /* distinct lines added to rings */
    uint64_t frames_out, bytes_out, lines_out;
    uint64_t gaps_slow, gaps_expired;
    uint64_t lost_slow, lost_expired;      /* lines announced in gaps */
    uint64_t gap_fills;                    /* JetStream fetches to repair a missed republish */
    uint64_t replays_from_ring;            /* subscriptions served from memory */
    uint64_t slow_closes, control_errors;
    int64_t lag_ns;                        /* container write -> frame, newest frame */
    /* How long live lines wait inside the gateway, per stage (enum above): a histogram
     * over LJ_STATS_WAIT_BUCKETS upper bounds of 2^k x 125 us (the last one open), and
     * the sum. */
    uint64_t wait[LJ_STATS_WAIT_STAGES][LJ_STATS_WAIT_BUCKETS];
    int64_t wait_sum_ns[LJ_STATS_WAIT_STAGES];
};

/* Counts one wait of ns nanoseconds in stage. */
static inline void lj_stats_wait(struct lj_stats *st, enum lj_stats_wait_stage stage, int64_t ns)
{
    int k = 0;
    while (k < LJ_STATS_WAIT_BUCKETS - 1 && ns > (125000LL << k))
        k++;
    st->wait[stage][k]++;
    st->wait_sum_ns[stage] += ns;
}

/* Appends the Prometheus text of st's counters, the wait histogram and the lag gauge
 * (logjet_gateway_lines_in_total ... logjet_gateway_lag_seconds). */
void lj_stats_metrics(const struct lj_stats *st, struct lj_buf *out);

/* Appends one unlabelled metric: its HELP and TYPE ("counter", "gauge") lines and v. */
void lj_stats_metric(struct lj_buf *b, const char *type, const char *name, const char *help,
                     uint64_t v);

#endif
