/* sig.c — payload signatures for protocols our nDPI (Debian's libndpi 4.2) does not know.
 *
 * Each entry of the table at the end is a small recogniser for one protocol's wire
 * format: header magic, length fields that must agree with the datagram (or the first
 * TCP segment), version and type fields in their legal ranges, records or frames that
 * must tile the payload exactly. None matches on addresses or on bytes that belong to one
 * capture. A match names the session in `service` with the protocol's name as newer nDPI
 * releases print it, lower-cased ("discord", "kafka"), except where Arkime has a parser of
 * its own: then Arkime's name, as the JSON contract wants (PTP is "ptp", not "ptpv2").
 *
 * Two parsers share the table: vk_proto_sig_udp and vk_proto_sig_tcp, probed after every
 * other parser. probe() answers 2 (content match) so that our real parsers, which answer
 * 3 when sure, win; data() adds `service` (and the host name a few protocols carry) for
 * the first payload and asks for nothing more. Formats too short to stand alone need one
 * of the protocol's registered ports as well (need_port).
 *
 * Cost: probe walks the table, O(entries + bytes of the payload) per call, for at most the
 * first few payloads of a session that no other parser claimed; nothing is allocated. */
#include "vk_proto.h"

/* ---- reading at an offset: peeks through a copy of the payload cursor -------------- */

static bool at_u8(struct vk_cur c, size_t off, uint8_t *v) { return vk_cur_skip(&c, off) && vk_cur_u8(&c, v); }
static bool at_u16be(struct vk_cur c, size_t off, uint16_t *v) { return vk_cur_skip(&c, off) && vk_cur_u16be(&c, v); }
static bool at_u24be(struct vk_cur c, size_t off, uint32_t *v) { return vk_cur_skip(&c, off) && vk_cur_u24be(&c, v); }
static bool at_u32be(struct vk_cur c, size_t off, uint32_t *v) { return vk_cur_skip(&c, off) && vk_cur_u32be(&c, v); }
static bool at_u32le(struct vk_cur c, size_t off, uint32_t *v) { return vk_cur_skip(&c, off) && vk_cur_u32le(&c, v); }

static bool at_eq(struct vk_cur c, size_t off, const void *lit, size_t n)
{
    struct vk_cur s;
    return vk_cur_skip(&c, off) && vk_cur_take(&c, n, &s) && memcmp(s.p, lit, n) == 0;
}
#define AT_LIT(c, off, lit) at_eq(c, off, lit, sizeof lit - 1)

static bool at_u64be(struct vk_cur c, size_t off, uint64_t *v)
{
    uint32_t hi, lo;
    if (!at_u32be(c, off, &hi) || !at_u32be(c, off + 4, &lo)) return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static bool all_zero(struct vk_cur c)
{
    uint8_t b;
    while (vk_cur_u8(&c, &b))
        if (b) return false;
    return true;
}

static bool printable(struct vk_cur c)
{
    uint8_t b;
    while (vk_cur_u8(&c, &b))
        if (b < 0x20 || b > 0x7e) return false;
    return true;
}

/* A DNS-style host name: letters, digits, '-', '.', '_'; 1..255 bytes. */
static bool hostname(struct vk_cur c)
{
    size_t n = vk_cur_left(&c);
    uint8_t b;
    if (n == 0 || n > 255) return false;
    while (vk_cur_u8(&c, &b))
        if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-' ||
              b == '.' || b == '_'))
            return false;
    return true;
}

/* ---- UDP recognisers ----------------------------------------------------------------- */

/* Discord voice (discord.com developer docs, "IP Discovery"): a 74-byte datagram, type 1
 * (request) or 2 (response), length 70, SSRC, a 64-byte NUL-padded address, a port. The
 * RTC latency ping is 8 bytes opening with 0x1337cafe. */
static bool m_discord(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint16_t type, len;
    uint32_t magic;
    uint8_t b = 1;
    if (n == 8) return at_u32be(p, 0, &magic) && magic == 0x1337cafe;
    if (n != 74 || !at_u16be(p, 0, &type) || !at_u16be(p, 2, &len)) return false;
    if ((type != 1 && type != 2) || len != 70) return false;
    struct vk_cur addr, text;
    if (!vk_cur_skip(&p, 8) || !vk_cur_take(&p, 64, &addr)) return false;
    text = addr;
    while (vk_cur_left(&addr) > 0 && at_u8(addr, 0, &b) && b != 0) vk_cur_skip(&addr, 1);
    text.end = addr.p;                      /* the text before the first NUL */
    return printable(text) && all_zero(addr) && (type == 1 || vk_cur_left(&text) > 0);
}

