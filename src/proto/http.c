/* http.c — the HTTP/1.x parser.
 *
 * Reads both directions of a TCP session as a stream of messages: request or status line,
 * header lines (folded and split across segments), then a body framed by Content-Length,
 * chunked transfer coding (with trailers) or, for responses only, the end of the session.
 * Requests and responses pair through a small queue of pending methods per side, so a
 * response to HEAD, a 1xx, 204 or 304 has no body, and 100-continue works. It stops (sets
 * c->done) after a CONNECT answered 2xx, a 101 Switching Protocols or an HTTP/2 preface:
 * what follows is not HTTP/1. After a gap it drops the message and resynchronises at the
 * next line that looks like a request or status line.
 *
 * Meta, as Arkime writes it (checked against the .test files of ../shared/corpus/pcap/arkime):
 *   http.host    the Host header lower-cased, both as sent and without its port
 *                ("10.0.0.1:1234" and "10.0.0.1"); alias.host gets the port-less name.
 *   http.uri     host + target when the target starts with '/' ("example.com/a?b=1"),
 *                the target alone when it is absolute and names the host within its first
 *                8 bytes, else "host;target"; the target alone without a Host header.
 *                Cut at 4096 bytes (anomaly http.uri_truncated).
 *   http.path    the target up to '?', only when a Host header was sent. Arkime's path has
 *                no query (META-KEYS.md says "path + query"; the scorer compares Arkime's).
 *   http.method, http.version (request and response versions, "1.1"), http.status (1xx
 *   included), http.user_agent, http.referer, http.content_type, http.server, header names
 *   lower-cased in http.header.request / http.header.response, user (Basic, Digest, and
 *   NTLM type 3 in Authorization / Proxy-Authorization; service "ntlm" when NTLMSSP shows),
 *   password.seen (Basic with a password, a form password in a request body), file.name
 *   from Content-Disposition. service: "http" once a start line parses; also "http2"
 *   (preface or h2c upgrade), "websocket", and the sub-protocols Arkime names from the
 *   request (rpc-over-http, winrm, adcs-web/-ndes/-cep/-ces).
 *   Anomalies: http.bad_start_line, http.bad_header, http.header_too_long,
 *   http.too_many_headers, http.bad_content_length, http.te_and_content_length,
 *   http.duplicate_host, http.bad_chunk, http.truncated_body, http.uri_truncated,
 *   http.too_many_pipelined.
 *
 * Bodies. Arkime's http.md5/http.sha256 and bodyMagic are computed on the body as it
 * crossed the wire after removing the chunked framing, NOT decoded: in http-content-gzip
 * (frame 6, Content-Encoding: gzip, 190 bytes) Arkime's md5 5ff7b2c69c3b22826a717cd5ea4c9f32
 * is the md5 of the gzip bytes (the decoded 272 bytes hash to 859326e5...) and its
 * bodyMagic is application/x-gzip. So every non-empty body is hashed raw (de-chunked) with
 * a vk_file, giving file.md5/sha256/size/type that match Arkime. Empty bodies are not
 * hashed (Arkime hashes only when http_parser delivered body bytes), nor are bodies cut by
 * a gap or by the end of the session, except a body that runs until close; a cut body
 * still gets its file.type, as Arkime still gives its bodyMagic. A body with a
 * Content-Encoding is not decoded here (Arkime does not decode either, and inflating and
 * hashing a second copy cost a sixth of the whole pipeline on a web-heavy link);
 * `vakt reconstruct --http` decodes bodies when someone looks at a session.
 *
 * Cost: O(bytes) per segment. Lines are read in place; a line that spans segments is copied
 * once into a bounded per-side buffer (HTTP_LINE_MAX), and each header is copied once to
 * join folded lines. Buffers are allocated on first use and kept for the session; the body
 * context (a vk_file: hash contexts and a 4 KiB head) only while a body is being read.
 * Nothing is allocated per packet. */
#include <pthread.h>
#include <stdlib.h>

#include "vk_proto.h"

#define HTTP_LINE_MAX (64u * 1024u)        /* a start line, header (with folds) or chunk line */
#define HTTP_MAX_HEADERS 256               /* per message; more is http.too_many_headers */
#define HTTP_PIPELINE 32                   /* requests awaiting a response, per side */
#define HTTP_URI_MAX 4096                  /* Arkime's MAX_URL_LENGTH */
#define HTTP_AUTH_MAX 8192                 /* decoded Authorization blob we look at */

enum http_st {
    HS_START,       /* before a request or status line; blank lines are skipped */
    HS_HEADERS,
    HS_BODY_LEN,    /* Content-Length body: `left` bytes to go */
    HS_CHUNK_SIZE,
    HS_CHUNK_DATA,  /* `left` bytes of the chunk to go */
    HS_CHUNK_END,   /* the CRLF after chunk data */
    HS_TRAILERS,
    HS_BODY_CLOSE,  /* response body until the end of the session */
    HS_RESYNC,      /* after a gap or garbage: skip to a line that starts a message */
    HS_TUNNEL,      /* not HTTP/1 any more */
};

enum http_mkind { MK_OTHER, MK_HEAD, MK_CONNECT };

/* The message being read on one side. */
struct http_msg {
    bool is_request;
    bool has_len, chunked, te_seen;
    bool host_seen, ws_upgrade, h2c_upgrade, many_warned, hdr_drop;
    bool body_started, body_broken;
    uint8_t major, minor;
    uint16_t status, nhdr;
    uint64_t clen;
    char method[32];
    char filename[256];   /* from Content-Disposition, names the body's files */
};

struct http_side {
    uint8_t state;
    bool skip_line;       /* dropping the rest of a line that passed HTTP_LINE_MAX */
    bool line_used;       /* `line` holds the line handed out last: clear it before reading */
    bool queue_warned;
    uint64_t left;
    struct vk_buf line;   /* a line that spans segments */
    struct vk_buf hdr;    /* the current header with its folded continuations */
    struct vk_buf url;    /* request target, until the headers end */
    struct vk_buf host;   /* Host header value, until the headers end */
    struct http_msg m;
    /* methods of the requests this side sent, in order, for the other side's responses */
    uint8_t q[HTTP_PIPELINE];
    uint8_t q_head, q_len;
    struct vk_file *body; /* the de-chunked body, as Arkime hashes it, while one is read */
};

