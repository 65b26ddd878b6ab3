/* cmd_intel.c — `vakt intel ...` (threat-intel feeds of a data dir) and `vakt assets ...`
 * (its asset inventory). Thin: parsing options and printing; the work is src/enrich's. */
#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/vk_core.h"
#include "enrich/vk_enrich.h"

static const char *default_data(void)
{
    const char *d = getenv("VAKT_DATA");
    return d && *d ? d : "./vakt-data";
}

static int usage_err(const char *cmd, const char *msg)
{
    fprintf(stderr, "vakt: %s: %s (see --help)\n", cmd, msg);
    return 2;
}

/* "90", "90s", "30m", "1h", "2d" -> seconds; false when malformed. */
static bool parse_dur(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s) return false;
    unsigned long mul = 1;
    if (*end == 's') end++;
    else if (*end == 'm') mul = 60, end++;
    else if (*end == 'h') mul = 3600, end++;
    else if (*end == 'd') mul = 86400, end++;
    if (*end || v > 365ul * 86400 / mul) return false;
    *out = (unsigned)(v * mul);
    return true;
}

static void fmt_age(int64_t ms, int64_t now, char *out, size_t cap)
{
    if (!ms) {
        snprintf(out, cap, "never");
        return;
    }
    int64_t s = (now - ms) / 1000;
    if (s < 0) s = 0;
    if (s < 120) snprintf(out, cap, "%llds", (long long)s);
    else if (s < 7200) snprintf(out, cap, "%lldm", (long long)(s / 60));
    else if (s < 172800) snprintf(out, cap, "%lldh", (long long)(s / 3600));
    else snprintf(out, cap, "%lldd", (long long)(s / 86400));
}

static void fmt_every(unsigned s, char *out, size_t cap)
{
    if (!s) snprintf(out, cap, "-");
    else if (s % 86400 == 0) snprintf(out, cap, "%ud", s / 86400);
    else if (s % 3600 == 0) snprintf(out, cap, "%uh", s / 3600);
    else if (s % 60 == 0) snprintf(out, cap, "%um", s / 60);
    else snprintf(out, cap, "%us", s);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- intel add ---------------------------------------------------------------------- */
static const char add_help[] =
    "usage: vakt intel add [--data D] NAME FILE|DIR|URL --format csv|list|stix|misp|warninglist\n"
    "                      [--every 1h] [--columns SPEC] [--category C] [--confidence N] [--benign]\n"
    "Register a threat-intel feed in data dir D (default $VAKT_DATA, else ./vakt-data). The source\n"
    "is read (or downloaded) and parsed now; a bad source is refused with the line or object at\n"
    "fault. Every later ingest into D applies it; threat.source holds NAME. A feed of the same\n"
    "NAME is replaced.\n"
    "  --format F       csv (a feed definition: see --columns), list (one indicator a line, '#'\n"
    "                   comments: maltrail trails, firehol ipsets), stix (2.1 bundle), misp\n"
    "                   (event JSON, or a feed's manifest.json), warninglist (MISP warninglists:\n"
    "                   a list.json or a directory of them; they suppress, never match)\n"
    "  --every DUR      refresh period (90s, 30m, 1h, 2d); 0 = only `intel update` (local files\n"
    "                   are also re-read whenever they change)\n"
    "  --columns SPEC   CSV column roles, comma-separated: one indicator column (indicator for\n"
    "                   guessing, or ip, cidr, domain, url, path, ipport, md5, sha1, sha256, hash,\n"
    "                   ja3, hassh, user-agent, email) and threat.category, threat.desc,\n"
    "                   threat.confidence, any other meta key, or '-' to skip. Default: a header\n"
    "                   row naming the roles, else indicator,threat.category,threat.desc,threat.confidence\n"
    "  --category C     threat.category when the feed gives none (default: list file name, feed NAME)\n"
    "  --confidence N   threat.confidence 0-100 when the feed gives none (default 50; MISP to_ids 75)\n"
    "  --benign         the list names known-good values: it suppresses other feeds' indicators\n";

static int intel_add(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'},     {"format", 1, 0, 'f'},  {"every", 1, 0, 'e'},
                                       {"columns", 1, 0, 'c'},  {"category", 1, 0, 'C'}, {"confidence", 1, 0, 'n'},
                                       {"benign", 0, 0, 'b'},   {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    struct vk_enrich_feed_def d = {.confidence = -1};
    const char *data = default_data(), *fmt = NULL;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:f:e:c:C:n:bh", lo, NULL)) != -1) {
        switch (o) {
        case 'd': data = optarg; break;
        case 'f': fmt = optarg; break;
        case 'e':
            if (!parse_dur(optarg, &d.every_s)) return usage_err("intel add", "--every takes 90s, 30m, 1h, 2d");
            break;
        case 'c': d.columns = optarg; break;
        case 'C': d.category = optarg; break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 100) return usage_err("intel add", "--confidence takes 0-100");
            d.confidence = (int)v;
            break;
        }
        case 'b': d.benign = true; break;
        case 'h': fputs(add_help, stdout); return 0;
        default: return 2;
        }
    }
    if (argc - optind != 2) return usage_err("intel add", "needs NAME and FILE|URL");
    if (!fmt) return usage_err("intel add", "needs --format csv|list|stix|misp|warninglist");
    int f = vk_enrich_fmt_parse(fmt);
    if (f < 0) return usage_err("intel add", "--format is one of csv, list, stix, misp, warninglist");
    d.fmt = (enum vk_enrich_fmt)f;
    d.name = argv[optind];
    d.source = argv[optind + 1];
    char err[1024];
    struct vk_enrich_feed_status st;
    int rc = vk_enrich_feed_add(data, &d, &st, err, sizeof err);
    if (rc) {
        fprintf(stderr, "vakt: intel add: %s\n", err);
        return rc == VK_EIO && !strstr(err, "feed '") ? 1 : 2;
    }
    printf("feed %s: %llu indicators (%llu suppressed by warninglists, %llu skipped, %llu unsupported)\n", st.name,
           (unsigned long long)st.count, (unsigned long long)st.suppressed, (unsigned long long)st.skipped,
           (unsigned long long)st.unsupported);
    if (st.note[0]) printf("  note: %s\n", st.note);
    return vk_cli_retrohunt(data, false) ? 1 : 0; /* the new indicators against what is stored */
}

