/* test_loginput.c — log inputs without the network: RFC 6587 framing, file reading (plain,
 * gzip, zstd, stdin, directories) on the corpus's loghub and bench logs, and follow mode
 * through rename and copytruncate rotations with restarts in between. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <xxhash.h>
#include <zstd.h>

#include "vk_test.h"
#include "logs/vk_loginput.h"

/* ---- helpers --------------------------------------------------------------------------- */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static void spit(const char *path, const void *p, size_t n, const char *mode)
{
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static char *mktmpdir(void)
{
    char tmpl[] = "/tmp/vk-loginput-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- framing -------------------------------------------------------------------------- */
struct msgs {
    char **m;
    size_t *len;
    bool *cut;
    size_t n, cap;
    int stop_every, calls;
};

static int collect(void *ud, const uint8_t *msg, size_t len, bool cut)
{
    struct msgs *ms = ud;
    ms->calls++;
    if (ms->stop_every && ms->calls % ms->stop_every == 0) return 1;
    assert_true(len > 0);
    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? ms->cap * 2 : 64;
        ms->m = realloc(ms->m, ms->cap * sizeof *ms->m);
        ms->len = realloc(ms->len, ms->cap * sizeof *ms->len);
        ms->cut = realloc(ms->cut, ms->cap * sizeof *ms->cut);
    }
    ms->m[ms->n] = malloc(len + 1);
    memcpy(ms->m[ms->n], msg, len);
    ms->m[ms->n][len] = 0;
    ms->len[ms->n] = len;
    ms->cut[ms->n] = cut;
    ms->n++;
    return 0;
}

static void msgs_free(struct msgs *ms)
{
    for (size_t i = 0; i < ms->n; i++) free(ms->m[i]);
    free(ms->m);
    free(ms->len);
    free(ms->cut);
    memset(ms, 0, sizeof *ms);
}

/* Feed in chunks of `chunk` bytes, then finish. */
static void frame_all(struct vk_syslog_frame *f, const char *p, size_t n, size_t chunk,
                      struct msgs *ms)
{
    for (size_t off = 0; off < n;) {
        size_t k = n - off < chunk ? n - off : chunk, used = 0;
        while (vk_syslog_frame_feed(f, p + off, k, collect, ms, &used)) { /* stopped: retry */
            off += used;
            k -= used;
            while (vk_syslog_frame_run(f, 0, collect, ms)) {
            }
        }
        off += k;
    }
    while (vk_syslog_frame_finish(f, collect, ms)) {
    }
}

/* The first 300 lines of loghub's Linux_2k.log. */
static char **corpus_lines(size_t want, size_t *got)
{
    size_t n;
    char *all = slurp(vk_test_corpus("logs/loghub/Linux/Linux_2k.log"), &n);
    char **v = calloc(want, sizeof *v);
    size_t k = 0;
    for (char *save = NULL, *l = strtok_r(all, "\n", &save); l && k < want; l = strtok_r(NULL, "\n", &save))
        v[k++] = strdup(l);
    free(all);
    *got = k;
    return v;
}

static void t_frame_octet_splits(void **st)
{
    (void)st;
    size_t nl;
    char **lines = corpus_lines(300, &nl);
    assert_int_equal(nl, 300);
    size_t cap = 300 * 300, len = 0;
    char *stream = malloc(cap);
    for (size_t i = 0; i < nl; i++)
        len += (size_t)sprintf(stream + len, "%zu %s", strlen(lines[i]), lines[i]);
    size_t chunks[] = {1, 2, 3, 7, 13, 64, 1000, 100000};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        struct vk_syslog_frame f;
        struct msgs ms = {0};
        vk_syslog_frame_init(&f, 0);
        frame_all(&f, stream, len, chunks[c], &ms);
        assert_int_equal(ms.n, nl);
        for (size_t i = 0; i < nl; i++) {
            assert_string_equal(ms.m[i], lines[i]);
            assert_false(ms.cut[i]);
        }
        assert_int_equal(f.mode, 1);
        assert_int_equal(f.errors, 0);
        vk_syslog_frame_free(&f);
        msgs_free(&ms);
    }
    /* the same with an emit that refuses every third message: nothing lost, nothing twice */
    struct vk_syslog_frame f;
    struct msgs ms = {.stop_every = 3};
    vk_syslog_frame_init(&f, 0);
    frame_all(&f, stream, len, 5, &ms);
    assert_int_equal(ms.n, nl);
    for (size_t i = 0; i < nl; i++) assert_string_equal(ms.m[i], lines[i]);
    vk_syslog_frame_free(&f);
    msgs_free(&ms);
    for (size_t i = 0; i < nl; i++) free(lines[i]);
    free(lines);
    free(stream);
}

