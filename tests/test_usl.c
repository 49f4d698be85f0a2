/* The Universal Scalability Law fit (bench/src/usl.c): from exact points made with known
 * parameters it recovers them within 1%, with a peak where kappa is above 0 and none where it
 * is 0; noisy points give parameters near the true ones; bad input is refused with a reason. */
#include <criterion/criterion.h>
#include <math.h>

#include "../bench/src/usl.h"

static void recovers(double lambda, double sigma, double kappa, const double *ns, size_t n)
{
    struct usl truth = {.lambda = lambda, .sigma = sigma, .kappa = kappa};
    double X[32];
    for (size_t i = 0; i < n; i++)
        X[i] = usl_x(&truth, ns[i]);
    struct usl u;
    char err[128];
    cr_assert_eq(usl_fit(ns, X, n, &u, err, sizeof err), 0, "%s", err);
    cr_expect(fabs(u.lambda - lambda) <= 0.01 * lambda, "lambda %g, not %g", u.lambda, lambda);
    cr_expect(fabs(u.sigma - sigma) <= 0.01 * sigma + 1e-9, "sigma %g, not %g", u.sigma, sigma);
    cr_expect(fabs(u.kappa - kappa) <= 0.01 * kappa + 1e-12, "kappa %g, not %g", u.kappa, kappa);
    if (kappa > 0) {
        double peak = sqrt((1 - sigma) / kappa);
        cr_expect(u.has_peak && fabs(u.peak_n - peak) <= 0.01 * peak, "N* %g, not %g", u.peak_n,
                  peak);
    } else {
        cr_expect(!u.has_peak, "a peak (N* %g) where kappa is 0", u.peak_n);
    }
    cr_expect(u.rmse < 1e-6 * lambda, "residuals %g on exact points", u.rmse);
}

Test(usl, recovers_known_parameters_from_exact_points)
{
    static const double geometric[] = {1, 2, 4, 8, 16, 32, 64};
    recovers(1000, 0.03, 0.0004, geometric, 7);   /* N* = 49 */
    recovers(250, 0.1, 0.001, geometric, 7);      /* N* = 30 */
    recovers(5000, 0.005, 0.00002, geometric, 7); /* N* = 223, beyond the points */
    static const double few[] = {1, 3, 9, 27};
    recovers(40, 0.2, 0.01, few, 4);       /* N* = 8.9 */
    recovers(1200, 0.05, 0, geometric, 7); /* no crosstalk: no peak */
    recovers(800, 0, 0, geometric, 7);     /* linear */
}

Test(usl, noisy_points_give_parameters_near_the_true_ones)
{
    struct usl truth = {.lambda = 1000, .sigma = 0.05, .kappa = 0.001};
    static const double ns[] = {1, 2, 4, 8, 16, 32, 64};
    static const double noise[] = {1.01, 0.98, 1.02, 0.99, 1.01, 0.98, 1.02};
    double X[7];
    for (int i = 0; i < 7; i++)
        X[i] = usl_x(&truth, ns[i]) * noise[i];
    struct usl u;
    char err[128];
    cr_assert_eq(usl_fit(ns, X, 7, &u, err, sizeof err), 0, "%s", err);
    cr_expect(fabs(u.lambda - 1000) < 50, "lambda %g", u.lambda);
    cr_expect(u.has_peak && u.peak_n > 20 && u.peak_n < 40, "N* %g (true 30.8)", u.peak_n);
    cr_expect(u.rmse > 0);
}

Test(usl, refuses_what_it_cannot_fit)
{
    struct usl u;
    char err[128];
    double n2[] = {1, 2, 2}, x2[] = {10, 19, 19};
    cr_expect_eq(usl_fit(n2, x2, 3, &u, err, sizeof err), -1);
    cr_expect(strstr(err, "2 distinct N"), "%s", err);
    double n3[] = {1, 2, 4}, x3[] = {10, 0, 30};
    cr_expect_eq(usl_fit(n3, x3, 3, &u, err, sizeof err), -1);
    cr_expect(strstr(err, "throughput"), "%s", err);
    double n4[] = {0, 2, 4}, x4[] = {10, 20, 30};
    cr_expect_eq(usl_fit(n4, x4, 3, &u, err, sizeof err), -1);
}

/* Points without crosstalk, written with 6 decimals (as a JSON or text file holds them): the
 * rounding bends them by 10^-9, and no peak is read into that. */
Test(usl, rounded_points_without_crosstalk_have_no_peak)
{
    struct usl truth = {.lambda = 700, .sigma = 0.3, .kappa = 0};
    static const double ns[] = {1, 2, 4, 8};
    double X[4];
    for (int i = 0; i < 4; i++)
        X[i] = round(usl_x(&truth, ns[i]) * 1e6) / 1e6;
    struct usl u;
    char err[128];
    cr_assert_eq(usl_fit(ns, X, 4, &u, err, sizeof err), 0, "%s", err);
    cr_expect(!u.has_peak, "a peak at N* %g from rounding (kappa %g)", u.peak_n, u.kappa);
    cr_expect(fabs(u.sigma - 0.3) < 0.003, "sigma %g", u.sigma);
}
