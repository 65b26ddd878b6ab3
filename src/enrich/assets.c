/* assets.c — business context: the asset inventory of a data dir and the priority formula.
 *
 * `vakt assets import` turns CSV or JSON rows (an IP, a CIDR or a host name, with name,
 * owner, business processes, criticality 1-5, data classification and compliance scopes)
 * into D/assets/assets.json. The loaded inventory answers "which asset is this address /
 * host name" for both sides of a record: addresses through the same interval index as
 * the threat matcher (the most specific CIDR wins), host names through a sorted array
 * (exact names, then "*.domain" entries for every parent). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich_int.h"

#define ASSETS_MAX 1000000

struct asset {
    char *match, *name, *owner, *process, *cls, *compliance; /* process, compliance: "a;b" */
    unsigned crit;                                           /* 1-5, 0 = unknown */
};
struct hostent_ {
    const char *h; /* lower-case; for "*.x" entries just "x" */
    bool wild;
    uint32_t idx;
};
struct assets {
    struct asset *a;
    size_t n;
    struct ipidx v4, v6;
    struct hostent_ *hosts;
    size_t nhosts;
};

static void asset_clear(struct asset *a)
{
    free(a->match);
    free(a->name);
    free(a->owner);
    free(a->process);
    free(a->cls);
    free(a->compliance);
    memset(a, 0, sizeof *a);
}

void assets_free(struct assets *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) asset_clear(&a->a[i]);
    free(a->a);
    free(a->hosts);
    ipidx_free(&a->v4);
    ipidx_free(&a->v6);
    free(a);
}

size_t assets_count(const struct assets *a) { return a ? a->n : 0; }

static int cmp_host(const void *x, const void *y)
{
    const struct hostent_ *a = x, *b = y;
    int c = strcmp(a->h, b->h);
    return c ? c : (int)a->wild - (int)b->wild;
}

static char *dupj(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v)) return strdup(json_string_value(v));
    if (json_is_array(v)) { /* lists are kept joined with ';' */
        size_t i, len = 1;
        json_t *x;
        json_array_foreach(v, i, x) if (json_is_string(x)) len += strlen(json_string_value(x)) + 1;
        char *s = calloc(1, len);
        if (!s) return NULL;
        json_array_foreach(v, i, x) if (json_is_string(x)) {
            if (*s) strcat(s, ";");
            strcat(s, json_string_value(x));
        }
        return s;
    }
    return strdup("");
}

/* Index an inventory (a->a filled). */
static int assets_index(struct assets *as)
{
    struct iprange *r4 = calloc(as->n + 1, sizeof *r4), *r6 = calloc(as->n + 1, sizeof *r6);
    as->hosts = calloc(as->n + 1, sizeof *as->hosts);
    size_t n4 = 0, n6 = 0;
    if (!r4 || !r6 || !as->hosts) {
        free(r4);
        free(r6);
        return VK_ENOMEM;
    }
    for (size_t i = 0; i < as->n; i++) {
        const char *m = as->a[i].match;
        struct ipnet net;
        if (ioc_parse_ip(m, strlen(m), &net)) {
            u128 lo = net.family == 4 ? (u128)((uint32_t)net.a[0] << 24 | net.a[1] << 16 | net.a[2] << 8 | net.a[3])
                                      : ip_u128(net.a);
            unsigned bits = net.family == 4 ? 32 : 128;
            u128 span = net.plen == 0 ? (bits == 128 ? ~(u128)0 : 0xffffffffu) : (((u128)1 << (bits - net.plen)) - 1);
            struct iprange *r = net.family == 4 ? &r4[n4++] : &r6[n6++];
            *r = (struct iprange){lo, lo + span, (uint32_t)i};
        } else {
            bool wild = m[0] == '*' && m[1] == '.';
            as->hosts[as->nhosts++] = (struct hostent_){wild ? m + 2 : m, wild, (uint32_t)i};
        }
    }
    uint32_t *pool = NULL;
    size_t pl = 0, pc = 0;
    int rc = ipidx_build(&as->v4, 4, r4, n4, IPIDX_TOP, &pool, &pl, &pc);
    if (!rc) rc = ipidx_build(&as->v6, 6, r6, n6, IPIDX_TOP, &pool, &pl, &pc);
    free(pool);
    free(r4);
    free(r6);
    qsort(as->hosts, as->nhosts, sizeof *as->hosts, cmp_host);
    return rc;
}

