/* test_dns.c — the DNS parser (src/proto/dns.c) on real messages from the corpus.
 *
 * Every payload below is copied from a corpus capture (file and frame in the comment,
 * taken with `tshark -T fields -e udp.payload` or `-e tcp.payload`); where a test changes
 * bytes to make a malformed case, the comment says which. Values asserted are Arkime's
 * (the arkime/NAME.test files) or tshark's decoding of the same frame. */
#include "vk_test.h"

#include "proto/vk_proto.h"

/* ---- harness ------------------------------------------------------------------------ */

struct run {
    struct vk_meta meta;
    struct vk_flow_view flow;
    struct vk_pctx c;
    const struct vk_parser *p;
    void *st;
};

static void run_begin(struct run *r, const struct vk_parser *p, uint16_t sport, uint16_t dport)
{
    memset(r, 0, sizeof *r);
    vk_meta_init(&r->meta);
    r->flow.family = 4;
    r->flow.ipproto = p->ipproto;
    r->flow.port[VK_DIR_SRC] = sport;
    r->flow.port[VK_DIR_DST] = dport;
    r->c.meta = &r->meta;
    r->c.flow = &r->flow;
    r->p = p;
    r->st = calloc(1, p->state_size);
    assert_non_null(r->st);
    p->init(r->st, &r->c);
}

static void run_bytes(struct run *r, int dir, const uint8_t *b, size_t n)
{
    r->p->data(r->st, &r->c, dir, b, n);
}

static void run_hex(struct run *r, int dir, const char *hex)
{
    static uint8_t b[70000];
    run_bytes(r, dir, b, vk_test_unhex(hex, b, sizeof b));
}

static void run_end(struct run *r)
{
    r->p->finish(r->st, &r->c);
    if (r->p->release) r->p->release(r->st);
    free(r->st);
    vk_meta_free(&r->meta);
}

/* ---- payloads ----------------------------------------------------------------------- */

/* arkime/dns-udp.pcap frame 1 */
static const char *const UDP_GITHUB_Q =
    "e03901000001000000000000037777770667697468756203636f6d0000010001";

/* arkime/dns-udp.pcap frame 2 */
static const char *const UDP_GITHUB_R =
    "e03981800001000200040004037777770667697468756203636f6d0000010001c00c00050001000007bc0002"
    "c010c01000010001000000040004c01efc80c01000020001000001480014036e7333037031360664796e6563"
    "74036e657400c01000020001000001480006036e7332c04ec01000020001000001480006036e7334c04ec010"
    "00020001000001480006036e7331c04ec06a0001000100000e1000040a025f0cc04a0001000100000e100004"
    "0a025f0cc08e0001000100000e1000040a025f0cc07c0001000100000e1000040a025f0c";

/* arkime/dns-error.pcap frame 1 */
static const char *const ERR_Q =
    "a9ba01000001000000000000026e6f047375636804686f73740000010001";

/* arkime/dns-error.pcap frame 2 */
static const char *const ERR_R =
    "a9ba85830001000000010000026e6f047375636804686f7374000001000100000600010000012c004001610c"
    "726f6f742d73657276657273036e657400056e73746c640c766572697369676e2d67727303636f6d00780bac"
    "fd000007080000038400093a8000015180";

/* arkime/dns-flags0000.pcap frame 2 */
static const char *const REFUSED_R =
    "b2b5800500010000000000000c666c617368736572766963650561646f626503636f6d0000010001";

/* arkime/dns-notify.pcap frame 1 */
static const char *const NOTIFY_Q =
    "9668240000010001000000000a626f72747a6d6579657202343200000600010a626f72747a6d657965720234"
    "320000060001000151800043036e73330a626f72747a6d65796572036f7267000a686f73746d61737465720a"
    "626f72747a6d65796572036f72670077fd59d200001c2000000e1000093a800000a8c0";

/* arkime/dns-notify.pcap frame 2 */
static const char *const NOTIFY_R =
    "9668a40000010000000000000a626f72747a6d657965720234320000060001";

/* arkime/dns-tcp.pcap frame 4 */
static const char *const TCP_GOOGLE_Q =
    "001c5e630100000100000000000006676f6f676c6503636f6d0000010001";

/* arkime/dns-tcp.pcap frame 6 */
static const char *const TCP_GOOGLE_R =
    "01545e6381800001000b0004000406676f6f676c6503636f6d0000010001c00c00010001000000a600044a7d"
    "e42ec00c00010001000000a600044a7de420c00c00010001000000a600044a7de421c00c00010001000000a6"
    "00044a7de422c00c00010001000000a600044a7de423c00c00010001000000a600044a7de424c00c00010001"
    "000000a600044a7de425c00c00010001000000a600044a7de426c00c00010001000000a600044a7de427c00c"
    "00010001000000a600044a7de428c00c00010001000000a600044a7de429c00c000200010000041b0006036e"
    "7334c00cc00c000200010000041b0006036e7332c00cc00c000200010000041b0006036e7333c00cc00c0002"
    "00010000041b0006036e7331c00cc10e0001000100003e0b0004d8ef200ac0fc000100010003d7d20004d8ef"
    "240ac0d800010001000009580004d8ef260ac0ea00010001000002d50004d8ef220a";

/* arkime/dns-tcp.pcap frame 14 */
static const char *const TCP_AOL_Q =
    "0019e2ec0100000100000000000003616f6c03636f6d0000010001";

