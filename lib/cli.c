#include "cli.h"
#include "sieve.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
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

/* ---- the servers' options: one table (names, values, which models take them, help) ---- */

/* What one parse knows besides the options: the model, for refusals, and what was given. */
struct ctx {
    const char *prog, *what;
    unsigned caps;
    bool port_given;
    char *err;
    size_t errlen;
};

/* What an option's value sets: a flag, a whole number within [lo, hi] (into a uint64_t, a
 * long or an int), a duration in milliseconds of at most hi seconds, a text (S_PATH: not
 * empty), or what its own function does (a value from the row's list "a|b|c", and more). */
enum skind { S_FLAG, S_U64, S_LONG, S_INT, S_MS, S_TEXT, S_PATH, S_FN };

struct sopt {
    const char *name;  /* the long name */
    char letter;       /* the short name, or 0 */
    const char *value; /* its value in the help ("N", "DUR", "a|b"), NULL: takes none */
    unsigned caps;     /* taken by a model with any of these; 0: by every model. An option
                        * may have a row per kind of model (its help and values differ);
                        * the first whose caps match is the model's */
    enum skind kind;
    size_t field; /* offsetof(struct srv_opts, ...) */
    uint64_t lo, hi;
    int (*fn)(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v);
    bool spare;   /* a dynamic pool's sizes: giving one makes the pool dynamic */
    bool or_next; /* in the synopsis, an alternative to the next row: [-p PORT | -U PATH] */
    /* why a model that does not take it refuses it, after "NAME: PROG (WHAT): " */
    const char *refused;
    const char *(*refusal)(unsigned caps);
    long dflt;             /* the number a "%ld" in help shows */
    long (*dflt_fn)(void); /* ... when it is known only at run time */
    const char *help;      /* lines of help, "\n" between them */
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

static long cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static long sieve_budget_mib(void)
{
    return (long)(sieve_default_budget() >> 20);
}

/* An option as messages name it: "-w", "--max-clients". */
static const char *said(const struct sopt *d, char *b, size_t n)
{
    if (d->letter)
        snprintf(b, n, "-%c", d->letter);
    else
        snprintf(b, n, "--%s", d->name);
    return b;
}

/* The index of v in the row's list of values ("epoll|poll|select"), or -1 with the message
 * "--poller: 'x' is not epoll, poll or select". */
static int choice(struct ctx *c, const struct sopt *d, const char *v)
{
    const char *p = d->value;
    for (int i = 0; *p; i++) {
        size_t len = strcspn(p, "|");
        if (strlen(v) == len && !strncmp(p, v, len))
            return i;
        p += len + (p[len] == '|');
    }
    char names[128] = "", w[24];
    size_t n = 0;
    for (p = d->value; *p; n++) {
        size_t len = strcspn(p, "|");
        bool last = !p[len];
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.*s",
                 n == 0 ? ""
                 : last ? " or "
                        : ", ",
                 (int)len, p);
        p += len + !last;
    }
    bad(c->err, c->errlen, "%s: '%s' is not %s", said(d, w, sizeof w), v, names);
    return -1;
}

static int set_port(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    (void)d;
    uint64_t p;
    if (cli_u64(v, 0, 65535, &p) < 0)
        return bad(c->err, c->errlen, "-p: '%s' is not a whole number from 0 to 65535", v);
    o->port = v;
    c->port_given = true;
    return CLI_OK;
}

static int set_lock(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    if (!strcmp(v, "fcntl") && !(c->caps & CAP_LOCK_FCNTL))
        return bad(c->err, c->errlen,
                   "--accept-lock fcntl: %s (%s): an fcntl lock is per "
                   "process; threads use mutex",
                   c->prog, c->what);
    int i = choice(c, d, v);
    if (i < 0)
        return CLI_ERR;
    o->lock = i == 0 ? LOCK_NONE : i == 1 ? LOCK_MUTEX : LOCK_FCNTL;
    return CLI_OK;
}

static int set_accept(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    int i = choice(c, d, v);
    if (i < 0)
        return CLI_ERR;
    o->accept = i == 0 ? ACCEPT_SELF : (d->caps & CAP_ACCEPT_MAIN) ? ACCEPT_MAIN : ACCEPT_PASS;
    return CLI_OK;
}

