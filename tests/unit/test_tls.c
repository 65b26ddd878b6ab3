/* test_tls.c — unit tests of the TLS parser (src/proto/tls.c) and of vk_tls_handshake().
 *
 * Real bytes only: hellos and server flights cut from corpus captures (each constant says
 * which capture and frame), a QUIC ClientHello as tshark decrypts it from an Initial, and
 * whole captures replayed through the parser (libpcap + the project's decoder, sequence
 * numbers tracked per direction). Values asserted are the ones Arkime wrote in the
 * capture's .test file: JA3, JA3S, JA4, SNI, cipher and version names, and per
 * certificate subject/issuer CN, serial, SHA-1, validity and alt names. A golden test
 * reads those .test files (jansson) and compares every TLS field for several captures.
 * Malformed input (bad records, cut hellos, junk certificates, gaps) must give anomalies,
 * never a crash. */
#include "vk_test.h"

#include <jansson.h>
#include <pcap/pcap.h>
#include <string.h>

#include "decode/vk_decode.h"
#include "proto/vk_proto.h"

/* ---- bytes from the corpus (tshark -T fields -e tcp.payload) ------------------------ */

/* tls13.pcap frame 4: ClientHello (client -> server) */
static const char tls13_client_hello[] =
    "1603010200010001fc03034355d402c132771a9386b6e9994ae37069e0621af504c26673b1343843c21d8d0000264a4a"
    "130113021303c02bc02fc02cc030cca9cca8cc14cc13c013c014009c009d002f0035000a010001addada0000ff010001"
    "00000000180016000013626c6f672e636c6f7564666c6172652e636f6d0017000000230000000d001400120403080404"
    "01050308050501080606010201000500050100000000001200000010000e000c02683208687474702f312e3175500000"
    "000b000201000028002b00295a5a000100001d0020cf78b9167af054b922a96752b43973107b2a57766357dd288b2b42"
    "ab5df30e08002d00020101002b000b0acaca7f12030303020301000a000a00085a5a001d001700180a0a000100001500"
    "e40000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000";

/* tls13.pcap frame 6: ServerHello (draft 18) + application data */
static const char tls13_server_flight[] =
    "16030100520200004e7f123ef1609fd3f4fa8668aac5822d500fb0639b22671d0fb7258597355795511bf61301002800"
    "280024001d0020ae0e282a3b7a463e71064ecbaf671586e979b0edbebf7a4735c31678c70f660c1703010020d602bda7"
    "a3936e236641b7d229d8224ac4a4278b27595c2440527b7d10f96d3b1703010ba11247659a1cbe53bbc83790f8ca0bca"
    "f38360c8e7b1f6b145c6c208adf4b3d479c46f9d3fb66123f7365b9380581ecc1b2ff764a32e81a92767d33b0b7e7636"
    "857d390a2ab0eec765b631a82fdd24215e3b671a4642008ab1c5c188538afcdb760963d205fbab2a999161b02a4e608e"
    "f93dadd233ab9e84287feea1aed684f4eb1746c3f3f08e5fd4621e8c043a15c7bf6a1f7159657bcdb698987d38c94696"
    "bf08c230ee97033edc35e0c5675d4c7b4a45b266addb6595664cb2733d636152b48016b9301f1a2fcc53e28318dba720"
    "bd23196ccb3d3ecd596dbb8977eb6333ee9fd9e6400d2dc154eb3e276d24432aee2b3ed84c9c384ee4772be1a358d4df"
    "2eda7a837eabbc5e5753b551dd58d44317f02363dacd5ff233c48c37fd11d3b093ebcfb97b1cf4dcbcc21da3137ee0a4"
    "3cc6d73956b9aacb954c61857dafd7609d94eaf74e5f04c102a58bd6e7f077278a7ee2a41c37aec337c83419ead47ec9"
    "aa497d7e74d9784601e6a943921caac5b286f43c5636bdd66c314d4f2bb6c350ce55ece0d56db3bf97f9ccd8bc9b8e69"
    "6f2f46de45daa956cb4bc7decf90cad39508d7870de3e596ec804496e76fafd9fd5117b917dc23bf8922a872edc1a8ac"
    "1c1ef562aaa72e7eec0749b718f42d730b4e59c83cee60b618e0950e2db499a2ada54088795c8215810781c454f67b8e"
    "72e53ad9ae364a0853fdca824613d100ad41c556be47cd15f31189c732633bb5c315497805f1ac2b73a57e90de14ecc7"
    "6420cfb87ae877faa420951be6bf81b5b44e4b5649d58299f6c3c1bd88a1130a1ee7add8d267229c66cb063634a56723"
    "08dd4a4ff0aadb4d51f9a73473025c06e559880eaafbe98fae23caf8747c1bbc366fc8bca4a1caad3ae99c7a947771fa"
    "5bcd2792e574d6d309adaa4e9833c87bd318e153b0831c081c00fc17878b34ad9dc8c01e2786de8e413fe9a261cd91f0"
    "888c492d251fd9df5e466cdf101a95ed285e16bb5b77a3f63939f0d088cffe860bf939be3bf79b029ac4a27093b25db6"
    "decd2c455cbc6f46e3b5ff328d7f7695bfd38d3f22b423666bea7ea92acfb8698e72802b0dfc95ce6f643d2290e63a3a"
    "66b977e5c3f2d2880d689e5b48deaecea1db50a4c7112692c9d5a9fb6e88f6244026b6d73eba0ec1c3165b088af40871"
    "8f5dffdbcd16b187663f0a4c65458e41e9b16b15d2ca2e9f35e040144365cd78da9f8172d9b490cf17eb8608707309b8"
    "7d034b329b4fc42330fd27d1dd5da77504f9f376f2e1546fdfd6f6e78ca7b7f02a488e17b6eca012deaf73dbe0d3be2a"
    "fddef0d72dd7dfff29e9e604a92210a80c7b07dcda6342738120dba9d513ef4b9f1c3151865e27da736a3bdabd96c231"
    "bdadd572109bcab0d0b85c9b2eb9c16c984c948cba1bd281c79f371434c8dd0d877c56531ef27e8f1989a1d5b8b92597"
    "f54f55d37fc5c6555031503a3b41291f2215c136c93af1f5819fd48cb75fa472e6d8ec5418fca5d3657c1a783dea04ad"
    "bd94c4b0f1f423f336df063bc300c1587d4655eb";