/* arkime/dns-tcp.pcap frame 16 */
static const char *const TCP_AOL_R =
    "0100e2ec8180000100050004000403616f6c03636f6d0000010001c00c000100010000000a0004cdbc643ac0"
    "0c000100010000000a0004cdbc653ac00c000100010000000a0004cfc84a26c00c000100010000000a000440"
    "0c4f39c00c000100010000000a0004400c59bac00c000200010000000a000c06646e732d3031026e73c00cc0"
    "0c000200010000000a000906646e732d3032c07cc00c000200010000000a000906646e732d3036c07cc00c00"
    "0200010000000a000906646e732d3037c07cc0b70001000100000045000440ec016bc0a200010001000001a5"
    "0004cfc84950c075000100010000012e0004400c3384c08d00010001000006a90004cdbc9de8";

/* arkime/arkime_synthetic.pcap frame 698 */
static const char *const BADVERS_R =
    "1234858000010000000000010c65646e732d62616476657273076578616d706c6503636f6d00000100010000"
    "291000010000000000";

/* arkime/arkime_synthetic.pcap frame 329 */
static const char *const CNAME_R =
    "20038580000100010000000003777777076578616d706c65036f7267000001000103777777076578616d706c"
    "65036f726700000500010000012c000d076578616d706c65036f726700076578616d706c65036f7267000001"
    "00010000012c00045db8d822";

/* arkime/arkime_synthetic.pcap frame 331 */
static const char *const AAAA_R =
    "2004858000010001000000000469707636076578616d706c65036f726700001c00010469707636076578616d"
    "706c65036f726700001c00010000012c001020010db8000000000000000000000001";

/* arkime/arkime_synthetic.pcap frame 333 */
static const char *const TXT_R =
    "200585800001000100000000076578616d706c65036f72670000100001076578616d706c65036f7267000010"
    "000100000e10002524763d7370663120696e636c7564653a5f7370662e6578616d706c652e6f7267207e616c"
    "6c";

/* arkime/arkime_synthetic.pcap frame 335 */
static const char *const CAA_R =
    "200684000001000100000000076578616d706c65036f72670001010001c00c0101000100000e100016000569"
    "737375656c657473656e63727970742e6f7267";

/* arkime/arkime_synthetic.pcap frame 337 */
static const char *const HTTPS_R =
    "200784000001000100000000076578616d706c65036f72670000410001c00c004100010000012c000d000100"
    "00010006026832026833";

/* arkime/arkime_synthetic.pcap frame 339 */
static const char *const NSEC_R =
    "200884000001000100000000076578616d706c65036f726700002f0001c00c002f000100000e10001a046e65"
    "7874076578616d706c65036f7267000006600180080003";

/* arkime/arkime_synthetic.pcap frame 341 */
static const char *const PUNY_R =
    "2009858000010001000000000c786e2d2d6e7861736d71356203636f6d00000100010c786e2d2d6e7861736d"
    "71356203636f6d00000100010000012c000401020304";

/* arkime/arkime_synthetic.pcap frame 345 */
static const char *const SERVFAIL_R =
    "200b81820001000000000000046661696c076578616d706c65036f72670000010001";

/* arkime/arkime_synthetic.pcap frame 222 */
static const char *const RRSIG_R =
    "123481800001000300000000076578616d706c6503636f6d0000010001076578616d706c6503636f6d000001"
    "00010000012c00040a000101076578616d706c6503636f6d00002e00010000012c003f00010d0200000e1067"
    "957b00676dee003039076578616d706c6503636f6d00deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdead"
    "beefdeadbeefdeadbeef076578616d706c6503636f6d00002b0001000151800024d4310d02aabbccdd112233"
    "44556677889900aabbccddeeff00112233445566778899aabb";

/* arkime/arkime_synthetic.pcap frame 325 */
static const char *const NS_R =
    "200185800001000100000001076578616d706c65036f72670000020001076578616d706c65036f7267000002"
    "000100000e100011036e7331076578616d706c65036f726700076578616d706c65036f726700000200010000"
    "0e100011036e7332076578616d706c65036f726700036e7331076578616d706c65036f726700000100010000"
    "0e100004c6336401036e7332076578616d706c65036f7267000001000100000e100004c6336402";

/* arkime/arkime_synthetic.pcap frame 327 */
static const char *const MX_R =
    "200285800001000100000001076578616d706c65036f726700000f0001076578616d706c65036f726700000f"
    "000100000e100014000a046d61696c076578616d706c65036f726700076578616d706c65036f726700000f00"
    "0100000e1000160014066261636b7570076578616d706c65036f726700046d61696c076578616d706c65036f"
    "7267000001000100000e100004cb00710a066261636b7570076578616d706c65036f7267000001000100000e"
    "100004cb00710b";

/* arkime/arkime_synthetic.pcap frame 346 */
static const char *const LLMNR_Q =
    "200c00000001000000000000046d7970630000010001";

/* arkime/arkime_synthetic.pcap frame 347 */
static const char *const LLMNR_R =
    "200c84000001000100000000046d7970630000010001046d79706300000100010000001e00040a010cc8";

/* arkime/arkime_synthetic.pcap frame 348 */
static const char *const MDNS_Q =
    "000000000001000000000000086d79646576696365056c6f63616c0000010001";

/* arkime/arkime_synthetic.pcap frame 349 */
static const char *const MDNS_R =
    "000084000001000100000000086d79646576696365056c6f63616c0000010001086d79646576696365056c6f"
    "63616c00000100010000007800040a010dc8";

/* arkime/arkime_synthetic.pcap frame 702 */
static const char *const TCP_ROOT_Q =
    "00112222010000010000000000000000020001";

/* arkime/dns-wiresharkrepo.pcap frame 2 */
static const char *const WS_TXT_R =
    "10328180000100010000000006676f6f676c6503636f6d0000100001c00c001000010000010e00100f763d73"
    "70663120707472203f616c6c";

