/* tail.c — follow mode: tail -F over log files, with offsets that survive a restart.
 *
 * A watch is a path; a reader is one open file (device + inode). A watch has one current
 * reader and, after a rename rotation, older readers that are drained until they have been
 * idle for rotate_grace_ms (the writer may still append before it reopens). A file that
 * shrinks, or whose first bytes change (copytruncate), is read again from 0. Deleted files
 * are read to their end through the open descriptor.
 *
 * The consumer acks what it stored; vk_tail_ack writes one line per open reader (device,
 * inode, a hash of its first bytes, the offset past the last delivered line) to the state
 * file atomically. On open, a saved file is found again at its path or, renamed, in the same
 * directory, and read on from its offset: a restart neither loses nor repeats acked lines.
 *
 * Wake-ups come from inotify on the paths' directories, with a stat of every path every
 * rescan_ms as the fallback. Per file: one buffer of max_line + 64 KiB; per poll: one stat
 * per path, one pread per file with data. Parsing is someone else's job. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/vk_core.h"
#include "input_int.h"
#include "vk_loginput.h"

#define FP_MAX 1024u
#define RCHUNK (64u * 1024u)
#define POLL_BYTES (4u * 1024u * 1024u)
#define POLL_LINES 65536u

struct watch;

struct reader {
    struct watch *w;
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t rd_off;   /* bytes read from the file */
    uint64_t done;     /* offset just past the last delivered line */
    uint32_t fp_len;   /* fingerprint: XXH3 of the first fp_len bytes */
    uint64_t fp;
    off_t last_size;
    struct timespec last_mtime;
    bool rotated, at_eof, from_zero;
    int64_t last_data_ms;
    struct vk_lsplit sp;
    struct reader *next;
};

struct watch {
    char *path, *dir;
    struct reader *cur;
    bool known; /* the state file or an earlier reader knew this path: new files start at 0 */
    int wd;
};

struct saved {
    dev_t dev;
    ino_t ino;
    uint32_t fp_len;
    uint64_t fp, off;
    char *path;
};

struct vk_tail {
    struct watch *w;
    size_t nw;
    struct reader *readers; /* oldest first */
    char *state_file;
    struct vk_tail_opts o;
    int ifd;
    int64_t last_rescan;
    bool dirty; /* delivered lines since the last ack */
    struct vk_tail_stats st;
    struct saved *sv; /* state entries not yet matched (used by the first rescan) */
    size_t nsv;
};

/* ---- fingerprints -------------------------------------------------------------------- */
/* Hash of the first n bytes; false when the file has fewer. One pread of <= 1 KiB. */
static bool fp_of(int fd, uint32_t n, uint64_t *out)
{
    uint8_t b[FP_MAX];
    if (n > FP_MAX) return false;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    *out = XXH3_64bits(b, n);
    return true;
}

static void fp_grow(struct reader *r)
{
    if (r->fp_len >= FP_MAX || r->rd_off <= r->fp_len) return;
    uint32_t n = r->rd_off < FP_MAX ? (uint32_t)r->rd_off : FP_MAX;
    uint64_t h;
    if (fp_of(r->fd, n, &h)) {
        r->fp_len = n;
        r->fp = h;
    }
}

/* ---- readers ------------------------------------------------------------------------- */
static struct reader *reader_new(struct vk_tail *t, struct watch *w, int fd,
                                 const struct stat *st, uint64_t off)
{
    struct reader *r = calloc(1, sizeof *r);
    if (!r || vk_lsplit_init(&r->sp, t->o.max_line, RCHUNK)) {
        free(r);
        return NULL;
    }
    r->w = w;
    r->fd = fd;
    r->dev = st->st_dev;
    r->ino = st->st_ino;
    r->rd_off = r->done = off;
    r->from_zero = off == 0;
    r->last_size = st->st_size;
    r->last_mtime = st->st_mtim;
    r->last_data_ms = vk_loginput_now_ms();
    vk_lsplit_reset(&r->sp, off, 0);
    fp_grow(r);
    struct reader **pp = &t->readers;
    while (*pp) pp = &(*pp)->next;
    *pp = r;
    t->st.open_files++;
    w->known = true;
    return r;
}

