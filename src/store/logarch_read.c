/* logarch_read.c — the readers of the long-term log archive: the chain file, the segment
 * reader (streaming zstd, bounded), verify and search.
 *
 * Nothing here takes the writer's lock or writes a byte: verify and search run while a
 * writer appends, on the sealed segments (and the open one up to its last flush). Every
 * byte read is untrusted: a damaged or forged segment or chain file is named in a message,
 * never crashes or loops. The writer (logarch.c) uses the segment reader to recover an
 * unsealed segment after a crash. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zstd.h>

#include "logarch_int.h"

/* ---- small helpers ------------------------------------------------------------------ */

static void hex32(const uint8_t in[32], char out[65]) { vk_hex(in, 32, out); }

static bool unhex32(const char *s, size_t n, uint8_t out[32])
{
    if (n != 64) return false;
    for (size_t i = 0; i < 32; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[2 * i + k];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0) return false;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    uint64_t v;
    if (!parse_u64(s + neg, n - neg, &v)) return false;
    if (v > (uint64_t)INT64_MAX) return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void la_genesis(uint8_t out[32]) { SHA256((const uint8_t *)LA_CHAIN_HEADER, strlen(LA_CHAIN_HEADER), out); }

void la_chain_hash(const uint8_t prev[32], const char *text, size_t n, uint8_t out[32])
{
    uint8_t buf[32 + LA_CHAIN_LINE_MAX];
    if (n > LA_CHAIN_LINE_MAX) n = LA_CHAIN_LINE_MAX; /* callers never pass more */
    memcpy(buf, prev, 32);
    memcpy(buf + 32, text, n);
    SHA256(buf, 32 + n, out);
}

/* ---- segment names ------------------------------------------------------------------ */

void la_seg_name(char *out, size_t n, int64_t hour_ms, uint64_t seq)
{
    time_t t = (time_t)(hour_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d.%08llu.zst", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, (unsigned long long)seq);
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

bool la_seg_name_parse(const char *name, int64_t *hour_ms, uint64_t *seq, bool *open)
{
    size_t n = strlen(name);
    /* YYYY-MM-DDTHH. = 14 bytes, then 8..20 digits, then .zst[.open] */
    if (n < 14 + 8 + 4) return false;
    if (!digits(name, 4) || name[4] != '-' || !digits(name + 5, 2) || name[7] != '-' ||
        !digits(name + 8, 2) || name[10] != 'T' || !digits(name + 11, 2) || name[13] != '.')
        return false;
    const char *s = name + 14;
    size_t k = 0;
    while (s[k] >= '0' && s[k] <= '9') k++;
    if (k < 8 || k > 20) return false;
    const char *rest = s + k;
    bool op;
    if (strcmp(rest, ".zst") == 0) op = false;
    else if (strcmp(rest, ".zst.open") == 0) op = true;
    else return false;
    uint64_t q;
    if (!parse_u64(s, k, &q)) return false;
    unsigned y = (unsigned)atoi(name), mo = (unsigned)atoi(name + 5), d = (unsigned)atoi(name + 8),
             h = (unsigned)atoi(name + 11);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23) return false;
    if (hour_ms) *hour_ms = (days_from_civil(y, mo, d) * 24 + h) * LA_HOUR_MS;
    if (seq) *seq = q;
    if (open) *open = op;
    return true;
}

/* ---- the chain file ----------------------------------------------------------------- */

#define MAXTOK 12
static int split(char *s, size_t n, char **tok, size_t *len)
{
    int nt = 0;
    size_t i = 0;
    while (i < n) {
        if (nt == MAXTOK) return -1;
        size_t j = i;
        while (j < n && s[j] != ' ') j++;
        if (j == i) return -1; /* empty token: two spaces, or a leading/trailing one */
        tok[nt] = s + i;
        len[nt++] = j - i;
        i = j + 1;
        if (j < n && i == n) return -1; /* trailing space */
    }
    return nt;
}

static void parse_entry(struct la_chain *c, struct la_entry *e, char *text, size_t n)
{
    e->kind = LA_BAD;
    if (memchr(text, '\0', n)) return;
    const char *sp = NULL;
    for (size_t i = n; i > 0; i--)
        if (text[i - 1] == ' ') {
            sp = text + i - 1;
            break;
        }
    if (!sp) return;
    size_t blen = (size_t)(sp - text);
    if (!unhex32(sp + 1, n - blen - 1, e->chain)) return;
    uint8_t want[32];
    la_chain_hash(c->last, text, blen, want);
    e->chain_ok = memcmp(want, e->chain, 32) == 0;
    memcpy(c->last, e->chain, 32);

    char *tok[MAXTOK];
    size_t len[MAXTOK];
    int nt = split(text, blen, tok, len);
    if (nt < 1) return;
    if (len[0] == 3 && memcmp(tok[0], "seg", 3) == 0 && nt == 10) {
        if (len[2] >= LA_NAME_MAX) return;
        memcpy(e->name, tok[2], len[2]);
        e->name[len[2]] = 0;
        bool op;
        if (!la_seg_name_parse(e->name, NULL, NULL, &op) || op) return; /* the name is a path: strict */
        if (!parse_u64(tok[1], len[1], &e->seq) || !parse_i64(tok[3], len[3], &e->hour_ms) ||
            !parse_i64(tok[4], len[4], &e->min_ms) || !parse_i64(tok[5], len[5], &e->max_ms) ||
            !parse_u64(tok[6], len[6], &e->lines) || !parse_u64(tok[7], len[7], &e->line_bytes) ||
            !parse_u64(tok[8], len[8], &e->file_bytes) || !unhex32(tok[9], len[9], e->sha))
            return;
        e->kind = LA_SEG;
        if (e->seq > c->last_seq) c->last_seq = e->seq;
    } else if (len[0] == 5 && memcmp(tok[0], "prune", 5) == 0 && nt == 3) {
        if (!parse_u64(tok[1], len[1], &e->upto) || !parse_i64(tok[2], len[2], &e->at_ms)) return;
        e->kind = LA_PRUNE;
        if (e->upto > c->pruned_upto) c->pruned_upto = e->upto;
    } else if (len[0] == 5 && memcmp(tok[0], "break", 5) == 0 && nt == 3) {
        if (!parse_i64(tok[1], len[1], &e->at_ms)) return;
        size_t m = len[2] < sizeof e->reason - 1 ? len[2] : sizeof e->reason - 1;
        for (size_t i = 0; i < m; i++) /* printed later: no control bytes */
            e->reason[i] = tok[2][i] > 0x20 && tok[2][i] < 0x7f ? tok[2][i] : '?';
        e->reason[m] = 0;
        e->kind = LA_BREAK;
    }
}

int la_chain_load(const char *path, struct la_chain *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    la_genesis(c->last);
    int fd = la_open_reg(path, O_RDONLY);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: %s", path, errno == EINVAL ? "not a regular file" : strerror(errno));
        return VK_EIO;
    }
    c->exists = true;
    char line[LA_CHAIN_LINE_MAX + 1];
    size_t len = 0;
    bool over = false;
    unsigned lineno = 0;
    uint64_t off = 0;
    int ch;
    while ((ch = getc_unlocked(f)) != EOF) {
        off++;
        if (ch != '\n') {
            if (len < LA_CHAIN_LINE_MAX) line[len++] = (char)ch;
            else over = true;
            continue;
        }
        lineno++;
        c->good_len = off;
        if (lineno == 1) {
            c->header_ok = !over && len == strlen(LA_CHAIN_HEADER) && memcmp(line, LA_CHAIN_HEADER, len) == 0;
        } else if (c->n >= LA_CHAIN_MAX_ENTRIES) {
            c->too_big = true;
            break;
        } else {
            if (c->n == c->cap) {
                size_t nc = c->cap ? c->cap * 2 : 64;
                struct la_entry *ne = realloc(c->e, nc * sizeof *ne);
                if (!ne) {
                    fclose(f);
                    snprintf(err, errlen, "%s: out of memory at line %u", path, lineno);
                    return VK_ENOMEM;
                }
                c->e = ne;
                c->cap = nc;
            }
            struct la_entry *e = &c->e[c->n++];
            memset(e, 0, sizeof *e);
            e->lineno = lineno;
            if (!over) parse_entry(c, e, line, len);
        }
        len = 0;
        over = false;
    }
    if (ferror(f)) {
        fclose(f);
        snprintf(err, errlen, "%s: read error", path);
        return VK_EIO;
    }
    if (len > 0 || over) c->torn = true;
    fclose(f);
    return 0;
}

void la_chain_free(struct la_chain *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

int la_head_read(const char *path, uint64_t *entries, uint8_t chain[32])
{
    char buf[256];
    int fd = la_open_reg(path, O_RDONLY);
    if (fd < 0) return VK_ENOTFOUND;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) return VK_EFORMAT;
    buf[r] = 0;
    size_t hl = strlen(LA_HEAD_HEADER);
    if ((size_t)r < hl + 1 + 1 + 1 + 64 + 1 || memcmp(buf, LA_HEAD_HEADER " ", hl + 1) != 0) return VK_EFORMAT;
    char *p = buf + hl + 1, *sp = strchr(p, ' ');
    if (!sp || !parse_u64(p, (size_t)(sp - p), entries)) return VK_EFORMAT;
    char *h = sp + 1, *nl = strchr(h, '\n');
    if (!nl || nl[1] != 0 || !unhex32(h, (size_t)(nl - h), chain)) return VK_EFORMAT;
    return 0;
}

/* ---- segment reader ----------------------------------------------------------------- */

int la_file_sha256(const char *path, uint8_t out[32], uint64_t *size)
{
    int fd = la_open_reg(path, O_RDONLY);
    if (fd < 0) return VK_EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *buf = malloc(1 << 16);
    int rc = 0;
    uint64_t total = 0;
    if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) rc = VK_ENOMEM;
    while (rc == 0) {
        ssize_t r = read(fd, buf, 1 << 16);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = VK_EIO;
        if (r <= 0) break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        total += (uint64_t)r;
    }
    unsigned olen = 32;
    if (rc == 0) EVP_DigestFinal_ex(ctx, out, &olen);
    if (size) *size = total;
    EVP_MD_CTX_free(ctx);
    free(buf);
    close(fd);
    return rc;
}