static void t_frame_nontransparent(void **st)
{
    (void)st;
    static const char s[] = "<13>a b\r\n<14>second\0<15>third\n\n\r\n\0<16>last without LF";
    size_t chunks[] = {1, 4, sizeof s};
    for (size_t c = 0; c < 3; c++) {
        struct vk_syslog_frame f;
        struct msgs ms = {0};
        vk_syslog_frame_init(&f, 0);
        frame_all(&f, s, sizeof s - 1, chunks[c], &ms);
        assert_int_equal(ms.n, 4);
        assert_string_equal(ms.m[0], "<13>a b");
        assert_string_equal(ms.m[1], "<14>second");
        assert_string_equal(ms.m[2], "<15>third");
        assert_string_equal(ms.m[3], "<16>last without LF");
        assert_false(ms.cut[3]);
        assert_int_equal(f.mode, 2);
        vk_syslog_frame_free(&f);
        msgs_free(&ms);
    }
}

static void t_frame_oversize(void **st)
{
    (void)st;
    /* octet counting, max 16: a 20-byte frame is cut, the next frame is whole */
    static const char o[] = "20 AAAAAAAAAAAAAAAAAAAA5 hello";
    static const char l[] = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\nok\nCCCCCCCCCCCCCCCCC";
    for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
        struct vk_syslog_frame f;
        struct msgs ms = {0};
        vk_syslog_frame_init(&f, 16);
        frame_all(&f, o, sizeof o - 1, chunk, &ms);
        assert_int_equal(ms.n, 2);
        assert_string_equal(ms.m[0], "AAAAAAAAAAAAAAAA");
        assert_true(ms.cut[0]);
        assert_string_equal(ms.m[1], "hello");
        assert_false(ms.cut[1]);
        assert_int_equal(f.oversize, 1);
        vk_syslog_frame_free(&f);
        msgs_free(&ms);

        vk_syslog_frame_init(&f, 16);
        frame_all(&f, l, sizeof l - 1, chunk, &ms);
        assert_int_equal(ms.n, 3);
        assert_string_equal(ms.m[0], "BBBBBBBBBBBBBBBB");
        assert_true(ms.cut[0]);
        assert_string_equal(ms.m[1], "ok");
        assert_string_equal(ms.m[2], "CCCCCCCCCCCCCCCC"); /* 17 bytes, no LF: cut at 16 */
        assert_true(ms.cut[2]);
        assert_int_equal(f.oversize, 2);
        /* the buffer never held more than max + one read */
        assert_true(f.cap <= 16 + 16 * 1024 + 32);
        vk_syslog_frame_free(&f);
        msgs_free(&ms);
    }
}

static void t_frame_sync_loss_and_partial(void **st)
{
    (void)st;
    static const char s[] = "5 hello\n<34>oops no count\n7 octets";
    struct vk_syslog_frame f;
    struct msgs ms = {0};
    vk_syslog_frame_init(&f, 0);
    frame_all(&f, s, sizeof s - 1, 3, &ms);
    assert_int_equal(ms.n, 3);
    assert_string_equal(ms.m[0], "hello");
    assert_string_equal(ms.m[1], "<34>oops no count"); /* read as non-transparent from here */
    assert_string_equal(ms.m[2], "7 octets");
    assert_int_equal(f.errors, 1);
    vk_syslog_frame_free(&f);
    msgs_free(&ms);

    /* the connection ends in the middle of an octet-counted frame: what came is kept, cut */
    static const char p[] = "3 abc100 <13>partial";
    vk_syslog_frame_init(&f, 0);
    frame_all(&f, p, sizeof p - 1, 4, &ms);
    assert_int_equal(ms.n, 2);
    assert_string_equal(ms.m[0], "abc");
    assert_string_equal(ms.m[1], "<13>partial");
    assert_true(ms.cut[1]);
    vk_syslog_frame_free(&f);
    msgs_free(&ms);
}

