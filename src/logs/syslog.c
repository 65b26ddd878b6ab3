/* syslog.c — the syslog receiver: UDP, TCP and TLS listeners, an in-memory queue and an
 * on-disk spool, delivered to one consumer.
 *
 * Threads. One network thread runs epoll over every listener and connection (non-blocking;
 * TLS through GnuTLS), frames TCP streams (syslog_frame.c) and appends each message as a
 * record to a byte ring, then write(2)s the new records to the current spool segment
 * before it reads again. One sync thread fdatasyncs the spool (per batch by default) and
 * only then lets the consumer see the records, closes old segments and deletes segments
 * the consumer has acked. The consumer calls vk_syslog_poll in its own thread and reads
 * records in place from the ring.
 *
 * Positions in the ring only grow: head (written by the network thread) >= written (in the
 * spool file) >= spooled (synced, visible) >= consumed (delivered). The ring frees space as
 * the consumer advances.
 *
 * Spill. The ring is a cache of the spool's tail, not the queue's limit: when a record
 * does not fit, the network thread writes the ring's rest to the spool, freezes the ring and
 * writes the following records straight to the spool ("direct mode", in 1 MiB writes). The
 * consumer drains the ring, then reads the spool back from the record after the last it
 * got, up to what is synced. Once it has everything the direct run wrote, the next record
 * goes to the (empty) ring again. So a burst the consumer cannot keep up with costs disk,
 * not senders' time: only when the spool holds spool_max unacked bytes are TCP connections
 * no longer read (the kernel window closes, senders wait) and UDP datagrams dropped and
 * counted. Without a spool the ring is the limit. Nothing read from a socket ever waits
 * outside the ring or the spool, except while the spool cannot be written.
 *
 * The spool: segment files "<first seq, 20 digits>.vks" of records (32-byte header with a
 * checksum, source, NUL, message, NUL, padding to 8). "ack" holds the acked seq. On start
 * the segments are checked, a torn tail is cut off, and records after the ack are delivered
 * first (replayed). "lock" keeps a second process out.
 *
 * Costs: per message one copy into the ring or the direct buffer (plus one XXH3 over it);
 * per read() one writev to the spool; per poll call one lock. Memory: the ring
 * (queue_bytes), 32 x max_msg for UDP batches, one frame buffer per connection (16 KiB ..
 * max_msg + 16 KiB), 1 MiB + max_msg each for the direct buffer and the spool reader. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/vk_core.h"
#include "input_int.h"
#include "vk_loginput.h"

/* ---- records ------------------------------------------------------------------------- */
#define REC_MAGIC 0x314b5356u /* "VSK1" */
#define REC_HDR 32u
#define REC_LEN_MAX (64u * 1024u * 1024u) /* sanity bound when reading a spool back */
#define F_CUT 1u
#define F_PAD 2u
#define SRC_MAX 96u

struct rec {
    uint32_t magic;
    uint32_t len;
    uint64_t seq;
    int64_t recv_ms;
    uint16_t src_len;
    uint8_t flags;
    uint8_t rsv;
    uint32_t sum;
};
_Static_assert(sizeof(struct rec) == REC_HDR, "record header is 32 bytes");

static inline size_t rec_size(size_t src_len, size_t len)
{
    return (REC_HDR + src_len + 1 + len + 1 + 7) & ~(size_t)7;
}

/* Checksum over the header (sum = 0) and the payload. O(record). */
static uint32_t rec_sum(const uint8_t *r)
{
    struct rec h;
    memcpy(&h, r, REC_HDR);
    h.sum = 0;
    uint64_t seed = XXH3_64bits(&h, REC_HDR);
    return (uint32_t)XXH3_64bits_withSeed(r + REC_HDR, (size_t)h.src_len + 1 + h.len + 1, seed);
}

/* ---- the receiver -------------------------------------------------------------------- */
enum { EV_WAKE = 1, EV_UDP, EV_TCP, EV_TLS, EV_CONN };

struct listener {
    int type; /* EV_UDP, EV_TCP or EV_TLS: first member, epoll's data.ptr points here */
    int fd;
    const char *scheme;
    ino_t ino;
    uint32_t rxq_ovfl;
    struct vk_syslog_listener_stats st;
};

struct conn {
    int type; /* EV_CONN */
    int fd;
    struct listener *l;
    gnutls_session_t tls;
    bool handshaking, paused, on_ready, eof;
    uint64_t errs_seen; /* fr.errors already counted in the listener's stats */
    uint32_t events;
    struct vk_syslog_frame fr;
    char src[SRC_MAX];
    size_t src_len;
    int64_t start_ms, last_ms;
    struct conn *prev, *next, *rnext;
};

struct seg {
    uint64_t first, last, size;
};

/* The consumer's reader of the spool (records after a restart, and direct mode): one
 * segment open, 1 MiB read at a time. */
struct tailrd {
    int fd;
    uint64_t seg, off; /* the segment (its first seq) and the file offset read up to */
    uint8_t *buf;
    size_t cap, len, pos;
};

struct vk_syslog {
    struct vk_syslog_cfg cfg;
    char *spool_dir;
    struct listener l[VK_SYSLOG_MAX_LISTENERS];
    unsigned nl;
    gnutls_certificate_credentials_t cred;
    int ep, evfd;
    pthread_t net_th, sync_th;
    bool net_started, sync_started;
    bool tls_require; /* client certificates must verify against tls_ca */

    /* ring */
    uint8_t *ring;
    uint64_t cap;
    uint64_t head, written;     /* network thread */
    _Atomic uint64_t written_pub, spooled, consumed;
    _Atomic bool producer_blocked;
    uint64_t next_seq;          /* network thread */
    size_t max_rec;
    size_t uslot; /* bytes per UDP datagram buffer: min(max_msg, 64 KiB) */

    /* spool (segs, nsegs, pending, spool_bytes, dir_dirty, acked: under mu) */
    bool spool;
    int seg_fd, lockfd, ackfd, dirfd;
    uint64_t seg_size;
    struct seg *segs;
    size_t nsegs, segcap;
    int *pending;
    size_t npending, pendcap;
    uint64_t spool_bytes;
    bool dir_dirty;
    uint64_t acked, delivered;
    int spool_err;
    int64_t spool_retry_ms;

    /* connections: network thread */
    struct conn *conns, *ready;
    unsigned nconns;
    unsigned npaused;

    pthread_mutex_t mu;
    pthread_cond_t cv_cons, cv_sync;
    _Atomic bool stop_net;
    bool net_done, stop_sync, sync_done; /* mu */
    bool shut;

    /* UDP batch */
    struct mmsghdr *mm;
    struct iovec *mi;
    struct sockaddr_storage *maddr;
    uint8_t *ubuf;
    char *mctl;
    struct sockaddr_storage last_peer;
    socklen_t last_peer_len;
    char last_src[SRC_MAX];
    size_t last_src_len;

    uint64_t replay_upto; /* consumer: after a restart, the spool's records up to here first */

    /* spill (see the top). direct, dhead, dgen, dexit_*: changed under mu by the network
     * thread, which alone writes dbuf/dlen/dfirst/dlast; sseq is published under mu. */
    bool direct;
    uint64_t dhead, dgen, dexit_gen, dexit_last;
    uint8_t *dbuf;
    size_t dlen, dcap;
    uint64_t dfirst, dlast;
    _Atomic uint64_t wseq, sseq;    /* last seq written to / synced in the spool */
    _Atomic uint64_t cons_caught;   /* the consumer has every direct record up to here */
    bool cons_disk;                 /* consumer: reading the spool (direct run tgen) */
    uint64_t tgen;
    struct tailrd td;

    /* stats (single writer each; read with relaxed atomics) */
    uint64_t paused_events, replayed, spool_syncs, spool_errors, spool_truncated, lost_at_stop, spilled;
};

#define UDP_VLEN 32
#define UDP_SLOT_MAX 65536u /* a datagram carries at most 65507 bytes */
#define CTL_SPACE CMSG_SPACE(sizeof(uint32_t))
#define STAT_ADD(x, n) __atomic_store_n(&(x), __atomic_load_n(&(x), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define STAT_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static void wake_net(struct vk_syslog *s)
{
    uint64_t one = 1;
    ssize_t r = write(s->evfd, &one, sizeof one);
    (void)r;
}

