/* ltime.c — the timestamps that log lines start with, and the ones inside JSON fields.
 *
 * One scanner recognises the stamps seen in practice at the start of a line: RFC 3164
 * "Mmm dd hh:mm:ss" (with a day name, a trailing or leading year, a fraction), ISO 8601
 * with 'T' or a space and an offset, "yyyy/mm/dd", "yy/mm/dd", "yymmdd hhmmss",
 * "mm.dd hh:mm:ss", Apache's "dd/Mon/yyyy:hh:mm:ss +zzzz", TAI64N "@4000...", each
 * optionally in brackets. Stamps without a year take the receive time's year (the year
 * before when that would put them more than a week ahead). Stamps without an offset are
 * read as UTC. Everything is bounds-checked and allocation-free: O(stamp length). */
#include <ctype.h>

#include "logs/logs_int.h"

int64_t ltime_days(int y, int m, int d)
{
    /* days from civil, proleptic Gregorian (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int year_of(int64_t ms)
{
    int64_t z = (ms >= 0 ? ms : ms - 86399999) / 86400000 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    return (int)(y + (m <= 2));
}

/* Three letters packed lower-case, for one compare per name. */
static inline uint32_t pack3(const char *p)
{
    return (uint32_t)llower[(uint8_t)p[0]] << 16 | (uint32_t)llower[(uint8_t)p[1]] << 8 | llower[(uint8_t)p[2]];
}
#define P3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))

static int month3(const char *p, size_t n)
{
    static const uint32_t m[12] = {P3('j', 'a', 'n'), P3('f', 'e', 'b'), P3('m', 'a', 'r'), P3('a', 'p', 'r'),
                                   P3('m', 'a', 'y'), P3('j', 'u', 'n'), P3('j', 'u', 'l'), P3('a', 'u', 'g'),
                                   P3('s', 'e', 'p'), P3('o', 'c', 't'), P3('n', 'o', 'v'), P3('d', 'e', 'c')};
    if (n < 3) return 0;
    uint32_t v = pack3(p);
    for (int i = 0; i < 12; i++)
        if (m[i] == v) return i + 1;
    return 0;
}

static bool dayname(const char *p, size_t n)
{
    static const uint32_t d[7] = {P3('m', 'o', 'n'), P3('t', 'u', 'e'), P3('w', 'e', 'd'), P3('t', 'h', 'u'),
                                  P3('f', 'r', 'i'), P3('s', 'a', 't'), P3('s', 'u', 'n')};
    if (n < 3) return false;
    uint32_t v = pack3(p);
    for (int i = 0; i < 7; i++)
        if (d[i] == v) return true;
    return false;
}

/* n digits at p as a number; -1 if any is not a digit or p is short. */
static int num(const char *p, size_t left, size_t n)
{
    if (left < n) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static size_t digits(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++;
    return i;
}

struct tparts {
    int y, mo, d, h, mi, s, ms, tz; /* tz in minutes east; y -1 = unknown */
    bool has_tz;
};

/* "hh:mm:ss[.frac|,frac]" (seconds optional when allow_hm). Returns bytes used or 0. */
static size_t hms(const char *p, size_t n, struct tparts *t)
{
    size_t i = 0, k = digits(p, n);
    if (k < 1 || k > 2) return 0;
    t->h = num(p, n, k);
    i = k;
    if (i >= n || p[i] != ':') return 0;
    i++;
    if ((t->mi = num(p + i, n - i, 2)) < 0) return 0;
    i += 2;
    t->s = 0;
    t->ms = 0;
    if (i < n && p[i] == ':') {
        if ((t->s = num(p + i + 1, n - i - 1, 2)) < 0) return 0;
        i += 3;
        if (i + 1 < n && (p[i] == '.' || p[i] == ',') && p[i + 1] >= '0' && p[i + 1] <= '9') {
            size_t f = digits(p + i + 1, n - i - 1);
            int v = 0;
            for (size_t j = 0; j < 3; j++) v = v * 10 + (j < f ? p[i + 1 + j] - '0' : 0);
            t->ms = v;
            i += 1 + f;
        }
    } else {
        return 0;
    }
    if (t->h > 24 || t->mi > 59 || t->s > 60) return 0;
    return i;
}

/* Optional zone after a time: Z, +hh:mm, +hhmm, +hh, " +hhmm", " UTC"/" GMT". */
static size_t zone(const char *p, size_t n, struct tparts *t)
{
    size_t i = 0;
    if (n >= 1 && (p[0] == 'Z' || p[0] == 'z')) {
        t->has_tz = true;
        t->tz = 0;
        return 1;
    }
    if (n >= 4 && p[0] == ' ' && (memcmp(p + 1, "UTC", 3) == 0 || memcmp(p + 1, "GMT", 3) == 0) &&
        (n == 4 || !L_ALNUM(p[4]))) {
        t->has_tz = true;
        t->tz = 0;
        return 4;
    }
    if (n >= 1 && p[0] == ' ' && n >= 6 && (p[1] == '+' || p[1] == '-') && digits(p + 2, n - 2) == 4) i = 1;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        int sign = p[i] == '-' ? -1 : 1;
        int hh = num(p + i + 1, n - i - 1, 2);
        if (hh < 0 || hh > 14) return 0;
        size_t j = i + 3;
        int mm = 0;
        if (j < n && p[j] == ':') {
            if ((mm = num(p + j + 1, n - j - 1, 2)) < 0) return 0;
            j += 3;
        } else if ((mm = num(p + j, n - j, 2)) >= 0) {
            j += 2;
        } else {
            mm = 0;
        }
        t->has_tz = true;
        t->tz = sign * (hh * 60 + mm);
        return j;
    }
    return 0;
}

static int64_t to_ms(const struct tparts *t, int64_t recv_ms)
{
    int y = t->y;
    if (t->mo < 1 || t->mo > 12 || t->d < 1 || t->d > 31) return 0;
    if (y < 0) {
        y = year_of(recv_ms);
        struct tparts u = *t;
        u.y = y;
        int64_t v = to_ms(&u, recv_ms);
        if (v - recv_ms > 7LL * 86400000) u.y = y - 1, v = to_ms(&u, recv_ms);
        return v;
    }
    if (y < 100) y += 2000;
    int64_t days = ltime_days(y, t->mo, t->d);
    int64_t s = days * 86400 + t->h * 3600 + t->mi * 60 + t->s - (t->has_tz ? t->tz * 60 : 0);
    return s * 1000 + t->ms;
}

static bool end_ok(const char *p, size_t n, size_t i)
{
    return i == n || p[i] == ' ' || p[i] == ']' || p[i] == ',' || p[i] == '\t' || p[i] == ':' ||
           p[i] == '|' || p[i] == '"';
}

/* "@4000000047c5f0b51d5a8d6c" (TAI64N, daemontools/multilog). */
static size_t tai64n(const char *p, size_t n, int64_t *ms)
{
    if (n < 25 || p[0] != '@') return 0;
    uint64_t s = 0, ns = 0;
    for (size_t i = 1; i < 25; i++) {
        int c = llower[(uint8_t)p[i]];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return 0;
        if (i <= 16) s = s << 4 | (uint64_t)v;
        else ns = ns << 4 | (uint64_t)v;
    }
    if (s < (1ULL << 62) || s - (1ULL << 62) > (1ULL << 40)) return 0;
    *ms = (int64_t)(s - (1ULL << 62) - 10) * 1000 + (int64_t)(ns / 1000000);
    return 25;
}

static size_t scan(const char *p, size_t n, int64_t recv_ms, int64_t *ms)
{
    struct tparts t = {.y = -1};
    size_t i = 0, k;
    if (n && p[0] == '@') return tai64n(p, n, ms);
    /* optional day name */
    if (dayname(p, n) && n > 4 && (p[3] == ' ' || p[3] == ',')) {
        i = 3;
        while (i < n && (p[i] == ' ' || p[i] == ',')) i++;
    }
    int mo = month3(p + i, n - i);
    if (mo && i + 3 < n && (p[i + 3] == ' ' || p[i + 3] == '-')) {
        /* Mmm dd [yyyy] hh:mm:ss[.frac] [yyyy] */
        t.mo = mo;
        i += 4;
        while (i < n && p[i] == ' ') i++;
        k = digits(p + i, n - i);
        if (k < 1 || k > 2) return 0;
        t.d = num(p + i, n - i, k);
        i += k;
        if (i >= n || p[i] != ' ') return 0;
        i++;
        if (digits(p + i, n - i) == 4 && i + 4 < n && p[i + 4] == ' ') {
            t.y = num(p + i, n - i, 4);
            i += 5;
        }
        if (!(k = hms(p + i, n - i, &t))) return 0;
        i += k;
        i += zone(p + i, n - i, &t);
        if (t.y < 0 && i + 5 <= n && p[i] == ' ' && digits(p + i + 1, n - i - 1) == 4 &&
            end_ok(p, n, i + 5)) {
            t.y = num(p + i + 1, n - i - 1, 4);
            i += 5;
        }
        if (!end_ok(p, n, i)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? i : 0;
    }
    if (i) return 0;
    k = digits(p, n);
    if (k == 4 && n > 10 && (p[4] == '-' || p[4] == '/' || p[4] == '.')) {
        /* yyyy-mm-dd[T ]hh:mm:ss */
        char sep = p[4];
        t.y = num(p, n, 4);
        t.mo = num(p + 5, n - 5, 2);
        if (t.mo < 0 || p[7] != sep) return 0;
        t.d = num(p + 8, n - 8, 2);
        if (t.d < 0) return 0;
        i = 10;
        if (i < n && (p[i] == 'T' || p[i] == ' ' || p[i] == '-' || p[i] == '_')) {
            size_t h = hms(p + i + 1, n - i - 1, &t);
            if (!h && p[i] == '-' && i + 9 <= n) {
                /* BGL's 2005-06-03-15.42.50.675872 */
                char b[16];
                size_t m = n - i - 1 < 15 ? n - i - 1 : 15;
                memcpy(b, p + i + 1, m);
                for (size_t j = 0; j < 6 && j < m; j++)
                    if (b[j] == '.') b[j] = ':';
                h = hms(b, m, &t);
            }
            if (h) {
                i += 1 + h;
                i += zone(p + i, n - i, &t);
            } else if (p[i] == 'T') {
                return 0;
            }
        }
        if (!end_ok(p, n, i)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? i : 0;
    }
    if (k == 2 && n > 8 && (p[2] == '/' || p[2] == '-') && p[5] == p[2] && digits(p + 6, n - 6) == 2) {
        /* yy/mm/dd hh:mm:ss */
        t.y = num(p, n, 2);
        t.mo = num(p + 3, n - 3, 2);
        t.d = num(p + 6, n - 6, 2);
        i = 8;
        if (i < n && p[i] == ' ' && (k = hms(p + i + 1, n - i - 1, &t))) i += 1 + k;
        else return 0;
        if (!end_ok(p, n, i)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? i : 0;
    }
    if (k == 2 && n > 8 && p[2] == '.' && digits(p + 3, n - 3) == 2 && p[5] == ' ') {
        /* mm.dd hh:mm:ss */
        t.mo = num(p, n, 2);
        t.d = num(p + 3, n - 3, 2);
        i = 5;
        if (!(k = hms(p + 6, n - 6, &t))) return 0;
        i = 6 + k;
        if (!end_ok(p, n, i)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? i : 0;
    }
    if (k == 6 && n >= 13 && p[6] == ' ' && digits(p + 7, n - 7) == 6) {
        /* yymmdd hhmmss */
        t.y = num(p, n, 2);
        t.mo = num(p + 2, n - 2, 2);
        t.d = num(p + 4, n - 4, 2);
        t.h = num(p + 7, n - 7, 2);
        t.mi = num(p + 9, n - 9, 2);
        t.s = num(p + 11, n - 11, 2);
        if (t.h > 23 || t.mi > 59 || t.s > 60 || !end_ok(p, n, 13)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? 13 : 0;
    }
    if ((k == 1 || k == 2) && n > k + 9 && p[k] == '-' && (mo = month3(p + k + 1, n - k - 1)) && p[k + 4] == '-') {
        /* dd-Mon-yyyy hh:mm:ss.mmm (BIND) */
        t.d = num(p, n, k);
        t.mo = mo;
        i = k + 5;
        if ((t.y = num(p + i, n - i, 4)) < 0) return 0;
        i += 4;
        if (i < n && p[i] == ' ' && (k = hms(p + i + 1, n - i - 1, &t))) i += 1 + k;
        else return 0;
        if (!end_ok(p, n, i)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? i : 0;
    }
    if ((k == 1 || k == 2) && n > k + 4 && p[k] == '/' && (mo = month3(p + k + 1, n - k - 1)) &&
        p[k + 4] == '/') {
        /* dd/Mon/yyyy:hh:mm:ss +zzzz */
        t.d = num(p, n, k);
        t.mo = mo;
        i = k + 5;
        if ((t.y = num(p + i, n - i, 4)) < 0) return 0;
        i += 4;
        if (i < n && p[i] == ':' && (k = hms(p + i + 1, n - i - 1, &t))) i += 1 + k;
        else return 0;
        i += zone(p + i, n - i, &t);
        if (!end_ok(p, n, i)) return 0;
        *ms = to_ms(&t, recv_ms);
        return *ms ? i : 0;
    }
    return 0;
}

size_t ltime_scan(const char *p, size_t n, int64_t recv_ms, int64_t *ms)
{
    if (n >= 2 && p[0] == '[') {
        size_t e = 1;
        while (e < n && e < 64 && p[e] != ']') e++;
        if (e >= n || p[e] != ']') return 0;
        size_t k = scan(p + 1, e - 1, recv_ms, ms);
        return k == e - 1 ? e + 1 : 0;
    }
    return scan(p, n, recv_ms, ms);
}

bool ltime_iso(const char *p, size_t n, int64_t *ms)
{
    size_t k = scan(p, n, 0, ms);
    return k && k == n;
}

bool ltime_any(const char *p, size_t n, int64_t recv_ms, int64_t *ms)
{
    size_t k = scan(p, n, recv_ms, ms);
    if (k && k == n) return true;
    /* epoch seconds or milliseconds, with an optional fraction */
    size_t d = digits(p, n);
    if (d >= 9 && d <= 13 && (d == n || p[d] == '.')) {
        int64_t v = 0;
        for (size_t i = 0; i < d; i++) v = v * 10 + (p[i] - '0');
        int frac = 0;
        if (d < n) {
            size_t f = digits(p + d + 1, n - d - 1);
            if (d + 1 + f != n) return false;
            for (size_t j = 0; j < 3; j++) frac = frac * 10 + (j < f ? p[d + 1 + j] - '0' : 0);
        }
        *ms = d >= 12 ? v : v * 1000 + frac;
        return true;
    }
    return false;
}
