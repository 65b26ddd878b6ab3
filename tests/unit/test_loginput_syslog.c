/* test_loginput_syslog.c — the syslog receiver end to end on loopback: TCP (octet counting,
 * LF and NUL framing, several senders at once), UDP, TLS (a self-signed certificate made
 * here with GnuTLS), oversize messages, back-pressure with a tiny queue, UDP drop
 * accounting, shutdown draining, and the spool: a receiving child is SIGKILLed and a new
 * receiver re-delivers exactly what was not acked. Messages are loghub lines. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vk_test.h"
#include "logs/vk_loginput.h"

/* ---- helpers --------------------------------------------------------------------------- */
static char *mktmpdir(void)
{
    char tmpl[] = "/tmp/vk-syslog-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int port_of(struct vk_syslog *s, const char *scheme)
{
    struct vk_syslog_stats st;
    vk_syslog_stats(s, &st);
    for (unsigned i = 0; i < st.n_listeners; i++)
        if (!strncmp(st.l[i].url, scheme, strlen(scheme))) return atoi(strrchr(st.l[i].url, ':') + 1);
    fail_msg("no %s listener", scheme);
    return 0;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    return ntohs(a.sin_port);
}

static void write_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

/* Lines of a loghub file. */
static char **corpus_lines(const char *rel, size_t want, size_t *got)
{
    FILE *f = fopen(vk_test_corpus(rel), "r");
    assert_non_null(f);
    char **v = calloc(want, sizeof *v), buf[8192];
    size_t k = 0;
    while (k < want && fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = 0;
        v[k++] = strdup(buf);
    }
    fclose(f);
    *got = k;
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

struct got {
    size_t n, cap;
    char **m;
    char **src;
    uint64_t *seq;
    bool *cut, *replayed;
    int64_t *ms;
};

static int keep(void *ud, const struct vk_logline *l)
{
    struct got *g = ud;
    assert_int_equal(l->data[l->len], 0);
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 256;
        g->m = realloc(g->m, g->cap * sizeof *g->m);
        g->src = realloc(g->src, g->cap * sizeof *g->src);
        g->seq = realloc(g->seq, g->cap * sizeof *g->seq);
        g->cut = realloc(g->cut, g->cap * sizeof *g->cut);
        g->replayed = realloc(g->replayed, g->cap * sizeof *g->replayed);
        g->ms = realloc(g->ms, g->cap * sizeof *g->ms);
    }
    g->m[g->n] = malloc(l->len + 1);
    memcpy(g->m[g->n], l->data, l->len + 1);
    g->src[g->n] = strdup(l->source);
    g->seq[g->n] = l->seq;
    g->cut[g->n] = l->cut;
    g->replayed[g->n] = l->replayed;
    g->ms[g->n] = l->recv_ms;
    g->n++;
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->m[i]);
        free(g->src[i]);
    }
    free(g->m);
    free(g->src);
    free(g->seq);
    free(g->cut);
    free(g->replayed);
    free(g->ms);
    memset(g, 0, sizeof *g);
}

static void poll_until(struct vk_syslog *s, struct got *g, size_t want, int max_ms)
{
    for (int waited = 0; g->n < want && waited < max_ms; waited += 20) {
        int rc = vk_syslog_poll(s, keep, g, 20);
        assert_true(rc >= 0);
    }
    if (g->n != want) fail_msg("got %zu messages, want %zu", g->n, want);
}

/* Messages of one source, in arrival order. */
static size_t of_source(const struct got *g, const char *src, char ***out)
{
    char **v = calloc(g->n + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->src[i], src)) v[k++] = g->m[i];
    *out = v;
    return k;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- TCP and UDP ---------------------------------------------------------------------- */
