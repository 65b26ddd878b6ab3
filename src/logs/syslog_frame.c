/* syslog_frame.c — RFC 6587 framing of a syslog stream (TCP or TLS), one state per
 * connection.
 *
 * Octet counting ("<len> SP <msg>", RFC 5425's only framing) and non-transparent framing
 * (a message ends at LF; NUL too, as some senders use it) are told apart on the first frame
 * of a connection. Bytes are read straight into the frame buffer and messages are handed
 * out as pointers into it: no copy here. The buffer holds at most one incomplete frame
 * (<= max_msg + 11 bytes) plus one read (16 KiB); an over-long frame is cut at max_msg and
 * the rest skipped, never buffered. A stream that breaks octet counting goes on as
 * non-transparent from the bad byte (counted in `errors`). */
#include <stdlib.h>
#include <string.h>

#include "core/vk_core.h"
#include "vk_loginput.h"

#define FR_CHUNK (16u * 1024u)
#define FR_DIGITS 10
enum { M_DETECT, M_OCTET, M_LF };

static size_t hard_cap(const struct vk_syslog_frame *f) { return f->max_msg + FR_CHUNK + 32; }

void vk_syslog_frame_init(struct vk_syslog_frame *f, size_t max_msg)
{
    memset(f, 0, sizeof *f);
    f->max_msg = max_msg ? max_msg : VK_LOGLINE_MAX_DEFAULT;
}

void vk_syslog_frame_free(struct vk_syslog_frame *f)
{
    free(f->buf);
    f->buf = NULL;
    f->cap = f->len = f->start = 0;
}

uint8_t *vk_syslog_frame_space(struct vk_syslog_frame *f, size_t *room)
{
    if (f->start && f->start + f->len + FR_CHUNK > f->cap) {
        memmove(f->buf, f->buf + f->start, f->len);
        f->start = 0;
    }
    size_t want = f->start + f->len + FR_CHUNK, hc = hard_cap(f);
    if (want > hc) want = hc;
    if (f->cap < want) {
        size_t nc = f->cap ? f->cap * 2 : 2 * FR_CHUNK;
        if (nc < want) nc = want;
        if (nc > hc) nc = hc;
        uint8_t *nb = realloc(f->buf, nc);
        if (!nb) return NULL;
        f->buf = nb;
        f->cap = nc;
    }
    *room = f->cap - f->start - f->len;
    return f->buf + f->start + f->len;
}

static void consume(struct vk_syslog_frame *f, size_t n)
{
    f->start += n;
    f->len -= n;
    if (!f->len) f->start = 0;
}

static size_t trim(const uint8_t *m, size_t l)
{
    while (l && (m[l - 1] == '\n' || m[l - 1] == '\r' || m[l - 1] == 0)) l--;
    return l;
}

/* First LF or NUL in p[0..n), or n. Two memchr passes beat a byte loop: NUL is rare. */
static size_t find_delim(const uint8_t *p, size_t n)
{
    const uint8_t *lf = memchr(p, '\n', n);
    size_t k = lf ? (size_t)(lf - p) : n;
    const uint8_t *z = memchr(p, 0, k);
    return z ? (size_t)(z - p) : k;
}

enum { S_PROGRESS, S_NEED, S_STOP };

/* One step on the pending bytes: S_PROGRESS, S_NEED (more bytes needed) or S_STOP (emit
 * returned *erc, nothing consumed). */
