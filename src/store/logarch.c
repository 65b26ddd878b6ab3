/* logarch.c — the log archive's writer: both tiers, crash recovery, retention, and get().
 *
 * Short-term tier, <datadir>/logs/raw/NNNNNNNNNN.raw: a 16-byte header ("VKRAW" 01 00 00,
 * segment id), then records — xxh3 u64 of the rest of the record, "RL" u16, flags|source
 * length u16, line length u32, receive time i64 (all little-endian), source, line — and,
 * once the segment is closed, a 40-byte footer ("VKRAWEND", first and last receive time,
 * line count, xxh3). A line's ref is segment id << 32 | record offset.
 *
 * Long-term tier, <datadir>/logs/archive: one zstd stream per segment (logarch_int.h has
 * the record format), written as "<hour>.<seq>.zst.open"; flush() ends a zstd block so a
 * crash leaves a file readable up to the last flush. Sealing ends the frame, fsyncs,
 * appends the SHA-256 chain entry (fsync), rewrites the head file, then renames the file to
 * its final name: each crash window is repaired by the next writer's open().
 *
 * Verify and search live in logarch_read.c; this file leaves them alone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>
#include <zstd.h>

#include "logarch_int.h"

#define RAW_MAGIC "VKRAW\x01\0\0"
#define RAW_HDR 16
#define RAW_REC_HDR 24
#define RAW_REC_MAGIC 0x4C52u /* "RL" */
#define RAW_CUT 0x8000u
#define RAW_FOOT_MAGIC "VKRAWEND"
#define RAW_FOOT 40
#define RAW_BUF (1u << 20)
#define LT_IN (128u << 10)
#define MAX_RECV_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */
#define YEAR_MS 31557600000LL         /* 365.25 days */
#define TICK_GRACE_MS 60000

struct raw_seg {
    uint32_t id;
    uint64_t bytes;
    int64_t last_ms;
};

struct lt_seg {
    uint64_t seq;
    int64_t max_ms;
    char name[LA_NAME_MAX];
};

struct vk_logarch {
    pthread_mutex_t mu;
    struct vk_logarch_cfg cfg;
    char dir[PATH_MAX / 2], rawdir[PATH_MAX / 2 + 8], arcdir[PATH_MAX / 2 + 8];
    int lockfd;
    char err[512];
    struct vk_logarch_stats st;
    bool failed; /* a write failed: appends refuse until the archive is reopened */

    /* short-term: closed segments oldest first, then the one being written */
    struct raw_seg *rs;
    size_t nrs, caprs;
    int rfd;
    uint32_t rid;
    uint64_t rdisk; /* bytes of the current segment on disk; rbuf holds the rest */
    uint8_t *rbuf;
    size_t rlen;
    int64_t rfirst, rlast, newest_ms;
    uint64_t rlines;
    XXH3_state_t *xx;
    int cfd; /* cached read fd of segment cid */
    uint32_t cid;

    /* long-term: the open segment */
    ZSTD_CCtx *cctx;
    EVP_MD_CTX *sha;
    bool lopen;
    int lfd;
    char lpath[PATH_MAX];
    char lname[LA_NAME_MAX];
    uint64_t lseq, llines, lbytes, lcomp;
    int64_t lhour, lmin, lmax;
    uint8_t *lin, *lout;
    size_t lin_len, lout_cap;
    int64_t lprev_ms; /* the record format's time and source deltas */
    char lsrc[256];
    size_t lsrclen;
    /* the chain */
    int chfd;
    uint8_t chain[32];
    uint64_t entries, last_seq, pruned_upto;
    struct lt_seg *ls; /* sealed, not pruned, oldest first */
    size_t nls, capls;
};

/* ---- helpers ------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int fail(struct vk_logarch *a, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
    return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t pread_full(int fd, void *p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
    return 0;
}

static bool push(void **v, size_t *n, size_t *cap, size_t sz, const void *item)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void *nv = realloc(*v, nc * sz);
        if (!nv) return false;
        *v = nv;
        *cap = nc;
    }
    memcpy((uint8_t *)*v + *n * sz, item, sz);
    (*n)++;
    return true;
}

void vk_logarch_cfg_default(struct vk_logarch_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->raw_segment_bytes = 64ull << 20;
    cfg->raw_max_bytes = 8ull << 30;
    cfg->raw_max_age_ms = 7LL * 86400000;
    cfg->archive_years = 0;
    cfg->zstd_level = 3;
    cfg->max_line = 1u << 20;
    cfg->sync = VK_LOGARCH_SYNC_NONE;
}

/* ---- short-term tier ---------------------------------------------------------------- */

static void raw_path(const struct vk_logarch *a, uint32_t id, char *out, size_t n)
{
    snprintf(out, n, "%s/%010u.raw", a->rawdir, id);
}

static bool raw_name_parse(const char *name, uint32_t *id)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (strcmp(name + 10, ".raw") != 0 || v == 0 || v > UINT32_MAX) return false;
    *id = (uint32_t)v;
    return true;
}

static int raw_out(struct vk_logarch *a)
{
    if (!a->rlen) return 0;
    if (write_all(a->rfd, a->rbuf, a->rlen) != 0) {
        char p[PATH_MAX];
        raw_path(a, a->rid, p, sizeof p);
        a->failed = true;
        return fail(a, VK_EIO, "log archive: write %s: %s", p, strerror(errno));
    }
    a->rdisk += a->rlen;
    a->rlen = 0;
    return 0;
}

static void raw_footer(uint8_t f[RAW_FOOT], int64_t first, int64_t last, uint64_t lines)
{
    memcpy(f, RAW_FOOT_MAGIC, 8);
    la_put64(f + 8, (uint64_t)first);
    la_put64(f + 16, (uint64_t)last);
    la_put64(f + 24, lines);
    la_put64(f + 32, XXH3_64bits(f, 32));
}

static bool raw_footer_ok(const uint8_t f[RAW_FOOT])
{
    return memcmp(f, RAW_FOOT_MAGIC, 8) == 0 && la_get64(f + 32) == XXH3_64bits(f, 32);
}

static int raw_new(struct vk_logarch *a, uint32_t id)
{
    char p[PATH_MAX];
    raw_path(a, id, p, sizeof p);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        a->failed = true;
        return fail(a, VK_EIO, "log archive: create %s: %s", p, strerror(errno));
    }
    a->rfd = fd;
    a->rid = id;
    a->rdisk = 0;
    memcpy(a->rbuf, RAW_MAGIC, 8);
    la_put32(a->rbuf + 8, id);
    la_put32(a->rbuf + 12, 0);
    a->rlen = RAW_HDR;
    a->rfirst = a->rlast = INT64_MIN;
    a->rlines = 0;
    return 0;
}

