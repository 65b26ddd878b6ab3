/* test_quic.c — unit tests of the QUIC parser (src/proto/quic.c).
 *
 * Flows come straight from corpus captures (pcap/arkime/quic*.pcap, fbzero-android.pcap
 * and the QUIC captures of pcap/ndpi): a small libpcap loop takes every UDP (or TCP) payload of one
 * flow, in capture order, and feeds the parser as the flow stage would. quic.c is
 * included whole so that the key schedule can be checked against the RFC 9001 and
 * RFC 9369 vectors. The handshake messages quic.c hands to tls.c are recorded on the
 * way: the tests read the SNI out of those ClientHello bytes themselves, and check what
 * tls.c made of them only where Arkime gives the answer (quicietf.pcap). */
#include "vk_test.h"

#include <pcap/pcap.h>

/* quic.c's calls to tls.c go through hs_record(), which keeps a copy of each message
 * and then calls the real vk_tls_handshake(). */
#define vk_tls_handshake hs_record
#include "proto/quic.c"
#undef vk_tls_handshake
int vk_tls_handshake(struct vk_meta *m, const uint8_t *msg, size_t n, bool from_client, bool quic);

#define HS_MAX 8
static struct {
    uint8_t msg[HS_MAX][QUIC_CRYPTO_MAX];
    size_t len[HS_MAX];
    bool client[HS_MAX], quic[HS_MAX];
    int n;
} hs;

int hs_record(struct vk_meta *m, const uint8_t *msg, size_t n, bool from_client, bool quic)
{
    if (hs.n < HS_MAX && n <= QUIC_CRYPTO_MAX) {
        memcpy(hs.msg[hs.n], msg, n);
        hs.len[hs.n] = n;
        hs.client[hs.n] = from_client;
        hs.quic[hs.n] = quic;
        hs.n++;
    }
    return vk_tls_handshake(m, msg, n, from_client, quic);
}

/* server_name of a ClientHello ("" when absent, NULL when the message is malformed). */
static const char *ch_sni(const uint8_t *msg, size_t n)
{
    static char out[256];
    struct vk_cur m = vk_cur_make(msg, n), exts;
    uint8_t t, l8;
    uint16_t l16;
    uint32_t len;
    out[0] = 0;
    if (!vk_cur_u8(&m, &t) || t != 1 || !vk_cur_u24be(&m, &len) || len + 4 != n ||
        !vk_cur_skip(&m, 34) || !vk_cur_u8(&m, &l8) || !vk_cur_skip(&m, l8) ||
        !vk_cur_u16be(&m, &l16) || !vk_cur_skip(&m, l16) || !vk_cur_u8(&m, &l8) ||
        !vk_cur_skip(&m, l8) || !vk_cur_u16be(&m, &l16) || !vk_cur_take(&m, l16, &exts))
        return NULL;
    while (vk_cur_left(&exts)) {
        uint16_t et, el, ll, nl;
        uint8_t nt;
        struct vk_cur e;
        if (!vk_cur_u16be(&exts, &et) || !vk_cur_u16be(&exts, &el) || !vk_cur_take(&exts, el, &e))
            return NULL;
        if (et != 0) continue;
        if (!vk_cur_u16be(&e, &ll) || !vk_cur_u8(&e, &nt) || !vk_cur_u16be(&e, &nl) ||
            nl >= sizeof out || vk_cur_left(&e) < nl)
            return NULL;
        memcpy(out, e.p, nl);
        out[nl] = 0;
    }
    return out;
}

/* ---- running a flow out of a capture ---------------------------------------------------- */
struct pkt {
    uint8_t family, proto;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    const uint8_t *pl;
    size_t n;
};

