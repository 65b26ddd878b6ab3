/* framing.c — from raw line to header + message + fields.
 *
 * Recognises, in this order: JSON objects (flattened to dotted field names), CEF and LEEF
 * (header fields plus extensions), RFC 5424 (structured data as "sdid.param" fields),
 * RFC 3164 and the variants met in the wild (no PRI, no year, ISO stamps, missing host,
 * "[prog]", Cisco sequence numbers "<189>123:", Cisco "%ASA-6-605004:" tags), key=value
 * lines (auditd and friends), and plain application logs whose header is a stamp, a level
 * and a component (Java loggers, Apache error logs, Windows CBS, Zookeeper, ...). What it
 * cannot place stays in the message: the templates and the miner look at that.
 *
 * Nothing is copied except unescaped JSON/CEF strings (into the line's scratch arena).
 * Cost: O(line length), one pass per framing tried; no allocation once the scratch arena
 * has grown to the longest line. */
#include <ctype.h>
#include <stdlib.h>

#include "logs/logs_int.h"

const char *const lformat_name[] = {"plain", "rfc3164", "rfc5424", "cef", "leef", "json", "kv"};

char *lscratch(struct lline *l, size_t n)
{
    if (l->scratch_len + n > l->scratch_cap) {
        size_t nc = l->scratch_cap ? l->scratch_cap : 8192;
        while (nc < l->scratch_len + n) nc *= 2;
        if (nc > 8 * VK_LOGS_MAX_LINE + 65536) return NULL;
        /* Growing would move strings that fields already point to: only grow while empty.
         * The caller sizes the arena for the line before parsing (see lframe_parse). */
        if (l->scratch_len) return NULL;
        char *p = realloc(l->scratch, nc);
        if (!p) return NULL;
        l->scratch = p;
        l->scratch_cap = nc;
    }
    char *p = l->scratch + l->scratch_len;
    l->scratch_len += n;
    return p;
}

static void add_field(struct lline *l, const char *name, size_t nlen, const char *val, size_t vlen)
{
    if (l->nf >= LF_MAX_FIELDS || nlen == 0) return;
    struct lfield *f = &l->f[l->nf++];
    f->name = name;
    f->nlen = (uint32_t)nlen;
    f->val = val;
    f->vlen = (uint32_t)vlen;
}

const struct lfield *lfield_get(const struct lline *l, const char *name, size_t nlen)
{
    for (uint32_t i = 0; i < l->nf; i++) {
        const struct lfield *f = &l->f[i];
        if (f->nlen < nlen) continue;
        size_t off = f->nlen - nlen;
        if (off && f->name[off - 1] != '.') continue;
        if (strncasecmp(f->name + off, name, nlen) == 0) return f;
    }
    return NULL;
}

static inline bool is_sp(char c) { return c == ' ' || c == '\t'; }

static const char *skip_sp(const char *p, const char *e)
{
    while (p < e && is_sp(*p)) p++;
    return p;
}

/* ---- severity words ---------------------------------------------------------------- */
static int level_word(const char *p, size_t n)
{
    static const struct {
        const char *w;
        uint8_t n, sev;
    } lv[] = {{"emerg", 5, 0},   {"emergency", 9, 0}, {"alert", 5, 1},   {"crit", 4, 2},        {"critical", 8, 2},
              {"fatal", 5, 2},   {"severe", 6, 2},    {"err", 3, 3},     {"error", 5, 3},       {"warn", 4, 4},
              {"warning", 7, 4}, {"notice", 6, 5},    {"info", 4, 6},    {"information", 11, 6}, {"informational", 13, 6},
              {"debug", 5, 7},   {"trace", 5, 7},     {"fine", 4, 7},    {"verbose", 7, 7}};
    if (n < 3 || n > 13) return -1;
    char c0 = L_LOWER(p[0]);
    for (size_t i = 0; i < sizeof lv / sizeof *lv; i++)
        if (lv[i].n == n && lv[i].w[0] == c0 && strncasecmp(p, lv[i].w, n) == 0) return lv[i].sev;
    return -1;
}

/* ---- JSON -------------------------------------------------------------------------- */
struct jctx {
    struct lline *l;
    const char *p, *e;
    char path[256];
    size_t plen;
    int depth;
};

static void put_utf8(char **o, uint32_t cp)
{
    char *q = *o;
    if (cp < 0x80) *q++ = (char)cp;
    else if (cp < 0x800) *q++ = (char)(0xc0 | cp >> 6), *q++ = (char)(0x80 | (cp & 0x3f));
    else if (cp < 0x10000)
        *q++ = (char)(0xe0 | cp >> 12), *q++ = (char)(0x80 | (cp >> 6 & 0x3f)), *q++ = (char)(0x80 | (cp & 0x3f));
    else
        *q++ = (char)(0xf0 | cp >> 18), *q++ = (char)(0x80 | (cp >> 12 & 0x3f)),
        *q++ = (char)(0x80 | (cp >> 6 & 0x3f)), *q++ = (char)(0x80 | (cp & 0x3f));
    *o = q;
}

