/* fuzz_logs_tmpl.c — libFuzzer harness for the template loader and matcher. The input is
 * a template file up to the first NUL byte and log lines after it: the file is compiled
 * (or refused with a message) and, when it loads, every line is parsed with it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vk_core.h"
#include "logs/vk_logs.h"

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/vakt-fuzz-tmpl-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    const uint8_t *z = memchr(data, 0, size);
    size_t tn = z ? (size_t)(z - data) : size;
    char path[128];
    snprintf(path, sizeof path, "%s/f.tmpl", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, tn, f);
    fclose(f);
    char err[256];
    struct vk_logs *lp = vk_logs_new(dir, err, sizeof err);
    if (!lp) return 0;
    struct vk_meta m;
    vk_meta_init(&m);
    struct vk_logsrc src = {.recv_ms = 1795780800000LL};
    const char *p = z ? (const char *)z + 1 : NULL, *e = (const char *)data + size;
    while (p && p <= e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        vk_logs_parse(lp, p, n, &src, &m);
        if (!nl) break;
        p = nl + 1;
    }
    vk_meta_free(&m);
    vk_logs_free(lp);
    return 0;
}
