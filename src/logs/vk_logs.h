/* vk_logs.h — log parsing and normalisation: one line in, one event record out.
 *
 * A line goes through the framing (RFC 3164 and its real-world variants, RFC 5424, CEF,
 * LEEF, JSON, key=value, plain application logs), then the source templates loaded from
 * data files (templates/logs/NAME.tmpl, see docs/LOGS.md) that set the shared meta keys
 * (event.type, event.outcome, user, ip.src, ...), then an online template miner that gives
 * every line a `log.template`. The receiver and file readers (input*.c, syslog*.c,
 * tail*.c) call this; they own the transport, this owns the meaning.
 *
 * Thread-safety: a struct vk_logs is NOT shared between threads (the miner and the peer
 * cache learn from every line). Use one per thread; the compiled templates are read-only
 * but each handle loads its own copy. */
#ifndef VK_LOGS_H
#define VK_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vk_core.h"

struct vk_logs;

/* Where a line came from: receive time (used when the line has no time, and to give a
 * year to RFC 3164 stamps) and a name for log.source (file path or "udp://1.2.3.4:514"). */
struct vk_logsrc {
    int64_t recv_ms;
    const char *source; /* NULL: no log.source */
};

/* Load the templates. templates_dir NULL searches: $VAKT_TEMPLATES, then templates/logs
 * next to the executable's directory or its parent (/proc/self/exe), then ./templates/logs.
 * No directory found is not an error (only the built-in framings and the miner run);
 * a template file with a syntax error is (err names file and line). */
struct vk_logs *vk_logs_new(const char *templates_dir, char *err, size_t errlen);
void vk_logs_free(struct vk_logs *lp);

/* Parse one line (without its newline; a trailing CR is dropped) into out, which is reset
 * first. out gets kind=event, time (event time, else src->recv_ms), the framing's keys and
 * the templates' keys, and log.template. Never fails on bad input: invalid UTF-8 is kept
 * as bytes, lines over VK_LOGS_MAX_LINE are cut (anomaly=log.line_too_long), binary
 * junk is flagged (anomaly=log.binary). Returns 0, or VK_ENOMEM.
 * Cost: O(line length) for the framing and the miner's tokens, plus the patterns of the
 * line's program (each prefiltered by a literal); no allocation once warmed up. */
#define VK_LOGS_MAX_LINE (64u * 1024u)
int vk_logs_parse(struct vk_logs *lp, const char *line, size_t len, const struct vk_logsrc *src,
                  struct vk_meta *out);

/* Mined templates generalise as lines arrive ("a b c" becomes "a <*> c"). A caller that
 * batches its output can defer log.template: after vk_logs_defer_template(lp, true),
 * vk_logs_parse leaves log.template out for mined lines and vk_logs_last_id() names the
 * line's cluster; vk_logs_add_template() later adds that cluster's template as it is
 * then. Ids stay valid until the cluster is evicted (then nothing is added). */
void vk_logs_defer_template(struct vk_logs *lp, bool on);
uint32_t vk_logs_last_id(const struct vk_logs *lp);
void vk_logs_add_template(struct vk_logs *lp, uint32_t id, struct vk_meta *out);

struct vk_logs_stats {
    uint64_t lines, too_long, binary, matched; /* matched: a source template applied */
    uint64_t clusters, clusters_evicted, templates, template_files;
};
void vk_logs_get_stats(const struct vk_logs *lp, struct vk_logs_stats *st);
/* The templates directory in use ("" when none was found). */
const char *vk_logs_templates_dir(const struct vk_logs *lp);

#endif
