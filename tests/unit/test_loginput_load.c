/* test_loginput_load.c — load on the syslog receiver over loopback: 100k msg/s over TCP
 * (4 connections, octet counting, 200-byte messages) into a receiver with a spool synced per
 * batch and a consumer that acks after every poll; every message must arrive, in order per
 * connection, once. Then 100k msg/s over UDP, where loss is allowed but must be counted:
 * delivered + our drops + the kernel's drops = sent.
 *
 * 3 seconds each in the default suite; VAKT_SOAK=1 makes it 60 (VAKT_LOAD_SECONDS=N sets
 * it; VAKT_LOAD_RATE=N the rate, 0 for as fast as possible). The sender is this binary re-run as "--send URL ..." (tests/tools/logsend.c), so it
 * is a separate process like a real one. Figures go to stderr. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOGSEND_NO_MAIN
#include "../tools/logsend.c"

#include "vk_test.h"
#include "logs/vk_loginput.h"

/* VAKT_LOAD_RATE=N msg/s (0: as fast as the sender can) */
static double load_rate(void)
{
    const char *s = getenv("VAKT_LOAD_RATE");
    return s ? atof(s) : 100000;
}

static double load_seconds(void)
{
    const char *s = getenv("VAKT_LOAD_SECONDS");
    if (s && atof(s) > 0) return atof(s);
    return getenv("VAKT_SOAK") ? 60 : 3;
}

#define MAXC 16
struct counter {
    uint64_t n, bytes, bad, order_errors, cut;
    uint64_t next[MAXC];    /* TCP: the number expected next per connection */
    uint8_t *seen[MAXC];    /* UDP: one bit per number, to find duplicates */
    uint64_t seen_cap, dups;
    uint64_t last_seq;
    bool udp;
};

/* Per message: one strstr and a number parse. */
static int count_msg(void *ud, const struct vk_logline *l)
{
    struct counter *c = ud;
    c->n++;
    c->bytes += l->len;
    c->last_seq = l->seq;
    if (l->cut) c->cut++;
    const char *p = strstr(l->data, " c=");
    unsigned conn;
    unsigned long long num;
    if (!p || sscanf(p, " c=%u n=%llu", &conn, &num) != 2 || conn >= MAXC) {
        c->bad++;
        return 0;
    }
    if (!c->udp) {
        if (num != c->next[conn]) c->order_errors++;
        c->next[conn] = num + 1;
    } else if (num < c->seen_cap) {
        if (c->seen[conn][num / 8] & (1u << (num % 8))) c->dups++;
        c->seen[conn][num / 8] |= (uint8_t)(1u << (num % 8));
    }
    return 0;
}