/* Footer, write out, close; the segment joins the closed list. */
static int raw_close_cur(struct vk_logarch *a, bool sync)
{
    if (a->rfd < 0) return 0;
    int rc = 0;
    if (a->rlen + RAW_FOOT > RAW_BUF) rc = raw_out(a);
    if (rc == 0) {
        raw_footer(a->rbuf + a->rlen, a->rfirst, a->rlast, a->rlines);
        a->rlen += RAW_FOOT;
        rc = raw_out(a);
    }
    if (rc == 0 && sync && fsync(a->rfd) != 0) rc = fail(a, VK_EIO, "log archive: fsync raw segment %u: %s", a->rid, strerror(errno));
    struct raw_seg s = {a->rid, a->rdisk, a->rlast};
    close(a->rfd);
    a->rfd = -1;
    if (!push((void **)&a->rs, &a->nrs, &a->caprs, sizeof s, &s)) rc = fail(a, VK_ENOMEM, "log archive: out of memory");
    return rc;
}

static void raw_drop_cache(struct vk_logarch *a, uint32_t id)
{
    if (a->cfd >= 0 && a->cid == id) {
        close(a->cfd);
        a->cfd = -1;
        a->cid = 0;
    }
}

/* Remove the oldest closed segments while over the size cap or older than the age cap
 * (now_ms - the segment's newest line). Never the segment being written. O(segments). */
static void raw_enforce(struct vk_logarch *a, int64_t now_ms)
{
    uint64_t total = a->rdisk + a->rlen;
    for (size_t i = 0; i < a->nrs; i++) total += a->rs[i].bytes;
    int64_t cutoff = INT64_MIN;
    if (a->cfg.raw_max_age_ms > 0 && __builtin_sub_overflow(now_ms, a->cfg.raw_max_age_ms, &cutoff))
        cutoff = INT64_MIN;
    size_t k = 0;
    for (; k < a->nrs; k++) {
        bool over = a->cfg.raw_max_bytes && total > a->cfg.raw_max_bytes;
        bool old = a->cfg.raw_max_age_ms > 0 && a->rs[k].last_ms < cutoff;
        if (!over && !old) break;
        char p[PATH_MAX];
        raw_path(a, a->rs[k].id, p, sizeof p);
        raw_drop_cache(a, a->rs[k].id);
        if (unlink(p) != 0 && errno != ENOENT) break;
        total -= a->rs[k].bytes;
        a->st.raw_segments_removed++;
    }
    if (k) {
        memmove(a->rs, a->rs + k, (a->nrs - k) * sizeof *a->rs);
        a->nrs -= k;
    }
}

static int raw_rotate(struct vk_logarch *a)
{
    int rc = raw_close_cur(a, a->cfg.sync == VK_LOGARCH_SYNC_FLUSH);
    if (rc == 0) rc = raw_new(a, a->rid + 1);
    if (rc == 0) raw_enforce(a, a->newest_ms);
    return rc;
}

/* O(len): one XXH3 over the record and a memcpy into the 1 MiB buffer (a write() when it
 * fills). Records over the buffer go out with writev() and a streaming XXH3. */
static int raw_add(struct vk_logarch *a, int64_t recv_ms, const char *src, size_t srclen, const uint8_t *line,
                   size_t len, bool cut, uint64_t *ref_out)
{
    size_t rec = RAW_REC_HDR + srclen + len;
    if (a->rdisk + a->rlen + rec > a->cfg.raw_segment_bytes && a->rdisk + a->rlen > RAW_HDR) {
        int rc = raw_rotate(a);
        if (rc) return rc;
    }
    uint64_t off = a->rdisk + a->rlen;
    uint8_t hdr[RAW_REC_HDR];
    hdr[8] = (uint8_t)RAW_REC_MAGIC, hdr[9] = (uint8_t)(RAW_REC_MAGIC >> 8);
    uint16_t fl = (uint16_t)(srclen | (cut ? RAW_CUT : 0));
    hdr[10] = (uint8_t)fl, hdr[11] = (uint8_t)(fl >> 8);
    la_put32(hdr + 12, (uint32_t)len);
    la_put64(hdr + 16, (uint64_t)recv_ms);
    if (a->rlen + rec > RAW_BUF) {
        int rc = raw_out(a);
        if (rc) return rc;
    }
    if (rec <= RAW_BUF) {
        uint8_t *p = a->rbuf + a->rlen;
        memcpy(p, hdr, RAW_REC_HDR);
        memcpy(p + RAW_REC_HDR, src, srclen);
        memcpy(p + RAW_REC_HDR + srclen, line, len);
        la_put64(p, XXH3_64bits(p + 8, rec - 8));
        a->rlen += rec;
    } else {
        XXH3_64bits_reset(a->xx);
        XXH3_64bits_update(a->xx, hdr + 8, RAW_REC_HDR - 8);
        XXH3_64bits_update(a->xx, src, srclen);
        XXH3_64bits_update(a->xx, line, len);
        la_put64(hdr, XXH3_64bits_digest(a->xx));
        if (write_all(a->rfd, hdr, RAW_REC_HDR) != 0 || write_all(a->rfd, src, srclen) != 0 ||
            write_all(a->rfd, line, len) != 0) {
            a->failed = true;
            return fail(a, VK_EIO, "log archive: write raw segment %u: %s", a->rid, strerror(errno));
        }
        a->rdisk = off + RAW_REC_HDR + srclen + len;
    }
    if (a->rlines == 0 || recv_ms < a->rfirst) a->rfirst = recv_ms;
    if (a->rlines == 0 || recv_ms > a->rlast) a->rlast = recv_ms;
    a->rlines++;
    if (recv_ms > a->newest_ms) a->newest_ms = recv_ms;
    if (ref_out) *ref_out = (uint64_t)a->rid << 32 | off;
    return 0;
}

struct raw_scan {
    uint64_t good_end, lines;
    int64_t first, last;
    bool header_ok, footer;
};

/* A read window over a file: a pointer to [off, off+n), or NULL past the end (or when a
 * record would need more memory than the caps allow). */
struct win {
    int fd;
    uint64_t size, boff;
    uint8_t *buf;
    size_t cap, blen;
};