struct http_state {
    struct http_side side[2];
    bool service_set;
};

/* ---- small readers over untrusted bytes ------------------------------------------- */

static inline int cur_at(const struct vk_cur *c, size_t i)
{
    return i < vk_cur_left(c) ? c->p[i] : -1;
}

/* Offset of the first ch in c, O(n). */
static bool cur_find(const struct vk_cur *c, uint8_t ch, size_t *at)
{
    const uint8_t *q = memchr(c->p, ch, vk_cur_left(c));
    if (!q) return false;
    *at = (size_t)(q - c->p);
    return true;
}

static bool cur_rfind(const struct vk_cur *c, uint8_t ch, size_t *at)
{
    for (size_t i = vk_cur_left(c); i > 0; i--)
        if (c->p[i - 1] == ch) {
            *at = i - 1;
            return true;
        }
    return false;
}

static inline bool is_ws(int ch) { return ch == ' ' || ch == '\t'; }

static void cur_trim(struct vk_cur *c)
{
    while (vk_cur_left(c) && (is_ws(c->p[0]) || c->p[0] == '\r')) c->p++;
    while (vk_cur_left(c) && (is_ws(c->end[-1]) || c->end[-1] == '\r')) c->end--;
}

/* Bytes [from, to) of c as a cursor; clamped to c. */
static struct vk_cur cur_sub(const struct vk_cur *c, size_t from, size_t to)
{
    size_t n = vk_cur_left(c);
    if (to > n) to = n;
    if (from > to) from = to;
    return vk_cur_make(c->p + from, to - from);
}

static bool cur_eq_ci(const struct vk_cur *c, const char *lit)
{
    size_t n = strlen(lit);
    return vk_cur_left(c) == n && vk_prefix_ci(c->p, n, lit);
}

static bool cur_prefix_ci(const struct vk_cur *c, const char *lit)
{
    return vk_prefix_ci(c->p, vk_cur_left(c), lit);
}

static bool cur_suffix_ci(const struct vk_cur *c, const char *lit)
{
    size_t n = strlen(lit), have = vk_cur_left(c);
    if (have < n) return false;
    struct vk_cur t = cur_sub(c, have - n, have);
    return cur_eq_ci(&t, lit);
}

/* Case-insensitive substring search, O(n*m) with small m. */
static bool cur_contains_ci(const struct vk_cur *c, const char *lit)
{
    size_t n = strlen(lit), have = vk_cur_left(c);
    for (size_t i = 0; i + n <= have; i++) {
        struct vk_cur t = cur_sub(c, i, i + n);
        if (cur_eq_ci(&t, lit)) return true;
    }
    return false;
}

static void add_str(struct vk_pctx *c, enum vk_key k, const struct vk_cur *v)
{
    if (vk_cur_left(v)) vk_meta_add_str(c->meta, k, (const char *)v->p, vk_cur_left(v));
}

static void anomaly(struct vk_pctx *c, const char *what)
{
    vk_meta_add_cstr(c->meta, VK_K_ANOMALY, what);
}

static void set_service(struct http_state *hs, struct vk_pctx *c)
{
    if (hs->service_set) return;
    hs->service_set = true;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "http");
}

/* ---- start lines ------------------------------------------------------------------ */

static const char *const http_methods[] = {
    "GET",       "POST",      "HEAD",       "PUT",         "DELETE",     "OPTIONS",
    "CONNECT",   "PATCH",     "TRACE",      "PROPFIND",    "PROPPATCH",  "MKCOL",
    "COPY",      "MOVE",      "LOCK",       "UNLOCK",      "SEARCH",     "REPORT",
    "MKACTIVITY", "CHECKOUT", "MERGE",      "NOTIFY",      "SUBSCRIBE",  "UNSUBSCRIBE",
    "PURGE",     "MKCALENDAR", "LINK",      "UNLINK",      "SOURCE",     "BIND",
    "REBIND",    "UNBIND",    "ACL",        "RPC_IN_DATA", "RPC_OUT_DATA", "PRI",
    "VERSION-CONTROL", "UPDATE", "LABEL",   "BASELINE-CONTROL", "MKWORKSPACE", "ORDERPATCH",
};

static bool known_method(const struct vk_cur *m)
{
    for (size_t i = 0; i < sizeof http_methods / sizeof *http_methods; i++) {
        size_t n = strlen(http_methods[i]);
        if (vk_cur_left(m) == n && memcmp(m->p, http_methods[i], n) == 0) return true;
    }
    return false;
}

struct http_start {
    bool is_request, v09;
    struct vk_cur method, target;
    uint8_t major, minor;
    uint16_t status;
};

/* "HTTP/d.d" at the start of c; advances past it. */
static bool parse_version(struct vk_cur *c, uint8_t *major, uint8_t *minor)
{
    if (!cur_prefix_ci(c, "HTTP/")) return false;
    vk_cur_skip(c, 5);
    int a = cur_at(c, 0), dot = cur_at(c, 1), b = cur_at(c, 2);
    if (a < '0' || a > '9' || dot != '.' || b < '0' || b > '9') return false;
    vk_cur_skip(c, 3);
    *major = (uint8_t)(a - '0');
    *minor = (uint8_t)(b - '0');
    return true;
}

