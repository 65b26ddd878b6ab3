/* drain.c — the online template miner that gives unknown lines a `log.template`.
 *
 * A Drain-style miner (He et al., ICWS 2017): a message is split into tokens; obvious
 * variables are masked first (anything with a digit, host names, paths, URLs, e-mail
 * addresses; "key=value" keeps its key; a unit after a number joins the number; runs of
 * variables collapse into one), so that "2854 bytes (2.78 KB) received" and "404 bytes
 * received" have the same shape. Clusters are keyed by token count and the first tokens
 * (the prefix tree of Drain, as a hash table); a message joins the most similar cluster of
 * its key when the share of equal positions reaches the threshold, and positions that
 * differ become <*>. Otherwise it starts a new cluster.
 *
 * Memory is bounded: at most max_clusters clusters; when full, an old, rarely used one is
 * evicted (counted). Cost per message: O(tokens) to tokenise and hash, plus O(tokens) per
 * cluster of the same key. Allocates only when a cluster is created or its template
 * text grows. */
#include <ctype.h>
#include <stdlib.h>

#include "logs/logs_int.h"

#define DR_MAX_TOK 96
#define DR_PREFIX 2 /* tokens after the length that key a cluster (Drain's depth - 2) */
/* A message joins a cluster when more than 9 in 10 positions are equal. Drain's usual
 * 0.4-0.7 merges too eagerly once the masking above has done its work: "Starting X
 * initialization" and "Starting X finalization" are two events, not one. */
#define DR_SIM_NUM 9
#define DR_SIM_DEN 10
#define VARH 0x9e3779b97f4a7c15ULL

struct dtok {
    uint64_t h;
    const char *p;
    uint32_t n;
    bool var;
};

struct cluster {
    uint64_t key;
    uint64_t last, count;
    uint32_t next, gen;
    uint16_t ntok;
    bool live, dirty;
    uint64_t *h;   /* ntok token hashes, VARH for <*> */
    uint32_t *off; /* token text offsets into str */
    uint16_t *len;
    char *str;
    char *text;
    size_t textlen, textcap;
};

struct ldrain {
    struct cluster *c;
    uint32_t nc, cap, max, nlive;
    uint32_t *heads;
    uint32_t nheads; /* power of two */
    uint32_t *freelist, nfree;
    uint64_t seq, evicted, rng;
    /* per call */
    struct dtok tok[DR_MAX_TOK];
    char scratch[4 * DR_MAX_TOK + VK_LOGS_MAX_LINE];
};

#define NIL UINT32_MAX
#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

struct ldrain *ldrain_new(uint32_t max_clusters)
{
    struct ldrain *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    if (max_clusters == 0 || max_clusters > SLOT_MASK) max_clusters = 1u << 16;
    d->max = max_clusters;
    d->nheads = 4096;
    d->heads = malloc(d->nheads * sizeof *d->heads);
    if (!d->heads) {
        free(d);
        return NULL;
    }
    for (uint32_t i = 0; i < d->nheads; i++) d->heads[i] = NIL;
    d->rng = 0x2545f4914f6cdd1dULL;
    return d;
}

static void cluster_free(struct cluster *c)
{
    free(c->h); /* h, off, len and str share one block */
    free(c->text);
    c->h = NULL;
    c->text = NULL;
    c->textcap = 0;
    c->live = false;
}

void ldrain_free(struct ldrain *d)
{
    if (!d) return;
    for (uint32_t i = 0; i < d->nc; i++)
        if (d->c[i].h || d->c[i].text) cluster_free(&d->c[i]);
    free(d->c);
    free(d->heads);
    free(d->freelist);
    free(d);
}

void ldrain_stats(const struct ldrain *d, uint64_t *clusters, uint64_t *evicted)
{
    *clusters = d ? d->nlive : 0;
    *evicted = d ? d->evicted : 0;
}

static inline uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return h;
}

static bool is_unit(const char *p, size_t n)
{
    static const char *const u[] = {"b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "bytes", "byte",
                                    "ms", "us", "ns", "s", "sec", "secs", "second", "seconds", "min", "mins",
                                    "minutes", "h", "hours", "kbps", "mbps", NULL};
    while (n && (*p == '(' || *p == '[')) p++, n--;
    while (n && (p[n - 1] == ')' || p[n - 1] == ']' || p[n - 1] == ',' || p[n - 1] == ';' || p[n - 1] == '.')) n--;
    if (!n || n > 7) return false;
    char c0 = L_LOWER(p[0]);
    if (!strchr("bkmgtunsh", c0)) return false;
    for (int i = 0; u[i]; i++)
        if (u[i][0] == c0 && strlen(u[i]) == n && strncasecmp(p, u[i], n) == 0) return true;
    return false;
}

