/* dhcp.c — DHCPv4 (BOOTP with the DHCP magic cookie) and DHCPv6 over UDP.
 *
 * Owns the two wire formats: the fixed BOOTP header and its options (with option
 * overload into the sname/file fields), and DHCPv6 messages with their nested options
 * (IA_NA/IA_TA addresses, relay messages). It adds dhcp.* facts: message types as Arkime
 * names them, transaction ids, the client MAC (chaddr, client identifier or DUID), host
 * names (option 12, client FQDN) also to alias.host, requested or assigned addresses and
 * vendor classes. Each datagram is one message; there is no per-session state beyond
 * which service names were already added.
 *
 * What it leaves to others: grouping the DISCOVER/OFFER/REQUEST/ACK of one client into
 * one session (Arkime keys DHCP sessions by client MAC) belongs to the flow stage. */
#include "vk_proto.h"

#define DHCP4_FIXED 236          /* op .. file, before the magic cookie */
#define DHCP4_COOKIE 0x63825363u
#define DHCP6_RELAY_DEPTH_MAX 8  /* RFC 8415 allows 32 hops; 8 nested relays is plenty */

/* Message type names as Arkime writes dhcp.type. */
static const char *const dhcp4_types[] = {
    "", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
    "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED", "LEASEUNKNOWN", "LEASEACTIVE",
    "BULKLEASEQUERY", "LEASEQUERYDONE", "ACTIVELEASEQUERY", "LEASEQUERYSTATUS", "TLS",
};
static const char *const dhcp6_types[] = {
    "", "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW", "REBIND", "REPLY", "RELEASE",
    "DECLINE", "RECONFIGURE", "INFORMATION_REQUEST", "RELAY_FORW", "RELAY_REPL",
    "LEASEQUERY", "LEASEQUERY_REPLY", "LEASEQUERY_DONE", "LEASEQUERY_DATA",
    "LEASEQUERY_NO_DATA", "LEASEQUERY_STATUS", "LEASEQUERY_RECONF", "LEASEQUERY_RECONF_REPLY",
};
#define N_DHCP4_TYPES (sizeof dhcp4_types / sizeof *dhcp4_types)
#define N_DHCP6_TYPES (sizeof dhcp6_types / sizeof *dhcp6_types)

struct dhcp_state {
    bool v4_added, v6_added;
};

/* ---- shared helpers ------------------------------------------------------------------- */

static void dhcp_add_mac(struct vk_pctx *c, const uint8_t *a)
{
    vk_meta_printf(c->meta, VK_K_DHCP_MAC, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2],
                   a[3], a[4], a[5]);
}

/* A host name as sent: trailing NULs and dots dropped, lower-cased, to dhcp.host and
 * alias.host. */
static void dhcp_add_host(struct vk_pctx *c, const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == 0 || s[n - 1] == '.')) n--;
    if (n == 0) return;
    vk_meta_add_lower(c->meta, VK_K_DHCP_HOST, s, n);
    vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, s, n);
}

/* A domain name in DNS wire format without compression (RFC 4702 §2.3, RFC 4704 §4.2);
 * it may stop short of the root label (a partial name). O(n). */
static void dhcp_add_wire_name(struct vk_pctx *c, struct vk_cur v)
{
    char name[256];
    size_t len = 0;
    uint8_t l;
    while (vk_cur_u8(&v, &l) && l != 0) {
        struct vk_cur lab;
        if (l > 63 || !vk_cur_take(&v, l, &lab) || len + l + 1 >= sizeof name) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.bad_fqdn");
            return;
        }
        if (len) name[len++] = '.';
        memcpy(name + len, lab.p, l);
        len += l;
    }
    dhcp_add_host(c, name, len);
}

/* ---- DHCPv4 ------------------------------------------------------------------------- */

