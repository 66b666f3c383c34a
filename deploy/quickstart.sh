#!/bin/bash
# logjet quick start: the whole pipeline on this machine, in one command.
#
#   ./deploy/quickstart.sh            start, stay in the foreground; Ctrl-C stops everything
#   ./deploy/quickstart.sh --detach   start, return once healthy; stop later with `stop`
#   ./deploy/quickstart.sh stop       stop everything a previous run started
#   ./deploy/quickstart.sh status     show what runs and where
#
# On Debian 12 as root (or through sudo, which it calls itself) it installs the
# packages it needs, builds logjet with meson, starts nats-server with JetStream,
# uses the Docker engine that answers (starting one if none does), builds a
# small busybox demo image locally (no registry), starts three demo containers
# that log like real services, starts logjet-publisher and logjet-gateway,
# waits until both are healthy and prints the URL to open.
#
# Everything it starts is recorded in .quickstart/ at the repository root
# (process ids with their start times, container names, ports, logs), and only
# what is recorded there is ever stopped. It is safe to run again: what is
# already running is reused or replaced, never duplicated. JetStream's data
# stays in .quickstart/nats between runs; `rm -rf .quickstart` forgets it.
#
# It does not configure anything system-wide besides installing packages, and it
# does not expose anything: every server listens on 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE="$ROOT/.quickstart"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
DEMO_NAMES=(logjet-demo-web logjet-demo-api logjet-demo-worker)
DEMO_SCRIPTS=(web.sh api.sh worker.sh)
LABEL=io.logjet.quickstart
APT_PACKAGES=(meson ninja-build pkg-config gcc libc6-dev libnats-dev libcurl4-openssl-dev
    libcjson-dev libwebsockets-dev libprotobuf-c-dev protobuf-c-compiler nats-server
    docker.io busybox-static curl iproute2 util-linux)
BUILD_DIR="$ROOT/build"
# The engine: DOCKER_HOST when set (as the docker CLI does), else the usual socket. The
# demo containers and the publisher must see the same one.
DOCKER_HOST_URL=${DOCKER_HOST:-unix:///var/run/docker.sock}
export DOCKER_HOST=$DOCKER_HOST_URL

STEP="starting"
STEP_LOG=""
DETACH=0
INSTALL=1

say() { printf 'quickstart: %s\n' "$*"; }

# die MESSAGE: the current step failed; say which, where its log is, and stop
# what this run started.
die() {
    trap - INT TERM HUP EXIT
    printf '\nquickstart: FAILED at step "%s": %s\n' "$STEP" "$*" >&2
    if [ -n "$STEP_LOG" ] && [ -s "$STEP_LOG" ]; then
        printf 'quickstart: last lines of %s:\n' "$STEP_LOG" >&2
        tail -n 15 "$STEP_LOG" | sed 's/^/    /' >&2
        printf 'quickstart: full log: %s\n' "$STEP_LOG" >&2
    fi
    if [ "${STARTED:-0}" = 1 ]; then
        say "stopping what this run started" >&2
        stop_all >&2 || true
    fi
    exit 1
}

on_exit() {
    local rc=$?
    [ "$rc" = 0 ] || die "unexpected error (exit status $rc)"
}

# step NAME [LOG]: announce a step; failures are reported against it.
step() {
    STEP=$1
    STEP_LOG=${2:-}
    say "$STEP"
}

usage() {
    sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo
    echo "options: --detach        return once started"
    echo "         --no-install    skip apt-get (the packages must be installed)"
    echo "         --build-dir DIR meson build directory (default build/ in the repository)"
}

# ---------------------------------------------------------------- processes --

# The start time (clock ticks since boot, field 22 of /proc/PID/stat) pins a
# pid to the process we started: a recycled pid has another start time.
starttime() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # After "pid (comm) ", the start time is the 20th field.
    awk '{ print $20 }' <<<"$stat"
}

# record NAME PID: remember a process this run started.
record() {
    local st
    st=$(starttime "$2") || return 1
    echo "$2 $st" > "$PIDS/$1.pid"
}

# alive NAME: the recorded process still runs (and is the one we started).
alive() {
    local pid st
    [ -f "$PIDS/$1.pid" ] || return 1
    read -r pid st < "$PIDS/$1.pid" || return 1
    [ -n "$pid" ] && [ "$(starttime "$pid" 2>/dev/null)" = "$st" ]
}

pid_of() { awk '{ print $1 }' "$PIDS/$1.pid"; }

