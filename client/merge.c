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
#include "jdoc.h"
#include "loadgen.h"

struct input {
    const char *path;
    json_object *doc;
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
static int add_hist(json_object *j, struct hist *dst, int digits, char *err, size_t errlen)
{
    json_object *bk = jdoc_path(j, "buckets");
    if (!json_object_is_type(bk, json_type_array)) {
        snprintf(err, errlen, "a histogram without its counters (\"buckets\")");
        return -1;
    }
    struct hist h;
    if (hist_init(&h, digits, HIST_MAX_US) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t sum = 0;
    size_t nb = json_object_array_length(bk);
    for (size_t i = 0; i < nb; i++) {
        json_object *pair = json_object_array_get_idx(bk, i);
        json_object *at = json_object_array_get_idx(pair, 0);
        if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2 ||
            !jdoc_is_num(at) || jdoc_u64(at) >= h.len) {
            snprintf(err, errlen, "a counter that is not [index, count] within the histogram");
            hist_free(&h);
            return -1;
        }
        uint64_t c = jdoc_u64(json_object_array_get_idx(pair, 1));
        h.counts[jdoc_u64(at)] += c;
        sum += c;
    }
    /* A timeline second carries only its counters: its count, least and greatest value are
     * theirs. */
    json_object *count = jdoc_path(j, "count");
    h.total = count ? jdoc_u64(count) : sum;
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
        h.min = jdoc_u64(jdoc_path(j, "min"));
        h.max = jdoc_u64(jdoc_path(j, "max"));
    }
    h.sum = jdoc_num(jdoc_path(j, "sum"), 0);
    h.sum_sq = jdoc_num(jdoc_path(j, "sum_sq"), 0);
    h.clamped = jdoc_u64(jdoc_path(j, "clamped"));
    int rc = hist_merge(dst, &h);
    hist_free(&h);
    if (rc < 0)
        snprintf(err, errlen, "histograms of different precision");
    return rc;
}

