/* enrich_int.h — what the files of src/enrich share and nobody else sees.
 *
 * Three layers:
 *  - norm.c: turning text into indicator values (IP/CIDR, domain, URL, hash...), the same
 *    code for feed lines and for record values, so both sides normalise alike;
 *  - feed.c: parsers (CSV, plain lists, STIX 2.1, MISP, MISP warninglists) that fill a
 *    feedset (one feed's parsed indicators, immutable once built, refcounted), and the
 *    cache file (the parsed last good version of a feed, reloaded without re-parsing);
 *  - match.c: the matcher built from all feedsets of a data dir: exact addresses in hash
 *    tables, prefixes in an interval index (longest prefix per feed), one hash table for
 *    every string type (domains with parent walk, URLs, paths, hashes, JA3, user
 *    agents...), a few regexes.
 * enrich.c ties them to a data dir (registry, refresh, atomic swap, geo, assets). */
#ifndef VK_ENRICH_INT_H
#define VK_ENRICH_INT_H

#include <regex.h>
#include <string.h>
#include <stdatomic.h>

#include "vk_enrich.h"

/* Messages and names are cut to their buffers on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* ---- indicator types ----------------------------------------------------------------- */
enum ioc_type {
    IOC_NONE = 0,
    IOC_IP,       /* IPv4/IPv6 address or CIDR: "1.2.3.4", "10.0.0.0/8", "2001:db8::/32" */
    IOC_DOMAIN,   /* lower-case, no trailing dot; matches itself and every sub-domain */
    IOC_URL,      /* normalised "host[:port]/path[?query]" (scheme dropped, as http.uri) */
    IOC_PATH,     /* "/path" alone: matches any host (maltrail's path trails) */
    IOC_IPPORT,   /* "1.2.3.4:80", "[2001:db8::1]:443" */
    IOC_MD5,
    IOC_SHA1,
    IOC_SHA256,
    IOC_JA3,      /* 32 hex digits, matched against tls.ja3 */
    IOC_HASSH,    /* 32 hex digits, matched against ssh.hassh / ssh.hassh_server */
    IOC_UA,       /* exact user agent */
    IOC_EMAIL,    /* lower-case address */
    IOC_REGEX,    /* anchored POSIX ERE over domain names (maltrail's regex trails) */
    IOC_WL_STRING, /* warninglist "string": exact value of any type */
    IOC_WL_SUBSTR, /* warninglist "substring" */
    IOC__COUNT
};
const char *ioc_type_name(enum ioc_type t);
enum ioc_type ioc_type_parse(const char *s); /* "ip", "cidr", "domain", "md5"...; NONE if unknown */

/* ---- normalisation (norm.c) ---------------------------------------------------------- */
#define IOC_MAX 2048 /* longest indicator kept; longer values are refused */

struct ipnet {
    uint8_t family; /* 4 or 6 */
    uint8_t plen;   /* prefix length: 32/128 for a single address */
    uint8_t a[16];  /* network order; v4 in a[0..3] */
};
/* Parse "a.b.c.d", "a.b.c.d/n", IPv6 (with "/n"), "[v6]". Host bits under the mask are
 * cleared. O(n), no allocation. */
bool ioc_parse_ip(const char *s, size_t n, struct ipnet *out);
/* Fast dotted-quad parse for record values (no prefix; 1-3 digits a part). */
bool ioc_ip4(const char *s, size_t n, uint32_t *out);
/* IPv6 text (no prefix, no brackets), accepting exactly what inet_pton(AF_INET6) accepts,
 * without a copy or a NUL terminator. out: 16 bytes, network order. */
bool ioc_ip6(const char *s, size_t n, uint8_t out[16]);
/* Text of a net: "1.2.3.4" or "10.0.0.0/8" (RFC 5952 for v6). out >= 64 bytes. */
void ioc_net_str(const struct ipnet *n, char *out);
/* Domain: lower-case, strip a trailing dot and a leading "*." or "."; checks the
 * characters (letters, digits, '-', '_', '.', bytes >= 0x80). Returns the length or 0. */
size_t ioc_norm_domain(const char *s, size_t n, char *out, size_t cap);
/* URL (with or without scheme) to "host[:port]/path[?query]": scheme, user info and
 * fragment dropped, host lower-cased, default port (80, 443 for https, 21 for ftp)
 * dropped, %XX of unreserved characters decoded and other %xx upper-cased, empty path
 * "/". Returns the length or 0 when there is no host. *pathoff = offset of the path. */
