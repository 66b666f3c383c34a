#!/bin/bash
# Image suite: builds the logjet images from this checkout with no image
# registry and checks a log line flows through them.
#
#   1. debian:bookworm-slim: reused when the engine has it, else made from
#      Debian's mirror with `debootstrap --variant=minbase` and `docker import`
#      (--rebuild-base forces this);
#   2. logjet-nats, logjet-publisher, logjet-gateway built with
#      deploy/docker/build-images.sh (tag :test);
#   3. the three run from deploy/compose.yaml with docker-compose (or, without
#      it or with LOGJET_IMAGES_NO_COMPOSE=1, the same containers with docker
#      run), host networking, free loopback ports, the Docker socket read-only;
#   4. a busybox container prints one line, and a WebSocket client on the
#      gateway's /ws must receive it (tests/deploy/ws-expect.js).
# It checks too that the gateway image runs as non-root and that the runtime
# images carry no compiler.
#
# Needs root, a Docker engine, debootstrap (for the base), busybox-static, node
# and npm. Takes a few minutes (most of it apt-get inside the builds). Stops
# and removes every container it started, by name, also on failure.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

TAG="test"
BASE=debian:bookworm-slim
CACHE=${LOGJET_IMAGES_CACHE:-/var/tmp/logjet-images}
MIRROR=${LOGJET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
REBUILD_BASE=0
KEEP=0
for a in "$@"; do
    case $a in
        --rebuild-base) REBUILD_BASE=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--rebuild-base] [--keep]" >&2; exit 2 ;;
    esac
done

RUN_ID=lj-images-$$
# With host networking the containers have the host's name: the default host id.
HOST_ID=$(hostname)
CONTAINERS=()
COMPOSE=0
tmp=$(mktemp -d)

