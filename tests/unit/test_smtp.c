/* test_smtp.c — the SMTP parser on real captures from the corpus.
 *
 * Each test replays one TCP stream of a corpus pcap through vk_proto_smtp (a small
 * in-order reassembler below does what the flow stage does) and checks the meta against
 * the values Arkime (arkime/NAME.test) or Suricata (suricata-verify/.../test.yaml) report for
 * the same capture. Some streams are replayed a few bytes at a time as well, to check that
 * the result does not depend on how the bytes are cut. */
#include <pcap/pcap.h>

#include "vk_test.h"
#include "proto/vk_proto.h"

/* ---- replay one TCP stream of a pcap ----------------------------------------------- */

struct held {
    int dir;
    uint32_t seq;
    size_t len;
    uint8_t *p;
};

struct replay {
    const struct vk_parser *ps;
    void *st;
    struct vk_pctx c;
    bool parked;       /* done + reprobe: the next payload is offered to probe() again */
    bool inited;
    int restarts;
    struct vk_flow_view f;
    size_t chunk;      /* deliver at most this many bytes per call (0 = as captured) */
    uint32_t next[2];
    bool synced[2];
    struct held held[512];
    int nheld;
};

/* What the flow stage does on done + reprobe: finish this parser instance and let the
 * bytes that follow be probed afresh (here only SMTP may claim them). */
static void park(struct replay *r)
{
    r->ps->finish(r->st, &r->c);
    r->ps->release(r->st);
    memset(r->st, 0, r->ps->state_size);
    r->c.done = r->c.reprobe = false;
    r->parked = true;
}

static void deliver(struct replay *r, int dir, const uint8_t *p, size_t n)
{
    if (r->parked) {
        /* a port hint (1) would lose to a content match of another parser (TLS: 3) */
        if (r->ps->probe(&r->f, dir, p, n) <= 1) {
            r->c.done = true; /* not ours any more; stay parked */
            return;
        }
        r->parked = false;
        r->restarts++;
        r->ps->init(r->st, &r->c);
    }
    while (n && !r->c.done) {
        size_t k = r->chunk && r->chunk < n ? r->chunk : n;
        r->ps->data(r->st, &r->c, dir, p, k);
        p += k;
        n -= k;
        if (r->c.done && r->c.reprobe) {
            park(r);
            return;
        }
    }
}

/* In-order delivery by sequence number: retransmitted bytes are dropped, segments that
 * arrive early wait in r->held. */
static void segment(struct replay *r, int dir, uint32_t seq, const uint8_t *p, size_t n)
{
    if (!r->synced[dir]) {
        r->next[dir] = seq;
        r->synced[dir] = true;
    }
    int32_t d = (int32_t)(seq - r->next[dir]);
    if (d > 0) {
        assert_true(r->nheld < 512);
        struct held *h = &r->held[r->nheld++];
        h->dir = dir;
        h->seq = seq;
        h->len = n;
        h->p = malloc(n);
        memcpy(h->p, p, n);
        return;
    }
    if ((size_t)-d >= n) return;
    deliver(r, dir, p - d, n + (size_t)d);
    r->next[dir] = seq + (uint32_t)n;
    for (int i = 0; i < r->nheld; i++) {
        struct held *h = &r->held[i];
        if (h->dir != dir || (int32_t)(h->seq - r->next[dir]) > 0) continue;
        struct held copy = *h;
        r->held[i] = r->held[--r->nheld];
        segment(r, dir, copy.seq, copy.p, copy.len);
        free(copy.p);
        i = -1;
    }
}

/* Replay TCP stream number `stream` (order of first appearance) of a corpus capture into
 * meta m. Returns how it ended: 0 data to the end, 1 the parser said done, 2 it asked for
 * a re-probe and nothing claimed the rest; *restarts (may be NULL) counts re-probes that
 * SMTP claimed again. */
