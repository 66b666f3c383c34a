/* tls.c - the certificate and key pair check (OpenSSL). Knows nothing about lws. */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* The reason OpenSSL queued last, or a fallback; clears the queue. */
static const char *ssl_reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : fallback;
}

lj_status lj_tls_check(const char *cert, const char *key, char *err, size_t errlen)
{
    FILE *f = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    lj_status st = LJ_OK;

    if (!cert || !key) {
        st = lj_fail(err, errlen, LJ_INVAL, "--tls-cert and --tls-key go together");
        goto out;
    }
    if (!(f = fopen(cert, "r"))) {
        st = lj_fail(err, errlen, LJ_IO, "cannot read certificate %s: %s", cert, strerror(errno));
        goto out;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) {
        st = lj_fail(err, errlen, LJ_INVAL, "certificate %s holds no PEM certificate (%s)", cert,
                     ssl_reason("unreadable"));
        goto out;
    }
    if (!(f = fopen(key, "r"))) {
        st = lj_fail(err, errlen, LJ_IO, "cannot read key %s: %s", key, strerror(errno));
        goto out;
    }
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k) {
        st = lj_fail(err, errlen, LJ_INVAL, "key %s holds no unencrypted PEM private key (%s)", key,
                     ssl_reason("unreadable"));
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        ERR_clear_error();
        st = lj_fail(err, errlen, LJ_INVAL, "key %s does not match certificate %s", key, cert);
    }
out:
    EVP_PKEY_free(k);
    X509_free(x);
    return st;
}
