/* The histogram against exact percentiles of sorted samples. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "hist.h"

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact percentile as the histogram defines it: the smallest sample with at least p% of
 * samples at or below it. */
static uint64_t exact(const uint64_t *sorted, size_t n, double p)
{
    size_t want = (size_t)ceil(p / 100.0 * (double)n);
    if (want < 1)
        want = 1;
    return sorted[want - 1];
}

static void check_accuracy(uint64_t *v, size_t n, const char *what)
{
    struct hist h;
    cr_assert_eq(hist_init(&h, 3, HIST_MAX_US), 0);
    for (size_t i = 0; i < n; i++)
        hist_record(&h, v[i]);
    qsort(v, n, sizeof *v, cmp_u64);
    static const double ps[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        uint64_t want = exact(v, n, ps[k]), got = hist_percentile(&h, ps[k]);
        double rel = want ? fabs((double)got - (double)want) / (double)want : (double)got;
        cr_expect_leq(rel, 0.001, "%s p%g: histogram %llu, exact %llu (error %.5f%%)", what, ps[k],
                      (unsigned long long)got, (unsigned long long)want, rel * 100);
    }
    cr_expect_eq(h.total, n);
    cr_expect_eq(h.min, v[0]);
    cr_expect_eq(h.max, v[n - 1]);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    cr_expect_leq(fabs(hist_mean(&h) - sum / (double)n), 1e-6 * sum / (double)n, "mean");
    hist_free(&h);
}

Test(hist, uniform_samples, .timeout = 60)
{
    static uint64_t v[200000];
    for (size_t i = 0; i < 200000; i++)
        v[i] = 1 + rnd() % 100000;
    check_accuracy(v, 200000, "uniform");
}

Test(hist, log_uniform_samples_across_the_range, .timeout = 60)
{
    static uint64_t v[200000];
    for (size_t i = 0; i < 200000; i++)
        v[i] = (uint64_t)exp((double)(rnd() % 1000000) / 1000000.0 * log(3.6e9));
    check_accuracy(v, 200000, "log-uniform 1us..1h");
}

Test(hist, skewed_samples_with_a_far_tail, .timeout = 60)
{
    static uint64_t v[100000];
    for (size_t i = 0; i < 100000; i++)
        v[i] = i % 1000 == 0 ? 1000000 + rnd() % 3000000 : 200 + rnd() % 50;
    check_accuracy(v, 100000, "skewed");
}

Test(hist, merge_equals_recording_into_one, .timeout = 60)
{
    struct hist a, b, one;
    cr_assert_eq(hist_init(&a, 3, HIST_MAX_US), 0);
    cr_assert_eq(hist_init(&b, 3, HIST_MAX_US), 0);
    cr_assert_eq(hist_init(&one, 3, HIST_MAX_US), 0);
    for (int i = 0; i < 50000; i++) {
        uint64_t x = rnd() % 5000000;
        hist_record(i % 3 ? &a : &b, x);
        hist_record(&one, x);
    }
    cr_assert_eq(hist_merge(&a, &b), 0);
    cr_expect_eq(a.total, one.total);
    cr_expect_eq(a.min, one.min);
    cr_expect_eq(a.max, one.max);
    for (size_t i = 0; i < a.len; i++)
        cr_assert_eq(a.counts[i], one.counts[i], "counter %zu", i);
    for (double p = 0; p <= 100; p += 0.5)
        cr_expect_eq(hist_percentile(&a, p), hist_percentile(&one, p), "p%g", p);
    struct hist other;
    cr_assert_eq(hist_init(&other, 2, HIST_MAX_US), 0);
    cr_expect_eq(hist_merge(&a, &other), -1, "different precision refused");
    hist_free(&a);
    hist_free(&b);
    hist_free(&one);
    hist_free(&other);
}

Test(hist, spectrum_is_monotonic_and_ends_at_max, .timeout = 60)
{
    struct hist h;
    cr_assert_eq(hist_init(&h, 3, HIST_MAX_US), 0);
    for (int i = 0; i < 100000; i++)
        hist_record(&h, 100 + rnd() % 10000 + (i % 997 == 0 ? 2000000 : 0));
    double pct[256];
    uint64_t val[256];
    size_t n = hist_spectrum(&h, 5, pct, val, 256);
    cr_assert_gt(n, 20);
    cr_expect_eq(pct[0], 0);
    cr_expect_eq(val[0], h.min);
    for (size_t i = 1; i < n; i++) {
        cr_expect_gt(pct[i], pct[i - 1], "percentiles rise at %zu", i);
        cr_expect_geq(val[i], val[i - 1], "values never fall at %zu", i);
    }
    cr_expect_eq(pct[n - 1], 100);
    cr_expect_eq(val[n - 1], h.max);
    hist_free(&h);
}

Test(hist, bucket_width_is_under_a_thousandth, .timeout = 60)
{
    struct hist h;
    cr_assert_eq(hist_init(&h, 3, HIST_MAX_US), 0);
    for (uint64_t v = 1; v < HIST_MAX_US; v = v * 3 + 1) {
        uint64_t lo = hist_lowest_equivalent(&h, v), hi = hist_highest_equivalent(&h, v);
        cr_expect(lo <= v && v <= hi, "%llu in [%llu, %llu]", (unsigned long long)v,
                  (unsigned long long)lo, (unsigned long long)hi);
        cr_expect_leq((double)(hi - lo), (double)v / 1000.0 + 1, "width at %llu",
                      (unsigned long long)v);
    }
    hist_record(&h, HIST_MAX_US * 2);
    cr_expect_eq(h.clamped, 1);
    cr_expect_eq(h.max, HIST_MAX_US);
    hist_free(&h);
}
