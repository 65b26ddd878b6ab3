/* test_smb.c — unit tests of the SMB parser (src/proto/smb.c) on bytes from the corpus.
 *
 * Single messages are inlined as hex (capture and frame named above each); whole sessions
 * are read from the corpus captures with libpcap and fed through a small in-order TCP
 * follower, so compounds, encrypted messages and segment splits are exercised as they
 * occur in real traffic. Expected values were checked against tshark and against Arkime's
 * golden output (the .test files beside the Arkime captures). */
#include "vk_test.h"

#include <pcap/pcap.h>
#include <string.h>

#include "proto/vk_proto.h"

/* ---- harness ----------------------------------------------------------------------- */

struct run {
    struct vk_meta meta;
    struct vk_flow_view flow;
    struct vk_pctx c;
    void *st;
};

static void run_begin(struct run *r, uint16_t cport, uint16_t sport)
{
    memset(r, 0, sizeof *r);
    vk_meta_init(&r->meta);
    r->flow.family = 4;
    r->flow.ipproto = 6;
    r->flow.port[VK_DIR_SRC] = cport;
    r->flow.port[VK_DIR_DST] = sport;
    r->c.meta = &r->meta;
    r->c.flow = &r->flow;
    r->st = calloc(1, vk_proto_smb.state_size);
    assert_non_null(r->st);
    vk_proto_smb.init(r->st, &r->c);
}

static size_t unhex(const char *hex, uint8_t **out)
{
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        b[i] = (uint8_t)v;
    }
    *out = b;
    return n;
}

/* Deliver a hex payload in chunks of `step` bytes (0: all at once). */
static void run_hex_split(struct run *r, int dir, const char *hex, size_t step)
{
    uint8_t *b;
    size_t n = unhex(hex, &b);
    if (!step) step = n ? n : 1;
    for (size_t o = 0; o < n; o += step)
        vk_proto_smb.data(r->st, &r->c, dir, b + o, n - o < step ? n - o : step);
    free(b);
}

static void run_hex(struct run *r, int dir, const char *hex) { run_hex_split(r, dir, hex, 0); }

static void run_end(struct run *r)
{
    vk_proto_smb.finish(r->st, &r->c);
    vk_proto_smb.release(r->st);
    free(r->st);
    r->st = NULL;
}

static bool has(const struct vk_meta *m, enum vk_key k, const char *v)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key == k && it->len == strlen(v) && memcmp(vk_meta_str(m, it), v, it->len) == 0)
            return true;
    }
    return false;
}

static void dump(const struct vk_meta *m)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        fprintf(stderr, "  %s = %.*s\n", vk_key_info(it->key)->name, (int)it->len,
                vk_meta_str(m, it));
    }
}

/* The values of key k are exactly vals (as a set). */
static void expect_set(const struct vk_meta *m, enum vk_key k, const char *const *vals, unsigned n)
{
    bool ok = vk_meta_count(m, k) == n;
    for (unsigned i = 0; ok && i < n; i++) ok = has(m, k, vals[i]);
    if (!ok) {
        fprintf(stderr, "key %s: expected %u values:\n", vk_key_info(k)->name, n);
        for (unsigned i = 0; i < n; i++) fprintf(stderr, "  '%s'\n", vals[i]);
        dump(m);
    }
    assert_true(ok);
}
#define EXPECT(m, k, ...)                                                            \
    do {                                                                             \
        static const char *const v_[] = {__VA_ARGS__};                               \
        expect_set((m), (k), v_, sizeof v_ / sizeof v_[0]);                          \
    } while (0)
#define EXPECT_NONE(m, k)                                                            \
    do {                                                                             \
        if (vk_meta_count((m), (k))) dump(m);                                        \
        assert_int_equal(vk_meta_count((m), (k)), 0);                                \
    } while (0)

/* Follow one TCP connection of a capture (by client port) and feed its payload in order:
 * retransmitted bytes are dropped, missing bytes become gap() calls. Ethernet (with 802.1Q)
 * and Linux cooked captures, IPv4 and IPv6. */
