/* smb.c — the SMB parser: SMB1 and SMB2/3 over the NetBIOS session service (139) or
 * direct TCP (445).
 *
 * Cuts each direction's byte stream into NBSS messages (4-byte header), reads the few
 * messages that carry facts and skips the rest by length without copying (READ/WRITE
 * data, encrypted SMB3 transform messages, everything else). A message is parsed in place
 * when one segment holds it whole, else gathered in a bounded per-direction buffer.
 *
 * Facts, spelled as Arkime spells them: smb.dialect (the one the server chose: "NT LM 0.12",
 * "SMB 3.1.1"), NTLMSSP user/domain/workstation found in SESSION_SETUP security blobs (we
 * search for the "NTLMSSP\0" signature instead of decoding SPNEGO), SMB1 account names,
 * tree paths (smb.tree, "\\server\SHARE") and opened file names (smb.file and file.name,
 * without a leading backslash). SMB2 compounds (NextCommand) and SMB1 AndX chains are
 * walked. Host names go to alias.host: NetBIOS names of a session request, NTLMSSP
 * workstation and server names, the server part of tree paths.
 *
 * Encrypted (0xFD) and compressed (0xFC) messages are skipped by length, not followed:
 * clear messages may come after them (suricata-verify/smb3-01 sends a clear TREE_CONNECT
 * between encrypted ones). After lost bytes or bad framing a direction hunts for the next
 * "\0 len SMB" header; after SMB_BAD_MAX failures it gives up.
 *
 * Anomalies: smb.bad_nbss (unknown NBSS type, or a bad session request), smb.bad_length
 * (NBSS length too short/long for its type), smb.bad_header (not an SMB protocol id, bad
 * StructureSize), smb.truncated (a count, offset or length points past its message),
 * smb.bad_compound (NextCommand), smb.bad_andx (AndXOffset), smb.bad_ntlmssp,
 * smb.message_too_long (a message to read is over SMB_MSG_MAX), smb.name_cut,
 * smb.lost_sync (gave up on a direction).
 *
 * Left to others or not done: decryption, decompression, file contents and hashes. */
#include "vk_proto.h"

#include <stdlib.h>

#define SMB_MSG_MAX (64u * 1024u) /* largest message gathered to be read */
#define SMB_PEEK 64u              /* bytes of a message needed to choose read or skip */
#define SMB_STR_MAX 2048u         /* longest name kept (UTF-8 bytes), longer is cut */
#define SMB_BAD_MAX 8u            /* framing errors before a direction gives up */
#define SMB_HUNT_MAX (1u << 20)   /* bytes searched for a header before giving up */
#define SMB1_DIALECTS 16u         /* SMB1 dialect names remembered from a NEGOTIATE */
#define SMB1_DIALECT_LEN 32u
#define SMB_CHAIN_MAX 32          /* SMB2 compound elements / SMB1 AndX steps per message */

enum smb_mode {
    M_HDR = 0, /* reading the 4-byte NBSS header */
    M_PEEK,    /* gathering the first bytes of a message to choose read or skip */
    M_READ,    /* gathering a whole message to parse it */
    M_SKIP,    /* dropping the rest of a message */
    M_HUNT,    /* framing lost: searching for the next NBSS + SMB header */
    M_DEAD,    /* given up on this direction */
};

struct smb_dir {
    struct vk_buf buf;  /* part of a message split across segments, at most SMB_MSG_MAX */
    uint8_t hdr[4];     /* NBSS header bytes split across segments */
    uint8_t hdr_n;
    uint8_t mode;       /* enum smb_mode */
    uint8_t nbss_type;  /* type of the current NBSS message */
    uint8_t bad;        /* framing errors so far */
    uint32_t msg_len;   /* NBSS payload length of the current message */
    uint32_t left;      /* M_SKIP: bytes of it still to drop */
    uint32_t hunted;    /* M_HUNT: bytes searched so far */
};

struct smb_state {
    struct smb_dir d[2];
    char dialects[SMB1_DIALECTS][SMB1_DIALECT_LEN]; /* SMB1 NEGOTIATE offer, "" if too long */
    uint8_t n_dialects;
    bool is_smb;                     /* a real SMB header was seen */
    bool ntlm;                       /* NTLMSSP read in SMB1 (service "ntlm", as Arkime) */
    char dialect[SMB1_DIALECT_LEN];  /* the dialect chosen, for finish() */
};

/* ---- small helpers ------------------------------------------------------------------ */

static void smb_anomaly(struct vk_pctx *c, const char *what)
{
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, what);
}

/* Reads a 4-byte protocol id: true when it is "?SMB", with the first byte in *proto. */
static bool smb_sig(struct vk_cur c, uint8_t *proto)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        if (!vk_cur_u8(&c, &b[i])) return false;
    *proto = b[0];
    return b[1] == 'S' && b[2] == 'M' && b[3] == 'B';
}

/* Offset of cursor at within the message that starts at base. */
static size_t smb_off(const struct vk_cur *base, const struct vk_cur *at)
{
    return (size_t)(at->p - base->p);
}

/* base[off, off+len) as a cursor; false when it does not fit. */
static bool smb_slice(struct vk_cur base, size_t off, size_t len, struct vk_cur *out)
{
    return vk_cur_skip(&base, off) && vk_cur_take(&base, len, out);
}

/* UTF-16LE to UTF-8, stopping at a NUL unit or the end (an odd last byte is dropped);
 * unpaired surrogates become U+FFFD. Writes at most cap-1 bytes plus a NUL and sets *cut
 * when the text did not fit. O(n), no allocation. Returns the length written. */
