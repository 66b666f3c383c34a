/* fuzz_config.c - libFuzzer target for the parsers of common/: lj_config_parse (argv
 * made from the input split at NUL bytes), lj_parse_hostport, lj_time_parse and
 * lj_subject_decode.
 *
 * Properties checked beyond "no crash": a decoded subject token encodes back to the
 * same token; a parsed time formats and parses back to the same nanosecond.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "subject.h"
#include "timeutil.h"

#define MAX_ARGS 32

static const char *url, *listen_addr;
static long depth, max_line;
static bool opt_in, insecure;

static const struct lj_opt opts[] = {
    { "nats-url", LJ_OPT_STRING, "URL", "nats://127.0.0.1:4222", "NATS server", &url, 0, 0 },
    { "listen", LJ_OPT_STRING, "ADDR:PORT", "127.0.0.1:8080", "listen address",
      &listen_addr, 0, 0 },
    { "replay-depth", LJ_OPT_INT, "N", "1000", "lines kept", &depth, 0, 1000000 },
    { "max-line-bytes", LJ_OPT_INT, "BYTES", "64k", "line cap", &max_line, 1, 16L << 20 },
    { "opt-in", LJ_OPT_BOOL, NULL, NULL, "only logjet.enable=true", &opt_in, 0, 0 },
    { "insecure", LJ_OPT_BOOL, NULL, NULL, "allow no auth", &insecure, 0, 0 },
};

static void fuzz_config(char *s, size_t size)
{
    char *argv[MAX_ARGS + 1], err[256];
    int argc = 0;
    enum lj_config_action action;

    argv[argc++] = "logjet";
    for (size_t i = 0; i < size && argc < MAX_ARGS;) {
        argv[argc++] = s + i;
        i += strlen(s + i) + 1;
    }
    argv[argc] = NULL;
    (void)lj_config_parse(opts, sizeof opts / sizeof opts[0], argc, argv, &action, err,
                          sizeof err);
}

static void fuzz_hostport(const char *s)
{
    char host[256], err[256];
    int port;
    if (lj_parse_hostport(s, host, sizeof host, &port, err, sizeof err) == LJ_OK) {
        if (port < 1 || port > 65535)
            abort();
        (void)lj_host_is_loopback(host);
    }
}

static void fuzz_time(const char *s, size_t n)
{
    int64_t ns, again;
    char text[LJ_TIME_RFC3339_MAX];

    if (lj_time_parse(s, n, &ns) != LJ_OK)
        return;
    lj_time_format(ns, text);
    if (lj_time_parse(text, strlen(text), &again) == LJ_OK && again != ns)
        abort();
}

static void fuzz_subject(const char *s)
{
    char name[1024], token[LJ_SUBJECT_TOKEN_MAX * 4];
    size_t len;

    if (lj_subject_decode(s, name, sizeof name, &len) != LJ_OK)
        return;
    if (lj_subject_encode(name, len, token, sizeof token) == LJ_OK && strcmp(token, s) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    fuzz_time((const char *)data, size);
    fuzz_subject(s);
    fuzz_hostport(s);
    fuzz_config(s, size);
    free(s);
    return 0;
}
