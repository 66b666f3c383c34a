#!/bin/bash
# Two gateways behind haproxy (deploy/haproxy/haproxy.cfg, ports moved to free
# ones), one nats-server, the publisher. A WebSocket client follows a container
# printing "line 1".."line N" through the balancer; the gateway holding the
# client is killed (SIGKILL) midway. The client must reconnect through the
# balancer to the other gateway, resume with after_seq and end up with line_no
# 1..N, each once, in order, with no gap (tests/deploy/ws-follow.js).
#
# Environment: LOGJET_BUILD_DIR (default build/) holds the two daemons; DOCKER_HOST
# (default unix:///var/run/docker.sock) is the engine the container and publisher use.
# Needs haproxy, nats-server, a Docker engine, busybox-static, node and npm.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

LINES=${LOGJET_BALANCER_LINES:-1000}
stack_setup balancer

clients_of() {
    curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '$1 == "logjet_gateway_clients" { print $2 }'
}
command -v haproxy >/dev/null || { fail "haproxy is installed (apt-get install haproxy)"; summary; exit 1; }

NATS_PORT=$(free_port)
PUB_PORT=$(free_port)
LB_PORT=$(free_port)
declare -a GW=("" "$(free_port)" "$(free_port)")
mkdir -p "$tmp/store"
start nats "$tmp/nats.log" nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$tmp/store"
start publisher "$tmp/publisher.log" "$PUBLISHER" --docker-host "${DOCKER_HOST:-unix:///var/run/docker.sock}" --nats-url "nats://127.0.0.1:$NATS_PORT" \
    --host-id "$HOST_ID" --http "127.0.0.1:$PUB_PORT" --include "^$RUN_ID-"
for n in 1 2; do
    start "gateway-$n" "$tmp/gateway-$n.log" "$GATEWAY" --nats-url "nats://127.0.0.1:$NATS_PORT" \
        --listen "127.0.0.1:${GW[n]}" --ui-dir "$LJ_ROOT/ui"
done
sed -e "s/127\.0\.0\.1:8080\b/127.0.0.1:$LB_PORT/" -e "s/127\.0\.0\.1:8081\b/127.0.0.1:${GW[1]}/" \
    -e "s/127\.0\.0\.1:8082\b/127.0.0.1:${GW[2]}/" deploy/haproxy/haproxy.cfg > "$tmp/haproxy.cfg"
start haproxy "$tmp/haproxy.log" haproxy -db -f "$tmp/haproxy.cfg"
wait_http "http://127.0.0.1:$PUB_PORT/healthz" 60 || die "publisher healthy"
for n in 1 2; do wait_http "http://127.0.0.1:${GW[n]}/healthz" 60 || die "gateway-$n healthy"; done
wait_http "http://127.0.0.1:$LB_PORT/healthz" 30 || die "haproxy passes /healthz to a gateway"
pass "nats, publisher, two gateways and haproxy from deploy/haproxy/haproxy.cfg are up"

docker run -d --name "$NAME" --network none --log-driver json-file "logjet-test-busybox:balancer" \
    sh -c "i=1; while [ \$i -le $LINES ]; do echo \"line \$i\"; i=\$((i + 1)); usleep 20000; done; exec sleep 600" \
    > /dev/null || die "docker run $NAME"
node "$LJ_TESTS_DIR/ws-follow.js" "ws://127.0.0.1:$LB_PORT/ws" "$HOST_ID/$NAME" "$LINES" 120 "$tmp/follow.status" \
    > "$tmp/follow.out" 2>&1 &
follower=$!

# Once the client has some lines, kill the gateway that holds it.
for i in $(seq 1 100); do
    grep -q 'lines' "$tmp/follow.status" 2>/dev/null && break
    sleep 0.1
done
sleep 2
victim=""
for n in 1 2; do [ "$(clients_of "${GW[n]}")" = 1 ] && victim=$n; done
[ -n "$victim" ] || { kill "$follower" 2>/dev/null || true; die "found the gateway holding the client"; }
echo "balancer: the client is on gateway-$victim ($(cat "$tmp/follow.status" 2>/dev/null || true)); killing it"
stop "gateway-$victim" KILL
pass "killed gateway-$victim (SIGKILL) while the client watches"

if wait "$follower"; then
    pass "the client reconnected through haproxy and has line_no 1..$LINES, each once, in order"
else
    fail "the client reconnected through haproxy and has line_no 1..$LINES, each once, in order"
fi
sed 's/^/    /' "$tmp/follow.out"
other=$((3 - victim))
# haproxy logs a WebSocket session when it ends: the client has just closed it, so
# the line may take a moment to appear.
for _ in $(seq 1 50); do
    grep -q "gateways/gateway-$other .* \"GET /ws" "$tmp/haproxy.log" && break
    sleep 0.1
done
if grep -q "gateways/gateway-$other .* \"GET /ws" "$tmp/haproxy.log"; then
    pass "haproxy sent the reconnection to gateway-$other"
else
    fail "haproxy sent the reconnection to gateway-$other"
fi
[ "$LJ_FAILED" = 0 ] || show_logs
summary