static int hex4(const char *p, const char *e)
{
    if (e - p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

/* A JSON string at j->p (past the opening quote). Sets out/len (into the line when it has
 * no escapes, else into scratch). Returns false on a malformed string. */
static bool jstring(struct jctx *j, const char **out, size_t *len)
{
    const char *s = j->p, *p = s;
    while (p < j->e && *p != '"' && *p != '\\') p++;
    if (p < j->e && *p == '"') {
        *out = s;
        *len = (size_t)(p - s);
        j->p = p + 1;
        return true;
    }
    /* has escapes: find the end first, then unescape into scratch */
    const char *q = p;
    while (q < j->e && *q != '"') q += (*q == '\\') ? 2 : 1;
    if (q >= j->e) return false;
    char *o = lscratch(j->l, (size_t)(q - s) + 4), *o0 = o;
    if (!o) return false;
    for (p = s; p < q;) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (p + 1 >= q) break;
        char c = p[1];
        p += 2;
        switch (c) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            int v = hex4(p, q);
            if (v < 0) {
                *o++ = '?';
                break;
            }
            p += 4;
            uint32_t cp = (uint32_t)v;
            if (cp >= 0xd800 && cp < 0xdc00 && q - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int lo = hex4(p + 2, q);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                    p += 6;
                }
            }
            if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
            put_utf8(&o, cp); /* \uXXXX is 6 bytes in, at most 4 out */
            break;
        }
        default: *o++ = c;
        }
    }
    /* give back what was not used */
    j->l->scratch_len -= (size_t)((q - s) + 4) - (size_t)(o - o0);
    *out = o0;
    *len = (size_t)(o - o0);
    j->p = q + 1;
    return true;
}

