/* match.c — the indicator matcher: the hot path of threat-intel enrichment.
 *
 * Built once per feed update from every feedset of a data dir, then read-only (and so
 * shared by any number of reader threads without locks of its own). Lookups are laid out
 * so that a miss, by far the common case, costs one cache line per probe and no chain of
 * dependent memory reads:
 *  - Exact IP addresses (/32, /128: most IP indicators) live in hash tables of 64-byte
 *    buckets (8 tags, 8 values; struct htab). The IPv4 tag is the address itself, so a
 *    probe is one cache line and no compare outside it. The value stored for an address
 *    already merges the prefixes of other feeds that cover it.
 *  - Shorter prefixes (v4 and v6) become a sorted array of interval boundaries, each with
 *    the value in force from it: the hit list of the most specific prefix of every feed
 *    that covers it. A first-level table on the top 16 bits narrows a lookup to the
 *    boundaries of one /16, searched in binary. It is read only when the exact table
 *    misses. Together: the longest prefix per feed, as one interval index would give it.
 *  - In front of the tables, when they are big, two filters that stay in cache: 2 bits
 *    per IPv4 /24 (some exact address here, some prefix here) and a blocked Bloom filter
 *    of every hashed key. Most misses end there without reading a table.
 *  - Every string type (domain, URL, path, ip:port, hashes, JA3, HASSH, user agent,
 *    e-mail) lives in one table of the same buckets, keyed by a 64-bit xxh3 of (type,
 *    value): the bucket holds 32 bits of it as a tag, and the value itself is compared only
 *    on a tag match. Domains walk their parents, probing only label counts that some
 *    indicator has; the buckets of the suffixes that pass the filter are prefetched before
 *    the first probe, so their cache misses overlap.
 *  - Regex trails (few) are POSIX EREs tried on domain names whose suffix fits.
 * A caller with several values at hand can split each lookup in two (match_key_*, then
 * match_key_run): hashes and prefetches for all, then the answers, which then mostly come
 * from cache.
 * Warninglists (benign feedsets) are applied here, at build time: an indicator they cover
 * is not put in the matcher at all, so suppression costs nothing per lookup.
 *
 * The build is O(n): indicators go straight into tables sized beforehand (no sort), only
 * the prefixes are sorted (LSD radix sort for IPv4), and big tables take huge pages. */
#include <stdlib.h>
#include <sys/mman.h>
#define XXH_INLINE_ALL /* xxh3 compiled in here: a short key hashes in a few instructions, no call */
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "enrich_int.h"

#define HL_MAX 64 /* ids in one hit list */
#define MAP4_BYTES ((size_t)1 << 22) /* 2 bits for each of 2^24 /24s */

/* ---- big buffers ---------------------------------------------------------------------- */
#define BIG_MIN ((size_t)2 << 20)

static size_t page_up(size_t n) { return (n + 4095) & ~(size_t)4095; }

static void *big_map(size_t n)
{
    void *p = mmap(NULL, page_up(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    (void)madvise(p, page_up(n), MADV_HUGEPAGE); /* a hint: fine when refused */
    return p;
}

void *big_calloc(size_t n)
{
    if (n >= BIG_MIN) return big_map(n);
    size_t r = n ? (n + 63) & ~(size_t)63 : 64;
    void *p = aligned_alloc(64, r);
    if (p) memset(p, 0, r);
    return p;
}

void *big_realloc(void *p, size_t old, size_t n)
{
    if (old < BIG_MIN && n < BIG_MIN) return realloc(p, n ? n : 1);
    if (old >= BIG_MIN && n >= BIG_MIN) {
        void *q = mremap(p, page_up(old), page_up(n), MREMAP_MAYMOVE);
        if (q == MAP_FAILED) return NULL;
        (void)madvise(q, page_up(n), MADV_HUGEPAGE);
        return q;
    }
    void *q = n >= BIG_MIN ? big_map(n) : malloc(n ? n : 1);
    if (!q) return NULL;
    if (p) memcpy(q, p, old < n ? old : n);
    big_free(p, old);
    return q;
}

void big_free(void *p, size_t n)
{
    if (!p) return;
    if (n >= BIG_MIN) munmap(p, page_up(n));
    else free(p);
}

u128 ip_u128(const uint8_t a[16])
{
    u128 v = 0;
    for (int i = 0; i < 16; i++) v = v << 8 | a[i];
    return v;
}

static uint32_t ip_u32(const uint8_t a[4]) { return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]; }

static void net_range(const struct ipnet *n, u128 *lo, u128 *hi)
{
    unsigned bits = n->family == 4 ? 32 : 128;
    u128 v = n->family == 4 ? (u128)ip_u32(n->a) : ip_u128(n->a);
    u128 span = n->plen == 0 ? (bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1)) : (((u128)1 << (bits - n->plen)) - 1);
    *lo = v;
    *hi = v + span;
}

/* ---- interval index ------------------------------------------------------------------- */
static int cmp_range(const void *a, const void *b)
{
    const struct iprange *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi) return x->hi > y->hi ? -1 : 1; /* wider first */
    return x->id < y->id ? -1 : x->id > y->id;
}

struct bnd {
    u128 *s;
    uint32_t *v;
    size_t n, cap;
};

static int bnd_emit(struct bnd *b, u128 p, uint32_t v)
{
    if (b->n && b->s[b->n - 1] == p) {
        b->v[b->n - 1] = v;
        if ((b->n >= 2 && b->v[b->n - 2] == v) || (b->n == 1 && v == 0)) b->n--;
        return 0;
    }
    if ((b->n && b->v[b->n - 1] == v) || (b->n == 0 && v == 0)) return 0;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        u128 *s = realloc(b->s, nc * sizeof *s);
        if (!s) return VK_ENOMEM;
        b->s = s;
        uint32_t *v2 = realloc(b->v, nc * sizeof *v2);
        if (!v2) return VK_ENOMEM;
        b->v = v2;
        b->cap = nc;
    }
    b->s[b->n] = p;
    b->v[b->n] = v;
    b->n++;
    return 0;
}

struct stk {
    u128 lo, hi;
    uint32_t id, val;
};

static uint32_t pool_list(uint32_t **pool, size_t *len, size_t *cap, const uint32_t *ids, unsigned n)
{
    if (n == 0) return 0;
    if (n == 1) return ids[0] + 1;
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap * 2 : 4096;
        while (nc < *len + n + 1) nc *= 2;
        uint32_t *p = realloc(*pool, nc * sizeof *p);
        if (!p) return 0;
        *pool = p;
        *cap = nc;
    }
    if (*len == 0) (*pool)[(*len)++] = 0; /* offset 0 is never a list */
    uint32_t off = (uint32_t)*len;
    (*pool)[(*len)++] = n;
    memcpy(*pool + *len, ids, n * sizeof *ids);
    *len += n;
    return HL_FLAG | off;
}

