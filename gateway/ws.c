/* ws.c - the /ws connections (ws.h): the upgrade's checks, the session made for each
 * accepted one, and the callbacks that move frames between lws and the session.
 *
 * Rules kept here: exactly one lws_write per writable callback; a session is never
 * freed in a callback of its own connection (CLOSED moves it to the server's
 * graveyard, freed on the next tick); lines reach this thread only through the hub
 * (rings read by the sessions' cursors).
 */
#include "ws.h"

#include "http.h"
#include "hub.h"
#include "join.h"
#include "log.h"
#include "request.h"
#include "serverint.h"
#include "session.h"

int lj_ws_filter(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss)
{
    const struct lj_grant *g;
    char peer[64];
    struct lj_request_refusal r = lj_request_gate(srv, wsi, "/ws");
    if (r.status)
        return lj_http_refuse(wsi, r.status, r.text);
    if (!lj_request_path_is(wsi, "/ws") || srv->shutting_down)
        return 1;
    if (!lj_request_origin_ok(srv, wsi)) {
        lj_log(LJ_LOG_INFO, "websocket refused", "reason=origin peer=%s", lj_request_peer_name(wsi, peer, sizeof(peer)));
        return lj_http_refuse(wsi, 403, "origin not allowed\n");
    }
    unsigned status;
    if (!(g = lj_request_grant(srv, wsi, &status))) {
        lj_log(LJ_LOG_INFO, "websocket refused", "reason=%s peer=%s", status == 403 ? "user" : "token",
               lj_request_peer_name(wsi, peer, sizeof(peer)));
        return lj_http_refuse(wsi, status, status == 403 ? "user not in the tokens file\n"
                                                      : "missing or unknown token\n");
    }
    if (srv->sessions.count >= srv->cfg.max_clients) {
        lj_log(LJ_LOG_WARN, "websocket refused", "reason=max_clients");
        return 1;
    }
    if (pss)
        pss->grant = g;
    return 0;
}

int lj_ws_established(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss)
{
    unsigned status;
    const struct lj_grant *g = pss->grant ? pss->grant : lj_request_grant(srv, wsi, &status);
    struct lj_session_ops ops;
    lj_join_session_ops(srv->hub, &ops);
    if (!g || lj_sessions_open(&srv->sessions, &ops, wsi, g, &srv->cfg.limits, &pss->session) != LJ_OK)
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

int lj_ws_writable(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss)
{
    struct lj_session *s = pss->session;
    if (!s)
        return 0;
    if (srv->shutting_down) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"shutting down", 13);
        return -1;
    }
    /* Exactly one lws_write per writable callback (with permessage-deflate lws may keep
     * part of a frame; a second write in the same callback could interleave with it).
     * Each frame already batches every queued line of a subscription up to max_frame. */
    if (!lj_session_next_frame(s, &srv->tx, LWS_PRE))
        return 0;
    size_t len = srv->tx.len - LWS_PRE;
    if (lws_write(wsi, (unsigned char *)srv->tx.data + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    if (lj_session_pending(s))
        lws_callback_on_writable(wsi);
    return 0;
}

int lj_ws_receive(struct lws *wsi, struct lj_server_pss *pss, void *in, size_t len)
{
    struct lj_session *s = pss->session;
    if (!s)
        return -1;
    if (lws_frame_is_binary(wsi))
        return 0;   /* the protocol is text only; binary frames are ignored */
    if (lj_session_receive(s, in, len, lws_is_final_fragment(wsi)) == LJ_LIMIT) {
        static const char why[] = "too many errors or unread answers";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, sizeof why - 1);
        return -1;
    }
    if (lj_session_pending(s))
        lws_callback_on_writable(wsi);
    return 0;
}

void lj_ws_closed(struct lj_server *srv, struct lj_server_pss *pss)
{
    if (pss->session)
        lj_sessions_closed(&srv->sessions, pss->session);   /* freed on a later tick */
    pss->session = NULL;
}