static void run_pcap(struct run *r, const char *rel, uint16_t cport)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(vk_test_corpus(rel), err);
    struct pcap_pkthdr *h;
    const u_char *pkt;
    uint32_t next[2] = {0, 0};
    bool seen[2] = {false, false};
    if (!pc) fprintf(stderr, "%s\n", err);
    assert_non_null(pc);
    int dlt = pcap_datalink(pc);
    while (pcap_next_ex(pc, &h, &pkt) == 1) {
        struct vk_cur c = vk_cur_make(pkt, h->caplen);
        uint16_t et = 0, sp, dp, len16 = 0;
        uint8_t b, proto = 0, off;
        uint32_t seq, plen = 0;
        if (dlt == DLT_EN10MB) {
            vk_cur_skip(&c, 12);
            vk_cur_u16be(&c, &et);
            while (et == 0x8100 && vk_cur_skip(&c, 2)) vk_cur_u16be(&c, &et);
        } else if (dlt == DLT_LINUX_SLL) {
            vk_cur_skip(&c, 14);
            vk_cur_u16be(&c, &et);
        }
        if (et == 0x0800) {
            if (!vk_cur_u8(&c, &b)) continue;
            size_t ihl = (size_t)(b & 15) * 4;
            vk_cur_skip(&c, 1);
            vk_cur_u16be(&c, &len16);
            vk_cur_skip(&c, 5);
            vk_cur_u8(&c, &proto);
            if (!vk_cur_skip(&c, ihl - 10)) continue;
            plen = len16 - (uint32_t)ihl;
        } else if (et == 0x86dd) {
            vk_cur_skip(&c, 4);
            vk_cur_u16be(&c, &len16);
            vk_cur_u8(&c, &proto);
            if (!vk_cur_skip(&c, 33)) continue;
            plen = len16;
        }
        if (proto != 6) continue;
        if (!vk_cur_u16be(&c, &sp) || !vk_cur_u16be(&c, &dp) || !vk_cur_u32be(&c, &seq) ||
            !vk_cur_skip(&c, 4) || !vk_cur_u8(&c, &off) || !vk_cur_u8(&c, &b))
            continue;
        if (sp != cport && dp != cport) continue;
        int dir = sp == cport ? VK_DIR_SRC : VK_DIR_DST;
        size_t thl = (size_t)(off >> 4) * 4;
        if (!vk_cur_skip(&c, thl - 14)) continue;
        if (plen < thl) continue;
        size_t n = plen - thl;
        if (n > vk_cur_left(&c)) n = vk_cur_left(&c);
        if (b & 0x02) { /* SYN */
            next[dir] = seq + 1;
            seen[dir] = true;
            continue;
        }
        if (!n) continue;
        if (!seen[dir]) {
            next[dir] = seq;
            seen[dir] = true;
        }
        int32_t d = (int32_t)(seq - next[dir]);
        if (d > 0) {
            vk_proto_smb.gap(r->st, &r->c, dir, (size_t)d);
        } else if (d < 0) {
            if ((size_t)-d >= n) continue;
            vk_cur_skip(&c, (size_t)-d);
            n -= (size_t)-d;
        }
        vk_proto_smb.data(r->st, &r->c, dir, c.p, n);
        next[dir] = seq + (uint32_t)((d < 0 ? -d : 0)) + (uint32_t)n;
    }
    pcap_close(pc);
}

/* ---- captured messages ----------------------------------------------------------------- */

/* arkime/wireshark-smb-on-windows10.pcap, 192.168.199.132:49675 -> 192.168.199.133:445 */
/* frame 95: 178 bytes */
static const char W10_NEG_REQ[] =
    "000000aefe534d4240000000000000000000000000000000000000000100000000000000fffe000000000000"
    "00000000000000000000000000000000000000000000000024000500010000007f0000002d55ca0e7893e611"
    "aaf4000c2903dfad700000000200000002021002000302031103000001002600000000000100200001005dc2"
    "866bbb6d1043a8118232e93d501d51bf4d6c0575a9550fdd5aa0322acff10000020006000000000002000200"
    "0100";