/* Is the token a plausible method: [A-Z][A-Z0-9_-]{2,31}. */
static bool method_token(const struct vk_cur *m)
{
    size_t n = vk_cur_left(m);
    if (n < 3 || n > 31 || cur_at(m, 0) < 'A' || cur_at(m, 0) > 'Z') return false;
    for (size_t i = 0; i < n; i++) {
        int ch = cur_at(m, i);
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* Parse a request line "METHOD target HTTP/x.y" (the target may hold spaces; HTTP/0.9
 * "GET /x" when allow09) or a status line "HTTP/x.y ddd reason". O(line). */
static bool parse_start(struct vk_cur line, struct http_start *sl, bool allow09)
{
    memset(sl, 0, sizeof *sl);
    cur_trim(&line);
    if (cur_prefix_ci(&line, "HTTP/")) {
        struct vk_cur c = line;
        if (!parse_version(&c, &sl->major, &sl->minor)) return false;
        if (!is_ws(cur_at(&c, 0))) return false;
        while (is_ws(cur_at(&c, 0))) vk_cur_skip(&c, 1);
        unsigned code = 0;
        for (int i = 0; i < 3; i++) {
            int d = cur_at(&c, (size_t)i);
            if (d < '0' || d > '9') return false;
            code = code * 10 + (unsigned)(d - '0');
        }
        int after = cur_at(&c, 3);
        if (after != -1 && !is_ws(after)) return false;
        if (code < 100) return false;
        sl->status = (uint16_t)code;
        return true;
    }
    size_t sp;
    if (!cur_find(&line, ' ', &sp)) return false;
    sl->method = cur_sub(&line, 0, sp);
    if (!method_token(&sl->method)) return false;
    struct vk_cur rest = cur_sub(&line, sp + 1, vk_cur_left(&line));
    cur_trim(&rest);
    if (!vk_cur_left(&rest)) return false;
    size_t last;
    struct vk_cur ver = rest;
    if (cur_rfind(&rest, ' ', &last)) {
        ver = cur_sub(&rest, last + 1, vk_cur_left(&rest));
        if (parse_version(&ver, &sl->major, &sl->minor) && !vk_cur_left(&ver)) {
            sl->target = cur_sub(&rest, 0, last);
            cur_trim(&sl->target);
            sl->is_request = vk_cur_left(&sl->target) > 0;
            return sl->is_request;
        }
    }
    if (!allow09 || !known_method(&sl->method) || cur_find(&rest, ' ', &last) ||
        cur_at(&rest, 0) != '/')
        return false;
    sl->target = rest;
    sl->is_request = sl->v09 = true;
    sl->major = 0;
    sl->minor = 9;
    return true;
}

/* A line holding a known method and nothing else ("GET"): a broken request, but HTTP. */
static bool bare_method(struct vk_cur line)
{
    cur_trim(&line);
    return known_method(&line);
}

/* ---- pending methods -------------------------------------------------------------- */

static void queue_push(struct http_side *s, struct vk_pctx *c, uint8_t kind)
{
    if (s->q_len == HTTP_PIPELINE) {
        if (!s->queue_warned) anomaly(c, "http.too_many_pipelined");
        s->queue_warned = true;
        return;
    }
    s->q[(s->q_head + s->q_len) % HTTP_PIPELINE] = kind;
    s->q_len++;
}

static uint8_t queue_pop(struct http_side *s)
{
    if (!s->q_len) return MK_OTHER;
    uint8_t k = s->q[s->q_head];
    s->q_head = (uint8_t)((s->q_head + 1) % HTTP_PIPELINE);
    s->q_len--;
    return k;
}

/* ---- bodies: hashing ------------------------------------------------------------- */

/* Body contexts (4 KiB each) come and go with every message; malloc serves blocks of
 * that size from its sorted bins, slowly once the heap holds many sessions, so each thread
 * keeps up to BODY_POOL released ones for the next body. Freed when the thread exits. */
#define BODY_POOL 64

struct body_pool {
    struct vk_file *v[BODY_POOL];
    int n;
};

static _Thread_local struct body_pool *tl_bodies;
static pthread_key_t bodies_key;
static pthread_once_t bodies_once = PTHREAD_ONCE_INIT;

static void bodies_release(void *arg)
{
    struct body_pool *bp = arg;
    for (int i = 0; i < bp->n; i++) free(bp->v[i]);
    free(bp);
}
static void bodies_key_init(void) { pthread_key_create(&bodies_key, bodies_release); }

static struct vk_file *body_get(void)
{
    struct body_pool *bp = tl_bodies;
    if (bp && bp->n) return bp->v[--bp->n];
    return malloc(sizeof(struct vk_file));
}

static void body_put(struct vk_file *f)
{
    if (!tl_bodies) {
        pthread_once(&bodies_once, bodies_key_init);
        if ((tl_bodies = calloc(1, sizeof *tl_bodies))) pthread_setspecific(bodies_key, tl_bodies);
    }
    if (tl_bodies && tl_bodies->n < BODY_POOL) tl_bodies->v[tl_bodies->n++] = f;
    else free(f);
}

/* Arkime tags bodies whose first bytes carry a form password; we flag password.seen. */
static void body_password(struct vk_pctx *c, const uint8_t *p, size_t n)
{
    struct vk_cur head = vk_cur_make(p, n < 4096 ? n : 4096);
    if (cur_contains_ci(&head, "password=") || cur_contains_ci(&head, "passwd=") ||
        cur_contains_ci(&head, "pass="))
        vk_meta_set_uint(c->meta, VK_K_PASSWORD_SEEN, 1);
}

/* Drop what this message's body hashed and decoded so far (gap, truncation). Its type is
 * still known from its first bytes, and Arkime reports it (bodyMagic without md5). */
static void body_break(struct http_side *s, struct vk_pctx *c)
{
    s->m.body_broken = true;
    struct vk_file *f = s->body;
    if (f && f->open) {
        const char *mime = vk_magic_mime(f->head, f->head_len);
        if (mime) vk_meta_add_cstr(c->meta, VK_K_FILE_TYPE, mime);
        vk_file_abort(f);
    }
}

static void body_data(struct http_side *s, struct vk_pctx *c, const uint8_t *p, size_t n)
{
    if (!n || s->m.body_broken) return;
    if (!s->m.body_started) {
        s->m.body_started = true;
        /* vk_file_begin sets every field a later read depends on: no need to clear */
        if (!s->body && !(s->body = body_get())) {
            s->m.body_broken = true;
            return;
        }
        if (vk_file_begin(s->body) != 0) {
            s->m.body_broken = true;
            return;
        }
        if (s->m.is_request) body_password(c, p, n);
    }
    vk_file_update(s->body, p, n);
}

/* The message's body is complete: add its files to the meta. */
static void body_end(struct http_side *s, struct vk_pctx *c)
{
    if (!s->body || !s->m.body_started || s->m.body_broken) return;
    vk_file_end(s->body, c->meta, s->m.filename[0] ? s->m.filename : NULL);
}

/* Release the body state (hash contexts, a 4 KiB head): it lives only while a body is
 * being read, not for the whole session, so idle keep-alive sessions stay small. */
static void body_free(struct http_side *s)
{
    if (!s->body) return;
    if (s->body->open) vk_file_abort(s->body);
    body_put(s->body);
    s->body = NULL;
}

/* ---- messages --------------------------------------------------------------------- */

static void msg_reset(struct http_side *s)
{
    memset(&s->m, 0, sizeof s->m);
    s->url.len = 0;
    s->host.len = 0;
    s->hdr.len = 0;
    s->left = 0;
}

static void msg_end(struct http_side *s, struct vk_pctx *c)
{
    body_end(s, c);
    body_free(s);
    msg_reset(s);
    s->state = HS_START;
}

/* Drop the message being read (gap, bad framing) and look for the next one. */
static void msg_drop(struct http_side *s, struct vk_pctx *c)
{
    body_break(s, c);
    msg_reset(s);
    s->state = HS_RESYNC;
}

static void begin_message(struct http_state *hs, struct http_side *s, struct vk_pctx *c,
                          const struct http_start *sl)
{
    set_service(hs, c);
    msg_reset(s);
    s->m.is_request = sl->is_request;
    s->m.major = sl->major;
    s->m.minor = sl->minor;
    if (sl->is_request) {
        size_t n = vk_cur_left(&sl->method);
        memcpy(s->m.method, sl->method.p, n); /* method_token() capped n at 31 */
        s->m.method[n] = 0;
        vk_buf_append(&s->url, sl->target.p, vk_cur_left(&sl->target));
    } else {
        s->m.status = sl->status;
    }
    s->state = HS_HEADERS;
}

/* ---- Authorization ---------------------------------------------------------------- */

/* Append UTF-16LE text as UTF-8 (BMP only; other units become '?'). */
static size_t utf16le_to_utf8(struct vk_cur in, char *out, size_t cap)
{
    size_t o = 0;
    uint16_t u;
    while (vk_cur_u16le(&in, &u) && o + 3 < cap) {
        if (u < 0x80) {
            out[o++] = (char)u;
        } else if (u < 0x800) {
            out[o++] = (char)(0xc0 | u >> 6);
            out[o++] = (char)(0x80 | (u & 0x3f));
        } else if (u >= 0xd800 && u <= 0xdfff) {
            out[o++] = '?';
        } else {
            out[o++] = (char)(0xe0 | u >> 12);
            out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (u & 0x3f));
        }
    }
    return o;
}

/* An NTLMSSP message somewhere in a decoded Negotiate/NTLM blob: type 3 names the user. */
static void auth_ntlm(struct vk_pctx *c, const uint8_t *blob, size_t n)
{
    static const uint8_t sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
    const uint8_t *at = memmem(blob, n, sig, sizeof sig);
    if (!at) return;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "ntlm");
    struct vk_cur msg = vk_cur_make(at, n - (size_t)(at - blob)), f = msg;
    uint32_t type, uoff, flags;
    uint16_t ulen;
    if (!vk_cur_skip(&f, 8) || !vk_cur_u32le(&f, &type) || type != 3) return;
    f = msg;
    if (!vk_cur_skip(&f, 36) || !vk_cur_u16le(&f, &ulen) || !vk_cur_skip(&f, 2) ||
        !vk_cur_u32le(&f, &uoff) || !vk_cur_skip(&f, 16) || !vk_cur_u32le(&f, &flags))
        return;
    struct vk_cur at_user = msg, u;
    if (!vk_cur_skip(&at_user, uoff) || !vk_cur_take(&at_user, ulen, &u) || !ulen) return;
    char name[512];
    if (flags & 1) { /* NTLMSSP_NEGOTIATE_UNICODE */
        size_t len = utf16le_to_utf8(u, name, sizeof name);
        if (len) vk_meta_add_str(c->meta, VK_K_USER, name, len);
    } else {
        add_str(c, VK_K_USER, &u);
    }
}

