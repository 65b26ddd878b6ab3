/* query_time.c — time values of the query language, and --from/--to.
 *
 * One reader for every time an analyst types: ISO 8601 (`2013-11-25T14:55:58Z`,
 * `2013-11-25 14:55`, `2013-11-25`, with `.123` and `+01:00`), epoch seconds or ms, and
 * relative times (`-1h`, `-1d12h`, `+30m`, `now`) anchored at the caller's now_ms. Times
 * without a zone are UTC. The reader takes a value off the front of a string so that the
 * parser can read ranges (`2013-11-25-2013-11-26`, `-2h--1h`); it never reads past n. */
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "query_int.h"

#define MS_SEC 1000LL
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)

/* Bare numbers below this are epoch seconds, others epoch ms (1e11 s is year 5138, 1e11 ms
 * is March 1973). */
#define EPOCH_MS_FROM 100000000000LL

static bool digit(const char *s, size_t n, size_t i) { return i < n && s[i] >= '0' && s[i] <= '9'; }

/* Exactly k digits at s[i]; false if fewer. */
static bool fixed(const char *s, size_t n, size_t i, int k, int *out)
{
    int v = 0;
    for (int j = 0; j < k; j++) {
        if (!digit(s, n, i + (size_t)j)) return false;
        v = v * 10 + (s[i + (size_t)j] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (any year): years are shifted so
 * that they start in March, which puts the leap day last. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2) y--;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* `-1h`, `+30m`, `-1d12h`, `-500ms`. */
static int relative(const char *s, size_t n, int64_t now, int64_t *out, size_t *used,
                    const char **why)
{
    int sign = s[0] == '-' ? -1 : 1;
    size_t i = 1;
    int64_t total = 0;
    if (!digit(s, n, i)) {
        *why = "a relative time is a sign, a number and a unit (-1h)";
        return -1;
    }
    while (digit(s, n, i)) {
        int64_t v = 0;
        int nd = 0;
        while (digit(s, n, i)) {
            if (++nd > 12) {
                *why = "relative time out of range";
                return -1;
            }
            v = v * 10 + (s[i++] - '0');
        }
        int64_t unit;
        if (i + 1 < n && s[i] == 'm' && s[i + 1] == 's') unit = 1, i += 2;
        else if (i < n && s[i] == 's') unit = MS_SEC, i++;
        else if (i < n && s[i] == 'm') unit = MS_MIN, i++;
        else if (i < n && s[i] == 'h') unit = MS_HOUR, i++;
        else if (i < n && s[i] == 'd') unit = MS_DAY, i++;
        else if (i < n && s[i] == 'w') unit = 7 * MS_DAY, i++;
        else {
            *why = "a relative time needs a unit: ms, s, m, h, d or w";
            return -1;
        }
        int64_t part;
        if (__builtin_mul_overflow(v, unit, &part) || __builtin_add_overflow(total, part, &total)) {
            *why = "relative time out of range";
            return -1;
        }
    }
    if (__builtin_add_overflow(now, sign * total, out)) {
        *why = "relative time out of range";
        return -1;
    }
    *used = i;
    return 0;
}

/* `2013-11-25`, then optionally `T`/space `14:55`, `:58`, `.123`, `Z` / `+01:00` / `+0100`. */
static int iso(const char *s, size_t n, int64_t *out, size_t *used, const char **why)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    size_t i = 0;
    if (!fixed(s, n, 0, 4, &y) || s[4] != '-' || !fixed(s, n, 5, 2, &mo) || 7 >= n ||
        s[7] != '-' || !fixed(s, n, 8, 2, &d)) {
        *why = "a date is YYYY-MM-DD";
        return -1;
    }
    i = 10;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        *why = "no such date";
        return -1;
    }
    bool has_time = false;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        if (fixed(s, n, i + 1, 2, &h) && i + 3 < n && s[i + 3] == ':' && fixed(s, n, i + 4, 2, &mi)) {
            has_time = true;
            i += 6;
        } else if (s[i] != ' ') {
            *why = "a time of day is HH:MM or HH:MM:SS";
            return -1;
        }
    }
    if (has_time) {
        if (i < n && s[i] == ':') {
            if (!fixed(s, n, i + 1, 2, &sec)) {
                *why = "seconds are two digits";
                return -1;
            }
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',') && digit(s, n, i + 1)) {
                int nd = 0;
                for (i++; digit(s, n, i); i++, nd++)
                    if (nd < 3) ms = ms * 10 + (s[i] - '0');
                for (; nd < 3; nd++) ms *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) {
            *why = "no such time of day";
            return -1;
        }
        int oh, om;
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            /* A zone only when it cannot be the start of the other end of a range. */
            int sign = s[i] == '-' ? -1 : 1;
            if (fixed(s, n, i + 1, 2, &oh) && i + 3 < n && s[i + 3] == ':' &&
                fixed(s, n, i + 4, 2, &om) && !digit(s, n, i + 6) && !(i + 6 < n && s[i + 6] == ':')) {
                off = sign * (oh * 60 + om);
                i += 6;
            } else if (fixed(s, n, i + 1, 4, &oh) && !digit(s, n, i + 5) &&
                       !(i + 5 < n && s[i + 5] == '-')) {
                off = sign * (oh / 100 * 60 + oh % 100);
                om = oh % 100;
                oh /= 100;
                i += 5;
            } else {
                oh = om = 0;
            }
            if (oh > 23 || om > 59) {
                *why = "no such time zone offset";
                return -1;
            }
        }
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    *out = secs * MS_SEC + ms;
    *used = i;
    return 0;
}

