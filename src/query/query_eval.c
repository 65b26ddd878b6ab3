/* query_eval.c — the in-memory evaluator: does one record match a parsed query.
 *
 * This is the streaming-rule path, so it allocates nothing (but inside glibc's regexec)
 * and keeps no state: the AST is read-only, and a record is read through the same helpers
 * the SQL layer uses to store it (string up to its first NUL, ASCII folding, address text
 * or bytes), which is what makes the two agree. A term `k OP v` holds when ANY value of k satisfies it; `k != v` is
 * `!(k = v)`. Also here: the time bounds a query implies, and the regex engine shared with
 * the SQLite REGEXP functions. */
#include <arpa/inet.h>
#include <stdio.h>

#include "query_int.h"

bool vk_query_ip_text(const char *s, size_t n, uint8_t out[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf || memchr(s, 0, n)) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (!memchr(s, ':', n)) {
        uint8_t a4[4];
        if (inet_pton(AF_INET, buf, a4) != 1) return false;
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, a4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out) == 1;
}

bool vk_query_item_ip(const struct vk_meta *m, const struct vk_meta_item *it, uint8_t out[16])
{
    if (!m->arena || it->len == 0) return false;
    const char *s = m->arena + it->off;
    if (vk_query_ip_text(s, it->len, out)) return true;
    if (it->len == 4) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, s, 4);
        return true;
    }
    if (it->len == 16) {
        memcpy(out, s, 16);
        return true;
    }
    return false;
}

/* ---- the regex engine: POSIX ERE, shared with the SQLite functions ------------------------ */

int vk_query_regex_check(const char *pat, size_t n, const char **why)
{
    return vk_regex_check(pat, n, VK_QUERY_MAX_REGEX, why);
}

int vk_query_regcomp(regex_t *re, const char *pat, bool icase, char *err, size_t errlen)
{
    int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
    if (rc != 0) {
        if (err) regerror(rc, re, err, errlen);
        return -1;
    }
    return 0;
}

bool vk_query_regexec(const regex_t *re, const char *s, size_t n)
{
    regmatch_t pm[1] = {{.rm_so = 0, .rm_eo = (regoff_t)n}};
    return regexec(re, s, 1, pm, REG_STARTEND) == 0;
}

/* ---- matching one term ------------------------------------------------------------------ */

static bool num_match(const struct q_node *t, int64_t v)
{
    switch (t->op) {
    case QO_EQ:
        for (size_t i = 0; i < t->nvals; i++)
            if (v >= t->v.num[i].lo && v <= t->v.num[i].hi) return true;
        return false;
    case QO_LT: return v < t->v.num[0].lo;
    case QO_LE: return v <= t->v.num[0].lo;
    case QO_GT: return v > t->v.num[0].lo;
    case QO_GE: return v >= t->v.num[0].lo;
    default: return false;
    }
}

static bool ip_match(const struct q_node *t, const uint8_t a[16])
{
    for (size_t i = 0; i < t->nvals; i++)
        if (memcmp(t->v.ip[i].lo, a, 16) <= 0 && memcmp(a, t->v.ip[i].hi, 16) <= 0) return true;
    return false;
}

/* Equal over n bytes, the needle already folded when !cs. */
static bool same(const char *s, const char *w, size_t n, bool cs)
{
    if (cs) return memcmp(s, w, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (vk_query_fold((unsigned char)s[i]) != (unsigned char)w[i]) return false;
    return true;
}

/* O(n * k) at worst; k is the needle. */
static bool find(const char *s, size_t n, const char *w, size_t k, bool cs)
{
    if (k > n) return false;
    if (cs) return memmem(s, n, w, k) != NULL;
    unsigned char w0 = (unsigned char)w[0];
    for (size_t i = 0; i + k <= n; i++)
        if (vk_query_fold((unsigned char)s[i]) == w0 && same(s + i + 1, w + 1, k - 1, false))
            return true;
    return false;
}

static bool str_match(const struct q_node *t, const char *s, size_t n)
{
    const struct q_str *w = &t->v.str[0];
    switch (t->op) {
    case QO_EQ:
        for (size_t i = 0; i < t->nvals; i++)
            if (t->v.str[i].n == n && same(s, t->v.str[i].fold, n, t->cs)) return true;
        return false;
    case QO_CONTAINS: return w->n == 0 || find(s, n, w->fold, w->n, t->cs);
    case QO_BEGINS: return w->n <= n && same(s, w->fold, w->n, t->cs);
    case QO_ENDS: return w->n <= n && same(s + n - w->n, w->fold, w->n, t->cs);
    case QO_REGEX: return vk_query_regexec(t->re, s, n);
    default: return false;
    }
}

void vk_query_rec_times(const struct vk_meta *m, int64_t *time, int64_t *time_end)
{
    bool has_t = false, has_e = false;
    *time = 0;
    *time_end = 0;
    for (uint32_t i = 0; i < m->n && !(has_t && has_e); i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key == VK_K_TIME && !has_t) *time = vk_query_item_num(it), has_t = true;
        if (it->key == VK_K_TIME_END && !has_e) *time_end = vk_query_item_num(it), has_e = true;
    }
    if (!has_e) *time_end = *time;
}