/* OICQ, Tencent QQ's UDP protocol: STX 0x02, version, command, sequence ... ETX 0x03.
 * Commands are 0x0001..0x00b5, or 0x03f7. */
static bool m_oicq(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t stx, etx;
    uint16_t ver, cmd;
    if (n < 12 || !at_u8(p, 0, &stx) || !at_u8(p, n - 1, &etx) || stx != 0x02 || etx != 0x03) return false;
    if (!at_u16be(p, 1, &ver) || !at_u16be(p, 3, &cmd) || ver == 0) return false;
    return (cmd >= 0x0001 && cmd <= 0x00b5) || cmd == 0x03f7;
}

/* Agora SD-RTN: a join carries the edge name in a "\x04SNI" field: type 0x21 at 6,
 * the field tag at 12, a 16-bit name length at 16, a zero byte, the host name. */
static bool sdrtn_sni(struct vk_cur p, struct vk_cur *name)
{
    uint8_t type, zero;
    uint16_t len;
    if (!at_u8(p, 6, &type) || type != 0x21 || !AT_LIT(p, 12, "\x04SNI") || !at_u16be(p, 16, &len) ||
        !at_u8(p, 18, &zero) || zero != 0)
        return false;
    struct vk_cur c = p;
    return vk_cur_skip(&c, 19) && vk_cur_take(&c, len, name) && hostname(*name);
}

static bool m_sdrtn(struct vk_cur p)
{
    struct vk_cur name;
    return sdrtn_sni(p, &name);
}

static void f_sdrtn(struct vk_cur p, struct vk_meta *m)
{
    struct vk_cur name;
    if (sdrtn_sni(p, &name))
        vk_meta_add_lower(m, VK_K_ALIAS_HOST, (const char *)name.p, vk_cur_left(&name));
}

/* Valve's Source Engine server queries (A2S, developer.valvesoftware.com "Server
 * queries"): the single-packet header 0xFFFFFFFF, then a type byte. A2S_INFO carries
 * "Source Engine Query"; A2S_PLAYER/A2S_RULES and the challenge reply carry 4 bytes. */
static bool m_source_engine(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint32_t head;
    uint8_t type;
    if (!at_u32be(p, 0, &head) || head != 0xffffffff || !at_u8(p, 4, &type)) return false;
    switch (type) {
    case 'T': return (n == 25 || n == 29) && AT_LIT(p, 5, "Source Engine Query\0");
    case 'U': case 'V': case 'A': return n == 9;
    case 'I': case 'D': case 'E': return n > 30;
    default: return false;
    }
}

/* Tuya's LAN protocol (tuya-iotos-embeded-sdk lan_protocol.h): prefix 0x000055AA,
 * sequence, command, length of what follows (return code, data, CRC, suffix), suffix
 * 0x0000AA55. */
static bool m_tuyalp(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint32_t pre, len, suf;
    return n >= 24 && at_u32be(p, 0, &pre) && pre == 0x000055aa && at_u32be(p, 12, &len) &&
           len == n - 16 && at_u32be(p, n - 4, &suf) && suf == 0x0000aa55;
}

/* TP-Link Smart Home: JSON enciphered with an autokey XOR (key 171, then each cipher
 * byte). The plain text must open with '{' and '"' (or be "{}") and stay printable. */
static bool tplink_json(struct vk_cur p)
{
    size_t n = vk_cur_left(&p), i = 0;
    uint8_t k = 171, b, first = 0, second = 0;
    if (n < 2) return false;
    while (i < 64 && vk_cur_u8(&p, &b)) {
        uint8_t plain = b ^ k;
        k = b;
        if (i == 0) first = plain;
        if (i == 1) second = plain;
        if (plain < 0x20 || plain > 0x7e) return false;
        i++;
    }
    return first == '{' && (second == '"' || second == '}');
}

static bool m_tplink_udp(struct vk_cur p) { return tplink_json(p); }

/* RakNet (wiki.vg Raknet_Protocol). Offline messages carry the 16-byte magic at a fixed
 * offset and have fixed sizes; frame sets and ACK/NACKs must tile the datagram. */
static const char raknet_magic[] = "\x00\xff\xff\x00\xfe\xfe\xfe\xfe\xfd\xfd\xfd\xfd\x12\x34\x56\x78";