/* pppoe.pcap frame 4: SSLv2-framed ClientHello */
static const char pppoe_sslv2_hello[] =
    "804c01030000330000001000000400000500000a0100800700c003008000000906004000006400006200000300000602"
    "0080040080000013000012000063a108e16bbe46a47c2e696eff96302e2b";

/* tls-alpn-h2.pcap frame 4 (from port 64034) */
static const char alpn_h2_0[] =
    "16030100e8010000e40303858226c04fbaeddef4246093b4cfdab38f9dcfef145360e417686575cac49c7000005cc030"
    "c02cc028c024c014c00a009f006b0039cca9cca8ccaaff8500c400880081009d003d003500c00084c02fc02bc027c023"
    "c013c009009e0067003300be0045009c003c002f00ba0041c011c00700050004c012c0080016000a00ff0100005f0000"
    "001700150000127777772e636c6f7564666c6172652e636f6d000b00020100000a00080006001d00170018000d001c00"
    "1a06010603efef0501050304010403eeeeeded03010303020102030010000e000c02683208687474702f312e31";

/* tls-alpn-h2.pcap frame 6 (from port 443) */
static const char alpn_h2_1[] =
    "16030300640200006003035f0236c07f47bfb12dc2da706ecb3fe7f9eeac9968cc2ddf444f574e4752440120b89ff1ab"
    "695278c69b8a73f76242ef755e0b13dc6d459aaaa784fec9c2dfce34cca900001800000000ff01000100000b00020100"
    "0010000500030268321603030a0c0b000a08000a050006133082060f30820595a00302010202100a68bb984a507399f4"
    "716e809a44a7b0300a06082a8648ce3d0403023074310b300906035504061302555331153013060355040a130c446967"
    "694365727420496e6331193017060355040b13107777772e64696769636572742e636f6d313330310603550403132a44"
    "696769436572742045434320457874656e6465642056616c69646174696f6e20536572766572204341301e170d313831"
    "3033303030303030305a170d3230313130333132303030305a3081cf311d301b060355040f0c1450726976617465204f"
    "7267616e697a6174696f6e31133011060b2b0601040182373c0201031302555331193017060b2b0601040182373c0201"
    "02130844656c61776172653110300e0603550405130734373130383735310b3009060355040613025553311330110603"
    "550408130a43616c69666f726e6961311630140603550407130d53616e204672616e636973636f31193017060355040a"
    "1310436c6f7564666c6172652c20496e632e311730150603550403130e636c6f7564666c6172652e636f6d3059301306"
    "072a8648ce3d020106082a8648ce3d03010703420004ced7614949fd4b358b1b86bca3c5bcd8206e31172d928ab734f4"
    "db11704e491661fcaefa7fba6f0c055374c6797f81128af7e25e6cf5fa10696b67d9d59651b0a38203ab308203a7301f"
    "0603551d23041830168014f825d9a639c7c38187253e3054911821409b179d301d0603551d0e04160414de7f7fe67ced"
    "ed61436047675d862f84fda678ad302d0603551d1104263024820e636c6f7564666c6172652e636f6d82127777772e63"
    "6c6f7564666c6172652e636f6d300e0603551d0f0101ff040403020780301d0603551d250416301406082b0601050507"
    "030106082b0601050507030230819f0603551d1f0481973081943048a046a0448642687474703a2f2f63726c332e6469"
    "6769636572742e636f6d2f4469676943657274454343457874656e64656456616c69646174696f6e5365727665724341"
    "2e63726c3048a046a0448642687474703a2f2f63726c342e64696769636572742e636f6d2f4469676943657274454343"
    "457874656e64656456616c69646174696f6e53657276657243412e63726c304b0603551d200444304230370609608648"
    "0186fd6c0201302a302806082b06010505070201161c68747470733a2f2f7777772e64696769636572742e636f6d2f43"
    "50533007060567810c010130818706082b06010505070101047b3079302406082b060105050730018618687474703a2f"
    "2f6f6373702e64696769636572742e636f6d305106082b060105050730028645687474703a2f2f636163657274732e64"
    "696769636572742e636f6d2f4469676943657274454343457874656e64656456616c69646174696f6e53657276657243"
    "412e637274300c0603551d130101ff040230003082017e060a2b06010401d6790204020482016e0482016a0168007600"
    "a4b90990b418581487bb13a2cc67700a3c359804f91bdfb8e377cd0ec80ddc1000000166c688750c0000040300473045"
    "022100cde9cc16c03d9f50ff27e1ff5e668bde11b32b77bc4052ad02c88fd0583a8f84022071b9528b6a7988a2d5ba55"
    "6836db2c56ab59778966d854ae801d85ca3f1b30510076008775bfe7597cf88c43995fbdf36eff568d475636ff4ab560"
    "c1b4";

