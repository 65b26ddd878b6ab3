/* test_query_random.c — the evaluator and the SQL agree, on random records and queries.
 *
 * Random record sets (strings with %, _, backslash, quotes, mixed case, UTF-8 and broken
 * UTF-8, embedded NUL; numbers at the int64 edges and past them; IPv4 and IPv6 as text and
 * as raw bytes, and junk in ip keys; several values per key) are stored in an in-memory
 * SQLite database through vk_query_sql_ddl / vk_query_sql_table / vk_query_sql_value.
 * Random queries from the grammar (every operator, lists, ranges, CIDRs, the time forms,
 * !, &&, ||, exists) are parsed, compiled, and `SELECT rid FROM rec r WHERE <where>` must
 * return exactly the records vk_query_match accepts.
 *
 * Seeded: VK_QUERY_SEED (default 1), VK_QUERY_CASES queries (default 10000). A failure
 * prints the seed, the query, its dump and SQL, and the records on which the two differ. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <time.h>

#include "vk_test.h"

#include "query/vk_query.h"

/* ---- randomness ------------------------------------------------------------------------- */

static uint64_t rng;
static uint64_t rnd(void)
{ /* splitmix64 */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }
static bool coin(unsigned pct) { return rn(100) < pct; }

/* ---- the record model ------------------------------------------------------------------- */

#define NREC 24
#define T0 1385391358000LL /* 2013-11-25T14:55:58Z */
#define NOW (T0 + 3600000LL)

static const enum vk_key str_keys[] = {VK_K_SERVICE, VK_K_ALIAS_HOST, VK_K_HTTP_URI, VK_K_TLS_SNI, VK_K_COMMUNITY_ID};
static const enum vk_key num_keys[] = {VK_K_PORT_DST, VK_K_HTTP_STATUS, VK_K_ASN_SRC, VK_K_PORT_SRC};
static const enum vk_key ip_keys[] = {VK_K_IP_SRC, VK_K_IP_DST};
static const enum vk_key time_keys[] = {VK_K_TIME, VK_K_TIME_END, VK_K_TLS_CERT_NOT_BEFORE};
#define N(a) (sizeof a / sizeof *a)

static const char *const frags[] = {"a", "A", "b", "B", "%", "_", "\\", "'", "\"", "\xc3\xa9", "\xc3\x89",
                                    "x.y", "Up", "uP", " ", "\xc3", "\xff", "-", ",", "com", "COM", "*"};
