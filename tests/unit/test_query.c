/* test_query.c — the query language: parse and type (exact dumps), errors (exact column
 * and message naming the key), times, CIDRs v4/v6, lists and ranges, escaping, the
 * evaluator's set semantics on a record shaped like a TLS + HTTP session, the SQL it
 * compiles to (text and parameters), time bounds, the SQLite layout and bounds on input. */
#include <arpa/inet.h>
#include <pthread.h>
#include <sqlite3.h>

#include "vk_test.h"

#include "query/vk_query.h"

#define T0 1385391358000LL /* 2013-11-25T14:55:58Z */

static char *dump_of(const char *text, int64_t now)
{
    struct vk_query_err e;
    struct vk_query *q = vk_query_parse(text, now, &e);
    if (!q) fail_msg("'%s' does not parse: %s", text, e.msg);
    char *d = vk_query_dump(q);
    vk_query_free(q);
    return d;
}

static void parse_and_dump(void **st)
{
    (void)st;
    static const char *const cases[][2] = {
        /* the brief's examples */
        {"service=http && ip.src=10.0.0.0/8 && alias.host contains 'update' && !exists file.sha256",
         "(and (= service \"http\") (= ip.src 10.0.0.0..10.255.255.255) (contains alias.host \"update\") "
         "(not (exists file.sha256)))"},
        {"port.dst=1-1024,8080 || threat.category='botnet'",
         "(or (= port.dst 1..1024 8080) (= threat.category \"botnet\"))"},
        {"time>-1h && http.status>=400", "(and (> time 2013-11-25T13:55:58.000Z) (>= http.status 400))"},
        /* precedence: ! > && > ||, and flattening */
        {"service=a || service=b && !service=c",
         "(or (= service \"a\") (and (= service \"b\") (not (= service \"c\"))))"},
        {"(service=a || service=b) || (service=c)", "(or (= service \"a\") (= service \"b\") (= service \"c\"))"},
        {"!(service=a && port.dst=1)", "(not (and (= service \"a\") (= port.dst 1)))"},
        {"!!exists vlan", "(not (not (exists vlan)))"},
        {"  SERVICE = http  ", "(= service \"http\")"},
        {"service!=http", "(not (= service \"http\"))"},
        /* lists and ranges */
        {"port.dst=22,80-90", "(= port.dst 22 80..90)"},
        {"port.dst = 22 , 443", "(= port.dst 22 443)"},
        {"port.dst='80'", "(= port.dst 80)"},
        {"asn.src=9223372036854775807", "(= asn.src 9223372036854775807)"},
        {"service=http,'ftp',\"smtp\"", "(= service \"http\" \"ftp\" \"smtp\")"},
        /* addresses */
        {"ip.src=10.1.2.3/8", "(= ip.src 10.0.0.0..10.255.255.255)"},
        {"ip.src=10.1.2.3/32", "(= ip.src 10.1.2.3)"},
        {"ip.src=0.0.0.0/0", "(= ip.src 0.0.0.0..255.255.255.255)"},
        {"ip.src=10.0.0.1-10.0.0.9", "(= ip.src 10.0.0.1..10.0.0.9)"},
        {"ip.src=::ffff:10.0.0.1", "(= ip.src 10.0.0.1)"},
        {"ip.dst=2001:db8::/32", "(= ip.dst 2001:db8::..2001:db8:ffff:ffff:ffff:ffff:ffff:ffff)"},
        {"ip.dst=2001:db8::1:2/127", "(= ip.dst 2001:db8::1:2..2001:db8::1:3)"},
        {"ip.dst=::/0", "(= ip.dst ::..ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff)"},
        {"ip.dst=fe80::1/128,::1", "(= ip.dst fe80::1 ::1)"},
        /* strings, escapes, case */
        {"http.uri contains 'a\\'b'", "(contains http.uri \"a'b\")"},
        {"http.uri contains \"a\\\"b\"", "(contains http.uri \"a\\\"b\")"},
        {"http.uri contains 'a\\\\b'", "(contains http.uri \"a\\\\b\")"},
        {"http.uri regex 'foo\\.com$'", "(regex http.uri \"foo\\\\.com$\")"},
        {"http.uri contains '%_'", "(contains http.uri \"%_\")"},
        {"http.uri contains ''", "(contains http.uri \"\")"},
        {"http.host == Foo", "(== http.host \"Foo\")"},
        {"http.host !== Foo", "(not (== http.host \"Foo\"))"},
        {"http.host CONTAINS_CS Foo && http.host begins_cs a && http.host ends_cs b && http.host regex_cs c",
         "(and (contains_cs http.host \"Foo\") (begins_cs http.host \"a\") (ends_cs http.host \"b\") "
         "(regex_cs http.host \"c\"))"},
        {"http.user_agent=Mozilla/5.0", "(= http.user_agent \"Mozilla/5.0\")"},
        {"http.host=\xc3\xa9t\xc3\xa9", "(= http.host \"\xc3\xa9t\xc3\xa9\")"},
        {"port.dst==80", "(= port.dst 80)"},
        /* times */
        {"time>=2013-11-25T14:55:58Z", "(>= time 2013-11-25T14:55:58.000Z)"},
        {"time<'2013-11-25 14:55'", "(< time 2013-11-25T14:55:00.000Z)"},
        {"time>=2013-11-25 14:55 && time<2013-11-26", "(and (>= time 2013-11-25T14:55:00.000Z) (< time 2013-11-26T00:00:00.000Z))"},
        {"time=1385391358", "(= time 2013-11-25T14:55:58.000Z)"},
        {"time=1385391358123", "(= time 2013-11-25T14:55:58.123Z)"},
        {"time>'2013-11-25T14:55:58.5+01:00'", "(> time 2013-11-25T13:55:58.500Z)"},
        {"time.end<=+30m", "(<= time.end 2013-11-25T15:25:58.000Z)"},
        {"time=2013-11-25-2013-11-26", "(= time 2013-11-25T00:00:00.000Z..2013-11-26T00:00:00.000Z)"},
        {"time=2013-11-25 10:00-2013-11-25 11:00", "(= time 2013-11-25T10:00:00.000Z..2013-11-25T11:00:00.000Z)"},
        {"time=-2h--1h", "(= time 2013-11-25T12:55:58.000Z..2013-11-25T13:55:58.000Z)"},
        {"tls.cert.not_before<now", "(< tls.cert.not_before 2013-11-25T14:55:58.000Z)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *d = dump_of(cases[i][0], T0);
        if (strcmp(d, cases[i][1]) != 0) fail_msg("%s\n got  %s\n want %s", cases[i][0], d, cases[i][1]);
        free(d);
    }
}

struct bad {
    const char *q;
    int pos;
    const char *msg;
};

static void parse_errors(void **st)
{
    (void)st;
    static const struct bad cases[] = {
        {"ip.scr=1", 1, "query: unknown key 'ip.scr' at column 1 (did you mean ip.src?)"},
        {"service=http && prot.dst=22", 17, "query: unknown key 'prot.dst' at column 17 (did you mean port.dst?)"},
        {"zzz=1", 1, "query: unknown key 'zzz' at column 1"},
        {"port.dst=abc", 10, "query: port.dst expects a number or a range like 1-1024, not 'abc' at column 10"},
        {"service=http && port.dst=80,abc", 29,
         "query: port.dst expects a number or a range like 1-1024, not 'abc' at column 29"},
        {"ip.src contains x", 8,
         "query: operator 'contains' does not apply to ip key 'ip.src' at column 8 (use = or != with an address, a "
         "CIDR or a range)"},
        {"ip.src<10.0.0.1", 7,
         "query: operator '<' does not apply to ip key 'ip.src' at column 7 (use = or != with an address, a CIDR "
         "or a range)"},
        {"http.host>5", 10, "query: operator '>' does not apply to string key 'http.host' at column 10"},
        {"port.dst contains 1", 10, "query: operator 'contains' does not apply to number key 'port.dst' at column 10"},
        {"time regex 1", 6, "query: operator 'regex' does not apply to time key 'time' at column 6"},
        {"port.dst<1,2", 12, "query: a list of values needs = or != (after 'port.dst') at column 12"},
        {"port.dst<1-5", 10, "query: port.dst expects a number, not '1-5' at column 10"},
        {"port.dst=1024-1", 10, "query: empty range '1024-1' for port.dst (write the low end first) at column 10"},
        {"port.dst=99999999999999999999", 10, "query: number out of range in '99999999999999999999' for port.dst at column 10"},
        {"port.dst=-1", 10, "query: port.dst expects a number or a range like 1-1024, not '-1' at column 10"},
        {"ip.src=10.0.0.0/33", 8, "query: ip.src expects an address, a CIDR or a range a-b, not '10.0.0.0/33' at column 8"},
        {"ip.src=10.0.0.9-10.0.0.1", 8,
         "query: empty range '10.0.0.9-10.0.0.1' for ip.src (write the low end first) at column 8"},
        {"ip.src=10.0.0", 8, "query: ip.src expects an address, a CIDR or a range a-b, not '10.0.0' at column 8"},
        {"time>1h", 6, "query: time expects a time, not '1h': unexpected text after the time at column 6"},
        {"time>-1y", 6,
         "query: time expects a time, not '-1y': a relative time needs a unit: ms, s, m, h, d or w at column 6"},
        {"time=2013-02-29", 6, "query: time expects a time or a range t1-t2, not '2013-02-29': no such date at column 6"},
        {"time=2013-11-26-2013-11-25", 6,
         "query: empty range '2013-11-26-2013-11-25' for time (write the early end first) at column 6"},
        {"service=", 9, "query: expected a value, found the end of the query at column 9"},
        {"service=&&x", 9, "query: expected a value (a word or a quoted string), found '&' at column 9"},
        {"service=http &&", 16, "query: unexpected end of query: expected a key, exists, ! or ( at column 16"},
        {"service=http && || x", 17, "query: expected a key, exists, ! or (, found '|' at column 17"},
        {"(service=http", 14, "query: missing ')' to close the '(' of column 1 at column 14"},
        {"service=http)", 13, "query: unbalanced ')' at column 13"},
        {"service=http & port.dst=1", 14, "query: unexpected '&' (write && or ||) at column 14"},
        {"service=http port.dst=1", 14, "query: unexpected 'p' after a term (missing && or ||?) at column 14"},
        {"service 'http'", 9,
         "query: expected an operator (=, !=, ==, <, <=, >, >=, contains, begins, ends, regex) after 'service' at "
         "column 9"},
        {"service like x", 9,
         "query: expected an operator (=, !=, ==, <, <=, >, >=, contains, begins, ends, regex) after 'service' at "
         "column 9"},
        {"service='http", 9, "query: unterminated string at column 9"},
        {"service='http\\'", 9, "query: unterminated string at column 9"},
        {"http.uri regex '(a)\\1'", 16, "query: bad regex '(a)\\1': back-references are not supported at column 16"},
        {"http.uri regex 'a{100}b{100}'", 16,
         "query: bad regex 'a{100}b{100}': repetition counts too large (their product passes 4096) at column 16"},
        {"http.uri regex 'a{,100}b{50,}'", 16,
         "query: bad regex 'a{,100}b{50,}': repetition counts too large (their product passes 4096) at column 16"},
        {"http.uri regex '(a'", 16, "query: bad regex '(a': Unmatched ( or \\( at column 16"},
        {"exists", 7, "query: exists needs a key at column 7"},
        {"exists ip.scr", 8, "query: unknown key 'ip.scr' at column 8 (did you mean ip.src?)"},
        {"!", 2, "query: unexpected end of query: expected a key, exists, ! or ( at column 2"},
        {"3service=a", 1, "query: expected a key, exists, ! or (, found '3' at column 1"},
        {"", 1, "query: empty query at column 1"},
        {"   ", 4, "query: empty query at column 4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct vk_query_err e;
        struct vk_query *q = vk_query_parse(cases[i].q, T0, &e);
        if (q) fail_msg("'%s' parsed", cases[i].q);
        if (e.pos != cases[i].pos || strcmp(e.msg, cases[i].msg) != 0)
            fail_msg("%s\n got  %d %s\n want %d %s", cases[i].q, e.pos, e.msg, cases[i].pos, cases[i].msg);
    }
}

static void parse_bounds(void **st)
{
    (void)st;
    struct vk_query_err e;
    size_t cap = VK_QUERY_MAX_LEN + 64;
    char *b = malloc(cap);
    assert_non_null(b);

    /* nesting: 64 levels parse, 65 do not */
    for (int depth = 64; depth <= 65; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) b[n++] = '(';
        n += (size_t)sprintf(b + n, "service=a");
        for (int i = 0; i < depth; i++) b[n++] = ')';
        b[n] = 0;
        struct vk_query *q = vk_query_parse(b, T0, &e);
        if (depth == 64) {
            assert_non_null(q);
            vk_query_free(q);
        } else {
            assert_null(q);
            assert_string_equal(e.msg, "query: nesting deeper than 64 at column 65");
        }
    }
    memset(b, '!', 65);
    strcpy(b + 65, "exists vlan");
    assert_null(vk_query_parse(b, T0, &e));
    assert_int_equal(e.pos, 65);

    /* one list: 1024 values parse, 1025 do not */
    size_t n = (size_t)sprintf(b, "port.dst=");
    for (int i = 0; i < 1025; i++) n += (size_t)sprintf(b + n, i ? ",%d" : "%d", i);
    assert_null(vk_query_parse(b, T0, &e));
    assert_string_equal(e.msg, "query: more than 1024 values in one list at column 4020");
    b[strlen(b) - 5] = 0; /* drop ",1024" */
    struct vk_query *q = vk_query_parse(b, T0, &e);
    assert_non_null(q);
    vk_query_free(q);

    /* terms: 512 parse, 513 do not */
    n = 0;
    for (int i = 0; i < 513; i++) n += (size_t)sprintf(b + n, i ? " || vlan=%d" : "vlan=%d", i);
    assert_null(vk_query_parse(b, T0, &e));
    assert_string_equal(e.msg, "query: more than 512 terms in one query at column 6035");

    /* length */
    memset(b, ' ', VK_QUERY_MAX_LEN + 1);
    memcpy(b, "vlan=1", 6);
    b[VK_QUERY_MAX_LEN + 1] = 0;
    assert_null(vk_query_parse(b, T0, &e));
    assert_string_equal(e.msg, "query: longer than 65536 bytes");
    b[VK_QUERY_MAX_LEN] = 0;
    q = vk_query_parse(b, T0, &e);
    assert_non_null(q);
    vk_query_free(q);
    free(b);
}

static void times(void **st)
{
    (void)st;
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        {"2013-11-25T14:55:58Z", T0},
        {"2013-11-25t14:55:58z", T0},
        {"2013-11-25T14:55:58", T0},
        {"2013-11-25 14:55", T0 - 58000},
        {"2013-11-25", 1385337600000LL},
        {"1385391358", T0},
        {"1385391358000", T0},
        {"1385391358.5", T0 + 500},
        {"1385391358.123456", T0 + 123},
        {"-1h", T0 - 3600000},
        {"-1d12h", T0 - 129600000},
        {"-90s", T0 - 90000},
        {"-500ms", T0 - 500},
        {"-1w", T0 - 604800000},
        {"+30m", T0 + 1800000},
        {"now", T0},
        {"2013-11-25T14:55:58.123456+01:00", T0 - 3600000 + 123},
        {"2013-11-25T14:55:58,5Z", T0 + 500},
        {"2013-11-25T09:55:58-0500", T0},
        {" 2013-11-25T14:55:58Z\t", T0},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1000},
        {"2016-02-29", 1456704000000LL},
        {"2000-02-29T23:59:59.999Z", 951868799999LL},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int64_t v = 0;
        struct vk_query_err e;
        if (vk_query_parse_time(good[i].s, T0, &v, &e) != 0) fail_msg("'%s': %s", good[i].s, e.msg);
        if (v != good[i].ms) fail_msg("'%s': %lld, want %lld", good[i].s, (long long)v, (long long)good[i].ms);
    }
    static const struct bad bad[] = {
        {"", 1,
         "bad time '' at column 1: expected a time: 2013-11-25T14:55:58Z, 2013-11-25 14:55, epoch seconds or ms, -1h "
         "or now"},
        {"yesterday", 1,
         "bad time 'yesterday' at column 1: expected a time: 2013-11-25T14:55:58Z, 2013-11-25 14:55, epoch seconds or "
         "ms, -1h or now"},
        {"2015-02-29", 1, "bad time '2015-02-29' at column 1: no such date"},
        {"2013-13-01", 1, "bad time '2013-13-01' at column 1: no such date"},
        {"2013-11-25T24:00", 1, "bad time '2013-11-25T24:00' at column 1: no such time of day"},
        {"2013-11-25T14", 1, "bad time '2013-11-25T14' at column 1: a time of day is HH:MM or HH:MM:SS"},
        {"2013-11-25T14:55:5", 1, "bad time '2013-11-25T14:55:5' at column 1: seconds are two digits"},
        {"-1x", 1, "bad time '-1x' at column 1: a relative time needs a unit: ms, s, m, h, d or w"},
        {"-h", 1, "bad time '-h' at column 1: a relative time is a sign, a number and a unit (-1h)"},
        {"-9999999999999w", 1, "bad time '-9999999999999w' at column 1: relative time out of range"},
        {"1385391358 x", 11, "bad time '1385391358 x' at column 11: unexpected text after the time"},
        {"99999999999999999999", 1, "bad time '99999999999999999999' at column 1: number out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v;
        struct vk_query_err e;
        if (vk_query_parse_time(bad[i].q, T0, &v, &e) == 0) fail_msg("'%s' parsed", bad[i].q);
        if (e.pos != bad[i].pos || strcmp(e.msg, bad[i].msg) != 0)
            fail_msg("%s\n got  %d %s\n want %d %s", bad[i].q, e.pos, e.msg, bad[i].pos, bad[i].msg);
    }
}