/* Is a digit-free token still obviously a variable? Host names (two dots or more), URLs,
 * e-mail addresses, absolute paths with two or more components. */
static bool var_shape(const char *p, size_t n)
{
    size_t dots = 0, slashes = 0, alnum = 0;
    bool at = false, colon = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '.') dots++;
        else if (c == '/') slashes++;
        else if (c == '@') at = true;
        else if (c == ':') colon = true;
        else if (L_ALNUM(c)) alnum++;
    }
    if (!alnum || (!dots && !slashes && !at)) return false;
    if (colon && slashes >= 2 && n > 3 && memmem(p, n, "://", 3)) return true;
    if (at && dots) return true;
    if (dots >= 2 && !slashes) {
        /* a.b.c but not a sentence end "...": need alnum on both sides of each dot */
        for (size_t i = 1; i + 1 < n; i++)
            if (p[i] == '.' && (!L_ALNUM(p[i - 1]) || !L_ALNUM(p[i + 1]))) return false;
        return true;
    }
    if (slashes >= 2 && (p[0] == '/' || (n > 1 && p[0] == '\'' && p[1] == '/'))) return true;
    return false;
}

/* "key=value" whose value has a '.', '/', '@' or ':' (a host, a path, an address): the
 * value is a variable even without a digit ("rhost=example.com"). */
static bool kv_shape(const char *p, size_t n)
{
    const char *q = memchr(p, '=', n);
    if (!q || q == p || (size_t)(q - p) + 1 >= n) return false;
    for (const char *c = q + 1; c < p + n; c++)
        if (lclass[(uint8_t)*c] & LC_SHAPE) return true;
    return false;
}

/* Month and day names: the words of a date. */
static bool date_word(const char *p, size_t n)
{
    static const char *const w[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                    "Dec", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", NULL};
    while (n && (p[n - 1] == ',' || p[n - 1] == '.')) n--;
    if (n != 3) return false;
    for (int i = 0; w[i]; i++)
        if (memcmp(p, w[i], 3) == 0) return true;
    return false;
}

/* Punctuation only ("()", "[]", "''", "-"): an empty value. */
static bool empty_value(const char *p, size_t n)
{
    if (n < 2) return false;
    for (size_t i = 0; i < n; i++)
        if (!(lclass[(uint8_t)p[i]] & LC_BRACKET)) return false;
    return true;
}

/* Words after which a name is a value: "user root", "for admin", "for invalid user x".
 * 2: always; 1: unless the next word is itself one of these or "invalid"/"illegal". */
static int names_next(const char *p, size_t n)
{
    if ((n != 3 && n != 4 && n != 5 && n != 8) || (p[0] != 'u' && p[0] != 'U' && p[0] != 'f')) return 0;
    if ((n == 4 && strncasecmp(p, "user", 4) == 0) || (n == 8 && strncasecmp(p, "username", 8) == 0) ||
        (n == 5 && strncasecmp(p, "user:", 5) == 0))
        return 2;
    return n == 3 && memcmp(p, "for", 3) == 0;
}

static bool name_word(const char *p, size_t n)
{
    return names_next(p, n) == 2 || (n == 7 && (memcmp(p, "invalid", 7) == 0 || memcmp(p, "illegal", 7) == 0));
}

/* Split and mask. Returns the token count; token texts may point into d->scratch. */
static uint32_t tokenize(struct ldrain *d, const char *s, size_t n)
{
    uint32_t nt = 0;
    size_t sc = 0, prevn = 0;
    const char *prev = NULL;
    const char *e = s + n;
    while (s < e) {
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) s++;
        if (s >= e) break;
        /* one pass over the token: its end, whether it has a digit, and its hash */
        const char *b = s;
        unsigned cls = 0;
        uint64_t h = 1469598103934665603ULL;
        while (s < e) {
            unsigned k = lclass[(uint8_t)*s];
            if (k & LC_SPACE) break;
            cls |= k;
            h = (h ^ (uint8_t)*s) * 1099511628211ULL;
            s++;
        }
        size_t tn = (size_t)(s - b);
        bool digit = cls & LC_DIGIT;
        struct dtok t = {.p = b, .n = (uint32_t)tn};
        int nn = prev ? names_next(prev, prevn) : 0;
        bool after_user = nn == 2 || (nn == 1 && !name_word(b, tn));
        prev = after_user ? NULL : b; /* the name itself names nothing after it */
        prevn = tn;
        if (!digit && (((cls & LC_BRACKET) && empty_value(b, tn)) || (tn <= 4 && date_word(b, tn)) || after_user)) {
            t.var = true;
        } else if (digit || ((cls & LC_SHAPE) && (var_shape(b, tn) || kv_shape(b, tn)))) {
            /* "key=value": keep the key when it has no digit */
            const char *q = memchr(b, '=', tn);
            bool keyok = q && q > b && q - b < 64;
            for (const char *r = b; keyok && r < q; r++)
                if (L_DIGIT(*r)) keyok = false;
            if (keyok && sc + (size_t)(q - b) + 4 < sizeof d->scratch) {
                size_t kn = (size_t)(q - b) + 1;
                memcpy(d->scratch + sc, b, kn);
                memcpy(d->scratch + sc + kn, "<*>", 3);
                t.p = d->scratch + sc;
                t.n = (uint32_t)(kn + 3);
                sc += kn + 3;
            } else {
                t.var = true;
            }
        } else if (nt && d->tok[nt - 1].var && is_unit(b, tn)) {
            continue; /* "2.78 KB": the unit belongs to the number */
        }
        if (t.var) {
            if (nt && d->tok[nt - 1].var) continue; /* runs of variables are one */
            t.p = "<*>";
            t.n = 3;
            t.h = VARH;
        } else {
            t.h = t.p == b ? h : fnv(t.p, t.n);
        }
        if (nt == DR_MAX_TOK) {
            /* too long: the rest becomes one variable */
            if (!d->tok[nt - 1].var) d->tok[nt - 1] = (struct dtok){VARH, "<*>", 3, true};
            break;
        }
        d->tok[nt++] = t;
    }
    return nt;
}

