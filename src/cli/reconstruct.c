/* reconstruct.c — rebuild a session's conversation from its packets (see reconstruct.h).
 *
 * Packets are decoded again; payload bytes are kept per direction with their sequence
 * numbers (TCP) up to a total cap. Each direction is then laid out in sequence order:
 * bytes already seen (retransmissions, overlaps: first copy wins) are dropped and holes
 * become gap markers. The two directions are merged by the time each piece first arrived.
 * Nothing unprintable reaches the terminal: text shows it as '.', binary bodies are
 * summarised, not printed. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../core/vk_core.h"
#include "reconstruct.h"

#define RECON_MAX_BYTES (256u << 20)

struct seg {
    uint64_t ts;
    uint64_t off;   /* stream offset (TCP: relative to the first sequence number) */
    uint32_t len;
    uint8_t dir;
    uint8_t *data;
};

struct piece { /* laid-out bytes of one direction */
    uint64_t ts;
    uint8_t dir;
    bool gap;
    uint64_t len;
    const uint8_t *data;
};

struct vk_recon {
    struct vk_decoder *dec;
    bool have_key, tcp;
    uint8_t family, src[16], dst[16];
    uint16_t sport, dport;
    bool have_base[2];
    uint32_t base[2];
    struct seg *s;
    size_t n, cap;
    uint64_t bytes;
    bool capped;
};

struct vk_recon *vk_recon_new(void)
{
    struct vk_recon *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->dec = vk_decode_new(16u << 20);
    if (!r->dec) {
        free(r);
        return NULL;
    }
    return r;
}

void vk_recon_free(struct vk_recon *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->s[i].data);
    free(r->s);
    vk_decode_free(r->dec);
    free(r);
}

int vk_recon_packet(struct vk_recon *r, const struct vk_pkt *pkt)
{
    struct vk_decoded d;
    if (vk_decode_packet(r->dec, pkt, &d) != 0 || !d.family) return 0;
    if (!r->have_key) {
        r->have_key = true;
        r->tcp = d.ipproto == 6;
        r->family = d.family;
        memcpy(r->src, d.src, 16);
        memcpy(r->dst, d.dst, 16);
        r->sport = d.sport;
        r->dport = d.dport;
        /* a SYN-ACK first means we see the responder first */
        if (r->tcp && (d.tcp_flags & 0x12) == 0x12) {
            memcpy(r->src, d.dst, 16);
            memcpy(r->dst, d.src, 16);
            r->sport = d.dport;
            r->dport = d.sport;
        }
    }
    int dir = memcmp(d.src, r->src, 16) == 0 && d.sport == r->sport ? 0 : 1;
    uint32_t seq = d.seq;
    if (r->tcp) {
        if (d.tcp_flags & 0x02) { /* SYN: data starts one after it */
            r->base[dir] = seq + 1;
            r->have_base[dir] = true;
            seq++;
        }
        if (!r->have_base[dir] && d.payload_len) {
            r->base[dir] = seq; /* picked up mid-stream: the first payload is offset 0 */
            r->have_base[dir] = true;
        }
    }
    if (!d.payload_len) return 0;
    if (r->bytes + d.payload_len > RECON_MAX_BYTES) {
        r->capped = true;
        return 1;
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        struct seg *p = realloc(r->s, nc * sizeof *p);
        if (!p) return 1;
        r->s = p;
        r->cap = nc;
    }
    struct seg *s = &r->s[r->n];
    s->data = malloc(d.payload_len);
    if (!s->data) return 1;
    memcpy(s->data, d.payload, d.payload_len);
    s->len = d.payload_len;
    s->dir = (uint8_t)dir;
    s->ts = pkt->ts_us;
    /* sequence space wraps: offsets are taken modulo 2^32 from the base */
    s->off = r->tcp ? (uint32_t)(seq - r->base[dir]) : r->bytes;
    if (r->tcp && s->off > (1u << 31)) { /* before the base: a retransmitted older segment */
        free(s->data);
        return 0;
    }
    r->bytes += d.payload_len;
    r->n++;
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    if (x->dir != y->dir) return x->dir < y->dir ? -1 : 1;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Lay out both directions as pieces, merged by first-arrival time. */
static struct piece *layout(struct vk_recon *r, size_t *np)
{
    if (r->tcp) qsort(r->s, r->n, sizeof *r->s, cmp_seg);
    struct piece *p = calloc(r->n * 2 + 1, sizeof *p);
    if (!p) return NULL;
    struct piece *lists[2];
    size_t cnt[2] = {0, 0};
    struct piece *d0 = calloc(r->n * 2 + 1, sizeof *d0), *d1 = calloc(r->n * 2 + 1, sizeof *d1);
    if (!d0 || !d1) {
        free(p);
        free(d0);
        free(d1);
        return NULL;
    }
    lists[0] = d0;
    lists[1] = d1;
    uint64_t next[2] = {0, 0};
    for (size_t i = 0; i < r->n; i++) {
        struct seg *s = &r->s[i];
        struct piece *L = lists[s->dir];
        size_t *c = &cnt[s->dir];
        if (!r->tcp) {
            L[(*c)++] = (struct piece){s->ts, s->dir, false, s->len, s->data};
            continue;
        }
        uint64_t end = s->off + s->len;
        if (end <= next[s->dir]) continue; /* all seen before */
        if (s->off > next[s->dir])
            L[(*c)++] = (struct piece){s->ts, s->dir, true, s->off - next[s->dir], NULL};
        uint64_t skip = next[s->dir] > s->off ? next[s->dir] - s->off : 0;
        L[(*c)++] = (struct piece){s->ts, s->dir, false, s->len - skip, s->data + skip};
        next[s->dir] = end;
    }
    /* merge: each side keeps its order; the earlier arrival goes first */
    size_t i = 0, j = 0, k = 0;
    while (i < cnt[0] || j < cnt[1]) {
        if (j == cnt[1] || (i < cnt[0] && d0[i].ts <= d1[j].ts)) p[k++] = d0[i++];
        else p[k++] = d1[j++];
    }
    free(d0);
    free(d1);
    *np = k;
    return p;
}

static void side_label(struct vk_recon *r, int dir, char *out, size_t n)
{
    char a[64], b[64];
    vk_ip_str(r->family, dir ? r->dst : r->src, a);
    vk_ip_str(r->family, dir ? r->src : r->dst, b);
    snprintf(out, n, "%s %s:%u -> %s:%u", dir ? "<<" : ">>", a, dir ? r->dport : r->sport, b, dir ? r->sport : r->dport);
}

static void print_text(FILE *f, const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) fputc(c, f);
        else if (c != '\r') fputc('.', f);
    }
}

