/* pcaparch.c — the packet archive: rotating pcap files under DIR/pcap.
 *
 * Every flow worker has its own writer (no lock contention between workers), writing
 * classic little-endian microsecond pcap files named by a number that grows across the
 * whole directory: DIR/pcap/00000042.pcap. A writer rotates when its file passes the
 * size limit or when a packet of another link type arrives. A packet's position is its
 * file number and byte offset, which is all a reader needs to fetch it back without a
 * scan. Writers buffer through stdio; vk_pcaparch_flush pushes every buffer to the
 * kernel (and fdatasyncs when asked) before the meta store commits records that point
 * at them. Retention deletes whole files, oldest first; a position into a deleted file
 * reads as VK_STORE_EXPIRED. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

#define PCAP_SNAPLEN 262144u

struct writer {
    pthread_mutex_t mu;
    FILE *f;
    uint32_t fileno;
    int dlt;
    uint64_t off;
    char *buf; /* stdio buffer */
};

struct vk_pcaparch {
    char dir[4096];
    bool write, sync;
    uint64_t file_bytes;
    _Atomic uint32_t next_fileno;
    _Atomic uint64_t bytes, packets, files;
    struct writer w[VK_PCAP_MAX_WORKERS];
    /* reader: one open file at a time (positions of a session are mostly in one file) */
    pthread_mutex_t rmu;
    FILE *rf;
    uint32_t rfileno;
};

static void file_path(const struct vk_pcaparch *a, uint32_t no, char *out, size_t n)
{
    snprintf(out, n, "%s/%08u.pcap", a->dir, no);
}

bool vk_store_file_exists(const char *dir, uint32_t fileno)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/pcap/%08u.pcap", dir, fileno);
    return access(p, F_OK) == 0;
}

/* File numbers present in the directory, sorted. Returns the count (0 on error). */
static size_t list_files(const struct vk_pcaparch *a, uint32_t **out)
{
    *out = NULL;
    DIR *d = opendir(a->dir);
    if (!d) return 0;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        unsigned long no = strtoul(e->d_name, &end, 10);
        if (end == e->d_name || strcmp(end, ".pcap") != 0 || no == 0 || no >= (1ul << 24)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            uint32_t *p = realloc(*out, cap * sizeof *p);
            if (!p) break;
            *out = p;
        }
        (*out)[n++] = (uint32_t)no;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: directories hold thousands at most */
        for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
            uint32_t t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    return n;
}

