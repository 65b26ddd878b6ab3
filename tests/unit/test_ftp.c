/* test_ftp.c — the FTP control parser and the ftp-data hasher on payloads from corpus
 * captures (frame numbers in the comments). FTP control traffic is ASCII, so the payloads
 * are written as C strings; each is one TCP payload, byte for byte. */
#include "vk_test.h"
#include "proto/vk_proto.h"

struct step {
    int dir;           /* VK_DIR_SRC: client, VK_DIR_DST: server */
    const char *bytes;
};

/* What the parser asked of c->expect. */
struct expectation {
    int family;
    uint8_t addr[16];
    uint16_t port;
    char parser[16];
    char filename[64];
    bool has_name;
};
static struct expectation exps[32];
static int nexps;

static void record_expect(struct vk_pctx *c, int family, const uint8_t *addr, uint16_t port,
                          const char *parser, const char *filename)
{
    (void)c;
    assert_true(nexps < 32);
    struct expectation *e = &exps[nexps++];
    e->family = family;
    memcpy(e->addr, addr, family == 6 ? 16 : 4);
    e->port = port;
    snprintf(e->parser, sizeof e->parser, "%s", parser);
    e->has_name = filename != NULL;
    snprintf(e->filename, sizeof e->filename, "%s", filename ? filename : "");
}

/* Feed the steps (each cut into pieces of `chunk` bytes when chunk > 0). Returns c.done. */
static bool run(const struct vk_parser *ps, const struct vk_flow_view *f, const struct step *st,
                size_t nst, size_t chunk, struct vk_meta *m)
{
    void *s = calloc(1, ps->state_size);
    struct vk_pctx c = {.meta = m, .flow = f, .expect = record_expect};
    nexps = 0;
    ps->init(s, &c);
    for (size_t i = 0; i < nst && !c.done; i++) {
        const uint8_t *p = (const uint8_t *)st[i].bytes;
        size_t n = strlen(st[i].bytes);
        while (n && !c.done) {
            size_t k = chunk && chunk < n ? chunk : n;
            ps->data(s, &c, st[i].dir, p, k);
            p += k;
            n -= k;
        }
    }
    ps->finish(s, &c);
    ps->release(s);
    free(s);
    return c.done;
}

static bool has_uint(const struct vk_meta *m, enum vk_key k, uint64_t v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].u == v) return true;
    return false;
}

/* arkime/ftp.pcap frames 4, 6, 8, 9, 10 (client 10.10.30.26:43958, server :21). */
static const struct step arkime_ftp[] = {
    {VK_DIR_DST, "220 Welcome to mirrors.rit.edu.\r\n"},
    {VK_DIR_SRC, "USER anonymous\r\n"},
    {VK_DIR_DST, "331 Please specify the password.\r\n"},
    {VK_DIR_SRC, "PASS ftp@example.com\r\n"},
    {VK_DIR_DST, "230 Login successful.\r\n"},
};

/* arkime/ftp.test: command [PASS, USER], responseCode [220, 230, 331], banner, user. */
static void test_arkime_ftp(void **state)
{
    (void)state;
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{10, 10, 30, 26}, {129, 21, 171, 72}},
                             .port = {43958, 21}};
    static const size_t chunks[] = {0, 1, 5};
    for (size_t i = 0; i < 3; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        assert_false(run(&vk_proto_ftp, &f, arkime_ftp, 5, chunks[i], &m));
        VK_HAS(&m, VK_K_SERVICE, "ftp");
        VK_HAS(&m, VK_K_FTP_COMMAND, "USER");
        VK_HAS(&m, VK_K_FTP_COMMAND, "PASS");
        assert_int_equal(vk_meta_count(&m, VK_K_FTP_COMMAND), 2);
        assert_true(has_uint(&m, VK_K_FTP_REPLY, 220));
        assert_true(has_uint(&m, VK_K_FTP_REPLY, 331));
        assert_true(has_uint(&m, VK_K_FTP_REPLY, 230));
        assert_int_equal(vk_meta_count(&m, VK_K_FTP_REPLY), 3);
        VK_HAS(&m, VK_K_FTP_BANNER, "Welcome to mirrors.rit.edu.");
        VK_HAS(&m, VK_K_USER, "anonymous");
        assert_true(has_uint(&m, VK_K_PASSWORD_SEEN, 1));
        assert_false(vk_meta_has(&m, VK_K_ANOMALY));
        assert_int_equal(nexps, 0);
        vk_meta_free(&m);
    }
}

