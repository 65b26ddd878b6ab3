/* template.c — source templates: data files that turn a framed line into shared keys.
 *
 * Each file under templates/logs/ (*.tmpl, format in docs/LOGS.md) names the programs it
 * applies to and holds ordered rules: `match` (the whole message against a pattern of
 * literals and typed captures), `find` (case-insensitive substrings), `when` (conditions on
 * the fields of structured lines). A rule that applies sets constant keys (`set`), copies
 * fields (`map`) and runs extractors (`grab`: a pattern searched anywhere).
 *
 * Everything is compiled once at load: patterns become arrays of literals and captures,
 * keys are registry ids, programs are hashed. Per line: one hash lookup of the program;
 * each candidate rule is first checked against a bigram mask of the message (one pass
 * over the message, shared by all rules) and its anchor literal, and only then matched.
 * The matcher is a backtracking glob with typed captures, bounded by a step budget, so a
 * hostile line costs at most a fixed amount of work. No regex, no allocation per line. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "logs/logs_int.h"

enum { IT_LIT, IT_CAP };
enum { CT_ANY, CT_WORD, CT_IP, CT_HOST, CT_UINT, CT_TIME, CT_REST };

struct pitem {
    uint8_t kind, type;
    int16_t key, key2; /* key2: host-name fallback of an address key; -1 none; key -1: skip */
    uint32_t len;
    char *lit;
};

struct pattern {
    struct pitem *it;
    uint32_t n;
    bool tail_any; /* ends with {} or * */
    const char *anchor; /* longest literal, for the memmem prefilter */
    uint32_t anchorn;
};

struct kset {
    int16_t key;
    char op; /* `has` only: 0 equals, '>' at least num, '<' below num */
    char *val;
    uint32_t vlen;
    uint64_t num;
};

struct fmap {
    int16_t key;
    uint16_t nf;
    uint16_t *fid; /* interned field names */
};

struct cond {
    uint16_t fid[8]; /* "A|B": the first field present is tested */
    uint16_t nfid;
    char op; /* '=', '~' (contains), '?' (exists), '!' (absent) */
    uint16_t nv;
    char **v;
    uint32_t *vn;
};

enum { R_MATCH = 1, R_FIND, R_WHEN, R_HAS };

struct setif {
    struct kset cond;
    struct kset *sets;
    uint16_t nset;
};

struct rule {
    int kind;
    struct pattern pat;
    char **finds; /* lower-case needles, all must occur */
    uint32_t *findn;
    uint16_t nfind;
    struct cond *conds;
    uint16_t ncond;
    struct kset *has; /* conditions on the record built so far: key[=value] */
    uint16_t nhas;
    struct kset *sets;
    uint16_t nset;
    struct setif *setifs; /* `setif COND KEY=VALUE...`: sets applied when COND holds after the rest */
    uint16_t nsetif;
    struct fmap *maps;
    uint16_t nmap;
    struct pattern *grabs;
    uint16_t ngrab;
    bool cont;
    char *tmpl; /* `template`: log.template for the lines this rule matches (no mining) */
    uint32_t tmpln;
    uint64_t mask; /* bigrams that must occur in the message */
    int line;
};

struct tfile {
    char *path, *source;
    char **progs; /* lower case; a trailing '*' is a prefix glob */
    uint16_t nprog;
    char **globs; /* the prefix globs among progs, without the '*' */
    uint16_t *globn, nglob;
    bool any_prog, no_prog;
    struct cond *needs; /* fields that must exist ("A|B": either) */
    uint16_t nneed;
    struct kset *sets;
    uint16_t nset;
    struct fmap *maps;
    uint16_t nmap;
    struct rule *rules;
    uint32_t nrule;
};

#define PROG_SLOTS 1024
#define MAX_FIELD_NAMES 1024

struct pslot {
    char *name; /* lower case */
    uint16_t *files;
    uint16_t nfiles;
};

struct ltmpl_set {
    struct tfile *files;
    uint32_t nfiles, nrules;
    struct pslot prog[PROG_SLOTS];
    uint16_t *glob_files, nglob; /* prefix globs */
    uint16_t *any_files, nany;
    uint16_t *noprog_files, nnoprog;
    /* interned field names + per-line lookup cache */
    char *fname[MAX_FIELD_NAMES];
    uint32_t fnlen[MAX_FIELD_NAMES];
    uint16_t nfname;
    const struct lfield *fcache[MAX_FIELD_NAMES];
    uint32_t fgen[MAX_FIELD_NAMES];
    uint32_t gen;
    /* bigram index: bigram -> bit (1..64), 0 = not a needle bigram */
    uint8_t bigram[65536];
    uint8_t nbig;
    uint64_t bit[65]; /* bit[i] = 1 << (i - 1), bit[0] = 0: no branch in the scan */
    /* per line */
    char *lower;
    size_t lowercap;
    bool lower_ok;
};

/* ---- small helpers ----------------------------------------------------------------- */
static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

#define PUSH(arr, n, v)                                                  \
    do {                                                                 \
        void *np_ = realloc((arr), ((size_t)(n) + 1) * sizeof *(arr));   \
        if (!np_) return -1;                                             \
        (arr) = np_;                                                     \
        (arr)[(n)++] = (v);                                              \
    } while (0)

static uint32_t hash_ci(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ llower[(uint8_t)s[i]]) * 16777619u;
    return h;
}

struct ctx {
    struct ltmpl_set *ts;
    const char *path;
    int line;
    char *err;
    size_t errlen;
};

static int perr(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct ctx *c, const char *fmt, ...)
{
    char m[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->path, c->line, m);
    return -1;
}

static int field_id(struct ltmpl_set *ts, const char *s, size_t n)
{
    for (uint16_t i = 0; i < ts->nfname; i++)
        if (ts->fnlen[i] == n && strncasecmp(ts->fname[i], s, n) == 0) return i;
    if (ts->nfname >= MAX_FIELD_NAMES) return -1;
    ts->fname[ts->nfname] = xstrndup(s, n);
    if (!ts->fname[ts->nfname]) return -1;
    ts->fnlen[ts->nfname] = (uint32_t)n;
    return ts->nfname++;
}

