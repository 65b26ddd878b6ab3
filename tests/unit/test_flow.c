/* test_flow.c — the flow table and TCP reassembly: ordering, retransmissions, overlaps,
 * gaps, orientation, timeouts and caps, checked through the records the table emits and
 * through the HTTP parser seeing the request in order. */
#include "vk_test.h"

#include "capture/vk_capture.h"
#include "decode/vk_decode.h"
#include "flow/vk_flow.h"

#define NREC 64
static struct vk_meta recs[NREC];
static int nrec;

static void emit(void *ud, struct vk_meta *m, const struct vk_flow_pos *pos)
{
    (void)ud;
    if (nrec < NREC) {
        vk_meta_init(&recs[nrec]);
        vk_meta_merge(&recs[nrec++], m);
    }
}

static void reset(void)
{
    for (int i = 0; i < nrec; i++) vk_meta_free(&recs[i]);
    nrec = 0;
}

static uint64_t u(const struct vk_meta *m, enum vk_key k)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) return m->items[i].u;
    return ~0ull;
}

static const uint8_t CLI[4] = {10, 0, 0, 1}, SRV[4] = {10, 0, 0, 2};

/* One TCP segment from the client (dir 0) or server (dir 1). */
static void seg(struct vk_flowtab *t, uint64_t ts, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
                const char *data)
{
    static uint8_t frame[64];
    struct vk_pkt pkt = {ts, 54, 54 + (uint32_t)(data ? strlen(data) : 0), 1, frame};
    struct vk_decoded d;
    memset(&d, 0, sizeof d);
    d.family = 4;
    d.ipproto = 6;
    memcpy(d.src, dir ? SRV : CLI, 4);
    memcpy(d.dst, dir ? CLI : SRV, 4);
    d.sport = dir ? 80 : 40000;
    d.dport = dir ? 40000 : 80;
    d.tcp_flags = flags;
    d.seq = seq;
    d.ack = ack;
    d.payload = (const uint8_t *)data;
    d.payload_len = data ? (uint32_t)strlen(data) : 0;
    vk_flow_packet(t, &pkt, &d);
}

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

static struct vk_flowtab *table(void)
{
    struct vk_flow_config c;
    vk_flow_config_default(&c);
    c.dpi_packets = 0;
    reset();
    return vk_flow_new(&c, emit, NULL);
}

static void handshake(struct vk_flowtab *t)
{
    seg(t, 1000000, 0, SYN, 100, 0, NULL);
    seg(t, 1000100, 1, SYN | ACK, 500, 101, NULL);
    seg(t, 1000200, 0, ACK, 101, 501, NULL);
}

static void out_of_order_request_is_delivered_in_order(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    handshake(t);
    /* "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n" in two segments, second first */
    seg(t, 1000300, 0, PSH | ACK, 117, 501, "Host: a.example\r\n\r\n");
    seg(t, 1000400, 0, PSH | ACK, 101, 501, "GET / HTTP/1.1\r\n");
    seg(t, 1000400, 0, PSH | ACK, 101, 501, "GET / HTTP/1.1\r\n"); /* retransmission */
    assert_int_equal(vk_flow_stats(t)->tcp_ooo, 1);
    assert_int_equal(vk_flow_stats(t)->tcp_retrans, 1);
    vk_flow_flush(t);
    assert_int_equal(nrec, 1);
    assert_true(vk_test_has(&recs[0], VK_K_HTTP_HOST, "a.example"));
    assert_int_equal(u(&recs[0], VK_K_PAYLOAD_SRC), 35);
    assert_int_equal(u(&recs[0], VK_K_PACKETS_SRC), 5);
    vk_flow_free(t);
}

static void conflicting_overlap_is_flagged(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    handshake(t);
    seg(t, 1000300, 0, PSH | ACK, 111, 501, "AAAAAAAAAA");
    seg(t, 1000400, 0, PSH | ACK, 115, 501, "BBBBBB"); /* overlaps the buffered bytes, differs */
    vk_flow_flush(t);
    assert_true(vk_test_has(&recs[0], VK_K_ANOMALY, "tcp.overlap_conflict"));
    assert_int_equal(vk_flow_stats(t)->tcp_overlap_conflicts, 1);
    vk_flow_free(t);
}