/* tls-alpn-h2.pcap frame 7 (from port 443) */
static const char alpn_h2_2[] =
    "eaff5ea0830f00000166c68876cb00000403004730450220306cdddcfe03c82c72d162e51bdd7c933bab0109e4a7a573"
    "bc5769751c3a8105022100f6d8282b0742d085b0255af1818e95f73a7667f759324a9e7731225344d541db007600bbd9"
    "dfbc1f8a71b593942397aa927b473857950aab52e81a909664368e1ed18500000166c688751100000403004730450220"
    "79e3f579c2f6106a9c1e2ab8a16b5721d408b04123cb6399f054151cca3808b6022100c5508c255e327f5806b49d5f0b"
    "0d7bfee832f84d6502be56c0327e8fabd52eda300a06082a8648ce3d040302036800306502301e1b3d109a50232ee686"
    "111346a81de863f82f609643490a49307355f825631d4659daa94b9868993d50a8c4fc520fe3023100d264ccadf892b6"
    "6bfeb7a94e8c063bfbd3089fd9041080b952970a1424a45a8ad7273c1e86cbb7a8bec3c098fa4a91ae0003ec308203e8"
    "308202d0a0030201020210029707560cd4a9ebbfe272f1e096d882300d06092a864886f70d01010c0500306c310b3009"
    "06035504061302555331153013060355040a130c446967694365727420496e6331193017060355040b13107777772e64"
    "696769636572742e636f6d312b30290603550403132244696769436572742048696768204173737572616e6365204556"
    "20526f6f74204341301e170d3136303632313132353432375a170d3331303632313132353432375a3074310b30090603"
    "5504061302555331153013060355040a130c446967694365727420496e6331193017060355040b13107777772e646967"
    "69636572742e636f6d313330310603550403132a44696769436572742045434320457874656e6465642056616c696461"
    "74696f6e205365727665722043413076301006072a8648ce3d020106052b8104002203620004b130f5f3111d2f7ef27f"
    "47c383165ce520f0905b70d57d252ead7167adec772edb50dddaf5215042544c04b55303a9fa0d8118682c7d1a6e13e7"
    "fe010f1389fe76de85f06178f18961af00ad2784054e807f02a4ccbbe1627a09f7296203e62da382012a30820126301d"
    "0603551d0e04160414f825d9a639c7c38187253e3054911821409b179d301f0603551d23041830168014b13ec36903f8"
    "bf4701d498261a0802ef63642bc330120603551d130101ff040830060101ff020100300e0603551d0f0101ff04040302"
    "0186303406082b0601050507010104283026302406082b060105050730018618687474703a2f2f6f6373702e64696769"
    "636572742e636f6d304b0603551d1f044430423040a03ea03c863a687474703a2f2f63726c342e64696769636572742e"
    "636f6d2f4469676943657274486967684173737572616e63654556526f6f7443412e63726c303d0603551d2004363034"
    "30320604551d2000302a302806082b06010505070201161c68747470733a2f2f7777772e64696769636572742e636f6d"
    "2f435053300d06092a864886f70d01010c05000382010100b6eb69aaf0cdb886740f6dbba854d1f3c69173a709dccfea"
    "286b19955056b8a32603af95b15a5260d6066655f2de955ba4019121b8a78c72ef86d43b6b4b715e763d5ca890915a8f"
    "abfcc7730daf9bb9f76c5823c2cd3154a1b7c84108b6e111fa3a501e8c81d55372c97049d9f08731857563774562953c"
    "f14101ec4c5e06a52bf7f03642126a5764ca4962bc3fcf1dc45643841961f15d1605ab5441ec6e3cae460e2a4cc6c7f6"
    "947893f4ee2404520ef8df770ec04919da10e39997a41cd8bd89a7db191820a8c53b48d0309bc1d4d9cdee3aa6ef38ff"
    "429d1f363770b7260092f8b57a8735e131ba01c23da44040ee35a2213e64238415cc2f97e34fadd216030300720c0000"
    "6e03";

/* tls-alpn-h2.pcap frame 9 (from port 443) */
static const char alpn_h2_3[] =
    "001d208ea9e1bcf71d025cbf1f6c48840cc7a588a68211a16e6a8506b9470cfde8eb6f04030046304402202498e0aa72"
    "d76f146a10dbba94efca829c3afb648f4e996e662bd12191fcb9220220497dd16f34e482be84ece9571e20ac0797463e"
    "4de512a14816b942f4d8eea80616030300040e000000";

/* quicietf.pcap frame 1: the ClientHello from the decrypted Initial CRYPTO frame (tshark -x "Decrypted QUIC") */
static const char quic_client_hello[] =
    "01000280030311b62ad7bc5c5b7647974ea93a3a780d5a837768f0ca5e0b8b1f3b5f8a17c76900000613011302130301"
    "00025100000014001200000f73736c2e677374617469632e636f6d000a00080006001d00170018001000050003026833"
    "000d00140012040308040401050308050501080606010201003300260024001d00205bea7bdb4ebe44015c91eb401f48"
    "b5535162f45c9b56a84b74381bd65a2e8b4a002d00020101002b000302030400390084010480007530030245c0040480"
    "f00000050480600000060480600000070480600000080240640902406720048001000071270480015c900f0071292b43"
    "68726f6d652f39322e302e343531352e31353920496e74656c204d6163204f5320582031305f31355f37800047520400"
    "000001f125e1214afdbefb0b9eb267471577a8affd4e0f001b0003020002446900050003026833002901390114010e01"
    "4c3fcb1856868e4de1f08b184937c6c0f5039d3cc4636ce4ccfc03b0c33aa49ecffcc20c300c7a09ba6129c8192c56d4"
    "990a5544f27fddc4f91339d4331a3e413f06a2f205e0b6be23aee67ebbd56300da5a0e945a96f3ebc7ddd11959d71e0c"
    "a9a2ae8025143ab992ec3cb474a4f9b8072afdbcf1d813c4ee64536fec70eff41332778f504eb3433e705150adbe09c0"
    "5783aed3b2b4419fc1f80269ba150dca59db8c67a03cb97a6ea33b9f7d888e6fd79e14ab4fcfca6f384cf02206ffef12"
    "21b1255006018723bffe420b096819304715435d5faa67cb31c6965588a1a61f03eb26ea0cbf0af32dd0c1bdf2f1bcf7"
    "a4d70fafe473bf5f4c9acdbd1f2805880fe25f5de098ccf807042142573525525a0021200641eec35b3024b39e1e7611"
    "ea17c92626f1de6a810f341eeac203598d09ea53";

/* ---- helpers ------------------------------------------------------------------------ */

/* Does key k hold exactly the string v? */
static bool has_str(const struct vk_meta *m, enum vk_key k, const char *v)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key == k && it->len == strlen(v) && memcmp(vk_meta_str(m, it), v, it->len) == 0)
            return true;
    }
    return false;
}

static bool has_uint(const struct vk_meta *m, enum vk_key k, uint64_t v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].u == v) return true;
    return false;
}

