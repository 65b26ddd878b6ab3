/* quic.c — QUIC over UDP (IETF and Google QUIC), and Facebook's fbzero over TCP.
 *
 * IETF QUIC (v1, v2, drafts 22-34, mvfst): walks every long-header packet of a datagram
 * (coalesced packets included) and records quic.version. For Initial packets it derives
 * the Initial keys from the client's first Destination Connection ID (RFC 9001 §5.2,
 * RFC 9369 for v2), removes header protection, decrypts the payload (AES-128-GCM), walks
 * the frames and reassembles each side's CRYPTO stream by offset. The complete
 * ClientHello (and ServerHello) goes to vk_tls_handshake() in tls.c, which owns every TLS
 * fact (tls.sni, tls.ja3, tls.ja4, ...); this file only takes the google_user_agent
 * transport parameter out of the ClientHello. Handshake, 0-RTT and 1-RTT packets stay
 * opaque, as do short headers.
 *
 * Google QUIC: the legacy public header (Q024-Q045) and the Q046 long header carry the
 * CHLO in cleartext; Q050 and T050/T051 protect their Initials like IETF drafts, with
 * their own salts. From the CHLO tags come SNI (quic.sni and alias.host), UAID
 * (quic.user_agent) and VER (quic.version): Arkime files the same tags as quic.host,
 * quic.useragent and quic.version.
 *
 * fbzero (Facebook's zero protocol over TCP) opens with "1QTV" and a CHLO: same tags.
 *
 * quic.version comes from any well-formed header with a known version ("1", "2",
 * "draft-29", "mvfst-27", "Q043"; greased versions are skipped). `service` waits for
 * proof, as in Arkime: an Initial that decrypts, a gQUIC handshake message, or a legacy
 * gQUIC header with a version. Anomalies: quic.decrypt_failed, quic.bad_frame,
 * quic.bad_header, quic.truncated, quic.crypto_too_long, quic.crypto_fragmented,
 * quic.hello_incomplete, quic.bad_chlo, fbzero.bad_chlo.
 *
 * Cost: per datagram O(bytes). Key derivation (HMAC-SHA256 x5) runs only when the
 * version or the Connection ID the keys hang on changes. Nothing is allocated per
 * packet: the two OpenSSL cipher contexts and the CRYPTO reassembly buffers are allocated
 * once per session on first use, capped at QUIC_CRYPTO_MAX bytes per direction, and
 * freed as soon as the handshake messages have been read. Plaintext goes to a
 * thread-local buffer. A session is looked at for at most QUIC_MAX_DATAGRAMS datagrams. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "vk_proto.h"

#define QUIC_CRYPTO_MAX 16384  /* reassembled CRYPTO bytes per direction */
#define QUIC_RANGES 16         /* disjoint CRYPTO ranges tolerated while reassembling */
#define QUIC_MAX_DATAGRAMS 64  /* datagrams looked at per session */
#define QUIC_MAX_CID 20
#define QUIC_PLAIN_MAX 65536   /* a QUIC packet never exceeds a UDP payload */
#define QUIC_GQ_MAX_TAGS 128   /* Chromium's kMaxEntries for a handshake message */
#define FBZERO_MAX 4096

#define QV_1 0x00000001u
#define QV_2 0x6b3343cfu
#define QV_MVFST_22 0xfaceb001u
#define QV_MVFST_27 0xfaceb002u
#define QV_MVFST_EXP 0xfaceb00eu
#define QV_Q050 0x51303530u
#define QV_T050 0x54303530u
#define QV_T051 0x54303531u

/* How a version lays out its packets. */
enum quic_fam {
    QF_NONE,      /* unknown: nothing to read */
    QF_IETF,      /* IETF invariants, TLS in CRYPTO frames (v1, v2, drafts, mvfst) */
    QF_GQ_LEGACY, /* gQUIC public header, cleartext CHLO (Q024-Q045) */
    QF_GQ_46,     /* gQUIC long header with CID-length nibbles, cleartext CHLO (Q046-Q049) */
    QF_GQ_5X,     /* gQUIC on IETF invariants, protected Initials (Q050, T050, T051) */
};

enum { QT_INITIAL, QT_0RTT, QT_HANDSHAKE, QT_RETRY }; /* long packet types, v1 numbering */

struct quic_keys {
    uint32_t version;
    bool ok;
    uint8_t key[16], iv[12], hp[16];
};

/* One direction's Initial CRYPTO stream, reassembled by offset. */
struct quic_stream {
    struct vk_buf buf;                /* bytes [0, buf.len); holes are zeros */
    uint32_t lo[QUIC_RANGES], hi[QUIC_RANGES]; /* covered ranges, sorted, disjoint */
    uint8_t n;
    bool done;                        /* message handed over, or given up */
    uint64_t next_pn;                 /* largest Initial packet number + 1 */
};

struct quic_state {
    int8_t cdir;                      /* direction of the client; -1 until known */
    uint8_t odcid_len;
    uint8_t odcid[QUIC_MAX_CID];      /* the DCID the Initial keys are derived from */
    bool finished;
    bool chlo_seen;
    uint16_t datagrams;
    uint32_t gq_version;              /* gQUIC version from a client header (0: none) */
    struct quic_keys keys[2];         /* Initial keys by direction */
    struct quic_stream crypto[2];
    EVP_CIPHER_CTX *hp_ctx, *aead_ctx;
};

static _Thread_local uint8_t quic_plain[QUIC_PLAIN_MAX];

static void quic_anomaly(struct vk_pctx *c, const char *what)
{
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, what);
}

/* ---- versions ------------------------------------------------------------------------ */

static bool quic_is_grease(uint32_t v) { return (v & 0x0f0f0f0fu) == 0x0a0a0a0au; }

