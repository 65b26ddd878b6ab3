/* test_http.c — unit tests of the HTTP/1.x parser (src/proto/http.c).
 *
 * Most tests replay real captures from ../shared/corpus through the parser with a minimal
 * in-test TCP replayer (libpcap, per-direction sequence tracking, gaps reported as gaps)
 * and assert the exact values Arkime wrote in the capture's .test file: hosts, URIs,
 * paths, status codes, body hashes. The edge cases no capture holds (folding across
 * segments, HEAD pipelining, bad chunks, gaps, encoded bodies) use small hand-written
 * messages, delivered one byte at a time where splitting matters. */
#include "vk_test.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <string.h>
#include <zlib.h>

#include "proto/vk_proto.h"

/* ---- a minimal TCP replayer --------------------------------------------------------- */

#define T_MAX_FLOWS 512

struct t_flow {
    uint8_t family, addr[2][16];
    uint16_t port[2];
    bool have_seq[2];
    uint32_t next[2];
    struct vk_flow_view view;
    struct vk_meta meta;
    struct vk_pctx ctx;
    void *st;
};

struct t_replay {
    struct t_flow f[T_MAX_FLOWS];
    int n;
};

static struct t_flow *t_flow_get(struct t_replay *r, int family, const uint8_t *src,
                                 const uint8_t *dst, uint16_t sport, uint16_t dport,
                                 bool syn_only, bool synack, int *dir)
{
    size_t al = family == 4 ? 4 : 16;
    for (int i = 0; i < r->n; i++) {
        struct t_flow *f = &r->f[i];
        if (f->family != family) continue;
        if (!memcmp(f->addr[0], src, al) && !memcmp(f->addr[1], dst, al) && f->port[0] == sport &&
            f->port[1] == dport) {
            *dir = VK_DIR_SRC;
            return f;
        }
        if (!memcmp(f->addr[1], src, al) && !memcmp(f->addr[0], dst, al) && f->port[1] == sport &&
            f->port[0] == dport) {
            *dir = VK_DIR_DST;
            return f;
        }
    }
    if (r->n == T_MAX_FLOWS) return NULL;
    struct t_flow *f = &r->f[r->n++];
    memset(f, 0, sizeof *f);
    f->family = (uint8_t)family;
    bool swap = synack && !syn_only; /* a SYN-ACK first: its receiver started the session */
    memcpy(f->addr[swap], src, al);
    memcpy(f->addr[!swap], dst, al);
    f->port[swap] = sport;
    f->port[!swap] = dport;
    f->view.family = (uint8_t)family;
    f->view.ipproto = 6;
    memcpy(f->view.addr, f->addr, sizeof f->addr);
    f->view.port[0] = f->port[0];
    f->view.port[1] = f->port[1];
    vk_meta_init(&f->meta);
    f->ctx.meta = &f->meta;
    f->ctx.flow = &f->view;
    f->st = calloc(1, vk_proto_http.state_size);
    vk_proto_http.init(f->st, &f->ctx);
    *dir = swap ? VK_DIR_DST : VK_DIR_SRC;
    return f;
}

