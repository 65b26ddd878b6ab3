/* flow.c — the flow table.
 *
 * Owns every live session: lookup by 5-tuple (+ outer VLAN id), orientation (src is the
 * initiator: the sender of the first packet, or the receiver of a first SYN-ACK), per-side
 * counters, TCP flags, timeout queues, interim records, eviction under the max_flows cap,
 * and the hand-off of payload to the application parsers. TCP ordering is reasm.c's job;
 * nDPI is dpi.c's. A finished session becomes one record through the emit callback.
 *
 * Costs: lookup is O(1) expected (xxh3 over the canonical key, chained buckets sized to
 * max_flows); a packet allocates nothing unless it opens a session (one flow struct plus,
 * when a parser claims it, its state) or is out of order (reasm.c). Timeout queues are
 * ordered lists per protocol class, so expiry costs O(sessions expired). */
#include <stdlib.h>
#include <xxhash.h>

#include "flow_int.h"

#define US 1000000ull
#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

void vk_flow_config_default(struct vk_flow_config *c)
{
    /* Arkime's defaults, so sessions split where analysts expect them to. */
    memset(c, 0, sizeof *c);
    c->max_flows = 1u << 20;
    c->tcp_timeout_s = 480;
    c->udp_timeout_s = 60;
    c->icmp_timeout_s = 60;
    c->other_timeout_s = 60;
    c->tcp_closing_s = 5;
    c->save_timeout_s = 720;
    c->reasm_max_flow = 512u << 10;
    c->reasm_max_total = 512ull << 20;
    c->dpi_packets = 32;
    c->max_pos = 1u << 16;
}

