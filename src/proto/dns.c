/* dns.c — DNS messages over UDP and TCP, and the mDNS and LLMNR dialects that share them.
 *
 * Owns the wire format: header, questions, the three record sections with every common
 * RR type, name decompression (pointers must point before the name segment that holds
 * them, so loops are impossible; jumps are capped as well) and IDNA (punycode labels are
 * shown in Unicode, as Arkime does). It adds dns.* facts to the session: query names,
 * query types, statuses, answered addresses, target names and TXT strings, following
 * Arkime's choices (capture/parsers/dns.c) so the scorer can compare the two.
 *
 * Over UDP every datagram is one message. Over TCP each message carries a 2-byte length;
 * a message cut across segments waits in a bounded per-direction buffer (one message at
 * most, 64 KiB + 2), several messages in one segment are read in place. A gap drops the
 * partial message: if its length is known the rest of it is skipped exactly, otherwise
 * the parser waits for a segment that opens with a plausible message.
 *
 * What it leaves to others: NBNS (port 137) and DNS over TLS/HTTPS are not parsed here. */
#include <ctype.h>

#include "vk_proto.h"

#define DNS_HDR_LEN 12
#define DNS_NAME_WIRE_MAX 255   /* RFC 1035 §2.3.4, counted on the wire */
#define DNS_NAME_JUMPS_MAX 32   /* pointer jumps per name (the backwards rule already ends loops) */
#define DNS_NAME_TEXT_MAX 1040  /* 255 wire bytes, up to 4 text bytes each ("M-^A") */
#define DNS_TCP_MSG_MAX (65535u + 2u)

/* RR types and classes we act upon. */
enum {
    T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15, T_TXT = 16,
    T_AAAA = 28, T_SRV = 33, T_OPT = 41, T_DS = 43, T_RRSIG = 46, T_NSEC = 47,
    T_DNSKEY = 48, T_NSEC3 = 50, T_SVCB = 64, T_HTTPS = 65, T_CAA = 257,
    CLASS_IN = 1,
};

/* Type names exactly as Arkime prints dns.qt; a type without a name here gets no qtype,
 * as in Arkime (SVCB=64 for instance is not in its table). */
static const char *const dns_type_names[258] = {
    [1] = "A", [2] = "NS", [3] = "MD", [4] = "MF", [5] = "CNAME", [6] = "SOA", [7] = "MB",
    [8] = "MG", [9] = "MR", [10] = "NULL", [11] = "WKS", [12] = "PTR", [13] = "HINFO",
    [14] = "MINFO", [15] = "MX", [16] = "TXT", [17] = "RP", [18] = "AFSDB", [19] = "X25",
    [20] = "ISDN", [21] = "RT", [22] = "NSAP", [23] = "NSAPPTR", [24] = "SIG", [25] = "KEY",
    [26] = "PX", [27] = "GPOS", [28] = "AAAA", [29] = "LOC", [30] = "NXT", [31] = "EID",
    [32] = "NIMLOC", [33] = "SRV", [34] = "ATMA", [35] = "NAPTR", [36] = "KX", [37] = "CERT",
    [38] = "A6", [39] = "DNAME", [40] = "SINK", [41] = "OPT", [42] = "APL", [43] = "DS",
    [44] = "SSHFP", [46] = "RRSIG", [47] = "NSEC", [48] = "DNSKEY", [49] = "DHCID",
    [50] = "NSEC3", [51] = "NSEC3PARAM", [52] = "TLSA", [55] = "HIP", [65] = "HTTPS",
    [99] = "SPF", [108] = "EUI48", [109] = "EUI64", [249] = "TKEY", [250] = "TSIG",
    [251] = "IXFR", [252] = "AXFR", [253] = "MAILB", [254] = "MAILA", [255] = "ANY",
    [256] = "URI", [257] = "CAA",
};

/* Status names as Arkime prints dns.status (extended codes from EDNS included). */
static const char *const dns_rcode_names[24] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMPL", "REFUSED", "YXDOMAIN",
    "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "12", "13", "14", "15",
    "BADSIG_VERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC",
    "BADCOOKIE",
};

