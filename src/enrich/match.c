/* match.c — the indicator matcher: the hot path of threat-intel enrichment.
 *
 * Built once per feed update from every feedset of a data dir, then read-only (and so
 * shared by any number of reader threads without locks of its own):
 *  - IP indicators (addresses and CIDRs, v4 and v6) become a sorted array of interval
 *    boundaries, each with the value in force from it: the hit list of the most specific
 *    prefix of every feed that covers it. A first-level table on the top 16 bits narrows a
 *    lookup to the boundaries of one /16, usually a handful, searched in binary. So
 *    exact and longest-prefix matching are one structure and one lookup.
 *  - Every string type (domain, URL, path, ip:port, hashes, JA3, HASSH, user agent,
 *    e-mail) lives in one open-addressing table of 16-byte slots keyed by a 64-bit xxh3
 *    of (type, value); the slot keeps the value's length, and a hit is confirmed against
 *    the value itself. Domains walk their parents, probing only label counts that some
 *    indicator has.
 *  - Regex trails (few) are POSIX EREs tried on domain names whose suffix fits.
 * Warninglists (benign feedsets) are applied here, at build time: an indicator they cover
 * is not put in the matcher at all, so suppression costs nothing per lookup. */
#include <stdlib.h>
#include <xxhash.h>

#include "enrich_int.h"

#define HL_MAX 64 /* ids in one hit list */

u128 ip_u128(const uint8_t a[16])
{
    u128 v = 0;
    for (int i = 0; i < 16; i++) v = v << 8 | a[i];
    return v;
}

static void net_range(const struct ipnet *n, u128 *lo, u128 *hi)
{
    unsigned bits = n->family == 4 ? 32 : 128;
    u128 v = n->family == 4 ? ((u128)n->a[0] << 24 | (u128)n->a[1] << 16 | (u128)n->a[2] << 8 | n->a[3]) : ip_u128(n->a);
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

int ipidx_build(struct ipidx *x, int family, struct iprange *r, size_t n, enum ipidx_mode mode,
                uint32_t **pool, size_t *pool_len, size_t *pool_cap)
{
    memset(x, 0, sizeof *x);
    x->family = family;
    if (n == 0) return 0;
    qsort(r, n, sizeof *r, cmp_range);
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

/* ---- string table --------------------------------------------------------------------- */
uint64_t str_hash(enum ioc_type t, const char *s, size_t n)
{
    return XXH3_64bits_withSeed(s, n, (uint64_t)t * 0x9E3779B97F4A7C15ull) | 1;
}

struct skey {
    uint64_t h;
    uint32_t id;
    uint32_t len;
};

static int cmp_skey(const void *a, const void *b)
{
    const struct skey *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static const char *id_str(struct feedset *const *fs, uint32_t id)
{
    const struct feedset *f = fs[ID_FEED(id)];
    return fs_s(f, f->ind[ID_IND(id)].val);
}

/* Fill a table from keys (sorted here); equal (hash, string) keys share one hit list. */
static int strtab_build(struct strtab *t, struct skey *k, size_t n, struct feedset *const *fs, uint32_t **pool,
                        size_t *plen, size_t *pcap)
{
    memset(t, 0, sizeof *t);
    if (n == 0) return 0;
    qsort(k, n, sizeof *k, cmp_skey);
    uint64_t cap = 16;
    while (cap < (uint64_t)n * 2) cap <<= 1;
    t->s = calloc(cap, sizeof *t->s);
    if (!t->s) return VK_ENOMEM;
    t->mask = cap - 1;
    uint32_t ids[HL_MAX];
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].h == k[i].h) j++;
        /* [i, j): same hash; group by equal string (a true collision is astronomically rare) */
        for (size_t a = i; a < j; a++) {
            if (k[a].id == UINT32_MAX) continue;
            const char *sa = id_str(fs, k[a].id);
            unsigned m = 0;
            ids[m++] = k[a].id;
            for (size_t b = a + 1; b < j; b++) {
                if (k[b].id == UINT32_MAX || k[b].len != k[a].len) continue;
                if (memcmp(id_str(fs, k[b].id), sa, k[a].len) == 0) {
                    if (m < HL_MAX) ids[m++] = k[b].id;
                    k[b].id = UINT32_MAX;
                }
            }
            uint32_t v = pool_list(pool, plen, pcap, ids, m);
            if (v == 0) return VK_ENOMEM;
            uint64_t s = k[a].h & t->mask;
            while (t->s[s].h) s = (s + 1) & t->mask;
            t->s[s].h = k[a].h;
            t->s[s].val = v;
            t->s[s].aux = k[a].len;
            t->n++;
        }
        i = j;
    }
    return 0;
}

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