/* Ethernet (+VLAN) / IPv4 or IPv6 / UDP or TCP. False for anything else. */
static bool decode(const uint8_t *p, size_t n, struct pkt *k)
{
    struct vk_cur c = vk_cur_make(p, n), l4;
    uint16_t et, a;
    uint8_t x;
    memset(k, 0, sizeof *k);
    if (!vk_cur_skip(&c, 12) || !vk_cur_u16be(&c, &et)) return false;
    while (et == 0x8100 || et == 0x88a8)
        if (!vk_cur_skip(&c, 2) || !vk_cur_u16be(&c, &et)) return false;
    if (et == 0x0800) {
        uint16_t tot, frag;
        if (!vk_cur_u8(&c, &x)) return false;
        size_t ihl = (x & 15u) * 4;
        struct vk_cur ip = c;
        if (!vk_cur_skip(&ip, 1) || !vk_cur_u16be(&ip, &tot) || !vk_cur_skip(&ip, 2) ||
            !vk_cur_u16be(&ip, &frag) || !vk_cur_skip(&ip, 1) || !vk_cur_u8(&ip, &k->proto) ||
            !vk_cur_skip(&ip, 2) || vk_cur_left(&ip) < 8)
            return false;
        if (frag & 0x3fff) return false;
        memcpy(k->src, ip.p, 4);
        memcpy(k->dst, ip.p + 4, 4);
        k->family = 4;
        if (tot < ihl || !vk_cur_skip(&c, ihl - 1) || !vk_cur_take(&c, tot - ihl, &l4)) return false;
    } else if (et == 0x86dd) {
        uint16_t plen;
        if (!vk_cur_skip(&c, 4) || !vk_cur_u16be(&c, &plen) || !vk_cur_u8(&c, &k->proto) ||
            !vk_cur_skip(&c, 1) || vk_cur_left(&c) < 32)
            return false;
        memcpy(k->src, c.p, 16);
        memcpy(k->dst, c.p + 16, 16);
        k->family = 6;
        if (!vk_cur_skip(&c, 32) || !vk_cur_take(&c, plen, &l4)) return false;
    } else {
        return false;
    }
    struct vk_cur seg = l4;
    if (!vk_cur_u16be(&l4, &k->sport) || !vk_cur_u16be(&l4, &k->dport)) return false;
    if (k->proto == 17) {
        if (!vk_cur_u16be(&l4, &a) || !vk_cur_skip(&l4, 2) || a < 8 || a - 8u > vk_cur_left(&l4))
            return false;
        k->pl = l4.p;
        k->n = a - 8u;
        return true;
    }
    if (k->proto == 6) {
        struct vk_cur t = seg;
        if (!vk_cur_skip(&t, 12) || !vk_cur_u8(&t, &x) || !vk_cur_skip(&seg, (x >> 4) * 4u))
            return false;
        k->pl = seg.p;
        k->n = vk_cur_left(&seg);
        return true;
    }
    return false;
}

struct run {
    struct vk_meta meta;
    int probe;       /* probe() of the first payload */
    int datagrams;   /* payloads delivered */
    bool done;       /* the parser asked for no more */
};

/* Feed parser ps every payload of one flow of a capture: the flow of the first packet
 * whose source or destination port is `port` (any flow when 0). The sender of the first
 * packet is VK_DIR_SRC, as in the flow stage. Optionally corrupt payload byte `flip` of
 * the first datagram (flip >= 0) or cut it to `cut` bytes (cut > 0). */
static void run_flow_ex(struct run *r, const struct vk_parser *ps, const char *rel, uint16_t port,
                        long flip, size_t cut)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(vk_test_corpus(rel), err);
    assert_non_null(pc);
    memset(r, 0, sizeof *r);
    vk_meta_init(&r->meta);
    struct vk_flow_view fv = {0};
    struct vk_pctx c = {.meta = &r->meta, .flow = &fv};
    void *st = calloc(1, ps->state_size);
    assert_non_null(st);
    bool have = false;
    struct pcap_pkthdr *h;
    const u_char *d;
    static uint8_t buf[65536];
    while (pcap_next_ex(pc, &h, &d) == 1) {
        struct pkt k;
        if (!decode(d, h->caplen, &k) || k.proto != ps->ipproto) continue;
        if (!have) {
            if (port && k.sport != port && k.dport != port) continue;
            fv.family = k.family;
            fv.ipproto = k.proto;
            memcpy(fv.addr[0], k.src, 16);
            memcpy(fv.addr[1], k.dst, 16);
            fv.port[0] = k.sport;
            fv.port[1] = k.dport;
            have = true;
            ps->init(st, &c);
        }
        int dir;
        if (k.sport == fv.port[0] && k.dport == fv.port[1] && !memcmp(k.src, fv.addr[0], 16) &&
            !memcmp(k.dst, fv.addr[1], 16))
            dir = VK_DIR_SRC;
        else if (k.sport == fv.port[1] && k.dport == fv.port[0] && !memcmp(k.src, fv.addr[1], 16) &&
                 !memcmp(k.dst, fv.addr[0], 16))
            dir = VK_DIR_DST;
        else
            continue;
        if (k.n == 0) continue;
        size_t n = k.n;
        memcpy(buf, k.pl, n);
        if (r->datagrams == 0) {
            if (flip >= 0 && (size_t)flip < n) buf[flip] ^= 0x55;
            if (cut && cut < n) n = cut;
            r->probe = ps->probe(&fv, dir, buf, n);
        }
        r->datagrams++;
        if (!c.done) ps->data(st, &c, dir, buf, n);
    }
    assert_true(have);
    ps->finish(st, &c);
    if (ps->release) ps->release(st);
    r->done = c.done;
    free(st);
    pcap_close(pc);
}

