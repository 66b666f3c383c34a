#!/usr/bin/env bash
# bench/chaos/long.sh - the long churn run: tests/chaos/churn.mjs for a long time with
# many containers and calmer publisher restarts (so one publisher process lives long
# enough for its memory to tell something), sampling the publisher's RSS and CPU every
# 5 s, then a summary for bench/RESULTS.md. Runs under nice; the verdict is churn's.
#
# Usage: bench/chaos/long.sh [--minutes M] [--containers N] [--seed N] [--out DIR]
#                            [--publisher-restarts P]
#   defaults: 30 minutes, 60 containers, a random seed, out in a new /tmp folder, a
#   publisher restart with chance 0.01 per action (0: one process for the whole run).
# Needs what the integration tests need: DOCKER_HOST / LOGJET_TEST_DOCKER_HOST pointing at
# a test engine with the logjet-test-busybox image, nats-server, a built build/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
minutes=30 containers=60 seed=$(( RANDOM << 15 | RANDOM )) restarts=0.01 out=''
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift ;;
        --containers) containers=$2; shift ;;
        --seed) seed=$2; shift ;;
        --out) out=$2; shift ;;
        --publisher-restarts) restarts=$2; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "long.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$out" ] || out=$(mktemp -d /tmp/logjet-chaos-long.XXXXXX)
mkdir -p "$out"
export LOGJET_BUILD_DIR=${LOGJET_BUILD_DIR:-$ROOT/build} LOGJET_SOURCE_DIR=$ROOT
export LOGJET_CHAOS_STATS=$out/stats.jsonl
echo "long.sh: seed=$seed minutes=$minutes containers=$containers publisher-restarts=$restarts out=$out"
rc=0
nice -n 19 node "$ROOT/tests/chaos/churn.mjs" --seed "$seed" --seconds $((minutes * 60)) \
    --containers "$containers" --publisher-restarts "$restarts" --nats-restarts 0.005 \
    >"$out/churn.log" 2>&1 || rc=$?
grep -E '^(churn:|PASS|FAIL|registry:)' "$out/churn.log" | grep -v '^FAIL line_no\|^FAIL registry' || true
# RSS and CPU of the publisher over the run: per process (pid), first/max/last RSS and
# mean CPU, from the 5-second samples.
python3 - "$out/stats.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    if r.get("rssKiB") is None: continue
    by.setdefault(r["pid"], []).append(r)
print("publisher processes: %d, samples: %d" % (len(by), len(rows)))
for pid, rs in by.items():
    cpu = [r["cpuPct"] for r in rs if r.get("cpuPct") is not None]
    print("pid %s: %4d s to %4d s, RSS first %d KiB, max %d KiB, last %d KiB, CPU mean %.1f %%, max %d %%" % (
        pid, rs[0]["t"], rs[-1]["t"], rs[0]["rssKiB"], max(r["rssKiB"] for r in rs), rs[-1]["rssKiB"],
        sum(cpu) / len(cpu) if cpu else 0, max(cpu) if cpu else 0))
PY
echo "long.sh: full output in $out/churn.log"
exit $rc