/* One hash, then a linear probe: usually one cache miss for a miss, two for a hit. */
static uint32_t strtab_get(const struct matcher *m, const struct strtab *t, uint64_t h, enum ioc_type type,
                           const char *s, size_t n)
{
    if (t->n == 0) return 0;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const struct strslot *sl = &t->s[i];
        if (sl->h == 0) return 0;
        if (sl->h == h && sl->aux == n) {
            uint32_t id = first_id(m, sl->val);
            const struct fs_ind *ind = match_ind(m, id);
            if (ind->type == type && memcmp(fs_s(m->fs[ID_FEED(id)], ind->val), s, n) == 0) return sl->val;
        }
    }
}

unsigned match_str(const struct matcher *m, enum ioc_type t, const char *s, size_t n, uint32_t *out, unsigned cap)
{
    if (!(m->types & (1u << t))) return 0;
    return put_val(m, strtab_get(m, &m->st, str_hash(t, s, n), t, s, n), out, cap);
}

unsigned match_ip4(const struct matcher *m, uint32_t ip, uint32_t *out, unsigned cap)
{
    return put_val(m, ipidx_get4(&m->v4, ip), out, cap);
}

unsigned match_ip6(const struct matcher *m, const uint8_t a[16], uint32_t *out, unsigned cap)
{
    return put_val(m, ipidx_get6(&m->v6, ip_u128(a)), out, cap);
}

/* Labels of the whole name, then each parent: a probe only where some domain indicator
 * has that many labels. The most specific hit of each feed wins. */
unsigned match_domain(const struct matcher *m, const char *s, size_t n, uint32_t *out, unsigned cap)
{
    if (!(m->types & (1u << IOC_DOMAIN)) || n == 0) return 0;
    unsigned labels = 1;
    for (size_t i = 0; i < n; i++) labels += s[i] == '.';
    uint64_t seen[2] = {0, 0};
    unsigned k = 0;
    size_t off = 0;
    for (unsigned l = labels; l >= 1; l--) {
        if (m->dom_labels & (1u << (l < 31 ? l : 31))) {
            uint32_t tmp[HL_MAX];
            unsigned got = put_val(m, strtab_get(m, &m->st, str_hash(IOC_DOMAIN, s + off, n - off), IOC_DOMAIN,
                                                 s + off, n - off),
                                   tmp, HL_MAX);
            uint64_t now[2] = {0, 0};
            for (unsigned j = 0; j < got && k < cap; j++) {
                uint32_t f = ID_FEED(tmp[j]);
                if (seen[f >> 6] & (1ull << (f & 63))) continue;
                now[f >> 6] |= 1ull << (f & 63);
                out[k++] = tmp[j];
            }
            seen[0] |= now[0];
            seen[1] |= now[1];
        }
        const char *dot = memchr(s + off, '.', n - off);
        if (!dot) break;
        off = (size_t)(dot - s) + 1;
    }
    return k;
}

/* ---- building the matcher --------------------------------------------------------------- */
struct benign {
    struct ipidx v4, v6;
    struct iprange *r4, *r6; /* kept to check containment */
    struct strtab st;
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
        void *p = realloc(v->p, nc * v->sz);
        if (!p) return NULL;
        v->p = p;
        v->cap = nc;
    }
    return (char *)v->p + v->sz * v->n++;
}