/* arkime/dns-wiresharkrepo.pcap frame 8 */
static const char *const WS_PTR_R =
    "9bbb818000010001000000000331303401390331393202363607696e2d61646472046172706100000c0001c0"
    "0c000c00010001512500200c36362d3139322d392d3130340367656e09747774656c65636f6d036e657400";

/* arkime/dns-wiresharkrepo.pcap frame 24 */
static const char *const WS_ANY_R =
    "fee3818000010002000000000377777703697363036f72670000ff0001c00c001c0001000002580010200104"
    "f800000002000000000000000dc00c00010001000002580004cc98b858";

/* arkime/dns-wiresharkrepo.pcap frame 30 */
static const char *const WS_SRV_R =
    "326e85830001000000000000055f6c646170045f7463701744656661756c742d46697273742d536974652d4e"
    "616d65065f7369746573026463065f6d736463730b7574656c73797374656d73056c6f63616c0000210001";

/* arkime/dns-wiresharkrepo.pcap frame 35 */
static const char *const WS_GRIMM_Q =
    "d06001000001000000000000054752494d4d0b7574656c73797374656d73056c6f63616c0000010001";

/* arkime/v6-http.pcap frame 6 */
static const char *const MDNS6_Q =
    "0000000000020000000200000131016501360130013801390165016301370164013901330139013901390130"
    "01300130013001300164013201300131013801660136013001310130013001320369703604617270610000ff"
    "0001056c696e7578056c6f63616c0000ff0001c05a001c0001000000780010200106f8102d0000099939d7ce"
    "9806e1c00c000c0001000000780002c05a";

/* arkime/v6-http.pcap frame 7 */
static const char *const MDNS6_R =
    "000084000000000400000000056c696e7578056c6f63616c00000d800100000078000b0449363836054c494e"
    "5558c00c001c8001000000780010200106f8102d0000a9d217821995b63bc00c001c80010000007800102001"
    "06f8102d000002d009fffee3e8dec00c001c8001000000780010200106f8102d000010330c4c7e57b19e";

/* ndpi/iphone.pcap frame 3 */
static const char *const MDNS_IPHONE_R =
    "000084000000001e0000000b0d4c756361e280997320694d6163065f6f6469736b045f746370056c6f63616c"
    "0000108001000011940034337379733d77614d413d43343a32433a30333a30363a34393a46452c616456463d"
    "3078342c616444543d3078332c616443433d30095f7365727669636573075f646e732d7364045f756470c026"
    "000c0001000011940002c01ac01a000c0001000011940002c00c0d4c756361e280997320694d61630c5f6465"
    "766963652d696e666fc0210010000100001194001a0e6d6f64656c3d694d616331312c330a6f737876657273"
    "3d3137095f6b65726265726f730a4c756361732d694d6163c02600100001000011940033324c4b44433a5348"
    "41312e343932343830433345413832383237373141304432383846313131454639453735314639354136330d"
    "4c756361e280997320694d6163045f736d62c0210010800100001194000100c06b000c0001000011940002c1"
    "41c141000c0001000011940002c1330d4c756361e280997320694d61630b5f6166706f766572746370c02100"
    "10800100001194000100c06b000c0001000011940002c17dc17d000c0001000011940002c16f0d4c756361e2"
    "80997320694d6163045f737368c0210010800100001194000100c06b000c0001000011940002c1c0c1c0000c"
    "0001000011940002c1b20d4c756361e280997320694d6163095f736674702d737368c0210010800100001194"
    "000100c06b000c0001000011940002c1fcc1fc000c0001000011940002c1eec00c0021800100000078000800"
    "000000c000c0e9c133002180010000007800080000000001bdc0e9c16f002180010000007800080000000002"
    "24c0e9c1b200218001000000780008000000000016c0e9c1ee00218001000000780008000000000016c0e90d"
    "4c756361e280997320694d6163045f6e6673c0210010800100001194000100c06b000c0001000011940002c2"
    "a1c2a1000c0001000011940002c293c29300218001000000780008000000000801c0e90d4c756361e2809973"
    "20694d61630f5f636f6d70616e696f6e2d6c696e6bc0210010800100001194005816727042413d35393a3531"
    "3a30323a32463a41343a46460a727056723d3135322e3111727048493d303731366430353934346166117270"
    "484e3d38623533323433353964376411727048413d323864346265643531373830c06b000c00010000119400"
    "02c2f1c2f1000c0001000011940002c2e3c2e30021800100000078000800000000c003c0e9c0e90001800100"
    "0000780004c0a80201c0e9001c8001000000780010fe80000000000000c42c03fffe606a64c00c002f800100"
    "0011940009c00c00050000800040c133002f8001000011940009c13300050000800040c16f002f8001000011"
    "940009c16f00050000800040c1b2002f8001000011940009c1b200050000800040c1ee002f80010000119400"
    "09c1ee00050000800040c293002f8001000011940009c29300050000800040c2e3002f8001000011940009c2"
    "e300050000800040c0e9002f8001000000780008c0e900044000000800002905a00000119400120004000e00"
    "00c42c030649fec62c03606a64";

