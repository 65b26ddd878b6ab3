/* enrich.c — the enrich stage of a data directory: feed registry, fetching, refresh with
 * an atomic swap, and vk_enrich_apply.
 *
 * Owns D/intel/ (feeds.json, cache/, new.jsonl, hits.jsonl) and the geo/ASN data. A feed
 * goes: source (file, directory or HTTP(S) URL fetched with ETag/If-Modified-Since) ->
 * parser (feed.c) -> cache file (its last good version, parsed) -> feedset in memory ->
 * matcher (match.c, built over all feeds with warninglists applied) -> snapshot. Readers
 * (vk_enrich_apply, any number of threads) hold a read lock on the current snapshot for
 * one record; a refresh builds the next snapshot without any lock and swaps the pointer
 * under the write lock (writer-preferring, so a steady stream of readers cannot starve
 * it). The registry is shared between processes (`vakt intel add` while an ingest runs):
 * writers take flock(D/intel/.lock) and replace feeds.json by rename.
 *
 * The asset inventory is assets.c's; this file only loads it into the snapshot. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "enrich_int.h"

#define NEW_MAX_PER_UPDATE 1000000 /* lines of new.jsonl per feed update */
#define DOWNLOAD_MAX (2048ll << 20)

/* ---- assets (assets.c) ------------------------------------------------------------------ */
struct assets;
struct assets *assets_load(const char *datadir, char *err, size_t errlen);
void assets_free(struct assets *a);
size_t assets_count(const struct assets *a);
/* Indexes of the asset of an address / host name, or -1. */
long assets_find_ip(const struct assets *a, int family, const uint8_t *addr);
long assets_find_host(const struct assets *a, const char *host, size_t n);
/* Add asset.* meta for the asset of one side. */
void assets_meta(const struct assets *a, long src, long dst, struct vk_meta *rec);

/* ---- registry ------------------------------------------------------------------------ */
struct reg_feed {
    struct vk_enrich_feed_status st;
    char etag[256], last_modified[128];
    int64_t src_mtime, src_size;
};
struct registry {
    struct reg_feed *f;
    size_t n;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const fmt_names[] = {"", "csv", "list", "stix", "misp", "warninglist"};

const char *vk_enrich_fmt_name(enum vk_enrich_fmt f)
{
    return f >= VK_ENRICH_CSV && f <= VK_ENRICH_WARNINGLIST ? fmt_names[f] : "?";
}

int vk_enrich_fmt_parse(const char *s)
{
    for (int i = VK_ENRICH_CSV; i <= VK_ENRICH_WARNINGLIST; i++)
        if (!strcmp(s, fmt_names[i])) return i;
    if (!strcmp(s, "maltrail") || !strcmp(s, "txt") || !strcmp(s, "ipset")) return VK_ENRICH_LIST;
    if (!strcmp(s, "stix2")) return VK_ENRICH_STIX;
    return VK_EINVAL;
}

static void path_in(char *out, size_t cap, const char *dd, const char *rel)
{
    snprintf(out, cap, "%s/%s", dd, rel);
}

static int mkdirs(const char *dd, char *err, size_t errlen)
{
    const char *subs[] = {"", "/intel", "/intel/cache", "/assets"};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", dd, subs[i]);
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: %s", p, strerror(errno));
            return VK_EIO;
        }
    }
    return 0;
}

static int reg_lock(const char *dd, char *err, size_t errlen)
{
    if (mkdirs(dd, err, errlen)) return -1;
    char p[4200];
    path_in(p, sizeof p, dd, "intel/.lock");
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        snprintf(err, errlen, "%s: %s", p, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static void reg_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static void cpy(char *dst, size_t cap, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}
static int64_t ival(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void reg_free(struct registry *r)
{
    free(r->f);
    r->f = NULL;
    r->n = 0;
}

static int reg_load(const char *dd, struct registry *r, char *err, size_t errlen)
{
    r->f = NULL;
    r->n = 0;
    char p[4200];
    path_in(p, sizeof p, dd, "intel/feeds.json");
    if (access(p, F_OK) != 0) return 0;
    json_error_t je;
    json_t *root = json_load_file(p, 0, &je);
    json_t *arr = json_object_get(root, "feeds");
    if (!root || !json_is_array(arr)) {
        snprintf(err, errlen, "%s: %s (line %d)", p, root ? "no \"feeds\" array" : je.text, je.line);
        json_decref(root);
        return VK_EFORMAT;
    }
    r->f = calloc(json_array_size(arr) + 1, sizeof *r->f);
    if (!r->f) {
        json_decref(root);
        return VK_ENOMEM;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        struct reg_feed *f = &r->f[r->n];
        struct vk_enrich_feed_status *s = &f->st;
        cpy(s->name, sizeof s->name, o, "name");
        if (!s->name[0]) continue;
        cpy(s->format, sizeof s->format, o, "format");
        cpy(s->source, sizeof s->source, o, "source");
        cpy(s->columns, sizeof s->columns, o, "columns");
        cpy(s->category, sizeof s->category, o, "category");
        cpy(s->error, sizeof s->error, o, "error");
        cpy(s->note, sizeof s->note, o, "note");
        cpy(f->etag, sizeof f->etag, o, "etag");
        cpy(f->last_modified, sizeof f->last_modified, o, "last_modified");
        s->every_s = (unsigned)ival(o, "every");
        json_t *c = json_object_get(o, "confidence");
        s->confidence = json_is_integer(c) ? (int)json_integer_value(c) : -1;
        s->benign = json_is_true(json_object_get(o, "benign"));
        s->added_ms = ival(o, "added");
        s->last_fetch_ms = ival(o, "last_fetch");
        s->last_ok_ms = ival(o, "last_ok");
        s->last_change_ms = ival(o, "last_change");
        s->error_ms = ival(o, "error_time");
        s->count = (uint64_t)ival(o, "count");
        s->suppressed = (uint64_t)ival(o, "suppressed");
        s->skipped = (uint64_t)ival(o, "skipped");
        s->unsupported = (uint64_t)ival(o, "unsupported");
        f->src_mtime = ival(o, "src_mtime");
        f->src_size = ival(o, "src_size");
        r->n++;
    }
    json_decref(root);
    return 0;
}

static int reg_save(const char *dd, const struct registry *r, char *err, size_t errlen)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const struct reg_feed *f = &r->f[i];
        const struct vk_enrich_feed_status *s = &f->st;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(s->name));
        json_object_set_new(o, "format", json_string(s->format));
        json_object_set_new(o, "source", json_string(s->source));
        if (s->columns[0]) json_object_set_new(o, "columns", json_string(s->columns));
        if (s->category[0]) json_object_set_new(o, "category", json_string(s->category));
        if (s->confidence >= 0) json_object_set_new(o, "confidence", json_integer(s->confidence));
        json_object_set_new(o, "every", json_integer(s->every_s));
        json_object_set_new(o, "benign", json_boolean(s->benign));
        json_object_set_new(o, "added", json_integer(s->added_ms));
        json_object_set_new(o, "last_fetch", json_integer(s->last_fetch_ms));
        json_object_set_new(o, "last_ok", json_integer(s->last_ok_ms));
        json_object_set_new(o, "last_change", json_integer(s->last_change_ms));
        json_object_set_new(o, "count", json_integer((json_int_t)s->count));
        json_object_set_new(o, "suppressed", json_integer((json_int_t)s->suppressed));
        json_object_set_new(o, "skipped", json_integer((json_int_t)s->skipped));
        json_object_set_new(o, "unsupported", json_integer((json_int_t)s->unsupported));
        if (s->note[0]) json_object_set_new(o, "note", json_stringn(s->note, strnlen(s->note, sizeof s->note)));
        if (s->error[0]) {
            json_object_set_new(o, "error", json_stringn(s->error, strnlen(s->error, sizeof s->error)));
            json_object_set_new(o, "error_time", json_integer(s->error_ms));
        }
        if (f->etag[0]) json_object_set_new(o, "etag", json_string(f->etag));
        if (f->last_modified[0]) json_object_set_new(o, "last_modified", json_string(f->last_modified));
        if (f->src_mtime) json_object_set_new(o, "src_mtime", json_integer(f->src_mtime));
        if (f->src_size) json_object_set_new(o, "src_size", json_integer(f->src_size));
        json_array_append_new(arr, o);
    }
    json_t *root = json_pack("{s:i,s:o}", "version", 1, "feeds", arr);
    char p[4200], tmp[4300];
    path_in(p, sizeof p, dd, "intel/feeds.json");
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", p, (int)getpid());
    int rc = json_dump_file(root, tmp, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    json_decref(root);
    if (rc != 0 || rename(tmp, p) != 0) {
        snprintf(err, errlen, "%s: cannot write (%s)", p, strerror(errno));
        unlink(tmp);
        return VK_EIO;
    }
    return 0;
}

static struct reg_feed *reg_find(struct registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->f[i].st.name, name)) return &r->f[i];
    return NULL;
}