/* frame 96: 512 bytes */
static const char W10_NEG_RESP[] =
    "000001fcfe534d4240000000000000000000010001000000000000000100000000000000fffe000000000000"
    "0000000000000000000000000000000000000000000000004100010011030200966eafa3357f0440a5f9643e"
    "1bfa8c562f0000000000800000008000000080000bd7d7878527d201a1f3ae878427d20180004001c0010000"
    "6082013c06062b0601050502a08201303082012ca01a3018060a2b06010401823702021e060a2b0601040182"
    "3702020aa282010c048201084e45474f455854530100000000000000600000007000000082b23ba7cacc4e21"
    "6323ca8472061efbbfc883b06f9f4df819d76198de3791fe38a8613cdd2832879c8e5d1191ff601700000000"
    "00000000600000000100000000000000000000005c33530deaf90d4db2ec4ae3786ec3084e45474f45585453"
    "0300000001000000400000009800000082b23ba7cacc4e216323ca8472061efb5c33530deaf90d4db2ec4ae3"
    "786ec30840000000580000003056a05430523027802530233121301f06035504031318546f6b656e20536967"
    "6e696e67205075626c6963204b65793027802530233121301f06035504031318546f6b656e205369676e696e"
    "67205075626c6963204b65790100260000000000010020000100c208bec6b2e66b57965ef8922ec8b9ffeb99"
    "25c00254f2489327b640b7b20f910000020004000000000001000200";
/* frame 99: 679 bytes */
static const char W10_AUTH[] =
    "000002a3fe534d42400001000000000001001f0010000000000000000300000000000000fffe000000000000"
    "15000000007400000000000000000000000000000000000019000001010000000000000058004b0200000000"
    "00000000a182024730820243a0030a0101a2820226048202224e544c4d535350000300000018001800b20000"
    "0048014801ca0000001e001e00580000001e001e00760000001e001e00940000001000100012020000158288"
    "e20a005a290000000f1849f5f1c0e023601d2fc21622e43fec4400450053004b0054004f0050002d00320041"
    "00450046004d0037004700570069006c006c0069002000570069007200650073006800610072006b00440045"
    "0053004b0054004f0050002d0032004100450046004d00370047000000000000000000000000000000000000"
    "000000000000008149b0b2a73a191141bda07d1ed1843401010000000000000bd7d7878527d201146f943477"
    "75321c0000000002001e004400450053004b0054004f0050002d00560031004600410030005500510001001e"
    "004400450053004b0054004f0050002d00560031004600410030005500510004001e004400450053004b0054"
    "004f0050002d00560031004600410030005500510003001e004400450053004b0054004f0050002d00560031"
    "0046004100300055005100070008000bd7d7878527d201060004000200000008003000300000000000000001"
    "00000000200000ad865b6d08a95d0e76a94e2ca013ab3f69c4fd945cca01b277700fd2b305ca010a00100000"
    "0000000000000000000000000000000900280063006900660073002f003100390032002e003100360038002e"
    "003100390039002e00310033003300000000000000000000000000f26d0d78df4014ccbf0d2e7fd34f25f6a3"
    "12041001000000658fdc32ee7c8c9600000000";
/* frame 101: 120 bytes */
static const char W10_TREE[] =
    "00000074fe534d4240000100000000000300010018000000000000000400000000000000fffe000000000000"
    "15000000007400000ca37b38dbd1d9c0329262e14debe9670900000048002c005c005c003100390032002e00"
    "3100360038002e003100390039002e003100330033005c004900500043002400";
/* frame 105: 136 bytes */
static const char W10_CREATE[] =
    "00000084fe534d4240000100000000000500010030000000000000000600000000000000fffe000001000000"
    "1500000000740000000000000000000000000000000000003900000002000000000000000000000000000000"
    "000000009f0112000000000007000000010000004000400078000c0000000000000000007300720076007300"
    "76006300";
/* frame 109: 276 bytes */
static const char W10_IOCTL[] =
    "00000110fe534d4240000100000000000900010030000000000000000800000000000000fffe000001000000"
    "15000000007400000000000000000000000000000000000031007000a0000000000000000000000001000000"
    "1d000000010000001d0000000000000000000000000000000000000005000b0310000000a000000002000000"
    "b810b810000000000300000000000100c84f324b7016d30112785a47bf6ee18803000000045d888aeb1cc911"
    "9fe808002b1048600200000001000100c84f324b7016d30112785a47bf6ee1880300000033057171babe3749"
    "8319b5dbef9ccc360100000002000100c84f324b7016d30112785a47bf6ee188030000002c1cb76c12984045"
    "030000000000000001000000";
/* the same capture, 192.168.199.133:49671 -> 192.168.199.1:139 (NetBIOS session service) */
/* frame 3: 72 bytes */
static const char W10_NB_REQ[] =
    "8100004420464445444647434143414341434143414341434143414341434143414341434100204545454646"
    "44454c464545504641434e4647444245474542444146464642414100";
/* frame 4: 4 bytes */
static const char W10_NB_OK[] =
    "82000000";
