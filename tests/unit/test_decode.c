/* test_decode.c — link/network/transport decoding on real corpus captures: tunnels,
 * VLANs, MPLS, odd link types, fragments, and malformed packets that must not crash. */
#include <pcap/pcap.h>

#include "vk_test.h"

#include "decode/vk_decode.h"

struct seen {
    int packets, ip, frag_held, reassembled;
    uint32_t anom;
    const char *tun0;
    int nvlan, nmpls;
    uint16_t vlan0;
    uint8_t proto_last;
    uint16_t dport_last;
    char dst_last[64];
};

/* Decode every packet of a corpus capture; summarise what came out. */
static struct seen decode_file(const char *rel)
{
    struct seen s = {0};
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(vk_test_corpus(rel), eb);
    assert_non_null(p);
    struct vk_decoder *d = vk_decode_new(0);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        struct vk_pkt pkt = {(uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec, h->caplen, h->len,
                             pcap_datalink(p), data};
        struct vk_decoded o;
        int r = vk_decode_packet(d, &pkt, &o);
        s.packets++;
        s.anom |= o.anom;
        if (o.frag_held) s.frag_held++;
        if (r != 0) continue;
        s.ip++;
        s.reassembled += o.reassembled;
        if (o.ntun && !s.tun0) s.tun0 = o.tun[0];
        if (o.nvlan) s.vlan0 = o.vlan[0], s.nvlan = o.nvlan;
        if (o.nmpls) s.nmpls = o.nmpls;
        s.proto_last = o.ipproto;
        s.dport_last = o.dport;
        vk_ip_str(o.family, o.dst, s.dst_last);
    }
    vk_decode_free(d);
    pcap_close(p);
    return s;
}

static void gre_inner_flow(void **st)
{
    (void)st;
    struct seen s = decode_file("pcap/arkime/gre-sample.pcap");
    assert_string_equal(s.tun0, "gre");
    assert_int_equal(s.ip, s.packets);
}

static void erspan_vxlan_geneve_gtp(void **st)
{
    (void)st;
    assert_string_equal(decode_file("pcap/arkime/gre-erspan.pcap").tun0, "erspan");
    assert_string_equal(decode_file("pcap/arkime/vxlan.pcap").tun0, "vxlan");
    assert_string_equal(decode_file("pcap/arkime/tcpdump-geneve.pcap").tun0, "geneve");
    assert_string_equal(decode_file("pcap/arkime/gtp-iphone.pcap").tun0, "gtp");
    struct seen s = decode_file("pcap/arkime/ipv6-in-ipv4.pcap");
    assert_string_equal(s.tun0, "6in4");
    assert_int_equal(s.proto_last, 58);
}

static void vlan_qinq_and_mpls(void **st)
{
    (void)st;
    struct seen s = decode_file("pcap/arkime/twovlan.pcap");
    assert_int_equal(s.nvlan, 2);
    s = decode_file("pcap/arkime/mpls-basic.pcap");
    assert_true(s.nmpls >= 1);
    assert_true(s.ip > 0);
}

static void link_types(void **st)
{
    (void)st;
    /* 802.11 with radiotap, raw IPv4, PPPoE, NFLOG: each yields IP flows */
    assert_true(decode_file("pcap/arkime/80211http.pcap").ip > 10);
    assert_true(decode_file("pcap/arkime/adb.pcap").ip > 0);
    assert_true(decode_file("pcap/arkime/pppoe.pcap").ip > 0);
    assert_true(decode_file("pcap/arkime/nflog.pcap").ip > 0);
}

static void ipv4_fragments_reassemble(void **st)
{
    (void)st;
    struct seen s = decode_file("pcap/arkime/socks5-http-302-frag.pcap");
    assert_true(s.frag_held > 10);
    assert_true(s.reassembled >= 2);
}

static void malformed_captures_become_anomalies(void **st)
{
    (void)st;
    /* tcpdump's fuzzed captures: every packet must decode without a crash (ASan build). */
    static const char *const files[] = {
        "pcap/tcpdump/dns_tcp.pcap", "pcap/tcpdump/geneve-vni.pcap", "pcap/tcpdump/mpls-ldp-hello.pcap",
        "pcap/tcpdump/vxlan.pcap",   NULL};
    for (int i = 0; files[i]; i++) {
        FILE *f = fopen(vk_test_corpus(files[i]), "rb");
        if (!f) continue; /* not every snapshot has every file */
        fclose(f);
        assert_true(decode_file(files[i]).packets > 0);
    }
    /* A truncated IPv4 header and a lying total length, built from a real frame. */
    uint8_t frame[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45, 0, 0x05, 0xdc, 0, 0, 0, 0,
                       64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x00, 0x50};
    struct vk_decoder *d = vk_decode_new(0);
    struct vk_decoded o;
    for (size_t cut = 0; cut <= sizeof frame; cut++) {
        struct vk_pkt pkt = {0, (uint32_t)cut, (uint32_t)cut, 1, frame};
        vk_decode_packet(d, &pkt, &o);
    }
    assert_true(o.anom & (1u << VK_ANOM_BAD_IP_LEN));
    assert_true(o.anom & (1u << VK_ANOM_TRUNCATED_TCP));
    vk_decode_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gre_inner_flow),
        cmocka_unit_test(erspan_vxlan_geneve_gtp),
        cmocka_unit_test(vlan_qinq_and_mpls),
        cmocka_unit_test(link_types),
        cmocka_unit_test(ipv4_fragments_reassemble),
        cmocka_unit_test(malformed_captures_become_anomalies),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