/* 'Q' or 'T' and three digits: the number, else -1. */
static int quic_gquic_num(uint32_t v)
{
    int q = (int)(v >> 24), d1 = (int)(v >> 16 & 0xff), d2 = (int)(v >> 8 & 0xff),
        d3 = (int)(v & 0xff);
    if (q != 'Q' && q != 'T') return -1;
    if (d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' || d3 < '0' || d3 > '9') return -1;
    return (d1 - '0') * 100 + (d2 - '0') * 10 + (d3 - '0');
}

static enum quic_fam quic_family(uint32_t v)
{
    if (v == QV_1 || v == QV_2 || v == QV_MVFST_22 || v == QV_MVFST_27 || v == QV_MVFST_EXP)
        return QF_IETF;
    if ((v >> 8) == 0xff0000u && (v & 0xff) >= 22 && (v & 0xff) <= 34) return QF_IETF;
    int g = quic_gquic_num(v);
    if (g < 0) return QF_NONE;
    if (v >> 24 == 'Q' && g >= 24 && g <= 45) return QF_GQ_LEGACY;
    if (v >> 24 == 'Q' && g >= 46 && g <= 49) return QF_GQ_46;
    if (v == QV_Q050 || v == QV_T050 || v == QV_T051) return QF_GQ_5X;
    return QF_NONE;
}

/* "1", "2", "draft-29", "mvfst-27", "Q043". out >= 16 bytes. */
static void quic_version_name(uint32_t v, char *out, size_t outsz)
{
    if (v == QV_1) snprintf(out, outsz, "1");
    else if (v == QV_2) snprintf(out, outsz, "2");
    else if ((v >> 8) == 0xff0000u) snprintf(out, outsz, "draft-%u", (unsigned)(v & 0xff));
    else if (v == QV_MVFST_22) snprintf(out, outsz, "mvfst-22");
    else if (v == QV_MVFST_27) snprintf(out, outsz, "mvfst-27");
    else if (v == QV_MVFST_EXP) snprintf(out, outsz, "mvfst-exp");
    else if (quic_gquic_num(v) >= 0)
        snprintf(out, outsz, "%c%c%c%c", (char)(v >> 24), (char)(v >> 16), (char)(v >> 8),
                 (char)v);
    else snprintf(out, outsz, "0x%08x", (unsigned)v);
}

/* The version goes in from any well-formed header; `service` waits for proof that the
 * bytes really are QUIC (a decrypted Initial, a gQUIC handshake message), as in Arkime. */
static void quic_add_version(struct vk_pctx *c, uint32_t v)
{
    char name[16];
    quic_version_name(v, name, sizeof name);
    vk_meta_add_cstr(c->meta, VK_K_QUIC_VERSION, name);
}

/* The Initial salt of a version, NULL when we cannot derive its keys. */
static const uint8_t *quic_salt(uint32_t v)
{
    static const uint8_t v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                   0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
    static const uint8_t v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                   0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
    static const uint8_t d29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
    static const uint8_t d23[20] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                    0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
    static const uint8_t d22[20] = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                    0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
    static const uint8_t q50[20] = {0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
                                    0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45};
    static const uint8_t t50[20] = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                    0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
    static const uint8_t t51[20] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                    0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};
    if (v == QV_1) return v1;
    if (v == QV_2) return v2;
    if (v == QV_MVFST_22) return d22;
    if (v == QV_MVFST_27 || v == QV_MVFST_EXP) return d23;
    if (v == QV_Q050) return q50;
    if (v == QV_T050) return t50;
    if (v == QV_T051) return t51;
    if ((v >> 8) == 0xff0000u) {
        unsigned d = v & 0xff;
        if (d >= 33 && d <= 34) return v1;
        if (d >= 29 && d <= 32) return d29;
        if (d >= 23 && d <= 28) return d23;
        if (d == 22) return d22;
    }
    return NULL;
}

/* Long packet type in v1 numbering (v2 rotates the values, RFC 9369 §3.2). */
static int quic_long_type(uint32_t v, uint8_t b0)
{
    int t = (b0 >> 4) & 3;
    return v == QV_2 ? (t + 3) & 3 : t;
}

/* ---- small readers --------------------------------------------------------------------- */

/* RFC 9000 §16 variable-length integer. */
static bool quic_varint(struct vk_cur *c, uint64_t *out)
{
    uint8_t b;
    if (!vk_cur_u8(c, &b)) return false;
    unsigned extra = (1u << (b >> 6)) - 1;
    uint64_t v = b & 0x3f;
    for (unsigned i = 0; i < extra; i++) {
        uint8_t x;
        if (!vk_cur_u8(c, &x)) return false;
        v = v << 8 | x;
    }
    *out = v;
    return true;
}

/* n bytes (n <= 8) as an unsigned integer, big- or little-endian. */
static bool quic_uint_n(struct vk_cur *c, unsigned n, bool be, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t x;
        if (!vk_cur_u8(c, &x)) return false;
        v = be ? v << 8 | x : v | (uint64_t)x << (8 * i);
    }
    *out = v;
    return true;
}

/* Full packet number from its truncated form (RFC 9000 §A.3). */
static uint64_t quic_pn_decode(uint64_t expected, uint64_t truncated, unsigned nbits)
{
    uint64_t win = (uint64_t)1 << nbits, hwin = win / 2, mask = win - 1;
    uint64_t cand = (expected & ~mask) | truncated;
    if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win) return cand + win;
    if (cand > expected + hwin && cand >= win) return cand - win;
    return cand;
}

/* ---- key schedule (RFC 9001 §5) -------------------------------------------------------- */

