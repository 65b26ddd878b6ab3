/* output.c — records as people and machines read them: JSON lines (the contract in
 * ../shared/META-KEYS.md), an aligned table, CSV, and the session summary. Shared by
 * every command that prints records (sessions, capture, query, show). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "cli.h"

#define HOST_SLOTS (1u << 17)

/* ---- record output ----------------------------------------------------------------- */

/* First value of key k as text into buf ("" when absent); several values joined by ','. */
const char *vk_cli_field(const struct vk_meta *m, enum vk_key k, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < m->n && len + 2 < n; i++) {
        const struct vk_meta_item *it = &m->items[i];
        if (it->key != k) continue;
        if (len) buf[len++] = ',';
        enum vk_type t = vk_key_info(k)->type;
        int w;
        if (t == VK_T_UINT || t == VK_T_TIME)
            w = snprintf(buf + len, n - len, "%llu", (unsigned long long)it->u);
        else
            w = snprintf(buf + len, n - len, "%.*s", (int)it->len, vk_meta_str(m, it));
        if (w < 0) break;
        len += (size_t)w < n - len ? (size_t)w : n - len - 1;
    }
    /* never print control bytes to a terminal */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) buf[i] = '.';
    return buf;
}

uint64_t vk_cli_ufield(const struct vk_meta *m, enum vk_key k)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->items[i].key == k) return m->items[i].u;
    return 0;
}

static const enum vk_key table_cols[] = {VK_K_TIME, VK_K_IP_PROTO, VK_K_IP_SRC, VK_K_PORT_SRC,
                                          VK_K_IP_DST, VK_K_PORT_DST, VK_K_PACKETS_SRC,
                                          VK_K_PACKETS_DST, VK_K_BYTES_SRC, VK_K_BYTES_DST,
                                          VK_K_SERVICE, VK_K_APP, VK_K_ALIAS_HOST};
#define NCOLS (sizeof table_cols / sizeof *table_cols)

void vk_cli_out_header(enum vk_cli_fmt f)
{
    if (f == VK_FMT_TABLE)
        printf("%-23s %-5s %39s %5s  %39s %5s %7s %7s %10s %10s  %-10s %-18s %s\n", "time", "proto",
               "src", "sport", "dst", "dport", "pk>", "pk<", "by>", "by<", "service", "app", "host");
    else if (f == VK_FMT_CSV) {
        for (size_t i = 0; i < NCOLS; i++)
            printf("%s%s", i ? "," : "", vk_key_info(table_cols[i])->name);
        printf("\n");
    }
}

