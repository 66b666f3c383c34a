#!/bin/bash
# Builds the logjet images from this checkout: logjet-nats, logjet-publisher,
# logjet-gateway (tag :latest unless --tag is given).
#
# The build context is the repository root, streamed as a tar archive that
# leaves out build trees, VCS data and local state, so it stays small whatever
# lies around in the checkout (the classic builder reads .dockerignore only from
# the context root; this script does not depend on one).
#
# It needs debian:bookworm-slim locally or from a registry; tests/deploy/images.sh
# shows how to make one from Debian's mirror with debootstrap when no registry
# is reachable. `docker build --network host` is used because the build runs
# apt-get and some engines (dockerd --bridge=none) have no other network.
set -euo pipefail

usage() {
    cat <<USAGE
usage: $0 [--tag TAG] [--base IMAGE] [--only nats|publisher|gateway]...
Builds logjet-nats, logjet-publisher and logjet-gateway from the repository root.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tag=latest
base=debian:bookworm-slim
only=()
while [ $# -gt 0 ]; do
    case $1 in
        --tag) tag=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --only) only+=("$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ ${#only[@]} -gt 0 ] || only=(nats publisher gateway)

context() {
    tar -C "$root" -c \
        --exclude=./.git --exclude=./build --exclude='./build-*' --exclude='./builddir*' \
        --exclude=./.quickstart --exclude=node_modules --exclude='*.o' \
        .
}

for what in "${only[@]}"; do
    case $what in nats|publisher|gateway) ;; *) usage >&2; exit 2 ;; esac
    echo "build-images: building logjet-$what:$tag (base $base)"
    context | DOCKER_BUILDKIT=0 docker build --network host \
        --build-arg "BASE_IMAGE=$base" \
        -f "deploy/docker/Dockerfile.$what" -t "logjet-$what:$tag" -
done