/* HKDF-Expand-Label(secret, label, "", n) for n <= 32: one HMAC-SHA256 block. */
static bool quic_expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t n)
{
    uint8_t info[2 + 1 + 255 + 1 + 1], md[32];
    size_t ll = strlen(label), i = 0;
    unsigned mdlen = sizeof md;
    if (n > sizeof md || 6 + ll > 255) return false;
    info[i++] = (uint8_t)(n >> 8);
    info[i++] = (uint8_t)n;
    info[i++] = (uint8_t)(6 + ll);
    memcpy(info + i, "tls13 ", 6);
    i += 6;
    memcpy(info + i, label, ll);
    i += ll;
    info[i++] = 0;  /* empty context */
    info[i++] = 1;  /* T(1) */
    if (!HMAC(EVP_sha256(), secret, 32, info, i, md, &mdlen)) return false;
    memcpy(out, md, n);
    return true;
}

/* Initial keys of one side: client (true) or server, for a version and a DCID. */
static bool quic_derive_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                             bool client, struct quic_keys *k)
{
    const uint8_t *salt = quic_salt(version);
    uint8_t prk[32], secret[32];
    unsigned prklen = sizeof prk;
    bool v2 = version == QV_2;
    k->ok = false;
    if (!salt) return false;
    if (!HMAC(EVP_sha256(), salt, 20, dcid, dcid_len, prk, &prklen)) return false;
    if (!quic_expand_label(prk, client ? "client in" : "server in", secret, 32) ||
        !quic_expand_label(secret, v2 ? "quicv2 key" : "quic key", k->key, 16) ||
        !quic_expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) ||
        !quic_expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16))
        return false;
    k->version = version;
    k->ok = true;
    return true;
}

static bool quic_ctx_ready(struct quic_state *s)
{
    if (!s->hp_ctx) s->hp_ctx = EVP_CIPHER_CTX_new();
    if (!s->aead_ctx) s->aead_ctx = EVP_CIPHER_CTX_new();
    return s->hp_ctx && s->aead_ctx;
}

static void quic_ctx_free(struct quic_state *s)
{
    EVP_CIPHER_CTX_free(s->hp_ctx);
    EVP_CIPHER_CTX_free(s->aead_ctx);
    s->hp_ctx = s->aead_ctx = NULL;
}

/* Remove header protection and decrypt one Initial packet. `hdr` is the header up to the
 * packet number, `body` the packet number, payload and tag. On success the plaintext is
 * in quic_plain[0..*plen) and *pn the full packet number. O(packet length). */
