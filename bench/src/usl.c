#include "usl.h"

#include <math.h>
#include <stdio.h>

double usl_x(const struct usl *u, double n)
{
    return u->lambda * n / (1 + u->sigma * (n - 1) + u->kappa * n * (n - 1));
}

/* Solves the 3x3 system a x = b by Gaussian elimination with partial pivoting; false when
 * it is singular. */
static bool solve3(double a[3][3], double b[3], double x[3])
{
    for (int c = 0; c < 3; c++) {
        int p = c;
        for (int r = c + 1; r < 3; r++)
            if (fabs(a[r][c]) > fabs(a[p][c]))
                p = r;
        if (fabs(a[p][c]) < 1e-300)
            return false;
        for (int k = 0; k < 3; k++) {
            double t = a[c][k];
            a[c][k] = a[p][k];
            a[p][k] = t;
        }
        double t = b[c];
        b[c] = b[p];
        b[p] = t;
        for (int r = c + 1; r < 3; r++) {
            double f = a[r][c] / a[c][c];
            for (int k = c; k < 3; k++)
                a[r][k] -= f * a[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int r = 2; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < 3; k++)
            s -= a[r][k] * x[k];
        x[r] = s / a[r][r];
    }
    return true;
}

static double sse(const struct usl *u, const double *N, const double *X, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double r = X[i] - usl_x(u, N[i]);
        s += r * r;
    }
    return s;
}

int usl_fit(const double *N, const double *X, size_t n, struct usl *u, char *err, size_t errlen)
{
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(N[i] >= 1) || !(X[i] > 0)) {
            snprintf(err, errlen,
                     "point %zu: N %g and throughput %g (N must be 1 or more and the "
                     "throughput above 0)",
                     i + 1, N[i], X[i]);
            return -1;
        }
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            seen |= N[k] == N[i];
        distinct += !seen;
    }
    if (distinct < 3) {
        snprintf(err, errlen, "%zu distinct N: the law has 3 parameters, it needs 3 or more",
                 distinct);
        return -1;
    }
    /* The start: N / X = 1/lambda + (sigma/lambda)(N - 1) + (kappa/lambda) N (N - 1). */
    double a[3][3] = {{0}}, b[3] = {0}, c[3];
    for (size_t i = 0; i < n; i++) {
        double f[3] = {1, N[i] - 1, N[i] * (N[i] - 1)}, y = N[i] / X[i];
        for (int r = 0; r < 3; r++) {
            for (int k = 0; k < 3; k++)
                a[r][k] += f[r] * f[k];
            b[r] += f[r] * y;
        }
    }
    if (!solve3(a, b, c) || !(c[0] > 0)) {
        snprintf(err, errlen,
                 "the points do not determine the law (singular or no throughput "
                 "for one worker)");
        return -1;
    }
    u->lambda = 1 / c[0];
    u->sigma = fmax(0, c[1] * u->lambda);
    u->kappa = fmax(0, c[2] * u->lambda);
    /* Gauss-Newton on the throughput itself, halving a step that does not lower the sum of
     * squared residuals. */
    double best = sse(u, N, X, n);
    for (int it = 0; it < 100; it++) {
        double jtj[3][3] = {{0}}, jtr[3] = {0}, d[3];
        for (size_t i = 0; i < n; i++) {
            double den = 1 + u->sigma * (N[i] - 1) + u->kappa * N[i] * (N[i] - 1);
            double x = u->lambda * N[i] / den;
            double j[3] = {N[i] / den, -x * (N[i] - 1) / den, -x * N[i] * (N[i] - 1) / den};
            double r = X[i] - x;
            for (int p = 0; p < 3; p++) {
                for (int q = 0; q < 3; q++)
                    jtj[p][q] += j[p] * j[q];
                jtr[p] += j[p] * r;
            }
        }
        if (!solve3(jtj, jtr, d))
            break;
        bool better = false;
        for (double step = 1; step > 1e-6 && !better; step /= 2) {
            struct usl t = *u;
            t.lambda = u->lambda + step * d[0];
            t.sigma = fmax(0, u->sigma + step * d[1]);
            t.kappa = fmax(0, u->kappa + step * d[2]);
            double s = t.lambda > 0 ? sse(&t, N, X, n) : INFINITY;
            if (s < best) {
                better = true;
                double change = best - s;
                *u = t;
                best = s;
                if (change <= 1e-15 * (best + 1e-300))
                    it = 100;
            }
        }
        if (!better)
            break;
    }
    u->rmse = sqrt(best / (double)n);
    /* No peak when crosstalk is nil beyond rounding (its share of the denominator at the
     * largest N measured is under 10^-4: the points were rounded, not bent), or so small that
     * N* lies past any pool anyone would run (10^6 workers). */
    double nmax = 0;
    for (size_t i = 0; i < n; i++)
        nmax = fmax(nmax, N[i]);
    double cross = u->kappa * nmax * (nmax - 1);
    u->has_peak = u->kappa > 0 && u->sigma < 1 &&
                  cross >= 1e-4 * (1 + u->sigma * (nmax - 1) + cross) &&
                  sqrt((1 - u->sigma) / u->kappa) < 1e6;
    u->peak_n = u->has_peak ? sqrt((1 - u->sigma) / u->kappa) : 0;
    return 0;
}