/* The bit of a needle's bigram. The table is indexed by the raw bytes of the message, so
 * every case variant of the bigram gets the bit: no lower-casing pass per line. */
static int bigram_bit(struct ltmpl_set *ts, const char *s, size_t n)
{
    if (n < 2) return 0;
    uint8_t a = llower[(uint8_t)s[0]], b = llower[(uint8_t)s[1]];
    unsigned key = (unsigned)a << 8 | b;
    uint8_t bit = ts->bigram[key];
    if (!bit) bit = ts->nbig < 64 ? ++ts->nbig : (uint8_t)(1 + key % 64); /* shared: still a superset */
    uint8_t ua = (uint8_t)(a >= 'a' && a <= 'z' ? a - 32 : a), ub = (uint8_t)(b >= 'a' && b <= 'z' ? b - 32 : b);
    ts->bigram[key] = ts->bigram[(unsigned)ua << 8 | b] = ts->bigram[(unsigned)a << 8 | ub] =
        ts->bigram[(unsigned)ua << 8 | ub] = bit;
    return bit;
}

/* ---- key names --------------------------------------------------------------------- */
static int key_of(const char *s, size_t n, int16_t *key2)
{
    char b[64];
    *key2 = -1;
    if (n == 0 || (n == 1 && s[0] == '-')) return -2; /* skip */
    if (n >= sizeof b) return -1;
    memcpy(b, s, n);
    b[n] = 0;
    if (strcmp(b, "src") == 0) strcpy(b, "ip.src");
    if (strcmp(b, "dst") == 0) strcpy(b, "ip.dst");
    int k = vk_key_lookup(b);
    if (k == VK_K_IP_SRC) *key2 = VK_K_HOST_SRC;
    if (k == VK_K_IP_DST) *key2 = VK_K_HOST_DST;
    if (k == VK_K_DEVICE_IP) *key2 = VK_K_DEVICE_HOST;
    return k;
}

/* ---- patterns ---------------------------------------------------------------------- */
/* Literal text with {key}, {key:type}, {} and {:type} captures; \{ \} \\ escape; a final
 * '*' (after a space or at the end) means "and anything after". */
static int compile_pattern(struct ctx *c, const char *s, size_t n, struct pattern *pt, bool grab)
{
    memset(pt, 0, sizeof *pt);
    char *lit = malloc(n + 1);
    size_t ln = 0;
    if (!lit) return perr(c, "out of memory");
    if (n >= 1 && s[n - 1] == '*' && (n == 1 || s[n - 2] != '\\')) {
        pt->tail_any = true;
        n--;
    }
    for (size_t i = 0; i <= n; i++) {
        bool brace = i < n && s[i] == '{';
        if (i < n && s[i] == '\\' && i + 1 < n) {
            lit[ln++] = s[++i];
            continue;
        }
        if (i < n && !brace) {
            lit[ln++] = s[i];
            continue;
        }
        if (ln) {
            struct pitem it = {.kind = IT_LIT, .len = (uint32_t)ln, .lit = xstrndup(lit, ln), .key = -1, .key2 = -1};
            if (!it.lit) return free(lit), perr(c, "out of memory");
            if (pt->n && pt->it[pt->n - 1].kind == IT_LIT) return free(lit), perr(c, "internal: two literals");
            void *np = realloc(pt->it, (pt->n + 1) * sizeof *pt->it);
            if (!np) return free(lit), perr(c, "out of memory");
            pt->it = np;
            pt->it[pt->n++] = it;
            ln = 0;
        }
        if (i == n) break;
        const char *e = memchr(s + i, '}', n - i);
        if (!e) return free(lit), perr(c, "unclosed '{' in pattern");
        const char *in = s + i + 1;
        size_t inn = (size_t)(e - in);
        const char *colon = memchr(in, ':', inn);
        size_t kn = colon ? (size_t)(colon - in) : inn;
        struct pitem it = {.kind = IT_CAP, .key = -1, .key2 = -1, .type = CT_ANY};
        int16_t k2;
        int k = key_of(in, kn, &k2);
        if (k == -1) return free(lit), perr(c, "unknown key '%.*s' in pattern", (int)kn, in);
        if (k >= 0) {
            it.key = (int16_t)k;
            it.key2 = k2;
            enum vk_type t = vk_key_info(k)->type;
            it.type = t == VK_T_IP ? (k2 >= 0 ? CT_HOST : CT_IP) : t == VK_T_UINT ? CT_UINT
                    : t == VK_T_TIME ? CT_TIME : CT_ANY;
        }
        if (colon) {
            static const char *const tn[] = {"any", "word", "ip", "host", "uint", "time", "rest"};
            size_t tl = inn - kn - 1;
            int ty = -1;
            for (int j = 0; j < 7; j++)
                if (strlen(tn[j]) == tl && memcmp(tn[j], colon + 1, tl) == 0) ty = j;
            if (ty < 0) return free(lit), perr(c, "unknown capture type '%.*s'", (int)tl, colon + 1);
            it.type = (uint8_t)ty;
            if (ty == CT_IP) it.key2 = -1;
        }
        if (pt->n && pt->it[pt->n - 1].kind == IT_CAP)
            return free(lit), perr(c, "two captures need a literal between them");
        void *np = realloc(pt->it, (pt->n + 1) * sizeof *pt->it);
        if (!np) return free(lit), perr(c, "out of memory");
        pt->it = np;
        pt->it[pt->n++] = it;
        i = (size_t)(e - s);
    }
    free(lit);
    if (!pt->n) return perr(c, "empty pattern");
    if (grab && pt->it[0].kind != IT_LIT) return perr(c, "a grab pattern must start with a literal");
    for (uint32_t i = 0; i < pt->n; i++)
        if (pt->it[i].kind == IT_LIT && pt->it[i].len > pt->anchorn) {
            pt->anchor = pt->it[i].lit;
            pt->anchorn = pt->it[i].len;
        }
    return 0;
}

static void free_pattern(struct pattern *pt)
{
    for (uint32_t i = 0; i < pt->n; i++) free(pt->it[i].lit);
    free(pt->it);
}

/* ---- loading ----------------------------------------------------------------------- */
/* Split "a=b c="d e" f" style words; returns count, fills starts/lengths (quotes kept
 * off). */
