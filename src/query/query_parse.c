/* query_parse.c — query text to a typed AST, and the AST back to text (vk_query_dump).
 *
 * A recursive-descent parser over the text, with the lexing done in place: `||` binds
 * loosest, then `&&`, then `!`; terms are `KEY OP VALUES`, `exists KEY` or a parenthesised
 * query. Each term is typed against the key registry as soon as it is read, so that an
 * unknown key or a value of the wrong type is reported with the key and the column where
 * it sits. Everything the AST holds lives in one bump allocator owned by the query, plus
 * the compiled regexes. Bounds (length, depth, list sizes, terms) are checked while
 * reading, so no input can make the parser recurse or allocate without limit.
 * The grammar and its semantics are documented in docs/QUERY.md. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "query_int.h"

/* ---- memory ------------------------------------------------------------------------------- */

struct q_chunk {
    struct q_chunk *next;
    size_t used, cap;
    max_align_t data[];
};
struct q_regex {
    struct q_regex *next;
    regex_t re;
};

/* Zeroed memory that lives as long as q. Amortised O(1). */
static void *q_alloc(struct vk_query *q, size_t n)
{
    const size_t al = sizeof(max_align_t);
    n = n ? (n + al - 1) / al * al : al;
    struct q_chunk *c = q->mem;
    if (n > 1024) { /* a big array gets a chunk of its own, behind the current one */
        struct q_chunk *b = malloc(sizeof *b + n);
        if (!b) return NULL;
        b->used = b->cap = n;
        if (c) {
            b->next = c->next;
            c->next = b;
        } else {
            b->next = NULL;
            q->mem = b;
        }
        memset(b->data, 0, n);
        return b->data;
    }
    if (!c || c->cap - c->used < n) {
        c = malloc(sizeof *c + 4096);
        if (!c) return NULL;
        c->used = 0;
        c->cap = 4096;
        c->next = q->mem;
        q->mem = c;
    }
    unsigned char *p = (unsigned char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void vk_query_free(struct vk_query *q)
{
    if (!q) return;
    for (struct q_regex *r = q->regs, *nx; r; r = nx) {
        nx = r->next;
        regfree(&r->re);
        free(r);
    }
    for (struct q_chunk *c = q->mem, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    free(q);
}

/* ---- the parser's state and errors -------------------------------------------------------- */

struct raw {        /* one value as written, unescaped, NUL-terminated, in the arena */
    size_t pos;     /* 0-based offset in the text */
    char *s;
    size_t n;
};

struct parser {
    const char *s;
    size_t n, i;
    int64_t now;
    struct vk_query *q;
    struct vk_query_err *err;
    int depth;
    unsigned terms, values;
    bool failed;
};

/* Record the first error: "query: <what> at column N<tail>". Returns NULL for convenience. */
__attribute__((format(printf, 4, 5))) static void *perr(struct parser *p, size_t at,
                                                        const char *tail, const char *fmt, ...)
{
    if (p->failed) return NULL;
    p->failed = true;
    char what[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    p->err->pos = (int)at + 1;
    snprintf(p->err->msg, sizeof p->err->msg, "query: %.190s at column %d%.60s", what, p->err->pos,
             tail ? tail : "");
    return NULL;
}

static void *oom(struct parser *p) { return perr(p, p->i, NULL, "out of memory"); }

/* Printable form of a value for a message: at most 40 bytes, control bytes as '?'. */
static const char *show(const char *s, size_t n, char out[48])
{
    size_t k = n > 40 ? 40 : n;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > k) memcpy(out + k, "...", 3), k += 3;
    out[k] = 0;
    return out;
}

/* One character for a message: 'x', or \xHH for bytes that do not print. */
static const char *showc(unsigned char c, char out[8])
{
    if (c >= 0x21 && c < 0x7f) snprintf(out, 8, "'%c'", c);
    else snprintf(out, 8, "\\x%02x", c);
    return out;
}

/* ---- lexing ------------------------------------------------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool key_char(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-'; }
/* Bare values stop at space, a comma, a bracket, a quote or a character of an operator. */
static bool bare_char(char ch)
{
    unsigned char c = (unsigned char)ch;
    return c > 0x20 && c != 0x7f && !strchr(",()'\"!&|=<>", c);
}

static void skip_ws(struct parser *p)
{
    while (p->i < p->n && is_space(p->s[p->i])) p->i++;
}

static bool at(const struct parser *p, const char *lit)
{
    size_t k = strlen(lit);
    return p->n - p->i >= k && memcmp(p->s + p->i, lit, k) == 0;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static unsigned edit_distance(const char *a, size_t na, const char *b)
{
    unsigned row[65], prev;
    size_t nb = strlen(b);
    if (na > 64 || nb > 64) return 99;
    for (size_t j = 0; j <= nb; j++) row[j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++) {
        prev = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= nb; j++) {
            unsigned cur = row[j];
            unsigned best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[nb];
}

/* Key named s[0..n) (ASCII case-insensitive), or an error naming it with a suggestion. */
static int key_lookup(struct parser *p, size_t pos, const char *s, size_t n)
{
    char name[72], sh[48];
    if (n < sizeof name) {
        for (size_t i = 0; i < n; i++) name[i] = (char)vk_query_fold((unsigned char)s[i]);
        name[n] = 0;
        int k = vk_key_lookup(name);
        if (k >= 0) return k;
    }
    const char *best = NULL;
    unsigned bd = 3;
    for (int k = 0; k < VK_K__COUNT && n < sizeof name; k++) {
        unsigned d = edit_distance(name, n, vk_key_info(k)->name);
        if (d < bd && d < n) bd = d, best = vk_key_info(k)->name;
    }
    char tail[64] = "";
    if (best) snprintf(tail, sizeof tail, " (did you mean %s?)", best);
    perr(p, pos, tail, "unknown key '%s'", show(s, n, sh));
    return -1;
}

/* ---- values --------------------------------------------------------------------------------- */

/* A quoted string: \\, \' and \" are escapes; any other backslash is kept with the
 * character after it, so that regexes read as written ('\.' stays \.). */
static int read_quoted(struct parser *p, struct raw *r)
{
    char qc = p->s[p->i];
    size_t start = p->i, j = p->i + 1, len = 0;
    for (;;) {
        if (j >= p->n) {
            perr(p, start, NULL, "unterminated string");
            return -1;
        }
        char c = p->s[j];
        if (c == '\\' && j + 1 < p->n && (p->s[j + 1] == '\\' || p->s[j + 1] == '\'' || p->s[j + 1] == '"'))
            j += 2;
        else if (c == qc)
            break;
        else
            j++;
        len++;
    }
    char *o = q_alloc(p->q, len + 1);
    if (!o) return oom(p), -1;
    size_t k = 0;
    for (size_t i = start + 1; i < j;) {
        char c = p->s[i];
        if (c == '\\' && i + 1 < j && (p->s[i + 1] == '\\' || p->s[i + 1] == '\'' || p->s[i + 1] == '"'))
            c = p->s[i + 1], i += 2;
        else
            i++;
        o[k++] = c;
    }
    o[k] = 0;
    r->pos = start;
    r->s = o;
    r->n = k;
    p->i = j + 1;
    return 0;
}

/* YYYY-MM-DD ends s[0..n), as a whole word or after the '-' of a range. */
static bool ends_with_date(const char *s, size_t n)
{
    if (n < 10 || (n > 10 && s[n - 11] != '-')) return false;
    const char *d = s + n - 10;
    for (int i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? d[i] != '-' : !is_digit(d[i])) return false;
    return true;
}

/* A bare word; for time keys `2013-11-25 14:55` is one word (a date, a space, HH:MM). */
static int read_bare(struct parser *p, bool timekey, struct raw *r)
{
    size_t b = p->i;
    for (;;) {
        while (p->i < p->n && bare_char(p->s[p->i])) p->i++;
        const char *s = p->s + p->i;
        if (timekey && p->n - p->i >= 6 && s[0] == ' ' && ends_with_date(p->s + b, p->i - b) &&
            is_digit(s[1]) && is_digit(s[2]) && s[3] == ':' && is_digit(s[4]) && is_digit(s[5])) {
            p->i++;
            continue;
        }
        break;
    }
    char *o = q_alloc(p->q, p->i - b + 1);
    if (!o) return oom(p), -1;
    memcpy(o, p->s + b, p->i - b);
    r->pos = b;
    r->s = o;
    r->n = p->i - b;
    return 0;
}

/* VALUE (',' VALUE)*; the array is malloc'ed (the caller frees it), the strings are not. */
static int read_values(struct parser *p, bool timekey, struct raw **out, size_t *nout)
{
    struct raw *a = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        skip_ws(p);
        struct raw r;
        char sh[8];
        if (p->i >= p->n) {
            perr(p, p->i, NULL, "expected a value, found the end of the query");
            goto fail;
        }
        char c = p->s[p->i];
        if (c == '\'' || c == '"') {
            if (read_quoted(p, &r) < 0) goto fail;
        } else if (bare_char(c)) {
            if (read_bare(p, timekey, &r) < 0) goto fail;
        } else {
            perr(p, p->i, NULL, "expected a value (a word or a quoted string), found %s",
                 showc((unsigned char)c, sh));
            goto fail;
        }
        if (n == VK_QUERY_MAX_LIST) {
            perr(p, r.pos, NULL, "more than %d values in one list", VK_QUERY_MAX_LIST);
            goto fail;
        }
        if (++p->values > VK_QUERY_MAX_VALUES) {
            perr(p, r.pos, NULL, "more than %d values in one query", VK_QUERY_MAX_VALUES);
            goto fail;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            struct raw *na = realloc(a, nc * sizeof *na);
            if (!na) {
                oom(p);
                goto fail;
            }
            a = na;
            cap = nc;
        }
        a[n++] = r;
        size_t save = p->i;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        p->i = save;
        break;
    }
    *out = a;
    *nout = n;
    return 0;
fail:
    free(a);
    return -1;
}

/* Decimal digits from s[*i]: 0 with *v, -1 when there are none, -2 past INT64_MAX. */
static int read_num(const char *s, size_t n, size_t *i, int64_t *v)
{
    size_t b = *i;
    *v = 0;
    while (*i < n && is_digit(s[*i])) {
        if (__builtin_mul_overflow(*v, 10, v) || __builtin_add_overflow(*v, s[*i] - '0', v)) return -2;
        (*i)++;
    }
    return *i > b ? 0 : -1;
}

static int type_uint(struct parser *p, const char *key, const struct raw *r, bool eq, struct q_range *out)
{
    char sh[48];
    size_t i = 0;
    int64_t a, b;
    int rc = read_num(r->s, r->n, &i, &a);
    if (rc == 0 && i == r->n) {
        out->lo = out->hi = a;
        return 0;
    }
    if (rc == 0 && eq && r->s[i] == '-') {
        i++;
        rc = read_num(r->s, r->n, &i, &b);
        if (rc == 0 && i == r->n) {
            if (b < a) return perr(p, r->pos, NULL, "empty range '%s' for %s (write the low end first)",
                                   show(r->s, r->n, sh), key), -1;
            out->lo = a;
            out->hi = b;
            return 0;
        }
    }
    if (rc == -2) return perr(p, r->pos, NULL, "number out of range in '%s' for %s", show(r->s, r->n, sh), key), -1;
    perr(p, r->pos, NULL, "%s expects a number%s, not '%s'", key, eq ? " or a range like 1-1024" : "",
         show(r->s, r->n, sh));
    return -1;
}

static int type_time(struct parser *p, const char *key, const struct raw *r, bool eq, struct q_range *out)
{
    char sh[48];
    const char *why;
    size_t used = 0, used2 = 0;
    int64_t a, b;
    if (vk_query_time_prefix(r->s, r->n, p->now, &a, &used, &why) == 0) {
        if (used == r->n) {
            out->lo = out->hi = a;
            return 0;
        }
        why = "unexpected text after the time";
        if (eq && r->s[used] == '-') {
            if (vk_query_time_prefix(r->s + used + 1, r->n - used - 1, p->now, &b, &used2, &why) == 0) {
                if (used + 1 + used2 == r->n) {
                    if (b < a) return perr(p, r->pos, NULL, "empty range '%s' for %s (write the early end first)",
                                           show(r->s, r->n, sh), key), -1;
                    out->lo = a;
                    out->hi = b;
                    return 0;
                }
                why = "unexpected text after the time";
            }
        }
    }
    perr(p, r->pos, NULL, "%s expects a time%s, not '%s': %s", key, eq ? " or a range t1-t2" : "",
         show(r->s, r->n, sh), why);
    return -1;
}

static int type_ip(struct parser *p, const char *key, const struct raw *r, struct q_iprange *out)
{
    char sh[48];
    const char *dash = memchr(r->s, '-', r->n), *slash = memchr(r->s, '/', r->n);
    if (dash) {
        size_t k = (size_t)(dash - r->s);
        if (vk_query_ip_text(r->s, k, out->lo) && vk_query_ip_text(dash + 1, r->n - k - 1, out->hi)) {
            if (memcmp(out->lo, out->hi, 16) > 0)
                return perr(p, r->pos, NULL, "empty range '%s' for %s (write the low end first)",
                            show(r->s, r->n, sh), key), -1;
            return 0;
        }
    } else if (slash) {
        size_t k = (size_t)(slash - r->s), i = k + 1;
        int64_t bits;
        bool v4 = !memchr(r->s, ':', k);
        if (vk_query_ip_text(r->s, k, out->lo) && read_num(r->s, r->n, &i, &bits) == 0 && i == r->n &&
            i - k - 1 <= 3 && bits <= (v4 ? 32 : 128)) {
            if (v4) bits += 96;
            for (int b = 0; b < 128; b++)
                if (b >= bits) out->lo[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
            memcpy(out->hi, out->lo, 16);
            for (int b = (int)bits; b < 128; b++) out->hi[b / 8] |= (uint8_t)(0x80 >> (b % 8));
            return 0;
        }
    } else if (vk_query_ip_text(r->s, r->n, out->lo)) {
        memcpy(out->hi, out->lo, 16);
        return 0;
    }
    perr(p, r->pos, NULL, "%s expects an address, a CIDR or a range a-b, not '%s'", key, show(r->s, r->n, sh));
    return -1;
}

static int type_regex(struct parser *p, struct q_node *t, const struct raw *r)
{
    char sh[48], why2[128];
    const char *why;
    if (vk_query_regex_check(r->s, r->n, &why) < 0)
        return perr(p, r->pos, NULL, "bad regex '%s': %s", show(r->s, r->n, sh), why), -1;
    struct q_regex *qr = malloc(sizeof *qr);
    if (!qr) return oom(p), -1;
    if (vk_query_regcomp(&qr->re, r->s, !t->cs, why2, sizeof why2) < 0) {
        free(qr);
        return perr(p, r->pos, NULL, "bad regex '%s': %s", show(r->s, r->n, sh), why2), -1;
    }
    qr->next = p->q->regs;
    p->q->regs = qr;
    t->re = &qr->re;
    return 0;
}

/* ---- terms ---------------------------------------------------------------------------------- */

static struct q_node *new_node(struct parser *p, enum q_kind kind, size_t pos)
{
    struct q_node *n = q_alloc(p->q, sizeof *n);
    if (!n) return oom(p);
    n->kind = kind;
    n->pos = (int)pos + 1;
    return n;
}

static struct q_node *wrap_not(struct parser *p, struct q_node *kid, size_t pos)
{
    struct q_node *n = new_node(p, QN_NOT, pos);
    if (!n) return NULL;
    n->kids = q_alloc(p->q, sizeof *n->kids);
    if (!n->kids) return oom(p);
    n->kids[0] = kid;
    n->nkids = 1;
    return n;
}

static const struct {
    const char *word;
    enum q_op op;
    bool cs;
} word_ops[] = {
    {"contains", QO_CONTAINS, false}, {"contains_cs", QO_CONTAINS, true},
    {"begins", QO_BEGINS, false},     {"begins_cs", QO_BEGINS, true},
    {"ends", QO_ENDS, false},         {"ends_cs", QO_ENDS, true},
    {"regex", QO_REGEX, false},       {"regex_cs", QO_REGEX, true},
};

static const char *type_name(enum vk_type t)
{
    switch (t) {
    case VK_T_STR: return "string";
    case VK_T_UINT: return "number";
    case VK_T_IP: return "ip";
    case VK_T_TIME: return "time";
    }
    return "?";
}

/* KEY OP VALUES, the key already read. */
static struct q_node *comparison(struct parser *p, size_t kpos, enum vk_key k)
{
    const struct vk_keyinfo *ki = vk_key_info(k);
    enum vk_type t = ki->type;
    enum q_op op = 0;
    bool cs = false, neg = false;
    skip_ws(p);
    size_t opos = p->i;
    if (at(p, "!==")) op = QO_EQ, cs = neg = true, p->i += 3;
    else if (at(p, "!=")) op = QO_EQ, neg = true, p->i += 2;
    else if (at(p, "==")) op = QO_EQ, cs = true, p->i += 2;
    else if (at(p, "=")) op = QO_EQ, p->i += 1;
    else if (at(p, "<=")) op = QO_LE, p->i += 2;
    else if (at(p, "<")) op = QO_LT, p->i += 1;
    else if (at(p, ">=")) op = QO_GE, p->i += 2;
    else if (at(p, ">")) op = QO_GT, p->i += 1;
    else if (p->i < p->n && is_alpha(p->s[p->i])) {
        size_t e = p->i;
        while (e < p->n && (is_alpha(p->s[e]) || p->s[e] == '_')) e++;
        for (size_t w = 0; w < sizeof word_ops / sizeof *word_ops; w++)
            if (strlen(word_ops[w].word) == e - p->i && strncasecmp(word_ops[w].word, p->s + p->i, e - p->i) == 0)
                op = word_ops[w].op, cs = word_ops[w].cs;
        if (op) p->i = e;
    }
    if (!op)
        return perr(p, opos, NULL,
                    "expected an operator (=, !=, ==, <, <=, >, >=, contains, begins, ends, regex) after '%s'",
                    ki->name);
    int oplen = (int)(p->i - opos);
    bool ordering = op >= QO_LT && op <= QO_GE, strop = op >= QO_CONTAINS;
    if ((t == VK_T_STR && ordering) || (t != VK_T_STR && strop) || (t == VK_T_IP && ordering))
        return perr(p, opos, t == VK_T_IP ? " (use = or != with an address, a CIDR or a range)" : NULL,
                    "operator '%.*s' does not apply to %s key '%s'", oplen, p->s + opos, type_name(t), ki->name);
    if (t != VK_T_STR) cs = false;
    else if (vk_key_exact(k)) cs = true; /* identifiers: see docs/QUERY.md */

    struct raw *rv = NULL;
    size_t nr = 0;
    if (read_values(p, t == VK_T_TIME, &rv, &nr) < 0) return NULL;
    struct q_node *n = NULL;
    if (op != QO_EQ && nr > 1) {
        perr(p, rv[1].pos, NULL, "a list of values needs = or != (after '%s')", ki->name);
        goto out;
    }
    if (++p->terms > VK_QUERY_MAX_TERMS) {
        perr(p, kpos, NULL, "more than %d terms in one query", VK_QUERY_MAX_TERMS);
        goto out;
    }
    n = new_node(p, QN_CMP, kpos);
    if (!n) goto out;
    n->key = k;
    n->type = t;
    n->op = op;
    n->cs = cs;
    n->nvals = nr;
    switch (t) {
    case VK_T_STR:
        n->v.str = q_alloc(p->q, nr * sizeof *n->v.str);
        if (!n->v.str) goto nomem;
        for (size_t i = 0; i < nr; i++) {
            struct q_str *s = &n->v.str[i];
            s->s = rv[i].s;
            s->n = rv[i].n;
            s->fold = rv[i].s;
            if (!cs && op != QO_REGEX) {
                char *f = q_alloc(p->q, rv[i].n + 1);
                if (!f) goto nomem;
                for (size_t j = 0; j < rv[i].n; j++) f[j] = (char)vk_query_fold((unsigned char)rv[i].s[j]);
                s->fold = f;
            }
        }
        if (op == QO_REGEX && type_regex(p, n, &rv[0]) < 0) n = NULL;
        break;
    case VK_T_UINT:
    case VK_T_TIME:
        n->v.num = q_alloc(p->q, nr * sizeof *n->v.num);
        if (!n->v.num) goto nomem;
        for (size_t i = 0; i < nr && n; i++)
            if ((t == VK_T_UINT ? type_uint : type_time)(p, ki->name, &rv[i], op == QO_EQ, &n->v.num[i]) < 0)
                n = NULL;
        break;
    case VK_T_IP:
        n->v.ip = q_alloc(p->q, nr * sizeof *n->v.ip);
        if (!n->v.ip) goto nomem;
        for (size_t i = 0; i < nr && n; i++)
            if (type_ip(p, ki->name, &rv[i], &n->v.ip[i]) < 0) n = NULL;
        break;
    }
    if (n && neg) n = wrap_not(p, n, kpos);
out:
    free(rv);
    return n;
nomem:
    free(rv);
    return oom(p);
}

static struct q_node *parse_or(struct parser *p);

static struct q_node *primary(struct parser *p)
{
    char sh[8];
    skip_ws(p);
    size_t b = p->i;
    if (p->i >= p->n) return perr(p, p->i, NULL, "unexpected end of query: expected a key, exists, ! or (");
    char c = p->s[p->i];
    if (c == '(') {
        if (++p->depth > VK_QUERY_MAX_DEPTH)
            return perr(p, b, NULL, "nesting deeper than %d", VK_QUERY_MAX_DEPTH);
        p->i++;
        struct q_node *e = parse_or(p);
        if (!e) return NULL;
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ')')
            return perr(p, p->i, NULL, "missing ')' to close the '(' of column %zu", b + 1);
        p->i++;
        p->depth--;
        return e;
    }
    if (!is_alpha(c))
        return perr(p, b, NULL, "expected a key, exists, ! or (, found %s", showc((unsigned char)c, sh));
    while (p->i < p->n && key_char(p->s[p->i])) p->i++;
    size_t kn = p->i - b;
    if (kn == 6 && strncasecmp(p->s + b, "exists", 6) == 0) {
        skip_ws(p);
        if (p->i < p->n && is_alpha(p->s[p->i])) {
            size_t kb = p->i;
            while (p->i < p->n && key_char(p->s[p->i])) p->i++;
            int k = key_lookup(p, kb, p->s + kb, p->i - kb);
            if (k < 0) return NULL;
            if (++p->terms > VK_QUERY_MAX_TERMS)
                return perr(p, b, NULL, "more than %d terms in one query", VK_QUERY_MAX_TERMS);
            struct q_node *n = new_node(p, QN_EXISTS, b);
            if (!n) return NULL;
            n->key = (enum vk_key)k;
            n->type = vk_key_info(k)->type;
            return n;
        }
        if (p->i >= p->n || !strchr("=!<>", p->s[p->i]))
            return perr(p, p->i, NULL, "exists needs a key");
    }
    int k = key_lookup(p, b, p->s + b, kn);
    if (k < 0) return NULL;
    return comparison(p, b, (enum vk_key)k);
}

static struct q_node *unary(struct parser *p)
{
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '!') {
        size_t b = p->i++;
        if (++p->depth > VK_QUERY_MAX_DEPTH)
            return perr(p, b, NULL, "nesting deeper than %d", VK_QUERY_MAX_DEPTH);
        struct q_node *kid = unary(p);
        if (!kid) return NULL;
        p->depth--;
        return wrap_not(p, kid, b);
    }
    return primary(p);
}

static struct q_node *parse_and(struct parser *p);

/* sub (sep sub)*, flattened into one n-ary node of kind. */
static struct q_node *parse_list(struct parser *p, enum q_kind kind, const char *sep,
                                 struct q_node *(*sub)(struct parser *))
{
    struct q_node **v = NULL, *res = NULL;
    size_t n = 0, cap = 0;
    skip_ws(p);
    size_t b = p->i;
    for (;;) {
        struct q_node *e = sub(p);
        if (!e) goto out;
        size_t add = e->kind == kind ? e->nkids : 1;
        if (n + add > cap) {
            size_t nc = cap ? cap * 2 : 4;
            while (nc < n + add) nc *= 2;
            struct q_node **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                oom(p);
                goto out;
            }
            v = nv;
            cap = nc;
        }
        if (e->kind == kind)
            for (size_t i = 0; i < e->nkids; i++) v[n++] = e->kids[i];
        else
            v[n++] = e;
        skip_ws(p);
        if (!at(p, sep)) break;
        p->i += 2;
    }
    if (n == 1) {
        res = v[0];
        goto out;
    }
    res = new_node(p, kind, b);
    if (!res) goto out;
    res->kids = q_alloc(p->q, n * sizeof *res->kids);
    if (!res->kids) {
        res = oom(p);
        goto out;
    }
    memcpy(res->kids, v, n * sizeof *v);
    res->nkids = n;
out:
    free(v);
    return res;
}

static struct q_node *parse_and(struct parser *p) { return parse_list(p, QN_AND, "&&", unary); }
static struct q_node *parse_or(struct parser *p) { return parse_list(p, QN_OR, "||", parse_and); }

struct vk_query *vk_query_parse(const char *text, int64_t now_ms, struct vk_query_err *err)
{
    struct vk_query_err dummy;
    if (!err) err = &dummy;
    err->pos = 0;
    err->msg[0] = 0;
    if (!text) {
        snprintf(err->msg, sizeof err->msg, "query: no query");
        return NULL;
    }
    size_t n = strnlen(text, VK_QUERY_MAX_LEN + 1);
    if (n > VK_QUERY_MAX_LEN) {
        err->pos = VK_QUERY_MAX_LEN + 1;
        snprintf(err->msg, sizeof err->msg, "query: longer than %d bytes", VK_QUERY_MAX_LEN);
        return NULL;
    }
    struct vk_query *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err->msg, sizeof err->msg, "query: out of memory");
        return NULL;
    }
    struct parser p = {.s = text, .n = n, .now = now_ms, .q = q, .err = err};
    skip_ws(&p);
    if (p.i == n) {
        perr(&p, p.i, NULL, "empty query");
    } else {
        q->root = parse_or(&p);
        skip_ws(&p);
        if (q->root && p.i < n) {
            char c = p.s[p.i], sh[8];
            if (c == ')') perr(&p, p.i, NULL, "unbalanced ')'");
            else if (c == '&' || c == '|') perr(&p, p.i, NULL, "unexpected %s (write && or ||)", showc((unsigned char)c, sh));
            else perr(&p, p.i, NULL, "unexpected %s after a term (missing && or ||?)", showc((unsigned char)c, sh));
        }
    }
    if (p.failed) {
        vk_query_free(q);
        return NULL;
    }
    return q;
}

