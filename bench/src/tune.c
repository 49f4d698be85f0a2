/* bench/tune: what to set a model's pool size (-w) and listen backlog (-b) to for a workload,
 * with the evidence. The measurements are bench/run suites (bench/suites/tune-*), run into
 * one directory, so that every figure behind a recommendation is a cell a user can open,
 * plot or compare:
 *
 *   preflight  the kernel's limits that cut what is asked for (somaxconn, the SYN queue,
 *              syncookies, tcp_abort_on_overflow, RLIMIT_NOFILE);
 *   pool       closed-loop throughput at a geometric sweep of -w, the Universal Scalability
 *              Law fitted to it (usl.c), Little's law as a check; the smallest -w within 5%
 *              of the best measured throughput is recommended;
 *   backlog    bursts of new connections (each client count given, up to the largest) at
 *              each backlog, the kernel's ListenOverflows counted around each burst; the
 *              smallest backlog with no overflow in any burst (and none at any larger one),
 *              doubled for headroom, is recommended;
 *   slo        with --slo p99=DUR: the highest open-loop rate (loadgen -R) whose corrected
 *              percentile stays under the target with the recommended settings, by bisection.
 *
 * `bench/tune --fit FILE` fits the law alone to lines "N throughput" or to a bench/run
 * directory's summary. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orch.h"
#include "proc.h"
#include "registry.h"
#include "usl.h"

#define MAXV 32

struct list {
    long v[MAXV];
    size_t n;
};

/* One -w of the pool sweep: medians over its repetitions. */
struct pool_point {
    long workers;
    double rps, lo, hi, p99_us, cpu_ms;
    int reps, failed;
};

/* One burst size at one backlog, over its bursts. */
struct burst_point {
    long backlog, clients;
    int bursts, failed, overflowed; /* failed: no result; overflowed: with an overflow */
    long long overflows, drops;     /* summed over the bursts */
    long long errors;               /* clients not served (a stalled handshake times out) */
    double queue_peak;              /* the longest accept queue sampled, -1: none */
    bool own_counts;                /* overflows are the listener's own drops */
    double connect_p99_us;          /* the worst burst's */
};

/* One open-loop rate of the latency target's search. */
struct slo_point {
    double rate, rps, pct_us;
    long long errors;
    bool ok, pass;
};

struct tune {
    char here[PATH_MAX], bin[PATH_MAX], out[PATH_MAX], json[PATH_MAX];
    const struct model *model;
    struct registry reg;
    /* the workload, passed to bench/run as given */
    const char *work, *bytes, *mix, *think, *keep, *duration;
    struct list clients, workers, backlogs;
    int reps, bursts, slo_steps;
    bool quick, plots, takes_w;
    char slo_pct[8]; /* p99 ... */
    double slo_us;   /* 0: no target */
    /* preflight */
    long somaxconn, syn_backlog, syncookies, abort_on_overflow;
    struct rlimit nofile;
    const char *warnings[32];
    size_t nwarn;
    /* results */
    struct pool_point pool[MAXV];
    size_t npool;
    bool fitted;
    struct usl usl;
    char fit_err[128];
    long rec_w;   /* -1: the model takes no -w */
    long noise_w; /* a smaller -w whose interval reaches the best's, or -1 */
    double rec_rps, rec_p99_us, service_ms, busy_workers;
    struct burst_point bp[MAXV * 4];
    size_t nbp;
    long smallest_clean, rec_b; /* -1: none clean */
    long queue_need;            /* the longest accept queue sampled where none overflowed */
    struct slo_point sp[32];
    size_t nsp;
    double capacity; /* the closed-loop throughput the search starts from */
    int best_sp;     /* the highest passing rate, or -1 */
};

static void warn(struct tune *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct tune *t, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    say("bench/tune: warning: %s\n", b);
    if (t->nwarn < sizeof t->warnings / sizeof *t->warnings)
        t->warnings[t->nwarn++] = intern(b);
}

/* ---- values from the command line ---- */

static bool whole(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

/* A list of whole numbers separated by spaces or commas, sorted, without repeats. */
static void parse_list(const char *opt, const char *s, long lo, long hi, struct list *l)
{
    l->n = 0;
    char buf[512], *save = NULL;
    bufprintf(buf, sizeof buf, "%s", s);
    for (char *w = strtok_r(buf, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
        long v;
        if (!whole(w, lo, hi, &v))
            bad("%s '%s': whole numbers from %ld to %ld", opt, w, lo, hi);
        if (l->n == MAXV)
            bad("%s: at most %d values", opt, MAXV);
        size_t i = l->n++;
        for (; i > 0 && l->v[i - 1] > v; i--)
            l->v[i] = l->v[i - 1];
        l->v[i] = v;
    }
    if (!l->n)
        bad("%s: no value", opt);
    size_t k = 1;
    for (size_t i = 1; i < l->n; i++)
        if (l->v[i] != l->v[k - 1])
            l->v[k++] = l->v[i];
    l->n = k;
}

/* A duration (500us, 10ms, 2s, 1.5s, 1m; a bare number is seconds) in microseconds. */
static bool parse_dur(const char *s, double *us)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || errno || !isfinite(x) || x < 0)
        return false;
    double mul = !strcmp(end, "us")             ? 1
                 : !strcmp(end, "ms")           ? 1e3
                 : !strcmp(end, "m")            ? 60e6
                 : (!strcmp(end, "s") || !*end) ? 1e6
                                                : -1;
    if (mul < 0)
        return false;
    *us = x * mul;
    return true;
}

static const char *need(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        bad("%s needs a value", argv[*i]);
    return argv[++*i];
}

/* ---- bench/run as the measuring instrument ---- */

static long sysctl_long(const char *path)
{
    char b[64];
    first_line(path, b, sizeof b);
    return *b ? atol(b) : -1;
}

/* Runs bench/run SUITE for the model into dir with the workload and extra options; its
 * progress goes to dir.log. 0 when it ran (a failed cell is recorded in it, exit 3), -1 with
 * the reason. */
static int bench(struct tune *t, const char *suite, const char *dir, const char *const *extra,
                 char *err, size_t errlen)
{
    const char *argv[96];
    size_t a = 0;
    argv[a++] = internf("%s/bin/bench-run", t->here);
    argv[a++] = suite;
    argv[a++] = "--models";
    argv[a++] = t->model->name;
    argv[a++] = "--out";
    argv[a++] = dir;
    argv[a++] = "--no-plots";
    if (t->mix) {
        argv[a++] = "--mix";
        argv[a++] = t->mix;
    } else {
        argv[a++] = "--work";
        argv[a++] = t->work;
        argv[a++] = "--bytes";
        argv[a++] = t->bytes;
    }
    argv[a++] = "--think";
    argv[a++] = t->think;
    for (size_t i = 0; extra[i] && a < 94; i++)
        argv[a++] = extra[i];
    argv[a] = NULL;
    const char *log = internf("%s.log", dir);
    struct spawn sp = {.argv = argv, .out = "/dev/null", .err = log};
    pid_t pid = proc_start(&sp, err, errlen);
    if (pid < 0)
        return -1;
    int st = 0;
    if (proc_wait(pid, -1, &st) != 0) {
        /* a signal: bench/run has it too (the terminal's process group) or is told now; what
         * it finished stays in its directory */
        proc_stop(pid, 10000, &st);
        say("bench/tune: interrupted; the runs so far are in %s\n", t->out);
        exit(130);
    }
    if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3))
        return 0;
    char last[512];
    last_line(log, last, sizeof last);
    bufprintf(err, errlen, "bench/run %s failed (%s): %s", suite, log, last);
    return -1;
}

/* Calls fn for each cell file of a run directory. */
static void each_cell(const char *dir, void (*fn)(json_object *cell, void *arg), void *arg)
{
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/cells", dir);
    DIR *d = opendir(path);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        json_object *v = NULL;
        if (read_json(internf("%s/%s", path, e->d_name), &v)) {
            fn(v, arg);
            json_object_put(v);
        }
    }
    closedir(d);
}

static double num(json_object *o, const char *path, double def)
{
    return jdoc_num(jdoc_path(o, path), def);
}