static size_t smb_utf16(struct vk_cur in, char *out, size_t cap, bool *cut)
{
    size_t o = 0;
    uint16_t u;
    *cut = false;
    while (vk_cur_u16le(&in, &u) && u != 0) {
        uint32_t cp = u;
        if (u >= 0xd800 && u <= 0xdbff) {
            struct vk_cur peek = in;
            uint16_t lo;
            if (vk_cur_u16le(&peek, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + (((uint32_t)u - 0xd800) << 10) + (lo - 0xdc00);
                in = peek;
            } else {
                cp = 0xfffd;
            }
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            cp = 0xfffd;
        }
        uint8_t b[4];
        size_t k;
        if (cp < 0x80) {
            b[0] = (uint8_t)cp;
            k = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xc0 | cp >> 6);
            b[1] = (uint8_t)(0x80 | (cp & 0x3f));
            k = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xe0 | cp >> 12);
            b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            b[2] = (uint8_t)(0x80 | (cp & 0x3f));
            k = 3;
        } else {
            b[0] = (uint8_t)(0xf0 | cp >> 18);
            b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            b[3] = (uint8_t)(0x80 | (cp & 0x3f));
            k = 4;
        }
        if (o + k >= cap) {
            *cut = true;
            break;
        }
        memcpy(out + o, b, k);
        o += k;
    }
    out[o] = 0;
    return o;
}

/* Single-byte text up to a NUL or the end, as is. Same contract as smb_utf16. */
static size_t smb_ascii(struct vk_cur in, char *out, size_t cap, bool *cut)
{
    size_t o = 0;
    uint8_t ch;
    *cut = false;
    while (vk_cur_u8(&in, &ch) && ch != 0) {
        if (o + 1 >= cap) {
            *cut = true;
            break;
        }
        out[o++] = (char)ch;
    }
    out[o] = 0;
    return o;
}

static size_t smb_text(struct vk_pctx *c, struct vk_cur in, bool uni, char *out, size_t cap)
{
    bool cut;
    size_t n = uni ? smb_utf16(in, out, cap, &cut) : smb_ascii(in, out, cap, &cut);
    if (cut) smb_anomaly(c, "smb.name_cut");
    return n;
}

/* Add a host name (lower-cased) unless it is empty, a wildcard or an address literal. */
static void smb_add_host(struct vk_pctx *c, const char *s, size_t n)
{
    bool ipish = true;
    if (n == 0 || s[0] == '*') return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':') return; /* IPv6 literal */
        if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) ipish = false;
    }
    if (ipish) return;
    vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, s, n);
}

/* A tree path "\\server\share": the path, and the server as a host name. */
static void smb_add_tree(struct vk_pctx *c, const char *path, size_t n)
{
    if (n == 0) return;
    vk_meta_add_str(c->meta, VK_K_SMB_TREE, path, n);
    if (n > 2 && path[0] == '\\' && path[1] == '\\') {
        size_t e = 2;
        while (e < n && path[e] != '\\') e++;
        smb_add_host(c, path + 2, e - 2);
    }
}

/* A file name as Arkime writes it: without one leading backslash. */
static void smb_add_file(struct vk_pctx *c, const char *name, size_t n)
{
    if (n > 0 && name[0] == '\\') {
        name++;
        n--;
    }
    if (n == 0) return;
    vk_meta_add_str(c->meta, VK_K_SMB_FILE, name, n);
    vk_meta_add_str(c->meta, VK_K_FILE_NAME, name, n);
}

/* Arkime lists "ntlm" among a session's protocols when it reads NTLMSSP, which it does
 * in SMB1 SESSION_SETUP_ANDX but not in SMB2 SESSION_SETUP (wireshark-smb-on-windows10
 * has NTLMSSP in every SMB2 session and no "ntlm"): we mirror that. */
static void smb_set_ntlm(struct smb_state *st, struct vk_pctx *c)
{
    st->ntlm = true;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "ntlm");
}

static void smb_set_dialect(struct smb_state *st, struct vk_pctx *c, const char *d)
{
    snprintf(st->dialect, sizeof st->dialect, "%s", d);
    vk_meta_add_cstr(c->meta, VK_K_SMB_DIALECT, st->dialect);
}

/* ---- NTLMSSP (MS-NLMP) inside a security blob ---------------------------------------- */

/* Read one {len, maxlen, offset} field descriptor from fields and slice it out of msg. */
static bool ntlm_field(struct vk_cur msg, struct vk_cur *fields, struct vk_cur *out,
                       uint32_t *off)
{
    uint16_t len, maxlen;
    if (!vk_cur_u16le(fields, &len) || !vk_cur_u16le(fields, &maxlen) ||
        !vk_cur_u32le(fields, off))
        return false;
    if (len == 0) {
        *out = vk_cur_make(msg.p, 0);
        return true;
    }
    return smb_slice(msg, *off, len, out);
}

/* AV pairs of a CHALLENGE's TargetInfo: NetBIOS and DNS computer names are host names. */
static void ntlm_target_info(struct vk_pctx *c, struct vk_cur av)
{
    char s[SMB_STR_MAX];
    for (int i = 0; i < 64; i++) {
        uint16_t id, len;
        struct vk_cur val;
        if (!vk_cur_u16le(&av, &id) || !vk_cur_u16le(&av, &len) || id == 0) return;
        if (!vk_cur_take(&av, len, &val)) {
            smb_anomaly(c, "smb.bad_ntlmssp");
            return;
        }
        if (id == 1 || id == 3) { /* MsvAvNbComputerName, MsvAvDnsComputerName */
            size_t n = smb_text(c, val, true, s, sizeof s);
            smb_add_host(c, s, n);
        }
    }
}