static void csv_cell(const char *s)
{
    bool q = strpbrk(s, ",\"\n") != NULL;
    if (!q) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void count_summary(struct vk_cli_out *o, const struct vk_meta *m)
{
    uint64_t bytes = vk_cli_ufield(m, VK_K_BYTES_SRC) + vk_cli_ufield(m, VK_K_BYTES_DST);
    char svc[32];
    if (!vk_meta_get_str(m, VK_K_SERVICE, svc, sizeof svc)) {
        uint64_t p = vk_cli_ufield(m, VK_K_IP_PROTO);
        snprintf(svc, sizeof svc, "(%s)", p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 || p == 58 ? "icmp" : "other");
    }
    int i;
    for (i = 0; i < o->nsvc; i++)
        if (strcmp(o->svc[i].name, svc) == 0) break;
    if (i == o->nsvc && o->nsvc < 64) snprintf(o->svc[o->nsvc++].name, 32, "%s", svc);
    if (i < 64) {
        o->svc[i].sessions++;
        o->svc[i].bytes += bytes;
    }
    for (uint32_t k = 0; k < m->n; k++) {
        const struct vk_meta_item *it = &m->items[k];
        if (it->key != VK_K_ALIAS_HOST) continue;
        /* Open addressing over a fixed table: O(1) per name, at most HOST_SLOTS-1 names
         * (later new names are not counted; the top 15 are what the summary shows). */
        if (!o->hosts && !(o->hosts = calloc(HOST_SLOTS, sizeof *o->hosts))) return;
        const char *nm = vk_meta_str(m, it);
        size_t len = it->len < sizeof o->hosts->name - 1 ? it->len : sizeof o->hosts->name - 1;
        uint64_t slot = XXH3_64bits(nm, len) & (HOST_SLOTS - 1);
        while (o->hosts[slot].name[0] &&
               (strlen(o->hosts[slot].name) != len || memcmp(o->hosts[slot].name, nm, len) != 0))
            slot = (slot + 1) & (HOST_SLOTS - 1);
        struct host_count *hc = &o->hosts[slot];
        if (!hc->name[0]) {
            if (o->nhosts == HOST_SLOTS - 1 || len == 0) continue;
            memcpy(hc->name, nm, len);
            hc->name[len] = 0;
            o->nhosts++;
        }
        hc->sessions++;
    }
}

void vk_cli_out_record(struct vk_cli_out *o, const struct vk_meta *m)
{
    char buf[8][512];
    o->records++;
    if (o->summary) count_summary(o, m);
    switch (o->fmt) {
    case VK_FMT_JSONL:
        o->j.len = 0;
        o->j.need_comma = false;
        vk_json_meta(&o->j, m);
        vk_json_raw(&o->j, "\n", 1);
        fwrite(o->j.p, 1, o->j.len, stdout);
        break;
    case VK_FMT_TABLE: {
        time_t ts = (time_t)(vk_cli_ufield(m, VK_K_TIME) / 1000);
        struct tm tm;
        char tb[32];
        gmtime_r(&ts, &tm);
        strftime(tb, sizeof tb, "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t p = vk_cli_ufield(m, VK_K_IP_PROTO);
        char pn[8];
        snprintf(pn, sizeof pn, "%s", p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : p == 58 ? "icmp6" : "");
        if (!pn[0]) snprintf(pn, sizeof pn, "%llu", (unsigned long long)p);
        printf("%s.%03llu %-5s %39s %5s  %39s %5s %7llu %7llu %10llu %10llu  %-10s %-18s %s\n", tb,
               (unsigned long long)(vk_cli_ufield(m, VK_K_TIME) % 1000), pn,
               vk_cli_field(m, VK_K_IP_SRC, buf[0], sizeof buf[0]), vk_cli_field(m, VK_K_PORT_SRC, buf[1], 16),
               vk_cli_field(m, VK_K_IP_DST, buf[2], sizeof buf[2]), vk_cli_field(m, VK_K_PORT_DST, buf[3], 16),
               (unsigned long long)vk_cli_ufield(m, VK_K_PACKETS_SRC), (unsigned long long)vk_cli_ufield(m, VK_K_PACKETS_DST),
               (unsigned long long)vk_cli_ufield(m, VK_K_BYTES_SRC), (unsigned long long)vk_cli_ufield(m, VK_K_BYTES_DST),
               vk_cli_field(m, VK_K_SERVICE, buf[4], 64), vk_cli_field(m, VK_K_APP, buf[5], 64),
               vk_cli_field(m, VK_K_ALIAS_HOST, buf[6], 200));
        break;
    }
    case VK_FMT_CSV:
        for (size_t i = 0; i < NCOLS; i++) {
            if (i) putchar(',');
            csv_cell(vk_cli_field(m, table_cols[i], buf[0], sizeof buf[0]));
        }
        putchar('\n');
        break;
    case VK_FMT_NONE:
        break;
    }
}

static int cmp_svc(const void *a, const void *b)
{
    const struct svc_count *x = a, *y = b;
    return x->sessions < y->sessions ? 1 : x->sessions > y->sessions ? -1 : strcmp(x->name, y->name);
}
static int cmp_host(const void *a, const void *b)
{
    const struct host_count *x = a, *y = b;
    return x->sessions < y->sessions ? 1 : x->sessions > y->sessions ? -1 : strcmp(x->name, y->name);
}

void vk_cli_out_summary(struct vk_cli_out *o, uint64_t packets, uint64_t files)
{
    printf("\n%llu sessions from %llu packets (%llu files)\n\n", (unsigned long long)o->records,
           (unsigned long long)packets, (unsigned long long)files);
    qsort(o->svc, (size_t)o->nsvc, sizeof *o->svc, cmp_svc);
    printf("%-20s %10s %14s\n", "service", "sessions", "bytes");
    for (int i = 0; i < o->nsvc && i < 25; i++)
        printf("%-20s %10llu %14llu\n", o->svc[i].name, (unsigned long long)o->svc[i].sessions,
               (unsigned long long)o->svc[i].bytes);
    if (o->hosts) qsort(o->hosts, HOST_SLOTS, sizeof *o->hosts, cmp_host); /* free slots sort last */
    printf("\n%-50s %10s\n", "alias.host (top 15)", "sessions");
    for (int i = 0; i < o->nhosts && i < 15; i++) {
        for (char *c = o->hosts[i].name; *c; c++)
            if ((unsigned char)*c < 0x20) *c = '.';
        printf("%-50s %10llu\n", o->hosts[i].name, (unsigned long long)o->hosts[i].sessions);
    }
}