static size_t words(const char *s, size_t n, const char **w, size_t *wn, size_t max)
{
    size_t k = 0, i = 0;
    while (i < n && k < max) {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i >= n) break;
        size_t st = i;
        bool q = false;
        while (i < n && (q || (s[i] != ' ' && s[i] != '\t'))) {
            if (s[i] == '"') q = !q;
            i++;
        }
        w[k] = s + st;
        wn[k++] = i - st;
    }
    return k;
}

static int parse_sets(struct ctx *c, const char *s, size_t n, struct kset **sets, uint16_t *ns)
{
    const char *w[32];
    size_t wn[32];
    size_t k = words(s, n, w, wn, 32);
    for (size_t i = 0; i < k; i++) {
        const char *eq = memchr(w[i], '=', wn[i]);
        if (!eq) return perr(c, "set needs key=value, got '%.*s'", (int)wn[i], w[i]);
        int16_t k2;
        int key = key_of(w[i], (size_t)(eq - w[i]), &k2);
        if (key < 0) return perr(c, "unknown key '%.*s'", (int)(eq - w[i]), w[i]);
        const char *v = eq + 1;
        size_t vn = wn[i] - (size_t)(v - w[i]);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') v++, vn -= 2;
        struct kset ks = {.key = (int16_t)key, .val = xstrndup(v, vn), .vlen = (uint32_t)vn};
        if (!ks.val) return perr(c, "out of memory");
        PUSH(*sets, *ns, ks);
    }
    return 0;
}

static int parse_maps(struct ctx *c, const char *s, size_t n, struct fmap **maps, uint16_t *nm)
{
    const char *w[32];
    size_t wn[32];
    size_t k = words(s, n, w, wn, 32);
    for (size_t i = 0; i < k; i++) {
        const char *eq = memchr(w[i], '=', wn[i]);
        if (!eq) return perr(c, "map needs key=Field|Field, got '%.*s'", (int)wn[i], w[i]);
        int16_t k2;
        int key = key_of(w[i], (size_t)(eq - w[i]), &k2);
        if (key < 0) return perr(c, "unknown key '%.*s'", (int)(eq - w[i]), w[i]);
        struct fmap fm = {.key = (int16_t)key};
        const char *p = eq + 1, *e = w[i] + wn[i];
        while (p < e) {
            const char *bar = memchr(p, '|', (size_t)(e - p));
            if (!bar) bar = e;
            int id = field_id(c->ts, p, (size_t)(bar - p));
            if (id < 0) return free(fm.fid), perr(c, "too many field names");
            PUSH(fm.fid, fm.nf, (uint16_t)id);
            p = bar + 1;
        }
        PUSH(*maps, *nm, fm);
    }
    return 0;
}

/* "KEY", "KEY=VALUE", "KEY>=N", "KEY<N": conditions on the record built so far. */
static int parse_has(struct ctx *c, const char *v, size_t vn, struct kset **arr, uint16_t *narr)
{
    const char *w[16];
    size_t wn[16];
    size_t k = words(v, vn, w, wn, 16);
    for (size_t i = 0; i < k; i++) {
        const char *eq = memchr(w[i], '=', wn[i]);
        const char *lt = memchr(w[i], '<', wn[i]);
        char op = 0;
        if (eq && eq > w[i] && eq[-1] == '>') op = '>', eq--;
        else if (lt && (!eq || lt < eq)) op = '<', eq = lt;
        size_t kl = eq ? (size_t)(eq - w[i]) : wn[i];
        int16_t k2;
        int key = key_of(w[i], kl, &k2);
        if (key < 0) return perr(c, "unknown key '%.*s'", (int)kl, w[i]);
        struct kset hs = {.key = (int16_t)key, .op = op};
        if (eq) {
            const char *vs = eq + (op == '>' ? 2 : 1);
            hs.vlen = (uint32_t)(w[i] + wn[i] - vs);
            hs.val = xstrndup(vs, hs.vlen);
            if (!hs.val) return perr(c, "out of memory");
            if (op) hs.num = strtoull(hs.val, NULL, 10);
        }
        void *np = realloc(*arr, (*narr + 1u) * sizeof **arr);
        if (!np) return free(hs.val), perr(c, "out of memory");
        *arr = np;
        (*arr)[(*narr)++] = hs;
    }
    return 0;
}

static void free_cond(struct cond *cd);

static int parse_conds(struct ctx *c, const char *s, size_t n, struct rule *r)
{
    const char *w[32];
    size_t wn[32];
    size_t k = words(s, n, w, wn, 32);
    for (size_t i = 0; i < k; i++) {
        struct cond cd = {.op = '?'};
        size_t j = 0;
        while (j < wn[i] && w[i][j] != '=' && w[i][j] != '~') j++;
        const char *name = w[i];
        size_t nn = j;
        if (nn && name[0] == '!') {
            cd.op = '!';
            name++, nn--;
        }
        if (j < wn[i]) {
            cd.op = w[i][j];
            const char *p = w[i] + j + 1, *e = w[i] + wn[i];
            if (e - p >= 2 && *p == '"' && e[-1] == '"') p++, e--;
            while (p <= e) {
                const char *bar = memchr(p, '|', (size_t)(e - p));
                if (!bar) bar = e;
                char *v = xstrndup(p, (size_t)(bar - p));
                if (!v) return perr(c, "out of memory");
                PUSH(cd.v, cd.nv, v);
                cd.nv--;
                PUSH(cd.vn, cd.nv, (uint32_t)(bar - p));
                p = bar + 1;
            }
        }
        if (nn == 0) return free_cond(&cd), perr(c, "bad condition '%.*s'", (int)wn[i], w[i]);
        for (const char *q = name, *qe = name + nn; q < qe;) {
            const char *bar = memchr(q, '|', (size_t)(qe - q));
            if (!bar) bar = qe;
            int id = field_id(c->ts, q, (size_t)(bar - q));
            if (id < 0 || bar == q || cd.nfid == 8) return free_cond(&cd), perr(c, "bad condition (at most 8 alternatives) '%.*s'", (int)wn[i], w[i]);
            cd.fid[cd.nfid++] = (uint16_t)id;
            q = bar + 1;
        }
        PUSH(r->conds, r->ncond, cd);
    }
    return 0;
}

