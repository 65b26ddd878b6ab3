/* pipe.c — runs a packet source through decode and the flow tables.
 *
 * One thread: read, decode, account, and once per second of packet time let the table
 * advance (after the packet that crossed the second, as Arkime does, so a packet arriving
 * after a long silence still joins its session before the sweep).
 *
 * N workers: the reading thread decodes each packet only far enough to know its
 * addresses, hashes the unordered address pair (so both directions and every fragment of
 * a datagram meet in one worker) and copies the packet into that worker's current batch.
 * A second boundary is written as a tick marker into every worker's batch, so each worker
 * sees the same sequence of packets and clock ticks for its sessions as the single-thread
 * run would: the output is the same set of records. Batches go through a small bounded
 * queue per worker; in live mode a full queue drops the packet (counted) instead of
 * stalling the capture. Record emission is serialised by one mutex. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "flow_int.h"

#define BATCH_PKTS 512
#define BATCH_BYTES (1u << 20)
#define QDEPTH 8

struct bhdr {
    uint64_t ts_us;
    uint64_t clock_us; /* reader's clock (latest packet time) at this packet */
    uint32_t caplen, wirelen, off;
    int32_t dlt; /* -1: tick marker */
};

struct batch {
    uint32_t n, used;
    bool end;
    struct bhdr h[BATCH_PKTS];
    uint8_t data[BATCH_BYTES];
};

struct worker {
    pthread_t th;
    struct vk_pipe *pipe;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *full[QDEPTH];
    unsigned head, count;
    struct batch *freel[QDEPTH + 1];
    unsigned nfree;
    struct batch *cur; /* being filled by the reader */
    struct vk_decoder *dec;
    struct vk_flowtab *tab;
};

struct vk_pipe {
    const struct vk_pipe_opts *o;
    pthread_mutex_t emit_mu;
    struct worker *w;
    int nw;
};

static void emit_locked(void *ud, struct vk_meta *rec, const struct vk_flow_pos *pos)
{
    struct vk_pipe *p = ud;
    pthread_mutex_lock(&p->emit_mu);
    p->o->emit(p->o->emit_ud, rec, pos);
    pthread_mutex_unlock(&p->emit_mu);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sum_stats(struct vk_pipe_stats *st, const struct vk_decoder *dec, const struct vk_flowtab *t)
{
    const struct vk_decode_stats *ds = vk_decode_stats(dec);
    const struct vk_flow_stats *fs = vk_flow_stats(t);
    st->dec.packets += ds->packets;
    st->dec.bytes += ds->bytes;
    st->dec.non_ip += ds->non_ip;
    st->dec.frags += ds->frags;
    st->dec.reassembled += ds->reassembled;
    st->dec.frag_evicted += ds->frag_evicted;
    for (int i = 0; i < VK_ANOM__COUNT; i++) st->dec.anom[i] += ds->anom[i];
    uint64_t *a = (uint64_t *)&st->flow;
    const uint64_t *b = (const uint64_t *)fs;
    for (size_t i = 0; i < sizeof *fs / sizeof(uint64_t); i++) a[i] += b[i];
}

/* ---- the heap in huge pages ---------------------------------------------------------
 * Sessions live on malloc's main heap, and every packet touches its session at a random
 * place in it: with 4 KiB pages that is a TLB miss per packet and a page fault per 4 KiB of
 * new sessions. The heap is grown in large steps (M_TOP_PAD) and, once per second of
 * packet time, what it has grown to is marked for transparent huge pages (glibc's own
 * glibc.malloc.hugetlb=1 does the same after every sbrk, but only when set in the
 * environment before start). Pages already touched stay small; later ones come 2 MiB at
 * a time. Costs one madvise call per second of traffic; off where THP is unavailable. */
static uintptr_t heap_lo;

static void heap_begin(void)
{
    if (heap_lo) return;
    mallopt(M_TOP_PAD, 32 << 20);
    heap_lo = (uintptr_t)sbrk(0);
}

static void heap_thp(void)
{
    static uintptr_t done;
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo = (heap_lo + pg - 1) & ~(pg - 1);
    uintptr_t hi = (uintptr_t)sbrk(0) & ~(pg - 1);
    if (!heap_lo || hi <= lo || hi == done) return;
    if (madvise((void *)lo, hi - lo, MADV_HUGEPAGE) == 0) done = hi;
}

/* ---- one thread -------------------------------------------------------------------- */

static int run_single(struct vk_capture *cap, const struct vk_pipe_opts *o, struct vk_pipe_stats *st)
{
    struct vk_decoder *dec = vk_decode_new(0);
    struct vk_flowtab *t = vk_flow_new(&o->flow, o->emit, o->emit_ud);
    if (!dec || !t) {
        vk_decode_free(dec);
        vk_flow_free(t);
        vk_err("out of memory setting up the flow table");
        return VK_ENOMEM;
    }
    struct vk_pkt pkt;
    struct vk_decoded d;
    uint64_t last_sec = 0, n = 0;
    double next_progress = now_s() + 1;
    int r;
    heap_begin();
    while ((r = vk_capture_next(cap, &pkt)) != 0) {
        if (r == 1) {
            vk_decode_packet(dec, &pkt, &d);
            vk_flow_packet(t, &pkt, &d);
        }
        uint64_t sec = r == 1 ? pkt.ts_us / 1000000u : 0;
        if (r == 1 && sec != last_sec) {
            last_sec = sec;
            vk_flow_advance(t, pkt.ts_us);
            vk_decode_expire(dec, pkt.ts_us);
            heap_thp();
        }
        if (o->progress && (r == 2 || (++n & 4095) == 0) && now_s() >= next_progress) {
            next_progress = now_s() + 1;
            memset(st, 0, sizeof *st);
            vk_capture_get_stats(cap, &st->cap);
            sum_stats(st, dec, t);
            o->progress(o->progress_ud, st);
        }
    }
    vk_flow_flush(t);
    memset(st, 0, sizeof *st);
    vk_capture_get_stats(cap, &st->cap);
    sum_stats(st, dec, t);
    vk_flow_free(t);
    vk_decode_free(dec);
    return 0;
}

/* ---- workers ----------------------------------------------------------------------- */

static struct batch *take_full(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->count == 0) pthread_cond_wait(&w->cv, &w->mu);
    struct batch *b = w->full[w->head];
    w->head = (w->head + 1) % QDEPTH;
    w->count--;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return b;
}

