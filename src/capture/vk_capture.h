/* vk_capture.h — packet sources: pcap/pcapng files (several, merged in time order) and
 * live interfaces, both through libpcap. Nothing above this header knows which kind of
 * source is running. */
#ifndef VK_CAPTURE_H
#define VK_CAPTURE_H

#include "../decode/vk_decode.h"

struct vk_capture;

struct vk_capture_live_opts {
    const char *iface;
    const char *bpf;      /* may be NULL */
    int snaplen;          /* 0 = 65535 */
    bool promisc;
    int buffer_mb;        /* kernel ring buffer, 0 = libpcap default */
};

struct vk_capture_stats {
    uint64_t packets;     /* delivered to vakt */
    uint64_t bytes;
    uint64_t files_done, files_total;
    uint64_t file_errors; /* files cut short (truncated or corrupt) */
    uint64_t kernel_recv, kernel_drop, iface_drop; /* live only, from pcap_stats */
};

/* Open files and directories (directories are read for *.pcap, *.pcapng, *.cap, sorted).
 * Packets come out merged across files in time order. bpf may be NULL. On error returns
 * a negative code and prints what failed (file and reason). */
int vk_capture_open_files(struct vk_capture **out, char *const *paths, int n, const char *bpf);
int vk_capture_open_live(struct vk_capture **out, const struct vk_capture_live_opts *o);
/* Next packet: 1 = got one, 0 = end of input (or stopped), 2 = live timeout, no packet. */
int vk_capture_next(struct vk_capture *c, struct vk_pkt *pkt);
/* Ask a blocking vk_capture_next to return 0 soon; safe from a signal handler. */
void vk_capture_stop(struct vk_capture *c);
void vk_capture_get_stats(struct vk_capture *c, struct vk_capture_stats *st);
void vk_capture_close(struct vk_capture *c);

#endif
