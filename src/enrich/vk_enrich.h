/* vk_enrich.h — the enrich stage: threat intelligence, business context, geo and ASN.
 *
 * One struct vk_enrich holds everything a data directory D knows about the world: the
 * threat-intel feeds registered under D/intel/ (parsed, warninglists applied, built into
 * one matcher), the asset inventory in D/assets/, the country database and the ASN prefix
 * list. vk_enrich_apply adds threat.*, asset.*, country.* and asn.* meta to a record.
 *
 * Readers never see half a feed: a refresh builds a whole new matcher beside the one in
 * use and swaps one pointer under a writer-preferring rwlock; readers hold the read lock
 * for the length of one vk_enrich_apply. A feed that fails to update (download error,
 * malformed file) keeps its last good version, and the failure is recorded in the
 * registry for `vakt intel status`.
 *
 * Files under D (docs/INTEL.md has the formats):
 *   D/intel/feeds.json      registry: definition, schedule, ETag, counts, last error
 *   D/intel/cache/NAME.tsv  the last good version of each feed, parsed
 *   D/intel/new.jsonl       indicators new in each update (for retro-hunts)
 *   D/intel/hits.jsonl      retro-hunt hits, printed by `vakt intel hits`
 *   D/assets/assets.json    the asset inventory */
#ifndef VK_ENRICH_H
#define VK_ENRICH_H

#include "../core/vk_core.h"

struct vk_enrich;

/* Load D/intel (every cached feed), D/assets and the geo data. A data dir without intel
 * or assets is fine (nothing matches); a missing geo database only disables geo/ASN.
 * Returns NULL with a message when a file exists but cannot be read. */
struct vk_enrich *vk_enrich_open(const char *datadir, char *err, size_t errlen);
/* Add threat.*, asset.*, country.*, asn.* meta to a record. Thread-safe; takes the read
 * lock once. Cost: per IP value (threat) a read of a /24 map and, only where it says so,
 * one hash bucket (a prefix index for covered /24s); per IP value (ASN, assets) one /16
 * table read plus a binary search of a few steps, and one mmdb walk (country); per host
 * name one hash per label count some indicator has, each checked against an in-cache
 * filter before its bucket is read; per URL, hash, JA3, user agent one hash, filter and
 * (rarely) bucket. Allocates nothing (beyond the meta list's own growth). */
void vk_enrich_apply(struct vk_enrich *e, struct vk_meta *rec);
/* One scheduled refresh step: re-read the registry, fetch the feeds that are due (all of
 * them when force), reload changed caches and assets, and swap in a new matcher when
 * anything changed. Returns the number of feeds changed, or a negative code (err says
 * which feeds failed; the others are still applied). */
int vk_enrich_refresh(struct vk_enrich *e, bool force, char *err, size_t errlen);
/* Run vk_enrich_refresh every period_s seconds on a background thread (stopped by
 * vk_enrich_close). */
int vk_enrich_autorefresh(struct vk_enrich *e, unsigned period_s);
void vk_enrich_close(struct vk_enrich *e);

/* Indicators that are new in an update compared with the feed's previous version (all of
 * them for a feed's first version): handed to fn during vk_enrich_refresh or
 * vk_enrich_update, and appended to D/intel/new.jsonl. */
struct vk_enrich_ioc {
    const char *feed;  /* feed NAME */
    const char *type;  /* ip, domain, url, path, ipport, md5, sha1, sha256, ja3, hassh, ua, email, regex */
    const char *value; /* normalised indicator */
};
typedef void (*vk_enrich_new_fn)(void *ud, const struct vk_enrich_ioc *ioc);
void vk_enrich_on_new(struct vk_enrich *e, vk_enrich_new_fn fn, void *ud);

/* Counters of what is loaded (for `intel status` and benchmarks). */
struct vk_enrich_stats {
    uint64_t feeds, indicators, suppressed, assets;
    uint64_t matcher_bytes; /* memory of the built matcher (IP index, hash table, hit lists) */
    uint64_t feed_bytes;    /* memory of the parsed feeds (values, meta) */
    bool geo, asn;
    uint64_t asn_ranges;
};
void vk_enrich_get_stats(struct vk_enrich *e, struct vk_enrich_stats *st);

/* ---- the feed registry (used by `vakt intel`) ------------------------------------------ */
enum vk_enrich_fmt { VK_ENRICH_CSV = 1, VK_ENRICH_LIST, VK_ENRICH_STIX, VK_ENRICH_MISP, VK_ENRICH_WARNINGLIST };
const char *vk_enrich_fmt_name(enum vk_enrich_fmt f);
int vk_enrich_fmt_parse(const char *s); /* negative when unknown */

