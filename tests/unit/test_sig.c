/* test_sig.c — the payload signatures (src/proto/sig.c) on real payloads.
 *
 * Every positive payload is copied from a capture of the nDPI corpus (pcap/ndpi, file and
 * frame in the comment, taken with `tshark -T fields -e udp.payload` or -e tcp.payload);
 * each must be claimed with strength 2 by the right parser and named with nDPI's protocol
 * name (Arkime's where Arkime has one: ptp). Near misses (the same bytes with one length
 * or type field broken), other protocols' payloads (DNS, HTTP, RTP) and random bytes must
 * not be claimed. */
#include <string.h>

#include "vk_test.h"

#include "proto/vk_proto.h"

/* ---- harness ------------------------------------------------------------------------ */

static const struct vk_parser *parser_for(int ipproto)
{
    return ipproto == 6 ? &vk_proto_sig_tcp : &vk_proto_sig_udp;
}

static struct vk_flow_view view(int ipproto, uint16_t sport, uint16_t dport)
{
    struct vk_flow_view f = {.family = 4, .ipproto = (uint8_t)ipproto};
    f.port[VK_DIR_SRC] = sport;
    f.port[VK_DIR_DST] = dport;
    return f;
}

static int probe_hex(int ipproto, uint16_t sport, uint16_t dport, const char *hex)
{
    static uint8_t b[2048];
    struct vk_flow_view f = view(ipproto, sport, dport);
    size_t n = vk_test_unhex(hex, b, sizeof b);
    return parser_for(ipproto)->probe(&f, VK_DIR_SRC, b, n);
}

/* Run the parser over one payload the way the flow stage does (init, data, finish) and
 * leave the session's meta in m (caller frees). Returns c.done. */
static bool run_hex(struct vk_meta *m, int ipproto, uint16_t sport, uint16_t dport, const char *hex)
{
    static uint8_t b[2048];
    const struct vk_parser *p = parser_for(ipproto);
    struct vk_flow_view f = view(ipproto, sport, dport);
    vk_meta_init(m);
    struct vk_pctx c = {.meta = m, .flow = &f};
    void *st = calloc(1, p->state_size);
    assert_non_null(st);
    p->init(st, &c);
    p->data(st, &c, VK_DIR_SRC, b, vk_test_unhex(hex, b, sizeof b));
    p->finish(st, &c);
    if (p->release) p->release(st);
    free(st);
    return c.done;
}

static void assert_service(int ipproto, uint16_t sport, uint16_t dport, const char *hex, const char *want)
{
    struct vk_meta m;
    char got[64] = "";
    assert_true(run_hex(&m, ipproto, sport, dport, hex));
    assert_int_equal(vk_meta_count(&m, VK_K_SERVICE), 1);
    assert_true(vk_meta_get_str(&m, VK_K_SERVICE, got, sizeof got));
    if (strcmp(got, want) != 0) fail_msg("service \"%s\", want \"%s\" (%s)", got, want, hex);
    vk_meta_free(&m);
}

/* ---- positives: one or more real payloads per signature ---------------------------- */