static uint32_t stack_value(const struct stk *st, size_t depth, enum ipidx_mode mode, uint32_t **pool,
                            size_t *plen, size_t *pcap)
{
    if (depth == 0) return 0;
    if (mode == IPIDX_TOP) return st[depth - 1].id + 1;
    if (mode == IPIDX_BOTTOM) return st[0].id + 1;
    uint32_t ids[HL_MAX];
    struct {
        uint32_t feed;
        u128 lo, hi;
    } dec[HL_MAX];
    unsigned n = 0, nd = 0;
    for (size_t k = depth; k-- > 0 && n < HL_MAX;) {
        uint32_t f = ID_FEED(st[k].id);
        unsigned d = 0;
        while (d < nd && dec[d].feed != f) d++;
        if (d == nd) {
            if (nd == HL_MAX) continue;
            dec[nd].feed = f;
            dec[nd].lo = st[k].lo;
            dec[nd].hi = st[k].hi;
            nd++;
            ids[n++] = st[k].id;
        } else if (dec[d].lo == st[k].lo && dec[d].hi == st[k].hi) {
            ids[n++] = st[k].id;
        }
    }
    return pool_list(pool, plen, pcap, ids, n);
}

/* IPv4 ranges in cmp_range order by an LSD radix sort of 8-bit digits: the key is
 * lo << 32 | ~hi (start ascending, wider first), and ties keep id order: free when the
 * ranges come in id order (the matcher's do), else by first sorting on the id. Digits
 * that are the same in every key are skipped. O(n); 2 x 16 bytes per range of scratch. */
struct rkey {
    uint64_t k;
    uint32_t id, i;
};

static int sort_ranges4(struct iprange *r, size_t n)
{
    if (n < 256) {
        qsort(r, n, sizeof *r, cmp_range);
        return 0;
    }
    struct rkey *a = malloc(n * sizeof *a), *t = malloc(n * sizeof *t);
    struct iprange *o = malloc(n * sizeof *o);
    size_t (*cnt)[256] = calloc(12, sizeof *cnt);
    if (!a || !t || !o || !cnt) {
        free(a), free(t), free(o), free(cnt);
        return VK_ENOMEM;
    }
    bool id_order = true;
    for (size_t i = 0; i < n; i++) {
        a[i] = (struct rkey){(uint64_t)(uint32_t)r[i].lo << 32 | (uint32_t) ~(uint32_t)r[i].hi, r[i].id, (uint32_t)i};
        if (i && r[i].id < r[i - 1].id) id_order = false;
        for (int d = 0; d < 8; d++) cnt[d][a[i].k >> (8 * d) & 255]++;
        for (int d = 0; d < 4; d++) cnt[8 + d][a[i].id >> (8 * d) & 255]++;
    }
    static const int order[12] = {8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7}; /* id bytes, then key bytes */
    for (int p = id_order ? 4 : 0; p < 12; p++) {
        int d = order[p];
        size_t *c = cnt[d], sum = 0;
        bool trivial = false;
        for (int v = 0; v < 256; v++) trivial |= c[v] == n;
        if (trivial) continue;
        for (int v = 0; v < 256; v++) {
            size_t k = c[v];
            c[v] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned v = d < 8 ? (unsigned)(a[i].k >> (8 * d) & 255) : a[i].id >> (8 * (d - 8)) & 255;
            t[c[v]++] = a[i];
        }
        struct rkey *sw = a;
        a = t;
        t = sw;
    }
    for (size_t i = 0; i < n; i++) o[i] = r[a[i].i];
    memcpy(r, o, n * sizeof *r);
    free(a), free(t), free(o), free(cnt);
    return 0;
}

int ipidx_build(struct ipidx *x, int family, struct iprange *r, size_t n, enum ipidx_mode mode,
                uint32_t **pool, size_t *pool_len, size_t *pool_cap)
{
    memset(x, 0, sizeof *x);
    x->family = family;
    if (n == 0) return 0;
    if (family == 4) {
        if (sort_ranges4(r, n)) return VK_ENOMEM;
    } else {
        qsort(r, n, sizeof *r, cmp_range);
    }
    const u128 max = family == 4 ? (u128)0xffffffffu : ~(u128)0;
    struct bnd b = {0};
    struct stk *st = malloc(sizeof *st * 130);
    size_t depth = 0, stcap = 130;
    int rc = 0;
    if (!st) return VK_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct iprange cur = r[i];
        while (depth && st[depth - 1].hi < cur.lo) {
            u128 end = st[--depth].hi;
            if (end != max) rc |= bnd_emit(&b, end + 1, depth ? st[depth - 1].val : 0);
        }
        if (depth && cur.hi > st[depth - 1].hi) cur.hi = st[depth - 1].hi; /* partial overlap: cut */
        if (depth == stcap) {
            struct stk *ns = realloc(st, sizeof *st * stcap * 2);
            if (!ns) {
                rc = VK_ENOMEM;
                break;
            }
            st = ns;
            stcap *= 2;
        }
        st[depth].lo = cur.lo;
        st[depth].hi = cur.hi;
        st[depth].id = cur.id;
        depth++;
        st[depth - 1].val = stack_value(st, depth, mode, pool, pool_len, pool_cap);
        rc |= bnd_emit(&b, cur.lo, st[depth - 1].val);
    }
    while (rc == 0 && depth) {
        u128 end = st[--depth].hi;
        if (end != max) rc |= bnd_emit(&b, end + 1, depth ? st[depth - 1].val : 0);
    }
    free(st);
    if (rc) goto fail;
    x->n = (uint32_t)b.n;
    x->top = malloc(65537 * sizeof *x->top);
    if (family == 4) x->b4 = malloc((b.n ? b.n : 1) * sizeof *x->b4);
    else x->b6 = malloc((b.n ? b.n : 1) * sizeof *x->b6);
    if (!x->top || (family == 4 ? !x->b4 : !x->b6)) goto fail;
    for (size_t i = 0; i < b.n; i++) {
        if (family == 4) x->b4[i] = (struct ipb4){(uint32_t)b.s[i], b.v[i]};
        else x->b6[i] = (struct ipb6){b.s[i], b.v[i]};
    }
    unsigned shift = family == 4 ? 16 : 112;
    size_t k = 0;
    for (uint32_t s = 0; s <= 65536; s++) {
        while (k < x->n && (uint32_t)(b.s[k] >> shift) < s) k++;
        x->top[s].first = (uint32_t)k;
        x->top[s].base = k ? b.v[k - 1] : 0;
    }
    free(b.s);
    free(b.v);
    return 0;
fail:
    free(b.s);
    free(b.v);
    ipidx_free(x);
    return VK_ENOMEM;
}

/* One /16 table read, then a binary search among that /16's boundaries (start and value
 * side by side). No allocation. */
uint32_t ipidx_get4(const struct ipidx *x, uint32_t ip)
{
    if (x->n == 0) return 0;
    const struct iptop *t = &x->top[ip >> 16];
    uint32_t lo = t->first, hi = t[1].first;
    if (lo == hi || x->b4[lo].s > ip) return t->base;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (x->b4[mid].s <= ip) lo = mid;
        else hi = mid;
    }
    return x->b4[lo].v;
}

uint32_t ipidx_get6(const struct ipidx *x, u128 ip)
{
    if (x->n == 0) return 0;
    const struct iptop *t = &x->top[(uint32_t)(ip >> 112)];
    uint32_t lo = t->first, hi = t[1].first;
    if (lo == hi || x->b6[lo].s > ip) return t->base;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (x->b6[mid].s <= ip) lo = mid;
        else hi = mid;
    }
    return x->b6[lo].v;
}

void ipidx_free(struct ipidx *x)
{
    free(x->b4);
    free(x->b6);
    free(x->top);
    memset(x, 0, sizeof *x);
}

size_t ipidx_bytes(const struct ipidx *x)
{
    if (!x->top) return 0;
    return (size_t)x->n * (x->family == 4 ? sizeof *x->b4 : sizeof *x->b6) + 65537 * sizeof *x->top;
}