/* A frame set: id 0x80..0x8d, 24-bit sequence number, frames (flags, length in bits,
 * indexes by reliability, split info, body) that tile the datagram. The first body must
 * open with one of RakNet's own connected messages (ping, pong, connection request and
 * accept, new incoming connection, disconnect): RTP's first byte shares this range. */
static bool raknet_frames(struct vk_cur c)
{
    int frames = 0;
    vk_cur_skip(&c, 4);                     /* id, 24-bit sequence number */
    while (vk_cur_left(&c) > 0) {
        uint8_t flags, msg;
        uint16_t bits;
        if (!vk_cur_u8(&c, &flags) || !vk_cur_u16be(&c, &bits) || (flags & 0x0f) || bits == 0) return false;
        unsigned r = flags >> 5;
        size_t skip = 0;
        if (r == 2 || r == 3 || r == 4 || r == 6 || r == 7) skip += 3; /* reliable index */
        if (r == 1 || r == 4) skip += 3;                               /* sequenced index */
        if (r == 1 || r == 3 || r == 4 || r == 7) skip += 4;           /* order index, channel */
        if (flags & 0x10) skip += 10;                                  /* split info */
        if (!vk_cur_skip(&c, skip) || !at_u8(c, 0, &msg) || !vk_cur_skip(&c, (bits + 7u) / 8u)) return false;
        if (frames++ == 0 && !(flags & 0x10) && msg != 0x00 && msg != 0x03 && msg != 0x04 && msg != 0x09 &&
            msg != 0x10 && msg != 0x13 && msg != 0x15)
            return false;
    }
    return frames > 0;
}

/* ACK/NACK: a record count, then records (0: range of two 24-bit LE numbers, start <=
 * end; 1: a single number) that tile the datagram. */
static bool raknet_acks(struct vk_cur c)
{
    uint16_t count;
    vk_cur_skip(&c, 1);
    if (!vk_cur_u16be(&c, &count) || count == 0 || count > 512) return false;
    for (unsigned i = 0; i < count; i++) {
        uint8_t single;
        if (!vk_cur_u8(&c, &single) || single > 1) return false;
        if (single) {
            if (!vk_cur_skip(&c, 3)) return false;
            continue;
        }
        uint16_t lo0, lo1;
        uint8_t hi0, hi1;
        if (!vk_cur_u16le(&c, &lo0) || !vk_cur_u8(&c, &hi0) || !vk_cur_u16le(&c, &lo1) || !vk_cur_u8(&c, &hi1))
            return false;
        if (((uint32_t)hi0 << 16 | lo0) > ((uint32_t)hi1 << 16 | lo1)) return false;
    }
    return vk_cur_left(&c) == 0;
}

static bool m_raknet(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t id, b;
    uint16_t len;
    if (!at_u8(p, 0, &id)) return false;
    switch (id) {
    case 0x01: case 0x02: return n == 33 && at_eq(p, 9, raknet_magic, 16);   /* unconnected ping */
    case 0x05: return n >= 18 && at_eq(p, 1, raknet_magic, 16) && at_u8(p, 17, &b) && b <= 20;
    case 0x06: return n == 28 && at_eq(p, 1, raknet_magic, 16);              /* open reply 1 */
    case 0x07: return at_eq(p, 1, raknet_magic, 16) && at_u8(p, 17, &b) &&
                      ((b == 4 && n == 34) || (b == 6 && (n == 46 || n == 56)));
    case 0x08: return at_eq(p, 1, raknet_magic, 16) && at_u8(p, 25, &b) &&
                      ((b == 4 && n == 35) || (b == 6 && (n == 47 || n == 57)));
    case 0x19: return n == 26 && at_eq(p, 2, raknet_magic, 16);              /* incompatible */
    case 0x1c: return n > 35 && at_eq(p, 17, raknet_magic, 16) && at_u16be(p, 33, &len) && len == n - 35;
    case 0xa0: case 0xc0: return raknet_acks(p);
    default: return id >= 0x80 && id <= 0x8d && n >= 7 && raknet_frames(p);
    }
}

/* RIPE Atlas UDP measurements send the text "MGLNDD_<address>_<port>". */
static bool m_ripeatlas(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    struct vk_cur rest = p;
    uint8_t b;
    if (n < 12 || n > 64 || !AT_LIT(p, 0, "MGLNDD_")) return false;
    vk_cur_skip(&rest, 7);
    int sep = 0;
    while (vk_cur_u8(&rest, &b)) {
        if (b == '_') sep++;
        else if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') || b == '.' ||
                   b == ':'))
            return false;
    }
    return sep == 1;
}

