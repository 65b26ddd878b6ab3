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

/* Path of a corpus file, e.g. vk_test_corpus("pcap/arkime/dns-udp.pcap"). Static buffer. */
static inline const char *vk_test_corpus(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("VAKT_CORPUS");
    snprintf(buf, sizeof buf, "%s/%s", base ? base : "../shared/corpus", rel);
    return buf;
}
#endif
