/* query_sql.c — the AST as a SQL boolean expression, and the physical layout it targets.
 *
 * The walk over AND/OR/NOT is shared; what a term becomes is a dialect's business (struct
 * dialect: SQLite now, ClickHouse later). In SQLite every key but time and time.end has a
 * table k_<key>(v, b, n, rids): per value and write batch, the list of records that hold
 * it (a posting list, query_rids.c), so a term is
 * `r.rid IN (SELECT p.rid FROM k_<key> k, vk_rids(k.rids) p WHERE <condition on v>)`:
 * "any value satisfies", and
 * its negation "no value satisfies", exactly as the evaluator reads a record. Values are
 * always bound parameters. String conditions are written so that SQLite compares bytes
 * exactly as query_eval.c does: NOCASE and lower() fold ASCII only, and substring tests run
 * on BLOBs (instr/substr on TEXT would step over UTF-8 characters, not bytes).
 * Also here: the DDL of that layout, how one meta value is stored, and the REGEXP
 * functions registered on a connection. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "query_int.h"

/* ---- the layout --------------------------------------------------------------------------- */

static char table_names[VK_K__COUNT][64];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
    for (int k = 0; k < VK_K__COUNT; k++) {
        const char *n = vk_key_info(k)->name;
        size_t i = 0;
        table_names[k][i++] = 'k';
        table_names[k][i++] = '_';
        for (; *n && i < sizeof table_names[k] - 1; n++) table_names[k][i++] = (*n == '.' || *n == '-') ? '_' : *n;
        table_names[k][i] = 0;
    }
}

const char *vk_query_sql_table(enum vk_key k)
{
    if ((unsigned)k >= VK_K__COUNT || k == VK_K_TIME || k == VK_K_TIME_END) return NULL;
    pthread_once(&table_once, tables_init);
    return table_names[k];
}

int vk_query_sql_ddl(enum vk_sql_dialect d, void (*stmt)(void *ud, const char *sql), void *ud)
{
    if (d != VK_SQL_SQLITE) return VK_EINVAL;
    char sql[512];
    stmt(ud, "CREATE TABLE IF NOT EXISTS rec(rid INTEGER PRIMARY KEY, kind INTEGER NOT NULL, "
             "time INTEGER NOT NULL, time_end INTEGER NOT NULL, body BLOB NOT NULL)");
    stmt(ud, "CREATE INDEX IF NOT EXISTS rec_time ON rec(time)");
    /* sqlite_stat1 (made by analysing the tiny schema table) carries the planner hints below */
    stmt(ud, "ANALYZE sqlite_schema");
    for (int k = 0; k < VK_K__COUNT; k++) {
        const char *t = vk_query_sql_table(k);
        if (!t) continue;
        enum vk_type ty = vk_key_info(k)->type;
        /* b: the write batch (its first rid); n: records in the list; rids: the list.
         * A key whose values are nearly unique per record is laid out batch first, so a
         * batch appends its lists at the end of the table instead of one insert at a
         * random place per record; a lookup then seeks once per batch (a skip-scan, which
         * the sqlite_stat1 row written below asks the planner for). Other keys are laid
         * out value first. */
        bool bmajor = vk_key_unique((enum vk_key)k);
        if (ty == VK_T_STR) {
            /* The key is BINARY so that values differing only in case stay distinct rows
             * (`==`, *_cs and regex_cs need them); the NOCASE index serves `=`. */
            snprintf(sql, sizeof sql,
                     "CREATE TABLE IF NOT EXISTS %.63s(v TEXT COLLATE NOCASE, b INTEGER NOT NULL, n INTEGER NOT NULL, "
                     "rids BLOB NOT NULL, PRIMARY KEY(%s)) WITHOUT ROWID",
                     t, bmajor ? "b, v COLLATE BINARY" : "v COLLATE BINARY, b");
            stmt(ud, sql);
            /* free text (a log event's message) is searched with contains/regex, which scan
             * anyway, and identifiers compare exactly: no second index on them, whose
             * upkeep would be paid by every record */
            if (k == VK_K_MESSAGE || vk_key_exact(k)) {
                snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %.63s_ci", t); /* made by older versions */
            } else {
                snprintf(sql, sizeof sql, "CREATE INDEX IF NOT EXISTS %.63s_ci ON %.63s(v)", t, t);
            }
        } else {
            snprintf(sql, sizeof sql,
                     "CREATE TABLE IF NOT EXISTS %.63s(v %s, b INTEGER NOT NULL, n INTEGER NOT NULL, rids BLOB NOT NULL, "
                     "PRIMARY KEY(%s)) WITHOUT ROWID",
                     t, ty == VK_T_IP ? "BLOB" : "INTEGER", bmajor ? "b, v" : "v, b");
        }
        stmt(ud, sql);
        if (bmajor) {
            /* many lists per batch, one per (batch, value); only for a table made batch
             * first (an older data directory keeps its value-first tables, hint-free) */
            snprintf(sql, sizeof sql,
                     "INSERT OR REPLACE INTO sqlite_stat1(tbl, idx, stat) SELECT '%.63s', '%.63s', '1000000 20000 1' "
                     "WHERE EXISTS (SELECT 1 FROM sqlite_schema WHERE name = '%.63s' AND sql LIKE '%%PRIMARY KEY(b, v%%')",
                     t, t, t);
            stmt(ud, sql);
        }
    }
    stmt(ud, "ANALYZE sqlite_schema"); /* load the hints into this connection */
    return 0;
}

