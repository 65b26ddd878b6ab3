/* norm.c — indicator values out of text: the one place that decides what an IP, a CIDR,
 * a domain, a URL or a hash looks like once normalised.
 *
 * Feed parsers and vk_enrich_apply both go through these functions, so an indicator and
 * a record value that mean the same thing end up as the same bytes. Everything works on
 * (pointer, length) of untrusted text, writes into a caller's buffer and allocates
 * nothing. */
#include <ctype.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "enrich_int.h"

static const char *const type_names[IOC__COUNT] = {
    [IOC_NONE] = "none",       [IOC_IP] = "ip",         [IOC_DOMAIN] = "domain", [IOC_URL] = "url",
    [IOC_PATH] = "path",       [IOC_IPPORT] = "ipport", [IOC_MD5] = "md5",       [IOC_SHA1] = "sha1",
    [IOC_SHA256] = "sha256",   [IOC_JA3] = "ja3",       [IOC_HASSH] = "hassh",   [IOC_UA] = "ua",
    [IOC_EMAIL] = "email",     [IOC_REGEX] = "regex",   [IOC_WL_STRING] = "string",
    [IOC_WL_SUBSTR] = "substring",
};

const char *ioc_type_name(enum ioc_type t)
{
    return (unsigned)t < IOC__COUNT ? type_names[t] : "none";
}

enum ioc_type ioc_type_parse(const char *s)
{
    static const struct {
        const char *n;
        enum ioc_type t;
    } alias[] = {
        {"cidr", IOC_IP},          {"ipv4", IOC_IP},          {"ipv6", IOC_IP},        {"ip-src", IOC_IP},
        {"ip-dst", IOC_IP},        {"hostname", IOC_DOMAIN},  {"host", IOC_DOMAIN},    {"fqdn", IOC_DOMAIN},
        {"uri", IOC_URL},          {"hash", IOC_MD5},         {"sha-1", IOC_SHA1},     {"sha-256", IOC_SHA256},
        {"user-agent", IOC_UA},    {"useragent", IOC_UA},     {"user_agent", IOC_UA},  {"email-addr", IOC_EMAIL},
        {"ip:port", IOC_IPPORT},   {"ip-port", IOC_IPPORT},
    };
    for (unsigned t = 1; t < IOC__COUNT; t++)
        if (strcasecmp(s, type_names[t]) == 0) return (enum ioc_type)t;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strcasecmp(s, alias[i].n) == 0) return alias[i].t;
    return IOC_NONE;
}

bool ioc_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return n > 0;
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#ifdef __SSE2__
/* The n (7-15) bytes of s in a vector, zero above n, read without touching s[n] or beyond:
 * two overlapping 8-byte loads (two 4-byte ones for n = 7). */
static inline __m128i load_short(const char *s, size_t n)
{
    uint64_t lo, hi = 0;
    if (n >= 8) {
        lo = load8(s);
        hi = (load8(s + n - 8) >> (8 * (15 - n))) >> 8; /* s[8..n) */
    } else {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        lo = a | (uint64_t)b << (8 * (n - 4)); /* the overlap ORs equal bytes */
    }
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* The digits' and the dots' positions as bit masks (two compares), then the four parts
 * from the dots' places, with no branch on the text: addresses have 1-3 digits per part
 * at random, and the branches of a digit-at-a-time parser mispredict on them (an IPv4
 * lookup against a cache-resident matcher, bench/intel.sh with INTEL_N=20000: ~34 ns
 * before, ~28 ns now). */
bool ioc_ip4(const char *s, size_t n, uint32_t *out)
{
    if (n < 7 || n > 15) return false;
    __m128i v = load_short(s, n), d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    unsigned dig = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    unsigned dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
    uint8_t b[19] = {0}; /* b[3 + i]: digit i; three zero bytes before the first */
    _mm_storeu_si128((__m128i *)(b + 3), d);
    unsigned r1 = dot & (dot - 1), r2 = r1 & (r1 - 1); /* dot without its lowest 1 and 2 bits */
    unsigned e[4] = {(unsigned)__builtin_ctz(dot | 1u << 16), (unsigned)__builtin_ctz(r1 | 1u << 16),
                     (unsigned)__builtin_ctz(r2 | 1u << 16), (unsigned)n}; /* where each part ends */
    bool ok = (dig | dot) == (1u << n) - 1 && r2 && !(r2 & (r2 - 1)); /* three dots */
    uint32_t ip = 0;
    for (int i = 0; i < 4; i++) { /* unrolled; e[i] <= 16, so b[e[i]..e[i]+2] is in bounds */
        unsigned len = e[i] - (i ? e[i - 1] + 1 : 0);
        unsigned x = b[e[i] + 2] + (b[e[i] + 1] * 10u & -(unsigned)(len >= 2)) + (b[e[i]] * 100u & -(unsigned)(len >= 3));
        ok &= len - 1 <= 2 && x <= 255;
        ip = ip << 8 | (x & 255);
    }
    if (!ok) return false;
    *out = ip;
    return true;
}
#else
/* One part of 1-3 digits at a time. */
bool ioc_ip4(const char *s, size_t n, uint32_t *out)
{
    if (n < 7 || n > 15) return false;
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (p == e || *p != '.') return false;
            p++;
        }
        unsigned d, v;
        if (p == e || (v = (unsigned)*p - '0') > 9) return false;
        p++;
        if (p < e && (d = (unsigned)*p - '0') <= 9) {
            v = v * 10 + d;
            p++;
            if (p < e && (d = (unsigned)*p - '0') <= 9) {
                v = v * 10 + d;
                p++;
                if (p < e && (unsigned)*p - '0' <= 9) return false; /* 4 digits */
            }
        }
        if (v > 255) return false;
        ip = ip << 8 | v;
    }
    if (p != e) return false;
    *out = ip;
    return true;
}
#endif

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Hex digit values; 16 for any other byte. */
static const uint8_t hex_val[256] = {
#define X16 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16
    X16, X16, X16,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,           /* 0x30 */
    16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0x40 */
    X16,
    16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0x60 */
    X16, X16, X16, X16, X16, X16, X16, X16, X16, /* 0x70-0xff */
#undef X16
};

