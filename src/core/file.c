/* file.c — hashing and typing of files carried in sessions (HTTP bodies, attachments,
 * FTP data). MD5 and SHA-256 via OpenSSL's EVP, MIME type via libmagic on the first
 * VK_FILE_HEAD bytes. libmagic handles are not thread-safe: one per thread, loaded on
 * first use and kept for the thread's life, with a memo of its answers. */
#include <magic.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <xxhash.h>

#include "vk_core.h"

/* Per-thread libmagic state. magic_buffer costs about 0.2 ms whatever the buffer size
 * (it walks the whole magic database), and traffic repeats the same files (scripts,
 * images, error pages) endlessly, so answers are memoised by a 128-bit hash of exactly the
 * bytes libmagic would see: the same bytes always get libmagic's own answer. The memo is
 * direct-mapped (MEMO_SLOTS entries); MIME names are interned, at most MAX_NAMES. */
#define MEMO_SLOTS 4096
#define MAX_NAMES 512

struct magic_tl {
    magic_t m;
    struct {
        XXH128_hash_t key;
        const char *mime;
    } memo[MEMO_SLOTS];
    char *names[MAX_NAMES];
    int nnames;
};

static _Thread_local struct magic_tl *tl;
static _Thread_local bool tl_failed;
static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

/* A thread's libmagic handle and memo are released when the thread exits. */
static void magic_release(void *arg)
{
    struct magic_tl *t = arg;
    magic_close(t->m);
    for (int i = 0; i < t->nnames; i++) free(t->names[i]);
    free(t);
}
static void magic_key_init(void) { pthread_key_create(&magic_key, magic_release); }

static struct magic_tl *magic_state(void)
{
    if (tl || tl_failed) return tl;
    pthread_once(&magic_once, magic_key_init);
    struct magic_tl *t = calloc(1, sizeof *t);
    if (t) t->m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
    if (!t || !t->m || magic_load(t->m, NULL) != 0) {
        if (t && t->m) magic_close(t->m);
        free(t);
        tl_failed = true;
        return NULL;
    }
    pthread_setspecific(magic_key, t);
    return tl = t;
}

/* The interned copy of a MIME name, or NULL when the table is full. */
static const char *intern(struct magic_tl *t, const char *name)
{
    for (int i = 0; i < t->nnames; i++)
        if (strcmp(t->names[i], name) == 0) return t->names[i];
    if (t->nnames == MAX_NAMES) return NULL;
    char *c = strdup(name);
    if (c) t->names[t->nnames++] = c;
    return c;
}

/* Formats whose first bytes settle libmagic's answer, answered without it (as Arkime's
 * magicMode "both" does with its own table). Only prefixes where libmagic's MIME type
 * cannot depend on later bytes; tests/unit/test_core.c checks each against libmagic. */
static const char *fast_mime(const uint8_t *p, size_t n)
{
    static const struct {
        const char *prefix;
        uint8_t len;
        const char *mime;
    } tab[] = {
        {"\x1f\x8b\x08", 3, "application/x-gzip"},
        {"\xff\xd8\xff", 3, "image/jpeg"},
        {"GIF87a", 6, "image/gif"},
        {"GIF89a", 6, "image/gif"},
        /* PNG signature and the IHDR chunk that must follow it (magic's own test) */
        {"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "image/png"},
        {"!<arch>\ndebian-binary", 21, "application/vnd.debian.binary-package"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
        if (n >= 64 && memcmp(p, tab[i].prefix, tab[i].len) == 0) return tab[i].mime;
    return NULL;
}

const char *vk_magic_mime(const void *p, size_t n)
{
    const char *fast = fast_mime(p, n);
    if (fast) return fast;
    struct magic_tl *t = magic_state();
    if (!t || n == 0) return NULL;
    XXH128_hash_t h = XXH3_128bits(p, n);
    unsigned slot = (unsigned)(h.low64 % MEMO_SLOTS);
    if (t->memo[slot].mime && XXH128_isEqual(t->memo[slot].key, h)) return t->memo[slot].mime;
    const char *m = magic_buffer(t->m, p, n);
    if (!m) return NULL;
    /* Older libmagic names, which Arkime (and most analysts' filters) use. */
    if (strcmp(m, "application/gzip") == 0) m = "application/x-gzip";
    const char *keep = intern(t, m);
    if (!keep) return m;
    t->memo[slot].key = h;
    t->memo[slot].mime = keep;
    return keep;
}

/* Digests fetched once: EVP_md5() as an argument makes OpenSSL 3 look the algorithm up
 * under a lock at every init. */
static EVP_MD *md_md5, *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static void md_fetch(void)
{
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int vk_file_begin(struct vk_file *f)
{
    pthread_once(&md_once, md_fetch);
    f->size = 0; /* head[] is written before it is read: no need to clear 4 KiB */
    f->head_len = 0;
    f->open = false;
    f->md5 = EVP_MD_CTX_new();
    f->sha256 = EVP_MD_CTX_new();
    if (!f->md5 || !f->sha256 || !md_md5 || !md_sha256 ||
        !EVP_DigestInit_ex(f->md5, md_md5, NULL) || !EVP_DigestInit_ex(f->sha256, md_sha256, NULL)) {
        vk_file_abort(f);
        return VK_ENOMEM;
    }
    f->open = true;
    return 0;
}

void vk_file_update(struct vk_file *f, const void *p, size_t n)
{
    if (!f->open || n == 0) return;
    EVP_DigestUpdate(f->md5, p, n);
    EVP_DigestUpdate(f->sha256, p, n);
    if (f->head_len < VK_FILE_HEAD) {
        size_t k = VK_FILE_HEAD - f->head_len < n ? VK_FILE_HEAD - f->head_len : n;
        memcpy(f->head + f->head_len, p, k);
        f->head_len += k;
    }
    f->size += n;
}

void vk_file_abort(struct vk_file *f)
{
    EVP_MD_CTX_free(f->md5);
    EVP_MD_CTX_free(f->sha256);
    f->md5 = f->sha256 = NULL;
    f->open = false;
}

void vk_file_end(struct vk_file *f, struct vk_meta *m, const char *name)
{
    if (!f->open) return;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (name && *name) vk_meta_add_cstr(m, VK_K_FILE_NAME, name);
    vk_meta_add_uint(m, VK_K_FILE_SIZE, f->size);
    if (EVP_DigestFinal_ex(f->md5, d, &dl)) {
        vk_hex(d, dl, hex);
        vk_meta_add_str(m, VK_K_FILE_MD5, hex, 2 * dl);
    }
    if (EVP_DigestFinal_ex(f->sha256, d, &dl)) {
        vk_hex(d, dl, hex);
        vk_meta_add_str(m, VK_K_FILE_SHA256, hex, 2 * dl);
    }
    const char *mime = vk_magic_mime(f->head, f->head_len);
    if (mime) vk_meta_add_cstr(m, VK_K_FILE_TYPE, mime);
    vk_file_abort(f);
}
