/* query_rids.c — posting lists of the SQLite layout and the vk_rids() table function.
 *
 * An index table row holds, for one value of one key and one write batch, the record ids
 * that carry the value: a list of varint deltas (the first delta is from 0). Few rows
 * per batch for values that repeat (service, ports, hosts), so inserts and disk space
 * follow the number of distinct values, not of values. SQL reads a list back with the
 * table-valued function vk_rids(list), whose one column `rid` yields the ids in order:
 *
 *     SELECT p.rid FROM k_service k, vk_rids(k.rids) p WHERE k.v = 'http'
 *
 * Decoding is O(bytes) and allocation-free; a damaged list ends early, never reads past
 * its blob. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "query_int.h"

size_t vk_query_rids_encode(const int64_t *rids, size_t n, uint8_t *out)
{
    size_t len = 0;
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = (uint64_t)(rids[i] - prev);
        prev = rids[i];
        while (d >= 0x80) {
            out[len++] = (uint8_t)(d | 0x80);
            d >>= 7;
        }
        out[len++] = (uint8_t)d;
    }
    return len;
}

/* ---- the table-valued function ----------------------------------------------------- */

struct rids_cur {
    sqlite3_vtab_cursor base;
    const uint8_t *p, *end;
    uint8_t *copy;      /* the list, copied: the argument's memory is not ours to keep */
    int64_t rid;
    sqlite3_int64 rowid;
    int eof;
};

enum { COL_RID = 0, COL_LIST = 1 };

static int rids_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)aux;
    (void)argc;
    (void)argv;
    (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(rid INTEGER, list HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    sqlite3_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    *out = v;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    return SQLITE_OK;
}

static int rids_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int rids_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    struct rids_cur *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int rids_close(sqlite3_vtab_cursor *cur)
{
    struct rids_cur *c = (struct rids_cur *)cur;
    sqlite3_free(c->copy);
    sqlite3_free(c);
    return SQLITE_OK;
}

bool vk_query_rids_next(const uint8_t **p, const uint8_t *end, int64_t *rid)
{
    uint64_t d = 0;
    unsigned sh = 0;
    for (;;) {
        if (*p >= end || sh > 63) return false;
        uint8_t x = *(*p)++;
        d |= (uint64_t)(x & 0x7f) << sh;
        if (!(x & 0x80)) break;
        sh += 7;
    }
    *rid += (int64_t)d;
    return true;
}

static void rids_step(struct rids_cur *c)
{
    if (!vk_query_rids_next(&c->p, c->end, &c->rid)) {
        c->eof = 1;
        return;
    }
    c->rowid++;
}

static int rids_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxs, int argc, sqlite3_value **argv)
{
    (void)idxs;
    struct rids_cur *c = (struct rids_cur *)cur;
    sqlite3_free(c->copy);
    c->copy = NULL;
    c->p = c->end = NULL;
    c->rid = 0;
    c->rowid = 0;
    c->eof = 1;
    if (idx != 1 || argc != 1) return SQLITE_OK;
    int n = sqlite3_value_bytes(argv[0]);
    const void *b = sqlite3_value_blob(argv[0]);
    if (!b || n <= 0) return SQLITE_OK;
    c->copy = sqlite3_malloc(n);
    if (!c->copy) return SQLITE_NOMEM;
    memcpy(c->copy, b, (size_t)n);
    c->p = c->copy;
    c->end = c->copy + n;
    c->eof = 0;
    rids_step(c);
    return SQLITE_OK;
}

static int rids_next(sqlite3_vtab_cursor *cur)
{
    rids_step((struct rids_cur *)cur);
    return SQLITE_OK;
}

static int rids_eof(sqlite3_vtab_cursor *cur) { return ((struct rids_cur *)cur)->eof; }

static int rids_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    struct rids_cur *c = (struct rids_cur *)cur;
    if (col == COL_RID) sqlite3_result_int64(ctx, c->rid);
    else sqlite3_result_null(ctx);
    return SQLITE_OK;
}

static int rids_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
    *out = ((struct rids_cur *)cur)->rowid;
    return SQLITE_OK;
}

/* The list argument must be given (an equality on the hidden column). */
static int rids_best_index(sqlite3_vtab *v, sqlite3_index_info *ii)
{
    (void)v;
    for (int i = 0; i < ii->nConstraint; i++) {
        const struct sqlite3_index_constraint *k = &ii->aConstraint[i];
        if (k->iColumn != COL_LIST || k->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        if (!k->usable) return SQLITE_CONSTRAINT;
        ii->aConstraintUsage[i].argvIndex = 1;
        ii->aConstraintUsage[i].omit = 1;
        ii->idxNum = 1;
        ii->estimatedCost = 10;
        ii->estimatedRows = 16;
        ii->orderByConsumed = ii->nOrderBy == 1 && ii->aOrderBy[0].iColumn == COL_RID && !ii->aOrderBy[0].desc;
        return SQLITE_OK;
    }
    return SQLITE_CONSTRAINT;
}

static const sqlite3_module rids_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = rids_connect,
    .xBestIndex = rids_best_index,
    .xDisconnect = rids_disconnect,
    .xDestroy = rids_disconnect,
    .xOpen = rids_open,
    .xClose = rids_close,
    .xFilter = rids_filter,
    .xNext = rids_next,
    .xEof = rids_eof,
    .xColumn = rids_column,
    .xRowid = rids_rowid,
};

int vk_query_rids_register(struct sqlite3 *db)
{
    return sqlite3_create_module(db, "vk_rids", &rids_module, NULL) == SQLITE_OK ? 0 : -1;
}