static long long errors_of(json_object *cell)
{
    json_object *e = jdoc_path(cell, "loadgen.errors");
    long long n = 0;
    if (json_object_is_type(e, json_type_object)) {
        json_object_object_foreach(e, k, v)
        {
            (void)k;
            n += (long long)jdoc_num(v, 0);
        }
    }
    return n;
}

/* ---- the steps ---- */

/* The recommended settings as bench/run options. */
static const char *rec_workers(const struct tune *t)
{
    return t->rec_w > 0 ? internf("%ld", t->rec_w) : "8";
}

static void preflight(struct tune *t)
{
    t->somaxconn = sysctl_long("/proc/sys/net/core/somaxconn");
    t->syn_backlog = sysctl_long("/proc/sys/net/ipv4/tcp_max_syn_backlog");
    t->syncookies = sysctl_long("/proc/sys/net/ipv4/tcp_syncookies");
    t->abort_on_overflow = sysctl_long("/proc/sys/net/ipv4/tcp_abort_on_overflow");
    if (getrlimit(RLIMIT_NOFILE, &t->nofile) < 0)
        t->nofile.rlim_cur = t->nofile.rlim_max = RLIM_INFINITY;
    long bmax = t->backlogs.v[t->backlogs.n - 1], cmax = t->clients.v[t->clients.n - 1];
    say("bench/tune: preflight: somaxconn %ld, tcp_max_syn_backlog %ld, tcp_syncookies %ld, "
        "tcp_abort_on_overflow %ld, open files %lld\n",
        t->somaxconn, t->syn_backlog, t->syncookies, t->abort_on_overflow,
        t->nofile.rlim_cur == RLIM_INFINITY ? -1LL : (long long)t->nofile.rlim_cur);
    if (t->somaxconn > 0 && bmax > t->somaxconn)
        warn(t,
             "backlog %ld is cut to net.core.somaxconn %ld: the backlogs above it measure the "
             "same queue (sysctl -w net.core.somaxconn=%ld to try them)",
             bmax, t->somaxconn, bmax);
    if (t->syn_backlog > 0 && cmax > t->syn_backlog && t->syncookies == 0)
        warn(t,
             "%ld clients may connect at once but tcp_max_syn_backlog is %ld and syncookies are "
             "off: SYNs beyond it are dropped before the accept queue",
             cmax, t->syn_backlog);
    if (t->abort_on_overflow == 1)
        warn(t, "tcp_abort_on_overflow is 1: a full accept queue resets connections (errors) "
                "instead of dropping the handshake (retransmissions)");
    /* the server holds a descriptor per connection; so does the client, in this process's
     * limit too */
    if (t->nofile.rlim_cur != RLIM_INFINITY && (rlim_t)cmax + 32 > t->nofile.rlim_cur)
        warn(t,
             "the open-file limit (%llu) is below the %ld connections asked for and the "
             "descriptors beside them: ulimit -n %ld",
             (unsigned long long)t->nofile.rlim_cur, cmax, cmax + 64);
}

static void pool_step(struct tune *t)
{
    const char *dir = internf("%s/pool", t->out);
    long c = t->clients.v[t->clients.n - 1];
    char wl[512] = "";
    for (size_t i = 0; i < t->workers.n; i++)
        bufprintf(wl + strlen(wl), sizeof wl - strlen(wl), "%s%ld", i ? " " : "", t->workers.v[i]);
    say("bench/tune: pool: -w %s, %ld clients, closed loop, %d repetitions of %s each%s\n", wl, c,
        t->reps, t->duration, t->quick ? "" : internf(" (up to %d for +-5%%)", 2 * t->reps));
    /* up to twice the repetitions where the throughput is not known to within 5% (bench/run's
     * adaptive precision), within half again the first pass's time; none further with
     * --quick */
    const char *reps = internf("%d", t->reps);
    const char *extra[] = {
        "--workers",   wl,          "--conc",     internf("%ld", c),
        "--keep",      t->keep,     "--backlog",  internf("%ld", t->backlogs.v[t->backlogs.n - 1]),
        "--reps",      reps,        "--max-reps", internf("%d", t->quick ? t->reps : 2 * t->reps),
        "--target-ci", "5",         "--budget",   "50",
        "--duration",  t->duration, NULL};
    char err[1024];
    if (bench(t, "tune-pool", dir, extra, err, sizeof err) < 0)
        die("%s", err);
    json_object *sum = NULL;
    if (!read_json(internf("%s/summary.json", dir), &sum))
        die("no summary in %s", dir);
    json_object *cf = jdoc_get(sum, "configs");
    for (size_t i = 0; i < jdoc_len(cf) && t->npool < MAXV; i++) {
        json_object *g = jdoc_at(cf, i);
        struct pool_point p = {
            .workers = (long)num(g, "workers", 0),
            .rps = num(g, "stats.rps.median", NAN),
            .p99_us = num(g, "stats.p99_us.median", NAN),
            .cpu_ms = num(g, "stats.cpu_ms_per_req.median", NAN),
            .reps = (int)num(g, "reps", 0),
            .failed = (int)num(g, "failed", 0),
        };
        json_object *ci = jdoc_path(g, "stats.rps.ci95");
        p.lo = jdoc_len(ci) == 2 ? jdoc_num(jdoc_at(ci, 0), NAN) : p.rps;
        p.hi = jdoc_len(ci) == 2 ? jdoc_num(jdoc_at(ci, 1), NAN) : p.rps;
        if (p.workers < 1)
            continue;
        size_t k = t->npool++;
        for (; k > 0 && t->pool[k - 1].workers > p.workers; k--)
            t->pool[k] = t->pool[k - 1];
        t->pool[k] = p;
    }
    json_object_put(sum);

    double N[MAXV], X[MAXV], best = 0;
    size_t n = 0;
    for (size_t i = 0; i < t->npool; i++)
        if (isfinite(t->pool[i].rps) && t->pool[i].rps > 0) {
            N[n] = (double)t->pool[i].workers;
            X[n++] = t->pool[i].rps;
            best = fmax(best, t->pool[i].rps);
        }
    if (!n)
        die("pool: no -w gave a throughput (see %s.log and %s/cells)", dir, dir);
    for (size_t i = 0; i < t->npool; i++)
        if (isfinite(t->pool[i].rps) && t->pool[i].rps >= 0.95 * best) {
            t->rec_w = t->pool[i].workers;
            t->rec_rps = t->pool[i].rps;
            t->rec_p99_us = t->pool[i].p99_us;
            break;
        }
    /* the smallest -w whose interval reaches the best one's: what this machine's noise
     * cannot tell from the recommendation */
    const struct pool_point *top = NULL;
    for (size_t i = 0; i < t->npool; i++)
        if (isfinite(t->pool[i].rps) && (!top || t->pool[i].rps > top->rps))
            top = &t->pool[i];
    t->noise_w = -1;
    for (size_t i = 0; i < t->npool && t->noise_w < 0; i++)
        if (t->pool[i].workers < t->rec_w && t->pool[i].reps > 1 && top->reps > 1 &&
            isfinite(t->pool[i].hi) && t->pool[i].hi >= top->lo)
            t->noise_w = t->pool[i].workers;
    t->fitted = usl_fit(N, X, n, &t->usl, t->fit_err, sizeof t->fit_err) == 0;
    if (!t->fitted)
        warn(t, "pool: the USL was not fitted: %s", t->fit_err);
    /* Little's law: the fewest workers saturated serve X(w) = w / S, so a request holds a
     * worker S = w / X(w); at the recommended throughput X * S workers are busy on average */
    const struct pool_point *lo = NULL;
    for (size_t i = 0; i < t->npool && !lo; i++)
        if (isfinite(t->pool[i].rps) && t->pool[i].rps > 0)
            lo = &t->pool[i];
    t->service_ms = 1000.0 * (double)lo->workers / lo->rps;
    t->busy_workers = t->rec_rps * t->service_ms / 1000.0;
}

static struct burst_point *burst_at(struct tune *t, long backlog, long clients)
{
    for (size_t i = 0; i < t->nbp; i++)
        if (t->bp[i].backlog == backlog && t->bp[i].clients == clients)
            return &t->bp[i];
    if (t->nbp == sizeof t->bp / sizeof *t->bp)
        return NULL;
    struct burst_point *p = &t->bp[t->nbp++];
    *p = (struct burst_point){.backlog = backlog, .clients = clients, .queue_peak = -1};
    return p;
}