static void t_packet(struct t_replay *r, const uint8_t *p, size_t n, int link)
{
    struct vk_cur c = vk_cur_make(p, n);
    uint16_t et = 0;
    if (link == DLT_EN10MB) {
        if (!vk_cur_skip(&c, 12) || !vk_cur_u16be(&c, &et)) return;
        while (et == 0x8100 || et == 0x88a8)
            if (!vk_cur_skip(&c, 2) || !vk_cur_u16be(&c, &et)) return;
    } else if (link == DLT_NULL || link == DLT_LOOP) {
        uint32_t fam;
        if (!vk_cur_u32le(&c, &fam)) return;
        if (link == DLT_LOOP || fam > 0xffff) fam = ntohl(fam);
        et = fam == 2 ? 0x0800 : 0x86dd;
    } else if (link == DLT_IEEE802_11_RADIO) { /* radiotap, 802.11 data, LLC/SNAP */
        uint16_t rtlen, fc;
        struct vk_cur h = c;
        if (!vk_cur_skip(&h, 2) || !vk_cur_u16le(&h, &rtlen) || !vk_cur_skip(&c, rtlen) ||
            !vk_cur_u16le(&c, &fc))
            return;
        if (((fc >> 2) & 3) != 2 || (fc & 0x4000)) return; /* data, not protected */
        size_t hl = 22 + ((fc & 0x0300) == 0x0300 ? 6 : 0) + ((fc & 0x80) ? 2 : 0) +
                    ((fc & 0x80) && (fc & 0x8000) ? 4 : 0);
        if (!vk_cur_skip(&c, hl) || !vk_cur_skip(&c, 6) || !vk_cur_u16be(&c, &et)) return;
    } else if (link == DLT_LINUX_SLL) {
        if (!vk_cur_skip(&c, 14) || !vk_cur_u16be(&c, &et)) return;
    } else {
        et = c.p < c.end && (c.p[0] >> 4) == 6 ? 0x86dd : 0x0800;
    }
    int family;
    uint8_t src[16] = {0}, dst[16] = {0};
    size_t plen;
    uint8_t b;
    if (et == 0x0800) {
        struct vk_cur h = c;
        uint16_t tot;
        if (!vk_cur_u8(&h, &b) || (b >> 4) != 4) return;
        size_t ihl = (size_t)(b & 15) * 4;
        if (!vk_cur_skip(&h, 1) || !vk_cur_u16be(&h, &tot) || !vk_cur_skip(&h, 5) ||
            !vk_cur_u8(&h, &b) || b != 6 || !vk_cur_skip(&h, 2))
            return;
        memcpy(src, h.p, 4);
        memcpy(dst, h.p + 4, 4);
        struct vk_cur ip;
        if (tot < ihl || !vk_cur_take(&c, tot, &ip) || !vk_cur_skip(&ip, ihl)) return;
        c = ip;
        family = 4;
    } else if (et == 0x86dd) {
        uint16_t len;
        if (!vk_cur_skip(&c, 4) || !vk_cur_u16be(&c, &len) || !vk_cur_u8(&c, &b) || b != 6 ||
            !vk_cur_skip(&c, 1) || vk_cur_left(&c) < 32)
            return;
        memcpy(src, c.p, 16);
        memcpy(dst, c.p + 16, 16);
        vk_cur_skip(&c, 32);
        struct vk_cur ip;
        if (!vk_cur_take(&c, len, &ip)) return;
        c = ip;
        family = 6;
    } else {
        return;
    }
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t off, flags;
    struct vk_cur t = c;
    if (!vk_cur_u16be(&t, &sport) || !vk_cur_u16be(&t, &dport) || !vk_cur_u32be(&t, &seq) ||
        !vk_cur_skip(&t, 4) || !vk_cur_u8(&t, &off) || !vk_cur_u8(&t, &flags) ||
        !vk_cur_skip(&c, (size_t)(off >> 4) * 4))
        return;
    plen = vk_cur_left(&c);
    bool syn = flags & 2, ack = flags & 16;
    int dir;
    struct t_flow *f = t_flow_get(r, family, src, dst, sport, dport, syn && !ack, syn && ack, &dir);
    if (!f) return;
    if (syn) {
        if (!f->have_seq[dir]) f->next[dir] = seq + 1; /* a repeated SYN changes nothing */
        f->have_seq[dir] = true;
        return;
    }
    if (!plen || f->ctx.done) return;
    if (!f->have_seq[dir]) {
        f->have_seq[dir] = true;
        f->next[dir] = seq;
    }
    int32_t diff = (int32_t)(seq - f->next[dir]);
    if (diff > 0) {
        vk_proto_http.gap(f->st, &f->ctx, dir, (size_t)diff);
        f->next[dir] = seq;
    } else if (diff < 0) {
        if ((size_t)-diff >= plen) return; /* retransmission */
        vk_cur_skip(&c, (size_t)-diff);
        plen = vk_cur_left(&c);
    }
    vk_proto_http.data(f->st, &f->ctx, dir, c.p, plen);
    f->next[dir] += (uint32_t)plen;
}

/* Replay every TCP flow of a corpus capture through the parser and finish them. */
static void t_replay_pcap(struct t_replay *r, const char *rel)
{
    char err[PCAP_ERRBUF_SIZE];
    memset(r, 0, sizeof *r);
    pcap_t *pc = pcap_open_offline(vk_test_corpus(rel), err);
    assert_non_null(pc);
    int link = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(pc, &h, &data) == 1) t_packet(r, data, h->caplen, link);
    pcap_close(pc);
    for (int i = 0; i < r->n; i++) vk_proto_http.finish(r->f[i].st, &r->f[i].ctx);
}