size_t ioc_norm_url(const char *s, size_t n, char *out, size_t cap, size_t *pathoff);
/* Path alone ("/a/b"), same %-normalisation; the query is kept. Returns the length. */
size_t ioc_norm_path(const char *s, size_t n, char *out, size_t cap);
/* Classify and normalise one indicator. With hint IOC_NONE the type is guessed (IP,
 * CIDR, ip:port, URL, path, hash by length, e-mail, regex, domain); with a hint the
 * value must be of that type ("hash" hints pass IOC_MD5 and accept any hash length).
 * Returns the type (IOC_NONE when the value is not usable) and writes the normalised
 * text. A URL with no path and no query becomes its host (IP or domain). */
enum ioc_type ioc_classify(const char *s, size_t n, enum ioc_type hint, char *out, size_t cap,
                           size_t *outlen);
/* Lower-case hex check. */
bool ioc_is_hex(const char *s, size_t n);

/* ---- feedsets (feed.c) --------------------------------------------------------------- */
struct fs_meta {
    uint32_t cat, desc, extra; /* pool offsets (0 = ""); extra: "key\x1fvalue\x1e..." */
    uint8_t conf;              /* 0-100 */
    int64_t expires_ms;        /* 0 = never (STIX valid_until) */
};
struct fs_ind {
    uint32_t val;       /* pool offset of the normalised value */
    uint32_t meta : 24; /* index into meta[] (meta tuples <= indicators <= FS_MAX_IND) */
    uint32_t type : 8;  /* enum ioc_type */
};
struct feedset {
    char name[64];
    bool benign; /* a warninglist: suppresses, never reported */
    struct fs_ind *ind;
    uint32_t n, cap;
    struct fs_meta *meta;
    uint32_t nmeta, metacap;
    char *pool;
    size_t plen, pcap;
    /* interning of meta tuples while parsing (freed by fs_seal) */
    uint32_t *mhash;
    uint32_t mhcap;
    /* what the parser saw */
    uint64_t skipped;   /* lines/objects that held no usable indicator */
    uint64_t unsupported; /* STIX patterns / MISP types / warninglist regexes not handled */
    char note[256];     /* first skipped line, as a hint in status */
    atomic_uint refs;
};
#define FS_MAX_IND (1u << 24) /* indicators per feed (ids pack feed and index in 31 bits) */

struct feedset *fs_new(const char *name);
void fs_ref(struct feedset *f);
void fs_unref(struct feedset *f);
uint32_t fs_str(struct feedset *f, const char *s, size_t n); /* pool offset; 0 for "" */
/* Intern a meta tuple. Returns its index, or UINT32_MAX on ENOMEM. */
uint32_t fs_meta(struct feedset *f, const char *cat, const char *desc, const char *extra, unsigned conf,
                 int64_t expires_ms);
/* Add one normalised indicator; VK_ENOMEM past FS_MAX_IND. */
int fs_add(struct feedset *f, enum ioc_type t, const char *v, size_t n, uint32_t meta);
void fs_seal(struct feedset *f); /* drop parse-time state */
static inline const char *fs_s(const struct feedset *f, uint32_t off) { return f->pool + off; }

/* Parse options for one feed (from the registry). */
struct feed_opts {
    const char *name;
    enum vk_enrich_fmt fmt;
    const char *columns;  /* CSV column roles, NULL = header or default */
    const char *category; /* default category (list: the file name, else the feed name) */
    int confidence;       /* default confidence, -1 = per format */
    bool benign;
    int64_t now_ms;
};
/* Parse a feed from a file or directory (MISP feed dir, warninglist lists/). On error
 * returns NULL with "feed 'NAME': <where>: <what>" in err. */
struct feedset *feed_parse_path(const char *path, const struct feed_opts *o, char *err, size_t errlen);
struct feedset *feed_parse_mem(const char *buf, size_t n, const char *fname, const struct feed_opts *o,
                               char *err, size_t errlen);
/* The cache: a feedset in vakt's own TSV form (loads without re-parsing the source). */
int feed_cache_save(const struct feedset *f, const char *path, char *err, size_t errlen);
struct feedset *feed_cache_load(const char *path, const char *name, bool benign, char *err, size_t errlen);
/* Read a whole file (cap bytes at most). */
int read_file(const char *path, size_t cap, char **out, size_t *n, char *err, size_t errlen);