/* ---- lists ------------------------------------------------------------------------- */
static void dl_init(struct dlist *h) { h->prev = h->next = h; }
static bool dl_empty(const struct dlist *h) { return h->next == h; }
static void dl_del(struct dlist *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
static void dl_push_tail(struct dlist *h, struct dlist *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

/* ---- object caches -----------------------------------------------------------------
 * Every session allocates a flow, a parser state and (for a while) nDPI's flow, and frees
 * them when it ends; with a few hundred thousand sessions alive, malloc spends more time
 * sorting those freed blocks into its bins than the sessions spend on their packets. The
 * table keeps freed objects per size, up to OBJ_CACHE_BYTES per size, and hands them out
 * again, zeroed. O(OBJ_CLASSES) per call. */
#define OBJ_CACHE_BYTES (4u << 20)

static struct objcache *obj_class(struct vk_flowtab *t, size_t size, bool make)
{
    for (int i = 0; i < OBJ_CLASSES; i++) {
        if (t->oc[i].size == size) return &t->oc[i];
        if (!t->oc[i].size) {
            if (!make) return NULL;
            t->oc[i].size = size;
            return &t->oc[i];
        }
    }
    return NULL;
}

void *vk_flow_obj_get(struct vk_flowtab *t, size_t size)
{
    if (size < sizeof(void *)) size = sizeof(void *);
    struct objcache *c = obj_class(t, size, false);
    if (c && c->free) {
        void *p = c->free;
        c->free = *(void **)p;
        c->n--;
        memset(p, 0, size);
        return p;
    }
    return calloc(1, size);
}

void vk_flow_obj_put(struct vk_flowtab *t, void *p, size_t size)
{
    if (!p) return;
    if (size < sizeof(void *)) size = sizeof(void *);
    struct objcache *c = obj_class(t, size, true);
    if (!c || (c->n + 1) * size > OBJ_CACHE_BYTES) {
        free(p);
        return;
    }
    *(void **)p = c->free;
    c->free = p;
    c->n++;
}

static void obj_cache_free(struct vk_flowtab *t)
{
    for (int i = 0; i < OBJ_CLASSES; i++) {
        while (t->oc[i].free) {
            void *p = t->oc[i].free;
            t->oc[i].free = *(void **)p;
            free(p);
        }
        t->oc[i].n = 0;
    }
}

/* ---- table ------------------------------------------------------------------------- */

struct vk_flowtab *vk_flow_new(const struct vk_flow_config *cfg, vk_flow_emit_fn emit, void *ud)
{
    struct vk_flowtab *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_flows < 16) t->cfg.max_flows = 16;
    t->emit = emit;
    t->ud = ud;
    /* Buckets start small and double with the live sessions (grow_buckets): a table
     * sized for max_flows up front is megabytes of cold pointers that every lookup
     * misses in cache. */
    t->nbuckets = 4096;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    for (int i = 0; i < Q__COUNT; i++) dl_init(&t->q[i]);
    dl_init(&t->saveq);
    vk_meta_init(&t->rec);
    if (t->cfg.dpi_packets && vk_dpi_init(t) != 0) t->cfg.dpi_packets = 0;
    return t;
}

const struct vk_flow_stats *vk_flow_stats(const struct vk_flowtab *t) { return &t->st; }

static uint64_t key_hash(uint8_t family, uint8_t proto, uint16_t vlan, const uint8_t *a,
                         uint16_t ap, const uint8_t *b, uint16_t bp)
{
    struct {
        uint8_t family, proto;
        uint16_t vlan, lo_port, hi_port;
        uint8_t lo[16], hi[16];
    } k;
    int c = memcmp(a, b, 16);
    bool a_first = c < 0 || (c == 0 && ap <= bp);
    memset(&k, 0, sizeof k);
    k.family = family;
    k.proto = proto;
    k.vlan = vlan;
    memcpy(k.lo, a_first ? a : b, 16);
    memcpy(k.hi, a_first ? b : a, 16);
    k.lo_port = a_first ? ap : bp;
    k.hi_port = a_first ? bp : ap;
    return XXH3_64bits(&k, sizeof k);
}

static bool has_ports(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132 || proto == 136; }

static int qclass_of(uint8_t proto)
{
    switch (proto) {
    case 6: return Q_TCP;
    case 17: case 136: return Q_UDP;
    case 1: case 58: return Q_ICMP;
    }
    return Q_OTHER;
}

static uint32_t timeout_of(const struct vk_flowtab *t, int q)
{
    switch (q) {
    case Q_TCP: return t->cfg.tcp_timeout_s;
    case Q_UDP: return t->cfg.udp_timeout_s;
    case Q_ICMP: return t->cfg.icmp_timeout_s;
    case Q_CLOSING: return t->cfg.tcp_closing_s;
    }
    return t->cfg.other_timeout_s;
}

/* Arkime-style TCP flag names; bit i of tcpflags_seen is flag_names[i]. */
static const char *const flag_names[] = {"syn", "syn-ack", "ack", "psh", "fin", "rst", "urg", "ece", "cwr"};

static void note_flags(struct vk_flow *f, uint8_t fl)
{
    if ((fl & 0x12) == 0x02) f->tcpflags_seen |= 1u << 0;
    if ((fl & 0x12) == 0x12) f->tcpflags_seen |= 1u << 1;
    if ((fl & 0x12) == 0x10) f->tcpflags_seen |= 1u << 2;
    if (fl & 0x08) f->tcpflags_seen |= 1u << 3;
    if (fl & 0x01) f->tcpflags_seen |= 1u << 4;
    if (fl & 0x04) f->tcpflags_seen |= 1u << 5;
    if (fl & 0x20) f->tcpflags_seen |= 1u << 6;
    if (fl & 0x40) f->tcpflags_seen |= 1u << 7;
    if (fl & 0x80) f->tcpflags_seen |= 1u << 8;
}

void vk_flow_anomaly(struct vk_flow *f, const char *name) { vk_meta_add_cstr(&f->meta, VK_K_ANOMALY, name); }

/* ---- records ----------------------------------------------------------------------- */

/* "aa:bb:cc:dd:ee:ff" into out[18]; no printf on the per-session path. */
static void mac_str(const uint8_t *a, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        out[3 * i] = hx[a[i] >> 4];
        out[3 * i + 1] = hx[a[i] & 15];
        out[3 * i + 2] = i < 5 ? ':' : 0;
    }
}