static void t_replay_free(struct t_replay *r)
{
    for (int i = 0; i < r->n; i++) {
        vk_proto_http.release(r->f[i].st);
        free(r->f[i].st);
        vk_meta_free(&r->f[i].meta);
    }
    r->n = 0;
}

/* ---- meta checks -------------------------------------------------------------------- */

static bool t_has(const struct vk_meta *m, enum vk_key k, const char *v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].len == strlen(v) &&
            memcmp(vk_meta_str(m, &m->items[i]), v, m->items[i].len) == 0)
            return true;
    return false;
}

static bool t_has_uint(const struct vk_meta *m, enum vk_key k, uint64_t v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].u == v) return true;
    return false;
}

/* The values of key k are exactly the NULL-terminated list. */
static void t_set(const struct vk_meta *m, enum vk_key k, const char *const *vals)
{
    unsigned n = 0;
    for (; vals[n]; n++)
        if (!t_has(m, k, vals[n])) fail_msg("%s lacks '%s'", vk_key_info(k)->name, vals[n]);
    assert_int_equal(vk_meta_count(m, k), n);
}

#define T_SET(m, k, ...) t_set((m), (k), (const char *const[]){__VA_ARGS__, NULL})

/* ---- a hand-fed session ------------------------------------------------------------- */

struct t_sess {
    struct vk_flow_view view;
    struct vk_meta meta;
    struct vk_pctx ctx;
    void *st;
};

static void t_open(struct t_sess *s)
{
    memset(s, 0, sizeof *s);
    s->view.family = 4;
    s->view.ipproto = 6;
    s->view.port[0] = 40000;
    s->view.port[1] = 80;
    vk_meta_init(&s->meta);
    s->ctx.meta = &s->meta;
    s->ctx.flow = &s->view;
    s->st = calloc(1, vk_proto_http.state_size);
    vk_proto_http.init(s->st, &s->ctx);
}

/* Deliver n bytes in pieces of `step` bytes (0: all at once). */
static void t_feed(struct t_sess *s, int dir, const void *p, size_t n, size_t step)
{
    const uint8_t *b = p;
    if (!step) step = n ? n : 1;
    for (size_t i = 0; i < n; i += step)
        vk_proto_http.data(s->st, &s->ctx, dir, b + i, n - i < step ? n - i : step);
}

static void t_feeds(struct t_sess *s, int dir, const char *text, size_t step)
{
    t_feed(s, dir, text, strlen(text), step);
}

static void t_close(struct t_sess *s)
{
    vk_proto_http.finish(s->st, &s->ctx);
    vk_proto_http.release(s->st);
    free(s->st);
    vk_meta_free(&s->meta);
}

/* ---- tests on corpus captures ------------------------------------------------------- */

/* http-simple-get.pcap: curl GET, 403 with a 5039-byte body over 4 segments. */
static void test_simple_get(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/http-simple-get.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_SERVICE, "http");
    T_SET(m, VK_K_HTTP_HOST, "xxxxxxxxxxxxx.xxx.com");
    T_SET(m, VK_K_ALIAS_HOST, "xxxxxxxxxxxxx.xxx.com");
    T_SET(m, VK_K_HTTP_METHOD, "GET");
    T_SET(m, VK_K_HTTP_URI, "xxxxxxxxxxxxx.xxx.com/");
    T_SET(m, VK_K_HTTP_PATH, "/");
    T_SET(m, VK_K_HTTP_VERSION, "1.1");
    T_SET(m, VK_K_HTTP_USER_AGENT,
          "curl/7.24.0 (x86_64-apple-darwin12.0) libcurl/7.24.0 OpenSSL/0.9.8y zlib/1.2.5");
    T_SET(m, VK_K_HTTP_SERVER, "Apache/2.2.15 (CentOS)");
    T_SET(m, VK_K_HTTP_HEADER_REQ, "accept", "host", "user-agent");
    T_SET(m, VK_K_HTTP_HEADER_RESP, "accept-ranges", "connection", "content-length",
          "content-type", "date", "server");
    assert_int_equal(vk_meta_count(m, VK_K_HTTP_STATUS), 1);
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 403));
    T_SET(m, VK_K_FILE_MD5, "230e3b4387b64caf54a7487b4f726adb");
    T_SET(m, VK_K_FILE_SHA256, "a5bae43656eb0c0c5db924a1764dd4631f58d3f0d2145333589521ea1d514ba5");
    T_SET(m, VK_K_FILE_TYPE, "text/html");
    assert_true(t_has_uint(m, VK_K_FILE_SIZE, 5039));
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
    t_replay_free(&r);
}