/* Dotted quad as inet_pton reads it inside IPv6: 4 parts, no leading zeros. */
static bool ip4_strict(const char *s, size_t n, uint32_t *out)
{
    uint32_t ip = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || s[i++] != '.')) return false;
        size_t st = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - st < 3) v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == st || v > 255 || (s[st] == '0' && i - st > 1)) return false;
        ip = ip << 8 | v;
    }
    if (i != n) return false;
    *out = ip;
    return true;
}

bool ioc_ip6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    unsigned ng = 0;
    int gap = -1; /* group index where "::" stands */
    size_t i = 0;
    if (n < 2 || n > 45) return false;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        gap = 0;
        i = 2;
    }
    while (i < n) {
        size_t st = i;
        unsigned v = 0, d;
        while (i < n && i - st < 5 && (d = hex_val[(unsigned char)s[i]]) < 16) v = v << 4 | d, i++;
        if (i < n && s[i] == '.') { /* the last 32 bits as a dotted quad */
            uint32_t v4;
            if (ng > 6 || !ip4_strict(s + st, n - st, &v4)) return false;
            g[ng++] = (uint16_t)(v4 >> 16);
            g[ng++] = (uint16_t)v4;
            break;
        }
        if (i == st || i - st > 4 || ng == 8) return false;
        g[ng++] = (uint16_t)v;
        if (i == n) break;
        if (s[i++] != ':' || i == n) return false; /* a lone trailing ':' */
        if (s[i] == ':') {
            if (gap >= 0) return false;
            gap = (int)ng;
            i++;
        }
    }
    if (gap < 0 ? ng != 8 : ng > 7) return false;
    unsigned z = 8 - ng, k = 0; /* zero groups that "::" stands for */
    for (unsigned j = 0; j < 8; j++) {
        uint16_t w = gap >= 0 && j >= (unsigned)gap && j < (unsigned)gap + z ? 0 : g[k++];
        out[2 * j] = (uint8_t)(w >> 8);
        out[2 * j + 1] = (uint8_t)w;
    }
    return true;
}

/* Clear the host bits under the prefix. */
static void mask_net(struct ipnet *o)
{
    unsigned bytes = o->family == 4 ? 4 : 16, full = o->plen / 8;
    if (full >= bytes) return;
    if (o->plen % 8) o->a[full++] &= (uint8_t)(0xff00u >> (o->plen % 8));
    memset(o->a + full, 0, bytes - full);
}

