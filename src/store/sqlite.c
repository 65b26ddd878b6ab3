/* sqlite.c — the embedded meta-store backend: SQLite in WAL mode.
 *
 * Layout (docs/DATA-DIR.md): the record table `rec` and one index table per meta key
 * (`k_ip_src(v, rid)` ...) are the query module's SQLite layout (src/query), so the
 * compiled WHERE clauses run directly against them. This file adds its own tables:
 *   keys(pid, name)        persistent key ids used in record bodies
 *   recx(rid, bytes, ...)  per-session packet positions (delta varints) and total bytes
 *   batches(bid, ...)      one row per committed batch: rid range and commit time, for
 *                          retention by age
 *   agg(pid, v, n, ...)    running value counts per key, so the unfiltered Navigate view
 *                          reads one small table instead of scanning the index tables
 * A batch is one transaction; its value counts are summed in a hash table first, so agg
 * gets one upsert per distinct value of the batch. */
#include <sqlite3.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <time.h>
#include <xxhash.h>

#include "store_int.h"

#define NOPID 0xffffu
#define LISTS_PER_INSERT 64 /* posting lists (and their counts) in one INSERT, see sq_write_batch */
/* the tail of every insert into agg: a value already counted adds to its counts */
#define AGG_UPSERT " ON CONFLICT(pid, v) DO UPDATE SET n = n + excluded.n, sessions = sessions + excluded.sessions, bytes = bytes + excluded.bytes"

struct sq {
    sqlite3 *db;
    char dir[4096];
    bool write;
    uint16_t to_pid[VK_K__COUNT];
    int *to_key;
    size_t nmap;
    sqlite3_stmt *ins_rec, *ins_recx, *ins_batch, *ins_key[VK_K__COUNT];
    /* prepared on first use: the lists of a key and their counts (agg), one or LISTS_PER_INSERT a statement */
    sqlite3_stmt *ins_keym[VK_K__COUNT], *ins_agg, *ins_aggm;
    struct vk_buf body, pos;
    struct irow *rows;         /* index rows of a batch, kept between batches */
    uint64_t *ht;              /* open addressing over them, for the value counts: hash tag << 32 | row + 1 */
    struct ordk { uint64_t sk; uint32_t i; } *ord; /* insert order: by table and value prefix */
    int64_t *rids;             /* one posting list being written, and its encoding */
    uint8_t *list;
    size_t rows_cap;
    struct fset *fset;         /* the last filter of `values`, as a bitmap (see values_filtered) */
};

static int64_t wal_bytes(const struct sq *q)
{
    char wal[4200];
    struct stat st;
    snprintf(wal, sizeof wal, "%s/meta.db-wal", q->dir);
    return stat(wal, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A filter of `values` as a bitmap over the rid range (see values_filtered). */
struct fset {
    const struct vk_query *q; /* what it was built for */
    struct vk_store_sel sel;
    int64_t lo, n;            /* rids lo .. lo + n - 1 */
    uint64_t *in, *ses;       /* bitmaps: in the filter; a session */
    uint64_t *bytes;          /* per rid */
    uint64_t count;
};

static int exec(struct sq *q, const char *sql, char *err, size_t errlen)
{
    char *e = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &e) != SQLITE_OK) {
        snprintf(err, errlen, "meta store %s/meta.db: %s (in: %.80s)", q->dir, e ? e : "error", sql);
        sqlite3_free(e);
        return VK_EIO;
    }
    return 0;
}

struct ddl_ctx {
    struct sq *q;
    char *err;
    size_t errlen;
    int rc;
};

static void ddl_stmt(void *ud, const char *sql)
{
    struct ddl_ctx *c = ud;
    if (!c->rc) c->rc = exec(c->q, sql, c->err, c->errlen);
}

static int load_keys(struct sq *q, char *err, size_t errlen)
{
    for (int k = 0; k < VK_K__COUNT; k++) q->to_pid[k] = NOPID;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db, "SELECT pid, name FROM keys", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
        return VK_EIO;
    }
    int maxpid = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int pid = sqlite3_column_int(st, 0);
        if (pid < 0 || pid >= (int)NOPID) continue;
        if ((size_t)pid >= q->nmap) {
            size_t nm = (size_t)pid + 64;
            int *p = realloc(q->to_key, nm * sizeof *p);
            if (!p) break;
            for (size_t i = q->nmap; i < nm; i++) p[i] = -1;
            q->to_key = p;
            q->nmap = nm;
        }
        int k = vk_key_lookup((const char *)sqlite3_column_text(st, 1));
        q->to_key[pid] = k;
        if (k >= 0) q->to_pid[k] = (uint16_t)pid;
        if (pid > maxpid) maxpid = pid;
    }
    sqlite3_finalize(st);
    if (!q->write) return 0;
    /* keys this build knows and the directory does not yet: give them the next ids */
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(q->db, "INSERT INTO keys(pid, name) VALUES(?, ?)", -1, &ins, NULL) != SQLITE_OK)
        return VK_EIO;
    int rc = 0;
    for (int k = 0; k < VK_K__COUNT && !rc; k++) {
        if (q->to_pid[k] != NOPID) continue;
        int pid = ++maxpid;
        sqlite3_bind_int(ins, 1, pid);
        sqlite3_bind_text(ins, 2, vk_key_info((enum vk_key)k)->name, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) rc = VK_EIO;
        sqlite3_reset(ins);
        if ((size_t)pid >= q->nmap) {
            size_t nm = (size_t)pid + 64;
            int *p = realloc(q->to_key, nm * sizeof *p);
            if (!p) {
                rc = VK_ENOMEM;
                break;
            }
            for (size_t i = q->nmap; i < nm; i++) p[i] = -1;
            q->to_key = p;
            q->nmap = nm;
        }
        q->to_key[pid] = k;
        q->to_pid[k] = (uint16_t)pid;
    }
    sqlite3_finalize(ins);
    if (rc) snprintf(err, errlen, "meta store %s/meta.db: cannot register keys: %s", q->dir, sqlite3_errmsg(q->db));
    return rc;
}

static void sq_close(void *b);
static void batch_free(struct sq *q);
static int64_t scalar(struct sq *q, const char *sql);
static void fset_free(struct fset *f);