static void cache_path(char *out, size_t cap, const char *dd, const char *name)
{
    snprintf(out, cap, "%s/intel/cache/%s.tsv", dd, name);
}

static bool is_url(const char *s) { return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8); }

/* ---- fetching ------------------------------------------------------------------------- */
struct hdrs {
    char etag[256], lm[128];
};

static size_t on_header(char *b, size_t sz, size_t nm, void *ud)
{
    struct hdrs *h = ud;
    size_t n = sz * nm;
    const char *names[] = {"etag:", "last-modified:"};
    char *dst[] = {h->etag, h->lm};
    size_t caps[] = {sizeof h->etag, sizeof h->lm};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(names[i]);
        if (n > k && !strncasecmp(b, names[i], k)) {
            size_t s = k, e = n;
            while (s < e && (b[s] == ' ' || b[s] == '\t')) s++;
            while (e > s && (b[e - 1] == '\r' || b[e - 1] == '\n' || b[e - 1] == ' ')) e--;
            snprintf(dst[i], caps[i], "%.*s", (int)(e - s), b + s);
        }
    }
    return n;
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* GET url into path. Returns 200 (written), 304 (not modified) or negative with err. */
static int http_get(const char *url, const char *path, const char *etag, const char *lm, struct hdrs *h, char *err,
                    size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return VK_EIO;
    }
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    char b[512], ebuf[CURL_ERROR_SIZE] = "";
    if (etag && *etag) {
        snprintf(b, sizeof b, "If-None-Match: %s", etag);
        hl = curl_slist_append(hl, b);
    }
    if (lm && *lm) {
        snprintf(b, sizeof b, "If-Modified-Since: %s", lm);
        hl = curl_slist_append(hl, b);
    }
    memset(h, 0, sizeof *h);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DOWNLOAD_MAX);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vakt-intel/1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, fp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode cr = curl_easy_perform(c);
    long code = 0;
    curl_off_t got = 0, want = -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    bool werr = fclose(fp) != 0;
    int rc;
    if (cr == CURLE_PARTIAL_FILE) {
        snprintf(err, errlen, "download truncated: got %lld of %lld bytes", (long long)got, (long long)want);
        rc = VK_EIO;
    } else if (cr != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cr));
        rc = VK_EIO;
    } else if (code == 304) {
        rc = 304;
    } else if (code != 200) {
        snprintf(err, errlen, "%s: HTTP %ld", url, code);
        rc = VK_EIO;
    } else if (want >= 0 && got != want) {
        snprintf(err, errlen, "download truncated: got %lld of %lld bytes", (long long)got, (long long)want);
        rc = VK_EIO;
    } else if (werr) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = VK_EIO;
    } else {
        rc = 200;
    }
    if (rc != 200) unlink(path);
    return rc;
}

/* ---- new indicators (diff) -------------------------------------------------------------- */
static uint64_t ind_key(const struct feedset *f, const struct fs_ind *d)
{
    return str_hash((enum ioc_type)d->type, fs_s(f, d->val), strlen(fs_s(f, d->val)));
}

/* Indicators of nw not in old (by a 64-bit hash of type and value). */
static uint64_t diff_new(const char *dd, const struct feedset *old, const struct feedset *nw, vk_enrich_new_fn fn,
                         void *ud)
{
    uint64_t cap = 16, *set = NULL;
    if (old && old->n) {
        while (cap < (uint64_t)old->n * 2) cap <<= 1;
        set = calloc(cap, sizeof *set);
        if (!set) return 0;
        for (uint32_t i = 0; i < old->n; i++) {
            uint64_t h = ind_key(old, &old->ind[i]);
            uint64_t s = h & (cap - 1);
            while (set[s] && set[s] != h) s = (s + 1) & (cap - 1);
            set[s] = h;
        }
    }
    char p[4200];
    path_in(p, sizeof p, dd, "intel/new.jsonl");
    FILE *fp = nw->benign ? NULL : fopen(p, "a");
    int64_t t = now_ms();
    uint64_t k = 0;
    struct vk_json j;
    vk_json_init(&j);
    for (uint32_t i = 0; i < nw->n && !nw->benign; i++) {
        const struct fs_ind *d = &nw->ind[i];
        if (set) {
            uint64_t h = ind_key(nw, d), s = h & (cap - 1);
            while (set[s] && set[s] != h) s = (s + 1) & (cap - 1);
            if (set[s] == h) continue;
        }
        k++;
        struct vk_enrich_ioc ioc = {nw->name, ioc_type_name((enum ioc_type)d->type), fs_s(nw, d->val)};
        if (fn) fn(ud, &ioc);
        if (fp && k <= NEW_MAX_PER_UPDATE) {
            j.len = 0;
            j.need_comma = false;
            vk_json_obj_begin(&j);
            vk_json_key(&j, "time");
            vk_json_val_uint(&j, (uint64_t)t);
            vk_json_key(&j, "feed");
            vk_json_val_str(&j, ioc.feed, strlen(ioc.feed));
            vk_json_key(&j, "type");
            vk_json_val_str(&j, ioc.type, strlen(ioc.type));
            vk_json_key(&j, "value");
            vk_json_val_str(&j, ioc.value, strlen(ioc.value));
            vk_json_obj_end(&j);
            vk_json_raw(&j, "\n", 1);
            fwrite(j.p, 1, j.len, fp);
        }
    }
    if (fp && k > NEW_MAX_PER_UPDATE)
        fprintf(fp, "{\"time\":%lld,\"feed\":\"%s\",\"truncated\":%llu}\n", (long long)t, nw->name,
                (unsigned long long)(k - NEW_MAX_PER_UPDATE));
    if (fp) fclose(fp);
    vk_json_free(&j);
    free(set);
    return k;
}

/* ---- updating one feed -------------------------------------------------------------------- */
static void feed_opts_of(const struct reg_feed *rf, struct feed_opts *o)
{
    memset(o, 0, sizeof *o);
    o->name = rf->st.name;
    o->fmt = (enum vk_enrich_fmt)vk_enrich_fmt_parse(rf->st.format);
    o->columns = rf->st.columns[0] ? rf->st.columns : NULL;
    o->category = rf->st.category[0] ? rf->st.category : NULL;
    o->confidence = rf->st.confidence;
    o->benign = rf->st.benign;
    o->now_ms = now_ms();
}

/* Fetch a MISP feed's events listed in a downloaded manifest into dir. */
static int misp_fetch_events(const char *url, const char *manifest, const char *dir, char *err, size_t errlen)
{
    json_error_t je;
    json_t *man = json_load_file(manifest, 0, &je);
    if (!json_is_object(man)) {
        snprintf(err, errlen, "manifest.json line %d: %s", je.line, man ? "not an object" : je.text);
        json_decref(man);
        return VK_EFORMAT;
    }
    const char *sl = strrchr(url, '/');
    const char *uuid;
    json_t *v;
    int rc = 0;
    json_object_foreach(man, uuid, v) {
        if (strspn(uuid, "0123456789abcdefABCDEF-") != strlen(uuid) || strlen(uuid) > 64) {
            snprintf(err, errlen, "manifest.json: '%.64s' is not an event uuid", uuid);
            rc = VK_EFORMAT;
            break;
        }
        char eu[4200], ep[4200];
        snprintf(eu, sizeof eu, "%.*s/%s.json", (int)(sl - url), url, uuid);
        snprintf(ep, sizeof ep, "%s/%s.json", dir, uuid);
        struct hdrs h;
        char e2[600];
        if (http_get(eu, ep, NULL, NULL, &h, e2, sizeof e2) != 200) {
            snprintf(err, errlen, "event %s: %s", uuid, e2);
            rc = VK_EIO;
            break;
        }
    }
    json_decref(man);
    return rc;
}

