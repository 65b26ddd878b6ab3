/* test_logarch.c — the log archive (src/store/logarch.c, logarch_read.c) on real lines from
 * ../shared/corpus/logs/bench/Linux.log: refs and get() with expiry, sealing, verify against
 * each kind of tampering (one changed byte in any segment, a deleted, swapped or added
 * segment, an edited or truncated chain), search by time/text/regex, retention by size,
 * age and years, the writer lock, and recovery after a child appending is SIGKILLed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <regex.h>

#include "vk_test.h"

#include "store/vk_logarch.h"

#define H0 1700000000000LL /* 2023-11-14T22:13:20Z */
#define HOUR 3600000LL

/* ---- fixtures ----------------------------------------------------------------------- */

static char **g_lines;
static size_t *g_lens, g_n;

static void load_corpus(void)
{
    if (g_lines) return;
    FILE *f = fopen(vk_test_corpus("logs/bench/Linux.log"), "rb");
    assert_non_null(f);
    char *l = NULL;
    size_t cap = 0;
    ssize_t r;
    size_t n = 0, ncap = 0;
    while ((r = getline(&l, &cap, f)) > 0) {
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 4096;
            g_lines = realloc(g_lines, ncap * sizeof *g_lines);
            g_lens = realloc(g_lens, ncap * sizeof *g_lens);
        }
        if (l[r - 1] == '\n') r--;
        g_lines[n] = malloc((size_t)r + 1);
        memcpy(g_lines[n], l, (size_t)r);
        g_lines[n][r] = 0;
        g_lens[n++] = (size_t)r;
    }
    free(l);
    fclose(f);
    g_n = n;
    assert_int_equal(g_n, 25237);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static char *mkdata(void)
{
    char *d = strdup("/tmp/vk-logarch-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rmdata(char *d)
{
    nftw(d, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

static struct vk_logarch *open_w(const char *d, const struct vk_logarch_cfg *cfg)
{
    char err[512] = "";
    int rc = 0;
    struct vk_logarch *a = vk_logarch_open(d, cfg, err, sizeof err, &rc);
    if (!a) fail_msg("open %s: %s (%d)", d, err, rc);
    return a;
}

/* Run verify; the report in *rep (malloc'd). */
static int verify(const char *d, char **rep)
{
    size_t n;
    FILE *f = open_memstream(rep, &n);
    struct vk_logarch_verify_opt opt = {.deep = true};
    int rc = vk_logarch_verify(d, &opt, f);
    fclose(f);
    return rc;
}

static void expect_verify_ok(const char *d)
{
    char *rep;
    int rc = verify(d, &rep);
    if (rc != 0) fail_msg("verify failed (%d):\n%s", rc, rep);
    free(rep);
}

/* verify must fail and its report must contain every needle. */
static void expect_verify_fails(const char *d, const char *n1, const char *n2)
{
    char *rep;
    int rc = verify(d, &rep);
    if (rc >= 0) fail_msg("verify passed, want %s %s:\n%s", n1, n2 ? n2 : "", rep);
    if (!strstr(rep, n1) || (n2 && !strstr(rep, n2))) fail_msg("report lacks '%s' '%s':\n%s", n1, n2 ? n2 : "", rep);
    free(rep);
}

static void seg_path(const char *d, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/logs/archive/%s", d, name);
}

/* Sorted names of sealed segments. */
static size_t list_segs(const char *d, char names[][64], size_t max)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/logs/archive", d);
    DIR *dd = opendir(dir);
    assert_non_null(dd);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(dd))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".zst") == 0 && n < max) snprintf(names[n++], 64, "%s", de->d_name);
    }
    closedir(dd);
    qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Lines 0..299 of the corpus at H0 + i * 36 s: 3 hours, the last a partial one. */
#define NB 300
static char *build_archive(void)
{
    load_corpus();
    char *d = mkdata();
    struct vk_logarch *a = open_w(d, NULL);
    for (int i = 0; i < NB; i++)
        assert_int_equal(vk_logarch_append(a, H0 + i * 36000LL, "combo", g_lines[i], g_lens[i], NULL), 0);
    assert_int_equal(vk_logarch_close(a), 0);
    return d;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x01;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* ---- search collector --------------------------------------------------------------- */

struct got {
    size_t n;
    int64_t t[4096];
    char *line[4096];
};

static int collect(void *ud, const struct vk_logarch_rec *r)
{
    struct got *g = ud;
    if (g->n < 4096) {
        g->t[g->n] = r->recv_ms;
        g->line[g->n] = strndup((const char *)r->line, r->len);
        g->n++;
    }
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++) free(g->line[i]);
    g->n = 0;
}

static int64_t search(const char *d, int64_t from, int64_t to, const char *pat, bool re, bool icase, struct got *g)
{
    struct vk_logarch_query q = {.from_ms = from, .to_ms = to, .pattern = pat, .regex = re, .icase = icase};
    char err[256] = "";
    got_free(g);
    int64_t n = vk_logarch_search(d, &q, collect, g, err, sizeof err);
    if (n < 0) fail_msg("search: %s", err);
    return n;
}