/* An IPv4 address (4 bytes at v) to dhcp.ip; 0.0.0.0 means "none" and is not reported. */
static void dhcp_add_ip4(struct vk_pctx *c, struct vk_cur v)
{
    uint32_t a;
    if (vk_cur_left(&v) == 4 && vk_cur_u32be(&v, &a) && a != 0) {
        const uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
                              (uint8_t)a};
        vk_meta_add_ip(c->meta, VK_K_DHCP_IP, 4, b);
    }
}

struct dhcp4_msg {
    uint8_t type;      /* option 53, 0 when absent */
    uint8_t overload;  /* option 52: 1 = file holds options, 2 = sname, 3 = both */
};

/* One options area (the main one, or file/sname when overloaded). O(n). */
static void dhcp4_options(struct vk_pctx *c, struct vk_cur o, struct dhcp4_msg *m)
{
    uint8_t t, l;
    while (vk_cur_u8(&o, &t)) {
        struct vk_cur v;
        if (t == 0) continue;    /* pad */
        if (t == 255) return;    /* end */
        if (!vk_cur_u8(&o, &l) || !vk_cur_take(&o, l, &v)) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.truncated_option");
            return;
        }
        uint8_t b = 0;
        switch (t) {
        case 12: /* host name */
            dhcp_add_host(c, (const char *)v.p, l);
            break;
        case 50: /* requested IP address */
            if (l == 4) dhcp_add_ip4(c, v);
            break;
        case 52: /* option overload */
            if (l == 1) vk_cur_u8(&v, &m->overload);
            break;
        case 53: /* message type */
            if (l == 1) vk_cur_u8(&v, &m->type);
            break;
        case 60: /* vendor class identifier */
            if (l) vk_meta_add_str(c->meta, VK_K_DHCP_CLASS, (const char *)v.p, l);
            break;
        case 61: /* client identifier: type 1 is an Ethernet address */
            if (l == 7 && vk_cur_u8(&v, &b) && b == 1) dhcp_add_mac(c, v.p);
            break;
        case 81: /* client FQDN (RFC 4702): flags, two rcodes, name */
            if (l < 3) break;
            vk_cur_u8(&v, &b);
            vk_cur_skip(&v, 2);
            if (b & 0x04) /* E: canonical wire format */
                dhcp_add_wire_name(c, v);
            else
                dhcp_add_host(c, (const char *)v.p, vk_cur_left(&v));
            break;
        default:
            break;
        }
    }
}

/* One BOOTP/DHCP message with the magic cookie checked by the caller. O(n). */
static void dhcp4_message(struct dhcp_state *st, struct vk_pctx *c, const uint8_t *p, size_t n)
{
    struct vk_cur cur = vk_cur_make(p, n), chaddr, sname, file, yiaddr;
    uint8_t op, htype, hlen;
    uint32_t xid, cookie;
    struct dhcp4_msg m = {0, 0};

    if (!vk_cur_u8(&cur, &op) || !vk_cur_u8(&cur, &htype) || !vk_cur_u8(&cur, &hlen) ||
        !vk_cur_skip(&cur, 1) || !vk_cur_u32be(&cur, &xid) || !vk_cur_skip(&cur, 4 + 4) ||
        !vk_cur_take(&cur, 4, &yiaddr) || !vk_cur_skip(&cur, 4 + 4) ||
        !vk_cur_take(&cur, 16, &chaddr) || !vk_cur_take(&cur, 64, &sname) ||
        !vk_cur_take(&cur, 128, &file) || !vk_cur_u32be(&cur, &cookie) ||
        cookie != DHCP4_COOKIE) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.truncated");
        return;
    }
    if (!st->v4_added) {
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "dhcp");
        st->v4_added = true;
    }
    if (op != 1 && op != 2) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.bad_op");
    vk_meta_printf(c->meta, VK_K_DHCP_ID, "%x", xid);
    if (htype == 1 && hlen == 6) dhcp_add_mac(c, chaddr.p);

    dhcp4_options(c, cur, &m);
    if (m.overload & 1) dhcp4_options(c, file, &m);
    if (m.overload & 2) dhcp4_options(c, sname, &m);

    /* Plain BOOTP (no option 53) gets no type, as in Arkime. */
    if (m.type > 0 && m.type < N_DHCP4_TYPES)
        vk_meta_add_cstr(c->meta, VK_K_DHCP_TYPE, dhcp4_types[m.type]);
    else if (m.type != 0)
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.bad_type");
    if (m.type == 5) dhcp_add_ip4(c, yiaddr); /* the address the server hands out */
}

