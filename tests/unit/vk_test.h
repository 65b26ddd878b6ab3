/* vk_test.h — what every cmocka unit test includes: cmocka itself and corpus access.
 * Tests read real bytes from ../shared/corpus (VAKT_CORPUS overrides the path). */
#ifndef VK_TEST_H
#define VK_TEST_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>

#include "core/vk_core.h"

/* Path of a corpus file, e.g. vk_test_corpus("pcap/arkime/dns-udp.pcap"). Static buffer. */
static inline const char *vk_test_corpus(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("VAKT_CORPUS");
    snprintf(buf, sizeof buf, "%s/%s", base ? base : "../shared/corpus", rel);
    return buf;
}
/* Hex text ("16030100...") to bytes; a bad digit fails the test. Returns the length. */
static inline size_t vk_test_unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] && h[1] && n < cap; h += 2) {
        unsigned v;
        assert_int_equal(sscanf(h, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Does key k hold the string value v? */
static inline bool vk_test_has(const struct vk_meta *m, enum vk_key k, const char *v)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key == k && it->len == strlen(v) && memcmp(vk_meta_str(m, it), v, it->len) == 0)
            return true;
    }
    return false;
}

#define VK_HAS(m, k, v) assert_true(vk_test_has(m, k, v))

/* Key k holds exactly these string values (as a set). */
#define VK_ASSERT_SET(m, k, ...)                                                          \
    do {                                                                                  \
        const char *want_[] = {__VA_ARGS__};                                              \
        size_t n_ = sizeof want_ / sizeof *want_;                                         \
        for (size_t i_ = 0; i_ < n_; i_++)                                                \
            if (!vk_test_has(m, k, want_[i_])) fail_msg("%s lacks \"%s\"", #k, want_[i_]); \
        assert_int_equal(vk_meta_count(m, k), n_);                                        \
    } while (0)

#endif
