/* options: loadgen's command line, checked whole before anything runs: the options and the
 * book's positional form, their values and how they go together, and the server's address
 * resolved. Nothing here runs the load. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
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

void lg_usage(FILE *f)
{
    fprintf(
        f,
        "usage: loadgen [-H HOST] [-p PORT] [-c CONNS] [-t THREADS] [-n REQUESTS | -d DURATION]\n"
        "               [--warmup DUR] [-w WORK] [-b BYTES] [-k REQS_PER_CONN] [-R RATE]\n"
        "               [--mix W:B:N,...] [--seed N] [--idle N] [--think DUR]\n"
        "               [--read-rate BYTES/s] [--timeout DUR] [--verify]\n"
        "               [--close rst|fin] [--json FILE|-] [--hdr-log FILE] [--hgrm FILE]\n"
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
        "      --close rst|fin    how the client ends a connection it is done with: rst\n"
        "                         (default; abortive, every byte asked for read: no FIN\n"
        "                         exchange and no TIME_WAIT left on the client) or fin (a\n"
        "                         normal close; in this protocol the client closes first,\n"
        "                         so each connection leaves a TIME_WAIT on the client)\n"
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
                return bad_usage("--close %s: rst or fin", optarg);
            break;
        case 'h':
            lg_usage(stdout);
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
