/* reasm.c — TCP reassembly: each direction's bytes, in order, to the parsers.
 *
 * Per direction we track the next expected sequence number. A segment that starts there
 * is delivered at once (no copy); one that starts before it is a retransmission or an
 * overlap, and only its new tail is delivered; one that starts after it is out of order
 * and is copied into a sorted list until the hole fills. Policy for overlaps: first data
 * wins (what was delivered or buffered first stands); a later copy that differs is
 * counted and flagged as anomaly tcp.overlap_conflict.
 *
 * Holes: when the peer acknowledges bytes we never saw, when the buffered bytes pass
 * reasm_max_flow, or at the end of the session, the hole is declared a gap: the parser
 * gets gap() and resynchronises, and delivery continues after the hole. Sessions picked up
 * mid-stream start at the first sequence number seen.
 *
 * Costs: in-order segments O(1) and no allocation; out-of-order segments one malloc each
 * (capped per flow and per table; bytes refused are counted in reasm_dropped). */
#include <stdlib.h>

#include "flow_int.h"

static inline int32_t sdiff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

static void deliver(struct vk_flowtab *t, struct vk_flow *f, int dir, const uint8_t *p,
                    uint32_t n, uint64_t ts)
{
    f->td[dir].next_seq += n;
    f->payload[dir] += n;
    vk_flow_deliver(t, f, dir, p, n, ts);
}

/* Deliver buffered segments that now touch next_seq. */
static void drain(struct vk_flowtab *t, struct vk_flow *f, int dir, uint64_t ts)
{
    struct tcpdir *td = &f->td[dir];
    while (td->ooo && sdiff(td->ooo->seq, td->next_seq) <= 0) {
        struct seg *s = td->ooo;
        td->ooo = s->next;
        td->ooo_bytes -= s->len;
        t->reasm_bytes -= s->len;
        int32_t skip = sdiff(td->next_seq, s->seq);
        if ((uint32_t)skip < s->len) deliver(t, f, dir, s->data + skip, s->len - (uint32_t)skip, ts);
        free(s);
    }
}

/* Declare the hole before the first buffered segment lost, and go on after it. */
static void gap_to_first(struct vk_flowtab *t, struct vk_flow *f, int dir, uint64_t ts)
{
    struct tcpdir *td = &f->td[dir];
    if (!td->ooo) return;
    if (sdiff(td->ooo->seq, td->next_seq) <= 0) {
        drain(t, f, dir, ts);
        return;
    }
    uint32_t hole = (uint32_t)sdiff(td->ooo->seq, td->next_seq);
    t->st.tcp_gaps++;
    t->st.tcp_gap_bytes += hole;
    vk_flow_gap(t, f, dir, hole);
    td->next_seq = td->ooo->seq;
    drain(t, f, dir, ts);
}

static void buffer_seg(struct vk_flowtab *t, struct vk_flow *f, int dir, uint32_t seq,
                       const uint8_t *p, uint32_t n, uint64_t ts)
{
    struct tcpdir *td = &f->td[dir];
    t->st.tcp_ooo++;
    /* Trim against buffered neighbours (first wins), comparing what overlaps. */
    struct seg **pp = &td->ooo;
    while (*pp && sdiff((*pp)->seq + (*pp)->len, seq) <= 0) pp = &(*pp)->next;
    while (n && *pp && sdiff((*pp)->seq, seq + n) < 0) {
        struct seg *s = *pp;
        if (sdiff(seq, s->seq) < 0) {
            /* Our head lies before s: buffer the head part separately. */
            uint32_t head = (uint32_t)sdiff(s->seq, seq);
            buffer_seg(t, f, dir, seq, p, head, ts);
            p += head;
            seq += head;
            n -= head;
            pp = &td->ooo;
            while (*pp && *pp != s) pp = &(*pp)->next;
            continue;
        }
        uint32_t off = (uint32_t)sdiff(seq, s->seq);
        uint32_t k = s->len - off < n ? s->len - off : n;
        if (memcmp(s->data + off, p, k) != 0) {
            t->st.tcp_overlap_conflicts++;
            vk_flow_anomaly(f, "tcp.overlap_conflict");
        }
        p += k;
        seq += k;
        n -= k;
        pp = &s->next;
    }
    if (!n) return;
    if (td->ooo_bytes + n > t->cfg.reasm_max_flow || t->reasm_bytes + n > t->cfg.reasm_max_total) {
        /* Over a cap: give up on the hole now instead of buffering more. */
        gap_to_first(t, f, dir, ts);
        if (sdiff(seq, td->next_seq) <= 0 || td->ooo_bytes + n > t->cfg.reasm_max_flow ||
            t->reasm_bytes + n > t->cfg.reasm_max_total) {
            if (sdiff(seq, td->next_seq) > 0) {
                uint32_t hole = (uint32_t)sdiff(seq, td->next_seq);
                t->st.tcp_gaps++;
                t->st.tcp_gap_bytes += hole;
                vk_flow_gap(t, f, dir, hole);
                td->next_seq = seq;
            }
            int32_t skip = sdiff(td->next_seq, seq);
            if (skip < 0) skip = 0;
            if ((uint32_t)skip < n) deliver(t, f, dir, p + skip, n - (uint32_t)skip, ts);
            drain(t, f, dir, ts);
            return;
        }
    }
    struct seg *s = malloc(sizeof *s + n);
    if (!s) {
        t->st.reasm_dropped += n;
        vk_flow_anomaly(f, "tcp.reasm_dropped");
        return;
    }
    s->seq = seq;
    s->len = n;
    memcpy(s->data, p, n);
    pp = &td->ooo;
    while (*pp && sdiff((*pp)->seq, seq) < 0) pp = &(*pp)->next;
    s->next = *pp;
    *pp = s;
    td->ooo_bytes += n;
    t->reasm_bytes += n;
}