/* Find "NTLMSSP\0" in a security blob (raw, or inside SPNEGO) and take what the message
 * tells: NEGOTIATE (1) domain and workstation, CHALLENGE (2) server names, AUTHENTICATE
 * (3) user, domain and workstation. Returns true when one of those was found. O(blob); no
 * allocation. */
static bool smb_ntlmssp(struct vk_pctx *c, struct vk_cur blob)
{
    static const char sig[8] = "NTLMSSP";
    const uint8_t *at = memmem(blob.p, vk_cur_left(&blob), sig, sizeof sig);
    char s[SMB_STR_MAX];
    uint32_t type, flags, off;
    struct vk_cur msg, f, dom, user, host;

    if (!at) return false;
    vk_cur_skip(&blob, (size_t)(at - blob.p));
    msg = blob;
    f = msg;
    if (!vk_cur_skip(&f, 8) || !vk_cur_u32le(&f, &type)) return false;
    switch (type) {
    case 1: {
        uint32_t off2;
        if (!vk_cur_u32le(&f, &flags)) return true;
        if (!ntlm_field(msg, &f, &dom, &off) || !ntlm_field(msg, &f, &host, &off2))
            return true; /* short NEGOTIATE without the optional fields: not an error */
        if (flags & 0x1000) { /* NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED */
            size_t n = smb_text(c, dom, false, s, sizeof s);
            if (n) vk_meta_add_str(c->meta, VK_K_SMB_DOMAIN, s, n);
        }
        if (flags & 0x2000) { /* NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED */
            size_t n = smb_text(c, host, false, s, sizeof s);
            smb_add_host(c, s, n);
        }
        return true;
    }
    case 2: {
        struct vk_cur target, info;
        if (!ntlm_field(msg, &f, &target, &off) || !vk_cur_u32le(&f, &flags) ||
            !vk_cur_skip(&f, 16)) {
            smb_anomaly(c, "smb.bad_ntlmssp");
            return false;
        }
        if (!(flags & 0x00800000)) return true; /* no NTLMSSP_NEGOTIATE_TARGET_INFO */
        if (!ntlm_field(msg, &f, &info, &off)) {
            smb_anomaly(c, "smb.bad_ntlmssp");
            return true;
        }
        ntlm_target_info(c, info);
        return true;
    }
    case 3: {
        struct vk_cur skip;
        uint32_t o[5], min_off = UINT32_MAX;
        bool uni = true;
        if (!ntlm_field(msg, &f, &skip, &o[0]) || !ntlm_field(msg, &f, &skip, &o[1]) ||
            !ntlm_field(msg, &f, &dom, &o[2]) || !ntlm_field(msg, &f, &user, &o[3]) ||
            !ntlm_field(msg, &f, &host, &o[4])) {
            smb_anomaly(c, "smb.bad_ntlmssp");
            return false;
        }
        for (int i = 0; i < 5; i++)
            if (o[i] && o[i] < min_off) min_off = o[i];
        /* NegotiateFlags sit at 60 only when the payload starts past them. */
        if (vk_cur_skip(&f, 8) && min_off >= 64 && vk_cur_u32le(&f, &flags))
            uni = (flags & 1) != 0;
        size_t n = smb_text(c, dom, uni, s, sizeof s);
        if (n) vk_meta_add_str(c->meta, VK_K_SMB_DOMAIN, s, n);
        n = smb_text(c, user, uni, s, sizeof s);
        if (n) vk_meta_add_str(c->meta, VK_K_USER, s, n);
        n = smb_text(c, host, uni, s, sizeof s);
        smb_add_host(c, s, n);
        return true;
    }
    default:
        return false;
    }
}

/* ---- SMB1 (MS-CIFS, MS-SMB) ---------------------------------------------------------- */

/* One NUL-terminated SMB1 string at *b; Unicode strings are 2-aligned from the header
 * start (base). Advances *b past the terminator. Returns the length written to out. */
static size_t smb1_string(struct vk_pctx *c, const struct vk_cur *base, struct vk_cur *b,
                          bool uni, char *out, size_t cap)
{
    size_t n;
    if (uni && (smb_off(base, b) & 1)) vk_cur_skip(b, 1);
    n = smb_text(c, *b, uni, out, cap);
    /* Step over the string: find its terminator (bounded by the data). */
    if (uni) {
        uint16_t u = 1;
        while (vk_cur_u16le(b, &u) && u != 0) {}
    } else {
        uint8_t ch = 1;
        while (vk_cur_u8(b, &ch) && ch != 0) {}
    }
    return n;
}

static void smb1_negotiate_req(struct smb_state *st, struct vk_pctx *c, struct vk_cur b)
{
    uint8_t fmt;
    st->n_dialects = 0;
    while (vk_cur_u8(&b, &fmt)) {
        const uint8_t *nul = memchr(b.p, 0, vk_cur_left(&b));
        struct vk_cur name = b;
        if (fmt != 0x02 || !nul) {
            smb_anomaly(c, "smb.truncated");
            return;
        }
        vk_cur_take(&b, (size_t)(nul - b.p), &name);
        vk_cur_skip(&b, 1);
        if (st->n_dialects >= SMB1_DIALECTS) continue;
        char *d = st->dialects[st->n_dialects++];
        d[0] = 0;
        if (vk_cur_left(&name) < SMB1_DIALECT_LEN) {
            memcpy(d, name.p, vk_cur_left(&name));
            d[vk_cur_left(&name)] = 0;
        }
    }
}