static void replay_file(struct replay *r, const char *rel, int stream)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(vk_test_corpus(rel), err);
    if (!pc) fail_msg("%s: %s", rel, err);
    int dlt = pcap_datalink(pc);
    struct { uint8_t a[2][16]; uint16_t p[2]; int fam; } seen[64];
    int nseen = 0;
    bool inited = false;
    r->synced[0] = r->synced[1] = false;
    struct pcap_pkthdr *h;
    const u_char *pkt;
    while (pcap_next_ex(pc, &h, &pkt) == 1) {
        size_t off = dlt == DLT_EN10MB ? 14 : dlt == DLT_NULL || dlt == DLT_LOOP ? 4 : 0;
        if (dlt == DLT_EN10MB) {
            if (h->caplen < 14) continue;
            uint16_t et = (uint16_t)(pkt[12] << 8 | pkt[13]);
            while (et == 0x8100 && off + 4 <= h->caplen) {
                et = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
                off += 4;
            }
        }
        if (off >= h->caplen) continue;
        const uint8_t *ip = pkt + off;
        size_t left = h->caplen - off, ihl, tot;
        uint8_t src[16] = {0}, dst[16] = {0};
        int fam;
        if ((ip[0] >> 4) == 4 && left >= 20) {
            fam = 4;
            ihl = (size_t)(ip[0] & 15) * 4;
            tot = (size_t)(ip[2] << 8 | ip[3]);
            if (ip[9] != 6 || tot > left || ihl + 20 > tot) continue;
            memcpy(src, ip + 12, 4);
            memcpy(dst, ip + 16, 4);
        } else if ((ip[0] >> 4) == 6 && left >= 40) {
            fam = 6;
            ihl = 40;
            tot = 40 + (size_t)(ip[4] << 8 | ip[5]);
            if (ip[6] != 6 || tot > left || tot < 60) continue;
            memcpy(src, ip + 8, 16);
            memcpy(dst, ip + 24, 16);
        } else {
            continue;
        }
        const uint8_t *tcp = ip + ihl;
        size_t doff = (size_t)(tcp[12] >> 4) * 4;
        if (ihl + doff > tot) continue;
        uint16_t sp = (uint16_t)(tcp[0] << 8 | tcp[1]), dp = (uint16_t)(tcp[2] << 8 | tcp[3]);
        uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
        bool syn = tcp[13] & 2;
        /* which stream is it, and in which direction? */
        int id = -1, dir = 0;
        for (int i = 0; i < nseen; i++) {
            if (seen[i].fam != fam) continue;
            if (!memcmp(seen[i].a[0], src, 16) && !memcmp(seen[i].a[1], dst, 16) && seen[i].p[0] == sp &&
                seen[i].p[1] == dp) { id = i; dir = 0; }
            if (!memcmp(seen[i].a[1], src, 16) && !memcmp(seen[i].a[0], dst, 16) && seen[i].p[1] == sp &&
                seen[i].p[0] == dp) { id = i; dir = 1; }
        }
        if (id < 0 && nseen < 64) {
            id = nseen++;
            seen[id].fam = fam;
            memcpy(seen[id].a[0], src, 16);
            memcpy(seen[id].a[1], dst, 16);
            seen[id].p[0] = sp;
            seen[id].p[1] = dp;
        }
        if (id != stream) continue;
        if (!inited && !r->inited) {
            r->f.family = (uint8_t)fam;
            r->f.ipproto = 6;
            memcpy(r->f.addr[0], seen[id].a[0], 16);
            memcpy(r->f.addr[1], seen[id].a[1], 16);
            r->f.port[0] = seen[id].p[0];
            r->f.port[1] = seen[id].p[1];
            r->ps->init(r->st, &r->c);
            r->inited = true;
        }
        inited = true;
        if (syn) {
            r->next[dir] = seq + 1;
            r->synced[dir] = true;
            continue;
        }
        size_t plen = tot - ihl - doff;
        if (plen && !r->c.done) segment(r, dir, seq, tcp + doff, plen);
    }
    pcap_close(pc);
    assert_true(inited);
}

/* Replay the given streams one after the other into one parser instance, as if they were
 * one session. */