static bool term(const struct q_node *t, const struct vk_meta *m)
{
    if (t->key == VK_K_TIME || t->key == VK_K_TIME_END) {
        if (t->kind == QN_EXISTS) return true; /* every record has both */
        int64_t tm, te;
        vk_query_rec_times(m, &tm, &te);
        return num_match(t, t->key == VK_K_TIME ? tm : te);
    }
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != t->key) continue;
        switch (t->type) {
        case VK_T_UINT:
        case VK_T_TIME:
            if (t->kind == QN_EXISTS || num_match(t, vk_query_item_num(it))) return true;
            break;
        case VK_T_IP: {
            uint8_t a[16];
            if (vk_query_item_ip(m, it, a) && (t->kind == QN_EXISTS || ip_match(t, a))) return true;
            break;
        }
        case VK_T_STR: {
            size_t n;
            const char *s = vk_query_item_str(m, it, &n);
            if (t->kind == QN_EXISTS || str_match(t, s, n)) return true;
            break;
        }
        }
    }
    return false;
}

/* Recursion depth is the nesting depth of the query, capped at parse time. */
static bool eval(const struct q_node *n, const struct vk_meta *m)
{
    switch (n->kind) {
    case QN_AND:
        for (size_t i = 0; i < n->nkids; i++)
            if (!eval(n->kids[i], m)) return false;
        return true;
    case QN_OR:
        for (size_t i = 0; i < n->nkids; i++)
            if (eval(n->kids[i], m)) return true;
        return false;
    case QN_NOT: return !eval(n->kids[0], m);
    case QN_CMP:
    case QN_EXISTS: return term(n, m);
    }
    return false;
}

bool vk_query_match(const struct vk_query *q, const struct vk_meta *rec)
{
    return q && q->root && eval(q->root, rec);
}

/* ---- time bounds ------------------------------------------------------------------------ */

static bool bounds(const struct q_node *n, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    switch (n->kind) {
    case QN_CMP: {
        if (n->key != VK_K_TIME) return false;
        int64_t v = n->v.num[0].lo;
        switch (n->op) {
        case QO_EQ:
            *lo = INT64_MAX;
            *hi = INT64_MIN;
            for (size_t i = 0; i < n->nvals; i++) {
                if (n->v.num[i].lo < *lo) *lo = n->v.num[i].lo;
                if (n->v.num[i].hi > *hi) *hi = n->v.num[i].hi;
            }
            return true;
        case QO_LT:
            if (v == INT64_MIN) *lo = INT64_MAX, *hi = INT64_MIN;
            else *hi = v - 1;
            return true;
        case QO_LE: *hi = v; return true;
        case QO_GT:
            if (v == INT64_MAX) *lo = INT64_MAX, *hi = INT64_MIN;
            else *lo = v + 1;
            return true;
        case QO_GE: *lo = v; return true;
        default: return false;
        }
    }
    case QN_AND: {
        bool any = false;
        for (size_t i = 0; i < n->nkids; i++) {
            int64_t a, b;
            if (!bounds(n->kids[i], &a, &b)) continue;
            any = true;
            if (a > *lo) *lo = a;
            if (b < *hi) *hi = b;
        }
        if (any && *lo > *hi) *lo = INT64_MAX, *hi = INT64_MIN; /* empty, whatever the ends */
        if (!any) *lo = INT64_MIN, *hi = INT64_MAX;
        return any;
    }
    case QN_OR: {
        int64_t l = INT64_MAX, h = INT64_MIN;
        for (size_t i = 0; i < n->nkids; i++) {
            int64_t a, b;
            if (!bounds(n->kids[i], &a, &b)) return false;
            if (a > b) continue; /* an empty branch widens nothing */
            if (a < l) l = a;
            if (b > h) h = b;
        }
        *lo = l;
        *hi = h;
        return true;
    }
    default: return false;
    }
}

bool vk_query_time_bounds(const struct vk_query *q, int64_t *lo, int64_t *hi)
{
    if (!q || !q->root) {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        return false;
    }
    return bounds(q->root, lo, hi);
}