static int lower_needle(struct ctx *c, const char *s, size_t n, struct rule *r)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') s++, n -= 2;
    if (!n) return perr(c, "empty find");
    char *v = malloc(n + 1);
    if (!v) return perr(c, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) i++; /* "\ " is a space (leading spaces are trimmed) */
        v[o++] = L_LOWER(s[i]);
    }
    v[o] = 0;
    n = o;
    PUSH(r->finds, r->nfind, v);
    r->nfind--;
    PUSH(r->findn, r->nfind, (uint32_t)n);
    /* three bigrams (start, middle, end) must all occur before the needle is searched */
    int b = bigram_bit(c->ts, v, n);
    if (b) r->mask |= 1ULL << (b - 1);
    if (n >= 6 && (b = bigram_bit(c->ts, v + n / 2 - 1, 2))) r->mask |= 1ULL << (b - 1);
    if (n >= 4 && (b = bigram_bit(c->ts, v + n - 2, 2))) r->mask |= 1ULL << (b - 1);
    return 0;
}

static void free_sets(struct kset *s, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) free(s[i].val);
    free(s);
}

static void free_maps(struct fmap *m, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) free(m[i].fid);
    free(m);
}

static void free_cond(struct cond *cd)
{
    for (uint16_t j = 0; j < cd->nv; j++) free(cd->v[j]);
    free(cd->v);
    free(cd->vn);
}

static void free_file(struct tfile *tf)
{
    for (uint32_t r = 0; r < tf->nrule; r++) {
        struct rule *ru = &tf->rules[r];
        free_pattern(&ru->pat);
        for (uint16_t i = 0; i < ru->nfind; i++) free(ru->finds[i]);
        free(ru->finds);
        free(ru->findn);
        for (uint16_t i = 0; i < ru->ncond; i++) free_cond(&ru->conds[i]);
        free(ru->conds);
        free_sets(ru->has, ru->nhas);
        for (uint16_t i = 0; i < ru->nsetif; i++) {
            free(ru->setifs[i].cond.val);
            free_sets(ru->setifs[i].sets, ru->setifs[i].nset);
        }
        free(ru->setifs);
        free_sets(ru->sets, ru->nset);
        free_maps(ru->maps, ru->nmap);
        for (uint16_t i = 0; i < ru->ngrab; i++) free_pattern(&ru->grabs[i]);
        free(ru->grabs);
        free(ru->tmpl);
    }
    free(tf->rules);
    for (uint16_t i = 0; i < tf->nprog; i++) free(tf->progs[i]);
    free(tf->progs);
    free(tf->globs);
    free(tf->globn);
    for (uint16_t i = 0; i < tf->nneed; i++) free_cond(&tf->needs[i]);
    free(tf->needs);
    free_sets(tf->sets, tf->nset);
    free_maps(tf->maps, tf->nmap);
    free(tf->path);
    free(tf->source);
}

