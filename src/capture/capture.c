/* capture.c — libpcap sources behind one next-packet call.
 *
 * Files: every file is opened up front (pcap and pcapng alike, libpcap tells them apart)
 * and holds one pending packet; vk_capture_next returns the earliest pending packet, so
 * several files come out as one time-ordered stream. O(files) per packet, no copy: the
 * pending packet of a file stays in libpcap's buffer until that file is read again.
 * A file that ends in garbage or mid-record is reported on stderr, counted, and what was
 * read from it is kept.
 *
 * Live: pcap_create/activate with snaplen, promiscuous mode, immediate delivery and an
 * optional BPF filter; kernel drop counters come from pcap_stats. */
#include <dirent.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "vk_capture.h"

struct src {
    pcap_t *p;
    char *path;
    int dlt;
    bool has_pkt, done;
    struct pcap_pkthdr *hdr;
    const uint8_t *data;
    uint64_t ts_us;
    char *vbuf; /* stdio buffer of the file (glibc ignores a size given without one) */
};

struct vk_capture {
    bool live;
    volatile sig_atomic_t stop;
    struct src *srcs;
    struct src *last; /* file whose packet was handed out last: refill it next call */
    int nsrc, nalloc;
    struct vk_capture_stats st;
};

static int add_path(struct vk_capture *c, const char *path)
{
    if (c->nsrc == c->nalloc) {
        int na = c->nalloc ? c->nalloc * 2 : 8;
        struct src *ns = realloc(c->srcs, (size_t)na * sizeof *ns);
        if (!ns) return VK_ENOMEM;
        c->srcs = ns;
        c->nalloc = na;
    }
    struct src *s = &c->srcs[c->nsrc];
    memset(s, 0, sizeof *s);
    s->path = strdup(path);
    if (!s->path) return VK_ENOMEM;
    c->nsrc++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool capture_name(const char *n)
{
    size_t l = strlen(n);
    static const char *const ext[] = {".pcap", ".pcapng", ".cap", ".pcap.gz", NULL};
    for (int i = 0; ext[i]; i++) {
        size_t e = strlen(ext[i]);
        if (l > e && strcmp(n + l - e, ext[i]) == 0) return true;
    }
    return false;
}

static int add_dir(struct vk_capture *c, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        vk_err("cannot read directory %s: %m", dir);
        return VK_EIO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!capture_name(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = VK_ENOMEM;
                break;
            }
            names = nn;
        }
        if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0) {
            rc = VK_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) rc = add_path(c, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int set_filter(pcap_t *p, const char *bpf, const char *what)
{
    struct bpf_program prog;
    if (!bpf || !*bpf) return 0;
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        vk_err("bad filter '%s' for %s: %s", bpf, what, pcap_geterr(p));
        return VK_EINVAL;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        vk_err("cannot set filter on %s: %s", what, pcap_geterr(p));
        return VK_EINVAL;
    }
    return 0;
}

static void fetch(struct vk_capture *c, struct src *s)
{
    for (;;) {
        int r = pcap_next_ex(s->p, &s->hdr, &s->data);
        if (r == 1) {
            s->has_pkt = true;
            s->ts_us = (uint64_t)s->hdr->ts.tv_sec * 1000000u + (uint64_t)s->hdr->ts.tv_usec;
            return;
        }
        if (r == 0) continue; /* only live handles time out */
        if (r == PCAP_ERROR) {
            vk_err("%s: %s (packets read before this point are kept)", s->path,
                   pcap_geterr(s->p));
            c->st.file_errors++;
        }
        s->has_pkt = false;
        s->done = true;
        c->st.files_done++;
        pcap_close(s->p);
        s->p = NULL;
        free(s->vbuf);
        s->vbuf = NULL;
        return;
    }
}

int vk_capture_open_files(struct vk_capture **out, char *const *paths, int n, const char *bpf)
{
    struct vk_capture *c = calloc(1, sizeof *c);
    int rc = 0;
    if (!c) return VK_ENOMEM;
    for (int i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            vk_err("cannot open %s: %m", paths[i]);
            rc = VK_EIO;
        } else if (S_ISDIR(st.st_mode)) {
            rc = add_dir(c, paths[i]);
        } else {
            rc = add_path(c, paths[i]);
        }
    }
    /* libpcap reads a file through stdio, whose buffer is one disk block (4 KiB): a read
     * system call every few packets, which costs as much as the rest of the read loop.
     * Our own FILE gets a large buffer instead, within 32 MiB over all files held open
     * (up to 1 MiB each; below 64 KiB each, stdio's own buffer is kept). */
    size_t vbuf = c->nsrc ? (32u << 20) / (size_t)c->nsrc : 0;
    if (vbuf > (1u << 20)) vbuf = 1u << 20;
    if (vbuf < (64u << 10)) vbuf = 0;
    for (int i = 0; i < c->nsrc && rc == 0; i++) {
        char eb[PCAP_ERRBUF_SIZE];
        struct src *s = &c->srcs[i];
        FILE *fp = fopen(s->path, "rb");
        if (!fp) {
            vk_err("cannot read %s: %m", s->path);
            rc = VK_EIO;
            break;
        }
        if (vbuf && (s->vbuf = malloc(vbuf))) setvbuf(fp, s->vbuf, _IOFBF, vbuf);
        s->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, eb);
        if (!s->p) {
            fclose(fp);
            vk_err("cannot read %s: %s", s->path, eb);
            rc = VK_EFORMAT;
            break;
        }
        s->dlt = pcap_datalink(s->p);
        if (!vk_decode_dlt_supported(s->dlt))
            vk_err("%s: link type %d (%s) is not decoded; its packets count as non-IP",
                   s->path, s->dlt, pcap_datalink_val_to_name(s->dlt) ?: "?");
        rc = set_filter(s->p, bpf, s->path);
    }
    if (rc != 0) {
        vk_capture_close(c);
        return rc;
    }
    c->st.files_total = (uint64_t)c->nsrc;
    for (int i = 0; i < c->nsrc; i++) fetch(c, &c->srcs[i]);
    *out = c;
    return 0;
}