static void build_record(struct vk_flowtab *t, struct vk_flow *f)
{
    struct vk_meta *r = &t->rec;
    vk_meta_reset(r);
    vk_meta_add_cstr(r, VK_K_ID, f->id);
    vk_meta_add_uint(r, VK_K_TIME, f->v.first_us / 1000);
    vk_meta_add_uint(r, VK_K_TIME_END, f->last_us / 1000);
    vk_meta_add_uint(r, VK_K_IP_PROTO, f->v.ipproto);
    if (f->v.family) {
        vk_meta_add_ip(r, VK_K_IP_SRC, f->v.family, f->v.addr[0]);
        vk_meta_add_ip(r, VK_K_IP_DST, f->v.family, f->v.addr[1]);
        vk_meta_add_uint(r, VK_K_PORT_SRC, f->v.port[0]); /* 0 for protocols without ports */
        vk_meta_add_uint(r, VK_K_PORT_DST, f->v.port[1]);
    }
    char cid[64] = "";
    if (f->v.family) {
    bool icmp = f->v.ipproto == 1 || f->v.ipproto == 58;
    vk_flow_community_id(f->v.family, f->v.ipproto, f->v.addr[0], f->v.addr[1],
                         icmp ? f->icmp_type : f->v.port[0], icmp ? f->icmp_code : f->v.port[1],
                         cid);
    }
    if (cid[0]) vk_meta_add_cstr(r, VK_K_COMMUNITY_ID, cid);
    for (int d = 0; d < 2; d++) {
        if (!f->has_mac[d]) continue;
        char m[18];
        mac_str(f->mac[d], m);
        vk_meta_add_str(r, d ? VK_K_ETH_DST : VK_K_ETH_SRC, m, 17);
    }
    vk_meta_add_uint(r, VK_K_PACKETS_SRC, f->pkts[0]);
    vk_meta_add_uint(r, VK_K_PACKETS_DST, f->pkts[1]);
    vk_meta_add_uint(r, VK_K_BYTES_SRC, f->bytes[0]);
    vk_meta_add_uint(r, VK_K_BYTES_DST, f->bytes[1]);
    vk_meta_add_uint(r, VK_K_PAYLOAD_SRC, f->payload[0]);
    vk_meta_add_uint(r, VK_K_PAYLOAD_DST, f->payload[1]);
    for (unsigned i = 0; i < sizeof flag_names / sizeof *flag_names; i++)
        if (f->tcpflags_seen & (1u << i)) vk_meta_add_cstr(r, VK_K_TCP_FLAGS, flag_names[i]);
    if (f->interim) vk_meta_add_uint(r, VK_K_INTERIM, f->interim);
    /* f->meta never holds the keys above (MACs of non-IP sessions live only there). */
    vk_meta_append(r, &f->meta);
}

static void expect_unlink(struct vk_flowtab *t, struct vk_flow_expect *e);

static void flow_unlink(struct vk_flowtab *t, struct vk_flow *f)
{
    struct vk_flow **pp = &t->buckets[f->hash & (t->nbuckets - 1)];
    while (*pp && *pp != f) pp = &(*pp)->hnext;
    if (*pp) *pp = f->hnext;
    dl_del(&f->idle);
    dl_del(&f->save);
}

static void emit_rec(struct vk_flowtab *t, struct vk_flow *f)
{
    struct vk_flow_pos pos = {.v = f->pos, .n = f->npos, .dropped = f->posdrop};
    t->emit(t->ud, &t->rec, t->cfg.archive ? &pos : NULL);
}

static void flow_close(struct vk_flowtab *t, struct vk_flow *f)
{
    vk_reasm_finish(t, f);
    if (f->parser && f->parser->finish) {
        struct vk_pctx c = {.meta = &f->meta, .flow = &f->v, .now_us = f->last_us};
        f->parser->finish(f->pstate, &c);
    }
    vk_dpi_finish(t, f);
    build_record(t, f);
    t->st.sessions++;
    emit_rec(t, f);
    flow_unlink(t, f);
    if (f->expected) expect_unlink(t, f->expected);
    t->st.active--;
    t->st.state_bytes -= sizeof *f + (f->parser ? f->parser->state_size : 0);
    if (f->parser && f->parser->release) f->parser->release(f->pstate);
    if (f->parser) vk_flow_obj_put(t, f->pstate, f->parser->state_size);
    vk_reasm_free(t, f);
    vk_meta_free(&f->meta);
    t->st.state_bytes -= f->cappos * sizeof *f->pos;
    free(f->pos);
    vk_flow_obj_put(t, f, sizeof *f);
}

static void flow_interim(struct vk_flowtab *t, struct vk_flow *f, uint64_t now_us)
{
    f->interim++;
    build_record(t, f);
    t->st.interim++;
    emit_rec(t, f);
    f->npos = f->posdrop = 0;
    /* Counters restart, as Arkime's mid-session save does; meta and id are kept. */
    memset(f->pkts, 0, sizeof f->pkts);
    memset(f->bytes, 0, sizeof f->bytes);
    memset(f->payload, 0, sizeof f->payload);
    f->tcpflags_seen = 0;
    f->save_us = now_us;
    dl_del(&f->save);
    dl_push_tail(&t->saveq, &f->save);
}

/* ---- expectations (FTP data channels) ---------------------------------------------- */

struct pctx_priv {
    struct vk_flowtab *t;
    struct vk_flow *f;
};

static void expect_unlink(struct vk_flowtab *t, struct vk_flow_expect *e)
{
    struct vk_flow_expect **pp = &t->expects;
    while (*pp && *pp != e) pp = &(*pp)->next;
    if (*pp) *pp = e->next;
    if (e->flow) e->flow->expected = NULL;
    free(e);
    t->nexpects--;
}

/* An announced data channel. The same endpoint announced again (FTP passive mode names
 * the file at RETR, after the 227 reply and often after the client connected) updates the
 * pending announcement or the session that already fulfilled it. O(announcements). */