/* Which dialect a session speaks; it only changes the service name and mDNS rules. */
enum dns_kind { K_DNS = 0, K_LLMNR, K_MDNS };

struct dns_state {
    bool service_added;
};

struct dns_tcp_dir {
    struct vk_buf buf;  /* the partial message, length prefix included */
    size_t skip;        /* bytes still to drop of a message a gap cut */
    bool lost;          /* framing lost: wait for a segment opening with a plausible message */
};

struct dns_tcp_state {
    struct dns_state dns;
    struct dns_tcp_dir dir[2];
    bool ready;         /* buffers initialised */
};

/* ---- names -------------------------------------------------------------------------- */

enum dns_name_rc { DN_OK = 0, DN_TRUNC, DN_BAD, DN_LOOP };

struct dns_name {
    char s[DNS_NAME_TEXT_MAX]; /* lower-cased presentation form, no final dot; "" = root */
    size_t len;
};

static size_t dns_off(const struct vk_cur *msg, const struct vk_cur *c)
{
    return (size_t)(c->p - msg->p);
}

/* Render one label byte as Arkime does: bytes >= 0x80 become "M-" + low 7 bits, control
 * bytes "^" + (byte ^ 0x40); letters are lower-cased (glib's nameprep does the same). */
static void dns_name_put(struct dns_name *n, uint8_t b)
{
    if (b & 0x80) {
        n->s[n->len++] = 'm';
        n->s[n->len++] = '-';
        b &= 0x7f;
    }
    if (b < 0x20 || b == 0x7f) {
        n->s[n->len++] = '^';
        b ^= 0x40;
    }
    n->s[n->len++] = (char)tolower(b);
}

/* Read the name at c (advanced past it) from message msg. Each pointer must land before
 * the start of the labels it ends, which makes loops impossible. Compression is accepted
 * in every rdata name, also where RFCs forbid it (mDNS compresses NSEC names).
 * O(255) bytes of labels plus at most DNS_NAME_JUMPS_MAX jumps; no allocation. */
static enum dns_name_rc dns_name_read(const struct vk_cur *msg, struct vk_cur *c,
                                      struct dns_name *out)
{
    struct vk_cur r = *c;
    size_t limit = dns_off(msg, &r); /* pointers must land before this offset */
    size_t wire = 1;                 /* the final zero byte */
    unsigned jumps = 0;
    bool jumped = false;

    out->len = 0;
    out->s[0] = 0;
    for (;;) {
        uint8_t l;
        if (!vk_cur_u8(&r, &l)) return DN_TRUNC;
        if (l == 0) break;
        if ((l & 0xc0) == 0xc0) {
            uint8_t lo;
            if (!vk_cur_u8(&r, &lo)) return DN_TRUNC;
            size_t target = (size_t)(l & 0x3f) << 8 | lo;
            if (target >= limit || ++jumps > DNS_NAME_JUMPS_MAX) return DN_LOOP;
            if (!jumped) *c = r;
            jumped = true;
            r = *msg;
            vk_cur_skip(&r, target); /* target < limit <= message length */
            limit = target;
            continue;
        }
        if (l & 0xc0) return DN_BAD; /* 0x40/0x80: extended label types, obsolete */
        wire += 1u + l;
        if (wire > DNS_NAME_WIRE_MAX) return DN_BAD;
        struct vk_cur lab;
        if (!vk_cur_take(&r, l, &lab)) return DN_TRUNC;
        if (out->len) out->s[out->len++] = '.';
        uint8_t b;
        while (vk_cur_u8(&lab, &b)) dns_name_put(out, b);
    }
    if (!jumped) *c = r;
    out->s[out->len] = 0;
    return DN_OK;
}

static void dns_name_anomaly(struct vk_pctx *c, enum dns_name_rc rc)
{
    static const char *const what[] = {
        [DN_TRUNC] = "dns.truncated", [DN_BAD] = "dns.bad_name", [DN_LOOP] = "dns.pointer_loop"};
    if (rc != DN_OK) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, what[rc]);
}

/* ---- IDNA: punycode labels to UTF-8 (RFC 3492) -------------------------------------- */

#define PUNY_MAX_CP 256

