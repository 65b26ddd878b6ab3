/* logs_int.h — what the parsing files of src/logs share: the framed line, fields, time
 * helpers, the template engine and the miner. Private to the stage; the public face is
 * vk_logs.h. */
#ifndef VK_LOGS_INT_H
#define VK_LOGS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logs/vk_logs.h"

/* ASCII lower-casing and classes without the locale calls of <ctype.h> (each isalnum()
 * is a function call through __ctype_b_loc): the per-byte loops use these tables. */
extern const uint8_t llower[256];
extern const uint8_t lclass[256];
enum { LC_DIGIT = 1, LC_ALPHA = 2, LC_HEX = 4, LC_UPPER = 8, LC_SPACE = 16, LC_SHAPE = 32, LC_BRACKET = 64 };
#define L_DIGIT(c) (lclass[(uint8_t)(c)] & LC_DIGIT)
#define L_ALNUM(c) (lclass[(uint8_t)(c)] & (LC_DIGIT | LC_ALPHA))
#define L_XDIGIT(c) (lclass[(uint8_t)(c)] & LC_HEX)
#define L_UPPER(c) (lclass[(uint8_t)(c)] & LC_UPPER)
#define L_LOWER(c) ((char)llower[(uint8_t)(c)])

enum lformat { LF_PLAIN, LF_3164, LF_5424, LF_CEF, LF_LEEF, LF_JSON, LF_KV };
extern const char *const lformat_name[];

/* A named value found in a structured line: JSON (flattened, "a.b.c"), key=value,
 * CEF/LEEF extensions, RFC 5424 structured data ("sdid.param"). Bytes point into the
 * line or into the scratch arena. */
struct lfield {
    const char *name, *val;
    uint32_t nlen, vlen;
};
#define LF_MAX_FIELDS 384

struct lstr {
    const char *p;
    size_t n;
};

/* One line after framing. Strings point into the line or the scratch arena. */
struct lline {
    const char *line;
    size_t len;
    enum lformat fmt;
    struct lstr msg, host, prog, level, comp;
    bool comp_mod; /* comp came from "[module:level]": a module, not the program */
    uint64_t pid;
    bool has_pid;
    int64_t time_ms; /* 0: none in the line */
    int sev, fac;    /* -1: none */
    int64_t event_id; /* -1: none (CEF/LEEF signature ids that are numbers, ASA ids) */
    struct lfield f[LF_MAX_FIELDS];
    uint32_t nf;
    /* scratch for unescaped JSON strings and flattened names */
    char *scratch;
    size_t scratch_len, scratch_cap;
};

/* framing.c: fill l from the line (l->line/len set by the caller). recv_ms gives RFC 3164
 * stamps their year. O(len); allocates only when the scratch arena must grow. */
void lframe_parse(struct lline *l, int64_t recv_ms);
/* Scratch bytes (NULL when the cap is passed). */
char *lscratch(struct lline *l, size_t n);

/* ltime.c — timestamps. Each returns the bytes consumed (0: no stamp here) and the time in
 * ms since the epoch (UTC unless the stamp has an offset). */
size_t ltime_scan(const char *p, size_t n, int64_t recv_ms, int64_t *ms);
bool ltime_iso(const char *p, size_t n, int64_t *ms);  /* whole string must be a stamp */
bool ltime_any(const char *p, size_t n, int64_t recv_ms, int64_t *ms); /* ISO, epoch, 3164 */
int64_t ltime_days(int y, int m, int d);                /* days since 1970-01-01 */

/* Parse an IPv4/IPv6 address (optionally "::ffff:"-mapped, bracketed, or with a ":port"
 * on IPv4). Returns the family (4/6) or 0; addr gets 4 or 16 bytes. */
int lparse_ip(const char *p, size_t n, uint8_t *addr);

/* ---- fields ------------------------------------------------------------------------ */
/* Field by name: exact (case-insensitive) match of the whole dotted name, or of a suffix
 * that starts after a '.' (so "TargetUserName" finds "winlog.event_data.TargetUserName").
 * O(fields). */
const struct lfield *lfield_get(const struct lline *l, const char *name, size_t nlen);

/* ---- template engine (template.c) ------------------------------------------------- */
struct ltmpl_set;
struct ltmpl_set *ltmpl_load(const char *dir, char *err, size_t errlen);
void ltmpl_free(struct ltmpl_set *ts);
unsigned ltmpl_count(const struct ltmpl_set *ts, unsigned *files);
/* Apply the matching rules to the line: keys go to out. Returns true when a rule matched.
 * Cost: hash of the program name, then per rule of that program (and of the generic
 * files) a literal prefilter before the pattern is tried. */
bool ltmpl_apply(struct ltmpl_set *ts, const struct lline *l, struct vk_meta *out);

/* Add a value to a key from text, by the key's type (ip, uint, time, string). For user
 * keys "DOMAIN\name" keeps the name; "-" and "" are skipped. Returns true if added. */
bool lmeta_add_text(struct vk_meta *m, enum vk_key k, const char *s, size_t n, int64_t recv_ms);
/* A peer that may be an address or a host name: ip key when it parses, else host key. */
bool lmeta_add_peer(struct vk_meta *m, enum vk_key ipk, enum vk_key hostk, const char *s, size_t n);

/* ---- the miner (drain.c) ----------------------------------------------------------- */
struct ldrain;
struct ldrain *ldrain_new(uint32_t max_clusters);
void ldrain_free(struct ldrain *d);
/* Mine one message (prefix: optional text that keys the cluster, e.g. nothing). Returns
 * the cluster id. O(tokens) plus the clusters of the same (length, first tokens) bucket. */
uint32_t ldrain_add(struct ldrain *d, const char *msg, size_t n);
/* The template of a cluster as it is now; false when the id was evicted. */
bool ldrain_template(const struct ldrain *d, uint32_t id, const char **t, size_t *n);
void ldrain_stats(const struct ldrain *d, uint64_t *clusters, uint64_t *evicted);

#endif
