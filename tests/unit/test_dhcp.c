/* test_dhcp.c — the DHCP parser (src/proto/dhcp.c) on real DHCPv4 and DHCPv6 messages.
 *
 * Every payload is copied from a corpus capture (file and frame in the comment, taken with
 * `tshark -T fields -e udp.payload`); where a test changes bytes the comment says which.
 * Values asserted are Arkime's (arkime/wireshark-dhcp.test, arkime_synthetic.test) or
 * tshark's decoding of the same frame. */
#include "vk_test.h"

#include "proto/vk_proto.h"

/* ---- harness ------------------------------------------------------------------------ */

struct run {
    struct vk_meta meta;
    struct vk_flow_view flow;
    struct vk_pctx c;
    void *st;
};

static void run_begin(struct run *r, int family, uint16_t sport, uint16_t dport)
{
    memset(r, 0, sizeof *r);
    vk_meta_init(&r->meta);
    r->flow.family = (uint8_t)family;
    r->flow.ipproto = 17;
    r->flow.port[VK_DIR_SRC] = sport;
    r->flow.port[VK_DIR_DST] = dport;
    r->c.meta = &r->meta;
    r->c.flow = &r->flow;
    r->st = calloc(1, vk_proto_dhcp.state_size);
    assert_non_null(r->st);
    vk_proto_dhcp.init(r->st, &r->c);
}

static void run_hex(struct run *r, int dir, const char *hex)
{
    static uint8_t b[4096];
    vk_proto_dhcp.data(r->st, &r->c, dir, b, vk_test_unhex(hex, b, sizeof b));
}

static void run_end(struct run *r)
{
    vk_proto_dhcp.finish(r->st, &r->c);
    if (vk_proto_dhcp.release) vk_proto_dhcp.release(r->st);
    free(r->st);
    vk_meta_free(&r->meta);
}

/* Copy hex with the first occurrence of `from` replaced by `to`. */
static const char *splice(const char *hex, const char *from, const char *to)
{
    static char out[8192];
    const char *at = strstr(hex, from);
    assert_non_null(at);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - hex), hex, to, at + strlen(from));
    return out;
}

/* ---- payloads ----------------------------------------------------------------------- */

/* arkime/wireshark-dhcp.pcap frame 1 */
static const char *const WS_DISCOVER =
    "0101060000003d1d0000000000000000000000000000000000000000000b8201fc4200000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501013d0701000b8201fc4232040000000037040103062a"
    "ff00000000000000";

/* arkime/wireshark-dhcp.pcap frame 2 */
static const char *const WS_OFFER =
    "0201060000003d1d0000000000000000c0a8000ac0a8000100000000000b8201fc4200000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501020104ffffff003a04000007083b0400000c4e330400"
    "000e103604c0a80001ff0000000000000000000000000000000000000000000000000000";

/* arkime/wireshark-dhcp.pcap frame 3 */
static const char *const WS_REQUEST =
    "0101060000003d1e0000000000000000000000000000000000000000000b8201fc4200000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501033d0701000b8201fc423204c0a8000a3604c0a80001"
    "37040103062aff00";

/* arkime/wireshark-dhcp.pcap frame 4 */
static const char *const WS_ACK =
    "0201060000003d1e0000000000000000c0a8000a0000000000000000000b8201fc4200000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501053a04000007083b0400000c4e330400000e103604c0"
    "a800010104ffffff00ff0000000000000000000000000000000000000000000000000000";

/* zeek/dhcp/dhcp.pcap frame 1 */
static const char *const ZEEK_DISCOVER =
    "01010600000007c0000000000000000000000000000000000000000090b11c99492900000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501013204c0a8d3c20c0d62746573742e69732e636f6f6c"
    "ff";

/* zeek/dhcp/dhcp.pcap frame 2 */
static const char *const ZEEK_OFFER =
    "02010600000007c0000000000000000080020661ac13e6070000000090b11c99492900000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501023604800206983304000003840104ffffff00030480"
    "02060106088002010b8002010a04088002011480020115430d6e6574776f726b2d636f6e66671c04800206ff"
    "2a0c8002011480020115800201162b0b3137322e31382e362e33373c07417275626141502c088002681d8002"
    "681e2e01020f07636d752e656475ff";

/* zeek/dhcp/dhcp.pcap frame 6 */
static const char *const ZEEK_ACK =
    "02010600000007c00000000000000000800206bdac13e6070000000090b11c99492900000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501053604800206983304000003840104ffffff00030480"
    "02060106088002010b8002010a04088002011480020115430d6e6574776f726b2d636f6e66671c04800206ff"
    "2a0c8002011480020115800201162b0b3137322e31382e362e33373c07417275626141502c088002681d8002"
    "681e2e01020f07636d752e656475ff";

