#!/bin/bash
# Validates the deployment files without a network, a cluster or any image:
#   - every nats-server config (deploy/nats and the Kubernetes ConfigMap) with
#     `nats-server -t -c`, and the haproxy config with `haproxy -c`;
#   - deploy/compose.yaml with docker-compose config (when installed) and a
#     structural check of what logjet needs from it;
#   - deploy/kubernetes/*.yaml against the Kubernetes schemas and each other
#     (tests/deploy/k8s-validate.js);
#   - the systemd units with systemd-analyze verify;
#   - the Dockerfiles add only rootfs.tar to an empty base, have a busybox
#     health check, and the gateway and nats are not root;
#   - the shell scripts with shellcheck and the demo scripts with busybox sh -n.
# Each validator is also shown a broken copy, which it must reject.
# Exit status 0 when everything passed; prints one line per check.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- NATS ----------------------------------------------------------------
nats_configs() {
    local f
    # secure.conf takes its passwords and certificate paths from the environment, and
    # nats-server -t loads the certificates: give it a throwaway pair.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=localhost -keyout "$tmp/tls-key.pem" -out "$tmp/tls.pem" 2>/dev/null
    local secure_env=(LOGJET_PUBLISHER_PASSWORD=x LOGJET_GATEWAY_PASSWORD=x LOGJET_READER_PASSWORD=x
        NATS_TLS_CERT="$tmp/tls.pem" NATS_TLS_KEY="$tmp/tls-key.pem" NATS_TLS_CA="$tmp/tls.pem")
    for f in deploy/nats/*.conf deploy/nats/cluster/*.conf; do
        check "nats-server -t -c $f" env "${secure_env[@]}" nats-server -t -c "$f"
    done
    printf 'jetstream {\n  store_dirr: /x\n}\n' > "$tmp/bad.conf"
    check_fails "nats-server -t rejects a misspelt JetStream option" nats-server -t -c "$tmp/bad.conf"
    if [ "$(grep -h '^server_name:' deploy/nats/cluster/*.conf | sort -u | wc -l)" -eq 3 ]; then
        pass "cluster configs have three distinct server_name"
    else
        fail "cluster configs have three distinct server_name"
    fi
}

# --- haproxy -----------------------------------------------------------------
haproxy_config() {
    if command -v haproxy >/dev/null; then
        check "haproxy -c -f deploy/haproxy/haproxy.cfg" haproxy -c -f deploy/haproxy/haproxy.cfg
        sed 's/^    balance leastconn/    balance leastconnn/' deploy/haproxy/haproxy.cfg > "$tmp/haproxy.cfg"
        check_fails "haproxy -c rejects a misspelt algorithm" haproxy -c -f "$tmp/haproxy.cfg"
    else
        skip "haproxy config (haproxy not installed)"
    fi
}

# --- compose ---------------------------------------------------------------
compose_file() {
    local f=deploy/compose.yaml
    if command -v docker-compose >/dev/null; then
        check "docker-compose config $f" docker-compose -f "$f" config -q
        sed -e 's/^    network_mode: host/    network_mod: host/' -e "s|context: \.\.$|context: $LJ_ROOT|" "$f" > "$tmp/compose-bad.yaml"
        check_fails "docker-compose config rejects a misspelt key" docker-compose -f "$tmp/compose-bad.yaml" config -q
    else
        skip "docker-compose config (docker-compose not installed)"
    fi
    if [ -n "${NODE_PATH:-}" ]; then
        check "compose structure" node "$LJ_TESTS_DIR/compose-check.js" "$f"
        sed 's|:/var/run/docker.sock:ro$|:/var/run/docker.sock|' "$f" > "$tmp/compose.yaml"
        check_fails "compose check rejects a writable socket mount" node "$LJ_TESTS_DIR/compose-check.js" "$tmp/compose.yaml"
    fi
}

# --- Kubernetes -------------------------------------------------------------
kubernetes() {
    if [ -z "${NODE_PATH:-}" ]; then
        skip "Kubernetes manifests (node or npm packages unavailable)"
        return
    fi
    check "Kubernetes manifests (schema, fields, references)" node "$LJ_TESTS_DIR/k8s-validate.js" deploy/kubernetes
    mkdir -p "$tmp/k8s"
    cp deploy/kubernetes/*.yaml "$tmp/k8s/"
    sed -i 's/^          image: /          imagee: /' "$tmp/k8s/gateway.yaml"
    check_fails "Kubernetes check rejects a misspelt field" node "$LJ_TESTS_DIR/k8s-validate.js" "$tmp/k8s"
    cp deploy/kubernetes/gateway.yaml "$tmp/k8s/"
    sed -i 's/secretName: logjet-gateway-tokens/secretName: logjet-tokens/' "$tmp/k8s/gateway.yaml"
    check_fails "Kubernetes check rejects a dangling Secret reference" node "$LJ_TESTS_DIR/k8s-validate.js" "$tmp/k8s"
    cp deploy/kubernetes/gateway.yaml "$tmp/k8s/"
    sed -i 's/runAsUser: 10002/runAsUser: 1000/' "$tmp/k8s/nats.yaml"
    check_fails "Kubernetes check rejects a uid the nats image does not run as" node "$LJ_TESTS_DIR/k8s-validate.js" "$tmp/k8s"
    cp deploy/kubernetes/nats.yaml "$tmp/k8s/"
    # The NATS config inside the ConfigMap is a nats-server config too.
    node -e '
        const yaml = require("js-yaml"), fs = require("fs");
        for (const d of yaml.loadAll(fs.readFileSync("deploy/kubernetes/nats.yaml", "utf8")))
            if (d && d.kind === "ConfigMap") process.stdout.write(d.data["nats-server.conf"]);
    ' > "$tmp/k8s-nats.conf"
    check "nats-server -t on the Kubernetes ConfigMap's config" env POD_NAME=nats-0 nats-server -t -c "$tmp/k8s-nats.conf"
}

# --- systemd -----------------------------------------------------------------
systemd_units() {
    local u out
    if ! command -v systemd-analyze >/dev/null; then
        skip "systemd units (systemd-analyze not installed)"
        return
    fi
    for u in deploy/systemd/*.service; do
        # The binaries are not installed here; every other finding is an error.
        out=$(systemd-analyze verify --man=no "$u" 2>&1 | grep -v 'is not executable: No such file' || true)
        if [ -z "$out" ]; then pass "systemd-analyze verify $u"; else fail "systemd-analyze verify $u"; printf '    %s\n' "$out"; fi
    done
    sed 's/^Restart=always/Restartt=always/' deploy/systemd/logjet-gateway.service > "$tmp/logjet-gateway.service"
    out=$(systemd-analyze verify --man=no "$tmp/logjet-gateway.service" 2>&1 | grep -v 'is not executable: No such file' || true)
    if [ -n "$out" ]; then pass "systemd-analyze rejects a misspelt key"; else fail "systemd-analyze rejects a misspelt key"; fi
    for u in deploy/systemd/*.env.example; do
        if grep -vE '^(#.*|[[:space:]]*|LOGJET_[A-Z0-9_]+=.*)$' "$u" >/dev/null; then
            fail "$u holds only comments and LOGJET_* assignments"
        else
            pass "$u holds only comments and LOGJET_* assignments"
        fi
    done
}

# --- Dockerfiles -------------------------------------------------------------
# Each is FROM scratch plus the rootfs.tar build-images.sh assembles: nothing
# else may come into the image, and the health check must use the busybox that
# build-images.sh puts there.
dockerfile_ok() { # FILE: prints what is wrong, returns non-zero then
    local f=$1 ok=0
    if [ "$(grep -c '^FROM ' "$f")" != 1 ] || ! grep -qx 'FROM scratch' "$f"; then echo "    $f: not FROM scratch alone"; ok=1; fi
    if [ "$(grep -cE '^(ADD|COPY) ' "$f")" != 1 ] || ! grep -qx 'ADD rootfs.tar /' "$f"; then echo "    $f: adds more than rootfs.tar"; ok=1; fi
    grep -qE '^ +CMD \["/usr/bin/busybox", "sh", "/usr/lib/logjet/healthcheck"' "$f" || { echo "    $f: no busybox HEALTHCHECK"; ok=1; }
    grep -qE '^ENTRYPOINT \["/usr/s?bin/[a-z-]+"\]$' "$f" || { echo "    $f: no ENTRYPOINT"; ok=1; }
    return $ok
}
dockerfiles() {
    local f
    for f in deploy/docker/Dockerfile.*; do
        check "$f: FROM scratch + rootfs.tar, busybox health check, entry point" dockerfile_ok "$f"
    done
    sed 's|^ADD rootfs.tar /$|ADD rootfs.tar /\nCOPY . /src|' deploy/docker/Dockerfile.gateway > "$tmp/Dockerfile.bad"
    check_fails "the Dockerfile check rejects a COPY of the tree" dockerfile_ok "$tmp/Dockerfile.bad"
    if grep -qE '^USER 10001:10001$' deploy/docker/Dockerfile.gateway && grep -qE '^USER 10002:10002$' deploy/docker/Dockerfile.nats; then
        pass "gateway and nats images run as non-root users"
    else
        fail "gateway and nats images run as non-root users"
    fi
}

# --- shell -------------------------------------------------------------------
shell_scripts() {
    local f
    if command -v shellcheck >/dev/null; then
        for f in deploy/quickstart.sh deploy/docker/*.sh tests/deploy/*.sh; do
            [ -e "$f" ] && check "shellcheck $f" shellcheck -x "$f"
        done
    else
        skip "shellcheck (not installed)"
    fi
    for f in deploy/demo/*.sh; do
        [ -e "$f" ] || continue
        if command -v busybox >/dev/null; then
            check "busybox sh -n $f" busybox sh -n "$f"
        else
            check "sh -n $f" sh -n "$f"
        fi
    done
    for f in deploy/quickstart.sh deploy/docker/build-images.sh deploy/docker/healthcheck.sh \
             tests/deploy/images.sh tests/deploy/validate.sh tests/deploy/image-contents.py; do
        [ -e "$f" ] || continue
        if [ -x "$f" ]; then pass "$f is executable"; else fail "$f is executable"; fi
    done
}

node_deps || echo "note: npm packages unavailable; schema checks are skipped"
nats_configs
haproxy_config
compose_file
kubernetes
systemd_units
dockerfiles
shell_scripts
summary
