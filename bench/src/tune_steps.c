/* tune_steps: bench/run as bench/tune's measuring instrument, and the steps (tune.h): the
 * kernel's limits, the pool sweep with the USL fit, the backlog bursts, the latency target's
 * search. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orch.h"
#include "proc.h"
#include "tune.h"

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

double tune_num(json_object *o, const char *path, double def)
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

void tune_preflight(struct tune *t)
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

void tune_pool_step(struct tune *t)
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
            .workers = (long)tune_num(g, "workers", 0),
            .rps = tune_num(g, "stats.rps.median", NAN),
            .p99_us = tune_num(g, "stats.p99_us.median", NAN),
            .cpu_ms = tune_num(g, "stats.cpu_ms_per_req.median", NAN),
            .reps = (int)tune_num(g, "reps", 0),
            .failed = (int)tune_num(g, "failed", 0),
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
        burst_at(t, (long)tune_num(cell, "cell.backlog", 0), (long)tune_num(cell, "cell.conc", 0));
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
                                   : (long long)tune_num(cell, "kernel.listen_overflows", 0);
    p->own_counts = p->own_counts || jdoc_is_num(own);
    p->queue_peak = fmax(p->queue_peak, tune_num(cell, "kernel.accept_queue_peak", -1));
    p->overflows += o;
    p->drops += (long long)tune_num(cell, "kernel.listen_drops", 0);
    p->overflowed += o > 0;
    p->errors += errors_of(cell);
    p->connect_p99_us =
        fmax(p->connect_p99_us, tune_num(cell, "loadgen.latency_us.connect.p99", 0));
}

static int by_backlog(const void *a, const void *b)
{
    const struct burst_point *x = a, *y = b;
    return x->backlog != y->backlog ? (x->backlog > y->backlog) - (x->backlog < y->backlog)
                                    : (x->clients > y->clients) - (x->clients < y->clients);
}

void tune_backlog_step(struct tune *t)
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
    r->p->rps = tune_num(cell, "loadgen.totals.rps", 0);
    r->p->pct_us = tune_num(cell, r->key, NAN);
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

void tune_slo_step(struct tune *t)
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