static json_t *assets_json_load(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    json_t *arr = json_object_get(root, "assets");
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "%s line %d: %s", path, je.line, root ? "no \"assets\" array" : je.text);
        json_decref(root);
        return NULL;
    }
    return root;
}

struct assets *assets_load(const char *datadir, char *err, size_t errlen)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/assets/assets.json", datadir);
    json_t *root = assets_json_load(p, err, errlen);
    if (!root) return NULL;
    json_t *arr = json_object_get(root, "assets");
    struct assets *as = calloc(1, sizeof *as);
    if (as) as->a = calloc(json_array_size(arr) + 1, sizeof *as->a);
    if (!as || !as->a) {
        free(as);
        json_decref(root);
        snprintf(err, errlen, "%s: out of memory", p);
        return NULL;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *m = json_string_value(json_object_get(o, "match"));
        if (!m || !*m) continue;
        struct asset *a = &as->a[as->n++];
        a->match = strdup(m);
        a->name = dupj(o, "name");
        a->owner = dupj(o, "owner");
        a->process = dupj(o, "process");
        a->cls = dupj(o, "classification");
        a->compliance = dupj(o, "compliance");
        json_t *c = json_object_get(o, "criticality");
        a->crit = json_is_integer(c) && json_integer_value(c) >= 1 && json_integer_value(c) <= 5
                      ? (unsigned)json_integer_value(c)
                      : 0;
    }
    json_decref(root);
    if (assets_index(as)) {
        assets_free(as);
        snprintf(err, errlen, "%s: out of memory", p);
        return NULL;
    }
    return as;
}

/* O(1) table read + a short binary search. */
long assets_find_ip(const struct assets *a, int family, const uint8_t *addr)
{
    uint32_t v = family == 4 ? ipidx_get4(&a->v4, (uint32_t)addr[0] << 24 | addr[1] << 16 | addr[2] << 8 | addr[3])
                             : ipidx_get6(&a->v6, ip_u128(addr));
    return v ? (long)v - 1 : -1;
}

static long host_bsearch(const struct assets *a, const char *h, bool wild)
{
    size_t lo = 0, hi = a->nhosts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(a->hosts[mid].h, h);
        if (c == 0) c = (int)a->hosts[mid].wild - (int)wild;
        if (c == 0) return a->hosts[mid].idx;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* O(labels * log hosts); no allocation. */
long assets_find_host(const struct assets *a, const char *host, size_t n)
{
    if (!a->nhosts) return -1;
    char h[1100];
    size_t hl = ioc_norm_domain(host, n, h, sizeof h);
    if (!hl) return -1;
    long x = host_bsearch(a, h, false);
    if (x >= 0) return x;
    for (char *d = h; d; d = strchr(d, '.')) {
        if (*d == '.') d++;
        x = host_bsearch(a, d, true);
        if (x >= 0) return x;
    }
    return -1;
}

static void add_list(struct vk_meta *rec, enum vk_key k, const char *s)
{
    while (s && *s) {
        const char *e = strchr(s, ';');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && *s == ' ') s++, n--;
        while (n && s[n - 1] == ' ') n--;
        if (n) vk_meta_add_str(rec, k, s, n);
        s = e ? e + 1 : NULL;
    }
}

void assets_meta(const struct assets *a, long src, long dst, struct vk_meta *rec)
{
    unsigned crit = 0;
    const long side[2] = {src, dst};
    for (int i = 0; i < 2; i++) {
        if (side[i] < 0) continue;
        const struct asset *x = &a->a[side[i]];
        const char *nm = *x->name ? x->name : x->match;
        vk_meta_add_cstr(rec, i ? VK_K_ASSET_DST_NAME : VK_K_ASSET_SRC_NAME, nm);
        vk_meta_add_cstr(rec, VK_K_ASSET_NAME, nm);
        if (x->crit) vk_meta_add_uint(rec, i ? VK_K_ASSET_DST_CRITICALITY : VK_K_ASSET_SRC_CRITICALITY, x->crit);
        if (x->crit > crit) crit = x->crit;
        if (*x->owner) vk_meta_add_cstr(rec, VK_K_ASSET_OWNER, x->owner);
        add_list(rec, VK_K_ASSET_PROCESS, x->process);
        if (*x->cls) vk_meta_add_cstr(rec, VK_K_ASSET_CLASS, x->cls);
        add_list(rec, VK_K_ASSET_COMPLIANCE, x->compliance);
    }
    if (crit) vk_meta_set_uint(rec, VK_K_ASSET_CRITICALITY, crit);
}