void vk_reasm_packet(struct vk_flowtab *t, struct vk_flow *f, int dir, const struct vk_decoded *d,
                     uint64_t ts)
{
    struct tcpdir *td = &f->td[dir], *peer = &f->td[!dir];
    uint8_t fl = d->tcp_flags;
    uint32_t seq = d->seq;
    if (fl & 0x04) td->rst = true;
    if (fl & 0x02) {
        /* SYN: the stream starts after it. A retransmitted SYN changes nothing. */
        if (!td->init || sdiff(seq + 1, td->next_seq) != 0) {
            if (!td->init || (td->ooo == NULL && f->payload[dir] == 0)) {
                td->next_seq = seq + 1;
                td->init = true;
            }
        }
        seq++;
    }
    /* The peer acknowledges data we never saw: that hole will not fill. */
    if ((fl & 0x10) && peer->init && peer->ooo && sdiff(d->ack, peer->ooo->seq) >= 0)
        gap_to_first(t, f, !dir, ts);
    uint32_t n = d->payload_len;
    if (fl & 0x01) {
        td->fin = true;
        td->fin_seq = seq + n;
    }
    if (!n || (fl & 0x04)) return;
    if (!td->init) { /* picked up mid-stream */
        td->init = true;
        td->next_seq = seq;
        vk_meta_add_cstr(&f->meta, VK_K_ANOMALY, "tcp.midstream");
    }
    int32_t rel = sdiff(seq, td->next_seq);
    const uint8_t *p = d->payload;
    if (rel < 0) {
        uint32_t skip = td->next_seq - seq; /* unsigned: rel may be INT32_MIN */
        if (skip >= n) {
            t->st.tcp_retrans++;
            return;
        }
        p += skip;
        n -= skip;
        rel = 0;
        t->st.tcp_retrans++;
    }
    if (rel == 0) {
        deliver(t, f, dir, p, n, ts);
        if (td->ooo) drain(t, f, dir, ts);
        return;
    }
    if (rel > (int32_t)(64u << 20)) { /* wildly ahead: a bogus sequence number */
        vk_flow_anomaly(f, "tcp.bad_seq");
        return;
    }
    buffer_seg(t, f, dir, seq, p, n, ts);
}

void vk_reasm_finish(struct vk_flowtab *t, struct vk_flow *f)
{
    for (int dir = 0; dir < 2; dir++)
        while (f->td[dir].ooo) gap_to_first(t, f, dir, f->last_us);
}

void vk_reasm_free(struct vk_flowtab *t, struct vk_flow *f)
{
    for (int dir = 0; dir < 2; dir++) {
        struct seg *s = f->td[dir].ooo;
        while (s) {
            struct seg *n = s->next;
            t->reasm_bytes -= s->len;
            free(s);
            s = n;
        }
        f->td[dir].ooo = NULL;
        f->td[dir].ooo_bytes = 0;
    }
}
