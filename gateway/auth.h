/* auth.h - who may see what: the tokens file, its ACL globs, and allowed origins.
 *
 * Tokens file (contract): one token a line, `<token> <glob>[,<glob>...]` over
 * "<host>/<container>"; blank lines and `#` comments ignored. Tokens are compared in
 * constant time against every entry and are never logged or returned in messages.
 * Does not read HTTP requests: the server extracts the token and the origin.
 */
#ifndef LJ_AUTH_H
#define LJ_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define LJ_AUTH_TOKEN_MAX 256

/* What one token may see. Immutable after load; lives as long as its lj_auth. */
struct lj_grant {
    char **globs;     /* owned; nglobs entries */
    size_t nglobs;
};

struct lj_auth;

/* Reads the tokens file at path. On LJ_OK *out belongs to the caller (lj_auth_destroy).
 * LJ_IO when unreadable, LJ_INVAL with the line number in err when malformed (the
 * message never contains the token), LJ_NOMEM. */
lj_status lj_auth_load(const char *path, struct lj_auth **out, char *err, size_t errlen);

void lj_auth_destroy(struct lj_auth *a);

/* The grant of token, or NULL when it is not in the file. Takes the same time for
 * every token of the same length wherever (and whether) it matches. */
const struct lj_grant *lj_auth_check(const struct lj_auth *a, const char *token);

/* A grant that sees everything (used when the gateway runs without tokens). */
const struct lj_grant *lj_grant_all(void);

/* true when the grant's globs match key "<host>/<container>". */
bool lj_grant_allows(const struct lj_grant *g, const char *key);

/* true when a request with Origin header `origin` (NULL when absent) and Host header
 * `host` may open a WebSocket. allowed is the --allowed-origins list (comma separated,
 * "*" = any). With an empty list only requests without Origin or whose Origin names
 * the same host:port as Host are accepted. */
bool lj_auth_origin_ok(const char *allowed, const char *origin, const char *host);

#endif
