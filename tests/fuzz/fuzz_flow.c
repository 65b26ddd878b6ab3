/* fuzz_flow.c — libFuzzer harness for the whole packet path below the CLI: the input is a
 * sequence of frames (2-byte length, 1-byte time step, frame bytes), all Ethernet, decoded
 * and fed to one flow table with every parser, then flushed. Exercises TCP reassembly,
 * parser dispatch and the caps with attacker-chosen sequence numbers. */
#include <stdlib.h>

#include "flow/vk_flow.h"

static void emit(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos)
{
    (void)ud;
    (void)m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_flow_config c;
    vk_flow_config_default(&c);
    c.max_flows = 64;
    c.reasm_max_flow = 4096;
    c.reasm_max_total = 16384;
    c.dpi_packets = 0; /* nDPI is a dependency, not ours to fuzz */
    static struct vk_decoder *d; /* the fragment table lives across inputs, as in a capture */
    if (!d) d = vk_decode_new(1u << 20);
    struct vk_flowtab *t = vk_flow_new(&c, emit, NULL);
    struct vk_cur cur = vk_cur_make(data, size);
    uint64_t ts = 1700000000000000ull;
    uint16_t len;
    uint8_t step;
    while (vk_cur_u16be(&cur, &len) && vk_cur_u8(&cur, &step)) {
        struct vk_cur fr;
        if (!vk_cur_take(&cur, len < vk_cur_left(&cur) ? len : vk_cur_left(&cur), &fr)) break;
        ts += (uint64_t)step * 100000;
        struct vk_pkt pkt = {ts, (uint32_t)vk_cur_left(&fr), (uint32_t)vk_cur_left(&fr), 1, fr.p};
        struct vk_decoded o;
        vk_decode_packet(d, &pkt, &o);
        vk_flow_packet(t, &pkt, &o);
        if (step > 200) vk_flow_advance(t, ts);
    }
    vk_flow_free(t);
    return 0;
}