static void rm_dir(const char *dir)
{
    /* only our own download directory under D/intel/cache, whose name we made */
    if (strstr(dir, "/intel/cache/") && strstr(dir, ".download.d")) {
        DIR *d = opendir(dir);
        if (!d) return;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
        closedir(d);
        rmdir(dir);
    }
}

/* Bring one feed up to date. Returns 1 when a new version was cached, 0 when nothing
 * changed, negative on failure (rf->st.error set; the old cache stays). */
static int feed_update_one(const char *dd, struct reg_feed *rf, bool force, vk_enrich_new_fn fn, void *ud, char *err,
                           size_t errlen)
{
    struct feed_opts o;
    feed_opts_of(rf, &o);
    int64_t t = now_ms();
    char cp[4200], dl[4300], msg[1024] = "";
    cache_path(cp, sizeof cp, dd, rf->st.name);
    bool have_cache = access(cp, F_OK) == 0;
    struct feedset *nw = NULL;
    int rc = 0;
    rf->st.last_fetch_ms = t;
    if ((int)o.fmt < 0) {
        snprintf(msg, sizeof msg, "feed '%s': unknown format '%s'", rf->st.name, rf->st.format);
        rc = VK_EINVAL;
    } else if (is_url(rf->st.source)) {
        snprintf(dl, sizeof dl, "%s/intel/cache/%s.download", dd, rf->st.name);
        struct hdrs h;
        char e2[800];
        int hr = http_get(rf->st.source, dl, have_cache && !force ? rf->etag : NULL,
                          have_cache && !force ? rf->last_modified : NULL, &h, e2, sizeof e2);
        if (hr == 304) {
            rf->st.last_ok_ms = t;
            rf->st.error[0] = 0;
            return 0;
        }
        if (hr < 0) {
            snprintf(msg, sizeof msg, "feed '%s': %s", rf->st.name, e2);
            rc = hr;
        } else {
            /* parse under the URL's own file name (messages, manifest.json detection) */
            const char *q = strrchr(rf->st.source, '/');
            char base[256];
            snprintf(base, sizeof base, "%s", q && q[1] ? q + 1 : "download");
            char *qm = strchr(base, '?');
            if (qm) *qm = 0;
            if (o.fmt == VK_ENRICH_MISP && !strcmp(base, "manifest.json")) {
                char dir[4400], mp[4500];
                snprintf(dir, sizeof dir, "%s.d", dl);
                rm_dir(dir);
                mkdir(dir, 0755);
                snprintf(mp, sizeof mp, "%s/manifest.json", dir);
                rename(dl, mp);
                if ((rc = misp_fetch_events(rf->st.source, mp, dir, e2, sizeof e2)) != 0)
                    snprintf(msg, sizeof msg, "feed '%s': %s", rf->st.name, e2);
                else if (!(nw = feed_parse_path(mp, &o, msg, sizeof msg)))
                    rc = VK_EFORMAT;
                rm_dir(dir);
            } else {
                char *buf;
                size_t n;
                if (read_file(dl, (size_t)DOWNLOAD_MAX, &buf, &n, e2, sizeof e2)) {
                    snprintf(msg, sizeof msg, "feed '%s': %s", rf->st.name, e2);
                    rc = VK_EIO;
                } else {
                    if (!(nw = feed_parse_mem(buf, n, base, &o, msg, sizeof msg))) rc = VK_EFORMAT;
                    free(buf);
                }
            }
            unlink(dl);
            if (rc == 0) {
                snprintf(rf->etag, sizeof rf->etag, "%s", h.etag);
                snprintf(rf->last_modified, sizeof rf->last_modified, "%s", h.lm);
            }
        }
    } else {
        struct stat st;
        if (stat(rf->st.source, &st) != 0) {
            snprintf(msg, sizeof msg, "feed '%s': %s: %s", rf->st.name, rf->st.source, strerror(errno));
            rc = VK_EIO;
        } else if (!force && have_cache && !S_ISDIR(st.st_mode) && (int64_t)st.st_mtime == rf->src_mtime &&
                   (int64_t)st.st_size == rf->src_size) {
            rf->st.last_ok_ms = t;
            rf->st.error[0] = 0;
            return 0;
        } else {
            if (!(nw = feed_parse_path(rf->st.source, &o, msg, sizeof msg))) rc = VK_EFORMAT;
            rf->src_mtime = (int64_t)st.st_mtime;
            rf->src_size = S_ISDIR(st.st_mode) ? 0 : (int64_t)st.st_size;
        }
    }
    if (rc == 0 && nw) {
        struct feedset *old = NULL;
        char e2[600];
        if (have_cache) old = feed_cache_load(cp, rf->st.name, nw->benign, e2, sizeof e2);
        diff_new(dd, old, nw, fn, ud);
        bool same = old && old->n == nw->n;
        for (uint32_t i = 0; same && i < nw->n; i++)
            same = old->ind[i].type == nw->ind[i].type && !strcmp(fs_s(old, old->ind[i].val), fs_s(nw, nw->ind[i].val));
        fs_unref(old);
        if (feed_cache_save(nw, cp, e2, sizeof e2)) {
            snprintf(msg, sizeof msg, "feed '%s': %s", rf->st.name, e2);
            rc = VK_EIO;
        } else {
            rf->st.count = nw->n;
            rf->st.skipped = nw->skipped;
            rf->st.unsupported = nw->unsupported;
            snprintf(rf->st.note, sizeof rf->st.note, "%s", nw->note);
            rf->st.last_ok_ms = t;
            if (!same) rf->st.last_change_ms = t;
            rf->st.error[0] = 0;
            rc = 1;
        }
        fs_unref(nw);
    }
    if (rc < 0) {
        snprintf(rf->st.error, sizeof rf->st.error, "%s", msg);
        rf->st.error_ms = t;
        snprintf(err, errlen, "%s", msg);
    }
    return rc;
}

/* ---- the enrich object ----------------------------------------------------------------- */
struct loaded {
    char name[64];
    struct feedset *fs;
    struct stat id; /* of the cache file it came from */
};

struct snap {
    struct matcher *m;
    struct assets *a;
};

struct vk_enrich {
    char dir[4096];
    pthread_rwlock_t lock;
    struct snap *cur;
    pthread_mutex_t refresh_mu;
    struct loaded *ld;
    size_t nld;
    struct assets *assets;
    struct stat assets_id;
    bool geo;
    MMDB_s mmdb;
    struct ipidx asn4, asn6;
    uint64_t asn_ranges;
    void *asn_map; /* the mapped ASN index cache the two above point into, or NULL */
    size_t asn_map_len;
    vk_enrich_new_fn on_new;
    void *on_new_ud;
    pthread_t thr;
    bool thr_on;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    bool stop;
    unsigned period_s;
};

static void snap_free(struct snap *s)
{
    if (!s) return;
    matcher_free(s->m);
    free(s);
}

bool vk_enrich_geo_dir(char *out, size_t outlen)
{
    const char *env = getenv("VAKT_GEO_DIR");
    const char *home = getenv("HOME");
    char cand[3][4096];
    int n = 0;
    if (env && *env) snprintf(cand[n++], sizeof cand[0], "%s", env);
    if (home && *home) snprintf(cand[n++], sizeof cand[0], "%s/.cache/vakt/geo", home);
    snprintf(cand[n++], sizeof cand[0], "/var/lib/vakt/geo");
    for (int i = 0; i < n; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/node_modules/@ip-location-db", cand[i]);
        if (access(p, F_OK) == 0 || (i == 0 && env && *env)) {
            snprintf(out, outlen, "%s", cand[i]);
            return access(p, F_OK) == 0;
        }
    }
    return false;
}

/* The ASN index is built from the CSVs once and cached beside them (asn-index.bin), to be
 * mapped by later runs: parsing ~600k lines and building costs about a second of every
 * ingest, mapping costs nothing. The header names the CSVs' sizes and mtimes; a change
 * to either rebuilds it. Layout: header, then per family the 65537 /16 entries and the
 * boundaries, each part at a 64-byte offset. */
