/* level.c - a log line's severity, guessed from the first LEVEL_WINDOW bytes.
 *
 * Shapes recognised, tried in this order (the first that gives a level wins):
 *
 *   JSON object     {"level":"warn"} {"lvl":50} {"severity":"ERROR"} {"log.level":"info"}
 *                   {"@l":"Warning"} {"levelname":"INFO"} {"s":"W"} (MongoDB); any nesting;
 *                   numbers >= 10 are pino/bunyan (10 trace .. 60 fatal), 0-7 syslog;
 *                   journald's {"PRIORITY":"3"}; Serilog CLEF ("@mt" or "@m") without
 *                   "@l" is Information, but only in a whole object (it ends in '}')
 *   fixed prefixes  glog/klog  "E1123 12:00:00.000000 ..."      (I W E F)
 *                   Ruby       "E, [2024-01-01T12:00:00 #1] ERROR -- : ..."
 *                   Android    "W/Tag(  123): ..."                (V D I W E F)
 *                   Redis      "1:M 01 Jan 2024 12:00:00.000 # ..." (. debug, - verbose,
 *                              * notice, # warning)
 *                   logcat     "01-02 03:04:05.678  1234  5678 W Tag: ..." (threadtime,
 *                              also -v year/uid), "01-02 03:04:05.678 W/Tag( 1): ..."
 *                              (time), "[ 01-02 03:04:05.678  1234: 5678 W/Tag ]" (long);
 *                              V D I W E F A
 *                   .NET       "fail: Category[0]" (Microsoft.Extensions.Logging console:
 *                              trce dbug info warn fail crit)
 *                   syslog     "<3>msg" (sd-daemon), "<134>..." (severity = N % 8)
 *                   Windows    "Level: Warning" (wevtutil), "LevelDisplayName : Error",
 *                              "Warning<TAB>1/1/2024 ..." and "Error,1/1/2024 ..." exports
 *                   runtimes   Go "fatal error: ", Rust "thread 'x' panicked at " (fatal);
 *                              Python "Traceback (most recent call last):", Java
 *                              "Exception in thread \"", Django "Internal Server Error: /"
 *                              (error)
 *   words, in order of appearance:
 *     key=value     logfmt level=, lvl=, severity=, loglevel= (value any case, quotes ok;
 *                   slog's "WARN+2" is WARN, "DEBUG-4" TRACE)
 *     UPPER CASE    ERROR, WARN, WARNING, INFO, [INF], ... anywhere in the first
 *                   UPPER_WINDOW bytes (log4j, logback, Spring Boot, Python, zap console,
 *                   nats-server, HAProxy, Kafka, Celery, Serilog, ...), also logback's
 *                   "|-WARN in" and Monolog's "app.WARNING:"; LOG/FINE only before ':'
 *                   (PostgreSQL "LOG:", java.util.logging "FINE:")
 *     [bracketed]   [error] [Warning] [Note] [core:error] [core:trace3] <info> in any
 *                   case (nginx, Apache, MySQL, RabbitMQ, Envoy, gunicorn)
 *     first word:   "error: ...", "Warning: ...", "panic: ..." in any case, also right
 *                   after a leading "(...)" or "[...]" ("(node:1) Warning: ...", node's
 *                   "[DEP0005] DeprecationWarning:") or after "prog: " / "prog[pid]: "
 *                   ("initdb: warning: ...", "sshd[9]: error: ..."); text must follow
 *     after PHP:    "PHP Warning:  ...", "PHP Fatal error:  ...", "PHP Deprecated:  ..."
 *
 * Deliberately not recognised: a lower-case level word in running text ("0 errors found",
 * "connection error, retrying"), which is prose, not a level; an upper-case one inside
 * quotes or a query string ("status = 'ERROR'", "?level=ERROR&"), which is a value; a field
 * name ("err: {"); HTTP status codes in access logs (a 500 response is not an error
 * record); lines that continue a record (stack frames, "Caused by:", PostgreSQL DETAIL and
 * STATEMENT, the message line of a two-line .NET or java.util.logging record): one line
 * is judged alone. A line that matches nothing is LJ_LEVEL_UNKNOWN. ANSI colour sequences
 * are ignored. Never allocates; cost is bounded by LEVEL_WINDOW whatever the line's length.
 * tests/unit/publisher/data/level-corpus.txt holds the labelled lines these rules are
 * measured against.
 */
#include "level.h"

#include <stdbool.h>
#include <string.h>

