/* fuzz_sig.c — libFuzzer harness for the signature recognisers (sig.c). Byte 0 bit 0 picks
 * TCP or UDP and bits 1-3 a port pair that some signatures need; the rest is the session
 * (fuzz_parser.h), delivered only once probe() claims it, as the flow stage does. */
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[8][2] = {{40000, 50004}, {319, 319},   {50173, 5055}, {49531, 623},
                                         {57162, 10050}, {40000, 443}, {646, 646},    {1, 2}};
    struct vk_cur in = vk_cur_make(data, size);
    uint8_t cfg;
    if (!vk_cur_u8(&in, &cfg)) return 0;
    const struct vk_parser *p = (cfg & 1) ? &vk_proto_sig_tcp : &vk_proto_sig_udp;
    int k = (cfg >> 1) & 7;
    struct vk_flow_view f = {.family = 4, .ipproto = p->ipproto, .port = {ports[k][0], ports[k][1]}};
    vk_fuzz_parser(p, &f, in, true);
    return 0;
}
