/* vk_decode.h — link, network and transport decoding of one captured packet.
 *
 * vk_decode_packet() walks a packet from its link layer to the innermost transport
 * header (through VLAN/QinQ, MPLS, PPPoE, GRE/ERSPAN, VXLAN, Geneve, GTP-U and IP-in-IP)
 * and fills a vk_decoded that points into the packet (or into the decoder's reassembly
 * buffer for fragmented datagrams). Every length is checked; malformed input sets
 * anomaly bits and counters, never crashes. The decoder owns the IPv4/IPv6 fragment
 * table, so one decoder serves one thread. */
#ifndef VK_DECODE_H
#define VK_DECODE_H

#include "../core/vk_core.h"

struct vk_pkt {
    uint64_t ts_us;        /* capture time, microseconds since epoch */
    uint32_t caplen;       /* bytes captured (data length) */
    uint32_t wirelen;      /* length on the wire */
    int dlt;               /* pcap link type */
    const uint8_t *data;
};

/* Anomalies a packet can carry: bit i of vk_decoded.anom is vk_decode_anomaly_name(i). */
#define VK_ANOM_LIST(X) \
    X(TRUNCATED_L2, "eth.truncated") \
    X(UNKNOWN_L2, "link.unknown") \
    X(TRUNCATED_IP, "ip.truncated") \
    X(BAD_IP_VERSION, "ip.bad_version") \
    X(BAD_IP_HLEN, "ip.bad_header_length") \
    X(BAD_IP_LEN, "ip.bad_total_length") \
    X(BAD_IP_CSUM, "ip.bad_checksum") \
    X(FRAG_OVERLAP, "ip.frag_overlap") \
    X(FRAG_DROPPED, "ip.frag_dropped") \
    X(BAD_IP_OPTS, "ip.bad_options") \
    X(IPV6_BAD_EXT, "ipv6.bad_ext_header") \
    X(TRUNCATED_TCP, "tcp.truncated") \
    X(BAD_TCP_HLEN, "tcp.bad_header_length") \
    X(TRUNCATED_UDP, "udp.truncated") \
    X(BAD_UDP_LEN, "udp.bad_length") \
    X(TRUNCATED_ICMP, "icmp.truncated") \
    X(TRUNCATED_SCTP, "sctp.truncated") \
    X(BAD_TUNNEL, "tunnel.bad_header") \
    X(TUNNEL_DEPTH, "tunnel.too_deep") \
    X(TRUNCATED_CAP, "pkt.snaplen_cut")

#define VK_ANOM_ENUM(e, n) VK_ANOM_##e,
enum vk_anom { VK_ANOM_LIST(VK_ANOM_ENUM) VK_ANOM__COUNT };
#undef VK_ANOM_ENUM
const char *vk_decode_anomaly_name(int bit);

#define VK_DEC_MAX_VLAN 4
#define VK_DEC_MAX_MPLS 4
#define VK_DEC_MAX_TUN 4

struct vk_decoded {
    uint8_t family;          /* 4 or 6; 0 when no IP layer was reached */
    uint8_t ipproto;         /* innermost transport protocol */
    uint8_t ttl;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;   /* 0 for protocols without ports */
    uint8_t tcp_flags;       /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
    uint32_t seq, ack;
    uint16_t win;
    uint8_t icmp_type, icmp_code;
    bool has_icmp;
    const uint8_t *payload;  /* transport payload (may be cut by snaplen) */
    uint32_t payload_len;    /* bytes available at payload */
    bool has_eth;
    uint8_t eth_src[6], eth_dst[6]; /* outermost Ethernet */
    uint8_t nvlan, nmpls, ntun;
    uint16_t vlan[VK_DEC_MAX_VLAN];
    uint32_t mpls[VK_DEC_MAX_MPLS];
    const char *tun[VK_DEC_MAX_TUN]; /* "gre", "vxlan", "gtp", "ipip", ... outermost first */
    uint8_t tun_family;      /* outermost tunnel's outer addresses */
    uint8_t tun_src[16], tun_dst[16];
    const uint8_t *l3;       /* innermost IP header (NULL for reassembled datagrams) */
    uint32_t l3_len;
    uint16_t ethertype;      /* non-IP frame: its type/length field (ARP 0x0806, LLDP, ...) */
    uint8_t llc_dsap, llc_ctl; /* 802.3 frames: LLC header */
    bool frag_held;          /* a fragment was stored; nothing to deliver yet */
    bool reassembled;        /* payload comes from fragment reassembly */
    uint64_t frame_bytes;    /* reassembled: frame bytes of all its fragments (else 0) */
    uint32_t anom;           /* bitmask of enum vk_anom */
};

struct vk_decode_stats {
    uint64_t packets, bytes, non_ip, frags, reassembled, frag_evicted;
    uint64_t anom[VK_ANOM__COUNT];
};

struct vk_decoder;
/* max_frag_bytes caps the fragment table in total (0 = default 32 MiB). */
struct vk_decoder *vk_decode_new(size_t max_frag_bytes);
void vk_decode_free(struct vk_decoder *d);
/* Decode one packet. Returns 0 when an IP flow key was found (out->family != 0), 1 when
 * the packet carries no IP flow (ARP, LLDP, a held fragment...), never crashes on junk.
 * Pointers in out stay valid until the next call with the same decoder. */
int vk_decode_packet(struct vk_decoder *d, const struct vk_pkt *pkt, struct vk_decoded *out);
const struct vk_decode_stats *vk_decode_stats(const struct vk_decoder *d);
/* Expire fragments older than now_us - timeout. */
void vk_decode_expire(struct vk_decoder *d, uint64_t now_us);
/* Dispatcher mode: decode only far enough to know the addresses; fragments are not held.
 * Used by the reading thread to pick a worker. */
void vk_decode_set_hash_only(struct vk_decoder *d);
/* True for link types this decoder reads. */
bool vk_decode_dlt_supported(int dlt);

#endif