static bool quic_open(struct quic_state *s, const struct quic_keys *k, uint64_t expected,
                      struct vk_cur hdr, struct vk_cur body, size_t *plen, uint64_t *pn, bool lenient)
{
    uint8_t b0, mask[16], pnb[4];
    struct vk_cur samp = body, rest = body, hrest = hdr;
    int outl = 0, fl = 0;
    if (!quic_ctx_ready(s) || !vk_cur_u8(&hrest, &b0) || !vk_cur_skip(&samp, 4) ||
        vk_cur_left(&samp) < 16)
        return false;
    if (EVP_EncryptInit_ex(s->hp_ctx, EVP_aes_128_ecb(), NULL, k->hp, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(s->hp_ctx, 0) != 1 ||
        EVP_EncryptUpdate(s->hp_ctx, mask, &outl, samp.p, 16) != 1 || outl != 16)
        return false;
    b0 ^= mask[0] & 0x0f;
    unsigned pnl = (b0 & 3u) + 1;
    uint64_t tpn = 0;
    for (unsigned i = 0; i < pnl; i++) {
        uint8_t x;
        if (!vk_cur_u8(&rest, &x)) return false;
        pnb[i] = x ^ mask[1 + i];
        tpn = tpn << 8 | pnb[i];
    }
    if (vk_cur_left(&rest) < 16 + 1) return false;
    size_t ctlen = vk_cur_left(&rest) - 16;
    struct vk_cur ct = {0}, tag = {0};
    vk_cur_take(&rest, ctlen, &ct);
    vk_cur_take(&rest, 16, &tag);
    *pn = quic_pn_decode(expected, tpn, 8 * pnl);

    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(*pn >> (8 * i));

    EVP_CIPHER_CTX *a = s->aead_ctx;
    if (EVP_DecryptInit_ex(a, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(a, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
        EVP_DecryptInit_ex(a, NULL, NULL, k->key, nonce) != 1)
        return false;
    /* AAD: the header with its first byte and packet number unprotected. */
    if (EVP_DecryptUpdate(a, NULL, &outl, &b0, 1) != 1) return false;
    if (vk_cur_left(&hrest) &&
        EVP_DecryptUpdate(a, NULL, &outl, hrest.p, (int)vk_cur_left(&hrest)) != 1)
        return false;
    if (EVP_DecryptUpdate(a, NULL, &outl, pnb, (int)pnl) != 1) return false;
    if (EVP_DecryptUpdate(a, quic_plain, &outl, ct.p, (int)ctlen) != 1 ||
        EVP_CIPHER_CTX_ctrl(a, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag.p) != 1)
        return false;
    if (EVP_DecryptFinal_ex(a, quic_plain + outl, &fl) != 1) {
        /* A failed tag: the bytes are still the keystream's plaintext. Lenient callers
         * (the last resort, as maltrail and nDPI read such packets) take them. */
        if (!lenient) return false;
        fl = 0;
    }
    *plen = (size_t)outl + (size_t)fl;
    return true;
}

/* ---- the ClientHello's transport parameters -------------------------------------------- */

/* Chrome sends its user agent as transport parameter google_user_agent (0x3129). Walks
 * the ClientHello's extensions to find quic_transport_parameters. O(message length). */
static void quic_tp_user_agent(struct vk_pctx *c, const uint8_t *msg, size_t n, uint32_t version)
{
    struct vk_cur m = vk_cur_make(msg, n), exts;
    uint8_t type, l8;
    uint16_t l16;
    uint32_t len;
    if (!vk_cur_u8(&m, &type) || type != 1 || !vk_cur_u24be(&m, &len) || !vk_cur_skip(&m, 2 + 32) ||
        !vk_cur_u8(&m, &l8) || !vk_cur_skip(&m, l8) || !vk_cur_u16be(&m, &l16) ||
        !vk_cur_skip(&m, l16) || !vk_cur_u8(&m, &l8) || !vk_cur_skip(&m, l8) ||
        !vk_cur_u16be(&m, &l16) || !vk_cur_take(&m, l16, &exts))
        return;
    /* Transport parameters use varints from draft-28 on (T051 too); earlier, u16s. */
    bool varints = !((version >> 8) == 0xff0000u && (version & 0xff) <= 27) &&
                   version != QV_MVFST_22 && version != QV_MVFST_27 && version != QV_T050;
    while (vk_cur_left(&exts) >= 4) {
        uint16_t et, el;
        struct vk_cur ed;
        if (!vk_cur_u16be(&exts, &et) || !vk_cur_u16be(&exts, &el) || !vk_cur_take(&exts, el, &ed))
            return;
        if (et != 0x39 && et != 0xffa5 && et != 0x26) continue;
        if (!varints && !vk_cur_u16be(&ed, &l16)) return;
        while (vk_cur_left(&ed)) {
            uint64_t id, pl;
            struct vk_cur v;
            if (varints) {
                if (!quic_varint(&ed, &id) || !quic_varint(&ed, &pl)) return;
            } else {
                uint16_t a, b;
                if (!vk_cur_u16be(&ed, &a) || !vk_cur_u16be(&ed, &b)) return;
                id = a;
                pl = b;
            }
            if (!vk_cur_take(&ed, pl, &v)) return;
            if (id == 0x3129 && vk_cur_left(&v))
                vk_meta_add_str(c->meta, VK_K_QUIC_USER_AGENT, (const char *)v.p, vk_cur_left(&v));
        }
        return;
    }
}

/* ---- Google QUIC handshake messages ---------------------------------------------------- */

/* A gQUIC handshake message (CHLO, REJ, SHLO...): tag, u16le count, 2 bytes padding,
 * count x (tag, u32le end offset), then the values. A partial message (cut at the end of
 * a packet) yields the values that fit. Returns 1 for a CHLO, 0 for another valid
 * message, -1 when this is not a handshake message. O(message length). */
static int quic_gq_message(struct vk_pctx *c, struct vk_cur m)
{
    uint8_t tag[4];
    uint16_t ntags = 0, pad = 0;
    struct vk_cur idx;
    if (vk_cur_left(&m) < 8) return -1;
    memcpy(tag, m.p, 4);
    vk_cur_skip(&m, 4);
    vk_cur_u16le(&m, &ntags);
    vk_cur_u16le(&m, &pad);
    bool chlo = memcmp(tag, "CHLO", 4) == 0;
    if (!chlo && memcmp(tag, "REJ\0", 4) != 0 && memcmp(tag, "SHLO", 4) != 0 &&
        memcmp(tag, "SREJ", 4) != 0)
        return -1;
    if (ntags == 0 || ntags > QUIC_GQ_MAX_TAGS || !vk_cur_take(&m, 8u * ntags, &idx)) return -1;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "quic");
    uint32_t prev = 0;
    for (unsigned i = 0; i < ntags; i++) {
        uint8_t t[4];
        uint32_t end = 0;
        struct vk_cur v;
        memcpy(t, idx.p, 4);
        vk_cur_skip(&idx, 4);
        vk_cur_u32le(&idx, &end);
        if (end < prev) {
            quic_anomaly(c, "quic.bad_chlo");
            break;
        }
        if (!vk_cur_take(&m, end - prev, &v)) break; /* the rest lies beyond this packet */
        prev = end;
        const char *val = (const char *)v.p;
        size_t vl = vk_cur_left(&v);
        if (!chlo || vl == 0) continue;
        if (memcmp(t, "SNI\0", 4) == 0) {
            vk_meta_add_lower(c->meta, VK_K_QUIC_SNI, val, vl);
            vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, val, vl);
        } else if (memcmp(t, "UAID", 4) == 0) {
            vk_meta_add_str(c->meta, VK_K_QUIC_USER_AGENT, val, vl);
        } else if (memcmp(t, "VER\0", 4) == 0) {
            vk_meta_add_str(c->meta, VK_K_QUIC_VERSION, val, vl);
        }
    }
    return chlo ? 1 : 0;
}

/* Find a handshake message anywhere in cleartext (frames we do not walk, e.g. ACKs,
 * come first). Tag validation keeps false hits out. O(bytes). */
static int quic_gq_scan(struct vk_pctx *c, struct vk_cur m)
{
    static const char *const tags[] = {"CHLO", "REJ", "SHLO"};
    for (unsigned t = 0; t < 3; t++) {
        struct vk_cur s = m;
        while (vk_cur_left(&s) >= 8) {
            const uint8_t *hit = memmem(s.p, vk_cur_left(&s), tags[t], 4);
            if (!hit) break;
            vk_cur_skip(&s, (size_t)(hit - s.p));
            int r = quic_gq_message(c, s);
            if (r >= 0) return r;
            vk_cur_skip(&s, 1);
        }
    }
    return -1;
}

/* gQUIC frames of a cleartext packet: STREAM frames on stream 1 carry the handshake.
 * gver >= 39 writes integers big-endian, older versions little-endian. Returns the
 * quic_gq_message() result, or -1 when no handshake frame was found. */
static int quic_gq_frames(struct vk_pctx *c, struct vk_cur f, int gver, unsigned pnl)
{
    bool be = gver >= 39;
    while (vk_cur_left(&f)) {
        uint8_t type;
        vk_cur_u8(&f, &type);
        if (type & 0x80) { /* STREAM: 1fdooossB */
            unsigned sidl = (type & 3u) + 1, offc = (type >> 2) & 7u, offl = offc ? offc + 1 : 0;
            uint64_t sid, off, dl = 0;
            struct vk_cur d;
            if (!quic_uint_n(&f, sidl, be, &sid) || !quic_uint_n(&f, offl, be, &off)) return -1;
            if (type & 0x20) {
                if (!quic_uint_n(&f, 2, be, &dl)) return -1;
                if (dl > vk_cur_left(&f)) dl = vk_cur_left(&f); /* continues elsewhere */
            } else {
                dl = vk_cur_left(&f);
            }
            vk_cur_take(&f, dl, &d);
            if (sid == 1) return quic_gq_message(c, d);
        } else if (type == 0x00) { /* PADDING: the rest of the packet */
            return -1;
        } else if (type == 0x07) { /* PING */
        } else if (type == 0x06) { /* STOP_WAITING: least unacked delta */
            if (!vk_cur_skip(&f, pnl)) return -1;
        } else {
            return -1; /* ACK and others: let the caller scan */
        }
    }
    return -1;
}

/* Legacy public header (Q024-Q045), or a packet of a gQUIC session without a version.
 * Flags: 0x01 version, 0x02 reset, 0x04 nonce (server), 0x08 8-byte CID, 0x30 PN size. */
static void quic_gq_public(struct quic_state *s, struct vk_pctx *c, const uint8_t *p, size_t n)
{
    struct vk_cur h = vk_cur_make(p, n);
    uint8_t flags = 0;
    uint32_t version = 0;
    vk_cur_u8(&h, &flags);
    if (flags & 0x02) return; /* public reset */
    if ((flags & 0x08) && !vk_cur_skip(&h, 8)) return;
    if (flags & 0x01) {
        if (!vk_cur_u32be(&h, &version) || quic_family(version) != QF_GQ_LEGACY) return;
        s->gq_version = version;
        quic_add_version(c, version);
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "quic"); /* Arkime: any Q02x-Q04x header */
    }
    if (s->chlo_seen || s->datagrams > 8) return;
    int r = -1;
    if (version) { /* a client packet: the layout is known */
        static const unsigned pnls[4] = {1, 2, 4, 6};
        unsigned pnl = pnls[(flags >> 4) & 3];
        int g = quic_gquic_num(version);
        struct vk_cur f = h;
        if (vk_cur_skip(&f, pnl + 12 + (g < 34 ? 1u : 0u))) r = quic_gq_frames(c, f, g, pnl);
    }
    if (r < 0) r = quic_gq_scan(c, h);
    if (r == 1) s->chlo_seen = true;
}