struct asn_hdr {
    char magic[8];
    uint64_t src[4]; /* size and mtime of asn-ipv4.csv, then of asn-ipv6.csv */
    uint32_t n[2];
    uint64_t ranges;
    char pad[8];
};
#define ASN_MAGIC "VKASN01\n"
#define ASN_TOP (65537 * sizeof(struct iptop))

static size_t up64(size_t n) { return (n + 63) & ~(size_t)63; }

static void asn_src(const char *geo, uint64_t src[4])
{
    static const char *const files[2] = {"asn-ipv4.csv", "asn-ipv6.csv"};
    for (int i = 0; i < 2; i++) {
        char p[4400];
        struct stat st;
        snprintf(p, sizeof p, "%s/node_modules/@ip-location-db/asn/%s", geo, files[i]);
        bool ok = stat(p, &st) == 0;
        src[2 * i] = ok ? (uint64_t)st.st_size : 0;
        src[2 * i + 1] = ok ? (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec : 0;
    }
}

static size_t asn_len(const uint32_t n[2])
{
    return up64(sizeof(struct asn_hdr)) + up64(ASN_TOP) + up64(n[0] * sizeof(struct ipb4)) + up64(ASN_TOP) +
           up64(n[1] * sizeof(struct ipb6));
}

static bool asn_cache_map(struct vk_enrich *e, const char *path, const uint64_t src[4])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    struct asn_hdr h;
    bool ok = fstat(fd, &st) == 0 && pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h &&
              !memcmp(h.magic, ASN_MAGIC, 8) && !memcmp(h.src, src, sizeof h.src) &&
              (uint64_t)st.st_size == asn_len(h.n);
    void *m = ok ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED) return false;
    uint8_t *p = (uint8_t *)m + up64(sizeof h);
    struct ipidx *x[2] = {&e->asn4, &e->asn6};
    for (int f = 0; f < 2; f++) {
        x[f]->family = f ? 6 : 4;
        x[f]->n = h.n[f];
        x[f]->top = (struct iptop *)p;
        p += up64(ASN_TOP);
        if (f) x[f]->b6 = (struct ipb6 *)p;
        else x[f]->b4 = (struct ipb4 *)p;
        p += up64(h.n[f] * (f ? sizeof(struct ipb6) : sizeof(struct ipb4)));
    }
    e->asn_map = m;
    e->asn_map_len = (size_t)st.st_size;
    e->asn_ranges = h.ranges;
    return true;
}

/* Write the built index for the next run; a directory we cannot write only costs time. */
static void asn_cache_save(const struct vk_enrich *e, const char *path, const uint64_t src[4])
{
    const struct ipidx *x[2] = {&e->asn4, &e->asn6};
    if (!x[0]->top || !x[1]->top) return;
    struct asn_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, ASN_MAGIC, 8);
    memcpy(h.src, src, sizeof h.src);
    h.n[0] = x[0]->n;
    h.n[1] = x[1]->n;
    h.ranges = e->asn_ranges;
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    static const uint8_t zero[64];
    bool ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(zero, up64(sizeof h) - sizeof h, 1, f) <= 1;
    for (int i = 0; i < 2 && ok; i++) {
        size_t bn = x[i]->n * (i ? sizeof(struct ipb6) : sizeof(struct ipb4));
        const void *b = i ? (const void *)x[i]->b6 : (const void *)x[i]->b4;
        ok = fwrite(x[i]->top, ASN_TOP, 1, f) == 1 && fwrite(zero, up64(ASN_TOP) - ASN_TOP, 1, f) <= 1 &&
             (!bn || fwrite(b, bn, 1, f) == 1) && (up64(bn) == bn || fwrite(zero, up64(bn) - bn, 1, f) == 1);
    }
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

/* ASN ranges "start,end,asn,org" (the @ip-location-db/asn CSV files). */
static int asn_load(struct vk_enrich *e, const char *geo)
{
    uint64_t src[4];
    char cache[4400];
    asn_src(geo, src);
    snprintf(cache, sizeof cache, "%s/asn-index.bin", geo);
    if (asn_cache_map(e, cache, src)) return e->asn_ranges ? 0 : VK_ENOTFOUND;
    const char *files[2] = {"asn-ipv4.csv", "asn-ipv6.csv"};
    for (int fam = 0; fam < 2; fam++) {
        char p[4400], err[256];
        snprintf(p, sizeof p, "%s/node_modules/@ip-location-db/asn/%s", geo, files[fam]);
        char *buf;
        size_t n;
        if (read_file(p, 1u << 30, &buf, &n, err, sizeof err)) continue;
        size_t cap = n / 30 + 16, k = 0;
        struct iprange *r = malloc(cap * sizeof *r);
        for (char *l = buf; r && l < buf + n;) {
            char *nl = memchr(l, '\n', (size_t)(buf + n - l));
            if (!nl) nl = buf + n;
            char *c1 = memchr(l, ',', (size_t)(nl - l));
            char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(nl - c1 - 1)) : NULL;
            struct ipnet a, b;
            if (c2 && ioc_parse_ip(l, (size_t)(c1 - l), &a) && ioc_parse_ip(c1 + 1, (size_t)(c2 - c1 - 1), &b) &&
                a.family == (fam ? 6 : 4) && b.family == a.family) {
                unsigned long asn = strtoul(c2 + 1, NULL, 10);
                if (k == cap) {
                    cap *= 2;
                    struct iprange *nr = realloc(r, cap * sizeof *r);
                    if (!nr) break;
                    r = nr;
                }
                u128 lo = fam ? ip_u128(a.a) : (u128)((uint32_t)a.a[0] << 24 | a.a[1] << 16 | a.a[2] << 8 | a.a[3]);
                u128 hi = fam ? ip_u128(b.a) : (u128)((uint32_t)b.a[0] << 24 | b.a[1] << 16 | b.a[2] << 8 | b.a[3]);
                if (hi >= lo && asn < 0x7fffffff) r[k++] = (struct iprange){lo, hi, (uint32_t)asn};
            }
            l = nl + 1;
        }
        free(buf);
        if (r && k) {
            /* ranges are disjoint in this data; make sure of it so the index stays exact */
            uint32_t *pool = NULL;
            size_t pl = 0, pc = 0;
            if (ipidx_build(fam ? &e->asn6 : &e->asn4, fam ? 6 : 4, r, k, IPIDX_TOP, &pool, &pl, &pc) == 0)
                e->asn_ranges += k;
            free(pool);
        }
        free(r);
    }
    asn_cache_save(e, cache, src);
    return e->asn_ranges ? 0 : VK_ENOTFOUND;
}

static void geo_open(struct vk_enrich *e)
{
    char geo[4096];
    if (!vk_enrich_geo_dir(geo, sizeof geo)) return;
    char p[4400];
    snprintf(p, sizeof p, "%s/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
             geo);
    if (MMDB_open(p, MMDB_MODE_MMAP, &e->mmdb) == MMDB_SUCCESS) e->geo = true;
    asn_load(e, geo);
}

static int cmp_ld(const void *a, const void *b)
{
    return strcmp(((const struct loaded *)a)->name, ((const struct loaded *)b)->name);
}

/* Make the loaded feedsets match the registry's caches; build and swap when anything
 * changed. With fetch, feeds that are due (or all with force, or just `only`) are
 * updated first. Caller holds refresh_mu. */