static int step(struct vk_syslog_frame *f, vk_syslog_frame_emit emit, void *ud, int *erc)
{
    const uint8_t *p = f->buf + f->start;
    size_t n = f->len;
    if (f->mode == M_DETECT) {
        size_t i = 0;
        while (i < n && (p[i] == '\n' || p[i] == '\r' || p[i] == 0)) i++;
        if (i) {
            consume(f, i);
            return S_PROGRESS;
        }
        if (p[0] < '1' || p[0] > '9') {
            f->mode = M_LF;
            return S_PROGRESS;
        }
        while (i < n && i < FR_DIGITS && p[i] >= '0' && p[i] <= '9') i++;
        if (i == n && i < FR_DIGITS) return S_NEED;
        f->mode = (i < n && p[i] == ' ') ? M_OCTET : M_LF;
        return S_PROGRESS;
    }
    if (f->mode == M_OCTET) {
        if (f->skip) {
            size_t d = f->skip < n ? (size_t)f->skip : n;
            consume(f, d);
            f->skip -= d;
            return S_PROGRESS;
        }
        size_t i = 0;
        while (i < n && (p[i] == '\n' || p[i] == '\r' || p[i] == 0)) i++; /* stray trailers */
        if (i) {
            consume(f, i);
            return S_PROGRESS;
        }
        if (p[0] < '1' || p[0] > '9') {
            f->errors++;
            f->mode = M_LF;
            return S_PROGRESS;
        }
        uint64_t v = 0;
        while (i < n && i < FR_DIGITS && p[i] >= '0' && p[i] <= '9') v = v * 10 + (uint64_t)(p[i++] - '0');
        if (i == n && i < FR_DIGITS) return S_NEED;
        if (i == FR_DIGITS || p[i] != ' ') {
            f->errors++;
            f->mode = M_LF;
            return S_PROGRESS;
        }
        size_t hdr = i + 1;
        if (v <= f->max_msg) {
            if (n - hdr < v) return S_NEED;
            size_t l = trim(p + hdr, (size_t)v);
            if (l) {
                int rc = emit(ud, p + hdr, l, false);
                if (rc) return *erc = rc, S_STOP;
                f->msgs++;
            }
            consume(f, hdr + (size_t)v);
            return S_PROGRESS;
        }
        if (n - hdr < f->max_msg) return S_NEED;
        int rc = emit(ud, p + hdr, f->max_msg, true);
        if (rc) return *erc = rc, S_STOP;
        f->msgs++;
        f->oversize++;
        consume(f, hdr + f->max_msg);
        f->skip = v - f->max_msg;
        return S_PROGRESS;
    }
    /* non-transparent */
    size_t k = find_delim(p, n);
    if (f->drop) {
        if (k == n) {
            consume(f, n);
            return S_NEED;
        }
        f->drop = false;
        consume(f, k + 1);
        return S_PROGRESS;
    }
    /* Without a delimiter, max_msg + 2 bytes prove the line too long (the line might be
     * exactly max_msg bytes and a CR LF). */
    if (k == n && n < f->max_msg + 2) return S_NEED;
    size_t l = k;
    if (k < n && l && p[l - 1] == '\r') l--;
    bool cut = l > f->max_msg;
    if (cut) l = f->max_msg;
    if (k == n) { /* no delimiter within max_msg bytes */
        l = f->max_msg;
        cut = true;
    }
    if (l) {
        int rc = emit(ud, p, l, cut);
        if (rc) return *erc = rc, S_STOP;
        f->msgs++;
        if (cut) f->oversize++;
    }
    if (k == n) {
        consume(f, n);
        f->drop = true;
    } else {
        consume(f, k + 1);
    }
    return S_PROGRESS;
}

int vk_syslog_frame_run(struct vk_syslog_frame *f, size_t added, vk_syslog_frame_emit emit,
                        void *ud)
{
    f->len += added;
    while (f->len) {
        int erc = 0, st = step(f, emit, ud, &erc);
        if (st == S_NEED) break;
        if (st == S_STOP) return erc;
    }
    if (!f->len && f->cap > 4 * FR_CHUNK) { /* a big frame passed: give the memory back */
        vk_syslog_frame_free(f);
    }
    return 0;
}

int vk_syslog_frame_finish(struct vk_syslog_frame *f, vk_syslog_frame_emit emit, void *ud)
{
    int rc = vk_syslog_frame_run(f, 0, emit, ud);
    if (rc || !f->len) return rc;
    const uint8_t *p = f->buf + f->start;
    size_t n = f->len;
    if (f->mode == M_OCTET && !f->skip) {
        size_t i = 0; /* an incomplete frame: whatever came after its count, cut */
        while (i < n && p[i] >= '0' && p[i] <= '9') i++;
        if (i < n && p[i] == ' ') {
            size_t l = trim(p + i + 1, n - i - 1);
            if (l) {
                rc = emit(ud, p + i + 1, l, true);
                if (rc) return rc;
                f->msgs++;
            }
        }
    } else if (f->mode != M_OCTET && !f->drop) { /* a last line without its LF */
        size_t l = n;
        if (l && p[l - 1] == '\r') l--;
        bool cut = l > f->max_msg;
        if (cut) l = f->max_msg;
        if (l) {
            rc = emit(ud, p, l, cut);
            if (rc) return rc;
            f->msgs++;
            if (cut) f->oversize++;
        }
    }
    consume(f, n);
    f->skip = 0;
    f->drop = false;
    return 0;
}

int vk_syslog_frame_feed(struct vk_syslog_frame *f, const void *p, size_t n,
                         vk_syslog_frame_emit emit, void *ud, size_t *used)
{
    size_t off = 0;
    int rc = 0;
    while (off < n) {
        size_t room;
        uint8_t *dst = vk_syslog_frame_space(f, &room);
        if (!dst) {
            rc = VK_ENOMEM;
            break;
        }
        if (!room) { /* a stopped run left a full buffer: empty it first */
            rc = vk_syslog_frame_run(f, 0, emit, ud);
            if (rc) break;
            continue;
        }
        size_t k = n - off < room ? n - off : room;
        memcpy(dst, (const uint8_t *)p + off, k);
        off += k;
        rc = vk_syslog_frame_run(f, k, emit, ud);
        if (rc) break;
    }
    if (used) *used = off;
    return rc;
}
