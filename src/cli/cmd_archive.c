/* cmd_archive.c — `vakt archive ...`: the log archive from the command line.
 *
 *   seal       close the open segments (and recover what a crash left)
 *   verify     check the hash chain and every sealed segment; non-zero exit on a problem
 *   search     lines by receive time and text or POSIX ERE, from the long-term tier
 *   append     archive the lines of files or stdin (backfill, tests, benchmarks)
 *   get        the raw line of a ref from the short-term tier
 *   retention  apply size/age/years retention now
 *
 * The archive itself is src/store/logarch.c; this file parses options, times and prints. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>

#include "../store/vk_logarch.h"
#include "cli.h"

#define EXIT_USAGE 2

static const char *data_dir(const char *opt)
{
    if (opt && *opt) return opt;
    const char *e = getenv("VAKT_DATA");
    return e && *e ? e : "./vakt-data";
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- times, durations, sizes -------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at *p into *v; advances *p. */
static bool num(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

/* "90s", "15m", "2h", "7d", "1w", "1y", "500ms", "1h30m"; a bare number is seconds. */
static bool parse_dur(const char *s, int64_t *out)
{
    int64_t total = 0;
    if (!*s) return false;
    while (*s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || errno) return false;
        int64_t unit;
        if (!*end) unit = 1000;
        else if (strncmp(end, "ms", 2) == 0) unit = 1, end += 1;
        else if (*end == 's') unit = 1000;
        else if (*end == 'm') unit = 60000;
        else if (*end == 'h') unit = 3600000;
        else if (*end == 'd') unit = 86400000;
        else if (*end == 'w') unit = 7 * 86400000LL;
        else if (*end == 'y') unit = 31557600000LL;
        else return false;
        int64_t part;
        if (__builtin_mul_overflow((int64_t)v, unit, &part) || __builtin_add_overflow(total, part, &total)) return false;
        s = *end ? end + 1 : end;
    }
    *out = total;
    return true;
}

/* ISO 8601 (UTC unless it says otherwise), epoch seconds or ms, "now", or relative to now
 * ("-2h", "+30m"). */
static bool parse_time(const char *s, int64_t now, int64_t *out)
{
    if (strcmp(s, "now") == 0) {
        *out = now;
        return true;
    }
    if ((s[0] == '-' || s[0] == '+') && s[1]) {
        int64_t d;
        if (!parse_dur(s + 1, &d)) return false;
        *out = s[0] == '-' ? now - d : now + d;
        return true;
    }
    size_t n = strlen(s), nd = strspn(s, "0123456789");
    if (nd > 0 && nd <= 16 && (nd == n || (s[nd] == '.' && strspn(s + nd + 1, "0123456789") == n - nd - 1))) {
        if (nd == 4 && nd == n) goto iso; /* a bare year */
        int64_t v = strtoll(s, NULL, 10);
        if (v >= 100000000000LL) { /* 12+ digits: milliseconds */
            *out = v;
            return nd == n;
        }
        int64_t ms = 0;
        if (nd < n) {
            char frac[4] = "000";
            for (int i = 0; i < 3 && s[nd + 1 + i]; i++) frac[i] = s[nd + 1 + i];
            ms = strtol(frac, NULL, 10);
        }
        *out = v * 1000 + ms;
        return true;
    }
iso:;
    const char *p = s;
    int y, mo = 1, d = 1, h = 0, mi = 0, se = 0, ms = 0;
    if (!num(&p, 4, &y)) return false;
    if (*p == '-') {
        p++;
        if (!num(&p, 2, &mo)) return false;
        if (*p == '-') {
            p++;
            if (!num(&p, 2, &d)) return false;
        }
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!num(&p, 2, &h)) return false;
        if (*p == ':') {
            p++;
            if (!num(&p, 2, &mi)) return false;
            if (*p == ':') {
                p++;
                if (!num(&p, 2, &se)) return false;
                if (*p == '.' || *p == ',') {
                    p++;
                    int k = 0, f = 0;
                    for (; *p >= '0' && *p <= '9'; p++, k++)
                        if (k < 3) f = f * 10 + (*p - '0');
                    if (k == 0) return false;
                    for (; k < 3; k++) f *= 10;
                    ms = f;
                }
            }
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (!num(&p, 2, &oh)) return false;
        if (*p == ':') p++;
        if (*p) {
            if (!num(&p, 2, &om)) return false;
        }
        off = sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
    *out = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + ms - off;
    return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-') return false;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return false;
    }
    if (*end && end[1] && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0) return false;
    if (shift && v > (UINT64_MAX >> shift)) return false;
    *out = (uint64_t)v << shift;
    return true;
}