# start_bg NAME LOG CMD...: start a daemon in its own session (so Ctrl-C in
# this terminal reaches only this script, which then stops it in order).
start_bg() {
    local name=$1 log=$2 pid
    shift 2
    echo "--- $(date -u '+%Y-%m-%dT%H:%M:%SZ') quickstart: $*" > "$log"
    setsid "$@" >>"$log" 2>&1 </dev/null &
    pid=$!
    record "$name" "$pid" || die "$name exited at once (see $log)"
}

# stop_proc NAME: TERM, up to 15 s, then KILL; only the recorded process.
stop_proc() {
    local name=$1 pid i
    if ! alive "$name"; then
        rm -f "$PIDS/$name.pid"
        return 0
    fi
    pid=$(pid_of "$name")
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do
        alive "$name" || break
        sleep 0.1
        [ "$i" = 150 ] && { say "$name did not stop in 15 s, killing it"; kill -KILL "$pid" 2>/dev/null || true; }
    done
    rm -f "$PIDS/$name.pid"
}

# ------------------------------------------------------------------- ports --

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    command -v ss >/dev/null && [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# pick_port DEFAULT: DEFAULT if free, else the next free one above it.
pick_port() {
    local p=$1
    while port_busy "$p"; do p=$((p + 1)); done
    echo "$p"
}

# ------------------------------------------------------------------- docker --

docker_ok() { timeout 10 docker version >/dev/null 2>&1; }

# ---------------------------------------------------------------- the steps --

need_root() {
    [ "$(id -u)" = 0 ] && return 0
    command -v sudo >/dev/null || { echo "quickstart: run as root (sudo is not installed)" >&2; exit 1; }
    say "re-running under sudo"
    exec sudo --preserve-env=PATH bash "${BASH_SOURCE[0]}" "$@"
}

install_packages() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "packages: all ${#APT_PACKAGES[@]} present"
        return
    fi
    if [ "$INSTALL" = 0 ]; then
        die "missing packages (and --no-install given): ${missing[*]}"
    fi
    step "installing packages: ${missing[*]}" "$LOGS/apt.log"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } \
        >>"$LOGS/apt.log" 2>&1 || die "apt-get could not install the packages"
}

build() {
    step "building with meson ($BUILD_DIR)" "$LOGS/build.log"
    PUBLISHER="$BUILD_DIR/publisher/logjet-publisher"
    GATEWAY="$BUILD_DIR/gateway/logjet-gateway"
    : >"$LOGS/build.log"
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
        meson setup "$BUILD_DIR" "$ROOT" >>"$LOGS/build.log" 2>&1 || die "meson setup failed"
    fi
    meson compile -C "$BUILD_DIR" >>"$LOGS/build.log" 2>&1 || die "the build failed"
    [ -x "$PUBLISHER" ] || die "the build did not produce $PUBLISHER"
    [ -x "$GATEWAY" ] || die "the build did not produce $GATEWAY"
}

start_docker() {
    step "checking the Docker engine" "$LOGS/dockerd.log"
    if docker_ok; then
        say "docker: using the running engine ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
        return
    fi
    if [ -d /run/systemd/system ] && systemctl cat docker.service >/dev/null 2>&1; then
        say "docker: starting docker.service"
        systemctl start docker.service >>"$LOGS/dockerd.log" 2>&1 || die "systemctl start docker failed (journalctl -u docker)"
        echo systemd > "$STATE/docker-started"
    else
        say "docker: no engine answers, starting dockerd"
        # No bridge, no iptables: the demo containers need no network, and this
        # works where the kernel or a sandbox allows neither.
        start_bg dockerd "$LOGS/dockerd.log" dockerd --host "$DOCKER_HOST_URL" \
            --pidfile "$STATE/dockerd.pidfile" --bridge=none --iptables=false
        echo process > "$STATE/docker-started"
    fi
    local i
    for i in $(seq 1 60); do
        docker_ok && return
        [ "$(cat "$STATE/docker-started")" = process ] && ! alive dockerd && die "dockerd exited"
        sleep 1
    done
    die "the Docker engine did not answer within 60 s"
}

start_nats() {
    step "starting nats-server with JetStream" "$LOGS/nats.log"
    NATS_PORT=$(pick_port 4222)
    NATS_MON=$(pick_port 8222)
    mkdir -p "$STATE/nats"
    cat > "$STATE/nats.conf" <<EOF
# Written by deploy/quickstart.sh; rewritten on every run.
server_name: logjet-quickstart
listen: 127.0.0.1:$NATS_PORT
http: 127.0.0.1:$NATS_MON
jetstream {
  store_dir: "$STATE/nats"
}
EOF
    start_bg nats "$LOGS/nats.log" nats-server -c "$STATE/nats.conf"
    wait_healthy nats "http://127.0.0.1:$NATS_MON/healthz?js-enabled-only=true" 30
}

