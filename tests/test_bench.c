/* The bench scripts: the summary filter against fixed cells with known statistics, a small
 * suite end to end (a failed cell recorded, plots drawn), and a run killed midway and resumed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* jq -e FILTER FILE succeeds. */
static void expect_jq(const char *file, const char *filter)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "jq -e '%s' %s >/dev/null", filter, file);
    cr_expect_eq(system(cmd), 0, "jq -e '%s' %s", filter, file);
}

/* CMD's output holds FILTER (jq -e). */
static void expect_jq_cmd(const char *cmd, const char *filter)
{
    char full[4096];
    snprintf(full, sizeof full, "%s | jq -e '%s' >/dev/null", cmd, filter);
    cr_expect_eq(system(full), 0, "%s", full);
}

/* bench/run with the binaries under test (SRV_BIN, made absolute). */
static void bench_env(void)
{
    const char *d = getenv("SRV_BIN");
    char abs[PATH_MAX];
    if (realpath(d && *d ? d : "bin", abs))
        setenv("BENCH_BIN", abs, 1);
}

/* A directory of binaries for bench/run: loadgen and prethread-srv, the server a shell
 * wrapper that runs `pre` (shell code that may exit) before exec'ing the real one. */
static void wrapper_bin(const char *dir, const char *pre)
{
    const char *real = getenv("BENCH_BIN");
    char path[512];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/prethread-srv", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "#!/bin/sh\n%s\nexec %s/prethread-srv \"$@\"\n", pre, real);
    fclose(f);
    chmod(path, 0755);
    snprintf(path, sizeof path, "ln -sf %s/loadgen %s/loadgen", real, dir);
    cr_assert_eq(system(path), 0);
}

/* A test's own results directory, so that two runs of the tests at once do not share one. */
static const char *run_dir(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/cb-bench-%s-%ld", tag, (long)getpid());
    return buf;
}

/* FILE holds exactly the exit status want (one line), as `echo $? > FILE` writes it. */
static bool exit_status_is(const char *file, int want)
{
    FILE *f = fopen(file, "r");
    int got = -1;
    char extra;
    bool ok = f && fscanf(f, "%d", &got) == 1 && fscanf(f, " %c", &extra) != 1 && got == want;
    if (f)
        fclose(f);
    return ok;
}

/* FILE holds NEEDLE (grep -F). */
static bool file_contains(const char *file, const char *needle)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' %s", needle, file);
    return system(cmd) == 0;
}

/* The files of dir whole and in place: cell files, NAME.json. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    /* a cell file ends in .json; one being written is NAME.json.XXXXXX until renamed */
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        n += len > 5 && !strcmp(e->d_name + len - 5, ".json");
    }
    closedir(d);
    return n;
}

Test(bench, summary_of_known_cells, .timeout = 120)
{
    char outbuf[64];
    snprintf(outbuf, sizeof outbuf, "/tmp/cb-bench-summary-%ld.json", (long)getpid());
    const char *out = outbuf;
    cr_assert_eq(sh("bench/summarize tests/fixtures/bench >%s%s", out, ""), 0);
    /* prethread: rps 100, 120, 110 -> median 110, mean 110, sd 10; below 6 repetitions the
     * interval of the median is the range: [100, 120], +-9.1%, covering it 75% of the time
     * with 3 values (ci_level): wider than the default target of +-5%, so noisy. */
    expect_jq(out, ".configs | length == 2");
    expect_jq(out, ".configs[0].model == \"iterative\" and .configs[1].model == \"prethread\"");
    expect_jq(out, ".configs[1].stats.rps | .n == 3 and .median == 110 and .mean == 110 and "
                   ".stddev == 10 and .cv == 0.090909 and .ci95 == [100, 120] and "
                   ".ci_pct == 9.090909 and .ci_level == 0.75");
    expect_jq(out, ".configs[1] | .noisy and .failed == 0 and .reps == 3 and "
                   "(.noise_cause | test(\"9% over 3\"))");
    expect_jq(out, ".configs[1].stats | .p99_us.median == 2000 and .cpu_ms_per_req.median == 2 "
                   "and .listen_overflows.median == 2 and .errors.median == 1");
    /* The best repetition beside the median: highest throughput, lowest p50 and p99. */
    expect_jq(out, ".configs[1].best == {rps: 120, p50_us: 100, p99_us: 1000, rep: 2}");
    /* iterative: rps 100, 160, 100 and one failed cell -> median 100, mean 120, +-60% */
    expect_jq(out, ".configs[0].stats.rps | .n == 3 and .median == 100 and .mean == 120 and "
                   ".stddev == 34.641016 and .ci95 == [100, 160] and .ci_pct == 60");
    expect_jq(out, ".configs[0] | .noisy and .failed == 1 and .reps == 4 and "
                   ".errors_seen == [\"server did not start\"]");
    expect_jq(out, ".configs[1].spectrum == [[0,50],[50,100],[100,2000]] and "
                   ".configs[1].median_rep == 3");
    unlink(out);
    /* A wider target: +-10% takes prethread's +-9.1%. */
    cr_assert_eq(sh("bench/summarize tests/fixtures/bench --target-ci 10 >%s%s", out, ""), 0);
    expect_jq(out, "(.configs[1].noisy | not) and .configs[0].noisy");
    /* The cause of a wide interval: the most repetitions allowed, or the budget spent; and
     * the machine's own noise floor when there is one. */
    cr_assert_eq(sh("bench/summarize tests/fixtures/bench --reps 3 --max-reps 3 --floor-cv 7.5 "
                    ">%s%s",
                    out, ""),
                 0);
    expect_jq(out, ".configs[1].noise_cause | test(\"--max-reps\") and test(\"CV 7.5%\") and "
                   "test(\"100 to 120 req/s\")");
    cr_assert_eq(sh("bench/summarize tests/fixtures/bench --reps 3 --max-reps 10 >%s%s", out, ""),
                 0);
    expect_jq(out,
              ".configs[1].noise_cause | test(\"--budget\") and (test(\"noise floor\") | not)");
    unlink(out);
}

/* summary.json's verdicts from cells whose per-pair ratios are known, worked out by hand. At 8
 * connections, six repetitions of three models: prethread at 1000 req/s in each; reactor at
 * 1000 e^-(0.20 + 0.01 (k - 1)) in repetition k (median 798.5); thread at 1000 e^-0.22 (802.5)
 * in each. Ranked prethread, thread, reactor. prethread/thread is e^0.22 = 1.2461 in every
 * pair: faster, interval [1.2461, 1.2461]. thread/reactor is e^(0.01 (k - 3)): log ratios
 * -0.02 .. 0.03, whose Walsh averages have the median 0.005 (ratio 1.005) and, with 6 pairs,
 * the 95% interval of their whole range, e^-0.02 .. e^0.03 = [0.9802, 1.0305]: within 5%
 * either way, equivalent, so thread and reactor share the second group. reactor to the best:
 * log ratios -0.25 .. -0.20, median -0.225 (0.7985), interval [0.7788, 0.8187]. At 16
 * connections, 4 repetitions each of prethread (1000) and reactor (500): twice as fast, but 4
 * pairs reach 87.5% at most: no interval, undecided. At 64 connections, in 6 blocks, the
 * ranking goes by the paired ratio, not the median: prefork 100 in blocks 1-3 and 300 in 4-6
 * (median 200), thread 110 and 280 (195), reactor 95 and 290 (192.5). thread/prefork is 1.1
 * three times and 0.9333 three times: Walsh averages 6 of log 1.1, 6 of log 0.9333 and 9 of
 * their mean, whose median is that mean, 1.0132: above 1, so thread is the best, though its
 * median is lower; prefork to it is 0.9869, reactor to it (0.8636 and 1.0357) 0.9458. At 1
 * connection, prethread alone: no verdict. */
