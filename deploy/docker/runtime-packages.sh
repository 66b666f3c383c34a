#!/bin/bash
# Prints the Debian packages that own the shared libraries a binary links
# against, one per line, for the runtime stage of the Dockerfiles to install.
# It does not resolve dependencies of those packages: apt does that.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }

owner() {
    # Debian 12 merged /lib into /usr/lib, but dpkg records the path the
    # package shipped, so try the path as ldd printed it and its other spelling.
    local f=$1
    dpkg -S "$f" 2>/dev/null ||
        dpkg -S "/usr$f" 2>/dev/null ||
        dpkg -S "${f#/usr}" 2>/dev/null ||
        { echo "runtime-packages: no package owns $f" >&2; return 1; }
}

for bin in "$@"; do
    ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
        owner "$lib"
    done
done | cut -d: -f1 | sort -u
