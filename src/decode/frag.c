/* frag.c — IPv4 and IPv6 fragment reassembly with bounded memory.
 *
 * A fixed table of VK_FRAG_SLOTS datagrams, each reassembled into one 64 KiB buffer
 * allocated on its first fragment; the total is capped by frag_max (32 MiB default).
 * When the table or the byte cap is full, the oldest datagram is evicted and counted.
 * Overlaps keep the first bytes received (first-wins, the BSD/Linux policy for
 * non-conflicting resends) and set ip.frag_overlap when the new bytes differ.
 * O(slots) lookup per fragment: fragments are rare on real links. */
#include <stdlib.h>

#include "decode_int.h"

#define ANOMB(a) (1u << VK_ANOM_##a)

void vk_decode_set_hash_only(struct vk_decoder *d) { d->hash_only = true; }

void vk_frag_init(struct vk_decoder *d, size_t max_bytes)
{
    d->frag_max = max_bytes;
    d->out = malloc(65536);
}

static void drop(struct vk_decoder *d, struct vk_frag *f)
{
    if (f->buf) {
        free(f->buf);
        d->frag_bytes -= 65536;
    }
    memset(f, 0, sizeof *f);
}

void vk_frag_cleanup(struct vk_decoder *d)
{
    for (int i = 0; i < VK_FRAG_SLOTS; i++) drop(d, &d->frags[i]);
    free(d->out);
    d->out = NULL;
}

void vk_decode_expire(struct vk_decoder *d, uint64_t now_us)
{
    for (int i = 0; i < VK_FRAG_SLOTS; i++) {
        struct vk_frag *f = &d->frags[i];
        if (f->used && f->first_us + VK_FRAG_TIMEOUT_US < now_us) {
            d->st.frag_evicted++;
            drop(d, f);
        }
    }
}

static struct vk_frag *find_or_make(struct vk_decoder *d, int family, const uint8_t *src,
                                    const uint8_t *dst, uint32_t id, uint8_t proto,
                                    uint64_t ts_us)
{
    struct vk_frag *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < VK_FRAG_SLOTS; i++) {
        struct vk_frag *f = &d->frags[i];
        if (!f->used) {
            if (!free_slot) free_slot = f;
            continue;
        }
        if (f->id == id && f->family == family && f->proto == proto &&
            memcmp(f->src, src, 16) == 0 && memcmp(f->dst, dst, 16) == 0)
            return f;
        if (!oldest || f->first_us < oldest->first_us) oldest = f;
    }
    struct vk_frag *f = free_slot;
    if (!f || d->frag_bytes + 65536 > d->frag_max) {
        if (!oldest) return NULL;
        d->st.frag_evicted++;
        drop(d, oldest);
        f = oldest;
    }
    f->used = true;
    f->family = (uint8_t)family;
    f->proto = proto;
    memcpy(f->src, src, 16);
    memcpy(f->dst, dst, 16);
    f->id = id;
    f->first_us = ts_us;
    return f;
}

int vk_frag_add(struct vk_decoder *d, int family, const uint8_t *src, const uint8_t *dst,
                uint32_t id, uint8_t proto, uint16_t off, bool more, const uint8_t *p,
                size_t n, uint64_t ts_us, uint32_t frame_len, const uint8_t **data, size_t *len,
                uint64_t *frame_bytes, uint32_t *anom)
{
    d->st.frags++;
    if (!d->out || d->hash_only) return 1;
    if ((size_t)off + n > 65535) {
        *anom |= ANOMB(FRAG_DROPPED);
        return 1;
    }
    struct vk_frag *f = find_or_make(d, family, src, dst, id, proto, ts_us);
    if (!f) {
        *anom |= ANOMB(FRAG_DROPPED);
        return 1;
    }
    if (!f->buf) {
        f->buf = calloc(1, 65536);
        if (!f->buf) {
            drop(d, f);
            *anom |= ANOMB(FRAG_DROPPED);
            return 1;
        }
        d->frag_bytes += 65536;
    }
    if (!more) {
        if (f->total && f->total != off + n) *anom |= ANOMB(FRAG_OVERLAP);
        f->total = (uint32_t)(off + n);
    }
    /* Copy the bytes not yet covered (first-wins); compare those that are. */
    for (size_t i = 0; i < n;) {
        size_t pos = off + i;
        const struct vk_frag_piece *cover = NULL;
        for (int k = 0; k < f->npieces; k++)
            if (pos >= f->pieces[k].off && pos < (size_t)f->pieces[k].off + f->pieces[k].len) {
                cover = &f->pieces[k];
                break;
            }
        if (cover) {
            size_t end = (size_t)cover->off + cover->len, k = end - pos;
            if (k > n - i) k = n - i;
            if (memcmp(f->buf + pos, p + i, k) != 0) *anom |= ANOMB(FRAG_OVERLAP);
            i += k;
            continue;
        }
        /* Uncovered run: up to the next piece start. */
        size_t next = off + n;
        for (int k = 0; k < f->npieces; k++)
            if (f->pieces[k].off > pos && f->pieces[k].off < next) next = f->pieces[k].off;
        size_t k = next - pos;
        memcpy(f->buf + pos, p + i, k);
        if (f->npieces == 64) {
            *anom |= ANOMB(FRAG_DROPPED);
            drop(d, f);
            return 1;
        }
        f->pieces[f->npieces].off = (uint16_t)pos;
        f->pieces[f->npieces].len = (uint16_t)k;
        f->npieces++;
        f->have += (uint32_t)k;
        i += k;
    }
    if (!f->total || f->have < f->total) return 1;
    /* Complete when the held bytes cover [0, total). */
    memcpy(d->out, f->buf, f->total);
    *data = d->out;
    *len = f->total;
    /* Arkime counts a reassembled datagram as one frame: the completing frame with the
     * whole datagram in place of its fragment. */
    *frame_bytes = frame_len + (f->total - n);
    d->st.reassembled++;
    drop(d, f);
    return 0;
}
