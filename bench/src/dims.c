#include "dims.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jdoc.h"

bool is_whole(const char *v)
{
    if (!*v || (v[0] == '0' && v[1]))
        return false;
    return strspn(v, "0123456789") == strlen(v) && strlen(v) <= 18;
}

bool is_positive(const char *v)
{
    return is_whole(v) && strcmp(v, "0") != 0;
}

bool is_number(const char *v)
{
    size_t d = strspn(v, "0123456789");
    if (d == 0)
        return false;
    if (!v[d])
        return true;
    return v[d] == '.' && v[d + 1] && strspn(v + d + 1, "0123456789") == strlen(v + d + 1);
}

/* 2s, 500ms, 0.5s, .5s, 1m, 0: digits with an optional fraction, an optional unit. */
bool is_duration(const char *v)
{
    size_t i = strspn(v, "0123456789");
    if (v[i] == '.') {
        size_t f = strspn(v + i + 1, "0123456789");
        if (f == 0)
            return false;
        i += 1 + f;
    } else if (i == 0) {
        return false;
    }
    const char *u = v + i;
    uint64_t us;
    return (!*u || !strcmp(u, "us") || !strcmp(u, "ms") || !strcmp(u, "s") || !strcmp(u, "m") ||
            !strcmp(u, "h")) &&
           cli_duration_us(v, &us) == 0;
}

bool is_zero_duration(const char *v)
{
    uint64_t us;
    return is_duration(v) && cli_duration_us(v, &us) == 0 && us == 0;
}

bool cpu_list(const char *v, unsigned char mask[128])
{
    memset(mask, 0, 128);
    if (!strcmp(v, "-"))
        return true;
    const char *p = v;
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return false;
        unsigned long a = strtoul(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            if (!isdigit((unsigned char)p[1]))
                return false;
            b = strtoul(p + 1, &end, 10);
            p = end;
        }
        if (a > b || b >= 1024)
            return false;
        for (unsigned long c = a; c <= b; c++)
            mask[c / 8] |= (unsigned char)(1u << (c % 8));
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            return false;
    }
    return true;
}

static const char *model_name(const char *v)
{
    if (!strncmp(v, "kind=", 5))
        v += 5;
    bool ok = islower((unsigned char)v[0]);
    for (const char *p = v; ok && *p; p++)
        ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-';
    return ok ? NULL : "not a model name";
}
static const char *yes_no(const char *v)
{
    return !strcmp(v, "yes") || !strcmp(v, "no") ? NULL : "yes or no";
}
static const char *baseline(const char *v)
{
    return !*v || (strncmp(v, "kind=", 5) && !model_name(v)) ? NULL : "a model's name";
}
/* A whole number from lo to hi: the bounds of the program it is handed to (loadgen's, the
 * servers'), or of what a run can hold, so that no count is taken that cannot be met. */