static void auth_header(struct vk_pctx *c, struct vk_cur v)
{
    uint8_t dec[HTTP_AUTH_MAX];
    size_t sp;
    cur_trim(&v);
    if (!cur_find(&v, ' ', &sp)) return;
    struct vk_cur scheme = cur_sub(&v, 0, sp), arg = cur_sub(&v, sp + 1, vk_cur_left(&v));
    cur_trim(&arg);
    if (cur_eq_ci(&scheme, "basic")) {
        if (vk_cur_left(&arg) < 2 || cur_prefix_ci(&arg, "token=")) return; /* Yahoo's "Basic token=" */
        size_t n = vk_base64_decode((const char *)arg.p, vk_cur_left(&arg), dec, sizeof dec);
        struct vk_cur cred = vk_cur_make(dec, n);
        size_t colon;
        struct vk_cur user = cred;
        if (cur_find(&cred, ':', &colon)) {
            user = cur_sub(&cred, 0, colon);
            if (colon + 1 < n) vk_meta_set_uint(c->meta, VK_K_PASSWORD_SEEN, 1);
        }
        add_str(c, VK_K_USER, &user);
    } else if (cur_eq_ci(&scheme, "digest")) {
        /* username="name" or username=name, among comma-separated parameters */
        for (size_t i = 0; i + 8 <= vk_cur_left(&arg); i++) {
            struct vk_cur t = cur_sub(&arg, i, i + 8);
            if (!cur_eq_ci(&t, "username")) continue;
            struct vk_cur r = cur_sub(&arg, i + 8, vk_cur_left(&arg));
            while (is_ws(cur_at(&r, 0))) vk_cur_skip(&r, 1);
            if (cur_at(&r, 0) != '=') return;
            vk_cur_skip(&r, 1);
            while (is_ws(cur_at(&r, 0))) vk_cur_skip(&r, 1);
            bool quote = cur_at(&r, 0) == '"';
            if (quote) vk_cur_skip(&r, 1);
            size_t end = 0;
            while (end < vk_cur_left(&r)) {
                int ch = cur_at(&r, end);
                if (quote ? ch == '"' : ch == ',') break;
                end++;
            }
            struct vk_cur user = cur_sub(&r, 0, end);
            if (!quote) cur_trim(&user);
            add_str(c, VK_K_USER, &user);
            return;
        }
    } else if (cur_eq_ci(&scheme, "ntlm") || cur_eq_ci(&scheme, "negotiate")) {
        size_t n = vk_base64_decode((const char *)arg.p, vk_cur_left(&arg), dec, sizeof dec);
        auth_ntlm(c, dec, n);
    }
}

