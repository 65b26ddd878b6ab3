/* main.c — the `vakt` command: subcommand dispatch, option parsing and output formats.
 *
 * Each subcommand parses its own options, wires a source into the pipeline and prints
 * records as JSON lines (machines), CSV, or an aligned table (people). Errors in
 * arguments print one line and exit 2; nothing here touches packets directly. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "../flow/vk_flow.h"
#include "cli.h"

#define HOST_SLOTS (1u << 17)

#define VAKT_VERSION "0.1.0"

enum fmt { FMT_JSONL, FMT_TABLE, FMT_CSV, FMT_NONE };

struct out {
    enum fmt fmt;
    struct vk_json j;
    uint64_t records;
    bool summary;
    /* summary counters */
    struct svc_count {
        char name[32];
        uint64_t sessions, bytes;
    } svc[64];
    int nsvc;
    struct host_count {
        char name[128];
        uint64_t sessions;
    } *hosts; /* HOST_SLOTS entries, open addressing; empty name = free */
    int nhosts;
};

static struct vk_capture *g_cap;

static void on_signal(int sig)
{
    (void)sig;
    if (g_cap) vk_capture_stop(g_cap);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- record output ----------------------------------------------------------------- */

/* First value of key k as text into buf ("" when absent); several values joined by ','. */
static const char *field(const struct vk_meta *m, enum vk_key k, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < m->n && len + 2 < n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != k) continue;
        if (len) buf[len++] = ',';
        enum vk_type t = vk_key_info(k)->type;
        int w;
        if (t == VK_T_UINT || t == VK_T_TIME)
            w = snprintf(buf + len, n - len, "%llu", (unsigned long long)it->u);
        else
            w = snprintf(buf + len, n - len, "%.*s", (int)it->len, vk_meta_str(m, it));
        if (w < 0) break;
        len += (size_t)w < n - len ? (size_t)w : n - len - 1;
    }
    /* never print control bytes to a terminal */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) buf[i] = '.';
    return buf;
}

static uint64_t ufield(const struct vk_meta *m, enum vk_key k)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) return m->items[i].u;
    return 0;
}

static const enum vk_key table_cols[] = {VK_K_TIME, VK_K_IP_PROTO, VK_K_IP_SRC, VK_K_PORT_SRC,
                                          VK_K_IP_DST, VK_K_PORT_DST, VK_K_PACKETS_SRC,
                                          VK_K_PACKETS_DST, VK_K_BYTES_SRC, VK_K_BYTES_DST,
                                          VK_K_SERVICE, VK_K_APP, VK_K_ALIAS_HOST};
#define NCOLS (sizeof table_cols / sizeof *table_cols)

static void print_header(enum fmt f)
{
    if (f == FMT_TABLE)
        printf("%-23s %-5s %39s %5s  %39s %5s %7s %7s %10s %10s  %-10s %-18s %s\n", "time", "proto",
               "src", "sport", "dst", "dport", "pk>", "pk<", "by>", "by<", "service", "app", "host");
    else if (f == FMT_CSV) {
        for (size_t i = 0; i < NCOLS; i++)
            printf("%s%s", i ? "," : "", vk_key_info(table_cols[i])->name);
        printf("\n");
    }
}

