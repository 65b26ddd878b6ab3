/* store.c — the data directory: configuration, writer lock, write queue and writer
 * thread, packet archive, and dispatch to the meta-store backend.
 *
 * vk_store_put copies a record into a bounded queue (the caller blocks while it is full:
 * file ingest slows down instead of losing records). The writer thread takes up to
 * batch_records records, or what arrived within batch_ms, flushes the pcap writers so
 * that every position in the batch is on disk, and has the backend write the batch in one
 * transaction. Only then does it count the records as committed (vk_store_on_commit). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

struct vk_store {
    char dir[4096];
    enum vk_store_mode mode;
    struct vk_store_cfg cfg;
    const struct vk_backend_ops *ops;
    void *b;
    struct vk_pcaparch *pa;
    int lockfd;
    /* write queue: a ring of records */
    pthread_mutex_t mu;
    pthread_cond_t cv_put, cv_take, cv_done;
    struct vk_store_rec *ring;
    size_t head, count, cap;
    size_t min_batch;             /* the writer starts a batch once this many are queued */
    struct vk_slab *slab, *slab_free; /* the one being filled; emptied ones to reuse */
    uint64_t queued, committed;   /* records put, records durable */
    uint64_t released, taken;     /* cfg.hold: records the writer may take; records it took */
    bool stop, failed, writer_up;
    uint64_t flush_upto;          /* vk_store_sync wants everything queued up to here now */
    char error[512];
    pthread_t writer;
    void (*on_commit)(void *, uint64_t);
    void *on_commit_ud;
    uint64_t commits, pos_dropped;
};

void vk_store_cfg_default(struct vk_store_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->batch_records = 20000;
    c->batch_ms = 1000;
    c->queue_records = 100000;
    c->pcap_file_bytes = 256ull << 20;
    c->cache_mb = 32; /* docs/DATA-DIR.md: more costs a page fault per new page, and the OS caches the file */
    c->page_size = 32768; /* docs/DATA-DIR.md: fewer, fuller pages to write; logs ingest +30-60% over 4 KiB */
}

static int cfg_set(struct vk_store_cfg *c, const char *k, const char *v)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v) return -1;
    /* size and age suffixes: k M G T, s m h d y */
    unsigned long long mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; break;
    case 'M': mul = 1ull << 20; break;
    case 'G': mul = 1ull << 30; break;
    case 'T': mul = 1ull << 40; break;
    case 's': break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    case 'y': mul = 365ull * 86400; break;
    case 0: break;
    default: return -1;
    }
    if (*end && end[1]) return -1;
    n *= mul;
    if (!strcmp(k, "batch_records")) c->batch_records = n ? (uint32_t)n : 1;
    else if (!strcmp(k, "batch_ms")) c->batch_ms = (uint32_t)n;
    else if (!strcmp(k, "queue_records")) c->queue_records = n ? (uint32_t)n : 1;
    else if (!strcmp(k, "sync")) c->sync = n != 0;
    else if (!strcmp(k, "pcap_file_bytes")) c->pcap_file_bytes = n;
    else if (!strcmp(k, "pcap_max_bytes")) c->pcap_max_bytes = n;
    else if (!strcmp(k, "pcap_max_age_s")) c->pcap_max_age_s = n;
    else if (!strcmp(k, "meta_max_bytes")) c->meta_max_bytes = n;
    else if (!strcmp(k, "meta_max_age_s")) c->meta_max_age_s = n;
    else if (!strcmp(k, "cache_mb")) c->cache_mb = n < 8 ? 8 : n > (1u << 20) ? (1u << 20) : (uint32_t)n;
    else if (!strcmp(k, "page_size") && n >= 512 && n <= 65536 && !(n & (n - 1))) c->page_size = (uint32_t)n;
    else if (!strcmp(k, "page_size")) return -1; /* SQLite takes powers of two, 512 .. 64k */
    else return -2;
    return 0;
}

