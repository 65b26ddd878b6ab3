/* test_logs.c — log framings, source templates and the miner, on real lines.
 *
 * Each test reads its line from ../shared/corpus (file and line number in the test) and
 * checks exact values. The templates are the shipped ones (templates/logs, the tests run
 * from the repository root). */
#include <unistd.h>

#include "vk_test.h"

#include "logs/vk_logs.h"

static struct vk_logs *lp;
static struct vk_meta m;

/* Line n (1-based) of a corpus file, without its newline. Static buffer. */
static const char *corpus_line(const char *rel, int n)
{
    static char buf[65536];
    FILE *f = fopen(vk_test_corpus(rel), "r");
    if (!f) fail_msg("cannot open %s", vk_test_corpus(rel));
    for (int i = 1; fgets(buf, sizeof buf, f); i++) {
        if (i != n) continue;
        fclose(f);
        buf[strcspn(buf, "\r\n")] = 0;
        return buf;
    }
    fclose(f);
    fail_msg("%s has no line %d", rel, n);
    return NULL;
}

/* 2026-11-27T12:00:00Z: receive time for stamps without a year */
#define RECV 1795780800000LL

static void parse(const char *line)
{
    struct vk_logsrc src = {.recv_ms = RECV, .source = "test"};
    assert_int_equal(vk_logs_parse(lp, line, strlen(line), &src, &m), 0);
}

static uint64_t uval(enum vk_key k)
{
    for (uint32_t i = 0; i < m.n; i++)
        if (m.items[i].key == k) return m.items[i].u;
    fail_msg("no %s", vk_key_info(k)->name);
    return 0;
}

static const char *sval(enum vk_key k)
{
    static char b[4096];
    if (!vk_meta_get_str(&m, k, b, sizeof b)) fail_msg("no %s", vk_key_info(k)->name);
    return b;
}

#define HAS(k, v) assert_string_equal(sval(k), v)

static int setup(void **st)
{
    (void)st;
    char err[256];
    lp = vk_logs_new("templates/logs", err, sizeof err);
    if (!lp) fail_msg("vk_logs_new: %s", err);
    vk_meta_init(&m);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    vk_meta_free(&m);
    vk_logs_free(lp);
    return 0;
}

/* ---- framings ---------------------------------------------------------------------- */
static void t_rfc3164(void **st)
{
    (void)st;
    /* loghub Linux_2k.log line 1: program with "(pam_unix)", pid, host, no year */
    parse(corpus_line("logs/loghub/Linux/Linux_2k.log", 1));
    HAS(VK_K_LOG_FORMAT, "rfc3164");
    HAS(VK_K_KIND, "event");
    HAS(VK_K_DEVICE_HOST, "combo");
    HAS(VK_K_PROCESS, "sshd(pam_unix)");
    assert_int_equal(uval(VK_K_PID), 19939);
    /* Jun 14 15:16:01 of the receive year (2026) */
    assert_int_equal(uval(VK_K_TIME), 1781450161000ULL);
    HAS(VK_K_EVENT_TYPE, "login");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "218.188.2.4");
}

static void t_rfc3164_variants(void **st)
{
    (void)st;
    /* fail2ban sshd line 180: no host name before the tag */
    parse(corpus_line("logs/fail2ban/tests/sshd", 180));
    HAS(VK_K_PROCESS, "sshd");
    assert_int_equal(uval(VK_K_PID), 8148);
    assert_false(vk_meta_has(&m, VK_K_DEVICE_HOST));
    /* fail2ban sshd line 222: ISO 8601 stamp with microseconds and offset */
    parse(corpus_line("logs/fail2ban/tests/sshd", 222));
    HAS(VK_K_DEVICE_HOST, "host");
    assert_int_equal(uval(VK_K_TIME), 1429207370321ULL); /* 2015-04-16T18:02:50.321Z */
    /* fail2ban sshd line 43: "[sshd]:" tag, no pid */
    parse(corpus_line("logs/fail2ban/tests/sshd", 43));
    HAS(VK_K_PROCESS, "sshd");
    HAS(VK_K_IP_SRC, "211.188.220.49");
    HAS(VK_K_USER, "root");
    /* fail2ban sshd-journal line 9: journal export, host + tag, no stamp: receive time */
    parse(corpus_line("logs/fail2ban/tests/sshd-journal", 9));
    HAS(VK_K_DEVICE_HOST, "srv");
    assert_int_equal(uval(VK_K_TIME), (uint64_t)RECV);
    HAS(VK_K_IP_SRC, "192.30.0.6"); /* written 192.030.0.6 */
    HAS(VK_K_USER, "myhlj1374");
    /* fail2ban dovecot line 5: TAI64N stamp of multilog */
    parse(corpus_line("logs/fail2ban/tests/dovecot", 5));
    assert_int_equal(uval(VK_K_TIME), 1284616250125ULL); /* @400000004c91b044077a9e94 */
    HAS(VK_K_PROCESS, "dovecot-auth");
}

