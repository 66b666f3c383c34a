/* auth.h - who may see what: the tokens file, its ACL globs, allowed origins and hosts.
 *
 * Tokens file (contract): one entry a line; blank lines and `#` comments ignored.
 *   <token> <glob>[,<glob>...]        a token and what it sees
 *   user <name> <glob>[,<glob>...]    a user a trusted proxy names (--auth-proxy-header)
 * Globs match "<host>/<container>". A line of two words is always a token (a file
 * written before user lines existed keeps its meaning, even a token spelt "user");
 * a user line has three words, the first exactly "user". Users and tokens live in
 * separate tables: a user name never works as a token, nor a token as a user.
 * Tokens are compared in constant time against every entry and are never logged or
 * returned in messages; user names are not secrets.
 * Does not read HTTP requests: the server extracts the token, user, origin and host.
 */
#ifndef LJ_AUTH_H
#define LJ_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define LJ_AUTH_TOKEN_MAX 256
#define LJ_AUTH_USER_MAX 256

/* What one token may see. Immutable after load; lives as long as its lj_auth. */
struct lj_grant {
    char **globs;     /* owned; nglobs entries */
    size_t nglobs;
};

struct lj_auth;

/* Reads the tokens file at path (at most 16 MiB). On LJ_OK *out belongs to the caller (lj_auth_destroy).
 * LJ_IO when unreadable, LJ_INVAL with the line number in err when malformed (the
 * message never contains the token), LJ_NOMEM. */
lj_status lj_auth_load(const char *path, struct lj_auth **out, char *err, size_t errlen);

/* The same from the file's bytes, text[0..len) (no NUL needed): what lj_auth_load runs
 * on what it read. Lines end in LF (a CR ends the line's content too); a line over
 * 4095 bytes or with a NUL byte is LJ_INVAL naming the line. Pure: no I/O. */
lj_status lj_auth_parse(const char *text, size_t len, struct lj_auth **out, char *err,
                        size_t errlen);

void lj_auth_destroy(struct lj_auth *a);

/* The grant of token, or NULL when it is not in the file. Takes the same time for
 * every token of the same length wherever (and whether) it matches. */
const struct lj_grant *lj_auth_check(const struct lj_auth *a, const char *token);

/* The grant of the user called name (exact, case-sensitive), or NULL. */
const struct lj_grant *lj_auth_user(const struct lj_auth *a, const char *name);

/* How many tokens and user lines the file held. */
size_t lj_auth_token_count(const struct lj_auth *a);
size_t lj_auth_user_count(const struct lj_auth *a);

/* A grant that sees everything (used when the gateway runs without tokens). */
const struct lj_grant *lj_grant_all(void);

/* true when the grant's globs match key "<host>/<container>". */
bool lj_grant_allows(const struct lj_grant *g, const char *key);

/* true when a request with Origin header `origin` (NULL when absent) and Host header
 * `host` may open a WebSocket. allowed is the --allowed-origins list (comma separated,
 * "*" = any). With an empty list only requests without Origin or whose Origin names
 * the same host:port as Host are accepted. */
bool lj_auth_origin_ok(const char *allowed, const char *origin, const char *host);

/* true when a request whose Host header is host (NULL when absent) may be served by a
 * listener that checks hosts (loopback or tokenless; DNS rebinding otherwise lets any
 * web page read it). Accepted: no Host; loopback names (localhost, *.localhost,
 * 127.0.0.0/8, ::1); names in allowed (the --allowed-hosts list, comma separated,
 * compared without the port and case, "*" = any). */
bool lj_auth_host_ok(const char *allowed, const char *host);

#endif