static pid_t spawn_sender(const char *url, double rate, double secs, unsigned conns, int *out_fd)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char r[32], s[32], c[16];
        snprintf(r, sizeof r, "%.0f", rate);
        snprintf(s, sizeof s, "%.3f", secs);
        snprintf(c, sizeof c, "%u", conns);
        execl("/proc/self/exe", "logsend", "--send", url, "--rate", r, "--seconds", s, "--conns", c,
              "--size", "200", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

static void read_result(int fd, struct logsend_result *r)
{
    char buf[256] = "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = 0;
    unsigned long long sent, errors;
    double secs, rate;
    assert_int_equal(sscanf(buf, "logsend: sent=%llu seconds=%lf rate=%lf errors=%llu", &sent, &secs,
                            &rate, &errors), 4);
    r->sent = sent;
    r->errors = errors;
    r->seconds = secs;
    close(fd);
}

/* Consume until the sender has exited and `until` says we have everything (or time is up). */
static void consume(struct vk_syslog *s, struct counter *c, pid_t pid, int fd,
                    struct logsend_result *res, double limit_s, bool udp)
{
    bool done = false;
    double t0 = ls_now();
    int polls = 0;
    while (ls_now() - t0 < limit_s) {
        int rc = vk_syslog_poll(s, count_msg, c, 50);
        assert_true(rc >= 0);
        if (rc > 0) {
            vk_syslog_ack(s, c->last_seq);
            polls++;
        }
        if (!done && waitpid(pid, NULL, WNOHANG) == pid) {
            read_result(fd, res);
            done = true;
            t0 = ls_now(); /* from now on: only the tail is left */
            limit_s = udp ? 2 : 30;
        }
        if (done && !udp && c->n >= res->sent) break;
        if (done && udp && rc == 0) {
            struct vk_syslog_stats st;
            vk_syslog_stats(s, &st);
            if (st.delivered_seq + 1 == st.next_seq) break;
        }
    }
    assert_true(done);
    (void)polls;
}

static void t_load_tcp(void **st)
{
    (void)st;
    double secs = load_seconds(), rate = load_rate();
    char dir[] = "/tmp/vk-load-XXXXXX", spool[300], err[512], url[96];
    assert_non_null(mkdtemp(dir));
    snprintf(spool, sizeof spool, "%s/spool", dir);
    struct vk_syslog_cfg cfg = {.urls = "tcp://127.0.0.1:0", .spool_dir = spool};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) fail_msg("%s", err);
    struct vk_syslog_stats ss;
    vk_syslog_stats(s, &ss);
    snprintf(url, sizeof url, "%s", ss.l[0].url);
    int fd;
    pid_t pid = spawn_sender(url, rate, secs, 4, &fd);
    static struct counter c;
    memset(&c, 0, sizeof c);
    struct logsend_result res = {0};
    double t0 = ls_now();
    consume(s, &c, pid, fd, &res, secs + 60, false);
    double el = ls_now() - t0;
    vk_syslog_stats(s, &ss);
    fprintf(stderr,
            "load tcp: sent %llu in %.2f s (%.0f msg/s, %.1f MB/s), delivered %llu, order errors %llu, "
            "paused %llu, spool syncs %llu (%.0f msg/sync), wall %.2f s\n",
            (unsigned long long)res.sent, res.seconds, res.sent / res.seconds,
            c.bytes / res.seconds / 1e6, (unsigned long long)c.n, (unsigned long long)c.order_errors,
            (unsigned long long)ss.paused, (unsigned long long)ss.spool_syncs,
            ss.spool_syncs ? (double)c.n / ss.spool_syncs : 0.0, el);
    assert_int_equal(res.errors, 0);
    assert_int_equal(c.n, res.sent); /* every line arrives */
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.order_errors, 0);
    assert_int_equal(c.cut, 0);
    assert_int_equal(ss.l[0].msgs, res.sent);
    /* on a shared 2-core machine the sender may fall short of the rate; half is the floor */
    if (rate > 0) assert_true(res.sent / res.seconds > rate / 2);
    vk_syslog_stop(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void t_load_udp(void **st)
{
    (void)st;
    double secs = load_seconds(), rate = load_rate();
    char dir[] = "/tmp/vk-load-XXXXXX", spool[300], err[512], url[96];
    assert_non_null(mkdtemp(dir));
    snprintf(spool, sizeof spool, "%s/spool", dir);
    struct vk_syslog_cfg cfg = {.urls = "udp://127.0.0.1:0", .spool_dir = spool};
    struct vk_syslog *s = vk_syslog_start(&cfg, err, sizeof err);
    if (!s) fail_msg("%s", err);
    struct vk_syslog_stats ss;
    vk_syslog_stats(s, &ss);
    snprintf(url, sizeof url, "%s", ss.l[0].url);
    static struct counter c;
    memset(&c, 0, sizeof c);
    c.udp = true;
    c.seen_cap = (uint64_t)(rate * secs * 1.2) + 1000;
    c.seen[0] = calloc(c.seen_cap / 8 + 1, 1);
    c.seen[1] = calloc(c.seen_cap / 8 + 1, 1);
    int fd;
    pid_t pid = spawn_sender(url, rate, secs, 2, &fd);
    struct logsend_result res = {0};
    consume(s, &c, pid, fd, &res, secs + 60, true);
    vk_syslog_stats(s, &ss);
    uint64_t ours = ss.l[0].dropped, kern = ss.l[0].kernel_drops, ok = res.sent - res.errors;
    fprintf(stderr,
            "load udp: sent %llu in %.2f s (%.0f msg/s; %llu send errors), delivered %llu, dropped "
            "%llu by us + %llu by the kernel = %.3f%% loss, duplicates %llu\n",
            (unsigned long long)res.sent, res.seconds, res.sent / res.seconds,
            (unsigned long long)res.errors, (unsigned long long)c.n, (unsigned long long)ours,
            (unsigned long long)kern, ok ? 100.0 * (double)(ours + kern) / (double)ok : 0.0,
            (unsigned long long)c.dups);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.dups, 0);
    assert_int_equal(c.n, ss.l[0].msgs);
    /* nothing is lost without being counted */
    assert_int_equal(c.n + ours + kern, ok);
    free(c.seen[0]);
    free(c.seen[1]);
    vk_syslog_stop(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--send")) {
        struct logsend_opts o;
        if (logsend_args(&o, argc - 2, argv + 2)) return 2;
        struct logsend_result r;
        logsend_run(&o, &r);
        logsend_print(stdout, &r);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_load_tcp),
        cmocka_unit_test(t_load_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