static const struct {
    int ipproto;
    uint16_t sport, dport;
    const char *service;
    const char *hex;
} positives[] = {
    /* discord.pcap frame 20: IP discovery request */
    {17, 57955, 50004, "discord",
     "000100460000ace3000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000006f74"},
    /* discord.pcap frame 21: IP discovery reply (84.59.132.100) */
    {17, 50004, 57955, "discord",
     "000200460000ace338342e35392e3133322e3130300000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000e263"},
    /* discord.pcap frame 8: RTC latency ping */
    {17, 56271, 50004, "discord",
     "1337cafe0e000000"},
    /* oicq.pcap frame 1 */
    {17, 60213, 8000, "oicq",
     "023b0b00010017561f0c7b0000000000000000030c949fb3510c59cbd527d19e6953482ec8770801030e4703"},
    /* agora-sd-rtn.pcap frame 1: join with SNI */
    {17, 35778, 8130, "sd-rtn",
     "005a384c000021000000000004534e49001c0032332d3234382d3138362d3137392e656467652e61676f7261"
     "2e696f50444d4400004350544f81004e4f4e432000000097e74ee75756f55fec185134542d92669bcc5b1ce1"
     "819c6e11aa23268c504145414404004145534750554253410004a599ec3e433361ee3082aafe8c3e8a905b1e"
     "907e63e81a2335120f09b90f754692e3175029854e495bdb1cea3ae33fb6e8bcccf08844d64e4fea9c9246da"
     "8d304b455853040050323536434352542800ff97c18fe511981f706d04c608b82799d916090cb86890161294"
     "967edfa17948a847b1ed1a1f3e62"},
    /* source_engine.pcap frame 1: A2S_INFO */
    {17, 20595, 27015, "source_engine",
     "ffffffff54536f7572636520456e67696e6520517565727900"},
    /* tuya_lp.pcap frame 3: broadcast */
    {17, 59727, 6667, "tuyalp",
     "000055aa00000000000000130000009c0000000097b93fee4b69c95feeb3d33bda3529521cc4eac0d354180e"
     "dccd3eae080a6ffe3ffa50ee21d36294854bd6d8a73edd114570f45f0765d3125d642f9a5bfbc6c7c2d91fea"
     "632b8557eb918162c1fc96744dc7fe823e307927fb0a44b0dfae2c8de31599c316ff65d7e1449cd24d2d2819"
     "091450d58f913116aedf0f6bfdca4510eedd5c953bb9377560ae90dfbc45dbe2d855db4b0000aa55"},
    /* tplink_shp.pcap frame 1: discovery */
    {17, 9999, 9999, "tplink_shp",
     "d0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6"},
    /* raknet.pcap frame 2: open connection reply 1 */
    {17, 60030, 44501, "raknet",
     "0600ffff00fefefefefdfdfdfd12345678000591a5360522200005d4"},
    /* raknet.pcap frame 49: open connection request 2 */
    {17, 32952, 60021, "raknet",
     "0700ffff00fefefefefdfdfdfd12345678046b66dc32ea75024000000000490f027c"},
    /* raknet.pcap frame 52: open connection reply 2 */
    {17, 60025, 32951, "raknet",
     "0800ffff00fefefefefdfdfdfd12345678000591a5360511a804a5457b7a80b7024000"},
    /* raknet.pcap frame 46: frame set: connected pong */
    {17, 60022, 32951, "raknet",
     "8402000000008803000000000015e95e000000130c201546"},
    /* raknet.pcap frame 59: ACK */
    {17, 60005, 32951, "raknet",
     "c0000100010000020000"},
    /* ripe_atlas.pcap frame 1 */
    {17, 56857, 29195, "ripeatlas",
     "4d474c4e44445f31312e3131312e31312e3131315f31313134"},
    /* riotgames.pcap frame 18 */
    {17, 62854, 8181, "riotgames",
     "7374f60c72324204ab597f811fcc00876bbc000016e37c4014000000aaaaaaaabbbbbbbb"},
    /* kcp.pcap frame 2: ACK segment */
    {17, 8000, 47356, "kcp",
     "0a00000052007f0014000000000000000100000000000000"},
    /* zug.pcap frame 1 */
    {17, 39594, 19000, "zug",
     "007a554710aea041006ebc2a68b26e7743938878727cb2851556c2bc2aed5067be1798104af6e95e66f8a88a"
     "f9b71b4d2368adf54a2b4be5990d907021e439300328bf2f9bcdba43b508c00d1fd7d345f2db286ef8708a74"
     "d1f26c6b5de2a71337ba2a3552da9c775e93c28ac2c369765fb9203d8ec239a70bfa"},
    /* roughtime.pcap frame 3: signed reply */
    {17, 2002, 49021, "roughtime",
     "050000004000000040000000a40000003c01000053494700504154485352455043455254494e44585ef6c284"
     "c4e04e66e299eea23d60f364378adf91c7594842b05afbcc3b1c0db497a0b345c0c45e4af2a8ddb04ff3fe6f"
     "7988cba1c897f68ccd439a0d254b110b03000000040000000c000000524144494d494450524f4f5440420f00"
     "c0d86934a5ff05007b8e2707131b825ef04d70b1b846a8b165039a83dbea34b62e98bb85df7d7b13a43c9abe"
     "2d1be32b648f3b67d0fae8bcbd04508e5261bc1d40b80a60c404332c02000000400000005349470044454c45"
     "cdf8d4909dfc5ecccaa86f6da1a7f5f05b37797a3ae7e078c4d5b87523a609f24000324c38cb9d3daf686139"
     "66f4f997343fa2adeb70d728083665ba5a41b1000300000020000000280000005055424b4d494e544d415854"
     "42aa18a55d454631e799aaa4a0b3ab20aba1005ee43f7dfcb3715a14ae00c0a6908b3b279fff050090eb1245"
     "b3ff050000000000"},
    /* rmcp.pcap frame 1: IPMI v1.5 Get Channel Auth */
    {17, 49531, 623, "rmcp",
     "0600ff07000000000000000000092018c88100388e04b5"},
    /* rmcp.pcap frame 2: ASF presence ping */
    {17, 59937, 623, "rmcp",
     "0600ff06000011be80000000"},
    /* someip-udp-method-call.pcapng frame 2: method call */
    {17, 49191, 49201, "someip",
     "1234000800000011000000010101000000000005ababababab"},
    /* ldp.pcap frame 1: hello */
    {17, 646, 646, "ldp",
     "0001001e0a0000060000010000140000000004000004000f0000040100040a000006"},
    /* ptpv2.pcap frame 14: sync */
    {17, 319, 319, "ptp",
     "0002002c0000040000000000000000000000000000b0aefffe01f92000010001007f000041bf41700b2d1782"
     "0000"},
    /* dtls_old_version.pcapng frame 1: ClientHello, version 0x0100 */
    {17, 56453, 443, "dtls",
     "160100000000000000000000560100004a000000000000004a01005ee9ea2262f79f376b50167f0617d3426e"
     "3a52f63f66b6afe34a0736863deaa52003c229be15d620515eef0eca0aafdbc938e008fee8f21a81a57206fd"
     "375b6bd800000200350100"},
    /* dtls_mid_sessions.pcapng frame 1: application data */
    {17, 53558, 443, "dtls",
     "170100000100000000d415005056cb1c4eca90c45400c6be042720fc34c3e1c59b8f8091fe8bbafde123d6a7"
     "04a098ebb097871fb2b064c3464f0006d6b4bffe26ad25d1612739f41432748527ddc2f1cdf1c295ccdcdbbc"
     "53c23791b2"},
    /* openvpn.pcap frame 1: hard reset client v2 */
    {17, 60201, 443, "openvpn",
     "38334857703d96db390000000000"},
    /* openvpn.pcap frame 2: hard reset server v2 */
    {17, 443, 60201, "openvpn",
     "40d31c3a6964602fa00100000000334857703d96db3900000000"},
    /* openvpn.pcap frame 312: hard reset client v2, tls-auth SHA1 */
    {17, 41507, 13680, "openvpn",
     "38b02ccff1b5f0174fc091666e3b124bada39173317b939722d1fe63be0000000157a1c15f0000000000"},
    /* toca-boca.pcap frame 1: Photon connect */
    {17, 50173, 5055, "tocaboca",
     "ffff00010000000422b6e6ba02ff01040000002c00000001000004b000008000000000020000000000000000"
     "000013880000000200000002"},
    /* toca-boca.pcap frame 2: Photon verify connect + ack */
    {17, 5055, 50173, "tocaboca",
     "000000027dfbd18522b6e6ba01ff00000000001400000000000000010000000403ff01000000002c00000000"
     "bbc804b000008000000000020000000000000000000013880000000200000002"},
    /* zabbix.pcap frame 4: agent request */
    {6, 57162, 10050, "zabbix",
     "5a425844010a0000000000000070726f632e6e756d5b5d"},
    /* whatsapp.pcap frame 3: edge routing preamble */
    {6, 44804, 5222, "whatsapp",
     "45440001"},
    /* alicloud.pcap frame 4: header alone */
    {6, 39018, 8999, "alicloud",
     "cefabeba80000000"},
    /* avast.pcap frame 6: reply */
    {6, 80, 64357, "avast",
     "4e4f53410010010200000000e8e67a0c"},
    /* kafka.pcapng frame 1: ApiVersions request */
    {6, 49280, 9092, "kafka",
     "000000150012000000000081000772646b61666b6100000000"},
    /* elasticsearch.pcap frame 4: handshake */
    {6, 40282, 9300, "elasticsearch",
     "455300000034000000000000000108005cc66300000106782d7061636b16696e7465726e616c3a7463702f68"
     "616e647368616b650004cbf6ae03"},
    /* xiaomi.pcap frame 1 */
    {6, 5222, 39180, "xiaomi",
     "c2fe000500000036000200160000001808001a0a7869616f6d692e636f6d2a04434f4e4e48000a0a35333836"
     "3337303736391204376630341a02080022007da80b77"},
    /* hislip.pcap frame 4: Initialize */
    {6, 51053, 4880, "hislip",
     "485300000100525300000000000000076869736c697030"},
    /* ldp.pcap frame 4: initialization */
    {6, 45334, 646, "ldp",
     "000100200a000101000002000016000000020500000e000100b4000000000a0000060000"},
    /* openvpn.pcap frame 25: hard reset client v2 over TCP */
    {6, 39772, 1194, "openvpn",
     "000e38507a28a78275788d0000000000"},
    /* openvpn.pcap frame 618: hard reset client v2, tls-crypt, over TCP */
    {6, 36138, 443, "openvpn",
     "0036382a56d979d99eccf40000000163cf4ff5b89824b0aa4e93c089c1e24af5443766b5cab18c23c17d5108"
     "1eb196a229085eec179d0d88"},
};

