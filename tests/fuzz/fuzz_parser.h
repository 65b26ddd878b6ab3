/* fuzz_parser.h — the one driver every parser harness uses: it turns a fuzz input into a
 * session of chunks, both directions and gaps, run through a parser's whole life
 * (init, probe, data, gap, finish, release), then writes the meta as JSON so every value
 * is touched. ASan/LSan report overflows and leaks.
 *
 * Input: a list of records. Header byte h: h == 0xff is a gap in direction (next byte & 1)
 * of (next byte * 16) bytes; otherwise bit 0 is the direction and h >> 1 the chunk length
 * (0, or more than is left, means all that is left), followed by the chunk. */
#ifndef VK_FUZZ_PARSER_H
#define VK_FUZZ_PARSER_H

#include <stdlib.h>

#include "proto/vk_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FTP's expectations must name a real address and parser. */
static void vk_fuzz_expect(struct vk_pctx *c, int family, const uint8_t *addr, uint16_t port,
                           const char *parser, const char *filename)
{
    (void)c;
    (void)port;
    if (family != 4 && family != 6) abort();
    volatile uint8_t x = addr[family == 6 ? 15 : 3];
    (void)x;
    if (!parser || !vk_proto_by_name(parser, 6)) abort();
    if (filename) (void)strlen(filename);
}

/* gated: deliver data only once probe() claimed a chunk, as the flow stage does, and
 * check probe() keeps to its 0..3 contract. Otherwise every chunk is delivered. */
static void vk_fuzz_parser(const struct vk_parser *p, const struct vk_flow_view *f,
                           struct vk_cur in, bool gated)
{
    struct vk_meta meta;
    vk_meta_init(&meta);
    struct vk_pctx c = {.meta = &meta, .flow = f, .expect = vk_fuzz_expect};
    void *st = calloc(1, p->state_size ? p->state_size : 1);
    if (!st) return;
    if (p->init) p->init(st, &c);
    bool attached = !gated;
    uint8_t h;
    while (vk_cur_u8(&in, &h) && !c.done) {
        if (h == 0xff) {
            uint8_t g = 1;
            vk_cur_u8(&in, &g);
            if (attached && p->gap) p->gap(st, &c, g & 1, (size_t)g * 16);
            continue;
        }
        size_t len = h >> 1;
        if (len == 0 || len > vk_cur_left(&in)) len = vk_cur_left(&in);
        struct vk_cur chunk;
        vk_cur_take(&in, len, &chunk);
        if (p->probe) {
            int s = p->probe(f, h & 1, chunk.p, len);
            if (s < 0 || s > 3) abort();
            if (s) attached = true;
        }
        if (attached) p->data(st, &c, h & 1, chunk.p, len);
    }
    if (p->finish) p->finish(st, &c);
    if (p->release) p->release(st);
    free(st);
    struct vk_json j;
    vk_json_init(&j);
    vk_json_meta(&j, &meta);
    vk_json_free(&j);
    vk_meta_free(&meta);
}

#endif
