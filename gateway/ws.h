/* ws.h - the server's WebSocket side: the /ws upgrade checks (the gate, path,
 * origin, grant, --max-clients) and the callbacks of an open connection: its session
 * created on ESTABLISHED, one frame per writable callback, received control messages
 * handed to the session, and CLOSED handing the session back.
 *
 * Does not build frames or parse control messages (session.c and control.c do) and
 * never frees a session: ESTABLISHED opens it on the server's list (sessions.h) and
 * CLOSED moves it to the list's graveyard, freed on the server's next tick. Service
 * thread only, inside lws callbacks of the connection.
 */
#ifndef LJ_WS_H
#define LJ_WS_H

#include <libwebsockets.h>
#include <stddef.h>

struct lj_server;
struct lj_server_pss;

/* LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: 0 accepts the upgrade (its grant kept in
 * pss, which may be NULL); nonzero refuses it, answered (lj_http_refuse) where a
 * browser can use the reason. */
int lj_ws_filter(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss);

/* LWS_CALLBACK_ESTABLISHED: opens the connection's session on the server's list
 * (pss->session borrows it). -1 (close) when it cannot. */
int lj_ws_established(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss);

/* LWS_CALLBACK_SERVER_WRITEABLE: writes exactly one frame (or a 1001 close while
 * shutting down) and asks for another callback when more is pending. -1: close. */
int lj_ws_writable(struct lj_server *srv, struct lws *wsi, struct lj_server_pss *pss);

/* LWS_CALLBACK_RECEIVE: hands a text fragment to the session; binary frames are
 * ignored. -1 (close with 1008) when the session says the client broke its limits. */
int lj_ws_receive(struct lws *wsi, struct lj_server_pss *pss, void *in, size_t len);

/* LWS_CALLBACK_CLOSED: the session leaves pss (freed on a later tick). */
void lj_ws_closed(struct lj_server *srv, struct lj_server_pss *pss);

#endif
