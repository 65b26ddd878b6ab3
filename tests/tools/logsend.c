/* logsend.c — syslog load generator for vakt's receiver tests and soak runs.
 *
 *   cc -O2 -o /tmp/logsend tests/tools/logsend.c -lpthread
 *   /tmp/logsend tcp://127.0.0.1:5514 --rate 100000 --seconds 60 --conns 4
 *
 * Sends RFC 5424 messages "<134>1 ... c=<conn> n=<number> xxxx" over TCP (octet counting
 * or LF framing) or UDP, paced per connection in 1 ms ticks, one thread per connection. A
 * receiver can check every connection's numbers for gaps and duplicates. Prints one line:
 * "logsend: sent=N seconds=S rate=R errors=E". Only loopback or the project's own test
 * hosts are meant as targets; every run is bounded by --seconds or --count.
 *
 * Built into the load test with LOGSEND_NO_MAIN (tests/unit/test_loginput_load.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct logsend_opts {
    char proto[4];    /* "tcp" or "udp" */
    char host[256], port[16];
    double rate;      /* messages per second, all connections together; 0: as fast as possible */
    double seconds;   /* stop after this long (0: no limit, then count must be set) */
    uint64_t count;   /* stop after this many messages (0: no limit) */
    unsigned conns;
    unsigned size;    /* message bytes, at least the header (~90) */
    int octet;        /* TCP: octet counting (1) or LF framing (0) */
};

struct logsend_result {
    uint64_t sent, errors;
    double seconds;
};

static double ls_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "tcp://host:port" -> opts. 0 or -1. */
static int logsend_url(struct logsend_opts *o, const char *url)
{
    if (strncmp(url, "tcp://", 6) && strncmp(url, "udp://", 6)) return -1;
    memcpy(o->proto, url, 3);
    o->proto[3] = 0;
    const char *hp = url + 6, *c;
    if (*hp == '[') {
        const char *rb = strchr(hp, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - hp - 1) >= sizeof o->host) return -1;
        memcpy(o->host, hp + 1, (size_t)(rb - hp - 1));
        o->host[rb - hp - 1] = 0;
        c = rb + 1;
    } else {
        c = strrchr(hp, ':');
        if (!c || (size_t)(c - hp) >= sizeof o->host) return -1;
        memcpy(o->host, hp, (size_t)(c - hp));
        o->host[c - hp] = 0;
    }
    snprintf(o->port, sizeof o->port, "%s", c + 1);
    return 0;
}

struct ls_worker {
    const struct logsend_opts *o;
    unsigned id;
    uint64_t quota; /* 0: unlimited */
    double rate;
    double t0;
    uint64_t sent, errors;
    pthread_t th;
};

static size_t ls_msg(char *out, const struct logsend_opts *o, unsigned conn, uint64_t n)
{
    char body[65536];
    int h = snprintf(body, sizeof body,
                     "<134>1 2024-05-01T12:00:00.000Z loadhost logsend %u - - c=%u n=%010llu ",
                     conn, conn, (unsigned long long)n);
    size_t len = (size_t)h;
    size_t want = o->size < sizeof body ? o->size : sizeof body - 1;
    while (len < want) body[len++] = 'x';
    if (!strcmp(o->proto, "udp")) {
        memcpy(out, body, len);
        return len;
    }
    if (o->octet) {
        int k = sprintf(out, "%zu ", len);
        memcpy(out + k, body, len);
        return (size_t)k + len;
    }
    memcpy(out, body, len);
    out[len] = '\n';
    return len + 1;
}

static int ls_connect(const struct logsend_opts *o, struct sockaddr_storage *sa, socklen_t *sl)
{
    struct addrinfo hints = {.ai_socktype = strcmp(o->proto, "udp") ? SOCK_STREAM : SOCK_DGRAM};
    struct addrinfo *ai;
    if (getaddrinfo(o->host, o->port, &hints, &ai)) return -1;
    int fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd >= 0 && hints.ai_socktype == SOCK_STREAM && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0 && sa) {
        memcpy(sa, ai->ai_addr, ai->ai_addrlen);
        *sl = ai->ai_addrlen;
    }
    freeaddrinfo(ai);
    return fd;
}