static const uint8_t *win_at(struct win *w, uint64_t off, size_t n)
{
    if (off > w->size || n > w->size - off) return NULL;
    if (off >= w->boff && off + n <= w->boff + w->blen) return w->buf + (off - w->boff);
    if (n > w->cap) {
        uint8_t *nb = realloc(w->buf, n);
        if (!nb) return NULL;
        w->buf = nb;
        w->cap = n;
    }
    ssize_t got = pread_full(w->fd, w->buf, w->cap, off);
    w->boff = off;
    w->blen = got > 0 ? (size_t)got : 0;
    return n <= w->blen ? w->buf : NULL;
}

static int check_rec(const uint8_t hdr[RAW_REC_HDR], uint64_t off, uint64_t limit, size_t *srclen, size_t *len)
{
    if ((hdr[8] | hdr[9] << 8) != RAW_REC_MAGIC) return VK_ENOTFOUND;
    uint16_t fl = (uint16_t)(hdr[10] | hdr[11] << 8);
    *srclen = fl & 0xff;
    *len = la_get32(hdr + 12);
    if ((fl & 0x7f00) || *len > VK_LOGARCH_LINE_HARD_MAX) return VK_ENOTFOUND;
    if (off + RAW_REC_HDR + *srclen + *len > limit) return VK_ENOTFOUND;
    return 0;
}

/* Walk a raw segment's records, checking each, up to the footer or the first bad or torn
 * record. Reads in 1 MiB windows; O(file). */
static int raw_scan_file(int fd, uint32_t id, uint64_t size, struct raw_scan *r)
{
    memset(r, 0, sizeof *r);
    r->first = r->last = INT64_MIN;
    struct win w = {.fd = fd, .size = size, .cap = RAW_BUF};
    w.buf = malloc(w.cap);
    if (!w.buf) return VK_ENOMEM;
    const uint8_t *p = win_at(&w, 0, RAW_HDR);
    uint64_t off = RAW_HDR;
    if (p && memcmp(p, RAW_MAGIC, 8) == 0 && la_get32(p + 8) == id) {
        r->header_ok = true;
        while ((p = win_at(&w, off, 8))) {
            if (memcmp(p, RAW_FOOT_MAGIC, 8) == 0) {
                p = win_at(&w, off, RAW_FOOT);
                r->footer = p && raw_footer_ok(p);
                break;
            }
            size_t srclen, len;
            if (!(p = win_at(&w, off, RAW_REC_HDR)) || check_rec(p, off, size, &srclen, &len) != 0) break;
            size_t need = RAW_REC_HDR + srclen + len;
            if (!(p = win_at(&w, off, need)) || la_get64(p) != XXH3_64bits(p + 8, need - 8)) break;
            int64_t t = (int64_t)la_get64(p + 16);
            if (r->lines == 0 || t < r->first) r->first = t;
            if (r->lines == 0 || t > r->last) r->last = t;
            r->lines++;
            off += need;
        }
    }
    r->good_end = off;
    free(w.buf);
    return 0;
}

static int raw_id_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Find the segments, cut the torn tail of the last one (a crash), start a new one. */
static int raw_recover(struct vk_logarch *a)
{
    DIR *d = opendir(a->rawdir);
    if (!d) return fail(a, VK_EIO, "log archive: %s: %s", a->rawdir, strerror(errno));
    uint32_t *ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint32_t id;
        if (raw_name_parse(de->d_name, &id) && !push((void **)&ids, &n, &cap, sizeof id, &id)) {
            closedir(d);
            free(ids);
            return fail(a, VK_ENOMEM, "log archive: out of memory");
        }
    }
    closedir(d);
    if (n) qsort(ids, n, sizeof *ids, raw_id_cmp);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char p[PATH_MAX];
        raw_path(a, ids[i], p, sizeof p);
        bool last = i + 1 == n;
        int fd = la_open_reg(p, last ? O_RDWR : O_RDONLY);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) != 0) {
            if (fd >= 0) close(fd);
            continue;
        }
        uint64_t size = (uint64_t)sb.st_size;
        uint8_t f[RAW_FOOT];
        struct raw_seg s = {ids[i], size, INT64_MIN};
        if (size >= RAW_HDR + RAW_FOOT && pread_full(fd, f, RAW_FOOT, size - RAW_FOOT) == RAW_FOOT && raw_footer_ok(f)) {
            s.last_ms = (int64_t)la_get64(f + 16);
        } else {
            struct raw_scan r;
            rc = raw_scan_file(fd, ids[i], size, &r);
            if (rc == 0 && last && r.header_ok) {
                /* the segment a crash left open: keep what checks, close it properly */
                uint8_t foot[RAW_FOOT];
                raw_footer(foot, r.first, r.last, r.lines);
                if (ftruncate(fd, (off_t)r.good_end) != 0 || pwrite(fd, foot, RAW_FOOT, (off_t)r.good_end) != RAW_FOOT ||
                    fsync(fd) != 0)
                    rc = fail(a, VK_EIO, "log archive: repair %s: %s", p, strerror(errno));
                s.bytes = r.good_end + RAW_FOOT;
            } else if (last && size < RAW_HDR) {
                unlink(p); /* created, never written */
                close(fd);
                if (n == 1) ids[0] = 0; /* start again at 1 */
                continue;
            }
            s.last_ms = r.last;
        }
        close(fd);
        if (rc == 0 && !push((void **)&a->rs, &a->nrs, &a->caprs, sizeof s, &s))
            rc = fail(a, VK_ENOMEM, "log archive: out of memory");
    }
    uint32_t next = n ? ids[n - 1] + 1 : 1;
    free(ids);
    if (rc == 0 && next == 0) rc = fail(a, VK_EINVAL, "log archive: %s: segment ids exhausted", a->rawdir);
    if (rc == 0) rc = raw_new(a, next);
    return rc;
}

/* ---- get ---------------------------------------------------------------------------- */

static void fill_info(struct vk_logarch_line *info, const uint8_t *hdr, const uint8_t *src, size_t srclen)
{
    if (!info) return;
    info->recv_ms = (int64_t)la_get64(hdr + 16);
    memcpy(info->source, src, srclen);
    info->source[srclen] = 0;
    info->cut = (hdr[10] | hdr[11] << 8) & RAW_CUT;
}