static int replay_files(const char *const *rel, const int *stream, int nfiles, size_t chunk,
                        struct vk_meta *m, int *restarts)
{
    struct replay *r = calloc(1, sizeof *r);
    r->ps = &vk_proto_smtp;
    r->chunk = chunk;
    r->st = calloc(1, r->ps->state_size);
    r->c.meta = m;
    r->c.flow = &r->f;
    for (int i = 0; i < nfiles; i++) replay_file(r, rel[i], stream[i]);
    int done = r->parked ? 2 : r->c.done ? 1 : 0;
    if (!r->parked) {
        r->ps->finish(r->st, &r->c);
        r->ps->release(r->st);
    }
    if (restarts) *restarts = r->restarts;
    for (int i = 0; i < r->nheld; i++) free(r->held[i].p);
    free(r->st);
    free(r);
    return done;
}

static int replay_ex(const char *rel, int stream, size_t chunk, struct vk_meta *m, int *restarts)
{
    return replay_files(&rel, &stream, 1, chunk, m, restarts);
}

static int replay(const char *rel, int stream, size_t chunk, struct vk_meta *m)
{
    return replay_ex(rel, stream, chunk, m, NULL);
}

/* ---- meta checks ------------------------------------------------------------------- */

static bool has_uint(const struct vk_meta *m, enum vk_key k, uint64_t v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].u == v) return true;
    return false;
}

/* ---- tests ------------------------------------------------------------------------- */

/* arkime/smtp-zip.pcap: one mail with a base64 zip attachment (arkime/smtp-zip.test). */
static void check_zip(struct vk_meta *m)
{
    VK_HAS(m, VK_K_SERVICE, "smtp");
    VK_HAS(m, VK_K_SMTP_HELO, "xxxxxxxxxxxxx.xxx.com");
    VK_HAS(m, VK_K_EMAIL_SRC, "xxxxx@xxx.net");
    VK_HAS(m, VK_K_EMAIL_DST, "xxxxxxxxx@xxxxxxx.com");
    VK_HAS(m, VK_K_EMAIL_SUBJECT, "zip test");
    VK_HAS(m, VK_K_EMAIL_MESSAGE_ID, "20131217145016.GA29077@xxx.net");
    VK_HAS(m, VK_K_EMAIL_CONTENT_TYPE, "multipart/mixed; boundary=\"HcAYCG3uE/tztfnV\"");
    VK_HAS(m, VK_K_FILE_NAME, "a.zip");
    VK_HAS(m, VK_K_FILE_MD5, "40be8f5100e9beabab293c9d7bacaff0");
    VK_HAS(m, VK_K_FILE_SHA256, "61479904e443b354d4427a51b990c696f731e341e4c63328e07c1a92658ba591");
    VK_HAS(m, VK_K_FILE_TYPE, "application/zip");
    assert_int_equal(vk_meta_count(m, VK_K_FILE_MD5), 1);
    assert_int_equal(vk_meta_count(m, VK_K_EMAIL_SUBJECT), 1);
    assert_false(vk_meta_has(m, VK_K_ANOMALY));
}

static void test_zip(void **state)
{
    (void)state;
    static const size_t chunks[] = {0, 1, 7, 100};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        replay("pcap/arkime/smtp-zip.pcap", 0, chunks[i], &m);
        check_zip(&m);
        vk_meta_free(&m);
    }
}