/* tcpdump/dhcp-mud.pcap frame 1 */
static const char *const MUD_REQUEST =
    "01010601068c4847000000003e0cad7b00000000000000003e0cad79b827ebb853c800000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501033d0701b827ebb853c8390205c0a13668747470733a"
    "2f2f6d756463746c2e6578616d706c652e636f6d2f2e77656c6c2d6b6e6f776e2f6d75642f76312f72617362"
    "703130313c2d6468637063642d362e31312e353a4c696e75782d342e312e31382d76372b3a61726d76376c3a"
    "42434d323730390c0b7261737062657272797069910101371001792103060c0f1c2a33363a3b646577ff";

/* suricata-verify/dhcp-option-52-overload/input.pcap frame 3 */
static const char *const OVL_OFFER_PLAIN =
    "0201060024593b3e00000000000000000a6400320a6400020000000092dda48d5fde00000000000000000000"
    "6576696c2d7078652e61747461636b65722e6c6f63616c000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000006382536335010236040a64000233040000012c0104ffffff0003040a"
    "64000106040a6400010f0b6c656769742e6c6f63616cff";

/* suricata-verify/dhcp-option-52-overload/input.pcap frame 4 */
static const char *const OVL_OFFER =
    "0201060024593b3e00000000000000000a6400320a6400020000000092dda48d5fde00000000000000000000"
    "06040a64000203040a6400020f096576696c2e636f7270ff0000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000006382536335010236040a64000233040000012c0104ffffff00340102"
    "ff";

/* ndpi/dhcp-fuzz.pcapng frame 1 */
static const char *const FUZZ_1 =
    "01010600c979b96000000000c0a80168000000000000000000000000001f29da2d7900000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000d700000000000053000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000065000000000000000000006382536335016a3d0701001f29da2d790c074d4b30333836323c314d"
    "53465420352e30370c010f03062c2e2f1f21f92bfc2b03dc0100ff000000002500000000";

/* arkime/arkime_synthetic.pcap frame 908 */
static const char *const V6_SOLICIT =
    "01aabbcc0001000e000100012aabbccdd0011223344500080002000000060004001700180003000c00000000"
    "0000000000000000";

/* arkime/arkime_synthetic.pcap frame 910 */
static const char *const V6_LEASEQUERY =
    "0e1122330001000e000100012aabbccdd001122334450006000400170018";

/* arkime/arkime_synthetic.pcap frame 912 */
static const char *const V6_RELAY_FORW =
    "0c0020010db8000000000000000000000001fe80000000000000021122fffe3344550009003401aabbcc0001"
    "000e000100012aabbccdd0011223344500080002000000060004001700180003000c00000000000000000000"
    "00000012000465746830";

/* arkime/arkime_synthetic.pcap frame 620 */
static const char *const V6_RELAY_FORW2 =
    "0c0020010db800dc0000000000000000000120010db800dc000000000000000000020009001201abcdef0001"
    "000a0003000102deadbeef01";

/* arkime/arkime_synthetic.pcap frame 621 */
static const char *const V6_RELAY_REPL =
    "0d0020010db800dc0000000000000000000120010db800dc000000000000000000020009001202abcdef0001"
    "000a0003000102deadbeef02";

/* tcpdump/dhcpv6-ia-na.pcap frame 1 */
static const char *const IANA_SOLICIT =
    "0190b45c0001000a0003000100010203040500060004001700180008000200000003000c0203040500000e10"
    "00001518";

/* tcpdump/dhcpv6-ia-na.pcap frame 2 */
static const char *const IANA_ADVERTISE =
    "0290b45c000300280203040500000e1000001518000500182a0000010001020038e6b22ec440acdf00001194"
    "00001c200001000a000300010001020304050002000e000100011846488c001122334455";

/* arkime/arkime_synthetic.pcap frame 401 */
static const char *const SYN_DISCOVER =
    "0101060012345678000080000000000000000000000000000000000000112233445500000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501013d07010011223344550c0a74657374636c69656e74"
    "3c084d53465420352e30370e0103060f1f212b2c2e2f7779f9fcff";

/* arkime/arkime_synthetic.pcap frame 402 */
static const char *const SYN_OFFER =
    "02010600123456780000000000000000c0a80164c0a801010000000000112233445500000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000638253633501023604c0a801013304000151800104ffffff000304c0"
    "a80101060408080808ff";

/* ---- DHCPv4 ------------------------------------------------------------------------- */

/* wireshark-dhcp.pcap 1-4. Arkime (one session): type ACK DISCOVER OFFER REQUEST, id 3d1d
 * 3d1e, mac 00:0b:82:01:fc:42, requestIp 0.0.0.0 and 192.168.0.10 (0.0.0.0 is not kept). */