/* The record at off of an open segment file (size limit known). */
static int get_from_fd(struct vk_logarch *a, int fd, uint64_t off, uint64_t limit, struct vk_buf *out,
                       struct vk_logarch_line *info)
{
    uint8_t hdr[RAW_REC_HDR], src[256];
    size_t srclen, len;
    if (off < RAW_HDR || off + RAW_REC_HDR > limit) return VK_ENOTFOUND;
    if (pread_full(fd, hdr, RAW_REC_HDR, off) != RAW_REC_HDR) return VK_ENOTFOUND;
    int rc = check_rec(hdr, off, limit, &srclen, &len);
    if (rc) return rc;
    out->len = 0;
    if (len > out->max) return VK_ENOMEM;
    if (out->cap < len) {
        uint8_t *np = realloc(out->p, len);
        if (!np) return VK_ENOMEM;
        out->p = np;
        out->cap = len;
    }
    if (pread_full(fd, src, srclen, off + RAW_REC_HDR) != (ssize_t)srclen ||
        pread_full(fd, out->p, len, off + RAW_REC_HDR + srclen) != (ssize_t)len)
        return VK_ENOTFOUND;
    XXH3_64bits_reset(a->xx);
    XXH3_64bits_update(a->xx, hdr + 8, RAW_REC_HDR - 8);
    XXH3_64bits_update(a->xx, src, srclen);
    XXH3_64bits_update(a->xx, out->p, len);
    if (XXH3_64bits_digest(a->xx) != la_get64(hdr)) return VK_EFORMAT;
    out->len = len;
    fill_info(info, hdr, src, srclen);
    return 0;
}

static int get_locked(struct vk_logarch *a, uint64_t ref, struct vk_buf *out, struct vk_logarch_line *info)
{
    uint32_t id = (uint32_t)(ref >> 32);
    uint64_t off = ref & 0xffffffffu;
    out->len = 0;
    if (id == 0) return VK_ENOTFOUND;
    if (!a->cfg.readonly && id == a->rid) {
        if (off >= a->rdisk) { /* still in the write buffer */
            uint64_t b = off - a->rdisk;
            size_t srclen, len;
            if (off < RAW_HDR || b + RAW_REC_HDR > a->rlen) return VK_ENOTFOUND;
            const uint8_t *p = a->rbuf + b;
            int rc = check_rec(p, b, a->rlen, &srclen, &len);
            if (rc) return rc;
            if (la_get64(p) != XXH3_64bits(p + 8, RAW_REC_HDR - 8 + srclen + len)) return VK_EFORMAT;
            if (vk_buf_append(out, p + RAW_REC_HDR + srclen, len) != 0) return VK_ENOMEM;
            fill_info(info, p, p + RAW_REC_HDR, srclen);
            return 0;
        }
        return get_from_fd(a, a->rfd, off, a->rdisk, out, info);
    }
    uint64_t limit = UINT64_MAX;
    if (!a->cfg.readonly) {
        if (id > a->rid) return VK_ENOTFOUND;
        size_t lo = 0, hi = a->nrs;
        bool found = false;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (a->rs[mid].id == id) {
                found = true;
                limit = a->rs[mid].bytes;
                break;
            }
            if (a->rs[mid].id < id) lo = mid + 1;
            else hi = mid;
        }
        if (!found) return VK_LOGARCH_EXPIRED;
    }
    if (a->cfd < 0 || a->cid != id) {
        raw_drop_cache(a, a->cid);
        char p[PATH_MAX];
        raw_path(a, id, p, sizeof p);
        int fd = la_open_reg(p, O_RDONLY);
        if (fd < 0) {
            if (errno != ENOENT) return VK_EIO;
            if (!a->cfg.readonly) return VK_LOGARCH_EXPIRED;
            /* a reader: expired when a later segment exists */
            DIR *d = opendir(a->rawdir);
            struct dirent *de;
            bool later = false;
            while (d && (de = readdir(d))) {
                uint32_t x;
                if (raw_name_parse(de->d_name, &x) && x > id) later = true;
            }
            if (d) closedir(d);
            return later ? VK_LOGARCH_EXPIRED : VK_ENOTFOUND;
        }
        uint8_t h[RAW_HDR];
        ssize_t hr = pread_full(fd, h, RAW_HDR, 0);
        if (hr != RAW_HDR || memcmp(h, RAW_MAGIC, 8) != 0 || la_get32(h + 8) != id) {
            close(fd);
            return hr >= 0 && hr < RAW_HDR ? VK_ENOTFOUND : VK_EFORMAT; /* not written out yet */
        }
        a->cfd = fd;
        a->cid = id;
    }
    if (limit == UINT64_MAX) {
        struct stat sb;
        if (fstat(a->cfd, &sb) != 0) return VK_EIO;
        limit = (uint64_t)sb.st_size;
    }
    return get_from_fd(a, a->cfd, off, limit, out, info);
}

int vk_logarch_get(struct vk_logarch *a, uint64_t ref, struct vk_buf *out, struct vk_logarch_line *info)
{
    pthread_mutex_lock(&a->mu);
    int rc = get_locked(a, ref, out, info);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* ---- long-term tier ----------------------------------------------------------------- */

static int lt_write(struct vk_logarch *a, const uint8_t *p, size_t n)
{
    if (write_all(a->lfd, p, n) != 0) {
        a->failed = true;
        return fail(a, VK_EIO, "log archive: write %s: %s", a->lpath, strerror(errno));
    }
    EVP_DigestUpdate(a->sha, p, n);
    a->lcomp += n;
    return 0;
}

static int lt_compress(struct vk_logarch *a, ZSTD_EndDirective mode, const uint8_t *src, size_t n)
{
    ZSTD_inBuffer in = {src, n, 0};
    for (;;) {
        ZSTD_outBuffer o = {a->lout, a->lout_cap, 0};
        size_t r = ZSTD_compressStream2(a->cctx, &o, &in, mode);
        if (ZSTD_isError(r)) {
            a->failed = true;
            return fail(a, VK_EIO, "log archive: zstd: %s (%s)", ZSTD_getErrorName(r), a->lpath);
        }
        if (o.pos && lt_write(a, a->lout, o.pos) != 0) return VK_EIO;
        if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0) return 0;
    }
}

static int lt_stage_out(struct vk_logarch *a, ZSTD_EndDirective mode)
{
    int rc = lt_compress(a, mode, a->lin, a->lin_len);
    a->lin_len = 0;
    return rc;
}

