/* store_fill.c — fill a data directory with N synthetic session records for the store
 * benchmarks (bench/store.sh), through the real write path (vk_store_put).
 *
 * The records are copies of the sessions of a template data directory (one ingested
 * bench capture), each copy with a new id, its time moved across 30 days and its client
 * address spread over 10.64.0.0/10 (about 4M distinct clients), so value counts and
 * selective queries see realistic cardinalities. Deterministic for a given N.
 *
 *   store_fill TEMPLATE_DIR OUT_DIR N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/store/vk_store.h"

struct tpl {
    struct vk_meta *m;
    size_t n, cap;
};

static int keep(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct tpl *t = ud;
    (void)info;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->m = realloc(t->m, t->cap * sizeof *t->m);
        if (!t->m) return 1;
    }
    vk_meta_init(&t->m[t->n]);
    vk_meta_append(&t->m[t->n], m);
    t->n++;
    return 0;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: store_fill TEMPLATE_DIR OUT_DIR N\n");
        return 2;
    }
    char err[1024];
    struct vk_store *src = vk_store_open(argv[1], VK_STORE_READ, NULL, err, sizeof err);
    if (!src) {
        fprintf(stderr, "store_fill: %s\n", err);
        return 2;
    }
    struct tpl t = {0};
    struct vk_store_sel sel;
    vk_store_sel_default(&sel);
    if (vk_store_query(src, NULL, &sel, keep, &t, err, sizeof err) != 0 || !t.n) {
        fprintf(stderr, "store_fill: no template records in %s %s\n", argv[1], err);
        return 1;
    }
    vk_store_close(src);
    uint64_t n = strtoull(argv[3], NULL, 10);
    struct vk_store_cfg cfg;
    vk_store_cfg_default(&cfg);
    cfg.batch_records = 50000;
    cfg.queue_records = 200000;
    cfg.cache_mb = 2048;
    struct vk_store *dst = vk_store_open(argv[2], VK_STORE_WRITE, &cfg, err, sizeof err);
    if (!dst) {
        fprintf(stderr, "store_fill: %s\n", err);
        return 2;
    }
    const uint64_t t0 = 1772442000000ull; /* 2026-03-02 09:00 UTC */
    struct vk_meta m;
    vk_meta_init(&m);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (uint64_t i = 0; i < n; i++) {
        const struct vk_meta *s = &t.m[i % t.n];
        uint64_t h = mix(i + 1);
        uint64_t tm = t0 + i * (30ull * 86400000ull) / (n ? n : 1);
        uint64_t dur = 0;
        uint64_t st = 0, en = 0;
        for (uint32_t k = 0; k < s->n; k++) {
            if (s->items[k].key == VK_K_TIME) st = s->items[k].u;
            if (s->items[k].key == VK_K_TIME_END) en = s->items[k].u;
        }
        dur = en > st ? en - st : 0;
        vk_meta_reset(&m);
        vk_meta_add_uint(&m, VK_K_TIME, tm);
        vk_meta_add_uint(&m, VK_K_TIME_END, tm + dur);
        vk_meta_printf(&m, VK_K_ID, "%016llx", (unsigned long long)h);
        uint8_t ip[4] = {10, (uint8_t)(64 | ((h >> 8) & 63)), (uint8_t)(h >> 16), (uint8_t)(h >> 24)};
        vk_meta_add_ip(&m, VK_K_IP_SRC, 4, ip);
        for (uint32_t k = 0; k < s->n; k++) {
            const struct vk_meta_item *it = &s->items[k];
            if (it->key == VK_K_TIME || it->key == VK_K_TIME_END || it->key == VK_K_ID || it->key == VK_K_IP_SRC) continue;
            enum vk_type ty = vk_key_info(it->key)->type;
            if (ty == VK_T_UINT || ty == VK_T_TIME) vk_meta_add_uint(&m, it->key, it->u);
            else vk_meta_add_str(&m, it->key, vk_meta_str(s, it), it->len);
        }
        if (vk_store_put(dst, &m, NULL) != 0) {
            fprintf(stderr, "store_fill: %s\n", vk_store_error(dst));
            return 1;
        }
        if ((i + 1) % 1000000 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &b);
            fprintf(stderr, "store_fill: %llu records, %.0f/s\n", (unsigned long long)(i + 1),
                    (i + 1) / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
        }
    }
    int rc = vk_store_close(dst);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "store_fill: %llu records in %.1f s from %zu templates\n", (unsigned long long)n,
            (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, t.n);
    vk_meta_free(&m);
    for (size_t i = 0; i < t.n; i++) vk_meta_free(&t.m[i]);
    free(t.m);
    return rc ? 1 : 0;
}