static void *ls_run_worker(void *arg)
{
    struct ls_worker *w = arg;
    const struct logsend_opts *o = w->o;
    struct sockaddr_storage sa;
    socklen_t sl = 0;
    int fd = ls_connect(o, &sa, &sl);
    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    bool udp = !strcmp(o->proto, "udp");
    size_t cap = 256 * 1024 + 70000;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return NULL;
    }
    for (;;) {
        double t = ls_now() - w->t0;
        if (o->seconds > 0 && t >= o->seconds) break;
        if (w->quota && w->sent >= w->quota) break;
        uint64_t due = w->rate > 0 ? (uint64_t)(w->rate * t) + 1 : w->sent + 512;
        if (w->quota && due > w->quota) due = w->quota;
        if (due <= w->sent) {
            struct timespec ts = {0, 200000}; /* 0.2 ms */
            nanosleep(&ts, NULL);
            continue;
        }
        if (udp) {
            for (; w->sent < due; w->sent++) {
                size_t n = ls_msg(buf, o, w->id, w->sent);
                if (sendto(fd, buf, n, 0, (struct sockaddr *)&sa, sl) != (ssize_t)n) w->errors++;
            }
            continue;
        }
        size_t len = 0;
        uint64_t k = w->sent;
        while (k < due && len + 70000 < cap) len += ls_msg(buf + len, o, w->id, k++);
        size_t off = 0;
        while (off < len) {
            ssize_t r = write(fd, buf + off, len - off);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                w->errors++;
                goto out;
            }
            off += (size_t)r;
        }
        w->sent = k;
    }
out:
    free(buf);
    close(fd);
    return NULL;
}

static int logsend_run(const struct logsend_opts *o, struct logsend_result *res)
{
    unsigned n = o->conns ? o->conns : 1;
    struct ls_worker *w = calloc(n, sizeof *w);
    if (!w) return -1;
    double t0 = ls_now();
    for (unsigned i = 0; i < n; i++) {
        w[i].o = o;
        w[i].id = i;
        w[i].rate = o->rate / n;
        w[i].t0 = t0;
        w[i].quota = o->count ? o->count / n + (i < o->count % n) : 0;
        pthread_create(&w[i].th, NULL, ls_run_worker, &w[i]);
    }
    memset(res, 0, sizeof *res);
    for (unsigned i = 0; i < n; i++) {
        pthread_join(w[i].th, NULL);
        res->sent += w[i].sent;
        res->errors += w[i].errors;
    }
    res->seconds = ls_now() - t0;
    free(w);
    return 0;
}

/* Parse argv (after the URL) into o. 0 or -1. */
static int logsend_args(struct logsend_opts *o, int argc, char **argv)
{
    *o = (struct logsend_opts){.rate = 10000, .seconds = 3, .conns = 1, .size = 200, .octet = 1};
    if (argc < 1 || logsend_url(o, argv[0])) return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--lf")) o->octet = 0;
        else if (!v) return -1;
        else if (!strcmp(a, "--rate")) o->rate = atof(v), i++;
        else if (!strcmp(a, "--seconds")) o->seconds = atof(v), i++;
        else if (!strcmp(a, "--count")) o->count = strtoull(v, NULL, 10), o->seconds = 0, i++;
        else if (!strcmp(a, "--conns")) o->conns = (unsigned)atoi(v), i++;
        else if (!strcmp(a, "--size")) o->size = (unsigned)atoi(v), i++;
        else return -1;
    }
    if (o->seconds <= 0 && !o->count) return -1;
    if (o->seconds > 3600) o->seconds = 3600;
    return 0;
}

static void logsend_print(FILE *f, const struct logsend_result *r)
{
    fprintf(f, "logsend: sent=%llu seconds=%.3f rate=%.0f errors=%llu\n", (unsigned long long)r->sent,
            r->seconds, r->seconds > 0 ? r->sent / r->seconds : 0.0, (unsigned long long)r->errors);
    fflush(f);
}

#ifndef LOGSEND_NO_MAIN
int main(int argc, char **argv)
{
    struct logsend_opts o;
    if (argc < 2 || !strcmp(argv[1], "--help") || logsend_args(&o, argc - 1, argv + 1)) {
        fprintf(stderr,
                "usage: logsend tcp://HOST:PORT|udp://HOST:PORT [--rate MSG/S] [--seconds S | --count N]\n"
                "               [--conns N] [--size BYTES] [--lf]\n");
        return 2;
    }
    struct logsend_result r;
    logsend_run(&o, &r);
    logsend_print(stdout, &r);
    return r.errors ? 1 : 0;
}
#endif
