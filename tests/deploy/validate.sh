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
    local f=deploy/compose.yaml sf=deploy/compose.secure.yaml
    # The secured file reads the files deploy/secrets.sh writes.
    deploy/secrets.sh --out "$tmp/compose-secrets" > /dev/null 2>&1 || fail "deploy/secrets.sh --out DIR"
    if command -v docker-compose >/dev/null; then
        check "docker-compose config $f" docker-compose -f "$f" config -q
        sed -e 's/^    network_mode: host/    network_mod: host/' -e "s|context: \.\.$|context: $LJ_ROOT|" "$f" > "$tmp/compose-bad.yaml"
        check_fails "docker-compose config rejects a misspelt key" docker-compose -f "$tmp/compose-bad.yaml" config -q
        check "docker-compose config $sf (with deploy/secrets.sh's files)" env SECRETS="$tmp/compose-secrets" docker-compose -f "$sf" config -q
    else
        skip "docker-compose config (docker-compose not installed)"
    fi
    if [ -n "${NODE_PATH:-}" ]; then
        check "compose structure" node "$LJ_TESTS_DIR/compose-check.js" "$f"
        sed 's|:/var/run/docker.sock:ro$|:/var/run/docker.sock|' "$f" > "$tmp/compose.yaml"
        check_fails "compose check rejects a writable socket mount" node "$LJ_TESTS_DIR/compose-check.js" "$tmp/compose.yaml"
        check "compose structure of $sf (secrets mounted, tls://, NKeys, gateway TLS)" node "$LJ_TESTS_DIR/compose-check.js" "$sf"
        sed 's|LOGJET_NATS_NKEY: /run/secrets/gateway.nk|LOGJET_NATS_NKEY: /run/secrets/publisher.nk|' "$sf" > "$tmp/compose.yaml"
        check_fails "compose check rejects a secret the service does not mount" node "$LJ_TESTS_DIR/compose-check.js" "$tmp/compose.yaml"
        sed 's|LOGJET_NATS_NKEY: /run/secrets/gateway.nk|LOGJET_NATS_TOKEN: s3cret|' "$sf" > "$tmp/compose.yaml"
        check_fails "compose check rejects a secret given as an environment value" node "$LJ_TESTS_DIR/compose-check.js" "$tmp/compose.yaml"
        sed 's|tls://localhost|nats://localhost|' "$sf" > "$tmp/compose.yaml"
        check_fails "compose check rejects the secured file on plain nats://" node "$LJ_TESTS_DIR/compose-check.js" "$tmp/compose.yaml"
    fi
}

