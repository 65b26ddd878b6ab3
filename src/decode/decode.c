/* decode.c — from link layer to transport header, one packet at a time.
 *
 * Owns the layer walk: link types (Ethernet, SLL, SLL2, raw IP, null/loopback, PPP,
 * PPPoE, 802.11 with radiotap, NFLOG), VLAN/QinQ, MPLS, IPv4 with options, IPv6 with
 * extension headers, tunnels (GRE incl. ERSPAN II/III and PPTP, VXLAN, Geneve, GTP-U,
 * IP-in-IP, 6in4) and the transport headers. Fragment reassembly lives in frag.c.
 *
 * Per packet: O(layers), never allocates (fragments excepted, capped). Every read goes
 * through vk_cur; a short or inconsistent header sets an anomaly bit and stops the walk
 * with what was decoded so far. */
#include <stdlib.h>

#include "decode_int.h"

#define VK_ANOM_NAME(e, n) n,
static const char *const anom_names[VK_ANOM__COUNT] = {VK_ANOM_LIST(VK_ANOM_NAME)};
#undef VK_ANOM_NAME

const char *vk_decode_anomaly_name(int bit)
{
    return bit >= 0 && bit < VK_ANOM__COUNT ? anom_names[bit] : "unknown";
}

/* pcap link types we read (values from pcap/dlt.h and the LINKTYPE registry). */
enum {
    DLT_NULL_ = 0, DLT_EN10MB_ = 1, DLT_PPP_ = 9, DLT_RAW1 = 12, DLT_RAW2 = 14,
    DLT_PPP_SERIAL_ = 50, DLT_PPP_ETHER_ = 51, LINKTYPE_RAW_ = 101, DLT_IEEE802_11_ = 105,
    DLT_LOOP_ = 108, DLT_LINUX_SLL_ = 113, DLT_RADIOTAP_ = 127, DLT_IPV4_ = 228,
    DLT_IPV6_ = 229, DLT_NFLOG_ = 239, DLT_LINUX_SLL2_ = 276,
};

bool vk_decode_dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_NULL_: case DLT_EN10MB_: case DLT_PPP_: case DLT_RAW1: case DLT_RAW2:
    case DLT_PPP_SERIAL_: case DLT_PPP_ETHER_: case LINKTYPE_RAW_: case DLT_IEEE802_11_:
    case DLT_LOOP_: case DLT_LINUX_SLL_: case DLT_RADIOTAP_: case DLT_IPV4_: case DLT_IPV6_:
    case DLT_NFLOG_: case DLT_LINUX_SLL2_:
        return true;
    }
    return false;
}

#define ANOM(o, a) ((o)->anom |= 1u << VK_ANOM_##a)
#define MAX_DEPTH 12 /* encapsulation steps before we give up (tunnel loops in junk) */

struct walk {
    struct vk_decoder *d;
    const struct vk_pkt *pkt;
    struct vk_decoded *o;
    int depth;
};

static int do_ether(struct walk *w, struct vk_cur c, bool outer);
static int do_ethertype(struct walk *w, uint16_t type, struct vk_cur c);
static int do_ip(struct walk *w, struct vk_cur c);
static int do_ipv4(struct walk *w, struct vk_cur c);
static int do_ipv6(struct walk *w, struct vk_cur c);
static int do_ppp(struct walk *w, struct vk_cur c);

static bool deeper(struct walk *w)
{
    if (++w->depth > MAX_DEPTH) {
        ANOM(w->o, TUNNEL_DEPTH);
        return false;
    }
    return true;
}

static void push_tunnel(struct walk *w, const char *name)
{
    struct vk_decoded *o = w->o;
    if (o->ntun == 0 && o->family) {
        o->tun_family = o->family;
        memcpy(o->tun_src, o->src, 16);
        memcpy(o->tun_dst, o->dst, 16);
    }
    if (o->ntun < VK_DEC_MAX_TUN) o->tun[o->ntun++] = name;
}

/* A tunnel's inner packet restarts the flow key: forget the outer IP and transport. */
static void reset_inner(struct vk_decoded *o)
{
    o->family = 0;
    o->l3 = NULL;
    o->ipproto = 0;
    o->sport = o->dport = 0;
    o->payload = NULL;
    o->payload_len = 0;
    o->has_icmp = false;
    o->tcp_flags = 0;
}