static void *sq_open(const char *dir, bool write, const struct vk_store_cfg *cfg, char *err, size_t errlen)
{
    struct sq *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    snprintf(q->dir, sizeof q->dir, "%s", dir);
    q->write = write;
    q->fset = calloc(1, sizeof *q->fset);
    if (!q->fset) {
        free(q);
        return NULL;
    }
    vk_buf_init(&q->body, 4u << 20);
    vk_buf_init(&q->pos, 8u << 20);
    char p[4200];
    snprintf(p, sizeof p, "%s/meta.db", dir);
    int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(p, &q->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the meta store %s: %s", p, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        sq_close(q);
        return NULL;
    }
    sqlite3_busy_timeout(q->db, 10000);
    /* the WAL is checkpointed by the writer: after a commit once it holds 512 MiB, and as it
     * closes when it holds over 256 MiB (sq_close); never by a reader closing, as SQLite
     * would have the last connection to close do it, a reader's `vakt query` included */
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* the page size of a new file (an existing one keeps its own): set before WAL mode */
    snprintf(p, sizeof p, "PRAGMA page_size=%u", cfg && cfg->page_size ? cfg->page_size : 32768);
    if (exec(q, p, err, errlen) || exec(q, "PRAGMA journal_mode=WAL", err, errlen) ||
        exec(q, cfg && cfg->sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err, errlen) ||
        exec(q, "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=2147418112; PRAGMA journal_size_limit=67108864", err, errlen)) {
        sq_close(q);
        return NULL;
    }
    /* A big WAL copies a page that many commits changed once, not once per checkpoint: log
     * ingest +10% at 512 MiB over 64 MiB, interleaved runs (a checkpointer thread beside the
     * writer measured 5% slower still: it copies and syncs while the writer works). */
    int64_t psz = scalar(q, "PRAGMA page_size");
    snprintf(p, sizeof p, "PRAGMA wal_autocheckpoint=%lld", (long long)((512 << 20) / (psz > 0 ? psz : 4096)));
    if (exec(q, p, err, errlen)) {
        sq_close(q);
        return NULL;
    }
    char pr[64];
    snprintf(pr, sizeof pr, "PRAGMA cache_size=-%u", (cfg && cfg->cache_mb ? cfg->cache_mb : 32) * 1024);
    if (exec(q, pr, err, errlen)) {
        sq_close(q);
        return NULL;
    }
    if (vk_query_sqlite_register(q->db) != 0) {
        snprintf(err, errlen, "cannot register query functions on %s", p);
        sq_close(q);
        return NULL;
    }
    if (write) {
        struct ddl_ctx c = {q, err, errlen, 0};
        if (exec(q, "BEGIN", err, errlen)) {
            sq_close(q);
            return NULL;
        }
        vk_query_sql_ddl(VK_SQL_SQLITE, ddl_stmt, &c);
        if (!c.rc)
            c.rc = exec(q,
                        "CREATE TABLE IF NOT EXISTS keys(pid INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
                        "CREATE TABLE IF NOT EXISTS recx(rid INTEGER PRIMARY KEY, bytes INTEGER, npos INTEGER,"
                        " fmin INTEGER, fmax INTEGER, posdrop INTEGER, pos BLOB);"
                        "CREATE TABLE IF NOT EXISTS batches(bid INTEGER PRIMARY KEY, rid_lo INTEGER, rid_hi INTEGER,"
                        " records INTEGER, committed_ms INTEGER);"
                        "CREATE TABLE IF NOT EXISTS agg(pid INTEGER, v COLLATE NOCASE, n INTEGER, sessions INTEGER, bytes INTEGER,"
                        " PRIMARY KEY(pid, v)) WITHOUT ROWID;"
                        /* the top values by count of a key straight from the index */
                        "CREATE INDEX IF NOT EXISTS agg_n ON agg(pid, n, v);",
                        err, errlen);
        if (c.rc || exec(q, "COMMIT", err, errlen)) {
            sq_close(q);
            return NULL;
        }
    }
    if (load_keys(q, err, errlen) != 0) {
        sq_close(q);
        return NULL;
    }
    if (write) {
        if (sqlite3_prepare_v2(q->db, "INSERT INTO rec(kind, time, time_end, body) VALUES(?,?,?,?)", -1,
                               &q->ins_rec, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(q->db, "INSERT OR REPLACE INTO recx(rid, bytes, npos, fmin, fmax, posdrop, pos) VALUES(?,?,?,?,?,?,?)",
                               -1, &q->ins_recx, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(q->db, "INSERT INTO batches(rid_lo, rid_hi, records, committed_ms) VALUES(?,?,?,?)", -1,
                               &q->ins_batch, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "meta store %s: %s", p, sqlite3_errmsg(q->db));
            sq_close(q);
            return NULL;
        }
    }
    return q;
}

static void sq_close(void *b)
{
    struct sq *q = b;
    if (!q) return;
    sqlite3_finalize(q->ins_rec);
    sqlite3_finalize(q->ins_recx);
    sqlite3_finalize(q->ins_batch);
    sqlite3_finalize(q->ins_agg);
    sqlite3_finalize(q->ins_aggm);
    for (int k = 0; k < VK_K__COUNT; k++) sqlite3_finalize(q->ins_key[k]), sqlite3_finalize(q->ins_keym[k]);
    /* A WAL left behind is read whole by every process that opens the store next (SQLite
     * rebuilds its index when the first connection opens): 0.5 s per `vakt query` with
     * 1.7 GB, ~30 ms with 64 MiB. The writer empties it as it stops only when it is over
     * 256 MiB, as the checkpoint would first fdatasync all of it (0.4 s for ~100 MiB here).
     * If a reader holds the store open, this does what it can without waiting. */
    if (q->db && q->write && wal_bytes(q) > (256 << 20)) {
        sqlite3_busy_timeout(q->db, 0);
        sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    if (q->db) sqlite3_close(q->db);
    vk_buf_free(&q->body);
    vk_buf_free(&q->pos);
    batch_free(q);
    if (q->fset) fset_free(q->fset);
    free(q->fset);
    free(q->to_key);
    free(q);
}

/* ---- writing ----------------------------------------------------------------------- */

/* One index row of a batch. A text value points into its record, which outlives the
 * batch; an address is held in v.ip itself. */
struct irow {
    uint16_t key;
    uint8_t session;
    bool rep;                  /* first row of its value in the batch: holds the counts */
    uint32_t rep_of;           /* index of the row holding its value's counts */
    struct vk_sql_param v;
    int64_t rid;
    uint64_t bytes;
    uint64_t acnt, ases, abytes;
};

static bool same_param(const struct vk_sql_param *a, const struct vk_sql_param *b)
{
    if (a->type != b->type) return false;
    if (a->type == VK_SQLP_INT) return a->i == b->i;
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* Hash of an exact index value: rows of one value in a batch become one posting list. */
static uint64_t row_hash(uint16_t key, const struct vk_sql_param *v)
{
    uint64_t seed = (uint64_t)key << 8 | (uint64_t)v->type;
    if (v->type == VK_SQLP_INT) return XXH3_64bits_withSeed(&v->i, sizeof v->i, seed);
    return XXH3_64bits_withSeed(v->p, v->n, seed);
}

static uint64_t sort_key(uint16_t key, const struct vk_sql_param *v)
{
    uint64_t sk = (uint64_t)key << 48;
    if (v->type == VK_SQLP_INT) return sk | ((uint64_t)v->i ^ (1ull << 63)) >> 16;
    uint64_t pre = 0;
    for (size_t i = 0; i < 6; i++) {
        uint8_t c = i < v->n ? (uint8_t)v->p[i] : 0;
        if (v->type == VK_SQLP_TEXT && c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
        pre = pre << 8 | c;
    }
    return sk | pre;
}

static int cmp_ordk(const void *x, const void *y)
{
    uint64_t a = ((const struct ordk *)x)->sk, b = ((const struct ordk *)y)->sk;
    return a < b ? -1 : a > b;
}

static void bind_param(sqlite3_stmt *st, int i, const struct vk_sql_param *p)
{
    switch (p->type) {
    case VK_SQLP_INT: sqlite3_bind_int64(st, i, p->i); break;
    case VK_SQLP_TEXT: sqlite3_bind_text(st, i, p->p, (int)p->n, SQLITE_STATIC); break;
    default: sqlite3_bind_blob(st, i, p->p, (int)p->n, SQLITE_STATIC); break;
    }
}

/* Keys whose values are (nearly) unique per record get no running counts: agg would hold
 * a row per record for them. Their unfiltered value counts sum the posting lists. */
static bool no_agg(int k) { return vk_key_unique((enum vk_key)k); }

/* Prepare "HEAD TUPLE,TUPLE,... TAIL" with m tuples into *st, unless it is prepared. */
static int prep_rows(struct sq *q, sqlite3_stmt **st, const char *head, const char *tuple, size_t m, const char *tail,
                     char *err, size_t errlen)
{
    if (*st) return 0;
    char sql[LISTS_PER_INSERT * 16 + 512];
    int o = snprintf(sql, sizeof sql, "%s%s", head, tuple);
    for (size_t j = 1; j < m; j++) o += snprintf(sql + o, sizeof sql - (size_t)o, ",%s", tuple);
    snprintf(sql + o, sizeof sql - (size_t)o, "%s", tail);
    if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) == SQLITE_OK) return 0;
    snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
    return VK_EIO;
}

static uint64_t first_uint(const struct vk_meta *m, enum vk_key k, uint64_t dflt)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) return m->items[i].u;
    return dflt;
}

static bool is_event(const struct vk_meta *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == VK_K_KIND) return m->items[i].len == 5 && !memcmp(vk_meta_str(m, &m->items[i]), "event", 5);
    return false;
}

