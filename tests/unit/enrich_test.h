/* enrich_test.h — helpers the enrich unit tests share: a matcher built or the test fails,
 * an indicator's value by match id, an IPv4 address from text. Include after
 * enrich/enrich_int.h and vk_test.h. */
#ifndef VK_ENRICH_TEST_H
#define VK_ENRICH_TEST_H

static inline struct matcher *build(struct feedset **fs, unsigned n)
{
    char err[256];
    struct matcher *m = matcher_build(fs, n, err, sizeof err);
    if (!m) fail_msg("matcher_build: %s", err);
    return m;
}

static inline const char *val_of(const struct matcher *m, uint32_t id)
{
    return fs_s(m->fs[ID_FEED(id)], match_ind(m, id)->val);
}

static inline uint32_t v4(const char *s)
{
    uint32_t ip;
    assert_true(ioc_ip4(s, strlen(s), &ip));
    return ip;
}

#endif