static void expect_cb(struct vk_pctx *c, int family, const uint8_t *addr, uint16_t port,
                      const char *parser, const char *filename)
{
    struct pctx_priv *pp = c->flow_priv;
    struct vk_flowtab *t = pp->t;
    const struct vk_parser *p = vk_proto_by_name(parser, 6);
    if (!p) return;
    size_t al = family == 6 ? 16 : 4;
    for (struct vk_flow_expect *e = t->expects; e; e = e->next) {
        if (e->family != family || e->port != port || memcmp(e->addr, addr, al) != 0 ||
            strcmp(e->parent, pp->f->id) != 0)
            continue;
        if (filename && *filename) {
            if (e->flow) vk_meta_add_cstr(&e->flow->meta, VK_K_FILE_NAME, filename);
            else snprintf(e->filename, sizeof e->filename, "%s", filename);
        }
        return;
    }
    if (t->nexpects >= 1024) return;
    struct vk_flow_expect *e = calloc(1, sizeof *e);
    if (!e) return;
    e->family = (uint8_t)family;
    memcpy(e->addr, addr, family == 6 ? 16 : 4);
    e->port = port;
    e->parser = p;
    snprintf(e->parent, sizeof e->parent, "%s", pp->f->id);
    if (filename) snprintf(e->filename, sizeof e->filename, "%s", filename);
    e->until_us = c->now_us + 120 * US;
    e->next = t->expects;
    t->expects = e;
    t->nexpects++;
}

static void attach_parser(struct vk_flowtab *t, struct vk_flow *f, const struct vk_parser *p,
                          uint64_t ts_us)
{
    f->pstate = vk_flow_obj_get(t, p->state_size);
    if (!f->pstate) return;
    f->parser = p;
    t->st.state_bytes += p->state_size;
    struct pctx_priv pp = {t, f};
    struct vk_pctx c = {.meta = &f->meta, .flow = &f->v, .now_us = ts_us, .expect = expect_cb, .flow_priv = &pp};
    if (p->init) p->init(f->pstate, &c);
    if (c.done) f->pdone = true;
}

static void match_expect(struct vk_flowtab *t, struct vk_flow *f, uint64_t ts_us)
{
    struct vk_flow_expect **pp = &t->expects;
    while (*pp) {
        struct vk_flow_expect *e = *pp;
        if (e->flow) { /* already fulfilled */
            pp = &e->next;
            continue;
        }
        if (e->until_us < ts_us) {
            *pp = e->next;
            free(e);
            t->nexpects--;
            continue;
        }
        size_t al = f->v.family == 6 ? 16 : 4;
        int side = -1;
        for (int d = 1; d >= 0 && side < 0; d--)
            if (e->family == f->v.family && memcmp(e->addr, f->v.addr[d], al) == 0 &&
                (e->port == 0 || e->port == f->v.port[d]))
                side = d;
        if (side >= 0 && f->v.ipproto == 6) {
            vk_meta_add_cstr(&f->meta, VK_K_PARENT, e->parent);
            if (e->filename[0]) vk_meta_add_cstr(&f->meta, VK_K_FILE_NAME, e->filename);
            attach_parser(t, f, e->parser, ts_us);
            e->flow = f;
            f->expected = e;
            return;
        }
        pp = &e->next;
    }
}

/* ---- application hand-off ---------------------------------------------------------- */

void vk_flow_deliver(struct vk_flowtab *t, struct vk_flow *f, int dir, const uint8_t *p,
                     size_t n, uint64_t ts_us)
{
    if (f->pdone || n == 0) return;
    if (!f->parser) {
        if (f->probe_over) return;
        const struct vk_parser *best = NULL;
        int bs = 0;
        uint8_t proto = f->v.ipproto == 136 ? 17 : f->v.ipproto;
        for (int i = 0; i < VK_PROTO_SLOTS; i++) {
            const struct vk_parser *cand = vk_proto_all[i];
            if (!cand || cand->ipproto != proto || !cand->probe) continue;
            int s = cand->probe(&f->v, dir, p, n);
            if (s > bs) {
                bs = s;
                best = cand;
            }
        }
        if (!best) {
            if (++f->probes >= 4) f->probe_over = true;
            return;
        }
        attach_parser(t, f, best, ts_us);
        if (!f->parser || f->pdone) return;
    }
    struct pctx_priv pp = {t, f};
    struct vk_pctx c = {.meta = &f->meta, .flow = &f->v, .now_us = ts_us, .expect = expect_cb,
                        .flow_priv = &pp, .reprobe_at = n};
    f->parser->data(f->pstate, &c, dir, p, n);
    if (c.done && c.reprobe) {
        /* The parser is finished with the session; what follows is another protocol. */
        if (f->parser->finish) f->parser->finish(f->pstate, &c);
        if (f->parser->release) f->parser->release(f->pstate);
        t->st.state_bytes -= f->parser->state_size;
        vk_flow_obj_put(t, f->pstate, f->parser->state_size);
        f->pstate = NULL;
        f->parser = NULL;
        f->probes = 0;
        f->probe_over = false;
        if (c.reprobe_at < n) vk_flow_deliver(t, f, dir, p + c.reprobe_at, n - c.reprobe_at, ts_us);
    } else if (c.done) {
        f->pdone = true;
    }
}