static void test_v4_wireshark(void **state)
{
    struct run r;
    run_begin(&r, 4, 68, 67);
    run_hex(&r, VK_DIR_SRC, WS_DISCOVER);
    run_hex(&r, VK_DIR_DST, WS_OFFER);
    run_hex(&r, VK_DIR_SRC, WS_REQUEST);
    run_hex(&r, VK_DIR_DST, WS_ACK);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "dhcp");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "DISCOVER", "OFFER", "REQUEST", "ACK");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "3d1d", "3d1e");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "00:0b:82:01:fc:42");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_IP, "192.168.0.10");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_HOST), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* arkime_synthetic.pcap 401+402. Arkime: classId "MSFT 5.0", host testclient, id 12345678,
 * mac 00:11:22:33:44:55, type DISCOVER OFFER. The OFFER's yiaddr is not an assignment. */
static void test_v4_synthetic(void **state)
{
    struct run r;
    run_begin(&r, 4, 68, 67);
    run_hex(&r, VK_DIR_SRC, SYN_DISCOVER);
    run_hex(&r, VK_DIR_DST, SYN_OFFER);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "DISCOVER", "OFFER");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "12345678");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "00:11:22:33:44:55");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "testclient");
    VK_ASSERT_SET(&r.meta, VK_K_ALIAS_HOST, "testclient");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_CLASS, "MSFT 5.0");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_IP), 0);
    run_end(&r);
}

/* zeek dhcp/dhcp.pcap 1, 2, 6: requested address, vendor class of the server, ACK. */
static void test_v4_zeek(void **state)
{
    struct run r;
    run_begin(&r, 4, 68, 67);
    run_hex(&r, VK_DIR_SRC, ZEEK_DISCOVER);
    run_hex(&r, VK_DIR_DST, ZEEK_OFFER);
    run_hex(&r, VK_DIR_DST, ZEEK_ACK);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "DISCOVER", "OFFER", "ACK");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "btest.is.cool");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_IP, "192.168.211.194", "128.2.6.189");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_CLASS, "ArubaAP");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "90:b1:1c:99:49:29");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "7c0");
    run_end(&r);
}

/* tcpdump dhcp-mud.pcap 1, as sent and with option 12 rewritten as option 81 (client
 * FQDN) in ASCII and in canonical wire format. */
static void test_v4_hostnames(void **state)
{
    struct run r;
    run_begin(&r, 4, 67, 67);
    run_hex(&r, VK_DIR_SRC, MUD_REQUEST);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "REQUEST");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "raspberrypi");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_CLASS, "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "b8:27:eb:b8:53:c8");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "68c4847");
    run_end(&r);

    /* 12 len 11 "raspberrypi" -> 81 len 14, flags 0, rcodes, "raspberrypi" */
    run_begin(&r, 4, 67, 67);
    run_hex(&r, VK_DIR_SRC, splice(MUD_REQUEST, "0c0b7261737062657272797069",
                                   "510e0000007261737062657272797069"));
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "raspberrypi");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* -> 81 len 20, flags E (0x04), rcodes, 11 "RaspberryPi" 3 "lan" 0 */
    run_begin(&r, 4, 67, 67);
    run_hex(&r, VK_DIR_SRC, splice(MUD_REQUEST, "0c0b7261737062657272797069",
                                   "5114040000" "0b5261737062657272795069036c616e00"));
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "raspberrypi.lan");
    VK_ASSERT_SET(&r.meta, VK_K_ALIAS_HOST, "raspberrypi.lan");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* suricata-verify dhcp-option-52-overload 3 and 4: without overload the sname field is a
 * server name, not options; with overload 2 it holds options (here option 15 "evil.corp"
 * rewritten as option 12 so that the parser reports it). */
static void test_v4_overload(void **state)
{
    struct run r;
    run_begin(&r, 4, 67, 68);
    run_hex(&r, VK_DIR_SRC, OVL_OFFER_PLAIN);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "OFFER");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_HOST), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_hex(&r, VK_DIR_SRC, splice(OVL_OFFER, "0f096576696c2e636f7270", "0c096576696c2e636f7270"));
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "evil.corp");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* ndpi dhcp-fuzz.pcapng 1: message type 106 and a vendor class running past the end. */
static void test_v4_fuzzed(void **state)
{
    struct run r;
    run_begin(&r, 4, 68, 67);
    run_hex(&r, VK_DIR_SRC, FUZZ_1);
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dhcp.bad_type", "dhcp.truncated_option");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_HOST, "mk03862");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "00:1f:29:da:2d:79");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_TYPE), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_CLASS), 0);
    run_end(&r);

    /* Cut in the fixed header: no service. */
    run_begin(&r, 4, 68, 67);
    run_hex(&r, VK_DIR_SRC, "01010600c979b960");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_SERVICE), 0);
    run_end(&r);
}