static void smb1_negotiate_resp(struct smb_state *st, struct vk_pctx *c, struct vk_cur w)
{
    uint16_t idx;
    if (!vk_cur_u16le(&w, &idx)) return; /* error reply without words */
    if (idx < st->n_dialects && st->dialects[idx][0]) smb_set_dialect(st, c, st->dialects[idx]);
}

/* SESSION_SETUP_ANDX request: word counts 10 (pre-NT), 12 (extended security), 13 (NTLM).
 * Returns true when the security blob held NTLMSSP. */
static bool smb1_session_setup(struct vk_pctx *c, const struct vk_cur *base, uint8_t wc,
                               struct vk_cur w, struct vk_cur b, bool uni)
{
    char s[SMB_STR_MAX];
    uint16_t l1 = 0, l2 = 0;
    size_t n;
    vk_cur_skip(&w, 14); /* AndX, MaxBufferSize, MaxMpxCount, VcNumber, SessionKey */
    if (wc == 12) {
        struct vk_cur blob;
        vk_cur_u16le(&w, &l1);
        if (!vk_cur_take(&b, l1, &blob)) {
            smb_anomaly(c, "smb.truncated");
            return false;
        }
        bool ntlm = smb_ntlmssp(c, blob);
        n = smb1_string(c, base, &b, uni, s, sizeof s); /* NativeOS */
        if (n) vk_meta_add_str(c->meta, VK_K_SMB_OS, s, n);
        smb1_string(c, base, &b, uni, s, sizeof s); /* NativeLanMan */
        n = smb1_string(c, base, &b, uni, s, sizeof s); /* PrimaryDomain */
        if (n) vk_meta_add_str(c->meta, VK_K_SMB_DOMAIN, s, n);
        return ntlm;
    }
    if (wc != 10 && wc != 13) return false;
    vk_cur_u16le(&w, &l1);
    if (wc == 13) vk_cur_u16le(&w, &l2);
    if (!vk_cur_skip(&b, (size_t)l1 + l2)) {
        smb_anomaly(c, "smb.truncated");
        return false;
    }
    n = smb1_string(c, base, &b, uni, s, sizeof s); /* AccountName */
    if (n) vk_meta_add_str(c->meta, VK_K_USER, s, n);
    n = smb1_string(c, base, &b, uni, s, sizeof s); /* PrimaryDomain */
    if (n) vk_meta_add_str(c->meta, VK_K_SMB_DOMAIN, s, n);
    n = smb1_string(c, base, &b, uni, s, sizeof s); /* NativeOS */
    if (n) vk_meta_add_str(c->meta, VK_K_SMB_OS, s, n);
    return false;
}

/* SESSION_SETUP_ANDX reply with extended security (4 words): the CHALLENGE blob. */
static bool smb1_session_setup_resp(struct vk_pctx *c, uint8_t wc, struct vk_cur w,
                                    struct vk_cur b)
{
    uint16_t len;
    struct vk_cur blob;
    if (wc != 4 || !vk_cur_skip(&w, 6) || !vk_cur_u16le(&w, &len)) return false;
    if (!vk_cur_take(&b, len, &blob)) {
        smb_anomaly(c, "smb.truncated");
        return false;
    }
    return smb_ntlmssp(c, blob);
}

/* Parse one SMB1 message (header at base), following the AndX chain. */
static void smb1_message(struct smb_state *st, struct vk_pctx *c, struct vk_cur msg)
{
    const struct vk_cur base = msg;
    struct vk_cur h = msg;
    uint8_t cmd, flags;
    uint16_t flags2;
    char s[SMB_STR_MAX];
    size_t off = 32;

    if (!vk_cur_skip(&h, 4) || !vk_cur_u8(&h, &cmd) || !vk_cur_skip(&h, 4) ||
        !vk_cur_u8(&h, &flags) || !vk_cur_u16le(&h, &flags2))
        return; /* framing guarantees 32 bytes */
    bool reply = (flags & 0x80) != 0, uni = (flags2 & 0x8000) != 0;

    for (int step = 0; step < SMB_CHAIN_MAX; step++) {
        struct vk_cur p = base, w, b;
        uint8_t wc;
        uint16_t bc;
        vk_cur_skip(&p, off);
        if (!vk_cur_u8(&p, &wc) || !vk_cur_take(&p, (size_t)wc * 2, &w) ||
            !vk_cur_u16le(&p, &bc)) {
            smb_anomaly(c, "smb.truncated");
            return;
        }
        if (!vk_cur_take(&p, bc, &b)) {
            smb_anomaly(c, "smb.truncated");
            b = p; /* read what is there */
        }
        switch (cmd) {
        case 0x72: /* NEGOTIATE */
            if (reply)
                smb1_negotiate_resp(st, c, w);
            else
                smb1_negotiate_req(st, c, b);
            break;
        case 0x73: /* SESSION_SETUP_ANDX */
            if (reply ? smb1_session_setup_resp(c, wc, w, b)
                      : smb1_session_setup(c, &base, wc, w, b, uni))
                smb_set_ntlm(st, c);
            break;
        case 0x75: { /* TREE_CONNECT_ANDX: Password, Path, Service */
            uint16_t pwlen = 0;
            if (reply || wc != 4) break;
            struct vk_cur ww = w;
            vk_cur_skip(&ww, 6);
            vk_cur_u16le(&ww, &pwlen);
            if (!vk_cur_skip(&b, pwlen)) {
                smb_anomaly(c, "smb.truncated");
                break;
            }
            size_t n = smb1_string(c, &base, &b, uni, s, sizeof s);
            smb_add_tree(c, s, n);
            break;
        }
        case 0xa2:   /* NT_CREATE_ANDX */
        case 0x2d: { /* OPEN_ANDX */
            if (reply || wc != (cmd == 0xa2 ? 24 : 15)) break;
            size_t n = smb1_string(c, &base, &b, uni, s, sizeof s);
            smb_add_file(c, s, n);
            break;
        }
        case 0x06: { /* DELETE: BufferFormat 0x04, FileName */
            uint8_t fmt;
            if (reply || wc != 1) break;
            if (!vk_cur_u8(&b, &fmt) || fmt != 0x04) {
                smb_anomaly(c, "smb.truncated");
                break;
            }
            size_t n = smb1_string(c, &base, &b, uni, s, sizeof s);
            smb_add_file(c, s, n);
            break;
        }
        default:
            break;
        }

        /* Follow the AndX chain of the commands that have one. */
        static const uint8_t andx[] = {0x24, 0x2d, 0x2e, 0x2f, 0x73, 0x74, 0x75, 0xa2};
        uint8_t next;
        uint16_t noff;
        if (!memchr(andx, cmd, sizeof andx) || wc < 2) return;
        if (!vk_cur_u8(&w, &next) || !vk_cur_skip(&w, 1) || !vk_cur_u16le(&w, &noff)) return;
        if (next == 0xff) return;
        if (noff <= off || noff >= vk_cur_left(&base)) {
            smb_anomaly(c, "smb.bad_andx");
            return;
        }
        off = noff;
        cmd = next;
    }
}