/* suricata-verify/ftp/ftp-download-passive frames 4..60, control stream only
 * (client 172.23.0.3:41790, server 172.23.0.2:21). The data connections go to the server
 * on ports 21001 (NLST) and 21008 (RETR index.html, then NLST). */
static const struct step passive[] = {
    {VK_DIR_DST, "220 FTP Sandbox Ready.\r\n"},
    {VK_DIR_SRC, "USER bob\r\n"},
    {VK_DIR_DST, "331 Please specify the password.\r\n"},
    {VK_DIR_SRC, "PASS password\r\n"},
    {VK_DIR_DST, "230 Login successful.\r\n"},
    {VK_DIR_SRC, "TYPE A\r\n"},
    {VK_DIR_DST, "200 Switching to ASCII mode.\r\n"},
    {VK_DIR_SRC, "PASV\r\n"},
    {VK_DIR_DST, "227 Entering Passive Mode (172,23,0,2,82,9).\r\n"},
    {VK_DIR_SRC, "NLST\r\n"},
    {VK_DIR_DST, "150 Here comes the directory listing.\r\n"},
    {VK_DIR_DST, "226 Directory send OK.\r\n"},
    {VK_DIR_SRC, "TYPE I\r\n"},
    {VK_DIR_DST, "200 Switching to Binary mode.\r\n"},
    {VK_DIR_SRC, "PASV\r\n"},
    {VK_DIR_DST, "227 Entering Passive Mode (172,23,0,2,82,16).\r\n"},
    {VK_DIR_SRC, "RETR index.html\r\n"},
    {VK_DIR_DST, "150 Opening BINARY mode data connection for index.html (39 bytes).\r\n"},
    {VK_DIR_DST, "226 Transfer complete.\r\n"},
    {VK_DIR_SRC, "TYPE A\r\n"},
    {VK_DIR_DST, "200 Switching to ASCII mode.\r\n"},
    {VK_DIR_SRC, "PASV\r\n"},
    {VK_DIR_DST, "227 Entering Passive Mode (172,23,0,2,82,16).\r\n"},
    {VK_DIR_SRC, "NLST\r\n"},
    {VK_DIR_DST, "150 Here comes the directory listing.\r\n"},
    {VK_DIR_DST, "226 Directory send OK.\r\n"},
    {VK_DIR_SRC, "QUIT\r\n"},
    {VK_DIR_DST, "221 Goodbye.\r\n"},
};

static void test_passive(void **state)
{
    (void)state;
    static const uint8_t server[4] = {172, 23, 0, 2};
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{172, 23, 0, 3}, {172, 23, 0, 2}},
                             .port = {41790, 21}};
    struct vk_meta m;
    vk_meta_init(&m);
    run(&vk_proto_ftp, &f, passive, sizeof passive / sizeof passive[0], 0, &m);
    VK_HAS(&m, VK_K_FTP_COMMAND, "PASV");
    VK_HAS(&m, VK_K_FTP_COMMAND, "RETR");
    VK_HAS(&m, VK_K_FILE_NAME, "index.html");
    assert_int_equal(vk_meta_count(&m, VK_K_FILE_NAME), 1);
    VK_HAS(&m, VK_K_FTP_BANNER, "FTP Sandbox Ready.");
    VK_HAS(&m, VK_K_USER, "bob");
    /* each 227 announces the port; RETR renews the announcement with the file name */
    static const struct { uint16_t port; const char *name; } want[] = {
        {21001, NULL}, {21008, NULL}, {21008, "index.html"}, {21008, NULL}};
    assert_int_equal(nexps, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(exps[i].family, 4);
        assert_memory_equal(exps[i].addr, server, 4);
        assert_int_equal(exps[i].port, want[i].port);
        assert_string_equal(exps[i].parser, "ftp-data");
        assert_int_equal(exps[i].has_name, want[i].name != NULL);
        if (want[i].name) assert_string_equal(exps[i].filename, want[i].name);
    }
    vk_meta_free(&m);
}

