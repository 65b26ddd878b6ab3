/* retrohunt.c — search the stored history for indicators that feeds newly brought.
 *
 * Every feed update appends its new indicators to D/intel/new.jsonl (src/enrich). The
 * retro-hunt reads that file from where the last hunt stopped (D/intel/retro.offset),
 * turns each indicator into a query over the keys that can carry it (an IP into ip.src,
 * ip.dst and dns.answer; a domain into alias.host and dns.query, parents included; a
 * hash into file.md5/file.sha256 ...), runs it against the meta store, and appends one
 * hit per matching record to D/intel/hits.jsonl (`vakt intel hits`), where later
 * alerting picks them up. The offset moves only after the hits are written, so an
 * interrupted hunt is redone, not lost. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../enrich/vk_enrich.h"
#include "../store/vk_store.h"
#include "cli.h"

struct cand {
    enum vk_key key;
    const char *op; /* "=" or "ends" (parent domains) */
};

/* The keys an indicator type can appear in. */
static size_t candidates(const char *type, struct cand *out)
{
    size_t n = 0;
#define C(k, o) out[n++] = (struct cand){k, o}
    if (!strcmp(type, "ip")) {
        C(VK_K_IP_SRC, "=");
        C(VK_K_IP_DST, "=");
        C(VK_K_DNS_ANSWER, "=");
    } else if (!strcmp(type, "domain")) {
        C(VK_K_ALIAS_HOST, "=");
        C(VK_K_ALIAS_HOST, "ends");
        C(VK_K_DNS_QUERY, "=");
        C(VK_K_DNS_QUERY, "ends");
    } else if (!strcmp(type, "url")) {
        C(VK_K_HTTP_URI, "=");
    } else if (!strcmp(type, "path")) {
        C(VK_K_HTTP_PATH, "=");
    } else if (!strcmp(type, "md5")) {
        C(VK_K_FILE_MD5, "=");
    } else if (!strcmp(type, "sha256")) {
        C(VK_K_FILE_SHA256, "=");
    } else if (!strcmp(type, "ja3")) {
        C(VK_K_TLS_JA3, "=");
    } else if (!strcmp(type, "hassh")) {
        C(VK_K_SSH_HASSH, "=");
    } else if (!strcmp(type, "ua")) {
        C(VK_K_HTTP_USER_AGENT, "=");
    } else if (!strcmp(type, "email")) {
        C(VK_K_EMAIL_SRC, "=");
        C(VK_K_EMAIL_DST, "=");
    }
#undef C
    return n;
}

/* key OP "value" with the value quoted and escaped; for "ends" a leading dot, so that
 * only parent-domain matches count (evil.com matches a.evil.com, not notevil.com). */
static void term(char *out, size_t n, const struct cand *c, const char *value)
{
    size_t k = (size_t)snprintf(out, n, "%s %s \"%s", vk_key_info(c->key)->name, c->op, strcmp(c->op, "ends") ? "" : ".");
    for (const char *p = value; *p && k + 3 < n; p++) {
        if (*p == '"' || *p == '\\') out[k++] = '\\';
        out[k++] = *p;
    }
    if (k + 2 <= n) {
        out[k++] = '"';
        out[k] = 0;
    }
}

struct hunt {
    const char *data;
    const char *feed, *type, *value;
    struct vk_query *single[8];
    const struct cand *cands;
    size_t ncand;
    uint64_t hits;
    int64_t now;
    char err[512];
    int rc;
};