static void assert_str(const struct vk_meta *m, enum vk_key k, const char *v)
{
    if (!has_str(m, k, v)) {
        fprintf(stderr, "missing %s=%s; have:", vk_key_info(k)->name, v);
        for (uint32_t i = 0; i < m->n; i++)
            if (m->items[i].key == k)
                fprintf(stderr, " '%.*s'", (int)m->items[i].len, vk_meta_str(m, &m->items[i]));
        fprintf(stderr, "\n");
        fail();
    }
}

/* A parser instance with its own meta, fed (dir, bytes) by hand. */
struct t_tls {
    struct vk_flow_view view;
    struct vk_meta meta;
    struct vk_pctx ctx;
    void *st;
};

static void t_open(struct t_tls *t)
{
    memset(t, 0, sizeof *t);
    t->view.family = 4;
    t->view.ipproto = 6;
    t->view.port[0] = 50000;
    t->view.port[1] = 443;
    vk_meta_init(&t->meta);
    t->ctx.meta = &t->meta;
    t->ctx.flow = &t->view;
    t->st = calloc(1, vk_proto_tls.state_size);
    assert_non_null(t->st);
    vk_proto_tls.init(t->st, &t->ctx);
}

/* Deliver hex bytes in chunks of `chunk` bytes (0: all at once). */
static void t_feed(struct t_tls *t, int dir, const char *hex, size_t chunk)
{
    static uint8_t buf[65536];
    size_t n = vk_test_unhex(hex, buf, sizeof buf);
    for (size_t off = 0; off < n;) {
        size_t k = chunk && chunk < n - off ? chunk : n - off;
        vk_proto_tls.data(t->st, &t->ctx, dir, buf + off, k);
        off += k;
    }
}

static void t_close(struct t_tls *t)
{
    vk_proto_tls.finish(t->st, &t->ctx);
    vk_proto_tls.release(t->st);
    free(t->st);
}

/* Replay the first TCP session of a capture through the parser; chunk as in t_feed. */
static void t_replay(struct t_tls *t, const char *rel, size_t chunk)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(vk_test_corpus(rel), err);
    assert_non_null(pc);
    struct vk_decoder *dec = vk_decode_new(0);
    assert_non_null(dec);
    bool have_flow = false, have_seq[2] = {false, false};
    uint32_t next[2] = {0, 0};
    struct pcap_pkthdr *h;
    const u_char *data;
    t_open(t);
    while (pcap_next_ex(pc, &h, &data) == 1) {
        struct vk_pkt pkt = {(uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec, h->caplen,
                             h->len, pcap_datalink(pc), data};
        struct vk_decoded d;
        if (vk_decode_packet(dec, &pkt, &d) != 0 || d.ipproto != 6) continue;
        size_t al = d.family == 4 ? 4 : 16;
        if (!have_flow) {
            /* A SYN-ACK first means its receiver started the session. */
            bool swap = (d.tcp_flags & 0x12) == 0x12;
            t->view.family = d.family;
            memset(t->view.addr, 0, sizeof t->view.addr);
            memcpy(t->view.addr[swap], d.src, al);
            memcpy(t->view.addr[!swap], d.dst, al);
            t->view.port[swap] = d.sport;
            t->view.port[!swap] = d.dport;
            have_flow = true;
        }
        int dir;
        if (!memcmp(d.src, t->view.addr[0], al) && d.sport == t->view.port[0] &&
            !memcmp(d.dst, t->view.addr[1], al) && d.dport == t->view.port[1])
            dir = VK_DIR_SRC;
        else if (!memcmp(d.src, t->view.addr[1], al) && d.sport == t->view.port[1] &&
                 !memcmp(d.dst, t->view.addr[0], al) && d.dport == t->view.port[0])
            dir = VK_DIR_DST;
        else
            continue;
        if (d.tcp_flags & 0x02) {
            next[dir] = d.seq + 1;
            have_seq[dir] = true;
            continue;
        }
        if (d.payload_len == 0) continue;
        if (!have_seq[dir]) {
            next[dir] = d.seq;
            have_seq[dir] = true;
        }
        const uint8_t *p = d.payload;
        size_t n = d.payload_len;
        int32_t off = (int32_t)(d.seq - next[dir]);
        if (off > 0) {
            vk_proto_tls.gap(t->st, &t->ctx, dir, (size_t)off);
            next[dir] = d.seq;
        } else if (off < 0) {
            if ((size_t)-off >= n) continue; /* retransmission */
            p += -off;
            n -= (size_t)-off;
        }
        next[dir] += (uint32_t)n;
        for (size_t o = 0; o < n;) {
            size_t k = chunk && chunk < n - o ? chunk : n - o;
            vk_proto_tls.data(t->st, &t->ctx, dir, p + o, k);
            o += k;
        }
    }
    vk_decode_free(dec);
    pcap_close(pc);
    t_close(t);
}

/* ---- ClientHello / ServerHello -------------------------------------------------------- */

/* tls13.test: Chrome offering TLS 1.3 draft 18 to Cloudflare. */
static void check_tls13(struct t_tls *t)
{
    struct vk_meta *m = &t->meta;
    assert_str(m, VK_K_SERVICE, "tls");
    assert_str(m, VK_K_TLS_SNI, "blog.cloudflare.com");
    assert_str(m, VK_K_ALIAS_HOST, "blog.cloudflare.com");
    assert_str(m, VK_K_TLS_JA3, "4826a90ec2daf4f7b4b64cc1c8bd343b");
    assert_str(m, VK_K_TLS_JA4, "t00d1815h2_a30347de7a75_2a77702ff8e0");
    assert_str(m, VK_K_TLS_JA3S, "b8a8031b301aef7618403061e9f33065");
    assert_str(m, VK_K_TLS_CIPHER, "TLS_AES_128_GCM_SHA256");
    assert_str(m, VK_K_TLS_VERSION, "TLSv1.3-draft-18");
    assert_str(m, VK_K_TLS_ALPN, "h2");
    assert_str(m, VK_K_TLS_ALPN, "http/1.1");
    assert_int_equal(vk_meta_count(m, VK_K_TLS_JA3), 1);
    assert_int_equal(vk_meta_count(m, VK_K_TLS_VERSION), 1);
    assert_int_equal(vk_meta_count(m, VK_K_ANOMALY), 0);
}

