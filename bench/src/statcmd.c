/* statcmd: the statistics of bstats.c for the jq filters that turn runs into what people read:
 * bench/summarize takes each configuration's intervals from --summary-stats, bench/compare
 * its ratios' intervals from --ratio-intervals, so that one implementation (in C, with its
 * unit tests) decides both the repetitions and what the summary and the comparison say. */
#include <dirent.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"
#include "hist.h"
#include "orch.h"
#include "statcmd.h"

static double round6(double v)
{
    return round(v * 1e6) / 1e6;
}

/* [lo, hi], each to 6 decimals. */
static json_object *pair(double lo, double hi)
{
    json_object *a = json_object_new_array_ext(2);
    json_object_array_add(a, jdoc_number(round6(lo)));
    json_object_array_add(a, jdoc_number(round6(hi)));
    return a;
}

/* {"ci95": [lo, hi], "ci_level": L, "ci_pct": P} of v, or NULL (null) when v is empty. */
static json_object *interval(double *v, size_t n)
{
    double lo, hi, level;
    if (bs_median_ci(v, n, 0.95, &lo, &hi, &level) < 0)
        return NULL;
    json_object *o = json_object_new_object();
    jdoc_set(o, "ci95", pair(lo, hi));
    jdoc_set(o, "ci_level", jdoc_number(round6(level)));
    double p = bs_ci_pct(v, n);
    jdoc_set(o, "ci_pct", p < 0 ? NULL : jdoc_number(round6(p)));
    return o;
}

struct group {
    char key[512];
    double v[3][256];
    size_t n[3];
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int ok_cells(const char *dir, const char *who, void (*fn)(json_object *cell, void *arg), void *arg)
{
    char cells[PATH_MAX];
    bufprintf(cells, sizeof cells, "%s/cells", dir);
    struct dirent **ents;
    int ne = scandir(cells, &ents, NULL, by_name);
    if (ne < 0) {
        say("%s: %s: cannot read it\n", who, cells);
        return -1;
    }
    for (int i = 0; i < ne; i++) {
        const char *name = ents[i]->d_name;
        size_t len = strlen(name);
        json_object *j = NULL;
        if (len > 5 && !strcmp(name + len - 5, ".json") &&
            read_json(internf("%s/%s", cells, name), &j)) {
            const char *st = jdoc_str(jdoc_get(j, "status"));
            if (st && !strcmp(st, "ok") && jdoc_str(jdoc_get(j, "id")))
                fn(j, arg);
            json_object_put(j);
        }
        free(ents[i]);
    }
    free(ents);
    return 0;
}

struct groups {
    struct group *g;
    size_t n, cap;
};

static void group_cell(json_object *j, void *arg)
{
    static const char *const paths[3] = {"loadgen.totals.rps", "loadgen.latency_us.total.p50",
                                         "loadgen.latency_us.total.p99"};
    struct groups *gs = arg;
    char key[512];
    bufprintf(key, sizeof key, "%s", jdoc_str(jdoc_get(j, "id")));
    char *r = strrchr(key, '-');
    if (r && r[1] == 'r' && r[2] && strspn(r + 2, "0123456789") == strlen(r + 2))
        *r = 0;
    size_t k = 0;
    while (k < gs->n && strcmp(gs->g[k].key, key))
        k++;
    if (k == gs->n) {
        if (gs->n == gs->cap) {
            gs->cap = gs->cap ? 2 * gs->cap : 64;
            struct group *more = realloc(gs->g, gs->cap * sizeof *more);
            if (!more)
                die("out of memory");
            gs->g = more;
        }
        memset(&gs->g[k], 0, sizeof gs->g[k]);
        bufprintf(gs->g[gs->n++].key, sizeof gs->g->key, "%s", key);
    }
    for (int m = 0; m < 3; m++) {
        json_object *v = jdoc_path(j, paths[m]);
        if (jdoc_is_num(v) && gs->g[k].n[m] < 256)
            gs->g[k].v[m][gs->g[k].n[m]++] = jdoc_num(v, 0);
    }
}

int stat_summary(const char *dir)
{
    static const char *const names[3] = {"rps", "p50_us", "p99_us"};
    struct groups gs = {0};
    if (ok_cells(dir, "bench/run --summary-stats", group_cell, &gs) < 0)
        return 1;
    json_object *all = json_object_new_object();
    for (size_t k = 0; k < gs.n; k++) {
        json_object *o = json_object_new_object();
        for (int m = 0; m < 3; m++)
            jdoc_set(o, names[m], interval(gs.g[k].v[m], gs.g[k].n[m]));
        jdoc_set(all, gs.g[k].key, o);
    }
    puts(jdoc_text(all));
    json_object_put(all);
    free(gs.g);
    return 0;
}

/* Numbers of a JSON array (nulls left out), into v; their count. */
static size_t numbers(json_object *a, double *v, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < jdoc_len(a) && n < max; i++)
        if (jdoc_is_num(jdoc_at(a, i)))
            v[n++] = jdoc_num(jdoc_at(a, i), 0);
    return n;
}

