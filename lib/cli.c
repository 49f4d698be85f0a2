#include "cli.h"
#include "sieve.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_duration_us(const char *s, uint64_t *out)
{
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    double mult;
    if (!*end || !strcmp(end, "s"))
        mult = 1e6;
    else if (!strcmp(end, "ms"))
        mult = 1e3;
    else if (!strcmp(end, "us"))
        mult = 1;
    else if (!strcmp(end, "m"))
        mult = 60e6;
    else if (!strcmp(end, "h"))
        mult = 3600e6;
    else
        return -1;
    double us = v * mult;
    if (us > 1e15)
        return -1;
    *out = (uint64_t)(us + 0.5);
    return 0;
}

int cli_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    int shift = 0;
    if (*end) {
        const char *units = "kMGT", *u = strchr(units, *end == 'K' ? 'k' : *end);
        if (!u || end[1])
            return -1;
        shift = 10 * (int)(u - units + 1);
    }
    if (v > (UINT64_C(1) << 62) >> shift)
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

enum {
    OPT_LOCK = 256,
    OPT_MAX_CLIENTS,
    OPT_MAX_WORK,
    OPT_MAX_BYTES,
    OPT_TIMEOUT,
    OPT_GRACE,
    OPT_USER,
    OPT_STATS,
    OPT_POLLER,
    OPT_STATS_INTERVAL,
    OPT_MIN_SPARE,
    OPT_MAX_SPARE,
    OPT_MAX_WORKERS,
    OPT_ACCEPT,
    OPT_SIEVE_ALLOC,
    OPT_BALANCE,
    OPT_MAX_SIEVE_MEMORY,
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"unix", required_argument, NULL, 'U'},
    {"backlog", required_argument, NULL, 'b'},
    {"workers", required_argument, NULL, 'w'},
    {"accept-lock", required_argument, NULL, OPT_LOCK},
    {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
    {"max-work", required_argument, NULL, OPT_MAX_WORK},
    {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"daemon", no_argument, NULL, 'd'},
    {"pidfile", required_argument, NULL, 'P'},
    {"user", required_argument, NULL, OPT_USER},
    {"stats", required_argument, NULL, OPT_STATS},
    {"poller", required_argument, NULL, OPT_POLLER},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"min-spare", required_argument, NULL, OPT_MIN_SPARE},
    {"max-spare", required_argument, NULL, OPT_MAX_SPARE},
    {"max-workers", required_argument, NULL, OPT_MAX_WORKERS},
    {"accept", required_argument, NULL, OPT_ACCEPT},
    {"sieve-alloc", required_argument, NULL, OPT_SIEVE_ALLOC},
    {"balance", required_argument, NULL, OPT_BALANCE},
    {"max-sieve-memory", required_argument, NULL, OPT_MAX_SIEVE_MEMORY},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return CLI_ERR;
}

static int number(const char *arg, const char *name, uint64_t min, uint64_t max, uint64_t *out,
                  char *err, size_t errlen)
{
    if (cli_u64(arg, min, max, out) < 0)
        return bad(err, errlen, "%s: '%s' is not a whole number from %llu to %llu", name, arg,
                   (unsigned long long)min, (unsigned long long)max);
    return CLI_OK;
}

/* A duration as loadgen takes it ("5s", "500ms", "2m"; a bare number is seconds), in whole
 * milliseconds up to max_s seconds. */
static int duration_ms(const char *arg, const char *name, uint64_t max_s, int *out, char *err,
                       size_t errlen)
{
    uint64_t us;
    if (cli_duration_us(arg, &us) < 0 || us > max_s * 1000000)
        return bad(err, errlen, "%s: '%s' is not a duration like 5s, 500ms or 2m (at most %llus)",
                   name, arg, (unsigned long long)max_s);
    if (us > 0 && us < 1000)
        return bad(err, errlen, "%s: '%s' is below the resolution of 1ms", name, arg);
    *out = (int)((us + 500) / 1000);
    return CLI_OK;
}

static long cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