/* ---- short-term tier ---------------------------------------------------------------- */

static void append_get_exact_bytes(void **st)
{
    (void)st;
    load_corpus();
    char *d = mkdata();
    struct vk_logarch_cfg cfg;
    vk_logarch_cfg_default(&cfg);
    cfg.max_line = 4096;
    struct vk_logarch *a = open_w(d, &cfg);
    enum { N = 2000 };
    static uint64_t ref[N + 4];
    for (int i = 0; i < N; i++)
        assert_int_equal(vk_logarch_append(a, H0 + i, "10.0.0.1:514", g_lines[i], g_lens[i], &ref[i]), 0);
    /* odd bytes: NUL, newline, invalid UTF-8, empty, and a line over max_line (cut) */
    static const uint8_t odd[] = {'a', 0, '\n', 0xff, 0xfe, '\r', 'z'};
    static uint8_t big[10000];
    memset(big, 'B', sizeof big);
    assert_int_equal(vk_logarch_append(a, H0 + N, "udp", odd, sizeof odd, &ref[N]), 0);
    assert_int_equal(vk_logarch_append(a, H0 + N + 1, "", "", 0, &ref[N + 1]), 0);
    assert_int_equal(vk_logarch_append(a, H0 + N + 2, NULL, big, sizeof big, &ref[N + 2]), 0);

    struct vk_buf b;
    vk_buf_init(&b, 1 << 20);
    struct vk_logarch_line info;
    /* still in the write buffer, then after flush: the same bytes */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < N; i += 7) {
            assert_int_equal(vk_logarch_get(a, ref[i], &b, &info), 0);
            assert_int_equal(b.len, g_lens[i]);
            assert_memory_equal(b.p, g_lines[i], b.len);
            assert_int_equal(info.recv_ms, H0 + i);
            assert_string_equal(info.source, "10.0.0.1:514");
            assert_false(info.cut);
        }
        assert_int_equal(vk_logarch_flush(a), 0);
    }
    assert_int_equal(vk_logarch_get(a, ref[N], &b, &info), 0);
    assert_int_equal(b.len, sizeof odd);
    assert_memory_equal(b.p, odd, sizeof odd);
    assert_int_equal(vk_logarch_get(a, ref[N + 1], &b, &info), 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(info.source, "");
    assert_int_equal(vk_logarch_get(a, ref[N + 2], &b, &info), 0);
    assert_int_equal(b.len, 4096);
    assert_true(info.cut);
    /* refs that never named a line */
    assert_int_equal(vk_logarch_get(a, 0, &b, NULL), VK_ENOTFOUND);
    assert_int_equal(vk_logarch_get(a, ref[5] + 1, &b, NULL), VK_ENOTFOUND);
    assert_int_equal(vk_logarch_get(a, ref[5] + (1ull << 32), &b, NULL), VK_ENOTFOUND);
    /* out->max too small */
    struct vk_buf small;
    vk_buf_init(&small, 10);
    assert_int_equal(vk_logarch_get(a, ref[0], &small, NULL), VK_ENOMEM);
    struct vk_logarch_stats s;
    vk_logarch_stats(a, &s);
    assert_int_equal(s.lines, N + 3);
    assert_int_equal(s.lines_cut, 1);
    assert_int_equal(vk_logarch_close(a), 0);

    /* a reader after the writer closed, and a new writer: the same lines */
    struct vk_logarch_cfg ro;
    vk_logarch_cfg_default(&ro);
    ro.readonly = true;
    a = open_w(d, &ro);
    for (int i = 0; i < N; i += 97) {
        assert_int_equal(vk_logarch_get(a, ref[i], &b, &info), 0);
        assert_memory_equal(b.p, g_lines[i], g_lens[i]);
    }
    vk_logarch_close(a);
    a = open_w(d, NULL);
    assert_int_equal(vk_logarch_get(a, ref[N - 1], &b, &info), 0);
    assert_memory_equal(b.p, g_lines[N - 1], g_lens[N - 1]);
    /* a flipped byte inside a record fails its checksum */
    char p[512];
    snprintf(p, sizeof p, "%s/logs/raw/%010u.raw", d, (unsigned)(ref[3] >> 32));
    flip_byte(p, (off_t)(ref[3] & 0xffffffff) + 24 + 12 + 5);
    assert_int_equal(vk_logarch_get(a, ref[3], &b, NULL), VK_EFORMAT);
    vk_logarch_close(a);
    vk_buf_free(&b);
    vk_buf_free(&small);
    rmdata(d);
}

