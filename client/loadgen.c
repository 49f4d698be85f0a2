/* loadgen: the load generator. Threads start together (a barrier, as the book's client
 * threads do), each drives its share of the connections from its own epoll loop (engine.c),
 * and their histograms and counters are merged after join. Prints a short summary like wrk's
 * and, with --json, the full result (written whole or not at all; its path is checked before
 * the run starts).
 *
 * The main thread only waits: for the workers, for SIGINT/SIGTERM (taken through a signalfd;
 * no handler) and for the next progress line. A first signal stops the run and still reports
 * it, marked interrupted; a second one exits at once.
 *
 * Exit status: 0; 1 when the run could not be made (cannot resolve, no descriptors, cannot
 * write the result); 2 for bad usage; 3 with --fail-on-errors when any request failed;
 * 128 + the signal's number when a signal stopped the run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "hdrlog.h"
#include "io.h"
#include "json.h"
#include "loadgen.h"
#include "outfile.h"

#define EXIT_USAGE  2
#define EXIT_ERRORS 3

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: loadgen [-H HOST] [-p PORT] [-c CONNS] [-t THREADS] [-n REQUESTS | -d DURATION]\n"
        "               [--warmup DUR] [-w WORK] [-b BYTES] [-k REQS_PER_CONN] [-R RATE]\n"
        "               [--mix W:B:N,...] [--seed N] [--idle N] [--think DUR]\n"
        "               [--read-rate BYTES/s] [--timeout DUR] [--verify]\n"
        "               [--close fin|rst] [--json FILE|-] [--hdr-log FILE] [--hgrm FILE]\n"
        "               [--start-at EPOCH_NS] [--label TEXT] [--progress]\n"
        "               [--fail-on-errors] [-4 | -6 | -U PATH]\n"
        "       loadgen HOST THREADS REQS WORK BYTES    (the book's client)\n"
        "       loadgen merge RESULT.json RESULT.json ... [--json FILE|-]\n\n"
        "  -H, --host HOST        server address (default 127.0.0.1)\n"
        "  -p, --port PORT        server port (default 12345)\n"
        "  -U, --unix PATH        connect to a Unix stream socket instead\n"
        "  -4, -6                 use IPv4 or IPv6 only\n"
        "  -c, --connections N    concurrent connections (default 1)\n"
        "  -t, --threads N        client threads, each with its own epoll loop\n"
        "                         (default: the number of CPUs, at most -c)\n"
        "  -n, --requests N       measured requests in all (default 1000 without -d)\n"
        "  -d, --duration DUR     measure for DUR (e.g. 10s, 500ms, 2m) instead of -n\n"
        "      --warmup DUR       run first for DUR without measuring (default 0)\n"
        "  -w, --work N           WORK: sieve up to N (default 250000)\n"
        "  -b, --bytes N          BYTES: payload size (default 500000)\n"
        "  -k, --per-conn N       requests per connection: 1 (default) opens a new\n"
        "                         connection per request, 0 keeps one for the whole run\n"
        "  -R, --rate RPS         open loop: RPS requests per second in all, each timed\n"
        "                         from when it was due (default: closed loop)\n"
        "      --mix W:B:N[,...]  request classes instead of -w and -b: each request draws\n"
        "                         WORK W and BYTES B with weight N (up to 16 classes);\n"
        "                         results per class beside the totals\n"
        "      --seed N           the class draws' seed (default: from the clock; recorded)\n"
        "      --idle N           N more connections, opened and greeted before the run,\n"
        "                         then held silent and never measured; one the server\n"
        "                         closes is reopened (idle_reopened) (default 0)\n"
        "      --think DUR        a slow client: wait DUR after the greeting, and between\n"
        "                         requests on a kept connection, before sending (not\n"
        "                         counted in any latency phase) (default 0)\n"
        "      --read-rate N      a slow reader: read each reply at most N bytes a second,\n"
        "                         through a small receive buffer (default: at once)\n"
        "      --timeout DUR      fail a request not done within DUR (default 30s)\n"
        "      --verify           check every payload byte against the formula\n"
        "      --close fin|rst    how a finished connection ends: fin (default, a normal\n"
        "                         close) or rst (abortive: no FIN exchange, no TIME_WAIT)\n"
        "      --json FILE        write the full result as JSON to FILE (- for stdout; the\n"
        "                         summary then goes to stderr)\n"
        "      --hdr-log FILE     the total latency of every second as an HdrHistogram\n"
        "                         interval log (V2 compressed, 2 significant digits)\n"
        "      --hgrm FILE        the percentile distribution of the total latency in\n"
        "                         wrk2's --latency format (HdrHistogram's .hgrm)\n"
        "      --start-at NS      start at this wall-clock time, in nanoseconds since the\n"
        "                         epoch (date +%%s%%N), after connecting any --idle clients:\n"
        "                         loadgens on several hosts start together\n"
        "      --label TEXT       a label stored in the JSON result\n"
        "      --progress         a status line per second on stderr (default when stderr\n"
        "                         is a terminal); --no-progress turns it off\n"
        "      --fail-on-errors   exit with status 3 when any request failed\n"
        "  -h, --help             this text\n"
        "  -V, --version          print the version\n\n"
        "merge adds the histograms of loadgen results from one test (several client hosts):\n"
        "counts, errors and every percentile from the summed histograms, timelines aligned\n"
        "by wall clock. A first SIGINT or SIGTERM stops the run: requests in flight get 1 s to "
        "finish, then\n"
        "the summary and the JSON (\"interrupted\": true) are written; a second one exits at\n"
        "once. Exit status: 0 done, 1 could not run or save, 2 bad usage, 3 errors with\n"
        "--fail-on-errors, 128+N stopped by signal N.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "loadgen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return -1;
}

enum {
    O_WARMUP = 256,
    O_TIMEOUT,
    O_VERIFY,
    O_JSON,
    O_LABEL,
    O_PROGRESS,
    O_NO_PROGRESS,
    O_CLOSE,
    O_FAIL_ON_ERRORS,
    O_IDLE,
    O_MIX,
    O_SEED,
    O_THINK,
    O_READ_RATE,
    O_HDR_LOG,
    O_HGRM,
    O_START_AT
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"unix", required_argument, NULL, 'U'},
    {"connections", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"requests", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, 'd'},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"work", required_argument, NULL, 'w'},
    {"bytes", required_argument, NULL, 'b'},
    {"per-conn", required_argument, NULL, 'k'},
    {"rate", required_argument, NULL, 'R'},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"verify", no_argument, NULL, O_VERIFY},
    {"json", required_argument, NULL, O_JSON},
    {"label", required_argument, NULL, O_LABEL},
    {"progress", no_argument, NULL, O_PROGRESS},
    {"no-progress", no_argument, NULL, O_NO_PROGRESS},
    {"close", required_argument, NULL, O_CLOSE},
    {"fail-on-errors", no_argument, NULL, O_FAIL_ON_ERRORS},
    {"idle", required_argument, NULL, O_IDLE},
    {"mix", required_argument, NULL, O_MIX},
    {"seed", required_argument, NULL, O_SEED},
    {"think", required_argument, NULL, O_THINK},
    {"read-rate", required_argument, NULL, O_READ_RATE},
    {"hdr-log", required_argument, NULL, O_HDR_LOG},
    {"hgrm", required_argument, NULL, O_HGRM},
    {"start-at", required_argument, NULL, O_START_AT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

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

/* Returns 0 to run, 1 when --help/--version was printed, -1 on bad usage (message printed). */
static int parse(int argc, char **argv, struct lg_opts *o)
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
                          .progress = isatty(STDERR_FILENO)};
    bool threads_given = false, n_given = false, d_given = false, host_given = false;
    bool seed_given = false, wb_given = false;
    bool v4 = false, v6 = false;
    uint64_t v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":H:p:U:46c:t:n:d:w:b:k:R:hV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->host = optarg;
            host_given = true;
            break;
        case 'p':
            if (num(optarg, "-p", 1, 65535, &v))
                return -1;
            o->port = optarg;
            host_given = true;
            break;
        case 'U':
            o->unix_path = optarg;
            break;
        case '4':
            o->family = AF_INET;
            v4 = true;
            break;
        case '6':
            o->family = AF_INET6;
            v6 = true;
            break;
        case 'c':
            if (num(optarg, "-c", 1, 1000000, &v))
                return -1;
            o->conns = (long)v;
            break;
        case 't':
            if (num(optarg, "-t", 1, 1024, &v))
                return -1;
            o->threads = (long)v;
            threads_given = true;
            break;
        case 'n':
            if (num(optarg, "-n", 1, UINT64_C(1) << 40, &o->requests))
                return -1;
            n_given = true;
            break;
        case 'd':
            if (dur(optarg, "-d", &o->duration_us))
                return -1;
            if (o->duration_us == 0)
                return bad_usage("-d %s: the duration must be above zero", optarg);
            d_given = true;
            break;
        case O_WARMUP:
            if (dur(optarg, "--warmup", &o->warmup_us))
                return -1;
            break;
        case 'w':
            if (num(optarg, "-w", 0, UINT64_C(9223372036854775807), &o->work))
                return -1;
            wb_given = true;
            break;
        case 'b':
            if (num(optarg, "-b", 0, UINT64_C(9223372036854775807), &o->bytes))
                return -1;
            wb_given = true;
            break;
        case 'k':
            if (num(optarg, "-k", 0, UINT64_C(1) << 40, &o->per_conn))
                return -1;
            break;
        case 'R': {
            char *end;
            errno = 0;
            o->rate = strtod(optarg, &end);
            if (errno || *end || !(o->rate > 0) || !isfinite(o->rate))
                return bad_usage("-R %s: the rate must be a number of requests per second above 0",
                                 optarg);
            break;
        }
        case O_TIMEOUT:
            if (dur(optarg, "--timeout", &o->timeout_us))
                return -1;
            if (o->timeout_us == 0)
                return bad_usage("--timeout %s: must be above zero", optarg);
            break;
        case O_VERIFY:
            o->verify = true;
            break;
        case O_JSON:
            o->json_path = optarg;
            break;
        case O_LABEL:
            o->label = optarg;
            break;
        case O_PROGRESS:
            o->progress = true;
            break;
        case O_NO_PROGRESS:
            o->progress = false;
            break;
        case O_FAIL_ON_ERRORS:
            o->fail_on_errors = true;
            break;
        case O_MIX:
            if (parse_mix(optarg, o) < 0)
                return -1;
            break;
        case O_SEED:
            if (num(optarg, "--seed", 0, UINT64_MAX, &o->seed))
                return -1;
            seed_given = true;
            break;
        case O_IDLE:
            if (num(optarg, "--idle", 0, 1000000, &o->idle))
                return -1;
            break;
        case O_THINK:
            if (dur(optarg, "--think", &o->think_us))
                return -1;
            break;
        case O_READ_RATE:
            if (num(optarg, "--read-rate", 1, UINT64_C(1) << 40, &o->read_rate))
                return -1;
            break;
        case O_HDR_LOG:
            o->hdr_log_path = optarg;
            break;
        case O_HGRM:
            o->hgrm_path = optarg;
            break;
        case O_START_AT: {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            int64_t wall = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, hour = 3600000000000;
            uint64_t at;
            if (cli_u64(optarg, 1, UINT64_C(9223372036854775807), &at) < 0 ||
                (int64_t)at < wall - hour || (int64_t)at > wall + hour)
                return bad_usage("--start-at %s: a wall-clock time in nanoseconds since the epoch "
                                 "(date +%%s%%N) within an hour of now",
                                 optarg);
            o->start_at_ns = (int64_t)at;
            break;
        }
        case O_CLOSE:
            if (!strcmp(optarg, "fin"))
                o->close_rst = false;
            else if (!strcmp(optarg, "rst"))
                o->close_rst = true;
            else
                return bad_usage("--close %s: fin or rst", optarg);
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("loadgen %s (%s; %s; %s)\n", PROJECT_VERSION, GIT_COMMIT, BUILD_CC,
                   BUILD_CFLAGS);
            return 1;
        case ':':
            return bad_usage("option %s needs a value", argv[optind - 1]);
        default:
            return bad_usage("unknown option %s", argv[optind - 1]);
        }
    }

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