static void t_tcp_udp_many_senders(void **st)
{
    (void)st;
    char *d = mktmpdir(), spool[300], err[512];
    snprintf(spool, sizeof spool, "%s/spool", d);
    struct vk_syslog_cfg cfg = {.urls = "udp://127.0.0.1:0,tcp://127.0.0.1:0", .spool_dir = spool};
    int64_t t0 = now_ms();
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) fail_msg("%s", err);
    int tport = port_of(s, "tcp"), uport = port_of(s, "udp");

    size_t na, nb, nc;
    char **la = corpus_lines("logs/loghub/Linux/Linux_2k.log", 500, &na);
    char **lb = corpus_lines("logs/loghub/OpenSSH/OpenSSH_2k.log", 500, &nb);
    char **lc = corpus_lines("logs/loghub/Apache/Apache_2k.log", 100, &nc);
    /* three streams: octet counting, LF framing (CRLF here), NUL framing */
    size_t cap = 200000, alen = 0, blen = 0, clen = 0;
    char *A = malloc(cap), *B = malloc(cap), *C = malloc(cap);
    for (size_t i = 0; i < na; i++) alen += (size_t)sprintf(A + alen, "%zu %s", strlen(la[i]), la[i]);
    for (size_t i = 0; i < nb; i++) blen += (size_t)sprintf(B + blen, "%s\r\n", lb[i]);
    for (size_t i = 0; i < nc; i++) {
        clen += (size_t)sprintf(C + clen, "%s", lc[i]);
        C[clen++] = 0;
    }
    int fa = tcp_connect(tport), fb = tcp_connect(tport), fc = tcp_connect(tport);
    char sa[64], sb[64], sc[64];
    snprintf(sa, sizeof sa, "tcp://127.0.0.1:%d", local_port(fa));
    snprintf(sb, sizeof sb, "tcp://127.0.0.1:%d", local_port(fb));
    snprintf(sc, sizeof sc, "tcp://127.0.0.1:%d", local_port(fc));
    /* interleaved writes of odd sizes so frames straddle reads */
    size_t oa = 0, ob = 0, oc = 0, step = 1;
    while (oa < alen || ob < blen || oc < clen) {
        size_t k = (step * 7919) % 3000 + 1;
        step++;
        if (oa < alen) write_all(fa, A + oa, k < alen - oa ? k : alen - oa), oa += k < alen - oa ? k : alen - oa;
        if (ob < blen) write_all(fb, B + ob, k < blen - ob ? k : blen - ob), ob += k < blen - ob ? k : blen - ob;
        if (oc < clen) write_all(fc, C + oc, k < clen - oc ? k : clen - oc), oc += k < clen - oc ? k : clen - oc;
    }
    close(fa);
    close(fb);
    close(fc);
    /* UDP: 100 datagrams, with the trailing LF some senders add */
    int uf = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uport)};
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(uf, (struct sockaddr *)&ua, sizeof ua), 0);
    char su[64];
    snprintf(su, sizeof su, "udp://127.0.0.1:%d", local_port(uf));
    for (size_t i = 0; i < 100; i++) {
        char m[8300];
        int n = snprintf(m, sizeof m, "<13>%s\n", la[i]);
        assert_int_equal(send(uf, m, (size_t)n, 0), n);
    }
    close(uf);

    struct got g = {0};
    poll_until(s, &g, 1200, 5000);
    int64_t t1 = now_ms();
    char **v;
    assert_int_equal(of_source(&g, sa, &v), na);
    for (size_t i = 0; i < na; i++) assert_string_equal(v[i], la[i]);
    free(v);
    assert_int_equal(of_source(&g, sb, &v), nb);
    for (size_t i = 0; i < nb; i++) assert_string_equal(v[i], lb[i]); /* CR LF gone */
    free(v);
    assert_int_equal(of_source(&g, sc, &v), nc);
    for (size_t i = 0; i < nc; i++) assert_string_equal(v[i], lc[i]);
    free(v);
    assert_int_equal(of_source(&g, su, &v), 100);
    for (size_t i = 0; i < 100; i++) {
        assert_memory_equal(v[i], "<13>", 4);
        assert_string_equal(v[i] + 4, la[i]);
    }
    free(v);
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.seq[i], i + 1); /* one sequence over every listener */
        assert_false(g.cut[i]);
        assert_false(g.replayed[i]);
        assert_true(g.ms[i] >= t0 - 5 && g.ms[i] <= t1 + 5);
    }
    struct vk_syslog_stats ss;
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.l[0].msgs, 100);
    assert_int_equal(ss.l[0].dropped, 0);
    assert_int_equal(ss.l[1].msgs, 1100);
    assert_int_equal(ss.l[1].conns_total, 3);
    assert_int_equal(ss.l[1].framing_errors, 0);
    assert_int_equal(ss.delivered_seq, 1200);
    assert_int_equal(ss.next_seq, 1201);
    assert_true(ss.spool_syncs > 0);
    assert_int_equal(vk_syslog_ack(s, 1200), 0);
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.acked_seq, 1200);
    vk_syslog_stop(s);
    /* all acked: a restart re-delivers nothing and numbers on */
    s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(vk_syslog_poll(s, keep, &g, 100), 0);
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.next_seq, 1201);
    assert_int_equal(ss.replayed, 0);
    vk_syslog_stop(s);
    got_free(&g);
    free(A), free(B), free(C);
    free_lines(la, na), free_lines(lb, nb), free_lines(lc, nc);
    rmtree(d);
    free(d);
}