static void raw_retention_expires_refs(void **st)
{
    (void)st;
    load_corpus();
    char *d = mkdata();
    struct vk_logarch_cfg cfg;
    vk_logarch_cfg_default(&cfg);
    cfg.raw_segment_bytes = 16384;
    cfg.raw_max_bytes = 65536;
    cfg.raw_max_age_ms = 0;
    struct vk_logarch *a = open_w(d, &cfg);
    enum { N = 3000 };
    static uint64_t ref[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(vk_logarch_append(a, H0 + i * 1000LL, "combo", g_lines[i], g_lens[i], &ref[i]), 0);
    struct vk_buf b;
    vk_buf_init(&b, 1 << 20);
    /* by size: the oldest segments went at rotation; the newest stay */
    assert_int_equal(vk_logarch_get(a, ref[0], &b, NULL), VK_LOGARCH_EXPIRED);
    assert_int_equal(vk_logarch_get(a, ref[N / 2], &b, NULL), VK_LOGARCH_EXPIRED);
    assert_int_equal(vk_logarch_get(a, ref[N - 1], &b, NULL), 0);
    assert_memory_equal(b.p, g_lines[N - 1], g_lens[N - 1]);
    struct vk_logarch_stats s;
    vk_logarch_stats(a, &s);
    assert_true(s.raw_segments_removed > 0);
    assert_true(s.raw_bytes_on_disk <= 65536 + 16384);
    /* find the oldest line still held: everything from there on is exact */
    int first = 0;
    while (vk_logarch_get(a, ref[first], &b, NULL) == VK_LOGARCH_EXPIRED) first++;
    for (int i = first; i < N; i++) {
        assert_int_equal(vk_logarch_get(a, ref[i], &b, NULL), 0);
        assert_memory_equal(b.p, g_lines[i], g_lens[i]);
    }
    vk_logarch_close(a);

    /* by age: lines are 1 s apart; keep 500 s behind a clock at the last line */
    cfg.raw_max_bytes = 0;
    cfg.raw_max_age_ms = 500000;
    a = open_w(d, &cfg);
    assert_int_equal(vk_logarch_retention(a, H0 + (N - 1) * 1000LL), 0);
    int kept = 0;
    for (int i = 0; i < N; i++) {
        int rc = vk_logarch_get(a, ref[i], &b, NULL);
        assert_true(rc == 0 || rc == VK_LOGARCH_EXPIRED);
        if (rc == 0) {
            kept++;
            /* whole segments go only once their newest line is older than the cap */
            assert_true(i >= N - 1 - 500 - 200);
        } else {
            assert_true(i < N - 1 - 500);
        }
    }
    assert_true(kept >= 500);
    vk_logarch_close(a);
    /* a reader tells expired from never-existed too */
    struct vk_logarch_cfg ro;
    vk_logarch_cfg_default(&ro);
    ro.readonly = true;
    a = open_w(d, &ro);
    assert_int_equal(vk_logarch_get(a, ref[0], &b, NULL), VK_LOGARCH_EXPIRED);
    assert_int_equal(vk_logarch_get(a, ref[N - 1], &b, NULL), 0);
    assert_int_equal(vk_logarch_get(a, ref[N - 1] + (100ull << 32), &b, NULL), VK_ENOTFOUND);
    vk_logarch_close(a);
    vk_buf_free(&b);
    rmdata(d);
}

/* ---- long-term tier: seal, verify ------------------------------------------------------- */

static void seal_makes_hourly_chained_segments(void **st)
{
    (void)st;
    char *d = build_archive();
    char names[16][64];
    /* H0 = 22:13:20; lines every 36 s for 3 hours: 22h, 23h, 00h, 01h */
    assert_int_equal(list_segs(d, names, 16), 4);
    assert_string_equal(names[0], "2023-11-14T22.00000001.zst");
    assert_string_equal(names[1], "2023-11-14T23.00000002.zst");
    assert_string_equal(names[2], "2023-11-15T00.00000003.zst");
    assert_string_equal(names[3], "2023-11-15T01.00000004.zst");
    expect_verify_ok(d);
    /* every line is in the archive, in order, exactly */
    struct got g = {0};
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, NULL, false, false, &g), NB);
    for (int i = 0; i < NB; i++) {
        assert_int_equal(g.t[i], H0 + i * 36000LL);
        assert_string_equal(g.line[i], g_lines[i]);
    }
    got_free(&g);
    /* seal on an archive with nothing open is a no-op: still 4 segments, chain unchanged */
    struct vk_logarch *a = open_w(d, NULL);
    assert_int_equal(vk_logarch_seal(a), 0);
    vk_logarch_close(a);
    assert_int_equal(list_segs(d, names, 16), 4);
    expect_verify_ok(d);
    rmdata(d);
}

static void verify_fails_on_one_changed_byte_in_any_segment(void **st)
{
    (void)st;
    char *d = build_archive();
    char names[16][64], p[512];
    size_t n = list_segs(d, names, 16);
    for (size_t i = 0; i < n; i++) {
        seg_path(d, names[i], p, sizeof p);
        off_t sz = file_size(p);
        off_t where[] = {0, sz / 2, sz - 1};
        for (size_t k = 0; k < 3; k++) {
            flip_byte(p, where[k]);
            char want[96];
            snprintf(want, sizeof want, "CHANGED %s", names[i]);
            expect_verify_fails(d, want, NULL);
            flip_byte(p, where[k]);
            expect_verify_ok(d);
        }
    }
    rmdata(d);
}