static void csv_cell(const char *s)
{
    bool q = strpbrk(s, ",\"\n") != NULL;
    if (!q) {
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

static void count_summary(struct out *o, const struct vk_meta *m)
{
    uint64_t bytes = ufield(m, VK_K_BYTES_SRC) + ufield(m, VK_K_BYTES_DST);
    char svc[32];
    if (!vk_meta_get_str(m, VK_K_SERVICE, svc, sizeof svc)) {
        uint64_t p = ufield(m, VK_K_IP_PROTO);
        snprintf(svc, sizeof svc, "(%s)", p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 || p == 58 ? "icmp" : "other");
    }
    int i;
    for (i = 0; i < o->nsvc; i++)
        if (strcmp(o->svc[i].name, svc) == 0) break;
    if (i == o->nsvc && o->nsvc < 64) snprintf(o->svc[o->nsvc++].name, 32, "%s", svc);
    if (i < 64) {
        o->svc[i].sessions++;
        o->svc[i].bytes += bytes;
    }
    for (uint32_t k = 0; k < m->n; k++) {
        const struct vk_meta_item *it = &m->items[k];
        if (it->key != VK_K_ALIAS_HOST) continue;
        /* Open addressing over a fixed table: O(1) per name, at most HOST_SLOTS-1 names
         * (later new names are not counted; the top 15 are what the summary shows). */
        if (!o->hosts && !(o->hosts = calloc(HOST_SLOTS, sizeof *o->hosts))) return;
        const char *nm = vk_meta_str(m, it);
        size_t len = it->len < sizeof o->hosts->name - 1 ? it->len : sizeof o->hosts->name - 1;
        uint64_t slot = XXH3_64bits(nm, len) & (HOST_SLOTS - 1);
        while (o->hosts[slot].name[0] &&
               (strlen(o->hosts[slot].name) != len || memcmp(o->hosts[slot].name, nm, len) != 0))
            slot = (slot + 1) & (HOST_SLOTS - 1);
        struct host_count *hc = &o->hosts[slot];
        if (!hc->name[0]) {
            if (o->nhosts == HOST_SLOTS - 1 || len == 0) continue;
            memcpy(hc->name, nm, len);
            hc->name[len] = 0;
            o->nhosts++;
        }
        hc->sessions++;
    }
}

static void emit_record(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos)
{
    struct out *o = ud;
    char buf[8][512];
    o->records++;
    if (o->summary) count_summary(o, m);
    switch (o->fmt) {
    case FMT_JSONL:
        o->j.len = 0;
        o->j.need_comma = false;
        vk_json_meta(&o->j, m);
        vk_json_raw(&o->j, "\n", 1);
        fwrite(o->j.p, 1, o->j.len, stdout);
        break;
    case FMT_TABLE: {
        time_t ts = (time_t)(ufield(m, VK_K_TIME) / 1000);
        struct tm tm;
        char tb[32];
        gmtime_r(&ts, &tm);
        strftime(tb, sizeof tb, "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t p = ufield(m, VK_K_IP_PROTO);
        char pn[8];
        snprintf(pn, sizeof pn, "%s", p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : p == 58 ? "icmp6" : "");
        if (!pn[0]) snprintf(pn, sizeof pn, "%llu", (unsigned long long)p);
        printf("%s.%03llu %-5s %39s %5s  %39s %5s %7llu %7llu %10llu %10llu  %-10s %-18s %s\n", tb,
               (unsigned long long)(ufield(m, VK_K_TIME) % 1000), pn,
               field(m, VK_K_IP_SRC, buf[0], sizeof buf[0]), field(m, VK_K_PORT_SRC, buf[1], 16),
               field(m, VK_K_IP_DST, buf[2], sizeof buf[2]), field(m, VK_K_PORT_DST, buf[3], 16),
               (unsigned long long)ufield(m, VK_K_PACKETS_SRC), (unsigned long long)ufield(m, VK_K_PACKETS_DST),
               (unsigned long long)ufield(m, VK_K_BYTES_SRC), (unsigned long long)ufield(m, VK_K_BYTES_DST),
               field(m, VK_K_SERVICE, buf[4], 64), field(m, VK_K_APP, buf[5], 64),
               field(m, VK_K_ALIAS_HOST, buf[6], 200));
        break;
    }
    case FMT_CSV:
        for (size_t i = 0; i < NCOLS; i++) {
            if (i) putchar(',');
            csv_cell(field(m, table_cols[i], buf[0], sizeof buf[0]));
        }
        putchar('\n');
        break;
    case FMT_NONE:
        break;
    }
}

static int cmp_svc(const void *a, const void *b)
{
    const struct svc_count *x = a, *y = b;
    return x->sessions < y->sessions ? 1 : x->sessions > y->sessions ? -1 : strcmp(x->name, y->name);
}
static int cmp_host(const void *a, const void *b)
{
    const struct host_count *x = a, *y = b;
    return x->sessions < y->sessions ? 1 : x->sessions > y->sessions ? -1 : strcmp(x->name, y->name);
}

static void print_summary(struct out *o, const struct vk_pipe_stats *st)
{
    printf("\n%llu sessions from %llu packets (%llu files)\n\n", (unsigned long long)o->records,
           (unsigned long long)st->cap.packets, (unsigned long long)st->cap.files_total);
    qsort(o->svc, (size_t)o->nsvc, sizeof *o->svc, cmp_svc);
    printf("%-20s %10s %14s\n", "service", "sessions", "bytes");
    for (int i = 0; i < o->nsvc && i < 25; i++)
        printf("%-20s %10llu %14llu\n", o->svc[i].name, (unsigned long long)o->svc[i].sessions,
               (unsigned long long)o->svc[i].bytes);
    if (o->hosts) qsort(o->hosts, HOST_SLOTS, sizeof *o->hosts, cmp_host); /* free slots sort last */
    printf("\n%-50s %10s\n", "alias.host (top 15)", "sessions");
    for (int i = 0; i < o->nhosts && i < 15; i++) {
        for (char *c = o->hosts[i].name; *c; c++)
            if ((unsigned char)*c < 0x20) *c = '.';
        printf("%-50s %10llu\n", o->hosts[i].name, (unsigned long long)o->hosts[i].sessions);
    }
}

static void print_stats_json(FILE *f, const struct vk_pipe_stats *st)
{
    const struct vk_flow_stats *fs = &st->flow;
    fprintf(f,
            "{\"packets\":%llu,\"bytes\":%llu,\"files\":%llu,\"file_errors\":%llu,"
            "\"non_ip\":%llu,\"frags\":%llu,\"reassembled\":%llu,\"sessions\":%llu,"
            "\"interim\":%llu,\"flows_evicted\":%llu,\"tcp_retrans\":%llu,\"tcp_ooo\":%llu,"
            "\"tcp_gaps\":%llu,\"tcp_overlap_conflicts\":%llu,\"reasm_dropped\":%llu,"
            "\"peak_active\":%llu,\"peak_state_bytes\":%llu,\"kernel_recv\":%llu,"
            "\"kernel_drop\":%llu,\"iface_drop\":%llu,\"queue_drops\":%llu,\"anomalies\":{",
            (unsigned long long)st->cap.packets, (unsigned long long)st->cap.bytes,
            (unsigned long long)st->cap.files_total, (unsigned long long)st->cap.file_errors,
            (unsigned long long)st->dec.non_ip, (unsigned long long)st->dec.frags,
            (unsigned long long)st->dec.reassembled, (unsigned long long)fs->sessions,
            (unsigned long long)fs->interim, (unsigned long long)fs->flows_evicted,
            (unsigned long long)fs->tcp_retrans, (unsigned long long)fs->tcp_ooo,
            (unsigned long long)fs->tcp_gaps, (unsigned long long)fs->tcp_overlap_conflicts,
            (unsigned long long)fs->reasm_dropped, (unsigned long long)fs->peak_active,
            (unsigned long long)fs->peak_state_bytes, (unsigned long long)st->cap.kernel_recv,
            (unsigned long long)st->cap.kernel_drop, (unsigned long long)st->cap.iface_drop,
            (unsigned long long)st->queue_drops);
    bool first = true;
    for (int i = 0; i < VK_ANOM__COUNT; i++) {
        if (!st->dec.anom[i]) continue;
        fprintf(f, "%s\"%s\":%llu", first ? "" : ",", vk_decode_anomaly_name(i),
                (unsigned long long)st->dec.anom[i]);
        first = false;
    }
    fprintf(f, "}}\n");
}

static void progress(void *ud, const struct vk_pipe_stats *st)
{
    (void)ud;
    fprintf(stderr, "\rvakt: files %llu/%llu  packets %llu  %.1f MB  sessions %llu   ",
            (unsigned long long)st->cap.files_done, (unsigned long long)st->cap.files_total,
            (unsigned long long)st->cap.packets, st->cap.bytes / 1e6,
            (unsigned long long)st->flow.sessions);
    if (st->cap.kernel_recv || st->cap.kernel_drop)
        fprintf(stderr, " kernel drops %llu", (unsigned long long)st->cap.kernel_drop);
}

/* ---- option handling shared by sessions and capture -------------------------------- */

struct common {
    struct out out;
    struct vk_pipe_opts po;
    bool stats;
    const char *bpf;
};

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *e;
    errno = 0;
    unsigned long v = strtoul(s, &e, 10);
    if (errno || e == s || *e || v > max) return false;
    *out = v;
    return true;
}

enum { O_JSONL = 256, O_TABLE, O_CSV, O_SUMMARY, O_STATS, O_NO_DPI, O_MAX_FLOWS, O_TCP_TO,
       O_UDP_TO, O_SAVE_TO, O_NO_PROMISC, O_ICMP_TO };

static int common_opt(struct common *c, int opt, const char *arg, const char *cmd)
{
    unsigned long v;
    switch (opt) {
    case O_JSONL: c->out.fmt = FMT_JSONL; return 0;
    case O_TABLE: c->out.fmt = FMT_TABLE; return 0;
    case O_CSV: c->out.fmt = FMT_CSV; return 0;
    case O_SUMMARY: c->out.summary = true; return 0;
    case O_STATS: c->stats = true; return 0;
    case O_NO_DPI: c->po.flow.dpi_packets = 0; return 0;
    case 'f': c->bpf = arg; return 0;
    case 't':
        if (!parse_uint(arg, 64, &v)) break;
        c->po.threads = (int)v;
        return 0;
    case O_MAX_FLOWS:
        if (!parse_uint(arg, 1ul << 30, &v) || v == 0) break;
        c->po.flow.max_flows = (uint32_t)v;
        return 0;
    case O_TCP_TO:
        if (!parse_uint(arg, 86400, &v)) break;
        c->po.flow.tcp_timeout_s = (uint32_t)v;
        return 0;
    case O_UDP_TO:
        if (!parse_uint(arg, 86400, &v)) break;
        c->po.flow.udp_timeout_s = (uint32_t)v;
        return 0;
    case O_ICMP_TO:
        if (!parse_uint(arg, 86400, &v)) break;
        c->po.flow.icmp_timeout_s = (uint32_t)v;
        return 0;
    case O_SAVE_TO:
        if (!parse_uint(arg, 86400 * 7, &v)) break;
        c->po.flow.save_timeout_s = (uint32_t)v;
        return 0;
    default:
        return -1;
    }
    vk_err("%s: bad value '%s' for option (see vakt %s --help)", cmd, arg, cmd);
    return 2;
}

#define COMMON_LONGOPTS                                                                     \
    {"jsonl", no_argument, 0, O_JSONL}, {"table", no_argument, 0, O_TABLE},                 \
        {"csv", no_argument, 0, O_CSV}, {"summary", no_argument, 0, O_SUMMARY},             \
        {"stats", no_argument, 0, O_STATS}, {"no-dpi", no_argument, 0, O_NO_DPI},           \
        {"filter", required_argument, 0, 'f'}, {"threads", required_argument, 0, 't'},      \
        {"max-flows", required_argument, 0, O_MAX_FLOWS},                                   \
        {"tcp-timeout", required_argument, 0, O_TCP_TO},                                    \
        {"udp-timeout", required_argument, 0, O_UDP_TO},                                    \
        {"icmp-timeout", required_argument, 0, O_ICMP_TO},                                  \
        {"save-timeout", required_argument, 0, O_SAVE_TO}, {"help", no_argument, 0, 'h'}

static const char common_help[] =
    "Output:\n"
    "  --jsonl            one JSON object per session (default; contract in docs/META-KEYS.md)\n"
    "  --table            aligned columns for people\n"
    "  --csv              CSV with a header row\n"
    "  --summary          print only a summary: sessions per service, top host names\n"
    "  --stats            print decode/flow counters as JSON on stderr at the end\n"
    "Processing:\n"
    "  -t, --threads N    flow worker threads (default 1)\n"
    "  -f, --filter BPF   only packets matching this BPF expression\n"
    "  --no-dpi           do not run nDPI (no `app` key)\n"
    "  --max-flows N      live sessions kept per worker (default 1048576; oldest evicted)\n"
    "  --tcp-timeout S    idle seconds before a TCP session ends (default 480)\n"
    "  --udp-timeout S    the same for UDP (default 60)\n"
    "  --icmp-timeout S   the same for ICMP (default 60)\n"
    "  --save-timeout S   long sessions emit an interim record every S seconds (default 720, 0 = never)\n";

static void common_init(struct common *c)
{
    memset(c, 0, sizeof *c);
    c->out.fmt = FMT_JSONL;
    vk_flow_config_default(&c->po.flow);
    c->po.threads = 1;
    c->po.emit = emit_record;
    c->po.emit_ud = &c->out;
    vk_json_init(&c->out.j);
}

static int common_run(struct common *c, struct vk_capture *cap)
{
    struct vk_pipe_stats st;
    if (c->out.summary) c->out.fmt = FMT_NONE;
    if (isatty(2)) {
        c->po.progress = progress;
    }
    print_header(c->out.fmt);
    g_cap = cap;
    install_signals();
    int rc = vk_pipe_run(cap, &c->po, &st);
    g_cap = NULL;
    if (c->po.progress) fprintf(stderr, "\r%100s\r", "");
    fflush(stdout);
    if (c->out.summary) print_summary(&c->out, &st);
    if (c->stats) print_stats_json(stderr, &st);
    if (st.cap.kernel_recv || st.cap.kernel_drop || c->po.live)
        fprintf(stderr, "vakt: %llu packets received by the kernel, %llu dropped by the kernel, %llu by the interface, %llu by vakt\n",
                (unsigned long long)st.cap.kernel_recv, (unsigned long long)st.cap.kernel_drop,
                (unsigned long long)st.cap.iface_drop, (unsigned long long)st.queue_drops);
    vk_capture_close(cap);
    vk_json_free(&c->out.j);
    free(c->out.hosts);
    if (rc) return 1;
    return st.cap.file_errors ? 1 : 0;
}

/* ---- subcommands ------------------------------------------------------------------- */

static int cmd_sessions(int argc, char **argv)
{
    static const struct option lo[] = {COMMON_LONGOPTS, {0, 0, 0, 0}};
    struct common c;
    common_init(&c);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "t:f:h", lo, NULL)) != -1) {
        if (opt == 'h') {
            printf("usage: vakt sessions [options] FILE|DIR...\n\n"
                   "Read pcap/pcapng files (directories: every capture in them), merged in time\n"
                   "order, and print one record per session with its application metadata.\n\n%s",
                   common_help);
            return 0;
        }
        int r = common_opt(&c, opt, optarg, "sessions");
        if (r > 0) return r;
        if (r < 0) {
            vk_err("sessions: unknown option (see vakt sessions --help)");
            return 2;
        }
    }
    if (optind >= argc) {
        vk_err("sessions: no capture given (usage: vakt sessions [options] FILE|DIR...)");
        return 2;
    }
    struct vk_capture *cap;
    int rc = vk_capture_open_files(&cap, argv + optind, argc - optind, c.bpf);
    if (rc) {
        vk_json_free(&c.out.j);
        return 2;
    }
    return common_run(&c, cap);
}