static int step_done(struct sq *q, sqlite3_stmt *st, char *err, size_t errlen)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r == SQLITE_DONE) return 0;
    snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
    return VK_EIO;
}

/* The batch arrays are large (tens of MiB for a batch of rich sessions) and refilled by
 * every batch: they live in their own mappings, marked for transparent huge pages, so
 * filling them for the first time costs a fault per 2 MiB rather than per 4 KiB. */
static size_t map_len(size_t n) { return (n + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1); }

static void *map_grow(void *p, size_t old, size_t n)
{
    void *q = p ? mremap(p, map_len(old), map_len(n), MREMAP_MAYMOVE)
                : mmap(NULL, map_len(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) return NULL;
    (void)madvise(q, map_len(n), MADV_HUGEPAGE); /* a hint: fine when refused */
    return q;
}

static void map_free(void *p, size_t n)
{
    if (p) munmap(p, map_len(n));
}

static void batch_free(struct sq *q)
{
    map_free(q->rows, q->rows_cap * sizeof *q->rows);
    map_free(q->ht, 2 * q->rows_cap * sizeof *q->ht);
    map_free(q->ord, q->rows_cap * sizeof *q->ord);
    map_free(q->rids, q->rows_cap * sizeof *q->rids);
    map_free(q->list, 10 * q->rows_cap);
}

static int sq_write_batch(void *b, struct vk_store_rec *recs, size_t n, char *err, size_t errlen)
{
    struct sq *q = b;
    size_t cap = 0, nrows = 0;
    for (size_t i = 0; i < n; i++) cap += recs[i].meta.n;
    if (cap > q->rows_cap) {
        size_t old = q->rows_cap, k;
        cap += cap / 2; /* grow geometrically */
        void **arr[] = {(void **)&q->rows, (void **)&q->ht, (void **)&q->ord, (void **)&q->rids, (void **)&q->list};
        const size_t unit[] = {sizeof *q->rows, 2 * sizeof *q->ht, sizeof *q->ord, sizeof *q->rids, 10};
        for (k = 0; k < 5; k++) {
            void *np = map_grow(*arr[k], old * unit[k], cap * unit[k]);
            if (!np) break; /* a failed mremap leaves the old mapping as it was */
            *arr[k] = np;
        }
        if (k < 5) { /* out of memory: drop them all (the first k have the new size) */
            for (size_t j = 0; j < 5; j++) {
                map_free(*arr[j], (j < k ? cap : old) * unit[j]);
                *arr[j] = NULL;
            }
            q->rows_cap = 0;
            snprintf(err, errlen, "out of memory for a batch of %zu records", n);
            return VK_ENOMEM;
        }
        q->rows_cap = cap;
    }
    struct irow *rows = q->rows;
    int rc = exec(q, "BEGIN IMMEDIATE", err, errlen);
    int64_t rid_lo = 0, rid_hi = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        struct vk_store_rec *r = &recs[i];
        struct vk_meta *m = &r->meta;
        q->body.len = 0;
        if (vk_codec_encode(m, q->to_pid, &q->body) != 0) {
            snprintf(err, errlen, "a record of %u values is over the body cap", m->n);
            rc = VK_ENOMEM;
            break;
        }
        int64_t t, te;
        vk_query_rec_times(m, &t, &te); /* the evaluator's reading of time and time.end */
        bool ev = is_event(m);
        sqlite3_bind_int(q->ins_rec, 1, ev ? 1 : 0);
        sqlite3_bind_int64(q->ins_rec, 2, t);
        sqlite3_bind_int64(q->ins_rec, 3, te);
        sqlite3_bind_blob(q->ins_rec, 4, q->body.p, (int)q->body.len, SQLITE_STATIC);
        if ((rc = step_done(q, q->ins_rec, err, errlen))) break;
        int64_t rid = sqlite3_last_insert_rowid(q->db);
        if (!rid_lo) rid_lo = rid;
        rid_hi = rid;
        uint64_t bytes = first_uint(m, VK_K_BYTES_SRC, 0) + first_uint(m, VK_K_BYTES_DST, 0);
        for (uint32_t j = 0; j < m->n; j++) {
            const struct vk_meta_item *it = &m->items[j];
            if (!vk_query_sql_table((enum vk_key)it->key)) continue;
            struct irow *w = &rows[nrows];
            if (vk_query_sql_value(m, it, &w->v) != 0) continue;
            w->key = it->key;
            w->rid = rid;
            w->session = !ev;
            w->bytes = bytes;
            nrows++;
        }
        if (!ev || r->npos) {
            q->pos.len = 0;
            vk_pos_encode(r->pos, r->npos, &q->pos);
            uint32_t fmin = UINT32_MAX, fmax = 0;
            for (uint32_t j = 0; j < r->npos; j++) {
                uint32_t f = VK_POS_FILE(r->pos[j]);
                if (f < fmin) fmin = f;
                if (f > fmax) fmax = f;
            }
            sqlite3_bind_int64(q->ins_recx, 1, rid);
            sqlite3_bind_int64(q->ins_recx, 2, (int64_t)bytes);
            sqlite3_bind_int64(q->ins_recx, 3, r->npos);
            if (r->npos) {
                sqlite3_bind_int64(q->ins_recx, 4, fmin);
                sqlite3_bind_int64(q->ins_recx, 5, fmax);
                sqlite3_bind_blob(q->ins_recx, 7, q->pos.p, (int)q->pos.len, SQLITE_STATIC);
            }
            sqlite3_bind_int64(q->ins_recx, 6, r->posdrop);
            if ((rc = step_done(q, q->ins_recx, err, errlen))) break;
        }
    }
    /* value counts of the batch: equal values (per key) meet in the hash table. A batch's
     * rows outgrow the cache (20,000 sessions make ~50 MB of them), and reading them back
     * at random was about a tenth of the writer's time on short sessions: so the hashes
     * come first, in one sequential pass; slots are prefetched 16 rows ahead; and a slot
     * carries 32 bits of its row's hash, so that a row is read back only when they match. */
    size_t hsz = 1;
    while (hsz < nrows * 2) hsz <<= 1;
    if (hsz > 2 * q->rows_cap) hsz = 2 * q->rows_cap; /* rows_cap >= nrows; a power of two is not needed */
    memset(q->ht, 0, hsz * sizeof *q->ht);
    uint64_t *hs = (uint64_t *)q->rids; /* scratch until the lists are laid out below */
    for (size_t i = 0; i < nrows; i++) hs[i] = row_hash(rows[i].key, &rows[i].v);
    for (size_t i = 0; i < nrows; i++) {
        if (i + 16 < nrows) __builtin_prefetch(&q->ht[hs[i + 16] % hsz]);
        struct irow *w = &rows[i];
        uint32_t tag = (uint32_t)(hs[i] >> 32);
        size_t slot = hs[i] % hsz;
        for (;;) {
            uint64_t e = q->ht[slot];
            uint32_t at = (uint32_t)e;
            if (!at) {
                q->ht[slot] = (uint64_t)tag << 32 | ((uint32_t)i + 1);
                w->rep = true;
                w->rep_of = (uint32_t)i;
                w->acnt = 1;
                w->ases = w->session;
                w->abytes = w->bytes;
                break;
            }
            struct irow *r = &rows[at - 1];
            if ((uint32_t)(e >> 32) == tag && r->key == w->key && same_param(&r->v, &w->v)) {
                w->rep = false;
                w->rep_of = at - 1;
                r->acnt++;
                r->ases += w->session;
                r->abytes += w->bytes;
                break;
            }
            slot = (slot + 1) % hsz;
        }
    }
    /* one posting list per value, inserted in (table, value prefix) order, which keeps
     * B-tree inserts local (the exact order among equal prefixes does not matter) */
    size_t nrep = 0;
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].rep) q->ord[nrep++] = (struct ordk){sort_key(rows[i].key, &rows[i].v), (uint32_t)i};
    if (nrep) qsort(q->ord, nrep, sizeof *q->ord, cmp_ordk);
    /* lay the rids of every list out side by side: offsets per list (in q->ht, free now),
     * then one sequential pass over the rows scatters each rid to its list */
    uint32_t *fill = (uint32_t *)q->ht;
    size_t total = 0;
    for (size_t i = 0; i < nrep; i++) {
        fill[q->ord[i].i] = (uint32_t)total;
        total += rows[q->ord[i].i].acnt;
    }
    for (size_t i = 0; i < nrows; i++) q->rids[fill[rows[i].rep_of]++] = rows[i].rid;
    /* the lists, LISTS_PER_INSERT to a statement while a key's run lasts (a statement's
     * own cost, about as much as its B-tree insert, is then paid once for all of them), the
     * rest one at a time; each list's encoding has its own place in q->list until its
     * statement ran (at most 10 bytes a rid, the room q->list has per row) */
    size_t at = 0, lo = 0;
    for (size_t i = 0; i < nrep && !rc;) {
        uint16_t key = (uint16_t)(q->ord[i].sk >> 48); /* sort_key puts the key on top */
        size_t run = 1;
        while (run < LISTS_PER_INSERT && i + run < nrep && (uint16_t)(q->ord[i + run].sk >> 48) == key) run++;
        size_t m = run == LISTS_PER_INSERT ? LISTS_PER_INSERT : 1;
        sqlite3_stmt **st = m > 1 ? &q->ins_keym[key] : &q->ins_key[key];
        char head[128];
        snprintf(head, sizeof head, "INSERT INTO %s(v, b, n, rids) VALUES", vk_query_sql_table((enum vk_key)key));
        if ((rc = prep_rows(q, st, head, "(?,?,?,?)", m, "", err, errlen))) break;
        for (size_t j = 0; j < m; j++) {
            if (i + j + 4 < nrep) { /* rows in value order are read at random: fetch ahead */
                const char *nx = (const char *)&rows[q->ord[i + j + 4].i];
                __builtin_prefetch(nx);
                __builtin_prefetch(nx + sizeof *rows - 1);
            }
            struct irow *w = &rows[q->ord[i + j].i];
            size_t k = w->acnt;
            size_t len = vk_query_rids_encode(q->rids + at, k, q->list + lo);
            int p = 4 * (int)j;
            bind_param(*st, p + 1, &w->v);
            sqlite3_bind_int64(*st, p + 2, rid_lo);
            sqlite3_bind_int64(*st, p + 3, (int64_t)k);
            sqlite3_bind_blob(*st, p + 4, q->list + lo, (int)len, SQLITE_STATIC);
            at += k;
            lo += len;
        }
        if ((rc = step_done(q, *st, err, errlen))) break;
        if (!no_agg(key)) { /* the running counts, as many to a statement */
            sqlite3_stmt **agp = m > 1 ? &q->ins_aggm : &q->ins_agg, *ag;
            if ((rc = prep_rows(q, agp, "INSERT INTO agg(pid, v, n, sessions, bytes) VALUES", "(?,?,?,?,?)", m, AGG_UPSERT,
                                err, errlen)))
                break;
            ag = *agp;
            for (size_t j = 0; j < m; j++) {
                struct irow *w = &rows[q->ord[i + j].i];
                int p = 5 * (int)j;
                sqlite3_bind_int(ag, p + 1, q->to_pid[key]);
                bind_param(ag, p + 2, &w->v);
                sqlite3_bind_int64(ag, p + 3, (int64_t)w->acnt);
                sqlite3_bind_int64(ag, p + 4, (int64_t)w->ases);
                sqlite3_bind_int64(ag, p + 5, (int64_t)w->abytes);
            }
            if ((rc = step_done(q, ag, err, errlen))) break;
        }
        i += m;
    }
    if (!rc && n) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        sqlite3_bind_int64(q->ins_batch, 1, rid_lo);
        sqlite3_bind_int64(q->ins_batch, 2, rid_hi);
        sqlite3_bind_int64(q->ins_batch, 3, (int64_t)n);
        sqlite3_bind_int64(q->ins_batch, 4, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        rc = step_done(q, q->ins_batch, err, errlen);
    }
    if (!rc) rc = exec(q, "COMMIT", err, errlen);
    else sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------- */