/* ---- intel remove / update ----------------------------------------------------------------- */
static int intel_remove(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'h') {
            puts("usage: vakt intel remove [--data D] NAME\nUnregister a feed and drop its cached copy.");
            return 0;
        } else return 2;
    }
    if (argc - optind != 1) return usage_err("intel remove", "needs NAME");
    char err[1024];
    int rc = vk_enrich_feed_remove(data, argv[optind], err, sizeof err);
    if (rc) {
        fprintf(stderr, "vakt: intel remove: %s\n", err);
        return rc == VK_ENOTFOUND ? 2 : 1;
    }
    return 0;
}

static void print_new(void *ud, const struct vk_enrich_ioc *ioc)
{
    if (ud) printf("new\t%s\t%s\t%s\n", ioc->feed, ioc->type, ioc->value);
}

static int intel_update(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"force", 0, 0, 'f'}, {"new", 0, 0, 'n'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    bool force = false, shownew = false;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:fnh", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'f') force = true;
        else if (o == 'n') shownew = true;
        else if (o == 'h') {
            puts("usage: vakt intel update [--data D] [NAME] [--force] [--new]\n"
                 "Fetch the feeds that are due (or NAME, or all with --force) now. A download that\n"
                 "fails or a source that does not parse keeps the last good version; the error is\n"
                 "shown here and in `intel status`. --new prints each indicator new in this update\n"
                 "(they are always appended to D/intel/new.jsonl).");
            return 0;
        } else return 2;
    }
    if (argc - optind > 1) return usage_err("intel update", "takes at most one NAME");
    char err[2048];
    int rc = vk_enrich_update(data, argc - optind == 1 ? argv[optind] : NULL, force, print_new,
                              shownew ? (void *)1 : NULL, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "vakt: intel update: %s\n", err);
        return rc == VK_ENOTFOUND ? 2 : 1;
    }
    printf("%d feed%s changed\n", rc, rc == 1 ? "" : "s");
    return vk_cli_retrohunt(data, false) ? 1 : 0;
}