/* suricata-verify/ftp/ftp-upload-active frames 29 and 31: PORT 172,23,0,3,172,101 and
 * STOR: the server will connect to the client (172.23.0.3) on port 44133. */
static void test_active(void **state)
{
    (void)state;
    static const struct step st[] = {
        {VK_DIR_DST, "220 FTP Sandbox Ready.\r\n"},
        {VK_DIR_SRC, "PORT 172,23,0,3,172,101\r\n"},
        {VK_DIR_DST, "200 PORT command successful. Consider using PASV.\r\n"},
        {VK_DIR_SRC, "STOR index.html\r\n"},
    };
    static const uint8_t client[4] = {172, 23, 0, 3};
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{172, 23, 0, 3}, {172, 23, 0, 2}},
                             .port = {44550, 21}};
    struct vk_meta m;
    vk_meta_init(&m);
    run(&vk_proto_ftp, &f, st, 4, 0, &m);
    assert_int_equal(nexps, 2);
    assert_memory_equal(exps[1].addr, client, 4);
    assert_int_equal(exps[1].port, 44133);
    assert_string_equal(exps[1].filename, "index.html");
    VK_HAS(&m, VK_K_FILE_NAME, "index.html");
    VK_HAS(&m, VK_K_FTP_COMMAND, "STOR");
    vk_meta_free(&m);
}

/* zeek/ftp/ipv6.pcap frames 28 (EPSV reply) and 90 (EPRT); zeek's ftp.log has the data
 * channels [2001:470:4867:99::21]:57086 and [2001:470:1f11:81f:c999:d94:aa7c:2e3e]:49189. */
static void test_extended(void **state)
{
    (void)state;
    static const struct step st[] = {
        {VK_DIR_DST, "229 Entering Extended Passive Mode (|||57086|)\r\n"},
        {VK_DIR_SRC, "EPRT |2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|\r\n"},
    };
    static const uint8_t cli[16] = {0x20, 0x01, 0x04, 0x70, 0x1f, 0x11, 0x08, 0x1f,
                                    0xc9, 0x99, 0x0d, 0x94, 0xaa, 0x7c, 0x2e, 0x3e};
    static const uint8_t srv[16] = {0x20, 0x01, 0x04, 0x70, 0x48, 0x67, 0x00, 0x99, 0, 0, 0, 0, 0, 0, 0, 0x21};
    struct vk_flow_view f = {.family = 6, .ipproto = 6, .port = {49185, 21}};
    memcpy(f.addr[0], cli, 16);
    memcpy(f.addr[1], srv, 16);
    struct vk_meta m;
    vk_meta_init(&m);
    run(&vk_proto_ftp, &f, st, 2, 0, &m);
    assert_int_equal(nexps, 2);
    assert_int_equal(exps[0].family, 6);
    assert_memory_equal(exps[0].addr, srv, 16);
    assert_int_equal(exps[0].port, 57086);
    assert_memory_equal(exps[1].addr, cli, 16);
    assert_int_equal(exps[1].port, 49189);
    assert_true(has_uint(&m, VK_K_FTP_REPLY, 229));
    VK_HAS(&m, VK_K_FTP_COMMAND, "EPRT");
    assert_false(vk_meta_has(&m, VK_K_ANOMALY));
    vk_meta_free(&m);
}

