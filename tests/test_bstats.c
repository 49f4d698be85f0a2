/* The statistics that decide a suite's repetitions and a comparison's verdict
 * (bench/src/bstats.c), against values worked out by hand. */
#include <criterion/criterion.h>
#include <math.h>

#include "../bench/src/bstats.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

Test(bstats, median_mean_and_spread)
{
    double v[] = {5, 1, 3}, w[] = {4, 1, 3, 2};
    cr_expect(NEAR(bs_median(v, 3), 3));
    cr_expect(NEAR(bs_median(w, 4), 2.5));
    double x[] = {100, 120, 110};
    cr_expect(NEAR(bs_mean(x, 3), 110));
    cr_expect(NEAR(bs_stddev(x, 3), 10));
    cr_expect(NEAR(bs_stddev(x, 1), 0));
    cr_expect(NEAR(bs_median(x, 0), 0));
}

/* The interval of the median: order statistics whose coverage is binomial. Below 6 values
 * the range, covering 1 - 2^(1-n) (3 values: 75%); 6 to 8 values the range, at least 95%;
 * 9 and 10 values the second smallest to the second largest (96.1% and 97.9%). */
Test(bstats, interval_of_the_median_from_order_statistics)
{
    double lo, hi, level;
    double three[] = {110, 100, 120};
    cr_assert_eq(bs_median_ci(three, 3, 0.95, &lo, &hi, &level), 0);
    cr_expect(NEAR(lo, 100) && NEAR(hi, 120) && NEAR(level, 0.75), "[%g, %g] at %g", lo, hi, level);
    double six[] = {6, 1, 5, 2, 4, 3};
    bs_median_ci(six, 6, 0.95, &lo, &hi, &level);
    cr_expect(NEAR(lo, 1) && NEAR(hi, 6) && NEAR(level, 1 - 2.0 / 64));
    double nine[] = {9, 1, 8, 2, 7, 3, 6, 4, 5};
    bs_median_ci(nine, 9, 0.95, &lo, &hi, &level);
    cr_expect(NEAR(lo, 2) && NEAR(hi, 8) && NEAR(level, 1 - 2 * 10.0 / 512), "[%g, %g] at %g", lo,
              hi, level);
    double ten[] = {100, 103, 99, 101, 97, 102, 98, 120, 101, 100};
    bs_median_ci(ten, 10, 0.95, &lo, &hi, &level);
    cr_expect(NEAR(lo, 98) && NEAR(hi, 103) && NEAR(level, 1 - 2 * 11.0 / 1024));
    double one[] = {7};
    bs_median_ci(one, 1, 0.95, &lo, &hi, &level);
    cr_expect(NEAR(lo, 7) && NEAR(hi, 7));
    cr_expect_eq(bs_median_ci(one, 0, 0.95, &lo, &hi, &level), -1);
    double spread[] = {90, 100, 110};
    cr_expect(NEAR(bs_ci_pct(spread, 3), 10));
    cr_expect(bs_ci_pct(one, 1) < 0, "one value: nothing known yet");
}

/* The exact distribution of the Mann-Whitney statistic: with 3 and 3 values there are 20
 * arrangements, one with U = 0 and one with U = 1; with 4 and 4, 70, one with U = 0. */
Test(bstats, mann_whitney_exact_distribution)
{
    cr_expect(NEAR(bs_mw_cdf(3, 3, 0), 1.0 / 20));
    cr_expect(NEAR(bs_mw_cdf(3, 3, 1), 2.0 / 20));
    cr_expect(NEAR(bs_mw_cdf(3, 3, 2), 4.0 / 20));
    cr_expect(NEAR(bs_mw_cdf(4, 4, 0), 1.0 / 70));
    cr_expect(NEAR(bs_mw_cdf(5, 5, 2), 4.0 / 252));
    cr_expect(NEAR(bs_mw_cdf(2, 3, 6), 1));
    cr_expect(NEAR(bs_mw_cdf(3, 3, 4) + bs_mw_cdf(3, 3, 4), 1), "symmetric about nm/2");
}