static uint32_t puny_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
    uint32_t k = 0;
    delta = first ? delta / 700 : delta / 2;
    delta += delta / numpoints;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 36 - 1;
        k += 36;
    }
    return k + (36 * delta) / (delta + 38);
}

/* Decode the part of a label after "xn--" into code points. O(n^2) in the label length
 * (at most 63); no allocation. Returns false on malformed punycode. */
static bool puny_decode(const char *in, size_t n, uint32_t *cp, size_t *ncp)
{
    size_t b = 0, out = 0;
    for (size_t j = 0; j < n; j++)
        if (in[j] == '-') b = j;
    for (size_t j = 0; j < b; j++) {
        if ((unsigned char)in[j] >= 0x80 || out >= PUNY_MAX_CP) return false;
        cp[out++] = (unsigned char)in[j];
    }
    uint32_t cur = 128, i = 0, bias = 72;
    for (size_t in_pos = b > 0 ? b + 1 : 0; in_pos < n;) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = 36;; k += 36) {
            if (in_pos >= n) return false;
            unsigned char ch = (unsigned char)in[in_pos++];
            uint32_t digit = 36;
            if (ch >= '0' && ch <= '9') digit = (uint32_t)(ch - '0') + 26;
            else if (ch >= 'a' && ch <= 'z') digit = (uint32_t)(ch - 'a');
            else if (ch >= 'A' && ch <= 'Z') digit = (uint32_t)(ch - 'A');
            if (digit >= 36) return false;
            if (digit > (UINT32_MAX - i) / w) return false;
            i += digit * w;
            uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
            if (digit < t) break;
            if (w > UINT32_MAX / (36 - t)) return false;
            w *= 36 - t;
        }
        if (out >= PUNY_MAX_CP) return false;
        bias = puny_adapt(i - oldi, (uint32_t)out + 1, oldi == 0);
        if (i / (out + 1) > UINT32_MAX - cur) return false;
        cur += i / (uint32_t)(out + 1);
        i %= (uint32_t)(out + 1);
        if (cur > 0x10ffff || (cur >= 0xd800 && cur <= 0xdfff)) return false;
        memmove(&cp[i + 1], &cp[i], (out - i) * sizeof *cp);
        cp[i++] = cur;
        out++;
    }
    *ncp = out;
    return true;
}

static size_t utf8_put(uint32_t v, char *o)
{
    if (v < 0x80) { o[0] = (char)v; return 1; }
    if (v < 0x800) {
        o[0] = (char)(0xc0 | v >> 6);
        o[1] = (char)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v < 0x10000) {
        o[0] = (char)(0xe0 | v >> 12);
        o[1] = (char)(0x80 | (v >> 6 & 0x3f));
        o[2] = (char)(0x80 | (v & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | v >> 18);
    o[1] = (char)(0x80 | (v >> 12 & 0x3f));
    o[2] = (char)(0x80 | (v >> 6 & 0x3f));
    o[3] = (char)(0x80 | (v & 0x3f));
    return 4;
}

/* Turn every "xn--" label of in into Unicode (out). Returns 1 when something was decoded,
 * 0 when the name has no ACE label, -1 on bad punycode (out is then unusable). */
static int dns_name_unicode(const struct dns_name *in, struct dns_name *out)
{
    uint32_t cp[PUNY_MAX_CP];
    size_t o = 0, start = 0;
    int any = 0;
    while (start <= in->len) {
        size_t end = start;
        while (end < in->len && in->s[end] != '.') end++;
        const char *lab = in->s + start;
        size_t ll = end - start;
        if (ll > 4 && memcmp(lab, "xn--", 4) == 0) {
            size_t ncp = 0;
            if (!puny_decode(lab + 4, ll - 4, cp, &ncp)) return -1;
            for (size_t j = 0; j < ncp; j++) {
                if (o + 5 >= sizeof out->s) return -1;
                o += utf8_put(cp[j], out->s + o);
            }
            any = 1;
        } else {
            if (o + ll + 2 >= sizeof out->s) return -1;
            memcpy(out->s + o, lab, ll);
            o += ll;
        }
        if (end < in->len) out->s[o++] = '.';
        start = end + 1;
    }
    out->s[o] = 0;
    out->len = o;
    return any;
}

/* Only names made of host-name characters go to alias.host (mDNS service instance names
 * and escaped binary labels stay in the dns.* keys). */
static bool dns_hostlike(const struct dns_name *n)
{
    if (n->len == 0) return false;
    for (size_t i = 0; i < n->len; i++) {
        unsigned char ch = (unsigned char)n->s[i];
        if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_')) return false;
    }
    return true;
}

/* Add a name to key k (Unicode form when it has punycode labels, as Arkime's dns.host)
 * and to alias.host (both forms). */
static void dns_add_name(struct vk_pctx *c, enum vk_key k, const struct dns_name *n)
{
    struct dns_name u;
    if (n->len == 0) return;
    int rc = dns_name_unicode(n, &u);
    if (rc < 0) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.bad_punycode");
    const struct dns_name *show = rc > 0 ? &u : n;
    vk_meta_add_lower(c->meta, k, show->s, show->len);
    if (dns_hostlike(n)) {
        vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, n->s, n->len);
        if (rc > 0) vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, u.s, u.len);
    }
}

