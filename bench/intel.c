/* intel.c — the threat-intel matcher measured: load time, lookups per second and memory
 * per indicator, side by side with a naive baseline in the same run; and the cost of
 * enrichment on the packet path.
 *
 *   intel match [N]            N mixed indicators (default 5,000,000): generate, parse, build;
 *                              then lookups from text on a realistic mix, one core: one at
 *                              a time (uniform and Zipf streams, then each kind alone), and
 *                              in batches of 16 through the two-step API (match_key_*)
 *   intel pcap FILE [DATADIR]  sessions of FILE formatted as JSON lines (discarded), without
 *                              and then with vk_enrich_apply against DATADIR's feeds
 *
 * The baseline is what one writes first: every indicator as "type:value" in a sorted array
 * of strings, looked up with bsearch (exact only: no CIDR, no parent domains). The indicator
 * mix and the lookup stream come from a fixed-seed generator, so runs are comparable. */
#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "enrich/enrich_int.h"
#include "flow/vk_flow.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* CPU time of this thread: the machine is shared, so rates are per CPU-second of one core. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char *const tlds[] = {"com", "net", "org", "ru", "cn", "info", "xyz", "top", "de", "io"};

static void rand_label(char *o, int min, int max)
{
    int n = min + (int)(rnd() % (uint64_t)(max - min + 1));
    for (int i = 0; i < n; i++) o[i] = (char)('a' + rnd() % 26);
    o[n] = 0;
}

static void rand_domain(char *o)
{
    char a[16], b[16];
    rand_label(a, 5, 12);
    if (rnd() % 3 == 0) {
        rand_label(b, 3, 8);
        sprintf(o, "%s.%s.%s", b, a, tlds[rnd() % 10]);
    } else {
        sprintf(o, "%s.%s", a, tlds[rnd() % 10]);
    }
}

static void rand_hex(char *o, int n)
{
    for (int i = 0; i < n; i++) o[i] = "0123456789abcdef"[rnd() % 16];
    o[n] = 0;
}