static int intel_hunt(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'h') {
            puts("usage: vakt intel hunt [--data D]\n"
                 "Search the stored records for every indicator that feeds brought since the last hunt\n"
                 "(add and update do this by themselves); hits go to `vakt intel hits`.");
            return 0;
        } else return 2;
    }
    if (argc != optind) return usage_err("intel hunt", "takes no arguments");
    return vk_cli_retrohunt(data, false) ? 1 : 0;
}

/* ---- intel status ------------------------------------------------------------------------- */
static int intel_status(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    bool js = false;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:jh", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'j') js = true;
        else if (o == 'h') {
            puts("usage: vakt intel status [--data D] [--json]\n"
                 "Every feed of D: format, indicators in use, how many the warninglists suppress, age\n"
                 "of the last good version, refresh period and the last error (\"-\" when the last\n"
                 "attempt worked). --json prints an array of objects with the same facts (times in ms).");
            return 0;
        } else return 2;
    }
    if (argc != optind) return usage_err("intel status", "takes no arguments");
    struct vk_enrich_feed_status *st;
    size_t n;
    char err[1024];
    if (vk_enrich_status(data, &st, &n, err, sizeof err)) {
        fprintf(stderr, "vakt: intel status: %s\n", err);
        return 1;
    }
    int64_t now = now_ms();
    if (js) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            const struct vk_enrich_feed_status *s = &st[i];
            json_t *ob = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:i,s:b,s:I,s:I,s:I,s:I}", "name", s->name, "format",
                                   s->format, "source", s->source, "count", (json_int_t)s->count, "suppressed",
                                   (json_int_t)s->suppressed, "skipped", (json_int_t)s->skipped, "unsupported",
                                   (json_int_t)s->unsupported, "every", (int)s->every_s, "benign", s->benign,
                                   "added", (json_int_t)s->added_ms, "last_fetch", (json_int_t)s->last_fetch_ms,
                                   "last_ok", (json_int_t)s->last_ok_ms, "last_change", (json_int_t)s->last_change_ms);
            json_object_set_new(ob, "age_s", s->last_ok_ms ? json_integer((now - s->last_ok_ms) / 1000) : json_null());
            json_object_set_new(ob, "error", s->error[0] ? json_string(s->error) : json_null());
            if (s->error[0]) json_object_set_new(ob, "error_time", json_integer(s->error_ms));
            if (s->note[0]) json_object_set_new(ob, "note", json_string(s->note));
            json_array_append_new(arr, ob);
        }
        char *txt = json_dumps(arr, JSON_INDENT(1));
        if (txt) puts(txt);
        free(txt);
        json_decref(arr);
    } else {
        printf("%-20s %-11s %10s %10s %6s %6s  %-40s %s\n", "NAME", "FORMAT", "COUNT", "SUPPRESSED", "AGE", "EVERY",
               "SOURCE", "ERROR");
        for (size_t i = 0; i < n; i++) {
            const struct vk_enrich_feed_status *s = &st[i];
            char age[16], ev[16];
            fmt_age(s->last_ok_ms, now, age, sizeof age);
            fmt_every(s->every_s, ev, sizeof ev);
            printf("%-20s %-11s %10llu %10llu %6s %6s  %-40s %s\n", s->name, s->benign && strcmp(s->format, "warninglist") ? "list+benign" : s->format,
                   (unsigned long long)s->count, (unsigned long long)s->suppressed, age, ev, s->source,
                   s->error[0] ? s->error : "-");
        }
        if (n == 0) printf("(no feeds in %s; add one with `vakt intel add`)\n", data);
    }
    free(st);
    return 0;
}