static int resolve(struct lg_opts *o)
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

/* Each connection takes one descriptor; raise the soft limit (and the hard one if allowed). */
static int raise_nofile(long conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    rlim_t need = (rlim_t)conns + 64;
    if (rl.rlim_cur >= need)
        return 0;
    struct rlimit want = {need, rl.rlim_max > need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    want.rlim_max = rl.rlim_max;
    want.rlim_cur = rl.rlim_max;
    if (rl.rlim_max >= need && setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    fprintf(stderr,
            "loadgen: %ld connections need %llu descriptors, but the limit is %llu (hard %llu); "
            "raise it with ulimit -n or use fewer connections\n",
            conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
            (unsigned long long)rl.rlim_max);
    return -1;
}

struct worker {
    pthread_t tid;
    int index;
    struct lg_shared *sh;
    int done_fd; /* an eventfd main waits on: each worker adds 1 when it ends */
    struct lg_result res;
    int rc;
    char err[256];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = lg_engine_run(w->sh, w->index, &w->res, w->err, sizeof w->err);
    uint64_t one = 1;
    if (write(w->done_fd, &one, sizeof one) < 0) {
        /* An eventfd write only fails on overflow, which a count of threads cannot reach;
         * main would then still find the thread ended at its next tick. */
    }
    return NULL;
}

static void iso_time(char *buf, size_t n, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void fmt_us(char *buf, size_t n, double us)
{
    if (us < 1000)
        snprintf(buf, n, "%.0fus", us);
    else if (us < 1e6)
        snprintf(buf, n, "%.2fms", us / 1e3);
    else
        snprintf(buf, n, "%.2fs", us / 1e6);
}

static void fmt_bytes(char *buf, size_t n, double b)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) {
        b /= 1000;
        i++;
    }
    snprintf(buf, n, "%.2f%s", b, u[i]);
}

struct run_info {
    double elapsed_s, utime_s, stime_s;  /* the measured interval, and the client's CPU in it */
    int64_t t0_wall_ns, measure_wall_ns; /* the start and the measured start, by wall clock */
    double ramp_s; /* opening the kept and idle connections, before the start */
    time_t started, completed;
    int signal; /* the signal that stopped the run, 0 if none */
    FILE *out;  /* where the summary goes: stdout, or stderr when the JSON goes to stdout */
};

static uint64_t error_total(const struct lg_result *r)
{
    uint64_t n = 0;
    for (int i = 0; i < E_COUNT; i++)
        n += r->errors[i];
    return n;
}

/* Requests actually sent per second (ended, failed or still in flight): the achieved rate
 * of an open loop, against its target. */
static double sent_rate(const struct lg_result *r, double elapsed_s)
{
    if (elapsed_s <= 0)
        return 0;
    return (double)(r->requests_ok + error_total(r) + r->in_flight_at_end) / elapsed_s;
}

static void print_summary(const struct lg_opts *o, const struct lg_result *r,
                          const struct run_info *ri)
{
    FILE *out = ri->out;
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    static const double ps[] = {50, 90, 99, 99.9};
    fprintf(out, "  %ld threads and %ld connections, WORK %llu BYTES %llu, %s, %s\n", o->threads,
            o->conns, (unsigned long long)o->work, (unsigned long long)o->bytes,
            o->per_conn == 1   ? "a new connection per request"
            : o->per_conn == 0 ? "connections kept for the whole run"
                               : "connections reused",
            o->rate > 0 ? "open loop" : "closed loop");
    if (r->lat[PH_TOTAL].total == 0)
        fprintf(out, "  no request completed\n");
    else
        fprintf(out, "  %-10s %9s %9s %9s %9s %9s %9s %9s\n", "Latency", "p50", "p90", "p99",
                "p99.9", "max", "mean", "stdev");
    for (int p = 0; p < PH_COUNT; p++) {
        const struct hist *h = &r->lat[p];
        if (h->total == 0)
            continue;
        fmt_us(a, sizeof a, (double)hist_percentile(h, ps[0]));
        fmt_us(b, sizeof b, (double)hist_percentile(h, ps[1]));
        fmt_us(c, sizeof c, (double)hist_percentile(h, ps[2]));
        fmt_us(d, sizeof d, (double)hist_percentile(h, ps[3]));
        fmt_us(e, sizeof e, (double)h->max);
        fmt_us(f, sizeof f, hist_mean(h));
        fmt_us(g, sizeof g, hist_stddev(h));
        fprintf(out, "  %-10s %9s %9s %9s %9s %9s %9s %9s\n", lg_phase_names[p], a, b, c, d, e, f,
                g);
    }
    if (o->rate > 0)
        fprintf(out,
                "  (open loop: total is timed from each request's due time%s; the other "
                "phases are not)\n",
                r->due_not_sent ? " and holds the requests due but not sent" : "");
    for (size_t k = 0; k < r->ncls; k++) {
        const struct lg_class *cl = &o->classes[k];
        const struct hist *h = &r->cls[k].total;
        fmt_us(a, sizeof a, (double)hist_percentile(h, 50));
        fmt_us(b, sizeof b, (double)hist_percentile(h, 99));
        fmt_us(d, sizeof d, (double)hist_percentile(h, 99.9));
        fprintf(out,
                "  class WORK %llu BYTES %llu (weight %llu): %llu ok, %llu errors, total p50 "
                "%s p99 %s p99.9 %s\n",
                (unsigned long long)cl->work, (unsigned long long)cl->bytes,
                (unsigned long long)cl->weight, (unsigned long long)r->cls[k].ok,
                (unsigned long long)r->cls[k].errors, h->total ? a : "-", h->total ? b : "-",
                h->total ? d : "-");
    }
    fmt_bytes(a, sizeof a, (double)r->bytes);
    fprintf(out, "  %llu requests in %.2fs, %s read, %llu connections\n",
            (unsigned long long)r->requests_ok, ri->elapsed_s, a,
            (unsigned long long)r->connections_opened);
    if (o->requests == 0 && r->clients_served < (uint64_t)o->conns && !ri->signal)
        fprintf(out, "  %llu of %ld clients served at least once: the others never were\n",
                (unsigned long long)r->clients_served, o->conns);
    if (o->per_conn != 1 && o->conns > 0)
        fprintf(out,
                "  %llu of %ld kept connections opened and greeted before the start, in "
                "%.2fs\n",
                (unsigned long long)r->kept_greeted, o->conns, ri->ramp_s);
    if (o->idle)
        fprintf(out,
                "  %llu idle connections held (%llu greeted before the start), %llu reopened\n",
                (unsigned long long)o->idle, (unsigned long long)r->idle_greeted,
                (unsigned long long)r->idle_reopened);
    if (error_total(r)) {
        fprintf(out, "  Errors:");
        for (int i = 0; i < E_COUNT; i++)
            if (r->errors[i])
                fprintf(out, " %s %llu", lg_err_names[i], (unsigned long long)r->errors[i]);
        fprintf(out, "\n  First error: %s\n", r->first_error);
    }
    if (r->in_flight_at_end)
        fprintf(out, "  In flight at the end: %llu\n", (unsigned long long)r->in_flight_at_end);
    double el = ri->elapsed_s;
    if (el > 0) {
        fmt_bytes(b, sizeof b, (double)r->bytes / el);
        fprintf(out, "Requests/sec: %10.2f\n", (double)r->requests_ok / el);
        fprintf(out, "Bytes/sec:    %10s\n", b);
    } else {
        fprintf(out, "Requests/sec: n/a (nothing measured)\n");
    }
    if (o->rate > 0) {
        fprintf(out, "Target rate:  %10.2f/s, achieved %.2f/s\n", o->rate, sent_rate(r, el));
        if (r->due_not_sent)
            fprintf(out,
                    "  %llu requests were due but never sent: the server could not keep up "
                    "with -R %.0f (they count in the total's tail from their due time)\n",
                    (unsigned long long)r->due_not_sent, o->rate);
    }
    if (el > 0) {
        double cpu = (ri->utime_s + ri->stime_s) / el * 100;
        fprintf(out, "Client CPU:   %9.1f%% (user %.2fs, sys %.2fs)\n", cpu, ri->utime_s,
                ri->stime_s);
        if (el >= 1.0 && cpu > 90.0 * (double)o->threads)
            fprintf(stderr,
                    "loadgen: warning: the client used %.0f%% CPU over %ld thread(s): it may be "
                    "the bottleneck, not the server\n",
                    cpu, o->threads);
    }
    if (ri->signal)
        fprintf(out, "Interrupted by SIG%s: these figures cover the run until then.\n",
                sigabbrev_np(ri->signal));
    if (r->requests_ok == 0 && r->warmup_requests == 0 && !ri->signal) {
        if (r->errors[E_CONNECT_REFUSED] && r->errors[E_CONNECT_REFUSED] == error_total(r))
            fprintf(stderr,
                    "loadgen: nothing answered: every connection to %s was refused (is a "
                    "server listening there?)\n",
                    o->addr_str);
        else
            fprintf(stderr, "loadgen: nothing answered: no request to %s completed%s%s\n",
                    o->addr_str, error_total(r) ? "; first error: " : "", r->first_error);
    }
}

static void print_book(const struct lg_opts *o, const struct lg_result *r, FILE *out)
{
    /* As the book's client: each request's wait for the greeting, per client. */
    fprintf(out, "client request   greeting_ms   total_ms\n");
    for (long cl = 0; cl < o->conns; cl++)
        for (size_t i = 0; i < r->nreqs; i++) {
            const struct lg_request *q = &r->reqs[i];
            if ((long)q->conn != cl)
                continue;
            if (q->error >= 0)
                fprintf(out, "%6ld %7u   %s\n", cl + 1, q->seq + 1, lg_err_names[q->error]);
            else
                fprintf(out, "%6ld %7u %13.3f %10.3f\n", cl + 1, q->seq + 1,
                        (double)q->phase_us[PH_GREETING] / 1e3,
                        (double)q->phase_us[PH_TOTAL] / 1e3);
        }
}

/* ---- JSON ---- */

void lg_json_hist(FILE *f, const struct hist *h)
{
    static const double ps[] = {50, 75, 90, 99, 99.9, 99.99};
    static const char *const names[] = {"p50", "p75", "p90", "p99", "p999", "p9999"};
    fprintf(f, "{\"count\":%llu,\"min\":%llu,\"mean\":%.3f,\"stddev\":%.3f",
            (unsigned long long)h->total, (unsigned long long)(h->total ? h->min : 0), hist_mean(h),
            hist_stddev(h));
    for (int i = 0; i < 6; i++)
        fprintf(f, ",\"%s\":%llu", names[i], (unsigned long long)hist_percentile(h, ps[i]));
    fprintf(f, ",\"max\":%llu,\"spectrum\":[", (unsigned long long)h->max);
    double pct[256];
    uint64_t val[256];
    size_t n = hist_spectrum(h, 5, pct, val, 256);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s[%.6f,%llu]", i ? "," : "", pct[i], (unsigned long long)val[i]);
    fprintf(f, "]");
    lg_json_buckets(f, h);
    fprintf(f, "}");
}

/* What merging needs beside the counters: the exact sums, and the values clamped. */
void lg_json_buckets(FILE *f, const struct hist *h)
{
    fprintf(f, ",\"sum\":%.17g,\"sum_sq\":%.17g,\"clamped\":%llu,\"buckets\":[", h->sum, h->sum_sq,
            (unsigned long long)h->clamped);
    bool first = true;
    for (size_t i = 0; i < h->len; i++)
        if (h->counts[i]) {
            fprintf(f, "%s[%zu,%llu]", first ? "" : ",", i, (unsigned long long)h->counts[i]);
            first = false;
        }
    fprintf(f, "]");
}

static void json_lat(FILE *f, const char *key, const struct hist *lat)
{
    fprintf(f, ",\"%s\":{", key);
    for (int p = 0; p < PH_COUNT; p++) {
        fprintf(f, "%s\"%s\":", p ? "," : "", lg_phase_names[p]);
        lg_json_hist(f, &lat[p]);
    }
    fprintf(f, "}");
}

static void read_first_line(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)n, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *p = strchr(line, ':');
            if (p) {
                p += 1 + strspn(p + 1, " \t");
                p[strcspn(p, "\n")] = '\0';
                snprintf(buf, n, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static void json_context(FILE *f, const struct run_info *ri)
{
    struct utsname u;
    uname(&u);
    char cpu[256], la[128], smc[32], t1[32], t2[32];
    cpu_model(cpu, sizeof cpu);
    read_first_line("/proc/loadavg", la, sizeof la);
    read_first_line("/proc/sys/net/core/somaxconn", smc, sizeof smc);
    double l1 = 0, l5 = 0, l15 = 0;
    sscanf(la, "%lf %lf %lf", &l1, &l5, &l15);
    iso_time(t1, sizeof t1, ri->started);
    iso_time(t2, sizeof t2, ri->completed);
    fprintf(f, ",\"context\":{\"host_name\":");
    json_write_string(f, u.nodename);
    fprintf(f, ",\"kernel\":");
    json_write_string(f, u.release);
    fprintf(f, ",\"cpu_model\":");
    json_write_string(f, cpu);
    fprintf(f,
            ",\"num_cpus\":%ld,\"load_avg\":[%.2f,%.2f,%.2f],\"somaxconn\":%ld,"
            "\"started_at\":\"%s\",\"completed_at\":\"%s\"}",
            sysconf(_SC_NPROCESSORS_ONLN), l1, l5, l15, atol(smc), t1, t2);
}

static void json_config(FILE *f, const struct lg_opts *o)
{
    fprintf(f, ",\"config\":{\"argv\":[");
    for (int i = 0; i < o->argc; i++) {
        if (i)
            fputc(',', f);
        json_write_string(f, o->argv[i]);
    }
    fprintf(f, "],\"book_form\":%s,\"address\":", o->book ? "true" : "false");
    json_write_string(f, o->addr_str);
    fprintf(f, ",\"host\":");
    json_write_string(f, o->unix_path ? "" : o->host);
    fprintf(f, ",\"port\":%d,\"unix_path\":", o->unix_path ? 0 : atoi(o->port));
    json_write_string(f, o->unix_path ? o->unix_path : "");
    fprintf(f,
            ",\"connections\":%ld,\"threads\":%ld,\"requests\":%llu,\"duration_s\":%.6f,"
            "\"warmup_s\":%.6f,\"work\":%llu,\"bytes\":%llu,\"reqs_per_conn\":%llu,"
            "\"rate_rps\":%.3f,\"mode\":\"%s\",\"timeout_s\":%.6f,\"verify\":%s,"
            "\"close\":\"%s\",\"idle\":%llu,\"seed\":%llu,\"think_s\":%.6f,"
            "\"read_rate_bytes_per_s\":%llu,\"label\":",
            o->conns, o->threads, (unsigned long long)o->requests, (double)o->duration_us / 1e6,
            (double)o->warmup_us / 1e6, (unsigned long long)o->work, (unsigned long long)o->bytes,
            (unsigned long long)o->per_conn, o->rate, o->rate > 0 ? "open" : "closed",
            (double)o->timeout_us / 1e6, o->verify ? "true" : "false", o->close_rst ? "rst" : "fin",
            (unsigned long long)o->idle, (unsigned long long)o->seed, (double)o->think_us / 1e6,
            (unsigned long long)o->read_rate);
    json_write_string(f, o->label ? o->label : "");
    fprintf(f, ",\"mix\":[");
    for (size_t k = 0; o->mix && k < o->nclasses; k++)
        fprintf(f, "%s{\"work\":%llu,\"bytes\":%llu,\"weight\":%llu}", k ? "," : "",
                (unsigned long long)o->classes[k].work, (unsigned long long)o->classes[k].bytes,
                (unsigned long long)o->classes[k].weight);
    fprintf(f, "]}");
}

/* Everything after the config: totals, errors, latencies, timeline and client CPU. */
void lg_json_body(FILE *f, const struct lg_result *r, const struct lg_body *b)
{
    double el = b->elapsed_s;
    fprintf(f,
            ",\"histogram\":{\"significant_digits\":3,\"max_us\":%llu,"
            "\"timeline_significant_digits\":2,\"buckets\":\"[index, count] of every counter "
            "above 0, indexed as HdrHistogram's counts array\"}",
            (unsigned long long)HIST_MAX_US);
    fprintf(f, ",\"wall_clock\":{\"t0_ns\":%lld,\"measure_start_ns\":%lld,\"start_at_ns\":",
            (long long)b->t0_wall_ns, (long long)b->measure_wall_ns);
    if (b->start_at_ns)
        fprintf(f, "%lld,\"started_late_us\":%lld}", (long long)b->start_at_ns,
                (long long)((b->t0_wall_ns - b->start_at_ns) / 1000));
    else
        fprintf(f, "null,\"started_late_us\":null}");
    fprintf(f,
            ",\"totals\":{\"requests_ok\":%llu,\"bytes\":%llu,\"elapsed_s\":%.6f,\"rps\":%.3f,"
            "\"bytes_per_s\":%.3f,\"connections_opened\":%llu,\"in_flight_at_end\":%llu,"
            "\"warmup_requests\":%llu,\"due_not_sent\":%llu,\"idle_greeted\":%llu,"
            "\"idle_reopened\":%llu,\"clients_served\":%llu,\"kept_greeted\":%llu,"
            "\"ramp_s\":%.6f",
            (unsigned long long)r->requests_ok, (unsigned long long)r->bytes, el,
            el > 0 ? (double)r->requests_ok / el : 0, el > 0 ? (double)r->bytes / el : 0,
            (unsigned long long)r->connections_opened, (unsigned long long)r->in_flight_at_end,
            (unsigned long long)r->warmup_requests, (unsigned long long)r->due_not_sent,
            (unsigned long long)r->idle_greeted, (unsigned long long)r->idle_reopened,
            (unsigned long long)r->clients_served, (unsigned long long)r->kept_greeted, b->ramp_s);
    if (b->rate > 0)
        fprintf(f, ",\"target_rps\":%.3f,\"achieved_rps\":%.3f", b->rate, sent_rate(r, el));
    fprintf(f, "}");
    fprintf(f, ",\"errors\":{");
    for (int i = 0; i < E_COUNT; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", lg_err_names[i],
                (unsigned long long)r->errors[i]);
    fprintf(f, "}");
    /* Which phases of latency_us are timed from the due time (open loop): only the total. */
    fprintf(f, ",\"corrected_phases\":[%s]", b->rate > 0 ? "\"total\"" : "");
    json_lat(f, "latency_us", r->lat);
    if (r->ncls) {
        /* --mix: each class's total time, beside the totals (never corrected for -R). */
        fprintf(f, ",\"latency_us_by_class\":[");
        for (size_t c = 0; c < r->ncls; c++) {
            const struct lg_class *k = &b->classes[c];
            fprintf(f,
                    "%s{\"work\":%llu,\"bytes\":%llu,\"weight\":%llu,\"requests_ok\":%llu,"
                    "\"errors\":%llu,\"total\":",
                    c ? "," : "", (unsigned long long)k->work, (unsigned long long)k->bytes,
                    (unsigned long long)k->weight, (unsigned long long)r->cls[c].ok,
                    (unsigned long long)r->cls[c].errors);
            lg_json_hist(f, &r->cls[c].total);
            fprintf(f, "}");
        }
        fprintf(f, "]");
    }
    if (b->rate > 0)
        json_lat(f, "latency_us_uncorrected", r->lat_unc);
    fprintf(f, ",\"timeline\":[");
    for (size_t i = 0; i < r->nseconds; i++) {
        fprintf(f, "%s{\"t\":%zu,\"requests\":%llu,\"errors\":%llu,\"p99_us\":%llu", i ? "," : "",
                i, (unsigned long long)r->seconds[i].requests,
                (unsigned long long)r->seconds[i].errors,
                (unsigned long long)hist_percentile(r->seconds[i].total, 99));
        lg_json_buckets(f, r->seconds[i].total);
        fprintf(f, "}");
    }
    fprintf(f, "]");
    fprintf(f, ",\"client\":{\"utime_s\":%.6f,\"stime_s\":%.6f,\"cpu_pct\":", b->utime_s,
            b->stime_s);
    if (el > 0)
        fprintf(f, "%.2f}", (b->utime_s + b->stime_s) / el * 100);
    else
        fprintf(f, "null}"); /* nothing measured: no interval to divide by */
}

/* A document built in memory (by fill), then written whole by outfile_write. */
int lg_write_doc(const char *path, const char *what, void (*fill)(FILE *, const void *),
                 const void *arg)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    if (!f) {
        fprintf(stderr, "loadgen: %s %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    fill(f, arg);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    char e[512];
    int rc = 0;
    if (bad) {
        fprintf(stderr, "loadgen: %s %s: out of memory\n", what, path);
        rc = -1;
    } else if (outfile_write(path, doc, len, e, sizeof e) < 0) {
        fprintf(stderr, "loadgen: %s %s\n", what, e);
        rc = -1;
    }
    free(doc);
    return rc;
}

struct report {
    const struct lg_opts *o;
    const struct lg_result *r;
    const struct run_info *ri;
};

static void fill_json(FILE *f, const void *arg)
{
    const struct report *rp = arg;
    const struct lg_opts *o = rp->o;
    const struct lg_result *r = rp->r;
    const struct run_info *ri = rp->ri;
    fprintf(f,
            "{\"schema_version\":1,\"tool\":{\"name\":\"loadgen\",\"version\":\"%s\","
            "\"git_commit\":\"%s\",\"compiler\":\"%s\",\"cflags\":\"%s\"},\"interrupted\":%s",
            PROJECT_VERSION, GIT_COMMIT, BUILD_CC, BUILD_CFLAGS, ri->signal ? "true" : "false");
    json_context(f, ri);
    json_config(f, o);
    struct lg_body b = {.elapsed_s = ri->elapsed_s,
                        .utime_s = ri->utime_s,
                        .stime_s = ri->stime_s,
                        .rate = o->rate,
                        .classes = o->classes,
                        .t0_wall_ns = ri->t0_wall_ns,
                        .measure_wall_ns = ri->measure_wall_ns,
                        .start_at_ns = o->start_at_ns,
                        .ramp_s = ri->ramp_s};
    lg_json_body(f, r, &b);
    if (r->nreqs) {
        fprintf(f, ",\"requests\":[");
        for (size_t i = 0; i < r->nreqs; i++) {
            const struct lg_request *q = &r->reqs[i];
            fprintf(f, "%s{\"conn\":%u,\"seq\":%u,\"start_us\":%lld", i ? "," : "", q->conn, q->seq,
                    (long long)q->start_us);
            for (int p = 0; p < PH_COUNT; p++)
                if (q->phase_us[p] >= 0)
                    fprintf(f, ",\"%s_us\":%lld", lg_phase_names[p], (long long)q->phase_us[p]);
            fprintf(f, ",\"error\":");
            if (q->error >= 0)
                json_write_string(f, lg_err_names[q->error]);
            else
                fprintf(f, "null");
            fprintf(f, "}");
        }
        fprintf(f, "]");
    }
    fprintf(f, "}\n");
}

static void fill_hdr_log(FILE *f, const void *arg)
{
    const struct report *rp = arg;
    char tool[64];
    snprintf(tool, sizeof tool, "loadgen %s: total latency, microseconds", PROJECT_VERSION);
    hdr_log_header(f, tool, rp->ri->measure_wall_ns);
    for (size_t i = 0; i < rp->r->nseconds; i++) {
        double len = rp->ri->elapsed_s - (double)i;
        if (len > 1)
            len = 1;
        if (len <= 0)
            break;
        hdr_log_interval(f, (double)i, len, rp->r->seconds[i].total);
    }
}

static void fill_hgrm(FILE *f, const void *arg)
{
    const struct report *rp = arg;
    hgrm_write(f, &rp->r->lat[PH_TOTAL], "Recorded Latency");
    if (rp->o->rate > 0) {
        fprintf(f, "\n");
        hgrm_write(f, &rp->r->lat_unc[PH_TOTAL],
                   "Uncorrected Latency (measured without taking delayed starts into account)");
    }
}

static int cmp_req(const void *a, const void *b)
{
    const struct lg_request *x = a, *y = b;
    if (x->conn != y->conn)
        return x->conn < y->conn ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Waits for the workers, printing progress once a second if asked. The first SIGINT or
 * SIGTERM stops the run (returns its number once the workers are done); a second one exits
 * at once. */
static int wait_workers(const struct lg_opts *o, struct lg_shared *sh, int sigfd, int done_fd,
                        const struct lg_live *live)
{
    long finished = 0;
    int stopped_by = 0;
    uint64_t last = 0;
    int64_t next_tick = sh->t0_ns + 1000000000;
    for (int sec = 1; finished < o->threads;) {
        int timeout = -1;
        if (o->progress) {
            int64_t left = next_tick - lg_now_ns();
            timeout = left > 0 ? (int)((left + 999999) / 1000000) : 0;
        }
        struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = done_fd, .events = POLLIN}};
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: poll");
            break;
        }
        if (n > 0 && p[0].revents) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (stopped_by) {
                    static const char msg[] =
                        "loadgen: second signal: exiting now, nothing saved\n";
                    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
                        /* nothing more to do: we are leaving */
                    }
                    _exit(128 + (int)si.ssi_signo);
                }
                stopped_by = (int)si.ssi_signo;
                atomic_store(&sh->stop_ns, lg_now_ns());
                uint64_t one = 1;
                if (write(sh->stop_fd, &one, sizeof one) < 0)
                    perror("loadgen: eventfd");
                fprintf(stderr,
                        "loadgen: SIG%s: stopping; requests in flight get 1 s to finish "
                        "(again to exit at once)\n",
                        sigabbrev_np(stopped_by));
            }
        }
        if (n > 0 && p[1].revents) {
            uint64_t v;
            if (read(done_fd, &v, sizeof v) == (ssize_t)sizeof v)
                finished += (long)v;
        }
        if (o->progress && lg_now_ns() >= next_tick && finished < o->threads) {
            uint64_t req = 0, err = 0;
            for (long i = 0; i < o->threads; i++) {
                req += atomic_load_explicit(&live[i].requests, memory_order_relaxed);
                err += atomic_load_explicit(&live[i].errors, memory_order_relaxed);
            }
            fprintf(stderr, "[%3ds] %llu requests, %llu/s, %llu errors\n", sec,
                    (unsigned long long)req, (unsigned long long)(req - last),
                    (unsigned long long)err);
            last = req;
            sec++;
            next_tick += 1000000000;
        }
    }
    return stopped_by;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --start-at: waits for the wall clock to reach the agreed time (at once when it has); a
 * signal meanwhile ends the run before anything was measured. */
