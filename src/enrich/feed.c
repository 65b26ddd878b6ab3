/* feed.c — feed parsers: CSV feed definitions, plain indicator lists (maltrail trails,
 * firehol ipsets), STIX 2.1 bundles, MISP events and feeds, MISP warninglists; and the
 * cache file that keeps a feed's last good version already parsed.
 *
 * Each parser fills one feedset: the normalised indicators (norm.c), their meta tuples
 * (category, description, confidence, expiry, extra CSV keys) interned so that a
 * million lines of one list share one tuple, and counters of what was skipped. Input is
 * untrusted: a structural error (unterminated quote, broken JSON, an indicator without a
 * pattern) fails the whole feed with a message naming the feed and the line or object,
 * so the caller keeps the last good version; a single unusable value in a list is
 * skipped and counted. Parsing is O(input); nothing is kept per line but the value. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "enrich_int.h"

#define FEED_MAX_BYTES (2048ull << 20) /* one source file */
#define POOL_MAX (1u << 31)

/* ---- feedset ------------------------------------------------------------------------- */
struct feedset *fs_new(const char *name)
{
    struct feedset *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->pcap = 4096;
    f->pool = malloc(f->pcap);
    if (!f->pool) {
        free(f);
        return NULL;
    }
    f->pool[0] = 0;
    f->plen = 1;
    atomic_init(&f->refs, 1);
    return f;
}

void fs_ref(struct feedset *f) { atomic_fetch_add(&f->refs, 1); }

void fs_unref(struct feedset *f)
{
    if (!f || atomic_fetch_sub(&f->refs, 1) != 1) return;
    big_free(f->ind, (size_t)f->cap * sizeof *f->ind);
    free(f->meta);
    big_free(f->pool, f->pcap);
    free(f->mhash);
    free(f);
}

uint32_t fs_str(struct feedset *f, const char *s, size_t n)
{
    if (n == 0) return 0;
    if (f->plen + n + 1 > f->pcap) {
        size_t nc = f->pcap * 2;
        while (nc < f->plen + n + 1) nc *= 2;
        if (nc > POOL_MAX) return UINT32_MAX;
        char *p = big_realloc(f->pool, f->pcap, nc);
        if (!p) return UINT32_MAX;
        f->pool = p;
        f->pcap = nc;
    }
    uint32_t off = (uint32_t)f->plen;
    memcpy(f->pool + off, s, n);
    f->pool[off + n] = 0;
    f->plen += n + 1;
    return off;
}

static uint64_t meta_hash(const char *cat, const char *desc, const char *extra, unsigned conf, int64_t exp)
{
    uint64_t h = XXH3_64bits(cat, strlen(cat));
    h = XXH3_64bits_withSeed(desc, strlen(desc), h);
    h = XXH3_64bits_withSeed(extra, strlen(extra), h);
    return XXH3_64bits_withSeed(&exp, sizeof exp, h ^ conf);
}

static int mhash_grow(struct feedset *f)
{
    uint32_t nc = f->mhcap ? f->mhcap * 2 : 256;
    uint32_t *h = calloc(nc, sizeof *h);
    if (!h) return VK_ENOMEM;
    for (uint32_t i = 0; i < f->nmeta; i++) {
        const struct fs_meta *m = &f->meta[i];
        uint64_t hv = meta_hash(fs_s(f, m->cat), fs_s(f, m->desc), fs_s(f, m->extra), m->conf, m->expires_ms);
        uint32_t s = (uint32_t)hv & (nc - 1);
        while (h[s]) s = (s + 1) & (nc - 1);
        h[s] = i + 1;
    }
    free(f->mhash);
    f->mhash = h;
    f->mhcap = nc;
    return 0;
}

uint32_t fs_meta(struct feedset *f, const char *cat, const char *desc, const char *extra, unsigned conf,
                 int64_t expires_ms)
{
    cat = cat ? cat : "";
    desc = desc ? desc : "";
    extra = extra ? extra : "";
    if (conf > 100) conf = 100;
    if ((f->nmeta + 1) * 2 > f->mhcap && mhash_grow(f)) return UINT32_MAX;
    uint64_t hv = meta_hash(cat, desc, extra, conf, expires_ms);
    uint32_t s = (uint32_t)hv & (f->mhcap - 1);
    for (; f->mhash[s]; s = (s + 1) & (f->mhcap - 1)) {
        const struct fs_meta *m = &f->meta[f->mhash[s] - 1];
        if (m->conf == conf && m->expires_ms == expires_ms && !strcmp(fs_s(f, m->cat), cat) &&
            !strcmp(fs_s(f, m->desc), desc) && !strcmp(fs_s(f, m->extra), extra))
            return f->mhash[s] - 1;
    }
    if (f->nmeta == f->metacap) {
        uint32_t nc = f->metacap ? f->metacap * 2 : 64;
        struct fs_meta *nm = realloc(f->meta, nc * sizeof *nm);
        if (!nm) return UINT32_MAX;
        f->meta = nm;
        f->metacap = nc;
    }
    struct fs_meta m = {fs_str(f, cat, strlen(cat)), fs_str(f, desc, strlen(desc)), fs_str(f, extra, strlen(extra)),
                        (uint8_t)conf, expires_ms};
    if (m.cat == UINT32_MAX || m.desc == UINT32_MAX || m.extra == UINT32_MAX) return UINT32_MAX;
    f->meta[f->nmeta] = m;
    f->mhash[s] = f->nmeta + 1;
    return f->nmeta++;
}

int fs_add(struct feedset *f, enum ioc_type t, const char *v, size_t n, uint32_t meta)
{
    if (f->n >= FS_MAX_IND || meta >= FS_MAX_IND) return VK_ENOMEM; /* fs_ind.meta has 24 bits */
    if (f->benign && t != IOC_IP && t != IOC_DOMAIN && t != IOC_WL_SUBSTR) t = IOC_WL_STRING;
    if (f->n == f->cap) {
        uint32_t nc = f->cap ? f->cap * 2 : 1024;
        struct fs_ind *ni = big_realloc(f->ind, (size_t)f->cap * sizeof *ni, (size_t)nc * sizeof *ni);
        if (!ni) return VK_ENOMEM;
        f->ind = ni;
        f->cap = nc;
    }
    uint32_t off = fs_str(f, v, n);
    if (off == UINT32_MAX || off == 0) return VK_ENOMEM;
    f->ind[f->n++] = (struct fs_ind){off, meta, (unsigned)t};
    return 0;
}

void fs_seal(struct feedset *f)
{
    free(f->mhash);
    f->mhash = NULL;
    f->mhcap = 0;
}

/* ---- helpers -------------------------------------------------------------------------- */
static void ferr(char *err, size_t errlen, const struct feed_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ferr(char *err, size_t errlen, const struct feed_opts *o, const char *fmt, ...)
{
    int k = snprintf(err, errlen, "feed '%s': ", o->name);
    if (k < 0 || (size_t)k >= errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* A short printable copy of untrusted text for messages. */
static const char *show(const char *s, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) buf[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (n > cap - 4 && o + 3 < cap) buf[o++] = '.', buf[o++] = '.', buf[o++] = '.';
    buf[o] = 0;
    return buf;
}

static void note_skip(struct feedset *f, const char *where, const char *s, size_t n)
{
    f->skipped++;
    if (!f->note[0]) {
        char b[96];
        snprintf(f->note, sizeof f->note, "%s: skipped '%s'", where, show(s, n, b, sizeof b));
    }
}

/* A regular file of at most cap bytes, opened for reading: its fd, or VK_EIO / VK_ENOMEM
 * with the reason in err. */
static int open_capped(const char *path, size_t cap, struct stat *st, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return VK_EIO;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return VK_EIO;
    }
    if ((uint64_t)st->st_size > cap) {
        snprintf(err, errlen, "%s: %lld bytes, over the %zu-byte cap", path, (long long)st->st_size, cap);
        close(fd);
        return VK_ENOMEM;
    }
    return fd;
}

int read_file(const char *path, size_t cap, char **out, size_t *n, char *err, size_t errlen)
{
    struct stat st;
    int fd = open_capped(path, cap, &st, err, errlen);
    if (fd < 0) return fd;
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return VK_ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    *n = got;
    return 0;
}

/* RFC 3339 "2016-01-01T00:00:00(.sss)Z" or "+hh:mm"; ms since the epoch, or -1. */
static int64_t parse_time3339(const char *s)
{
    int Y, M, D, h, m, sec, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &used) != 6) return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return -1;
    const char *p = s + used;
    int ms = 0;
    if (*p == '.') {
        int k = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, k++)
            if (k < 3) ms = ms * 10 + (*p - '0');
        for (; k < 3; k++) ms *= 10;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return -1;
        off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) return -1;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
    time_t t = timegm(&tm);
    return ((int64_t)t - off) * 1000 + ms;
}

static const char *base_stem(const char *path, char *buf, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(buf, cap, "%s", b);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf) *dot = 0;
    return buf;
}

