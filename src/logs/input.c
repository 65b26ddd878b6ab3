/* input.c — log files read line by line: plain, gzip, zstd, stdin and directories.
 *
 * A file is opened, its first bytes say what it is (1f 8b gzip, 28 b5 2f fd zstd, anything
 * else plain text), and the decompressed stream goes through the line splitter (vk_lsplit,
 * also used by tail.c), which hands each line to the caller's callback straight from the
 * read buffer. Memory per call: a 256 KiB input buffer and a max_line + 256 KiB line
 * buffer. Knows nothing of what a line means. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/vk_core.h"
#include "input_int.h"
#include "vk_loginput.h"

#define CHUNK (256u * 1024u)

int64_t vk_loginput_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the line splitter ---------------------------------------------------------------- */
int vk_lsplit_init(struct vk_lsplit *s, size_t max_line, size_t chunk)
{
    memset(s, 0, sizeof *s);
    s->max = max_line ? max_line : VK_LOGLINE_MAX_DEFAULT;
    s->cap = s->max + chunk + 1;
    s->buf = malloc(s->cap + 1);
    return s->buf ? 0 : VK_ENOMEM;
}

void vk_lsplit_free(struct vk_lsplit *s)
{
    free(s->buf);
    s->buf = NULL;
}

void vk_lsplit_reset(struct vk_lsplit *s, uint64_t pos, uint64_t lineno)
{
    s->start = s->len = 0;
    s->pos = pos;
    s->lineno = lineno;
    s->skipped = 0;
    s->drop = false;
}

char *vk_lsplit_space(struct vk_lsplit *s, size_t *room)
{
    /* Invariant after run(): len < max, or drop with len == max. Compacting therefore
     * always leaves at least cap - max = chunk + 1 bytes. */
    if (s->start && s->cap - s->start - s->len < s->cap - s->max) {
        memmove(s->buf, s->buf + s->start, s->len);
        s->start = 0;
    }
    *room = s->cap - s->start - s->len;
    return s->buf + s->start + s->len;
}

static int emit_line(struct vk_lsplit *s, size_t l, bool cut, uint64_t end, vk_lsplit_fn fn,
                     void *ud)
{
    char *line = s->buf + s->start;
    if (!cut && l && line[l - 1] == '\r') l--;
    if (l > s->max) {
        l = s->max;
        cut = true;
    }
    line[l] = 0;
    return fn(ud, line, l, cut, end, ++s->lineno);
}

int vk_lsplit_run(struct vk_lsplit *s, size_t added, vk_lsplit_fn fn, void *ud)
{
    if (s->drop && added) {
        /* New bytes sit after the held max bytes; look for the end of the long line. */
        char *nb = s->buf + s->start + s->len;
        char *nl = memchr(nb, '\n', added);
        if (!nl) {
            s->skipped += added;
            return 0;
        }
        size_t k = (size_t)(nl - nb);
        uint64_t end = s->pos + s->len + s->skipped + k + 1;
        s->drop = false;
        int rc = emit_line(s, s->len, true, end, fn, ud);
        s->start += s->len + k + 1;
        s->len = added - k - 1;
        s->pos = end;
        s->skipped = 0;
        if (rc) return rc;
        added = 0;
    }
    s->len += added;
    while (!s->drop && s->len) {
        char *line = s->buf + s->start;
        char *nl = memchr(line, '\n', s->len);
        if (!nl) {
            if (s->len >= s->max) { /* hold the first max bytes, skip to the LF */
                s->skipped = s->len - s->max;
                s->len = s->max;
                s->drop = true;
            }
            return 0;
        }
        size_t n = (size_t)(nl - line);
        uint64_t end = s->pos + n + 1;
        int rc = emit_line(s, n, false, end, fn, ud);
        s->start += n + 1;
        s->len -= n + 1;
        s->pos = end;
        if (rc) return rc;
    }
    if (!s->len) s->start = 0;
    return 0;
}

int vk_lsplit_flush(struct vk_lsplit *s, vk_lsplit_fn fn, void *ud)
{
    int rc = vk_lsplit_run(s, 0, fn, ud);
    if (rc) return rc;
    if (!vk_lsplit_pending(s)) return 0;
    uint64_t end = s->pos + s->len + s->skipped;
    bool cut = s->drop;
    size_t l = s->len;
    rc = emit_line(s, l, cut, end, fn, ud);
    vk_lsplit_reset(s, end, s->lineno);
    return rc;
}

/* ---- decompressing reader ------------------------------------------------------------- */
enum { K_PLAIN, K_GZ, K_ZST };

struct rd {
    int fd;
    int kind;
    const char *name;
    uint8_t *in;
    size_t in_len, in_pos;
    uint64_t in_off; /* compressed bytes consumed before `in` */
    bool eof, stream_end;
    z_stream z;
    ZSTD_DStream *zs;
    size_t zret; /* last ZSTD_decompressStream result: 0 when a frame ended */
    char *err;
    size_t errlen;
};