static void print_hex(FILE *f, const uint8_t *p, uint64_t n, uint64_t base)
{
    for (uint64_t i = 0; i < n; i += 16) {
        fprintf(f, "%08llx  ", (unsigned long long)(base + i));
        for (uint64_t j = 0; j < 16; j++) {
            if (i + j < n) fprintf(f, "%02x ", p[i + j]);
            else fputs("   ", f);
            if (j == 7) fputc(' ', f);
        }
        fputs(" |", f);
        for (uint64_t j = 0; j < 16 && i + j < n; j++) fputc(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.', f);
        fputs("|\n", f);
    }
}

/* ---- HTTP view --------------------------------------------------------------------- */

struct stream {
    uint8_t *p;
    size_t n;
};

static void stream_of(struct piece *pc, size_t np, int dir, struct stream *s)
{
    size_t total = 0;
    for (size_t i = 0; i < np; i++)
        if (pc[i].dir == dir && !pc[i].gap) total += pc[i].len;
    s->p = malloc(total ? total : 1);
    s->n = 0;
    if (!s->p) return;
    for (size_t i = 0; i < np; i++)
        if (pc[i].dir == dir && !pc[i].gap) {
            memcpy(s->p + s->n, pc[i].data, pc[i].len);
            s->n += pc[i].len;
        }
}

static const uint8_t *find_hdr_end(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return p + i + 4;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\n' && p[i + 1] == '\n') return p + i + 2;
    return NULL;
}

/* Value of header name (case-insensitive) in a header block, into out. */
static bool header(const uint8_t *h, size_t n, const char *name, char *out, size_t outn)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && h[e] != '\n') e++;
        if (e - i > nl + 1 && !strncasecmp((const char *)h + i, name, nl) && h[i + nl] == ':') {
            size_t v = i + nl + 1;
            while (v < e && (h[v] == ' ' || h[v] == '\t')) v++;
            size_t ve = e;
            while (ve > v && (h[ve - 1] == '\r' || h[ve - 1] == ' ')) ve--;
            snprintf(out, outn, "%.*s", (int)(ve - v), (const char *)h + v);
            return true;
        }
        i = e + 1;
    }
    return false;
}

