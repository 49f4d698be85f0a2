/* bench/run: runs a benchmark suite, a matrix of models x the suite's dimensions x
 * repetitions, and leaves one directory of JSON behind.
 *
 * The dimensions and settings are one table (dims.c): what an option is called, its make
 * variable, its default, the models that take it, its key in a cell's record. A cell is a
 * record of one value per dimension; the matrix (matrix.c) is every model against the values
 * it takes, shuffled with a recorded seed so that drift favours no model. For every cell (cell.c):
 * the server starts (its ready line gives the port), loadgen runs, the server stops with SIGTERM
 * and its stats line is kept, with the kernel's listen counters and what else the machine did.
 * Configurations not yet known to within --target-ci get further repetitions in rounds
 * (bstats.c decides), a cell disturbed by other work runs again, and every file is written
 * whole: a cell that fails is recorded with its error and the suite goes on. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bstats.h"
#include "cli.h"
#include "orch.h"
#include "peer.h"
#include "proc.h"
#include "run.h"
#include "statcmd.h"

/* This file: the options, the order of the cells, the rounds, the end; the suite file and
 * the checks are run_check.c's, run.json run_json.c's (run.h). */

static struct run R;

/* ---- the noise floor ---- */

static void noise_floor(struct run *r)
{
    const char *probe = val(r, "PROBE");
    if (is_zero_duration(probe) || jdoc_get(r->doc, "noise_floor"))
        return;
    say("bench/run: timing the CPU probe, 5 runs of %s\n", probe);
    double rates[5];
    char path[PATH_MAX], out[4096], err[64];
    bufprintf(path, sizeof path, "%s/probe", r->bin);
    for (int i = 0; i < 5; i++) {
        const char *argv[] = {path, "-d", probe, NULL};
        json_object *j = NULL;
        if (proc_capture(argv, out, sizeof out, 600000) != 0 ||
            jdoc_parse(out, strlen(out), &j, err, sizeof err) < 0) {
            if (proc_interrupted) /* the probe was stopped with us */
                return;
            die("bin/probe failed");
        }
        rates[i] = jdoc_num(jdoc_get(j, "rate"), 0);
        json_object_put(j);
        if (proc_interrupted)
            return;
    }
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    jdoc_set(o, "probe",
             json_object_new_string(
                 internf("bin/probe: sieves of 10^6 on one thread, 5 runs of %s", probe)));
    for (int i = 0; i < 5; i++)
        json_object_array_add(a, jdoc_number(rates[i]));
    jdoc_set(o, "rates", a);
    double sorted[5];
    memcpy(sorted, rates, sizeof sorted);
    jdoc_set(o, "median", jdoc_number(bs_median(sorted, 5)));
    double m = bs_mean(rates, 5), cv = m > 0 ? bs_stddev(rates, 5) / m * 100 : 0;
    jdoc_set(o, "cv_pct", jdoc_number(round(cv * 100) / 100));
    run_json_save(r, "noise_floor", o);
}

/* ---- configurations: what the cells written say ---- */

struct config {
    char key[512]; /* the cell id without its repetition */
    size_t first;  /* a cell of it (in the order) */
    int reps, failed, skipped;
    double rps[64];
    int nrps;
    double ci_pct; /* -1: not known */
};

static size_t configs_of(struct run *r, struct config **out)
{
    struct config *c = calloc(r->ncells ? r->ncells : 1, sizeof *c);
    size_t n = 0;
    if (!c)
        die("out of memory");
    for (size_t i = 0; i < r->ncells; i++) {
        char key[512], id[512], path[PATH_MAX];
        cell_id(&r->cells[i], false, key, sizeof key);
        cell_id(&r->cells[i], true, id, sizeof id);
        bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
        json_object *j = NULL;
        if (!read_json(path, &j))
            continue; /* not run */
        size_t k = 0;
        while (k < n && strcmp(c[k].key, key))
            k++;
        if (k == n) {
            bufprintf(c[n].key, sizeof c[n].key, "%s", key);
            c[n].first = i;
            n++;
        }
        c[k].reps++;
        json_object *st = jdoc_get(j, "status");
        const char *s = jdoc_str(st) ? jdoc_str(st) : "";
        if (!strcmp(s, "failed"))
            c[k].failed++;
        else if (!strcmp(s, "skipped"))
            c[k].skipped++;
        else if (!strcmp(s, "ok") && c[k].nrps < 64) {
            json_object *v = jdoc_path(j, "loadgen.totals.rps");
            if (jdoc_is_num(v))
                c[k].rps[c[k].nrps++] = jdoc_num(v, 0);
        }
        json_object_put(j);
    }
    for (size_t k = 0; k < n; k++) {
        double v[64];
        memcpy(v, c[k].rps, sizeof v);
        c[k].ci_pct = bs_ci_pct(v, (size_t)c[k].nrps);
    }
    *out = c;
    return n;
}

