/* cmd_ingest_logs.c — log lines into a data directory: `vakt ingest-logs` (files, stdin,
 * follow mode) and `vakt ingest --syslog` (the receiver).
 *
 * Every line is archived exactly as received (short- and long-term log archive), parsed
 * and normalised into an event record (kind=event, log.raw = the archive reference), and
 * queued for the meta store. Sources are acknowledged only once what they delivered is
 * durable: the store has committed it and the archive is flushed; then the syslog spool
 * or the tail offsets move on. A crash therefore re-delivers, never loses, an
 * acknowledged line (docs/LOG-INPUTS.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "../enrich/vk_enrich.h"
#include "../logs/vk_loginput.h"
#include "../logs/vk_logs.h"
#include "../store/vk_logarch.h"
#include "../store/vk_store.h"
#include "cli.h"

static volatile sig_atomic_t g_stop;
static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

struct lctx {
    const char *cmd;
    struct vk_logs *lp;
    struct vk_logarch *arch;
    struct vk_store *store;
    struct vk_enrich *enrich;
    struct vk_meta rec;
    XXH3_state_t *hash;
    uint64_t lines, failed, durable_lines;
    uint64_t last_seq;          /* syslog: last seq delivered */
    bool progress;
    double t0, next_progress;
    char err[1024];
    int rc;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void show_progress(struct lctx *c, bool force)
{
    if (!c->progress) return;
    double t = mono();
    if (!force && t < c->next_progress) return;
    c->next_progress = t + 1;
    double dt = t - c->t0 > 0 ? t - c->t0 : 1e-3;
    fprintf(stderr, "\r%s: %llu lines  %.0f lines/s   ", c->cmd, (unsigned long long)c->lines, c->lines / dt);
}

/* The store holds events (cfg.hold) until the log archive has flushed their raw lines:
 * make_durable flushes the archive, then releases the events to the writer, so a committed
 * event never points at a raw line that a crash lost. Every DURABLE_EVERY lines it does so
 * without waiting (the writer commits while parsing goes on); where an acknowledgement
 * follows (tail offsets, the syslog spool) it also waits for the commit. */
#define DURABLE_EVERY 50000u

static int make_durable(struct lctx *c, bool wait);

/* One line: archive, parse, store. O(line) plus the parser's work. */
static int on_line(void *ud, const struct vk_logline *l)
{
    struct lctx *c = ud;
    uint64_t ref = 0;
    if (c->arch && vk_logarch_append(c->arch, l->recv_ms, l->source, l->data, l->len, &ref) != 0) {
        snprintf(c->err, sizeof c->err, "log archive: %s", vk_logarch_error(c->arch));
        c->rc = VK_EIO;
        return 1;
    }
    vk_meta_reset(&c->rec);
    struct vk_logsrc src = {.recv_ms = l->recv_ms, .source = l->source};
    if (vk_logs_parse(c->lp, l->data, l->len, &src, &c->rec) != 0) c->failed++;
    if (!vk_meta_has(&c->rec, VK_K_KIND)) vk_meta_add_cstr(&c->rec, VK_K_KIND, "event");
    /* an event's id names where it came from (source and position), so a line delivered
     * twice after a crash has the same id both times */
    XXH3_state_t *h = c->hash;
    XXH3_64bits_reset(h);
    XXH3_64bits_update(h, l->source, strlen(l->source));
    XXH3_64bits_update(h, &l->seq, sizeof l->seq);
    XXH3_64bits_update(h, &l->lineno, sizeof l->lineno);
    vk_meta_printf(&c->rec, VK_K_ID, "%016llx", (unsigned long long)XXH3_64bits_digest(h));
    if (c->arch) vk_meta_add_uint(&c->rec, VK_K_LOG_RAW, ref);
    vk_enrich_apply(c->enrich, &c->rec);
    if (vk_store_put(c->store, &c->rec, NULL) != 0) {
        snprintf(c->err, sizeof c->err, "%s", vk_store_error(c->store));
        c->rc = VK_EIO;
        return 1;
    }
    c->lines++;
    c->last_seq = l->seq;
    if (c->lines - c->durable_lines >= DURABLE_EVERY && make_durable(c, false) != 0) {
        c->rc = VK_EIO;
        return 1;
    }
    show_progress(c, false);
    return g_stop ? 2 : 0;
}

/* The events delivered so far may be committed; with wait, they are durable once this
 * returns 0. */
static int make_durable(struct lctx *c, bool wait)
{
    c->durable_lines = c->lines;
    if (c->arch && vk_logarch_flush(c->arch) != 0) {
        snprintf(c->err, sizeof c->err, "log archive: %s", vk_logarch_error(c->arch));
        return VK_EIO;
    }
    vk_store_release(c->store);
    if (wait && vk_store_sync(c->store) != 0) {
        snprintf(c->err, sizeof c->err, "%s", vk_store_error(c->store));
        return VK_EIO;
    }
    return 0;
}