/* ---- intel hits --------------------------------------------------------------------------- */
static int intel_hits(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'},  {"json", 0, 0, 'j'},  {"feed", 1, 0, 'f'},
                                       {"limit", 1, 0, 'l'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data(), *feed = NULL;
    bool js = false;
    long limit = 0;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:jf:l:h", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'j') js = true;
        else if (o == 'f') feed = optarg;
        else if (o == 'l') {
            char *end;
            limit = strtol(optarg, &end, 10);
            if (*end || limit < 0) return usage_err("intel hits", "--limit takes a number");
        } else if (o == 'h') {
            puts("usage: vakt intel hits [--data D] [--json] [--feed NAME] [--limit N]\n"
                 "Threat-intel hits found by retro-hunts (D/intel/hits.jsonl), newest last. --json\n"
                 "prints the stored JSON lines; --limit keeps the last N.");
            return 0;
        } else return 2;
    }
    if (argc != optind) return usage_err("intel hits", "takes no arguments");
    char p[4200];
    snprintf(p, sizeof p, "%s/intel/hits.jsonl", data);
    FILE *fp = fopen(p, "r");
    if (!fp) {
        if (!js) printf("(no hits in %s)\n", data);
        return 0;
    }
    /* keep the last `limit` matching lines */
    char **keep = NULL;
    size_t nk = 0, cap = 0, total = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t ll;
    while ((ll = getline(&line, &lcap, fp)) > 0) {
        json_error_t je;
        json_t *h = json_loads(line, 0, &je);
        if (!json_is_object(h)) {
            json_decref(h);
            continue;
        }
        const char *f = json_string_value(json_object_get(h, "feed"));
        bool want = !feed || (f && !strcmp(f, feed));
        json_decref(h);
        if (!want) continue;
        total++;
        if (nk == cap) {
            cap = cap ? cap * 2 : 64;
            char **nw = realloc(keep, cap * sizeof *nw);
            if (!nw) break;
            keep = nw;
        }
        keep[nk++] = strdup(line);
        if (limit && nk > (size_t)limit) {
            free(keep[0]);
            memmove(keep, keep + 1, (nk - 1) * sizeof *keep);
            nk--;
        }
    }
    free(line);
    fclose(fp);
    if (!js)
        printf("%-19s %-16s %-7s %-40s %-12s %-24s %s\n", "TIME", "FEED", "TYPE", "INDICATOR", "KEY", "SESSION",
               "CATEGORY");
    for (size_t i = 0; i < nk; i++) {
        if (js) {
            fputs(keep[i], stdout);
        } else {
            json_t *h = json_loads(keep[i], 0, NULL);
            json_int_t t = json_integer_value(json_object_get(h, "time"));
            time_t ts = (time_t)(t / 1000);
            struct tm tm;
            char tb[32];
            gmtime_r(&ts, &tm);
            strftime(tb, sizeof tb, "%Y-%m-%d %H:%M:%S", &tm);
            const char *ks[] = {"feed", "type", "indicator", "key", "session", "category"};
            const char *v[6];
            for (int k = 0; k < 6; k++) {
                v[k] = json_string_value(json_object_get(h, ks[k]));
                if (!v[k]) v[k] = "-";
            }
            printf("%-19s %-16s %-7s %-40s %-12s %-24s %s%s\n", tb, v[0], v[1], v[2], v[3], v[4], v[5],
                   json_is_true(json_object_get(h, "retro")) ? " (retro)" : "");
            json_decref(h);
        }
        free(keep[i]);
    }
    if (!js && total == 0) printf("(no hits)\n");
    free(keep);
    return 0;
}

