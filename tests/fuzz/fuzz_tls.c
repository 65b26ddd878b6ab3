/* fuzz_tls.c — libFuzzer harness for the TLS parser (src/proto/tls.c).
 *
 * The first byte picks the mode. Odd: the rest is one handshake message for
 * vk_tls_handshake() (bit 1: from the client, bit 2: QUIC), as quic.c would hand it over.
 * Even: the rest is a script of chunks for the stream parser, each introduced by a control
 * byte c: direction c & 1; (c >> 1) & 3 < 3 means data whose length is the next two bytes
 * (big-endian, cut to what is left); == 3 means a gap of c >> 3 bytes, or when that is 0
 * an interim finish(). The session always ends with finish() and release(), so ASan sees
 * any leak of the parser's buffers or of OpenSSL objects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vk_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    struct vk_meta meta;
    vk_meta_init(&meta);
    uint8_t mode = data[0];
    data++;
    size--;

    if (mode & 1) {
        vk_tls_handshake(&meta, data, size, mode & 2, mode & 4);
        vk_meta_free(&meta);
        return 0;
    }

    struct vk_flow_view view = {.family = 4, .ipproto = 6, .port = {50000, 443}};
    struct vk_pctx ctx = {.meta = &meta, .flow = &view};
    void *st = calloc(1, vk_proto_tls.state_size);
    if (!st) return 0;
    vk_proto_tls.probe(&view, 0, data, size);
    vk_proto_tls.init(st, &ctx);
    size_t i = 0;
    while (i < size && !ctx.done) {
        uint8_t c = data[i++];
        int dir = c & 1;
        if (((c >> 1) & 3) == 3) {
            if (c >> 3) vk_proto_tls.gap(st, &ctx, dir, c >> 3);
            else vk_proto_tls.finish(st, &ctx);
            continue;
        }
        size_t len = 0;
        if (i + 2 <= size) len = (size_t)data[i] << 8 | data[i + 1];
        i += 2;
        if (i > size) break;
        if (len > size - i) len = size - i;
        /* Copy so that ASan catches reads past the chunk, not just past the input. */
        uint8_t *chunk = malloc(len ? len : 1);
        if (!chunk) break;
        memcpy(chunk, data + i, len);
        vk_proto_tls.data(st, &ctx, dir, chunk, len);
        free(chunk);
        i += len;
    }
    vk_proto_tls.finish(st, &ctx);
    vk_proto_tls.release(st);
    free(st);
    vk_meta_free(&meta);
    return 0;
}