/* frame 5: 159 bytes */
static const char W10_NB_NEG[] =
    "0000009bff534d4272000000001853c8000000000000000000000000fffffffe00000000007800025043204e"
    "4554574f524b2050524f4752414d20312e3000024c414e4d414e312e30000257696e646f777320666f722057"
    "6f726b67726f75707320332e316100024c4d312e325830303200024c414e4d414e322e3100024e54204c4d20"
    "302e31320002534d4220322e3030320002534d4220322e3f3f3f00";

/* arkime/smb-smb1-ascii.pcap, 10.10.0.3:2204 -> 10.10.0.2:445 (SMB1, ASCII strings) */
/* frame 6: 88 bytes */
static const char S1_NEG_REQ[] =
    "00000054ff534d4272000000001801280000000000000000000000000000727c0000a544003100024c414e4d"
    "414e312e3000024c4d312e325830303200024e54204c414e4d414e20312e3000024e54204c4d20302e313200";
/* frame 7: 209 bytes */
static const char S1_NEG_RESP[] =
    "000000cdff534d4272000000009801280000000000000000000000000000727c0000a5441103000f32000100"
    "044100000000010000000000fcf3018026a32fd1ad7dd001000000880096afd22ec9d04b4587ef481fdf5653"
    "e5607606062b0601050502a06c306aa03c303a060a2b06010401823702021e06092a864882f7120102020609"
    "2a864886f712010202060a2a864886f71201020203060a2b06010401823702020aa32a3028a0261b246e6f74"
    "5f646566696e65645f696e5f5246433431373840706c656173655f69676e6f7265";
/* frame 12: 467 bytes */
static const char S1_AUTH[] =
    "000001cfff534d4273000000001807280000d6a350c48f2920f000000000727c0020a5440cff000000dfff02"
    "000100000000007101000000005cd000809401a182016d30820169a2820165048201614e544c4d5353500003"
    "0000001800180040000000b800b8005800000006000600100100001a001a0016010000200020003001000010"
    "00100050010000158288e200000000000508a0d5a6f2807ffcae10ff0cf8104930ac3d6ac098f60046204b42"
    "aa9909954e3595010100000000000046fe95d1ad7dd001ff0cf8104930ac3d00000000020006004c00410042"
    "000100060044004300330004001a006c00610062002e0064006f006d00610069006e002e0065007800030022"
    "006400630033002e006c00610062002e0064006f006d00610069006e002e00650078000700080046fe95d1ad"
    "7dd00109001c0063006900660073002f00310030002e00310030002e0030002e00320000000000000000004c"
    "0041004200410064006d0069006e006900730074007200610074006f00720054004800450048004f00530054"
    "004e0041004d004500480045005200450058006fe32a38babeae5a47c1bab03afc7bd70057696e646f777320"
    "3230303020323139350057696e646f7773203230303020352e3000";
/* frame 15: 71 bytes */
static const char S1_TREE_IPC[] =
    "00000043ff534d427500000000180728000090f0a3c7257ce18700000000727c0020a54404ff000000000001"
    "001800005c5c31302e31302e302e325c49504324003f3f3f3f3f00";
/* frame 18: 73 bytes */
static const char S1_TREE_ADMIN[] =
    "00000045ff534d42750000000018072800007a7b29a534928bb600000000727c0020a54404ff000000000001"
    "001a00005c5c31302e31302e302e325c41444d494e24003f3f3f3f3f00";
/* frame 21: 83 bytes */
static const char S1_OPEN[] =
    "0000004fff534d422d00000000180728000015196426579c6a9500000118727c0020a5440fff000000000042"
    "00060000000000000012000000000000000000000000000e005c58585858585858582e65786500";

/* arkime/arkime_synthetic.pcap: SMB1 negotiate (10.9.7.1:49701), and a segment holding a
 * DELETE whose word count runs past its message followed by a good DELETE (10.9.7.3:49702) */
/* frame 792: 51 bytes */
static const char SY_NEG_REQ[] =
    "0000002fff534d4272000000000000000000000000000000000000000000000000000000000c00024e54204c"
    "4d20302e313200";
/* frame 793: 73 bytes */
static const char SY_NEG_RESP[] =
    "00000045ff534d42720000000080000000000000000000000000000000000000000000001100000000000000"
    "0000000000000000000000000000000000000000000000000000000000";
