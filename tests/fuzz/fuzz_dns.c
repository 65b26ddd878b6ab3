/* fuzz_dns.c — libFuzzer harness for the DNS parsers (UDP and TCP framing).
 *
 * Input layout: byte 0 picks the transport (bit 0: TCP) and the ports (bits 1-2: 53,
 * 5353, 5355 or 9999). Then a list of records: a header byte h; h == 0xff is a gap whose
 * size is the next byte (times 16); otherwise bit 0 is the direction and h >> 1 the chunk
 * length (0 = all that is left), followed by the chunk. Every chunk goes to probe() (whose
 * result is ignored) and to data(); then finish() and release(). Leaks are left to ASan.
 * Seeds: DNS payloads from the corpus with a 0x00 header byte, e.g. for a UDP query
 * `printf '\x00\x00' | cat - query.bin`. */
#include <stdlib.h>

#include "proto/vk_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[4] = {53, 5353, 5355, 9999};
    struct vk_cur in = vk_cur_make(data, size);
    uint8_t cfg;
    if (!vk_cur_u8(&in, &cfg)) return 0;

    const struct vk_parser *p = (cfg & 1) ? &vk_proto_dns_tcp : &vk_proto_dns_udp;
    struct vk_flow_view flow = {.family = 4, .ipproto = p->ipproto};
    flow.port[VK_DIR_SRC] = 40000;
    flow.port[VK_DIR_DST] = ports[(cfg >> 1) & 3];
    struct vk_meta meta;
    vk_meta_init(&meta);
    struct vk_pctx c = {.meta = &meta, .flow = &flow};
    void *st = calloc(1, p->state_size);
    if (!st) return 0;
    p->init(st, &c);

    uint8_t h;
    while (vk_cur_u8(&in, &h)) {
        if (h == 0xff) {
            uint8_t g = 1;
            vk_cur_u8(&in, &g);
            p->gap(st, &c, g & 1, (size_t)g * 16);
            continue;
        }
        size_t len = h >> 1;
        if (len == 0 || len > vk_cur_left(&in)) len = vk_cur_left(&in);
        struct vk_cur chunk;
        vk_cur_take(&in, len, &chunk);
        (void)p->probe(&flow, h & 1, chunk.p, len);
        p->data(st, &c, h & 1, chunk.p, len);
    }
    p->finish(st, &c);
    if (p->release) p->release(st);
    free(st);
    vk_meta_free(&meta);
    return 0;
}