static void jws(struct jctx *j)
{
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static bool jvalue(struct jctx *j);

static void jleaf(struct jctx *j, const char *v, size_t n)
{
    if (!j->plen) return;
    char *name = lscratch(j->l, j->plen);
    if (!name) return;
    memcpy(name, j->path, j->plen);
    add_field(j->l, name, j->plen, v, n);
}

static bool jobject(struct jctx *j)
{
    size_t base = j->plen;
    j->p++; /* '{' */
    jws(j);
    if (j->p < j->e && *j->p == '}') {
        j->p++;
        return true;
    }
    while (j->p < j->e) {
        jws(j);
        if (j->p >= j->e || *j->p != '"') return false;
        j->p++;
        const char *k;
        size_t kn;
        if (!jstring(j, &k, &kn)) return false;
        size_t np = base;
        if (base && np < sizeof j->path - 1) j->path[np++] = '.';
        size_t take = kn < sizeof j->path - np ? kn : sizeof j->path - np;
        memcpy(j->path + np, k, take);
        j->plen = np + take;
        jws(j);
        if (j->p >= j->e || *j->p != ':') return false;
        j->p++;
        jws(j);
        if (!jvalue(j)) return false;
        j->plen = base;
        jws(j);
        if (j->p < j->e && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->e && *j->p == '}') {
            j->p++;
            return true;
        }
        return false;
    }
    return false;
}

static bool jarray(struct jctx *j)
{
    j->p++; /* '[' */
    jws(j);
    if (j->p < j->e && *j->p == ']') {
        j->p++;
        return true;
    }
    while (j->p < j->e) {
        jws(j);
        if (!jvalue(j)) return false;
        jws(j);
        if (j->p < j->e && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->e && *j->p == ']') {
            j->p++;
            return true;
        }
        return false;
    }
    return false;
}

static bool jvalue(struct jctx *j)
{
    if (j->p >= j->e) return false;
    char c = *j->p;
    if (c == '{' || c == '[') {
        if (++j->depth > 32) return false;
        bool ok = c == '{' ? jobject(j) : jarray(j);
        j->depth--;
        return ok;
    }
    if (c == '"') {
        const char *v;
        size_t n;
        j->p++;
        if (!jstring(j, &v, &n)) return false;
        jleaf(j, v, n);
        return true;
    }
    const char *s = j->p;
    while (j->p < j->e && *j->p != ',' && *j->p != '}' && *j->p != ']' && !is_sp(*j->p)) j->p++;
    if (j->p == s) return false;
    if (!(j->p - s == 4 && memcmp(s, "null", 4) == 0)) jleaf(j, s, (size_t)(j->p - s));
    return true;
}

static bool parse_json(struct lline *l, const char *p, const char *e)
{
    struct jctx j = {.l = l, .p = p, .e = e};
    if (p >= e || *p != '{') return false;
    if (!jvalue(&j)) return false;
    jws(&j);
    return true;
}

/* Header facts that JSON shapes carry under well-known names (Winlogbeat, NXLog,
 * Security-Datasets, ECS, cowrie, CloudTrail, ...). */
static struct lstr fval(const struct lline *l, const char *const *names)
{
    for (; *names; names++) {
        const struct lfield *f = lfield_get(l, *names, strlen(*names));
        if (f && f->vlen) return (struct lstr){f->val, f->vlen};
    }
    return (struct lstr){NULL, 0};
}

static void json_header(struct lline *l, int64_t recv_ms)
{
    static const char *const tnames[] = {"@timestamp", "TimeCreated", "EventTime", "UtcTime", "timestamp",
                                         "eventTime",  "time",        "TimeGenerated", "ts", "date", NULL};
    static const char *const hnames[] = {"Hostname", "computer_name", "Computer", "host.name", "hostname",
                                         "host", "sensor", NULL};
    static const char *const mnames[] = {"Message", "message", "msg", "log", "eventName", "OperationName", NULL};
    static const char *const pnames[] = {"SourceName", "provider_name", "Provider.Name", "program", "appname",
                                         "eventSource", NULL};
    static const char *const lnames[] = {"level", "Severity", "log.level", NULL};
    struct lstr t = fval(l, tnames);
    int64_t ms;
    if (t.p && ltime_any(t.p, t.n, recv_ms, &ms)) l->time_ms = ms;
    l->host = fval(l, hnames);
    if (l->host.p && (memchr(l->host.p, '{', l->host.n) || l->host.n > 255)) l->host.n = 0;
    l->msg = fval(l, mnames);
    l->prog = fval(l, pnames);
    struct lstr lv = fval(l, lnames);
    if (lv.p) l->sev = level_word(lv.p, lv.n);
    if (!l->msg.p) l->msg = (struct lstr){l->line, l->len};
}

/* ---- key=value --------------------------------------------------------------------- */
static bool kv_key_char(char c) { return L_ALNUM(c) || c == '_' || c == '.' || c == '-'; }

/* Parse "k=v k2="v 2" k3='v3'" pairs from [p, e). Returns the number of pairs. Values
 * without quotes end at whitespace. */
static unsigned parse_kv(struct lline *l, const char *p, const char *e, char sep)
{
    unsigned n = 0;
    while (p < e) {
        while (p < e && (is_sp(*p) || *p == sep || *p == ',' || *p == ';')) p++;
        const char *k = p;
        while (p < e && kv_key_char(*p)) p++;
        if (p == k || p >= e || *p != '=') {
            while (p < e && !is_sp(*p) && *p != sep) p++; /* not a pair: skip the word */
            continue;
        }
        size_t kn = (size_t)(p - k);
        p++;
        const char *v = p;
        if (p < e && (*p == '"' || *p == '\'')) {
            char q = *p++;
            v = p;
            while (p < e && *p != q) p += (*p == '\\' && p + 1 < e) ? 2 : 1;
            add_field(l, k, kn, v, (size_t)(p - v));
            if (p < e) p++;
        } else {
            while (p < e && !is_sp(*p) && *p != sep) p++;
            size_t vn = (size_t)(p - v);
            if (vn && (v[vn - 1] == ',' || v[vn - 1] == ';')) vn--;
            add_field(l, k, kn, v, vn);
        }
        n++;
    }
    return n;
}

/* ---- CEF and LEEF ------------------------------------------------------------------ */
/* Split the '|' header of CEF/LEEF: up to max parts; "\|" and "\\" are escapes. Returns the
 * count and leaves *rest after the last '|' consumed. */
static int split_bar(const char *p, const char *e, struct lstr *parts, int max, const char **rest)
{
    int k = 0;
    const char *s = p;
    while (p < e && k < max) {
        if (*p == '\\' && p + 1 < e) {
            p += 2;
            continue;
        }
        if (*p == '|') {
            parts[k++] = (struct lstr){s, (size_t)(p - s)};
            s = p + 1;
        }
        p++;
    }
    *rest = s;
    return k;
}

static struct lstr unesc_cef(struct lline *l, const char *s, size_t n)
{
    if (!memchr(s, '\\', n)) return (struct lstr){s, n};
    char *o = lscratch(l, n), *o0 = o;
    if (!o) return (struct lstr){s, n};
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            *o++ = c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        } else {
            *o++ = s[i];
        }
    }
    l->scratch_len -= n - (size_t)(o - o0);
    return (struct lstr){o0, (size_t)(o - o0)};
}