/* Compile q plus the time range into "WHERE ..." with numbered parameters. */
struct where {
    struct vk_sql sql;
    char *text;
    int nparams;
    int64_t from, to;
    bool has_q;
};

/* conj >= 0: only that conjunct of qq (the caller rechecks the rest). */
static int where_build(const struct vk_query *qq, const struct vk_store_sel *sel, int conj, struct where *w, char *err,
                       size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->from = sel->from_ms;
    w->to = sel->to_ms;
    if (qq) {
        struct vk_query_err qe = {0};
        if (conj >= 0 ? vk_query_sql_conj(qq, (size_t)conj, false, &w->sql) != 0
                      : vk_query_sql(qq, VK_SQL_SQLITE, &w->sql, &qe) != 0) {
            snprintf(err, errlen, "query: %s", qe.msg[0] ? qe.msg : "cannot compile");
            return VK_EINVAL;
        }
        w->has_q = true;
    }
    int np = (int)w->sql.nparams;
    size_t len = (w->has_q ? strlen(w->sql.where) : 4) + 128;
    w->text = malloc(len);
    if (!w->text) return VK_ENOMEM;
    /* a record is in the range when it overlaps it */
    snprintf(w->text, len, "(%s) AND r.time_end >= ?%d AND r.time <= ?%d", w->has_q ? w->sql.where : "1", np + 1,
             np + 2);
    w->nparams = np + 2;
    return 0;
}

static void where_bind(sqlite3_stmt *st, const struct where *w)
{
    for (size_t i = 0; i < w->sql.nparams; i++) bind_param(st, (int)i + 1, &w->sql.params[i]);
    sqlite3_bind_int64(st, (int)w->sql.nparams + 1, w->from);
    sqlite3_bind_int64(st, (int)w->sql.nparams + 2, w->to);
}

static void where_free(struct where *w)
{
    if (w->has_q) vk_sql_free(&w->sql);
    free(w->text);
}