static void t_oversize(void **st)
{
    (void)st;
    char err[512];
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0,udp://127.0.0.1:0", .max_msg = 256};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    char big[1200];
    memset(big, 'Z', sizeof big);
    int fd = tcp_connect(port_of(s, "tcp"));
    char hdr[16];
    int h = sprintf(hdr, "%zu ", sizeof big);
    write_all(fd, "5 first", 7);
    write_all(fd, hdr, (size_t)h);
    write_all(fd, big, sizeof big);
    write_all(fd, "6 second", 8);
    close(fd);
    fd = tcp_connect(port_of(s, "tcp"));
    write_all(fd, "<1>lf\n", 6);
    write_all(fd, big, sizeof big);
    write_all(fd, "\n<2>after\n", 10);
    close(fd);
    int uf = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_of(s, "udp"))};
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(uf, big, sizeof big, 0, (struct sockaddr *)&ua, sizeof ua), (ssize_t)sizeof big);
    close(uf);
    struct got g = {0};
    poll_until(s, &g, 7, 3000);
    int cuts = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.cut[i]) {
            cuts++;
            assert_int_equal(strlen(g.m[i]), 256);
            assert_int_equal(strspn(g.m[i], "Z"), 256);
        }
    assert_int_equal(cuts, 3);
    char **v;
    struct vk_syslog_stats ss;
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.l[0].oversize, 2);
    assert_int_equal(ss.l[1].oversize, 1);
    size_t n = 0;
    for (size_t i = 0; i < g.n; i++)
        if (!strcmp(g.m[i], "first") || !strcmp(g.m[i], "second") || !strcmp(g.m[i], "<1>lf") ||
            !strcmp(g.m[i], "<2>after"))
            n++;
    assert_int_equal(n, 4);
    (void)v;
    vk_syslog_stop(s);
    got_free(&g);
}

/* ---- TLS ------------------------------------------------------------------------------ */
static void make_cert(const char *certf, const char *keyf)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                                  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    gnutls_x509_crt_set_version(crt, 3);
    unsigned char serial[] = {0x01, 0x23, 0x45, 0x67};
    gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    time_t now = time(NULL);
    gnutls_x509_crt_set_activation_time(crt, now - 3600);
    gnutls_x509_crt_set_expiration_time(crt, now + 86400);
    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9);
    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET);
    gnutls_x509_crt_set_key(crt, key);
    gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN);
    assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
    gnutls_datum_t dt;
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &dt), 0);
    FILE *f = fopen(certf, "wb");
    fwrite(dt.data, 1, dt.size, f);
    fclose(f);
    gnutls_free(dt.data);
    assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &dt), 0);
    f = fopen(keyf, "wb");
    fwrite(dt.data, 1, dt.size, f);
    fclose(f);
    gnutls_free(dt.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
}

/* Connect with TLS, verifying the server as "localhost"; optionally present a client
 * certificate. Returns the handshake result; on success sends buf and closes. */
static int tls_send(int port, const char *ca, const char *ccert, const char *ckey, const void *buf,
                    size_t n)
{
    gnutls_certificate_credentials_t cc;
    gnutls_session_t ss;
    gnutls_certificate_allocate_credentials(&cc);
    assert_true(gnutls_certificate_set_x509_trust_file(cc, ca, GNUTLS_X509_FMT_PEM) > 0);
    if (ccert) assert_int_equal(gnutls_certificate_set_x509_key_file(cc, ccert, ckey, GNUTLS_X509_FMT_PEM), 0);
    gnutls_init(&ss, GNUTLS_CLIENT);
    gnutls_set_default_priority(ss);
    gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, cc);
    gnutls_server_name_set(ss, GNUTLS_NAME_DNS, "localhost", 9);
    gnutls_session_set_verify_cert(ss, "localhost", 0);
    int fd = tcp_connect(port);
    gnutls_transport_set_int(ss, fd);
    int r;
    do r = gnutls_handshake(ss);
    while (r < 0 && !gnutls_error_is_fatal(r));
    if (r == 0) {
        /* With TLS 1.3 the server checks our certificate after our handshake is done: its
         * refusal shows up in a send or in the read after our close_notify. */
        for (size_t off = 0; off < n && r == 0;) {
            ssize_t w = gnutls_record_send(ss, (const char *)buf + off, n - off);
            if (w < 0) r = (int)w;
            else off += (size_t)w;
        }
        if (r == 0) {
            char x;
            gnutls_bye(ss, GNUTLS_SHUT_WR);
            ssize_t rr = gnutls_record_recv(ss, &x, 1);
            if (rr < 0 && rr != GNUTLS_E_PREMATURE_TERMINATION) r = (int)rr;
        }
    }
    close(fd);
    gnutls_deinit(ss);
    gnutls_certificate_free_credentials(cc);
    return r;
}