/* Large buffers (match.c). Page faults are a large part of loading millions of
 * indicators, so buffers of 2 MiB and more are mmap'ed with transparent huge pages asked
 * for (one fault per 2 MiB instead of per 4 KiB); smaller ones come from malloc. The
 * caller keeps the size: it picks the way back. big_calloc is zeroed and 64-byte aligned;
 * big_realloc keeps the contents (the grown tail is not zeroed). */
void *big_calloc(size_t n);
void *big_realloc(void *p, size_t old, size_t n);
void big_free(void *p, size_t n);

/* ---- the matcher (match.c) ----------------------------------------------------------- */
/* An id packs the feed (7 bits) and the indicator (24 bits). A "value" is 0 (no hit), id+1
 * (one hit) or HL_FLAG|offset into the hit-list pool (pool[off] = n, then n ids). */
#define ID_MAKE(feed, ind) ((uint32_t)(feed) << 24 | (uint32_t)(ind))
#define ID_FEED(id) ((id) >> 24)
#define ID_IND(id) ((id)&0xffffffu)
#define HL_FLAG 0x80000000u
#define MATCH_MAX_FEEDS 127

/* Interval index over IPv4 or IPv6 addresses: sorted boundary starts, the value in force
 * from each, and a first-level index on the top 16 bits. Lookup: one table read, then a
 * binary search among the boundaries of that /16 (a handful). */
typedef unsigned __int128 u128;
struct ipidx {
    int family;
    uint32_t n;
    struct ipb4 {
        uint32_t s, v; /* boundary start, value in force from it: one cache line holds both */
    } *b4;
    struct ipb6 {
        u128 s;
        uint32_t v;
    } *b6;
    struct iptop {
        uint32_t first; /* first boundary of this /16 */
        uint32_t base;  /* value in force at the start of this /16 */
    } *top;             /* 65537 */
};
struct iprange {
    u128 lo, hi;
    uint32_t id;
};
enum ipidx_mode { IPIDX_PERFEED, IPIDX_TOP, IPIDX_BOTTOM };
/* Build from ranges (any order; laminar: nested or disjoint, partial overlaps are cut).
 * PERFEED: value = hit list of the most specific range of each feed; TOP: the most
 * specific range's id+1; BOTTOM: the widest range's id+1. Equal ranges count in id order.
 * Sorts r in place (IPv4: LSD radix sort, O(n); IPv6: qsort). */
int ipidx_build(struct ipidx *x, int family, struct iprange *r, size_t n, enum ipidx_mode mode,
                uint32_t **pool, size_t *pool_len, size_t *pool_cap);
uint32_t ipidx_get4(const struct ipidx *x, uint32_t ip);
uint32_t ipidx_get6(const struct ipidx *x, u128 ip);
void ipidx_free(struct ipidx *x);
size_t ipidx_bytes(const struct ipidx *x);
u128 ip_u128(const uint8_t a[16]);

/* Open-addressing hash table of 64-byte buckets, one cache line each: 8 tags, then the 8
 * values of those slots. A value is never 0, so 0 marks a free slot; a key lives in its
 * home bucket or, when that one is full, in the next bucket with a free slot (buckets only
 * fill, so a lookup stops at the first bucket with a free slot). Load <= 3/4. A miss reads
 * one cache line (two when the home bucket is full); the tag rules out nearly every other
 * key without reading it. What the tag is depends on the table: the IPv4 address itself
 * (exact), or 32 bits of a 64-bit hash (checked against the value on a tag match). */
struct hbkt {
    uint32_t tag[8];
    uint32_t val[8];
};
struct htab {
    struct hbkt *b; /* mask + 1 buckets; a shared empty bucket when nothing is in it */
    uint64_t mask;
    uint32_t n;
};
uint64_t str_hash(enum ioc_type t, const char *s, size_t n);