/* ---- SMB2/3 (MS-SMB2) ------------------------------------------------------------------ */

/* Buffer [off, off+len) of a request/response, offsets from the element's header start. */
static bool smb2_buffer(struct vk_pctx *c, struct vk_cur elem, uint16_t off, uint32_t len,
                        struct vk_cur *out)
{
    if (len == 0) return false;
    if (off < 64 || !smb_slice(elem, off, len, out)) {
        smb_anomaly(c, "smb.truncated");
        return false;
    }
    return true;
}

static void smb2_negotiate_req(struct vk_pctx *c, struct vk_cur body)
{
    uint16_t count;
    if (!vk_cur_skip(&body, 2) || !vk_cur_u16le(&body, &count)) return;
    /* SecurityMode 2, Reserved 2, Capabilities 4, ClientGuid 16, StartTime/contexts 8. */
    if (!vk_cur_skip(&body, 32) || !vk_cur_skip(&body, (size_t)count * 2))
        smb_anomaly(c, "smb.truncated");
}

static void smb2_negotiate_resp(struct smb_state *st, struct vk_pctx *c, uint16_t ssize,
                                struct vk_cur body)
{
    uint16_t dialect;
    char d[16];
    if (ssize != 65) return; /* error response */
    if (!vk_cur_skip(&body, 4) || !vk_cur_u16le(&body, &dialect)) {
        smb_anomaly(c, "smb.truncated");
        return;
    }
    if (dialect == 0 || dialect == 0x02ff) return; /* wildcard of a multi-protocol reply */
    snprintf(d, sizeof d, "SMB %u.%u.%u", (dialect >> 8) & 0xfu, (dialect >> 4) & 0xfu,
             dialect & 0xfu);
    smb_set_dialect(st, c, d);
}

/* One SMB2 command (elem starts at its 64-byte header). */
static void smb2_command(struct smb_state *st, struct vk_pctx *c, struct vk_cur elem)
{
    struct vk_cur h = elem, body, buf;
    uint16_t cmd = 0, ssize = 0, off = 0, len16 = 0;
    uint32_t flags = 0;
    char s[SMB_STR_MAX];

    vk_cur_skip(&h, 12);
    vk_cur_u16le(&h, &cmd);
    vk_cur_skip(&h, 2);
    vk_cur_u32le(&h, &flags);
    body = elem;
    vk_cur_skip(&body, 64);
    h = body;
    if (!vk_cur_u16le(&h, &ssize)) {
        smb_anomaly(c, "smb.truncated");
        return;
    }
    bool reply = (flags & 1) != 0;

    switch (cmd) {
    case 0: /* NEGOTIATE */
        if (reply)
            smb2_negotiate_resp(st, c, ssize, body);
        else
            smb2_negotiate_req(c, body);
        return;
    case 1: /* SESSION_SETUP */
        if (ssize != (reply ? 9 : 25)) return;
        /* request: Flags 1, SecurityMode 1, Capabilities 4, Channel 4; reply: Flags 2 */
        if (!vk_cur_skip(&h, reply ? 2 : 10) || !vk_cur_u16le(&h, &off) ||
            !vk_cur_u16le(&h, &len16)) {
            smb_anomaly(c, "smb.truncated");
            return;
        }
        if (smb2_buffer(c, elem, off, len16, &buf)) smb_ntlmssp(c, buf);
        return;
    case 3: { /* TREE_CONNECT */
        uint16_t tflags;
        if (reply) return;
        if (ssize != 9) {
            smb_anomaly(c, "smb.bad_header");
            return;
        }
        if (!vk_cur_u16le(&h, &tflags) || !vk_cur_u16le(&h, &off) || !vk_cur_u16le(&h, &len16)) {
            smb_anomaly(c, "smb.truncated");
            return;
        }
        if (tflags & 0x0004) return; /* EXTENSION_PRESENT: path lives in the extension */
        if (smb2_buffer(c, elem, off, len16, &buf)) {
            size_t n = smb_text(c, buf, true, s, sizeof s);
            smb_add_tree(c, s, n);
        }
        return;
    }
    case 5: /* CREATE */
        if (reply) return;
        if (ssize != 57) {
            smb_anomaly(c, "smb.bad_header");
            return;
        }
        if (!vk_cur_skip(&h, 42) || !vk_cur_u16le(&h, &off) || !vk_cur_u16le(&h, &len16)) {
            smb_anomaly(c, "smb.truncated");
            return;
        }
        if (smb2_buffer(c, elem, off, len16, &buf)) {
            size_t n = smb_text(c, buf, true, s, sizeof s);
            smb_add_file(c, s, n);
        }
        return;
    default: /* READ, WRITE and the rest: nothing to take */
        return;
    }
}