/* ---- plain lists ------------------------------------------------------------------------ */
/* One indicator per line, '#' comments (whole line, or after whitespace), the first
 * whitespace-separated token is the value. maltrail's "# Aliases: x, y" header becomes
 * part of the description. The parser takes lines in pieces (list_lines), so that a big
 * file is read a chunk at a time (list_file) instead of into one buffer of its size. */
struct listp {
    const char *fname;
    const struct feed_opts *o;
    char stem[256], desc[512];
    const char *cat;
    unsigned conf;
    uint32_t meta;
    uint64_t lines, data_lines, added;
    char bad[96]; /* the first value that was no indicator (its first bytes) */
    size_t bad_len;
    bool have_bad;
};

static void list_init(struct listp *P, const char *fname, const struct feed_opts *o, const char *category)
{
    memset(P, 0, sizeof *P);
    P->fname = fname;
    P->o = o;
    base_stem(fname, P->stem, sizeof P->stem);
    snprintf(P->desc, sizeof P->desc, "%s", P->stem);
    P->cat = category && *category ? category : (o->category && *o->category ? o->category : P->stem);
    P->conf = o->confidence >= 0 ? (unsigned)o->confidence : 50;
    P->meta = UINT32_MAX;
}

/* Whole lines (the last one may lack its '\n'). O(n); per line one classification. */
static int list_lines(struct feedset *f, struct listp *P, const char *buf, size_t n, char *err, size_t errlen)
{
    char val[IOC_MAX + 64], where[300];
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - buf) : n;
        const char *l = buf + i;
        size_t ll = e - i;
        i = e + 1;
        P->lines++;
        if (ll && l[ll - 1] == '\r') ll--;
        size_t s = 0;
        while (s < ll && (l[s] == ' ' || l[s] == '\t')) s++;
        if (s == ll) continue;
        if (l[s] == '#' || l[s] == ';') {
            const char *a = "# Aliases:";
            if (ll - s > strlen(a) && strncasecmp(l + s, a, strlen(a)) == 0 && P->meta == UINT32_MAX) {
                char al[256];
                size_t k = s + strlen(a);
                while (k < ll && l[k] == ' ') k++;
                show(l + k, ll - k, al, sizeof al);
                snprintf(P->desc, sizeof P->desc, "%s (aliases: %s)", P->stem, al);
            }
            continue;
        }
        P->data_lines++;
        if (memchr(l, 0, ll)) {
            snprintf(where, sizeof where, "%s line %llu", P->fname, (unsigned long long)P->lines);
            note_skip(f, where, l + s, ll - s);
            continue;
        }
        size_t t = s;
        while (t < ll && l[t] != ' ' && l[t] != '\t') t++;
        size_t vl;
        enum ioc_type ty = ioc_classify(l + s, t - s, IOC_NONE, val, sizeof val, &vl);
        if (ty == IOC_NONE) {
            if (!P->have_bad) {
                P->have_bad = true;
                P->bad_len = t - s;
                memcpy(P->bad, l + s, t - s < sizeof P->bad ? t - s : sizeof P->bad);
            }
            snprintf(where, sizeof where, "%s line %llu", P->fname, (unsigned long long)P->lines);
            note_skip(f, where, l + s, t - s);
            continue;
        }
        if (P->meta == UINT32_MAX) P->meta = fs_meta(f, P->cat, P->desc, NULL, P->conf, 0);
        if (P->meta == UINT32_MAX || fs_add(f, ty, val, vl, P->meta)) {
            ferr(err, errlen, P->o, "%s line %llu: out of memory (or over %u indicators)", P->fname,
                 (unsigned long long)P->lines, FS_MAX_IND);
            return VK_ENOMEM;
        }
        P->added++;
    }
    return 0;
}

static int list_end(struct listp *P, char *err, size_t errlen)
{
    if (P->data_lines && !P->added) {
        char b[96];
        ferr(err, errlen, P->o, "%s: no indicator in %llu lines (first: '%s'): not a list?", P->fname,
             (unsigned long long)P->data_lines, show(P->bad, P->bad_len, b, sizeof b));
        return VK_EFORMAT;
    }
    return 0;
}

static int parse_list(struct feedset *f, const char *buf, size_t n, const char *fname, const struct feed_opts *o,
                      const char *category, char *err, size_t errlen)
{
    struct listp P;
    list_init(&P, fname, o, category);
    int rc = list_lines(f, &P, buf, n, err, errlen);
    return rc ? rc : list_end(&P, err, errlen);
}

/* A text file LINES_CHUNK bytes at a time, handed to fn as runs of whole lines (the last
 * line of the file may lack its '\n'; a line longer than the buffer grows it): a
 * multi-million-line file costs its parsed form, not also a buffer of its size. fn may
 * change the bytes it gets, and buf[n] too; it returns nonzero to stop (its own error). Reads no more
 * than the size the file had when opened, and stops quietly at a read error, as read_file.
 * Returns 0, fn's value, or VK_EIO / VK_ENOMEM with read_file's message in err. */
#define LINES_CHUNK ((size_t)4 << 20)
typedef int (*lines_fn)(void *ud, char *buf, size_t n);
static int read_lines(const char *path, size_t cap, lines_fn fn, void *ud, char *err, size_t errlen)
{
    struct stat st;
    int fd = open_capped(path, cap, &st, err, errlen);
    if (fd < 0) return fd;
    size_t bcap = LINES_CHUNK, have = 0, total = 0;
    char *buf = malloc(bcap);
    int rc = 0;
    bool eof = false;
    while (rc == 0 && !eof) {
        if (!buf || have == bcap - 1) { /* one line fills the buffer */
            char *nb = buf && bcap * 2 <= cap + 1 ? realloc(buf, bcap * 2) : NULL;
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                rc = VK_ENOMEM;
                break;
            }
            buf = nb;
            bcap *= 2;
        }
        size_t want = bcap - 1 - have; /* one byte to spare: fn may write a NUL after the text */
        if (want > (size_t)st.st_size - total) want = (size_t)st.st_size - total;
        ssize_t r = want ? read(fd, buf + have, want) : 0;
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) eof = true;
        else have += (size_t)r, total += (size_t)r;
        const char *last = have ? memrchr(buf, '\n', have) : NULL;
        size_t upto = eof ? have : last ? (size_t)(last - buf) + 1 : 0;
        if (upto) rc = fn(ud, buf, upto);
        memmove(buf, buf + upto, have - upto);
        have -= upto;
    }
    free(buf);
    close(fd);
    return rc;
}

struct list_run {
    struct feedset *f;
    struct listp *P;
    char *err;
    size_t errlen;
    int rc;
};

static int list_run(void *ud, char *buf, size_t n)
{
    struct list_run *L = ud;
    L->rc = list_lines(L->f, L->P, buf, n, L->err, L->errlen);
    return L->rc ? 1 : 0;
}

static int list_file(struct feedset *f, const char *path, const char *fname, const struct feed_opts *o,
                     const char *category, char *err, size_t errlen)
{
    struct listp P;
    list_init(&P, fname, o, category);
    struct list_run L = {f, &P, err, errlen, 0};
    char e2[512];
    int rc = read_lines(path, FEED_MAX_BYTES, list_run, &L, e2, sizeof e2);
    if (L.rc) return L.rc;
    if (rc) {
        ferr(err, errlen, o, "%s", e2);
        return rc;
    }
    return list_end(&P, err, errlen);
}

/* ---- CSV feed definitions ------------------------------------------------------------------ */
enum { COL_SKIP = 0, COL_INDEX, COL_CAT, COL_DESC, COL_CONF, COL_EXTRA };
#define CSV_MAX_COLS 64

struct csvdef {
    int ncol;
    struct {
        int role;
        enum ioc_type type; /* COL_INDEX: IOC_NONE = guess */
        int key;            /* COL_EXTRA: registry key */
        char name[48];
    } c[CSV_MAX_COLS];
    int index;
};