static void acknowledged_hole_becomes_a_gap(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    handshake(t);
    seg(t, 1000300, 0, PSH | ACK, 201, 501, "later bytes");
    seg(t, 1000400, 1, ACK, 501, 212, NULL); /* server acks bytes we never saw */
    assert_int_equal(vk_flow_stats(t)->tcp_gaps, 1);
    assert_int_equal(vk_flow_stats(t)->tcp_gap_bytes, 100);
    vk_flow_flush(t);
    assert_true(vk_test_has(&recs[0], VK_K_ANOMALY, "tcp.gap"));
    assert_int_equal(u(&recs[0], VK_K_PAYLOAD_SRC), 11);
    vk_flow_free(t);
}

static void syn_ack_first_orients_to_the_initiator(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    seg(t, 1000100, 1, SYN | ACK, 500, 101, NULL);
    seg(t, 1000200, 0, ACK, 101, 501, NULL);
    vk_flow_flush(t);
    assert_int_equal(u(&recs[0], VK_K_PORT_DST), 80);
    assert_int_equal(u(&recs[0], VK_K_PACKETS_SRC), 1);
    assert_int_equal(u(&recs[0], VK_K_PACKETS_DST), 1);
    vk_flow_free(t);
}

static void fin_then_new_syn_is_a_new_session(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    handshake(t);
    seg(t, 1000300, 0, FIN | ACK, 101, 501, NULL);
    seg(t, 1000400, 1, FIN | ACK, 501, 102, NULL);
    seg(t, 2000000, 0, SYN, 9000, 0, NULL);
    assert_int_equal(nrec, 1);
    vk_flow_flush(t);
    assert_int_equal(nrec, 2);
    vk_flow_free(t);
}

static void idle_timeout_and_interim(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    handshake(t);
    vk_flow_advance(t, 1000000 + 479ull * 1000000);
    assert_int_equal(nrec, 0);
    vk_flow_advance(t, 1000200 + 481ull * 1000000);
    assert_int_equal(nrec, 1);
    vk_flow_free(t);
    /* a session active past the save timeout emits an interim record with the same id */
    t = table();
    handshake(t);
    for (int s = 1; s <= 900; s += 100) {
        seg(t, 1000300 + (uint64_t)s * 1000000, 0, ACK, 101, 501, NULL);
        vk_flow_advance(t, 1000300 + (uint64_t)s * 1000000);
    }
    assert_int_equal(nrec, 1);
    assert_int_equal(u(&recs[0], VK_K_INTERIM), 1);
    vk_flow_flush(t);
    assert_int_equal(nrec, 2);
    char a[32], b[32];
    vk_meta_get_str(&recs[0], VK_K_ID, a, sizeof a);
    vk_meta_get_str(&recs[1], VK_K_ID, b, sizeof b);
    assert_string_equal(a, b);
    vk_flow_free(t);
}

static void max_flows_evicts_and_counts(void **st)
{
    (void)st;
    struct vk_flow_config c;
    vk_flow_config_default(&c);
    c.dpi_packets = 0;
    c.max_flows = 16;
    reset();
    struct vk_flowtab *t = vk_flow_new(&c, emit, NULL);
    static uint8_t frame[64];
    for (int i = 0; i < 20; i++) {
        struct vk_pkt pkt = {1000000 + (uint64_t)i, 60, 60, 1, frame};
        struct vk_decoded d;
        memset(&d, 0, sizeof d);
        d.family = 4;
        d.ipproto = 17;
        memcpy(d.src, CLI, 4);
        memcpy(d.dst, SRV, 4);
        d.sport = (uint16_t)(1000 + i);
        d.dport = 9999;
        vk_flow_packet(t, &pkt, &d);
    }
    assert_int_equal(vk_flow_stats(t)->flows_evicted, 4);
    assert_int_equal(vk_flow_stats(t)->active, 16);
    vk_flow_free(t);
    assert_int_equal(nrec, 20);
}

/* Ten thousand sessions make the bucket array double a few times; every reply must still
 * find its session (one record per session, both sides counted). */