/* ---- hash tables of 64-byte buckets ---------------------------------------------------- */
uint64_t str_hash(enum ioc_type t, const char *s, size_t n)
{
    return XXH3_64bits_withSeed(s, n, (uint64_t)t * 0x9E3779B97F4A7C15ull) | 1;
}

/* murmur3's finaliser: a bijection of 32 bits, so IPv4 keys spread over the buckets */
static inline uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    return x ^ (x >> 16);
}

static inline uint64_t hash6(u128 a)
{
    uint64_t w[2] = {(uint64_t)(a >> 64), (uint64_t)a};
    return XXH3_64bits(w, sizeof w);
}

static const struct hbkt empty_bkt; /* the one bucket of every empty table: probes end there */

/* Room for n entries at load <= 3/4 (a power of two of buckets). */
static int htab_init(struct htab *t, size_t n)
{
    t->n = 0;
    t->mask = 0;
    t->b = (struct hbkt *)&empty_bkt;
    if (n == 0) return 0;
    uint64_t nb = 1;
    while (nb * 6 < n) nb <<= 1;
    struct hbkt *b = big_calloc(nb * sizeof *b);
    if (!b) return VK_ENOMEM;
    t->b = b;
    t->mask = nb - 1;
    return 0;
}

static size_t htab_bytes(const struct htab *t) { return t->b == &empty_bkt ? 0 : (t->mask + 1) * sizeof *t->b; }

static void htab_free(struct htab *t)
{
    if (t->b && t->b != &empty_bkt) big_free(t->b, htab_bytes(t));
    t->b = (struct hbkt *)&empty_bkt;
    t->mask = 0;
    t->n = 0;
}

/* The used slots of a bucket whose tag is tag, as a bit mask; *last: the bucket has a free
 * slot, so a probe for a key that is not here ends here. Branch-free over the 8 slots; with
 * SSE2 (every x86-64) about 10 instructions. That count matters: a lookup waits on memory,
 * and the fewer instructions each one takes, the more lookups the CPU overlaps (measured
 * here: 17 ns per random probe of a 32 MiB table against 117 ns for the plain loop). */
static inline unsigned bkt_find(const struct hbkt *b, uint32_t tag, bool *last)
{
#ifdef __SSE2__
    const __m128i t = _mm_set1_epi32((int)tag), z = _mm_setzero_si128(), *p = (const __m128i *)b;
    __m128i mt = _mm_packs_epi32(_mm_cmpeq_epi32(_mm_loadu_si128(p), t), _mm_cmpeq_epi32(_mm_loadu_si128(p + 1), t));
    __m128i fr = _mm_packs_epi32(_mm_cmpeq_epi32(_mm_loadu_si128(p + 2), z), _mm_cmpeq_epi32(_mm_loadu_si128(p + 3), z));
    unsigned a = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(mt, fr)); /* bits 0-7 tags, 8-15 free */
    *last = (a >> 8) != 0;
    return a & ~(a >> 8) & 0xff;
#else
    unsigned mt = 0, fr = 0;
    for (unsigned j = 0; j < 8; j++) {
        mt |= (unsigned)(b->tag[j] == tag) << j;
        fr |= (unsigned)(b->val[j] == 0) << j;
    }
    *last = fr != 0;
    return mt & ~fr;
#endif
}

/* Put (tag, val) in the first free slot from bucket i on; returns the slot (bucket*8+j).
 * The table has room (htab_init was told the count). */
static uint64_t htab_put_at(struct htab *t, uint64_t i, uint32_t tag, uint32_t val)
{
    for (;; i = (i + 1) & t->mask) {
        struct hbkt *b = &t->b[i];
        for (unsigned j = 0; j < 8; j++)
            if (b->val[j] == 0) {
                b->tag[j] = tag;
                b->val[j] = val;
                t->n++;
                return i * 8 + j;
            }
    }
}

static inline uint32_t *slot_val(const struct htab *t, uint64_t slot) { return &t->b[slot >> 3].val[slot & 7]; }

static inline uint32_t first_id(const struct matcher *m, uint32_t v)
{
    return (v & HL_FLAG) ? m->pool[(v & ~HL_FLAG) + 1] : v - 1;
}

static unsigned put_val(const struct matcher *m, uint32_t v, uint32_t *out, unsigned cap)
{
    if (v == 0 || cap == 0) return 0;
    if (!(v & HL_FLAG)) {
        out[0] = v - 1;
        return 1;
    }
    const uint32_t *l = m->pool + (v & ~HL_FLAG);
    unsigned k = l[0] < cap ? l[0] : cap;
    memcpy(out, l + 1, k * sizeof *out);
    return k;
}

/* Is indicator id of type t with value s[0..n)? Reads its value only (strnlen stops at
 * its end, so a shorter value is never read past). */
static bool id_is(struct feedset *const *fs, uint32_t id, enum ioc_type t, const char *s, size_t n)
{
    const struct feedset *f = fs[ID_FEED(id)];
    const struct fs_ind *ind = &f->ind[ID_IND(id)];
    const char *v = fs_s(f, ind->val);
    return ind->type == t && strnlen(v, n + 1) == n && memcmp(v, s, n) == 0;
}

/* ---- filters ----------------------------------------------------------------------------- */
/* map4: /24 number n at word n >> 5, bits 2 * (n & 31) (exact) and 2 * (n & 31) + 1
 * (prefix). Returns the 2 bits of ip's /24; 3 (look everywhere) without the map. */
static inline unsigned map4_get(const struct matcher *m, uint32_t ip)
{
    return m->map4 ? (unsigned)(m->map4[ip >> 13] >> ((ip >> 7) & 62)) & 3 : 3;
}

static void map4_set_prefix(uint64_t *map, uint32_t a, uint32_t b) /* /24 numbers a..b */
{
    for (; a <= b && (a & 31); a++) map[a >> 5] |= 2ull << (2 * (a & 31));
    for (; a <= b && b - a >= 31; a += 32) map[a >> 5] |= 0xAAAAAAAAAAAAAAAAull;
    for (; a <= b; a++) map[a >> 5] |= 2ull << (2 * (a & 31));
}

/* Three bits of one word; str_hash sets bit 0, so bits from 1 up. */
static inline uint64_t filt_bits(uint64_t h) { return 1ull << (h >> 1 & 63) | 1ull << (h >> 7 & 63) | 1ull << (h >> 13 & 63); }

static inline bool filt_maybe(const struct matcher *m, uint64_t h)
{
    if (!m->filt) return true;
    uint64_t b = filt_bits(h);
    return (m->filt[h >> m->filt_shift] & b) == b;
}

/* ---- lookups ----------------------------------------------------------------------------- */
/* One cache line (two when the home bucket is full), no compare outside it. */
static inline uint32_t ex4_get(const struct htab *t, uint32_t ip)
{
    for (uint64_t i = mix32(ip) & t->mask;; i = (i + 1) & t->mask) {
        bool last;
        unsigned mt = bkt_find(&t->b[i], ip, &last);
        if (mt) return t->b[i].val[__builtin_ctz(mt)];
        if (last) return 0;
    }
}

static inline uint32_t ex6_get(const struct matcher *m, u128 a, uint64_t h)
{
    const struct htab *t = &m->ex6;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        bool last;
        for (unsigned mt = bkt_find(&t->b[i], (uint32_t)(h >> 32), &last); mt; mt &= mt - 1)
            if (m->key6[i * 8 + (unsigned)__builtin_ctz(mt)] == a) return t->b[i].val[__builtin_ctz(mt)];
        if (last) return 0;
    }
}

