/* store_int.h — pieces of the store stage shared by its files (not a public interface). */
#ifndef VK_STORE_INT_H
#define VK_STORE_INT_H

#include "vk_store.h"

#define VK_POS_FILE(p) ((uint32_t)((p) >> 40))
#define VK_POS_OFF(p) ((p) & ((1ull << 40) - 1))
#define VK_PCAP_MAX_WORKERS 64

/* ---- packet archive (pcaparch.c) ---------------------------------------------------- */
struct vk_pcaparch;
struct vk_pcaparch *vk_pcaparch_open(const char *dir, bool write, uint64_t file_bytes, bool sync,
                                     char *err, size_t errlen);
/* Append a packet to the worker's current file (rotating by size or link type). O(caplen). */
uint64_t vk_pcaparch_write(struct vk_pcaparch *a, unsigned worker, const struct vk_pkt *pkt);
/* Flush every writer to the kernel (and fdatasync when sync). Returns 0 or -1. */
int vk_pcaparch_flush(struct vk_pcaparch *a);
/* Read the packet at pos into buf. Returns 0, VK_STORE_EXPIRED (file deleted) or another
 * negative code (damaged file). pkt->data points into buf. */
int vk_pcaparch_read(struct vk_pcaparch *a, uint64_t pos, struct vk_pkt *pkt, uint8_t *buf, size_t bufsz);
/* Delete the oldest files while the total is over max_bytes or a file is older than
 * max_age_s (by when it was last written). Never deletes a file being written. */
int vk_pcaparch_retention(struct vk_pcaparch *a, uint64_t max_bytes, uint64_t max_age_s, int64_t now_ms,
                          uint64_t *files_deleted, uint64_t *bytes_deleted);
void vk_pcaparch_totals(struct vk_pcaparch *a, uint64_t *files, uint64_t *bytes, uint64_t *packets);
void vk_pcaparch_close(struct vk_pcaparch *a);

/* ---- record body codec (codec.c) ---------------------------------------------------- */
/* A compact, self-describing serialisation of a meta list: per item a varint key, then
 * the value (varint for numbers, varint length + bytes for strings and addresses). */
/* to_pid maps registry keys to the data directory's persistent key ids; to_key back
 * (-1 for ids this build does not know). */
int vk_codec_encode(const struct vk_meta *m, const uint16_t *to_pid, struct vk_buf *out);
int vk_codec_decode(const uint8_t *p, size_t n, const int *to_key, size_t nmap, struct vk_meta *out);
void vk_varint_put(struct vk_buf *b, uint64_t v);
bool vk_varint_get(struct vk_cur *c, uint64_t *v);

#endif

/* ---- meta-store backends (sqlite.c; ClickHouse later) ------------------------------ */
/* One record as the writer thread hands it to a backend. */
struct vk_store_rec {
    struct vk_meta meta;
    uint64_t *pos;
    uint32_t npos, posdrop;
    struct vk_slab *slab; /* where meta and pos live (store.c), or NULL: malloc'd */
};

struct vk_backend_ops {
    const char *name;
    void *(*open)(const char *dir, bool write, const struct vk_store_cfg *cfg, char *err, size_t errlen);
    /* Write the records in one transaction; when it returns 0 they are durable (per cfg). */
    int (*write_batch)(void *b, struct vk_store_rec *recs, size_t n, char *err, size_t errlen);
    int (*query)(void *b, const struct vk_query *q, const struct vk_store_sel *sel, vk_store_rec_fn fn,
                 void *ud, char *err, size_t errlen);
    int (*values)(void *b, const struct vk_query *q, const struct vk_store_sel *sel, enum vk_key key,
                  unsigned top, enum vk_store_by by, vk_store_val_fn fn, void *ud, char *err, size_t errlen);
    int (*timeline)(void *b, const struct vk_query *q, const struct vk_store_sel *sel, int64_t bucket_ms,
                    vk_store_bucket_fn fn, void *ud, char *err, size_t errlen);
    /* Packet positions of every record with this id, in record order; *pos is malloc'd. */
    int (*positions)(void *b, const char *id, uint64_t **pos, size_t *n, char *err, size_t errlen);
    /* Delete records committed before cutoff_ms, then oldest ones while over max_bytes. */
    int (*retention)(void *b, int64_t cutoff_ms, uint64_t max_bytes, uint64_t *deleted);
    int (*stats)(void *b, struct vk_store_stats *st);
    void (*close)(void *b);
};
extern const struct vk_backend_ops vk_backend_sqlite;

/* A record's packet positions are kept as zigzag varint deltas. */
void vk_pos_encode(const uint64_t *pos, size_t n, struct vk_buf *out);
int vk_pos_decode(const uint8_t *p, size_t len, uint64_t **out, size_t *n);
/* Whether pcap file `fileno` of data directory dir still exists (pcaparch.c): the
 * "packets expired" test of readers and the backend. */
bool vk_store_file_exists(const char *dir, uint32_t fileno);