static void rand_ip4(char *o)
{
    uint32_t v = (uint32_t)rnd();
    sprintf(o, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

static void rand_ip6(char *o)
{
    sprintf(o, "2%03x:%x:%x:%x::%x", (unsigned)(rnd() % 0x400), (unsigned)(rnd() & 0xffff), (unsigned)(rnd() & 0xffff),
            (unsigned)(rnd() & 0xffff), (unsigned)(rnd() & 0xffff));
}

/* One indicator of the mix: 40% IPv4, 6% IPv4 CIDR, 4% IPv6, 30% domains, 10% URLs, 10% hashes. */
static void rand_indicator(char *o)
{
    unsigned r = (unsigned)(rnd() % 100);
    if (r < 40) rand_ip4(o);
    else if (r < 46) {
        rand_ip4(o);
        sprintf(o + strlen(o), "/%u", 20 + (unsigned)(rnd() % 11)); /* blocklist-sized: /20../30 */
    } else if (r < 50) rand_ip6(o);
    else if (r < 80) rand_domain(o);
    else if (r < 90) {
        char d[64], p[32];
        rand_domain(d);
        rand_label(p, 4, 12);
        sprintf(o, "http://%s/%s.php?id=%u", d, p, (unsigned)(rnd() % 1000));
    } else rand_hex(o, rnd() % 2 ? 32 : 64);
}

/* ---- naive baseline: sorted "type:value" strings, bsearch ------------------------------- */
static int cmp_pstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct naive {
    char **v;
    size_t n;
    size_t bytes;
};

static void naive_build(struct naive *nv, const struct feedset *f)
{
    nv->v = malloc(f->n * sizeof *nv->v);
    nv->n = f->n;
    nv->bytes = f->n * sizeof *nv->v;
    for (uint32_t i = 0; i < f->n; i++) {
        const char *s = fs_s(f, f->ind[i].val);
        const char *t = ioc_type_name((enum ioc_type)f->ind[i].type);
        size_t l = strlen(t) + 1 + strlen(s) + 1;
        nv->v[i] = malloc(l);
        snprintf(nv->v[i], l, "%s:%s", t, s);
        nv->bytes += l;
    }
    qsort(nv->v, nv->n, sizeof *nv->v, cmp_pstr);
}

static bool naive_has(const struct naive *nv, const char *key)
{
    return bsearch(&key, nv->v, nv->n, sizeof *nv->v, cmp_pstr) != NULL;
}

/* ---- lookups from text, as vk_enrich_apply does them ------------------------------------------ */
enum { Q_IP4, Q_IP6, Q_DOM, Q_URL, Q_HASH };
struct q {
    uint8_t kind, n; /* n: the value's length, as a record's meta item carries it */
    char s[94];
};

/* The stream as the lookups read it: per value its kind, its length and its bytes, packed
 * one after the other (about 20 bytes a value), as values sit in a record's meta buffer.
 * An array of fixed 96-byte slots would stream 96 MB per million lookups through the
 * cache and evict the matcher's hot lines: the bench would measure its own traffic. */
struct stream {
    uint8_t *p;
    size_t len;
};
#define FOR_Q(st, q) for (const uint8_t *q = (st)->p, *q##_end = q + (st)->len; q < q##_end; q += 2 + q[1])
#define Q_KIND(q) ((q)[0])
#define Q_LEN(q) ((size_t)(q)[1])
#define Q_STR(q) ((const char *)(q) + 2)

static void pack(struct stream *st, const struct q *qs, size_t n)
{
    st->p = malloc(n * (2 + sizeof qs->s));
    st->len = 0;
    for (size_t i = 0; i < n; i++) {
        st->p[st->len] = qs[i].kind;
        st->p[st->len + 1] = qs[i].n;
        memcpy(st->p + st->len + 2, qs[i].s, qs[i].n);
        st->len += 2 + qs[i].n;
    }
}

static unsigned lookup(const struct matcher *m, const uint8_t *q, uint32_t *ids)
{
    size_t n = Q_LEN(q);
    const char *s = Q_STR(q);
    switch (Q_KIND(q)) {
    case Q_IP4: {
        uint32_t ip;
        return ioc_ip4(s, n, &ip) ? match_ip4(m, ip, ids, 64) : 0;
    }
    case Q_IP6: {
        struct ipnet net;
        return ioc_parse_ip(s, n, &net) ? match_ip6(m, net.a, ids, 64) : 0;
    }
    case Q_DOM: {
        char d[128];
        size_t dl = ioc_norm_domain(s, n, d, sizeof d);
        return dl ? match_domain(m, d, dl, ids, 64) : 0;
    }
    case Q_URL: {
        char u[256];
        size_t po, ul = ioc_norm_url(s, n, u, sizeof u, &po);
        return ul ? match_str(m, IOC_URL, u, ul, ids, 64) : 0;
    }
    default:
        return match_str(m, n == 32 ? IOC_MD5 : IOC_SHA256, s, n, ids, 64);
    }
}

/* The same lookups as lookup(), in two steps (match_key_*): parse and prepare a batch, then
 * run it, so that the memory reads of a batch overlap. */
struct qb {
    struct match_key k;
    char buf[256]; /* the normalised value the key points at */
};

static void prep(const struct matcher *m, const uint8_t *q, struct qb *b)
{
    size_t n = Q_LEN(q);
    const char *s = Q_STR(q);
    b->k.kind = MK_NONE;
    switch (Q_KIND(q)) {
    case Q_IP4: {
        uint32_t ip;
        if (ioc_ip4(s, n, &ip)) match_key_ip4(m, &b->k, ip);
        break;
    }
    case Q_IP6: {
        struct ipnet net;
        if (ioc_parse_ip(s, n, &net)) match_key_ip6(m, &b->k, net.a);
        break;
    }
    case Q_DOM: {
        size_t dl = ioc_norm_domain(s, n, b->buf, sizeof b->buf);
        if (dl) match_key_domain(m, &b->k, b->buf, dl);
        break;
    }
    case Q_URL: {
        size_t po, ul = ioc_norm_url(s, n, b->buf, sizeof b->buf, &po);
        if (ul) match_key_str(m, &b->k, IOC_URL, b->buf, ul);
        break;
    }
    default:
        match_key_str(m, &b->k, n == 32 ? IOC_MD5 : IOC_SHA256, s, n);
    }
}

#define BATCH 16
#define STR(x) #x
#define XSTR(x) STR(x)
#define REPS 5

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static unsigned long batched(const struct matcher *m, const struct stream *st)
{
    static struct qb b[BATCH];
    uint32_t ids[64];
    unsigned long hits = 0;
    size_t k = 0;
    FOR_Q(st, q) {
        prep(m, q, &b[k++]);
        if (k == BATCH || q + 2 + q[1] == q_end) {
            for (size_t j = 0; j < k; j++) hits += match_key_run(m, &b[j].k, ids, 64) > 0;
            k = 0;
        }
    }
    return hits;
}

static bool naive_lookup(const struct naive *nv, const struct q *q)
{
    char k[160];
    static const char *const tn[] = {"ip", "ip", "domain", "url", "md5"};
    const char *t = q->kind == Q_HASH && strlen(q->s) == 64 ? "sha256" : tn[q->kind];
    if (q->kind == Q_URL) { /* record values are "host/path": same form as stored URLs */
        snprintf(k, sizeof k, "url:%s", q->s);
    } else {
        snprintf(k, sizeof k, "%s:%s", t, q->s);
    }
    return naive_has(nv, k);
}

/* The lookup stream: 55% IPv4, 5% IPv6, 30% host names, 5% URLs, 5% hashes; 2% of the
 * values are indicators (or sub-domains of one), the rest random. */
static void make_queries(struct q *qs, size_t n, const struct feedset *f)
{
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)(rnd() % 100);
        bool hit = rnd() % 50 == 0;
        struct q *q = &qs[i];
        q->kind = r < 55 ? Q_IP4 : r < 60 ? Q_IP6 : r < 90 ? Q_DOM : r < 95 ? Q_URL : Q_HASH;
        if (hit) {
            enum ioc_type want = q->kind == Q_IP4 || q->kind == Q_IP6 ? IOC_IP : q->kind == Q_DOM ? IOC_DOMAIN
                                 : q->kind == Q_URL ? IOC_URL : IOC_MD5;
            for (int tries = 0; tries < 64; tries++) {
                const struct fs_ind *d = &f->ind[rnd() % f->n];
                const char *v = fs_s(f, d->val);
                if (d->type == want && !strchr(v, '/') && !(want == IOC_IP && !strchr(v, '.') && q->kind == Q_IP4)) {
                    if (want == IOC_DOMAIN && rnd() % 2) snprintf(q->s, sizeof q->s, "www.%s", v);
                    else snprintf(q->s, sizeof q->s, "%s", v);
                    if (want == IOC_IP) q->kind = strchr(v, ':') ? Q_IP6 : Q_IP4;
                    goto next;
                }
                if (d->type == want && want == IOC_URL) {
                    snprintf(q->s, sizeof q->s, "%s", v);
                    goto next;
                }
            }
        }
        switch (q->kind) {
        case Q_IP4: rand_ip4(q->s); break;
        case Q_IP6: rand_ip6(q->s); break;
        case Q_DOM: {
            char d[64];
            rand_domain(d);
            snprintf(q->s, sizeof q->s, "www.%s", d);
            break;
        }
        case Q_URL: {
            char d[64];
            rand_domain(d);
            snprintf(q->s, sizeof q->s, "%s/index.html", d);
            break;
        }
        default: rand_hex(q->s, rnd() % 2 ? 32 : 64);
        }
    next:
        q->n = (uint8_t)strlen(q->s);
    }
}