/* Text up to the first NUL counts, as it did when this went through C strings. No copy. */
bool ioc_parse_ip(const char *s, size_t n, struct ipnet *out)
{
    if (n == 0 || n >= 64) return false;
    const char *z = memchr(s, 0, n);
    if (z) n = (size_t)(z - s);
    if (s[0] == '[') { /* "[v6]" */
        if (n < 2 || s[n - 1] != ']' || memchr(s, ']', n - 1)) return false;
        s++, n -= 2;
    }
    const char *slash = memchr(s, '/', n);
    long plen = -1;
    size_t an = n;
    if (slash) {
        an = (size_t)(slash - s);
        size_t pl = n - an - 1;
        if (pl == 0 || pl > 3) return false;
        plen = 0;
        for (size_t i = an + 1; i < n; i++) {
            if (s[i] < '0' || s[i] > '9') return false;
            plen = plen * 10 + (s[i] - '0');
        }
    }
    memset(out, 0, sizeof *out);
    uint32_t v4;
    if (ioc_ip4(s, an, &v4)) {
        if (plen > 32) return false;
        out->family = 4;
        out->plen = (uint8_t)(plen < 0 ? 32 : plen);
        out->a[0] = (uint8_t)(v4 >> 24);
        out->a[1] = (uint8_t)(v4 >> 16);
        out->a[2] = (uint8_t)(v4 >> 8);
        out->a[3] = (uint8_t)v4;
    } else if (memchr(s, ':', an) && ioc_ip6(s, an, out->a)) {
        if (plen > 128) return false;
        out->family = 6;
        out->plen = (uint8_t)(plen < 0 ? 128 : plen);
    } else {
        return false;
    }
    mask_net(out);
    return true;
}

void ioc_net_str(const struct ipnet *n, char *out)
{
    vk_ip_str(n->family, n->a, out);
    if (n->plen != (n->family == 4 ? 32 : 128)) sprintf(out + strlen(out), "/%u", n->plen);
}

static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Domain characters: the byte lower-cased, 0 when not allowed. */
static const unsigned char dom_chr[256] = {
    ['-'] = '-', ['.'] = '.', ['_'] = '_',
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
#define L(c) [c] = c, [c - 32] = c
    L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'), L('i'), L('j'), L('k'), L('l'), L('m'),
    L('n'), L('o'), L('p'), L('q'), L('r'), L('s'), L('t'), L('u'), L('v'), L('w'), L('x'), L('y'), L('z'),
#undef L
#define H8(b) [b] = b, [b + 1] = b + 1, [b + 2] = b + 2, [b + 3] = b + 3, [b + 4] = b + 4, [b + 5] = b + 5, [b + 6] = b + 6, [b + 7] = b + 7
#define H64(b) H8(b), H8(b + 8), H8(b + 16), H8(b + 24), H8(b + 32), H8(b + 40), H8(b + 48), H8(b + 56)
    H64(0x80), H64(0xc0),
#undef H64
#undef H8
};

#ifdef __SSE2__
/* 16 bytes of a name: lower-cased into *o; returns the mask of the allowed bytes and sets
 * *dots to the mask of the dots. Signed compares: bytes >= 0x80 are negative. */
static inline unsigned dom_chunk(__m128i v, __m128i *o, unsigned *dots)
{
#define IN(lo, hi) _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)((lo) - 1))), _mm_cmplt_epi8(v, _mm_set1_epi8((char)((hi) + 1))))
    __m128i up = IN('A', 'Z'), dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    __m128i ok = _mm_or_si128(_mm_or_si128(up, IN('a', 'z')), _mm_or_si128(IN('0', '9'), dot));
    ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
    ok = _mm_or_si128(ok, _mm_cmplt_epi8(v, _mm_setzero_si128()));
#undef IN
    *o = _mm_add_epi8(v, _mm_and_si128(up, _mm_set1_epi8(0x20)));
    *dots = (unsigned)_mm_movemask_epi8(dot);
    return (unsigned)_mm_movemask_epi8(ok);
}
#endif

/* Lower-cased; 0 for a byte that is not allowed or an empty label. 16 bytes at a time. */
size_t ioc_norm_domain(const char *s, size_t n, char *out, size_t cap)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.') s += 2, n -= 2;
    else if (n >= 1 && s[0] == '.') s++, n--;
    while (n && s[n - 1] == '.') n--;
    if (n == 0 || n >= cap || n > 1024) return 0;