/* frame 800: 93 bytes */
static const char SY_DELETES[] =
    "00000022ff534d4206000000000000000000000000000000000000000000000000000000160000000033ff53"
    "4d42060000000000000000000000000000000000000000000000000000000100000e00047265616c66696c65"
    "2e74787400";

/* arkime/ntlm_synthetic.pcap: SMB1 SESSION_SETUP_ANDX with raw NTLMSSP (10.10.1.100:50001)
 * and with SPNEGO negTokenResp around it (10.10.2.100:50002) */
/* frame 4: 190 bytes */
static const char NT_NEGOTIATE[] =
    "000000baff534d427300000000000180000000000000000000000000cdab0100010034120cff000000041132"
    "00010000000000370000000000d40000807f004e544c4d535350000100000007020002070007002800000008"
    "0008002f0000000a00614a0000000f41524b444f4d3141524b484f535431570069006e0064006f0077007300"
    "2000310030000000570069006e0064006f0077007300200031003000200036002e003300000057004f005200"
    "4b00470052004f00550050000000";
/* frame 8: 330 bytes */
static const char NT_AUTH_RAW[] =
    "00000146ff534d427300000000000180000000000000000000000000cdab0100010034120cff000000041132"
    "00010000000000c20000000000d40000800b014e544c4d535350000300000018001800580000001800180070"
    "0000000e000e00880000000c000c009600000010001000a200000010001000b2000000050200020a00614a00"
    "00000f000000000000000000000000000000004c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4e"
    "4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e410052004b0044004f004d00310061006c00690063"
    "0065003100410052004b0048004f005300540031004b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b00570069006e00"
    "64006f00770073002000310030000000570069006e0064006f0077007300200031003000200036002e003300"
    "000057004f0052004b00470052004f00550050000000";
/* frame 22: 332 bytes */
static const char NT_AUTH_SPNEGO[] =
    "00000148ff534d427300000000000180000000000000000000000000cdab0100010034120cff000000041132"
    "00010000000000c40000000000d40000800d01a181c13081bea281bb0481b84e544c4d535350000300000018"
    "0018005800000018001800700000000c000c008800000006000600940000000e000e009a00000010001000a8"
    "000000050200020a007c4f0000000f000000000000000000000000000000004c4c4c4c4c4c4c4c4c4c4c4c4c"
    "4c4c4c4c4c4c4c4c4c4c4c4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e530050004e0044004f"
    "004d0062006f006200530050004e0048004f00530054004b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b0057006900"
    "6e0064006f00770073002000310030000000570069006e0064006f0077007300200031003000200036002e00"
    "3300000057004f0052004b00470052004f00550050000000";

/* arkime/smb-port80.pcap: an SMB1 NEGOTIATE to port 80 */
/* frame 4: 168 bytes */
static const char P80_NEG[] =
    "000000a4ff534d4272000000000801400000000000000000000000000000400600000100008100025043204e"
    "4554574f524b2050524f4752414d20312e3000024d4943524f534f4654204e4554574f524b5320312e303300"
    "024d4943524f534f4654204e4554574f524b5320332e3000024c414e4d414e312e3000024c4d312e32583030"
    "32000253616d626100024e54204c414e4d414e20312e3000024e54204c4d20302e313200";

/* ---- tests ------------------------------------------------------------------------------ */

static int probe_hex(uint16_t sport, const char *hex)
{
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {50000, sport}};
    uint8_t *b;
    size_t n = unhex(hex, &b);
    int r = vk_proto_smb.probe(&f, VK_DIR_SRC, b, n);
    free(b);
    return r;
}

static void test_probe(void **unused)
{
    (void)unused;
    assert_int_equal(probe_hex(445, W10_NEG_REQ), 3);
    assert_int_equal(probe_hex(80, P80_NEG), 3);
    assert_int_equal(probe_hex(139, W10_NB_REQ), 3);
    assert_int_equal(probe_hex(445, "474554202f20485454502f312e310d0a"), 1); /* GET / on 445 */
    assert_int_equal(probe_hex(80, "474554202f20485454502f312e310d0a"), 0);
    assert_int_equal(probe_hex(80, "00"), 0);
}

