/* ftp.c — the FTP control-channel parser and the FTP data-channel hasher.
 *
 * Control channel (vk_proto_ftp): commands (ftp.command, upper-cased as Arkime writes
 * them), reply codes (ftp.reply), the 220 banner (ftp.banner), USER (user), PASS
 * (password.seen) and the names of transferred files (file.name). PASV/EPSV replies and
 * PORT/EPRT commands announce a data connection: we ask the flow stage, through
 * c->expect, to tie the next session to that port to this one with the "ftp-data" parser.
 * The address we pass is the control connection's own peer (server for PASV/EPSV, client
 * for PORT/EPRT), not the announced one, which NAT often rewrites. The expectation is
 * renewed with the file name once RETR/STOR/... names it. AUTH TLS accepted (234) ends
 * the parse and hands what follows back to the flow stage (c->reprobe) for TLS.
 *
 * Data channel (vk_proto_ftp_data): hashes each direction's bytes as one file through
 * struct vk_file; the flow stage sets file.name and session.parent from the expectation.
 * It is only ever attached through an expectation: its probe never claims anything.
 *
 * Memory: two bounded line buffers per control session; two vk_file per data session.
 * Nothing is allocated per packet. */
#include <ctype.h>

#include "vk_proto.h"

#define FTP_LINE_MAX 8192u /* Arkime gives up at the same length */

struct ftp_state {
    struct vk_lines line[2];
    uint8_t server;        /* direction of the FTP server */
    bool decided;          /* server direction settled */
    bool replied;          /* an FTP-shaped reply was seen */
    bool service, banner, auth_tls;
    bool dc;               /* a data connection was announced and not used yet */
    uint16_t dc_port;
    uint8_t dc_dir;        /* whose address the data connection goes to */
};

struct ftpdata_state {
    struct vk_file file[2];
    bool lost[2];          /* a gap made this direction's hash meaningless */
};

static bool is_ws(uint8_t ch) { return ch == ' ' || ch == '\t'; }

/* Offset of the literal in [s, s+n), case-insensitive; n when absent. */
static size_t find_ci(const uint8_t *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    for (size_t i = 0; i + l <= n; i++)
        if (vk_prefix_ci(s + i, n - i, lit)) return i;
    return n;
}

/* Read a decimal number of at most 5 digits at *i; false when there is none. */
static bool read_num(const uint8_t *l, size_t n, size_t *i, unsigned *out)
{
    unsigned v = 0;
    size_t k = 0;
    while (*i < n && isdigit(l[*i]) && k < 6) {
        v = v * 10 + (unsigned)(l[*i] - '0');
        (*i)++;
        k++;
    }
    if (!k || k > 5) return false;
    *out = v;
    return true;
}

/* "h1,h2,h3,h4,p1,p2" anywhere in the text (PASV reply, PORT argument): the port. */
static bool parse_hostport(const uint8_t *l, size_t n, uint16_t *port)
{
    for (size_t st = 0; st < n; st++) {
        if (!isdigit(l[st]) || (st && isdigit(l[st - 1]))) continue;
        unsigned v[6];
        size_t i = st;
        int k = 0;
        while (k < 6 && read_num(l, n, &i, &v[k]) && v[k] <= 255) {
            k++;
            if (k < 6) {
                while (i < n && is_ws(l[i])) i++;
                if (i >= n || l[i] != ',') break;
                i++;
                while (i < n && is_ws(l[i])) i++;
            }
        }
        if (k == 6) {
            *port = (uint16_t)(v[4] << 8 | v[5]);
            return true;
        }
    }
    return false;
}

/* The port of "(|||port|)" (EPSV reply) or "|af|addr|port|" (EPRT argument). */
static bool parse_extended(const uint8_t *l, size_t n, bool in_parens, uint16_t *port)
{
    size_t i = 0;
    if (in_parens) {
        while (i < n && l[i] != '(') i++;
        i++;
    } else {
        while (i < n && is_ws(l[i])) i++;
    }
    if (i >= n) return false;
    uint8_t d = l[i];
    if (d < 33 || d > 126 || isdigit(d)) return false;
    for (int k = 0; k < 2; k++) { /* on to the third delimiter */
        i++;
        while (i < n && l[i] != d) i++;
        if (i >= n) return false;
    }
    i++;
    unsigned v;
    if (!read_num(l, n, &i, &v) || v == 0 || v > 65535 || i >= n || l[i] != d) return false;
    *port = (uint16_t)v;
    return true;
}

static void add_service(struct ftp_state *s, struct vk_pctx *c)
{
    if (s->service) return;
    s->service = true;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "ftp");
}

/* Tell the flow stage about the announced data connection (filename may be NULL). */
static void announce(struct ftp_state *s, struct vk_pctx *c, const char *filename)
{
    if (!c->expect || !c->flow) return;
    c->expect(c, c->flow->family, c->flow->addr[s->dc_dir], s->dc_port, "ftp-data", filename);
}

