#!/bin/bash
# Image suite: builds the logjet images from this checkout with no image
# registry and no base image, and checks a log line flows through them.
#
#   1. logjet-nats, logjet-publisher, logjet-gateway (tag :test-PID) built with
#      deploy/docker/build-images.sh from the daemons in LOGJET_BUILD_DIR (the
#      binaries the other suites test) and this host's Debian packages; sizes
#      and times printed; the root file systems assembled a second time must
#      be byte-identical;
#   2. each image's file system, as `docker export` gives it, checked against
#      its manifest and this host's dpkg md5sums (tests/deploy/image-contents.py,
#      shown a tampered copy too): only Debian's files and logjet's own, no
#      compiler, build tool, header, package manager or shell; every program
#      starts in its image (--version); the gateway and nats are not root;
#   3. the three run from deploy/compose.yaml with docker-compose (or, with
#      LOGJET_IMAGES_NO_COMPOSE=1, the same containers with docker run), host
#      networking, free loopback ports, the engine's socket read-only; each must
#      become healthy by its busybox health check, as Docker reports it;
#   4. a busybox container prints one line, and a WebSocket client on the
#      gateway's /ws must receive it (tests/deploy/ws-expect.js);
#   5. a second gateway given nats://localhost:PORT connects (glibc resolves
#      through /etc/hosts in an image that has no libnss files);
#   6. the secured stack, deploy/compose.secure.yaml with secrets made by
#      deploy/secrets.sh (or the same containers with docker run): nats with TLS
#      and client certificates and the NKey users of secure.conf, the daemons over
#      tls:// with their own seeds and certificates, the gateway on HTTPS. All three
#      healthy (the gateway's check over https), a container's line reaches a WSS
#      client, nats logs no permission violation, and no seed or private key
#      appears in any of the three containers' docker logs (the grep is shown a
#      log holding a seed, which it must flag); then, with the stack's own
#      secrets, the reader reads the registry but cannot delete the stream, the
#      gateway's user cannot publish a line, the publisher's cannot publish
#      another host's, and a client without certificate or NKey is refused.
#
# Needs root, a Docker engine (DOCKER_HOST; tests/run.sh points it at its own),
# the build packages, busybox-static, nats-server, docker-compose, python3, node
# and npm: tests/run.sh installs them. About a minute. Stops and removes every
# container it started, by name, also on failure.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

# A tag of this run's own, so that runs sharing an engine never run each other's
# images; the images are removed at the end (unless --keep).
TAG="test-$$"
BUILD=${LOGJET_BUILD_DIR:-$LJ_ROOT/build}
KEEP=0
for a in "$@"; do
    case $a in
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
    esac
done

RUN_ID=lj-images-$$
# With host networking the containers have the host's name: the default host id.
HOST_ID=$(hostname)
CONTAINERS=()
COMPOSE=0
SECURE_COMPOSE=0
tmp=$(mktemp -d)

