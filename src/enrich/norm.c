/* norm.c — indicator values out of text: the one place that decides what an IP, a CIDR,
 * a domain, a URL or a hash looks like once normalised.
 *
 * Feed parsers and vk_enrich_apply both go through these functions, so an indicator and
 * a record value that mean the same thing end up as the same bytes. Everything works on
 * (pointer, length) of untrusted text, writes into a caller's buffer and allocates
 * nothing. */
#include <arpa/inet.h>
#include <ctype.h>

#include "enrich_int.h"

static const char *const type_names[IOC__COUNT] = {
    [IOC_NONE] = "none",       [IOC_IP] = "ip",         [IOC_DOMAIN] = "domain", [IOC_URL] = "url",
    [IOC_PATH] = "path",       [IOC_IPPORT] = "ipport", [IOC_MD5] = "md5",       [IOC_SHA1] = "sha1",
    [IOC_SHA256] = "sha256",   [IOC_JA3] = "ja3",       [IOC_HASSH] = "hassh",   [IOC_UA] = "ua",
    [IOC_EMAIL] = "email",     [IOC_REGEX] = "regex",   [IOC_WL_STRING] = "string",
    [IOC_WL_SUBSTR] = "substring",
};

const char *ioc_type_name(enum ioc_type t)
{
    return (unsigned)t < IOC__COUNT ? type_names[t] : "none";
}

enum ioc_type ioc_type_parse(const char *s)
{
    static const struct {
        const char *n;
        enum ioc_type t;
    } alias[] = {
        {"cidr", IOC_IP},          {"ipv4", IOC_IP},          {"ipv6", IOC_IP},        {"ip-src", IOC_IP},
        {"ip-dst", IOC_IP},        {"hostname", IOC_DOMAIN},  {"host", IOC_DOMAIN},    {"fqdn", IOC_DOMAIN},
        {"uri", IOC_URL},          {"hash", IOC_MD5},         {"sha-1", IOC_SHA1},     {"sha-256", IOC_SHA256},
        {"user-agent", IOC_UA},    {"useragent", IOC_UA},     {"user_agent", IOC_UA},  {"email-addr", IOC_EMAIL},
        {"ip:port", IOC_IPPORT},   {"ip-port", IOC_IPPORT},
    };
    for (unsigned t = 1; t < IOC__COUNT; t++)
        if (strcasecmp(s, type_names[t]) == 0) return (enum ioc_type)t;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strcasecmp(s, alias[i].n) == 0) return alias[i].t;
    return IOC_NONE;
}

bool ioc_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return n > 0;
}

bool ioc_ip4(const char *s, size_t n, uint32_t *out)
{
    uint32_t ip = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.') return false;
            i++;
        }
        unsigned v = 0, digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255) return false;
        ip = ip << 8 | v;
    }
    if (i != n) return false;
    *out = ip;
    return true;
}

static void mask_net(struct ipnet *o)
{
    unsigned bits = o->family == 4 ? 32 : 128;
    for (unsigned b = o->plen; b < bits; b++) o->a[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
}

bool ioc_parse_ip(const char *s, size_t n, struct ipnet *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *a = buf;
    size_t len = n;
    if (a[0] == '[') { /* "[v6]" */
        char *rb = memchr(a, ']', len);
        if (rb == NULL || rb[1] != 0) return false;
        *rb = 0;
        a++;
    }
    char *slash = strchr(a, '/');
    long plen = -1;
    if (slash) {
        *slash = 0;
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3) return false;
        plen = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return false;
            plen = plen * 10 + (*p - '0');
        }
    }
    memset(out, 0, sizeof *out);
    uint32_t v4;
    if (ioc_ip4(a, strlen(a), &v4)) {
        if (plen > 32) return false;
        out->family = 4;
        out->plen = (uint8_t)(plen < 0 ? 32 : plen);
        out->a[0] = (uint8_t)(v4 >> 24);
        out->a[1] = (uint8_t)(v4 >> 16);
        out->a[2] = (uint8_t)(v4 >> 8);
        out->a[3] = (uint8_t)v4;
    } else if (strchr(a, ':') && inet_pton(AF_INET6, a, out->a) == 1) {
        if (plen > 128) return false;
        out->family = 6;
        out->plen = (uint8_t)(plen < 0 ? 128 : plen);
    } else {
        return false;
    }
    mask_net(out);
    return true;
}