static bool within(const char *v, unsigned long long lo, unsigned long long hi)
{
    if (!is_whole(v))
        return false;
    unsigned long long n = strtoull(v, NULL, 10);
    return n >= lo && n <= hi;
}
static const char *conns(const char *v)
{
    return within(v, 1, 1000000) ? NULL : "a number of connections from 1 to 1000000 (loadgen -c)";
}
static const char *whole(const char *v)
{
    return is_whole(v) ? NULL : "a whole number";
}
/* The servers' own bound (--max-bytes' default), which the peers' file keeps too. */
static const char *payload(const char *v)
{
    return is_whole(v) && strtoull(v, NULL, 10) <= SRV_DEFAULT_MAX_BYTES
               ? NULL
               : "a whole number of bytes up to 1073741824 (the servers' --max-bytes)";
}
static const char *backlog(const char *v)
{
    return within(v, 1, 65535) ? NULL : "a backlog from 1 to 65535 (the servers' -b)";
}
static const char *pool_size(const char *v)
{
    return within(v, 1, 4096) ? NULL : "a pool size from 1 to 4096 (the servers' -w)";
}
static const char *lock(const char *v)
{
    return !strcmp(v, "none") || !strcmp(v, "mutex") || !strcmp(v, "fcntl")
               ? NULL
               : "none, mutex or fcntl";
}
static const char *accept_mode(const char *v)
{
    static const char *const ok[] = {"self", "main", "pass", "reuseport", "exclusive"};
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(v, ok[i]))
            return NULL;
    return "self, main, pass, reuseport or exclusive";
}
static const char *spare(const char *v)
{
    if (!strcmp(v, "-"))
        return NULL;
    unsigned a, b, c;
    char tail;
    if (strspn(v, "0123456789:") == strlen(v) && sscanf(v, "%u:%u:%u%c", &a, &b, &c, &tail) == 3 &&
        b > 0 && c > 0 && v[0] != ':')
        return NULL;
    return "- or MIN:MAX:MAXW, e.g. 2:8:64";
}
static const char *poller(const char *v)
{
    return !strcmp(v, "-") || !strcmp(v, "epoll") || !strcmp(v, "poll") || !strcmp(v, "select")
               ? NULL
               : "-, epoll, poll or select";
}
static const char *sieve(const char *v)
{
    return !strcmp(v, "fresh") || !strcmp(v, "reuse") ? NULL : "fresh or reuse";
}
static const char *idle(const char *v)
{
    return within(v, 0, 1000000)
               ? NULL
               : "a number of idle connections from 0 to 1000000 (loadgen --idle)";
}
static const char *think(const char *v)
{
    return is_duration(v) ? NULL : "a duration like 10ms, or 0";
}
static const char *pct(const char *v)
{
    return is_number(v) && strtod(v, NULL) > 0 ? NULL : "a percentage above 0";
}
static const char *cpus(const char *v)
{
    unsigned char m[128];
    return !strcmp(v, "auto") || cpu_list(v, m)
               ? NULL
               : "a CPU list as taskset takes it (0-3,8), - or auto";
}
static const char *peers(const char *v)
{
    return !*v || !strcmp(v, "-") || !strcmp(v, "nginx") ? NULL : "nginx, or - for none";
}
static const char *reps(const char *v)
{
    return within(v, 1, 1000) ? NULL : "a number of repetitions from 1 to 1000";
}
static const char *target_ci(const char *v)
{
    return is_number(v) && strtod(v, NULL) > 0 ? NULL : "a percentage above 0, like 5";
}
static const char *equivalence(const char *v)
{
    return is_number(v) && strtod(v, NULL) > 0 && strtod(v, NULL) < 100
               ? NULL
               : "a percentage above 0 and below 100, like 5";
}
static const char *budget(const char *v)
{
    return within(v, 0, 10000) ? NULL : "a percentage from 0 to 10000";
}
static const char *reruns(const char *v)
{
    return within(v, 0, 16) ? NULL : "from 0 to 16";
}
static const char *probe(const char *v)
{
    return is_duration(v) ? NULL : "a duration like 2s, or 0 for none";
}
static const char *duration(const char *v)
{
    return is_duration(v) ? NULL : "a duration like 2s or 500ms";
}
static const char *warmup(const char *v)
{
    return !*v || is_duration(v) ? NULL : "a duration like 0.5s, or 0";
}
static const char *requests(const char *v)
{
    return !*v || within(v, 1, 1ULL << 40) ? NULL : "from 1 to 1099511627776 (loadgen -n)";
}
static const char *keep(const char *v)
{
    return within(v, 0, 1ULL << 40) ? NULL
                                    : "requests per connection from 0 (all) to 1099511627776";
}
static const char *rate(const char *v)
{
    return !*v || (is_number(v) && strtod(v, NULL) > 0) ? NULL : "requests per second above 0";
}
static const char *mix(const char *v)
{
    if (!*v)
        return NULL;
    const char *p = v;
    for (;;) {
        size_t a = strspn(p, "0123456789");
        if (!a || p[a] != ':')
            break;
        p += a + 1;
        size_t b = strspn(p, "0123456789");
        if (!b || p[b] != ':')
            break;
        p += b + 1;
        size_t c = strspn(p, "0123456789");
        if (!c || *p == '0')
            break;
        p += c;
        if (!*p)
            return NULL;
        if (*p != ',')
            break;
        p++;
    }
    return "WORK:BYTES:WEIGHT[,...], e.g. 1000:100:9,30000000:100:1";
}
static const char *read_rate(const char *v)
{
    return !*v || within(v, 1, 1ULL << 40) ? NULL : "bytes per second from 1 to 1099511627776";
}
static const char *timeout(const char *v)
{
    return !*v || is_duration(v) ? NULL : "a duration like 30s";
}
static const char *netem(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".% _-", *p))
            return "a tc netem specification, e.g. \"delay 10ms loss 0.1%\"";
    return NULL;
}
static const char *seed(const char *v)
{
    return !*v || is_whole(v) ? NULL : "a whole number";
}
static const char *rcmd(const char *v)
{
    return !*v || !strcmp(v, "ssh") || !strcmp(v, "netns") ? NULL : "ssh or netns";
}
/* The plots bench/plot draws (their file names), for --key-plot. */
#define PLOTS                                                                                      \
    "throughput latency percentiles timeline heatmaps cpu cpu-split unserved served classes "      \
    "rate overflows waits"