/* mkdir -p: path and every directory above it; 0, or -1 with errno. */
static int make_dirs(const char *path)
{
    char p[PATH_MAX];
    if (strlen(path) >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(p, path, strlen(path) + 1);
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c != '\0')
            continue;
        char was = *c;
        *c = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -1;
        *c = was;
        if (!was)
            break;
    }
    struct stat st;
    if (stat(p, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ---- the cells, in order ---- */

static long long t_start;
static size_t ran, done_before;

static size_t count_round(const struct run *r, bool later)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ncells; i++)
        n += later ? r->cells[i].round > 1 : r->cells[i].round <= 1;
    return n;
}

static void on_interrupt(struct run *r)
{
    say("\nbench/run: interrupted; finish it with: bench/run --resume %s\n", r->dir);
    cell_teardown(r);
    exit(130);
}

/* The cell's file (cells/<id>.json) into path. */
static const char *cell_path(const struct run *r, const struct cell *c, char *path, size_t n)
{
    char id[512];
    cell_id(c, true, id, sizeof id);
    bufprintf(path, n, "%s/cells/%s.json", r->dir, id);
    return path;
}

/* Reads a cell's throughput from its file, once. */
static void learn(struct cell *c, const char *path)
{
    json_object *j = NULL;
    c->known = true;
    c->rps = -1;
    if (read_json(path, &j)) {
        const char *st = jdoc_str(jdoc_get(j, "status"));
        json_object *v = jdoc_path(j, "loadgen.totals.rps");
        if (st && !strcmp(st, "ok") && jdoc_is_num(v))
            c->rps = jdoc_num(v, 0);
        json_object_put(j);
    }
}

/* The median throughput so far of the contender cell c measures (the cells with its id but
 * the repetition), or -1 when none has run. */
static double so_far(const struct run *r, const struct cell *c)
{
    char key[512], other[512];
    double v[1024];
    size_t n = 0;
    cell_id(c, false, key, sizeof key);
    for (size_t i = 0; i < r->ncells && n < 1024; i++)
        if (r->cells[i].known && r->cells[i].rps >= 0 &&
            !strcmp(cell_id(&r->cells[i], false, other, sizeof other), key))
            v[n++] = r->cells[i].rps;
    return n ? bs_median(v, n) : -1;
}

/* Before a block of the first pass begins (none of its cells run yet): its contenders in the
 * order of the ranking so far, by median throughput, from the top in odd blocks and from the
 * bottom in even ones, so that neighbours in the ranking run back to back and each runs
 * first as often as second; an A/A copy runs beside its model. A block keeps its random order while
 * one of its contenders has no measurement yet (the configuration's first block). */
