/* smtp.c — the SMTP parser: envelope, headers and attachments of every mail in a session.
 *
 * Owns a line-oriented state machine per direction. The client side carries commands
 * (EHLO/HELO, MAIL FROM, RCPT TO, AUTH, STARTTLS, DATA, BDAT) and then the message itself;
 * the server side carries replies, which we pair with the pipelined commands to learn
 * whether STARTTLS, AUTH and DATA were accepted. The message is walked as MIME: the
 * top-level headers give email.* meta (Subject decoded from RFC 2047 to UTF-8 the way
 * Arkime does it), multipart bodies are split on their (nested) boundaries and every
 * attachment is decoded (base64 / quoted-printable) and hashed through struct vk_file.
 *
 * Values follow Arkime's smtp.c so that the scorer can compare them: addresses are
 * lower-cased, brackets stripped, Subject keeps the spaces Arkime keeps. When the server
 * accepts STARTTLS (220) the parser stops and asks the flow stage to probe what follows
 * (c->done + c->reprobe): TLS normally, or SMTP again in captures whose TLS layer was
 * decrypted.
 *
 * Memory: three bounded vk_buf per session (command line, message line, header), one
 * vk_file while an attachment is open, and a 4 KiB buffer that batches decoded attachment
 * bytes for hashing. Nothing is allocated per packet. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>

#include "vk_proto.h"

#define SMTP_LINE_MAX 8192u      /* command or reply line; longer ones are cut */
#define SMTP_MLINE_MAX 65536u    /* physical message line while in headers */
#define SMTP_BODY_CHUNK 4096u    /* body lines longer than this are decoded in pieces */
#define SMTP_HDR_MAX 65536u      /* one unfolded header */
#define SMTP_MAX_BOUNDS 8        /* nesting depth of multipart bodies */
#define SMTP_BOUND_LEN 80        /* RFC 2046 allows 70 characters */
#define SMTP_NAME_MAX 1024       /* attachment file name, decoded */
#define SMTP_PENDING 32          /* pipelined commands waiting for a reply */
#define SMTP_VALUE_MAX 4096      /* decoded header value (Arkime's own cap is 4095) */

enum { CMD_OTHER, CMD_DATA, CMD_BDAT, CMD_STARTTLS, CMD_AUTH };
enum { M_CMD, M_AUTH_LOGIN_USER, M_AUTH_LOGIN_PASS, M_AUTH_PLAIN, M_DATA, M_BDAT };
enum { MS_HDR, MS_BODY, MS_PREAMBLE, MS_PART_HDR, MS_PART_BODY, MS_EPILOGUE };
enum { ENC_RAW, ENC_B64, ENC_QP };

struct smtp_bound {
    uint8_t len;
    char s[SMTP_BOUND_LEN];
};

/* What the headers of the current entity (the message or one MIME part) said. */
struct smtp_part {
    uint8_t enc;
    bool attach;          /* Content-Disposition: attachment */
    bool name_from_disp;  /* name came from Content-Disposition (wins over Content-Type) */
    uint8_t bound_len;
    char bound[SMTP_BOUND_LEN];
    uint16_t name_len;
    char name[SMTP_NAME_MAX + 1]; /* NUL-terminated */
};

struct smtp_state {
    struct vk_lines line[2]; /* command / reply line per direction */
    uint8_t client;        /* direction of the SMTP client */
    bool decided;          /* client direction settled */
    bool service, greeted;
    bool starttls;         /* STARTTLS was sent: a TLS record may follow */
    bool tls_pending;      /* ... and its reply has not come yet */
    uint8_t mode;          /* client side: M_* */

    uint8_t pend[SMTP_PENDING]; /* kinds of the commands awaiting a reply */
    uint8_t pend_head, pend_n;

    /* the message being received */
    bool in_msg;
    bool msg_seen;         /* a message byte arrived since DATA */
    uint64_t bdat_left;
    bool bdat_last;
    struct vk_buf mline;   /* physical message line */
    bool mdrop;            /* discard message bytes up to the next LF */
    bool mid_line;         /* mline continues a line whose head was already handled */
    struct vk_buf hdr;     /* unfolded header */
    bool hdr_cut;
    uint8_t ms;            /* MS_* */
    uint8_t nbound;
    struct smtp_bound bound[SMTP_MAX_BOUNDS];
    struct smtp_part part;

    /* body decoding of the current part */
    struct vk_b64 b64;
    uint8_t nl_pending;    /* line break owed to a raw / QP body: 0, 1 = LF, 2 = CRLF */
    struct vk_file file;
    /* decoded bytes not yet hashed: a base64 line gives 57 bytes, and two digest updates
     * per line cost more than the hashing itself */
    uint16_t ob_len;
    uint8_t ob[4096];
};

/* ---- small text helpers ------------------------------------------------------------ */

static bool is_ws(uint8_t ch) { return ch == ' ' || ch == '\t'; }

/* Case-insensitive: does [s, s+n) equal the literal? */
static bool eq_ci(const uint8_t *s, size_t n, const char *lit)
{
    return strlen(lit) == n && vk_prefix_ci(s, n, lit);
}

/* Offset of the literal in [s, s+n), case-insensitive; n when absent. O(n * |lit|). */
static size_t find_ci(const uint8_t *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    for (size_t i = 0; i + l <= n; i++)
        if (vk_prefix_ci(s + i, n - i, lit)) return i;
    return n;
}

/* Offset of the two-byte sequence ab in [s+from, s+n); n when absent. */
static size_t find2(const uint8_t *s, size_t n, size_t from, uint8_t a, uint8_t b)
{
    for (size_t i = from; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b) return i;
    return n;
}

/* Arkime's smtp_remove_matching: skip blanks and an opening `open`, stop at `close`. */
static void strip_matching(const uint8_t *s, size_t n, uint8_t open, uint8_t close, size_t *off,
                           size_t *len)
{
    size_t i = 0;
    while (i < n && isspace(s[i])) i++;
    if (i < n && s[i] == open) i++;
    size_t st = i;
    while (i < n && s[i] != close) i++;
    *off = st;
    *len = i - st;
}