static int prep(struct sq *q, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) == SQLITE_OK) return 0;
    snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
    return VK_EIO;
}

/* Fill info and meta of one result row: rid, body, npos, fmin, fmax, posdrop. */
static int row_record(struct sq *q, sqlite3_stmt *st, struct vk_meta *m, struct vk_store_recinfo *info)
{
    vk_meta_reset(m);
    memset(info, 0, sizeof *info);
    info->rid = sqlite3_column_int64(st, 0);
    const void *body = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1);
    if (vk_codec_decode(body, (size_t)n, q->to_key, q->nmap, m) != 0) vk_meta_add_cstr(m, VK_K_ANOMALY, "store.bad_body");
    info->npos = (uint32_t)sqlite3_column_int64(st, 2);
    if (info->npos) {
        uint32_t fmin = (uint32_t)sqlite3_column_int64(st, 3), fmax = (uint32_t)sqlite3_column_int64(st, 4);
        info->packets_expired = !vk_store_file_exists(q->dir, fmin) || !vk_store_file_exists(q->dir, fmax);
    }
    info->packets_partial = sqlite3_column_int64(st, 5) > 0;
    return 0;
}

struct held {
    struct vk_meta m;
    struct vk_store_recinfo info;
    int key;
};

static int cmp_meta_key(const struct vk_meta *a, const struct vk_meta *b, int key)
{
    const struct vk_meta_item *x = NULL, *y = NULL;
    for (uint32_t i = 0; i < a->n && !x; i++)
        if (a->items[i].key == key) x = &a->items[i];
    for (uint32_t i = 0; i < b->n && !y; i++)
        if (b->items[i].key == key) y = &b->items[i];
    if (!x || !y) return x ? -1 : y ? 1 : 0; /* records without the key go last */
    enum vk_type t = vk_key_info((enum vk_key)key)->type;
    if (t == VK_T_UINT || t == VK_T_TIME) return x->u < y->u ? -1 : x->u > y->u;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = strncasecmp(vk_meta_str(a, x), vk_meta_str(b, y), n);
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

static int cmp_held(const void *x, const void *y, void *arg)
{
    const struct held *a = x, *b = y;
    const struct vk_store_sel *sel = arg;
    int c = cmp_meta_key(&a->m, &b->m, sel->sort_key);
    if (sel->desc) c = -c;
    if (c) return c;
    return a->info.rid < b->info.rid ? -1 : a->info.rid > b->info.rid;
}

#define SORT_MAX 2000000u

/* The narrowest conjunct of an AND, when it is narrow enough to start from: its index
 * (into vk_query_nconj) or -1. SQLite would otherwise build the full record set of every
 * term of `ip.src=X && service=tls`, millions of rids for the broad one; from the narrow
 * term's records, filtered with the evaluator (which agrees with the SQL, see
 * test_query_random), the answer is the same. */
#define NARROW_MAX 20000

static int narrowest(struct sq *q, const struct vk_query *qq)
{
    size_t nc = vk_query_nconj(qq);
    if (nc < 2) return -1;
    int best = -1;
    int64_t best_n = NARROW_MAX + 1;
    for (size_t i = 0; i < nc; i++) {
        struct vk_sql e;
        if (vk_query_sql_conj(qq, i, true, &e) != 0) continue;
        size_t len = strlen(e.where) + 16;
        char *sql = malloc(len);
        sqlite3_stmt *st = NULL;
        if (sql) snprintf(sql, len, "SELECT %s", e.where);
        if (sql && sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) == SQLITE_OK) {
            for (size_t j = 0; j < e.nparams; j++) bind_param(st, (int)j + 1, &e.params[j]);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) < best_n) {
                best_n = sqlite3_column_int64(st, 0);
                best = (int)i;
            }
        }
        sqlite3_finalize(st);
        free(sql);
        vk_sql_free(&e);
    }
    return best;
}

static int sq_query(void *b, const struct vk_query *qq, const struct vk_store_sel *sel, vk_store_rec_fn fn, void *ud,
                    char *err, size_t errlen)
{
    struct sq *q = b;
    struct where w;
    int narrow = qq ? narrowest(q, qq) : -1;
    int rc = where_build(qq, sel, narrow, &w, err, errlen);
    if (rc) return rc;
    bool insort = sel->sort_key >= 0, recheck = narrow >= 0;
    uint64_t emitted = 0;
    size_t len = strlen(w.text) + 256;
    char *sql = malloc(len);
    if (!sql) {
        where_free(&w);
        return VK_ENOMEM;
    }
    snprintf(sql, len,
             "SELECT r.rid, r.body, x.npos, x.fmin, x.fmax, x.posdrop FROM rec r LEFT JOIN recx x ON x.rid = r.rid "
             "WHERE %s ORDER BY r.time %s, r.rid %s%s",
             w.text, sel->desc && !insort ? "DESC" : "", sel->desc && !insort ? "DESC" : "",
             sel->limit && !insort && !recheck ? " LIMIT ?" : "");
    sqlite3_stmt *st = NULL;
    rc = prep(q, sql, &st, err, errlen);
    free(sql);
    if (rc) {
        where_free(&w);
        return rc;
    }
    where_bind(st, &w);
    if (sel->limit && !insort && !recheck) sqlite3_bind_int64(st, w.nparams + 1, (int64_t)sel->limit);
    struct vk_meta m;
    vk_meta_init(&m);
    struct vk_store_recinfo info;
    struct held *h = NULL;
    size_t nh = 0, caph = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        row_record(q, st, &m, &info);
        if (recheck && !vk_query_match(qq, &m)) continue;
        if (!insort) {
            if (fn(ud, &m, &info) || (sel->limit && ++emitted == sel->limit)) break;
            continue;
        }
        if (nh == SORT_MAX) {
            snprintf(err, errlen, "--sort holds at most %u records in memory: narrow the query or the time range",
                     SORT_MAX);
            rc = VK_ENOMEM;
            break;
        }
        if (nh == caph) {
            caph = caph ? caph * 2 : 1024;
            struct held *nhp = realloc(h, caph * sizeof *nhp);
            if (!nhp) {
                rc = VK_ENOMEM;
                break;
            }
            h = nhp;
        }
        vk_meta_init(&h[nh].m);
        vk_meta_append(&h[nh].m, &m);
        h[nh].info = info;
        nh++;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE && !rc) {
        snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
        rc = VK_EIO;
    }
    sqlite3_finalize(st);
    if (insort) {
        if (!rc && nh) qsort_r(h, nh, sizeof *h, cmp_held, (void *)sel);
        for (size_t i = 0; i < nh; i++) {
            if (!rc && (!sel->limit || i < sel->limit) && fn(ud, &h[i].m, &h[i].info)) rc = 1;
            vk_meta_free(&h[i].m);
        }
        free(h);
        if (rc == 1) rc = 0;
    }
    vk_meta_free(&m);
    where_free(&w);
    return rc;
}

/* A stored value as text: numbers in decimal, addresses from their 16-byte form. */
static void value_text(sqlite3_stmt *st, int col, enum vk_key k, char *out, size_t n)
{
    enum vk_type t = vk_key_info(k)->type;
    if (t == VK_T_UINT || t == VK_T_TIME) {
        snprintf(out, n, "%lld", (long long)sqlite3_column_int64(st, col));
    } else if (t == VK_T_IP && sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == 16) {
        const uint8_t *a = sqlite3_column_blob(st, col);
        static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a, v4, 12)) vk_ip_str(4, a + 12, out);
        else vk_ip_str(6, a, out);
    } else {
        const unsigned char *s = sqlite3_column_text(st, col);
        snprintf(out, n, "%s", s ? (const char *)s : "");
    }
}