static void run_flow(struct run *r, const char *rel, uint16_t port)
{
    memset(&hs, 0, sizeof hs);
    run_flow_ex(r, &vk_proto_quic, rel, port, -1, 0);
}

static void assert_str(const struct vk_meta *m, enum vk_key k, const char *want)
{
    char got[512];
    assert_true(vk_meta_get_str(m, k, got, sizeof got));
    assert_string_equal(got, want);
}

/* Does the meta hold value `want` for key k (among several)? */
static bool has_str(const struct vk_meta *m, enum vk_key k, const char *want)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].len == strlen(want) &&
            memcmp(vk_meta_str(m, &m->items[i]), want, m->items[i].len) == 0)
            return true;
    return false;
}

/* Exactly one ClientHello went to tls.c, from the client, marked QUIC, with this SNI. */
static void assert_client_hello(const char *sni)
{
    int found = 0;
    for (int i = 0; i < hs.n; i++) {
        if (hs.msg[i][0] != 1) continue;
        found++;
        assert_true(hs.client[i]);
        assert_true(hs.quic[i]);
        const char *got = ch_sni(hs.msg[i], hs.len[i]);
        assert_non_null(got);
        assert_string_equal(got, sni);
    }
    assert_int_equal(found, 1);
}

static bool saw_server_hello(void)
{
    for (int i = 0; i < hs.n; i++)
        if (hs.msg[i][0] == 2 && !hs.client[i] && hs.quic[i]) return true;
    return false;
}

/* ---- key schedule ----------------------------------------------------------------------- */

static void hexeq(const uint8_t *got, const char *hex)
{
    char s[65];
    size_t n = strlen(hex) / 2;
    vk_hex(got, n, s);
    assert_string_equal(s, hex);
}

/* RFC 9001 Appendix A.1 and RFC 9369 Appendix A.1: DCID 0x8394c8f03e515708. */
static void test_initial_keys_rfc(void **st)
{
    static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    struct quic_keys k;
    assert_true(quic_derive_keys(QV_1, dcid, 8, true, &k));
    hexeq(k.key, "1f369613dd76d5467730efcbe3b1a22d");
    hexeq(k.iv, "fa044b2f42a3fd3b46fb255c");
    hexeq(k.hp, "9f50449e04a0e810283a1e9933adedd2");
    assert_true(quic_derive_keys(QV_1, dcid, 8, false, &k));
    hexeq(k.key, "cf3a5331653c364c88f0f379b6067e37");
    hexeq(k.iv, "0ac1493ca1905853b0bba03e");
    hexeq(k.hp, "c206b8d9b9f0f37644430b490eeaa314");
    assert_true(quic_derive_keys(QV_2, dcid, 8, true, &k));
    hexeq(k.key, "8b1a0bc121284290a29e0971b5cd045d");
    hexeq(k.iv, "91f73e2351d8fa91660e909f");
    hexeq(k.hp, "45b95e15235d6f45a6b19cbcb0294ba9");
    assert_true(quic_derive_keys(QV_2, dcid, 8, false, &k));
    hexeq(k.key, "82db637861d55e1d011f19ea71d5d2a7");
    /* a version without a known salt derives nothing */
    assert_false(quic_derive_keys(0xff000015u, dcid, 8, true, &k));
    assert_false(k.ok);
}

/* RFC 9000 A.3's example, and RFC 9000 A.1's varints. */
static void test_pn_and_varint(void **st)
{
    assert_int_equal(quic_pn_decode(0xa82f30eaULL + 1, 0x9b32, 16), 0xa82f9b32ULL);
    assert_int_equal(quic_pn_decode(0, 2, 8), 2);
    static const uint8_t v[] = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c, 0x9d, 0x7f,
                                0x3e, 0x7d, 0x7b, 0xbd, 0x25};
    struct vk_cur c = vk_cur_make(v, sizeof v);
    uint64_t x;
    assert_true(quic_varint(&c, &x));
    assert_int_equal(x, 151288809941952652ULL);
    assert_true(quic_varint(&c, &x));
    assert_int_equal(x, 494878333ULL);
    assert_true(quic_varint(&c, &x));
    assert_int_equal(x, 15293);
    assert_true(quic_varint(&c, &x));
    assert_int_equal(x, 37);
    assert_false(quic_varint(&c, &x));
}