static const char *key_plot(const char *v)
{
    size_t n = strlen(v);
    for (const char *p = PLOTS; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && !strncmp(p, v, n))
            return NULL;
        p += w + (p[w] == ' ');
    }
    return !*v ? NULL : "one of bench/plot's plots: " PLOTS;
}

#define L DIM_LIST
#define V DIM_VALUE
const struct dim dims[] = {
    {"MODELS", "--models", L, "all", "model", NULL, "model", "model", "\"M...\"", NULL,
     "servers to run: names of servers/models (the model registry), all of them (all), or those of "
     "a kind (kind=one, spawn, pool or event)",
     model_name, false, "%s", NULL, NULL, NULL, NULL},
    {"CONC", "--conc", L, "1 8 64", "conc", NULL, "concurrent clients", "clients", "\"N...\"", NULL,
     "concurrent connections of loadgen (-c), each 1 or more", conns, true, "-c%s", NULL, NULL,
     NULL, NULL},
    {"WORK", "--work", L, "250000", "work", NULL, "WORK", "WORK", "\"N...\"", NULL,
     "WORK per request (the sieve's limit)", whole, true, "-w%s", NULL, NULL, "-w", NULL},
    {"BYTES", "--bytes", L, "500000", "bytes", NULL, "BYTES", "BYTES", "\"N...\"", NULL,
     "BYTES of payload per request, at most 1073741824 (1 GiB, the servers' --max-bytes)", payload,
     true, "-b%s", NULL, NULL, "-b", NULL},
    {"BACKLOG", "--backlog", L, "511", "backlog", NULL, "listen backlog", "backlog", "\"N...\"",
     NULL, "the servers' listen backlog (-b)", backlog, true, "-bl%s", NULL, "-b", NULL, NULL},
    {"WORKERS", "--workers", L, "8", "workers", "w", "pool size (-w)", "-w", "\"N...\"", NULL,
     "pool sizes (-w), for the models whose registry line says w yes", pool_size, true, "-wk%s",
     "-", "-w", NULL, NULL},
    {"LOCKS", "--locks", L, "none", "lock", "locks", "accept lock", "lock", "\"L...\"",
     "none mutex fcntl",
     "accept locks for the pools: none, mutex, fcntl (each model runs those "
     "its registry line lists)",
     lock, false, "-%s", NULL, "--accept-lock", NULL, "none"},
    {"ACCEPTS", "--accepts", L, "self", "accept", "accept", "accept mode", "accept", "\"A...\"",
     "self main pass reuseport exclusive",
     "who accepts: self (every worker), main (prethread: the main thread queues descriptors), "
     "pass (prefork: the parent passes them), reuseport or exclusive (reuseport-srv's "
     "--balance); each model runs those it takes, at least its default; a lock only goes "
     "with self",
     accept_mode, false, "-%s", "self|reuseport", NULL, NULL, NULL},
    {"SPARE", "--spare", L, "-", "spare", "kind=pool", "pool sizing", "spare", "\"S...\"", NULL,
     "pool sizing for the pools: - (a fixed pool of -w) or MIN:MAX:MAXW (a dynamic pool "
     "starting at -w: --min-spare MIN --max-spare MAX --max-workers MAXW)",
     spare, false, "-sp%s", "-", NULL, NULL, NULL},
    {"POLLERS", "--pollers", L, "-", "poller", "pollers", "poller", "poller", "\"P...\"",
     "- epoll poll select",
     "the event loops' pollers: - (the model's default), epoll, poll, select; the other "
     "models run once",
     poller, false, "-%s", "-", "--poller", NULL, NULL},
    {"SIEVE", "--sieve", L, "fresh", "sieve", NULL, "sieve array (--sieve-alloc)", "sieve",
     "\"A...\"", "fresh reuse",
     "the servers' sieve arrays: fresh (a calloc per request) or reuse (one kept per worker)",
     sieve, false, "-%s", "fresh", "--sieve-alloc", NULL, "fresh"},
    {"IDLE", "--idle", L, "0", "idle", NULL, "idle connections held beside the measured ones",
     "idle", "\"N...\"", NULL, "silent connections held beside the measured ones (loadgen --idle)",
     idle, true, "-i%s", "0", NULL, NULL, NULL},
    {"THINK", "--think", L, "0", "think", NULL, "think time", "think", "\"DUR...\"", NULL,
     "a pause after the greeting and between kept requests (loadgen --think), 0 for none", think,
     false, "-th%s", "0", NULL, "--think", NULL},
    {"KEEP", "--keep", L, "1", "keep", NULL, "requests per connection (-k)", "-k", "\"N...\"", NULL,
     "requests per connection (loadgen -k; 0 keeps one for the whole cell)", keep, true, "-k%s",
     "1", NULL, "-k", NULL},
    {"RATE_PCT", "--rate-pct", L, "", "rate_pct", NULL, "% of capacity", "% of capacity",
     "\"PCT...\"", NULL,
     "open loop at these percentages of each configuration's capacity: a closed-loop "
     "calibration cell per repetition runs first (rate_pct null), then a cell per percentage "
     "at loadgen -R PCT% of the calibration cells' median",
     pct, true, "-R%spct", "-", NULL, NULL, NULL},
    {"SERVER_CPUS", "--server-cpus", L, "auto", "server.cpus", NULL, "server CPUs", "server CPUs",
     "\"LIST...\"", "auto -",
     "the CPUs the server runs on, as taskset takes them (0-3,8), - for no pinning; auto: with "
     "4 or more CPUs the first half, else no pinning",
     cpus, false, "-sc%s", "-", NULL, NULL, NULL},
    {"CLIENT_CPUS", "--client-cpus", L, "auto", "loadgen.cpus", NULL, "client CPUs", "client CPUs",
     "\"LIST...\"", "auto -",
     "the CPUs loadgen runs on (as --server-cpus); auto: with 4 or more CPUs the second half, "
     "else no pinning",
     cpus, false, "-cc%s", "-", NULL, NULL, NULL},
    {"PEERS", "--peers", V, "", NULL, NULL, NULL, NULL, "NAME", "nginx",
     "servers from outside the project beside the models: nginx, serving a file of BYTES bytes "
     "and driven by wrk, with one worker (nginx) and one per CPU (nginx-cpus); only WORK 0 "
     "compares, and where nginx or wrk is missing their cells are skipped with the reason",
     peers, false, NULL, NULL, NULL, NULL, NULL},
    {"REPS", "--reps", V, "3", NULL, NULL, NULL, NULL, "N", NULL,
     "repetitions of every configuration, at least", reps, false, NULL, NULL, NULL, NULL, NULL},
    {"TARGET_CI", "--target-ci", V, "5", NULL, NULL, NULL, NULL, "PCT", NULL,
     "the precision to reach for a model alone in its configuration: once every configuration "
     "has its --reps, one whose throughput is not known to within +-PCT% (the 95% interval of "
     "the median) gets further repetitions until it is or has --max-reps; what stays wider is "
     "flagged noisy, with a cause",
     target_ci, false, NULL, NULL, NULL, NULL, NULL},
    {"EQUIVALENCE", "--equivalence", V, "5", NULL, NULL, NULL, NULL, "PCT", NULL,
     "the verdicts compare the models of a configuration in pairs of cells run in one block: "
     "two whose paired throughput ratio lies within PCT% of 1 either way (its whole interval) "
     "are equivalent, one whose interval excludes 1 is faster or slower, any other undecided",
     equivalence, false, NULL, NULL, NULL, NULL, NULL},
    {"MAX_REPS", "--max-reps", V, "10", NULL, NULL, NULL, NULL, "N", NULL,
     "the most blocks in which two neighbours of a ranking are compared, and the most "
     "repetitions of a model alone in its configuration (equal to --reps: no further blocks)",
     reps, false, NULL, NULL, NULL, NULL, NULL},
    {"BUDGET", "--budget", V, "40", NULL, NULL, NULL, NULL, "PCT", NULL,
     "further blocks add at most PCT% to the cells of the first pass: one block at a time for "
     "each pair of neighbours not yet decided (the fewest blocks first), until it is decided or "
     "has --max-reps",
     budget, false, NULL, NULL, NULL, NULL, NULL},
    {"AA", "--aa", V, "no", NULL, NULL, NULL, NULL, "yes|no", "yes no",
     "yes: the baseline model runs twice in every block, the second time named MODEL~aa; the "
     "verdicts give its ratio to itself per configuration, which is what this machine resolves "
     "now (an A/A comparison)",
     yes_no, false, NULL, NULL, NULL, NULL, NULL},
    {"BASELINE", "--baseline", V, "", NULL, NULL, NULL, NULL, "MODEL", NULL,
     "the model --aa measures twice (default: the first of --models)", baseline, false, NULL, NULL,
     NULL, NULL, NULL},
    {"MAX_RERUNS", "--max-reruns", V, "2", NULL, NULL, NULL, NULL, "N", NULL,
     "a cell disturbed by something else on the machine (other processes busy for more than "
     "10% of a core, or hypervisor steal above 2%) is run again, at most N times; the last "
     "attempt is kept",
     reruns, false, NULL, NULL, NULL, NULL, NULL},
    {"PROBE", "--probe", V, "2s", NULL, NULL, NULL, NULL, "DUR", NULL,
     "before the first cell, time a fixed CPU probe (bin/probe) 5 times for DUR each (0 for "
     "none): the spread of its rate is the machine's noise floor",
     probe, false, NULL, NULL, NULL, NULL, NULL},
    {"DURATION", "--duration", V, "2s", NULL, NULL, NULL, NULL, "DUR", NULL,
     "measured time of a cell (loadgen -d)", duration, false, NULL, NULL, NULL, "-d", NULL},
    {"WARMUP", "--warmup", V, "0.5s", NULL, NULL, NULL, NULL, "DUR", NULL,
     "unmeasured time before it (0 for none)", warmup, false, NULL, NULL, NULL, "--warmup", NULL},
    {"REQUESTS", "--requests", V, "", NULL, NULL, NULL, NULL, "N", NULL,
     "N requests per cell (loadgen -n) instead of --duration", requests, false, NULL, NULL, NULL,
     NULL, NULL},
    {"RATE", "--rate", V, "", NULL, NULL, NULL, NULL, "RPS", NULL,
     "open loop at RPS requests per second (loadgen -R)", rate, false, NULL, NULL, NULL, NULL,
     NULL},
    {"MIX", "--mix", V, "", "mix", NULL, "request classes (--mix)", "mix", "W:B:N,...", NULL,
     "request classes instead of WORK and BYTES (loadgen --mix)", mix, false, NULL, NULL, NULL,
     "--mix", NULL},
    {"READ_RATE", "--read-rate", V, "", "read_rate", NULL, "read rate, bytes/s", "read B/s",
     "BYTES/s", NULL, "clients read replies at most this many bytes a second (loadgen --read-rate)",
     read_rate, true, NULL, NULL, NULL, "--read-rate", NULL},
    {"TIMEOUT", "--timeout", V, "", NULL, NULL, NULL, NULL, "DUR", NULL,
     "loadgen's request timeout (default its own, 30 s)", timeout, false, NULL, NULL, NULL,
     "--timeout", NULL},
    {"NETEM", "--netem", V, "", "netem", NULL, "netem", "netem", "SPEC", NULL,
     "run every cell in two private network namespaces (server and client, a veth link) with "
     "tc netem SPEC on both ends, e.g. \"delay 10ms loss 0.1%\"; needs root and the kernel's "
     "netem qdisc, else every cell is recorded as skipped with the reason",
     netem, false, NULL, NULL, NULL, NULL, NULL},
    {"SERVER_HOST", "--server-host", V, "", NULL, NULL, NULL, NULL, "HOST", NULL,
     "run the server on HOST and loadgen on --client-hosts, through pdsh (docs/hosts.md)", NULL,
     false, NULL, NULL, NULL, NULL, NULL},
    {"SERVER_ADDR", "--server-addr", V, "", NULL, NULL, NULL, NULL, "ADDR", NULL,
     "the address the clients connect to (default HOST)", NULL, false, NULL, NULL, NULL, NULL,
     NULL},
    {"CLIENT_HOSTS", "--client-hosts", V, "", NULL, NULL, NULL, NULL, "H1,H2,...", NULL,
     "the hosts loadgen runs on, each with its share of the connections (and of -R, -n and "
     "--idle), all starting at one time; their results are merged",
     NULL, false, NULL, NULL, NULL, NULL, NULL},
    {"RCMD", "--rcmd", V, "", NULL, NULL, NULL, NULL, "ssh|netns", "ssh netns",
     "ssh (default): pdsh -R ssh on real hosts; netns: pdsh -R exec in network namespaces of "
     "this machine (root)",
     rcmd, false, NULL, NULL, NULL, NULL, NULL},
    {"SEED", "--seed", V, "", NULL, NULL, NULL, NULL, "N", NULL,
     "the shuffle's seed (default: from the clock; recorded in run.json)", seed, false, NULL, NULL,
     NULL, NULL, NULL},
    {"PLOT_CONC", "--plot-conc", V, "", NULL, NULL, NULL, NULL, "N", NULL,
     "the concurrency of the percentile plot (default the largest)", requests, false, NULL, NULL,
     NULL, NULL, NULL},
    {"KEY_PLOT", "--key-plot", V, "throughput", NULL, NULL, NULL, NULL, "PLOT", PLOTS,
     "the plot the suite exists for, first on its page after the verdict", key_plot, false, NULL,
     NULL, NULL, NULL, NULL},
    {"TITLE", "--title", V, "", NULL, NULL, NULL, NULL, "TEXT", NULL, "the plots' title", NULL,
     false, NULL, NULL, NULL, NULL, NULL},
    {"OUT", "--out", DIM_RUN, "", NULL, NULL, NULL, NULL, "DIR", NULL,
     "where the run goes (default results/<suite>-<timestamp>, with -2, -3, ... after it when a "
     "run of the suite started in the same second)",
     NULL, false, NULL, NULL, NULL, NULL, NULL},
    {"NO_PLOTS", "--no-plots", DIM_FLAG, "", NULL, NULL, NULL, NULL, NULL, NULL,
     "leave out bench/plot and bench/report at the end", NULL, false, NULL, NULL, NULL, NULL, NULL},
    {"DRY_RUN", "--dry-run", DIM_FLAG, "", NULL, NULL, NULL, NULL, NULL, NULL,
     "print the cells (each configuration with its repetitions) and the estimated time of the "
     "suite, then exit 0 without starting a server or writing a file",
     NULL, false, NULL, NULL, NULL, NULL, NULL},
};
#undef L
#undef V
const size_t ndims = sizeof dims / sizeof *dims;