/* Subjects with RFC 2047 words, exactly as arkime/smtp-subject-*.test give them. */
static void test_subjects(void **state)
{
    (void)state;
    static const struct { const char *pcap, *subject; } cases[] = {
        {"pcap/arkime/smtp-subject-8859-b.pcap", "test \xc3\xa5 \xc3\xa9 \xc3\xae \xc3\xb8 \xc3\xbc"},
        {"pcap/arkime/smtp-subject-8859-multi.pcap",
         "4spaces    \xc3\xa5 \xc3\xa9 \xc3\xae \xc3\xb8 \xc3\xbc     5spaces"},
        {"pcap/arkime/smtp-subject-encoded-empty.pcap",
         "Can this 10 Second Trick Help Prevent YOUR Heart Attack?"},
        {"pcap/arkime/smtp-subject-multi-nospace.pcap",
         "xxxxxxxxxxxxx: xxxx\xc3\xaaxx xx\xc3\xa9xxxxxxx  xx xxx xxx xxxxxxxxxx  x xx "
         "xxxxxxxxxxxxxxx - xxxx"},
        {"pcap/arkime/smtp-subject-utf8-q.pcap",
         "xxxxxx xxxxxx xx xxxxxxxxx xx-xxxxxxx\xef\xbc\x88" "ANA\xef\xbc\x89GGL_xxxxxxxxxxxxx_xxxxxx.zip"},
        {"pcap/arkime/smtp-moloch-bof.pcap", " MIME test"}, /* "Subject:  MIME test" */
        {"pcap/arkime/smtp-data-250.pcap", "Re: xxx xxx xxxxx xxxxxx..."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        replay(cases[i].pcap, 0, 0, &m);
        char got[512] = "";
        vk_meta_get_str(&m, VK_K_EMAIL_SUBJECT, got, sizeof got);
        if (strcmp(got, cases[i].subject)) fail_msg("%s: subject '%s'", cases[i].pcap, got);
        assert_int_equal(vk_meta_count(&m, VK_K_EMAIL_SUBJECT), 1);
        vk_meta_free(&m);
    }
}

/* arkime/smtp-subject-utf8-q.pcap: the base64 part's hashes are Arkime's email.md5/sha256. */
static void test_utf8q_hash(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/arkime/smtp-subject-utf8-q.pcap", 0, 3, &m);
    VK_HAS(&m, VK_K_FILE_MD5, "5b153a606bea42005e1eedb5ddeabcf0");
    VK_HAS(&m, VK_K_FILE_SHA256, "8d4b2e39ccf34cff2147c7b6896f4bd5ce0a209d0cd87ca75035b4c8243bf865");
    VK_HAS(&m, VK_K_ALIAS_HOST, "smtp-02.xxxxxxxxx.com"); /* from a Received header */
    vk_meta_free(&m);
}

/* arkime/smtp-data-250.pcap: AUTH PLAIN gives the user (Arkime: user 12345678@aol.com);
 * the From header adds nothing new to email.src. */
static void test_auth_plain(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/arkime/smtp-data-250.pcap", 0, 0, &m);
    VK_HAS(&m, VK_K_USER, "12345678@aol.com");
    assert_true(has_uint(&m, VK_K_PASSWORD_SEEN, 1));
    VK_HAS(&m, VK_K_EMAIL_SRC, "12345678@aol.com");
    assert_int_equal(vk_meta_count(&m, VK_K_EMAIL_SRC), 1);
    VK_HAS(&m, VK_K_EMAIL_DST, "xxxx.xxxxxx@xxxxx.com");
    VK_HAS(&m, VK_K_SMTP_HELO, "localhost");
    VK_HAS(&m, VK_K_EMAIL_MESSAGE_ID, "xxxxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxx@xxxxx.xxxxxxx.xxx");
    assert_false(vk_meta_has(&m, VK_K_FILE_MD5)); /* a single-part body is no attachment */
    vk_meta_free(&m);
}

/* arkime/smtp-moloch-bof.pcap: From header and MAIL FROM differ; a 7.6 KB file name. */
static void test_bof(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/arkime/smtp-moloch-bof.pcap", 0, 0, &m);
    VK_HAS(&m, VK_K_EMAIL_SRC, "ibmuser@zpdt.example.com");
    VK_HAS(&m, VK_K_EMAIL_SRC, "matt@zpdt.example.com");
    VK_HAS(&m, VK_K_EMAIL_DST, "mattenuttall@example.com");
    VK_HAS(&m, VK_K_SMTP_HELO, "adcdtest");
    VK_HAS(&m, VK_K_ANOMALY, "smtp.filename_too_long");
    char name[2048];
    assert_true(vk_meta_get_str(&m, VK_K_FILE_NAME, name, sizeof name));
    assert_int_equal(strlen(name), 1024);
    assert_int_equal(strspn(name, "A"), 1024);
    vk_meta_free(&m);
}

/* arkime/smtp-nospaces.pcap: "HELO" without a name, "MAIL FROM:addr" without brackets. */
static void test_nospaces(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/arkime/smtp-nospaces.pcap", 0, 0, &m);
    VK_HAS(&m, VK_K_SERVICE, "smtp");
    VK_HAS(&m, VK_K_EMAIL_SRC, "random@example.com");
    VK_HAS(&m, VK_K_EMAIL_DST, "reciever@example.com");
    assert_false(vk_meta_has(&m, VK_K_SMTP_HELO));
    vk_meta_free(&m);
}

/* arkime/wireshark-bdat.pcap: RFC 3030 BDAT chunks (295 bytes, then 8380 LAST). */
static void test_bdat(void **state)
{
    (void)state;
    static const size_t chunks[] = {0, 1, 13};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        replay("pcap/arkime/wireshark-bdat.pcap", 0, chunks[i], &m);
        VK_HAS(&m, VK_K_SERVICE, "smtp");
        VK_HAS(&m, VK_K_SMTP_HELO, "testhost.test.ex");
        VK_HAS(&m, VK_K_EMAIL_SRC, "sender@dom");
        assert_int_equal(vk_meta_count(&m, VK_K_EMAIL_SRC), 1); /* MAIL FROM:<> adds nothing */
        VK_HAS(&m, VK_K_EMAIL_DST, "p@test.ex");
        VK_HAS(&m, VK_K_EMAIL_SUBJECT, "foo");
        VK_HAS(&m, VK_K_EMAIL_MESSAGE_ID, "E1bwpfB-0000Be-Tu@testhost.test.ex");
        VK_HAS(&m, VK_K_ALIAS_HOST, "root");
        assert_false(vk_meta_has(&m, VK_K_ANOMALY));
        vk_meta_free(&m);
    }
}