static void fmt_time(int64_t ms, char out[48])
{
    int64_t s = ms / 1000, r = ms % 1000;
    if (r < 0) r += 1000, s--;
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 48, "%lld", (long long)ms);
        return;
    }
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)r);
}

/* ---- printing lines ----------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    if (p[0] < 0x80) return 1;
    size_t k = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (k == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
    if (k == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
    return k;
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(p + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

/* Text for a terminal: printable ASCII and valid UTF-8 (not C1) as is, the rest escaped. */
static void put_escaped(FILE *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k = utf8_len(p + i, n - i);
        if (c == '\\') fputs("\\\\", o);
        else if (c == '\t') fputs("\\t", o);
        else if (c == '\n') fputs("\\n", o);
        else if (c == '\r') fputs("\\r", o);
        else if (c >= 0x20 && c < 0x7f) putc(c, o);
        else if (k > 1 && !(c == 0xc2 && p[i + 1] < 0xa0)) {
            fwrite(p + i, 1, k, o);
            i += k;
            continue;
        } else fprintf(o, "\\x%02x", c);
        i++;
    }
}

static void b64(struct vk_json *j, const uint8_t *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    vk_json_raw(j, "\"", 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {t[v >> 18], t[(v >> 12) & 63], i + 1 < n ? t[(v >> 6) & 63] : '=', i + 2 < n ? t[v & 63] : '='};
        vk_json_raw(j, q, 4);
    }
    vk_json_raw(j, "\"", 1);
}

enum ofmt { OF_TEXT, OF_JSONL, OF_RAW };

struct printer {
    enum ofmt fmt;
    struct vk_json j;
    FILE *o;
};

static void print_line(struct printer *pr, int64_t recv_ms, const char *src, size_t srclen, const uint8_t *line,
                       size_t len, bool cut, const uint64_t *ref)
{
    char ts[48];
    fmt_time(recv_ms, ts);
    if (pr->fmt == OF_RAW) {
        fwrite(line, 1, len, pr->o);
        putc('\n', pr->o);
    } else if (pr->fmt == OF_TEXT) {
        fputs(ts, pr->o);
        putc(' ', pr->o);
        if (srclen) put_escaped(pr->o, (const uint8_t *)src, srclen);
        else putc('-', pr->o);
        putc(' ', pr->o);
        put_escaped(pr->o, line, len);
        putc('\n', pr->o);
    } else {
        struct vk_json *j = &pr->j;
        j->len = 0;
        j->need_comma = false;
        vk_json_obj_begin(j);
        vk_json_key(j, "time");
        vk_json_val_str(j, ts, strlen(ts));
        vk_json_key(j, "recv_ms");
        if (recv_ms < 0) {
            char b[24];
            int k = snprintf(b, sizeof b, "%lld", (long long)recv_ms);
            vk_json_raw(j, b, (size_t)k);
            j->need_comma = true;
        } else {
            vk_json_val_uint(j, (uint64_t)recv_ms);
        }
        if (ref) {
            vk_json_key(j, "ref");
            vk_json_val_uint(j, *ref);
        }
        vk_json_key(j, "source");
        vk_json_val_str(j, src, srclen);
        vk_json_key(j, "line");
        vk_json_val_str(j, (const char *)line, len);
        if (!utf8_valid(line, len)) { /* the string above is lossy: the exact bytes */
            vk_json_key(j, "line_b64");
            b64(j, line, len);
            j->need_comma = true;
        }
        if (cut) {
            vk_json_key(j, "cut");
            vk_json_raw(j, "true", 4);
            j->need_comma = true;
        }
        vk_json_obj_end(j);
        vk_json_raw(j, "\n", 1);
        fwrite(j->p, 1, j->len, pr->o);
    }
}

