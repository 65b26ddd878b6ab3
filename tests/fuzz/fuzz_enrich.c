/* fuzz_enrich.c — enrichment of a record (vk_enrich_apply) whose values are arbitrary bytes.
 *
 * Record values come from packets and log lines, so every byte of them is untrusted: the
 * IPv4/IPv6 parsers, host-name and URL normalisation, the parent-domain walk, the regex
 * prefilters, the asset and geo lookups all see what this harness gives them.
 * Input: records of [key byte][length byte][value]; the key byte picks one of the keys
 * vk_enrich_apply reads. The data dir, made once, holds a feed with every indicator kind
 * (matching some seeds), a warninglist entry and two asset networks.
 * Seeds (seeds.py): values from the feed itself and from corpus captures' sessions. */
#include <stdlib.h>
#include <unistd.h>

#include "enrich/vk_enrich.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum vk_key keys[] = {
    VK_K_IP_SRC,      VK_K_IP_DST,        VK_K_DNS_ANSWER,      VK_K_HOST_SRC,   VK_K_HOST_DST,
    VK_K_HTTP_HOST,   VK_K_TLS_SNI,       VK_K_ALIAS_HOST,      VK_K_DNS_QUERY,  VK_K_DNS_ANSWER_NAME,
    VK_K_QUIC_SNI,    VK_K_HTTP_URI,      VK_K_HTTP_PATH,       VK_K_FILE_MD5,   VK_K_FILE_SHA256,
    VK_K_TLS_JA3,     VK_K_SSH_HASSH,     VK_K_HTTP_USER_AGENT, VK_K_EMAIL_SRC,  VK_K_EMAIL_DST,
    VK_K_DHCP_HOST,   VK_K_SSH_HASSH_SERVER,
};
#define NKEYS (sizeof keys / sizeof *keys)

static struct vk_enrich *setup(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/fuzz-enrich-%d", (int)getpid());
    char cmd[128], path[128], err[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0) abort();
    snprintf(path, sizeof path, "%s/feed.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs("10.1.2.3\n192.168.0.0/16\n2001:db8::/32\n2001:db8:1::5\nevil.example\nbad.co.uk\n"
          "evil-url.example/bad/path\n/malicious-login.php\nd41d8cd98f00b204e9800998ecf8427e\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "6.6.6.6:8443\nbad@evil.example\ndga[0-9]+\\.wildcard-test\\.com\n(foo|bar)[a-z]{3}\\.xyz\n", f);
    fclose(f);
    struct vk_enrich_feed_def d = {.name = "fuzz", .source = path, .fmt = VK_ENRICH_LIST, .confidence = -1};
    if (vk_enrich_feed_add(dir, &d, NULL, err, sizeof err) != 0) abort();
    snprintf(path, sizeof path, "%s/assets.csv", dir);
    f = fopen(path, "w");
    if (!f) abort();
    fputs("cidr,name,criticality\n10.0.0.0/8,lan,3\n192.168.1.0/24,office,2\n", f);
    fclose(f);
    size_t n = 0;
    if (vk_enrich_assets_import(dir, path, true, &n, err, sizeof err) != 0) abort();
    struct vk_enrich *e = vk_enrich_open(dir, err, sizeof err);
    if (!e) abort();
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vk_enrich *e;
    if (!e) e = setup();
    if (size > 4096) return 0;
    struct vk_meta m;
    vk_meta_init(&m);
    vk_meta_add_cstr(&m, VK_K_KIND, "session");
    for (size_t i = 0; i + 2 <= size;) {
        enum vk_key k = keys[data[i] % NKEYS];
        size_t n = data[i + 1];
        i += 2;
        if (n > size - i) n = size - i;
        vk_meta_add_str(&m, k, (const char *)data + i, n);
        i += n;
    }
    vk_enrich_apply(e, &m);
    vk_meta_free(&m);
    return 0;
}