static uint64_t key_of(const struct dtok *t, uint32_t nt)
{
    uint64_t k = 0xcbf29ce484222325ULL ^ nt;
    for (uint32_t i = 0; i < DR_PREFIX && i < nt; i++) k = (k ^ t[i].h) * 0x100000001b3ULL + i;
    return k;
}

static void rebuild_text(struct cluster *c)
{
    size_t need = 1;
    for (uint16_t i = 0; i < c->ntok; i++) need += (c->h[i] == VARH ? 3 : c->len[i]) + 1;
    if (need > c->textcap) {
        char *p = realloc(c->text, need);
        if (!p) return;
        c->text = p;
        c->textcap = need;
    }
    char *o = c->text;
    for (uint16_t i = 0; i < c->ntok; i++) {
        if (i) *o++ = ' ';
        if (c->h[i] == VARH) memcpy(o, "<*>", 3), o += 3;
        else memcpy(o, c->str + c->off[i], c->len[i]), o += c->len[i];
    }
    *o = 0;
    c->textlen = (size_t)(o - c->text);
    c->dirty = false;
}

static void unlink_cluster(struct ldrain *d, uint32_t slot)
{
    struct cluster *c = &d->c[slot];
    uint32_t *pp = &d->heads[c->key & (d->nheads - 1)];
    while (*pp != NIL && *pp != slot) pp = &d->c[*pp].next;
    if (*pp == slot) *pp = c->next;
}

static void grow_heads(struct ldrain *d)
{
    uint32_t nh = d->nheads * 2;
    uint32_t *h = malloc(nh * sizeof *h);
    if (!h) return;
    for (uint32_t i = 0; i < nh; i++) h[i] = NIL;
    for (uint32_t i = 0; i < d->nc; i++) {
        struct cluster *c = &d->c[i];
        if (!c->live) continue;
        uint32_t b = c->key & (nh - 1);
        c->next = h[b];
        h[b] = i;
    }
    free(d->heads);
    d->heads = h;
    d->nheads = nh;
}

static uint32_t new_slot(struct ldrain *d)
{
    if (d->nlive >= d->max) {
        /* evict: the least recently used of a few random live clusters */
        uint32_t victim = NIL;
        uint64_t best = UINT64_MAX;
        for (int i = 0; i < 16; i++) {
            d->rng ^= d->rng << 13, d->rng ^= d->rng >> 7, d->rng ^= d->rng << 17;
            uint32_t s = (uint32_t)(d->rng % d->nc);
            if (d->c[s].live && d->c[s].last < best) best = d->c[s].last, victim = s;
        }
        if (victim == NIL) return NIL;
        unlink_cluster(d, victim);
        cluster_free(&d->c[victim]);
        d->c[victim].gen++;
        d->nlive--;
        d->evicted++;
        return victim;
    }
    if (d->nfree) return d->freelist[--d->nfree];
    if (d->nc == d->cap) {
        uint32_t nc = d->cap ? d->cap * 2 : 256;
        struct cluster *c = realloc(d->c, nc * sizeof *c);
        if (!c) return NIL;
        d->c = c;
        d->cap = nc;
    }
    memset(&d->c[d->nc], 0, sizeof d->c[0]);
    return d->nc++;
}