/* ---- intel lookup ------------------------------------------------------------------------ */
static int intel_lookup(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'h') {
            puts("usage: vakt intel lookup [--data D] VALUE...\n"
                 "What D's enrichment adds for each value (an IP, host name, URL, hash, ip:port or\n"
                 "e-mail), as one JSON object per value: the threat.*, asset.*, country and ASN meta a\n"
                 "record holding it would get.");
            return 0;
        } else return 2;
    }
    if (argc == optind) return usage_err("intel lookup", "needs a VALUE");
    char err[1024];
    struct vk_enrich *e = vk_enrich_open(data, err, sizeof err);
    if (!e) {
        fprintf(stderr, "vakt: intel lookup: %s\n", err);
        return 1;
    }
    struct vk_meta m;
    vk_meta_init(&m);
    struct vk_json j;
    vk_json_init(&j);
    for (int i = optind; i < argc; i++) {
        const char *v = argv[i];
        size_t n = strlen(v);
        vk_meta_reset(&m);
        const char *colon = strrchr(v, ':');
        bool hex = n && strspn(v, "0123456789abcdefABCDEF") == n;
        char ip[64];
        unsigned char a6[16];
        if (strstr(v, "://"))
            vk_meta_add_str(&m, VK_K_HTTP_URI, v, n);
        else if (v[0] == '/')
            vk_meta_add_str(&m, VK_K_HTTP_PATH, v, n);
        else if (hex && n == 32) {
            vk_meta_add_str(&m, VK_K_FILE_MD5, v, n);
            vk_meta_add_str(&m, VK_K_TLS_JA3, v, n);
        } else if (hex && n == 64)
            vk_meta_add_str(&m, VK_K_FILE_SHA256, v, n);
        else if (strchr(v, '@'))
            vk_meta_add_str(&m, VK_K_EMAIL_SRC, v, n);
        else if (inet_pton(AF_INET, v, a6) == 1 || inet_pton(AF_INET6, v, a6) == 1)
            vk_meta_add_str(&m, VK_K_IP_DST, v, n);
        else if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
                 snprintf(ip, sizeof ip, "%.*s", (int)(colon - v - (v[0] == '[' ? 2 : 0)), v + (v[0] == '[')) > 0 &&
                 (inet_pton(AF_INET, ip, a6) == 1 || inet_pton(AF_INET6, ip, a6) == 1)) {
            vk_meta_add_cstr(&m, VK_K_IP_DST, ip);
            vk_meta_add_uint(&m, VK_K_PORT_DST, strtoull(colon + 1, NULL, 10));
        } else if (strchr(v, '/'))
            vk_meta_add_str(&m, VK_K_HTTP_URI, v, n);
        else
            vk_meta_add_str(&m, VK_K_HOST_DST, v, n);
        vk_enrich_apply(e, &m);
        j.len = 0;
        j.need_comma = false;
        vk_json_meta(&j, &m);
        fwrite(j.p, 1, j.len, stdout);
        putchar('\n');
    }
    vk_json_free(&j);
    vk_meta_free(&m);
    vk_enrich_close(e);
    return 0;
}

static const char intel_help[] =
    "usage: vakt intel COMMAND [--data D] ...\n"
    "Threat-intelligence feeds of a data dir D (default $VAKT_DATA, else ./vakt-data).\n"
    "  add NAME FILE|URL --format F   register a feed (csv, list, stix, misp, warninglist)\n"
    "  remove NAME                    unregister a feed\n"
    "  update [NAME] [--force]        fetch the feeds that are due now\n"
    "  status [--json]                every feed: age, indicator count, last error\n"
    "  hits [--json]                  hits found by retro-hunts\n"
    "  hunt                           search stored history for indicators new since the last hunt\n"
    "  lookup VALUE...                what enrichment adds for a value\n"
    "Each command has --help. docs/INTEL.md describes formats, matching and files.\n";

int vk_cli_intel(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(intel_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "add")) return intel_add(argc - 1, argv + 1);
    if (!strcmp(sub, "remove")) return intel_remove(argc - 1, argv + 1);
    if (!strcmp(sub, "update")) return intel_update(argc - 1, argv + 1);
    if (!strcmp(sub, "status")) return intel_status(argc - 1, argv + 1);
    if (!strcmp(sub, "hits")) return intel_hits(argc - 1, argv + 1);
    if (!strcmp(sub, "hunt")) return intel_hunt(argc - 1, argv + 1);
    if (!strcmp(sub, "lookup")) return intel_lookup(argc - 1, argv + 1);
    fprintf(stderr, "vakt: intel: unknown command '%s' (add, remove, update, status, hits, hunt, lookup)\n", sub);
    return 2;
}

