/* statcmd: bench/run --summary-stats DIR, --ratio-intervals and --heatmap (statcmd.c), and
 * --verdicts DIR (verdict.c). */
#ifndef STATCMD_H
#define STATCMD_H

/* Prints {config: {rps|p50_us|p99_us: {ci95, ci_level, ci_pct}}} for DIR's ok cells, the
 * config being a cell's id without its repetition. 0, or 1 when DIR cannot be read. */
int stat_summary(const char *dir);

/* Reads lines {"a": [...], "b": [...]} on stdin and prints for each
 * {"ci95": [lo, hi] or null, "n_a", "n_b", "level"}: the interval of b/a (bstats.h). */
int stat_ratios(void);

/* Prints a cell's latencies per second as the grid of a heatmap: lines "t  log10(ms)  count",
 * every latency bin (10 a decade) from the least to the most seen for every second. 0; 1
 * when the file is not a cell; 2 when it has no per-second histograms or no request. */
int stat_heatmap(const char *cell);

#include <json-c/json.h>

/* Calls fn for each ok cell of DIR (cells/NAME.json with an id, in name order); 0, or -1 (said,
 * who first) when DIR/cells cannot be read. */
int ok_cells(const char *dir, const char *who, void (*fn)(json_object *cell, void *arg), void *arg);

/* How pairs are decided: equivalent within equivalence percent, each interval at level. */
struct vd_rule {
    double equivalence, level;
};

/* The level of each look of the stopping rule (bench/run's further blocks): a pair is looked
 * at with reps, then one more block at a time up to max_reps; Bonferroni over the looks that
 * can decide keeps the chance that any look calls two equal models different at 5%. */
double vd_level(int reps, int max_reps);

/* Prints summary.json's verdicts for DIR's ok cells (verdict.c): for each configuration with
 * more than one contender, the ranking by median throughput with each one's paired ratio to
 * the best, its neighbours decided in pairs, and the A/A copy of the baseline against it. */
int stat_verdicts(const char *dir, const struct vd_rule *rule);

/* What further blocks could decide: neighbours not yet decided on throughput that fewer than
 * max_n blocks compared (a and b: their cells' id without the repetition), and contenders
 * alone in their configuration (b empty). Their number; *out is the caller's to free. */
struct vd_open {
    char a[512], b[512];
    size_t n; /* the blocks that compared them */
};
size_t vd_open(const char *dir, const struct vd_rule *rule, size_t max_n, struct vd_open **out);

#endif