/* ---- headers ---------------------------------------------------------------------- */

static void header_content_length(struct http_side *s, struct vk_pctx *c, struct vk_cur v)
{
    uint64_t n = 0;
    size_t len = vk_cur_left(&v);
    bool ok = len > 0 && len <= 18;
    for (size_t i = 0; ok && i < len; i++) {
        int d = cur_at(&v, i);
        if (d < '0' || d > '9') ok = false;
        else n = n * 10 + (uint64_t)(d - '0');
    }
    if (!ok || (s->m.has_len && s->m.clen != n)) {
        anomaly(c, "http.bad_content_length");
        if (!ok) return;
    }
    s->m.has_len = true;
    s->m.clen = n;
}

/* Content-Disposition: attachment; filename="x" names the body. */
static void header_disposition(struct http_side *s, struct vk_cur v)
{
    static const char key[] = "filename=";
    for (size_t i = 0; i + sizeof key - 1 <= vk_cur_left(&v); i++) {
        struct vk_cur t = cur_sub(&v, i, i + sizeof key - 1);
        if (!cur_eq_ci(&t, key)) continue;
        struct vk_cur r = cur_sub(&v, i + sizeof key - 1, vk_cur_left(&v));
        bool quote = cur_at(&r, 0) == '"';
        if (quote) vk_cur_skip(&r, 1);
        size_t end = 0;
        while (end < vk_cur_left(&r)) {
            int ch = cur_at(&r, end);
            if (quote ? ch == '"' : (ch == ';' || is_ws(ch))) break;
            end++;
        }
        if (end >= sizeof s->m.filename) end = sizeof s->m.filename - 1;
        memcpy(s->m.filename, r.p, end);
        s->m.filename[end] = 0;
        return;
    }
}

static void header_transfer_encoding(struct http_side *s, struct vk_cur v)
{
    s->m.te_seen = true;
    size_t comma;
    struct vk_cur last = v;
    if (cur_rfind(&v, ',', &comma)) last = cur_sub(&v, comma + 1, vk_cur_left(&v));
    cur_trim(&last);
    s->m.chunked = cur_eq_ci(&last, "chunked");
}

/* One complete header (folds joined), "Name: value". O(header). */
static void header_line(struct http_side *s, struct vk_pctx *c, struct vk_cur h, bool trailer)
{
    size_t colon;
    if (!cur_find(&h, ':', &colon) || colon == 0) {
        anomaly(c, "http.bad_header");
        return;
    }
    struct vk_cur name = cur_sub(&h, 0, colon), v = cur_sub(&h, colon + 1, vk_cur_left(&h));
    cur_trim(&name);
    cur_trim(&v);
    bool req = s->m.is_request;
    if (s->m.nhdr <= HTTP_MAX_HEADERS && vk_cur_left(&name))
        vk_meta_add_lower(c->meta, req ? VK_K_HTTP_HEADER_REQ : VK_K_HTTP_HEADER_RESP,
                          (const char *)name.p, vk_cur_left(&name));
    if (trailer) return; /* framing and fields come from the header block only */

    if (cur_eq_ci(&name, "content-length")) {
        header_content_length(s, c, v);
    } else if (cur_eq_ci(&name, "transfer-encoding")) {
        header_transfer_encoding(s, v);
    } else if (cur_eq_ci(&name, "content-type")) {
        add_str(c, VK_K_HTTP_CONTENT_TYPE, &v);
    } else if (cur_eq_ci(&name, "content-disposition")) {
        header_disposition(s, v);
    } else if (req && cur_eq_ci(&name, "host")) {
        if (s->m.host_seen) {
            anomaly(c, "http.duplicate_host");
            return;
        }
        s->m.host_seen = true;
        vk_buf_append(&s->host, v.p, vk_cur_left(&v) < HTTP_URI_MAX ? vk_cur_left(&v) : HTTP_URI_MAX);
        /* Arkime files the value as sent as well as the name without its port */
        if (vk_cur_left(&v))
            vk_meta_add_lower(c->meta, VK_K_HTTP_HOST, (const char *)v.p, vk_cur_left(&v));
    } else if (req && cur_eq_ci(&name, "user-agent")) {
        add_str(c, VK_K_HTTP_USER_AGENT, &v);
    } else if (req && cur_eq_ci(&name, "referer")) {
        add_str(c, VK_K_HTTP_REFERER, &v);
    } else if (req && (cur_eq_ci(&name, "authorization") || cur_eq_ci(&name, "proxy-authorization"))) {
        auth_header(c, v);
    } else if (!req && cur_eq_ci(&name, "server")) {
        add_str(c, VK_K_HTTP_SERVER, &v);
    } else if (!req && cur_eq_ci(&name, "upgrade")) {
        s->m.ws_upgrade = cur_contains_ci(&v, "websocket");
        s->m.h2c_upgrade = cur_prefix_ci(&v, "h2c");
    } else if (!req && (cur_eq_ci(&name, "www-authenticate") ||
                        cur_eq_ci(&name, "proxy-authenticate"))) {
        size_t sp;
        if (cur_find(&v, ' ', &sp)) {
            struct vk_cur scheme = cur_sub(&v, 0, sp), arg = cur_sub(&v, sp + 1, vk_cur_left(&v));
            cur_trim(&arg);
            if (cur_eq_ci(&scheme, "ntlm") || cur_eq_ci(&scheme, "negotiate")) {
                uint8_t dec[HTTP_AUTH_MAX];
                size_t n = vk_base64_decode((const char *)arg.p, vk_cur_left(&arg), dec, sizeof dec);
                auth_ntlm(c, dec, n);
            }
        }
    }
}

/* The header in s->hdr (if any) is complete. */
static void header_flush(struct http_side *s, struct vk_pctx *c, bool trailer)
{
    if (s->hdr.len && !s->m.hdr_drop)
        header_line(s, c, vk_cur_make(s->hdr.p, s->hdr.len), trailer);
    s->hdr.len = 0;
    s->m.hdr_drop = false;
}

