/* query_int.h — private to src/query: the AST that query_parse.c builds and query_eval.c
 * and query_sql.c read, and the few value helpers both consumers must share so that they
 * read a record the same way (string ends at NUL, ASCII folding, address text). */
#ifndef VK_QUERY_INT_H
#define VK_QUERY_INT_H

#include <regex.h>

#include "vk_query.h"

enum q_kind { QN_AND = 1, QN_OR, QN_NOT, QN_CMP, QN_EXISTS };
enum q_op { QO_EQ = 1, QO_LT, QO_LE, QO_GT, QO_GE, QO_CONTAINS, QO_BEGINS, QO_ENDS, QO_REGEX };

struct q_range { int64_t lo, hi; };            /* uint and time values, inclusive */
struct q_iprange { uint8_t lo[16], hi[16]; };  /* addresses as 16 bytes, inclusive */
struct q_str {
    const char *s;     /* as written (after unescaping); NUL-terminated */
    size_t n;
    const char *fold;  /* ASCII-lowered copy for case-insensitive operators, else == s */
};

struct q_node {
    enum q_kind kind;
    int pos;                  /* 1-based column where the node starts */
    struct q_node **kids;     /* AND, OR: nkids >= 2; NOT: one */
    size_t nkids;
    /* QN_CMP and QN_EXISTS */
    enum vk_key key;
    enum vk_type type;
    enum q_op op;
    bool cs;                  /* case-sensitive string operator (==, *_cs) */
    size_t nvals;             /* values of an = list; 1 for the other operators */
    union {
        struct q_range *num;
        struct q_iprange *ip;
        struct q_str *str;
    } v;
    regex_t *re;              /* QO_REGEX */
};

struct q_chunk;
struct q_regex;
struct vk_query {
    struct q_node *root;
    struct q_chunk *mem;      /* bump allocator: every node and value */
    struct q_regex *regs;     /* compiled regexes, for regfree */
};

/* ASCII-only case folding: exactly SQLite's NOCASE collation and lower(). */
static inline unsigned char vk_query_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The string of a meta item as the query layer sees it: up to its first NUL byte. */
static inline const char *vk_query_item_str(const struct vk_meta *m, const struct vk_meta_item *it,
                                            size_t *n)
{
    if (!m->arena || it->len == 0) {
        *n = 0;
        return "";
    }
    const char *s = m->arena + it->off;
    const char *z = memchr(s, 0, it->len);
    *n = z ? (size_t)(z - s) : it->len;
    return s;
}

/* A numeric item (uint, time) capped at INT64_MAX, as SQLite's INTEGER holds it. */
static inline int64_t vk_query_item_num(const struct vk_meta_item *it)
{
    return it->u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)it->u;
}

/* An address item as 16 bytes (IPv4 mapped). The value is read as address text first
 * (what vk_meta_add_ip writes), else as 4 or 16 raw bytes in network order. False when it
 * is neither. O(length); no allocation. */
bool vk_query_item_ip(const struct vk_meta *m, const struct vk_meta_item *it, uint8_t out[16]);
/* Address text (v4 or v6) to 16 bytes; false when it is not one. */
bool vk_query_ip_text(const char *s, size_t n, uint8_t out[16]);

/* The regex engine both consumers use: POSIX ERE (REG_EXTENDED | REG_NOSUB, REG_ICASE when
 * case-insensitive). check refuses what could be slow or huge (back-references, large
 * repetition counts, > VK_QUERY_MAX_REGEX bytes); regexec matches s[0..n) (REG_STARTEND). */
int vk_query_regex_check(const char *pat, size_t n, const char **why);
int vk_query_regcomp(regex_t *re, const char *pat, bool icase, char *err, size_t errlen);
bool vk_query_regexec(const regex_t *re, const char *s, size_t n);

/* Time text: one value at the start of s[0..n); *used gets its length. Returns 0, or -1
 * with a reason in *why. See query_time.c for the forms. */
int vk_query_time_prefix(const char *s, size_t n, int64_t now_ms, int64_t *out, size_t *used,
                         const char **why);
/* ms since epoch as `2013-11-25T14:55:58.000Z` (plain number outside years 0..9999). */
void vk_query_time_str(int64_t ms, char out[40]);

/* query_rids.c: the vk_rids() table function on a connection. */
struct sqlite3;
int vk_query_rids_register(struct sqlite3 *db);

#endif
