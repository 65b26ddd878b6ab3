/* dpi.c — nDPI (libndpi from Debian) names the application of each session.
 *
 * Every session's first cfg.dpi_packets packets with an IP header go to nDPI until it is
 * sure; then its per-flow state is freed at once, so it costs memory only while a session
 * is young. At the end of a session still undecided, nDPI may guess from ports. We keep
 * `app` (nDPI's "Master.App" name) always; `service` only when nDPI really saw the
 * protocol and our own parsers found nothing; host names nDPI extracted go to alias.host.
 * One detection module per flow table (nDPI modules are not shared across threads). */
#include <arpa/inet.h>
#include <ctype.h>
#include <ndpi/ndpi_api.h>
#include <stdlib.h>
#include <xxhash.h>

#include "flow_int.h"

int vk_dpi_init(struct vk_flowtab *t)
{
    struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
    if (!m) return VK_ENOMEM;
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(m, &all);
    ndpi_finalize_initialization(m);
    t->dpi_mod = m;
    t->dpi_flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
    return 0;
}

void vk_dpi_cleanup(struct vk_flowtab *t)
{
    if (t->dpi_mod) ndpi_exit_detection_module(t->dpi_mod);
    t->dpi_mod = NULL;
    free(t->dpi_hosts);
    t->dpi_hosts = NULL;
}

/* nDPI's application for a host name (its host lists, matched by an automaton over the
 * name) depends on the name alone, and the same names come back in session after session:
 * answers are memoised per table by a 128-bit hash of the name. Direct-mapped. */
#define HOST_MEMO 4096

struct host_memo {
    struct {
        XXH128_hash_t key;
        int app; /* ndpi_match_string_subprotocol's answer */
        bool used;
    } slot[HOST_MEMO];
};

static int match_host(struct vk_flowtab *t, const char *host, size_t n)
{
    struct ndpi_detection_module_struct *m = t->dpi_mod;
    ndpi_protocol_match_result res;
    struct host_memo *hm = t->dpi_hosts;
    if (!hm && !(hm = t->dpi_hosts = calloc(1, sizeof *hm)))
        return ndpi_match_string_subprotocol(m, (char *)host, (u_int)n, &res);
    XXH128_hash_t h = XXH3_128bits(host, n);
    unsigned i = (unsigned)(h.low64 % HOST_MEMO);
    if (!hm->slot[i].used || !XXH128_isEqual(hm->slot[i].key, h)) {
        hm->slot[i].app = ndpi_match_string_subprotocol(m, (char *)host, (u_int)n, &res);
        hm->slot[i].key = h;
        hm->slot[i].used = true;
    }
    return hm->slot[i].app;
}

/* nDPI protocol names → the service names Arkime and vakt use, where they differ or
 * where we trust nDPI to name a service we have no parser for. */
static const struct {
    const char *ndpi, *svc;
} svc_map[] = {
    {"Kerberos", "krb5"}, {"MySQL", "mysql"}, {"PostgreSQL", "postgresql"}, {"RDP", "rdp"},
    {"SIP", "sip"}, {"SNMP", "snmp"}, {"NTP", "ntp"}, {"IMAP", "imap"}, {"IMAPS", "imap"},
    {"POP3", "pop3"}, {"LDAP", "ldap"}, {"IRC", "irc"}, {"BitTorrent", "bittorrent"},
    {"MongoDB", "mongo"}, {"Radius", "radius"}, {"TFTP", "tftp"}, {"BGP", "bgp"},
    {"OSPF", "ospf"}, {"MQTT", "mqtt"}, {"Modbus", "modbus"}, {"DNP3", "dnp3"},
    {"IEC60870", "iec104"}, {"MDNS", "mdns"}, {"LLMNR", "llmnr"}, {"NetBIOS", "nbns"},
    {"DTLS", "dtls"}, {"STUN", "stun"}, {"OpenVPN", "openvpn"}, {"IPsec", "isakmp"},
    {"Telnet", "telnet"}, {"VNC", "vnc"}, {"Redis", "redis"}, {"Syslog", "syslog"},
    {"RTSP", "rtsp"}, {"RTP", "rtp"}, {"RTCP", "rtcp"}, {"SOCKS", "socks"},
    {"Memcached", "memcached"}, {"Cassandra", "cassandra"}, {"MsSQL-TDS", "tds"},
    {"Oracle", "oracle"}, {"DCE_RPC", "dcerpc"}, {"NFS", "nfs"}, {"CoAP", "coap"},
    {"GTP", "gtp"}, {"Diameter", "diameter"}, {"WhatsApp", NULL}, {NULL, NULL},
};