/* A header line (or trailer line) that is not the blank end of the block. */
static void header_text(struct http_side *s, struct vk_pctx *c, struct vk_cur line, bool trailer)
{
    if (is_ws(cur_at(&line, 0))) { /* obs-fold: continues the previous header */
        cur_trim(&line);
        if (!s->hdr.len || s->m.hdr_drop || !vk_cur_left(&line)) return;
        if (vk_buf_append(&s->hdr, " ", 1) != 0 ||
            vk_buf_append(&s->hdr, line.p, vk_cur_left(&line)) != 0) {
            anomaly(c, "http.header_too_long");
            s->hdr.len = 0;
            s->m.hdr_drop = true;
        }
        return;
    }
    header_flush(s, c, trailer);
    if (++s->m.nhdr > HTTP_MAX_HEADERS && !s->m.many_warned) {
        anomaly(c, "http.too_many_headers");
        s->m.many_warned = true;
    }
    if (s->m.nhdr > 60000) s->m.nhdr = 60000;
    if (vk_buf_append(&s->hdr, line.p, vk_cur_left(&line)) != 0) {
        anomaly(c, "http.header_too_long");
        s->hdr.len = 0;
        s->m.hdr_drop = true;
    }
}

/* ---- end of the header block ------------------------------------------------------ */

/* Sub-protocols Arkime names from the request (arkime_synthetic.pcap). */
static void request_apps(struct http_side *s, struct vk_pctx *c, const struct vk_cur *path)
{
    if (strcmp(s->m.method, "RPC_IN_DATA") == 0 || strcmp(s->m.method, "RPC_OUT_DATA") == 0)
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "rpc-over-http");
    if (cur_prefix_ci(path, "/certsrv/mscep"))
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "adcs-ndes");
    else if (cur_prefix_ci(path, "/certsrv/") || cur_eq_ci(path, "/certsrv"))
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "adcs-web");
    else if (cur_suffix_ci(path, "/service.svc/cep"))
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "adcs-cep");
    else if (cur_suffix_ci(path, "/service.svc/ces") || cur_prefix_ci(path, "/enrollmentserver/"))
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "adcs-ces");
    else if (cur_eq_ci(path, "/wsman"))
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "winrm");
}

/* Add the host part of an authority "host[:port]" ("[v6]:port" too) to alias.host. */
static void alias_authority(struct vk_pctx *c, struct vk_cur a)
{
    size_t end = vk_cur_left(&a), at;
    if (cur_at(&a, 0) == '[') {
        if (cur_find(&a, ']', &at)) end = at + 1;
    } else if (cur_find(&a, ':', &at)) {
        end = at;
    }
    struct vk_cur h = cur_sub(&a, 0, end);
    if (vk_cur_left(&h)) vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, (const char *)h.p, vk_cur_left(&h));
}