static int load_file(struct ltmpl_set *ts, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct tfile tf = {0};
    struct ctx c = {.ts = ts, .path = path, .err = err, .errlen = errlen};
    tf.path = xstrndup(path, strlen(path));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t got;
    struct rule *cur = NULL;
    int rc = 0;
    while ((got = getline(&buf, &cap, f)) >= 0) {
        c.line++;
        size_t n = (size_t)got;
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
        const char *s = buf;
        while (n && (*s == ' ' || *s == '\t')) s++, n--;
        if (!n || *s == '#') continue;
        const char *sp = s;
        while (sp < s + n && *sp != ' ' && *sp != '\t') sp++;
        size_t vn = n - (size_t)(sp - s);
        const char *v = sp;
        while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
        size_t dn = (size_t)(sp - s);
#define IS(w) (dn == strlen(w) && memcmp(s, w, dn) == 0)
        if (IS("match") || IS("find") || IS("when") || IS("has")) {
            bool fresh = cur && !cur->nset && !cur->nmap && !cur->ngrab && !cur->cont;
            bool join = fresh && ((IS("find") && (cur->kind == R_FIND || cur->kind == R_HAS)) ||
                                  IS("when") || IS("has") || (IS("match") && cur->kind == R_HAS));
            if (!join) {
                struct rule r = {.line = c.line};
                void *np = realloc(tf.rules, (tf.nrule + 1) * sizeof *tf.rules);
                if (!np) {
                    rc = perr(&c, "out of memory");
                    break;
                }
                tf.rules = np;
                tf.rules[tf.nrule++] = r;
                cur = &tf.rules[tf.nrule - 1];
                ts->nrules++;
            }
            if (IS("match")) {
                if (cur->kind == R_MATCH || cur->kind == R_FIND) {
                    rc = perr(&c, "one match per rule");
                    break;
                }
                cur->kind = R_MATCH;
                if ((rc = compile_pattern(&c, v, vn, &cur->pat, false))) break;
                if (cur->pat.anchorn >= 2) {
                    int b = bigram_bit(ts, cur->pat.anchor, cur->pat.anchorn);
                    if (b) cur->mask |= 1ULL << (b - 1);
                }
            } else if (IS("has")) {
                if (!cur->kind) cur->kind = R_HAS;
                if ((rc = parse_has(&c, v, vn, &cur->has, &cur->nhas))) break;
            } else if (IS("find")) {
                if (!cur->kind || cur->kind == R_HAS) cur->kind = R_FIND;
                if ((rc = lower_needle(&c, v, vn, cur))) break;
            } else {
                if (!cur->kind) cur->kind = R_WHEN;
                if ((rc = parse_conds(&c, v, vn, cur))) break;
            }
        } else if (IS("set")) {
            rc = cur ? parse_sets(&c, v, vn, &cur->sets, &cur->nset) : parse_sets(&c, v, vn, &tf.sets, &tf.nset);
        } else if (IS("map")) {
            rc = cur ? parse_maps(&c, v, vn, &cur->maps, &cur->nmap) : parse_maps(&c, v, vn, &tf.maps, &tf.nmap);
        } else if (IS("grab")) {
            if (!cur) {
                rc = perr(&c, "grab outside a rule");
                break;
            }
            struct pattern pt;
            if ((rc = compile_pattern(&c, v, vn, &pt, true))) {
                free_pattern(&pt);
                break;
            }
            pt.tail_any = true;
            void *np = realloc(cur->grabs, (cur->ngrab + 1u) * sizeof *cur->grabs);
            if (!np) {
                rc = perr(&c, "out of memory");
                break;
            }
            cur->grabs = np;
            cur->grabs[cur->ngrab++] = pt;
        } else if (IS("template")) {
            if (!cur) rc = perr(&c, "template outside a rule");
            else if (!vn) rc = perr(&c, "empty template");
            else {
                free(cur->tmpl);
                cur->tmpl = xstrndup(v, vn);
                cur->tmpln = (uint32_t)vn;
            }
        } else if (IS("continue")) {
            if (!cur) rc = perr(&c, "continue outside a rule");
            else if (vn) rc = perr(&c, "continue takes no argument");
            else cur->cont = true;
        } else if (IS("setif")) {
            const char *sp2 = v;
            while (sp2 < v + vn && *sp2 != ' ' && *sp2 != '\t') sp2++;
            if (!cur) rc = perr(&c, "setif outside a rule");
            else if (sp2 == v + vn) rc = perr(&c, "setif needs a condition and KEY=VALUE");
            else {
                struct setif si = {0};
                struct kset *cond = NULL;
                uint16_t nc = 0;
                if (!(rc = parse_has(&c, v, (size_t)(sp2 - v), &cond, &nc)) &&
                    !(rc = parse_sets(&c, sp2, (size_t)(v + vn - sp2), &si.sets, &si.nset))) {
                    si.cond = cond[0];
                    free(cond);
                    void *np = realloc(cur->setifs, (cur->nsetif + 1u) * sizeof *cur->setifs);
                    if (!np) rc = perr(&c, "out of memory");
                    else {
                        cur->setifs = np;
                        cur->setifs[cur->nsetif++] = si;
                    }
                } else {
                    for (uint16_t i = 0; i < nc; i++) free(cond[i].val);
                    free(cond);
                    free_sets(si.sets, si.nset);
                }
            }
        } else if (IS("source")) {
            if (cur) rc = perr(&c, "source must come before the rules");
            else {
                free(tf.source);
                tf.source = xstrndup(v, vn);
            }
        } else if (IS("program")) {
            if (cur) {
                rc = perr(&c, "program must come before the rules");
                break;
            }
            const char *w[64];
            size_t wn[64];
            size_t k = words(v, vn, w, wn, 64);
            for (size_t i = 0; i < k; i++) {
                if (wn[i] == 1 && w[i][0] == '*') tf.any_prog = true;
                else if (wn[i] == 1 && w[i][0] == '-') tf.no_prog = true;
                else {
                    char *p = xstrndup(w[i], wn[i]);
                    if (!p) return fclose(f), free(buf), perr(&c, "out of memory");
                    for (char *q = p; *q; q++) *q = L_LOWER(*q);
                    void *np = realloc(tf.progs, (tf.nprog + 1u) * sizeof *tf.progs);
                    if (!np) return fclose(f), free(buf), perr(&c, "out of memory");
                    tf.progs = np;
                    tf.progs[tf.nprog++] = p;
                }
            }
        } else if (IS("need")) {
            struct rule tmp = {0};
            if ((rc = parse_conds(&c, v, vn, &tmp))) break;
            for (uint16_t i = 0; i < tmp.ncond; i++) {
                void *np = NULL;
                if (!rc && tmp.conds[i].op != '?') rc = perr(&c, "need takes field names only");
                if (!rc && !(np = realloc(tf.needs, (tf.nneed + 1u) * sizeof *tf.needs))) rc = perr(&c, "out of memory");
                if (rc) {
                    free_cond(&tmp.conds[i]);
                    continue;
                }
                tf.needs = np;
                tf.needs[tf.nneed++] = tmp.conds[i];
            }
            free(tmp.conds);
        } else {
            rc = perr(&c, "unknown directive '%.*s'", (int)dn, s);
        }
#undef IS
        if (rc) break;
    }
    free(buf);
    fclose(f);
    if (!rc && !tf.nprog && !tf.any_prog && !tf.no_prog && !tf.nneed) {
        c.line = 1;
        rc = perr(&c, "no 'program' or 'need' line: the file would never apply");
    }
    void *np = rc ? NULL : realloc(ts->files, (ts->nfiles + 1) * sizeof *ts->files);
    if (!np) {
        if (!rc) perr(&c, "out of memory");
        free_file(&tf);
        return -1;
    }
    ts->files = np;
    ts->files[ts->nfiles++] = tf;
    return 0;
}

static int add_u16(uint16_t **a, uint16_t *n, uint16_t v)
{
    void *np = realloc(*a, (*n + 1u) * sizeof **a);
    if (!np) return -1;
    *a = np;
    (*a)[(*n)++] = v;
    return 0;
}