/* http-content-gzip.pcap: a gzip body (frame 6, retransmitted as frame 7). Arkime hashes
 * the body as sent (5ff7b2c6...), and so do we: the decoded XML (272 bytes, 859326e5...)
 * is not a file of the session. */
static void test_content_gzip(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/http-content-gzip.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_HTTP_HOST, "xxxxxxxxxxx.xxxxxxx.xxx");
    T_SET(m, VK_K_HTTP_URI, "xxxxxxxxxxx.xxxxxxx.xxx/crossdomain.xml");
    T_SET(m, VK_K_HTTP_PATH, "/crossdomain.xml");
    T_SET(m, VK_K_HTTP_REFERER, "http://xx.xxxxx.xxx/xx?id=xxxxxxx&cb=xxxxxxxxxxxxx&referrer=xxxxxxx.xxx");
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 200));
    T_SET(m, VK_K_FILE_MD5, "5ff7b2c69c3b22826a717cd5ea4c9f32");
    T_SET(m, VK_K_FILE_SHA256, "5f814421f0d932b8b082cdc539469c85ae89a09d4b01ea41c1ff0424e184206a");
    assert_true(t_has_uint(m, VK_K_FILE_SIZE, 190));
    assert_int_equal(vk_meta_count(m, VK_K_FILE_SIZE), 1);
    T_SET(m, VK_K_FILE_TYPE, "application/x-gzip");
    T_SET(m, VK_K_HTTP_CONTENT_TYPE, "application/xml");
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
    t_replay_free(&r);
}

/* http-basicauth.pcap: Authorization: Basic dXNlcnJycnI6cGFzc3dvcmRkZGRk, 304 (no body). */
static void test_basicauth(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/http-basicauth.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_USER, "userrrrr");
    assert_true(t_has_uint(m, VK_K_PASSWORD_SEEN, 1));
    T_SET(m, VK_K_HTTP_HOST, "10.000.000.001", "10.000.000.001:1234");
    T_SET(m, VK_K_ALIAS_HOST, "10.000.000.001");
    T_SET(m, VK_K_HTTP_URI, "10.000.000.001:1234/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/xxx/xxxxxxxxxxxxxxxxxxxx.js");
    T_SET(m, VK_K_HTTP_PATH, "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/xxx/xxxxxxxxxxxxxxxxxxxx.js");
    T_SET(m, VK_K_HTTP_REFERER, "http://10.000.000.001:1234/zzzzzzzzzzzzzzzz/zzzzzzzz/zz/zzzzzzzzz/index.html");
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 304));
    assert_false(vk_meta_has(m, VK_K_FILE_MD5));
    T_SET(m, VK_K_HTTP_HEADER_RESP, "cache-control", "connection", "date", "expires",
          "keep-alive", "server", "x-keep-alive-count");
    t_replay_free(&r);
}

/* http-100-continue.pcap (IPv6): POST with Expect: 100-continue, then 100, the 12-byte
 * body, and a 404 with a body. Both bodies are hashed. */
static void test_100_continue(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/http-100-continue.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_HTTP_METHOD, "POST");
    T_SET(m, VK_K_HTTP_URI, "example.com/re/abcdefghijklmnopqrstuvwxyz123456");
    assert_int_equal(vk_meta_count(m, VK_K_HTTP_STATUS), 2);
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 100));
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 404));
    T_SET(m, VK_K_FILE_MD5, "4a8b5abca9e7e6bbc4b2e881a86821db", "8533d322aa09355339125acaf8bd42ac");
    T_SET(m, VK_K_FILE_SHA256, "ac4211a923392ccc497e1c7fda9db382f1093147f6994eeda5ed547aa0c16b77",
          "f3d1071c18e51d0f9e3012d35225b808e322da45ecdf48e94d058a4caf301cc4");
    assert_true(t_has(m, VK_K_FILE_TYPE, "text/xml"));
    T_SET(m, VK_K_HTTP_HEADER_REQ, "connection", "content-length", "expect", "host");
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
    t_replay_free(&r);
}

