/* vk_query.h — vakt's query language: one parsed, typed AST for every consumer.
 *
 * A query (`service=http && ip.src=10.0.0.0/8 && !exists file.sha256`) is parsed once
 * against the key registry into an immutable AST. That AST is then either evaluated on an
 * in-memory record (vk_query_match: streaming rules, `vakt query` over files) or compiled
 * to a SQL boolean expression with bound parameters (vk_query_sql: the meta store). The
 * grammar and the exact semantics (sets of values, negation, case folding) are in
 * docs/QUERY.md; the evaluator and the SQL agree on every record by construction and by
 * a randomized equivalence test (tests/unit/test_query_random.c).
 *
 * This header also fixes the SQLite physical layout the compiler targets, so that the
 * store fills exactly what the SQL reads. */
#ifndef VK_QUERY_H
#define VK_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/vk_core.h"

/* Bounds: a query past any of them is an error, never a crash. */
#define VK_QUERY_MAX_LEN 65536   /* bytes of query text */
#define VK_QUERY_MAX_DEPTH 64    /* nesting of ( and ! */
#define VK_QUERY_MAX_LIST 1024   /* values in one list (a,b,c) */
#define VK_QUERY_MAX_TERMS 512   /* comparisons and exists in one query */
#define VK_QUERY_MAX_VALUES 4096 /* values in all lists of one query */
#define VK_QUERY_MAX_REGEX 1024  /* bytes of one regex */

struct vk_query; /* parsed, typed AST; immutable after parse */
struct vk_query_err {
    int pos;       /* 1-based column (byte offset + 1) in the query text, 0 if none */
    char msg[256]; /* "query: unknown key 'ip.scr' at column 1 (did you mean ip.src?)" */
};

/* Parse and type a query. now_ms anchors relative times (`time>-1h`). Returns NULL with err
 * filled on any error. Cost: O(length of text) plus regcomp for each regex. */
struct vk_query *vk_query_parse(const char *text, int64_t now_ms, struct vk_query_err *err);
void vk_query_free(struct vk_query *q);

/* In-memory evaluator. Thread-safe for concurrent callers on one q; allocates nothing
 * itself (glibc's regexec does, for regex terms). Cost: O(terms x items of rec)
 * comparisons, each O(value length) for strings, regexec for regex terms. */
bool vk_query_match(const struct vk_query *q, const struct vk_meta *rec);

/* Parse one time value the way the query does (`2013-11-25T14:55:58Z`, `2013-11-25 14:55`,
 * epoch seconds or ms, `-1h`, `now`), for --from/--to. Returns 0 or VK_EINVAL with err. */
int vk_query_parse_time(const char *s, int64_t now_ms, int64_t *out_ms, struct vk_query_err *err);

/* The range of `time` the query implies, for partition pruning: *lo <= time <= *hi for
 * every record that can match (INT64_MIN / INT64_MAX on an open side). ANDs intersect,
 * ORs take the hull when every branch is bounded, anything under ! is ignored. Returns
 * false when the query does not bound `time`. *lo > *hi means nothing can match. */
bool vk_query_time_bounds(const struct vk_query *q, int64_t *lo, int64_t *hi);

/* A string rendering of the AST (for tests and `--explain`), e.g.
 * `(and (= service "http") (not (exists file.sha256)))`. malloc'ed; NULL on OOM. */
char *vk_query_dump(const struct vk_query *q);

/* The value of `time` and `time.end` of a record, as the evaluator reads them: the first
 * VK_K_TIME item (0 when there is none) and the first VK_K_TIME_END item (time when there
 * is none), each capped at INT64_MAX. The store must fill rec.time / rec.time_end with
 * exactly these so that the SQL and the evaluator agree. O(items). */
void vk_query_rec_times(const struct vk_meta *m, int64_t *time, int64_t *time_end);

/* ---- SQL ------------------------------------------------------------------------------ */
enum vk_sql_dialect { VK_SQL_SQLITE = 1, VK_SQL_CLICKHOUSE };
enum vk_sql_ptype { VK_SQLP_INT = 1, VK_SQLP_TEXT, VK_SQLP_BLOB };
struct vk_sql_param {
    enum vk_sql_ptype type;
    int64_t i;
    char *p;
    size_t n;
    uint8_t ip[16]; /* storage for an address made by vk_query_sql_value (p points here) */
};
struct vk_sql {
    char *where;
    struct vk_sql_param *params; /* owned by the vk_sql */
    size_t nparams;
};