/* ---- charset conversion ------------------------------------------------------------ */

struct obuf {
    char *p;
    size_t len, cap;
};

static void ob_put(struct obuf *o, const void *s, size_t n)
{
    size_t k = n < o->cap - o->len ? n : o->cap - o->len;
    if (k) memcpy(o->p + o->len, s, k);
    o->len += k;
}

static void ob_cp(struct obuf *o, uint32_t cp)
{
    uint8_t b[3];
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        ob_put(o, b, 1);
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        ob_put(o, b, 2);
    } else {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        ob_put(o, b, 3);
    }
}

/* Windows-1252 0x80..0x9f; 0 marks the five undefined bytes (iconv rejects them). */
static const uint16_t cp1252_hi[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t ch = s[i];
        size_t k;
        uint32_t cp, min;
        if (ch < 0x80) { i++; continue; }
        if ((ch & 0xe0) == 0xc0) { k = 1; cp = ch & 0x1f; min = 0x80; }
        else if ((ch & 0xf0) == 0xe0) { k = 2; cp = ch & 0x0f; min = 0x800; }
        else if ((ch & 0xf8) == 0xf0) { k = 3; cp = ch & 0x07; min = 0x10000; }
        else return false;
        if (n - i <= k) return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += k + 1;
    }
    return true;
}

/* Charset name without '-', '_' and any RFC 2231 "*lang" suffix, lower-cased. */
static void cs_norm(const uint8_t *cs, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && cs[i] != '*' && o + 1 < cap; i++)
        if (cs[i] != '-' && cs[i] != '_') out[o++] = (char)tolower(cs[i]);
    out[o] = 0;
}

/* Append in[0..n) converted from charset cs to UTF-8. False when the bytes are not valid
 * in that charset or the charset is unknown (Arkime then keeps the raw value). Fast paths
 * for UTF-8, ASCII, Latin-1 and Windows-1252; other charsets go through iconv, which
 * allocates a converter per call (once per encoded word, never per packet). */
static bool to_utf8(const uint8_t *cs, size_t csn, const uint8_t *in, size_t n, struct obuf *o)
{
    char norm[48];
    bool ascii = true;
    for (size_t i = 0; i < n; i++)
        if (in[i] >= 0x80) ascii = false;
    cs_norm(cs, csn, norm, sizeof norm);
    if (!strcmp(norm, "utf8")) {
        if (!utf8_valid(in, n)) return false;
        ob_put(o, in, n);
        return true;
    }
    if (!strcmp(norm, "usascii") || !strcmp(norm, "ascii")) {
        if (!ascii) return false;
        ob_put(o, in, n);
        return true;
    }
    if (ascii && strncmp(norm, "utf16", 5) && strncmp(norm, "utf32", 5) &&
        strncmp(norm, "ucs", 3) && strcmp(norm, "utf7") && strncmp(norm, "iso2022", 7)) {
        ob_put(o, in, n);
        return true;
    }
    bool latin1 = !strcmp(norm, "iso88591") || !strcmp(norm, "latin1") || !strcmp(norm, "l1");
    bool w1252 = !strcmp(norm, "windows1252") || !strcmp(norm, "cp1252");
    if (latin1 || w1252) {
        for (size_t i = 0; i < n; i++) {
            uint32_t cp = in[i];
            if (w1252 && cp >= 0x80 && cp < 0xa0) {
                cp = cp1252_hi[cp - 0x80];
                if (!cp) return false;
            }
            ob_cp(o, cp);
        }
        return true;
    }
    char name[48];
    size_t k = 0;
    for (size_t i = 0; i < csn && cs[i] != '*' && k + 1 < sizeof name; i++)
        name[k++] = (char)cs[i];
    name[k] = 0;
    if (!k) return false;
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return false;
    char *ip = (char *)(uintptr_t)in, *op = o->p + o->len;
    size_t il = n, ol = o->cap - o->len;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    bool ok = r != (size_t)-1 || errno == E2BIG;
    if (ok) o->len = (size_t)(op - o->p);
    iconv_close(cd);
    return ok;
}

/* ---- RFC 2047 encoded words, the Arkime way ------------------------------------------ */

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decode a header value with encoded words into UTF-8. Text outside the words is read as
 * Windows-1252 (as Arkime does, even when it is UTF-8 already) unless keep_utf8 is set and
 * the text is valid UTF-8; a single space before "=?" is dropped (so "?= =?" joins), other
 * spaces stay. A malformed value is returned raw. Returns the length written. O(n). */
static size_t smtp_decode_words(const uint8_t *s, size_t n, char *out, size_t cap, bool keep_utf8)
{
    static const uint8_t w1252[] = "windows-1252", u8[] = "utf-8";
    uint8_t tmp[SMTP_VALUE_MAX];
    struct obuf o = {out, 0, cap};
    size_t i = 0;
    while (i < n) {
        size_t q = find2(s, n, i, '=', '?');
        if (q != i) {
            size_t from = i;
            if (q < n && q == i + 1 && s[i] == ' ') from = i + 1;
            bool u = keep_utf8 && utf8_valid(s + from, q - from);
            if (!to_utf8(u ? u8 : w1252, u ? sizeof u8 - 1 : sizeof w1252 - 1, s + from, q - from, &o))
                goto raw;
            i = q;
            continue;
        }
        size_t qm = i + 2;
        while (qm < n && s[qm] != '?') qm++;
        if (qm + 3 > n) goto raw;
        size_t eq = find2(s, n, qm + 3, '?', '=');
        if (eq == n) goto raw;
        const uint8_t *cs = s + i + 2, *txt = s + qm + 3;
        size_t csn = qm - (i + 2), tn = eq - (qm + 3), dn = 0;
        uint8_t e = s[qm + 1];
        if (tn == 0) {
            /* empty encoded text */
        } else if (e == 'B' || e == 'b') {
            dn = vk_base64_decode((const char *)txt, tn, tmp, sizeof tmp);
            if (!to_utf8(cs, csn, tmp, dn, &o)) goto raw;
        } else if (e == 'Q' || e == 'q') {
            for (size_t j = 0; j < tn && dn < sizeof tmp; j++) {
                int hi, lo;
                if (txt[j] == '=' && j + 2 < tn && (hi = hexval(txt[j + 1])) >= 0 &&
                    (lo = hexval(txt[j + 2])) >= 0) {
                    tmp[dn++] = (uint8_t)(hi << 4 | lo);
                    j += 2;
                } else {
                    tmp[dn++] = txt[j] == '_' ? ' ' : txt[j];
                }
            }
            if (!to_utf8(cs, csn, tmp, dn, &o)) goto raw;
        } else {
            goto raw;
        }
        i = eq + 2;
    }
    return o.len;
raw:
    o.len = 0;
    ob_put(&o, s, n);
    return o.len;
}

