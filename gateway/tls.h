/* tls.h - checks a certificate and key pair before libwebsockets is given it.
 *
 * lws reports an unreadable or mismatched pair only in its own log and then fails the
 * whole context (at start) or leaves a vhost half-updated (on reload); reading the
 * files here first gives an error that names the file and the cause, and lets a bad
 * reload leave the serving certificate alone. Does not serve TLS: lws does.
 */
#ifndef LJ_TLS_H
#define LJ_TLS_H

#include <stddef.h>

#include "status.h"

/* Reads the PEM certificate chain at cert and the PEM private key at key, and checks
 * that the key belongs to the first certificate. LJ_OK, or LJ_IO (unreadable) /
 * LJ_INVAL (not PEM, mismatch) with err naming the file. Blocks on file reads only;
 * any thread. Never prints. */
lj_status lj_tls_check(const char *cert, const char *key, char *err, size_t errlen);

#endif
