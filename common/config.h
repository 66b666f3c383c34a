/* config.h - command-line flags and their LOGJET_* environment twins, table driven.
 *
 * Each option `--some-name` can also be set as LOGJET_SOME_NAME; a flag wins over the
 * environment, which wins over the default. Values are not copied: string results
 * point into argv, the environment or the table's default, all of which live for the
 * whole process. Does not read config files.
 *
 * A secret (LJ_OPT_SECRET: a password, a token) may also come from a file named by
 * LOGJET_SOME_NAME_FILE, the Docker and Kubernetes secrets convention: the file's
 * contents without a trailing newline. Such a value is read once into memory owned by
 * this module (kept until the next lj_config_parse). Secrets are never printed: not in
 * errors and not in --help.
 */
#ifndef LJ_CONFIG_H
#define LJ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "status.h"

enum lj_opt_type {
    LJ_OPT_STRING, /* dst is const char ** */
    LJ_OPT_INT,    /* dst is long *; accepts k/m/g suffixes (x1024); checked against min/max */
    LJ_OPT_BOOL,   /* dst is bool *; a flag without value; env accepts 1/0/true/false/yes/no */
    LJ_OPT_SECRET, /* dst is const char **; also LOGJET_<NAME>_FILE; never printed */
};

struct lj_opt {
    const char *name;    /* long name without dashes: "nats-url" */
    enum lj_opt_type type;
    const char *metavar; /* shown in --help: "URL"; NULL for booleans */
    const char *def;     /* default as text, NULL for none */
    const char *help;    /* one line */
    void *dst;
    long min, max;       /* LJ_OPT_INT bounds (inclusive) */
};

enum lj_config_action { LJ_CONFIG_RUN, LJ_CONFIG_HELP, LJ_CONFIG_VERSION };

/* Applies defaults, then the environment (LOGJET_<NAME>, and for secrets
 * LOGJET_<NAME>_FILE, which wins over LOGJET_<NAME>), then argv (argv[0] skipped).
 * On success sets *action (RUN, or HELP/VERSION when --help/--version was given) and
 * returns LJ_OK. On bad input returns LJ_INVAL with a one-line message in err naming
 * the option and the offending value (for a secret, only the option, or the file that
 * could not be read). Does not print. */
lj_status lj_config_parse(const struct lj_opt *opts, size_t nopts, int argc, char **argv,
                          enum lj_config_action *action, char *err, size_t errlen);

/* Prints usage: summary paragraph, then every option with its env var and default. */
void lj_config_usage(FILE *out, const char *prog, const char *summary,
                     const struct lj_opt *opts, size_t nopts);

/* Splits "ADDR:PORT" (ADDR may be "[v6]" or empty for all interfaces) into host and
 * port. host is NUL-terminated in a buffer of hostlen bytes. Returns LJ_INVAL with a
 * message naming s when malformed or the port is outside 1..65535. */
lj_status lj_parse_hostport(const char *s, char *host, size_t hostlen, int *port,
                            char *err, size_t errlen);

/* true when host (as from lj_parse_hostport) is a loopback address or "localhost". */
bool lj_host_is_loopback(const char *host);

#endif