/* ---- ring ---------------------------------------------------------------------------- */
static uint64_t ring_free(struct vk_syslog *s)
{
    return s->cap - (s->head - atomic_load_explicit(&s->consumed, memory_order_acquire));
}

/* Write the record of the next seq at r (rec_size bytes). */
static void rec_build(struct vk_syslog *s, uint8_t *r, const char *src, size_t slen, const uint8_t *msg, size_t len,
                      bool cut, int64_t now)
{
    size_t rs = rec_size(slen, len);
    struct rec h = {.magic = REC_MAGIC, .len = (uint32_t)len, .seq = s->next_seq,
                    .recv_ms = now, .src_len = (uint16_t)slen, .flags = cut ? F_CUT : 0};
    memcpy(r, &h, REC_HDR);
    memcpy(r + REC_HDR, src, slen);
    r[REC_HDR + slen] = 0;
    memcpy(r + REC_HDR + slen + 1, msg, len);
    size_t used = REC_HDR + slen + 1 + len;
    memset(r + used, 0, rs - used);
    h.sum = rec_sum(r);
    memcpy(r + offsetof(struct rec, sum), &h.sum, sizeof h.sum);
    __atomic_store_n(&s->next_seq, h.seq + 1, __ATOMIC_RELAXED);
}

/* Append one record. 0, or 1 when the ring has no room (then producer_blocked is set so the
 * consumer wakes us). O(len): one copy, one hash; never allocates. */
static int ring_put(struct vk_syslog *s, const char *src, size_t slen, const uint8_t *msg,
                    size_t len, bool cut, int64_t now)
{
    size_t rs = rec_size(slen, len);
    uint64_t idx = s->head % s->cap, pad = 0;
    if (idx + rs > s->cap) pad = s->cap - idx;
    if (ring_free(s) < pad + rs) {
        atomic_store(&s->producer_blocked, true);
        if (ring_free(s) < pad + rs) return 1;
        atomic_store(&s->producer_blocked, false);
    }
    if (pad) {
        if (pad >= REC_HDR) {
            struct rec ph = {.magic = REC_MAGIC, .flags = F_PAD};
            memcpy(s->ring + idx, &ph, REC_HDR);
        }
        s->head += pad;
        idx = 0;
    }
    rec_build(s, s->ring + idx, src, slen, msg, len, cut, now);
    s->head += rs;
    return 0;
}