/* zeek/dnssec/dnskey2.pcap frame 2 */
static const char *const DNSKEY_R =
    "a205819000010004000000010670617970616c03636f6d0000300001c00c00300001000001c7010801010305"
    "03010001d56d982eb23906f4fb9313e5ecc2f4626c09bd745a4544d6a3006e2940379299d3fc090fee0fd7f5"
    "81edcb570b44671231f356b2a62ec17345bde6a48f709b471fe6937c04731255f743a7272337219b332ec428"
    "9efb3ce0fb9528a6268b8cc794e9f8741a259794d0c9d7264478a9a02f4a1af988db556a8a4eb885d07d10e7"
    "2dd0e8c444f0f57a6520bf709297b5816e6e40d93e161cb83d1c9ff9ee728608998de9a6462103247f85c425"
    "007fc655fb11d2bae716298dd5d6d1217a9b5d51a2006e70860d61936e2f7389a8ba4ab2f346bac37889b09b"
    "8d8f9310f971444c5aa1d02017c42650c1fa4a2a58f9bbdec0cf3253e0a01532c5bff0e4914b57e7c00c0030"
    "0001000001c700880100030503010001cffbafbc3aa84839f6fcf27dc2a0226ecade1e37b6094a3898e81722"
    "b9971865d9eeef87c0b0be3ddcc0a40771cb2f5aebc02b4ba69934b2b31653d09260c3c824848186899eb730"
    "94dc6e87037b3819880feae1e8e98ddae3dbb82ce6608702cc82f41015662cac7c8c2ab5116c3f41a38af358"
    "cc873aa865805dc00928b2d7c00c002e0001000001c7009e003005020000025851235a1050fbc9842e230670"
    "617970616c03636f6d0011b82dfe81b05526732cee1506a05bd2562a8147768db56b8472732b2e6c0f25d5fa"
    "eec83c34a7b696e30f96914eff9161001aac5548e8bf78b9d8bb3553bd5eac62be342ce5c75fdedc5d6cc118"
    "f436a50514f31ab2dcd5b69fe91bb77f8e7117baa3f2f5900267d94e9c6c9e21b2a0d0a22a11db8ad8c38eb8"
    "6eafbe407450c1e2002e0001000001c7011e003005020000025851235a1050fbc984522d0670617970616c03"
    "636f6d00b1e787065ba1427448dc7ed4c50c39be0d9313100c702b811e003d8be34d07da64057f34516b64ee"
    "7853f096871fa7df96462c657a299f6a0dda08d6625d9d8cba9bf54d57178f54cf61e76f0cd2209a5fdba0d5"
    "cda83f18757e6a4e7b08f37d01c1f1774bbafe80766d2dd1f3dd7ea94d780d810f10fd714f6ac3ee6f174847"
    "d1eb4f28d41608698d52fde2596d63df5886872308b9346d34d0fae718c5ac2da6d2013b1a97498417c73565"
    "6dccd36bc8bcaca564da147f92ae402029502cad9efe7b274e0dc6df0b9295c33e613c5a4de50ace66cd3268"
    "609066e4108d0f51a00df4782156fd82a2107cc9d5c1d47a9c3e81ff6b4459b42dac3a9692492c2300002905"
    "8c000080000000";

/* zeek/dns-txt-multiple.pcap frame 2 */
static const char *const TXT_MULTI_R =
    "6daf8500000100030005000504666c6b720a5f646f6d61696e6b657906666c69636b7203636f6d0000100001"
    "c00c000500010000038400070466613134c011c0380005000100000384001804666131340a5f646f6d61696e"
    "6b6579057961686f6fc023c04b0010000100001c2000e37f6b3d7273613b20703d4d4947664d413047435371"
    "475349623344514542415155414134474e4144434269514b4267514450645066794a4d32523247714d795a4d"
    "31666c547a46654449552b65374b6d694b527735797a335868742b6367454969486d6d356c49474275574363"
    "357274697930436378655070716363504b6a6e624853724449323350552b484f75714a366572674531494f73"
    "4c364c4f4567473659543533764d62385a36556942537359506c724445432b384355496b544c4d4c584a6175"
    "524b35624e524b56314154477a4746706633546a5a745777494441514142c050000200010002a3000006036e"
    "7335c05bc050000200010002a3000006036e7334c05bc050000200010002a3000006036e7333c05bc0500002"
    "00010002a3000006036e7332c05bc050000200010002a3000006036e7331c05bc1a600010001001275000004"
    "44b48310c19400010001001275000004448eff10c18200010001001275000004cb54dd35c170000100010012"
    "75000004628a0b9dc15e0001000100127500000477a0f77c";

/* tcpdump/dns_udp_2.pcap frame 2 */
static const char *const CUT_R =
    "593485000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c00"
    "04c08b2e42c00c0001000100";

/* ndpi/1kxun.pcap frame 17 */
static const char *const LLMNR_WPAD_Q =
    "605e0000000100000000000004777061640000010001";

/* ---- UDP ---------------------------------------------------------------------------- */

/* dns-udp.pcap 1+2: CNAME, A in answer and additional, NS in authority. Arkime: host
 * [github.com, www.github.com], qt A, status NOERROR, answers ip 192.30.252.128 and
 * 10.2.95.12 (additional records count). */
static void test_udp_github(void **state)
{
    struct run r;
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_SRC, UDP_GITHUB_Q);
    run_hex(&r, VK_DIR_DST, UDP_GITHUB_R);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "dns");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "www.github.com", "github.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "A");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "192.30.252.128", "10.2.95.12");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER_NAME, "github.com", "ns1.p16.dynect.net",
               "ns2.p16.dynect.net", "ns3.p16.dynect.net", "ns4.p16.dynect.net");
    VK_ASSERT_SET(&r.meta, VK_K_ALIAS_HOST, "www.github.com", "github.com", "ns1.p16.dynect.net",
               "ns2.p16.dynect.net", "ns3.p16.dynect.net", "ns4.p16.dynect.net");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* A query alone has no status (Arkime writes none). */
static void test_udp_query_only(void **state)
{
    struct run r;
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_SRC, UDP_GITHUB_Q);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "www.github.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "A");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_RCODE), 0);
    run_end(&r);
}

/* dns-error.pcap, dns-flags0000.pcap, arkime_synthetic.pcap 345: statuses. SOA records in
 * the authority section add no names. */