/* suricata-verify/ftp-epsv frame 29: Suricata's ftp.dynamic_port is 58612. */
static void test_epsv(void **state)
{
    (void)state;
    static const struct step st[] = {
        {VK_DIR_DST, "220 ProFTPD 1.3.0a Server (ProFTPD Anonymous Server) [192.168.1.231]\r\n"},
        {VK_DIR_SRC, "EPSV\r\n"},
        {VK_DIR_DST, "229 Entering Extended Passive Mode (|||58612|)\r\n"},
    };
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{192, 168, 1, 10}, {192, 168, 1, 231}},
                             .port = {3456, 21}};
    struct vk_meta m;
    vk_meta_init(&m);
    run(&vk_proto_ftp, &f, st, 3, 0, &m);
    assert_int_equal(nexps, 1);
    assert_int_equal(exps[0].port, 58612);
    VK_HAS(&m, VK_K_SERVICE, "ftp"); /* "FTP" in the banner */
    VK_HAS(&m, VK_K_FTP_BANNER, "ProFTPD 1.3.0a Server (ProFTPD Anonymous Server) [192.168.1.231]");
    vk_meta_free(&m);
}

/* A mail session handed to FTP by mistake: arkime/smtp-zip.pcap frames 4 and 6. */
static void test_not_ftp(void **state)
{
    (void)state;
    static const struct step st[] = {
        {VK_DIR_DST, "220 xxxxxxxxxxxxxxx1.xxx.com ESMTP (8c53e47a0e267dc8fa5a3d95a20c7a75)\r\n"},
        {VK_DIR_SRC, "EHLO xxxxxxxxxxxxx.xxx.com\r\n"},
    };
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {46671, 25}};
    struct vk_meta m;
    vk_meta_init(&m);
    assert_true(run(&vk_proto_ftp, &f, st, 2, 0, &m));
    assert_false(vk_meta_has(&m, VK_K_SERVICE));
    assert_int_equal(vk_proto_ftp.probe(&f, VK_DIR_DST, (const uint8_t *)st[0].bytes, strlen(st[0].bytes)), 0);
    vk_meta_free(&m);
}

/* ndpi/pop3.pcap frames 4, 6, 8: USER answered by "+OK", never by a 3-digit reply: not FTP
 * even though the FTP probe gives USER a weak claim. */
static void test_pop3_is_not_ftp(void **state)
{
    (void)state;
    static const struct step st[] = {
        {VK_DIR_DST, "+OK POP server ready H migmxus005\r\n"},
        {VK_DIR_SRC, "user cicciopernacchio@mail.com\r\n"},
        {VK_DIR_DST, "+OK password required for user \"cicciopernacchio@mail.com\"\r\n"},
    };
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {40000, 110}};
    struct vk_meta m;
    vk_meta_init(&m);
    run(&vk_proto_ftp, &f, st, 3, 0, &m);
    assert_false(vk_meta_has(&m, VK_K_SERVICE));
    assert_false(vk_meta_has(&m, VK_K_USER));
    assert_false(vk_meta_has(&m, VK_K_FTP_COMMAND));
    assert_int_equal(vk_proto_ftp.probe(&f, VK_DIR_SRC, (const uint8_t *)st[1].bytes, strlen(st[1].bytes)), 0);
    vk_meta_free(&m);
}

/* arkime/arkime_synthetic.pcap, the IRC session on port 55009: the server speaks first
 * (":irc.example.com 001 ..."), then NICK and USER: not FTP. */
static void test_irc_is_not_ftp(void **state)
{
    (void)state;
    static const char user[] = "USER testuser 0 * :Test User\r\n";
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {55009, 6667}};
    assert_int_equal(vk_proto_ftp.probe(&f, VK_DIR_SRC, (const uint8_t *)user, sizeof user - 1), 0);
}