int stat_ratios(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        json_object *j = NULL;
        char err[128];
        if (jdoc_parse(line, (size_t)len, &j, err, sizeof err) < 0) {
            say("bench/run --ratio-intervals: %s\n", err);
            free(line);
            return 1;
        }
        double a[256], b[256], lo = 0, hi = 0, level = NAN;
        size_t na = numbers(jdoc_get(j, "a"), a, 256), nb = numbers(jdoc_get(j, "b"), b, 256);
        int ok = bs_ratio_ci(a, na, b, nb, 0.95, &lo, &hi, &level);
        json_object *o = json_object_new_object();
        jdoc_set(o, "ci95", ok == 0 ? pair(lo, hi) : NULL);
        jdoc_set(o, "n_a", json_object_new_uint64(na));
        jdoc_set(o, "n_b", json_object_new_uint64(nb));
        jdoc_set(o, "level", jdoc_number(round6(level)));
        puts(jdoc_text(o));
        json_object_put(o);
        json_object_put(j);
    }
    free(line);
    return 0;
}

/* ---- --heatmap CELL: each second's latencies as a grid ---- */

/* Latency bins per decade of the heatmap (log-spaced: 1.26x apart). */
#define HEAT_PER_DECADE 10

int stat_heatmap(const char *cell)
{
    json_object *v = NULL;
    if (!read_json(cell, &v)) {
        say("bench/run --heatmap: %s: not a cell's JSON\n", cell);
        return 1;
    }
    json_object *tl = jdoc_path(v, "loadgen.timeline");
    json_object *sig = jdoc_path(v, "loadgen.histogram.timeline_significant_digits");
    struct hist h;
    int rc = 1;
    if (!json_object_is_type(tl, json_type_array) || !jdoc_is_num(sig) ||
        hist_init(&h, (int)jdoc_num(sig, 2), HIST_MAX_US) < 0) {
        say("bench/run --heatmap: %s: no per-second histograms (a cell of loadgen before "
            "they were recorded)\n",
            cell);
        json_object_put(v);
        return 2;
    }
    /* the bins every second spans: from the least to the most latency seen */
    int lo = INT32_MAX, hi = INT32_MIN;
    for (int pass = 0; pass < 2; pass++)
        for (size_t s = 0; s < jdoc_len(tl); s++) {
            json_object *b = jdoc_get(jdoc_at(tl, s), "buckets");
            double t = jdoc_num(jdoc_get(jdoc_at(tl, s), "t"), (double)s);
            static double count[4096];
            if (pass == 1 && hi >= lo)
                memset(count, 0, sizeof count);
            for (size_t k = 0; k < jdoc_len(b); k++) {
                json_object *e = jdoc_at(b, k);
                if (jdoc_len(e) != 2 || jdoc_u64(jdoc_at(e, 0)) >= h.len)
                    continue;
                uint64_t us = hist_value_at(&h, (size_t)jdoc_u64(jdoc_at(e, 0)));
                int bin = (int)floor(log10((double)(us ? us : 1) / 1000.0) * HEAT_PER_DECADE);
                if (pass == 0) {
                    lo = bin < lo ? bin : lo;
                    hi = bin > hi ? bin : hi;
                } else if (bin - lo >= 0 && bin - lo < 4096)
                    count[bin - lo] += jdoc_num(jdoc_at(e, 1), 0);
            }
            /* pass 1: the whole column, empty bins as 0, at the bin's middle (log10 ms) */
            for (int bin = lo; pass == 1 && bin <= hi && bin - lo < 4096; bin++)
                printf("%g\t%.4f\t%.0f\n", t, (bin + 0.5) / HEAT_PER_DECADE, count[bin - lo]);
        }
    rc = hi >= lo ? 0 : 2;
    if (rc)
        say("bench/run --heatmap: %s: no request in its timeline\n", cell);
    hist_free(&h);
    json_object_put(v);
    return rc;
}
