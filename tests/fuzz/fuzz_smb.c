/* fuzz_smb.c — libFuzzer harness for the SMB parser (src/proto/smb.c).
 *
 * Input: two control bytes, then the payload. The control bytes seed a small PRNG that cuts
 * the payload into segments and picks, per the flags below, their direction, gaps in place
 * of some segments and an interim finish() halfway. Seeds are whole one-direction streams
 * with control bytes 00 00 (client) or 00 01 (server), so the framing of real sessions is
 * kept until the fuzzer mutates it. ASan/LSan check memory and that release() frees all.
 *
 *   ctl & 0x80  directions chosen at random (else all to the first direction)
 *   ctl & 0x40  segments of 1..64 bytes (else 1..2048)
 *   ctl & 0x20  about one segment in eight is lost (gap) instead of delivered
 *   ctl & 0x10  finish() also halfway, as at an interim save
 *   ctl2 & 1    the first direction is the server's */
#include <stdlib.h>

#include "proto/vk_proto.h"

static uint32_t fuzz_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_meta meta;
    struct vk_flow_view flow = {.family = 4, .ipproto = 6, .port = {49152, 445}};
    struct vk_pctx c = {0};
    if (size < 2) return 0;
    uint8_t ctl = data[0], ctl2 = data[1];
    struct vk_cur in = vk_cur_make(data + 2, size - 2);
    uint32_t seed = 0x9e3779b9u ^ ((uint32_t)ctl << 8 | ctl2);
    int dir = ctl2 & 1;
    bool interim = (ctl & 0x10) != 0;
    size_t half = vk_cur_left(&in) / 2;

    vk_meta_init(&meta);
    c.meta = &meta;
    c.flow = &flow;
    (void)vk_proto_smb.probe(&flow, dir, in.p, vk_cur_left(&in));
    void *st = calloc(1, vk_proto_smb.state_size);
    if (!st) return 0;
    vk_proto_smb.init(st, &c);

    while (vk_cur_left(&in) > 0 && !c.done) {
        size_t max = (ctl & 0x40) ? 64 : 2048;
        size_t n = 1 + fuzz_rand(&seed) % max;
        struct vk_cur seg;
        if (n > vk_cur_left(&in)) n = vk_cur_left(&in);
        vk_cur_take(&in, n, &seg);
        if (ctl & 0x80) dir = fuzz_rand(&seed) & 1;
        if ((ctl & 0x20) && fuzz_rand(&seed) % 8 == 0)
            vk_proto_smb.gap(st, &c, dir, n);
        else
            vk_proto_smb.data(st, &c, dir, seg.p, n);
        if (interim && vk_cur_left(&in) <= half) {
            interim = false;
            vk_proto_smb.finish(st, &c);
        }
    }
    vk_proto_smb.finish(st, &c);
    vk_proto_smb.release(st);
    free(st);
    vk_meta_free(&meta);
    return 0;
}
