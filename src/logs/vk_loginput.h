/* vk_loginput.h — where raw log lines come from: the syslog receiver (UDP, TCP, TLS with an
 * on-disk spool), files (plain, .gz, .zst, stdin, directories) and follow mode (tail -F with
 * persisted offsets).
 *
 * Every source hands each message to one callback as a vk_logline: the original bytes (less
 * the framing: the trailing LF/CR/NUL of a line, the octet count of RFC 6587), when they were
 * received, where they came from, and a position the source can be restarted from. Nothing
 * here parses a message: that is src/logs/vk_logs.h's job.
 *
 * Delivery is at-least-once across restarts: a consumer stores what it got, then acks
 * (vk_syslog_ack, vk_tail_ack); what was delivered but not acked is delivered again after a
 * restart. docs/LOG-INPUTS.md states the exact guarantees. */
#ifndef VK_LOGINPUT_H
#define VK_LOGINPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VK_LOGLINE_MAX_DEFAULT (64u * 1024u) /* default cap on one line / message */

/* One message. data[len] is always a NUL byte, so data is also a C string unless the
 * message itself holds NUL bytes (UDP and octet-counted frames may). Valid only during the
 * callback. */
struct vk_logline {
    const char *data;
    size_t len;
    int64_t recv_ms;    /* wall-clock ms when read (syslog: when our read() returned it) */
    const char *source; /* file path, "stdin", or peer: "tcp://10.1.2.3:51544", "udp://..", "tls://.." */
    uint64_t seq;       /* syslog: message number, unique and increasing per spool;
                         * files and tail: byte offset just past the line (where a restart
                         * after this line resumes); for .gz/.zst, in the decompressed stream */
    uint64_t lineno;    /* files: 1-based line number; tail: line number when the file was
                         * read from its start, else 0; syslog: 0 */
    bool cut;           /* longer than the cap: data holds its first max bytes, rest dropped
                         * (or, for a TCP frame at end of connection, the frame was incomplete) */
    bool replayed;      /* syslog: read back from the spool after a restart */
};

/* Return 0 to go on; a nonzero value stops the source after this line (the line counts as
 * delivered) and is returned by the reading function. */
typedef int (*vk_logline_fn)(void *ud, const struct vk_logline *l);

/* ---- files ------------------------------------------------------------------------- */
/* Read path line by line: "-" is stdin; a directory means every regular file in it (not
 * recursive, sorted by name); gzip (concatenated members too) and zstd (several frames too)
 * are recognised by their magic bytes, whatever the name. Lines end at LF; a CR before it is
 * dropped; empty lines are delivered (len 0) so the count equals `wc -l` (plus one for a
 * last line without LF). max_line 0 means VK_LOGLINE_MAX_DEFAULT.
 * Returns 0, the callback's nonzero value, or a negative VK_E* code with a message naming
 * the file (a damaged .gz/.zst delivers what came before the damage). For a directory the
 * other files are still read and the first error is returned.
 * O(bytes): one read buffer per call (256 KiB + max_line); lines are not copied. */
int vk_loginput_read(const char *path, size_t max_line, vk_logline_fn fn, void *ud, char *err,
                     size_t errlen);

/* ---- syslog framing on a stream (RFC 6587), exposed for tests and fuzzing ----------- */
/* Per connection. The first frame decides: "<digits> SP" is octet counting, anything else is
 * non-transparent framing (a message ends at LF or NUL; a CR before it is dropped). An
 * octet-counted stream that loses sync (no count where one is due) is counted in `errors`
 * and read as non-transparent from there on. A frame longer than max_msg yields its first
 * max_msg bytes with cut set and the rest is skipped. Empty messages are skipped.
 * The caller reads into vk_syslog_frame_space() and calls vk_syslog_frame_run(). Pending
 * bytes never pass max_msg + 16 KiB + 32; memory is one buffer per connection. */
struct vk_syslog_frame {
    uint8_t *buf;
    size_t start, len, cap; /* pending bytes: buf[start .. start + len) */
    size_t max_msg;
    uint64_t skip;          /* octet mode: bytes of an oversize frame still to discard */
    uint8_t mode;           /* 0 detect, 1 octet counting, 2 non-transparent */
    bool drop;              /* non-transparent: discarding an oversize line up to its end */
    uint64_t msgs, oversize, errors;
};
/* emit returns 0 to go on; nonzero stops run() before the frame is consumed: the same frame
 * comes again on the next run(). */