/* SMB 3.1.1: dialect from the server, NTLMSSP AUTHENTICATE in SPNEGO, tree, create. */
static void test_smb2_session(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 49675, 445);
    run_hex(&r, VK_DIR_SRC, W10_NEG_REQ);
    run_hex(&r, VK_DIR_DST, W10_NEG_RESP);
    run_hex(&r, VK_DIR_SRC, W10_AUTH);
    run_hex(&r, VK_DIR_SRC, W10_TREE);
    run_hex(&r, VK_DIR_SRC, W10_CREATE);
    run_hex(&r, VK_DIR_SRC, W10_IOCTL);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SERVICE, "smb"); /* no "ntlm" from SMB2, as in Arkime */
    EXPECT(&r.meta, VK_K_SMB_DIALECT, "SMB 3.1.1");
    EXPECT(&r.meta, VK_K_USER, "Willi Wireshark");
    EXPECT(&r.meta, VK_K_SMB_DOMAIN, "DESKTOP-2AEFM7G");
    EXPECT(&r.meta, VK_K_ALIAS_HOST, "desktop-2aefm7g");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");
    EXPECT(&r.meta, VK_K_SMB_FILE, "srvsvc");
    EXPECT(&r.meta, VK_K_FILE_NAME, "srvsvc");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

/* The same client messages glued into one stream and cut into 1, 7, 63 and 100-byte
 * segments: reassembly across segments and several messages per segment. */
static void test_smb2_segments(void **unused)
{
    (void)unused;
    static const size_t steps[] = {1, 7, 63, 100, 0};
    char *all = malloc(strlen(W10_AUTH) + strlen(W10_IOCTL) + strlen(W10_TREE) +
                       strlen(W10_CREATE) + 1);
    assert_non_null(all);
    strcpy(all, W10_AUTH);
    strcat(all, W10_IOCTL);
    strcat(all, W10_TREE);
    strcat(all, W10_CREATE);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct run r;
        run_begin(&r, 49675, 445);
        run_hex_split(&r, VK_DIR_SRC, all, steps[i]);
        run_end(&r);
        EXPECT(&r.meta, VK_K_USER, "Willi Wireshark");
        EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");
        EXPECT(&r.meta, VK_K_SMB_FILE, "srvsvc");
        EXPECT_NONE(&r.meta, VK_K_ANOMALY);
        vk_meta_free(&r.meta);
    }
    free(all);
}

/* Port 139: session request names, positive response, then SMB. */
static void test_nbss_session_request(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 49671, 139);
    run_hex(&r, VK_DIR_SRC, W10_NB_REQ);
    run_hex(&r, VK_DIR_DST, W10_NB_OK);
    assert_false(vk_meta_has(&r.meta, VK_K_SERVICE)); /* no SMB byte seen yet */
    run_hex(&r, VK_DIR_SRC, W10_NB_NEG);
    run_end(&r);
    EXPECT(&r.meta, VK_K_ALIAS_HOST, "scv", "desktop-v1fa0uq");
    EXPECT(&r.meta, VK_K_SERVICE, "smb");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

/* SMB1 with ASCII strings: values as in Arkime's smb-smb1-ascii.test. */
static void test_smb1_ascii(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 2204, 445);
    run_hex(&r, VK_DIR_SRC, S1_NEG_REQ);
    run_hex(&r, VK_DIR_DST, S1_NEG_RESP);
    run_hex(&r, VK_DIR_SRC, S1_AUTH);
    run_hex(&r, VK_DIR_SRC, S1_TREE_IPC);
    run_hex(&r, VK_DIR_SRC, S1_TREE_ADMIN);
    run_hex(&r, VK_DIR_SRC, S1_OPEN);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SERVICE, "smb", "ntlm"); /* Arkime: protocol [ntlm, smb, tcp] */
    EXPECT(&r.meta, VK_K_SMB_DIALECT, "NT LM 0.12");
    EXPECT(&r.meta, VK_K_USER, "Administrator");
    EXPECT(&r.meta, VK_K_SMB_DOMAIN, "LAB");
    EXPECT(&r.meta, VK_K_SMB_OS, "Windows 2000 2195");
    EXPECT(&r.meta, VK_K_ALIAS_HOST, "thehostnameherex");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\10.10.0.2\\IPC$", "\\\\10.10.0.2\\ADMIN$");
    EXPECT(&r.meta, VK_K_SMB_FILE, "XXXXXXXX.exe");
    EXPECT(&r.meta, VK_K_FILE_NAME, "XXXXXXXX.exe");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