#define LEVEL_WINDOW 512  /* bytes of a line we look at */
#define UPPER_WINDOW 160  /* upper-case and bracketed level words must start before this */
#define WORD_MAX 16       /* longer words are never level names */

/* Where a level word may stand. */
enum {
    W_UPPER = 1,    /* upper case, anywhere in UPPER_WINDOW */
    W_COLON = 2,    /* upper case, only right before ':' */
    W_BRACKET = 4,  /* any case inside [] or <> */
    W_VALUE = 8,    /* any case as a JSON or logfmt value */
    W_PHP = 16,     /* right after "PHP " ("PHP Deprecated:  ...") */
    W_ALL = W_UPPER | W_BRACKET | W_VALUE,
};

struct level_word {
    const char *word;  /* lower case */
    enum lj_level level;
    unsigned where;
};

static const struct level_word words[] = {
    { "trace", LJ_LEVEL_TRACE, W_ALL },       { "trc", LJ_LEVEL_TRACE, W_ALL },
    { "finest", LJ_LEVEL_TRACE, W_COLON | W_VALUE },
    { "finer", LJ_LEVEL_TRACE, W_COLON | W_VALUE },
    { "debug", LJ_LEVEL_DEBUG, W_ALL },       { "dbg", LJ_LEVEL_DEBUG, W_ALL },
    { "dbug", LJ_LEVEL_DEBUG, W_ALL },        { "verbose", LJ_LEVEL_DEBUG, W_ALL },
    { "debug1", LJ_LEVEL_DEBUG, W_ALL },      { "debug2", LJ_LEVEL_DEBUG, W_ALL },
    { "debug3", LJ_LEVEL_DEBUG, W_ALL },      { "debug4", LJ_LEVEL_DEBUG, W_ALL },
    { "debug5", LJ_LEVEL_DEBUG, W_ALL },      { "fine", LJ_LEVEL_DEBUG, W_COLON | W_VALUE },
    { "info", LJ_LEVEL_INFO, W_ALL },         { "inf", LJ_LEVEL_INFO, W_ALL },
    { "information", LJ_LEVEL_INFO, W_ALL },  { "informational", LJ_LEVEL_INFO, W_ALL },
    { "notice", LJ_LEVEL_INFO, W_ALL },       { "note", LJ_LEVEL_INFO, W_ALL },
    { "log", LJ_LEVEL_INFO, W_COLON },        { "system", LJ_LEVEL_INFO, W_BRACKET },
    { "warn", LJ_LEVEL_WARN, W_ALL },         { "warning", LJ_LEVEL_WARN, W_ALL },
    { "wrn", LJ_LEVEL_WARN, W_ALL },
    { "error", LJ_LEVEL_ERROR, W_ALL },       { "err", LJ_LEVEL_ERROR, W_ALL },
    { "eror", LJ_LEVEL_ERROR, W_ALL },        { "severe", LJ_LEVEL_ERROR, W_ALL },
    { "fatal", LJ_LEVEL_FATAL, W_ALL },       { "ftl", LJ_LEVEL_FATAL, W_ALL },
    { "panic", LJ_LEVEL_FATAL, W_ALL },       { "dpanic", LJ_LEVEL_FATAL, W_UPPER | W_VALUE },
    { "crit", LJ_LEVEL_FATAL, W_ALL },        { "critical", LJ_LEVEL_FATAL, W_ALL },
    { "alert", LJ_LEVEL_FATAL, W_ALL },       { "emerg", LJ_LEVEL_FATAL, W_ALL },
    { "emergency", LJ_LEVEL_FATAL, W_ALL },
    { "deprecated", LJ_LEVEL_WARN, W_PHP },
    /* Serilog's "[12:00:00 VRB]" (Verbose, below Debug) */
    { "vrb", LJ_LEVEL_TRACE, W_UPPER | W_BRACKET },
    /* Apache httpd's trace1..trace8, as in "[core:trace3]" */
    { "trace1", LJ_LEVEL_TRACE, W_BRACKET },  { "trace2", LJ_LEVEL_TRACE, W_BRACKET },
    { "trace3", LJ_LEVEL_TRACE, W_BRACKET },  { "trace4", LJ_LEVEL_TRACE, W_BRACKET },
    { "trace5", LJ_LEVEL_TRACE, W_BRACKET },  { "trace6", LJ_LEVEL_TRACE, W_BRACKET },
    { "trace7", LJ_LEVEL_TRACE, W_BRACKET },  { "trace8", LJ_LEVEL_TRACE, W_BRACKET },
    /* logrus' text formatter: "ERRO[0002] msg" */
    { "trac", LJ_LEVEL_TRACE, W_UPPER },      { "debu", LJ_LEVEL_DEBUG, W_UPPER },
    { "erro", LJ_LEVEL_ERROR, W_UPPER },      { "fata", LJ_LEVEL_FATAL, W_UPPER },
    { "pani", LJ_LEVEL_FATAL, W_UPPER },
    /* one letter: only as a JSON value (MongoDB "s", some structured loggers) */
    { "t", LJ_LEVEL_TRACE, W_VALUE },         { "v", LJ_LEVEL_DEBUG, W_VALUE },
    { "d", LJ_LEVEL_DEBUG, W_VALUE },         { "d1", LJ_LEVEL_DEBUG, W_VALUE },
    { "d2", LJ_LEVEL_DEBUG, W_VALUE },        { "d3", LJ_LEVEL_DEBUG, W_VALUE },
    { "d4", LJ_LEVEL_DEBUG, W_VALUE },        { "d5", LJ_LEVEL_DEBUG, W_VALUE },
    { "i", LJ_LEVEL_INFO, W_VALUE },          { "w", LJ_LEVEL_WARN, W_VALUE },
    { "e", LJ_LEVEL_ERROR, W_VALUE },         { "f", LJ_LEVEL_FATAL, W_VALUE },
};