static void verify_fails_on_missing_swapped_added(void **st)
{
    (void)st;
    char *d = build_archive();
    char names[16][64], p1[512], p2[512], tmp[600];
    list_segs(d, names, 16);
    /* deleted */
    seg_path(d, names[1], p1, sizeof p1);
    snprintf(tmp, sizeof tmp, "/tmp/vk-logarch-saved-%d", getpid());
    assert_int_equal(rename(p1, tmp), 0);
    char want[128];
    snprintf(want, sizeof want, "MISSING %s", names[1]);
    expect_verify_fails(d, want, NULL);
    assert_int_equal(rename(tmp, p1), 0);
    expect_verify_ok(d);
    /* two swapped */
    seg_path(d, names[2], p2, sizeof p2);
    assert_int_equal(rename(p1, tmp), 0);
    assert_int_equal(rename(p2, p1), 0);
    assert_int_equal(rename(tmp, p2), 0);
    char w1[256], w2[256];
    snprintf(w1, sizeof w1, "SWAPPED %s: holds the content of %s", names[1], names[2]);
    snprintf(w2, sizeof w2, "SWAPPED %s: holds the content of %s", names[2], names[1]);
    expect_verify_fails(d, w1, w2);
    assert_int_equal(rename(p1, tmp), 0);
    assert_int_equal(rename(p2, p1), 0);
    assert_int_equal(rename(tmp, p2), 0);
    expect_verify_ok(d);
    /* replaced by another segment's bytes (same name) */
    snprintf(tmp, sizeof tmp, "%s.bak", p1);
    copy_file(p1, tmp);
    copy_file(p2, p1);
    snprintf(w1, sizeof w1, "SWAPPED %s", names[1]);
    expect_verify_fails(d, w1, NULL);
    assert_int_equal(rename(tmp, p1), 0);
    /* added: a copy under a new segment name, and a stray file */
    char added[512];
    seg_path(d, "2023-11-15T02.00000005.zst", added, sizeof added);
    copy_file(p1, added);
    expect_verify_fails(d, "ADDED 2023-11-15T02.00000005.zst", NULL);
    unlink(added);
    seg_path(d, "evil.zst", added, sizeof added);
    copy_file(p1, added);
    expect_verify_fails(d, "UNEXPECTED", "evil.zst");
    unlink(added);
    expect_verify_ok(d);
    /* a FIFO in place of a segment must not hang verify or search */
    seg_path(d, names[0], p1, sizeof p1);
    snprintf(tmp, sizeof tmp, "%s.bak", p1);
    assert_int_equal(rename(p1, tmp), 0);
    assert_int_equal(mkfifo(p1, 0600), 0);
    snprintf(want, sizeof want, "MISSING %s", names[0]);
    expect_verify_fails(d, want, "not a regular file");
    struct got g = {0};
    /* the 22h segment held lines 0..77 (22:13:20 + 78 * 36 s = 23:00:08) */
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, NULL, false, false, &g), NB - 78);
    assert_string_equal(g.line[0], g_lines[78]);
    got_free(&g);
    unlink(p1);
    assert_int_equal(rename(tmp, p1), 0);
    expect_verify_ok(d);
    rmdata(d);
}