static const char ingest_logs_help[] =
    "usage: vakt ingest-logs [options] --data DIR FILE|DIR|-...\n\n"
    "Archive, parse and store log lines (plain, .gz or .zst files, directories, stdin as -).\n"
    "Each line becomes an event record in the meta store, linked to its raw line in the log\n"
    "archive (docs/LOG-ARCHIVE.md).\n\n"
    "  --data DIR         data directory (default $VAKT_DATA, else ./vakt-data)\n"
    "  --follow           keep reading the files as they grow, through rotation; offsets\n"
    "                     persist in DIR/tail.state, so a restart neither repeats nor loses lines\n"
    "  --templates DIR    source templates (default: templates/logs of the installation)\n"
    "  --no-archive       do not keep the raw lines\n";

static int open_parts(struct lctx *c, const char *data, const char *templates, bool archive)
{
    char err[1024];
    c->lp = vk_logs_new(templates, err, sizeof err);
    if (!c->lp) {
        fprintf(stderr, "vakt %s: %s\n", c->cmd, err);
        return 2;
    }
    struct vk_store_cfg cfg;
    vk_store_cfg_default(&cfg);
    if (mkdir(data, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "vakt %s: cannot create %s: %s\n", c->cmd, data, strerror(errno));
        return 2;
    }
    if (vk_store_cfg_load(data, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "vakt %s: %s\n", c->cmd, err);
        return 2;
    }
    cfg.hold = true; /* commits only what make_durable released */
    cfg.batch_records = 2 * DURABLE_EVERY;
    cfg.queue_records = 2 * DURABLE_EVERY; /* one part being written, one being filled */
    cfg.batch_ms = 24u * 3600 * 1000;
    c->store = vk_store_open(data, VK_STORE_WRITE, &cfg, err, sizeof err);
    if (!c->store) {
        fprintf(stderr, "vakt %s: %s\n", c->cmd, err);
        return 1;
    }
    c->enrich = vk_enrich_open(data, err, sizeof err);
    if (!c->enrich) {
        fprintf(stderr, "vakt %s: %s\n", c->cmd, err);
        return 2;
    }
    vk_enrich_autorefresh(c->enrich, 60);
    if (archive) {
        int rc = 0;
        c->arch = vk_logarch_open(data, NULL, err, sizeof err, &rc);
        if (!c->arch) {
            fprintf(stderr, "vakt %s: log archive: %s\n", c->cmd, err);
            return 1;
        }
    }
    vk_meta_init(&c->rec);
    c->hash = XXH3_createState();
    if (!c->hash) return 1;
    c->progress = isatty(2);
    c->t0 = mono();
    c->next_progress = c->t0 + 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return 0;
}

static int close_parts(struct lctx *c, int rc)
{
    if (c->progress) fprintf(stderr, "\r%80s\r", "");
    if (c->store && !rc) rc = make_durable(c, true) ? 1 : 0;
    if (c->err[0]) fprintf(stderr, "vakt %s: %s\n", c->cmd, c->err);
    double dt = mono() - c->t0;
    fprintf(stderr, "vakt %s: %llu lines stored in %.1f s (%.0f lines/s)%s\n", c->cmd, (unsigned long long)c->lines, dt,
            c->lines / (dt > 0 ? dt : 1e-3), rc ? ", stopped by an error" : "");
    if (c->arch) vk_logarch_retention(c->arch, wall_ms());
    if (c->arch && vk_logarch_close(c->arch) != 0 && !rc) rc = 1;
    if (c->store && vk_store_close(c->store) != 0 && !rc) rc = 1;
    vk_enrich_close(c->enrich);
    vk_logs_free(c->lp);
    vk_meta_free(&c->rec);
    if (c->hash) XXH3_freeState(c->hash);
    return rc;
}