static void t_cisco(void **st)
{
    (void)st;
    /* ossec cisco_ios.ini line 13: "%SEC-6-IPACCESSLOGP:" after a stamp and host */
    const char *l = corpus_line("logs/ossec/tests/cisco_ios.ini", 13);
    parse(strstr(l, "= ") + 2);
    HAS(VK_K_DEVICE_IP, "10.10.10.1");
    HAS(VK_K_PROCESS, "SEC");
    HAS(VK_K_SEVERITY, "info");
    HAS(VK_K_EVENT_TYPE, "firewall");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "10.0.6.56");
    HAS(VK_K_IP_DST, "172.36.4.7");
    assert_int_equal(uval(VK_K_PORT_DST), 139);
    /* ossec pix.ini: "%%ASA-6-605004:" with no header at all */
    parse("%%ASA-6-605004: Login denied from 198.18.1.100/56332 to outside:198.18.1.254/ssh for user \"*****\"");
    HAS(VK_K_PROCESS, "ASA");
    assert_int_equal(uval(VK_K_EVENT_ID), 605004);
    HAS(VK_K_DEVICE_TYPE, "cisco-asa");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "198.18.1.100");
    assert_int_equal(uval(VK_K_PORT_SRC), 56332);
}

static void t_rfc5424(void **st)
{
    (void)st;
    /* fail2ban sshd line 415: structured data with brackets inside a value */
    parse(corpus_line("logs/fail2ban/tests/sshd", 415));
    HAS(VK_K_LOG_FORMAT, "rfc5424");
    HAS(VK_K_DEVICE_HOST, "hostname.example.com");
    HAS(VK_K_PROCESS, "sshd");
    assert_int_equal(uval(VK_K_PID), 55555);
    HAS(VK_K_SEVERITY, "info");
    HAS(VK_K_FACILITY, "auth");
    assert_int_equal(uval(VK_K_TIME), 1562622017954ULL); /* 17:40:17.954-04:00 */
    HAS(VK_K_MESSAGE, "Failed unknown for invalid user redmond from 192.0.2.2 port 55555 ssh2");
    HAS(VK_K_IP_SRC, "192.0.2.2");
    HAS(VK_K_USER, "redmond");
}

static void t_cef(void **st)
{
    (void)st;
    /* liblognorm field-parser-cases.jsonl line 2: escaped '|' and '\' in the header */
    parse("CEF:0|Vendor|Product\\|1\\|\\\\|Version|Signature ID|some name|Severity| aa=field1 bb=this is a "
          "name\\=value cc=field 3");
    HAS(VK_K_LOG_FORMAT, "cef");
    HAS(VK_K_PROCESS, "Product|1|\\");
    HAS(VK_K_MESSAGE, "some name");
    /* an ArcSight-style line: standard extension keys become shared keys */
    parse("CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 "
          "act=blocked suser=bob");
    assert_int_equal(uval(VK_K_EVENT_ID), 100);
    HAS(VK_K_SEVERITY, "crit");
    HAS(VK_K_IP_SRC, "10.0.0.1");
    HAS(VK_K_IP_DST, "2.1.2.2");
    assert_int_equal(uval(VK_K_PORT_SRC), 1232);
    HAS(VK_K_USER, "bob");
    HAS(VK_K_EVENT_OUTCOME, "failure");
}

static void t_leef(void **st)
{
    (void)st;
    /* the LEEF 1.0 example of IBM's QRadar LEEF guide (tab-separated attributes) */
    parse("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.1\tdst=172.50.123.1\tsev=5\tcat=anomaly\t"
          "srcPort=81\tdstPort=21\tusrName=joe.black");
    HAS(VK_K_LOG_FORMAT, "leef");
    HAS(VK_K_PROCESS, "MSExchange");
    HAS(VK_K_IP_SRC, "192.0.2.1");
    HAS(VK_K_IP_DST, "172.50.123.1");
    assert_int_equal(uval(VK_K_PORT_DST), 21);
    HAS(VK_K_USER, "joe.black");
    HAS(VK_K_EVENT_TYPE, "anomaly");
}

