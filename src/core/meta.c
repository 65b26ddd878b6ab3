/* meta.c — the per-record meta list: typed, deduplicated (key, value) items with caps.
 *
 * Items sit in one array and strings in one arena, so a session's meta is two
 * allocations that are reused across records (vk_meta_reset). A bitmap of the keys present
 * answers "is there a value of this key yet" without a scan; dedup then scans the items:
 * O(items), done only for a key's second and later values. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>

#include "vk_core.h"

void vk_meta_init(struct vk_meta *m) { memset(m, 0, sizeof *m); }

void vk_meta_reset(struct vk_meta *m)
{
    m->n = 0;
    m->arena_len = 0;
    m->dropped = 0;
    m->kn = 0;
    memset(m->kmap, 0, sizeof m->kmap);
}

/* Is there no value of k? Rebuilds the key map when items were filled from outside. */
static bool absent(struct vk_meta *m, enum vk_key k)
{
    if (m->kn != m->n) {
        memset(m->kmap, 0, sizeof m->kmap);
        for (uint32_t i = 0; i < m->n; i++)
            if (m->items[i].key < VK_K__COUNT) m->kmap[m->items[i].key >> 6] |= 1ull << (m->items[i].key & 63);
        m->kn = m->n;
    }
    return !(m->kmap[k >> 6] >> (k & 63) & 1);
}

/* The same, read only: false when the map cannot tell. */
static bool surely_absent(const struct vk_meta *m, enum vk_key k)
{
    return m->kn == m->n && (unsigned)k < VK_K__COUNT && !(m->kmap[k >> 6] >> (k & 63) & 1);
}

void vk_meta_free(struct vk_meta *m)
{
    free(m->items);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static void note_capped(struct vk_meta *m);

static struct vk_meta_item *new_item(struct vk_meta *m, enum vk_key k)
{
    if (m->n == m->cap) {
        uint32_t nc = m->cap ? m->cap * 2 : 16; /* a DNS session needs ~12 */
        struct vk_meta_item *ni = realloc(m->items, nc * sizeof *ni);
        if (!ni) return NULL;
        m->items = ni;
        m->cap = nc;
    }
    if (m->kn == m->n) {
        m->kmap[k >> 6] |= 1ull << (k & 63);
        m->kn++;
    }
    struct vk_meta_item *it = &m->items[m->n++];
    it->key = (uint16_t)k;
    return it;
}

static int add_bytes(struct vk_meta *m, enum vk_key k, const char *s, size_t n, bool lower)
{
    unsigned same = 0;
    bool cut = false;
    if ((unsigned)k >= VK_K__COUNT) return VK_EINVAL;
    if (n > VK_META_MAX_STR) {
        n = VK_META_MAX_STR;
        cut = true;
    }
    uint32_t from = absent(m, k) ? m->n : 0; /* a key's first value: nothing to compare */
    for (uint32_t i = from; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != k) continue;
        same++;
        if (it->len != n) continue;
        if (lower ? strncasecmp(m->arena + it->off, s, n) == 0
                  : memcmp(m->arena + it->off, s, n) == 0)
            return 1;
    }
    if (same >= VK_META_MAX_PER_KEY || m->arena_len + n + 1 > VK_META_MAX_BYTES) {
        m->dropped++;
        note_capped(m);
        return VK_ENOMEM;
    }
    if (m->arena_len + n + 1 > m->arena_cap) {
        uint32_t nc = m->arena_cap ? m->arena_cap : 256;
        while (nc < m->arena_len + n + 1) nc *= 2;
        char *na = realloc(m->arena, nc);
        if (!na) return VK_ENOMEM;
        m->arena = na;
        m->arena_cap = nc;
    }
    struct vk_meta_item *it = new_item(m, k);
    if (!it) return VK_ENOMEM;
    it->len = (uint16_t)n;
    it->off = m->arena_len;
    it->u = 0;
    char *d = m->arena + m->arena_len;
    if (lower)
        for (size_t i = 0; i < n; i++) d[i] = (char)tolower((unsigned char)s[i]);
    else if (n)
        memmove(d, s, n); /* a libc call: gcc inlines memcpy here as a slow "rep movsq" */
    d[n] = 0;
    m->arena_len += (uint32_t)n + 1;
    if (cut) vk_meta_add_cstr(m, VK_K_ANOMALY, "meta.value_cut");
    return 0;
}