/* A miss: one cache line (the tag rules out the others); a hit: that line, the hit list
 * and the indicator's value to confirm it. */
static uint32_t st_get(const struct matcher *m, uint64_t h, enum ioc_type type, const char *s, size_t n)
{
    const struct htab *t = &m->st;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        bool last;
        for (unsigned mt = bkt_find(&t->b[i], (uint32_t)(h >> 32), &last); mt; mt &= mt - 1) {
            uint32_t v = t->b[i].val[__builtin_ctz(mt)];
            if (id_is(m->fs, first_id(m, v), type, s, n)) return v;
        }
        if (last) return 0;
    }
}

/* One hash, the filter word (in cache), and only when it passes the table. */
unsigned match_str(const struct matcher *m, enum ioc_type t, const char *s, size_t n, uint32_t *out, unsigned cap)
{
    if (!(m->types & (1u << t))) return 0;
    uint64_t h = str_hash(t, s, n);
    return filt_maybe(m, h) ? put_val(m, st_get(m, h, t, s, n), out, cap) : 0;
}

/* The /24's bits (in cache), then the exact table and, when it misses, the prefixes:
 * each only when the map says it may hold something. No allocation. */
unsigned match_ip4(const struct matcher *m, uint32_t ip, uint32_t *out, unsigned cap)
{
    unsigned where = map4_get(m, ip);
    if (where == 0) return 0;
    uint32_t v = (where & 1) ? ex4_get(&m->ex4, ip) : 0;
    if (v == 0 && (where & 2) && m->v4.n) v = ipidx_get4(&m->v4, ip);
    return put_val(m, v, out, cap);
}

unsigned match_ip6(const struct matcher *m, const uint8_t a[16], uint32_t *out, unsigned cap)
{
    u128 ip = ip_u128(a);
    uint32_t v = 0;
    if (m->ex6.n) {
        uint64_t h = hash6(ip);
        if (filt_maybe(m, h)) v = ex6_get(m, ip, h);
    }
    if (v == 0 && m->v6.n) v = ipidx_get6(&m->v6, ip);
    return put_val(m, v, out, cap);
}

/* Add the ids of hit list v for feeds not seen at a more specific level. */
static unsigned dom_add(const struct matcher *m, uint32_t v, uint64_t seen[2], uint32_t *out, unsigned k, unsigned cap)
{
    uint32_t tmp[HL_MAX];
    unsigned got = put_val(m, v, tmp, HL_MAX);
    uint64_t now[2] = {0, 0};
    for (unsigned j = 0; j < got && k < cap; j++) {
        uint32_t f = ID_FEED(tmp[j]);
        if (seen[f >> 6] & (1ull << (f & 63))) continue;
        now[f >> 6] |= 1ull << (f & 63);
        out[k++] = tmp[j];
    }
    seen[0] |= now[0];
    seen[1] |= now[1];
    return k;
}

/* The whole name, then each parent, probing only where some domain indicator has that
 * many labels; the most specific hit of each feed wins. One pass finds where the labels
 * start; each candidate suffix is hashed and checked against the filter, the buckets of
 * those that pass are prefetched, then probed in order: a name's probes cost about one
 * memory latency, not one each. O(length); no allocation. */
#define DOM_LABELS 64 /* names with more labels take the plain walk */
unsigned match_domain(const struct matcher *m, const char *s, size_t n, uint32_t *out, unsigned cap)
{
    if (!(m->types & (1u << IOC_DOMAIN)) || n == 0) return 0;
    uint32_t st[DOM_LABELS]; /* where label i starts */
    unsigned ns = 1;
    st[0] = 0;
    for (size_t i = 0; i < n; i++) { /* no branch on the bytes */
        st[ns & (DOM_LABELS - 1)] = (uint32_t)i + 1;
        ns += s[i] == '.';
    }
    uint64_t seen[2] = {0, 0};
    unsigned k = 0;
    if (ns > DOM_LABELS) {
        size_t off = 0;
        for (unsigned l = ns; l >= 1; l--) {
            if (m->dom_labels & (1u << (l < 31 ? l : 31))) {
                uint64_t h = str_hash(IOC_DOMAIN, s + off, n - off);
                uint32_t v = filt_maybe(m, h) ? st_get(m, h, IOC_DOMAIN, s + off, n - off) : 0;
                if (v) k = dom_add(m, v, seen, out, k, cap);
            }
            const char *dot = memchr(s + off, '.', n - off);
            if (!dot) break;
            off = (size_t)(dot - s) + 1;
        }
        return k;
    }
    uint64_t ch[DOM_LABELS];
    uint32_t co[DOM_LABELS];
    unsigned nc = 0;
    for (unsigned i = 0; i < ns; i++) {
        unsigned l = ns - i;
        if (!(m->dom_labels & (1u << (l < 31 ? l : 31)))) continue;
        uint64_t h = str_hash(IOC_DOMAIN, s + st[i], n - st[i]);
        if (!filt_maybe(m, h)) continue;
        __builtin_prefetch(&m->st.b[h & m->st.mask]);
        ch[nc] = h;
        co[nc++] = st[i];
    }
    for (unsigned c = 0; c < nc; c++) {
        uint32_t v = st_get(m, ch[c], IOC_DOMAIN, s + co[c], n - co[c]);
        if (v) k = dom_add(m, v, seen, out, k, cap);
    }
    return k;
}

/* ---- batches ------------------------------------------------------------------------------ */
void match_key_ip4(const struct matcher *m, struct match_key *k, uint32_t ip)
{
    k->kind = MK_IP4;
    k->ip4 = ip;
    if (m->map4) __builtin_prefetch(&m->map4[ip >> 13]);
    __builtin_prefetch(&m->ex4.b[mix32(ip) & m->ex4.mask]);
}

void match_key_ip6(const struct matcher *m, struct match_key *k, const uint8_t a[16])
{
    k->kind = MK_IP6;
    k->ip6 = ip_u128(a);
    k->h[0] = hash6(k->ip6);
    if (m->filt) __builtin_prefetch(&m->filt[k->h[0] >> m->filt_shift]);
    __builtin_prefetch(&m->ex6.b[k->h[0] & m->ex6.mask]);
}

void match_key_str(const struct matcher *m, struct match_key *k, enum ioc_type t, const char *s, size_t n)
{
    k->kind = MK_NONE;
    if (!(m->types & (1u << t))) return;
    k->kind = MK_STR;
    k->type = (uint8_t)t;
    k->s = s;
    k->n = n;
    k->h[0] = str_hash(t, s, n);
    if (m->filt) __builtin_prefetch(&m->filt[k->h[0] >> m->filt_shift]);
    __builtin_prefetch(&m->st.b[k->h[0] & m->st.mask]);
}

