#!/bin/sh
# record.sh - re-records the Docker log streams the demux unit test replays.
#
# Needs a running dockerd and the image logjet-test-busybox (a busybox-only image; see
# tests/integration). For each of a plain and a TTY container running the same script it
# stores the raw body of GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1
# (<name>.raw) and, from `docker logs` with and without -t, the lines a user sees
# (<name>.expected, written by expected.py). Run from this directory.
set -eu
SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
IMAGE=${IMAGE:-logjet-test-busybox}

# Interleaved short lines, an empty line, long stdout and stderr lines whose 16 KiB
# partials interleave, a 40,000-byte line (frames 16415, 16415, 7264), a 200 KiB
# line, a line of exactly 16384 bytes and an unterminated final line. Long lines are
# digits so offsets show.
SCRIPT='
echo "first line on stdout"; echo "first line on stderr" >&2
for i in 1 2 3 4 5 6; do echo "out $i level=info"; echo "err $i ERROR: something" >&2; done
echo ""
echo "spaces   inside  and a trailing space "
printf "carriage return inside a\rline and a tab\there\n"
seq 1 9000 | tr -d "\n" | head -c 20000; sleep 0.3
{ seq 1 9000 | tr -d "\n" | tr 0123456789 klmnopqrst | head -c 20000; } >&2; sleep 0.3
echo " end of the stdout line"; sleep 0.3
echo " end of the stderr line" >&2; sleep 0.3
seq 1 12000 | tr -d "\n" | head -c 40000; echo
echo "between long lines"
seq 1 50000 | tr -d "\n" | head -c 204800; echo
seq 1 5000 | tr -d "\n" | head -c 16384; echo
echo "after exactly 16384"
printf "unterminated final line"'

record() { # name, extra docker run flags
    id=$(docker run -d --network none $2 "$IMAGE" sh -c "$SCRIPT")
    docker wait "$id" >/dev/null
    curl -sS --unix-socket "$SOCK" -o "$1.raw" \
        "http://localhost/v1.41/containers/$id/logs?stdout=1&stderr=1&timestamps=1"
    docker logs "$id" >"$1.out" 2>"$1.err"
    docker logs -t "$id" >"$1.tout" 2>"$1.terr"
    python3 expected.py "$1" >"$1.expected"
    rm -f "$1.out" "$1.err" "$1.tout" "$1.terr"
    docker rm "$id" >/dev/null
}

record frames ""
record tty "-t"