static int bench_match(size_t n)
{
    char path[] = "/tmp/vakt-bench-intel-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    char buf[256];
    for (size_t i = 0; i < n; i++) {
        rand_indicator(buf);
        fputs(buf, fp);
        fputc('\n', fp);
    }
    fclose(fp);
    long rss0 = rss_kb();
    double t0 = cpu_s();
    char err[512];
    struct feed_opts o = {.name = "bench", .fmt = VK_ENRICH_LIST, .confidence = -1};
    struct feedset *f = feed_parse_path(path, &o, err, sizeof err);
    if (!f) {
        fprintf(stderr, "intel: %s\n", err);
        return 1;
    }
    double t1 = cpu_s();
    struct feedset *fs[] = {f};
    struct matcher *m = matcher_build(fs, 1, err, sizeof err);
    double t2 = cpu_s();
    long rss1 = rss_kb();
    /* the cache round trip: what an ingest does at start */
    char cpath[64];
    snprintf(cpath, sizeof cpath, "%s.cache", path);
    feed_cache_save(f, cpath, err, sizeof err);
    double t3 = cpu_s();
    struct feedset *g = feed_cache_load(cpath, "bench", false, err, sizeof err);
    double t4 = cpu_s();
    fs_unref(g);
    unlink(cpath);
    unlink(path);
    size_t fbytes = f->pcap + (size_t)f->cap * sizeof(struct fs_ind) + (size_t)f->metacap * sizeof(struct fs_meta);
    size_t mbytes = matcher_bytes(m);
    struct naive nv;
    double t5 = cpu_s();
    naive_build(&nv, f);
    double t6 = cpu_s();

    size_t nq = 1000000;
    struct q *qs = malloc(nq * sizeof *qs);
    make_queries(qs, nq, f);
    uint32_t ids[64];
    /* uniform over 1M distinct values (cold caches: every lookup a DRAM miss or more), and
     * a Zipf stream over them (a few hosts get most sessions, as on a real link); each one
     * by itself and in batches. The four are timed REPS times, interleaved, so that a busy
     * spell of the machine's other tenants does not fall on one of them only. */
    size_t rounds = 10;
    unsigned long hits = 0, nhits = 0;
    size_t *skew = malloc(nq * sizeof *skew);
    for (size_t i = 0; i < nq; i++) { /* Zipf (s = 1): value of rank r with odds 1/r */
        double u = (double)(rnd() % 1000000) / 1e6;
        size_t r = (size_t)exp(u * log((double)nq));
        skew[i] = r ? r - 1 : 0;
    }
    /* the Zipf stream is laid out in order like the uniform one, so both read their
     * queries sequentially and only the matcher's memory differs */
    struct q *qz = malloc(nq * sizeof *qz);
    for (size_t i = 0; i < nq; i++) qz[i] = qs[skew[i]];
    struct stream su, sz;
    pack(&su, qs, nq);
    pack(&sz, qz, nq);
    free(qz);
    enum { S_UNI, S_ZIPF, S_BUNI, S_BZIPF, NS };
    double rate[NS][REPS];
    unsigned long shits[NS] = {0};
    for (int rep = 0; rep < REPS; rep++)
        for (int k = 0; k < NS; k++) {
            const struct stream *str = (k == S_UNI || k == S_BUNI) ? &su : &sz;
            unsigned long h = 0;
            double t0 = cpu_s();
            for (size_t r = 0; r < rounds; r++) {
                if (k >= S_BUNI) h += batched(m, str);
                else
                    FOR_Q(str, q) h += lookup(m, q, ids) > 0;
            }
            rate[k][rep] = rounds * nq / (cpu_s() - t0) / 1e6;
            shits[k] = h;
        }
    hits = shits[S_UNI];
    if (shits[S_BUNI] != hits || shits[S_BZIPF] != shits[S_ZIPF])
        printf("(batched hits differ from single lookups: %lu/%lu, %lu/%lu)\n", shits[S_BUNI], hits,
               shits[S_BZIPF], shits[S_ZIPF]);
    for (int k = 0; k < NS; k++) qsort(rate[k], REPS, sizeof rate[k][0], cmp_dbl);
    /* the same uniform stream, one kind at a time (no mispredicted switch between kinds) */
    static const char *const kname[] = {"IPv4", "IPv6", "host names", "URLs", "hashes"};
    double krate[5];
    unsigned long khits = 0;
    struct q *qk = malloc(nq * sizeof *qk);
    for (int kind = 0; kind < 5; kind++) {
        size_t nk = 0;
        for (size_t i = 0; i < nq; i++)
            if (qs[i].kind == kind) qk[nk++] = qs[i];
        struct stream sk;
        pack(&sk, qk, nk);
        double k0 = cpu_s();
        for (size_t r = 0; r < rounds; r++) FOR_Q(&sk, q) khits += lookup(m, q, ids) > 0;
        krate[kind] = rounds * nk / (cpu_s() - k0) / 1e6;
        free(sk.p);
    }
    free(qk);
    if (khits != hits) printf("(by kind: %lu hits, uniform %lu: they should agree)\n", khits, hits);
    double c0 = cpu_s();
    for (size_t i = 0; i < nq; i++) nhits += naive_lookup(&nv, &qs[i]);
    double c1 = cpu_s();

    printf("indicators            %zu (parsed %u, %llu skipped)\n", n, f->n, (unsigned long long)f->skipped);
    printf("load: parse           %.2f s\n", t1 - t0);
    printf("load: build matcher   %.2f s\n", t2 - t1);
    printf("load: total           %.2f s   (RSS +%.0f MiB)\n", t2 - t0, (rss1 - rss0) / 1024.0);
    printf("cache: save / load    %.2f s / %.2f s\n", t3 - t2, t4 - t3);
    printf("memory: feed          %.1f bytes/indicator (values, types, meta)\n", (double)fbytes / f->n);
    printf("memory: matcher       %.1f bytes/indicator (hash tables, filters, prefix index, hit lists)\n",
           (double)mbytes / f->n);
    printf("memory: vakt total    %.1f bytes/indicator\n", (double)(fbytes + mbytes) / f->n);
    printf("memory: naive         %.1f bytes/indicator (sorted \"type:value\" strings + pointers; %.2f s to build)\n",
           (double)nv.bytes / f->n, t6 - t5);
    static const char *const sname[] = {"uniform", "zipf", "batched uniform", "batched zipf"};
    static const char *const sdesc[] = {"1M distinct values, uniform", "Zipf s=1 over the same values",
                                        "the uniform stream, batches of " XSTR(BATCH), "the Zipf stream, batches of " XSTR(BATCH)};
    for (int k = 0; k < NS; k++)
        printf("lookups: %-16s median %5.1f, best %5.1f M/s  (%s; %.2f%% hit; %d runs of %zu M)\n", sname[k],
               rate[k][REPS / 2], rate[k][REPS - 1], sdesc[k], 100.0 * shits[k] / (rounds * nq), REPS, rounds);
    printf("lookups: by kind      IPv4 %.1f, IPv6 %.1f, host names %.1f, URLs %.1f, hashes %.1f M/s (uniform, one kind at a time)\n",
           krate[0], krate[1], krate[2], krate[3], krate[4]);
    (void)kname;
    printf("lookups: naive        %.1f M/s  (exact only: %.2f%% hit; no CIDR, no parent domains)\n",
           nq / (c1 - c0) / 1e6, 100.0 * nhits / nq);
    printf("lookup mix            55%% IPv4, 5%% IPv6, 30%% host names (parent walk), 5%% URLs, 5%% hashes\n");
    free(su.p);
    free(sz.p);
    return 0;
}