Test(bench, verdicts_from_known_pairs, .timeout = 60)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/cb-verdict-%ld", (long)getpid());
    cr_assert_eq(sh("rm -rf %s && mkdir -p %s/cells", dir, dir), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cell() { jq -n --arg m $1 --argjson c $2 --argjson k $3 --argjson rps $4 "
             "--argjson b ${5:-null} "
             "'{schema_version: 1, id: \"\\($m)-c\\($c)-r\\($k)\", status: \"ok\", block: $b, "
             "cell: {model: $m, conc: $c, work: 1000, bytes: 10, backlog: 511, "
             "workers: (if $m | startswith(\"prethread\") then 8 else null end), lock: \"none\", "
             "rep: $k}, "
             "loadgen: {totals: {rps: $rps, elapsed_s: 2}, errors: {}, latency_us: {total: "
             "{p50: 100, p99: 1000, p999: 1000}}}, server: {requests: 1000, utime_s: 1, "
             "stime_s: 1}}' >%s/cells/$1-c$2-r$3.json; }; "
             "for k in 1 2 3 4 5 6; do "
             "cell prethread 8 $k 1000; "
             "cell reactor 8 $k $(awk -v k=$k 'BEGIN { printf \"%%.10f\", 1000 * exp(-(0.2 + 0.01 "
             "* (k - 1))) }'); "
             "cell thread 8 $k $(awk 'BEGIN { printf \"%%.10f\", 1000 * exp(-0.22) }'); done; "
             "for k in 1 2 3 4; do cell prethread 16 $k 1000; cell reactor 16 $k 500; done; "
             "for k in 1 2 3 4 5 6; do "
             "cell prethread~aa 8 $k $(awk -v k=$k 'BEGIN { printf \"%%.10f\", 1000 * exp(0.004 "
             "* (k - 1) - 0.01) }'); "
             "cell prethread 32 $k $((1000 * k)) $k; cell reactor 32 $((7 - k)) $((900 * k)) $k; "
             "done; "
             "for k in 1 2 3 4 5 6; do h=$((k > 3)); "
             "cell prefork 64 $k $((100 + 200 * h)) $k; cell thread 64 $k $((110 + 170 * h)) $k; "
             "cell reactor 64 $k $((95 + 195 * h)) $k; done; "
             "cell prethread 1 1 1000",
             dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char out[96];
    snprintf(out, sizeof out, "%s/summary.json", dir);
    cr_assert_eq(sh("bench/summarize %s >%s", dir, out), 0);
    expect_jq(out, ".verdicts | length == 4 and .[0].conc == 8 and .[1].conc == 16 and "
                   ".[2].conc == 32 and .[3].conc == 64");
    expect_jq(out, ".verdicts[0].ranking | map([.model, .group]) == [[\"prethread\", 1], "
                   "[\"thread\", 2], [\"reactor\", 2]]");
    expect_jq(out, ".verdicts[0].ranking[0] | .ratio_to_best == 1 and .ratio_ci == [1, 1]");
    expect_jq(out, ".verdicts[0].ranking[1] | .ratio_to_best == 0.8025 and .ratio_ci == "
                   "[0.8025, 0.8025] and .rps == 802.5188");
    expect_jq(out, ".verdicts[0].ranking[2] | .ratio_to_best == 0.7985 and .ratio_ci == "
                   "[0.7788, 0.8187] and .n == 6");
    expect_jq(out, "[.verdicts[0].pairs[] | select(.metric == \"rps\")] | "
                   ".[0] == {a: \"prethread\", b: \"thread\", metric: \"rps\", ratio: 1.2461, "
                   "ci: [1.2461, 1.2461], n: 6, level: 0.9688, verdict: \"faster\"} and "
                   ".[1] == {a: \"thread\", b: \"reactor\", metric: \"rps\", ratio: 1.005, "
                   "ci: [0.9802, 1.0305], n: 6, level: 0.9688, verdict: \"equivalent\"}");
    expect_jq(out, "[.verdicts[0].pairs[] | select(.metric == \"p99_us\") | .verdict] == "
                   "[\"equivalent\", \"equivalent\"]");
    /* CPU per request: 2 s of CPU for 1000 requests everywhere, 2 ms each, a ratio of 1 */
    expect_jq(out, "[.verdicts[0].pairs[] | select(.metric == \"cpu_ms_per_req\") | [.ratio, "
                   ".verdict]] == [[1, \"equivalent\"], [1, \"equivalent\"]]");
    expect_jq(out, ".verdicts[1] | .ranking[1].ratio_to_best == 0.5 and .ranking[1].ratio_ci == "
                   "null and .pairs[0].verdict == \"undecided\" and .pairs[0].level == 0.875 "
                   "and .pairs[0].ci == null and .ranking[1].group == 1");
    /* pairs by block where the cells have one (32 connections), else by repetition */
    expect_jq(out, "[.verdicts[].paired_by] == [\"repetition\", \"repetition\", \"block\", "
                   "\"block\"]");
    /* ranked by the paired ratio to the best, the best chosen by it too */
    expect_jq(out, ".verdicts[3].ranking | map([.model, .rps, .ratio_to_best]) == "
                   "[[\"thread\", 195, 1], [\"prefork\", 200, 0.9869], [\"reactor\", 192.5, "
                   "0.9458]]");
    /* the A/A copy is not ranked; against its model: log ratios 0.01 - 0.004 (k - 1),
     * symmetric about 0: ratio 1, the whole range e^-0.01 .. e^0.01 */
    expect_jq(out, ".verdicts[0].aa == {ratio: 1, ci: [0.99, 1.0101], n: 6, level: 0.9688, "
                   "verdict: \"equivalent\", model: \"prethread\"} and "
                   "(.verdicts[0].ranking | length == 3)");
    /* pairs are made by block, not by repetition: at 32 connections reactor's repetitions run
     * backwards through the blocks; by block prethread/reactor is 1000 k / 900 k = 1.1111 in
     * each (by repetition the ratios would spread from 0.19 to 5.6) */
    expect_jq(out, ".verdicts[2].pairs[0] | .ratio == 1.1111 and .ci == [1.1111, 1.1111] and "
                   ".verdict == \"faster\"");
    /* a narrower band: thread and reactor are no longer equivalent, but undecided */
    cr_assert_eq(sh("jq -n '{matrix: {EQUIVALENCE: \"2\"}}' >%s/run.json%s", dir, ""), 0);
    cr_assert_eq(sh("bench/summarize %s >%s", dir, out), 0);
    expect_jq(out, "[.verdicts[0].pairs[] | select(.metric == \"rps\")][1].verdict == "
                   "\"undecided\"");
    /* bench/compare sets two runs' verdicts side by side: a copy where reactor leads at 32
     * connections (1200 k against 1000 k) agrees on prethread/thread at 8 and prefork/reactor
     * at 64 (thread/prefork at 64 is undecided in both) and disagrees at 32
     * (prethread vs reactor, in name order: faster in A, slower in B) */
    snprintf(cmd, sizeof cmd,
             "rm -rf %s-b && cp -r %s %s-b && for k in 1 2 3 4 5 6; do f=%s-b/cells/"
             "reactor-c32-r$((7 - k)).json; jq --argjson r $((1200 * k)) "
             "'.loadgen.totals.rps = $r' $f >$f.new && mv $f.new $f; done && "
             "bench/compare %s %s-b --json >%s/cmp.json",
             dir, dir, dir, dir, dir, dir, dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    snprintf(out, sizeof out, "%s/cmp.json", dir);
    expect_jq(out, ".verdicts | .in_both == 6 and .decided_in_both == 3 and .agree == 2 and "
                   "(.disagree | length == 1) and (.disagree[0] | (.pair | startswith(\"prethread "
                   "vs reactor\")) and .a == \"faster\" and .b == \"slower\") and "
                   ".contradict == 1");
    /* an equivalent pair that the other run decides by less than the band does not
     * contradict it; one decided beyond the band does. With the 5% band again, thread/reactor
     * at 8 is equivalent in A; B's reactor made 4% faster there (reactor/thread about 0.96..1.06
     * over the pairs: faster, not beyond 5%), then 25% faster (beyond it) */
    for (int step = 0; step < 2; step++) {
        snprintf(cmd, sizeof cmd,
                 "for r in %s %s-b; do jq -n '{matrix: {EQUIVALENCE: \"5\"}}' >$r/run.json; "
                 "done && for k in 1 2 3 4 5 6; do f=%s-b/cells/reactor-c8-r$k.json; "
                 "jq '.loadgen.totals.rps *= %s' $f >$f.new && mv $f.new $f; done && "
                 "bench/compare %s %s-b --json >%s/cmp.json",
                 dir, dir, dir, step == 0 ? "1.04" : "(1.25 / 1.04)", dir, dir, dir);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        expect_jq(out, step == 0 ? ".verdicts | .contradict == 1 and any(.disagree[]; (.pair | "
                                   "startswith(\"reactor vs thread\")) and .a == "
                                   "\"equivalent\" and .b == \"faster\")"
                                 : ".verdicts.contradict == 2");
    }
    if (!getenv("CB_KEEP"))
        sh("rm -rf %s %s-b", dir, dir);
}

/* bench/compare: two runs made from the fixture cells (prethread with a fourth repetition),
 * B with prethread at half the throughput: a regression (the interval of the ratio lies below
 * 1) that fails the threshold, iterative unchanged (and 3 repetitions against 3 could not
 * show a change at 95% anyway: it says so); a noise floor above the change hides it;
 * bench/export lists both. */
Test(bench, compare_and_export, .timeout = 120)
{
    char a[96], b[96], cmd[2048];
    snprintf(a, sizeof a, "/tmp/cb-cmp-a-%ld", (long)getpid());
    snprintf(b, sizeof b, "/tmp/cb-cmp-b-%ld", (long)getpid());
    snprintf(
        cmd, sizeof cmd,
        "rm -rf %s %s && mkdir -p %s/cells %s/cells && cp tests/fixtures/bench/cells/*.json "
        "%s/cells/ && jq '.id = \"prethread-r4\" | .cell.rep = 4 | .loadgen.totals.rps = 115' "
        "%s/cells/prethread-r3.json > %s/cells/prethread-r4.json && "
        "echo '{\"suite\":\"x\",\"git_commit\":\"aaa\"}' > %s/run.json && "
        "for f in %s/cells/*.json; do jq 'if .cell.model == \"prethread\" "
        "and .loadgen != null then .loadgen.totals.rps /= 2 else . end' $f > %s/cells/$(basename "
        "$f); done && echo '{\"suite\":\"x\",\"git_commit\":\"bbb\"}' > %s/run.json",
        a, b, a, b, a, a, a, a, a, b, b);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "bench/compare %s %s --json > %s/cmp.json", a, b, a);
    cr_expect_eq(system(cmd) >> 8, 1, "a 50%% regression did not exit 1");
    snprintf(cmd, sizeof cmd, "%s/cmp.json", a);
    expect_jq(cmd, "(.configs | length == 2) and (.regressed_beyond_threshold == [\"prethread\"])");
    expect_jq(cmd, ".configs[] | select(.label == \"prethread\") | .rps | .ratio == 0.5 and "
                   ".verdict == \"regressed\" and .ci95[1] < 1 and .change_pct == -50");
    expect_jq(cmd, ".configs[] | select(.label == \"iterative\") | .rps.verdict == \"no change\" "
                   "and .p99_us.verdict == \"no change\"");
    expect_jq(cmd, ".configs[] | select(.label == \"iterative\") | .rps.ci95 == null and "
                   "(.rps.why | test(\"3 and 3 repetitions cannot show a change at 95%\"))");
    /* The table, and a threshold above the change. */
    snprintf(cmd, sizeof cmd,
             "bench/compare %s %s --threshold 60 > %s/cmp.txt && grep -q 'regressed' %s/cmp.txt && "
             "grep -q 'nothing regressed by more than 60%%' %s/cmp.txt",
             a, b, a, a, a);
    cr_expect_eq(system(cmd), 0, "--threshold 60: %s", cmd);
    /* A run against itself: no change anywhere. */
    snprintf(cmd, sizeof cmd,
             "bench/compare %s %s --json | jq -e 'all(.configs[]; .rps.verdict == \"no change\" "
             "and .p99_us.ratio == 1)' >/dev/null",
             a, a);
    cr_expect_eq(system(cmd), 0, "a run against itself changed");
    /* A noise floor larger than the change: not called a regression. */
    snprintf(cmd, sizeof cmd,
             "echo '{\"suite\":\"x\",\"git_commit\":\"bbb\",\"noise_floor\":{\"cv_pct\":60}}' "
             "> %s/run.json && bench/compare %s %s --json | jq -e '.noise_pct == 60 and "
             "all(.configs[]; .rps.verdict == \"no change\")' >/dev/null",
             b, a, b);
    cr_expect_eq(system(cmd), 0, "a change within the noise floor was called");
    /* Not a run, a usage error, a number that is a string, nothing in common: 2, never the 1
     * of a regression. The same string in A's copy of itself is refused the same way. */
    cr_expect_eq(system("bench/compare /nonexistent /tmp 2>/dev/null") >> 8, 2);
    snprintf(cmd, sizeof cmd, "bench/compare %s /tmp 2>/dev/null", a);
    cr_expect_eq(system(cmd) >> 8, 2, "a directory that is not a run");
    cr_expect_eq(system("bench/compare onlyone 2>/dev/null") >> 8, 2);
    snprintf(
        cmd, sizeof cmd,
        "echo '{\"suite\":\"x\",\"git_commit\":\"bbb\",\"noise_floor\":{\"cv_pct\":\"1.5%%\"}}' "
        "> %s/run.json && bench/compare %s %s 2>%s/err.txt; r=$?; [ $r -eq 2 ] && "
        "grep -q 'noise_floor.cv_pct' %s/err.txt",
        b, a, b, b, b);
    cr_expect_eq(system(cmd), 0, "a noise floor given as a string: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "rm -rf %s.other && mkdir -p %s.other/cells && echo '{\"suite\":\"y\"}' > "
             "%s.other/run.json && jq '.cell.model = \"fork\"' %s/cells/prethread-r1.json > "
             "%s.other/cells/fork-r1.json && bench/compare %s %s.other 2>%s/err.txt; r=$?; "
             "rm -rf %s.other; [ $r -eq 2 ] && grep -q 'nothing compared' %s/err.txt && "
             "grep -q 'warning: the runs differ in suite' %s/err.txt",
             b, b, b, a, b, a, b, b, b, b, b);
    cr_expect_eq(system(cmd), 0, "no configuration in common: %s", cmd);
    /* Exports: CSV with a header and a row per configuration, Markdown with the median and
     * the best repetition side by side. */
    snprintf(cmd, sizeof cmd,
             "bench/summarize %s > %s/summary.json && bench/export %s --format csv > %s/x.csv && "
             "[ $(wc -l < %s/x.csv) -eq 3 ] && head -n1 %s/x.csv | grep -q "
             "'\"rps_median\",\"rps_best\"' && grep -q '^\"prethread\",' %s/x.csv",
             a, a, a, a, a, a, a);
    cr_expect_eq(system(cmd), 0, "CSV export: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "bench/export %s > %s/x.md && [ $(wc -l < %s/x.md) -eq 4 ] && "
             "grep -q '^| model | -w | reps | req/s median | req/s best |' %s/x.md && "
             "grep -q '^| prethread | 8 | 4 | 113 | 120 |' %s/x.md && "
             "! bench/export %s --format xml 2>/dev/null",
             a, a, a, a, a, a);
    cr_expect_eq(system(cmd), 0, "Markdown export: %s", cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", a, b);
    system(cmd);
}

/* A run with one concurrency and several models is drawn against the models (not against
 * the pool size, which would drop the iterative server); noisy configurations are marked; a
 * gnuplot warning (the fixture's flat latencies give some) fails only with --strict. The
 * heatmaps are drawn, without a warning, from per-second histograms whose every request fell
 * in one latency bin (prethread) or in several (iterative). */
Test(bench, one_concurrency_is_drawn_against_the_models, .timeout = 120)
{
    char d[96], cmd[2048];
    snprintf(d, sizeof d, "/tmp/cb-plot-one-%ld", (long)getpid());
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && mkdir -p %s && cp -r tests/fixtures/bench/cells %s/ && "
             "for f in %s/cells/*.json; do jq --argjson one \"$(case $f in *prethread*) echo "
             "true;; *) echo false;; esac)\" '.loadgen.histogram = {timeline_significant_digits: "
             "2} | .loadgen.timeline = [range(3) as $t | {t: $t, requests: 5, errors: 0, p99_us: "
             "2000, buckets: (if $one "
             "then [[1500, 5]] else [[1200, 2], [1500, 2], [1900, 1]] end)}]' $f > $f.t && "
             "mv $f.t $f; done && "
             "echo '{\"suite\":\"x\",\"matrix\":{\"TITLE\":\"one\"}}' > %s/run.json && "
             "bench/summarize %s > %s/summary.json && bench/plot %s 2>%s.err",
             d, d, d, d, d, d, d, d, d);
    cr_assert_eq(system(cmd), 0, "bench/plot failed: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "[ $(wc -l < %s/plots/data/heatmap/prethread.tsv) -eq 3 ] && "
             "[ -s %s/plots/heatmaps.svg ] && grep -q '>prethread<' %s/plots/heatmaps.svg && "
             "grep -q '>iterative<' %s/plots/heatmaps.svg && ! grep -q heatmap %s.err",
             d, d, d, d, d);
    cr_expect_eq(system(cmd), 0, "heatmaps: %s", cmd);
    snprintf(
        cmd, sizeof cmd,
        "printf '0\\t100\\t100\\t160\\t0\\n' | cmp -s - %s/plots/data/throughput/iterative.tsv "
        "&& grep -q '^1\t110\t100\t120\t0$' %s/plots/data/throughput/prethread.tsv "
        "&& [ -s %s/plots/throughput.png ] && grep -q 'iterative' %s/plots/throughput.svg",
        d, d, d, d);
    cr_expect_eq(system(cmd), 0, "throughput data: %s", cmd);
    snprintf(
        cmd, sizeof cmd,
        "bench/plot --strict %s %s/strict 2>%s.err; [ $? -eq 1 ] && grep -q -- '--strict' %s.err",
        d, d, d, d);
    cr_expect_eq(system(cmd), 0, "--strict did not fail on gnuplot's warnings");
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.err", d, d);
    system(cmd);
}

Test(bench, two_configurations_end_to_end_with_a_failed_cell, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "e2e");
    sh("rm -rf %s %s.bin", dir, dir);
    /* A server that refuses backlog 8 (a wrapper over the real one): those cells fail, are
     * recorded, the suite goes on, and bench/run then exits 3. */
    char wrapper[256], cmd[1024];
    snprintf(wrapper, sizeof wrapper, "%s.bin", dir);
    wrapper_bin(wrapper,
                "case \" $* \" in *\" -b 8 \"*) echo 'backlog 8 refused' >&2; exit 1;; esac");
    snprintf(cmd, sizeof cmd,
             "BENCH_BIN=%s bench/run smoke --models prethread --conc 2 --backlog '8 16' --reps 2 "
             "--max-reps 2 --probe 0 --max-reruns 0 "
             "--duration 0.3s --warmup 0 --seed 7 --out %s >%s.out 2>&1",
             wrapper, dir, dir);
    int st = system(cmd);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    cr_expect_eq(rc, 3, "bench/run exit %d (see %s.out)", rc, dir);
    char path[512];
    snprintf(path, sizeof path, "%s/cells", dir);
    cr_expect_eq(count_files(path), 4);
    snprintf(path, sizeof path, "%s/run.json", dir);
    expect_jq(path, ".seed == 7 and (.cells | length == 4) and .suite == \"smoke\" and "
                    "(.completed_at | type == \"string\") and (.git_commit | type == \"string\")");
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "[.configs[] | {backlog, failed, n: .stats.rps.n}] == "
                    "[{backlog: 8, failed: 2, n: null}, {backlog: 16, failed: 0, n: 2}]");
    expect_jq(path, ".configs[0].errors_seen[0] | startswith(\"server did not start\")");
    snprintf(path, sizeof path, "%s/cells/prethread-c2-w250000-b500000-bl16-wk8-none-r1.json", dir);
    expect_jq(path, ".status == \"ok\" and .server.event == \"stats\" and "
                    ".loadgen.totals.requests_ok > 0 and (.kernel.listen_overflows | type == "
                    "\"number\") and .server.requests >= .loadgen.totals.requests_ok");
    static const char *const plots[] = {"throughput", "latency", "cpu", "overflows"};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) {
            struct stat sb;
            snprintf(path, sizeof path, "%s/plots/%s.%s", dir, plots[i], k ? "svg" : "png");
            cr_expect(stat(path, &sb) == 0 && sb.st_size > 1000, "plot %s missing or empty", path);
        }
    /* The plots come again from the JSON alone, the same. */
    cr_expect_eq(sh("bench/plot %s %s/again >/dev/null 2>&1", dir, dir), 0);
    cr_expect_eq(sh("cmp -s %s/plots/throughput.svg %s/again/throughput.svg", dir, dir), 0,
                 "a redrawn plot differs");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
    sh("rm -rf %s.bin%s", dir, "");
}