static void reader_free(struct vk_tail *t, struct reader *r)
{
    struct reader **pp = &t->readers;
    while (*pp && *pp != r) pp = &(*pp)->next;
    if (*pp) *pp = r->next;
    if (r->w->cur == r) r->w->cur = NULL;
    close(r->fd);
    vk_lsplit_free(&r->sp);
    free(r);
    t->st.open_files--;
}

struct pctx {
    struct vk_tail *t;
    struct reader *r;
    vk_logline_fn fn;
    void *ud;
    int64_t now;
    size_t lines, bytes;
    int user_rc;
};

static int on_line(void *ud, char *line, size_t len, bool cut, uint64_t end, uint64_t lineno)
{
    struct pctx *c = ud;
    struct reader *r = c->r;
    struct vk_logline l = {.data = line, .len = len, .recv_ms = c->now, .source = r->w->path,
                           .seq = end, .lineno = r->from_zero ? lineno : 0, .cut = cut};
    r->done = end;
    c->t->dirty = true;
    c->t->st.lines++;
    c->t->st.bytes += len;
    if (cut) c->t->st.cut++;
    c->lines++;
    c->bytes += len + 1;
    int rc = c->fn(c->ud, &l);
    if (rc) {
        c->user_rc = rc;
        return rc;
    }
    return c->lines >= POLL_LINES || c->bytes >= POLL_BYTES ? 1 : 0;
}

/* Start a reader over: the file was truncated or rewritten in place. */
static int reader_restart(struct pctx *c, struct reader *r)
{
    c->r = r;
    int rc = vk_lsplit_flush(&r->sp, on_line, c); /* a partial line before the cut is data */
    vk_lsplit_reset(&r->sp, 0, 0);
    r->rd_off = r->done = 0;
    r->fp_len = 0;
    r->from_zero = true;
    r->at_eof = false;
    c->t->st.truncations++;
    c->t->dirty = true;
    (void)rc; /* a budget stop after the flushed line is fine: the reset is done */
    return c->user_rc;
}