static void parse_cef(struct lline *l, const char *p, const char *e)
{
    static const char *const names[] = {"cef.version", "cef.vendor", "cef.product", "cef.device_version",
                                        "cef.signature", "cef.name", "cef.severity"};
    struct lstr h[7];
    const char *rest;
    int k = split_bar(p + 4, e, h, 7, &rest);
    l->fmt = LF_CEF;
    for (int i = 0; i < k; i++) {
        struct lstr u = unesc_cef(l, h[i].p, h[i].n);
        add_field(l, names[i], strlen(names[i]), u.p, u.n);
        if (i == 2) l->prog = u;
    }
    if (k >= 6) l->msg = unesc_cef(l, h[5].p, h[5].n);
    if (k >= 5) {
        char *end;
        char b[24];
        size_t n = h[4].n < 23 ? h[4].n : 23;
        memcpy(b, h[4].p, n);
        b[n] = 0;
        long long v = strtoll(b, &end, 10);
        if (n && *end == 0 && v >= 0) l->event_id = v;
    }
    if (k >= 7) {
        int s = -1;
        if (h[6].n >= 1 && h[6].n <= 2 && L_DIGIT(h[6].p[0])) {
            s = h[6].p[0] - '0';
            if (h[6].n == 2 && L_DIGIT(h[6].p[1])) s = s * 10 + h[6].p[1] - '0';
        }
        if (s >= 0) l->sev = s >= 9 ? 2 : s >= 7 ? 3 : s >= 4 ? 4 : 5;
    }
    if (k < 7) return;
    /* extensions: key=value where a value runs to the next " key=" */
    const char *q = rest;
    while (q < e) {
        q = skip_sp(q, e);
        const char *kb = q;
        while (q < e && (L_ALNUM(*q) || *q == '_' || *q == '.' || *q == '[' || *q == ']')) q++;
        if (q == kb || q >= e || *q != '=') break;
        const char *ke = q++;
        const char *vb = q, *ve = e;
        for (const char *r = q; r < e; r++) {
            if (*r == '\\') {
                r++;
                continue;
            }
            if (*r != '=') continue;
            const char *s = r;
            while (s > vb && (L_ALNUM(s[-1]) || s[-1] == '_' || s[-1] == '.' || s[-1] == '[' ||
                              s[-1] == ']'))
                s--;
            if (s > vb && is_sp(s[-1]) && s < r) {
                ve = s - 1;
                break;
            }
        }
        while (ve > vb && is_sp(ve[-1])) ve--;
        struct lstr u = unesc_cef(l, vb, (size_t)(ve - vb));
        add_field(l, kb, (size_t)(ke - kb), u.p, u.n);
        q = ve;
        if (q < e && q == vb) q++;
    }
}

static void parse_leef(struct lline *l, const char *p, const char *e)
{
    static const char *const names[] = {"leef.version", "leef.vendor", "leef.product", "leef.device_version",
                                        "leef.eventid", "leef.delimiter"};
    struct lstr h[6];
    const char *rest;
    int k = split_bar(p + 5, e, h, 5, &rest);
    l->fmt = LF_LEEF;
    char sep = '\t';
    if (k >= 1 && h[0].n >= 1 && h[0].p[0] == '2') {
        /* LEEF 2.0: an optional delimiter field ("^", "x5E", "0x5e") before the attributes */
        const char *bar = memchr(rest, '|', (size_t)(e - rest));
        if (bar && bar - rest <= 4) {
            if (bar - rest == 1) sep = rest[0];
            else {
                const char *x = rest;
                if (*x == '0') x++;
                if (*x == 'x' || *x == 'X') {
                    int v = (int)strtol(x + 1, NULL, 16);
                    if (v > 0 && v < 128) sep = (char)v;
                }
            }
            rest = bar + 1;
        }
    }
    for (int i = 0; i < k; i++) add_field(l, names[i], strlen(names[i]), h[i].p, h[i].n);
    if (k >= 3) l->prog = h[2];
    if (k >= 5) l->msg = h[4];
    parse_kv(l, rest, e, sep);
    const struct lfield *t = lfield_get(l, "devTime", 7);
    int64_t ms;
    if (t && ltime_any(t->val, t->vlen, 0, &ms)) l->time_ms = ms;
}

/* ---- Cisco "%ASA-6-605004:" ------------------------------------------------------- */
static bool cisco_tag(struct lline *l)
{
    const char *p = l->msg.p, *e = p + l->msg.n;
    while (p < e && *p == '%') p++;
    if (p == l->msg.p) return false;
    const char *a = p;
    while (p < e && (L_UPPER(*p) || L_DIGIT(*p) || *p == '_')) p++;
    if (p == a || p >= e || *p != '-') return false;
    const char *ae = p++;
    if (p >= e || !L_DIGIT(*p)) return false;
    int sev = *p++ - '0';
    if (p >= e || *p != '-') return false;
    const char *m = ++p;
    while (p < e && (L_ALNUM(*p) || *p == '_')) p++;
    if (p == m || p >= e || *p != ':') return false;
    l->prog = (struct lstr){a, (size_t)(ae - a)};
    if (sev <= 7) l->sev = sev;
    bool numeric = true;
    int64_t id = 0;
    for (const char *q = m; q < p; q++) {
        if (!L_DIGIT(*q) || id > 100000000) numeric = false;
        else id = id * 10 + (*q - '0');
    }
    if (numeric) l->event_id = id;
    p = skip_sp(p + 1, e);
    l->msg = (struct lstr){p, (size_t)(e - p)};
    return true;
}

/* ---- syslog tag "prog[pid]:" ------------------------------------------------------- */
/* Is [p, e) a tag token ("sshd[12]:", "sshd:", "[sshd]:", "sshd(pam_unix)[12]:",
 * "postfix/smtpd[1]:", "proftpd[1]")? Sets the program and pid. strict: a bare word must
 * end in ':' or carry a [pid]. */