/* The suffixes match_domain would probe, hashed, their filter words and buckets prefetched. */
void match_key_domain(const struct matcher *m, struct match_key *k, const char *s, size_t n)
{
    k->kind = MK_NONE;
    if (!(m->types & (1u << IOC_DOMAIN)) || n == 0) return;
    k->s = s;
    k->n = n;
    unsigned labels = 1;
    for (size_t i = 0; i < n; i++) labels += s[i] == '.';
    k->kind = MK_DOM;
    k->nc = 0;
    size_t off = 0;
    for (unsigned l = labels; l >= 1; l--) {
        if (m->dom_labels & (1u << (l < 31 ? l : 31))) {
            if (k->nc == MK_DOM_MAX) {
                k->kind = MK_DOM_LONG;
                return;
            }
            uint64_t h = str_hash(IOC_DOMAIN, s + off, n - off);
            if (m->filt) __builtin_prefetch(&m->filt[h >> m->filt_shift]);
            __builtin_prefetch(&m->st.b[h & m->st.mask]);
            k->h[k->nc] = h;
            k->off[k->nc++] = (uint32_t)off;
        }
        const char *dot = memchr(s + off, '.', n - off);
        if (!dot) break;
        off = (size_t)(dot - s) + 1;
    }
}

unsigned match_key_run(const struct matcher *m, const struct match_key *k, uint32_t *out, unsigned cap)
{
    uint32_t v = 0;
    switch (k->kind) {
    case MK_IP4: {
        unsigned where = map4_get(m, k->ip4);
        if (where & 1) v = ex4_get(&m->ex4, k->ip4);
        if (v == 0 && (where & 2) && m->v4.n) v = ipidx_get4(&m->v4, k->ip4);
        return put_val(m, v, out, cap);
    }
    case MK_IP6:
        if (m->ex6.n && filt_maybe(m, k->h[0])) v = ex6_get(m, k->ip6, k->h[0]);
        if (v == 0 && m->v6.n) v = ipidx_get6(&m->v6, k->ip6);
        return put_val(m, v, out, cap);
    case MK_STR:
        if (filt_maybe(m, k->h[0])) v = st_get(m, k->h[0], (enum ioc_type)k->type, k->s, k->n);
        return put_val(m, v, out, cap);
    case MK_DOM: {
        uint64_t seen[2] = {0, 0};
        unsigned got = 0;
        for (unsigned c = 0; c < k->nc; c++) {
            if (!filt_maybe(m, k->h[c])) continue;
            v = st_get(m, k->h[c], IOC_DOMAIN, k->s + k->off[c], k->n - k->off[c]);
            if (v) got = dom_add(m, v, seen, out, got, cap);
        }
        return got;
    }
    case MK_DOM_LONG:
        return match_domain(m, k->s, k->n, out, cap);
    default:
        return 0;
    }
}

/* ---- building the matcher --------------------------------------------------------------- */
struct benign {
    struct ipidx v4, v6;
    struct iprange *r4, *r6; /* kept to check containment */
    struct htab st;          /* every exact string, one slot per indicator (val = id + 1) */
    const char **sub;
    size_t *sublen;
    uint32_t *subtype; /* types each substring applies to */
    uint32_t subtypes; /* their union */
    size_t nsub;
    struct gram {
        uint32_t g; /* first 4 bytes of a substring */
        uint32_t i;
    } *gram;
    size_t ngram;
    uint32_t *pool;
    size_t plen, pcap;
};

struct vec {
    void *p;
    size_t n, cap, sz;
};

static void *vec_push(struct vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        void *p = big_realloc(v->p, v->cap * v->sz, nc * v->sz);
        if (!p) return NULL;
        v->p = p;
        v->cap = nc;
    }
    return (char *)v->p + v->sz * v->n++;
}

static void vec_free(struct vec *v)
{
    big_free(v->p, v->cap * v->sz);
    v->p = NULL;
    v->n = v->cap = 0;
}

static bool benign_exact(const struct matcher *m, const struct benign *b, const char *s, size_t n, bool hostname_only)
{
    if (b->st.n == 0) return false;
    uint64_t h = str_hash(IOC_WL_STRING, s, n);
    for (uint64_t i = h & b->st.mask;; i = (i + 1) & b->st.mask) {
        bool last;
        for (unsigned mt = bkt_find(&b->st.b[i], (uint32_t)(h >> 32), &last); mt; mt &= mt - 1) {
            uint32_t id = b->st.b[i].val[__builtin_ctz(mt)] - 1;
            const struct fs_ind *ind = match_ind(m, id);
            const char *v = fs_s(m->fs[ID_FEED(id)], ind->val);
            if (strnlen(v, n + 1) == n && memcmp(v, s, n) == 0 && (!hostname_only || ind->type == IOC_DOMAIN))
                return true;
        }
        if (last) return false;
    }
}

static bool benign_ip(const struct benign *b, const struct ipnet *net)
{
    u128 lo, hi;
    net_range(net, &lo, &hi);
    const struct ipidx *x = net->family == 4 ? &b->v4 : &b->v6;
    uint32_t v = net->family == 4 ? ipidx_get4(x, (uint32_t)lo) : ipidx_get6(x, lo);
    if (v == 0) return false;
    const struct iprange *r = (net->family == 4 ? b->r4 : b->r6) + (v - 1);
    return r->lo <= lo && r->hi >= hi;
}

static bool suppressed(const struct matcher *m, const struct benign *b, enum ioc_type t, const char *s, size_t n)
{
    struct ipnet net;
    if (t == IOC_IP) return (ioc_parse_ip(s, n, &net) && benign_ip(b, &net)) || benign_exact(m, b, s, n, false);
    if (t == IOC_IPPORT) {
        const char *c = s[0] == '[' ? memchr(s, ']', n) : memchr(s, ':', n);
        if (c && s[0] == '[') return ioc_parse_ip(s + 1, (size_t)(c - s - 1), &net) && benign_ip(b, &net);
        return c && ioc_parse_ip(s, (size_t)(c - s), &net) && benign_ip(b, &net);
    }
    if (benign_exact(m, b, s, n, false)) return true;
    if (t == IOC_DOMAIN) {
        for (const char *d = memchr(s, '.', n); d; d = memchr(d + 1, '.', n - (size_t)(d + 1 - s)))
            if (benign_exact(m, b, d + 1, n - (size_t)(d + 1 - s), true)) return true;
    }
    if (b->subtypes & (1u << t)) {
        /* entries of 4+ bytes: look each 4-byte window of the value up by its gram */
        for (size_t p = 0; p + 4 <= n && b->ngram; p++) {
            uint32_t g;
            memcpy(&g, s + p, 4);
            size_t lo = 0, hi = b->ngram;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (b->gram[mid].g < g) lo = mid + 1;
                else hi = mid;
            }
            for (; lo < b->ngram && b->gram[lo].g == g; lo++) {
                size_t i = b->gram[lo].i;
                if ((b->subtype[i] & (1u << t)) && b->sublen[i] <= n - p && !memcmp(s + p, b->sub[i], b->sublen[i]))
                    return true;
            }
        }
        for (size_t i = 0; i < b->nsub; i++)
            if (b->sublen[i] < 4 && (b->subtype[i] & (1u << t)) && memmem(s, n, b->sub[i], b->sublen[i])) return true;
    }
    return false;
}