cleanup() {
    local c
    if [ "$KEEP" = 0 ]; then
        for c in "${CONTAINERS[@]}"; do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
        if [ "$COMPOSE" = 1 ]; then
            docker-compose -p "$RUN_ID" -f deploy/compose.yaml down -v --remove-orphans >/dev/null 2>&1 || true
        fi
        if [ "$SECURE_COMPOSE" = 1 ]; then
            SECRETS=$tmp/secrets docker-compose -p "$RUN_ID-secure" -f deploy/compose.secure.yaml down -v --remove-orphans >/dev/null 2>&1 || true
        fi
        for c in logjet-nats logjet-publisher logjet-gateway logjet-test-busybox; do
            docker image rm "$c:$TAG" >/dev/null 2>&1 || true
        done
    fi
    rm -rf "$tmp"
    rm -f "$LJ_PORTS_FILE"
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

build_images() {
    local start=$SECONDS img size gz
    echo "images: deploy/docker/build-images.sh --tag $TAG --build-dir $BUILD"
    if deploy/docker/build-images.sh --tag "$TAG" --build-dir "$BUILD" --out "$tmp/rootfs" > "$tmp/build.log" 2>&1; then
        sed 's/^/    /' "$tmp/build.log"
        pass "built logjet-nats, logjet-publisher, logjet-gateway:$TAG in $((SECONDS - start)) s"
    else
        sed 's/^/    /' "$tmp/build.log" | tail -n 30
        die "image build failed"
    fi
    for img in nats publisher gateway; do
        size=$(docker image inspect -f '{{.Size}}' "logjet-$img:$TAG")
        gz=$(docker save "logjet-$img:$TAG" | gzip -c | wc -c)
        echo "    logjet-$img:$TAG $(awk -v s="$size" -v g="$gz" 'BEGIN { printf "%.1f MB, %.1f MB gzip-compressed", s / 1e6, g / 1e6 }')"
        # A generous bound against a regression to a distribution base (those
        # images were 233-239 MB); not a size target.
        if [ "$size" -lt 60000000 ]; then
            pass "logjet-$img:$TAG is under 60 MB"
        else
            fail "logjet-$img:$TAG is under 60 MB (it is $size bytes)"
        fi
    done
    deploy/docker/build-images.sh --no-images --build-dir "$BUILD" --out "$tmp/again" > "$tmp/again.log" 2>&1 ||
        { cat "$tmp/again.log"; die "second assembly of the root file systems"; }
    if cmp -s "$tmp/rootfs/nats.tar" "$tmp/again/nats.tar" && cmp -s "$tmp/rootfs/publisher.tar" "$tmp/again/publisher.tar" &&
        cmp -s "$tmp/rootfs/gateway.tar" "$tmp/again/gateway.tar"; then
        pass "the root file systems assembled twice are byte-identical"
    else
        fail "the root file systems assembled twice are byte-identical"
    fi
}

# export_image IMG DIR: the image's file system, as a container of it exports it.
export_image() {
    local id
    id=$(docker create --network none "$1") || return 1
    mkdir -p "$2"
    docker export "$id" | tar -x -C "$2"
    docker rm "$id" >/dev/null
}

check_images() {
    local user img
    for img in gateway nats; do
        user=$(docker image inspect -f '{{.Config.User}}' "logjet-$img:$TAG")
        case $user in ''|0|0:*|root|root:*) fail "$img image runs as root (User=$user)" ;; *) pass "$img image runs as user $user" ;; esac
    done
    for img in nats publisher gateway; do
        if ! export_image "logjet-$img:$TAG" "$tmp/fs-$img"; then
            fail "docker export of logjet-$img:$TAG"
            continue
        fi
        check "logjet-$img:$TAG holds only its manifest's files: Debian's as packaged and logjet's own; no compiler, headers, package manager or shell" \
            python3 "$LJ_TESTS_DIR/image-contents.py" "$tmp/fs-$img"
    done
    check "logjet-publisher --version runs in the image" docker run --rm --network none "logjet-publisher:$TAG" --version
    check "logjet-gateway --version runs in the image" docker run --rm --network none "logjet-gateway:$TAG" --version
    check "nats-server --version runs in the image" docker run --rm --network none "logjet-nats:$TAG" --version
    # The content check must see a changed library byte and a stray compiler.
    cp -a "$tmp/fs-gateway" "$tmp/fs-bad"
    printf 'X' | dd of="$tmp/fs-bad/usr/lib/x86_64-linux-gnu/libc.so.6" bs=1 seek=4096 conv=notrunc 2>/dev/null
    check_fails "the content check rejects an image with a changed libc" python3 "$LJ_TESTS_DIR/image-contents.py" "$tmp/fs-bad"
    rm -rf "$tmp/fs-bad"
    cp -a "$tmp/fs-gateway" "$tmp/fs-bad"
    cp /usr/bin/gcc "$tmp/fs-bad/usr/bin/gcc" 2>/dev/null || printf 'cc' > "$tmp/fs-bad/usr/bin/gcc"
    echo "/usr/bin/gcc logjet x" >> "$tmp/fs-bad/usr/share/logjet/manifest"
    check_fails "the content check rejects an image with a compiler" python3 "$LJ_TESTS_DIR/image-contents.py" "$tmp/fs-bad"
    rm -rf "$tmp/fs-bad"
}