static void give_free(struct worker *w, struct batch *b)
{
    pthread_mutex_lock(&w->mu);
    w->freel[w->nfree++] = b;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_setname_np(pthread_self(), "vakt-worker"); /* top -H, perf, gdb */
    struct vk_pkt pkt;
    struct vk_decoded d;
    for (;;) {
        struct batch *b = take_full(w);
        bool end = b->end;
        for (uint32_t i = 0; i < b->n; i++) {
            const struct bhdr *h = &b->h[i];
            if (h->dlt < 0) {
                vk_flow_advance(w->tab, h->ts_us);
                vk_decode_expire(w->dec, h->ts_us);
                continue;
            }
            vk_flow_clock(w->tab, h->clock_us);
            pkt.ts_us = h->ts_us;
            pkt.caplen = h->caplen;
            pkt.wirelen = h->wirelen;
            pkt.dlt = h->dlt;
            pkt.data = b->data + h->off;
            vk_decode_packet(w->dec, &pkt, &d);
            vk_flow_packet(w->tab, &pkt, &d);
        }
        b->n = b->used = 0;
        b->end = false;
        give_free(w, b);
        if (end) break;
    }
    vk_flow_flush(w->tab);
    return NULL;
}

/* Reader side: hand the current batch to the worker; get a fresh one. Blocks when the
 * worker is QDEPTH batches behind, unless drop_ok (live), in which case returns false. */
static bool push_cur(struct worker *w, bool drop_ok)
{
    pthread_mutex_lock(&w->mu);
    while (w->count == QDEPTH || w->nfree == 0) {
        if (drop_ok) {
            pthread_mutex_unlock(&w->mu);
            return false;
        }
        pthread_cond_wait(&w->cv, &w->mu);
    }
    w->full[(w->head + w->count) % QDEPTH] = w->cur;
    w->count++;
    w->cur = w->freel[--w->nfree];
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return true;
}

static bool batch_room(const struct batch *b, uint32_t bytes)
{
    return b->n < BATCH_PKTS && b->used + bytes <= BATCH_BYTES;
}