/* Replace the first occurrence of from by to in the chain file. */
static void edit_chain(const char *d, const char *from, const char *to)
{
    char p[512];
    snprintf(p, sizeof p, "%s/logs/archive/chain", d);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *hit = strstr(buf, from);
    assert_non_null(hit);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(hit, to, strlen(to));
    f = fopen(p, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
}

static void verify_fails_on_edited_or_truncated_chain(void **st)
{
    (void)st;
    char *d = build_archive();
    char p[512], names[16][64];
    list_segs(d, names, 16);
    snprintf(p, sizeof p, "%s/logs/archive/chain", d);
    char *orig = NULL;
    size_t olen = 0;
    {
        FILE *f = fopen(p, "rb");
        fseek(f, 0, SEEK_END);
        olen = (size_t)ftell(f);
        rewind(f);
        orig = malloc(olen);
        assert_int_equal(fread(orig, 1, olen, f), olen);
        fclose(f);
    }
    /* line 3 is segment 2: change its line count (100 lines in 23h) */
    char *l3 = strstr(orig, "seg 2 ");
    assert_non_null(l3);
    char line[400];
    snprintf(line, sizeof line, "%.*s", (int)(strchr(l3, '\n') - l3), l3);
    char *cnt = strstr(line, " 100 ");
    assert_non_null(cnt);
    char edited[400];
    snprintf(edited, sizeof edited, "%s", line);
    edited[cnt - line + 3] = '1'; /* 100 -> 101 */
    edit_chain(d, line, edited);
    expect_verify_fails(d, "chain line 3", NULL);
    expect_verify_fails(d, "line 3: chain value does not match", NULL);
    edit_chain(d, edited, line);
    expect_verify_ok(d);

    /* two entries reordered */
    {
        char *l2 = strstr(orig, "seg 1 "), *l4 = strstr(orig, "seg 3 ");
        size_t len2 = (size_t)(l3 - l2), len3 = (size_t)(l4 - l3);
        char *buf = malloc(olen);
        memcpy(buf, orig, olen);
        memcpy(buf + (l2 - orig), l3, len3);
        memcpy(buf + (l2 - orig) + len3, l2, len2);
        FILE *f = fopen(p, "wb");
        fwrite(buf, 1, olen, f);
        fclose(f);
        free(buf);
        expect_verify_fails(d, "ORDER", "chain value does not match");
    }
    /* truncated at a line boundary: the last entry is gone */
    {
        FILE *f = fopen(p, "wb");
        char *last = orig + olen - 1;
        while (last > orig && last[-1] != '\n') last--;
        fwrite(orig, 1, (size_t)(last - orig), f);
        fclose(f);
        char w[128];
        snprintf(w, sizeof w, "ADDED %s", names[3]);
        expect_verify_fails(d, "TRUNCATED", w);
    }
    /* truncated inside an entry */
    {
        FILE *f = fopen(p, "wb");
        fwrite(orig, 1, olen - 10, f);
        fclose(f);
        expect_verify_fails(d, "TRUNCATED", "ends inside an entry");
    }
    /* the head file edited too (a full rewrite needs the external anchor) */
    {
        FILE *f = fopen(p, "wb");
        fwrite(orig, 1, olen, f);
        fclose(f);
        expect_verify_ok(d);
        char hp[512];
        snprintf(hp, sizeof hp, "%s/logs/archive/head", d);
        unlink(hp);
        expect_verify_fails(d, "HEAD", "missing");
    }
    free(orig);
    rmdata(d);
}

static void expect_head_anchors_a_rewrite(void **st)
{
    (void)st;
    char *d = build_archive();
    char *rep;
    assert_int_equal(verify(d, &rep), 0);
    char *h = strstr(rep, "head ");
    assert_non_null(h);
    char head[65];
    snprintf(head, sizeof head, "%.64s", h + 5);
    free(rep);
    struct vk_logarch_verify_opt opt = {.expect_head = head};
    assert_int_equal(vk_logarch_verify(d, &opt, NULL), 0);
    opt.expect_head = "00000000000000000000000000000000000000000000000000000000000000ff";
    assert_int_equal(vk_logarch_verify(d, &opt, NULL), -1);
    rmdata(d);
}

/* ---- search ------------------------------------------------------------------------- */

static void search_by_time_text_and_regex(void **st)
{
    (void)st;
    char *d = build_archive();
    struct got g = {0};
    /* [from, to): lines 10..19 exactly */
    assert_int_equal(search(d, H0 + 10 * 36000LL, H0 + 20 * 36000LL, NULL, false, false, &g), 10);
    for (int i = 0; i < 10; i++) assert_string_equal(g.line[i], g_lines[10 + i]);
    /* text: every corpus line among 0..299 holding "klogd" */
    size_t want = 0;
    for (int i = 0; i < NB; i++) want += strstr(g_lines[i], "klogd") != NULL;
    assert_true(want > 0);
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, "klogd", false, false, &g), (int64_t)want);
    for (size_t i = 0; i < g.n; i++) assert_non_null(strstr(g.line[i], "klogd"));
    /* case-insensitive text */
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, "KLOGD", false, true, &g), (int64_t)want);
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, "KLOGD", false, false, &g), 0);
    /* regex: daemons with a pid (smartd[1755]:, apmd[1717]:, ...), within a time range */
    const char *rx = "^Jun +[0-9]+ [0-9:]+ combo (smartd|apmd|sdpd)\\[[0-9]+\\]:";
    regex_t re;
    assert_int_equal(regcomp(&re, rx, REG_EXTENDED | REG_NOSUB), 0);
    int64_t from = H0 + 50 * 36000LL, to = H0 + 200 * 36000LL;
    size_t want2 = 0;
    for (int i = 50; i < 200; i++) want2 += regexec(&re, g_lines[i], 0, NULL, 0) == 0;
    regfree(&re);
    assert_true(want2 > 0);
    assert_int_equal(want2, 12);
    assert_int_equal(search(d, from, to, rx, true, false, &g), (int64_t)want2);
    for (size_t i = 0; i < g.n; i++) assert_true(g.t[i] >= from && g.t[i] < to);
    /* a bad regex is an error with a message */
    struct vk_logarch_query q = {.from_ms = INT64_MIN, .to_ms = INT64_MAX, .pattern = "(", .regex = true};
    char err[256] = "";
    assert_int_equal(vk_logarch_search(d, &q, collect, &g, err, sizeof err), VK_EINVAL);
    assert_non_null(strstr(err, "bad regular expression"));
    /* limit */
    q.pattern = NULL;
    q.regex = false;
    q.limit = 7;
    got_free(&g);
    assert_int_equal(vk_logarch_search(d, &q, collect, &g, err, sizeof err), 7);
    got_free(&g);
    rmdata(d);
}