static int rd_fail(struct rd *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rd_fail(struct rd *r, int code, const char *fmt, ...)
{
    if (r->err && r->errlen) {
        int n = snprintf(r->err, r->errlen, "%s: ", r->name);
        if (n >= 0 && (size_t)n < r->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* Refill `in` from the file. 0 on success (maybe eof), negative on error. */
static int rd_fill(struct rd *r)
{
    if (r->in_pos < r->in_len || r->eof) return 0;
    r->in_off += r->in_len;
    r->in_pos = r->in_len = 0;
    for (;;) {
        ssize_t n = read(r->fd, r->in, CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return rd_fail(r, VK_EIO, "read: %s", strerror(errno));
        if (n == 0) r->eof = true;
        r->in_len = (size_t)n;
        return 0;
    }
}

static int rd_open(struct rd *r)
{
    /* Read until 4 bytes (or EOF) are there to look at: a pipe may deliver fewer. */
    while (r->in_len < 4 && !r->eof) {
        ssize_t n = read(r->fd, r->in + r->in_len, CHUNK - r->in_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return rd_fail(r, VK_EIO, "read: %s", strerror(errno));
        if (n == 0) r->eof = true;
        r->in_len += (size_t)n;
    }
    const uint8_t *p = r->in;
    if (r->in_len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        r->kind = K_GZ;
        if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
            return rd_fail(r, VK_ENOMEM, "gzip: cannot initialise zlib");
    } else if (r->in_len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
        r->kind = K_ZST;
        r->zs = ZSTD_createDStream();
        if (!r->zs) return rd_fail(r, VK_ENOMEM, "zstd: cannot create a stream");
    } else {
        r->kind = K_PLAIN;
    }
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* Up to cap decompressed bytes into out: >0 bytes, 0 at the end, negative on error. */
static ssize_t rd_read(struct rd *r, char *out, size_t cap)
{
    if (r->kind == K_PLAIN) {
        if (r->in_pos < r->in_len) {
            size_t n = r->in_len - r->in_pos;
            if (n > cap) n = cap;
            memcpy(out, r->in + r->in_pos, n);
            r->in_pos += n;
            return (ssize_t)n;
        }
        if (r->eof) return 0;
        for (;;) {
            ssize_t n = read(r->fd, out, cap);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return rd_fail(r, VK_EIO, "read: %s", strerror(errno));
            if (n == 0) r->eof = true;
            return n;
        }
    }
    for (;;) {
        int rc = rd_fill(r);
        if (rc) return rc;
        size_t avail = r->in_len - r->in_pos;
        if (r->kind == K_GZ) {
            if (r->stream_end) { /* between members: another member, zeros or garbage */
                if (!avail && r->eof) return 0;
                if (!avail) continue;
                if (r->in[r->in_pos] != 0x1f) {
                    if (all_zero(r->in + r->in_pos, avail)) { /* zero padding: ignore */
                        r->in_pos = r->in_len;
                        continue;
                    }
                    return rd_fail(r, VK_EFORMAT, "gzip: trailing garbage at offset %llu",
                                   (unsigned long long)(r->in_off + r->in_pos));
                }
                inflateReset(&r->z);
                r->stream_end = false;
            }
            r->z.next_in = r->in + r->in_pos;
            r->z.avail_in = (uInt)avail;
            r->z.next_out = (Bytef *)out;
            r->z.avail_out = (uInt)(cap > 0x40000000u ? 0x40000000u : cap);
            uInt before_out = r->z.avail_out;
            int zr = inflate(&r->z, Z_NO_FLUSH);
            r->in_pos = (size_t)(r->z.next_in - r->in);
            size_t got = before_out - r->z.avail_out;
            if (zr == Z_STREAM_END) r->stream_end = true;
            else if (zr != Z_OK && zr != Z_BUF_ERROR)
                return rd_fail(r, VK_EFORMAT, "gzip: %s at offset %llu",
                               r->z.msg ? r->z.msg : "corrupt data",
                               (unsigned long long)(r->in_off + r->in_pos));
            if (got) return (ssize_t)got;
            if (!avail && !r->stream_end) /* no progress and no more input */
                return rd_fail(r, VK_EFORMAT, "gzip: unexpected end of file at offset %llu",
                               (unsigned long long)(r->in_off + r->in_pos));
        } else {
            if (!avail && r->zret == 0) return 0;
            ZSTD_inBuffer ib = {r->in, r->in_len, r->in_pos};
            ZSTD_outBuffer ob = {out, cap, 0};
            size_t zr = ZSTD_decompressStream(r->zs, &ob, &ib);
            r->in_pos = ib.pos;
            if (ZSTD_isError(zr))
                return rd_fail(r, VK_EFORMAT, "zstd: %s at offset %llu", ZSTD_getErrorName(zr),
                               (unsigned long long)(r->in_off + r->in_pos));
            r->zret = zr;
            if (ob.pos) return (ssize_t)ob.pos;
            if (!avail) /* more was expected but the file ended */
                return rd_fail(r, VK_EFORMAT, "zstd: unexpected end of file at offset %llu",
                               (unsigned long long)(r->in_off + r->in_pos));
        }
    }
}

static void rd_close(struct rd *r)
{
    if (r->kind == K_GZ) inflateEnd(&r->z);
    if (r->zs) ZSTD_freeDStream(r->zs);
    if (r->fd > 0) close(r->fd);
}

/* ---- reading one file ------------------------------------------------------------------ */
struct fctx {
    vk_logline_fn fn;
    void *ud;
    const char *source;
    int64_t now;
};

static int on_line(void *ud, char *line, size_t len, bool cut, uint64_t end, uint64_t lineno)
{
    struct fctx *c = ud;
    struct vk_logline l = {.data = line, .len = len, .recv_ms = c->now, .source = c->source,
                           .seq = end, .lineno = lineno, .cut = cut};
    return c->fn(c->ud, &l);
}

static int read_fd(int fd, const char *name, size_t max_line, uint8_t *inbuf, vk_logline_fn fn,
                   void *ud, char *err, size_t errlen)
{
    struct rd r = {.fd = fd, .name = name, .in = inbuf, .err = err, .errlen = errlen};
    struct vk_lsplit sp;
    if (vk_lsplit_init(&sp, max_line, CHUNK)) {
        if (fd > 0) close(fd);
        return rd_fail(&r, VK_ENOMEM, "out of memory");
    }
    struct fctx c = {fn, ud, name, vk_loginput_now_ms()};
    int rc = rd_open(&r);
    while (!rc) {
        size_t room;
        char *p = vk_lsplit_space(&sp, &room);
        ssize_t n = rd_read(&r, p, room);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0) {
            rc = vk_lsplit_flush(&sp, on_line, &c);
            break;
        }
        c.now = vk_loginput_now_ms();
        rc = vk_lsplit_run(&sp, (size_t)n, on_line, &c);
    }
    if (rc < 0 && rc != VK_EIO && rc != VK_ENOMEM) {
        /* a damaged compressed stream: what was decoded before it still counts */
        int frc = vk_lsplit_flush(&sp, on_line, &c);
        if (frc > 0) rc = frc;
    }
    vk_lsplit_free(&sp);
    rd_close(&r);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir(const char *path, size_t max_line, uint8_t *inbuf, vk_logline_fn fn,
                    void *ud, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return VK_EIO;
    }
    char **names = NULL;
    size_t n = 0, na = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        size_t plen = strlen(path) + strlen(de->d_name) + 2;
        char *full = malloc(plen);
        if (!full) {
            rc = VK_ENOMEM;
            break;
        }
        snprintf(full, plen, "%s/%s", path, de->d_name);
        struct stat st;
        if (stat(full, &st) || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (n == na) {
            na = na ? na * 2 : 64;
            char **nn = realloc(names, na * sizeof *nn);
            if (!nn) {
                free(full);
                rc = VK_ENOMEM;
                break;
            }
            names = nn;
        }
        names[n++] = full;
    }
    closedir(d);
    if (rc) snprintf(err, errlen, "%s: out of memory", path);
    qsort(names, n, sizeof *names, cmp_name);
    int first_err = rc;
    char msg[512];
    for (size_t i = 0; i < n && rc <= 0; i++) {
        int fd = open(names[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = VK_EIO;
            snprintf(msg, sizeof msg, "%s: %s", names[i], strerror(errno));
        } else {
            rc = read_fd(fd, names[i], max_line, inbuf, fn, ud, msg, sizeof msg);
        }
        if (rc < 0 && !first_err) {
            first_err = rc;
            snprintf(err, errlen, "%s", msg);
        }
        if (rc < 0) rc = 0; /* go on with the other files */
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc > 0 ? rc : first_err;
}

int vk_loginput_read(const char *path, size_t max_line, vk_logline_fn fn, void *ud, char *err,
                     size_t errlen)
{
    uint8_t *inbuf = malloc(CHUNK);
    if (!inbuf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return VK_ENOMEM;
    }
    int rc;
    if (!strcmp(path, "-")) {
        rc = read_fd(0, "stdin", max_line, inbuf, fn, ud, err, errlen);
    } else {
        struct stat st;
        if (stat(path, &st)) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = errno == ENOENT ? VK_ENOTFOUND : VK_EIO;
        } else if (S_ISDIR(st.st_mode)) {
            rc = read_dir(path, max_line, inbuf, fn, ud, err, errlen);
        } else {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                rc = VK_EIO;
            } else {
                rc = read_fd(fd, path, max_line, inbuf, fn, ud, err, errlen);
            }
        }
    }
    free(inbuf);
    return rc;
}