static void test_tls13_whole(void **state)
{
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, tls13_client_hello, 0);
    t_feed(&t, VK_DIR_DST, tls13_server_flight, 0);
    check_tls13(&t);
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* The same bytes one at a time, and in 7-byte pieces: records and headers cut anywhere. */
static void test_tls13_split(void **state)
{
    for (size_t chunk = 1; chunk <= 7; chunk += 6) {
        struct t_tls t;
        t_open(&t);
        t_feed(&t, VK_DIR_SRC, tls13_client_hello, chunk);
        t_feed(&t, VK_DIR_DST, tls13_server_flight, chunk);
        check_tls13(&t);
        t_close(&t);
        vk_meta_free(&t.meta);
    }
}

/* The server's application data ends the server direction; the session is done once the
 * client's ChangeCipherSpec comes too. */
static void test_stops_when_encrypted(void **state)
{
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, tls13_client_hello, 0);
    t_feed(&t, VK_DIR_DST, tls13_server_flight, 0);
    assert_false(t.ctx.done);
    t_feed(&t, VK_DIR_SRC, "140303000101", 0);
    assert_true(t.ctx.done);
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* tls-alpn-h2.test: the server picks h2 (Arkime adds http2), certificates span records. */
static void test_alpn_h2_stream(void **state)
{
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, alpn_h2_0, 0);
    t_feed(&t, VK_DIR_DST, alpn_h2_1, 0);
    t_feed(&t, VK_DIR_DST, alpn_h2_2, 0);
    t_feed(&t, VK_DIR_DST, alpn_h2_3, 0);
    struct vk_meta *m = &t.meta;
    assert_str(m, VK_K_SERVICE, "tls");
    assert_str(m, VK_K_SERVICE, "http2");
    assert_str(m, VK_K_TLS_SNI, "www.cloudflare.com");
    assert_str(m, VK_K_TLS_JA3, "3faa4ad39f690c4ef1c3160caa375465");
    assert_str(m, VK_K_TLS_JA4, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9");
    assert_str(m, VK_K_TLS_JA3S, "7f76f3e952a1bc7d407366fafe1db7ed");
    assert_str(m, VK_K_TLS_CIPHER, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_str(m, VK_K_TLS_VERSION, "TLSv1.2");
    assert_int_equal(vk_meta_count(m, VK_K_TLS_CERT_SUBJECT), 2);
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "digicert ecc extended validation server ca");
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "cloudflare.com");
    assert_str(m, VK_K_TLS_CERT_ISSUER, "digicert high assurance ev root ca");
    assert_str(m, VK_K_TLS_CERT_ISSUER, "digicert ecc extended validation server ca");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "029707560cd4a9ebbfe272f1e096d882");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "0a68bb984a507399f4716e809a44a7b0");
    assert_str(m, VK_K_TLS_CERT_SHA1, "fc:20:b6:0c:ad:ac:38:d1:ff:40:cf:1b:6e:ef:29:0f:10:b5:7a:bd");
    assert_str(m, VK_K_TLS_CERT_SHA1, "6a:4c:b2:49:b7:1b:66:59:da:bb:96:01:15:fd:7a:01:bf:c9:96:8c");
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_BEFORE, 1466513667000u));
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_AFTER, 1939812867000u));
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_BEFORE, 1540857600000u));
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_AFTER, 1604404800000u));
    assert_int_equal(vk_meta_count(m, VK_K_TLS_CERT_ALT), 2);
    assert_str(m, VK_K_TLS_CERT_ALT, "cloudflare.com");
    assert_str(m, VK_K_TLS_CERT_ALT, "www.cloudflare.com");
    assert_int_equal(vk_meta_count(m, VK_K_ANOMALY), 0);
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* quicietf.test: the ClientHello quic.c decrypts, handed over directly ('q' in JA4). */
static void test_quic_handshake(void **state)
{
    uint8_t buf[2048];
    size_t n = vk_test_unhex(quic_client_hello, buf, sizeof buf);
    struct vk_meta m;
    vk_meta_init(&m);
    assert_int_equal(vk_tls_handshake(&m, buf, n, true, true), 0);
    assert_str(&m, VK_K_TLS_JA3, "ddfef2ad23ab6dd55307813c2d0b7d58");
    assert_str(&m, VK_K_TLS_JA4, "q13d0311h3_55b375c5d22e_3512bcbbc9ec");
    assert_str(&m, VK_K_TLS_SNI, "ssl.gstatic.com");
    assert_str(&m, VK_K_ALIAS_HOST, "ssl.gstatic.com");
    assert_str(&m, VK_K_TLS_ALPN, "h3");
    assert_false(vk_meta_has(&m, VK_K_SERVICE)); /* the caller names its own service */
    assert_int_equal(vk_meta_count(&m, VK_K_ANOMALY), 0);

    /* Cut short: names found so far stay, no fingerprint, an anomaly. */
    vk_meta_reset(&m);
    assert_int_not_equal(vk_tls_handshake(&m, buf, 300, true, true), 0);
    assert_false(vk_meta_has(&m, VK_K_TLS_JA3));
    assert_false(vk_meta_has(&m, VK_K_TLS_JA4));
    assert_str(&m, VK_K_ANOMALY, "tls.truncated_hello");

    /* A ClientHello said to come from the server is refused. */
    vk_meta_reset(&m);
    assert_int_not_equal(vk_tls_handshake(&m, buf, n, false, true), 0);
    assert_false(vk_meta_has(&m, VK_K_TLS_JA3));
    assert_str(&m, VK_K_ANOMALY, "tls.unexpected_message");

    /* Every prefix, and bytes flipped: no crash, whatever comes out. */
    for (size_t k = 0; k <= n; k++) {
        vk_meta_reset(&m);
        vk_tls_handshake(&m, buf, k, true, true);
    }
    for (size_t k = 4; k < n; k += 3) {
        uint8_t save = buf[k];
        buf[k] ^= 0xff;
        vk_meta_reset(&m);
        vk_tls_handshake(&m, buf, n, true, true);
        buf[k] = save;
    }
    vk_meta_free(&m);
}

