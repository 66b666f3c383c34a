/* logjet-gateway - serves container logs from NATS JetStream to browsers over WebSocket.
 *
 * Threads (few, and this is all of them):
 *  - main: the libwebsockets service loop. It owns every session (the server's
 *    list), watch, ring (the hub's) and the registry; all lws callbacks and the
 *    once-a-second tick run here.
 *  - nats.c's threads: socket reader, flusher, and one global message-delivery
 *    thread that decodes live lines (live.c live_cb) and queues them.
 *  - fetcher (fetcher.c): JetStream reads for ring fills and gap repair.
 *  - registry (registry.c): watches the LOGJET_CONTAINERS bucket and owns the
 *    NATS connection (attaches each new one).
 * Data crosses into main only through the feed's locked event queue; the producing
 * thread then calls lws_cancel_service() (gated by an atomic flag, once per batch),
 * which runs LWS_CALLBACK_EVENT_WAIT_CANCELLED -> lj_hub_service on main. A pass
 * applies events for at most ~2 ms; what is left waits in the hub's backlog and the
 * pass re-arms the same gated wake, so writable callbacks run between slices.
 * SIGTERM/SIGINT set a flag and wake the loop; clients are closed with 1001.
 * SIGHUP sets another and wakes it: the loop reads the TLS certificate and key again.
 *
 * Teardown order (the same after SIGTERM and after a failed start), so that no
 * thread ever touches freed memory:
 *  1. the wake target is cleared under wake_lock: from then on no feed or nats.c
 *     thread calls into lws, and none is inside lj_server_wake;
 *  2. the server: lws closes what is left, sessions move to the server's graveyard
 *     (lws callbacks still reach the hub and, through lj_hub_service, the feed);
 *     then the server frees every session, detaching its taps from the hub's watches;
 *  3. the hub: frees the watches, so every live subscription is unsubscribed and
 *     destroyed while the connection is still open;
 *  4. the feed: joins fetcher and registry, closes and destroys the connection,
 *     then waits in nats_CloseAndWait until nats.c's threads have exited, so no
 *     live_cb and no connection callback (disconnected_cb runs on close) can run
 *     after the feed is freed.
 */
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cidr.h"
#include "config.h"
#include "feed.h"
#include "hub.h"
#include "log.h"
#include "natsconn.h"
#include "natsurl.h"
#include "server.h"

static atomic_bool stop_requested, reload_requested;
static struct lj_server *_Atomic running_server;    /* for the signal handler */