/* Compile to a boolean SQL expression over the record table aliased `r` (columns r.rid,
 * r.time, r.time_end, r.kind). Values always travel as bound parameters numbered
 * ?1..?N in order (params[i] is ?i+1); never in the SQL text. Returns 0, or a negative
 * VK_E* code with err (VK_SQL_CLICKHOUSE: not implemented yet). O(size of AST). */
int vk_query_sql(const struct vk_query *q, enum vk_sql_dialect d, struct vk_sql *out,
                 struct vk_query_err *err);
void vk_sql_free(struct vk_sql *s);
/* The query's top-level conjuncts (an AND's children; any other query is one). A record
 * matches the query only if it matches every conjunct, so the records of one conjunct,
 * filtered with vk_query_match, are the query's: a planner can start from the narrowest. */
size_t vk_query_nconj(const struct vk_query *q);
/* SQLite SQL for conjunct i: its boolean expression over `rec r` (estimate false), or,
 * when it is a term on a key table (not time), an expression giving the size of its
 * posting lists, an upper bound on the records it matches (estimate true). VK_EINVAL when
 * i is out of range or the conjunct has no estimate. */
int vk_query_sql_conj(const struct vk_query *q, size_t i, bool estimate, struct vk_sql *out);

/* ---- the SQLite physical layout -----------------------------------------------------------
 * rec(rid INTEGER PRIMARY KEY, kind INTEGER NOT NULL, time INTEGER NOT NULL,
 *     time_end INTEGER NOT NULL, body BLOB NOT NULL) + index rec_time ON rec(time).
 * One table per registry key except time and time.end, holding posting lists:
 *     k_<name, '.' and '-' as '_'>(v T, b INTEGER, n INTEGER, rids BLOB, PRIMARY KEY(v, b)) WITHOUT ROWID
 * with T = TEXT COLLATE NOCASE (strings; the key is v COLLATE BINARY, plus an index
 * k_<name>_ci on v), INTEGER (uint, time: ms), BLOB (ip: 16 bytes, IPv4 as ::ffff:a.b.c.d).
 * One row per exact value and write batch b (any number that is unique per batch, e.g. its
 * first rid): rids lists, ascending, the n records of the batch holding the value
 * (vk_query_rids_encode); SQL reads a list with the table function vk_rids(rids). */

/* "k_ip_src" for ip.src; NULL for time and time.end (rec columns) and unknown keys. */
const char *vk_query_sql_table(enum vk_key k);
/* Calls stmt once per CREATE TABLE/INDEX IF NOT EXISTS statement (rec, its index, every
 * key table). Returns 0, or VK_EINVAL for a dialect not implemented yet. */
int vk_query_sql_ddl(enum vk_sql_dialect d, void (*stmt)(void *ud, const char *sql), void *ud);
/* How one meta value is stored in its key table: INT (uint and time, capped at
 * INT64_MAX), TEXT (a string, up to its first NUL byte; out->p points into m) or BLOB
 * (16-byte address; out->p points to out->ip, so bind before copying *out). Never
 * allocates. Returns 0, or VK_EINVAL when the item is not storable (an ip value that is
 * neither address text nor 4/16 bytes: the evaluator ignores such values too). */
int vk_query_sql_value(const struct vk_meta *m, const struct vk_meta_item *it,
                       struct vk_sql_param *out);
/* Registers on a sqlite3 connection what the SQL needs: vk_regexp(pattern, value) and
 * vk_iregexp(pattern, value) (POSIX ERE, regcomp cached per statement through sqlite
 * auxdata), `regexp` as the case-sensitive one so `v REGEXP 'x'` works in a shell, and
 * the table function vk_rids(list). Returns 0 or VK_EINVAL. */
int vk_query_sqlite_register(void *sqlite3_db);
/* A posting list: ascending rids as varint deltas into out (at most 10 bytes per rid).
 * Returns the bytes written. */
size_t vk_query_rids_encode(const int64_t *rids, size_t n, uint8_t *out);
/* Read the next rid of a list at *p (start with *rid = 0). False at the end or on a
 * damaged list. */
bool vk_query_rids_next(const uint8_t **p, const uint8_t *end, int64_t *rid);

#endif
