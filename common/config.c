/* config.c - flag and environment parsing for both daemons. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENV_PREFIX "LOGJET_"
#define SECRET_MAX 8          /* LJ_OPT_SECRET values read from files, per parse */
#define SECRET_FILE_MAX 65536 /* a password or token, not a key file */

/* Contents of LOGJET_*_FILE secrets: reachable from here until the next parse, so
 * they outlive the option table's users without a free call in every daemon. */
static char *secrets[SECRET_MAX];
static size_t nsecrets;

static void forget_secrets(void)
{
    for (size_t i = 0; i < nsecrets; i++) {
        explicit_bzero(secrets[i], strlen(secrets[i]));
        free(secrets[i]);
    }
    nsecrets = 0;
}

static void env_name(const char *name, char *out, size_t n)
{
    size_t o = snprintf(out, n, "%s", ENV_PREFIX);
    for (const char *p = name; *p && o + 1 < n; p++)
        out[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[o < n ? o : n - 1] = '\0';
}

static lj_status parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno != 0)
        return LJ_INVAL;
    long mult = 1;
    if (*end == 'k' || *end == 'K') mult = 1024L, end++;
    else if (*end == 'm' || *end == 'M') mult = 1024L * 1024, end++;
    else if (*end == 'g' || *end == 'G') mult = 1024L * 1024 * 1024, end++;
    if (mult > 1 && (*end == 'i' || *end == 'I') && (end[1] == 'b' || end[1] == 'B'))
        end += 2;
    if (*end != '\0' || v > LONG_MAX / mult || v < LONG_MIN / mult)
        return LJ_INVAL;
    *out = v * mult;
    return LJ_OK;
}

static lj_status parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off", "" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return LJ_OK; }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcasecmp(s, no[i]) == 0) { *out = false; return LJ_OK; }
    return LJ_INVAL;
}

/* Stores value into opt's destination; `from` says where it came from, for errors. */
static lj_status apply(const struct lj_opt *opt, const char *value, const char *from,
                       char *err, size_t errlen)
{
    long v;
    switch (opt->type) {
    case LJ_OPT_STRING:
    case LJ_OPT_SECRET:
        *(const char **)opt->dst = value;
        return LJ_OK;
    case LJ_OPT_BOOL:
        if (parse_bool(value, (bool *)opt->dst) != LJ_OK)
            return lj_fail(err, errlen, LJ_INVAL, "%s: expected true or false, got '%s'",
                           from, value);
        return LJ_OK;
    case LJ_OPT_INT:
        if (parse_long(value, &v) != LJ_OK)
            return lj_fail(err, errlen, LJ_INVAL, "%s: expected a number, got '%s'",
                           from, value);
        if (v < opt->min || v > opt->max)
            return lj_fail(err, errlen, LJ_INVAL, "%s: %ld is outside %ld..%ld", from, v,
                           opt->min, opt->max);
        *(long *)opt->dst = v;
        return LJ_OK;
    }
    return LJ_INVAL;
}

static const struct lj_opt *find(const struct lj_opt *opts, size_t n, const char *name,
                                 size_t namelen)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == namelen && strncmp(opts[i].name, name, namelen) == 0)
            return &opts[i];
    return NULL;
}

/* Reads the secret file named by the environment variable env (path): its contents,
 * one trailing newline (or CRLF) removed. The error names the variable and the file,
 * never what it holds. */
static lj_status read_secret_file(const char *env, const char *path, const char **out,
                                  char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL)
        return lj_fail(err, errlen, LJ_INVAL, "%s: cannot read '%s': %s", env, path,
                       strerror(errno));
    if (nsecrets == SECRET_MAX || (buf = malloc(SECRET_FILE_MAX + 1)) == NULL) {
        fclose(f);
        return lj_fail(err, errlen, LJ_NOMEM, "%s: no room for another secret", env);
    }
    n = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    fclose(f);
    if (n > SECRET_FILE_MAX) {
        free(buf);
        return lj_fail(err, errlen, LJ_INVAL, "%s: '%s' is larger than %d bytes", env, path,
                       SECRET_FILE_MAX);
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        return lj_fail(err, errlen, LJ_INVAL, "%s: '%s' holds a NUL byte", env, path);
    }
    secrets[nsecrets++] = buf;
    *out = buf;
    return LJ_OK;
}

