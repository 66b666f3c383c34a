/* Unit tests for the NATS connection options: the URL shown without credentials, the
 * public key derived from an NKey seed (against a pair made by nkeys.js, an independent
 * implementation), secrets read from LOGJET_*_FILE and never echoed in errors or --help,
 * and the up-front option check. Nothing here connects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "natsconn.h"
#include "natsurl.h"
#include "nkey.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_redact(void)
{
    char out[256];
    CHECK_STR(lj_natsurl_redact("nats://pub:s3cret@127.0.0.1:4222", out, sizeof out),
              "nats://***@127.0.0.1:4222");
    CHECK_STR(lj_natsurl_redact("tls://tok3n@a:1, nats://b:2,u:p@c:3", out, sizeof out),
              "tls://***@a:1, nats://b:2,***@c:3");
    CHECK_STR(lj_natsurl_redact("nats://127.0.0.1:4222", out, sizeof out), "nats://127.0.0.1:4222");
    CHECK_STR(lj_natsurl_redact("nats://u:p@h:1", out, 8), "nats://");
    CHECK(lj_natsurl_wants_tls("nats://a:1, tls://b:2"));
    CHECK(!lj_natsurl_wants_tls("nats://a:1"));
    CHECK(lj_natsurl_first_host("tls://u:p@localhost:4222,tls://b:1", out, sizeof out));
    CHECK_STR(out, "localhost");
    CHECK(lj_natsurl_first_host("tls://[::1]:4222", out, sizeof out));
    CHECK_STR(out, "::1");
}

static void test_nkey(void)
{
    char pub[LJ_NKEY_PUBLIC_LEN + 1], err[256];
    const char *path = "test_natsconn.seed";
    /* Made with nkeys.js 1.1.0: createUser(), getSeed(), getPublicKey(). */
    write_file(path, "SUAHZTBHZWAG3DN7XR3IF636XCG27BED5IQ2E3XBFO5FOJYMXXU7RUCXEQ\n");
    CHECK_INT(lj_nkey_public_from_seed_file(path, pub, sizeof pub, err, sizeof err), LJ_OK);
    CHECK_STR(pub, "UAKZG37XEKA2ASQIGS5RBHNRW46BSTXHIZQKS74OBXMIMQRKTFU6JLZ5");
    write_file(path, "-----BEGIN USER NKEY SEED-----\n"
                     "SUAHZTBHZWAG3DN7XR3IF636XCG27BED5IQ2E3XBFO5FOJYMXXU7RUCXEQ\n"
                     "------END USER NKEY SEED------\n");
    CHECK_INT(lj_nkey_public_from_seed_file(path, pub, sizeof pub, err, sizeof err), LJ_OK);
    CHECK_STR(pub, "UAKZG37XEKA2ASQIGS5RBHNRW46BSTXHIZQKS74OBXMIMQRKTFU6JLZ5");
    /* One character changed: the checksum no longer matches, and the error does not
     * show the seed. */
    write_file(path, "SUAHZTBHZWAG3DN7XR3IF636XCG27BED5IQ2E3XBFO5FOJYMXXU7RUCXEA\n");
    CHECK_INT(lj_nkey_public_from_seed_file(path, pub, sizeof pub, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "checksum") != NULL);
    CHECK(strstr(err, "SUAHZ") == NULL);
    write_file(path, "not a seed\n");
    CHECK_INT(lj_nkey_public_from_seed_file(path, pub, sizeof pub, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, path) != NULL);
    unlink(path);
    CHECK_INT(lj_nkey_public_from_seed_file(path, pub, sizeof pub, err, sizeof err), LJ_INVAL);
}

static struct lj_natsconn_options nats;
static const struct lj_opt opts[] = { LJ_NATSCONN_OPTIONS(nats) };
#define NOPTS (sizeof opts / sizeof opts[0])

