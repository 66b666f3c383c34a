/* fuzz_control.c - libFuzzer target for the gateway's control-message parser
 * (gateway/control.c) and the grep compiler it feeds. Build with
 * -fsanitize=fuzzer,address and link gateway/libljgatewaycore.a + common + cJSON. */
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "grep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lj_control c;
    char msg[160];
    if (lj_control_parse((const char *)data, size, 1000, &c, msg, sizeof(msg)) == LJ_OK && c.grep[0]) {
        struct lj_grep *g = NULL;
        if (lj_grep_compile(c.grep, &g, msg, sizeof(msg)) == LJ_OK) {
            lj_grep_match(g, c.container, sizeof(c.container) < 64 ? 0 : 64);
            lj_grep_destroy(g);
        }
    }
    return 0;
}