typedef int (*vk_syslog_frame_emit)(void *ud, const uint8_t *msg, size_t len, bool cut);
void vk_syslog_frame_init(struct vk_syslog_frame *f, size_t max_msg);
void vk_syslog_frame_free(struct vk_syslog_frame *f);
/* Where to put new bytes; *room may be 0 (a stopped run() holds a full buffer). NULL when
 * out of memory. */
uint8_t *vk_syslog_frame_space(struct vk_syslog_frame *f, size_t *room);
/* Account `added` new bytes and emit every complete frame. Returns 0, or the nonzero value
 * of emit. O(bytes): memchr over non-transparent frames, no copy. */
int vk_syslog_frame_run(struct vk_syslog_frame *f, size_t added, vk_syslog_frame_emit emit,
                        void *ud);
/* End of stream: emit what is left as one last message (cut set for an incomplete
 * octet-counted frame). Returns 0 or emit's value (then call again). */
int vk_syslog_frame_finish(struct vk_syslog_frame *f, vk_syslog_frame_emit emit, void *ud);
/* Copy-in helper for tests: space + copy + run until all of p is taken. Returns emit's
 * nonzero value (then *used says how much was taken) or 0. */
int vk_syslog_frame_feed(struct vk_syslog_frame *f, const void *p, size_t n,
                         vk_syslog_frame_emit emit, void *ud, size_t *used);

/* ---- the syslog receiver ------------------------------------------------------------ */
enum vk_spool_sync {
    VK_SPOOL_SYNC_BATCH = 0, /* fdatasync each batch before the consumer sees it (default) */
    VK_SPOOL_SYNC_INTERVAL,  /* consumer sees messages after write(2); fdatasync every
                              * sync_interval_ms */
    VK_SPOOL_SYNC_NONE,      /* never fdatasync (process crashes are still covered) */
};

struct vk_syslog_cfg {
    const char *urls;     /* "udp://127.0.0.1:5514,tcp://[::1]:5514,tls://0.0.0.0:6514"; port 0
                           * picks a free port (see vk_syslog_stats) */
    const char *tls_cert, *tls_key; /* PEM files, needed for tls:// */
    const char *tls_ca;   /* optional: require client certificates signed by this CA */
    const char *spool_dir;/* NULL: no spool (nothing survives a crash) */
    enum vk_spool_sync sync;
    unsigned sync_interval_ms; /* for VK_SPOOL_SYNC_INTERVAL; 0 means 200 */
    size_t queue_bytes;   /* in-memory queue to the consumer; 0 means 64 MiB */
    uint64_t spool_max;   /* unacked bytes on disk before senders are held; 0 means 1 GiB */
    uint64_t segment_bytes; /* spool segment size; 0 means 64 MiB */
    size_t max_msg;       /* 0 means VK_LOGLINE_MAX_DEFAULT */
    unsigned max_conns;   /* open TCP/TLS connections; 0 means 4096 */
    int udp_rcvbuf;       /* SO_RCVBUF(FORCE) bytes; 0 means 32 MiB */
    unsigned idle_timeout_s; /* close silent connections; 0 means never (handshakes: 10 s) */
};

#define VK_SYSLOG_MAX_LISTENERS 16

struct vk_syslog_listener_stats {
    char url[80];          /* as bound: "tcp://127.0.0.1:40123" */
    uint64_t msgs, bytes;  /* delivered into the queue */
    uint64_t dropped;      /* UDP: ours (queue or spool full) */
    uint64_t kernel_drops; /* UDP: socket receive-buffer overflows (SO_RXQ_OVFL, /proc/net/udp) */
    uint64_t oversize;     /* messages cut to max_msg */
    uint64_t framing_errors; /* TCP: octet-counting sync lost */
    uint64_t conns_total, conns_open, conns_refused, tls_failures;
};

struct vk_syslog_stats {
    unsigned n_listeners;
    struct vk_syslog_listener_stats l[VK_SYSLOG_MAX_LISTENERS];
    uint64_t next_seq;       /* the seq the next message will get */
    uint64_t delivered_seq;  /* last seq handed to the consumer */
    uint64_t acked_seq;
    uint64_t replayed;       /* messages re-delivered from the spool after a restart */
    uint64_t queue_used, queue_bytes;
    uint64_t paused;         /* times TCP reading was held because queue or spool was full */
    uint64_t spool_bytes, spool_segments, spool_syncs, spool_errors;
    uint64_t spool_truncated; /* bytes of torn records cut from the spool at start */
    uint64_t lost_at_stop;    /* incomplete frames that found no room at stop */
    uint64_t spilled;         /* messages written straight to the spool, the queue being full */
};

