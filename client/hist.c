#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int clz64(uint64_t v)
{
    return v ? __builtin_clzll(v) : 64;
}

int hist_init(struct hist *h, int sig_digits, uint64_t max_value)
{
    memset(h, 0, sizeof *h);
    if (sig_digits < 1 || sig_digits > 5 || max_value < 2)
        return -1;
    /* The smallest power of two of sub-buckets that resolves 2 * 10^digits values. */
    uint64_t largest_single_unit = 2;
    for (int i = 0; i < sig_digits; i++)
        largest_single_unit *= 10;
    int sub_mag = 64 - clz64(largest_single_unit - 1);
    h->sub_half_mag = sub_mag - 1;
    uint64_t sub_count = UINT64_C(1) << sub_mag;
    h->sub_mask = sub_count - 1;
    int buckets = 1;
    for (uint64_t smallest_untrackable = sub_count; smallest_untrackable <= max_value;
         smallest_untrackable <<= 1)
        buckets++;
    h->buckets = buckets;
    h->len = (size_t)(buckets + 1) << h->sub_half_mag;
    h->max_trackable = max_value;
    h->counts = calloc(h->len, sizeof *h->counts);
    if (!h->counts)
        return -1;
    h->min = UINT64_MAX;
    return 0;
}

void hist_free(struct hist *h)
{
    free(h->counts);
    h->counts = NULL;
}

void hist_reset(struct hist *h)
{
    memset(h->counts, 0, h->len * sizeof *h->counts);
    h->total = h->max = h->clamped = 0;
    h->min = UINT64_MAX;
    h->sum = h->sum_sq = 0;
}

static int bucket_of(const struct hist *h, uint64_t v)
{
    return (64 - h->sub_half_mag - 1) - clz64(v | h->sub_mask);
}

static size_t index_of(const struct hist *h, uint64_t v)
{
    int b = bucket_of(h, v);
    uint64_t sub = v >> b;
    uint64_t half = UINT64_C(1) << h->sub_half_mag;
    return ((size_t)(b + 1) << h->sub_half_mag) + (size_t)(sub - half);
}

uint64_t hist_value_at(const struct hist *h, size_t i)
{
    int b = (int)(i >> h->sub_half_mag) - 1;
    uint64_t sub = (i & ((UINT64_C(1) << h->sub_half_mag) - 1)) + (UINT64_C(1) << h->sub_half_mag);
    if (b < 0) {
        sub -= UINT64_C(1) << h->sub_half_mag;
        b = 0;
    }
    return sub << b;
}

uint64_t hist_lowest_equivalent(const struct hist *h, uint64_t v)
{
    int b = bucket_of(h, v);
    return (v >> b) << b;
}

uint64_t hist_highest_equivalent(const struct hist *h, uint64_t v)
{
    int b = bucket_of(h, v);
    return hist_lowest_equivalent(h, v) + (UINT64_C(1) << b) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
    if (v > h->max_trackable) {
        v = h->max_trackable;
        h->clamped++;
    }
    h->counts[index_of(h, v)]++;
    h->total++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    double d = (double)v;
    h->sum += d;
    h->sum_sq += d * d;
}

int hist_merge(struct hist *dst, const struct hist *src)
{
    if (dst->len != src->len || dst->sub_half_mag != src->sub_half_mag)
        return -1;
    for (size_t i = 0; i < src->len; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->sum += src->sum;
    dst->sum_sq += src->sum_sq;
    return 0;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < h->len; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t v = hist_highest_equivalent(h, hist_value_at(h, i));
            return v < h->max ? (v > h->min ? v : h->min) : h->max;
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

double hist_stddev(const struct hist *h)
{
    if (h->total < 2)
        return 0.0;
    double m = hist_mean(h);
    double var = h->sum_sq / (double)h->total - m * m;
    return var > 0 ? sqrt(var) : 0.0;
}

size_t hist_spectrum(const struct hist *h, int ticks_per_half, double *pct, uint64_t *val, size_t n)
{
    size_t k = 0;
    if (h->total == 0 || n == 0)
        return 0;
    for (int step = 0; k + 1 < n; step++) {
        double p = 100.0 * (1.0 - pow(0.5, (double)step / ticks_per_half));
        uint64_t v = hist_percentile(h, p);
        pct[k] = p;
        val[k] = v;
        k++;
        /* Stop once the remaining tail is smaller than one value. */
        if (v >= h->max || (100.0 - p) / 100.0 * (double)h->total < 1.0)
            break;
    }
    if (k < n && pct[k - 1] < 100.0) {
        pct[k] = 100.0;
        val[k] = h->max;
        k++;
    }
    return k;
}