/* One role name: an index type, a threat.* key, another registry key or "-". */
static int csv_role(const char *name, struct csvdef *d, int col, char *why, size_t whylen)
{
    char n[48];
    snprintf(n, sizeof n, "%s", name);
    for (char *p = n; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    snprintf(d->c[col].name, sizeof d->c[col].name, "%s", n);
    d->c[col].role = COL_SKIP;
    if (!strcmp(n, "-") || !n[0]) return 0;
    if (!strcmp(n, "indicator") || !strcmp(n, "ioc") || !strcmp(n, "value") || !strcmp(n, "trail")) {
        d->c[col].role = COL_INDEX;
        d->c[col].type = IOC_NONE;
    } else if (!strcmp(n, "threat.category") || !strcmp(n, "category") || !strcmp(n, "info")) {
        d->c[col].role = COL_CAT;
    } else if (!strcmp(n, "threat.desc") || !strcmp(n, "desc") || !strcmp(n, "description") ||
               !strcmp(n, "reference") || !strcmp(n, "comment")) {
        d->c[col].role = COL_DESC;
    } else if (!strcmp(n, "threat.confidence") || !strcmp(n, "confidence") || !strcmp(n, "score")) {
        d->c[col].role = COL_CONF;
    } else {
        enum ioc_type t = ioc_type_parse(n);
        if (t != IOC_NONE && t != IOC_WL_STRING && t != IOC_WL_SUBSTR) {
            d->c[col].role = COL_INDEX;
            d->c[col].type = t;
        } else {
            int k = vk_key_lookup(n);
            if (k < 0) {
                snprintf(why, whylen, "column %d: unknown role '%s' (an indicator type, threat.category, "
                         "threat.desc, threat.confidence, a meta key or '-')", col + 1, n);
                return VK_EINVAL;
            }
            d->c[col].role = COL_EXTRA;
            d->c[col].key = k;
        }
    }
    if (d->c[col].role == COL_INDEX) {
        if (d->index >= 0) {
            snprintf(why, whylen, "column %d: a second indicator column ('%s'; the first is column %d)", col + 1, n,
                     d->index + 1);
            return VK_EINVAL;
        }
        d->index = col;
    }
    return 0;
}

static int csv_spec(const char *spec, struct csvdef *d, char *why, size_t whylen)
{
    memset(d, 0, sizeof *d);
    d->index = -1;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    int col = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        char *e = tok + strlen(tok);
        while (e > tok && e[-1] == ' ') *--e = 0;
        if (col >= CSV_MAX_COLS) {
            snprintf(why, whylen, "more than %d columns", CSV_MAX_COLS);
            return VK_EINVAL;
        }
        if (csv_role(tok, d, col, why, whylen)) return VK_EINVAL;
        col++;
    }
    d->ncol = col;
    if (d->index < 0) {
        snprintf(why, whylen, "no indicator column (name one: indicator, ip, domain, url, md5, ...)");
        return VK_EINVAL;
    }
    return 0;
}

/* Split one CSV record starting at *pos (quotes, "" escapes, quoted newlines). Fields are
 * copied into fb; starts/lens index them. Returns fields, 0 at end of input, -1 with why. */
static int csv_record(const char *buf, size_t n, size_t *pos, char delim, char *fb, size_t fbcap, size_t *fst,
                      size_t *flen, int maxf, uint64_t *line, char *why, size_t whylen)
{
    size_t i = *pos, o = 0;
    int nf = 0;
    if (i >= n) return 0;
    bool more = true;
    while (more) {
        if (nf == maxf) {
            snprintf(why, whylen, "more than %d columns", maxf);
            return -1;
        }
        fst[nf] = o;
        if (i < n && buf[i] == '"') {
            i++;
            for (;;) {
                if (i >= n) {
                    snprintf(why, whylen, "unterminated quoted field");
                    return -1;
                }
                if (buf[i] == '"') {
                    if (i + 1 < n && buf[i + 1] == '"') {
                        if (o + 1 < fbcap) fb[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (buf[i] == '\n') (*line)++;
                if (o + 1 < fbcap) fb[o++] = buf[i];
                i++;
            }
            if (i < n && buf[i] != delim && buf[i] != '\n' && buf[i] != '\r') {
                snprintf(why, whylen, "column %d: text after the closing quote", nf + 1);
                return -1;
            }
        } else {
            while (i < n && buf[i] != delim && buf[i] != '\n') {
                if (o + 1 < fbcap) fb[o++] = buf[i];
                i++;
            }
            if (o > fst[nf] && fb[o - 1] == '\r') o--;
        }
        flen[nf] = o - fst[nf];
        fb[o++ < fbcap ? o - 1 : fbcap - 1] = 0;
        nf++;
        if (i < n && buf[i] == '\r') i++;
        if (i < n && buf[i] == delim) {
            i++;
        } else {
            if (i < n && buf[i] == '\n') i++;
            more = false;
        }
    }
    *pos = i;
    return nf;
}

static int parse_csv(struct feedset *f, const char *buf, size_t n, const char *fname, const struct feed_opts *o,
                     char *err, size_t errlen)
{
    struct csvdef d;
    char why[256];
    bool have_def = false;
    if (o->columns && *o->columns) {
        if (csv_spec(o->columns, &d, why, sizeof why)) {
            ferr(err, errlen, o, "--columns: %s", why);
            return VK_EINVAL;
        }
        have_def = true;
    }
    /* delimiter: the first non-comment line decides between ',', '\t' and ';' */
    char delim = ',';
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && buf[e] != '\n') e++;
        if (e > i && buf[i] != '#') {
            size_t c = 0, t = 0, s = 0;
            for (size_t k = i; k < e; k++) c += buf[k] == ',', t += buf[k] == '\t', s += buf[k] == ';';
            delim = t > c && t >= s ? '\t' : s > c ? ';' : ',';
            break;
        }
        i = e + 1;
    }
    char *fb = malloc(65536);
    size_t fst[CSV_MAX_COLS], flen[CSV_MAX_COLS];
    if (!fb) return VK_ENOMEM;
    uint64_t line = 0, rows = 0, added = 0;
    size_t pos = 0;
    int rc = 0;
    const char *defcat = o->category && *o->category ? o->category : o->name;
    unsigned defconf = o->confidence >= 0 ? (unsigned)o->confidence : 50;
    char val[IOC_MAX + 64], extra[2048], b1[96];
    while (pos < n) {
        line++;
        if (buf[pos] == '#' || buf[pos] == '\n' || buf[pos] == '\r') { /* comment or empty line */
            while (pos < n && buf[pos] != '\n') pos++;
            pos++;
            continue;
        }
        uint64_t rec_line = line;
        int nf = csv_record(buf, n, &pos, delim, fb, 65536, fst, flen, CSV_MAX_COLS, &line, why, sizeof why);
        if (nf < 0) {
            ferr(err, errlen, o, "%s line %llu: %s", fname, (unsigned long long)rec_line, why);
            rc = VK_EFORMAT;
            break;
        }
        if (nf == 0) break;
        rows++;
        if (!have_def) {
            /* a header row names the roles; otherwise: indicator, category, description, confidence */
            struct csvdef h;
            memset(&h, 0, sizeof h);
            h.index = -1;
            bool header = nf >= 1;
            for (int c = 0; c < nf && header; c++) {
                char nm[48];
                snprintf(nm, sizeof nm, "%.*s", (int)(flen[c] < 47 ? flen[c] : 47), fb + fst[c]);
                if (flen[c] > 40 || csv_role(nm, &h, c, why, sizeof why)) header = false;
            }
            if (header && h.index >= 0) {
                h.ncol = nf;
                d = h;
                have_def = true;
                continue;
            }
            csv_spec("indicator,threat.category,threat.desc,threat.confidence", &d, why, sizeof why);
            have_def = true;
        }
        if (d.index >= nf) {
            ferr(err, errlen, o, "%s line %llu: %d column%s, the indicator is column %d", fname,
                 (unsigned long long)rec_line, nf, nf == 1 ? "" : "s", d.index + 1);
            rc = VK_EFORMAT;
            break;
        }
        const char *cat = defcat, *desc = "";
        unsigned conf = defconf;
        size_t eo = 0;
        extra[0] = 0;
        for (int c = 0; c < nf && c < d.ncol; c++) {
            const char *v = fb + fst[c];
            if (flen[c] == 0) continue;
            switch (d.c[c].role) {
            case COL_CAT:
                cat = v;
                break;
            case COL_DESC:
                desc = v;
                break;
            case COL_CONF: {
                char *end;
                long x = strtol(v, &end, 10);
                if (*end || x < 0 || x > 100) {
                    ferr(err, errlen, o, "%s line %llu: column %d (threat.confidence): not a number 0-100: '%s'", fname,
                         (unsigned long long)rec_line, c + 1, show(v, flen[c], b1, sizeof b1));
                    rc = VK_EFORMAT;
                    goto out;
                }
                conf = (unsigned)x;
                break;
            }
            case COL_EXTRA: {
                const char *kn = vk_key_info((enum vk_key)d.c[c].key)->name;
                if (eo + strlen(kn) + flen[c] + 3 < sizeof extra) {
                    eo += (size_t)snprintf(extra + eo, sizeof extra - eo, "%s\x1f", kn);
                    for (size_t k = 0; k < flen[c]; k++)
                        extra[eo++] = (unsigned char)v[k] < 0x20 ? ' ' : v[k];
                    extra[eo++] = '\x1e';
                    extra[eo] = 0;
                }
                break;
            }
            default:
                break;
            }
        }
        size_t vl;
        enum ioc_type want = d.c[d.index].type;
        enum ioc_type ty = ioc_classify(fb + fst[d.index], flen[d.index], want, val, sizeof val, &vl);
        if (ty == IOC_NONE) {
            if (want != IOC_NONE) {
                ferr(err, errlen, o, "%s line %llu: column %d (%s): not a valid %s: '%s'", fname,
                     (unsigned long long)rec_line, d.index + 1, d.c[d.index].name, ioc_type_name(want),
                     show(fb + fst[d.index], flen[d.index], b1, sizeof b1));
                rc = VK_EFORMAT;
                goto out;
            }
            char where[300];
            snprintf(where, sizeof where, "%s line %llu", fname, (unsigned long long)rec_line);
            note_skip(f, where, fb + fst[d.index], flen[d.index]);
            continue;
        }
        uint32_t meta = fs_meta(f, cat, desc, extra, conf, 0);
        if (meta == UINT32_MAX || fs_add(f, ty, val, vl, meta)) {
            ferr(err, errlen, o, "%s line %llu: out of memory (or over %u indicators)", fname,
                 (unsigned long long)rec_line, FS_MAX_IND);
            rc = VK_ENOMEM;
            goto out;
        }
        added++;
    }
    if (rc == 0 && rows > 1 && added == 0) {
        ferr(err, errlen, o, "%s: no indicator in %llu rows: wrong --columns?", fname, (unsigned long long)rows);
        rc = VK_EFORMAT;
    }
out:
    free(fb);
    return rc;
}

/* ---- STIX 2.1 ---------------------------------------------------------------------------- */
enum { TK_END, TK_LBR, TK_RBR, TK_LP, TK_RP, TK_COMMA, TK_STR, TK_WORD, TK_OP };
struct tok {
    int t;
    char s[IOC_MAX];
};

struct lexer {
    const char *p, *end;
};

/* Next token of a STIX pattern. Returns false with why on a lexical error. */
static bool lex(struct lexer *L, struct tok *t, char *why, size_t whylen)
{
    while (L->p < L->end && (*L->p == ' ' || *L->p == '\t' || *L->p == '\n' || *L->p == '\r')) L->p++;
    size_t o = 0;
    t->s[0] = 0;
    if (L->p >= L->end) {
        t->t = TK_END;
        return true;
    }
    char c = *L->p;
    if (c == '[' || c == ']' || c == '(' || c == ')' || c == ',') {
        t->t = c == '[' ? TK_LBR : c == ']' ? TK_RBR : c == '(' ? TK_LP : c == ')' ? TK_RP : TK_COMMA;
        L->p++;
        return true;
    }
    if (c == '\'') {
        L->p++;
        for (;;) {
            if (L->p >= L->end) {
                snprintf(why, whylen, "unterminated string");
                return false;
            }
            char ch = *L->p++;
            if (ch == '\\' && L->p < L->end) ch = *L->p++;
            else if (ch == '\'') break;
            if (o + 1 < sizeof t->s) t->s[o++] = ch;
        }
        t->s[o] = 0;
        t->t = TK_STR;
        return true;
    }
    if (strchr("=!<>", c)) {
        while (L->p < L->end && strchr("=!<>", *L->p) && o < 2) t->s[o++] = *L->p++;
        t->s[o] = 0;
        t->t = TK_OP;
        return true;
    }
    /* a word: identifier, path (with 'quoted' parts and [index]), number, keyword */
    while (L->p < L->end) {
        char ch = *L->p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("_-:.*+", ch)) {
            if (o + 1 < sizeof t->s) t->s[o++] = ch;
            L->p++;
        } else if (ch == '\'' && o && (t->s[o - 1] == '.' || (o == 1 && strchr("thb", t->s[0])))) {
            if (o == 1) { /* t'...', h'...', b'...' literals: keep the text */
                o = 0;
            }
            L->p++;
            while (L->p < L->end && *L->p != '\'') {
                if (o + 1 < sizeof t->s) t->s[o++] = *L->p;
                L->p++;
            }
            if (L->p >= L->end) {
                snprintf(why, whylen, "unterminated string");
                return false;
            }
            L->p++;
        } else if (ch == '[' && o) {
            while (L->p < L->end && *L->p != ']') {
                if (o + 1 < sizeof t->s) t->s[o++] = *L->p;
                L->p++;
            }
            if (L->p >= L->end) {
                snprintf(why, whylen, "unterminated [index]");
                return false;
            }
            if (o + 1 < sizeof t->s) t->s[o++] = ']';
            L->p++;
        } else {
            break;
        }
    }
    if (o == 0) {
        snprintf(why, whylen, "unexpected character '%c'", (unsigned char)c >= 0x20 ? c : '?');
        return false;
    }
    t->s[o] = 0;
    t->t = TK_WORD;
    return true;
}