const struct dim *dim_by_option(const char *option)
{
    for (size_t i = 0; i < ndims; i++)
        if (!strcmp(dims[i].option, option))
            return &dims[i];
    return NULL;
}

int dim_index(const char *field)
{
    for (size_t i = 0; i < ndims; i++)
        if (!strcmp(dims[i].field, field))
            return (int)i;
    return -1;
}

const char *dim_record_key(const struct dim *d)
{
    static char keys[64][32];
    if (!d->json_key || !strchr(d->json_key, '.'))
        return d->json_key;
    size_t i = (size_t)(d - dims) % 64;
    snprintf(keys[i], sizeof keys[i], "%s", d->option + 2);
    for (char *p = keys[i]; *p; p++)
        if (*p == '-')
            *p = '_';
    return keys[i];
}

const struct dim *dim_by_field(const char *field)
{
    int i = dim_index(field);
    return i < 0 ? NULL : &dims[i];
}

static const char *kind_name(enum dim_kind k)
{
    return k == DIM_LIST ? "dimension" : k == DIM_VALUE ? "setting" : k == DIM_RUN ? "run" : "flag";
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

void dims_json(FILE *f)
{
    json_object *all = json_object_new_array();
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        json_object *o = json_object_new_object();
        jdoc_set(o, "option", str_or_null(d->option));
        jdoc_set(o, "make_variable", str_or_null(d->field));
        jdoc_set(o, "json_key", str_or_null(d->json_key));
        jdoc_set(o, "record_key", str_or_null(dim_record_key(d)));
        jdoc_set(o, "default",
                 d->kind == DIM_FLAG ? json_object_new_boolean(0) : str_or_null(d->def));
        jdoc_set(o, "kind", str_or_null(kind_name(d->kind)));
        char models[64];
        snprintf(models, sizeof models, "registry column %s", d->takes ? d->takes : "");
        jdoc_set(o, "models", json_object_new_string(d->takes ? models : "all"));
        jdoc_set(o, "label", str_or_null(d->label));
        jdoc_set(o, "export_column", str_or_null(d->column));
        jdoc_set(o, "values", str_or_null(d->values));
        jdoc_set(o, "server_option", str_or_null(d->srv));
        jdoc_set(o, "loadgen_option", str_or_null(d->lg));
        jdoc_set(o, "help", str_or_null(d->help));
        json_object_array_add(all, o);
    }
    fprintf(f, "%s\n",
            json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(all);
}

void dims_options(FILE *f)
{
    for (size_t i = 0; i < ndims; i++) {
        fputs(dims[i].option, f);
        if (dims[i].kind != DIM_FLAG)
            fprintf(f, "\t%s", dims[i].values ? dims[i].values : "");
        fputc('\n', f);
    }
}

/* text wrapped at width 96, every line indented by ind. */
static void wrap(FILE *f, const char *text, int ind, int first)
{
    int col = first;
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col > ind && col + 1 + (int)w > 96) {
            fprintf(f, "\n%*s", ind, "");
            col = ind;
        } else if (col > ind) {
            fputc(' ', f);
            col++;
        } else if (col < ind) {
            fprintf(f, "%*s", ind - col, "");
            col = ind;
        }
        fwrite(p, 1, w, f);
        col += (int)w;
        p += w;
        p += strspn(p, " ");
    }
    fputc('\n', f);
}

