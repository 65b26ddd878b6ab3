/* test_enrich_match.c — the matcher's fast structures against plain reference models.
 *
 * The matcher keeps exact addresses in hash tables, shorter prefixes in an interval index,
 * and puts two filters in front (a map of IPv4 /24s, a Bloom filter of hashed keys) once
 * the feeds are big: the big tests here are sized past MAP4_MIN / FILT_MIN so that the
 * filters exist, and check every answer against a reference written the obvious way
 * (per feed: the longest covering prefix; per feed: the most specific parent domain).
 * Also: the boundaries (/0, /32, /128, 0.0.0.0, 255.255.255.255, nested and overlapping
 * prefixes across feeds, v4-mapped IPv6), hit lists of a value in many feeds, the batch
 * API (same answers as the single calls), the IPv6 parser against inet_pton, the list
 * reader across its 4 MiB chunks, and the cache's fast path. Feeds are built in memory
 * with fs_add, or written under a temporary directory. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

#include "vk_test.h"
#include "enrich/enrich_int.h"
#include "enrich_test.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct feedset *mkfeed(const char *name)
{
    struct feedset *f = fs_new(name);
    assert_non_null(f);
    assert_int_equal(fs_meta(f, "cat", name, NULL, 50, 0), 0);
    return f;
}

static void add(struct feedset *f, enum ioc_type t, const char *v)
{
    assert_int_equal(fs_add(f, t, v, strlen(v), 0), 0);
}

static unsigned look6(const struct matcher *m, const char *s, uint32_t *ids, unsigned cap)
{
    uint8_t a[16];
    assert_int_equal(inet_pton(AF_INET6, s, a), 1);
    return match_ip6(m, a, ids, cap);
}

/* The answer as "feed:value" strings joined by spaces, in the matcher's order. */
static const char *hits(const struct matcher *m, const uint32_t *ids, unsigned n)
{
    static char b[4096];
    size_t o = 0;
    b[0] = 0;
    for (unsigned i = 0; i < n && o < sizeof b - 200; i++)
        o += (size_t)snprintf(b + o, sizeof b - o, "%s%s:%s", i ? " " : "", m->fs[ID_FEED(ids[i])]->name,
                              val_of(m, ids[i]));
    return b;
}

/* A batch key answers as the single call does: same ids, same order. */
static void same_as_key(const struct matcher *m, const struct match_key *k, const uint32_t *ids, unsigned n)
{
    uint32_t kid[64];
    unsigned kn = match_key_run(m, k, kid, 64);
    assert_int_equal(kn, n);
    assert_memory_equal(kid, ids, n * sizeof *ids);
}