void vk_flow_gap(struct vk_flowtab *t, struct vk_flow *f, int dir, size_t n)
{
    (void)t;
    vk_flow_anomaly(f, "tcp.gap");
    if (!f->parser || f->pdone || !f->parser->gap) return;
    struct vk_pctx c = {.meta = &f->meta, .flow = &f->v, .now_us = f->last_us};
    f->parser->gap(f->pstate, &c, dir, n);
    if (c.done) f->pdone = true;
}

/* ---- packets ----------------------------------------------------------------------- */

static void make_id(struct vk_flow *f)
{
    /* Deterministic: the same session gets the same id whatever the thread count. */
    struct {
        struct vk_flow_view v;
        uint16_t vlan;
    } k;
    memset(&k, 0, sizeof k);
    k.v = f->v;
    k.vlan = f->vlan;
    uint64_t h = XXH3_64bits(&k, sizeof k);
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(h >> (56 - 8 * i));
    vk_hex(be, 8, f->id);
}

static void evict_oldest(struct vk_flowtab *t)
{
    struct vk_flow *old = NULL;
    for (int q = 0; q < Q__COUNT; q++) {
        if (dl_empty(&t->q[q])) continue;
        struct vk_flow *f = container_of(t->q[q].next, struct vk_flow, idle);
        if (!old || f->active_us < old->active_us) old = f;
    }
    if (old) {
        t->st.flows_evicted++;
        flow_close(t, old);
    }
}

/* Double the bucket array once sessions outnumber buckets (load factor 1), up to one
 * bucket per allowed session. O(sessions) per doubling, so O(1) amortised per session. */