static void burst_cell(json_object *cell, void *arg)
{
    struct tune *t = arg;
    struct burst_point *p =
        burst_at(t, (long)num(cell, "cell.backlog", 0), (long)num(cell, "cell.conc", 0));
    if (!p)
        return;
    json_object *st = jdoc_get(cell, "status");
    const char *status = jdoc_str(st) ? jdoc_str(st) : "";
    if (!strcmp(status, "skipped"))
        return;
    p->bursts++;
    if (strcmp(status, "ok")) {
        p->failed++; /* no server, no loadgen result: nothing measured */
        return;
    }
    /* the listener's own drops (sock_diag) where bench/run read them; else the machine's
     * ListenOverflows around the burst */
    json_object *own = jdoc_path(cell, "kernel.listener_drops");
    long long o = jdoc_is_num(own) ? (long long)jdoc_num(own, 0)
                                   : (long long)num(cell, "kernel.listen_overflows", 0);
    p->own_counts = p->own_counts || jdoc_is_num(own);
    p->queue_peak = fmax(p->queue_peak, num(cell, "kernel.accept_queue_peak", -1));
    p->overflows += o;
    p->drops += (long long)num(cell, "kernel.listen_drops", 0);
    p->overflowed += o > 0;
    p->errors += errors_of(cell);
    p->connect_p99_us = fmax(p->connect_p99_us, num(cell, "loadgen.latency_us.connect.p99", 0));
}

static int by_backlog(const void *a, const void *b)
{
    const struct burst_point *x = a, *y = b;
    return x->backlog != y->backlog ? (x->backlog > y->backlog) - (x->backlog < y->backlog)
                                    : (x->clients > y->clients) - (x->clients < y->clients);
}

static void backlog_step(struct tune *t)
{
    char bl[512] = "", cl[512] = "";
    for (size_t i = 0; i < t->backlogs.n; i++)
        bufprintf(bl + strlen(bl), sizeof bl - strlen(bl), "%s%ld", i ? " " : "", t->backlogs.v[i]);
    for (size_t i = 0; i < t->clients.n; i++)
        bufprintf(cl + strlen(cl), sizeof cl - strlen(cl), "%s%ld", i ? " " : "", t->clients.v[i]);
    say("bench/tune: backlog: -b %s, bursts of %s new connections at once, %d bursts each%s\n", bl,
        cl, t->bursts, t->rec_w > 0 ? internf(", -w %ld", t->rec_w) : "");
    const char *bursts = internf("%d", t->bursts);
    if (mkdir(internf("%s/backlog", t->out), 0755) < 0 && errno != EEXIST)
        die("cannot create %s/backlog: %s", t->out, strerror(errno));
    for (size_t c = 0; c < t->clients.n && !proc_interrupted; c++) {
        /* one request per client: every client connects at the start, the burst */
        const char *n = internf("%ld", t->clients.v[c]);
        const char *dir = internf("%s/backlog/c%s", t->out, n);
        const char *extra[] = {"--backlog",  bl,
                               "--conc",     n,
                               "--requests", n,
                               "--keep",     "1",
                               "--reps",     bursts,
                               "--max-reps", bursts,
                               "--workers",  rec_workers(t),
                               NULL};
        char err[1024];
        if (bench(t, "tune-backlog", dir, extra, err, sizeof err) < 0)
            die("%s", err);
        each_cell(dir, burst_cell, t);
    }
    qsort(t->bp, t->nbp, sizeof *t->bp, by_backlog);
    /* the smallest backlog from which on no burst overflowed or failed */
    t->smallest_clean = -1;
    for (size_t i = t->backlogs.n; i-- > 0;) {
        bool clean = true, seen = false;
        for (size_t k = 0; k < t->nbp; k++)
            if (t->bp[k].backlog == t->backlogs.v[i]) {
                seen = seen || t->bp[k].bursts > 0;
                clean = clean && t->bp[k].overflowed == 0 && t->bp[k].failed == 0 &&
                        t->bp[k].errors == 0;
            }
        if (!seen || !clean)
            break;
        t->smallest_clean = t->backlogs.v[i];
    }
    long bmax = t->backlogs.v[t->backlogs.n - 1];
    if (t->smallest_clean < 0) {
        t->rec_b = bmax;
        warn(t,
             "every backlog tried, up to %ld, overflowed in a burst (or the burst failed): "
             "the queue cannot hold the burst%s",
             bmax,
             t->somaxconn > 0 && bmax >= t->somaxconn ? " (somaxconn cuts it: raise it)" : "");
        return;
    }
    /* headroom: twice the longest accept queue a burst made where none overflowed (or,
     * where the queue was not sampled, twice the smallest backlog that held), a power of
     * two, and never below the smallest that held */
    double need = -1;
    for (size_t k = 0; k < t->nbp; k++)
        if (t->bp[k].backlog >= t->smallest_clean)
            need = fmax(need, t->bp[k].queue_peak);
    t->queue_need = (long)need;
    long h = 1;
    while (h < 2 * (need >= 1 ? (long)need : t->smallest_clean))
        h *= 2;
    if (h < t->smallest_clean)
        h = t->smallest_clean;
    if (t->somaxconn > 0 && h > t->somaxconn) {
        warn(t, "backlog %ld (the headroom asked for) is above somaxconn %ld", h, t->somaxconn);
        h = t->somaxconn > t->smallest_clean ? t->somaxconn : t->smallest_clean;
    }
    t->rec_b = h;
}

struct slo_read {
    struct slo_point *p;
    const char *key; /* loadgen.latency_us.total.p99 */
};

static void slo_cell(json_object *cell, void *arg)
{
    struct slo_read *r = arg;
    json_object *st = jdoc_get(cell, "status");
    r->p->ok = jdoc_str(st) && !strcmp(jdoc_str(st), "ok");
    r->p->rps = num(cell, "loadgen.totals.rps", 0);
    r->p->pct_us = num(cell, r->key, NAN);
    r->p->errors = errors_of(cell);
}

/* One open-loop probe at rate: whether the target held. */
static bool slo_probe(struct tune *t, double rate)
{
    if (t->nsp == sizeof t->sp / sizeof *t->sp)
        return false;
    struct slo_point *p = &t->sp[t->nsp];
    *p = (struct slo_point){.rate = rate, .pct_us = NAN};
    const char *dir = internf("%s/slo/rate-%.0f", t->out, rate);
    const char *extra[] = {"--rate",     internf("%.3f", rate),
                           "--conc",     internf("%ld", t->clients.v[t->clients.n - 1]),
                           "--keep",     t->keep,
                           "--workers",  rec_workers(t),
                           "--backlog",  internf("%ld", t->rec_b),
                           "--duration", t->duration,
                           NULL};
    char err[1024];
    if (bench(t, "tune-slo", dir, extra, err, sizeof err) < 0)
        die("%s", err);
    struct slo_read r = {p, internf("loadgen.latency_us.total.%s", t->slo_pct)};
    each_cell(dir, slo_cell, &r);
    t->nsp++;
    p->pass = p->ok && p->errors == 0 && isfinite(p->pct_us) && p->pct_us <= t->slo_us;
    say("bench/tune: slo: -R %.0f: %.0f req/s, %s %.2f ms: %s\n", rate, p->rps, t->slo_pct,
        p->pct_us / 1000, p->pass ? "within the target" : "over it");
    return p->pass;
}