/* The server that feed threads wake; NULL once teardown starts. A lock rather than an
 * atomic: a thread that read the pointer must be out of lj_server_wake before the
 * server is destroyed. Signal handlers cannot lock, so they use running_server. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lj_server *wake_target;

struct options {
    struct lj_natsconn_options nats;
    const char *listen, *ui_dir, *stream, *auth_tokens, *allowed_origins, *log_level;
    const char *tls_cert, *tls_key, *allowed_hosts, *proxy_header, *trusted_proxies;
    bool insecure, deflate;
    long depth, max_clients, max_queue, slow_timeout, linger, ping, idle, max_watches;
};

static struct options o;

static const struct lj_opt opts[] = {
    LJ_NATSCONN_OPTIONS(o.nats),
    { "listen", LJ_OPT_STRING, "ADDR:PORT", "127.0.0.1:8080", "HTTP and WebSocket listen address", &o.listen, 0, 0 },
    { "ui-dir", LJ_OPT_STRING, "DIR", NULL, "serve the web UI from this directory", &o.ui_dir, 0, 0 },
    { "stream", LJ_OPT_STRING, "NAME", "LOGS", "JetStream stream holding the records", &o.stream, 0, 0 },
    { "auth-tokens", LJ_OPT_STRING, "FILE", NULL, "tokens file: `<token> <glob>[,<glob>...]` or "
      "`user <name> <glob>[,<glob>...]` a line", &o.auth_tokens, 0, 0 },
    { "allowed-origins", LJ_OPT_STRING, "LIST", "", "origins allowed to open /ws (comma separated, * = any; "
      "empty = same host only)", &o.allowed_origins, 0, 0 },
    { "allowed-hosts", LJ_OPT_STRING, "LIST", "", "Host names served besides loopback ones when listening on "
      "loopback or without tokens (comma separated, * = any; against DNS rebinding)", &o.allowed_hosts, 0, 0 },
    { "tls-cert", LJ_OPT_STRING, "FILE", NULL, "serve HTTPS and WSS with this PEM certificate chain "
      "(reread on SIGHUP)", &o.tls_cert, 0, 0 },
    { "tls-key", LJ_OPT_STRING, "FILE", NULL, "PEM private key of --tls-cert", &o.tls_key, 0, 0 },
    { "auth-proxy-header", LJ_OPT_STRING, "NAME", NULL, "take the user name from this header (e.g. Remote-User) "
      "when the request comes from --trusted-proxies; users' globs are `user` lines of --auth-tokens",
      &o.proxy_header, 0, 0 },
    { "trusted-proxies", LJ_OPT_STRING, "CIDR,...", NULL, "addresses allowed to send --auth-proxy-header "
      "(IPv4/IPv6, with /prefix)", &o.trusted_proxies, 0, 0 },
    { "insecure", LJ_OPT_BOOL, NULL, "false", "allow a non-loopback listen address without --auth-tokens", &o.insecure, 0, 0 },
    { "replay-depth", LJ_OPT_INT, "N", "1000", "lines kept per watched container (max replay)", &o.depth, 1, 100000 },
    { "max-clients", LJ_OPT_INT, "N", "10000", "WebSocket clients at most", &o.max_clients, 1, 1000000 },
    { "max-queue-bytes", LJ_OPT_INT, "BYTES", "4m", "bytes a client may fall behind on a container before its oldest unread lines are dropped", &o.max_queue, 65536, 1L << 30 },
    { "slow-timeout", LJ_OPT_INT, "SECONDS", "30", "close a client that has lines waiting and reads nothing for this long", &o.slow_timeout, 1, 86400 },
    { "max-watches", LJ_OPT_INT, "N", "10000", "containers watched at once at most (one NATS subscription "
      "and ring each); a subscribe past it, or past a client's or the gateway's rate of new ones, "
      "is answered `limit`", &o.max_watches, 1, 1000000 },
    { "linger", LJ_OPT_INT, "SECONDS", "10", "keep a container's subscription this long after its last viewer", &o.linger, 0, 86400 },
    { "ping-interval", LJ_OPT_INT, "SECONDS", "30", "WebSocket ping after this much silence", &o.ping, 1, 3600 },
    { "idle-timeout", LJ_OPT_INT, "SECONDS", "75", "hang up when nothing (not even a pong) came for this long", &o.idle, 2, 7200 },
    { "permessage-deflate", LJ_OPT_BOOL, NULL, "true", "compress frames when the client offers it", &o.deflate, 0, 0 },
    { "log-level", LJ_OPT_STRING, "LEVEL", "info", "debug, info, warn or error", &o.log_level, 0, 0 },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void on_signal(int sig)
{
    atomic_store(sig == SIGHUP ? &reload_requested : &stop_requested, true);
    struct lj_server *s = atomic_load(&running_server);
    if (s)
        lj_server_wake(s);
}

/* Feed and nats.c threads wake the loop through here. */
static void wake(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wake_lock);
    if (wake_target)
        lj_server_wake(wake_target);
    pthread_mutex_unlock(&wake_lock);
}

static void set_wake_target(struct lj_server *s)
{
    pthread_mutex_lock(&wake_lock);
    wake_target = s;
    pthread_mutex_unlock(&wake_lock);
    atomic_store(&running_server, s);
}