static int cmp_gram(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Literals one of which every match of a regex contains, written to must as NUL-separated
 * strings ended by an empty one; must[0] == 0 when none is known. A memmem on them spares
 * most regexec calls. The candidates:
 *  - the longest run of plain characters outside groups and classes (a character followed
 *    by '?', '*' or '{' is optional and ends the run);
 *  - a group of plain alternatives, "(abc|def)", not made optional: one of them is there
 *    (maltrail's DGA-family trails are such a list followed by "\.[a-z]+", whose only run
 *    is ".", which every host name has).
 * The one whose shortest literal is longest wins. A top-level '|' means nothing is
 * required. */
/* The plain character re[*i] stands for: a letter, digit, '-' or '_', or one of ".-_/"
 * escaped (*i is then moved onto it); 0 for anything else. */
static char plain_at(const char *re, size_t n, size_t *i)
{
    char c = re[*i];
    if (c == '\\' && *i + 1 < n && strchr(".-_/", re[*i + 1])) return re[++*i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') return c;
    return 0;
}

static void regex_must(const char *re, char *must, size_t cap)
{
    char run[64], best[64] = "";
    size_t rl = 0, n = strlen(re);
    int depth = 0;
    bool inclass = false, alt = false;
    size_t gbest_at = 0, gbest_len = 0, gbest_min = 0; /* the best group: where, how long, shortest */
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? re[i] : 0, lit;
        if (inclass) {
            if (c == '\\') i++;
            else if (c == ']') inclass = false;
            rl = 0;
            continue;
        }
        if (c == '(' && depth == 0) { /* a group of plain alternatives? */
            size_t j = i + 1, cur = 0, shortest = SIZE_MAX;
            bool plain = true;
            for (; j < n && re[j] != ')'; j++) {
                if (re[j] == '|') {
                    if (cur < shortest) shortest = cur;
                    cur = 0;
                } else if (plain_at(re, n, &j)) {
                    cur++;
                } else {
                    plain = false;
                    break;
                }
            }
            if (cur < shortest) shortest = cur;
            bool optional = j + 1 < n && strchr("?*{", re[j + 1]);
            if (plain && j < n && !optional && shortest > gbest_min && j - i + 1 <= cap) { /* fits whole */
                gbest_at = i + 1;
                gbest_len = j - i - 1;
                gbest_min = shortest;
            }
        }
        if (!(lit = plain_at(re, n, &i))) {
            if (c == '[') inclass = true;
            else if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == '|' && depth == 0) alt = true;
            if (rl && (c == '?' || c == '*' || c == '{')) rl--; /* the last char was optional */
            run[rl] = 0;
            if (rl > strlen(best)) memcpy(best, run, rl + 1);
            rl = 0;
            if (c == '\\') i++;
            continue;
        }
        if (depth == 0 && rl + 1 < sizeof run) run[rl++] = (char)(lit >= 'A' && lit <= 'Z' ? lit + 32 : lit);
        else rl = 0;
    }
    memset(must, 0, cap);
    if (alt || cap < 2) return;
    if (gbest_min > strlen(best)) { /* the group's literals, lower-cased, escapes dropped */
        size_t o = 0;
        for (size_t j = gbest_at; j < gbest_at + gbest_len; j++) { /* gbest_len + 2 <= cap */
            char g = re[j];
            if (g == '\\') continue;
            must[o++] = g == '|' ? 0 : (char)(g >= 'A' && g <= 'Z' ? g + 32 : g);
        }
        must[o] = must[o + 1] = 0;
        return;
    }
    snprintf(must, cap - 1, "%s", best);
}

/* An indicator already in a table under the same key: folded into a hit list afterwards. */
struct dup {
    uint64_t slot;
    uint32_t id;
    uint32_t tab; /* 0 strings, 4 exact IPv4, 6 exact IPv6 */
};

static int cmp_dup(const void *a, const void *b)
{
    const struct dup *x = a, *y = b;
    if (x->tab != y->tab) return x->tab < y->tab ? -1 : 1;
    if (x->slot != y->slot) return x->slot < y->slot ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Hit lists of equal keys. Strings list their ids in ascending order; an exact address
 * lists them in descending order (the order of the interval index, where the last of equal
 * ranges is the innermost). At most HL_MAX: the first ones, resp. the last ones. */
static int fold_dups(struct matcher *m, struct dup *d, size_t n)
{
    if (n == 0) return 0;
    qsort(d, n, sizeof *d, cmp_dup);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && d[j].tab == d[i].tab && d[j].slot == d[i].slot) j++;
        struct htab *t = d[i].tab == 0 ? &m->st : d[i].tab == 4 ? &m->ex4 : &m->ex6;
        uint32_t *cell = slot_val(t, d[i].slot);
        uint32_t all[HL_MAX + 1], ids[HL_MAX];
        size_t total = j - i + 1, skip = d[i].tab == 0 || total <= HL_MAX ? 0 : total - HL_MAX;
        unsigned k = 0;
        for (size_t a = skip; a < total && k < HL_MAX; a++) all[k++] = a == 0 ? *cell - 1 : d[i + a - 1].id;
        for (unsigned a = 0; a < k; a++) ids[a] = d[i].tab == 0 ? all[a] : all[k - 1 - a];
        uint32_t v = pool_list(&m->pool, &m->pool_len, &m->pool_cap, ids, k);
        if (v == 0) return VK_ENOMEM;
        *cell = v;
        i = j;
    }
    return 0;
}

/* An exact address's value with the prefixes that cover it: its own ids, then the
 * prefix hits of the feeds it does not already name (as the interval index orders them). */
static int merge_cover(struct matcher *m, uint32_t *cell, uint32_t cover)
{
    if (cover == 0) return 0;
    uint32_t ids[HL_MAX], cv[HL_MAX];
    unsigned n = put_val(m, *cell, ids, HL_MAX), nc = put_val(m, cover, cv, HL_MAX);
    uint64_t feeds[2] = {0, 0};
    for (unsigned i = 0; i < n; i++) feeds[ID_FEED(ids[i]) >> 6] |= 1ull << (ID_FEED(ids[i]) & 63);
    for (unsigned i = 0; i < nc && n < HL_MAX; i++)
        if (!(feeds[ID_FEED(cv[i]) >> 6] & (1ull << (ID_FEED(cv[i]) & 63)))) ids[n++] = cv[i];
    uint32_t v = pool_list(&m->pool, &m->pool_len, &m->pool_cap, ids, n);
    if (v == 0) return VK_ENOMEM;
    *cell = v;
    return 0;
}

/* An indicator on its way into a table. */
#define INS_BLOCK 32
struct ins {
    const char *s;
    size_t n;
    uint64_t h; /* bucket hash */
    u128 a6;
    uint32_t ip4, id;
    uint8_t kind; /* 4 exact IPv4, 6 exact IPv6, 1 string */
    uint8_t type;
};

/* Into its table, or into dups when its key is there already. Sets the filter bits. */
static int insert(struct matcher *m, const struct ins *x, struct vec *dups)
{
    struct htab *t = x->kind == 4 ? &m->ex4 : x->kind == 6 ? &m->ex6 : &m->st;
    uint32_t tag = x->kind == 4 ? x->ip4 : (uint32_t)(x->h >> 32);
    for (uint64_t k = x->h & t->mask;; k = (k + 1) & t->mask) {
        bool last;
        unsigned mt = bkt_find(&t->b[k], tag, &last);
        if (x->kind == 6)
            while (mt && m->key6[k * 8 + (unsigned)__builtin_ctz(mt)] != x->a6) mt &= mt - 1;
        else if (x->kind == 1)
            while (mt && !id_is(m->fs, t->b[k].val[__builtin_ctz(mt)] - 1, (enum ioc_type)x->type, x->s, x->n))
                mt &= mt - 1;
        if (mt) {
            struct dup *d = vec_push(dups);
            if (!d) return VK_ENOMEM;
            *d = (struct dup){k * 8 + (unsigned)__builtin_ctz(mt), x->id, x->kind == 1 ? 0 : x->kind};
            return 0;
        }
        if (last) {
            uint64_t slot = htab_put_at(t, k, tag, x->id + 1);
            if (x->kind == 4) {
                if (m->map4) m->map4[x->ip4 >> 13] |= 1ull << ((x->ip4 >> 7) & 62);
            } else {
                if (x->kind == 6) m->key6[slot] = x->a6;
                if (m->filt) m->filt[x->h >> m->filt_shift] |= filt_bits(x->h);
            }
            return 0;
        }
    }
}

