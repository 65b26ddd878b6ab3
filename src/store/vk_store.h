/* vk_store.h — the data directory: meta store and packet archive.
 *
 * A data directory holds the records (sessions and events) in a meta store behind a
 * backend interface (SQLite in WAL mode now; ClickHouse later: nothing above this header
 * knows which one is in use), and the packets in rotating pcap files, each session
 * record knowing where its packets are. Layout: docs/DATA-DIR.md.
 *
 * Writing: one writer process at a time (a lock file says so). Records are queued by
 * vk_store_put and written by a writer thread in batches (one transaction each); before a
 * batch commits, the pcap files are flushed, so a committed record never points at packets
 * that are not on disk. Readers (other processes) run while ingest runs (WAL).
 *
 * Packet positions are uint64: file number << 40 | byte offset of the packet header. */
#ifndef VK_STORE_H
#define VK_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../capture/vk_capture.h"
#include "../core/vk_core.h"
#include "../flow/vk_flow.h"
#include "../query/vk_query.h"

#define VK_STORE_EXPIRED (-40)  /* the packets (or raw data) of a record are gone */
#define VK_STORE_NOTFOUND (-41)

struct vk_store_cfg {
    uint32_t batch_records;      /* commit after this many records ... */
    uint32_t batch_ms;           /* ... or this long after the first pending one */
    uint32_t queue_records;      /* put blocks beyond this many pending records */
    bool sync;                   /* fsync pcap files and synchronous=FULL at each commit */
    uint64_t pcap_file_bytes;    /* rotate pcap files at this size */
    uint64_t pcap_max_bytes;     /* retention: packets (0 = no cap) */
    uint64_t pcap_max_age_s;
    uint64_t meta_max_bytes;     /* retention: records */
    uint64_t meta_max_age_s;
    uint32_t cache_mb;           /* SQLite page cache per connection (default 32) */
    uint32_t page_size;          /* SQLite page size of a new meta store (default 32768) */
    bool hold;                   /* write only records released by vk_store_release (not a
                                  * vakt.conf key: the caller's contract, see below) */
};
void vk_store_cfg_default(struct vk_store_cfg *c);
/* Read DIR/vakt.conf (key = value lines, keys as the field names above) over c.
 * Returns 0, or -1 with a message naming the line. A missing file is not an error. */
int vk_store_cfg_load(const char *dir, struct vk_store_cfg *c, char *err, size_t errlen);
/* One "key=value" override (command-line --set). */
int vk_store_cfg_set(struct vk_store_cfg *c, const char *kv, char *err, size_t errlen);

enum vk_store_mode { VK_STORE_READ = 0, VK_STORE_WRITE = 1 };
struct vk_store;
/* Open (WRITE creates the directory). err gets a one-line reason on failure. */
struct vk_store *vk_store_open(const char *dir, enum vk_store_mode mode, const struct vk_store_cfg *cfg,
                               char *err, size_t errlen);
/* Commit what is pending and close. Returns 0 or a negative code. */
int vk_store_close(struct vk_store *s);
const char *vk_store_backend(const struct vk_store *s);

/* ---- writing ----------------------------------------------------------------------- */
/* The packet-archive hook for vk_flow_config.archive (ud = the store). Thread-safe across
 * workers (one writer per worker). Returns the position or VK_POS_NONE. */
uint64_t vk_store_archive_packet(void *store, unsigned worker, const struct vk_pkt *pkt);
/* Queue one record (copied). Blocks while the queue is full. Returns 0 or a negative code
 * when the writer failed (the message is in vk_store_error). */
int vk_store_put(struct vk_store *s, const struct vk_meta *rec, const struct vk_flow_pos *pos);
/* Write and commit everything queued so far (with cfg.hold: everything released so far);
 * returns when it is durable. */
int vk_store_sync(struct vk_store *s);
/* cfg.hold: the records queued so far may be written and committed from now on. A caller
 * whose records point at data it writes elsewhere (log events at their raw lines) holds
 * them until that data is durable, so that no committed record points at bytes a crash
 * lost. Records never released are not written, not even by vk_store_close. */
void vk_store_release(struct vk_store *s);
/* Called by the writer thread after each commit with the running count of records
 * committed (for `vakt ingest --acks`). */
void vk_store_on_commit(struct vk_store *s, void (*fn)(void *ud, uint64_t records), void *ud);
const char *vk_store_error(const struct vk_store *s);

struct vk_store_stats {
    uint64_t records, events, commits;
    uint64_t pcap_files, pcap_bytes, pcap_packets;
    uint64_t pos_dropped;        /* packet positions over the per-record cap */
    uint64_t meta_bytes;         /* store size on disk */
    int64_t time_min, time_max;  /* of the stored records, ms */
};
int vk_store_stats(struct vk_store *s, struct vk_store_stats *st);

/* ---- retention --------------------------------------------------------------------- */
/* Apply the caps of the configuration: oldest pcap files first, then oldest records.
 * Records whose packets went stay, marked "packets expired" when read. */
struct vk_store_retained { uint64_t pcap_files_deleted, pcap_bytes_deleted, records_deleted; };
int vk_store_retention(struct vk_store *s, int64_t now_ms, struct vk_store_retained *out);

/* ---- reading ----------------------------------------------------------------------- */
struct vk_store_sel {
    int64_t from_ms, to_ms;      /* record time range (INT64_MIN/INT64_MAX = open) */
    uint64_t limit;              /* 0 = no limit */
    int sort_key;                /* -1 = time; else a vk_key (sorted in memory) */
    bool desc;
};
void vk_store_sel_default(struct vk_store_sel *sel);

/* What a stored record says about its packets. */
struct vk_store_recinfo {
    int64_t rid;
    uint32_t npos;               /* packet positions stored */
    bool packets_expired;        /* some or all of them are in deleted pcap files */
    bool packets_partial;        /* positions over the cap were not kept */
};
typedef int (*vk_store_rec_fn)(void *ud, const struct vk_meta *rec, const struct vk_store_recinfo *info);
/* Records matching q (NULL = all) in sel's order; fn returns non-zero to stop. */
int vk_store_query(struct vk_store *s, const struct vk_query *q, const struct vk_store_sel *sel,
                   vk_store_rec_fn fn, void *ud, char *err, size_t errlen);

enum vk_store_by { VK_BY_COUNT = 0, VK_BY_SESSIONS, VK_BY_BYTES };
typedef int (*vk_store_val_fn)(void *ud, const char *value, uint64_t count, uint64_t sessions,
                               uint64_t bytes);
/* Top values of one key among the matching records (the Navigate view). */
int vk_store_values(struct vk_store *s, const struct vk_query *q, const struct vk_store_sel *sel,
                    enum vk_key key, unsigned top, enum vk_store_by by, vk_store_val_fn fn, void *ud,
                    char *err, size_t errlen);
typedef int (*vk_store_bucket_fn)(void *ud, int64_t start_ms, uint64_t records, uint64_t bytes);
int vk_store_timeline(struct vk_store *s, const struct vk_query *q, const struct vk_store_sel *sel,
                      int64_t bucket_ms, vk_store_bucket_fn fn, void *ud, char *err, size_t errlen);

/* The packets of the records whose id is `id` (every interim record of a session), in
 * order. Returns the number of packets, VK_STORE_NOTFOUND, or VK_STORE_EXPIRED when
 * some are in deleted files (none are returned then, and err says which files). */
typedef int (*vk_store_pkt_fn)(void *ud, const struct vk_pkt *pkt);
int vk_store_packets(struct vk_store *s, const char *id, vk_store_pkt_fn fn, void *ud, char *err,
                     size_t errlen);

#endif