/* Two mails in one session: arkime/smtp-zip.pcap then arkime/smtp-subject-8859-multi.pcap
 * replayed into one parser (the second greeting and EHLO are just more lines). Each mail
 * keeps its own facts; the zip attachment is hashed once. */
static void test_two_mails(void **state)
{
    (void)state;
    static const char *const files[] = {"pcap/arkime/smtp-zip.pcap", "pcap/arkime/smtp-subject-8859-multi.pcap"};
    static const int streams[] = {0, 0};
    struct vk_meta m;
    vk_meta_init(&m);
    assert_int_equal(replay_files(files, streams, 2, 0, &m, NULL), 0);
    VK_HAS(&m, VK_K_EMAIL_SUBJECT, "zip test");
    VK_HAS(&m, VK_K_EMAIL_SUBJECT, "4spaces    \xc3\xa5 \xc3\xa9 \xc3\xae \xc3\xb8 \xc3\xbc     5spaces");
    assert_int_equal(vk_meta_count(&m, VK_K_EMAIL_SUBJECT), 2);
    VK_HAS(&m, VK_K_EMAIL_MESSAGE_ID, "20131217145016.GA29077@xxx.net");
    VK_HAS(&m, VK_K_EMAIL_MESSAGE_ID, "20131212194457.GA7990@xxx.net");
    VK_HAS(&m, VK_K_EMAIL_CONTENT_TYPE, "text/plain; charset=us-ascii");
    VK_HAS(&m, VK_K_FILE_MD5, "40be8f5100e9beabab293c9d7bacaff0");
    assert_int_equal(vk_meta_count(&m, VK_K_FILE_MD5), 1);
    assert_false(vk_meta_has(&m, VK_K_ANOMALY));
    vk_meta_free(&m);
}

/* Regression: a short file name after a longer one must not keep the longer one's tail
 * (suricata-verify/mime/mime-quoted-printable names words.txt and related.patch, then
 * arkime/smtp-zip.pcap names a.zip). */
static void test_names_in_sequence(void **state)
{
    (void)state;
    static const char *const files[] = {"pcap/suricata-verify/mime/mime-quoted-printable/input.pcap",
                                        "pcap/arkime/smtp-zip.pcap"};
    static const int streams[] = {0, 0};
    struct vk_meta m;
    vk_meta_init(&m);
    replay_files(files, streams, 2, 0, &m, NULL);
    VK_HAS(&m, VK_K_FILE_NAME, "words.txt");
    VK_HAS(&m, VK_K_FILE_NAME, "related.patch");
    VK_HAS(&m, VK_K_FILE_NAME, "a.zip");
    assert_int_equal(vk_meta_count(&m, VK_K_FILE_NAME), 3);
    vk_meta_free(&m);
}