/* --listen's address as lws needs it: a numeric address (lws takes a name for an
 * interface name and, when none matches, listens on nothing). Names are resolved,
 * IPv4 first; "" (all interfaces) stays. 0, or 2 after printing why. */
static int resolve_listen(char *host, size_t hostlen)
{
    struct addrinfo hints = { .ai_flags = AI_ADDRCONFIG, .ai_socktype = SOCK_STREAM }, *res = NULL, *pick;
    int rc;
    if (!*host)
        return 0;
    hints.ai_family = AF_UNSPEC;
    if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
        fprintf(stderr, "logjet-gateway: --listen %s: cannot resolve '%s': %s\n", o.listen, host, gai_strerror(rc));
        return 2;
    }
    pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    rc = getnameinfo(pick->ai_addr, pick->ai_addrlen, host, (socklen_t)hostlen, NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0) {
        fprintf(stderr, "logjet-gateway: --listen %s: %s\n", o.listen, gai_strerror(rc));
        return 2;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct lj_server_config *sc, char *host, size_t hostlen)
{
    enum lj_config_action action;
    char err[256];
    enum lj_log_level level;

    if (lj_config_parse(opts, NOPTS, argc, argv, &action, err, sizeof(err)) != LJ_OK) {
        fprintf(stderr, "logjet-gateway: %s\n", err);
        return 2;
    }
    if (action == LJ_CONFIG_HELP) {
        lj_config_usage(stdout, "logjet-gateway", "Serves container logs from NATS JetStream to "
                        "browsers: web UI, /ws (JSON frames), /api/containers, /metrics.", opts, NOPTS);
        return 0;
    }
    if (action == LJ_CONFIG_VERSION) {
        printf("logjet-gateway %s\n", LJ_VERSION);
        return 0;
    }
    if (lj_log_parse_level(o.log_level, &level) != 0) {
        fprintf(stderr, "logjet-gateway: --log-level: unknown level '%s'\n", o.log_level);
        return 2;
    }
    lj_log_set_level(level);
    if (lj_natsconn_check(&o.nats, err, sizeof(err)) != LJ_OK) {
        fprintf(stderr, "logjet-gateway: %s\n", err);
        return 2;
    }
    if (lj_parse_hostport(o.listen, host, hostlen, &sc->port, err, sizeof(err)) != LJ_OK) {
        fprintf(stderr, "logjet-gateway: --listen: %s\n", err);
        return 2;
    }
    if (resolve_listen(host, hostlen) != 0)
        return 2;
    if (!o.tls_cert != !o.tls_key) {
        fprintf(stderr, "logjet-gateway: --tls-cert and --tls-key go together\n");
        return 2;
    }
    if (!o.proxy_header != !o.trusted_proxies) {
        fprintf(stderr, "logjet-gateway: --auth-proxy-header and --trusted-proxies go together\n");
        return 2;
    }
    if (o.proxy_header && !o.auth_tokens) {
        fprintf(stderr, "logjet-gateway: --auth-proxy-header needs --auth-tokens (its `user` lines "
                "give each user's globs)\n");
        return 2;
    }
    if (!o.auth_tokens && !o.insecure && !lj_host_is_loopback(host)) {
        fprintf(stderr, "logjet-gateway: refusing to listen on %s without --auth-tokens "
                "(give --insecure to allow it)\n", o.listen);
        return 2;
    }
    return -1;
}

static void fill_configs(struct lj_server_config *sc, struct lj_hub_config *hc, const char *host)
{
    hc->depth = (uint32_t)o.depth;
    hc->linger_ns = o.linger * 1000000000LL;
    hc->max_watches = (uint32_t)o.max_watches;
    hc->limits.max_queue = (size_t)o.max_queue;
    hc->limits.max_frame = 65536;
    hc->limits.depth = (uint32_t)o.depth;
    sc->host = host;
    sc->ui_dir = o.ui_dir;
    sc->allowed_origins = o.allowed_origins;
    sc->max_clients = (size_t)o.max_clients;
    sc->stall_ns = o.slow_timeout * 1000000000LL;
    sc->limits = hc->limits;
    sc->ping_secs = (int)o.ping;
    sc->idle_secs = (int)o.idle;
    sc->deflate = o.deflate;
    sc->tls_cert = o.tls_cert;
    sc->tls_key = o.tls_key;
    sc->allowed_hosts = o.allowed_hosts;
    sc->proxy_header = o.proxy_header;
    /* A loopback listener is what DNS rebinding reaches; a tokenless one has nothing
     * else in the way. Either way only known Host names are served. */
    sc->check_host = lj_host_is_loopback(host) || !o.auth_tokens;
}