int vk_query_sql_value(const struct vk_meta *m, const struct vk_meta_item *it, struct vk_sql_param *out)
{
    const struct vk_keyinfo *ki = vk_key_info(it->key);
    if (!ki) return VK_EINVAL;
    out->i = 0;
    out->p = NULL;
    out->n = 0;
    switch (ki->type) {
    case VK_T_UINT:
    case VK_T_TIME:
        out->type = VK_SQLP_INT;
        out->i = vk_query_item_num(it);
        return 0;
    case VK_T_STR:
        out->type = VK_SQLP_TEXT;
        out->p = (char *)vk_query_item_str(m, it, &out->n);
        return 0;
    case VK_T_IP:
        if (!vk_query_item_ip(m, it, out->ip)) return VK_EINVAL;
        out->type = VK_SQLP_BLOB;
        out->p = (char *)out->ip;
        out->n = 16;
        return 0;
    }
    return VK_EINVAL;
}

/* ---- the SQL text builder ------------------------------------------------------------------ */

struct sb {
    char *p;
    size_t len, cap;
    struct vk_sql_param *prm;
    size_t np, pcap;
    bool oom;
    bool estimate; /* a term becomes the size of its posting lists (vk_query_sql_conj) */
};

static void put(struct sb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 512;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

__attribute__((format(printf, 2, 3))) static void putf(struct sb *b, const char *fmt, ...)
{
    char s[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    put(b, s);
}

/* Append a parameter and write its ?N. Bytes are copied (the vk_sql owns them). */
static void param(struct sb *b, enum vk_sql_ptype t, int64_t i, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->np == b->pcap) {
        size_t nc = b->pcap ? b->pcap * 2 : 8;
        struct vk_sql_param *np = realloc(b->prm, nc * sizeof *np);
        if (!np) {
            b->oom = true;
            return;
        }
        b->prm = np;
        b->pcap = nc;
    }
    struct vk_sql_param *x = &b->prm[b->np];
    memset(x, 0, sizeof *x);
    x->type = t;
    x->i = i;
    if (t != VK_SQLP_INT) {
        x->p = malloc(n + 1);
        if (!x->p) {
            b->oom = true;
            return;
        }
        if (n) memcpy(x->p, p, n);
        x->p[n] = 0;
        x->n = n;
    }
    b->np++;
    putf(b, "?%zu", b->np);
}

static void param_int(struct sb *b, int64_t v) { param(b, VK_SQLP_INT, v, NULL, 0); }

/* Join count pieces with sep. Up to 8 pieces are written flat; more are grouped by eights
 * so that SQLite's expression depth (capped at 1000) grows with the log of the count. */
static void join(struct sb *b, size_t lo, size_t hi, const char *sep,
                 void (*piece)(struct sb *, const void *, size_t), const void *ctx)
{
    size_t n = hi - lo;
    if (n == 1) {
        piece(b, ctx, lo);
        return;
    }
    size_t step = 1;
    while (n > step * 8) step *= 8;
    put(b, "(");
    for (size_t i = lo; i < hi; i += step) {
        if (i > lo) put(b, sep);
        join(b, i, i + step < hi ? i + step : hi, sep, piece, ctx);
    }
    put(b, ")");
}

/* ---- dialects -------------------------------------------------------------------------------- */

struct dialect {
    const char *name;
    void (*term)(struct sb *b, const struct q_node *n); /* QN_CMP and QN_EXISTS */
};

/* SQLite: the condition a term puts on its column (v, or r.time / r.time_end). */
struct cond {
    const struct q_node *n;
    const char *col;
    bool single; /* pieces are the single values, else the ranges */
};

static size_t count_singles(const struct q_node *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->nvals; i++)
        k += n->type == VK_T_IP ? memcmp(n->v.ip[i].lo, n->v.ip[i].hi, 16) == 0 : n->v.num[i].lo == n->v.num[i].hi;
    return k;
}