/* ---- files ---------------------------------------------------------------------------- */
struct fcount {
    uint64_t lines, bytes, cut, last_seq, last_lineno;
    uint64_t hash; /* order-sensitive hash of every line */
    char first[256];
    char sources[8][256];
    int nsources;
    uint64_t stop_at;
};

static int count_line(void *ud, const struct vk_logline *l)
{
    struct fcount *c = ud;
    assert_int_equal(l->data[l->len], 0);
    if (!c->lines) snprintf(c->first, sizeof c->first, "%s", l->data);
    c->lines++;
    c->bytes += l->len;
    if (l->cut) c->cut++;
    c->hash = (c->hash ^ XXH3_64bits(l->data, l->len)) * 0x100000001b3ULL;
    c->last_seq = l->seq;
    c->last_lineno = l->lineno;
    if (!c->nsources || strcmp(c->sources[c->nsources - 1], l->source))
        if (c->nsources < 8) snprintf(c->sources[c->nsources++], 256, "%s", l->source);
    return c->stop_at && c->lines == c->stop_at ? 7 : 0;
}

static void t_read_plain(void **st)
{
    (void)st;
    struct fcount c = {0};
    char err[512];
    const char *p = vk_test_corpus("logs/loghub/Linux/Linux_2k.log");
    assert_int_equal(vk_loginput_read(p, 0, count_line, &c, err, sizeof err), 0);
    /* wc -l says 1999: the last line has no LF and is delivered too */
    assert_int_equal(c.lines, 2000);
    assert_int_equal(c.last_seq, 214486); /* the file's size */
    assert_int_equal(c.last_lineno, 2000);
    assert_string_equal(c.first, "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; "
                                 "logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ");
    assert_int_equal(c.cut, 0);
    assert_string_equal(c.sources[0], p);
}

static void gz_file(const char *src, const char *dst, int copies)
{
    size_t n;
    char *b = slurp(src, &n);
    unlink(dst);
    for (int i = 0; i < copies; i++) { /* each copy a gzip member of its own */
        gzFile g = gzopen(dst, "ab");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, b, (unsigned)n), (int)n);
        gzclose(g);
    }
    free(b);
}

static void zst_file(const char *src, const char *dst, int copies)
{
    size_t n;
    char *b = slurp(src, &n);
    size_t cap = ZSTD_compressBound(n);
    char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, b, n, 3);
    assert_false(ZSTD_isError(zn));
    unlink(dst);
    for (int i = 0; i < copies; i++) spit(dst, z, zn, "ab");
    free(z);
    free(b);
}

static void t_read_gz_zst(void **st)
{
    (void)st;
    char *d = mktmpdir(), gz[300], zs[300], err[512];
    const char *src = vk_test_corpus("logs/bench/Linux.log");
    struct fcount plain = {0}, a = {0}, b = {0};
    assert_int_equal(vk_loginput_read(src, 0, count_line, &plain, err, sizeof err), 0);
    assert_int_equal(plain.lines, 25237); /* wc -l */
    snprintf(gz, sizeof gz, "%s/Linux.log.gz", d);
    snprintf(zs, sizeof zs, "%s/Linux.log.zst", d);
    gz_file(src, gz, 1);
    zst_file(src, zs, 1);
    assert_int_equal(vk_loginput_read(gz, 0, count_line, &a, err, sizeof err), 0);
    assert_int_equal(vk_loginput_read(zs, 0, count_line, &b, err, sizeof err), 0);
    assert_int_equal(a.lines, 25237);
    assert_int_equal(b.lines, 25237);
    assert_int_equal(a.hash, plain.hash);
    assert_int_equal(b.hash, plain.hash);
    assert_int_equal(a.last_seq, 2288477); /* offsets count decompressed bytes */

    /* several gzip members / zstd frames: zcat reads them all, so do we */
    gz_file(src, gz, 3);
    zst_file(src, zs, 2);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    assert_int_equal(vk_loginput_read(gz, 0, count_line, &a, err, sizeof err), 0);
    assert_int_equal(vk_loginput_read(zs, 0, count_line, &b, err, sizeof err), 0);
    assert_int_equal(a.lines, 3 * 25237);
    assert_int_equal(b.lines, 2 * 25237);
    rmtree(d);
    free(d);
}

