/* vk_core.h — what every stage shares: error codes, the bounds-checked cursor, the
 * meta-key registry, the per-record meta list, bounded buffers, file hashing and the
 * JSON writer.
 *
 * Nothing here knows about packets or logs. A record is a time, a kind and a list of
 * typed (key, value) items; stages add items through vk_meta_* and never touch another
 * stage's structs. */
#ifndef VK_CORE_H
#define VK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vk_keys.h"

/* ---- errors ------------------------------------------------------------------------ */
enum {
    VK_OK = 0,
    VK_EINVAL = -1,   /* bad argument or input */
    VK_ENOMEM = -2,   /* allocation failed or a cap was reached */
    VK_EIO = -3,      /* read/write/open failed */
    VK_ENOTFOUND = -4,
    VK_EFORMAT = -5,  /* input is not in the expected format */
};

/* Print "vakt: <msg>" to stderr. Used for messages a user acts upon. */
void vk_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the bounds-checked cursor: every parser reads untrusted bytes through it ------- */
struct vk_cur {
    const uint8_t *p, *end;
};

static inline struct vk_cur vk_cur_make(const void *p, size_t n)
{
    struct vk_cur c = {(const uint8_t *)p, p ? (const uint8_t *)p + n : (const uint8_t *)p}; /* NULL: empty */
    return c;
}
static inline size_t vk_cur_left(const struct vk_cur *c) { return (size_t)(c->end - c->p); }
static inline bool vk_cur_skip(struct vk_cur *c, size_t n)
{
    if (vk_cur_left(c) < n) return false;
    c->p += n;
    return true;
}
static inline bool vk_cur_u8(struct vk_cur *c, uint8_t *out)
{
    if (vk_cur_left(c) < 1) return false;
    *out = c->p[0];
    c->p += 1;
    return true;
}
static inline bool vk_cur_u16be(struct vk_cur *c, uint16_t *out)
{
    if (vk_cur_left(c) < 2) return false;
    *out = (uint16_t)(c->p[0] << 8 | c->p[1]);
    c->p += 2;
    return true;
}
static inline bool vk_cur_u16le(struct vk_cur *c, uint16_t *out)
{
    if (vk_cur_left(c) < 2) return false;
    *out = (uint16_t)(c->p[1] << 8 | c->p[0]);
    c->p += 2;
    return true;
}
static inline bool vk_cur_u24be(struct vk_cur *c, uint32_t *out)
{
    if (vk_cur_left(c) < 3) return false;
    *out = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
    c->p += 3;
    return true;
}
static inline bool vk_cur_u32be(struct vk_cur *c, uint32_t *out)
{
    if (vk_cur_left(c) < 4) return false;
    *out = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    return true;
}
static inline bool vk_cur_u32le(struct vk_cur *c, uint32_t *out)
{
    if (vk_cur_left(c) < 4) return false;
    *out = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
    c->p += 4;
    return true;
}
static inline bool vk_cur_u64le(struct vk_cur *c, uint64_t *out)
{
    uint32_t lo, hi;
    if (vk_cur_left(c) < 8) return false;
    vk_cur_u32le(c, &lo);
    vk_cur_u32le(c, &hi);
    *out = (uint64_t)hi << 32 | lo;
    return true;
}
/* Split off the next n bytes as a sub-cursor. */
static inline bool vk_cur_take(struct vk_cur *c, size_t n, struct vk_cur *sub)
{
    if (vk_cur_left(c) < n) return false;
    sub->p = c->p;
    sub->end = c->p + n;
    c->p += n;
    return true;
}

/* ---- meta-key registry ------------------------------------------------------------- */
enum vk_type { VK_T_STR = 1, VK_T_UINT, VK_T_IP, VK_T_TIME };

#define VK_KEY_ENUM(e, n, t, h) VK_K_##e,
enum vk_key { VK_KEY_LIST(VK_KEY_ENUM) VK_K__COUNT };
#undef VK_KEY_ENUM

struct vk_keyinfo {
    const char *name;
    enum vk_type type;
    const char *help;
};
const struct vk_keyinfo *vk_key_info(enum vk_key k);
/* Whether a POSIX ERE from a user or a feed is safe to give glibc's regcomp/regexec: not
 * over max bytes, no NUL, no back-references (exponential matching), repetition bounds
 * whose product stays under 4096 (glibc copies bounded repeats), and no quantifier on a
 * quantifier (`a++`: undefined in POSIX, gigabytes in glibc's regcomp). 0, or -1 and *why. */
