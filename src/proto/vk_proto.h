/* vk_proto.h — the interface between the flow stage and the application parsers.
 *
 * A parser is a table of callbacks (struct vk_parser). The flow stage offers the first
 * payload of a session to every parser's probe(); the best claim wins and the parser
 * then receives, per direction and in order, the reassembled TCP bytes (or each UDP
 * datagram), gap notices where bytes were lost, and finish() at the end of the session
 * (or at an interim save). Parsers add facts to the session through vk_meta_* on c->meta
 * and never see the flow table. They keep their state in the state_size bytes the flow
 * stage allocates per session, and they never allocate per packet: buffers are bounded
 * (vk_buf with a max) and an overflow becomes an anomaly. */
#ifndef VK_PROTO_H
#define VK_PROTO_H

#include "../core/vk_core.h"

enum { VK_DIR_SRC = 0, VK_DIR_DST = 1 }; /* 0: from the initiator (client), 1: from responder */

/* What a parser may know about the session it is attached to. */
struct vk_flow_view {
    uint8_t family;     /* 4 or 6 */
    uint8_t ipproto;    /* 6 TCP, 17 UDP, 132 SCTP */
    uint8_t addr[2][16];/* [VK_DIR_SRC], [VK_DIR_DST]; IPv4 in the first 4 bytes */
    uint16_t port[2];
    uint64_t first_us;  /* first packet time, microseconds since epoch */
};

struct vk_pctx;
/* Ask the flow stage to tie a future session to this one (FTP data channels): the next
 * session to addr:port (port 0 = any) of the given family gets parser `parser` attached,
 * session.parent set to this session's id, and file.name = filename (may be NULL). */
typedef void (*vk_expect_fn)(struct vk_pctx *c, int family, const uint8_t *addr,
                             uint16_t port, const char *parser, const char *filename);

struct vk_pctx {
    struct vk_meta *meta;           /* the session's meta: add facts here */
    const struct vk_flow_view *flow;
    uint64_t now_us;                /* time of the packet being delivered */
    bool done;                      /* a parser sets it when it wants no more data */
    bool reprobe;                   /* with done: the bytes that follow are another protocol
                                     * (CONNECT tunnel, SOCKS): offer them to every parser */
    size_t reprobe_at;              /* with reprobe: offset in the current data where the
                                     * other protocol starts (default: after it) */
    vk_expect_fn expect;            /* may be NULL (e.g. in unit tests) */
    void *flow_priv;                /* owned by the flow stage */
};

struct vk_parser {
    const char *name;      /* service name it sets, e.g. "http" */
    uint8_t ipproto;       /* 6 or 17 (a parser serving both registers twice) */
    /* Claim strength for a session whose first payload in direction dir is p[0..n):
     * 0 = not mine, 1 = port hint only, 2 = weak content match, 3 = sure. Must not keep
     * p. Called for the first payload of each direction until a parser is chosen. */
    int (*probe)(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n);
    size_t state_size;     /* zeroed bytes allocated per session */
    void (*init)(void *st, struct vk_pctx *c);
    /* In-order bytes of one direction (TCP), or one datagram (UDP). */
    void (*data)(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n);
    /* n bytes were lost in direction dir (TCP gap): resynchronise at the next boundary. */
    void (*gap)(void *st, struct vk_pctx *c, int dir, size_t n);
    /* End of session: flush what is pending into c->meta. */
    void (*finish)(void *st, struct vk_pctx *c);
    /* Release what init/data allocated. May be NULL. */
    void (*release)(void *st);
};

/* The parsers, one per file in src/proto. */
extern const struct vk_parser vk_proto_http;
extern const struct vk_parser vk_proto_dns_udp;
extern const struct vk_parser vk_proto_dns_tcp;
extern const struct vk_parser vk_proto_tls;
extern const struct vk_parser vk_proto_smtp;
extern const struct vk_parser vk_proto_ftp;
extern const struct vk_parser vk_proto_ftp_data;
extern const struct vk_parser vk_proto_ssh;
extern const struct vk_parser vk_proto_smb;
extern const struct vk_parser vk_proto_dhcp;
extern const struct vk_parser vk_proto_quic;
extern const struct vk_parser vk_proto_fbzero; /* Facebook's Zero protocol (quic.c) */
extern const struct vk_parser vk_proto_socks;
extern const struct vk_parser vk_proto_sig_udp, vk_proto_sig_tcp; /* signatures (sig.c) */

/* All parsers in probe order; a slot may be NULL (skip it). */
#define VK_PROTO_SLOTS 15
extern const struct vk_parser *const vk_proto_all[VK_PROTO_SLOTS];
const struct vk_parser *vk_proto_by_name(const char *name, uint8_t ipproto);

/* Shared TLS handshake reader, used by tls.c and quic.c (the QUIC Initial carries a TLS
 * ClientHello in CRYPTO frames). Parses one complete handshake message (type, 24-bit
 * length, body) and adds its facts to m; from_client tells JA3 from JA3S. quic=true marks
 * JA4's transport as 'q'. Returns 0 or a negative VK_E* code (facts found so far stay). */
int vk_tls_handshake(struct vk_meta *m, const uint8_t *msg, size_t n, bool from_client,
                     bool quic);

#endif