static void test_version_names(void **st)
{
    char s[16];
    quic_version_name(QV_1, s, sizeof s);
    assert_string_equal(s, "1");
    quic_version_name(QV_2, s, sizeof s);
    assert_string_equal(s, "2");
    quic_version_name(0xff00001du, s, sizeof s);
    assert_string_equal(s, "draft-29");
    quic_version_name(0x51303433u, s, sizeof s);
    assert_string_equal(s, "Q043");
    quic_version_name(QV_MVFST_27, s, sizeof s);
    assert_string_equal(s, "mvfst-27");
    assert_int_equal(quic_family(0xbabababau), QF_NONE);
    assert_int_equal(quic_family(0x51303436u), QF_GQ_46);
    assert_int_equal(quic_family(0x54303531u), QF_GQ_5X);
}

/* ---- IETF QUIC on real captures --------------------------------------------------------- */

/* arkime/quicietf.pcap: one v1 client Initial (frame 1, 1330 bytes) from Chrome. The
 * TLS facts are tls.c's; the expected values are Arkime's (quicietf.test). */
static void test_ietf_v1_arkime(void **st)
{
    struct run r;
    run_flow(&r, "pcap/arkime/quicietf.pcap", 0);
    assert_int_equal(r.probe, 3);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "1");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_QUIC_VERSION), 1);
    assert_str(&r.meta, VK_K_SERVICE, "quic");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_SERVICE), 1); /* Arkime: quic, not tls */
    assert_client_hello("ssl.gstatic.com");
    assert_str(&r.meta, VK_K_TLS_SNI, "ssl.gstatic.com");
    assert_str(&r.meta, VK_K_ALIAS_HOST, "ssl.gstatic.com");
    assert_str(&r.meta, VK_K_TLS_JA3, "ddfef2ad23ab6dd55307813c2d0b7d58");
    assert_str(&r.meta, VK_K_TLS_JA4, "q13d0311h3_55b375c5d22e_3512bcbbc9ec");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "Chrome/92.0.4515.159 Intel Mac OS X 10_15_7");
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
}

/* ndpi/quic-23.pcap (aioquic, draft-23, IPv6): ClientHello in frame 1, the server's
 * Initial with the ServerHello coalesced with a Handshake packet in frame 2. */
static void test_ietf_draft23(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic-23.pcap", 0);
    assert_int_equal(r.probe, 3);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "draft-23");
    assert_client_hello("quic.aiortc.org");
    assert_true(saw_server_hello());
    assert_true(r.done); /* both hellos read: the parser let go */
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
}

/* ndpi/quic-24.pcap and quic-29.pcap (quiche, drafts 24 and 29, SNI localhost). In both
 * the server answers the first Initial with a Retry (frame 2): its Initial (frame 4)
 * only decrypts with keys from the Retry's Source Connection ID. */
static void test_ietf_draft24_29(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic-24.pcap", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "draft-24");
    assert_client_hello("localhost");
    assert_true(saw_server_hello());
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
    run_flow(&r, "pcap/ndpi/quic-29.pcap", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "draft-29");
    assert_client_hello("localhost");
    assert_true(saw_server_hello());
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
}

/* ndpi/quic-28.pcap: the client opens with draft-28 (frame 1), the server answers with
 * Version Negotiation (frame 2), and the client retries with draft-27 (frame 3). */
static void test_ietf_version_negotiation(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic-28.pcap", 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_QUIC_VERSION), 2);
    assert_true(has_str(&r.meta, VK_K_QUIC_VERSION, "draft-28"));
    assert_true(has_str(&r.meta, VK_K_QUIC_VERSION, "draft-27"));
    /* the same ClientHello is sent twice; the first one completes the stream */
    assert_client_hello("www.wireshark.org");
    vk_meta_free(&r.meta);
}

/* ndpi/quic-forcing-vn-with-data.pcapng: a greased version 0xbabababa first (frame 1),
 * Version Negotiation, then v1. Grease is not a version we report. */