#ifdef __SSE2__
    if (n >= 7 && cap >= 17) {
        __m128i o;
        unsigned dots, prev = 1; /* a dot "before" the name: a leading dot is an empty label */
        if (n < 16) {
            unsigned all = (1u << n) - 1, ok = dom_chunk(load_short(s, n), &o, &dots);
            if ((ok & all) != all || (dots & (dots << 1 | prev))) return 0;
            _mm_storeu_si128((__m128i *)out, o);
        } else {
            size_t i = 0;
            for (; i + 16 <= n; i += 16) {
                unsigned ok = dom_chunk(_mm_loadu_si128((const __m128i *)(s + i)), &o, &dots);
                if (ok != 0xffff || (dots & (dots << 1 | prev))) return 0;
                _mm_storeu_si128((__m128i *)(out + i), o);
                prev = dots >> 15;
            }
            if (i < n) { /* the last 16 bytes, overlapping: the pair across i is inside them */
                unsigned ok = dom_chunk(_mm_loadu_si128((const __m128i *)(s + n - 16)), &o, &dots);
                if (ok != 0xffff || (dots & dots << 1 & 0xffff)) return 0;
                _mm_storeu_si128((__m128i *)(out + n - 16), o);
            }
        }
        out[n] = 0;
        return n;
    }
#endif
    unsigned char prev = '.';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = dom_chr[(unsigned char)s[i]];
        if (c == 0 || (c == '.' && prev == '.')) return 0; /* not allowed, or an empty label */
        out[i] = (char)c;
        prev = c;
    }
    out[n] = 0;
    return n;
}

static bool unreserved(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Copy a path/query with %-normalisation; stops at '#'. Returns bytes written or SIZE_MAX
 * when out is too small. Output never outgrows input, so with room for it the plain
 * characters are copied a run at a time. */
static size_t pct_norm(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    bool roomy = n + 3 < cap; /* then "o + 3 >= cap" below can never hold */
    while (i < n) {
        if (roomy) {
            size_t r = i;
            while (r < n && s[r] != '%' && s[r] != '#') r++;
            memcpy(out + o, s + i, r - i);
            o += r - i;
            i = r;
            if (i == n) break;
        }
        char c = s[i];
        if (c == '#') break;
        if (o + 3 >= cap) return SIZE_MAX;
        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            unsigned v = (unsigned)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            if (unreserved(v)) {
                out[o++] = (char)v;
            } else {
                out[o++] = '%';
                out[o++] = (char)toupper((unsigned char)s[i + 1]);
                out[o++] = (char)toupper((unsigned char)s[i + 2]);
            }
            i += 3;
        } else {
            out[o++] = c;
            i++;
        }
    }
    out[o] = 0;
    return o;
}

size_t ioc_norm_path(const char *s, size_t n, char *out, size_t cap)
{
    if (n == 0 || s[0] != '/') return 0;
    size_t o = pct_norm(s, n, out, cap);
    return o == SIZE_MAX ? 0 : o;
}