static int set_poller(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    if (choice(c, d, v) < 0)
        return CLI_ERR;
    o->poller = v;
    return CLI_OK;
}

static int set_balance(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    int i = choice(c, d, v);
    if (i < 0)
        return CLI_ERR;
    o->exclusive = i == 1;
    return CLI_OK;
}

static int set_sieve_alloc(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    int i = choice(c, d, v);
    if (i < 0)
        return CLI_ERR;
    o->sieve_reuse = i == 1;
    return CLI_OK;
}

static int set_sieve_memory(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    (void)d;
    if (cli_size(v, &o->max_sieve_memory) < 0)
        return bad(c->err, c->errlen,
                   "--max-sieve-memory: '%s' is not a size like 64M or 2G (0: no limit)", v);
    return CLI_OK;
}

static int say_help(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    (void)c, (void)d, (void)o, (void)v;
    return CLI_HELP;
}

static int say_version(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    (void)c, (void)d, (void)o, (void)v;
    return CLI_VERS;
}

static const char *max_clients_refusal(unsigned caps)
{
    return (caps & CAP_WORKERS) ? "its pool size -w is the cap" : "it serves one client at a time";
}

#define F(field) offsetof(struct srv_opts, field)
static const struct sopt sopts[] = {
    // clang-format off
    {.name = "host", .letter = 'H', .value = "HOST", .kind = S_TEXT, .field = F(host),
     .help = "address to bind (default " SRV_DEFAULT_HOST "; '::' or 0.0.0.0 for all)"},
    {.name = "port", .letter = 'p', .value = "PORT", .kind = S_FN, .fn = set_port, .or_next = true,
     .help = "TCP port, 0 for any free port (default " SRV_DEFAULT_PORT ")"},
    {.name = "unix", .letter = 'U', .value = "PATH", .kind = S_PATH, .field = F(unix_path),
     .help = "listen on a Unix stream socket instead of TCP"},
    {.name = "backlog", .letter = 'b', .value = "N", .kind = S_INT, .field = F(backlog), .lo = 1,
     .hi = 65535, .dflt = SRV_DEFAULT_BACKLOG,
     .help = "listen backlog (default %ld; the kernel caps it at somaxconn)"},
    {.name = "workers", .letter = 'w', .value = "N", .caps = CAP_SPARE, .kind = S_LONG,
     .field = F(workers), .lo = 1, .hi = 4096, .dflt = SRV_DEFAULT_WORKERS,
     .help = "pool size (default %ld); with the spare options, its size at start"},
    {.name = "workers", .letter = 'w', .value = "N", .caps = CAP_WORKERS, .kind = S_LONG,
     .field = F(workers), .lo = 1, .hi = 4096, .dflt = SRV_DEFAULT_WORKERS,
     .help = "pool size (default %ld)"},
    {.name = "workers", .letter = 'w', .value = "N", .caps = CAP_LOOPS, .kind = S_LONG,
     .field = F(workers), .lo = 1, .hi = 4096, .dflt_fn = cpus,
     .refused = "no worker pool to size (prefork-srv and prethread-srv have a fixed pool; "
             "--max-clients caps a model that serves each client with a new one)",
     .help = "event loops, a thread each (default: the number of CPUs, %ld here)"},
    {.name = "balance", .value = "reuseport|exclusive", .caps = CAP_BALANCE, .kind = S_FN,
     .fn = set_balance, .refused = "one way to share connections (reuseport-srv has a choice)",
     .help = "reuseport: a listener per loop, the kernel spreads connections by hash (default);\n"
             "exclusive: one listener that every loop watches, EPOLLEXCLUSIVE"},
    {.name = "min-spare", .value = "N", .caps = CAP_SPARE, .kind = S_LONG, .field = F(min_spare),
     .lo = 0, .hi = 100000, .spare = true, .dflt = SRV_DEFAULT_MIN_SPARE,
     .refused = "no pool to size (prefork-srv and prethread-srv have)",
     .help = "a dynamic pool: start workers while fewer than N are idle (1, then doubling each "
             "second, up to 32 a second) (default %ld once any spare option is given)"},
    {.name = "max-spare", .value = "N", .caps = CAP_SPARE, .kind = S_LONG, .field = F(max_spare),
     .lo = 0, .hi = 100000, .spare = true, .dflt = SRV_DEFAULT_MAX_SPARE,
     .refused = "no pool to size (prefork-srv and prethread-srv have)",
     .help = "retire one idle worker a second while more than N are idle (default %ld)"},
    {.name = "max-workers", .value = "N", .caps = CAP_SPARE, .kind = S_LONG,
     .field = F(max_workers), .lo = 1, .hi = 100000, .spare = true, .dflt = SRV_DEFAULT_MAX_WORKERS,
     .refused = "no pool to size (prefork-srv and prethread-srv have)",
     .help = "never more workers than N (default %ld)"},
    {.name = "accept-lock", .value = "none|mutex|fcntl", .caps = CAP_LOCK_FCNTL, .kind = S_FN,
     .fn = set_lock, .help = "serialise accept() across the pool (default none)"},
    {.name = "accept-lock", .value = "none|mutex", .caps = CAP_LOCK_MUTEX, .kind = S_FN,
     .fn = set_lock, .refused = "only the pools (prefork-srv, prethread-srv) share accept()",
     .help = "serialise accept() across the pool (default none)"},
    {.name = "accept", .value = "self|main", .caps = CAP_ACCEPT_MAIN, .kind = S_FN,
     .fn = set_accept,
     .help = "self: every thread accepts (default);\nmain: the main thread accepts and queues "
             "descriptors for the pool"},
    {.name = "accept", .value = "self|pass", .caps = CAP_ACCEPT_PASS, .kind = S_FN,
     .fn = set_accept,
     .refused = "one way to accept (prefork-srv takes self|pass, prethread-srv self|main)",
     .help = "self: every child accepts (default);\npass: the parent accepts and passes "
             "descriptors to idle children"},
    {.name = "max-clients", .value = "N", .caps = CAP_MAX_CLIENTS, .kind = S_LONG,
     .field = F(max_clients), .lo = 0, .hi = 1000000, .refusal = max_clients_refusal,
     .help = "at most N clients served at once; more wait in the backlog (default 0: no cap)"},
    {.name = "poller", .value = "epoll|poll|select", .caps = CAP_POLLER, .kind = S_FN,
     .fn = set_poller, .refused = "no choice of poller (reactor-srv and reactor-pool-srv have one)",
     .help = "the event loop's poller: epoll, poll or select (default epoll; select takes "
             "descriptors < 1024 only)"},
    {.name = "max-work", .value = "N", .kind = S_U64, .field = F(max_work), .lo = 0,
     .hi = UINT64_C(1) << 40, .dflt = SRV_DEFAULT_MAX_WORK,
     .help = "largest WORK accepted (default %ld)"},
    {.name = "max-bytes", .value = "N", .kind = S_U64, .field = F(max_bytes), .lo = 0,
     .hi = UINT64_C(1) << 50, .dflt = SRV_DEFAULT_MAX_BYTES,
     .help = "largest BYTES accepted (default %ld)"},
    {.name = "max-sieve-memory", .value = "SIZE", .kind = S_FN, .fn = set_sieve_memory,
     .dflt_fn = sieve_budget_mib,
     .help = "the sieves in flight take at most SIZE bytes (64M, 2G; 0 no limit; default a "
             "quarter of the memory, %ldM here): a request beyond it gets ERR at once"},
    {.name = "timeout", .value = "DUR", .kind = S_MS, .field = F(timeout_ms), .hi = 86400,
     .dflt = SRV_DEFAULT_TIMEOUT_MS / 1000,
     .help = "drop a client whose request line or reading takes longer than DUR, e.g. 5s or "
             "500ms (default %lds; 0 off)"},
    {.name = "grace", .value = "DUR", .kind = S_MS, .field = F(grace_ms), .hi = 3600,
     .dflt = SRV_DEFAULT_GRACE_MS / 1000,
     .help = "on SIGTERM, time allowed for requests in flight (default %lds)"},
    {.name = "sieve-alloc", .value = "fresh|reuse", .kind = S_FN, .fn = set_sieve_alloc,
     .help = "fresh: a new sieve array per request (calloc, the book's);\nreuse: one array per "
             "worker thread, kept (default fresh)"},
    {.name = "daemon", .letter = 'd', .kind = S_FLAG, .field = F(daemon),
     .help = "detach, log to syslog"},
    {.name = "pidfile", .letter = 'P', .value = "PATH", .kind = S_PATH, .field = F(pidfile),
     .help = "write the pid to PATH, remove it on exit"},
    {.name = "user", .value = "NAME", .kind = S_TEXT, .field = F(user),
     .help = "with -d: switch to user NAME after binding"},
    {.name = "stats", .value = "FILE", .kind = S_TEXT, .field = F(stats_file),
     .help = "also write the closing stats line to FILE"},
    {.name = "stats-interval", .value = "DUR", .kind = S_MS, .field = F(stats_interval_ms),
     .hi = 86400,
     .help = "a stats line (\"final\":false) every DUR while running (default 0: only the "
             "closing one)"},
    {.name = "help", .letter = 'h', .kind = S_FN, .fn = say_help, .help = "this text"},
    {.name = "version", .letter = 'V', .kind = S_FN, .fn = say_version,
     .help = "print the version"},
    // clang-format on
};
#undef F
#define NSOPTS (sizeof sopts / sizeof *sopts)