static bool parse_fmt(const char *s, enum ofmt *f, bool raw_ok)
{
    if (strcmp(s, "text") == 0) *f = OF_TEXT;
    else if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0) *f = OF_JSONL;
    else if (raw_ok && strcmp(s, "raw") == 0) *f = OF_RAW;
    else return false;
    return true;
}

static int usage_err(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "vakt: archive %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see vakt archive %s --help)\n", cmd);
    return EXIT_USAGE;
}

/* ---- seal --------------------------------------------------------------------------- */

static int cmd_seal(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        if (c == 'd') data = optarg;
        else if (c == 'h') {
            printf("usage: vakt archive seal [--data DIR]\n\n"
                   "Close the open segments of the log archive in DIR/logs: the long-term zstd segment is\n"
                   "ended, hashed and chained, the short-term raw segment closed. A segment a crash left\n"
                   "unsealed is recovered up to its last complete line first. Fails (exit 1) while another\n"
                   "process writes the archive: its shutdown seals.\n"
                   "  --data DIR   data directory (default $VAKT_DATA, else ./vakt-data)\n");
            return 0;
        } else return EXIT_USAGE;
    }
    if (optind < argc) return usage_err("seal", "unexpected argument '%s'", argv[optind]);
    char err[512];
    int rc = 0;
    struct vk_logarch *a = vk_logarch_open(data_dir(data), NULL, err, sizeof err, &rc);
    if (!a) {
        fprintf(stderr, "vakt: %s\n", err);
        return 1;
    }
    struct vk_logarch_stats st;
    rc = vk_logarch_seal(a);
    vk_logarch_stats(a, &st);
    if (rc) fprintf(stderr, "vakt: %s\n", vk_logarch_error(a));
    int rc2 = vk_logarch_close(a);
    if (rc == 0 && rc2) {
        fprintf(stderr, "vakt: archive seal: closing %s/logs failed\n", data_dir(data));
        rc = rc2;
    }
    if (rc == 0)
        printf("sealed: %llu segment%s (%llu lines recovered from an unsealed segment)\n",
               (unsigned long long)st.segments_sealed, st.segments_sealed == 1 ? "" : "s",
               (unsigned long long)st.lines_recovered);
    return rc ? 1 : 0;
}

/* ---- verify ------------------------------------------------------------------------- */

static int cmd_verify(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"deep", 0, 0, 'D'},       {"verbose", 0, 0, 'v'},
                                       {"expect-head", 1, 0, 'H'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = NULL;
    struct vk_logarch_verify_opt opt = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "d:vh", lo, NULL)) != -1) {
        if (c == 'd') data = optarg;
        else if (c == 'D') opt.deep = true;
        else if (c == 'v') opt.verbose = true;
        else if (c == 'H') opt.expect_head = optarg;
        else if (c == 'h') {
            printf("usage: vakt archive verify [--data DIR] [--deep] [-v] [--expect-head HEX]\n\n"
                   "Check the long-term log archive in DIR/logs/archive: every sealed segment's SHA-256\n"
                   "against its chain entry, the chain values, the order, the head file, and files that\n"
                   "are not in the chain. Each problem is one line naming the segment or chain line:\n"
                   "CHANGED, MISSING, SWAPPED, ADDED, ORDER, CHAIN, TRUNCATED, HEAD, BREAK, UNEXPECTED.\n"
                   "Exit 0 when all is well, 1 when a problem was found.\n"
                   "  --data DIR          data directory (default $VAKT_DATA, else ./vakt-data)\n"
                   "  --deep              also decompress each segment and check its lines and bytes\n"
                   "  -v, --verbose       one line per segment\n"
                   "  --expect-head HEX   a chain value recorded elsewhere earlier (the last line of a\n"
                   "                      previous verify): it must still be in the chain\n");
            return 0;
        } else return EXIT_USAGE;
    }
    if (optind < argc) return usage_err("verify", "unexpected argument '%s'", argv[optind]);
    int rc = vk_logarch_verify(data_dir(data), &opt, stdout);
    fflush(stdout);
    if (rc < 0) fprintf(stderr, "vakt: archive verify: %d problem%s found in %s/logs/archive\n", -rc,
                        rc == -1 ? "" : "s", data_dir(data));
    return rc < 0 ? 1 : 0;
}