/* ---- DHCPv6 ------------------------------------------------------------------------- */

/* arkime_synthetic.pcap 908 (SOLICIT), 910 (LEASEQUERY), 912 (RELAY_FORW around a
 * SOLICIT). Arkime: types SOLICIT / LEASEQUERY / RELAY_FORW, ids aabbcc / 112233 (none for
 * the relay). The client DUID-LLT carries d0:01:12:23:34:45. */
static void test_v6_synthetic(void **state)
{
    struct run r;
    run_begin(&r, 6, 546, 547);
    run_hex(&r, VK_DIR_SRC, V6_SOLICIT);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "dhcpv6");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "SOLICIT");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "aabbcc");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "d0:01:12:23:34:45");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    run_begin(&r, 6, 546, 547);
    run_hex(&r, VK_DIR_SRC, V6_LEASEQUERY);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "LEASEQUERY");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "112233");
    run_end(&r);

    run_begin(&r, 6, 547, 547);
    run_hex(&r, VK_DIR_SRC, V6_RELAY_FORW);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "RELAY_FORW");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_ID), 0);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "d0:01:12:23:34:45");
    run_end(&r);

    /* 620+621: relay forward and reply, inner DUID-LL client ids. Arkime: type
     * RELAY_FORW RELAY_REPL. */
    run_begin(&r, 6, 546, 547);
    run_hex(&r, VK_DIR_SRC, V6_RELAY_FORW2);
    run_hex(&r, VK_DIR_DST, V6_RELAY_REPL);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "RELAY_FORW", "RELAY_REPL");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "02:de:ad:be:ef:01", "02:de:ad:be:ef:02");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* tcpdump dhcpv6-ia-na.pcap 1+2: DUID-LL client id, the server's DUID is not the client's
 * MAC, the IA_NA address offered. */
static void test_v6_ia_na(void **state)
{
    struct run r;
    run_begin(&r, 6, 546, 547);
    run_hex(&r, VK_DIR_SRC, IANA_SOLICIT);
    run_hex(&r, VK_DIR_DST, IANA_ADVERTISE);
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_TYPE, "SOLICIT", "ADVERTISE");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_ID, "90b45c");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_MAC, "00:01:02:03:04:05");
    VK_ASSERT_SET(&r.meta, VK_K_DHCP_IP, "2a00:1:1:200:38e6:b22e:c440:acdf");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* The advertise cut inside its IA address option. */
    run_begin(&r, 6, 547, 546);
    char cut[128];
    /* 40 bytes: the 44-byte IA_NA option is cut */
    snprintf(cut, sizeof cut, "%.80s", IANA_ADVERTISE);
    run_hex(&r, VK_DIR_SRC, cut);
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dhcp.truncated_option");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DHCP_IP), 0);
    run_end(&r);
}

/* ---- probe -------------------------------------------------------------------------- */

static void test_probe(void **state)
{
    static uint8_t b[2048];
    struct vk_flow_view f = {.family = 4, .ipproto = 17, .port = {68, 67}};
    size_t n = vk_test_unhex(WS_DISCOVER, b, sizeof b);
    assert_int_equal(vk_proto_dhcp.probe(&f, VK_DIR_SRC, b, n), 3);
    f.port[0] = f.port[1] = 4000;
    assert_int_equal(vk_proto_dhcp.probe(&f, VK_DIR_SRC, b, n), 2);
    assert_int_equal(vk_proto_dhcp.probe(&f, VK_DIR_SRC, b, 200), 0);

    struct vk_flow_view g = {.family = 6, .ipproto = 17, .port = {546, 547}};
    n = vk_test_unhex(IANA_SOLICIT, b, sizeof b);
    assert_int_equal(vk_proto_dhcp.probe(&g, VK_DIR_SRC, b, n), 3);
    assert_int_equal(vk_proto_dhcp.probe(&g, VK_DIR_SRC, b, n - 3), 1); /* options do not tile */
    g.port[0] = g.port[1] = 4000;
    assert_int_equal(vk_proto_dhcp.probe(&g, VK_DIR_SRC, b, n), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_wireshark), cmocka_unit_test(test_v4_synthetic),
        cmocka_unit_test(test_v4_zeek),      cmocka_unit_test(test_v4_hostnames),
        cmocka_unit_test(test_v4_overload),  cmocka_unit_test(test_v4_fuzzed),
        cmocka_unit_test(test_v6_synthetic), cmocka_unit_test(test_v6_ia_na),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
