#!/bin/bash
# NATS cluster failover: three nats-servers on loopback made from
# deploy/nats/cluster/nats-{1,2,3}.conf (ports and store moved to free ones),
# the publisher with --replicas 3 and all three URLs, the gateway likewise.
# A container prints "line 1" .. "line N"; while it prints, the LOGS stream's
# leader is killed (SIGKILL). Then:
#   - the subject holds exactly N records, line_no 1..N contiguous, each the
#     right line: none lost, none doubled (tests/deploy/stream-check.js);
#   - the publisher and the gateway still answer /healthz;
#   - a WebSocket client replaying through the gateway gets all N lines.
#
# Environment: LOGJET_BUILD_DIR (default build/) holds the two daemons; DOCKER_HOST
# (default unix:///var/run/docker.sock) is the engine the container and publisher use.
# Needs nats-server, a Docker engine, busybox-static, node and npm.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

LINES=${LOGJET_CLUSTER_LINES:-1000}
stack_setup cluster

# --- three nats-servers from the shipped configs ------------------------------
cluster_configs
for n in 1 2 3; do
    start "nats-$n" "$tmp/nats-$n.log" nats-server -c "$tmp/nats-$n.conf"
done
cluster_wait
pass "three-node cluster up from deploy/nats/cluster ($URLS)"

# --- publisher and gateway ----------------------------------------------------
PUB_PORT=$(free_port)
GW_PORT=$(free_port)
start publisher "$tmp/publisher.log" "$PUBLISHER" --docker-host "${DOCKER_HOST:-unix:///var/run/docker.sock}" --nats-url "$URLS" --host-id "$HOST_ID" \
    --replicas 3 --http "127.0.0.1:$PUB_PORT" --include "^$RUN_ID-"
start gateway "$tmp/gateway.log" "$GATEWAY" --nats-url "$URLS" --listen "127.0.0.1:$GW_PORT" \
    --ui-dir "$LJ_ROOT/ui"
wait_http "http://127.0.0.1:$PUB_PORT/healthz" 60 || die "publisher (--replicas 3, three URLs) is healthy"
pass "publisher (--replicas 3, three URLs) healthy"
# A gateway that cannot use the URL list is a failure, but the publisher's
# part below is still worth checking.
GW_OK=1
if wait_http "http://127.0.0.1:$GW_PORT/healthz" 30; then
    pass "gateway (three URLs) healthy"
else
    GW_OK=0
    fail "gateway (three URLs) healthy: /healthz says $(curl -sS "http://127.0.0.1:$GW_PORT/healthz" 2>&1)"
fi

# --- a container counts while the stream leader dies --------------------------
docker run -d --name "$NAME" --network none --log-driver json-file "logjet-test-busybox:cluster" \
    sh -c "i=1; while [ \$i -le $LINES ]; do echo \"line \$i\"; i=\$((i + 1)); usleep 20000; done; exec sleep 600" \
    > /dev/null || die "docker run $NAME"
sleep 5

leader=""
for i in $(seq 1 40); do
    leader=$(curl -fsS "http://127.0.0.1:${MP[1]}/jsz?streams=true" 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
          for (const a of j.account_details||[]) for (const st of a.stream_detail||[])
            if (st.name==="LOGS" && st.cluster && st.cluster.leader) { console.log(st.cluster.leader); return; }})' || true)
    [ -n "$leader" ] && break
    sleep 0.5
done
[[ $leader =~ ^logjet-nats-[123]$ ]] || die "found the LOGS stream leader (got '$leader')"
victim=${leader#logjet-nats-}
stop "nats-$victim" KILL
pass "killed the stream leader $leader (SIGKILL) while the container prints"

# --- nothing lost, nothing doubled ---------------------------------------------
survivors=""
for n in 1 2 3; do [ "$n" = "$victim" ] || survivors="$survivors,nats://127.0.0.1:${CP[n]}"; done
survivors=${survivors#,}
subject="logs.$HOST_ID.$NAME"
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
    done_lines=$(curl -fsS "http://127.0.0.1:$PUB_PORT/metrics" 2>/dev/null |
        awk -v c="$HOST_ID/$NAME" 'index($0, "logjet_publisher_lines_total{container=\"" c "\"}") == 1 { print $2 }')
    [ "${done_lines:-0}" -ge "$LINES" ] && break
    sleep 1
done
echo "cluster: the publisher reports ${done_lines:-0} of $LINES lines stored"
check "the subject holds line_no 1..$LINES, each line once and in order" \
    node "$LJ_TESTS_DIR/stream-check.js" "$survivors" LOGS "$subject" "$LINES" --numbered
check "publisher still healthy after the failover" curl -fsS -o /dev/null "http://127.0.0.1:$PUB_PORT/healthz"
if [ "$GW_OK" = 1 ]; then
    check "gateway still healthy after the failover" curl -fsS -o /dev/null "http://127.0.0.1:$GW_PORT/healthz"
    check "a WebSocket client replaying through the gateway gets line $LINES" \
        node "$LJ_TESTS_DIR/ws-expect.js" "ws://127.0.0.1:$GW_PORT/ws" "$HOST_ID/$NAME" "line $LINES" 30
fi
[ "$LJ_FAILED" = 0 ] || show_logs
summary