static void t_json(void **st)
{
    (void)st;
    /* fail2ban cowrie line 4: a cowrie JSON event (nested values flattened) */
    parse(corpus_line("logs/fail2ban/tests/cowrie", 4));
    HAS(VK_K_LOG_FORMAT, "json");
    HAS(VK_K_DEVICE_TYPE, "cowrie");
    HAS(VK_K_IP_SRC, "137.184.154.9");
    assert_int_equal(uval(VK_K_PORT_SRC), 37416);
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_MESSAGE, "New connection: 137.184.154.9:37416 (172.18.0.2:2222) [session: 2a5e755afa79]");
    assert_int_equal(uval(VK_K_TIME), 1786579234803ULL); /* 2026-08-13T00:00:34.803989Z */
    /* nested objects, escapes and \u sequences */
    parse("{\"winlog\":{\"event_id\":4625,\"channel\":\"Security\",\"event_data\":{\"TargetUserName\":"
          "\"CORP\\\\ad\\u00e9le\",\"IpAddress\":\"10.1.2.3\"}},\"@timestamp\":\"2024-01-02T03:04:05Z\"}");
    HAS(VK_K_EVENT_TYPE, "login");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_USER, "ad\xc3\xa9le");
    HAS(VK_K_IP_SRC, "10.1.2.3");
    assert_int_equal(uval(VK_K_EVENT_ID), 4625);
}

static void t_kv(void **st)
{
    (void)st;
    /* Security-Datasets sh_arp_cache (atomic/linux/discovery), first record: auditd */
    parse("type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 "
          "a0=558e251634a0 a1=558e25162a50 a2=558e25160800 a3=8 items=2 ppid=29002 pid=1631 auid=1000 "
          "uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=104 "
          "comm=\"arp\" exe=\"/usr/sbin/arp\" key=(null)");
    HAS(VK_K_LOG_FORMAT, "kv");
    assert_int_equal(uval(VK_K_TIME), 1604994496155ULL);
    HAS(VK_K_EVENT_TYPE, "process.start");
    HAS(VK_K_PROCESS, "arp");
    assert_int_equal(uval(VK_K_PID), 1631);
}

static void t_plain(void **st)
{
    (void)st;
    /* loghub HDFS_2k.log line 1: "yymmdd hhmmss pid LEVEL component: msg" */
    parse(corpus_line("logs/loghub/HDFS/HDFS_2k.log", 1));
    HAS(VK_K_LOG_FORMAT, "plain");
    HAS(VK_K_SEVERITY, "info");
    HAS(VK_K_PROCESS, "dfs.DataNode$PacketResponder");
    assert_int_equal(uval(VK_K_PID), 148);
    assert_int_equal(uval(VK_K_TIME), 1226262975000ULL); /* 2008-11-09 20:36:15 */
    /* loghub Zookeeper_2k.log line 1: "[component] -" after the level */
    parse(corpus_line("logs/loghub/Zookeeper/Zookeeper_2k.log", 1));
    HAS(VK_K_SEVERITY, "info");
    HAS(VK_K_MESSAGE, "Notification time out: 3200");
    /* loghub Windows_2k.log line 1: CBS log, component padded to a column */
    parse(corpus_line("logs/loghub/Windows/Windows_2k.log", 1));
    HAS(VK_K_PROCESS, "CBS");
    assert_true(strncmp(sval(VK_K_MESSAGE), "Loaded Servicing Stack v6.1.7601.23505", 38) == 0);
    /* loghub Apache_2k.log line 2: Apache error log */
    parse(corpus_line("logs/loghub/Apache/Apache_2k.log", 2));
    HAS(VK_K_SEVERITY, "err");
    HAS(VK_K_MESSAGE, "mod_jk child workerEnv in error state 6");
    assert_int_equal(uval(VK_K_TIME), 1133671664000ULL); /* Sun Dec 04 04:47:44 2005 */
    /* loghub Proxifier_2k.log line 1: "[mm.dd hh:mm:ss] program - msg" */
    parse(corpus_line("logs/loghub/Proxifier/Proxifier_2k.log", 1));
    HAS(VK_K_PROCESS, "chrome.exe");
}

