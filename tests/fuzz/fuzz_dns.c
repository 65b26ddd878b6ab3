/* fuzz_dns.c — libFuzzer harness for the DNS parsers (UDP and TCP framing). Byte 0 picks
 * the transport (bit 0: TCP) and the ports (bits 1-2: 53, 5353, 5355 or 9999); the rest is
 * the session, in the format of fuzz_parser.h. */
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[4] = {53, 5353, 5355, 9999};
    struct vk_cur in = vk_cur_make(data, size);
    uint8_t cfg;
    if (!vk_cur_u8(&in, &cfg)) return 0;
    const struct vk_parser *p = (cfg & 1) ? &vk_proto_dns_tcp : &vk_proto_dns_udp;
    struct vk_flow_view f = {.family = 4, .ipproto = p->ipproto, .port = {40000, ports[(cfg >> 1) & 3]}};
    vk_fuzz_parser(p, &f, in, false);
    return 0;
}
