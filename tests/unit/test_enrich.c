/* test_enrich.c — the enrich stage piece by piece: normalisation, the matcher (LPM v4/v6,
 * parent domains, URLs), each feed format with good and malformed input (exact error
 * text), warninglists, the cache, assets, the priority formula and apply(). Inputs are
 * written to a temporary data dir; corpus feeds and captures are in test_enrich_corpus.c. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_test.h"
#include "enrich/enrich_int.h"
#include "enrich_test.h"

static char tmpdir[256];

static const char *tpath(const char *name)
{
    static char b[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", tmpdir, name);
    return b[k];
}

static const char *put(const char *name, const char *text)
{
    const char *p = tpath(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static struct feedset *parse(const char *name, enum vk_enrich_fmt fmt, const char *text, const char *columns,
                             char *err, size_t errlen)
{
    struct feed_opts o = {.name = "t", .fmt = fmt, .columns = columns, .confidence = -1};
    return feed_parse_mem(text, strlen(text), name, &o, err, errlen);
}

static const char *cls(const char *in, enum ioc_type hint, enum ioc_type *t)
{
    static char out[IOC_MAX + 64];
    size_t n;
    *t = ioc_classify(in, strlen(in), hint, out, sizeof out, &n);
    return *t ? out : "";
}

/* ---- normalisation ------------------------------------------------------------------- */
static void test_classify(void **st)
{
    (void)st;
    enum ioc_type t;
    assert_string_equal(cls("10.1.2.3", IOC_NONE, &t), "10.1.2.3");
    assert_int_equal(t, IOC_IP);
    assert_string_equal(cls("10.1.2.3/8", IOC_NONE, &t), "10.0.0.0/8"); /* host bits cleared */
    assert_string_equal(cls("10.1.2.3/32", IOC_NONE, &t), "10.1.2.3");
    assert_string_equal(cls("2001:DB8:0:0::1", IOC_NONE, &t), "2001:db8::1");
    assert_string_equal(cls("2001:db8::1/32", IOC_NONE, &t), "2001:db8::/32");
    assert_string_equal(cls("6.6.6.6:8443", IOC_NONE, &t), "6.6.6.6:8443");
    assert_int_equal(t, IOC_IPPORT);
    assert_string_equal(cls("[dead::beef]:443", IOC_NONE, &t), "[dead::beef]:443");
    assert_int_equal(t, IOC_IPPORT);
    assert_string_equal(cls("Evil.COM.", IOC_NONE, &t), "evil.com");
    assert_int_equal(t, IOC_DOMAIN);
    assert_string_equal(cls("*.evil.com", IOC_NONE, &t), "evil.com");
    assert_string_equal(cls("evilname", IOC_NONE, &t), "evilname");
    assert_string_equal(cls("http://195.10.205.207", IOC_NONE, &t), "195.10.205.207"); /* host-only URL */
    assert_int_equal(t, IOC_IP);
    assert_string_equal(cls("https://Evil.com:443/", IOC_NONE, &t), "evil.com");
    assert_int_equal(t, IOC_DOMAIN);
    assert_string_equal(cls("http://1.2.3.4:8080/", IOC_NONE, &t), "1.2.3.4:8080");
    assert_int_equal(t, IOC_IPPORT);
    assert_string_equal(cls("HTTP://user@Evil.COM:80/a/%7euser/%2f?q=%41#frag", IOC_NONE, &t),
                        "evil.com/a/~user/%2F?q=A");
    assert_int_equal(t, IOC_URL);
    assert_string_equal(cls("https://evil.com:8443/x", IOC_NONE, &t), "evil.com:8443/x");
    assert_string_equal(cls("evil-url.example/bad/path", IOC_NONE, &t), "evil-url.example/bad/path");
    assert_int_equal(t, IOC_URL);
    assert_string_equal(cls("/malicious-login.php", IOC_NONE, &t), "/malicious-login.php");
    assert_int_equal(t, IOC_PATH);
    assert_string_equal(cls("D41D8CD98F00B204E9800998ECF8427E", IOC_NONE, &t), "d41d8cd98f00b204e9800998ecf8427e");
    assert_int_equal(t, IOC_MD5);
    assert_string_equal(cls("da39a3ee5e6b4b0d3255bfef95601890afd80709", IOC_NONE, &t),
                        "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_int_equal(t, IOC_SHA1);
    assert_string_equal(cls("dga[0-9]+\\.wildcard-test\\.com", IOC_NONE, &t), "dga[0-9]+\\.wildcard-test\\.com");
    assert_int_equal(t, IOC_REGEX);
    assert_string_equal(cls("Bad@Evil.com", IOC_NONE, &t), "bad@evil.com");
    assert_int_equal(t, IOC_EMAIL);
    /* refusals */
    cls("not a domain!", IOC_NONE, &t);
    assert_int_equal(t, IOC_NONE);
    cls("a..b", IOC_NONE, &t);
    assert_int_equal(t, IOC_NONE);
    cls("10.0.0.300", IOC_IP, &t);
    assert_int_equal(t, IOC_NONE);
    cls("1.2.3.4/33", IOC_IP, &t);
    assert_int_equal(t, IOC_NONE);
    cls("abc", IOC_SHA256, &t);
    assert_int_equal(t, IOC_NONE);
    cls("213.165.60.118:22:443", IOC_NONE, &t); /* a maltrail line we skip */
    assert_int_equal(t, IOC_NONE);
}

/* Plain readings of the rules, to check the vectorised parsers against: an IPv4 address is
 * four parts of 1-3 digits, each <= 255, joined by dots; a name is lower-cased, bytes from
 * [a-z0-9._-] and >= 0x80 only, and no empty label. */
static bool ref_ip4(const char *s, size_t n, uint32_t *out)
{
    uint32_t ip = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || s[i++] != '.')) return false;
        unsigned v = 0, d = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && d < 4) v = v * 10 + (unsigned)(s[i++] - '0'), d++;
        if (d == 0 || d > 3 || v > 255) return false;
        ip = ip << 8 | v;
    }
    if (i != n) return false;
    *out = ip;
    return true;
}

static size_t ref_domain(const char *s, size_t n, char *out)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.') s += 2, n -= 2;
    else if (n >= 1 && s[0] == '.') s++, n--;
    while (n && s[n - 1] == '.') n--;
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c >= 0x80;
        if (!ok || (c == '.' && (i == 0 || s[i - 1] == '.'))) return 0;
        out[i] = (char)c;
    }
    out[n] = 0;
    return n;
}

static uint64_t xs(uint64_t *r)
{
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    return *r;
}