/* arkime/smtp-starttls.pcap: STARTTLS, 220, then a TLS ClientHello: the parser hands the
 * rest back (Arkime: protocols smtp and tls), and SMTP does not claim the ClientHello. */
static void test_starttls(void **state)
{
    (void)state;
    struct vk_meta m;
    int restarts = -1;
    vk_meta_init(&m);
    assert_int_equal(replay_ex("pcap/arkime/smtp-starttls.pcap", 0, 0, &m, &restarts), 2);
    assert_int_equal(restarts, 0);
    assert_true(has_uint(&m, VK_K_SMTP_STARTTLS, 1));
    VK_HAS(&m, VK_K_SMTP_HELO, "xxxxxxxxxxxxx.xxx.com");
    assert_false(vk_meta_has(&m, VK_K_EMAIL_SRC));
    assert_false(vk_meta_has(&m, VK_K_ANOMALY));
    vk_meta_free(&m);
}

/* arkime/smtp-decrypted.pcap: STARTTLS sessions whose TLS layer was decrypted: after the
 * re-probe SMTP claims the rest and the mail is parsed (arkime/smtp-decrypted.test,
 * sessions 1 and 3). */
static void test_decrypted(void **state)
{
    (void)state;
    struct vk_meta m;
    int restarts = -1;
    vk_meta_init(&m);
    assert_int_equal(replay_ex("pcap/arkime/smtp-decrypted.pcap", 0, 0, &m, &restarts), 0);
    assert_int_equal(restarts, 1);
    assert_true(has_uint(&m, VK_K_SMTP_STARTTLS, 1));
    VK_HAS(&m, VK_K_SMTP_HELO, "transit-mta");
    VK_HAS(&m, VK_K_EMAIL_SUBJECT, "Ho ho ho");
    VK_HAS(&m, VK_K_EMAIL_SRC, "papanoel@intradef.gouv.fr");
    VK_HAS(&m, VK_K_EMAIL_DST, "aponcelet@shewa.intradef.gouv.fr");
    VK_HAS(&m, VK_K_EMAIL_MESSAGE_ID, "964329.815327318-sendEmail@intra-mx2");
    VK_HAS(&m, VK_K_FILE_NAME, "IMG_20201225_085941.jpeg");
    VK_HAS(&m, VK_K_FILE_MD5, "0ff797a4cdf481026ffb5c1c216e8dc2");
    VK_HAS(&m, VK_K_FILE_SHA256, "1fd56beabe526dfcd7b1b1cf138f028221d425e71d46d4c5086b5a1f934477a4");
    VK_HAS(&m, VK_K_FILE_TYPE, "image/jpeg");
    vk_meta_free(&m);

    vk_meta_init(&m);
    replay("pcap/arkime/smtp-decrypted.pcap", 2, 0, &m);
    VK_HAS(&m, VK_K_EMAIL_SUBJECT, "test avec pj");
    VK_HAS(&m, VK_K_FILE_NAME, "test.txt");
    VK_HAS(&m, VK_K_FILE_MD5, "a30de9a413156ac5268036f7748bf782");
    VK_HAS(&m, VK_K_FILE_SHA256, "d4584320dd20fc7cb5313340908236bd1df86860440dc21626f30a1964e4e245");
    vk_meta_free(&m);
}

/* suricata-verify/mime/mime-quoted-printable: a quoted-printable attachment; Suricata's
 * fileinfo: related.patch, size 34224, sha256 3596...b9. */
static void test_quoted_printable(void **state)
{
    (void)state;
    static const size_t chunks[] = {0, 5};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        replay("pcap/suricata-verify/mime/mime-quoted-printable/input.pcap", 0, chunks[i], &m);
        VK_HAS(&m, VK_K_FILE_NAME, "related.patch");
        VK_HAS(&m, VK_K_FILE_SHA256, "359641873610597882317aee0f72104ed54fe8aa82d6fa323a5418e4529bd3b9");
        assert_true(has_uint(&m, VK_K_FILE_SIZE, 34224));
        VK_HAS(&m, VK_K_USER, "galunt"); /* AUTH LOGIN */
        vk_meta_free(&m);
    }
}

/* suricata-verify/bug-6207-2: RFC 2231 continued file name (filename*0=, filename*1=);
 * Suricata: the name below, size 2, sha256 7347...49. */
