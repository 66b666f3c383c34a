#!/usr/bin/env bash
# tests/chaos/seeds.sh - the short churn run once per seed, one line per seed at the end.
# Usage: tests/chaos/seeds.sh [--first N] [--count K] [--out DIR]   (seeds N..N+K-1;
#        defaults 1, 20, a new /tmp folder holding each run's output as seed-N.log)
# Needs the integration tests' environment (test engine, image, nats-server, build/).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
first=1 count=20 out=
while [ $# -gt 0 ]; do
    case "$1" in
        --first) first=$2; shift ;;
        --count) count=$2; shift ;;
        --out) out=$2; shift ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "seeds.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$out" ] || out=$(mktemp -d /tmp/logjet-chaos-seeds.XXXXXX)
mkdir -p "$out"
export LOGJET_BUILD_DIR=${LOGJET_BUILD_DIR:-$ROOT/build} LOGJET_SOURCE_DIR=$ROOT
failed=0
for seed in $(seq "$first" $((first + count - 1))); do
    if nice -n 19 node "$ROOT/tests/chaos/churn.mjs" --seed "$seed" >"$out/seed-$seed.log" 2>&1; then
        verdict=PASS
    else
        verdict=FAIL failed=$((failed + 1))
    fi
    echo "seed $seed $verdict $(grep -E '^(PASS|FAIL) seed=' "$out/seed-$seed.log" | tail -n 1)"
done
echo "seeds.sh: $((count - failed)) of $count passed; logs in $out"
[ "$failed" -eq 0 ]