/* ---- import ----------------------------------------------------------------------------- */
enum { F_MATCH, F_NAME, F_OWNER, F_PROCESS, F_CRIT, F_CLASS, F_COMPLIANCE, F__N };
static const struct {
    const char *n;
    int f;
} colnames[] = {
    {"ip", F_MATCH},          {"cidr", F_MATCH},         {"address", F_MATCH},     {"host", F_MATCH},
    {"hostname", F_MATCH},    {"match", F_MATCH},        {"name", F_NAME},         {"owner", F_OWNER},
    {"process", F_PROCESS},   {"processes", F_PROCESS},  {"business_process", F_PROCESS},
    {"business_processes", F_PROCESS}, {"criticality", F_CRIT}, {"classification", F_CLASS},
    {"data_classification", F_CLASS},  {"class", F_CLASS},      {"compliance", F_COMPLIANCE},
    {"scopes", F_COMPLIANCE}, {"compliance_scopes", F_COMPLIANCE},
};

static int col_of(const char *n)
{
    char b[64];
    size_t k = 0;
    for (; n[k] && k + 1 < sizeof b; k++) b[k] = (char)(n[k] >= 'A' && n[k] <= 'Z' ? n[k] + 32 : n[k] == ' ' || n[k] == '-' ? '_' : n[k]);
    b[k] = 0;
    for (size_t i = 0; i < sizeof colnames / sizeof *colnames; i++)
        if (!strcmp(b, colnames[i].n)) return colnames[i].f;
    return -1;
}

/* One row, validated, into the inventory JSON (replacing an entry with the same match). */
static int add_row(json_t *inv, const char *file, size_t row, const char *const f[F__N][8], const unsigned nf[F__N],
                   char *err, size_t errlen)
{
    if (nf[F_MATCH] == 0) {
        snprintf(err, errlen, "%s row %zu: no ip, cidr or host", file, row);
        return VK_EINVAL;
    }
    json_int_t crit = 0;
    if (nf[F_CRIT] && *f[F_CRIT][0]) {
        char *end;
        long c = strtol(f[F_CRIT][0], &end, 10);
        while (*end == ' ') end++;
        if (*end || c < 1 || c > 5) {
            snprintf(err, errlen, "%s row %zu: criticality must be a whole number 1-5, not '%.40s'", file, row,
                     f[F_CRIT][0]);
            return VK_EINVAL;
        }
        crit = c;
    }
    for (unsigned k = 0; k < nf[F_MATCH]; k++) {
        const char *m = f[F_MATCH][k];
        while (*m == ' ') m++;
        if (!*m) continue;
        char norm[1100];
        struct ipnet net;
        size_t ml = strlen(m);
        while (ml && m[ml - 1] == ' ') ml--;
        if (ioc_parse_ip(m, ml, &net)) {
            ioc_net_str(&net, norm);
        } else {
            bool wild = ml > 2 && m[0] == '*' && m[1] == '.';
            size_t dl = ioc_norm_domain(m + (wild ? 2 : 0), ml - (wild ? 2 : 0), norm + (wild ? 2 : 0), sizeof norm - 2);
            if (!dl) {
                snprintf(err, errlen, "%s row %zu: '%.60s' is not an IP, a CIDR or a host name", file, row, m);
                return VK_EINVAL;
            }
            if (wild) norm[0] = '*', norm[1] = '.';
        }
        json_t *o = json_object();
        json_object_set_new(o, "match", json_string(norm));
        const int keys[] = {F_NAME, F_OWNER, F_CLASS};
        const char *kn[] = {"name", "owner", "classification"};
        for (int i = 0; i < 3; i++)
            if (nf[keys[i]] && *f[keys[i]][0]) json_object_set_new(o, kn[i], json_string(f[keys[i]][0]));
        const int lk[] = {F_PROCESS, F_COMPLIANCE};
        const char *ln[] = {"process", "compliance"};
        for (int i = 0; i < 2; i++) {
            json_t *arr = json_array();
            for (unsigned j = 0; j < nf[lk[i]]; j++) {
                char buf[1024];
                snprintf(buf, sizeof buf, "%s", f[lk[i]][j]);
                char *save = NULL;
                for (char *t = strtok_r(buf, ";|", &save); t; t = strtok_r(NULL, ";|", &save)) {
                    while (*t == ' ') t++;
                    char *e = t + strlen(t);
                    while (e > t && e[-1] == ' ') *--e = 0;
                    if (*t) json_array_append_new(arr, json_string(t));
                }
            }
            if (json_array_size(arr)) json_object_set_new(o, ln[i], arr);
            else json_decref(arr);
        }
        if (crit) json_object_set_new(o, "criticality", json_integer(crit));
        /* replace an earlier entry for the same address or host */
        size_t i;
        json_t *x;
        bool done = false;
        json_array_foreach(inv, i, x) {
            if (!strcmp(json_string_value(json_object_get(x, "match")), norm)) {
                json_array_set(inv, i, o);
                done = true;
                break;
            }
        }
        if (!done) json_array_append(inv, o);
        json_decref(o);
    }
    return 0;
}