/* ---- one message -------------------------------------------------------------------- */

struct dns_hdr {
    uint16_t id, flags, qd, an, ns, ar;
};

static bool dns_hdr_read(struct vk_cur *c, struct dns_hdr *h)
{
    return vk_cur_u16be(c, &h->id) && vk_cur_u16be(c, &h->flags) && vk_cur_u16be(c, &h->qd) &&
           vk_cur_u16be(c, &h->an) && vk_cur_u16be(c, &h->ns) && vk_cur_u16be(c, &h->ar);
}

static unsigned dns_opcode(const struct dns_hdr *h) { return (h->flags >> 11) & 0xf; }
static bool dns_is_response(const struct dns_hdr *h) { return h->flags & 0x8000; }

static enum dns_kind dns_kind_of(const struct vk_pctx *c)
{
    if (!c->flow || c->flow->ipproto == 6) return K_DNS;
    const uint16_t *pt = c->flow->port;
    if (pt[0] == 53 || pt[1] == 53) return K_DNS;
    if (pt[0] == 5355 || pt[1] == 5355) return K_LLMNR;
    if (pt[0] == 5353 || pt[1] == 5353) return K_MDNS;
    return K_DNS;
}

static void dns_add_ip(struct vk_pctx *c, int family, const uint8_t *a)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    /* Arkime prints a v4-mapped AAAA as the IPv4 address. */
    if (family == 6 && memcmp(a, v4mapped, 12) == 0) {
        family = 4;
        a += 12;
    }
    vk_meta_add_ip(c->meta, VK_K_DNS_ANSWER, family, a);
}

/* Read a name inside rdata and, when it reads, add it as an answer name. */
static bool dns_rdata_name(struct vk_pctx *c, const struct vk_cur *msg, struct vk_cur *rd,
                           enum vk_key k, bool add)
{
    struct dns_name n;
    enum dns_name_rc rc = dns_name_read(msg, rd, &n);
    if (rc != DN_OK) {
        dns_name_anomaly(c, rc);
        return false;
    }
    if (add) dns_add_name(c, k, &n);
    return true;
}

/* SVCB/HTTPS rdata (RFC 9460): priority, target, key/value params.
 * Only the target name is kept; params are walked to check their bounds. */
static bool dns_rr_svcb(struct vk_pctx *c, const struct vk_cur *msg, struct vk_cur *rd)
{
    uint16_t prio, key, len;
    if (!vk_cur_u16be(rd, &prio)) return false;
    if (!dns_rdata_name(c, msg, rd, VK_K_DNS_ANSWER_NAME, true)) return false;
    while (vk_cur_left(rd)) {
        struct vk_cur v;
        if (!vk_cur_u16be(rd, &key) || !vk_cur_u16be(rd, &len) || !vk_cur_take(rd, len, &v))
            return false;
    }
    return true;
}

/* CNAME: Arkime files the target with the query names (dns.host), so it goes to
 * dns.query as well as dns.answer.name. */