static int on_match(void *ud, const struct vk_meta *m, const struct vk_store_recinfo *info)
{
    struct hunt *h = ud;
    (void)info;
    char id[64] = "";
    vk_meta_get_str(m, VK_K_ID, id, sizeof id);
    const char *key = "";
    for (size_t i = 0; i < h->ncand; i++)
        if (h->single[i] && vk_query_match(h->single[i], m)) {
            key = vk_key_info(h->cands[i].key)->name;
            break;
        }
    struct vk_enrich_hit hit = {.time_ms = h->now,
                                .session_ms = (int64_t)vk_cli_ufield(m, VK_K_TIME),
                                .feed = h->feed,
                                .type = h->type,
                                .indicator = h->value,
                                .key = key,
                                .session = id,
                                .retro = true};
    if (vk_enrich_hit_append(h->data, &hit, h->err, sizeof h->err) != 0) {
        h->rc = VK_EIO;
        return 1;
    }
    h->hits++;
    return 0;
}

int vk_cli_retrohunt(const char *data, bool quiet)
{
    char p[4200], op[4200];
    snprintf(p, sizeof p, "%s/intel/new.jsonl", data);
    snprintf(op, sizeof op, "%s/intel/retro.offset", data);
    char mp[4200];
    snprintf(mp, sizeof mp, "%s/meta.db", data);
    if (access(mp, F_OK) != 0) return 0; /* nothing stored yet: nothing to hunt */
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    long off = 0;
    FILE *of = fopen(op, "r");
    if (of) {
        if (fscanf(of, "%ld", &off) != 1) off = 0;
        fclose(of);
    }
    if (fseek(f, off, SEEK_SET) != 0) off = 0;
    char err[1024];
    struct vk_store *s = vk_store_open(data, VK_STORE_READ, NULL, err, sizeof err);
    if (!s) {
        fclose(f);
        fprintf(stderr, "vakt: retro-hunt: %s\n", err);
        return 1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t hunted = 0, hits = 0;
    int rc = 0;
    long done = off;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') break; /* a line being written: next time */
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        const char *feed = o ? json_string_value(json_object_get(o, "feed")) : NULL;
        const char *type = o ? json_string_value(json_object_get(o, "type")) : NULL;
        const char *value = o ? json_string_value(json_object_get(o, "value")) : NULL;
        struct cand c[8];
        size_t nc = feed && type && value ? candidates(type, c) : 0;
        if (nc) {
            struct hunt h = {.data = data, .feed = feed, .type = type, .value = value, .cands = c, .ncand = nc, .now = now};
            char q[8192] = "", t[2048];
            for (size_t i = 0; i < nc; i++) {
                term(t, sizeof t, &c[i], value);
                struct vk_query_err qe;
                h.single[i] = vk_query_parse(t, now, &qe);
                if (strlen(q) + strlen(t) + 5 < sizeof q) {
                    if (i) strcat(q, " || ");
                    strcat(q, t);
                }
            }
            struct vk_query_err qe;
            struct vk_query *qq = vk_query_parse(q, now, &qe);
            if (qq) {
                struct vk_store_sel sel;
                vk_store_sel_default(&sel);
                if (vk_store_query(s, qq, &sel, on_match, &h, err, sizeof err) != 0 && !h.rc) {
                    fprintf(stderr, "vakt: retro-hunt: %s\n", err);
                    rc = 1;
                }
                vk_query_free(qq);
            }
            for (size_t i = 0; i < nc; i++) vk_query_free(h.single[i]);
            if (h.rc) {
                fprintf(stderr, "vakt: retro-hunt: %s\n", h.err);
                rc = 1;
            }
            hunted++;
            hits += h.hits;
        }
        json_decref(o);
        if (rc) break;
        done = ftell(f);
    }
    free(line);
    fclose(f);
    vk_store_close(s);
    /* the offset moves past what was hunted, atomically */
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", op);
    FILE *w = fopen(tmp, "w");
    if (w) {
        fprintf(w, "%ld\n", done);
        if (fclose(w) == 0) rename(tmp, op);
    }
    if (!quiet && hunted)
        printf("retro-hunt: %llu new indicators searched in %s: %llu hits (vakt intel hits --data %s)\n",
               (unsigned long long)hunted, data, (unsigned long long)hits, data);
    return rc;
}