/* The run directory bench/run made under base (BENCH_RESULTS), into buf; false if none yet. */
static bool made_run(const char *base, char *buf, size_t n)
{
    buf[0] = 0;
    DIR *d = opendir(base);
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, "smoke-2", 7)) {
            snprintf(buf, n, "%s/%s", base, e->d_name);
            found = true;
        }
    if (d)
        closedir(d);
    return found;
}

/* Interrupted with Ctrl-C (SIGINT) after two of four cells (two blocks of two), then finished
 * with --resume: the cells written are kept, no server of the run outlives it (the servers a
 * block started for its cells included), the rest run, and results/<suite>-latest names the
 * run only once it has finished (BENCH_RESULTS stands for results/ here). */
Test(bench, killed_midway_and_resumed, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "resume");
    sh("rm -rf %s && mkdir -p %s", dir, dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        /* A shell cannot trap a signal ignored when it started (a test run in the background
         * of a non-interactive shell has SIGINT ignored): bench/run gets it as a user would. */
        signal(SIGINT, SIG_DFL);
        setenv("BENCH_RESULTS", dir, 1);
        execl("bench/run", "bench/run", "smoke", "--models", "prethread reactor", "--conc", "1",
              "--reps", "2", "--max-reps", "2", "--probe", "0", "--max-reruns", "0", "--duration",
              "0.5s", "--warmup", "0", "--no-plots", (char *)NULL);
        _exit(127);
    }
    char run[512], cells[600];
    for (int i = 0; i < 600 && !made_run(dir, run, sizeof run); i++)
        usleep(50000);
    cr_assert(made_run(dir, run, sizeof run), "no run directory under %s", dir);
    snprintf(cells, sizeof cells, "%s/cells", run);
    /* Stop it once two of the four cells are written. */
    for (int i = 0; i < 600 && count_files(cells) < 2; i++)
        usleep(50000);
    cr_assert_geq(count_files(cells), 2, "no progress");
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    int done = count_files(cells);
    cr_expect(done >= 2 && done < 4, "%d cells before the interruption", done);
    /* no process left writing the run's logs (a server's output goes there), once the ones
     * killed have exited */
    cr_expect_eq(sh("for i in $(seq 100); do ls -l /proc/[0-9]*/fd 2>/dev/null | grep -qF -- "
                    "'%s/logs/' || exit 0; sleep 0.1; done; exit 1%s",
                    run, ""),
                 0, "a process of the interrupted run still has its logs open");
    char summary[600], latest[512];
    snprintf(summary, sizeof summary, "%s/summary.json", run);
    cr_expect_neq(access(summary, F_OK), 0, "no summary for an unfinished run");
    snprintf(latest, sizeof latest, "%s/smoke-latest", dir);
    struct stat lst;
    cr_expect_neq(lstat(latest, &lst), 0, "an interrupted run became smoke-latest");

    cr_expect_eq(sh("bench/run --resume %s --no-plots >%s.out 2>&1", run, run), 0);
    cr_expect_eq(count_files(cells), 4);
    expect_jq(summary, "[.configs[] | .stats.rps.n] == [2, 2] and all(.configs[]; .failed == 0)");
    char target[512] = "";
    ssize_t tn = readlink(latest, target, sizeof target - 1);
    if (tn > 0)
        target[tn] = 0;
    cr_expect(tn > 0 && strstr(run, target), "smoke-latest is '%s', not the finished run %s",
              target, run);
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, run);
}

/* ---- the harness under faults ---- */

/* A server that dies in the middle of its cell: a wrapper that execs the real server (keeping
 * its pid) after arranging its SIGKILL. */
Test(bench, server_dying_mid_cell_is_recorded_and_the_suite_goes_on, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "dying");
    sh("rm -rf %s %s.bin", dir, dir);
    char wrapper_dir[256], path[512];
    snprintf(wrapper_dir, sizeof wrapper_dir, "%s.bin", dir);
    wrapper_bin(wrapper_dir, "(sleep 0.4; kill -9 $$) &");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "BENCH_BIN=%s bench/run smoke --models prethread --conc 2 --reps 2 --max-reps 2 "
             "--probe 0 --max-reruns 0 --duration 1s "
             "--warmup 0 --no-plots --out %s >%s.out 2>&1",
             wrapper_dir, dir, dir);
    int st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 3, "bench/run exit 0x%x, not 3", st);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path,
              ".configs[0].failed == 2 and (.configs[0].errors_seen | all(test(\"server \")))");
    sh("rm -rf %s %s.bin", dir, dir);
    sh("rm -f %s.out%s", dir, "");
}

static bool mount_tiny(const char *where, const char *size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && mount -t tmpfs -o size=%s tmpfs %s 2>/dev/null",
             where, size, where);
    return system(cmd) == 0;
}

Test(bench, full_disk_stops_the_run_and_keeps_whole_cells, .timeout = 120)
{
    bench_env();
    char mnt[] = "/tmp/cb-bench-full-XXXXXX", out[64];
    cr_assert(mkdtemp(mnt), "mkdtemp: %s", strerror(errno));
    snprintf(out, sizeof out, "%s.out", mnt);
    if (!mount_tiny(mnt, "48k")) {
        rmdir(mnt);
        cr_skip_test("cannot mount a tmpfs here (needs root)");
    }
    char dir[256], cmd[1024];
    snprintf(dir, sizeof dir, "%s/run", mnt);
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models prethread --conc '1 2' --reps 3 --max-reps 3 --probe 0 "
             "--max-reruns 0 --duration 0.3s "
             "--warmup 0 --no-plots --out %s >%s 2>&1",
             dir, out);
    int st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "bench/run on a full disk: exit 0x%x", st);
    cr_expect_eq(sh("grep -q 'disk full\\|cannot write\\|cannot create' %s%s", out, ""), 0,
                 "no clear message (see %s)", out);
    /* Whatever cells were written are whole JSON. */
    snprintf(cmd, sizeof cmd,
             "for f in %s/cells/*.json; do [ -e \"$f\" ] || continue; jq -e .id \"$f\" "
             ">/dev/null || exit 1; done",
             dir);
    cr_expect_eq(system(cmd), 0, "a partial cell file was left");

    /* loadgen's --json on the same full disk: an error, and no partial file. */
    struct server s;
    server_start(&s, "prethread", NULL);
    snprintf(cmd, sizeof cmd,
             "%s/loadgen -p %d -n 200 -w 10 -b 10 --json %s/lg.json >/dev/null 2>&1",
             getenv("BENCH_BIN"), s.port, mnt);
    st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "loadgen on a full disk: exit 0x%x", st);
    snprintf(cmd, sizeof cmd, "%s/lg.json", mnt);
    cr_expect_neq(access(cmd, F_OK), 0, "a partial result file was left");
    server_stop(&s, NULL, 0);
    sh("umount %s%s", mnt, "");
    rmdir(mnt);
    unlink(out);
}

/* Every script answers -h and --help on stdout with status 0; bench/run refuses a missing
 * suite and every bad value before the first cell, with one line and status 2. */