/* ---- MIME parameters (RFC 2045 / 2231) ---------------------------------------------- */

static size_t pct_decode(const uint8_t *s, size_t n, uint8_t *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

/* Value of parameter `want` in a header value such as `type/sub; a=b; c="d"`, decoded to
 * UTF-8 into out. RFC 2231 forms (name*=charset'lang'pct, name*0=, name*1*=) win over the
 * plain form, which may hold RFC 2047 words (decoded when `decode`; a boundary is taken as
 * is). Returns the length; 0 when absent. O(n). */
static size_t mime_param(const uint8_t *v, size_t n, const char *want, char *out, size_t cap, bool decode)
{
    uint8_t plain[SMTP_VALUE_MAX], ext[SMTP_VALUE_MAX], val[SMTP_VALUE_MAX];
    uint8_t cs[48];
    size_t plain_n = 0, ext_n = 0, cs_n = 0, wl = strlen(want);
    bool have_plain = false, have_ext = false;
    size_t i = 0;
    while (i < n && v[i] != ';') i++;
    while (i < n) {
        i++; /* ';' */
        while (i < n && isspace(v[i])) i++;
        size_t ns = i;
        while (i < n && v[i] != '=' && v[i] != ';' && !isspace(v[i])) i++;
        size_t nn = i - ns;
        while (i < n && isspace(v[i])) i++;
        if (i >= n || v[i] != '=') {
            while (i < n && v[i] != ';') i++;
            continue;
        }
        i++;
        while (i < n && isspace(v[i])) i++;
        size_t vn = 0;
        if (i < n && v[i] == '"') {
            i++;
            while (i < n && v[i] != '"') {
                if (v[i] == '\\' && i + 1 < n) i++;
                if (vn < sizeof val) val[vn++] = v[i];
                i++;
            }
        } else {
            while (i < n && v[i] != ';' && !isspace(v[i])) {
                if (vn < sizeof val) val[vn++] = v[i];
                i++;
            }
        }
        while (i < n && v[i] != ';') i++;

        const uint8_t *nm = v + ns;
        if (nn == wl && vk_prefix_ci(nm, nn, want)) {
            memcpy(plain, val, vn);
            plain_n = vn;
            have_plain = true;
        } else if (nn > wl && vk_prefix_ci(nm, nn, want) && nm[wl] == '*') {
            /* name*  |  name*N  |  name*N*  */
            size_t r = wl + 1;
            bool first = true, encoded = r == nn;
            if (r < nn) {
                unsigned idx = 0;
                size_t d = r;
                while (d < nn && isdigit(nm[d]) && idx < 1000) idx = idx * 10 + (unsigned)(nm[d++] - '0');
                if (d == r) continue;
                first = idx == 0;
                encoded = d < nn && nm[d] == '*';
            }
            const uint8_t *sv = val;
            size_t sn = vn;
            if (encoded && first) {
                size_t a = 0;
                while (a < sn && sv[a] != '\'') a++;
                cs_n = a < sizeof cs ? a : sizeof cs;
                memcpy(cs, sv, cs_n);
                if (a < sn) a++;
                while (a < sn && sv[a] != '\'') a++; /* language */
                if (a < sn) a++;
                sv += a;
                sn -= a;
            }
            if (encoded)
                ext_n += pct_decode(sv, sn, ext + ext_n, sizeof ext - ext_n);
            else {
                size_t k = sn < sizeof ext - ext_n ? sn : sizeof ext - ext_n;
                memcpy(ext + ext_n, sv, k);
                ext_n += k;
            }
            have_ext = true;
        }
    }
    if (have_ext) {
        struct obuf o = {out, 0, cap};
        static const uint8_t u8[] = "utf-8";
        if (!cs_n) {
            memcpy(cs, u8, 5);
            cs_n = 5;
        }
        if (to_utf8(cs, cs_n, ext, ext_n, &o)) return o.len;
        o.len = 0;
        ob_put(&o, ext, ext_n);
        return o.len;
    }
    if (have_plain && !decode) {
        size_t k = plain_n < cap ? plain_n : cap;
        memcpy(out, plain, k);
        return k;
    }
    if (have_plain) return smtp_decode_words(plain, plain_n, out, cap, true);
    return 0;
}

/* ---- meta helpers ------------------------------------------------------------------ */

static void add_service(struct smtp_state *s, struct vk_pctx *c)
{
    if (s->service) return;
    s->service = true;
    vk_meta_add_cstr(c->meta, VK_K_SERVICE, "smtp");
}

/* Arkime's smtp_parse_email_addresses: comma list, quoted display names skipped, the
 * address between <> when present, lower-cased. */
static void add_addresses(struct vk_pctx *c, enum vk_key k, const uint8_t *d, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && isspace(d[i])) i++;
        size_t st = i;
        if (i < n && d[i] == '"') {
            i++;
            while (i < n && d[i] != '"') i++;
            if (i < n) i++;
            while (i < n && isspace(d[i])) i++;
            st = i;
        }
        while (i < n && d[i] != '<' && d[i] != ',') i++;
        if (i < n && d[i] == '<') {
            i++;
            st = i;
            while (i < n && d[i] != '>') i++;
        }
        if (i > st) vk_meta_add_lower(c->meta, k, (const char *)d + st, i - st);
        while (i < n && d[i] != ',') i++;
        if (i < n) i++;
    }
}

