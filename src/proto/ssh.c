/* ssh.c — the SSH parser: banners and the cleartext key exchange.
 *
 * Each side first sends a banner line "SSH-protoversion-softwareversion comments"
 * (RFC 4253 4.2; a server may send other lines before it). The banner, lower-cased and
 * without CR LF as Arkime stores it, becomes ssh.version. SSH-2 sides then speak the
 * binary packet protocol in clear until NEWKEYS: we read packet headers, skip what we do
 * not need, and collect the KEXINIT packet of each side to compute HASSH (client) and
 * HASSH-server: the MD5 of "kex;enc;mac;cmp" with the lists of that side's sending
 * direction. After NEWKEYS a side is done; when both are, the parser asks for no more
 * data. When one side says SSH-1.x (other than 1.99) the pair speaks SSH-1, which we do
 * not read past the banners.
 *
 * Memory: a 256-byte banner buffer per side and one bounded vk_buf for a KEXINIT; other
 * packets are skipped without copying. */
#include <openssl/evp.h>

#include "vk_proto.h"

#define SSH_BANNER_MAX 255          /* RFC 4253: including CR LF */
#define SSH_PRE_LINES 32            /* lines a server may send before its banner */
#define SSH_PKT_MAX (256u * 1024u)  /* larger lengths mean we lost the framing */
#define SSH_KEXINIT_MAX 65536u

enum { S_BANNER, S_HDR, S_KEXINIT, S_SKIP, S_DONE };
enum { SSH_MSG_KEXINIT = 20, SSH_MSG_NEWKEYS = 21 };

struct ssh_side {
    uint8_t state;
    uint8_t nlines;        /* lines seen before the banner */
    bool ldrop;            /* skipping the rest of an over-long pre-banner line */
    uint16_t blen;
    uint8_t banner[SSH_BANNER_MAX + 1];
    uint8_t hdr[6];        /* packet_length (4), padding_length, message code */
    uint8_t hlen;
    uint32_t need;         /* bytes left to skip or to collect */
    struct vk_buf pkt;     /* the KEXINIT being collected */
};

struct ssh_state {
    struct ssh_side side[2];
    bool service;
    bool v1;               /* a side announced SSH-1 (not 1.99): both speak SSH-1 */
};

/* ---- KEXINIT and HASSH ------------------------------------------------------------- */

static bool name_list(struct vk_cur *c, struct vk_cur *out)
{
    uint32_t n;
    return vk_cur_u32be(c, &n) && vk_cur_take(c, n, out);
}

/* body: the KEXINIT payload after the message code (cookie first), padding included.
 * O(size of the lists); one digest context per call. */
