# Helpers shared by the scripts in tests/deploy (sourced, not run).
# shellcheck shell=bash

LJ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LJ_TESTS_DIR="$LJ_ROOT/tests/deploy"
LJ_PASSED=0
LJ_FAILED=0
LJ_SKIPPED=0

# pass/fail/skip WHAT: record and print one check.
pass() { LJ_PASSED=$((LJ_PASSED + 1)); echo "PASS $*"; }
fail() { LJ_FAILED=$((LJ_FAILED + 1)); echo "FAIL $*"; }
skip() { LJ_SKIPPED=$((LJ_SKIPPED + 1)); echo "SKIP $*"; }

# check WHAT CMD...: runs CMD quietly; PASS or FAIL with its output.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$what"
    else
        fail "$what"
        printf '%s\n' "$out" | sed 's/^/    /' | tail -n 40
    fi
}

# check_fails WHAT CMD...: a negative control, CMD must fail.
check_fails() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then fail "$what (was accepted)"; else pass "$what"; fi
}

# summary: the closing line, and the exit status.
summary() {
    echo "$LJ_PASSED passed, $LJ_FAILED failed, $LJ_SKIPPED skipped"
    [ "$LJ_FAILED" -eq 0 ]
}

# node_deps: installs tests/deploy/package.json's packages once into a cache
# outside the tree and exports NODE_PATH. Returns non-zero when npm cannot.
node_deps() {
    local cache=${LOGJET_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/logjet-deploy-tests}
    command -v node >/dev/null && command -v npm >/dev/null || return 1
    mkdir -p "$cache"
    if ! cmp -s "$LJ_TESTS_DIR/package.json" "$cache/package.json" || [ ! -d "$cache/node_modules" ]; then
        cp "$LJ_TESTS_DIR/package.json" "$cache/package.json"
        (cd "$cache" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) || {
            rm -f "$cache/package.json"
            return 1
        }
    fi
    export NODE_PATH="$cache/node_modules"
}

# free_port: prints a TCP port nothing listens on in 127.0.0.1, from a range
# above the usual defaults and below the ephemeral range, and never one this script
# was given before: a script picks all its ports before it starts the servers, so
# "nothing listens there yet" alone could hand out one port twice. It runs in a
# $(...) subshell, so the ports handed out are kept in a file, not a variable
# (named by the script's PID, which a subshell shares; stack_cleanup removes it).
LJ_PORTS_FILE=${TMPDIR:-/tmp}/logjet-ports.$$
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 7 + i) % 12000))
        grep -qx "$p" "$LJ_PORTS_FILE" 2>/dev/null && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p" >> "$LJ_PORTS_FILE"
            echo "$p"
            return 0
        fi
    done
    return 1
}

# wait_http URL SECONDS: waits until URL answers 2xx.
wait_http() {
    local url=$1 deadline=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}

# busybox_image TAG: imports a busybox image (Debian's busybox-static, every
# applet a symlink, PATH=/bin) as logjet-test-busybox:TAG unless it exists.
busybox_image() {
    local img="logjet-test-busybox:$1" dir bb a
    docker image inspect "$img" >/dev/null 2>&1 && return 0
    bb=$(command -v busybox) || { echo "busybox is not installed (apt-get install busybox-static)" >&2; return 1; }
    dir=$(mktemp -d)
    mkdir -p "$dir/bin"
    cp "$bb" "$dir/bin/busybox"
    for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$dir/bin/$a"; done
    tar -C "$dir" -c . | docker import --change 'ENV PATH=/bin' - "$img" >/dev/null
    rm -rf "$dir"
}

# starttime PID: the process's start time (field 22 of /proc/PID/stat), which
# tells a process from a later one that got the same pid.
starttime() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    awk '{ print $20 }' <<<"${stat##*) }"
}

# Processes a test script starts, by name: PID and start time, so that stop never
# signals a reused PID.
declare -gA PID ST

# start NAME LOG CMD...: a background process, remembered with its start time.
start() {
    local name=$1 log=$2
    shift 2
    "$@" > "$log" 2>&1 < /dev/null &
    PID[$name]=$!
    ST[$name]=$(starttime "${PID[$name]}" || echo gone)
}

# stop NAME [SIGNAL]: only the process this script started.
stop() {
    local name=$1 sig=${2:-TERM} pid=${PID[$1]:-}
    [ -n "$pid" ] || return 0
    if [ "$(starttime "$pid" 2>/dev/null)" = "${ST[$name]}" ]; then
        kill "-$sig" "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    unset "PID[$name]"
}