/* De-chunk into out; returns bytes consumed from p. */
static size_t dechunk(const uint8_t *p, size_t n, struct vk_buf *out)
{
    size_t i = 0;
    while (i < n) {
        char *end;
        char num[20];
        size_t k = 0;
        while (i + k < n && k < sizeof num - 1 && p[i + k] != '\r' && p[i + k] != '\n') {
            num[k] = (char)p[i + k];
            k++;
        }
        num[k] = 0;
        unsigned long long len = strtoull(num, &end, 16);
        if (end == num) break;
        while (i < n && p[i] != '\n') i++;
        i++;
        if (len == 0) { /* trailers end with an empty line */
            while (i < n && p[i] != '\n') i++;
            return i < n ? i + 1 : n;
        }
        if (len > n - (i < n ? i : n)) len = n - (i < n ? i : n);
        vk_buf_append(out, p + i, (size_t)len);
        i += (size_t)len;
        if (i < n && p[i] == '\r') i++;
        if (i < n && p[i] == '\n') i++;
    }
    return n;
}

static void inflate_body(const uint8_t *p, size_t n, bool raw, struct vk_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, raw ? -15 : 15 + 32) != Z_OK) return;
    uint8_t buf[65536];
    z.next_in = (uint8_t *)p;
    z.avail_in = (uInt)n;
    int rc;
    do {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        if (vk_buf_append(out, buf, sizeof buf - z.avail_out) != 0) break;
    } while (rc == Z_OK && (z.avail_in || !z.avail_out));
    inflateEnd(&z);
    if (rc != Z_STREAM_END && rc != Z_OK && !raw && out->len == 0) inflate_body(p, n, true, out); /* bare deflate */
}

static bool is_text(const uint8_t *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n && i < 4096; i++)
        if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') bad++;
    return bad == 0;
}

struct httpctx {
    FILE *f;
    const char *extract;
    unsigned nfile;
    char last_uri[512];
    int rc;
    char *err;
    size_t errlen;
};