struct vk_syslog;

/* Bind every listener, recover the spool and start the receiving threads (one network
 * thread with epoll, one spool-sync thread). Messages are delivered by vk_syslog_poll in
 * the caller's thread. NULL with a message on error (bad URL, bind, cert, spool locked). */
struct vk_syslog *vk_syslog_start(const struct vk_syslog_cfg *cfg, char *err, size_t errlen);
/* Deliver available messages (first the spool's unacked tail from an earlier run, then new
 * ones) in seq order, waiting up to timeout_ms (-1: forever) when there are none. Returns
 * how many were delivered, the callback's nonzero value, or a negative code. At most ~1 MiB
 * or 65536 messages per call, so the caller can ack between calls. */
int vk_syslog_poll(struct vk_syslog *s, vk_logline_fn fn, void *ud, int timeout_ms);
/* Every message with seq <= seq is stored by the consumer: the spool may forget it. Cost:
 * one 16-byte pwrite. Values below the last ack or past the last delivery are clamped. */
int vk_syslog_ack(struct vk_syslog *s, uint64_t seq);
/* Stop reading the network: listeners and connections close, incomplete frames are queued
 * (cut), everything is written to the spool. Not async-signal-safe: a signal handler sets a
 * flag, the consumer's loop calls this. vk_syslog_poll then drains what is left and
 * returns 0 once empty. Optional before vk_syslog_stop. */
void vk_syslog_shutdown(struct vk_syslog *s);
void vk_syslog_stats(struct vk_syslog *s, struct vk_syslog_stats *out);
/* Shutdown, fsync the spool and the ack position, free. Undelivered and unacked messages
 * stay in the spool for the next start. */
void vk_syslog_stop(struct vk_syslog *s);

/* ---- follow mode ---------------------------------------------------------------------- */
struct vk_tail_opts {
    size_t max_line;      /* 0 means VK_LOGLINE_MAX_DEFAULT */
    int rescan_ms;        /* stat every path this often even without inotify events; 0: 1000 */
    int rotate_grace_ms;  /* keep reading a rotated-away file until it is this long idle, so
                           * lines written before the writer reopens are kept; 0 means 5000 */
    bool from_end;        /* a file never seen before (no state) starts at its end, not 0 */
};

struct vk_tail_stats {
    uint64_t lines, bytes, cut;
    uint64_t rotations;   /* a new file appeared at a path */
    uint64_t truncations; /* a file shrank or its first bytes changed (copytruncate) */
    uint64_t resumed;     /* files resumed from the state file */
    uint64_t lost;        /* state entries whose file could not be found again */
    unsigned open_files;
};

struct vk_tail;

/* Follow paths (they need not exist yet), resuming from state_file (NULL: no state).
 * A saved file is found again by device + inode + a hash of its first bytes (up to 1 KiB),
 * at its path or renamed in the same directory (app.log.1), and read on from the saved
 * offset. NULL with a message on error (bad state file, out of memory). */
struct vk_tail *vk_tail_open(const char *const *paths, size_t n, const char *state_file,
                             const struct vk_tail_opts *opts, char *err, size_t errlen);
/* Deliver new complete lines of every file (a partial last line waits for its LF, or for
 * the file to be rotated away), waiting up to timeout_ms (-1: forever) for data when there
 * is none. Returns lines delivered, the callback's nonzero value, or a negative code. At
 * most ~4 MiB per call. Handles rename rotation, copytruncate and deleted files. */
int vk_tail_poll(struct vk_tail *t, vk_logline_fn fn, void *ud, int timeout_ms);
/* Everything delivered so far is stored: write the offsets to the state file (atomically:
 * temp file, fsync, rename, fsync of the directory). Two fsyncs: call it per stored batch,
 * not per line; a no-op when nothing was delivered since the last ack. */
int vk_tail_ack(struct vk_tail *t, char *err, size_t errlen);
void vk_tail_stats(const struct vk_tail *t, struct vk_tail_stats *out);
/* Close without acking. */
void vk_tail_close(struct vk_tail *t);

#endif