static void test_positives(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof positives / sizeof *positives; i++) {
        const char *hex = positives[i].hex;
        int s = probe_hex(positives[i].ipproto, positives[i].sport, positives[i].dport, hex);
        if (s != 2) fail_msg("probe %d, want 2 for %s payload %zu", s, positives[i].service, i);
        assert_service(positives[i].ipproto, positives[i].sport, positives[i].dport, hex, positives[i].service);
    }
}

/* SD-RTN names the Agora edge it joins: that name goes to alias.host. */
static void test_sdrtn_host(void **state)
{
    (void)state;
    struct vk_meta m;
    char host[128] = "";
    run_hex(&m, 17, 35778, 8130, positives[4].hex);
    assert_true(vk_meta_get_str(&m, VK_K_ALIAS_HOST, host, sizeof host));
    assert_string_equal(host, "23-248-186-179.edge.agora.io");
    assert_int_equal(vk_meta_count(&m, VK_K_ALIAS_HOST), 1);
    vk_meta_free(&m);
}

/* TP-Link over TCP: the UDP discovery payload (tplink_shp.pcap frame 1) behind its 32-bit
 * length, as the TCP transport frames it; with a wrong length it is not claimed. */
static void test_tplink_tcp(void **state)
{
    (void)state;
    const char *body = "d0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6";
    char hex[128];
    snprintf(hex, sizeof hex, "0000001d%s", body);
    assert_int_equal(probe_hex(6, 50000, 9999, hex), 2);
    assert_service(6, 50000, 9999, hex, "tplink_shp");
    snprintf(hex, sizeof hex, "0000001e%s", body);
    assert_int_equal(probe_hex(6, 50000, 9999, hex), 0);
}