/* Riot Games' latency probes end with the fill 0xaaaaaaaa 0xbbbbbbbb. */
static bool m_riotgames(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint32_t a, b;
    return n >= 16 && at_u32be(p, n - 8, &a) && at_u32be(p, n - 4, &b) && a == 0xaaaaaaaa && b == 0xbbbbbbbb;
}

/* KCP (skywind3000/kcp): segments of a 24-byte little-endian header (conv, cmd 81..84,
 * frg, wnd, ts, sn, una, len) and len bytes; they tile the datagram, all with one conv. */
static bool m_kcp(struct vk_cur p)
{
    uint32_t conv0 = 0;
    int segs = 0;
    while (vk_cur_left(&p) > 0) {
        uint32_t conv, len;
        uint8_t cmd;
        if (!vk_cur_u32le(&p, &conv) || !vk_cur_u8(&p, &cmd) || cmd < 81 || cmd > 84) return false;
        if (segs && conv != conv0) return false;
        conv0 = conv;
        if (!vk_cur_skip(&p, 15) || !vk_cur_u32le(&p, &len) || !vk_cur_skip(&p, len)) return false;
        segs++;
    }
    return segs > 0;
}

/* ZUG (Casper consensus): 16-bit length of the datagram, "UG", version 0x10. */
static bool m_zug(struct vk_cur p)
{
    uint16_t len;
    uint8_t ver;
    return at_u16be(p, 0, &len) && len == vk_cur_left(&p) && AT_LIT(p, 2, "UG") && at_u8(p, 4, &ver) && ver == 0x10;
}

/* Roughtime (draft-ietf-ntp-roughtime): a tag-value message — number of tags N, N-1
 * value offsets (multiples of 4, non-decreasing, inside the message), N tags in strictly
 * increasing order; a request or a reply has at least two. IETF drafts put "ROUGHTIM"
 * and a length before it. */
static bool m_roughtime(struct vk_cur p)
{
    uint32_t len, ntags;
    if (AT_LIT(p, 0, "ROUGHTIM")) {
        if (!at_u32le(p, 8, &len) || len != vk_cur_left(&p) - 12) return false;
        vk_cur_skip(&p, 12);
    }
    size_t n = vk_cur_left(&p);
    if (!vk_cur_u32le(&p, &ntags) || ntags < 2 || ntags > 64 || n % 4) return false;
    size_t hdr = 4 + 8 * (size_t)ntags - 4;
    if (hdr > n) return false;
    uint32_t prev = 0;
    for (uint32_t i = 1; i < ntags; i++) {
        uint32_t off = 0;
        if (!vk_cur_u32le(&p, &off) || off % 4 || off < prev || off > n - hdr) return false;
        prev = off;
    }
    uint32_t last = 0;
    for (uint32_t i = 0; i < ntags; i++) {
        uint32_t tag = 0;
        if (!vk_cur_u32le(&p, &tag) || (i && tag <= last)) return false;
        last = tag;
        /* "SIG\0", "NONC", "PAD\xff": an upper-case letter, then letters or padding */
        if ((tag & 0xff) < 'A' || (tag & 0xff) > 'Z') return false;
        for (int s = 8; s < 32; s += 8) {
            uint8_t c = (uint8_t)(tag >> s);
            if (!((c >= 'A' && c <= 'Z') || c == 0 || c == 0xff)) return false;
        }
    }
    return true;
}

/* RMCP (DMTF ASF, IPMI v1.5/v2.0 over UDP 623): version 6, reserved 0, sequence, class.
 * ASF messages carry IANA enterprise 4542; IPMI sessions carry a message length that
 * must match the datagram. */
static bool m_rmcp(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t ver, res, cls, auth, mlen;
    uint32_t iana;
    uint16_t plen;
    if (!at_u8(p, 0, &ver) || !at_u8(p, 1, &res) || !at_u8(p, 3, &cls) || ver != 6 || res != 0) return false;
    switch (cls & 0x1f) {
    case 6: return n >= 12 && at_u32be(p, 4, &iana) && iana == 4542;
    case 7:
        if (!at_u8(p, 4, &auth)) return false;
        if (auth == 6) { /* RMCP+: payload type, session id, sequence, 16-bit LE length */
            struct vk_cur c = p;
            return vk_cur_skip(&c, 14) && vk_cur_u16le(&c, &plen) && plen == vk_cur_left(&c);
        }
        if (auth > 5 || auth == 3) return false;
        size_t at = auth ? 29 : 13; /* after session sequence and id, and a 16-byte auth code */
        return at_u8(p, at, &mlen) && (size_t)mlen == n - at - 1;
    default: return false;
    }
}