static const char *map_service(const char *name)
{
    for (int i = 0; svc_map[i].ndpi; i++)
        if (strcmp(svc_map[i].ndpi, name) == 0) return svc_map[i].svc;
    return NULL;
}

/* Has a parser named the application already? Encapsulation and IP-level names that the
 * flow stage adds (gre, gtp, vxlan, sctp, ...) do not count. */
static bool has_app_service(const struct vk_meta *m)
{
    static const char *const enc[] = {"gre", "ppp", "pppoe", "vxlan", "geneve", "gtp", "igmp",
                                      "esp", "ospf", "pim", "sctp", "unknown-ip", NULL};
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != VK_K_SERVICE) continue;
        bool is_enc = false;
        for (int k = 0; enc[k]; k++)
            if (strlen(enc[k]) == it->len && memcmp(enc[k], vk_meta_str(m, it), it->len) == 0) is_enc = true;
        if (!is_enc) return true;
    }
    return false;
}

/* nDPI's host name, only when our parsers found none (nDPI truncates long ones). */
static void add_ndpi_host(struct vk_flow *f)
{
    struct ndpi_flow_struct *nf = f->dpi;
    if (!nf || !nf->host_server_name[0] || vk_meta_has(&f->meta, VK_K_ALIAS_HOST)) return;
    size_t n = strnlen(nf->host_server_name, sizeof nf->host_server_name);
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)nf->host_server_name[i])) return;
    vk_meta_add_lower(&f->meta, VK_K_ALIAS_HOST, nf->host_server_name, n);
}

static void record(struct vk_flowtab *t, struct vk_flow *f, ndpi_protocol p, bool guessed)
{
    struct ndpi_detection_module_struct *m = t->dpi_mod;
    if (p.master_protocol == NDPI_PROTOCOL_UNKNOWN && p.app_protocol == NDPI_PROTOCOL_UNKNOWN)
        return;
    char name[64];
    ndpi_protocol2name(m, p, name, sizeof name);
    vk_meta_add_cstr(&f->meta, VK_K_APP, name);
    if (!guessed && !has_app_service(&f->meta)) {
        uint16_t id = p.master_protocol != NDPI_PROTOCOL_UNKNOWN ? p.master_protocol : p.app_protocol;
        const char *svc = map_service(ndpi_get_proto_name(m, id));
        if (svc) vk_meta_add_cstr(&f->meta, VK_K_SERVICE, svc);
    }
    add_ndpi_host(f);
}

static void release(struct vk_flowtab *t, struct vk_flow *f)
{
    if (!f->dpi) return;
    ndpi_free_flow_data(f->dpi);
    vk_flow_obj_put(t, f->dpi, t->dpi_flow_size);
    f->dpi = NULL;
    t->st.state_bytes -= t->dpi_flow_size;
}

/* Our services and the nDPI master protocol that names the same thing. */
static const struct {
    const char *svc, *ndpi;
} master_map[] = {
    {"tls", "TLS"},   {"http", "HTTP"},   {"dns", "DNS"},          {"quic", "QUIC"},
    {"smtp", "SMTP"}, {"ssh", "SSH"},     {"dhcp", "DHCP"},        {"mdns", "MDNS"},
    {"llmnr", "LLMNR"}, {"smb", "SMBv23"}, {"ftp", "FTP_CONTROL"}, {"ftp-data", "FTP_DATA"},
    {"dhcpv6", "DHCPV6"}, {NULL, NULL},
};

/* TLS on a well-known port is that port's secure protocol in nDPI's naming. */
static const char *tls_by_port(uint16_t port)
{
    switch (port) {
    case 993: return "IMAPS";
    case 995: return "POP3S";
    case 465: return "SMTPS";
    case 636: return "LDAPS";
    case 853: return "DoH_DoT";
    case 990: return "FTPS";
    }
    return NULL;
}

/* One of our parsers has named the service, so nDPI's dissectors have nothing to add;
 * nDPI's host lists (and, failing those, its IPv4 network lists) still name the
 * application behind the host we found (SNI, Host, query), as nDPI itself would: `app` = "Master.App", or the master alone. The nDPI flow
 * state is released at once. O(host length) for the automaton match. */
