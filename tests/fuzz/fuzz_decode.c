/* fuzz_decode.c — libFuzzer harness for the packet decoder: the first byte picks a link
 * type, the rest is one frame. Fragments persist across inputs in one decoder, as they do
 * in a capture, and are expired as time moves. */
#include <stdlib.h>

#include "decode/vk_decode.h"

static const int dlts[] = {1, 0, 9, 12, 101, 105, 108, 113, 127, 228, 229, 239, 276, 51};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vk_decoder *d;
    static uint64_t ts;
    if (!d) d = vk_decode_new(1u << 20);
    if (size < 1) return 0;
    struct vk_pkt pkt = {ts += 1000000, (uint32_t)(size - 1), (uint32_t)(size - 1),
                         dlts[data[0] % (sizeof dlts / sizeof *dlts)], data + 1};
    struct vk_decoded o;
    vk_decode_packet(d, &pkt, &o);
    if ((ts / 1000000) % 64 == 0) vk_decode_expire(d, ts);
    return 0;
}