int vk_capture_open_live(struct vk_capture **out, const struct vk_capture_live_opts *o)
{
    char eb[PCAP_ERRBUF_SIZE];
    struct vk_capture *c = calloc(1, sizeof *c);
    if (!c) return VK_ENOMEM;
    c->live = true;
    if (add_path(c, o->iface) != 0) {
        free(c);
        return VK_ENOMEM;
    }
    struct src *s = &c->srcs[0];
    s->p = pcap_create(o->iface, eb);
    int rc = VK_EIO;
    if (!s->p) {
        vk_err("cannot open interface %s: %s", o->iface, eb);
        goto fail;
    }
    pcap_set_snaplen(s->p, o->snaplen > 0 ? o->snaplen : 65535);
    pcap_set_promisc(s->p, o->promisc);
    pcap_set_timeout(s->p, 100);
    pcap_set_immediate_mode(s->p, 1);
    pcap_set_tstamp_precision(s->p, PCAP_TSTAMP_PRECISION_MICRO);
    if (o->buffer_mb > 0) pcap_set_buffer_size(s->p, o->buffer_mb << 20);
    int a = pcap_activate(s->p);
    if (a < 0) {
        vk_err("cannot capture on %s: %s", o->iface, pcap_geterr(s->p));
        goto fail;
    }
    if (a > 0) vk_err("warning on %s: %s", o->iface, pcap_geterr(s->p));
    s->dlt = pcap_datalink(s->p);
    if ((rc = set_filter(s->p, o->bpf, o->iface)) != 0) goto fail;
    c->st.files_total = 1;
    *out = c;
    return 0;
fail:
    vk_capture_close(c);
    return rc;
}

int vk_capture_next(struct vk_capture *c, struct vk_pkt *pkt)
{
    if (c->stop) return 0;
    if (c->live) {
        struct src *s = &c->srcs[0];
        int r = pcap_next_ex(s->p, &s->hdr, &s->data);
        if (r == 0) return 2;
        if (r != 1) {
            if (r == PCAP_ERROR) vk_err("%s: %s", s->path, pcap_geterr(s->p));
            return 0;
        }
        pkt->ts_us = (uint64_t)s->hdr->ts.tv_sec * 1000000u + (uint64_t)s->hdr->ts.tv_usec;
        pkt->caplen = s->hdr->caplen;
        pkt->wirelen = s->hdr->len;
        pkt->dlt = s->dlt;
        pkt->data = s->data;
        c->st.packets++;
        c->st.bytes += pkt->caplen;
        return 1;
    }
    /* Files: hand out the earliest pending packet, then refill that file. The packet's
     * bytes live in libpcap's buffer, valid until the next read of the same file, i.e.
     * until our next call. */
    if (c->last && !c->last->done && !c->last->has_pkt) fetch(c, c->last);
    c->last = NULL;
    struct src *best = NULL;
    for (int i = 0; i < c->nsrc; i++) {
        struct src *s = &c->srcs[i];
        if (s->has_pkt && (!best || s->ts_us < best->ts_us)) best = s;
    }
    if (!best) return 0;
    pkt->ts_us = best->ts_us;
    pkt->caplen = best->hdr->caplen;
    pkt->wirelen = best->hdr->len;
    pkt->dlt = best->dlt;
    pkt->data = best->data;
    best->has_pkt = false;
    c->last = best;
    c->st.packets++;
    c->st.bytes += pkt->caplen;
    return 1;
}

void vk_capture_stop(struct vk_capture *c)
{
    c->stop = 1;
    if (c->live && c->srcs && c->srcs[0].p) pcap_breakloop(c->srcs[0].p);
}

void vk_capture_get_stats(struct vk_capture *c, struct vk_capture_stats *st)
{
    if (c->live && c->srcs[0].p) {
        struct pcap_stat ps;
        if (pcap_stats(c->srcs[0].p, &ps) == 0) {
            c->st.kernel_recv = ps.ps_recv;
            c->st.kernel_drop = ps.ps_drop;
            c->st.iface_drop = ps.ps_ifdrop;
        }
    }
    *st = c->st;
}

void vk_capture_close(struct vk_capture *c)
{
    if (!c) return;
    for (int i = 0; i < c->nsrc; i++) {
        if (c->srcs[i].p) pcap_close(c->srcs[i].p);
        free(c->srcs[i].vbuf); /* after the FILE that used it is closed */
        free(c->srcs[i].path);
    }
    free(c->srcs);
    free(c);
}