/* http-wrapped-header.pcap: a 2 KiB request line over two segments and "Ho" / "st:" split
 * across segments 2 and 3. */
static void test_wrapped_header(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/http-wrapped-header.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_HTTP_HOST, "xxxxx.xxxxxxxx.xxxxxxxxxx.xxx");
    T_SET(m, VK_K_HTTP_PATH, "/x/xx/xxxxxxxxxxxxxxxxxxx/x/xxxxxx/xxxxxxxxxxxxxxx");
    char uri[4200];
    assert_true(vk_meta_get_str(m, VK_K_HTTP_URI, uri, sizeof uri));
    assert_int_equal(strlen(uri), 2060); /* as in http-wrapped-header.test */
    assert_true(strncmp(uri, "xxxxx.xxxxxxxx.xxxxxxxxxx.xxx/x/xx/xxxxxxxxxxxxxxxxxxx/x/xxxxxx/"
                             "xxxxxxxxxxxxxxx?xxx=1&xxx=1&x=", 93) == 0);
    assert_true(strcmp(uri + strlen(uri) - 6, "&AQE=1") == 0);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    assert_true(EVP_Digest(uri, strlen(uri), d, &dl, EVP_md5(), NULL));
    vk_hex(d, dl, hex);
    assert_string_equal(hex, "872356e5156ede5251f141a752b77444"); /* md5 of Arkime's uri */
    T_SET(m, VK_K_HTTP_HEADER_REQ, "accept", "accept-encoding", "accept-language", "connection",
          "cookie", "host", "referer", "user-agent");
    T_SET(m, VK_K_FILE_MD5, "ad480fd0732d0f6f1a8b06359e3a42bb");
    T_SET(m, VK_K_FILE_SHA256, "a1ecbaed793a1f564c49c671f2dd0ce36f858534ef6d26b55783a06b884cc506");
    T_SET(m, VK_K_FILE_TYPE, "image/gif");
    t_replay_free(&r);
}

/* http-post-upload.pcap: two GETs and a multipart POST on one keep-alive connection. */
static void test_post_upload(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/http-post-upload.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_HTTP_METHOD, "GET", "POST");
    T_SET(m, VK_K_HTTP_HOST, "192.168.57.14", "192.168.57.14:8080");
    T_SET(m, VK_K_HTTP_URI, "192.168.57.14:8080/fileupload/",
          "192.168.57.14:8080/fileupload/servlet/UploadHandleServlet");
    T_SET(m, VK_K_HTTP_PATH, "/fileupload/", "/fileupload/servlet/UploadHandleServlet");
    T_SET(m, VK_K_HTTP_REFERER, "http://192.168.57.14:8080/fileupload/");
    T_SET(m, VK_K_FILE_MD5, "2b8cd757ab5ffba85acac26c008a1ffc", "3fa07f3ec9f9fefed96e9886f80760bb",
          "550be33bf0ac01b6f7ac175bb8f4522a");
    T_SET(m, VK_K_FILE_SHA256, "14e3eded5dd1fc782b8062d20ee805c71ceb00029674e6d59c67ef053417f314",
          "22195633c931aec184e0e71f6fa277d9290d5e7ec3896be53a860472b6503791",
          "f6f3ed08d2b46dbf2bd6664b213b8c227c667ade0a2301d55b1e2ec7224f767a");
    t_replay_free(&r);
}

/* suricata-verify/http-brotli-ce: two Content-Encoding: br bodies, one chunked. Suricata
 * decodes them to 121 and 1743 bytes; we hash them as sent, de-chunked: 95 and 640. */
static void test_brotli(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/suricata-verify/http-brotli-ce/input.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    assert_true(t_has_uint(m, VK_K_FILE_SIZE, 95));
    assert_true(t_has_uint(m, VK_K_FILE_SIZE, 640));
    assert_int_equal(vk_meta_count(m, VK_K_FILE_SIZE), 2);
    assert_int_equal(vk_meta_count(m, VK_K_FILE_MD5), 2);
    T_SET(m, VK_K_FILE_NAME, "f.txt");
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 204));
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
    t_replay_free(&r);
}