static void t_tls(void **st)
{
    (void)st;
    char *d = mktmpdir(), cert[300], key[300], err[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", d);
    snprintf(key, sizeof key, "%s/key.pem", d);
    make_cert(cert, key);
    struct vk_syslog_cfg cfg = {.urls = "tls://127.0.0.1:0", .tls_cert = cert, .tls_key = key};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) fail_msg("%s", err);
    int port = port_of(s, "tls");
    size_t nl;
    char **lines = corpus_lines("logs/loghub/Linux/Linux_2k.log", 1000, &nl);
    size_t cap = 400000, len = 0;
    char *stream = malloc(cap);
    for (size_t i = 0; i < nl; i++) len += (size_t)sprintf(stream + len, "%zu %s", strlen(lines[i]), lines[i]);
    assert_int_equal(tls_send(port, cert, NULL, NULL, stream, len), 0);
    struct got g = {0};
    poll_until(s, &g, nl, 5000);
    for (size_t i = 0; i < nl; i++) {
        assert_string_equal(g.m[i], lines[i]);
        assert_memory_equal(g.src[i], "tls://127.0.0.1:", 16);
    }
    /* a plain TCP client speaking syslog to the TLS port fails the handshake */
    int fd = tcp_connect(port);
    write_all(fd, "5 hello\n", 8);
    close(fd);
    struct vk_syslog_stats ss;
    for (int i = 0; i < 100; i++) {
        vk_syslog_stats(s, &ss);
        if (ss.l[0].tls_failures) break;
        vk_syslog_poll(s, keep, &g, 10);
    }
    assert_int_equal(ss.l[0].tls_failures, 1);
    assert_int_equal(ss.l[0].msgs, nl);
    vk_syslog_stop(s);

    /* client certificates required (tls_ca): none is refused, the right one gets through */
    cfg.tls_ca = cert;
    s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    port = port_of(s, "tls");
    assert_true(tls_send(port, cert, NULL, NULL, "5 nocrt", 7) < 0);
    assert_int_equal(tls_send(port, cert, cert, key, "7 withcrt", 9), 0);
    got_free(&g);
    poll_until(s, &g, 1, 3000);
    assert_string_equal(g.m[0], "withcrt");
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.l[0].tls_failures, 1);
    vk_syslog_stop(s);
    got_free(&g);
    free(stream);
    free_lines(lines, nl);
    rmtree(d);
    free(d);
}

/* ---- the spool ------------------------------------------------------------------------ */
static int ack_at;

static void child_receiver(const char *spool, int wfd, size_t total)
{
    char err[512];
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0", .spool_dir = spool};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) _exit(3);
    int port = port_of(s, "tcp");
    if (write(wfd, &port, sizeof port) != sizeof port) _exit(4);
    struct got g = {0};
    /* consume 500, ack the first 300, then stop consuming: the rest waits in the queue */
    while (g.n < 500) vk_syslog_poll(s, keep, &g, 50);
    vk_syslog_ack(s, g.seq[ack_at - 1]);
    struct vk_syslog_stats ss;
    do {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        vk_syslog_stats(s, &ss);
    } while (ss.next_seq - 1 < total);
    int ok = 1;
    if (write(wfd, &ok, sizeof ok) != sizeof ok) _exit(5);
    for (;;) pause(); /* SIGKILLed here */
}