# --- secrets.sh ---------------------------------------------------------------
# Its NKeys checked against nats.js's nkeys (an independent implementation): each
# seed's public key is the one nats.conf names; its config passes nats-server -t;
# its certificates chain to its CA with the names the recipes connect to.
secrets_script() {
    local d=$tmp/compose-secrets u pub
    [ -e "$d/nats.conf" ] || { fail "deploy/secrets.sh wrote nothing to check"; return; }
    if [ -n "${NODE_PATH:-}" ] && node -e 'require("nats")' 2>/dev/null; then
        for u in publisher gateway reader; do
            pub=$(node -e '
                const { nkeys } = require("nats");
                const seed = require("fs").readFileSync(process.argv[1], "utf8").trim();
                process.stdout.write(nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey());
            ' "$d/$u.nk" 2>&1) || pub="(nats.js refused the seed: $pub)"
            if grep -q "nkey: $pub\$" "$d/nats.conf"; then
                pass "secrets.sh: $u.nk is a valid NKey user seed whose public key nats.conf names ($pub)"
            else
                fail "secrets.sh: $u.nk is a valid NKey user seed whose public key nats.conf names ($pub)"
            fi
        done
    else
        skip "secrets.sh NKeys against nats.js (npm package nats unavailable)"
    fi
    check "secrets.sh: nats-server -t on its nats.conf" env NATS_TLS_CERT="$d/nats-server.pem" \
        NATS_TLS_KEY="$d/nats-server-key.pem" NATS_TLS_CA="$d/ca.pem" nats-server -t -c "$d/nats.conf"
    check "secrets.sh: nats.conf has NKey users and no password" bash -c "[ \"\$(grep -c '^ *nkey: U' '$d/nats.conf')\" = 3 ] && ! grep -q password '$d/nats.conf'"
    check "secrets.sh: nats-server's certificate is for localhost and nats.logjet.svc.cluster.local" \
        bash -c "openssl verify -CAfile '$d/ca.pem' -verify_hostname localhost '$d/nats-server.pem' &&
                 openssl verify -CAfile '$d/ca.pem' -verify_hostname nats.logjet.svc.cluster.local '$d/nats-server.pem' &&
                 openssl verify -CAfile '$d/ca.pem' -verify_hostname nats-1.nats-headless.logjet.svc.cluster.local '$d/nats-server.pem'"
    check "secrets.sh: client and gateway certificates chain to its CA" \
        openssl verify -CAfile "$d/ca.pem" "$d/publisher.pem" "$d/gateway.pem" "$d/reader.pem" "$d/gateway-tls.pem"
    check_fails "secrets.sh: the gateway's certificate is not valid for another name" \
        openssl verify -CAfile "$d/ca.pem" -verify_hostname elsewhere.invalid "$d/gateway-tls.pem"
    check "secrets.sh: the publisher's subjects are its host's (subject-token escaped)" bash -c "
        deploy/secrets.sh --out '$tmp/secrets-host' --host-id 'web.1' >/dev/null &&
        grep -qF '\"logs.web=2E1.>\"' '$tmp/secrets-host/nats.conf' && grep -qx 'LOGJET_HOST_ID=web.1' '$tmp/secrets-host/publisher.env'"
    check_fails "secrets.sh refuses to replace existing secrets without --force" deploy/secrets.sh --out "$d"
    if [ "$(id -u)" = 0 ]; then
        check "secrets.sh: each daemon's files belong to its image's user, mode 0400" bash -c "
            [ \"\$(stat -c %u:%a '$d/gateway.nk' '$d/nats-server-key.pem' '$d/publisher.nk' | tr '\n' ' ')\" = '10001:400 10002:400 0:400 ' ]"
    fi
}

# --- Kubernetes -------------------------------------------------------------
# workload_names FILE...: the Deployments, DaemonSets, StatefulSets and Services.
workload_names() {
    grep -h -A2 -E '^kind: (Deployment|DaemonSet|StatefulSet|Service)$' "$@" | sed -n 's/^  name: //p' | sort
}
same_workloads() {
    [ "$(workload_names deploy/kubernetes/*.yaml)" = "$(workload_names deploy/kubernetes/secure/*.yaml)" ]
}

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

    # The secured manifests, with the Secrets deploy/secrets.sh --kubernetes writes:
    # every file a daemon is pointed at must be a key of its Secret.
    local ks=$tmp/k8s-secrets
    if ! deploy/secrets.sh --kubernetes --out "$ks" > "$tmp/secrets.log" 2>&1; then
        fail "deploy/secrets.sh --kubernetes"
        sed 's/^/    /' "$tmp/secrets.log"
        return
    fi
    pass "deploy/secrets.sh --kubernetes writes the Secrets of deploy/kubernetes/secure"
    check "secured Kubernetes manifests with secrets.sh's Secrets (schema, fields, references, Secret keys)" \
        node "$LJ_TESTS_DIR/k8s-validate.js" deploy/kubernetes/secure "$ks"
    check "secured Kubernetes manifests have deploy/kubernetes's workloads and Services" same_workloads
    mkdir -p "$tmp/k8s-secure"
    cp deploy/kubernetes/secure/*.yaml "$tmp/k8s-secure/"
    sed -i 's|value: /etc/logjet-tls/tls.key|value: /etc/logjet-tls/tls-key.pem|' "$tmp/k8s-secure/gateway.yaml"
    check_fails "Kubernetes check rejects a path that is no key of its Secret" node "$LJ_TESTS_DIR/k8s-validate.js" "$tmp/k8s-secure" "$ks"
    cp deploy/kubernetes/secure/gateway.yaml "$tmp/k8s-secure/"
    sed -i '/^        fsGroup: 10001$/d' "$tmp/k8s-secure/gateway.yaml"
    check_fails "Kubernetes check rejects a 0440 Secret the non-root gateway cannot read (no fsGroup)" node "$LJ_TESTS_DIR/k8s-validate.js" "$tmp/k8s-secure" "$ks"
    # The cluster config inside the Secret, as the pods would load it.
    # shellcheck disable=SC2016 # a JavaScript template literal
    node -e '
        const yaml = require("js-yaml"), fs = require("fs");
        for (const d of yaml.loadAll(fs.readFileSync(process.argv[1], "utf8")))
            if (d && d.metadata && d.metadata.name === "logjet-nats-server")
                for (const [k, v] of Object.entries(d.data)) fs.writeFileSync(`${process.argv[2]}/${k}`, Buffer.from(v, "base64"));
    ' "$ks/kubernetes.yaml" "$tmp/k8s-secure"
    check "nats-server -t on the secured cluster config (Secret logjet-nats-server)" env POD_NAME=nats-0 \
        NATS_TLS_CERT="$tmp/k8s-secure/tls.crt" NATS_TLS_KEY="$tmp/k8s-secure/tls.key" NATS_TLS_CA="$tmp/k8s-secure/ca.crt" \
        nats-server -t -c "$tmp/k8s-secure/nats.conf"
}

# --- systemd -----------------------------------------------------------------
# merge_dropin UNIT DROPIN: UNIT with DROPIN's [Service] lines added to its [Service].
merge_dropin() {
    awk -v extra="$(sed -n '/^\[Service\]$/,$p' "$2" | sed 1d | grep -v '^#')" \
        '{ print } /^\[Service\]$/ && !done { print extra; done = 1 }' "$1"
}

# credentials_only DROPIN: every LOGJET_* file variable (a path) is %d/NAME and
# NAME is loaded with LoadCredential=NAME:...; no password or token value.
credentials_only() {
    awk '
        /^LoadCredential=/ { sub(/^LoadCredential=/, ""); split($0, a, ":"); cred[a[1]] = 1; next }
        /^Environment=LOGJET_NATS_(PASSWORD|TOKEN)=/ { print "secret value: " $0; bad = 1 }
        /^Environment=LOGJET_(NATS_(CA|CERT|KEY|NKEY|CREDS)|TLS_(CERT|KEY)|[A-Z_]+_FILE)=/ {
            v = $0; sub(/^[^=]*=[^=]*=/, "", v)
            if (v !~ /^%d\//) { print "not a credential: " $0; bad = 1 } else want[substr(v, 4)] = $0
        }
        END { for (w in want) if (!(w in cred)) { print "no LoadCredential=" w ": " want[w]; bad = 1 }
              exit bad }
    ' "$1"
}

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
    # The secured drop-ins, applied to their units (their [Service] lines appended),
    # as systemd would merge them: LoadCredential= for every file named by %d/.
    local d unit
    for d in deploy/systemd/logjet-*.service.d/secure.conf; do
        unit=${d%.d/secure.conf}
        unit=${unit##*/}
        mkdir -p "$tmp/dropin"
        merge_dropin "deploy/systemd/$unit" "$d" > "$tmp/dropin/$unit"
        out=$(systemd-analyze verify --man=no "$tmp/dropin/$unit" 2>&1 | grep -v 'is not executable: No such file' || true)
        if [ -z "$out" ]; then pass "systemd-analyze verify $unit with $d"; else fail "systemd-analyze verify $unit with $d"; printf '    %s\n' "$out"; fi
        check "$d: every file variable is a credential (%d/NAME with LoadCredential=NAME:...)" credentials_only "$d"
    done
    sed 's/^LoadCredential=nats.nk:/LoadCredentials=nats.nk:/' deploy/systemd/logjet-gateway.service.d/secure.conf > "$tmp/bad-dropin.conf"
    merge_dropin deploy/systemd/logjet-gateway.service "$tmp/bad-dropin.conf" > "$tmp/dropin/logjet-gateway.service"
    out=$(systemd-analyze verify --man=no "$tmp/dropin/logjet-gateway.service" 2>&1 | grep -v 'is not executable: No such file' || true)
    if [ -n "$out" ]; then pass "systemd-analyze rejects a misspelt LoadCredential"; else fail "systemd-analyze rejects a misspelt LoadCredential"; fi
    check_fails "the credentials check rejects a file variable without LoadCredential=" credentials_only "$tmp/bad-dropin.conf"
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
        for f in deploy/*.sh deploy/docker/*.sh tests/deploy/*.sh; do
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
    for f in deploy/quickstart.sh deploy/secrets.sh deploy/docker/build-images.sh deploy/docker/healthcheck.sh \
             tests/deploy/images.sh tests/deploy/validate.sh tests/deploy/image-contents.py; do
        [ -e "$f" ] || continue
        if [ -x "$f" ]; then pass "$f is executable"; else fail "$f is executable"; fi
    done
}

node_deps || echo "note: npm packages unavailable; schema checks are skipped"
nats_configs
haproxy_config
compose_file
secrets_script
kubernetes
systemd_units
dockerfiles
shell_scripts
summary