# start_stack: nats, publisher and gateway on free loopback ports: with
# docker-compose and deploy/compose.yaml when it is installed, else the same
# containers with docker run.
start_stack() {
    NATS_PORT=$(free_port)
    NATS_MONITOR_PORT=$(free_port)
    PUBLISHER_PORT=$(free_port)
    GATEWAY_PORT=$(free_port)
    # The publisher follows the engine this script drives: its socket goes in.
    case ${DOCKER_HOST:-} in
        '') DOCKER_SOCKET=/var/run/docker.sock ;;
        unix://*) DOCKER_SOCKET=${DOCKER_HOST#unix://} ;;
        *) die "the publisher container needs the engine's unix socket (DOCKER_HOST=$DOCKER_HOST)" ;;
    esac
    export NATS_PORT NATS_MONITOR_PORT PUBLISHER_PORT GATEWAY_PORT TAG DOCKER_SOCKET
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
    local svc
    for svc in nats publisher gateway; do
        if wait_healthy "$(container_of "$svc")" 90; then
            pass "Docker reports $svc healthy (its busybox health check)"
        else
            show_logs
            fail "Docker reports $svc healthy (its busybox health check; status $(health_of "$(container_of "$svc")"))"
        fi
    done
}

# container_of SERVICE: the id or name of the stack's container for SERVICE.
container_of() {
    if [ "$COMPOSE" = 1 ]; then
        docker-compose -p "$RUN_ID" -f deploy/compose.yaml ps -q "$1"
    else
        echo "$RUN_ID-$1"
    fi
}

health_of() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null || echo gone; }

# wait_healthy CONTAINER SECONDS: until Docker's health check says healthy.
wait_healthy() {
    local deadline=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        [ "$(health_of "$1")" = healthy ] && return 0
        sleep 1
    done
    return 1
}

# The store is the image's VOLUME /var/lib/nats: an anonymous volume that starts as
# the image's directory (owned by nats), removed with the container (rm -v). A
# --tmpfs there made nats-server 2.9.10 stop with "storage directory is not a
# directory" on Docker 20.10.
start_stack_run() {
    run_container "$RUN_ID-nats" --network host -e "NATS_MONITOR_ADDR=127.0.0.1:$NATS_MONITOR_PORT" \
        "logjet-nats:$TAG" -c /etc/nats/nats-server.conf -p "$NATS_PORT" -m "$NATS_MONITOR_PORT"
    run_container "$RUN_ID-publisher" --network host \
        -v "$DOCKER_SOCKET:/var/run/docker.sock:ro" \
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

# resolves_names: a gateway told nats://localhost:PORT must connect (its /healthz
# is 200 only with NATS connected): getaddrinfo works through nsswitch.conf and
# /etc/hosts in an image without libnss files.
resolves_names() {
    local port
    port=$(free_port)
    run_container "$RUN_ID-gateway-by-name" --network host \
        -e "LOGJET_NATS_URL=nats://localhost:$NATS_PORT" -e "LOGJET_LISTEN=127.0.0.1:$port" \
        "logjet-gateway:$TAG"
    if wait_http "http://127.0.0.1:$port/healthz" 30; then
        pass "a gateway given nats://localhost:$NATS_PORT resolves the name and connects"
    else
        docker logs --tail 20 "$RUN_ID-gateway-by-name" 2>&1 | sed 's/^/    /'
        fail "a gateway given nats://localhost:$NATS_PORT resolves the name and connects"
    fi
}

# --- the secured stack -------------------------------------------------------
SECURE_FILE=deploy/compose.secure.yaml

secure_compose() { SECRETS=$tmp/secrets docker-compose -p "$RUN_ID-secure" -f "$SECURE_FILE" "$@"; }

secure_container_of() {
    if [ "$SECURE_COMPOSE" = 1 ]; then secure_compose ps -q "$1"; else echo "$RUN_ID-secure-$1"; fi
}

secure_logs() {
    local svc
    for svc in nats publisher gateway; do
        echo "--- docker logs (secured) $svc"
        docker logs --tail 30 "$(secure_container_of "$svc")" 2>&1 | sed 's/^/    /'
    done
}

# start_secure_run: the containers of compose.secure.yaml, with docker run.
start_secure_run() {
    local s=$tmp/secrets f
    local ro=()
    for f in "$s"/*.pem "$s"/*.nk "$s/nats.conf"; do ro+=(-v "$f:/run/secrets/${f##*/}:ro"); done
    run_container "$RUN_ID-secure-nats" --network host "${ro[@]}" -e "NATS_MONITOR_ADDR=127.0.0.1:$NATS_MONITOR_PORT" \
        -e NATS_TLS_CERT=/run/secrets/nats-server.pem -e NATS_TLS_KEY=/run/secrets/nats-server-key.pem \
        -e NATS_TLS_CA=/run/secrets/ca.pem \
        "logjet-nats:$TAG" -c /run/secrets/nats.conf -p "$NATS_PORT" -m "$NATS_MONITOR_PORT"
    run_container "$RUN_ID-secure-publisher" --network host "${ro[@]}" --env-file "$s/publisher.env" \
        -v "$DOCKER_SOCKET:/var/run/docker.sock:ro" \
        -e "LOGJET_NATS_URL=tls://localhost:$NATS_PORT" -e LOGJET_NATS_CA=/run/secrets/ca.pem \
        -e LOGJET_NATS_CERT=/run/secrets/publisher.pem -e LOGJET_NATS_KEY=/run/secrets/publisher-key.pem \
        -e LOGJET_NATS_NKEY=/run/secrets/publisher.nk -e "LOGJET_HTTP=127.0.0.1:$PUBLISHER_PORT" \
        "logjet-publisher:$TAG"
    run_container "$RUN_ID-secure-gateway" --network host "${ro[@]}" \
        -e "LOGJET_NATS_URL=tls://localhost:$NATS_PORT" -e LOGJET_NATS_CA=/run/secrets/ca.pem \
        -e LOGJET_NATS_CERT=/run/secrets/gateway.pem -e LOGJET_NATS_KEY=/run/secrets/gateway-key.pem \
        -e LOGJET_NATS_NKEY=/run/secrets/gateway.nk -e "LOGJET_LISTEN=127.0.0.1:$GATEWAY_PORT" \
        -e LOGJET_TLS_CERT=/run/secrets/gateway-tls.pem -e LOGJET_TLS_KEY=/run/secrets/gateway-tls-key.pem \
        "logjet-gateway:$TAG"
    pass "secured nats, publisher and gateway containers started with docker run"
}