/* ---- dump ----------------------------------------------------------------------------------- */

struct dbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void dput(struct dbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void dputs(struct dbuf *b, const char *s) { dput(b, s, strlen(s)); }

static void dump_str(struct dbuf *b, const char *s, size_t n)
{
    dputs(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        if (c == '"' || c == '\\') e[0] = '\\', e[1] = (char)c, e[2] = 0;
        else if (c < 0x20 || c == 0x7f) snprintf(e, sizeof e, "\\x%02x", c);
        else e[0] = (char)c, e[1] = 0;
        dputs(b, e);
    }
    dputs(b, "\"");
}

static void dump_ip(struct dbuf *b, const uint8_t a[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char s[64];
    if (memcmp(a, mapped, 12) == 0) inet_ntop(AF_INET, a + 12, s, sizeof s);
    else inet_ntop(AF_INET6, a, s, sizeof s);
    dputs(b, s);
}

static void dump_num(struct dbuf *b, enum vk_type t, int64_t v)
{
    char s[40];
    if (t == VK_T_TIME) vk_query_time_str(v, s);
    else snprintf(s, sizeof s, "%lld", (long long)v);
    dputs(b, s);
}

static const char *op_name(enum q_op op, bool cs)
{
    switch (op) {
    case QO_EQ: return cs ? "==" : "=";
    case QO_LT: return "<";
    case QO_LE: return "<=";
    case QO_GT: return ">";
    case QO_GE: return ">=";
    case QO_CONTAINS: return cs ? "contains_cs" : "contains";
    case QO_BEGINS: return cs ? "begins_cs" : "begins";
    case QO_ENDS: return cs ? "ends_cs" : "ends";
    case QO_REGEX: return cs ? "regex_cs" : "regex";
    }
    return "?";
}

static void dump_node(struct dbuf *b, const struct q_node *n)
{
    switch (n->kind) {
    case QN_AND:
    case QN_OR:
    case QN_NOT:
        dputs(b, n->kind == QN_AND ? "(and" : n->kind == QN_OR ? "(or" : "(not");
        for (size_t i = 0; i < n->nkids; i++) {
            dputs(b, " ");
            dump_node(b, n->kids[i]);
        }
        dputs(b, ")");
        return;
    case QN_EXISTS:
        dputs(b, "(exists ");
        dputs(b, vk_key_info(n->key)->name);
        dputs(b, ")");
        return;
    case QN_CMP:
        dputs(b, "(");
        dputs(b, op_name(n->op, n->cs));
        dputs(b, " ");
        dputs(b, vk_key_info(n->key)->name);
        for (size_t i = 0; i < n->nvals; i++) {
            dputs(b, " ");
            switch (n->type) {
            case VK_T_STR: dump_str(b, n->v.str[i].s, n->v.str[i].n); break;
            case VK_T_UINT:
            case VK_T_TIME:
                dump_num(b, n->type, n->v.num[i].lo);
                if (n->v.num[i].hi != n->v.num[i].lo) {
                    dputs(b, "..");
                    dump_num(b, n->type, n->v.num[i].hi);
                }
                break;
            case VK_T_IP:
                dump_ip(b, n->v.ip[i].lo);
                if (memcmp(n->v.ip[i].lo, n->v.ip[i].hi, 16) != 0) {
                    dputs(b, "..");
                    dump_ip(b, n->v.ip[i].hi);
                }
                break;
            }
        }
        dputs(b, ")");
        return;
    }
}

char *vk_query_dump(const struct vk_query *q)
{
    struct dbuf b = {0};
    if (!q || !q->root) return NULL;
    dump_node(&b, q->root);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