static void grow_buckets(struct vk_flowtab *t)
{
    if (t->st.active <= t->nbuckets || t->nbuckets >= t->cfg.max_flows || t->nbuckets >= (1ull << 26))
        return;
    uint64_t nb = t->nbuckets * 2;
    struct vk_flow **b = calloc(nb, sizeof *b);
    if (!b) return; /* keep the smaller table: longer chains, still correct */
    for (uint64_t i = 0; i < t->nbuckets; i++) {
        struct vk_flow *f = t->buckets[i];
        while (f) {
            struct vk_flow *next = f->hnext;
            f->hnext = b[f->hash & (nb - 1)];
            b[f->hash & (nb - 1)] = f;
            f = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

static struct vk_flow *flow_create(struct vk_flowtab *t, const struct vk_pkt *pkt,
                                   const struct vk_decoded *d, uint64_t h, uint16_t vlan)
{
    if (t->st.active >= t->cfg.max_flows) evict_oldest(t);
    struct vk_flow *f = vk_flow_obj_get(t, sizeof *f);
    if (!f) return NULL;
    f->hash = h;
    f->vlan = vlan;
    f->v.family = d->family;
    f->v.ipproto = d->ipproto;
    /* The receiver of a first SYN-ACK is the initiator. */
    bool swap = d->ipproto == 6 && (d->tcp_flags & 0x12) == 0x12;
    size_t al = 16;
    memcpy(f->v.addr[swap], d->src, al);
    memcpy(f->v.addr[!swap], d->dst, al);
    f->v.port[swap] = d->sport;
    f->v.port[!swap] = d->dport;
    f->v.first_us = pkt->ts_us;
    f->last_us = pkt->ts_us;
    f->save_us = f->active_us = t->now_us;
    f->qclass = (uint8_t)qclass_of(d->ipproto);
    vk_meta_init(&f->meta);
    make_id(f);
    dl_init(&f->idle);
    dl_init(&f->save);
    dl_push_tail(&t->q[f->qclass], &f->idle);
    dl_push_tail(&t->saveq, &f->save);
    f->hnext = t->buckets[h & (t->nbuckets - 1)];
    t->buckets[h & (t->nbuckets - 1)] = f;
    t->st.active++;
    if (t->st.active > t->st.peak_active) t->st.peak_active = t->st.active;
    grow_buckets(t);
    t->st.state_bytes += sizeof *f;
    if (t->st.state_bytes > t->st.peak_state_bytes) t->st.peak_state_bytes = t->st.state_bytes;
    /* Facts of the encapsulation, taken from the first packet. */
    for (int i = 0; i < d->nvlan; i++) vk_meta_add_uint(&f->meta, VK_K_VLAN, d->vlan[i]);
    for (int i = 0; i < d->nmpls; i++) vk_meta_add_uint(&f->meta, VK_K_MPLS, d->mpls[i]);
    for (int i = 0; i < d->ntun; i++) {
        vk_meta_add_cstr(&f->meta, VK_K_TUNNEL, d->tun[i]);
        /* Arkime lists the encapsulations among the session's protocols. */
        const char *tn = d->tun[i];
        if (!strcmp(tn, "gre") || !strcmp(tn, "erspan") || !strcmp(tn, "pptp"))
            vk_meta_add_cstr(&f->meta, VK_K_SERVICE, "gre");
        if (!strcmp(tn, "pptp")) vk_meta_add_cstr(&f->meta, VK_K_SERVICE, "ppp");
        if (!strcmp(tn, "vxlan") || !strcmp(tn, "geneve") || !strcmp(tn, "gtp") || !strcmp(tn, "pppoe"))
            vk_meta_add_cstr(&f->meta, VK_K_SERVICE, tn);
    }
    const char *ipname = NULL;
    switch (d->ipproto) {
    case 2: ipname = "igmp"; break;
    case 50: case 51: ipname = "esp"; break;
    case 89: ipname = "ospf"; break;
    case 103: ipname = "pim"; break;
    case 132: ipname = "sctp"; break;
    case 1: case 4: case 6: case 17: case 41: case 47: case 58: case 136: break;
    default: ipname = "unknown-ip";
    }
    if (ipname) vk_meta_add_cstr(&f->meta, VK_K_SERVICE, ipname);
    if (d->ntun && d->tun_family) {
        vk_meta_add_ip(&f->meta, VK_K_TUNNEL_IP_SRC, d->tun_family, d->tun_src);
        vk_meta_add_ip(&f->meta, VK_K_TUNNEL_IP_DST, d->tun_family, d->tun_dst);
    }
    if (t->expects) match_expect(t, f, pkt->ts_us);
    return f;
}

static struct vk_flow *flow_find(struct vk_flowtab *t, const struct vk_decoded *d, uint64_t h,
                                 uint16_t vlan, int *dir)
{
    for (struct vk_flow *f = t->buckets[h & (t->nbuckets - 1)]; f; f = f->hnext) {
        if (f->hash != h || f->v.family != d->family || f->v.ipproto != d->ipproto ||
            f->vlan != vlan)
            continue;
        if (f->v.port[0] == d->sport && f->v.port[1] == d->dport &&
            memcmp(f->v.addr[0], d->src, 16) == 0 && memcmp(f->v.addr[1], d->dst, 16) == 0) {
            *dir = 0;
            return f;
        }
        if (f->v.port[1] == d->sport && f->v.port[0] == d->dport &&
            memcmp(f->v.addr[1], d->src, 16) == 0 && memcmp(f->v.addr[0], d->dst, 16) == 0) {
            *dir = 1;
            return f;
        }
    }
    return NULL;
}

/* Name of a non-IP session, as Arkime names them. */
static const char *ether_service(const struct vk_decoded *d)
{
    switch (d->ethertype) {
    case 0x0806: return "arp";
    case 0x8035: return "rarp";
    case 0x88cc: return "lldp";
    case 0x888e: return "eapol";
    case 0x8863: return "pppoe";
    }
    if (d->ethertype <= 1500) {
        if (d->llc_dsap == 0xfe) return "isis";
        if ((d->llc_ctl & 0xef) == 0xaf) return "xid";
        if (d->llc_dsap == 0x42) return "stp";
        return "corrupt-ether";
    }
    return "unknown-ether";
}

static void add_mac(struct vk_meta *m, enum vk_key k, const uint8_t *a)
{
    char s[18];
    mac_str(a, s);
    vk_meta_add_str(m, k, s, 17);
}

/* Write the packet to the archive and remember where, up to cfg.max_pos per record
 * (the array doubles; beyond the cap positions are counted, not kept). */
static void archive_pkt(struct vk_flowtab *t, struct vk_flow *f, const struct vk_pkt *pkt)
{
    uint64_t at = t->cfg.archive(t->cfg.archive_ud, t->cfg.worker, pkt);
    if (at == VK_POS_NONE) return;
    if (f->npos == f->cappos) {
        uint32_t nc = f->cappos ? f->cappos * 2 : 8;
        if (nc > t->cfg.max_pos) nc = t->cfg.max_pos;
        uint64_t *np = nc > f->cappos ? realloc(f->pos, nc * sizeof *np) : NULL;
        if (!np) {
            f->posdrop++;
            return;
        }
        t->st.state_bytes += (nc - f->cappos) * sizeof *np;
        f->pos = np;
        f->cappos = nc;
    }
    f->pos[f->npos++] = at;
}

/* Frames that carry no IP (ARP, LLDP, IS-IS, ...) become sessions keyed by their
 * type/length field and VLAN, all counted on the src side, as Arkime does. */
static void ether_packet(struct vk_flowtab *t, const struct vk_pkt *pkt, const struct vk_decoded *d)
{
    struct vk_decoded k;
    memset(&k, 0, sizeof k);
    const char *svc = ether_service(d);
    /* LLC protocols share one session per protocol; other 802.3 frames keep their length. */
    k.sport = d->ethertype <= 1500 && strcmp(svc, "corrupt-ether") != 0 ? 1500 : d->ethertype;
    k.nvlan = d->nvlan;
    memcpy(k.vlan, d->vlan, sizeof k.vlan);
    uint16_t vlan = d->nvlan ? d->vlan[0] : 0;
    uint64_t h = key_hash(0, 0, vlan, k.src, k.sport, k.dst, 0);
    int dir;
    struct vk_flow *f = flow_find(t, &k, h, vlan, &dir);
    if (!f) {
        f = flow_create(t, pkt, &k, h, vlan);
        if (!f) return;
        vk_meta_add_cstr(&f->meta, VK_K_SERVICE, svc);
    }
    f->pkts[0]++;
    f->bytes[0] += pkt->wirelen;
    if (t->cfg.archive) archive_pkt(t, f, pkt);
    if (pkt->ts_us > f->last_us) f->last_us = pkt->ts_us;
    f->active_us = t->now_us;
    add_mac(&f->meta, VK_K_ETH_SRC, d->eth_src);
    add_mac(&f->meta, VK_K_ETH_DST, d->eth_dst);
    dl_del(&f->idle);
    dl_push_tail(&t->q[f->qclass], &f->idle);
}

void vk_flow_packet(struct vk_flowtab *t, const struct vk_pkt *pkt, const struct vk_decoded *d)
{
    t->st.packets++;
    if (pkt->ts_us > t->now_us) t->now_us = pkt->ts_us;
    if (d->family == 0) {
        t->st.non_ip++;
        if (d->has_eth && d->ethertype && !d->frag_held) ether_packet(t, pkt, d);
        return;
    }
    if (d->frag_held) return; /* counted with its datagram once complete */
    uint16_t vlan = d->nvlan ? d->vlan[0] : 0;
    uint16_t sp = has_ports(d->ipproto) ? d->sport : 0, dp = has_ports(d->ipproto) ? d->dport : 0;
    struct vk_decoded dd;
    const struct vk_decoded *dk = d;
    if (sp != d->sport || dp != d->dport) {
        dd = *d;
        dd.sport = sp;
        dd.dport = dp;
        dk = &dd;
    }
    uint64_t h = key_hash(d->family, d->ipproto, vlan, d->src, sp, d->dst, dp);
    int dir = 0;
    struct vk_flow *f = flow_find(t, dk, h, vlan, &dir);
    bool syn_only = d->ipproto == 6 && (d->tcp_flags & 0x12) == 0x02;
    if (f && syn_only && f->qclass == Q_CLOSING) {
        /* A fresh SYN on a closed connection starts a new session (port reuse). */
        flow_close(t, f);
        f = NULL;
    }
    if (!f) {
        f = flow_create(t, pkt, dk, h, vlan);
        if (!f) return;
        /* The sender is the src side unless a first SYN-ACK swapped the ends. */
        dir = 0;
        if (d->ipproto == 6 && (d->tcp_flags & 0x12) == 0x12) dir = flow_find(t, dk, h, vlan, &dir) ? dir : 0;
    }
    f->pkts[dir]++;
    f->bytes[dir] += d->frame_bytes ? d->frame_bytes : pkt->wirelen;
    if (t->cfg.archive) archive_pkt(t, f, pkt);
    if (pkt->ts_us > f->last_us) f->last_us = pkt->ts_us;
    f->active_us = t->now_us;
    if (d->has_eth && !f->has_mac[dir]) {
        memcpy(f->mac[dir], d->eth_src, 6);
        f->has_mac[dir] = true;
        if (!f->has_mac[!dir] && memcmp(d->eth_dst, "\0\0\0\0\0\0", 6) != 0) {
            memcpy(f->mac[!dir], d->eth_dst, 6);
            f->has_mac[!dir] = true;
        }
    }
    if (d->anom)
        for (int i = 0; i < VK_ANOM__COUNT; i++)
            if (d->anom & (1u << i)) vk_flow_anomaly(f, vk_decode_anomaly_name(i));
    dl_del(&f->idle);
    dl_push_tail(&t->q[f->qclass], &f->idle);

    if (d->ipproto == 6) {
        note_flags(f, d->tcp_flags);
        vk_reasm_packet(t, f, dir, d, pkt->ts_us);
        if (f->qclass != Q_CLOSING &&
            ((f->td[0].fin && f->td[1].fin) || f->td[0].rst || f->td[1].rst)) {
            f->qclass = Q_CLOSING;
            dl_del(&f->idle);
            dl_push_tail(&t->q[Q_CLOSING], &f->idle);
        }
    } else {
        if (d->has_icmp) {
            if (!f->icmp_set) {
                f->icmp_set = true;
                f->icmp_type = d->icmp_type;
                f->icmp_code = d->icmp_code;
            }
            vk_meta_add_uint(&f->meta, VK_K_ICMP_TYPE, d->icmp_type);
            vk_meta_add_uint(&f->meta, VK_K_ICMP_CODE, d->icmp_code);
        }
        /* Payload as Arkime counts it: the whole ICMP message, ESP without its SPI and
         * sequence number, nothing for other IP protocols. */
        uint32_t pl = d->payload_len;
        if (d->ipproto == 1 || d->ipproto == 58) pl += d->has_icmp ? 4 : 0;
        else if (d->ipproto == 50) pl = pl > 8 ? pl - 8 : 0;
        else if (!has_ports(d->ipproto)) pl = 0;
        f->payload[dir] += pl;
        if (d->payload_len && (d->ipproto == 17 || d->ipproto == 136))
            vk_flow_deliver(t, f, dir, d->payload, d->payload_len, pkt->ts_us);
    }
    if (t->dpi_mod && f->dpi_pkts < t->cfg.dpi_packets) vk_dpi_packet(t, f, d, pkt->ts_us);
    size_t sb = t->st.state_bytes + t->reasm_bytes;
    if (sb > t->st.peak_state_bytes) t->st.peak_state_bytes = sb;
}

void vk_flow_clock(struct vk_flowtab *t, uint64_t now_us)
{
    if (now_us > t->now_us) t->now_us = now_us;
}

void vk_flow_advance(struct vk_flowtab *t, uint64_t now_us)
{
    if (now_us > t->now_us) t->now_us = now_us;
    for (int q = 0; q < Q__COUNT; q++) {
        uint64_t to = (uint64_t)timeout_of(t, q) * US;
        while (!dl_empty(&t->q[q])) {
            struct vk_flow *f = container_of(t->q[q].next, struct vk_flow, idle);
            if (f->active_us + to >= t->now_us) break;
            flow_close(t, f);
        }
    }
    if (t->cfg.save_timeout_s) {
        uint64_t to = (uint64_t)t->cfg.save_timeout_s * US;
        while (!dl_empty(&t->saveq)) {
            struct vk_flow *f = container_of(t->saveq.next, struct vk_flow, save);
            if (f->save_us + to > t->now_us) break;
            flow_interim(t, f, t->now_us);
        }
    }
    /* Expectations that were never met. */
    struct vk_flow_expect **pp = &t->expects;
    while (*pp) {
        if (!(*pp)->flow && (*pp)->until_us < t->now_us) {
            struct vk_flow_expect *e = *pp;
            *pp = e->next;
            free(e);
            t->nexpects--;
        } else {
            pp = &(*pp)->next;
        }
    }
}

void vk_flow_flush(struct vk_flowtab *t)
{
    /* Close in order of first packet across queues, so output order is stable. */
    for (;;) {
        struct vk_flow *best = NULL;
        for (int q = 0; q < Q__COUNT; q++) {
            if (dl_empty(&t->q[q])) continue;
            struct vk_flow *f = container_of(t->q[q].next, struct vk_flow, idle);
            if (!best || f->last_us < best->last_us) best = f;
        }
        if (!best) break;
        flow_close(t, best);
    }
}

void vk_flow_free(struct vk_flowtab *t)
{
    if (!t) return;
    vk_flow_flush(t);
    while (t->expects) {
        struct vk_flow_expect *e = t->expects;
        t->expects = e->next;
        free(e);
    }
    vk_dpi_cleanup(t);
    vk_meta_free(&t->rec);
    obj_cache_free(t);
    free(t->buckets);
    free(t);
}
