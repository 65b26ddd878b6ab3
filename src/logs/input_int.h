/* input_int.h — helpers shared by the log input files (input.c, tail.c, syslog.c); not part
 * of the public interface in vk_loginput.h.
 *
 * vk_lsplit cuts a byte stream into LF-terminated lines inside one buffer that the caller
 * reads into directly: no copy per line, bounded memory (max_line + chunk + 1 bytes). */
#ifndef VK_INPUT_INT_H
#define VK_INPUT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vk_lsplit {
    char *buf;               /* cap + 1 bytes: room for the NUL after any line */
    size_t start, len, cap, max;
    uint64_t pos;            /* stream offset of buf[start] */
    uint64_t skipped;        /* drop: bytes of the cut line thrown away so far */
    uint64_t lineno;         /* lines completed so far */
    bool drop;               /* holding the first max bytes of an over-long line */
};

/* line is NUL-terminated at len; end_off is the stream offset just past its LF. Nonzero
 * stops the split after this line (it counts as taken). */
typedef int (*vk_lsplit_fn)(void *ud, char *line, size_t len, bool cut, uint64_t end_off,
                            uint64_t lineno);

int vk_lsplit_init(struct vk_lsplit *s, size_t max_line, size_t chunk);
void vk_lsplit_free(struct vk_lsplit *s);
/* Forget buffered bytes; the next byte read is at stream offset pos, line lineno + 1. */
void vk_lsplit_reset(struct vk_lsplit *s, uint64_t pos, uint64_t lineno);
/* Where to read into; room is at least `chunk` bytes. */
char *vk_lsplit_space(struct vk_lsplit *s, size_t *room);
/* Account `added` bytes and emit every complete line. O(bytes) (memchr). Returns 0 or fn's
 * nonzero value (the rest stays buffered for the next call with added = 0). */
int vk_lsplit_run(struct vk_lsplit *s, size_t added, vk_lsplit_fn fn, void *ud);
/* End of stream: emit a last line without LF (or a held cut line). */
int vk_lsplit_flush(struct vk_lsplit *s, vk_lsplit_fn fn, void *ud);
/* True when bytes of an unfinished line are buffered. */
static inline bool vk_lsplit_pending(const struct vk_lsplit *s) { return s->len > 0 || s->drop; }

/* Wall clock in ms (CLOCK_REALTIME_COARSE: ~4 ms resolution, no syscall). */
int64_t vk_loginput_now_ms(void);

#endif