/* A varint at p[*i..n): 1 done, 0 needs more bytes, -1 too long. */
static int get_varint(const uint8_t *p, size_t n, size_t *i, unsigned maxb, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < maxb; k++) {
        if (*i + k >= n) return 0;
        uint8_t b = p[*i + k];
        v |= (uint64_t)(b & 0x7f) << (7 * k);
        if (!(b & 0x80)) {
            *i += k + 1;
            *out = v;
            return 1;
        }
    }
    return -1;
}

/* Parse the complete records in p[0..n); returns bytes consumed. */
static size_t parse_records(const uint8_t *p, size_t n, uint64_t base, struct la_pstate *st, vk_logarch_fn fn,
                            void *ud, struct la_read_res *res)
{
    size_t pos = 0;
    if (!st->magic_seen) {
        if (n < LA_STREAM_MAGIC_LEN) return 0;
        if (memcmp(p, LA_STREAM_MAGIC, LA_STREAM_MAGIC_LEN) != 0) {
            res->corrupt = true;
            snprintf(res->why, sizeof res->why, "not a vakt log segment (bad stream header)");
            return 0;
        }
        st->magic_seen = true;
        pos = LA_STREAM_MAGIC_LEN;
    }
    while (pos < n) {
        uint8_t tag = p[pos];
        size_t i = pos + 1, srclen;
        uint64_t len, zz;
        if ((tag & 0xfc) != LA_TAG || ((tag & LA_TAG_SAME_SRC) && res->lines == 0)) {
            res->corrupt = true;
            snprintf(res->why, sizeof res->why, "bad record tag 0x%02x at content offset %llu", tag,
                     (unsigned long long)(base + pos));
            return pos;
        }
        bool same = tag & LA_TAG_SAME_SRC;
        if (same) srclen = 0;
        else if (i < n) srclen = p[i++];
        else break;
        int r1 = get_varint(p, n, &i, 5, &len), r2 = r1 == 1 ? get_varint(p, n, &i, 10, &zz) : 0;
        if (r1 < 0 || r2 < 0 || (r1 == 1 && len > VK_LOGARCH_LINE_HARD_MAX)) {
            res->corrupt = true;
            snprintf(res->why, sizeof res->why, "bad record header at content offset %llu",
                     (unsigned long long)(base + pos));
            return pos;
        }
        if (r1 == 0 || r2 == 0 || n - i < srclen + len) break;
        if (!same) {
            memcpy(st->src, p + i, srclen);
            st->srclen = (uint8_t)srclen;
        }
        uint64_t dt = (zz >> 1) ^ (0 - (zz & 1));
        st->prev_ms = (int64_t)((uint64_t)st->prev_ms + dt);
        struct vk_logarch_rec r = {
            .recv_ms = st->prev_ms,
            .source = st->src,
            .source_len = st->srclen,
            .line = p + i + srclen,
            .len = (size_t)len,
            .cut = tag & LA_TAG_CUT,
        };
        res->lines++;
        res->line_bytes += len;
        if (r.recv_ms < res->min_ms) res->min_ms = r.recv_ms;
        if (r.recv_ms > res->max_ms) res->max_ms = r.recv_ms;
        pos = i + srclen + (size_t)len;
        if (fn && fn(ud, &r)) {
            res->stopped = true;
            return pos;
        }
    }
    return pos;
}

