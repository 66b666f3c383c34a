#!/bin/bash
# secrets.sh: makes every secret the secured recipes need, with openssl only, into
# one directory (default deploy/secrets/, mode 0700, ignored by git):
#
#   ca.pem ca-key.pem             a private CA (10 years; keep ca-key.pem offline)
#   nats-server.pem/-key.pem      nats-server's TLS certificate (localhost, 127.0.0.1,
#                                 the Kubernetes Service names, --nats-host names)
#   publisher.pem/-key.pem        client certificates for mutual TLS
#   gateway.pem/-key.pem
#   reader.pem/-key.pem           (for another service, as the reader user)
#   gateway-tls.pem/-key.pem      the gateway's HTTPS certificate (localhost,
#                                 127.0.0.1, --gateway-host names)
#   publisher.nk gateway.nk       NKey seeds (ed25519), one per NATS user
#   reader.nk
#   nats.conf                     deploy/nats/secure.conf with the three users as
#                                 NKey users (public keys only) and the publisher's
#                                 subjects for --host-id
#   publisher.env                 LOGJET_HOST_ID for the compose file (no secret)
#   kubernetes.yaml               (with --kubernetes) the Secrets of
#                                 deploy/kubernetes/secure/, ready for kubectl apply
#
# NATS users are NKey users: the server's config holds only public keys, each daemon
# proves its identity with its seed (--nats-nkey) over TLS with its client
# certificate (--nats-cert/--nats-key), and the permissions are secure.conf's.
#
# usage: deploy/secrets.sh [--out DIR] [--host-id ID] [--kubernetes] [--force]
#                          [--nats-host NAME]... [--gateway-host NAME]...
#   --host-id ID     the publisher's --host-id (default: this host's name); its
#                    user may publish logs.<ID>.> only. With --kubernetes the default
#                    is every host (*): one DaemonSet shares one identity.
#   --kubernetes     also write kubernetes.yaml (namespace logjet) and make
#                    nats.conf a 3-node cluster config for deploy/kubernetes/secure/
#   --force          replace an existing directory's secrets (new keys: every
#                    daemon needs the new files)
#
# When run as root, each daemon's files belong to the uid its image runs as (nats
# 10002, gateway 10001, publisher root), mode 0400, so a compose bind mount is
# readable by that container only; otherwise they are 0444 inside the 0700
# directory (readable inside the containers, by nobody else on the host).
# Nothing secret is ever printed.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/deploy/secrets
HOST_ID=
K8S=0
FORCE=0
NATS_HOSTS=()
GATEWAY_HOSTS=()
while [ $# -gt 0 ]; do
    case $1 in
        --out) OUT=${2:?--out needs a directory}; shift ;;
        --host-id) HOST_ID=${2:?--host-id needs a value}; shift ;;
        --kubernetes) K8S=1 ;;
        --force) FORCE=1 ;;
        --nats-host) NATS_HOSTS+=("${2:?--nats-host needs a name}"); shift ;;
        --gateway-host) GATEWAY_HOSTS+=("${2:?--gateway-host needs a name}"); shift ;;
        -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
        *) echo "secrets.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