static void test_probe(void **state)
{
    (void)state;
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {43958, 21}};
    const char *b = arkime_ftp[0].bytes;
    assert_int_equal(vk_proto_ftp.probe(&f, VK_DIR_DST, (const uint8_t *)b, strlen(b)), 2);
    b = passive[0].bytes; /* "220 FTP Sandbox Ready." */
    assert_int_equal(vk_proto_ftp.probe(&f, VK_DIR_DST, (const uint8_t *)b, strlen(b)), 3);
    assert_int_equal(vk_proto_ftp_data.probe(&f, VK_DIR_DST, (const uint8_t *)b, strlen(b)), 0);
    /* arkime/wireshark-bdat.pcap frame 4 on port 1224: a bare 220 is not claimed, so the
     * client's EHLO can still be probed (Arkime: smtp) */
    struct vk_flow_view g = {.family = 4, .ipproto = 6, .port = {59620, 1224}};
    static const char greet[] = "220 Greetings\r\n";
    assert_int_equal(vk_proto_ftp.probe(&g, VK_DIR_DST, (const uint8_t *)greet, sizeof greet - 1), 0);
    assert_int_equal(vk_proto_smtp.probe(&g, VK_DIR_DST, (const uint8_t *)greet, sizeof greet - 1), 0);
}

/* suricata-verify/ftp/ftp-download-passive frame 36: the 39 bytes of index.html on the
 * data connection 21008 -> 46274. Hashes computed independently (Python hashlib). */
static void test_ftp_data(void **state)
{
    (void)state;
    static const struct step st[] = {{VK_DIR_SRC, "uid=0(root) gid=0(root) groups=0(root)\n"}};
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .addr = {{172, 23, 0, 2}, {172, 23, 0, 3}},
                             .port = {21008, 46274}};
    for (size_t chunk = 0; chunk < 8; chunk += 7) {
        struct vk_meta m;
        vk_meta_init(&m);
        run(&vk_proto_ftp_data, &f, st, 1, chunk, &m);
        VK_HAS(&m, VK_K_SERVICE, "ftp-data");
        VK_HAS(&m, VK_K_FILE_MD5, "c7d0a1ea4ab73fa3e7cd72fc1eb5b492");
        VK_HAS(&m, VK_K_FILE_SHA256, "5ef391d886d04116cf84b584ae37ef136f83950ab69b7bfb2a6da7506f7b3a57");
        assert_true(has_uint(&m, VK_K_FILE_SIZE, 39));
        assert_int_equal(vk_meta_count(&m, VK_K_FILE_MD5), 1);
        vk_meta_free(&m);
    }
}

/* A gap in the data connection: the hash would be wrong, so there is none. */
static void test_ftp_data_gap(void **state)
{
    (void)state;
    struct vk_flow_view f = {.family = 4, .ipproto = 6};
    struct vk_pctx c = {0};
    struct vk_meta m;
    vk_meta_init(&m);
    c.meta = &m;
    c.flow = &f;
    void *s = calloc(1, vk_proto_ftp_data.state_size);
    vk_proto_ftp_data.init(s, &c);
    vk_proto_ftp_data.data(s, &c, VK_DIR_SRC, (const uint8_t *)"uid=0(root) ", 12);
    vk_proto_ftp_data.gap(s, &c, VK_DIR_SRC, 10);
    vk_proto_ftp_data.data(s, &c, VK_DIR_SRC, (const uint8_t *)"groups=0(root)\n", 15);
    vk_proto_ftp_data.finish(s, &c);
    vk_proto_ftp_data.release(s);
    free(s);
    VK_HAS(&m, VK_K_ANOMALY, "ftp-data.gap");
    assert_false(vk_meta_has(&m, VK_K_FILE_MD5));
    vk_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arkime_ftp), cmocka_unit_test(test_passive),
        cmocka_unit_test(test_active),     cmocka_unit_test(test_extended),
        cmocka_unit_test(test_epsv),       cmocka_unit_test(test_not_ftp),
        cmocka_unit_test(test_probe),      cmocka_unit_test(test_ftp_data),
        cmocka_unit_test(test_ftp_data_gap), cmocka_unit_test(test_pop3_is_not_ftp),
        cmocka_unit_test(test_irc_is_not_ftp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