cleanup() {
    local c
    if [ "$KEEP" = 0 ]; then
        for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
        if [ "$COMPOSE" = 1 ]; then
            docker-compose -p "$RUN_ID" -f deploy/compose.yaml down -v --remove-orphans >/dev/null 2>&1 || true
        fi
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

die() { fail "$*"; summary; exit 1; }

# show_logs: the containers' logs, for a failure.
show_logs() {
    local c
    compose_logs
    for c in "${CONTAINERS[@]}"; do
        echo "--- docker logs $c"
        docker logs --tail 30 "$c" 2>&1 | sed 's/^/    /'
    done
}

# run_container NAME ARGS...: docker run -d, remembered for clean-up.
run_container() {
    local name=$1
    shift
    CONTAINERS+=("$name")
    docker run -d --name "$name" --label io.logjet.test=images "$@" >/dev/null
}

base_image() {
    if [ "$REBUILD_BASE" = 0 ] && docker image inspect "$BASE" >/dev/null 2>&1; then
        pass "base image $BASE present (reused; --rebuild-base makes it anew)"
        return
    fi
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    echo "images: debootstrap bookworm from $MIRROR (log $CACHE/debootstrap.log)"
    mkdir -p "$CACHE"
    rm -rf "$CACHE/rootfs"
    debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 ||
        die "debootstrap failed (see $CACHE/debootstrap.log)"
    # Slim like the official image: no package lists, caches or docs.
    rm -rf "$CACHE"/rootfs/var/lib/apt/lists/* "$CACHE"/rootfs/var/cache/apt/*.bin \
        "$CACHE"/rootfs/usr/share/doc/* "$CACHE"/rootfs/usr/share/man/*
    tar -C "$CACHE/rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$BASE" >/dev/null || die "docker import of the base failed"
    rm -rf "$CACHE/rootfs"
    pass "base image $BASE made with debootstrap and docker import"
}

build_images() {
    local log="$CACHE/build-images.log"
    mkdir -p "$CACHE"
    echo "images: building logjet-{nats,publisher,gateway}:$TAG (log $log)"
    if deploy/docker/build-images.sh --tag "$TAG" --base "$BASE" > "$log" 2>&1; then
        pass "built logjet-nats, logjet-publisher, logjet-gateway:$TAG"
    else
        tail -n 30 "$log" | sed 's/^/    /'
        die "image build failed (see $log)"
    fi
    local img
    for img in nats publisher gateway; do
        echo "    logjet-$img:$TAG $(docker image inspect -f '{{.Size}}' "logjet-$img:$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
    done
}

check_images() {
    local user
    user=$(docker image inspect -f '{{.Config.User}}' "logjet-gateway:$TAG")
    case $user in ''|0|0:*|root|root:*) fail "gateway image runs as root (User=$user)" ;; *) pass "gateway image runs as user $user" ;; esac
    for img in publisher gateway; do
        if docker run --rm --network none --entrypoint /bin/sh "logjet-$img:$TAG" -c 'command -v gcc || command -v meson || ls /usr/include/nats.h' >/dev/null 2>&1; then
            fail "logjet-$img:$TAG holds build tools or headers"
        else
            pass "logjet-$img:$TAG holds no compiler, meson or headers"
        fi
        check "logjet-$img --version runs in the image" docker run --rm --network none "logjet-$img:$TAG" --version
    done
}

# start_stack: nats, publisher and gateway on free loopback ports: with
# docker-compose and deploy/compose.yaml when it is installed, else the same
# containers with docker run.
start_stack() {
    NATS_PORT=$(free_port)
    NATS_MONITOR_PORT=$(free_port)
    PUBLISHER_PORT=$(free_port)
    GATEWAY_PORT=$(free_port)
    export NATS_PORT NATS_MONITOR_PORT PUBLISHER_PORT GATEWAY_PORT TAG
    if command -v docker-compose >/dev/null && [ "${LOGJET_IMAGES_NO_COMPOSE:-0}" = 0 ]; then
        echo "images: docker-compose -p $RUN_ID -f deploy/compose.yaml up -d --no-build"
        COMPOSE=1
        if ! docker-compose -p "$RUN_ID" -f deploy/compose.yaml up -d --no-build > "$tmp/compose.log" 2>&1; then
            sed 's/^/    /' "$tmp/compose.log"
            compose_logs
            die "docker-compose up of deploy/compose.yaml"
        fi
        pass "docker-compose up of deploy/compose.yaml (nats healthy first, then the daemons)"
    else
        start_stack_run
    fi
    wait_http "http://127.0.0.1:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" 30 || { show_logs; die "nats healthy"; }
    pass "nats healthy on 127.0.0.1:$NATS_PORT"
    wait_http "http://127.0.0.1:$PUBLISHER_PORT/healthz" 60 || { show_logs; die "publisher healthy"; }
    pass "publisher healthy on 127.0.0.1:$PUBLISHER_PORT"
    wait_http "http://127.0.0.1:$GATEWAY_PORT/healthz" 60 || { show_logs; die "gateway healthy"; }
    pass "gateway healthy on 127.0.0.1:$GATEWAY_PORT"
    check "gateway serves the UI at /" curl -fsS -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/"
}

start_stack_run() {
    run_container "$RUN_ID-nats" --network host --tmpfs /var/lib/nats:mode=1777 \
        "logjet-nats:$TAG" -c /etc/nats/nats-server.conf -p "$NATS_PORT" -m "$NATS_MONITOR_PORT"
    run_container "$RUN_ID-publisher" --network host \
        -v /var/run/docker.sock:/var/run/docker.sock:ro \
        -e "LOGJET_NATS_URL=nats://127.0.0.1:$NATS_PORT" -e "LOGJET_HTTP=127.0.0.1:$PUBLISHER_PORT" \
        "logjet-publisher:$TAG"
    run_container "$RUN_ID-gateway" --network host \
        -e "LOGJET_NATS_URL=nats://127.0.0.1:$NATS_PORT" -e "LOGJET_LISTEN=127.0.0.1:$GATEWAY_PORT" \
        "logjet-gateway:$TAG"
    pass "nats, publisher and gateway containers started with docker run"
}

compose_logs() {
    [ "$COMPOSE" = 1 ] || return 0
    echo "--- docker-compose logs"
    docker-compose -p "$RUN_ID" -f deploy/compose.yaml logs --no-color --tail 30 2>&1 | sed 's/^/    /'
}

line_flows() {
    local name="$RUN_ID-echo" text
    text="images suite line $RUN_ID $(date +%s%N)"
    busybox_image "$TAG" || die "busybox image"
    run_container "$name" --network none --log-driver json-file "logjet-test-busybox:$TAG" \
        sh -c "echo '$text'; exec sleep 600"
    if node "$LJ_TESTS_DIR/ws-expect.js" "ws://127.0.0.1:$GATEWAY_PORT/ws" "$HOST_ID/$name" "$text" 60; then
        pass "a line printed by a container reached a WebSocket client"
    else
        show_logs
        fail "a line printed by a container reached a WebSocket client"
    fi
}

[ "$(id -u)" = 0 ] || die "run as root (it runs debootstrap and docker)"
docker version >/dev/null 2>&1 || die "no Docker engine answers (start dockerd)"
node_deps || die "node and npm packages (tests/deploy/package.json) are needed for the WebSocket client"
base_image
build_images
check_images
start_stack
line_flows
if summary; then
    echo "images.sh: passed on $(date -u +%Y-%m-%d) ($(uname -sm), Docker $(docker version -f '{{.Server.Version}}'))"
else
    exit 1
fi
