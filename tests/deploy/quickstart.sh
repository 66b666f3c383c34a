#!/bin/bash
# Runs deploy/quickstart.sh as a user would and checks what it promises:
#   - `deploy/quickstart.sh --detach` ends with a URL, and demo lines reach a
#     WebSocket client on the gateway (worker, api and web containers);
#   - with Chromium installed, the printed page shows demo lines
#     (tests/deploy/quickstart-page.js, screenshot in the artifacts folder);
#   - running it again while it runs is safe (it reports and reuses);
#   - `deploy/quickstart.sh stop` stops everything it started: no recorded
#     process alive, no demo container left, the ports closed.
#
# Environment: LOGJET_BUILD_DIR (passed as --build-dir), LOGJET_QUICKSTART_NO_INSTALL=1
# (passed as --no-install), LOGJET_ARTIFACTS (screenshot folder, default tests/artifacts).
# It refuses to run while a quick start of this checkout is already running.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LJ_ROOT"

QS=deploy/quickstart.sh
STATE=.quickstart
ARTIFACTS=${LOGJET_ARTIFACTS:-$LJ_ROOT/tests/artifacts}
args=(--detach)
[ -n "${LOGJET_BUILD_DIR:-}" ] && args+=(--build-dir "$LOGJET_BUILD_DIR")
[ "${LOGJET_QUICKSTART_NO_INSTALL:-0}" = 1 ] && args+=(--no-install)
log=$(mktemp)
started=0

cleanup() {
    if [ "$started" = 1 ]; then "$QS" stop >/dev/null 2>&1 || true; fi
    rm -f "$log"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { fail "run as root (the quick start installs packages and drives Docker)"; summary; exit 1; }
if "$QS" status 2>/dev/null | grep -q ': running'; then
    fail "a quick start of this checkout is running; stop it first ($QS stop)"
    summary
    exit 1
fi

echo "quickstart-test: $QS ${args[*]}"
started=1
if timeout 1200 "$QS" "${args[@]}" > "$log" 2>&1; then
    pass "$QS ${args[*]} exits 0"
else
    sed 's/^/    /' "$log"
    fail "$QS ${args[*]} exits 0"
    summary
    exit 1
fi
url=$(sed -n 's/^ *Open: *//p' "$log" | head -n 1)
if [[ $url == http://127.0.0.1:*/* ]]; then pass "it prints the URL: $url"; else fail "it prints the URL"; sed 's/^/    /' "$log"; fi

# shellcheck disable=SC1091 # written by the quick start
. "$STATE/ports.env"
ws="ws://${GATEWAY_URL#http://}ws"
pids=$(cat "$STATE"/pids/*.pid)
containers=$(cat "$STATE/containers")

node_deps || fail "node and npm packages (tests/deploy/package.json) for the WebSocket client"
for spec in "logjet-demo-worker job=" "logjet-demo-api \"level\"" "logjet-demo-web HTTP/1.1"; do
    name=${spec%% *}
    text=${spec#* }
    check "a $name line ($text) reaches a WebSocket client" \
        node "$LJ_TESTS_DIR/ws-expect.js" "$ws" "$HOST_ID/$name" "$text" 60
done

if [ -x "${LOGJET_CHROMIUM:-/usr/bin/chromium}" ]; then
    mkdir -p "$ARTIFACTS"
    check "the printed page shows demo lines in Chromium" \
        node "$LJ_TESTS_DIR/quickstart-page.js" "$url" "$ARTIFACTS/quickstart.png" 60
else
    skip "the printed page in Chromium (chromium not installed)"
fi

if "$QS" "${args[@]}" > "$log" 2>&1 && grep -q 'already running' "$log"; then
    pass "running it again while it runs reports and reuses it"
else
    fail "running it again while it runs reports and reuses it"
    sed 's/^/    /' "$log"
fi

check "$QS stop exits 0" "$QS" stop
started=0
left=""
while read -r pid st; do
    [ -n "$pid" ] || continue
    cur=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat" 2>/dev/null || true)
    [ "$cur" = "$st" ] && left="$left $pid"
done <<<"$pids"
if [ -z "$left" ]; then pass "no process it started is left"; else fail "processes left running:$left"; fi
left=$(docker ps -aq --filter "label=io.logjet.quickstart=$LJ_ROOT")
if [ -z "$left" ]; then pass "no demo container is left ($(echo "$containers" | tr '\n' ' '))"; else fail "containers left: $left"; fi
if curl -fsS -o /dev/null --max-time 2 "${GATEWAY_URL}healthz" 2>/dev/null; then
    fail "the gateway port is closed after stop"
else
    pass "the gateway port is closed after stop"
fi
summary
