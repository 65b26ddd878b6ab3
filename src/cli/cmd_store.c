/* cmd_store.c — the investigation commands over a data directory: query, values,
 * timeline, show, pcap, reconstruct, status and prune.
 *
 * Every command takes --data DIR (default $VAKT_DATA, else ./vakt-data), --from/--to,
 * and prints a table for people or JSON/CSV for machines. Bad input (a bad query, an
 * unknown id, a missing data directory) is one line on stderr and exit status 2. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../store/vk_logarch.h"
#include "../store/vk_store.h"
#include "cli.h"
#include "reconstruct.h"

enum { F_TABLE, F_JSON, F_JSONL, F_CSV };

struct opts {
    const char *data, *where, *out, *from, *to;
    int fmt;
    bool fmt_set;
    uint64_t limit;
    unsigned top;
    enum vk_store_by by;
    int64_t bucket_ms;
    int sort_key;
    bool desc;
    int view; /* reconstruct: 't' text, 'x' hex, 'h' http */
    const char *extract;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bad(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "vakt %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

/* "30s", "5m", "1h", "1d" -> ms */
static bool parse_dur(const char *s, int64_t *out)
{
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (errno || e == s || v <= 0) return false;
    int64_t mul = 1000;
    if (!strcmp(e, "ms")) mul = 1;
    else if (!*e || !strcmp(e, "s")) mul = 1000;
    else if (!strcmp(e, "m")) mul = 60000;
    else if (!strcmp(e, "h")) mul = 3600000;
    else if (!strcmp(e, "d")) mul = 86400000;
    else if (!strcmp(e, "w")) mul = 7 * 86400000LL;
    else return false;
    *out = v * mul;
    return true;
}

static const char usage_common[] =
    "  --data DIR         data directory (default $VAKT_DATA, else ./vakt-data)\n"
    "  --from T, --to T   time range: ISO 8601, epoch seconds/ms, or relative (-1h, -7d)\n";

static void usage(const char *cmd)
{
    if (!strcmp(cmd, "query"))
        printf("usage: vakt query [options] 'QUERY'\n\nStored records matching QUERY (docs/QUERY.md), oldest first.\n\n"
               "  --format F         table, json (an array), jsonl (as vakt sessions --jsonl) or csv\n"
               "  --limit N          at most N records\n"
               "  --sort KEY[:desc]  order by a key instead of time\n%s",
               usage_common);
    else if (!strcmp(cmd, "values"))
        printf("usage: vakt values [options] KEY...\n\nThe top values of each KEY among the records matching --where (the\n"
               "drill-down view): how many records, sessions and bytes carry each value.\n\n"
               "  --where Q          only records matching Q\n"
               "  --top N            values per key (default 20)\n"
               "  --by count|sessions|bytes  ranking (default count)\n"
               "  --format F         table, json or csv\n%s",
               usage_common);
    else if (!strcmp(cmd, "timeline"))
        printf("usage: vakt timeline [options]\n\nRecords and bytes per time bucket among the records matching --where.\n\n"
               "  --where Q          only records matching Q\n"
               "  --bucket D         bucket width: 30s, 1m, 1h, 1d (default 1m)\n"
               "  --format F         table, json or csv\n%s",
               usage_common);
    else if (!strcmp(cmd, "show"))
        printf("usage: vakt show [options] ID\n\nEvery value of one session (all its interim records), and where its packets are.\n\n"
               "  --format F         table or json\n%s",
               usage_common);
    else if (!strcmp(cmd, "pcap"))
        printf("usage: vakt pcap [options] ID... -o FILE\n       vakt pcap [options] --where Q -o FILE\n\n"
               "Write every packet of the given sessions (or of the sessions matching Q) to a\n"
               "pcap file, session after session, each in capture order.\n\n"
               "  -o, --output FILE  where to write (- for stdout when it is not a terminal)\n"
               "  --where Q          the sessions matching Q\n%s",
               usage_common);
    else if (!strcmp(cmd, "reconstruct"))
        printf("usage: vakt reconstruct [options] ID\n\nA session's payload, both directions in order (TCP reassembled).\n\n"
               "  --text             printable text, other bytes as '.' (default)\n"
               "  --hex              hex dump\n"
               "  --http             HTTP messages with chunked and gzip/deflate bodies decoded\n"
               "  --extract DIR      write the files carried (HTTP bodies) to DIR\n%s",
               usage_common);
    else if (!strcmp(cmd, "status"))
        printf("usage: vakt status [--data DIR] [--format table|json]\n\nWhat a data directory holds.\n");
    else
        printf("usage: vakt prune [--data DIR]\n\nApply the retention settings of DIR/vakt.conf now.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    enum { O_DATA = 256, O_WHERE, O_FORMAT, O_LIMIT, O_TOP, O_BY, O_BUCKET, O_SORT, O_FROM, O_TO, O_TEXT, O_HEX,
           O_HTTP, O_EXTRACT };
    static const struct option lo[] = {{"data", required_argument, 0, O_DATA},
                                       {"where", required_argument, 0, O_WHERE},
                                       {"format", required_argument, 0, O_FORMAT},
                                       {"limit", required_argument, 0, O_LIMIT},
                                       {"top", required_argument, 0, O_TOP},
                                       {"by", required_argument, 0, O_BY},
                                       {"bucket", required_argument, 0, O_BUCKET},
                                       {"sort", required_argument, 0, O_SORT},
                                       {"from", required_argument, 0, O_FROM},
                                       {"to", required_argument, 0, O_TO},
                                       {"text", no_argument, 0, O_TEXT},
                                       {"hex", no_argument, 0, O_HEX},
                                       {"http", no_argument, 0, O_HTTP},
                                       {"extract", required_argument, 0, O_EXTRACT},
                                       {"output", required_argument, 0, 'o'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *cmd = argv[0];
    memset(o, 0, sizeof *o);
    o->top = 20;
    o->bucket_ms = 60000;
    o->sort_key = -1;
    o->view = 't';
    int opt;
    optind = 1;
    char *e;
    while ((opt = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(cmd); return 1;
        case O_DATA: o->data = optarg; break;
        case O_WHERE: o->where = optarg; break;
        case 'o': o->out = optarg; break;
        case O_FROM: o->from = optarg; break;
        case O_TO: o->to = optarg; break;
        case O_FORMAT:
            o->fmt_set = true;
            if (!strcmp(optarg, "table")) o->fmt = F_TABLE;
            else if (!strcmp(optarg, "json")) o->fmt = F_JSON;
            else if (!strcmp(optarg, "jsonl")) o->fmt = F_JSONL;
            else if (!strcmp(optarg, "csv")) o->fmt = F_CSV;
            else return bad(cmd, "unknown format '%s' (table, json, jsonl, csv)", optarg);
            break;
        case O_LIMIT:
            errno = 0;
            o->limit = strtoull(optarg, &e, 10);
            if (errno || *e || e == optarg) return bad(cmd, "bad --limit '%s'", optarg);
            break;
        case O_TOP: {
            errno = 0;
            unsigned long v = strtoul(optarg, &e, 10);
            if (errno || *e || e == optarg || v == 0 || v > 100000) return bad(cmd, "bad --top '%s' (1..100000)", optarg);
            o->top = (unsigned)v;
            break;
        }
        case O_BY:
            if (!strcmp(optarg, "count")) o->by = VK_BY_COUNT;
            else if (!strcmp(optarg, "sessions")) o->by = VK_BY_SESSIONS;
            else if (!strcmp(optarg, "bytes")) o->by = VK_BY_BYTES;
            else return bad(cmd, "bad --by '%s' (count, sessions, bytes)", optarg);
            break;
        case O_BUCKET:
            if (!parse_dur(optarg, &o->bucket_ms)) return bad(cmd, "bad --bucket '%s' (e.g. 30s, 1m, 1h, 1d)", optarg);
            break;
        case O_SORT: {
            char k[128];
            snprintf(k, sizeof k, "%s", optarg);
            char *c = strchr(k, ':');
            if (c) {
                if (strcmp(c + 1, "desc") && strcmp(c + 1, "asc")) return bad(cmd, "bad --sort order in '%s' (asc or desc)", optarg);
                o->desc = !strcmp(c + 1, "desc");
                *c = 0;
            }
            if (strcmp(k, "time") != 0) {
                o->sort_key = vk_key_lookup(k);
                if (o->sort_key < 0) return bad(cmd, "unknown key '%s' in --sort (see vakt keys)", k);
            }
            break;
        }
        case O_TEXT: o->view = 't'; break;
        case O_HEX: o->view = 'x'; break;
        case O_HTTP: o->view = 'h'; break;
        case O_EXTRACT: o->extract = optarg; break;
        default: fprintf(stderr, "vakt %s: see vakt %s --help\n", cmd, cmd); return 2;
        }
    }
    o->data = vk_cli_data_dir(o->data);
    return 0;
}

/* Open the store and build the selection; q gets the parsed --where/positional query. */
static struct vk_store *open_store(const char *cmd, struct opts *o, struct vk_store_sel *sel)
{
    vk_store_sel_default(sel);
    struct vk_query_err qe = {0};
    int64_t now = now_ms();
    if (o->from && vk_query_parse_time(o->from, now, &sel->from_ms, &qe) != 0) {
        fprintf(stderr, "vakt %s: --from: %s\n", cmd, qe.msg);
        return NULL;
    }
    if (o->to && vk_query_parse_time(o->to, now, &sel->to_ms, &qe) != 0) {
        fprintf(stderr, "vakt %s: --to: %s\n", cmd, qe.msg);
        return NULL;
    }
    sel->limit = o->limit;
    sel->sort_key = o->sort_key;
    sel->desc = o->desc;
    char err[1024];
    struct vk_store *s = vk_store_open(o->data, VK_STORE_READ, NULL, err, sizeof err);
    if (!s) fprintf(stderr, "vakt %s: %s\n", cmd, err);
    return s;
}

static struct vk_query *parse_query(const char *cmd, const char *text)
{
    struct vk_query_err qe = {0};
    struct vk_query *q = vk_query_parse(text, now_ms(), &qe);
    if (!q) fprintf(stderr, "vakt %s: %s\n", cmd, qe.msg[0] ? qe.msg : "bad query");
    return q;
}

/* ---- query ------------------------------------------------------------------------- */

struct qctx {
    struct opts *o;
    struct vk_cli_out out;
    uint64_t n;
};

static int on_record(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct qctx *c = ud;
    (void)info;
    if (c->o->fmt == F_JSON) fputs(c->n ? ",\n" : "[\n", stdout);
    c->n++;
    if (c->o->fmt == F_JSON) {
        c->out.j.len = 0;
        c->out.j.need_comma = false;
        vk_json_meta(&c->out.j, m);
        fwrite(c->out.j.p, 1, c->out.j.len, stdout);
        return 0;
    }
    vk_cli_out_record(&c->out, m);
    return 0;
}

static int cmd_query(int argc, char **argv, struct opts *o)
{
    if (optind + 1 != argc) return bad("query", "%s", "give exactly one query (use '' for all records)");
    if (!o->fmt_set) o->fmt = isatty(1) ? F_TABLE : F_JSONL;
    struct vk_store_sel sel;
    struct vk_query *q = NULL;
    const char *text = argv[optind];
    if (text[strspn(text, " \t")] && !(q = parse_query("query", text))) return 2;
    struct vk_store *s = open_store("query", o, &sel);
    if (!s) {
        vk_query_free(q);
        return 2;
    }
    struct qctx c = {.o = o};
    vk_json_init(&c.out.j);
    c.out.fmt = o->fmt == F_TABLE ? VK_FMT_TABLE : o->fmt == F_CSV ? VK_FMT_CSV : VK_FMT_JSONL;
    if (o->fmt == F_TABLE || o->fmt == F_CSV) vk_cli_out_header(c.out.fmt);
    char err[1024] = "";
    int rc = vk_store_query(s, q, &sel, on_record, &c, err, sizeof err);
    if (o->fmt == F_JSON) fputs(c.n ? "\n]\n" : "[]\n", stdout);
    if (rc) fprintf(stderr, "vakt query: %s\n", err);
    else if (o->fmt == F_TABLE) fprintf(stderr, "%llu records\n", (unsigned long long)c.n);
    vk_json_free(&c.out.j);
    vk_query_free(q);
    vk_store_close(s);
    return rc == VK_EINVAL ? 2 : rc ? 1 : 0;
}

/* ---- values ------------------------------------------------------------------------ */

struct vctx {
    struct opts *o;
    const char *key;
    unsigned n;
    bool first_key;
    struct vk_json j;
};

static void csv_str(const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
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

static int on_value(void *ud, const char *v, uint64_t count, uint64_t sessions, uint64_t bytes)
{
    struct vctx *c = ud;
    if (c->o->fmt == F_TABLE) {
        char clean[72];
        snprintf(clean, sizeof clean, "%s", v);
        for (char *p = clean; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '.';
        printf("  %-60s %10llu %10llu %14llu\n", clean, (unsigned long long)count, (unsigned long long)sessions,
               (unsigned long long)bytes);
    } else if (c->o->fmt == F_CSV) {
        csv_str(c->key);
        putchar(',');
        csv_str(v);
        printf(",%llu,%llu,%llu\n", (unsigned long long)count, (unsigned long long)sessions, (unsigned long long)bytes);
    } else {
        c->j.len = 0;
        c->j.need_comma = false;
        vk_json_obj_begin(&c->j);
        vk_json_key(&c->j, "value");
        vk_json_val_str(&c->j, v, strlen(v));
        vk_json_key(&c->j, "count");
        vk_json_val_uint(&c->j, count);
        vk_json_key(&c->j, "sessions");
        vk_json_val_uint(&c->j, sessions);
        vk_json_key(&c->j, "bytes");
        vk_json_val_uint(&c->j, bytes);
        vk_json_obj_end(&c->j);
        fputs(c->n ? "," : "", stdout);
        fwrite(c->j.p, 1, c->j.len, stdout);
    }
    c->n++;
    return 0;
}

static int cmd_values(int argc, char **argv, struct opts *o)
{
    if (optind >= argc) return bad("values", "%s", "name at least one key (e.g. vakt values ip.src service)");
    if (!o->fmt_set || o->fmt == F_JSONL) o->fmt = o->fmt_set ? F_JSON : (isatty(1) ? F_TABLE : F_JSON);
    int keys[64];
    int nk = 0;
    for (int i = optind; i < argc; i++) {
        if (nk == 64) return bad("values", "%s", "at most 64 keys");
        keys[nk] = vk_key_lookup(argv[i]);
        if (keys[nk] < 0) return bad("values", "unknown key '%s' (see vakt keys)", argv[i]);
        nk++;
    }
    struct vk_query *q = NULL;
    if (o->where && o->where[strspn(o->where, " \t")] && !(q = parse_query("values", o->where))) return 2;
    struct vk_store_sel sel;
    struct vk_store *s = open_store("values", o, &sel);
    if (!s) {
        vk_query_free(q);
        return 2;
    }
    struct vctx c = {.o = o};
    vk_json_init(&c.j);
    int rc = 0;
    char err[1024] = "";
    if (o->fmt == F_CSV) printf("key,value,count,sessions,bytes\n");
    if (o->fmt == F_JSON) putchar('{');
    for (int i = 0; i < nk && !rc; i++) {
        c.key = vk_key_info((enum vk_key)keys[i])->name;
        c.n = 0;
        if (o->fmt == F_TABLE)
            printf("%s%-62s %10s %10s %14s\n", i ? "\n" : "", c.key, "count", "sessions", "bytes");
        if (o->fmt == F_JSON) printf("%s\"%s\":[", i ? "," : "", c.key);
        rc = vk_store_values(s, q, &sel, (enum vk_key)keys[i], o->top, o->by, on_value, &c, err, sizeof err);
        if (o->fmt == F_JSON) putchar(']');
        if (o->fmt == F_TABLE && !c.n && !rc) printf("  (no values)\n");
    }
    if (o->fmt == F_JSON) printf("}\n");
    if (rc) fprintf(stderr, "vakt values: %s\n", err);
    vk_json_free(&c.j);
    vk_query_free(q);
    vk_store_close(s);
    return rc == VK_EINVAL ? 2 : rc ? 1 : 0;
}

/* ---- timeline ---------------------------------------------------------------------- */

struct tctx {
    struct opts *o;
    unsigned n;
};

static void fmt_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int on_bucket(void *ud, int64_t start, uint64_t records, uint64_t bytes)
{
    struct tctx *c = ud;
    char tb[32];
    fmt_time(start, tb, sizeof tb);
    if (c->o->fmt == F_TABLE) printf("%-22s %10llu %14llu\n", tb, (unsigned long long)records, (unsigned long long)bytes);
    else if (c->o->fmt == F_CSV) printf("%s,%lld,%llu,%llu\n", tb, (long long)start, (unsigned long long)records, (unsigned long long)bytes);
    else
        printf("%s{\"time\":%lld,\"records\":%llu,\"bytes\":%llu}", c->n ? "," : "", (long long)start,
               (unsigned long long)records, (unsigned long long)bytes);
    c->n++;
    return 0;
}

static int cmd_timeline(int argc, char **argv, struct opts *o)
{
    (void)argv;
    if (optind != argc) return bad("timeline", "%s", "unexpected argument (the query goes in --where)");
    if (!o->fmt_set || o->fmt == F_JSONL) o->fmt = o->fmt_set ? F_JSON : (isatty(1) ? F_TABLE : F_JSON);
    struct vk_query *q = NULL;
    if (o->where && o->where[strspn(o->where, " \t")] && !(q = parse_query("timeline", o->where))) return 2;
    struct vk_store_sel sel;
    struct vk_store *s = open_store("timeline", o, &sel);
    if (!s) {
        vk_query_free(q);
        return 2;
    }
    struct tctx c = {.o = o};
    char err[1024] = "";
    if (o->fmt == F_TABLE) printf("%-22s %10s %14s\n", "bucket", "records", "bytes");
    if (o->fmt == F_CSV) printf("bucket,time,records,bytes\n");
    if (o->fmt == F_JSON) putchar('[');
    int rc = vk_store_timeline(s, q, &sel, o->bucket_ms, on_bucket, &c, err, sizeof err);
    if (o->fmt == F_JSON) printf("]\n");
    if (rc) fprintf(stderr, "vakt timeline: %s\n", err);
    vk_query_free(q);
    vk_store_close(s);
    return rc == VK_EINVAL ? 2 : rc ? 1 : 0;
}

/* ---- show -------------------------------------------------------------------------- */

struct sctx {
    struct opts *o;
    unsigned n;
    struct vk_json j;
    struct vk_logarch *arch; /* for an event's raw line, opened on first need */
    bool arch_tried;
};

/* The original line of an event, for people: control bytes as '.'. */
static void print_raw(struct sctx *c, const struct vk_meta *m)
{
    uint64_t ref = vk_cli_ufield(m, VK_K_LOG_RAW);
    if (!vk_meta_has(m, VK_K_LOG_RAW)) return;
    if (!c->arch_tried) {
        struct vk_logarch_cfg cfg;
        vk_logarch_cfg_default(&cfg);
        cfg.readonly = true;
        char err[512];
        c->arch = vk_logarch_open(c->o->data, &cfg, err, sizeof err, NULL);
        c->arch_tried = true;
    }
    struct vk_buf b;
    vk_buf_init(&b, 1u << 20);
    int rc = c->arch ? vk_logarch_get(c->arch, ref, &b, NULL) : VK_EIO;
    if (rc == 0) {
        printf("%-24s ", "raw");
        for (size_t i = 0; i < b.len; i++) putchar(b.p[i] >= 0x20 && b.p[i] < 0x7f ? b.p[i] : '.');
        putchar('\n');
    } else {
        printf("%-24s %s\n", "raw", rc == VK_LOGARCH_EXPIRED ? "raw line expired (log archive retention)" : "raw line not available");
    }
    vk_buf_free(&b);
}

static int on_show(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct sctx *c = ud;
    if (c->o->fmt != F_TABLE) {
        c->j.len = 0;
        c->j.need_comma = false;
        vk_json_meta(&c->j, m);
        /* the packet facts ride along as extra keys outside the registry */
        if (c->j.len && c->j.p[c->j.len - 1] == '}') {
            c->j.len--;
            char extra[160];
            snprintf(extra, sizeof extra, ",\"packets.stored\":%u,\"packets.expired\":%s,\"packets.partial\":%s}",
                     info->npos, info->packets_expired ? "true" : "false", info->packets_partial ? "true" : "false");
            vk_json_raw(&c->j, extra, strlen(extra));
        }
        fwrite(c->j.p, 1, c->j.len, stdout);
        putchar('\n');
        c->n++;
        return 0;
    }
    if (c->n) printf("\n");
    c->n++;
    char buf[VK_META_MAX_STR * 2];
    for (int k = 0; k < VK_K__COUNT; k++) /* registry order, each key once */
        if (vk_meta_has(m, (enum vk_key)k))
            printf("%-24s %s\n", vk_key_info((enum vk_key)k)->name, vk_cli_field(m, (enum vk_key)k, buf, sizeof buf));
    if (vk_meta_has(m, VK_K_LOG_RAW)) {
        print_raw(c, m);
        return 0;
    }
    printf("%-24s %u stored%s%s\n", "packets", info->npos,
           info->packets_expired ? " (packets expired: deleted by retention)" : "",
           info->packets_partial ? " (more packets than the per-record cap; not all kept)" : "");
    return 0;
}

static int cmd_show(int argc, char **argv, struct opts *o)
{
    if (optind + 1 != argc) return bad("show", "%s", "give one session id (see vakt query)");
    if (!o->fmt_set) o->fmt = F_TABLE;
    const char *id = argv[optind];
    if (!*id || strspn(id, "0123456789abcdefABCDEF") != strlen(id) || strlen(id) > 64)
        return bad("show", "'%s' is not a session id (hex, as vakt query prints)", id);
    char qt[128];
    int ql = snprintf(qt, sizeof qt, "id=%s", id);
    for (int i = 3; i < ql; i++) qt[i] = (char)tolower((unsigned char)qt[i]); /* ids are lowercase hex */
    struct vk_query *q = parse_query("show", qt);
    if (!q) return 2;
    struct vk_store_sel sel;
    struct vk_store *s = open_store("show", o, &sel);
    if (!s) {
        vk_query_free(q);
        return 2;
    }
    struct sctx c = {.o = o};
    vk_json_init(&c.j);
    char err[1024] = "";
    int rc = vk_store_query(s, q, &sel, on_show, &c, err, sizeof err);
    if (rc) fprintf(stderr, "vakt show: %s\n", err);
    else if (!c.n) {
        fprintf(stderr, "vakt show: no session with id %s in %s\n", id, o->data);
        rc = VK_EINVAL;
    }
    vk_json_free(&c.j);
    vk_logarch_close(c.arch);
    vk_query_free(q);
    vk_store_close(s);
    return rc == VK_EINVAL ? 2 : rc ? 1 : 0;
}

/* ---- pcap -------------------------------------------------------------------------- */

struct pctx {
    pcap_t *dead;
    pcap_dumper_t *dump;
    FILE *f;
    int dlt;
    uint64_t written, skipped;
    const char *out;
};

static int on_packet(void *ud, const struct vk_pkt *pkt)
{
    struct pctx *c = ud;
    if (!c->dump) {
        c->dlt = pkt->dlt;
        c->dead = pcap_open_dead(pkt->dlt, 262144);
        if (!c->dead) return 1;
        c->dump = pcap_dump_fopen(c->dead, c->f);
        if (!c->dump) return 1;
    }
    if (pkt->dlt != c->dlt) { /* one link type per pcap file */
        c->skipped++;
        return 0;
    }
    struct pcap_pkthdr h = {.ts = {.tv_sec = (time_t)(pkt->ts_us / 1000000u), .tv_usec = (suseconds_t)(pkt->ts_us % 1000000u)},
                            .caplen = pkt->caplen,
                            .len = pkt->wirelen};
    pcap_dump((u_char *)c->dump, &h, pkt->data);
    c->written++;
    return 0;
}

struct idlist {
    char (*id)[24];
    size_t n, cap;
};

static int collect_id(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct idlist *l = ud;
    (void)info;
    char id[24];
    if (!vk_meta_get_str(m, VK_K_ID, id, sizeof id)) return 0;
    for (size_t i = l->n; i > 0 && i + 8 > l->n; i--) /* interim records of a session are near each other */
        if (!strcmp(l->id[i - 1], id)) return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        char(*p)[24] = realloc(l->id, nc * sizeof *p);
        if (!p) return 1;
        l->id = p;
        l->cap = nc;
    }
    memcpy(l->id[l->n++], id, sizeof id);
    return 0;
}

static int cmd_pcap(int argc, char **argv, struct opts *o)
{
    if (!o->out) return bad("pcap", "%s", "say where to write with -o FILE (- for stdout)");
    if (!o->where && optind >= argc) return bad("pcap", "%s", "give session ids or --where QUERY");
    bool to_stdout = !strcmp(o->out, "-");
    if (to_stdout && isatty(1)) return bad("pcap", "%s", "will not write a pcap to a terminal (use -o FILE)");
    struct vk_query *q = NULL;
    if (o->where && o->where[strspn(o->where, " \t")] && !(q = parse_query("pcap", o->where))) return 2;
    struct vk_store_sel sel;
    struct vk_store *s = open_store("pcap", o, &sel);
    if (!s) {
        vk_query_free(q);
        return 2;
    }
    struct idlist ids = {0};
    char err[1024] = "";
    int rc = 0;
    if (o->where) rc = vk_store_query(s, q, &sel, collect_id, &ids, err, sizeof err);
    for (int i = optind; i < argc && !rc; i++) {
        char tmp[24];
        snprintf(tmp, sizeof tmp, "%s", argv[i]);
        struct vk_meta m;
        vk_meta_init(&m);
        vk_meta_add_cstr(&m, VK_K_ID, tmp);
        collect_id(&ids, &m, NULL);
        vk_meta_free(&m);
    }
    struct pctx c = {.out = o->out};
    if (!rc) {
        c.f = to_stdout ? stdout : fopen(o->out, "wb");
        if (!c.f) {
            snprintf(err, sizeof err, "cannot write %s: %s", o->out, strerror(errno));
            rc = VK_EIO;
        }
    }
    uint64_t expired = 0;
    for (size_t i = 0; i < ids.n && !rc; i++) {
        int r = vk_store_packets(s, ids.id[i], on_packet, &c, err, sizeof err);
        if (r == VK_STORE_EXPIRED && o->where) { /* a query may span expired sessions: say so, go on */
            fprintf(stderr, "vakt pcap: %s\n", err);
            expired++;
        } else if (r < 0) {
            rc = r;
        }
    }
    if (!rc && !c.dump && c.f) { /* nothing matched: still a valid, empty pcap file */
        c.dead = pcap_open_dead(DLT_EN10MB, 262144);
        c.dump = c.dead ? pcap_dump_fopen(c.dead, c.f) : NULL;
    }
    if (c.dump) {
        pcap_dump_flush(c.dump);
        if (to_stdout) fflush(stdout);
        else pcap_dump_close(c.dump); /* closes c.f */
        c.f = NULL;
    }
    if (c.f && !to_stdout) fclose(c.f);
    if (c.dead) pcap_close(c.dead);
    if (rc) fprintf(stderr, "vakt pcap: %s\n", err);
    else
        fprintf(stderr, "vakt pcap: %llu packets of %zu sessions written to %s%s\n", (unsigned long long)c.written, ids.n,
                o->out, expired ? " (some sessions' packets expired)" : "");
    if (c.skipped) fprintf(stderr, "vakt pcap: %llu packets of another link type left out\n", (unsigned long long)c.skipped);
    free(ids.id);
    vk_query_free(q);
    vk_store_close(s);
    return rc == VK_STORE_NOTFOUND || rc == VK_EINVAL ? 2 : rc ? 1 : 0;
}

/* ---- reconstruct ------------------------------------------------------------------- */

static int on_recon_packet(void *ud, const struct vk_pkt *pkt)
{
    return vk_recon_packet(ud, pkt);
}

static int cmd_reconstruct(int argc, char **argv, struct opts *o)
{
    if (optind + 1 != argc) return bad("reconstruct", "%s", "give one session id");
    struct vk_store_sel sel;
    struct vk_store *s = open_store("reconstruct", o, &sel);
    if (!s) return 2;
    struct vk_recon *r = vk_recon_new();
    char err[1024] = "";
    int rc = r ? vk_store_packets(s, argv[optind], on_recon_packet, r, err, sizeof err) : VK_ENOMEM;
    if (rc >= 0) {
        rc = vk_recon_print(r, stdout, o->view, o->extract, err, sizeof err);
    }
    if (rc < 0) fprintf(stderr, "vakt reconstruct: %s\n", err[0] ? err : "failed");
    vk_recon_free(r);
    vk_store_close(s);
    return rc == VK_STORE_NOTFOUND || rc == VK_EINVAL ? 2 : rc < 0 ? 1 : 0;
}

/* ---- status, prune ----------------------------------------------------------------- */

static int cmd_status(struct opts *o)
{
    struct vk_store_sel sel;
    struct vk_store *s = open_store("status", o, &sel);
    if (!s) return 2;
    struct vk_store_stats st;
    vk_store_stats(s, &st);
    char a[32] = "-", b[32] = "-";
    if (st.records) {
        fmt_time(st.time_min, a, sizeof a);
        fmt_time(st.time_max, b, sizeof b);
    }
    if (o->fmt_set && o->fmt != F_TABLE)
        printf("{\"data\":\"%s\",\"backend\":\"%s\",\"records\":%llu,\"events\":%llu,\"meta_bytes\":%llu,"
               "\"pcap_files\":%llu,\"pcap_bytes\":%llu,\"time_min\":%lld,\"time_max\":%lld}\n",
               o->data, vk_store_backend(s), (unsigned long long)st.records, (unsigned long long)st.events,
               (unsigned long long)st.meta_bytes, (unsigned long long)st.pcap_files, (unsigned long long)st.pcap_bytes,
               (long long)st.time_min, (long long)st.time_max);
    else
        printf("data directory  %s (%s)\nrecords         %llu (%llu sessions, %llu events)\nmeta store      %.1f MB\n"
               "packet archive  %llu files, %.1f MB\ntime range      %s .. %s\n",
               o->data, vk_store_backend(s), (unsigned long long)st.records,
               (unsigned long long)(st.records - st.events), (unsigned long long)st.events, st.meta_bytes / 1e6,
               (unsigned long long)st.pcap_files, st.pcap_bytes / 1e6, a, b);
    vk_store_close(s);
    return 0;
}

static int cmd_prune(struct opts *o)
{
    struct vk_store_cfg cfg;
    char err[1024];
    vk_store_cfg_default(&cfg);
    if (vk_store_cfg_load(o->data, &cfg, err, sizeof err) != 0) return bad("prune", "%s", err);
    struct vk_store *s = vk_store_open(o->data, VK_STORE_WRITE, &cfg, err, sizeof err);
    if (!s) return bad("prune", "%s", err);
    struct vk_store_retained r;
    int rc = vk_store_retention(s, 0, &r);
    printf("deleted %llu pcap files (%.1f MB) and %llu records\n", (unsigned long long)r.pcap_files_deleted,
           r.pcap_bytes_deleted / 1e6, (unsigned long long)r.records_deleted);
    vk_store_close(s);
    return rc ? 1 : 0;
}

int vk_cli_store(int argc, char **argv)
{
    struct opts o;
    int r = parse_opts(argc, argv, &o);
    if (r == 1) return 0;
    if (r) return r;
    const char *cmd = argv[0];
    if (!strcmp(cmd, "query")) return cmd_query(argc, argv, &o);
    if (!strcmp(cmd, "values")) return cmd_values(argc, argv, &o);
    if (!strcmp(cmd, "timeline")) return cmd_timeline(argc, argv, &o);
    if (!strcmp(cmd, "show")) return cmd_show(argc, argv, &o);
    if (!strcmp(cmd, "pcap")) return cmd_pcap(argc, argv, &o);
    if (!strcmp(cmd, "reconstruct")) return cmd_reconstruct(argc, argv, &o);
    if (!strcmp(cmd, "status")) return cmd_status(&o);
    return cmd_prune(&o);
}