static bool dns_rr_cname(struct vk_pctx *c, const struct vk_cur *msg, struct vk_cur *rd)
{
    struct dns_name nm;
    enum dns_name_rc rc = dns_name_read(msg, rd, &nm);
    if (rc != DN_OK) {
        dns_name_anomaly(c, rc);
        return false;
    }
    dns_add_name(c, VK_K_DNS_QUERY, &nm);
    dns_add_name(c, VK_K_DNS_ANSWER_NAME, &nm);
    return vk_cur_left(rd) == 0;
}

/* One resource record's rdata, known to lie inside the message. Returns false when the
 * rdata is malformed (the caller records dns.bad_rdata; a bad name inside it has already
 * been recorded as well). */
static bool dns_rr(struct vk_pctx *c, const struct vk_cur *msg, uint16_t type, struct vk_cur rd)
{
    size_t n = vk_cur_left(&rd);
    uint16_t u16;
    uint8_t u8;
    struct vk_cur skip;

    switch (type) {
    case T_A:
        if (n != 4) return false;
        dns_add_ip(c, 4, rd.p);
        return true;
    case T_AAAA:
        if (n != 16) return false;
        dns_add_ip(c, 6, rd.p);
        return true;
    case T_CNAME:
        return dns_rr_cname(c, msg, &rd);
    case T_NS:
    case T_PTR:
        return dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, true) &&
               vk_cur_left(&rd) == 0;
    case T_MX:
        return vk_cur_u16be(&rd, &u16) &&
               dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, true);
    case T_SRV:
        /* priority, weight, port, target */
        return vk_cur_skip(&rd, 6) &&
               dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, true);
    case T_SOA:
        return dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, false) &&
               dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, false) &&
               vk_cur_left(&rd) == 20;
    case T_TXT:
        while (vk_cur_left(&rd)) {
            struct vk_cur s;
            if (!vk_cur_u8(&rd, &u8) || !vk_cur_take(&rd, u8, &s)) return false;
            if (u8) vk_meta_add_str(c->meta, VK_K_DNS_TXT, (const char *)s.p, u8);
        }
        return true;
    case T_CAA:
        /* flags, tag length, tag, value */
        return vk_cur_u8(&rd, &u8) && vk_cur_u8(&rd, &u8) && u8 > 0 && vk_cur_take(&rd, u8, &skip);
    case T_DS:
        return n > 4;                               /* key tag, algorithm, digest type, digest */
    case T_DNSKEY:
        return n > 4;                               /* flags, protocol, algorithm, key */
    case T_RRSIG:
        return vk_cur_skip(&rd, 18) &&
               dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, false);
    case T_NSEC:
        if (!dns_rdata_name(c, msg, &rd, VK_K_DNS_ANSWER_NAME, false)) return false;
        while (vk_cur_left(&rd)) {              /* window, bitmap length (1..32), bitmap */
            uint8_t win, bl;
            if (!vk_cur_u8(&rd, &win) || !vk_cur_u8(&rd, &bl) || bl == 0 || bl > 32 ||
                !vk_cur_take(&rd, bl, &skip))
                return false;
        }
        return true;
    case T_SVCB:
    case T_HTTPS:
        return dns_rr_svcb(c, msg, &rd);
    default:
        return true;                                /* kept opaque */
    }
}

/* The service is named once a message shows a readable question (or is an mDNS
 * announcement), never from the port alone. Port 53 wins over 5355 and 5353, as in
 * Arkime (dns-udp.pcap has a 5353 -> 53 query that Arkime calls dns). */
static void dns_service(struct dns_state *st, struct vk_pctx *c, enum dns_kind kind)
{
    static const char *const names[] = {[K_DNS] = "dns", [K_LLMNR] = "llmnr", [K_MDNS] = "mdns"};
    if (st->service_added) return;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, names[kind]);
    st->service_added = true;
}

/* Parse one whole DNS message p[0..n) and add its facts. O(n) plus O(255) per name; no
 * allocation (names are decoded into stack buffers). */