static const uint64_t nums[] = {0, 1, 2, 79, 80, 81, 443, 1023, 1024, 1025, 65535, 65536,
                                INT64_MAX - 1, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
static const char *const ips[] = {"10.0.0.1", "10.0.0.255", "10.1.2.3", "192.168.1.1", "0.0.0.0",
                                  "255.255.255.255", "9.255.255.255", "11.0.0.0", "::1", "::",
                                  "2001:db8::1", "2001:db8:ffff::", "fe80::1", "::ffff:10.0.0.2",
                                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1::2"};
static const int64_t toffs[] = {0, 1, -1, 999, 1000, -1000, 3600000, -3600000, 86400000, 123};

static struct vk_meta recs[NREC];

static void rand_str(char *out, size_t *n)
{
    size_t k = 0;
    for (unsigned i = rn(5); i > 0; i--) {
        const char *f = frags[rn(N(frags))];
        size_t l = strlen(f);
        memcpy(out + k, f, l);
        k += l;
    }
    *n = k;
}

static void make_records(void)
{
    for (int r = 0; r < NREC; r++) {
        struct vk_meta *m = &recs[r];
        vk_meta_reset(m);
        if (coin(90)) vk_meta_add_uint(m, VK_K_TIME, (uint64_t)(T0 + toffs[rn(N(toffs))]));
        if (coin(70)) vk_meta_add_uint(m, VK_K_TIME_END, (uint64_t)(T0 + toffs[rn(N(toffs))] + 5000));
        for (size_t k = 0; k < N(str_keys); k++) {
            if (!coin(60)) continue;
            for (unsigned v = 1 + rn(3); v > 0; v--) {
                char s[64];
                size_t n;
                rand_str(s, &n);
                if (coin(3) && n + 3 < sizeof s) memcpy(s + n, "\0zz", 3), n += 3; /* NUL inside */
                vk_meta_add_str(m, str_keys[k], s, n);
            }
        }
        for (size_t k = 0; k < N(num_keys); k++) {
            if (!coin(60)) continue;
            for (unsigned v = 1 + rn(3); v > 0; v--)
                vk_meta_add_uint(m, num_keys[k], coin(80) ? nums[rn(N(nums))] : rnd() >> rn(64));
        }
        for (size_t k = 0; k < N(ip_keys); k++) {
            if (!coin(70)) continue;
            for (unsigned v = 1 + rn(2); v > 0; v--) {
                const char *t = ips[rn(N(ips))];
                uint8_t a[16];
                unsigned how = rn(10);
                if (how == 0) { /* raw bytes, as the brief's binary form */
                    bool v6 = strchr(t, ':') != NULL;
                    inet_pton(v6 ? AF_INET6 : AF_INET, t, a);
                    vk_meta_add_str(m, ip_keys[k], (const char *)a, v6 ? 16 : 4);
                } else if (how == 1) {
                    vk_meta_add_cstr(m, ip_keys[k], "not-an-ip");
                } else {
                    vk_meta_add_cstr(m, ip_keys[k], t);
                }
            }
        }
        if (coin(40)) vk_meta_add_uint(m, VK_K_TLS_CERT_NOT_BEFORE, (uint64_t)(T0 + toffs[rn(N(toffs))]));
    }
}

/* ---- the database ------------------------------------------------------------------------- */

static void exec_stmt(void *ud, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(ud, sql, NULL, NULL, &e) != SQLITE_OK) fail_msg("%s: %s", sql, e);
}

static void bind_param(sqlite3_stmt *st, int i, const struct vk_sql_param *p)
{
    int rc = SQLITE_ERROR;
    switch (p->type) {
    case VK_SQLP_INT: rc = sqlite3_bind_int64(st, i, p->i); break;
    case VK_SQLP_TEXT: rc = sqlite3_bind_text(st, i, p->p, (int)p->n, SQLITE_TRANSIENT); break;
    case VK_SQLP_BLOB: rc = sqlite3_bind_blob(st, i, p->p, (int)p->n, SQLITE_TRANSIENT); break;
    }
    assert_int_equal(rc, SQLITE_OK);
}

static sqlite3 *load_db(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(vk_query_sqlite_register(db), 0);
    assert_int_equal(vk_query_sql_ddl(VK_SQL_SQLITE, exec_stmt, db), 0);
    sqlite3_stmt *ins;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO rec(rid, kind, time, time_end, body) VALUES(?1, 0, ?2, ?3, X'')",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    /* index rows as the store writes them: one posting list per exact value and batch
     * (batches of 5 records, so lists hold several rids) */
    struct ent {
        const char *tab;
        struct vk_sql_param v;
        uint8_t *bytes;
        int64_t rids[5];
        size_t n;
    } ents[5 * 64];
    size_t nent = 0;
    for (int r = 0; r < NREC; r++) {
        int64_t t, te;
        vk_query_rec_times(&recs[r], &t, &te);
        sqlite3_bind_int(ins, 1, r + 1);
        sqlite3_bind_int64(ins, 2, t);
        sqlite3_bind_int64(ins, 3, te);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        for (uint32_t i = 0; i < recs[r].n; i++) {
            const struct vk_meta_item *it = &recs[r].items[i];
            const char *tab = vk_query_sql_table(it->key);
            struct vk_sql_param v;
            if (!tab || vk_query_sql_value(&recs[r], it, &v) < 0) continue;
            size_t e;
            for (e = 0; e < nent; e++)
                if (ents[e].tab == tab && ents[e].v.type == v.type && ents[e].v.i == v.i && ents[e].v.n == v.n &&
                    (!v.n || memcmp(ents[e].bytes, v.p, v.n) == 0))
                    break;
            if (e == nent) {
                assert_true(nent < sizeof ents / sizeof *ents);
                ents[e].tab = tab;
                ents[e].v = v;
                ents[e].bytes = malloc(v.n ? v.n : 1);
                if (v.n) memcpy(ents[e].bytes, v.p, v.n);
                ents[e].v.p = (char *)ents[e].bytes;
                ents[e].n = 0;
                nent++;
            }
            if (!ents[e].n || ents[e].rids[ents[e].n - 1] != r + 1) ents[e].rids[ents[e].n++] = r + 1;
        }
        if ((r + 1) % 5 && r + 1 < NREC) continue;
        for (size_t e = 0; e < nent; e++) {
            char sql[128];
            sqlite3_stmt *st;
            uint8_t list[64];
            size_t ln = vk_query_rids_encode(ents[e].rids, ents[e].n, list);
            snprintf(sql, sizeof sql, "INSERT INTO %s(v, b, n, rids) VALUES(?1, ?2, ?3, ?4)", ents[e].tab);
            assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
            bind_param(st, 1, &ents[e].v);
            sqlite3_bind_int(st, 2, r / 5);
            sqlite3_bind_int(st, 3, (int)ents[e].n);
            sqlite3_bind_blob(st, 4, list, (int)ln, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
            free(ents[e].bytes);
        }
        nent = 0;
    }
    sqlite3_finalize(ins);
    return db;
}

/* ---- query text ----------------------------------------------------------------------------- */

struct qb {
    char p[8192];
    size_t n;
};
static void qput(struct qb *b, const char *s)
{
    size_t l = strlen(s);
    if (b->n + l < sizeof b->p) memcpy(b->p + b->n, s, l + 1), b->n += l;
}
static void qputn(struct qb *b, const char *s, size_t l)
{
    if (b->n + l < sizeof b->p) memcpy(b->p + b->n, s, l), b->n += l, b->p[b->n] = 0;
}
static void sp(struct qb *b)
{
    if (coin(40)) qput(b, " ");
}

/* A string some record holds (cut and case-flipped) or a fresh one. */
static void pick_str(enum vk_key k, char *out, size_t *n)
{
    if (coin(65)) {
        for (int tries = 0; tries < 8; tries++) {
            const struct vk_meta *m = &recs[rn(NREC)];
            for (uint32_t i = 0; i < m->n; i++) {
                const struct vk_meta_item *it = &m->items[i];
                if (it->key != k || !coin(50)) continue;
                size_t len = it->len, a = 0, e = len;
                const char *s = vk_meta_str(m, it);
                if (coin(50) && len) a = rn((unsigned)len), e = a + rn((unsigned)(len - a) + 1);
                size_t o = 0;
                for (size_t j = a; j < e && j < a + 40; j++) {
                    char c = s[j];
                    if (c == 0) c = 'z';
                    if (coin(30) && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) c ^= 0x20;
                    out[o++] = c;
                }
                *n = o;
                return;
            }
        }
    }
    rand_str(out, n);
}

static void put_quoted(struct qb *b, const char *s, size_t n)
{
    char q = coin(50) ? '\'' : '"';
    char qs[2] = {q, 0};
    qput(b, qs);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == q || (s[i] == (q == '\'' ? '"' : '\'') && coin(30))) qput(b, "\\");
        qputn(b, s + i, 1);
    }
    qput(b, qs);
}