/* Keys naming a level, lower case: JSON keys and logfmt keys. */
static const char *const level_keys[] = {
    "level", "lvl", "severity", "loglevel", "log.level", "log_level", "levelname",
    "level_name", "@l", "@level", "sev",
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_';
}

/* The level word equal to s[0..n) ignoring case, or NULL. */
static const struct level_word *find_word(const char *s, size_t n)
{
    char w[WORD_MAX];

    if (n == 0 || n >= WORD_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        w[i] = lower(s[i]);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (words[i].word[0] == w[0] && strlen(words[i].word) == n &&
            memcmp(words[i].word, w, n) == 0)
            return &words[i];
    return NULL;
}

static bool all_upper(const char *s, size_t n)
{
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z')
            return false;
        letter |= is_alpha(s[i]);
    }
    return letter;
}

static bool is_level_key(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof level_keys / sizeof level_keys[0]; i++) {
        size_t k = strlen(level_keys[i]);
        if (k != n)
            continue;
        size_t j = 0;
        while (j < n && lower(s[j]) == level_keys[i][j])
            j++;
        if (j == n)
            return true;
    }
    return false;
}

/* A value word (JSON string or logfmt value) as a level. */
static enum lj_level value_level(const char *s, size_t n)
{
    const struct level_word *w = find_word(s, n);
    return w != NULL && (w->where & W_VALUE) ? w->level : LJ_LEVEL_UNKNOWN;
}

/* A numeric level: pino/bunyan (10..60) or syslog severity (0..7). */
static enum lj_level number_level(long v)
{
    static const enum lj_level syslog[8] = {
        LJ_LEVEL_FATAL, LJ_LEVEL_FATAL, LJ_LEVEL_FATAL, LJ_LEVEL_ERROR,
        LJ_LEVEL_WARN, LJ_LEVEL_INFO, LJ_LEVEL_INFO, LJ_LEVEL_DEBUG,
    };
    if (v < 0)
        return LJ_LEVEL_UNKNOWN;
    if (v < 8)
        return syslog[v];
    if (v < 10)
        return LJ_LEVEL_UNKNOWN;
    return v <= 10 ? LJ_LEVEL_TRACE : v <= 20 ? LJ_LEVEL_DEBUG : v <= 30 ? LJ_LEVEL_INFO
         : v <= 40 ? LJ_LEVEL_WARN : v <= 50 ? LJ_LEVEL_ERROR : LJ_LEVEL_FATAL;
}

/* ---- JSON ------------------------------------------------------------------ */

/* s[*i] is '"': moves *i past the closing quote; sets the content's bounds (escapes
 * left in). Returns false when the string does not end within n. */
