/* dpi.c — nDPI (libndpi from Debian) names the application of each session.
 *
 * Every session's first cfg.dpi_packets packets with an IP header go to nDPI until it is
 * sure; then its per-flow state is freed at once, so it costs memory only while a session
 * is young. At the end of a session still undecided, nDPI may guess from ports. We keep
 * `app` (nDPI's "Master.App" name) always; `service` only when nDPI really saw the
 * protocol and our own parsers found nothing; host names nDPI extracted go to alias.host.
 * One detection module per flow table (nDPI modules are not shared across threads). */
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

static void record(struct vk_flowtab *t, struct vk_flow *f, ndpi_protocol p, bool guessed)
{
    struct ndpi_detection_module_struct *m = t->dpi_mod;
    struct ndpi_flow_struct *nf = f->dpi;
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
    /* nDPI's host name only when our parsers found none (nDPI truncates long ones). */
    if (nf && nf->host_server_name[0] && !vk_meta_has(&f->meta, VK_K_ALIAS_HOST)) {
        size_t n = strnlen(nf->host_server_name, sizeof nf->host_server_name);
        bool printable = true;
        for (size_t i = 0; i < n; i++)
            if (!isgraph((unsigned char)nf->host_server_name[i])) printable = false;
        if (printable) vk_meta_add_lower(&f->meta, VK_K_ALIAS_HOST, nf->host_server_name, n);
    }
}

static void release(struct vk_flowtab *t, struct vk_flow *f)
{
    if (!f->dpi) return;
    ndpi_free_flow_data(f->dpi);
    free(f->dpi);
    f->dpi = NULL;
    t->st.state_bytes -= t->dpi_flow_size;
}

void vk_dpi_packet(struct vk_flowtab *t, struct vk_flow *f, const struct vk_decoded *d, uint64_t ts_us)
{
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