int main(int argc, char **argv)
{
    struct lj_server_config sc = { 0 };
    struct lj_hub_config hc = { 0 };
    struct lj_auth *auth = NULL;
    struct lj_cidr_list *trusted = NULL;
    struct lj_hub *hub = NULL;
    struct lj_server *srv = NULL;
    struct lj_feed *feed = NULL;
    char host[256], err[512], shown[512];
    int rc;

    lj_natsconn_global_init();     /* first: see natsconn.h */
    rc = parse_args(argc, argv, &sc, host, sizeof(host));

    if (rc >= 0)
        return rc;
    rc = 1;
    fill_configs(&sc, &hc, host);
    if (o.auth_tokens && lj_auth_load(o.auth_tokens, &auth, err, sizeof(err)) != LJ_OK) {
        lj_log(LJ_LOG_ERROR, "cannot load tokens", "error=\"%s\"", err);
        goto out;
    }
    if (o.trusted_proxies && lj_cidr_parse(o.trusted_proxies, &trusted, err, sizeof(err)) != LJ_OK) {
        lj_log(LJ_LOG_ERROR, "bad --trusted-proxies", "error=\"%s\"", err);
        goto out;
    }
    if (o.proxy_header && lj_auth_user_count(auth) == 0)
        lj_log(LJ_LOG_WARN, "no user lines in the tokens file", "file=%s detail=\"every proxied user is refused\"",
               o.auth_tokens);
    sc.auth = auth;
    sc.trusted_proxies = trusted;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    if (lj_hub_create(&hc, &hub) != LJ_OK)
        goto out;
    if (lj_server_create(&sc, hub, &srv, err, sizeof(err)) != LJ_OK) {
        lj_log(LJ_LOG_ERROR, "cannot start server", "error=\"%s\"", err);
        goto out;
    }
    set_wake_target(srv);
    char name[300], me[256] = "";
    gethostname(me, sizeof(me) - 1);
    snprintf(name, sizeof(name), "logjet-gateway@%s", me);
    struct lj_feed_config fc = { .nats = &o.nats, .name = name, .stream = o.stream, .wake = wake };
    if (lj_feed_create(&fc, &feed, err, sizeof(err)) != LJ_OK) {
        lj_log(LJ_LOG_ERROR, "cannot start NATS feed", "error=\"%s\"", err);
        goto out;
    }
    lj_hub_set_feed(hub, feed);
    lj_log(LJ_LOG_INFO, "gateway listening", "listen=%s:%d tls=%s nats=%s stream=%s auth=%s ui=%s",
           *host ? host : "*", lj_server_port(srv), o.tls_cert ? "on" : "off",
           lj_natsurl_redact(o.nats.url, shown, sizeof(shown)), o.stream,
           !auth ? "none" : o.proxy_header ? "tokens+proxy" : "tokens", o.ui_dir ? o.ui_dir : "-");
    lj_server_run(srv, &stop_requested, &reload_requested);
    lj_log(LJ_LOG_INFO, "gateway stopped", NULL);
    rc = 0;
out:
    /* The order is argued at the top of this file. */
    set_wake_target(NULL);
    lj_server_destroy(srv);
    lj_hub_destroy(hub);
    lj_feed_destroy(feed);
    lj_auth_destroy(auth);
    lj_cidr_destroy(trusted);
    return rc;
}
