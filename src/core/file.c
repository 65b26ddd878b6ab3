/* file.c — hashing and typing of files carried in sessions (HTTP bodies, attachments,
 * FTP data). MD5 and SHA-256 via OpenSSL's EVP, MIME type via libmagic on the first
 * VK_FILE_HEAD bytes. libmagic handles are not thread-safe: one per thread, loaded on
 * first use and kept for the thread's life. */
#include <magic.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#include "vk_core.h"

static _Thread_local magic_t tl_magic;
static _Thread_local bool tl_magic_failed;
static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

/* A worker thread's libmagic handle is closed when the thread exits. */
static void magic_release(void *h) { magic_close(h); }
static void magic_key_init(void) { pthread_key_create(&magic_key, magic_release); }

const char *vk_magic_mime(const void *p, size_t n)
{
    if (!tl_magic && !tl_magic_failed) {
        pthread_once(&magic_once, magic_key_init);
        tl_magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
        if (!tl_magic || magic_load(tl_magic, NULL) != 0) {
            if (tl_magic) magic_close(tl_magic);
            tl_magic = NULL;
            tl_magic_failed = true;
        } else {
            pthread_setspecific(magic_key, tl_magic);
        }
    }
    if (!tl_magic || n == 0) return NULL;
    const char *m = magic_buffer(tl_magic, p, n);
    /* Older libmagic names, which Arkime (and most analysts' filters) use. */
    if (m && strcmp(m, "application/gzip") == 0) return "application/x-gzip";
    return m;
}

int vk_file_begin(struct vk_file *f)
{
    memset(f, 0, sizeof *f);
    f->md5 = EVP_MD_CTX_new();
    f->sha256 = EVP_MD_CTX_new();
    if (!f->md5 || !f->sha256 || !EVP_DigestInit_ex(f->md5, EVP_md5(), NULL) ||
        !EVP_DigestInit_ex(f->sha256, EVP_sha256(), NULL)) {
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
