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