/* The i-th range of an = list (skipping single values). */
static void range_piece(struct sb *b, const void *ctx, size_t idx)
{
    const struct cond *c = ctx;
    const struct q_node *n = c->n;
    size_t seen = 0;
    for (size_t i = 0; i < n->nvals; i++) {
        bool single = n->type == VK_T_IP ? memcmp(n->v.ip[i].lo, n->v.ip[i].hi, 16) == 0
                                         : n->v.num[i].lo == n->v.num[i].hi;
        if (single || seen++ != idx) continue;
        putf(b, "%s BETWEEN ", c->col);
        if (n->type == VK_T_IP) param(b, VK_SQLP_BLOB, 0, n->v.ip[i].lo, 16);
        else param_int(b, n->v.num[i].lo);
        put(b, " AND ");
        if (n->type == VK_T_IP) param(b, VK_SQLP_BLOB, 0, n->v.ip[i].hi, 16);
        else param_int(b, n->v.num[i].hi);
        return;
    }
}

/* `col IN (?, ?, ...)` or `col = ?` over the single values. */
static void singles(struct sb *b, const struct q_node *n, const char *col, const char *collate)
{
    size_t k = n->type == VK_T_STR ? n->nvals : count_singles(n), w = 0;
    putf(b, k == 1 ? "%s%s = " : "%s%s IN (", col, collate);
    for (size_t i = 0; i < n->nvals; i++) {
        if (n->type == VK_T_STR) {
            param(b, VK_SQLP_TEXT, 0, n->v.str[i].s, n->v.str[i].n);
        } else if (n->type == VK_T_IP) {
            if (memcmp(n->v.ip[i].lo, n->v.ip[i].hi, 16) != 0) continue;
            param(b, VK_SQLP_BLOB, 0, n->v.ip[i].lo, 16);
        } else {
            if (n->v.num[i].lo != n->v.num[i].hi) continue;
            param_int(b, n->v.num[i].lo);
        }
        if (++w < k) put(b, ", ");
    }
    if (k != 1) put(b, ")");
}

static void eq_piece(struct sb *b, const void *ctx, size_t idx)
{
    const struct cond *c = ctx;
    if (idx == 0 && c->single) singles(b, c->n, c->col, "");
    else range_piece(b, ctx, idx - (c->single ? 1 : 0));
}

static void sqlite_cond(struct sb *b, const struct q_node *n, const char *col)
{
    static const char *const cmp[] = {[QO_LT] = "<", [QO_LE] = "<=", [QO_GT] = ">", [QO_GE] = ">="};
    if (n->kind == QN_EXISTS) {
        put(b, "1");
        return;
    }
    if (n->type != VK_T_STR) {
        if (n->op != QO_EQ) {
            putf(b, "%s %s ", col, cmp[n->op]);
            param_int(b, n->v.num[0].lo);
            return;
        }
        size_t ns = count_singles(n), nr = n->nvals - ns;
        struct cond c = {n, col, ns > 0};
        join(b, 0, nr + (ns > 0), " OR ", eq_piece, &c);
        return;
    }
    /* Strings. The column is TEXT COLLATE NOCASE: `=` folds ASCII as the evaluator does
     * (index k_<key>_ci); `==` compares bytes (the BINARY primary key). */
    const struct q_str *w = &n->v.str[0];
    char hay[64]; /* the value as bytes, ASCII-lowered unless case-sensitive */
    snprintf(hay, sizeof hay, n->cs ? "CAST(%s AS BLOB)" : "CAST(lower(%s) AS BLOB)", col);
    switch (n->op) {
    case QO_EQ:
        singles(b, n, col, n->cs ? " COLLATE BINARY" : "");
        return;
    case QO_CONTAINS:
    case QO_BEGINS:
    case QO_ENDS:
        if (w->n == 0) { /* every string contains, begins and ends with "" */
            put(b, "1");
            return;
        }
        if (n->op == QO_CONTAINS) {
            putf(b, "instr(%s, ", hay);
            param(b, VK_SQLP_BLOB, 0, w->fold, w->n);
            put(b, ") > 0");
        } else {
            putf(b, "substr(%s, ", hay);
            param_int(b, n->op == QO_BEGINS ? 1 : -(int64_t)w->n);
            if (n->op == QO_BEGINS) {
                put(b, ", ");
                param_int(b, (int64_t)w->n);
            }
            put(b, ") = ");
            param(b, VK_SQLP_BLOB, 0, w->fold, w->n);
        }
        return;
    case QO_REGEX:
        put(b, n->cs ? "vk_regexp(" : "vk_iregexp(");
        param(b, VK_SQLP_TEXT, 0, w->s, w->n);
        putf(b, ", %s)", col);
        return;
    default: return;
    }
}