static void t_spool_crash_replay(void **st)
{
    (void)st;
    char *d = mktmpdir(), spool[300], err[512];
    snprintf(spool, sizeof spool, "%s/spool", d);
    const size_t total = 2000;
    ack_at = 300;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_receiver(spool, p[1], total);
        _exit(0);
    }
    close(p[1]);
    int port;
    assert_int_equal(read(p[0], &port, sizeof port), (ssize_t)sizeof port);
    size_t nl;
    char **lines = corpus_lines("logs/loghub/HDFS/HDFS_2k.log", total, &nl);
    assert_int_equal(nl, total);
    int fd = tcp_connect(port);
    for (size_t i = 0; i < nl; i++) {
        char m[4096];
        int n = snprintf(m, sizeof m, "%zu %s", strlen(lines[i]), lines[i]);
        write_all(fd, m, (size_t)n);
    }
    int ok;
    assert_int_equal(read(p[0], &ok, sizeof ok), (ssize_t)sizeof ok);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    close(fd);
    close(p[0]);
    /* a torn write at the end of the last segment */
    char seg[400];
    snprintf(seg, sizeof seg, "%s/%020d.vks", spool, 1);
    FILE *f = fopen(seg, "ab");
    assert_non_null(f);
    fwrite("\x56\x53\x4b\x31garbage!!", 1, 13, f);
    fclose(f);

    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0", .spool_dir = spool};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) fail_msg("%s", err);
    struct got g = {0};
    poll_until(s, &g, total - (size_t)ack_at, 5000);
    for (size_t i = 0; i < g.n; i++) {
        assert_int_equal(g.seq[i], (uint64_t)ack_at + 1 + i);
        assert_string_equal(g.m[i], lines[ack_at + i]);
        assert_true(g.replayed[i]);
        assert_memory_equal(g.src[i], "tcp://127.0.0.1:", 16);
    }
    struct vk_syslog_stats ss;
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.replayed, total - (size_t)ack_at);
    assert_int_equal(ss.spool_truncated, 13);
    /* new messages number on after the spooled ones */
    fd = tcp_connect(port_of(s, "tcp"));
    write_all(fd, "3 new", 5);
    close(fd);
    poll_until(s, &g, total - (size_t)ack_at + 1, 3000);
    assert_int_equal(g.seq[g.n - 1], total + 1);
    assert_false(g.replayed[g.n - 1]);
    /* ack half of the replay and stop: the other half comes again */
    vk_syslog_ack(s, 1000);
    vk_syslog_stop(s);
    got_free(&g);
    s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    poll_until(s, &g, total + 1 - 1000, 5000);
    assert_int_equal(g.seq[0], 1001);
    assert_int_equal(g.seq[g.n - 1], total + 1);
    vk_syslog_ack(s, total + 1);
    vk_syslog_stop(s);
    /* everything acked: segments are gone but the one being written */
    s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(vk_syslog_poll(s, keep, &g, 100), 0);
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.spool_segments, 0);
    assert_int_equal(ss.next_seq, total + 2);
    /* a second process on the same spool is refused */
    struct vk_syslog *s2 = vk_syslog_start(&cfg, err, sizeof err);
    assert_null(s2);
    assert_non_null(strstr(err, "in use by another process"));
    vk_syslog_stop(s);
    got_free(&g);
    free_lines(lines, nl);
    rmtree(d);
    free(d);
}

/* ---- back-pressure, drops, shutdown ---------------------------------------------------- */
struct sender {
    int port;
    size_t count;
};

static void *tcp_sender(void *arg)
{
    struct sender *sd = arg;
    int fd = tcp_connect(sd->port);
    char m[512];
    for (size_t i = 0; i < sd->count; i++) {
        int n = snprintf(m, sizeof m, "<13>1 - host app - - - message number %08zu %0150d\n", i, 0);
        write_all(fd, m, (size_t)n);
    }
    close(fd);
    return NULL;
}

/* Poll until want messages, acking what arrived as a consumer that stores them would. */
static void poll_ack_until(struct vk_syslog *s, struct got *g, size_t want, int max_ms)
{
    for (int waited = 0; g->n < want && waited < max_ms; waited += 20) {
        assert_true(vk_syslog_poll(s, keep, g, 20) >= 0);
        if (g->n) vk_syslog_ack(s, g->seq[g->n - 1]);
    }
    if (g->n != want) fail_msg("got %zu messages, want %zu", g->n, want);
}

/* Each message i of the sender, in order, once, with consecutive seqs. */
static void check_sequence(const struct got *g, size_t from)
{
    for (size_t i = 0; i < g->n; i++) {
        size_t k;
        assert_int_equal(sscanf(g->m[i], "<13>1 - host app - - - message number %zu", &k), 1);
        if (k != from + i) fail_msg("message %zu is number %zu", i, k);
        if (i) assert_int_equal(g->seq[i], g->seq[i - 1] + 1);
    }
}

