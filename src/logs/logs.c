/* logs.c — vk_logs: one line in, one event record out.
 *
 * Ties the stage together: framing (framing.c) gives header, message and fields; the
 * source templates (template.c) add the normalised keys; the miner (drain.c) gives the
 * template. It also owns the small per-connection memory that single lines lack: the peer
 * address last seen for (host, program, pid), so that "Disconnecting: Too many
 * authentication failures [preauth]" still names the address that "Connection from"
 * gave a moment before (4096 entries, overwritten in place).
 *
 * Cost per line: see vk_logs.h. The handle owns every buffer; nothing is allocated per
 * line once the buffers have grown. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logs/logs_int.h"

#define PEER_SLOTS 4096

struct peer {
    uint64_t key;
    uint8_t len;
    bool is_ip;
    char v[46];
};

struct vk_logs {
    struct ltmpl_set *ts;
    struct ldrain *dr;
    struct lline l;
    char dir[PATH_MAX];
    bool defer;
    uint32_t last_id;
    struct vk_logs_stats st;
    struct peer peers[PEER_SLOTS];
};

static const char *const sev_name[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
static const char *const fac_name[] = {"kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",
                                       "news",   "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "security",
                                       "console", "solaris-cron", "local0", "local1", "local2", "local3",
                                       "local4", "local5", "local6", "local7"};

static void copy_path(char *out, size_t n, const char *s)
{
    size_t l = strlen(s);
    if (l >= n) l = n - 1;
    memcpy(out, s, l);
    out[l] = 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The default search of vk_logs.h; out is "" when nothing is found. */
static void find_dir(char *out, size_t n)
{
    const char *env = getenv("VAKT_TEMPLATES");
    out[0] = 0;
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char cand[PATH_MAX + 32];
            snprintf(cand, sizeof cand, "%s/templates/logs", exe);
            if (is_dir(cand)) {
                copy_path(out, n, cand);
                return;
            }
            snprintf(cand, sizeof cand, "%s/../templates/logs", exe);
            if (is_dir(cand)) {
                copy_path(out, n, cand);
                return;
            }
        }
    }
    if (is_dir("templates/logs")) snprintf(out, n, "templates/logs");
}

struct vk_logs *vk_logs_new(const char *templates_dir, char *err, size_t errlen)
{
    struct vk_logs *lp = calloc(1, sizeof *lp);
    if (!lp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (templates_dir) snprintf(lp->dir, sizeof lp->dir, "%s", templates_dir);
    else find_dir(lp->dir, sizeof lp->dir);
    if (lp->dir[0] && !is_dir(lp->dir)) {
        snprintf(err, errlen, "templates directory %s: not a directory", lp->dir);
        free(lp);
        return NULL;
    }
    lp->ts = ltmpl_load(lp->dir, err, errlen);
    lp->dr = ldrain_new(0);
    if (!lp->ts || !lp->dr) {
        if (lp->dr && !lp->ts) {
            /* err already says why */
        } else if (!lp->dr) {
            snprintf(err, errlen, "out of memory");
        }
        ltmpl_free(lp->ts);
        ldrain_free(lp->dr);
        free(lp);
        return NULL;
    }
    lp->last_id = UINT32_MAX;
    return lp;
}

void vk_logs_free(struct vk_logs *lp)
{
    if (!lp) return;
    ltmpl_free(lp->ts);
    ldrain_free(lp->dr);
    free(lp->l.scratch);
    free(lp);
}

void vk_logs_defer_template(struct vk_logs *lp, bool on) { lp->defer = on; }
uint32_t vk_logs_last_id(const struct vk_logs *lp) { return lp->last_id; }

void vk_logs_add_template(struct vk_logs *lp, uint32_t id, struct vk_meta *out)
{
    const char *t;
    size_t n;
    if (ldrain_template(lp->dr, id, &t, &n)) vk_meta_add_str(out, VK_K_LOG_TEMPLATE, t, n);
}

void vk_logs_get_stats(const struct vk_logs *lp, struct vk_logs_stats *st)
{
    *st = lp->st;
    ldrain_stats(lp->dr, &st->clusters, &st->clusters_evicted);
    unsigned files;
    st->templates = ltmpl_count(lp->ts, &files);
    st->template_files = files;
}

const char *vk_logs_templates_dir(const struct vk_logs *lp) { return lp->dir; }

/* ---- peer memory ------------------------------------------------------------------- */
static uint64_t peer_key(const struct lline *l)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < l->host.n; i++) h = (h ^ (uint8_t)l->host.p[i]) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (size_t i = 0; i < l->prog.n && l->prog.p[i] != '(' && l->prog.p[i] != '['; i++)
        h = (h ^ (uint8_t)l->prog.p[i]) * 1099511628211ULL;
    return (h ^ l->pid) * 1099511628211ULL | 1;
}

static const struct vk_meta_item *first_item(const struct vk_meta *m, enum vk_key k)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) return &m->items[i];
    return NULL;
}

static bool is_failure(const struct vk_meta *m)
{
    const struct vk_meta_item *it = first_item(m, VK_K_EVENT_OUTCOME);
    return it && it->len == 7 && memcmp(vk_meta_str(m, it), "failure", 7) == 0;
}