static void order_block(struct run *r, size_t i)
{
    int b = r->cells[i].block;
    if (b <= 0 || r->cells[i].round > 1 || (i > 0 && r->cells[i - 1].block == b))
        return;
    size_t j = i;
    while (j < r->ncells && r->cells[j].block == b)
        j++;
    if (j - i < 3 || j - i > 256)
        return;
    double m[256];
    char path[PATH_MAX];
    for (size_t k = i; k < j; k++)
        if (access(cell_path(r, &r->cells[k], path, sizeof path), F_OK) == 0 ||
            (m[k - i] = so_far(r, &r->cells[k])) < 0)
            return;
    /* The A/A copy (MODEL~aa) runs right beside its model, after it in odd blocks and before
     * it in even ones: its ratio is then the machine's over one cell, as a neighbour pair's is,
     * and not over the cells its own median happened to rank between them. */
    for (size_t k = i; k < j; k++) {
        const char *mk = cv(&r->cells[k], "MODELS");
        size_t n = strlen(mk);
        if (n < 4 || strcmp(mk + n - 3, "~aa"))
            continue;
        for (size_t x = i; x < j; x++) {
            const char *mx = cv(&r->cells[x], "MODELS");
            if (strlen(mx) == n - 3 && !strncmp(mx, mk, n - 3))
                m[k - i] = m[x - i] * (1 - 1e-9);
        }
    }
    bool down = b % 2 == 1;
    for (size_t k = i + 1; k < j; k++) /* insertion sort: a block is a dozen cells */
        for (size_t x = k; x > i && (down ? m[x - i] > m[x - 1 - i] : m[x - i] < m[x - 1 - i]);
             x--) {
            struct cell t = r->cells[x];
            r->cells[x] = r->cells[x - 1];
            r->cells[x - 1] = t;
            double tm = m[x - i];
            m[x - i] = m[x - 1 - i];
            m[x - 1 - i] = tm;
        }
    run_json_save(r, NULL, NULL);
}

static void run_order(struct run *r, size_t budget)
{
    for (size_t i = 0; i < r->ncells; i++) {
        char path[PATH_MAX];
        if (access(cell_path(r, &r->cells[i], path, sizeof path), F_OK) == 0) {
            if (!r->cells[i].known)
                learn(&r->cells[i], path);
            continue;
        }
        order_block(r, i);
        cell_path(r, &r->cells[i], path, sizeof path);
        char eta[160] = "";
        if (ran > 0) {
            long long per_ms = (now_ns(CLOCK_MONOTONIC) - t_start) / 1000000 / (long long)ran;
            long long left = (long long)r->ncells - (long long)done_before - (long long)ran;
            char e[32];
            fmt_eta(e, sizeof e, (long)(per_ms * left / 1000));
            int u = snprintf(eta, sizeof eta, ", ETA %s", e);
            long long more = (long long)budget - (long long)count_round(r, true);
            if (more > 0) {
                fmt_eta(e, sizeof e, (long)(per_ms * (left + more) / 1000));
                bufprintf(eta + u, sizeof eta - (size_t)u, " (at most %s with further repetitions)",
                          e);
            }
        }
        say("[%zu/%zu] %s c=%s rep %d%s\n", i + 1, r->ncells, cv(&r->cells[i], "MODELS"),
            cv(&r->cells[i], "CONC"), r->cells[i].rep, eta);
        /* a block's servers start together, before the first of its cells */
        int b = r->cells[i].block;
        if (b > 0 && b != r->warm_block) {
            size_t j = i;
            while (j < r->ncells && r->cells[j].block == b)
                j++;
            r->warm_block = b;
            if (j - i > 1)
                cell_block_up(r, &r->cells[i], j - i);
        }
        run_attempts(r, &r->cells[i]);
        if (proc_interrupted)
            on_interrupt(r);
        if (i + 1 == r->ncells || r->cells[i + 1].block != b)
            cell_block_down(r);
        learn(&r->cells[i], path);
        ran++;
    }
    cell_block_down(r);
}

/* bench/summarize into summary.json (written whole). */
static void summarize(struct run *r)
{
    char prog[PATH_MAX], out[PATH_MAX], tmp[PATH_MAX];
    bufprintf(prog, sizeof prog, "%s/bench/summarize", r->here);
    bufprintf(out, sizeof out, "%s/summary.json", r->dir);
    bufprintf(tmp, sizeof tmp, "%s/summary.json.tmp.%d", r->dir, (int)getpid());
    const char *argv[] = {prog, r->dir, NULL};
    struct spawn s = {.argv = argv, .out = tmp};
    char err[256];
    pid_t pid = proc_start(&s, err, sizeof err);
    int st = 0;
    if (pid < 0 || proc_wait(pid, -1, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        unlink(tmp);
        die("cannot write %s", out);
    }
    struct stat sb;
    if (stat(tmp, &sb) < 0 || sb.st_size == 0 || rename(tmp, out) < 0) {
        unlink(tmp);
        die("cannot write %s (disk full?)", out);
    }
}

static int cmp_fewest(const void *a, const void *b)
{
    const struct vd_open *x = a, *y = b;
    return (x->n > y->n) - (x->n < y->n);
}

/* The configuration of configs_of whose key is key, or NULL. */
static struct config *config_by_key(struct config *c, size_t n, const char *key)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(c[k].key, key))
            return &c[k];
    return NULL;
}

