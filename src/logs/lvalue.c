/* lvalue.c — turning captured text into typed meta values.
 *
 * Addresses as logs write them ("::ffff:1.2.3.4", "[1.2.3.4]", "1.2.3.4:514",
 * "192.030.0.6", "aaaa:bbbb::1"), numbers (decimal or Windows' "0x21f4"), stamps, and user
 * names ("DOMAIN\user" keeps the name; "-", "" and "(null)" are no value). O(value). */
#include <arpa/inet.h>
#include <ctype.h>

#include "logs/logs_int.h"

const uint8_t llower[256] = {
#define L4(i) L1(i), L1(i + 1), L1(i + 2), L1(i + 3)
#define L1(i) (uint8_t)((i) >= 'A' && (i) <= 'Z' ? (i) + 32 : (i))
#define L16(i) L4(i), L4(i + 4), L4(i + 8), L4(i + 12)
#define L64(i) L16(i), L16(i + 16), L16(i + 32), L16(i + 48)
    L64(0), L64(64), L64(128), L64(192)
#undef L64
#undef L16
#undef L4
#undef L1
};

const uint8_t lclass[256] = {
#define C1(i)                                                                                           \
    (uint8_t)(((i) >= '0' && (i) <= '9' ? LC_DIGIT | LC_HEX : 0) |                                      \
              ((i) >= 'a' && (i) <= 'z' ? LC_ALPHA : 0) | ((i) >= 'A' && (i) <= 'Z' ? LC_ALPHA | LC_UPPER : 0) | \
              (((i) >= 'a' && (i) <= 'f') || ((i) >= 'A' && (i) <= 'F') ? LC_HEX : 0) |                      \
              ((i) == ' ' || (i) == '\t' || (i) == '\r' || (i) == '\n' ? LC_SPACE : 0) |                    \
              ((i) == '.' || (i) == '/' || (i) == '@' || (i) == ':' ? LC_SHAPE : 0) |                        \
              ((i) == '(' || (i) == ')' || (i) == '[' || (i) == ']' || (i) == '{' || (i) == '}' ||            \
                       (i) == '<' || (i) == '>' || (i) == '\'' || (i) == '"'                                  \
                   ? LC_BRACKET                                                                            \
                   : 0))
#define C4(i) C1(i), C1(i + 1), C1(i + 2), C1(i + 3)
#define C16(i) C4(i), C4(i + 4), C4(i + 8), C4(i + 12)
#define C64(i) C16(i), C16(i + 16), C16(i + 32), C16(i + 48)
    C64(0), C64(64), C64(128), C64(192)
#undef C64
#undef C16
#undef C4
#undef C1
};

static bool ipv4(const char *p, size_t n, uint8_t *a)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, d = 0;
        while (i < n && L_DIGIT(p[i]) && d < 3) v = v * 10 + (unsigned)(p[i++] - '0'), d++;
        if (!d || v > 255) return false;
        a[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= n || p[i] != '.') return false;
            i++;
        }
    }
    return i == n;
}

/* Add an address as text: IPv4 is formatted here (inet_ntop goes through printf), IPv6 by
 * the core's RFC 5952 formatter. */
static int add_ip(struct vk_meta *m, enum vk_key k, int fam, const uint8_t *a)
{
    if (fam == 6) return vk_meta_add_ip(m, k, 6, a);
    char b[16], *o = b;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (i) *o++ = '.';
        if (v >= 100) *o++ = (char)('0' + v / 100);
        if (v >= 10) *o++ = (char)('0' + v / 10 % 10);
        *o++ = (char)('0' + v % 10);
    }
    return vk_meta_add_str(m, k, b, (size_t)(o - b));
}