# stack_setup TAG: the common frame of a script that runs its own publisher and
# gateways against one container: BUILD, PUBLISHER, GATEWAY, RUN_ID, HOST_ID, NAME
# (the container), tmp (removed at exit, with everything started and the container),
# and show_logs / die. Fails the script when the daemons are not built or Docker,
# node or the busybox image are missing.
stack_setup() {
    local tag=$1 bin
    BUILD=${LOGJET_BUILD_DIR:-$LJ_ROOT/build}
    PUBLISHER="$BUILD/publisher/logjet-publisher"
    GATEWAY="$BUILD/gateway/logjet-gateway"
    RUN_ID=lj-$tag-$$
    # shellcheck disable=SC2034  # used by the scripts that call stack_setup
    HOST_ID=$RUN_ID
    NAME=$RUN_ID-count
    tmp=$(mktemp -d)
    trap stack_cleanup EXIT
    for bin in "$PUBLISHER" "$GATEWAY"; do
        [ -x "$bin" ] || { fail "$bin is built (set LOGJET_BUILD_DIR)"; summary; exit 1; }
    done
    docker version >/dev/null 2>&1 || { fail "a Docker engine answers"; summary; exit 1; }
    node_deps || { fail "node and npm packages (tests/deploy/package.json)"; summary; exit 1; }
    busybox_image "$tag" || die "busybox image"
}

stack_cleanup() {
    local n
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    for n in "${!PID[@]}"; do stop "$n"; done
    rm -rf "$tmp"
    rm -f "$LJ_PORTS_FILE"
}

# The last lines of every log the script collected in $tmp.
show_logs() {
    local f
    for f in "$tmp"/*.log; do
        [ -e "$f" ] || continue
        echo "--- $(basename "$f")"
        tail -n 15 "$f" | sed 's/^/    /'
    done
}

die() { fail "$*"; show_logs; summary; exit 1; }

# cluster_configs: the three nats-server configs of deploy/nats/cluster/nats-{1,2,3}.conf
# with free ports (client CP[n], route RP[n], monitoring MP[n]) and stores under $tmp,
# as $tmp/nats-N.conf; URLS is the three client URLs. Run from $LJ_ROOT.
cluster_configs() {
    local n m expr
    declare -g -a CP RP MP
    for n in 1 2 3; do CP[n]=$(free_port); RP[n]=$(free_port); MP[n]=$(free_port); done
    for n in 1 2 3; do
        expr=(-e "s|/var/lib/nats/logjet-nats-$n|$tmp/store-$n|")
        for m in 1 2 3; do
            expr+=(-e "s/127\.0\.0\.1:$((4221 + m))\b/127.0.0.1:${CP[m]}/g"
                   -e "s/127\.0\.0\.1:$((6221 + m))\b/127.0.0.1:${RP[m]}/g"
                   -e "s/127\.0\.0\.1:$((8221 + m))\b/127.0.0.1:${MP[m]}/g")
        done
        sed "${expr[@]}" "deploy/nats/cluster/nats-$n.conf" > "$tmp/nats-$n.conf"
    done
    # shellcheck disable=SC2034  # read by the script that sources this file
    URLS="nats://127.0.0.1:${CP[1]},nats://127.0.0.1:${CP[2]},nats://127.0.0.1:${CP[3]}"
}

# cluster_wait: every node of cluster_configs answers healthy with JetStream on.
cluster_wait() {
    local n
    for n in 1 2 3; do
        wait_http "http://127.0.0.1:${MP[n]}/healthz?js-enabled-only=true" 60 || die "nats-$n is healthy"
    done
}

# jsz FIELD: the LOGS stream's cluster leader (FIELD leader) or last_seq, from the first
# node of cluster_configs that is running (PID[nats-N]) and answers; fails when none does.
jsz() {
    local n
    for n in 1 2 3; do
        [ -n "${PID[nats-$n]:-}" ] || continue
        curl -fsS --max-time 2 "http://127.0.0.1:${MP[n]}/jsz?streams=true" 2>/dev/null |
            node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
              for (const a of j.account_details||[]) for (const st of a.stream_detail||[])
                if (st.name==="LOGS") { const v = process.argv[1]==="leader" ? (st.cluster||{}).leader : st.state.last_seq;
                  if (v) { console.log(v); return; } } process.exit(1); })' "$1" && return 0
    done
    return 1
}