/* A configuration further cells may go to: every cell of it ran and none failed, and (when
 * it is alone in its configuration; a pair's bound is its blocks, vd_open's) fewer than
 * max_reps repetitions. */
static bool may_grow(const struct config *c, bool alone, int max_reps)
{
    return c && c->failed == 0 && c->skipped == 0 && (!alone || c->reps < max_reps);
}

/* The next cell of configuration g: its first cell again, one repetition on. */
static struct cell next_of(const struct run *r, const struct config *g, int round, int block)
{
    struct cell c = r->cells[g->first];
    int rep = 0;
    char key[512];
    for (size_t i = 0; i < r->ncells; i++)
        if (!strcmp(cell_id(&r->cells[i], false, key, sizeof key), g->key) && r->cells[i].rep > rep)
            rep = r->cells[i].rep;
    c.rep = rep + 1;
    c.round = round;
    c.block = block;
    c.known = false;
    return c;
}

/* The stopping rule: after the first pass, rounds of further blocks where they can decide
 * something, while the budget lasts: for each pair of neighbours in a ranking not yet decided
 * on throughput, one more block of the two (back to back, in a random order), up to MAX_REPS
 * blocks compared; for each model alone in its configuration whose throughput is not yet
 * within +-TARGET_CI%, one more cell. The pairs compared in the fewest blocks first; the
 * blocks of a round shuffled, calibration cells first. The verdicts are at the level that
 * keeps the false-alarm rate over all these looks at 5% (vd_level). */
static void further_rounds(struct run *r, size_t budget)
{
    int reps = atoi(val(r, "REPS")), max_reps = atoi(val(r, "MAX_REPS"));
    double target = strtod(val(r, "TARGET_CI"), NULL);
    struct vd_rule rule = {strtod(val(r, "EQUIVALENCE"), NULL), vd_level(reps, max_reps)};
    int round = 1;
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].round > round)
            round = r->cells[i].round;
    while (max_reps > reps) {
        struct vd_open *open;
        size_t no = vd_open(r->dir, &rule, (size_t)max_reps, &open);
        struct config *c;
        size_t nc = configs_of(r, &c);
        qsort(open, no, sizeof *open, cmp_fewest);
        /* the blocks wanted: a pair's two configurations, or a lone one's */
        struct config *(*want)[2] = malloc((no ? no : 1) * sizeof *want);
        size_t nw = 0, npairs = 0, cells = 0;
        for (size_t k = 0; k < no; k++) {
            struct config *a = config_by_key(c, nc, open[k].a);
            struct config *b = open[k].b[0] ? config_by_key(c, nc, open[k].b) : NULL;
            bool alone = !open[k].b[0];
            if (!may_grow(a, alone, max_reps) || (!alone && !may_grow(b, false, max_reps)))
                continue;
            if (!b && !(a->ci_pct < 0 || a->ci_pct > target))
                continue;
            want[nw][0] = a;
            want[nw++][1] = b;
            npairs += b != NULL;
        }
        free(open);
        size_t spent = count_round(r, true), take = 0;
        while (take < nw && spent + cells + 1 + (want[take][1] != NULL) <= budget)
            cells += 1 + (want[take++][1] != NULL);
        if (nw == 0 || take == 0) {
            if (nw > 0)
                say("bench/run: %zu pair(s) of neighbours not yet decided, %zu model(s) alone "
                    "in a configuration not yet within +-%s%%; the budget of %zu further cells "
                    "(--budget %s%%) is spent\n",
                    npairs, nw - npairs, val(r, "TARGET_CI"), budget, val(r, "BUDGET"));
            free(want);
            free(c);
            break;
        }
        round++;
        /* the blocks in a random order, calibration blocks first; each block's cells in a
         * random order */
        uint64_t seed = strtoull(val(r, "SEED"), NULL, 10) + (uint64_t)round;
        size_t *order = malloc(take * sizeof *order), nord = 0;
        for (int pass = 0; pass < 2; pass++) {
            size_t from = nord;
            for (size_t k = 0; k < take; k++)
                if (!strcmp(cv(&r->cells[want[k][0]->first], "RATE_PCT"), "-") == (pass == 0))
                    order[nord++] = k;
            shuffle_index(order + from, nord - from, seed + (uint64_t)pass);
        }
        say("bench/run: round %d: %zu pair(s) of neighbours not yet decided, %zu model(s) alone "
            "in a configuration not yet within +-%s%%: one more block for %zu\n",
            round, npairs, nw - npairs, val(r, "TARGET_CI"), take);
        int block = next_block(r);
        for (size_t k = 0; k < take; k++) {
            struct config *const *w = want[order[k]];
            struct cell two[2];
            size_t n = 0;
            for (int i = 0; i < 2; i++)
                if (w[i])
                    two[n++] = next_of(r, w[i], round, block);
            shuffle(two, n, seed ^ (uint64_t)block);
            for (size_t i = 0; i < n; i++)
                add_cell(r, &two[i]);
            block++;
        }
        run_json_save(r, NULL, NULL);
        free(order);
        free(want);
        free(c);
        run_order(r, budget);
    }
}