int la_seg_read(const char *path, vk_logarch_fn fn, void *ud, struct la_read_res *res)
{
    memset(res, 0, sizeof *res);
    res->min_ms = INT64_MAX;
    res->max_ms = INT64_MIN;
    int fd = la_open_reg(path, O_RDONLY);
    if (fd < 0) return VK_EIO;
    size_t insz = ZSTD_DStreamInSize(), outsz = ZSTD_DStreamOutSize();
    ZSTD_DCtx *d = ZSTD_createDCtx();
    uint8_t *in_buf = malloc(insz), *out_buf = malloc(outsz);
    struct vk_buf pend;
    vk_buf_init(&pend, LA_REC_HDR_MAX + 255 + VK_LOGARCH_LINE_HARD_MAX + outsz);
    int rc = 0;
    if (!d || !in_buf || !out_buf) {
        rc = VK_ENOMEM;
        goto out;
    }
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, LA_DWINDOW_LOG);
    struct la_pstate st = {0};
    size_t zret = 1; /* nothing decoded yet: "inside a frame" */
    uint64_t base = 0, foff = 0;
    for (;;) {
        ssize_t r = read(fd, in_buf, insz);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            res->corrupt = true;
            snprintf(res->why, sizeof res->why, "read error at file offset %llu: %s", (unsigned long long)foff,
                     strerror(errno));
            goto out;
        }
        if (r == 0) break;
        ZSTD_inBuffer in = {in_buf, (size_t)r, 0};
        ZSTD_outBuffer o;
        do {
            o = (ZSTD_outBuffer){out_buf, outsz, 0};
            zret = ZSTD_decompressStream(d, &o, &in);
            if (ZSTD_isError(zret)) {
                res->corrupt = true;
                snprintf(res->why, sizeof res->why, "zstd: %s (file offset %llu..%llu)", ZSTD_getErrorName(zret),
                         (unsigned long long)foff, (unsigned long long)(foff + (uint64_t)r));
                goto out;
            }
            if (o.pos) {
                if (vk_buf_append(&pend, out_buf, o.pos) != 0) {
                    res->corrupt = true;
                    snprintf(res->why, sizeof res->why, "record over the size cap at content offset %llu",
                             (unsigned long long)base);
                    goto out;
                }
                size_t used = parse_records(pend.p, pend.len, base, &st, fn, ud, res);
                vk_buf_consume(&pend, used);
                base += used;
                if (res->corrupt || res->stopped) goto out;
            }
        } while (in.pos < in.size || o.pos == o.size);
        foff += (uint64_t)r;
    }
    if (zret != 0) {
        res->truncated = true;
        snprintf(res->why, sizeof res->why, "ends inside a zstd frame at file offset %llu",
                 (unsigned long long)foff);
    } else if (pend.len > 0 || !st.magic_seen) {
        res->truncated = true;
        snprintf(res->why, sizeof res->why, "ends inside a record at content offset %llu",
                 (unsigned long long)base);
    }