static void body_out(struct httpctx *h, const uint8_t *hdrs, size_t hn, const uint8_t *body, size_t bn, bool chunked,
                     const char *what)
{
    struct vk_buf dc, inf;
    vk_buf_init(&dc, 512u << 20);
    vk_buf_init(&inf, 512u << 20);
    if (chunked) {
        dechunk(body, bn, &dc);
        body = dc.p;
        bn = dc.len;
    }
    char enc[64] = "";
    if (header(hdrs, hn, "Content-Encoding", enc, sizeof enc) && (!strcasecmp(enc, "gzip") || !strcasecmp(enc, "deflate") || !strcasecmp(enc, "x-gzip"))) {
        inflate_body(body, bn, false, &inf);
        if (inf.len) {
            body = inf.p;
            bn = inf.len;
        }
    }
    if (bn) {
        if (is_text(body, bn)) {
            print_text(h->f, body, bn);
            if (body[bn - 1] != '\n') fputc('\n', h->f);
        } else {
            unsigned char md[32];
            unsigned int ml = 0;
            EVP_Digest(body, bn, md, &ml, EVP_sha256(), NULL);
            char hex[65];
            vk_hex(md, 32, hex);
            const char *mime = vk_magic_mime(body, bn);
            fprintf(h->f, "[binary %s body: %zu bytes, %s, sha256 %s]\n", what, bn, mime ? mime : "?", hex);
        }
        if (h->extract) {
            /* name: running number + the last path segment of the request, sanitised */
            const char *base = strrchr(h->last_uri, '/');
            base = base && base[1] ? base + 1 : "body";
            char name[128];
            size_t k = 0;
            for (const char *c = base; *c && *c != '?' && k < 60; c++)
                name[k++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_' ? *c : '_');
            name[k] = 0;
            if (name[0] == '.') name[0] = '_';
            char path[4300];
            snprintf(path, sizeof path, "%s/%03u-%s-%s", h->extract, ++h->nfile, what, name);
            FILE *o = fopen(path, "wb");
            if (!o || fwrite(body, 1, bn, o) != bn) {
                snprintf(h->err, h->errlen, "cannot write %s: %s", path, strerror(errno));
                h->rc = VK_EIO;
            } else {
                fprintf(h->f, "[written to %s]\n", path);
            }
            if (o) fclose(o);
        }
    }
    vk_buf_free(&dc);
    vk_buf_free(&inf);
}

/* One HTTP message at s[*at]: headers printed, body decoded. Returns false at the end. */
static bool http_message(struct httpctx *h, struct stream *s, size_t *at, bool response, const char *label)
{
    if (*at >= s->n) return false;
    const uint8_t *p = s->p + *at;
    size_t n = s->n - *at;
    const uint8_t *he = find_hdr_end(p, n);
    if (!he) { /* not HTTP (or cut): show the rest as text */
        fprintf(h->f, "%s (not HTTP, %zu bytes)\n", label, n);
        if (is_text(p, n)) print_text(h->f, p, n);
        else fprintf(h->f, "[binary data: %zu bytes]\n", n);
        *at = s->n;
        return false;
    }
    size_t hn = (size_t)(he - p);
    fprintf(h->f, "%s\n", label);
    print_text(h->f, p, hn);
    if (!response) {
        const uint8_t *sp = memchr(p, ' ', hn);
        if (sp) {
            const uint8_t *sp2 = memchr(sp + 1, ' ', hn - (size_t)(sp + 1 - p));
            size_t ul = sp2 ? (size_t)(sp2 - sp - 1) : 0;
            snprintf(h->last_uri, sizeof h->last_uri, "%.*s", (int)(ul < 500 ? ul : 500), (const char *)sp + 1);
        }
    }
    char v[64];
    size_t bodylen = 0;
    bool chunked = header(p, hn, "Transfer-Encoding", v, sizeof v) && strcasestr(v, "chunked");
    size_t rest = n - hn;
    if (chunked) {
        struct vk_buf tmp;
        vk_buf_init(&tmp, 512u << 20);
        bodylen = dechunk(he, rest, &tmp);
        vk_buf_free(&tmp);
    } else if (header(p, hn, "Content-Length", v, sizeof v)) {
        unsigned long long cl = strtoull(v, NULL, 10);
        bodylen = cl < rest ? (size_t)cl : rest;
    } else if (response) {
        int status = 0;
        sscanf((const char *)p, "HTTP/%*s %d", &status);
        bodylen = status == 204 || status == 304 || (status >= 100 && status < 200) ? 0 : rest; /* until close */
    }
    body_out(h, p, hn, he, bodylen, chunked, response ? "response" : "request");
    *at += hn + bodylen;
    return true;
}

int vk_recon_print(struct vk_recon *r, FILE *f, int view, const char *extract_dir, char *err, size_t errlen)
{
    if (!r->have_key) {
        snprintf(err, errlen, "the session has no IP packets to reconstruct");
        return VK_EINVAL;
    }
    if (extract_dir && mkdir(extract_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", extract_dir, strerror(errno));
        return VK_EIO;
    }
    size_t np = 0;
    struct piece *pc = layout(r, &np);
    if (!pc) {
        snprintf(err, errlen, "out of memory");
        return VK_ENOMEM;
    }
    char lab[2][200];
    side_label(r, 0, lab[0], sizeof lab[0]);
    side_label(r, 1, lab[1], sizeof lab[1]);
    int rc = 0;
    if (view == 'h') {
        struct stream s[2];
        stream_of(pc, np, 0, &s[0]);
        stream_of(pc, np, 1, &s[1]);
        struct httpctx h = {.f = f, .extract = extract_dir, .err = err, .errlen = errlen};
        size_t at[2] = {0, 0};
        if (s[0].p && s[1].p) {
            bool more = true;
            while (more && h.rc == 0) { /* request, then its response */
                more = false;
                if (http_message(&h, &s[0], &at[0], false, lab[0])) more = true;
                if (http_message(&h, &s[1], &at[1], true, lab[1])) more = true;
                fputc('\n', f);
            }
        }
        rc = h.rc;
        free(s[0].p);
        free(s[1].p);
    } else {
        uint64_t off[2] = {0, 0};
        int last = -1;
        for (size_t i = 0; i < np; i++) {
            struct piece *p = &pc[i];
            if (p->dir != last) {
                fprintf(f, "%s%s\n", last >= 0 ? "\n" : "", lab[p->dir]);
                last = p->dir;
            }
            if (p->gap) {
                fprintf(f, "[gap: %llu bytes not captured]\n", (unsigned long long)p->len);
            } else if (view == 'x') {
                print_hex(f, p->data, p->len, off[p->dir]);
            } else {
                print_text(f, p->data, p->len);
            }
            off[p->dir] += p->len;
        }
        if (np && view != 'x') fputc('\n', f);
    }
    if (r->capped) fprintf(f, "[cut: the session has more than %u MiB of payload]\n", RECON_MAX_BYTES >> 20);
    free(pc);
    return rc;
}
