/* fuzz_quic.c — libFuzzer harness for src/proto/quic.c (QUIC over UDP, fbzero over TCP).
 *
 * Input: one mode byte, then records of [flags][u16be length][bytes]; flags bit 0 is the
 * direction, bit 1 asks for a gap() notice before the record. A record cut short by the
 * end of the input is delivered as it is.
 *   mode % 4 == 0: each record is a datagram for vk_proto_quic (the parser as the flow
 *                  stage drives it: probe, init, data..., finish, release);
 *   mode % 4 == 1: each record is the plaintext of a decrypted Initial, handed straight
 *                  to the frame walker (AEAD keeps mutated datagrams from getting there);
 *                  bits 2-3 of the mode byte pick the version (v1, draft-29, Q050, T051);
 *   mode % 4 == 2: each record is a TCP chunk for vk_proto_fbzero;
 *   mode % 4 == 3: the whole rest is one gQUIC handshake message (CHLO, REJ...).
 * quic.c is included whole to reach its frame walker. ASan/LSan check that nothing is
 * read out of bounds or leaked once release() has run. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/quic.c"

static const uint32_t versions[4] = {QV_1, 0xff00001du, QV_Q050, QV_T051};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_cur in = vk_cur_make(data, size);
    uint8_t mode;
    if (!vk_cur_u8(&in, &mode)) return 0;

    struct vk_meta meta;
    vk_meta_init(&meta);
    struct vk_flow_view fv = {.family = 4, .ipproto = 17, .port = {51000, 443}};
    struct vk_pctx c = {.meta = &meta, .flow = &fv};

    if (mode % 4 == 3) {
        quic_gq_message(&c, in);
        vk_meta_free(&meta);
        return 0;
    }

    const struct vk_parser *ps = mode % 4 == 2 ? &vk_proto_fbzero : &vk_proto_quic;
    if (ps->ipproto == 6) fv.ipproto = 6;
    void *st = calloc(1, ps->state_size);
    if (!st) return 0;
    ps->init(st, &c);
    struct quic_state *qs = st;
    if (mode % 4 == 1) qs->cdir = VK_DIR_SRC;

    bool first[2] = {true, true};
    while (vk_cur_left(&in)) {
        uint8_t flags;
        uint16_t len;
        struct vk_cur rec;
        vk_cur_u8(&in, &flags);
        if (!vk_cur_u16be(&in, &len)) len = (uint16_t)vk_cur_left(&in);
        if (!vk_cur_take(&in, len, &rec)) vk_cur_take(&in, vk_cur_left(&in), &rec);
        int dir = flags & 1;
        if (mode % 4 == 1) {
            quic_frames(qs, &c, dir, versions[(mode >> 2) & 3], rec);
            continue;
        }
        if (flags & 2) ps->gap(st, &c, dir, len);
        if (first[dir]) {
            first[dir] = false;
            (void)ps->probe(&fv, dir, rec.p, vk_cur_left(&rec));
        }
        if (!c.done && vk_cur_left(&rec)) ps->data(st, &c, dir, rec.p, vk_cur_left(&rec));
    }
    ps->finish(st, &c);
    if (ps->release) ps->release(st);
    free(st);
    vk_meta_free(&meta);
    return 0;
}
