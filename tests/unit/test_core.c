/* test_core.c — the record model: meta lists (dedup, caps, types), the JSON writer, the
 * cursor, base64, Community ID against values Arkime published for corpus captures. */
#include <magic.h>
#include <zlib.h>

#include "vk_test.h"

#include "core/vk_core.h"
#include "flow/vk_flow.h"

static void meta_dedup_and_types(void **st)
{
    (void)st;
    struct vk_meta m;
    vk_meta_init(&m);
    assert_int_equal(vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "a.example"), 0);
    assert_int_equal(vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "a.example"), 1);
    assert_int_equal(vk_meta_add_lower(&m, VK_K_ALIAS_HOST, "A.EXAMPLE", 9), 1);
    assert_int_equal(vk_meta_add_uint(&m, VK_K_HTTP_STATUS, 200), 0);
    assert_int_equal(vk_meta_add_uint(&m, VK_K_HTTP_STATUS, 200), 1);
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    vk_meta_add_ip(&m, VK_K_IP_SRC, 6, v6);
    char buf[64];
    assert_true(vk_meta_get_str(&m, VK_K_IP_SRC, buf, sizeof buf));
    assert_string_equal(buf, "2001:db8::1");
    assert_int_equal(vk_meta_count(&m, VK_K_ALIAS_HOST), 1);
    vk_meta_free(&m);
}

static void meta_caps_are_enforced_and_flagged(void **st)
{
    (void)st;
    struct vk_meta m;
    vk_meta_init(&m);
    char v[16];
    for (int i = 0; i < VK_META_MAX_PER_KEY + 10; i++) {
        snprintf(v, sizeof v, "h%d", i);
        vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, v);
    }
    assert_int_equal(vk_meta_count(&m, VK_K_ALIAS_HOST), VK_META_MAX_PER_KEY);
    assert_int_equal(m.dropped, 10);
    assert_true(vk_meta_get_str(&m, VK_K_ANOMALY, v, sizeof v));
    assert_string_equal(v, "meta.capped");
    static char big[VK_META_MAX_STR + 100];
    memset(big, 'x', sizeof big);
    vk_meta_add_str(&m, VK_K_HTTP_URI, big, sizeof big);
    assert_int_equal(vk_meta_count(&m, VK_K_ANOMALY), 2); /* meta.value_cut */
    vk_meta_free(&m);
}

static void json_scalars_arrays_and_escapes(void **st)
{
    (void)st;
    struct vk_meta m;
    struct vk_json j;
    vk_meta_init(&m);
    vk_json_init(&j);
    vk_meta_add_uint(&m, VK_K_PORT_DST, 80);
    vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "a");
    vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "b\"\n\x01");
    vk_meta_add_str(&m, VK_K_USER, "\xff\xc3\xa9", 3); /* bad byte, then valid é */
    vk_json_meta(&j, &m);
    assert_string_equal(j.p, "{\"port.dst\":80,\"alias.host\":[\"a\",\"b\\\"\\n\\u0001\"],\"user\":\"\\u00ff\xc3\xa9\"}");
    vk_json_free(&j);
    vk_meta_free(&m);
}

static void cursor_never_reads_past_end(void **st)
{
    (void)st;
    const uint8_t b[5] = {1, 2, 3, 4, 5};
    struct vk_cur c = vk_cur_make(b, sizeof b), sub;
    uint32_t v;
    uint16_t s;
    assert_true(vk_cur_u32be(&c, &v));
    assert_int_equal(v, 0x01020304);
    assert_false(vk_cur_u16be(&c, &s));
    assert_int_equal(vk_cur_left(&c), 1);
    assert_false(vk_cur_take(&c, 2, &sub));
    assert_true(vk_cur_take(&c, 1, &sub));
    assert_int_equal(vk_cur_left(&sub), 1);
}

static void base64_and_hex(void **st)
{
    (void)st;
    uint8_t out[32];
    size_t n = vk_base64_decode("YWxhZGRpbjpvcGVuc2VzYW1l", 24, out, sizeof out);
    assert_int_equal(n, 18);
    assert_memory_equal(out, "aladdin:opensesame", 18);
    char hx[9];
    vk_hex((const uint8_t *)"\xde\xad\xbe\xef", 4, hx);
    assert_string_equal(hx, "deadbeef");
}

static void community_id_matches_arkime(void **st)
{
    (void)st;
    /* ../shared/corpus/pcap/arkime/http-simple-get.test: network.community_id */
    uint8_t a[16] = {10, 180, 156, 141}, b[16] = {10, 180, 156, 249};
    char cid[64];
    vk_flow_community_id(4, 6, a, b, 61450, 80, cid);
    assert_string_equal(cid, "1:5FhVg97ow4NPd5Q5nqaxA/Bx83A=");
    vk_flow_community_id(4, 6, b, a, 80, 61450, cid); /* symmetric */
    assert_string_equal(cid, "1:5FhVg97ow4NPd5Q5nqaxA/Bx83A=");
}