static int cmd_capture(int argc, char **argv)
{
    static const struct option lo[] = {COMMON_LONGOPTS,
                                       {"interface", required_argument, 0, 'i'},
                                       {"snaplen", required_argument, 0, 's'},
                                       {"buffer-mb", required_argument, 0, 'B'},
                                       {"no-promisc", no_argument, 0, O_NO_PROMISC},
                                       {0, 0, 0, 0}};
    struct common c;
    struct vk_capture_live_opts lo2 = {.promisc = true};
    common_init(&c);
    c.po.live = true;
    int opt;
    unsigned long v;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:s:B:t:f:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("usage: vakt capture -i IFACE [options]\n\n"
                   "Capture live from an interface until SIGINT/SIGTERM, then flush every session\n"
                   "and report kernel drop counters on stderr.\n\n"
                   "  -i, --interface IF  interface to capture on (required)\n"
                   "  -s, --snaplen N     bytes kept per packet (default 65535)\n"
                   "  -B, --buffer-mb N   kernel capture buffer in MiB\n"
                   "  --no-promisc        do not put the interface in promiscuous mode\n%s",
                   common_help);
            return 0;
        case 'i': lo2.iface = optarg; continue;
        case 's':
            if (!parse_uint(optarg, 262144, &v) || v < 64) {
                vk_err("capture: bad snaplen '%s' (64..262144)", optarg);
                return 2;
            }
            lo2.snaplen = (int)v;
            continue;
        case 'B':
            if (!parse_uint(optarg, 4096, &v)) {
                vk_err("capture: bad buffer size '%s' (MiB, up to 4096)", optarg);
                return 2;
            }
            lo2.buffer_mb = (int)v;
            continue;
        case O_NO_PROMISC: lo2.promisc = false; continue;
        }
        int r = common_opt(&c, opt, optarg, "capture");
        if (r > 0) return r;
        if (r < 0) {
            vk_err("capture: unknown option (see vakt capture --help)");
            return 2;
        }
    }
    if (!lo2.iface) {
        vk_err("capture: no interface given (usage: vakt capture -i IFACE)");
        return 2;
    }
    lo2.bpf = c.bpf;
    struct vk_capture *cap;
    if (vk_capture_open_live(&cap, &lo2) != 0) {
        vk_json_free(&c.out.j);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return common_run(&c, cap);
}

