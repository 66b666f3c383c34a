/* natsconn.c - NATS options, the connector thread, connection state and its reasons.
 *
 * Threads: "connector" (attempts), nats.c's callback thread (disconnected, reconnected,
 * closed, error handlers), and the owner's threads (take, lost, close, healthy). All
 * shared fields are under lock.
 */
#include "natsconn.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "natsurl.h"
#include "nkey.h"
#include "timeutil.h"

#define REPEAT_LOG_NS (60LL * 1000000000)      /* the same failure logged at most this often */
#define PERMISSION_WINDOW_NS (30LL * 1000000000) /* a violation keeps health red this long */
#define CLOSE_WAIT_S 5
#define TEXT_MAX 512
#define SECRETS_MAX (2 + 2 * 16)

enum state { CONNECTING, CONNECTED, DISCONNECTED };

struct lj_natsconn {
    struct lj_natsconn_options o;
    struct lj_natsconn_hooks hooks;
    char name[128];
    char shown_url[400];          /* credentials as *** */
    char nkey_public[LJ_NKEY_PUBLIC_LEN + 1];
    char *secrets[SECRETS_MAX];    /* texts never to show: password, token, URL user info */
    size_t nsecrets;

    pthread_mutex_t lock;
    pthread_cond_t cond;           /* connector wake-ups; closed callbacks for close() */
    pthread_t thread;
    bool thread_started, stopping;
    natsConnection *ready;         /* made, not yet taken */
    natsConnection *live;          /* the one handed out (or ready), NULL after lost/close */
    natsConnection *lost;          /* the last one given back through lj_natsconn_lost */
    bool live_closed;              /* nats.c's closed callback ran for live */
    bool closing;                  /* lj_natsconn_close is closing live */
    int64_t retry_at;              /* monotonic ns of the next attempt */

    enum state state;
    char reason[TEXT_MAX];         /* why not CONNECTED, scrubbed */
    char denied[TEXT_MAX];         /* last permission violation, scrubbed */
    int64_t denied_at;

    char last_report[TEXT_MAX];    /* rate limit of the error lines */
    int64_t last_report_at;
    unsigned long repeats;
};

/* ---- texts without secrets ------------------------------------------------------- */

static void add_secret(struct lj_natsconn *c, const char *s, size_t n)
{
    if (n == 0 || c->nsecrets == SECRETS_MAX)
        return;
    if ((c->secrets[c->nsecrets] = strndup(s, n)) != NULL)
        c->nsecrets++;
}

/* The user info of every URL ("user:pass", "token") and its part after ':'. */
static void collect_url_secrets(struct lj_natsconn *c, const char *list)
{
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        const char *s = strstr(p, "://"), *end = p + strcspn(p, ",");
        const char *h = s && s < end ? s + 3 : p;
        const char *at = memchr(h, '@', (size_t)(end - h));
        if (at == NULL)
            continue;
        add_secret(c, h, (size_t)(at - h));
        const char *colon = memchr(h, ':', (size_t)(at - h));
        if (colon)
            add_secret(c, colon + 1, (size_t)(at - colon - 1));
    }
}