static void test_ietf_forcing_vn(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic-forcing-vn-with-data.pcapng", 0);
    assert_int_equal(r.probe, 3);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_QUIC_VERSION), 1);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "1");
    assert_str(&r.meta, VK_K_SERVICE, "quic");
    assert_client_hello(""); /* quiche sent no server_name */
    vk_meta_free(&r.meta);
}

/* ndpi/quic-mvfst-22.pcap and quic-mvfst-27.pcapng: Facebook's mvfst versions. */
static void test_ietf_mvfst(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic-mvfst-22.pcap", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "mvfst-22");
    assert_client_hello("graph.facebook.com");
    vk_meta_free(&r.meta);
    run_flow(&r, "pcap/ndpi/quic-mvfst-27.pcapng", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "mvfst-27");
    assert_client_hello("graph.facebook.com");
    vk_meta_free(&r.meta);
}

/* ndpi/quic_frags_ch_in_multiple_packets.pcapng: the ClientHello spans the CRYPTO frames
 * of two Initial datagrams (frames 1 and 2). */
static void test_ietf_ch_in_two_datagrams(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic_frags_ch_in_multiple_packets.pcapng", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "1");
    assert_client_hello("");
    for (int i = 0; i < hs.n; i++)
        if (hs.msg[i][0] == 1) assert_true(hs.len[i] > 1240); /* more than one datagram */
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
}

/* ndpi/quic_frags_ch_out_of_order_same_packet_craziness.pcapng: Chrome (draft-29) splits
 * its ClientHello into CRYPTO frames sent out of order over several datagrams. The user
 * agent rides in the google_user_agent transport parameter. */
static void test_ietf_ch_out_of_order(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic_frags_ch_out_of_order_same_packet_craziness.pcapng", 56528);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "draft-29");
    assert_client_hello("update.googleapis.com");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT,
               "dev Chrome/92.0.4503.5 Windows NT 10.0; Win64; x64");
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
    run_flow(&r, "pcap/ndpi/quic_frags_ch_out_of_order_same_packet_craziness.pcapng", 61647);
    assert_client_hello("sb-ssl.google.com");
    vk_meta_free(&r.meta);
}

/* ndpi/quic_0RTT.pcap: Chrome's v1 0-RTT packets (frames 3, 4) arrive before its Initial
 * (frame 5); and a draft-28 flow on ::1 whose Initial is coalesced with 0-RTT. */
static void test_ietf_0rtt(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic_0RTT.pcap", 51972);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "1");
    assert_client_hello("ssl.gstatic.com");
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
    run_flow(&r, "pcap/ndpi/quic_0RTT.pcap", 60459);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "draft-28");
    assert_client_hello("abcd");
    vk_meta_free(&r.meta);
}

/* ndpi/quic_cc_ack.pcapng: client Initials (draft-29) carrying only ACK and
 * CONNECTION_CLOSE frames: decrypted, walked, no ClientHello, no complaint. */
static void test_ietf_cc_ack(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic_cc_ack.pcapng", 57113);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "draft-29");
    assert_int_equal(hs.n, 0);
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
}

/* Damaged input: a flipped ciphertext byte fails authentication. The first client
 * Initial is then read leniently (as maltrail and nDPI do): its frames still parse, so
 * the ClientHello is used and the failure is an anomaly. A cut datagram is truncated. */
static void test_ietf_damaged(void **st)
{
    struct run r;
    memset(&hs, 0, sizeof hs);
    run_flow_ex(&r, &vk_proto_quic, "pcap/arkime/quicietf.pcap", 0, 600, 0);
    assert_true(has_str(&r.meta, VK_K_ANOMALY, "quic.bad_tag"));
    assert_false(has_str(&r.meta, VK_K_ANOMALY, "quic.decrypt_failed"));
    assert_int_equal(hs.n, 1);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "1");
    vk_meta_free(&r.meta);
    memset(&hs, 0, sizeof hs);
    run_flow_ex(&r, &vk_proto_quic, "pcap/arkime/quicietf.pcap", 0, -1, 300);
    assert_true(has_str(&r.meta, VK_K_ANOMALY, "quic.truncated"));
    assert_int_equal(hs.n, 0);
    vk_meta_free(&r.meta);
    /* a DCID length over 20 (byte 5 of the long header) */
    memset(&hs, 0, sizeof hs);
    run_flow_ex(&r, &vk_proto_quic, "pcap/arkime/quicietf.pcap", 0, 5, 0);
    assert_true(has_str(&r.meta, VK_K_ANOMALY, "quic.bad_header"));
    vk_meta_free(&r.meta);
}