static void ssh_kexinit(struct vk_pctx *c, int dir, const uint8_t *body, size_t n, uint8_t padlen)
{
    /* the payload ends padlen bytes before the end; ignore an impossible padlen */
    struct vk_cur cur = vk_cur_make(body, padlen < n ? n - padlen : n), l[10];
    if (!vk_cur_skip(&cur, 16)) goto bad;
    for (int i = 0; i < 10; i++)
        if (!name_list(&cur, &l[i])) goto bad;
    /* kex; enc, mac and compression for this side's sending direction */
    int pick[4] = {0, dir ? 3 : 2, dir ? 5 : 4, dir ? 7 : 6};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (!md || !EVP_DigestInit_ex(md, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(md);
        return;
    }
    for (int i = 0; i < 4; i++) {
        if (i) EVP_DigestUpdate(md, ";", 1);
        EVP_DigestUpdate(md, l[pick[i]].p, vk_cur_left(&l[pick[i]]));
    }
    if (EVP_DigestFinal_ex(md, d, &dl) && dl == 16) {
        char hex[33];
        vk_hex(d, 16, hex);
        vk_meta_add_str(c->meta, dir ? VK_K_SSH_HASSH_SERVER : VK_K_SSH_HASSH, hex, 32);
    }
    EVP_MD_CTX_free(md);
    return;
bad:
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.truncated_kexinit");
}

/* ---- per-side stream --------------------------------------------------------------- */

static void side_done(struct ssh_state *s, struct vk_pctx *c, struct ssh_side *sd)
{
    sd->state = S_DONE;
    sd->pkt.len = 0;
    if (s->side[0].state == S_DONE && s->side[1].state == S_DONE) c->done = true;
}

/* A complete line before the binary protocol. */
static void banner_line(struct ssh_state *s, struct vk_pctx *c, struct ssh_side *sd)
{
    size_t n = sd->blen;
    const uint8_t *l = sd->banner;
    sd->blen = 0;
    if (n && l[n - 1] == '\r') n--;
    if (n < 4 || memcmp(l, "SSH-", 4) != 0) {
        if (++sd->nlines > SSH_PRE_LINES) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.no_banner");
            side_done(s, c, sd);
        }
        return;
    }
    if (!s->service) {
        s->service = true;
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "ssh");
    }
    vk_meta_add_lower(c->meta, VK_K_SSH_VERSION, (const char *)l, n);
    /* SSH-1.x other than 1.99 speaks the old protocol, which we do not read; a 1.99 peer
     * then falls back to it too */
    if (n >= 6 && l[4] == '1' && l[5] == '.' && !(n >= 8 && l[6] == '9' && l[7] == '9')) s->v1 = true;
    if (s->v1) {
        side_done(s, c, sd);
        struct ssh_side *o = sd == &s->side[0] ? &s->side[1] : &s->side[0];
        if (o->state != S_BANNER && o->state != S_DONE) side_done(s, c, o);
    } else {
        sd->state = S_HDR;
    }
}

/* Banner bytes; returns the bytes consumed. */
static size_t banner_feed(struct ssh_state *s, struct vk_pctx *c, struct ssh_side *sd, struct vk_cur *cur)
{
    size_t left = vk_cur_left(cur);
    const uint8_t *nl = memchr(cur->p, '\n', left);
    size_t take = nl ? (size_t)(nl - cur->p) + 1 : left;
    size_t body = nl ? take - 1 : take;
    if (sd->ldrop) {
        if (nl) sd->ldrop = false;
        return take;
    }
    if (body > (size_t)SSH_BANNER_MAX - sd->blen) {
        uint8_t pre[4];
        size_t pn = 0;
        for (size_t i = 0; i < sd->blen && pn < 4; i++) pre[pn++] = sd->banner[i];
        for (size_t i = 0; i < left && pn < 4; i++) pre[pn++] = cur->p[i];
        bool is_banner = pn == 4 && !memcmp(pre, "SSH-", 4);
        if (is_banner) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.banner_too_long");
            side_done(s, c, sd);
            return left;
        }
        sd->blen = 0;
        sd->ldrop = !nl;
        if (++sd->nlines > SSH_PRE_LINES) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.no_banner");
            side_done(s, c, sd);
        }
        return take;
    }
    memcpy(sd->banner + sd->blen, cur->p, body);
    sd->blen = (uint16_t)(sd->blen + body);
    if (nl) banner_line(s, c, sd);
    return take;
}

