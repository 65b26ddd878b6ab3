/* fuzz_socks.c — libFuzzer harness for the SOCKS4/4a/5 parser; input format in
 * fuzz_parser.h, delivered once probe() claims the session. */
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{10, 0, 0, 1}, {10, 0, 0, 2}},
                             .port = {40000, 1080}};
    vk_fuzz_parser(&vk_proto_socks, &f, vk_cur_make(data, size), true);
    return 0;
}
