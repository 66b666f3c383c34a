# Helpers for the demo log generators (busybox sh; sourced by the others).
# They only print: everything goes to stdout or stderr for Docker to collect.

# rand N: a number in [0, N).
rand() { echo $((RANDOM % $1)); }

# pick WORD...: one of the words.
pick() {
    shift $((RANDOM % $#))
    echo "$1"
}

# now: UTC time with milliseconds, like most services write it. busybox date
# has no sub-second format, so the milliseconds come from /proc/uptime's
# hundredths, which is enough to keep them increasing within a second.
now() { echo "$(date -u +%Y-%m-%dT%H:%M:%S).$(awk '{ split($1, a, "."); printf "%s0", a[2] }' /proc/uptime)Z"; }

# nap: a short irregular pause, 0.05 to 1.2 s.
nap() { sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + (r % 116) / 100 }')"; }

# long_line PREFIX: one line of more than 16 KiB (Docker splits these into
# 16 KiB partial messages; logjet joins them back or marks them truncated).
long_line() {
    awk -v p="$1" 'BEGIN {
        s = p
        for (i = 0; i < 900; i++) s = s sprintf("{\"i\":%d,\"v\":\"%08x\"},", i, i * 2654435761 % 4294967296)
        print s "{\"end\":true}]}"
    }'
}

ESC=$(printf '\033')
RED="${ESC}[31m"
GREEN="${ESC}[32m"
YELLOW="${ESC}[33m"
BLUE="${ESC}[34m"
GREY="${ESC}[90m"
BOLD="${ESC}[1m"
RESET="${ESC}[0m"