static bool benign_exact(const struct matcher *m, const struct benign *b, const char *s, size_t n, bool hostname_only)
{
    if (b->st.n == 0) return false;
    uint64_t h = str_hash(IOC_WL_STRING, s, n);
    for (uint64_t i = h & b->st.mask;; i = (i + 1) & b->st.mask) {
        const struct strslot *sl = &b->st.s[i];
        if (sl->h == 0) return false;
        if (sl->h == h && sl->aux == n) {
            uint32_t id = sl->val - 1;
            const struct fs_ind *ind = match_ind(m, id);
            if (memcmp(fs_s(m->fs[ID_FEED(id)], ind->val), s, n) == 0 && (!hostname_only || ind->type == IOC_DOMAIN))
                return true;
        }
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

/* A literal every match of a regex must contain (the longest run of plain characters
 * outside groups and classes), "" when there is none: a memmem on it spares most regexec
 * calls. A character followed by '?', '*' or '{' is optional and ends the run; a
 * top-level '|' means nothing is required. */
static void regex_must(const char *re, char *must, size_t cap)
{
    char run[64], best[64] = "";
    size_t rl = 0, n = strlen(re);
    int depth = 0;
    bool inclass = false, alt = false;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? re[i] : 0, lit = 0;
        if (inclass) {
            if (c == '\\') i++;
            else if (c == ']') inclass = false;
            rl = 0;
            continue;
        }
        if (c == '\\' && i + 1 < n && strchr(".-_/", re[i + 1])) {
            lit = re[++i];
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            lit = c;
        } else {
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
    snprintf(must, cap, "%s", alt ? "" : best);
}

struct matcher *matcher_build(struct feedset **fs, unsigned nfs, char *err, size_t errlen)
{
    if (nfs > MATCH_MAX_FEEDS) {
        snprintf(err, errlen, "too many feeds (%u; at most %d)", nfs, MATCH_MAX_FEEDS);
        return NULL;
    }
    struct benign b = {0};
    struct vec r4 = {.sz = sizeof(struct iprange)}, r6 = {.sz = sizeof(struct iprange)};
    struct vec sk = {.sz = sizeof(struct skey)}, sub = {.sz = sizeof(const char *)}, subl = {.sz = sizeof(size_t)};
    struct vec rx = {.sz = sizeof(struct mregex)}, subt = {.sz = sizeof(uint32_t)};
    struct matcher *m = calloc(1, sizeof *m);
    if (!m) goto nomem;
    for (unsigned i = 0; i < nfs; i++) {
        fs_ref(fs[i]);
        m->fs[i] = fs[i];
    }
    m->nfs = nfs;
    /* 1. the benign side */
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
                struct skey *k = vec_push(&sk);
                if (!k) goto nomem;
                k->h = str_hash(IOC_WL_STRING, s, n);
                k->id = id;
                k->len = (uint32_t)n;
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
    /* benign strings: one slot per value (no hit lists needed) */
    if (sk.n) {
        uint64_t cap = 16;
        while (cap < (uint64_t)sk.n * 2) cap <<= 1;
        b.st.s = calloc(cap, sizeof *b.st.s);
        if (!b.st.s) goto nomem;
        b.st.mask = cap - 1;
        for (size_t i = 0; i < sk.n; i++) {
            const struct skey *k = (struct skey *)sk.p + i;
            uint64_t s = k->h & b.st.mask;
            while (b.st.s[s].h) s = (s + 1) & b.st.mask;
            b.st.s[s] = (struct strslot){k->h, k->id + 1, k->len};
            b.st.n++;
        }
    }
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
    r4.n = r6.n = sk.n = 0;
    bool any_benign = false;
    for (unsigned f = 0; f < nfs; f++) any_benign |= fs[f]->benign;
    /* 2. the indicators */
    for (unsigned f = 0; f < nfs; f++) {
        struct feedset *F = fs[f];
        if (F->benign) continue;
        for (uint32_t i = 0; i < F->n; i++) {
            const struct fs_ind *ind = &F->ind[i];
            const char *s = fs_s(F, ind->val);
            size_t n = strlen(s);
            uint32_t id = ID_MAKE(f, i);
            if (any_benign && suppressed(m, &b, ind->type, s, n)) {
                m->suppressed[f]++;
                continue;
            }
            m->count[f]++;
            struct ipnet net;
            if (ind->type == IOC_IP) {
                if (!ioc_parse_ip(s, n, &net)) continue;
                struct iprange *r = vec_push(net.family == 4 ? &r4 : &r6);
                if (!r) goto nomem;
                net_range(&net, &r->lo, &r->hi);
                r->id = id;
            } else if (ind->type == IOC_REGEX) {
                if (rx.n >= 4096) continue;
                struct mregex *x = vec_push(&rx);
                if (!x) goto nomem;
                char pat[IOC_MAX + 8];
                snprintf(pat, sizeof pat, "^(%s)$", s);
                if (regcomp(&x->re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
                    rx.n--;
                    m->count[f]--;
                    continue;
                }
                regex_must(s, x->must, sizeof x->must);
                x->id = id;
            } else {
                struct skey *k = vec_push(&sk);
                if (!k) goto nomem;
                k->h = str_hash((enum ioc_type)ind->type, s, n);
                k->id = id;
                k->len = (uint32_t)n;
                if (ind->type == IOC_DOMAIN) {
                    unsigned l = 1;
                    for (size_t j = 0; j < n; j++) l += s[j] == '.';
                    m->dom_labels |= 1u << (l < 31 ? l : 31);
                }
            }
            m->types |= 1u << ind->type;
        }
    }
    if (ipidx_build(&m->v4, 4, r4.p, r4.n, IPIDX_PERFEED, &m->pool, &m->pool_len, &m->pool_cap) ||
        ipidx_build(&m->v6, 6, r6.p, r6.n, IPIDX_PERFEED, &m->pool, &m->pool_len, &m->pool_cap) ||
        strtab_build(&m->st, sk.p, sk.n, m->fs, &m->pool, &m->pool_len, &m->pool_cap))
        goto nomem;
    m->rx = rx.p;
    m->nrx = (unsigned)rx.n;
    rx.p = NULL;
    free(r4.p);
    free(r6.p);
    free(sk.p);
    ipidx_free(&b.v4);
    ipidx_free(&b.v6);
    free(b.r4);
    free(b.r6);
    free(b.st.s);
    free(b.pool);
    free(sub.p);
    free(subl.p);
    free(subt.p);
    free(b.gram);
    return m;
nomem:
    snprintf(err, errlen, "out of memory while building the matcher");
    free(r4.p);
    free(r6.p);
    free(sk.p);
    ipidx_free(&b.v4);
    ipidx_free(&b.v6);
    free(b.r4);
    free(b.r6);
    free(b.st.s);
    free(b.pool);
    free(sub.p);
    free(subl.p);
    free(subt.p);
    free(b.gram);
    if (rx.p) {
        for (size_t i = 0; i < rx.n; i++) regfree(&((struct mregex *)rx.p)[i].re);
        free(rx.p);
    }
    matcher_free(m);
    return NULL;
}

void matcher_free(struct matcher *m)
{
    if (!m) return;
    ipidx_free(&m->v4);
    ipidx_free(&m->v6);
    free(m->st.s);
    free(m->pool);
    for (unsigned i = 0; i < m->nrx; i++) regfree(&m->rx[i].re);
    free(m->rx);
    for (unsigned i = 0; i < m->nfs; i++) fs_unref(m->fs[i]);
    free(m);
}

size_t matcher_bytes(const struct matcher *m)
{
    return sizeof *m + ipidx_bytes(&m->v4) + ipidx_bytes(&m->v6) + (m->st.s ? (m->st.mask + 1) * sizeof(struct strslot) : 0) +
           m->pool_len * sizeof(uint32_t) + m->nrx * sizeof(struct mregex);
}
