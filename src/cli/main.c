/* main.c — the `vakt` command: subcommand dispatch, option parsing and output formats.
 *
 * Each subcommand parses its own options, wires a source into the pipeline and prints
 * records as JSON lines (machines), CSV, or an aligned table (people). Errors in
 * arguments print one line and exit 2; nothing here touches packets directly. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "../flow/vk_flow.h"
#include "../enrich/vk_enrich.h"
#include "../store/vk_store.h"
#include "cli.h"

#define VAKT_VERSION "0.1.0"

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

static void emit_record(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos)
{
    (void)pos;
    vk_cli_out_record(ud, m);
}

/* ingest: every record goes to the store; a store failure stops the capture (what was
 * committed stays committed) and the command exits non-zero. */
static void emit_store(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos);

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
    struct vk_cli_out out;
    struct vk_pipe_opts po;
    bool stats;
    const char *bpf;
    /* ingest */
    struct vk_store *store;
    struct vk_enrich *enrich;
    struct vk_capture *cap;
    bool store_failed;
    double t0;
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
    case O_JSONL: c->out.fmt = VK_FMT_JSONL; return 0;
    case O_TABLE: c->out.fmt = VK_FMT_TABLE; return 0;
    case O_CSV: c->out.fmt = VK_FMT_CSV; return 0;
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
    c->out.fmt = VK_FMT_JSONL;
    vk_flow_config_default(&c->po.flow);
    c->po.threads = 1;
    c->po.emit = emit_record;
    c->po.emit_ud = &c->out;
    vk_json_init(&c->out.j);
}