/* Start segment (hour, seq) written at <name><suffix>. */
static int lt_open_seg(struct vk_logarch *a, int64_t hour, uint64_t seq, const char *suffix)
{
    la_seg_name(a->lname, sizeof a->lname, hour, seq);
    snprintf(a->lpath, sizeof a->lpath, "%s/%s%s", a->arcdir, a->lname, suffix);
    a->lfd = open(a->lpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (a->lfd < 0) {
        a->failed = true;
        return fail(a, VK_EIO, "log archive: create %s: %s", a->lpath, strerror(errno));
    }
    ZSTD_CCtx_reset(a->cctx, ZSTD_reset_session_only);
    EVP_DigestInit_ex(a->sha, EVP_sha256(), NULL);
    memcpy(a->lin, LA_STREAM_MAGIC, LA_STREAM_MAGIC_LEN);
    a->lin_len = LA_STREAM_MAGIC_LEN;
    a->lopen = true;
    a->lhour = hour;
    a->lseq = seq;
    a->lmin = INT64_MAX;
    a->lmax = INT64_MIN;
    a->llines = a->lbytes = a->lcomp = 0;
    a->lprev_ms = 0;
    a->lsrclen = 0;
    return 0;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Append one record to the open segment. O(len): a memcpy; zstd runs per 128 KiB. */
static int lt_put(struct vk_logarch *a, int64_t recv_ms, const char *src, size_t srclen, const uint8_t *line,
                  size_t len, bool cut)
{
    bool same = a->llines > 0 && srclen == a->lsrclen && memcmp(src, a->lsrc, srclen) == 0;
    size_t need = LA_REC_HDR_MAX + srclen + len;
    if (a->lin_len + need > LT_IN) {
        int rc = lt_stage_out(a, ZSTD_e_continue);
        if (rc) return rc;
    }
    uint8_t *p = a->lin + a->lin_len;
    size_t h = 1;
    p[0] = (uint8_t)(LA_TAG | (cut ? LA_TAG_CUT : 0) | (same ? LA_TAG_SAME_SRC : 0));
    if (!same) p[h++] = (uint8_t)srclen;
    h += put_varint(p + h, len);
    uint64_t dt = (uint64_t)recv_ms - (uint64_t)a->lprev_ms; /* wraps: no overflow */
    h += put_varint(p + h, (dt << 1) ^ (uint64_t)((int64_t)dt >> 63));
    if (!same) {
        memcpy(p + h, src, srclen);
        h += srclen;
        memcpy(a->lsrc, src, srclen);
        a->lsrclen = srclen;
    }
    a->lprev_ms = recv_ms;
    if (h + len <= LT_IN - a->lin_len) {
        memcpy(p + h, line, len);
        a->lin_len += h + len;
    } else {
        a->lin_len += h;
        int rc = lt_stage_out(a, ZSTD_e_continue);
        if (rc == 0) rc = lt_compress(a, ZSTD_e_continue, line, len);
        if (rc) return rc;
    }
    if (recv_ms < a->lmin) a->lmin = recv_ms;
    if (recv_ms > a->lmax) a->lmax = recv_ms;
    a->llines++;
    a->lbytes += len;
    return 0;
}

static void head_write(struct vk_logarch *a)
{
    char tmp[PATH_MAX], hp[PATH_MAX], hx[65], buf[160];
    snprintf(tmp, sizeof tmp, "%s/head.tmp", a->arcdir);
    snprintf(hp, sizeof hp, "%s/head", a->arcdir);
    vk_hex(a->chain, 32, hx);
    int n = snprintf(buf, sizeof buf, "%s %llu %s\n", LA_HEAD_HEADER, (unsigned long long)a->entries, hx);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return;
    bool ok = write_all(fd, buf, (size_t)n) == 0 && fsync(fd) == 0;
    close(fd);
    if (ok) rename(tmp, hp);
}

/* Append one entry (fsync'd) and move the chain value on. */
static int chain_append(struct vk_logarch *a, const char *text)
{
    size_t n = strlen(text);
    char line[LA_CHAIN_LINE_MAX + 80];
    uint8_t next[32];
    if (n + 66 > LA_CHAIN_LINE_MAX) return fail(a, VK_EINVAL, "log archive: chain entry too long");
    la_chain_hash(a->chain, text, n, next);
    memcpy(line, text, n);
    line[n] = ' ';
    vk_hex(next, 32, line + n + 1);
    line[n + 65] = '\n';
    if (write_all(a->chfd, line, n + 66) != 0 || fsync(a->chfd) != 0) {
        a->failed = true;
        return fail(a, VK_EIO, "log archive: append to %s/chain: %s", a->arcdir, strerror(errno));
    }
    memcpy(a->chain, next, 32);
    a->entries++;
    return 0;
}

/* End the open segment's frame, fsync and hash it. The file stays at a->lpath. */
static int lt_finish_file(struct vk_logarch *a, uint8_t sha[32])
{
    int rc = lt_stage_out(a, ZSTD_e_end);
    if (rc == 0 && fsync(a->lfd) != 0) {
        a->failed = true;
        rc = fail(a, VK_EIO, "log archive: fsync %s: %s", a->lpath, strerror(errno));
    }
    close(a->lfd);
    a->lfd = -1;
    a->lopen = false;
    unsigned n = 32;
    EVP_DigestFinal_ex(a->sha, sha, &n);
    return rc;
}

/* The chain entry, the head, then the rename from a->lpath to the final name. */
static int lt_commit(struct vk_logarch *a, const uint8_t sha[32])
{
    char text[LA_CHAIN_LINE_MAX], hx[65], final[PATH_MAX];
    vk_hex(sha, 32, hx);
    snprintf(text, sizeof text, "seg %llu %s %lld %lld %lld %llu %llu %llu %s", (unsigned long long)a->lseq,
             a->lname, (long long)a->lhour, (long long)a->lmin, (long long)a->lmax, (unsigned long long)a->llines,
             (unsigned long long)a->lbytes, (unsigned long long)a->lcomp, hx);
    int rc = chain_append(a, text);
    if (rc) return rc;
    head_write(a);
    snprintf(final, sizeof final, "%s/%s", a->arcdir, a->lname);
    if (rename(a->lpath, final) != 0) {
        a->failed = true;
        return fail(a, VK_EIO, "log archive: rename %s: %s", a->lpath, strerror(errno));
    }
    fsync_dir(a->arcdir);
    a->last_seq = a->lseq;
    struct lt_seg s = {.seq = a->lseq, .max_ms = a->lmax};
    snprintf(s.name, sizeof s.name, "%s", a->lname);
    if (!push((void **)&a->ls, &a->nls, &a->capls, sizeof s, &s)) return fail(a, VK_ENOMEM, "log archive: out of memory");
    a->st.segments_sealed++;
    return 0;
}

static int lt_prune(struct vk_logarch *a, int64_t now_ms);

/* Drop the open segment's file (nothing in it worth keeping). */
static void lt_abandon(struct vk_logarch *a)
{
    if (a->lfd >= 0) close(a->lfd);
    a->lfd = -1;
    a->lopen = false;
    unlink(a->lpath);
}

static int lt_seal(struct vk_logarch *a)
{
    if (!a->lopen) return 0;
    if (a->llines == 0) {
        lt_abandon(a);
        return 0;
    }
    uint8_t sha[32];
    int rc = lt_finish_file(a, sha);
    if (rc == 0) rc = lt_commit(a, sha);
    if (rc == 0 && a->cfg.archive_years) rc = lt_prune(a, a->lmax);
    return rc;
}

static int lt_add(struct vk_logarch *a, int64_t recv_ms, const char *src, size_t srclen, const uint8_t *line,
                  size_t len, bool cut)
{
    int64_t t = recv_ms < 0 ? 0 : recv_ms > MAX_RECV_MS ? MAX_RECV_MS : recv_ms;
    int64_t hour = la_hour_of(t);
    int rc;
    if (a->lopen && hour > a->lhour && (rc = lt_seal(a)) != 0) return rc;
    /* a late line (earlier hour) joins the open segment: its chain entry keeps min..max */
    if (!a->lopen && (rc = lt_open_seg(a, hour, a->last_seq + 1, ".open")) != 0) return rc;
    return lt_put(a, recv_ms, src, srclen, line, len, cut);
}

/* Delete the oldest sealed segments whose newest line is older than archive_years before
 * now, after a `prune` chain entry says up to which one. */
static int lt_prune(struct vk_logarch *a, int64_t now_ms)
{
    if (!a->cfg.archive_years) return 0;
    int64_t keep = (int64_t)a->cfg.archive_years * YEAR_MS, cutoff;
    if (__builtin_sub_overflow(now_ms, keep, &cutoff)) return 0;
    size_t k = 0;
    while (k < a->nls && a->ls[k].max_ms < cutoff) k++;
    if (!k) return 0;
    char text[128];
    snprintf(text, sizeof text, "prune %llu %lld", (unsigned long long)a->ls[k - 1].seq, (long long)now_ms);
    int rc = chain_append(a, text);
    if (rc) return rc;
    head_write(a);
    a->pruned_upto = a->ls[k - 1].seq;
    for (size_t i = 0; i < k; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", a->arcdir, a->ls[i].name);
        unlink(p);
        a->st.segments_pruned++;
    }
    fsync_dir(a->arcdir);
    memmove(a->ls, a->ls + k, (a->nls - k) * sizeof *a->ls);
    a->nls -= k;
    return 0;
}

static int recover_rec(void *ud, const struct vk_logarch_rec *r)
{
    struct vk_logarch *a = ud;
    if (lt_put(a, r->recv_ms, r->source, r->source_len, r->line, r->len, r->cut) != 0) return 1;
    a->st.lines_recovered++;
    return 0;
}

/* An unsealed segment left by a crash: its complete records go into a clean file (same
 * hour, the next seq) that replaces it and is sealed. Idempotent if this crashes too. */
static int lt_recover_open(struct vk_logarch *a, const char *name, int64_t hour, uint64_t seq,
                           const struct la_chain *c)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", a->arcdir, name);
    /* sealed already, crash before the rename? */
    for (size_t i = 0; i < c->n; i++) {
        const struct la_entry *e = &c->e[i];
        char oname[LA_NAME_MAX + 8], final[PATH_MAX];
        snprintf(oname, sizeof oname, "%s.open", e->name);
        if (e->kind != LA_SEG || e->seq != seq || strcmp(oname, name) != 0) continue;
        uint8_t sha[32];
        uint64_t size;
        snprintf(final, sizeof final, "%s/%s", a->arcdir, e->name);
        if (la_file_sha256(path, sha, &size) == 0 && memcmp(sha, e->sha, 32) == 0) {
            if (access(final, F_OK) == 0) unlink(path);
            else if (rename(path, final) != 0) return fail(a, VK_EIO, "log archive: rename %s: %s", path, strerror(errno));
            fsync_dir(a->arcdir);
        } else {
            char dmg[PATH_MAX + 8];
            snprintf(dmg, sizeof dmg, "%s.damaged", path);
            rename(path, dmg); /* verify reports the segment missing and this file unexpected */
        }
        return 0;
    }
    int rc = lt_open_seg(a, hour, a->last_seq + 1, ".tmp");
    if (rc) return rc;
    struct la_read_res res;
    if (la_seg_read(path, recover_rec, a, &res) != 0) {
        int e = errno;
        lt_abandon(a);
        return fail(a, VK_EIO, "log archive: recover %s: %s", path, strerror(e));
    }
    if (a->failed) return VK_EIO;
    if (a->llines == 0) {
        lt_abandon(a);
        unlink(path);
        return 0;
    }
    uint8_t sha[32];
    char tmp[PATH_MAX], opath[PATH_MAX];
    rc = lt_finish_file(a, sha);
    snprintf(tmp, sizeof tmp, "%s", a->lpath);
    snprintf(opath, sizeof opath, "%s/%s.open", a->arcdir, a->lname);
    if (rc == 0 && rename(tmp, opath) != 0) rc = fail(a, VK_EIO, "log archive: rename %s: %s", tmp, strerror(errno));
    if (rc) return rc;
    if (strcmp(opath, path) != 0) unlink(path);
    snprintf(a->lpath, sizeof a->lpath, "%s", opath);
    return lt_commit(a, sha);
}

static int name_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static int lt_recover(struct vk_logarch *a)
{
    char cpath[PATH_MAX], hpath[PATH_MAX], err[300];
    snprintf(cpath, sizeof cpath, "%s/chain", a->arcdir);
    snprintf(hpath, sizeof hpath, "%s/head", a->arcdir);
    struct la_chain c;
    int rc = la_chain_load(cpath, &c, err, sizeof err);
    if (rc) return fail(a, rc, "log archive: %s", err);
    char reason[200] = "";
    if (!c.exists) {
        /* written aside and renamed: a crash never leaves a chain without its header */
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", cpath);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0 || write_all(fd, LA_CHAIN_HEADER "\n", strlen(LA_CHAIN_HEADER) + 1) != 0 || fsync(fd) != 0 ||
            rename(tmp, cpath) != 0) {
            int e = errno;
            if (fd >= 0) close(fd);
            la_chain_free(&c);
            return fail(a, VK_EIO, "log archive: create %s: %s", cpath, strerror(e));
        }
        close(fd);
        fsync_dir(a->arcdir);
        la_genesis(a->chain);
    } else {
        memcpy(a->chain, c.last, 32);
        a->entries = c.n;
        a->last_seq = c.last_seq;
        a->pruned_upto = c.pruned_upto;
        uint64_t hn = 0;
        uint8_t hc[32];
        int hrc = la_head_read(hpath, &hn, hc);
        bool head_now = hrc == 0 && hn == c.n && memcmp(hc, c.last, 32) == 0;
        /* a crash between the chain append and the head update leaves the head one behind */
        uint8_t prev[32];
        if (c.n >= 2) memcpy(prev, c.e[c.n - 2].chain, 32);
        else la_genesis(prev);
        bool head_prev = (hrc == 0 && c.n >= 1 && hn == c.n - 1 && memcmp(hc, prev, 32) == 0) ||
                         (hrc == VK_ENOTFOUND && c.n == 0);
        if (!c.header_ok) snprintf(reason, sizeof reason, "chain-header-damaged");
        if (c.torn) {
            if (head_now || (hrc == VK_ENOTFOUND && c.n == 0)) {
                /* an append cut by a crash: its segment is still .open and is redone below */
                if (truncate(cpath, (off_t)c.good_len) != 0) {
                    la_chain_free(&c);
                    return fail(a, VK_EIO, "log archive: repair %s: %s", cpath, strerror(errno));
                }
            } else {
                /* end the cut line so entries stay whole lines; the cut one stays as evidence */
                int fd = open(cpath, O_WRONLY | O_APPEND | O_CLOEXEC);
                bool ok = fd >= 0 && write_all(fd, "\n", 1) == 0;
                if (fd >= 0) close(fd);
                uint64_t cut_at = c.good_len;
                la_chain_free(&c);
                if (!ok || (rc = la_chain_load(cpath, &c, err, sizeof err)) != 0)
                    return fail(a, VK_EIO, "log archive: repair %s: %s", cpath, ok ? err : strerror(errno));
                memcpy(a->chain, c.last, 32);
                a->entries = c.n;
                a->last_seq = c.last_seq;
                a->pruned_upto = c.pruned_upto;
                c.good_len = cut_at;
                snprintf(reason, sizeof reason, "chain-ended-inside-an-entry-after-byte-%llu-head-says-%llu-entries",
                         (unsigned long long)c.good_len, (unsigned long long)hn);
            }
        } else if (!head_now && !head_prev) {
            snprintf(reason, sizeof reason, "head-file-says-%llu-entries-chain-has-%zu%s", (unsigned long long)hn,
                     c.n, hrc == VK_ENOTFOUND ? "-head-missing" : hrc ? "-head-malformed" : "");
        }
        for (size_t i = 0; i < c.n; i++) {
            const struct la_entry *e = &c.e[i];
            if (e->kind != LA_SEG || e->seq <= c.pruned_upto) continue;
            struct lt_seg s = {.seq = e->seq, .max_ms = e->max_ms};
            snprintf(s.name, sizeof s.name, "%s", e->name);
            if (!push((void **)&a->ls, &a->nls, &a->capls, sizeof s, &s)) {
                la_chain_free(&c);
                return fail(a, VK_ENOMEM, "log archive: out of memory");
            }
        }
    }
    a->chfd = open(cpath, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (a->chfd < 0) {
        la_chain_free(&c);
        return fail(a, VK_EIO, "log archive: open %s: %s", cpath, strerror(errno));
    }
    if (reason[0]) {
        /* keep the evidence in the chain itself and carry on archiving */
        char text[300];
        snprintf(text, sizeof text, "break %lld %s", (long long)time(NULL) * 1000, reason);
        rc = chain_append(a, text);
        if (rc) {
            la_chain_free(&c);
            return rc;
        }
    }
    head_write(a);

    /* unsealed segments and leftovers */
    DIR *d = opendir(a->arcdir);
    if (!d) {
        la_chain_free(&c);
        return fail(a, VK_EIO, "log archive: %s: %s", a->arcdir, strerror(errno));
    }
    char **opens = NULL;
    size_t no = 0, capo = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int64_t h;
        uint64_t q;
        bool op;
        size_t nl = strlen(de->d_name);
        if (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", a->arcdir, de->d_name);
            unlink(p);
        } else if (la_seg_name_parse(de->d_name, &h, &q, &op) && op) {
            char *s = strdup(de->d_name);
            if (!s || !push((void **)&opens, &no, &capo, sizeof s, &s)) free(s);
        } else if (la_seg_name_parse(de->d_name, &h, &q, &op) && q > a->last_seq) {
            /* a sealed file the chain does not know (cut chain): never reuse its name */
            a->last_seq = q;
        }
    }
    closedir(d);
    if (no) qsort(opens, no, sizeof *opens, name_cmp);
    for (size_t i = 0; i < no; i++) {
        int64_t h;
        uint64_t q;
        bool op;
        la_seg_name_parse(opens[i], &h, &q, &op);
        if (rc == 0) rc = lt_recover_open(a, opens[i], h, q, &c);
        free(opens[i]);
    }
    free(opens);
    la_chain_free(&c);
    return rc;
}