static void request_complete(struct http_side *s, struct vk_pctx *c)
{
    char ver[8];
    snprintf(ver, sizeof ver, "%u.%u", s->m.major, s->m.minor);
    vk_meta_add_cstr(c->meta, VK_K_HTTP_METHOD, s->m.method);
    vk_meta_add_cstr(c->meta, VK_K_HTTP_VERSION, ver);

    struct vk_cur url = vk_cur_make(s->url.p, s->url.len);
    char host[HTTP_URI_MAX];
    size_t hn = s->host.len < sizeof host ? s->host.len : sizeof host;
    for (size_t i = 0; i < hn; i++) {
        char ch = (char)s->host.p[i];
        host[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    struct vk_cur path = url;
    size_t q;
    if (cur_find(&url, '?', &q)) path = cur_sub(&url, 0, q);

    char uri[HTTP_URI_MAX];
    size_t un = 0;
    bool cut = false;
#define URI_PUT(p_, n_)                                                   \
    do {                                                                  \
        size_t k_ = (n_);                                                 \
        if (k_ > sizeof uri - un) { k_ = sizeof uri - un; cut = true; }   \
        memcpy(uri + un, (p_), k_);                                       \
        un += k_;                                                         \
    } while (0)
    if (s->m.host_seen) {
        struct vk_cur hc = vk_cur_make(host, hn);
        alias_authority(c, hc);
        size_t end = hn, at;
        if (cur_at(&hc, 0) == '[') {
            if (cur_find(&hc, ']', &at)) end = at + 1;
        } else if (cur_find(&hc, ':', &at)) {
            end = at;
        }
        if (end) vk_meta_add_str(c->meta, VK_K_HTTP_HOST, host, end);
        add_str(c, VK_K_HTTP_PATH, &path);
        bool in_url = false; /* the host within the first 8 bytes of an absolute target */
        if (cur_at(&url, 0) != '/') {
            for (size_t i = 0; i <= 8 && i + hn <= vk_cur_left(&url); i++) {
                struct vk_cur t = cur_sub(&url, i, i + hn);
                if (memcmp(t.p, host, hn) == 0) {
                    in_url = true;
                    break;
                }
            }
        }
        if (cur_at(&url, 0) == '/' || !in_url) {
            URI_PUT(host, hn);
            if (cur_at(&url, 0) != '/') URI_PUT(";", 1);
        }
    }
    URI_PUT(url.p, vk_cur_left(&url));
#undef URI_PUT
    if (un) vk_meta_add_str(c->meta, VK_K_HTTP_URI, uri, un);
    if (cut) anomaly(c, "http.uri_truncated");

    /* Names the request carries outside Host: CONNECT's authority, an absolute target's host. */
    if (strcmp(s->m.method, "CONNECT") == 0) {
        alias_authority(c, url);
    } else if (cur_prefix_ci(&url, "http://") || cur_prefix_ci(&url, "https://")) {
        struct vk_cur a = cur_sub(&url, cur_at(&url, 4) == ':' ? 7 : 8, vk_cur_left(&url));
        size_t slash;
        if (cur_find(&a, '/', &slash)) a = cur_sub(&a, 0, slash);
        size_t atsign;
        if (cur_rfind(&a, '@', &atsign)) a = cur_sub(&a, atsign + 1, vk_cur_left(&a));
        alias_authority(c, a);
    }
    request_apps(s, c, &path);

    uint8_t kind = MK_OTHER;
    if (strcmp(s->m.method, "HEAD") == 0) kind = MK_HEAD;
    if (strcmp(s->m.method, "CONNECT") == 0) kind = MK_CONNECT;
    queue_push(s, c, kind);

    if (strcmp(s->m.method, "PRI") == 0 && s->m.major == 2) { /* HTTP/2 connection preface */
        vk_meta_add_cstr(c->meta, VK_K_SERVICE, "http2");
        msg_end(s, c);
        s->state = HS_TUNNEL;
        c->done = true;
        return;
    }
    if (s->m.te_seen && s->m.has_len) anomaly(c, "http.te_and_content_length");
    if (s->m.chunked) {
        s->state = HS_CHUNK_SIZE;
    } else if (s->m.has_len && s->m.clen > 0 && !s->m.te_seen) {
        s->left = s->m.clen;
        s->state = HS_BODY_LEN;
    } else {
        msg_end(s, c); /* a request without a length has no body */
    }
}

static void response_complete(struct http_state *hs, struct http_side *s, struct vk_pctx *c, int dir)
{
    char ver[8];
    unsigned st = s->m.status;
    snprintf(ver, sizeof ver, "%u.%u", s->m.major, s->m.minor);
    vk_meta_add_uint(c->meta, VK_K_HTTP_STATUS, st);
    vk_meta_add_cstr(c->meta, VK_K_HTTP_VERSION, ver);

    /* Interim 1xx answers (100 Continue, 103) leave the request pending. */
    bool interim = st >= 100 && st < 200 && st != 101;
    uint8_t kind = interim ? MK_OTHER : queue_pop(&hs->side[!dir]);
    if (st == 101 || (kind == MK_CONNECT && st >= 200 && st < 300)) {
        if (st == 101 && s->m.ws_upgrade) vk_meta_add_cstr(c->meta, VK_K_SERVICE, "websocket");
        if (st == 101 && s->m.h2c_upgrade) vk_meta_add_cstr(c->meta, VK_K_SERVICE, "http2");
        msg_end(s, c);
        s->state = HS_TUNNEL; /* the bytes that follow are another protocol */
        c->done = true;
        c->reprobe = kind == MK_CONNECT; /* e.g. TLS inside the proxy tunnel */
        return;
    }
    if (s->m.te_seen && s->m.has_len) anomaly(c, "http.te_and_content_length");
    if (interim || st == 204 || st == 304 || kind == MK_HEAD) {
        msg_end(s, c);
    } else if (s->m.chunked) {
        s->state = HS_CHUNK_SIZE;
    } else if (s->m.has_len && !s->m.te_seen) {
        s->left = s->m.clen;
        if (s->left) s->state = HS_BODY_LEN;
        else msg_end(s, c);
    } else {
        s->state = HS_BODY_CLOSE; /* neither length nor chunked: until the session ends */
    }
}

/* ---- lines ------------------------------------------------------------------------ */

/* A line passed HTTP_LINE_MAX: the rest of it is skipped. */
static void line_too_long(struct http_side *s, struct vk_pctx *c)
{
    switch (s->state) {
    case HS_RESYNC: break; /* not HTTP as far as we know: say nothing */
    case HS_HEADERS:
    case HS_TRAILERS:
        anomaly(c, "http.header_too_long");
        header_flush(s, c, s->state == HS_TRAILERS);
        break;
    case HS_CHUNK_SIZE:
    case HS_CHUNK_END:
        anomaly(c, "http.bad_chunk");
        msg_drop(s, c);
        break;
    default:
        anomaly(c, "http.header_too_long");
        msg_drop(s, c);
        break;
    }
}

/* Next complete line from *in without its CR LF, read in place when it lies within one
 * segment, else gathered in s->line. False when more bytes are needed. O(line). */
static bool next_line(struct http_side *s, struct vk_pctx *c, struct vk_cur *in, struct vk_cur *line)
{
    if (s->line_used) {
        s->line.len = 0;
        s->line_used = false;
    }
    size_t at;
    bool found = cur_find(in, '\n', &at);
    struct vk_cur seg;
    vk_cur_take(in, found ? at : vk_cur_left(in), &seg);
    if (found) vk_cur_skip(in, 1);
    if (s->skip_line) {
        if (found) s->skip_line = false;
        return false;
    }
    if (!found || s->line.len) {
        if (vk_buf_append(&s->line, seg.p, vk_cur_left(&seg)) != 0) {
            s->line.len = 0;
            s->skip_line = !found;
            line_too_long(s, c);
            return false;
        }
        if (!found) return false;
        seg = vk_cur_make(s->line.p, s->line.len);
        s->line_used = true;
    }
    size_t len = vk_cur_left(&seg);
    if (len && cur_at(&seg, len - 1) == '\r') seg = cur_sub(&seg, 0, len - 1);
    *line = seg;
    return true;
}

static void chunk_size_line(struct http_side *s, struct vk_pctx *c, struct vk_cur line)
{
    size_t semi;
    if (cur_find(&line, ';', &semi)) line = cur_sub(&line, 0, semi); /* chunk extensions */
    cur_trim(&line);
    uint64_t n = 0;
    size_t len = vk_cur_left(&line);
    bool ok = len > 0 && len <= 15;
    for (size_t i = 0; ok && i < len; i++) {
        int d = cur_at(&line, i), v;
        if (d >= '0' && d <= '9') v = d - '0';
        else if (d >= 'a' && d <= 'f') v = d - 'a' + 10;
        else if (d >= 'A' && d <= 'F') v = d - 'A' + 10;
        else { ok = false; break; }
        n = n << 4 | (uint64_t)v;
    }
    if (!ok) {
        anomaly(c, "http.bad_chunk");
        msg_drop(s, c);
        return;
    }
    if (n == 0) {
        s->state = HS_TRAILERS;
        return;
    }
    s->left = n;
    s->state = HS_CHUNK_DATA;
}

static void on_line(struct http_state *hs, struct http_side *s, struct vk_pctx *c, int dir,
                    struct vk_cur line)
{
    struct http_start sl;
    switch (s->state) {
    case HS_START:
        if (!vk_cur_left(&line)) return; /* CRLF between messages */
        if (parse_start(line, &sl, true)) {
            begin_message(hs, s, c, &sl);
            if (sl.v09) request_complete(s, c); /* HTTP/0.9: no headers */
        } else {
            if (bare_method(line)) set_service(hs, c);
            anomaly(c, "http.bad_start_line");
            s->state = HS_RESYNC;
        }
        return;
    case HS_RESYNC:
        if (vk_cur_left(&line) && parse_start(line, &sl, false)) begin_message(hs, s, c, &sl);
        return;
    case HS_HEADERS:
        if (vk_cur_left(&line)) {
            header_text(s, c, line, false);
            return;
        }
        header_flush(s, c, false);
        if (s->m.is_request) request_complete(s, c);
        else response_complete(hs, s, c, dir);
        return;
    case HS_CHUNK_SIZE:
        chunk_size_line(s, c, line);
        return;
    case HS_CHUNK_END:
        if (vk_cur_left(&line)) {
            anomaly(c, "http.bad_chunk");
            msg_drop(s, c);
        } else {
            s->state = HS_CHUNK_SIZE;
        }
        return;
    case HS_TRAILERS:
        if (vk_cur_left(&line)) {
            header_text(s, c, line, true);
            return;
        }
        header_flush(s, c, true);
        msg_end(s, c);
        return;
    default:
        return;
    }
}

/* ---- the parser interface --------------------------------------------------------- */

/* A first payload that is a request or status line is sure (3); HTTP/0.9 "GET /x" or a
 * bare "GET" line is likely (2); port 80 or 8080 alone is a hint (1). A request line whose
 * version is RTSP/ or SIP/ is not ours. O(first line). */
static int http_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    struct vk_cur c = vk_cur_make(p, n), line = c;
    struct http_start sl;
    size_t lf, sp;
    (void)dir;
    bool whole = cur_find(&c, '\n', &lf);
    if (whole) {
        line = cur_sub(&c, 0, lf);
        if (parse_start(line, &sl, true)) return sl.v09 ? 2 : 3;
        if (bare_method(line)) return 2;
    } else {
        if (cur_prefix_ci(&line, "HTTP/1.") && vk_cur_left(&line) >= 9 && cur_at(&line, 8) == ' ')
            return 3;
        if (cur_find(&line, ' ', &sp)) { /* a request line longer than this payload */
            struct vk_cur m = cur_sub(&line, 0, sp);
            if (known_method(&m)) return 3;
        }
    }
    for (int i = 0; i < 2; i++)
        if (f->port[i] == 80 || f->port[i] == 8080) return 1;
    return 0;
}

static void http_init(void *st, struct vk_pctx *c)
{
    struct http_state *hs = st;
    (void)c;
    for (int d = 0; d < 2; d++) {
        struct http_side *s = &hs->side[d];
        vk_buf_init(&s->line, HTTP_LINE_MAX);
        vk_buf_init(&s->hdr, HTTP_LINE_MAX);
        vk_buf_init(&s->url, HTTP_LINE_MAX);
        vk_buf_init(&s->host, HTTP_URI_MAX);
        s->state = HS_START;
    }
}

/* O(n) for the segment; see the file comment for copies and allocations. */
static void http_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct http_state *hs = st;
    if (dir != VK_DIR_SRC && dir != VK_DIR_DST) return;
    struct http_side *s = &hs->side[dir];
    struct vk_cur in = vk_cur_make(p, n);
    while (vk_cur_left(&in) && !c->done) {
        switch (s->state) {
        case HS_TUNNEL:
            return;
        case HS_BODY_LEN:
        case HS_CHUNK_DATA: {
            size_t k = vk_cur_left(&in) < s->left ? vk_cur_left(&in) : (size_t)s->left;
            struct vk_cur b;
            vk_cur_take(&in, k, &b);
            body_data(s, c, b.p, k);
            s->left -= k;
            if (s->left == 0) {
                if (s->state == HS_BODY_LEN) msg_end(s, c);
                else s->state = HS_CHUNK_END;
            }
            break;
        }
        case HS_BODY_CLOSE: {
            struct vk_cur b;
            size_t k = vk_cur_left(&in);
            vk_cur_take(&in, k, &b);
            body_data(s, c, b.p, k);
            break;
        }
        default: {
            struct vk_cur line;
            if (next_line(s, c, &in, &line)) on_line(hs, s, c, dir, line);
            break;
        }
        }
    }
}