/* Q046-Q049: long header, CID lengths as two nibbles (n ? n + 3 : 0), cleartext payload
 * after a 12-byte hash. */
static void quic_gq_46(struct quic_state *s, struct vk_pctx *c, struct vk_cur h, uint8_t b0,
                       uint32_t version)
{
    uint8_t cil;
    if (!vk_cur_u8(&h, &cil)) return;
    unsigned dl = cil >> 4, sl = cil & 15u;
    if (!vk_cur_skip(&h, (dl ? dl + 3 : 0) + (sl ? sl + 3 : 0))) return;
    if (((b0 >> 4) & 3) != QT_INITIAL || s->chlo_seen) return;
    unsigned pnl = (b0 & 3u) + 1;
    if (!vk_cur_skip(&h, pnl + 12)) return;
    int r = quic_gq_frames(c, h, quic_gquic_num(version), pnl);
    if (r < 0) r = quic_gq_scan(c, h);
    if (r == 1) s->chlo_seen = true;
}

/* ---- CRYPTO stream reassembly ---------------------------------------------------------- */

/* Length of the complete message at the head of a stream, 0 while unknown. */
static size_t quic_msg_len(const uint8_t *p, size_t have, bool tls)
{
    struct vk_cur m = vk_cur_make(p, have);
    uint16_t ntags;
    uint32_t end;
    if (tls) /* type, u24 length, body */
        return vk_cur_skip(&m, 1) && vk_cur_u24be(&m, &end) ? 4 + (size_t)end : 0;
    /* gQUIC: 8 + 8 x tags + the last tag's end offset */
    if (!vk_cur_skip(&m, 4) || !vk_cur_u16le(&m, &ntags) || !vk_cur_skip(&m, 2)) return 0;
    if (ntags == 0) return 8;
    if (!vk_cur_skip(&m, 8u * (ntags - 1) + 4) || !vk_cur_u32le(&m, &end)) return 0;
    return 8 + 8u * ntags + end;
}

static void quic_stream_free(struct quic_stream *q)
{
    vk_buf_free(&q->buf);
    q->n = 0;
}

/* A whole handshake message of direction dir. */
static void quic_deliver(struct quic_state *s, struct vk_pctx *c, int dir, uint32_t version,
                         const uint8_t *msg, size_t n)
{
    struct quic_stream *q = &s->crypto[dir];
    q->done = true;
    if (version == QV_Q050) { /* a CHLO, not TLS */
        if (quic_gq_message(c, vk_cur_make(msg, n)) == 1) s->chlo_seen = true;
        return;
    }
    bool client = dir == s->cdir;
    vk_tls_handshake(c->meta, msg, n, client, true);
    if (client) quic_tp_user_agent(c, msg, n, version);
}

/* Record CRYPTO bytes [off, off+len) of direction dir; hand the message over once the
 * head of the stream holds all of it. O(len + QUIC_RANGES); the buffer is allocated
 * once, on the first fragment that is not a whole message by itself. */
