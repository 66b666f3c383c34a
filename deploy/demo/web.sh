# Demo "web": an nginx-like front end. Access log lines in the combined format
# on stdout, error log lines ("[error]", "[warn]") on stderr, and now and then
# a burst of requests (a crawler), as a busy web server would write them.
. /demo/lib.sh

paths="/ /index.html /api/orders /api/orders/42 /api/users/me /static/app.js /static/app.css /healthz /login /search?q=logs"
agents="Mozilla/5.0_(X11;_Linux_x86_64) curl/7.88.1 Go-http-client/1.1 kube-probe/1.28 Googlebot/2.1"

access() {
    path=$(pick $paths)
    status=$(pick 200 200 200 200 200 304 201 404 500 502)
    ua=$(pick $agents | tr _ ' ')
    printf '10.0.%d.%d - - [%s] "%s %s HTTP/1.1" %s %d "-" "%s" rt=%d.%03d\n' \
        "$(rand 8)" "$(rand 250)" "$(date -u '+%d/%b/%Y:%H:%M:%S +0000')" \
        "$(pick GET GET GET POST PUT DELETE)" "$path" "$status" "$(rand 40000)" "$ua" \
        "$(rand 2)" "$(rand 1000)"
    case $status in
        5*) echo "$(date -u '+%Y/%m/%d %H:%M:%S') [error] 7#7: *$(rand 99999) upstream prematurely closed connection while reading response header from upstream, client: 10.0.3.$(rand 250), server: _, request: \"GET $path HTTP/1.1\", upstream: \"http://127.0.0.1:9000$path\"" >&2 ;;
        404) [ "$(rand 4)" = 0 ] && echo "$(date -u '+%Y/%m/%d %H:%M:%S') [warn] 7#7: *$(rand 99999) open() \"/usr/share/nginx/html$path\" failed (2: No such file or directory)" >&2 ;;
    esac
}

echo "$(date -u '+%Y/%m/%d %H:%M:%S') [notice] 1#1: using the \"epoll\" event method"
echo "$(date -u '+%Y/%m/%d %H:%M:%S') [notice] 1#1: nginx/1.25.3"
echo "$(date -u '+%Y/%m/%d %H:%M:%S') [notice] 1#1: start worker processes"
n=0
while :; do
    n=$((n + 1))
    access
    if [ $((n % 97)) = 0 ]; then
        echo "$(date -u '+%Y/%m/%d %H:%M:%S') [warn] 1#1: crawler burst from 66.249.66.$(rand 250)" >&2
        i=0
        while [ $i -lt 150 ]; do access; i=$((i + 1)); done
    fi
    nap
done