/* pppoe.pcap: an SSLv2-framed ClientHello is TLS for the service, with no JA3 (Arkime
 * makes none), and the TLS records that follow are still read. */
static void test_sslv2_hello(void **state)
{
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, pppoe_sslv2_hello, 0);
    assert_str(&t.meta, VK_K_SERVICE, "tls");
    assert_false(vk_meta_has(&t.meta, VK_K_TLS_JA3));
    assert_false(vk_meta_has(&t.meta, VK_K_ANOMALY));
    assert_false(t.ctx.done);
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* ---- whole captures ------------------------------------------------------------------ */

/* openssl-tls1_2.test: three certificates over three TCP segments. */
static void test_openssl_tls12_certs(void **state)
{
    struct t_tls t;
    t_replay(&t, "pcap/arkime/openssl-tls1_2.pcap", 0);
    struct vk_meta *m = &t.meta;
    assert_str(m, VK_K_TLS_JA3, "c1a36e1a870786cc75edddc0009eaf3a");
    assert_str(m, VK_K_TLS_JA4, "t12i740500_c43983326036_3eafcbe19126");
    assert_str(m, VK_K_TLS_JA3S, "ccc514751b175866924439bdbb5bba34");
    assert_str(m, VK_K_TLS_CIPHER, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_str(m, VK_K_TLS_VERSION, "TLSv1.2");
    assert_false(vk_meta_has(m, VK_K_TLS_SNI));
    assert_int_equal(vk_meta_count(m, VK_K_TLS_CERT_SHA1), 3);
    assert_int_equal(vk_meta_count(m, VK_K_TLS_CERT_SUBJECT), 3);
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "google internet authority g2");
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "geotrust global ca");
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "*.google.com");
    /* The Equifax root has no issuer CN (only O/OU): two issuer CNs for three certs. */
    assert_int_equal(vk_meta_count(m, VK_K_TLS_CERT_ISSUER), 2);
    assert_str(m, VK_K_TLS_CERT_ISSUER, "geotrust global ca");
    assert_str(m, VK_K_TLS_CERT_ISSUER, "google internet authority g2");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "023a76");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "12bbe6");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "7a5b0bd895632f87");
    assert_str(m, VK_K_TLS_CERT_SHA1, "0e:a3:27:7c:eb:7f:b2:8c:2b:5d:7d:d7:6b:e9:ba:1a:ec:0d:ff:91");
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_BEFORE, 1411553285000u));
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_AFTER, 1419292800000u));
    assert_int_equal(vk_meta_count(m, VK_K_TLS_CERT_ALT), 49);
    assert_str(m, VK_K_TLS_CERT_ALT, "*.appengine.google.com");
    assert_int_equal(vk_meta_count(m, VK_K_ANOMALY), 0);
    vk_meta_free(m);
}

/* https-generalizedtime.test: a notAfter in GeneralizedTime (year 2024), one-byte delivery. */
static void test_generalized_time(void **state)
{
    struct t_tls t;
    t_replay(&t, "pcap/arkime/https-generalizedtime.pcap", 1);
    struct vk_meta *m = &t.meta;
    assert_str(m, VK_K_TLS_SNI, "mail.yandex.com");
    assert_str(m, VK_K_TLS_JA4, "t12d1511s3_23c751c1cee3_f2efb249ca37");
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_AFTER, 1709470465000u));
    assert_true(has_uint(m, VK_K_TLS_CERT_NOT_BEFORE, 1236084865000u));
    assert_str(m, VK_K_TLS_CERT_SERIAL, "4ca5fec6617c48b056382a8280e0508c");
    vk_meta_free(m);
}

/* badcurveball.test: ALPN "H2" kept as sent in JA4; a certificate with explicit (corrupt)
 * curve parameters is still read. */
static void test_badcurveball(void **state)
{
    struct t_tls t;
    t_replay(&t, "pcap/arkime/badcurveball.pcap", 0);
    struct vk_meta *m = &t.meta;
    assert_str(m, VK_K_TLS_JA4, "t13d1615H2_46e7e9700bed_45f260be83e2");
    assert_str(m, VK_K_TLS_JA3, "66918128f1b9b03303d77c6f2eefd128");
    assert_str(m, VK_K_TLS_CIPHER, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "5ecb7cee8ca206bf9ec00728889ad99f4362cfd9");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "62344031f7ab03e6f9327cde33419cf7fb09df94");
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "sans isc dshield test");
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "infigo");
    vk_meta_free(m);
}

/* pppoe.test: SSLv2 hello, then an SSLv3 server (ServerHello without extensions). */
static void test_pppoe_sslv3(void **state)
{
    struct t_tls t;
    t_replay(&t, "pcap/arkime/pppoe.pcap", 0);
    struct vk_meta *m = &t.meta;
    assert_str(m, VK_K_SERVICE, "tls");
    assert_false(vk_meta_has(m, VK_K_TLS_JA3));
    assert_str(m, VK_K_TLS_JA3S, "1f8f5a3d2fd435e36084db890693eafd");
    assert_str(m, VK_K_TLS_VERSION, "SSLv3");
    assert_str(m, VK_K_TLS_CIPHER, "TLS_RSA_WITH_RC4_128_MD5");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "07");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "01");
    assert_str(m, VK_K_TLS_CERT_SERIAL, "0119");
    assert_str(m, VK_K_TLS_CERT_SUBJECT, "kdc.uas.aol.com");
    vk_meta_free(m);
}

/* Every TLS field Arkime wrote for a single-session capture, read from its .test file. */
static void golden_set(const struct vk_meta *m, enum vk_key k, const char **want, size_t nwant,
                       const char *pcap)
{
    size_t distinct = 0;
    for (size_t i = 0; i < nwant; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++) dup |= strcmp(want[i], want[j]) == 0;
        if (dup) continue;
        distinct++;
        if (!has_str(m, k, want[i])) {
            fprintf(stderr, "%s: ", pcap);
            assert_str(m, k, want[i]);
        }
    }
    if (vk_meta_count(m, k) != distinct) {
        fprintf(stderr, "%s: %s has %u values, Arkime %zu\n", pcap, vk_key_info(k)->name,
                vk_meta_count(m, k), distinct);
        fail();
    }
}

