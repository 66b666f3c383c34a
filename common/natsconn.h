/* natsconn.h - the one way both daemons and logjet-tail connect to NATS: the --nats-*
 * options (server list, credentials, TLS), every connection attempt, and the state an
 * operator sees (connected, or why not).
 *
 * A connector thread makes each attempt synchronously, so that every failure's text is
 * known: the server's -ERR ("Authorization Violation", "User Authentication Expired"),
 * the TLS verifier's ("unable to get local issuer certificate", "hostname mismatch"). A
 * background attempt of nats.c's (RetryOnFailedConnect) reports its failure nowhere.
 * The failure is logged once as one error line naming the cause and the server; the
 * same failure again is logged at most once a minute, with how often it repeated. The
 * next attempt follows retry_ms later.
 * Once connected, nats.c reconnects by itself (MaxReconnect -1). It gives a connection
 * up only when the same authentication error comes twice in a row (an expired creds
 * file, a password changed on the server): the owner sees the connection closed,
 * drops what it built on it and hands it back with lj_natsconn_lost, and the connector
 * starts over.
 *
 * Secrets (passwords, tokens, URL user info) never leave this module in a text: URLs
 * are shown with their user info as *** and error texts are scrubbed of every secret.
 *
 * Does not subscribe, publish or know JetStream: the owner does that on each connection
 * it takes. Logs (from its thread and nats.c's callbacks, where no main loop is), but
 * never prints anything else.
 */
#ifndef LJ_NATSCONN_H
#define LJ_NATSCONN_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "status.h"

struct lj_natsconn_options {
    const char *url;        /* one URL or a comma-separated list; may be tls:// */
    const char *creds;      /* chained JWT + NKey seed file (decentralised auth) */
    const char *nkey;       /* user NKey seed file */
    const char *user, *password;
    const char *token;
    const char *ca;         /* PEM file of CAs trusted for the server's certificate */
    const char *cert, *key; /* client certificate chain and its key (mutual TLS) */
    long retry_ms;          /* between connection attempts */
};

/* The option rows both daemons put in their tables, one place for all of them:
 *     static const struct lj_opt table[] = { LJ_NATSCONN_OPTIONS(o.nats), { ... }, };
 * o is an lvalue of type struct lj_natsconn_options with static storage. */
#define LJ_NATSCONN_OPTIONS(o)                                                             \
    { "nats-url", LJ_OPT_STRING, "URL", "nats://127.0.0.1:4222",                           \
      "NATS server(s), comma separated; tls://host:port for TLS (host name verified)",     \
      &(o).url, 0, 0 },                                                                    \
    { "nats-creds", LJ_OPT_STRING, "FILE", NULL,                                           \
      "NATS credentials file (user JWT and NKey seed, from nsc)", &(o).creds, 0, 0 },      \
    { "nats-nkey", LJ_OPT_STRING, "FILE", NULL, "NATS user NKey seed file (SU...)",        \
      &(o).nkey, 0, 0 },                                                                   \
    { "nats-user", LJ_OPT_STRING, "NAME", NULL, "NATS user name (with --nats-password)",   \
      &(o).user, 0, 0 },                                                                   \
    { "nats-password", LJ_OPT_SECRET, "PASSWORD", NULL,                                    \
      "NATS password; prefer the _FILE variable (argv is visible to every local user)",    \
      &(o).password, 0, 0 },                                                               \
    { "nats-token", LJ_OPT_SECRET, "TOKEN", NULL,                                          \
      "NATS authentication token; prefer the _FILE variable", &(o).token, 0, 0 },          \
    { "nats-ca", LJ_OPT_STRING, "FILE", NULL,                                              \
      "PEM CA certificate(s) the NATS server's certificate must chain to (enables TLS)",   \
      &(o).ca, 0, 0 },                                                                     \
    { "nats-cert", LJ_OPT_STRING, "FILE", NULL,                                            \
      "PEM client certificate chain for mutual TLS (with --nats-key)", &(o).cert, 0, 0 },  \
    { "nats-key", LJ_OPT_STRING, "FILE", NULL, "PEM private key of --nats-cert",           \
      &(o).key, 0, 0 },                                                                    \
    { "nats-retry-ms", LJ_OPT_INT, "MS", "1000",                                           \
      "wait between NATS connection attempts after a failure", &(o).retry_ms, 50,          \
      3600000 }