/* ---- the public interface ----------------------------------------------------------- */

struct vk_logarch *vk_logarch_open(const char *datadir, const struct vk_logarch_cfg *cfg, char *err, size_t errlen,
                                   int *rcp)
{
    int rc = 0;
    struct vk_logarch *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "log archive: out of memory");
        if (rcp) *rcp = VK_ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->lockfd = a->rfd = a->cfd = a->lfd = a->chfd = -1;
    if (cfg) a->cfg = *cfg;
    else vk_logarch_cfg_default(&a->cfg);
    struct vk_logarch_cfg *c = &a->cfg;
    if (c->raw_segment_bytes < 4096) c->raw_segment_bytes = 4096;
    if (c->raw_segment_bytes > (2ull << 30)) c->raw_segment_bytes = 2ull << 30;
    if (c->max_line == 0 || c->max_line > VK_LOGARCH_LINE_HARD_MAX) c->max_line = VK_LOGARCH_LINE_HARD_MAX;
    if (c->zstd_level < -5 || c->zstd_level > 19) c->zstd_level = 3;
    snprintf(a->dir, sizeof a->dir, "%s/logs", datadir);
    snprintf(a->rawdir, sizeof a->rawdir, "%s/raw", a->dir);
    snprintf(a->arcdir, sizeof a->arcdir, "%s/archive", a->dir);
    a->xx = XXH3_createState();
    if (!a->xx) {
        rc = fail(a, VK_ENOMEM, "log archive: out of memory");
        goto bad;
    }
    if (c->readonly) {
        struct stat sb;
        if (stat(a->rawdir, &sb) != 0) {
            rc = fail(a, VK_ENOTFOUND, "log archive: no raw log archive at %s", a->rawdir);
            goto bad;
        }
        return a;
    }
    if (mkdir_p(a->rawdir) != 0 || mkdir_p(a->arcdir) != 0) {
        rc = fail(a, VK_EIO, "log archive: create %s: %s", a->dir, strerror(errno));
        goto bad;
    }
    char lp[PATH_MAX];
    snprintf(lp, sizeof lp, "%s/lock", a->dir);
    a->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (a->lockfd < 0) {
        rc = fail(a, VK_EIO, "log archive: open %s: %s", lp, strerror(errno));
        goto bad;
    }
    if (flock(a->lockfd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t r = pread(a->lockfd, pid, sizeof pid - 1, 0);
        if (r > 0) pid[r] = 0;
        pid[strcspn(pid, "\n")] = 0;
        rc = fail(a, VK_LOGARCH_ELOCKED, "log archive: %s is in use by another writer (pid %s)", a->dir,
                  pid[0] ? pid : "?");
        goto bad;
    }
    char pid[32];
    int pn = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(a->lockfd, 0) == 0 && pwrite(a->lockfd, pid, (size_t)pn, 0) != pn) {
        /* only the "in use by pid N" message needs it */
    }

    a->rbuf = malloc(RAW_BUF);
    a->lin = malloc(LT_IN);
    a->lout_cap = ZSTD_CStreamOutSize();
    a->lout = malloc(a->lout_cap);
    a->cctx = ZSTD_createCCtx();
    a->sha = EVP_MD_CTX_new();
    if (!a->rbuf || !a->lin || !a->lout || !a->cctx || !a->sha) {
        rc = fail(a, VK_ENOMEM, "log archive: out of memory");
        goto bad;
    }
    ZSTD_CCtx_setParameter(a->cctx, ZSTD_c_compressionLevel, c->zstd_level);
    ZSTD_CCtx_setParameter(a->cctx, ZSTD_c_checksumFlag, 1);
    a->newest_ms = INT64_MIN;
    if ((rc = raw_recover(a)) != 0 || (rc = lt_recover(a)) != 0) goto bad;
    return a;
