/* test_store.c — the store's codec, packet-position encoding, configuration and a
 * put/query/values round trip through a temporary data directory. */
#include "vk_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/store/store_int.h"

static void codec_round_trip_keeps_every_value(void **st)
{
    (void)st;
    struct vk_meta m, back;
    vk_meta_init(&m);
    vk_meta_init(&back);
    vk_meta_add_uint(&m, VK_K_TIME, 1385474294492ull);
    vk_meta_add_ip(&m, VK_K_IP_SRC, 4, (const uint8_t *)"\x0a\x00\x00\x01");
    vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "www.google.com");
    vk_meta_add_cstr(&m, VK_K_ALIAS_HOST, "");
    vk_meta_add_str(&m, VK_K_HTTP_PATH, "a\0b", 3);
    vk_meta_add_uint(&m, VK_K_PORT_DST, 0);
    uint16_t to_pid[VK_K__COUNT];
    int to_key[VK_K__COUNT + 5];
    /* a permuted key map, as an older data directory would have */
    for (int k = 0; k < VK_K__COUNT; k++) to_pid[k] = (uint16_t)(VK_K__COUNT - 1 - k + 5);
    for (int i = 0; i < VK_K__COUNT + 5; i++) to_key[i] = -1;
    for (int k = 0; k < VK_K__COUNT; k++) to_key[to_pid[k]] = k;
    struct vk_buf b;
    vk_buf_init(&b, 1u << 20);
    assert_int_equal(vk_codec_encode(&m, to_pid, &b), 0);
    assert_int_equal(vk_codec_decode(b.p, b.len, to_key, VK_K__COUNT + 5, &back), 0);
    assert_int_equal(back.n, m.n);
    char s[64];
    assert_true(vk_meta_get_str(&back, VK_K_IP_SRC, s, sizeof s));
    assert_string_equal(s, "10.0.0.1");
    assert_int_equal(vk_meta_count(&back, VK_K_ALIAS_HOST), 2);
    assert_int_equal(back.items[4].len, 3);
    assert_memory_equal(vk_meta_str(&back, &back.items[4]), "a\0b", 3);
    /* an id this build does not know is skipped, the rest decoded */
    to_key[to_pid[VK_K_ALIAS_HOST]] = -1;
    vk_meta_reset(&back);
    assert_int_equal(vk_codec_decode(b.p, b.len, to_key, VK_K__COUNT + 5, &back), 0);
    assert_int_equal(back.n, m.n - 2);
    /* truncated bodies are an error, never a crash */
    for (size_t cut = 1; cut < b.len; cut++) {
        vk_meta_reset(&back);
        int r = vk_codec_decode(b.p, cut, to_key, VK_K__COUNT + 5, &back);
        assert_true(r == 0 || r == VK_EINVAL);
    }
    vk_buf_free(&b);
    vk_meta_free(&m);
    vk_meta_free(&back);
}