int cli_parse_server(int argc, char **argv, unsigned caps, const char *what, struct srv_opts *o,
                     char *err, size_t errlen)
{
    *o = (struct srv_opts){
        .host = NULL,
        .port = SRV_DEFAULT_PORT,
        .backlog = SRV_DEFAULT_BACKLOG,
        .workers = (caps & CAP_LOOPS)     ? cpus()
                   : (caps & CAP_WORKERS) ? SRV_DEFAULT_WORKERS
                                          : 1,
        .poller = "epoll",
        .lock = LOCK_NONE,
        .max_work = SRV_DEFAULT_MAX_WORK,
        .max_bytes = SRV_DEFAULT_MAX_BYTES,
        .timeout_ms = SRV_DEFAULT_TIMEOUT_MS,
        .grace_ms = SRV_DEFAULT_GRACE_MS,
        .min_spare = SRV_DEFAULT_MIN_SPARE,
        .max_spare = SRV_DEFAULT_MAX_SPARE,
        .max_workers = SRV_DEFAULT_MAX_WORKERS,
        .max_sieve_memory = sieve_default_budget(),
    };
    const char *prog = argc > 0 ? argv[0] : "srv";
    const char *slash = strrchr(prog, '/');
    prog = slash ? slash + 1 : prog;
    bool port_given = false;
    uint64_t v;
    int c;

    optind = 0; /* glibc: a full reset, so the parser can run more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":H:p:U:b:w:dP:hV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            if (number(optarg, "-p", 0, 65535, &v, err, errlen))
                return CLI_ERR;
            o->port = optarg;
            port_given = true;
            break;
        case 'U':
            if (!*optarg)
                return bad(err, errlen, "-U: empty path");
            o->unix_path = optarg;
            break;
        case 'b':
            if (number(optarg, "-b", 1, 65535, &v, err, errlen))
                return CLI_ERR;
            o->backlog = (int)v;
            break;
        case 'w':
            if (!(caps & (CAP_WORKERS | CAP_LOOPS)))
                return bad(err, errlen,
                           "-w: %s (%s) has no worker pool to size; prefork-srv and "
                           "prethread-srv have a fixed pool%s",
                           prog, what,
                           (caps & CAP_MAX_CLIENTS) ? ", and --max-clients caps its clients" : "");
            if (number(optarg, "-w", 1, 4096, &v, err, errlen))
                return CLI_ERR;
            o->workers = (long)v;
            break;
        case OPT_ACCEPT: {
            const char *other = (caps & CAP_ACCEPT_MAIN)   ? "main"
                                : (caps & CAP_ACCEPT_PASS) ? "pass"
                                                           : NULL;
            if (!other)
                return bad(err, errlen,
                           "--accept: %s (%s) has one way to accept (prefork-srv takes "
                           "self|pass, prethread-srv self|main)",
                           prog, what);
            if (!strcmp(optarg, "self"))
                o->accept = ACCEPT_SELF;
            else if (!strcmp(optarg, other))
                o->accept = (caps & CAP_ACCEPT_MAIN) ? ACCEPT_MAIN : ACCEPT_PASS;
            else
                return bad(err, errlen, "--accept: '%s' is not self or %s", optarg, other);
            break;
        }
        case OPT_LOCK:
            if (!strcmp(optarg, "none"))
                o->lock = LOCK_NONE;
            else if (!strcmp(optarg, "mutex"))
                o->lock = LOCK_MUTEX;
            else if (!strcmp(optarg, "fcntl"))
                o->lock = LOCK_FCNTL;
            else
                return bad(err, errlen, "--accept-lock: '%s' is not none, mutex or fcntl", optarg);
            if ((o->lock == LOCK_MUTEX && !(caps & CAP_LOCK_MUTEX)) ||
                (o->lock == LOCK_FCNTL && !(caps & CAP_LOCK_FCNTL)) ||
                (o->lock == LOCK_NONE && !(caps & (CAP_LOCK_MUTEX | CAP_LOCK_FCNTL))))
                return bad(err, errlen, "--accept-lock %s: %s (%s): %s", optarg, prog, what,
                           !(caps & (CAP_LOCK_MUTEX | CAP_LOCK_FCNTL))
                               ? "only the pools (prefork-srv, prethread-srv) share accept()"
                               : "an fcntl lock is per process; threads use mutex");
            break;
        case OPT_MAX_CLIENTS:
            if (!(caps & CAP_MAX_CLIENTS))
                return bad(err, errlen, "--max-clients: %s (%s): %s", prog, what,
                           (caps & CAP_WORKERS) ? "its pool size -w is the cap"
                                                : "it serves one client at a time");
            if (number(optarg, "--max-clients", 0, 1000000, &v, err, errlen))
                return CLI_ERR;
            o->max_clients = (long)v;
            break;
        case OPT_MAX_WORK:
            if (number(optarg, "--max-work", 0, UINT64_C(1) << 40, &o->max_work, err, errlen))
                return CLI_ERR;
            break;
        case OPT_MAX_BYTES:
            if (number(optarg, "--max-bytes", 0, UINT64_C(1) << 50, &o->max_bytes, err, errlen))
                return CLI_ERR;
            break;
        case OPT_TIMEOUT:
            if (duration_ms(optarg, "--timeout", 86400, &o->timeout_ms, err, errlen))
                return CLI_ERR;
            break;
        case OPT_GRACE:
            if (duration_ms(optarg, "--grace", 3600, &o->grace_ms, err, errlen))
                return CLI_ERR;
            break;
        case 'd':
            o->daemon = true;
            break;
        case 'P':
            if (!*optarg)
                return bad(err, errlen, "-P: empty path");
            o->pidfile = optarg;
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_POLLER:
            if (!(caps & CAP_POLLER))
                return bad(err, errlen,
                           "--poller: %s (%s) has no choice of poller (reactor-srv and "
                           "reactor-pool-srv have one)",
                           prog, what);
            if (strcmp(optarg, "epoll") && strcmp(optarg, "poll") && strcmp(optarg, "select"))
                return bad(err, errlen, "--poller: '%s' is not epoll, poll or select", optarg);
            o->poller = optarg;
            break;
        case OPT_STATS:
            o->stats_file = optarg;
            break;
        case OPT_MIN_SPARE:
        case OPT_MAX_SPARE:
        case OPT_MAX_WORKERS: {
            const char *name = c == OPT_MIN_SPARE   ? "--min-spare"
                               : c == OPT_MAX_SPARE ? "--max-spare"
                                                    : "--max-workers";
            if (!(caps & CAP_SPARE))
                return bad(err, errlen,
                           "%s: %s (%s) has no pool to size (prefork-srv and "
                           "prethread-srv have)",
                           name, prog, what);
            if (number(optarg, name, c == OPT_MAX_WORKERS ? 1 : 0, 100000, &v, err, errlen))
                return CLI_ERR;
            long *to = c == OPT_MIN_SPARE   ? &o->min_spare
                       : c == OPT_MAX_SPARE ? &o->max_spare
                                            : &o->max_workers;
            *to = (long)v;
            o->dynamic = true;
            break;
        }
        case OPT_BALANCE:
            if (!(caps & CAP_BALANCE))
                return bad(err, errlen,
                           "--balance: %s (%s) has one way to share connections "
                           "(reuseport-srv has a choice)",
                           prog, what);
            if (strcmp(optarg, "reuseport") && strcmp(optarg, "exclusive"))
                return bad(err, errlen, "--balance: '%s' is not reuseport or exclusive", optarg);
            o->exclusive = !strcmp(optarg, "exclusive");
            break;
        case OPT_SIEVE_ALLOC:
            if (strcmp(optarg, "fresh") && strcmp(optarg, "reuse"))
                return bad(err, errlen, "--sieve-alloc: '%s' is not fresh or reuse", optarg);
            o->sieve_reuse = !strcmp(optarg, "reuse");
            break;
        case OPT_MAX_SIEVE_MEMORY:
            if (cli_size(optarg, &o->max_sieve_memory) < 0)
                return bad(err, errlen,
                           "--max-sieve-memory: '%s' is not a size like 64M or 2G (0: no limit)",
                           optarg);
            break;
        case OPT_STATS_INTERVAL:
            if (duration_ms(optarg, "--stats-interval", 86400, &o->stats_interval_ms, err, errlen))
                return CLI_ERR;
            break;
        case 'h':
            return CLI_HELP;
        case 'V':
            return CLI_VERS;
        case ':':
            return bad(err, errlen, "option %s needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return bad(err, errlen, "unknown option -%c (try -h)", optopt);
            return bad(err, errlen, "unknown option %s (try -h)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad(err, errlen, "unexpected argument '%s' (try -h)", argv[optind]);
    if (o->unix_path && (port_given || o->host))
        return bad(err, errlen, "-U listens on a Unix socket; it cannot be combined with -H or -p");
    if (!o->host)
        o->host = SRV_DEFAULT_HOST;
    if (o->user && !o->daemon)
        return bad(err, errlen, "--user drops privileges of a daemon; it needs -d");
    if (o->accept != ACCEPT_SELF && o->lock != LOCK_NONE)
        return bad(err, errlen,
                   "--accept-lock: with --accept %s only one process or thread "
                   "accepts; there is nothing to serialise",
                   o->accept == ACCEPT_MAIN ? "main" : "pass");
    if (o->dynamic) {
        if (o->min_spare >= o->max_spare)
            return bad(err, errlen, "--min-spare %ld must be below --max-spare %ld", o->min_spare,
                       o->max_spare);
        if (o->workers > o->max_workers)
            return bad(err, errlen, "-w %ld (the starting size) is above --max-workers %ld",
                       o->workers, o->max_workers);
    }
    return CLI_OK;
}

void cli_usage_server(FILE *f, const char *prog, unsigned caps)
{
    fprintf(
        f,
        "usage: %s [-H HOST] [-p PORT | -U PATH] [-b BACKLOG]%s%s%s%s\n"
        "       [--max-work N] [--max-bytes N] [--max-sieve-memory SIZE]\n"
        "       [--timeout DUR] [--grace DUR]\n"
        "       [-d] [-P PIDFILE] [--user NAME] [--stats FILE] [--stats-interval DUR]\n"
        "       [--sieve-alloc fresh|reuse] [-h] [-V]\n\n"
        "  -H, --host HOST       address to bind (default %s; '::' or 0.0.0.0 for all)\n"
        "  -p, --port PORT       TCP port, 0 for any free port (default %s)\n"
        "  -U, --unix PATH       listen on a Unix stream socket instead of TCP\n"
        "  -b, --backlog N       listen backlog (default %d; the kernel caps it at somaxconn)\n",
        prog,
        (caps & CAP_ACCEPT_PASS)
            ? " [-w WORKERS]\n       [--min-spare N] [--max-spare N] [--max-workers N]"
              " [--accept self|pass]\n      "
        : (caps & CAP_ACCEPT_MAIN)
            ? " [-w WORKERS]\n       [--min-spare N] [--max-spare N] [--max-workers N]"
              " [--accept self|main]\n      "
        : (caps & CAP_BALANCE)               ? " [-w LOOPS]\n       [--balance reuseport|exclusive]"
        : (caps & (CAP_WORKERS | CAP_LOOPS)) ? " [-w WORKERS]"
                                             : "",
        (caps & CAP_LOCK_FCNTL)   ? " [--accept-lock none|mutex|fcntl]"
        : (caps & CAP_LOCK_MUTEX) ? " [--accept-lock none|mutex]"
                                  : "",
        (caps & CAP_MAX_CLIENTS) ? " [--max-clients N]" : "",
        (caps & CAP_POLLER) ? "\n       [--poller epoll|poll|select]" : "", SRV_DEFAULT_HOST,
        SRV_DEFAULT_PORT, SRV_DEFAULT_BACKLOG);
    if (caps & CAP_WORKERS)
        fprintf(f, "  -w, --workers N       pool size (default %d)%s\n", SRV_DEFAULT_WORKERS,
                (caps & CAP_SPARE) ? "; with the spare options, its size at start" : "");
    if (caps & CAP_LOOPS)
        fprintf(f,
                "  -w, --workers N       event loops, a thread each (default: the number of\n"
                "                        CPUs, %ld here)\n",
                cpus());
    if (caps & CAP_BALANCE)
        fprintf(f, "      --balance B       reuseport: a listener per loop, the kernel spreads\n"
                   "                        connections by hash (default); exclusive: one\n"
                   "                        listener that every loop watches, EPOLLEXCLUSIVE\n");
    if (caps & CAP_SPARE)
        fprintf(f,
                "      --min-spare N     a dynamic pool: start workers while fewer than N are\n"
                "                        idle (1, then doubling each second, up to 32 a second)\n"
                "                        (default %d once any spare option is given)\n"
                "      --max-spare N     retire one idle worker a second while more than N are\n"
                "                        idle (default %d)\n"
                "      --max-workers N   never more workers than N (default %d)\n",
                SRV_DEFAULT_MIN_SPARE, SRV_DEFAULT_MAX_SPARE, SRV_DEFAULT_MAX_WORKERS);
    if (caps & (CAP_LOCK_MUTEX | CAP_LOCK_FCNTL))
        fprintf(f, "      --accept-lock L   serialise accept() across the pool (default none)\n");
    if (caps & CAP_ACCEPT_MAIN)
        fprintf(f, "      --accept M        self: every thread accepts (default); main: the main\n"
                   "                        thread accepts and queues descriptors for the pool\n");
    if (caps & CAP_ACCEPT_PASS)
        fprintf(f, "      --accept M        self: every child accepts (default); pass: the parent\n"
                   "                        accepts and passes descriptors to idle children\n");
    if (caps & CAP_MAX_CLIENTS)
        fprintf(f, "      --max-clients N   at most N clients served at once; more wait in the\n"
                   "                        backlog (default 0: no cap)\n");
    if (caps & CAP_POLLER)
        fprintf(f,
                "      --poller P        the event loop's poller: epoll, poll or select\n"
                "                        (default epoll; select takes descriptors < 1024 only)\n");
    fprintf(
        f,
        "      --max-work N      largest WORK accepted (default %llu)\n"
        "      --max-bytes N     largest BYTES accepted (default %llu)\n"
        "      --max-sieve-memory SIZE  the sieves in flight take at most SIZE bytes\n"
        "                        (64M, 2G; 0 no limit; default a quarter of the memory,\n"
        "                        %lluM here): a request beyond it gets ERR at once\n"
        "      --timeout DUR     drop a client whose request line or reading takes longer\n"
        "                        than DUR, e.g. 5s or 500ms (default %ds; 0 off)\n"
        "      --grace DUR       on SIGTERM, time allowed for requests in flight (default %ds)\n"
        "      --sieve-alloc A   fresh: a new sieve array per request (calloc, the book's);\n"
        "                        reuse: one array per worker thread, kept (default fresh)\n"
        "  -d, --daemon          detach, log to syslog\n"
        "  -P, --pidfile PATH    write the pid to PATH, remove it on exit\n"
        "      --user NAME       with -d: switch to user NAME after binding\n"
        "      --stats FILE      also write the closing stats line to FILE\n"
        "      --stats-interval DUR  a stats line (\"final\":false) every DUR while running\n"
        "                        (default 0: only the closing one)\n"
        "  -h, --help            this text\n"
        "  -V, --version         print the version\n",
        (unsigned long long)SRV_DEFAULT_MAX_WORK, (unsigned long long)SRV_DEFAULT_MAX_BYTES,
        (unsigned long long)(sieve_default_budget() >> 20), SRV_DEFAULT_TIMEOUT_MS / 1000,
        SRV_DEFAULT_GRACE_MS / 1000);
}
