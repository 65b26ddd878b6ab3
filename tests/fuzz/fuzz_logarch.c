/* fuzz_logarch.c — libFuzzer harness for the log archive's readers and crash recovery:
 * garbage as chain, head, sealed or open segment and raw segment files, fed to verify,
 * search, get() and a writer's open() (which recovers what it finds). Nothing may crash,
 * leak or loop; every answer is an error code or a named problem.
 *
 * Input: byte 0 picks the mode (low 2 bits) and flags; bytes 1-2 (little-endian) split the
 * rest into part A and part B.
 *   mode 0: A = chain file, B = segment "2024-01-01T00.00000001.zst"      -> verify, search
 *   mode 1: A = chain file, B = segment content, zstd-compressed here (reaches the record
 *           parser), flag 0x04 cuts the compressed file in half           -> verify, search
 *   mode 2: A = refs (8 bytes each), B = raw segment 0000000001.raw       -> reader get()
 *   mode 3: A = chain, B = an open segment (compressed here when flag 0x04) and the same
 *           bytes as the last raw segment                                 -> writer open/close */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "store/vk_logarch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64], g_arc[128], g_raw[128];

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    if (n && write(fd, p, n) != (ssize_t)n) abort();
    close(fd);
}

static void empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d) closedir(d);
}

static int count(void *ud, const struct vk_logarch_rec *r)
{
    volatile uint8_t x = r->len ? r->line[r->len - 1] : 0;
    if (r->source_len) x ^= (uint8_t)r->source[r->source_len - 1];
    (void)x;
    (*(uint64_t *)ud)++;
    return 0;
}

/* Compressed copy of p (malloc'd) with the stream header the reader wants first. */
static uint8_t *compress_content(const uint8_t *p, size_t n, size_t *out_n)
{
    uint8_t *in = malloc(n + 8);
    memcpy(in, "VKLA\x01\0\0\0", 8);
    if (n) memcpy(in + 8, p, n);
    size_t cap = ZSTD_compressBound(n + 8);
    uint8_t *out = malloc(cap);
    size_t r = ZSTD_compress(out, cap, in, n + 8, 1);
    free(in);
    if (ZSTD_isError(r)) abort();
    *out_n = r;
    return out;
}

static void cleanup(void)
{
    char p[128];
    empty(g_arc);
    empty(g_raw);
    rmdir(g_arc);
    rmdir(g_raw);
    snprintf(p, sizeof p, "%s/logs", g_dir);
    empty(p);
    rmdir(p);
    rmdir(g_dir);
}

static void readers(void)
{
    FILE *null = fopen("/dev/null", "w");
    struct vk_logarch_verify_opt opt = {.deep = true, .verbose = true,
                                        .expect_head = "00e6764b1d5a9a5d667853c309b0b230c5e1d8593e89a1669a7bf24c98cab7c7"};
    vk_logarch_verify(g_dir, &opt, null);
    uint64_t n = 0;
    char err[256];
    struct vk_logarch_query q = {.from_ms = INT64_MIN, .to_ms = INT64_MAX, .pattern = "a.*b", .regex = true, .warn = null};
    vk_logarch_search(g_dir, &q, count, &n, err, sizeof err);
    q.pattern = "A";
    q.regex = false;
    q.icase = true;
    q.from_ms = 1704067200000LL;
    q.to_ms = 1704070800000LL;
    vk_logarch_search(g_dir, &q, count, &n, err, sizeof err);
    fclose(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_dir[0]) {
        /* tmpfs when there is one: the writer fsyncs at every seal */
        struct stat sb;
        const char *base = stat("/dev/shm", &sb) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(g_dir, sizeof g_dir, "%s/fuzz_logarch.%d", base, (int)getpid());
        snprintf(g_arc, sizeof g_arc, "%s/logs/archive", g_dir);
        snprintf(g_raw, sizeof g_raw, "%s/logs/raw", g_dir);
        mkdir(g_dir, 0700);
        char p[128];
        snprintf(p, sizeof p, "%s/logs", g_dir);
        mkdir(p, 0700);
        mkdir(g_arc, 0700);
        mkdir(g_raw, 0700);
        atexit(cleanup);
    }
    if (size < 3) return 0;
    unsigned mode = data[0] & 3, flags = data[0];
    size_t la = (size_t)(data[1] | data[2] << 8);
    data += 3;
    size -= 3;
    if (la > size) la = size;
    const uint8_t *a = data, *b = data + la;
    size_t lb = size - la;
    empty(g_arc);
    empty(g_raw);
    const char *seg = "2024-01-01T00.00000001.zst";

    if (mode == 0 || mode == 1) {
        put(g_arc, "chain", a, la);
        if (mode == 0) {
            put(g_arc, seg, b, lb);
        } else {
            size_t zn;
            uint8_t *z = compress_content(b, lb, &zn);
            put(g_arc, seg, z, flags & 4 ? zn / 2 : zn);
            free(z);
        }
        if (flags & 8) put(g_arc, "head", b, lb < 200 ? lb : 200);
        readers();
    } else if (mode == 2) {
        put(g_raw, "0000000001.raw", b, lb);
        struct vk_logarch_cfg cfg;
        vk_logarch_cfg_default(&cfg);
        cfg.readonly = true;
        char err[256];
        struct vk_logarch *ar = vk_logarch_open(g_dir, &cfg, err, sizeof err, NULL);
        if (ar) {
            struct vk_buf buf;
            vk_buf_init(&buf, 1 << 20);
            struct vk_logarch_line info;
            for (size_t i = 0; i + 8 <= la && i < 64; i += 8) {
                uint64_t ref = 1ull << 32 | (uint64_t)(a[i] | a[i + 1] << 8 | a[i + 2] << 16);
                vk_logarch_get(ar, ref, &buf, &info);
            }
            vk_logarch_get(ar, 1ull << 32 | 16, &buf, &info);
            vk_buf_free(&buf);
            vk_logarch_close(ar);
        }
    } else {
        put(g_arc, "chain", a, la);
        if (flags & 4) {
            size_t zn;
            uint8_t *z = compress_content(b, lb, &zn);
            put(g_arc, "2024-01-01T00.00000001.zst.open", z, flags & 8 ? zn - zn / 3 : zn);
            free(z);
        } else {
            put(g_arc, "2024-01-01T00.00000001.zst.open", b, lb);
        }
        put(g_raw, "0000000001.raw", b, lb);
        if (flags & 16) put(g_arc, "head", a, la < 120 ? la : 120);
        char err[256];
        struct vk_logarch *w = vk_logarch_open(g_dir, NULL, err, sizeof err, NULL);
        if (w) {
            uint64_t ref;
            vk_logarch_append(w, 1704067200000LL, "fuzz", "x", 1, &ref);
            vk_logarch_close(w);
        }
        readers();
    }
    return 0;
}