struct vk_enrich_feed_def {
    const char *name;     /* [A-Za-z0-9_.-], 1..63 chars */
    const char *source;   /* file, directory, http:// or https:// URL */
    enum vk_enrich_fmt fmt;
    unsigned every_s;     /* refresh period, 0 = only on `intel update` (files: on change) */
    const char *columns;  /* CSV column roles (docs/INTEL.md), NULL = header or default */
    const char *category; /* default threat.category, NULL = per format */
    int confidence;       /* default threat.confidence 0-100, -1 = per format */
    bool benign;          /* a list of known-good values: suppresses, never matches */
};
struct vk_enrich_feed_status {
    char name[64], format[16], source[1024], columns[256], category[128];
    unsigned every_s;
    int confidence;
    bool benign;
    int64_t added_ms, last_fetch_ms, last_ok_ms, last_change_ms, error_ms; /* 0 = never */
    uint64_t count, suppressed, skipped, unsupported;
    char error[512]; /* last failure, "" when the last attempt worked */
    char note[256];  /* parser hint (first skipped line) */
};
/* Fetch or read the source, parse it, cache it and register it (a feed of the same
 * NAME is replaced). On a bad source nothing is registered and err names the feed and
 * the line or object. st (may be NULL) gets the new entry. */
int vk_enrich_feed_add(const char *datadir, const struct vk_enrich_feed_def *d,
                       struct vk_enrich_feed_status *st, char *err, size_t errlen);
int vk_enrich_feed_remove(const char *datadir, const char *name, char *err, size_t errlen);
/* Update the named feed (NULL = every feed that is due, or every feed when force) now,
 * outside any running vk_enrich: `vakt intel update`. Returns the number of feeds that
 * changed, or a negative code when one failed (err lists the failures). */
int vk_enrich_update(const char *datadir, const char *name, bool force, vk_enrich_new_fn fn, void *ud,
                     char *err, size_t errlen);
/* Every registered feed; *out is malloc'ed (free it). */
int vk_enrich_status(const char *datadir, struct vk_enrich_feed_status **out, size_t *n, char *err,
                     size_t errlen);

/* ---- retro-hunt hits (D/intel/hits.jsonl) --------------------------------------------- */
struct vk_enrich_hit {
    int64_t time_ms;       /* when the hit was found */
    int64_t session_ms;    /* time of the matching record */
    const char *feed, *type, *indicator; /* what matched */
    const char *key;       /* meta key that carried it, e.g. "dns.query" */
    const char *session;   /* record id */
    const char *category;  /* threat.category of the indicator (may be NULL) */
    bool retro;            /* found by a retro-hunt (false: at ingest) */
};
/* Append one JSON line; safe against concurrent writers (one O_APPEND write). */
int vk_enrich_hit_append(const char *datadir, const struct vk_enrich_hit *h, char *err, size_t errlen);

/* ---- business context ------------------------------------------------------------------ */
/* Import assets from a CSV (header row) or JSON (array of objects) file: each row names
 * an IP, a CIDR or a host name (`*.corp.example` for a whole domain) with name, owner,
 * process(es), criticality 1-5, classification and compliance scopes. Rows replace
 * earlier ones with the same address/host; replace=true starts from an empty
 * inventory. Errors name the file and row. */
int vk_enrich_assets_import(const char *datadir, const char *file, bool replace, size_t *count, char *err,
                            size_t errlen);

/* Priority of an alert, 0-100 (docs/INTEL.md):
 *   100 * S * A * (0.6 + 0.4 * C), rounded
 *   S = severity / 5          (severity 1 info .. 5 critical; clamped to 1..5)
 *   A = 0.4 + 0.15 * (crit-1) (asset criticality 1..5; 0 = unknown counts as 3)
 *   C = confidence / 100      (threat-intel confidence 0..100; 0 = no intel match) */
unsigned vk_enrich_priority(unsigned severity, unsigned criticality, unsigned confidence);
/* "critical" (>= 80), "high" (>= 60), "medium" (>= 35), "low" (>= 15), "info". */
const char *vk_enrich_priority_band(unsigned priority);

/* Where the geo/ASN data is: $VAKT_GEO_DIR, else the first of ~/.cache/vakt/geo,
 * /var/lib/vakt/geo that holds it (scripts/deps.sh installs it). out >= 4096 bytes. */
bool vk_enrich_geo_dir(char *out, size_t outlen);

#endif