/* Walk the compound chain of one SMB2 message. */
static void smb2_message(struct smb_state *st, struct vk_pctx *c, struct vk_cur msg)
{
    for (int i = 0; i < SMB_CHAIN_MAX && vk_cur_left(&msg) > 0; i++) {
        struct vk_cur h = msg, elem;
        uint8_t proto = 0;
        uint16_t hsize = 0;
        uint32_t next = 0;
        if (vk_cur_left(&msg) < 64) {
            smb_anomaly(c, "smb.truncated");
            return;
        }
        bool ok = smb_sig(h, &proto);
        vk_cur_skip(&h, 4);
        vk_cur_u16le(&h, &hsize);
        vk_cur_skip(&h, 14);
        vk_cur_u32le(&h, &next);
        if (!ok || proto != 0xfe || hsize != 64) {
            smb_anomaly(c, "smb.bad_header");
            return;
        }
        if (next != 0 && (next < 64 || next > vk_cur_left(&msg) || (next & 7) != 0)) {
            smb_anomaly(c, "smb.bad_compound");
            next = 0;
        }
        vk_cur_take(&msg, next ? next : vk_cur_left(&msg), &elem);
        smb2_command(st, c, elem);
        if (!next) return;
    }
}

/* ---- NBSS framing --------------------------------------------------------------------- */

/* A NetBIOS name in first-level encoding (RFC 1001 14.1): 32 letters A..P give 16 bytes,
 * the last one a suffix; trailing spaces dropped. Scope labels are skipped. */
static bool nbss_name(struct vk_pctx *c, struct vk_cur *in)
{
    uint8_t len, hi, lo, l;
    char name[16];
    size_t n = 0;
    if (!vk_cur_u8(in, &len) || len != 32) return false;
    for (int i = 0; i < 16; i++) {
        if (!vk_cur_u8(in, &hi) || !vk_cur_u8(in, &lo) || hi < 'A' || hi > 'P' || lo < 'A' ||
            lo > 'P')
            return false;
        name[i] = (char)((hi - 'A') << 4 | (lo - 'A'));
    }
    while (vk_cur_u8(in, &l) && l != 0)
        if (!vk_cur_skip(in, l)) return false;
    n = 15;
    while (n > 0 && name[n - 1] == ' ') n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e) return true;
    smb_add_host(c, name, n);
    return true;
}

/* What to do with a message once its first bytes are known. PICK_MAYBE: a compound whose
 * first command we do not read: read it if it fits, else skip it without an anomaly (big
 * compounded READ responses are normal). */
enum smb_pick { PICK_SKIP, PICK_READ, PICK_MAYBE, PICK_HUNT };

static enum smb_pick smb_pick(struct smb_state *st, struct vk_pctx *c, struct smb_dir *d,
                              struct vk_cur head)
{
    uint8_t proto;
    if (d->nbss_type == 0x81) return PICK_READ; /* session request (length checked) */
    if (d->nbss_type != 0x00) return PICK_SKIP;
    if (!smb_sig(head, &proto) || proto < 0xfc) {
        smb_anomaly(c, "smb.bad_header");
        return PICK_HUNT;
    }
    if (!st->is_smb) {
        st->is_smb = true;
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "smb");
    }
    if (proto == 0xff) {
        struct vk_cur h = head;
        uint8_t cmd = 0, flags = 0;
        vk_cur_skip(&h, 4);
        vk_cur_u8(&h, &cmd);
        vk_cur_skip(&h, 4);
        vk_cur_u8(&h, &flags);
        if (flags & 0x80) return (cmd == 0x72 || cmd == 0x73) ? PICK_READ : PICK_SKIP;
        return memchr("\x72\x73\x75\xa2\x2d\x06", cmd, 6) ? PICK_READ : PICK_SKIP;
    }
    if (proto == 0xfe) {
        struct vk_cur h = head;
        uint16_t hsize = 0, cmd = 0;
        uint32_t flags = 0, next = 0;
        if (vk_cur_left(&h) < 64) {
            smb_anomaly(c, "smb.truncated");
            return PICK_SKIP;
        }
        vk_cur_skip(&h, 4);
        vk_cur_u16le(&h, &hsize);
        vk_cur_skip(&h, 6);
        vk_cur_u16le(&h, &cmd);
        vk_cur_skip(&h, 2);
        vk_cur_u32le(&h, &flags);
        vk_cur_u32le(&h, &next);
        if (hsize != 64) {
            smb_anomaly(c, "smb.bad_header");
            return PICK_SKIP;
        }
        if (cmd == 0 || cmd == 1) return PICK_READ;
        if ((cmd == 3 || cmd == 5) && !(flags & 1)) return PICK_READ;
        return next != 0 ? PICK_MAYBE : PICK_SKIP;
    }
    return PICK_SKIP; /* 0xfd transform (encrypted), 0xfc compressed: not readable */
}

