#!/bin/bash
# Scale-out on loopback, with failures at random points: three Docker engines
# (three dockerd, each its own data root, exec root, pid file and socket here), a
# three-node JetStream cluster made from deploy/nats/cluster (ports and stores
# moved), one publisher per engine (--host-id h1, h2.b, h3_c-D, --replicas 3, all
# three URLs), two gateways behind haproxy from deploy/haproxy/haproxy.cfg (ports
# moved). Containers named web... (names using all of Docker's name characters) and
# db... print numbered lines on every engine for the whole run; one WebSocket client
# (multihost-follow.js) follows the glob */web* through haproxy and resumes by itself
# after every drop, as the UI does.
#
# While they print, at moments drawn from a printed seed (LOGJET_MULTIHOST_SEED=N
# repeats a run's choices): the LOGS stream's leader is killed (SIGKILL) and started
# again; the gateway holding the client is killed (SIGKILL) and started again; one
# publisher is killed (kill -9) and started again; one dockerd is stopped and started
# again (without --live-restore, as Docker runs by default: its containers stop with
# it and come back by their restart policy, their logs continuing); a container on
# another engine is restarted; new containers start (one of them prints a fixed
# number of lines and exits); the client's connection is cut twice. Then every
# container is stopped and:
#   - the client holds every line of every web... container of every engine, once,
#     in order, exactly as that engine's own `docker logs` has them, and nothing of
#     the db... ones (multihost-follow.js);
#   - the stream, read straight from NATS, holds every line of every container
#     (db... too) once, in order, line_no 1..N (multihost-stream.js);
#   - every daemon is healthy again.
# A line missing at the client but present in the stream, just before a resume (the
# client's journal shows the jump on the connection after a drop), is the glob
# resume problem that tests/deploy/glob-resume.sh reproduces.
# It prints the schedule, the counts (lines per host, connections, drops, resumes)
# and its duration. LOGJET_KEEP_TEST_DIRS=1 keeps the run's folder (every log, each
# container's docker logs) and prints where it is.
#
# Environment: LOGJET_BUILD_DIR (default build/) holds the two daemons. Runs as root
# (it starts its own dockerd; DOCKER_HOST is not used). Needs dockerd, the docker
# CLI, haproxy, nats-server, busybox-static, node and npm.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

T_BEGIN=$SECONDS
SEED=${LOGJET_MULTIHOST_SEED:-$(( (RANDOM << 15) | RANDOM ))}
[[ $SEED =~ ^[0-9]+$ ]] || { echo "LOGJET_MULTIHOST_SEED must be a number, not '$SEED'"; exit 2; }
echo "multihost: seed $SEED (LOGJET_MULTIHOST_SEED=$SEED repeats this run's choices)"
RANDOM=$SEED
IMG=logjet-test-busybox:multihost
HOSTS=("" h1 h2.b h3_c-D)
# Per engine: two web... containers the glob matches, one db... it must not.
declare -A CTRS=([1]="web.1_x-Y web-2 db-1" [2]="web_A.b-9 webZ db.web_x" [3]="web-3.c_D web3 db_3.web")

# --- the schedule, drawn before anything else uses $RANDOM ----------------------
# Every draw is made here in the main shell: a $(...) subshell would not advance
# the seeded sequence.
sched=()
t=$((4 + RANDOM % 20)); sched+=("$t nats-kill" "$((t + 5 + RANDOM % 6)) nats-start")
t=$((8 + RANDOM % 34)); sched+=("$t gateway-kill" "$((t + 3 + RANDOM % 6)) gateway-start")
ph=$((1 + RANDOM % 3)); t=$((4 + RANDOM % 44)); sched+=("$t publisher-kill $ph" "$((t + 1 + RANDOM % 4)) publisher-start $ph")
dh=$((1 + RANDOM % 3)); t=$((10 + RANDOM % 28)); down=$((1 + RANDOM % 4))
sched+=("$t dockerd-restart $dh $down" "$((t + down + 6)) container-new $dh web-N1.${HOSTS[dh]} 100000")
rh=$(( (dh + RANDOM % 2) % 3 + 1 )); rc=$((1 + RANDOM % 2))
sched+=("$((4 + RANDOM % 48)) container-restart $rh $(cut -d' ' -f"$rc" <<<"${CTRS[$rh]}")")
nh=$(( (dh + RANDOM % 2) % 3 + 1 ))
sched+=("$((2 + RANDOM % 40)) container-new $nh web_N2-exits 150")
nh=$(( (dh + RANDOM % 2) % 3 + 1 ))
sched+=("$((2 + RANDOM % 50)) container-new $nh db-N3 100000")
sched+=("$((3 + RANDOM % 54)) client-cut" "$((3 + RANDOM % 54)) client-cut")