static void table_growth_keeps_every_session(void **st)
{
    (void)st;
    struct vk_flowtab *t = table();
    static uint8_t frame[64];
    int emitted = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 10000; i++) {
            struct vk_pkt pkt = {1000000 + (uint64_t)i, 60, 60, 1, frame};
            struct vk_decoded d;
            memset(&d, 0, sizeof d);
            d.family = 4;
            d.ipproto = 17;
            uint8_t a[4] = {10, 1, (uint8_t)(i >> 8), (uint8_t)i};
            memcpy(pass ? d.dst : d.src, a, 4);
            memcpy(pass ? d.src : d.dst, SRV, 4);
            d.sport = pass ? 53 : 40000;
            d.dport = pass ? 40000 : 53;
            vk_flow_packet(t, &pkt, &d);
        }
    assert_int_equal(vk_flow_stats(t)->active, 10000);
    vk_flow_flush(t);
    emitted = nrec; /* the recorder keeps the first NREC records only */
    assert_int_equal(vk_flow_stats(t)->sessions, 10000);
    for (int i = 0; i < emitted; i++) {
        assert_int_equal(u(&recs[i], VK_K_PACKETS_SRC), 1);
        assert_int_equal(u(&recs[i], VK_K_PACKETS_DST), 1);
    }
    vk_flow_free(t);
}

/* A whole capture through decode and a table with nDPI on (the default config). */
static void replay(const char *rel)
{
    struct vk_flow_config c;
    vk_flow_config_default(&c);
    reset();
    struct vk_flowtab *t = vk_flow_new(&c, emit, NULL);
    struct vk_decoder *dec = vk_decode_new(0);
    struct vk_capture *cap;
    char *path = (char *)vk_test_corpus(rel);
    assert_int_equal(vk_capture_open_files(&cap, &path, 1, NULL), 0);
    struct vk_pkt pkt;
    struct vk_decoded d;
    while (vk_capture_next(cap, &pkt) == 1) {
        vk_decode_packet(dec, &pkt, &d);
        vk_flow_packet(t, &pkt, &d);
    }
    vk_capture_close(cap);
    vk_decode_free(dec);
    vk_flow_free(t);
}

static const struct vk_meta *rec_to_port(uint64_t port)
{
    for (int i = 0; i < nrec; i++)
        if (u(&recs[i], VK_K_PORT_DST) == port) return &recs[i];
    fail_msg("no session to port %llu", (unsigned long long)port);
    return NULL;
}

/* nDPI never sees handshake packets when a parser names the service at the first payload
 * (HTTP here), and still gets them, replayed, for sessions that end without payload: the
 * scanned ports of tcp_scan.pcapng keep the names nDPI guesses from them. */
static void ndpi_sees_held_back_handshakes(void **st)
{
    (void)st;
    replay("pcap/arkime/http-simple-get.pcap");
    assert_int_equal(nrec, 1);
    VK_HAS(&recs[0], VK_K_SERVICE, "http");
    VK_HAS(&recs[0], VK_K_APP, "HTTP");
    replay("pcap/ndpi/tcp_scan.pcapng");
    VK_HAS(rec_to_port(80), VK_K_APP, "HTTP");
    VK_HAS(rec_to_port(443), VK_K_APP, "TLS");
    VK_HAS(rec_to_port(445), VK_K_APP, "SMBv23");
    VK_HAS(rec_to_port(3389), VK_K_APP, "RDP");
    assert_false(vk_meta_has(rec_to_port(3390), VK_K_APP));
    /* sessions that end with only held packets: replayed when they close */
    replay("pcap/ndpi/fuzz-2021-10-13.pcap");
    assert_int_equal(nrec, 1);
    VK_HAS(&recs[0], VK_K_APP, "TLS");
    replay("pcap/ndpi/http_ipv6.pcap");
    int syn_only = 0;
    for (int i = 0; i < nrec; i++)
        if (u(&recs[i], VK_K_PAYLOAD_SRC) == 0 && vk_test_has(&recs[i], VK_K_APP, "TLS")) syn_only++;
    assert_int_equal(syn_only, 6);
    reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(out_of_order_request_is_delivered_in_order),
        cmocka_unit_test(conflicting_overlap_is_flagged),
        cmocka_unit_test(acknowledged_hole_becomes_a_gap),
        cmocka_unit_test(syn_ack_first_orients_to_the_initiator),
        cmocka_unit_test(fin_then_new_syn_is_a_new_session),
        cmocka_unit_test(idle_timeout_and_interim),
        cmocka_unit_test(max_flows_evicts_and_counts),
        cmocka_unit_test(table_growth_keeps_every_session),
        cmocka_unit_test(ndpi_sees_held_back_handshakes),
    };
    int r = cmocka_run_group_tests_name("flow", tests, NULL, NULL);
    reset();
    return r;
}