/* The interval of a ratio: 3 against 3 cannot reach 95% (90% at most) and says so; 4 against
 * 4 gives the whole range of the pairwise ratios at 1 - 2/70; 5 against 5 the third smallest
 * to the third largest at 1 - 2 * 4/252. */
Test(bstats, interval_of_a_ratio)
{
    double lo, hi, level;
    double a3[] = {100, 110, 120}, b3[] = {50, 55, 60};
    cr_expect_eq(bs_ratio_ci(a3, 3, b3, 3, 0.95, &lo, &hi, &level), -1);
    cr_expect(NEAR(level, 0.9), "3 and 3 reach %g", level);
    cr_expect_eq(bs_ratio_ci(a3, 3, b3, 3, 0.90, &lo, &hi, &level), 0);
    cr_expect(NEAR(lo, 50.0 / 120) && NEAR(hi, 60.0 / 100) && NEAR(level, 0.9));
    double a4[] = {100, 120, 110, 115}, b4[] = {50, 60, 55, 57.5};
    cr_assert_eq(bs_ratio_ci(a4, 4, b4, 4, 0.95, &lo, &hi, &level), 0);
    cr_expect(NEAR(lo, 50.0 / 120) && NEAR(hi, 0.6) && NEAR(level, 1 - 2.0 / 70));
    double a5[] = {1, 2, 3, 4, 5}, b5[] = {1, 2, 3, 4, 5};
    cr_assert_eq(bs_ratio_ci(a5, 5, b5, 5, 0.95, &lo, &hi, &level), 0);
    /* the 25 ratios j/i sorted: 1/5, 1/4, 1/3, 2/5, 2/4, ...; the third is 1/3 */
    cr_expect(NEAR(lo, 1.0 / 3) && NEAR(hi, 3) && NEAR(level, 1 - 2 * 4.0 / 252), "[%g, %g] at %g",
              lo, hi, level);
    cr_expect(lo < 1 && hi > 1, "a run against itself holds 1");
    double zero[] = {0, 1, 2, 3};
    cr_expect_eq(bs_ratio_ci(zero, 4, a4, 4, 0.95, &lo, &hi, &level), -1);
}

/* The signed-rank distribution by hand: of the 2^8 = 256 sign patterns of ranks 1..8, those
 * whose positive ranks sum to 3 or less are {}, {1}, {2}, {3}, {1,2}: 5; to 4 or less add
 * {4} and {1,3}: 7. For 5 pairs the smallest tail, T = 0, is 1 of 32. */
Test(bstats, signed_rank_exact_distribution)
{
    cr_expect_float_eq(bs_wsr_cdf(8, 3), 5.0 / 256, 1e-12);
    cr_expect_float_eq(bs_wsr_cdf(8, 4), 7.0 / 256, 1e-12);
    cr_expect_float_eq(bs_wsr_cdf(5, 0), 1.0 / 32, 1e-12);
    cr_expect_float_eq(bs_wsr_cdf(3, 6), 1, 1e-12);
    /* symmetric: P(T <= t) = P(T >= n(n+1)/2 - t) */
    cr_expect_float_eq(bs_wsr_cdf(6, 10), 1 - bs_wsr_cdf(6, 10), 1e-12);
}