BUILD=${LOGJET_BUILD_DIR:-$LJ_ROOT/build}
PUBLISHER="$BUILD/publisher/logjet-publisher"
GATEWAY="$BUILD/gateway/logjet-gateway"
tmp=$(mktemp -d /tmp/lj-mh.XXXXXX)   # short: dockerd's sockets live under it
printf '%s\n' "${sched[@]}" | sort -n -k1,1 -s > "$tmp/schedule"
echo "multihost: schedule (seconds into the failures, action, engine):"
sed 's/^/    /' "$tmp/schedule"

dk() { # dk N ARGS...: the docker CLI against engine N
    local n=$1
    shift
    DOCKER_HOST="unix://$tmp/d$n/docker.sock" docker "$@" < /dev/null
}

# alive PID: the process exists and is not a zombie waiting for us.
alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# launch NAME CMD...: start (lib.sh) with a log of its own for every run of NAME.
declare -A RUNS
launch() {
    local name=$1 log
    shift
    RUNS[$name]=$(( ${RUNS[$name]:-0} + 1 ))
    log="$tmp/$name.log"
    [ "${RUNS[$name]}" = 1 ] || log="$tmp/$name.run${RUNS[$name]}.log"
    CMD_OF[$name]=$(printf '%q ' "$@")
    start "$name" "$log" "$@"
}
declare -A CMD_OF
# relaunch NAME: the same command again.
relaunch() { eval "launch $1 ${CMD_OF[$1]}"; }

start_engine() {
    local n=$1 d="$tmp/d$1"
    mkdir -p "$d"
    launch "dockerd-$n" dockerd --host "unix://$d/docker.sock" --data-root "$d/data" \
        --exec-root "$d/exec" --pidfile "$d/pid" --iptables=false --ip-forward=false --bridge=none
}

wait_engine() {
    local n=$1 i
    for i in $(seq 1 150); do
        dk "$n" version >/dev/null 2>&1 && return 0
        alive "${PID[dockerd-$n]}" || return 1
        sleep 0.2
    done
    return 1
}