/* A record shaped like a corpus TLS session that also carried HTTP (values as the flow
 * and parsers write them: addresses as text, ports and status as numbers). */
static void session(struct vk_meta *m)
{
    uint8_t dst[16];
    vk_meta_init(m);
    vk_meta_add_uint(m, VK_K_TIME, T0);
    vk_meta_add_uint(m, VK_K_TIME_END, T0 + 5000);
    vk_meta_add_ip(m, VK_K_IP_SRC, 4, (const uint8_t *)"\x0a\x01\x02\x03");
    inet_pton(AF_INET6, "2001:db8::1", dst);
    vk_meta_add_ip(m, VK_K_IP_DST, 6, dst);
    vk_meta_add_uint(m, VK_K_PORT_SRC, 51234);
    vk_meta_add_uint(m, VK_K_PORT_DST, 443);
    vk_meta_add_cstr(m, VK_K_SERVICE, "tls");
    vk_meta_add_cstr(m, VK_K_SERVICE, "http");
    vk_meta_add_cstr(m, VK_K_ALIAS_HOST, "Update.Example.COM");
    vk_meta_add_cstr(m, VK_K_ALIAS_HOST, "cdn.example.net");
    vk_meta_add_cstr(m, VK_K_HTTP_URI, "/a%20b_c\\d");
    vk_meta_add_uint(m, VK_K_HTTP_STATUS, 404);
    vk_meta_add_uint(m, VK_K_ASN_SRC, UINT64_MAX);
    vk_meta_add_str(m, VK_K_TUNNEL_IP_SRC, "\xc0\xa8\x01\x01", 4); /* raw bytes: 192.168.1.1 */
    vk_meta_add_cstr(m, VK_K_DHCP_IP, "not an address");
    vk_meta_add_str(m, VK_K_USER, "bob\0hidden", 10);
}

