#!/bin/sh
# healthcheck ADDRESS [PATH]: the images' health check. Exits 0 when
# http://ADDRESS/PATH (PATH /healthz by default) answers with a 2xx status.
#
# ADDRESS is HOST:PORT, or the name of the environment variable that gives the
# daemon its address (LOGJET_HTTP, LOGJET_LISTEN), so the check follows an
# address set through the environment (not one given as a flag). A wildcard or
# empty host (0.0.0.0, [::], :PORT) is probed on loopback.
#
# Runs under Debian's static busybox, the only shell and HTTP client in the
# images: `/usr/bin/busybox sh /usr/lib/logjet/healthcheck LOGJET_HTTP`. It
# probes https:// when the gateway serves TLS (LOGJET_LISTEN with LOGJET_TLS_CERT
# set), without checking the certificate (the probe only asks whether the daemon
# answers on loopback; it sends no credentials), else plain HTTP.
addr=${1:?usage: healthcheck ADDRESS [PATH]}
path=${2:-/healthz}
case $addr in
    *:*) ;;
    [A-Z_]*)
        case $addr in *[!A-Z0-9_]*) echo "healthcheck: bad variable name '$addr'" >&2; exit 2 ;; esac
        eval "addr=\${$addr:-}"
        [ -n "$addr" ] || { echo "healthcheck: \$$1 is empty" >&2; exit 2; } ;;
    *) echo "healthcheck: '$addr' is neither HOST:PORT nor a variable name" >&2; exit 2 ;;
esac
case $addr in
    0.0.0.0:*) addr=127.0.0.1:${addr#0.0.0.0:} ;;
    '[::]':*) addr="[::1]:${addr#\[::\]:}" ;;
    :*) addr=127.0.0.1$addr ;;
esac
if [ "$1" = LOGJET_LISTEN ] && [ -n "${LOGJET_TLS_CERT:-}" ]; then
    exec /usr/bin/busybox wget --no-check-certificate -q -O /dev/null "https://$addr$path"
fi
exec /usr/bin/busybox wget -q -O /dev/null "http://$addr$path"