/* The indicator type of a STIX object path, or IOC_NONE when we do not match on it. */
static enum ioc_type stix_path(const char *path)
{
    char p[256];
    snprintf(p, sizeof p, "%s", path);
    for (char *q = p; *q; q++) *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    if (!strcmp(p, "ipv4-addr:value") || !strcmp(p, "ipv6-addr:value")) return IOC_IP;
    if (!strcmp(p, "network-traffic:dst_ref.value") || !strcmp(p, "network-traffic:src_ref.value")) return IOC_IP;
    if (!strcmp(p, "domain-name:value")) return IOC_DOMAIN;
    if (!strcmp(p, "url:value")) return IOC_URL;
    if (!strcmp(p, "email-addr:value") || !strcmp(p, "email-message:from_ref.value")) return IOC_EMAIL;
    if (!strncmp(p, "file:hashes.", 12) || !strncmp(p, "artifact:hashes.", 16)) {
        const char *h = strchr(p, '.') + 1;
        if (!strcmp(h, "md5")) return IOC_MD5;
        if (!strcmp(h, "sha-1") || !strcmp(h, "sha1")) return IOC_SHA1;
        if (!strcmp(h, "sha-256") || !strcmp(h, "sha256")) return IOC_SHA256;
    }
    return IOC_NONE;
}

struct stix_cmp {
    enum ioc_type t;
    char v[IOC_MAX];
};

/* Parse a pattern. Fills out[] with the comparisons worth indexing: every supported
 * '=', IN or ISSUBSET comparison when the pattern is a pure disjunction; only the hash
 * comparisons when it needs several things at once (AND, FOLLOWEDBY). Returns the count,
 * or -1 with why on a syntax error. */