static bool json_string(const char *s, size_t n, size_t *i, size_t *start, size_t *len)
{
    size_t j = *i + 1;
    *start = j;
    while (j < n && s[j] != '"')
        j += s[j] == '\\' ? 2 : 1;
    if (j >= n)
        return false;
    *len = j - *start;
    *i = j + 1;
    return true;
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* The value at s[i] of a level key. */
/* The value at s[i] of a level key; *small is set to a number 0-7, whose scale the
 * number alone does not tell (syslog's in GELF, 0 debug .. 4 fatal in Nextcloud), else -1. */
static enum lj_level json_value(const char *s, size_t n, size_t i, int *small)
{
    size_t start, len;
    long v = 0;

    if (i < n && s[i] == '"')
        return json_string(s, n, &i, &start, &len) ? value_level(s + start, len)
                                                     : LJ_LEVEL_UNKNOWN;
    if (i >= n || !is_digit(s[i]))
        return LJ_LEVEL_UNKNOWN;
    for (; i < n && is_digit(s[i]) && v < 1000; i++)
        v = v * 10 + (s[i] - '0');
    *small = v < 8 ? (int)v : -1;
    return number_level(v);
}

/* journald's "PRIORITY":"3" (a syslog severity written as a string, systemd.journal-fields(7)). */
static enum lj_level journal_priority(const char *s, size_t n, size_t i)
{
    if (i + 2 < n && s[i] == '"' && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] == '"')
        return number_level(s[i + 1] - '0');
    return LJ_LEVEL_UNKNOWN;
}

/* Scans every string of a JSON object; the first level key with a level value wins.
 * Serilog's compact format (CLEF, "@mt" or "@m") leaves "@l" out for Information. A level
 * 0-7 is syslog's beside GELF's "short_message", Nextcloud's beside its "reqId", and
 * otherwise unknown. */
static enum lj_level from_json(const char *s, size_t n)
{
    static const enum lj_level nextcloud[5] = {
        LJ_LEVEL_DEBUG, LJ_LEVEL_INFO, LJ_LEVEL_WARN, LJ_LEVEL_ERROR, LJ_LEVEL_FATAL,
    };
    size_t i = 1, start, len;
    bool clef = false, gelf = false, reqid = false;
    int small_level = -1;

    while (i < n) {
        if (s[i] != '"') {
            i++;
            continue;
        }
        if (!json_string(s, n, &i, &start, &len))
            break;
        size_t j = skip_space(s, n, i);
        if (j >= n || s[j] != ':')
            continue;
        j = skip_space(s, n, j + 1);
        if ((len == 3 && memcmp(s + start, "@mt", 3) == 0) ||
            (len == 2 && memcmp(s + start, "@m", 2) == 0))
            clef = true;
        if (len == 13 && memcmp(s + start, "short_message", 13) == 0)
            gelf = true;
        if (len == 5 && memcmp(s + start, "reqId", 5) == 0)
            reqid = true;
        if (len == 8 && memcmp(s + start, "PRIORITY", 8) == 0) {
            enum lj_level l = journal_priority(s, n, j);
            if (l != LJ_LEVEL_UNKNOWN)
                return l;
            continue;
        }
        bool mongo = len == 1 && s[start] == 's';
        if (!mongo && !is_level_key(s + start, len))
            continue;
        int small = -1;
        enum lj_level l = json_value(s, n, j, &small);
        if (small >= 0) {
            if (small_level < 0)
                small_level = small;
        } else if (l != LJ_LEVEL_UNKNOWN) {
            return l;
        }
    }
    if (small_level >= 0 && gelf)
        return number_level(small_level);
    if (small_level >= 0 && reqid)
        return small_level < 5 ? nextcloud[small_level] : LJ_LEVEL_UNKNOWN;
    if (small_level >= 0)
        return LJ_LEVEL_UNKNOWN;
    /* Only a whole object says "no @l": a cut one may hold it further on. */
    return clef && i >= n && n > 0 && s[n - 1] == '}' ? LJ_LEVEL_INFO : LJ_LEVEL_UNKNOWN;
}

/* ---- fixed prefixes -------------------------------------------------------- */

/* Whether s[i..] holds the digit/separator pattern p ('9' a digit, other bytes literal). */
static bool shaped(const char *s, size_t n, size_t i, const char *p)
{
    for (; *p; p++, i++)
        if (i >= n || (*p == '9' ? !is_digit(s[i]) : s[i] != *p))
            return false;
    return true;
}

static enum lj_level letter_level(char c, const char *letters)
{
    static const enum lj_level by_letter[] = {
        ['T'] = LJ_LEVEL_TRACE, ['V'] = LJ_LEVEL_DEBUG, ['D'] = LJ_LEVEL_DEBUG,
        ['I'] = LJ_LEVEL_INFO, ['W'] = LJ_LEVEL_WARN, ['E'] = LJ_LEVEL_ERROR,
        ['F'] = LJ_LEVEL_FATAL, ['A'] = LJ_LEVEL_FATAL,
    };
    if (c == '\0' || strchr(letters, c) == NULL)
        return LJ_LEVEL_UNKNOWN;
    return by_letter[(unsigned char)c];
}