/* ---- spool: segments ----------------------------------------------------------------- */
static void seg_name(const struct vk_syslog *s, uint64_t first, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRIu64 ".vks", s->spool_dir, first);
}

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int seg_open(struct vk_syslog *s, uint64_t first)
{
    char path[4200];
    seg_name(s, first, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    pthread_mutex_lock(&s->mu);
    if (s->seg_fd >= 0) {
        if (s->npending == s->pendcap) {
            size_t nc = s->pendcap ? s->pendcap * 2 : 8;
            int *np = realloc(s->pending, nc * sizeof *np);
            if (!np) {
                pthread_mutex_unlock(&s->mu);
                close(fd);
                unlink(path);
                errno = ENOMEM;
                return -1;
            }
            s->pending = np;
            s->pendcap = nc;
        }
        s->pending[s->npending++] = s->seg_fd;
    }
    if (s->nsegs == s->segcap) {
        size_t nc = s->segcap ? s->segcap * 2 : 16;
        struct seg *ns = realloc(s->segs, nc * sizeof *ns);
        if (!ns) {
            s->seg_fd = -1;
            pthread_mutex_unlock(&s->mu);
            close(fd);
            unlink(path);
            errno = ENOMEM;
            return -1;
        }
        s->segs = ns;
        s->segcap = nc;
    }
    s->segs[s->nsegs++] = (struct seg){first, first - 1, 0};
    s->seg_fd = fd;
    s->seg_size = 0;
    s->dir_dirty = true;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Append bytes (records first..last) to the open segment and count them in it; on failure
 * the file is cut back to what it held, so it stays whole, and nothing counts. */
static int seg_append(struct vk_syslog *s, struct iovec *iov, int niov, uint64_t bytes, uint64_t first,
                      uint64_t last)
{
    if (write_all(s->seg_fd, iov, niov)) {
        int e = errno;
        if (ftruncate(s->seg_fd, (off_t)s->seg_size)) {
        }
        errno = e;
        return -1;
    }
    s->seg_size += bytes;
    pthread_mutex_lock(&s->mu);
    struct seg *g = &s->segs[s->nsegs - 1];
    if (g->size == 0) g->first = first;
    g->last = last;
    g->size += bytes;
    s->spool_bytes += bytes;
    atomic_store(&s->wseq, last);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* A spool write failed: say so once, hold senders, retry in 500 ms. */
static void spool_failed(struct vk_syslog *s, int64_t now)
{
    if (!s->spool_err) vk_err("syslog: spool %s: %s (holding senders)", s->spool_dir, strerror(errno));
    s->spool_err = errno ? errno : EIO;
    s->spool_retry_ms = now + 500;
    STAT_ADD(s->spool_errors, 1);
}

/* Write ring [written, head) to the spool: one writev per segment touched. Network thread;
 * on error the segment is cut back to its last whole record and the write retried later. */
static int spool_flush(struct vk_syslog *s, int64_t now)
{
    uint64_t end = s->head;
    if (s->written == end) return 0;
    if (!s->spool) {
        s->written = end;
        atomic_store_explicit(&s->written_pub, end, memory_order_release);
        atomic_store(&s->wseq, s->next_seq - 1);
        atomic_store(&s->sseq, s->next_seq - 1);
        atomic_store_explicit(&s->spooled, end, memory_order_release);
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->cv_cons);
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    if (s->spool_err && now < s->spool_retry_ms) return -1;
    int rc = 0;
    while (s->written < end) {
        struct iovec iov[64];
        int niov = 0;
        uint64_t pos = s->written, bytes = 0, first = 0, last = 0;
        while (pos < end && niov < 64) {
            uint64_t idx = pos % s->cap;
            if (s->cap - idx < REC_HDR) {
                pos += s->cap - idx;
                continue;
            }
            struct rec h;
            memcpy(&h, s->ring + idx, REC_HDR);
            if (h.flags & F_PAD) {
                pos += s->cap - idx;
                continue;
            }
            size_t rs = rec_size(h.src_len, h.len);
            if (s->seg_fd < 0 || (s->seg_size + bytes + rs > s->cfg.segment_bytes && s->seg_size + bytes > 0)) {
                if (bytes) break;
                if (seg_open(s, h.seq)) {
                    rc = -1;
                    break;
                }
            }
            if (!first) first = h.seq;
            last = h.seq;
            if (niov && (uint8_t *)iov[niov - 1].iov_base + iov[niov - 1].iov_len == s->ring + idx)
                iov[niov - 1].iov_len += rs;
            else
                iov[niov++] = (struct iovec){s->ring + idx, rs};
            bytes += rs;
            pos += rs;
        }
        if (rc || (bytes && (rc = seg_append(s, iov, niov, bytes, first, last)))) break;
        s->written = pos;
    }
    if (rc) spool_failed(s, now);
    else s->spool_err = 0;
    atomic_store_explicit(&s->written_pub, s->written, memory_order_release);
    pthread_mutex_lock(&s->mu);
    if (s->cfg.sync != VK_SPOOL_SYNC_BATCH) {
        atomic_store_explicit(&s->spooled, s->written, memory_order_release);
        atomic_store(&s->sseq, atomic_load(&s->wseq));
        pthread_cond_broadcast(&s->cv_cons);
    }
    pthread_cond_signal(&s->cv_sync);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Direct mode: write the direct buffer to the spool (a new segment when the current one
 * would pass segment_bytes). Network thread; on error nothing of it counts as written and
 * the write is retried later, as spool_flush does. */
static int disk_flush(struct vk_syslog *s, int64_t now)
{
    if (!s->dlen) return 0;
    if (s->spool_err && now < s->spool_retry_ms) return -1;
    if (s->seg_fd < 0 || (s->seg_size && s->seg_size + s->dlen > s->cfg.segment_bytes)) {
        if (seg_open(s, s->dfirst)) goto fail;
    }
    struct iovec iov = {s->dbuf, s->dlen};
    if (seg_append(s, &iov, 1, s->dlen, s->dfirst, s->dlast)) goto fail;
    pthread_mutex_lock(&s->mu);
    if (s->cfg.sync != VK_SPOOL_SYNC_BATCH) {
        atomic_store(&s->sseq, s->dlast);
        pthread_cond_broadcast(&s->cv_cons);
    }
    pthread_cond_signal(&s->cv_sync);
    pthread_mutex_unlock(&s->mu);
    s->dlen = 0;
    s->spool_err = 0;
    return 0;
fail:
    spool_failed(s, now);
    return -1;
}

static int flush_all(struct vk_syslog *s, int64_t now)
{
    int rc = s->written != s->head ? spool_flush(s, now) : 0;
    return s->dlen && disk_flush(s, now) ? -1 : rc;
}

/* One record into the queue: the ring, or in direct mode the spool. 0, or 1 when it has to
 * wait (no spool and the ring full, or the spool cannot be written). */
static int put_rec(struct vk_syslog *s, const char *src, size_t slen, const uint8_t *msg, size_t len, bool cut,
                   int64_t now)
{
    if (s->direct && atomic_load(&s->cons_caught) == s->dlast && !s->dlen) {
        /* the consumer has every record of this run and the ring is empty: back to it */
        pthread_mutex_lock(&s->mu);
        s->direct = false;
        s->dexit_gen = s->dgen;
        s->dexit_last = s->dlast;
        pthread_cond_broadcast(&s->cv_cons);
        pthread_mutex_unlock(&s->mu);
    }
    if (!s->direct) {
        if (!ring_put(s, src, slen, msg, len, cut, now)) return 0;
        if (!s->spool || s->spool_err) return 1;
        if (spool_flush(s, now)) return 1; /* the ring's records first: the spool stays in order */
        atomic_store(&s->producer_blocked, false);
        pthread_mutex_lock(&s->mu);
        s->direct = true;
        s->dhead = s->head;
        s->dgen++;
        pthread_cond_broadcast(&s->cv_cons);
        pthread_mutex_unlock(&s->mu);
    }
    size_t rs = rec_size(slen, len);
    if (s->dlen + rs > s->dcap && disk_flush(s, now)) return 1;
    if (!s->dlen) s->dfirst = s->next_seq;
    s->dlast = s->next_seq;
    rec_build(s, s->dbuf + s->dlen, src, slen, msg, len, cut, now);
    s->dlen += rs;
    STAT_ADD(s->spilled, 1);
    return 0;
}

static bool spool_blocked(struct vk_syslog *s, int64_t now)
{
    if (!s->spool) return false;
    if (s->spool_err) return now < s->spool_retry_ms || s->written != s->head || s->dlen;
    pthread_mutex_lock(&s->mu);
    bool full = s->spool_bytes >= s->cfg.spool_max;
    pthread_mutex_unlock(&s->mu);
    return full;
}

static void write_ack(struct vk_syslog *s, uint64_t seq)
{
    uint64_t b[2] = {seq, XXH3_64bits(&seq, sizeof seq) ^ 0x766b61636bULL};
    if (s->ackfd >= 0 && pwrite(s->ackfd, b, sizeof b, 0) != (ssize_t)sizeof b)
        STAT_ADD(s->spool_errors, 1);
}

/* Delete segments every record of which is acked (never the one being written). */
static void spool_trim(struct vk_syslog *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        size_t keep = s->seg_fd >= 0 ? 1 : 0; /* the segment being written stays */
        if (s->nsegs <= keep || s->segs[0].last > s->acked) {
            pthread_mutex_unlock(&s->mu);
            return;
        }
        struct seg g = s->segs[0];
        memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof *s->segs);
        s->nsegs--;
        s->spool_bytes -= g.size;
        pthread_mutex_unlock(&s->mu);
        char path[4200];
        seg_name(s, g.first, path, sizeof path);
        unlink(path);
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + ms * 1000000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(cv, mu, &ts);
}

/* The sync thread: group commit. Whatever the network thread wrote while the last
 * fdatasync ran goes into the next one, so a slow disk makes batches bigger, not slower. */
static void *sync_main(void *arg)
{
    struct vk_syslog *s = arg;
    pthread_setname_np(pthread_self(), "vakt-spoolsync"); /* top -H, perf, gdb */
    enum vk_spool_sync pol = s->cfg.sync;
    uint64_t seen = atomic_load(&s->written_pub), wseen = atomic_load(&s->wseq);
    bool dirty = false; /* written but not yet fdatasync'ed */
    int64_t ival = s->cfg.sync_interval_ms ? s->cfg.sync_interval_ms : 200, last_sync = mono_ms();
    pthread_mutex_lock(&s->mu);
    for (;;) {
        uint64_t w = atomic_load_explicit(&s->written_pub, memory_order_acquire), ws = atomic_load(&s->wseq);
        bool stop = s->stop_sync, fresh = w != seen || ws != wseen;
        int64_t now = mono_ms();
        bool due = pol == VK_SPOOL_SYNC_INTERVAL && (dirty || fresh) && now - last_sync >= ival;
        if (!fresh && !s->npending && !s->dir_dirty && !stop && !due) {
            int64_t t = 100;
            if (pol == VK_SPOOL_SYNC_INTERVAL && dirty && ival - (now - last_sync) < t)
                t = ival - (now - last_sync) > 1 ? ival - (now - last_sync) : 1;
            wait_ms(&s->cv_sync, &s->mu, t);
            pthread_mutex_unlock(&s->mu);
            spool_trim(s);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        int fd = s->seg_fd;
        int pend[64];
        size_t np = s->npending < 64 ? s->npending : 64;
        if (np) {
            memcpy(pend, s->pending, np * sizeof *pend);
            memmove(s->pending, s->pending + np, (s->npending - np) * sizeof *pend);
            s->npending -= np;
        }
        bool dir = s->dir_dirty;
        s->dir_dirty = false;
        pthread_mutex_unlock(&s->mu);

        for (size_t i = 0; i < np; i++) { /* old segments: make them durable, close them */
            if (pol != VK_SPOOL_SYNC_NONE) fdatasync(pend[i]);
            close(pend[i]);
        }
        if (fresh) dirty = true;
        if (dirty && fd >= 0 && (pol == VK_SPOOL_SYNC_BATCH || due || (stop && pol != VK_SPOOL_SYNC_NONE))) {
            fdatasync(fd);
            STAT_ADD(s->spool_syncs, 1);
            last_sync = mono_ms();
            dirty = false;
        }
        if (dir && pol != VK_SPOOL_SYNC_NONE) fsync(s->dirfd);
        seen = w;
        wseen = ws;
        spool_trim(s);
        pthread_mutex_lock(&s->mu);
        if (pol == VK_SPOOL_SYNC_BATCH) {
            atomic_store_explicit(&s->spooled, seen, memory_order_release);
            atomic_store(&s->sseq, wseen);
            pthread_cond_broadcast(&s->cv_cons);
        }
        if (stop && seen == atomic_load(&s->written_pub) && wseen == atomic_load(&s->wseq) && !s->npending) break;
    }
    s->sync_done = true;
    pthread_cond_broadcast(&s->cv_cons);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Start reading at the record after the last delivered: the last segment that begins at or
 * before it (records are in seq order across segments). Under mu. */
static void tail_open(struct vk_syslog *s)
{
    struct tailrd *t = &s->td;
    uint64_t want = s->delivered + 1;
    t->seg = s->nsegs ? s->segs[0].first : want;
    for (size_t i = 0; i < s->nsegs; i++)
        if (s->segs[i].first <= want) t->seg = s->segs[i].first;
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    t->off = 0;
    t->len = t->pos = 0;
}

/* ---- spool: recovery at start ------------------------------------------------------- */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Check one segment record by record, reading 1 MiB at a time; cut it at the first bad
 * record (a torn write at a crash). Sets first/last/size. O(segment bytes). */
static int seg_check(struct vk_syslog *s, uint64_t name_first, uint64_t prev_last,
                     struct seg *out, uint8_t **buf, size_t *bcap)
{
    char path[4200];
    seg_name(s, name_first, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return -1;
    }
    uint64_t good = 0, rd = 0, fsize = (uint64_t)st.st_size; /* good: end of the last whole record */
    size_t len = 0, pos = 0;
    *out = (struct seg){0, 0, 0};
    if (*bcap < (1u << 20)) {
        uint8_t *nb = realloc(*buf, 1u << 20);
        if (!nb) {
            close(fd);
            return -1;
        }
        *buf = nb;
        *bcap = 1u << 20;
    }
    for (;;) {
        size_t avail = len - pos, need = REC_HDR;
        if (avail >= REC_HDR) {
            struct rec h;
            memcpy(&h, *buf + pos, REC_HDR);
            if (h.magic != REC_MAGIC || (h.flags & F_PAD) || h.len > REC_LEN_MAX || h.src_len > 4096 ||
                h.seq <= prev_last)
                break;
            need = rec_size(h.src_len, h.len);
            if (avail >= need) {
                if (rec_sum(*buf + pos) != h.sum) break;
                if (!out->size) out->first = h.seq;
                out->last = prev_last = h.seq;
                out->size += need;
                good += need;
                pos += need;
                continue;
            }
        }
        if (rd >= fsize) break; /* an incomplete record at the end */
        memmove(*buf, *buf + pos, avail);
        len = avail;
        pos = 0;
        if (need > *bcap) {
            uint8_t *nb = realloc(*buf, need);
            if (!nb) break;
            *buf = nb;
            *bcap = need;
        }
        ssize_t n = pread(fd, *buf + len, *bcap - len, (off_t)rd);
        if (n <= 0) break;
        rd += (uint64_t)n;
        len += (size_t)n;
    }
    if (good < fsize) {
        s->spool_truncated += fsize - good;
        vk_err("syslog: spool %s: %" PRIu64 " damaged bytes at offset %" PRIu64 " cut off", path,
               fsize - good, good);
        if (ftruncate(fd, (off_t)good) == 0) fdatasync(fd);
    }
    close(fd);
    if (!out->size) unlink(path);
    return 0;
}

static int spool_open(struct vk_syslog *s, char *err, size_t errlen)
{
    if (mkdir(s->spool_dir, 0750) && errno != EEXIST) {
        snprintf(err, errlen, "syslog: spool %s: %s", s->spool_dir, strerror(errno));
        return VK_EIO;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", s->spool_dir);
    s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB)) {
        snprintf(err, errlen, "syslog: spool %s: %s", s->spool_dir,
                 s->lockfd >= 0 && errno == EWOULDBLOCK ? "in use by another process" : strerror(errno));
        return VK_EIO;
    }
    s->dirfd = open(s->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/ack", s->spool_dir);
    s->ackfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->ackfd < 0 || s->dirfd < 0) {
        snprintf(err, errlen, "syslog: spool %s: %s", s->spool_dir, strerror(errno));
        return VK_EIO;
    }
    uint64_t b[2];
    if (pread(s->ackfd, b, sizeof b, 0) == (ssize_t)sizeof b &&
        b[1] == (XXH3_64bits(&b[0], sizeof b[0]) ^ 0x766b61636bULL))
        s->acked = b[0];

    DIR *d = opendir(s->spool_dir);
    if (!d) {
        snprintf(err, errlen, "syslog: spool %s: %s", s->spool_dir, strerror(errno));
        return VK_EIO;
    }
    uint64_t *names = NULL;
    size_t n = 0, na = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        size_t l = strlen(de->d_name);
        if (l != 24 || strcmp(de->d_name + 20, ".vks")) continue;
        uint64_t v = strtoull(de->d_name, &end, 10);
        if (end != de->d_name + 20) continue;
        if (n == na) {
            na = na ? na * 2 : 16;
            uint64_t *nn = realloc(names, na * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[n++] = v;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_u64);
    uint8_t *buf = NULL;
    size_t bcap = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        struct seg g;
        if (seg_check(s, names[i], last, &g, &buf, &bcap) || !g.size) continue;
        char want[4200], have[4200];
        if (g.first != names[i]) { /* name it after its first record, as the writer does */
            seg_name(s, names[i], have, sizeof have);
            seg_name(s, g.first, want, sizeof want);
            if (rename(have, want)) continue;
        }
        last = g.last;
        if (g.last <= s->acked) { /* all acked: the consumer has it */
            seg_name(s, g.first, have, sizeof have);
            unlink(have);
            continue;
        }
        if (s->nsegs == s->segcap) {
            size_t nc = s->segcap ? s->segcap * 2 : 16;
            struct seg *ns = realloc(s->segs, nc * sizeof *ns);
            if (!ns) break;
            s->segs = ns;
            s->segcap = nc;
        }
        s->segs[s->nsegs++] = g;
        s->spool_bytes += g.size;
    }
    free(buf);
    free(names);
    s->next_seq = (last > s->acked ? last : s->acked) + 1;
    s->delivered = s->acked;
    /* replay: the kept segments' records after the ack, before anything new */
    if (s->nsegs && last > s->acked) {
        s->replay_upto = last;
        tail_open(s);
    }
    return 0;
}

/* ---- listeners ----------------------------------------------------------------------- */
static void fmt_peer(char *out, size_t n, const char *scheme, const struct sockaddr *sa)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, n, "%s://%s:%u", scheme, ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)sa;
        port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
            snprintf(out, n, "%s://%s:%u", scheme, ip, port);
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            snprintf(out, n, "%s://[%s]:%u", scheme, ip, port);
        }
    } else {
        snprintf(out, n, "%s://?", scheme);
    }
}