int vk_store_cfg_load(const char *dir, struct vk_store_cfg *c, char *err, size_t errlen)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/vakt.conf", dir);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    char line[1024];
    int ln = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || !*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", p, ln);
            rc = -1;
            break;
        }
        *eq = 0;
        char *k = s, *v = eq + 1;
        for (char *e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--) *e = 0;
        v += strspn(v, " \t");
        v[strcspn(v, " \t\r\n#")] = 0;
        int r = cfg_set(c, k, v);
        if (r) {
            snprintf(err, errlen, "%.300s:%d: %s '%s'", p, ln, r == -2 ? "unknown setting" : "bad value for", k);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int vk_store_cfg_set(struct vk_store_cfg *c, const char *kv, char *err, size_t errlen)
{
    char k[64];
    const char *eq = strchr(kv, '=');
    if (!eq || (size_t)(eq - kv) >= sizeof k) {
        snprintf(err, errlen, "expected KEY=VALUE");
        return -1;
    }
    memcpy(k, kv, (size_t)(eq - kv));
    k[eq - kv] = 0;
    int r = cfg_set(c, k, eq + 1);
    if (r == -2) snprintf(err, errlen, "unknown setting '%s' (see docs/DATA-DIR.md)", k);
    else if (r) snprintf(err, errlen, "bad value '%s' for %s", eq + 1, k);
    return r ? -1 : 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queued records are copied into slabs: big blocks filled in queue order and reused once
 * the writer is done with every record in them. Neither side calls malloc or free per
 * record, memory already faulted in is reused, and one record's items, strings and
 * packet positions sit side by side for the writer. Caller holds s->mu for both. */
struct vk_slab {
    struct vk_slab *next;
    size_t used;
    uint32_t live; /* records in the slab not yet written */
    _Alignas(16) uint8_t data[]; /* items and positions need their alignment */
};
#define SLAB_BYTES ((size_t)8 << 20)

static void *slab_take(struct vk_store *s, size_t n, struct vk_slab **from)
{
    n = (n + 15) & ~(size_t)15;
    *from = NULL;
    if (n > SLAB_BYTES / 4) return NULL; /* a giant record: malloc'd on its own */
    struct vk_slab *b = s->slab;
    if (!b || b->used + n > SLAB_BYTES) {
        if (b && !b->live) { /* written already: start it over */
            b->used = 0;
        } else {
            b = s->slab_free;
            if (b) s->slab_free = b->next;
            else if (!(b = malloc(sizeof *b + SLAB_BYTES))) return NULL;
            b->used = 0;
            b->live = 0;
            s->slab = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    b->live++;
    *from = b;
    return p;
}

static void rec_free(struct vk_store *s, struct vk_store_rec *r)
{
    struct vk_slab *b = r->slab;
    if (!b) {
        vk_meta_free(&r->meta);
        free(r->pos);
    } else if (--b->live == 0 && b != s->slab) {
        b->next = s->slab_free;
        s->slab_free = b;
    }
    memset(r, 0, sizeof *r);
}

/* Queued records the writer may take now: with cfg.hold, only those released. */
static size_t takeable(const struct vk_store *s)
{
    if (!s->cfg.hold) return s->count;
    uint64_t r = s->released - s->taken;
    return r < s->count ? (size_t)r : s->count;
}

static void *writer_main(void *arg)
{
    struct vk_store *s = arg;
    pthread_setname_np(pthread_self(), "vakt-writer"); /* top -H, perf, gdb */
    size_t max = s->cfg.batch_records;
    struct vk_store_rec *batch = calloc(max, sizeof *batch);
    int64_t last_retention = now_ms();
    pthread_mutex_lock(&s->mu);
    if (!batch) {
        s->failed = true;
        snprintf(s->error, sizeof s->error, "out of memory for the write batch");
    }
    while (batch && !s->failed) {
        /* wait for a first record, then up to batch_ms for an eighth of a batch, and take
         * all that is queued (up to a batch): an idle writer starts early, so its work
         * overlaps the producer's and little is left when the input ends, while a busy
         * one finds full batches waiting */
        while (!takeable(s) && !s->stop) pthread_cond_wait(&s->cv_take, &s->mu);
        if (!takeable(s) && s->stop) break; /* with cfg.hold, what was never released is dropped */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += s->cfg.batch_ms / 1000;
        dl.tv_nsec += (long)(s->cfg.batch_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (takeable(s) < s->min_batch && !s->stop && s->flush_upto <= s->committed)
            if (pthread_cond_timedwait(&s->cv_take, &s->mu, &dl) == ETIMEDOUT) break;
        size_t n = takeable(s) < max ? takeable(s) : max;
        s->taken += n;
        for (size_t i = 0; i < n; i++) {
            batch[i] = s->ring[s->head];
            memset(&s->ring[s->head], 0, sizeof s->ring[s->head]);
            s->head = (s->head + 1) % s->cap;
        }
        s->count -= n;
        pthread_cond_broadcast(&s->cv_put);
        pthread_mutex_unlock(&s->mu);

        char err[512] = "";
        int rc = vk_pcaparch_flush(s->pa);
        if (rc) snprintf(err, sizeof err, "cannot write the packet archive in %.300s/pcap: %s", s->dir, strerror(errno));
        else rc = s->ops->write_batch(s->b, batch, n, err, sizeof err);
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < n; i++) rec_free(s, &batch[i]);
        pthread_mutex_unlock(&s->mu);
        /* retention runs on this thread (it owns the connection), once a minute at most */
        bool caps = s->cfg.pcap_max_bytes || s->cfg.pcap_max_age_s || s->cfg.meta_max_bytes || s->cfg.meta_max_age_s;
        if (!rc && caps && now_ms() - last_retention >= 60000) {
            struct vk_store_retained ret;
            vk_store_retention(s, 0, &ret);
            last_retention = now_ms();
        }

        pthread_mutex_lock(&s->mu);
        if (rc) {
            s->failed = true;
            snprintf(s->error, sizeof s->error, "%s", err);
        } else {
            s->committed += n;
            s->commits++;
            if (s->on_commit) s->on_commit(s->on_commit_ud, s->committed);
        }
        pthread_cond_broadcast(&s->cv_done);
    }
    /* a failed writer drops what is queued; put reports the failure */
    while (s->count) {
        rec_free(s, &s->ring[s->head]);
        s->head = (s->head + 1) % s->cap;
        s->count--;
    }
    pthread_cond_broadcast(&s->cv_put);
    pthread_cond_broadcast(&s->cv_done);
    pthread_mutex_unlock(&s->mu);
    free(batch);
    return NULL;
}

struct vk_store *vk_store_open(const char *dir, enum vk_store_mode mode, const struct vk_store_cfg *cfg,
                               char *err, size_t errlen)
{
    struct stat st;
    if (mode == VK_STORE_READ && stat(dir, &st) != 0) {
        snprintf(err, errlen, "no data directory %s (run `vakt ingest --data %s ...` first)", dir, dir);
        return NULL;
    }
    if (mode == VK_STORE_WRITE && mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct vk_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->mode = mode;
    s->lockfd = -1;
    if (cfg) s->cfg = *cfg;
    else vk_store_cfg_default(&s->cfg);
    if (!s->cfg.batch_records) s->cfg.batch_records = 1;
    if (s->cfg.queue_records < s->cfg.batch_records) s->cfg.queue_records = s->cfg.batch_records;
    s->min_batch = s->cfg.batch_records / 8 ? s->cfg.batch_records / 8 : 1;
    s->ops = &vk_backend_sqlite;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_put, NULL);
    pthread_cond_init(&s->cv_take, NULL);
    pthread_cond_init(&s->cv_done, NULL);
    if (mode == VK_STORE_WRITE) {
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/.lock", dir);
        s->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
            snprintf(err, errlen, "%s is being written by another vakt process (lock %s)", dir, lp);
            goto fail;
        }
    }
    s->b = s->ops->open(dir, mode == VK_STORE_WRITE, &s->cfg, err, errlen);
    if (!s->b) goto fail;
    s->pa = vk_pcaparch_open(dir, mode == VK_STORE_WRITE, s->cfg.pcap_file_bytes, s->cfg.sync, err, errlen);
    if (!s->pa) goto fail;
    if (mode == VK_STORE_WRITE) {
        /* sessions, parser state and SQLite's pages are allocated and freed in bursts: keep
         * freed memory instead of returning it to the kernel and faulting it in again */
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        s->cap = s->cfg.queue_records;
        s->ring = calloc(s->cap, sizeof *s->ring);
        if (!s->ring || pthread_create(&s->writer, NULL, writer_main, s) != 0) {
            snprintf(err, errlen, "cannot start the store writer");
            goto fail;
        }
        s->writer_up = true;
    }
    return s;
fail:
    vk_store_close(s);
    return NULL;
}

const char *vk_store_backend(const struct vk_store *s) { return s->ops->name; }
const char *vk_store_error(const struct vk_store *s) { return s->error; }

void vk_store_on_commit(struct vk_store *s, void (*fn)(void *ud, uint64_t records), void *ud)
{
    pthread_mutex_lock(&s->mu);
    s->on_commit = fn;
    s->on_commit_ud = ud;
    pthread_mutex_unlock(&s->mu);
}

uint64_t vk_store_archive_packet(void *store, unsigned worker, const struct vk_pkt *pkt)
{
    struct vk_store *s = store;
    return vk_pcaparch_write(s->pa, worker, pkt);
}

int vk_store_put(struct vk_store *s, const struct vk_meta *rec, const struct vk_flow_pos *pos)
{
    if (s->mode != VK_STORE_WRITE) return VK_EINVAL;
    struct vk_store_rec r;
    memset(&r, 0, sizeof r);
    uint32_t npos = pos ? pos->n : 0;
    size_t ni = rec->n * sizeof *rec->items, np = npos * sizeof *r.pos;
    pthread_mutex_lock(&s->mu);
    while (s->count == s->cap && !s->failed) {
        if (!takeable(s)) { /* cfg.hold, and all of it unreleased: waiting would never end */
            snprintf(s->error, sizeof s->error, "the write queue is full of %zu records never released", s->count);
            pthread_mutex_unlock(&s->mu);
            return VK_EINVAL;
        }
        pthread_cond_wait(&s->cv_put, &s->mu);
    }
    if (s->failed) {
        pthread_mutex_unlock(&s->mu);
        return VK_EIO;
    }
    uint8_t *p = slab_take(s, ni + np + rec->arena_len, &r.slab);
    if (p) {
        r.meta.items = (struct vk_meta_item *)p;
        r.pos = npos ? (uint64_t *)(p + ni) : NULL;
        r.meta.arena = (char *)(p + ni + np);
        memcpy(r.meta.items, rec->items, ni);
        if (np) memcpy(r.pos, pos->v, np);
        if (rec->arena_len) memcpy(r.meta.arena, rec->arena, rec->arena_len);
        r.meta.n = r.meta.cap = rec->n;
        r.meta.arena_len = r.meta.arena_cap = rec->arena_len;
        r.meta.dropped = rec->dropped;
    } else if (vk_meta_append(&r.meta, rec) != 0 || (npos && !(r.pos = malloc(np)))) {
        vk_meta_free(&r.meta);
        pthread_mutex_unlock(&s->mu);
        return VK_ENOMEM;
    } else if (npos) {
        memcpy(r.pos, pos->v, np);
    }
    r.npos = npos;
    if (pos) r.posdrop = pos->dropped;
    s->ring[(s->head + s->count) % s->cap] = r;
    s->count++;
    s->queued++;
    s->pos_dropped += r.posdrop;
    if (s->count == s->min_batch || s->count == 1) pthread_cond_signal(&s->cv_take);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int vk_store_sync(struct vk_store *s)
{
    if (s->mode != VK_STORE_WRITE) return 0;
    pthread_mutex_lock(&s->mu);
    uint64_t target = s->cfg.hold ? s->released : s->queued;
    s->flush_upto = target;
    pthread_cond_signal(&s->cv_take);
    while (s->committed < target && !s->failed) {
        pthread_cond_signal(&s->cv_take);
        pthread_cond_wait(&s->cv_done, &s->mu);
    }
    int rc = s->failed ? VK_EIO : 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void vk_store_release(struct vk_store *s)
{
    if (s->mode != VK_STORE_WRITE) return;
    pthread_mutex_lock(&s->mu);
    s->released = s->queued;
    pthread_cond_signal(&s->cv_take);
    pthread_mutex_unlock(&s->mu);
}

int vk_store_close(struct vk_store *s)
{
    if (!s) return 0;
    int rc = 0;
    if (s->writer_up) {
        rc = vk_store_sync(s);
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->cv_take);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->writer, NULL);
    }
    vk_pcaparch_close(s->pa);
    if (s->b) s->ops->close(s->b);
    free(s->ring);
    free(s->slab);
    while (s->slab_free) {
        struct vk_slab *b = s->slab_free;
        s->slab_free = b->next;
        free(b);
    }
    if (s->lockfd >= 0) close(s->lockfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_put);
    pthread_cond_destroy(&s->cv_take);
    pthread_cond_destroy(&s->cv_done);
    free(s);
    return rc;
}

int vk_store_stats(struct vk_store *s, struct vk_store_stats *st)
{
    memset(st, 0, sizeof *st);
    int rc = s->ops->stats(s->b, st);
    vk_pcaparch_totals(s->pa, &st->pcap_files, &st->pcap_bytes, &st->pcap_packets);
    pthread_mutex_lock(&s->mu);
    st->commits = s->commits;
    st->pos_dropped = s->pos_dropped;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vk_store_retention(struct vk_store *s, int64_t now, struct vk_store_retained *out)
{
    memset(out, 0, sizeof *out);
    if (!now) now = now_ms();
    int rc = vk_pcaparch_retention(s->pa, s->cfg.pcap_max_bytes, s->cfg.pcap_max_age_s, now,
                                   &out->pcap_files_deleted, &out->pcap_bytes_deleted);
    if (rc) return rc;
    if (!s->cfg.meta_max_age_s && !s->cfg.meta_max_bytes) return 0;
    int64_t cutoff = s->cfg.meta_max_age_s ? now - (int64_t)s->cfg.meta_max_age_s * 1000 : INT64_MIN;
    return s->ops->retention(s->b, cutoff, s->cfg.meta_max_bytes, &out->records_deleted);
}

void vk_store_sel_default(struct vk_store_sel *sel)
{
    sel->from_ms = INT64_MIN;
    sel->to_ms = INT64_MAX;
    sel->limit = 0;
    sel->sort_key = -1;
    sel->desc = false;
}

int vk_store_query(struct vk_store *s, const struct vk_query *q, const struct vk_store_sel *sel,
                   vk_store_rec_fn fn, void *ud, char *err, size_t errlen)
{
    return s->ops->query(s->b, q, sel, fn, ud, err, errlen);
}

int vk_store_values(struct vk_store *s, const struct vk_query *q, const struct vk_store_sel *sel,
                    enum vk_key key, unsigned top, enum vk_store_by by, vk_store_val_fn fn, void *ud,
                    char *err, size_t errlen)
{
    return s->ops->values(s->b, q, sel, key, top, by, fn, ud, err, errlen);
}

int vk_store_timeline(struct vk_store *s, const struct vk_query *q, const struct vk_store_sel *sel,
                      int64_t bucket_ms, vk_store_bucket_fn fn, void *ud, char *err, size_t errlen)
{
    return s->ops->timeline(s->b, q, sel, bucket_ms, fn, ud, err, errlen);
}

int vk_store_packets(struct vk_store *s, const char *id, vk_store_pkt_fn fn, void *ud, char *err,
                     size_t errlen)
{
    uint64_t *pos = NULL;
    size_t n = 0;
    int rc = s->ops->positions(s->b, id, &pos, &n, err, errlen);
    if (rc) return rc;
    /* all or nothing: say which files are gone before writing anything */
    uint32_t last = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t f = VK_POS_FILE(pos[i]);
        if (f == last) continue;
        last = f;
        if (!vk_store_file_exists(s->dir, f)) {
            snprintf(err, errlen, "packets expired: session %s had packets in %s/pcap/%08u.pcap, deleted by retention",
                     id, s->dir, f);
            free(pos);
            return VK_STORE_EXPIRED;
        }
    }
    uint8_t *buf = malloc(262144);
    if (!buf) {
        free(pos);
        return VK_ENOMEM;
    }
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        struct vk_pkt pkt;
        rc = vk_pcaparch_read(s->pa, pos[i], &pkt, buf, 262144);
        if (rc) {
            snprintf(err, errlen, "%s: packet %zu of session %s at %s/pcap/%08u.pcap offset %llu",
                     rc == VK_STORE_EXPIRED ? "packets expired" : "damaged packet archive", i + 1, id,
                     s->dir, VK_POS_FILE(pos[i]), (unsigned long long)VK_POS_OFF(pos[i]));
            break;
        }
        count++;
        if (fn(ud, &pkt)) break;
    }
    free(buf);
    free(pos);
    return rc ? rc : count;
}

void vk_pos_encode(const uint64_t *pos, size_t n, struct vk_buf *out)
{
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t d = (int64_t)(pos[i] - prev);
        vk_varint_put(out, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
        prev = pos[i];
    }
}

int vk_pos_decode(const uint8_t *p, size_t len, uint64_t **out, size_t *n)
{
    size_t cap = 0;
    uint64_t prev = 0, z;
    struct vk_cur c = vk_cur_make(p, len);
    while (vk_cur_left(&c)) {
        if (!vk_varint_get(&c, &z)) return VK_EINVAL;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *np = realloc(*out, cap * sizeof *np);
            if (!np) return VK_ENOMEM;
            *out = np;
        }
        prev += (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
        (*out)[(*n)++] = prev;
    }
    return 0;
}
