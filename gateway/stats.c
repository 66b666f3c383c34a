/* stats.c - the Prometheus text of the gateway's counters (stats.h). Formats numbers
 * only; it does not gather them and does not know who writes them. */
#include "stats.h"

#include "metrics.h"

void lj_stats_metric(struct lj_buf *b, const char *type, const char *name, const char *help,
                     uint64_t v)
{
    lj_metrics_header(b, name, type, help);
    lj_metrics_u64(b, name, NULL, NULL, v);
}

static void counter(struct lj_buf *b, const char *name, const char *help, uint64_t v)
{
    lj_stats_metric(b, "counter", name, help, v);
}

void lj_stats_metrics(const struct lj_stats *st, struct lj_buf *b)
{
    counter(b, "logjet_gateway_lines_in_total", "Distinct lines added to rings.", st->lines_in);
    counter(b, "logjet_gateway_gap_fills_total", "Missed republishes repaired from JetStream.",
            st->gap_fills);
    counter(b, "logjet_gateway_replays_total", "Subscriptions served from a ring.",
            st->replays_from_ring);
    counter(b, "logjet_gateway_frames_out_total", "WebSocket frames sent.", st->frames_out);
    counter(b, "logjet_gateway_bytes_out_total", "WebSocket payload bytes sent.", st->bytes_out);
    counter(b, "logjet_gateway_lines_out_total", "Lines sent to clients.", st->lines_out);
    lj_metrics_header(b, "logjet_gateway_gaps_total", "counter", "Gap messages sent, by reason.");
    lj_metrics_u64(b, "logjet_gateway_gaps_total", "reason", "slow_client", st->gaps_slow);
    lj_metrics_u64(b, "logjet_gateway_gaps_total", "reason", "expired", st->gaps_expired);
    lj_metrics_header(b, "logjet_gateway_lost_lines_total", "counter",
                      "Lines announced as lost in gap messages, by reason.");
    lj_metrics_u64(b, "logjet_gateway_lost_lines_total", "reason", "slow_client", st->lost_slow);
    lj_metrics_u64(b, "logjet_gateway_lost_lines_total", "reason", "expired", st->lost_expired);
    counter(b, "logjet_gateway_slow_client_closes_total", "Clients closed for staying stalled.",
            st->slow_closes);
    counter(b, "logjet_gateway_control_errors_total", "Control messages answered with error.",
            st->control_errors);
    lj_metrics_header(b, "logjet_gateway_line_wait_seconds", "histogram",
                      "Live lines' wait inside the gateway, from their arrival from NATS to "
                      "their ring (stage=ring) and to the frame that carries them (stage=frame); "
                      "from a session's wake to its writable callback (stage=writable), from a write "
                      "that left more to the next callback (stage=again), from ring to frame "
                      "(stage=ring_to_frame).");
    for (int stage = 0; stage < LJ_STATS_WAIT_STAGES; stage++) {
        static const char *const names[] = { "ring", "frame", "writable", "again", "ring_to_frame" };
        const char *name = names[stage];
        uint64_t cum = 0;
        for (int k = 0; k < LJ_STATS_WAIT_BUCKETS; k++) {
            cum += st->wait[stage][k];
            if (k < LJ_STATS_WAIT_BUCKETS - 1)
                lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n",
                               name, (double)(125000LL << k) / 1e9, (unsigned long long)cum);
            else
                lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n",
                               name, (unsigned long long)cum);
        }
        lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_sum{stage=\"%s\"} %.6f\n", name,
                       (double)st->wait_sum_ns[stage] / 1e9);
        lj_buf_appendf(b, "logjet_gateway_line_wait_seconds_count{stage=\"%s\"} %llu\n", name,
                       (unsigned long long)cum);
    }
    lj_metrics_header(b, "logjet_gateway_lag_seconds", "gauge",
                      "Container write to frame sent, for the newest frame.");
    lj_metrics_f64(b, "logjet_gateway_lag_seconds", NULL, NULL, (double)st->lag_ns / 1e9);
}
