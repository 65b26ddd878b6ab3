/* fuzz_dhcp.c — libFuzzer harness for the DHCP parser (DHCPv4 and DHCPv6). Byte 0 bits
 * 1-2 pick the ports (68→67, 67→68, 546→547 over IPv6, 4000→4000); the rest is the
 * session, in the format of fuzz_parser.h. */
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[4][2] = {{68, 67}, {67, 68}, {546, 547}, {4000, 4000}};
    struct vk_cur in = vk_cur_make(data, size);
    uint8_t cfg;
    if (!vk_cur_u8(&in, &cfg)) return 0;
    int k = (cfg >> 1) & 3;
    struct vk_flow_view f = {.family = k == 2 ? 6 : 4, .ipproto = 17, .port = {ports[k][0], ports[k][1]}};
    vk_fuzz_parser(&vk_proto_dhcp, &f, in, false);
    return 0;
}