static void t_read_damaged(void **st)
{
    (void)st;
    char *d = mktmpdir(), gz[300], zs[300], err[512];
    const char *src = vk_test_corpus("logs/bench/apache_logs");
    snprintf(gz, sizeof gz, "%s/a.gz", d);
    snprintf(zs, sizeof zs, "%s/a.zst", d);
    gz_file(src, gz, 1);
    zst_file(src, zs, 1);
    assert_int_equal(truncate(gz, 200000), 0);
    assert_int_equal(truncate(zs, 150000), 0);
    struct fcount a = {0}, b = {0};
    assert_int_equal(vk_loginput_read(gz, 0, count_line, &a, err, sizeof err), VK_EFORMAT);
    assert_non_null(strstr(err, "a.gz: gzip: unexpected end of file"));
    assert_true(a.lines > 100 && a.lines < 10000);
    assert_int_equal(vk_loginput_read(zs, 0, count_line, &b, err, sizeof err), VK_EFORMAT);
    assert_non_null(strstr(err, "a.zst: zstd:"));
    assert_true(b.lines > 100 && b.lines < 10000);
    /* garbage with a gzip magic */
    spit(gz, "\x1f\x8bXXXXXXXXXXXXXXXXXXXXXXXXXXX", 30, "wb");
    memset(&a, 0, sizeof a);
    assert_int_equal(vk_loginput_read(gz, 0, count_line, &a, err, sizeof err), VK_EFORMAT);
    assert_non_null(strstr(err, "gzip:"));
    /* missing file */
    snprintf(gz, sizeof gz, "%s/nope.log", d);
    assert_int_equal(vk_loginput_read(gz, 0, count_line, &a, err, sizeof err), VK_ENOTFOUND);
    assert_non_null(strstr(err, "nope.log"));
    rmtree(d);
    free(d);
}

static void t_read_dir_stdin(void **st)
{
    (void)st;
    char *d = mktmpdir(), p[300], err[512];
    snprintf(p, sizeof p, "%s/b.log.gz", d);
    gz_file(vk_test_corpus("logs/loghub/Linux/Linux_2k.log"), p, 1);
    snprintf(p, sizeof p, "%s/a.log", d);
    size_t n;
    char *ap = slurp(vk_test_corpus("logs/loghub/Apache/Apache_2k.log"), &n);
    spit(p, ap, n, "wb");
    free(ap);
    snprintf(p, sizeof p, "%s/c.zst", d);
    zst_file(vk_test_corpus("logs/loghub/OpenSSH/OpenSSH_2k.log"), p, 1);
    snprintf(p, sizeof p, "%s/sub", d);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/ignored.log", d);
    spit(p, "x\n", 2, "wb");

    struct fcount c = {0};
    assert_int_equal(vk_loginput_read(d, 0, count_line, &c, err, sizeof err), 0);
    assert_int_equal(c.lines, 6000); /* 3 x (1999 LF + a last line without one) */
    assert_int_equal(c.nsources, 3);
    assert_non_null(strstr(c.sources[0], "/a.log"));
    assert_non_null(strstr(c.sources[1], "/b.log.gz"));
    assert_non_null(strstr(c.sources[2], "/c.zst"));

    /* stdin, gzip-compressed */
    snprintf(p, sizeof p, "%s/b.log.gz", d);
    int saved = dup(0), fd = open(p, O_RDONLY);
    dup2(fd, 0);
    close(fd);
    memset(&c, 0, sizeof c);
    int rc = vk_loginput_read("-", 0, count_line, &c, err, sizeof err);
    dup2(saved, 0);
    close(saved);
    assert_int_equal(rc, 0);
    assert_int_equal(c.lines, 2000);
    assert_string_equal(c.sources[0], "stdin");

    /* the callback stops the read */
    memset(&c, 0, sizeof c);
    c.stop_at = 10;
    assert_int_equal(vk_loginput_read(d, 0, count_line, &c, err, sizeof err), 7);
    assert_int_equal(c.lines, 10);
    rmtree(d);
    free(d);
}

struct cutcheck {
    uint64_t lines, cut, prev_seq;
    size_t n_ok;
    const char *file;
    size_t fsize;
};

