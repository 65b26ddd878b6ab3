/* vk_logarch.h — the log archive: every original log line, exactly as received, kept in
 * two tiers under <datadir>/logs (docs/LOG-ARCHIVE.md describes the files).
 *
 *  - short-term raw tier (logs/raw): append-only segments of uncompressed records with a
 *    per-record checksum. Each line gets a stable 64-bit ref (segment id << 32 | offset)
 *    that the event record stores; vk_logarch_get(ref) returns the line until retention
 *    (total size, age) removes its segment, then VK_LOGARCH_EXPIRED.
 *  - long-term tier (logs/archive): hourly zstd segments by receive time, each sealed
 *    segment's SHA-256 chained to the previous one in logs/archive/chain; verify names any
 *    changed, missing, swapped, added segment and any edited or truncated chain; search
 *    by time range and text or POSIX ERE; retention by age in years, recorded in the chain.
 *
 * One writer per data directory (flock on logs/lock); verify, search and read-only opens
 * take no lock. A writer handle is safe to share between threads (one mutex). */
#ifndef VK_LOGARCH_H
#define VK_LOGARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/vk_core.h"

/* get(): the line's segment was removed by retention (same value as VK_STORE_EXPIRED). */
#define VK_LOGARCH_EXPIRED (-40)
/* open(): another process holds the writer lock. */
#define VK_LOGARCH_ELOCKED (-48)

#define VK_LOGARCH_SRC_MAX 255u             /* longer sources are cut */
#define VK_LOGARCH_LINE_HARD_MAX (64u << 20) /* no configuration goes above this */

enum vk_logarch_sync {
    VK_LOGARCH_SYNC_NONE = 0,  /* flush() writes to the OS; seal and close still fsync */
    VK_LOGARCH_SYNC_FLUSH = 1, /* flush() also fsyncs both tiers */
};

struct vk_logarch_cfg {
    uint64_t raw_segment_bytes; /* rotate short-term segments at this size (64 MiB) */
    uint64_t raw_max_bytes;     /* short-term cap by total size, 0 = none (8 GiB) */
    int64_t raw_max_age_ms;     /* short-term cap by age, 0 = none (7 days) */
    unsigned archive_years;     /* long-term retention, 0 = forever (0) */
    int zstd_level;             /* 3 */
    size_t max_line;            /* longer lines are cut and flagged (1 MiB) */
    enum vk_logarch_sync sync;  /* VK_LOGARCH_SYNC_NONE */
    bool readonly;              /* no lock, no writes: only get() (for readers) */
};
void vk_logarch_cfg_default(struct vk_logarch_cfg *cfg);

struct vk_logarch_stats {
    uint64_t lines, bytes;          /* appended by this handle */
    uint64_t lines_cut;             /* longer than max_line */
    uint64_t raw_segments_removed;  /* short-term retention */
    uint64_t segments_sealed;       /* long-term */
    uint64_t segments_pruned;       /* long-term retention */
    uint64_t lines_recovered;       /* from an unsealed segment left by a crash */
    uint64_t raw_bytes_on_disk;     /* short-term tier now */
};

struct vk_logarch;

/* Open (creating <datadir>/logs) for writing, or for reading when cfg->readonly. cfg NULL
 * means defaults. A writer takes the lock, recovers what a crash left (the raw tier's torn
 * tail is cut; an unsealed long-term segment is decompressed up to its last complete record
 * and sealed) and completes an interrupted seal. NULL plus a message on failure; with
 * rc != NULL, *rc gets the code (VK_LOGARCH_ELOCKED when another writer runs). */
struct vk_logarch *vk_logarch_open(const char *datadir, const struct vk_logarch_cfg *cfg,
                                   char *err, size_t errlen, int *rc);

/* Append one line to both tiers; *ref_out (may be NULL) gets the line's short-term ref.
 * Lines may hold any bytes; source is NUL-terminated (cut at 255). Amortised O(len): two
 * memcpy into preallocated buffers and an XXH3 over the record; a write() per buffer
 * (1 MiB raw, 128 KiB long-term) and zstd level-3 compression per 128 KiB; never
 * allocates, never fsyncs. Crossing an hour seals the long-term segment (fsync, SHA-256).
 * Returns 0 or a negative code (vk_logarch_error() says why). */