/* SOME/IP (AUTOSAR): message id, length of the rest (>= 8), request id, protocol
 * version 1, interface version, a defined message type, return code <= 0x3f; messages
 * tile the datagram. (Over TCP the same header is too weak a signature on its own.) */
static bool m_someip(struct vk_cur p)
{
    int msgs = 0;
    while (vk_cur_left(&p) > 0) {
        uint32_t len;
        uint8_t proto, type, rc;
        if (!at_u32be(p, 4, &len) || len < 8 || !at_u8(p, 12, &proto) || !at_u8(p, 14, &type) ||
            !at_u8(p, 15, &rc) || proto != 1 || rc > 0x3f)
            return false;
        switch (type & ~0x20) { /* 0x20: the TP (segmented) flag */
        case 0x00: case 0x01: case 0x02: case 0x80: case 0x81: break;
        default: return false;
        }
        msgs++;
        if (!vk_cur_skip(&p, 8) || !vk_cur_skip(&p, len)) return false;
    }
    return msgs > 0;
}

/* LDP (RFC 5036): version 1, PDU length (the rest), LSR id, label space; then a message
 * of a defined type whose length fits the PDU. */
static bool ldp_pdu(struct vk_cur p, bool whole)
{
    size_t n = vk_cur_left(&p);
    uint16_t ver, plen, type, mlen;
    if (!at_u16be(p, 0, &ver) || !at_u16be(p, 2, &plen) || ver != 1 || plen < 10 + 4) return false;
    if (whole ? plen != n - 4 : (size_t)plen + 4 > n) return false;
    if (!at_u16be(p, 10, &type) || !at_u16be(p, 12, &mlen) || (size_t)mlen + 4 > (size_t)plen - 6) return false;
    switch (type & 0x7fff) {
    case 0x0001: case 0x0100: case 0x0200: case 0x0201: case 0x0300: case 0x0301:
    case 0x0400: case 0x0401: case 0x0402: case 0x0403: case 0x0404: return true;
    default: return false;
    }
}

static bool m_ldp_udp(struct vk_cur p) { return ldp_pdu(p, true); }

/* PTPv2 (IEEE 1588-2008 §13.3): message type in the low nibble of byte 0, versionPTP 2
 * in the low nibble of byte 1, messageLength (the message, which UDP may pad by a few
 * bytes), domain, minor version 0 or 1, flags, correction, and four reserved zero bytes. */
static bool m_ptpv2(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t t, v, minor;
    uint16_t len;
    uint32_t reserved;
    if (!at_u8(p, 0, &t) || !at_u8(p, 1, &v) || !at_u16be(p, 2, &len) || !at_u8(p, 5, &minor) ||
        !at_u32be(p, 16, &reserved))
        return false;
    switch (t & 0x0f) {
    case 0x0: case 0x1: case 0x2: case 0x3: case 0x8: case 0x9: case 0xa: case 0xb: case 0xc: case 0xd: break;
    default: return false;
    }
    return (v & 0x0f) == 2 && minor <= 1 && reserved == 0 && len >= 34 && len <= n && n - len <= 8;
}

/* DTLS (RFC 6347, 9147): records of content type 20..25, a DTLS version (1.0, 1.2, 1.3's
 * legacy, or OpenSSL's pre-RFC 0x0100), epoch, 48-bit sequence number and a length;
 * records tile the datagram. */
static bool m_dtls(struct vk_cur p)
{
    int recs = 0;
    while (vk_cur_left(&p) > 0) {
        uint8_t type;
        uint16_t ver, len;
        if (!vk_cur_u8(&p, &type) || type < 20 || type > 25 || !vk_cur_u16be(&p, &ver)) return false;
        if (ver != 0xfeff && ver != 0xfefd && ver != 0xfefc && ver != 0x0100) return false;
        if (!vk_cur_skip(&p, 8) || !vk_cur_u16be(&p, &len) || len == 0 || !vk_cur_skip(&p, len)) return false;
        recs++;
    }
    return recs > 0;
}

/* OpenVPN control channel, first packet of a session (openvpn ssl.h, "protocol.h"): an
 * opcode byte (key id 0), the 8-byte session id, then either nothing, a tls-auth block
 * (HMAC, packet id 1, time) or tls-crypt's (packet id 1, time, 32-byte tag, sealed rest),
 * and the reliability layer: the client's hard reset acknowledges nothing, the server's
 * acknowledges packet 0 of the client's session; both carry message packet id 0. */