static void test_smb1_synthetic(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 49701, 445);
    run_hex(&r, VK_DIR_SRC, SY_NEG_REQ);
    run_hex(&r, VK_DIR_DST, SY_NEG_RESP);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SMB_DIALECT, "NT LM 0.12");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);

    /* The first DELETE claims 22 words in a 34-byte message: flagged, and the next
     * message of the same segment is still read. */
    run_begin(&r, 49702, 445);
    run_hex(&r, VK_DIR_SRC, SY_DELETES);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SMB_FILE, "realfile.txt");
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.truncated");
    vk_meta_free(&r.meta);
}

/* NTLMSSP found raw and inside SPNEGO: users as Arkime's ntlm_synthetic.test has them. */
static void test_smb1_ntlmssp(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 50001, 445);
    run_hex(&r, VK_DIR_SRC, NT_NEGOTIATE);
    run_hex(&r, VK_DIR_SRC, NT_AUTH_RAW);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SERVICE, "smb", "ntlm");
    EXPECT(&r.meta, VK_K_USER, "alice1");
    EXPECT(&r.meta, VK_K_SMB_DOMAIN, "ARKDOM1", "WORKGROUP");
    EXPECT(&r.meta, VK_K_ALIAS_HOST, "arkhost1");
    EXPECT(&r.meta, VK_K_SMB_OS, "Windows 10");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);

    run_begin(&r, 50002, 445);
    run_hex(&r, VK_DIR_SRC, NT_AUTH_SPNEGO);
    run_end(&r);
    EXPECT(&r.meta, VK_K_USER, "bob");
    EXPECT(&r.meta, VK_K_SMB_DOMAIN, "SPNDOM", "WORKGROUP");
    EXPECT(&r.meta, VK_K_ALIAS_HOST, "spnhost");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

/* Lost bytes inside a message being skipped keep the framing; lost bytes inside a message
 * being read make the parser hunt for the next header. */
static void test_gaps(void **unused)
{
    (void)unused;
    struct run r;
    uint8_t *io, *tree, *create;
    size_t nio = unhex(W10_IOCTL, &io), ntree = unhex(W10_TREE, &tree);
    size_t ncreate = unhex(W10_CREATE, &create);
    run_begin(&r, 49675, 445);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, io, 80);
    vk_proto_smb.gap(r.st, &r.c, VK_DIR_SRC, 150);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, io + 230, nio - 230);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, tree, ntree);
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");

    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, create, 70); /* CREATE being gathered... */
    vk_proto_smb.gap(r.st, &r.c, VK_DIR_SRC, 10);         /* ...loses bytes */
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, create + 80, ncreate - 80);
    EXPECT_NONE(&r.meta, VK_K_SMB_FILE);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, create, ncreate); /* found again */
    run_end(&r);
    EXPECT(&r.meta, VK_K_SMB_FILE, "srvsvc");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
    free(io);
    free(tree);
    free(create);
}

/* Bad lengths become anomalies, and the parser keeps going where it can. */
static void test_bad_lengths(void **unused)
{
    (void)unused;
    struct run r;
    uint8_t *b;
    size_t n;

    run_begin(&r, 1000, 445); /* NBSS message too short for an SMB header */
    run_hex(&r, VK_DIR_SRC, "0000000aff534d42720000000000");
    run_hex(&r, VK_DIR_SRC, W10_TREE);
    run_end(&r);
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.bad_length");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");
    vk_meta_free(&r.meta);

    run_begin(&r, 1000, 445); /* unknown NBSS type, then hunting finds the next header */
    run_hex(&r, VK_DIR_SRC, "4200001000112233");
    run_hex(&r, VK_DIR_SRC, W10_TREE);
    run_end(&r);
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.bad_nbss");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");
    vk_meta_free(&r.meta);

    run_begin(&r, 1000, 445); /* not SMB inside a good NBSS frame */
    run_hex(&r, VK_DIR_SRC, "00000020" "474554202f20485454502f312e310d0a" /* GET / HTTP/1.1 */
                            "0d0a0d0a0d0a0d0a0d0a0d0a0d0a0d0a");
    run_end(&r);
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.bad_header");
    EXPECT_NONE(&r.meta, VK_K_SERVICE);
    vk_meta_free(&r.meta);

    /* TREE_CONNECT whose PathLength (byte 80) runs past the message. */
    n = unhex(W10_TREE, &b);
    b[4 + 64 + 6] = 0x7f;
    run_begin(&r, 1000, 445);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, b, n);
    run_end(&r);
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.truncated");
    EXPECT_NONE(&r.meta, VK_K_SMB_TREE);
    vk_meta_free(&r.meta);

    /* NextCommand (bytes 20..23 of the header) not a multiple of 8: the first element is
     * still read. */
    b[4 + 64 + 6] = 0x2c;
    b[4 + 20] = 0x41;
    run_begin(&r, 1000, 445);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, b, n);
    run_end(&r);
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.bad_compound");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");
    vk_meta_free(&r.meta);
    free(b);

    /* A CREATE of 70000 bytes is too long to gather: flagged and skipped by length. */
    n = unhex(W10_CREATE, &b);
    uint8_t *big = calloc(1, 4 + 70000);
    assert_non_null(big);
    memcpy(big, b, n);
    big[1] = 0x01;
    big[2] = 0x11;
    big[3] = 0x70; /* 0x011170 = 70000 */
    run_begin(&r, 1000, 445);
    vk_proto_smb.data(r.st, &r.c, VK_DIR_SRC, big, 4 + 70000);
    run_hex(&r, VK_DIR_SRC, W10_TREE);
    run_end(&r);
    EXPECT(&r.meta, VK_K_ANOMALY, "smb.message_too_long");
    EXPECT_NONE(&r.meta, VK_K_SMB_FILE);
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\192.168.199.133\\IPC$");
    vk_meta_free(&r.meta);
    free(big);
    free(b);
}

