/* fuzz_query.c — libFuzzer harness for the query language: the input is query text.
 * Everything that takes a parsed query runs on it (dump, time bounds, SQL for both
 * dialects), and the query is evaluated on a few fixed records both in memory and in an
 * in-memory SQLite database built through the layout functions: a disagreement traps, so
 * the fuzzer also searches for evaluator/SQL differences. The input is also read as a
 * --from/--to time. */
#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "query/vk_query.h"

#define NREC 4
#define T0 1385391358000LL

static struct vk_meta recs[NREC];
static sqlite3 *db;

static void exec_stmt(void *ud, const char *sql) { sqlite3_exec(ud, sql, NULL, NULL, NULL); }

static void bind_param(sqlite3_stmt *st, int i, const struct vk_sql_param *p)
{
    if (p->type == VK_SQLP_INT) sqlite3_bind_int64(st, i, p->i);
    else if (p->type == VK_SQLP_TEXT) sqlite3_bind_text(st, i, p->p, (int)p->n, SQLITE_TRANSIENT);
    else sqlite3_bind_blob(st, i, p->p, (int)p->n, SQLITE_TRANSIENT);
}

static void setup(void)
{
    static const char *const hosts[] = {"Update.Example.COM", "cdn.example.net", "a%b_c\\d", "\xc3\x89t\xc3\xa9"};
    static const char *const ips[] = {"10.1.2.3", "2001:db8::1", "::ffff:192.168.1.1", "255.255.255.255"};
    sqlite3_open(":memory:", &db);
    vk_query_sqlite_register(db);
    vk_query_sql_ddl(VK_SQL_SQLITE, exec_stmt, db);
    for (int r = 0; r < NREC; r++) {
        struct vk_meta *m = &recs[r];
        vk_meta_init(m);
        vk_meta_add_uint(m, VK_K_TIME, (uint64_t)(T0 + r * 1000));
        if (r & 1) vk_meta_add_uint(m, VK_K_TIME_END, (uint64_t)(T0 + r * 7000));
        vk_meta_add_cstr(m, VK_K_IP_SRC, ips[r]);
        vk_meta_add_cstr(m, VK_K_IP_DST, ips[(r + 1) % NREC]);
        vk_meta_add_uint(m, VK_K_PORT_DST, r ? 443u * (unsigned)r : 0);
        vk_meta_add_uint(m, VK_K_HTTP_STATUS, 200 + 100u * (unsigned)r);
        vk_meta_add_cstr(m, VK_K_SERVICE, r & 2 ? "http" : "tls");
        vk_meta_add_cstr(m, VK_K_SERVICE, r & 1 ? "HTTP" : "dns");
        vk_meta_add_cstr(m, VK_K_ALIAS_HOST, hosts[r]);
        vk_meta_add_cstr(m, VK_K_ALIAS_HOST, hosts[(r + 2) % NREC]);
        vk_meta_add_cstr(m, VK_K_HTTP_URI, hosts[(r + 1) % NREC]);
        if (r == 2) vk_meta_add_uint(m, VK_K_ASN_SRC, UINT64_MAX);
        if (r == 3) vk_meta_add_cstr(m, VK_K_FILE_SHA256, "e3b0c44298fc1c149afbf4c8996fb924");

        int64_t t, te;
        vk_query_rec_times(m, &t, &te);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "INSERT INTO rec VALUES(?1, 0, ?2, ?3, X'')", -1, &st, NULL);
        sqlite3_bind_int(st, 1, r + 1);
        sqlite3_bind_int64(st, 2, t);
        sqlite3_bind_int64(st, 3, te);
        sqlite3_step(st);
        sqlite3_finalize(st);
        for (uint32_t i = 0; i < m->n; i++) {
            const char *tab = vk_query_sql_table(m->items[i].key);
            struct vk_sql_param v;
            if (!tab || vk_query_sql_value(m, &m->items[i], &v) < 0) continue;
            /* one posting list per value and record: batch b = the record's rid */
            char sql[160];
            int64_t rid = r + 1;
            uint8_t list[10];
            size_t ln = vk_query_rids_encode(&rid, 1, list);
            snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s(v, b, n, rids) VALUES(?1, ?2, 1, ?3)", tab);
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) abort(); /* the layout changed */
            bind_param(st, 1, &v);
            sqlite3_bind_int64(st, 2, rid);
            sqlite3_bind_blob(st, 3, list, (int)ln, SQLITE_TRANSIENT);
            if (sqlite3_step(st) != SQLITE_DONE) abort();
            sqlite3_finalize(st);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) setup();
    if (size > VK_QUERY_MAX_LEN + 16) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;

    int64_t t;
    struct vk_query_err e;
    vk_query_parse_time(text, T0, &t, &e);

    struct vk_query *q = vk_query_parse(text, T0, &e);
    if (!q) {
        if (e.pos < 0 || (size_t)e.pos > size + 1) __builtin_trap();
        free(text);
        return 0;
    }
    free(vk_query_dump(q));
    int64_t lo, hi;
    vk_query_time_bounds(q, &lo, &hi);
    struct vk_sql s;
    if (vk_query_sql(q, VK_SQL_CLICKHOUSE, &s, &e) == 0) vk_sql_free(&s);
    if (vk_query_sql(q, VK_SQL_SQLITE, &s, &e) == 0) {
        size_t n = strlen(s.where) + 64;
        char *sql = malloc(n);
        snprintf(sql, n, "SELECT rid FROM rec r WHERE %s", s.where);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) __builtin_trap(); /* we wrote bad SQL */
        for (size_t i = 0; i < s.nparams; i++) bind_param(st, (int)i + 1, &s.params[i]);
        bool hit[NREC] = {false};
        while (sqlite3_step(st) == SQLITE_ROW) hit[sqlite3_column_int(st, 0) - 1] = true;
        sqlite3_finalize(st);
        for (int r = 0; r < NREC; r++)
            if (vk_query_match(q, &recs[r]) != hit[r]) __builtin_trap(); /* evaluator and SQL disagree */
        free(sql);
        vk_sql_free(&s);
    }
    /* every conjunct compiles to valid SQL, and an estimate bounds what its term matches */
    for (size_t c = 0; c < vk_query_nconj(q); c++) {
        for (int est = 0; est < 2; est++) {
            if (vk_query_sql_conj(q, c, est, &s) != 0) continue;
            size_t n = strlen(s.where) + 64;
            char *sql = malloc(n);
            snprintf(sql, n, est ? "SELECT %s" : "SELECT count(*) FROM rec r WHERE %s", s.where);
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) __builtin_trap();
            for (size_t i = 0; i < s.nparams; i++) bind_param(st, (int)i + 1, &s.params[i]);
            if (sqlite3_step(st) != SQLITE_ROW) __builtin_trap();
            sqlite3_finalize(st);
            free(sql);
            vk_sql_free(&s);
        }
    }
    vk_query_free(q);
    free(text);
    return 0;
}