static void test_rfc2231_name(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/suricata-verify/bug-6207-2/input.pcap", 0, 0, &m);
    VK_HAS(&m, VK_K_FILE_NAME,
        "smtptest-2021-02-25T13-54-22Z-aefb2fc1308d62f4b6c74769f69b13ddf80e995fd98ae442f3be499ea928c67f..zip");
    VK_HAS(&m, VK_K_FILE_SHA256, "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049");
    assert_true(has_uint(&m, VK_K_FILE_SIZE, 2));
    VK_HAS(&m, VK_K_SMTP_HELO, "smtp.intra");
    vk_meta_free(&m);
}

/* suricata-verify/smtp-long-DATA-line: base64 lines far longer than a body chunk;
 * Suricata: winmail.dat, size 10451, sha256 c14d...eb. */
static void test_long_line(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/suricata-verify/smtp-long-DATA-line/input.pcap", 0, 0, &m);
    VK_HAS(&m, VK_K_FILE_NAME, "winmail.dat");
    VK_HAS(&m, VK_K_FILE_SHA256, "c14d632ab473fb815381a33bc29103fe34a2bea0e3451a9eae8c6dc0bee2f3eb");
    assert_true(has_uint(&m, VK_K_FILE_SIZE, 10451));
    vk_meta_free(&m);
}

/* ndpi/emotet.pcap: a raw UTF-8 file name stays UTF-8; the capture ends inside the
 * attachment, so it is named but not hashed. */
static void test_truncated_attachment(void **state)
{
    (void)state;
    struct vk_meta m;
    vk_meta_init(&m);
    replay("pcap/ndpi/emotet.pcap", 0, 0, &m);
    VK_HAS(&m, VK_K_FILE_NAME, "documentaci\xc3\xb3n_455.xlsm");
    assert_false(vk_meta_has(&m, VK_K_FILE_MD5));
    VK_HAS(&m, VK_K_USER, "raulparedes@wanadoo.fr");
    vk_meta_free(&m);
}

/* Probe: arkime/smtp-zip.pcap frames 4 and 6, arkime/smtp-html.pcap first payload
 * ("HELO" alone on port 8000: Arkime does not call it SMTP), arkime/ftp.pcap frame 4. */
static void test_probe(void **state)
{
    (void)state;
    struct vk_flow_view f = {.family = 4, .ipproto = 6, .port = {46671, 25}};
    static const char greet[] = "220 xxxxxxxxxxxxxxx1.xxx.com ESMTP (8c53e47a0e267dc8fa5a3d95a20c7a75)\r\n";
    assert_int_equal(vk_proto_smtp.probe(&f, VK_DIR_DST, (const uint8_t *)greet, sizeof greet - 1), 3);
    static const char ehlo[] = "EHLO xxxxxxxxxxxxx.xxx.com\r\n";
    assert_int_equal(vk_proto_smtp.probe(&f, VK_DIR_SRC, (const uint8_t *)ehlo, sizeof ehlo - 1), 3);
    struct vk_flow_view g = {.family = 4, .ipproto = 6, .port = {51009, 8000}};
    static const char helo[] = "HELO\r\nDATA\r\n";
    assert_int_equal(vk_proto_smtp.probe(&g, VK_DIR_SRC, (const uint8_t *)helo, sizeof helo - 1), 0);
    struct vk_flow_view h = {.family = 4, .ipproto = 6, .port = {43958, 21}};
    static const char ftp[] = "220 Welcome to mirrors.rit.edu.\r\n";
    assert_int_equal(vk_proto_smtp.probe(&h, VK_DIR_DST, (const uint8_t *)ftp, sizeof ftp - 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zip),
        cmocka_unit_test(test_subjects),
        cmocka_unit_test(test_utf8q_hash),
        cmocka_unit_test(test_auth_plain),
        cmocka_unit_test(test_bof),
        cmocka_unit_test(test_nospaces),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_two_mails),
        cmocka_unit_test(test_names_in_sequence),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_decrypted),
        cmocka_unit_test(test_quoted_printable),
        cmocka_unit_test(test_rfc2231_name),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_truncated_attachment),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
