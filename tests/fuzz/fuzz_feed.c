/* fuzz_feed.c — the threat-intel feed parsers (src/enrich/feed.c) on arbitrary bytes.
 *
 * Input: byte 0 picks the format (csv, list, stix, misp, warninglist; csv with a column spec
 * when bit 3 is set), the rest is the feed. A feed that parses is then built into a matcher
 * and a few lookups run, its cache file is written and read back, so every value the parser
 * lets through also goes through normalisation, the build and the cache escaping.
 * Seeds: files under corpus/intel (maltrail trails, warninglists, STIX, MISP events) with the
 * format byte in front. */
#include <stdlib.h>
#include <unistd.h>

#include "enrich/enrich_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) return 0;
    static const enum vk_enrich_fmt fmts[5] = {VK_ENRICH_CSV, VK_ENRICH_LIST, VK_ENRICH_STIX, VK_ENRICH_MISP,
                                               VK_ENRICH_WARNINGLIST};
    struct feed_opts o = {.name = "fuzz", .fmt = fmts[data[0] % 5], .confidence = -1};
    if (o.fmt == VK_ENRICH_CSV && (data[0] & 8)) o.columns = "-,indicator,threat.category,threat.confidence,user";
    char err[512];
    struct feedset *f = feed_parse_mem((const char *)data + 1, size - 1, "fuzz.txt", &o, err, sizeof err);
    if (!f) {
        if (!err[0]) abort(); /* a refusal always says why */
        return 0;
    }
    struct feedset *fs[1] = {f};
    struct matcher *m = matcher_build(fs, 1, err, sizeof err);
    if (m) {
        uint32_t ids[16];
        match_ip4(m, 0x0a000001, ids, 16);
        match_domain(m, "www.evil.example", 16, ids, 16);
        for (uint32_t i = 0; i < f->n && i < 64; i++) {
            const char *v = fs_s(f, f->ind[i].val);
            size_t n = strlen(v);
            enum ioc_type t = (enum ioc_type)f->ind[i].type;
            if (t == IOC_DOMAIN) match_domain(m, v, n, ids, 16);
            else if (t != IOC_IP && t != IOC_REGEX) match_str(m, t, v, n, ids, 16);
        }
        matcher_free(m);
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz-feed-%d.tsv", (int)getpid());
    if (feed_cache_save(f, path, err, sizeof err) == 0) {
        struct feedset *g = feed_cache_load(path, "fuzz", f->benign, err, sizeof err);
        if (!g || g->n != f->n) abort(); /* the cache must round-trip */
        fs_unref(g);
        unlink(path);
    }
    fs_unref(f);
    return 0;
}
