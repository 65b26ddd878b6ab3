/* vk_flow.h — the flow stage: sessions from decoded packets.
 *
 * A flow table (one per worker thread) keyed by the 5-tuple plus the outer VLAN id, with
 * per-side counters, TCP reassembly, parser dispatch (src/proto), nDPI application
 * naming, timeouts, interim records for long sessions and memory caps. Each finished (or
 * interim) session is handed to the emit callback as a meta list in the key registry.
 *
 * The pipeline part (vk_pipe_*) runs a packet source through decode and N flow tables on
 * worker threads, distributing packets by a symmetric hash so both directions of a flow
 * meet in the same table. */
#ifndef VK_FLOW_H
#define VK_FLOW_H

#include "../capture/vk_capture.h"
#include "../decode/vk_decode.h"

struct vk_flow_config {
    uint32_t max_flows;          /* live sessions per table; oldest idle evicted beyond */
    uint32_t tcp_timeout_s;      /* idle timeouts per protocol */
    uint32_t udp_timeout_s;
    uint32_t icmp_timeout_s;
    uint32_t other_timeout_s;
    uint32_t tcp_closing_s;      /* after FIN both ways or RST */
    uint32_t save_timeout_s;     /* interim record every so often (0 = never) */
    uint32_t reasm_max_flow;     /* out-of-order bytes buffered per direction */
    uint64_t reasm_max_total;    /* out-of-order bytes buffered per table */
    uint32_t dpi_packets;        /* packets per flow offered to nDPI (0 = nDPI off) */
    /* Packet archive (NULL = none): called for every packet a session counts, returns
     * where the packet was written (see src/store/vk_store.h) or VK_POS_NONE. worker is
     * the table's worker index, so an archive can keep one writer per worker. */
    uint64_t (*archive)(void *ud, unsigned worker, const struct vk_pkt *pkt);
    void *archive_ud;
    unsigned worker;
    uint32_t max_pos;            /* packet positions kept per session record */
};
#define VK_POS_NONE UINT64_MAX
void vk_flow_config_default(struct vk_flow_config *c);

struct vk_flow_stats {
    uint64_t packets, non_ip, sessions, interim;
    uint64_t flows_evicted;      /* closed early because max_flows was reached */
    uint64_t tcp_retrans, tcp_ooo, tcp_gaps, tcp_gap_bytes, tcp_overlap_conflicts;
    uint64_t reasm_dropped;      /* out-of-order bytes not buffered because of a cap */
    uint64_t active, peak_active;
    uint64_t state_bytes, peak_state_bytes; /* flow structs + reassembly + parser state */
};

/* Where a record's packets are in the archive: positions in packet order since the
 * previous (interim) record; dropped counts those over max_pos. */
struct vk_flow_pos {
    const uint64_t *v;
    uint32_t n, dropped;
};
/* The record of a session: a meta list the callback may add to (enrichment) and the
 * packet positions (NULL without an archive), both valid during the callback only. */
typedef void (*vk_flow_emit_fn)(void *ud, struct vk_meta *rec, const struct vk_flow_pos *pos);

struct vk_flowtab;
struct vk_flowtab *vk_flow_new(const struct vk_flow_config *cfg, vk_flow_emit_fn emit, void *ud);
/* Account one decoded packet. O(1) amortised plus parser work. */
void vk_flow_packet(struct vk_flowtab *t, const struct vk_pkt *pkt, const struct vk_decoded *d);
/* The table clock is the latest packet time seen (captures are not always in order);
 * vk_flow_packet raises it. A worker that sees only some packets is told the global clock
 * before each packet, so its sessions age exactly as in a single-table run. */
void vk_flow_clock(struct vk_flowtab *t, uint64_t now_us);
/* Let time pass: close idle sessions, emit interim records. Call at least once per second
 * of packet time. O(sessions closed). */
void vk_flow_advance(struct vk_flowtab *t, uint64_t now_us);
/* Close and emit every session. */
void vk_flow_flush(struct vk_flowtab *t);
const struct vk_flow_stats *vk_flow_stats(const struct vk_flowtab *t);
void vk_flow_free(struct vk_flowtab *t);

/* Community ID v1 (seed 0) of a flow; out >= 33 bytes ("1:" + base64 of SHA-1). */
void vk_flow_community_id(int family, uint8_t proto, const uint8_t *saddr, const uint8_t *daddr,
                          uint16_t sport, uint16_t dport, char *out);

/* ---- pipeline ---------------------------------------------------------------------- */
struct vk_pipe_stats {
    struct vk_capture_stats cap;
    struct vk_decode_stats dec;   /* summed over workers */
    struct vk_flow_stats flow;    /* summed over workers (peaks summed too) */
    uint64_t queue_drops;         /* live mode: packets dropped because a worker lagged */
};
/* Progress callback: called about once a second from the reading thread. */
typedef void (*vk_pipe_progress_fn)(void *ud, const struct vk_pipe_stats *st);

struct vk_pipe_opts {
    int threads;                  /* flow workers; 0 or 1 = all in the reading thread */
    struct vk_flow_config flow;
    vk_flow_emit_fn emit;         /* called from worker threads, serialised by the pipe */
    void *emit_ud;
    vk_pipe_progress_fn progress;
    void *progress_ud;
    bool live;                    /* drop instead of blocking when a worker lags */
};
/* Run the source to its end (or until vk_capture_stop). Returns 0 or a negative code. */
int vk_pipe_run(struct vk_capture *cap, const struct vk_pipe_opts *o, struct vk_pipe_stats *st);

#endif