/* 80211http.pcap (802.11 + radiotap): keep-alive GETs and POSTs, chunked gzip bodies.
 * Arkime's four md5s are those of the de-chunked, still compressed bodies. */
static void test_chunked_gzip(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/80211http.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    T_SET(m, VK_K_HTTP_METHOD, "GET", "POST");
    T_SET(m, VK_K_HTTP_PATH, "/", "/favicon.ico", "/post.php", "/static/css/base.css",
          "/static/css/index.css", "/static/images/banner.jpg");
    assert_int_equal(vk_meta_count(m, VK_K_HTTP_STATUS), 3);
    assert_true(t_has_uint(m, VK_K_HTTP_STATUS, 405));
    T_SET(m, VK_K_FILE_MD5, "1546e06a87abc6e183260c970e0c3a46", "1f7b84b70902489a0eb663ce31b8c58a",
          "a4a7b8b5eaf4c2cf356b1052133c6cdb", "c90e0392fdda6b9091a886229c14bf66");
    assert_true(t_has_uint(m, VK_K_PASSWORD_SEEN, 1)); /* Passwd= in a POST body */
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
    t_replay_free(&r);
}

/* ntlm_synthetic.pcap: NTLM over HTTP names user "dave" in its type 3 message. */
static void test_ntlm(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/ntlm_synthetic.pcap");
    bool dave = false, eve = false;
    for (int i = 0; i < r.n; i++) {
        const struct vk_meta *m = &r.f[i].meta;
        if (t_has(m, VK_K_HTTP_HOST, "srv.example.com")) {
            T_SET(m, VK_K_USER, "dave");
            T_SET(m, VK_K_SERVICE, "http", "ntlm");
            dave = true;
        }
        if (t_has(m, VK_K_HTTP_HOST, "v6srv.example.com")) {
            T_SET(m, VK_K_USER, "eve");
            eve = true;
        }
    }
    assert_true(dave && eve);
    t_replay_free(&r);
}

/* https-connect.pcap: CONNECT answered 200; TLS follows, the parser stops. */
static void test_connect(void **state)
{
    (void)state;
    struct t_replay r;
    t_replay_pcap(&r, "pcap/arkime/https-connect.pcap");
    assert_int_equal(r.n, 1);
    const struct vk_meta *m = &r.f[0].meta;
    assert_true(r.f[0].ctx.done);
    T_SET(m, VK_K_HTTP_METHOD, "CONNECT");
    T_SET(m, VK_K_HTTP_URI, "ts01-b.cloudsink.net:443");
    T_SET(m, VK_K_ALIAS_HOST, "ts01-b.cloudsink.net");
    T_SET(m, VK_K_HTTP_USER_AGENT, "CrowdStrike Falcon Sensor");
    assert_false(vk_meta_has(m, VK_K_HTTP_PATH));
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
    t_replay_free(&r);
}

/* ---- hand-written edge cases -------------------------------------------------------- */

/* Pipelined HEAD and GET: the HEAD response announces 5 bytes but carries none; the GET
 * answer is chunked with a trailer. Delivered one byte at a time. */
static void test_pipeline_head_chunked(void **state)
{
    (void)state;
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC,
            "HEAD /h HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n"
            "GET /g?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 1);
    t_feeds(&s, VK_DIR_DST,
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "7;ext=1\r\nHello, \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n", 1);
    T_SET(&s.meta, VK_K_HTTP_METHOD, "HEAD", "GET");
    T_SET(&s.meta, VK_K_HTTP_HOST, "example.com:8080", "example.com");
    T_SET(&s.meta, VK_K_HTTP_URI, "example.com:8080/h", "example.com:8080/g?x=1");
    T_SET(&s.meta, VK_K_HTTP_PATH, "/h", "/g");
    T_SET(&s.meta, VK_K_FILE_MD5, "6cd3556deb0da54bca060b4c39479839"); /* "Hello, world!" */
    T_SET(&s.meta, VK_K_HTTP_HEADER_RESP, "content-length", "transfer-encoding", "x-trailer");
    assert_false(vk_meta_has(&s.meta, VK_K_ANOMALY));
    t_close(&s);
}