static int run_threads(struct vk_capture *cap, const struct vk_pipe_opts *o, struct vk_pipe_stats *st)
{
    struct vk_pipe p = {.o = o, .nw = o->threads};
    pthread_mutex_init(&p.emit_mu, NULL);
    p.w = calloc((size_t)p.nw, sizeof *p.w);
    struct vk_decoder *hd = vk_decode_new(0);
    int rc = 0, started = 0;
    if (!p.w || !hd) {
        rc = VK_ENOMEM;
        goto out;
    }
    vk_decode_set_hash_only(hd);
    for (int i = 0; i < p.nw; i++) {
        pthread_mutex_init(&p.w[i].mu, NULL);
        pthread_cond_init(&p.w[i].cv, NULL);
    }
    for (int i = 0; i < p.nw; i++) {
        struct worker *w = &p.w[i];
        w->pipe = &p;
        for (int k = 0; k <= QDEPTH; k++) {
            struct batch *b = calloc(1, sizeof *b);
            if (!b) {
                rc = VK_ENOMEM;
                goto out;
            }
            if (k == 0) w->cur = b;
            else w->freel[w->nfree++] = b;
        }
        w->dec = vk_decode_new(0);
        struct vk_flow_config fc = o->flow;
        fc.worker = (unsigned)i;
        w->tab = vk_flow_new(&fc, emit_locked, &p);
        if (!w->dec || !w->tab) {
            rc = VK_ENOMEM;
            goto out;
        }
    }
    for (int i = 0; i < p.nw; i++) {
        if (pthread_create(&p.w[i].th, NULL, worker_main, &p.w[i]) != 0) {
            rc = VK_ENOMEM;
            break;
        }
        started++;
    }
    if (rc == 0) {
        struct vk_pkt pkt;
        struct vk_decoded d;
        uint64_t last_sec = 0, n = 0, clock = 0;
        double next_progress = now_s() + 1, next_flush = now_s() + 0.1;
        int r;
        while ((r = vk_capture_next(cap, &pkt)) != 0) {
            n++;
            if (r == 1) {
                if (pkt.ts_us > clock) clock = pkt.ts_us;
                vk_decode_packet(hd, &pkt, &d);
                uint64_t h = 0;
                if (d.family) {
                    /* Symmetric: XOR of the two address hashes. */
                    h = XXH3_64bits(d.src, 16) ^ XXH3_64bits(d.dst, 16);
                }
                struct worker *w = &p.w[h % (uint64_t)p.nw];
                if (!batch_room(w->cur, pkt.caplen) && !push_cur(w, o->live)) {
                    st->queue_drops++;
                } else {
                    struct batch *b = w->cur;
                    struct bhdr *bh = &b->h[b->n++];
                    bh->ts_us = pkt.ts_us;
                    bh->clock_us = clock;
                    bh->caplen = pkt.caplen;
                    bh->wirelen = pkt.wirelen;
                    bh->dlt = pkt.dlt;
                    bh->off = b->used;
                    memcpy(b->data + b->used, pkt.data, pkt.caplen);
                    b->used += pkt.caplen;
                }
                uint64_t sec = pkt.ts_us / 1000000u;
                if (sec != last_sec) {
                    last_sec = sec;
                    for (int i = 0; i < p.nw; i++) {
                        struct worker *tw = &p.w[i];
                        if (!batch_room(tw->cur, 0) && !push_cur(tw, o->live)) continue;
                        struct bhdr *bh = &tw->cur->h[tw->cur->n++];
                        memset(bh, 0, sizeof *bh);
                        bh->ts_us = bh->clock_us = clock;
                        bh->dlt = -1;
                    }
                }
            }
            if (o->live && (r == 2 || (n & 255) == 0) && now_s() >= next_flush) {
                next_flush = now_s() + 0.1;
                for (int i = 0; i < p.nw; i++)
                    if (p.w[i].cur->n) push_cur(&p.w[i], true);
            }
            if (o->progress && (r == 2 || (n & 4095) == 0) && now_s() >= next_progress) {
                next_progress = now_s() + 1;
                struct vk_pipe_stats tmp = {0};
                vk_capture_get_stats(cap, &tmp.cap);
                tmp.dec = *vk_decode_stats(hd);
                tmp.queue_drops = st->queue_drops;
                o->progress(o->progress_ud, &tmp);
            }
        }
    }
    /* End: every worker gets its last batch marked end, then is joined. */
    for (int i = 0; i < started; i++) {
        p.w[i].cur->end = true;
        push_cur(&p.w[i], false);
    }
    for (int i = 0; i < started; i++) pthread_join(p.w[i].th, NULL);
    uint64_t drops = st->queue_drops;
    memset(st, 0, sizeof *st);
    st->queue_drops = drops;
    vk_capture_get_stats(cap, &st->cap);
    for (int i = 0; i < started; i++) sum_stats(st, p.w[i].dec, p.w[i].tab);
out:
    if (p.w) {
        for (int i = 0; i < p.nw; i++) {
            struct worker *w = &p.w[i];
            vk_flow_free(w->tab);
            vk_decode_free(w->dec);
            free(w->cur);
            for (unsigned k = 0; k < w->nfree; k++) free(w->freel[k]);
            pthread_mutex_destroy(&w->mu);
            pthread_cond_destroy(&w->cv);
        }
    }
    free(p.w);
    vk_decode_free(hd);
    pthread_mutex_destroy(&p.emit_mu);
    if (rc) vk_err("cannot start %d worker threads: out of memory", o->threads);
    return rc;
}

int vk_pipe_run(struct vk_capture *cap, const struct vk_pipe_opts *o, struct vk_pipe_stats *st)
{
    memset(st, 0, sizeof *st);
    if (o->threads <= 1) return run_single(cap, o, st);
    return run_threads(cap, o, st);
}