static int refresh_locked(struct vk_enrich *e, bool fetch, bool force, const char *only, char *err, size_t errlen)
{
    const char *dd = e->dir;
    struct registry r;
    char e2[1024];
    int lockfd = -1, nchanged = 0, nupdated = 0, failed = 0;
    size_t elen = 0;
    if (err && errlen) err[0] = 0;
    if (fetch) {
        lockfd = reg_lock(dd, err, errlen);
        if (lockfd < 0) return VK_EIO;
    }
    if (reg_load(dd, &r, e2, sizeof e2)) {
        snprintf(err, errlen, "%s", e2);
        reg_unlock(lockfd);
        return VK_EFORMAT;
    }
    bool reg_dirty = false;
    int64_t t = now_ms();
    if (fetch) {
        for (size_t i = 0; i < r.n; i++) {
            struct reg_feed *rf = &r.f[i];
            if (only && strcmp(only, rf->st.name)) continue;
            bool local = !is_url(rf->st.source);
            bool due = force || only || (rf->st.every_s && t - rf->st.last_fetch_ms >= (int64_t)rf->st.every_s * 1000);
            if (!due && local) { /* a local file: cheap to check for a change */
                struct stat st;
                due = stat(rf->st.source, &st) == 0 && !S_ISDIR(st.st_mode) &&
                      ((int64_t)st.st_mtime != rf->src_mtime || (int64_t)st.st_size != rf->src_size);
            }
            if (!due) continue;
            int rc = feed_update_one(dd, rf, force, e->on_new, e->on_new_ud, e2, sizeof e2);
            reg_dirty = true;
            if (rc > 0) nupdated++;
            if (rc < 0) {
                failed++;
                if (elen < errlen) elen += (size_t)snprintf(err + elen, errlen - elen, "%s%s", elen ? "; " : "", e2);
            }
        }
    }
    /* load what changed on disk */
    bool changed = false;
    struct loaded *nl = calloc(r.n + 1, sizeof *nl);
    size_t nn = 0;
    for (size_t i = 0; nl && i < r.n; i++) {
        struct reg_feed *rf = &r.f[i];
        char cp[4200];
        cache_path(cp, sizeof cp, dd, rf->st.name);
        struct stat st;
        if (stat(cp, &st) != 0) continue; /* never fetched successfully */
        struct loaded *old = NULL;
        for (size_t k = 0; k < e->nld; k++)
            if (!strcmp(e->ld[k].name, rf->st.name)) old = &e->ld[k];
        bool benign = rf->st.benign || !strcmp(rf->st.format, "warninglist");
        if (old && old->id.st_ino == st.st_ino && old->id.st_mtim.tv_sec == st.st_mtim.tv_sec &&
            old->id.st_mtim.tv_nsec == st.st_mtim.tv_nsec && old->id.st_size == st.st_size &&
            old->fs->benign == benign) {
            nl[nn] = *old;
            fs_ref(nl[nn].fs);
            nn++;
            continue;
        }
        struct feedset *fs = feed_cache_load(cp, rf->st.name, benign, e2, sizeof e2);
        if (!fs) {
            failed++;
            snprintf(rf->st.error, sizeof rf->st.error, "%s", e2);
            rf->st.error_ms = t;
            reg_dirty = true;
            if (elen < errlen) elen += (size_t)snprintf(err + elen, errlen - elen, "%s%s", elen ? "; " : "", e2);
            if (old) { /* keep serving the version we have */
                nl[nn] = *old;
                fs_ref(nl[nn].fs);
                nn++;
            }
            continue;
        }
        snprintf(nl[nn].name, sizeof nl[nn].name, "%s", rf->st.name);
        nl[nn].fs = fs;
        nl[nn].id = st;
        nn++;
        changed = true;
        nchanged++;
    }
    if (nn != e->nld) changed = true;
    /* assets: a new inventory goes into the new snapshot; the old one is freed after the swap */
    char ap[4200];
    path_in(ap, sizeof ap, dd, "assets/assets.json");
    struct stat ast;
    bool have_assets = stat(ap, &ast) == 0;
    struct assets *olda = NULL;
    bool assets_changed = false;
    if (have_assets != (e->assets != NULL) ||
        (have_assets && (ast.st_ino != e->assets_id.st_ino || ast.st_mtim.tv_sec != e->assets_id.st_mtim.tv_sec ||
                         ast.st_mtim.tv_nsec != e->assets_id.st_mtim.tv_nsec || ast.st_size != e->assets_id.st_size))) {
        struct assets *na = have_assets ? assets_load(dd, e2, sizeof e2) : NULL;
        if (have_assets && !na) {
            failed++;
            if (elen < errlen) elen += (size_t)snprintf(err + elen, errlen - elen, "%s%s", elen ? "; " : "", e2);
        } else {
            olda = e->assets;
            e->assets = na;
            e->assets_id = ast;
            changed = assets_changed = true;
        }
    }
    bool swapped = false;
    if (changed && nl) {
        qsort(nl, nn, sizeof *nl, cmp_ld);
        struct feedset *fsv[MATCH_MAX_FEEDS];
        unsigned nf = 0;
        for (size_t i = 0; i < nn && nf < MATCH_MAX_FEEDS; i++) fsv[nf++] = nl[i].fs;
        struct matcher *m = matcher_build(fsv, nf, e2, sizeof e2);
        struct snap *s = m ? calloc(1, sizeof *s) : NULL;
        if (!s) {
            matcher_free(m);
            failed++;
            if (elen < errlen) elen += (size_t)snprintf(err + elen, errlen - elen, "%s%s", elen ? "; " : "", e2);
        } else {
            s->m = m;
            s->a = e->assets;
            for (unsigned i = 0; i < nf; i++) {
                struct reg_feed *rf = reg_find(&r, fsv[i]->name);
                if (rf && rf->st.suppressed != m->suppressed[i]) {
                    rf->st.suppressed = m->suppressed[i];
                    reg_dirty = true;
                }
            }
            pthread_rwlock_wrlock(&e->lock);
            struct snap *old = e->cur;
            e->cur = s;
            pthread_rwlock_unlock(&e->lock);
            snap_free(old);
            for (size_t i = 0; i < e->nld; i++) fs_unref(e->ld[i].fs);
            free(e->ld);
            e->ld = nl;
            e->nld = nn;
            swapped = true;
        }
    }
    if (!swapped) {
        if (assets_changed) { /* the feeds stay, the inventory changes */
            pthread_rwlock_wrlock(&e->lock);
            if (e->cur) e->cur->a = e->assets;
            else if ((e->cur = calloc(1, sizeof *e->cur))) e->cur->a = e->assets;
            pthread_rwlock_unlock(&e->lock);
        }
        if (nl) {
            for (size_t i = 0; i < nn; i++) fs_unref(nl[i].fs);
            free(nl);
        }
    }
    assets_free(olda);
    if (reg_dirty && lockfd >= 0) {
        if (reg_save(dd, &r, e2, sizeof e2)) {
            failed++;
            if (elen < errlen) elen += (size_t)snprintf(err + elen, errlen - elen, "%s%s", elen ? "; " : "", e2);
        }
    }
    reg_free(&r);
    reg_unlock(lockfd);
    return failed ? VK_EIO : fetch ? nupdated : nchanged;
}

static struct vk_enrich *enrich_new(const char *datadir, bool geo)
{
    struct vk_enrich *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->dir, sizeof e->dir, "%s", datadir);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&e->refresh_mu, NULL);
    pthread_mutex_init(&e->stop_mu, NULL);
    pthread_cond_init(&e->stop_cv, NULL);
    if (geo) geo_open(e);
    return e;
}

struct vk_enrich *vk_enrich_open(const char *datadir, char *err, size_t errlen)
{
    struct vk_enrich *e = enrich_new(datadir, true);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_lock(&e->refresh_mu);
    int rc = refresh_locked(e, false, false, NULL, err, errlen);
    pthread_mutex_unlock(&e->refresh_mu);
    if (rc == VK_EFORMAT) { /* the registry itself is unreadable */
        vk_enrich_close(e);
        return NULL;
    }
    if (err && errlen) err[0] = 0; /* a feed that failed to load is reported in its status */
    return e;
}

int vk_enrich_refresh(struct vk_enrich *e, bool force, char *err, size_t errlen)
{
    pthread_mutex_lock(&e->refresh_mu);
    int rc = refresh_locked(e, true, force, NULL, err, errlen);
    pthread_mutex_unlock(&e->refresh_mu);
    return rc;
}

void vk_enrich_on_new(struct vk_enrich *e, vk_enrich_new_fn fn, void *ud)
{
    e->on_new = fn;
    e->on_new_ud = ud;
}

static void *refresher(void *arg)
{
    struct vk_enrich *e = arg;
    pthread_setname_np(pthread_self(), "vakt-intel"); /* top -H, perf, gdb */
    pthread_mutex_lock(&e->stop_mu);
    while (!e->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += e->period_s;
        pthread_cond_timedwait(&e->stop_cv, &e->stop_mu, &ts);
        if (e->stop) break;
        pthread_mutex_unlock(&e->stop_mu);
        char err[1024];
        vk_enrich_refresh(e, false, err, sizeof err);
        pthread_mutex_lock(&e->stop_mu);
    }
    pthread_mutex_unlock(&e->stop_mu);
    return NULL;
}

