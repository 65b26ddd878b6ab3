/* codec.c — record bodies: a compact serialisation of a meta list for the meta store.
 *
 * Per item: varint tag (key id << 1 | 1 for numbers), then varint number (uint, time) or varint length + bytes
 * (strings and addresses, which the meta list keeps as text). Key ids are the registry's
 * enum values mapped through the store's persistent key table, so adding keys to the
 * registry never changes what old bodies mean. O(bytes) both ways. */
#include <string.h>

#include "store_int.h"

void vk_varint_put(struct vk_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    vk_buf_append(b, t, n);
}

bool vk_varint_get(struct vk_cur *c, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned sh = 0; sh < 64; sh += 7) {
        uint8_t x;
        if (!vk_cur_u8(c, &x)) return false;
        r |= (uint64_t)(x & 0x7f) << sh;
        if (!(x & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

int vk_codec_encode(const struct vk_meta *m, const uint16_t *to_pid, struct vk_buf *out)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        enum vk_type t = vk_key_info(it->key)->type;
        bool num = t == VK_T_UINT || t == VK_T_TIME;
        vk_varint_put(out, (uint64_t)to_pid[it->key] << 1 | num);
        if (num) {
            vk_varint_put(out, it->u);
        } else {
            vk_varint_put(out, it->len);
            if (vk_buf_append(out, vk_meta_str(m, it), it->len) != 0) return VK_ENOMEM;
        }
    }
    return 0;
}

/* Bodies come from our own store, but a damaged file must not crash a reader: every
 * length is checked. Values of keys this build does not know are skipped (the tag's low
 * bit says whether a number or a string follows). */
int vk_codec_decode(const uint8_t *p, size_t n, const int *to_key, size_t nmap, struct vk_meta *out)
{
    struct vk_cur c = vk_cur_make(p, n);
    while (vk_cur_left(&c)) {
        uint64_t tag, v;
        if (!vk_varint_get(&c, &tag) || !vk_varint_get(&c, &v)) return VK_EINVAL;
        uint64_t pid = tag >> 1;
        int k = pid < nmap ? to_key[pid] : -1; /* -1: a key this build does not know */
        if (tag & 1) {
            if (k >= 0) vk_meta_add_uint(out, (enum vk_key)k, v);
            continue;
        }
        struct vk_cur s;
        if (v > VK_META_MAX_STR || !vk_cur_take(&c, (size_t)v, &s)) return VK_EINVAL;
        if (k >= 0) vk_meta_add_str(out, (enum vk_key)k, (const char *)s.p, (size_t)v);
    }
    return 0;
}