static void slo_step(struct tune *t)
{
    say("bench/tune: slo: the highest rate with %s under %.3g ms, -w %s -b %ld, %ld "
        "connections, open loop\n",
        t->slo_pct, t->slo_us / 1000, t->rec_w > 0 ? rec_workers(t) : "-", t->rec_b,
        t->clients.v[t->clients.n - 1]);
    t->capacity = t->rec_rps;
    if (mkdir(internf("%s/slo", t->out), 0755) < 0 && errno != EEXIST)
        die("cannot create %s/slo: %s", t->out, strerror(errno));
    if (t->rec_w < 0) {
        /* no pool step: the closed loop's throughput with these settings first */
        const char *dir = internf("%s/slo/closed", t->out);
        const char *extra[] = {"--conc",     internf("%ld", t->clients.v[t->clients.n - 1]),
                               "--keep",     t->keep,
                               "--backlog",  internf("%ld", t->rec_b),
                               "--duration", t->duration,
                               NULL};
        char err[1024];
        if (bench(t, "tune-slo", dir, extra, err, sizeof err) < 0)
            die("%s", err);
        struct slo_point closed = {0};
        struct slo_read r = {&closed, "loadgen.latency_us.total.p99"};
        each_cell(dir, slo_cell, &r);
        t->capacity = closed.rps;
        t->rec_rps = closed.rps;
        t->rec_p99_us = closed.pct_us;
    }
    t->best_sp = -1;
    if (!(t->capacity > 0)) {
        warn(t, "slo: no closed-loop throughput to start the search from");
        return;
    }
    /* bisection over -R between 0 (the target holds) and 1.2 x the closed loop's throughput
     * (beyond what the server can serve: it does not) */
    double lo = 0, hi = 1.2 * t->capacity;
    for (int s = 0; s < t->slo_steps && hi - lo > 0.02 * t->capacity && !proc_interrupted; s++) {
        double mid = (lo + hi) / 2;
        if (slo_probe(t, mid)) {
            lo = mid;
            t->best_sp = (int)t->nsp - 1;
        } else
            hi = mid;
    }
    if (t->best_sp < 0)
        warn(t, "slo: %s stayed above %.3g ms at every rate tried, down to %.0f req/s", t->slo_pct,
             t->slo_us / 1000, hi);
}

/* ---- the record ---- */

/* A number, or null when it is not finite (NAN: not measured). */
static json_object *jnum(double v)
{
    return jdoc_number(v);
}

/* A count, or null when it is below min (not measured, none). */
static json_object *jcount(long long v, long long min)
{
    return v >= min ? json_object_new_int64(v) : NULL;
}

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *usl_json(const struct usl *u)
{
    json_object *o = json_object_new_object();
    jdoc_set(o, "lambda", jnum(u->lambda));
    jdoc_set(o, "sigma", jnum(u->sigma));
    jdoc_set(o, "kappa", jnum(u->kappa));
    jdoc_set(o, "peak_n", jnum(u->has_peak ? u->peak_n : NAN));
    jdoc_set(o, "rmse", jnum(u->rmse));
    return o;
}

static json_object *list_json(const struct list *l)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < l->n; i++)
        json_object_array_add(a, json_object_new_int64(l->v[i]));
    return a;
}

/* n with a comma between thousands: 4,210. */
static const char *thousands(double v)
{
    char d[32], b[48];
    bufprintf(d, sizeof d, "%.0f", v);
    size_t n = strlen(d), k = 0, lead = d[0] == '-';
    for (size_t i = 0; i < n; i++) {
        if (i > lead && (n - i) % 3 == 0)
            b[k++] = ',';
        b[k++] = d[i];
    }
    b[k] = 0;
    return intern(b);
}

/* The line a user pastes: the server with the recommended settings, and why. */
static const char *server_line(const struct tune *t)
{
    char b[768];
    bufprintf(b, sizeof b, "bin/%s-srv", t->model->name);
    if (t->rec_w > 0)
        bufprintf(b + strlen(b), sizeof b - strlen(b), " -w %ld", t->rec_w);
    bufprintf(b + strlen(b), sizeof b - strlen(b), " -b %ld", t->rec_b);
    size_t pad = strlen(b) < 30 ? 30 - strlen(b) : 1;
    bufprintf(b + strlen(b), sizeof b - strlen(b), "%*s#", (int)pad, "");
    if (t->rec_rps > 0)
        bufprintf(b + strlen(b), sizeof b - strlen(b), " %s req/s, p99 %.3g ms;",
                  thousands(t->rec_rps), t->rec_p99_us / 1000);
    if (t->fitted) {
        bufprintf(b + strlen(b), sizeof b - strlen(b), " USL σ=%.2g κ=%.2g", t->usl.sigma,
                  t->usl.kappa);
        bufprintf(b + strlen(b), sizeof b - strlen(b), "%s;",
                  t->usl.has_peak ? internf(" N*=%.0f", t->usl.peak_n) : " (no peak)");
    }
    if (t->smallest_clean > 0)
        bufprintf(b + strlen(b), sizeof b - strlen(b), " bursts of %ld: no overflow from -b %ld%s",
                  t->clients.v[t->clients.n - 1], t->smallest_clean,
                  t->queue_need >= 0 ? internf(", queue up to %ld", t->queue_need) : "");
    else
        bufprintf(b + strlen(b), sizeof b - strlen(b), " bursts of %ld overflowed every backlog",
                  t->clients.v[t->clients.n - 1]);
    return intern(b);
}

/* With a latency target met: the rate to drive it at. */
static const char *slo_line(const struct tune *t)
{
    const struct slo_point *p = &t->sp[t->best_sp];
    char b[512];
    bufprintf(b, sizeof b, "bin/loadgen -c %ld -k %s -R %.0f", t->clients.v[t->clients.n - 1],
              t->keep, p->rate);
    size_t pad = strlen(b) < 30 ? 30 - strlen(b) : 1;
    bufprintf(b + strlen(b), sizeof b - strlen(b), "%*s# %s %.3g ms <= %.3g ms at %s req/s",
              (int)pad, "", t->slo_pct, p->pct_us / 1000, t->slo_us / 1000, thousands(p->rps));
    return intern(b);
}