bad:
    snprintf(err, errlen, "%s", a->err);
    if (rcp) *rcp = rc;
    a->failed = true; /* close only releases */
    vk_logarch_close(a);
    return NULL;
}

int vk_logarch_append(struct vk_logarch *a, int64_t recv_ms, const char *source, const void *line, size_t len,
                      uint64_t *ref_out)
{
    if (a->cfg.readonly) return VK_EINVAL;
    if (!source) source = "";
    size_t srclen = strnlen(source, VK_LOGARCH_SRC_MAX);
    bool cut = len > a->cfg.max_line;
    if (cut) len = a->cfg.max_line;
    if (!line) len = 0;
    pthread_mutex_lock(&a->mu);
    int rc = VK_EIO;
    if (!a->failed) {
        rc = raw_add(a, recv_ms, source, srclen, line, len, cut, ref_out);
        if (rc == 0) rc = lt_add(a, recv_ms, source, srclen, line, len, cut);
        if (rc == 0) {
            a->st.lines++;
            a->st.bytes += len;
            a->st.lines_cut += cut;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int vk_logarch_flush(struct vk_logarch *a)
{
    if (a->cfg.readonly) return 0;
    pthread_mutex_lock(&a->mu);
    int rc = a->failed ? VK_EIO : raw_out(a);
    if (rc == 0 && a->lopen) rc = lt_stage_out(a, ZSTD_e_flush);
    if (rc == 0 && a->cfg.sync == VK_LOGARCH_SYNC_FLUSH) {
        if (fsync(a->rfd) != 0 || (a->lopen && fsync(a->lfd) != 0))
            rc = fail(a, VK_EIO, "log archive: fsync in %s: %s", a->dir, strerror(errno));
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int vk_logarch_tick(struct vk_logarch *a, int64_t now_ms)
{
    if (a->cfg.readonly) return 0;
    pthread_mutex_lock(&a->mu);
    int rc = 0;
    int64_t age;
    if (a->lopen && !a->failed && !__builtin_sub_overflow(now_ms, a->lhour, &age) &&
        age >= LA_HOUR_MS + TICK_GRACE_MS)
        rc = lt_seal(a);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int vk_logarch_seal(struct vk_logarch *a)
{
    if (a->cfg.readonly) return 0;
    pthread_mutex_lock(&a->mu);
    int rc = a->failed ? VK_EIO : lt_seal(a);
    if (rc == 0) rc = raw_out(a);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int vk_logarch_retention(struct vk_logarch *a, int64_t now_ms)
{
    if (a->cfg.readonly) return VK_EINVAL;
    pthread_mutex_lock(&a->mu);
    raw_enforce(a, now_ms);
    int rc = a->failed ? VK_EIO : lt_prune(a, now_ms);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void vk_logarch_stats(struct vk_logarch *a, struct vk_logarch_stats *st)
{
    pthread_mutex_lock(&a->mu);
    *st = a->st;
    st->raw_bytes_on_disk = a->rdisk + a->rlen;
    for (size_t i = 0; i < a->nrs; i++) st->raw_bytes_on_disk += a->rs[i].bytes;
    pthread_mutex_unlock(&a->mu);
}

const char *vk_logarch_error(struct vk_logarch *a) { return a->err; }

int vk_logarch_close(struct vk_logarch *a)
{
    if (!a) return 0;
    int rc = 0;
    if (!a->cfg.readonly && !a->failed) {
        rc = lt_seal(a);
        if (a->rfd >= 0) {
            int r2 = raw_close_cur(a, true);
            if (rc == 0) rc = r2;
        }
    }
    if (a->lfd >= 0) close(a->lfd); /* failed: the .open file is recovered next time */
    if (a->rfd >= 0) close(a->rfd);
    if (a->cfd >= 0) close(a->cfd);
    if (a->chfd >= 0) close(a->chfd);
    if (a->lockfd >= 0) close(a->lockfd); /* releases the flock */
    ZSTD_freeCCtx(a->cctx);
    EVP_MD_CTX_free(a->sha);
    if (a->xx) XXH3_freeState(a->xx);
    free(a->rbuf);
    free(a->lin);
    free(a->lout);
    free(a->rs);
    free(a->ls);
    pthread_mutex_destroy(&a->mu);
    free(a);
    return rc;
}
