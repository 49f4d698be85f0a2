/* merge: loadgen merge A.json B.json ... [--json OUT]. The results of loadgens that ran one
 * test together (on several client hosts) become one result: their histograms are added
 * counter by counter, so every percentile of the merged result is the percentile of all the
 * requests together, to the histogram's precision (percentiles are never averaged). Totals,
 * errors and client CPU are summed; the measured interval runs from the earliest start to the
 * latest end by wall clock; each second of the timeline is the sum of the inputs' seconds that
 * began at the same wall-clock second. The per-request log is left out (its connection
 * numbers are each run's own). The context and config are the first input's, with the
 * connections, threads, requests, rate and idle connections summed; "merged_from" lists every
 * input with its host. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commit.h"
#include "json.h"
#include "loadgen.h"

struct input {
    const char *path;
    struct jval doc;
    int64_t start_ns, end_ns; /* the measured interval by wall clock; 0: unknown */
};

struct merged {
    struct input *in;
    size_t n;
    struct lg_result r;
    struct lg_body b;
    bool interrupted;
    uint64_t conns, threads, requests, idle;
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? 2 * cap : 1 << 20;
            char *g = realloc(buf, cap);
            if (!g) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = g;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

/* Adds the histogram of JSON object j (lg_json_hist's form) into dst. */
static int add_hist(const struct jval *j, struct hist *dst, int digits, char *err, size_t errlen)
{
    const struct jval *bk = json_get(j, "buckets");
    if (!bk || bk->type != J_ARR) {
        snprintf(err, errlen, "a histogram without its counters (\"buckets\")");
        return -1;
    }
    struct hist h;
    if (hist_init(&h, digits, HIST_MAX_US) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < bk->n; i++) {
        const struct jval *pair = &bk->items[i];
        if (pair->type != J_ARR || pair->n != 2 || json_u64(&pair->items[0]) >= h.len) {
            snprintf(err, errlen, "a counter that is not [index, count] within the histogram");
            hist_free(&h);
            return -1;
        }
        uint64_t c = json_u64(&pair->items[1]);
        h.counts[json_u64(&pair->items[0])] += c;
        sum += c;
    }
    /* A timeline second carries only its counters: its count, least and greatest value are
     * theirs. */
    const struct jval *count = json_get(j, "count");
    h.total = count ? json_u64(count) : sum;
    if (sum != h.total) {
        snprintf(err, errlen, "counters add up to %llu, the count says %llu",
                 (unsigned long long)sum, (unsigned long long)h.total);
        hist_free(&h);
        return -1;
    }
    h.min = UINT64_MAX;
    for (size_t i = 0; i < h.len; i++)
        if (h.counts[i]) {
            uint64_t lo = hist_value_at(&h, i);
            if (lo < h.min)
                h.min = lo;
            h.max = hist_highest_equivalent(&h, lo);
        }
    if (count && h.total) {
        h.min = json_u64(json_get(j, "min"));
        h.max = json_u64(json_get(j, "max"));
    }
    h.sum = json_num(json_get(j, "sum"), 0);
    h.sum_sq = json_num(json_get(j, "sum_sq"), 0);
    h.clamped = json_u64(json_get(j, "clamped"));
    int rc = hist_merge(dst, &h);
    hist_free(&h);
    if (rc < 0)
        snprintf(err, errlen, "histograms of different precision");
    return rc;
}

static int add_phases(const struct jval *lat, struct hist *dst, char *err, size_t errlen)
{
    for (int p = 0; p < PH_COUNT; p++) {
        const struct jval *h = json_get(lat, lg_phase_names[p]);
        if (!h) {
            snprintf(err, errlen, "no \"%s\" phase", lg_phase_names[p]);
            return -1;
        }
        if (add_hist(h, &dst[p], 3, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int grow_seconds(struct lg_result *r, size_t n)
{
    if (n <= r->nseconds)
        return 0;
    struct lg_second *g = realloc(r->seconds, n * sizeof *g);
    if (!g)
        return -1;
    r->seconds = g;
    for (size_t i = r->nseconds; i < n; i++) {
        memset(&g[i], 0, sizeof g[i]);
        g[i].total = malloc(sizeof *g[i].total);
        if (!g[i].total || hist_init(g[i].total, 2, HIST_MAX_US) < 0) {
            free(g[i].total);
            r->nseconds = i;
            return -1;
        }
    }
    r->nseconds = r->capseconds = n;
    return 0;
}

static const char *const summed[] = {
    "requests_ok",  "bytes",        "connections_opened", "in_flight_at_end", "warmup_requests",
    "due_not_sent", "idle_greeted", "idle_reopened",      "clients_served",   "kept_greeted"};

/* Adds one input into m. Returns 0, or -1 with the reason in err. */
static int add_input(struct merged *m, struct input *in, int64_t t0, char *err, size_t errlen)
{
    const struct jval *d = &in->doc;
    struct lg_result *r = &m->r;
    const struct jval *tot = json_get(d, "totals");
    uint64_t *fields[] = {&r->requests_ok,      &r->bytes,           &r->connections_opened,
                          &r->in_flight_at_end, &r->warmup_requests, &r->due_not_sent,
                          &r->idle_greeted,     &r->idle_reopened,   &r->clients_served,
                          &r->kept_greeted};
    for (size_t i = 0; i < sizeof summed / sizeof *summed; i++)
        *fields[i] += json_u64(json_get(tot, summed[i]));
    for (int e = 0; e < E_COUNT; e++)
        r->errors[e] += json_u64(json_get(json_get(d, "errors"), lg_err_names[e]));
    m->interrupted |= json_get(d, "interrupted") && json_get(d, "interrupted")->b;
    r->cpu_user_s += json_num(json_path(d, "client.utime_s"), 0);
    r->cpu_sys_s += json_num(json_path(d, "client.stime_s"), 0);
    m->conns += json_u64(json_path(d, "config.connections"));
    m->threads += json_u64(json_path(d, "config.threads"));
    m->requests += json_u64(json_path(d, "config.requests"));
    m->idle += json_u64(json_path(d, "config.idle"));
    m->b.rate += json_num(json_path(d, "config.rate_rps"), 0);
    double ramp = json_num(json_path(d, "totals.ramp_s"), 0);
    if (ramp > m->b.ramp_s)
        m->b.ramp_s = ramp; /* the hosts open theirs at once: the longest is the run's */

    if (add_phases(json_get(d, "latency_us"), r->lat, err, errlen) < 0)
        return -1;
    const struct jval *unc = json_get(d, "latency_us_uncorrected");
    if (unc && r->lat_unc[0].counts && add_phases(unc, r->lat_unc, err, errlen) < 0)
        return -1;
    const struct jval *cls = json_get(d, "latency_us_by_class");
    size_t ncls = cls && cls->type == J_ARR ? cls->n : 0;
    if (ncls != r->ncls) {
        snprintf(err, errlen, "%zu request classes, the first input has %zu", ncls, r->ncls);
        return -1;
    }
    for (size_t c = 0; c < ncls; c++) {
        const struct jval *k = &cls->items[c];
        const struct lg_class *want = &m->b.classes[c];
        if (json_u64(json_get(k, "work")) != want->work ||
            json_u64(json_get(k, "bytes")) != want->bytes ||
            json_u64(json_get(k, "weight")) != want->weight) {
            snprintf(err, errlen, "request class %zu differs from the first input's", c + 1);
            return -1;
        }
        r->cls[c].ok += json_u64(json_get(k, "requests_ok"));
        r->cls[c].errors += json_u64(json_get(k, "errors"));
        if (add_hist(json_get(k, "total"), &r->cls[c].total, 3, err, errlen) < 0)
            return -1;
    }

    /* The timeline: this input's second t began at the wall-clock second t + shift of the
     * merged one. */
    const struct jval *tl = json_get(d, "timeline");
    long shift = in->start_ns && t0 ? lround((double)(in->start_ns - t0) / 1e9) : 0;
    for (size_t i = 0; tl && tl->type == J_ARR && i < tl->n; i++) {
        const struct jval *e = &tl->items[i];
        size_t t = (size_t)((long)json_u64(json_get(e, "t")) + shift);
        if (grow_seconds(r, t + 1) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        r->seconds[t].requests += json_u64(json_get(e, "requests"));
        r->seconds[t].errors += json_u64(json_get(e, "errors"));
        if (add_hist(e, r->seconds[t].total, 2, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void fill_merged(FILE *f, const void *arg)
{
    const struct merged *m = arg;
    const struct jval *first = &m->in[0].doc;
    fprintf(f,
            "{\"schema_version\":1,\"tool\":{\"name\":\"loadgen merge\",\"version\":\"%s\","
            "\"git_commit\":\"%s\",\"compiler\":\"%s\",\"cflags\":\"%s\"},\"interrupted\":%s",
            PROJECT_VERSION, GIT_COMMIT, BUILD_CC, BUILD_CFLAGS, m->interrupted ? "true" : "false");
    const struct jval *ctx = json_get(first, "context");
    if (ctx) {
        fprintf(f, ",\"context\":");
        json_write(f, ctx);
    }
    const struct jval *cfg = json_get(first, "config");
    fprintf(f, ",\"config\":{");
    bool any = false;
    for (size_t i = 0; cfg && cfg->type == J_OBJ && i < cfg->n; i++) {
        const char *k = cfg->keys[i];
        fprintf(f, "%s", any ? "," : "");
        any = true;
        json_write_string(f, k);
        fputc(':', f);
        if (!strcmp(k, "connections"))
            fprintf(f, "%llu", (unsigned long long)m->conns);
        else if (!strcmp(k, "threads"))
            fprintf(f, "%llu", (unsigned long long)m->threads);
        else if (!strcmp(k, "requests"))
            fprintf(f, "%llu", (unsigned long long)m->requests);
        else if (!strcmp(k, "idle"))
            fprintf(f, "%llu", (unsigned long long)m->idle);
        else if (!strcmp(k, "rate_rps"))
            fprintf(f, "%.3f", m->b.rate);
        else
            json_write(f, &cfg->items[i]);
    }
    fprintf(f, "},\"merged_from\":[");
    for (size_t i = 0; i < m->n; i++) {
        const struct jval *d = &m->in[i].doc;
        fprintf(f, "%s{\"file\":", i ? "," : "");
        json_write_string(f, m->in[i].path);
        const char *keys[][2] = {{"host_name", "context.host_name"},
                                 {"kernel", "context.kernel"},
                                 {"num_cpus", "context.num_cpus"},
                                 {"connections", "config.connections"},
                                 {"rate_rps", "config.rate_rps"},
                                 {"requests_ok", "totals.requests_ok"},
                                 {"rps", "totals.rps"},
                                 {"elapsed_s", "totals.elapsed_s"},
                                 {"measure_start_ns", "wall_clock.measure_start_ns"},
                                 {"started_late_us", "wall_clock.started_late_us"}};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            const struct jval *v = json_path(d, keys[k][1]);
            fprintf(f, ",\"%s\":", keys[k][0]);
            if (v)
                json_write(f, v);
            else
                fprintf(f, "null");
        }
        fprintf(f, "}");
    }
    fprintf(f, "]");
    lg_json_body(f, &m->r, &m->b);
    fprintf(f, "}\n");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loadgen merge RESULT.json RESULT.json ... [--json FILE|-]\n\n"
            "Adds the histograms of loadgen results (--json) of one test run from several\n"
            "hosts: the merged JSON (to FILE, default standard output) has every count and\n"
            "percentile of all their requests together, and \"merged_from\" lists the inputs.\n");
}

int lg_merge_main(int argc, char **argv)
{
    const char *out = "-";
    struct merged m = {0};
    m.in = calloc((size_t)argc, sizeof *m.in);
    if (!m.in) {
        fprintf(stderr, "loadgen merge: out of memory\n");
        return 1;
    }
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        }
        if (!strcmp(argv[i], "--json")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "loadgen merge: --json needs a file (try --help)\n");
                goto done;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "loadgen merge: unknown option %s (try --help)\n", argv[i]);
            goto done;
        } else {
            m.in[m.n++].path = argv[i];
        }
    }
    if (m.n == 0) {
        fprintf(stderr, "loadgen merge: no result given (try --help)\n");
        goto done;
    }
    rc = 1;
    char err[256];
    for (size_t i = 0; i < m.n; i++) {
        struct input *in = &m.in[i];
        size_t len;
        char *text = slurp(in->path, &len);
        if (!text) {
            fprintf(stderr, "loadgen merge: %s: %s\n", in->path, strerror(errno));
            goto done;
        }
        int pr = json_parse(text, len, &in->doc, err, sizeof err);
        free(text);
        if (pr < 0) {
            fprintf(stderr, "loadgen merge: %s: not JSON: %s\n", in->path, err);
            goto done;
        }
        const struct jval *hg = json_get(&in->doc, "histogram");
        if (!hg || !json_path(&in->doc, "latency_us.total.buckets")) {
            fprintf(stderr,
                    "loadgen merge: %s: not a loadgen result with histogram counters (one from "
                    "an older loadgen, or not a result)\n",
                    in->path);
            goto done;
        }
        if (json_u64(json_get(hg, "significant_digits")) != 3 ||
            json_u64(json_get(hg, "max_us")) != HIST_MAX_US) {
            fprintf(stderr, "loadgen merge: %s: histograms of another precision or range\n",
                    in->path);
            goto done;
        }
        in->start_ns = (int64_t)json_u64(json_path(&in->doc, "wall_clock.measure_start_ns"));
        double el = json_num(json_path(&in->doc, "totals.elapsed_s"), 0);
        in->end_ns = in->start_ns ? in->start_ns + (int64_t)llround(el * 1e9) : 0;
    }

    /* The merged interval and the first input's classes. */
    int64_t t0 = 0, t1 = 0;
    double longest = 0;
    bool clocks = true, corrected = false;
    for (size_t i = 0; i < m.n; i++) {
        struct input *in = &m.in[i];
        clocks &= in->start_ns > 0;
        if (in->start_ns && (!t0 || in->start_ns < t0))
            t0 = in->start_ns;
        if (in->end_ns > t1)
            t1 = in->end_ns;
        double el = json_num(json_path(&in->doc, "totals.elapsed_s"), 0);
        if (el > longest)
            longest = el;
        corrected |= json_get(&in->doc, "latency_us_uncorrected") != NULL;
    }
    struct lg_class classes[LG_MAX_CLASSES];
    const struct jval *cls = json_get(&m.in[0].doc, "latency_us_by_class");
    size_t ncls = cls && cls->type == J_ARR ? cls->n : 0;
    if (ncls > LG_MAX_CLASSES)
        ncls = LG_MAX_CLASSES;
    for (size_t c = 0; c < ncls; c++)
        classes[c] = (struct lg_class){json_u64(json_get(&cls->items[c], "work")),
                                       json_u64(json_get(&cls->items[c], "bytes")),
                                       json_u64(json_get(&cls->items[c], "weight"))};
    m.b.classes = classes;
    if (lg_result_init(&m.r, corrected, ncls) < 0) {
        fprintf(stderr, "loadgen merge: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < m.n; i++)
        if (add_input(&m, &m.in[i], clocks ? t0 : 0, err, sizeof err) < 0) {
            fprintf(stderr, "loadgen merge: %s: %s\n", m.in[i].path, err);
            goto done;
        }
    m.b.elapsed_s = clocks && t1 > t0 ? (double)(t1 - t0) / 1e9 : longest;
    m.b.utime_s = m.r.cpu_user_s;
    m.b.stime_s = m.r.cpu_sys_s;
    m.b.measure_wall_ns = clocks ? t0 : 0;
    m.b.t0_wall_ns = (int64_t)json_u64(json_path(&m.in[0].doc, "wall_clock.t0_ns"));
    for (size_t i = 1; i < m.n; i++) {
        int64_t t = (int64_t)json_u64(json_path(&m.in[i].doc, "wall_clock.t0_ns"));
        if (t && t < m.b.t0_wall_ns)
            m.b.t0_wall_ns = t;
    }
    m.b.start_at_ns = (int64_t)json_u64(json_path(&m.in[0].doc, "wall_clock.start_at_ns"));
    if (lg_write_doc(out, "merge --json", fill_merged, &m) == 0) {
        uint64_t errs = 0;
        for (int e = 0; e < E_COUNT; e++)
            errs += m.r.errors[e];
        fprintf(stderr,
                "loadgen merge: %zu results: %llu requests in %.2fs (%.2f/s), %llu errors, total "
                "p50 %lluus p99 %lluus\n",
                m.n, (unsigned long long)m.r.requests_ok, m.b.elapsed_s,
                m.b.elapsed_s > 0 ? (double)m.r.requests_ok / m.b.elapsed_s : 0.0,
                (unsigned long long)errs,
                (unsigned long long)hist_percentile(&m.r.lat[PH_TOTAL], 50),
                (unsigned long long)hist_percentile(&m.r.lat[PH_TOTAL], 99));
        rc = 0;
    }
done:
    lg_result_free(&m.r);
    for (size_t i = 0; i < m.n; i++)
        json_free(&m.in[i].doc);
    free(m.in);
    return rc;
}