static int index_programs(struct ltmpl_set *ts)
{
    for (uint32_t fi = 0; fi < ts->nfiles; fi++) {
        struct tfile *tf = &ts->files[fi];
        if (tf->any_prog && add_u16(&ts->any_files, &ts->nany, (uint16_t)fi)) return -1;
        if (tf->no_prog && add_u16(&ts->noprog_files, &ts->nnoprog, (uint16_t)fi)) return -1;
        bool glob = false;
        for (uint16_t i = 0; i < tf->nprog; i++) {
            size_t n = strlen(tf->progs[i]);
            if (n && tf->progs[i][n - 1] == '*') {
                glob = true;
                void *a = realloc(tf->globs, (tf->nglob + 1u) * sizeof *tf->globs);
                if (!a) return -1;
                tf->globs = a;
                a = realloc(tf->globn, (tf->nglob + 1u) * sizeof *tf->globn);
                if (!a) return -1;
                tf->globn = a;
                tf->globs[tf->nglob] = tf->progs[i];
                tf->globn[tf->nglob++] = (uint16_t)(n - 1);
                continue;
            }
            uint32_t h = hash_ci(tf->progs[i], n) & (PROG_SLOTS - 1);
            while (ts->prog[h].name && strcmp(ts->prog[h].name, tf->progs[i]) != 0) h = (h + 1) & (PROG_SLOTS - 1);
            if (!ts->prog[h].name) ts->prog[h].name = tf->progs[i];
            if (add_u16(&ts->prog[h].files, &ts->prog[h].nfiles, (uint16_t)fi)) return -1;
        }
        if (glob && add_u16(&ts->glob_files, &ts->nglob, (uint16_t)fi)) return -1;
    }
    return 0;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct ltmpl_set *ltmpl_load(const char *dir, char *err, size_t errlen)
{
    struct ltmpl_set *ts = calloc(1, sizeof *ts);
    if (!ts) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 1; i <= 64; i++) ts->bit[i] = 1ULL << (i - 1);
    if (!dir || !*dir) return ts;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "templates: %s: %s", dir, strerror(errno));
        free(ts);
        return NULL;
    }
    char **names = NULL;
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".tmpl") != 0 || de->d_name[0] == '.') continue;
        char **np = realloc(names, (nn + 1) * sizeof *names);
        if (!np) break;
        names = np;
        names[nn++] = xstrndup(de->d_name, l);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmpstr);
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!rc && ts->nfiles >= 65000) rc = -1, snprintf(err, errlen, "templates: too many files");
        if (!rc && load_file(ts, path, err, errlen)) rc = -1;
        free(names[i]);
    }
    free(names);
    if (!rc && index_programs(ts)) rc = -1, snprintf(err, errlen, "out of memory");
    if (rc) {
        ltmpl_free(ts);
        return NULL;
    }
    return ts;
}

void ltmpl_free(struct ltmpl_set *ts)
{
    if (!ts) return;
    for (uint32_t fi = 0; fi < ts->nfiles; fi++) free_file(&ts->files[fi]);
    free(ts->files);
    for (int i = 0; i < PROG_SLOTS; i++) free(ts->prog[i].files);
    free(ts->glob_files);
    free(ts->any_files);
    free(ts->noprog_files);
    for (uint16_t i = 0; i < ts->nfname; i++) free(ts->fname[i]);
    free(ts->lower);
    free(ts);
}

unsigned ltmpl_count(const struct ltmpl_set *ts, unsigned *files)
{
    if (files) *files = ts ? ts->nfiles : 0;
    return ts ? ts->nrules : 0;
}

/* ---- matching ---------------------------------------------------------------------- */
/* memmem for the short needles of patterns: memchr on the first byte, then compare.
 * O(haystack) with a small constant; glibc's memmem costs more to set up than this
 * takes on a log line. */
static inline const char *find(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn == 0) return h;
    if (nn > hn) return NULL;
    const char *end = h + hn - nn + 1;
    for (const char *p = h; p < end;) {
        p = memchr(p, n[0], (size_t)(end - p));
        if (!p) return NULL;
        if (memcmp(p + 1, n + 1, nn - 1) == 0) return p;
        p++;
    }
    return NULL;
}

struct capv {
    const char *p;
    size_t n;
};

static bool has_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == ' ' || p[i] == '\t') return true;
    return false;
}

/* 0: value fits the type; 1: does not, a longer one might; 2: no longer one can. */
static int validate(int type, const char *p, size_t n)
{
    uint8_t a[16];
    switch (type) {
    case CT_WORD: return has_space(p, n) ? 2 : 0;
    case CT_UINT:
        if (!n) return 1;
        for (size_t i = 0; i < n; i++)
            if (!L_DIGIT(p[i])) return 2;
        return 0;
    case CT_IP:
        if (has_space(p, n)) return 2;
        return lparse_ip(p, n, a) ? 0 : 1;
    case CT_HOST:
        if (has_space(p, n)) return 2;
        if (!n) return 1;
        if (lparse_ip(p, n, a)) return 0;
        for (size_t i = 0; i < n; i++)
            if (!(L_ALNUM(p[i]) || p[i] == '-' || p[i] == '.' || p[i] == '_')) return 1;
        return 0;
    default: return 0;
    }
}

static bool pm(const struct pattern *pt, uint32_t i, const char *s, const char *e, struct capv *cv, int *budget)
{
    if (--*budget < 0) return false;
    if (i == pt->n) return pt->tail_any || s == e;
    const struct pitem *it = &pt->it[i];
    if (it->kind == IT_LIT) {
        if ((size_t)(e - s) < it->len || memcmp(s, it->lit, it->len) != 0) return false;
        return pm(pt, i + 1, s + it->len, e, cv, budget);
    }
    if (i + 1 == pt->n) {
        const char *v = s, *ve = e;
        if (pt->tail_any && it->type != CT_REST && it->type != CT_TIME) {
            /* "{x}*": one word, then anything ({x:rest} takes it all) */
            ve = v;
            while (ve < e && *ve != ' ' && *ve != '\t') ve++;
            while (ve > v && (ve[-1] == ',' || ve[-1] == ';' || ve[-1] == '.' || ve[-1] == ')' || ve[-1] == ':' ||
                              ve[-1] == '"' || ve[-1] == '\'' ||
                              (ve[-1] == ']' && !memchr(v, '[', (size_t)(ve - v)))))
                ve--;
        }
        if (validate(it->type, v, (size_t)(ve - v)) != 0) return false;
        cv[i] = (struct capv){v, (size_t)(ve - v)};
        return true;
    }
    const struct pitem *nx = &pt->it[i + 1];
    const char *pos = s;
    while (pos <= e && (size_t)(e - pos) >= nx->len) {
        const char *hit = find(pos, (size_t)(e - pos), nx->lit, nx->len);
        if (!hit) return false;
        int v = validate(it->type, s, (size_t)(hit - s));
        if (v == 0) {
            cv[i] = (struct capv){s, (size_t)(hit - s)};
            if (pm(pt, i + 2, hit + nx->len, e, cv, budget)) return true;
        } else if (v == 2) {
            return false;
        }
        if (--*budget < 0) return false;
        pos = hit + 1;
    }
    return false;
}