command -v openssl >/dev/null || { echo "secrets.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }
if [ -e "$OUT/ca.pem" ] && [ "$FORCE" = 0 ]; then
    echo "secrets.sh: $OUT already holds secrets; --force makes new ones" >&2
    exit 1
fi
mkdir -p "$OUT"
chmod 0700 "$OUT"
# Read-only files of the last run (0400/0444) are replaced, not written over.
[ "$FORCE" = 0 ] || rm -f "$OUT"/*.pem "$OUT"/*.nk "$OUT/nats.conf" "$OUT/publisher.env" "$OUT/kubernetes.yaml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# subject_token S: S as a subject token: every byte outside [A-Za-z0-9_-] as =HH
# (the escape common/subject.c applies to host ids).
subject_token() {
    local s=$1 out='' c i LC_ALL=C
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9_-]) out+=$c ;;
            *) out+=$(printf '=%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

# crc16 HEX...: the NKey checksum (CRC-16/XMODEM) of the bytes, as 4 hex digits
# low byte first.
crc16() {
    local crc=0 b i
    for b in "$@"; do
        crc=$((crc ^ (0x$b << 8)))
        for ((i = 0; i < 8; i++)); do
            if ((crc & 0x8000)); then crc=$(((crc << 1 ^ 0x1021) & 0xffff)); else crc=$(((crc << 1) & 0xffff)); fi
        done
    done
    printf '%02x %02x' $((crc & 0xff)) $((crc >> 8))
}

# nkey_encode HEX...: base32 (no padding) of the bytes and their checksum.
nkey_encode() {
    local bytes=("$@") hex
    read -r -a sum <<< "$(crc16 "${bytes[@]}")"
    hex=$(printf '\\x%s' "${bytes[@]}" "${sum[@]}")
    # shellcheck disable=SC2059
    printf "$hex" | base32 -w0 | tr -d '='
}

# nkey_user NAME: writes NAME.nk (the user seed, "SU...") and prints the public
# key ("U..."). The ed25519 key comes from openssl; its 32-byte seed and public key
# are the last 32 bytes of their DER forms.
nkey_user() {
    local der=$tmp/$1.der seed pub
    openssl genpkey -algorithm ed25519 -outform DER -out "$der" 2>/dev/null
    read -r -a seed <<< "$(tail -c 32 "$der" | od -An -v -tx1 | tr '\n' ' ')"
    read -r -a pub <<< "$(openssl pkey -inform DER -in "$der" -pubout -outform DER | tail -c 32 | od -An -v -tx1 | tr '\n' ' ')"
    # Seed prefix: 'S' (18<<3) carrying the user type 'U' (20<<3) in its low bits.
    nkey_encode 95 00 "${seed[@]}" > "$OUT/$1.nk"
    printf '\n' >> "$OUT/$1.nk"
    rm -f "$der"
    nkey_encode a0 "${pub[@]}"
}

# cert NAME SUBJECT EXTENSIONS: NAME.pem and NAME-key.pem (P-256), signed by the CA.
cert() {
    printf '%b' "$3" > "$tmp/$1.ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
        -keyout "$OUT/$1-key.pem" -out "$tmp/$1.csr" 2>/dev/null
    openssl x509 -req -in "$tmp/$1.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca-key.pem" -CAcreateserial \
        -CAserial "$tmp/ca.srl" -days 825 -sha256 -extfile "$tmp/$1.ext" -out "$OUT/$1.pem" 2>/dev/null
}

# san DNS... : a subjectAltName line (names that look like addresses as IP:).
san() {
    local out='subjectAltName=' n sep=''
    for n in "$@"; do
        if [[ $n =~ ^[0-9.]+$|: ]]; then out+="${sep}IP:$n"; else out+="${sep}DNS:$n"; fi
        sep=,
    done
    printf '%s' "$out"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
    -subj "/CN=logjet CA" -addext 'basicConstraints=critical,CA:TRUE' \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' -keyout "$OUT/ca-key.pem" -out "$OUT/ca.pem" 2>/dev/null
nats_names=(localhost 127.0.0.1 ::1 nats nats.logjet.svc nats.logjet.svc.cluster.local
    '*.nats-headless.logjet.svc' '*.nats-headless.logjet.svc.cluster.local' "${NATS_HOSTS[@]}")
cert nats-server nats "$(san "${nats_names[@]}")\nextendedKeyUsage=serverAuth,clientAuth\n"
cert publisher logjet-publisher 'extendedKeyUsage=clientAuth\n'
cert gateway logjet-gateway 'extendedKeyUsage=clientAuth\n'
cert reader logjet-reader 'extendedKeyUsage=clientAuth\n'
cert gateway-tls logjet-gateway "$(san localhost 127.0.0.1 ::1 "${GATEWAY_HOSTS[@]}")\nextendedKeyUsage=serverAuth\n"

publisher_pub=$(nkey_user publisher)
gateway_pub=$(nkey_user gateway)
reader_pub=$(nkey_user reader)

if [ -z "$HOST_ID" ]; then
    if [ "$K8S" = 1 ]; then HOST_ID='*'; else HOST_ID=$(hostname); fi
fi
if [ "$HOST_ID" = '*' ]; then host_token='*'; else host_token=$(subject_token "$HOST_ID"); fi

# nats.conf: secure.conf's users as NKey users. The publisher's subjects name this
# host; with --kubernetes, the cluster's node names, addresses and store replace the
# single node's.
awk -v pub="$publisher_pub" -v gw="$gateway_pub" -v rd="$reader_pub" -v host="$host_token" -v k8s="$K8S" '
    BEGIN { keys["logjet-publisher-web-1"] = pub; keys["logjet-gateway"] = gw; keys["logjet-reader"] = rd
            print "# Made by deploy/secrets.sh from deploy/nats/secure.conf (whose header says what each"
            print "# user may do and why): the same permissions, NKey users (public keys only), the"
            print "# publisher limited to logs." host ".>. TLS paths come from NATS_TLS_CERT, NATS_TLS_KEY"
            print "# and NATS_TLS_CA in the environment."
            head = 1 }
    head && /^#/ { next }
    { head = 0 }
    /^[[:space:]]*user: / { u = $2; if (u in keys) { sub(/user: .*/, "nkey: " keys[u]); print; skip = 1; next } }
    skip && /^[[:space:]]*password: / { skip = 0; next }
    { skip = 0 }
    /^[[:space:]]*".*\.web-1\.>",?$/ { sub(/\.web-1\.>"/, "." host ".>\"") }
    k8s && /^server_name:/ { print "server_name: $POD_NAME"; next }
    k8s && /^listen:/ { print "listen: 0.0.0.0:4222"; next }
    k8s && /^http:/ { print "http: 0.0.0.0:8222"; next }
    k8s && /store_dir:/ { sub(/store_dir: .*/, "store_dir: /data") }
    { print }
    END { if (k8s) {
        print ""
        print "lame_duck_duration: 30s"
        print "cluster {"
        print "  name: logjet"
        print "  listen: 0.0.0.0:6222"
        print "  # Routes with mutual TLS too, on the same certificate (it is also a client one)."
        print "  tls {"
        print "    cert_file: $NATS_TLS_CERT"
        print "    key_file: $NATS_TLS_KEY"
        print "    ca_file: $NATS_TLS_CA"
        print "    verify: true"
        print "    timeout: 2"
        print "  }"
        print "  routes: ["
        for (i = 0; i < 3; i++) print "    nats-route://nats-" i ".nats-headless.logjet.svc.cluster.local:6222"
        print "  ]"
        print "  connect_retries: 120"
        print "}"
    } }