/* A CSV record of one line (quotes and "" escapes). Returns the field count or -1. */
static int csv_line(char *l, char **fld, int max)
{
    int n = 0;
    char *w = l, *r = l;
    while (n < max) {
        fld[n++] = w;
        if (*r == '"') {
            r++;
            for (;;) {
                if (!*r) return -1;
                if (*r == '"' && r[1] == '"') *w++ = '"', r += 2;
                else if (*r == '"') {
                    r++;
                    break;
                } else *w++ = *r++;
            }
        }
        while (*r && *r != ',') *w++ = *r++;
        char c = *r; /* w may have caught up with r: read before writing */
        *w++ = 0;
        if (c != ',') break;
        r++;
    }
    return n;
}

static int import_rows(json_t *inv, const char *file, const char *buf, size_t len, size_t *count, char *err,
                       size_t errlen)
{
    const char *f[F__N][8];
    unsigned nf[F__N];
    size_t s = 0;
    while (s < len && (buf[s] == ' ' || buf[s] == '\n' || buf[s] == '\r' || buf[s] == '\t')) s++;
    if (s < len && (buf[s] == '[' || buf[s] == '{')) { /* JSON */
        json_error_t je;
        json_t *root = json_loadb(buf, len, 0, &je);
        json_t *arr = json_is_array(root) ? root : json_object_get(root, "assets");
        if (!json_is_array(arr)) {
            snprintf(err, errlen, "%s line %d: %s", file, je.line, root ? "not an array of assets" : je.text);
            json_decref(root);
            return VK_EFORMAT;
        }
        size_t i;
        json_t *o;
        char nums[8][32];
        json_array_foreach(arr, i, o) {
            if (!json_is_object(o)) {
                snprintf(err, errlen, "%s row %zu: not an object", file, i + 1);
                json_decref(root);
                return VK_EFORMAT;
            }
            memset(nf, 0, sizeof nf);
            const char *k;
            json_t *v;
            unsigned nn = 0;
            json_object_foreach(o, k, v) {
                int c = col_of(k);
                if (c < 0) {
                    snprintf(err, errlen, "%s row %zu: unknown field '%.40s' (known: ip, cidr, host, name, owner, "
                             "process, criticality, classification, compliance)", file, i + 1, k);
                    json_decref(root);
                    return VK_EINVAL;
                }
                if (json_is_string(v) && nf[c] < 8) f[c][nf[c]++] = json_string_value(v);
                else if (json_is_integer(v) && nf[c] < 8 && nn < 8) {
                    snprintf(nums[nn], sizeof nums[nn], "%lld", (long long)json_integer_value(v));
                    f[c][nf[c]++] = nums[nn++];
                } else if (json_is_array(v)) {
                    size_t j;
                    json_t *x;
                    json_array_foreach(v, j, x) if (json_is_string(x) && nf[c] < 8) f[c][nf[c]++] = json_string_value(x);
                } else if (!json_is_null(v)) {
                    snprintf(err, errlen, "%s row %zu: field '%.40s' is neither text, a number nor a list", file, i + 1, k);
                    json_decref(root);
                    return VK_EINVAL;
                }
            }
            if (add_row(inv, file, i + 1, f, nf, err, errlen)) {
                json_decref(root);
                return VK_EINVAL;
            }
            (*count)++;
        }
        json_decref(root);
        return 0;
    }
    /* CSV with a header row */
    char *copy = strndup(buf, len);
    if (!copy) return VK_ENOMEM;
    int cols[64], ncol = -1, rc = 0;
    size_t row = 0;
    char *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t ll = strlen(l);
        if (ll && l[ll - 1] == '\r') l[--ll] = 0;
        if (!ll || l[0] == '#') continue;
        char *fld[64];
        int n = csv_line(l, fld, 64);
        if (n < 0) {
            snprintf(err, errlen, "%s row %zu: unterminated quoted field", file, row + 1);
            rc = VK_EFORMAT;
            break;
        }
        if (ncol < 0) {
            ncol = n;
            for (int i = 0; i < n; i++) {
                cols[i] = col_of(fld[i]);
                if (cols[i] < 0) {
                    snprintf(err, errlen, "%s: unknown column '%.40s' (known: ip, cidr, host, name, owner, process, "
                             "criticality, classification, compliance)", file, fld[i]);
                    rc = VK_EINVAL;
                    break;
                }
            }
            if (rc) break;
            continue;
        }
        row++;
        memset(nf, 0, sizeof nf);
        for (int i = 0; i < n && i < ncol; i++)
            if (nf[cols[i]] < 8 && *fld[i]) f[cols[i]][nf[cols[i]]++] = fld[i];
        if ((rc = add_row(inv, file, row, f, nf, err, errlen)) != 0) break;
        (*count)++;
    }
    if (rc == 0 && ncol < 0) {
        snprintf(err, errlen, "%s: empty (a CSV file needs a header row)", file);
        rc = VK_EFORMAT;
    }
    free(copy);
    return rc;
}

