/* cid.c — Community ID v1 (https://github.com/corelight/community-id-spec), seed 0.
 *
 * SHA-1 over seed, ordered addresses, protocol, a pad byte and ordered ports; ICMP types
 * stand in for ports, paired request/reply types mapped as the spec says so both sides of
 * an echo hash alike. Output "1:" + base64. */
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "flow_int.h"

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
    uint8_t d[SHA_DIGEST_LENGTH];
    SHA1(buf, n, d);
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, d, SHA_DIGEST_LENGTH);
}
