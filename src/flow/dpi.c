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
    free(f->dpi);
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
        ndpi_protocol_match_result res;
        if (vk_meta_get_str(&f->meta, VK_K_ALIAS_HOST, host, sizeof host)) {
            int app = ndpi_match_string_subprotocol(m, host, (u_int)strlen(host), &res);
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

void vk_dpi_packet(struct vk_flowtab *t, struct vk_flow *f, const struct vk_decoded *d, uint64_t ts_us)
{
    if (f->dpi && has_app_service(&f->meta)) {
        conclude_by_host(t, f);
        return;
    }
    if (!d->l3 || d->l3_len > 0xffff) return;
    if (f->dpi_pkts == 0) {
        f->dpi = calloc(1, t->dpi_flow_size);
        if (!f->dpi) {
            f->dpi_pkts = (uint16_t)t->cfg.dpi_packets;
            return;
        }
        t->st.state_bytes += t->dpi_flow_size;
    }
    if (!f->dpi) return;
    f->dpi_pkts++;
    ndpi_protocol p = ndpi_detection_process_packet(t->dpi_mod, f->dpi, d->l3, (unsigned short)d->l3_len,
                                                    ts_us / 1000);
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

void vk_dpi_finish(struct vk_flowtab *t, struct vk_flow *f)
{
    if (!f->dpi) return;
    uint8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(t->dpi_mod, f->dpi, 1, &guessed);
    record(t, f, p, guessed);
    release(t, f);
}