static void quic_crypto(struct quic_state *s, struct vk_pctx *c, int dir, uint32_t version,
                        uint64_t off, struct vk_cur data)
{
    struct quic_stream *q = &s->crypto[dir];
    bool tls = version != QV_Q050;
    size_t len = vk_cur_left(&data);
    if (q->done || len == 0) return;
    if (off == 0 && q->n == 0) { /* fast path: the whole message in one frame */
        size_t need = quic_msg_len(data.p, len, tls);
        if (need && need <= len) {
            quic_deliver(s, c, dir, version, data.p, need);
            return;
        }
    }
    if (off >= QUIC_CRYPTO_MAX || len > QUIC_CRYPTO_MAX - off) {
        quic_anomaly(c, "quic.crypto_too_long");
        q->done = true;
        quic_stream_free(q);
        return;
    }
    uint32_t lo = (uint32_t)off, hi = (uint32_t)(off + len);
    if (q->buf.max == 0) vk_buf_init(&q->buf, QUIC_CRYPTO_MAX);
    static const uint8_t zeros[512];
    while (q->buf.len < hi) {
        size_t k = hi - q->buf.len < sizeof zeros ? hi - q->buf.len : sizeof zeros;
        if (vk_buf_append(&q->buf, zeros, k) != 0) {
            quic_anomaly(c, "quic.crypto_too_long");
            q->done = true;
            quic_stream_free(q);
            return;
        }
    }
    memcpy(q->buf.p + lo, data.p, len);
    /* merge [lo, hi) into the sorted, disjoint range list */
    unsigned i = 0, j;
    while (i < q->n && q->hi[i] < lo) i++;
    j = i;
    while (j < q->n && q->lo[j] <= hi) {
        if (q->lo[j] < lo) lo = q->lo[j];
        if (q->hi[j] > hi) hi = q->hi[j];
        j++;
    }
    if (i == j && q->n == QUIC_RANGES) {
        quic_anomaly(c, "quic.crypto_fragmented");
        q->done = true;
        quic_stream_free(q);
        return;
    }
    unsigned nn = q->n - (j - i) + 1;
    memmove(&q->lo[i + 1], &q->lo[j], (q->n - j) * sizeof q->lo[0]);
    memmove(&q->hi[i + 1], &q->hi[j], (q->n - j) * sizeof q->hi[0]);
    q->lo[i] = lo;
    q->hi[i] = hi;
    q->n = (uint8_t)nn;
    if (q->lo[0] != 0) return;
    size_t need = quic_msg_len(q->buf.p, q->hi[0], tls);
    if (need > QUIC_CRYPTO_MAX) {
        quic_anomaly(c, "quic.crypto_too_long");
        q->done = true;
        quic_stream_free(q);
        return;
    }
    if (need && need <= q->hi[0]) {
        quic_deliver(s, c, dir, version, q->buf.p, need);
        quic_stream_free(q);
    }
}

/* ---- Initial packets -------------------------------------------------------------------- */

/* Frames of a decrypted Initial. IETF frame types, or gQUIC's for Q050/T05x (CRYPTO is
 * 0x08 there). O(plaintext length). */
static void quic_frames(struct quic_state *s, struct vk_pctx *c, int dir, uint32_t version,
                        struct vk_cur f)
{
    bool gq = quic_family(version) == QF_GQ_5X;
    while (vk_cur_left(&f)) {
        uint64_t type, a, b, cnt, off, len;
        uint8_t z;
        struct vk_cur d;
        if (!quic_varint(&f, &type)) goto bad;
        if (gq) {
            if (type == 0x00 || type == 0x07) continue; /* PADDING, PING */
            if (type != 0x08) return;                   /* ACKs and the like: done */
            if (!quic_varint(&f, &off) || !quic_varint(&f, &len) || !vk_cur_take(&f, len, &d))
                goto bad;
            quic_crypto(s, c, dir, version, off, d);
            continue;
        }
        switch (type) {
        case 0x00: /* PADDING */
            for (struct vk_cur t = f; vk_cur_u8(&t, &z) && z == 0;) f = t;
            break;
        case 0x01: /* PING */
            break;
        case 0x02:
        case 0x03: /* ACK: largest, delay, range count, first range, ranges, [ECN] */
            if (!quic_varint(&f, &a) || !quic_varint(&f, &b) || !quic_varint(&f, &cnt) ||
                !quic_varint(&f, &a))
                goto bad;
            if (cnt > vk_cur_left(&f)) goto bad;
            for (uint64_t i = 0; i < cnt; i++)
                if (!quic_varint(&f, &a) || !quic_varint(&f, &b)) goto bad;
            if (type == 0x03)
                for (int i = 0; i < 3; i++)
                    if (!quic_varint(&f, &a)) goto bad;
            break;
        case 0x06: /* CRYPTO */
            if (!quic_varint(&f, &off) || !quic_varint(&f, &len) || !vk_cur_take(&f, len, &d))
                goto bad;
            quic_crypto(s, c, dir, version, off, d);
            break;
        case 0x1c:
        case 0x1d: /* CONNECTION_CLOSE */
            if (!quic_varint(&f, &a) || (type == 0x1c && !quic_varint(&f, &b)) ||
                !quic_varint(&f, &len) || !vk_cur_skip(&f, len))
                goto bad;
            break;
        default:
            goto bad;
        }
    }
    return;
bad:
    quic_anomaly(c, "quic.bad_frame");
}

static bool quic_keys_for(struct quic_keys *k, uint32_t version, const uint8_t *cid, size_t cl,
                          bool client)
{
    if (k->ok && k->version == version) return true;
    return quic_derive_keys(version, cid, cl, client, k);
}