/* A consumer slower than the senders: what the queue cannot hold goes straight to the spool
 * and comes back from there, in order; the senders are not held. Several bursts alternate
 * between the queue and the spool; acked messages are not replayed after a restart, the
 * others are. */
static void t_spill_to_spool(void **st)
{
    (void)st;
    char *d = mktmpdir(), spool[300], err[512];
    snprintf(spool, sizeof spool, "%s/spool", d);
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0", .spool_dir = spool, .queue_bytes = 1, .max_msg = 1024,
                                .segment_bytes = 256 << 10};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    struct sender sd = {port_of(s, "tcp"), 20000}; /* ~4 MB: 50 times the queue */
    tcp_sender(&sd); /* nobody consumes meanwhile, yet all of it is read */
    struct vk_syslog_stats ss;
    for (int i = 0; i < 500; i++) {
        vk_syslog_stats(s, &ss);
        if (ss.l[0].msgs == 20000) break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(ss.l[0].msgs, 20000);
    assert_int_equal(ss.paused, 0);
    assert_true(ss.spilled > 15000);
    assert_true(ss.spool_segments > 10); /* direct writes rotate segments too */
    struct got g = {0};
    poll_until(s, &g, 20000, 20000);
    check_sequence(&g, 0);
    assert_false(g.replayed[0] || g.replayed[19999]);
    /* bursts while consuming: the queue and the spool take turns */
    pthread_t th;
    pthread_create(&th, NULL, tcp_sender, &sd);
    struct got g2 = {0};
    poll_until(s, &g2, 20000, 30000);
    pthread_join(th, NULL);
    check_sequence(&g2, 0);
    assert_int_equal(g2.seq[0], g.seq[19999] + 1);
    vk_syslog_stats(s, &ss);
    fprintf(stderr, "spill: %llu of 40000 messages went straight to the spool\n", (unsigned long long)ss.spilled);
    vk_syslog_ack(s, g2.seq[9999]);
    vk_syslog_stop(s);
    /* restart: the 10000 not acked come back, from the spool, in order */
    s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    struct got g3 = {0};
    poll_until(s, &g3, 10000, 20000);
    check_sequence(&g3, 10000);
    assert_true(g3.replayed[0] && g3.replayed[9999]);
    assert_int_equal(g3.seq[0], g2.seq[10000]);
    vk_syslog_stop(s);
    got_free(&g), got_free(&g2), got_free(&g3);
    rmtree(d);
    free(d);
}

/* The spool cannot be written (here: the file size limit, EFBIG): the receiver says so,
 * counts it, holds the TCP senders (nothing is dropped, nothing is read that the spool
 * does not keep) and retries; once writes succeed again every message arrives, in order. */
static void t_spool_write_fails(void **st)
{
    (void)st;
    char *d = mktmpdir(), spool[300], err[512];
    snprintf(spool, sizeof spool, "%s/spool", d);
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0", .spool_dir = spool, .queue_bytes = 1, .max_msg = 1024,
                                .segment_bytes = 4 << 20};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 128 << 10; /* the first segment stops growing at 128 KiB */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct sender sd = {port_of(s, "tcp"), 5000}; /* ~1.2 MB of records */
    pthread_t th;
    pthread_create(&th, NULL, tcp_sender, &sd);
    struct vk_syslog_stats ss;
    for (int i = 0; i < 500; i++) {
        vk_syslog_stats(s, &ss);
        if (ss.spool_errors && ss.paused) break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    uint64_t held_at = ss.l[0].msgs;
    assert_true(ss.spool_errors > 0);
    assert_true(ss.paused > 0);
    assert_true(held_at < 5000);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0); /* the disk has room again */
    signal(SIGXFSZ, prev);
    struct got g = {0};
    poll_ack_until(s, &g, 5000, 30000);
    pthread_join(th, NULL);
    check_sequence(&g, 0);
    vk_syslog_stats(s, &ss);
    assert_int_equal(ss.l[0].dropped, 0);
    fprintf(stderr, "spool write failures: %llu, senders held at %llu of 5000 messages, all delivered\n",
            (unsigned long long)ss.spool_errors, (unsigned long long)held_at);
    vk_syslog_stop(s);
    got_free(&g);
    rmtree(d);
    free(d);
}