struct matcher {
    struct feedset *fs[MATCH_MAX_FEEDS + 1]; /* index = feed id; refs held */
    unsigned nfs;
    /* IP: exact addresses (a /32 or /128, most IP indicators) in hash tables whose value
     * already merges the prefixes that cover them; shorter prefixes in interval indexes,
     * read only when the exact table misses. */
    struct htab ex4;  /* tag = the address */
    struct htab ex6;  /* tag = 32 bits of the address's hash */
    u128 *key6;       /* the address of each ex6 slot (bucket * 8 + slot) */
    struct ipidx v4, v6;
    struct htab st;   /* every string type, tag = 32 bits of str_hash */
    /* Filters small enough to stay in cache, so that most misses read no table at all
     * (NULL when the tables are small themselves). map4: 2 bits per IPv4 /24 (4 MiB):
     * bit 0 some exact address is in it, bit 1 some prefix touches it. filt: a blocked
     * Bloom filter (3 bits in one 64-bit word, ~6 bits per key) of every key of st and
     * ex6; a key is in word hash >> filt_shift. */
    uint64_t *map4;
    uint64_t *filt;
    unsigned filt_shift;
    size_t filt_words;
    uint32_t *pool; /* hit lists */
    size_t pool_len, pool_cap;
    struct mregex {
        regex_t re;
        char must[640]; /* literals one of which every match contains, NUL-separated, "" after the
                           last; "" first: none known (match.c regex_must) */
        bool gram4;     /* every literal has >= 4 bytes, and their first 4 are in rxgram */
        uint32_t id;
    } *rx;
    unsigned nrx;
    uint64_t rxgram[64]; /* bit rxgram_bit(g) for the first 4 bytes g of every regex literal: a
                            host name with none of them can skip every gram4 regex */
    uint32_t types;       /* bit per ioc_type present */
    uint32_t dom_labels;  /* bit k: some domain indicator has k labels (k < 32) */
    uint64_t count[MATCH_MAX_FEEDS + 1];      /* indicators in use per feed */
    uint64_t suppressed[MATCH_MAX_FEEDS + 1]; /* dropped by warninglists */
};
static inline unsigned rxgram_bit(const char *p)
{
    uint32_t g;
    memcpy(&g, p, 4);
    return (g * 0x9E3779B1u) >> 20; /* 12 bits */
}
#define MAP4_MIN 65536  /* IPv4 exact addresses + prefixes from which map4 is built */
#define FILT_MIN 131072 /* string + IPv6 keys from which filt is built */
/* Build from feedsets (benign ones suppress the others' indicators). Takes a ref on each. */
struct matcher *matcher_build(struct feedset **fs, unsigned n, char *err, size_t errlen);
void matcher_free(struct matcher *m);
size_t matcher_bytes(const struct matcher *m);

/* Lookups append ids to out (up to cap); they return the number appended. */
unsigned match_ip4(const struct matcher *m, uint32_t ip, uint32_t *out, unsigned cap);
unsigned match_ip6(const struct matcher *m, const uint8_t a[16], uint32_t *out, unsigned cap);
unsigned match_str(const struct matcher *m, enum ioc_type t, const char *s, size_t n, uint32_t *out,
                   unsigned cap);
/* Domain (normalised) and every parent; the most specific hit per feed. */
unsigned match_domain(const struct matcher *m, const char *s, size_t n, uint32_t *out, unsigned cap);
/* Lookups in two steps, for batches: match_key_* take a value as the calls above do, hash
 * it and prefetch the cache lines its lookup will read; match_key_run answers, exactly as
 * the call above would. Prepare a batch of keys, then run them: their memory reads overlap
 * instead of queueing one behind the other. A key points at its string (not copied): keep
 * it alive until the run. No allocation. */
#define MK_DOM_MAX 8 /* suffixes a domain key holds; names that need more run match_domain */
enum { MK_NONE, MK_IP4, MK_IP6, MK_STR, MK_DOM, MK_DOM_LONG };
struct match_key {
    uint8_t kind, type, nc; /* type: MK_STR's ioc_type; nc: MK_DOM's suffixes */
    uint32_t ip4;
    u128 ip6;
    const char *s;
    size_t n;
    uint64_t h[MK_DOM_MAX];   /* the value's hash, or each suffix's */
    uint32_t off[MK_DOM_MAX]; /* where each suffix starts */
};
void match_key_ip4(const struct matcher *m, struct match_key *k, uint32_t ip);
void match_key_ip6(const struct matcher *m, struct match_key *k, const uint8_t a[16]);
void match_key_str(const struct matcher *m, struct match_key *k, enum ioc_type t, const char *s, size_t n);
void match_key_domain(const struct matcher *m, struct match_key *k, const char *s, size_t n);
unsigned match_key_run(const struct matcher *m, const struct match_key *k, uint32_t *out, unsigned cap);
/* Value out of an id. */
static inline const struct fs_ind *match_ind(const struct matcher *m, uint32_t id)
{
    return &m->fs[ID_FEED(id)]->ind[ID_IND(id)];
}

#endif