/* ---- negatives ---------------------------------------------------------------------- */

/* Copy hex with the byte at offset `at` replaced by `b`. */
static const char *patch(const char *hex, size_t at, unsigned b)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", hex);
    char two[3];
    snprintf(two, sizeof two, "%02x", b & 0xff);
    memcpy(buf + 2 * at, two, 2);
    return buf;
}

static void test_near_misses(void **state)
{
    (void)state;
    /* discord request with length 71 */
    assert_int_equal(probe_hex(17, 57955, 50004, patch(positives[0].hex, 3, 0x47)), 0);
    /* OICQ without its ETX */
    assert_int_equal(probe_hex(17, 60213, 8000, patch(positives[3].hex, 43, 0x04)), 0);
    /* Tuya with a length one short */
    assert_int_equal(probe_hex(17, 59727, 6667, patch(positives[6].hex, 15, 0x9b)), 0);
    /* RakNet reply 1 with a broken magic */
    assert_int_equal(probe_hex(17, 60030, 44501, patch(positives[8].hex, 5, 0x00)), 0);
    /* KCP with an unknown command */
    assert_int_equal(probe_hex(17, 8000, 47356, patch(positives[15].hex, 4, 0x55)), 0);
    /* Roughtime with tags out of order */
    assert_int_equal(probe_hex(17, 2002, 49021, patch(positives[17].hex, 31, 0x00)), 0);
    /* SOME/IP with protocol version 2 */
    assert_int_equal(probe_hex(17, 49191, 49201, patch(positives[20].hex, 12, 0x02)), 0);
    /* PTP on ports that are not PTP's */
    assert_int_equal(probe_hex(17, 5000, 5000, positives[22].hex), 0);
    /* DTLS record longer than the datagram */
    assert_int_equal(probe_hex(17, 56453, 443, patch(positives[23].hex, 12, 0x57)), 0);
    /* OpenVPN hard reset with a non-zero message packet id */
    assert_int_equal(probe_hex(17, 60201, 443, patch(positives[25].hex, 13, 0x01)), 0);
    /* Photon (TocaBoca) away from its ports */
    assert_int_equal(probe_hex(17, 50173, 6000, positives[28].hex), 0);
    /* Zabbix with an unknown flag */
    assert_int_equal(probe_hex(6, 57162, 10050, patch(positives[30].hex, 4, 0x11)), 0);
    /* Kafka with a size that disagrees */
    assert_int_equal(probe_hex(6, 49280, 9092, patch(positives[34].hex, 3, 0x16)), 0);
    /* Avast with a length that disagrees */
    assert_int_equal(probe_hex(6, 80, 64357, patch(positives[33].hex, 5, 0x11)), 0);
}