static int check_cut(void *ud, const struct vk_logline *l)
{
    struct cutcheck *c = ud;
    c->lines++;
    if (l->cut) {
        c->cut++;
        assert_int_equal(l->len, 1000);
    }
    /* seq is the offset past the line: the bytes before it end with the line and its LF */
    assert_true(l->seq <= c->fsize);
    assert_int_equal(c->file[l->seq - 1], '\n');
    assert_memory_equal(c->file + c->prev_seq, l->data, l->len);
    c->prev_seq = l->seq;
    return 0;
}

static void t_read_long_lines(void **st)
{
    (void)st;
    const char *p = vk_test_corpus("logs/bench/Linux.log");
    size_t n;
    char *b = slurp(p, &n), err[512];
    struct cutcheck c = {.file = b, .fsize = n};
    assert_int_equal(vk_loginput_read(p, 1000, check_cut, &c, err, sizeof err), 0);
    assert_int_equal(c.lines, 25237);
    assert_int_equal(c.cut, 20); /* awk 'length($0)>1000' */
    free(b);
}

/* ---- tail ----------------------------------------------------------------------------- */
#define TMAX 2000
struct tseen {
    int count[TMAX];
    int total, bad;
    uint64_t last_seq;
};

static int tail_line(void *ud, const struct vk_logline *l)
{
    struct tseen *s = ud;
    int id;
    if (sscanf(l->data, "line %d ", &id) != 1 || id < 0 || id >= TMAX) {
        s->bad++;
        return 0;
    }
    s->count[id]++;
    s->total++;
    s->last_seq = l->seq;
    return 0;
}

static void append_lines(const char *path, int from, int to)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    for (int i = from; i < to; i++) fprintf(f, "line %d of the test %s\n", i, i % 7 ? "" : "with more words");
    fclose(f);
}

static void poll_until(struct vk_tail *t, struct tseen *s, int total, int max_ms)
{
    for (int waited = 0; s->total < total && waited < max_ms; waited += 20)
        assert_true(vk_tail_poll(t, tail_line, s, 20) >= 0);
    assert_int_equal(s->total, total);
}

static void assert_once(const struct tseen *s, int from, int to)
{
    for (int i = from; i < to; i++)
        if (s->count[i] != 1) fail_msg("line %d seen %d times", i, s->count[i]);
    assert_int_equal(s->bad, 0);
}

static const struct vk_tail_opts TOPTS = {.rescan_ms = 30, .rotate_grace_ms = 150};

