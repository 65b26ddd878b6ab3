/* cmd_logs.c — `vakt logs parse`: log lines from files to event records.
 *
 * Reads plain, gzip or zstd files (by their magic bytes, not their names) or stdin, cuts
 * lines, hands each to vk_logs_parse and prints exactly one record per input line, in
 * order (empty lines too), as JSON lines (the same writer as `vakt sessions --jsonl`), a
 * table or CSV. Records are printed in batches so that every line of a batch carries its
 * cluster's template as it stands at the end of the batch: mined templates generalise as
 * lines arrive, and a file's lines should not get three spellings of one template. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "cli.h"
#include "core/vk_core.h"
#include "logs/vk_logs.h"

#define BATCH_LINES 16384
#define BATCH_BYTES (32u << 20)
#define READ_CHUNK (1u << 20)

enum fmt { F_JSONL, F_TABLE, F_CSV, F_COUNT };

/* ---- a byte source: plain, gzip or zstd ------------------------------------------- */
struct src {
    FILE *f;
    gzFile gz;
    ZSTD_DCtx *z;
    uint8_t *zin;
    ZSTD_inBuffer zib;
    bool zeof;
};

static int src_open(struct src *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!s->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int c1 = getc(s->f), c2 = c1 == EOF ? EOF : getc(s->f);
    int c3 = c2 == EOF ? EOF : getc(s->f), c4 = c3 == EOF ? EOF : getc(s->f);
    /* push back what we peeked: ungetc guarantees one byte only, so re-open via fd tricks
     * is avoided by keeping the peeked bytes */
    uint8_t peek[4] = {(uint8_t)c1, (uint8_t)c2, (uint8_t)c3, (uint8_t)c4};
    int npeek = c1 == EOF ? 0 : c2 == EOF ? 1 : c3 == EOF ? 2 : c4 == EOF ? 3 : 4;
    if (npeek >= 2 && peek[0] == 0x1f && peek[1] == 0x8b) {
        if (s->f == stdin) {
            snprintf(err, errlen, "%s: gzip on stdin is not supported (use zcat)", path);
            return -1;
        }
        fclose(s->f);
        s->f = NULL;
        s->gz = gzopen(path, "rb");
        if (!s->gz) {
            snprintf(err, errlen, "%s: cannot open gzip stream", path);
            return -1;
        }
        gzbuffer(s->gz, 1 << 18);
        return 0;
    }
    if (npeek == 4 && peek[0] == 0x28 && peek[1] == 0xb5 && peek[2] == 0x2f && peek[3] == 0xfd) {
        s->z = ZSTD_createDCtx();
        s->zin = malloc(ZSTD_DStreamInSize() + 4);
        if (!s->z || !s->zin) {
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        memcpy(s->zin, peek, 4);
        s->zib = (ZSTD_inBuffer){s->zin, 4, 0};
        return 0;
    }
    /* plain: keep the peeked bytes in a tiny prefix by seeking back when possible */
    if (s->f != stdin && fseek(s->f, 0, SEEK_SET) == 0) return 0;
    for (int i = npeek - 1; i >= 0; i--) {
        if (ungetc(peek[i], s->f) == EOF) {
            snprintf(err, errlen, "%s: cannot rewind input", path);
            return -1;
        }
    }
    return 0;
}

/* Read up to n bytes; 0 at the end; -1 on error. */
static long src_read(struct src *s, uint8_t *buf, size_t n, char *err, size_t errlen, const char *path)
{
    if (s->gz) {
        int k = gzread(s->gz, buf, (unsigned)(n > (1u << 30) ? (1u << 30) : n));
        if (k < 0) {
            int e;
            snprintf(err, errlen, "%s: gzip: %s", path, gzerror(s->gz, &e));
            return -1;
        }
        return k;
    }
    if (s->z) {
        ZSTD_outBuffer ob = {buf, n, 0};
        while (ob.pos == 0) {
            if (s->zib.pos == s->zib.size) {
                if (s->zeof) return 0;
                size_t k = fread(s->zin, 1, ZSTD_DStreamInSize(), s->f);
                if (k == 0) {
                    s->zeof = true;
                    return 0;
                }
                s->zib = (ZSTD_inBuffer){s->zin, k, 0};
            }
            size_t r = ZSTD_decompressStream(s->z, &ob, &s->zib);
            if (ZSTD_isError(r)) {
                snprintf(err, errlen, "%s: zstd: %s", path, ZSTD_getErrorName(r));
                return -1;
            }
        }
        return (long)ob.pos;
    }
    size_t k = fread(buf, 1, n, s->f);
    if (k == 0 && ferror(s->f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return (long)k;
}

static void src_close(struct src *s)
{
    if (s->gz) gzclose(s->gz);
    if (s->f && s->f != stdin) fclose(s->f);
    if (s->z) ZSTD_freeDCtx(s->z);
    free(s->zin);
}

/* ---- output ------------------------------------------------------------------------ */
struct out {
    enum fmt fmt;
    struct vk_logs *lp;
    struct vk_meta *recs;
    uint32_t *ids;
    size_t n, bytes;
    struct vk_json j;
    uint64_t total;
};

static const char *sfield(const struct vk_meta *m, enum vk_key k, char *buf, size_t n)
{
    buf[0] = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != k) continue;
        enum vk_type t = vk_key_info(k)->type;
        if (t == VK_T_UINT || t == VK_T_TIME) snprintf(buf, n, "%llu", (unsigned long long)it->u);
        else snprintf(buf, n, "%.*s", (int)(it->len < n - 1 ? it->len : n - 1), vk_meta_str(m, it));
        for (char *c = buf; *c; c++)
            if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
        return buf;
    }
    return buf;
}

static const enum vk_key cols[] = {VK_K_TIME, VK_K_DEVICE_HOST, VK_K_PROCESS, VK_K_EVENT_TYPE, VK_K_EVENT_OUTCOME,
                                   VK_K_USER, VK_K_IP_SRC, VK_K_HOST_SRC, VK_K_LOG_TEMPLATE};
#define NCOLS (sizeof cols / sizeof *cols)

static void csv_str(const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_rec(struct out *o, const struct vk_meta *m)
{
    char b[NCOLS][512];
    switch (o->fmt) {
    case F_JSONL:
        o->j.len = 0;
        o->j.need_comma = false;
        vk_json_meta(&o->j, m);
        vk_json_raw(&o->j, "\n", 1);
        fwrite(o->j.p, 1, o->j.len, stdout);
        break;
    case F_TABLE: {
        for (size_t i = 0; i < NCOLS; i++) sfield(m, cols[i], b[i], sizeof b[i]);
        time_t ts = (time_t)(strtoull(b[0], NULL, 10) / 1000);
        struct tm tm;
        char tb[32];
        gmtime_r(&ts, &tm);
        strftime(tb, sizeof tb, "%Y-%m-%d %H:%M:%S", &tm);
        printf("%s %-16.16s %-14.14s %-10.10s %-8.8s %-12.12s %-22.22s %s\n", tb, b[1], b[2], b[3], b[4], b[5],
               b[6][0] ? b[6] : b[7], b[8]);
        break;
    }
    case F_CSV:
        for (size_t i = 0; i < NCOLS; i++) {
            if (i) putchar(',');
            csv_str(sfield(m, cols[i], b[i], sizeof b[i]));
        }
        putchar('\n');
        break;
    case F_COUNT: break;
    }
}

static void flush(struct out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        if (o->ids[i] != UINT32_MAX && !vk_meta_has(&o->recs[i], VK_K_LOG_TEMPLATE))
            vk_logs_add_template(o->lp, o->ids[i], &o->recs[i]);
        print_rec(o, &o->recs[i]);
    }
    o->n = 0;
    o->bytes = 0;
}

static void one_line(struct out *o, const char *line, size_t len, const struct vk_logsrc *src)
{
    o->total++;
    if (o->fmt == F_COUNT) {
        vk_logs_parse(o->lp, line, len, src, &o->recs[0]);
        return;
    }
    struct vk_meta *m = &o->recs[o->n];
    vk_logs_parse(o->lp, line, len, src, m);
    o->ids[o->n] = vk_logs_last_id(o->lp);
    o->n++;
    o->bytes += m->arena_len + m->n * sizeof *m->items;
    if (o->n == BATCH_LINES || o->bytes >= BATCH_BYTES) flush(o);
}

/* Cut a stream into lines. A line longer than the buffer is handed over cut (the parser
 * flags it) and the rest of it is skipped. */
static int parse_file(struct out *o, const char *path, int64_t now, char *err, size_t errlen)
{
    struct src s;
    if (src_open(&s, path, err, errlen)) {
        src_close(&s);
        return 2;
    }
    struct vk_logsrc ls = {.recv_ms = now, .source = strcmp(path, "-") == 0 ? "stdin" : path};
    size_t cap = 4 * READ_CHUNK, len = 0;
    uint8_t *buf = malloc(cap);
    bool skipping = false;
    int rc = 0;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        src_close(&s);
        return 1;
    }
    size_t scan = 0; /* buf[0, scan) holds no newline */
    for (;;) {
        if (cap - len < READ_CHUNK) {
            /* the buffer is full of one unfinished line: hand over its head, skip the rest */
            if (!skipping) one_line(o, (const char *)buf, VK_LOGS_MAX_LINE + 1, &ls);
            skipping = true;
            len = scan = 0;
        }
        long k = src_read(&s, buf + len, READ_CHUNK, err, errlen, path);
        if (k < 0) {
            rc = 2;
            break;
        }
        if (k == 0) {
            if (len && !skipping) one_line(o, (const char *)buf, len, &ls);
            break;
        }
        len += (size_t)k;
        size_t start = 0;
        uint8_t *nl;
        while ((nl = memchr(buf + scan, '\n', len - scan))) {
            if (!skipping) one_line(o, (const char *)buf + start, (size_t)(nl - buf) - start, &ls);
            skipping = false;
            start = scan = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        scan = len;
    }
    free(buf);
    src_close(&s);
    return rc;
}

static void usage(FILE *f)
{
    fputs("usage: vakt logs parse [--jsonl|--table|--csv|--count] [--templates DIR] [--now TIME]\n"
          "                       [--stats] FILE...\n"
          "\n"
          "Parse log lines into event records: RFC 3164/5424 syslog, CEF, LEEF, JSON, key=value\n"
          "and plain application logs; source templates (templates/logs/*.tmpl) set the shared\n"
          "keys (event.type, event.outcome, user, ip.src, ...) and a template miner gives each\n"
          "line a log.template. Exactly one record per input line, in order.\n"
          "\n"
          "  --jsonl          one JSON object per line (default)\n"
          "  --table          a table for people\n"
          "  --csv            CSV: time, host, process, type, outcome, user, source, template\n"
          "  --count          parse only; print the line count and the rate on stderr\n"
          "  --templates DIR  template directory (default: $VAKT_TEMPLATES, else templates/logs\n"
          "                   next to the binary or its parent directory, else ./templates/logs)\n"
          "  --now TIME       receive time (ms since the epoch or ISO 8601) for lines without a\n"
          "                   time of their own and for the year of RFC 3164 stamps (default: now)\n"
          "  --stats          print parser counters on stderr at the end\n"
          "\n"
          "FILE may be plain, gzip or zstd (recognised by content), or - for stdin.\n",
          f);
}

static int logs_parse(int argc, char **argv)
{
    static const struct option opts[] = {{"jsonl", no_argument, 0, 'j'},      {"table", no_argument, 0, 't'},
                                         {"csv", no_argument, 0, 'c'},        {"count", no_argument, 0, 'n'},
                                         {"templates", required_argument, 0, 'T'}, {"now", required_argument, 0, 'N'},
                                         {"stats", no_argument, 0, 's'},      {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    enum fmt fmt = F_JSONL;
    const char *tdir = NULL;
    bool stats = false;
    struct timespec tsn;
    clock_gettime(CLOCK_REALTIME, &tsn);
    int64_t now = (int64_t)tsn.tv_sec * 1000 + tsn.tv_nsec / 1000000;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': fmt = F_JSONL; break;
        case 't': fmt = F_TABLE; break;
        case 'c': fmt = F_CSV; break;
        case 'n': fmt = F_COUNT; break;
        case 'T': tdir = optarg; break;
        case 's': stats = true; break;
        case 'N': {
            char *e;
            long long v = strtoll(optarg, &e, 10);
            if (*e) {
                /* ISO 8601 through the parser's own reader: parse a one-line JSON stamp */
                struct vk_logs *tmp = vk_logs_new("", NULL, 0);
                struct vk_meta m;
                vk_meta_init(&m);
                char line[160];
                int n = snprintf(line, sizeof line, "{\"@timestamp\":\"%.100s\"}", optarg);
                v = -1;
                if (tmp && vk_logs_parse(tmp, line, (size_t)n, &(struct vk_logsrc){.recv_ms = -1}, &m) == 0)
                    for (uint32_t i = 0; i < m.n; i++)
                        if (m.items[i].key == VK_K_TIME) v = (long long)m.items[i].u;
                vk_meta_free(&m);
                vk_logs_free(tmp);
            }
            if (v < 0) {
                vk_err("logs parse: --now: '%s' is not ms since the epoch nor an ISO 8601 time", optarg);
                return 2;
            }
            now = v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        vk_err("logs parse: no input file (use - for stdin); see vakt logs parse --help");
        return 2;
    }
    char err[512] = "";
    struct vk_logs *lp = vk_logs_new(tdir, err, sizeof err);
    if (!lp) {
        vk_err("logs parse: %s", err);
        return 2;
    }
    struct out o = {.fmt = fmt, .lp = lp};
    o.recs = calloc(BATCH_LINES, sizeof *o.recs);
    o.ids = calloc(BATCH_LINES, sizeof *o.ids);
    if (!o.recs || !o.ids) {
        vk_err("logs parse: out of memory");
        vk_logs_free(lp);
        return 1;
    }
    vk_json_init(&o.j);
    if (fmt != F_COUNT) vk_logs_defer_template(lp, true);
    if (fmt == F_TABLE)
        printf("%-19s %-16s %-14s %-10s %-8s %-12s %-22s %s\n", "time", "host", "process", "type", "outcome", "user",
               "source", "template");
    if (fmt == F_CSV) puts("time,host,process,event.type,event.outcome,user,ip.src,host.src,log.template");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        rc = parse_file(&o, argv[i], now, err, sizeof err);
        if (rc) vk_err("logs parse: %s", err);
    }
    flush(&o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fflush(stdout);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (fmt == F_COUNT)
        fprintf(stderr, "%llu lines in %.3f s: %.0f lines/s\n", (unsigned long long)o.total, secs,
                secs > 0 ? (double)o.total / secs : 0.0);
    if (stats) {
        struct vk_logs_stats st;
        vk_logs_get_stats(lp, &st);
        fprintf(stderr,
                "templates dir: %s\nlines: %llu\ntoo_long: %llu\nbinary: %llu\nmatched: %llu\nclusters: %llu\n"
                "clusters_evicted: %llu\ntemplate_rules: %llu\ntemplate_files: %llu\n",
                vk_logs_templates_dir(lp)[0] ? vk_logs_templates_dir(lp) : "(none)", (unsigned long long)st.lines,
                (unsigned long long)st.too_long, (unsigned long long)st.binary, (unsigned long long)st.matched,
                (unsigned long long)st.clusters, (unsigned long long)st.clusters_evicted,
                (unsigned long long)st.templates, (unsigned long long)st.template_files);
    }
    for (size_t i = 0; i < BATCH_LINES; i++) vk_meta_free(&o.recs[i]);
    free(o.recs);
    free(o.ids);
    vk_json_free(&o.j);
    vk_logs_free(lp);
    return rc;
}

int vk_cli_logs(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        FILE *f = argc < 2 ? stderr : stdout;
        fputs("usage: vakt logs parse [options] FILE...   (vakt logs parse --help)\n", f);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "parse") == 0) return logs_parse(argc - 1, argv + 1);
    vk_err("logs: unknown subcommand '%s' (try: vakt logs parse --help)", argv[1]);
    return 2;
}