static void peers(struct vk_logs *lp, struct vk_meta *out)
{
    const struct lline *l = &lp->l;
    if (!l->has_pid || !l->prog.n) return;
    uint64_t key = peer_key(l);
    struct peer *p = &lp->peers[key % PEER_SLOTS];
    const struct vk_meta_item *ip = first_item(out, VK_K_IP_SRC);
    const struct vk_meta_item *hn = ip ? NULL : first_item(out, VK_K_HOST_SRC);
    const struct vk_meta_item *it = ip ? ip : hn;
    if (it) {
        if (it->len < sizeof p->v) {
            p->key = key;
            p->len = (uint8_t)it->len;
            p->is_ip = ip != NULL;
            memcpy(p->v, vk_meta_str(out, it), it->len);
        }
        return;
    }
    if (p->key == key && is_failure(out)) {
        if (p->is_ip) lmeta_add_peer(out, VK_K_IP_SRC, VK_K_HOST_SRC, p->v, p->len);
        else vk_meta_add_str(out, VK_K_HOST_SRC, p->v, p->len);
    }
}

/* ---- the line ---------------------------------------------------------------------- */
/* Binary junk: NULs or many control bytes. O(n) for the NUL search, the control count
 * only over the first 128 bytes. */
static bool looks_binary(const char *s, size_t n)
{
    if (memchr(s, 0, n)) return true;
    size_t ctl = 0, m = n < 128 ? n : 128;
    for (size_t i = 0; i < m; i++) ctl += (unsigned char)s[i] < 0x20 && s[i] != '\t';
    return m && ctl * 8 > m;
}

/* The first line of a message (Windows messages run over many). */
static struct lstr first_line(struct lstr m)
{
    const char *nl = memchr(m.p, '\n', m.n);
    const char *cr = memchr(m.p, '\r', m.n);
    if (cr && (!nl || cr < nl)) nl = cr;
    if (nl) m.n = (size_t)(nl - m.p);
    return m;
}

int vk_logs_parse(struct vk_logs *lp, const char *line, size_t len, const struct vk_logsrc *src,
                  struct vk_meta *out)
{
    struct lline *l = &lp->l;
    int64_t recv = src ? src->recv_ms : 0;
    vk_meta_reset(out);
    lp->st.lines++;
    lp->last_id = UINT32_MAX;
    bool too_long = false;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    if (len > VK_LOGS_MAX_LINE) {
        len = VK_LOGS_MAX_LINE;
        too_long = true;
        lp->st.too_long++;
    }
    vk_meta_add_cstr(out, VK_K_KIND, "event");
    if (too_long) vk_meta_add_cstr(out, VK_K_ANOMALY, "log.line_too_long");
    if (len && looks_binary(line, len)) {
        vk_meta_add_cstr(out, VK_K_ANOMALY, "log.binary");
        lp->st.binary++;
    }
    l->line = line;
    l->len = len;
    lframe_parse(l, recv);
    vk_meta_add_cstr(out, VK_K_LOG_FORMAT, lformat_name[l->fmt]);
    if (src && src->source) vk_meta_add_cstr(out, VK_K_LOG_SOURCE, src->source);
    if (l->host.n && l->host.n < 256) {
        uint8_t a[16];
        int fam = lparse_ip(l->host.p, l->host.n, a);
        if (fam) vk_meta_add_ip(out, VK_K_DEVICE_IP, fam, a);
        else vk_meta_add_str(out, VK_K_DEVICE_HOST, l->host.p, l->host.n);
    }
    if (l->prog.n && l->fmt != LF_JSON && l->prog.n < 256) vk_meta_add_str(out, VK_K_PROCESS, l->prog.p, l->prog.n);
    if (l->has_pid) vk_meta_add_uint(out, VK_K_PID, l->pid);
    if (l->sev >= 0 && l->sev < 8) vk_meta_add_cstr(out, VK_K_SEVERITY, sev_name[l->sev]);
    if (l->fac >= 0 && l->fac < 24) vk_meta_add_cstr(out, VK_K_FACILITY, fac_name[l->fac]);
    if (l->event_id >= 0) vk_meta_add_uint(out, VK_K_EVENT_ID, (uint64_t)l->event_id);
    if (l->msg.n) vk_meta_add_str(out, VK_K_MESSAGE, l->msg.p, l->msg.n);
    if (ltmpl_apply(lp->ts, l, out)) lp->st.matched++;
    peers(lp, out);
    if (!vk_meta_has(out, VK_K_TIME)) {
        int64_t t = l->time_ms ? l->time_ms : recv;
        vk_meta_add_uint(out, VK_K_TIME, t > 0 ? (uint64_t)t : 0);
    }
    if (!vk_meta_has(out, VK_K_LOG_TEMPLATE)) { /* a source template may have named it */
        struct lstr m = first_line(l->msg);
        lp->last_id = ldrain_add(lp->dr, m.p, m.n);
        if (!lp->defer) vk_logs_add_template(lp, lp->last_id, out);
    }
    return 0;
}
