/* socks.c — SOCKS4, SOCKS4a and SOCKS5 proxies: the handshake names the target and the
 * user; after the proxy's reply the tunnel carries another protocol, which the flow stage
 * re-probes (HTTP, TLS, RDP inside the proxy). Sets service "socks", alias.host for a
 * target named by host, user from SOCKS4 user ids and SOCKS5 user/password auth.
 *
 * Per direction a bounded 600-byte buffer holds a handshake message split across
 * segments; nothing else is allocated. */
#include "vk_proto.h"

enum { ST_HELLO, ST_AUTH, ST_REQUEST, ST_TUNNEL };

struct socks_state {
    uint8_t version;   /* 4 or 5 */
    uint8_t cstate, sstate;
    uint8_t method;    /* SOCKS5 method the server chose */
    uint8_t buf[2][600];
    uint16_t len[2];
};

static int socks_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    if (dir != VK_DIR_SRC || n < 3) return 0;
    if (p[0] == 4 && (p[1] == 1 || p[1] == 2) && n >= 9 && p[n - 1] == 0) return 3;
    if (p[0] == 5 && p[1] >= 1 && p[1] <= 10 && n == (size_t)2 + p[1]) return 3;
    (void)f;
    return 0;
}

static void add_host(struct vk_pctx *c, const uint8_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (h[i] <= 0x20 || h[i] >= 0x7f) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "socks.bad_host");
            return;
        }
    if (n) vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, (const char *)h, n);
}

/* Client messages. Returns bytes consumed, 0 when more bytes are needed, -1 on junk. */
static int client_msg(struct socks_state *s, struct vk_pctx *c, const uint8_t *p, size_t n)
{
    struct vk_cur cur = vk_cur_make(p, n);
    uint8_t v, a, b;
    if (s->version == 4) {
        /* VN CD PORT(2) IP(4) USERID\0 [HOST\0 when IP is 0.0.0.x] */
        if (n < 9) return 0;
        const uint8_t *z = memchr(p + 8, 0, n - 8);
        if (!z) return n > 512 ? -1 : 0;
        size_t ul = (size_t)(z - (p + 8));
        if (ul) vk_meta_add_str(c->meta, VK_K_USER, (const char *)p + 8, ul);
        size_t used = 9 + ul;
        if (p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] != 0) {
            const uint8_t *z2 = memchr(p + used, 0, n - used);
            if (!z2) return n > 512 ? -1 : 0;
            add_host(c, p + used, (size_t)(z2 - (p + used)));
            used = (size_t)(z2 - p) + 1;
        }
        s->cstate = ST_TUNNEL;
        return (int)used;
    }
    switch (s->cstate) {
    case ST_HELLO:
        if (!vk_cur_u8(&cur, &v) || !vk_cur_u8(&cur, &a)) return 0;
        if (!vk_cur_skip(&cur, a)) return 0;
        s->cstate = ST_AUTH;
        return 2 + a;
    case ST_AUTH:
        if (s->method != 2) {
            s->cstate = ST_REQUEST;
            return client_msg(s, c, p, n);
        }
        /* 01 ULEN UNAME PLEN PASSWD (RFC 1929) */
        if (!vk_cur_u8(&cur, &v) || !vk_cur_u8(&cur, &a)) return 0;
        if (vk_cur_left(&cur) < a) return 0;
        if (a) vk_meta_add_str(c->meta, VK_K_USER, (const char *)cur.p, a);
        vk_cur_skip(&cur, a);
        if (!vk_cur_u8(&cur, &b) || !vk_cur_skip(&cur, b)) return 0;
        vk_meta_add_uint(c->meta, VK_K_PASSWORD_SEEN, 1);
        s->cstate = ST_REQUEST;
        return (int)(n - vk_cur_left(&cur));
    case ST_REQUEST: {
        /* 05 CMD 00 ATYP ADDR PORT */
        uint8_t cmd, rsv, atyp, hl;
        if (!vk_cur_u8(&cur, &v) || !vk_cur_u8(&cur, &cmd) || !vk_cur_u8(&cur, &rsv) ||
            !vk_cur_u8(&cur, &atyp))
            return 0;
        if (v != 5) return -1;
        size_t al = atyp == 1 ? 4 : atyp == 4 ? 16 : 0;
        if (atyp == 3) {
            if (!vk_cur_u8(&cur, &hl) || vk_cur_left(&cur) < (size_t)hl + 2) return 0;
            add_host(c, cur.p, hl);
            al = hl;
        } else if (!al) {
            return -1;
        }
        if (!vk_cur_skip(&cur, al + 2)) return 0;
        s->cstate = ST_TUNNEL;
        return (int)(n - vk_cur_left(&cur));
    }
    }
    return -1;
}

/* Server messages, same contract. */
static int server_msg(struct socks_state *s, const uint8_t *p, size_t n)
{
    if (s->version == 4) {
        if (n < 8) return 0;
        s->sstate = ST_TUNNEL;
        return 8;
    }
    switch (s->sstate) {
    case ST_HELLO:
        if (n < 2) return 0;
        s->method = p[1];
        s->sstate = p[1] == 2 ? ST_AUTH : ST_REQUEST;
        return 2;
    case ST_AUTH:
        if (n < 2) return 0;
        s->sstate = ST_REQUEST;
        return 2;
    case ST_REQUEST: {
        if (n < 5) return 0;
        size_t al = p[3] == 1 ? 4 : p[3] == 4 ? 16 : p[3] == 3 ? (size_t)p[4] + 1 : 0;
        if (!al) return -1;
        if (n < 4 + al + 2) return 0;
        s->sstate = ST_TUNNEL;
        return (int)(4 + al + 2);
    }
    }
    return -1;
}

static void socks_init(void *st, struct vk_pctx *c)
{
    (void)st;
    (void)c;
}

/* O(n) per call; copies at most 600 bytes per direction into the state. */
static void socks_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct socks_state *s = st;
    size_t off = 0;
    if (!s->version) {
        if (dir != VK_DIR_SRC || n < 1 || (p[0] != 4 && p[0] != 5)) {
            c->done = true;
            return;
        }
        s->version = p[0];
    }
    while (off < n) {
        uint8_t *state = dir ? &s->sstate : &s->cstate;
        if (*state == ST_TUNNEL) break;
        size_t take = n - off;
        if (take > sizeof s->buf[dir] - s->len[dir]) take = sizeof s->buf[dir] - s->len[dir];
        memcpy(s->buf[dir] + s->len[dir], p + off, take);
        size_t have = s->len[dir] + take;
        int used = dir ? server_msg(s, s->buf[dir], have) : client_msg(s, c, s->buf[dir], have);
        if (used < 0 || (used == 0 && have == sizeof s->buf[dir])) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "socks.bad_handshake");
            c->done = true;
            return;
        }
        if (used == 0) { /* wait for more */
            s->len[dir] = (uint16_t)have;
            return;
        }
        /* bytes of this call consumed by the message */
        size_t from_call = (size_t)used > s->len[dir] ? (size_t)used - s->len[dir] : 0;
        s->len[dir] = 0;
        off += from_call;
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "socks");
    }
    if (s->cstate == ST_TUNNEL && s->sstate == ST_TUNNEL) {
        c->done = true;
        c->reprobe = true;
        c->reprobe_at = off;
    }
}

const struct vk_parser vk_proto_socks = {
    .name = "socks",
    .ipproto = 6,
    .probe = socks_probe,
    .state_size = sizeof(struct socks_state),
    .init = socks_init,
    .data = socks_data,
};