/* ---- filtered value counts: over the matching records themselves ------------------ */

struct vcount {
    char *v;
    size_t n;
    uint64_t count, sessions, bytes;
};

struct vtally {
    enum vk_key key;
    struct vcount *e;
    size_t n, cap;
    uint32_t *ht; /* index + 1, open addressing */
    size_t hsz;
    int rc;
};

/* Room for one more entry in t->e (false, and t->rc set, when out of memory). */
static bool tally_room(struct vtally *t)
{
    if (t->n < t->cap) return true;
    size_t nc = t->cap ? t->cap * 2 : 64;
    struct vcount *ne = realloc(t->e, nc * sizeof *ne);
    if (!ne) {
        t->rc = VK_ENOMEM;
        return false;
    }
    t->e = ne;
    t->cap = nc;
    return true;
}

static bool tally_grow(struct vtally *t)
{
    size_t nh = t->hsz ? t->hsz * 2 : 1024;
    uint32_t *h = calloc(nh, sizeof *h);
    if (!h) return false;
    for (size_t i = 0; i < t->n; i++) {
        size_t slot = XXH3_64bits(t->e[i].v, t->e[i].n) & (nh - 1);
        while (h[slot]) slot = (slot + 1) & (nh - 1);
        h[slot] = (uint32_t)i + 1;
    }
    free(t->ht);
    t->ht = h;
    t->hsz = nh;
    return true;
}

/* Count a value (exact bytes; values of a key are a set per record) for `count` records of
 * which `sessions` are sessions carrying `bytes`. O(1) amortised. */
static void tally_addn(struct vtally *t, const char *v, size_t n, uint64_t count, uint64_t sessions, uint64_t bytes)
{
    if ((t->n + 1) * 2 > t->hsz && !tally_grow(t)) {
        t->rc = VK_ENOMEM;
        return;
    }
    size_t slot = XXH3_64bits(v, n) & (t->hsz - 1);
    for (;;) {
        uint32_t at = t->ht[slot];
        if (!at) break;
        struct vcount *e = &t->e[at - 1];
        if (e->n == n && !memcmp(e->v, v, n)) {
            e->count += count;
            e->sessions += sessions;
            e->bytes += bytes;
            return;
        }
        slot = (slot + 1) & (t->hsz - 1);
    }
    if (!tally_room(t)) return;
    struct vcount *e = &t->e[t->n];
    e->v = malloc(n + 1);
    if (!e->v) {
        t->rc = VK_ENOMEM;
        return;
    }
    memcpy(e->v, v, n);
    e->v[n] = 0;
    e->n = n;
    e->count = count;
    e->sessions = sessions;
    e->bytes = bytes;
    t->ht[slot] = (uint32_t)++t->n;
}

static void tally_add(struct vtally *t, const char *v, size_t n, bool session, uint64_t bytes)
{
    tally_addn(t, v, n, 1, session, bytes);
}

static int tally_rec(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct vtally *t = ud;
    (void)info;
    bool session = !is_event(m);
    uint64_t bytes = first_uint(m, VK_K_BYTES_SRC, 0) + first_uint(m, VK_K_BYTES_DST, 0);
    enum vk_type ty = vk_key_info(t->key)->type;
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != t->key) continue;
        if (ty == VK_T_UINT || ty == VK_T_TIME) {
            char num[24];
            int n = snprintf(num, sizeof num, "%llu", (unsigned long long)it->u);
            tally_add(t, num, (size_t)n, session, bytes);
        } else {
            tally_add(t, vk_meta_str(m, it), it->len, session, bytes);
        }
    }
    return t->rc != 0;
}

static int cmp_vcount(const void *x, const void *y, void *arg)
{
    const struct vcount *a = x, *b = y;
    enum vk_store_by by = *(const enum vk_store_by *)arg;
    uint64_t ka = by == VK_BY_BYTES ? a->bytes : by == VK_BY_SESSIONS ? a->sessions : a->count;
    uint64_t kb = by == VK_BY_BYTES ? b->bytes : by == VK_BY_SESSIONS ? b->sessions : b->count;
    if (ka != kb) return ka > kb ? -1 : 1;
    int c = strcasecmp(b->v, a->v); /* ties: value descending, as the SQL paths order them */
    return c;
}

static int sq_query(void *b, const struct vk_query *qq, const struct vk_store_sel *sel, vk_store_rec_fn fn, void *ud,
                    char *err, size_t errlen);

/* ---- filtered values -----------------------------------------------------------------
 * A selective filter is answered from the matching records' bodies. A broad one (over a
 * sixteenth of the records) is answered from the key's posting lists instead: the
 * filter's records become a bitmap over the rid range (with, per record, whether it is a
 * session and its bytes), and one pass over the lists counts, per value, the rids in the
 * bitmap; testing a bit costs nanoseconds where decoding a body costs microseconds. The
 * bitmap is kept for the next key of the same `vakt values` call (same query, same range). */

static void fset_free(struct fset *f)
{
    free(f->in);
    free(f->ses);
    free(f->bytes);
    memset(f, 0, sizeof *f);
}

static int fset_build(struct sq *q, const struct vk_query *qq, const struct vk_store_sel *sel, char *err, size_t errlen)
{
    struct fset *f = q->fset;
    if (f->in && f->q == qq && !memcmp(&f->sel, sel, sizeof *sel)) return 0;
    fset_free(f);
    int64_t lo = scalar(q, "SELECT coalesce(min(rid), 1) FROM rec"), hi = scalar(q, "SELECT coalesce(max(rid), 0) FROM rec");
    f->lo = lo;
    f->n = hi >= lo ? hi - lo + 1 : 0;
    size_t words = (size_t)(f->n + 63) / 64 + 1;
    f->in = calloc(words, sizeof *f->in);
    f->ses = calloc(words, sizeof *f->ses);
    f->bytes = calloc((size_t)f->n + 1, sizeof *f->bytes);
    if (!f->in || !f->ses || !f->bytes) {
        fset_free(f);
        snprintf(err, errlen, "out of memory for a filter over %lld records", (long long)(hi - lo + 1));
        return VK_ENOMEM;
    }
    struct where w;
    int rc = where_build(qq, sel, -1, &w, err, errlen);
    size_t len = w.text ? strlen(w.text) + 160 : 0;
    char *sql = rc ? NULL : malloc(len);
    sqlite3_stmt *st = NULL;
    if (!rc && !sql) rc = VK_ENOMEM;
    if (!rc) {
        snprintf(sql, len, "SELECT r.rid, r.kind, coalesce(x.bytes, 0) FROM rec r LEFT JOIN recx x ON x.rid = r.rid WHERE %s",
                 w.text);
        rc = prep(q, sql, &st, err, errlen);
    }
    if (!rc) {
        where_bind(st, &w);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t i = sqlite3_column_int64(st, 0) - lo;
            if (i < 0 || i >= f->n) continue;
            f->in[i >> 6] |= 1ull << (i & 63);
            if (sqlite3_column_int(st, 1) == 0) f->ses[i >> 6] |= 1ull << (i & 63);
            f->bytes[i] = (uint64_t)sqlite3_column_int64(st, 2);
            f->count++;
        }
        if (r != SQLITE_DONE) {
            snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
            rc = VK_EIO;
        }
    }
    sqlite3_finalize(st);
    free(sql);
    where_free(&w);
    if (rc) {
        fset_free(f);
        return rc;
    }
    f->q = qq;
    f->sel = *sel;
    return 0;
}