/* ---- templates --------------------------------------------------------------------- */
static void t_sshd(void **st)
{
    (void)st;
    /* loghub OpenSSH_2k.log line 6 (fail2ban's ground truth: webmaster from 173.234.31.186) */
    parse(corpus_line("logs/loghub/OpenSSH/OpenSSH_2k.log", 6));
    HAS(VK_K_DEVICE_TYPE, "sshd");
    HAS(VK_K_EVENT_TYPE, "login");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_USER, "webmaster");
    HAS(VK_K_IP_SRC, "173.234.31.186");
    assert_int_equal(uval(VK_K_PORT_SRC), 38926);
    /* fail2ban sshd line 147: text injected into the user name does not become the source */
    parse(corpus_line("logs/fail2ban/tests/sshd", 147));
    VK_ASSERT_SET(&m, VK_K_IP_SRC, "127.0.0.1");
    /* fail2ban sshd line 145: nor does text after the port */
    parse(corpus_line("logs/fail2ban/tests/sshd", 145));
    VK_ASSERT_SET(&m, VK_K_IP_SRC, "127.0.0.1");
    /* fail2ban sshd line 163: a success */
    parse(corpus_line("logs/fail2ban/tests/sshd", 163));
    HAS(VK_K_EVENT_OUTCOME, "success");
    HAS(VK_K_USER, "git");
    HAS(VK_K_IP_SRC, "192.0.2.1");
}

static void t_sshd_peer_memory(void **st)
{
    (void)st;
    /* fail2ban sshd lines 287 and 289: the address comes from the earlier line of the
     * same sshd process */
    parse(corpus_line("logs/fail2ban/tests/sshd", 287));
    HAS(VK_K_EVENT_TYPE, "connection");
    parse(corpus_line("logs/fail2ban/tests/sshd", 289));
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "127.0.0.1");
}

static void t_pam_generic(void **st)
{
    (void)st;
    /* fail2ban pam-generic line 2: PAM in a program without a template of its own */
    parse(corpus_line("logs/fail2ban/tests/pam-generic", 2));
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "192.168.1.1");
    HAS(VK_K_USER, "sample-user");
    /* fail2ban pam-generic line 4: a host name, not an address */
    parse(corpus_line("logs/fail2ban/tests/pam-generic", 4));
    HAS(VK_K_HOST_SRC, "71-13-115-12.static.mdsn.wi.charter.com");
    HAS(VK_K_USER, "root");
}

static void t_mail(void **st)
{
    (void)st;
    /* fail2ban dovecot line 2: aborted IMAP login */
    parse(corpus_line("logs/fail2ban/tests/dovecot", 2));
    HAS(VK_K_DEVICE_TYPE, "dovecot");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "80.187.101.33");
    HAS(VK_K_USER, "martin@waschbuesch.de");
    /* fail2ban postfix line 6: a rejected RCPT */
    parse(corpus_line("logs/fail2ban/tests/postfix", 6));
    HAS(VK_K_DEVICE_TYPE, "postfix");
    HAS(VK_K_EVENT_TYPE, "mail.reject");
    HAS(VK_K_IP_SRC, "192.0.43.10");
    /* fail2ban exim line 3: SMTP authenticator failure, set_id is the account */
    parse(corpus_line("logs/fail2ban/tests/exim", 3));
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "24.106.174.74");
    HAS(VK_K_USER, "brian");
    /* fail2ban courier-auth line 2 */
    parse(corpus_line("logs/fail2ban/tests/courier-auth", 2));
    HAS(VK_K_IP_SRC, "1.2.3.4");
    HAS(VK_K_USER, "sales@example.com");
}

static void t_web(void **st)
{
    (void)st;
    /* bench apache_logs line 1: combined access log */
    parse(corpus_line("logs/bench/apache_logs", 1));
    HAS(VK_K_EVENT_TYPE, "http.request");
    HAS(VK_K_IP_SRC, "83.149.9.216");
    HAS(VK_K_HTTP_METHOD, "GET");
    HAS(VK_K_HTTP_PATH, "/presentations/logstash-monitorama-2013/images/kibana-search.png");
    assert_int_equal(uval(VK_K_HTTP_STATUS), 200);
    assert_int_equal(uval(VK_K_TIME), 1431857103000ULL); /* 17/May/2015:10:05:03 +0000 */
    HAS(VK_K_LOG_TEMPLATE, "<*> <*> <*> [<*>] \"<*> <*> <*>\" <*> <*> \"<*>\" \"<*>\"");
    assert_false(vk_meta_has(&m, VK_K_EVENT_OUTCOME)); /* a 200 is not a failure */
    /* fail2ban nginx-botsearch line 2: a probe answered 404 is a failed request (setif) */
    parse(corpus_line("logs/fail2ban/tests/nginx-botsearch", 2));
    assert_int_equal(uval(VK_K_HTTP_STATUS), 404);
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "12.34.56.78");
    /* fail2ban apache-auth line 10: Apache 2.2 error log, unknown user */
    parse(corpus_line("logs/fail2ban/tests/apache-auth", 10));
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "194.228.20.113");
    HAS(VK_K_USER, "dsfasdf");
    /* fail2ban nginx-http-auth line 4: nginx error log */
    parse(corpus_line("logs/fail2ban/tests/nginx-http-auth", 4));
    HAS(VK_K_DEVICE_TYPE, "nginx");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "192.0.43.10");
    HAS(VK_K_USER, "xyz");
}