int vk_cli_ingest_logs(int argc, char **argv)
{
    enum { O_DATA = 256, O_FOLLOW, O_TEMPLATES, O_NO_ARCHIVE };
    static const struct option lo[] = {{"data", required_argument, 0, O_DATA},
                                       {"follow", no_argument, 0, O_FOLLOW},
                                       {"templates", required_argument, 0, O_TEMPLATES},
                                       {"no-archive", no_argument, 0, O_NO_ARCHIVE},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *data = NULL, *templates = NULL;
    bool follow = false, archive = true;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (opt) {
        case 'h': fputs(ingest_logs_help, stdout); return 0;
        case O_DATA: data = optarg; break;
        case O_FOLLOW: follow = true; break;
        case O_TEMPLATES: templates = optarg; break;
        case O_NO_ARCHIVE: archive = false; break;
        default: fprintf(stderr, "vakt ingest-logs: see vakt ingest-logs --help\n"); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "vakt ingest-logs: no input (usage: vakt ingest-logs --data DIR FILE|DIR|-...)\n");
        return 2;
    }
    data = vk_cli_data_dir(data);
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "-") && stat(argv[i], &st) != 0 && !follow) {
            fprintf(stderr, "vakt ingest-logs: cannot read %s: %s\n", argv[i], strerror(errno));
            return 2;
        }
    }
    struct lctx c = {.cmd = "ingest-logs"};
    int rc = open_parts(&c, data, templates, archive);
    if (rc) return close_parts(&c, rc);
    if (!follow) {
        for (int i = optind; i < argc && !c.rc && !g_stop; i++) {
            char err[1024];
            int r = vk_loginput_read(argv[i], 0, on_line, &c, err, sizeof err);
            if (r < 0 && !c.rc) { /* a damaged file: what came before the damage is kept */
                fprintf(stderr, "vakt ingest-logs: %s\n", err);
                rc = 1;
            }
        }
        return close_parts(&c, c.rc ? 1 : rc);
    }
    char state[4200], err[1024];
    snprintf(state, sizeof state, "%s/tail.state", data);
    struct vk_tail *t = vk_tail_open((const char *const *)argv + optind, (size_t)(argc - optind), state, NULL, err,
                                     sizeof err);
    if (!t) {
        fprintf(stderr, "vakt ingest-logs: %s\n", err);
        return close_parts(&c, 2);
    }
    double next_ack = mono() + 1;
    uint64_t acked = 0;
    while (!g_stop && !c.rc) {
        int r = vk_tail_poll(t, on_line, &c, 200);
        if (r < 0) {
            fprintf(stderr, "vakt ingest-logs: follow: error %d\n", r);
            break;
        }
        if (c.arch) vk_logarch_tick(c.arch, wall_ms());
        if (mono() >= next_ack && c.lines != acked) { /* durable first, then move the offsets */
            if (make_durable(&c, true) || vk_tail_ack(t, err, sizeof err)) break;
            acked = c.lines;
            next_ack = mono() + 1;
        }
        show_progress(&c, false);
    }
    if (!c.rc && !make_durable(&c, true)) vk_tail_ack(t, err, sizeof err);
    vk_tail_close(t);
    return close_parts(&c, c.rc ? 1 : 0);
}

/* `vakt ingest --data D --syslog URLS [--tls-cert F --tls-key F]` until SIGINT/SIGTERM. */
int vk_cli_ingest_syslog(const char *data, const char *urls, const char *cert, const char *key, const char *templates)
{
    struct lctx c = {.cmd = "ingest"};
    data = vk_cli_data_dir(data);
    int rc = open_parts(&c, data, templates, true);
    if (rc) return close_parts(&c, rc);
    char spool[4200], err[1024];
    snprintf(spool, sizeof spool, "%s/spool", data);
    struct vk_syslog_cfg cfg = {.urls = urls, .tls_cert = cert, .tls_key = key, .spool_dir = spool};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "vakt ingest: syslog: %s\n", err);
        return close_parts(&c, 2);
    }
    struct vk_syslog_stats st;
    vk_syslog_stats(s, &st);
    for (unsigned i = 0; i < st.n_listeners; i++) fprintf(stderr, "vakt ingest: listening on %s\n", st.l[i].url);
    double next_ack = mono() + 0.2;
    uint64_t acked = 0;
    bool stopping = false;
    for (;;) {
        if (g_stop && !stopping) {
            vk_syslog_shutdown(s); /* no new input; drain what is queued */
            stopping = true;
        }
        int r = vk_syslog_poll(s, on_line, &c, 200);
        if (c.rc) break;
        if (r < 0) {
            fprintf(stderr, "vakt ingest: syslog: error %d\n", r);
            rc = 1;
            break;
        }
        if (c.arch) vk_logarch_tick(c.arch, wall_ms());
        if ((mono() >= next_ack || (stopping && r == 0)) && c.last_seq != acked) {
            if (make_durable(&c, true)) break;
            vk_syslog_ack(s, c.last_seq); /* stored: the spool may forget up to here */
            acked = c.last_seq;
            next_ack = mono() + 0.2;
        }
        if (stopping && r == 0) break;
        show_progress(&c, false);
    }
    vk_syslog_stats(s, &st);
    for (unsigned i = 0; i < st.n_listeners; i++)
        fprintf(stderr, "vakt ingest: %s: %llu messages, %llu dropped by vakt, %llu by the kernel, %llu cut\n", st.l[i].url,
                (unsigned long long)st.l[i].msgs, (unsigned long long)st.l[i].dropped,
                (unsigned long long)st.l[i].kernel_drops, (unsigned long long)st.l[i].oversize);
    if (st.spilled)
        fprintf(stderr, "vakt ingest: %llu messages came from the spool, not the in-memory queue (the store was behind)\n",
                (unsigned long long)st.spilled);
    vk_syslog_stop(s);
    return close_parts(&c, c.rc ? 1 : rc);
}