/* ---- search ------------------------------------------------------------------------- */

static int search_print(void *ud, const struct vk_logarch_rec *r)
{
    print_line(ud, r->recv_ms, r->source, r->source_len, r->line, r->len, r->cut, NULL);
    return ferror(((struct printer *)ud)->o) ? 1 : 0;
}

static int cmd_search(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'},  {"from", 1, 0, 'f'},   {"to", 1, 0, 't'},
                                       {"regex", 0, 0, 'E'}, {"ignore-case", 0, 0, 'i'}, {"limit", 1, 0, 'n'},
                                       {"format", 1, 0, 'F'}, {"help", 0, 0, 'h'},  {0, 0, 0, 0}};
    const char *data = NULL;
    struct vk_logarch_query q = {.from_ms = INT64_MIN, .to_ms = INT64_MAX, .warn = stderr};
    struct printer pr = {.fmt = OF_TEXT, .o = stdout};
    int64_t now = now_ms();
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "d:f:t:Ein:h", lo, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'f':
            if (!parse_time(optarg, now, &q.from_ms)) return usage_err("search", "bad --from time '%s'", optarg);
            break;
        case 't':
            if (!parse_time(optarg, now, &q.to_ms)) return usage_err("search", "bad --to time '%s'", optarg);
            break;
        case 'E': q.regex = true; break;
        case 'i': q.icase = true; break;
        case 'n': {
            uint64_t v;
            if (!parse_size(optarg, &v)) return usage_err("search", "bad --limit '%s'", optarg);
            q.limit = v;
            break;
        }
        case 'F':
            if (!parse_fmt(optarg, &pr.fmt, true)) return usage_err("search", "unknown --format '%s' (text, jsonl, raw)", optarg);
            break;
        case 'h':
            printf("usage: vakt archive search [--data DIR] [--from T] [--to T] [--regex] [-i]\n"
                   "                           [--limit N] [--format text|jsonl|raw] [PATTERN]\n\n"
                   "Print the archived lines received in [--from, --to) whose text contains PATTERN (or\n"
                   "matches it as a POSIX extended regular expression with --regex), from the long-term\n"
                   "archive (sealed segments and the open one up to its last flush), in time order.\n"
                   "No PATTERN prints every line in the range.\n"
                   "  --data DIR         data directory (default $VAKT_DATA, else ./vakt-data)\n"
                   "  --from T, --to T   ISO 8601 (2024-05-01T13:00:00Z; UTC unless an offset is given),\n"
                   "                     epoch seconds or milliseconds, now, or relative: -2h, -30m, -7d\n"
                   "  -E, --regex        PATTERN is a POSIX ERE\n"
                   "  -i, --ignore-case  case-insensitive match\n"
                   "  --limit N          stop after N lines\n"
                   "  --format F         text (time source line, control bytes escaped), jsonl (line_b64\n"
                   "                     holds the exact bytes when they are not UTF-8), raw (bytes only)\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) return usage_err("search", "one PATTERN only (got '%s' too)", argv[optind + 1]);
    if (optind < argc) q.pattern = argv[optind];
    if (q.from_ms >= q.to_ms) {
        fprintf(stderr, "vakt: archive search: --from is not before --to\n");
        return EXIT_USAGE;
    }
    vk_json_init(&pr.j);
    char err[512];
    int64_t n = vk_logarch_search(data_dir(data), &q, search_print, &pr, err, sizeof err);
    vk_json_free(&pr.j);
    fflush(stdout);
    if (n < 0) {
        fprintf(stderr, "vakt: %s\n", err);
        return n == VK_EINVAL ? EXIT_USAGE : 1;
    }
    return 0;
}

/* ---- append ------------------------------------------------------------------------- */

struct app {
    struct vk_logarch *a;
    int64_t t, step;
    bool fixed_time, refs;
    struct printer pr;
    uint64_t lines, bytes;
};