static bool dhcp4_has_cookie(const uint8_t *p, size_t n)
{
    struct vk_cur c = vk_cur_make(p, n);
    uint8_t op, htype, hlen;
    uint32_t cookie;
    return vk_cur_u8(&c, &op) && (op == 1 || op == 2) && vk_cur_u8(&c, &htype) &&
           vk_cur_u8(&c, &hlen) && hlen <= 16 && vk_cur_skip(&c, DHCP4_FIXED - 3) &&
           vk_cur_u32be(&c, &cookie) && cookie == DHCP4_COOKIE;
}

/* ---- DHCPv6 ------------------------------------------------------------------------- */

/* Client identifier DUID: link-layer plus time (1) or link-layer (3) with hardware type
 * 1 (Ethernet) carry the MAC. */
static void dhcp6_duid(struct vk_pctx *c, struct vk_cur v)
{
    uint16_t type, hw;
    if (!vk_cur_u16be(&v, &type) || !vk_cur_u16be(&v, &hw) || hw != 1) return;
    if (type == 1 && !vk_cur_skip(&v, 4)) return;
    if ((type == 1 || type == 3) && vk_cur_left(&v) == 6) dhcp_add_mac(c, v.p);
}

static void dhcp6_options(struct vk_pctx *c, struct vk_cur o, unsigned depth);

/* A relayed message (option 9): its options count, its type stays with the relay (as in
 * Arkime). Recursion is capped at DHCP6_RELAY_DEPTH_MAX. */
static void dhcp6_inner(struct vk_pctx *c, struct vk_cur v, unsigned depth)
{
    uint8_t type;
    if (depth >= DHCP6_RELAY_DEPTH_MAX) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.relay_too_deep");
        return;
    }
    if (!vk_cur_u8(&v, &type)) return;
    if (!vk_cur_skip(&v, type == 12 || type == 13 ? 1 + 16 + 16 : 3)) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.truncated");
        return;
    }
    dhcp6_options(c, v, depth + 1);
}

/* Walk options; O(n) per level, nested levels bounded by the message. */
static void dhcp6_options(struct vk_pctx *c, struct vk_cur o, unsigned depth)
{
    uint16_t code, len;
    while (vk_cur_left(&o)) {
        struct vk_cur v;
        if (!vk_cur_u16be(&o, &code) || !vk_cur_u16be(&o, &len) || !vk_cur_take(&o, len, &v)) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.truncated_option");
            return;
        }
        switch (code) {
        case 1: /* client identifier */
            dhcp6_duid(c, v);
            break;
        case 3: /* IA_NA: IAID, T1, T2, options */
            if (vk_cur_skip(&v, 12)) dhcp6_options(c, v, depth);
            break;
        case 4: /* IA_TA: IAID, options */
            if (vk_cur_skip(&v, 4)) dhcp6_options(c, v, depth);
            break;
        case 5: /* IA address: address, lifetimes, options */
            if (len >= 16) vk_meta_add_ip(c->meta, VK_K_DHCP_IP, 6, v.p);
            break;
        case 9: /* relay message */
            dhcp6_inner(c, v, depth);
            break;
        case 16: { /* vendor class: enterprise number, then length-prefixed strings */
            uint16_t sl;
            struct vk_cur s;
            if (!vk_cur_skip(&v, 4)) break;
            while (vk_cur_u16be(&v, &sl) && vk_cur_take(&v, sl, &s))
                if (sl) vk_meta_add_str(c->meta, VK_K_DHCP_CLASS, (const char *)s.p, sl);
            break;
        }
        case 39: /* client FQDN (RFC 4704): flags, wire-format name */
            if (vk_cur_skip(&v, 1)) dhcp_add_wire_name(c, v);
            break;
        default:
            break;
        }
    }
}

