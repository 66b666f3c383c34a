#!/bin/sh
# bench/tail/drain.sh - a consumer's own ceiling, without the generator competing for
# the CPU (run by hand; not a test):
#   bench/tail/drain.sh rawsub|raw|human [lines=150000] [build=build]
# A fresh nats-server and the LOGS stream (tailgen --create-only); the consumer is
# started, then stopped with SIGSTOP while tailgen stores the lines (the server holds
# them for the stopped subscriber: keep lines x ~300 bytes under its 64 MB pending limit
# and the load under its 10 s write deadline), then resumed with SIGCONT. Prints the
# seconds from the resume to the last line (rawsub: its own first-to-last; logjet-tail:
# its output file's last growth, polled every 20 ms, so the 250 ms reorder window is
# included), lines printed, gap lines, CPU ticks (1/100 s) after the resume, peak RSS.
set -eu
kind=$1; n=${2:-150000}; b=${3:-build}
tmp=$(mktemp -d); port=$((20000 + $$ % 20000))
nats-server -js -a 127.0.0.1 -p "$port" -sd "$tmp/sd" > "$tmp/ns.log" 2>&1 & ns=$!
trap 'kill $ns 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 1
url=nats://127.0.0.1:$port
"$b/bench/tail/tailgen" "$url" 0 --create-only
case $kind in
rawsub) "$b/bench/tail/rawsub" "$url" 'live.logs.>' "$n" > /dev/null 2> "$tmp/err" & c=$! ;;
raw)    "$b/tail/logjet-tail" --nats-url "$url" --tail 0 -o raw --color never > "$tmp/out" 2> "$tmp/err" & c=$! ;;
human)  "$b/tail/logjet-tail" --nats-url "$url" --tail 0 --color never > "$tmp/out" 2> "$tmp/err" & c=$! ;;
*) echo "usage: drain.sh rawsub|raw|human [lines] [build]" >&2; exit 2 ;;
esac
sleep 1.5
kill -STOP "$c"
"$b/bench/tail/tailgen" "$url" "$n" --conns 4
c0=$(awk '{print $14 + $15}' "/proc/$c/stat")
t0=$(date +%s.%N)
kill -CONT "$c"
if [ "$kind" = rawsub ]; then
    wait "$c" || true
    # messages, seconds first to last, CPU seconds, peak RSS KiB, dropped
    echo "rawsub: $(cat "$tmp/err")"
else
    size=-1; idle=0; t1=$t0
    while [ $idle -lt 50 ]; do
        s=$(stat -c %s "$tmp/out")
        if [ "$s" != "$size" ]; then size=$s; idle=0; t1=$(date +%s.%N); else idle=$((idle + 1)); fi
        sleep 0.02
    done
    c1=$(awk '{print $14 + $15}' "/proc/$c/stat")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$c/status")
    kill -INT "$c"; wait "$c" || true
    echo "$kind: lines $(wc -l < "$tmp/out") gaps $(grep -c 'gap:' "$tmp/out" || true)" \
         "secs $(echo "$t1 - $t0" | bc) cpu_ticks $((c1 - c0)) peak_rss_kb $hwm"
fi
grep -i 'slow consumer' "$tmp/ns.log" | head -2 || true