/* ---- the packet path, with and without enrichment ------------------------------------------------ */
struct pc {
    struct vk_enrich *e;
    struct vk_json j;
    uint64_t recs, bytes, hits;
};

static void on_rec(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos)
{
    (void)pos;
    struct pc *p = ud;
    if (p->e) {
        vk_enrich_apply(p->e, m);
        p->hits += vk_meta_has(m, VK_K_THREAT_SOURCE);
    }
    p->j.len = 0;
    p->j.need_comma = false;
    vk_json_meta(&p->j, m);
    p->recs++;
    p->bytes += p->j.len;
}

static double run_pcap(const char *file, struct vk_enrich *e, struct pc *p)
{
    struct vk_capture *cap;
    char *paths[1] = {(char *)file};
    if (vk_capture_open_files(&cap, paths, 1, NULL)) return -1;
    memset(p, 0, sizeof *p);
    p->e = e;
    vk_json_init(&p->j);
    struct vk_pipe_opts po = {0};
    vk_flow_config_default(&po.flow);
    po.emit = on_rec;
    po.emit_ud = p;
    struct vk_pipe_stats st;
    double t0 = cpu_s();
    vk_pipe_run(cap, &po, &st);
    double t1 = cpu_s();
    vk_capture_close(cap);
    vk_json_free(&p->j);
    return t1 - t0;
}