static int stix_pattern(const char *pat, struct stix_cmp *out, int cap, bool *unsupported, char *why, size_t whylen)
{
    struct lexer L = {pat, pat + strlen(pat)};
    struct tok t;
    int nb = 0, np = 0, nc = 0, nall = 0;
    bool conj = false;
    static __thread struct stix_cmp all[64];
    char path[IOC_MAX];
    *unsupported = false;
    if (!lex(&L, &t, why, whylen)) return -1;
    if (t.t != TK_LBR && t.t != TK_LP) {
        snprintf(why, whylen, "a pattern starts with '[' or '('");
        return -1;
    }
    for (; t.t != TK_END;) {
        if (t.t == TK_LBR) nb++;
        else if (t.t == TK_RBR) {
            if (--nb < 0) {
                snprintf(why, whylen, "unbalanced ']'");
                return -1;
            }
        } else if (t.t == TK_LP) np++;
        else if (t.t == TK_RP) {
            if (--np < 0) {
                snprintf(why, whylen, "unbalanced ')'");
                return -1;
            }
        } else if (t.t == TK_WORD && nb > 0 && strchr(t.s, ':')) {
            /* path op value */
            snprintf(path, sizeof path, "%s", t.s);
            if (!lex(&L, &t, why, whylen)) return -1;
            bool neg = false;
            if (t.t == TK_WORD && !strcasecmp(t.s, "NOT")) {
                neg = true;
                if (!lex(&L, &t, why, whylen)) return -1;
            }
            char op[16];
            if (t.t != TK_OP && t.t != TK_WORD) {
                snprintf(why, whylen, "no operator after '%s'", path);
                return -1;
            }
            snprintf(op, sizeof op, "%s", t.s);
            if (!lex(&L, &t, why, whylen)) return -1;
            enum ioc_type ty = stix_path(path);
            bool typecheck = strlen(path) > 5 && !strcmp(path + strlen(path) - 5, ".type");
            if (t.t == TK_LP) { /* IN ('a', 'b') */
                for (;;) {
                    if (!lex(&L, &t, why, whylen)) return -1;
                    if (t.t == TK_RP) break;
                    if (t.t == TK_END) {
                        snprintf(why, whylen, "unbalanced '('");
                        return -1;
                    }
                    if (t.t == TK_STR && ty != IOC_NONE && !neg && !strcasecmp(op, "IN") && nall < 64) {
                        all[nall].t = ty;
                        snprintf(all[nall].v, sizeof all[nall].v, "%s", t.s);
                        nall++;
                    }
                }
            } else if (t.t != TK_STR && t.t != TK_WORD) {
                snprintf(why, whylen, "no value after '%s %s'", path, op);
                return -1;
            } else if (!typecheck) {
                bool eq = !strcmp(op, "=") || (!strcasecmp(op, "ISSUBSET") && ty == IOC_IP);
                if (ty != IOC_NONE && eq && !neg && t.t == TK_STR && nall < 64) {
                    all[nall].t = ty;
                    snprintf(all[nall].v, sizeof all[nall].v, "%s", t.s);
                    nall++;
                } else {
                    *unsupported = true;
                }
            }
            nc++;
        } else if (t.t == TK_WORD && (!strcasecmp(t.s, "AND") || !strcasecmp(t.s, "FOLLOWEDBY"))) {
            conj = true;
        } else if (t.t == TK_WORD && nb == 0) {
            /* qualifiers: WITHIN n SECONDS, REPEATS n TIMES, START t'..' STOP t'..', OR */
        } else if (t.t == TK_STR || t.t == TK_OP || t.t == TK_COMMA) {
            if (nb == 0) {
                snprintf(why, whylen, "unexpected '%s' outside brackets", t.s);
                return -1;
            }
        }
        if (!lex(&L, &t, why, whylen)) return -1;
    }
    if (nb || np) {
        snprintf(why, whylen, "unbalanced %s", nb ? "'['" : "'('");
        return -1;
    }
    if (nc == 0) {
        snprintf(why, whylen, "no comparison");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < nall && n < cap; i++) {
        bool hash = all[i].t == IOC_MD5 || all[i].t == IOC_SHA1 || all[i].t == IOC_SHA256;
        if (conj && !hash) {
            *unsupported = true;
            continue;
        }
        out[n++] = all[i];
    }
    return n;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void json_where(const json_error_t *je, const char *fname, char *b, size_t cap)
{
    snprintf(b, cap, "%s line %d column %d: %s", fname, je->line, je->column, je->text);
}

static int parse_stix(struct feedset *f, const char *buf, size_t n, const char *fname, const struct feed_opts *o,
                      char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(buf, n, JSON_ALLOW_NUL, &je);
    char w[512];
    if (!root) {
        json_where(&je, fname, w, sizeof w);
        ferr(err, errlen, o, "not JSON: %s", w);
        return VK_EFORMAT;
    }
    json_t *objs = json_is_array(root) ? root : json_object_get(root, "objects");
    json_t *single = NULL;
    if (!json_is_array(objs)) {
        const char *ty = jstr(root, "type");
        if (ty && jstr(root, "id")) { /* one STIX object on its own */
            single = json_array();
            json_array_append(single, root);
            objs = single;
        } else {
            ferr(err, errlen, o, "%s: not a STIX bundle (no \"objects\" array)", fname);
            json_decref(root);
            return VK_EFORMAT;
        }
    }
    /* names of what indicators point at (malware, campaigns, actors) */
    json_t *names = json_object(), *indicates = json_object();
    size_t i;
    json_t *ob;
    json_array_foreach(objs, i, ob) {
        const char *ty = jstr(ob, "type"), *id = jstr(ob, "id"), *nm = jstr(ob, "name");
        if (!ty) continue;
        if (nm && id && (!strcmp(ty, "malware") || !strcmp(ty, "threat-actor") || !strcmp(ty, "campaign") ||
                   !strcmp(ty, "intrusion-set") || !strcmp(ty, "tool")))
            json_object_set_new(names, id, json_string(nm));
        if (!strcmp(ty, "relationship")) {
            const char *rt = jstr(ob, "relationship_type"), *src = jstr(ob, "source_ref"), *dst = jstr(ob, "target_ref");
            if (rt && src && dst && !strcmp(rt, "indicates")) json_object_set_new(indicates, src, json_string(dst));
        }
    }
    int rc = 0;
    unsigned defconf = o->confidence >= 0 ? (unsigned)o->confidence : 50;
    struct stix_cmp *cmps = malloc(16 * sizeof *cmps);
    char why[256], val[IOC_MAX + 64], cat[256];
    if (!cmps) rc = VK_ENOMEM;
    json_array_foreach(objs, i, ob) {
        if (rc) break;
        if (!json_is_object(ob)) {
            ferr(err, errlen, o, "%s: object %zu: not a JSON object", fname, i + 1);
            rc = VK_EFORMAT;
            break;
        }
        const char *ty = jstr(ob, "type");
        if (!ty || strcmp(ty, "indicator")) continue;
        const char *id = jstr(ob, "id");
        id = id ? id : "?";
        const char *pat = jstr(ob, "pattern"), *pt = jstr(ob, "pattern_type");
        if (!pat) {
            ferr(err, errlen, o, "%s: object %zu (%s): indicator without a pattern", fname, i + 1, id);
            rc = VK_EFORMAT;
            break;
        }
        if (pt && strcmp(pt, "stix")) {
            f->unsupported++;
            continue;
        }
        int64_t until = 0;
        const char *vu = jstr(ob, "valid_until");
        if (vu) {
            until = parse_time3339(vu);
            if (until < 0) {
                ferr(err, errlen, o, "%s: object %zu (%s): valid_until is not a timestamp: '%s'", fname, i + 1, id, vu);
                rc = VK_EFORMAT;
                break;
            }
            if (until == 0) until = 1;
        }
        const char *vf = jstr(ob, "valid_from");
        if (vf && parse_time3339(vf) < 0) {
            ferr(err, errlen, o, "%s: object %zu (%s): valid_from is not a timestamp: '%s'", fname, i + 1, id, vf);
            rc = VK_EFORMAT;
            break;
        }
        bool unsup;
        int nc = stix_pattern(pat, cmps, 16, &unsup, why, sizeof why);
        if (nc < 0) {
            char b[128];
            ferr(err, errlen, o, "%s: object %zu (%s): bad pattern '%s': %s", fname, i + 1, id,
                 show(pat, strlen(pat), b, sizeof b), why);
            rc = VK_EFORMAT;
            break;
        }
        if (nc == 0) {
            f->unsupported++;
            continue;
        }
        /* category: what it indicates, else its first type/label, else the default */
        cat[0] = 0;
        const char *target = jstr(indicates, id);
        const char *tname = target ? jstr(names, target) : NULL;
        if (tname) snprintf(cat, sizeof cat, "%s", tname);
        json_t *labels = json_object_get(ob, "indicator_types");
        if (!json_is_array(labels) || !json_array_size(labels)) labels = json_object_get(ob, "labels");
        if (!cat[0] && json_is_array(labels) && json_is_string(json_array_get(labels, 0)))
            snprintf(cat, sizeof cat, "%s", json_string_value(json_array_get(labels, 0)));
        if (!cat[0]) snprintf(cat, sizeof cat, "%s", o->category && *o->category ? o->category : "stix");
        const char *desc = jstr(ob, "name");
        if (!desc) desc = jstr(ob, "description");
        if (!desc) desc = id;
        json_t *jc = json_object_get(ob, "confidence");
        unsigned conf = json_is_integer(jc) && json_integer_value(jc) >= 0 && json_integer_value(jc) <= 100
                            ? (unsigned)json_integer_value(jc)
                            : defconf;
        uint32_t meta = fs_meta(f, cat, desc, NULL, conf, until);
        for (int k = 0; k < nc; k++) {
            size_t vl;
            enum ioc_type t = ioc_classify(cmps[k].v, strlen(cmps[k].v), cmps[k].t, val, sizeof val, &vl);
            if (t == IOC_NONE) {
                char where[300];
                snprintf(where, sizeof where, "%s object %zu (%s)", fname, i + 1, id);
                note_skip(f, where, cmps[k].v, strlen(cmps[k].v));
                continue;
            }
            if (meta == UINT32_MAX || fs_add(f, t, val, vl, meta)) {
                ferr(err, errlen, o, "%s: object %zu: out of memory", fname, i + 1);
                rc = VK_ENOMEM;
                break;
            }
        }
        if (unsup) f->unsupported++;
    }
    free(cmps);
    json_decref(names);
    json_decref(indicates);
    json_decref(single);
    json_decref(root);
    return rc;
}

/* ---- MISP ------------------------------------------------------------------------------ */
struct misp_map {
    const char *type;
    enum ioc_type t1, t2; /* "a|b" composites: t1 for the left part, t2 for the right */
};
static const struct misp_map misp_types[] = {
    {"ip-src", IOC_IP, 0},          {"ip-dst", IOC_IP, 0},          {"ip-src|port", IOC_IPPORT, 0},
    {"ip-dst|port", IOC_IPPORT, 0}, {"domain", IOC_DOMAIN, 0},      {"hostname", IOC_DOMAIN, 0},
    {"domain|ip", IOC_DOMAIN, IOC_IP}, {"hostname|port", IOC_DOMAIN, 0}, {"url", IOC_URL, 0},
    {"uri", IOC_URL, 0},            {"md5", IOC_MD5, 0},            {"sha1", IOC_SHA1, 0},
    {"sha256", IOC_SHA256, 0},      {"filename|md5", 0, IOC_MD5},   {"filename|sha1", 0, IOC_SHA1},
    {"filename|sha256", 0, IOC_SHA256}, {"email-src", IOC_EMAIL, 0}, {"email-dst", IOC_EMAIL, 0},
    {"email", IOC_EMAIL, 0},        {"user-agent", IOC_UA, 0},      {"ja3-fingerprint-md5", IOC_JA3, 0},
    {"hassh-md5", IOC_HASSH, 0},    {"hasshserver-md5", IOC_HASSH, 0},
};

static int misp_attr(struct feedset *f, json_t *a, const char *fname, size_t ev, const char *evid, size_t an,
                     const char *cat0, const char *info, const struct feed_opts *o, char *err, size_t errlen)
{
    if (!json_is_object(a)) {
        ferr(err, errlen, o, "%s: Event %zu (%s): Attribute %zu: not an object", fname, ev, evid, an);
        return VK_EFORMAT;
    }
    const char *type = jstr(a, "type"), *value = jstr(a, "value");
    if (!type || !value) {
        ferr(err, errlen, o, "%s: Event %zu (%s): Attribute %zu: no %s", fname, ev, evid, an,
             type ? "value" : "type");
        return VK_EFORMAT;
    }
    json_t *del = json_object_get(a, "deleted");
    if (json_is_true(del)) return 0;
    const struct misp_map *mm = NULL;
    for (size_t i = 0; i < sizeof misp_types / sizeof *misp_types; i++)
        if (!strcmp(type, misp_types[i].type)) mm = &misp_types[i];
    if (!mm) {
        f->unsupported++;
        return 0;
    }
    json_t *ti = json_object_get(a, "to_ids");
    bool to_ids = json_is_true(ti) || (json_is_string(ti) && !strcmp(json_string_value(ti), "1"));
    unsigned conf = o->confidence >= 0 ? (unsigned)o->confidence : to_ids ? 75 : 50;
    const char *acat = jstr(a, "category"), *comment = jstr(a, "comment");
    char desc[512];
    if (comment && *comment) snprintf(desc, sizeof desc, "%s: %s", info, comment);
    else snprintf(desc, sizeof desc, "%s", info);
    const char *cat = cat0 && *cat0 ? cat0 : (o->category && *o->category ? o->category : acat ? acat : "misp");
    uint32_t meta = fs_meta(f, cat, desc, NULL, conf, 0);
    if (meta == UINT32_MAX) return VK_ENOMEM;
    const char *bar = strchr(value, '|');
    struct {
        enum ioc_type t;
        const char *s;
        size_t n;
    } part[2] = {{mm->t1, value, bar ? (size_t)(bar - value) : strlen(value)},
                 {mm->t2, bar ? bar + 1 : "", bar ? strlen(bar + 1) : 0}};
    char tmp[IOC_MAX + 64], val[IOC_MAX + 64];
    if (mm->t1 == IOC_IPPORT || !strcmp(type, "hostname|port")) { /* "1.2.3.4|80": one value */
        if (!bar) {
            part[0].n = strlen(value);
        } else if (mm->t1 == IOC_IPPORT) {
            bool v6 = memchr(value, ':', (size_t)(bar - value)) != NULL;
            snprintf(tmp, sizeof tmp, v6 ? "[%.*s]:%s" : "%.*s:%s", (int)(bar - value), value, bar + 1);
            part[0].s = tmp;
            part[0].n = strlen(tmp);
        }
        part[1].t = 0;
    } else if (bar == NULL && mm->t2) { /* composite type without '|' */
        part[0].t = mm->t1;
        part[1].t = 0;
    }
    for (int k = 0; k < 2; k++) {
        if (!part[k].t || !part[k].n) continue;
        size_t vl;
        enum ioc_type t = ioc_classify(part[k].s, part[k].n, part[k].t, val, sizeof val, &vl);
        if (t == IOC_NONE) {
            char where[300];
            snprintf(where, sizeof where, "%s Event %zu Attribute %zu (%s)", fname, ev, an, type);
            note_skip(f, where, part[k].s, part[k].n);
            continue;
        }
        if (fs_add(f, t, val, vl, meta)) {
            ferr(err, errlen, o, "%s: Event %zu: out of memory", fname, ev);
            return VK_ENOMEM;
        }
    }
    return 0;
}

/* The threat name of an event: a galaxy cluster (malware, actor) or a tag's value. */
static void misp_category(json_t *ev, char *out, size_t cap)
{
    out[0] = 0;
    json_t *gal = json_object_get(ev, "Galaxy");
    size_t i, j;
    json_t *g, *c;
    json_array_foreach(gal, i, g) {
        json_array_foreach(json_object_get(g, "GalaxyCluster"), j, c) {
            const char *v = jstr(c, "value");
            if (v) {
                snprintf(out, cap, "%s", v);
                return;
            }
        }
    }
    json_array_foreach(json_object_get(ev, "Tag"), i, g) {
        const char *nm = jstr(g, "name");
        const char *q = nm ? strstr(nm, "=\"") : NULL;
        if (nm && !strncmp(nm, "misp-galaxy:", 12) && q) {
            snprintf(out, cap, "%s", q + 2);
            char *e = strrchr(out, '"');
            if (e) *e = 0;
            return;
        }
    }
}

static int misp_event(struct feedset *f, json_t *ev, const char *fname, size_t k, const struct feed_opts *o,
                      char *err, size_t errlen)
{
    if (!json_is_object(ev)) {
        ferr(err, errlen, o, "%s: Event %zu: not an object", fname, k);
        return VK_EFORMAT;
    }
    const char *uuid = jstr(ev, "uuid");
    uuid = uuid ? uuid : "no uuid";
    const char *info = jstr(ev, "info");
    info = info ? info : "";
    char cat[256];
    misp_category(ev, cat, sizeof cat);
    json_t *attrs = json_object_get(ev, "Attribute");
    if (attrs && !json_is_array(attrs)) {
        ferr(err, errlen, o, "%s: Event %zu (%s): \"Attribute\" is not an array", fname, k, uuid);
        return VK_EFORMAT;
    }
    size_t i, an = 0;
    json_t *a;
    json_array_foreach(attrs, i, a) {
        int rc = misp_attr(f, a, fname, k, uuid, ++an, cat, info, o, err, errlen);
        if (rc) return rc;
    }
    json_t *objs = json_object_get(ev, "Object");
    if (objs && !json_is_array(objs)) {
        ferr(err, errlen, o, "%s: Event %zu (%s): \"Object\" is not an array", fname, k, uuid);
        return VK_EFORMAT;
    }
    json_t *ob;
    size_t j;
    json_array_foreach(objs, j, ob) {
        json_t *oa = json_object_get(ob, "Attribute");
        if (oa && !json_is_array(oa)) {
            ferr(err, errlen, o, "%s: Event %zu (%s): Object %zu: \"Attribute\" is not an array", fname, k, uuid, j + 1);
            return VK_EFORMAT;
        }
        json_array_foreach(oa, i, a) {
            int rc = misp_attr(f, a, fname, k, uuid, ++an, cat, info, o, err, errlen);
            if (rc) return rc;
        }
    }
    return 0;
}

static int parse_misp(struct feedset *f, const char *buf, size_t n, const char *fname, const struct feed_opts *o,
                      size_t *events, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(buf, n, JSON_ALLOW_NUL, &je);
    char w[512];
    if (!root) {
        json_where(&je, fname, w, sizeof w);
        ferr(err, errlen, o, "not JSON: %s", w);
        return VK_EFORMAT;
    }
    json_t *list = NULL;
    int rc = 0;
    if (json_is_array(root)) list = root;
    else if (json_is_array(json_object_get(root, "response"))) list = json_object_get(root, "response");
    size_t k = 0;
    if (list) {
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) {
            json_t *ev = json_object_get(e, "Event");
            rc = misp_event(f, ev ? ev : e, fname, ++k, o, err, errlen);
            if (rc) break;
        }
    } else if (json_object_get(root, "Event")) {
        rc = misp_event(f, json_object_get(root, "Event"), fname, ++k, o, err, errlen);
    } else {
        ferr(err, errlen, o, "%s: not a MISP event (no \"Event\" object or \"response\" list)", fname);
        rc = VK_EFORMAT;
    }
    if (events) *events += k;
    json_decref(root);
    return rc;
}