/* Binary packet bytes; returns the bytes consumed. O(bytes); copies only KEXINIT. */
static size_t packet_feed(struct ssh_state *s, struct vk_pctx *c, struct ssh_side *sd, int dir,
                          struct vk_cur *cur)
{
    size_t left = vk_cur_left(cur);
    if (s->v1) {
        side_done(s, c, sd);
        return left;
    }
    if (sd->state == S_HDR) {
        size_t k = sizeof sd->hdr - sd->hlen;
        if (k > left) k = left;
        memcpy(sd->hdr + sd->hlen, cur->p, k);
        sd->hlen = (uint8_t)(sd->hlen + k);
        if (sd->hlen < sizeof sd->hdr) return k;
        sd->hlen = 0;
        struct vk_cur h = vk_cur_make(sd->hdr, sizeof sd->hdr);
        uint32_t len = 0;
        uint8_t pad = 0, msg = 0;
        vk_cur_u32be(&h, &len);
        vk_cur_u8(&h, &pad);
        vk_cur_u8(&h, &msg);
        if (len < 2 || len > SSH_PKT_MAX) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.bad_packet_length");
            side_done(s, c, sd);
            return k;
        }
        sd->need = len - 2;
        if (msg == SSH_MSG_NEWKEYS) {
            side_done(s, c, sd); /* what follows is encrypted */
        } else if (msg == SSH_MSG_KEXINIT && sd->need <= SSH_KEXINIT_MAX) {
            sd->state = S_KEXINIT;
            sd->pkt.len = 0;
        } else {
            if (msg == SSH_MSG_KEXINIT) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.kexinit_too_long");
            sd->state = S_SKIP;
        }
        if (sd->state != S_DONE && sd->need == 0) {
            if (sd->state == S_KEXINIT) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.truncated_kexinit");
            sd->state = S_HDR;
        }
        return k;
    }
    size_t k = sd->need < left ? sd->need : left;
    if (sd->state == S_KEXINIT && vk_buf_append(&sd->pkt, cur->p, k) != 0) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.kexinit_too_long");
        sd->state = S_SKIP;
    }
    sd->need -= (uint32_t)k;
    if (sd->need == 0) {
        if (sd->state == S_KEXINIT) ssh_kexinit(c, dir, sd->pkt.p, sd->pkt.len, sd->hdr[4]);
        sd->pkt.len = 0;
        sd->state = S_HDR;
    }
    return k;
}

/* ---- parser callbacks -------------------------------------------------------------- */

static int ssh_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    if (n >= 4 && !memcmp(p, "SSH-", 4)) return 3;
    return f->port[VK_DIR_DST] == 22 || f->port[VK_DIR_SRC] == 22 ? 1 : 0;
}

static void ssh_init(void *st, struct vk_pctx *c)
{
    struct ssh_state *s = st;
    (void)c;
    vk_buf_init(&s->side[0].pkt, SSH_KEXINIT_MAX);
    vk_buf_init(&s->side[1].pkt, SSH_KEXINIT_MAX);
}

/* O(n); copies only banner lines and KEXINIT packets, never allocates after the first
 * KEXINIT of a side (bounded by SSH_KEXINIT_MAX). */
static void ssh_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct ssh_state *s = st;
    dir = dir ? 1 : 0;
    struct ssh_side *sd = &s->side[dir];
    struct vk_cur cur = vk_cur_make(p, n);
    while (vk_cur_left(&cur) && sd->state != S_DONE) {
        size_t k = sd->state == S_BANNER ? banner_feed(s, c, sd, &cur)
                                         : packet_feed(s, c, sd, dir, &cur);
        vk_cur_skip(&cur, k);
    }
}

static void ssh_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct ssh_state *s = st;
    struct ssh_side *sd = &s->side[dir ? 1 : 0];
    (void)n;
    if (sd->state == S_DONE) return;
    if (sd->state == S_BANNER) { /* resynchronise at the next line */
        sd->blen = 0;
        sd->ldrop = true;
        return;
    }
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "ssh.gap");
    side_done(s, c, sd); /* packet framing is lost */
}

static void ssh_finish(void *st, struct vk_pctx *c)
{
    (void)st;
    (void)c;
}

static void ssh_release(void *st)
{
    struct ssh_state *s = st;
    vk_buf_free(&s->side[0].pkt);
    vk_buf_free(&s->side[1].pkt);
}

const struct vk_parser vk_proto_ssh = {
    .name = "ssh",
    .ipproto = 6,
    .probe = ssh_probe,
    .state_size = sizeof(struct ssh_state),
    .init = ssh_init,
    .data = ssh_data,
    .gap = ssh_gap,
    .finish = ssh_finish,
    .release = ssh_release,
};