static bool openvpn_pkt(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t op, acks;
    uint32_t v;
    if (!at_u8(p, 0, &op)) return false;
    size_t rel;                                             /* reliability layer size */
    if (op == 7 << 3 || op == 10 << 3) rel = 1 + 4;         /* hard reset client v2/v3 */
    else if (op == 8 << 3) rel = 1 + 4 + 8 + 4;             /* hard reset server v2 */
    else return false;
    if (n < 9 + rel) return false;
    size_t extra = n - 9 - rel;
    if (extra == 8 + 32 && at_u32be(p, 9, &v) && v == 1) /* tls-crypt: packet id 1 first */
        return true;
    if (extra != 0 && extra != 16 + 8 && extra != 20 + 8 && extra != 32 + 8 && extra != 64 + 8) return false;
    if (extra && !(at_u32be(p, 9 + extra - 8, &v) && v == 1)) return false;
    size_t r = 9 + extra;
    if (!at_u8(p, r, &acks) || !at_u32be(p, n - 4, &v) || v != 0) return false;
    if (op == 8 << 3) return acks == 1 && at_u32be(p, r + 1, &v) && v == 0;
    return acks == 0;
}

static bool m_openvpn_udp(struct vk_cur p) { return openvpn_pkt(p); }

/* Photon (Exit Games' realtime UDP framing), which nDPI names after Toca Boca, its best
 * known user: peer id, CRC flag 0, command count, sent time, challenge; then that many
 * commands (type 1..12, channel, flags, reserved, length including their 12-byte header)
 * that tile the datagram. */
static bool m_photon(struct vk_cur p)
{
    uint8_t crc, count;
    if (!at_u8(p, 2, &crc) || !at_u8(p, 3, &count) || crc != 0 || count == 0 || !vk_cur_skip(&p, 12))
        return false;
    for (unsigned i = 0; i < count; i++) {
        uint8_t type;
        uint32_t len;
        if (!at_u8(p, 0, &type) || type < 1 || type > 12 || !at_u32be(p, 4, &len) || len < 12 ||
            !vk_cur_skip(&p, len))
            return false;
    }
    return vk_cur_left(&p) == 0;
}

/* ---- TCP recognisers (the first segment of a direction) ---------------------------- */

/* Zabbix (zabbix.com "Header and data length"): "ZBXD", flags (0x01 protocol, 0x02
 * compressed, 0x04 large), data length and reserved (4 or 8 bytes each), data. */
static bool m_zabbix(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t flags;
    uint32_t len;
    if (!AT_LIT(p, 0, "ZBXD") || !at_u8(p, 4, &flags) || !(flags & 1) || (flags & ~7)) return false;
    if (flags & 4) return n >= 21;
    return n >= 13 && at_u32le(p, 5, &len) && len >= n - 13 && len <= (1u << 30);
}

/* WhatsApp's Noise transport: an optional edge-routing preamble "ED", 0, 1, a 24-bit
 * length and routing data; then the prologue "WA", protocol and dictionary versions (1..9),
 * and 24-bit framed handshake messages (the first must not end before the segment). The
 * client often sends the preamble alone. */
static bool m_whatsapp(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t ver;
    if (AT_LIT(p, 0, "ED\x00\x01")) {
        if (n == 4) return true;
        struct vk_cur c = p, route;
        uint32_t len;
        vk_cur_skip(&c, 4);
        if (!vk_cur_u24be(&c, &len) || len == 0 || !vk_cur_take(&c, len, &route)) return false;
        return vk_cur_left(&c) < 2 || AT_LIT(c, 0, "WA");
    }
    uint8_t dict;
    uint32_t len;
    if (n < 4 || !AT_LIT(p, 0, "WA") || !at_u8(p, 2, &ver) || !at_u8(p, 3, &dict) || ver < 1 || ver > 9 ||
        dict < 1 || dict > 9)
        return false;
    return n == 4 || (at_u24be(p, 4, &len) && len > 0 && len <= 65535 && 7 + (size_t)len >= n);
}

/* AliCloud's IoT channel: magic 0xcefabeba and the little-endian length of the PDU that
 * follows, in the same segment or alone in its own. */
static bool m_alicloud(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint32_t magic, len;
    if (!at_u32be(p, 0, &magic) || magic != 0xcefabeba || !at_u32le(p, 4, &len)) return false;
    return (n == 8 && len > 0 && len <= (1u << 20)) || len == n - 8;
}