int vk_logarch_append(struct vk_logarch *a, int64_t recv_ms, const char *source,
                      const void *line, size_t len, uint64_t *ref_out);

/* Make everything appended so far readable by other processes and recoverable after a
 * crash: writes both buffers, flushes the zstd block; fsyncs when cfg.sync says so. Call
 * it per batch (e.g. every 100 ms), not per line. */
int vk_logarch_flush(struct vk_logarch *a);

/* Seal the open long-term segment when the clock passed its hour by more than a minute
 * (no new line would do it otherwise). Cheap when there is nothing to do. */
int vk_logarch_tick(struct vk_logarch *a, int64_t now_ms);

/* What get() returns besides the line. */
struct vk_logarch_line {
    int64_t recv_ms;
    char source[VK_LOGARCH_SRC_MAX + 1];
    bool cut; /* the line was longer than max_line when appended */
};
/* The line at ref into out (out->len is reset; out->max bounds it), info may be NULL.
 * 0; VK_LOGARCH_EXPIRED once retention removed the segment; VK_ENOTFOUND for a ref that
 * never named a line here; VK_EFORMAT when the record fails its checksum; VK_ENOMEM when
 * out->max is too small. Three pread()s and an XXH3, O(len). */
int vk_logarch_get(struct vk_logarch *a, uint64_t ref, struct vk_buf *out,
                   struct vk_logarch_line *info);

/* Close the open long-term segment: end its zstd frame, fsync, SHA-256, chain entry.
 * Also writes out the raw tier. No-op when nothing is open. */
int vk_logarch_seal(struct vk_logarch *a);

/* Apply every retention rule at time now_ms: short-term by size and age (whole segments,
 * never the one being written), long-term by cfg.archive_years (a contiguous prefix of
 * whole segments; a `prune` entry in the chain says up to which one, so verify knows).
 * Rotation applies the short-term rules by itself, with the newest receive time as now. */
int vk_logarch_retention(struct vk_logarch *a, int64_t now_ms);

void vk_logarch_stats(struct vk_logarch *a, struct vk_logarch_stats *st);
const char *vk_logarch_error(struct vk_logarch *a); /* last error message, "" if none */

/* Seal, write out, release the lock and free. NULL is fine. Returns the seal's code. */
int vk_logarch_close(struct vk_logarch *a);

/* ---- readers: no lock, sealed segments (plus the open one up to its last flush) ---- */

struct vk_logarch_verify_opt {
    bool deep;              /* also decompress every segment and check lines and bytes */
    bool verbose;           /* one line per segment, not only problems */
    const char *expect_head; /* hex chain value recorded elsewhere: must be in the chain */
};
/* Check the long-term archive: each segment's SHA-256 against its chain entry, the chain
 * values, the sequence, the head file, files not in the chain. Every problem is one line
 * on report (may be NULL) naming the segment or chain line; a summary line ends it.
 * Returns 0 when all is well, else minus the number of problems found. */
int vk_logarch_verify(const char *datadir, const struct vk_logarch_verify_opt *opt,
                      FILE *report);

struct vk_logarch_rec {
    int64_t recv_ms;
    const char *source; /* not NUL-terminated */
    size_t source_len;
    const uint8_t *line;
    size_t len;
    bool cut;
};
/* Return nonzero to stop the search. The record is valid during the call only. */
typedef int (*vk_logarch_fn)(void *ud, const struct vk_logarch_rec *r);

struct vk_logarch_query {
    int64_t from_ms, to_ms; /* receive time in [from, to) */
    const char *pattern;    /* NULL or "" matches every line */
    bool regex;             /* POSIX ERE (regcomp), else a plain substring */
    bool icase;
    uint64_t limit;         /* stop after this many matches, 0 = no limit */
    FILE *warn;             /* damaged or unreadable segments are named here (may be NULL) */
};
/* Stream every matching line of the long-term archive, segments in time order. Segments
 * whose chain entry says they lie outside the range are skipped without reading. Memory
 * is bounded (zstd window <= 8 MiB, one record). Returns the number of matches, or a
 * negative code with a message (bad regex, no archive). */
int64_t vk_logarch_search(const char *datadir, const struct vk_logarch_query *q,
                          vk_logarch_fn fn, void *ud, char *err, size_t errlen);

#endif