static void positions_round_trip(void **st)
{
    (void)st;
    uint64_t pos[] = {1ull << 40 | 24, 1ull << 40 | 90, 2ull << 40 | 24, 1ull << 40 | 5000, (1ull << 63) + 7};
    struct vk_buf b;
    vk_buf_init(&b, 1024);
    vk_pos_encode(pos, 5, &b);
    assert_true(b.len < 5 * 8);
    uint64_t *out = NULL;
    size_t n = 0;
    assert_int_equal(vk_pos_decode(b.p, b.len, &out, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, pos, sizeof pos);
    free(out);
    vk_buf_free(&b);
}

static void config_values_and_errors(void **st)
{
    (void)st;
    struct vk_store_cfg c;
    char err[256];
    vk_store_cfg_default(&c);
    assert_int_equal(vk_store_cfg_set(&c, "pcap_max_bytes=10G", err, sizeof err), 0);
    assert_int_equal(c.pcap_max_bytes, 10ull << 30);
    assert_int_equal(vk_store_cfg_set(&c, "meta_max_age_s=2y", err, sizeof err), 0);
    assert_int_equal(c.meta_max_age_s, 2ull * 365 * 86400);
    assert_int_equal(vk_store_cfg_set(&c, "pcap_max_bytes=lots", err, sizeof err), -1);
    assert_non_null(strstr(err, "bad value"));
    assert_int_equal(vk_store_cfg_set(&c, "nosuch=1", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown setting 'nosuch'"));
    char dir[] = "/tmp/vk-test-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/vakt.conf", dir);
    FILE *f = fopen(p, "w");
    fprintf(f, "# comment\nbatch_records = 50  # inline\n\nsync=1\nbogus line\n");
    fclose(f);
    assert_int_equal(vk_store_cfg_load(dir, &c, err, sizeof err), -1);
    assert_int_equal(c.batch_records, 50);
    assert_true(c.sync);
    assert_non_null(strstr(err, "vakt.conf:5"));
    unlink(p);
    rmdir(dir);
}

struct seen {
    int n;
    char ids[16][24];
};

static int on_rec(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct seen *s = ud;
    (void)info;
    if (s->n < 16) vk_meta_get_str(m, VK_K_ID, s->ids[s->n], sizeof s->ids[0]);
    s->n++;
    return 0;
}

static int on_val(void *ud, const char *v, uint64_t count, uint64_t sessions, uint64_t bytes)
{
    struct seen *s = ud;
    (void)sessions;
    (void)bytes;
    if (s->n < 16) snprintf(s->ids[s->n], sizeof s->ids[0], "%s=%llu", v, (unsigned long long)count);
    s->n++;
    return 0;
}

static void put_query_values_round_trip(void **st)
{
    (void)st;
    char dir[] = "/tmp/vk-test-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[512];
    struct vk_store_cfg cfg;
    vk_store_cfg_default(&cfg);
    cfg.batch_records = 3; /* several batches */
    struct vk_store *s = vk_store_open(dir, VK_STORE_WRITE, &cfg, err, sizeof err);
    assert_non_null(s);
    /* a second writer is refused */
    assert_null(vk_store_open(dir, VK_STORE_WRITE, &cfg, err, sizeof err));
    assert_non_null(strstr(err, "another vakt process"));
    for (int i = 0; i < 10; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        vk_meta_add_uint(&m, VK_K_TIME, 1000u + (unsigned)i);
        vk_meta_printf(&m, VK_K_ID, "%016x", i);
        uint8_t a[4] = {10, 0, 0, (uint8_t)(i % 3)};
        vk_meta_add_ip(&m, VK_K_IP_SRC, 4, a);
        vk_meta_add_cstr(&m, VK_K_SERVICE, i % 2 ? "http" : "dns");
        vk_meta_add_uint(&m, VK_K_BYTES_SRC, 100);
        assert_int_equal(vk_store_put(s, &m, NULL), 0);
        vk_meta_free(&m);
    }
    assert_int_equal(vk_store_sync(s), 0);
    struct vk_store *r = vk_store_open(dir, VK_STORE_READ, NULL, err, sizeof err); /* a reader beside the writer */
    assert_non_null(r);
    struct vk_query_err qe;
    struct vk_query *q = vk_query_parse("ip.src=10.0.0.1 && service=http", 0, &qe);
    assert_non_null(q);
    struct vk_store_sel sel;
    vk_store_sel_default(&sel);
    struct seen seen = {0};
    assert_int_equal(vk_store_query(r, q, &sel, on_rec, &seen, err, sizeof err), 0);
    /* i % 3 == 1 and i odd: 1, 7 */
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], "0000000000000001");
    assert_string_equal(seen.ids[1], "0000000000000007");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(vk_store_values(r, NULL, &sel, VK_K_IP_SRC, 2, VK_BY_COUNT, on_val, &seen, err, sizeof err), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], "10.0.0.0=4");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(vk_store_values(r, q, &sel, VK_K_SERVICE, 5, VK_BY_COUNT, on_val, &seen, err, sizeof err), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.ids[0], "http=2");
    assert_int_equal(vk_store_packets(r, "0000000000000001", NULL, NULL, err, sizeof err), 0);
    assert_int_equal(vk_store_packets(r, "ffff", NULL, NULL, err, sizeof err), VK_STORE_NOTFOUND);
    vk_query_free(q);
    vk_store_close(r);
    assert_int_equal(vk_store_close(s), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static uint64_t stored(const char *dir)
{
    char err[512];
    struct vk_store *r = vk_store_open(dir, VK_STORE_READ, NULL, err, sizeof err);
    assert_non_null(r);
    struct vk_store_stats st;
    assert_int_equal(vk_store_stats(r, &st), 0);
    vk_store_close(r);
    return st.records;
}

static void put_n(struct vk_store *s, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct vk_meta m;
        vk_meta_init(&m);
        vk_meta_add_uint(&m, VK_K_TIME, 1000u + (unsigned)i);
        vk_meta_printf(&m, VK_K_ID, "%016x", i);
        assert_int_equal(vk_store_put(s, &m, NULL), 0);
        vk_meta_free(&m);
    }
}

/* cfg.hold: the writer commits nothing that was not released, however long it waits and
 * however full its batch (log ingest relies on it: an event is released only once its raw
 * line is on disk); what is never released is dropped at close, not committed. */
static void hold_commits_only_released_records(void **st)
{
    (void)st;
    char dir[] = "/tmp/vk-test-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[512];
    struct vk_store_cfg cfg;
    vk_store_cfg_default(&cfg);
    cfg.batch_records = 16; /* the writer starts on 2 records, or after 10 ms */
    cfg.batch_ms = 10;
    cfg.queue_records = 64;
    cfg.hold = true;
    struct vk_store *s = vk_store_open(dir, VK_STORE_WRITE, &cfg, err, sizeof err);
    assert_non_null(s);
    put_n(s, 0, 40);
    usleep(300 * 1000); /* thirty batch_ms: an unheld writer would have committed all 40 */
    assert_int_equal(stored(dir), 0);
    vk_store_release(s);
    put_n(s, 40, 10); /* after the release: held again */
    assert_int_equal(vk_store_sync(s), 0);
    assert_int_equal(stored(dir), 40);
    put_n(s, 50, 64 - 10); /* the queue is now full of held records: one more cannot wait */
    struct vk_meta m;
    vk_meta_init(&m);
    vk_meta_add_uint(&m, VK_K_TIME, 5000);
    assert_int_equal(vk_store_put(s, &m, NULL), VK_EINVAL);
    assert_non_null(strstr(vk_store_error(s), "never released"));
    vk_meta_free(&m);
    assert_int_equal(vk_store_close(s), 0);
    assert_int_equal(stored(dir), 40);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_round_trip_keeps_every_value),
        cmocka_unit_test(positions_round_trip),
        cmocka_unit_test(config_values_and_errors),
        cmocka_unit_test(put_query_values_round_trip),
        cmocka_unit_test(hold_commits_only_released_records),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