Test(bench, help_usage_and_validation, .timeout = 120)
{
    bench_env();
    char tmp[] = "/tmp/cb-help-XXXXXX";
    cr_assert(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
    static const char *const scripts[] = {"run",    "plot",           "models",    "compare-models",
                                          "events", "loadgen-vs-wrk", "summarize", "compare",
                                          "export", "netns-hosts",    "noise"};
    for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++)
        for (int k = 0; k < 2; k++) {
            char cmd[512];
            snprintf(cmd, sizeof cmd,
                     "out=$(bench/%s %s 2>%s/help.err) && [ ! -s %s/help.err ] && "
                     "echo \"$out\" | grep -q 'usage: bench/%s'",
                     scripts[i], k ? "--help" : "-h", tmp, tmp, scripts[i]);
            cr_expect_eq(system(cmd), 0, "%s", cmd);
        }
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"", "no suite given"},
        {"nosuch", "no suite 'nosuch'"},
        {"../suites/smoke", "no suite '../suites/smoke'"},
        {"smoke --conc 0", "--conc '0'"},
        {"smoke --conc '4 x'", "--conc 'x'"},
        {"smoke --models 'prethread foo'", "no model 'foo'"},
        {"smoke --reps 0", "--reps '0'"},
        {"smoke --duration 5x", "--duration '5x'"},
        {"smoke --locks spin", "--locks 'spin'"},
        {"smoke --backlog 0", "--backlog '0'"},
        {"smoke --bogus", "unknown argument '--bogus'"},
        {"smoke --accepts fast", "--accepts 'fast'"},
        {"smoke --spare 5:3:10", "MIN must be below MAX"},
        {"smoke --spare 1:2:4 --workers 8", "above MAXW 4"},
        {"smoke --spare 2-4", "--spare '2-4'"},
        {"smoke --pollers kqueue", "--pollers 'kqueue'"},
        {"smoke --sieve pooled", "--sieve 'pooled'"},
        {"smoke --idle -1", "--idle '-1'"},
        {"smoke --think 5x", "--think '5x'"},
        {"smoke --rate-pct 0", "--rate-pct '0'"},
        {"smoke --rate-pct 50 --rate 100", "alternatives"},
        {"smoke --mix 1:2", "--mix '1:2'"},
        {"smoke --read-rate 0", "--read-rate '0'"},
        {"smoke --netem 'delay 10ms; rm'", "--netem"},
        {"smoke --target-ci 0", "--target-ci '0'"},
        {"smoke --target-ci 5%", "--target-ci '5%'"},
        {"smoke --max-reps 0", "--max-reps '0'"},
        {"smoke --max-reruns -1", "--max-reruns '-1'"},
        {"smoke --probe 2x", "--probe '2x'"},
        {"smoke --client-hosts a,b", "go with --server-host"},
        {"smoke --server-host s", "goes with --client-hosts"},
        {"smoke --server-host s --client-hosts a --rcmd rsh", "--rcmd 'rsh'"},
        {"smoke --server-host 's;x' --client-hosts a", "not a host name"},
        {"smoke --server-host s --client-hosts 'a,b c;'", "'c;' is not a host name"},
        {"smoke --server-host s --client-hosts a --netem 'delay 1ms'", "alternatives"},
        {"smoke --server-host cb-nosuch-ns --client-hosts a --rcmd netns",
         "no network namespace 'cb-nosuch-ns'\\|needs root"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char cmd[640];
        snprintf(cmd, sizeof cmd,
                 "bench/run %s --out %s/never >/dev/null 2>%s/bad.err; s=$?; "
                 "[ $s -eq 2 ] && grep -q -- \"%s\" %s/bad.err && [ ! -e %s/never ]",
                 bad[i].args, tmp, tmp, bad[i].says, tmp, tmp);
        cr_expect_eq(system(cmd), 0, "bench/run %s: not refused with '%s'", bad[i].args,
                     bad[i].says);
    }
    /* A model whose binary was not built. */
    char cmd[640];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/empty-bin && BENCH_BIN=%s/empty-bin bench/run smoke "
             "--out %s/never >/dev/null 2>%s/bad.err; [ $? -eq 2 ] && "
             "grep -q 'missing; run make' %s/bad.err",
             tmp, tmp, tmp, tmp, tmp);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
    sh("rm -rf %s%s", tmp, "");
}

/* The accept modes and pool sizings are dimensions of the matrix: each pool runs the modes it
 * takes (prefork self and pass, prethread self and main) with a fixed and a dynamic pool, and
 * the plots name each series by what differs from the defaults. */
Test(bench, accept_modes_and_dynamic_pools_are_cells, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "modes");
    sh("rm -rf %s%s", dir, "");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "bench/run pool --models 'prefork prethread' --conc 2 --workers 2 --locks none "
             "--accepts 'self main pass' --spare '- 1:2:4' --reps 1 --max-reps 1 --probe 0 "
             "--max-reruns 0 --duration 0.3s --seed 3 "
             "--out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/run.json", dir);
    expect_jq(path, "[.cells[] | \"\\(.model) \\(.accept) \\(.spare)\"] | sort == "
                    "[\"prefork pass -\", \"prefork pass 1:2:4\", \"prefork self -\", "
                    "\"prefork self 1:2:4\", \"prethread main -\", \"prethread main 1:2:4\", "
                    "\"prethread self -\", \"prethread self 1:2:4\"]");
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "(.configs | length == 8) and all(.configs[]; .failed == 0 and "
                    ".stats.rps.n == 1)");
    snprintf(path, sizeof path,
             "%s/cells/prethread-c2-w250000-b500000-bl511-wk2-none-main-sp1-2-4-r1.json", dir);
    expect_jq(path, ".status == \"ok\" and .server.peak_workers >= 2");
    snprintf(path, sizeof path, "%s/plots/data/percentiles", dir);
    cr_expect_eq(sh("ls %s/prethread-main-dynamic.tsv %s/prefork.tsv >/dev/null 2>&1", path, path),
                 0, "series are not named by what differs from the defaults");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
}

/* The workload dimensions are cells: pollers (only for the models that have one), sieve
 * allocation, idle connections and think time, each in the cell's record and its id, and what
 * the server was told (its stats line says the sieve allocation). */
Test(bench, workload_dimensions_are_cells, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "dims");
    sh("rm -rf %s%s", dir, "");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models 'reactor prethread' --conc 2 --work 1000 --bytes 10 "
             "--pollers '- poll' --sieve 'fresh reuse' --idle '0 3' --think 0 --reps 1 --max-reps "
             "1 --probe 0 --max-reruns 0 "
             "--duration 0.3s --warmup 0 --seed 3 --no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "(.configs | length == 12) and all(.configs[]; .failed == 0)");
    expect_jq(path, "[.configs[] | select(.model == \"prethread\") | .poller] | unique == [\"-\"]");
    expect_jq(path, "[.configs[] | select(.model == \"reactor\") | .poller] | unique == "
                    "[\"-\", \"poll\"]");
    snprintf(path, sizeof path, "%s/cells/reactor-c2-w1000-b10-bl511-poll-reuse-i3-r1.json", dir);
    expect_jq(path, ".status == \"ok\" and .server.sieve_alloc == \"reuse\" and "
                    ".loadgen.config.idle == 3 and .loadgen.totals.idle_greeted == 3 and "
                    "(.loadgen.config.argv | index([\"--idle\"]) != null)");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
}

/* Precision: the noise floor probe is timed 5 times and kept in run.json; neighbours not yet
 * decided get further blocks of their own in rounds, up to --max-reps blocks, a model alone in
 * its configuration further repetitions until within --target-ci, and what stays wide is
 * flagged noisy with a cause; every cell records what else the machine did. */
Test(bench, adaptive_repetitions_and_the_noise_floor, .timeout = 180)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "adapt");
    sh("rm -rf %s%s", dir, "");
    char cmd[1024];
    /* A target no run can reach: every configuration goes to --max-reps. */
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models 'reactor prethread' --conc 2 --work 1000 --bytes 10 "
             "--reps 2 --max-reps 4 --budget 100 --target-ci 0.0001 --probe 0.1s --max-reruns 0 "
             "--duration 0.3s --warmup 0 --seed 5 --no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/run.json", dir);
    expect_jq(path, ".noise_floor | (.rates | length == 5) and (.cv_pct >= 0) and .median > 0");
    expect_jq(path, "(.cells | length == 8) and ([.cells[] | .round // 1] | unique == [1, 2, 3])");
    expect_jq(path, ".matrix | .TARGET_CI == \"0.0001\" and .MAX_REPS == \"4\"");
    snprintf(path, sizeof path, "%s.out", dir);
    cr_expect(file_contains(path, "noise floor on this machine: CV"), "no noise floor printed");
    cr_expect(file_contains(path, "with further repetitions)"),
              "the ETA does not give its bound with further repetitions");
    cr_expect(file_contains(path, "round 3: 1 pair(s) of neighbours not yet decided"),
              "no third round announced");
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "all(.configs[]; .reps == 4 and .stats.rps.n == 4 and .noisy "
                    "and (.noise_cause | test(\"over 4 repetitions|disturbed|steal\")) "
                    "and .best.rps >= .stats.rps.median)");
    snprintf(path, sizeof path, "%s/cells/reactor-c2-w1000-b10-bl511-r4.json", dir);
    expect_jq(path, ".interference | .window_s > 0 and (.foreign_cpu_pct | type == \"number\") "
                    "and .server_cpu_s > 0 and .client_cpu_s > 0 and (.steal_pct >= 0)");
    /* the fourth repetition came in round 3, in a block of its own with prethread's fourth */
    expect_jq(path, ".round == 3 and .block == 4");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);

    /* The budget: 25% of the first pass's 4 cells is one further cell, less than a pair's
     * block: none is run, and the run says why. */
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models 'reactor prethread' --conc 2 --work 1000 --bytes 10 "
             "--reps 2 --max-reps 4 --budget 25 --target-ci 0.0001 --probe 0 --max-reruns 0 "
             "--duration 0.3s --warmup 0 --seed 5 --no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "all(.configs[]; .reps == 2 and (.noise_cause "
                    "| test(\"--budget|disturbed|steal\")))");
    snprintf(path, sizeof path, "%s.out", dir);
    cr_expect(file_contains(path, "is spent"), "the spent budget is not said");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);

    /* A model in two pairs (prethread: against reactor and against its A/A copy) is measured
     * once for each, and both pairs get their blocks up to --max-reps however many
     * repetitions that gives it */
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models 'prethread reactor' --aa yes --conc 2 --work 1000 --bytes "
             "10 --reps 2 --max-reps 4 --budget 300 --probe 0 --max-reruns 0 --duration 0.3s "
             "--warmup 0 --no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, ".verdicts[0] | .pairs[0].n == 4 and .aa.n == 4");
    expect_jq(path, "[.configs[] | select(.model == \"prethread\") | .reps] == [6]");
    sh("rm -rf %s %s.out", dir, dir);

    /* A model alone in its configuration: further repetitions while wider than the target
     * (none is: 0.0001%), up to --max-reps; a target every run meets: none. */
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models reactor --conc 2 --work 1000 --bytes 10 --reps 2 "
             "--max-reps 3 --budget 100 --target-ci 0.0001 --probe 0 --max-reruns 0 "
             "--duration 0.3s "
             "--warmup 0 --no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "all(.configs[]; .reps == 3 and .noisy)");
    snprintf(path, sizeof path, "%s.out", dir);
    cr_expect(file_contains(path, "1 model(s) alone in a configuration not yet within +-0.0001%"),
              "no round for a model alone");
    sh("rm -rf %s %s.out", dir, dir);
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models reactor --conc 2 --work 1000 --bytes 10 --reps 2 "
             "--max-reps 4 --target-ci 1000 --probe 0 --max-reruns 0 --duration 0.3s --warmup 0 "
             "--no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "all(.configs[]; .reps == 2 and (.noisy | not) and .noise_cause == null)");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
}

/* The order is made of blocks: each configuration's contenders (two models and the A/A copy
 * of the first, --aa) back to back, in an order of their own in each block, the blocks
 * numbered as they run; the cells record their block, and the verdicts pair by it. A cell
 * lost from the middle of a block is run again by --resume under the same block. */