# subject_token S: S with every byte outside [A-Za-z0-9_-] as =HH (common/subject.c).
subject_token() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in [A-Za-z0-9_-]) out+=$c ;; *) out+=$(printf '=%02X' "'$c") ;; esac
    done
    printf '%s' "$out"
}

# secrets_in FILE: prints each secret of $tmp/secrets (NKey seeds, private keys'
# base64 lines) that FILE holds; returns non-zero when it holds one.
secrets_in() {
    local f line found=0
    for f in "$tmp"/secrets/*.nk "$tmp"/secrets/*-key.pem; do
        while IFS= read -r line; do
            case $line in ''|-----*) continue ;; esac
            if grep -qF -- "$line" "$1"; then echo "    ${f##*/} appears in the log"; found=1; fi
        done < "$f"
    done
    return $found
}

secure_stack() {
    local start=$SECONDS svc log name text c
    NATS_PORT=$(free_port)
    NATS_MONITOR_PORT=$(free_port)
    PUBLISHER_PORT=$(free_port)
    GATEWAY_PORT=$(free_port)
    export NATS_PORT NATS_MONITOR_PORT PUBLISHER_PORT GATEWAY_PORT
    if ! deploy/secrets.sh --out "$tmp/secrets" --host-id "$HOST_ID" > "$tmp/secrets.log" 2>&1; then
        sed 's/^/    /' "$tmp/secrets.log"
        fail "deploy/secrets.sh makes the secured stack's secrets"
        return
    fi
    pass "deploy/secrets.sh made a CA, certificates, NKeys and nats.conf ($(sed 's/^secrets.sh: //' "$tmp/secrets.log" | cut -c1-60)...)"
    if [ "$COMPOSE" = 1 ]; then
        echo "images: docker-compose -p $RUN_ID-secure -f $SECURE_FILE up -d --no-build"
        SECURE_COMPOSE=1
        if ! secure_compose up -d --no-build > "$tmp/secure-compose.log" 2>&1; then
            sed 's/^/    /' "$tmp/secure-compose.log"
            fail "docker-compose up of $SECURE_FILE"
            return
        fi
        pass "docker-compose up of $SECURE_FILE"
    else
        start_secure_run
    fi
    wait_http "http://127.0.0.1:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" 30 || { secure_logs; fail "secured nats healthy"; return; }
    wait_http "http://127.0.0.1:$PUBLISHER_PORT/healthz" 60 || { secure_logs; fail "secured publisher healthy (connected over tls:// with its NKey)"; return; }
    pass "secured publisher healthy: connected over tls:// with its client certificate and NKey"
    local deadline=$((SECONDS + 60))
    until curl -fsS --cacert "$tmp/secrets/ca.pem" -o /dev/null "https://localhost:$GATEWAY_PORT/healthz" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { secure_logs; fail "secured gateway healthy on https://localhost:$GATEWAY_PORT"; return; }
        sleep 1
    done
    pass "secured gateway healthy on https://localhost:$GATEWAY_PORT (certificate of the secrets' CA)"
    check "the secured gateway does not answer plain HTTP" bash -c "! curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:$GATEWAY_PORT/healthz"
    for svc in nats publisher gateway; do
        if wait_healthy "$(secure_container_of "$svc")" 90; then
            pass "Docker reports secured $svc healthy (its busybox health check)"
        else
            fail "Docker reports secured $svc healthy (status $(health_of "$(secure_container_of "$svc")"))"
        fi
    done
    name="$RUN_ID-secure-echo"
    text="secured line $RUN_ID $(date +%s%N)"
    run_container "$name" --network none --log-driver json-file "logjet-test-busybox:$TAG" \
        sh -c "echo '$text'; exec sleep 600"
    if NODE_EXTRA_CA_CERTS=$tmp/secrets/ca.pem node "$LJ_TESTS_DIR/ws-expect.js" "wss://localhost:$GATEWAY_PORT/ws" "$HOST_ID/$name" "$text" 60; then
        pass "a container's line reached a WSS client through TLS NATS with NKey users"
    else
        secure_logs
        fail "a container's line reached a WSS client through TLS NATS with NKey users"
    fi
    for svc in nats publisher gateway; do
        c=$(secure_container_of "$svc")
        log=$tmp/secure-$svc.log
        docker logs "$c" > "$log" 2>&1
        if secrets_in "$log"; then
            pass "no seed or private key in the docker logs of secured $svc ($(wc -l < "$log") lines)"
        else
            fail "no seed or private key in the docker logs of secured $svc"
        fi
    done
    if grep -qi 'violation' "$tmp/secure-nats.log"; then
        grep -i violation "$tmp/secure-nats.log" | head -5 | sed 's/^/    /'
        fail "nats logged no permission violation of the daemons' users"
    else
        pass "nats logged no permission violation of the daemons' users"
    fi
    # After the violation check: these probes make nats-server log violations.
    check "least privilege of the secured NATS with the stack's own secrets (tests/deploy/nats-perms.js)" \
        node "$LJ_TESTS_DIR/nats-perms.js" "localhost:$NATS_PORT" "$tmp/secrets" "$(subject_token "$HOST_ID")" "$(subject_token "$name")"
    { echo "a log line"; cat "$tmp/secrets/gateway.nk"; } > "$tmp/leak.log"
    check_fails "the secret grep flags a log holding a seed" secrets_in "$tmp/leak.log"
    echo "    secured stack: $((SECONDS - start)) s"
}

[ "$(id -u)" = 0 ] || die "run as root (Docker, and image file systems unpacked with their owners)"
docker version >/dev/null 2>&1 || die "no Docker engine answers (start dockerd)"
node_deps || die "node and npm packages (tests/deploy/package.json) are needed for the WebSocket client"
build_images
check_images
start_stack
line_flows
resolves_names
secure_stack
if summary; then
    echo "images.sh: passed on $(date -u +%Y-%m-%d) ($(uname -sm), Docker $(docker version -f '{{.Server.Version}}'))"
else
    exit 1
fi