static void lines_split_cap_and_resync(void **st)
{
    (void)st;
    struct vk_lines l;
    const uint8_t *line;
    size_t n;
    vk_lines_init(&l, 16);
    struct vk_cur c = vk_cur_make("220 ready\r\nEH", 13);
    assert_int_equal(vk_lines_next(&l, &c, &line, &n), 1);
    assert_int_equal(n, 9);
    assert_memory_equal(line, "220 ready", 9);
    assert_int_equal(vk_lines_next(&l, &c, &line, &n), 0); /* "EH" held */
    assert_false(vk_lines_at_start(&l));
    c = vk_cur_make("LO x\n", 5);
    assert_int_equal(vk_lines_next(&l, &c, &line, &n), 1);
    assert_memory_equal(line, "EHLO x", 6);
    c = vk_cur_make("0123456789abcdefXYZ\nok\n", 23); /* past the cap of 16 */
    assert_int_equal(vk_lines_next(&l, &c, &line, &n), -1);
    assert_int_equal(vk_lines_next(&l, &c, &line, &n), 1);
    assert_memory_equal(line, "ok", 2);
    vk_lines_resync(&l); /* a gap: the partial line that follows is dropped */
    c = vk_cur_make("tail\nnext\n", 10);
    assert_int_equal(vk_lines_next(&l, &c, &line, &n), 1);
    assert_memory_equal(line, "next", 4);
    assert_true(vk_reply_line((const uint8_t *)"250-SIZE", 8));
    assert_false(vk_reply_line((const uint8_t *)"25O ok", 6));
    vk_lines_free(&l);
}

/* The prefix table answers exactly what libmagic would, on real-format samples. */
static void fast_mime_agrees_with_libmagic(void **st)
{
    (void)st;
    static uint8_t bufs[5][512];
    size_t lens[5] = {0};
    /* gzip of some text, made by zlib */
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    static const char text[] = "<html><body>hello hello hello hello</body></html>";
    z.next_in = (Bytef *)text;
    z.avail_in = sizeof text;
    z.next_out = bufs[0];
    z.avail_out = sizeof bufs[0];
    deflate(&z, Z_FINISH);
    lens[0] = sizeof bufs[0] - z.avail_out;
    deflateEnd(&z);
    memset(bufs[0] + lens[0], 0, 64);
    lens[0] += 64;
    /* JFIF JPEG start, GIF89a logical screen, Debian ar archive member */
    static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 0x48, 0, 0x48, 0, 0};
    memcpy(bufs[1], jpg, sizeof jpg);
    lens[1] = 200;
    memcpy(bufs[2], "GIF89a\x10\x00\x10\x00\x80\x00\x00", 13);
    lens[2] = 200;
    const char *deb = "!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n";
    memcpy(bufs[3], deb, strlen(deb));
    lens[3] = 200;
    /* PNG: signature, IHDR (16x16, 8-bit RGBA), then bytes that look like compressed data */
    memcpy(bufs[4], "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0", 29);
    for (int i = 29; i < 300; i++) bufs[4][i] = (uint8_t)(i * 7919u >> 3);
    lens[4] = 300;
    magic_t mg = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
    assert_non_null(mg);
    assert_int_equal(magic_load(mg, NULL), 0);
    for (int i = 0; i < 5; i++) {
        const char *lib = magic_buffer(mg, bufs[i], lens[i]);
        assert_non_null(lib);
        if (strcmp(lib, "application/gzip") == 0) lib = "application/x-gzip";
        assert_string_equal(vk_magic_mime(bufs[i], lens[i]), lib);
    }
    magic_close(mg);
}

static void key_registry_lookup(void **st)
{
    (void)st;
    assert_int_equal(vk_key_lookup("ip.src"), VK_K_IP_SRC);
    assert_int_equal(vk_key_lookup("ip.scr"), -1);
    assert_string_equal(vk_key_info(VK_K_TLS_JA4)->name, "tls.ja4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(meta_dedup_and_types),
        cmocka_unit_test(meta_caps_are_enforced_and_flagged),
        cmocka_unit_test(json_scalars_arrays_and_escapes),
        cmocka_unit_test(cursor_never_reads_past_end),
        cmocka_unit_test(base64_and_hex),
        cmocka_unit_test(community_id_matches_arkime),
        cmocka_unit_test(lines_split_cap_and_resync),
        cmocka_unit_test(fast_mime_agrees_with_libmagic),
        cmocka_unit_test(key_registry_lookup),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
