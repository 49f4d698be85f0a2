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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orch.h"
#include "proc.h"
#include "tune.h"

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
        "                      --quick \"1 2 4 8 16\"); models without a pool skip the sweep\n"
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
        return tune_fit_main(fit, json);
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
    t.takes_w = strcmp(t.model->w, "yes") == 0; /* w cpus: its loops, one per CPU, not a pool */
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
    tune_preflight(&t);
    if (t.takes_w)
        tune_pool_step(&t);
    else if (!strcmp(t.model->w, "cpus"))
        say("bench/tune: pool: %s-srv's -w is its number of loops, one per CPU by default; no "
            "pool to size\n",
            t.model->name);
    else
        say("bench/tune: pool: %s-srv takes no -w; no pool to size\n", t.model->name);
    if (proc_interrupted)
        exit(130);
    tune_backlog_step(&t);
    if (proc_interrupted)
        exit(130);
    if (t.slo_us > 0)
        tune_slo_step(&t);
    if (proc_interrupted)
        exit(130);
    tune_write_record(&t);
    if (t.plots && !tune_draw(&t))
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
    printf("%s\n", tune_server_line(&t));
    if (t.slo_us > 0 && t.best_sp >= 0)
        printf("%s\n", tune_slo_line(&t));
    return 0;
}
