/* options: loadgen's command line, checked whole before anything runs: the options and the
 * book's positional form, their values and how they go together, and the server's address
 * resolved. Nothing here runs the load. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "loadgen.h"
#include "outfile.h"

/* ---- the table of options: names, values, what each sets, help ---- */

/* What an option's value sets: a flag (true, or false for K_OFF), a whole number within
 * [lo, hi] (a uint64_t field, or a long for K_LONG), a duration in microseconds, a text, or
 * what its own function does. */
enum kind { K_ON, K_OFF, K_COUNT, K_LONG, K_DUR, K_TEXT, K_FN };

struct given; /* what the command line said, for the checks across options */

struct opt {
    const char *name;  /* the long name, or NULL */
    char letter;       /* the short name, or 0 */
    const char *value; /* its value in the help ("N", "DUR", "FILE"), NULL: takes none */
    enum kind kind;
    size_t field; /* offsetof(struct lg_opts, ...) */
    uint64_t lo, hi;
    int (*fn)(struct lg_opts *o, struct given *g, const char *v); /* K_FN: 0, or -1 */
    const char *help; /* lines of help, "\n" between them */
};

struct given {
    bool n, d, threads, host, seed, wb, v4, v6;
};

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "loadgen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return -1;
}

static int num(const char *arg, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
    if (cli_u64(arg, min, max, out) < 0) {
        fprintf(stderr, "loadgen: %s: '%s' is not a whole number from %llu to %llu\n", name, arg,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    return 0;
}

static int dur(const char *arg, const char *name, uint64_t *out)
{
    if (cli_duration_us(arg, out) < 0)
        return bad_usage("%s: not a duration like 10s, 500ms or 2m", name);
    return 0;
}

static int parse_mix(const char *arg, struct lg_opts *o);

static int set_host(struct lg_opts *o, struct given *g, const char *v)
{
    o->host = v;
    g->host = true;
    return 0;
}

static int set_port(struct lg_opts *o, struct given *g, const char *v)
{
    uint64_t p;
    if (num(v, "-p", 1, 65535, &p))
        return -1;
    o->port = v;
    g->host = true;
    return 0;
}

static int set_v4(struct lg_opts *o, struct given *g, const char *v)
{
    (void)v;
    o->family = AF_INET;
    g->v4 = true;
    return 0;
}

static int set_v6(struct lg_opts *o, struct given *g, const char *v)
{
    (void)v;
    o->family = AF_INET6;
    g->v6 = true;
    return 0;
}

static int set_duration(struct lg_opts *o, struct given *g, const char *v)
{
    if (dur(v, "-d", &o->duration_us))
        return -1;
    if (o->duration_us == 0)
        return bad_usage("-d %s: the duration must be above zero", v);
    g->d = true;
    return 0;
}

static int set_rate(struct lg_opts *o, struct given *g, const char *v)
{
    (void)g;
    char *end;
    errno = 0;
    o->rate = strtod(v, &end);
    if (errno || *end || !(o->rate > 0) || !isfinite(o->rate))
        return bad_usage("-R %s: the rate must be a number of requests per second above 0", v);
    return 0;
}

static int set_timeout(struct lg_opts *o, struct given *g, const char *v)
{
    (void)g;
    if (dur(v, "--timeout", &o->timeout_us))
        return -1;
    if (o->timeout_us == 0)
        return bad_usage("--timeout %s: must be above zero", v);
    return 0;
}

static int set_mix(struct lg_opts *o, struct given *g, const char *v)
{
    (void)g;
    return parse_mix(v, o);
}

static int set_start_at(struct lg_opts *o, struct given *g, const char *v)
{
    (void)g;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t wall = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, hour = 3600000000000;
    uint64_t at;
    if (cli_u64(v, 1, UINT64_C(9223372036854775807), &at) < 0 || (int64_t)at < wall - hour ||
        (int64_t)at > wall + hour)
        return bad_usage("--start-at %s: a wall-clock time in nanoseconds since the epoch "
                         "(date +%%s%%N) within an hour of now",
                         v);
    o->start_at_ns = (int64_t)at;
    return 0;
}

static int set_close(struct lg_opts *o, struct given *g, const char *v)
{
    (void)g;
    if (strcmp(v, "fin") && strcmp(v, "rst"))
        return bad_usage("--close %s: rst or fin", v);
    o->close_rst = !strcmp(v, "rst");
    return 0;
}

#define F(field) offsetof(struct lg_opts, field)
#define ALL      UINT64_C(9223372036854775807)
static const struct opt opts[] = {
    {"host", 'H', "HOST", K_FN, 0, 0, 0, set_host, "server address (default 127.0.0.1)"},
    {"port", 'p', "PORT", K_FN, 0, 0, 0, set_port, "server port (default 12345)"},
    {"unix", 'U', "PATH", K_TEXT, F(unix_path), 0, 0, NULL,
     "connect to a Unix stream socket instead"},
    {NULL, '4', NULL, K_FN, 0, 0, 0, set_v4, "use IPv4 only"},
    {NULL, '6', NULL, K_FN, 0, 0, 0, set_v6, "use IPv6 only"},
    {"connections", 'c', "N", K_LONG, F(conns), 1, 1000000, NULL,
     "concurrent connections (default 1)"},
    {"threads", 't', "N", K_LONG, F(threads), 1, 1024, NULL,
     "client threads, each with its own epoll loop (default: the number of CPUs, at most -c)"},
    {"requests", 'n', "N", K_COUNT, F(requests), 1, UINT64_C(1) << 40, NULL,
     "measured requests in all (default 1000 without -d)"},
    {"duration", 'd', "DUR", K_FN, 0, 0, 0, set_duration,
     "measure for DUR (e.g. 10s, 500ms, 2m) instead of -n"},
    {"warmup", 0, "DUR", K_DUR, F(warmup_us), 0, 0, NULL,
     "run first for DUR without measuring (default 0)"},
    {"work", 'w', "N", K_COUNT, F(work), 0, ALL, NULL, "WORK: sieve up to N (default 250000)"},
    {"bytes", 'b', "N", K_COUNT, F(bytes), 0, ALL, NULL, "BYTES: payload size (default 500000)"},
    {"per-conn", 'k', "N", K_COUNT, F(per_conn), 0, UINT64_C(1) << 40, NULL,
     "requests per connection: 1 (default) opens a new connection per request, 0 keeps one for "
     "the whole run"},
    {"rate", 'R', "RPS", K_FN, 0, 0, 0, set_rate,
     "open loop: RPS requests per second in all, each timed from when it was due (default: "
     "closed loop)"},
    {"mix", 0, "W:B:N[,...]", K_FN, 0, 0, 0, set_mix,
     "request classes instead of -w and -b: each request draws WORK W and BYTES B with weight N "
     "(up to 16 classes); results per class beside the totals"},
    {"seed", 0, "N", K_COUNT, F(seed), 0, UINT64_MAX, NULL,
     "the class draws' seed (default: from the clock; recorded)"},
    {"idle", 0, "N", K_COUNT, F(idle), 0, 1000000, NULL,
     "N more connections, opened and greeted before the run, then held silent and never "
     "measured; one the server closes is reopened (idle_reopened) (default 0)"},
    {"think", 0, "DUR", K_DUR, F(think_us), 0, 0, NULL,
     "a slow client: wait DUR after the greeting, and between requests on a kept connection, "
     "before sending (not counted in any latency phase) (default 0)"},
    {"read-rate", 0, "N", K_COUNT, F(read_rate), 1, UINT64_C(1) << 40, NULL,
     "a slow reader: read each reply at most N bytes a second, through a small receive buffer "
     "(default: at once)"},
    {"timeout", 0, "DUR", K_FN, 0, 0, 0, set_timeout,
     "fail a request not done within DUR (default 30s)"},
    {"verify", 0, NULL, K_ON, F(verify), 0, 0, NULL,
     "check every payload byte against the formula"},
    {"close", 0, "rst|fin", K_FN, 0, 0, 0, set_close,
     "how the client ends a connection it is done with: rst (default; abortive, every byte asked "
     "for read: no FIN exchange and no TIME_WAIT left on the client) or fin (a normal close; in "
     "this protocol the client closes first, so each connection leaves a TIME_WAIT on the "
     "client)"},
    {"json", 0, "FILE", K_TEXT, F(json_path), 0, 0, NULL,
     "write the full result as JSON to FILE (- for stdout; the summary then goes to stderr)"},
    {"hdr-log", 0, "FILE", K_TEXT, F(hdr_log_path), 0, 0, NULL,
     "the total latency of every second as an HdrHistogram interval log (V2 compressed, 2 "
     "significant digits)"},
    {"hgrm", 0, "FILE", K_TEXT, F(hgrm_path), 0, 0, NULL,
     "the percentile distribution of the total latency in wrk2's --latency format "
     "(HdrHistogram's .hgrm)"},
    {"start-at", 0, "NS", K_FN, 0, 0, 0, set_start_at,
     "start at this wall-clock time, in nanoseconds since the epoch (date +%s%N), after "
     "connecting any --idle clients: loadgens on several hosts start together"},
    {"label", 0, "TEXT", K_TEXT, F(label), 0, 0, NULL, "a label stored in the JSON result"},
    {"progress", 0, NULL, K_ON, F(progress), 0, 0, NULL,
     "a status line per second on stderr (default when stderr is a terminal)"},
    {"no-progress", 0, NULL, K_OFF, F(progress), 0, 0, NULL, "no status line"},
    {"fail-on-errors", 0, NULL, K_ON, F(fail_on_errors), 0, 0, NULL,
     "exit with status 3 when any request failed"},
    {"help", 'h', NULL, K_FN, 0, 0, 0, NULL, "this text"},
    {"version", 'V', NULL, K_FN, 0, 0, 0, NULL, "print the version"},
};
#undef F
#undef ALL
#define NOPTS (sizeof opts / sizeof *opts)

void lg_usage(FILE *f)
{
    fprintf(f, "usage: loadgen [options]\n"
               "       loadgen HOST THREADS REQS WORK BYTES    (the book's client)\n"
               "       loadgen merge RESULT.json RESULT.json ... [--json FILE|-]\n\n");
    for (size_t i = 0; i < NOPTS; i++)
        cli_help_line(f, opts[i].letter, opts[i].name, opts[i].value, opts[i].help);
    fprintf(f, "\nmerge adds the histograms of loadgen results from one test (several client\n"
               "hosts): counts, errors and every percentile from the summed histograms,\n"
               "timelines aligned by wall clock. A first SIGINT or SIGTERM stops the run:\n"
               "requests in flight get 1 s to finish, then the summary and the JSON\n"
               "(\"interrupted\": true) are written; a second one exits at once. Exit status:\n"
               "0 done, 1 could not run or save, 2 bad usage, 3 errors with --fail-on-errors,\n"
               "128+N stopped by signal N.\n");
}

/* --mix WORK:BYTES:WEIGHT[,...]: up to LG_MAX_CLASSES classes, each weight 1 or more. */
static int parse_mix(const char *arg, struct lg_opts *o)
{
    char buf[1024];
    if (strlen(arg) >= sizeof buf)
        return bad_usage("--mix: '%.40s...' is too long", arg);
    char which[32];
    snprintf(buf, sizeof buf, "%s", arg);
    o->nclasses = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (o->nclasses == LG_MAX_CLASSES)
            return bad_usage("--mix: at most 16 classes%s", "");
        char *f[3], *s2 = NULL;
        int n = 0;
        for (char *t = strtok_r(item, ":", &s2); t && n < 4; t = strtok_r(NULL, ":", &s2))
            f[n < 3 ? n : 2] = t, n++;
        struct lg_class *c = &o->classes[o->nclasses];
        if (n != 3 || cli_u64(f[0], 0, UINT64_C(9223372036854775807), &c->work) < 0 ||
            cli_u64(f[1], 0, UINT64_C(9223372036854775807), &c->bytes) < 0 ||
            cli_u64(f[2], 1, 1000000, &c->weight) < 0) {
            snprintf(which, sizeof which, "%zu", o->nclasses + 1);
            return bad_usage("--mix: class %s is not WORK:BYTES:WEIGHT (whole numbers, a weight "
                             "from 1 to 1000000), as in 1000:10:9,30000000:10:1",
                             which);
        }
        o->nclasses++;
    }
    if (o->nclasses == 0)
        return bad_usage("%s", "--mix: no class given");
    o->mix = true;
    return 0;
}

/* Sets what option d says, its value v (NULL for one that takes none). 0, 1 when --help or
 * --version was printed, -1 on bad usage (message printed). */
static int apply(const struct opt *d, const char *v, struct lg_opts *o, struct given *g)
{
    char *at = (char *)o + d->field;
    char what[40]; /* as messages name it: -c, --warmup */
    if (d->letter)
        snprintf(what, sizeof what, "-%c", d->letter);
    else
        snprintf(what, sizeof what, "--%s", d->name);
    uint64_t u;
    switch (d->kind) {
    case K_ON:
    case K_OFF:
        *(bool *)(void *)at = d->kind == K_ON;
        return 0;
    case K_COUNT:
        if (num(v, what, d->lo, d->hi, &u))
            return -1;
        memcpy(at, &u, sizeof u);
        break;
    case K_LONG: {
        if (num(v, what, d->lo, d->hi, &u))
            return -1;
        long l = (long)u;
        memcpy(at, &l, sizeof l);
        break;
    }
    case K_DUR:
        if (dur(v, what, &u))
            return -1;
        memcpy(at, &u, sizeof u);
        break;
    case K_TEXT:
        memcpy(at, &v, sizeof v);
        break;
    case K_FN:
        if (d->fn)
            return d->fn(o, g, v);
        if (d->letter == 'h') {
            lg_usage(stdout);
            return 1;
        }
        printf("loadgen %s (%s; %s; %s)\n", PROJECT_VERSION, GIT_COMMIT, BUILD_CC, BUILD_CFLAGS);
        return 1;
    }
    /* the counts the checks across options ask about */
    g->n |= d->letter == 'n';
    g->threads |= d->letter == 't';
    g->wb |= d->letter == 'w' || d->letter == 'b';
    g->seed |= d->name && !strcmp(d->name, "seed");
    return 0;
}

/* Returns 0 to run, 1 when --help/--version was printed, -1 on bad usage (message printed). */
int lg_parse_args(int argc, char **argv, struct lg_opts *o)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (struct lg_opts){.argc = argc,
                          .argv = argv,
                          .host = "127.0.0.1",
                          .port = "12345",
                          .family = AF_UNSPEC,
                          .conns = 1,
                          .work = 250000,
                          .bytes = 500000,
                          .per_conn = 1,
                          .timeout_us = 30000000,
                          .close_rst = true,
                          .progress = isatty(STDERR_FILENO)};
    /* getopt's tables, from the one table: a short option is its letter, a long one its row
     * past 256 */
    struct option lopts[NOPTS + 1];
    char shorts[3 * NOPTS + 2] = ":";
    size_t nl = 0, ns = 1;
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].name)
            lopts[nl++] =
                (struct option){opts[i].name, opts[i].value ? required_argument : no_argument, NULL,
                                opts[i].letter ? opts[i].letter : 256 + (int)i};
        if (opts[i].letter) {
            shorts[ns++] = opts[i].letter;
            if (opts[i].value)
                shorts[ns++] = ':';
        }
    }
    lopts[nl] = (struct option){NULL, 0, NULL, 0};
    shorts[ns] = '\0';
    struct given g = {0};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        if (c == ':')
            return bad_usage("option %s needs a value", argv[optind - 1]);
        const struct opt *d = NULL;
        for (size_t i = 0; i < NOPTS && !d; i++)
            if (c >= 256 ? (size_t)(c - 256) == i : opts[i].letter == c)
                d = &opts[i];
        if (!d)
            return bad_usage("unknown option %s", argv[optind - 1]);
        int rc = apply(d, d->value ? optarg : NULL, o, &g);
        if (rc != 0)
            return rc;
    }
    bool threads_given = g.threads, n_given = g.n, d_given = g.d, host_given = g.host;
    bool seed_given = g.seed, wb_given = g.wb, v4 = g.v4, v6 = g.v6;

    int rest = argc - optind;
    if (rest == 5) {
        /* The book's form: HOST THREADS REQS WORK BYTES. */
        uint64_t th, reqs;
        o->book = true;
        o->host = argv[optind];
        if (num(argv[optind + 1], "THREADS", 1, 100000, &th) ||
            num(argv[optind + 2], "REQS", 1, 1000000, &reqs) ||
            num(argv[optind + 3], "WORK", 0, UINT64_C(9223372036854775807), &o->work) ||
            num(argv[optind + 4], "BYTES", 0, UINT64_C(9223372036854775807), &o->bytes))
            return -1;
        o->conns = (long)th;
        o->requests = th * reqs;
        n_given = true;
    } else if (rest > 5) {
        return bad_usage("unexpected argument '%s'", argv[optind + 5]);
    } else if (rest > 0) {
        static const char *const names[] = {"HOST", "THREADS", "REQS", "WORK", "BYTES"};
        char missing[64] = "";
        for (int i = rest; i < 5; i++) {
            strcat(missing, " ");
            strcat(missing, names[i]);
        }
        fprintf(stderr,
                "loadgen: the book's form takes five arguments, HOST THREADS REQS WORK BYTES; "
                "%d given, missing:%s (or use options: try --help)\n",
                rest, missing);
        return -1;
    }

    if (n_given && d_given)
        return bad_usage("%s", "-n and -d are alternatives: give one");
    if (v4 && v6)
        return bad_usage("%s", "-4 and -6 are alternatives: give one (neither: either family)");
    if (!n_given && !d_given)
        o->requests = 1000;
    if (o->unix_path && (host_given || o->family != AF_UNSPEC))
        return bad_usage("%s",
                         "-U connects to a Unix socket; it cannot be combined with -H, -p, -4 "
                         "or -6");
    if (o->mix && (wb_given || o->book))
        return bad_usage("%s", "--mix gives every request's WORK and BYTES: it replaces -w and -b");
    if (!o->mix) {
        o->classes[0] = (struct lg_class){o->work, o->bytes, 1};
        o->nclasses = 1;
    }
    if (!seed_given)
        o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (size_t k = 0; k < o->nclasses; k++)
        if (o->classes[k].bytes == 0 && o->per_conn != 1)
            return bad_usage("%s", "BYTES=0 with -k other than 1: the server sends no reply, so a "
                                   "request on a kept connection has no end to time");
    if (!threads_given)
        o->threads = ncpu > 0 ? ncpu : 1;
    if (o->threads > o->conns) {
        if (threads_given)
            fprintf(stderr, "loadgen: %ld threads for %ld connections; using %ld\n", o->threads,
                    o->conns, o->conns);
        o->threads = o->conns;
    }
    const char *outs[][2] = {
        {"--json", o->json_path}, {"--hdr-log", o->hdr_log_path}, {"--hgrm", o->hgrm_path}};
    for (size_t i = 0; i < 3; i++) {
        char e[512];
        if (outs[i][1] && outfile_check(outs[i][1], e, sizeof e) < 0) {
            fprintf(stderr, "loadgen: %s %s\n", outs[i][0], e);
            return -1;
        }
    }
    if (o->requests && o->requests < (uint64_t)o->conns && !o->book)
        fprintf(stderr, "loadgen: note: %llu requests on %ld connections leaves some idle\n",
                (unsigned long long)o->requests, o->conns);
    return 0;
}

int lg_resolve(struct lg_opts *o)
{
    if (o->unix_path) {
        struct sockaddr_un *sa = (struct sockaddr_un *)&o->addr;
        if (strlen(o->unix_path) >= sizeof sa->sun_path) {
            fprintf(stderr, "loadgen: %s: path too long\n", o->unix_path);
            return -1;
        }
        sa->sun_family = AF_UNIX;
        strcpy(sa->sun_path, o->unix_path);
        o->addrlen = sizeof *sa;
        snprintf(o->addr_str, sizeof o->addr_str, "unix:%s", o->unix_path);
        return 0;
    }
    struct addrinfo hints = {
        .ai_family = o->family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "loadgen: %s port %s: %s\n", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addrlen = res->ai_addrlen;
    char h[NI_MAXHOST];
    getnameinfo(res->ai_addr, res->ai_addrlen, h, sizeof h, NULL, 0, NI_NUMERICHOST);
    snprintf(o->addr_str, sizeof o->addr_str, res->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h,
             o->port);
    freeaddrinfo(res);
    return 0;
}