static void test_other_protocols(void **state)
{
    (void)state;
    /* dns.pcap frame 2: AAAA query for www.example.com */
    const char *dns = "bc1f0100000100000000000003777777076578616d706c6503636f6d00001c0001";
    /* http-manipulated.pcap frame 4: GET / */
    const char *http = "474554202f20485454502f312e310d0a684f73543a777777772e6c616e3a383038300d0a557365722d4167"
                       "656e743a206375726c2f372e36342e300d0a4163636570743a202a2f2a0d0a0d0a";
    /* false_positives.pcapng frame 22: RTP inside GTP-U (first byte 0x80, RakNet's range) */
    const char *rtp = "806655c20001285c205e9160f3e69a13d1a89f801806fe429ba2a8b83c835a5a4c2680d9e2f6c2ad089d3acc";
    /* rtp.pcapng frame 83: a 16-byte keep-alive that looks like a one-tag Roughtime message */
    const char *keep = "0100000000000000000000000000011c";
    for (int proto = 6; proto <= 17; proto += 11) {
        assert_int_equal(probe_hex(proto, 53000, 53, dns), 0);
        assert_int_equal(probe_hex(proto, 53000, 80, http), 0);
        assert_int_equal(probe_hex(proto, 31046, 21176, rtp), 0);
        assert_int_equal(probe_hex(proto, 55402, 6008, keep), 0);
    }
}

/* 20000 pseudo-random payloads of 1..1500 bytes, on every port pair the table names:
 * none may be claimed. */
static void test_random(void **state)
{
    (void)state;
    static uint8_t b[1500];
    static const uint16_t ports[] = {1234, 319, 5055, 443, 9092};
    uint64_t x = 0x9e3779b97f4a7c15u;
    int claimed = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = 1 + (size_t)(i * 7919u) % sizeof b;
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[k] = (uint8_t)x;
        }
        uint16_t port = ports[i % 5];
        struct vk_flow_view fu = view(17, 40000, port), ft = view(6, 40000, port);
        claimed += vk_proto_sig_udp.probe(&fu, VK_DIR_SRC, b, n) != 0;
        claimed += vk_proto_sig_tcp.probe(&ft, VK_DIR_SRC, b, n) != 0;
    }
    assert_int_equal(claimed, 0);
}

/* data() on a payload no signature knows adds nothing, and still ends the parser's
 * interest in the session. */
static void test_no_match_in_data(void **state)
{
    (void)state;
    struct vk_meta m;
    assert_true(run_hex(&m, 17, 1, 2, "0102030405060708"));
    assert_int_equal(vk_meta_count(&m, VK_K_SERVICE), 0);
    vk_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positives),     cmocka_unit_test(test_sdrtn_host),
        cmocka_unit_test(test_tplink_tcp),    cmocka_unit_test(test_near_misses),
        cmocka_unit_test(test_other_protocols), cmocka_unit_test(test_random),
        cmocka_unit_test(test_no_match_in_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
