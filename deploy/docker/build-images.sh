#!/bin/bash
# Builds the logjet images from this checkout: logjet-nats, logjet-publisher and
# logjet-gateway (tag :latest unless --tag is given).
#
# Each image is FROM scratch plus one layer, rootfs.tar, assembled here from this
# host's Debian 12 packages and holding only what its program needs:
#   - the program: logjet-publisher or logjet-gateway built from this checkout
#     with meson (stripped), or nats-server from Debian's package;
#   - the shared libraries `ldd` names for it, with the symlinks leading to them
#     and the dynamic loader;
#   - /etc/ssl/certs/ca-certificates.crt, made from the ca-certificates package's
#     certificates in the order update-ca-certificates uses (not copied from the
#     host, whose bundle may hold local additions), and OpenSSL's default paths
#     to it (/usr/lib/ssl/certs, /usr/lib/ssl/cert.pem) in the daemons' images;
#   - /etc/passwd and /etc/group (root and the image's user), /etc/nsswitch.conf
#     (glibc 2.36 has the files and dns sources built in: no libnss_* needed);
#   - Debian's static busybox as /usr/bin/busybox (no applet links, so no
#     /bin/sh) and /usr/lib/logjet/healthcheck: the HEALTHCHECK's HTTP probe;
#     in the gateway's image also Debian's openssl program, which busybox wget
#     uses for the probe's https:// when the gateway serves TLS;
#   - the gateway's UI, nats-server's config; each package's copyright file;
#   - /usr/share/logjet/manifest: every file, with the package it came from
#     ("logjet" for this checkout's own).
# Every file taken from a package is checked against dpkg's md5sums before it
# goes in, so an image holds Debian's bytes, not whatever lies on the host. The
# tar has fixed owners, order and times: the same checkout and the same package
# versions give the same bytes (its sha256 is printed).
#
# It does NOT run apt-get, download anything, or need a registry or a base
# image; it does not install what is missing (tests/run.sh does, on Debian 12).
# The Dockerfiles in this folder only add the metadata (user, environment,
# entry point, health check) on top of rootfs.tar.
set -euo pipefail

usage() {
    cat <<USAGE
usage: $0 [--tag TAG] [--only nats|publisher|gateway]... [--build-dir DIR]
          [--out DIR] [--no-images]
Builds logjet-nats, logjet-publisher and logjet-gateway (FROM scratch) from this
checkout and this Debian 12 host's packages.
  --tag TAG        image tag (latest)
  --only NAME      build only this image; repeatable
  --build-dir DIR  a meson build of this checkout to take the daemons from; it is
                   compiled first (default: build-image/, set up with -Dtests=false)
  --out DIR        keep the assembled root file systems as DIR/NAME.tar
  --no-images      assemble the tars only (with --out; no Docker engine needed)
Needs: Debian 12, the packages to build logjet (README), busybox-static,
ca-certificates, openssl, nats-server (for logjet-nats), and a Docker engine.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tag=latest
build=
out=
images=1
only=()
while [ $# -gt 0 ]; do
    case $1 in
        --tag) tag=$2; shift 2 ;;
        --only) only+=("$2"); shift 2 ;;
        --build-dir) build=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-images) images=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ ${#only[@]} -gt 0 ] || only=(nats publisher gateway)
[ -n "$build" ] || build="$root/build-image"
[ $images = 1 ] || [ -n "$out" ] || { echo "build-images: --no-images needs --out DIR" >&2; exit 2; }

die() { echo "build-images: $*" >&2; exit 1; }

# ---- the host ---------------------------------------------------------------------------
# The images hold this host's packages: they must be Debian 12's.
check_host() {
    local p missing=()
    case $(cat /etc/debian_version 2>/dev/null) in
        12.*|bookworm*) ;;
        *) die "this host is not Debian 12 (/etc/debian_version: $(cat /etc/debian_version 2>/dev/null || echo none)); the images are assembled from the host's Debian 12 packages" ;;
    esac
    for p in busybox-static ca-certificates openssl binutils "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] || die "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})"
    if [ $images = 1 ]; then
        docker version >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset})"
    fi
}

build_daemons() {
    if [ ! -f "$build/build.ninja" ]; then
        echo "build-images: meson setup $build -Dtests=false"
        meson setup "$build" "$root" -Dtests=false >/dev/null
    fi
    meson compile -C "$build" publisher/logjet-publisher gateway/logjet-gateway >/dev/null ||
        die "meson compile -C $build failed"
}