static void search_sees_open_segment_and_binary_lines(void **st)
{
    (void)st;
    char *d = mkdata();
    struct vk_logarch *a = open_w(d, NULL);
    static const uint8_t bin[] = {'x', 0, 'y', '\n', 0xff, 'k', 'e', 'y'};
    assert_int_equal(vk_logarch_append(a, H0, "s", bin, sizeof bin, NULL), 0);
    assert_int_equal(vk_logarch_append(a, H0 + 1, "s", "plain key", 9, NULL), 0);
    assert_int_equal(vk_logarch_flush(a), 0);
    struct got g = {0};
    /* unsealed, flushed: readable; a NUL in a line does not end a regex match */
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, "key$", true, false, &g), 2);
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, "y\n\xffkey", false, false, &g), 1);
    got_free(&g);
    vk_logarch_close(a);
    rmdata(d);
}

/* ---- retention by years ------------------------------------------------------------- */

static void longterm_retention_by_years_is_recorded(void **st)
{
    (void)st;
    load_corpus();
    char *d = mkdata();
    struct vk_logarch_cfg cfg;
    vk_logarch_cfg_default(&cfg);
    struct vk_logarch *a = open_w(d, &cfg);
    /* 2019-01-01, 2020-01-01, 2021-01-01, 2022-01-01 (UTC), 10 lines each */
    const int64_t y[] = {1546300800000LL, 1577836800000LL, 1609459200000LL, 1640995200000LL};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 10; i++)
            assert_int_equal(vk_logarch_append(a, y[k] + i * 1000, "h", g_lines[k * 10 + i], g_lens[k * 10 + i], NULL), 0);
    assert_int_equal(vk_logarch_close(a), 0);
    cfg.archive_years = 2;
    a = open_w(d, &cfg);
    /* now = 2022-06-01: keep from 2020-06 on, so the 2019 and 2020 segments go */
    assert_int_equal(vk_logarch_retention(a, 1654041600000LL), 0);
    struct vk_logarch_stats s;
    vk_logarch_stats(a, &s);
    assert_int_equal(s.segments_pruned, 2);
    vk_logarch_close(a);
    char names[8][64];
    assert_int_equal(list_segs(d, names, 8), 2);
    assert_string_equal(names[0], "2021-01-01T00.00000003.zst");
    expect_verify_ok(d); /* pruned segments are not missing */
    struct got g = {0};
    assert_int_equal(search(d, INT64_MIN, INT64_MAX, NULL, false, false, &g), 20);
    assert_int_equal(g.t[0], y[2]);
    got_free(&g);
    /* a segment deleted beyond the prune point is still missing */
    char p[512];
    seg_path(d, names[0], p, sizeof p);
    unlink(p);
    expect_verify_fails(d, "MISSING 2021-01-01T00.00000003.zst", NULL);
    rmdata(d);
}

/* ---- writer lock, tick -------------------------------------------------------------- */

static void one_writer_at_a_time(void **st)
{
    (void)st;
    char *d = mkdata();
    struct vk_logarch *a = open_w(d, NULL);
    char err[512];
    int rc = 0;
    assert_null(vk_logarch_open(d, NULL, err, sizeof err, &rc));
    assert_int_equal(rc, VK_LOGARCH_ELOCKED);
    assert_non_null(strstr(err, "in use by another writer"));
    /* tick seals the hour once the clock is past it */
    assert_int_equal(vk_logarch_append(a, H0, "s", "one", 3, NULL), 0);
    assert_int_equal(vk_logarch_tick(a, H0 + 60000), 0);
    char names[4][64];
    assert_int_equal(list_segs(d, names, 4), 0);
    assert_int_equal(vk_logarch_tick(a, H0 + 2 * HOUR), 0);
    assert_int_equal(list_segs(d, names, 4), 1);
    vk_logarch_close(a);
    expect_verify_ok(d);
    rmdata(d);
}

/* ---- crashes ------------------------------------------------------------------------ */

/* The child appends corpus lines 36 s apart (an hour every 100 lines), flushes every 37
 * and reports the count and the last ref after each flush; the parent kills it. */
