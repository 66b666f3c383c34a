#!/usr/bin/env bash
# tests/run.sh - runs every logjet test suite; exits non-zero on any failure.
#
# On a fresh Debian 12 machine (root, or a user with sudo) it installs what the tests
# need, builds, starts its own dockerd (private socket, data and exec roots under a
# temporary folder, so it never disturbs an engine already running) and runs:
#   unit + fuzz        plain build, then again under valgrind and under ASan/UBSan
#                      (the integration suite too, with ASan-built daemons)
#   integration + e2e  real dockerd, nats-server (each test starts its own), publisher,
#                      gateway, WebSocket clients and headless Chromium
#   chaos              the churn run (tests/chaos): containers, the publisher and NATS
#                      restarted at random moments, a fixed seed; checked against Docker
#   deploy             recipes validated, quick start run and stopped, NATS cluster
#                      failover, two gateways behind haproxy, and the Docker images
#                      built (FROM scratch, from this host's Debian packages) and
#                      run as the compose stack, a line through to a WebSocket client
# Everything it starts is stopped by PID at exit. The closing line counts every
# meson test of every pass, the image suite (deploy-images) included.
#
# Usage: tests/run.sh [--quick] [--no-sanitizers] [--suite NAME]...
#   --quick          unit and fuzz suites only (no servers)
#   --no-sanitizers  skip the valgrind and ASan/UBSan passes
#   --suite NAME     run only this meson suite (unit, fuzz, integration, chaos, e2e, deploy);
#                    repeatable
#   --deploy         accepted for old command lines: the images are part of the deploy suite
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

quick=0 sanitizers=1
suites=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --no-sanitizers) sanitizers=0 ;;
        --suite) suites+=("$2"); shift ;;
        --deploy) echo "tests/run.sh: --deploy is no longer needed: the deploy suite builds and runs the images" >&2 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "tests/run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '\n== %s\n' "$*"; }
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# ---- packages ---------------------------------------------------------------------------
PACKAGES=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev valgrind python3
          libnats-dev libcurl4-openssl-dev libcjson-dev libwebsockets-dev zlib1g-dev
          libprotobuf-c-dev protobuf-c-compiler
          nats-server docker.io busybox-static curl chromium haproxy docker-compose shellcheck
          ca-certificates openssl binutils faketime)
# Node.js may come from outside Debian (a newer one); only install Debian's when none is there.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ---- build --------------------------------------------------------------------------------
log "building (build/)"
[ -f build/build.ninja ] || meson setup build
meson compile -C build

if [ $quick -eq 0 ]; then
    log "node test dependencies (tests/node_modules)"
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- a private Docker engine ----------------------------------------------------------------
STATE=$(mktemp -d /tmp/logjet-tests.XXXXXX)
DOCKERD_PID=
cleanup() {
    rc=$?
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        DOCKER_HOST="unix://$STATE/docker.sock" docker ps -aq 2>/dev/null |
            xargs -r env DOCKER_HOST="unix://$STATE/docker.sock" docker rm -f >/dev/null 2>&1 || true
        kill "$DOCKERD_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DOCKERD_PID" 2>/dev/null || true
    fi
    # dockerd unmounts its layers on exit; anything still mounted is left, not forced.
    grep -q "$STATE" /proc/mounts || rm -rf "$STATE"
    exit $rc
}
trap cleanup EXIT INT TERM

start_dockerd() {
    log "starting a private dockerd ($STATE/docker.sock)"
    $SUDO dockerd --host "unix://$STATE/docker.sock" --data-root "$STATE/data" \
        --exec-root "$STATE/exec" --pidfile "$STATE/dockerd.pid" \
        --iptables=false --ip-forward=false --bridge=none >"$STATE/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 150); do
        DOCKER_HOST="unix://$STATE/docker.sock" docker version >/dev/null 2>&1 && break
        kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$STATE/dockerd.log"; return 1; }
        sleep 0.2
    done
    DOCKER_HOST="unix://$STATE/docker.sock" docker version --format 'engine {{.Server.Version}} API {{.Server.APIVersion}}'
    export LOGJET_TEST_DOCKER_HOST="unix://$STATE/docker.sock"
    # The busybox image every test container runs: made here, no registry needed.
    local img="$STATE/image"
    mkdir -p "$img/bin"
    cp /bin/busybox "$img/bin/busybox"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$img/bin/$a"; done
    tar -C "$img" -c . | DOCKER_HOST="unix://$STATE/docker.sock" docker import \
        --change 'ENV PATH=/bin' - logjet-test-busybox >/dev/null
    export LOGJET_TEST_IMAGE=logjet-test-busybox
    # The deployment checks drive the docker CLI and the publisher at the same engine.
    export DOCKER_HOST="unix://$STATE/docker.sock"
}