void dims_help(FILE *f)
{
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        char head[64];
        int n = snprintf(head, sizeof head, "  %s%s%s", d->option, d->metavar ? " " : "",
                         d->metavar ? d->metavar : "");
        fputs(head, f);
        char text[1024];
        if (d->kind == DIM_FLAG || d->kind == DIM_RUN || !*d->def)
            snprintf(text, sizeof text, "%s (make %s=)", d->help, d->field);
        else
            snprintf(text, sizeof text, "%s (default %s; make %s=)", d->help, d->def, d->field);
        if (n >= 24) {
            fputc('\n', f);
            n = 0;
        }
        wrap(f, text, 24, n);
    }
}

/* A man page's text: a backslash and a leading dot or quote made harmless. */
static void roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

void dims_man(FILE *f)
{
    fputs(".\\\" Made by bench/run --man from the table of dimensions (bench/src/dims.c).\n"
          ".TH BENCH\\-RUN 1 \"\" \"concurrency-bench\" \"concurrency-bench\"\n"
          ".SH NAME\nbench/run \\- run a benchmark suite of the server models\n"
          ".SH SYNOPSIS\n.B bench/run\n.I SUITE\n.RI [ options ]\n.br\n"
          ".B bench/run \\-\\-resume\n.I DIR\n.RB [ \\-\\-no\\-plots ]\n.br\n"
          ".B bench/run \\-\\-dimensions\n"
          ".SH DESCRIPTION\nRuns the matrix of a suite (bench/suites/SUITE): every model "
          "against every value of every dimension, each configuration repeated, in a shuffled "
          "order, and leaves one directory of JSON behind (docs/running-suites.md). "
          "Every option below overrides the suite's field of that name; make passes each as the "
          "variable named with it.\n.SH OPTIONS\n",
          f);
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        fputs(".TP\n.B ", f);
        roff(f, d->option);
        if (d->metavar) {
            fputs(" ", f);
            roff(f, d->metavar);
        }
        fputs("\n", f);
        roff(f, d->help);
        if (*d->def && d->kind != DIM_FLAG) {
            fputs(" (default ", f);
            roff(f, d->def);
            fputs(")", f);
        }
        fputs(". Make variable ", f);
        roff(f, d->field);
        fputs(".\n", f);
    }
    fputs(".SH EXIT STATUS\n0 every cell ran or was skipped; 3 a cell failed (the suite still "
          "goes to the end); 1 the run could not go on, or its plots or report could not be made; "
          "2 bad "
          "usage.\n",
          f);
}