static void crash_recovery_after_sigkill(void **st)
{
    (void)st;
    load_corpus();
    for (int round = 0; round < 3; round++) {
        char *d = mkdata();
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            char err[256];
            struct vk_logarch *a = vk_logarch_open(d, NULL, err, sizeof err, NULL);
            if (!a) _exit(3);
            for (uint64_t i = 0;; i++) {
                uint64_t ref;
                size_t k = i % g_n;
                if (vk_logarch_append(a, H0 + (int64_t)i * 36000, "combo", g_lines[k], g_lens[k], &ref)) _exit(4);
                if (i % 37 == 36) {
                    if (vk_logarch_flush(a)) _exit(5);
                    uint64_t msg[2] = {i + 1, ref};
                    if (write(fds[1], msg, sizeof msg) != sizeof msg) _exit(6);
                }
            }
        }
        close(fds[1]);
        uint64_t msg[2] = {0, 0};
        uint64_t want = 2000 + (uint64_t)round * 1537;
        while (msg[0] < want) assert_int_equal(read(fds[0], msg, sizeof msg), sizeof msg);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        /* the child may have flushed more after its last report: read them all */
        uint64_t m2[2];
        while (read(fds[0], m2, sizeof m2) == sizeof m2) memcpy(msg, m2, sizeof msg);
        close(fds[0]);
        uint64_t flushed = msg[0];

        /* verify (no writer): the sealed part is intact; the open segment is noted */
        expect_verify_ok(d);
        /* the next writer recovers: torn raw tail cut, open segment sealed */
        struct vk_logarch *a = open_w(d, NULL);
        struct vk_logarch_stats s;
        vk_logarch_stats(a, &s);
        assert_true(s.lines_recovered >= flushed % 100); /* the open hour, up to its last flush */
        struct vk_buf b;
        vk_buf_init(&b, 1 << 20);
        struct vk_logarch_line info;
        assert_int_equal(vk_logarch_get(a, msg[1], &b, &info), 0);
        size_t k = (flushed - 1) % g_n;
        assert_int_equal(b.len, g_lens[k]);
        assert_memory_equal(b.p, g_lines[k], b.len);
        assert_int_equal(info.recv_ms, H0 + (int64_t)(flushed - 1) * 36000);
        vk_buf_free(&b);
        /* new lines after recovery land in a new segment of the next hour */
        assert_int_equal(vk_logarch_append(a, H0 + (int64_t)flushed * 36000 + 10 * HOUR, "after", "after", 5, NULL), 0);
        assert_int_equal(vk_logarch_close(a), 0);
        expect_verify_ok(d);
        /* every flushed line is in the long-term archive, in order, nothing invented */
        struct vk_logarch_query q = {.from_ms = INT64_MIN, .to_ms = H0 + (int64_t)flushed * 36000};
        struct got g = {0};
        char err[256];
        int64_t n = vk_logarch_search(d, &q, collect, &g, err, sizeof err);
        assert_int_equal(n, (int64_t)flushed);
        got_free(&g);
        q.from_ms = H0 + (int64_t)(flushed - 60) * 36000;
        q.to_ms = INT64_MAX;
        n = vk_logarch_search(d, &q, collect, &g, err, sizeof err);
        assert_true(n >= 61);
        for (size_t i = 0; i + 1 < g.n; i++) {
            size_t kk = (flushed - 60 + i) % g_n;
            assert_string_equal(g.line[i], g_lines[kk]);
            assert_int_equal(g.t[i], H0 + (int64_t)(flushed - 60 + i) * 36000);
        }
        assert_string_equal(g.line[g.n - 1], "after");
        got_free(&g);
        rmdata(d);
    }
}

/* verify and search run without the lock while a writer seals an hour every 100 lines:
 * they must never see a problem, nor lose a line they saw before. */
static void readers_while_a_writer_seals(void **st)
{
    (void)st;
    load_corpus();
    char *d = mkdata();
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[0]);
        char err[256];
        struct vk_logarch *a = vk_logarch_open(d, NULL, err, sizeof err, NULL);
        if (!a) _exit(3);
        if (write(go[1], "g", 1) != 1) _exit(4);
        for (uint64_t i = 0; i < 6000; i++) {
            size_t k = i % g_n;
            if (vk_logarch_append(a, H0 + (int64_t)i * 36000, "combo", g_lines[k], g_lens[k], NULL)) _exit(5);
            if (i % 10 == 9 && vk_logarch_flush(a)) _exit(6);
        }
        _exit(vk_logarch_close(a) ? 7 : 0);
    }
    close(go[1]);
    char c;
    assert_int_equal(read(go[0], &c, 1), 1);
    close(go[0]);
    int64_t seen = 0;
    int status, rounds = 0;
    for (;;) {
        bool done = waitpid(pid, &status, WNOHANG) == pid;
        char *rep;
        int rc = verify(d, &rep);
        if (rc != 0) {
            fprintf(stderr, "%s", rep);
            fail_msg("verify during writes (round %d)", rounds);
        }
        free(rep);
        struct vk_logarch_query q = {.from_ms = INT64_MIN, .to_ms = INT64_MAX};
        char err[256];
        int64_t n = vk_logarch_search(d, &q, NULL, NULL, err, sizeof err);
        assert_true(n >= seen);
        seen = n;
        rounds++;
        if (done) break;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(seen, 6000);
    assert_true(rounds >= 2);
    rmdata(d);
}

/* The windows of a seal: chain entry written but not the head, or the rename not done;
 * a chain append cut mid-line. Each is repaired by the next writer, and verify is clean. */