/* What an owner adds to every attempt and learns of the connection it took. The
 * callbacks run on nats.c's threads (ready: on the connector thread) and must be
 * cheap and thread-safe; any may be NULL. */
struct lj_natsconn_hooks {
    /* Owner's settings on each attempt's options (SendAsap, buffer sizes, ...). It must
     * not set the disconnected, reconnected, closed or error handlers: the module's
     * forward to the ones below. */
    natsStatus (*tune)(natsOptions *o, void *arg);
    void (*ready)(void *arg);                   /* a connection waits for lj_natsconn_take */
    void (*disconnected)(natsConnection *nc, void *arg);
    void (*reconnected)(natsConnection *nc, void *arg);
    void (*closed)(natsConnection *nc, void *arg); /* not called for lj_natsconn_close */
    void *arg;
    /* No "connected to NATS" line (a terminal client's start stays silent); failures,
     * losses and reconnections are logged as ever. */
    bool quiet_connect;
};

struct lj_natsconn;

/* Must be the first thing main does, before anything touches OpenSSL (curl, lws, an
 * NKey): tells OpenSSL not to clean up at exit. nats.c 3.4.1 frees OpenSSL's
 * compression-method list itself when its library closes (nats_CloseAndWait) after TLS
 * was used, and OpenSSL's own exit handler then frees it again: a crash on every exit
 * of a daemon that used TLS. Main thread; returns false if OpenSSL refused. */
bool lj_natsconn_global_init(void);

/* Checks the options without connecting: the URL list, that the files exist and can
 * be read, that at most one way of authenticating is given, --nats-key with
 * --nats-cert. LJ_INVAL with a message naming the option (never a secret). */
lj_status lj_natsconn_check(const struct lj_natsconn_options *o, char *err, size_t errlen);

/* Checks the options (as lj_natsconn_check) and starts the connector thread. name is
 * the connection name the server shows (copied). o's strings must live as long as the
 * result (they are option values). On LJ_OK *out belongs to the caller:
 * lj_natsconn_destroy. Returns at once; the first attempt runs on the new thread. */
lj_status lj_natsconn_create(const struct lj_natsconn_options *o, const char *name,
                             const struct lj_natsconn_hooks *hooks, struct lj_natsconn **out,
                             char *err, size_t errlen);

/* The connection the connector made, connected when it was handed over; NULL when none
 * waits. The caller holds it until lj_natsconn_lost or lj_natsconn_close. One at a
 * time: no new attempt is made while the owner holds one. Any thread. */
natsConnection *lj_natsconn_take(struct lj_natsconn *c);

/* Gives back a connection nats.c closed for good (natsConnection_IsClosed), after the
 * owner destroyed every subscription and context on it; destroys it and lets the
 * connector try again after retry_ms. Any thread; does not block. */
void lj_natsconn_lost(struct lj_natsconn *c, natsConnection *nc);

/* Closes nc (the one taken), waits up to 5 s for nats.c's closed callback, so that no
 * callback for it runs afterwards, destroys it and makes no further attempt. Returns
 * false when the callback did not come in time: one may still run, so c and the hooks'
 * target must then be left allocated. Blocks. NULL nc is fine (true). */
bool lj_natsconn_close(struct lj_natsconn *c, natsConnection *nc);

/* From now on no new attempt is made and a close of the taken connection, by anyone,
 * is expected (not logged, no closed hook): the first step of an owner's teardown.
 * Any thread; does not block. NULL is fine. */
void lj_natsconn_stop(struct lj_natsconn *c);

/* Stops the connector thread, closes and destroys a connection that was never taken.
 * A taken one must be closed or lost first. NULL is fine. Blocks up to one attempt. */
void lj_natsconn_destroy(struct lj_natsconn *c);

/* true when connected right now and nothing is wrong. Otherwise false, with the reason
 * in why (size whylen, NUL-terminated, no secret): "connecting to <server>",
 * the last failure, "disconnected ...; reconnecting", or a permission violation seen in
 * the last 30 seconds. Any thread. */
bool lj_natsconn_healthy(struct lj_natsconn *c, char *why, size_t whylen);

/* The server list as shown to people (credentials as ***). Lives as long as c. */
const char *lj_natsconn_url(const struct lj_natsconn *c);

#endif