static void dns_message(struct dns_state *st, struct vk_pctx *c, const uint8_t *p, size_t n)
{
    struct vk_cur msg = vk_cur_make(p, n), cur = msg;
    struct dns_hdr h;
    enum dns_kind kind = dns_kind_of(c);

    if (!dns_hdr_read(&cur, &h)) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.truncated");
        return;
    }
    if (dns_opcode(&h) > 6) { /* 3 and 7..15 are unassigned; Arkime skips above 5 too */
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.bad_opcode");
        return;
    }
    if (dns_opcode(&h) > 5) return; /* DSO (RFC 8490): TLVs, no questions */
    /* Arkime reads exactly one question; mDNS may carry none (unsolicited answers) or
     * several (only the first is reported, the others are skipped). */
    if (h.qd != 1 && kind != K_MDNS) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.qdcount_not_1");
        return;
    }

    for (unsigned q = 0; q < h.qd; q++) {
        struct dns_name qn;
        uint16_t qtype, qclass;
        enum dns_name_rc rc = dns_name_read(&msg, &cur, &qn);
        if (rc != DN_OK) {
            dns_name_anomaly(c, rc);
            return;
        }
        bool have_type = vk_cur_u16be(&cur, &qtype) && vk_cur_u16be(&cur, &qclass);
        if (q == 0) {
            dns_service(st, c, kind);
            dns_add_name(c, VK_K_DNS_QUERY, &qn);
            if (have_type && qtype < 258 && dns_type_names[qtype])
                vk_meta_add_cstr(c->meta, VK_K_DNS_QTYPE, dns_type_names[qtype]);
        }
        if (!have_type) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.truncated");
            return;
        }
    }
    if (!dns_is_response(&h)) return; /* records in queries (NOTIFY, UPDATE) are not reported */
    if (h.qd == 0) dns_service(st, c, kind); /* mDNS announcement */

    unsigned rcode = h.flags & 0xf;
    const unsigned counts[3] = {h.an, h.ns, h.ar};
    for (int sec = 0; sec < 3; sec++) {
        for (unsigned i = 0; i < counts[sec]; i++) {
            struct dns_name owner;
            uint16_t type, klass, rdlen;
            uint32_t ttl;
            struct vk_cur rd;
            enum dns_name_rc rc = dns_name_read(&msg, &cur, &owner);
            if (rc != DN_OK) {
                dns_name_anomaly(c, rc);
                goto done;
            }
            if (!vk_cur_u16be(&cur, &type) || !vk_cur_u16be(&cur, &klass) ||
                !vk_cur_u32be(&cur, &ttl) || !vk_cur_u16be(&cur, &rdlen) ||
                !vk_cur_take(&cur, rdlen, &rd)) {
                vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.truncated");
                goto done;
            }
            if (type == T_OPT) { /* EDNS: the TTL holds the upper 8 bits of the rcode */
                rcode |= (ttl >> 24) << 4;
                continue;
            }
            if (kind == K_MDNS) klass &= 0x7fff; /* cache-flush bit (RFC 6762 §10.2) */
            if (klass != CLASS_IN) continue;
            if (!dns_rr(c, &msg, type, rd))
                vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.bad_rdata");
        }
    }
done:
    if (rcode < sizeof dns_rcode_names / sizeof *dns_rcode_names)
        vk_meta_add_cstr(c->meta, VK_K_DNS_RCODE, dns_rcode_names[rcode]);
    else
        vk_meta_printf(c->meta, VK_K_DNS_RCODE, "%u", rcode);
}

/* ---- probe -------------------------------------------------------------------------- */

/* Does p look like the start of a DNS message? Counts must be sane and the first question
 * name must read (or run past the bytes we have when partial is allowed). O(255). */
