/* lws_healthz.c - /healthz served by libwebsockets 4.1 on its own loop, the library
 * side of the comparison in bench/http (see bench/RESULTS.md). Not part of logjet.
 *
 * Usage: lws_healthz PORT SECONDS
 * Serves "ok\n" on every GET for SECONDS, then prints how many external-poll
 * callbacks (ADD/DEL/CHANGE_MODE_POLL_FD) lws made: the publisher's loop would need
 * them to put lws' sockets into curl_multi_poll's extra fds.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long poll_callbacks, requests;

static int on_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;

    switch (reason) {
    case LWS_CALLBACK_ADD_POLL_FD:
    case LWS_CALLBACK_DEL_POLL_FD:
    case LWS_CALLBACK_CHANGE_MODE_POLL_FD:
        poll_callbacks++;
        return 0;
    case LWS_CALLBACK_HTTP:
        requests++;
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain", 3, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        memcpy(start, "ok\n", 3);
        if (lws_write(wsi, start, 3, LWS_WRITE_HTTP_FINAL) != 3)
            return 1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    { "http", on_http, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    if (argc != 3) {
        fprintf(stderr, "usage: lws_healthz PORT SECONDS\n");
        return 2;
    }
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof info);
    info.port = atoi(argv[1]);
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 5;       /* as the hand-made server's head deadline */
    struct lws_context *ctx = lws_create_context(&info);
    if (ctx == NULL)
        return 1;
    time_t stop = time(NULL) + atol(argv[2]);
    while (time(NULL) < stop)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_context_destroy(ctx);
    printf("requests=%ld external_poll_callbacks=%ld\n", requests, poll_callbacks);
    return 0;
}