static void crash_windows_of_seal_are_repaired(void **st)
{
    (void)st;
    char *d = build_archive();
    char names[16][64], p[512], op[600], cp[512], hp[512];
    list_segs(d, names, 16);
    snprintf(cp, sizeof cp, "%s/logs/archive/chain", d);
    snprintf(hp, sizeof hp, "%s/logs/archive/head", d);
    /* 1. renamed not yet: verify checks the .open file instead, a writer finishes */
    seg_path(d, names[3], p, sizeof p);
    snprintf(op, sizeof op, "%s.open", p);
    assert_int_equal(rename(p, op), 0);
    expect_verify_ok(d);
    struct vk_logarch *a = open_w(d, NULL);
    vk_logarch_close(a);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_not_equal(access(op, F_OK), 0);
    expect_verify_ok(d);
    /* 2. head one entry behind (crash between chain fsync and head rename) */
    char *oldhead = NULL;
    {
        /* rebuild the head as it was before the last entry: entries-1 and its chain value */
        FILE *f = fopen(cp, "rb");
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *last = buf + n - 1;
        while (last > buf && last[-1] != '\n') last--;
        char *prev = last - 1;
        while (prev > buf && prev[-1] != '\n') prev--;
        char val[65];
        snprintf(val, sizeof val, "%.64s", last - 65);
        int entries = 0;
        for (char *q = buf; q < buf + n; q++) entries += *q == '\n';
        asprintf(&oldhead, "vakt-logarch-head 1 %d %s\n", entries - 2, val);
        f = fopen(hp, "wb");
        fputs(oldhead, f);
        fclose(f);
    }
    expect_verify_ok(d); /* as found right after the crash: the head is one behind, a note */
    a = open_w(d, NULL);
    vk_logarch_close(a);
    expect_verify_ok(d); /* repaired without a break entry */
    free(oldhead);
    /* 3. a torn chain append (its segment still .open) */
    load_corpus();
    a = open_w(d, NULL);
    for (int i = 0; i < 20; i++) assert_int_equal(vk_logarch_append(a, H0 + 5 * HOUR + i, "x", g_lines[i], g_lens[i], NULL), 0);
    assert_int_equal(vk_logarch_flush(a), 0);
    /* simulate the crash: copy the files as they are now, before close seals */
    char snap[600];
    snprintf(snap, sizeof snap, "%s.snap", d);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp -a %s %s", d, snap);
    assert_int_equal(system(cmd), 0);
    vk_logarch_close(a);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mv %s %s && printf 'seg 6 2023-11-15' >> %s/logs/archive/chain", d, snap, d, d);
    assert_int_equal(system(cmd), 0);
    expect_verify_fails(d, "TRUNCATED", NULL);
    a = open_w(d, NULL);
    struct vk_logarch_stats s;
    vk_logarch_stats(a, &s);
    assert_int_equal(s.lines_recovered, 20);
    vk_logarch_close(a);
    expect_verify_ok(d);
    struct got g = {0};
    assert_int_equal(search(d, H0 + 5 * HOUR, INT64_MAX, NULL, false, false, &g), 20);
    got_free(&g);
    /* 4. a chain cut that is not a crash (head ahead): the writer records a break */
    {
        FILE *f = fopen(cp, "rb");
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        char *last = buf + n - 1;
        while (last > buf && last[-1] != '\n') last--;
        f = fopen(cp, "wb");
        fwrite(buf, 1, (size_t)(last - buf), f);
        fclose(f);
    }
    a = open_w(d, NULL);
    vk_logarch_close(a);
    expect_verify_fails(d, "BREAK", "head-file-says");
    rmdata(d);

    /* 5. a chain cut inside an entry that no crash explains (the head is ahead): the cut
     * line stays as evidence, a break entry follows, archiving goes on, and only those two
     * are reported: later entries chain correctly */
    d = build_archive();
    snprintf(cp, sizeof cp, "%s/logs/archive/chain", d);
    off_t clen = file_size(cp);
    assert_int_equal(truncate(cp, clen - 10), 0);
    a = open_w(d, NULL);
    assert_int_equal(vk_logarch_append(a, H0 + 10 * HOUR, "x", "later", 5, NULL), 0);
    vk_logarch_close(a);
    char *rep;
    assert_true(verify(d, &rep) < 0);
    assert_non_null(strstr(rep, "line 5: malformed entry"));
    assert_non_null(strstr(rep, "BREAK"));
    assert_non_null(strstr(rep, "chain-ended-inside-an-entry"));
    assert_null(strstr(rep, "does not match"));
    /* malformed, break, segment 4's file not in the chain, and the seq gap it leaves */
    assert_non_null(strstr(rep, "4 problems"));
    assert_non_null(strstr(rep, "ADDED 2023-11-15T01.00000004.zst"));
    assert_non_null(strstr(rep, "segment 5 follows segment 3"));
    free(rep);
    rmdata(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_get_exact_bytes),
        cmocka_unit_test(raw_retention_expires_refs),
        cmocka_unit_test(seal_makes_hourly_chained_segments),
        cmocka_unit_test(verify_fails_on_one_changed_byte_in_any_segment),
        cmocka_unit_test(verify_fails_on_missing_swapped_added),
        cmocka_unit_test(verify_fails_on_edited_or_truncated_chain),
        cmocka_unit_test(expect_head_anchors_a_rewrite),
        cmocka_unit_test(search_by_time_text_and_regex),
        cmocka_unit_test(search_sees_open_segment_and_binary_lines),
        cmocka_unit_test(longterm_retention_by_years_is_recorded),
        cmocka_unit_test(one_writer_at_a_time),
        cmocka_unit_test(crash_recovery_after_sigkill),
        cmocka_unit_test(readers_while_a_writer_seals),
        cmocka_unit_test(crash_windows_of_seal_are_repaired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