/* ---- assets -------------------------------------------------------------------------------- */
static const char assets_help[] =
    "usage: vakt assets import [--data D] FILE [--replace]\n"
    "       vakt assets list [--data D] [--json]\n"
    "The asset inventory of data dir D (default $VAKT_DATA, else ./vakt-data). FILE is CSV with a\n"
    "header row, or JSON (an array of objects), one asset a row:\n"
    "  ip | cidr | host      what the asset is (host: a name, or *.domain for a whole domain)\n"
    "  name, owner           text\n"
    "  process               business processes, ';'-separated (a JSON list in JSON)\n"
    "  criticality           1 (low) .. 5 (vital)\n"
    "  classification        data classification (public, internal, confidential, ...)\n"
    "  compliance            scopes, ';'-separated (PCI, GDPR, NIS2, ...)\n"
    "Rows replace earlier entries for the same address or host; --replace starts afresh.\n"
    "Every later ingest into D adds asset.* meta (docs/INTEL.md) for both sides of a record.\n";

static int assets_import(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"replace", 0, 0, 'r'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    bool replace = false;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:rh", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'r') replace = true;
        else if (o == 'h') {
            fputs(assets_help, stdout);
            return 0;
        } else return 2;
    }
    if (argc - optind != 1) return usage_err("assets import", "needs one FILE");
    char err[1024];
    size_t n;
    int rc = vk_enrich_assets_import(data, argv[optind], replace, &n, err, sizeof err);
    if (rc) {
        fprintf(stderr, "vakt: assets import: %s\n", err);
        return rc == VK_EIO ? 1 : 2;
    }
    printf("%zu asset row%s imported into %s/assets/assets.json\n", n, n == 1 ? "" : "s", data);
    return 0;
}

static int assets_list(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *data = default_data();
    bool js = false;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "d:jh", lo, NULL)) != -1) {
        if (o == 'd') data = optarg;
        else if (o == 'j') js = true;
        else if (o == 'h') {
            fputs(assets_help, stdout);
            return 0;
        } else return 2;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/assets/assets.json", data);
    json_error_t je;
    json_t *root = json_load_file(p, 0, &je);
    json_t *arr = json_object_get(root, "assets");
    if (!root) {
        if (js) puts("[]");
        else printf("(no assets in %s)\n", data);
        return 0;
    }
    if (js) {
        char *t = json_dumps(arr, JSON_INDENT(1));
        if (t) puts(t);
        free(t);
    } else {
        printf("%-32s %-24s %-16s %4s %-14s %-20s %s\n", "MATCH", "NAME", "OWNER", "CRIT", "CLASS", "PROCESS",
               "COMPLIANCE");
        size_t i;
        json_t *a;
        json_array_foreach(arr, i, a) {
            char pr[256] = "", co[256] = "";
            const char *lk[] = {"process", "compliance"};
            char *dst[] = {pr, co};
            for (int k = 0; k < 2; k++) {
                size_t j;
                json_t *x;
                json_array_foreach(json_object_get(a, lk[k]), j, x) {
                    size_t l = strlen(dst[k]);
                    snprintf(dst[k] + l, 256 - l, "%s%s", l ? ";" : "", json_string_value(x));
                }
            }
            const char *nm = json_string_value(json_object_get(a, "name")), *ow = json_string_value(json_object_get(a, "owner")),
                       *cl = json_string_value(json_object_get(a, "classification"));
            json_t *c = json_object_get(a, "criticality");
            printf("%-32s %-24s %-16s %4s %-14s %-20s %s\n", json_string_value(json_object_get(a, "match")),
                   nm ? nm : "-", ow ? ow : "-", json_is_integer(c) ? (char[]){(char)('0' + json_integer_value(c)), 0} : "-",
                   cl ? cl : "-", pr[0] ? pr : "-", co[0] ? co : "-");
        }
    }
    json_decref(root);
    return 0;
}

int vk_cli_assets(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(assets_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "import")) return assets_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list")) return assets_list(argc - 1, argv + 1);
    fprintf(stderr, "vakt: assets: unknown command '%s' (import, list)\n", argv[1]);
    return 2;
}