/* glog/klog: "E1123 12:00:00.000000 ..."; CockroachDB adds the year: "E240101 12:00:00..." */
static enum lj_level from_glog(const char *s, size_t n)
{
    if (!shaped(s, n, 1, "9999 99:") && !shaped(s, n, 1, "999999 99:"))
        return LJ_LEVEL_UNKNOWN;
    return letter_level(s[0], "IWEF");
}

/* Rails (Ruby Logger): "E, [2024-01-01T12:00:00.000000 #1] ERROR -- : msg" */
static enum lj_level from_rails(const char *s, size_t n)
{
    if (n < 4 || s[1] != ',' || s[2] != ' ' || s[3] != '[')
        return LJ_LEVEL_UNKNOWN;
    return letter_level(s[0], "DIWEF");
}

/* Android logcat brief: "W/ActivityManager(  123): msg" ("I/O error" is not one). */
static enum lj_level from_logcat(const char *s, size_t n)
{
    size_t i = 2;

    if (n < 4 || s[1] != '/' || !is_alpha(s[2]))
        return LJ_LEVEL_UNKNOWN;
    while (i < n && (is_word(s[i]) || s[i] == '.' || s[i] == '$' || s[i] == '-'))
        i++;
    while (i < n && s[i] == ' ')
        i++;
    if (i >= n || (s[i] != '(' && s[i] != ':'))
        return LJ_LEVEL_UNKNOWN;
    return letter_level(s[0], "VDIWEF");
}

/* Redis: "1:M 01 Jan 2024 12:00:00.000 # msg" */
static enum lj_level from_redis(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && is_digit(s[i]))
        i++;
    if (i == 0 || i + 30 > n || s[i] != ':' || strchr("MSCX", s[i + 1]) == NULL ||
        s[i + 1] == '\0' || s[i + 2] != ' ')
        return LJ_LEVEL_UNKNOWN;
    const char *d = s + i + 3;  /* "01 Jan 2024 12:00:00.000 # " */
    if (d[2] != ' ' || d[6] != ' ' || d[11] != ' ' || d[14] != ':' || d[20] != '.' ||
        d[24] != ' ' || d[26] != ' ')
        return LJ_LEVEL_UNKNOWN;
    switch (d[25]) {
    case '.': return LJ_LEVEL_DEBUG;
    case '-': return LJ_LEVEL_DEBUG;
    case '*': return LJ_LEVEL_INFO;
    case '#': return LJ_LEVEL_WARN;
    default: return LJ_LEVEL_UNKNOWN;
    }
}


/* Android logcat with a time: -v time "01-02 03:04:05.678 W/Tag( 123): msg", -v threadtime
 * (the default) "01-02 03:04:05.678  1234  5678 W Tag: msg" (also with -v year and -v uid),
 * and the header of -v long "[ 01-02 03:04:05.678  1234: 5678 W/Tag ]". */
static enum lj_level from_logcat_time(const char *s, size_t n)
{
    size_t i = 0, fields = 0;
    bool long_header = shaped(s, n, 0, "[ ");

    if (long_header)
        i = 2;
    if (shaped(s, n, i, "9999-"))
        i += 5;
    if (!shaped(s, n, i, "99-99 99:99:99.999 "))
        return LJ_LEVEL_UNKNOWN;
    i += 19;
    while (i < n && s[i] == ' ')
        i++;
    if (i + 1 < n && s[i + 1] == '/')
        return from_logcat(s + i, n - i);
    /* pid and tid (and a uid before them): numbers, or a uid name such as u0_a123 */
    while (fields < 4 && i < n && is_word(s[i])) {
        size_t a = i;
        while (i < n && is_word(s[i]))
            i++;
        if (i - a == 1 && i < n && (s[i] == ' ' || s[i] == '/')) {
            i = a;  /* the priority letter */
            break;
        }
        if (i < n && s[i] == ':')
            i++;
        if (i >= n || s[i] != ' ')
            return LJ_LEVEL_UNKNOWN;
        while (i < n && s[i] == ' ')
            i++;
        fields++;
    }
    if (fields < 2 || i + 2 >= n || !is_alpha(s[i + 2]))
        return LJ_LEVEL_UNKNOWN;
    if (s[i + 1] == '/') {
        enum lj_level l = from_logcat(s + i, n - i);
        return l || !long_header ? l : letter_level(s[i], "VDIWEFA");
    }
    if (s[i + 1] != ' ')
        return LJ_LEVEL_UNKNOWN;
    /* the tag, padded with spaces, then ':' */
    for (size_t j = i + 2; j < n && j < i + 2 + 64; j++)
        if (s[j] == ':')
            return letter_level(s[i], "VDIWEFA");
    return LJ_LEVEL_UNKNOWN;
}