static void golden_one(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "pcap/arkime/%s.test", name);
    json_error_t jerr;
    json_t *root = json_load_file(vk_test_corpus(rel), 0, &jerr);
    assert_non_null(root);
    json_t *body = json_object_get(json_array_get(json_object_get(root, "sessions3"), 0), "body");
    assert_non_null(body);
    snprintf(rel, sizeof rel, "pcap/arkime/%s.pcap", name);
    struct t_tls t;
    t_replay(&t, rel, 0);

    static const struct {
        const char *field;
        enum vk_key key;
    } tls_fields[] = {
        {"version", VK_K_TLS_VERSION}, {"cipher", VK_K_TLS_CIPHER}, {"ja3", VK_K_TLS_JA3},
        {"ja3s", VK_K_TLS_JA3S},       {"ja4", VK_K_TLS_JA4},
    };
    const char *want[512];
    json_t *tls = json_object_get(body, "tls");
    for (size_t f = 0; f < sizeof tls_fields / sizeof tls_fields[0]; f++) {
        json_t *arr = json_object_get(tls, tls_fields[f].field);
        size_t n = 0;
        for (size_t i = 0; i < json_array_size(arr) && n < 512; i++)
            want[n++] = json_string_value(json_array_get(arr, i));
        golden_set(&t.meta, tls_fields[f].key, want, n, name);
    }
    json_t *hosts = json_object_get(json_object_get(body, "http"), "host");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(hosts); i++) want[n++] = json_string_value(json_array_get(hosts, i));
    golden_set(&t.meta, VK_K_TLS_SNI, want, n, name);

    json_t *certs = json_object_get(body, "cert");
    size_t ns = 0, ni = 0, nser = 0, nh = 0, na = 0;
    const char *subj[16], *iss[16], *ser[16], *hash[16], *alt[512];
    for (size_t i = 0; i < json_array_size(certs) && i < 16; i++) {
        json_t *c = json_array_get(certs, i);
        json_t *s = json_array_get(json_object_get(c, "subjectCN"), 0);
        json_t *is = json_array_get(json_object_get(c, "issuerCN"), 0);
        if (s) subj[ns++] = json_string_value(s);
        if (is) iss[ni++] = json_string_value(is);
        ser[nser++] = json_string_value(json_object_get(c, "serial"));
        hash[nh++] = json_string_value(json_object_get(c, "hash"));
        json_t *a = json_object_get(c, "alt");
        for (size_t j = 0; j < json_array_size(a) && na < 512; j++) alt[na++] = json_string_value(json_array_get(a, j));
        assert_true(has_uint(&t.meta, VK_K_TLS_CERT_NOT_BEFORE,
                             (uint64_t)json_integer_value(json_object_get(c, "notBefore"))));
        assert_true(has_uint(&t.meta, VK_K_TLS_CERT_NOT_AFTER,
                             (uint64_t)json_integer_value(json_object_get(c, "notAfter"))));
    }
    golden_set(&t.meta, VK_K_TLS_CERT_SUBJECT, subj, ns, name);
    golden_set(&t.meta, VK_K_TLS_CERT_ISSUER, iss, ni, name);
    golden_set(&t.meta, VK_K_TLS_CERT_SERIAL, ser, nser, name);
    golden_set(&t.meta, VK_K_TLS_CERT_SHA1, hash, nh, name);
    golden_set(&t.meta, VK_K_TLS_CERT_ALT, alt, na, name);
    assert_true(has_str(&t.meta, VK_K_SERVICE, "tls"));
    vk_meta_free(&t.meta);
    json_decref(root);
}

static void test_golden_arkime(void **state)
{
    static const char *const cases[] = {
        "tls13",        "openssl-tls1_2",        "openssl-tls1", "openssl-tls1-tls1_2", "openssl-ssl3",
        "badcurveball", "https-generalizedtime", "tls-alpn-h2",  "pppoe",               "https3-301-get",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) golden_one(cases[i]);
}

/* ---- malformed input ------------------------------------------------------------------ */

static void test_bad_record(void **state)
{
    struct t_tls t;
    t_open(&t);
    /* Not TLS from the first byte (a session claimed on its port): no service, no
     * anomaly, and nothing after it in that direction is read. */
    t_feed(&t, VK_DIR_SRC, "1605010010" "01000010", 0);
    assert_false(vk_meta_has(&t.meta, VK_K_ANOMALY));
    assert_false(vk_meta_has(&t.meta, VK_K_SERVICE));
    t_feed(&t, VK_DIR_SRC, tls13_client_hello, 0);
    assert_false(vk_meta_has(&t.meta, VK_K_TLS_JA3));
    t_close(&t);
    vk_meta_free(&t.meta);

    /* Once the session is TLS, a record claiming version 5.1 is broken. */
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, tls13_client_hello, 0);
    t_feed(&t, VK_DIR_DST, "1605010010" "01000010", 0);
    assert_str(&t.meta, VK_K_ANOMALY, "tls.bad_record");
    assert_str(&t.meta, VK_K_TLS_JA3, "4826a90ec2daf4f7b4b64cc1c8bd343b");
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* A PROXY protocol v1 line before the ClientHello (as haproxy sends it) is skipped. */
static void test_proxy_protocol(void **state)
{
    char buf[sizeof tls13_client_hello + 128];
    static const char line[] = "PROXY TCP4 192.0.2.1 192.0.2.2 50000 443\r\n";
    size_t k = 0;
    for (const char *q = line; *q; q++) k += (size_t)sprintf(buf + k, "%02x", (unsigned char)*q);
    strcpy(buf + k, tls13_client_hello);
    uint8_t raw[700];
    size_t n = vk_test_unhex(buf, raw, sizeof raw);
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {50000, 8080}};
    assert_int_equal(vk_proto_tls.probe(&f, VK_DIR_SRC, raw, n), 3);
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, buf, 0);
    assert_str(&t.meta, VK_K_TLS_JA3, "4826a90ec2daf4f7b4b64cc1c8bd343b");
    assert_str(&t.meta, VK_K_TLS_SNI, "blog.cloudflare.com");
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* The capture ends half-way through the ClientHello: service, SNI if it came, an anomaly,
 * no fingerprint. */