int vk_regex_check(const char *pat, size_t n, size_t max, const char **why);
/* String keys that always compare exactly (case-sensitive, as `==`): id, community_id. */
bool vk_key_exact(enum vk_key k);
/* Keys whose values are (nearly) unique per record: ids, counters, source ports, free
 * text. The store lays their index out by write batch and keeps no running counts. */
bool vk_key_unique(enum vk_key k);
/* Key by name; returns -1 when unknown. O(log n). */
int vk_key_lookup(const char *name);

/* ---- the meta list of one record --------------------------------------------------- */
/* Values are deduplicated per key (a set, like Arkime's fields). Strings live in the list's
 * own arena. Caps: VK_META_MAX_PER_KEY values per key and VK_META_MAX_BYTES of strings per
 * record; what does not fit is counted in `dropped` and flagged once as anomaly
 * meta.capped. Adding is O(values of that key); it allocates only when the arena grows. */
#define VK_META_MAX_PER_KEY 256
#define VK_META_MAX_BYTES (256u * 1024u)
#define VK_META_MAX_STR 4096 /* longer values are cut and flagged meta.value_cut */

struct vk_meta_item {
    uint16_t key;
    uint16_t len;   /* string length (IP values are stored as their text form, e.g. "10.0.0.1") */
    uint32_t off;   /* string offset in the arena */
    uint64_t u;     /* numeric value */
};

struct vk_meta {
    struct vk_meta_item *items;
    uint32_t n, cap;
    char *arena;
    uint32_t arena_len, arena_cap;
    uint32_t dropped;
    /* keys present, so that adding a key's first value needs no scan; exact while kn == n
     * (code that fills items itself leaves kn behind, and the map is rebuilt when next used) */
    uint32_t kn;
    uint64_t kmap[(VK_K__COUNT + 63) / 64];
};

void vk_meta_init(struct vk_meta *m);
void vk_meta_reset(struct vk_meta *m); /* empty, keeps memory */
void vk_meta_free(struct vk_meta *m);
/* Add a string value; bytes need not be NUL-terminated. Control characters are kept as is
 * (the JSON writer escapes them). Returns 0, or 1 when the value was already there. */