# stop_engine N: SIGTERM, as systemd stops docker.service; SIGKILL after 30 s.
stop_engine() {
    local n=$1 pid=${PID[dockerd-$1]:-} i
    [ -n "$pid" ] || return 0
    if [ "$(starttime "$pid" 2>/dev/null)" = "${ST[dockerd-$n]}" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    unset "PID[dockerd-$n]"
}

cleanup() {
    local n
    for n in "${!PID[@]}"; do [[ $n == dockerd-* ]] || stop "$n"; done
    for n in 1 2 3; do
        [ -n "${PID[dockerd-$n]:-}" ] || continue
        [ "${LOGJET_KEEP_TEST_DIRS:-}" = 1 ] || dk "$n" ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="unix://$tmp/d$n/docker.sock" docker rm -f >/dev/null 2>&1 || true
        stop_engine "$n"
    done
    if [ "${LOGJET_KEEP_TEST_DIRS:-}" = 1 ]; then
        echo "multihost: kept $tmp (LOGJET_KEEP_TEST_DIRS=1)"
    elif grep -q " $tmp/" /proc/mounts; then
        echo "multihost: left $tmp: something is still mounted under it"
    else
        rm -rf "$tmp"
    fi
    rm -f "$LJ_PORTS_FILE"
}
trap cleanup EXIT

show_logs() {
    local f
    for f in "$tmp"/*.log; do
        [ -e "$f" ] || continue
        echo "--- $(basename "$f")"
        grep -v 'level=debug' "$f" | tail -n 12 | sed 's/^/    /'
    done
}
die() { fail "$*"; show_logs; summary; exit 1; }

for bin in "$PUBLISHER" "$GATEWAY"; do
    [ -x "$bin" ] || { fail "$bin is built (set LOGJET_BUILD_DIR)"; summary; exit 1; }
done
for p in dockerd docker haproxy nats-server; do
    command -v "$p" >/dev/null || { fail "$p is installed"; summary; exit 1; }
done
[ "$(id -u)" = 0 ] || { skip "three dockerd need root"; summary; exit 77; }
node_deps || { fail "node and npm packages (tests/deploy/package.json)"; summary; exit 1; }

# --- three engines ---------------------------------------------------------------
for n in 1 2 3; do start_engine "$n"; done
for n in 1 2 3; do wait_engine "$n" || die "dockerd $n answers on $tmp/d$n/docker.sock"; done
for n in 1 2 3; do (export DOCKER_HOST="unix://$tmp/d$n/docker.sock"; busybox_image multihost) || die "busybox image on engine $n"; done
pass "three dockerd up, each with its own data root, exec root and socket, the busybox image in each"

# --- three nats-servers from the shipped configs ----------------------------------
cluster_configs
for n in 1 2 3; do
    launch "nats-$n" nats-server -c "$tmp/nats-$n.conf"
done
cluster_wait
pass "three-node JetStream cluster from deploy/nats/cluster ($URLS)"

# --- publishers (all three at once: they race to create the stream), gateways, haproxy
declare -a PP GW
for n in 1 2 3; do PP[n]=$(free_port); done
GW=("" "$(free_port)" "$(free_port)")
LB=$(free_port)
for n in 1 2 3; do
    launch "publisher-$n" "$PUBLISHER" --docker-host "unix://$tmp/d$n/docker.sock" --nats-url "$URLS" \
        --host-id "${HOSTS[n]}" --replicas 3 --http "127.0.0.1:${PP[n]}"
done
for n in 1 2 3; do wait_http "http://127.0.0.1:${PP[n]}/healthz" 60 || die "publisher-$n (${HOSTS[n]}) is healthy"; done
for n in 1 2; do
    launch "gateway-$n" "$GATEWAY" --nats-url "$URLS" --listen "127.0.0.1:${GW[n]}" --ui-dir "$LJ_ROOT/ui"
done
sed -e "s/127\.0\.0\.1:8080\b/127.0.0.1:$LB/" -e "s/127\.0\.0\.1:8081\b/127.0.0.1:${GW[1]}/" \
    -e "s/127\.0\.0\.1:8082\b/127.0.0.1:${GW[2]}/" deploy/haproxy/haproxy.cfg > "$tmp/haproxy.cfg"
launch haproxy haproxy -db -f "$tmp/haproxy.cfg"
for n in 1 2; do wait_http "http://127.0.0.1:${GW[n]}/healthz" 60 || die "gateway-$n is healthy"; done
wait_http "http://127.0.0.1:$LB/healthz" 30 || die "haproxy passes /healthz to a gateway"
pass "three publishers (h1, h2.b, h3_c-D; --replicas 3), two gateways and haproxy up"

# --- the client, then the containers (all at once) --------------------------------
mkdir -p "$tmp/expect" "$tmp/logs"
launch client node "$LJ_TESTS_DIR/multihost-follow.js" "ws://127.0.0.1:$LB/ws" '*/web*' "$tmp/expect" 200 \
    "$tmp/client.status"
for i in $(seq 1 100); do grep -q 'connections 1' "$tmp/client.status" 2>/dev/null && break; sleep 0.1; done
grep -q 'connections 1' "$tmp/client.status" 2>/dev/null || die "the client connected through haproxy"

# ctr_cmd NAME MAX: numbered lines "NAME n", ten at once then ten 0.2 s apart, up to
# MAX; the count is kept in the container's own file system, so a restarted container
# goes on counting (its numbers are unique: written before they are printed).
ctr_cmd() {
    # shellcheck disable=SC2016  # expanded in the container's shell
    printf 'trap "exit 0" TERM; n=$(cat /n 2>/dev/null || echo 0); while [ $n -lt %d ]; do n=$((n + 1)); echo $n > /n; echo "%s $n"; [ $((n %% 20)) -lt 10 ] || usleep 200000; done' "$2" "$1"
}
# run_ctr N NAME MAX: one container on engine N; restart policy always unless it is
# one that ends by itself.
run_ctr() {
    local n=$1 name=$2 max=$3 policy=always
    [ "$max" -ge 100000 ] || policy=no
    dk "$n" run -d --name "$name" --network none --log-driver json-file --restart "$policy" \
        "$IMG" sh -c "$(ctr_cmd "$name" "$max")" > /dev/null
}
pids=()
for n in 1 2 3; do
    for c in ${CTRS[$n]}; do run_ctr "$n" "$c" 100000 & pids+=($!); done
done
for p in "${pids[@]}"; do wait "$p" || die "docker run of the first containers"; done
pass "containers printing on all three engines: ${CTRS[1]} | ${CTRS[2]} | ${CTRS[3]}"

# --- the failures ------------------------------------------------------------------
clients_of() {
    curl -fsS --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '$1 == "logjet_gateway_clients" { print $2 }'
}
# retry_docker SECONDS CMD...: an engine that is restarting refuses for a moment.
retry_docker() {
    local until=$((SECONDS + $1))
    shift
    until "$@" 2>"$tmp/docker.err"; do
        [ "$SECONDS" -lt "$until" ] || { cat "$tmp/docker.err"; return 1; }
        sleep 0.5
    done
}

nats_victim="" gw_victim="" cuts=0
T0=$SECONDS
while read -r -u 3 at what a b c; do
    while [ $((SECONDS - T0)) -lt "$at" ]; do sleep 0.2; done
    now=$((SECONDS - T0))
    case "$what" in
    nats-kill)
        leader=""
        for _ in $(seq 1 20); do leader=$(jsz leader || true); [ -n "$leader" ] && break; sleep 0.5; done
        [[ $leader =~ ^logjet-nats-[123]$ ]] || die "found the LOGS stream leader (got '$leader')"
        nats_victim=${leader#logjet-nats-}
        stop "nats-$nats_victim" KILL
        echo "  t=${now}s: killed the stream leader $leader (SIGKILL)" ;;
    nats-start)
        relaunch "nats-$nats_victim"
        echo "  t=${now}s: started logjet-nats-$nats_victim again" ;;
    gateway-kill)
        gw_victim=""
        # The client may be reconnecting (a cut just before): give it 5 s to land.
        for _ in $(seq 1 25); do
            for n in 1 2; do [ "$(clients_of "${GW[n]}")" = 1 ] && gw_victim=$n; done
            [ -z "$gw_victim" ] || break
            sleep 0.2
        done
        how="the one holding the client"
        [ -n "$gw_victim" ] || { gw_victim=1; how="the client was between connections"; }
        stop "gateway-$gw_victim" KILL
        echo "  t=${now}s: killed gateway-$gw_victim (SIGKILL; $how)" ;;
    gateway-start)
        relaunch "gateway-$gw_victim"
        echo "  t=${now}s: started gateway-$gw_victim again" ;;
    publisher-kill)
        stop "publisher-$a" KILL
        echo "  t=${now}s: killed publisher-$a (${HOSTS[a]}, kill -9)" ;;
    publisher-start)
        relaunch "publisher-$a"
        echo "  t=${now}s: started publisher-$a again" ;;
    dockerd-restart)
        stop_engine "$a"
        echo "  t=${now}s: stopped dockerd $a (${HOSTS[a]}) in $(( SECONDS - T0 - now )) s; down for $b s"
        sleep "$b"
        start_engine "$a"
        wait_engine "$a" || die "dockerd $a answers again after its restart"
        echo "  t=$((SECONDS - T0))s: dockerd $a is back: $(dk "$a" ps --format '{{.Names}} {{.Status}}' | tr '\n' ';')" ;;
    container-restart)
        retry_docker 20 dk "$a" restart -t 2 "$b" > /dev/null || die "docker restart $b on engine $a"
        echo "  t=${now}s: restarted container $b on ${HOSTS[a]}" ;;
    container-new)
        retry_docker 20 run_ctr "$a" "$b" "$c" || die "docker run $b on engine $a"
        echo "  t=${now}s: new container $b on ${HOSTS[a]}$([ "$c" -ge 100000 ] || echo ", printing $c lines, then exiting")" ;;
    client-cut)
        kill -USR1 "${PID[client]}"
        cuts=$((cuts + 1))
        echo "  t=${now}s: cut the client's connection" ;;
    esac
