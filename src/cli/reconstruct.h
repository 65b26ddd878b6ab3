/* reconstruct.h — a session's payload from its archived packets, both directions in
 * order: TCP reassembled (retransmissions dropped, gaps marked), UDP as datagrams. Views:
 * text, hex, and HTTP (chunked and gzip/deflate bodies decoded); carried files written
 * out on request. */
#ifndef VK_RECONSTRUCT_H
#define VK_RECONSTRUCT_H

#include <stdio.h>

#include "../decode/vk_decode.h"

struct vk_recon;
struct vk_recon *vk_recon_new(void);
/* Account one packet of the session (in capture order). Returns 0 (1 = stop: caps hit). */
int vk_recon_packet(struct vk_recon *r, const struct vk_pkt *pkt);
/* view: 't' text, 'x' hex, 'h' HTTP. extract_dir: write HTTP bodies there (or NULL).
 * Returns 0 or a negative code with err filled. */
int vk_recon_print(struct vk_recon *r, FILE *out, int view, const char *extract_dir, char *err, size_t errlen);
void vk_recon_free(struct vk_recon *r);

#endif