/* Read what the file has; 1 when the poll budget is spent, the user's value, or 0. */
static int reader_read(struct pctx *c, struct reader *r)
{
    c->r = r;
    int rc = vk_lsplit_run(&r->sp, 0, on_line, c); /* lines left by a stopped call */
    if (rc) return c->user_rc ? c->user_rc : 1;
    for (;;) {
        size_t room;
        char *p = vk_lsplit_space(&r->sp, &room);
        ssize_t n = pread(r->fd, p, room, (off_t)r->rd_off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { /* EOF, or an I/O error that we treat alike until the next try */
            r->at_eof = true;
            return 0;
        }
        r->at_eof = false;
        r->rd_off += (uint64_t)n;
        r->last_data_ms = c->now;
        fp_grow(r);
        rc = vk_lsplit_run(&r->sp, (size_t)n, on_line, c);
        if (rc) return c->user_rc ? c->user_rc : 1;
    }
}

/* ---- finding files again ------------------------------------------------------------- */
static struct saved *saved_match(struct vk_tail *t, const char *path, int fd,
                                 const struct stat *st)
{
    for (size_t i = 0; i < t->nsv; i++) {
        struct saved *s = &t->sv[i];
        if (!s->path || strcmp(s->path, path) || s->dev != st->st_dev || s->ino != st->st_ino)
            continue;
        uint64_t h;
        if (s->fp_len && (!fp_of(fd, s->fp_len, &h) || h != s->fp)) continue;
        if ((uint64_t)st->st_size < s->off) continue;
        return s;
    }
    return NULL;
}

static void saved_drop(struct saved *s)
{
    free(s->path);
    s->path = NULL;
}

/* Saved entries of watch w whose file is not at the path: look for them in its directory
 * (a rotation while we were down: app.log -> app.log.1) and drain them from their offset. */
static void restore_rotated(struct vk_tail *t, struct watch *w)
{
    bool any = false;
    for (size_t i = 0; i < t->nsv; i++)
        if (t->sv[i].path && !strcmp(t->sv[i].path, w->path)) any = true;
    if (!any) return;
    w->known = true;
    struct stat at; /* the file now at the path is rescan's business */
    bool have_at = stat(w->path, &at) == 0;
    DIR *d = opendir(w->dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char full[4096];
        if (snprintf(full, sizeof full, "%s/%s", w->dir, de->d_name) >= (int)sizeof full) continue;
        struct stat st;
        if (stat(full, &st) || !S_ISREG(st.st_mode)) continue;
        if (have_at && at.st_dev == st.st_dev && at.st_ino == st.st_ino) continue;
        for (size_t i = 0; i < t->nsv; i++) {
            struct saved *s = &t->sv[i];
            if (!s->path || strcmp(s->path, w->path) || s->dev != st.st_dev || s->ino != st.st_ino)
                continue;
            int fd = open(full, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            uint64_t h;
            if ((s->fp_len && (!fp_of(fd, s->fp_len, &h) || h != s->fp)) ||
                (uint64_t)st.st_size < s->off) {
                close(fd);
                continue;
            }
            struct reader *r = reader_new(t, w, fd, &st, s->off);
            if (!r) {
                close(fd);
                continue;
            }
            r->rotated = true;
            t->st.resumed++;
            saved_drop(s);
        }
    }
    if (d) closedir(d);
}

/* ---- rescan: what is at each path now ------------------------------------------------ */
static int rescan_watch(struct pctx *c, struct watch *w)
{
    struct vk_tail *t = c->t;
    struct stat st;
    if (stat(w->path, &st) || !S_ISREG(st.st_mode)) return 0; /* not there (yet) */
    struct reader *r = w->cur;
    if (r && r->dev == st.st_dev && r->ino == st.st_ino) {
        bool changed = st.st_size != r->last_size || st.st_mtim.tv_sec != r->last_mtime.tv_sec ||
                       st.st_mtim.tv_nsec != r->last_mtime.tv_nsec;
        r->last_size = st.st_size;
        r->last_mtime = st.st_mtim;
        if ((uint64_t)st.st_size < r->rd_off) return reader_restart(c, r);
        uint64_t h;
        if (changed && r->fp_len && (!fp_of(r->fd, r->fp_len, &h) || h != r->fp))
            return reader_restart(c, r);
        return 0;
    }
    int fd = open(w->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
        (r && r->dev == st.st_dev && r->ino == st.st_ino)) {
        close(fd);
        return 0;
    }
    uint64_t off = 0;
    struct saved *s = saved_match(t, w->path, fd, &st);
    if (s) {
        off = s->off;
        t->st.resumed++;
        saved_drop(s);
    } else if (!w->known && t->o.from_end) {
        off = (uint64_t)st.st_size;
    }
    bool rotation = r != NULL;
    struct reader *nr = reader_new(t, w, fd, &st, off);
    if (!nr) {
        close(fd);
        return VK_ENOMEM;
    }
    if (rotation) {
        r->rotated = true;
        r->last_data_ms = c->now;
        t->st.rotations++;
    }
    w->cur = nr;
    return 0;
}

static void add_watches(struct vk_tail *t)
{
    if (t->ifd < 0) return;
    for (size_t i = 0; i < t->nw; i++) {
        struct watch *w = &t->w[i];
        if (w->wd >= 0) continue;
        w->wd = inotify_add_watch(t->ifd, w->dir,
                                  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                      IN_CLOSE_WRITE | IN_ATTRIB);
        if (w->wd < 0) continue;
        for (size_t j = i + 1; j < t->nw; j++)
            if (!strcmp(t->w[j].dir, w->dir)) t->w[j].wd = w->wd;
    }
}

static int rescan(struct pctx *c)
{
    struct vk_tail *t = c->t;
    add_watches(t);
    for (size_t i = 0; i < t->nw; i++) {
        int rc = rescan_watch(c, &t->w[i]);
        if (rc) return rc;
    }
    if (t->sv) { /* entries matched by neither path nor directory are gone */
        for (size_t i = 0; i < t->nsv; i++)
            if (t->sv[i].path) {
                t->st.lost++;
                saved_drop(&t->sv[i]);
            }
        free(t->sv);
        t->sv = NULL;
        t->nsv = 0;
    }
    t->last_rescan = c->now;
    return 0;
}

/* Close rotated-away readers that are drained and idle past the grace time. */
static int retire(struct pctx *c)
{
    struct vk_tail *t = c->t;
    for (struct reader *r = t->readers, *nx; r; r = nx) {
        nx = r->next;
        if (!r->rotated || !r->at_eof || c->now - r->last_data_ms < t->o.rotate_grace_ms) continue;
        c->r = r;
        int rc = vk_lsplit_flush(&r->sp, on_line, c);
        if (c->user_rc) return c->user_rc;
        if (rc) return 1; /* budget: retire on the next call */
        reader_free(t, r);
    }
    return 0;
}

/* ---- state file ---------------------------------------------------------------------- */
static void put_path(FILE *f, const char *p)
{
    for (; *p; p++) {
        if (*p == '%' || *p == '\n' || *p == '\r' || *p == ' ') fprintf(f, "%%%02X", (unsigned char)*p);
        else fputc(*p, f);
    }
}

static char *get_path(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (s[i] == '%' && i + 2 < n + 1 && sscanf(s + i + 1, "%2x", &v) == 1) {
            *q++ = (char)v;
            i += 2;
        } else {
            *q++ = s[i];
        }
    }
    *q = 0;
    return o;
}

static int load_state(struct vk_tail *t, char *err, size_t errlen)
{
    FILE *f = fopen(t->state_file, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: %s", t->state_file, strerror(errno));
        return VK_EIO;
    }
    char line[8192];
    unsigned ln = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = 0;
        if (ln == 1) {
            if (strcmp(line, "vakt-tail-state 1")) {
                snprintf(err, errlen, "%s line 1: not a vakt tail state file", t->state_file);
                rc = VK_EFORMAT;
                break;
            }
            continue;
        }
        if (!n) continue;
        uint64_t dev, ino, fp, off;
        unsigned fpl;
        int pos = 0;
        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %u %" SCNx64 " %" SCNu64 " %n", &dev, &ino, &fpl,
                   &fp, &off, &pos) != 5 || !pos || !line[pos] || fpl > FP_MAX) {
            snprintf(err, errlen, "%s line %u: bad entry", t->state_file, ln);
            rc = VK_EFORMAT;
            break;
        }
        struct saved *ns = realloc(t->sv, (t->nsv + 1) * sizeof *ns);
        if (!ns) {
            rc = VK_ENOMEM;
            snprintf(err, errlen, "%s: out of memory", t->state_file);
            break;
        }
        t->sv = ns;
        struct saved *s = &t->sv[t->nsv++];
        *s = (struct saved){(dev_t)dev, (ino_t)ino, fpl, fp, off, get_path(line + pos)};
    }
    fclose(f);
    return rc;
}