done 3< "$tmp/schedule"
pass "failures done ($((SECONDS - T0)) s): stream leader, gateway, publisher-$ph, dockerd $dh, $cuts cuts"

# --- every daemon is back -----------------------------------------------------------
for n in 1 2 3; do
    check "nats-$n healthy" wait_http "http://127.0.0.1:${MP[n]}/healthz?js-enabled-only=true" 60
done
for n in 1 2 3; do check "publisher-$n (${HOSTS[n]}) healthy" wait_http "http://127.0.0.1:${PP[n]}/healthz" 60; done
for n in 1 2; do check "gateway-$n healthy" wait_http "http://127.0.0.1:${GW[n]}/healthz" 60; done

# --- stop every container, take each engine's own docker logs -----------------------
sleep 2
pids=()
for n in 1 2 3; do
    # shellcheck disable=SC2086  # one word per container id
    ( ids=$(dk "$n" ps -q); [ -z "$ids" ] || dk "$n" stop -t 5 $ids > /dev/null ) & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "docker stop"; done
absent=()
for n in 1 2 3; do
    h=${HOSTS[n]}
    mkdir -p "$tmp/logs/$h" "$tmp/expect/$h"
    for c in $(dk "$n" ps -a --format '{{.Names}}'); do
        dk "$n" logs "$c" > "$tmp/logs/$h/$c" 2> "$tmp/docker.err" || die "docker logs $c on $h: $(cat "$tmp/docker.err")"
        # The same with Docker's timestamps, for a person reading a failure.
        mkdir -p "$tmp/logs-t/$h"
        dk "$n" logs -t "$c" > "$tmp/logs-t/$h/$c" 2>&1 || true
        [ ! -s "$tmp/docker.err" ] || die "docker logs $c on $h wrote to stderr: $(head -3 "$tmp/docker.err")"
        case "$c" in
            web*) cp "$tmp/logs/$h/$c" "$tmp/expect/$h/$c" ;;
            *) absent+=("$h/$c") ;;
        esac
    done