struct matcher *matcher_build(struct feedset **fs, unsigned nfs, char *err, size_t errlen)
{
    if (nfs > MATCH_MAX_FEEDS) {
        snprintf(err, errlen, "too many feeds (%u; at most %d)", nfs, MATCH_MAX_FEEDS);
        return NULL;
    }
    struct benign b = {0};
    htab_init(&b.st, 0);
    struct vec r4 = {.sz = sizeof(struct iprange)}, r6 = {.sz = sizeof(struct iprange)};
    struct vec sub = {.sz = sizeof(const char *)}, subl = {.sz = sizeof(size_t)}, dups = {.sz = sizeof(struct dup)};
    struct vec rx = {.sz = sizeof(struct mregex)}, subt = {.sz = sizeof(uint32_t)};
    struct matcher *m = calloc(1, sizeof *m);
    if (!m) goto nomem;
    htab_init(&m->ex4, 0);
    htab_init(&m->ex6, 0);
    htab_init(&m->st, 0);
    for (unsigned i = 0; i < nfs; i++) {
        fs_ref(fs[i]);
        m->fs[i] = fs[i];
    }
    m->nfs = nfs;
    /* 1. the benign side */
    size_t nbs = 0;
    for (unsigned f = 0; f < nfs; f++)
        if (fs[f]->benign) nbs += fs[f]->n;
    if (htab_init(&b.st, nbs)) goto nomem;
    for (unsigned f = 0; f < nfs; f++) {
        struct feedset *F = fs[f];
        if (!F->benign) continue;
        for (uint32_t i = 0; i < F->n; i++) {
            const struct fs_ind *ind = &F->ind[i];
            const char *s = fs_s(F, ind->val);
            size_t n = strlen(s);
            uint32_t id = ID_MAKE(f, i);
            struct ipnet net;
            if (ind->type == IOC_IP && ioc_parse_ip(s, n, &net)) {
                struct iprange *r = vec_push(net.family == 4 ? &r4 : &r6);
                if (!r) goto nomem;
                net_range(&net, &r->lo, &r->hi);
                r->id = (uint32_t)((net.family == 4 ? r4.n : r6.n) - 1);
            } else if (ind->type == IOC_WL_SUBSTR) {
                const char **p = vec_push(&sub);
                size_t *l = vec_push(&subl);
                uint32_t *tm = vec_push(&subt);
                if (!p || !l || !tm) goto nomem;
                *p = s;
                *l = n;
                const char *ex = fs_s(F, F->meta[ind->meta].extra);
                *tm = !strncmp(ex, "types\x1f", 6) ? (uint32_t)strtoul(ex + 6, NULL, 10) : ~0u;
                b.subtypes |= *tm;
            } else if (ind->type != IOC_IP && ind->type != IOC_REGEX) {
                uint64_t h = str_hash(IOC_WL_STRING, s, n);
                htab_put_at(&b.st, h & b.st.mask, (uint32_t)(h >> 32), id + 1);
            }
        }
        m->count[f] = F->n;
    }
    /* ranges are sorted by the build: keep a copy in id order for containment checks */
    b.r4 = r4.n ? malloc(r4.n * sizeof *b.r4) : NULL;
    b.r6 = r6.n ? malloc(r6.n * sizeof *b.r6) : NULL;
    if ((r4.n && !b.r4) || (r6.n && !b.r6)) goto nomem;
    if (r4.n) memcpy(b.r4, r4.p, r4.n * sizeof *b.r4);
    if (r6.n) memcpy(b.r6, r6.p, r6.n * sizeof *b.r6);
    if (ipidx_build(&b.v4, 4, r4.p, r4.n, IPIDX_BOTTOM, &b.pool, &b.plen, &b.pcap) ||
        ipidx_build(&b.v6, 6, r6.p, r6.n, IPIDX_BOTTOM, &b.pool, &b.plen, &b.pcap))
        goto nomem;
    b.sub = sub.p;
    b.sublen = subl.p;
    b.subtype = subt.p;
    b.nsub = sub.n;
    if (sub.n) {
        b.gram = malloc(sub.n * sizeof *b.gram);
        if (!b.gram) goto nomem;
        for (size_t i = 0; i < sub.n; i++)
            if (b.sublen[i] >= 4) {
                memcpy(&b.gram[b.ngram].g, b.sub[i], 4);
                b.gram[b.ngram++].i = (uint32_t)i;
            }
        qsort(b.gram, b.ngram, sizeof *b.gram, cmp_gram);
    }
    r4.n = r6.n = 0;
    bool any_benign = nbs > 0;
    /* 2. table sizes: an upper bound of the entries of each (suppressed ones included) */
    size_t n4 = 0, n6 = 0, nstr = 0;
    for (unsigned f = 0; f < nfs; f++) {
        const struct feedset *F = fs[f];
        if (F->benign) continue;
        for (uint32_t i = 0; i < F->n; i++) {
            unsigned t = F->ind[i].type;
            if (t == IOC_IP) {
                if (strchr(fs_s(F, F->ind[i].val), ':')) n6++;
                else n4++;
            } else if (t != IOC_REGEX) {
                nstr++;
            }
        }
    }
    if (htab_init(&m->ex4, n4) || htab_init(&m->ex6, n6) || htab_init(&m->st, nstr)) goto nomem;
    if (m->ex6.b != &empty_bkt && !(m->key6 = big_calloc((m->ex6.mask + 1) * 8 * sizeof *m->key6))) goto nomem;
    if (n4 >= MAP4_MIN && !(m->map4 = big_calloc(MAP4_BYTES))) goto nomem;
    if (nstr + n6 >= FILT_MIN) {
        size_t words = 1;
        unsigned lg = 0;
        while (words * 64 < (nstr + n6) * 6) words <<= 1, lg++;
        if (!(m->filt = big_calloc(words * sizeof *m->filt))) goto nomem;
        m->filt_words = words;
        m->filt_shift = 64 - lg;
    }
    /* 3. the indicators, straight into the tables (equal keys noted in dups), a block at a
     * time: classify and hash a block and prefetch the buckets it will write, then insert
     * it, so that the cache misses of a block overlap */
    for (unsigned f = 0; f < nfs; f++) {
        struct feedset *F = fs[f];
        if (F->benign) continue;
        for (uint32_t i0 = 0; i0 < F->n; i0 += INS_BLOCK) {
            struct ins blk[INS_BLOCK];
            unsigned nb = 0;
            for (uint32_t i = i0; i < F->n && i < i0 + INS_BLOCK; i++) {
                const struct fs_ind *ind = &F->ind[i];
                const char *s = fs_s(F, ind->val);
                size_t n = strlen(s);
                uint32_t id = ID_MAKE(f, i);
                if (any_benign && suppressed(m, &b, ind->type, s, n)) {
                    m->suppressed[f]++;
                    continue;
                }
                m->count[f]++;
                struct ins *x = &blk[nb];
                *x = (struct ins){.s = s, .n = n, .id = id, .type = (uint8_t)ind->type};
                struct ipnet net;
                if (ind->type == IOC_IP) {
                    if (!ioc_parse_ip(s, n, &net)) continue;
                    if (net.family == 4 && net.plen == 32) {
                        x->kind = 4;
                        x->ip4 = ip_u32(net.a);
                        x->h = mix32(x->ip4);
                        __builtin_prefetch(&m->ex4.b[x->h & m->ex4.mask], 1);
                        if (m->map4) __builtin_prefetch(&m->map4[x->ip4 >> 13], 1);
                        nb++;
                    } else if (net.family == 6 && net.plen == 128) {
                        x->kind = 6;
                        x->a6 = ip_u128(net.a);
                        x->h = hash6(x->a6);
                        __builtin_prefetch(&m->ex6.b[x->h & m->ex6.mask], 1);
                        if (m->filt) __builtin_prefetch(&m->filt[x->h >> m->filt_shift], 1);
                        nb++;
                    } else {
                        struct iprange *r = vec_push(net.family == 4 ? &r4 : &r6);
                        if (!r) goto nomem;
                        net_range(&net, &r->lo, &r->hi);
                        r->id = id;
                    }
                } else if (ind->type == IOC_REGEX) {
                    if (rx.n >= 4096) continue;
                    struct mregex *re = vec_push(&rx);
                    if (!re) goto nomem;
                    char pat[IOC_MAX + 8];
                    const char *why;
                    snprintf(pat, sizeof pat, "^(%s)$", s);
                    /* a trail glibc would compile into gigabytes (a++, huge bounds) is
                     * skipped like one that does not compile (found by fuzz_feed) */
                    if (vk_regex_check(s, n, IOC_MAX, &why) != 0 ||
                        regcomp(&re->re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
                        rx.n--;
                        m->count[f]--;
                        continue;
                    }
                    regex_must(s, re->must, sizeof re->must);
                    re->gram4 = re->must[0] != 0;
                    for (const char *p = re->must; *p; p += strlen(p) + 1) re->gram4 &= strlen(p) >= 4;
                    for (const char *p = re->must; re->gram4 && *p; p += strlen(p) + 1) {
                        unsigned bit = rxgram_bit(p);
                        m->rxgram[bit >> 6] |= 1ull << (bit & 63);
                    }
                    re->id = id;
                } else {
                    x->kind = 1;
                    x->h = str_hash((enum ioc_type)ind->type, s, n);
                    __builtin_prefetch(&m->st.b[x->h & m->st.mask], 1);
                    if (m->filt) __builtin_prefetch(&m->filt[x->h >> m->filt_shift], 1);
                    nb++;
                    if (ind->type == IOC_DOMAIN) {
                        unsigned l = 1;
                        for (size_t j = 0; j < n; j++) l += s[j] == '.';
                        m->dom_labels |= 1u << (l < 31 ? l : 31);
                    }
                }
                m->types |= 1u << ind->type;
            }
            for (unsigned j = 0; j < nb; j++)
                if (insert(m, &blk[j], &dups)) goto nomem;
        }
    }
    if (fold_dups(m, dups.p, dups.n)) goto nomem;
    /* 4. the IPv4 map's prefix bits */
    if (m->map4)
        for (size_t i = 0; i < r4.n; i++) {
            const struct iprange *r = (const struct iprange *)r4.p + i;
            map4_set_prefix(m->map4, (uint32_t)(r->lo >> 8), (uint32_t)(r->hi >> 8));
        }
    /* 5. prefixes; then exact addresses take in the prefixes that cover them */
    if (ipidx_build(&m->v4, 4, r4.p, r4.n, IPIDX_PERFEED, &m->pool, &m->pool_len, &m->pool_cap) ||
        ipidx_build(&m->v6, 6, r6.p, r6.n, IPIDX_PERFEED, &m->pool, &m->pool_len, &m->pool_cap))
        goto nomem;
    if (m->v4.n && m->ex4.n)
        for (uint64_t k = 0; k <= m->ex4.mask; k++)
            for (unsigned j = 0; j < 8 && m->ex4.b[k].val[j]; j++) {
                uint32_t ip = m->ex4.b[k].tag[j];
                if ((map4_get(m, ip) & 2) && merge_cover(m, &m->ex4.b[k].val[j], ipidx_get4(&m->v4, ip))) goto nomem;
            }
    if (m->v6.n && m->ex6.n)
        for (uint64_t k = 0; k <= m->ex6.mask; k++)
            for (unsigned j = 0; j < 8 && m->ex6.b[k].val[j]; j++)
                if (merge_cover(m, &m->ex6.b[k].val[j], ipidx_get6(&m->v6, m->key6[k * 8 + j]))) goto nomem;
    if (rx.n) { /* a plain malloc'ed array, as matcher_free expects */
        if (!(m->rx = malloc(rx.n * sizeof *m->rx))) goto nomem;
        memcpy(m->rx, rx.p, rx.n * sizeof *m->rx);
        m->nrx = (unsigned)rx.n;
    }
    vec_free(&rx); /* (also when every regex failed to compile) */
    vec_free(&r4);
    vec_free(&r6);
    vec_free(&dups);
    ipidx_free(&b.v4);
    ipidx_free(&b.v6);
    free(b.r4);
    free(b.r6);
    htab_free(&b.st);
    free(b.pool);
    vec_free(&sub);
    vec_free(&subl);
    vec_free(&subt);
    free(b.gram);
    return m;
nomem:
    snprintf(err, errlen, "out of memory while building the matcher");
    vec_free(&r4);
    vec_free(&r6);
    vec_free(&dups);
    ipidx_free(&b.v4);
    ipidx_free(&b.v6);
    free(b.r4);
    free(b.r6);
    htab_free(&b.st);
    free(b.pool);
    vec_free(&sub);
    vec_free(&subl);
    vec_free(&subt);
    free(b.gram);
    if (rx.p) {
        for (size_t i = 0; i < rx.n; i++) regfree(&((struct mregex *)rx.p)[i].re);
        vec_free(&rx);
    }
    matcher_free(m);
    return NULL;
}

void matcher_free(struct matcher *m)
{
    if (!m) return;
    ipidx_free(&m->v4);
    ipidx_free(&m->v6);
    if (m->key6) big_free(m->key6, (m->ex6.mask + 1) * 8 * sizeof *m->key6);
    htab_free(&m->ex4);
    htab_free(&m->ex6);
    htab_free(&m->st);
    if (m->map4) big_free(m->map4, MAP4_BYTES);
    if (m->filt) big_free(m->filt, m->filt_words * sizeof *m->filt);
    free(m->pool);
    for (unsigned i = 0; i < m->nrx; i++) regfree(&m->rx[i].re);
    free(m->rx);
    for (unsigned i = 0; i < m->nfs; i++) fs_unref(m->fs[i]);
    free(m);
}

size_t matcher_bytes(const struct matcher *m)
{
    return sizeof *m + ipidx_bytes(&m->v4) + ipidx_bytes(&m->v6) + htab_bytes(&m->ex4) + htab_bytes(&m->ex6) +
           (m->key6 ? (m->ex6.mask + 1) * 8 * sizeof *m->key6 : 0) + htab_bytes(&m->st) +
           (m->map4 ? MAP4_BYTES : 0) + m->filt_words * sizeof *m->filt + m->pool_len * sizeof(uint32_t) + m->nrx * sizeof(struct mregex);
}