static void http_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct http_state *hs = st;
    if (dir != VK_DIR_SRC && dir != VK_DIR_DST) return;
    struct http_side *s = &hs->side[dir];
    s->line.len = 0;
    s->line_used = false;
    s->skip_line = false;
    switch (s->state) {
    case HS_TUNNEL:
        return;
    case HS_BODY_LEN:
    case HS_CHUNK_DATA:
        if (n < s->left) { /* still framed: skip the lost bytes, the hash is lost */
            s->left -= n;
            body_break(s, c);
            return;
        }
        msg_drop(s, c);
        return;
    case HS_BODY_CLOSE:
        body_break(s, c);
        return;
    default:
        msg_drop(s, c);
        return;
    }
}

static void http_finish(void *st, struct vk_pctx *c)
{
    struct http_state *hs = st;
    for (int d = 0; d < 2; d++) {
        struct http_side *s = &hs->side[d];
        switch (s->state) {
        case HS_BODY_CLOSE:
            msg_end(s, c); /* the end of the session ends this body */
            s->state = HS_RESYNC;
            break;
        case HS_BODY_LEN:
        case HS_CHUNK_SIZE:
        case HS_CHUNK_DATA:
        case HS_CHUNK_END:
        case HS_TRAILERS:
            if (s->m.body_started && !s->m.body_broken) anomaly(c, "http.truncated_body");
            msg_drop(s, c);
            break;
        case HS_HEADERS:
            msg_drop(s, c);
            break;
        default:
            break;
        }
    }
}

static void http_release(void *st)
{
    struct http_state *hs = st;
    for (int d = 0; d < 2; d++) {
        struct http_side *s = &hs->side[d];
        body_free(s);
        vk_buf_free(&s->line);
        vk_buf_free(&s->hdr);
        vk_buf_free(&s->url);
        vk_buf_free(&s->host);
    }
}

const struct vk_parser vk_proto_http = {
    .name = "http",
    .ipproto = 6,
    .probe = http_probe,
    .state_size = sizeof(struct http_state),
    .init = http_init,
    .data = http_data,
    .gap = http_gap,
    .finish = http_finish,
    .release = http_release,
};