/* Paired ratios and their decisions from known per-pair values, worked out by hand. */
Test(bstats, paired_ratio_decisions_by_hand)
{
    /* Six pairs whose log ratios are 0.01 .. 0.06. The Walsh averages (d_i + d_j)/2, i <= j,
     * are 0.01 + 0.005 (i + j - 2): 21 of them, by i + j = 2..12 in counts 1 1 2 2 3 3 3 2 2 1
     * 1, so the 11th (the median) has i + j = 7: 0.035. With 6 pairs only the whole range
     * reaches 95% (1 - 2/64 = 96.9%): e^0.01 .. e^0.06, above 1. */
    double a[8], b[8];
    for (int i = 0; i < 6; i++) {
        b[i] = 1000 + 100 * i;
        a[i] = b[i] * exp(0.01 * (i + 1));
    }
    struct bs_paired p;
    cr_assert_eq(bs_paired_ratio(a, b, 6, 0.95, &p), 0);
    cr_expect_eq(p.n, 6);
    cr_expect_float_eq(p.ratio, exp(0.035), 1e-9);
    cr_expect_float_eq(p.lo, exp(0.01), 1e-9);
    cr_expect_float_eq(p.hi, exp(0.06), 1e-9);
    cr_expect_float_eq(p.level, 1 - 2.0 / 64, 1e-12);
    cr_expect_eq(bs_decide(&p, 5), BS_ABOVE);
    /* The other way round: below 1. */
    cr_assert_eq(bs_paired_ratio(b, a, 6, 0.95, &p), 0);
    cr_expect_float_eq(p.ratio, exp(-0.035), 1e-9);
    cr_expect_eq(bs_decide(&p, 5), BS_BELOW);

    /* Log ratios -0.02 .. 0.03: the interval e^-0.02 .. e^0.03 holds 1; it lies within 5%
     * either way (equivalent) but not within 2% (undecided). */
    for (int i = 0; i < 6; i++)
        a[i] = b[i] * exp(0.01 * (i - 2));
    cr_assert_eq(bs_paired_ratio(a, b, 6, 0.95, &p), 0);
    cr_expect_float_eq(p.lo, exp(-0.02), 1e-9);
    cr_expect_float_eq(p.hi, exp(0.03), 1e-9);
    cr_expect_eq(bs_decide(&p, 5), BS_EQUIVALENT);
    cr_expect_eq(bs_decide(&p, 2), BS_UNDECIDED);

    /* Five pairs cannot reach 95% (at most 1 - 2/32 = 93.75%): no interval, undecided, however
     * far apart. */
    for (int i = 0; i < 5; i++)
        a[i] = 2 * b[i];
    cr_assert_eq(bs_paired_ratio(a, b, 5, 0.95, &p), 0);
    cr_expect_float_eq(p.ratio, 2, 1e-9);
    cr_expect(isnan(p.lo) && isnan(p.hi));
    cr_expect_float_eq(p.level, 1 - 2.0 / 32, 1e-12);
    cr_expect_eq(bs_decide(&p, 5), BS_UNDECIDED);

    /* Eight pairs at 95%: k = 4 (P(T <= 3) = 5/256 <= 2.5% < P(T <= 4) = 7/256), the 4th
     * smallest and 4th largest of 36 Walsh averages. Log ratios 0.01 .. 0.08: the smallest
     * Walsh averages are 0.01, 0.015, 0.02, 0.02 (i + j = 2, 3, 4, 4), so lo = e^0.02, and
     * by symmetry hi = e^0.07; coverage 1 - 10/256. A pair with a value of 0 is left out. */
    for (int i = 0; i < 8; i++) {
        b[i] = 500 + i;
        a[i] = b[i] * exp(0.01 * (i + 1));
    }
    double a9[9], b9[9];
    for (int i = 0; i < 8; i++)
        a9[i] = a[i], b9[i] = b[i];
    a9[8] = 0, b9[8] = 100;
    cr_assert_eq(bs_paired_ratio(a9, b9, 9, 0.95, &p), 0);
    cr_expect_eq(p.n, 8);
    cr_expect_float_eq(p.lo, exp(0.02), 1e-9);
    cr_expect_float_eq(p.hi, exp(0.07), 1e-9);
    cr_expect_float_eq(p.level, 1 - 10.0 / 256, 1e-12);
    cr_expect_float_eq(p.ratio, exp(0.045), 1e-9);
    cr_expect_eq(bs_decide(&p, 5), BS_ABOVE);

    double zero = 0;
    cr_expect_eq(bs_paired_ratio(&zero, &zero, 1, 0.95, &p), -1);
}
