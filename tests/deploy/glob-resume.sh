#!/bin/bash
# A client resuming a glob subscription with after_seq = the highest seq it received,
# as docs/protocol.md prescribes ("for a glob subscription, after_seq positions every
# container") and as ui/session.js does, must miss nothing. It used to lose lines of
# the glob's containers without any gap frame when it was dropped while the gateway
# held one container's lines behind a JetStream fetch and sent other containers'
# newer lines meanwhile (3 of 4 runs failed); the gateway now sends a glob's lines in
# seq order (tap.h lj_tap_floor). Run as deploy-glob-resume.
#
# Three nats-servers from deploy/nats/cluster (ports moved), one publisher
# (--replicas 3), one gateway with all three URLs; eight containers print numbered
# lines; a WebSocket client (multihost-follow.js) follows the glob. Three times: the
# node the gateway is connected to is made the LOGS stream's leader (leader
# step-down until it is) and killed (SIGKILL); as soon as the stream stores again the
# client's connection is cut, and it resumes by itself; the node is started again.
# Then every container is stopped and the client must hold every line of each, as
# `docker logs` has them, once, in order. Before the fix, on a 2-core machine at load
# 8-20, 3 of 4 runs failed, each with 95-130 lines of 7 of the 8 containers missing
# right after one resume (the journal's "line_no A (seq S) then B (seq T)" lines), no
# gap frame, while the stream held them.
#
# Environment: as cluster.sh (LOGJET_BUILD_DIR, DOCKER_HOST). LOGJET_GLOB_RESUME_ROUNDS
# (default 6) kill-and-cut rounds; the cut comes 0.5, 1.5 or 2.5 s after the
# stream stores again, in turn.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

T_BEGIN=$SECONDS
ROUNDS=${LOGJET_GLOB_RESUME_ROUNDS:-6}
stack_setup globresume

cluster_configs
for n in 1 2 3; do
    start "nats-$n" "$tmp/nats-$n.log" nats-server -c "$tmp/nats-$n.conf"
done
cluster_wait
PUB_PORT=$(free_port)
GW_PORT=$(free_port)
start publisher "$tmp/publisher.log" "$PUBLISHER" --docker-host "${DOCKER_HOST:-unix:///var/run/docker.sock}" \
    --nats-url "$URLS" --host-id "$HOST_ID" --replicas 3 --http "127.0.0.1:$PUB_PORT" --include "^$RUN_ID-"
wait_http "http://127.0.0.1:$PUB_PORT/healthz" 60 || die "publisher healthy"
start gateway "$tmp/gateway.log" "$GATEWAY" --nats-url "$URLS" --listen "127.0.0.1:$GW_PORT"
wait_http "http://127.0.0.1:$GW_PORT/healthz" 60 || die "gateway healthy"
pass "three-node cluster, publisher (--replicas 3) and gateway up"

mkdir -p "$tmp/expect/$HOST_ID"
start client "$tmp/client.log" node "$LJ_TESTS_DIR/multihost-follow.js" "ws://127.0.0.1:$GW_PORT/ws" \
    "$HOST_ID/$RUN_ID-*" "$tmp/expect" 150 "$tmp/client.status"
CTRS=()
for i in 1 2 3 4 5 6 7 8; do
    c=$RUN_ID-c$i
    CTRS+=("$c")
    docker run -d --name "$c" --network none --log-driver json-file "logjet-test-busybox:globresume" sh -c \
        "trap 'exit 0' TERM; n=0; while true; do n=\$((n + 1)); echo \"$c \$n\"; usleep 50000; done" > /dev/null ||
        die "docker run $c"
done
# stack_cleanup removes only $NAME: the others too.
trap 'for c in "${CTRS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done; stack_cleanup' EXIT
sleep 3

# gateway_node: the node the gateway is connected to now, from its log.
gateway_node() {
    local port
    port=$(grep -E 'msg="(re)?connected to NATS"' "$tmp/gateway.log" | tail -n 1 | sed -E 's/.*url=nats:\/\/127\.0\.0\.1:([0-9]+).*/\1/')
    for n in 1 2 3; do [ "${CP[n]}" != "$port" ] || echo "$n"; done
}
# shellcheck disable=SC2016  # the subject is literal
stepdown() {
    node -e '
      const { connect } = require("nats");
      (async () => { const nc = await connect({ servers: process.argv[1].split(",") });
        try { await nc.request("$JS.API.STREAM.LEADER.STEPDOWN.LOGS", "", { timeout: 5000 }); } catch (e) {}
        await nc.close(); })();' "$URLS"
}

for round in $(seq 1 "$ROUNDS"); do
    g=$(gateway_node)
    [ -n "$g" ] || die "found the node the gateway is connected to"
    leader=""
    for _ in $(seq 1 12); do
        leader=$(jsz leader || true)
        [ "$leader" = "logjet-nats-$g" ] && break
        stepdown
        sleep 1
    done
    [ "$leader" = "logjet-nats-$g" ] || { skip "round $round: could not move the leader to nats-$g"; continue; }
    before=$(jsz last_seq)
    stop "nats-$g" KILL
    t_kill=$SECONDS
    # As soon as the stream stores again, cut the client.
    for _ in $(seq 1 300); do
        now=$(jsz last_seq || echo 0)
        [ "$now" -gt "$before" ] && break
        sleep 0.1
    done
    paused=$((SECONDS - t_kill))
    delay=$(( (round - 1) % 3 )).5
    sleep "$delay"
    kill -USR1 "${PID[client]}"
    echo "round $round: killed nats-$g (the stream leader, and the gateway's server) at last_seq $before; the stream stored again after ${paused} s (last_seq $now); cut the client $delay s later"
    start "nats-$g" "$tmp/nats-$g.run$round.log" nats-server -c "$tmp/nats-$g.conf"
    wait_http "http://127.0.0.1:${MP[g]}/healthz?js-enabled-only=true" 60 || die "nats-$g healthy again"
    sleep 4
done

for c in "${CTRS[@]}"; do docker stop -t 5 "$c" > /dev/null; done
for c in "${CTRS[@]}"; do docker logs "$c" > "$tmp/expect/$HOST_ID/$c" 2>&1; done
touch "$tmp/expect/.done"
if wait "${PID[client]}"; then
    pass "after $ROUNDS leader kills and cuts, the client holds every line of every container of its glob, once, in order"
else
    fail "after $ROUNDS leader kills and cuts, the client holds every line of every container of its glob, once, in order"
fi
unset "PID[client]"
sed 's/^/    /' "$tmp/client.log"
grep -E 'level=(warn|error)' "$tmp/gateway.log" | sed 's/^/    gateway: /' | tail -n 20
echo "glob-resume: $((SECONDS - T_BEGIN)) s"
summary