static void client_line(struct ftp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n)
{
    size_t c0 = 0;
    while (c0 < n && is_ws(l[c0])) c0++;
    size_t cl = 0;
    while (c0 + cl < n && l[c0 + cl] != ' ') cl++;
    if (cl < 3 || cl > 8) return;
    char cmd[9];
    for (size_t i = 0; i < cl; i++) {
        if (!isalpha(l[c0 + i])) return;
        cmd[i] = (char)toupper(l[c0 + i]);
    }
    cmd[cl] = 0;
    if (!strcmp(cmd, "HELO") || !strcmp(cmd, "EHLO") || !strcmp(cmd, "LHLO")) {
        if (!s->service) c->done = true; /* a mail session, not ours */
        return;
    }
    size_t a = c0 + cl < n ? c0 + cl + 1 : n, e = n;
    while (a < e && is_ws(l[a])) a++;
    while (e > a && is_ws(l[e - 1])) e--;
    const uint8_t *arg = l + a;
    size_t an = e - a;

    /* Nothing is recorded before the server has answered like an FTP server: POP3 and IRC
     * share USER/PASS but not 3-digit replies (and FTP servers speak first). */
    if (!s->replied) return;
    vk_meta_add_str(c->meta, VK_K_FTP_COMMAND, cmd, cl);
    add_service(s, c);

    uint16_t port;
    if (!strcmp(cmd, "USER")) {
        if (an) vk_meta_add_lower(c->meta, VK_K_USER, (const char *)arg, an);
    } else if (!strcmp(cmd, "PASS")) {
        if (an) vk_meta_set_uint(c->meta, VK_K_PASSWORD_SEEN, 1);
    } else if (!strcmp(cmd, "AUTH")) {
        if (an && (vk_prefix_ci(arg, an, "TLS") || vk_prefix_ci(arg, an, "SSL"))) s->auth_tls = true;
    } else if (!strcmp(cmd, "PORT")) {
        if (parse_hostport(arg, an, &port) && port) {
            s->dc = true;
            s->dc_port = port;
            s->dc_dir = (uint8_t)!s->server;
            announce(s, c, NULL);
        } else {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp.bad_port");
        }
    } else if (!strcmp(cmd, "EPRT")) {
        if (parse_extended(arg, an, false, &port)) {
            s->dc = true;
            s->dc_port = port;
            s->dc_dir = (uint8_t)!s->server;
            announce(s, c, NULL);
        } else {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp.bad_eprt");
        }
    } else {
        bool xfer = !strcmp(cmd, "RETR") || !strcmp(cmd, "STOR") || !strcmp(cmd, "STOU") ||
                    !strcmp(cmd, "APPE");
        bool list = !strcmp(cmd, "LIST") || !strcmp(cmd, "NLST") || !strcmp(cmd, "MLSD");
        if (!xfer && !list) return;
        /* a data connection carries one transfer or listing; only a transfer names it */
        char name[1024];
        bool named = an && arg[0] != '-'; /* LIST -la names nothing */
        size_t k = an < sizeof name - 1 ? an : sizeof name - 1;
        if (named) {
            memcpy(name, arg, k);
            name[k] = 0;
            if (xfer || !strcmp(cmd, "LIST")) vk_meta_add_str(c->meta, VK_K_FILE_NAME, name, k);
        }
        if (s->dc && xfer && named) announce(s, c, name); /* the same port, now with a name */
        s->dc = false;
    }
}

static void server_line(struct ftp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n)
{
    if (n < 4 || !isdigit(l[0]) || !isdigit(l[1]) || !isdigit(l[2])) return;
    unsigned code = (unsigned)(l[0] - '0') * 100 + (unsigned)(l[1] - '0') * 10 + (unsigned)(l[2] - '0');
    vk_meta_add_uint(c->meta, VK_K_FTP_REPLY, code);
    s->replied = true;
    uint16_t port;
    switch (code) {
    case 220:
        if (find_ci(l, n, "FTP") < n) add_service(s, c);
        if (!s->banner) { /* Arkime's banner: the text, without the dash and blanks */
            size_t a = 4, e = n;
            while (a < e && (l[a] == '-' || is_ws(l[a]))) a++;
            while (e > a && (l[e - 1] == '-' || is_ws(l[e - 1]))) e--;
            if (e > a) {
                vk_meta_add_str(c->meta, VK_K_FTP_BANNER, (const char *)l + a, e - a);
                s->banner = true;
            }
        }
        break;
    case 227:
        if (parse_hostport(l + 4, n - 4, &port) && port) {
            s->dc = true;
            s->dc_port = port;
            s->dc_dir = s->server;
            announce(s, c, NULL);
        } else {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp.bad_pasv");
        }
        break;
    case 229:
        if (parse_extended(l + 4, n - 4, true, &port)) {
            s->dc = true;
            s->dc_port = port;
            s->dc_dir = s->server;
            announce(s, c, NULL);
        } else {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp.bad_epsv");
        }
        break;
    case 234:
        if (s->auth_tls) { /* the rest is TLS: let the flow stage offer it to the TLS parser */
            c->done = true;
            c->reprobe = true;
        }
        break;
    default:
        break;
    }
}