static void test_udp_statuses(void **state)
{
    struct run r;
    run_begin(&r, &vk_proto_dns_udp, 56329, 53);
    run_hex(&r, VK_DIR_SRC, ERR_Q);
    run_hex(&r, VK_DIR_DST, ERR_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "no.such.host");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NXDOMAIN");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_ANSWER_NAME), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    run_begin(&r, &vk_proto_dns_udp, 61912, 53);
    run_hex(&r, VK_DIR_DST, REFUSED_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "flashservice.adobe.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "REFUSED");
    run_end(&r);

    run_begin(&r, &vk_proto_dns_udp, 22355, 53);
    run_hex(&r, VK_DIR_DST, SERVFAIL_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "SERVFAIL");
    run_end(&r);

    /* arkime_synthetic.pcap 698: header rcode 0 + OPT extended rcode 1 = 16. */
    run_begin(&r, &vk_proto_dns_udp, 33001, 53);
    run_hex(&r, VK_DIR_DST, BADVERS_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "edns-badvers.example.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "BADSIG_VERS");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_ANSWER), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* dns-notify.pcap: opcode NOTIFY; the SOA in the notify's answer section is not reported
 * (Arkime reads records of responses only). */
static void test_udp_notify(void **state)
{
    struct run r;
    run_begin(&r, &vk_proto_dns_udp, 55612, 53);
    run_hex(&r, VK_DIR_SRC, NOTIFY_Q);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_RCODE), 0);
    run_hex(&r, VK_DIR_DST, NOTIFY_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "bortzmeyer.42");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "SOA");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_ANSWER_NAME), 0);
    run_end(&r);
}

/* arkime_synthetic.pcap: one response per RR type. */
static void test_udp_rr_types(void **state)
{
    struct run r;

    /* 329: CNAME target joins the query names (Arkime's dns.host). */
    run_begin(&r, &vk_proto_dns_udp, 22347, 53);
    run_hex(&r, VK_DIR_DST, CNAME_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "www.example.org", "example.org");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER_NAME, "example.org");
    run_end(&r);

    /* 331: AAAA printed as RFC 5952. */
    run_begin(&r, &vk_proto_dns_udp, 22348, 53);
    run_hex(&r, VK_DIR_DST, AAAA_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "AAAA");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "2001:db8::1");
    run_end(&r);

    /* 333: TXT */
    run_begin(&r, &vk_proto_dns_udp, 22349, 53);
    run_hex(&r, VK_DIR_DST, TXT_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_TXT, "v=spf1 include:_spf.example.org ~all");
    run_end(&r);

    /* 335 CAA, 337 HTTPS (target "." adds no name), 339 NSEC: decoded without anomaly. */
    run_begin(&r, &vk_proto_dns_udp, 22350, 53);
    run_hex(&r, VK_DIR_DST, CAA_R);
    run_hex(&r, VK_DIR_DST, HTTPS_R);
    run_hex(&r, VK_DIR_DST, NSEC_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "CAA", "HTTPS", "NSEC");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "example.org");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_ANSWER_NAME), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* 222: A + RRSIG + DS; 325: NS; 327: MX. */
    run_begin(&r, &vk_proto_dns_udp, 12345, 53);
    run_hex(&r, VK_DIR_DST, RRSIG_R);
    run_hex(&r, VK_DIR_DST, NS_R);
    run_hex(&r, VK_DIR_DST, MX_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "10.0.1.1");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "A", "NS", "MX");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER_NAME, "ns1.example.org", "ns2.example.org",
               "mail.example.org", "backup.example.org");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* dns-wiresharkrepo.pcap 2 (TXT), 8 (PTR), 24 (ANY with AAAA and A). */
    run_begin(&r, &vk_proto_dns_udp, 32795, 53);
    run_hex(&r, VK_DIR_DST, WS_TXT_R);
    run_hex(&r, VK_DIR_DST, WS_PTR_R);
    run_hex(&r, VK_DIR_DST, WS_ANY_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_TXT, "v=spf1 ptr ?all");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER_NAME, "66-192-9-104.gen.twtelecom.net");
    assert_true(vk_test_has(&r.meta, VK_K_ALIAS_HOST, "66-192-9-104.gen.twtelecom.net"));
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "2001:4f8:0:2::d", "204.152.184.88");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "TXT", "PTR", "ANY");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "google.com", "104.9.192.66.in-addr.arpa", "www.isc.org");
    run_end(&r);

    /* zeek dnssec/dnskey2.pcap 2: DNSKEY, RRSIG and OPT. */
    run_begin(&r, &vk_proto_dns_udp, 40000, 53);
    run_hex(&r, VK_DIR_DST, DNSKEY_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "DNSKEY");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "paypal.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* zeek dns-txt-multiple.pcap 2: one TXT record, two strings; two CNAMEs. */
    run_begin(&r, &vk_proto_dns_udp, 40000, 53);
    run_hex(&r, VK_DIR_DST, TXT_MULTI_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_TXT,
               "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDPdPfyJM2R2GqMyZM1flTzFeDIU+e7"
               "KmiKRw5yz3Xht+cgEIiHmm5lIGBuWCc5rtiy0CcxePpqccPKjn",
               "HSrDI23PU+HOuqJ6ergE1IOsL6LOEgG6YT53vMb8Z6UiBSsYPlrDEC+8CUIkTLMLXJauRK5bNRKV1ATGz"
               "GFpf3TjZtWwIDAQAB");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "flkr._domainkey.flickr.com",
               "fa14._domainkey.flickr.com", "fa14._domainkey.yahoo.com");
    run_end(&r);
}

/* arkime_synthetic.pcap 341: punycode query shown in Unicode (Arkime: host "όβλοσ.com",
 * puny "xn--nxasmq5b.com"); alias.host has both forms. */