static void write_record(const struct tune *t)
{
    json_object *doc = json_object_new_object();
    if (!doc)
        die("out of memory");
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    jdoc_set(doc, "model", jstr(t->model->name));
    jdoc_set(doc, "quick", json_object_new_boolean(t->quick));
    json_object *w = json_object_new_object();
    jdoc_set(w, "work", t->mix ? NULL : jstr(t->work));
    jdoc_set(w, "bytes", t->mix ? NULL : jstr(t->bytes));
    jdoc_set(w, "mix", jstr(t->mix));
    jdoc_set(w, "think", jstr(t->think));
    jdoc_set(w, "keep", jstr(t->keep));
    jdoc_set(w, "clients", list_json(&t->clients));
    jdoc_set(w, "duration", jstr(t->duration));
    jdoc_set(w, "reps", json_object_new_int(t->reps));
    jdoc_set(doc, "workload", w);
    json_object *pf = json_object_new_object();
    jdoc_set(pf, "somaxconn", json_object_new_int64(t->somaxconn));
    jdoc_set(pf, "tcp_max_syn_backlog", json_object_new_int64(t->syn_backlog));
    jdoc_set(pf, "tcp_syncookies", json_object_new_int64(t->syncookies));
    jdoc_set(pf, "tcp_abort_on_overflow", json_object_new_int64(t->abort_on_overflow));
    jdoc_set(pf, "nofile",
             t->nofile.rlim_cur == RLIM_INFINITY ? NULL
                                                 : json_object_new_uint64(t->nofile.rlim_cur));
    jdoc_set(doc, "preflight", pf);
    json_object *warn = json_object_new_array();
    for (size_t i = 0; i < t->nwarn; i++)
        json_object_array_add(warn, jstr(t->warnings[i]));
    jdoc_set(doc, "warnings", warn);
    json_object *rec = json_object_new_object();
    jdoc_set(rec, "workers", jcount(t->rec_w, 1));
    jdoc_set(rec, "backlog", json_object_new_int64(t->rec_b));
    jdoc_set(rec, "rps", jnum(t->rec_rps));
    jdoc_set(rec, "p99_us", jnum(t->rec_p99_us));
    jdoc_set(rec, "command", jstr(server_line(t)));
    jdoc_set(rec, "within_noise_workers", jcount(t->noise_w, 1));
    jdoc_set(rec, "queue_peak", jcount(t->queue_need, 0));
    jdoc_set(doc, "recommended", rec);
    jdoc_set(doc, "usl", t->fitted ? usl_json(&t->usl) : NULL);
    json_object *ms = json_object_new_array();
    for (size_t i = 0; i < t->npool; i++) {
        const struct pool_point *p = &t->pool[i];
        json_object *o = json_object_new_object(), *ci = json_object_new_array_ext(2);
        jdoc_set(o, "workers", json_object_new_int64(p->workers));
        jdoc_set(o, "rps", jnum(p->rps));
        json_object_array_add(ci, jnum(p->lo));
        json_object_array_add(ci, jnum(p->hi));
        jdoc_set(o, "rps_ci", ci);
        jdoc_set(o, "p99_us", jnum(p->p99_us));
        jdoc_set(o, "cpu_ms_per_req", jnum(p->cpu_ms));
        jdoc_set(o, "usl_rps", jnum(t->fitted ? usl_x(&t->usl, (double)p->workers) : NAN));
        jdoc_set(o, "residual",
                 jnum(t->fitted ? p->rps - usl_x(&t->usl, (double)p->workers) : NAN));
        jdoc_set(o, "reps", json_object_new_int(p->reps));
        jdoc_set(o, "failed", json_object_new_int(p->failed));
        json_object_array_add(ms, o);
    }
    jdoc_set(doc, "measurements", ms);
    json_object *little = NULL;
    if (t->npool) {
        little = json_object_new_object();
        jdoc_set(little, "service_ms", jnum(t->service_ms));
        jdoc_set(little, "busy_workers", jnum(t->busy_workers));
    }
    jdoc_set(doc, "little", little);
    json_object *bl = json_object_new_object(), *bms = json_object_new_array();
    jdoc_set(bl, "smallest_clean", jcount(t->smallest_clean, 1));
    jdoc_set(bl, "bursts", json_object_new_int(t->bursts));
    for (size_t i = 0; i < t->nbp; i++) {
        const struct burst_point *p = &t->bp[i];
        json_object *o = json_object_new_object();
        jdoc_set(o, "backlog", json_object_new_int64(p->backlog));
        jdoc_set(o, "clients", json_object_new_int64(p->clients));
        jdoc_set(o, "bursts", json_object_new_int(p->bursts));
        jdoc_set(o, "overflowed", json_object_new_int(p->overflowed));
        jdoc_set(o, "overflows", json_object_new_int64(p->overflows));
        jdoc_set(o, "drops", json_object_new_int64(p->drops));
        jdoc_set(o, "errors", json_object_new_int64(p->errors));
        jdoc_set(o, "failed", json_object_new_int(p->failed));
        jdoc_set(o, "counted_by", jstr(p->own_counts ? "listener" : "machine"));
        jdoc_set(o, "accept_queue_peak", jnum(p->queue_peak >= 0 ? p->queue_peak : NAN));
        jdoc_set(o, "connect_p99_us", jnum(p->connect_p99_us));
        json_object_array_add(bms, o);
    }
    jdoc_set(bl, "measurements", bms);
    jdoc_set(doc, "backlog", bl);
    json_object *slo = NULL;
    if (t->slo_us > 0) {
        slo = json_object_new_object();
        jdoc_set(slo, "percentile", jstr(t->slo_pct));
        jdoc_set(slo, "target_us", jnum(t->slo_us));
        jdoc_set(slo, "capacity_rps", jnum(t->capacity));
        jdoc_set(slo, "met", json_object_new_boolean(t->best_sp >= 0));
        jdoc_set(slo, "rate", jnum(t->best_sp >= 0 ? t->sp[t->best_sp].rate : NAN));
        jdoc_set(slo, "latency_us", jnum(t->best_sp >= 0 ? t->sp[t->best_sp].pct_us : NAN));
        json_object *search = json_object_new_array();
        for (size_t i = 0; i < t->nsp; i++) {
            const struct slo_point *p = &t->sp[i];
            json_object *o = json_object_new_object();
            jdoc_set(o, "rate", jnum(p->rate));
            jdoc_set(o, "rps", jnum(p->rps));
            jdoc_set(o, "latency_us", jnum(p->pct_us));
            jdoc_set(o, "errors", json_object_new_int64(p->errors));
            jdoc_set(o, "pass", json_object_new_boolean(p->pass));
            json_object_array_add(search, o);
        }
        jdoc_set(slo, "search", search);
    }
    jdoc_set(doc, "slo", slo);
    json_object *runs = json_object_new_object();
    jdoc_set(runs, "pool", t->npool ? jstr(internf("%s/pool", t->out)) : NULL);
    jdoc_set(runs, "backlog", jstr(internf("%s/backlog", t->out)));
    jdoc_set(runs, "slo", t->slo_us > 0 ? jstr(internf("%s/slo", t->out)) : NULL);
    jdoc_set(doc, "runs", runs);
    char *text = NULL;
    if (asprintf(&text, "%s\n", jdoc_text(doc)) < 0)
        die("out of memory");
    size_t len = strlen(text);
    json_object_put(doc);
    if (!write_whole(t->json, text, len))
        die("could not write %s", t->json);
    free(text);
}

/* ---- the plots (plots/tune-*.gp; every string handed to gnuplot quoted as data) ---- */

/* s as a gnuplot single-quoted string (a quote doubled; nothing else is special in one); NULL
 * for a string with a control character, which no quoting carries. */
static const char *gpq(const char *s)
{
    char b[PATH_MAX * 2 + 3];
    size_t k = 0;
    b[k++] = '\'';
    for (; *s && k < sizeof b - 3; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return NULL;
        if (*s == '\'')
            b[k++] = '\'';
        b[k++] = *s;
    }
    b[k++] = '\'';
    b[k] = 0;
    return intern(b);
}

static bool gnuplot(const struct tune *t, const char *script, const char *name, const char *vars)
{
    const char *dir = internf("%s/plots", t->out), *data = gpq(internf("%s/data", dir));
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        const char *fmt = i ? "svg" : "png";
        const char *e =
            internf("plotdir=%s; datadir=%s; out=%s; fmt='%s'; ttl=%s; %s",
                    gpq(internf("%s/plots", t->here)), data, gpq(internf("%s/%s", dir, name)), fmt,
                    gpq(internf("bench/tune %s", t->model->name)), vars);
        const char *argv[] = {"gnuplot", "-e", e, internf("%s/plots/%s", t->here, script), NULL};
        const char *log = internf("%s/data/gnuplot.err", dir);
        struct spawn sp = {.argv = argv, .err = log};
        char err[256];
        pid_t pid = proc_start(&sp, err, sizeof err);
        int st = 0;
        ok = pid > 0 && proc_wait(pid, 60000, &st) == 0 && WIFEXITED(st) && !WEXITSTATUS(st);
        if (pid > 0 && !ok)
            proc_stop(pid, 1000, &st);
        if (!ok)
            say("bench/tune: gnuplot failed on %s.%s (%s)\n", name, fmt, log);
    }
    return ok;
}

static FILE *data_file(const struct tune *t, const char *name)
{
    FILE *f = fopen(internf("%s/plots/data/%s", t->out, name), "w");
    if (!f)
        die("cannot write %s/plots/data/%s: %s", t->out, name, strerror(errno));
    return f;
}

static bool draw(const struct tune *t)
{
    const char *dir = internf("%s/plots", t->out);
    mkdir(dir, 0755);
    mkdir(internf("%s/data", dir), 0755);
    if (!gpq(t->out) || !gpq(t->here)) {
        say("bench/tune: no plots: a path holds a control character\n");
        return false;
    }
    bool ok = true;
    if (t->npool) {
        FILE *f = data_file(t, "pool.tsv");
        for (size_t i = 0; i < t->npool; i++) {
            const struct pool_point *p = &t->pool[i];
            if (isfinite(p->rps))
                fprintf(f, "%ld\t%.3f\t%.3f\t%.3f\t%.3f\n", p->workers, p->rps, p->lo, p->hi,
                        p->p99_us / 1000);
        }
        fclose(f);
        ok &= gnuplot(t, "tune-pool.gp", "pool",
                      internf("fitted=%d; lambda=%.9g; sigma=%.9g; kappa=%.9g; peak=%.9g; "
                              "recw=%ld; wmax=%ld",
                              t->fitted, t->usl.lambda, t->usl.sigma, t->usl.kappa,
                              t->usl.has_peak ? t->usl.peak_n : 0.0, t->rec_w,
                              t->pool[t->npool - 1].workers));
    }
    if (t->nbp) {
        char series[512] = "";
        for (size_t c = 0; c < t->clients.n; c++) {
            FILE *f = data_file(t, internf("backlog-%ld.tsv", t->clients.v[c]));
            for (size_t i = 0; i < t->nbp; i++) {
                const struct burst_point *p = &t->bp[i];
                if (p->clients == t->clients.v[c] && p->bursts > p->failed)
                    fprintf(f, "%ld\t%.3f\t%.3f\n", p->backlog,
                            (double)p->overflows / (p->bursts - p->failed),
                            p->connect_p99_us / 1000);
            }
            fclose(f);
            bufprintf(series + strlen(series), sizeof series - strlen(series), "%s%ld",
                      c ? " " : "", t->clients.v[c]);
        }
        ok &= gnuplot(
            t, "tune-backlog.gp", "backlog",
            internf("series='%s'; recb=%ld; somaxconn=%ld", series, t->rec_b, t->somaxconn));
    }
    if (t->nsp) {
        FILE *f = data_file(t, "slo.tsv");
        for (size_t i = 0; i < t->nsp; i++) /* by rate */
            for (size_t k = 0; k < t->nsp; k++) {
                size_t below = 0;
                for (size_t j = 0; j < t->nsp; j++)
                    below += t->sp[j].rate < t->sp[k].rate;
                if (below == i && isfinite(t->sp[k].pct_us))
                    fprintf(f, "%.3f\t%.3f\t%.3f\t%d\n", t->sp[k].rate, t->sp[k].rps,
                            t->sp[k].pct_us / 1000, t->sp[k].pass);
            }
        fclose(f);
        ok &= gnuplot(t, "tune-slo.gp", "slo",
                      internf("target=%.6g; pct='%s'", t->slo_us / 1000, t->slo_pct));
    }
    return ok;
}

