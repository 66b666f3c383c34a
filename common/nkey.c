/* nkey.c - deriving a user NKey's public key from its seed file (OpenSSL Ed25519). */
#include "nkey.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SEED_CHARS 58        /* base32 of 36 bytes */
#define SEED_BYTES 36
#define PUBLIC_BYTES 35
#define TYPE_USER 0xA0       /* 20 << 3 */
#define TYPE_SEED 0x90       /* 18 << 3 */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

/* Decodes exactly n base32 characters into out; false on a foreign character. */
static bool base32_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = strchr(alphabet, s[i]);
        if (c == NULL || s[i] == '\0')
            return false;
        acc = acc << 5 | (uint32_t)(c - alphabet);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (o == outlen)
                return false;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o == outlen;
}

static void base32_encode(const uint8_t *p, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | p[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

/* Finds "SU" followed by 56 base32 characters in buf. */
static const char *find_seed(const char *buf)
{
    for (const char *p = strstr(buf, "SU"); p; p = strstr(p + 1, "SU")) {
        size_t n = strspn(p, alphabet);
        if (n == SEED_CHARS && (p == buf || strchr(alphabet, p[-1]) == NULL || p[-1] == '\0'))
            return p;
    }
    return NULL;
}

static lj_status derive(const uint8_t *raw, char *pub)
{
    uint8_t out[PUBLIC_BYTES];
    size_t len = 32;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
    lj_status st = LJ_INVAL;
    if (k != NULL && EVP_PKEY_get_raw_public_key(k, out + 1, &len) == 1 && len == 32) {
        uint16_t crc;
        out[0] = TYPE_USER;
        crc = crc16(out, 33);
        out[33] = (uint8_t)(crc & 0xff);
        out[34] = (uint8_t)(crc >> 8);
        base32_encode(out, sizeof out, pub);
        st = LJ_OK;
    }
    EVP_PKEY_free(k);
    return st;
}

lj_status lj_nkey_public_from_seed_file(const char *path, char *pub, size_t publen, char *err,
                                        size_t errlen)
{
    char buf[8192];
    uint8_t raw[SEED_BYTES];
    const char *seed;
    size_t n;
    lj_status st = LJ_INVAL;
    FILE *f = fopen(path, "rb");

    if (publen <= LJ_NKEY_PUBLIC_LEN)
        return lj_fail(err, errlen, LJ_INVAL, "no room for a public key");
    if (f == NULL)
        return lj_fail(err, errlen, LJ_INVAL, "--nats-nkey: cannot read '%s': %s", path,
                       strerror(errno));
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    seed = find_seed(buf);
    if (seed == NULL || !base32_decode(seed, SEED_CHARS, raw, sizeof raw)) {
        st = lj_fail(err, errlen, LJ_INVAL, "--nats-nkey: '%s' holds no user NKey seed (SU...)",
                     path);
    } else if ((raw[0] & 0xF8) != TYPE_SEED
               || (((raw[0] & 7) << 5) | ((raw[1] & 0xF8) >> 3)) != TYPE_USER
               || crc16(raw, 34) != (uint16_t)(raw[34] | raw[35] << 8)) {
        st = lj_fail(err, errlen, LJ_INVAL, "--nats-nkey: the seed in '%s' is not a valid user "
                     "seed (bad type or checksum)", path);
    } else if ((st = derive(raw, pub)) != LJ_OK) {
        lj_fail(err, errlen, LJ_INVAL, "--nats-nkey: cannot derive the public key of '%s'", path);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    OPENSSL_cleanse(raw, sizeof raw);
    return st;
}