/* Epoch seconds (`1385391358`, `1385391358.5`) or ms (`1385391358000`). */
static int epoch(const char *s, size_t n, int64_t *out, size_t *used, const char **why)
{
    size_t i = 0;
    int64_t v = 0;
    while (digit(s, n, i)) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v)) {
            *why = "number out of range";
            return -1;
        }
        i++;
    }
    int64_t frac = 0;
    if (i < n && s[i] == '.' && digit(s, n, i + 1)) {
        int nd = 0;
        for (i++; digit(s, n, i); i++, nd++)
            if (nd < 3) frac = frac * 10 + (s[i] - '0');
        for (; nd < 3; nd++) frac *= 10;
        if (v >= EPOCH_MS_FROM) frac = 0; /* sub-millisecond */
    }
    if (v < EPOCH_MS_FROM) v = v * MS_SEC + frac;
    *out = v;
    *used = i;
    return 0;
}

int vk_query_time_prefix(const char *s, size_t n, int64_t now_ms, int64_t *out, size_t *used,
                         const char **why)
{
    *why = "expected a time: 2013-11-25T14:55:58Z, 2013-11-25 14:55, epoch seconds or ms, "
           "-1h or now";
    if (n == 0) return -1;
    if (n >= 3 && strncasecmp(s, "now", 3) == 0) {
        *out = now_ms;
        *used = 3;
        return 0;
    }
    if (s[0] == '-' || s[0] == '+') return relative(s, n, now_ms, out, used, why);
    if (digit(s, n, 0) && digit(s, n, 1) && digit(s, n, 2) && digit(s, n, 3) && n > 4 && s[4] == '-')
        return iso(s, n, out, used, why);
    if (digit(s, n, 0)) return epoch(s, n, out, used, why);
    return -1;
}

int vk_query_parse_time(const char *s, int64_t now_ms, int64_t *out_ms, struct vk_query_err *err)
{
    size_t n = s ? strnlen(s, VK_QUERY_MAX_LEN + 1) : 0, b = 0, used = 0;
    const char *why;
    if (err) err->pos = 0, err->msg[0] = 0;
    while (b < n && (s[b] == ' ' || s[b] == '\t')) b++;
    while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (vk_query_time_prefix(s + b, n - b, now_ms, out_ms, &used, &why) == 0 && b + used == n)
        return 0;
    if (err) {
        if (b + used < n && used > 0) why = "unexpected text after the time";
        err->pos = (int)(b + used + 1);
        snprintf(err->msg, sizeof err->msg, "bad time '%.*s' at column %d: %s",
                 (int)(n - b > 64 ? 64 : n - b), s ? s + b : "", err->pos, why);
    }
    return VK_EINVAL;
}

void vk_query_time_str(int64_t ms, char out[40])
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) rem += 1000, sec--;
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        snprintf(out, 40, "%lld", (long long)ms);
        return;
    }
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}