/* One pass over the authority, one over the host, run copies for the path: O(n). */
size_t ioc_norm_url(const char *s, size_t n, char *out, size_t cap, size_t *pathoff)
{
    unsigned defport = 80;
    size_t i = 0;
    /* scheme: only when a ':' comes early */
    if (memchr(s, ':', n < 16 ? n : 16))
        for (size_t k = 0; k < n && k < 16; k++) {
            char c = s[k];
            if (c == ':' && k > 0 && k + 2 < n && s[k + 1] == '/' && s[k + 2] == '/') {
                if (k == 5 && strncasecmp(s, "https", 5) == 0) defport = 443;
                else if (k == 3 && strncasecmp(s, "ftp", 3) == 0) defport = 21;
                else if (k == 4 && strncasecmp(s, "http", 4) == 0) defport = 80;
                else defport = 0;
                i = k + 3;
                break;
            }
            if (!(isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.')) break;
        }
    /* authority [user@]host[:port]: its end, the host start (after the last '@') and the
     * first ':' after that */
    size_t aend = i, hs = i, colon = SIZE_MAX;
    for (; aend < n; aend++) {
        char c = s[aend];
        if (c == '/' || c == '?' || c == '#') break;
        if (c == '@') hs = aend + 1, colon = SIZE_MAX;
        else if (c == ':' && colon == SIZE_MAX) colon = aend;
    }
    size_t he, ps; /* host end, port start */
    if (hs < aend && s[hs] == '[') {
        const char *rb = memchr(s + hs, ']', aend - hs);
        if (rb == NULL) return 0;
        he = (size_t)(rb - s) + 1;
        ps = he;
    } else {
        he = colon == SIZE_MAX ? aend : colon;
        ps = he;
    }
    size_t hl = he - hs;
    while (hl && s[hs + hl - 1] == '.') hl--;
    if (hl == 0 || hl + 8 >= cap) return 0;
    size_t o = 0;
    for (size_t k = 0; k < hl; k++) {
        char c = lower(s[hs + k]);
        if ((unsigned char)c <= ' ' || c == '\\') return 0;
        out[o++] = c;
    }
    if (ps < aend && s[ps] == ':') {
        unsigned port = 0, digits = 0;
        for (size_t k = ps + 1; k < aend; k++) {
            if (s[k] < '0' || s[k] > '9' || digits >= 5) return 0;
            port = port * 10 + (unsigned)(s[k] - '0');
            digits++;
        }
        if (digits && port != defport) o += (size_t)snprintf(out + o, cap - o, ":%u", port);
    } else if (ps != aend) {
        return 0;
    }
    *pathoff = o;
    if (aend >= n || s[aend] == '#') {
        out[o++] = '/';
        out[o] = 0;
        return o;
    }
    if (s[aend] == '?') out[o++] = '/';
    size_t w = pct_norm(s + aend, n - aend, out + o, cap - o);
    if (w == SIZE_MAX) return 0;
    return o + w;
}

static bool regexish(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        switch (s[i]) {
        case '[': case ']': case '(': case ')': case '*': case '+': case '?':
        case '{': case '}': case '|': case '^': case '$': case '\\':
            return true;
        default:
            break;
        }
    return false;
}

/* "://" within the first 20 bytes (a scheme). */
static bool has_scheme(const char *s, size_t n)
{
    size_t lim = n < 20 ? n : 20;
    for (const char *c = memchr(s, ':', lim); c; c = memchr(c + 1, ':', lim - (size_t)(c + 1 - s)))
        if ((size_t)(c - s) + 3 <= lim && c[1] == '/' && c[2] == '/') return true;
    return false;
}

/* "1.2.3.4:80" or "[v6]:443" to the canonical "ip:port". */
static bool ipport(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    const char *colon = NULL;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (rb == NULL || (size_t)(rb - s) + 1 >= n || rb[1] != ':') return false;
        colon = rb + 1;
    } else {
        colon = memchr(s, ':', n);
        if (colon == NULL || memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) return false;
    }
    struct ipnet net;
    if (!ioc_parse_ip(s, (size_t)(colon - s), &net) || net.plen != (net.family == 4 ? 32 : 128)) return false;
    unsigned port = 0, digits = 0;
    for (const char *p = colon + 1; p < s + n; p++) {
        if (*p < '0' || *p > '9' || digits >= 5) return false;
        port = port * 10 + (unsigned)(*p - '0');
        digits++;
    }
    if (!digits || port > 65535 || cap < 80) return false;
    char ip[64];
    vk_ip_str(net.family, net.a, ip);
    *outlen = (size_t)snprintf(out, cap, net.family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
    return true;
}

static enum ioc_type as_net(const struct ipnet *net, char *out, size_t *outlen)
{
    ioc_net_str(net, out);
    *outlen = strlen(out);
    return IOC_IP;
}

/* A URL whose path is "/" and which has no query names its host. */
static enum ioc_type url_or_host(char *out, size_t len, size_t pathoff, size_t *outlen)
{
    if (len == pathoff + 1 && out[pathoff] == '/') {
        struct ipnet net;
        size_t hl = pathoff;
        const char *colon = NULL;
        if (out[0] != '[') colon = memchr(out, ':', hl);
        if (colon == NULL) {
            if (ioc_parse_ip(out, hl, &net)) return as_net(&net, out, outlen);
            char tmp[IOC_MAX];
            size_t dl = ioc_norm_domain(out, hl, tmp, sizeof tmp);
            if (dl) {
                memcpy(out, tmp, dl + 1);
                *outlen = dl;
                return IOC_DOMAIN;
            }
        } else {
            out[len - 1] = 0; /* host:port: an ip:port indicator when the host is an IP */
            char tmp[128];
            size_t tl;
            if (ipport(out, len - 1, tmp, sizeof tmp, &tl)) {
                memcpy(out, tmp, tl + 1);
                *outlen = tl;
                return IOC_IPPORT;
            }
            out[len - 1] = '/';
        }
    }
    *outlen = len;
    return IOC_URL;
}

static enum ioc_type classify(const char *s, size_t n, enum ioc_type hint, char *out, size_t cap, size_t *outlen);

/* A value whose normal form would hold a NUL is refused: stored as a C string it would be
 * cut there (a regex or user agent read from a CSV field, say), and no longer be itself. */
enum ioc_type ioc_classify(const char *s, size_t n, enum ioc_type hint, char *out, size_t cap,
                           size_t *outlen)
{
    enum ioc_type t = classify(s, n, hint, out, cap, outlen);
    return t != IOC_NONE && memchr(out, 0, *outlen) ? IOC_NONE : t;
}

static enum ioc_type classify(const char *s, size_t n, enum ioc_type hint, char *out, size_t cap, size_t *outlen)
{
    while (n && isspace((unsigned char)s[0])) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0 || n >= IOC_MAX || cap < 128) return IOC_NONE;
    struct ipnet net;
    size_t pathoff, len;
    switch (hint) {
    case IOC_NONE:
        if (ioc_parse_ip(s, n, &net)) return as_net(&net, out, outlen);
        if (ipport(s, n, out, cap, outlen)) return IOC_IPPORT;
        if (n >= 3 && has_scheme(s, n)) {
            len = ioc_norm_url(s, n, out, cap, &pathoff);
            return len ? url_or_host(out, len, pathoff, outlen) : IOC_NONE;
        }
        if (s[0] == '/') {
            *outlen = ioc_norm_path(s, n, out, cap);
            return *outlen ? IOC_PATH : IOC_NONE;
        }
        if ((n == 32 || n == 40 || n == 64) && ioc_is_hex(s, n)) {
            for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
            out[n] = 0;
            *outlen = n;
            return n == 32 ? IOC_MD5 : n == 40 ? IOC_SHA1 : IOC_SHA256;
        }
        if (memchr(s, '@', n) && !memchr(s, '/', n) && !regexish(s, n)) {
            for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
            out[n] = 0;
            *outlen = n;
            return IOC_EMAIL;
        }
        if (n > 2 && s[0] == '*' && s[1] == '.' && !regexish(s + 2, n - 2)) {
            *outlen = ioc_norm_domain(s, n, out, cap);
            return *outlen ? IOC_DOMAIN : IOC_NONE;
        }
        if (!memchr(s, '/', n) && regexish(s, n)) {
            memcpy(out, s, n);
            out[n] = 0;
            *outlen = n;
            return IOC_REGEX;
        }
        if (memchr(s, '/', n) || memchr(s, ':', n) || memchr(s, '?', n)) {
            len = ioc_norm_url(s, n, out, cap, &pathoff);
            return len ? url_or_host(out, len, pathoff, outlen) : IOC_NONE;
        }
        *outlen = ioc_norm_domain(s, n, out, cap);
        return *outlen ? IOC_DOMAIN : IOC_NONE;
    case IOC_IP:
        return ioc_parse_ip(s, n, &net) ? as_net(&net, out, outlen) : IOC_NONE;
    case IOC_IPPORT:
        return ipport(s, n, out, cap, outlen) ? IOC_IPPORT : IOC_NONE;
    case IOC_DOMAIN:
        *outlen = ioc_norm_domain(s, n, out, cap);
        return *outlen ? IOC_DOMAIN : IOC_NONE;
    case IOC_URL:
        len = ioc_norm_url(s, n, out, cap, &pathoff);
        return len ? url_or_host(out, len, pathoff, outlen) : IOC_NONE;
    case IOC_PATH:
        *outlen = ioc_norm_path(s, n, out, cap);
        return *outlen ? IOC_PATH : IOC_NONE;
    case IOC_MD5:
    case IOC_SHA1:
    case IOC_SHA256:
        if (!ioc_is_hex(s, n)) return IOC_NONE;
        if (hint == IOC_MD5 && n != 32 && n != 40 && n != 64) return IOC_NONE; /* "hash": any */
        if (hint == IOC_SHA1 && n != 40) return IOC_NONE;
        if (hint == IOC_SHA256 && n != 64) return IOC_NONE;
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return n == 32 ? IOC_MD5 : n == 40 ? IOC_SHA1 : IOC_SHA256;
    case IOC_JA3:
    case IOC_HASSH:
        if (n != 32 || !ioc_is_hex(s, n)) return IOC_NONE;
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return hint;
    case IOC_EMAIL:
        if (!memchr(s, '@', n)) return IOC_NONE;
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return IOC_EMAIL;
    case IOC_UA:
    case IOC_REGEX:
        memcpy(out, s, n);
        out[n] = 0;
        *outlen = n;
        return hint;
    case IOC_WL_STRING:
    case IOC_WL_SUBSTR:
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return hint;
    default:
        return IOC_NONE;
    }
}