static void t_privilege(void **st)
{
    (void)st;
    /* ossec sudo.ini: a failed sudo */
    parse("Jun 25 15:51:13 precise32 sudo:     mike : 1 incorrect password attempt ; TTY=pts/0 ; PWD=/root ; "
          "USER=root ; COMMAND=/bin/ls");
    HAS(VK_K_EVENT_TYPE, "privilege");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_USER, "mike");
    /* ossec su.ini */
    parse("Jun 20 17:19:59 dactyl su: FAILED SU (to root) mmoorcro on pts/0");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_USER, "mmoorcro");
}

static void t_network(void **st)
{
    (void)st;
    /* liblognorm field-parser-cases.jsonl line 16: an iptables LOG line behind a prefix */
    parse("Jun 19 11:22:33 fw kernel: iptables output denied: IN= OUT=eth0 SRC=176.9.56.141 DST=168.192.14.3 "
          "LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=39110 DF PROTO=UDP SPT=49564 DPT=2010 LEN=12");
    HAS(VK_K_EVENT_TYPE, "firewall");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "176.9.56.141");
    HAS(VK_K_IP_DST, "168.192.14.3");
    assert_int_equal(uval(VK_K_PORT_DST), 2010);
    /* ossec named.ini line 7: BIND denied query */
    const char *l = corpus_line("logs/ossec/tests/named.ini", 7);
    parse(strstr(l, "= ") + 2);
    HAS(VK_K_EVENT_TYPE, "dns.query");
    HAS(VK_K_EVENT_OUTCOME, "failure");
    HAS(VK_K_IP_SRC, "31.150.218.239");
    HAS(VK_K_DNS_QUERY, "odcdavcxkvin.games.yuanyou8.com");
}

/* ---- the miner --------------------------------------------------------------------- */
static void t_miner(void **st)
{
    (void)st;
    char err[64];
    struct vk_logs *x = vk_logs_new("", err, sizeof err); /* no templates: miner only */
    assert_non_null(x);
    struct vk_logsrc src = {.recv_ms = RECV};
    /* loghub Proxifier lines 6 and 18 differ in shape ("(2.78 KB)", "<1 sec") but are one
     * event: units and runs of variables collapse */
    const char *a = "[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 1190 bytes (1.16 KB) sent, "
                    "1671 bytes (1.63 KB) received, lifetime 00:02";
    const char *b = "[10.30 16:49:07] QQ.exe - qqmail.tencent.com:80 close, 739 bytes sent, 404 bytes received, "
                    "lifetime <1 sec";
    char t1[256], t2[256];
    assert_int_equal(vk_logs_parse(x, a, strlen(a), &src, &m), 0);
    assert_true(vk_meta_get_str(&m, VK_K_LOG_TEMPLATE, t1, sizeof t1));
    assert_int_equal(vk_logs_parse(x, b, strlen(b), &src, &m), 0);
    assert_true(vk_meta_get_str(&m, VK_K_LOG_TEMPLATE, t2, sizeof t2));
    assert_string_equal(t1, "<*> close, <*> sent, <*> received, lifetime <*>");
    assert_string_equal(t2, t1);
    /* a name after "user" is a value */
    const char *c = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186";
    assert_int_equal(vk_logs_parse(x, c, strlen(c), &src, &m), 0);
    assert_true(vk_meta_get_str(&m, VK_K_LOG_TEMPLATE, t1, sizeof t1));
    assert_string_equal(t1, "Invalid user <*> from <*>");
    /* deferred templates: the id names the cluster, its template is read later */
    vk_logs_defer_template(x, true);
    assert_int_equal(vk_logs_parse(x, c, strlen(c), &src, &m), 0);
    assert_false(vk_meta_has(&m, VK_K_LOG_TEMPLATE));
    vk_logs_add_template(x, vk_logs_last_id(x), &m);
    assert_true(vk_meta_get_str(&m, VK_K_LOG_TEMPLATE, t2, sizeof t2));
    assert_string_equal(t2, "Invalid user <*> from <*>");
    vk_logs_free(x);
}