int vk_enrich_autorefresh(struct vk_enrich *e, unsigned period_s)
{
    if (e->thr_on || period_s == 0) return VK_EINVAL;
    e->period_s = period_s;
    if (pthread_create(&e->thr, NULL, refresher, e) != 0) return VK_ENOMEM;
    e->thr_on = true;
    return 0;
}

void vk_enrich_close(struct vk_enrich *e)
{
    if (!e) return;
    if (e->thr_on) {
        pthread_mutex_lock(&e->stop_mu);
        e->stop = true;
        pthread_cond_signal(&e->stop_cv);
        pthread_mutex_unlock(&e->stop_mu);
        pthread_join(e->thr, NULL);
    }
    snap_free(e->cur);
    for (size_t i = 0; i < e->nld; i++) fs_unref(e->ld[i].fs);
    free(e->ld);
    assets_free(e->assets);
    if (e->geo) MMDB_close(&e->mmdb);
    if (e->asn_map) {
        munmap(e->asn_map, e->asn_map_len);
    } else {
        ipidx_free(&e->asn4);
        ipidx_free(&e->asn6);
    }
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->refresh_mu);
    pthread_mutex_destroy(&e->stop_mu);
    pthread_cond_destroy(&e->stop_cv);
    free(e);
}

void vk_enrich_get_stats(struct vk_enrich *e, struct vk_enrich_stats *st)
{
    memset(st, 0, sizeof *st);
    pthread_rwlock_rdlock(&e->lock);
    const struct snap *s = e->cur;
    if (s && s->m) {
        st->feeds = s->m->nfs;
        for (unsigned i = 0; i < s->m->nfs; i++) {
            if (!s->m->fs[i]->benign) st->indicators += s->m->count[i];
            st->suppressed += s->m->suppressed[i];
            st->feed_bytes += s->m->fs[i]->pcap + (size_t)s->m->fs[i]->cap * sizeof(struct fs_ind) +
                              (size_t)s->m->fs[i]->metacap * sizeof(struct fs_meta);
        }
        st->matcher_bytes = matcher_bytes(s->m);
    }
    st->assets = e->assets ? assets_count(e->assets) : 0;
    st->geo = e->geo;
    st->asn = e->asn_ranges > 0;
    st->asn_ranges = e->asn_ranges;
    pthread_rwlock_unlock(&e->lock);
}

/* ---- apply -------------------------------------------------------------------------------- */
#define HITS_MAX 64
struct hit {
    uint32_t id;
    uint16_t key;
};
struct actx {
    const struct matcher *m;
    struct hit h[HITS_MAX];
    unsigned nh;
    uint64_t doms[32];
    unsigned ndoms;
};

static void add_hits(struct actx *a, const uint32_t *ids, unsigned n, enum vk_key k)
{
    for (unsigned i = 0; i < n; i++) {
        bool dup = false;
        for (unsigned j = 0; j < a->nh && !dup; j++) dup = a->h[j].id == ids[i];
        if (!dup && a->nh < HITS_MAX) a->h[a->nh++] = (struct hit){ids[i], (uint16_t)k};
    }
}

static void look_ip(struct actx *a, const char *s, size_t n, enum vk_key k, int *fam, uint8_t addr[16])
{
    uint32_t ids[HITS_MAX], v4;
    unsigned got = 0;
    *fam = 0;
    if (ioc_ip4(s, n, &v4)) {
        *fam = 4;
        addr[0] = (uint8_t)(v4 >> 24), addr[1] = (uint8_t)(v4 >> 16), addr[2] = (uint8_t)(v4 >> 8), addr[3] = (uint8_t)v4;
        if (a->m) got = match_ip4(a->m, v4, ids, HITS_MAX);
    } else if (memchr(s, ':', n) && n < 64) {
        const char *z = memchr(s, 0, n); /* the text up to a NUL, as inet_pton saw it */
        if (ioc_ip6(s, z ? (size_t)(z - s) : n, addr)) {
            *fam = 6;
            if (a->m) got = match_ip6(a->m, addr, ids, HITS_MAX);
        }
    }
    add_hits(a, ids, got, k);
}

/* Can regex x match d? False when d holds none of the literals every match contains. */
static bool rx_maybe(const struct mregex *x, const char *d, size_t dl)
{
    if (!x->must[0]) return true;
    for (const char *p = x->must; *p; p += strlen(p) + 1)
        if (memmem(d, dl, p, strlen(p))) return true;
    return false;
}

/* A host name, every parent, the tor2web / lookup-site forms and regex trails. */
static void look_domain(struct actx *a, const char *s, size_t n, enum vk_key k)
{
    char d[1100];
    size_t dl = ioc_norm_domain(s, n, d, sizeof d);
    if (!dl || !a->m) return;
    uint64_t h = XXH3_64bits(d, dl);
    for (unsigned i = 0; i < a->ndoms; i++)
        if (a->doms[i] == h) return;
    if (a->ndoms < 32) a->doms[a->ndoms++] = h;
    uint32_t ids[HITS_MAX];
    add_hits(a, ids, match_domain(a->m, d, dl, ids, HITS_MAX), k);
    /* "x.onion.to" (tor2web gateways) names x.onion; "x.ip-adress.com" looks x up */
    const char *on = strstr(d, ".onion.");
    if (on) add_hits(a, ids, match_domain(a->m, d, (size_t)(on - d) + 6, ids, HITS_MAX), k);
    const char *sfx = ".ip-adress.com";
    size_t sl = strlen(sfx);
    if (dl > sl && !strcmp(d + dl - sl, sfx)) add_hits(a, ids, match_domain(a->m, d, dl - sl, ids, HITS_MAX), k);
    if (!a->m->nrx) return;
    bool gram = false; /* does d hold the first 4 bytes of some regex literal? */
    for (size_t i = 0; i + 4 <= dl && !gram; i++) {
        unsigned bit = rxgram_bit(d + i);
        gram = (a->m->rxgram[bit >> 6] >> (bit & 63)) & 1;
    }
    for (unsigned i = 0; i < a->m->nrx; i++) {
        const struct mregex *x = &a->m->rx[i];
        if ((x->gram4 && !gram) || !rx_maybe(x, d, dl)) continue;
        if (regexec(&x->re, d, 0, NULL, 0) == 0) add_hits(a, &x->id, 1, k);
    }
}

static void look_str(struct actx *a, enum ioc_type t, const char *s, size_t n, enum vk_key k)
{
    if (!a->m || !(a->m->types & (1u << t))) return;
    char v[IOC_MAX + 64];
    size_t vl = 0, po;
    uint32_t ids[HITS_MAX];
    switch (t) {
    case IOC_URL:
        vl = ioc_norm_url(s, n, v, sizeof v, &po);
        if (!vl) return;
        add_hits(a, ids, match_str(a->m, IOC_URL, v, vl, ids, HITS_MAX), k);
        const char *q = memchr(v, '?', vl);
        if (q) add_hits(a, ids, match_str(a->m, IOC_URL, v, (size_t)(q - v), ids, HITS_MAX), k);
        return;
    case IOC_PATH:
        vl = ioc_norm_path(s, n, v, sizeof v);
        break;
    case IOC_UA:
        if (n >= sizeof v) return;
        memcpy(v, s, n);
        vl = n;
        break;
    default: /* hashes, JA3, HASSH, e-mail: lower-case */
        if (n >= sizeof v) return;
        for (size_t i = 0; i < n; i++) v[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        vl = n;
    }
    if (vl) add_hits(a, ids, match_str(a->m, t, v, vl, ids, HITS_MAX), k);
}

static bool private_ip(int fam, const uint8_t *a)
{
    if (fam == 4) {
        return a[0] == 10 || a[0] == 127 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
               a[0] >= 224;
    }
    static const uint8_t lo[16] = {[15] = 1}, any[16] = {0};
    if (!memcmp(a, lo, 16) || !memcmp(a, any, 16)) return true;
    if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff) return true;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(a, mapped, 12)) return private_ip(4, a + 12);
    return false;
}