static int bench_pcap(const char *file, const char *dd)
{
    char err[1024];
    double t0 = cpu_s();
    struct vk_enrich *e = vk_enrich_open(dd, err, sizeof err);
    double t1 = cpu_s();
    if (!e) {
        fprintf(stderr, "intel: %s\n", err);
        return 1;
    }
    struct vk_enrich_stats es;
    vk_enrich_get_stats(e, &es);
    struct pc a, b;
    double best_off = 1e9, best_on = 1e9;
    for (int r = 0; r < 3; r++) { /* interleaved, best of 3 */
        double x = run_pcap(file, NULL, &a);
        double y = run_pcap(file, e, &b);
        if (x < best_off) best_off = x;
        if (y < best_on) best_on = y;
    }
    printf("enrich data           %llu feeds, %llu indicators, %llu assets, geo %s, %llu ASN ranges (open %.2f s)\n",
           (unsigned long long)es.feeds, (unsigned long long)es.indicators, (unsigned long long)es.assets,
           es.geo ? "yes" : "no", (unsigned long long)es.asn_ranges, t1 - t0);
    printf("sessions              %llu (%llu with a threat match)\n", (unsigned long long)b.recs,
           (unsigned long long)b.hits);
    printf("without enrichment    %.3f s\n", best_off);
    printf("with enrichment       %.3f s\n", best_on);
    printf("enrichment cost       %.1f%% of packet-path time (%.2f us per session)\n",
           100.0 * (best_on - best_off) / best_off, 1e6 * (best_on - best_off) / (double)(b.recs ? b.recs : 1));
    vk_enrich_close(e);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "match")) return bench_match(argc > 2 ? strtoul(argv[2], NULL, 10) : 5000000);
    if (argc >= 3 && !strcmp(argv[1], "pcap")) return bench_pcap(argv[2], argc > 3 ? argv[3] : "./vakt-data");
    fprintf(stderr, "usage: intel match [N] | intel pcap FILE [DATADIR]\n");
    return 2;
}