# ---- staging one root file system ---------------------------------------------------------
# stage: the tree being assembled. pkg_paths: every path in it taken from a
# package (canonical, absolute). own_paths: this checkout's files.
stage=
pkg_paths=()
own_paths=()

# canon PATH: PATH with its directory's symlinks resolved (/lib/x -> /usr/lib/x on
# a merged-/usr host); the last component may itself be a symlink.
canon() {
    local d
    d=$(cd "$(dirname "$1")" && pwd -P) || return 1
    echo "$d/$(basename "$1")"
}

# put_pkg PATH: a package's file, and if it is a symlink, its target too (same
# link text, so relative links stay relative; a target already in the tree, or a
# directory, is not copied again).
put_pkg() {
    local p link target
    p=$(canon "$1") || die "no such file: $1"
    [ -e "$stage$p" ] || [ -L "$stage$p" ] && return 0
    mkdir -p "$stage$(dirname "$p")"
    pkg_paths+=("$p")
    if [ -L "$p" ]; then
        link=$(readlink "$p")
        ln -s "$link" "$stage$p"
        case $link in /*) target=$link ;; *) target="$(dirname "$p")/$link" ;; esac
        if [ -d "$target" ]; then mkdir -p "$stage$(canon "$target")"; else put_pkg "$target"; fi
    elif [ -f "$p" ]; then
        cp --preserve=mode "$p" "$stage$p"
    else
        die "$p is neither a file nor a symlink"
    fi
}

# put_libs BINARY: the shared libraries and the loader BINARY needs, as ldd
# (the host's loader) resolves them.
put_libs() {
    local out lib
    out=$(ldd "$1") || die "ldd $1 failed"
    if grep -q 'not found' <<<"$out"; then
        die "ldd $1: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
    fi
    while read -r lib; do
        put_pkg "$lib"
    done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out")
}

# put_own SRC DEST MODE: one of this checkout's files (or a file made here).
put_own() {
    mkdir -p "$stage$(dirname "$2")"
    install -m "$3" "$1" "$stage$2"
    own_paths+=("$2")
}

# put_text DEST MODE: stdin as the file DEST.
put_text() {
    local f
    f=$(mktemp)
    cat > "$f"
    put_own "$f" "$1" "$2"
    rm -f "$f"
}

# openssl_paths: OpenSSL's default CA locations (Debian's openssl package links
# them to /etc/ssl/certs), for TLS clients that use the default verify paths.
openssl_paths() {
    put_pkg /usr/lib/ssl/certs
    put_pkg /usr/lib/ssl/cert.pem
}

# put_program SRC DEST: one of logjet's binaries, stripped, with its libraries.
put_program() {
    local f
    f=$(mktemp)
    strip --strip-unneeded -o "$f" "$1"
    put_own "$f" "$2" 0755
    rm -f "$f"
    put_libs "$1"
}

# base USER UID: what every image has: merged-/usr layout, /tmp, the user
# database, nsswitch.conf, the CA bundle, busybox and the health check.
base() {
    local user=$1 uid=$2 d
    for d in usr/bin usr/sbin usr/lib usr/lib64 etc/ssl/certs; do mkdir -p "$stage/$d"; done
    for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; own_paths+=("/$d"); done
    mkdir -m 1777 "$stage/tmp"
    put_text /etc/passwd 0644 < <(printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n%s:x:%s:%s:%s:/nonexistent:/usr/sbin/nologin\n' \
        "$user" "$uid" "$uid" "$user")
    put_text /etc/group 0644 < <(printf 'root:x:0:\n%s:x:%s:\n' "$user" "$uid")
    put_text /etc/nsswitch.conf 0644 < <(printf 'passwd: files\ngroup: files\nhosts: files dns\n')
    ca_bundle
    put_pkg /bin/busybox
    put_own "$root/deploy/docker/healthcheck.sh" /usr/lib/logjet/healthcheck 0755
}

# ca_bundle: /etc/ssl/certs/ca-certificates.crt made from every certificate the
# ca-certificates package ships, concatenated in the order update-ca-certificates
# uses with Debian's default configuration (all enabled, sorted; each ending with
# a newline). The certificates are checked against the package's md5sums with
# the rest, through pkg_paths. Local additions on the host are left out.
ca_bundle() {
    local c f
    f=$(mktemp)
    while read -r c; do
        pkg_paths+=("$c")
        awk 1 "$c" >> "$f"
    done < <(dpkg-query -L ca-certificates | grep '^/usr/share/ca-certificates/.*\.crt$' | LC_ALL=C sort)
    [ -s "$f" ] || die "the ca-certificates package ships no certificates"
    put_own "$f" /etc/ssl/certs/ca-certificates.crt 0644
    rm -f "$f"
}

recipe_publisher() {
    base logjet 10001
    put_program "$build/publisher/logjet-publisher" /usr/bin/logjet-publisher
    openssl_paths
}

recipe_gateway() {
    local f
    base logjet 10001
    put_program "$build/gateway/logjet-gateway" /usr/bin/logjet-gateway
    openssl_paths
    # The health check of a gateway serving TLS: busybox wget hands https:// to
    # `openssl s_client` when it finds it (its own TLS offers only signature
    # algorithms OpenSSL refuses at the default security level). Its libraries are
    # the gateway's own.
    put_pkg /usr/bin/openssl
    put_libs /usr/bin/openssl
    while read -r f; do
        put_own "$root/ui/$f" "/usr/share/logjet/ui/$f" 0644
    done < <(cd "$root/ui" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

recipe_nats() {
    base nats 10002
    put_pkg /usr/sbin/nats-server
    put_libs /usr/sbin/nats-server
    put_own "$root/deploy/nats/nats-server.conf" /etc/nats/nats-server.conf 0644
    # The JetStream store: owned by the image's user, so a new volume is too.
    mkdir -p "$stage/var/lib/nats"
    owned_dirs+=("var/lib/nats:10002:0750")
}

# ---- checking against dpkg ----------------------------------------------------------------
# dpkg_lookup: for every path in pkg_paths, "PATH PACKAGE MD5" (MD5 '-' for a
# symlink), from dpkg's file lists and md5sums. dpkg records the path as the
# package shipped it, so /usr/lib/x may be recorded as lib/x: both are tried.
dpkg_lookup() {
    printf '%s\n' "${pkg_paths[@]}" | LC_ALL=C sort -u |
        awk '
        FNR == 1 { n = split(FILENAME, part, "/"); pkg = part[n]; sub(/\.(list|md5sums)$/, "", pkg); sub(/:.*/, "", pkg) }
        FILENAME == "-" { want[$0] = 1; if ($0 ~ /^\/usr\/(bin|sbin|lib|lib64)\//) other[substr($0, 5)] = $0; next }
        FILENAME ~ /\.list$/ { p = $0; if (p in want && !(p in owner)) owner[p] = pkg; else if (p in other && !(other[p] in owner)) owner[other[p]] = pkg; next }
        { p = "/" substr($0, 35); if (p in want) md5[p] = $1; else if (p in other) md5[other[p]] = $1 }
        END { for (p in want) print p, (p in owner ? owner[p] : "?"), (p in md5 ? md5[p] : "-") }
        ' - /var/lib/dpkg/info/*.list /var/lib/dpkg/info/*.md5sums | LC_ALL=C sort
}

# verify: every package path is owned by a package and, unless a symlink, has
# the md5 dpkg recorded (the CA certificates are checked on the host: the bundle
# is made from them). Writes the manifest and adds each package's copyright file.
verify() {
    local p pkg md5 bad=0 src
    local -A pkgs=()
    while read -r p pkg md5; do
        src=$stage$p
        case $p in /usr/share/ca-certificates/*) src=$p ;; esac
        if [ "$pkg" = "?" ]; then
            echo "build-images: $p belongs to no Debian package" >&2; bad=1; continue
        fi
        pkgs[$pkg]=1
        case $p in /usr/share/ca-certificates/*) ;; *) echo "$p $pkg" >> "$stage.manifest" ;; esac
        if [ -L "$src" ]; then
            continue
        elif [ "$md5" = "-" ]; then
            echo "build-images: dpkg has no md5sum for $p ($pkg)" >&2; bad=1
        elif [ "$(md5sum < "$src" | cut -d' ' -f1)" != "$md5" ]; then
            echo "build-images: $p differs from what $pkg installed (md5 mismatch)" >&2; bad=1
        fi
    done < <(dpkg_lookup)
    [ $bad = 0 ] || die "files that are not Debian's as packaged (see above)"
    for pkg in "${!pkgs[@]}"; do
        if [ -e "/usr/share/doc/$pkg/copyright" ]; then printf '%s\n' "$pkg"; fi
    done
}

# manifest_lines: "PATH PACKAGE" lines in, "PATH PACKAGE VERSION" out, sorted;
# logjet's own files carry the checkout's version (git describe).
manifest_lines() {
    local p pkg own
    local -A version=()
    own=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
    LC_ALL=C sort -u | while read -r p pkg; do
        if [ "$pkg" = logjet ]; then
            echo "$p $pkg $own"
        else
            [ -n "${version[$pkg]:-}" ] || version[$pkg]=$(dpkg-query -W -f='${Version}' "$pkg")
            echo "$p $pkg ${version[$pkg]}"
        fi
    done
}

# assemble NAME: stage, verify, write NAME.tar into $work.
assemble() {
    local name=$1 p pkg first
    stage="$work/$name"
    pkg_paths=() own_paths=() owned_dirs=()
    mkdir -p "$stage"
    : > "$stage.manifest"
    "recipe_$name"
    # Copyright files of the packages used, verified like the rest.
    first=$(verify)
    for pkg in $first; do put_pkg "/usr/share/doc/$pkg/copyright"; done
    : > "$stage.manifest"
    verify >/dev/null
    for p in "${own_paths[@]}"; do echo "$p logjet" >> "$stage.manifest"; done
    put_text /usr/share/logjet/manifest 0644 < <(manifest_lines < "$stage.manifest")
    write_tar "$stage" "$work/$name.tar"
}

# write_tar DIR TAR: the tree as a reproducible archive: sorted, owned by root
# (but for owned_dirs, appended with their owner), every time the last commit's.
write_tar() {
    local dir=$1 tar=$2 d path uid mode excl=()
    local epoch
    epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
    for d in "${owned_dirs[@]}"; do excl+=("--exclude=./${d%%:*}"); done
    tar -C "$dir" --sort=name --format=gnu --numeric-owner --owner=0 --group=0 \
        --mtime="@$epoch" "${excl[@]}" -cf "$tar" .
    for d in "${owned_dirs[@]}"; do
        IFS=: read -r path uid mode <<<"$d"
        chmod "$mode" "$dir/$path"
        tar -C "$dir" --format=gnu --numeric-owner --owner="$uid" --group="$uid" \
            --mtime="@$epoch" --no-recursion -rf "$tar" "./$path"
    done
}

# image NAME: docker build of Dockerfile.NAME with NAME.tar as rootfs.tar.
image() {
    local name=$1 ctx="$work/ctx-$1"
    mkdir -p "$ctx"
    cp "$root/deploy/docker/Dockerfile.$name" "$ctx/Dockerfile"
    ln "$work/$name.tar" "$ctx/rootfs.tar"
    # The classic builder: no BuildKit or buildx needed (Debian's docker.io has
    # neither); the CLI's notice that it is deprecated is left out of the output.
    if ! DOCKER_BUILDKIT=0 docker build -q -t "logjet-$name:$tag" "$ctx" >/dev/null 2>"$work/build.err"; then
        cat "$work/build.err" >&2
        die "docker build of logjet-$name:$tag failed"
    fi
}

owned_dirs=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for what in "${only[@]}"; do
    case $what in nats|publisher|gateway) ;; *) usage >&2; exit 2 ;; esac
done
needs_nats=()
for what in "${only[@]}"; do [ "$what" = nats ] && needs_nats=(nats-server); done
check_host "${needs_nats[@]}"
for what in "${only[@]}"; do
    if [ "$what" != nats ]; then build_daemons; break; fi
done
[ -z "$out" ] || mkdir -p "$out"
for what in "${only[@]}"; do
    start=$SECONDS
    assemble "$what"
    sum=$(sha256sum "$work/$what.tar" | cut -c1-16)
    files=$(tar -tf "$work/$what.tar" | grep -vc '/$')
    [ -z "$out" ] || cp "$work/$what.tar" "$out/$what.tar"
    if [ $images = 1 ]; then
        image "$what"
        size=$(docker image inspect -f '{{.Size}}' "logjet-$what:$tag")
        echo "build-images: logjet-$what:$tag $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }'), $files files, rootfs sha256 $sum..., $((SECONDS - start)) s"
    else
        echo "build-images: $what.tar $files files, sha256 $sum..., $((SECONDS - start)) s"
    fi
done