/* Microsoft.Extensions.Logging's console formatter: "fail: Category[EventId]" (the message
 * follows on the next line). "info:" and "warn:" are also found as first words. */
static enum lj_level from_dotnet(const char *s, size_t n)
{
    static const struct { char name[5]; enum lj_level level; } names[] = {
        { "trce", LJ_LEVEL_TRACE }, { "dbug", LJ_LEVEL_DEBUG }, { "info", LJ_LEVEL_INFO },
        { "warn", LJ_LEVEL_WARN },  { "fail", LJ_LEVEL_ERROR }, { "crit", LJ_LEVEL_FATAL },
    };
    size_t i = 6;

    if (n < 10 || s[4] != ':' || s[5] != ' ' || !is_alpha(s[6]))
        return LJ_LEVEL_UNKNOWN;
    while (i < n && s[i] != ' ' && s[i] != '[')
        i++;
    if (i >= n || s[i] != '[' || i + 1 >= n || !is_digit(s[i + 1]))
        return LJ_LEVEL_UNKNOWN;
    for (i++; i < n && is_digit(s[i]); i++)
        ;
    if (i >= n || s[i] != ']' || (i + 1 < n && s[i + 1] != ' ' && s[i + 1] != '\r'))
        return LJ_LEVEL_UNKNOWN;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (memcmp(s, names[k].name, 4) == 0)
            return names[k].level;
    return LJ_LEVEL_UNKNOWN;
}

/* A syslog priority opening the line: sd-daemon(3) "<3>msg" (severity 0-7) or a syslog
 * packet's "<134>..." (facility * 8 + severity). */
static enum lj_level from_syslog_pri(const char *s, size_t n)
{
    size_t i = 1;
    long v = 0;

    if (n < 4 || s[0] != '<')
        return LJ_LEVEL_UNKNOWN;
    while (i < n && i < 4 && is_digit(s[i]))
        v = v * 10 + (s[i++] - '0');
    if (i == 1 || i >= n - 1 || s[i] != '>' || v > 191 || (i > 2 && s[1] == '0') ||
        s[i + 1] == ' ' || s[i + 1] == '<')
        return LJ_LEVEL_UNKNOWN;
    return number_level(v % 8);
}

/* Windows event exports: "Level: Warning" (wevtutil /f:text), "LevelDisplayName : Error"
 * (PowerShell Format-List), and "Warning<TAB>1/1/2024 ..." or "Error,1/1/2024 ..." (Event
 * Viewer's tab- or comma-separated export, the level first). */
static enum lj_level from_windows(const char *s, size_t n)
{
    size_t i = 0;

    if (shaped(s, n, 0, "Level")) {
        i = 5;
        if (shaped(s, n, i, "DisplayName"))
            i += 11;
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n || s[i] != ':')
            return LJ_LEVEL_UNKNOWN;
        i = skip_space(s, n, i + 1);
        size_t a = i;
        while (i < n && is_alpha(s[i]))
            i++;
        return i == n || s[i] == ' ' || s[i] == '\r' ? value_level(s + a, i - a)
                                                      : LJ_LEVEL_UNKNOWN;
    }
    while (i < n && is_alpha(s[i]))
        i++;
    if (i < 4 || i + 1 >= n || (s[i] != '\t' && s[i] != ',') || !is_digit(s[i + 1]) ||
        s[0] < 'A' || s[0] > 'Z')
        return LJ_LEVEL_UNKNOWN;
    return value_level(s, i);
}

static bool starts_with(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(s, p, k) == 0;
}

/* Rust's panic message: "thread 'main' panicked at src/main.rs:2:5:". */
static bool rust_panic(const char *s, size_t n)
{
    if (!starts_with(s, n, "thread '"))
        return false;
    for (size_t i = 8; i < n && i < 8 + 128; i++)
        if (s[i] == '\'')
            return starts_with(s + i, n - i, "' panicked at ");
    return false;
}

static enum lj_level from_prefix(const char *s, size_t n)
{
    enum lj_level l;