/* The row of option i's name that a model with caps takes, or NULL. */
static const struct sopt *row_for(size_t i, unsigned caps)
{
    for (size_t j = 0; j < NSOPTS; j++)
        if (!strcmp(sopts[j].name, sopts[i].name) && (!sopts[j].caps || (caps & sopts[j].caps)))
            return &sopts[j];
    return NULL;
}

/* Whether row i is the first of its name (the getopt tables and the help list a name once). */
static bool first_of_name(size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(sopts[j].name, sopts[i].name))
            return false;
    return true;
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

/* Sets what row d says with its value v. */
static int apply(struct ctx *c, const struct sopt *d, struct srv_opts *o, const char *v)
{
    char *at = (char *)o + d->field, w[24];
    const char *name = said(d, w, sizeof w);
    uint64_t u;
    switch (d->kind) {
    case S_FLAG:
        *(bool *)(void *)at = true;
        break;
    case S_U64:
    case S_LONG:
    case S_INT:
        if (cli_u64(v, d->lo, d->hi, &u) < 0)
            return bad(c->err, c->errlen, "%s: '%s' is not a whole number from %llu to %llu", name,
                       v, (unsigned long long)d->lo, (unsigned long long)d->hi);
        if (d->kind == S_U64)
            memcpy(at, &u, sizeof u);
        else if (d->kind == S_LONG)
            *(long *)(void *)at = (long)u;
        else
            *(int *)(void *)at = (int)u;
        break;
    case S_MS:
        return duration_ms(v, name, d->hi, (int *)(void *)at, c->err, c->errlen);
    case S_PATH:
        if (!*v)
            return bad(c->err, c->errlen, "%s: empty path", name);
        /* fall through */
    case S_TEXT:
        memcpy(at, &v, sizeof v);
        break;
    case S_FN:
        return d->fn(c, d, o, v);
    }
    o->dynamic |= d->spare;
    return CLI_OK;
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
    struct ctx c = {
        .prog = slash ? slash + 1 : prog, .what = what, .caps = caps, .err = err, .errlen = errlen};

    /* getopt's tables, from the one table: a short option is its letter, a long one its row
     * past 256 (the first row of its name) */
    struct option lopts[NSOPTS + 1];
    char shorts[3 * NSOPTS + 2] = ":";
    size_t nl = 0, ns = 1;
    for (size_t i = 0; i < NSOPTS; i++) {
        if (!first_of_name(i))
            continue;
        lopts[nl++] =
            (struct option){sopts[i].name, sopts[i].value ? required_argument : no_argument, NULL,
                            sopts[i].letter ? sopts[i].letter : 256 + (int)i};
        if (sopts[i].letter) {
            shorts[ns++] = sopts[i].letter;
            if (sopts[i].value)
                shorts[ns++] = ':';
        }
    }
    lopts[nl] = (struct option){NULL, 0, NULL, 0};
    shorts[ns] = '\0';

    int ch;
    optind = 0; /* glibc: a full reset, so the parser can run more than once */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        if (ch == ':')
            return bad(err, errlen, "option %s needs a value", argv[optind - 1]);
        size_t i = NSOPTS;
        for (size_t j = 0; j < NSOPTS && i == NSOPTS; j++)
            if (ch >= 256 ? (size_t)(ch - 256) == j : sopts[j].letter == ch)
                i = j;
        if (i == NSOPTS) {
            if (optopt && ch == '?' && optopt < 256)
                return bad(err, errlen, "unknown option -%c (try -h)", optopt);
            return bad(err, errlen, "unknown option %s (try -h)", argv[optind - 1]);
        }
        const struct sopt *d = row_for(i, caps);
        if (!d) {
            const struct sopt *last = NULL; /* the name's last row says why */
            for (size_t j = 0; j < NSOPTS; j++)
                if (!strcmp(sopts[j].name, sopts[i].name))
                    last = &sopts[j];
            char w[24];
            return bad(err, errlen, "%s: %s (%s): %s", said(last, w, sizeof w), c.prog, what,
                       last->refusal ? last->refusal(caps) : last->refused);
        }
        int rc = apply(&c, d, o, d->value ? optarg : NULL);
        if (rc != CLI_OK)
            return rc;
    }
    if (optind < argc)
        return bad(err, errlen, "unexpected argument '%s' (try -h)", argv[optind]);
    if (o->unix_path && (c.port_given || o->host))
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