/* Whole sessions from captures. */

/* zeek/smb/smb2.pcap: SMB 2.0.2 negotiated after a multi-protocol SMB1 NEGOTIATE, NTLMSSP
 * in SPNEGO (the server's names from the CHALLENGE's target info, the client's from the
 * AUTHENTICATE), two trees, a named pipe and a PDF opened, compounded QUERY_INFO. */
static void test_pcap_zeek_smb2(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 49208, 445);
    run_pcap(&r, "pcap/zeek/smb/smb2.pcap", 49208);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SERVICE, "smb");
    EXPECT(&r.meta, VK_K_SMB_DIALECT, "SMB 2.0.2");
    EXPECT(&r.meta, VK_K_USER, "Administrator");
    EXPECT(&r.meta, VK_K_SMB_DOMAIN, "CONTOSO");
    EXPECT(&r.meta, VK_K_ALIAS_HOST, "server01", "server002", "server002.contoso.com");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\10.0.0.12\\IPC$", "\\\\10.0.0.12\\smb2");
    EXPECT(&r.meta, VK_K_SMB_FILE, "srvsvc", "WP_SMBPlugin.pdf");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

/* zeek/smb/smb1.pcap (SMB2 despite the name): picked up mid-session, CREATE compounded with
 * QUERY_INFO/QUERY_DIRECTORY and CLOSE in every request. */
static void test_pcap_zeek_compound(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 55770, 445);
    run_pcap(&r, "pcap/zeek/smb/smb1.pcap", 55770);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SERVICE, "smb");
    EXPECT(&r.meta, VK_K_SMB_FILE, "Test", "Test\\2009-12 Payroll.xlsx");
    EXPECT_NONE(&r.meta, VK_K_SMB_DIALECT);
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

/* suricata-verify/smb3-01: SMB 3.0 with an encrypted share: transform messages are skipped
 * and the clear TREE_CONNECT sent after them is still read. */
static void test_pcap_smb3_encrypted(void **unused)
{
    (void)unused;
    struct run r;
    run_begin(&r, 38166, 445);
    run_pcap(&r, "pcap/suricata-verify/smb3-01/input.pcap", 38166);
    run_end(&r);
    EXPECT(&r.meta, VK_K_SMB_DIALECT, "SMB 3.0.0");
    EXPECT(&r.meta, VK_K_USER, "administrator");
    EXPECT(&r.meta, VK_K_SMB_TREE, "\\\\WS2016\\encrypted", "\\\\10.160.65.202\\IPC$");
    EXPECT_NONE(&r.meta, VK_K_ANOMALY);
    vk_meta_free(&r.meta);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_smb2_session),
        cmocka_unit_test(test_smb2_segments),
        cmocka_unit_test(test_nbss_session_request),
        cmocka_unit_test(test_smb1_ascii),
        cmocka_unit_test(test_smb1_synthetic),
        cmocka_unit_test(test_smb1_ntlmssp),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_pcap_zeek_smb2),
        cmocka_unit_test(test_pcap_zeek_compound),
        cmocka_unit_test(test_pcap_smb3_encrypted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