    if ((l = from_glog(s, n)) || (l = from_rails(s, n)) || (l = from_logcat(s, n)) ||
        (l = from_redis(s, n)) || (l = from_logcat_time(s, n)) || (l = from_dotnet(s, n)) ||
        (l = from_syslog_pri(s, n)) || (l = from_windows(s, n)))
        return l;
    if (starts_with(s, n, "fatal error: ") || rust_panic(s, n))  /* Go and Rust runtimes */
        return LJ_LEVEL_FATAL;
    if (starts_with(s, n, "\xe2\x9a\xa0 "))  /* Next.js' "⚠ " (U+26A0) */
        return LJ_LEVEL_WARN;
    if (starts_with(s, n, "\xe2\xa8\xaf "))  /* Next.js' "⨯ " (U+2A2F) */
        return LJ_LEVEL_ERROR;
    if (starts_with(s, n, "Traceback (most recent call last):") ||
        starts_with(s, n, "Exception in thread \"") ||
        starts_with(s, n, "Internal Server Error: /"))  /* Django's django.request */
        return LJ_LEVEL_ERROR;
    return LJ_LEVEL_UNKNOWN;
}

/* ---- words ----------------------------------------------------------------- */

/* logfmt value after "key=": bare or double-quoted. slog's offsets ("WARN+2", "DEBUG-4")
 * keep the named level, except that below DEBUG is TRACE. */
static enum lj_level logfmt_value(const char *s, size_t n, size_t i)
{
    size_t start;

    if (i < n && s[i] == '"')
        i++;
    start = i;
    while (i < n && (is_alpha(s[i]) || s[i] == '_'))
        i++;
    size_t end = i;
    bool below = i + 1 < n && s[i] == '-' && s[i + 1] >= '1' && s[i + 1] <= '9';
    if (i + 1 < n && (s[i] == '+' || s[i] == '-') && is_digit(s[i + 1]))
        for (i++; i < n && is_digit(s[i]); i++)
            ;
    if (i < n && (is_word(s[i]) || s[i] == '-'))
        return LJ_LEVEL_UNKNOWN;
    enum lj_level l = value_level(s + start, end - start);
    return below && l == LJ_LEVEL_DEBUG ? LJ_LEVEL_TRACE : l;
}

/* Whether the word at a follows "prog: " or "prog[pid]: " where prog opens the line or
 * follows a space ("initdb: warning: ...", "... sshd[9]: error: ..."). */
static bool after_program(const char *s, size_t a)
{
    size_t k;
    bool letter = false;

    if (a < 3 || s[a - 1] != ' ' || s[a - 2] != ':')
        return false;
    for (k = a - 2; k > 0; k--) {
        char c = s[k - 1];
        if (!is_word(c) && c != '.' && c != '-' && c != '[' && c != ']' && c != '/')
            break;
        letter |= is_alpha(c);
    }
    return letter && k < a - 2 && (k == 0 || s[k - 1] == ' ');
}

/* Whether some text follows "word:" at b: a record rather than a field ("err: {"). */
static bool text_follows(const char *s, size_t n, size_t b)
{
    size_t i = b + 1;
    while (i < n && s[i] == ' ')
        i++;
    return i < n && s[i] != '{' && s[i] != '[' && s[i] != '\r';
}

/* Characters that make an upper-case word part of a value, a path or a quotation
 * ("/ERROR", "?level=ERROR&", "status = 'ERROR'"); '/' only before it ("INFO/MainProcess"
 * is Celery's level and process). */
static bool quoting(char c, bool before)
{
    return c == '.' || c == '-' || c == '=' || c == '\'' || c == '"' || c == '`' || c == '&' ||
           c == '?' || (before && c == '/');
}

/* One word s[a..b) in its surroundings; LJ_LEVEL_UNKNOWN when it says nothing.
 * first: the word opens the line, or follows a leading bracketed group, or "PHP". */
static enum lj_level word_level(const char *s, size_t n, size_t a, size_t b, bool first)
{
    char prev = a > 0 ? s[a - 1] : ' ', next = b < n ? s[b] : ' ';
    bool upper = all_upper(s + a, b - a);
    /* "PHP Warning:" anywhere (php-fpm quotes it), npm 10's "npm warn ..." opening the line */
    bool php = a >= 4 && (memcmp(s + a - 4, "PHP ", 4) == 0 ||
                          (a == 4 && memcmp(s, "npm ", 4) == 0));
    /* Fluent Bit pads its levels: "[ info]", "[ warn]" */
    bool padded = prev == ' ' && a >= 2 && s[a - 2] == '[' && next == ']';
    bool bracket = prev == '[' || prev == '<' || prev == ':' || padded;
    const struct level_word *w;