static void test_udp_punycode(void **state)
{
    struct run r;
    run_begin(&r, &vk_proto_dns_udp, 22353, 53);
    run_hex(&r, VK_DIR_DST, PUNY_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "\xcf\x8c\xce\xb2\xce\xbb\xce\xbf\xcf\x83.com");
    VK_ASSERT_SET(&r.meta, VK_K_ALIAS_HOST, "xn--nxasmq5b.com",
               "\xcf\x8c\xce\xb2\xce\xbb\xce\xbf\xcf\x83.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "1.2.3.4");
    run_end(&r);
}

/* dns-wiresharkrepo.pcap 35: "GRIMM.utelsystems.local" is lower-cased, as Arkime does. */
static void test_udp_lower_case(void **state)
{
    struct run r;
    run_begin(&r, &vk_proto_dns_udp, 1710, 53);
    run_hex(&r, VK_DIR_SRC, WS_GRIMM_Q);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "grimm.utelsystems.local");
    run_end(&r);

    /* dns-wiresharkrepo.pcap 30: SRV query, NXDOMAIN. */
    run_begin(&r, &vk_proto_dns_udp, 1707, 53);
    run_hex(&r, VK_DIR_DST, WS_SRV_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY,
               "_ldap._tcp.default-first-site-name._sites.dc._msdcs.utelsystems.local");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "SRV");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NXDOMAIN");
    run_end(&r);
}

/* ---- mDNS and LLMNR ----------------------------------------------------------------- */

static void test_llmnr_mdns(void **state)
{
    struct run r;
    /* arkime_synthetic.pcap 346+347: service llmnr */
    run_begin(&r, &vk_proto_dns_udp, 5355, 5355);
    run_hex(&r, VK_DIR_SRC, LLMNR_Q);
    run_hex(&r, VK_DIR_DST, LLMNR_R);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "llmnr");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "mypc");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "10.1.12.200");
    run_end(&r);

    /* arkime_synthetic.pcap 348+349: service mdns */
    run_begin(&r, &vk_proto_dns_udp, 5353, 5353);
    run_hex(&r, VK_DIR_SRC, MDNS_Q);
    run_hex(&r, VK_DIR_DST, MDNS_R);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "mdns");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "mydevice.local");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "10.1.13.200");
    run_end(&r);

    /* Port 53 wins over 5353 (dns-udp.pcap 5 goes 5353 -> 53; Arkime says dns). */
    run_begin(&r, &vk_proto_dns_udp, 5353, 53);
    run_hex(&r, VK_DIR_SRC, MDNS_Q);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "dns");
    run_end(&r);

    /* v6-http.pcap 6+7: a query with two questions (only the first is reported, as
     * Arkime) and known answers (not reported: a query), then an unsolicited response
     * without question whose AAAA records carry the cache-flush bit. */
    run_begin(&r, &vk_proto_dns_udp, 5353, 5353);
    run_hex(&r, VK_DIR_SRC, MDNS6_Q);
    run_hex(&r, VK_DIR_SRC, MDNS6_R);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY,
               "1.e.6.0.8.9.e.c.7.d.9.3.9.9.9.0.0.0.0.0.d.2.0.1.8.f.6.0.1.0.0.2.ip6.arpa");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "ANY");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "2001:6f8:102d:0:a9d2:1782:1995:b63b",
               "2001:6f8:102d:0:2d0:9ff:fee3:e8de", "2001:6f8:102d:0:1033:c4c:7e57:b19e");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* ndpi iphone.pcap 3: DNS-SD announcement (no question, 30 answers, 11 additional):
     * SRV targets, PTR targets with UTF-8 bytes escaped as Arkime does ("Luca’s iMac":
     * e2 80 99 -> "m-bm-^@m-^y"), compressed NSEC names, TXT strings. */
    run_begin(&r, &vk_proto_dns_udp, 5353, 5353);
    run_hex(&r, VK_DIR_SRC, MDNS_IPHONE_R);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "mdns");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "192.168.2.1", "fe80::c42c:3ff:fe60:6a64");
    assert_true(vk_test_has(&r.meta, VK_K_DNS_ANSWER_NAME, "lucas-imac.local"));
    assert_true(vk_test_has(&r.meta, VK_K_DNS_ANSWER_NAME, "lucam-bm-^@m-^ys imac._odisk._tcp.local"));
    assert_true(vk_test_has(&r.meta, VK_K_ALIAS_HOST, "lucas-imac.local"));
    assert_false(vk_test_has(&r.meta, VK_K_ALIAS_HOST, "lucam-bm-^@m-^ys imac._odisk._tcp.local"));
    assert_true(vk_test_has(&r.meta, VK_K_DNS_TXT, "model=iMac11,3"));
    assert_true(vk_test_has(&r.meta, VK_K_DNS_TXT, "rpHN=8b5324359d7d"));
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_QUERY), 0);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);
}

/* ---- malformed messages --------------------------------------------------------------- */