/* One mmdb walk (~20-30 node reads in a mapped file); no allocation. */
static bool country(struct vk_enrich *e, int fam, const uint8_t *a, char cc[4])
{
    if (!e->geo || private_ip(fam, a)) return false;
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    const struct sockaddr *sa;
    if (fam == 4) {
        memcpy(&s4.sin_addr, a, 4);
        sa = (const struct sockaddr *)&s4;
    } else {
        memcpy(&s6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&s6;
    }
    int merr;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&e->mmdb, sa, &merr);
    if (merr != MMDB_SUCCESS || !r.found_entry) return false;
    MMDB_entry_data_s d;
    if (MMDB_get_value(&r.entry, &d, "country_code", NULL) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0 || d.data_size > 3)
        return false;
    memcpy(cc, d.utf8_string, d.data_size);
    cc[d.data_size] = 0;
    return true;
}

static uint32_t asn_of(struct vk_enrich *e, int fam, const uint8_t *a)
{
    if (private_ip(fam, a)) return 0;
    uint32_t v = fam == 4 ? ipidx_get4(&e->asn4, (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3])
                          : ipidx_get6(&e->asn6, ip_u128(a));
    return v ? v - 1 : 0;
}

static void emit_hits(const struct actx *a, struct vk_meta *rec, int64_t rec_ms)
{
    const struct matcher *m = a->m;
    for (unsigned i = 0; i < a->nh; i++) {
        uint32_t id = a->h[i].id;
        const struct feedset *f = m->fs[ID_FEED(id)];
        const struct fs_ind *ind = &f->ind[ID_IND(id)];
        const struct fs_meta *mt = &f->meta[ind->meta];
        if (mt->expires_ms && rec_ms > mt->expires_ms) continue; /* STIX valid_until passed */
        const char *val = fs_s(f, ind->val), *cat = fs_s(f, mt->cat), *desc = fs_s(f, mt->desc);
        if (*cat) vk_meta_add_cstr(rec, VK_K_THREAT_CATEGORY, cat);
        vk_meta_add_cstr(rec, VK_K_THREAT_SOURCE, f->name);
        if (*desc) vk_meta_add_cstr(rec, VK_K_THREAT_DESC, desc);
        vk_meta_add_uint(rec, VK_K_THREAT_CONFIDENCE, mt->conf);
        vk_meta_add_cstr(rec, VK_K_THREAT_INDICATOR, val);
        vk_meta_printf(rec, VK_K_THREAT_MATCH, "%s|%s|%s|%s", f->name, ioc_type_name((enum ioc_type)ind->type), val,
                       vk_key_info((enum vk_key)a->h[i].key)->name);
        /* extra keys of a CSV feed: "key\x1fvalue\x1e..." */
        for (const char *x = fs_s(f, mt->extra); *x;) {
            const char *us = strchr(x, '\x1f'), *rs = us ? strchr(us, '\x1e') : NULL;
            if (!rs) break;
            char kn[64];
            snprintf(kn, sizeof kn, "%.*s", (int)(us - x), x);
            int k = vk_key_lookup(kn);
            if (k >= 0 && vk_key_info((enum vk_key)k)->type == VK_T_UINT)
                vk_meta_add_uint(rec, (enum vk_key)k, strtoull(us + 1, NULL, 10));
            else if (k >= 0)
                vk_meta_add_str(rec, (enum vk_key)k, us + 1, (size_t)(rs - us - 1));
            x = rs + 1;
        }
    }
}

void vk_enrich_apply(struct vk_enrich *e, struct vk_meta *rec)
{
    if (!e || !rec) return;
    pthread_rwlock_rdlock(&e->lock);
    const struct snap *s = e->cur;
    struct actx a;
    a.m = s ? s->m : NULL;
    a.nh = 0;
    a.ndoms = 0;
    const struct assets *as = s ? s->a : NULL;
    int64_t rec_ms = 0;
    int fam_src = 0, fam_dst = 0, fam;
    uint8_t src[16], dst[16], tmp[16];
    long asrc = -1, adst = -1;
    char ipsrc[64] = "", ipdst[64] = "";
    uint64_t psrc = 0, pdst = 0;
    bool have_psrc = false, have_pdst = false;
    uint32_t n0 = rec->n;
    for (uint32_t i = 0; i < n0; i++) {
        const struct vk_meta_item *it = &rec->items[i];
        const char *v = vk_meta_str(rec, it);
        size_t n = it->len;
        switch (it->key) {
        case VK_K_TIME:
            if (!rec_ms) rec_ms = (int64_t)it->u;
            break;
        case VK_K_PORT_SRC:
            psrc = it->u, have_psrc = true;
            break;
        case VK_K_PORT_DST:
            pdst = it->u, have_pdst = true;
            break;
        case VK_K_IP_SRC:
            look_ip(&a, v, n, it->key, &fam, tmp);
            if (fam && !fam_src) {
                fam_src = fam;
                memcpy(src, tmp, 16);
                snprintf(ipsrc, sizeof ipsrc, "%.*s", (int)n, v);
            }
            break;
        case VK_K_IP_DST:
            look_ip(&a, v, n, it->key, &fam, tmp);
            if (fam && !fam_dst) {
                fam_dst = fam;
                memcpy(dst, tmp, 16);
                snprintf(ipdst, sizeof ipdst, "%.*s", (int)n, v);
            }
            break;
        case VK_K_DNS_ANSWER:
            look_ip(&a, v, n, it->key, &fam, tmp);
            break;
        case VK_K_HOST_SRC:
        case VK_K_DHCP_HOST:
            look_domain(&a, v, n, it->key);
            if (as && asrc < 0) asrc = assets_find_host(as, v, n);
            break;
        case VK_K_HOST_DST:
        case VK_K_HTTP_HOST:
        case VK_K_TLS_SNI:
            look_domain(&a, v, n, it->key);
            if (as && adst < 0) adst = assets_find_host(as, v, n);
            break;
        case VK_K_ALIAS_HOST:
        case VK_K_DNS_QUERY:
        case VK_K_DNS_ANSWER_NAME:
        case VK_K_QUIC_SNI:
            look_domain(&a, v, n, it->key);
            break;
        case VK_K_HTTP_URI:
            look_str(&a, IOC_URL, v, n, it->key);
            break;
        case VK_K_HTTP_PATH:
            look_str(&a, IOC_PATH, v, n, it->key);
            break;
        case VK_K_FILE_MD5:
            look_str(&a, IOC_MD5, v, n, it->key);
            break;
        case VK_K_FILE_SHA256:
            look_str(&a, IOC_SHA256, v, n, it->key);
            break;
        case VK_K_TLS_JA3:
            look_str(&a, IOC_JA3, v, n, it->key);
            break;
        case VK_K_SSH_HASSH:
        case VK_K_SSH_HASSH_SERVER:
            look_str(&a, IOC_HASSH, v, n, it->key);
            break;
        case VK_K_HTTP_USER_AGENT:
            look_str(&a, IOC_UA, v, n, it->key);
            break;
        case VK_K_EMAIL_SRC:
        case VK_K_EMAIL_DST:
            look_str(&a, IOC_EMAIL, v, n, it->key);
            break;
        default:
            break;
        }
    }
    if (a.m && (a.m->types & (1u << IOC_IPPORT))) {
        char b[96];
        int k;
        if (fam_dst && have_pdst) {
            k = snprintf(b, sizeof b, fam_dst == 6 ? "[%s]:%llu" : "%s:%llu", ipdst, (unsigned long long)pdst);
            look_str(&a, IOC_IPPORT, b, (size_t)k, VK_K_IP_DST);
        }
        if (fam_src && have_psrc) {
            k = snprintf(b, sizeof b, fam_src == 6 ? "[%s]:%llu" : "%s:%llu", ipsrc, (unsigned long long)psrc);
            look_str(&a, IOC_IPPORT, b, (size_t)k, VK_K_IP_SRC);
        }
    }
    if (!rec_ms) rec_ms = now_ms();
    if (a.nh) emit_hits(&a, rec, rec_ms);
    char cc[4];
    if (fam_src && country(e, fam_src, src, cc)) vk_meta_add_cstr(rec, VK_K_COUNTRY_SRC, cc);
    if (fam_dst && country(e, fam_dst, dst, cc)) vk_meta_add_cstr(rec, VK_K_COUNTRY_DST, cc);
    uint32_t asn;
    if (fam_src && (asn = asn_of(e, fam_src, src))) vk_meta_add_uint(rec, VK_K_ASN_SRC, asn);
    if (fam_dst && (asn = asn_of(e, fam_dst, dst))) vk_meta_add_uint(rec, VK_K_ASN_DST, asn);
    if (as) {
        if (fam_src) {
            long x = assets_find_ip(as, fam_src, src);
            if (x >= 0) asrc = x;
        }
        if (fam_dst) {
            long x = assets_find_ip(as, fam_dst, dst);
            if (x >= 0) adst = x;
        }
        if (asrc >= 0 || adst >= 0) assets_meta(as, asrc, adst, rec);
    }
    pthread_rwlock_unlock(&e->lock);
}