Test(bench, blocks_pair_the_models_and_resume_keeps_them, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "blocks");
    sh("rm -rf %s%s", dir, "");
    cr_assert_eq(sh("bench/run smoke --models 'prethread reactor' --aa yes --conc '1 2' --work "
                    "1000 --bytes 10 --reps 3 --max-reps 3 --seed 7 --probe 0 --max-reruns 0 "
                    "--duration 0.1s --warmup 0 --no-plots --out %s >%s.out 2>&1",
                    dir, dir),
                 0, "bench/run failed (see %s.out)", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/run.json", dir);
    /* six blocks of three, one configuration and repetition each, every contender once */
    expect_jq(path, "[.cells[].block] == [1,1,1,2,2,2,3,3,3,4,4,4,5,5,5,6,6,6]");
    expect_jq(path, "[.cells | group_by(.block)[] | [(map(.model) | sort), (map([.conc, .rep]) "
                    "| unique | length)]] | all(.[]; . == [[\"prethread\", \"prethread~aa\", "
                    "\"reactor\"], 1])");
    expect_jq(path, "[.cells | group_by(.block)[] | map([.conc, .rep])[0]] | unique | length == 6");
    /* the orders within blocks differ (with seed 7) */
    expect_jq(path, "[.cells | group_by(.block)[] | map(.model)] | unique | length > 1");
    /* each cell file says its block, as run.json does */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "jq -s -e --slurpfile r %s/run.json 'map({(.id): .block}) | add as $f "
             "| all($r[0].cells[]; $f[\"\\(.model)-c\\(.conc)-w1000-b10-bl511\\(if "
             ".workers then \"-wk\\(.workers)-none\" else \"\" end)-r\\(.rep)\"] "
             "== .block)' %s/cells/*.json >/dev/null",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "a cell's block is not run.json's: %s", cmd);
    /* each configuration's first block in a random order, every later one in the order of
     * the ranking so far (the medians of the blocks before it), from the top in odd blocks
     * and from the bottom in even ones; the A/A copy beside its model (after it in odd
     * blocks, before it in even ones) */
    snprintf(cmd, sizeof cmd,
             "jq -s -c 'map({model: .cell.model, conc: .cell.conc, block, rps: "
             ".loadgen.totals.rps})' %s/cells/*.json >%s/c.json && jq -n -e --slurpfile r "
             "%s/run.json --slurpfile c %s/c.json 'def med: sort | if length %% 2 == 1 then "
             ".[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end; "
             "[$r[0].cells | group_by(.block)[] | {b: .[0].block, conc: .[0].conc, models: "
             "map(.model)}] as $bl | all($bl[]; . as $x | ([$bl[] | select(.conc == $x.conc and "
             ".b < $x.b)] | length) == 0 or ($x.models == ($x.models | map(. as $m | "
             "($m | rtrimstr(\"~aa\")) as $base | {m: $m, a: (if $m == $base then 0 else -1 "
             "end), v: ([$c[0][] | select(.model == $base and .conc == $x.conc and .block < "
             "$x.b) | .rps] | med)}) | sort_by([.v, .a]) | (if $x.b %% 2 == 1 then reverse "
             "else . end) | map(.m))))' "
             ">/dev/null",
             dir, dir, dir, dir);
    cr_expect_eq(system(cmd), 0, "a block is not in the order of the ranking so far: %s", cmd);
    /* a block's servers all listen before the first of its cells is measured */
    snprintf(cmd, sizeof cmd,
             "jq -s -e 'group_by(.block) | all(.[]; all(.[]; .server_started == \"block\") and "
             "(map(.server_started_ns) | max) < (map(.loadgen.wall_clock.t0_ns) | min))' "
             "%s/cells/*.json >/dev/null",
             dir);
    cr_expect_eq(system(cmd), 0, "a block's servers did not all start before its first cell: %s",
                 cmd);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, ".verdicts | length == 2 and all(.[]; (.ranking | length == 2) and "
                    ".pairs[0].n == 3 and .aa.model == \"prethread\" and .aa.n == 3)");
    /* a cell lost from the middle of block 3: --resume runs it again, in block 3 */
    snprintf(cmd, sizeof cmd,
             "id=$(jq -r '.cells[7] | \"\\(.model)-c\\(.conc)-w1000-b10-bl511\\(if "
             ".workers then \"-wk\\(.workers)-none\" else \"\" end)-r\\(.rep)\"' "
             "%s/run.json) && rm %s/cells/$id.json %s/summary.json && bench/run --resume %s "
             "--no-plots >>%s.out 2>&1 && jq -e '.block == 3' %s/cells/$id.json >/dev/null",
             dir, dir, dir, dir, dir, dir);
    cr_assert_eq(system(cmd), 0, "the cell resumed is not in block 3 (see %s.out)", dir);
    expect_jq(path, "all(.verdicts[]; .pairs[0].n == 3 and .aa.n == 3)");
    snprintf(cmd, sizeof cmd, "jq -s -e 'all(.[]; .round == 1)' %s/cells/*.json >/dev/null", dir);
    cr_expect_eq(system(cmd), 0, "a cell of the first pass does not say round 1");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
}

/* A cell during which something else keeps a core busy is run again (--max-reruns), the
 * earlier attempt kept in logs/, and the summary counts it. The attempts run in the cell's
 * place in its block: the first cell's attempts, then the second's. */
Test(bench, disturbed_cells_are_run_again, .timeout = 180)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "disturb");
    sh("rm -rf %s%s", dir, "");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "bash -c 'while ((SECONDS < 60)); do :; done' & hog=$!; "
             "bench/run smoke --models 'prethread reactor' --conc 2 --work 1000 --bytes 10 "
             "--reps 1 "
             "--max-reps 1 --probe 0 --max-reruns 1 --duration 0.5s --warmup 0 --no-plots "
             "--out %s >%s.out 2>&1; rc=$?; kill $hog; exit $rc",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/cells/prethread-c2-w1000-b10-bl511-wk8-none-r1.json", dir);
    expect_jq(path, ".reruns == 1 and (.rerun_reasons[0] | test(\"foreign CPU\")) and "
                    ".interference.disturbed and .interference.foreign_cpu_pct > 10");
    snprintf(path, sizeof path, "%s/logs/prethread-c2-w1000-b10-bl511-wk8-none-r1.attempt1.json",
             dir);
    expect_jq(path, ".status == \"ok\" and .interference.disturbed");
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "all(.configs[]; .reruns == 1 and .disturbed == 1 and "
                    ".interference.foreign_cpu_pct_max > 10)");
    /* The machine's CPU per request holds the burner's share: it is at least the server's and
     * the client's, and more by half a core over the cell's window (the burner is one of at
     * most three runnable tasks on at least two CPUs) */
    snprintf(cmd, sizeof cmd,
             "jq -e --slurpfile s %s/summary.json '.interference as $i "
             "| .loadgen.totals.requests_ok as $ok "
             "| ($s[0].configs[] | select(.model == \"prethread\") "
             "| .stats.machine_cpu_ms_per_req.median * $ok / 1000) as $machine "
             "| $machine - $i.server_cpu_s - $i.client_cpu_s >= 0.5 * $i.window_s' "
             "%s/cells/prethread-c2-w1000-b10-bl511-wk8-none-r1.json >/dev/null",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "the burner's CPU is not in the machine's: %s", cmd);
    snprintf(path, sizeof path, "%s.out", dir);
    cr_expect(file_contains(path, "running it again (1 of 1)"), "no rerun announced");
    /* both in block 1, and each cell's second attempt came before the next cell began */
    snprintf(cmd, sizeof cmd,
             "grep -E '^\\[[12]/2\\]|running it again' %s.out | awk '{ printf \"%%s\", $1 }'", dir);
    char order[64] = "";
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (!fgets(order, sizeof order, p))
        order[0] = 0;
    pclose(p);
    cr_expect_str_eq(order, "[1/2]cell[2/2]cell", "the attempts are not in the cells' places");
    snprintf(cmd, sizeof cmd, "jq -s -e 'map(.block) == [1, 1]' %s/cells/*.json >/dev/null", dir);
    cr_expect_eq(system(cmd), 0, "a re-run cell left its block");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
}

/* --rate-pct: a closed-loop calibration cell per repetition first, then each open-loop cell at
 * its percentage of the calibration cells' median throughput, recorded as its target. */
Test(bench, rate_suite_calibrates_first, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "rate");
    sh("rm -rf %s%s", dir, "");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models reactor --conc 4 --work 1000 --bytes 10 --reps 2 --max-reps "
             "2 --probe 0 --max-reruns 0 "
             "--rate-pct '20 50' --duration 0.4s --warmup 0 --seed 4 --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    char path[512];
    snprintf(path, sizeof path, "%s/run.json", dir);
    expect_jq(path, "[.cells[].rate_pct] | .[0:2] == [null, null] and (.[2:] | sort) == "
                    "[20, 20, 50, 50]");
    snprintf(path, sizeof path, "%s/cells", dir);
    char filter[1024];
    snprintf(filter, sizeof filter,
             "([.[] | select(.cell.rate_pct == null) | .loadgen.totals.rps] | sort | add / 2) "
             "as $cap | [.[] | select(.cell.rate_pct != null)] | length == 4 and "
             "all(.[]; .status == \"ok\" and .loadgen.config.mode == \"open\" and "
             "(.capacity_rps - $cap | fabs) < 0.01 and "
             "(.target_rps - .capacity_rps * .cell.rate_pct / 100 | fabs) < 0.01 and "
             ".loadgen.config.rate_rps == .target_rps)");
    snprintf(cmd, sizeof cmd, "jq -se '%s' %s/*.json >/dev/null", filter, path);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
    snprintf(path, sizeof path, "%s/plots/rate.png", dir);
    cr_expect_eq(access(path, F_OK), 0, "no latency-throughput plot");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
}

/* --netem where it cannot run (not root, or no netem qdisc in the kernel, as on the machine
 * these were written on): every cell is recorded as skipped with the reason, nothing fails,
 * no plot is drawn from nothing, and the host's interfaces are as they were. */
Test(bench, netem_unavailable_cells_are_skipped_with_the_reason, .timeout = 120)
{
    bench_env();
    char dirbuf[64];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "netem");
    sh("rm -rf %s%s", dir, "");
    /* A kernel without the netem qdisc, wherever this runs: a tc first in PATH that answers
     * as tc does there (without root, bench/run stops before tc, for the same outcome). */
    char cmd[1024];
    sh("mkdir -p %s.path && printf '#!/bin/sh\\necho \"Error: Specified qdisc kind is unknown.\" "
       ">&2\\nexit 2\\n' > %s.path/tc",
       dir, dir);
    sh("chmod +x %s.path/tc%s", dir, "");
    snprintf(cmd, sizeof cmd,
             "ip -o link > %s.links0 2>/dev/null; "
             "PATH=%s.path:$PATH bench/run smoke --models 'iterative prethread' --conc 2 "
             "--reps 2 --max-reps 2 --probe 0 --max-reruns 0 "
             "--netem 'delay 10ms loss 0.1%%' --out %s >%s.out 2>&1; echo $? > %s.rc; "
             "ip -o link > %s.links1 2>/dev/null",
             dir, dir, dir, dir, dir, dir);
    cr_assert_eq(system(cmd), 0);
    char path[512];
    snprintf(path, sizeof path, "%s.rc", dir);
    cr_expect(exit_status_is(path, 0), "bench/run did not exit 0 (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "(.configs | length == 2) and all(.configs[]; .failed == 0 and "
                    ".skipped == 2 and (.errors_seen | length == 1) and "
                    "(.errors_seen[0] | test(\"netem|root\")))");
    snprintf(path, sizeof path, "%s.out", dir);
    cr_expect(file_contains(path, "recorded as skipped"), "no reason printed");
    cr_expect(file_contains(path, "2 skipped") || file_contains(path, "4 skipped"));
    cr_expect_eq(sh("cmp -s %s.links0 %s.links1", dir, dir), 0, "the host's links changed");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
    sh("rm -f %s.rc %s.links0", dir, dir);
    sh("rm -f %s.links1%s", dir, "");
    sh("rm -rf %s.path%s", dir, "");
}

/* A model this machine cannot run says so at start-up ("unavailable here: ..."), as uring-srv
 * does where io_uring is disabled: bench/run records its cells as skipped with that reason and
 * goes on; the other models' cells run. A stand-in uring-srv gives the line here. */
Test(bench, model_unavailable_here_is_skipped_with_the_reason, .timeout = 120)
{
    bench_env();
    char dirbuf[64], bindir[96], path[256];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "unavail");
    snprintf(bindir, sizeof bindir, "%s-bin", dir);
    sh("rm -rf %s %s", dir, bindir);
    wrapper_bin(bindir, ":");
    snprintf(path, sizeof path, "%s/uring-srv", bindir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "#!/bin/sh\necho 'uring-srv: unavailable here: io_uring is disabled "
               "(kernel.io_uring_disabled, or a seccomp filter) (Operation not permitted)' >&2\n"
               "exit 1\n");
    fclose(f);
    chmod(path, 0755);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "BENCH_BIN=%s bench/run smoke --models 'prethread uring' --conc 2 --reps 2 --max-reps "
             "2 --probe 0 --max-reruns 0 "
             "--duration 0.3s --warmup 0 --out %s >%s.out 2>&1",
             bindir, dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run did not exit 0 (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "[.configs[] | {model, failed, skipped, ran: .stats.rps.n}] == "
                    "[{model: \"prethread\", failed: 0, skipped: 0, ran: 2}, "
                    "{model: \"uring\", failed: 0, skipped: 2, ran: null}]");
    expect_jq(path, ".configs[1].errors_seen == [\"uring-srv unavailable here: io_uring is "
                    "disabled (kernel.io_uring_disabled, or a seccomp filter) (Operation not "
                    "permitted)\"]");
    sh("rm -rf %s %s", dir, bindir);
    sh("rm -f %s.out%s", dir, "");
}