/* One Initial packet: hdr is the header up to the packet number, body the rest. */
static void quic_initial(struct quic_state *s, struct vk_pctx *c, int dir, uint32_t version,
                         struct vk_cur dcid, struct vk_cur hdr, struct vk_cur body)
{
    struct quic_stream *q = &s->crypto[dir];
    size_t plen = 0;
    uint64_t pn = 0;
    bool ok = false;
    if (q->done || !quic_salt(version)) return;
    if (s->cdir < 0 || s->cdir == dir) {
        /* Client side: the stored keys, else keys from this packet's DCID (the first
         * Initial, or the one that follows a Retry). */
        if (s->cdir == dir && s->odcid_len &&
            quic_keys_for(&s->keys[dir], version, s->odcid, s->odcid_len, true))
            ok = quic_open(s, &s->keys[dir], q->next_pn, hdr, body, &plen, &pn, false);
        if (!ok && vk_cur_left(&dcid) >= 1) {
            struct quic_keys k;
            if (quic_derive_keys(version, dcid.p, vk_cur_left(&dcid), true, &k) &&
                quic_open(s, &k, q->next_pn, hdr, body, &plen, &pn, false)) {
                ok = true;
                s->cdir = (int8_t)dir;
                s->odcid_len = (uint8_t)vk_cur_left(&dcid);
                memcpy(s->odcid, dcid.p, s->odcid_len);
                s->keys[dir] = k;
                s->keys[!dir].ok = false;
            }
        }
        if (!ok && dir == VK_DIR_SRC && s->cdir < 0 && vk_cur_left(&dcid) >= 1) {
            /* Last resort for a first client Initial whose tag does not verify (a damaged
             * or rewritten packet): keep its plaintext if it starts like Initial frames
             * (PADDING, PING, ACK, CRYPTO), and say so. */
            struct quic_keys k;
            if (quic_derive_keys(version, dcid.p, vk_cur_left(&dcid), true, &k) &&
                quic_open(s, &k, q->next_pn, hdr, body, &plen, &pn, true) && plen &&
                (quic_plain[0] <= 0x03 || quic_plain[0] == 0x06)) {
                ok = true;
                s->cdir = (int8_t)dir;
                s->odcid_len = (uint8_t)vk_cur_left(&dcid);
                memcpy(s->odcid, dcid.p, s->odcid_len);
                s->keys[dir] = k;
                quic_anomaly(c, "quic.bad_tag");
            }
        }
        if (!ok) {
            /* A server Initial met before any client one is not a failure of ours. */
            if (s->cdir == dir || dir == VK_DIR_SRC) quic_anomaly(c, "quic.decrypt_failed");
            return;
        }
    } else {
        if (!s->odcid_len || !quic_keys_for(&s->keys[dir], version, s->odcid, s->odcid_len, false))
            return;
        if (!quic_open(s, &s->keys[dir], q->next_pn, hdr, body, &plen, &pn, false)) {
            quic_anomaly(c, "quic.decrypt_failed");
            return;
        }
    }
    if (pn + 1 > q->next_pn) q->next_pn = pn + 1;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "quic");
    quic_frames(s, c, dir, version, vk_cur_make(quic_plain, plen));
}

/* The long-header packets of one datagram, coalesced ones included (RFC 9000 §12.2). */
static void quic_long(struct quic_state *s, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct vk_cur dg = vk_cur_make(p, n);
    while (vk_cur_left(&dg) >= 7) {
        struct vk_cur pkt = dg, h = dg, dcid, scid;
        uint8_t b0 = 0, dl, sl;
        uint32_t version = 0;
        vk_cur_u8(&h, &b0);
        if (!(b0 & 0x80)) return; /* short header or padding: the rest of the datagram */
        vk_cur_u32be(&h, &version);
        enum quic_fam fam = quic_family(version);
        if (version == 0) return; /* Version Negotiation: nothing for us */
        if (fam == QF_GQ_46) {
            quic_add_version(c, version);
            s->gq_version = version;
            quic_gq_46(s, c, h, b0, version);
            return;
        }
        if (fam == QF_NONE || fam == QF_GQ_LEGACY) return; /* grease or unknown: opaque */
        if (!vk_cur_u8(&h, &dl) || dl > QUIC_MAX_CID || !vk_cur_take(&h, dl, &dcid) ||
            !vk_cur_u8(&h, &sl) || sl > QUIC_MAX_CID || !vk_cur_take(&h, sl, &scid)) {
            quic_anomaly(c, "quic.bad_header");
            return;
        }
        quic_add_version(c, version);
        int type = quic_long_type(version, b0);
        if (type == QT_RETRY) {
            /* The client's next Initials go to the Retry's SCID, and both sides' Initial
             * keys now come from it (RFC 9001 §5.2). */
            if (s->cdir >= 0 && dir != s->cdir && vk_cur_left(&scid)) {
                s->odcid_len = (uint8_t)vk_cur_left(&scid);
                memcpy(s->odcid, scid.p, s->odcid_len);
                s->keys[0].ok = s->keys[1].ok = false;
            }
            return;
        }
        uint64_t tl = 0, len;
        if (type == QT_INITIAL && (!quic_varint(&h, &tl) || !vk_cur_skip(&h, tl))) {
            quic_anomaly(c, "quic.truncated");
            return;
        }
        if (!quic_varint(&h, &len) || len > vk_cur_left(&h)) {
            quic_anomaly(c, "quic.truncated");
            return;
        }
        size_t hlen = vk_cur_left(&pkt) - vk_cur_left(&h);
        struct vk_cur hdr, body;
        vk_cur_take(&dg, hlen, &hdr);
        vk_cur_take(&dg, len, &body);
        if (type == QT_INITIAL) quic_initial(s, c, dir, version, dcid, hdr, body);
    }
}

/* ---- the parser ------------------------------------------------------------------------ */

static void quic_release(void *st)
{
    struct quic_state *s = st;
    quic_ctx_free(s);
    quic_stream_free(&s->crypto[0]);
    quic_stream_free(&s->crypto[1]);
}

static void quic_init(void *st, struct vk_pctx *c)
{
    struct quic_state *s = st;
    memset(s, 0, sizeof *s);
    s->cdir = -1;
}

/* Nothing more to learn: free what the handshake needed and stop the data. */
static void quic_stop(struct quic_state *s, struct vk_pctx *c)
{
    quic_release(s);
    s->finished = true;
    c->done = true;
}