/* ---- bench/tune --fit ---- */

struct series {
    char label[512];
    double N[MAXV], X[MAXV];
    size_t n;
};

/* Members of a summary configuration that are not dimensions. */
static bool not_dimension(const char *k)
{
    static const char *const skip[] = {"workers",     "reps",          "failed",      "skipped",
                                       "reruns",      "disturbed",     "median_rep",  "noisy",
                                       "noise_cause", "target_ci_pct", "errors_seen", NULL};
    for (size_t i = 0; skip[i]; i++)
        if (!strcmp(k, skip[i]))
            return true;
    return false;
}

static const char *scalar_text(json_object *v)
{
    if (!v)
        return "-"; /* null */
    if (json_object_is_type(v, json_type_string) || jdoc_is_num(v))
        return json_object_get_string(v);
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? "true" : "false";
    return NULL;
}

/* Whether the lines of text (each ending in a newline) hold line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1)
        if (!strncmp(p, line, n) && p[n] == '\n')
            return true;
    return false;
}

/* The series of a bench/run directory: its configurations with a -w, grouped by every other
 * dimension; labelled by the dimensions that differ between them. */
static size_t dir_series(const char *dir, struct series *s, size_t max)
{
    json_object *sum = NULL;
    if (!read_json(internf("%s/summary.json", dir), &sum))
        bad("--fit %s: no summary.json in it (bench/summarize %s makes one)", dir, dir);
    json_object *cf = jdoc_get(sum, "configs");
    size_t n = 0;
    const char *keys[MAXV * 4];
    size_t ng = 0, cfn = jdoc_len(cf);
    /* the group of each configuration: its dimensions but -w, as text */
    for (size_t i = 0; i < cfn; i++) {
        json_object *g = jdoc_at(cf, i);
        double w = num(g, "workers", 0), x = num(g, "stats.rps.median", NAN);
        if (w < 1 || !(x > 0) || !json_object_is_type(g, json_type_object))
            continue;
        char key[1024] = "";
        json_object_object_foreach(g, k, v)
        {
            const char *t = scalar_text(v);
            if (t && !not_dimension(k))
                bufprintf(key + strlen(key), sizeof key - strlen(key), "%s=%s\n", k, t);
        }
        size_t j = 0;
        while (j < ng && strcmp(keys[j], key))
            j++;
        if (j == ng) {
            if (ng == max || ng == sizeof keys / sizeof *keys)
                continue;
            keys[ng] = intern(key);
            s[ng++] = (struct series){0};
        }
        if (s[j].n < MAXV) {
            s[j].N[s[j].n] = w;
            s[j].X[s[j].n++] = x;
        }
    }
    /* labels: the model, and the dimensions whose value differs between groups */
    for (size_t j = 0; j < ng; j++) {
        char copy[1024], *save = NULL;
        bufprintf(copy, sizeof copy, "%s", keys[j]);
        for (char *kv = strtok_r(copy, "\n", &save); kv; kv = strtok_r(NULL, "\n", &save)) {
            bool differs = false;
            for (size_t o = 0; o < ng && !differs; o++)
                differs = !has_line(keys[o], kv);
            if (differs || !strncmp(kv, "model=", 6))
                bufprintf(s[j].label + strlen(s[j].label), sizeof s[j].label - strlen(s[j].label),
                          "%s%s", s[j].label[0] ? " " : "", kv);
        }
    }
    n = ng;
    json_object_put(sum);
    return n;
}

static void file_series(const char *path, struct series *s)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bad("--fit %s: %s", path, strerror(errno));
    *s = (struct series){0};
    char *line = NULL;
    size_t cap = 0;
    long len;
    for (int no = 1; (len = read_text_line(f, &line, &cap)) != -1; no++) {
        if (len == -2) {
            fclose(f);
            bad("--fit %s:%d: a NUL byte in the line (not a text file?)", path, no);
        }
        char *p = line + strspn(line, " \t");
        if (*p == '#' || !*p)
            continue;
        double n, x;
        char extra;
        if (sscanf(p, "%lf %lf %c", &n, &x, &extra) != 2 || !isfinite(n) || !isfinite(x) || n < 1 ||
            x <= 0) {
            fclose(f);
            bad("--fit %s:%d: not 'N throughput' with N >= 1 and throughput above 0: %.80s", path,
                no, p);
        }
        if (s->n == MAXV) {
            fclose(f);
            bad("--fit %s: at most %d points", path, MAXV);
        }
        s->N[s->n] = n;
        s->X[s->n++] = x;
    }
    free(line);
    fclose(f);
}

/* The points of a series with the fitted throughput at each (null when not fitted). */
static json_object *points_json(const struct series *s, const struct usl *u)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < s->n; i++) {
        json_object *o = json_object_new_object();
        jdoc_set(o, "workers", jnum(s->N[i]));
        jdoc_set(o, "rps", jnum(s->X[i]));
        jdoc_set(o, "usl_rps", jnum(u ? usl_x(u, s->N[i]) : NAN));
        json_object_array_add(a, o);
    }
    return a;
}

static int fit_main(const char *path, const char *json_out)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        bad("--fit %s: %s", path, strerror(errno));
    static struct series s[MAXV];
    size_t ns = 1;
    if (S_ISDIR(sb.st_mode)) {
        ns = dir_series(path, s, MAXV);
        if (!ns)
            bad("--fit %s: no configuration with a pool size (-w) and a throughput", path);
    } else
        file_series(path, &s[0]);
    json_object *doc = json_object_new_object(), *series = json_object_new_array();
    if (!doc || !series)
        die("out of memory");
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    jdoc_set(doc, "source", jstr(path));
    int fitted = 0;
    for (size_t j = 0; j < ns; j++) {
        struct usl u;
        char err[128];
        bool ok = usl_fit(s[j].N, s[j].X, s[j].n, &u, err, sizeof err) == 0;
        if (ns > 1 || s[j].label[0])
            printf("%s%s\n", j ? "\n" : "", s[j].label);
        if (!ok)
            printf("  not fitted: %s\n", err);
        else {
            fitted++;
            double mean = 0;
            for (size_t i = 0; i < s[j].n; i++)
                mean += s[j].X[i] / (double)s[j].n;
            printf("  USL over %zu points: lambda %.4g per unit of N, sigma %.4g, kappa %.4g\n",
                   s[j].n, u.lambda, u.sigma, u.kappa);
            if (u.has_peak)
                printf("  N* = %.1f: the throughput peaks there (%.4g) and falls beyond\n",
                       u.peak_n, usl_x(&u, u.peak_n));
            else
                printf("  no peak (kappa 0): the throughput levels off towards %s\n",
                       u.sigma > 0 ? internf("%.4g (lambda / sigma)", u.lambda / u.sigma)
                                   : "no limit (linear)");
            printf("  residuals: rmse %.4g (%.1f%% of the mean throughput)\n", u.rmse,
                   mean > 0 ? 100 * u.rmse / mean : 0);
            printf("  %8s %12s %12s %10s\n", "N", "measured", "fitted", "residual");
            for (size_t i = 0; i < s[j].n; i++)
                printf("  %8g %12.4g %12.4g %+10.3g\n", s[j].N[i], s[j].X[i], usl_x(&u, s[j].N[i]),
                       s[j].X[i] - usl_x(&u, s[j].N[i]));
        }
        if (j == 0 && ns == 1) {
            /* one series: its fit and points at the top, as tune.json has them */
            jdoc_set(doc, "usl", ok ? usl_json(&u) : NULL);
            jdoc_set(doc, "measurements", points_json(&s[j], ok ? &u : NULL));
        }
        json_object *o = json_object_new_object();
        jdoc_set(o, "label", s[j].label[0] ? jstr(s[j].label) : NULL);
        jdoc_set(o, "usl", ok ? usl_json(&u) : NULL);
        jdoc_set(o, "error", ok ? NULL : jstr(err));
        jdoc_set(o, "measurements", points_json(&s[j], ok ? &u : NULL));
        json_object_array_add(series, o);
    }
    jdoc_set(doc, "series", series);
    char *text = NULL;
    if (asprintf(&text, "%s\n", jdoc_text(doc)) < 0)
        die("out of memory");
    size_t len = strlen(text);
    json_object_put(doc);
    if (json_out && !write_whole(json_out, text, len))
        die("could not write %s", json_out);
    free(text);
    return fitted ? 0 : 1;
}