static void evaluate(void **st)
{
    (void)st;
    struct vk_meta m;
    session(&m);
    static const struct {
        const char *q;
        bool want;
    } cases[] = {
        {"service=tls", true},
        {"service=TLS", true},
        {"service==TLS", false},
        {"service=tls && service=http", true},
        {"service!=tls", false}, /* some value is tls */
        {"service!=smtp", true},
        {"service=smtp,http", true},
        {"file.name=x", false},
        {"file.name!=x", true}, /* no value at all: != holds */
        {"!exists file.sha256", true},
        {"exists service && exists time && exists time.end", true},
        {"ip.src=10.0.0.0/8", true},
        {"ip.src=10.1.2.3", true},
        {"ip.src=::ffff:10.1.2.3", true},
        {"ip.src=10.1.2.4-10.1.2.9", false},
        {"ip.src=2001:db8::/32", false},
        {"ip.dst=2001:db8::/32", true},
        {"ip.dst=2001:db9::/32", false},
        {"ip.dst=2001:db8::1", true},
        {"tunnel.ip.src=192.168.0.0/16", true},
        {"exists dhcp.ip", false}, /* a value that is no address is no value */
        {"dhcp.ip!=1.2.3.4", true},
        {"port.dst=1-1024", true},
        {"port.dst=444-1024", false},
        {"port.dst=22,80-90,443", true},
        {"port.dst>=443 && port.dst<=443", true},
        {"port.dst>443 || port.dst<443", false},
        {"port.src>443 || port.dst>443", true},
        {"asn.src=9223372036854775807", true}, /* uint64 max is capped like SQLite's INTEGER */
        {"alias.host contains 'update'", true},
        {"alias.host contains_cs 'update'", false},
        {"alias.host contains_cs 'Update'", true},
        {"alias.host=update.example.com", true},
        {"alias.host==update.example.com", false},
        {"alias.host==Update.Example.COM", true},
        {"alias.host ends '.com'", true},
        {"alias.host ends_cs '.com'", false},
        {"alias.host begins CDN", true},
        {"alias.host begins_cs CDN", false},
        {"http.uri contains '%20b_'", true},
        {"http.uri contains '%21'", false},
        {"http.uri ends 'c\\\\d'", true},
        {"http.uri contains ''", true},
        {"http.host contains ''", false},
        {"http.uri regex '^/a%[0-9]+'", true},
        {"http.uri regex '^/A'", true},
        {"http.uri regex_cs '^/A'", false},
        {"http.uri regex 'c\\\\\\\\d$'", true},
        {"user=bob", true}, /* a string ends at its first NUL byte */
        {"user contains hidden", false},
        {"time=2013-11-25T14:55:58Z", true},
        {"time>-1h", true},
        {"time>-1s", false},
        {"time.end=1385391363", true},
        {"!(service=tls && port.dst=443) || http.status=404", true},
        {"(service=tls && port.dst=443) && !(http.status=400-499)", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct vk_query_err e;
        struct vk_query *q = vk_query_parse(cases[i].q, T0 + 1000, &e);
        if (!q) fail_msg("'%s': %s", cases[i].q, e.msg);
        if (vk_query_match(q, &m) != cases[i].want) fail_msg("'%s' should be %s", cases[i].q, cases[i].want ? "true" : "false");
        vk_query_free(q);
    }
    /* A record without time reads as time 0, time.end = time. */
    struct vk_meta none;
    vk_meta_init(&none);
    struct vk_query *q = vk_query_parse("time=0 && time.end=0 && exists time && !exists service", T0, NULL);
    assert_non_null(q);
    assert_true(vk_query_match(q, &none));
    vk_query_free(q);
    vk_meta_free(&none);
    vk_meta_free(&m);
}

struct mt {
    const struct vk_query *q;
    const struct vk_meta *m;
    int hits;
};
static void *mt_run(void *p)
{
    struct mt *t = p;
    for (int i = 0; i < 20000; i++) t->hits += vk_query_match(t->q, t->m);
    return NULL;
}

static void evaluate_threads(void **st)
{
    (void)st;
    struct vk_meta m;
    session(&m);
    struct vk_query *q = vk_query_parse("alias.host regex '^update\\.' && ip.src=10.0.0.0/8", T0, NULL);
    assert_non_null(q);
    struct mt t[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct mt){q, &m, 0};
        assert_int_equal(pthread_create(&th[i], NULL, mt_run, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].hits, 20000);
    }
    vk_query_free(q);
    vk_meta_free(&m);
}