out:
    vk_buf_free(&pend);
    free(in_buf);
    free(out_buf);
    ZSTD_freeDCtx(d);
    close(fd);
    if (res->lines == 0) res->min_ms = res->max_ms = 0;
    return rc;
}

/* ---- listing the archive directory -------------------------------------------------- */

struct dfile {
    char name[LA_NAME_MAX + 8];
    int64_t hour_ms;
    uint64_t seq;
    bool open, seg, used;
};

static int dfile_cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct dfile *)a)->name, ((const struct dfile *)b)->name);
}

static int dfile_cmp_time(const void *a, const void *b)
{
    const struct dfile *x = a, *y = b;
    if (x->hour_ms != y->hour_ms) return x->hour_ms < y->hour_ms ? -1 : 1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return (int)x->open - (int)y->open;
}

/* Every regular name in dir except the chain and head (other files are reported by
 * verify). *out is malloc'd. Returns the count or VK_EIO / VK_ENOMEM. */
static long list_dir(const char *dir, struct dfile **out, unsigned *skipped_long)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d) return VK_EIO;
    struct dfile *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
        if (strcmp(de->d_name, "chain") == 0 || strcmp(de->d_name, "head") == 0) continue;
        if (strlen(de->d_name) >= sizeof v->name) {
            if (skipped_long) (*skipped_long)++;
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct dfile *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                closedir(d);
                return VK_ENOMEM;
            }
            v = nv;
            cap = nc;
        }
        struct dfile *f = &v[n++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", de->d_name);
        f->seg = la_seg_name_parse(f->name, &f->hour_ms, &f->seq, &f->open);
    }
    closedir(d);
    *out = v;
    return (long)n;
}

/* ---- verify ------------------------------------------------------------------------- */

struct vctx {
    FILE *rep;
    int problems;
};

__attribute__((format(printf, 2, 3))) static void problem(struct vctx *v, const char *fmt, ...)
{
    va_list ap;
    v->problems++;
    if (!v->rep) return;
    va_start(ap, fmt);
    vfprintf(v->rep, fmt, ap);
    va_end(ap);
    fputc('\n', v->rep);
}

__attribute__((format(printf, 2, 3))) static void note(struct vctx *v, const char *fmt, ...)
{
    va_list ap;
    if (!v->rep) return;
    va_start(ap, fmt);
    vfprintf(v->rep, fmt, ap);
    va_end(ap);
    fputc('\n', v->rep);
}

static int entry_cmp_sha(const void *a, const void *b)
{
    return memcmp((*(const struct la_entry *const *)a)->sha, (*(const struct la_entry *const *)b)->sha, 32);
}

