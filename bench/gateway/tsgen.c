/* tsgen.c - the benchmark's logging container: prints numbered lines that carry the
 * moment they were written, so a client can measure latency from the container's
 * write to its own receipt.
 *
 * Usage: tsgen RATE COUNT [BYTES] [GOFILE]
 *   RATE   lines per second (0 = as fast as the pipe takes them)
 *   COUNT  lines to write, then exit
 *   BYTES  line length without the newline (default 120, at least 48)
 *   GOFILE wait until this file exists before the first line (lets the benchmark
 *          start the container, subscribe its clients, then start the clock)
 *
 * Each line: "LJTS=<CLOCK_REALTIME ns, 19 digits> n=<1..COUNT> xxxx...". The time
 * is read just before the line's write(2); one write per line. Paced lines are due
 * at start + i/RATE (absolute sleeps, so no drift). Built static on the host and
 * bind-mounted into a busybox container, which has no compiler.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tsgen RATE COUNT [BYTES] [GOFILE]\n");
        return 2;
    }
    double rate = atof(argv[1]);
    long long count = atoll(argv[2]);
    int bytes = argc > 3 ? atoi(argv[3]) : 120;
    const char *go = argc > 4 ? argv[4] : NULL;
    char line[65536];

    if (bytes < 48)
        bytes = 48;
    if (bytes > (int)sizeof(line) - 1)
        bytes = (int)sizeof(line) - 1;
    if (go)
        while (access(go, F_OK) != 0) {
            struct timespec d = {0, 1000000};
            nanosleep(&d, NULL);
        }

    long long t0 = now_ns(CLOCK_MONOTONIC);
    memset(line, 'x', sizeof(line));
    for (long long i = 1; i <= count; i++) {
        if (rate > 0) {
            long long due = t0 + (long long)((double)(i - 1) * 1e9 / rate);
            struct timespec ts = {due / 1000000000LL, due % 1000000000LL};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
        int n = snprintf(line, sizeof(line), "LJTS=%019lld n=%lld ", now_ns(CLOCK_REALTIME), i);
        memset(line + n, 'x', (size_t)(bytes - n));
        line[bytes] = '\n';
        const char *p = line;
        size_t left = (size_t)bytes + 1;
        while (left > 0) {
            ssize_t w = write(1, p, left);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return 1;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    return 0;
}