/* ---- registry commands ---------------------------------------------------------------------- */
static bool name_ok(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l > 63 || n[0] == '.' || n[0] == '-') return false;
    return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == l;
}

int vk_enrich_feed_add(const char *datadir, const struct vk_enrich_feed_def *d, struct vk_enrich_feed_status *st,
                       char *err, size_t errlen)
{
    if (!name_ok(d->name)) {
        snprintf(err, errlen, "feed name '%s': use 1-63 letters, digits, '_', '.', '-'", d->name);
        return VK_EINVAL;
    }
    if (d->fmt < VK_ENRICH_CSV || d->fmt > VK_ENRICH_WARNINGLIST) {
        snprintf(err, errlen, "feed '%s': unknown format", d->name);
        return VK_EINVAL;
    }
    if (d->confidence > 100) {
        snprintf(err, errlen, "feed '%s': confidence %d is over 100", d->name, d->confidence);
        return VK_EINVAL;
    }
    char src[1024];
    if (is_url(d->source)) {
        snprintf(src, sizeof src, "%s", d->source);
    } else {
        char *rp = realpath(d->source, NULL);
        if (!rp) {
            snprintf(err, errlen, "feed '%s': %s: %s", d->name, d->source, strerror(errno));
            return VK_EIO;
        }
        snprintf(src, sizeof src, "%s", rp);
        free(rp);
    }
    struct vk_enrich *e = enrich_new(datadir, false);
    if (!e) return VK_ENOMEM;
    pthread_mutex_lock(&e->refresh_mu);
    int lockfd = reg_lock(datadir, err, errlen), rc = 0;
    struct registry r = {0};
    if (lockfd < 0) {
        rc = VK_EIO;
        goto out;
    }
    if ((rc = reg_load(datadir, &r, err, errlen)) != 0) goto out;
    struct reg_feed nf = {0};
    snprintf(nf.st.name, sizeof nf.st.name, "%s", d->name);
    snprintf(nf.st.format, sizeof nf.st.format, "%s", vk_enrich_fmt_name(d->fmt));
    snprintf(nf.st.source, sizeof nf.st.source, "%s", src);
    snprintf(nf.st.columns, sizeof nf.st.columns, "%s", d->columns ? d->columns : "");
    snprintf(nf.st.category, sizeof nf.st.category, "%s", d->category ? d->category : "");
    nf.st.every_s = d->every_s;
    nf.st.confidence = d->confidence;
    nf.st.benign = d->benign;
    nf.st.added_ms = now_ms();
    struct reg_feed *old = reg_find(&r, d->name);
    if (old) nf.st.added_ms = old->st.added_ms;
    rc = feed_update_one(datadir, &nf, true, NULL, NULL, err, errlen);
    if (rc < 0) goto out;
    if (old) {
        *old = nf;
    } else {
        struct reg_feed *nr = realloc(r.f, (r.n + 1) * sizeof *nr);
        if (!nr) {
            rc = VK_ENOMEM;
            goto out;
        }
        r.f = nr;
        r.f[r.n++] = nf;
    }
    if ((rc = reg_save(datadir, &r, err, errlen)) != 0) goto out;
    reg_unlock(lockfd);
    lockfd = -1;
    /* build everything once: checks that the feeds work together and counts what the
     * warninglists suppress */
    char e2[1024];
    refresh_locked(e, true, false, "\x01", e2, sizeof e2);
    rc = 0;
    if (st) {
        struct registry r2;
        if (reg_load(datadir, &r2, e2, sizeof e2) == 0) {
            struct reg_feed *f = reg_find(&r2, d->name);
            if (f) *st = f->st;
            reg_free(&r2);
        }
    }
out:
    reg_free(&r);
    reg_unlock(lockfd);
    pthread_mutex_unlock(&e->refresh_mu);
    vk_enrich_close(e);
    return rc < 0 ? rc : 0;
}

int vk_enrich_feed_remove(const char *datadir, const char *name, char *err, size_t errlen)
{
    int lockfd = reg_lock(datadir, err, errlen);
    if (lockfd < 0) return VK_EIO;
    struct registry r;
    int rc = reg_load(datadir, &r, err, errlen);
    if (rc == 0) {
        struct reg_feed *f = reg_find(&r, name);
        if (!f) {
            snprintf(err, errlen, "no feed named '%s'", name);
            rc = VK_ENOTFOUND;
        } else {
            size_t i = (size_t)(f - r.f);
            memmove(r.f + i, r.f + i + 1, (r.n - i - 1) * sizeof *r.f);
            r.n--;
            rc = reg_save(datadir, &r, err, errlen);
            char cp[4200];
            cache_path(cp, sizeof cp, datadir, name);
            if (rc == 0) unlink(cp);
        }
        reg_free(&r);
    }
    reg_unlock(lockfd);
    return rc;
}

int vk_enrich_update(const char *datadir, const char *name, bool force, vk_enrich_new_fn fn, void *ud, char *err,
                     size_t errlen)
{
    if (name) {
        struct registry r;
        if (reg_load(datadir, &r, err, errlen)) return VK_EFORMAT;
        bool found = reg_find(&r, name) != NULL;
        reg_free(&r);
        if (!found) {
            snprintf(err, errlen, "no feed named '%s'", name);
            return VK_ENOTFOUND;
        }
    }
    struct vk_enrich *e = enrich_new(datadir, false);
    if (!e) return VK_ENOMEM;
    vk_enrich_on_new(e, fn, ud);
    pthread_mutex_lock(&e->refresh_mu);
    int rc = refresh_locked(e, true, force, name, err, errlen);
    pthread_mutex_unlock(&e->refresh_mu);
    vk_enrich_close(e);
    return rc;
}

int vk_enrich_status(const char *datadir, struct vk_enrich_feed_status **out, size_t *n, char *err, size_t errlen)
{
    struct registry r;
    *out = NULL;
    *n = 0;
    if (reg_load(datadir, &r, err, errlen)) return VK_EFORMAT;
    struct vk_enrich_feed_status *s = calloc(r.n + 1, sizeof *s);
    if (!s) {
        reg_free(&r);
        return VK_ENOMEM;
    }
    for (size_t i = 0; i < r.n; i++) s[i] = r.f[i].st;
    *out = s;
    *n = r.n;
    reg_free(&r);
    return 0;
}

int vk_enrich_hit_append(const char *datadir, const struct vk_enrich_hit *h, char *err, size_t errlen)
{
    if (mkdirs(datadir, err, errlen)) return VK_EIO;
    struct vk_json j;
    vk_json_init(&j);
    vk_json_obj_begin(&j);
    vk_json_key(&j, "time");
    vk_json_val_uint(&j, (uint64_t)(h->time_ms ? h->time_ms : now_ms()));
    if (h->session_ms) {
        vk_json_key(&j, "session_time");
        vk_json_val_uint(&j, (uint64_t)h->session_ms);
    }
    const char *ks[] = {"feed", "type", "indicator", "key", "session", "category"};
    const char *vs[] = {h->feed, h->type, h->indicator, h->key, h->session, h->category};
    for (int i = 0; i < 6; i++) {
        if (!vs[i]) continue;
        vk_json_key(&j, ks[i]);
        vk_json_val_str(&j, vs[i], strlen(vs[i]));
    }
    vk_json_key(&j, "retro");
    vk_json_raw(&j, h->retro ? "true" : "false", h->retro ? 4 : 5);
    vk_json_obj_end(&j);
    vk_json_raw(&j, "\n", 1);
    char p[4200];
    path_in(p, sizeof p, datadir, "intel/hits.jsonl");
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 || write(fd, j.p, j.len) != (ssize_t)j.len) {
        snprintf(err, errlen, "%s: %s", p, strerror(errno));
        rc = VK_EIO;
    }
    if (fd >= 0) close(fd);
    vk_json_free(&j);
    return rc;
}