/* The chain entry (other than self) whose segment hash is sha, or NULL. */
static const struct la_entry *by_sha(struct la_entry **idx, size_t n, const uint8_t sha[32],
                                     const struct la_entry *self)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(idx[mid]->sha, sha, 32);
        if (c == 0) {
            while (mid > 0 && memcmp(idx[mid - 1]->sha, sha, 32) == 0) mid--;
            for (; mid < n && memcmp(idx[mid]->sha, sha, 32) == 0; mid++)
                if (idx[mid] != self) return idx[mid];
            return NULL;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* A directory entry's name fit for a terminal. */
static const char *printable(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    buf[i] = 0;
    return buf;
}

static struct dfile *find_file(struct dfile *v, size_t n, const char *name)
{
    struct dfile key;
    if (n == 0) return NULL;
    snprintf(key.name, sizeof key.name, "%s", name);
    return bsearch(&key, v, n, sizeof *v, dfile_cmp_name);
}

static void verify_chain(struct vctx *v, const struct la_chain *c, const char *cpath)
{
    if (!c->header_ok) problem(v, "CHAIN %s line 1: not a chain header (want \"%s\")", cpath, LA_CHAIN_HEADER);
    uint64_t prev_seq = 0;
    unsigned prev_line = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct la_entry *e = &c->e[i];
        if (e->kind == LA_BAD) {
            problem(v, "CHAIN %s line %u: malformed entry (edited or damaged)", cpath, e->lineno);
            continue;
        }
        if (!e->chain_ok)
            problem(v, "CHAIN %s line %u: chain value does not match (entry edited, or an entry before it "
                       "removed, inserted or reordered)", cpath, e->lineno);
        if (e->kind == LA_BREAK)
            problem(v, "BREAK %s line %u: the writer found the chain damaged at %lld: %s", cpath, e->lineno,
                    (long long)e->at_ms, e->reason);
        if (e->kind != LA_SEG) continue;
        if (e->seq <= prev_seq)
            problem(v, "ORDER %s line %u: segment %llu comes after segment %llu (line %u): entries reordered",
                    cpath, e->lineno, (unsigned long long)e->seq, (unsigned long long)prev_seq, prev_line);
        else if (e->seq != prev_seq + 1)
            problem(v, "CHAIN %s line %u: segment %llu follows segment %llu: entries %llu..%llu missing", cpath,
                    e->lineno, (unsigned long long)e->seq, (unsigned long long)prev_seq,
                    (unsigned long long)prev_seq + 1, (unsigned long long)e->seq - 1);
        prev_seq = e->seq;
        prev_line = e->lineno;
        int64_t h;
        uint64_t q;
        bool op;
        if (!la_seg_name_parse(e->name, &h, &q, &op) || op || h != e->hour_ms || q != e->seq)
            problem(v, "CHAIN %s line %u: segment name %s does not match its hour and sequence", cpath, e->lineno,
                    e->name);
    }
    if (c->torn)
        problem(v, "TRUNCATED %s: ends inside an entry after byte %llu (line %u)", cpath,
                (unsigned long long)c->good_len, (unsigned)(c->n + 2));
    if (c->too_big) problem(v, "CHAIN %s: more than %u entries, rest not checked", cpath, LA_CHAIN_MAX_ENTRIES);
}

/* Was segment seq pruned after we read the chain? (retention runs while we verify) */
static bool pruned_since(const char *cpath, uint64_t seq)
{
    struct la_chain c2;
    char err[256];
    bool r = false;
    if (la_chain_load(cpath, &c2, err, sizeof err) == 0) r = seq <= c2.pruned_upto;
    la_chain_free(&c2);
    return r;
}

