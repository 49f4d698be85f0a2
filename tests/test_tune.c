/* bench/tune: the fit alone (exact points with known parameters come back, a bench/run
 * directory is fitted per series, bad input is refused), the backlog step's counting (a burst
 * of 64 new connections against iterative-srv busy with long requests overflows a backlog of
 * 1 and not one of 128), a small tune of prethread-srv end to end (a measured -w recommended,
 * the law fitted, a latency target searched, the plots drawn, paths with quotes kept as
 * data), and the checks of its options. The suite is "bench": these run bench/run. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/src/usl.h"

/* bench/tune and bench/run with the binaries under test (SRV_BIN, made absolute). */
static void tune_env(void)
{
    const char *d = getenv("SRV_BIN");
    char abs[PATH_MAX];
    if (realpath(d && *d ? d : "bin", abs))
        setenv("BENCH_BIN", abs, 1);
}

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void expect_jq(const char *file, const char *filter)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "jq -e '%s' '%s' >/dev/null", filter, file);
    cr_expect_eq(system(cmd), 0, "jq -e '%s' %s", filter, file);
}

/* Lines "N X" made with known parameters; bench/tune --fit gives them back within 1%. */
static void fit_recovers(double lambda, double sigma, double kappa, const char *tag)
{
    struct usl truth = {.lambda = lambda, .sigma = sigma, .kappa = kappa};
    char file[256], json[256], cmd[1024];
    snprintf(file, sizeof file, "/tmp/cb-tune-fit-%s-%d.txt", tag, (int)getpid());
    snprintf(json, sizeof json, "/tmp/cb-tune-fit-%s-%d.json", tag, (int)getpid());
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fprintf(f, "# N throughput\n");
    for (int n = 1; n <= 64; n *= 2)
        fprintf(f, "%d %.6f\n", n, usl_x(&truth, n));
    fclose(f);
    snprintf(cmd, sizeof cmd, "bench/tune --fit %s --json %s > %s.out", file, json, json);
    cr_assert_eq(run(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd,
             ".usl.lambda > %.9g and .usl.lambda < %.9g and "
             "(.usl.sigma - %.9g | fabs) <= %.9g and (.usl.kappa - %.9g | fabs) <= %.9g and "
             "(.measurements | length) == 7 and (.measurements | map(.workers)) == "
             "[1,2,4,8,16,32,64]",
             0.99 * lambda, 1.01 * lambda, sigma, 0.01 * sigma + 1e-6, kappa, 0.01 * kappa + 1e-9);
    expect_jq(json, cmd);
    if (kappa > 0)
        snprintf(cmd, sizeof cmd, "(.usl.peak_n - %.9g | fabs) <= %.9g", sqrt((1 - sigma) / kappa),
                 0.01 * sqrt((1 - sigma) / kappa));
    else
        snprintf(cmd, sizeof cmd, ".usl.peak_n == null");
    expect_jq(json, cmd);
    snprintf(cmd, sizeof cmd, "grep -q '%s' %s.out", kappa > 0 ? "N\\* = " : "no peak", json);
    cr_expect_eq(run(cmd), 0, "the printed fit does not say %s", kappa > 0 ? "N*" : "no peak");
    unlink(file);
    unlink(json);
    snprintf(cmd, sizeof cmd, "%s.out", json);
    unlink(cmd);
}

Test(bench, tune_fit_gives_back_known_parameters, .timeout = 60)
{
    fit_recovers(1000, 0.03, 0.0004, "peak");
    fit_recovers(3000, 0.2, 0.002, "early");
    fit_recovers(1200, 0.05, 0, "nopeak");
}

Test(bench, tune_fit_a_run_directory_per_series_and_refuse_bad_input, .timeout = 60)
{
    char dir[256], cmd[2048];
    snprintf(dir, sizeof dir, "/tmp/cb-tune-fitdir-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    cr_assert_eq(run(cmd), 0);
    /* two series (lock none and fcntl) over -w 1 2 4 8, and a configuration without -w */
    snprintf(cmd, sizeof cmd, "%s/summary.json", dir);
    FILE *f = fopen(cmd, "w");
    cr_assert(f);
    fputs("{\"schema_version\": 1, \"configs\": [", f);
    struct usl a = {.lambda = 900, .sigma = 0.1, .kappa = 0.01},
               b = {.lambda = 700, .sigma = 0.3, .kappa = 0};
    int first = 1;
    for (int w = 1; w <= 8; w *= 2)
        for (int s = 0; s < 2; s++) {
            fprintf(f,
                    "%s{\"model\": \"prefork\", \"conc\": 64, \"workers\": %d, \"lock\": \"%s\", "
                    "\"reps\": 3, \"stats\": {\"rps\": {\"median\": %.6f}}}",
                    first ? "" : ", ", w, s ? "fcntl" : "none", usl_x(s ? &b : &a, w));
            first = 0;
        }
    fputs(", {\"model\": \"reactor\", \"conc\": 64, \"workers\": null, \"lock\": \"none\", "
          "\"stats\": {\"rps\": {\"median\": 5000}}}]}\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "bench/tune --fit %s --json %s/fit.json > %s/fit.out", dir, dir, dir);
    cr_assert_eq(run(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "%s/fit.json", dir);
    expect_jq(cmd, "(.series | length) == 2 and .usl == null");
    expect_jq(cmd, "[.series[] | select(.label == \"model=prefork lock=none\")] | length == 1");
    expect_jq(cmd, ".series[] | select(.label == \"model=prefork lock=none\") | "
                   "(.usl.kappa - 0.01 | fabs) < 0.0001 and (.usl.lambda - 900 | fabs) < 9");
    expect_jq(cmd, ".series[] | select(.label == \"model=prefork lock=fcntl\") | "
                   ".usl.peak_n == null and (.usl.sigma - 0.3 | fabs) < 0.003");

    /* refused, with the reason: a line that is not two numbers, too few points, no file */
    snprintf(cmd, sizeof cmd,
             "printf '1 100\\n2 oops\\n' > %s/bad.txt && bench/tune --fit %s/bad.txt "
             "2> %s/bad.err; echo $? > %s/bad.rc",
             dir, dir, dir, dir);
    run(cmd);
    snprintf(cmd, sizeof cmd, "grep -qx 2 %s/bad.rc && grep -q 'bad.txt:2' %s/bad.err", dir, dir);
    cr_expect_eq(run(cmd), 0, "a malformed line was not refused with its line number");
    snprintf(cmd, sizeof cmd,
             "printf '1 100\\n2 190\\n' > %s/few.txt && bench/tune --fit %s/few.txt "
             "> %s/few.out 2>&1; echo $? > %s/few.rc",
             dir, dir, dir, dir);
    run(cmd);
    snprintf(cmd, sizeof cmd, "grep -qx 1 %s/few.rc && grep -q 'not fitted' %s/few.out", dir, dir);
    cr_expect_eq(run(cmd), 0, "two points were fitted");
    cr_expect_eq(run("bench/tune --fit /nonexistent/x 2>/dev/null"), 2);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
}

Test(bench, tune_backlog_step_counts_overflows, .timeout = 120)
{
    tune_env();
    char dir[256], cmd[2048], json[300];
    snprintf(dir, sizeof dir, "/tmp/cb-tune-backlog-%d", (int)getpid());
    snprintf(json, sizeof json, "%s/tune.json", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
    /* one burst of 64 against a server that serves one long request at a time */
    snprintf(cmd, sizeof cmd,
             "bench/tune iterative --clients 64 --backlogs '1 128' --bursts 1 --work 3000000 "
             "--bytes 100 --no-plots --out %s > %s.out 2>&1",
             dir, dir);
    cr_assert_eq(run(cmd), 0, "%s (see %s.out)", cmd, dir);
    expect_jq(json, ".recommended.workers == null and .measurements == [] and .usl == null");
    expect_jq(json, ".backlog.measurements[] | select(.backlog == 1) | "
                    ".overflows > 0 and .overflowed == 1 and .counted_by == \"listener\"");
    expect_jq(json, ".backlog.measurements[] | select(.backlog == 128) | "
                    ".overflows == 0 and .errors == 0 and .accept_queue_peak > 1");
    expect_jq(json, ".backlog.smallest_clean == 128 and .recommended.backlog >= 128");
    snprintf(cmd, sizeof cmd, "grep -q '^bin/iterative-srv -b [0-9]' %s.out", dir);
    cr_expect_eq(run(cmd), 0, "no server line to paste (see %s.out)", dir);
    /* the cells are bench/run's, with the listener's own counters */
    snprintf(cmd, sizeof cmd,
             "jq -e -s 'length == 2 and all(.[]; .kernel.listener_drops != null)' "
             "%s/backlog/c64/cells/*.json >/dev/null",
             dir);
    cr_expect_eq(run(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.out", dir, dir);
    run(cmd);
}

Test(bench, tune_prethread_recommends_a_measured_pool_size, .timeout = 180)
{
    tune_env();
    /* an output path with quotes, a semicolon and a gnuplot call: data, never code */
    char dir[512], cmd[4096], json[600], mark[256];
    snprintf(mark, sizeof mark, "/tmp/cb-tune-pwned-%d", (int)getpid());
    snprintf(dir, sizeof dir, "/tmp/cb-tune-pool-%d/o'x\";system(\"touch %s\");'y", (int)getpid(),
             mark);
    snprintf(json, sizeof json, "/tmp/cb-tune-pool-%d.json", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/cb-tune-pool-%d", (int)getpid());
    run(cmd);
    unlink(mark);
    /* the directory through the environment: no shell quoting of it here either */
    setenv("CB_TUNE_OUT", dir, 1);
    snprintf(cmd, sizeof cmd,
             "bench/tune prethread --quick --workers '1 2 4' --clients 8 --backlogs 16 "
             "--work 20000 --bytes 1000 --duration 0.3s --slo p99=50ms --out \"$CB_TUNE_OUT\" "
             "--json %s > %s.out 2>&1",
             json, json);
    cr_assert_eq(run(cmd), 0, "%s (see %s.out)", cmd, json);
    expect_jq(json, ".model == \"prethread\" and (.measurements | map(.workers)) == [1, 2, 4]");
    expect_jq(json, "all(.measurements[]; .rps > 0 and .p99_us > 0)");
    expect_jq(json, ".recommended.workers as $w | [.measurements[].workers] | index($w) != null");
    expect_jq(json, "(.measurements | max_by(.rps).rps) as $b | .recommended.workers as $w | "
                    ".measurements | map(select(.workers < $w and .rps >= 0.95 * $b)) == []");
    expect_jq(json, ".usl.lambda > 0 and .usl.sigma >= 0 and .usl.kappa >= 0 and "
                    "(.usl | has(\"peak_n\")) and .little.busy_workers > 0");
    expect_jq(json, ".slo.percentile == \"p99\" and .slo.target_us == 50000 and "
                    "(.slo.search | length) >= 1 and (.slo.met | type) == \"boolean\"");
    expect_jq(json, ".recommended.backlog >= 1 and (.preflight.somaxconn | type) == \"number\"");
    snprintf(cmd, sizeof cmd, "grep -q '^bin/prethread-srv -w [0-9]* -b [0-9]* *# ' %s.out", json);
    cr_expect_eq(run(cmd), 0, "no server line to paste (see %s.out)", json);
    for (size_t i = 0; i < 3; i++) {
        static const char *const plots[] = {"pool", "backlog", "slo"};
        char p[1024];
        snprintf(p, sizeof p, "%s/plots/%s.svg", dir, plots[i]);
        struct stat sb;
        cr_expect(stat(p, &sb) == 0 && sb.st_size > 1000, "no plot %s", p);
    }
    cr_expect(access(mark, F_OK) != 0, "a path ran as gnuplot code");
    unlink(mark);
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/cb-tune-pool-%d %s %s.out", (int)getpid(), json, json);
    run(cmd);
}

Test(bench, tune_options_are_checked, .timeout = 60)
{
    static const char *const bad[] = {
        "",                          /* no model */
        "nosuch",                    /* not in the registry */
        "prethread prefork",         /* two */
        "prethread --clients 0",     /* below 1 */
        "prethread --workers 'a b'", /* not numbers */
        "prethread --slo 10ms",      /* no percentile */
        "prethread --slo p98=10ms",  /* not one loadgen reports */
        "prethread --slo p99=fast",  /* not a duration */
        "prethread --duration 1ms",  /* too short to measure */
        "prethread --reps 0",        /* below 1 */
        "prethread --bogus",         /* unknown */
        "--fit",                     /* no file */
        "prethread --fit /dev/null", /* a model and --fit */
    };
    char cmd[1024];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "bench/tune %s >/dev/null 2>/tmp/cb-tune-opt-%d.err", bad[i],
                 (int)getpid());
        cr_expect_eq(run(cmd), 2, "bench/tune %s: not refused as bad usage", bad[i]);
        snprintf(cmd, sizeof cmd, "grep -q '^bench/tune: ' /tmp/cb-tune-opt-%d.err", (int)getpid());
        cr_expect_eq(run(cmd), 0, "bench/tune %s: no message", bad[i]);
    }
    /* an output directory that holds something is not written into */
    snprintf(cmd, sizeof cmd,
             "d=/tmp/cb-tune-full-%d; mkdir -p $d && touch $d/keep && "
             "bench/tune prethread --out $d 2>/dev/null; rc=$?; ls $d | wc -l | grep -qx 1 && "
             "rm -rf $d && exit $rc",
             (int)getpid());
    cr_expect_eq(run(cmd), 2, "a non-empty --out was used");
    cr_expect_eq(run("bench/tune --help | grep -q -- '--slo pXX=DUR'"), 0);
    snprintf(cmd, sizeof cmd, "rm -f /tmp/cb-tune-opt-%d.err", (int)getpid());
    run(cmd);
}