/* Host names of a Received header ("from X", "by Y") go to alias.host. */
static void add_received(struct vk_pctx *c, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t skip;
        if (i > 0 && !isspace(d[i - 1]) && d[i - 1] != '(') continue;
        if (vk_prefix_ci(d + i, n - i, "from ")) skip = 5;
        else if (vk_prefix_ci(d + i, n - i, "by ")) skip = 3;
        else continue;
        size_t j = i + skip;
        while (j < n && isspace(d[j])) j++;
        size_t st = j;
        while (j < n && !isspace(d[j]) && d[j] != ')' && d[j] != ';') {
            if (d[j] == '@') st = j + 1;
            j++;
        }
        if (j > st && d[st] != '[' && d[st] != '(' && d[st] != '<')
            vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, (const char *)d + st, j - st);
        i = j > i ? j - 1 : i;
    }
}

/* ---- pipelined commands and their replies ------------------------------------------ */

static void pend_push(struct smtp_state *s, uint8_t kind)
{
    if (s->pend_n == SMTP_PENDING) return;
    s->pend[(s->pend_head + s->pend_n) % SMTP_PENDING] = kind;
    s->pend_n++;
}

static uint8_t pend_pop(struct smtp_state *s)
{
    if (!s->pend_n) return CMD_OTHER;
    uint8_t k = s->pend[s->pend_head];
    s->pend_head = (uint8_t)((s->pend_head + 1) % SMTP_PENDING);
    s->pend_n--;
    return k;
}

/* ---- the message ------------------------------------------------------------------- */

static void part_reset(struct smtp_state *s)
{
    s->part.enc = ENC_RAW;
    s->part.attach = s->part.name_from_disp = false;
    s->part.bound_len = 0;
    s->part.name_len = 0;
    s->part.name[0] = 0;
    s->b64 = (struct vk_b64){0, 0};
    s->nl_pending = 0;
}

static void part_flush(struct smtp_state *s)
{
    if (s->ob_len && s->file.open) vk_file_update(&s->file, s->ob, s->ob_len);
    s->ob_len = 0;
}

/* Decoded attachment bytes go to the file through s->ob. O(n). */
static void part_emit(struct smtp_state *s, const void *p, size_t n)
{
    if (!s->file.open || !n) return;
    if (s->ob_len + n > sizeof s->ob) {
        part_flush(s);
        if (n >= sizeof s->ob) {
            vk_file_update(&s->file, p, n);
            return;
        }
    }
    memcpy(s->ob + s->ob_len, p, n);
    s->ob_len = (uint16_t)(s->ob_len + n);
}

/* The open file's hash would be wrong (gap, cut message): drop it. */
static void part_drop(struct smtp_state *s)
{
    s->ob_len = 0;
    if (s->file.open) vk_file_abort(&s->file);
}

/* The body of the current part is over: hash and name the file (whole files only). */
static void part_end(struct smtp_state *s, struct vk_pctx *c, bool complete)
{
    const char *name = s->part.name_len ? s->part.name : NULL;
    if (s->file.open) {
        if (complete) {
            part_flush(s);
            vk_file_end(&s->file, c->meta, name);
            name = NULL;
        } else {
            part_drop(s);
        }
    }
    if (name) vk_meta_add_str(c->meta, VK_K_FILE_NAME, name, s->part.name_len);
    part_reset(s);
}

static void part_begin_body(struct smtp_state *s, struct vk_pctx *c, bool top)
{
    bool want = s->part.name_len || s->part.attach || (!top && s->part.enc == ENC_B64);
    s->b64 = (struct vk_b64){0, 0};
    s->nl_pending = 0;
    if (want && !s->file.open && vk_file_begin(&s->file) != 0)
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.file_alloc");
}

static void msg_begin(struct smtp_state *s)
{
    s->in_msg = true;
    s->msg_seen = false;
    s->ms = MS_HDR;
    s->nbound = 0;
    s->mline.len = 0;
    s->hdr.len = 0;
    s->hdr_cut = false;
    s->mdrop = s->mid_line = false;
    part_reset(s);
}