demo_image() {
    step "building the demo image (busybox, local)" "$LOGS/demo-image.log"
    local busybox hash dir a
    busybox=$(command -v busybox) || die "busybox is not installed"
    hash=$(cat "$ROOT"/deploy/demo/*.sh "$busybox" | sha256sum | cut -c1-12)
    DEMO_IMAGE="logjet-demo:$hash"
    if docker image inspect "$DEMO_IMAGE" >/dev/null 2>&1; then
        say "demo image $DEMO_IMAGE is up to date"
        return
    fi
    file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' &&
        die "$busybox is dynamically linked; install busybox-static"
    dir="$STATE/demo-image"
    rm -rf "$dir"
    mkdir -p "$dir/bin" "$dir/demo" "$dir/tmp"
    cp "$busybox" "$dir/bin/busybox"
    for a in $("$busybox" --list); do
        # The applet "busybox" is the binary itself.
        [ "$a" = busybox ] || ln -s busybox "$dir/bin/$a"
    done
    cp "$ROOT"/deploy/demo/*.sh "$dir/demo/"
    tar -C "$dir" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' \
        - "$DEMO_IMAGE" >>"$LOGS/demo-image.log" 2>&1 || die "docker import failed"
    rm -rf "$dir"
}

# remove_demo NAME: remove a demo container, only if it carries our label.
remove_demo() {
    local label
    label=$(docker inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null) || return 0
    if [ "$label" != "$ROOT" ]; then
        say "leaving container $1 alone: it was not started by this quickstart"
        return 1
    fi
    docker rm -f "$1" >/dev/null 2>&1 || true
}

start_demo() {
    step "starting the demo containers" "$LOGS/demo.log"
    local i name
    : > "$STATE/containers"
    for i in "${!DEMO_NAMES[@]}"; do
        name=${DEMO_NAMES[$i]}
        remove_demo "$name" || die "a container named $name exists and is not ours; remove or rename it"
        docker run -d --name "$name" --label "$LABEL=$ROOT" --network none \
            --log-driver json-file --log-opt max-size=20m \
            "$DEMO_IMAGE" /bin/sh "/demo/${DEMO_SCRIPTS[$i]}" >>"$LOGS/demo.log" 2>&1 ||
            die "docker run $name failed"
        echo "$name" >> "$STATE/containers"
    done
    say "demo containers: ${DEMO_NAMES[*]}"
}

start_publisher() {
    step "starting logjet-publisher" "$LOGS/publisher.log"
    PUB_PORT=$(pick_port 9101)
    start_bg publisher "$LOGS/publisher.log" "$PUBLISHER" \
        --nats-url "nats://127.0.0.1:$NATS_PORT" --docker-host "$DOCKER_HOST_URL" \
        --host-id "$HOST_ID" --http "127.0.0.1:$PUB_PORT"
    wait_healthy publisher "http://127.0.0.1:$PUB_PORT/healthz" 60
}

start_gateway() {
    step "starting logjet-gateway" "$LOGS/gateway.log"
    GW_PORT=$(pick_port 8080)
    start_bg gateway "$LOGS/gateway.log" "$GATEWAY" \
        --nats-url "nats://127.0.0.1:$NATS_PORT" --listen "127.0.0.1:$GW_PORT" --ui-dir "$ROOT/ui"
    wait_healthy gateway "http://127.0.0.1:$GW_PORT/healthz" 60
}

# wait_healthy NAME URL SECONDS: until URL answers 200, or NAME exits.
wait_healthy() {
    local name=$1 url=$2 deadline=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$deadline" ]; do
        alive "$name" || die "$name exited during start-up"
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
        sleep 0.3
    done
    die "$name did not answer 200 on $url within $3 s"
}

save_ports() {
    cat > "$STATE/ports.env" <<EOF
NATS_URL=nats://127.0.0.1:$NATS_PORT
NATS_MONITOR=http://127.0.0.1:$NATS_MON
PUBLISHER_HTTP=http://127.0.0.1:$PUB_PORT
GATEWAY_URL=http://127.0.0.1:$GW_PORT/
DEMO_URL=$(demo_url)
HOST_ID=$HOST_ID
EOF
}

# demo_url: the UI already watching the demo containers (?c= takes a glob).
demo_url() {
    echo "http://127.0.0.1:$GW_PORT/?c=$HOST_ID%2Flogjet-demo-*"
}

banner() {
    cat <<EOF

  logjet is running.

    Open:       $(demo_url)
    Containers: ${DEMO_NAMES[*]}  (host id "$HOST_ID")
    NATS:       nats://127.0.0.1:$NATS_PORT   (stream LOGS, subjects logs.>)
    Publisher:  http://127.0.0.1:$PUB_PORT/metrics
    Logs:       $LOGS/
EOF
}

# ------------------------------------------------------------------ commands --

stop_all() {
    local name
    stop_proc gateway
    stop_proc publisher
    if [ -f "$STATE/containers" ]; then
        while read -r name; do
            [ -n "$name" ] || continue
            if docker_ok && remove_demo "$name"; then say "removed container $name"; fi
        done < "$STATE/containers"
        rm -f "$STATE/containers"
    fi
    stop_proc nats
    if [ -f "$STATE/docker-started" ]; then
        case $(cat "$STATE/docker-started") in
            process) stop_proc dockerd ;;
            systemd) say "stopping docker.service"; systemctl stop docker.service docker.socket 2>/dev/null || true ;;
        esac
        rm -f "$STATE/docker-started"
    fi
    rm -f "$STATE/ports.env" "$PIDS/quickstart.pid"
}

cmd_stop() {
    if [ ! -d "$PIDS" ]; then
        say "nothing to stop"
        return
    fi
    exec 9>"$STATE/lock"
    flock -w 60 9 || { echo "quickstart: another quickstart holds $STATE/lock" >&2; exit 1; }
    stop_all
    say "stopped"
}

cmd_status() {
    local name
    for name in nats publisher gateway dockerd; do
        if alive "$name"; then echo "$name: running (pid $(pid_of "$name"))"; else echo "$name: not running"; fi
    done
    [ -f "$STATE/containers" ] && echo "containers: $(tr '\n' ' ' < "$STATE/containers")"
    [ -f "$STATE/ports.env" ] && cat "$STATE/ports.env"
    return 0
}

# monitor: the foreground part; returns when a daemon dies.
monitor() {
    local name
    while sleep 2; do
        # `quickstart.sh stop` from another terminal removes the records.
        [ -f "$PIDS/quickstart.pid" ] || { say "stopped from elsewhere"; exit 0; }
        for name in nats publisher gateway; do
            if ! alive "$name"; then
                STEP="running"
                STEP_LOG="$LOGS/$name.log"
                die "$name exited"
            fi
        done
    done
}

cmd_start() {
    mkdir -p "$LOGS" "$PIDS"
    # The state folder is local to this checkout: keep it out of git.
    [ -f "$STATE/.gitignore" ] || echo '*' > "$STATE/.gitignore"
    exec 9>"$STATE/lock"
    flock -n 9 || { echo "quickstart: another quickstart is starting or stopping (lock $STATE/lock)" >&2; exit 1; }

    if alive nats && alive publisher && alive gateway && [ -f "$STATE/ports.env" ]; then
        say "already running (stop it with: $0 stop)"
        sed -n 's/^DEMO_URL=/  Open: /p' "$STATE/ports.env"
        exit 0
    fi
    if ls "$PIDS"/*.pid >/dev/null 2>&1 || [ -f "$STATE/containers" ]; then
        say "cleaning up what an earlier run left"
        stop_all
    fi

    trap 'die "interrupted"' INT TERM HUP
    # A command that fails outside a check (set -e) still gets its step named.
    trap on_exit EXIT
    STARTED=1
    install_packages
    build
    HOST_ID=$(hostname)
    start_docker
    start_nats
    demo_image
    start_demo
    start_publisher
    start_gateway
    save_ports
    echo "$$ $(starttime $$)" > "$PIDS/quickstart.pid"
    trap - EXIT
    flock -u 9
    banner
    if [ "$DETACH" = 1 ]; then
        rm -f "$PIDS/quickstart.pid"
        echo "    Stop:       $0 stop"
        exit 0
    fi
    echo "    Stop:       Ctrl-C"
    echo
    trap 'echo; say "stopping"; stop_all; say "stopped"; exit 0' INT TERM HUP
    monitor
}

main() {
    local cmd=start args=()
    while [ $# -gt 0 ]; do
        case $1 in
            start|stop|status) cmd=$1 ;;
            --detach|-d) DETACH=1 ;;
            --no-install) INSTALL=0 ;;
            --build-dir) BUILD_DIR=$(realpath -m "$2"); args+=("$1"); shift ;;
            -h|--help) usage; exit 0 ;;
            *) usage >&2; exit 2 ;;
        esac
        args+=("$1")
        shift
    done
    need_root "${args[@]}"
    case $cmd in
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
    esac
}

main "$@"