    if (next == '=' && (prev == ' ' || prev == '\t') && is_level_key(s + a, b - a))
        return logfmt_value(s, n, b + 1);
    /* One letter: Gitea's "func() [W] msg", Telegraf's "2024-01-01T12:00:00Z W! msg" */
    if (b - a == 1 && prev == '[' && next == ']' && a >= 4 && memcmp(s + a - 4, "() ", 3) == 0)
        return letter_level(s[a], "TDIWEF");
    if (b - a == 1 && next == '!' && prev == ' ' && a < 40 && b + 1 < n && s[b + 1] == ' ')
        return letter_level(s[a], "DIWE");
    /* Most words of a line are prose: skip the table unless the place could hold a level. */
    if (!upper && !bracket && !php && !((first || after_program(s, a)) && next == ':'))
        return LJ_LEVEL_UNKNOWN;
    if ((w = find_word(s + a, b - a)) == NULL) {
        /* node's "(node:1) [DEP0005] DeprecationWarning: ..." */
        if (first && next == ':' && b - a > 7 && memcmp(s + b - 7, "Warning", 7) == 0 &&
            s[a] >= 'A' && s[a] <= 'Z')
            return LJ_LEVEL_WARN;
        return LJ_LEVEL_UNKNOWN;
    }
    if (next == ':' && (w->where & W_COLON) && upper)
        return w->level;
    if (a >= UPPER_WINDOW)
        return LJ_LEVEL_UNKNOWN;
    if ((w->where & W_UPPER) && b - a >= 3 && upper) {
        /* logback's status lines "|-WARN in ..."; Monolog's "app.WARNING: ..." */
        bool status = prev == '-' && a >= 2 && s[a - 2] == '|';
        bool channel = prev == '.' && next == ':' && a >= 2 && is_word(s[a - 2]);
        if ((status || channel || !quoting(prev, true)) && !quoting(next, false))
            return w->level;
    }
    if ((w->where & W_BRACKET) && ((prev == '[' && next == ']') || (prev == '<' && next == '>') ||
                                   (prev == ':' && next == ']') || padded))
        return w->level;
    if (php && (w->where & (W_ALL | W_PHP)) && b - a >= 3 && (next == ':' || next == ' '))
        return w->level;
    if ((first || after_program(s, a)) && next == ':' && (w->where & W_ALL) && b - a >= 3 &&
        text_follows(s, n, b))
        return w->level;
    return LJ_LEVEL_UNKNOWN;
}

/* Whether the word at a opens the line as far as "error: ..." is concerned. */
static bool opens_line(const char *s, size_t a)
{
    if (a == 0)
        return true;
    if (a >= 2 && s[a - 1] == ' ' && (s[a - 2] == ')' || s[a - 2] == ']'))
        return true;
    return a >= 4 && memcmp(s + a - 4, "PHP ", 4) == 0;
}

static enum lj_level from_words(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (!is_word(s[i])) {
            i++;
            continue;
        }
        size_t a = i;
        while (i < n && is_word(s[i]))
            i++;
        enum lj_level l = word_level(s, n, a, i, opens_line(s, a));
        if (l != LJ_LEVEL_UNKNOWN)
            return l;
    }
    return LJ_LEVEL_UNKNOWN;
}

/* Copies s without ANSI CSI sequences ("\x1b[31m") into out; returns the new length. */
static size_t strip_ansi(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\x1b' && i + 1 < n && s[i + 1] == '[') {
            i += 2;
            while (i < n && !(s[i] >= 0x40 && s[i] <= 0x7e))
                i++;
            continue;
        }
        out[o++] = s[i];
    }
    return o;
}

enum lj_level lj_level_detect(const char *line, size_t len)
{
    char clean[LEVEL_WINDOW];
    size_t n = len < LEVEL_WINDOW ? len : LEVEL_WINDOW;
    enum lj_level l;

    if (line == NULL || n == 0)
        return LJ_LEVEL_UNKNOWN;
    if (memchr(line, '\x1b', n) != NULL) {
        n = strip_ansi(line, n, clean);
        line = clean;
    }
    while (n > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    if (n > 0 && *line == '{')
        return from_json(line, n);
    if ((l = from_prefix(line, n)) != LJ_LEVEL_UNKNOWN)
        return l;
    return from_words(line, n);
}