/* Does the datagram parse as a DHCPv6 message whose options tile it exactly? O(n). */
static bool dhcp6_plausible(const uint8_t *p, size_t n)
{
    struct vk_cur c = vk_cur_make(p, n);
    uint8_t type;
    uint16_t code, len;
    if (!vk_cur_u8(&c, &type) || type == 0 || type >= N_DHCP6_TYPES) return false;
    if (!vk_cur_skip(&c, type == 12 || type == 13 ? 33 : 3)) return false;
    while (vk_cur_left(&c))
        if (!vk_cur_u16be(&c, &code) || !vk_cur_u16be(&c, &len) || code == 0 ||
            !vk_cur_skip(&c, len))
            return false;
    return true;
}

static void dhcp6_message(struct dhcp_state *st, struct vk_pctx *c, const uint8_t *p, size_t n)
{
    struct vk_cur cur = vk_cur_make(p, n);
    uint8_t type;
    uint32_t xid = 0;

    if (!vk_cur_u8(&cur, &type) || type == 0 || type >= N_DHCP6_TYPES) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.bad_type");
        return;
    }
    if (type == 12 || type == 13) { /* relay: hop count, link address, peer address */
        if (!vk_cur_skip(&cur, 1 + 16 + 16)) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.truncated");
            return;
        }
    } else if (!vk_cur_u24be(&cur, &xid)) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.truncated");
        return;
    }
    if (!st->v6_added && dhcp6_plausible(p, n)) { /* the options tile the datagram */
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "dhcpv6");
        st->v6_added = true;
    }
    vk_meta_add_cstr(c->meta, VK_K_DHCP_TYPE, dhcp6_types[type]);
    if (type != 12 && type != 13) vk_meta_printf(c->meta, VK_K_DHCP_ID, "%x", xid);
    dhcp6_options(c, cur, 0);
}

/* ---- parser ------------------------------------------------------------------------- */

static bool dhcp_port(const struct vk_flow_view *f, uint16_t a, uint16_t b)
{
    return f->port[0] == a || f->port[0] == b || f->port[1] == a || f->port[1] == b;
}

static int dhcp_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    bool v4port = dhcp_port(f, 67, 68), v6port = dhcp_port(f, 546, 547);
    if (dhcp4_has_cookie(p, n)) return v4port ? 3 : 2;
    if (v6port && dhcp6_plausible(p, n)) return 3;
    return v4port || v6port ? 1 : 0;
}

static void dhcp_init(void *st, struct vk_pctx *c) {}

/* One datagram: DHCPv4 when the magic cookie is there, DHCPv6 on its ports. O(n). */
static void dhcp_data(void *stv, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct dhcp_state *st = stv;
    if (dhcp4_has_cookie(p, n))
        dhcp4_message(st, c, p, n);
    else if (c->flow && dhcp_port(c->flow, 546, 547))
        dhcp6_message(st, c, p, n);
    else
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dhcp.not_dhcp");
}

static void dhcp_gap(void *st, struct vk_pctx *c, int dir, size_t n) {}
static void dhcp_finish(void *st, struct vk_pctx *c) {}

const struct vk_parser vk_proto_dhcp = {
    .name = "dhcp",
    .ipproto = 17,
    .probe = dhcp_probe,
    .state_size = sizeof(struct dhcp_state),
    .init = dhcp_init,
    .data = dhcp_data,
    .gap = dhcp_gap,
    .finish = dhcp_finish,
    .release = NULL,
};