/* ---- the end: summary, table, latest link, plots ---- */

static int finish(struct run *r)
{
    summarize(r);
    if (ran > 0 || !jdoc_get(r->doc, "completed_at")) {
        char t[40];
        run_iso_now(t, sizeof t);
        run_json_save(r, "completed_at", json_object_new_string(t));
    }
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/summary.json", r->dir);
    json_object *s = NULL;
    if (!read_json(path, &s))
        die("cannot read %s", path);
    json_object *cfg = jdoc_get(s, "configs");
    long failed = 0, skipped = 0, noisy = 0, reruns = 0;
    bool any_rps = false;
    for (size_t i = 0; i < jdoc_len(cfg); i++) {
        json_object *c = jdoc_at(cfg, i);
        failed += (long)jdoc_num(jdoc_get(c, "failed"), 0);
        skipped += (long)jdoc_num(jdoc_get(c, "skipped"), 0);
        reruns += (long)jdoc_num(jdoc_get(c, "reruns"), 0);
        json_object *nz = jdoc_get(c, "noisy");
        noisy += jdoc_true(nz);
        json_object *rps = jdoc_path(c, "stats.rps");
        any_rps |= json_object_is_type(rps, json_type_object);
    }
    json_object_put(s);
    say("bench/run: done: %zu cells (%ld run again after interference), %ld failed, %ld "
        "skipped, %ld noisy configuration(s) (throughput not within +-%s%%)\n",
        r->ncells, reruns, failed, skipped, noisy, val(r, "TARGET_CI"));
    char prog[PATH_MAX];
    bufprintf(prog, sizeof prog, "%s/bench/export", r->here);
    const char *exp[] = {prog, r->dir, "--format", "md", NULL};
    struct spawn sp = {.argv = exp, .inherit = true};
    char err[256];
    int st;
    pid_t pid = proc_start(&sp, err, sizeof err);
    if (pid > 0)
        proc_wait(pid, -1, &st);
    /* results/<suite>-latest names the newest finished run: beside a run bench/run named
     * (<suite>-<timestamp>), not one given its own name with --out. */
    const char *base = strrchr(r->dir, '/') ? strrchr(r->dir, '/') + 1 : r->dir;
    size_t sl = strlen(r->suite);
    if (!r->out_given && !strncmp(base, r->suite, sl) && base[sl] == '-' &&
        strlen(base + sl + 1) == 16 && base[sl + 9] == 'T' && base[sl + 16] == 'Z') {
        char link[PATH_MAX], tmp[PATH_MAX];
        bufprintf(link, sizeof link, "%.*s/%s-latest", (int)(base - 1 - r->dir), r->dir, r->suite);
        bufprintf(tmp, sizeof tmp, "%s.tmp.%d", link, (int)getpid());
        if (symlink(base, tmp) == 0 && rename(tmp, link) < 0)
            unlink(tmp);
    }
    printf("%s\n", r->dir);
    fflush(stdout);
    if (r->plots && !any_rps) {
        say("bench/run: no cell ran; nothing to plot\n");
    } else if (r->plots) {
        bufprintf(prog, sizeof prog, "%s/bench/plot", r->here);
        const char *plot[] = {prog, r->dir, NULL};
        struct spawn pp = {.argv = plot, .inherit = true};
        pid = proc_start(&pp, err, sizeof err);
        if (pid < 0 || proc_wait(pid, -1, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            say("bench/run: plotting failed; the results are complete\n");
            return 1;
        }
    }
    if (r->plots) {
        /* one page with everything: bench/report, which says where it wrote it */
        bufprintf(prog, sizeof prog, "%s/bench/report", r->here);
        const char *rep[] = {prog, r->dir, NULL};
        struct spawn rp = {.argv = rep, .inherit = true};
        pid = proc_start(&rp, err, sizeof err);
        if (pid < 0 || proc_wait(pid, -1, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            say("bench/run: the report could not be written; the results are complete\n");
            return 1;
        }
    }
    if (failed > 0) {
        say("bench/run: %ld cell(s) failed; see their error in %s/summary.json\n", failed, r->dir);
        return 3;
    }
    return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
    fputs("usage: bench/run SUITE [options]\n"
          "       bench/run --resume DIR [--no-plots]\n"
          "       bench/run --dimensions | --options | --man | -h | --help\n"
          "\n"
          "Runs a benchmark suite: a matrix of models x the dimensions below x repetitions, and\n"
          "leaves one directory of JSON behind. SUITE names a file of bench/suites/ (FIELD=value\n"
          "lines, a field for each option). Every option overrides the suite's field; lists are\n"
          "quoted and space-separated. --models takes names of the registry (servers/models),\n"
          "all, or kind=one|spawn|pool|event. Every value is checked before the first cell.\n"
          "\n",
          f);
    dims_help(f);
    fputs("  --resume DIR          finish an interrupted run (its cells that have no file yet)\n"
          "  --from-make           read each option from the environment variable named by its\n"
          "                        make variable (the Makefile passes every one this way)\n"
          "  --dimensions          print the table of dimensions and settings as JSON\n"
          "\n"
          "The results go to results/<suite>-<timestamp>/ (or --out DIR; BENCH_RESULTS=DIR in the\n"
          "environment puts them under DIR), with results/<suite>-latest naming the newest\n"
          "finished run: run.json (the suite, the matrix, the seed and order, the machine),\n"
          "cells/*.json (loadgen's result, the server's stats line, the kernel's counters, what\n"
          "else the machine did), summary.json (per configuration over its repetitions),\n"
          "plots/ (bench/plot) and report.html (bench/report: all of it on one page, whose path\n"
          "is the last line on stderr). A model this machine cannot run, and --netem where\n"
          "netem is missing, are recorded as skipped with the reason.\n"
          "Exit status: 0 when every cell ran or was skipped; 3 when a cell failed (the suite\n"
          "still goes to the end); 1 when the run could not go on (disk full) or its plots could\n"
          "not be drawn; 2 for bad usage. The run's directory is the one line on stdout.\n",
          f);
}

static bool given[MAX_DIMS];

static void set_option(struct run *r, const struct dim *d, const char *v)
{
    int i = (int)(d - dims);
    if (d->kind == DIM_FLAG) {
        if (!strcmp(d->field, "DRY_RUN"))
            r->dry = true;
        else
            r->plots = false;
        return;
    }
    if (d->kind == DIM_RUN) {
        r->out_given = true;
        r->val[i] = intern(v);
        return;
    }
    r->val[i] = intern(v);
    given[i] = true;
}

static void from_make(struct run *r)
{
    for (size_t i = 0; i < ndims; i++) {
        const char *e = getenv(dims[i].field);
        if (!e || !*e)
            continue;
        if (dims[i].kind == DIM_FLAG && (!strcmp(e, "0") || !strcmp(e, "no")))
            continue;
        set_option(r, &dims[i], e);
    }
}

static void locate(struct run *r, const char *argv0)
{
    checkout_dir(argv0, r->here, sizeof r->here);
    const char *b = getenv("BENCH_BIN"), *res = getenv("BENCH_RESULTS");
    bufprintf(r->bin, sizeof r->bin, "%s", b && *b ? b : internf("%s/bin", r->here));
    bufprintf(r->results, sizeof r->results, "%s",
              res && *res ? res : internf("%s/results", r->here));
    bufprintf(r->suites, sizeof r->suites, "%s/bench/suites", r->here);
}

static const char *list_suites(const struct run *r)
{
    char cmd[PATH_MAX];
    bufprintf(cmd, sizeof cmd, "%s", r->suites);
    const char *argv[] = {"ls", cmd, NULL};
    char out[4096];
    proc_capture(argv, out, sizeof out, 5000);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ' ' : 0;
    return intern(out);
}

int main(int argc, char **argv)
{
    if (proc_std_streams() < 0)
        return 1;
    proc_catch_signals(); /* first: a signal at any instant ends the run with 130 */
    struct run *r = &R;
    r->plots = true;
    r->foreign_max = 10;
    r->steal_max = 2;
    for (size_t i = 0; i < ndims; i++)
        r->val[i] = dims[i].def;
    locate(r, argv[0]);
    const char *resume = NULL;
    int a = 1;
    if (a < argc && argv[a][0] != '-')
        bufprintf(r->suite, sizeof r->suite, "%.63s", argv[a++]);
    const char *suite_arg = a > 1 ? argv[1] : NULL;
    for (; a < argc; a++) {
        const char *o = argv[a];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(o, "--dimensions")) {
            dims_json(stdout);
            return 0;
        }
        if (!strcmp(o, "--options")) {
            dims_options(stdout);
            return 0;
        }
        if (!strcmp(o, "--man")) {
            dims_man(stdout);
            return 0;
        }
        if (!strcmp(o, "--summary-stats")) {
            if (a + 1 >= argc)
                bad("--summary-stats needs a run directory");
            return stat_summary(argv[a + 1]);
        }
        if (!strcmp(o, "--ratio-intervals"))
            return stat_ratios();
        if (!strcmp(o, "--verdicts")) {
            /* --verdicts DIR [--equivalence PCT] [--reps N] [--max-reps N]: the run's own */
            if (a + 1 >= argc)
                bad("--verdicts needs a run directory");
            double eq = 5;
            long reps = 3, max_reps = 3;
            for (int k = a + 2; k < argc; k += 2) {
                if (k + 1 >= argc)
                    bad("--verdicts: %s needs a value", argv[k]);
                char *end;
                if (!strcmp(argv[k], "--equivalence")) {
                    eq = strtod(argv[k + 1], &end);
                    if (*end || !(eq > 0 && eq < 100))
                        bad("--equivalence: a percentage above 0 and below 100");
                } else if (!strcmp(argv[k], "--reps") || !strcmp(argv[k], "--max-reps")) {
                    long v = strtol(argv[k + 1], &end, 10);
                    if (*end || v < 1 || v > 1000)
                        bad("--verdicts: %s: a number of repetitions from 1 to 1000", argv[k]);
                    *(!strcmp(argv[k], "--reps") ? &reps : &max_reps) = v;
                } else {
                    bad("--verdicts: unknown option '%s'", argv[k]);
                }
            }
            struct vd_rule rule = {eq, vd_level((int)reps, (int)max_reps)};
            return stat_verdicts(argv[a + 1], &rule);
        }
        if (!strcmp(o, "--heatmap")) {
            if (a + 1 >= argc)
                bad("--heatmap needs a cell's JSON file");
            return stat_heatmap(argv[a + 1]);
        }
        if (!strcmp(o, "--from-make")) {
            from_make(r);
            continue;
        }
        if (!strcmp(o, "--resume")) {
            if (a + 1 >= argc)
                bad("--resume needs a run directory");
            resume = argv[++a];
            continue;
        }
        const struct dim *d = dim_by_option(o);
        if (!d)
            bad("unknown argument '%s'", o);
        if (d->kind == DIM_FLAG) {
            set_option(r, d, "");
            continue;
        }
        if (a + 1 >= argc)
            bad("%s needs a value", o);
        set_option(r, d, argv[++a]);
    }
    if (!suite_arg && !resume) {
        usage(stderr);
        say("bench/run: no suite given (have: %s)\n", list_suites(r));
        return 2;
    }
    if (suite_arg && resume)
        bad("a suite and --resume are alternatives");
    if (r->dry && resume)
        bad("--dry-run goes with a suite, not --resume");
    char err[256];
    if (registry_read(internf("%s/servers/models", r->here), &r->reg, err, sizeof err) < 0)
        die("%s", err);

    if (resume) {
        run_load_resume(r, resume);
        r->resume = true;
    } else {
        bool ok = suite_arg && run_suite_name(suite_arg);
        char path[PATH_MAX];
        bufprintf(path, sizeof path, "%s/%s", r->suites, ok ? suite_arg : "");
        struct stat sb;
        if (!ok || strlen(suite_arg) >= sizeof r->suite || stat(path, &sb) < 0 ||
            !S_ISREG(sb.st_mode))
            bad("no suite '%s' (have: %s)", suite_arg, list_suites(r));
        run_read_suite(r, path, given);
        if (!*val(r, "SEED"))
            r->val[dim_index("SEED")] = internf("%ld", (long)(time(NULL) % 100000));
    }
    run_check_all(r);
    if (!r->resume)
        build_matrix(r, !r->dry);
    if (r->dry) {
        dry_run(r);
        return 0;
    }

    if (proc_interrupted) {
        say("bench/run: interrupted before the first cell\n");
        return 130;
    }
    if (!r->resume) {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        const char *out = val(r, "OUT");
        const char *dir = out;
        if (*out) {
            if (make_dirs(out) < 0)
                die("cannot create %s: %s", out, strerror(errno));
        } else {
            /* a name of its own: two runs of a suite started in the same second (or a run
             * stopped and started again) never share a directory */
            if (make_dirs(r->results) < 0)
                die("cannot create %s: %s", r->results, strerror(errno));
            for (int k = 1;; k++) {
                dir = k == 1 ? internf("%s/%s-%s", r->results, r->suite, stamp)
                             : internf("%s/%s-%s-%d", r->results, r->suite, stamp, k);
                if (mkdir(dir, 0755) == 0)
                    break;
                if (errno != EEXIST || k == 1000)
                    die("cannot create %s: %s", dir, strerror(errno));
            }
        }
        if (!realpath(dir, r->dir))
            die("cannot create %s: %s", dir, strerror(errno));
        if (proc_interrupted) {
            if (!*out)
                rmdir(r->dir);
            say("bench/run: interrupted before the first cell\n");
            return 130;
        }
        run_json_new(r);
    }
    char sub[PATH_MAX];
    bufprintf(sub, sizeof sub, "%s/cells", r->dir);
    mkdir(sub, 0755);
    bufprintf(sub, sizeof sub, "%s/logs", r->dir);
    mkdir(sub, 0755);
    if (access(sub, W_OK) != 0)
        die("cannot write in %s", r->dir);

    cell_setup(r);
    noise_floor(r);
    if (proc_interrupted)
        on_interrupt(r);
    json_object *cvp = jdoc_path(r->doc, "noise_floor.cv_pct");
    if (jdoc_is_num(cvp))
        say("bench/run: noise floor on this machine: CV %s%%\n", json_object_get_string(cvp));
    if (r->placement_note && !r->resume)
        say("bench/run: CPU placement: %s\n", r->placement_note);

    for (size_t i = 0; i < r->ncells; i++) {
        char id[512], path[PATH_MAX];
        cell_id(&r->cells[i], true, id, sizeof id);
        bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
        done_before += access(path, F_OK) == 0;
    }
    size_t first = count_round(r, false);
    size_t budget = first * (size_t)atol(val(r, "BUDGET")) / 100;
    if (atoi(val(r, "MAX_REPS")) <= atoi(val(r, "REPS")))
        budget = 0;
    say("bench/run: suite %s, %zu cells, seed %s, results in %s\n", r->suite, r->ncells,
        val(r, "SEED"), r->dir);
    t_start = now_ns(CLOCK_MONOTONIC);
    run_order(r, budget);
    further_rounds(r, budget);
    int rc = finish(r);
    cell_teardown(r);
    json_object_put(r->doc);
    free(r->cells);
    return rc;
}