static void verify_segment(struct vctx *v, const char *adir, const char *cpath, struct la_entry *e,
                           struct dfile *files, size_t nf, struct la_entry **idx, size_t nidx,
                           const struct vk_logarch_verify_opt *opt, bool pruned, unsigned *ok, unsigned *gone)
{
    char path[PATH_MAX + LA_NAME_MAX + 8], oname[LA_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%s", adir, e->name);
    snprintf(oname, sizeof oname, "%s.open", e->name);
    struct dfile *f = find_file(files, nf, e->name), *of = find_file(files, nf, oname);
    if (f) f->used = true;
    if (of) of->used = true;
    uint8_t sha[32];
    uint64_t size = 0;
    /* final name; else still .open (the chain entry is written before the rename); else
     * renamed meanwhile. The listing is older than the chain: try the names, not it. */
    int rc = la_file_sha256(path, sha, &size);
    bool sealing = false;
    if (rc != 0 && errno == ENOENT) {
        strcat(path, ".open");
        rc = la_file_sha256(path, sha, &size);
        sealing = rc == 0;
        if (rc != 0 && errno == ENOENT) path[strlen(path) - 5] = 0, rc = la_file_sha256(path, sha, &size);
    }
    int open_errno = errno;
    if (sealing) note(v, "note %s: being sealed (checked as %s)", e->name, oname);
    if (rc != 0) {
        if (pruned || pruned_since(cpath, e->seq)) {
            (*gone)++;
            if (opt && opt->verbose) note(v, "pruned  %s (chain line %u)", e->name, e->lineno);
            return;
        }
        problem(v, "MISSING %s: segment %llu (chain line %u) is not in %s%s", e->name, (unsigned long long)e->seq,
                e->lineno, adir, open_errno == EINVAL ? " (not a regular file)" : "");
        return;
    }
    if (memcmp(sha, e->sha, 32) != 0 || size != e->file_bytes) {
        char got[65], want[65];
        hex32(sha, got);
        hex32(e->sha, want);
        const struct la_entry *o = by_sha(idx, nidx, sha, e);
        if (o)
            problem(v, "SWAPPED %s: holds the content of %s (chain line %u), not its own (chain line %u): "
                       "segments swapped, renamed or reordered", e->name, o->name, o->lineno, e->lineno);
        else
            problem(v, "CHANGED %s: sha256 %s, %llu bytes; chain line %u says %s, %llu bytes", e->name, got,
                    (unsigned long long)size, e->lineno, want, (unsigned long long)e->file_bytes);
        return;
    }
    if (opt && opt->deep) {
        struct la_read_res res;
        int r = la_seg_read(path, NULL, NULL, &res);
        if (r != 0 && errno == ENOENT && sealing) { /* renamed since it was hashed */
            path[strlen(path) - 5] = 0;
            r = la_seg_read(path, NULL, NULL, &res);
        }
        if (r != 0) {
            problem(v, "MISSING %s: cannot be read: %s", e->name, strerror(errno));
            return;
        }
        if (res.corrupt || res.truncated) {
            problem(v, "DAMAGED %s: %s (the hash matches: written damaged)", e->name, res.why);
            return;
        }
        if (res.lines != e->lines || res.line_bytes != e->line_bytes ||
            (res.lines && (res.min_ms != e->min_ms || res.max_ms != e->max_ms))) {
            problem(v, "COUNTS %s: holds %llu lines, %llu bytes, %lld..%lld; chain line %u says %llu, %llu, "
                       "%lld..%lld", e->name, (unsigned long long)res.lines, (unsigned long long)res.line_bytes,
                    (long long)res.min_ms, (long long)res.max_ms, e->lineno, (unsigned long long)e->lines,
                    (unsigned long long)e->line_bytes, (long long)e->min_ms, (long long)e->max_ms);
            return;
        }
    }
    (*ok)++;
    if (opt && opt->verbose)
        note(v, "ok      %s: %llu lines, %llu bytes in %llu (chain line %u)", e->name, (unsigned long long)e->lines,
             (unsigned long long)e->line_bytes, (unsigned long long)e->file_bytes, e->lineno);
}

int vk_logarch_verify(const char *datadir, const struct vk_logarch_verify_opt *opt, FILE *report)
{
    struct vctx v = {report, 0};
    char adir[PATH_MAX], cpath[PATH_MAX + 8], hpath[PATH_MAX + 8], err[256] = "";
    snprintf(adir, sizeof adir, "%s/logs/archive", datadir);
    snprintf(cpath, sizeof cpath, "%s/chain", adir);
    snprintf(hpath, sizeof hpath, "%s/head", adir);

    /* Listed before the chain is read, then the head (seal writes in the other order).
     * A chain line being appended by a writer sealing right now can look cut: when an
     * open segment is there, look again once before calling it a problem. */
    struct dfile *files = NULL;
    unsigned longnames = 0;
    long nf;
    struct la_chain c;
    uint64_t hentries = 0;
    uint8_t hchain[32];
    int hrc;
    for (int attempt = 0;; attempt++) {
        nf = list_dir(adir, &files, &longnames);
        if (nf < 0) {
            problem(&v, "NOARCHIVE %s: %s", adir, strerror(errno));
            return -v.problems;
        }
        if (la_chain_load(cpath, &c, err, sizeof err) != 0) {
            problem(&v, "CHAIN %s", err);
            free(files);
            return -v.problems;
        }
        hrc = la_head_read(hpath, &hentries, hchain);
        bool open_seg = false;
        for (long i = 0; i < nf; i++) open_seg |= files[i].seg && files[i].open;
        if (!c.torn || !open_seg || attempt == 1) break;
        la_chain_free(&c);
        free(files);
        longnames = 0;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (nf > 0) qsort(files, (size_t)nf, sizeof *files, dfile_cmp_name);
    if (!c.exists) {
        bool any = false;
        for (long i = 0; i < nf; i++) any |= files[i].seg && !files[i].open;
        if (any) problem(&v, "CHAIN %s: missing, but sealed segments exist", cpath);
    } else {
        verify_chain(&v, &c, cpath);
    }

    /* the head file: a chain cut at a line boundary (with its segments) shows here */
    if (c.exists && c.n > 0) {
        if (hrc == VK_ENOTFOUND) problem(&v, "HEAD %s: missing", hpath);
        else if (hrc != 0) problem(&v, "HEAD %s: malformed", hpath);
        else if (hentries != c.n || memcmp(hchain, c.last, 32) != 0) {
            char hx[65];
            hex32(hchain, hx);
            /* one behind, at the previous entry: a seal or prune between its chain append
             * and its head update (now, or cut by a crash: the next writer updates it) */
            uint8_t prev[32];
            if (c.n >= 2) memcpy(prev, c.e[c.n - 2].chain, 32);
            else la_genesis(prev);
            if (hentries + 1 == c.n && memcmp(hchain, prev, 32) == 0)
                note(&v, "note %s: one entry behind the chain (a seal in progress or interrupted)", hpath);
            else if (hentries > c.n)
                problem(&v, "TRUNCATED %s: has %zu entries, the head file says %llu (chain %s)", cpath, c.n,
                        (unsigned long long)hentries, hx);
            else
                problem(&v, "HEAD %s: says %llu entries ending in %s; the chain has %zu", hpath,
                        (unsigned long long)hentries, hx, c.n);
        }
    } else if (hrc == 0 && hentries > 0) {
        problem(&v, "TRUNCATED %s: empty or missing, the head file says %llu entries", cpath,
                (unsigned long long)hentries);
    }

    struct la_entry **idx = calloc(c.n ? c.n : 1, sizeof *idx);
    size_t nidx = 0;
    for (size_t i = 0; idx && i < c.n; i++)
        if (c.e[i].kind == LA_SEG) idx[nidx++] = &c.e[i];
    if (idx && nidx) qsort(idx, nidx, sizeof *idx, entry_cmp_sha);

    unsigned ok = 0, gone = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.e[i].kind == LA_SEG)
            verify_segment(&v, adir, cpath, &c.e[i], files, (size_t)nf, idx, nidx, opt,
                           c.e[i].seq <= c.pruned_upto, &ok, &gone);

    char pb[LA_NAME_MAX + 8];
    for (long i = 0; i < nf; i++) {
        struct dfile *f = &files[i];
        if (f->used) continue;
        if (f->seg && !f->open)
            problem(&v, "ADDED %s: in %s but not in the chain (added, or the chain was truncated)", f->name, adir);
        else if (f->seg && f->open)
            note(&v, "note %s: open segment (being written, or left by a crash: `vakt archive seal` recovers it)",
                 f->name);
        else if (strstr(f->name, ".tmp"))
            note(&v, "note %s: temporary file (a write was interrupted)", printable(f->name, pb, sizeof pb));
        else
            problem(&v, "UNEXPECTED %s/%s: not a file of the log archive", adir, printable(f->name, pb, sizeof pb));
    }
    if (longnames) problem(&v, "UNEXPECTED %s: %u files with over-long names", adir, longnames);

    if (opt && opt->expect_head && *opt->expect_head) {
        uint8_t want[32];
        bool found = false;
        if (!unhex32(opt->expect_head, strlen(opt->expect_head), want)) {
            problem(&v, "HEAD --expect-head %s: not a 64-digit hex SHA-256", opt->expect_head);
        } else {
            for (size_t i = 0; i < c.n && !found; i++) found = c.e[i].kind != LA_BAD && c.e[i].chain_ok &&
                                                              memcmp(c.e[i].chain, want, 32) == 0;
            if (!found)
                problem(&v, "HEAD %s: the chain value %s recorded elsewhere is not in the chain (chain rewritten)",
                        cpath, opt->expect_head);
        }
    }
    char hx[65];
    hex32(c.last, hx);
    note(&v, "verify: %u segments ok, %u pruned, %d problem%s; head %s (%zu entries)", ok, gone, v.problems,
         v.problems == 1 ? "" : "s", hx, c.n);
    free(idx);
    free(files);
    la_chain_free(&c);
    return -v.problems;
}

/* ---- search ------------------------------------------------------------------------- */

struct sctx {
    const struct vk_logarch_query *q;
    vk_logarch_fn fn;
    void *ud;
    regex_t re;
    bool has_re;
    uint8_t *lpat; /* lower-cased pattern for icase substring */
    size_t plen;
    uint8_t *scratch;
    size_t scap;
    int64_t matches;
    bool stop;
};

static int entry_cmp_seq(const void *a, const void *b)
{
    const struct la_entry *x = *(const struct la_entry *const *)a, *y = *(const struct la_entry *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool match_line(struct sctx *s, const uint8_t *line, size_t len)
{
    if (!s->has_re) {
        if (s->plen == 0) return true;
        if (len < s->plen) return false;
        if (!s->q->icase) return memmem(line, len, s->q->pattern, s->plen) != NULL;
    }
    if (len + 1 > s->scap) {
        size_t nc = len + 1 < 4096 ? 4096 : len + 1;
        uint8_t *np = realloc(s->scratch, nc);
        if (!np) return false;
        s->scratch = np;
        s->scap = nc;
    }
    if (s->has_re) {
        /* a NUL-terminated copy: REG_STARTEND lets NULs inside match, and readers that
         * take the string as C text (ASan's interceptor) stay inside it */
        memcpy(s->scratch, line, len);
        s->scratch[len] = 0;
        regmatch_t m[1] = {{0, (regoff_t)len}};
        return regexec(&s->re, (const char *)s->scratch, 1, m, REG_STARTEND) == 0;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = line[i];
        s->scratch[i] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
    }
    return memmem(s->scratch, len, s->lpat, s->plen) != NULL;
}

static int search_rec(void *ud, const struct vk_logarch_rec *r)
{
    struct sctx *s = ud;
    if (r->recv_ms < s->q->from_ms || r->recv_ms >= s->q->to_ms) return 0;
    if (!match_line(s, r->line, r->len)) return 0;
    s->matches++;
    if (s->fn && s->fn(s->ud, r)) s->stop = true;
    if (s->q->limit && (uint64_t)s->matches >= s->q->limit) s->stop = true;
    return s->stop;
}

int64_t vk_logarch_search(const char *datadir, const struct vk_logarch_query *q, vk_logarch_fn fn, void *ud,
                          char *err, size_t errlen)
{
    char adir[PATH_MAX], cpath[PATH_MAX + 8];
    snprintf(adir, sizeof adir, "%s/logs/archive", datadir);
    snprintf(cpath, sizeof cpath, "%s/chain", adir);
    struct sctx s;
    memset(&s, 0, sizeof s);
    s.q = q;
    s.fn = fn;
    s.ud = ud;
    const char *pat = q->pattern ? q->pattern : "";
    s.plen = strlen(pat);
    if (q->regex && s.plen) {
        int rc = regcomp(&s.re, pat, REG_EXTENDED | REG_NOSUB | (q->icase ? REG_ICASE : 0));
        if (rc != 0) {
            char m[128];
            regerror(rc, &s.re, m, sizeof m);
            snprintf(err, errlen, "search: bad regular expression '%s': %s", pat, m);
            return VK_EINVAL;
        }
        s.has_re = true;
    } else if (q->icase && s.plen) {
        s.lpat = malloc(s.plen);
        if (!s.lpat) return VK_ENOMEM;
        for (size_t i = 0; i < s.plen; i++)
            s.lpat[i] = (uint8_t)(pat[i] >= 'A' && pat[i] <= 'Z' ? pat[i] + 32 : pat[i]);
    }

    struct dfile *files = NULL;
    long nf = list_dir(adir, &files, NULL);
    if (nf < 0) {
        snprintf(err, errlen, "search: no log archive at %s: %s", adir, strerror(errno));
        if (s.has_re) regfree(&s.re);
        free(s.lpat);
        return VK_ENOTFOUND;
    }
    if (nf > 0) qsort(files, (size_t)nf, sizeof *files, dfile_cmp_time);
    struct la_chain c;
    char cerr[256];
    if (la_chain_load(cpath, &c, cerr, sizeof cerr) != 0) memset(&c, 0, sizeof c);
    /* the chain's ranges, by seq (a damaged chain only costs reading more segments) */
    struct la_entry **bidx = calloc(c.n ? c.n : 1, sizeof *bidx);
    size_t nb = 0;
    for (size_t k = 0; bidx && k < c.n; k++)
        if (c.e[k].kind == LA_SEG) bidx[nb++] = &c.e[k];
    if (bidx && nb) qsort(bidx, nb, sizeof *bidx, entry_cmp_seq);

    for (long i = 0; i < nf && !s.stop; i++) {
        struct dfile *f = &files[i];
        if (!f->seg) continue;
        /* lines of a segment are never later than its hour; late lines can be earlier */
        if (f->hour_ms <= INT64_MAX - LA_HOUR_MS && f->hour_ms + LA_HOUR_MS <= q->from_ms) continue;
        const struct la_entry *e = NULL;
        if (!f->open && bidx) {
            struct la_entry key = {.seq = f->seq}, *kp = &key;
            struct la_entry **hit = bsearch(&kp, bidx, nb, sizeof *bidx, entry_cmp_seq);
            if (hit && strcmp((*hit)->name, f->name) == 0) e = *hit;
        }
        if (e && e->lines && (e->max_ms < q->from_ms || e->min_ms >= q->to_ms)) continue;
        char path[PATH_MAX + LA_NAME_MAX];
        snprintf(path, sizeof path, "%s/%s", adir, f->name);
        struct la_read_res res;
        int rc = la_seg_read(path, search_rec, &s, &res);
        if (rc != 0 && f->open) { /* sealed meanwhile */
            path[strlen(path) - 5] = 0;
            rc = la_seg_read(path, search_rec, &s, &res);
        }
        if (rc != 0) {
            if (q->warn) fprintf(q->warn, "vakt: search: %s: %s\n", path, strerror(errno));
            continue;
        }
        if (q->warn && (res.corrupt || (res.truncated && !f->open)))
            fprintf(q->warn, "vakt: search: %s: %s (%llu lines read before)\n", path, res.why,
                    (unsigned long long)res.lines);
    }
    free(bidx);
    la_chain_free(&c);
    free(files);
    if (s.has_re) regfree(&s.re);
    free(s.lpat);
    free(s.scratch);
    return s.matches;
}