static bool tag_token(struct lline *l, const char *p, const char *e, bool need_colon)
{
    if (p >= e) return false;
    const char *s = p, *ne;
    bool br = false;
    if (*p == '[') { /* "[sshd]" or "[sshd]:" */
        const char *c = memchr(p, ']', (size_t)(e - p));
        if (!c || c == p + 1) return false;
        for (const char *q = p + 1; q < c; q++)
            if (!(L_ALNUM(*q) || *q == '-' || *q == '_' || *q == '.' || *q == '/')) return false;
        l->prog = (struct lstr){p + 1, (size_t)(c - p - 1)};
        return c + 1 == e || (c + 2 == e && c[1] == ':');
    }
    int paren = 0;
    while (p < e && *p != '[' && (*p != ':' || paren)) {
        unsigned char c = (unsigned char)*p;
        if (c == '(') paren++;
        else if (c == ')') paren--;
        else if (!(L_ALNUM(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == '@' || (paren && c == ':')))
            return false;
        p++;
    }
    ne = p;
    if (ne == s || paren) return false;
    uint64_t pid = 0;
    bool has_pid = false;
    if (p < e && *p == '[') {
        p++;
        const char *d = p;
        while (p < e && L_DIGIT(*p) && p - d < 12) pid = pid * 10 + (uint64_t)(*p++ - '0');
        if (p == d || p >= e || *p != ']') return false;
        p++;
        has_pid = true;
        br = true;
    }
    if (p < e && *p == ':') p++;
    else if (need_colon || !br) return false;
    if (p != e) return false;
    l->prog = (struct lstr){s, (size_t)(ne - s)};
    l->pid = pid;
    l->has_pid = has_pid;
    return true;
}

static const char *tok_end(const char *p, const char *e)
{
    while (p < e && !is_sp(*p)) p++;
    return p;
}

/* After the stamp of a syslog line: [host] tag msg. p points to the first non-space.
 * Returns the message start, or NULL when no tag was found (host and prog unset). */
static const char *syslog_tag(struct lline *l, const char *p, const char *e, bool need_colon)
{
    const char *t1e = tok_end(p, e);
    if (tag_token(l, p, t1e, need_colon)) return skip_sp(t1e, e);
    /* Mac: "prog[pid] (address):" */
    const char *t2 = skip_sp(t1e, e), *t2e = tok_end(t2, e);
    for (const char *h = p; h < t1e; h++)
        if (!(L_ALNUM(*h) || *h == '.' || *h == '-' || *h == '_' || *h == ':' || *h == '%' ||
              *h == '@'))
            return NULL;
    if (t2 < e && tag_token(l, t2, t2e, need_colon)) {
        l->host = (struct lstr){p, (size_t)(t1e - p)};
        return skip_sp(t2e, e);
    }
    if (t2 < e && *t2 != '(') {
        /* "host prog[pid] (addr): msg" */
        const char *t3 = skip_sp(t2e, e);
        if (t3 < e && *t3 == '(') {
            const char *c = memchr(t3, ')', (size_t)(e - t3));
            if (c && c + 1 < e && c[1] == ':' && tag_token(l, t2, t2e, false)) {
                l->host = (struct lstr){p, (size_t)(t1e - p)};
                return skip_sp(c + 2, e);
            }
        }
    }
    l->prog = (struct lstr){NULL, 0};
    l->pid = 0;
    l->has_pid = false;
    return NULL;
}

/* ---- RFC 5424 ---------------------------------------------------------------------- */
static void parse_5424(struct lline *l, const char *p, const char *e, int64_t recv_ms)
{
    struct lstr tok[5];
    l->fmt = LF_5424;
    for (int i = 0; i < 5; i++) {
        p = skip_sp(p, e);
        const char *s = p;
        p = tok_end(p, e);
        tok[i] = (struct lstr){s, (size_t)(p - s)};
        if (tok[i].n == 1 && s[0] == '-') tok[i].n = 0;
    }
    int64_t ms;
    if (tok[0].n && ltime_iso(tok[0].p, tok[0].n, &ms)) l->time_ms = ms;
    (void)recv_ms;
    l->host = tok[1];
    l->prog = tok[2];
    if (tok[3].n && tok[3].n < 12) {
        uint64_t v = 0;
        bool ok = true;
        for (size_t i = 0; i < tok[3].n; i++) {
            if (!L_DIGIT(tok[3].p[i])) ok = false;
            v = v * 10 + (uint64_t)(tok[3].p[i] - '0');
        }
        if (ok) l->pid = v, l->has_pid = true;
    }
    p = skip_sp(p, e);
    /* structured data */
    if (p < e && *p == '-') p++;
    while (p < e && *p == '[') {
        const char *id = ++p;
        while (p < e && *p != ' ' && *p != ']') p++;
        size_t idn = (size_t)(p - id);
        while (p < e && *p != ']') {
            p = skip_sp(p, e);
            const char *k = p;
            while (p < e && *p != '=' && *p != ']' && *p != ' ') p++;
            if (p >= e || *p != '=' || p + 1 >= e || p[1] != '"') break;
            size_t kn = (size_t)(p - k);
            p += 2;
            const char *v = p;
            while (p < e && *p != '"') p += (*p == '\\' && p + 1 < e) ? 2 : 1;
            size_t vn = (size_t)(p - v);
            char *name = lscratch(l, idn + 1 + kn);
            if (name) {
                memcpy(name, id, idn);
                name[idn] = '.';
                memcpy(name + idn + 1, k, kn);
                struct lstr u = unesc_cef(l, v, vn);
                add_field(l, name, idn + 1 + kn, u.p, u.n);
            }
            if (p < e) p++;
        }
        while (p < e && *p != ']') p++;
        if (p < e) p++;
    }
    p = skip_sp(p, e);
    if (e - p >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf) p += 3;
    l->msg = (struct lstr){p, (size_t)(e - p)};
}

/* ---- plain application logs -------------------------------------------------------- */
/* After a stamp (or at the start): "[pid N]", a level ("INFO", "[error]", "[mod:error]",
 * "Info"), then a component ("[...] -", "a.b.C$D:", "CBS    ", "2865#0:"). Returns the
 * message start; fills level/comp/pid when found. */
static const char *plain_header(struct lline *l, const char *p, const char *e)
{
    const char *q = p;
    while (q < e && (is_sp(*q) || *q == '-' || *q == ',') && q - p < 4) q++;
    if (q < e && *q == '-') return p;
    const char *t = q, *te = tok_end(t, e);
    if (te - t >= 3 && *t == '[' && te[-1] == ']') {
        /* "[12345] msg": a bare pid in brackets (exim) */
        uint64_t v = 0;
        const char *d = t + 1;
        while (d < te - 1 && L_DIGIT(*d) && d - t < 11) v = v * 10 + (uint64_t)(*d++ - '0');
        if (d == te - 1) {
            l->pid = v;
            l->has_pid = true;
            return skip_sp(te, e);
        }
    }
    /* "NNN LEVEL": a pid before the level (HDFS) */
    if (t < te && L_DIGIT(*t)) {
        const char *d = t;
        uint64_t v = 0;
        while (d < te && L_DIGIT(*d) && d - t < 10) v = v * 10 + (uint64_t)(*d++ - '0');
        const char *n2 = skip_sp(te, e), *n2e = tok_end(n2, e);
        if (d == te && level_word(n2, (size_t)(n2e - n2)) >= 0) {
            l->pid = v;
            l->has_pid = true;
            t = n2;
            te = n2e;
        }
    }
    int sev = -1;
    if (t < e && *t == '[') {
        const char *c = memchr(t, ']', (size_t)(e - t) < 64 ? (size_t)(e - t) : 64);
        if (c) {
            const char *w = c;
            while (w > t + 1 && w[-1] != ':') w--;
            if ((sev = level_word(w, (size_t)(c - w))) >= 0) {
                l->level = (struct lstr){w, (size_t)(c - w)};
                if (w > t + 1) {
                    l->comp = (struct lstr){t + 1, (size_t)(w - 1 - t - 1)};
                    l->comp_mod = true;
                }
                te = c + 1;
            }
        }
    } else {
        size_t wn = (size_t)(te - t);
        if (wn && t[wn - 1] == ':') wn--;
        if ((sev = level_word(t, wn)) >= 0) l->level = (struct lstr){t, wn};
    }
    if (sev < 0) return p;
    l->sev = sev;
    p = te;
    /* separators */
    while (p < e && (is_sp(*p) || ((*p == '-' || *p == ':') && p + 1 < e && is_sp(p[1])))) p++;
    /* "[pid N]" / "[pid N:tid M]" (Apache 2.4) */
    if (e - p > 6 && memcmp(p, "[pid ", 5) == 0) {
        const char *d = p + 5;
        uint64_t v = 0;
        while (d < e && L_DIGIT(*d)) v = v * 10 + (uint64_t)(*d++ - '0');
        const char *c = memchr(d, ']', (size_t)(e - d));
        if (c) {
            l->pid = v;
            l->has_pid = true;
            p = skip_sp(c + 1, e);
        }
    }
    if (p < e && *p == '[' && !l->comp.p) {
        /* "[component...] - msg" (nested brackets allowed) */
        int depth = 0;
        const char *c = p;
        for (; c < e && c - p < 256; c++) {
            if (*c == '[') depth++;
            else if (*c == ']' && --depth == 0) break;
        }
        if (c < e && *c == ']' && e - c > 3 && c[1] == ' ' && c[2] == '-' && c[3] == ' ') {
            l->comp = (struct lstr){p + 1, (size_t)(c - p - 1)};
            return skip_sp(c + 3, e);
        }
        return p;
    }
    const char *ce = tok_end(p, e);
    if (ce > p + 1 && ce[-1] == ':' && !l->comp.p) {
        /* "a.b.C$D:" or "2865#0:" */
        bool ok = true;
        for (const char *c = p; c < ce - 1; c++)
            if (!(L_ALNUM(*c) || *c == '.' || *c == '$' || *c == '_' || *c == '#' || *c == '-' ||
                  *c == '/'))
                ok = false;
        if (ok) {
            l->comp = (struct lstr){p, (size_t)(ce - 1 - p)};
            /* "pid#tid:" is nginx's error log */
            const char *h = memchr(p, '#', (size_t)(ce - 1 - p));
            if (h && h > p) {
                uint64_t v = 0;
                const char *d = p;
                while (d < h && L_DIGIT(*d)) v = v * 10 + (uint64_t)(*d++ - '0');
                if (d == h) {
                    l->pid = v;
                    l->has_pid = true;
                    l->comp = (struct lstr){"nginx", 5};
                }
            }
            return skip_sp(ce, e);
        }
    }
    if (ce < e && e - ce >= 2 && is_sp(ce[0]) && is_sp(ce[1]) && ce - p < 32 && !l->comp.p) {
        /* "CBS    message": a short word padded to a column */
        l->comp = (struct lstr){p, (size_t)(ce - p)};
        return skip_sp(ce, e);
    }
    return p;
}

/* "prog - msg" / "prog *64 - msg" (Proxifier and other Windows tools). */
static const char *dash_prog(struct lline *l, const char *p, const char *e)
{
    const char *t1e = tok_end(p, e);
    if (t1e == p || t1e - p > 64) return p;
    const char *t2 = skip_sp(t1e, e), *t2e = tok_end(t2, e);
    if (t2e - t2 == 1 && *t2 == '-' && t2e < e) {
        l->prog = (struct lstr){p, (size_t)(t1e - p)};
        return skip_sp(t2e, e);
    }
    if (t2 < e && *t2 == '*') {
        const char *t3 = skip_sp(t2e, e), *t3e = tok_end(t3, e);
        if (t3e - t3 == 1 && *t3 == '-' && t3e < e) {
            l->prog = (struct lstr){p, (size_t)(t1e - p)};
            return skip_sp(t3e, e);
        }
    }
    return p;
}

/* ---- the entry point --------------------------------------------------------------- */
static void body(struct lline *l, const char *p, const char *e)
{
    l->msg = (struct lstr){p, (size_t)(e - p)};
    size_t n = (size_t)(e - p);
    if (n >= 4 && memcmp(p, "CEF:", 4) == 0) {
        parse_cef(l, p, e);
        return;
    }
    if (n >= 5 && memcmp(p, "LEEF:", 5) == 0) {
        parse_leef(l, p, e);
        return;
    }
    if (n >= 6 && memcmp(p, "@cee:", 5) == 0) p = skip_sp(p + 5, e);
    if (p < e && *p == '{' && e[-1] == '}') {
        uint32_t nf = l->nf;
        size_t sl = l->scratch_len;
        struct lstr msg = l->msg;
        if (!parse_json(l, p, e)) {
            l->nf = nf;
            l->scratch_len = sl;
            return;
        }
        static const char *const mnames[] = {"message", "msg", "Message", NULL};
        struct lstr m = fval(l, mnames);
        l->msg = m.p ? m : msg;
        return;
    }
    if (n > 5 && memcmp(p, "[ID ", 4) == 0) {
        /* Solaris: "[ID 800047 auth.info] msg" */
        const char *c = memchr(p, ']', n < 64 ? n : 64);
        if (c) l->msg = (struct lstr){skip_sp(c + 1, e), (size_t)(e - skip_sp(c + 1, e))};
        return;
    }
    if (n && *p == '%') cisco_tag(l);
}

void lframe_parse(struct lline *l, int64_t recv_ms)
{
    const char *p = l->line, *e = l->line + l->len;
    int64_t ms = 0;
    l->fmt = LF_PLAIN;
    l->msg = (struct lstr){p, l->len};
    l->host = l->prog = l->level = l->comp = (struct lstr){NULL, 0};
    l->comp_mod = false;
    l->pid = 0;
    l->has_pid = false;
    l->time_ms = 0;
    l->sev = l->fac = -1;
    l->event_id = -1;
    l->nf = 0;
    l->scratch_len = 0;
    /* scratch: unescaped strings are never longer than the line; names add a little */
    if (l->scratch_cap < l->len * 2 + LF_MAX_FIELDS * 256 + 8192) {
        size_t nc = l->len * 2 + LF_MAX_FIELDS * 256 + 8192;
        char *s = realloc(l->scratch, nc);
        if (s) l->scratch = s, l->scratch_cap = nc;
    }
    if (e - p >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
        p += 3;
    p = skip_sp(p, e);
    if (p >= e) {
        l->msg = (struct lstr){p, 0};
        return;
    }
    if (*p == '{') {
        if (parse_json(l, p, e)) {
            l->fmt = LF_JSON;
            json_header(l, recv_ms);
            return;
        }
        l->nf = 0;
        l->scratch_len = 0;
    }
    bool pri = false;
    if (*p == '<') {
        const char *q = p + 1;
        int v = 0;
        while (q < e && L_DIGIT(*q) && q - p <= 3) v = v * 10 + (*q++ - '0');
        if (q < e && *q == '>' && q > p + 1 && v < 192) {
            pri = true;
            l->sev = v & 7;
            l->fac = v >> 3;
            p = q + 1;
            if (e - p >= 2 && p[0] == '1' && p[1] == ' ') {
                parse_5424(l, p + 2, e, recv_ms);
                body(l, l->msg.p, e);
                if (l->fmt == LF_5424 || l->fmt == LF_PLAIN) l->fmt = LF_5424;
                return;
            }
        }
    }
    if (pri) {
        l->fmt = LF_3164;
        /* Cisco: "<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: ..." */
        const char *q = p;
        while (q < e && L_DIGIT(*q)) q++;
        if (q > p && q + 1 < e && q[0] == ':' && q[1] == ' ') p = q + 2;
        if (p < e && (*p == '*' || *p == '.')) p++;
    }
    size_t k = ltime_scan(p, (size_t)(e - p), recv_ms, &ms);
    if (k) {
        l->time_ms = ms;
        p += k;
        if (p < e && *p == ':') p++; /* Cisco IOS "stamp: %TAG" */
        if (p < e && *p == ',') p++;
        p = skip_sp(p, e);
    }
    if (!pri && ((e - p >= 4 && memcmp(p, "CEF:", 4) == 0) || (e - p >= 5 && memcmp(p, "LEEF:", 5) == 0))) {
        body(l, p, e);
        return;
    }
    if (k || pri) {
        const char *m = NULL;
        const char *lp = plain_header(l, p, e);
        if (lp != p) {
            /* stamp + level: an application log */
            l->msg = (struct lstr){lp, (size_t)(e - lp)};
            if (l->comp.p && !l->comp_mod) l->prog = l->comp;
            return;
        }
        if (p < e && *p == '%') { /* "stamp %ASA-6-...": no host */
            body(l, p, e);
            if (pri) l->fmt = LF_3164;
            return;
        }
        m = syslog_tag(l, p, e, false);
        if (m) {
            if (!pri) l->fmt = LF_3164;
            body(l, m, e);
            return;
        }
        /* "stamp host %ASA-...", "stamp host msg" or just "stamp msg" */
        const char *t1e = tok_end(p, e), *t2 = skip_sp(t1e, e);
        if (t2 < e && *t2 == '%') {
            l->host = (struct lstr){p, (size_t)(t1e - p)};
            body(l, t2, e);
            return;
        }
        const char *dp = dash_prog(l, p, e);
        l->msg = (struct lstr){dp, (size_t)(e - dp)};
        if (dp == p) body(l, p, e);
        return;
    }
    /* no stamp, no PRI */
    if (*p == '%' || (e - p >= 4 && memcmp(p, "CEF:", 4) == 0) || (e - p >= 5 && memcmp(p, "LEEF:", 5) == 0)) {
        body(l, p, e);
        return;
    }
    /* "host prog[pid]: msg" / "prog[pid]: msg" (journal exports, stamp-less syslog) */
    const char *t1e = tok_end(p, e);
    const char *t2 = skip_sp(t1e, e), *t2e = tok_end(t2, e);
    struct lstr save_prog = l->prog;
    if (tag_token(l, p, t1e, true) && l->has_pid) {
        l->fmt = LF_3164;
        body(l, skip_sp(t1e, e), e);
        return;
    }
    l->prog = save_prog, l->pid = 0, l->has_pid = false;
    if (t2 < e && tag_token(l, t2, t2e, true) && l->has_pid) {
        l->fmt = LF_3164;
        l->host = (struct lstr){p, (size_t)(t1e - p)};
        body(l, skip_sp(t2e, e), e);
        return;
    }
    l->prog = save_prog, l->pid = 0, l->has_pid = false;
    /* key=value lines: the first word is a pair and there are at least two */
    const char *eq = p;
    while (eq < t1e && kv_key_char(*eq)) eq++;
    if (eq < t1e && *eq == '=' && eq > p) {
        uint32_t nf = l->nf;
        if (parse_kv(l, p, e, ' ') >= 2) {
            l->fmt = LF_KV;
            const struct lfield *f = lfield_get(l, "msg", 3);
            if (f && f->vlen > 7 && memcmp(f->val, "audit(", 6) == 0) {
                /* auditd: msg=audit(1604994496.155:92733): */
                const char *a = f->val + 6, *ae = f->val + f->vlen;
                const char *c = memchr(a, ':', (size_t)(ae - a));
                if (c && ltime_any(a, (size_t)(c - a), recv_ms, &ms)) l->time_ms = ms;
            }
            static const char *const tn[] = {"time", "timestamp", "ts", "date", NULL};
            struct lstr t = fval(l, tn);
            if (t.p && !l->time_ms && ltime_any(t.p, t.n, recv_ms, &ms)) l->time_ms = ms;
            return;
        }
        l->nf = nf;
    }
    /* a plain line: maybe "LEVEL component: msg" without a stamp */
    const char *lp = plain_header(l, p, e);
    if (lp != p) {
        l->msg = (struct lstr){lp, (size_t)(e - lp)};
        if (l->comp.p && !l->comp_mod) l->prog = l->comp;
        return;
    }
    l->msg = (struct lstr){p, (size_t)(e - p)};
}