/* ---- MISP warninglists ----------------------------------------------------------------------- */
static int parse_warninglist(struct feedset *f, const char *buf, size_t n, const char *fname,
                             const struct feed_opts *o, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(buf, n, JSON_ALLOW_NUL, &je);
    char w[512], val[IOC_MAX + 64];
    if (!root) {
        json_where(&je, fname, w, sizeof w);
        ferr(err, errlen, o, "not JSON: %s", w);
        return VK_EFORMAT;
    }
    const char *ty = jstr(root, "type"), *name = jstr(root, "name");
    json_t *list = json_object_get(root, "list");
    if (!ty || !json_is_array(list)) {
        ferr(err, errlen, o, "%s: not a MISP warninglist (needs \"type\" and a \"list\" array)", fname);
        json_decref(root);
        return VK_EFORMAT;
    }
    enum ioc_type t = !strcmp(ty, "cidr")        ? IOC_IP
                      : !strcmp(ty, "hostname")  ? IOC_DOMAIN
                      : !strcmp(ty, "string")    ? IOC_WL_STRING
                      : !strcmp(ty, "substring") ? IOC_WL_SUBSTR
                                                 : IOC_NONE;
    int rc = 0;
    if (t == IOC_NONE) { /* regex lists and unknown kinds */
        f->unsupported += json_array_size(list);
        json_decref(root);
        return 0;
    }
    /* which of our types the list applies to (its "matching_attributes"); kept in the
     * meta's extra as "types\x1f<bitmask>\x1e" for the matcher's substring check */
    unsigned mask = 0;
    size_t mi;
    json_t *ma;
    json_array_foreach(json_object_get(root, "matching_attributes"), mi, ma) {
        const char *a = json_string_value(ma);
        if (!a) continue;
        if (strstr(a, "ip")) mask |= 1u << IOC_IP | 1u << IOC_IPPORT;
        if (strstr(a, "domain") || strstr(a, "hostname")) mask |= 1u << IOC_DOMAIN;
        if (strstr(a, "url") || strstr(a, "uri") || strstr(a, "link")) mask |= 1u << IOC_URL | 1u << IOC_PATH;
        if (strstr(a, "email")) mask |= 1u << IOC_EMAIL;
        if (strstr(a, "md5") || strstr(a, "sha1") || strstr(a, "sha256"))
            mask |= 1u << IOC_MD5 | 1u << IOC_SHA1 | 1u << IOC_SHA256;
    }
    char extra[64] = "";
    if (mask) snprintf(extra, sizeof extra, "types\x1f%u\x1e", mask);
    uint32_t meta = fs_meta(f, name ? name : fname, "warninglist", extra, 0, 0);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v)) {
            ferr(err, errlen, o, "%s: list entry %zu: not a string", fname, i + 1);
            rc = VK_EFORMAT;
            break;
        }
        const char *s = json_string_value(v);
        size_t vl;
        enum ioc_type got = ioc_classify(s, strlen(s), t, val, sizeof val, &vl);
        if (got == IOC_NONE && t == IOC_DOMAIN) got = ioc_classify(s, strlen(s), IOC_WL_STRING, val, sizeof val, &vl);
        if (got == IOC_NONE) {
            char where[300];
            snprintf(where, sizeof where, "%s entry %zu", fname, i + 1);
            note_skip(f, where, s, strlen(s));
            continue;
        }
        if (meta == UINT32_MAX || fs_add(f, got, val, vl, meta)) {
            rc = VK_ENOMEM;
            ferr(err, errlen, o, "%s: out of memory", fname);
            break;
        }
    }
    json_decref(root);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------ */