/* Cost: O(datagram) plus, per Initial packet, one AES block and one AES-GCM pass. */
static void quic_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct quic_state *s = st;
    if (s->finished || n == 0 || (dir != VK_DIR_SRC && dir != VK_DIR_DST)) return;
    if (++s->datagrams > QUIC_MAX_DATAGRAMS) {
        quic_stop(s, c);
        return;
    }
    if (p[0] & 0x80) quic_long(s, c, dir, p, n);
    else if (!(p[0] & 0x40) || s->gq_version) quic_gq_public(s, c, p, n);
    /* IETF short headers (0x40 set) are opaque. */
    if (s->chlo_seen || (s->cdir >= 0 && s->crypto[0].done && s->crypto[1].done))
        quic_stop(s, c);
}

static void quic_gap(void *st, struct vk_pctx *c, int dir, size_t n) {}

static void quic_finish(void *st, struct vk_pctx *c)
{
    struct quic_state *s = st;
    if (s->cdir >= 0 && !s->crypto[s->cdir].done && s->crypto[s->cdir].n)
        quic_anomaly(c, "quic.hello_incomplete");
    quic_release(s);
}

/* 3: a long header with a known version, or a gQUIC public header with one (any port).
 * 2: UDP 443 and a plausible QUIC first byte. 1: UDP 443. */
static int quic_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    bool p443 = f && (f->port[0] == 443 || f->port[1] == 443);
    struct vk_cur h = vk_cur_make(p, n);
    uint8_t b0, dl = 0, sl = 0;
    uint32_t v;
    if (!vk_cur_u8(&h, &b0)) return 0;
    if (b0 & 0x80) {
        if (!vk_cur_u32be(&h, &v)) return p443 ? 1 : 0;
        enum quic_fam fam = quic_family(v);
        if (fam == QF_GQ_46) return 3;
        bool cids = vk_cur_u8(&h, &dl) && dl <= QUIC_MAX_CID && vk_cur_skip(&h, dl) &&
                    vk_cur_u8(&h, &sl) && sl <= QUIC_MAX_CID && vk_cur_skip(&h, sl);
        if (fam == QF_IETF || fam == QF_GQ_5X) return cids ? 3 : (p443 ? 2 : 0);
        if (v == 0 && cids && vk_cur_left(&h) >= 4 && vk_cur_left(&h) % 4 == 0) {
            uint32_t w;
            while (vk_cur_u32be(&h, &w))
                if (quic_family(w) != QF_NONE) return 3;
        }
        /* forcing Version Negotiation: a greased version in a padded Initial */
        if (quic_is_grease(v) && cids && (b0 & 0x40) && n >= 1200) return 3;
        return p443 && (b0 & 0x40) ? 2 : (p443 ? 1 : 0);
    }
    if ((b0 & 0x01) && !(b0 & 0x02)) { /* gQUIC public header with a version */
        struct vk_cur g = h;
        if ((b0 & 0x08) && !vk_cur_skip(&g, 8)) return p443 ? 1 : 0;
        if (vk_cur_u32be(&g, &v) && quic_family(v) == QF_GQ_LEGACY) return 3;
    }
    if (!p443) return 0;
    if (b0 & (0x40 | 0x08)) return 2; /* IETF fixed bit, or a gQUIC connection ID */
    return 1;
}

const struct vk_parser vk_proto_quic = {
    .name = "quic",
    .ipproto = 17,
    .probe = quic_probe,
    .state_size = sizeof(struct quic_state),
    .init = quic_init,
    .data = quic_data,
    .gap = quic_gap,
    .finish = quic_finish,
    .release = quic_release,
};

/* ---- fbzero over TCP ---------------------------------------------------------------------
 * "1QTV" + a version byte, u16le length, two bytes, then a CHLO of that length. Not in
 * proto.c's list yet: the lead wires it in (vk_proto.h, proto.c). */

struct fbzero_state {
    struct vk_buf buf;
    bool done;
};

static int fbzero_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    return dir == VK_DIR_SRC && n >= 9 && memcmp(p, "1QTV", 4) == 0 ? 3 : 0;
}

static void fbzero_init(void *st, struct vk_pctx *c)
{
    struct fbzero_state *s = st;
    memset(s, 0, sizeof *s);
    vk_buf_init(&s->buf, FBZERO_MAX);
}

static void fbzero_release(void *st)
{
    struct fbzero_state *s = st;
    vk_buf_free(&s->buf);
}

/* O(n); buffers at most FBZERO_MAX bytes of the client's first message. */
static void fbzero_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct fbzero_state *s = st;
    if (s->done || dir != VK_DIR_SRC) return;
    size_t room = FBZERO_MAX - s->buf.len;
    bool full = n >= room;
    if (vk_buf_append(&s->buf, p, full ? room : n) != 0) full = true;
    struct vk_cur m = vk_cur_make(s->buf.p, s->buf.len), msg;
    uint16_t len;
    if (!vk_cur_skip(&m, 5) || !vk_cur_u16le(&m, &len) || !vk_cur_skip(&m, 2)) return;
    if (!vk_cur_take(&m, len, &msg)) {
        if (!full) return;
        msg = m; /* parse what fits */
    }
    if (memcmp(s->buf.p, "1QTV", 4) == 0 && quic_gq_message(c, msg) == 1)
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "fbzero");
    else
        quic_anomaly(c, "fbzero.bad_chlo");
    s->done = true;
    c->done = true;
    vk_buf_free(&s->buf);
}

static void fbzero_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct fbzero_state *s = st;
    if (dir == VK_DIR_SRC && !s->done) {
        s->done = true;
        vk_buf_free(&s->buf);
    }
}

static void fbzero_finish(void *st, struct vk_pctx *c) { fbzero_release(st); }

const struct vk_parser vk_proto_fbzero = {
    .name = "fbzero",
    .ipproto = 6,
    .probe = fbzero_probe,
    .state_size = sizeof(struct fbzero_state),
    .init = fbzero_init,
    .data = fbzero_data,
    .gap = fbzero_gap,
    .finish = fbzero_finish,
    .release = fbzero_release,
};