/* ---- the command ---- */

static void usage(FILE *f)
{
    fputs(
        "usage: bench/tune MODEL [options]\n"
        "       bench/tune --fit FILE|RUN [--json OUT]\n"
        "\n"
        "Recommends a pool size (-w) and a listen backlog (-b) for MODEL (a name of\n"
        "servers/models) under a workload, with the evidence: closed-loop throughput at a\n"
        "geometric sweep of -w with the Universal Scalability Law fitted to it (the smallest\n"
        "-w within 5% of the best measured throughput is recommended; Little's law checks it),\n"
        "bursts of new connections at each backlog with the kernel's listen-queue overflows\n"
        "counted (the smallest backlog no burst overflowed, doubled for headroom), and with\n"
        "--slo the highest open-loop rate that meets a latency target. Every measurement is a\n"
        "bench/run suite (bench/suites/tune-*) in the output directory.\n"
        "\n"
        "  --work N            WORK per request (default 250000)\n"
        "  --bytes N           BYTES per request (default 500000)\n"
        "  --mix W:B:N,...     request classes instead of --work and --bytes (loadgen --mix)\n"
        "  --think DUR         a pause after the greeting and between kept requests (default 0)\n"
        "  --keep N            requests per connection in the pool sweep and the latency\n"
        "                      target's search (loadgen -k; 0 keeps each; default 1); the\n"
        "                      bursts always open a new connection per request\n"
        "  --clients \"N...\"    the connections to tune for: bursts of each size; the pool\n"
        "                      sweep and the search run at the largest (default \"8 64\")\n"
        "  --workers \"N...\"    the pool sizes to measure (default \"1 2 4 8 16 32 64\";\n"
        "                      --quick \"1 2 4 8 16\"); models without -w skip the sweep\n"
        "  --backlogs \"N...\"   the backlogs to burst against (default \"1 4 16 64 256 1024\";\n"
        "                      --quick \"1 8 64 512\")\n"
        "  --reps N            repetitions of each pool size, at least: up to twice as many\n"
        "                      where its throughput is not known to within +-5% (default 3;\n"
        "                      --quick 1 and no more)\n"
        "  --bursts N          bursts at each backlog and size (default 3; --quick 1)\n"
        "  --duration DUR      measured time of each pool and search cell (default 2s; --quick\n"
        "                      1s)\n"
        "  --slo pXX=DUR       a latency target (p50, p90, p99 or p999; e.g. p99=10ms): the\n"
        "                      highest -R whose corrected percentile stays under it, with the\n"
        "                      recommended settings, by bisection (7 rates; --quick 4)\n"
        "  --quick             the smaller sweeps and shorter cells above (about a minute)\n"
        "  --out DIR           where the runs, the plots and tune.json go (default\n"
        "                      results/tune-MODEL-<timestamp>; a new or empty directory)\n"
        "  --json FILE         the record (default DIR/tune.json)\n"
        "  --no-plots          leave out the plots (DIR/plots/pool, backlog, slo .png .svg)\n"
        "  --fit FILE|RUN      fit the USL alone to FILE's lines \"N throughput\" (# comments),\n"
        "                      or to a bench/run directory's configurations with a -w (one fit\n"
        "                      per series of the other dimensions); prints lambda, sigma, kappa,\n"
        "                      N* and the residuals; --json OUT writes them\n"
        "  --from-make         every option from the make variable of its name (MODEL, QUICK,\n"
        "                      SLO, OUT, JSON, WORK, BYTES, MIX, THINK, KEEP, CLIENTS,\n"
        "                      WORKERS, BACKLOGS, REPS, BURSTS, DURATION, NO_PLOTS): make tune\n"
        "  -h, --help          this text\n"
        "\n"
        "The last lines on stdout are the server's command line with the recommended settings\n"
        "and what they measured, ready to paste. Exit status: 0 done, 1 a step could not run,\n"
        "2 bad usage, 130 interrupted; --fit: 1 when no series could be fitted.\n",
        f);
}

/* make tune: each option from the make variable of its name, in the environment (make puts
 * the variables of its command line there); no value passes through a shell. */
static const struct {
    const char *var, *opt; /* opt NULL: the model */
    bool flag;
} make_vars[] = {
    {"MODEL", NULL, false},
    {"QUICK", "--quick", true},
    {"SLO", "--slo", false},
    {"OUT", "--out", false},
    {"JSON", "--json", false},
    {"WORK", "--work", false},
    {"BYTES", "--bytes", false},
    {"MIX", "--mix", false},
    {"THINK", "--think", false},
    {"KEEP", "--keep", false},
    {"CLIENTS", "--clients", false},
    {"WORKERS", "--workers", false},
    {"BACKLOGS", "--backlogs", false},
    {"REPS", "--reps", false},
    {"BURSTS", "--bursts", false},
    {"DURATION", "--duration", false},
    {"NO_PLOTS", "--no-plots", true},
};

static void from_make(int *argc, char ***argv)
{
    static char *av[2 * sizeof make_vars / sizeof *make_vars + 2];
    int n = 0;
    av[n++] = (*argv)[0];
    for (size_t i = 0; i < sizeof make_vars / sizeof *make_vars; i++) {
        const char *v = getenv(make_vars[i].var);
        if (!v || !*v)
            continue;
        if (make_vars[i].flag) {
            if (strcmp(v, "0") && strcmp(v, "no"))
                av[n++] = (char *)make_vars[i].opt;
            continue;
        }
        if (make_vars[i].opt)
            av[n++] = (char *)make_vars[i].opt;
        av[n++] = (char *)v;
    }
    av[n] = NULL;
    if (!getenv("MODEL") || !*getenv("MODEL"))
        bad("make tune needs MODEL=NAME (a name of servers/models)");
    *argc = n;
    *argv = av;
}

