/* bstats: the statistics that decide a suite's repetitions and a comparison's verdict.
 *
 * Repetitions of a benchmark are few (3 to 10) and not normal: interference only ever slows a
 * run, so the spread has a long tail on one side. The centre is the median, and its interval
 * is distribution-free: order statistics whose coverage comes from the binomial distribution
 * (for one run), and the Hodges-Lehmann interval from the exact distribution of the
 * Mann-Whitney statistic (for the ratio of two runs). Each interval says the confidence it
 * reaches; where the repetitions are too few for the confidence asked, there is no interval
 * rather than a narrower one that claims too much. */
#ifndef BSTATS_H
#define BSTATS_H

#include <stddef.h>

/* The median of v[0..n) (v is sorted in place); 0 when n is 0. */
double bs_median(double *v, size_t n);
double bs_mean(const double *v, size_t n);
/* The sample standard deviation (n - 1); 0 below 2 values. */
double bs_stddev(const double *v, size_t n);

/* The interval of the median of v[0..n): the order statistics x(k) and x(n+1-k) with the
 * largest k whose coverage 1 - 2 P(Bin(n, 1/2) < k) is at least conf, or the range when even
 * the range covers less (below 6 values at 95%). Writes lo, hi and the coverage reached
 * (*level); returns -1 when n is 0. v is sorted in place. */
int bs_median_ci(double *v, size_t n, double conf, double *lo, double *hi, double *level);

/* How wide that interval is (at 95%), in percent of the median: its larger distance from the
 * median. -1 below 2 values (nothing known yet). v is sorted in place. */
double bs_ci_pct(double *v, size_t n);

/* P(U <= u) for the Mann-Whitney statistic of samples of sizes n and m under no difference:
 * exact, from the count of arrangements. */
double bs_mw_cdf(unsigned n, unsigned m, unsigned u);

/* The interval of the ratio b/a (Hodges-Lehmann on the logarithms): the pairwise ratios
 * b[j]/a[i] sorted, from the k-th to the (nm+1-k)-th, k the largest with coverage
 * 1 - 2 P(U < k) at least conf. Writes lo, hi and the coverage (*level). Returns -1 when a
 * value is not above 0, or when the samples are too few for conf (3 and 3 reach 90% at most):
 * then *level is the most they can reach. */
int bs_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double conf, double *lo,
                double *hi, double *level);

/* P(T <= t) for the Wilcoxon signed-rank statistic of n pairs under no difference: exact,
 * the share of the 2^n sign patterns whose positive ranks sum to t or less. */
double bs_wsr_cdf(unsigned n, unsigned t);

/* The ratio of two metrics measured in pairs, a[i] beside b[i] (adjacent in time, so that the
 * machine's slow wander moves both alike): the Hodges-Lehmann estimate of the per-pair ratio
 * a[i]/b[i] on the logarithms (the median of the Walsh averages (d_i + d_j)/2, i <= j, of
 * d_i = log(a[i]/b[i])), and its interval with exact coverage from the signed-rank
 * distribution: the k-th smallest to the k-th largest Walsh average, k the largest with
 * coverage 1 - 2 P(T < k) at least conf. Walsh averages rather than the pair ratios' own order
 * statistics (the sign test) because pairs are costly: under a symmetric spread of the log
 * ratios the interval is as good with about two thirds of the pairs, and 6 pairs reach 95%
 * (the sign test needs 6 too, but its interval from 6 is the whole range). */
struct bs_paired {
    size_t n;      /* the pairs used (both values above 0) */
    double ratio;  /* the estimate of a/b */
    double lo, hi; /* its interval, NAN when the pairs are too few for conf */
    double level;  /* the coverage reached, or the most the pairs can reach */
};
/* 0, or -1 when no pair has both values above 0. */
int bs_paired_ratio(const double *a, const double *b, size_t n, double conf, struct bs_paired *out);

/* What a paired interval decides about a/b: above 1 or below it (the interval excludes 1),
 * equivalent (it lies within a factor of 1 + equivalence_pct/100 either way), or undecided
 * (no interval, or one that holds 1 and reaches out of that band). */
enum bs_verdict { BS_UNDECIDED, BS_ABOVE, BS_BELOW, BS_EQUIVALENT };
enum bs_verdict bs_decide(const struct bs_paired *p, double equivalence_pct);

#endif