static int wait_start(const struct lg_opts *o, int sigfd)
{
    for (;;) {
        int64_t left = o->start_at_ns - wall_ns();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = sigfd, .events = POLLIN};
        int n = poll(&p, 1, left > 1000000 ? (int)(left / 1000000) : 0);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: poll");
            return -1;
        }
        if (n > 0) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                fprintf(stderr, "loadgen: SIG%s before the start: nothing measured\n",
                        sigabbrev_np((int)si.ssi_signo));
                exit(128 + (int)si.ssi_signo);
            }
        }
        if (left <= 1000000) {
            struct timespec ts = {(time_t)(o->start_at_ns / 1000000000),
                                  (long)(o->start_at_ns % 1000000000)};
            while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "merge"))
        return lg_merge_main(argc - 1, argv + 1);
    if (io_std_open() < 0) {
        perror("loadgen: /dev/null");
        return 1;
    }
    struct lg_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_USAGE;
    if (resolve(&o) < 0 || raise_nofile(o.conns + (long)o.idle) < 0)
        return 1;
    /* With the JSON on standard output, the summary goes to standard error. */
    bool json_out = o.json_path &&
                    (!strcmp(o.json_path, "-") || !strcmp(o.json_path, "/dev/stdout") ||
                     !strcmp(o.json_path, "/dev/fd/1") || !strcmp(o.json_path, "/proc/self/fd/1"));
    struct run_info ri = {.out = json_out ? stderr : stdout};

    /* Blocked before any thread exists, so that every thread inherits the mask and the
     * signals reach only the signalfd. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0) {
        fprintf(stderr, "loadgen: cannot block signals\n");
        return 1;
    }
    int sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct lg_live *live = calloc((size_t)o.threads, sizeof *live);
    struct worker *w = calloc((size_t)o.threads, sizeof *w);
    struct lg_shared sh = {.opt = &o, .live = live, .stop_fd = stop_fd};
    pthread_barrier_t ready, go;
    if (sigfd < 0 || done_fd < 0 || stop_fd < 0) {
        perror("loadgen: signalfd/eventfd");
        return 1;
    }
    if (!live || !w || pthread_barrier_init(&ready, NULL, (unsigned)o.threads + 1) ||
        pthread_barrier_init(&go, NULL, (unsigned)o.threads + 1)) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    sh.ready = &ready;
    sh.go = &go;
    int64_t spawned = lg_now_ns(); /* the ramp: from here until every thread is ready */
    for (long i = 0; i < o.threads; i++) {
        w[i].index = (int)i;
        w[i].sh = &sh;
        w[i].done_fd = done_fd;
        if (lg_result_init(&w[i].res, o.rate > 0, o.mix ? o.nclasses : 0) < 0) {
            fprintf(stderr, "loadgen: out of memory for histograms\n");
            return 1;
        }
        int e = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
        if (e != 0) {
            fprintf(stderr, "loadgen: thread %ld: %s\n", i, strerror(e));
            return 1;
        }
    }

    if (!o.book)
        fprintf(ri.out, "Running %s%s test @ %s\n", o.requests ? "" : "timed ",
                o.rate > 0 ? "open-loop" : "closed-loop", o.addr_str);
    fflush(ri.out);
    pthread_barrier_wait(&ready);
    ri.ramp_s = (double)(lg_now_ns() - spawned) / 1e9;
    if (o.start_at_ns && wait_start(&o, sigfd) < 0)
        return 1;
    ri.started = time(NULL);
    sh.t0_ns = lg_now_ns();
    ri.t0_wall_ns = wall_ns();
    ri.measure_wall_ns = ri.t0_wall_ns + (int64_t)o.warmup_us * 1000;
    sh.measure_ns = sh.t0_ns + (int64_t)o.warmup_us * 1000;
    sh.end_ns = o.requests ? INT64_MAX : sh.measure_ns + (int64_t)o.duration_us * 1000;
    pthread_barrier_wait(&go);

    ri.signal = wait_workers(&o, &sh, sigfd, done_fd, live);
    for (long i = 0; i < o.threads; i++)
        pthread_join(w[i].tid, NULL);
    ri.completed = time(NULL);

    struct lg_result total;
    if (lg_result_init(&total, o.rate > 0, o.mix ? o.nclasses : 0) < 0)
        return 1;
    int status = 0;
    for (long i = 0; i < o.threads; i++) {
        if (w[i].rc != 0) {
            fprintf(stderr, "loadgen: thread %ld: %s\n", i, w[i].err);
            status = 1;
        }
        if (lg_result_merge(&total, &w[i].res) < 0) {
            fprintf(stderr, "loadgen: out of memory merging results\n");
            return 1;
        }
        lg_result_free(&w[i].res);
    }

    /* The measured interval: a timed run's duration (cut short by a stop), or until the last
     * measured request ended; never a later wake-up of this thread. */
    int64_t stop = atomic_load(&sh.stop_ns);
    int64_t end = total.last_end_ns;
    if (!o.requests)
        end = sh.end_ns;
    if (ri.signal && stop > 0 && (o.requests || stop < end))
        end = stop > total.last_end_ns ? stop : total.last_end_ns;
    ri.elapsed_s = end > sh.measure_ns ? (double)(end - sh.measure_ns) / 1e9 : 0;
    ri.utime_s = total.cpu_user_s;
    ri.stime_s = total.cpu_sys_s;

    if (total.nreqs > 1)
        qsort(total.reqs, total.nreqs, sizeof *total.reqs, cmp_req);
    if (o.book)
        print_book(&o, &total, ri.out);
    print_summary(&o, &total, &ri);
    fflush(ri.out);
    struct report rp = {&o, &total, &ri};
    if (o.json_path && lg_write_doc(o.json_path, "--json", fill_json, &rp) < 0)
        status = 1;
    if (o.hdr_log_path && lg_write_doc(o.hdr_log_path, "--hdr-log", fill_hdr_log, &rp) < 0)
        status = 1;
    if (o.hgrm_path && lg_write_doc(o.hgrm_path, "--hgrm", fill_hgrm, &rp) < 0)
        status = 1;
    if (status == 0 && o.fail_on_errors && error_total(&total) > 0) {
        fprintf(stderr, "loadgen: %llu request(s) failed (--fail-on-errors)\n",
                (unsigned long long)error_total(&total));
        status = EXIT_ERRORS;
    }
    if (ri.signal)
        status = 128 + ri.signal;
    lg_result_free(&total);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&go);
    free(w);
    free(live);
    close(sigfd);
    close(done_fd);
    close(stop_fd);
    return status;
}