static bool bare_ok(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || strchr(",()'\"!&|=<>", c)) return false;
    }
    return true;
}

static void put_value(struct qb *b, const char *s, size_t n)
{
    if (bare_ok(s, n) && coin(50)) qputn(b, s, n);
    else put_quoted(b, s, n);
}

static void put_num(struct qb *b)
{
    char s[64];
    uint64_t v = coin(80) ? nums[rn(N(nums))] : rnd() >> rn(64);
    if (v > (uint64_t)INT64_MAX) v = (uint64_t)INT64_MAX - rn(3);
    snprintf(s, sizeof s, "%" PRIu64, v);
    qput(b, s);
}

static void put_time(struct qb *b)
{
    char s[64];
    int64_t t = T0 + toffs[rn(N(toffs))] + (coin(30) ? 5000 : 0);
    switch (rn(5)) {
    case 0: snprintf(s, sizeof s, "%" PRId64, t); break;
    case 1: /* epoch seconds, fraction when needed */
        if (t % 1000) snprintf(s, sizeof s, "%" PRId64 ".%03d", t / 1000, (int)(t % 1000));
        else snprintf(s, sizeof s, "%" PRId64, t / 1000);
        break;
    case 2: { /* ISO */
        time_t sec = (time_t)(t / 1000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(s, sizeof s, coin(50) ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
        size_t l = strlen(s);
        snprintf(s + l, sizeof s - l, ".%03dZ", (int)(t % 1000));
        break;
    }
    case 3: { /* relative to NOW, ms */
        int64_t d = NOW - t;
        snprintf(s, sizeof s, d >= 0 ? "-%" PRId64 "ms" : "+%" PRId64 "ms", d >= 0 ? d : -d);
        break;
    }
    default: snprintf(s, sizeof s, "%s", coin(50) ? "now" : "-1h"); break;
    }
    qput(b, s);
}

static void put_ip(struct qb *b)
{
    const char *a = ips[rn(N(ips))], *c = ips[rn(N(ips))];
    char s[128];
    switch (rn(4)) {
    case 0: qput(b, a); return;
    case 1: {
        bool v6 = strchr(a, ':') != NULL;
        snprintf(s, sizeof s, "%s/%u", a, rn(v6 ? 129 : 33));
        qput(b, s);
        return;
    }
    default: { /* range, low end first */
        uint8_t x[16], y[16];
        struct vk_meta t;
        vk_meta_init(&t);
        vk_meta_add_cstr(&t, VK_K_IP_SRC, a);
        vk_meta_add_cstr(&t, VK_K_IP_SRC, c);
        struct vk_sql_param p1, p2;
        vk_query_sql_value(&t, &t.items[0], &p1);
        memcpy(x, p1.ip, 16);
        if (t.n > 1) vk_query_sql_value(&t, &t.items[1], &p2), memcpy(y, p2.ip, 16);
        else memcpy(y, x, 16);
        vk_meta_free(&t);
        if (memcmp(x, y, 16) > 0) {
            const char *z = a;
            a = c;
            c = z;
        }
        snprintf(s, sizeof s, "%s-%s", a, c);
        qput(b, s);
    }
    }
}

static const char *const regexes[] = {"^a", "b$", "a.b", "[%_]", "(a|b)c", "x\\.y", "^$", "\\\\", "'",
                                      "\xc3\xa9", "up", "^.?.?$", "c[o0]m", "[[:upper:]]", "%.*_"};

static void gen_term(struct qb *b)
{
    unsigned kind = rn(100);
    if (kind < 10) {
        static const enum vk_key any[] = {VK_K_SERVICE, VK_K_HTTP_URI, VK_K_PORT_DST, VK_K_IP_SRC,
                                          VK_K_TIME, VK_K_TIME_END, VK_K_TLS_CERT_NOT_BEFORE, VK_K_ASN_SRC};
        if (coin(50)) qput(b, "!");
        qput(b, "exists ");
        qput(b, vk_key_info(any[rn(N(any))])->name);
        return;
    }
    unsigned t = rn(4);
    if (t == 0) { /* strings */
        enum vk_key k = str_keys[rn(N(str_keys))];
        static const char *const ops[] = {"=", "!=", "==", "!==", " contains ", " begins ", " ends ",
                                          " contains_cs ", " begins_cs ", " ends_cs ", " regex ", " regex_cs "};
        const char *op = ops[rn(N(ops))];
        qput(b, vk_key_info(k)->name);
        if (op[0] != ' ') sp(b);
        qput(b, op);
        if (op[0] != ' ') sp(b);
        if (strstr(op, "regex")) {
            const char *re = regexes[rn(N(regexes))];
            put_quoted(b, re, strlen(re));
            return;
        }
        unsigned nv = strchr(op, '=') && coin(30) ? 2 + rn(3) : 1;
        for (unsigned i = 0; i < nv; i++) {
            char s[128];
            size_t n;
            if (i) qput(b, coin(50) ? "," : " , ");
            pick_str(k, s, &n);
            put_value(b, s, n);
        }
        return;
    }
    bool ip = t == 1, tm = t == 2;
    enum vk_key k = ip ? ip_keys[rn(N(ip_keys))] : tm ? time_keys[rn(N(time_keys))] : num_keys[rn(N(num_keys))];
    static const char *const ops[] = {"=", "!=", "==", "<", "<=", ">", ">="};
    const char *op = ops[rn(ip ? 3 : N(ops))];
    qput(b, vk_key_info(k)->name);
    sp(b);
    qput(b, op);
    sp(b);
    bool eq = strchr(op, '=') && !strchr("<>", op[0]);
    unsigned nv = eq && coin(40) ? 2 + rn(3) : 1;
    for (unsigned i = 0; i < nv; i++) {
        if (i) qput(b, ",");
        if (ip) {
            put_ip(b);
        } else if (tm) {
            bool q = coin(30);
            if (q) qput(b, "'");
            put_time(b);
            if (eq && coin(30)) {
                qput(b, "-");
                put_time(b); /* may be an empty range: then the parse fails and the case is retried */
            }
            if (q) qput(b, "'");
        } else {
            put_num(b);
            if (eq && coin(30)) {
                qput(b, "-");
                put_num(b);
            }
        }
    }
}

static void gen(struct qb *b, int depth)
{
    unsigned c = depth > 3 ? 100 : rn(100);
    if (c < 20) {
        qput(b, "(");
        gen(b, depth + 1);
        sp(b);
        qput(b, coin(50) ? "&&" : "||");
        sp(b);
        gen(b, depth + 1);
        if (coin(30)) {
            qput(b, coin(50) ? " && " : " || ");
            gen(b, depth + 1);
        }
        qput(b, ")");
    } else if (c < 30) {
        gen(b, depth + 1);
        qput(b, coin(50) ? " && " : " || ");
        gen(b, depth + 1);
    } else if (c < 38) {
        qput(b, "!");
        if (coin(50)) {
            qput(b, "(");
            gen(b, depth + 1);
            qput(b, ")");
        } else {
            gen_term(b);
        }
    } else {
        gen_term(b);
    }
}

/* ---- the check -------------------------------------------------------------------------------- */

static void report(const char *text, const struct vk_query *q, const struct vk_sql *s, const bool *sql_hit,
                   uint64_t seed, long cs)
{
    char *d = vk_query_dump(q);
    print_error("seed %" PRIu64 " case %ld\nquery: %s\ndump: %s\nsql: %s\n", seed, cs, text, d, s->where);
    free(d);
    for (int r = 0; r < NREC; r++) {
        bool e = vk_query_match(q, &recs[r]);
        if (e == sql_hit[r]) continue;
        struct vk_json j;
        vk_json_init(&j);
        vk_json_meta(&j, &recs[r]);
        print_error("rid %d: evaluator %d, sql %d: %s\n", r + 1, e, sql_hit[r], j.p);
        vk_json_free(&j);
    }
}

static void evaluator_equals_sql(void **st)
{
    (void)st;
    const char *es = getenv("VK_QUERY_SEED"), *ec = getenv("VK_QUERY_CASES");
    uint64_t seed = es ? strtoull(es, NULL, 0) : 1;
    long cases = ec ? strtol(ec, NULL, 0) : 10000;
    rng = seed;
    for (int r = 0; r < NREC; r++) vk_meta_init(&recs[r]);
    long done = 0, parsed_fail = 0, hits = 0, total = 0;
    sqlite3 *db = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (done < cases) {
        if (done % 100 == 0 || !db) {
            if (db) sqlite3_close(db);
            make_records();
            db = load_db();
        }
        struct qb b = {.n = 0};
        b.p[0] = 0;
        gen(&b, 0);
        struct vk_query_err err;
        struct vk_query *q = vk_query_parse(b.p, NOW, &err);
        if (!q) {
            /* Only empty ranges (random ends in the wrong order) may fail. */
            if (!strstr(err.msg, "empty range")) fail_msg("generated query does not parse: %s\n%s", b.p, err.msg);
            parsed_fail++;
            continue;
        }
        struct vk_sql s;
        assert_int_equal(vk_query_sql(q, VK_SQL_SQLITE, &s, &err), 0);
        char sql[65536];
        snprintf(sql, sizeof sql, "SELECT rid FROM rec r WHERE %s ORDER BY rid", s.where);
        sqlite3_stmt *stm;
        if (sqlite3_prepare_v2(db, sql, -1, &stm, NULL) != SQLITE_OK)
            fail_msg("prepare: %s\n%s\nquery: %s", sqlite3_errmsg(db), sql, b.p);
        for (size_t i = 0; i < s.nparams; i++) bind_param(stm, (int)i + 1, &s.params[i]);
        bool sql_hit[NREC] = {false};
        int rc;
        while ((rc = sqlite3_step(stm)) == SQLITE_ROW) sql_hit[sqlite3_column_int(stm, 0) - 1] = true;
        if (rc != SQLITE_DONE) fail_msg("step: %s\nquery: %s", sqlite3_errmsg(db), b.p);
        sqlite3_finalize(stm);
        for (int r = 0; r < NREC; r++) {
            bool e = vk_query_match(q, &recs[r]);
            hits += e;
            total++;
            if (e != sql_hit[r]) {
                report(b.p, q, &s, sql_hit, seed, done);
                fail_msg("evaluator and SQL disagree");
            }
        }
        vk_sql_free(&s);
        vk_query_free(q);
        done++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sqlite3_close(db);
    for (int r = 0; r < NREC; r++) vk_meta_free(&recs[r]);
    printf("query random: seed %" PRIu64 ", %ld queries (%ld regenerated), %.1f%% record matches, %.2f s\n", seed,
           done, parsed_fail, 100.0 * (double)hits / (double)(total ? total : 1),
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* Both outcomes must be common, or the test checks little. */
    assert_true(hits > total / 20 && hits < total - total / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(evaluator_equals_sql)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