/* Copies in into out (size n) with every secret replaced by ***. */
static void scrub(const struct lj_natsconn *c, const char *in, char *out, size_t n)
{
    size_t o = 0;
    while (*in && o + 1 < n) {
        size_t hit = 0;
        for (size_t i = 0; i < c->nsecrets && !hit; i++)
            if (strncmp(in, c->secrets[i], strlen(c->secrets[i])) == 0)
                hit = strlen(c->secrets[i]);
        if (hit) {
            for (const char *r = "***"; *r && o + 1 < n; r++)
                out[o++] = *r;
            in += hit;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

/* Logs one error line, or counts it when the same (msg, text) was logged within the
 * last minute; the next line that is logged says how often it repeated meanwhile. */
static void report(struct lj_natsconn *c, enum lj_log_level level, const char *msg,
                   const char *text)
{
    char key[TEXT_MAX], q[TEXT_MAX + 64];
    int64_t now = lj_time_mono_ns();
    unsigned long repeats;

    snprintf(key, sizeof key, "%.100s|%.400s", msg, text);
    pthread_mutex_lock(&c->lock);
    if (strcmp(key, c->last_report) == 0 && now - c->last_report_at < REPEAT_LOG_NS) {
        c->repeats++;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    repeats = strcmp(key, c->last_report) == 0 ? c->repeats : 0;
    snprintf(c->last_report, sizeof c->last_report, "%s", key);
    c->last_report_at = now;
    c->repeats = 0;
    pthread_mutex_unlock(&c->lock);
    lj_log(level, msg, "server=%s error=%s%s%.0lu", c->shown_url,
           lj_log_quote(q, sizeof q, text), repeats ? " repeated=" : "", repeats);
}

static void set_state(struct lj_natsconn *c, enum state st, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    c->state = st;
    snprintf(c->reason, sizeof c->reason, "%.*s", (int)sizeof c->reason - 1, reason);
    pthread_mutex_unlock(&c->lock);
}

/* ---- nats.c callbacks --------------------------------------------------------------- */

static bool is_ours(struct lj_natsconn *c, natsConnection *nc, bool *closing)
{
    bool ours;
    pthread_mutex_lock(&c->lock);
    ours = nc == c->live || nc == c->lost;
    *closing = c->closing || c->stopping;
    pthread_mutex_unlock(&c->lock);
    return ours;
}

static void on_disconnected(natsConnection *nc, void *arg)
{
    struct lj_natsconn *c = arg;
    char why[TEXT_MAX];
    bool closing;
    if (!is_ours(c, nc, &closing) || closing)
        return;
    snprintf(why, sizeof why, "disconnected from %s; reconnecting", c->shown_url);
    set_state(c, DISCONNECTED, why);
    lj_log(LJ_LOG_WARN, "disconnected from NATS", "server=%s", c->shown_url);
    if (c->hooks.disconnected)
        c->hooks.disconnected(nc, c->hooks.arg);
}

static void on_reconnected(natsConnection *nc, void *arg)
{
    struct lj_natsconn *c = arg;
    char url[512] = "", shown[512];
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    set_state(c, CONNECTED, "");
    lj_log(LJ_LOG_INFO, "reconnected to NATS", "url=%s",
           lj_natsurl_redact(url, shown, sizeof shown));
    if (c->hooks.reconnected)
        c->hooks.reconnected(nc, c->hooks.arg);
}

static void on_closed(natsConnection *nc, void *arg)
{
    struct lj_natsconn *c = arg;
    const char *last = NULL;
    char text[TEXT_MAX], why[TEXT_MAX + 64];
    bool closing, ours = is_ours(c, nc, &closing);

    pthread_mutex_lock(&c->lock);
    if (nc == c->live)
        c->live_closed = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (!ours || closing)
        return;
    natsConnection_GetLastError(nc, &last);
    scrub(c, last && *last ? last : "no reason given", text, sizeof text);
    snprintf(why, sizeof why, "connection closed: %s", text);
    set_state(c, CONNECTING, why);
    /* A warning: the next attempt's failure is the one error line, with the cause. */
    report(c, LJ_LOG_WARN, "NATS gave the connection up; connecting again", text);
    if (c->hooks.closed)
        c->hooks.closed(nc, c->hooks.arg);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *arg)
{
    struct lj_natsconn *c = arg;
    const char *last = NULL;
    char text[TEXT_MAX], raw[TEXT_MAX];
    (void)sub;

    natsConnection_GetLastError(nc, &last);
    snprintf(raw, sizeof raw, "%s%s%s", natsStatus_GetText(err),
             last && *last && strcmp(last, natsStatus_GetText(err)) ? ": " : "",
             last && *last && strcmp(last, natsStatus_GetText(err)) ? last : "");
    scrub(c, raw, text, sizeof text);
    if (err == NATS_NOT_PERMITTED) {
        pthread_mutex_lock(&c->lock);
        snprintf(c->denied, sizeof c->denied, "%s", text);
        c->denied_at = lj_time_mono_ns();
        pthread_mutex_unlock(&c->lock);
        report(c, LJ_LOG_ERROR, "NATS permission denied", text);
    } else if (err == NATS_CONNECTION_AUTH_FAILED) {
        /* Seen while reconnecting: either a later attempt succeeds or nats.c gives the
         * connection up and the connector's attempt reports the cause. */
        char why[TEXT_MAX + 64];
        snprintf(why, sizeof why, "reconnecting: %s", text);
        set_state(c, DISCONNECTED, why);
    } else {
        /* Slow consumers: the owner's own recovery (ack timeout, gap fill) repairs what
         * was dropped. */
        report(c, LJ_LOG_WARN, "NATS asynchronous error", text);
    }
}

/* ---- options ------------------------------------------------------------------------ */

static lj_status readable(const char *opt, const char *path, char *err, size_t errlen)
{
    if (path != NULL && access(path, R_OK) != 0)
        return lj_fail(err, errlen, LJ_INVAL, "--%s: cannot read '%s': %s", opt, path,
                       strerror(errno));
    return LJ_OK;
}

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

lj_status lj_natsconn_check(const struct lj_natsconn_options *o, char *err, size_t errlen)
{
    int ways = given(o->creds) + given(o->nkey) + given(o->token) + given(o->user);
    char pub[LJ_NKEY_PUBLIC_LEN + 1];

    if (lj_natsurl_check(o->url, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if (ways > 1)
        return lj_fail(err, errlen, LJ_INVAL, "give only one of --nats-creds, --nats-nkey, "
                       "--nats-token and --nats-user");
    if (given(o->user) != given(o->password))
        return lj_fail(err, errlen, LJ_INVAL, given(o->user) ? "--nats-user needs --nats-password"
                       : "--nats-password needs --nats-user");
    if (given(o->cert) != given(o->key))
        return lj_fail(err, errlen, LJ_INVAL, "--nats-cert and --nats-key go together");
    if (readable("nats-creds", given(o->creds) ? o->creds : NULL, err, errlen) != LJ_OK
        || readable("nats-ca", given(o->ca) ? o->ca : NULL, err, errlen) != LJ_OK
        || readable("nats-cert", given(o->cert) ? o->cert : NULL, err, errlen) != LJ_OK
        || readable("nats-key", given(o->key) ? o->key : NULL, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if (given(o->nkey) && lj_nkey_public_from_seed_file(o->nkey, pub, sizeof pub, err, errlen) != LJ_OK)
        return LJ_INVAL;
    return LJ_OK;
}

static natsStatus set_auth(struct lj_natsconn *c, natsOptions *o)
{
    if (given(c->o.creds))
        return natsOptions_SetUserCredentialsFromFiles(o, c->o.creds, NULL);
    if (given(c->o.nkey))
        return natsOptions_SetNKeyFromSeed(o, c->nkey_public, c->o.nkey);
    if (given(c->o.token))
        return natsOptions_SetToken(o, c->o.token);
    if (given(c->o.user))
        return natsOptions_SetUserInfo(o, c->o.user, c->o.password);
    return NATS_OK;
}

/* TLS when a URL says tls:// or a CA or client certificate is given. nats.c 3.4.1
 * checks the server's host name only when told which name to expect: the first URL's
 * host (one name for a whole list, which is what nats.c can hold). */
static natsStatus set_tls(struct lj_natsconn *c, natsOptions *o)
{
    char host[256];
    natsStatus st = NATS_OK;
    if (!lj_natsurl_wants_tls(c->o.url) && !given(c->o.ca) && !given(c->o.cert))
        return NATS_OK;
    st = natsOptions_SetSecure(o, true);
    if (st == NATS_OK && given(c->o.ca))
        st = natsOptions_LoadCATrustedCertificates(o, c->o.ca);
    if (st == NATS_OK && given(c->o.cert))
        st = natsOptions_LoadCertificatesChain(o, c->o.cert, c->o.key);
    if (st == NATS_OK && lj_natsurl_first_host(c->o.url, host, sizeof host))
        st = natsOptions_SetExpectedHostname(o, host);
    return st;
}

static natsStatus build_options(struct lj_natsconn *c, natsOptions **out)
{
    natsOptions *o = NULL;
    char err[256];
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK) st = natsOptions_SetName(o, c->name);
    if (st == NATS_OK && lj_natsurl_apply(o, c->o.url, err, sizeof err) != LJ_OK)
        st = NATS_INVALID_ARG;
    if (st == NATS_OK) st = natsOptions_SetMaxReconnect(o, -1);
    if (st == NATS_OK) st = natsOptions_SetReconnectWait(o, 250);
    if (st == NATS_OK) st = natsOptions_SetReconnectJitter(o, 100, 1000);
    if (st == NATS_OK) st = natsOptions_SetDisconnectedCB(o, on_disconnected, c);
    if (st == NATS_OK) st = natsOptions_SetReconnectedCB(o, on_reconnected, c);
    if (st == NATS_OK) st = natsOptions_SetClosedCB(o, on_closed, c);
    if (st == NATS_OK) st = natsOptions_SetErrorHandler(o, on_error, c);
    if (st == NATS_OK) st = set_auth(c, o);
    if (st == NATS_OK) st = set_tls(c, o);
    if (st == NATS_OK && c->hooks.tune) st = c->hooks.tune(o, c->hooks.arg);
    if (st != NATS_OK) {
        natsOptions_Destroy(o);
        return st;
    }
    *out = o;
    return NATS_OK;
}

/* ---- the connector thread --------------------------------------------------------- */

/* Decodes base64url text (no padding) of n characters into out; returns the length. */
static size_t base64url_decode(const char *in, size_t n, char *out, size_t outlen)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        const char *c = in[i] ? strchr(abc, in[i]) : NULL;
        if (c == NULL)
            break;
        acc = acc << 6 | (uint32_t)(c - abc);
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    out[o] = '\0';
    return o;
}

/* The "exp" (unix seconds) of the user JWT in a creds file; 0 when none or unreadable.
 * nats-server answers an expired JWT with the same "Authorization Violation" as a
 * wrong one; this tells them apart for the operator. */
static long long creds_expiry(const char *path)
{
    char buf[8192], claims[4096];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    const char *jwt, *dot1, *dot2, *exp;
    if (f)
        fclose(f);
    buf[n] = '\0';
    if ((jwt = strstr(buf, "BEGIN NATS USER JWT")) == NULL || (jwt = strchr(jwt, '\n')) == NULL)
        return 0;
    jwt++;
    if ((dot1 = strchr(jwt, '.')) == NULL || (dot2 = strchr(dot1 + 1, '.')) == NULL)
        return 0;
    base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), claims, sizeof claims);
    exp = strstr(claims, "\"exp\":");
    return exp ? strtoll(exp + 6, NULL, 10) : 0;
}

/* What an auth failure most likely means, from the options given. */
static void auth_hint(struct lj_natsconn *c, char *raw, size_t n)
{
    size_t len = strlen(raw);
    long long exp = given(c->o.creds) ? creds_expiry(c->o.creds) : 0;
    if (exp > 0 && exp < (long long)time(NULL)) {
        char when[64];
        time_t t = (time_t)exp;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        snprintf(raw + len, n - len, " (the user JWT in --nats-creds '%s' expired at %s)",
                 c->o.creds, when);
        return;
    }
    snprintf(raw + len, n - len, " (%s rejected)",
             given(c->o.creds) ? "the --nats-creds credentials were" :
             given(c->o.nkey) ? "the --nats-nkey key was" :
             given(c->o.token) ? "the --nats-token token was" :
             given(c->o.user) ? "the --nats-user name or password was" :
             c->nsecrets > 0 ? "the user info in --nats-url was" :
             "connecting without credentials was");
}

/* The failure of the last call on this thread as "<status>: <detail>", scrubbed. */
static void failure_text(struct lj_natsconn *c, natsStatus st, char *out, size_t n)
{
    const char *detail = nats_GetLastError(NULL), *what = natsStatus_GetText(st);
    char raw[TEXT_MAX];
    bool same;

    /* nats.c puts where it noticed the error first: "(conn.c:1905): ". */
    if (detail && detail[0] == '(' && strstr(detail, "): "))
        detail = strstr(detail, "): ") + 3;
    same = detail == NULL || *detail == '\0' || strcmp(detail, what) == 0;
    snprintf(raw, sizeof raw, "%s%s%s", what, same ? "" : ": ", same ? "" : detail);
    if (st == NATS_CONNECTION_AUTH_FAILED || strstr(raw, "Authorization Violation")) {
        auth_hint(c, raw, sizeof raw);
    } else if (st == NATS_PROTOCOL_ERROR && strstr(raw, "got ''") && !given(c->o.cert)
               && (lj_natsurl_wants_tls(c->o.url) || given(c->o.ca))) {
        /* With TLS 1.3 the server refuses a missing client certificate only after the
         * handshake: all nats.c sees is the connection closing. */
        size_t len = strlen(raw);
        snprintf(raw + len, sizeof raw - len, " (the server closed the connection after the "
                 "TLS handshake: it may require a client certificate, --nats-cert/--nats-key)");
    }
    scrub(c, raw, out, n);
}

static void attempt(struct lj_natsconn *c)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    char text[TEXT_MAX], why[TEXT_MAX + 512], url[512] = "", shown[512];
    natsStatus st = build_options(c, &o);

    if (st == NATS_OK)
        st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (st != NATS_OK) {
        failure_text(c, st, text, sizeof text);
        snprintf(why, sizeof why, "cannot connect to %s: %s", c->shown_url, text);
        set_state(c, CONNECTING, why);
        report(c, LJ_LOG_ERROR, "cannot connect to NATS", text);
        pthread_mutex_lock(&c->lock);
        c->retry_at = lj_time_mono_ns() + c->o.retry_ms * 1000000LL;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    pthread_mutex_lock(&c->lock);
    c->ready = c->live = nc;
    c->live_closed = false;
    c->state = CONNECTED;
    c->reason[0] = '\0';
    c->last_report[0] = '\0';
    pthread_mutex_unlock(&c->lock);
    if (!c->hooks.quiet_connect)
        lj_log(LJ_LOG_INFO, "connected to NATS", "url=%s name=%s",
               lj_natsurl_redact(url, shown, sizeof shown), c->name);
    if (c->hooks.ready)
        c->hooks.ready(c->hooks.arg);
}

/* Waits on cond until the monotonic time at_ns (CLOCK_REALTIME for the cond). */
static void wait_until(struct lj_natsconn *c, int64_t at_ns)
{
    struct timespec ts;
    int64_t left = at_ns - lj_time_mono_ns();
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += left / 1000000000LL;
    ts.tv_nsec += left % 1000000000LL;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->cond, &c->lock, &ts);
}

static void *connector_main(void *arg)
{
    struct lj_natsconn *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        if (c->live != NULL) {
            pthread_cond_wait(&c->cond, &c->lock);
        } else if (lj_time_mono_ns() < c->retry_at) {
            wait_until(c, c->retry_at);
        } else {
            pthread_mutex_unlock(&c->lock);
            attempt(c);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

bool lj_natsconn_global_init(void)
{
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) == 1;
}

/* ---- life ---------------------------------------------------------------------------- */

lj_status lj_natsconn_create(const struct lj_natsconn_options *o, const char *name,
                             const struct lj_natsconn_hooks *hooks, struct lj_natsconn **out,
                             char *err, size_t errlen)
{
    struct lj_natsconn *c;
    char why[TEXT_MAX];

    if (lj_natsconn_check(o, err, errlen) != LJ_OK)
        return LJ_INVAL;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return LJ_NOMEM;
    c->o = *o;
    if (hooks)
        c->hooks = *hooks;
    snprintf(c->name, sizeof c->name, "%s", name);
    lj_natsurl_redact(o->url, c->shown_url, sizeof c->shown_url);
    if (given(o->nkey))
        lj_nkey_public_from_seed_file(o->nkey, c->nkey_public, sizeof c->nkey_public, NULL, 0);
    if (given(o->password))
        add_secret(c, o->password, strlen(o->password));
    if (given(o->token))
        add_secret(c, o->token, strlen(o->token));
    collect_url_secrets(c, o->url);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    snprintf(why, sizeof why, "connecting to %s", c->shown_url);
    set_state(c, CONNECTING, why);
    if (pthread_create(&c->thread, NULL, connector_main, c) != 0) {
        lj_natsconn_destroy(c);
        return lj_fail(err, errlen, LJ_NOMEM, "cannot start the NATS connector thread");
    }
    c->thread_started = true;
    *out = c;
    return LJ_OK;
}

natsConnection *lj_natsconn_take(struct lj_natsconn *c)
{
    natsConnection *nc;
    pthread_mutex_lock(&c->lock);
    nc = c->ready;
    c->ready = NULL;
    pthread_mutex_unlock(&c->lock);
    return nc;
}

void lj_natsconn_lost(struct lj_natsconn *c, natsConnection *nc)
{
    if (nc == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    if (nc == c->live)
        c->live = NULL;
    c->lost = nc;
    c->retry_at = lj_time_mono_ns() + c->o.retry_ms * 1000000LL;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    natsConnection_Destroy(nc);
}

bool lj_natsconn_close(struct lj_natsconn *c, natsConnection *nc)
{
    struct timespec until;
    bool closed;
    if (nc == NULL)
        return true;
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    pthread_mutex_unlock(&c->lock);
    natsConnection_Close(nc);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CLOSE_WAIT_S;
    pthread_mutex_lock(&c->lock);
    while (nc == c->live && !c->live_closed
           && pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
        ;
    closed = nc != c->live || c->live_closed;
    if (nc == c->live)
        c->live = NULL;
    c->closing = false;
    c->retry_at = INT64_MAX;       /* the owner is done: no new attempt */
    pthread_mutex_unlock(&c->lock);
    natsConnection_Destroy(nc);
    return closed;
}

void lj_natsconn_stop(struct lj_natsconn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void lj_natsconn_destroy(struct lj_natsconn *c)
{
    natsConnection *left;
    if (c == NULL)
        return;
    lj_natsconn_stop(c);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    if ((left = lj_natsconn_take(c)) != NULL && !lj_natsconn_close(c, left))
        return;    /* a callback may still come: leaked rather than freed under it */
    for (size_t i = 0; i < c->nsecrets; i++) {
        explicit_bzero(c->secrets[i], strlen(c->secrets[i]));
        free(c->secrets[i]);
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

bool lj_natsconn_healthy(struct lj_natsconn *c, char *why, size_t whylen)
{
    bool ok;
    int64_t now = lj_time_mono_ns();
    pthread_mutex_lock(&c->lock);
    ok = c->state == CONNECTED;
    if (!ok)
        snprintf(why, whylen, "%s", c->reason);
    else if (c->denied_at != 0 && now - c->denied_at < PERMISSION_WINDOW_NS) {
        ok = false;
        snprintf(why, whylen, "permission denied by %s: %s", c->shown_url, c->denied);
    } else if (whylen > 0) {
        why[0] = '\0';
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

const char *lj_natsconn_url(const struct lj_natsconn *c)
{
    return c->shown_url;
}