static int common_run(struct common *c, struct vk_capture *cap)
{
    struct vk_pipe_stats st;
    if (c->out.summary) c->out.fmt = VK_FMT_NONE;
    if (isatty(2)) {
        c->po.progress = progress;
    }
    vk_cli_out_header(c->out.fmt);
    g_cap = cap;
    install_signals();
    int rc = vk_pipe_run(cap, &c->po, &st);
    g_cap = NULL;
    if (c->po.progress) fprintf(stderr, "\r%100s\r", "");
    fflush(stdout);
    if (c->out.summary) vk_cli_out_summary(&c->out, st.cap.packets, st.cap.files_total);
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

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void emit_store(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos)
{
    struct common *c = ud;
    c->out.records++;
    if (c->store_failed) return;
    if (c->enrich) vk_enrich_apply(c->enrich, m); /* threat intel, assets, geo: in the record */
    if (vk_store_put(c->store, m, pos) != 0) {
        c->store_failed = true;
        vk_err("ingest: %s", vk_store_error(c->store));
        if (c->cap) vk_capture_stop(c->cap);
    }
}

static void ingest_progress(void *ud, const struct vk_pipe_stats *st)
{
    struct common *c = ud;
    double dt = mono_s() - c->t0;
    if (dt <= 0) dt = 1e-3;
    fprintf(stderr, "\rvakt ingest: files %llu/%llu  %.1f MB  %llu sessions  %.0f sessions/s  %.2f Gbit/s   ",
            (unsigned long long)st->cap.files_done, (unsigned long long)st->cap.files_total, st->cap.bytes / 1e6,
            (unsigned long long)st->flow.sessions, st->flow.sessions / dt, st->cap.bytes * 8 / dt / 1e9);
}

static void print_ack(void *ud, uint64_t records)
{
    (void)ud;
    printf("ack %llu\n", (unsigned long long)records);
    fflush(stdout);
}

const char *vk_cli_data_dir(const char *opt)
{
    if (opt && *opt) return opt;
    const char *e = getenv("VAKT_DATA");
    return e && *e ? e : "./vakt-data";
}

enum { O_DATA = 300, O_ACKS, O_NO_PCAP, O_SET, O_SYSLOG, O_TLS_CERT, O_TLS_KEY, O_TEMPLATES };

/* Once the interface captures (packets from here on are kept by the kernel until read),
 * say so, as tcpdump does: scripts and tests wait for this line. */
static void live_banner(const struct vk_capture_live_opts *o)
{
    fprintf(stderr, "vakt: listening on %s (snaplen %d%s%s%s)\n", o->iface, o->snaplen > 0 ? o->snaplen : 65535,
            o->promisc ? ", promiscuous" : "", o->bpf ? ", filter " : "", o->bpf ? o->bpf : "");
}

static int cmd_ingest(int argc, char **argv)
{
    static const struct option lo[] = {COMMON_LONGOPTS,
                                       {"data", required_argument, 0, O_DATA},
                                       {"interface", required_argument, 0, 'i'},
                                       {"acks", no_argument, 0, O_ACKS},
                                       {"no-pcap", no_argument, 0, O_NO_PCAP},
                                       {"set", required_argument, 0, O_SET},
                                       {"syslog", required_argument, 0, O_SYSLOG},
                                       {"tls-cert", required_argument, 0, O_TLS_CERT},
                                       {"tls-key", required_argument, 0, O_TLS_KEY},
                                       {"templates", required_argument, 0, O_TEMPLATES},
                                       {0, 0, 0, 0}};
    struct common c;
    common_init(&c);
    const char *data = NULL, *iface = NULL, *syslog = NULL, *cert = NULL, *key = NULL, *templates = NULL;
    bool acks = false, pcap = true;
    const char *sets[32];
    int nsets = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:t:f:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("usage: vakt ingest [options] --data DIR FILE|DIR...\n"
                   "       vakt ingest [options] --data DIR -i IFACE\n\n"
                   "Run the packet path into a data directory: session records into the meta store,\n"
                   "packets into rotating pcap files (docs/DATA-DIR.md). On a terminal it shows\n"
                   "progress. Settings come from DIR/vakt.conf; --set overrides one.\n\n"
                   "  --data DIR         data directory (default $VAKT_DATA, else ./vakt-data)\n"
                   "  -i, --interface IF capture live from IF until SIGINT/SIGTERM\n"
                   "  --no-pcap          do not archive packets\n"
                   "  --set KEY=VALUE    override a vakt.conf setting (e.g. pcap_max_bytes=10G)\n"
                   "  --acks             print 'ack N' on stdout each time N records are durable\n"
                   "  --syslog URLS      receive syslog instead: udp://HOST:PORT,tcp://...,tls://... (RFC 5424/3164,\n"
                   "                     RFC 6587 framing, RFC 5425 TLS) until SIGINT/SIGTERM; see docs/LOG-INPUTS.md\n"
                   "  --tls-cert F, --tls-key F   PEM certificate and key for tls://\n"
                   "  --templates DIR    log source templates (default: templates/logs of the installation)\n%s",
                   common_help);
            return 0;
        case O_DATA: data = optarg; continue;
        case 'i': iface = optarg; continue;
        case O_ACKS: acks = true; continue;
        case O_SYSLOG: syslog = optarg; continue;
        case O_TLS_CERT: cert = optarg; continue;
        case O_TLS_KEY: key = optarg; continue;
        case O_TEMPLATES: templates = optarg; continue;
        case O_NO_PCAP: pcap = false; continue;
        case O_SET:
            if (nsets == 32) {
                vk_err("ingest: at most 32 --set options");
                return 2;
            }
            sets[nsets++] = optarg;
            continue;
        }
        int r = common_opt(&c, opt, optarg, "ingest");
        if (r > 0) return r;
        if (r < 0) {
            vk_err("ingest: unknown option (see vakt ingest --help)");
            return 2;
        }
    }
    if (syslog) {
        if (iface || optind < argc) {
            vk_err("ingest: --syslog receives logs; give captures in another run");
            return 2;
        }
        vk_json_free(&c.out.j);
        return vk_cli_ingest_syslog(data, syslog, cert, key, templates);
    }
    if (!iface && optind >= argc) {
        vk_err("ingest: nothing to ingest (usage: vakt ingest --data DIR FILE|DIR... or -i IFACE)");
        return 2;
    }
    data = vk_cli_data_dir(data);
    struct vk_store_cfg cfg;
    char err[1024];
    vk_store_cfg_default(&cfg);
    if (mkdir(data, 0750) != 0 && errno != EEXIST) {
        vk_err("ingest: cannot create %s: %s", data, strerror(errno));
        return 2;
    }
    if (vk_store_cfg_load(data, &cfg, err, sizeof err) != 0) {
        vk_err("ingest: %s", err);
        return 2;
    }
    for (int i = 0; i < nsets; i++)
        if (vk_store_cfg_set(&cfg, sets[i], err, sizeof err) != 0) {
            vk_err("ingest: --set %s: %s", sets[i], err);
            return 2;
        }
    struct vk_capture *cap;
    int rc;
    if (iface) {
        struct vk_capture_live_opts lo2 = {.iface = iface, .bpf = c.bpf, .promisc = true};
        c.po.live = true;
        rc = vk_capture_open_live(&cap, &lo2);
        if (!rc) live_banner(&lo2);
    } else {
        rc = vk_capture_open_files(&cap, argv + optind, argc - optind, c.bpf);
    }
    if (rc) {
        vk_json_free(&c.out.j);
        return 2;
    }
    c.store = vk_store_open(data, VK_STORE_WRITE, &cfg, err, sizeof err);
    if (!c.store) {
        vk_err("ingest: %s", err);
        vk_capture_close(cap);
        vk_json_free(&c.out.j);
        return 1;
    }
    if (acks) vk_store_on_commit(c.store, print_ack, NULL);
    c.enrich = vk_enrich_open(data, err, sizeof err);
    if (!c.enrich) {
        vk_err("ingest: %s", err);
        vk_store_close(c.store);
        vk_capture_close(cap);
        vk_json_free(&c.out.j);
        return 2;
    }
    if (iface) vk_enrich_autorefresh(c.enrich, 60); /* feeds due for refresh, while capturing */
    if (pcap) {
        c.po.flow.archive = vk_store_archive_packet;
        c.po.flow.archive_ud = c.store;
    }
    c.po.emit = emit_store;
    c.po.emit_ud = &c;
    c.cap = cap;
    c.t0 = mono_s();
    if (isatty(2)) {
        c.po.progress = ingest_progress;
        c.po.progress_ud = &c;
    }
    struct vk_pipe_stats st;
    g_cap = cap;
    install_signals();
    rc = vk_pipe_run(cap, &c.po, &st);
    g_cap = NULL;
    if (c.po.progress) fprintf(stderr, "\r%110s\r", "");
    int crc = vk_store_sync(c.store);
    struct vk_store_retained ret;
    if (!crc && !c.store_failed) vk_store_retention(c.store, 0, &ret);
    struct vk_store_stats ss;
    vk_store_stats(c.store, &ss);
    double dt = mono_s() - c.t0;
    if (crc && !c.store_failed) vk_err("ingest: %s", vk_store_error(c.store));
    if (vk_store_close(c.store) != 0) crc = -1;
    vk_enrich_close(c.enrich);
    if (c.stats) print_stats_json(stderr, &st);
    fprintf(stderr,
            "vakt ingest: %llu sessions from %llu packets (%.1f MB) in %.1f s: %.0f sessions/s, %.2f Gbit/s; "
            "store %s: %llu records, %llu pcap files (%.1f MB)\n",
            (unsigned long long)c.out.records, (unsigned long long)st.cap.packets, st.cap.bytes / 1e6, dt,
            c.out.records / (dt > 0 ? dt : 1e-3), st.cap.bytes * 8 / (dt > 0 ? dt : 1e-3) / 1e9, data,
            (unsigned long long)ss.records, (unsigned long long)ss.pcap_files, ss.pcap_bytes / 1e6);
    vk_capture_close(cap);
    vk_json_free(&c.out.j);
    if (rc || crc || c.store_failed) return 1;
    return st.cap.file_errors ? 1 : 0;
}

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
    live_banner(&lo2);
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
            "  ingest --data D FILE.. the packet path into a data directory (meta store + pcap archive)\n"
            "  ingest --syslog URLS   receive syslog into a data directory\n"
            "  ingest-logs FILE...    log files (plain, .gz, .zst, stdin; --follow) into a data directory\n"
            "  query 'Q'              stored records matching a query (docs/QUERY.md)\n"
            "  values KEY...          top values of keys among matching records (drill-down)\n"
            "  timeline               matching records over time\n"
            "  show ID                every value of one session\n"
            "  pcap ID|--where Q      the packets of sessions as a pcap file\n"
            "  reconstruct ID         a session's payload, both directions in order\n"
            "  status / prune         what a data directory holds; apply retention now\n"
            "  archive seal|verify|search   the log archives (raw lines, hash-chained zstd segments)\n"
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
    if (!strcmp(cmd, "ingest")) return cmd_ingest(argc - 1, argv + 1);
    if (!strcmp(cmd, "ingest-logs")) return vk_cli_ingest_logs(argc - 1, argv + 1);
    if (!strcmp(cmd, "archive")) return vk_cli_archive(argc - 1, argv + 1);
    if (!strcmp(cmd, "query") || !strcmp(cmd, "values") || !strcmp(cmd, "timeline") || !strcmp(cmd, "show") ||
        !strcmp(cmd, "pcap") || !strcmp(cmd, "reconstruct") || !strcmp(cmd, "prune") || !strcmp(cmd, "status"))
        return vk_cli_store(argc - 1, argv + 1);
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