static void emit_caps(const struct pattern *pt, const struct capv *cv, struct vk_meta *out, int64_t recv_ms)
{
    for (uint32_t i = 0; i < pt->n; i++) {
        const struct pitem *it = &pt->it[i];
        if (it->kind != IT_CAP || it->key < 0) continue;
        if (it->type == CT_HOST && it->key2 >= 0)
            lmeta_add_peer(out, (enum vk_key)it->key, (enum vk_key)it->key2, cv[i].p, cv[i].n);
        else
            lmeta_add_text(out, (enum vk_key)it->key, cv[i].p, cv[i].n, recv_ms);
    }
}

/* Are all the keys a grab would capture already there? First extractor wins per key. */
static bool grab_done(const struct pattern *pt, const struct vk_meta *out)
{
    bool any = false;
    for (uint32_t i = 0; i < pt->n; i++) {
        const struct pitem *it = &pt->it[i];
        if (it->kind != IT_CAP || it->key < 0) continue;
        any = true;
        if (!vk_meta_has(out, (enum vk_key)it->key) && (it->key2 < 0 || !vk_meta_has(out, (enum vk_key)it->key2)))
            return false;
    }
    return any;
}

static bool match_at(const struct pattern *pt, const char *s, const char *e, struct capv *cv)
{
    int budget = 400;
    return pm(pt, 0, s, e, cv, &budget);
}

static const struct lfield *fget(struct ltmpl_set *ts, const struct lline *l, uint16_t id)
{
    if (ts->fgen[id] == ts->gen) return ts->fcache[id];
    ts->fgen[id] = ts->gen;
    const struct lfield *f = lfield_get(l, ts->fname[id], ts->fnlen[id]);
    return ts->fcache[id] = f;
}

static bool ci_contains(const char *h, size_t hn, const char *lowneedle, size_t nn)
{
    if (nn > hn) return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        if (llower[(uint8_t)h[i]] != lowneedle[0]) continue;
        size_t j = 1;
        while (j < nn && llower[(uint8_t)h[i + j]] == lowneedle[j]) j++;
        if (j == nn) return true;
    }
    return false;
}

static bool cond_ok(struct ltmpl_set *ts, const struct lline *l, const struct cond *cd)
{
    const struct lfield *f = NULL;
    for (uint16_t i = 0; i < cd->nfid && !f; i++) f = fget(ts, l, cd->fid[i]);
    if (cd->op == '!') return !f;
    if (!f) return false;
    if (cd->op == '?') return true;
    for (uint16_t i = 0; i < cd->nv; i++) {
        if (cd->op == '=' && f->vlen == cd->vn[i] && strncasecmp(f->val, cd->v[i], f->vlen) == 0) return true;
        if (cd->op == '~') {
            char low[64];
            size_t n = cd->vn[i] < sizeof low ? cd->vn[i] : sizeof low;
            for (size_t j = 0; j < n; j++) low[j] = L_LOWER(cd->v[i][j]);
            if (ci_contains(f->val, f->vlen, low, n)) return true;
        }
    }
    return false;
}

static void apply_maps(struct ltmpl_set *ts, const struct lline *l, const struct fmap *m, uint16_t n,
                       struct vk_meta *out, int64_t recv_ms)
{
    for (uint16_t i = 0; i < n; i++) {
        for (uint16_t j = 0; j < m[i].nf; j++) {
            const struct lfield *f = fget(ts, l, m[i].fid[j]);
            if (!f) continue;
            bool ok;
            if (m[i].key == VK_K_IP_SRC) ok = lmeta_add_peer(out, VK_K_IP_SRC, VK_K_HOST_SRC, f->val, f->vlen);
            else if (m[i].key == VK_K_IP_DST) ok = lmeta_add_peer(out, VK_K_IP_DST, VK_K_HOST_DST, f->val, f->vlen);
            else ok = lmeta_add_text(out, (enum vk_key)m[i].key, f->val, f->vlen, recv_ms);
            if (ok) break;
        }
    }
}

static void apply_sets(const struct kset *s, uint16_t n, struct vk_meta *out, bool only_missing)
{
    for (uint16_t i = 0; i < n; i++) {
        if (only_missing && vk_meta_has(out, (enum vk_key)s[i].key)) continue;
        lmeta_add_text(out, (enum vk_key)s[i].key, s[i].val, s[i].vlen, 0);
    }
}

struct lctx {
    struct ltmpl_set *ts;
    const struct lline *l;
    uint64_t mask;
    int64_t recv_ms;
};

static const char *lowered(struct ltmpl_set *ts, const struct lline *l)
{
    if (ts->lower_ok) return ts->lower;
    if (ts->lowercap < l->msg.n + 1) {
        size_t nc = l->msg.n + 256;
        char *p = realloc(ts->lower, nc);
        if (!p) return NULL;
        ts->lower = p;
        ts->lowercap = nc;
    }
    for (size_t i = 0; i < l->msg.n; i++) ts->lower[i] = (char)llower[(uint8_t)l->msg.p[i]];
    ts->lower[l->msg.n] = 0;
    ts->lower_ok = true;
    return ts->lower;
}

static bool meta_has(const struct vk_meta *m, const struct kset *h)
{
    enum vk_type t = vk_key_info(h->key)->type;
    bool num = t == VK_T_UINT || t == VK_T_TIME;
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != h->key) continue;
        if (!h->val) return true;
        if (h->op == '>' && num && it->u >= h->num) return true;
        if (h->op == '<' && num && it->u < h->num) return true;
        if (!h->op && num && it->u == strtoull(h->val, NULL, 10)) return true;
        if (!h->op && !num && it->len == h->vlen && strncasecmp(vk_meta_str(m, it), h->val, h->vlen) == 0)
            return true;
    }
    return false;
}