static int append_line(struct app *ap, const char *src, const uint8_t *p, size_t n)
{
    uint64_t ref;
    int64_t t = ap->fixed_time ? ap->t : now_ms();
    int rc = vk_logarch_append(ap->a, t, src, p, n, &ref);
    if (rc) {
        fprintf(stderr, "vakt: %s\n", vk_logarch_error(ap->a));
        return rc;
    }
    if (ap->refs) printf("%llu\n", (unsigned long long)ref);
    ap->t += ap->step;
    ap->lines++;
    ap->bytes += n;
    return 0;
}

/* Lines of f (the newline is not part of a line; a last line without one counts). */
static int append_file(struct app *ap, FILE *f, const char *src)
{
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return VK_ENOMEM;
    int rc = 0;
    for (;;) {
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        size_t pos = 0;
        for (;;) {
            uint8_t *nl = memchr(buf + pos, '\n', len - pos);
            if (!nl) break;
            if ((rc = append_line(ap, src, buf + pos, (size_t)(nl - (buf + pos)))) != 0) goto out;
            pos = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + pos, len - pos);
        len -= pos;
        if (r == 0) break;
        if (len == cap) { /* a line longer than the buffer: grow (the archive cuts at max_line) */
            uint8_t *nb = cap < (VK_LOGARCH_LINE_HARD_MAX + 1) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                rc = append_line(ap, src, buf, len);
                len = 0;
                if (rc) goto out;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        if ((rc = vk_logarch_flush(ap->a)) != 0) {
            fprintf(stderr, "vakt: %s\n", vk_logarch_error(ap->a));
            goto out;
        }
    }
    if (len) rc = append_line(ap, src, buf, len);
    if (ferror(f)) {
        fprintf(stderr, "vakt: archive append: read error on %s\n", src);
        rc = VK_EIO;
    }
out:
    free(buf);
    return rc;
}

static uint64_t dir_bytes(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    uint64_t total = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name), k = strlen(suffix);
        if (n < k || strcmp(de->d_name + n - k, suffix) != 0) continue;
        char p[PATH_MAX + 256];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &sb) == 0) total += (uint64_t)sb.st_size;
    }
    if (d) closedir(d);
    return total;
}