static void test_bad_names(void **state)
{
    struct run r;
    char hex[2048];

    /* tcpdump dns-zlip-1.pcap 1 (the bytes past the UDP length of 8): the question name
     * is a pointer to itself. */
    run_begin(&r, &vk_proto_dns_udp, 1024, 53);
    run_hex(&r, VK_DIR_SRC,
            "ed6900000001000000000000c00cc007c010c017c020c027c030c0ffcf000000010001");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.pointer_loop");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_SERVICE), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_QUERY), 0);
    run_end(&r);

    /* dns-udp.pcap 1 with the question name replaced by a forward pointer (to offset 14). */
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_SRC, "e03901000001000000000000c00e00010001");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.pointer_loop");
    run_end(&r);

    /* dns-udp.pcap 2 with the CNAME rdata pointer c010 turned into c0f0 (forward): the
     * CNAME is dropped, the other records still read. */
    snprintf(hex, sizeof hex, "%s", UDP_GITHUB_R);
    char *cn = strstr(hex, "0002c010c010");
    assert_non_null(cn);
    memcpy(cn + 4, "c0f0", 4);
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_DST, hex);
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.pointer_loop", "dns.bad_rdata");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "www.github.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "192.30.252.128", "10.2.95.12");
    run_end(&r);

    /* dns-udp.pcap 1 with label length 0x03 -> 0x43 (obsolete extended label type). */
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_SRC, "e03901000001000000000000437777770667697468756203636f6d0000010001");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.bad_name");
    run_end(&r);

    /* dns-udp.pcap 1 header with a 5 x 63-byte name: 321 bytes on the wire > 255. */
    size_t o = (size_t)snprintf(hex, sizeof hex, "e03901000001000000000000");
    for (int l = 0; l < 5; l++) {
        o += (size_t)snprintf(hex + o, sizeof hex - o, "3f");
        for (int i = 0; i < 63; i++) o += (size_t)snprintf(hex + o, sizeof hex - o, "61");
    }
    snprintf(hex + o, sizeof hex - o, "0000010001");
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_SRC, hex);
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.bad_name");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_QUERY), 0);
    run_end(&r);

    /* tcpdump dns_udp_2.pcap 2: capture cut at 56 of 224 payload bytes, inside the second
     * A record. The first one is kept. */
    run_begin(&r, &vk_proto_dns_udp, 33333, 53);
    run_hex(&r, VK_DIR_DST, CUT_R);
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.truncated");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "www.tcpdump.org");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_ANSWER, "192.139.46.66");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    run_end(&r);

    /* tcpdump dns_fwdptr.pcap 1, first 32 bytes: opcode 15 is unassigned. */
    run_begin(&r, &vk_proto_dns_udp, 500, 53);
    run_hex(&r, VK_DIR_DST, "c980ffeffb0301fb0301fb0301fb0301fb0301fb0301fb0301fb0301fb0301fb");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.bad_opcode");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_SERVICE), 0);
    run_end(&r);

    /* dns-udp.pcap 1 with qdcount 2 (Arkime: tag dns:qdcount-not-1, nothing else); no
     * question was read, so no service either. */
    run_begin(&r, &vk_proto_dns_udp, 62563, 53);
    run_hex(&r, VK_DIR_SRC, "e03901000002000000000000037777770667697468756203636f6d0000010001");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.qdcount_not_1");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_SERVICE), 0);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_QUERY), 0);
    run_end(&r);

    /* Shorter than a header. */
    run_begin(&r, &vk_proto_dns_udp, 500, 53);
    run_hex(&r, VK_DIR_DST, "e0390100");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.truncated");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_SERVICE), 0);
    run_end(&r);
}

/* ---- TCP ---------------------------------------------------------------------------- */

static size_t blob(const char *hex, uint8_t *out, size_t cap) { return vk_test_unhex(hex, out, cap); }

static void assert_google_aol(const struct vk_meta *m)
{
    VK_ASSERT_SET(m, VK_K_DNS_ANSWER, "74.125.228.46", "74.125.228.32", "74.125.228.33",
               "74.125.228.34", "74.125.228.35", "74.125.228.36", "74.125.228.37",
               "74.125.228.38", "74.125.228.39", "74.125.228.40", "74.125.228.41",
               "216.239.32.10", "216.239.36.10", "216.239.38.10", "216.239.34.10",
               "205.188.100.58", "205.188.101.58", "207.200.74.38", "64.12.79.57",
               "64.12.89.186", "64.236.1.107", "207.200.73.80", "64.12.51.132",
               "205.188.157.232");
}

/* dns-tcp.pcap 4, 6, 14, 16: messages cut at every possible place, and several in one
 * segment. Arkime: answers ip as asserted. */
static void test_tcp_framing(void **state)
{
    static uint8_t q[512], resp[2048];
    size_t nq = blob(TCP_GOOGLE_Q, q, sizeof q);
    size_t n1 = blob(TCP_GOOGLE_R, resp, sizeof resp);
    size_t n2 = blob(TCP_AOL_R, resp + n1, sizeof resp - n1);
    struct run r;

    /* Whole segments. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_bytes(&r, VK_DIR_SRC, q, nq);
    run_hex(&r, VK_DIR_SRC, TCP_AOL_Q);
    run_bytes(&r, VK_DIR_DST, resp, n1 + n2); /* two messages in one segment */
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "dns");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "google.com", "aol.com");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_RCODE, "NOERROR");
    assert_google_aol(&r.meta);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* One byte at a time. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    for (size_t i = 0; i < n1 + n2; i++) run_bytes(&r, VK_DIR_DST, resp + i, 1);
    assert_google_aol(&r.meta);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_ANOMALY), 0);
    run_end(&r);

    /* Every cut point of the two-message stream into two segments. */
    for (size_t cut = 1; cut < n1 + n2; cut += 7) {
        run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
        run_bytes(&r, VK_DIR_DST, resp, cut);
        run_bytes(&r, VK_DIR_DST, resp + cut, n1 + n2 - cut);
        assert_google_aol(&r.meta);
        run_end(&r);
    }

    /* A message left unfinished is flagged at the end. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_bytes(&r, VK_DIR_DST, resp, 100);
    run_end(&r); /* meta freed by run_end: check through a second run below */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_bytes(&r, VK_DIR_DST, resp, 100);
    r.p->finish(r.st, &r.c);
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.truncated");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_ANSWER), 0);
    run_end(&r);

    /* arkime_synthetic.pcap 702: a query for the root gets no dns.query (Arkime writes
     * queryHost "<root>" and no host) but its type. */
    run_begin(&r, &vk_proto_dns_tcp, 33002, 53);
    run_hex(&r, VK_DIR_SRC, TCP_ROOT_Q);
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "dns");
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QTYPE, "NS");
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_QUERY), 0);
    run_end(&r);
}