/* Avast's update/stat channel: "NOSA" and the 16-bit length of the whole message. */
static bool m_avast(struct vk_cur p)
{
    uint16_t len;
    return AT_LIT(p, 0, "NOSA") && at_u16be(p, 4, &len) && len >= 6 && len == vk_cur_left(&p);
}

/* Apache Kafka request (kafka.apache.org/protocol): size of the rest, API key, API
 * version, correlation id, client id (nullable string), all big-endian. */
static bool m_kafka(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint32_t size;
    uint16_t key, ver, idlen;
    if (n < 14 || !at_u32be(p, 0, &size) || !at_u16be(p, 4, &key) || !at_u16be(p, 6, &ver) ||
        !at_u16be(p, 12, &idlen))
        return false;
    if (!(size == n - 4 || (n >= 1024 && size > n - 4 && size < (1u << 27)))) return false;
    if (key > 74 || ver > 16) return false;
    if (idlen == 0xffff) return true;
    struct vk_cur c = p, id;
    return vk_cur_skip(&c, 14) && vk_cur_take(&c, idlen, &id) && printable(id);
}

/* Elasticsearch transport (port 9300): "ES", message length (-1 for a ping), request
 * id, status flags (request, error, compressed, handshake), version. */
static bool m_elasticsearch(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint32_t len;
    uint8_t status;
    if (!AT_LIT(p, 0, "ES") || !at_u32be(p, 2, &len)) return false;
    if (len == 0xffffffff) return n == 6;
    if (!(len == n - 6 || (n >= 1024 && len > n - 6 && len < (1u << 30)))) return false;
    return n >= 19 && at_u8(p, 14, &status) && status < 0x10;
}

/* Xiaomi push (port 5222): magic 0xc2fe, version 5, length of the body after the
 * 12-byte header. */
static bool m_xiaomi(struct vk_cur p)
{
    uint32_t magic, len;
    return at_u32be(p, 0, &magic) && magic == 0xc2fe0005 && at_u32be(p, 4, &len) && len == vk_cur_left(&p) - 12;
}

/* HiSLIP (IVI-6.1): "HS", message type (0..26), control code, parameter, 64-bit payload
 * length. */
static bool m_hislip(struct vk_cur p)
{
    size_t n = vk_cur_left(&p);
    uint8_t type;
    uint64_t len;
    if (n < 16 || !AT_LIT(p, 0, "HS") || !at_u8(p, 2, &type) || type > 26 || !at_u64be(p, 8, &len)) return false;
    return len == n - 16 || (n >= 1024 && len > n - 16 && len < (1ull << 32));
}

/* TP-Link Smart Home over TCP: a 32-bit length, then the enciphered JSON. */
static bool m_tplink_tcp(struct vk_cur p)
{
    uint32_t len;
    return at_u32be(p, 0, &len) && len == vk_cur_left(&p) - 4 && vk_cur_skip(&p, 4) && tplink_json(p);
}

static bool m_ldp_tcp(struct vk_cur p) { return ldp_pdu(p, false); }

/* OpenVPN over TCP: a 16-bit packet length first. */
static bool m_openvpn_tcp(struct vk_cur p)
{
    uint16_t len;
    return at_u16be(p, 0, &len) && len == vk_cur_left(&p) - 2 && vk_cur_skip(&p, 2) && openvpn_pkt(p);
}

/* ---- the table ------------------------------------------------------------------------ */

struct sig {
    const char *name;        /* the `service` we add: nDPI's name lower-cased, or Arkime's */
    uint8_t ipproto;         /* 6 or 17 */
    bool (*match)(struct vk_cur p);
    void (*facts)(struct vk_cur p, struct vk_meta *m); /* more meta from the payload; may be NULL */
    uint16_t ports[2];       /* the protocol's registered or usual ports (0: none) */
    bool need_port;          /* the check is too short to stand alone: a port must match */
};