static void note_capped(struct vk_meta *m)
{
    if (m->dropped != 1) return;
    /* Bypass the caps for the one flag that says caps were hit. */
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == VK_K_ANOMALY && m->items[i].len == 11 &&
            memcmp(m->arena + m->items[i].off, "meta.capped", 11) == 0)
            return;
    if (m->arena_len + 12 > m->arena_cap) return;
    struct vk_meta_item *it = new_item(m, VK_K_ANOMALY);
    if (!it) return;
    it->len = 11;
    it->off = m->arena_len;
    it->u = 0;
    memcpy(m->arena + m->arena_len, "meta.capped", 12);
    m->arena_len += 12;
}

int vk_meta_add_str(struct vk_meta *m, enum vk_key k, const char *s, size_t n)
{
    return add_bytes(m, k, s, n, false);
}

int vk_meta_add_cstr(struct vk_meta *m, enum vk_key k, const char *s)
{
    return add_bytes(m, k, s, strlen(s), false);
}

int vk_meta_add_lower(struct vk_meta *m, enum vk_key k, const char *s, size_t n)
{
    return add_bytes(m, k, s, n, true);
}

int vk_meta_add_uint(struct vk_meta *m, enum vk_key k, uint64_t v)
{
    unsigned same = 0;
    if ((unsigned)k >= VK_K__COUNT) return VK_EINVAL;
    for (uint32_t i = absent(m, k) ? m->n : 0; i < m->n; i++) {
        if (m->items[i].key != k) continue;
        same++;
        if (m->items[i].u == v) return 1;
    }
    if (same >= VK_META_MAX_PER_KEY) {
        m->dropped++;
        note_capped(m);
        return VK_ENOMEM;
    }
    struct vk_meta_item *it = new_item(m, k);
    if (!it) return VK_ENOMEM;
    it->len = 0;
    it->off = 0;
    it->u = v;
    return 0;
}

void vk_meta_set_uint(struct vk_meta *m, enum vk_key k, uint64_t v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) {
            m->items[i].u = v;
            return;
        }
    vk_meta_add_uint(m, k, v);
}

int vk_meta_add_ip(struct vk_meta *m, enum vk_key k, int family, const uint8_t *addr)
{
    char buf[64];
    vk_ip_str(family, addr, buf);
    return add_bytes(m, k, buf, strlen(buf), false);
}

int vk_meta_printf(struct vk_meta *m, enum vk_key k, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return VK_EINVAL;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    return add_bytes(m, k, buf, (size_t)n, false);
}

bool vk_meta_has(const struct vk_meta *m, enum vk_key k)
{
    if (surely_absent(m, k)) return false;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) return true;
    return false;
}

unsigned vk_meta_count(const struct vk_meta *m, enum vk_key k)
{
    unsigned c = 0;
    for (uint32_t i = 0; i < m->n; i++) c += m->items[i].key == k;
    return c;
}

bool vk_meta_get_str(const struct vk_meta *m, enum vk_key k, char *buf, size_t bufsz)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != k) continue;
        size_t n = it->len < bufsz - 1 ? it->len : bufsz - 1;
        memcpy(buf, m->arena + it->off, n);
        buf[n] = 0;
        return true;
    }
    return false;
}

int vk_meta_append(struct vk_meta *dst, const struct vk_meta *src)
{
    if (dst->arena_len + src->arena_len > dst->arena_cap) {
        uint32_t nc = dst->arena_cap ? dst->arena_cap : 1024;
        while (nc < dst->arena_len + src->arena_len) nc *= 2;
        char *na = realloc(dst->arena, nc);
        if (!na) return VK_ENOMEM;
        dst->arena = na;
        dst->arena_cap = nc;
    }
    if (dst->n + src->n > dst->cap) {
        uint32_t nc = dst->cap ? dst->cap : 32;
        while (nc < dst->n + src->n) nc *= 2;
        struct vk_meta_item *ni = realloc(dst->items, nc * sizeof *ni);
        if (!ni) return VK_ENOMEM;
        dst->items = ni;
        dst->cap = nc;
    }
    if (src->arena_len) memcpy(dst->arena + dst->arena_len, src->arena, src->arena_len);
    for (uint32_t i = 0; i < src->n; i++) {
        dst->items[dst->n + i] = src->items[i];
        dst->items[dst->n + i].off += dst->arena_len;
    }
    dst->n += src->n;
    dst->arena_len += src->arena_len;
    dst->dropped += src->dropped;
    return 0;
}

void vk_meta_merge(struct vk_meta *dst, const struct vk_meta *src)
{
    for (uint32_t i = 0; i < src->n; i++) {
        const struct vk_meta_item *it = &src->items[i];
        if (vk_key_info(it->key)->type == VK_T_UINT || vk_key_info(it->key)->type == VK_T_TIME)
            vk_meta_add_uint(dst, it->key, it->u);
        else
            add_bytes(dst, it->key, src->arena + it->off, it->len, false);
    }
}