# ---- suites -------------------------------------------------------------------------------
if [ ${#suites[@]} -eq 0 ]; then
    # chaos: the churn run's short fixed-seed pass (its seed printed; tests/chaos/seeds.sh
    # runs many seeds).
    if [ $quick -eq 1 ]; then suites=(unit fuzz); else suites=(unit fuzz integration chaos e2e deploy); fi
fi
needs_servers=0
for s in "${suites[@]}"; do case "$s" in integration|chaos|e2e|deploy) needs_servers=1 ;; esac; done
[ $needs_servers -eq 1 ] && start_dockerd

results=()
# Runs one meson test pass and keeps its log for the closing count. A test that fails
# is run once more on its own: the servers share two cores with everything else, and a
# failure that does not repeat is reported as FLAKY (named in the output, counted as
# passed) rather than failing the whole run; one that fails again fails the run.
newest_log() { ls -t "$1"/meson-logs/testlog*.json 2>/dev/null | head -n 1; }
run_meson() { # name builddir [meson test args...]
    local name=$1 dir=$2; shift 2
    log "meson test: $name"
    local rc=0 failed
    meson test -C "$dir" --print-errorlogs "$@" || rc=$?
    cp "$(newest_log "$dir")" "$STATE/testlog-$name.json"
    results+=("$name")
    [ $rc -ne 0 ] || return 0
    failed=$(python3 -c 'import json,sys
print(" ".join(r["name"].split(" / ")[-1] for r in map(json.loads, open(sys.argv[1]))
               if r.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL")))' "$STATE/testlog-$name.json")
    [ -n "$failed" ] || return $rc
    local setup=()
    for a in "$@"; do case "$a" in --setup=*) setup+=("$a") ;; esac; done
    log "meson test: $name, failed tests once more: $failed"
    # shellcheck disable=SC2086  # test names are single words
    if meson test -C "$dir" --print-errorlogs "${setup[@]}" $failed; then
        echo "FLAKY (failed once, passed again): $failed"
        cp "$(newest_log "$dir")" "$STATE/retry-$name.json"
        return 0
    fi
    return 1
}

status=0
suite_args=()
for s in "${suites[@]}"; do suite_args+=(--suite "$s"); done
run_meson main build "${suite_args[@]}" || status=1
# The image suite's own lines (sizes, times, each check), so that the log of
# every run shows the images built and a line through the compose stack; meson
# prints a passing test's output only to its log file.
python3 - "$STATE/testlog-main.json" "$STATE/retry-main.json" <<'EOF' || true
import json, os, sys
out = {}
for path in sys.argv[1:]:
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            if r["name"].endswith("deploy-images"):
                out[r["name"]] = (r.get("result"), r.get("stdout", ""))
for name, (result, stdout) in out.items():
    print(f"\n== {name}: {result}")
    print(stdout.rstrip())
EOF

# Again under the sanitizers: unit and fuzz under valgrind; unit, fuzz and the daemons
# themselves in the integration suite under ASan/UBSan (the harness fails a test whose
# daemon logged a sanitizer report).
fast=() with_daemons=()
for s in "${suites[@]}"; do
    case "$s" in
        unit|fuzz) fast+=(--suite "$s"); with_daemons+=(--suite "$s") ;;
        integration) with_daemons+=(--suite "$s") ;;
    esac
done
if [ $sanitizers -eq 1 ] && [ ${#fast[@]} -gt 0 ]; then
    run_meson valgrind build --setup=valgrind "${fast[@]}" || status=1
fi
if [ $sanitizers -eq 1 ] && [ ${#with_daemons[@]} -gt 0 ]; then
    log "building with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
    # The sanitizer build also walks the publisher's whole FIFO on every change
    # (LJ_FOLLOW_CHECK_FIFO), too slow for production, cheap insurance here.
    [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-DLJ_FOLLOW_CHECK_FIFO
    meson compile -C build-asan
    run_meson asan build-asan --setup=asan "${with_daemons[@]}" || status=1
fi

# One closing line over every pass above, counted from meson's own logs.
python3 - "$STATE" "${results[@]}" <<'EOF'
import json, sys, os
state, names = sys.argv[1], sys.argv[2:]
passed = failed = skipped = 0
for n in names:
    path = os.path.join(state, f"testlog-{n}.json")
    if not os.path.exists(path):
        continue
    results = {}
    for line in open(path):
        r = json.loads(line)
        results[r["name"]] = r.get("result")
    retry = os.path.join(state, f"retry-{n}.json")
    if os.path.exists(retry):
        for line in open(retry):
            r = json.loads(line)
            results[r["name"]] = r.get("result")
    for r in results.values():
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
print()
print(f"logjet: {passed} passed, {failed} failed, {skipped} skipped")
EOF
exit $status