static int add_phases(json_object *lat, struct hist *dst, char *err, size_t errlen)
{
    for (int p = 0; p < PH_COUNT; p++) {
        json_object *h = jdoc_path(lat, lg_phase_names[p]);
        if (!h) {
            snprintf(err, errlen, "no \"%s\" phase", lg_phase_names[p]);
            return -1;
        }
        if (add_hist(h, &dst[p], 3, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static const char *const summed[] = {
    "requests_ok",  "bytes",        "connections_opened", "in_flight_at_end", "warmup_requests",
    "due_not_sent", "idle_greeted", "idle_reopened",      "clients_served",   "kept_greeted"};

/* Adds one input into m. Returns 0, or -1 with the reason in err. */
static int add_input(struct merged *m, struct input *in, int64_t t0, char *err, size_t errlen)
{
    json_object *d = in->doc;
    struct lg_result *r = &m->r;
    json_object *tot = jdoc_path(d, "totals");
    uint64_t *fields[] = {&r->requests_ok,      &r->bytes,           &r->connections_opened,
                          &r->in_flight_at_end, &r->warmup_requests, &r->due_not_sent,
                          &r->idle_greeted,     &r->idle_reopened,   &r->clients_served,
                          &r->kept_greeted};
    for (size_t i = 0; i < sizeof summed / sizeof *summed; i++)
        *fields[i] += jdoc_u64(jdoc_path(tot, summed[i]));
    for (int e = 0; e < E_COUNT; e++)
        r->errors[e] += jdoc_u64(jdoc_path(jdoc_path(d, "errors"), lg_err_names[e]));
    json_object *stopped = jdoc_path(d, "interrupted");
    m->interrupted |=
        json_object_is_type(stopped, json_type_boolean) && json_object_get_boolean(stopped);
    r->cpu_user_s += jdoc_num(jdoc_path(d, "client.utime_s"), 0);
    r->cpu_sys_s += jdoc_num(jdoc_path(d, "client.stime_s"), 0);
    m->conns += jdoc_u64(jdoc_path(d, "config.connections"));
    m->threads += jdoc_u64(jdoc_path(d, "config.threads"));
    m->requests += jdoc_u64(jdoc_path(d, "config.requests"));
    m->idle += jdoc_u64(jdoc_path(d, "config.idle"));
    m->b.rate += jdoc_num(jdoc_path(d, "config.rate_rps"), 0);
    double ramp = jdoc_num(jdoc_path(d, "totals.ramp_s"), 0);
    if (ramp > m->b.ramp_s)
        m->b.ramp_s = ramp; /* the hosts open theirs at once: the longest is the run's */

    if (add_phases(jdoc_path(d, "latency_us"), r->lat, err, errlen) < 0)
        return -1;
    json_object *unc = jdoc_path(d, "latency_us_uncorrected");
    if (unc && r->lat_unc[0].counts && add_phases(unc, r->lat_unc, err, errlen) < 0)
        return -1;
    json_object *cls = jdoc_path(d, "latency_us_by_class");
    size_t ncls = json_object_is_type(cls, json_type_array) ? json_object_array_length(cls) : 0;
    if (ncls != r->ncls) {
        snprintf(err, errlen, "%zu request classes, the first input has %zu", ncls, r->ncls);
        return -1;
    }
    for (size_t c = 0; c < ncls; c++) {
        json_object *k = json_object_array_get_idx(cls, c);
        const struct lg_class *want = &m->b.classes[c];
        if (jdoc_u64(jdoc_path(k, "work")) != want->work ||
            jdoc_u64(jdoc_path(k, "bytes")) != want->bytes ||
            jdoc_u64(jdoc_path(k, "weight")) != want->weight) {
            snprintf(err, errlen, "request class %zu differs from the first input's", c + 1);
            return -1;
        }
        r->cls[c].ok += jdoc_u64(jdoc_path(k, "requests_ok"));
        r->cls[c].errors += jdoc_u64(jdoc_path(k, "errors"));
        if (add_hist(jdoc_path(k, "total"), &r->cls[c].total, 3, err, errlen) < 0)
            return -1;
    }

    /* The timeline: this input's second t began at the wall-clock second t + shift of the
     * merged one. */
    json_object *tl = jdoc_path(d, "timeline");
    long shift = in->start_ns && t0 ? lround((double)(in->start_ns - t0) / 1e9) : 0;
    size_t ntl = json_object_is_type(tl, json_type_array) ? json_object_array_length(tl) : 0;
    for (size_t i = 0; i < ntl; i++) {
        json_object *e = json_object_array_get_idx(tl, i);
        size_t t = (size_t)((long)jdoc_u64(jdoc_path(e, "t")) + shift);
        if (!lg_result_second(r, t)) {
            snprintf(err, errlen, "a second beyond a day, or out of memory");
            return -1;
        }
        r->seconds[t].requests += jdoc_u64(jdoc_path(e, "requests"));
        r->seconds[t].errors += jdoc_u64(jdoc_path(e, "errors"));
        if (add_hist(e, r->seconds[t].total, 2, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static json_object *merged_doc(const struct merged *m)
{
    json_object *first = m->in[0].doc;
    json_object *doc = lg_json_head("loadgen merge", m->interrupted);
    if (!doc)
        return NULL;
    json_object *ctx = jdoc_path(first, "context");
    if (ctx)
        jdoc_set(doc, "context", json_object_get(ctx));
    json_object *cfg = jdoc_path(first, "config"), *c = json_object_new_object();
    if (json_object_is_type(cfg, json_type_object)) {
        json_object_object_foreach(cfg, k, v)
        {
            json_object *nv;
            if (!strcmp(k, "connections"))
                nv = json_object_new_uint64(m->conns);
            else if (!strcmp(k, "threads"))
                nv = json_object_new_uint64(m->threads);
            else if (!strcmp(k, "requests"))
                nv = json_object_new_uint64(m->requests);
            else if (!strcmp(k, "idle"))
                nv = json_object_new_uint64(m->idle);
            else if (!strcmp(k, "rate_rps"))
                nv = jdoc_double(m->b.rate, 3);
            else
                nv = json_object_get(v);
            jdoc_set(c, k, nv);
        }
    }
    jdoc_set(doc, "config", c);
    json_object *from = json_object_new_array_ext((int)m->n);
    for (size_t i = 0; i < m->n; i++) {
        json_object *d = m->in[i].doc, *e = json_object_new_object();
        jdoc_set(e, "file", json_object_new_string(m->in[i].path));
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
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            jdoc_set(e, keys[k][0], json_object_get(jdoc_path(d, keys[k][1])));
        json_object_array_add(from, e);
    }
    jdoc_set(doc, "merged_from", from);
    lg_json_body(doc, &m->r, &m->b);
    return doc;
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
        int pr = jdoc_parse(text, len, &in->doc, err, sizeof err);
        free(text);
        if (pr < 0) {
            fprintf(stderr, "loadgen merge: %s: not JSON: %s\n", in->path, err);
            goto done;
        }
        json_object *hg = jdoc_path(in->doc, "histogram");
        if (!hg || !jdoc_path(in->doc, "latency_us.total.buckets")) {
            fprintf(stderr,
                    "loadgen merge: %s: not a loadgen result with histogram counters (one from "
                    "an older loadgen, or not a result)\n",
                    in->path);
            goto done;
        }
        if (jdoc_u64(jdoc_path(hg, "significant_digits")) != 3 ||
            jdoc_u64(jdoc_path(hg, "max_us")) != HIST_MAX_US) {
            fprintf(stderr, "loadgen merge: %s: histograms of another precision or range\n",
                    in->path);
            goto done;
        }
        in->start_ns = (int64_t)jdoc_u64(jdoc_path(in->doc, "wall_clock.measure_start_ns"));
        double el = jdoc_num(jdoc_path(in->doc, "totals.elapsed_s"), 0);
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
        double el = jdoc_num(jdoc_path(in->doc, "totals.elapsed_s"), 0);
        if (el > longest)
            longest = el;
        corrected |= jdoc_path(in->doc, "latency_us_uncorrected") != NULL;
    }
    struct lg_class classes[LG_MAX_CLASSES];
    json_object *cls = jdoc_path(m.in[0].doc, "latency_us_by_class");
    size_t ncls = json_object_is_type(cls, json_type_array) ? json_object_array_length(cls) : 0;
    if (ncls > LG_MAX_CLASSES)
        ncls = LG_MAX_CLASSES;
    for (size_t c = 0; c < ncls; c++)
        classes[c] =
            (struct lg_class){jdoc_u64(jdoc_path(json_object_array_get_idx(cls, c), "work")),
                              jdoc_u64(jdoc_path(json_object_array_get_idx(cls, c), "bytes")),
                              jdoc_u64(jdoc_path(json_object_array_get_idx(cls, c), "weight"))};
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
    m.b.t0_wall_ns = (int64_t)jdoc_u64(jdoc_path(m.in[0].doc, "wall_clock.t0_ns"));
    for (size_t i = 1; i < m.n; i++) {
        int64_t t = (int64_t)jdoc_u64(jdoc_path(m.in[i].doc, "wall_clock.t0_ns"));
        if (t && t < m.b.t0_wall_ns)
            m.b.t0_wall_ns = t;
    }
    m.b.start_at_ns = (int64_t)jdoc_u64(jdoc_path(m.in[0].doc, "wall_clock.start_at_ns"));
    if (lg_write_json(out, "merge --json", merged_doc(&m)) == 0) {
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
        json_object_put(m.in[i].doc);
    free(m.in);
    return rc;
}
