/* fuzz_ssh.c — libFuzzer harness for the SSH parser (banners, binary packets, KEXINIT/HASSH).
 *
 * The input is a list of records, so that mutations control where the stream is cut and
 * in which direction each piece goes: a header byte h, then
 *   h & 0x7f in 1..0x7e : that many payload bytes, direction h >> 7;
 *   h & 0x7f == 0       : a 16-bit big-endian length, then that many bytes;
 *   h & 0x7f == 0x7f    : a gap of (next byte + 1) bytes in direction h >> 7.
 * A short last record takes what is left. The first payload is offered to probe(). Then
 * finish() and release(); ASan/LSan report any overflow or leak, and the meta is written
 * as JSON to exercise every value. */
#include <stdlib.h>

#include "proto/vk_proto.h"

static void expect_stub(struct vk_pctx *c, int family, const uint8_t *addr, uint16_t port,
                        const char *parser, const char *filename)
{
    (void)c;
    (void)port;
    if (family != 4 && family != 6) abort();
    volatile uint8_t x = addr[family == 6 ? 15 : 3];
    (void)x;
    if (!parser || strcmp(parser, "ftp-data")) abort();
    if (filename) (void)strlen(filename);
}

static void run(const struct vk_parser *ps, const struct vk_flow_view *f, const uint8_t *data, size_t size)
{
    struct vk_meta m;
    vk_meta_init(&m);
    struct vk_pctx c = {.meta = &m, .flow = f, .expect = expect_stub};
    void *st = calloc(1, ps->state_size);
    if (!st) return;
    ps->init(st, &c);
    bool probed = false;
    size_t i = 0;
    while (i < size && !c.done) {
        uint8_t h = data[i++];
        int dir = h >> 7;
        size_t n = h & 0x7f;
        if (n == 0x7f) {
            size_t g = i < size ? (size_t)data[i++] + 1 : 1;
            ps->gap(st, &c, dir, g);
            continue;
        }
        if (n == 0) {
            n = i + 1 < size ? (size_t)(data[i] << 8 | data[i + 1]) : 0;
            i += 2;
            if (i > size) break;
        }
        if (n > size - i) n = size - i;
        if (!probed) {
            ps->probe(f, dir, data + i, n);
            probed = true;
        }
        ps->data(st, &c, dir, data + i, n);
        i += n;
    }
    ps->finish(st, &c);
    if (ps->release) ps->release(st);
    free(st);
    struct vk_json j;
    vk_json_init(&j);
    vk_json_meta(&j, &m);
    vk_json_free(&j);
    vk_meta_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{10, 0, 0, 1}, {10, 0, 0, 2}},
                             .port = {40000, 22}};
    run(&vk_proto_ssh, &f, data, size);
    return 0;
}