/* A folded User-Agent, split byte by byte, and a body that runs until the session ends. */
static void test_folded_and_close(void **state)
{
    (void)state;
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC, "GET / HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n  (folded)\r\n\tX\r\n\r\n", 1);
    t_feeds(&s, VK_DIR_DST, "HTTP/1.0 200 OK\r\nServer: t\r\n\r\nabc", 0);
    assert_false(vk_meta_has(&s.meta, VK_K_FILE_MD5)); /* not ended yet */
    vk_proto_http.finish(s.st, &s.ctx);
    T_SET(&s.meta, VK_K_HTTP_USER_AGENT, "Mozilla/5.0 (folded) X");
    T_SET(&s.meta, VK_K_HTTP_URI, "/"); /* no Host: the target alone, and no path */
    assert_false(vk_meta_has(&s.meta, VK_K_HTTP_PATH));
    T_SET(&s.meta, VK_K_HTTP_VERSION, "1.0");
    T_SET(&s.meta, VK_K_FILE_MD5, "900150983cd24fb0d6963f7d28e17f72"); /* "abc" */
    t_close(&s);
}

/* A gap inside the headers drops that request; the next request is found again. A gap
 * inside a Content-Length body keeps the framing but loses that body's hash. */
static void test_gap_resync(void **state)
{
    (void)state;
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC, "GET /lost HTTP/1.1\r\nHo", 0);
    vk_proto_http.gap(s.st, &s.ctx, VK_DIR_SRC, 100);
    t_feeds(&s, VK_DIR_SRC, "junk: x\r\n\r\nGET /found HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    t_feeds(&s, VK_DIR_DST, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab", 0);
    vk_proto_http.gap(s.st, &s.ctx, VK_DIR_DST, 5);
    t_feeds(&s, VK_DIR_DST, "cdeHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nping", 0);
    T_SET(&s.meta, VK_K_HTTP_URI, "h/found");
    T_SET(&s.meta, VK_K_FILE_MD5, "df911f0151f9ef021d410b4be5060972"); /* "ping" only */
    assert_false(vk_meta_has(&s.meta, VK_K_ANOMALY));
    t_close(&s);
}

static void test_bad_chunk_and_garbage(void **state)
{
    (void)state;
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC, "\x16\x03\x01 not http\r\n", 0);
    t_feeds(&s, VK_DIR_DST, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0);
    T_SET(&s.meta, VK_K_ANOMALY, "http.bad_start_line", "http.bad_chunk");
    assert_false(vk_meta_has(&s.meta, VK_K_FILE_MD5));
    t_close(&s);
}

