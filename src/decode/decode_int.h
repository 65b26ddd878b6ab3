/* decode_int.h — private to src/decode: the decoder struct and the fragment table. */
#ifndef VK_DECODE_INT_H
#define VK_DECODE_INT_H

#include "vk_decode.h"

#define VK_FRAG_SLOTS 1024      /* datagrams being reassembled at once */
#define VK_FRAG_TIMEOUT_US (30ull * 1000000ull)

struct vk_frag_piece {
    uint16_t off, len;
};

struct vk_frag {
    bool used;
    uint8_t family, proto;
    uint8_t src[16], dst[16];
    uint32_t id;
    uint64_t first_us;
    uint32_t total;            /* known once the last fragment arrived, else 0 */
    uint32_t have;             /* bytes held (unique) */
    uint8_t *buf;              /* 65535 bytes once allocated */
    uint8_t npieces;
    struct vk_frag_piece pieces[64];
};

struct vk_decoder {
    struct vk_decode_stats st;
    struct vk_frag frags[VK_FRAG_SLOTS];
    size_t frag_bytes, frag_max;
    uint8_t *out;              /* last reassembled datagram (valid until next call) */
    bool hash_only;            /* dispatcher mode: never hold fragments */
};

void vk_frag_init(struct vk_decoder *d, size_t max_bytes);
void vk_frag_cleanup(struct vk_decoder *d);
/* Add one fragment. Returns 0 with data and len set to the whole transport payload when the
 * datagram is complete, 1 when it is held (or dropped: anomaly bits tell). */
int vk_frag_add(struct vk_decoder *d, int family, const uint8_t *src, const uint8_t *dst,
                uint32_t id, uint8_t proto, uint16_t off, bool more, const uint8_t *p,
                size_t n, uint64_t ts_us, uint32_t frame_len, const uint8_t **data, size_t *len,
                uint64_t *frame_bytes, uint32_t *anom);

#endif
