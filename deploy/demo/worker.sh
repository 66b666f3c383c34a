# Demo "worker": a batch worker with coloured, differently formatted levels:
# "[INFO]", "WARN:", logfmt "level=error", glog "E1125 ..." lines, ANSI
# colours, progress bursts, and errors on stderr.
. /demo/lib.sh

job() {
    id=$(rand 100000)
    total=$((20 + $(rand 60)))
    echo "${GREEN}[INFO]${RESET} $(now) job=$id queue=$(pick emails thumbnails reports exports) picked up, $total items"
    i=0
    while [ $i -lt "$total" ]; do
        i=$((i + 5))
        [ $i -gt "$total" ] && i=$total
        echo "${GREY}[DEBUG]${RESET} job=$id progress ${BOLD}$i/$total${RESET}"
    done
    case $(rand 8) in
        0) echo "${YELLOW}WARN:${RESET} job=$id retrying item $(rand $total) after timeout (attempt $(rand 3)/3)" ;;
        1) echo "time=$(now) level=error msg=\"job failed\" job=$id err=\"s3: SlowDown: please reduce your request rate\"" >&2 ;;
        2) echo "E$(date -u +%m%d\ %H:%M:%S).$(rand 999999)       1 worker.go:$(rand 400)] job $id: context deadline exceeded" >&2 ;;
        3) echo "${RED}${BOLD}[FATAL]${RESET} job=$id out of memory (rss=$(rand 4096)MiB), worker will restart" >&2 ;;
        *) echo "${BLUE}[INFO]${RESET} job=$id done in $(rand 30).$(rand 10)s" ;;
    esac
}

echo "${GREEN}[INFO]${RESET} worker starting, concurrency=4"
while :; do
    job
    nap
    nap
done