int vk_meta_add_str(struct vk_meta *m, enum vk_key k, const char *s, size_t n);
int vk_meta_add_cstr(struct vk_meta *m, enum vk_key k, const char *s);
/* Add a lower-cased string (host names, methods are kept as sent). */
int vk_meta_add_lower(struct vk_meta *m, enum vk_key k, const char *s, size_t n);
int vk_meta_add_uint(struct vk_meta *m, enum vk_key k, uint64_t v);
/* family 4 or 6; addr is 4 or 16 bytes in network order; stored as text (RFC 5952). */
int vk_meta_add_ip(struct vk_meta *m, enum vk_key k, int family, const uint8_t *addr);
int vk_meta_printf(struct vk_meta *m, enum vk_key k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set a numeric value, replacing any previous one (counters). */
void vk_meta_set_uint(struct vk_meta *m, enum vk_key k, uint64_t v);
bool vk_meta_has(const struct vk_meta *m, enum vk_key k);
/* Count of values held for a key. */
unsigned vk_meta_count(const struct vk_meta *m, enum vk_key k);
/* The string of item i (not NUL-terminated; use it->len). */
static inline const char *vk_meta_str(const struct vk_meta *m, const struct vk_meta_item *it)
{
    return m->arena + it->off;
}
/* First string value of a key as a NUL-terminated copy into buf; false if absent. */
bool vk_meta_get_str(const struct vk_meta *m, enum vk_key k, char *buf, size_t bufsz);
/* Append every item of src to dst (with dedup: O(n*m)). */
void vk_meta_merge(struct vk_meta *dst, const struct vk_meta *src);
/* Append src to dst without dedup, for lists whose keys are known to be disjoint (a
 * session's own facts after its counters). O(n); no caps are applied again. */
int vk_meta_append(struct vk_meta *dst, const struct vk_meta *src);

/* ---- bounded growable byte buffer -------------------------------------------------- */
struct vk_buf {
    uint8_t *p;
    size_t len, cap, max; /* max: hard cap, never exceeded */
};
void vk_buf_init(struct vk_buf *b, size_t max);
/* Returns 0, or VK_ENOMEM when the data would pass b->max (nothing is appended then). */
int vk_buf_append(struct vk_buf *b, const void *p, size_t n);
void vk_buf_consume(struct vk_buf *b, size_t n); /* drop n bytes from the front */
void vk_buf_free(struct vk_buf *b);

/* ---- bounded line reader for text protocols (SMTP, FTP, ...) ------------------------ */
/* Collects bytes up to each '\n' in a vk_buf capped at max. A line longer than max is
 * dropped up to its newline; a gap can ask to drop the partial line (vk_lines_resync). */
struct vk_lines {
    struct vk_buf buf;
    bool drop;   /* discarding the rest of an over-long or damaged line */
    bool ready;  /* the last call returned a line: empty the buffer first */
};
void vk_lines_init(struct vk_lines *l, size_t max);
/* Consume from cur up to and including the next newline. Returns 1 with line/len set
 * (CR LF stripped; valid until the next call) when a line is complete, 0 when cur ran
 * out first, -1 once when a line passes the cap (flag it; the rest is skipped).
 * O(bytes consumed); copies each byte once, allocates only when the buffer grows. */
int vk_lines_next(struct vk_lines *l, struct vk_cur *cur, const uint8_t **line, size_t *len);
/* True when the next byte starts a new line (nothing buffered, nothing being dropped). */
static inline bool vk_lines_at_start(const struct vk_lines *l)
{
    return (l->ready || l->buf.len == 0) && !l->drop;
}
void vk_lines_resync(struct vk_lines *l); /* drop up to the next newline */
void vk_lines_free(struct vk_lines *l);
/* "NNN", "NNN text" or "NNN-text": a reply line of SMTP, FTP and their kin. */
bool vk_reply_line(const uint8_t *l, size_t n);

/* ---- small codecs ------------------------------------------------------------------ */
/* Decode base64 (whitespace skipped, stops at '=' or junk). Returns bytes written. */
size_t vk_base64_decode(const char *in, size_t n, uint8_t *out, size_t outcap);
/* Streaming base64 for bodies (MIME parts): bytes outside the alphabet (line breaks,
 * junk) are skipped, '=' ends a quantum. out needs n * 3 / 4 + 1 bytes. Table-driven, O(n). */
struct vk_b64 {
    uint32_t acc;
    uint8_t bits;
};
size_t vk_b64_feed(struct vk_b64 *st, const uint8_t *in, size_t n, uint8_t *out);
void vk_hex(const uint8_t *in, size_t n, char *out); /* out: 2n+1 bytes, lower-case */
/* Format an IP (4 or 16 bytes) as text; IPv6 per RFC 5952. out >= 46 bytes. */
void vk_ip_str(int family, const uint8_t *addr, char *out);
/* Case-insensitive compare of n bytes with a NUL-terminated ASCII literal prefix. */
bool vk_prefix_ci(const uint8_t *p, size_t n, const char *lit);

/* ---- file hashing and typing ------------------------------------------------------- */
/* A file seen in a session (HTTP body, mail attachment, FTP data): streaming MD5 and
 * SHA-256, size, and a libmagic MIME type from the first VK_FILE_HEAD bytes. Per file it
 * allocates two hash contexts; updates do not allocate. */
#define VK_FILE_HEAD 4096
struct vk_file {
    void *md5, *sha256; /* EVP_MD_CTX */
    uint64_t size;
    uint8_t head[VK_FILE_HEAD];
    size_t head_len;
    bool open;
};
int vk_file_begin(struct vk_file *f);
void vk_file_update(struct vk_file *f, const void *p, size_t n);
/* Adds file.size, file.md5, file.sha256, file.type (and file.name when name != NULL) to m,
 * then releases the contexts. Safe to call on a file that was never begun. */
void vk_file_end(struct vk_file *f, struct vk_meta *m, const char *name);
void vk_file_abort(struct vk_file *f);
/* MIME type of a buffer via libmagic (per-thread handle); NULL when unknown. */
const char *vk_magic_mime(const void *p, size_t n);

/* ---- JSON writer ------------------------------------------------------------------- */
/* Append-only JSON text into a growable buffer; strings are escaped (control bytes as
 * \u00XX, invalid UTF-8 bytes as \u00XX of their Latin-1 reading). */
struct vk_json {
    char *p;
    size_t len, cap;
    bool need_comma;
};
void vk_json_init(struct vk_json *j);
void vk_json_free(struct vk_json *j);
void vk_json_raw(struct vk_json *j, const char *s, size_t n);
void vk_json_str(struct vk_json *j, const char *s, size_t n);
void vk_json_obj_begin(struct vk_json *j);
void vk_json_obj_end(struct vk_json *j);
void vk_json_arr_begin(struct vk_json *j);
void vk_json_arr_end(struct vk_json *j);
void vk_json_key(struct vk_json *j, const char *k);
void vk_json_val_str(struct vk_json *j, const char *s, size_t n);
void vk_json_val_uint(struct vk_json *j, uint64_t v);
/* Write a meta list as one JSON object; keys in registry order, a scalar for one value
 * and an array for several (the session contract of META-KEYS.md). */
void vk_json_meta(struct vk_json *j, const struct vk_meta *m);

#endif