static void t_tail_rename_restart(void **st)
{
    (void)st;
    char *d = mktmpdir(), log[300], log1[300], log2[300], state[300], err[512];
    snprintf(log, sizeof log, "%s/app.log", d);
    snprintf(log1, sizeof log1, "%s/app.log.1", d);
    snprintf(log2, sizeof log2, "%s/app.log.2", d);
    snprintf(state, sizeof state, "%s/tail.state", d);
    const char *paths[] = {log};
    static struct tseen s;
    memset(&s, 0, sizeof s);

    append_lines(log, 0, 100);
    struct vk_tail *t = vk_tail_open(paths, 1, state, &TOPTS, err, sizeof err);
    assert_non_null(t);
    poll_until(t, &s, 100, 2000);
    append_lines(log, 100, 150);
    poll_until(t, &s, 150, 2000);
    assert_int_equal(vk_tail_ack(t, err, sizeof err), 0);
    vk_tail_close(t);

    /* while we are down: more lines, then logrotate renames and a new file starts */
    append_lines(log, 150, 200);
    assert_int_equal(rename(log, log1), 0);
    append_lines(log, 200, 260);
    t = vk_tail_open(paths, 1, state, &TOPTS, err, sizeof err);
    assert_non_null(t);
    poll_until(t, &s, 260, 3000);
    assert_once(&s, 0, 260);
    struct vk_tail_stats ts;
    vk_tail_stats(t, &ts);
    assert_int_equal(ts.resumed, 1); /* app.log.1 found again by inode + first bytes */
    assert_int_equal(ts.lost, 0);

    /* live rotation: the writer keeps appending to the renamed file before it reopens */
    append_lines(log, 260, 300);
    poll_until(t, &s, 300, 2000);
    assert_int_equal(rename(log1, log2), 0);
    assert_int_equal(rename(log, log1), 0);
    append_lines(log1, 300, 320); /* late writes to the old file */
    append_lines(log, 320, 350);
    poll_until(t, &s, 350, 3000);
    append_lines(log1, 350, 360); /* still within the grace time */
    poll_until(t, &s, 360, 3000);
    assert_once(&s, 0, 360);
    vk_tail_stats(t, &ts);
    assert_true(ts.rotations >= 1);
    assert_int_equal(vk_tail_ack(t, err, sizeof err), 0);
    vk_tail_close(t);

    /* restart with nothing new: nothing is delivered twice */
    t = vk_tail_open(paths, 1, state, &TOPTS, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(vk_tail_poll(t, tail_line, &s, 300), 0);
    append_lines(log, 360, 370);
    poll_until(t, &s, 370, 2000);
    assert_once(&s, 0, 370);
    vk_tail_close(t); /* not acked: 360..369 come again after the next open */
    t = vk_tail_open(paths, 1, state, &TOPTS, err, sizeof err);
    poll_until(t, &s, 380, 2000);
    for (int i = 360; i < 370; i++) assert_int_equal(s.count[i], 2);
    vk_tail_close(t);
    rmtree(d);
    free(d);
}

static void t_tail_truncate(void **st)
{
    (void)st;
    char *d = mktmpdir(), log[300], state[300], err[512];
    snprintf(log, sizeof log, "%s/app.log", d);
    snprintf(state, sizeof state, "%s/tail.state", d);
    const char *paths[] = {log};
    static struct tseen s;
    memset(&s, 0, sizeof s);
    append_lines(log, 0, 50);
    struct vk_tail *t = vk_tail_open(paths, 1, state, &TOPTS, err, sizeof err);
    poll_until(t, &s, 50, 2000);
    /* copytruncate: the file shrinks to 0 and grows again, shorter than before */
    assert_int_equal(truncate(log, 0), 0);
    append_lines(log, 50, 60);
    poll_until(t, &s, 60, 2000);
    /* truncated and grown past our offset before we looked: the first bytes tell */
    assert_int_equal(truncate(log, 0), 0);
    append_lines(log, 60, 200);
    poll_until(t, &s, 200, 2000);
    assert_once(&s, 0, 200);
    struct vk_tail_stats ts;
    vk_tail_stats(t, &ts);
    assert_int_equal(ts.truncations, 2);
    assert_int_equal(vk_tail_ack(t, err, sizeof err), 0);
    vk_tail_close(t);
    /* truncated while we were down */
    assert_int_equal(truncate(log, 0), 0);
    append_lines(log, 200, 210);
    t = vk_tail_open(paths, 1, state, &TOPTS, err, sizeof err);
    poll_until(t, &s, 210, 2000);
    assert_once(&s, 0, 210);
    vk_tail_close(t);
    rmtree(d);
    free(d);
}

static int keep_text(void *ud, const struct vk_logline *l)
{
    snprintf(ud, 64, "%s", l->data);
    return 0;
}

static void t_tail_partial_and_late_file(void **st)
{
    (void)st;
    char *d = mktmpdir(), log[300], err[512], got[64] = "";
    snprintf(log, sizeof log, "%s/later.log", d);
    const char *paths[] = {log};
    struct vk_tail *t = vk_tail_open(paths, 1, NULL, &TOPTS, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(vk_tail_poll(t, keep_text, got, 50), 0); /* not there yet */
    spit(log, "abc", 3, "wb");
    assert_int_equal(vk_tail_poll(t, keep_text, got, 100), 0); /* no LF yet: wait */
    spit(log, "def\r\nx", 6, "ab");
    int n = 0;
    for (int i = 0; i < 50 && !n; i++) n = vk_tail_poll(t, keep_text, got, 20);
    assert_int_equal(n, 1);
    assert_string_equal(got, "abcdef");
    vk_tail_close(t);
    rmtree(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_frame_octet_splits),
        cmocka_unit_test(t_frame_nontransparent),
        cmocka_unit_test(t_frame_oversize),
        cmocka_unit_test(t_frame_sync_loss_and_partial),
        cmocka_unit_test(t_read_plain),
        cmocka_unit_test(t_read_gz_zst),
        cmocka_unit_test(t_read_damaged),
        cmocka_unit_test(t_read_dir_stdin),
        cmocka_unit_test(t_read_long_lines),
        cmocka_unit_test(t_tail_rename_restart),
        cmocka_unit_test(t_tail_truncate),
        cmocka_unit_test(t_tail_partial_and_late_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