/* Keep v with its counts if it is among the `top` best so far (t->e stays sorted best
 * first, at most top long). */
static void top_offer(struct vtally *t, unsigned top, enum vk_store_by by, const char *v, uint64_t count, uint64_t ses,
                      uint64_t bytes)
{
    struct vcount c = {(char *)v, strlen(v), count, ses, bytes};
    if (!top || (t->n == top && cmp_vcount(&c, &t->e[t->n - 1], &by) >= 0)) return;
    if (t->n == top) {
        free(t->e[--t->n].v);
    } else if (!tally_room(t)) {
        return;
    }
    size_t at = t->n;
    while (at && cmp_vcount(&c, &t->e[at - 1], &by) < 0) at--;
    if (!(c.v = strdup(v))) {
        t->rc = VK_ENOMEM;
        return;
    }
    memmove(&t->e[at + 1], &t->e[at], (t->n - at) * sizeof *t->e);
    t->e[at] = c;
    t->n++;
}

/* Count the values of key over the records of q->fset from the key's posting lists. A
 * value-first table yields each value's lists together, in value order: its counts are
 * final when the value changes, and only the `top` best are kept. A batch-first one
 * (nearly unique values) is tallied in a hash table. */
static int values_from_lists(struct sq *q, enum vk_key key, unsigned top, enum vk_store_by by, struct vtally *t,
                             char *err, size_t errlen)
{
    const struct fset *f = q->fset;
    const char *tab = vk_query_sql_table(key);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT 1 FROM sqlite_schema WHERE name = '%s' AND sql LIKE '%%PRIMARY KEY(v%%'", tab);
    bool grouped = scalar(q, sql) == 1;
    snprintf(sql, sizeof sql, "SELECT v, rids FROM %s%s", tab,
             !grouped ? "" : vk_key_info(key)->type == VK_T_STR ? " ORDER BY v COLLATE BINARY, b" : " ORDER BY v, b");
    sqlite3_stmt *st = NULL;
    int rc = prep(q, sql, &st, err, errlen);
    if (rc) return rc;
    char val[VK_META_MAX_STR + 1];
    uint8_t *prev = malloc(VK_META_MAX_STR + 16);
    size_t prevn = 0;
    int prevt = 0;
    uint64_t gc = 0, gs = 0, gb = 0; /* the current value's counts (grouped) */
    int r = SQLITE_DONE;
    if (!prev) rc = t->rc = VK_ENOMEM;
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW && !t->rc) {
        int ty = sqlite3_column_type(st, 0);
        const void *vb = ty == SQLITE_INTEGER ? NULL : sqlite3_column_blob(st, 0);
        static const uint8_t empty[1];
        if (ty != SQLITE_INTEGER && !vb) vb = empty; /* an empty value */
        int64_t vi = ty == SQLITE_INTEGER ? sqlite3_column_int64(st, 0) : 0;
        size_t vn = ty == SQLITE_INTEGER ? sizeof vi : (size_t)sqlite3_column_bytes(st, 0);
        if (vn > VK_META_MAX_STR + 16) vn = VK_META_MAX_STR + 16;
        if (grouped && (ty != prevt || vn != prevn || memcmp(prev, vb ? vb : (const void *)&vi, vn))) {
            if (gc) top_offer(t, top, by, val, gc, gs, gb);
            gc = gs = gb = 0;
            memcpy(prev, vb ? vb : (const void *)&vi, vn);
            prevn = vn;
            prevt = ty;
            value_text(st, 0, key, val, sizeof val);
        }
        const uint8_t *p = sqlite3_column_blob(st, 1), *end = p + sqlite3_column_bytes(st, 1);
        uint64_t count = 0, ses = 0, bytes = 0;
        int64_t rid = 0;
        while (p && vk_query_rids_next(&p, end, &rid)) {
            int64_t i = rid - f->lo;
            if (i < 0 || i >= f->n || !(f->in[i >> 6] >> (i & 63) & 1)) continue;
            count++;
            ses += f->ses[i >> 6] >> (i & 63) & 1;
            bytes += f->bytes[i];
        }
        if (grouped) {
            gc += count, gs += ses, gb += bytes;
        } else if (count) {
            value_text(st, 0, key, val, sizeof val);
            tally_addn(t, val, strlen(val), count, ses, bytes);
        }
    }
    if (!rc && grouped && gc && !t->rc) top_offer(t, top, by, val, gc, gs, gb);
    if (!rc && r != SQLITE_DONE && r != SQLITE_ROW) {
        snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
        rc = VK_EIO;
    }
    free(prev);
    sqlite3_finalize(st);
    return rc;
}

static int values_filtered(struct sq *q, const struct vk_query *qq, const struct vk_store_sel *sel, enum vk_key key,
                           unsigned top, enum vk_store_by by, vk_store_val_fn fn, void *ud, char *err, size_t errlen)
{
    struct vtally t = {.key = key};
    bool narrow = qq && narrowest(q, qq) >= 0; /* an AND with a narrow term: few records */
    int rc = narrow ? 0 : fset_build(q, qq, sel, err, errlen);
    if (!rc && !narrow && q->fset->count * 16 > (uint64_t)q->fset->n) {
        rc = values_from_lists(q, key, top, by, &t, err, errlen);
    } else if (!rc) {
        struct vk_store_sel all = *sel;
        all.limit = 0;
        all.sort_key = -1;
        rc = sq_query(q, qq, &all, tally_rec, &t, err, errlen);
    }
    if (!rc && t.rc) {
        snprintf(err, errlen, "out of memory counting the values of %s", vk_key_info(key)->name);
        rc = t.rc;
    }
    if (!rc && t.n) {
        qsort_r(t.e, t.n, sizeof *t.e, cmp_vcount, &by);
        for (size_t i = 0; i < t.n && i < top; i++)
            if (fn(ud, t.e[i].v, t.e[i].count, t.e[i].sessions, t.e[i].bytes)) break;
    }
    for (size_t i = 0; i < t.n; i++) free(t.e[i].v);
    free(t.e);
    free(t.ht);
    return rc;
}

