/* util.c — small shared helpers: user-facing errors, bounded buffers, base64, hex and
 * address formatting. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>

#include "vk_core.h"

void vk_err(const char *fmt, ...)
{
    va_list ap;
    fputs("vakt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void vk_buf_init(struct vk_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

int vk_buf_append(struct vk_buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len) return VK_ENOMEM;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n) nc *= 2;
        if (nc > b->max) nc = b->max;
        uint8_t *np = realloc(b->p, nc);
        if (!np) return VK_ENOMEM;
        b->p = np;
        b->cap = nc;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void vk_buf_consume(struct vk_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void vk_buf_free(struct vk_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void vk_lines_init(struct vk_lines *l, size_t max)
{
    vk_buf_init(&l->buf, max);
    l->drop = l->ready = false;
}

int vk_lines_next(struct vk_lines *l, struct vk_cur *cur, const uint8_t **line, size_t *len)
{
    if (l->ready) {
        l->buf.len = 0;
        l->ready = false;
    }
    while (vk_cur_left(cur)) {
        size_t left = vk_cur_left(cur);
        const uint8_t *nl = memchr(cur->p, '\n', left);
        size_t take = nl ? (size_t)(nl - cur->p) + 1 : left;
        int over = 0;
        if (!l->drop && vk_buf_append(&l->buf, cur->p, take) != 0) {
            l->buf.len = 0;
            l->drop = true;
            over = -1;
        }
        vk_cur_skip(cur, take);
        if (over) {
            if (nl) l->drop = false; /* the long line ended in these bytes */
            return over;
        }
        if (!nl) return 0;
        if (l->drop) {
            l->drop = false;
            continue;
        }
        size_t n = l->buf.len - 1;
        if (n && l->buf.p[n - 1] == '\r') n--;
        *line = l->buf.p;
        *len = n;
        l->ready = true;
        return 1;
    }
    return 0;
}

void vk_lines_resync(struct vk_lines *l)
{
    l->buf.len = 0;
    l->ready = false;
    l->drop = true;
}

void vk_lines_free(struct vk_lines *l) { vk_buf_free(&l->buf); }

bool vk_reply_line(const uint8_t *l, size_t n)
{
    return n >= 3 && isdigit(l[0]) && isdigit(l[1]) && isdigit(l[2]) &&
           (n == 3 || l[3] == ' ' || l[3] == '-');
}

/* Value of each byte in the base64 alphabet (standard and URL-safe), -1 outside it. */
static const int8_t b64tab[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, 62, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

size_t vk_base64_decode(const char *in, size_t n, uint8_t *out, size_t outcap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '=') break;
        if (isspace(c)) continue;
        int v = b64tab[c];
        if (v < 0) break;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap) return o;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

size_t vk_b64_feed(struct vk_b64 *st, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    uint32_t acc = st->acc;
    unsigned bits = st->bits;
    for (size_t i = 0; i < n; i++) {
        /* four alphabet characters on a quantum boundary: three bytes at once */
        while (bits == 0 && i + 4 <= n) {
            int a = b64tab[in[i]], b = b64tab[in[i + 1]], c = b64tab[in[i + 2]], d = b64tab[in[i + 3]];
            if ((a | b | c | d) < 0) break;
            uint32_t q = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
            out[o] = (uint8_t)(q >> 16);
            out[o + 1] = (uint8_t)(q >> 8);
            out[o + 2] = (uint8_t)q;
            o += 3;
            i += 4;
        }
        if (i == n) break;
        int v = b64tab[in[i]];
        if (v < 0) {
            if (in[i] == '=') acc = bits = 0; /* padding ends a quantum */
            continue;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    st->acc = acc;
    st->bits = (uint8_t)bits;
    return o;
}

void vk_hex(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = 0;
}

void vk_ip_str(int family, const uint8_t *addr, char *out)
{
    if (family != 6) {
        /* dotted quad by hand: inet_ntop formats IPv4 through sprintf, and every record
         * has two addresses (DNS answers more) */
        char *o = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = addr[i];
            if (v >= 100) *o++ = (char)('0' + v / 100);
            if (v >= 10) *o++ = (char)('0' + v / 10 % 10);
            *o++ = (char)('0' + v % 10);
            *o++ = i < 3 ? '.' : 0;
        }
        return;
    }
    /* glibc's inet_ntop follows RFC 5952 (lower case, longest zero run compressed). */
    if (!inet_ntop(AF_INET6, addr, out, 46)) strcpy(out, "?");
}

bool vk_prefix_ci(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n < l) return false;
    for (size_t i = 0; i < l; i++)
        if (tolower(p[i]) != tolower((unsigned char)lit[i])) return false;
    return true;
}

/* ---- regex patterns from users and feeds -------------------------------------------- */

int vk_regex_check(const char *pat, size_t n, size_t max, const char **why)
{
    if (n > max) {
        *why = "regex too long";
        return -1;
    }
    if (memchr(pat, 0, n)) {
        *why = "regex holds a NUL byte";
        return -1;
    }
    /* glibc expands bounded repetitions into copies, and back-references make matching
     * exponential: refuse both where they could cost more than a small constant. The
     * product of every bound is an over-estimate of the expansion (sequential bounds add).
     * A quantifier on a quantifier (`a++`, `a*{3}`: undefined in POSIX ERE) makes glibc's
     * regcomp take gigabytes (found by fuzz_query): refused too. Bracket expressions are
     * skipped, their members are literal. */
    uint64_t prod = 1;
    bool after_q = false;
    for (size_t i = 0; i < n; i++) {
        if (pat[i] == '\\' && i + 1 < n) {
            if (pat[i + 1] >= '1' && pat[i + 1] <= '9') {
                *why = "back-references are not supported";
                return -1;
            }
            i++;
            after_q = false;
            continue;
        }
        if (pat[i] == '[') { /* to the closing ], which may come first as a member */
            size_t j = i + 1;
            if (j < n && pat[j] == '^') j++;
            if (j < n && pat[j] == ']') j++;
            while (j < n && pat[j] != ']') j++;
            i = j;
            after_q = false;
            continue;
        }
        bool q = pat[i] == '*' || pat[i] == '+' || pat[i] == '?' || pat[i] == '{';
        if (q && after_q) {
            *why = "a quantifier on a quantifier (as in a++) is not supported";
            return -1;
        }
        after_q = q;
        if (pat[i] != '{') continue;
        /* {m}, {m,}, {m,n} and glibc's {,n}: count the larger bound */
        uint64_t lo = 0, hi = 0;
        size_t j = i + 1;
        bool any = false;
        for (; j < n && pat[j] >= '0' && pat[j] <= '9'; j++, any = true)
            if (lo < 100000) lo = lo * 10 + (uint64_t)(pat[j] - '0');
        if (j < n && pat[j] == ',')
            for (j++; j < n && pat[j] >= '0' && pat[j] <= '9'; j++, any = true)
                if (hi < 100000) hi = hi * 10 + (uint64_t)(pat[j] - '0');
        if (j < n && pat[j] == '}') i = j;
        if (!any) continue;
        prod *= (hi > lo ? hi : lo) + 1;
        if (prod > 4096) {
            *why = "repetition counts too large (their product passes 4096)";
            return -1;
        }
    }
    return 0;
}