done
printf '%s\n' "${absent[@]}" > "$tmp/expect/.absent"
touch "$tmp/expect/.done"
echo "multihost: docker logs per container:"
for n in 1 2 3; do
    for f in "$tmp/logs/${HOSTS[n]}"/*; do echo "    ${HOSTS[n]}/$(basename "$f"): $(wc -l < "$f") lines"; done
done

# --- the client's verdict, then the stream's ------------------------------------------
if wait "${PID[client]}"; then
    pass "the client holds every line of every web... container of every engine once, in docker's order, nothing of db..."
else
    fail "the client holds every line of every web... container of every engine once, in docker's order, nothing of db..."
fi
unset "PID[client]"
sed 's/^/    /' "$tmp/client.log"
resumes=$(awk '/connections,/ { for (i = 1; i < NF; i++) if ($(i + 1) == "resumes") print $i }' "$tmp/client.log")
if [ "${resumes:-0}" -ge "$cuts" ]; then
    pass "the client resumed by itself after its drops (${resumes:-0} resumes, $cuts cuts by the test)"
else
    fail "the client resumed by itself after its drops (${resumes:-0} resumes, $cuts cuts by the test)"
fi
if node "$LJ_TESTS_DIR/multihost-stream.js" "$URLS" LOGS "$tmp/logs" > "$tmp/stream-check.out" 2>&1; then
    pass "the stream holds every line of every container once, in docker's order (read from NATS)"
    tail -n 1 "$tmp/stream-check.out" | sed 's/^/    /'
else
    fail "the stream holds every line of every container once, in docker's order (read from NATS)"
    sed 's/^/    /' "$tmp/stream-check.out"
fi
# The same reader must see a line missing and a line doubled: against a copy of
# docker's logs with one web... container's line 5 gone and another's line 5 twice.
cp -r "$tmp/logs" "$tmp/logs-doctored"
webs=("$tmp"/logs-doctored/*/web*)
sed -i '5d' "${webs[0]}"
sed -i '5p' "${webs[1]}"
check_fails "the stream reader tells a doctored docker log (${webs[0]#"$tmp"/logs-doctored/} without line 5, ${webs[1]#"$tmp"/logs-doctored/} with it twice)" \
    node "$LJ_TESTS_DIR/multihost-stream.js" "$URLS" LOGS "$tmp/logs-doctored"

echo "multihost: seed $SEED, $((SECONDS - T_BEGIN)) s in all"
[ "$LJ_FAILED" = 0 ] || { show_logs; echo "multihost: LOGJET_MULTIHOST_SEED=$SEED LOGJET_KEEP_TEST_DIRS=1 repeats it and keeps the logs"; }
summary