static lj_status parse(int argc, char **argv, char *err)
{
    enum lj_config_action action;
    memset(&nats, 0, sizeof nats);
    return lj_config_parse(opts, NOPTS, argc, argv, &action, err, 256);
}

static void test_secret_files(void)
{
    char err[256];
    char *none[] = { "prog" };
    char *flag[] = { "prog", "--nats-password", "fromflag" };
    const char *path = "test_natsconn.password";

    write_file(path, "s3cret-file\n");
    setenv("LOGJET_NATS_PASSWORD", "s3cret-env", 1);
    CHECK_INT(parse(1, none, err), LJ_OK);
    CHECK_STR(nats.password, "s3cret-env");
    setenv("LOGJET_NATS_PASSWORD_FILE", path, 1);
    CHECK_INT(parse(1, none, err), LJ_OK);
    CHECK_STR(nats.password, "s3cret-file");          /* the trailing newline is gone */
    CHECK_INT(parse(3, flag, err), LJ_OK);
    CHECK_STR(nats.password, "fromflag");             /* flags win */
    write_file(path, "tok\r\n");
    unsetenv("LOGJET_NATS_PASSWORD");
    unsetenv("LOGJET_NATS_PASSWORD_FILE");
    setenv("LOGJET_NATS_TOKEN_FILE", path, 1);
    CHECK_INT(parse(1, none, err), LJ_OK);
    CHECK_STR(nats.token, "tok");
    unlink(path);
    CHECK_INT(parse(1, none, err), LJ_INVAL);
    CHECK(strstr(err, "LOGJET_NATS_TOKEN_FILE") != NULL);
    CHECK(strstr(err, path) != NULL);
    unsetenv("LOGJET_NATS_TOKEN_FILE");
}

static void test_help_never_shows_secrets(void)
{
    char err[256], buf[16384];
    char *flag[] = { "prog", "--nats-password", "hunter2secret" };
    FILE *f = fmemopen(buf, sizeof buf, "w");
    CHECK_INT(parse(3, flag, err), LJ_OK);
    lj_config_usage(f, "prog", "summary", opts, NOPTS);
    fclose(f);
    CHECK(strstr(buf, "hunter2secret") == NULL);
    CHECK(strstr(buf, "LOGJET_NATS_PASSWORD_FILE") != NULL);
    CHECK(strstr(buf, "LOGJET_NATS_TOKEN_FILE") != NULL);
    CHECK(strstr(buf, "--nats-creds FILE") != NULL);
}

static void test_check(void)
{
    char err[256];
    struct lj_natsconn_options o = { .url = "nats://u:topsecret@127.0.0.1:4222", .retry_ms = 100 };
    CHECK_INT(lj_natsconn_check(&o, err, sizeof err), LJ_OK);
    o.url = "http://u:topsecret@127.0.0.1:4222";
    CHECK_INT(lj_natsconn_check(&o, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "topsecret") == NULL);
    CHECK(strstr(err, "http://***@127.0.0.1:4222") != NULL);
    o.url = "tls://127.0.0.1:4222";
    o.token = "t";
    o.user = "u";
    o.password = "p";
    CHECK_INT(lj_natsconn_check(&o, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "only one") != NULL);
    o.token = NULL;
    o.password = NULL;
    CHECK_INT(lj_natsconn_check(&o, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "--nats-password") != NULL);
    o.user = NULL;
    o.cert = "/etc/hostname";
    CHECK_INT(lj_natsconn_check(&o, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "--nats-key") != NULL);
    o.cert = NULL;
    o.ca = "/nonexistent/ca.pem";
    CHECK_INT(lj_natsconn_check(&o, err, sizeof err), LJ_INVAL);
    CHECK(strstr(err, "--nats-ca") != NULL && strstr(err, "/nonexistent/ca.pem") != NULL);
}

int main(void)
{
    test_redact();
    test_nkey();
    test_secret_files();
    test_help_never_shows_secrets();
    test_check();
    CHECK_DONE();
}