/* Gaps: the partial message is dropped; a gap inside a message of known length is
 * skipped exactly; a gap at an unknown place waits for a plausible segment. */
static void test_tcp_gap(void **state)
{
    static uint8_t resp[2048];
    size_t n1 = blob(TCP_GOOGLE_R, resp, sizeof resp);
    size_t n2 = blob(TCP_AOL_R, resp + n1, sizeof resp - n1);
    struct run r;

    /* 100 bytes of google, 50 lost, the rest of google and all of aol in one segment. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_bytes(&r, VK_DIR_DST, resp, 100);
    r.p->gap(r.st, &r.c, VK_DIR_DST, 50);
    run_bytes(&r, VK_DIR_DST, resp + 150, n1 + n2 - 150);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "aol.com");
    assert_false(vk_test_has(&r.meta, VK_K_DNS_ANSWER, "74.125.228.46"));
    assert_true(vk_test_has(&r.meta, VK_K_DNS_ANSWER, "205.188.157.232"));
    run_end(&r);

    /* The gap swallows the end of google and the start of aol: framing is lost; the
     * rest of aol is dropped, the next segment that opens a message is read. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_bytes(&r, VK_DIR_DST, resp, 100);
    r.p->gap(r.st, &r.c, VK_DIR_DST, n1);
    run_bytes(&r, VK_DIR_DST, resp + 100 + n1, n2 - 100);
    assert_int_equal(vk_meta_count(&r.meta, VK_K_DNS_ANSWER), 0);
    run_bytes(&r, VK_DIR_DST, resp, n1);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "google.com");
    assert_true(vk_test_has(&r.meta, VK_K_DNS_ANSWER, "74.125.228.46"));
    run_end(&r);

    /* A gap ending exactly on a boundary keeps framing. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_bytes(&r, VK_DIR_DST, resp, 10);
    r.p->gap(r.st, &r.c, VK_DIR_DST, n1 - 10);
    run_bytes(&r, VK_DIR_DST, resp + n1, 5);
    run_bytes(&r, VK_DIR_DST, resp + n1 + 5, n2 - 5);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "aol.com");
    run_end(&r);

    /* A length below a header loses framing. */
    run_begin(&r, &vk_proto_dns_tcp, 49342, 53);
    run_hex(&r, VK_DIR_DST, "0003414243");
    VK_ASSERT_SET(&r.meta, VK_K_ANOMALY, "dns.bad_length");
    run_bytes(&r, VK_DIR_DST, resp + n1, n2);
    VK_ASSERT_SET(&r.meta, VK_K_DNS_QUERY, "aol.com");
    run_end(&r);
}

/* ---- probe -------------------------------------------------------------------------- */

static void test_probe(void **state)
{
    static const uint8_t *const http = (const uint8_t *)"GET / HTTP/1.1\r\n\r\n";
    static uint8_t b[2048];
    struct vk_flow_view f = {.family = 4, .ipproto = 17, .port = {62563, 53}};
    size_t n = blob(UDP_GITHUB_Q, b, sizeof b);

    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, b, n), 3);
    f.port[1] = 9999;
    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, b, n), 2);
    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, http, 18), 0);
    f.port[1] = 53;
    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, http, 18), 1);

    /* arkime nbns.pcap 1: NetBIOS name service shares the header; Arkime says nbns. */
    f.port[0] = f.port[1] = 137;
    n = blob("00042900000100000000000120454e4545454b4643444a44494341434143414341434143414341434141"
             "440000200001c00c00200001000493e000060000c0a8ef81", b, sizeof b);
    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, b, n), 0);

    /* v6-http.pcap 7: mDNS answers without question. */
    f.port[0] = f.port[1] = 5353;
    n = blob(MDNS6_R, b, sizeof b);
    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, b, n), 3);
    /* ndpi 1kxun.pcap 17: LLMNR query for wpad. */
    f.port[0] = 58046;
    f.port[1] = 5355;
    n = blob(LLMNR_WPAD_Q, b, sizeof b);
    assert_int_equal(vk_proto_dns_udp.probe(&f, VK_DIR_SRC, b, n), 3);

    /* TCP: whole, partial first segment, length only. */
    struct vk_flow_view t = {.family = 4, .ipproto = 6, .port = {49342, 53}};
    n = blob(TCP_GOOGLE_Q, b, sizeof b);
    assert_int_equal(vk_proto_dns_tcp.probe(&t, VK_DIR_SRC, b, n), 3);
    assert_int_equal(vk_proto_dns_tcp.probe(&t, VK_DIR_SRC, b, 20), 3);
    assert_int_equal(vk_proto_dns_tcp.probe(&t, VK_DIR_SRC, b, 2), 1);
    t.port[1] = 8080;
    assert_int_equal(vk_proto_dns_tcp.probe(&t, VK_DIR_SRC, b, n), 2);
    assert_int_equal(vk_proto_dns_tcp.probe(&t, VK_DIR_SRC, http, 18), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_github),   cmocka_unit_test(test_udp_query_only),
        cmocka_unit_test(test_udp_statuses), cmocka_unit_test(test_udp_notify),
        cmocka_unit_test(test_udp_rr_types), cmocka_unit_test(test_udp_punycode),
        cmocka_unit_test(test_udp_lower_case), cmocka_unit_test(test_llmnr_mdns),
        cmocka_unit_test(test_bad_names),    cmocka_unit_test(test_tcp_framing),
        cmocka_unit_test(test_tcp_gap),      cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