static void test_truncated_hello(void **state)
{
    char cut[2 * 300 + 1];
    memcpy(cut, tls13_client_hello, 2 * 300);
    cut[2 * 300] = 0;
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, cut, 0);
    assert_false(vk_meta_has(&t.meta, VK_K_ANOMALY)); /* not yet: more may come */
    t_close(&t);
    assert_str(&t.meta, VK_K_SERVICE, "tls");
    assert_str(&t.meta, VK_K_ANOMALY, "tls.truncated_hello");
    assert_false(vk_meta_has(&t.meta, VK_K_TLS_JA3));
    assert_false(vk_meta_has(&t.meta, VK_K_TLS_JA4));
    vk_meta_free(&t.meta);
}

/* A Certificate message whose certificate is junk DER. */
static void test_bad_cert(void **state)
{
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, tls13_client_hello, 0);
    /* record(22, 0x0303, 17) { Certificate(11, 13) { list 10 { cert 7: 30 05 02 01 01 05 00 } } } */
    t_feed(&t, VK_DIR_DST, "1603030011" "0b00000d" "00000a" "000007" "30050201010500", 0);
    assert_str(&t.meta, VK_K_ANOMALY, "tls.bad_cert");
    assert_false(vk_meta_has(&t.meta, VK_K_TLS_CERT_SERIAL));
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* A gap inside the server's flight ends that direction, with an anomaly. */
static void test_gap(void **state)
{
    struct t_tls t;
    t_open(&t);
    t_feed(&t, VK_DIR_SRC, alpn_h2_0, 0);
    t_feed(&t, VK_DIR_DST, alpn_h2_1, 0);
    vk_proto_tls.gap(t.st, &t.ctx, VK_DIR_DST, 1346);
    t_feed(&t, VK_DIR_DST, alpn_h2_3, 0);
    assert_str(&t.meta, VK_K_ANOMALY, "tls.gap");
    assert_str(&t.meta, VK_K_TLS_JA3S, "7f76f3e952a1bc7d407366fafe1db7ed");
    assert_false(vk_meta_has(&t.meta, VK_K_TLS_CERT_SERIAL));
    t_close(&t);
    vk_meta_free(&t.meta);
}

/* A handshake message longer than the reassembly cap is given up with an anomaly. */
static void test_handshake_cap(void **state)
{
    struct t_tls t;
    t_open(&t);
    /* Certificate message claiming 16 MiB - 1, then full records of zeros. */
    static uint8_t rec[5 + 16384];
    rec[0] = 22, rec[1] = 3, rec[2] = 3, rec[3] = 0x40, rec[4] = 0x00;
    rec[5] = 11, rec[6] = 0xff, rec[7] = 0xff, rec[8] = 0xff;
    for (int i = 0; i < 6 && !t.ctx.done; i++) {
        vk_proto_tls.data(t.st, &t.ctx, VK_DIR_DST, rec, sizeof rec);
        rec[5] = rec[6] = rec[7] = rec[8] = 0;
    }
    assert_str(&t.meta, VK_K_ANOMALY, "tls.handshake_too_long");
    t_close(&t);
    vk_meta_free(&t.meta);
}

static void test_probe(void **state)
{
    uint8_t buf[600];
    size_t n = vk_test_unhex(tls13_client_hello, buf, sizeof buf);
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {50000, 8080}};
    assert_int_equal(vk_proto_tls.probe(&f, VK_DIR_SRC, buf, n), 3);
    n = vk_test_unhex(pppoe_sslv2_hello, buf, sizeof buf);
    assert_int_equal(vk_proto_tls.probe(&f, VK_DIR_SRC, buf, n), 2);
    assert_int_equal(vk_proto_tls.probe(&f, VK_DIR_SRC, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), 0);
    f.port[1] = 443;
    assert_int_equal(vk_proto_tls.probe(&f, VK_DIR_SRC, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), 1);
}

/* Regression (fuzz_tls timeout): an SSLv2-style record exactly 5 bytes long, its header
 * split across two segments and more bytes behind it, looped forever in the slow path. */
static void test_sslv2_record_of_header_size(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {50000, 443}};
    struct vk_pctx c = {.meta = &m, .flow = &f};
    void *st = calloc(1, vk_proto_tls.state_size);
    vk_proto_tls.init(st, &c);
    /* the 5-byte SSLv2 record, then a TLS alert record in the same segment */
    static const uint8_t a[] = {0x80, 0x03}, b[] = {0x01, 0x03, 0x01, 0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00};
    vk_proto_tls.data(st, &c, VK_DIR_SRC, a, sizeof a);
    vk_proto_tls.data(st, &c, VK_DIR_SRC, b, sizeof b); /* must return (it looped before) */
    vk_proto_tls.finish(st, &c);
    vk_proto_tls.release(st);
    free(st);
    /* three bytes are no hello: the record is consumed and nothing is claimed */
    assert_false(vk_meta_has(&m, VK_K_TLS_JA3));
    vk_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13_whole),
        cmocka_unit_test(test_tls13_split),
        cmocka_unit_test(test_stops_when_encrypted),
        cmocka_unit_test(test_alpn_h2_stream),
        cmocka_unit_test(test_quic_handshake),
        cmocka_unit_test(test_sslv2_hello),
        cmocka_unit_test(test_openssl_tls12_certs),
        cmocka_unit_test(test_generalized_time),
        cmocka_unit_test(test_badcurveball),
        cmocka_unit_test(test_pppoe_sslv3),
        cmocka_unit_test(test_golden_arkime),
        cmocka_unit_test(test_bad_record),
        cmocka_unit_test(test_proxy_protocol),
        cmocka_unit_test(test_truncated_hello),
        cmocka_unit_test(test_bad_cert),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_handshake_cap),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_sslv2_record_of_header_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