static void smb_handle(struct smb_state *st, struct vk_pctx *c, struct smb_dir *d,
                       struct vk_cur msg)
{
    if (d->nbss_type == 0x81) {
        if (!nbss_name(c, &msg) || !nbss_name(c, &msg)) smb_anomaly(c, "smb.bad_nbss");
        return;
    }
    uint8_t proto = 0;
    smb_sig(msg, &proto);
    if (proto == 0xff)
        smb1_message(st, c, msg);
    else if (proto == 0xfe)
        smb2_message(st, c, msg);
}

static void smb_bad(struct vk_pctx *c, struct smb_state *st, struct smb_dir *d)
{
    d->buf.len = 0;
    d->hdr_n = 0;
    d->hunted = 0;
    if (++d->bad > SMB_BAD_MAX) {
        d->mode = M_DEAD;
        smb_anomaly(c, "smb.lost_sync");
        if (st->d[0].mode == M_DEAD && st->d[1].mode == M_DEAD) c->done = true;
    } else {
        d->mode = M_HUNT;
    }
}

static void smb_start_skip(struct smb_dir *d, size_t done)
{
    d->left = d->msg_len - (uint32_t)done;
    d->buf.len = 0;
    d->mode = d->left ? M_SKIP : M_HDR;
}

static void step_hdr(struct smb_state *st, struct vk_pctx *c, struct smb_dir *d,
                     struct vk_cur *in)
{
    while (d->hdr_n < 4 && vk_cur_u8(in, &d->hdr[d->hdr_n])) d->hdr_n++;
    if (d->hdr_n < 4) return;
    d->hdr_n = 0;
    d->nbss_type = d->hdr[0];
    /* 24-bit length: direct TCP uses all of it, NBSS 17 bits (the rest are zero). */
    d->msg_len = (uint32_t)d->hdr[1] << 16 | (uint32_t)d->hdr[2] << 8 | d->hdr[3];
    d->buf.len = 0;
    switch (d->nbss_type) {
    case 0x00: /* session message */
        if (d->msg_len == 0) return;
        if (d->msg_len < 32) {
            smb_anomaly(c, "smb.bad_length");
            smb_start_skip(d, 0);
            return;
        }
        d->mode = M_PEEK;
        return;
    case 0x81: /* session request: called and calling names */
        if (d->msg_len < 68 || d->msg_len > 1024) {
            smb_anomaly(c, "smb.bad_length");
            smb_start_skip(d, 0);
            return;
        }
        d->mode = M_PEEK;
        return;
    case 0x82: case 0x83: case 0x84: case 0x85: /* responses, retarget, keepalive */
        smb_start_skip(d, 0);
        return;
    default:
        smb_anomaly(c, "smb.bad_nbss");
        smb_bad(c, st, d);
        return;
    }
}

static void step_peek(struct smb_state *st, struct vk_pctx *c, struct smb_dir *d,
                      struct vk_cur *in)
{
    size_t want = d->msg_len < SMB_PEEK ? d->msg_len : SMB_PEEK;
    struct vk_cur head;
    if (d->buf.len == 0 && vk_cur_left(in) >= want) {
        head = vk_cur_make(in->p, want); /* look in place, consume nothing yet */
    } else {
        size_t k = want - d->buf.len;
        struct vk_cur part;
        if (k > vk_cur_left(in)) k = vk_cur_left(in);
        vk_cur_take(in, k, &part);
        if (vk_buf_append(&d->buf, part.p, k) != 0) { /* out of memory: drop the message */
            smb_start_skip(d, d->buf.len + k);
            return;
        }
        if (d->buf.len < want) return;
        head = vk_cur_make(d->buf.p, d->buf.len);
    }
    enum smb_pick pick = smb_pick(st, c, d, head);
    switch (pick) {
    case PICK_HUNT:
        smb_bad(c, st, d);
        return;
    case PICK_SKIP:
        smb_start_skip(d, d->buf.len);
        return;
    case PICK_MAYBE:
    case PICK_READ:
        if (d->msg_len > SMB_MSG_MAX) {
            if (pick == PICK_READ) smb_anomaly(c, "smb.message_too_long");
            smb_start_skip(d, d->buf.len);
            return;
        }
        d->mode = M_READ;
        return;
    }
}

static void step_read(struct smb_state *st, struct vk_pctx *c, struct smb_dir *d,
                      struct vk_cur *in)
{
    struct vk_cur part;
    if (d->buf.len == 0 && vk_cur_left(in) >= d->msg_len) {
        vk_cur_take(in, d->msg_len, &part); /* whole message in this segment: no copy */
        d->mode = M_HDR;
        smb_handle(st, c, d, part);
        return;
    }
    size_t k = d->msg_len - d->buf.len;
    if (k > vk_cur_left(in)) k = vk_cur_left(in);
    vk_cur_take(in, k, &part);
    if (vk_buf_append(&d->buf, part.p, k) != 0) {
        smb_anomaly(c, "smb.message_too_long");
        smb_start_skip(d, d->buf.len + k);
        return;
    }
    if (d->buf.len < d->msg_len) return;
    d->mode = M_HDR;
    smb_handle(st, c, d, vk_cur_make(d->buf.p, d->buf.len));
    d->buf.len = 0;
}