struct feedset *feed_parse_mem(const char *buf, size_t n, const char *fname, const struct feed_opts *o, char *err,
                               size_t errlen)
{
    struct feedset *f = fs_new(o->name);
    if (!f) {
        snprintf(err, errlen, "feed '%s': out of memory", o->name);
        return NULL;
    }
    f->benign = o->benign || o->fmt == VK_ENRICH_WARNINGLIST;
    int rc;
    switch (o->fmt) {
    case VK_ENRICH_CSV: rc = parse_csv(f, buf, n, fname, o, err, errlen); break;
    case VK_ENRICH_LIST: rc = parse_list(f, buf, n, fname, o, NULL, err, errlen); break;
    case VK_ENRICH_STIX: rc = parse_stix(f, buf, n, fname, o, err, errlen); break;
    case VK_ENRICH_MISP: rc = parse_misp(f, buf, n, fname, o, NULL, err, errlen); break;
    case VK_ENRICH_WARNINGLIST: rc = parse_warninglist(f, buf, n, fname, o, err, errlen); break;
    default:
        snprintf(err, errlen, "feed '%s': unknown format", o->name);
        rc = VK_EINVAL;
    }
    if (rc) {
        fs_unref(f);
        return NULL;
    }
    fs_seal(f);
    return f;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Files of a directory source, sorted: recursive for lists and warninglists. */
static int walk(const char *dir, const char *rel, int depth, const struct feed_opts *o, struct feedset *f,
                size_t *files, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        ferr(err, errlen, o, "%s: %s", dir, strerror(errno));
        return VK_EIO;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 64;
            char **nw = realloc(names, cap * sizeof *nw);
            if (!nw) break;
            names = nw;
        }
        names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    if (nn) qsort(names, nn, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++) {
        if (!names[i]) continue;
        char path[4096], r2[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(r2, sizeof r2, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 4) rc = walk(path, r2, depth + 1, o, f, files, err, errlen);
            continue;
        }
        const char *dot = strrchr(names[i], '.');
        bool want = false;
        if (o->fmt == VK_ENRICH_LIST) want = dot && (!strcmp(dot, ".txt") || !strcmp(dot, ".netset") || !strcmp(dot, ".ipset") || !strcmp(dot, ".list"));
        else if (o->fmt == VK_ENRICH_CSV) want = dot && (!strcmp(dot, ".csv") || !strcmp(dot, ".tsv"));
        else want = dot && !strcmp(dot, ".json") && strcmp(names[i], "manifest.json") && strcmp(names[i], "schema.json");
        if (!want) continue;
        /* a list's category: its folder under the source (maltrail: malware, malicious,
         * suspicious), else its own name */
        char cat[256] = "";
        const char *slash = strrchr(r2, '/');
        if (slash) {
            const char *p = slash;
            while (p > r2 && p[-1] != '/') p--;
            snprintf(cat, sizeof cat, "%.*s", (int)(slash - p), p);
        }
        if (o->fmt == VK_ENRICH_LIST) {
            (*files)++;
            rc = list_file(f, path, r2, o, cat[0] ? cat : NULL, err, errlen);
            continue;
        }
        char *buf;
        size_t n;
        char e2[512];
        if (read_file(path, FEED_MAX_BYTES, &buf, &n, e2, sizeof e2)) {
            ferr(err, errlen, o, "%s", e2);
            rc = VK_EIO;
            break;
        }
        (*files)++;
        switch (o->fmt) {
        case VK_ENRICH_LIST: rc = parse_list(f, buf, n, r2, o, cat[0] ? cat : NULL, err, errlen); break;
        case VK_ENRICH_CSV: rc = parse_csv(f, buf, n, r2, o, err, errlen); break;
        case VK_ENRICH_STIX: rc = parse_stix(f, buf, n, r2, o, err, errlen); break;
        case VK_ENRICH_MISP: rc = parse_misp(f, buf, n, r2, o, NULL, err, errlen); break;
        case VK_ENRICH_WARNINGLIST: rc = parse_warninglist(f, buf, n, r2, o, err, errlen); break;
        default: rc = VK_EINVAL;
        }
        free(buf);
    }
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    return rc;
}

struct feedset *feed_parse_path(const char *path, const struct feed_opts *o, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        ferr(err, errlen, o, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        struct feedset *f = fs_new(o->name);
        if (!f) return NULL;
        f->benign = o->benign || o->fmt == VK_ENRICH_WARNINGLIST;
        size_t files = 0;
        if (walk(path, "", 0, o, f, &files, err, errlen)) {
            fs_unref(f);
            return NULL;
        }
        if (files == 0) {
            ferr(err, errlen, o, "%s: no %s files in this directory", path, vk_enrich_fmt_name(o->fmt));
            fs_unref(f);
            return NULL;
        }
        fs_seal(f);
        return f;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (o->fmt == VK_ENRICH_LIST) {
        struct feedset *f = fs_new(o->name);
        if (!f) {
            ferr(err, errlen, o, "out of memory");
            return NULL;
        }
        f->benign = o->benign;
        if (list_file(f, path, base, o, NULL, err, errlen)) {
            fs_unref(f);
            return NULL;
        }
        fs_seal(f);
        return f;
    }
    char *buf;
    size_t n;
    char e2[512];
    if (read_file(path, FEED_MAX_BYTES, &buf, &n, e2, sizeof e2)) {
        ferr(err, errlen, o, "%s", e2);
        return NULL;
    }
    struct feedset *f = NULL;
    if (o->fmt == VK_ENRICH_MISP && !strcmp(base, "manifest.json")) {
        /* a MISP feed: manifest.json lists the events, each in <uuid>.json beside it */
        json_error_t je;
        json_t *man = json_loadb(buf, n, 0, &je);
        if (!json_is_object(man)) {
            char w[512];
            json_where(&je, base, w, sizeof w);
            ferr(err, errlen, o, "not a MISP feed manifest: %s", w);
        } else if ((f = fs_new(o->name))) {
            f->benign = o->benign;
            const char *uuid;
            json_t *v;
            size_t k = 0;
            json_object_foreach(man, uuid, v) {
                char ep[4096], fn[256];
                const char *sl = strrchr(path, '/');
                snprintf(ep, sizeof ep, "%.*s%s.json", sl ? (int)(sl - path + 1) : 0, path, uuid);
                snprintf(fn, sizeof fn, "%s.json", uuid);
                char *eb;
                size_t en;
                if (strspn(uuid, "0123456789abcdefABCDEF-") != strlen(uuid) ||
                    read_file(ep, FEED_MAX_BYTES, &eb, &en, e2, sizeof e2)) {
                    ferr(err, errlen, o, "manifest.json: event '%s': %s", uuid,
                         strspn(uuid, "0123456789abcdefABCDEF-") != strlen(uuid) ? "not a uuid" : e2);
                    fs_unref(f);
                    f = NULL;
                    break;
                }
                int rc = parse_misp(f, eb, en, fn, o, &k, err, errlen);
                free(eb);
                if (rc) {
                    fs_unref(f);
                    f = NULL;
                    break;
                }
            }
            if (f) fs_seal(f);
        }
        json_decref(man);
    } else {
        f = feed_parse_mem(buf, n, base, o, err, errlen);
    }
    free(buf);
    return f;
}

/* ---- the cache -------------------------------------------------------------------------- */
/* Text, one record a line, fields tab-separated, \t \n \\ escaped:
 *   #vakt-intel-cache 1
 *   s  skipped  unsupported  note
 *   m  conf  expires_ms  category  desc  extra      (meta tuple n = n-th m line)
 *   i  type  meta  value */
static void put_esc(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '\t') fputs("\\t", fp);
        else if (*s == '\n') fputs("\\n", fp);
        else if (*s == '\r') fputs("\\r", fp);
        else if (*s == '\\') fputs("\\\\", fp);
        else fputc(*s, fp);
    }
}