static int cmd_append(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'},  {"source", 1, 0, 's'}, {"time", 1, 0, 't'},
                                       {"step", 1, 0, 'S'},  {"refs", 0, 0, 'r'},   {"stats", 0, 0, 'x'},
                                       {"repeat", 1, 0, 'R'}, {"level", 1, 0, 'L'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *data = NULL, *source = NULL;
    struct app ap = {0};
    bool stats = false;
    unsigned long repeat = 1;
    struct vk_logarch_cfg cfg;
    vk_logarch_cfg_default(&cfg);
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "d:s:t:h", lo, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 's': source = optarg; break;
        case 't':
            if (!parse_time(optarg, now_ms(), &ap.t)) return usage_err("append", "bad --time '%s'", optarg);
            ap.fixed_time = true;
            break;
        case 'S':
            if (!parse_dur(optarg, &ap.step)) return usage_err("append", "bad --step '%s'", optarg);
            break;
        case 'r': ap.refs = true; break;
        case 'x': stats = true; break;
        case 'R': {
            char *end;
            repeat = strtoul(optarg, &end, 10);
            if (*end || repeat == 0 || repeat > 100000) return usage_err("append", "bad --repeat '%s'", optarg);
            break;
        }
        case 'L': cfg.zstd_level = atoi(optarg); break;
        case 'h':
            printf("usage: vakt archive append [--data DIR] [--source S] [--time T [--step D]] [--refs]\n"
                   "                           [--stats] [--repeat N] [FILE...]\n\n"
                   "Archive every line of the FILEs (or stdin; - is stdin) in both tiers, as received\n"
                   "(the newline is not part of the line). For backfill, tests and benchmarks: the log\n"
                   "receivers archive their lines themselves.\n"
                   "  --data DIR    data directory (default $VAKT_DATA, else ./vakt-data)\n"
                   "  --source S    source recorded with each line (default: the file name, or stdin)\n"
                   "  --time T      receive time of the first line (default: the clock at each line)\n"
                   "  --step D      added to the receive time after each line (500ms, 1s, 1m, ...)\n"
                   "  --refs        print the short-term ref of each line\n"
                   "  --stats       print lines/s, MB/s and the compression ratio on stderr\n"
                   "  --repeat N    read the input N times (benchmarks)\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    char err[512];
    struct timespec t0, t1;
    ap.a = vk_logarch_open(data_dir(data), &cfg, err, sizeof err, NULL);
    if (!ap.a) {
        fprintf(stderr, "vakt: %s\n", err);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 0;
    for (unsigned long r = 0; r < repeat && rc == 0; r++) {
        if (optind == argc) {
            rc = append_file(&ap, stdin, source ? source : "stdin");
            break;
        }
        for (int i = optind; i < argc && rc == 0; i++) {
            bool in = strcmp(argv[i], "-") == 0;
            FILE *f = in ? stdin : fopen(argv[i], "rb");
            if (!f) {
                fprintf(stderr, "vakt: archive append: %s: %s\n", argv[i], strerror(errno));
                rc = VK_EIO;
                break;
            }
            rc = append_file(&ap, f, source ? source : in ? "stdin" : argv[i]);
            if (!in) fclose(f);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int rc2 = vk_logarch_close(ap.a);
    if (rc == 0 && rc2) {
        fprintf(stderr, "vakt: archive append: closing the archive failed\n");
        rc = rc2;
    }
    if (stats) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        char dir[PATH_MAX / 2];
        snprintf(dir, sizeof dir, "%s/logs/archive", data_dir(data));
        uint64_t z = dir_bytes(dir, ".zst");
        fprintf(stderr, "archive append: %llu lines, %.1f MB in %.3f s: %.0f lines/s, %.1f MB/s; "
                        "long-term archive %llu bytes (%.1fx)\n",
                (unsigned long long)ap.lines, (double)ap.bytes / 1e6, s, s > 0 ? (double)ap.lines / s : 0,
                s > 0 ? (double)ap.bytes / 1e6 / s : 0, (unsigned long long)z, z ? (double)ap.bytes / (double)z : 0);
    }
    return rc ? 1 : 0;
}

/* ---- get ---------------------------------------------------------------------------- */

static int cmd_get(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"format", 1, 0, 'F'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = NULL;
    struct printer pr = {.fmt = OF_TEXT, .o = stdout};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        if (c == 'd') data = optarg;
        else if (c == 'F') {
            if (!parse_fmt(optarg, &pr.fmt, true)) return usage_err("get", "unknown --format '%s' (text, jsonl, raw)", optarg);
        } else if (c == 'h') {
            printf("usage: vakt archive get [--data DIR] [--format text|jsonl|raw] REF...\n\n"
                   "Print the original line of each REF (the number an event's record holds) from the\n"
                   "short-term raw archive. Exit 1 when a line has expired (retention removed it) or\n"
                   "does not exist.\n");
            return 0;
        } else return EXIT_USAGE;
    }
    if (optind == argc) return usage_err("get", "%s", "no REF given");
    struct vk_logarch_cfg cfg;
    vk_logarch_cfg_default(&cfg);
    cfg.readonly = true;
    char err[512];
    struct vk_logarch *a = vk_logarch_open(data_dir(data), &cfg, err, sizeof err, NULL);
    if (!a) {
        fprintf(stderr, "vakt: %s\n", err);
        return 1;
    }
    struct vk_buf b;
    vk_buf_init(&b, VK_LOGARCH_LINE_HARD_MAX);
    vk_json_init(&pr.j);
    int status = 0;
    for (int i = optind; i < argc; i++) {
        char *end;
        errno = 0;
        uint64_t ref = strtoull(argv[i], &end, 0);
        if (*end || errno || argv[i][0] == '-') {
            fprintf(stderr, "vakt: archive get: bad ref '%s'\n", argv[i]);
            status = EXIT_USAGE;
            continue;
        }
        struct vk_logarch_line info;
        int rc = vk_logarch_get(a, ref, &b, &info);
        if (rc == 0) {
            print_line(&pr, info.recv_ms, info.source, strlen(info.source), b.p, b.len, info.cut, &ref);
            continue;
        }
        fprintf(stderr, "vakt: archive get: ref %llu: %s\n", (unsigned long long)ref,
                rc == VK_LOGARCH_EXPIRED ? "expired (removed by retention)"
                : rc == VK_EFORMAT       ? "damaged record (checksum mismatch)"
                                         : "no such line");
        if (!status) status = 1;
    }
    vk_json_free(&pr.j);
    vk_buf_free(&b);
    vk_logarch_close(a);
    return status;
}

/* ---- retention ---------------------------------------------------------------------- */

static int cmd_retention(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'},          {"years", 1, 0, 'y'}, {"raw-max-bytes", 1, 0, 'b'},
                                       {"raw-max-age", 1, 0, 'a'},   {"now", 1, 0, 'n'},   {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *data = NULL;
    struct vk_logarch_cfg cfg;
    vk_logarch_cfg_default(&cfg);
    int64_t now = now_ms();
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'y': {
            char *end;
            unsigned long y = strtoul(optarg, &end, 10);
            if (*end || optarg[0] == '-' || y > 1000) return usage_err("retention", "bad --years '%s'", optarg);
            cfg.archive_years = (unsigned)y;
            break;
        }
        case 'b':
            if (!parse_size(optarg, &cfg.raw_max_bytes)) return usage_err("retention", "bad --raw-max-bytes '%s'", optarg);
            break;
        case 'a':
            if (!parse_dur(optarg, &cfg.raw_max_age_ms)) return usage_err("retention", "bad --raw-max-age '%s'", optarg);
            break;
        case 'n':
            if (!parse_time(optarg, now_ms(), &now)) return usage_err("retention", "bad --now '%s'", optarg);
            break;
        case 'h':
            printf("usage: vakt archive retention [--data DIR] [--years N] [--raw-max-bytes N]\n"
                   "                              [--raw-max-age D] [--now T]\n\n"
                   "Apply retention now: the short-term raw tier by total size (default 8G) and age\n"
                   "(default 7d), the long-term tier by age in years (default 0: keep forever). Whole\n"
                   "segments go, oldest first; long-term pruning is recorded in the chain first, so\n"
                   "verify does not report pruned segments as missing.\n");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind < argc) return usage_err("retention", "unexpected argument '%s'", argv[optind]);
    char err[512];
    struct vk_logarch *a = vk_logarch_open(data_dir(data), &cfg, err, sizeof err, NULL);
    if (!a) {
        fprintf(stderr, "vakt: %s\n", err);
        return 1;
    }
    int rc = vk_logarch_retention(a, now);
    struct vk_logarch_stats st;
    vk_logarch_stats(a, &st);
    if (rc) fprintf(stderr, "vakt: %s\n", vk_logarch_error(a));
    vk_logarch_close(a);
    printf("retention: %llu raw segments removed, %llu long-term segments pruned\n",
           (unsigned long long)st.raw_segments_removed, (unsigned long long)st.segments_pruned);
    return rc ? 1 : 0;
}

int vk_cli_archive(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
        const char *what;
    } cmds[] = {
        {"seal", cmd_seal, "close the open segments"},
        {"verify", cmd_verify, "check the hash chain and every sealed segment"},
        {"search", cmd_search, "lines by time range and text or regex"},
        {"append", cmd_append, "archive the lines of files or stdin"},
        {"get", cmd_get, "the raw line of a ref"},
        {"retention", cmd_retention, "apply retention now"},
    };
    const size_t n = sizeof cmds / sizeof *cmds;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        FILE *o = argc < 2 ? stderr : stdout;
        fprintf(o, "usage: vakt archive COMMAND [--data DIR] ...\n\n"
                   "The log archive: every original line, short-term raw (by ref) and long-term in\n"
                   "hourly zstd segments chained by SHA-256 (docs/LOG-ARCHIVE.md).\n\n");
        for (size_t i = 0; i < n; i++) fprintf(o, "  %-10s %s\n", cmds[i].name, cmds[i].what);
        fprintf(o, "\n`vakt archive COMMAND --help` for each.\n");
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vakt: archive: unknown command '%s' (seal, verify, search, append, get, retention)\n", argv[1]);
    return EXIT_USAGE;
}
