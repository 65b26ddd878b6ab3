/* cid.c — Community ID v1 (https://github.com/corelight/community-id-spec), seed 0.
 *
 * SHA-1 over seed, ordered addresses, protocol, a pad byte and ordered ports; ICMP types
 * stand in for ports, paired request/reply types mapped as the spec says so both sides of
 * an echo hash alike. Output "1:" + base64. */
#include <openssl/evp.h>

#include "flow_int.h"

/* SHA-1 (FIPS 180-4) of one short message (at most 55 bytes: a single block). OpenSSL's
 * SHA1() looks the digest up by name and allocates a context on every call, which costs
 * more than the hash itself for the ~40 bytes a Community ID covers; this is one
 * compression, no allocation, about 0.3 us. */
static uint32_t rol(uint32_t x, int n) { return x << n | x >> (32 - n); }

static void sha1_short(const uint8_t *msg, size_t n, uint8_t out[20])
{
    uint8_t blk[64] = {0};
    uint32_t w[80], h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    memcpy(blk, msg, n);
    blk[n] = 0x80;
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++) blk[63 - i] = (uint8_t)(bits >> (8 * i));
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
               (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5a827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
        else f = b ^ c ^ d, k = 0xca62c1d6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

/* ICMP (v4 and v6) request/reply pairs; one-way types hash with code as the second port. */
static int icmp_peer(bool v6, uint16_t type, bool *oneway)
{
    static const int v4[][2] = {{8, 0}, {0, 8}, {13, 14}, {14, 13}, {15, 16}, {16, 15},
                                {17, 18}, {18, 17}, {10, 9}, {9, 10}};
    static const int v6t[][2] = {{128, 129}, {129, 128}, {133, 134}, {134, 133}, {135, 136},
                                 {136, 135}, {130, 131}, {131, 130}, {144, 145}, {145, 144}};
    const int(*tab)[2] = v6 ? v6t : v4;
    for (int i = 0; i < 10; i++)
        if (tab[i][0] == type) {
            *oneway = false;
            return tab[i][1];
        }
    *oneway = true;
    return -1;
}

void vk_flow_community_id(int family, uint8_t proto, const uint8_t *saddr, const uint8_t *daddr,
                          uint16_t sport, uint16_t dport, char *out)
{
    size_t al = family == 6 ? 16 : 4;
    const uint8_t *a = saddr, *b = daddr;
    uint16_t ap = sport, bp = dport;
    bool ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
    bool oneway = false;
    out[0] = 0;
    if (proto == 1 || proto == 58) {
        /* Caller gives type in sport and code in dport for ICMP; ports are 0 in our key,
         * so the hash is over the addresses only when unknown. */
        int peer = icmp_peer(proto == 58, ap, &oneway);
        if (!oneway) bp = (uint16_t)peer;
    }
    int c = memcmp(a, b, al);
    if (!oneway && (c > 0 || (c == 0 && ap > bp))) {
        const uint8_t *tp = a;
        a = b;
        b = tp;
        uint16_t tq = ap;
        ap = bp;
        bp = tq;
    }
    uint8_t buf[2 + 32 + 2 + 4];
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    memcpy(buf + n, a, al);
    n += al;
    memcpy(buf + n, b, al);
    n += al;
    buf[n++] = proto;
    buf[n++] = 0;
    if (ports) {
        buf[n++] = (uint8_t)(ap >> 8);
        buf[n++] = (uint8_t)ap;
        buf[n++] = (uint8_t)(bp >> 8);
        buf[n++] = (uint8_t)bp;
    }
    uint8_t d[20];
    sha1_short(buf, n, d); /* n <= 40 */
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, d, 20);
}