static int add_listener(struct vk_syslog *s, const char *url, size_t ulen, char *err, size_t errlen)
{
    char u[256];
    if (ulen >= sizeof u) ulen = sizeof u - 1;
    memcpy(u, url, ulen);
    u[ulen] = 0;
    if (s->nl == VK_SYSLOG_MAX_LISTENERS) {
        snprintf(err, errlen, "syslog: %s: more than %d listeners", u, VK_SYSLOG_MAX_LISTENERS);
        return VK_EINVAL;
    }
    struct listener *l = &s->l[s->nl];
    memset(l, 0, sizeof *l);
    l->fd = -1;
    if (!strncmp(u, "udp://", 6)) l->type = EV_UDP, l->scheme = "udp";
    else if (!strncmp(u, "tcp://", 6)) l->type = EV_TCP, l->scheme = "tcp";
    else if (!strncmp(u, "tls://", 6)) l->type = EV_TLS, l->scheme = "tls";
    else {
        snprintf(err, errlen, "syslog: %s: want udp://, tcp:// or tls://HOST:PORT", u);
        return VK_EINVAL;
    }
    char *hp = u + 6, *host, *port;
    if (*hp == '[') {
        host = hp + 1;
        char *rb = strchr(host, ']');
        if (!rb || rb[1] != ':') {
            snprintf(err, errlen, "syslog: %s: bad [IPv6]:PORT", u);
            return VK_EINVAL;
        }
        *rb = 0;
        port = rb + 2;
    } else {
        char *c = strrchr(hp, ':');
        if (!c) {
            snprintf(err, errlen, "syslog: %s: no port", u);
            return VK_EINVAL;
        }
        *c = 0;
        host = hp;
        port = c + 1;
    }
    char *pe;
    long pv = strtol(port, &pe, 10);
    if (!*port || *pe || pv < 0 || pv > 65535) {
        snprintf(err, errlen, "syslog: %s: bad port '%s'", u, port);
        return VK_EINVAL;
    }
    if (l->type == EV_TLS && (!s->cfg.tls_cert || !s->cfg.tls_key)) {
        snprintf(err, errlen, "syslog: %s: tls needs a certificate and a key", u);
        return VK_EINVAL;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_socktype = l->type == EV_UDP ? SOCK_DGRAM : SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
    if (g || !ai) {
        snprintf(err, errlen, "syslog: %s: %s", u, gai_strerror(g));
        return VK_EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    const char *what = "socket";
    if (fd >= 0) {
        if (l->type == EV_UDP) {
            int rb = s->cfg.udp_rcvbuf;
            if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb))
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
            setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
        } else {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }
        what = "bind";
        if (!bind(fd, ai->ai_addr, ai->ai_addrlen)) {
            what = "listen";
            if (l->type == EV_UDP || !listen(fd, SOMAXCONN)) what = NULL;
        }
    }
    freeaddrinfo(ai);
    if (what) {
        snprintf(err, errlen, "syslog: %s: %s: %s", u, what, strerror(errno));
        if (fd >= 0) close(fd);
        return VK_EIO;
    }
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    fmt_peer(l->st.url, sizeof l->st.url, l->scheme, (struct sockaddr *)&sa);
    struct stat st;
    if (!fstat(fd, &st)) l->ino = st.st_ino;
    l->fd = fd;
    s->nl++;
    return 0;
}