void cli_help_line(FILE *f, char letter, const char *name, const char *value, const char *help)
{
    enum { COL = 24, WIDTH = 80 - COL }; /* the help's column, and what fits beside it */
    char head[96];
    if (letter && name)
        snprintf(head, sizeof head, "-%c, --%s", letter, name);
    else if (letter)
        snprintf(head, sizeof head, "-%c", letter);
    else
        snprintf(head, sizeof head, "    --%s", name);
    if (value)
        snprintf(head + strlen(head), sizeof head - strlen(head), " %s", value);
    if (strlen(head) + 3 > COL) /* too long to share a line with the help */
        fprintf(f, "  %s\n%*s", head, COL, "");
    else
        fprintf(f, "  %-*s", COL - 2, head);
    /* the help's lines ("\n" between them), each wrapped at a space to fit */
    int used = 0;
    while (*help) {
        if (*help == '\n') {
            fprintf(f, "\n%*s", COL, "");
            used = 0;
            help++;
            continue;
        }
        size_t word = strcspn(help, " \n");
        if (used > 0 && used + 1 + (int)word > WIDTH) {
            fprintf(f, "\n%*s", COL, "");
            used = 0;
        } else if (used > 0) {
            fputc(' ', f);
            used++;
        }
        fprintf(f, "%.*s", (int)word, help);
        used += (int)word;
        help += word;
        while (*help == ' ')
            help++;
    }
    fputc('\n', f);
}

