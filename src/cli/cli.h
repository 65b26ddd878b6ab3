/* cli.h — the subcommands of the vakt binary, one entry point each.
 *
 * main.c dispatches on argv[1]; each command gets argc/argv with its own name in argv[0]
 * and returns the process exit status (0 ok, 1 runtime failure, 2 bad usage or input). */
#ifndef VK_CLI_H
#define VK_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/vk_core.h"

int vk_cli_logs(int argc, char **argv);        /* cmd_logs.c:  vakt logs parse ... */
int vk_cli_intel(int argc, char **argv);       /* cmd_intel.c: vakt intel add|status|hits */
int vk_cli_assets(int argc, char **argv);      /* cmd_intel.c: vakt assets import */

int vk_cli_store(int argc, char **argv);
int vk_cli_ingest_logs(int argc, char **argv);
int vk_cli_archive(int argc, char **argv);
/* retrohunt.c: search the store for indicators new since the last hunt; hits go to
 * D/intel/hits.jsonl. Called after `intel add/update`, and by `intel hunt`. */
int vk_cli_retrohunt(const char *data, bool quiet);     /* cmd_archive.c: vakt archive seal|verify|search|... */  /* cmd_ingest_logs.c: vakt ingest-logs */
int vk_cli_ingest_syslog(const char *data, const char *urls, const char *cert, const char *key,
                         const char *templates); /* vakt ingest --syslog */
/* --data's value, else $VAKT_DATA, else ./vakt-data. */
const char *vk_cli_data_dir(const char *opt);       /* cmd_store.c: query, values, timeline, show, pcap, reconstruct */

/* ---- record output (output.c) ---------------------------------------------------------- */
enum vk_cli_fmt { VK_FMT_JSONL, VK_FMT_TABLE, VK_FMT_CSV, VK_FMT_NONE };
struct vk_cli_out {
    enum vk_cli_fmt fmt;
    struct vk_json j;
    uint64_t records;
    bool summary;
    /* summary counters */
    struct svc_count {
        char name[32];
        uint64_t sessions, bytes;
    } svc[64];
    int nsvc;
    struct host_count {
        char name[128];
        uint64_t sessions;
    } *hosts; /* open addressing; empty name = free */
    int nhosts;
};
void vk_cli_out_header(enum vk_cli_fmt f);
void vk_cli_out_record(struct vk_cli_out *o, const struct vk_meta *m);
void vk_cli_out_summary(struct vk_cli_out *o, uint64_t packets, uint64_t files);
/* Values of key k as text ("" when absent; several joined by ','; control bytes as '.'). */
const char *vk_cli_field(const struct vk_meta *m, enum vk_key k, char *buf, size_t n);
uint64_t vk_cli_ufield(const struct vk_meta *m, enum vk_key k);

#endif
