/* fuzz_cookie.c - libFuzzer target for gateway/cookie.c (lj_cookie_get).
 *
 * Input: byte 0 picks the output size (1..64), byte 1 the name's length (0..15, taken
 * from the bytes after it), the rest is the Cookie header. Checks beyond "no crash,
 * no overread" (the header is copied to an exact-size heap buffer so ASan sees one
 * byte past it): a found value is non-empty, fits, holds no ';' and no control byte
 * (so no NUL cuts it short), and occurs in the header right after "name" and "=" (with
 * optional blanks and quote between); a miss leaves out empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"

/* true when value appears in h at a place where name=value could have been read. */
static int plausible(const char *h, size_t n, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    for (size_t i = 0; i + nl <= n; i++) {
        size_t j = i + nl;
        if (memcmp(h + i, name, nl) != 0)
            continue;
        while (j < n && (h[j] == ' ' || h[j] == '\t'))
            j++;
        if (j >= n || h[j] != '=')
            continue;
        j++;
        while (j < n && (h[j] == ' ' || h[j] == '\t'))
            j++;
        if (j < n && h[j] == '"' && !(j + vl <= n && memcmp(h + j, value, vl) == 0))
            j++;
        if (j + vl <= n && memcmp(h + j, value, vl) == 0)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[16], out[65];
    if (size < 2)
        return 0;
    size_t outlen = 1 + data[0] % 64, nl = data[1] % 16;
    data += 2;
    size -= 2;
    if (nl > size)
        nl = size;
    memcpy(name, data, nl);
    name[nl] = '\0';
    nl = strlen(name);   /* a NUL inside ends the name */
    data += nl;
    size -= nl;
    char *h = malloc(size ? size : 1);
    if (!h)
        return 0;
    memcpy(h, data, size);
    memset(out, 'x', sizeof(out));
    int found = lj_cookie_get(h, size, name, out, outlen);
    size_t vl = strnlen(out, sizeof(out));
    if (!found && out[0] != '\0')
        abort();
    if (found) {
        for (size_t i = 0; i < vl; i++)
            if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
                abort();
        if (vl == 0 || vl >= outlen || out[vl] != '\0' || memchr(out, ';', vl) || !plausible(h, size, name, out))
            abort();
    }
    free(h);
    return 0;
}