int feed_cache_save(const struct feedset *f, const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return VK_EIO;
    }
    fprintf(fp, "#vakt-intel-cache 1\ns\t%llu\t%llu\t", (unsigned long long)f->skipped,
            (unsigned long long)f->unsupported);
    put_esc(fp, f->note);
    fputc('\n', fp);
    for (uint32_t i = 0; i < f->nmeta; i++) {
        const struct fs_meta *m = &f->meta[i];
        fprintf(fp, "m\t%u\t%lld\t", m->conf, (long long)m->expires_ms);
        put_esc(fp, fs_s(f, m->cat));
        fputc('\t', fp);
        put_esc(fp, fs_s(f, m->desc));
        fputc('\t', fp);
        put_esc(fp, fs_s(f, m->extra));
        fputc('\n', fp);
    }
    for (uint32_t i = 0; i < f->n; i++) {
        const struct fs_ind *d = &f->ind[i];
        fprintf(fp, "i\t%s\t%u\t", ioc_type_name((enum ioc_type)d->type), (unsigned)d->meta);
        put_esc(fp, fs_s(f, d->val));
        fputc('\n', fp);
    }
    bool bad = ferror(fp);
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) bad = true;
    if (fclose(fp) != 0) bad = true;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return VK_EIO;
    }
    return 0;
}

/* Split a line into tab fields in place, unescaping. Returns the field count. */
static int split_tabs(char *l, char **fld, int max)
{
    int nf = 0;
    fld[nf++] = l;
    char *w = l;
    for (char *r = l; *r; r++) {
        if (*r == '\t') {
            *w++ = 0;
            if (nf == max) return nf;
            fld[nf++] = w;
        } else if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return nf;
}

struct cachep {
    struct feedset *f;
    uint64_t line;
    const char *why;
    uint32_t *mmap_, nm, mcap; /* meta tuple n of the file = mmap_[n] in f */
    enum ioc_type last_t;
    char last_ts[16];
};

/* One "i" line the quick way: fields found with memchr, the value used in place when it
 * has no escape. False when the line is not of that plain form (then split_tabs reads it). */
static bool cache_ind_fast(struct cachep *C, const char *l, size_t n)
{
    if (n < 2 || l[0] != 'i' || l[1] != '\t' || memchr(l, 0, n)) return false;
    const char *t = l + 2, *e = l + n, *t2 = memchr(t, '\t', (size_t)(e - t));
    if (!t2 || (size_t)(t2 - t) >= sizeof C->last_ts || memchr(t, '\\', (size_t)(t2 - t))) return false;
    const char *m = t2 + 1, *t3 = memchr(m, '\t', (size_t)(e - m));
    if (!t3 || t3 == m || t3 - m > 9 || memchr(m, '\\', (size_t)(t3 - m))) return false;
    const char *v = t3 + 1;
    if (memchr(v, '\t', (size_t)(e - v)) || memchr(v, '\\', (size_t)(e - v))) return false;
    if (strlen(C->last_ts) != (size_t)(t2 - t) || memcmp(C->last_ts, t, (size_t)(t2 - t))) {
        memcpy(C->last_ts, t, (size_t)(t2 - t));
        C->last_ts[t2 - t] = 0;
        C->last_t = ioc_type_parse(C->last_ts);
    }
    uint32_t mi = 0;
    for (const char *d = m; d < t3; d++) {
        if (*d < '0' || *d > '9') return false;
        mi = mi * 10 + (uint32_t)(*d - '0');
    }
    if (C->last_t == IOC_NONE || mi >= C->nm || v == e) C->why = "bad indicator line";
    else if (fs_add(C->f, C->last_t, v, (size_t)(e - v), C->mmap_[mi])) C->why = "out of memory";
    return true;
}

static int cache_lines(void *ud, char *buf, size_t n)
{
    struct cachep *C = ud;
    char *p = buf;
    while (p < buf + n && !C->why) {
        char *e = memchr(p, '\n', (size_t)(buf + n - p));
        if (!e) e = buf + n;
        char *l = p;
        size_t ll = (size_t)(e - p);
        p = e + 1;
        C->line++;
        if (C->line > 1 && cache_ind_fast(C, l, ll)) continue;
        char save = *e;
        *e = 0; /* (e may be buf + n: the reader's buffer always has room for it) */
        if (C->line == 1) {
            if (strcmp(l, "#vakt-intel-cache 1")) C->why = "not a vakt intel cache (version 1)";
            *e = save;
            continue;
        }
        char *fld[7];
        int nf = split_tabs(l, fld, 7);
        if (!strcmp(fld[0], "i") && nf == 4) {
            if (strcmp(fld[1], C->last_ts)) {
                C->last_t = ioc_type_parse(fld[1]);
                snprintf(C->last_ts, sizeof C->last_ts, "%s", fld[1]);
            }
            uint32_t mi = (uint32_t)strtoul(fld[2], NULL, 10);
            if (C->last_t == IOC_NONE || mi >= C->nm || !fld[3][0]) {
                C->why = "bad indicator line";
                break;
            }
            if (fs_add(C->f, C->last_t, fld[3], strlen(fld[3]), C->mmap_[mi])) C->why = "out of memory";
        } else if (!strcmp(fld[0], "m") && nf == 6) {
            uint32_t mi = fs_meta(C->f, fld[3], fld[4], fld[5], (unsigned)strtoul(fld[1], NULL, 10),
                                  strtoll(fld[2], NULL, 10));
            if (mi == UINT32_MAX) {
                C->why = "out of memory";
                break;
            }
            if (C->nm == C->mcap) {
                C->mcap = C->mcap ? C->mcap * 2 : 64;
                uint32_t *nmap = realloc(C->mmap_, C->mcap * sizeof *nmap);
                if (!nmap) {
                    C->why = "out of memory";
                    break;
                }
                C->mmap_ = nmap;
            }
            C->mmap_[C->nm++] = mi;
        } else if (!strcmp(fld[0], "s") && nf == 4) {
            C->f->skipped = strtoull(fld[1], NULL, 10);
            C->f->unsupported = strtoull(fld[2], NULL, 10);
            snprintf(C->f->note, sizeof C->f->note, "%s", fld[3]);
        } else if (l[0]) {
            C->why = "unknown line";
        }
    }
    return C->why ? 1 : 0;
}

/* Read a chunk at a time (read_lines); plain indicator lines go into the feedset without
 * a copy or a split. O(file). */
struct feedset *feed_cache_load(const char *path, const char *name, bool benign, char *err, size_t errlen)
{
    struct feedset *f = fs_new(name);
    if (!f) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    f->benign = benign;
    struct cachep C = {.f = f};
    int rc = read_lines(path, FEED_MAX_BYTES * 2, cache_lines, &C, err, errlen);
    free(C.mmap_);
    if (C.why) {
        snprintf(err, errlen, "cache %s line %llu: %s", path, (unsigned long long)C.line, C.why);
        fs_unref(f);
        return NULL;
    }
    if (rc) {
        fs_unref(f);
        return NULL;
    }
    fs_seal(f);
    return f;
}