static int cmd_keys(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 1 && !json) {
        printf("usage: vakt keys [--json]\n\nList the meta-key registry: name, type, meaning.\n");
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    static const char *const tn[] = {"", "string", "uint", "ip", "time"};
    for (int k = 0; k < VK_K__COUNT; k++) {
        const struct vk_keyinfo *ki = vk_key_info(k);
        if (json)
            printf("{\"key\":\"%s\",\"type\":\"%s\",\"help\":\"%s\"}\n", ki->name, tn[ki->type], ki->help);
        else
            printf("%-22s %-7s %s\n", ki->name, tn[ki->type], ki->help);
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "vakt %s — network and log security analytics\n\n"
            "usage: vakt COMMAND [options]\n\n"
            "commands:\n"
            "  sessions FILE|DIR...   sessions with application metadata from pcap/pcapng files\n"
            "  capture -i IFACE       the same, live from an interface\n"
            "  logs parse FILE...     parse and normalise log lines (no storing)\n"
            "  intel add|status|hits  threat-intelligence feeds of a data directory\n"
            "  assets import FILE     business context (asset inventory) of a data directory\n"
            "  keys                   the meta-key registry\n"
            "  version                print the version\n\n"
            "Run `vakt COMMAND --help` for a command's options.\n",
            VAKT_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "sessions")) return cmd_sessions(argc - 1, argv + 1);
    if (!strcmp(cmd, "capture")) return cmd_capture(argc - 1, argv + 1);
    if (!strcmp(cmd, "keys")) return cmd_keys(argc - 1, argv + 1);
    if (!strcmp(cmd, "logs")) return vk_cli_logs(argc - 1, argv + 1);
    if (!strcmp(cmd, "intel")) return vk_cli_intel(argc - 1, argv + 1);
    if (!strcmp(cmd, "assets")) return vk_cli_assets(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("vakt %s\n", VAKT_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    vk_err("unknown command '%s' (see vakt --help)", cmd);
    return 2;
}