int main(int argc, char **argv)
{
    if (proc_std_streams() < 0)
        return 1;
    prog_name = "bench/tune";
    if (argc == 2 && !strcmp(argv[1], "--from-make"))
        from_make(&argc, &argv);
    static struct tune t;
    const char *fit = NULL, *clients = "8 64", *workers = NULL, *backlogs = NULL, *reps = NULL,
               *bursts = NULL, *slo = NULL, *out = NULL, *json = NULL, *duration = NULL;
    t.work = "250000";
    t.bytes = "500000";
    t.think = "0";
    t.keep = "1";
    t.plots = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--fit"))
            fit = need(argc, argv, &i);
        else if (!strcmp(a, "--json"))
            json = need(argc, argv, &i);
        else if (!strcmp(a, "--out"))
            out = need(argc, argv, &i);
        else if (!strcmp(a, "--quick"))
            t.quick = true;
        else if (!strcmp(a, "--no-plots"))
            t.plots = false;
        else if (!strcmp(a, "--work")) {
            if (!whole(t.work = need(argc, argv, &i), 0, 2000000000, &v))
                bad("--work '%s': a whole number from 0", t.work);
        } else if (!strcmp(a, "--bytes")) {
            if (!whole(t.bytes = need(argc, argv, &i), 0, 2000000000, &v))
                bad("--bytes '%s': a whole number from 0", t.bytes);
        } else if (!strcmp(a, "--keep")) {
            if (!whole(t.keep = need(argc, argv, &i), 0, 1000000000, &v))
                bad("--keep '%s': a whole number from 0", t.keep);
        } else if (!strcmp(a, "--mix"))
            t.mix = need(argc, argv, &i);
        else if (!strcmp(a, "--think")) {
            double us;
            if (!parse_dur(t.think = need(argc, argv, &i), &us))
                bad("--think '%s': a duration like 10ms, or 0", t.think);
        } else if (!strcmp(a, "--duration")) {
            double us;
            if (!parse_dur(duration = need(argc, argv, &i), &us) || us < 100000)
                bad("--duration '%s': a duration of at least 100ms", duration);
        } else if (!strcmp(a, "--clients"))
            clients = need(argc, argv, &i);
        else if (!strcmp(a, "--workers"))
            workers = need(argc, argv, &i);
        else if (!strcmp(a, "--backlogs"))
            backlogs = need(argc, argv, &i);
        else if (!strcmp(a, "--reps")) {
            if (!whole(reps = need(argc, argv, &i), 1, 100, &v))
                bad("--reps '%s': 1 to 100", reps);
        } else if (!strcmp(a, "--bursts")) {
            if (!whole(bursts = need(argc, argv, &i), 1, 100, &v))
                bad("--bursts '%s': 1 to 100", bursts);
        } else if (!strcmp(a, "--slo"))
            slo = need(argc, argv, &i);
        else if (a[0] == '-')
            bad("unknown option %s", a);
        else if (t.model)
            bad("one model at a time ('%s' and '%s')", t.model->name, a);
        else {
            checkout_dir(argv[0], t.here, sizeof t.here);
            char err[256];
            if (registry_read(internf("%s/servers/models", t.here), &t.reg, err, sizeof err) < 0)
                die("%s", err);
            if (!(t.model = registry_find(&t.reg, a))) {
                char names[1024] = "";
                for (size_t k = 0; k < t.reg.n; k++)
                    bufprintf(names + strlen(names), sizeof names - strlen(names), " %s",
                              t.reg.m[k].name);
                bad("no model '%s' (have:%s)", a, names);
            }
        }
    }
    if (fit) {
        if (t.model)
            bad("--fit takes a file, not a model");
        return fit_main(fit, json);
    }
    if (!t.model)
        bad("no model given");
    parse_list("--clients", clients, 1, 100000, &t.clients);
    parse_list("--workers",
               workers   ? workers
               : t.quick ? "1 2 4 8 16"
                         : "1 2 4 8 16 32 64",
               1, 4096, &t.workers);
    parse_list("--backlogs",
               backlogs  ? backlogs
               : t.quick ? "1 8 64 512"
                         : "1 4 16 64 256 1024",
               1, 1 << 20, &t.backlogs);
    t.reps = reps ? atoi(reps) : t.quick ? 1 : 3;
    t.bursts = bursts ? atoi(bursts) : t.quick ? 1 : 3;
    t.duration = duration ? duration : t.quick ? "1s" : "2s";
    t.slo_steps = t.quick ? 4 : 7;
    t.takes_w = strcmp(t.model->w, "-") != 0;
    t.rec_w = -1;
    t.queue_need = -1;
    t.noise_w = -1;
    t.rec_rps = t.rec_p99_us = NAN;
    if (slo) {
        const char *eq = strchr(slo, '=');
        size_t pl = eq ? (size_t)(eq - slo) : 0;
        static const char *const pcts[] = {"p50", "p90", "p99", "p999"};
        bool known = false;
        for (size_t k = 0; k < 4 && !known; k++)
            known = pl == strlen(pcts[k]) && !strncmp(slo, pcts[k], pl);
        if (!known || !parse_dur(eq + 1, &t.slo_us) || !(t.slo_us > 0))
            bad("--slo '%s': a percentile and a duration, like p99=10ms", slo);
        bufprintf(t.slo_pct, sizeof t.slo_pct, "%.*s", (int)pl, slo);
    }
    /* the output directory: new or empty */
    if (!out) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        const char *res = getenv("BENCH_RESULTS");
        out = internf("%s/tune-%s-%s", res && *res ? res : internf("%s/results", t.here),
                      t.model->name, stamp);
    }
    DIR *d = opendir(out);
    if (d) {
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
            n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        if (n)
            bad("--out %s is not empty (a new or empty directory)", out);
    }
    const char *mk[] = {"mkdir", "-p", "--", out, NULL};
    char o[256];
    if (proc_capture(mk, o, sizeof o, 10000) != 0 || !realpath(out, t.out))
        die("cannot create %s", out);
    if (json)
        bufprintf(t.json, sizeof t.json, "%s", json);
    else
        bufprintf(t.json, sizeof t.json, "%s/tune.json", t.out);
    setenv("BENCH_ROOT", t.here, 1);
    proc_catch_signals();

    say("bench/tune: %s, results in %s\n", t.model->name, t.out);
    preflight(&t);
    if (t.takes_w)
        pool_step(&t);
    else
        say("bench/tune: pool: %s-srv takes no -w; no pool to size\n", t.model->name);
    if (proc_interrupted)
        exit(130);
    backlog_step(&t);
    if (proc_interrupted)
        exit(130);
    if (t.slo_us > 0)
        slo_step(&t);
    if (proc_interrupted)
        exit(130);
    write_record(&t);
    if (t.plots && !draw(&t))
        say("bench/tune: the plots could not all be drawn\n");

    /* what a user reads */
    if (t.npool) {
        printf("pool: -w ");
        for (size_t i = 0; i < t.npool; i++)
            printf("%s%ld:%.0f", i ? " " : "", t.pool[i].workers, t.pool[i].rps);
        printf(" req/s\n");
        if (t.fitted)
            printf("USL: lambda %.4g req/s per worker, sigma %.3g, kappa %.3g, %s; rmse %.3g "
                   "req/s\n",
                   t.usl.lambda, t.usl.sigma, t.usl.kappa,
                   t.usl.has_peak ? internf("N* %.1f", t.usl.peak_n) : "no peak", t.usl.rmse);
        if (t.noise_w > 0)
            printf("-w %ld: its 95%% interval reaches the best's, so this machine's noise cannot "
                   "tell it from -w %ld\n",
                   t.noise_w, t.rec_w);
        printf("Little's law: a request holds a worker %.3f ms; at %.0f req/s %.2f workers are "
               "busy on average (-w %ld)\n",
               t.service_ms, t.rec_rps, t.busy_workers, t.rec_w);
    }
    printf("backlog: ");
    for (size_t i = 0; i < t.backlogs.n; i++) {
        long long sum = 0;
        for (size_t k = 0; k < t.nbp; k++)
            if (t.bp[k].backlog == t.backlogs.v[i])
                sum += t.bp[k].overflows;
        printf("%s-b %ld:%lld", i ? " " : "", t.backlogs.v[i], sum);
    }
    printf(" overflows; none from -b %s on\n",
           t.smallest_clean > 0 ? internf("%ld", t.smallest_clean) : "(none held)");
    if (t.slo_us > 0) {
        if (t.best_sp >= 0)
            printf("slo: %s under %.3g ms up to -R %.0f (%s %.2f ms at %.0f req/s)\n", t.slo_pct,
                   t.slo_us / 1000, t.sp[t.best_sp].rate, t.slo_pct, t.sp[t.best_sp].pct_us / 1000,
                   t.sp[t.best_sp].rps);
        else
            printf("slo: %s under %.3g ms: not met at any rate tried\n", t.slo_pct,
                   t.slo_us / 1000);
    }
    printf("record: %s\n", t.json);
    printf("%s\n", server_line(&t));
    if (t.slo_us > 0 && t.best_sp >= 0)
        printf("%s\n", slo_line(&t));
    return 0;
}
