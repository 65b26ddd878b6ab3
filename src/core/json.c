/* json.c — a small append-only JSON writer, used for every JSON line vakt prints.
 *
 * Hand-written rather than jansson because it sits on the per-record output path: no
 * tree is built, the buffer is reused across records. Strings are escaped; bytes that are
 * not valid UTF-8 are written as the code point of their Latin-1 reading, so the output
 * is always valid JSON. */
#include <stdlib.h>

#include "vk_core.h"

void vk_json_init(struct vk_json *j) { memset(j, 0, sizeof *j); }
void vk_json_free(struct vk_json *j)
{
    free(j->p);
    memset(j, 0, sizeof *j);
}

static void grow(struct vk_json *j, size_t n)
{
    if (j->len + n + 1 <= j->cap) return;
    size_t nc = j->cap ? j->cap : 4096;
    while (nc < j->len + n + 1) nc *= 2;
    char *np = realloc(j->p, nc);
    if (!np) abort(); /* out of memory on output: nothing sensible is left to do */
    j->p = np;
    j->cap = nc;
}

void vk_json_raw(struct vk_json *j, const char *s, size_t n)
{
    grow(j, n);
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = 0;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t l;
    uint32_t cp;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) l = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) l = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) l = 4, cp = c & 0x07;
    else return 0;
    if (l > n) return 0;
    for (size_t i = 1; i < l; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((l == 2 && cp < 0x80) || (l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return l;
}

void vk_json_str(struct vk_json *j, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    grow(j, n * 6 + 2);
    char *o = j->p + j->len;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = utf8_len(u + i, n - i);
            if (l) {
                memcpy(o, u + i, l);
                o += l;
                i += l;
                continue;
            }
        }
        switch (c) {
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
            *o++ = hx[c >> 4]; *o++ = hx[c & 15];
        }
        i++;
    }
    *o++ = '"';
    j->len = (size_t)(o - j->p);
    j->p[j->len] = 0;
}

static void comma(struct vk_json *j)
{
    if (j->need_comma) vk_json_raw(j, ",", 1);
    j->need_comma = true;
}

void vk_json_obj_begin(struct vk_json *j)
{
    comma(j);
    vk_json_raw(j, "{", 1);
    j->need_comma = false;
}
void vk_json_obj_end(struct vk_json *j)
{
    vk_json_raw(j, "}", 1);
    j->need_comma = true;
}
void vk_json_arr_begin(struct vk_json *j)
{
    comma(j);
    vk_json_raw(j, "[", 1);
    j->need_comma = false;
}
void vk_json_arr_end(struct vk_json *j)
{
    vk_json_raw(j, "]", 1);
    j->need_comma = true;
}
void vk_json_key(struct vk_json *j, const char *k)
{
    size_t n = strlen(k);
    comma(j);
    /* Keys are registry names or other literals: plain ASCII needs no escaping. */
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = (unsigned char)k[i] >= 0x20 && (unsigned char)k[i] < 0x80 && k[i] != '"' && k[i] != '\\';
    if (!plain) {
        vk_json_str(j, k, n);
        vk_json_raw(j, ":", 1);
    } else {
        grow(j, n + 3);
        char *o = j->p + j->len;
        o[0] = '"';
        memcpy(o + 1, k, n);
        o[n + 1] = '"';
        o[n + 2] = ':';
        j->len += n + 3;
        j->p[j->len] = 0;
    }
    j->need_comma = false;
}
void vk_json_val_str(struct vk_json *j, const char *s, size_t n)
{
    comma(j);
    vk_json_str(j, s, n);
}
void vk_json_val_uint(struct vk_json *j, uint64_t v)
{
    char b[24];
    size_t i = sizeof b;
    comma(j);
    do { /* every record has a dozen numbers: no printf on this path */
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    vk_json_raw(j, b + i, sizeof b - i);
}

static void write_item(struct vk_json *j, const struct vk_meta *m, const struct vk_meta_item *it)
{
    enum vk_type t = vk_key_info(it->key)->type;
    if (t == VK_T_UINT || t == VK_T_TIME)
        vk_json_val_uint(j, it->u);
    else
        vk_json_val_str(j, vk_meta_str(m, it), it->len);
}

void vk_json_meta(struct vk_json *j, const struct vk_meta *m)
{
    /* Group by key in registry order: count per key first (one pass), then emit. */
    uint16_t count[VK_K__COUNT] = {0};
    int32_t firsti[VK_K__COUNT];
    for (uint32_t i = 0; i < m->n; i++) {
        if (count[m->items[i].key]++ == 0) firsti[m->items[i].key] = (int32_t)i;
    }
    vk_json_obj_begin(j);
    for (int k = 0; k < VK_K__COUNT; k++) {
        if (!count[k]) continue;
        vk_json_key(j, vk_key_info(k)->name);
        if (count[k] == 1) {
            write_item(j, m, &m->items[firsti[k]]);
            continue;
        }
        vk_json_arr_begin(j);
        for (uint32_t i = (uint32_t)firsti[k]; i < m->n; i++)
            if (m->items[i].key == k) write_item(j, m, &m->items[i]);
        vk_json_arr_end(j);
    }
    vk_json_obj_end(j);
}