static bool dns_plausible(const uint8_t *p, size_t n, bool partial)
{
    struct vk_cur msg = vk_cur_make(p, n), cur = msg;
    struct dns_hdr h;
    if (!dns_hdr_read(&cur, &h)) return false;
    unsigned op = dns_opcode(&h);
    if (op == 3 || op > 5) return false;
    if (h.qd < 1 || h.qd > 16) return false;
    if (h.an > 256 || h.ns > 256 || h.ar > 256) return false;
    if (!dns_is_response(&h) && ((h.flags & 0xf) != 0 || (op == 0 && h.an > 0))) return false;
    if (!partial && (size_t)h.qd * 5 + ((size_t)h.an + h.ns + h.ar) * 11 > n - DNS_HDR_LEN)
        return false;
    struct dns_name qn;
    enum dns_name_rc rc = dns_name_read(&msg, &cur, &qn);
    if (rc == DN_TRUNC && partial) return true;
    if (rc != DN_OK) return false;
    uint16_t qtype, qclass;
    if (!vk_cur_u16be(&cur, &qtype) || !vk_cur_u16be(&cur, &qclass)) return partial;
    return qtype != 0 && ((qclass & 0x7fff) <= 4 || (qclass & 0x7fff) >= 254);
}

static bool dns_port(const struct vk_flow_view *f, bool udp)
{
    for (int i = 0; i < 2; i++) {
        uint16_t pt = f->port[i];
        if (pt == 53 || (udp && (pt == 5353 || pt == 5355))) return true;
    }
    return false;
}

static int dns_udp_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    bool port = dns_port(f, true);
    /* NetBIOS name service shares the header; Arkime names it nbns, not dns. */
    if (!port && (f->port[0] == 137 || f->port[1] == 137)) return 0;
    if (dns_plausible(p, n, false)) return port ? 3 : 2;
    /* mDNS announcements carry answers and no question. */
    struct vk_cur c = vk_cur_make(p, n);
    struct dns_hdr h;
    if (port && dns_hdr_read(&c, &h) && dns_is_response(&h) && dns_opcode(&h) == 0 &&
        h.qd == 0 && h.an > 0 && (size_t)h.an * 11 <= vk_cur_left(&c))
        return 3;
    return port ? 1 : 0;
}

/* Does the TCP stream at c open with a plausible length-prefixed message (which may
 * continue past the bytes we have)? */
static bool dns_tcp_frame_plausible(struct vk_cur c)
{
    uint16_t flen;
    struct vk_cur body;
    if (!vk_cur_u16be(&c, &flen) || flen < DNS_HDR_LEN + 5) return false;
    size_t have = vk_cur_left(&c) < flen ? vk_cur_left(&c) : flen;
    vk_cur_take(&c, have, &body);
    return dns_plausible(body.p, have, have < flen);
}

static int dns_tcp_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    bool port = dns_port(f, false);
    if (dns_tcp_frame_plausible(vk_cur_make(p, n))) return port ? 3 : 2;
    return port ? 1 : 0;
}

/* ---- UDP ---------------------------------------------------------------------------- */

static void dns_udp_init(void *st, struct vk_pctx *c) { (void)st; (void)c; }

static void dns_udp_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    dns_message(st, c, p, n);
}

static void dns_udp_gap(void *st, struct vk_pctx *c, int dir, size_t n) {}
static void dns_udp_finish(void *st, struct vk_pctx *c) {}

const struct vk_parser vk_proto_dns_udp = {
    .name = "dns",
    .ipproto = 17,
    .probe = dns_udp_probe,
    .state_size = sizeof(struct dns_state),
    .init = dns_udp_init,
    .data = dns_udp_data,
    .gap = dns_udp_gap,
    .finish = dns_udp_finish,
    .release = NULL,
};

/* ---- TCP: 2-byte length framing ----------------------------------------------------- */

static void dns_tcp_init(void *stv, struct vk_pctx *c)
{
    struct dns_tcp_state *st = stv;
    for (int d = 0; d < 2; d++) vk_buf_init(&st->dir[d].buf, DNS_TCP_MSG_MAX);
    st->ready = true;
}

/* Length prefix of the buffered message (0 until two bytes are there). */
static size_t dns_buf_frame_len(const struct vk_buf *b)
{
    struct vk_cur c = vk_cur_make(b->p, b->len);
    uint16_t v = 0;
    vk_cur_u16be(&c, &v);
    return v;
}

/* A frame length below a header cannot be DNS: framing is lost until a segment opens
 * with a plausible message. */