static void t_backpressure_and_drops(void **st)
{
    (void)st;
    char *d = mktmpdir(), spool[300], err[512];
    snprintf(spool, sizeof spool, "%s/spool", d);
    /* the smallest queue (64 records of max_msg) and a small spool: once the spool holds
     * spool_max unacked bytes, senders are held */
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0,udp://127.0.0.1:0", .spool_dir = spool,
                                .queue_bytes = 1, .max_msg = 1024, .udp_rcvbuf = 1 << 20,
                                .segment_bytes = 64 << 10, .spool_max = 256 << 10};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    struct vk_syslog_stats ss;
    vk_syslog_stats(s, &ss);
    assert_true(ss.queue_bytes < 100000);
    struct sender sd = {port_of(s, "tcp"), 20000}; /* ~4 MB: 50 times the queue */
    pthread_t th;
    pthread_create(&th, NULL, tcp_sender, &sd);
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL); /* nobody consumes: the queue fills, then the spool; the socket is held */
    vk_syslog_stats(s, &ss);
    assert_true(ss.paused > 0);
    assert_true(ss.l[0].msgs < 20000);
    assert_true(ss.spool_bytes >= 256 << 10);
    struct got g = {0};
    poll_ack_until(s, &g, 20000, 20000); /* acks let the spool shrink and the senders go on */
    pthread_join(th, NULL);
    check_sequence(&g, 0); /* all of them, in order, once */
    /* UDP with queue and spool full: datagrams are dropped and counted, none goes unaccounted */
    int uf = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_of(s, "udp"))};
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int nu = 3000;
    int sent = 0;
    for (int i = 0; i < nu; i++) {
        char m[600];
        int n = snprintf(m, sizeof m, "<13>udp %d %0500d", i, 0);
        if (sendto(uf, m, (size_t)n, 0, (struct sockaddr *)&ua, sizeof ua) == n) sent++;
    }
    close(uf);
    nanosleep(&ts, NULL);
    size_t before = g.n;
    for (int i = 0; i < 20; i++) vk_syslog_poll(s, keep, &g, 20);
    vk_syslog_stats(s, &ss);
    uint64_t got_udp = g.n - before;
    fprintf(stderr, "udp: sent %d, delivered %llu, dropped %llu (ours) + %llu (kernel)\n", sent,
            (unsigned long long)got_udp, (unsigned long long)ss.l[1].dropped,
            (unsigned long long)ss.l[1].kernel_drops);
    assert_int_equal(got_udp, ss.l[1].msgs);
    assert_true(ss.l[1].dropped > 0);
    assert_int_equal(got_udp + ss.l[1].dropped + ss.l[1].kernel_drops, (uint64_t)sent);
    vk_syslog_stop(s);
    got_free(&g);
    rmtree(d);
    free(d);
}

/* A stopped receiver cannot read: the kernel drops what does not fit in the socket
 * buffer, and the counters must say how many. */
static void t_udp_kernel_drops(void **st)
{
    (void)st;
    int up[2], down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512];
        struct vk_syslog_cfg cfg = {.urls = "udp://127.0.0.1:0", .udp_rcvbuf = 65536};
        struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
        if (!s) _exit(3);
        int port = port_of(s, "udp");
        if (write(up[1], &port, sizeof port) != sizeof port) _exit(4);
        fcntl(down[0], F_SETFL, O_NONBLOCK);
        struct got g = {0};
        bool done = false;
        for (;;) {
            int rc = vk_syslog_poll(s, keep, &g, 50);
            char x;
            if (read(down[0], &x, 1) == 1) done = true;
            if (done && rc == 0) break;
        }
        struct vk_syslog_stats ss;
        vk_syslog_stats(s, &ss);
        uint64_t r[3] = {g.n, ss.l[0].dropped, ss.l[0].kernel_drops};
        if (write(up[1], r, sizeof r) != sizeof r) _exit(5);
        _exit(0);
    }
    int port;
    assert_int_equal(read(up[0], &port, sizeof port), (ssize_t)sizeof port);
    kill(pid, SIGSTOP);
    int uf = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int n = 5000;
    for (int i = 0; i < n; i++) {
        char m[600];
        int k = snprintf(m, sizeof m, "<13>udp %d %0500d", i, 0);
        assert_int_equal(sendto(uf, m, (size_t)k, 0, (struct sockaddr *)&ua, sizeof ua), k);
    }
    close(uf);
    kill(pid, SIGCONT);
    assert_int_equal(write(down[1], "x", 1), 1);
    uint64_t r[3];
    assert_int_equal(read(up[0], r, sizeof r), (ssize_t)sizeof r);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr, "udp while stopped: sent %d, delivered %llu, dropped %llu (ours) + %llu (kernel)\n", n,
            (unsigned long long)r[0], (unsigned long long)r[1], (unsigned long long)r[2]);
    assert_true(r[0] > 0);
    assert_true(r[2] > 0);
    assert_int_equal(r[0] + r[1] + r[2], (uint64_t)n);
    close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

