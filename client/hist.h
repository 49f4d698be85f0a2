/* hist: a log-linear latency histogram after HdrHistogram's design, written for this
 * project. Values (microseconds) from 0 to a set maximum are kept with a set number of
 * significant decimal digits: every value lands in a bucket whose width is at most
 * 1 / 2^(magnitude) of the value, 1/1024 (under 0.1%) for 3 digits. Recording is O(1): two
 * shifts and an increment, no allocation, no lock (one histogram per thread; merge after
 * join). Memory for 3 digits up to 1 hour: 23,552 eight-byte counters, about 184 KiB.
 * Count, min, max, mean and standard deviation are exact (kept beside the buckets). */
#ifndef HIST_H
#define HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_MAX_US UINT64_C(3600000000) /* 1 hour */

struct hist {
    int sub_half_mag;  /* log2 of half the sub-buckets per bucket */
    uint64_t sub_mask; /* sub-bucket count - 1 */
    int buckets;
    size_t len; /* counters */
    uint64_t max_trackable;
    uint64_t *counts;
    uint64_t total, min, max, clamped;
    double sum, sum_sq;
};

/* sig_digits 1 to 5; max_value at least 2. Returns 0, or -1 when out of memory. */
int hist_init(struct hist *h, int sig_digits, uint64_t max_value);
void hist_free(struct hist *h);
void hist_reset(struct hist *h);

/* Values above the maximum are recorded as the maximum and counted in clamped. */
void hist_record(struct hist *h, uint64_t v);

/* Adds src into dst; both must have been made with the same parameters (-1 otherwise). */
int hist_merge(struct hist *dst, const struct hist *src);

/* The value at percentile p (0 to 100): the highest value equivalent to the smallest
 * recorded value with at least p% of values at or below it. 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);

double hist_mean(const struct hist *h);
double hist_stddev(const struct hist *h);

/* Percentiles for a spectrum plot: 0, then halving the distance to 100 in ticks_per_half
 * steps (50, 75, 87.5, ... for 1 tick) until the largest value is reached, then 100.
 * Writes at most n pairs; returns the count. */
size_t hist_spectrum(const struct hist *h, int ticks_per_half, double *pct, uint64_t *val,
                     size_t n);

/* The lowest value counted by counter i (counters are laid out as HdrHistogram's). */
uint64_t hist_value_at(const struct hist *h, size_t i);

/* The lowest and highest value that share v's bucket. */
uint64_t hist_lowest_equivalent(const struct hist *h, uint64_t v);
uint64_t hist_highest_equivalent(const struct hist *h, uint64_t v);

#endif