static void t_miner_bounded(void **st)
{
    (void)st;
    char err[64];
    struct vk_logs *x = vk_logs_new("", err, sizeof err);
    struct vk_logsrc src = {.recv_ms = RECV};
    char line[128];
    /* 70000 distinct shapes: the cluster cap (65536) holds and evictions are counted */
    for (int i = 0; i < 70000; i++) {
        int n = snprintf(line, sizeof line, "w%c%c%c x%c", 'a' + i % 26, 'a' + i / 26 % 26, 'a' + i / 676 % 26,
                         'a' + i / 17576 % 26);
        vk_logs_parse(x, line, (size_t)n, &src, &m);
    }
    struct vk_logs_stats s;
    vk_logs_get_stats(x, &s);
    assert_int_equal(s.clusters, 65536);
    assert_int_equal(s.clusters_evicted, 70000 - 65536);
    vk_logs_free(x);
}

/* ---- hostile input ----------------------------------------------------------------- */
static void t_hostile(void **st)
{
    (void)st;
    struct vk_logsrc src = {.recv_ms = RECV};
    /* invalid UTF-8 stays as bytes; the JSON writer makes it valid */
    const char bad[] = "Jun 14 15:16:01 combo sshd[1]: Failed password for \xff\xfe from 10.0.0.1 port 1 ssh2";
    assert_int_equal(vk_logs_parse(lp, bad, sizeof bad - 1, &src, &m), 0);
    HAS(VK_K_IP_SRC, "10.0.0.1");
    struct vk_json j;
    vk_json_init(&j);
    vk_json_meta(&j, &m);
    assert_non_null(strstr(j.p, "\\u00ff\\u00fe"));
    vk_json_free(&j);
    /* binary junk */
    const char bin[] = "\x01\x02\x00\x03\x04\x05\x06\x07garbage\x00\x00";
    assert_int_equal(vk_logs_parse(lp, bin, sizeof bin - 1, &src, &m), 0);
    assert_true(vk_test_has(&m, VK_K_ANOMALY, "log.binary"));
    /* a line over the cap is cut and flagged */
    size_t n = VK_LOGS_MAX_LINE + 100;
    char *big = malloc(n);
    memset(big, 'a', n);
    memcpy(big, "{\"a\":\"", 6);
    assert_int_equal(vk_logs_parse(lp, big, n, &src, &m), 0);
    assert_true(vk_test_has(&m, VK_K_ANOMALY, "log.line_too_long"));
    free(big);
    /* deep JSON nesting and an empty line */
    char deep[300];
    memset(deep, '[', sizeof deep);
    deep[0] = '{';
    assert_int_equal(vk_logs_parse(lp, deep, sizeof deep, &src, &m), 0);
    assert_int_equal(vk_logs_parse(lp, "", 0, &src, &m), 0);
    HAS(VK_K_KIND, "event");
}

static void t_template_errors(void **st)
{
    (void)st;
    char dir[] = "/tmp/vakt-tmpl-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/bad.tmpl", dir);
    FILE *f = fopen(path, "w");
    fputs("program x\nmatch Failed for {ip.scr}\n", f);
    fclose(f);
    assert_null(vk_logs_new(dir, err, sizeof err));
    assert_non_null(strstr(err, "bad.tmpl:2: unknown key 'ip.scr'"));
    unlink(path);
    rmdir(dir);
    assert_null(vk_logs_new("/nonexistent-vakt-dir", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_rfc3164),   cmocka_unit_test(t_rfc3164_variants), cmocka_unit_test(t_cisco),
        cmocka_unit_test(t_rfc5424),   cmocka_unit_test(t_cef),              cmocka_unit_test(t_leef),
        cmocka_unit_test(t_json),      cmocka_unit_test(t_kv),               cmocka_unit_test(t_plain),
        cmocka_unit_test(t_sshd),      cmocka_unit_test(t_sshd_peer_memory), cmocka_unit_test(t_pam_generic),
        cmocka_unit_test(t_mail),      cmocka_unit_test(t_web),              cmocka_unit_test(t_privilege),
        cmocka_unit_test(t_network),   cmocka_unit_test(t_miner),            cmocka_unit_test(t_miner_bounded),
        cmocka_unit_test(t_hostile),   cmocka_unit_test(t_template_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