static lj_status apply_defaults_and_env(const struct lj_opt *opts, size_t nopts, char *err,
                                        size_t errlen)
{
    char env[128];
    for (size_t i = 0; i < nopts; i++) {
        if (opts[i].def != NULL && apply(&opts[i], opts[i].def, opts[i].name, err, errlen))
            return LJ_INVAL;
        env_name(opts[i].name, env, sizeof env);
        const char *v = getenv(env);
        if (v != NULL && apply(&opts[i], v, env, err, errlen) != LJ_OK)
            return LJ_INVAL;
        if (opts[i].type == LJ_OPT_SECRET && strlen(env) + 6 < sizeof env) {
            strcat(env, "_FILE");
            if ((v = getenv(env)) != NULL && v[0] != '\0'
                && read_secret_file(env, v, (const char **)opts[i].dst, err, errlen) != LJ_OK)
                return LJ_INVAL;
        }
    }
    return LJ_OK;
}

lj_status lj_config_parse(const struct lj_opt *opts, size_t nopts, int argc, char **argv,
                          enum lj_config_action *action, char *err, size_t errlen)
{
    *action = LJ_CONFIG_RUN;
    forget_secrets();
    if (apply_defaults_and_env(opts, nopts, err, errlen) != LJ_OK)
        return LJ_INVAL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *action = LJ_CONFIG_HELP;
            return LJ_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            *action = LJ_CONFIG_VERSION;
            return LJ_OK;
        }
        if (strncmp(arg, "--", 2) != 0)
            return lj_fail(err, errlen, LJ_INVAL, "unexpected argument '%s' (see --help)", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t namelen = eq ? (size_t)(eq - name) : strlen(name);
        const struct lj_opt *opt = find(opts, nopts, name, namelen);
        if (opt == NULL)
            return lj_fail(err, errlen, LJ_INVAL, "unknown option '%s' (see --help)", arg);
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL && opt->type == LJ_OPT_BOOL)
            value = "true";
        if (value == NULL) {
            if (i + 1 >= argc)
                return lj_fail(err, errlen, LJ_INVAL, "option --%s needs a value", opt->name);
            value = argv[++i];
        }
        char from[80];
        snprintf(from, sizeof from, "--%s", opt->name);
        if (apply(opt, value, from, err, errlen) != LJ_OK)
            return LJ_INVAL;
    }
    return LJ_OK;
}

void lj_config_usage(FILE *out, const char *prog, const char *summary,
                     const struct lj_opt *opts, size_t nopts)
{
    char env[128], left[96];
    fprintf(out, "Usage: %s [OPTION]...\n%s\n\nOptions (each also settable as an environment "
                 "variable; flags win):\n", prog, summary);
    for (size_t i = 0; i < nopts; i++) {
        env_name(opts[i].name, env, sizeof env);
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        fprintf(out, "  %-28s %s\n  %-28s   env %s", left, opts[i].help, "", env);
        if (opts[i].type == LJ_OPT_SECRET)
            fprintf(out, " or %s_FILE (a file holding it)", env);
        if (opts[i].def != NULL && opts[i].def[0] != '\0')
            fprintf(out, ", default %s", opts[i].def);
        fputc('\n', out);
    }
    fprintf(out, "  %-28s %s\n  %-28s %s\n", "--help", "show this help and exit", "--version",
            "show the version and exit");
}

lj_status lj_parse_hostport(const char *s, char *host, size_t hostlen, int *port, char *err,
                            size_t errlen)
{
    const char *colon = strrchr(s, ':');
    const char *h = s;
    size_t hl;
    long p;

    if (colon == NULL)
        return lj_fail(err, errlen, LJ_INVAL, "'%s' is not ADDR:PORT", s);
    hl = (size_t)(colon - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']')
        h = s + 1, hl -= 2;
    if (hl >= hostlen)
        return lj_fail(err, errlen, LJ_INVAL, "address too long in '%s'", s);
    if (parse_long(colon + 1, &p) != LJ_OK || p < 1 || p > 65535)
        return lj_fail(err, errlen, LJ_INVAL, "bad port in '%s' (1..65535)", s);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return LJ_OK;
}

bool lj_host_is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           strncmp(host, "127.", 4) == 0;
}
