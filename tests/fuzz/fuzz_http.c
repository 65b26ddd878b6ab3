/* fuzz_http.c — libFuzzer harness for the HTTP/1.x parser (src/proto/http.c).
 *
 * The first two bytes seed how the rest is cut: into pieces of 1..512 bytes, each sent
 * to one direction, with now and then a gap notice instead of a piece. Every input runs
 * probe, init, data/gap, finish and release on fresh state, so ASan/LSan see any
 * overflow or leak. Seeds: HTTP payloads from ../shared/corpus (see tests/unit/test_http.c). */
#include <stdlib.h>

#include "proto/vk_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_cur in = vk_cur_make(data, size);
    uint16_t seed = 0;
    if (!vk_cur_u16le(&in, &seed)) return 0;
    uint32_t rng = seed * 2654435761u + 1;

    struct vk_flow_view view = {.family = 4, .ipproto = 6, .port = {40000, 80}};
    struct vk_meta meta;
    vk_meta_init(&meta);
    struct vk_pctx ctx = {.meta = &meta, .flow = &view};
    void *st = calloc(1, vk_proto_http.state_size);
    if (!st) return 0;

    vk_proto_http.probe(&view, VK_DIR_SRC, in.p, vk_cur_left(&in));
    vk_proto_http.init(st, &ctx);
    while (vk_cur_left(&in) && !ctx.done) {
        rng = rng * 1103515245u + 12345u;
        int dir = (rng >> 16) & 1;
        size_t want = 1 + ((rng >> 17) % ((rng >> 28) & 1 ? 512 : 24));
        if (((rng >> 8) & 31) == 0) { /* one piece in 32 becomes a gap */
            vk_proto_http.gap(st, &ctx, dir, want);
            continue;
        }
        if (want > vk_cur_left(&in)) want = vk_cur_left(&in);
        struct vk_cur piece;
        vk_cur_take(&in, want, &piece);
        vk_proto_http.data(st, &ctx, dir, piece.p, want);
    }
    vk_proto_http.finish(st, &ctx);
    vk_proto_http.release(st);
    free(st);
    vk_meta_free(&meta);
    return 0;
}