/* ---- Google QUIC ------------------------------------------------------------------------ */

/* arkime/quic24-wireshark.pcap, quic34.pcap, quic43.pcap: cleartext CHLOs after the
 * legacy public header. Arkime reports the same values as quic.host / quic.useragent. */
static void test_gquic_arkime(void **st)
{
    struct run r;
    run_flow(&r, "pcap/arkime/quic24-wireshark.pcap", 0);
    assert_int_equal(r.probe, 3);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "Q024");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_QUIC_VERSION), 1);
    assert_str(&r.meta, VK_K_QUIC_SNI, "www.google.fr");
    assert_str(&r.meta, VK_K_ALIAS_HOST, "www.google.fr");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "canary Chrome/44.0.2375.0");
    assert_str(&r.meta, VK_K_SERVICE, "quic");
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);

    run_flow(&r, "pcap/arkime/quic34.pcap", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "Q034");
    assert_str(&r.meta, VK_K_QUIC_SNI, "ssl.gstatic.com");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "canary Chrome/53.0.2782.0 Windows NT 6.1; Win64; x64");
    vk_meta_free(&r.meta);

    run_flow(&r, "pcap/arkime/quic43.pcap", 0);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "Q043");
    assert_str(&r.meta, VK_K_QUIC_SNI, "r3---sn-n4v7knl6.googlevideo.com");
    assert_str(&r.meta, VK_K_ALIAS_HOST, "r3---sn-n4v7knl6.googlevideo.com");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "Chrome/72.0.3626.109 Intel Mac OS X 10_14_3");
    assert_true(r.done);
    vk_meta_free(&r.meta);
}

/* ndpi/quic.pcap (Q024, Q030, Q025, Q033 flows), youtube_quic.pcap (Q035) and
 * quic_q43.pcap: the SNI and version nDPI reports for each flow. */
static void test_gquic_ndpi_legacy(void **st)
{
    static const struct { const char *pcap; uint16_t port; const char *ver, *sni; } t[] = {
        {"pcap/ndpi/quic.pcap", 57833, "Q024", "mail.google.com"},
        {"pcap/ndpi/quic.pcap", 35236, "Q030", "www.youtube.com"},
        {"pcap/ndpi/quic.pcap", 34438, "Q025", "www.youtube.com"},
        {"pcap/ndpi/quic.pcap", 48445, "Q025", "i.ytimg.com"},
        {"pcap/ndpi/quic.pcap", 40134, "Q033", NULL},
        {"pcap/ndpi/youtube_quic.pcap", 56074, "Q035", "yt3.ggpht.com"},
        {"pcap/ndpi/youtube_quic.pcap", 54997, "Q035", "pagead2.googlesyndication.com"},
        {"pcap/ndpi/quic_q43.pcap", 0, "Q043", "dns.google.com"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct run r;
        run_flow(&r, t[i].pcap, t[i].port);
        assert_true(has_str(&r.meta, VK_K_QUIC_VERSION, t[i].ver));
        if (t[i].sni) assert_str(&r.meta, VK_K_QUIC_SNI, t[i].sni);
        else assert_false(vk_meta_has(&r.meta, VK_K_QUIC_SNI));
        assert_str(&r.meta, VK_K_SERVICE, "quic");
        vk_meta_free(&r.meta);
    }
}

/* ndpi/quic046.pcap and quic_q46_b.pcap: Q046 long header, cleartext CHLO. */
static void test_gquic_q046(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic046.pcap", 0);
    assert_int_equal(r.probe, 3);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "Q046");
    assert_str(&r.meta, VK_K_QUIC_SNI, "i.ytimg.com");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "Chrome/80.0.3987.132 Windows NT 6.3; Win64; x64");
    vk_meta_free(&r.meta);
    run_flow(&r, "pcap/ndpi/quic_q46_b.pcap", 0);
    assert_str(&r.meta, VK_K_QUIC_SNI, "upload.youtube.com");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "com.google.android.youtube Cronet/76.0.3809.0");
    vk_meta_free(&r.meta);
}

/* ndpi/quic_q50.pcap: Q050 protects its Initial (frame 1) with its own salt; the CHLO is
 * inside a gQUIC CRYPTO frame. */