/* /proc/net/udp{,6} "drops" of our socket: the kernel's count of datagrams it discarded. */
static uint64_t proc_udp_drops(ino_t ino)
{
    const char *files[] = {"/proc/net/udp", "/proc/net/udp6"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) continue;
        char line[512];
        while (fgets(line, sizeof line, f)) {
            unsigned long long inode = 0, drops = 0;
            /* sl local rem st tx:rx tr:when retr uid timeout inode ref ptr drops */
            if (sscanf(line, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %*s %*s %llu", &inode,
                       &drops) == 2 && inode == (unsigned long long)ino) {
                fclose(f);
                return drops;
            }
        }
        fclose(f);
    }
    return 0;
}

/* ---- connections --------------------------------------------------------------------- */
static void conn_events(struct vk_syslog *s, struct conn *c, uint32_t ev)
{
    if (c->events == ev) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    /* A paused connection leaves the epoll set: EPOLLHUP/EPOLLERR would wake us anyway. */
    epoll_ctl(s->ep, !ev ? EPOLL_CTL_DEL : !c->events ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void conn_ready(struct vk_syslog *s, struct conn *c)
{
    if (c->on_ready) return;
    c->on_ready = true;
    c->rnext = s->ready;
    s->ready = c;
}

static void conn_pause(struct vk_syslog *s, struct conn *c)
{
    if (c->paused) return;
    c->paused = true;
    s->npaused++;
    STAT_ADD(s->paused_events, 1);
    conn_events(s, c, 0);
}

static void conn_close(struct vk_syslog *s, struct conn *c)
{
    if (c->tls) {
        gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* best effort, non-blocking */
        gnutls_deinit(c->tls);
    }
    if (c->events) epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    vk_syslog_frame_free(&c->fr);
    if (c->paused) s->npaused--;
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->on_ready) { /* unlink from the ready list */
        for (struct conn **pp = &s->ready; *pp; pp = &(*pp)->rnext)
            if (*pp == c) {
                *pp = c->rnext;
                break;
            }
    }
    STAT_ADD(c->l->st.conns_open, -1);
    s->nconns--;
    free(c);
}

struct ectx {
    struct vk_syslog *s;
    struct conn *c;
    int64_t now;
};

static int conn_emit(void *ud, const uint8_t *msg, size_t len, bool cut)
{
    struct ectx *e = ud;
    if (put_rec(e->s, e->c->src, e->c->src_len, msg, len, cut, e->now)) return 1;
    struct vk_syslog_listener_stats *st = &e->c->l->st;
    STAT_ADD(st->msgs, 1);
    STAT_ADD(st->bytes, len);
    if (cut) STAT_ADD(st->oversize, 1);
    return 0;
}

/* How many bytes a read may bring so that every message in them (and in the incomplete
 * frame already held) surely fits in the ring (without a spool to spill to): worst case one
 * 1-byte message per 2 input bytes, each a whole record. */
static size_t read_budget(struct vk_syslog *s, const struct conn *c, size_t room)
{
    if (s->spool && !s->spool_err) return room; /* what the ring cannot take is spilled */
    uint64_t freeb = ring_free(s);
    uint64_t per = (REC_HDR + c->src_len + 10) / 2 + 1;
    uint64_t reserve = 2 * s->max_rec + (uint64_t)(c->fr.len + 1) * per;
    if (freeb <= reserve) return 0;
    uint64_t n = (freeb - reserve) / per;
    return n < room ? (size_t)n : room;
}

/* Read what a connection has, frame it, queue it, spool it. Called on epoll readiness and
 * from the ready list (resumed, or GnuTLS holds decrypted bytes). */
static void conn_service(struct vk_syslog *s, struct conn *c, int64_t now)
{
    struct ectx e = {s, c, now};
    if (c->handshaking) {
        int r = gnutls_handshake(c->tls);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            conn_events(s, c, gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN);
            return;
        }
        if (r < 0) { /* tell the peer why (best effort), then drop it */
            STAT_ADD(c->l->st.tls_failures, 1);
            gnutls_alert_send_appropriate(c->tls, r);
            gnutls_deinit(c->tls);
            c->tls = NULL;
            conn_close(s, c);
            return;
        }
        c->handshaking = false;
        conn_events(s, c, EPOLLIN);
    }
    if (c->paused) {
        c->paused = false;
        s->npaused--;
        conn_events(s, c, EPOLLIN);
    }
    if (vk_syslog_frame_run(&c->fr, 0, conn_emit, &e)) {
        conn_pause(s, c);
        return;
    }
    for (int i = 0; i < 8 && !c->eof; i++) {
        if (spool_blocked(s, now)) {
            conn_pause(s, c);
            return;
        }
        size_t room;
        uint8_t *p = vk_syslog_frame_space(&c->fr, &room);
        if (!p) {
            conn_close(s, c);
            return;
        }
        size_t want = read_budget(s, c, room);
        if (!want) {
            atomic_store(&s->producer_blocked, true);
            if (!read_budget(s, c, room)) {
                conn_pause(s, c);
                return;
            }
            atomic_store(&s->producer_blocked, false);
            continue;
        }
        ssize_t n;
        if (c->tls) {
            n = gnutls_record_recv(c->tls, p, want);
            if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_REHANDSHAKE) return;
            if (n < 0) n = 0; /* premature close or a fatal alert: end of stream */
        } else {
            n = read(c->fd, p, want);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
            if (n < 0) n = 0; /* reset: end of stream */
        }
        if (n == 0) {
            c->eof = true;
            break;
        }
        c->last_ms = now;
        int rc = vk_syslog_frame_run(&c->fr, (size_t)n, conn_emit, &e);
        flush_all(s, now);
        if (c->fr.errors != c->errs_seen) {
            STAT_ADD(c->l->st.framing_errors, c->fr.errors - c->errs_seen);
            c->errs_seen = c->fr.errors;
        }
        if (rc) {
            conn_pause(s, c);
            return;
        }
    }
    if (c->eof) {
        if (vk_syslog_frame_finish(&c->fr, conn_emit, &e)) {
            conn_pause(s, c);
            return;
        }
        flush_all(s, now);
        conn_close(s, c);
        return;
    }
    /* 8 reads and still more: come back after the others had their turn */
    if (c->tls && gnutls_record_check_pending(c->tls)) conn_ready(s, c);
    else if (!c->tls) conn_ready(s, c);
}

static void do_accept(struct vk_syslog *s, struct listener *l, int64_t now)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(l->fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (s->nconns >= s->cfg.max_conns) {
            close(fd);
            STAT_ADD(l->st.conns_refused, 1);
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            STAT_ADD(l->st.conns_refused, 1);
            continue;
        }
        c->type = EV_CONN;
        c->fd = fd;
        c->l = l;
        c->start_ms = c->last_ms = now;
        vk_syslog_frame_init(&c->fr, s->cfg.max_msg);
        fmt_peer(c->src, sizeof c->src, l->scheme, (struct sockaddr *)&sa);
        c->src_len = strlen(c->src);
        if (l->type == EV_TLS) {
            if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK) ||
                gnutls_set_default_priority(c->tls) ||
                gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, s->cred)) {
                if (c->tls) gnutls_deinit(c->tls);
                close(fd);
                free(c);
                STAT_ADD(l->st.tls_failures, 1);
                continue;
            }
            if (s->tls_require) {
                gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_REQUIRE);
                gnutls_session_set_verify_cert(c->tls, NULL, 0);
            }
            gnutls_transport_set_int(c->tls, fd);
            c->handshaking = true;
        }
        c->events = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
            if (c->tls) gnutls_deinit(c->tls);
            close(fd);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        STAT_ADD(l->st.conns_total, 1);
        STAT_ADD(l->st.conns_open, 1);
        if (c->tls) conn_service(s, c, now); /* start the handshake */
    }
}