static void sql_text_and_params(void **st)
{
    (void)st;
    struct vk_query_err e;
    struct vk_sql s;
    struct vk_query *q = vk_query_parse("port.dst=22,80-90 && !exists file.sha256 || time>=1385391358", T0, &e);
    assert_non_null(q);
    assert_int_equal(vk_query_sql(q, VK_SQL_SQLITE, &s, &e), 0);
    assert_string_equal(s.where, "((r.rid IN (SELECT p.rid FROM k_port_dst k, vk_rids(k.rids) p WHERE (v = ?1 OR v BETWEEN ?2 AND ?3)) AND "
                                 "NOT r.rid IN (SELECT p.rid FROM k_file_sha256 k, vk_rids(k.rids) p)) OR r.time >= ?4)");
    assert_int_equal(s.nparams, 4);
    int64_t want[] = {22, 80, 90, T0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s.params[i].type, VK_SQLP_INT);
        assert_int_equal(s.params[i].i, want[i]);
    }
    vk_sql_free(&s);
    assert_int_equal(vk_query_sql(q, VK_SQL_CLICKHOUSE, &s, &e), VK_EINVAL);
    assert_string_equal(e.msg, "query: the clickhouse dialect is not implemented yet");
    vk_query_free(q);

    /* strings: never in the text; folded BLOB needles for substring tests */
    q = vk_query_parse("http.uri contains 'A%_\\\\' && http.host=\"Evil' OR 1=1 --\" && http.host == X,y "
                       "&& http.uri ends_cs Z && http.uri begins q && http.uri regex '^a'",
                       T0, &e);
    assert_non_null(q);
    assert_int_equal(vk_query_sql(q, VK_SQL_SQLITE, &s, &e), 0);
    assert_string_equal(s.where,
                        "(r.rid IN (SELECT p.rid FROM k_http_uri k, vk_rids(k.rids) p WHERE instr(CAST(lower(v) AS BLOB), ?1) > 0) AND "
                        "r.rid IN (SELECT p.rid FROM k_http_host k, vk_rids(k.rids) p WHERE v = ?2) AND "
                        "r.rid IN (SELECT p.rid FROM k_http_host k, vk_rids(k.rids) p WHERE v COLLATE BINARY IN (?3, ?4)) AND "
                        "r.rid IN (SELECT p.rid FROM k_http_uri k, vk_rids(k.rids) p WHERE substr(CAST(v AS BLOB), ?5) = ?6) AND "
                        "r.rid IN (SELECT p.rid FROM k_http_uri k, vk_rids(k.rids) p WHERE substr(CAST(lower(v) AS BLOB), ?7, ?8) = ?9) AND "
                        "r.rid IN (SELECT p.rid FROM k_http_uri k, vk_rids(k.rids) p WHERE vk_iregexp(?10, v)))");
    assert_int_equal(s.nparams, 10);
    assert_int_equal(s.params[0].type, VK_SQLP_BLOB);
    assert_int_equal(s.params[0].n, 4);
    assert_memory_equal(s.params[0].p, "a%_\\", 4);
    assert_int_equal(s.params[1].type, VK_SQLP_TEXT);
    assert_string_equal(s.params[1].p, "Evil' OR 1=1 --");
    assert_string_equal(s.params[2].p, "X");
    assert_int_equal(s.params[4].i, -1);
    assert_memory_equal(s.params[5].p, "Z", 1);
    assert_int_equal(s.params[6].i, 1);
    assert_int_equal(s.params[7].i, 1);
    assert_string_equal(s.params[9].p, "^a");
    vk_sql_free(&s);
    vk_query_free(q);

    /* addresses: 16-byte blobs, IPv4 mapped */
    q = vk_query_parse("ip.src=10.0.0.0/8,::1", T0, &e);
    assert_int_equal(vk_query_sql(q, VK_SQL_SQLITE, &s, &e), 0);
    assert_string_equal(s.where, "r.rid IN (SELECT p.rid FROM k_ip_src k, vk_rids(k.rids) p WHERE (v = ?1 OR v BETWEEN ?2 AND ?3))");
    assert_memory_equal(s.params[0].p, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
    assert_memory_equal(s.params[1].p, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\0", 16);
    assert_memory_equal(s.params[2].p, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\xff\xff\xff", 16);
    vk_sql_free(&s);
    vk_query_free(q);
}

static void exec_stmt(void *ud, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(ud, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
}

/* Appends a complete binary tree of depth d of regex terms, alternating && and ||. */
static size_t binary_tree(char *b, int d)
{
    if (d == 0) return (size_t)sprintf(b, "http.uri regex 'a'");
    size_t n = 0;
    b[n++] = '(';
    n += binary_tree(b + n, d - 1);
    n += (size_t)sprintf(b + n, d & 1 ? " || " : " && ");
    n += binary_tree(b + n, d - 1);
    b[n++] = ')';
    return n;
}

/* The widest and deepest queries the bounds allow still prepare in SQLite: its expression
 * depth is capped at 1000, its parameters at 32766, and its parser stack at 100 entries,
 * which `(a AND (b OR (c AND ...` overflows at about 30 levels unless the compiler writes
 * the deepest child first. */
static void sql_limits(void **st)
{
    (void)st;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(vk_query_sql_ddl(VK_SQL_SQLITE, exec_stmt, db), 0);
    vk_query_sqlite_register(db);
    char *b = malloc(VK_QUERY_MAX_LEN + 1);
    const char *shapes[] = {" || ", " && "};
    for (int sh = 0; sh < 6; sh++) {
        size_t n = 0;
        if (sh < 2) { /* 512 terms in one chain */
            for (int i = 0; i < 512; i++) n += (size_t)sprintf(b + n, "%sport.dst=%d", i ? shapes[sh] : "", i);
        } else if (sh == 2) { /* 64 deep, and a list of 1024 ranges */
            for (int i = 0; i < 32; i++) b[n++] = '(', b[n++] = '!';
            n += (size_t)sprintf(b + n, "port.dst=");
            for (int i = 0; i < 1024; i++) n += (size_t)sprintf(b + n, "%s%d-%d", i ? "," : "", 2 * i, 2 * i + 1);
            for (int i = 0; i < 32; i++) b[n++] = ')';
        } else if (sh == 3) { /* (a && (b || (c && ... 64 deep, the deep child written last */
            for (int i = 0; i < 64; i++) n += (size_t)sprintf(b + n, "(port.dst=1,2-3 %s ", shapes[i & 1]);
            n += (size_t)sprintf(b + n, "http.uri regex 'a'");
            for (int i = 0; i < 64; i++) b[n++] = ')';
        } else if (sh == 4) { /* !(a && !(b || ... */
            for (int i = 0; i < 32; i++) n += (size_t)sprintf(b + n, "!(port.dst=1,2-3 %s ", shapes[i & 1]);
            n += (size_t)sprintf(b + n, "http.uri regex 'a'");
            for (int i = 0; i < 32; i++) b[n++] = ')';
        } else { /* a spine 55 deep over a complete binary tree 8 deep */
            for (int i = 0; i < 55; i++) n += (size_t)sprintf(b + n, "(vlan=1 %s ", shapes[i & 1]);
            n += binary_tree(b + n, 8);
            for (int i = 0; i < 55; i++) b[n++] = ')';
        }
        b[n] = 0;
        struct vk_query_err e;
        struct vk_query *q = vk_query_parse(b, T0, &e);
        if (!q) fail_msg("%s", e.msg);
        struct vk_sql s;
        assert_int_equal(vk_query_sql(q, VK_SQL_SQLITE, &s, &e), 0);
        char *sql = malloc(strlen(s.where) + 64);
        sprintf(sql, "SELECT rid FROM rec r WHERE %s", s.where);
        sqlite3_stmt *stm;
        if (sqlite3_prepare_v2(db, sql, -1, &stm, NULL) != SQLITE_OK) fail_msg("shape %d: %s", sh, sqlite3_errmsg(db));
        assert_int_equal(sqlite3_bind_parameter_count(stm), (int)s.nparams);
        sqlite3_finalize(stm);
        free(sql);
        vk_sql_free(&s);
        vk_query_free(q);
    }
    free(b);
    sqlite3_close(db);
}

struct ddl {
    int n, ci;
    char first[256], str[256], ip[256], id[256];
};
static void collect(void *ud, const char *sql)
{
    struct ddl *d = ud;
    if (d->n++ == 0) snprintf(d->first, sizeof d->first, "%s", sql);
    if (strstr(sql, "TABLE IF NOT EXISTS k_http_host(")) snprintf(d->str, sizeof d->str, "%s", sql);
    if (strstr(sql, "TABLE IF NOT EXISTS k_ip_src(")) snprintf(d->ip, sizeof d->ip, "%s", sql);
    if (strstr(sql, "TABLE IF NOT EXISTS k_id(")) snprintf(d->id, sizeof d->id, "%s", sql);
    if (strstr(sql, "CREATE INDEX IF NOT EXISTS k_") && strstr(sql, "_ci ON")) d->ci++;
}

static void layout(void **st)
{
    (void)st;
    assert_string_equal(vk_query_sql_table(VK_K_IP_SRC), "k_ip_src");
    assert_string_equal(vk_query_sql_table(VK_K_TLS_CERT_NOT_BEFORE), "k_tls_cert_not_before");
    assert_string_equal(vk_query_sql_table(VK_K_COMMUNITY_ID), "k_community_id");
    assert_null(vk_query_sql_table(VK_K_TIME));
    assert_null(vk_query_sql_table(VK_K_TIME_END));
    assert_null(vk_query_sql_table(VK_K__COUNT));

    struct ddl d = {0};
    assert_int_equal(vk_query_sql_ddl(VK_SQL_SQLITE, collect, &d), 0);
    int nstr = 0;
    for (int k = 0; k < VK_K__COUNT; k++) nstr += vk_key_info(k)->type == VK_T_STR;
    int nuniq = 0;
    for (int k = 0; k < VK_K__COUNT; k++) nuniq += vk_key_unique(k);
    /* rec, rec_time, two ANALYZEs of the schema table, a table per key, per string key its
     * NOCASE index (or for message, id and community_id, which have none, a DROP of one an
     * older version made), and a planner hint per batch-first table */
    assert_int_equal(d.n, 2 + 2 + (VK_K__COUNT - 2) + nstr + nuniq);
    assert_true(strstr(d.id, "PRIMARY KEY(b, v COLLATE BINARY)") != NULL); /* unique values: batch first */
    assert_true(strstr(d.str, "PRIMARY KEY(v COLLATE BINARY, b)") != NULL);
    assert_int_equal(d.ci, nstr - 3);
    assert_string_equal(d.first, "CREATE TABLE IF NOT EXISTS rec(rid INTEGER PRIMARY KEY, kind INTEGER NOT NULL, "
                                 "time INTEGER NOT NULL, time_end INTEGER NOT NULL, body BLOB NOT NULL)");
    assert_string_equal(d.str, "CREATE TABLE IF NOT EXISTS k_http_host(v TEXT COLLATE NOCASE, b INTEGER NOT NULL, "
                               "n INTEGER NOT NULL, rids BLOB NOT NULL, PRIMARY KEY(v COLLATE BINARY, b)) WITHOUT ROWID");
    assert_string_equal(d.ip, "CREATE TABLE IF NOT EXISTS k_ip_src(v BLOB, b INTEGER NOT NULL, n INTEGER NOT NULL, "
                              "rids BLOB NOT NULL, PRIMARY KEY(v, b)) WITHOUT ROWID");
    assert_int_equal(vk_query_sql_ddl(VK_SQL_CLICKHOUSE, collect, &d), VK_EINVAL);

    struct vk_meta m;
    session(&m);
    struct vk_sql_param p;
    int seen = 0;
    for (uint32_t i = 0; i < m.n; i++) {
        const struct vk_meta_item *it = &m.items[i];
        int rc = vk_query_sql_value(&m, it, &p);
        switch (it->key) {
        case VK_K_IP_SRC:
            assert_int_equal(rc, 0);
            assert_int_equal(p.type, VK_SQLP_BLOB);
            assert_int_equal(p.n, 16);
            assert_memory_equal(p.p, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03", 16);
            seen++;
            break;
        case VK_K_TUNNEL_IP_SRC:
            assert_int_equal(rc, 0);
            assert_memory_equal(p.p, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\xa8\x01\x01", 16);
            seen++;
            break;
        case VK_K_DHCP_IP: assert_int_equal(rc, VK_EINVAL), seen++; break;
        case VK_K_ASN_SRC:
            assert_int_equal(p.type, VK_SQLP_INT);
            assert_int_equal(p.i, INT64_MAX);
            seen++;
            break;
        case VK_K_USER:
            assert_int_equal(p.type, VK_SQLP_TEXT);
            assert_int_equal(p.n, 3);
            assert_ptr_equal(p.p, vk_meta_str(&m, it)); /* no copy */
            seen++;
            break;
        default: break;
        }
    }
    assert_int_equal(seen, 5);
    int64_t t, te;
    vk_query_rec_times(&m, &t, &te);
    assert_int_equal(t, T0);
    assert_int_equal(te, T0 + 5000);
    vk_meta_free(&m);
}

static void time_bounds(void **st)
{
    (void)st;
    static const struct {
        const char *q;
        bool bounded;
        int64_t lo, hi;
    } cases[] = {
        {"time>=1385391358 && time<1385391359", true, T0, T0 + 999},
        {"time>1385391358000 && service=http", true, T0 + 1, INT64_MAX},
        {"service=http", false, 0, 0},
        {"time>=1385391358 || service=http", false, 0, 0},
        {"time=1385391358,1385391360-1385391370", true, T0, T0 + 12000},
        {"(time<1385391358 || time>1385391360) && time<1385391400", true, INT64_MIN, T0 + 41999},
        {"!(time<1385391358)", false, 0, 0},
        {"time.end>1385391358", false, 0, 0},
        {"time>1385391360 && time<1385391358", true, INT64_MAX, INT64_MIN},
        {"time>-1h", true, T0 - 3600000 + 1, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct vk_query *q = vk_query_parse(cases[i].q, T0, NULL);
        assert_non_null(q);
        int64_t lo, hi;
        bool b = vk_query_time_bounds(q, &lo, &hi);
        if (b != cases[i].bounded || (b && (lo != cases[i].lo || hi != cases[i].hi)))
            fail_msg("%s: %d %lld %lld", cases[i].q, b, (long long)lo, (long long)hi);
        vk_query_free(q);
    }
}

/* The REGEXP functions registered on a connection, used directly. */
static void sqlite_functions(void **st)
{
    (void)st;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(vk_query_sqlite_register(db), 0);
    static const struct {
        const char *sql;
        int want;
    } cases[] = {
        {"SELECT 'Update.example' REGEXP '^Update\\.'", 1},
        {"SELECT 'update.example' REGEXP '^Update'", 0},
        {"SELECT vk_iregexp('^UPDATE', 'update.example')", 1},
        {"SELECT vk_regexp('x$', 'abx')", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db, cases[i].sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        if (sqlite3_column_int(s, 0) != cases[i].want) fail_msg("%s", cases[i].sql);
        sqlite3_finalize(s);
    }
    char *err = NULL;
    assert_int_not_equal(sqlite3_exec(db, "SELECT vk_regexp('(a)\\1', 'aa')", NULL, NULL, &err), SQLITE_OK);
    assert_string_equal(err, "regexp: back-references are not supported");
    sqlite3_free(err);
    sqlite3_close(db);
}

/* Posting lists: encode, read back through vk_rids(), and a cut list ends early. */
static void posting_lists(void **st)
{
    (void)st;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(vk_query_sqlite_register(db), 0);
    int64_t rids[] = {3, 5, 1000000, 1000001, (int64_t)1 << 40};
    uint8_t list[64];
    size_t n = vk_query_rids_encode(rids, 5, list);
    assert_int_equal(n, 1 + 1 + 3 + 1 + 6);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT rid FROM vk_rids(?1)", -1, &q, NULL), SQLITE_OK);
    for (size_t cut = n + 1; cut-- > 0;) {
        sqlite3_bind_blob(q, 1, list, (int)cut, SQLITE_STATIC);
        size_t got = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            assert_true(got < 5);
            assert_int_equal(sqlite3_column_int64(q, 0), rids[got]);
            got++;
        }
        /* whole varints only: a cut inside one drops it */
        size_t want = cut >= 12 ? 5 : cut >= 6 ? 4 : cut >= 5 ? 3 : cut >= 2 ? 2 : cut;
        assert_int_equal(got, want);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_dump),   cmocka_unit_test(parse_errors),     cmocka_unit_test(parse_bounds),
        cmocka_unit_test(times),            cmocka_unit_test(evaluate),         cmocka_unit_test(evaluate_threads),
        cmocka_unit_test(sql_text_and_params), cmocka_unit_test(sql_limits),    cmocka_unit_test(layout),
        cmocka_unit_test(time_bounds),      cmocka_unit_test(sqlite_functions),
        cmocka_unit_test(posting_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
