/* fuzz_logs.c — libFuzzer harness for the log parser: framings, the shipped templates and
 * the miner. The input is cut into lines, each parsed by one long-lived vk_logs (so the
 * miner and the peer memory see sequences), and every record is written as JSON, which
 * must be valid UTF-8 whatever the line held. Templates come from templates/logs found
 * next to the harness (build-fuzz/../templates/logs). */
#include <stdlib.h>

#include "core/vk_core.h"
#include "logs/vk_logs.h"

static struct vk_logs *lp;
static struct vk_meta m;
static struct vk_json j;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!lp) {
        char err[256];
        lp = vk_logs_new(NULL, err, sizeof err);
        if (!lp) abort(); /* a template file that does not load is a bug of ours */
        vk_meta_init(&m);
        vk_json_init(&j);
    }
    struct vk_logsrc src = {.recv_ms = 1795780800000LL, .source = "fuzz"};
    const char *p = (const char *)data, *e = p + size;
    while (p <= e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        vk_logs_parse(lp, p, n, &src, &m);
        j.len = 0;
        j.need_comma = false;
        vk_json_meta(&j, &m);
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}