static void test_gquic_q050(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/quic_q50.pcap", 0);
    assert_int_equal(r.probe, 3);
    assert_str(&r.meta, VK_K_QUIC_VERSION, "Q050");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_QUIC_VERSION), 1);
    assert_str(&r.meta, VK_K_QUIC_SNI, "www.googletagmanager.com");
    assert_str(&r.meta, VK_K_QUIC_USER_AGENT, "Chrome/83.0.4103.101 Android 8.0.0; LDN-L21");
    assert_int_equal(hs.n, 0); /* not TLS */
    assert_false(vk_meta_has(&r.meta, VK_K_ANOMALY));
    vk_meta_free(&r.meta);
}

/* ndpi/gquic_only_from_server.pcap: only the server side of a gQUIC session; its first
 * packet carries a cleartext REJ after an ACK frame. */
static void test_gquic_only_server(void **st)
{
    struct run r;
    run_flow(&r, "pcap/ndpi/gquic_only_from_server.pcap", 0);
    assert_int_equal(r.probe, 2);
    assert_str(&r.meta, VK_K_SERVICE, "quic");
    assert_false(vk_meta_has(&r.meta, VK_K_QUIC_SNI));
    vk_meta_free(&r.meta);
}

/* arkime/fbzero-android.pcap: the "1QTV" CHLO in TCP frame 4. Arkime: protocols fbzero
 * and quic, quic.host graph.facebook.com. */
static void test_fbzero(void **st)
{
    struct run r;
    run_flow_ex(&r, &vk_proto_fbzero, "pcap/arkime/fbzero-android.pcap", 0, -1, 0);
    assert_int_equal(r.probe, 3);
    assert_true(has_str(&r.meta, VK_K_SERVICE, "fbzero"));
    assert_true(has_str(&r.meta, VK_K_SERVICE, "quic"));
    assert_str(&r.meta, VK_K_QUIC_SNI, "graph.facebook.com");
    assert_str(&r.meta, VK_K_ALIAS_HOST, "graph.facebook.com");
    assert_true(r.done);
    vk_meta_free(&r.meta);
}

/* ---- probe on made-up first bytes ------------------------------------------------------ */
static void test_probe(void **st)
{
    struct vk_flow_view f443 = {.family = 4, .ipproto = 17, .port = {50000, 443}};
    struct vk_flow_view f53 = {.family = 4, .ipproto = 17, .port = {50000, 53}};
    uint8_t dns[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    uint8_t ietf[16] = {0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0};
    uint8_t junk[4] = {0x80, 0x12, 0x34, 0x56};
    assert_int_equal(vk_proto_quic.probe(&f53, 0, dns, sizeof dns), 0);
    assert_int_equal(vk_proto_quic.probe(&f443, 0, dns, sizeof dns), 1);
    assert_int_equal(vk_proto_quic.probe(&f53, 0, ietf, sizeof ietf), 3);
    assert_int_equal(vk_proto_quic.probe(&f443, 0, junk, sizeof junk), 1);
    assert_int_equal(vk_proto_quic.probe(&f53, 0, junk, 1), 0);
    ietf[5] = 21; /* CID too long */
    assert_int_equal(vk_proto_quic.probe(&f53, 0, ietf, sizeof ietf), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_keys_rfc),
        cmocka_unit_test(test_pn_and_varint),
        cmocka_unit_test(test_version_names),
        cmocka_unit_test(test_ietf_v1_arkime),
        cmocka_unit_test(test_ietf_draft23),
        cmocka_unit_test(test_ietf_draft24_29),
        cmocka_unit_test(test_ietf_version_negotiation),
        cmocka_unit_test(test_ietf_forcing_vn),
        cmocka_unit_test(test_ietf_mvfst),
        cmocka_unit_test(test_ietf_ch_in_two_datagrams),
        cmocka_unit_test(test_ietf_ch_out_of_order),
        cmocka_unit_test(test_ietf_0rtt),
        cmocka_unit_test(test_ietf_cc_ack),
        cmocka_unit_test(test_ietf_damaged),
        cmocka_unit_test(test_gquic_arkime),
        cmocka_unit_test(test_gquic_ndpi_legacy),
        cmocka_unit_test(test_gquic_q046),
        cmocka_unit_test(test_gquic_q050),
        cmocka_unit_test(test_gquic_only_server),
        cmocka_unit_test(test_fbzero),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