static int sq_values(void *b, const struct vk_query *qq, const struct vk_store_sel *sel, enum vk_key key, unsigned top,
                     enum vk_store_by by, vk_store_val_fn fn, void *ud, char *err, size_t errlen)
{
    struct sq *q = b;
    const char *tab = vk_query_sql_table(key);
    if (!tab) {
        snprintf(err, errlen, "values: %s is a time; use `vakt timeline`", vk_key_info(key)->name);
        return VK_EINVAL;
    }
    bool all = !qq && sel->from_ms == INT64_MIN && sel->to_ms == INT64_MAX;
    bool sums = all && no_agg(key) && by == VK_BY_COUNT; /* counts from the list lengths */
    if (!all || (no_agg(key) && !sums)) return values_filtered(q, qq, sel, key, top, by, fn, ud, err, errlen);
    /* unfiltered: the running counts (or the list lengths) answer without touching records;
     * ties by value, descending, so that the (pid, n, v) index gives the order as it is */
    char sql[256];
    if (sums)
        snprintf(sql, sizeof sql, "SELECT v, sum(n), 0, 0, ?1 FROM %s GROUP BY v ORDER BY 2 DESC, v DESC LIMIT ?2", tab);
    else
        snprintf(sql, sizeof sql,
                 "SELECT v, n, sessions, bytes FROM agg WHERE pid = ?1 AND n > 0 ORDER BY %s DESC, v DESC LIMIT ?2",
                 by == VK_BY_BYTES ? "4" : by == VK_BY_SESSIONS ? "3" : "2");
    sqlite3_stmt *st = NULL;
    int rc = prep(q, sql, &st, err, errlen);
    if (!rc) {
        sqlite3_bind_int(st, 1, q->to_pid[key]);
        sqlite3_bind_int64(st, 2, top);
        int r;
        char val[VK_META_MAX_STR + 1];
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            value_text(st, 0, key, val, sizeof val);
            if (fn(ud, val, (uint64_t)sqlite3_column_int64(st, 1), (uint64_t)sqlite3_column_int64(st, 2),
                   (uint64_t)sqlite3_column_int64(st, 3)))
                break;
        }
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
            snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
            rc = VK_EIO;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_timeline(void *b, const struct vk_query *qq, const struct vk_store_sel *sel, int64_t bucket_ms,
                       vk_store_bucket_fn fn, void *ud, char *err, size_t errlen)
{
    struct sq *q = b;
    if (bucket_ms <= 0) bucket_ms = 60000;
    struct where w;
    int rc = where_build(qq, sel, -1, &w, err, errlen);
    if (rc) return rc;
    size_t len = strlen(w.text) + 256;
    char *sql = malloc(len);
    if (!sql) {
        where_free(&w);
        return VK_ENOMEM;
    }
    snprintf(sql, len,
             "SELECT (r.time / ?%d) * ?%d AS b, count(*), sum(coalesce(x.bytes, 0)) FROM rec r "
             "LEFT JOIN recx x ON x.rid = r.rid WHERE %s GROUP BY b ORDER BY b",
             w.nparams + 1, w.nparams + 1, w.text);
    sqlite3_stmt *st = NULL;
    rc = prep(q, sql, &st, err, errlen);
    free(sql);
    if (!rc) {
        where_bind(st, &w);
        sqlite3_bind_int64(st, w.nparams + 1, bucket_ms);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            if (fn(ud, sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
                   (uint64_t)sqlite3_column_int64(st, 2)))
                break;
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
            snprintf(err, errlen, "meta store %s/meta.db: %s", q->dir, sqlite3_errmsg(q->db));
            rc = VK_EIO;
        }
    }
    sqlite3_finalize(st);
    where_free(&w);
    return rc;
}

static int sq_positions(void *b, const char *id, uint64_t **pos, size_t *n, char *err, size_t errlen)
{
    struct sq *q = b;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT x.pos FROM %s k, vk_rids(k.rids) p JOIN recx x ON x.rid = p.rid WHERE k.v COLLATE BINARY = ?1 ORDER BY p.rid",
             vk_query_sql_table(VK_K_ID));
    sqlite3_stmt *st;
    int rc = prep(q, sql, &st, err, errlen);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int found = 0, r;
    *pos = NULL;
    *n = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && !rc) {
        found++;
        rc = vk_pos_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), pos, n);
        if (rc) snprintf(err, errlen, "damaged packet index for session %s", id);
    }
    sqlite3_finalize(st);
    if (!rc && !found) {
        snprintf(err, errlen, "no session with id %s", id);
        rc = VK_STORE_NOTFOUND;
    }
    return rc;
}

static int64_t scalar(struct sq *q, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Delete the records with rid <= upto (a batch boundary) from every table, and take them
 * out of the value counts (recomputed from the remaining posting lists: a full pass over
 * the index tables, which is why retention runs seldom). */
static int delete_upto(struct sq *q, int64_t upto, uint64_t *deleted)
{
    char sql[512], err[256];
    int rc = exec(q, "BEGIN IMMEDIATE", err, sizeof err);
    if (rc) return rc;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rec WHERE rid <= %lld", (long long)upto);
    *deleted += (uint64_t)scalar(q, sql);
    for (int k = 0; k < VK_K__COUNT && !rc; k++) {
        const char *tab = vk_query_sql_table((enum vk_key)k);
        if (!tab) continue;
        /* upto is the last rid of a batch, and b the first: whole lists go */
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE b <= %lld", tab, (long long)upto);
        rc = exec(q, sql, err, sizeof err);
        if (rc) break;
        if (no_agg(k)) continue;
        snprintf(sql, sizeof sql,
                 "DELETE FROM agg WHERE pid = %d; INSERT INTO agg(pid, v, n, sessions, bytes) SELECT %d, k.v, count(*), "
                 "sum(r.kind = 0), sum(coalesce(x.bytes, 0)) FROM %s k, vk_rids(k.rids) p JOIN rec r ON r.rid = p.rid "
                 "LEFT JOIN recx x ON x.rid = p.rid GROUP BY k.v",
                 q->to_pid[k], q->to_pid[k], tab);
        rc = exec(q, sql, err, sizeof err);
    }
    if (!rc) {
        snprintf(sql, sizeof sql,
                 "DELETE FROM recx WHERE rid <= %lld; DELETE FROM rec WHERE rid <= %lld; DELETE FROM batches WHERE rid_hi <= %lld",
                 (long long)upto, (long long)upto, (long long)upto);
        rc = exec(q, sql, err, sizeof err);
    }
    if (!rc) rc = exec(q, "COMMIT", err, sizeof err);
    else sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int sq_retention(void *b, int64_t cutoff_ms, uint64_t max_bytes, uint64_t *deleted)
{
    struct sq *q = b;
    char sql[256];
    int rc = 0;
    if (cutoff_ms != INT64_MIN) {
        snprintf(sql, sizeof sql, "SELECT coalesce(max(rid_hi), 0) FROM batches WHERE committed_ms < %lld",
                 (long long)cutoff_ms);
        int64_t upto = scalar(q, sql);
        if (upto > 0) rc = delete_upto(q, upto, deleted);
    }
    if (!rc && max_bytes) {
        int64_t used = (scalar(q, "PRAGMA page_count") - scalar(q, "PRAGMA freelist_count")) * scalar(q, "PRAGMA page_size");
        int64_t recs = scalar(q, "SELECT count(*) FROM rec");
        if (used > (int64_t)max_bytes && recs > 0) {
            /* drop the oldest share that brings the store under its cap, by whole batches */
            int64_t drop = recs - (int64_t)((double)recs * (double)max_bytes / (double)used);
            snprintf(sql, sizeof sql,
                     "SELECT coalesce(min(rid_hi), 0) FROM batches WHERE rid_hi >= (SELECT min(rid) FROM rec) + %lld",
                     (long long)(drop > 0 ? drop - 1 : 0));
            int64_t upto = scalar(q, sql);
            if (upto > 0) rc = delete_upto(q, upto, deleted);
        }
    }
    return rc;
}

static int sq_stats(void *b, struct vk_store_stats *st)
{
    struct sq *q = b;
    st->records = (uint64_t)scalar(q, "SELECT count(*) FROM rec");
    st->events = (uint64_t)scalar(q, "SELECT count(*) FROM rec WHERE kind = 1");
    st->time_min = scalar(q, "SELECT min(time) FROM rec");
    st->time_max = scalar(q, "SELECT max(time_end) FROM rec");
    st->meta_bytes = (uint64_t)(scalar(q, "PRAGMA page_count") * scalar(q, "PRAGMA page_size"));
    return 0;
}

const struct vk_backend_ops vk_backend_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .write_batch = sq_write_batch,
    .query = sq_query,
    .values = sq_values,
    .timeline = sq_timeline,
    .positions = sq_positions,
    .retention = sq_retention,
    .stats = sq_stats,
    .close = sq_close,
};