static void t_shutdown_drains(void **st)
{
    (void)st;
    char *d = mktmpdir(), spool[300], err[512];
    snprintf(spool, sizeof spool, "%s/spool", d);
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0", .spool_dir = spool,
                                .sync = VK_SPOOL_SYNC_INTERVAL, .sync_interval_ms = 50};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    struct sender sd = {port_of(s, "tcp"), 1000};
    tcp_sender(&sd);
    /* an open connection with an incomplete line: shutdown keeps it, flagged */
    int fd = tcp_connect(port_of(s, "tcp"));
    write_all(fd, "<13>incomplete", 14);
    struct vk_syslog_stats ss;
    for (int i = 0; i < 300; i++) {
        vk_syslog_stats(s, &ss);
        if (ss.l[0].msgs == 1000 && ss.l[0].conns_open == 1) break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(ss.l[0].msgs, 1000);
    vk_syslog_shutdown(s);
    close(fd);
    struct got g = {0};
    int rc;
    while ((rc = vk_syslog_poll(s, keep, &g, 1000)) > 0) {
    }
    assert_int_equal(rc, 0);
    assert_int_equal(g.n, 1001);
    assert_string_equal(g.m[1000], "<13>incomplete");
    vk_syslog_stop(s); /* nothing acked */
    got_free(&g);
    /* not acked: all of it again */
    s = vk_syslog_start(&cfg, err, sizeof err);
    assert_non_null(s);
    poll_until(s, &g, 1001, 3000);
    assert_true(g.replayed[0] && g.replayed[1000]);
    vk_syslog_stop(s);
    got_free(&g);
    rmtree(d);
    free(d);
}

static void t_bad_config(void **st)
{
    (void)st;
    char err[512];
    struct vk_syslog_cfg c1 = {.urls = "ftp://127.0.0.1:514"};
    assert_null(vk_syslog_start(&c1, err, sizeof err));
    assert_non_null(strstr(err, "ftp://127.0.0.1:514: want udp://"));
    struct vk_syslog_cfg c2 = {.urls = "tcp://127.0.0.1"};
    assert_null(vk_syslog_start(&c2, err, sizeof err));
    assert_non_null(strstr(err, "no port"));
    struct vk_syslog_cfg c3 = {.urls = "tls://127.0.0.1:0"};
    assert_null(vk_syslog_start(&c3, err, sizeof err));
    assert_non_null(strstr(err, "certificate"));
    struct vk_syslog_cfg c4 = {.urls = "tls://127.0.0.1:0", .tls_cert = "/nonexistent.pem", .tls_key = "/nonexistent.key"};
    assert_null(vk_syslog_start(&c4, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent.pem"));
    struct vk_syslog_cfg c5 = {.urls = "tcp://127.0.0.1:0"};
    struct vk_syslog *s = vk_syslog_start(&c5, err, sizeof err);
    assert_non_null(s);
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port_of(s, "tcp"));
    struct vk_syslog_cfg c6 = {.urls = url};
    assert_null(vk_syslog_start(&c6, err, sizeof err));
    assert_non_null(strstr(err, "bind: Address already in use"));
    vk_syslog_stop(s);
    struct vk_syslog_cfg c7 = {.urls = "udp://[::1]:0"};
    s = vk_syslog_start(&c7, err, sizeof err);
    if (s) { /* IPv6 loopback may be off in a container */
        struct vk_syslog_stats ss;
        vk_syslog_stats(s, &ss);
        assert_memory_equal(ss.l[0].url, "udp://[::1]:", 12);
        vk_syslog_stop(s);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_tcp_udp_many_senders),
        cmocka_unit_test(t_oversize),
        cmocka_unit_test(t_tls),
        cmocka_unit_test(t_spool_crash_replay),
        cmocka_unit_test(t_spill_to_spool),
        cmocka_unit_test(t_spool_write_fails),
        cmocka_unit_test(t_backpressure_and_drops),
        cmocka_unit_test(t_udp_kernel_drops),
        cmocka_unit_test(t_shutdown_drains),
        cmocka_unit_test(t_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