int vk_tail_ack(struct vk_tail *t, char *err, size_t errlen)
{
    if (!t->state_file || !t->dirty) return 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", t->state_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return VK_EIO;
    }
    fprintf(f, "vakt-tail-state 1\n");
    for (struct reader *r = t->readers; r; r = r->next) {
        fp_grow(r);
        fprintf(f, "%" PRIu64 " %" PRIu64 " %u %016" PRIx64 " %" PRIu64 " ", (uint64_t)r->dev,
                (uint64_t)r->ino, r->fp_len, r->fp, r->done);
        put_path(f, r->w->path);
        fputc('\n', f);
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, t->state_file)) {
        snprintf(err, errlen, "%s: %s", t->state_file, strerror(errno));
        unlink(tmp);
        return VK_EIO;
    }
    char dbuf[4200];
    snprintf(dbuf, sizeof dbuf, "%s", t->state_file);
    int dfd = open(dirname(dbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    t->dirty = false;
    return 0;
}

/* ---- the interface ------------------------------------------------------------------- */
struct vk_tail *vk_tail_open(const char *const *paths, size_t n, const char *state_file,
                             const struct vk_tail_opts *opts, char *err, size_t errlen)
{
    struct vk_tail *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    if (opts) t->o = *opts;
    if (!t->o.max_line) t->o.max_line = VK_LOGLINE_MAX_DEFAULT;
    if (t->o.rescan_ms <= 0) t->o.rescan_ms = 1000;
    if (t->o.rotate_grace_ms <= 0) t->o.rotate_grace_ms = 5000;
    t->ifd = -1;
    t->w = calloc(n ? n : 1, sizeof *t->w);
    if (!t->w) goto oom;
    t->nw = n;
    for (size_t i = 0; i < n; i++) {
        t->w[i].wd = -1;
        t->w[i].path = strdup(paths[i]);
        char *tmp = strdup(paths[i]);
        if (!t->w[i].path || !tmp) {
            free(tmp);
            goto oom;
        }
        t->w[i].dir = strdup(dirname(tmp));
        free(tmp);
        if (!t->w[i].dir) goto oom;
    }
    if (state_file) {
        t->state_file = strdup(state_file);
        if (!t->state_file) goto oom;
        if (load_state(t, err, errlen)) {
            vk_tail_close(t);
            return NULL;
        }
    }
    t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC); /* -1: stat polling only */
    for (size_t i = 0; i < n; i++) restore_rotated(t, &t->w[i]);
    return t;
oom:
    snprintf(err, errlen, "tail: out of memory");
    vk_tail_close(t);
    return NULL;
}