static void test_limits(void **state)
{
    (void)state;
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", 0);
    static char big[70000];
    memset(big, 'a', sizeof big);
    t_feed(&s, VK_DIR_SRC, big, sizeof big, 1460);
    t_feeds(&s, VK_DIR_SRC, "\r\n", 0);
    for (int i = 0; i < 300; i++) t_feeds(&s, VK_DIR_SRC, "X-N: 1\r\n", 0);
    t_feeds(&s, VK_DIR_SRC, "\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    T_SET(&s.meta, VK_K_ANOMALY, "http.header_too_long", "http.too_many_headers");
    T_SET(&s.meta, VK_K_HTTP_URI, "a/", "a/next");
    t_close(&s);
}

/* deflate as zlib and as raw deflate, and two concatenated gzip members: each body is
 * one file, hashed as sent. */
static void test_encoded_bodies(void **state)
{
    (void)state;
    static const char raw[] = "\x2b\x4a\x2c\x57\x48\x49\x4d\xcb\x49\x2c\x49\x55\x48\xca\x4f\xa9"
                              "\xd4\x51\x28\x22\x28\xc2\x05\x00";
    static const char zl[] = "\x78\xda\x2b\x4a\x2c\x57\x48\x49\x4d\xcb\x49\x2c\x49\x55\x48\xca"
                             "\x4f\xa9\xd4\x51\x28\x22\x28\xc2\x05\x00\x02\xba\x12\xca";
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x2b\x48\x2c\x2a\x51\xc8"
                             "\xcf\x4b\xe5\x02\x00\x0c\xa1\x3d\xf9\x09\x00\x00\x00\x1f\x8b\x08"
                             "\x00\x00\x00\x00\x00\x02\x03\x2b\x48\x2c\x2a\x51\x28\x29\xcf\xe7"
                             "\x02\x00\xe7\x01\x3d\x97\x09\x00\x00\x00";
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0);
    t_feeds(&s, VK_DIR_DST, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: 24\r\n\r\n", 0);
    t_feed(&s, VK_DIR_DST, raw, 24, 1);
    t_feeds(&s, VK_DIR_DST, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: 30\r\n\r\n", 0);
    t_feed(&s, VK_DIR_DST, zl, 30, 1);
    t_feeds(&s, VK_DIR_DST, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 58\r\n\r\n", 0);
    t_feed(&s, VK_DIR_DST, gz, 58, 7);
    T_SET(&s.meta, VK_K_FILE_MD5, "30b78391173c8b426aff8b0844c64739", /* raw deflate */
          "d88ce63980de071a36d750c08510d458",                       /* zlib */
          "319bed2e2c49f9afd29efbe420d42b1c");                      /* gzip members */
    assert_false(vk_meta_has(&s.meta, VK_K_ANOMALY));
    t_close(&s);
}

/* A gzip bomb (64 MiB of zeros) costs nothing more than its size: hashed as sent. */
static void test_gzip_bomb(void **state)
{
    (void)state;
    static uint8_t zeros[1 << 20], out[1 << 20];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_out = out;
    z.avail_out = sizeof out;
    for (int i = 0; i < 65; i++) {
        z.next_in = zeros;
        z.avail_in = sizeof zeros;
        assert_int_equal(deflate(&z, i == 64 ? Z_FINISH : Z_NO_FLUSH), i == 64 ? Z_STREAM_END : Z_OK);
    }
    size_t n = sizeof out - z.avail_out;
    deflateEnd(&z);
    char hdr[128];
    snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", n);
    struct t_sess s;
    t_open(&s);
    t_feeds(&s, VK_DIR_SRC, "GET /bomb HTTP/1.1\r\n\r\n", 0);
    t_feeds(&s, VK_DIR_DST, hdr, 0);
    t_feed(&s, VK_DIR_DST, out, n, 1460);
    assert_false(vk_meta_has(&s.meta, VK_K_ANOMALY));
    assert_int_equal(vk_meta_count(&s.meta, VK_K_FILE_MD5), 1);
    assert_int_equal(vk_meta_count(&s.meta, VK_K_FILE_SIZE), 1);
    assert_true(t_has_uint(&s.meta, VK_K_FILE_SIZE, n));
    t_close(&s);
}

static void test_probe(void **state)
{
    (void)state;
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {40000, 80}};
    struct vk_flow_view g = {.family = 4, .ipproto = 6, .port = {40000, 5555}};
    const char *get = "GET / HTTP/1.1\r\n", *resp = "HTTP/1.1 200 OK\r\n", *rtsp = "OPTIONS rtsp://x RTSP/1.0\r\n";
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)get, strlen(get)), 3);
    assert_int_equal(vk_proto_http.probe(&g, 1, (const uint8_t *)resp, strlen(resp)), 3);
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)rtsp, strlen(rtsp)), 0);
    assert_int_equal(vk_proto_http.probe(&f, 0, (const uint8_t *)rtsp, strlen(rtsp)), 1);
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)"GET /x\r\n", 8), 2);
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)"GET\r\n", 5), 2);
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)"GET key\r\n", 9), 0);
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)"GET /very/long/pa", 17), 3);
    assert_int_equal(vk_proto_http.probe(&f, 0, (const uint8_t *)"\x16\x03\x01", 3), 1);
    assert_int_equal(vk_proto_http.probe(&g, 0, (const uint8_t *)"\x16\x03\x01", 3), 0);
}

#ifndef TEST_HTTP_NO_MAIN
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),      cmocka_unit_test(test_content_gzip),
        cmocka_unit_test(test_basicauth),       cmocka_unit_test(test_100_continue),
        cmocka_unit_test(test_wrapped_header),  cmocka_unit_test(test_post_upload),
        cmocka_unit_test(test_brotli),          cmocka_unit_test(test_ntlm),
        cmocka_unit_test(test_chunked_gzip),
        cmocka_unit_test(test_connect),         cmocka_unit_test(test_pipeline_head_chunked),
        cmocka_unit_test(test_folded_and_close), cmocka_unit_test(test_gap_resync),
        cmocka_unit_test(test_bad_chunk_and_garbage), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_encoded_bodies),  cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