/* ---- control channel callbacks ----------------------------------------------------- */

static int ftp_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    bool port = f->port[VK_DIR_DST] == 21 || f->port[VK_DIR_SRC] == 21;
    if (n >= 4 && !memcmp(p, "220", 3) && (p[3] == ' ' || p[3] == '-')) {
        size_t m = n < 512 ? n : 512;
        if (find_ci(p, m, "SMTP") < m || find_ci(p, m, "LMTP") < m) return 0;
        if (find_ci(p, m, "FTP") < m) return 3;
        /* elsewhere a bare 220 may be SMTP too: leave it to the client's first line */
        return port ? 2 : 0;
    }
    /* USER alone is IRC or POP3 as often as FTP: only on the FTP port */
    if (n >= 5 && (vk_prefix_ci(p, n, "USER ") || vk_prefix_ci(p, n, "AUTH TLS") ||
                   vk_prefix_ci(p, n, "AUTH SSL")))
        return port ? 2 : 0;
    return port ? 1 : 0;
}

static void ftp_init(void *st, struct vk_pctx *c)
{
    struct ftp_state *s = st;
    (void)c;
    vk_lines_init(&s->line[0], FTP_LINE_MAX);
    vk_lines_init(&s->line[1], FTP_LINE_MAX);
    s->server = VK_DIR_DST;
}

/* O(n) per call; every byte is copied once into a bounded line buffer. */
static void ftp_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct ftp_state *s = st;
    struct vk_cur cur = vk_cur_make(p, n);
    dir = dir ? 1 : 0;
    while (vk_cur_left(&cur) && !c->done) {
        struct vk_lines *lb = &s->line[dir];
        if (s->auth_tls && vk_lines_at_start(lb) && cur.p[0] == 0x16) {
            c->done = true; /* a TLS record: AUTH TLS went through */
            c->reprobe = true;
            c->reprobe_at = (size_t)(cur.p - p);
            return;
        }
        const uint8_t *l;
        size_t ln;
        int r = vk_lines_next(lb, &cur, &l, &ln);
        if (r < 0) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp.line_too_long");
        if (r <= 0 || !ln) continue;
        if (!s->decided) {
            s->decided = true;
            s->server = (uint8_t)(vk_reply_line(l, ln) ? dir : !dir);
        }
        if (dir == s->server) server_line(s, c, l, ln);
        else client_line(s, c, l, ln);
    }
}

static void ftp_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct ftp_state *s = st;
    (void)c;
    (void)n;
    dir = dir ? 1 : 0;
    vk_lines_resync(&s->line[dir]); /* resynchronise at the next line */
}

static void ftp_finish(void *st, struct vk_pctx *c)
{
    (void)st;
    (void)c;
}

static void ftp_release(void *st)
{
    struct ftp_state *s = st;
    vk_lines_free(&s->line[0]);
    vk_lines_free(&s->line[1]);
}

const struct vk_parser vk_proto_ftp = {
    .name = "ftp",
    .ipproto = 6,
    .probe = ftp_probe,
    .state_size = sizeof(struct ftp_state),
    .init = ftp_init,
    .data = ftp_data,
    .gap = ftp_gap,
    .finish = ftp_finish,
    .release = ftp_release,
};

/* ---- data channel ------------------------------------------------------------------ */

static int ftpdata_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    (void)f;
    (void)dir;
    (void)p;
    (void)n;
    return 0; /* attached through c->expect only */
}

static void ftpdata_init(void *st, struct vk_pctx *c)
{
    (void)st;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "ftp-data");
}

/* O(n): two digest updates, no allocation after the first byte of a direction. */
static void ftpdata_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct ftpdata_state *s = st;
    dir = dir ? 1 : 0;
    if (!n || s->lost[dir]) return;
    struct vk_file *f = &s->file[dir];
    if (!f->open && vk_file_begin(f) != 0) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp-data.file_alloc");
        s->lost[dir] = true;
        return;
    }
    vk_file_update(f, p, n);
}

static void ftpdata_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct ftpdata_state *s = st;
    (void)n;
    dir = dir ? 1 : 0;
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ftp-data.gap");
    if (s->file[dir].open) vk_file_abort(&s->file[dir]);
    s->lost[dir] = true;
}

static void ftpdata_finish(void *st, struct vk_pctx *c)
{
    struct ftpdata_state *s = st;
    for (int d = 0; d < 2; d++)
        if (s->file[d].open) vk_file_end(&s->file[d], c->meta, NULL);
}

static void ftpdata_release(void *st)
{
    struct ftpdata_state *s = st;
    for (int d = 0; d < 2; d++)
        if (s->file[d].open) vk_file_abort(&s->file[d]);
}

const struct vk_parser vk_proto_ftp_data = {
    .name = "ftp-data",
    .ipproto = 6,
    .probe = ftpdata_probe,
    .state_size = sizeof(struct ftpdata_state),
    .init = ftpdata_init,
    .data = ftpdata_data,
    .gap = ftpdata_gap,
    .finish = ftpdata_finish,
    .release = ftpdata_release,
};