/* What every ok cell across hosts holds (jq, after "all(.[];"): the merged count is the
 * server's own and 200 in all, the connections add up to the cell's, and each host's clock
 * offset is bounded: the namespaces share one clock, so a host's reading is never later than
 * its arrival here, and earlier by less than the round trip to the first reading. */
#define HOSTS_CELL_HOLDS                                                                           \
    " .server.requests == .loadgen.totals.requests_ok"                                             \
    " and .loadgen.totals.requests_ok == 200"                                                      \
    " and ([.hosts[].connections] | add) == .cell.conc"                                            \
    " and all(.hosts[]; .clock_offset_ms <= 0 and .clock_offset_ms >= -.clock_rtt_ms)"

/* The start of a test across namespaces as hosts: skipped, with the reason, without root or
 * pdsh (or sshd); the run's directory (under tag) and a namespace prefix of this process. */
static const char *hosts_test(char *dir, size_t n, const char *tag, char *prefix, size_t pn,
                              bool sshd)
{
    if (geteuid() != 0)
        cr_skip_test("needs root: network namespaces (ip netns) are made for the hosts");
    if (system("command -v pdsh >/dev/null") != 0)
        cr_skip_test("needs pdsh (apt-get install pdsh)");
    if (sshd && access("/usr/sbin/sshd", X_OK) != 0)
        cr_skip_test("needs sshd (apt-get install openssh-server)");
    bench_env();
    snprintf(prefix, pn, "cb%c%ld", tag[0], (long)getpid() % 100000);
    return run_dir(dir, n, tag);
}

/* Three hosts made of network namespaces (a server and two clients, veth links): the smoke
 * suite's models run across them through pdsh's exec module, each cell's loadgen results of
 * both client hosts are merged, and the merged count is the server's own (its stats line). */