/* One complete top-level or part header (unfolded). */
static void header_done(struct smtp_state *s, struct vk_pctx *c)
{
    const uint8_t *l = s->hdr.p;
    size_t n = s->hdr.len, colon = 0;
    char out[SMTP_VALUE_MAX];
    if (!n) return;
    while (colon < n && l[colon] != ':') colon++;
    if (colon == n) return;
    const uint8_t *v = l + colon + 1;
    size_t vn = n - colon - 1, off, len;
    bool top = s->ms == MS_HDR;

    if (eq_ci(l, colon, "content-type")) {
        size_t k = 0;
        while (k < vn && isspace(v[k])) k++;
        if (top && vn > k) vk_meta_add_str(c->meta, VK_K_EMAIL_CONTENT_TYPE, (const char *)v + k, vn - k);
        size_t bl = mime_param(v, vn, "boundary", out, sizeof out, false);
        if (bl) {
            if (bl >= SMTP_BOUND_LEN) {
                vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.boundary_too_long");
                bl = SMTP_BOUND_LEN - 1;
            }
            memcpy(s->part.bound, out, bl);
            s->part.bound_len = (uint8_t)bl;
        }
        if (!s->part.name_from_disp) {
            size_t nl = mime_param(v, vn, "name", out, sizeof out, true);
            if (nl) {
                if (nl > SMTP_NAME_MAX) nl = SMTP_NAME_MAX;
                memcpy(s->part.name, out, nl);
                s->part.name[nl] = 0;
                s->part.name_len = (uint16_t)nl;
            }
        }
    } else if (eq_ci(l, colon, "content-transfer-encoding")) {
        if (find_ci(v, vn, "base64") < vn) s->part.enc = ENC_B64;
        else if (find_ci(v, vn, "quoted-printable") < vn) s->part.enc = ENC_QP;
    } else if (eq_ci(l, colon, "content-disposition")) {
        size_t k = 0;
        while (k < vn && isspace(v[k])) k++;
        if (vk_prefix_ci(v + k, vn - k, "attachment")) s->part.attach = true;
        size_t nl = mime_param(v, vn, "filename", out, sizeof out, true);
        if (nl) {
            if (nl > SMTP_NAME_MAX) {
                vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.filename_too_long");
                nl = SMTP_NAME_MAX;
            }
            memcpy(s->part.name, out, nl);
            s->part.name[nl] = 0;
            s->part.name_len = (uint16_t)nl;
            s->part.name_from_disp = true;
        }
    } else if (!top) {
        return;
    } else if (eq_ci(l, colon, "subject")) {
        /* Arkime drops exactly one space after the colon. */
        size_t k = vn > 0 && v[0] == ' ' ? 1 : 0;
        size_t ol = smtp_decode_words(v + k, vn - k, out, sizeof out, false);
        if (ol) vk_meta_add_str(c->meta, VK_K_EMAIL_SUBJECT, out, ol);
    } else if (eq_ci(l, colon, "from")) {
        add_addresses(c, VK_K_EMAIL_SRC, v, vn);
    } else if (eq_ci(l, colon, "to") || eq_ci(l, colon, "cc")) {
        add_addresses(c, VK_K_EMAIL_DST, v, vn);
    } else if (eq_ci(l, colon, "message-id")) {
        strip_matching(v, vn, '<', '>', &off, &len);
        if (len) vk_meta_add_str(c->meta, VK_K_EMAIL_MESSAGE_ID, (const char *)v + off, len);
    } else if (eq_ci(l, colon, "received")) {
        add_received(c, v, vn);
    }
}

static void bound_push(struct smtp_state *s, struct vk_pctx *c)
{
    if (s->nbound == SMTP_MAX_BOUNDS) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.mime_too_deep");
        return;
    }
    struct smtp_bound *b = &s->bound[s->nbound++];
    b->len = s->part.bound_len;
    memcpy(b->s, s->part.bound, b->len);
}

/* A physical line while in (part) headers. */
static void header_line(struct smtp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n)
{
    if (n && is_ws(l[0])) { /* folded: Arkime turns the first blank into one space */
        if (!s->hdr.len) return;
        if (vk_buf_append(&s->hdr, " ", 1) || vk_buf_append(&s->hdr, l + 1, n - 1)) {
            if (!s->hdr_cut) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.header_too_long");
            s->hdr_cut = true;
        }
        return;
    }
    header_done(s, c);
    s->hdr.len = 0;
    s->hdr_cut = false;
    if (n == 0) { /* end of headers */
        bool top = s->ms == MS_HDR;
        if (s->part.bound_len) {
            bound_push(s, c);
            s->ms = MS_PREAMBLE;
            /* a multipart entity carries no file of its own */
            s->part.name_len = 0;
            s->part.name[0] = 0;
            s->part.attach = false;
        } else {
            s->ms = top ? MS_BODY : MS_PART_BODY;
            part_begin_body(s, c, top);
        }
        return;
    }
    if (vk_buf_append(&s->hdr, l, n)) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.header_too_long");
        s->hdr_cut = true;
    }
}

/* "--boundary" or "--boundary--" of any open multipart level. */
static bool boundary_line(struct smtp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n)
{
    for (int i = s->nbound - 1; i >= 0; i--) {
        const struct smtp_bound *b = &s->bound[i];
        if (n < 2u + b->len || memcmp(l + 2, b->s, b->len) != 0) continue;
        part_end(s, c, true);
        bool closing = n >= 4u + b->len && l[2 + b->len] == '-' && l[3 + b->len] == '-';
        s->nbound = (uint8_t)(closing ? i : i + 1);
        s->ms = closing ? MS_EPILOGUE : MS_PART_HDR;
        s->hdr.len = 0;
        return true;
    }
    return false;
}

/* Decode one piece of a body line into the open file. start: the piece begins a line;
 * end: it finishes one (term: 0 none, 1 LF, 2 CRLF). */