static void drain_inotify(struct vk_tail *t)
{
    char buf[8192] __attribute__((aligned(8)));
    while (t->ifd >= 0 && read(t->ifd, buf, sizeof buf) > 0) {
    }
}

int vk_tail_poll(struct vk_tail *t, vk_logline_fn fn, void *ud, int timeout_ms)
{
    struct pctx c = {.t = t, .fn = fn, .ud = ud, .now = vk_loginput_now_ms()};
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : c.now + timeout_ms;
    bool event = true;
    for (;;) {
        int rc = 0;
        if (event || c.now - t->last_rescan >= t->o.rescan_ms || t->sv) rc = rescan(&c);
        for (struct reader *r = t->readers; r && !rc; r = r->next) rc = reader_read(&c, r);
        if (!rc) rc = retire(&c);
        if (c.user_rc) return c.user_rc;
        if (rc < 0) return rc;
        if (c.lines || rc) return (int)c.lines;
        c.now = vk_loginput_now_ms();
        if (c.now >= deadline) return 0;
        int64_t wait = deadline - c.now;
        if (wait > t->o.rescan_ms) wait = t->o.rescan_ms;
        for (struct reader *r = t->readers; r; r = r->next) /* a retirement is due */
            if (r->rotated && r->last_data_ms + t->o.rotate_grace_ms - c.now < wait)
                wait = r->last_data_ms + t->o.rotate_grace_ms - c.now;
        if (wait < 1) wait = 1;
        if (t->ifd >= 0) {
            struct pollfd p = {.fd = t->ifd, .events = POLLIN};
            event = poll(&p, 1, (int)wait) > 0;
            drain_inotify(t);
        } else {
            struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            event = false;
        }
        c.now = vk_loginput_now_ms();
    }
}

void vk_tail_stats(const struct vk_tail *t, struct vk_tail_stats *out) { *out = t->st; }

void vk_tail_close(struct vk_tail *t)
{
    if (!t) return;
    while (t->readers) reader_free(t, t->readers);
    for (size_t i = 0; i < t->nw; i++) {
        free(t->w[i].path);
        free(t->w[i].dir);
    }
    for (size_t i = 0; i < t->nsv; i++) free(t->sv[i].path);
    free(t->sv);
    free(t->w);
    free(t->state_file);
    if (t->ifd >= 0) close(t->ifd);
    free(t);
}