Test(bench, smoke_suite_across_three_namespaces, .timeout = 300)
{
    char dirbuf[64], prefix[32], cmd[2048], path[512];
    const char *dir = hosts_test(dirbuf, sizeof dirbuf, "hosts", prefix, sizeof prefix, false);
    sh("rm -rf %s %s.opts", dir, dir);
    snprintf(cmd, sizeof cmd, "ip -o link > %s.links0; bench/netns-hosts up --prefix %s > %s.opts",
             dir, prefix, dir);
    /* As root with ip and pdsh, the namespaces must come up: a failure here is a failure. */
    cr_assert_eq(system(cmd), 0, "bench/netns-hosts up failed (as root, with ip and pdsh)");
    snprintf(path, sizeof path, "%s.opts", dir);
    char want[256];
    snprintf(want, sizeof want,
             "--server-host %s-srv --server-addr 10.77.0.1 --client-hosts "
             "%s-c1,%s-c2 --rcmd netns",
             prefix, prefix, prefix);
    cr_expect(file_contains(path, want), "bench/netns-hosts prints the options");
    /* A fixed count per cell, no warm-up: the server serves exactly what the clients count. */
    snprintf(cmd, sizeof cmd,
             "bench/run smoke $(cat %s.opts) --reps 1 --max-reps 1 --probe 0 --max-reruns 0 "
             "--requests 200 --warmup 0 --seed 3 --out %s --no-plots >%s.out 2>&1; echo $? >%s.rc",
             dir, dir, dir, dir);
    int st = system(cmd);
    snprintf(cmd, sizeof cmd, "bench/netns-hosts down --prefix %s; ip -o link > %s.links1", prefix,
             dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(st, 0);
    snprintf(path, sizeof path, "%s.rc", dir);
    cr_expect(exit_status_is(path, 0), "bench/run did not exit 0 (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    /* The smoke suite runs every model of the registry at two concurrencies. */
    FILE *reg = popen("bench/models names | wc -l", "r");
    cr_assert(reg);
    int models = 0;
    cr_expect_eq(fscanf(reg, "%d", &models), 1);
    pclose(reg);
    char holds[128];
    snprintf(holds, sizeof holds, "(.configs | length == %d) and all(.configs[]; .failed == 0)",
             2 * models);
    expect_jq(path, holds);
    snprintf(cmd, sizeof cmd, "jq -s 'map(select(.status == \"ok\")) | length' %s/cells/*.json",
             dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    int ok = 0;
    cr_expect_eq(fscanf(p, "%d", &ok), 1);
    pclose(p);
    cr_expect_geq(ok, 2 * models - 2, "every model but one unavailable here ran (%d cells ok)", ok);
    snprintf(cmd, sizeof cmd,
             "jq -se 'map(select(.status == \"ok\")) | all(.[];" HOSTS_CELL_HOLDS
             " and .loadgen.latency_us.total.count == 200"
             " and (.loadgen.merged_from | length) == 2"
             " and (.hosts | length) == 2"
             " and ([.hosts[].loadgen.totals.requests_ok] | add) == 200"
             " and all(.hosts[]; (.kernel | type) == \"string\" and .num_cpus > 0)"
             " and .server_argv[2] == \"10.77.0.1\")' %s/cells/*.json >/dev/null",
             dir);
    cr_expect_eq(system(cmd), 0, "merged totals against the servers' (see %s/cells)", dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    expect_jq(path, ".matrix.RCMD == \"netns\" and .matrix.SERVER_ADDR == \"10.77.0.1\"");
    cr_expect_eq(sh("cmp -s %s.links0 %s.links1", dir, dir), 0, "the host's links changed");
    snprintf(cmd, sizeof cmd, "ip netns list | grep -q '^%s-'", prefix);
    cr_expect_neq(system(cmd), 0, "namespaces left behind");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
    sh("rm -f %s.rc %s.opts", dir, dir);
    sh("rm -f %s.links0 %s.links1", dir, dir);
}

/* The same across ssh: an sshd in each namespace (its own keys, nothing outside the run's
 * directory changed), bench/run in the server's namespace (the clients' links end there)
 * with --rcmd ssh, so every command goes through pdsh's ssh module as on real hosts. */
Test(bench, two_models_across_namespaces_over_ssh, .timeout = 300)
{
    char dirbuf[64], prefix[32], cmd[2048], path[512];
    const char *dir = hosts_test(dirbuf, sizeof dirbuf, "ssh", prefix, sizeof prefix, true);
    sh("rm -rf %s %s-ssh", dir, dir);
    snprintf(cmd, sizeof cmd,
             "bench/netns-hosts up --prefix %s >/dev/null && "
             "tests/sshd-netns.sh up %s-ssh %s 2 > %s.sshargs",
             prefix, dir, prefix, dir);
    int up = system(cmd);
    if (up == 0) {
        snprintf(cmd, sizeof cmd,
                 "PDSH_SSH_ARGS=\"$(cat %s.sshargs)\" ip netns exec %s-srv bench/run smoke "
                 "--models 'prethread reactor' --server-host 10.77.0.1 "
                 "--client-hosts 10.77.1.2,10.77.2.2 --rcmd ssh --reps 1 --max-reps 1 --probe 0 "
                 "--max-reruns 0 --requests 200 --warmup 0 --out %s --no-plots >%s.out 2>&1; "
                 "echo $? >%s.rc",
                 dir, prefix, dir, dir, dir);
        cr_expect_eq(system(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "tests/sshd-netns.sh down %s-ssh; bench/netns-hosts down --prefix %s",
             dir, prefix);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(up, 0, "tests/sshd-netns.sh could not build namespaces with an sshd in each");
    snprintf(path, sizeof path, "%s.rc", dir);
    cr_expect(exit_status_is(path, 0), "bench/run did not exit 0 (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "(.configs | length == 4) and all(.configs[]; .failed == 0 and .skipped == 0)");
    snprintf(cmd, sizeof cmd,
             "jq -se 'length == 4 and all(.[];" HOSTS_CELL_HOLDS " and .status == \"ok\""
             " and ([.hosts[].host] | sort) == [\"10.77.1.2\", \"10.77.2.2\"]"
             " and .interference == null)' %s/cells/*.json >/dev/null",
             dir);
    cr_expect_eq(system(cmd), 0, "merged totals against the servers' (see %s/cells)", dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    expect_jq(path, ".matrix.RCMD == \"ssh\" and .matrix.SERVER_HOST == \"10.77.0.1\"");
    snprintf(cmd, sizeof cmd, "ip netns list | grep -q '^%s-'", prefix);
    cr_expect_neq(system(cmd), 0, "namespaces left behind");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s-ssh", dir, dir);
    sh("rm -f %s.rc %s.out", dir, dir);
    sh("rm -f %s.sshargs%s", dir, "");
}

/* Every suite target of the Makefile, as the README shows it, with DRY_RUN=1: exit 0, the
 * suite's cells counted and timed, no server started and no run written. The counts are
 * the suites' matrices (README: the suites table). */
Test(bench, every_make_suite_target_dry_runs, .timeout = 300)
{
    static const struct {
        const char *target, *cells;
    } t[] = {
        {"bench", "384"},        {"smoke", "66"},       {"book", "50 30"},
        {"sweep-backlog", "54"}, {"sweep-pool", "168"}, {"workloads", "165 180 99 132 297 66"},
    };
    char out[] = "/tmp/cb-dry-XXXXXX";
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0);
    close(fd);
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "ls results > %s.before; make --no-print-directory %s DRY_RUN=1 > %s 2>&1; "
                 "echo $? > %s.rc; ls results > %s.after",
                 out, t[i].target, out, out, out);
        cr_assert_eq(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s.rc", out);
        cr_expect(exit_status_is(cmd, 0), "make %s DRY_RUN=1 did not exit 0 (see %s)", t[i].target,
                  out);
        snprintf(cmd, sizeof cmd,
                 "[ \"$(sed -n 's/^cells: \\([0-9]*\\) .*/\\1/p' %s | paste -sd ' ')\" = '%s' ]",
                 out, t[i].cells);
        cr_expect_eq(system(cmd), 0, "make %s DRY_RUN=1: not the cells %s (see %s)", t[i].target,
                     t[i].cells, out);
        snprintf(cmd, sizeof cmd,
                 "[ $(grep -c '^estimated time: [0-9]' %s) -eq $(grep -c '^cells: ' %s) ] && "
                 "! grep -q '\"event\":\"listening\"\\|ETA' %s && cmp -s %s.before %s.after",
                 out, out, out, out, out);
        cr_expect_eq(system(cmd), 0, "make %s DRY_RUN=1: no estimate, or something ran (see %s)",
                     t[i].target, out);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -f %s %s.rc %s.before %s.after", out, out, out, out);
    cr_expect_eq(system(cmd), 0);
}

/* Runs are shared: bench/plot on runs whose output path, title, swept values and model names
 * hold quotes, semicolons, gnuplot's system(), backquotes and $(...) draws them as text or
 * refuses them with a message, and runs nothing they say (tests/plot-hostile.sh). */
Test(bench, plot_takes_a_run_as_data_never_as_code, .timeout = 300)
{
    char dir[] = "/tmp/cb-hostile-XXXXXX";
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tests/plot-hostile.sh %s", dir);
    cr_expect_eq(system(cmd), 0, "%s: see the lines above", cmd);
    sh("rm -rf %s%s", dir, "");
}

/* A run directory someone shares is data: --resume refuses values that fail their option's
 * check (a model outside the registry, a path in an id, nginx.conf text in a number), a link
 * planted where the run writes is replaced, not followed, and closed standard streams change
 * nothing (tests/run-hostile.sh). */
Test(bench, resume_takes_a_run_as_data_never_as_code, .timeout = 900)
{
    bench_env();
    char dir[] = "/tmp/cb-runhostile-XXXXXX";
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tests/run-hostile.sh %s", dir);
    cr_expect_eq(system(cmd), 0, "%s: see the lines above", cmd);
    sh("rm -rf %s%s", dir, "");
}

/* The table of dimensions: bench/run --dimensions prints every option with its make
 * variable, JSON key and default; and every valued option reaches bench/run from make by its
 * variable (a bad value is refused naming the option: it was passed, none is dropped). */
Test(bench, one_table_of_dimensions_and_make_passes_every_one, .timeout = 300)
{
    expect_jq_cmd(
        "bench/run --dimensions",
        "length > 30 and all(.[]; has(\"option\") and has(\"make_variable\") and "
        "has(\"json_key\") and has(\"default\")) and (map(.option) | index(\"--server-cpus\")) "
        "and (.[] | select(.option == \"--server-cpus\") | .make_variable == \"SERVER_CPUS\" "
        "and .json_key == \"server.cpus\" and .default == \"auto\") and "
        "(.[] | select(.option == \"--client-cpus\") | .make_variable == \"CLIENT_CPUS\" and "
        ".json_key == \"loadgen.cpus\")");
    /* Free text, and the options that only go together, say so otherwise. */
    const char *free_text = " TITLE SERVER_HOST SERVER_ADDR CLIENT_HOSTS ";
    FILE *p = popen("bench/run --dimensions | jq -r '.[] | select(.kind == \"dimension\" or "
                    ".kind == \"setting\") | \"\\(.make_variable) \\(.option)\"'",
                    "r");
    cr_assert(p);
    char var[64], opt[64];
    int n = 0;
    while (fscanf(p, "%63s %63s", var, opt) == 2) {
        char pad[72];
        snprintf(pad, sizeof pad, " %s ", var);
        if (strstr(free_text, pad))
            continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "make --no-print-directory smoke DRY_RUN=1 %s='9x;y' 2>&1 | grep -qF -- \"%s '\"",
                 var, opt);
        cr_expect_eq(system(cmd), 0, "make %s=... did not reach bench/run %s", var, opt);
        n++;
    }
    pclose(p);
    cr_expect_geq(n, 25, "only %d options tried", n);
}

/* CPU placement, end to end: the server and loadgen start with the CPUs asked for (a wrapper
 * server records its own affinity), each cell records them (server.cpus, loadgen.cpus, and
 * in its record), the summary and the export carry them, and make passes them. */
Test(bench, cpu_placement_end_to_end, .timeout = 120)
{
    bench_env();
    char dirbuf[64], wrapper[128], cmd[1024], path[512];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "cpus");
    snprintf(wrapper, sizeof wrapper, "%s.bin", dir);
    sh("rm -rf %s %s", dir, wrapper);
    char pre[256];
    snprintf(pre, sizeof pre, "grep Cpus_allowed_list /proc/self/status >> %s.affinity", dir);
    wrapper_bin(wrapper, pre);
    snprintf(cmd, sizeof cmd,
             "BENCH_BIN=%s bench/run smoke --models prethread --conc 2 --work 1000 --bytes 10 "
             "--reps 1 --max-reps 1 --probe 0 --max-reruns 0 --duration 0.3s --warmup 0 "
             "--server-cpus 0 --client-cpus 1 --out %s >%s.out 2>&1",
             wrapper, dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    snprintf(path, sizeof path, "%s.affinity", dir);
    cr_expect(file_contains(path, "Cpus_allowed_list:\t0"), "the server did not run on CPU 0");
    snprintf(path, sizeof path, "%s/cells/prethread-c2-w1000-b10-bl511-wk8-none-sc0-cc1-r1.json",
             dir);
    expect_jq(path, ".status == \"ok\" and .server.cpus == \"0\" and .loadgen.cpus == \"1\" and "
                    ".cell.server_cpus == \"0\" and .cell.client_cpus == \"1\"");
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, ".configs[0] | .server_cpus == \"0\" and .client_cpus == \"1\"");
    snprintf(cmd, sizeof cmd, "bench/export %s --format csv | head -n1 | grep -q server_cpus", dir);
    cr_expect_eq(system(cmd), 0, "no server_cpus column in the export");
    snprintf(cmd, sizeof cmd,
             "make --no-print-directory smoke DRY_RUN=1 MODELS=reactor CONC=4 SERVER_CPUS=1 "
             "CLIENT_CPUS=0 | grep -q '^reactor-c4-w250000-b500000-bl511-sc1-cc0 '");
    cr_expect_eq(system(cmd), 0, "make does not pass SERVER_CPUS and CLIENT_CPUS");
    /* Fewer than 4 CPUs and no placement asked: no pinning, said in run.json. */
    snprintf(cmd, sizeof cmd,
             "[ $(nproc) -ge 4 ] || { bench/run smoke --models reactor --conc 2 --work 1000 "
             "--bytes 10 --reps 1 --max-reps 1 --probe 0 --duration 0.2s --warmup 0 --no-plots "
             "--out %s.auto >/dev/null 2>&1 && jq -e '.placement.server_cpus == \"-\" and "
             "(.placement.note | test(\"no pinning\"))' %s.auto/run.json >/dev/null; }",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "auto placement on fewer than 4 CPUs");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s", dir, wrapper);
    sh("rm -rf %s.auto %s.out", dir, dir);
    sh("rm -f %s.affinity%s", dir, "");
}

/* nginx driven by wrk beside the models (--peers nginx): its cells hold wrk's figures and
 * nginx's CPU; what nginx cannot do (a sieve) and a missing nginx are skipped with the
 * reason. */
Test(bench, nginx_as_a_peer, .timeout = 180)
{
    bench_env();
    char dirbuf[64], cmd[1024], path[512];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "peer");
    sh("rm -rf %s %s.none", dir, dir);
    if (system("command -v nginx >/dev/null && command -v wrk >/dev/null") != 0)
        cr_skip_test("needs nginx and wrk (ci/install-deps.sh --bench)");
    snprintf(cmd, sizeof cmd,
             "bench/run smoke --models reactor --peers nginx --conc 4 --work '0 1000' --bytes 10 "
             "--keep 0 --reps 1 --max-reps 1 --probe 0 --max-reruns 0 --duration 0.5s "
             "--warmup 0 --no-plots --out %s >%s.out 2>&1",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "bench/run failed (see %s.out)", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    expect_jq(path, "[.configs[] | select(.work == 0) | {model, ok: (.stats.rps.median > 0)}] == "
                    "[{model: \"reactor\", ok: true}, {model: \"nginx\", ok: true}, "
                    "{model: \"nginx-cpus\", ok: true}]");
    expect_jq(path, "[.configs[] | select(.work == 1000 and (.model | startswith(\"nginx\")))] "
                    "| length == 2 and all(.[]; .skipped == 1 and (.errors_seen[0] | "
                    "test(\"no sieve\")))");
    snprintf(path, sizeof path, "%s/cells/nginx-cpus-c4-w0-b10-bl511-k0-r1.json", dir);
    expect_jq(path, ".status == \"ok\" and .server.peer == \"nginx\" and .server.workers >= 1 and "
                    ".server.requests > 0 and .loadgen.tool == \"wrk\" and "
                    ".loadgen.totals.requests_ok == .server.requests and "
                    ".loadgen.latency_us.total.p99 >= .loadgen.latency_us.total.p50");
    snprintf(cmd, sizeof cmd,
             "BENCH_NGINX= bench/run smoke --models reactor --peers nginx --conc 4 --work 0 "
             "--bytes 10 --reps 1 --max-reps 1 --probe 0 --duration 0.3s --warmup 0 --no-plots "
             "--out %s.none >/dev/null 2>&1 && jq -e '[.configs[] | select(.model | "
             "startswith(\"nginx\"))] | length == 2 and all(.[]; .skipped == 1 and "
             "(.errors_seen[0] | test(\"nginx is not installed\")))' %s.none/summary.json "
             ">/dev/null",
             dir, dir);
    cr_expect_eq(system(cmd), 0, "a missing nginx is not skipped with the reason");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.none", dir, dir);
    sh("rm -f %s.out%s", dir, "");
}

/* bench/noise (a benchmark: its figures are the machine's) measures each part it reports: the
 * seconds of one run, runs with their own servers (with the warm-up asked), and every design's
 * pairs, with a ratio of an A/A comparison near 1; it refuses values it cannot use. */
Test(bench, noise_reports_every_part, .timeout = 180)
{
    bench_env();
    char out[64], cmd[512];
    snprintf(out, sizeof out, "/tmp/cb-noise-%d.json", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "bench/noise -L 16 -d 1 -W 0.2 -n 3 -s 1 -w 1000 -B 100 -c 2 -j %s >%s.out 2>&1", out,
             out);
    cr_assert_eq(system(cmd), 0, "bench/noise failed (see %s.out)", out);
    expect_jq(out, ".within_run.seconds >= 16 and (.within_run.cv_pct | keys == [\"1\", \"2\", "
                   "\"4\", \"8\"]) and .between_runs.runs == 3 and ([.designs[].design] == "
                   "[\"unpaired\", \"blocks\", \"warm blocks\", \"alternate 1s\"]) and "
                   ".between_runs.warmup_s == 0.2 and "
                   "all(.designs[]; .pairs == 3 and (.ratio_cv_pct | type == \"number\")) and "
                   "all(.designs[1:][]; .ratio_median > 0.5 and .ratio_median < 2)");
    snprintf(cmd, sizeof cmd, "%s.out", out);
    cr_expect(file_contains(cmd, "the ratio prethread/prethread, by design"), "no table");
    cr_expect_neq(system("bench/noise -n 2 2>/dev/null"), 0, "-n 2 accepted");
    cr_expect_neq(system("bench/noise -a ../x 2>/dev/null"), 0, "a model outside the registry");
    cr_expect_neq(system("bench/noise -W '1;x' 2>/dev/null"), 0, "-W not a number of seconds");
    sh("rm -f %s %s.out", out, out);
}

/* ---- bench/advise ---- */

/* bench/advise's decision on a screening made up by hand (tests/fixtures/advise: prethread
 * and thread not told apart on throughput, thread with 20% less CPU per request and five
 * times the memory per connection; reactor decided slower; fork with 20% of its requests
 * failed; iterative serving 1 of 4 clients; leader failed; uring skipped), edited by EDIT and
 * decided with the terms OPTS (a JSON object over the defaults): FILTER holds. */
static void expect_decision(const char *edit, const char *opts, const char *filter)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "jq -n -e -L bench --slurpfile s tests/fixtures/advise/summary.json --slurpfile t "
             "tests/fixtures/advise/targets.json --argjson o '%s' 'include \"advise\"; ($s[0] | "
             "%s) as $S | decide($S; $t[0]; {slo_pct: \"\", slo_us: 0, cls_pct: \"\", cls_us: 0, "
             "rate: null, conc: 4, kinds: {iterative: \"one\", prethread: \"pool\"}} + $o) | %s' "
             ">/dev/null",
             opts, edit, filter);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
}

/* The drop rules, each with the reason it measured; the others kept in the verdicts' order. */
Test(bench, advise_drops_a_model_by_what_it_measured)
{
    expect_decision(".", "{}",
                    "[.candidates[] | select(.reason) | .model] == [\"iterative\", \"fork\", "
                    "\"leader\", \"uring\"] and [.candidates[] | select(.reason == null) | .model] "
                    "== [\"prethread\", \"thread\", \"reactor\"]");
    expect_decision(".", "{}",
                    "(.candidates | map({(.model): .reason}) | add) as $r | ($r.iterative == "
                    "\"served 1 of 4 clients in a whole cell: it serves one client at a time and "
                    "the others wait for the whole cell\") and ($r.fork == \"20% of its requests "
                    "failed (50 a cell, the median)\") and ($r.leader == \"failed: server did not "
                    "start: leader-srv: cannot bind\") and ($r.uring == \"skipped: uring-srv "
                    "unavailable here: io_uring is disabled\")");
    /* an open loop: the rate carried, not the clients served; the models that carry it are
     * tied on throughput and taken in the tie-break's order */
    expect_decision(".", "{\"rate\": 800}",
                    ".leaders == [\"thread\", \"prethread\"] and .pick == \"thread\" and "
                    ".preferred == [\"thread\", \"prethread\"]");
    expect_decision(".", "{\"rate\": 800}",
                    "(.candidates | map({(.model): .reason}) | add) as $r | $r.reactor == "
                    "\"carried 600 of the 800 requests a second asked (75%)\" and $r.iterative == "
                    "\"carried 300 of the 800 requests a second asked (37.5%)\"");
    /* a target missed by more than twice drops; by less keeps, but not as the answer */
    expect_decision(".", "{\"slo_pct\": \"p99\", \"slo_us\": 30000}",
                    "(.candidates | map({(.model): .}) | add) as $c | $c.thread.reason == \"p99 "
                    "80 ms against the 30 ms target\" and $c.prethread.reason == null and "
                    "$c.prethread.misses and .leaders == [\"reactor\"] and .pick == \"reactor\"");
    expect_decision(".", "{\"slo_pct\": \"p99\", \"slo_us\": 50000}",
                    ".pick == \"prethread\" and .leaders == [\"prethread\"] and .tie_break == null "
                    "and (.candidates[] | select(.model == \"thread\") | .misses and .reason == "
                    "null)");
}

/* Leaders not told apart: less CPU per request (by more than 5%) decides, else less memory
 * per connection. */
Test(bench, advise_breaks_a_tie_by_cpu_then_memory)
{
    expect_decision(".", "{}",
                    ".leaders == [\"prethread\", \"thread\"] and .pick == \"thread\" and "
                    "(.tie_break | test(\"thread-srv spends less CPU per request \\\\(0.4 ms "
                    "against 0.5 ms\"))");
    expect_decision(".configs[1].stats.cpu_ms_per_req.median = 0.49", "{}",
                    ".pick == \"prethread\" and (.tie_break | test(\"CPU per request within 5%.*"
                    "prethread-srv holds less memory per connection \\\\(prethread-srv 10 KiB, "
                    "thread-srv 50 KiB\\\\)\"))");
    /* one leader: no tie to break */
    expect_decision(".verdicts[0].ranking[1].group = 2", "{}",
                    ".leaders == [\"prethread\"] and .pick == \"prethread\" and .tie_break == "
                    "null");
}

/* The record: recommended (its command with the model's -w and -b), candidates with their
 * verdicts, dropped with reasons, the runner-up as the pair's ratio, runs. */
Test(bench, advise_writes_its_record)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "jq -n -L bench --slurpfile s tests/fixtures/advise/summary.json --slurpfile t "
             "tests/fixtures/advise/targets.json 'include \"advise\"; decide($s[0]; $t[0]; "
             "{slo_pct: \"\", slo_us: 0, cls_pct: \"\", cls_us: 0, rate: null, conc: 4, kinds: "
             "{}}) as $d | answer($d; []; {cpus: 2, kernel: \"6.1\", somaxconn: \"4096\", "
             "nofile: \"1024\"}; {conc: \"4\"}; []; \"/r/screen\"; \"/b\"; 1; \"\"; \"\"; 60)'");
    expect_jq_cmd(cmd, ".recommended | .model == \"thread\" and .command == \"/b/thread-srv -b "
                       "511\" and .rps == 990 and .rps_ci == [940.5, 1039.5] and .blocks == 6 "
                       "and .workers == null and .backlog == 511 and .sized == false");
    expect_jq_cmd(cmd, "[.candidates[] | [.model, .verdict]] == [[\"prethread\", \"not told "
                       "apart\"], [\"thread\", \"recommended\"], [\"reactor\", \"slower\"]] and "
                       "all(.candidates[]; has(\"rps\") and has(\"rps_ci\") and has(\"p99_us\"))");
    expect_jq_cmd(cmd, "[.dropped[].model] == [\"iterative\", \"fork\", \"leader\", \"uring\"] "
                       "and all(.dropped[]; .reason | length > 0) and .runs == [\"/r/screen\"]");
    expect_jq_cmd(cmd, ".runner_up == {model: \"prethread\", rps: 1000, cpu_ms_per_req: 0.5, "
                       "ratio: 1.01, ci: [0.98, 1.04], verdict: \"equivalent\"}");
    /* bench/tune's -w and -b in a closed loop; with a target, -w stays where the target was
     * measured and only -b is bench/tune's */
    char sized[4096];
    const char *tuned = "[{model: \"prethread\", dir: \"/r/t\", recommended: {workers: 2, backlog: "
                        "64, rps: 900, p99_us: 100}}]";
    snprintf(sized, sizeof sized,
             "jq -n -L bench --slurpfile s tests/fixtures/advise/summary.json --slurpfile t "
             "tests/fixtures/advise/targets.json 'include \"advise\"; decide($s[0]; $t[0]; "
             "{slo_pct: \"p99\", slo_us: 50000, cls_pct: \"\", cls_us: 0, rate: null, conc: 4, "
             "kinds: {}}) as $d | answer($d; %s; {cpus: 2, kernel: \"6.1\", somaxconn: "
             "\"4096\", nofile: \"1024\"}; {conc: \"4\"}; []; \"/r/screen\"; \"/b\"; 1; "
             "\"p99=50ms\"; \"\"; 60)'",
             tuned);
    expect_jq_cmd(sized, ".recommended | .command == \"/b/prethread-srv -w 8 -b 64\" and "
                         ".workers_from == \"screen\" and .tuned_workers == 2 and .sized and "
                         ".target_percentile == \"p99\" and .target_us == 40000");
    snprintf(sized, sizeof sized,
             "jq -n -L bench --slurpfile s tests/fixtures/advise/summary.json --slurpfile t "
             "tests/fixtures/advise/targets.json 'include \"advise\"; ($s[0] | "
             ".verdicts[0].ranking[1].group = 2) as $S | decide($S; $t[0]; {slo_pct: \"\", "
             "slo_us: 0, cls_pct: \"\", cls_us: 0, rate: null, conc: 4, kinds: {}}) as $d | "
             "answer($d; %s; {cpus: 2, kernel: \"6.1\", somaxconn: \"4096\", nofile: "
             "\"1024\"}; {conc: \"4\"}; []; \"/r/screen\"; \"/b\"; 1; \"\"; \"\"; 60)'",
             tuned);
    expect_jq_cmd(sized, ".recommended | .command == \"/b/prethread-srv -w 2 -b 64\" and "
                         ".workers_from == \"tune\" and .tuned.rps == 900");
    /* an open loop: a model that carries the rate beside three leaders is behind them on CPU,
     * not slower */
    snprintf(sized, sizeof sized,
             "jq -n -L bench --slurpfile s tests/fixtures/advise/summary.json --slurpfile t "
             "tests/fixtures/advise/targets.json 'include \"advise\"; ($s[0] | "
             ".verdicts[0].ranking[2].group = 1 | .verdicts[0].ranking[3].group = 1 | "
             ".configs[2].stats.rps.median = 790 | .configs[2].stats.cpu_ms_per_req.median = 0.9 | "
             ".configs[4].stats.rps.median = 795 | .configs[4].stats.cpu_ms_per_req.median = 1) "
             "as $S | decide($S; $t[0]; {slo_pct: \"\", slo_us: 0, cls_pct: \"\", cls_us: 0, "
             "rate: 800, conc: 4, kinds: {}}) as $d | answer($d; []; {cpus: 2, kernel: \"6.1\", "
             "somaxconn: \"4096\", nofile: \"1024\"}; {conc: \"4\", rate: \"800\"}; []; "
             "\"/r/screen\"; \"/b\"; 1; \"\"; \"\"; 60)'");
    expect_jq_cmd(sized, "[.candidates[] | [.model, .verdict]] == [[\"prethread\", \"not told "
                         "apart\"], [\"thread\", \"recommended\"], [\"reactor\", \"not told "
                         "apart\"], [\"iterative\", \"carries the rate, more CPU per "
                         "request\"]]");
    /* no answer from fewer blocks than a verdict needs */
    snprintf(sized, sizeof sized,
             "jq -n -L bench --slurpfile s tests/fixtures/advise/summary.json --slurpfile t "
             "tests/fixtures/advise/targets.json 'include \"advise\"; ($s[0] | "
             ".configs[1].stats.rps.n = 4) as $S | decide($S; $t[0]; {slo_pct: \"\", slo_us: 0, "
             "cls_pct: \"\", cls_us: 0, rate: null, conc: 4, kinds: {}}) as $d | answer($d; []; "
             "{cpus: 2, kernel: \"6.1\", somaxconn: \"4096\", nofile: \"1024\"}; {conc: "
             "\"4\"}; []; \"/r/screen\"; \"/b\"; 1; \"\"; \"\"; 60)'");
    expect_jq_cmd(sized, ".recommended == null and .no_answer == \"thread-srv leads, but from 4 "
                         "blocks, fewer than the 6 a verdict needs (its other cells failed: see "
                         "the screening)\"");
    /* the page escapes what it shows; the lines name the command */
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd),
             " | jq -r -L bench 'include \"advise\"; "
             "page' | grep -c 'id=\"verdict\"'");
    expect_jq_cmd(cmd, ". == 1");
}

