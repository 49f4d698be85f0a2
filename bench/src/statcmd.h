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

/* Prints summary.json's verdicts for DIR's ok cells (verdict.c): for each configuration with
 * more than one contender, the ranking by median throughput with each one's paired ratio to
 * the best, and its neighbours decided in pairs, equivalent within equivalence percent. */
int stat_verdicts(const char *dir, double equivalence);

#endif