static void conclude_by_host(struct vk_flowtab *t, struct vk_flow *f)
{
    struct ndpi_detection_module_struct *m = t->dpi_mod;
    char svc[16] = "", host[256] = "";
    const char *master = NULL;
    for (uint32_t i = 0; i < f->meta.n && !master; i++) {
        const struct vk_meta_item *it = &f->meta.items[i];
        if (it->key != VK_K_SERVICE) continue;
        snprintf(svc, sizeof svc, "%.*s", (int)it->len, vk_meta_str(&f->meta, it));
        for (int k = 0; master_map[k].svc; k++)
            if (strcmp(master_map[k].svc, svc) == 0) master = master_map[k].ndpi;
    }
    if (master && strcmp(master, "TLS") == 0 && tls_by_port(f->v.port[1])) master = tls_by_port(f->v.port[1]);
    add_ndpi_host(f);
    if (master) {
        ndpi_protocol p = {.master_protocol = (u_int16_t)ndpi_get_protocol_id(m, (char *)master)};
        if (vk_meta_get_str(&f->meta, VK_K_ALIAS_HOST, host, sizeof host)) {
            int app = match_host(t, host, strlen(host));
            if (app > 0 && app != p.master_protocol) p.app_protocol = (u_int16_t)app;
        }
        if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && f->v.family == 4) {
            /* nDPI's address lists (cloud and service networks), server side first */
            for (int d = 1; d >= 0 && p.app_protocol == NDPI_PROTOCOL_UNKNOWN; d--) {
                struct in_addr a;
                memcpy(&a, f->v.addr[d], 4);
                u_int16_t id = ndpi_network_ptree_match(m, &a);
                if (id != NDPI_PROTOCOL_UNKNOWN && id != p.master_protocol) p.app_protocol = id;
            }
        }
        if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
            p.app_protocol = p.master_protocol;
            p.master_protocol = NDPI_PROTOCOL_UNKNOWN;
        }
        char name[64];
        ndpi_protocol2name(m, p, name, sizeof name);
        vk_meta_add_cstr(&f->meta, VK_K_APP, name);
    }
    release(t, f);
    f->dpi_pkts = (uint16_t)t->cfg.dpi_packets;
}

/* ---- packets held back from nDPI ----------------------------------------------------
 * A TCP session's first packets (SYN, SYN-ACK, ACK) carry no payload, and by the first
 * payload packet our parser has usually named the service, after which nDPI is not asked
 * again. So packets without payload before the first payload packet are copied aside
 * instead of creating nDPI's flow state; so are the first PEND_DATA payload packets of a
 * session our TLS parser has claimed but not yet named (a ClientHello split over two
 * segments, which nDPI cannot name either before it is whole; other parsers are not
 * held back, as nDPI may settle on their first segment: NetBIOS before SMB). If nDPI
 * turns out to be needed (no parser named the service, or the session ends first) the
 * held packets are replayed into it, in order and with their own times, before anything
 * else: nDPI sees exactly the packets it would have. Handshakes fit a small buffer
 * (PEND_SMALL, what a SYN flood costs per session); only a TLS session gets the large one. */
#define PEND_SMALL 320   /* three IPv4/IPv6 handshake packets with options */
#define PEND_LARGE 4096  /* ... and two full-size segments */
#define PEND_DATA 2

struct pend {
    uint16_t used, cap;
    uint8_t n, ndata;
    uint8_t buf[]; /* cap bytes; per packet: u64 time, u16 length, bytes */
};

static void pend_free(struct vk_flowtab *t, struct vk_flow *f)
{
    struct pend *p = f->dpi_pend;
    if (!p) return;
    t->st.state_bytes -= sizeof *p + p->cap;
    vk_flow_obj_put(t, p, sizeof *p + p->cap);
    f->dpi_pend = NULL;
}

/* Keep an L3 packet (data: one with payload) for later, in a buffer of at most `cap`
 * bytes. False when it does not fit (the caller replays what is held and gives this one to
 * nDPI at once). O(packet). */
static bool pend_add(struct vk_flowtab *t, struct vk_flow *f, const uint8_t *l3, size_t n, uint64_t ts_us,
                     uint16_t cap, bool data)
{
    struct pend *p = f->dpi_pend;
    size_t need = (p ? p->used : 0) + 10 + n;
    if (need > cap) return false;
    if (!p || need > p->cap) {
        uint16_t nc = need > PEND_SMALL ? PEND_LARGE : PEND_SMALL;
        struct pend *np = vk_flow_obj_get(t, sizeof *np + nc); /* zeroed: empty */
        if (!np) return false;
        np->cap = nc;
        if (p) {
            np->used = p->used;
            np->n = p->n;
            np->ndata = p->ndata;
            memcpy(np->buf, p->buf, p->used);
            pend_free(t, f);
        }
        f->dpi_pend = p = np;
        t->st.state_bytes += sizeof *p + p->cap;
    }
    memcpy(p->buf + p->used, &ts_us, 8);
    uint16_t len = (uint16_t)n;
    memcpy(p->buf + p->used + 8, &len, 2);
    memcpy(p->buf + p->used + 10, l3, n);
    p->used = (uint16_t)(p->used + 10 + n);
    p->n++;
    p->ndata = (uint8_t)(p->ndata + data);
    return true;
}