static const struct sig sigs[] = {
    /* UDP */
    {"discord", 17, m_discord, NULL, {50001, 50004}, false}, /* i3D's servers speak it too */
    {"oicq", 17, m_oicq, NULL, {8000, 4000}, false},
    {"sd-rtn", 17, m_sdrtn, f_sdrtn, {8130, 0}, false},
    {"source_engine", 17, m_source_engine, NULL, {27015, 0}, false},
    {"tuyalp", 17, m_tuyalp, NULL, {6667, 6666}, false},
    {"tplink_shp", 17, m_tplink_udp, NULL, {9999, 0}, false},
    {"raknet", 17, m_raknet, NULL, {19132, 0}, false},
    {"ripeatlas", 17, m_ripeatlas, NULL, {0, 0}, false},
    {"riotgames", 17, m_riotgames, NULL, {0, 0}, false},
    {"kcp", 17, m_kcp, NULL, {0, 0}, false},
    {"zug", 17, m_zug, NULL, {19000, 0}, false},
    {"roughtime", 17, m_roughtime, NULL, {2002, 0}, false},
    {"rmcp", 17, m_rmcp, NULL, {623, 0}, false},
    {"someip", 17, m_someip, NULL, {30490, 30501}, false},
    {"ldp", 17, m_ldp_udp, NULL, {646, 0}, false},
    {"ptp", 17, m_ptpv2, NULL, {319, 320}, true},          /* nDPI: PTPv2; Arkime: ptp */
    {"dtls", 17, m_dtls, NULL, {443, 4433}, false},
    {"openvpn", 17, m_openvpn_udp, NULL, {1194, 0}, false},
    {"tocaboca", 17, m_photon, NULL, {5055, 5056}, true},  /* Photon framing */
    /* TCP */
    {"zabbix", 6, m_zabbix, NULL, {10050, 10051}, false},
    {"whatsapp", 6, m_whatsapp, NULL, {5222, 443}, false},
    {"alicloud", 6, m_alicloud, NULL, {8999, 0}, false},
    {"avast", 6, m_avast, NULL, {80, 0}, false},
    {"kafka", 6, m_kafka, NULL, {9092, 0}, false},
    {"elasticsearch", 6, m_elasticsearch, NULL, {9300, 0}, false},
    {"xiaomi", 6, m_xiaomi, NULL, {5222, 0}, false},
    {"hislip", 6, m_hislip, NULL, {4880, 0}, false},
    {"tplink_shp", 6, m_tplink_tcp, NULL, {9999, 0}, false},
    {"ldp", 6, m_ldp_tcp, NULL, {646, 0}, false},
    {"openvpn", 6, m_openvpn_tcp, NULL, {1194, 443}, false},
};

static bool port_ok(const struct sig *s, const struct vk_flow_view *f)
{
    if (!s->need_port) return true;
    for (int i = 0; i < 2; i++)
        for (int d = 0; d < 2; d++)
            if (s->ports[i] && f->port[d] == s->ports[i]) return true;
    return false;
}

/* The first entry of the table that recognises p, or NULL. O(entries + n). */
static const struct sig *sig_find(const struct vk_flow_view *f, uint8_t ipproto, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        const struct sig *s = &sigs[i];
        if (s->ipproto == ipproto && port_ok(s, f) && s->match(vk_cur_make(p, n))) return s;
    }
    return NULL;
}

/* ---- the parser interface ---------------------------------------------------------- */

struct sig_state {
    const struct sig *found;
};

static int sig_probe_udp(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    return sig_find(f, 17, p, n) ? 2 : 0;
}

static int sig_probe_tcp(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    return sig_find(f, 6, p, n) ? 2 : 0;
}

static void sig_init(void *st, struct vk_pctx *c) { (void)st; (void)c; }

/* The flow stage hands data() the payload probe() accepted: name the session, then stop. */
static void sig_data(void *vst, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct sig_state *st = vst;
    uint8_t ipproto = c->flow->ipproto == 6 ? 6 : 17;
    if (!st->found && (st->found = sig_find(c->flow, ipproto, p, n)) != NULL) {
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, st->found->name);
        if (st->found->facts) st->found->facts(vk_cur_make(p, n), c->meta);
    }
    c->done = true;
}

static void sig_gap(void *st, struct vk_pctx *c, int dir, size_t n) { c->done = true; }
static void sig_finish(void *st, struct vk_pctx *c) { (void)st; (void)c; }

const struct vk_parser vk_proto_sig_udp = {
    .name = "sig",
    .ipproto = 17,
    .probe = sig_probe_udp,
    .state_size = sizeof(struct sig_state),
    .init = sig_init,
    .data = sig_data,
    .gap = sig_gap,
    .finish = sig_finish,
    .release = NULL,
};

const struct vk_parser vk_proto_sig_tcp = {
    .name = "sig",
    .ipproto = 6,
    .probe = sig_probe_tcp,
    .state_size = sizeof(struct sig_state),
    .init = sig_init,
    .data = sig_data,
    .gap = sig_gap,
    .finish = sig_finish,
    .release = NULL,
};