/* The whole of it, small: iterative dropped for the clients it never served (kept
 * connections, four clients), the others screened in six blocks, the leaders sized by
 * bench/tune, the answer on stdout, in advice.json and on its page. */
Test(bench, advise_end_to_end, .timeout = 300)
{
    bench_env();
    char dirbuf[64], cmd[1024], path[512];
    const char *dir = run_dir(dirbuf, sizeof dirbuf, "advise");
    sh("rm -rf %s%s", dir, "");
    snprintf(cmd, sizeof cmd,
             "bench/advise --models 'iterative prethread reactor' --conc 4 --keep 0 --work 1000 "
             "--bytes 100 --quick --duration 0.3s --warmup 0.1s --out %s >%s.out 2>%s.err",
             dir, dir, dir);
    cr_assert_eq(system(cmd), 0, "bench/advise failed (see %s.err)", dir);
    snprintf(path, sizeof path, "%s/advice.json", dir);
    expect_jq(path, ".dropped | length == 1 and .[0].model == \"iterative\" and (.[0].reason | "
                    "test(\"^served 1 of 4 clients\"))");
    expect_jq(path, ".recommended | (.model == \"prethread\" or .model == \"reactor\") and .sized "
                    "and (.command | test(\"/(prethread|reactor)-srv( -w [0-9]+)? -b [0-9]+$\")) "
                    "and .rps > 0 and (.rps_ci | length == 2) and .blocks >= 6");
    expect_jq(path, "(.candidates | map(.model) | sort) == [\"prethread\", \"reactor\"] and "
                    "(.runs | length) >= 2");
    snprintf(cmd, sizeof cmd,
             "jq -r '.runs[]' %s | while read -r d; do test -s \"$d/summary.json\" -o -s "
             "\"$d/tune.json\" || exit 1; done",
             path);
    cr_expect_eq(system(cmd), 0, "a run named in advice.json is not there");
    snprintf(cmd, sizeof cmd, "grep -qF \"$(jq -r .recommended.command %s)\" %s.out", path, dir);
    cr_expect_eq(system(cmd), 0, "stdout does not give the command line");
    snprintf(path, sizeof path, "%s/advice.html", dir);
    cr_expect(file_contains(path, "id=\"verdict\""), "no verdict on the page");
    if (getenv("CB_KEEP"))
        return;
    sh("rm -rf %s %s.out", dir, dir);
    sh("rm -f %s.err%s", dir, "");
}

/* make advise takes its workload and terms from make's command line, as the other targets
 * do: a value reaches bench/advise (and bench/run) as given, whatever it holds. */
Test(bench, make_advise_passes_its_variables, .timeout = 120)
{
    cr_expect_eq(sh("make -s advise DRY_RUN=1 QUICK=1 MODELS='prethread reactor' CONC=3 "
                    "WORK=1234 KEEP=0 >%s 2>&1 && grep -q '^prethread-c3-w1234-.*-k0 *6 ' %s",
                    "/tmp/cb-advise-make.out", "/tmp/cb-advise-make.out"),
                 0, "make advise's dry run (see /tmp/cb-advise-make.out)");
    cr_expect_eq(sh("make -s advise DRY_RUN=1 CONC='1 2' >%s 2>&1; grep -q \"one value\" %s",
                    "/tmp/cb-advise-make.out", "/tmp/cb-advise-make.out"),
                 0, "CONC with two values was not refused");
    cr_expect_eq(
        sh("make -s advise DRY_RUN=1 SLO='p42=1ms;touch /tmp/cb-advise-x' >%s 2>&1; "
           "grep -q \"^bench/advise: --slo 'p42=1ms;touch /tmp/cb-advise-x'\" %s && ! test "
           "-e /tmp/cb-advise-x",
           "/tmp/cb-advise-make.out", "/tmp/cb-advise-make.out"),
        0, "a bad SLO was not refused as data");
    sh("rm -f %s%s", "/tmp/cb-advise-make.out", "");
}
