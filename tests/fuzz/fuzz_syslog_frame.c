/* fuzz_syslog_frame.c — libFuzzer harness for the RFC 6587 framing state machine.
 *
 * Input: byte 0 picks max_msg (1..64, or 64 KiB when its top bit is set), byte 1 seeds the
 * read sizes and how often emit refuses a message; the rest is the TCP stream. The stream is
 * framed twice: all at once, and in pseudo-random reads with refusals and resumes. Both must
 * give the same messages (framing does not depend on where reads end), no message may be
 * empty or longer than max_msg, and the buffer never grows past max_msg + one read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "logs/vk_loginput.h"

struct out {
    uint64_t *h;
    size_t n, cap;
    size_t max;
    unsigned refuse_every, calls;
};

static int emit(void *ud, const uint8_t *m, size_t len, bool cut)
{
    struct out *o = ud;
    if (o->refuse_every && ++o->calls % o->refuse_every == 0) return 1;
    if (len == 0 || len > o->max) abort();
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->h = realloc(o->h, o->cap * sizeof *o->h);
        if (!o->h) abort();
    }
    o->h[o->n++] = XXH3_64bits_withSeed(m, len, cut ? 1 : 0);
    return 0;
}

static void check_cap(const struct vk_syslog_frame *f)
{
    if (f->cap > f->max_msg + 16 * 1024 + 32) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 2) return 0;
    size_t max = d[0] & 0x80 ? 65536 : 1 + d[0] % 64;
    uint32_t seed = d[1] * 2654435761u + 1;
    d += 2;
    n -= 2;

    struct vk_syslog_frame f;
    struct out a = {.max = max}, b = {.max = max, .refuse_every = 2 + d[-1] % 5};
    vk_syslog_frame_init(&f, max);
    vk_syslog_frame_feed(&f, d, n, emit, &a, NULL);
    check_cap(&f);
    vk_syslog_frame_finish(&f, emit, &a);
    vk_syslog_frame_free(&f);

    vk_syslog_frame_init(&f, max);
    for (size_t off = 0; off < n;) {
        seed = seed * 1103515245u + 12345u;
        size_t k = 1 + (seed >> 16) % 97, used = 0;
        if (k > n - off) k = n - off;
        while (vk_syslog_frame_feed(&f, d + off, k, emit, &b, &used)) {
            off += used;
            k -= used;
            check_cap(&f);
            while (vk_syslog_frame_run(&f, 0, emit, &b)) {
            }
        }
        off += k;
        check_cap(&f);
    }
    while (vk_syslog_frame_finish(&f, emit, &b)) {
    }
    vk_syslog_frame_free(&f);

    if (a.n != b.n || (a.n && memcmp(a.h, b.h, a.n * sizeof *a.h))) abort();
    free(a.h);
    free(b.h);
    return 0;
}