int lparse_ip(const char *p, size_t n, uint8_t *addr)
{
    char b[64];
    if (n > 3 && p[0] == '[') {
        /* "[v6]:port" */
        const char *c = memchr(p, ']', n);
        if (c && c + 1 < p + n && c[1] == ':') n = (size_t)(c - p) + 1;
    }
    while (n && (*p == '[' || *p == '(' || *p == '"' || *p == '\'')) p++, n--;
    while (n && (p[n - 1] == ']' || p[n - 1] == ')' || p[n - 1] == '"' || p[n - 1] == '\'' ||
                 p[n - 1] == ',' || p[n - 1] == ';' || p[n - 1] == '.'))
        n--;
    if (n == 0 || n >= sizeof b) return 0;
    if (n > 7 && strncasecmp(p, "::ffff:", 7) == 0 && memchr(p + 7, '.', n - 7)) p += 7, n -= 7;
    if (ipv4(p, n, addr)) return 4;
    /* IPv4 with a port: "1.2.3.4:514" or "1.2.3.4/514" (Cisco) */
    const char *c = memchr(p, ':', n);
    if (!c) c = memchr(p, '/', n);
    if (c && memchr(p, '.', (size_t)(c - p)) && ipv4(p, (size_t)(c - p), addr)) {
        for (const char *q = c + 1; q < p + n; q++)
            if (!L_DIGIT(*q)) return 0;
        return 4;
    }
    size_t colons = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == ':') colons++;
        else if (!L_XDIGIT(ch) && ch != '.' && ch != '%') return 0;
    }
    if (colons < 2) return 0;
    memcpy(b, p, n);
    b[n] = 0;
    char *pct = strchr(b, '%');
    if (pct) *pct = 0;
    if (inet_pton(AF_INET6, b, addr) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            return 4;
        }
        return 6;
    }
    return 0;
}

static bool no_value(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '-') || (n == 6 && memcmp(s, "(null)", 6) == 0) ||
           (n == 4 && memcmp(s, "null", 4) == 0);
}

bool lmeta_add_text(struct vk_meta *m, enum vk_key k, const char *s, size_t n, int64_t recv_ms)
{
    while (n && (s[0] == ' ' || s[0] == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
    if (no_value(s, n)) return false;
    switch (vk_key_info(k)->type) {
    case VK_T_IP: {
        uint8_t a[16];
        int fam = lparse_ip(s, n, a);
        if (!fam) return false;
        return add_ip(m, k, fam, a) == 0;
    }
    case VK_T_UINT: {
        uint64_t v = 0;
        size_t i = 0;
        if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            for (i = 2; i < n && L_XDIGIT(s[i]) && i < 18; i++)
                v = v << 4 | (uint64_t)(L_DIGIT(s[i]) ? s[i] - '0' : (llower[(uint8_t)s[i]] - 'a' + 10));
            if (i != n) return false;
        } else {
            for (; i < n && L_DIGIT(s[i]) && i < 19; i++) v = v * 10 + (uint64_t)(s[i] - '0');
            if (i == 0 || (i != n && s[i] != '.')) return false;
        }
        return vk_meta_add_uint(m, k, v) == 0;
    }
    case VK_T_TIME: {
        int64_t ms;
        if (!ltime_any(s, n, recv_ms, &ms) || ms < 0) return false;
        return vk_meta_add_uint(m, k, (uint64_t)ms) == 0;
    }
    default:
        break;
    }
    if (k == VK_K_USER) {
        const char *bs = memchr(s, '\\', n);
        if (bs && bs + 1 < s + n) n -= (size_t)(bs + 1 - s), s = bs + 1;
        if (n >= 2 && ((s[0] == '<' && s[n - 1] == '>') || (s[0] == '"' && s[n - 1] == '"') ||
                       (s[0] == '\'' && s[n - 1] == '\'')))
            s++, n -= 2;
        if (no_value(s, n)) return false;
    }
    return vk_meta_add_str(m, k, s, n) == 0;
}

bool lmeta_add_peer(struct vk_meta *m, enum vk_key ipk, enum vk_key hostk, const char *s, size_t n)
{
    uint8_t a[16];
    if (no_value(s, n)) return false;
    int fam = lparse_ip(s, n, a);
    if (!fam) {
        while (n && (s[n - 1] == ',' || s[n - 1] == ';' || s[n - 1] == ':' || s[n - 1] == '.')) n--;
        if (no_value(s, n)) return false;
        fam = lparse_ip(s, n, a);
    }
    if (fam) return add_ip(m, ipk, fam, a) == 0;
    /* a host name: letters, digits, '-', '.', '_'; nothing else */
    while (n && (*s == '[' || *s == '(')) s++, n--;
    while (n && (s[n - 1] == ']' || s[n - 1] == ')')) n--;
    if (!n || n > 253) return false;
    for (size_t i = 0; i < n; i++)
        if (!(L_ALNUM(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_')) return false;
    return vk_meta_add_lower(m, hostk, s, n) == 0;
}