static void body_piece(struct smtp_state *s, const uint8_t *l, size_t n, int term, bool start, bool end)
{
    uint8_t out[SMTP_BODY_CHUNK];
    size_t o = 0;
    if (!s->file.open) return;
    if (s->part.enc == ENC_B64) {
        while (n) { /* pieces are at most SMTP_BODY_CHUNK; decode in output-sized steps */
            size_t k = n < sizeof out * 4 / 3 - 4 ? n : sizeof out * 4 / 3 - 4;
            part_emit(s, out, vk_b64_feed(&s->b64, l, k, out));
            l += k;
            n -= k;
        }
        return;
    }
    if (start && s->nl_pending) {
        part_emit(s, s->nl_pending == 2 ? "\r\n" : "\n", s->nl_pending);
        s->nl_pending = 0;
    }
    if (s->part.enc == ENC_RAW) {
        part_emit(s, l, n);
        if (end) s->nl_pending = (uint8_t)term;
        return;
    }
    /* quoted-printable: trailing blanks are transport padding, a final '=' is a soft break */
    bool soft = false;
    if (end) {
        while (n && is_ws(l[n - 1])) n--;
        if (n && l[n - 1] == '=') {
            soft = true;
            n--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (o == sizeof out) {
            part_emit(s, out, o);
            o = 0;
        }
        if (l[i] == '=' && i + 2 < n && (hi = hexval(l[i + 1])) >= 0 && (lo = hexval(l[i + 2])) >= 0) {
            out[o++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = l[i];
        }
    }
    part_emit(s, out, o);
    if (end && !soft && term) s->nl_pending = 2;
}

/* One piece of a message line, after dot-unstuffing. */
static void msg_piece(struct smtp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n, int term,
                      bool start, bool end)
{
    switch (s->ms) {
    case MS_HDR:
    case MS_PART_HDR:
        header_line(s, c, l, n);
        return;
    default:
        break;
    }
    if (start && end && s->nbound && n >= 2 && l[0] == '-' && l[1] == '-' && boundary_line(s, c, l, n))
        return;
    if (s->ms == MS_BODY || s->ms == MS_PART_BODY) body_piece(s, l, n, term, start, end);
}

static void msg_end(struct smtp_state *s, struct vk_pctx *c, bool complete)
{
    if (s->mline.len && !s->mdrop) { /* BDAT data need not end with a line break */
        msg_piece(s, c, s->mline.p, s->mline.len, 0, !s->mid_line, true);
    }
    if (s->ms == MS_HDR || s->ms == MS_PART_HDR) header_done(s, c);
    part_end(s, c, complete);
    s->mline.len = 0;
    s->hdr.len = 0;
    s->nbound = 0;
    s->in_msg = false;
    s->mode = M_CMD;
}

/* A whole line l[0..ln) (term: 1 LF, 2 CRLF, already cut off), in mline or in place in the
 * segment: unstuff and handle it. */
static void mline_line(struct smtp_state *s, struct vk_pctx *c, const uint8_t *l, size_t ln, int term,
                       bool dot)
{
    size_t st = (dot && !s->mid_line && ln && l[0] == '.') ? 1 : 0;
    msg_piece(s, c, l + st, ln - st, term, !s->mid_line, true);
    s->mline.len = 0;
    s->mid_line = false;
}

/* mline is full in the middle of a body line: decode all but the last bytes, which may be
 * the CR of a CRLF or part of a QP escape. */
static void mline_piece(struct smtp_state *s, struct vk_pctx *c, bool dot)
{
    size_t keep = s->part.enc == ENC_QP ? 3 : 1;
    if (keep > s->mline.len) keep = s->mline.len;
    const uint8_t *l = s->mline.p;
    size_t ln = s->mline.len - keep;
    size_t st = (dot && !s->mid_line && ln && l[0] == '.') ? 1 : 0;
    msg_piece(s, c, l + st, ln - st, 0, !s->mid_line, false);
    vk_buf_consume(&s->mline, ln);
    s->mid_line = true;
}

/* Message bytes of DATA (dot = true) or BDAT. Returns the bytes consumed: in DATA mode it
 * stops right after the ".\r\n" that ends the message. O(n), copies each byte once into
 * mline; body lines longer than SMTP_BODY_CHUNK are decoded in pieces, header lines longer
 * than SMTP_MLINE_MAX are cut. */
static size_t msg_feed(struct smtp_state *s, struct vk_pctx *c, const uint8_t *p, size_t n, bool dot)
{
    struct vk_cur cur = vk_cur_make(p, n);
    if (n) s->msg_seen = true;
    while (vk_cur_left(&cur)) {
        size_t left = vk_cur_left(&cur);
        const uint8_t *nl = memchr(cur.p, '\n', left);
        size_t take = nl ? (size_t)(nl - cur.p) + 1 : left;
        if (s->mdrop) {
            vk_cur_skip(&cur, take);
            if (nl) s->mdrop = false;
            continue;
        }
        bool hdr = s->ms == MS_HDR || s->ms == MS_PART_HDR;
        size_t cap = hdr ? SMTP_MLINE_MAX : SMTP_BODY_CHUNK;
        if (nl && !s->mline.len && take <= cap) {
            /* the whole line is in this segment: handle it in place, no copy */
            const uint8_t *l = cur.p;
            size_t ln = take - 1;
            int term = 1;
            vk_cur_skip(&cur, take);
            if (ln && l[ln - 1] == '\r') {
                ln--;
                term = 2;
            }
            if (dot && !s->mid_line && ln == 1 && l[0] == '.') {
                msg_end(s, c, true);
                return (size_t)(cur.p - p);
            }
            mline_line(s, c, l, ln, term, dot);
            continue;
        }
        size_t room = s->mline.len < cap ? cap - s->mline.len : 0;
        if (take > room) {
            vk_buf_append(&s->mline, cur.p, room);
            vk_cur_skip(&cur, room);
            if (hdr) { /* keep the head of the line, skip to its end */
                vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.header_too_long");
                mline_line(s, c, s->mline.p, s->mline.len, 2, dot);
                s->mdrop = true;
            } else {
                mline_piece(s, c, dot);
            }
            continue;
        }
        vk_buf_append(&s->mline, cur.p, take);
        vk_cur_skip(&cur, take);
        if (!nl) break;
        size_t ln = s->mline.len - 1;
        int term = 1;
        if (ln && s->mline.p[ln - 1] == '\r') {
            ln--;
            term = 2;
        }
        if (dot && !s->mid_line && ln == 1 && s->mline.p[0] == '.') {
            s->mline.len = 0;
            msg_end(s, c, true);
            return (size_t)(cur.p - p);
        }
        mline_line(s, c, s->mline.p, ln, term, dot);
    }
    return n;
}

/* ---- commands and replies ---------------------------------------------------------- */

static void auth_plain(struct vk_pctx *c, const uint8_t *b64, size_t n)
{
    uint8_t d[1024];
    size_t dn = vk_base64_decode((const char *)b64, n, d, sizeof d);
    size_t z = 0;
    while (z < dn && d[z]) z++; /* authzid */
    if (z >= dn) return;
    size_t st = z + 1, e = st;
    while (e < dn && d[e]) e++; /* authcid */
    if (e > st) vk_meta_add_lower(c->meta, VK_K_USER, (const char *)d + st, e - st);
    if (e < dn) vk_meta_set_uint(c->meta, VK_K_PASSWORD_SEEN, 1);
}

static void auth_user(struct vk_pctx *c, const uint8_t *b64, size_t n)
{
    uint8_t d[512];
    size_t dn = vk_base64_decode((const char *)b64, n, d, sizeof d);
    if (dn) vk_meta_add_lower(c->meta, VK_K_USER, (const char *)d, dn);
}

/* Does the line begin with the command word `w` (followed by the end or a blank)? */
static bool cmd_is(const uint8_t *l, size_t n, const char *w)
{
    size_t k = strlen(w);
    return vk_prefix_ci(l, n, w) && (n == k || is_ws(l[k]));
}

static void client_line(struct smtp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n)
{
    size_t off, len;
    switch (s->mode) {
    case M_AUTH_LOGIN_USER:
        pend_push(s, CMD_AUTH);
        s->mode = M_AUTH_LOGIN_PASS;
        if (n == 1 && l[0] == '*') s->mode = M_CMD;
        else auth_user(c, l, n);
        return;
    case M_AUTH_LOGIN_PASS:
        pend_push(s, CMD_AUTH);
        if (n && !(n == 1 && l[0] == '*')) vk_meta_set_uint(c->meta, VK_K_PASSWORD_SEEN, 1);
        s->mode = M_CMD;
        return;
    case M_AUTH_PLAIN:
        pend_push(s, CMD_AUTH);
        if (!(n == 1 && l[0] == '*')) auth_plain(c, l, n);
        s->mode = M_CMD;
        return;
    default:
        break;
    }

    if (cmd_is(l, n, "EHLO") || cmd_is(l, n, "HELO")) {
        pend_push(s, CMD_OTHER);
        size_t a = 4, e = n;
        while (a < n && is_ws(l[a])) a++;
        while (e > a && is_ws(l[e - 1])) e--;
        if (e > a) {
            add_service(s, c);
            vk_meta_add_lower(c->meta, VK_K_SMTP_HELO, (const char *)l + a, e - a);
            if (l[a] != '[') vk_meta_add_lower(c->meta, VK_K_ALIAS_HOST, (const char *)l + a, e - a);
        }
    } else if (vk_prefix_ci(l, n, "MAIL FROM:")) {
        pend_push(s, CMD_OTHER);
        add_service(s, c);
        strip_matching(l + 10, n - 10, '<', '>', &off, &len);
        if (len) vk_meta_add_lower(c->meta, VK_K_EMAIL_SRC, (const char *)l + 10 + off, len);
    } else if (vk_prefix_ci(l, n, "RCPT TO:")) {
        pend_push(s, CMD_OTHER);
        add_service(s, c);
        strip_matching(l + 8, n - 8, '<', '>', &off, &len);
        if (len) vk_meta_add_lower(c->meta, VK_K_EMAIL_DST, (const char *)l + 8 + off, len);
    } else if (cmd_is(l, n, "DATA")) {
        pend_push(s, CMD_DATA);
        msg_begin(s);
        s->mode = M_DATA;
    } else if (cmd_is(l, n, "BDAT")) {
        pend_push(s, CMD_BDAT);
        size_t i = 4;
        uint64_t sz = 0;
        while (i < n && is_ws(l[i])) i++;
        if (i == n || !isdigit(l[i])) {
            vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.bad_bdat");
            return;
        }
        while (i < n && isdigit(l[i]) && sz < (1ull << 40)) sz = sz * 10 + (uint64_t)(l[i++] - '0');
        while (i < n && is_ws(l[i])) i++;
        s->bdat_last = vk_prefix_ci(l + i, n - i, "LAST");
        if (!s->in_msg) msg_begin(s);
        s->bdat_left = sz;
        s->mode = M_BDAT;
        if (sz == 0) {
            s->mode = M_CMD;
            if (s->bdat_last) msg_end(s, c, true);
        }
    } else if (cmd_is(l, n, "AUTH")) {
        pend_push(s, CMD_AUTH);
        size_t i = 4;
        while (i < n && is_ws(l[i])) i++;
        const uint8_t *m = l + i;
        size_t mn = n - i;
        if (cmd_is(m, mn, "LOGIN")) {
            size_t a = 5;
            while (a < mn && is_ws(m[a])) a++;
            if (a < mn) {
                auth_user(c, m + a, mn - a);
                s->mode = M_AUTH_LOGIN_PASS;
            } else {
                s->mode = M_AUTH_LOGIN_USER;
            }
        } else if (cmd_is(m, mn, "PLAIN")) {
            size_t a = 5;
            while (a < mn && is_ws(m[a])) a++;
            if (a < mn && !(mn - a == 1 && m[a] == '=')) auth_plain(c, m + a, mn - a);
            else s->mode = M_AUTH_PLAIN;
        }
    } else if (cmd_is(l, n, "STARTTLS")) {
        pend_push(s, CMD_STARTTLS);
        s->starttls = s->tls_pending = true;
        vk_meta_set_uint(c->meta, VK_K_SMTP_STARTTLS, 1);
    } else if (cmd_is(l, n, "RSET")) {
        pend_push(s, CMD_OTHER);
        if (s->in_msg) msg_end(s, c, false);
    } else if (n) {
        pend_push(s, CMD_OTHER);
    }
}

static void server_line(struct smtp_state *s, struct vk_pctx *c, const uint8_t *l, size_t n)
{
    if (n < 3 || !isdigit(l[0]) || !isdigit(l[1]) || !isdigit(l[2])) return;
    if (n > 3 && l[3] != ' ' && l[3] != '-') return;
    unsigned code = (unsigned)(l[0] - '0') * 100 + (unsigned)(l[1] - '0') * 10 + (unsigned)(l[2] - '0');
    bool final = n == 3 || l[3] == ' ';
    if (!s->greeted && !s->pend_n && code == 220) { /* the greeting answers no command */
        if (find_ci(l, n, "SMTP") < n) add_service(s, c);
        if (final) s->greeted = true;
        return;
    }
    s->greeted = true;
    if (!final) return;
    uint8_t kind = pend_pop(s);
    if (s->tls_pending && (kind == CMD_STARTTLS || code == 220)) {
        s->tls_pending = false;
        if (code == 220) { /* the rest is TLS: let the flow stage offer it to the TLS parser */
            c->done = true;
            c->reprobe = true;
            return;
        }
    }
    switch (kind) {
    case CMD_DATA:
        if (code != 354 && s->mode == M_DATA && !s->msg_seen) { /* DATA refused */
            s->in_msg = false;
            s->mode = M_CMD;
        }
        break;
    case CMD_AUTH:
        if (code != 334 && s->mode >= M_AUTH_LOGIN_USER && s->mode <= M_AUTH_PLAIN) s->mode = M_CMD;
        break;
    default:
        break;
    }
}

/* ---- parser callbacks -------------------------------------------------------------- */

static bool smtp_port(uint16_t p) { return p == 25 || p == 587 || p == 465 || p == 2525; }

static int smtp_probe(const struct vk_flow_view *f, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    bool port = smtp_port(f->port[VK_DIR_DST]) || smtp_port(f->port[VK_DIR_SRC]);
    if (n >= 5 && (vk_prefix_ci(p, n, "EHLO ") || vk_prefix_ci(p, n, "HELO "))) return 3;
    if (n >= 5 && (vk_prefix_ci(p, n, "EHLO\r") || vk_prefix_ci(p, n, "HELO\r"))) return port ? 2 : 0;
    if (n >= 4 && !memcmp(p, "220", 3) && (p[3] == ' ' || p[3] == '-')) {
        size_t m = n < 512 ? n : 512;
        if (find_ci(p, m, "SMTP") < m) return 3;
        if (find_ci(p, m, "FTP") < m) return 0;
        return port ? 2 : 0;
    }
    return port ? 1 : 0;
}

static void smtp_init(void *st, struct vk_pctx *c)
{
    struct smtp_state *s = st;
    (void)c;
    vk_lines_init(&s->line[0], SMTP_LINE_MAX);
    vk_lines_init(&s->line[1], SMTP_LINE_MAX);
    vk_buf_init(&s->mline, SMTP_MLINE_MAX);
    vk_buf_init(&s->hdr, SMTP_HDR_MAX);
    s->client = VK_DIR_SRC;
}

/* O(n) per call; every byte is copied once into a bounded line buffer. */
static void smtp_data(void *st, struct vk_pctx *c, int dir, const uint8_t *p, size_t n)
{
    struct smtp_state *s = st;
    struct vk_cur cur = vk_cur_make(p, n);
    dir = dir ? 1 : 0;
    while (vk_cur_left(&cur) && !c->done) {
        size_t left = vk_cur_left(&cur);
        bool client = s->decided && dir == s->client;
        if (client && s->mode == M_DATA) {
            size_t k = msg_feed(s, c, cur.p, left, true);
            vk_cur_skip(&cur, k);
            continue;
        }
        if (client && s->mode == M_BDAT) {
            size_t k = left < s->bdat_left ? left : (size_t)s->bdat_left;
            msg_feed(s, c, cur.p, k, false);
            vk_cur_skip(&cur, k);
            s->bdat_left -= k;
            if (!s->bdat_left) {
                s->mode = M_CMD;
                if (s->bdat_last) msg_end(s, c, true);
            }
            continue;
        }
        struct vk_lines *lb = &s->line[dir];
        /* after STARTTLS a TLS record at a line start means the rest is encrypted (this
         * catches captures where the server's 220 was not seen) */
        if (s->starttls && vk_lines_at_start(lb) && cur.p[0] == 0x16) {
            c->done = true;
            c->reprobe = true;
            c->reprobe_at = (size_t)(cur.p - p);
            return;
        }
        const uint8_t *l;
        size_t ln;
        int r = vk_lines_next(lb, &cur, &l, &ln);
        if (r < 0) vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.line_too_long");
        if (r <= 0) continue;
        if (!s->decided) {
            s->decided = true;
            s->client = (uint8_t)(vk_reply_line(l, ln) ? !dir : dir);
        }
        if (dir == s->client) client_line(s, c, l, ln);
        else server_line(s, c, l, ln);
    }
}

static void smtp_gap(void *st, struct vk_pctx *c, int dir, size_t n)
{
    struct smtp_state *s = st;
    dir = dir ? 1 : 0;
    if (s->decided && dir == s->client && (s->mode == M_DATA || s->mode == M_BDAT)) {
        vk_meta_add_cstr(c->meta, VK_K_ANOMALY, "smtp.gap_in_message");
        part_drop(s); /* the hash would be wrong */
        s->mline.len = 0;
        s->mid_line = false;
        if (s->mode == M_BDAT) {
            if (n >= s->bdat_left) {
                s->bdat_left = 0;
                s->mode = M_CMD;
                vk_lines_resync(&s->line[dir]);
                if (s->bdat_last) msg_end(s, c, false);
            } else {
                s->bdat_left -= n;
                s->mdrop = true;
            }
        } else {
            s->mdrop = true;
        }
        return;
    }
    vk_lines_resync(&s->line[dir]);
}

static void smtp_finish(void *st, struct vk_pctx *c)
{
    struct smtp_state *s = st;
    if (s->in_msg) msg_end(s, c, false);
}

static void smtp_release(void *st)
{
    struct smtp_state *s = st;
    vk_lines_free(&s->line[0]);
    vk_lines_free(&s->line[1]);
    vk_buf_free(&s->mline);
    vk_buf_free(&s->hdr);
    part_drop(s);
}

const struct vk_parser vk_proto_smtp = {
    .name = "smtp",
    .ipproto = 6,
    .probe = smtp_probe,
    .state_size = sizeof(struct smtp_state),
    .init = smtp_init,
    .data = smtp_data,
    .gap = smtp_gap,
    .finish = smtp_finish,
    .release = smtp_release,
};