int vk_enrich_assets_import(const char *datadir, const char *file, bool replace, size_t *count, char *err,
                            size_t errlen)
{
    char *buf;
    size_t n;
    *count = 0;
    if (read_file(file, 256u << 20, &buf, &n, err, errlen)) return VK_EIO;
    char dir[4200], p[4300], tmp[4400];
    snprintf(dir, sizeof dir, "%s", datadir);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/assets", datadir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        free(buf);
        return VK_EIO;
    }
    snprintf(p, sizeof p, "%s/assets.json", dir);
    json_t *root = NULL;
    if (!replace && access(p, F_OK) == 0) {
        root = assets_json_load(p, err, errlen);
        if (!root) {
            free(buf);
            return VK_EFORMAT;
        }
    } else {
        root = json_pack("{s:i,s:[]}", "version", 1, "assets");
    }
    json_t *inv = json_object_get(root, "assets");
    int rc = import_rows(inv, file, buf, n, count, err, errlen);
    free(buf);
    if (rc == 0 && json_array_size(inv) > ASSETS_MAX) {
        snprintf(err, errlen, "%s: over %d assets", file, ASSETS_MAX);
        rc = VK_ENOMEM;
    }
    if (rc == 0) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", p, (int)getpid());
        if (json_dump_file(root, tmp, JSON_INDENT(1)) != 0 || rename(tmp, p) != 0) {
            snprintf(err, errlen, "%s: %s", p, strerror(errno));
            unlink(tmp);
            rc = VK_EIO;
        }
    }
    json_decref(root);
    return rc;
}

/* ---- priority ----------------------------------------------------------------------------- */
unsigned vk_enrich_priority(unsigned severity, unsigned criticality, unsigned confidence)
{
    if (severity < 1) severity = 1;
    if (severity > 5) severity = 5;
    if (criticality == 0) criticality = 3;
    if (criticality > 5) criticality = 5;
    if (confidence > 100) confidence = 100;
    double s = severity / 5.0, a = 0.4 + 0.15 * (criticality - 1), c = confidence / 100.0;
    return (unsigned)lround(100.0 * s * a * (0.6 + 0.4 * c));
}

const char *vk_enrich_priority_band(unsigned p)
{
    return p >= 80 ? "critical" : p >= 60 ? "high" : p >= 35 ? "medium" : p >= 15 ? "low" : "info";
}