static void sqlite_term(struct sb *b, const struct q_node *n)
{
    if (n->key == VK_K_TIME || n->key == VK_K_TIME_END) {
        sqlite_cond(b, n, n->key == VK_K_TIME ? "r.time" : "r.time_end");
        return;
    }
    if (b->estimate) putf(b, "(SELECT coalesce(sum(k.n), 0) FROM %s k", vk_query_sql_table(n->key));
    else putf(b, "r.rid IN (SELECT p.rid FROM %s k, vk_rids(k.rids) p", vk_query_sql_table(n->key));
    if (n->kind == QN_CMP) {
        put(b, " WHERE ");
        sqlite_cond(b, n, "v");
    }
    put(b, ")");
}

static const struct dialect dialects[] = {
    [VK_SQL_SQLITE] = {"sqlite", sqlite_term},
    [VK_SQL_CLICKHOUSE] = {"clickhouse", NULL}, /* a later issue */
};

static void emit(struct sb *b, const struct dialect *d, const struct q_node *n);

static void kid_piece(struct sb *b, const void *ctx, size_t i)
{
    const struct q_node *const *kids = ((const struct q_node *const *const *)ctx)[0];
    const struct dialect *d = ((const void *const *)ctx)[1];
    emit(b, d, kids[i]);
}

/* Height of a subtree in AND/OR levels: the nesting of groups its SQL needs. */
static unsigned height(const struct q_node *n)
{
    unsigned h = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        unsigned k = height(n->kids[i]);
        if (k > h) h = k;
    }
    return h + (n->kind == QN_AND || n->kind == QN_OR);
}

/* SQLite's parser has a stack of 100 entries (YYSTACKDEPTH): `(a AND (b OR (c AND ...`
 * overflows at about 30 levels, because each level leaves `( expr AND` on the stack while
 * the inner group is read, whereas an opening group costs one entry. So the deepest child
 * of an AND/OR goes first (AND and OR commute here: no NULLs, no side effects), which
 * keeps the stack near one entry per level of the query; siblings of equal height keep
 * their written order. NOT NOT x is x, and NOT takes no parentheses (it binds looser than
 * every term and a group is already parenthesised). Recursion depth is the query's
 * nesting depth (capped at parse time) plus log8 of the widest AND/OR. */
static void emit(struct sb *b, const struct dialect *d, const struct q_node *n)
{
    switch (n->kind) {
    case QN_AND:
    case QN_OR: {
        const struct q_node **kids = malloc(n->nkids * sizeof *kids);
        if (!kids) {
            b->oom = true;
            return;
        }
        size_t top = 0;
        for (size_t i = 0, best = 0; i < n->nkids; i++) {
            unsigned h = height(n->kids[i]);
            if (h > best) best = h, top = i;
        }
        kids[0] = n->kids[top];
        for (size_t i = 0, j = 1; i < n->nkids; i++)
            if (i != top) kids[j++] = n->kids[i];
        const void *ctx[2] = {kids, d};
        join(b, 0, n->nkids, n->kind == QN_AND ? " AND " : " OR ", kid_piece, ctx);
        free(kids);
        return;
    }
    case QN_NOT:
        if (n->kids[0]->kind == QN_NOT) {
            emit(b, d, n->kids[0]->kids[0]);
            return;
        }
        put(b, "NOT ");
        emit(b, d, n->kids[0]);
        return;
    case QN_CMP:
    case QN_EXISTS: d->term(b, n); return;
    }
}

void vk_sql_free(struct vk_sql *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nparams; i++) free(s->params[i].p);
    free(s->params);
    free(s->where);
    memset(s, 0, sizeof *s);
}