static void test_ip4_and_names(void **st)
{
    (void)st;
    static const struct {
        const char *s;
        uint32_t ip; /* 0: refused */
    } ips[] = {
        {"1.2.3.4", 0x01020304},       {"255.255.255.255", 0xffffffff}, {"10.0.0.1", 0x0a000001},
        {"192.168.100.200", 0xc0a864c8}, {"01.02.003.4", 0x01020304},   {"0.0.0.1", 1},
        {"256.1.1.1", 0},              {"1.2.3", 0},                    {"1.2.3.4.", 0},
        {".1.2.3.4", 0},               {"1..2.3", 0},                   {"1.2.3.4.5", 0},
        {"1.2.3.1234", 0},             {"1.2.3.-4", 0},                 {"1.2.3.4 ", 0},
        {"1.2.3.4a", 0},               {"1234.1.1.1", 0},               {"1.2.3.999", 0},
    };
    for (size_t i = 0; i < sizeof ips / sizeof *ips; i++) {
        uint32_t v = 0;
        bool ok = ioc_ip4(ips[i].s, strlen(ips[i].s), &v);
        if (ok != (ips[i].ip != 0) || (ok && v != ips[i].ip)) fail_msg("ioc_ip4(\"%s\"): %d %08x", ips[i].s, ok, v);
    }
    /* the length given is the end: the bytes after it are not part of the address */
    uint32_t v;
    assert_true(ioc_ip4("10.1.2.34", 8, &v));
    assert_int_equal(v, 0x0a010203);
    assert_false(ioc_ip4("10.1.2.", 7, &v));
    char d[64];
    assert_int_equal(ioc_norm_domain("WWW.Example.COM.", 16, d, sizeof d), 15);
    assert_string_equal(d, "www.example.com");
    assert_int_equal(ioc_norm_domain("a-very-long-label-name.with_underscore.Example.Org", 50, d, sizeof d), 50);
    assert_string_equal(d, "a-very-long-label-name.with_underscore.example.org");
    assert_int_equal(ioc_norm_domain("abcdefghijklmnop..x.com", 23, d, sizeof d), 0); /* ".." across 16 bytes */
    assert_int_equal(ioc_norm_domain("abcdefghijklmno..x.com", 22, d, sizeof d), 0);
    assert_int_equal(ioc_norm_domain("abcdefghijklmno..qrstuvwxyzabcdef.com", 37, d, sizeof d), 0);
    assert_int_equal(ioc_norm_domain("exa mple.com", 12, d, sizeof d), 0);
    assert_int_equal(ioc_norm_domain("\xc3\xa9t\xc3\xa9.example", 12, d, sizeof d), 12); /* raw UTF-8 kept */
    /* random values against the plain readings: well-formed ones (random parts and labels),
     * half of them then damaged by one random byte; lengths 1-83 */
    static const char lab[] = "abcXYZ019-_\xc3", junk[] = "0123456789.abcXYZ-_\x80\xff@ /:*";
    uint64_t r = 0x2545F4914F6CDD1Dull;
    char buf[96], o1[96], o2[96];
    unsigned nip = 0, ndom = 0;
    for (int it = 0; it < 400000; it++) {
        bool ip = it & 1;
        size_t n = 0;
        if (ip) {
            for (int p = 0; p < 4; p++) n += (size_t)snprintf(buf + n, sizeof buf - n, p ? ".%u" : "%u", (unsigned)(xs(&r) % 300));
        } else {
            for (int l = 0, nl = 1 + (int)(xs(&r) % 4); l < nl; l++) {
                if (l) buf[n++] = '.';
                for (int k = 0, kl = 1 + (int)(xs(&r) % 20); k < kl; k++) buf[n++] = lab[xs(&r) % (sizeof lab - 1)];
            }
        }
        if (xs(&r) % 2) {
            size_t at = xs(&r) % n;
            buf[at] = junk[xs(&r) % (sizeof junk - 1)];
        }
        if (ip) {
            uint32_t a = 0, b = 0;
            bool x = ioc_ip4(buf, n, &a), y = ref_ip4(buf, n, &b);
            if (x != y || a != b) fail_msg("ioc_ip4(\"%.*s\"): %d %08x, expected %d %08x", (int)n, buf, x, a, y, b);
            nip += y;
        } else {
            size_t x = ioc_norm_domain(buf, n, o1, sizeof o1), y = ref_domain(buf, n, o2);
            if (x != y || (x && memcmp(o1, o2, x + 1))) fail_msg("ioc_norm_domain(\"%.*s\"): %zu, expected %zu", (int)n, buf, x, y);
            ndom += y > 0;
        }
    }
    assert_true(nip > 50000 && nip < 150000 && ndom > 100000 && ndom < 195000); /* valid and refused both */
}

static void test_url_norm(void **st)
{
    (void)st;
    char out[256];
    size_t po;
    /* record values as http.uri holds them: host + target */
    assert_int_equal(ioc_norm_url("Evil.com:80/a%2db?x=1", 21, out, sizeof out, &po), strlen("evil.com/a-b?x=1"));
    assert_string_equal(out, "evil.com/a-b?x=1");
    assert_int_equal(po, 8);
    ioc_norm_url("[2001:DB8::1]:8080/x", 20, out, sizeof out, &po);
    assert_string_equal(out, "[2001:db8::1]:8080/x");
    ioc_norm_url("evil.com", 8, out, sizeof out, &po);
    assert_string_equal(out, "evil.com/");
    ioc_norm_url("ftp://h.example:21/f%20g", 24, out, sizeof out, &po);
    assert_string_equal(out, "h.example/f%20g");
    assert_int_equal(ioc_norm_url("http://:80/x", 12, out, sizeof out, &po), 0); /* no host */
    assert_int_equal(ioc_norm_url("evil.com:8x/", 12, out, sizeof out, &po), 0); /* bad port */
}