/* ---- UDP ----------------------------------------------------------------------------- */
static void udp_read(struct vk_syslog *s, struct listener *l, int64_t now)
{
    for (int batch = 0; batch < 16; batch++) {
        for (int i = 0; i < UDP_VLEN; i++) {
            s->mi[i] = (struct iovec){s->ubuf + (size_t)i * s->uslot, s->uslot};
            s->mm[i].msg_hdr = (struct msghdr){.msg_name = &s->maddr[i],
                                               .msg_namelen = sizeof s->maddr[i],
                                               .msg_iov = &s->mi[i],
                                               .msg_iovlen = 1,
                                               .msg_control = s->mctl + (size_t)i * CTL_SPACE,
                                               .msg_controllen = CTL_SPACE};
        }
        int n = recvmmsg(l->fd, s->mm, UDP_VLEN, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        bool blocked = spool_blocked(s, now);
        for (int i = 0; i < n; i++) {
            struct msghdr *h = &s->mm[i].msg_hdr;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
                    uint32_t v;
                    memcpy(&v, CMSG_DATA(cm), sizeof v);
                    if (v > l->rxq_ovfl) __atomic_store_n(&l->rxq_ovfl, v, __ATOMIC_RELAXED);
                }
            const uint8_t *m = s->ubuf + (size_t)i * s->uslot;
            size_t len = s->mm[i].msg_len;
            bool cut = (h->msg_flags & MSG_TRUNC) != 0;
            while (len && (m[len - 1] == '\n' || m[len - 1] == '\r' || m[len - 1] == 0)) len--;
            if (!len) continue;
            if (h->msg_namelen != s->last_peer_len || memcmp(h->msg_name, &s->last_peer, h->msg_namelen)) {
                memcpy(&s->last_peer, h->msg_name, h->msg_namelen);
                s->last_peer_len = h->msg_namelen;
                fmt_peer(s->last_src, sizeof s->last_src, "udp", h->msg_name);
                s->last_src_len = strlen(s->last_src);
            }
            if (blocked || put_rec(s, s->last_src, s->last_src_len, m, len, cut, now)) {
                STAT_ADD(l->st.dropped, 1);
                continue;
            }
            STAT_ADD(l->st.msgs, 1);
            STAT_ADD(l->st.bytes, len);
            if (cut) STAT_ADD(l->st.oversize, 1);
        }
        flush_all(s, now);
        if (n < UDP_VLEN) return;
    }
}

/* ---- the network thread -------------------------------------------------------------- */
static void sweep(struct vk_syslog *s, int64_t now)
{
    for (struct conn *c = s->conns, *nx; c; c = nx) {
        nx = c->next;
        if (c->handshaking && now - c->start_ms > 10000) {
            STAT_ADD(c->l->st.tls_failures, 1);
            conn_close(s, c);
        } else if (s->cfg.idle_timeout_s && !c->paused &&
                   now - c->last_ms > (int64_t)s->cfg.idle_timeout_s * 1000) {
            c->eof = true;
            conn_service(s, c, now);
        }
    }
}

static void net_stop(struct vk_syslog *s, int64_t now)
{
    for (unsigned i = 0; i < s->nl; i++)
        if (s->l[i].fd >= 0) {
            epoll_ctl(s->ep, EPOLL_CTL_DEL, s->l[i].fd, NULL);
            if (s->l[i].type == EV_UDP) udp_read(s, &s->l[i], now); /* what already arrived */
            /* a sender connected before the stop but not yet accepted has its bytes in the
             * kernel too: take the connection, so that the loop below reads them */
            if (s->l[i].type == EV_TCP) do_accept(s, &s->l[i], now);
            close(s->l[i].fd);
            s->l[i].fd = -1;
        }
    /* what the kernel already holds for each connection is read too: a sender's messages
     * that arrived before the stop are not left in its socket buffer */
    for (struct conn *c = s->conns, *nx; c; c = nx) {
        nx = c->next;
        if (!c->handshaking && !c->paused) conn_service(s, c, now); /* may close c */
    }
    while (s->conns) {
        struct conn *c = s->conns;
        struct ectx e = {s, c, now};
        if (!c->handshaking &&
            (vk_syslog_frame_run(&c->fr, 0, conn_emit, &e) || vk_syslog_frame_finish(&c->fr, conn_emit, &e)))
            STAT_ADD(s->lost_at_stop, 1);
        conn_close(s, c);
    }
    for (int tries = 0; (s->written != s->head || s->dlen) && tries < 20; tries++) {
        if (!flush_all(s, now)) break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        now = vk_loginput_now_ms();
        s->spool_retry_ms = 0;
    }
}

static void *net_main(void *arg)
{
    struct vk_syslog *s = arg;
    pthread_setname_np(pthread_self(), "vakt-syslog"); /* top -H, perf, gdb */
    struct epoll_event ev[64];
    int64_t last_sweep = vk_loginput_now_ms();
    while (!atomic_load(&s->stop_net)) {
        int timeout = s->ready ? 0 : (s->npaused || s->spool_err) ? 50 : 1000;
        int n = epoll_wait(s->ep, ev, 64, timeout);
        int64_t now = vk_loginput_now_ms();
        for (int i = 0; i < n; i++) {
            int type = *(int *)ev[i].data.ptr;
            if (type == EV_WAKE) {
                uint64_t v;
                ssize_t r = read(s->evfd, &v, sizeof v);
                (void)r;
            } else if (type == EV_UDP) {
                udp_read(s, ev[i].data.ptr, now);
            } else if (type == EV_TCP || type == EV_TLS) {
                do_accept(s, ev[i].data.ptr, now);
            } else {
                struct conn *c = ev[i].data.ptr;
                if (!c->paused) conn_ready(s, c);
            }
        }
        /* Serve ready connections: epoll's, then resumed or with TLS bytes pending. */
        struct conn *list = s->ready;
        s->ready = NULL;
        while (list) {
            struct conn *c = list;
            list = c->rnext;
            c->on_ready = false;
            c->rnext = NULL;
            conn_service(s, c, now);
        }
        if (s->written != s->head || s->dlen) flush_all(s, now);
        if (s->npaused && !spool_blocked(s, now) && (s->spool || ring_free(s) > s->cap / 4)) {
            for (struct conn *c = s->conns; c; c = c->next)
                if (c->paused) conn_ready(s, c);
        }
        if (now - last_sweep >= 1000) {
            sweep(s, now);
            last_sweep = now;
        }
    }
    net_stop(s, vk_loginput_now_ms());
    pthread_mutex_lock(&s->mu);
    s->net_done = true;
    s->stop_sync = true;
    pthread_cond_signal(&s->cv_sync);
    pthread_cond_broadcast(&s->cv_cons);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------- */
struct vk_syslog *vk_syslog_start(const struct vk_syslog_cfg *cfg, char *err, size_t errlen)
{
    struct vk_syslog *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "syslog: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->ep = s->evfd = s->seg_fd = s->lockfd = s->ackfd = s->dirfd = -1;
    s->td.fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_cons, NULL);
    pthread_cond_init(&s->cv_sync, NULL);
    struct vk_syslog_cfg *c = &s->cfg;
    if (!c->max_msg) c->max_msg = VK_LOGLINE_MAX_DEFAULT;
    if (c->max_msg > REC_LEN_MAX) c->max_msg = REC_LEN_MAX;
    s->uslot = c->max_msg < UDP_SLOT_MAX ? c->max_msg : UDP_SLOT_MAX;
    if (!c->queue_bytes) c->queue_bytes = 64u << 20;
    if (!c->spool_max) c->spool_max = 1ull << 30;
    if (!c->segment_bytes) c->segment_bytes = 64u << 20;
    if (!c->max_conns) c->max_conns = 4096;
    if (!c->udp_rcvbuf) c->udp_rcvbuf = 32 << 20;
    if (c->spool_max < 2 * c->segment_bytes) c->spool_max = 2 * c->segment_bytes;
    s->max_rec = rec_size(SRC_MAX, c->max_msg);
    s->cap = (c->queue_bytes + 7) & ~(uint64_t)7;
    if (s->cap < 64 * s->max_rec) s->cap = 64 * s->max_rec;
    s->next_seq = 1;

    if (!cfg->urls || !*cfg->urls) {
        snprintf(err, errlen, "syslog: no listener given");
        goto fail;
    }
    if (cfg->spool_dir) {
        s->spool = true;
        s->spool_dir = strdup(cfg->spool_dir);
        if (!s->spool_dir || spool_open(s, err, errlen)) goto fail;
        s->dcap = (1u << 20) + s->max_rec;
        if (!(s->dbuf = malloc(s->dcap))) {
            snprintf(err, errlen, "syslog: out of memory");
            goto fail;
        }
    }
    atomic_store(&s->wseq, s->next_seq - 1);
    atomic_store(&s->sseq, s->next_seq - 1);
    atomic_store(&s->cons_caught, s->next_seq - 1);
    s->dlast = s->next_seq - 1;
    bool any_tls = false;
    for (const char *p = cfg->urls; *p;) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        size_t n = strcspn(p, ", ");
        if (add_listener(s, p, n, err, errlen)) goto fail;
        if (s->l[s->nl - 1].type == EV_TLS) any_tls = true;
        p += n;
    }
    if (any_tls) {
        int r = gnutls_certificate_allocate_credentials(&s->cred);
        if (!r) r = gnutls_certificate_set_x509_key_file(s->cred, cfg->tls_cert, cfg->tls_key, GNUTLS_X509_FMT_PEM);
        if (r < 0) {
            snprintf(err, errlen, "syslog: tls: %s / %s: %s", cfg->tls_cert, cfg->tls_key, gnutls_strerror(r));
            goto fail;
        }
        if (cfg->tls_ca && gnutls_certificate_set_x509_trust_file(s->cred, cfg->tls_ca, GNUTLS_X509_FMT_PEM) < 0) {
            snprintf(err, errlen, "syslog: tls: %s: no CA certificate read", cfg->tls_ca);
            goto fail;
        }
        s->tls_require = cfg->tls_ca != NULL;
    }
    /* the caller's strings are not kept */
    s->cfg.tls_cert = s->cfg.tls_key = s->cfg.tls_ca = NULL;
    s->cfg.urls = NULL;
    s->cfg.spool_dir = s->spool_dir;

    s->ring = malloc(s->cap);
    s->mm = calloc(UDP_VLEN, sizeof *s->mm);
    s->mi = calloc(UDP_VLEN, sizeof *s->mi);
    s->maddr = calloc(UDP_VLEN, sizeof *s->maddr);
    s->ubuf = malloc((size_t)UDP_VLEN * s->uslot);
    s->mctl = calloc(UDP_VLEN, CTL_SPACE);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!s->ring || !s->mm || !s->mi || !s->maddr || !s->ubuf || !s->mctl || s->ep < 0 || s->evfd < 0) {
        snprintf(err, errlen, "syslog: out of memory");
        goto fail;
    }
    static int wake_tag = EV_WAKE;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &wake_tag};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->evfd, &e);
    for (unsigned i = 0; i < s->nl; i++) {
        e.data.ptr = &s->l[i];
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->l[i].fd, &e);
    }
    if (s->spool) {
        if (pthread_create(&s->sync_th, NULL, sync_main, s)) {
            snprintf(err, errlen, "syslog: cannot start a thread");
            goto fail;
        }
        s->sync_started = true;
    }
    if (pthread_create(&s->net_th, NULL, net_main, s)) {
        snprintf(err, errlen, "syslog: cannot start a thread");
        goto fail;
    }
    s->net_started = true;
    return s;