/* Does rule r apply to the line? On a match, its captures are emitted into out. */
static bool rule_apply(struct lctx *c, const struct tfile *tf, const struct rule *r, struct vk_meta *out)
{
    struct ltmpl_set *ts = c->ts;
    const struct lline *l = c->l;
    if ((r->mask & c->mask) != r->mask) return false;
    for (uint16_t i = 0; i < r->nhas; i++)
        if (!meta_has(out, &r->has[i])) return false;
    for (uint16_t i = 0; i < r->ncond; i++)
        if (!cond_ok(ts, l, &r->conds[i])) return false;
    if (r->nfind) {
        const char *low = lowered(ts, l);
        if (!low) return false;
        for (uint16_t i = 0; i < r->nfind; i++)
            if (!find(low, l->msg.n, r->finds[i], r->findn[i])) return false;
    }
    struct capv cv[64];
    if (r->kind == R_MATCH) {
        const struct pattern *pt = &r->pat;
        if (pt->n > 64) return false;
        if (pt->it[0].kind == IT_LIT) {
            if (l->msg.n < pt->it[0].len || memcmp(l->msg.p, pt->it[0].lit, pt->it[0].len) != 0) return false;
        } else if (pt->anchorn && !find(l->msg.p, l->msg.n, pt->anchor, pt->anchorn)) {
            return false;
        }
        if (!match_at(pt, l->msg.p, l->msg.p + l->msg.n, cv)) return false;
        emit_caps(pt, cv, out, c->recv_ms);
    }
    /* the rule applies */
    if (r->tmpl && !vk_meta_has(out, VK_K_LOG_TEMPLATE)) vk_meta_add_str(out, VK_K_LOG_TEMPLATE, r->tmpl, r->tmpln);
    apply_sets(r->sets, r->nset, out, false);
    apply_maps(ts, l, r->maps, r->nmap, out, c->recv_ms);
    for (uint16_t g = 0; g < r->ngrab; g++) {
        const struct pattern *pt = &r->grabs[g];
        if (grab_done(pt, out)) continue; /* an earlier grab (or the pattern) set its keys */
        const char *s = l->msg.p, *e = l->msg.p + l->msg.n;
        while (s < e) {
            const char *hit = find(s, (size_t)(e - s), pt->it[0].lit, pt->it[0].len);
            if (!hit) break;
            if (pt->n <= 64 && match_at(pt, hit, e, cv)) {
                emit_caps(pt, cv, out, c->recv_ms);
                break;
            }
            s = hit + 1;
        }
    }
    for (uint16_t i = 0; i < r->nsetif; i++)
        if (meta_has(out, &r->setifs[i].cond)) apply_sets(r->setifs[i].sets, r->setifs[i].nset, out, false);
    apply_sets(tf->sets, tf->nset, out, true);
    apply_maps(ts, l, tf->maps, tf->nmap, out, c->recv_ms);
    if (tf->source && !vk_meta_has(out, VK_K_DEVICE_TYPE))
        vk_meta_add_cstr(out, VK_K_DEVICE_TYPE, tf->source);
    return true;
}

/* Run the rules of one file. Returns 1 when a final rule matched, 0 otherwise. */
static int file_apply(struct lctx *c, const struct tfile *tf, struct vk_meta *out, bool *any)
{
    if (tf->nneed && !c->l->nf) return 0; /* needs fields; the line has none */
    for (uint16_t i = 0; i < tf->nneed; i++)
        if (!cond_ok(c->ts, c->l, &tf->needs[i])) return 0;
    const struct lline *l = c->l;
    for (uint32_t i = 0; i < tf->nrule; i++) {
        const struct rule *r = &tf->rules[i];
        /* the cheap tests first, inline: bigrams, then a leading literal's first byte */
        if ((r->mask & c->mask) != r->mask) continue;
        if (r->kind == R_MATCH || r->kind == R_FIND) {
            if (!l->msg.n) continue;
            if (r->kind == R_MATCH && r->pat.it[0].kind == IT_LIT &&
                (l->msg.n < r->pat.it[0].len || l->msg.p[0] != r->pat.it[0].lit[0]))
                continue;
        }
        if (rule_apply(c, tf, r, out)) {
            *any = true;
            if (!r->cont) return 1;
        }
    }
    return 0;
}

bool ltmpl_apply(struct ltmpl_set *ts, const struct lline *l, struct vk_meta *out)
{
    if (!ts || !ts->nfiles) return false;
    struct lctx c = {.ts = ts, .l = l};
    bool any = false;
    ts->gen++;
    if (ts->gen == 0) { /* wrapped: forget every cached lookup */
        memset(ts->fgen, 0, sizeof ts->fgen);
        ts->gen = 1;
    }
    /* bigram mask of the message: one pass, shared by every rule; the lower-case copy for
     * `find` is made only when a find rule passes this filter */
    ts->lower_ok = false;
    const uint8_t *m = (const uint8_t *)l->msg.p;
    unsigned prev = l->msg.n ? m[0] : 0;
    for (size_t i = 1; i < l->msg.n; i++) {
        unsigned cur = m[i];
        c.mask |= ts->bit[ts->bigram[prev << 8 | cur]];
        prev = cur;
    }
    /* the program's own files, then prefix globs, then program-less and generic files */
    char pn[64];
    size_t n = 0;
    if (l->prog.n) {
        for (; n < l->prog.n && n < sizeof pn - 1; n++) {
            char ch = L_LOWER(l->prog.p[n]);
            if (ch == '(' || ch == '[') break;
            pn[n] = ch;
        }
        pn[n] = 0;
        uint32_t h = hash_ci(pn, n) & (PROG_SLOTS - 1);
        while (ts->prog[h].name) {
            if (strcmp(ts->prog[h].name, pn) == 0) {
                for (uint16_t i = 0; i < ts->prog[h].nfiles; i++)
                    if (file_apply(&c, &ts->files[ts->prog[h].files[i]], out, &any)) return true;
                break;
            }
            h = (h + 1) & (PROG_SLOTS - 1);
        }
        for (uint16_t gi = 0; gi < ts->nglob; gi++) {
            const struct tfile *tf = &ts->files[ts->glob_files[gi]];
            for (uint16_t i = 0; i < tf->nglob; i++) {
                if (n >= tf->globn[i] && memcmp(pn, tf->globs[i], tf->globn[i]) == 0) {
                    if (file_apply(&c, tf, out, &any)) return true;
                    break;
                }
            }
        }
    } else {
        for (uint16_t i = 0; i < ts->nnoprog; i++)
            if (file_apply(&c, &ts->files[ts->noprog_files[i]], out, &any)) return true;
    }
    for (uint16_t i = 0; i < ts->nany; i++)
        if (file_apply(&c, &ts->files[ts->any_files[i]], out, &any)) return true;
    return any;
}