static void feed(struct vk_flowtab *t, struct vk_flow *f, const uint8_t *l3, size_t n, uint64_t ts_us);

/* Give the held packets to nDPI, oldest first, and drop the copy. */
static void pend_replay(struct vk_flowtab *t, struct vk_flow *f)
{
    struct pend *p = f->dpi_pend;
    if (!p) return;
    f->dpi_pend = NULL; /* feed() must not see it */
    for (size_t off = 0; off < p->used && f->dpi_pkts < t->cfg.dpi_packets;) {
        uint64_t ts;
        uint16_t len;
        memcpy(&ts, p->buf + off, 8);
        memcpy(&len, p->buf + off + 8, 2);
        feed(t, f, p->buf + off + 10, len, ts);
        off += 10 + (size_t)len;
    }
    t->st.state_bytes -= sizeof *p + p->cap;
    vk_flow_obj_put(t, p, sizeof *p + p->cap);
}

/* One packet into nDPI (creating its flow state on the first); concludes when nDPI is
 * sure or has seen cfg.dpi_packets packets. */
static void feed(struct vk_flowtab *t, struct vk_flow *f, const uint8_t *l3, size_t n, uint64_t ts_us)
{
    if (f->dpi_pkts == 0) {
        f->dpi = vk_flow_obj_get(t, t->dpi_flow_size);
        if (!f->dpi) {
            f->dpi_pkts = (uint16_t)t->cfg.dpi_packets;
            return;
        }
        t->st.state_bytes += t->dpi_flow_size;
    }
    if (!f->dpi) return;
    f->dpi_pkts++;
    ndpi_protocol p = ndpi_detection_process_packet(t->dpi_mod, f->dpi, l3, (unsigned short)n, ts_us / 1000);
    bool known = p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN;
    if ((known && !ndpi_extra_dissection_possible(t->dpi_mod, f->dpi)) ||
        f->dpi_pkts >= t->cfg.dpi_packets) {
        if (!known) {
            uint8_t guessed = 0;
            p = ndpi_detection_giveup(t->dpi_mod, f->dpi, 1, &guessed);
            record(t, f, p, guessed);
        } else {
            record(t, f, p, false);
        }
        release(t, f);
        f->dpi_pkts = (uint16_t)t->cfg.dpi_packets;
    }
}

void vk_dpi_packet(struct vk_flowtab *t, struct vk_flow *f, const struct vk_decoded *d, uint64_t ts_us)
{
    /* Named by our parser while nDPI held state, or only handshake packets were held. */
    if ((f->dpi || f->dpi_pend) && has_app_service(&f->meta)) {
        pend_free(t, f);
        conclude_by_host(t, f);
        return;
    }
    /* A well-formed DNS query from a client port to port 53 that our parser read before
     * nDPI saw a packet: nDPI would name the application from that same query name, so it
     * never gets flow state. Only then: with mDNS/LLMNR/other well-known ports on either
     * side, for odd messages and for other protocols nDPI's own verdict (ports, addresses,
     * its dissectors) can differ. */
    if (f->dpi_pkts == 0 && f->parser == &vk_proto_dns_udp && f->v.port[1] == 53 && f->v.port[0] >= 1024 &&
        f->v.port[0] != 5353 && f->v.port[0] != 5355 &&
        vk_meta_has(&f->meta, VK_K_ALIAS_HOST) && !vk_meta_has(&f->meta, VK_K_ANOMALY) &&
        has_app_service(&f->meta)) {
        conclude_by_host(t, f);
        return;
    }
    if (!d->l3 || d->l3_len > 0xffff) return;
    if (f->dpi_pkts == 0 && d->ipproto == 6 && !(d->tcp_flags & 0x04)) {
        struct pend *p = f->dpi_pend;
        /* acknowledgements after a held TLS segment go with it into the large buffer */
        uint16_t cap = p && p->cap == PEND_LARGE ? PEND_LARGE : PEND_SMALL;
        if (d->payload_len == 0 && pend_add(t, f, d->l3, d->l3_len, ts_us, cap, false)) return;
        if (d->payload_len && f->parser == &vk_proto_tls && !f->pdone && (!p || p->ndata < PEND_DATA) &&
            pend_add(t, f, d->l3, d->l3_len, ts_us, PEND_LARGE, true))
            return;
    }
    pend_replay(t, f);
    if (f->dpi_pkts < t->cfg.dpi_packets) feed(t, f, d->l3, d->l3_len, ts_us);
}

void vk_dpi_finish(struct vk_flowtab *t, struct vk_flow *f)
{
    pend_replay(t, f);
    if (!f->dpi) return;
    uint8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(t->dpi_mod, f->dpi, 1, &guessed);
    record(t, f, p, guessed);
    release(t, f);
}
