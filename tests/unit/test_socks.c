/* test_socks.c — the SOCKS parser on handshakes from ../shared/corpus/pcap/arkime: target
 * host, user, and the hand-over of the tunnel (done + reprobe) after the proxy's reply. */
#include "vk_test.h"

#include "proto/vk_proto.h"

struct step {
    int dir;
    const char *hex;
};

struct run {
    struct vk_meta meta;
    struct vk_flow_view flow;
    struct vk_pctx c;
    void *st;
};

static void run_start(struct run *r)
{
    memset(r, 0, sizeof *r);
    vk_meta_init(&r->meta);
    r->flow = (struct vk_flow_view){.family = 4, .ipproto = 6, .port = {40000, 1080}};
    r->c = (struct vk_pctx){.meta = &r->meta, .flow = &r->flow};
    r->st = calloc(1, vk_proto_socks.state_size);
    vk_proto_socks.init(r->st, &r->c);
}

/* Deliver each step whole, or one byte at a time when bytewise. */
static void run_steps(struct run *r, const struct step *s, size_t n, bool bytewise)
{
    static uint8_t b[4096];
    for (size_t i = 0; i < n && !r->c.done; i++) {
        size_t len = vk_test_unhex(s[i].hex, b, sizeof b);
        if (i == 0) assert_int_equal(vk_proto_socks.probe(&r->flow, s[i].dir, b, len), 3);
        if (!bytewise) {
            r->c.reprobe_at = len;
            vk_proto_socks.data(r->st, &r->c, s[i].dir, b, len);
            continue;
        }
        for (size_t k = 0; k < len && !r->c.done; k++) {
            r->c.reprobe_at = 1;
            vk_proto_socks.data(r->st, &r->c, s[i].dir, b + k, 1);
        }
    }
}

static void run_end(struct run *r)
{
    free(r->st);
    vk_meta_free(&r->meta);
}

/* socks-http-example.pcap frames 4 and 6: SOCKS4 CONNECT 93.184.216.119:80, granted. */
static const struct step SOCKS4[] = {
    {VK_DIR_SRC, "040100505db8d87700"},
    {VK_DIR_DST, "005adfb20ab49cf9"},
};

/* socks5-http-302.pcap frames 4-7: no auth, CONNECT www.google.com:80 by name, granted. */
static const struct step SOCKS5[] = {
    {VK_DIR_SRC, "050100"},
    {VK_DIR_DST, "0500"},
    {VK_DIR_SRC, "050100030e7777772e676f6f676c652e636f6d0050"},
    {VK_DIR_DST, "050000010a0000020050"},
};

/* socks-http-pass.pcap stream 1 frames 15-20: user/password auth (refused by the proxy). */
static const struct step SOCKS5_AUTH[] = {
    {VK_DIR_SRC, "0503000102"},
    {VK_DIR_DST, "0502"},
    {VK_DIR_SRC, "01087465737475736572087465737470617373"},
    {VK_DIR_DST, "01ff"},
};

static void socks4_hands_over_the_tunnel(void **st)
{
    (void)st;
    struct run r;
    run_start(&r);
    run_steps(&r, SOCKS4, 2, false);
    assert_true(r.c.done && r.c.reprobe);
    assert_int_equal(r.c.reprobe_at, 8); /* the whole reply was the handshake */
    VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "socks");
    run_end(&r);
}

static void socks5_names_the_target_whole_or_bytewise(void **st)
{
    (void)st;
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        struct run r;
        run_start(&r);
        run_steps(&r, SOCKS5, 4, bytewise);
        assert_true(r.c.done && r.c.reprobe);
        VK_ASSERT_SET(&r.meta, VK_K_ALIAS_HOST, "www.google.com");
        VK_ASSERT_SET(&r.meta, VK_K_SERVICE, "socks");
        run_end(&r);
    }
}

static void socks5_user_password(void **st)
{
    (void)st;
    struct run r;
    run_start(&r);
    run_steps(&r, SOCKS5_AUTH, 4, false);
    VK_ASSERT_SET(&r.meta, VK_K_USER, "testuser");
    assert_false(r.c.done); /* refused: no tunnel yet */
    run_end(&r);
}

static void not_socks(void **st)
{
    (void)st;
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {40000, 1080}};
    assert_int_equal(vk_proto_socks.probe(&f, VK_DIR_SRC, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), 0);
    assert_int_equal(vk_proto_socks.probe(&f, VK_DIR_DST, (const uint8_t *)"\x05\x01\x00", 3), 0);
    /* a SOCKS5 request with an unknown address type is an anomaly, not a crash */
    struct run r;
    run_start(&r);
    static const struct step bad[] = {{VK_DIR_SRC, "050100"}, {VK_DIR_DST, "0500"}, {VK_DIR_SRC, "05010009ffff"}};
    run_steps(&r, bad, 3, false);
    assert_true(r.c.done && !r.c.reprobe);
    VK_HAS(&r.meta, VK_K_ANOMALY, "socks.bad_handshake");
    run_end(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socks4_hands_over_the_tunnel),
        cmocka_unit_test(socks5_names_the_target_whole_or_bytewise),
        cmocka_unit_test(socks5_user_password),
        cmocka_unit_test(not_socks),
    };
    return cmocka_run_group_tests_name("socks", tests, NULL, NULL);
}