/* ---- boundaries, by hand ----------------------------------------------------------------------- */
static void test_boundaries(void **st)
{
    (void)st;
    struct feedset *a = mkfeed("a"), *b = mkfeed("b");
    const char *av[] = {"0.0.0.0/0", "0.0.0.0", "255.255.255.255", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24",
                        "10.0.0.0/30", "10.0.0.0/31", "::/0", "::ffff:0:0/96", "::ffff:1.2.3.4", "2001:db8::1",
                        "2001:db8::/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
    for (size_t i = 0; i < sizeof av / sizeof *av; i++) add(a, IOC_IP, av[i]);
    const char *bv[] = {"10.255.255.255", "10.0.0.0/8", "10.0.0.1", "2001:db8::/127", "2001:db8::1", "0.0.0.0/1"};
    for (size_t i = 0; i < sizeof bv / sizeof *bv; i++) add(b, IOC_IP, bv[i]);
    struct feedset *fs[] = {a, b};
    struct matcher *m = build(fs, 2);
    uint32_t ids[16];
    struct match_key k;
    static const struct {
        const char *ip, *want;
    } c4[] = {
        {"0.0.0.0", "a:0.0.0.0 b:0.0.0.0/1"}, /* address 0 is a key like any other */
        {"0.0.0.1", "b:0.0.0.0/1 a:0.0.0.0/0"}, /* the innermost prefix first */
        {"127.255.255.255", "b:0.0.0.0/1 a:0.0.0.0/0"},
        {"128.0.0.0", "a:0.0.0.0/0"},
        {"255.255.255.255", "a:255.255.255.255"},
        {"255.255.255.254", "a:0.0.0.0/0"},
        {"10.0.0.0", "a:10.0.0.0/31 b:10.0.0.0/8"},
        {"10.0.0.1", "b:10.0.0.1 a:10.0.0.0/31"}, /* exact first, then the other feeds' prefixes */
        {"10.0.0.2", "a:10.0.0.0/30 b:10.0.0.0/8"},
        {"10.0.0.4", "a:10.0.0.0/24 b:10.0.0.0/8"},
        {"10.0.1.0", "a:10.0.0.0/16 b:10.0.0.0/8"},
        {"10.1.0.0", "b:10.0.0.0/8 a:10.0.0.0/8"}, /* equal prefixes: the last feed first */
        {"10.255.255.255", "b:10.255.255.255 a:10.0.0.0/8"},
        {"11.0.0.0", "b:0.0.0.0/1 a:0.0.0.0/0"},
        {"9.255.255.255", "b:0.0.0.0/1 a:0.0.0.0/0"},
        {"1.2.3.4", "b:0.0.0.0/1 a:0.0.0.0/0"}, /* ::ffff:1.2.3.4 is an IPv6 indicator: not this */
    };
    for (size_t i = 0; i < sizeof c4 / sizeof *c4; i++) {
        unsigned n = match_ip4(m, v4(c4[i].ip), ids, 16);
        if (strcmp(hits(m, ids, n), c4[i].want)) fail_msg("%s: got '%s', want '%s'", c4[i].ip, hits(m, ids, n), c4[i].want);
        match_key_ip4(m, &k, v4(c4[i].ip));
        same_as_key(m, &k, ids, n);
    }
    static const struct {
        const char *ip, *want;
    } c6[] = {
        {"::", "a:::/0"},
        {"::ffff:1.2.3.4", "a:::ffff:1.2.3.4"},
        {"::ffff:1.2.3.5", "a:::ffff:0:0/96"},
        {"::fffe:1.2.3.5", "a:::/0"},
        {"2001:db8::1", "b:2001:db8::1 a:2001:db8::1"},
        {"2001:db8::", "b:2001:db8::/127 a:2001:db8::/32"},
        {"2001:db8::2", "a:2001:db8::/32"},
        {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "a:2001:db8::/32"},
        {"2001:db9::", "a:::/0"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "a:::/0"},
    };
    for (size_t i = 0; i < sizeof c6 / sizeof *c6; i++) {
        unsigned n = look6(m, c6[i].ip, ids, 16);
        if (strcmp(hits(m, ids, n), c6[i].want)) fail_msg("%s: got '%s', want '%s'", c6[i].ip, hits(m, ids, n), c6[i].want);
        uint8_t a6[16];
        inet_pton(AF_INET6, c6[i].ip, a6);
        match_key_ip6(m, &k, a6);
        same_as_key(m, &k, ids, n);
    }
    assert_null(m->map4); /* small: no filters */
    assert_null(m->filt);
    matcher_free(m);
    fs_unref(a);
    fs_unref(b);
}

/* ---- IPv4 and IPv6 against a reference, big enough for the /24 map ----------------------- */
struct pfx {
    u128 net;
    uint8_t plen;
    uint32_t id;
};

static int cmp_pfx(const void *x, const void *y)
{
    const struct pfx *a = x, *b = y;
    if (a->plen != b->plen) return a->plen < b->plen ? -1 : 1;
    if (a->net != b->net) return a->net < b->net ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static u128 mask(unsigned bits, unsigned plen)
{
    if (plen == 0) return 0;
    u128 all = bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1);
    return all & ~((((u128)1) << (bits - plen)) - 1);
}

/* Reference: per feed, the ids of its longest prefix covering ip (all of them when a feed
 * lists it more than once), as a sorted set. One binary search per prefix length. */
static unsigned ref_ip(const struct pfx *p, size_t np, unsigned bits, u128 ip, uint32_t *out)
{
    unsigned n = 0;
    uint64_t done[2] = {0, 0}; /* feeds answered at a longer prefix */
    for (int plen = (int)bits; plen >= 0; plen--) {
        struct pfx key = {ip & mask(bits, (unsigned)plen), (uint8_t)plen, 0};
        size_t lo = 0, hi = np;
        while (lo < hi) { /* first entry >= (plen, net, 0) */
            size_t mid = (lo + hi) / 2;
            if (cmp_pfx(&p[mid], &key) < 0) lo = mid + 1;
            else hi = mid;
        }
        uint64_t now[2] = {0, 0};
        for (size_t i = lo; i < np && p[i].plen == plen && p[i].net == key.net; i++) {
            uint32_t f = ID_FEED(p[i].id);
            if (done[f >> 6] >> (f & 63) & 1) continue;
            now[f >> 6] |= 1ull << (f & 63);
            out[n++] = p[i].id;
        }
        done[0] |= now[0];
        done[1] |= now[1];
    }
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void check_ip(const struct matcher *m, const struct pfx *p, size_t np, int fam, u128 ip)
{
    uint32_t got[64], want[256];
    uint8_t a[16];
    unsigned n;
    struct match_key k;
    if (fam == 4) {
        n = match_ip4(m, (uint32_t)ip, got, 64);
        match_key_ip4(m, &k, (uint32_t)ip);
    } else {
        for (int i = 0; i < 16; i++) a[i] = (uint8_t)(ip >> (8 * (15 - i)));
        n = match_ip6(m, a, got, 64);
        match_key_ip6(m, &k, a);
    }
    same_as_key(m, &k, got, n);
    unsigned w = ref_ip(p, np, fam == 4 ? 32 : 128, ip, want);
    qsort(got, n, sizeof *got, cmp_u32);
    qsort(want, w, sizeof *want, cmp_u32);
    if (n != w || memcmp(got, want, n * sizeof *got)) {
        char t[64];
        if (fam == 4) snprintf(t, sizeof t, "%u.%u.%u.%u", (unsigned)(ip >> 24) & 255, (unsigned)(ip >> 16) & 255,
                               (unsigned)(ip >> 8) & 255, (unsigned)ip & 255);
        else inet_ntop(AF_INET6, a, t, sizeof t);
        fail_msg("%s: %u hits, the reference has %u (first: %s)", t, n, w, w ? val_of(m, want[0]) : "-");
    }
}

static void test_ip_random(void **st)
{
    (void)st;
    enum { NF = 3 };
    struct feedset *fs[NF] = {mkfeed("f0"), mkfeed("f1"), mkfeed("f2")};
    size_t cap = 100000, np = 0;
    struct pfx *p4 = malloc(cap * sizeof *p4), *p6 = malloc(20000 * sizeof *p6);
    size_t np6 = 0;
    assert_non_null(p4);
    assert_non_null(p6);
    /* addresses in a few busy /8s (so prefixes nest and overlap) and anywhere */
    static const uint32_t busy[] = {0x0a000000, 0xc0a80000, 0x08000000, 0xff000000};
    for (unsigned f = 0; f < NF; f++) {
        unsigned nex = f == 0 ? 50000 : f == 1 ? 20000 : 2000, npf = f == 2 ? 200 : 2500;
        for (unsigned i = 0; i < nex + npf; i++) {
            uint32_t ip;
            if (f == 1 && i < nex / 2) { /* shared with f0 */
                ip = (uint32_t)p4[rnd() % 40000].net;
            } else {
                ip = (uint32_t)rnd();
                if (rnd() % 4) ip = busy[rnd() % 4] | (ip & (rnd() % 2 ? 0xffffff : 0xffff));
            }
            /* blocklist-sized prefixes (/16-/31); shorter ones only inside the busy /8s, so
             * that the /24 map is far from full and a wrong bit in it shows */
            unsigned plen = i < nex ? 32 : (unsigned)(16 + rnd() % 16);
            if (i >= nex && rnd() % 8 == 0) {
                plen = 8 + (unsigned)(rnd() % 8);
                ip = busy[rnd() % 4] | (ip & 0xffffff);
            }
            struct ipnet net = {.family = 4, .plen = (uint8_t)plen};
            ip &= (uint32_t)mask(32, plen);
            net.a[0] = (uint8_t)(ip >> 24), net.a[1] = (uint8_t)(ip >> 16), net.a[2] = (uint8_t)(ip >> 8), net.a[3] = (uint8_t)ip;
            char t[64];
            ioc_net_str(&net, t);
            add(fs[f], IOC_IP, t);
            p4[np++] = (struct pfx){ip, (uint8_t)plen, ID_MAKE(f, fs[f]->n - 1)};
        }
    }
    /* IPv6 in feed 2: exact, prefixes of any length, v4-mapped */
    for (unsigned i = 0; i < 3000; i++) {
        u128 a = (u128)0x20010db8u << 96 | (u128)(rnd() & 0xffff) << 80 | (u128)rnd();
        if (i % 10 == 0) a = (u128)0xffffu << 32 | (uint32_t)rnd();
        unsigned plen = i < 2500 ? 128 : (unsigned)(rnd() % 129);
        a &= mask(128, plen);
        struct ipnet net = {.family = 6, .plen = (uint8_t)plen};
        for (int b = 0; b < 16; b++) net.a[b] = (uint8_t)(a >> (8 * (15 - b)));
        char t[64];
        ioc_net_str(&net, t);
        unsigned f = i % 7 == 0 ? 1 : 2;
        add(fs[f], IOC_IP, t);
        p6[np6++] = (struct pfx){a, (uint8_t)plen, ID_MAKE(f, fs[f]->n - 1)};
    }
    struct matcher *m = build(fs, NF);
    assert_non_null(m->map4); /* past MAP4_MIN */
    qsort(p4, np, sizeof *p4, cmp_pfx);
    qsort(p6, np6, sizeof *p6, cmp_pfx);
    /* each indicator, its neighbours, each prefix's edges, and random addresses */
    for (unsigned i = 0; i < 25000; i++) {
        const struct pfx *x = &p4[rnd() % np];
        u128 hi = x->net | (~mask(32, x->plen) & 0xffffffffu);
        u128 q[] = {x->net, (x->net - 1) & 0xffffffffu, (hi + 1) & 0xffffffffu, hi, (uint32_t)rnd(),
                    busy[rnd() % 4] | (rnd() & 0xffffff)};
        for (size_t j = 0; j < sizeof q / sizeof *q; j++) check_ip(m, p4, np, 4, q[j]);
    }
    for (unsigned i = 0; i < 3000; i++) {
        const struct pfx *x = &p6[rnd() % np6];
        u128 hi = x->net | ~mask(128, x->plen);
        u128 q[] = {x->net, x->net - 1, hi + 1, hi, (u128)0x20010db8u << 96 | (u128)rnd()};
        for (size_t j = 0; j < sizeof q / sizeof *q; j++) check_ip(m, p6, np6, 6, q[j]);
    }
    matcher_free(m);
    for (unsigned f = 0; f < NF; f++) fs_unref(fs[f]);
    free(p4);
    free(p6);
}

/* ---- domains and strings against a reference, big enough for the Bloom filter ----------------- */
struct sref {
    const char *v;
    enum ioc_type t;
    uint32_t id;
};

static int cmp_sref(const void *x, const void *y)
{
    const struct sref *a = x, *b = y;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    int c = strcmp(a->v, b->v);
    return c ? c : (a->id < b->id ? -1 : a->id > b->id);
}

static size_t sref_find(const struct sref *r, size_t n, enum ioc_type t, const char *v)
{
    struct sref key = {v, t, 0};
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_sref(&r[mid], &key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

#define REF_MAX 4096
/* Reference domain walk: each suffix from the whole name up; a feed counts at its most
 * specific suffix. */
static unsigned ref_domain(const struct sref *r, size_t n, const char *name, uint32_t *out)
{
    uint64_t seen[2] = {0, 0};
    unsigned k = 0;
    for (const char *s = name; s; s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL) {
        uint64_t now[2] = {0, 0};
        for (size_t i = sref_find(r, n, IOC_DOMAIN, s); i < n && r[i].t == IOC_DOMAIN && !strcmp(r[i].v, s); i++) {
            uint32_t f = ID_FEED(r[i].id);
            if (seen[f >> 6] >> (f & 63) & 1 || k == REF_MAX) continue;
            now[f >> 6] |= 1ull << (f & 63);
            out[k++] = r[i].id;
        }
        seen[0] |= now[0];
        seen[1] |= now[1];
    }
    return k;
}

static void rand_label(char *o, unsigned lo, unsigned hi)
{
    unsigned n = lo + (unsigned)(rnd() % (hi - lo + 1));
    for (unsigned i = 0; i < n; i++) o[i] = (char)('a' + rnd() % 26);
    o[n] = 0;
}

static void test_strings_random(void **st)
{
    (void)st;
    enum { NF = 2, NDOM = 140000 };
    struct feedset *fs[NF] = {mkfeed("f0"), mkfeed("f1")};
    char (*dom)[64] = malloc(NDOM * sizeof *dom);
    assert_non_null(dom);
    for (unsigned i = 0; i < NDOM; i++) {
        char a[16], b[16];
        rand_label(a, 1, 8);
        rand_label(b, 1, 3);
        if (rnd() % 3 == 0) {
            char c[16];
            rand_label(c, 1, 6);
            snprintf(dom[i], sizeof dom[i], "%s.%s.%s", c, a, b);
        } else {
            snprintf(dom[i], sizeof dom[i], "%s.%s", a, b);
        }
        add(fs[0], IOC_DOMAIN, dom[i]);
    }
    /* feed 1: some of feed 0's names, parents of some, children of some, a 40-label name
     * (so that long names probe every suffix), URLs, hashes, user agents */
    for (unsigned i = 0; i < 20000; i++) {
        const char *d = dom[rnd() % NDOM];
        char t[128];
        switch (rnd() % 4) {
        case 0: add(fs[1], IOC_DOMAIN, d); break;
        case 1: add(fs[1], IOC_DOMAIN, strchr(d, '.') + 1); break;
        case 2: snprintf(t, sizeof t, "x%u.%s", i, d); add(fs[1], IOC_DOMAIN, t); break;
        default: snprintf(t, sizeof t, "%s/p%u?q=%u", d, i, i * 7); add(fs[1], IOC_URL, t);
        }
    }
    char longname[256] = "";
    for (int i = 0; i < 40; i++) strcat(longname, i ? ".l" : "l");
    add(fs[1], IOC_DOMAIN, longname);
    for (unsigned i = 0; i < 3000; i++) {
        char h[65];
        for (int j = 0; j < 64; j++) h[j] = "0123456789abcdef"[rnd() % 16];
        h[i % 2 ? 32 : 64] = 0;
        add(fs[i % 2], i % 2 ? IOC_MD5 : IOC_SHA256, h);
    }
    add(fs[0], IOC_UA, "Mozilla/4.0 (evil\\agent)");
    struct matcher *m = build(fs, NF);
    assert_non_null(m->filt); /* past FILT_MIN */
    size_t nr = 0;
    struct sref *r = malloc((fs[0]->n + fs[1]->n) * sizeof *r);
    assert_non_null(r);
    for (unsigned f = 0; f < NF; f++)
        for (uint32_t i = 0; i < fs[f]->n; i++)
            r[nr++] = (struct sref){fs_s(fs[f], fs[f]->ind[i].val), (enum ioc_type)fs[f]->ind[i].type, ID_MAKE(f, i)};
    qsort(r, nr, sizeof *r, cmp_sref);
    uint32_t got[64], want[REF_MAX];
    struct match_key k;
    char q[600];
    for (unsigned i = 0; i < 60000; i++) {
        const char *d = dom[rnd() % NDOM];
        switch (i % 6) {
        case 0: snprintf(q, sizeof q, "%s", d); break;
        case 1: snprintf(q, sizeof q, "www.%s", d); break;
        case 2: snprintf(q, sizeof q, "a.b.c.d.e.f.g.h.i.%s", d); break; /* more suffixes than a key holds */
        case 3: rand_label(q, 3, 12); strcat(q, ".com"); break;
        case 4: snprintf(q, sizeof q, "x.%s", longname); break;
        default: { /* 70 labels: past match_domain's label array */
            size_t o = 0;
            for (int j = 0; j < 70; j++) {
                if (j) q[o++] = '.';
                q[o++] = 'l';
            }
            snprintf(q + o, sizeof q - o, ".%s", d);
        }
        }
        unsigned n = match_domain(m, q, strlen(q), got, 64);
        match_key_domain(m, &k, q, strlen(q));
        same_as_key(m, &k, got, n);
        unsigned w = ref_domain(r, nr, q, want);
        qsort(got, n, sizeof *got, cmp_u32);
        qsort(want, w, sizeof *want, cmp_u32);
        if (w > 64) { /* a feed lists a parent many times: the answer is capped, a subset */
            assert_int_equal(n, 64);
            for (unsigned j = 0; j < n; j++) assert_non_null(bsearch(&got[j], want, w, sizeof *want, cmp_u32));
        } else if (n != w || memcmp(got, want, n * sizeof *got)) {
            fail_msg("%s: %u hits, the reference has %u", q, n, w);
        }
    }
    /* every URL, hash and user agent is found under its own type only; a changed one is not */
    for (size_t i = 0; i < nr; i++) {
        if (r[i].t == IOC_DOMAIN) continue;
        unsigned n = match_str(m, r[i].t, r[i].v, strlen(r[i].v), got, 64);
        assert_true(n >= 1);
        match_key_str(m, &k, r[i].t, r[i].v, strlen(r[i].v));
        same_as_key(m, &k, got, n);
        assert_int_equal(match_str(m, r[i].t == IOC_MD5 ? IOC_JA3 : IOC_EMAIL, r[i].v, strlen(r[i].v), got, 64), 0);
        snprintf(q, sizeof q, "%s", r[i].v);
        q[strlen(q) - 1] ^= 1;
        size_t j = sref_find(r, nr, r[i].t, q);
        if (j == nr || r[j].t != r[i].t || strcmp(r[j].v, q)) assert_int_equal(match_str(m, r[i].t, q, strlen(q), got, 64), 0);
    }
    matcher_free(m);
    fs_unref(fs[0]);
    fs_unref(fs[1]);
    free(r);
    free(dom);
}

/* ---- one value in many feeds --------------------------------------------------------------------- */
static void test_hit_lists(void **st)
{
    (void)st;
    enum { NF = 70 };
    struct feedset *fs[NF];
    char name[16];
    for (unsigned f = 0; f < NF; f++) {
        snprintf(name, sizeof name, "f%u", f);
        fs[f] = mkfeed(name);
        add(fs[f], IOC_IP, "1.2.3.4");
        add(fs[f], IOC_DOMAIN, "evil.com");
        add(fs[f], IOC_IP, "10.0.0.0/8");
        if (f < 10) add(fs[f], IOC_IP, "10.1.2.3");
        if (f == 3) add(fs[f], IOC_IP, "1.2.3.4"); /* twice in one feed */
    }
    struct matcher *m = build(fs, NF);
    uint32_t ids[64];
    /* an address: the 64 last ids, last first (f69 ... f7, f3 twice) */
    unsigned n = match_ip4(m, v4("1.2.3.4"), ids, 64);
    assert_int_equal(n, 64);
    assert_string_equal(m->fs[ID_FEED(ids[0])]->name, "f69");
    assert_string_equal(m->fs[ID_FEED(ids[62])]->name, "f7");
    assert_string_equal(m->fs[ID_FEED(ids[63])]->name, "f6");
    /* an address inside a prefix every feed has: its own feeds first, then the others' /8 */
    n = match_ip4(m, v4("10.1.2.3"), ids, 64);
    assert_int_equal(n, 64);
    assert_string_equal(m->fs[ID_FEED(ids[0])]->name, "f9");
    assert_string_equal(val_of(m, ids[0]), "10.1.2.3");
    assert_string_equal(m->fs[ID_FEED(ids[9])]->name, "f0");
    assert_string_equal(m->fs[ID_FEED(ids[10])]->name, "f69");
    assert_string_equal(val_of(m, ids[10]), "10.0.0.0/8");
    assert_string_equal(m->fs[ID_FEED(ids[63])]->name, "f16");
    /* a string: the 64 first ids, first first */
    n = match_domain(m, "a.evil.com", 10, ids, 64);
    assert_int_equal(n, 64);
    assert_string_equal(m->fs[ID_FEED(ids[0])]->name, "f0");
    assert_string_equal(m->fs[ID_FEED(ids[63])]->name, "f63");
    /* a small cap cuts the list */
    assert_int_equal(match_ip4(m, v4("1.2.3.4"), ids, 3), 3);
    matcher_free(m);
    for (unsigned f = 0; f < NF; f++) fs_unref(fs[f]);
}

/* ---- the IPv6 parser accepts what inet_pton accepts, and reads it alike ---------------------------- */
static void test_ip6_parser(void **st)
{
    (void)st;
    static const char *const cases[] = {
        "::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8", "1:::2",
        ":1", "1:", "1::2::3", "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:1.2.3.04", "::ffff:1.2.3", "::ffff:256.1.1.1", "12345::", "fffff::", "FFFF::AbCd", "1.2.3.4", "",
        ":", ":::", "::1.2.3.4.5", "::1.2.3.4:5", "fe80::1%eth0", "0:0:0:0:0:0:0:0", "0000:0000::00000",
    };
    uint8_t a[16], b[16];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int want = inet_pton(AF_INET6, cases[i], a) == 1;
        bool got = ioc_ip6(cases[i], strlen(cases[i]), b);
        if (want != got) fail_msg("'%s': inet_pton %d, ioc_ip6 %d", cases[i], want, got);
        if (want) assert_memory_equal(a, b, 16);
    }
    const char *al = "0123456789abcdefABCDEF:::::....";
    for (int it = 0; it < 300000; it++) {
        char s[48];
        size_t n;
        if (it % 2) { /* a real address with one byte changed */
            for (int j = 0; j < 16; j++) a[j] = rnd() % 3 ? (uint8_t)rnd() : 0;
            inet_ntop(AF_INET6, a, s, sizeof s);
            n = strlen(s);
            s[rnd() % n] = al[rnd() % strlen(al)];
        } else {
            n = 1 + rnd() % 40;
            for (size_t j = 0; j < n; j++) s[j] = al[rnd() % strlen(al)];
            s[n] = 0;
        }
        int want = inet_pton(AF_INET6, s, a) == 1;
        bool got = ioc_ip6(s, n, b);
        if (want != got) fail_msg("'%s': inet_pton %d, ioc_ip6 %d", s, want, got);
        if (want) assert_memory_equal(a, b, 16);
    }
}

/* ---- a list file read in chunks gives what the whole buffer gives -------------------------------- */
static void test_list_chunks(void **st)
{
    (void)st;
    char path[] = "/tmp/vakt-test-list-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    size_t total = 0;
    unsigned lines = 0, long_line = 0;
    fputs("# Aliases: one, two\n", fp);
    lines++;
    for (unsigned i = 0; total < (9u << 20); i++) { /* > 2 chunks, lines across their edges */
        char l[96];
        int k;
        if (i % 1000 == 999) k = snprintf(l, sizeof l, "# comment %u\r\n", i);
        else if (i % 3) k = snprintf(l, sizeof l, "10.%u.%u.%u  trailing words\n", i >> 16 & 255, i >> 8 & 255, i & 255);
        else k = snprintf(l, sizeof l, "host%u.example.com\r\n", i);
        fputs(l, fp);
        total += (size_t)k;
        lines++;
        if (i == 200000) { /* one line longer than a chunk: skipped, counted */
            for (int j = 0; j < (5 << 20); j++) fputc('x', fp);
            fputs("!\n", fp);
            long_line = ++lines;
        }
    }
    fputs("last.example.org", fp); /* no newline */
    lines++;
    fclose(fp);
    char err[512];
    struct feed_opts o = {.name = "chunks", .fmt = VK_ENRICH_LIST, .confidence = -1};
    struct feedset *f = feed_parse_path(path, &o, err, sizeof err);
    if (!f) fail_msg("%s", err);
    char *buf;
    size_t n;
    assert_int_equal(read_file(path, 64u << 20, &buf, &n, err, sizeof err), 0);
    struct feedset *g = feed_parse_mem(buf, n, strrchr(path, '/') + 1, &o, err, sizeof err);
    free(buf);
    assert_non_null(g);
    assert_int_equal(f->n, g->n);
    assert_int_equal(f->skipped, 1);
    assert_int_equal(g->skipped, 1);
    assert_string_equal(f->note, g->note);
    char want[64];
    snprintf(want, sizeof want, " line %u: skipped 'xxxx", long_line);
    if (!strstr(f->note, want)) fail_msg("note '%s' lacks '%s'", f->note, want);
    for (uint32_t i = 0; i < f->n; i++) {
        assert_int_equal(f->ind[i].type, g->ind[i].type);
        assert_string_equal(fs_s(f, f->ind[i].val), fs_s(g, g->ind[i].val));
    }
    assert_string_equal(fs_s(f, f->ind[f->n - 1].val), "last.example.org");
    assert_string_equal(fs_s(f, f->meta[f->ind[0].meta].desc), fs_s(g, g->meta[g->ind[0].meta].desc));
    assert_non_null(strstr(fs_s(f, f->meta[0].desc), "aliases: one, two"));
    assert_int_equal(f->n + f->skipped + lines / 1000, lines - 1); /* all but the alias line and comments */
    fs_unref(f);
    fs_unref(g);
    unlink(path);
}

/* ---- the cache: plain lines the quick way, escaped ones the long way, same result ---------------- */
static void test_cache_paths(void **st)
{
    (void)st;
    struct feedset *f = fs_new("c");
    assert_non_null(f);
    assert_int_equal(fs_meta(f, "c\tat", "d\\esc", "k\x1fv\x1e", 90, 1234), 0);
    for (unsigned i = 1; i < 12; i++) assert_int_equal(fs_meta(f, "cat", "desc", NULL, i, 0), i);
    const char *vals[] = {"1.2.3.4", "evil.com", "ua with\ttab", "ua with \\ backslash", "10.0.0.0/8", "x.org", "ua"};
    enum ioc_type types[] = {IOC_IP, IOC_DOMAIN, IOC_UA, IOC_UA, IOC_IP, IOC_DOMAIN, IOC_UA};
    for (unsigned i = 0; i < 7; i++) assert_int_equal(fs_add(f, types[i], vals[i], strlen(vals[i]), i % 12), 0);
    assert_int_equal(fs_add(f, IOC_DOMAIN, "metaeleven.com", 14, 11), 0);
    char path[] = "/tmp/vakt-test-cache-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char err[512];
    assert_int_equal(feed_cache_save(f, path, err, sizeof err), 0);
    struct feedset *g = feed_cache_load(path, "c", false, err, sizeof err);
    if (!g) fail_msg("%s", err);
    assert_int_equal(g->n, f->n);
    for (uint32_t i = 0; i < f->n; i++) {
        assert_int_equal(g->ind[i].type, f->ind[i].type);
        assert_string_equal(fs_s(g, g->ind[i].val), fs_s(f, f->ind[i].val));
        const struct fs_meta *a = &f->meta[f->ind[i].meta], *b = &g->meta[g->ind[i].meta];
        assert_string_equal(fs_s(g, b->cat), fs_s(f, a->cat));
        assert_string_equal(fs_s(g, b->desc), fs_s(f, a->desc));
        assert_int_equal(b->conf, a->conf);
        assert_int_equal(b->expires_ms, a->expires_ms);
    }
    /* lines the quick way refuses but the long way reads: an escape in the type, a '+' in
     * the meta number; and the errors keep their line numbers */
    FILE *fp = fopen(path, "w");
    fputs("#vakt-intel-cache 1\nm\t50\t0\tcat\tdesc\t\ni\tdom\\ain\t0\tescaped-type.com\ni\tdomain\t+0\tplus.com\n"
          "i\tdomain\t0\tplain.com\n", fp);
    fclose(fp);
    struct feedset *h = feed_cache_load(path, "c", false, err, sizeof err);
    if (!h) fail_msg("%s", err);
    assert_int_equal(h->n, 3);
    assert_string_equal(fs_s(h, h->ind[0].val), "escaped-type.com");
    assert_int_equal(h->ind[0].type, IOC_DOMAIN);
    assert_string_equal(fs_s(h, h->ind[1].val), "plus.com");
    fp = fopen(path, "w");
    fputs("#vakt-intel-cache 1\nm\t50\t0\tcat\tdesc\t\ni\tdomain\t0\tok.com\ni\tdomain\t1\tbad-meta.com\n", fp);
    fclose(fp);
    assert_null(feed_cache_load(path, "c", false, err, sizeof err));
    assert_non_null(strstr(err, "line 4: bad indicator line"));
    fp = fopen(path, "w");
    fputs("#vakt-intel-cache 1\nm\t50\t0\tcat\tdesc\t\ni\tdomain\t0\t\n", fp);
    fclose(fp);
    assert_null(feed_cache_load(path, "c", false, err, sizeof err));
    assert_non_null(strstr(err, "line 3: bad indicator line"));
    fs_unref(f);
    fs_unref(g);
    fs_unref(h);
    unlink(path);
}

/* Found by fuzz_feed: a CSV field with NUL bytes and a '*' was kept as a regex, stored as
 * "" (a C string), and its cache file then failed to load. Now the value is skipped. */
static void test_nul_value(void **st)
{
    (void)st;
    char buf[64] = {0};
    memcpy(buf + 54, "em`@u*", 6);
    char err[512];
    struct feed_opts o = {.name = "nul", .fmt = VK_ENRICH_CSV, .confidence = -1};
    struct feedset *f = feed_parse_mem(buf, 60, "nul.csv", &o, err, sizeof err);
    if (f) { /* (refusing the whole file would do too) */
        for (uint32_t i = 0; i < f->n; i++) assert_true(fs_s(f, f->ind[i].val)[0] != 0);
        char path[] = "/tmp/vakt-test-nul-XXXXXX";
        close(mkstemp(path));
        assert_int_equal(feed_cache_save(f, path, err, sizeof err), 0);
        struct feedset *g = feed_cache_load(path, "nul", false, err, sizeof err);
        if (!g) fail_msg("%s", err);
        assert_int_equal(g->n, f->n);
        fs_unref(g);
        fs_unref(f);
        unlink(path);
    }
    enum ioc_type t;
    char out[128];
    size_t n;
    t = ioc_classify("a\0b*", 4, IOC_NONE, out, sizeof out, &n);
    assert_int_equal(t, IOC_NONE);
    t = ioc_classify("Mozilla\0x", 9, IOC_UA, out, sizeof out, &n);
    assert_int_equal(t, IOC_NONE);
    t = ioc_classify("1.2.3.4\0junk", 12, IOC_NONE, out, sizeof out, &n); /* the text up to the NUL, as before */
    assert_int_equal(t, IOC_IP);
    assert_string_equal(out, "1.2.3.4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries),  cmocka_unit_test(test_ip_random),   cmocka_unit_test(test_strings_random),
        cmocka_unit_test(test_hit_lists),   cmocka_unit_test(test_ip6_parser),  cmocka_unit_test(test_list_chunks),
        cmocka_unit_test(test_cache_paths), cmocka_unit_test(test_nul_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