' "$ROOT/deploy/nats/secure.conf" > "$OUT/nats.conf"
if ! grep -q "nkey: $publisher_pub" "$OUT/nats.conf" || ! grep -q "nkey: $gateway_pub" "$OUT/nats.conf" ||
    ! grep -q "nkey: $reader_pub" "$OUT/nats.conf" || grep -q 'password:' "$OUT/nats.conf"; then
    echo "secrets.sh: deploy/nats/secure.conf no longer has the three users this script rewrites" >&2
    exit 1
fi
{
    echo "# The publisher's host id: its NATS user may publish logs.$host_token.> only."
    [ "$HOST_ID" = '*' ] || echo "LOGJET_HOST_ID=$HOST_ID"
} > "$OUT/publisher.env"

# kubernetes.yaml: one Secret per consumer, each holding only that consumer's files.
b64() { base64 -w0 < "$OUT/$1"; }
secret_yaml() { # NAME KEY=FILE...
    local name=$1 kv
    shift
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: logjet\n' "$name"
    printf '  labels:\n    app.kubernetes.io/part-of: logjet\ntype: Opaque\ndata:\n'
    for kv in "$@"; do printf '  %s: %s\n' "${kv%%=*}" "$(b64 "${kv#*=}")"; done
}
if [ "$K8S" = 1 ]; then
    {
        echo "# Made by deploy/secrets.sh: kubectl apply -f this file (it holds private keys)."
        secret_yaml logjet-nats-server nats.conf=nats.conf tls.crt=nats-server.pem tls.key=nats-server-key.pem ca.crt=ca.pem
        secret_yaml logjet-publisher-nats nkey=publisher.nk tls.crt=publisher.pem tls.key=publisher-key.pem ca.crt=ca.pem
        secret_yaml logjet-gateway-nats nkey=gateway.nk tls.crt=gateway.pem tls.key=gateway-key.pem ca.crt=ca.pem
        secret_yaml logjet-gateway-tls tls.crt=gateway-tls.pem tls.key=gateway-tls-key.pem
        secret_yaml logjet-reader-nats nkey=reader.nk tls.crt=reader.pem tls.key=reader-key.pem ca.crt=ca.pem
    } > "$OUT/kubernetes.yaml"
fi

# Ownership: each file readable by the user that reads it in its container.
own() { # UID FILE...
    local uid=$1 f
    shift
    for f in "$@"; do
        if [ "$(id -u)" = 0 ]; then chown "$uid:$uid" "$OUT/$f"; chmod 0400 "$OUT/$f"; else chmod 0444 "$OUT/$f"; fi
    done
}
own 10002 nats.conf nats-server.pem nats-server-key.pem
own 10001 gateway.nk gateway.pem gateway-key.pem gateway-tls.pem gateway-tls-key.pem
own 0 publisher.nk publisher.pem publisher-key.pem reader.nk reader.pem reader-key.pem publisher.env
chmod 0444 "$OUT/ca.pem"
chmod 0400 "$OUT/ca-key.pem"
[ ! -e "$OUT/kubernetes.yaml" ] || chmod 0400 "$OUT/kubernetes.yaml"
extra=
[ "$K8S" = 0 ] || extra=" and kubernetes.yaml"
echo "secrets.sh: wrote $OUT: a CA, TLS for nats-server and the gateway, client certificates, NKeys for the publisher (logs.$host_token.>), the gateway and a reader, nats.conf$extra"