static inline uint32_t make_id(const struct ldrain *d, uint32_t slot)
{
    return (d->c[slot].gen & 0xfffu) << SLOT_BITS | slot;
}

uint32_t ldrain_add(struct ldrain *d, const char *msg, size_t n)
{
    uint32_t nt = tokenize(d, msg, n);
    uint64_t key = key_of(d->tok, nt);
    uint32_t best = NIL;
    uint32_t best_eq = 0;
    d->seq++;
    /* A cluster can only be joined with at most this many differing positions: stop
     * comparing one as soon as it has more (most candidates fail within a few tokens). */
    uint32_t maxdiff = nt - (uint32_t)(((uint64_t)DR_SIM_NUM * nt + DR_SIM_DEN - 1) / DR_SIM_DEN);
    for (uint32_t s = d->heads[key & (d->nheads - 1)]; s != NIL; s = d->c[s].next) {
        struct cluster *c = &d->c[s];
        if (c->key != key || c->ntok != nt) continue;
        uint32_t diff = 0, i = 0;
        for (; i < nt; i++)
            if (c->h[i] != d->tok[i].h && ++diff > maxdiff) break;
        if (i < nt) continue;
        if (best == NIL || nt - diff > best_eq) best = s, best_eq = nt - diff;
        if (!diff) break; /* an exact match cannot be beaten */
    }
    if (best != NIL) {
        struct cluster *c = &d->c[best];
        for (uint32_t i = 0; i < nt; i++)
            if (c->h[i] != d->tok[i].h && c->h[i] != VARH) c->h[i] = VARH, c->dirty = true;
        c->last = d->seq;
        c->count++;
        return make_id(d, best);
    }
    uint32_t slot = new_slot(d);
    if (slot == NIL) return NIL;
    struct cluster *c = &d->c[slot];
    size_t strn = 0;
    for (uint32_t i = 0; i < nt; i++) strn += d->tok[i].var ? 0 : d->tok[i].n;
    size_t sz = nt * (sizeof(uint64_t) + sizeof(uint32_t) + sizeof(uint16_t)) + strn + 8;
    char *blk = malloc(sz);
    if (!blk) {
        d->freelist = realloc(d->freelist, (d->nfree + 1) * sizeof *d->freelist);
        if (d->freelist) d->freelist[d->nfree++] = slot;
        return NIL;
    }
    c->h = (uint64_t *)blk;
    c->off = (uint32_t *)(blk + nt * sizeof(uint64_t));
    c->len = (uint16_t *)(blk + nt * (sizeof(uint64_t) + sizeof(uint32_t)));
    c->str = blk + nt * (sizeof(uint64_t) + sizeof(uint32_t) + sizeof(uint16_t));
    size_t o = 0;
    for (uint32_t i = 0; i < nt; i++) {
        c->h[i] = d->tok[i].h;
        c->off[i] = (uint32_t)o;
        c->len[i] = d->tok[i].var ? 0 : (uint16_t)d->tok[i].n;
        if (!d->tok[i].var) memcpy(c->str + o, d->tok[i].p, d->tok[i].n), o += d->tok[i].n;
    }
    c->key = key;
    c->ntok = (uint16_t)nt;
    c->live = true;
    c->dirty = true;
    c->last = d->seq;
    c->count = 1;
    c->text = NULL;
    c->textcap = 0;
    uint32_t b = key & (d->nheads - 1);
    c->next = d->heads[b];
    d->heads[b] = slot;
    d->nlive++;
    if (d->nlive > d->nheads) grow_heads(d);
    return make_id(d, slot);
}

bool ldrain_template(const struct ldrain *d, uint32_t id, const char **t, size_t *n)
{
    uint32_t slot = id & SLOT_MASK;
    if (id == NIL || slot >= d->nc) return false;
    struct cluster *c = (struct cluster *)&d->c[slot];
    if (!c->live || (c->gen & 0xfffu) != id >> SLOT_BITS) return false;
    if (c->dirty || !c->text) rebuild_text(c);
    if (!c->text) return false;
    *t = c->text;
    *n = c->textlen;
    return true;
}