fail:
    vk_syslog_stop(s);
    return NULL;
}

/* ---- the consumer's spool reader (after a restart, and in direct mode) ---------------- */
/* Next record with seq <= lim after the last delivered: 1 (h, body set), 0 when there is
 * none yet, < 0 when the spool is damaged. Reads the segments as they grow. */
static int tail_next(struct vk_syslog *s, uint64_t lim, struct rec *h, const uint8_t **body)
{
    struct tailrd *t = &s->td;
    if (!t->buf) {
        t->cap = (1u << 20) + s->max_rec;
        if (!(t->buf = malloc(t->cap))) return VK_ENOMEM;
    }
    for (;;) {
        size_t avail = t->len - t->pos;
        if (avail >= REC_HDR) {
            memcpy(h, t->buf + t->pos, REC_HDR);
            if (h->magic != REC_MAGIC || h->len > REC_LEN_MAX || h->src_len > 4096 || (h->flags & F_PAD)) {
                vk_err("syslog: spool %s: segment %020" PRIu64 " is damaged at byte %" PRIu64, s->spool_dir, t->seg,
                       t->off - avail);
                return VK_EIO;
            }
            size_t need = rec_size(h->src_len, h->len);
            if (avail >= need) {
                if (h->seq > lim) return 0;
                *body = t->buf + t->pos;
                t->pos += need;
                if (h->seq <= s->delivered) continue; /* before where we start */
                return 1;
            }
            if (need > t->cap) { /* written by a run with a larger max_msg */
                uint8_t *nb = realloc(t->buf, need);
                if (!nb) return VK_ENOMEM;
                t->buf = nb;
                t->cap = need;
            }
        }
        /* more bytes: how far the segment is written, and which one follows */
        uint64_t size = 0, next = 0;
        bool found = false;
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->nsegs; i++) {
            if (s->segs[i].first == t->seg) {
                found = true;
                size = s->segs[i].size;
            } else if (s->segs[i].first > t->seg && !next) {
                next = s->segs[i].first;
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (found && t->fd < 0) {
            char path[4200];
            seg_name(s, t->seg, path, sizeof path);
            if ((t->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
                vk_err("syslog: spool %s: %s", path, strerror(errno));
                return VK_EIO;
            }
        }
        if (found && t->off < size) {
            memmove(t->buf, t->buf + t->pos, avail);
            t->len = avail;
            t->pos = 0;
            size_t want = t->cap - t->len;
            if (want > size - t->off) want = (size_t)(size - t->off);
            ssize_t n = pread(t->fd, t->buf + t->len, want, (off_t)t->off);
            if (n <= 0) {
                vk_err("syslog: spool %020" PRIu64 ".vks: short read at byte %" PRIu64, t->seg, t->off);
                return VK_EIO;
            }
            t->off += (uint64_t)n;
            t->len += (size_t)n;
            continue;
        }
        if (!next) return 0; /* all of it read: wait for more */
        if (avail) {
            vk_err("syslog: spool %s: segment %020" PRIu64 " ends inside a record", s->spool_dir, t->seg);
            return VK_EIO;
        }
        if (t->fd >= 0) close(t->fd);
        t->fd = -1;
        t->seg = next;
        t->off = 0;
        t->len = t->pos = 0;
    }
}

/* Hand the record r (header h) to the consumer. */
static int deliver(struct vk_syslog *s, const uint8_t *r, const struct rec *h, bool replayed, vk_logline_fn fn,
                   void *ud)
{
    struct vk_logline l = {.data = (const char *)r + REC_HDR + h->src_len + 1, .len = h->len,
                           .recv_ms = h->recv_ms, .source = (const char *)r + REC_HDR,
                           .seq = h->seq, .cut = (h->flags & F_CUT) != 0, .replayed = replayed};
    s->delivered = h->seq;
    return fn(ud, &l);
}

/* Deliver the spool's records up to seq lim, at most a poll's worth (64k records, 1 MiB).
 * Returns how many, or < 0; *rc gets the callback's refusal. */
static int tail_run(struct vk_syslog *s, uint64_t lim, bool replayed, vk_logline_fn fn, void *ud, int *rc)
{
    int count = 0;
    size_t bytes = 0;
    *rc = 0;
    while (count < 65536 && bytes < (1u << 20)) {
        struct rec h;
        const uint8_t *b;
        int k = tail_next(s, lim, &h, &b);
        if (k <= 0) return k < 0 ? k : count;
        count++;
        bytes += h.len;
        if ((*rc = deliver(s, b, &h, replayed, fn, ud))) break;
    }
    return count;
}

static void tail_close(struct vk_syslog *s)
{
    if (s->td.fd >= 0) close(s->td.fd);
    s->td.fd = -1;
}

/* After a restart: the records the spool kept, then the queue. */
static int replay_poll(struct vk_syslog *s, vk_logline_fn fn, void *ud)
{
    int rc, n = tail_run(s, s->replay_upto, true, fn, ud, &rc);
    if (n < 0) return n;
    STAT_ADD(s->replayed, (uint64_t)n);
    if (!n && !rc) { /* all of them delivered */
        s->replay_upto = 0;
        tail_close(s);
    }
    return rc ? rc : n;
}

/* Deliver from the spool while in direct mode. Returns records delivered (0 also when the
 * direct run is over and the ring takes over again: cons_disk is then false). */
static int tail_poll(struct vk_syslog *s, vk_logline_fn fn, void *ud, int timeout_ms)
{
    int count = 0, rc = 0;
    for (int pass = 0;; pass++) {
        pthread_mutex_lock(&s->mu);
        bool live = s->direct && s->dgen == s->tgen;
        uint64_t lim = live ? atomic_load(&s->sseq) : s->dexit_last;
        bool done = s->net_done && s->sync_done;
        pthread_mutex_unlock(&s->mu);
        if ((count = tail_run(s, lim, false, fn, ud, &rc)) < 0) return count;
        if (count || rc) break;
        if (!live && s->delivered >= lim) { /* the run is over and all of it delivered */
            s->cons_disk = false;
            tail_close(s);
            return 0;
        }
        atomic_store(&s->cons_caught, s->delivered);
        if (pass || timeout_ms == 0 || done) break;
        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->sseq) == lim && s->direct && s->dgen == s->tgen && !(s->net_done && s->sync_done)) {
            if (timeout_ms < 0) pthread_cond_wait(&s->cv_cons, &s->mu);
            else wait_ms(&s->cv_cons, &s->mu, timeout_ms);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return rc ? rc : count;
}

/* The ring is drained up to where direct mode froze it: read the spool from here on. */
static bool tail_enter(struct vk_syslog *s, uint64_t pos)
{
    pthread_mutex_lock(&s->mu);
    if (s->direct && pos == s->dhead) {
        s->cons_disk = true;
        s->tgen = s->dgen;
        tail_open(s);
    }
    pthread_mutex_unlock(&s->mu);
    return s->cons_disk;
}

int vk_syslog_poll(struct vk_syslog *s, vk_logline_fn fn, void *ud, int timeout_ms)
{
    if (s->replay_upto) {
        int rc = replay_poll(s, fn, ud);
        if (rc) return rc;
    }
    if (s->cons_disk) {
        int rc = tail_poll(s, fn, ud, timeout_ms);
        if (rc || s->cons_disk) return rc;
    }
    uint64_t pos = atomic_load_explicit(&s->consumed, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&s->spooled, memory_order_acquire);
    if (end == pos && s->spool && tail_enter(s, pos)) return tail_poll(s, fn, ud, timeout_ms);
    if (end == pos && timeout_ms != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_mutex_lock(&s->mu);
        while ((end = atomic_load_explicit(&s->spooled, memory_order_acquire)) == pos &&
               !(s->direct && pos == s->dhead) &&
               !(s->net_done && (!s->spool || s->sync_done))) {
            if (timeout_ms < 0) pthread_cond_wait(&s->cv_cons, &s->mu);
            else if (pthread_cond_timedwait(&s->cv_cons, &s->mu, &ts)) break;
        }
        pthread_mutex_unlock(&s->mu);
        end = atomic_load_explicit(&s->spooled, memory_order_acquire);
        if (end == pos && s->spool && tail_enter(s, pos)) return tail_poll(s, fn, ud, timeout_ms);
    }
    int count = 0, rc = 0;
    size_t bytes = 0;
    while (pos < end && count < 65536 && bytes < (1u << 20)) {
        uint64_t idx = pos % s->cap;
        if (s->cap - idx < REC_HDR) {
            pos += s->cap - idx;
            continue;
        }
        const uint8_t *r = s->ring + idx;
        struct rec h;
        memcpy(&h, r, REC_HDR);
        if (h.flags & F_PAD) {
            pos += s->cap - idx;
            continue;
        }
        pos += rec_size(h.src_len, h.len);
        count++;
        bytes += h.len;
        if ((rc = deliver(s, r, &h, false, fn, ud))) break;
    }
    atomic_store_explicit(&s->consumed, pos, memory_order_release);
    if (atomic_exchange(&s->producer_blocked, false)) wake_net(s);
    return rc ? rc : count;
}

int vk_syslog_ack(struct vk_syslog *s, uint64_t seq)
{
    if (seq > s->delivered) seq = s->delivered;
    pthread_mutex_lock(&s->mu);
    bool adv = seq > s->acked;
    if (adv) s->acked = seq;
    if (adv) pthread_cond_signal(&s->cv_sync); /* acked segments can go now */
    pthread_mutex_unlock(&s->mu);
    if (adv && s->spool) write_ack(s, seq);
    return 0;
}

void vk_syslog_shutdown(struct vk_syslog *s)
{
    if (s->shut) return;
    s->shut = true;
    atomic_store(&s->stop_net, true);
    if (s->evfd >= 0) wake_net(s);
    if (s->net_started) pthread_join(s->net_th, NULL);
    else {
        pthread_mutex_lock(&s->mu);
        s->net_done = s->stop_sync = true;
        pthread_cond_signal(&s->cv_sync);
        pthread_mutex_unlock(&s->mu);
    }
    if (s->sync_started) pthread_join(s->sync_th, NULL);
    s->net_started = s->sync_started = false;
}

void vk_syslog_stats(struct vk_syslog *s, struct vk_syslog_stats *o)
{
    memset(o, 0, sizeof *o);
    o->n_listeners = s->nl;
    for (unsigned i = 0; i < s->nl; i++) {
        struct listener *l = &s->l[i];
        struct vk_syslog_listener_stats *d = &o->l[i];
        memcpy(d->url, l->st.url, sizeof d->url);
        d->msgs = STAT_GET(l->st.msgs);
        d->bytes = STAT_GET(l->st.bytes);
        d->dropped = STAT_GET(l->st.dropped);
        d->oversize = STAT_GET(l->st.oversize);
        d->framing_errors = STAT_GET(l->st.framing_errors);
        d->conns_total = STAT_GET(l->st.conns_total);
        d->conns_open = STAT_GET(l->st.conns_open);
        d->conns_refused = STAT_GET(l->st.conns_refused);
        d->tls_failures = STAT_GET(l->st.tls_failures);
        if (l->type == EV_UDP) {
            uint64_t a = __atomic_load_n(&l->rxq_ovfl, __ATOMIC_RELAXED), b = proc_udp_drops(l->ino);
            d->kernel_drops = a > b ? a : b;
        }
    }
    pthread_mutex_lock(&s->mu);
    o->acked_seq = s->acked;
    o->spool_bytes = s->spool_bytes;
    o->spool_segments = s->nsegs;
    pthread_mutex_unlock(&s->mu);
    o->delivered_seq = __atomic_load_n(&s->delivered, __ATOMIC_RELAXED);
    o->next_seq = __atomic_load_n(&s->next_seq, __ATOMIC_RELAXED);
    o->replayed = STAT_GET(s->replayed);
    o->queue_bytes = s->cap;
    o->queue_used = atomic_load(&s->written_pub) - atomic_load(&s->consumed);
    o->paused = STAT_GET(s->paused_events);
    o->spool_syncs = STAT_GET(s->spool_syncs);
    o->spool_errors = STAT_GET(s->spool_errors);
    o->spool_truncated = s->spool_truncated;
    o->lost_at_stop = STAT_GET(s->lost_at_stop);
    o->spilled = STAT_GET(s->spilled);
}

void vk_syslog_stop(struct vk_syslog *s)
{
    if (!s) return;
    vk_syslog_shutdown(s);
    if (s->seg_fd >= 0) {
        if (s->cfg.sync != VK_SPOOL_SYNC_NONE) fdatasync(s->seg_fd);
        close(s->seg_fd);
    }
    for (size_t i = 0; i < s->npending; i++) close(s->pending[i]);
    if (s->ackfd >= 0) {
        fdatasync(s->ackfd);
        close(s->ackfd);
    }
    if (s->dirfd >= 0) close(s->dirfd);
    if (s->lockfd >= 0) close(s->lockfd);
    for (unsigned i = 0; i < s->nl; i++)
        if (s->l[i].fd >= 0) close(s->l[i].fd);
    if (s->cred) gnutls_certificate_free_credentials(s->cred);
    if (s->ep >= 0) close(s->ep);
    if (s->evfd >= 0) close(s->evfd);
    tail_close(s);
    free(s->td.buf);
    free(s->dbuf);
    free(s->ring);
    free(s->mm);
    free(s->mi);
    free(s->maddr);
    free(s->ubuf);
    free(s->mctl);
    free(s->segs);
    free(s->pending);
    free(s->spool_dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_cons);
    pthread_cond_destroy(&s->cv_sync);
    free(s);
}