/* ---- the matcher ------------------------------------------------------------------------ */
static void test_lpm(void **st)
{
    (void)st;
    char err[512];
    struct feedset *a = parse("a.txt", VK_ENRICH_LIST,
                              "10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n192.168.1.0/24\n0.0.0.0/1\n255.255.255.255\n"
                              "2001:db8::/32\n2001:db8:1::/48\n2001:db8:1::5\n",
                              NULL, err, sizeof err);
    struct feedset *b = parse("b.txt", VK_ENRICH_LIST, "10.1.0.0/16\n10.1.2.0/24\n", NULL, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    struct feedset *fs[] = {a, b};
    struct matcher *m = build(fs, 2);
    uint32_t ids[8];
    unsigned n = match_ip4(m, v4("10.1.2.3"), ids, 8);
    /* the most specific prefix of each feed: 10.1.2.3 from a, 10.1.2.0/24 from b */
    assert_int_equal(n, 2);
    assert_string_equal(val_of(m, ids[0]), "10.1.2.3");
    assert_string_equal(val_of(m, ids[1]), "10.1.2.0/24");
    n = match_ip4(m, v4("10.1.2.4"), ids, 8);
    assert_int_equal(n, 2);
    assert_string_equal(val_of(m, ids[0]), "10.1.2.0/24");
    assert_string_equal(val_of(m, ids[1]), "10.1.0.0/16");
    n = match_ip4(m, v4("10.1.9.9"), ids, 8);
    assert_int_equal(n, 2); /* both feeds' /16 */
    n = match_ip4(m, v4("10.200.0.1"), ids, 8);
    assert_int_equal(n, 1);
    assert_string_equal(val_of(m, ids[0]), "10.0.0.0/8");
    assert_int_equal(match_ip4(m, v4("11.0.0.0"), ids, 8), 1); /* 0.0.0.0/1 */
    assert_string_equal(val_of(m, ids[0]), "0.0.0.0/1");
    assert_int_equal(match_ip4(m, v4("128.0.0.0"), ids, 8), 0);
    assert_int_equal(match_ip4(m, v4("192.168.1.255"), ids, 8), 1);
    assert_int_equal(match_ip4(m, v4("192.168.2.0"), ids, 8), 0);
    assert_int_equal(match_ip4(m, v4("255.255.255.255"), ids, 8), 1);
    assert_int_equal(match_ip4(m, v4("255.255.255.254"), ids, 8), 0);
    struct ipnet net;
    assert_true(ioc_parse_ip("2001:db8:1::5", 13, &net));
    assert_int_equal(match_ip6(m, net.a, ids, 8), 1);
    assert_string_equal(val_of(m, ids[0]), "2001:db8:1::5");
    assert_true(ioc_parse_ip("2001:db8:1::6", 13, &net));
    assert_int_equal(match_ip6(m, net.a, ids, 8), 1);
    assert_string_equal(val_of(m, ids[0]), "2001:db8:1::/48");
    assert_true(ioc_parse_ip("2001:db8:2::1", 13, &net));
    assert_string_equal(val_of(m, ids[match_ip6(m, net.a, ids, 8) - 1]), "2001:db8::/32");
    assert_true(ioc_parse_ip("2001:db9::1", 11, &net));
    assert_int_equal(match_ip6(m, net.a, ids, 8), 0);
    matcher_free(m);
    fs_unref(a);
    fs_unref(b);
}

static void test_domains(void **st)
{
    (void)st;
    char err[512];
    struct feedset *a = parse("a.txt", VK_ENRICH_LIST,
                              "evil.com\nsub.evil-parent.com\nevil-parent.com\nhttp://x.example/a/b?c=1\n/only/path\n"
                              "d41d8cd98f00b204e9800998ecf8427e\n",
                              NULL, err, sizeof err);
    assert_non_null(a);
    struct feedset *fs[] = {a};
    struct matcher *m = build(fs, 1);
    uint32_t ids[8];
    assert_int_equal(match_domain(m, "evil.com", 8, ids, 8), 1);
    assert_int_equal(match_domain(m, "a.b.evil.com", 12, ids, 8), 1);
    assert_string_equal(val_of(m, ids[0]), "evil.com");
    assert_int_equal(match_domain(m, "notevil.com", 11, ids, 8), 0);
    assert_int_equal(match_domain(m, "evil.com.au", 11, ids, 8), 0);
    assert_int_equal(match_domain(m, "com", 3, ids, 8), 0);
    /* the most specific of one feed wins */
    assert_int_equal(match_domain(m, "x.sub.evil-parent.com", 21, ids, 8), 1);
    assert_string_equal(val_of(m, ids[0]), "sub.evil-parent.com");
    assert_int_equal(match_domain(m, "www.evil-parent.com", 19, ids, 8), 1);
    assert_string_equal(val_of(m, ids[0]), "evil-parent.com");
    assert_int_equal(match_str(m, IOC_URL, "x.example/a/b?c=1", 17, ids, 8), 1);
    assert_int_equal(match_str(m, IOC_URL, "x.example/a/b", 13, ids, 8), 0);
    assert_int_equal(match_str(m, IOC_PATH, "/only/path", 10, ids, 8), 1);
    assert_int_equal(match_str(m, IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e", 32, ids, 8), 1);
    assert_int_equal(match_str(m, IOC_SHA256, "d41d8cd98f00b204e9800998ecf8427e", 32, ids, 8), 0); /* typed */
    assert_int_equal(m->dom_labels, 1u << 2 | 1u << 3);
    matcher_free(m);
    fs_unref(a);
}

/* A regex trail glibc would compile into gigabytes (a quantifier on a quantifier, found by
 * fuzz_feed) is skipped; the feed's other regex trails still match. */
static void test_costly_regex_trail(void **st)
{
    (void)st;
    char err[512], bomb[200];
    int k = snprintf(bomb, sizeof bomb, "torrent-vnc.ddns");
    while (k < 150) bomb[k++] = '+';
    snprintf(bomb + k, sizeof bomb - (size_t)k, ".net\ndga[0-9]+\\.wildcard-test\\.com\n");
    struct feedset *a = parse("t.txt", VK_ENRICH_LIST, bomb, NULL, err, sizeof err);
    assert_non_null(a);
    struct feedset *fs[] = {a};
    struct matcher *m = build(fs, 1); /* took > 4 GB before */
    assert_int_equal(m->nrx, 1); /* the other trail */
    assert_int_equal(regexec(&m->rx[0].re, "dga42.wildcard-test.com", 0, NULL, 0), 0);
    matcher_free(m);
    fs_unref(a);
}

/* The literals that spare regexec calls: a group of plain alternatives when it beats the
 * longest plain run (maltrail's DGA lists, whose only run is "."), the run otherwise;
 * nothing for an optional group or a top-level '|'. */
static void must_is(const struct matcher *m, const char *trail, const char *want, size_t wantlen)
{
    for (unsigned i = 0; i < m->nrx; i++) {
        const struct fs_ind *ind = match_ind(m, m->rx[i].id);
        if (strcmp(fs_s(m->fs[ID_FEED(m->rx[i].id)], ind->val), trail)) continue;
        assert_memory_equal(m->rx[i].must, want, wantlen);
        return;
    }
    fail_msg("trail %s not kept as a regex", trail);
}

static void test_regex_prefilter(void **st)
{
    (void)st;
    char err[512];
    struct feedset *a = parse("t.txt", VK_ENRICH_LIST,
                              "(abcd|EFGH)\\.[a-z0-9._-]+\nnutqauytva[0-9a-z]+\\.com\n(ab|cdef)x\\.com\n"
                              "(abcd|efgh)?\\.com\n(abcd|efgh)|x[0-9]+\\.com\n((abcd|efgh)1)[0-9]+\\.org\n",
                              NULL, err, sizeof err);
    assert_non_null(a);
    struct feedset *fs[] = {a};
    struct matcher *m = build(fs, 1);
    assert_int_equal(m->nrx, 6);
    must_is(m, "(abcd|EFGH)\\.[a-z0-9._-]+", "abcd\0efgh\0", 11); /* lower-cased */
    must_is(m, "nutqauytva[0-9a-z]+\\.com", "nutqauytva\0", 12);
    must_is(m, "(ab|cdef)x\\.com", "x.com\0", 7);
    must_is(m, "(abcd|efgh)?\\.com", ".com\0", 6);
    must_is(m, "(abcd|efgh)|x[0-9]+\\.com", "\0", 2);
    must_is(m, "((abcd|efgh)1)[0-9]+\\.org", ".org\0", 6);
    /* literals of 4 bytes and more everywhere but in the trail with a top-level '|' */
    unsigned g4 = 0;
    for (unsigned i = 0; i < m->nrx; i++) {
        g4 += m->rx[i].gram4;
        assert_true(m->rx[i].gram4 == (m->rx[i].must[0] != 0));
    }
    assert_int_equal(g4, 5);
    unsigned bit = rxgram_bit("efgh");
    assert_true(m->rxgram[bit >> 6] >> (bit & 63) & 1);
    matcher_free(m);
    fs_unref(a);
    /* a group too long for the list is not cut (a cut could drop an alternative): the run */
    char big[1000];
    size_t k = 0;
    big[k++] = '(';
    for (int i = 0; i < 110; i++) k += (size_t)snprintf(big + k, sizeof big - k, "%sq%04d", i ? "|" : "", i);
    snprintf(big + k, sizeof big - k, ")\\.com\n");
    a = parse("t.txt", VK_ENRICH_LIST, big, NULL, err, sizeof err);
    assert_non_null(a);
    fs[0] = a;
    m = build(fs, 1);
    assert_int_equal(m->nrx, 1);
    assert_memory_equal(m->rx[0].must, ".com\0", 6);
    matcher_free(m);
    fs_unref(a);
}

/* ---- formats: good input ---------------------------------------------------------------------- */
static void test_list(void **st)
{
    (void)st;
    char err[512];
    struct feedset *f = parse("zeus.txt", VK_ENRICH_LIST,
                              "# Copyright\n# Aliases: zbot, zeus\n\n5.63.151.0/24 # scanners\nevil.com\r\n"
                              "  bad.example\tcomment\n%%%\n",
                              NULL, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->skipped, 1);
    assert_string_equal(f->note, "zeus.txt line 7: skipped '%%%'");
    assert_string_equal(fs_s(f, f->meta[f->ind[1].meta].cat), "zeus");
    assert_string_equal(fs_s(f, f->meta[f->ind[1].meta].desc), "zeus (aliases: zbot, zeus)");
    assert_string_equal(fs_s(f, f->ind[2].val), "bad.example");
    fs_unref(f);
}

static void test_csv(void **st)
{
    (void)st;
    char err[512];
    /* a header row names the roles; an extra column maps to a meta key */
    struct feedset *f = parse("f.csv", VK_ENRICH_CSV,
                              "ip,threat.category,threat.desc,threat.confidence,user\n"
                              "1.2.3.4,botnet,\"c2, \"\"big\"\"\",90,alice\n"
                              "# comment\n"
                              "10.0.0.0/8,scan,,20,\n",
                              NULL, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(f->n, 2);
    const struct fs_meta *m = &f->meta[f->ind[0].meta];
    assert_string_equal(fs_s(f, m->cat), "botnet");
    assert_string_equal(fs_s(f, m->desc), "c2, \"big\"");
    assert_int_equal(m->conf, 90);
    assert_string_equal(fs_s(f, m->extra), "user\x1f" "alice\x1e");
    assert_string_equal(fs_s(f, f->ind[1].val), "10.0.0.0/8");
    fs_unref(f);
    /* --columns, tab-separated, a typed index column */
    f = parse("f.tsv", VK_ENRICH_CSV, "x\tevil.com\tphish\nx\tbad.org\tmal\n", "-,domain,threat.category", err,
              sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(f->n, 2);
    assert_string_equal(fs_s(f, f->meta[f->ind[1].meta].cat), "mal");
    fs_unref(f);
    /* no header: indicator, category, desc (maltrail's trails.csv) */
    f = parse("trails.csv", VK_ENRICH_CSV, "evil-test-domain.com,malware (test),(static)\n6.6.6.6:8443,x,y\n", NULL,
              err, sizeof err);
    assert_non_null(f);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->ind[1].type, IOC_IPPORT);
    fs_unref(f);
}

static void test_stix(void **st)
{
    (void)st;
    char err[512];
    const char *b =
        "{\"type\":\"bundle\",\"objects\":["
        "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"name\":\"C2\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4'] OR "
        "[domain-name:value = 'evil.com']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\","
        "\"indicator_types\":[\"malicious-activity\"],\"confidence\":85},"
        "{\"type\":\"indicator\",\"id\":\"indicator--2\",\"pattern\":\"[file:hashes.'SHA-256' = "
        "'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c' AND file:name = 'x.exe']\","
        "\"valid_from\":\"2020-01-01T00:00:00Z\",\"valid_until\":\"2021-01-01T00:00:00.500Z\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--3\",\"pattern\":\"[ipv4-addr:value = '5.5.5.5' AND "
        "network-traffic:dst_port = 80]\",\"valid_from\":\"2020-01-01T00:00:00Z\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--4\",\"pattern\":\"[ipv4-addr:value ISSUBSET '10.0.0.0/8']\","
        "\"valid_from\":\"2020-01-01T00:00:00Z\"},"
        "{\"type\":\"malware\",\"id\":\"malware--9\",\"name\":\"Poison Ivy\"},"
        "{\"type\":\"relationship\",\"relationship_type\":\"indicates\",\"source_ref\":\"indicator--4\","
        "\"target_ref\":\"malware--9\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--5\",\"pattern\":\"[x:y = 1]\",\"pattern_type\":\"sigma\"}"
        "]}";
    struct feedset *f = parse("b.json", VK_ENRICH_STIX, b, NULL, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(f->n, 4); /* 1.2.3.4, evil.com, the hash (AND with a name), 10.0.0.0/8 */
    assert_int_equal(f->unsupported, 3); /* file:name part, the AND'ed IP, the sigma pattern */
    assert_string_equal(fs_s(f, f->meta[f->ind[0].meta].cat), "malicious-activity");
    assert_int_equal(f->meta[f->ind[0].meta].conf, 85);
    assert_int_equal(f->ind[2].type, IOC_SHA256);
    assert_int_equal(f->meta[f->ind[2].meta].expires_ms, 1609459200500);
    assert_string_equal(fs_s(f, f->meta[f->ind[3].meta].cat), "Poison Ivy");
    assert_string_equal(fs_s(f, f->ind[3].val), "10.0.0.0/8");
    fs_unref(f);
}

static void test_misp(void **st)
{
    (void)st;
    char err[512];
    const char *ev = "{\"Event\":{\"uuid\":\"e-1\",\"info\":\"Campaign X\",\"Tag\":[{\"name\":"
                     "\"misp-galaxy:malpedia=\\\"Emotet\\\"\"}],\"Attribute\":["
                     "{\"type\":\"ip-dst\",\"value\":\"1.2.3.4\",\"to_ids\":true},"
                     "{\"type\":\"domain|ip\",\"value\":\"evil.com|5.6.7.8\",\"to_ids\":false},"
                     "{\"type\":\"ip-dst|port\",\"value\":\"9.9.9.9|8080\"},"
                     "{\"type\":\"filename|sha1\",\"value\":\"a.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709\"},"
                     "{\"type\":\"regkey\",\"value\":\"HKLM\\\\x\"},"
                     "{\"type\":\"ip-src\",\"value\":\"7.7.7.7\",\"deleted\":true}],"
                     "\"Object\":[{\"Attribute\":[{\"type\":\"url\",\"value\":\"http://evil.com/gate.php\","
                     "\"comment\":\"panel\"}]}]}}";
    struct feedset *f = parse("e.json", VK_ENRICH_MISP, ev, NULL, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(f->n, 6);
    assert_int_equal(f->unsupported, 1);
    assert_string_equal(fs_s(f, f->ind[0].val), "1.2.3.4");
    assert_int_equal(f->meta[f->ind[0].meta].conf, 75);
    assert_int_equal(f->meta[f->ind[1].meta].conf, 50);
    assert_string_equal(fs_s(f, f->meta[f->ind[0].meta].cat), "Emotet");
    assert_string_equal(fs_s(f, f->meta[f->ind[0].meta].desc), "Campaign X");
    assert_string_equal(fs_s(f, f->ind[2].val), "5.6.7.8");
    assert_string_equal(fs_s(f, f->ind[3].val), "9.9.9.9:8080");
    assert_int_equal(f->ind[4].type, IOC_SHA1);
    assert_string_equal(fs_s(f, f->ind[5].val), "evil.com/gate.php");
    assert_string_equal(fs_s(f, f->meta[f->ind[5].meta].desc), "Campaign X: panel");
    fs_unref(f);
    /* the MISP API response form */
    f = parse("r.json", VK_ENRICH_MISP,
              "{\"response\":[{\"Event\":{\"info\":\"a\",\"Attribute\":[{\"type\":\"md5\",\"value\":"
              "\"d41d8cd98f00b204e9800998ecf8427e\"}]}},{\"Event\":{\"info\":\"b\",\"Attribute\":[]}}]}",
              NULL, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(f->n, 1);
    fs_unref(f);
}

/* ---- formats: malformed input, exact messages ---------------------------------------------------- */
static void expect_err(enum vk_enrich_fmt fmt, const char *name, const char *text, const char *columns,
                       const char *want)
{
    char err[512] = "";
    struct feedset *f = parse(name, fmt, text, columns, err, sizeof err);
    if (f) fail_msg("%s parsed, expected: %s", name, want);
    assert_string_equal(err, want);
}

static void test_bad_feeds(void **st)
{
    (void)st;
    expect_err(VK_ENRICH_CSV, "bad.csv", "ip,threat.category\n1.2.3.4,\"unterminated\n5.6.7.8,x\n", NULL,
               "feed 't': bad.csv line 2: unterminated quoted field");
    expect_err(VK_ENRICH_CSV, "bad.csv", "ip,threat.category\n1.2.3.4,x\nnot-an-ip,y\n", NULL,
               "feed 't': bad.csv line 3: column 1 (ip): not a valid ip: 'not-an-ip'");
    expect_err(VK_ENRICH_CSV, "bad.csv", "a,b\n\"x\"y,z\n", "indicator,-",
               "feed 't': bad.csv line 2: column 1: text after the closing quote");
    expect_err(VK_ENRICH_CSV, "bad.csv", "x,1.2.3.4,200\n", "-,ip,threat.confidence",
               "feed 't': bad.csv line 1: column 3 (threat.confidence): not a number 0-100: '200'");
    expect_err(VK_ENRICH_CSV, "bad.csv", "x\n", "-,ip",
               "feed 't': bad.csv line 1: 1 column, the indicator is column 2");
    expect_err(VK_ENRICH_CSV, "bad.csv", "x\n", "ip,ip.scr",
               "feed 't': --columns: column 2: unknown role 'ip.scr' (an indicator type, threat.category, "
               "threat.desc, threat.confidence, a meta key or '-')");
    expect_err(VK_ENRICH_LIST, "page.txt", "<html>\n<body>Not found</body>\n", NULL,
               "feed 't': page.txt: no indicator in 2 lines (first: '<html>'): not a list?");
    expect_err(VK_ENRICH_STIX, "s.json", "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\"", NULL,
               "feed 't': not JSON: s.json line 1 column 47: '}' expected near end of file");
    expect_err(VK_ENRICH_STIX, "s.json",
               "{\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--7\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4'\"}]}",
               NULL, "feed 't': s.json: object 1 (indicator--7): bad pattern '[ipv4-addr:value = '1.2.3.4'': unbalanced '['");
    expect_err(VK_ENRICH_STIX, "s.json", "{\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--8\"}]}", NULL,
               "feed 't': s.json: object 1 (indicator--8): indicator without a pattern");
    expect_err(VK_ENRICH_STIX, "s.json",
               "{\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--9\",\"pattern\":\"[url:value = 'x']\","
               "\"valid_until\":\"yesterday\"}]}",
               NULL, "feed 't': s.json: object 1 (indicator--9): valid_until is not a timestamp: 'yesterday'");
    expect_err(VK_ENRICH_STIX, "s.json", "{\"type\":\"report\"}", NULL,
               "feed 't': s.json: not a STIX bundle (no \"objects\" array)");
    expect_err(VK_ENRICH_MISP, "m.json", "{\"Event\":{\"uuid\":\"u-1\",\"Attribute\":[{\"type\":\"ip-dst\"}]}}",
               NULL, "feed 't': m.json: Event 1 (u-1): Attribute 1: no value");
    expect_err(VK_ENRICH_MISP, "m.json", "{\"Event\":{\"uuid\":\"u-1\",\"Attribute\":{}}}", NULL,
               "feed 't': m.json: Event 1 (u-1): \"Attribute\" is not an array");
    expect_err(VK_ENRICH_MISP, "m.json", "{\"Event\":[1,2]", NULL,
               "feed 't': not JSON: m.json line 1 column 14: '}' expected near end of file");
    expect_err(VK_ENRICH_MISP, "m.json", "{\"events\":[]}", NULL,
               "feed 't': m.json: not a MISP event (no \"Event\" object or \"response\" list)");
    expect_err(VK_ENRICH_WARNINGLIST, "w.json", "{\"name\":\"x\",\"list\":[]}", NULL,
               "feed 't': w.json: not a MISP warninglist (needs \"type\" and a \"list\" array)");
    expect_err(VK_ENRICH_WARNINGLIST, "w.json", "{\"name\":\"x\",\"type\":\"cidr\",\"list\":[\"1.2.3.0/24\",7]}",
               NULL, "feed 't': w.json: list entry 2: not a string");
}

/* ---- warninglists ------------------------------------------------------------------------------- */
static void test_warninglists(void **st)
{
    (void)st;
    char err[512];
    struct feedset *bad = parse("bad.txt", VK_ENRICH_LIST,
                                "8.8.8.8\n10.1.2.3\n10.0.0.0/8\n9.0.0.0/8\ngoogle.com\nmail.google.com\nevil.com\n"
                                "x.dyn.example\nhttp://gooogle.com/\nuser@mailinator.com\n",
                                NULL, err, sizeof err);
    struct feedset *w1 = parse("w1.json", VK_ENRICH_WARNINGLIST,
                               "{\"name\":\"rfc1918\",\"type\":\"cidr\",\"list\":[\"10.0.0.0/8\",\"192.168.0.0/16\"]}",
                               NULL, err, sizeof err);
    struct feedset *w2 = parse("w2.json", VK_ENRICH_WARNINGLIST,
                               "{\"name\":\"top\",\"type\":\"string\",\"list\":[\"google.com\",\"8.8.8.8\"]}", NULL, err,
                               sizeof err);
    struct feedset *w3 = parse("w3.json", VK_ENRICH_WARNINGLIST,
                               "{\"name\":\"dyn\",\"type\":\"hostname\",\"list\":[\"dyn.example\"]}", NULL, err, sizeof err);
    struct feedset *w4 = parse("w4.json", VK_ENRICH_WARNINGLIST,
                               "{\"name\":\"mail\",\"type\":\"substring\",\"list\":[\"mailinator\"],"
                               "\"matching_attributes\":[\"email-src\"]}",
                               NULL, err, sizeof err);
    assert_non_null(bad);
    assert_non_null(w1);
    assert_non_null(w2);
    assert_non_null(w3);
    assert_non_null(w4);
    assert_true(w1->benign);
    struct feedset *fs[] = {bad, w1, w2, w3, w4};
    struct matcher *m = build(fs, 5);
    /* suppressed: 8.8.8.8 (string), 10.1.2.3 and 10.0.0.0/8 (inside rfc1918), google.com (string),
     * x.dyn.example (hostname: sub-domains too), the e-mail (substring) */
    assert_int_equal(m->suppressed[0], 6);
    assert_int_equal(m->count[0], 4);
    uint32_t ids[4];
    assert_int_equal(match_ip4(m, v4("8.8.8.8"), ids, 4), 0);
    assert_int_equal(match_ip4(m, v4("10.1.2.3"), ids, 4), 0);
    assert_int_equal(match_ip4(m, v4("9.1.1.1"), ids, 4), 1);
    assert_int_equal(match_domain(m, "google.com", 10, ids, 4), 0);
    assert_int_equal(match_domain(m, "mail.google.com", 15, ids, 4), 1); /* a string list is exact */
    assert_int_equal(match_domain(m, "x.dyn.example", 13, ids, 4), 0);
    assert_int_equal(match_domain(m, "a.evil.com", 10, ids, 4), 1);
    /* a benign list never matches by itself */
    assert_int_equal(match_ip4(m, v4("192.168.1.1"), ids, 4), 0);
    matcher_free(m);
    for (int i = 0; i < 5; i++) fs_unref(fs[i]);
}

/* ---- cache round trip ----------------------------------------------------------------------------- */
static void test_cache(void **st)
{
    (void)st;
    char err[512];
    struct feedset *f = parse("f.csv", VK_ENRICH_CSV, "indicator,category,desc\nevil.com,a\tb,line1\\x\n1.2.3.4,,\n", NULL,
                              err, sizeof err);
    assert_non_null(f);
    const char *p = tpath("c.tsv");
    assert_int_equal(feed_cache_save(f, p, err, sizeof err), 0);
    struct feedset *g = feed_cache_load(p, "t", false, err, sizeof err);
    if (!g) fail_msg("%s", err);
    assert_int_equal(g->n, f->n);
    for (uint32_t i = 0; i < f->n; i++) {
        assert_string_equal(fs_s(g, g->ind[i].val), fs_s(f, f->ind[i].val));
        assert_string_equal(fs_s(g, g->meta[g->ind[i].meta].cat), fs_s(f, f->meta[f->ind[i].meta].cat));
        assert_string_equal(fs_s(g, g->meta[g->ind[i].meta].desc), fs_s(f, f->meta[f->ind[i].meta].desc));
    }
    assert_string_equal(fs_s(g, g->meta[g->ind[0].meta].cat), "a\tb");
    fs_unref(g);
    fs_unref(f);
    put("c2.tsv", "#vakt-intel-cache 1\ni\tdomain\t0\tevil.com\n");
    assert_null(feed_cache_load(tpath("c2.tsv"), "t", false, err, sizeof err));
    char want[600];
    snprintf(want, sizeof want, "cache %s line 2: bad indicator line", tpath("c2.tsv"));
    assert_string_equal(err, want);
}

/* ---- data dir: add, apply, assets ------------------------------------------------------------------- */
static bool has_uint(const struct vk_meta *m, enum vk_key k, uint64_t v)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k && m->items[i].u == v) return true;
    return false;
}

/* Regex trails through vk_enrich_apply: each prefilter (a list of alternatives, one literal,
 * none) lets a matching name through and the regex decides; names that hold no literal
 * are skipped without a wrong answer. */
static void test_apply_regex(void **st)
{
    (void)st;
    char err[1024], dd[300];
    snprintf(dd, sizeof dd, "%s/dd-rx", tmpdir);
    const char *feed = put("dga.txt", "(k4restportgonst34d23r|TT54rfdjhb34rfbnknaerg)\\.[a-z0-9._-]+\n"
                                      "nutqauytva[0-9a-z]+\\.com\n"
                                      "(ab|cd)[0-9]+\\.net|x[0-9]+\\.org\n");
    struct vk_enrich_feed_def d = {.name = "dga", .source = feed, .fmt = VK_ENRICH_LIST, .confidence = -1};
    struct vk_enrich_feed_status fst;
    if (vk_enrich_feed_add(dd, &d, &fst, err, sizeof err)) fail_msg("%s", err);
    struct vk_enrich *e = vk_enrich_open(dd, err, sizeof err);
    if (!e) fail_msg("%s", err);
    static const struct {
        const char *host;
        bool hit;
    } cases[] = {
        {"k4restportgonst34d23r.example.com", true}, {"www.tt54rfdjhb34rfbnknaerg.ru", false}, /* anchored */
        {"tt54rfdjhb34rfbnknaerg.ru", true},          {"k4restportgonst34d23.example.com", false},
        {"nutqauytva7x.com", true},                   {"nutqauytva.com", false},
        {"ab12.net", true},                           {"x77.org", true},
        {"ab.net", false},                            {"www.example.com", false},
    };
    struct vk_meta m;
    vk_meta_init(&m);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vk_meta_reset(&m);
        vk_meta_add_cstr(&m, VK_K_DNS_QUERY, cases[i].host);
        vk_enrich_apply(e, &m);
        if (vk_meta_has(&m, VK_K_THREAT_SOURCE) != cases[i].hit)
            fail_msg("%s: %s", cases[i].host, cases[i].hit ? "no hit" : "a hit");
    }
    vk_meta_free(&m);
    vk_enrich_close(e);
}

static void test_apply(void **st)
{
    (void)st;
    char err[1024];
    char dd[300];
    snprintf(dd, sizeof dd, "%s/dd", tmpdir);
    const char *feed = put("feed.csv", "indicator,threat.category,threat.desc,threat.confidence\n"
                                       "198.51.100.0/24,c2,test net,80\n"
                                       "evil.example,phishing,kit,60\n"
                                       "http://evil.example/login.php,phishing,login page,70\n"
                                       "6.6.6.6:8443,botnet,port trail,40\n"
                                       "d41d8cd98f00b204e9800998ecf8427e,malware,empty file,10\n");
    struct vk_enrich_feed_def d = {.name = "unit", .source = feed, .fmt = VK_ENRICH_CSV, .confidence = -1};
    struct vk_enrich_feed_status fst;
    if (vk_enrich_feed_add(dd, &d, &fst, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(fst.count, 5);
    const char *assets = put("assets.csv", "ip,host,name,owner,process,criticality,classification,compliance\n"
                                           "10.0.0.0/8,,corp-lan,it,office,2,internal,\n"
                                           "10.1.2.3,,db01,dba,billing;payroll,5,confidential,PCI;GDPR\n"
                                           ",*.shop.example,shop,web,sales,4,public,PCI\n");
    size_t na;
    if (vk_enrich_assets_import(dd, assets, false, &na, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(na, 3);
    struct vk_enrich *e = vk_enrich_open(dd, err, sizeof err);
    if (!e) fail_msg("%s", err);
    struct vk_meta m;
    vk_meta_init(&m);
    vk_meta_add_uint(&m, VK_K_TIME, 1700000000000ull);
    vk_meta_add_cstr(&m, VK_K_IP_SRC, "10.1.2.3");
    vk_meta_add_cstr(&m, VK_K_IP_DST, "198.51.100.7");
    vk_meta_add_uint(&m, VK_K_PORT_DST, 443);
    vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "www.EVIL.example");
    vk_meta_add_cstr(&m, VK_K_HTTP_URI, "evil.example:80/login%2Ephp");
    vk_meta_add_cstr(&m, VK_K_FILE_MD5, "D41D8CD98F00B204E9800998ECF8427E");
    vk_enrich_apply(e, &m);
    VK_ASSERT_SET(&m, VK_K_THREAT_SOURCE, "unit");
    VK_ASSERT_SET(&m, VK_K_THREAT_CATEGORY, "c2", "phishing", "malware");
    VK_ASSERT_SET(&m, VK_K_THREAT_INDICATOR, "198.51.100.0/24", "evil.example", "evil.example/login.php",
                  "d41d8cd98f00b204e9800998ecf8427e");
    VK_HAS(&m, VK_K_THREAT_MATCH, "unit|ip|198.51.100.0/24|ip.dst");
    VK_HAS(&m, VK_K_THREAT_MATCH, "unit|domain|evil.example|alias.host");
    VK_HAS(&m, VK_K_THREAT_MATCH, "unit|url|evil.example/login.php|http.uri");
    assert_true(has_uint(&m, VK_K_THREAT_CONFIDENCE, 80));
    assert_true(has_uint(&m, VK_K_THREAT_CONFIDENCE, 10));
    VK_ASSERT_SET(&m, VK_K_ASSET_SRC_NAME, "db01");
    assert_false(vk_meta_has(&m, VK_K_ASSET_DST_NAME));
    VK_ASSERT_SET(&m, VK_K_ASSET_PROCESS, "billing", "payroll");
    VK_ASSERT_SET(&m, VK_K_ASSET_COMPLIANCE, "PCI", "GDPR");
    assert_true(has_uint(&m, VK_K_ASSET_CRITICALITY, 5));
    assert_false(vk_meta_has(&m, VK_K_COUNTRY_SRC)); /* private */
    /* ip:port and host-named assets */
    vk_meta_reset(&m);
    vk_meta_add_cstr(&m, VK_K_IP_SRC, "10.9.9.9");
    vk_meta_add_cstr(&m, VK_K_IP_DST, "6.6.6.6");
    vk_meta_add_uint(&m, VK_K_PORT_DST, 8443);
    vk_meta_add_cstr(&m, VK_K_HTTP_HOST, "cart.shop.example");
    vk_enrich_apply(e, &m);
    VK_ASSERT_SET(&m, VK_K_THREAT_INDICATOR, "6.6.6.6:8443");
    VK_ASSERT_SET(&m, VK_K_ASSET_SRC_NAME, "corp-lan");
    VK_ASSERT_SET(&m, VK_K_ASSET_DST_NAME, "shop");
    assert_true(has_uint(&m, VK_K_ASSET_CRITICALITY, 4));
    assert_true(has_uint(&m, VK_K_ASSET_DST_CRITICALITY, 4));
    assert_true(has_uint(&m, VK_K_ASSET_SRC_CRITICALITY, 2));
    /* same port, other IP: nothing */
    vk_meta_reset(&m);
    vk_meta_add_cstr(&m, VK_K_IP_DST, "6.6.6.7");
    vk_meta_add_uint(&m, VK_K_PORT_DST, 8443);
    vk_enrich_apply(e, &m);
    assert_false(vk_meta_has(&m, VK_K_THREAT_SOURCE));
    struct vk_enrich_stats es;
    vk_enrich_get_stats(e, &es);
    assert_int_equal(es.indicators, 5);
    assert_int_equal(es.assets, 3);
    vk_meta_free(&m);
    vk_enrich_close(e);

    /* a bad update keeps the last good version and records the error */
    put("feed.csv", "indicator\n\"broken\n");
    int rc = vk_enrich_update(dd, "unit", true, NULL, NULL, err, sizeof err);
    assert_true(rc < 0);
    assert_string_equal(err, "feed 'unit': feed.csv line 2: unterminated quoted field");
    struct vk_enrich_feed_status *sts;
    size_t ns;
    assert_int_equal(vk_enrich_status(dd, &sts, &ns, err, sizeof err), 0);
    assert_int_equal(ns, 1);
    assert_string_equal(sts[0].error, "feed 'unit': feed.csv line 2: unterminated quoted field");
    assert_int_equal(sts[0].count, 5);
    free(sts);
    e = vk_enrich_open(dd, err, sizeof err);
    vk_meta_init(&m);
    vk_meta_add_cstr(&m, VK_K_DNS_QUERY, "evil.example");
    vk_enrich_apply(e, &m);
    VK_ASSERT_SET(&m, VK_K_THREAT_INDICATOR, "evil.example");
    vk_meta_free(&m);
    vk_enrich_close(e);
    /* assets: bad rows are refused with the row */
    put("a2.csv", "ip,name,criticality\n10.0.0.1,x,7\n");
    assert_int_equal(vk_enrich_assets_import(dd, tpath("a2.csv"), false, &na, err, sizeof err), VK_EINVAL);
    char want[600];
    snprintf(want, sizeof want, "%s row 1: criticality must be a whole number 1-5, not '7'", tpath("a2.csv"));
    assert_string_equal(err, want);
    put("a3.json", "[{\"host\":\"not a host!\",\"name\":\"x\"}]");
    assert_int_equal(vk_enrich_assets_import(dd, tpath("a3.json"), false, &na, err, sizeof err), VK_EINVAL);
    snprintf(want, sizeof want, "%s row 1: 'not a host!' is not an IP, a CIDR or a host name", tpath("a3.json"));
    assert_string_equal(err, want);
    put("a4.csv", "ip,critcality\n10.0.0.1,3\n");
    assert_int_equal(vk_enrich_assets_import(dd, tpath("a4.csv"), false, &na, err, sizeof err), VK_EINVAL);
    snprintf(want, sizeof want,
             "%s: unknown column 'critcality' (known: ip, cidr, host, name, owner, process, criticality, "
             "classification, compliance)",
             tpath("a4.csv"));
    assert_string_equal(err, want);
}

static void test_expiry(void **st)
{
    (void)st;
    char err[1024], dd[300];
    snprintf(dd, sizeof dd, "%s/dd2", tmpdir);
    const char *b = put("exp.json",
                        "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--1\",\"pattern\":"
                        "\"[domain-name:value = 'old.example']\",\"valid_from\":\"2019-01-01T00:00:00Z\","
                        "\"valid_until\":\"2020-01-01T00:00:00Z\"}]}");
    struct vk_enrich_feed_def d = {.name = "stx", .source = b, .fmt = VK_ENRICH_STIX, .confidence = -1};
    if (vk_enrich_feed_add(dd, &d, NULL, err, sizeof err)) fail_msg("%s", err);
    struct vk_enrich *e = vk_enrich_open(dd, err, sizeof err);
    struct vk_meta m;
    vk_meta_init(&m);
    vk_meta_add_uint(&m, VK_K_TIME, 1546300800000ull + 1000); /* 2019-01-01: still valid */
    vk_meta_add_cstr(&m, VK_K_DNS_QUERY, "old.example");
    vk_enrich_apply(e, &m);
    VK_ASSERT_SET(&m, VK_K_THREAT_SOURCE, "stx");
    vk_meta_reset(&m);
    vk_meta_add_uint(&m, VK_K_TIME, 1600000000000ull); /* 2020-09: expired */
    vk_meta_add_cstr(&m, VK_K_DNS_QUERY, "old.example");
    vk_enrich_apply(e, &m);
    assert_false(vk_meta_has(&m, VK_K_THREAT_SOURCE));
    vk_meta_free(&m);
    vk_enrich_close(e);
}

static int news;
static void count_new(void *ud, const struct vk_enrich_ioc *ioc)
{
    (void)ud;
    if (!strcmp(ioc->value, "new.example")) news += 100;
    else news++;
}

static void test_new_diff(void **st)
{
    (void)st;
    char err[1024], dd[300];
    snprintf(dd, sizeof dd, "%s/dd3", tmpdir);
    const char *f = put("l.txt", "a.example\nb.example\n");
    struct vk_enrich_feed_def d = {.name = "lst", .source = f, .fmt = VK_ENRICH_LIST, .confidence = -1};
    if (vk_enrich_feed_add(dd, &d, NULL, err, sizeof err)) fail_msg("%s", err);
    sleep(1); /* a new mtime */
    put("l.txt", "a.example\nb.example\nnew.example\n");
    news = 0;
    assert_int_equal(vk_enrich_update(dd, NULL, false, count_new, NULL, err, sizeof err), 1);
    assert_int_equal(news, 100); /* exactly one new indicator: new.example */
    /* and it was journalled */
    char p[400], *buf;
    size_t n;
    snprintf(p, sizeof p, "%s/intel/new.jsonl", dd);
    assert_int_equal(read_file(p, 1 << 20, &buf, &n, err, sizeof err), 0);
    assert_non_null(strstr(buf, "\"feed\":\"lst\",\"type\":\"domain\",\"value\":\"new.example\""));
    free(buf);
    /* unchanged file: nothing to do */
    assert_int_equal(vk_enrich_update(dd, NULL, false, count_new, NULL, err, sizeof err), 0);
    /* hits file */
    struct vk_enrich_hit h = {.time_ms = 1700000000000, .feed = "lst", .type = "domain", .indicator = "new.example",
                              .key = "dns.query", .session = "abc", .retro = true};
    assert_int_equal(vk_enrich_hit_append(dd, &h, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/intel/hits.jsonl", dd);
    assert_int_equal(read_file(p, 1 << 20, &buf, &n, err, sizeof err), 0);
    assert_string_equal(buf, "{\"time\":1700000000000,\"feed\":\"lst\",\"type\":\"domain\",\"indicator\":\"new.example\","
                             "\"key\":\"dns.query\",\"session\":\"abc\",\"retro\":true}\n");
    free(buf);
}

static void test_priority(void **st)
{
    (void)st;
    assert_int_equal(vk_enrich_priority(5, 5, 100), 100);
    assert_int_equal(vk_enrich_priority(5, 5, 0), 60);
    assert_int_equal(vk_enrich_priority(3, 0, 0), 25);   /* 100*.6*.7*.6 = 25.2 */
    assert_int_equal(vk_enrich_priority(3, 3, 0), 25);   /* unknown criticality counts as 3 */
    assert_int_equal(vk_enrich_priority(4, 5, 80), 74);  /* 100*.8*1*.92 = 73.6 */
    assert_int_equal(vk_enrich_priority(1, 1, 0), 5);    /* 100*.2*.4*.6 = 4.8 */
    assert_int_equal(vk_enrich_priority(0, 9, 500), 20); /* clamped: 1, 5, 100 */
    assert_string_equal(vk_enrich_priority_band(100), "critical");
    assert_string_equal(vk_enrich_priority_band(74), "high");
    assert_string_equal(vk_enrich_priority_band(35), "medium");
    assert_string_equal(vk_enrich_priority_band(25), "low");
    assert_string_equal(vk_enrich_priority_band(5), "info");
}

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vk-test-enrich-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : 0;
}

int main(void)
{
    setenv("VAKT_GEO_DIR", "/nonexistent", 1); /* geo is tested in test_enrich_corpus */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),   cmocka_unit_test(test_ip4_and_names),   cmocka_unit_test(test_url_norm),    cmocka_unit_test(test_lpm),
        cmocka_unit_test(test_domains), cmocka_unit_test(test_costly_regex_trail), cmocka_unit_test(test_regex_prefilter), cmocka_unit_test(test_apply_regex),    cmocka_unit_test(test_list),        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_stix),       cmocka_unit_test(test_misp),        cmocka_unit_test(test_bad_feeds),
        cmocka_unit_test(test_warninglists), cmocka_unit_test(test_cache),     cmocka_unit_test(test_apply),
        cmocka_unit_test(test_expiry),     cmocka_unit_test(test_new_diff),    cmocka_unit_test(test_priority),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
