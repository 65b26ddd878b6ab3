/* logarch_int.h — what the log archive's files share (not a public interface): the
 * long-term segment format, the chain file, segment names and the segment reader.
 * logarch.c writes; logarch_read.c reads, verifies and searches. */
#ifndef VK_LOGARCH_INT_H
#define VK_LOGARCH_INT_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_logarch.h"

/* open() for reading a file of the archive: regular files only (a FIFO or device planted
 * in the directory would block or never end). -1 with errno set (EINVAL: not regular). */
static inline int la_open_reg(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

/* ---- long-term segment content (the decompressed stream) ---------------------------- */
/* "VKLA" 01 00 00 00, then records:
 *   tag       0xA0 | 1 (the line was cut) | 2 (same source as the previous record)
 *   srclen    u8, absent when the source is the previous one
 *   len       varint (LEB128), the line length
 *   dt        varint, zigzag of receive time minus the previous record's (0 at the start)
 *   source    srclen bytes, absent when the same
 *   line      len bytes, exactly as received
 * Time deltas and repeated sources keep the per-line overhead to ~3 bytes before zstd. */
#define LA_STREAM_MAGIC "VKLA\x01\0\0\0"
#define LA_STREAM_MAGIC_LEN 8
#define LA_TAG 0xA0
#define LA_TAG_CUT 0x01
#define LA_TAG_SAME_SRC 0x02
#define LA_REC_HDR_MAX 17 /* tag, srclen, 5-byte len, 10-byte dt */

/* Reader state across the records of one segment. */
struct la_pstate {
    bool magic_seen;
    int64_t prev_ms;
    uint8_t srclen;
    char src[256];
};
#define LA_HOUR_MS 3600000LL
#define LA_DWINDOW_LOG 23 /* readers refuse zstd windows above 8 MiB */

/* ---- the chain file (logs/archive/chain), one text line per entry ------------------- */
/*   vakt-logarch-chain 1
 *   seg <seq> <name> <hour_ms> <min_ms> <max_ms> <lines> <line_bytes> <file_bytes> <sha256> <chain>
 *   prune <upto_seq> <at_ms> <chain>
 *   break <at_ms> <reason> <chain>
 * chain = SHA-256(previous chain || the line's text before " <chain>"); the first
 * previous value is SHA-256 of the header line. The head file (logs/archive/head) holds
 * "vakt-logarch-head 1 <entries> <chain>" of the last entry. */
#define LA_CHAIN_HEADER "vakt-logarch-chain 1"
#define LA_HEAD_HEADER "vakt-logarch-head 1"
#define LA_CHAIN_LINE_MAX 1024
#define LA_CHAIN_MAX_ENTRIES (16u << 20)
#define LA_NAME_MAX 48

enum la_kind { LA_BAD = 0, LA_SEG, LA_PRUNE, LA_BREAK };

struct la_entry {
    enum la_kind kind; /* LA_BAD: the line did not parse */
    unsigned lineno;   /* 1-based line of the chain file */
    uint64_t seq;
    char name[LA_NAME_MAX];
    int64_t hour_ms, min_ms, max_ms;
    uint64_t lines, line_bytes, file_bytes;
    uint8_t sha[32];
    uint64_t upto;   /* prune */
    int64_t at_ms;   /* prune, break */
    char reason[160]; /* break */
    uint8_t chain[32]; /* as stored */
    bool chain_ok;     /* stored == SHA-256(previous stored || text) */
};

struct la_chain {
    bool exists, header_ok;
    struct la_entry *e;
    size_t n, cap;
    bool torn;            /* the last line has no newline (a crash or a truncation) */
    uint64_t good_len;    /* bytes up to the end of the last complete line */
    uint8_t last[32];     /* stored chain value of the last parsed entry, else genesis */
    uint64_t last_seq;    /* highest segment seq */
    uint64_t pruned_upto; /* highest prune upto */
    bool too_big;         /* stopped at LA_CHAIN_MAX_ENTRIES */
};

void la_genesis(uint8_t out[32]);
void la_chain_hash(const uint8_t prev[32], const char *text, size_t n, uint8_t out[32]);
/* Load and check the chain file. 0 (also when absent: c->exists false), or VK_EIO. */
int la_chain_load(const char *path, struct la_chain *c, char *err, size_t errlen);
void la_chain_free(struct la_chain *c);
/* The head file: 0, VK_ENOTFOUND or VK_EFORMAT. */
int la_head_read(const char *path, uint64_t *entries, uint8_t chain[32]);

/* ---- segment names: "2024-01-31T13.00000042.zst" (".open" while written) ------------ */
void la_seg_name(char *out, size_t n, int64_t hour_ms, uint64_t seq);
/* Parses a sealed (".zst") or open (".zst.open") name; false for anything else. */
bool la_seg_name_parse(const char *name, int64_t *hour_ms, uint64_t *seq, bool *open);

/* ---- reading one segment ------------------------------------------------------------ */
struct la_read_res {
    uint64_t lines, line_bytes;
    int64_t min_ms, max_ms;
    bool truncated; /* ended inside a zstd frame or a record (an unsealed or cut file) */
    bool corrupt;   /* zstd or record format error: why says where */
    bool stopped;   /* the callback asked to stop */
    char why[200];
};
/* Stream the records of a long-term segment file (any bytes: bounded, never trusts a
 * length). Returns 0 when read to the end (see res for truncation or damage), VK_EIO
 * when the file cannot be opened (errno kept). */
int la_seg_read(const char *path, vk_logarch_fn fn, void *ud, struct la_read_res *res);

/* SHA-256 of a file, streaming. 0, or VK_EIO (errno kept). */
int la_file_sha256(const char *path, uint8_t out[32], uint64_t *size);

/* Little-endian helpers for the formats above. */
static inline void la_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static inline void la_put64(uint8_t *p, uint64_t v)
{
    la_put32(p, (uint32_t)v);
    la_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t la_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t la_get64(const uint8_t *p) { return la_get32(p) | (uint64_t)la_get32(p + 4) << 32; }

static inline int64_t la_hour_of(int64_t ms)
{
    int64_t h = ms / LA_HOUR_MS;
    if (ms < 0 && ms % LA_HOUR_MS) h--;
    return h * LA_HOUR_MS;
}

#endif
