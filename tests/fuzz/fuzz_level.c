/* fuzz_level.c - libFuzzer target for publisher/level.c.
 *
 * Any bytes: the result is a valid level, and only the first 512 bytes matter (the
 * header promises bounded cost), so a longer input detects like its prefix.
 */
#include <stdint.h>
#include <stdlib.h>

#include "level.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    enum lj_level l = lj_level_detect(s, size);

    if ((unsigned)l >= LJ_LEVEL_COUNT)
        abort();
    if (size > 512 && lj_level_detect(s, 512) != l)
        abort();
    return 0;
}
