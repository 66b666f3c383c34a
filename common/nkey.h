/* nkey.h - the public key of a NATS user NKey seed, so that --nats-nkey needs only the
 * seed file an operator already has (nats.c 3.4.1's natsOptions_SetNKeyFromSeed wants
 * the public key as well and cannot derive it).
 *
 * A seed is base32 (RFC 4648, no padding) of
 *     [0] 0x90 | type>>5   [1] (type & 31) << 3   [2..33] Ed25519 seed   [34..35] CRC-16 LE
 * and a public key is base32 of
 *     [0] type   [1..32] Ed25519 public key   [33..34] CRC-16 LE
 * with type 0xA0 ('U') for users and CRC-16/XMODEM over the bytes before it.
 * Does not sign anything and keeps no key material after it returns.
 */
#ifndef LJ_NKEY_H
#define LJ_NKEY_H

#include <stddef.h>

#include "status.h"

#define LJ_NKEY_PUBLIC_LEN 56   /* characters, without the NUL */

/* Reads the first user seed ("SU" + 56 base32 characters) from the file at path, on
 * its own or inside a "BEGIN USER NKEY SEED" block, and writes its public key ("U...",
 * NUL-terminated) into pub (size publen > LJ_NKEY_PUBLIC_LEN). LJ_INVAL naming the file
 * (never its contents) when it cannot be read, holds no user seed or a bad checksum. */
lj_status lj_nkey_public_from_seed_file(const char *path, char *pub, size_t publen, char *err,
                                        size_t errlen);

#endif