static int compile(const struct q_node *n, enum vk_sql_dialect d, bool estimate, struct vk_sql *out,
                   struct vk_query_err *err)
{
    struct vk_query_err dummy;
    if (!err) err = &dummy;
    err->pos = 0;
    err->msg[0] = 0;
    memset(out, 0, sizeof *out);
    if (!n) {
        snprintf(err->msg, sizeof err->msg, "query: no query to compile");
        return VK_EINVAL;
    }
    if ((unsigned)d >= sizeof dialects / sizeof *dialects || !dialects[d].term) {
        snprintf(err->msg, sizeof err->msg, "query: the %s dialect is not implemented yet",
                 (unsigned)d < sizeof dialects / sizeof *dialects && dialects[d].name ? dialects[d].name : "unknown");
        return VK_EINVAL;
    }
    struct sb b = {.estimate = estimate};
    emit(&b, &dialects[d], n);
    out->where = b.p;
    out->params = b.prm;
    out->nparams = b.np;
    if (b.oom || !b.p) {
        vk_sql_free(out);
        snprintf(err->msg, sizeof err->msg, "query: out of memory compiling to SQL");
        return VK_ENOMEM;
    }
    return 0;
}

int vk_query_sql(const struct vk_query *q, enum vk_sql_dialect d, struct vk_sql *out, struct vk_query_err *err)
{
    return compile(q ? q->root : NULL, d, false, out, err);
}

size_t vk_query_nconj(const struct vk_query *q)
{
    if (!q || !q->root) return 0;
    return q->root->kind == QN_AND ? q->root->nkids : 1;
}

int vk_query_sql_conj(const struct vk_query *q, size_t i, bool estimate, struct vk_sql *out)
{
    memset(out, 0, sizeof *out);
    if (i >= vk_query_nconj(q)) return VK_EINVAL;
    const struct q_node *n = q->root->kind == QN_AND ? q->root->kids[i] : q->root;
    if (estimate && (!(n->kind == QN_CMP || n->kind == QN_EXISTS) || !vk_query_sql_table(n->key))) return VK_EINVAL;
    return compile(n, VK_SQL_SQLITE, estimate, out, NULL);
}

/* ---- SQLite functions -------------------------------------------------------------------------- */

static void regex_free(void *p)
{
    regfree(p);
    sqlite3_free(p);
}

/* vk_regexp(pattern, value) / vk_iregexp(pattern, value): 1 when value matches. The
 * compiled pattern is kept as auxdata, so a statement compiles it once however many rows
 * it tests (a bound parameter is constant for the statement). */
static void regexp_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    bool icase = sqlite3_user_data(ctx) != NULL;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) return;
    regex_t *re = sqlite3_get_auxdata(ctx, 0);
    bool fresh = false;
    if (!re) {
        const char *pat = (const char *)sqlite3_value_text(argv[0]);
        int pn = sqlite3_value_bytes(argv[0]);
        const char *why;
        char msg[160], e[96];
        if (!pat || vk_query_regex_check(pat, (size_t)pn, &why) < 0) {
            snprintf(msg, sizeof msg, "regexp: %s", pat ? why : "out of memory");
            sqlite3_result_error(ctx, msg, -1);
            return;
        }
        re = sqlite3_malloc(sizeof *re);
        if (!re) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        if (vk_query_regcomp(re, pat, icase, e, sizeof e) < 0) {
            sqlite3_free(re);
            snprintf(msg, sizeof msg, "regexp: %s", e);
            sqlite3_result_error(ctx, msg, -1);
            return;
        }
        fresh = true;
    }
    const char *s = (const char *)sqlite3_value_text(argv[1]);
    int n = sqlite3_value_bytes(argv[1]);
    int hit = s ? vk_query_regexec(re, s, (size_t)n) : 0;
    /* set_auxdata may free re at once: use it first. */
    if (fresh) sqlite3_set_auxdata(ctx, 0, re, regex_free);
    if (!s) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_int(ctx, hit);
}

int vk_query_sqlite_register(void *sqlite3_db)
{
    sqlite3 *db = sqlite3_db;
    static int icase_tag;
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (!db) return VK_EINVAL;
    if (sqlite3_create_function(db, "vk_regexp", 2, flags, NULL, regexp_func, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "vk_iregexp", 2, flags, &icase_tag, regexp_func, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "regexp", 2, flags, NULL, regexp_func, NULL, NULL) != SQLITE_OK ||
        vk_query_rids_register(db) != 0)
        return VK_EINVAL;
    return 0;
}
