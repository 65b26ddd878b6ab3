/* flow_int.h — private to src/flow: the session struct, the table, and the helpers that
 * flow.c, reasm.c and dpi.c share. */
#ifndef VK_FLOW_INT_H
#define VK_FLOW_INT_H

#include "../proto/vk_proto.h"
#include "vk_flow.h"

struct vk_flow;

/* One direction of a TCP stream. */
struct seg {
    struct seg *next;
    uint32_t seq, len;
    uint8_t data[];
};

struct tcpdir {
    bool init;          /* next_seq is known */
    bool fin, rst;
    uint32_t next_seq;  /* next byte expected in order */
    uint32_t fin_seq;
    struct seg *ooo;    /* out-of-order segments, sorted by seq, capped */
    uint32_t ooo_bytes;
};

/* Intrusive doubly linked list, used for the timeout queues. */
struct dlist {
    struct dlist *prev, *next;
};

enum { Q_TCP, Q_UDP, Q_ICMP, Q_OTHER, Q_CLOSING, Q__COUNT };

struct vk_flow {
    struct vk_flow *hnext;      /* hash chain */
    struct dlist idle;          /* in t->q[qclass], ordered by last_us */
    struct dlist save;          /* in t->saveq, ordered by save_us */
    uint64_t hash;
    /* key: both endpoints as seen in the first packet, oriented src = initiator */
    struct vk_flow_view v;
    uint16_t vlan;
    uint8_t qclass;
    uint64_t last_us, save_us;
    uint64_t active_us;         /* table clock at the last packet: orders the idle queues */
    uint64_t pkts[2], bytes[2], payload[2];
    uint32_t tcpflags_seen;     /* bit per flag name, see flow.c */
    uint8_t mac[2][6];
    bool has_mac[2];
    uint8_t icmp_type, icmp_code; /* of the first ICMP packet, for the Community ID */
    bool icmp_set;
    struct tcpdir td[2];
    uint32_t interim;           /* interim records emitted so far */
    char id[20];
    /* application layer */
    const struct vk_parser *parser;
    void *pstate;
    bool pdone;                 /* parser asked for no more data */
    uint8_t probes;             /* probe attempts so far */
    bool probe_over;
    struct vk_flow_expect *expected; /* the announcement this session fulfilled, if any */
    void *dpi;                  /* nDPI flow state until detection is over */
    void *dpi_pend;             /* TCP handshake packets held back from nDPI (dpi.c) */
    uint16_t dpi_pkts;
    struct vk_meta meta;        /* facts from decode, parsers, nDPI */
    uint64_t *pos;              /* packet archive positions since the last record */
    uint32_t npos, cappos, posdrop;
};

struct vk_flow_expect {
    struct vk_flow_expect *next;
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
    const struct vk_parser *parser;
    char parent[20];
    char filename[256];
    uint64_t until_us;
    struct vk_flow *flow;       /* the session that fulfilled it (kept while it lives, so a
                                 * file name announced later still reaches it) */
};

/* Released objects of one size (flows, parser states, nDPI flows), kept for reuse. */
#define OBJ_CLASSES 12
struct objcache {
    size_t size;                /* 0: class unused */
    void *free;                 /* singly linked through each object's first word */
    uint32_t n;
};

struct vk_flowtab {
    struct vk_flow_config cfg;
    vk_flow_emit_fn emit;
    void *ud;
    struct vk_flow **buckets;
    uint64_t nbuckets;          /* power of two */
    struct dlist q[Q__COUNT];
    struct dlist saveq;
    struct vk_flow_stats st;
    uint64_t now_us;
    uint64_t reasm_bytes;
    struct vk_meta rec;         /* reused for every emitted record */
    struct vk_flow_expect *expects;
    unsigned nexpects;
    void *dpi_mod;              /* nDPI detection module, NULL when off */
    void *dpi_hosts;            /* dpi.c: memo of nDPI's answers per host name */
    struct objcache oc[OBJ_CLASSES];
    size_t dpi_flow_size;
};

/* flow.c: zeroed objects of a size from the table's cache (else calloc), and back */
void *vk_flow_obj_get(struct vk_flowtab *t, size_t size);
void vk_flow_obj_put(struct vk_flowtab *t, void *p, size_t size);

/* reasm.c */
void vk_reasm_packet(struct vk_flowtab *t, struct vk_flow *f, int dir, const struct vk_decoded *d,
                     uint64_t ts_us);
void vk_reasm_finish(struct vk_flowtab *t, struct vk_flow *f);
void vk_reasm_free(struct vk_flowtab *t, struct vk_flow *f);

/* flow.c: hand in-order bytes (or a datagram) of direction dir to the application layer */
void vk_flow_deliver(struct vk_flowtab *t, struct vk_flow *f, int dir, const uint8_t *p,
                     size_t n, uint64_t ts_us);
void vk_flow_gap(struct vk_flowtab *t, struct vk_flow *f, int dir, size_t n);
void vk_flow_anomaly(struct vk_flow *f, const char *name);

/* dpi.c */
int vk_dpi_init(struct vk_flowtab *t);
void vk_dpi_packet(struct vk_flowtab *t, struct vk_flow *f, const struct vk_decoded *d,
                   uint64_t ts_us);
void vk_dpi_finish(struct vk_flowtab *t, struct vk_flow *f);
void vk_dpi_cleanup(struct vk_flowtab *t);

#endif
