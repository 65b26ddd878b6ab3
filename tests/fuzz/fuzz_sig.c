/* fuzz_sig.c — libFuzzer harness for the payload signatures (src/proto/sig.c).
 *
 * Input layout: byte 0 is the configuration: bit 0 picks the transport (0 UDP, 1 TCP),
 * bits 1-3 a port pair among ports the table names (some signatures need one). Then a
 * list of records: a header byte h; h == 0xff is a gap whose size is the next byte (times
 * 16); otherwise bit 0 is the direction and h >> 1 the chunk length (0 = all that is
 * left), followed by the chunk. Every chunk goes to probe(); data() gets the chunks the
 * flow stage would give it (from the first one a probe claimed, until the parser says
 * done). Then finish() and release(). Leaks are left to ASan.
 * Seeds: payloads of tests/unit/test_sig.c behind a config byte and a 0x00 header byte,
 * e.g. `printf '\x00\x00' | cat - discord.bin` (TCP: `printf '\x01\x00'`). */
#include <stdlib.h>

#include "proto/vk_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[8][2] = {{40000, 50004}, {319, 319},   {50173, 5055}, {49531, 623},
                                         {57162, 10050}, {40000, 443}, {646, 646},    {1, 2}};
    struct vk_cur in = vk_cur_make(data, size);
    uint8_t cfg;
    if (!vk_cur_u8(&in, &cfg)) return 0;

    const struct vk_parser *p = (cfg & 1) ? &vk_proto_sig_tcp : &vk_proto_sig_udp;
    struct vk_flow_view flow = {.family = 4, .ipproto = p->ipproto};
    flow.port[VK_DIR_SRC] = ports[(cfg >> 1) & 7][0];
    flow.port[VK_DIR_DST] = ports[(cfg >> 1) & 7][1];
    struct vk_meta meta;
    vk_meta_init(&meta);
    struct vk_pctx c = {.meta = &meta, .flow = &flow};
    void *st = calloc(1, p->state_size);
    if (!st) return 0;
    p->init(st, &c);

    bool attached = false;
    uint8_t h;
    while (vk_cur_u8(&in, &h)) {
        if (h == 0xff) {
            uint8_t g = 1;
            vk_cur_u8(&in, &g);
            if (attached && !c.done) p->gap(st, &c, g & 1, (size_t)g * 16);
            continue;
        }
        size_t len = h >> 1;
        if (len == 0 || len > vk_cur_left(&in)) len = vk_cur_left(&in);
        struct vk_cur chunk;
        vk_cur_take(&in, len, &chunk);
        int s = p->probe(&flow, h & 1, chunk.p, len);
        if (s < 0 || s > 2) abort();          /* the contract: 0 or 2, never "sure" */
        if (s) attached = true;
        if (attached && !c.done) p->data(st, &c, h & 1, chunk.p, len);
    }
    p->finish(st, &c);
    if (p->release) p->release(st);
    free(st);
    vk_meta_free(&meta);
    return 0;
}