struct vk_pcaparch *vk_pcaparch_open(const char *dir, bool write, uint64_t file_bytes, bool sync,
                                     char *err, size_t errlen)
{
    struct vk_pcaparch *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(a->dir, sizeof a->dir, "%s/pcap", dir);
    a->write = write;
    a->sync = sync;
    a->file_bytes = file_bytes < (1u << 20) ? (1u << 20) : file_bytes;
    if (a->file_bytes >= (1ull << 40)) a->file_bytes = (1ull << 40) - 1;
    pthread_mutex_init(&a->rmu, NULL);
    for (int i = 0; i < VK_PCAP_MAX_WORKERS; i++) pthread_mutex_init(&a->w[i].mu, NULL);
    if (write && mkdir(a->dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", a->dir, strerror(errno));
        free(a);
        return NULL;
    }
    uint32_t *nos;
    size_t n = list_files(a, &nos);
    uint32_t next = n ? nos[n - 1] + 1 : 1;
    for (size_t i = 0; i < n; i++) {
        char p[4200];
        struct stat st;
        file_path(a, nos[i], p, sizeof p);
        if (stat(p, &st) == 0) a->bytes += (uint64_t)st.st_size;
    }
    a->files = n;
    free(nos);
    atomic_store(&a->next_fileno, next);
    return a;
}

static int writer_close(struct vk_pcaparch *a, struct writer *w)
{
    int rc = 0;
    if (!w->f) return 0;
    if (fflush(w->f) != 0) rc = -1;
    if (a->sync && fdatasync(fileno(w->f)) != 0) rc = -1;
    if (fclose(w->f) != 0) rc = -1;
    w->f = NULL;
    free(w->buf);
    w->buf = NULL;
    return rc;
}

static int writer_open(struct vk_pcaparch *a, struct writer *w, int dlt)
{
    uint32_t no = atomic_fetch_add(&a->next_fileno, 1);
    if (no >= (1u << 24)) return -1;
    char p[4200];
    file_path(a, no, p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    w->f = fdopen(fd, "wb");
    if (!w->f) {
        close(fd);
        return -1;
    }
    w->buf = malloc(1u << 20);
    if (w->buf) setvbuf(w->f, w->buf, _IOFBF, 1u << 20);
    uint32_t hdr[6] = {0xa1b2c3d4u, 2u | (4u << 16), 0, 0, PCAP_SNAPLEN, (uint32_t)dlt};
    if (fwrite(hdr, sizeof hdr, 1, w->f) != 1) return -1;
    w->fileno = no;
    w->dlt = dlt;
    w->off = sizeof hdr;
    a->files++;
    a->bytes += sizeof hdr;
    return 0;
}

uint64_t vk_pcaparch_write(struct vk_pcaparch *a, unsigned worker, const struct vk_pkt *pkt)
{
    if (!a || !a->write || worker >= VK_PCAP_MAX_WORKERS) return VK_POS_NONE;
    struct writer *w = &a->w[worker];
    uint32_t cl = pkt->caplen > PCAP_SNAPLEN ? PCAP_SNAPLEN : pkt->caplen;
    pthread_mutex_lock(&w->mu);
    uint64_t pos = VK_POS_NONE;
    if (w->f && (w->dlt != pkt->dlt || w->off + 16 + cl > a->file_bytes)) writer_close(a, w);
    if (!w->f && writer_open(a, w, pkt->dlt) != 0) {
        writer_close(a, w);
        goto out;
    }
    uint32_t rh[4] = {(uint32_t)(pkt->ts_us / 1000000u), (uint32_t)(pkt->ts_us % 1000000u), cl,
                      pkt->wirelen};
    if (fwrite(rh, sizeof rh, 1, w->f) != 1 || fwrite(pkt->data, 1, cl, w->f) != cl) {
        writer_close(a, w); /* a full disk: later packets try a new file */
        goto out;
    }
    pos = (uint64_t)w->fileno << 40 | w->off;
    w->off += 16 + cl;
    a->bytes += 16 + cl;
    a->packets++;
out:
    pthread_mutex_unlock(&w->mu);
    return pos;
}

int vk_pcaparch_flush(struct vk_pcaparch *a)
{
    int rc = 0;
    if (!a || !a->write) return 0;
    for (int i = 0; i < VK_PCAP_MAX_WORKERS; i++) {
        struct writer *w = &a->w[i];
        pthread_mutex_lock(&w->mu);
        if (w->f) {
            if (fflush(w->f) != 0) rc = -1;
            if (a->sync && fdatasync(fileno(w->f)) != 0) rc = -1;
        }
        pthread_mutex_unlock(&w->mu);
    }
    return rc;
}

int vk_pcaparch_read(struct vk_pcaparch *a, uint64_t pos, struct vk_pkt *pkt, uint8_t *buf, size_t bufsz)
{
    uint32_t no = VK_POS_FILE(pos);
    int rc = 0;
    pthread_mutex_lock(&a->rmu);
    if (!a->rf || a->rfileno != no) {
        if (a->rf) fclose(a->rf);
        char p[4200];
        file_path(a, no, p, sizeof p);
        a->rf = fopen(p, "rb");
        a->rfileno = no;
        if (!a->rf) {
            rc = errno == ENOENT ? VK_STORE_EXPIRED : VK_EIO;
            goto out;
        }
    }
    uint32_t hdr[6], rh[4];
    if (fseeko(a->rf, 0, SEEK_SET) != 0 || fread(hdr, sizeof hdr, 1, a->rf) != 1 ||
        hdr[0] != 0xa1b2c3d4u || fseeko(a->rf, (off_t)VK_POS_OFF(pos), SEEK_SET) != 0 ||
        fread(rh, sizeof rh, 1, a->rf) != 1 || rh[2] > bufsz || rh[2] > PCAP_SNAPLEN ||
        fread(buf, 1, rh[2], a->rf) != rh[2]) {
        rc = VK_EIO;
        goto out;
    }
    pkt->ts_us = (uint64_t)rh[0] * 1000000u + rh[1];
    pkt->caplen = rh[2];
    pkt->wirelen = rh[3];
    pkt->dlt = (int)hdr[5];
    pkt->data = buf;
out:
    if (rc && a->rf) {
        fclose(a->rf);
        a->rf = NULL;
    }
    pthread_mutex_unlock(&a->rmu);
    return rc;
}

static bool being_written(struct vk_pcaparch *a, uint32_t no)
{
    bool yes = false;
    for (int i = 0; i < VK_PCAP_MAX_WORKERS && !yes; i++) {
        pthread_mutex_lock(&a->w[i].mu);
        yes = a->w[i].f && a->w[i].fileno == no;
        pthread_mutex_unlock(&a->w[i].mu);
    }
    return yes;
}

int vk_pcaparch_retention(struct vk_pcaparch *a, uint64_t max_bytes, uint64_t max_age_s, int64_t now_ms,
                          uint64_t *files_deleted, uint64_t *bytes_deleted)
{
    uint32_t *nos;
    size_t n = list_files(a, &nos);
    uint64_t total = 0;
    struct stat *st = calloc(n ? n : 1, sizeof *st);
    if (!st) {
        free(nos);
        return VK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char p[4200];
        file_path(a, nos[i], p, sizeof p);
        if (stat(p, &st[i]) == 0) total += (uint64_t)st[i].st_size;
    }
    for (size_t i = 0; i < n; i++) {
        bool over = max_bytes && total > max_bytes;
        bool old = max_age_s && (int64_t)st[i].st_mtime * 1000 + (int64_t)max_age_s * 1000 < now_ms;
        if (!over && !old) break; /* oldest first: stop at the first file we keep */
        if (being_written(a, nos[i])) break;
        char p[4200];
        file_path(a, nos[i], p, sizeof p);
        if (unlink(p) != 0) continue;
        total -= (uint64_t)st[i].st_size;
        (*files_deleted)++;
        *bytes_deleted += (uint64_t)st[i].st_size;
        a->bytes -= (uint64_t)st[i].st_size < a->bytes ? (uint64_t)st[i].st_size : a->bytes;
        if (a->files) a->files--;
    }
    free(st);
    free(nos);
    return 0;
}

void vk_pcaparch_totals(struct vk_pcaparch *a, uint64_t *files, uint64_t *bytes, uint64_t *packets)
{
    *files = a->files;
    *bytes = a->bytes;
    *packets = a->packets;
}

void vk_pcaparch_close(struct vk_pcaparch *a)
{
    if (!a) return;
    for (int i = 0; i < VK_PCAP_MAX_WORKERS; i++) {
        writer_close(a, &a->w[i]);
        pthread_mutex_destroy(&a->w[i].mu);
    }
    if (a->rf) fclose(a->rf);
    pthread_mutex_destroy(&a->rmu);
    free(a);
}