static bool dns_tcp_len_ok(struct vk_pctx *c, struct dns_tcp_dir *d, size_t flen)
{
    if (flen >= DNS_HDR_LEN) return true;
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.bad_length");
    d->buf.len = 0;
    d->lost = true;
    return false;
}

/* In-order bytes of one direction. Whole messages inside p are parsed in place; only a
 * message cut by a segment boundary is copied, into a buffer capped at one message
 * (64 KiB + 2, allocated once per direction). O(n) plus the message parses. */
static void dns_tcp_data(void *stv, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct dns_tcp_state *st = stv;
    struct dns_tcp_dir *d = &st->dir[dir & 1];
    struct vk_cur cur = vk_cur_make(p, n);

    if (!st->ready) dns_tcp_init(st, c);
    if (d->skip) {
        size_t k = d->skip < n ? d->skip : n;
        vk_cur_skip(&cur, k);
        d->skip -= k;
    }
    if (d->lost) {
        if (!dns_tcp_frame_plausible(cur)) return; /* drop the segment, stay lost */
        d->lost = false;
    }
    while (vk_cur_left(&cur)) {
        struct vk_cur peek = cur, m;
        uint16_t flen;
        if (d->buf.len == 0 && vk_cur_u16be(&peek, &flen)) {
            if (!dns_tcp_len_ok(c, d, flen)) return;
            if (vk_cur_take(&peek, flen, &m)) { /* whole message in this segment */
                dns_message(&st->dns, c, m.p, flen);
                cur = peek;
                continue;
            }
        }
        /* Partial message: complete the length first, then the body. */
        size_t need = d->buf.len < 2 ? 2 - d->buf.len : 2 + dns_buf_frame_len(&d->buf) - d->buf.len;
        size_t left = vk_cur_left(&cur), take = need < left ? need : left;
        if (vk_buf_append(&d->buf, cur.p, take) != 0) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.buffer_full");
            d->buf.len = 0;
            d->lost = true;
            return;
        }
        vk_cur_skip(&cur, take);
        if (d->buf.len < 2) return;
        size_t blen = dns_buf_frame_len(&d->buf);
        if (!dns_tcp_len_ok(c, d, blen)) return;
        if (d->buf.len == 2 + blen) {
            struct vk_cur bc = vk_cur_make(d->buf.p, d->buf.len);
            vk_cur_skip(&bc, 2);
            dns_message(&st->dns, c, bc.p, blen);
            d->buf.len = 0;
        }
    }
}

/* n bytes lost: drop the partial message. When its length is known and the gap ends
 * inside it, the rest of it is skipped exactly; otherwise framing is lost. O(1). */
static void dns_tcp_gap(void *stv, struct vk_pctx *c, int dir, size_t n)
{
    struct dns_tcp_state *st = stv;
    struct dns_tcp_dir *d = &st->dir[dir & 1];
    bool known = d->buf.len >= 2 || d->skip > 0;
    size_t rest = d->buf.len >= 2 ? 2 + dns_buf_frame_len(&d->buf) - d->buf.len : d->skip;

    d->buf.len = 0;
    d->skip = 0;
    if (d->lost) return;
    if (!known || rest < n)
        d->lost = true;       /* the gap swallowed a message boundary */
    else
        d->skip = rest - n;   /* 0 when the gap ended exactly at a boundary */
}

static void dns_tcp_finish(void *stv, struct vk_pctx *c)
{
    struct dns_tcp_state *st = stv;
    for (int dir = 0; dir < 2; dir++)
        if (st->dir[dir].buf.len > 0) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "dns.truncated");
            st->dir[dir].buf.len = 0;
        }
}

static void dns_tcp_release(void *stv)
{
    struct dns_tcp_state *st = stv;
    for (int d = 0; d < 2; d++) vk_buf_free(&st->dir[d].buf);
}

const struct vk_parser vk_proto_dns_tcp = {
    .name = "dns",
    .ipproto = 6,
    .probe = dns_tcp_probe,
    .state_size = sizeof(struct dns_tcp_state),
    .init = dns_tcp_init,
    .data = dns_tcp_data,
    .gap = dns_tcp_gap,
    .finish = dns_tcp_finish,
    .release = dns_tcp_release,
};