void cli_usage_server(FILE *f, const char *prog, unsigned caps)
{
    /* the synopsis: every option the model takes, wrapped under its name */
    int col = fprintf(f, "usage: %s", prog);
    for (size_t i = 0; i < NSOPTS; i++) {
        const struct sopt *d = first_of_name(i) ? row_for(i, caps) : NULL;
        if (!d)
            continue;
        char item[96], w[24];
        snprintf(item, sizeof item, "%s%s%s%s", i > 0 && sopts[i - 1].or_next ? "" : "[",
                 said(d, w, sizeof w), d->value ? " " : "", d->value ? d->value : "");
        snprintf(item + strlen(item), sizeof item - strlen(item), "%s", d->or_next ? " |" : "]");
        if (col + 1 + (int)strlen(item) > 78)
            col = fprintf(f, "\n      ") - 1;
        col += fprintf(f, " %s", item);
    }
    fprintf(f, "\n\n");
    for (size_t i = 0; i < NSOPTS; i++) {
        const struct sopt *d = first_of_name(i) ? row_for(i, caps) : NULL;
        if (!d)
            continue;
        char help[512];
        long n = d->dflt_fn ? d->dflt_fn() : d->dflt;
        if (strchr(d->help, '%'))
            snprintf(help, sizeof help, d->help, n);
        else
            snprintf(help, sizeof help, "%s", d->help);
        cli_help_line(f, d->letter, d->name, d->value, help);
    }
}