/* ---- link layers ------------------------------------------------------------------- */

static int do_ether(struct walk *w, struct vk_cur c, bool outer)
{
    struct vk_cur h;
    uint16_t type;
    if (!vk_cur_take(&c, 12, &h) || !vk_cur_u16be(&c, &type)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    if (outer && !w->o->has_eth) {
        w->o->has_eth = true;
        memcpy(w->o->eth_dst, h.p, 6);
        memcpy(w->o->eth_src, h.p + 6, 6);
    }
    if (type <= 1500) { /* 802.3 length: LLC/SNAP may carry IP */
        if (vk_cur_left(&c) >= 8 && c.p[0] == 0xaa && c.p[1] == 0xaa && c.p[2] == 0x03) {
            vk_cur_skip(&c, 6);
            vk_cur_u16be(&c, &type);
        } else {
            if (outer) {
                w->o->ethertype = type;
                if (vk_cur_left(&c) >= 3) {
                    w->o->llc_dsap = c.p[0];
                    w->o->llc_ctl = c.p[2];
                }
            }
            return 1;
        }
    }
    return do_ethertype(w, type, c);
}

static int do_mpls(struct walk *w, struct vk_cur c)
{
    for (;;) {
        uint32_t lbl;
        if (!vk_cur_u32be(&c, &lbl)) {
            ANOM(w->o, TRUNCATED_L2);
            return 1;
        }
        if (w->o->nmpls < VK_DEC_MAX_MPLS) w->o->mpls[w->o->nmpls++] = lbl >> 12;
        if (lbl & 0x100) break; /* bottom of stack */
    }
    if (vk_cur_left(&c) < 1) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    switch (c.p[0] >> 4) {
    case 4: case 6:
        return do_ip(w, c);
    case 0: /* pseudowire control word, then Ethernet */
        if (!vk_cur_skip(&c, 4)) return 1;
        return do_ether(w, c, false);
    default:
        return do_ether(w, c, false);
    }
}

static int do_pppoe(struct walk *w, struct vk_cur c)
{
    uint8_t vt, code;
    uint16_t sid, len;
    if (!vk_cur_u8(&c, &vt) || !vk_cur_u8(&c, &code) || !vk_cur_u16be(&c, &sid) ||
        !vk_cur_u16be(&c, &len)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    if (code != 0) return 1; /* discovery stage */
    if (len < vk_cur_left(&c)) c.end = c.p + len;
    push_tunnel(w, "pppoe");
    return do_ppp(w, c);
}

static int do_ppp(struct walk *w, struct vk_cur c)
{
    uint16_t proto;
    /* Optional HDLC address/control 0xff 0x03, then a 1- or 2-byte protocol field. */
    if (vk_cur_left(&c) >= 2 && c.p[0] == 0xff && c.p[1] == 0x03) vk_cur_skip(&c, 2);
    if (vk_cur_left(&c) < 1) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    if (c.p[0] & 1) {
        uint8_t b;
        vk_cur_u8(&c, &b);
        proto = b;
    } else if (!vk_cur_u16be(&c, &proto)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    switch (proto) {
    case 0x0021: return do_ipv4(w, c);
    case 0x0057: return do_ipv6(w, c);
    }
    return 1;
}

static int do_ethertype(struct walk *w, uint16_t type, struct vk_cur c)
{
    if (!deeper(w)) return 1;
    switch (type) {
    case 0x0800: return do_ipv4(w, c);
    case 0x86dd: return do_ipv6(w, c);
    case 0x8100: case 0x88a8: case 0x9100: case 0x9200: {
        uint16_t tci, inner;
        if (!vk_cur_u16be(&c, &tci) || !vk_cur_u16be(&c, &inner)) {
            ANOM(w->o, TRUNCATED_L2);
            return 1;
        }
        if (w->o->nvlan < VK_DEC_MAX_VLAN) w->o->vlan[w->o->nvlan++] = tci & 0x0fff;
        return do_ethertype(w, inner, c);
    }
    case 0x8847: case 0x8848: return do_mpls(w, c);
    case 0x8864: return do_pppoe(w, c);
    case 0x6558: return do_ether(w, c, false);
    }
    w->o->ethertype = type;
    return 1; /* ARP, LLDP, ...: not an IP flow */
}

static int do_sll(struct walk *w, struct vk_cur c)
{
    uint16_t ptype, hatype, halen, proto;
    uint8_t addr[8];
    if (!vk_cur_u16be(&c, &ptype) || !vk_cur_u16be(&c, &hatype) || !vk_cur_u16be(&c, &halen) ||
        vk_cur_left(&c) < 8) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    memcpy(addr, c.p, 8);
    vk_cur_skip(&c, 8);
    if (!vk_cur_u16be(&c, &proto)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    if (hatype == 1 && halen == 6) {
        /* ptype 4 = sent by us: the address is the source either way in SLL */
        w->o->has_eth = true;
        memcpy(w->o->eth_src, addr, 6);
        memset(w->o->eth_dst, 0, 6);
    }
    if (hatype == 824) return 1; /* netlink */
    return do_ethertype(w, proto, c);
}

static int do_sll2(struct walk *w, struct vk_cur c)
{
    uint16_t proto, rsv, hatype;
    uint32_t ifindex;
    uint8_t ptype, halen, addr[8];
    if (!vk_cur_u16be(&c, &proto) || !vk_cur_u16be(&c, &rsv) || !vk_cur_u32be(&c, &ifindex) ||
        !vk_cur_u16be(&c, &hatype) || !vk_cur_u8(&c, &ptype) || !vk_cur_u8(&c, &halen) ||
        vk_cur_left(&c) < 8) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    memcpy(addr, c.p, 8);
    vk_cur_skip(&c, 8);
    if (hatype == 1 && halen == 6) {
        w->o->has_eth = true;
        memcpy(w->o->eth_src, addr, 6);
        memset(w->o->eth_dst, 0, 6);
    }
    return do_ethertype(w, proto, c);
}

static int do_null(struct walk *w, struct vk_cur c, bool big)
{
    uint32_t fam;
    if (!(big ? vk_cur_u32be(&c, &fam) : vk_cur_u32le(&c, &fam))) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    if (fam > 0xffff) fam = __builtin_bswap32(fam); /* written on the other endianness */
    switch (fam) {
    case 2: return do_ipv4(w, c);
    case 10: case 24: case 28: case 30: return do_ipv6(w, c);
    }
    return do_ip(w, c);
}

static int do_80211(struct walk *w, struct vk_cur c)
{
    uint16_t fc, dur;
    if (!vk_cur_u16le(&c, &fc) || !vk_cur_u16le(&c, &dur)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    int type = (fc >> 2) & 3, subtype = (fc >> 4) & 15;
    bool tods = fc & 0x100, fromds = fc & 0x200, prot = fc & 0x4000;
    if (type != 2 || prot) return 1;      /* not data, or encrypted */
    if (subtype & 4) return 1;            /* null data, no body */
    struct vk_cur a;
    if (!vk_cur_take(&c, 18, &a)) {       /* addr1, addr2, addr3 */
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    uint16_t seqc;
    if (!vk_cur_u16le(&c, &seqc)) return 1;
    if (tods && fromds && !vk_cur_skip(&c, 6)) return 1; /* addr4 */
    if ((subtype & 8) && !vk_cur_skip(&c, 2)) return 1;  /* QoS control */
    if ((subtype & 8) && (fc & 0x8000) && !vk_cur_skip(&c, 4)) return 1; /* HT control */
    /* Source and destination MAC depend on the DS bits. */
    const uint8_t *da = a.p, *sa = a.p + 6;
    if (!tods && fromds) sa = a.p + 12;
    else if (tods && !fromds) da = a.p + 12;
    w->o->has_eth = true;
    memcpy(w->o->eth_dst, da, 6);
    memcpy(w->o->eth_src, sa, 6);
    uint16_t type2 = 0;
    if (vk_cur_left(&c) < 8 || c.p[0] != 0xaa || c.p[1] != 0xaa) return 1;
    vk_cur_skip(&c, 6);
    vk_cur_u16be(&c, &type2);
    return do_ethertype(w, type2, c);
}

static int do_radiotap(struct walk *w, struct vk_cur c)
{
    uint8_t ver, pad;
    uint16_t len;
    if (!vk_cur_u8(&c, &ver) || !vk_cur_u8(&c, &pad) || !vk_cur_u16le(&c, &len) || len < 4 ||
        !vk_cur_skip(&c, (size_t)len - 4)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    /* Flags field (bit 1 of the present word) may say the frame ends with an FCS; the
     * FCS is 4 bytes of trailer that the IP length check ignores anyway. */
    return do_80211(w, c);
}

static int do_nflog(struct walk *w, struct vk_cur c)
{
    uint8_t fam, ver;
    uint16_t rid;
    if (!vk_cur_u8(&c, &fam) || !vk_cur_u8(&c, &ver) || !vk_cur_u16be(&c, &rid)) {
        ANOM(w->o, TRUNCATED_L2);
        return 1;
    }
    while (vk_cur_left(&c) >= 4) {
        uint16_t tlen = 0, ttype = 0;
        vk_cur_u16le(&c, &tlen);
        vk_cur_u16le(&c, &ttype);
        if (tlen < 4) break;
        size_t body = tlen - 4u, padded = (body + 3u) & ~3u;
        struct vk_cur v;
        if (!vk_cur_take(&c, body, &v)) break;
        if (ttype == 9) /* NFULA_PAYLOAD */
            return fam == 10 ? do_ipv6(w, v) : do_ipv4(w, v);
        vk_cur_skip(&c, padded - body);
    }
    return 1;
}

/* ---- network layer ----------------------------------------------------------------- */

static int do_ip(struct walk *w, struct vk_cur c)
{
    if (vk_cur_left(&c) < 1) {
        ANOM(w->o, TRUNCATED_IP);
        return 1;
    }
    switch (c.p[0] >> 4) {
    case 4: return do_ipv4(w, c);
    case 6: return do_ipv6(w, c);
    }
    ANOM(w->o, BAD_IP_VERSION);
    return 1;
}

static int do_transport(struct walk *w, uint8_t proto, struct vk_cur c);

static int do_ipv4(struct walk *w, struct vk_cur c)
{
    struct vk_decoded *o = w->o;
    const uint8_t *start = c.p;
    uint8_t vhl, tos, ttl, proto;
    uint16_t tlen, id, frag, csum;
    if (!deeper(w)) return 1;
    if (!vk_cur_u8(&c, &vhl) || !vk_cur_u8(&c, &tos) || !vk_cur_u16be(&c, &tlen) ||
        !vk_cur_u16be(&c, &id) || !vk_cur_u16be(&c, &frag) || !vk_cur_u8(&c, &ttl) ||
        !vk_cur_u8(&c, &proto) || !vk_cur_u16be(&c, &csum) || vk_cur_left(&c) < 8) {
        ANOM(o, TRUNCATED_IP);
        return 1;
    }
    if (vhl >> 4 != 4) {
        ANOM(o, BAD_IP_VERSION);
        return 1;
    }
    size_t hl = (size_t)(vhl & 15) * 4;
    if (hl < 20) {
        ANOM(o, BAD_IP_HLEN);
        return 1;
    }
    const uint8_t *addrs = c.p;
    vk_cur_skip(&c, 8);
    /* Options: walked for sanity only (length fields), never trusted. */
    struct vk_cur opts;
    if (!vk_cur_take(&c, hl - 20, &opts)) {
        ANOM(o, TRUNCATED_IP);
        return 1;
    }
    while (vk_cur_left(&opts) > 0) {
        uint8_t t, l;
        vk_cur_u8(&opts, &t);
        if (t == 0) break;
        if (t == 1) continue;
        if (!vk_cur_u8(&opts, &l) || l < 2 || !vk_cur_skip(&opts, (size_t)l - 2)) {
            ANOM(o, BAD_IP_OPTS);
            break;
        }
    }
    size_t have = (size_t)(c.end - start);
    if (tlen < hl) {
        ANOM(o, BAD_IP_LEN);
        return 1;
    }
    if (tlen > have) {
        /* Cut by snaplen or a lying length: decode what is there. */
        if (w->pkt->caplen < w->pkt->wirelen) ANOM(o, TRUNCATED_CAP);
        else ANOM(o, BAD_IP_LEN);
    } else {
        c.end = start + tlen; /* drop Ethernet padding */
    }
    o->family = 4;
    o->ttl = ttl;
    o->l3 = start;
    o->l3_len = (uint32_t)(c.end - start);
    memset(o->src, 0, 16);
    memset(o->dst, 0, 16);
    memcpy(o->src, addrs, 4);
    memcpy(o->dst, addrs + 4, 4);
    o->ipproto = proto;
    uint16_t off = (uint16_t)((frag & 0x1fff) * 8);
    if ((frag & 0x2000) || off) {
        const uint8_t *data;
        size_t len;
        int r = vk_frag_add(w->d, 4, o->src, o->dst, id, proto, off, (frag & 0x2000) != 0, c.p,
                            vk_cur_left(&c), w->pkt->ts_us, w->pkt->wirelen, &data, &len,
                            &o->frame_bytes, &o->anom);
        if (r != 0) {
            o->frag_held = true;
            o->sport = o->dport = 0;
            return 1;
        }
        o->reassembled = true;
        o->l3 = NULL;
        c = vk_cur_make(data, len);
    }
    return do_transport(w, proto, c);
}

static int do_ipv6(struct walk *w, struct vk_cur c)
{
    struct vk_decoded *o = w->o;
    uint32_t vtf;
    uint16_t plen;
    uint8_t nh, hlim;
    if (!deeper(w)) return 1;
    if (!vk_cur_u32be(&c, &vtf) || !vk_cur_u16be(&c, &plen) || !vk_cur_u8(&c, &nh) ||
        !vk_cur_u8(&c, &hlim) || vk_cur_left(&c) < 32) {
        ANOM(o, TRUNCATED_IP);
        return 1;
    }
    if (vtf >> 28 != 6) {
        ANOM(o, BAD_IP_VERSION);
        return 1;
    }
    const uint8_t *start = c.p - 8;
    o->family = 6;
    o->ttl = hlim;
    memcpy(o->src, c.p, 16);
    memcpy(o->dst, c.p + 16, 16);
    vk_cur_skip(&c, 32);
    if (plen > vk_cur_left(&c)) {
        if (w->pkt->caplen < w->pkt->wirelen) ANOM(o, TRUNCATED_CAP);
        else if (plen != 0) ANOM(o, BAD_IP_LEN); /* 0 = jumbogram: use what we have */
    } else {
        c.end = c.p + plen;
    }
    o->l3 = start;
    o->l3_len = (uint32_t)(c.end - start);
    /* Extension headers: hop-by-hop, routing, destination options, fragment, AH. */
    for (int i = 0; i < 16; i++) {
        switch (nh) {
        case 0: case 43: case 60: case 135: case 139: case 140: {
            uint8_t nnh, hl;
            if (!vk_cur_u8(&c, &nnh) || !vk_cur_u8(&c, &hl) ||
                !vk_cur_skip(&c, (size_t)hl * 8 + 6)) {
                ANOM(o, IPV6_BAD_EXT);
                return 1;
            }
            nh = nnh;
            continue;
        }
        case 51: { /* AH: length in 4-byte units minus 2 */
            uint8_t nnh, hl;
            if (!vk_cur_u8(&c, &nnh) || !vk_cur_u8(&c, &hl) ||
                !vk_cur_skip(&c, ((size_t)hl + 2) * 4 - 2)) {
                ANOM(o, IPV6_BAD_EXT);
                return 1;
            }
            nh = nnh;
            continue;
        }
        case 44: {
            uint8_t nnh, rsv;
            uint16_t offm;
            uint32_t id;
            if (!vk_cur_u8(&c, &nnh) || !vk_cur_u8(&c, &rsv) || !vk_cur_u16be(&c, &offm) ||
                !vk_cur_u32be(&c, &id)) {
                ANOM(o, IPV6_BAD_EXT);
                return 1;
            }
            o->ipproto = nnh;
            uint16_t off = offm & 0xfff8;
            bool more = offm & 1;
            if (!more && off == 0) { /* atomic fragment */
                nh = nnh;
                continue;
            }
            const uint8_t *data;
            size_t len;
            int r = vk_frag_add(w->d, 6, o->src, o->dst, id, nnh, off, more, c.p,
                                vk_cur_left(&c), w->pkt->ts_us, w->pkt->wirelen, &data, &len,
                            &o->frame_bytes, &o->anom);
            if (r != 0) {
                o->frag_held = true;
                return 1;
            }
            o->reassembled = true;
            o->l3 = NULL;
            c = vk_cur_make(data, len);
            nh = nnh;
            continue;
        }
        default:
            i = 16;
        }
    }
    o->ipproto = nh;
    return do_transport(w, nh, c);
}

/* ---- tunnels ----------------------------------------------------------------------- */

static int do_gre(struct walk *w, struct vk_cur c)
{
    uint16_t flags, proto;
    if (!vk_cur_u16be(&c, &flags) || !vk_cur_u16be(&c, &proto)) {
        ANOM(w->o, BAD_TUNNEL);
        return 1;
    }
    int ver = flags & 7;
    size_t skip = 0;
    if (flags & 0x8000) skip += 4;           /* checksum + reserved */
    if (flags & 0x2000) skip += 4;           /* key */
    if (flags & 0x1000) skip += 4;           /* sequence */
    if (ver == 1 && (flags & 0x0080)) skip += 4; /* PPTP acknowledgement */
    if (!vk_cur_skip(&c, skip)) {
        ANOM(w->o, BAD_TUNNEL);
        return 1;
    }
    push_tunnel(w, ver == 1 ? "pptp" : "gre");
    reset_inner(w->o);
    switch (proto) {
    case 0x88be: /* ERSPAN type II: 8-byte header (type I has none and no sequence bit) */
        w->o->tun[w->o->ntun - 1] = "erspan";
        if ((flags & 0x1000) && !vk_cur_skip(&c, 8)) return 1;
        return do_ether(w, c, false);
    case 0x22eb: { /* ERSPAN type III: 12 bytes, plus 8 when the O bit is set */
        w->o->tun[w->o->ntun - 1] = "erspan";
        if (vk_cur_left(&c) < 12) return 1;
        bool o_bit = c.p[11] & 1;
        if (!vk_cur_skip(&c, 12 + (o_bit ? 8 : 0))) return 1;
        return do_ether(w, c, false);
    }
    case 0x880b: return do_ppp(w, c);
    }
    return do_ethertype(w, proto, c);
}

static int do_gtpu(struct walk *w, struct vk_cur c)
{
    uint8_t flags, type;
    uint16_t len;
    uint32_t teid;
    if (!vk_cur_u8(&c, &flags) || !vk_cur_u8(&c, &type) || !vk_cur_u16be(&c, &len) ||
        !vk_cur_u32be(&c, &teid)) {
        ANOM(w->o, BAD_TUNNEL);
        return 1;
    }
    if ((flags >> 5) != 1 || type != 0xff) return 1; /* only G-PDU carries user IP */
    if (len < vk_cur_left(&c)) c.end = c.p + len;
    if (flags & 7) {
        uint8_t npdu, next;
        uint16_t seq;
        if (!vk_cur_u16be(&c, &seq) || !vk_cur_u8(&c, &npdu) || !vk_cur_u8(&c, &next)) return 1;
        while (next) { /* extension headers: length in 4-byte units */
            uint8_t el;
            if (!vk_cur_u8(&c, &el) || el == 0 || !vk_cur_skip(&c, (size_t)el * 4 - 2) ||
                !vk_cur_u8(&c, &next)) {
                ANOM(w->o, BAD_TUNNEL);
                return 1;
            }
        }
    }
    if (vk_cur_left(&c) < 1 || (c.p[0] >> 4 != 4 && c.p[0] >> 4 != 6)) return 1;
    push_tunnel(w, "gtp");
    reset_inner(w->o);
    return do_ip(w, c);
}

static bool udp_tunnel_port(uint16_t sport, uint16_t dport)
{
    return dport == 4789 || dport == 8472 || dport == 4790 || dport == 6081 || dport == 2152 ||
           sport == 2152;
}

/* UDP encapsulations, recognised by port. Returns -1 when the datagram is not one. */
static int try_udp_tunnel(struct walk *w, uint16_t sport, uint16_t dport, struct vk_cur c)
{
    if (dport == 4789 || dport == 8472) { /* VXLAN: flags with I bit, 3 reserved, VNI */
        if (vk_cur_left(&c) < 8 + 14 || !(c.p[0] & 0x08)) return -1;
        vk_cur_skip(&c, 8);
        push_tunnel(w, "vxlan");
        reset_inner(w->o);
        return do_ether(w, c, false);
    }
    if (dport == 4790) { /* VXLAN-GPE: next protocol in byte 3 */
        if (vk_cur_left(&c) < 8) return -1;
        uint8_t np = c.p[3];
        vk_cur_skip(&c, 8);
        push_tunnel(w, "vxlan-gpe");
        reset_inner(w->o);
        if (np == 1) return do_ipv4(w, c);
        if (np == 2) return do_ipv6(w, c);
        if (np == 3) return do_ether(w, c, false);
        if (np == 5) return do_mpls(w, c);
        return 1;
    }
    if (dport == 6081) { /* Geneve: options length in 4-byte units */
        uint8_t vo, fl;
        uint16_t proto;
        struct vk_cur g = c;
        if (!vk_cur_u8(&g, &vo) || !vk_cur_u8(&g, &fl) || !vk_cur_u16be(&g, &proto) ||
            (vo >> 6) != 0 || !vk_cur_skip(&g, 4 + (size_t)(vo & 0x3f) * 4))
            return -1;
        push_tunnel(w, "geneve");
        reset_inner(w->o);
        return do_ethertype(w, proto, g);
    }
    if (dport == 2152 || sport == 2152) {
        if (vk_cur_left(&c) < 8 || (c.p[0] >> 5) != 1 || c.p[1] != 0xff) return -1;
        return do_gtpu(w, c);
    }
    return -1;
}

/* ---- transport --------------------------------------------------------------------- */

static int do_transport(struct walk *w, uint8_t proto, struct vk_cur c)
{
    struct vk_decoded *o = w->o;
    o->ipproto = proto;
    switch (proto) {
    case 6: {
        uint16_t sp, dp, win, urg, csum;
        uint32_t seq, ack;
        uint8_t off, flags;
        if (!vk_cur_u16be(&c, &sp) || !vk_cur_u16be(&c, &dp) || !vk_cur_u32be(&c, &seq) ||
            !vk_cur_u32be(&c, &ack) || !vk_cur_u8(&c, &off) || !vk_cur_u8(&c, &flags) ||
            !vk_cur_u16be(&c, &win) || !vk_cur_u16be(&c, &csum) || !vk_cur_u16be(&c, &urg)) {
            ANOM(o, TRUNCATED_TCP);
            o->sport = o->dport = 0;
            return 0;
        }
        o->sport = sp;
        o->dport = dp;
        o->seq = seq;
        o->ack = ack;
        o->win = win;
        o->tcp_flags = flags;
        size_t hl = (size_t)(off >> 4) * 4;
        if (hl < 20) {
            ANOM(o, BAD_TCP_HLEN);
            return 0;
        }
        if (!vk_cur_skip(&c, hl - 20)) {
            ANOM(o, TRUNCATED_TCP);
            return 0;
        }
        o->payload = c.p;
        o->payload_len = (uint32_t)vk_cur_left(&c);
        return 0;
    }
    case 17: case 136: { /* UDP, UDP-Lite */
        uint16_t sp, dp, len, csum;
        if (!vk_cur_u16be(&c, &sp) || !vk_cur_u16be(&c, &dp) || !vk_cur_u16be(&c, &len) ||
            !vk_cur_u16be(&c, &csum)) {
            ANOM(o, TRUNCATED_UDP);
            return 0;
        }
        o->sport = sp;
        o->dport = dp;
        if (proto == 17 && len >= 8 && (size_t)len - 8 <= vk_cur_left(&c))
            c.end = c.p + (len - 8);
        else if (proto == 17 && (len < 8 || (size_t)len - 8 > vk_cur_left(&c)) &&
                 w->pkt->caplen == w->pkt->wirelen)
            ANOM(o, BAD_UDP_LEN);
        o->payload = c.p;
        o->payload_len = (uint32_t)vk_cur_left(&c);
        if (udp_tunnel_port(sp, dp) && o->ntun < VK_DEC_MAX_TUN && w->depth < MAX_DEPTH) {
            struct vk_decoded save = *o; /* only on tunnel ports: ~250 bytes */
            int r = try_udp_tunnel(w, sp, dp, c);
            if (r >= 0 && !o->family) *o = save; /* inner packet was not IP: keep the outer flow */
            else if (r >= 0) return r;
        }
        return 0;
    }
    case 1: case 58: {
        uint8_t t, code;
        if (!vk_cur_u8(&c, &t) || !vk_cur_u8(&c, &code) || !vk_cur_skip(&c, 2)) {
            ANOM(o, TRUNCATED_ICMP);
            return 0;
        }
        o->has_icmp = true;
        o->icmp_type = t;
        o->icmp_code = code;
        o->payload = c.p;
        o->payload_len = (uint32_t)vk_cur_left(&c);
        return 0;
    }
    case 132: {
        uint16_t sp, dp;
        if (!vk_cur_u16be(&c, &sp) || !vk_cur_u16be(&c, &dp) || !vk_cur_skip(&c, 8)) {
            ANOM(o, TRUNCATED_SCTP);
            return 0;
        }
        o->sport = sp;
        o->dport = dp;
        o->payload = c.p;
        o->payload_len = (uint32_t)vk_cur_left(&c);
        return 0;
    }
    case 47:
        if (w->o->ntun >= VK_DEC_MAX_TUN || w->depth >= MAX_DEPTH) return 0;
        {
            struct vk_decoded save = *o;
            int r = do_gre(w, c);
            if (o->family) return r;
            *o = save;
        }
        return 0;
    case 4: case 41:
        if (w->o->ntun >= VK_DEC_MAX_TUN || w->depth >= MAX_DEPTH) return 0;
        {
            struct vk_decoded save = *o;
            push_tunnel(w, proto == 4 ? "ipip" : "6in4");
            reset_inner(o);
            int r = proto == 4 ? do_ipv4(w, c) : do_ipv6(w, c);
            if (o->family) return r;
            *o = save;
        }
        return 0;
    }
    o->payload = c.p;
    o->payload_len = (uint32_t)vk_cur_left(&c);
    return 0;
}

/* ---- entry ------------------------------------------------------------------------- */

struct vk_decoder *vk_decode_new(size_t max_frag_bytes)
{
    struct vk_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    vk_frag_init(d, max_frag_bytes ? max_frag_bytes : 32u << 20);
    return d;
}

void vk_decode_free(struct vk_decoder *d)
{
    if (!d) return;
    vk_frag_cleanup(d);
    free(d);
}

const struct vk_decode_stats *vk_decode_stats(const struct vk_decoder *d) { return &d->st; }

int vk_decode_packet(struct vk_decoder *d, const struct vk_pkt *pkt, struct vk_decoded *out)
{
    struct walk w = {d, pkt, out, 0};
    struct vk_cur c = vk_cur_make(pkt->data, pkt->caplen);
    int r;
    memset(out, 0, offsetof(struct vk_decoded, src));
    out->sport = out->dport = 0;
    out->payload = NULL;
    out->payload_len = 0;
    out->has_eth = out->has_icmp = out->frag_held = out->reassembled = false;
    out->nvlan = out->nmpls = out->ntun = 0;
    out->tun_family = 0;
    out->l3 = NULL;
    out->l3_len = 0;
    out->ethertype = 0;
    out->frame_bytes = 0;
    out->llc_dsap = out->llc_ctl = 0;
    out->anom = 0;
    out->tcp_flags = 0;
    d->st.packets++;
    d->st.bytes += pkt->wirelen;
    switch (pkt->dlt) {
    case DLT_EN10MB_: r = do_ether(&w, c, true); break;
    case DLT_LINUX_SLL_: r = do_sll(&w, c); break;
    case DLT_LINUX_SLL2_: r = do_sll2(&w, c); break;
    case DLT_RAW1: case DLT_RAW2: case LINKTYPE_RAW_: r = do_ip(&w, c); break;
    case DLT_IPV4_: r = do_ipv4(&w, c); break;
    case DLT_IPV6_: r = do_ipv6(&w, c); break;
    case DLT_NULL_: r = do_null(&w, c, false); break;
    case DLT_LOOP_: r = do_null(&w, c, true); break;
    case DLT_PPP_: case DLT_PPP_SERIAL_: r = do_ppp(&w, c); break;
    case DLT_PPP_ETHER_: r = do_pppoe(&w, c); break;
    case DLT_IEEE802_11_: r = do_80211(&w, c); break;
    case DLT_RADIOTAP_: r = do_radiotap(&w, c); break;
    case DLT_NFLOG_: r = do_nflog(&w, c); break;
    default:
        ANOM(out, UNKNOWN_L2);
        r = 1;
    }
    for (int i = 0; i < VK_ANOM__COUNT; i++)
        if (out->anom & (1u << i)) d->st.anom[i]++;
    if (out->family == 0 || out->frag_held) {
        if (!out->frag_held) d->st.non_ip++;
        return 1;
    }
    (void)r;
    return 0;
}
