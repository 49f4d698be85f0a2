#include "bstats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bs_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bs_mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / (double)n : 0;
}

double bs_stddev(const double *v, size_t n)
{
    if (n < 2)
        return 0;
    double m = bs_mean(v, n), s = 0;
    for (size_t i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    return sqrt(s / (double)(n - 1));
}

/* P(Bin(n, 1/2) <= k), summed in doubles (n is a count of repetitions, small). */
static double binom_cdf_half(size_t n, size_t k)
{
    double c = 1, s = 0; /* c = C(n, i) */
    for (size_t i = 0; i <= k && i <= n; i++) {
        s += c;
        c = c * (double)(n - i) / (double)(i + 1);
    }
    return s / pow(2, (double)n);
}

int bs_median_ci(double *v, size_t n, double conf, double *lo, double *hi, double *level)
{
    if (n == 0)
        return -1;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = 1; /* 1-based: x(k) .. x(n+1-k) */
    while (k + 1 <= (n + 1) / 2 && 1 - 2 * binom_cdf_half(n, k) >= conf)
        k++;
    *lo = v[k - 1];
    *hi = v[n - k];
    *level = n == 1 ? 0 : 1 - 2 * binom_cdf_half(n, k - 1);
    return 0;
}

double bs_ci_pct(double *v, size_t n)
{
    if (n < 2)
        return -1;
    double lo, hi, level;
    bs_median_ci(v, n, 0.95, &lo, &hi, &level);
    double m = bs_median(v, n);
    if (m == 0)
        return 0;
    return fmax(m - lo, hi - m) / m * 100;
}

double bs_mw_cdf(unsigned n, unsigned m, unsigned u)
{
    /* f[i][j][w]: arrangements of i and j values with U = w, by the recurrence
     * f(i, j, w) = f(i - 1, j, w - j) + f(i, j - 1, w), kept as one table over (i, j, w). */
    unsigned maxu = n * m;
    if (u >= maxu)
        return 1;
    size_t stride_w = maxu + 1, stride_j = stride_w * (m + 1);
    double *f = calloc((size_t)(n + 1) * stride_j, sizeof *f);
    if (!f)
        return NAN;
#define F(i, j, w) f[(size_t)(i)*stride_j + (size_t)(j)*stride_w + (size_t)(w)]
    for (unsigned i = 0; i <= n; i++)
        for (unsigned j = 0; j <= m; j++)
            for (unsigned w = 0; w <= i * j; w++) {
                if (i == 0 || j == 0) {
                    F(i, j, w) = w == 0;
                    continue;
                }
                F(i, j, w) = (w >= j ? F(i - 1, j, w - j) : 0) + F(i, j - 1, w);
            }
    double below = 0, total = 0;
    for (unsigned w = 0; w <= maxu; w++) {
        total += F(n, m, w);
        if (w <= u)
            below += F(n, m, w);
    }
#undef F
    free(f);
    return below / total;
}

int bs_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double conf, double *lo,
                double *hi, double *level)
{
    *level = 0;
    if (na == 0 || nb == 0)
        return -1;
    for (size_t i = 0; i < na; i++)
        if (!(a[i] > 0))
            return -1;
    for (size_t j = 0; j < nb; j++)
        if (!(b[j] > 0))
            return -1;
    /* The widest interval, the whole range of ratios (k = 1), covers 1 - 2 P(U = 0). */
    size_t k = 0;
    while (1 - 2 * bs_mw_cdf((unsigned)na, (unsigned)nb, (unsigned)k) >= conf)
        k++;
    *level = 1 - 2 * bs_mw_cdf((unsigned)na, (unsigned)nb, 0);
    if (k == 0)
        return -1;
    *level = 1 - 2 * bs_mw_cdf((unsigned)na, (unsigned)nb, (unsigned)(k - 1));
    size_t nd = na * nb;
    double *d = malloc(nd * sizeof *d);
    if (!d)
        return -1;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            d[i * nb + j] = b[j] / a[i];
    qsort(d, nd, sizeof *d, cmp_double);
    *lo = d[k - 1];
    *hi = d[nd - k];
    free(d);
    return 0;
}

double bs_wsr_cdf(unsigned n, unsigned t)
{
    /* f[w]: the sign patterns of ranks 1..i whose positive ranks sum to w, one rank at a time */
    unsigned maxt = n * (n + 1) / 2;
    if (t >= maxt)
        return 1;
    double *f = calloc((size_t)maxt + 1, sizeof *f);
    if (!f)
        return NAN;
    f[0] = 1;
    for (unsigned i = 1; i <= n; i++)
        for (unsigned w = i * (i + 1) / 2; w >= i; w--)
            f[w] += f[w - i];
    double below = 0;
    for (unsigned w = 0; w <= t; w++)
        below += f[w];
    free(f);
    return below / ldexp(1, (int)n);
}

int bs_paired_ratio(const double *a, const double *b, size_t n, double conf, struct bs_paired *out)
{
    *out = (struct bs_paired){.ratio = NAN, .lo = NAN, .hi = NAN};
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] > 0 && b[i] > 0 && isfinite(a[i]) && isfinite(b[i]))
            d[m++] = log(a[i] / b[i]);
    if (m == 0) {
        free(d);
        return -1;
    }
    size_t nw = m * (m + 1) / 2, k = 0;
    double *w = malloc(nw * sizeof *w);
    if (!w) {
        free(d);
        return -1;
    }
    size_t j = 0;
    for (size_t x = 0; x < m; x++)
        for (size_t y = x; y < m; y++)
            w[j++] = (d[x] + d[y]) / 2;
    qsort(w, nw, sizeof *w, cmp_double);
    out->n = m;
    out->ratio = exp(nw % 2 ? w[nw / 2] : (w[nw / 2 - 1] + w[nw / 2]) / 2);
    /* the widest interval, every Walsh average (k = 1), covers 1 - 2 P(T = 0) */
    while (k < nw / 2 && 1 - 2 * bs_wsr_cdf((unsigned)m, (unsigned)k) >= conf)
        k++;
    out->level = 1 - 2 * bs_wsr_cdf((unsigned)m, (unsigned)(k ? k - 1 : 0));
    if (k > 0) {
        out->lo = exp(w[k - 1]);
        out->hi = exp(w[nw - k]);
    }
    free(w);
    free(d);
    return 0;
}

enum bs_verdict bs_decide(const struct bs_paired *p, double equivalence_pct)
{
    if (!(p->lo > 0) || !(p->hi > 0))
        return BS_UNDECIDED;
    if (p->lo > 1)
        return BS_ABOVE;
    if (p->hi < 1)
        return BS_BELOW;
    double band = 1 + equivalence_pct / 100;
    if (p->lo >= 1 / band && p->hi <= band)
        return BS_EQUIVALENT;
    return BS_UNDECIDED;
}