void ioc_net_str(const struct ipnet *n, char *out)
{
    vk_ip_str(n->family, n->a, out);
    if (n->plen != (n->family == 4 ? 32 : 128)) sprintf(out + strlen(out), "/%u", n->plen);
}

static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

size_t ioc_norm_domain(const char *s, size_t n, char *out, size_t cap)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.') s += 2, n -= 2;
    else if (n >= 1 && s[0] == '.') s++, n--;
    while (n && s[n - 1] == '.') n--;
    if (n == 0 || n >= cap || n > 1024) return 0;
    char prev = '.';
    for (size_t i = 0; i < n; i++) {
        char c = lower(s[i]);
        unsigned char u = (unsigned char)c;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || u >= 0x80))
            return 0;
        if (c == '.' && prev == '.') return 0; /* empty label */
        out[i] = c;
        prev = c;
    }
    out[n] = 0;
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool unreserved(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Copy a path/query with %-normalisation; stops at '#'. Returns bytes written or SIZE_MAX
 * when out is too small. */
static size_t pct_norm(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && s[i] != '#'; i++) {
        if (o + 3 >= cap) return SIZE_MAX;
        char c = s[i];
        if (c == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            unsigned v = (unsigned)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            if (unreserved(v)) {
                out[o++] = (char)v;
            } else {
                out[o++] = '%';
                out[o++] = (char)toupper((unsigned char)s[i + 1]);
                out[o++] = (char)toupper((unsigned char)s[i + 2]);
            }
            i += 2;
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
    return o;
}

size_t ioc_norm_path(const char *s, size_t n, char *out, size_t cap)
{
    if (n == 0 || s[0] != '/') return 0;
    size_t o = pct_norm(s, n, out, cap);
    return o == SIZE_MAX ? 0 : o;
}

size_t ioc_norm_url(const char *s, size_t n, char *out, size_t cap, size_t *pathoff)
{
    unsigned defport = 80;
    size_t i = 0;
    /* scheme */
    for (size_t k = 0; k < n && k < 16; k++) {
        char c = s[k];
        if (c == ':' && k > 0 && k + 2 < n && s[k + 1] == '/' && s[k + 2] == '/') {
            if (k == 5 && strncasecmp(s, "https", 5) == 0) defport = 443;
            else if (k == 3 && strncasecmp(s, "ftp", 3) == 0) defport = 21;
            else if (k == 4 && strncasecmp(s, "http", 4) == 0) defport = 80;
            else defport = 0;
            i = k + 3;
            break;
        }
        if (!(isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.')) break;
    }
    size_t aend = i;
    while (aend < n && s[aend] != '/' && s[aend] != '?' && s[aend] != '#') aend++;
    size_t hs = i;
    for (size_t k = i; k < aend; k++)
        if (s[k] == '@') hs = k + 1; /* user info */
    size_t he, ps;                   /* host end, port start */
    if (hs < aend && s[hs] == '[') {
        const char *rb = memchr(s + hs, ']', aend - hs);
        if (rb == NULL) return 0;
        he = (size_t)(rb - s) + 1;
        ps = he;
    } else {
        he = hs;
        while (he < aend && s[he] != ':') he++;
        ps = he;
    }
    size_t hl = he - hs;
    while (hl && s[hs + hl - 1] == '.') hl--;
    if (hl == 0 || hl + 8 >= cap) return 0;
    size_t o = 0;
    for (size_t k = 0; k < hl; k++) {
        char c = lower(s[hs + k]);
        if ((unsigned char)c <= ' ' || c == '\\') return 0;
        out[o++] = c;
    }
    if (ps < aend && s[ps] == ':') {
        unsigned port = 0, digits = 0;
        for (size_t k = ps + 1; k < aend; k++) {
            if (s[k] < '0' || s[k] > '9' || digits >= 5) return 0;
            port = port * 10 + (unsigned)(s[k] - '0');
            digits++;
        }
        if (digits && port != defport) o += (size_t)snprintf(out + o, cap - o, ":%u", port);
    } else if (ps != aend) {
        return 0;
    }
    *pathoff = o;
    if (aend >= n || s[aend] == '#') {
        out[o++] = '/';
        out[o] = 0;
        return o;
    }
    if (s[aend] == '?') out[o++] = '/';
    size_t w = pct_norm(s + aend, n - aend, out + o, cap - o);
    if (w == SIZE_MAX) return 0;
    return o + w;
}

static bool regexish(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr("[]()*+?{}|^$\\", s[i])) return true;
    return false;
}

/* "1.2.3.4:80" or "[v6]:443" to the canonical "ip:port". */
static bool ipport(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    const char *colon = NULL;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (rb == NULL || (size_t)(rb - s) + 1 >= n || rb[1] != ':') return false;
        colon = rb + 1;
    } else {
        colon = memchr(s, ':', n);
        if (colon == NULL || memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) return false;
    }
    struct ipnet net;
    if (!ioc_parse_ip(s, (size_t)(colon - s), &net) || net.plen != (net.family == 4 ? 32 : 128)) return false;
    unsigned port = 0, digits = 0;
    for (const char *p = colon + 1; p < s + n; p++) {
        if (*p < '0' || *p > '9' || digits >= 5) return false;
        port = port * 10 + (unsigned)(*p - '0');
        digits++;
    }
    if (!digits || port > 65535 || cap < 80) return false;
    char ip[64];
    vk_ip_str(net.family, net.a, ip);
    *outlen = (size_t)snprintf(out, cap, net.family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
    return true;
}

static enum ioc_type as_net(const struct ipnet *net, char *out, size_t *outlen)
{
    ioc_net_str(net, out);
    *outlen = strlen(out);
    return IOC_IP;
}

/* A URL whose path is "/" and which has no query names its host. */
static enum ioc_type url_or_host(char *out, size_t len, size_t pathoff, size_t *outlen)
{
    if (len == pathoff + 1 && out[pathoff] == '/') {
        struct ipnet net;
        size_t hl = pathoff;
        const char *colon = NULL;
        if (out[0] != '[') colon = memchr(out, ':', hl);
        if (colon == NULL) {
            if (ioc_parse_ip(out, hl, &net)) return as_net(&net, out, outlen);
            char tmp[IOC_MAX];
            size_t dl = ioc_norm_domain(out, hl, tmp, sizeof tmp);
            if (dl) {
                memcpy(out, tmp, dl + 1);
                *outlen = dl;
                return IOC_DOMAIN;
            }
        } else {
            out[len - 1] = 0; /* host:port: an ip:port indicator when the host is an IP */
            char tmp[128];
            size_t tl;
            if (ipport(out, len - 1, tmp, sizeof tmp, &tl)) {
                memcpy(out, tmp, tl + 1);
                *outlen = tl;
                return IOC_IPPORT;
            }
            out[len - 1] = '/';
        }
    }
    *outlen = len;
    return IOC_URL;
}

enum ioc_type ioc_classify(const char *s, size_t n, enum ioc_type hint, char *out, size_t cap,
                           size_t *outlen)
{
    while (n && isspace((unsigned char)s[0])) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0 || n >= IOC_MAX || cap < 128) return IOC_NONE;
    struct ipnet net;
    size_t pathoff, len;
    switch (hint) {
    case IOC_NONE:
        if (ioc_parse_ip(s, n, &net)) return as_net(&net, out, outlen);
        if (ipport(s, n, out, cap, outlen)) return IOC_IPPORT;
        if (n >= 3 && memmem(s, n < 20 ? n : 20, "://", 3)) {
            len = ioc_norm_url(s, n, out, cap, &pathoff);
            return len ? url_or_host(out, len, pathoff, outlen) : IOC_NONE;
        }
        if (s[0] == '/') {
            *outlen = ioc_norm_path(s, n, out, cap);
            return *outlen ? IOC_PATH : IOC_NONE;
        }
        if ((n == 32 || n == 40 || n == 64) && ioc_is_hex(s, n)) {
            for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
            out[n] = 0;
            *outlen = n;
            return n == 32 ? IOC_MD5 : n == 40 ? IOC_SHA1 : IOC_SHA256;
        }
        if (memchr(s, '@', n) && !memchr(s, '/', n) && !regexish(s, n)) {
            for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
            out[n] = 0;
            *outlen = n;
            return IOC_EMAIL;
        }
        if (n > 2 && s[0] == '*' && s[1] == '.' && !regexish(s + 2, n - 2)) {
            *outlen = ioc_norm_domain(s, n, out, cap);
            return *outlen ? IOC_DOMAIN : IOC_NONE;
        }
        if (!memchr(s, '/', n) && regexish(s, n)) {
            memcpy(out, s, n);
            out[n] = 0;
            *outlen = n;
            return IOC_REGEX;
        }
        if (memchr(s, '/', n) || memchr(s, ':', n) || memchr(s, '?', n)) {
            len = ioc_norm_url(s, n, out, cap, &pathoff);
            return len ? url_or_host(out, len, pathoff, outlen) : IOC_NONE;
        }
        *outlen = ioc_norm_domain(s, n, out, cap);
        return *outlen ? IOC_DOMAIN : IOC_NONE;
    case IOC_IP:
        return ioc_parse_ip(s, n, &net) ? as_net(&net, out, outlen) : IOC_NONE;
    case IOC_IPPORT:
        return ipport(s, n, out, cap, outlen) ? IOC_IPPORT : IOC_NONE;
    case IOC_DOMAIN:
        *outlen = ioc_norm_domain(s, n, out, cap);
        return *outlen ? IOC_DOMAIN : IOC_NONE;
    case IOC_URL:
        len = ioc_norm_url(s, n, out, cap, &pathoff);
        return len ? url_or_host(out, len, pathoff, outlen) : IOC_NONE;
    case IOC_PATH:
        *outlen = ioc_norm_path(s, n, out, cap);
        return *outlen ? IOC_PATH : IOC_NONE;
    case IOC_MD5:
    case IOC_SHA1:
    case IOC_SHA256:
        if (!ioc_is_hex(s, n)) return IOC_NONE;
        if (hint == IOC_MD5 && n != 32 && n != 40 && n != 64) return IOC_NONE; /* "hash": any */
        if (hint == IOC_SHA1 && n != 40) return IOC_NONE;
        if (hint == IOC_SHA256 && n != 64) return IOC_NONE;
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return n == 32 ? IOC_MD5 : n == 40 ? IOC_SHA1 : IOC_SHA256;
    case IOC_JA3:
    case IOC_HASSH:
        if (n != 32 || !ioc_is_hex(s, n)) return IOC_NONE;
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return hint;
    case IOC_EMAIL:
        if (!memchr(s, '@', n)) return IOC_NONE;
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return IOC_EMAIL;
    case IOC_UA:
    case IOC_REGEX:
        memcpy(out, s, n);
        out[n] = 0;
        *outlen = n;
        return hint;
    case IOC_WL_STRING:
    case IOC_WL_SUBSTR:
        for (size_t i = 0; i < n; i++) out[i] = lower(s[i]);
        out[n] = 0;
        *outlen = n;
        return hint;
    default:
        return IOC_NONE;
    }
}