static void step_skip(struct smb_dir *d, struct vk_cur *in)
{
    size_t k = d->left < vk_cur_left(in) ? d->left : vk_cur_left(in);
    vk_cur_skip(in, k);
    d->left -= (uint32_t)k;
    if (d->left == 0) d->mode = M_HDR;
}

/* Search for "\0 len len len" + "\xfe|\xff|\xfd|\xfcSMB"; a header split across two
 * segments is missed and the next one found. O(n) via memmem. */
static void step_hunt(struct smb_state *st, struct vk_pctx *c, struct smb_dir *d,
                      struct vk_cur *in)
{
    struct vk_cur s = *in;
    while (vk_cur_left(&s) >= 3) {
        const uint8_t *m = memmem(s.p, vk_cur_left(&s), "SMB", 3);
        if (!m) break;
        size_t pos = (size_t)(m - in->p); /* offset of "SMB" in *in */
        if (pos >= 5) {
            struct vk_cur h = *in;
            uint8_t t = 1, proto = 0;
            vk_cur_skip(&h, pos - 5);
            vk_cur_u8(&h, &t);
            vk_cur_skip(&h, 3);
            vk_cur_u8(&h, &proto);
            if (t == 0 && proto >= 0xfc) {
                vk_cur_skip(in, pos - 5);
                d->mode = M_HDR;
                d->hunted = 0;
                return;
            }
        }
        s = *in;
        vk_cur_skip(&s, pos + 1);
    }
    d->hunted += (uint32_t)vk_cur_left(in);
    vk_cur_skip(in, vk_cur_left(in));
    if (d->hunted > SMB_HUNT_MAX) {
        d->bad = SMB_BAD_MAX;
        smb_bad(c, st, d);
    }
}

/* ---- the parser interface ------------------------------------------------------------- */

static int smb_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    struct vk_cur c = vk_cur_make(p, n);
    uint8_t t, proto, len, ch;
    uint32_t mlen;
    bool port = f->port[0] == 445 || f->port[1] == 445 || f->port[0] == 139 ||
                f->port[1] == 139;
    if (!vk_cur_u8(&c, &t) || !vk_cur_u24be(&c, &mlen)) return port ? 1 : 0;
    if (t == 0x00 && smb_sig(c, &proto) && proto >= 0xfc) return 3;
    if (t == 0x81 && mlen >= 68 && vk_cur_u8(&c, &len) && len == 32) {
        for (int i = 0; i < 32; i++)
            if (!vk_cur_u8(&c, &ch) || ch < 'A' || ch > 'P') return port ? 1 : 0;
        return port ? 3 : 2;
    }
    return port ? 1 : 0;
}

static void smb_init(void *vst, struct vk_pctx *c)
{
    struct smb_state *st = vst;
    for (int i = 0; i < 2; i++) {
        vk_buf_init(&st->d[i].buf, SMB_MSG_MAX);
        st->d[i].mode = M_HDR;
    }
}

/* In-order bytes of one direction. O(n) plus the parse of the messages read; copies only
 * the messages it reads that span segments (capped at SMB_MSG_MAX per direction). */
static void smb_data(void *vst, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct smb_state *st = vst;
    struct smb_dir *d = &st->d[dir ? 1 : 0];
    struct vk_cur in = vk_cur_make(p, n);
    while (vk_cur_left(&in) > 0) {
        switch (d->mode) {
        case M_HDR: step_hdr(st, c, d, &in); break;
        case M_PEEK: step_peek(st, c, d, &in); break;
        case M_READ: step_read(st, c, d, &in); break;
        case M_SKIP: step_skip(d, &in); break;
        case M_HUNT: step_hunt(st, c, d, &in); break;
        default: return; /* M_DEAD */
        }
    }
}

/* Lost bytes: still in step when they fall inside a message being skipped; otherwise hunt
 * for the next header. */
static void smb_gap(void *vst, struct vk_pctx *c, int dir, size_t n)
{
    struct smb_state *st = vst;
    struct smb_dir *d = &st->d[dir ? 1 : 0];
    if (d->mode == M_DEAD || n == 0) return;
    if (d->mode == M_SKIP && n <= d->left) {
        d->left -= (uint32_t)n;
        if (d->left == 0) d->mode = M_HDR;
        return;
    }
    d->buf.len = 0;
    d->hdr_n = 0;
    d->hunted = 0;
    d->mode = M_HUNT;
}

/* Facts are added as they are found; re-add the session-wide ones in case the record was
 * emptied by an interim save. */
static void smb_finish(void *vst, struct vk_pctx *c)
{
    struct smb_state *st = vst;
    if (st->is_smb) vk_meta_add_cstr(c->meta, VK_K_SERVICE, "smb");
    if (st->ntlm) vk_meta_add_cstr(c->meta, VK_K_SERVICE, "ntlm");
    if (st->dialect[0]) vk_meta_add_cstr(c->meta, VK_K_SMB_DIALECT, st->dialect);
}

static void smb_release(void *vst)
{
    struct smb_state *st = vst;
    vk_buf_free(&st->d[0].buf);
    vk_buf_free(&st->d[1].buf);
}

const struct vk_parser vk_proto_smb = {
    .name = "smb",
    .ipproto = 6,
    .probe = smb_probe,
    .state_size = sizeof(struct smb_state),
    .init = smb_init,
    .data = smb_data,
    .gap = smb_gap,
    .finish = smb_finish,
    .release = smb_release,
};
