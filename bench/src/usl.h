/* usl: the Universal Scalability Law (Gunther) fitted to measured throughput.
 *
 *   X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))
 *
 * lambda is the throughput of one worker, sigma the share of the work that serialises
 * (contention), kappa the cost of keeping workers coherent (crosstalk). With kappa above 0
 * the throughput peaks at N* = sqrt((1 - sigma) / kappa) workers and falls beyond. */
#ifndef USL_H
#define USL_H

#include <stdbool.h>
#include <stddef.h>

struct usl {
    double lambda, sigma, kappa;
    bool has_peak; /* kappa is above 0 (beyond rounding): there is an N* */
    double peak_n; /* N*, when has_peak */
    double rmse;   /* root mean square of the residuals X - X(N), in throughput's units */
};

/* X(N) for the fitted parameters. */
double usl_x(const struct usl *u, double n);

/* Fits the law to n points (N[i], X[i]) by least squares on the throughput: a linear fit of
 * N / X to 1, N - 1 and N (N - 1) gives the start, Gauss-Newton steps on X itself finish it,
 * with sigma and kappa kept at 0 or above. Needs 3 points with different N (all N >= 1,
 * X > 0); 0, or -1 with the reason in err. */
int usl_fit(const double *N, const double *X, size_t n, struct usl *u, char *err, size_t errlen);

#endif
