/* output: the run's result documents, each written whole or not at all: the JSON result
 * (context, config, totals, latencies, timeline), HdrHistogram's interval log and wrk2's
 * percentile text. The body of the JSON is shared with loadgen merge; JSON is built and
 * written by json-c (client/jdoc). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "hdrlog.h"
#include "jdoc.h"
#include "loadgen.h"
#include "outfile.h"

static void iso_time(char *buf, size_t n, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- JSON (json-c, through client/jdoc) ---- */

static json_object *u64(uint64_t v)
{
    return json_object_new_uint64(v);
}

json_object *lg_json_hist(const struct hist *h)
{
    static const double ps[] = {50, 75, 90, 99, 99.9, 99.99};
    static const char *const names[] = {"p50", "p75", "p90", "p99", "p999", "p9999"};
    json_object *o = json_object_new_object();
    jdoc_set(o, "count", u64(h->total));
    jdoc_set(o, "min", u64(h->total ? h->min : 0));
    jdoc_set(o, "mean", jdoc_double(hist_mean(h), 3));
    jdoc_set(o, "stddev", jdoc_double(hist_stddev(h), 3));
    for (int i = 0; i < 6; i++)
        jdoc_set(o, names[i], u64(hist_percentile(h, ps[i])));
    jdoc_set(o, "max", u64(h->max));
    double pct[256];
    uint64_t val[256];
    size_t n = hist_spectrum(h, 5, pct, val, 256);
    json_object *sp = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        json_object *pair = json_object_new_array_ext(2);
        json_object_array_add(pair, jdoc_double(pct[i], 6));
        json_object_array_add(pair, u64(val[i]));
        json_object_array_add(sp, pair);
    }
    jdoc_set(o, "spectrum", sp);
    lg_json_buckets(o, h);
    return o;
}

/* What merging needs beside the counters: the exact sums, and the values clamped. */
void lg_json_buckets(json_object *o, const struct hist *h)
{
    jdoc_set(o, "sum", jdoc_double(h->sum, -1));
    jdoc_set(o, "sum_sq", jdoc_double(h->sum_sq, -1));
    jdoc_set(o, "clamped", u64(h->clamped));
    json_object *bk = json_object_new_array();
    for (size_t i = 0; i < h->len; i++)
        if (h->counts[i]) {
            json_object *pair = json_object_new_array_ext(2);
            json_object_array_add(pair, u64(i));
            json_object_array_add(pair, u64(h->counts[i]));
            json_object_array_add(bk, pair);
        }
    jdoc_set(o, "buckets", bk);
}

static void json_lat(json_object *doc, const char *key, const struct hist *lat)
{
    json_object *o = json_object_new_object();
    for (int p = 0; p < PH_COUNT; p++)
        jdoc_set(o, lg_phase_names[p], lg_json_hist(&lat[p]));
    jdoc_set(doc, key, o);
}

static void read_first_line(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)n, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *p = strchr(line, ':');
            if (p) {
                p += 1 + strspn(p + 1, " \t");
                p[strcspn(p, "\n")] = '\0';
                snprintf(buf, n, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static json_object *str(const char *v)
{
    return json_object_new_string(v);
}

static void json_context(json_object *doc, const struct lg_run *ri)
{
    struct utsname u;
    if (uname(&u) < 0)
        memset(&u, 0, sizeof u);
    char cpu[256], la[128], smc[32], t1[32], t2[32];
    cpu_model(cpu, sizeof cpu);
    read_first_line("/proc/loadavg", la, sizeof la);
    read_first_line("/proc/sys/net/core/somaxconn", smc, sizeof smc);
    double l[3] = {0, 0, 0};
    sscanf(la, "%lf %lf %lf", &l[0], &l[1], &l[2]);
    iso_time(t1, sizeof t1, ri->started);
    iso_time(t2, sizeof t2, ri->completed);
    json_object *o = json_object_new_object();
    jdoc_set(o, "host_name", str(u.nodename));
    jdoc_set(o, "kernel", str(u.release));
    jdoc_set(o, "cpu_model", str(cpu));
    jdoc_set(o, "num_cpus", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object *load = json_object_new_array_ext(3);
    for (int i = 0; i < 3; i++)
        json_object_array_add(load, jdoc_double(l[i], 2));
    jdoc_set(o, "load_avg", load);
    jdoc_set(o, "somaxconn", json_object_new_int64(atol(smc)));
    jdoc_set(o, "started_at", str(t1));
    jdoc_set(o, "completed_at", str(t2));
    jdoc_set(doc, "context", o);
}

static void json_config(json_object *doc, const struct lg_opts *o)
{
    json_object *c = json_object_new_object();
    json_object *argv = json_object_new_array_ext(o->argc);
    for (int i = 0; i < o->argc; i++)
        json_object_array_add(argv, str(o->argv[i]));
    jdoc_set(c, "argv", argv);
    jdoc_set(c, "book_form", json_object_new_boolean(o->book));
    jdoc_set(c, "address", str(o->addr_str));
    jdoc_set(c, "host", str(o->unix_path ? "" : o->host));
    jdoc_set(c, "port", json_object_new_int(o->unix_path ? 0 : atoi(o->port)));
    jdoc_set(c, "unix_path", str(o->unix_path ? o->unix_path : ""));
    jdoc_set(c, "connections", json_object_new_int64(o->conns));
    jdoc_set(c, "threads", json_object_new_int64(o->threads));
    jdoc_set(c, "requests", u64(o->requests));
    jdoc_set(c, "duration_s", jdoc_double((double)o->duration_us / 1e6, 6));
    jdoc_set(c, "warmup_s", jdoc_double((double)o->warmup_us / 1e6, 6));
    jdoc_set(c, "work", u64(o->work));
    jdoc_set(c, "bytes", u64(o->bytes));
    jdoc_set(c, "reqs_per_conn", u64(o->per_conn));
    jdoc_set(c, "rate_rps", jdoc_double(o->rate, 3));
    jdoc_set(c, "mode", str(o->rate > 0 ? "open" : "closed"));
    jdoc_set(c, "timeout_s", jdoc_double((double)o->timeout_us / 1e6, 6));
    jdoc_set(c, "verify", json_object_new_boolean(o->verify));
    jdoc_set(c, "close", str(o->close_rst ? "rst" : "fin"));
    jdoc_set(c, "idle", u64(o->idle));
    jdoc_set(c, "seed", u64(o->seed));
    jdoc_set(c, "think_s", jdoc_double((double)o->think_us / 1e6, 6));
    jdoc_set(c, "read_rate_bytes_per_s", u64(o->read_rate));
    jdoc_set(c, "label", str(o->label ? o->label : ""));
    json_object *mix = json_object_new_array();
    for (size_t k = 0; o->mix && k < o->nclasses; k++) {
        json_object *m = json_object_new_object();
        jdoc_set(m, "work", u64(o->classes[k].work));
        jdoc_set(m, "bytes", u64(o->classes[k].bytes));
        jdoc_set(m, "weight", u64(o->classes[k].weight));
        json_object_array_add(mix, m);
    }
    jdoc_set(c, "mix", mix);
    jdoc_set(doc, "config", c);
}

/* Everything after the config: totals, errors, latencies, timeline and client CPU. */
void lg_json_body(json_object *doc, const struct lg_result *r, const struct lg_body *b)
{
    double el = b->elapsed_s;
    json_object *hg = json_object_new_object();
    jdoc_set(hg, "significant_digits", json_object_new_int(3));
    jdoc_set(hg, "max_us", u64(HIST_MAX_US));
    jdoc_set(hg, "timeline_significant_digits", json_object_new_int(2));
    jdoc_set(hg, "buckets",
             str("[index, count] of every counter above 0, indexed as HdrHistogram's counts "
                 "array"));
    jdoc_set(doc, "histogram", hg);

    json_object *wc = json_object_new_object();
    jdoc_set(wc, "t0_ns", json_object_new_int64(b->t0_wall_ns));
    jdoc_set(wc, "measure_start_ns", json_object_new_int64(b->measure_wall_ns));
    jdoc_set(wc, "start_at_ns", b->start_at_ns ? json_object_new_int64(b->start_at_ns) : NULL);
    jdoc_set(wc, "started_late_us",
             b->start_at_ns ? json_object_new_int64((b->t0_wall_ns - b->start_at_ns) / 1000)
                            : NULL);
    jdoc_set(doc, "wall_clock", wc);

    json_object *t = json_object_new_object();
    jdoc_set(t, "requests_ok", u64(r->requests_ok));
    jdoc_set(t, "bytes", u64(r->bytes));
    jdoc_set(t, "elapsed_s", jdoc_double(el, 6));
    jdoc_set(t, "rps", jdoc_double(el > 0 ? (double)r->requests_ok / el : 0, 3));
    jdoc_set(t, "bytes_per_s", jdoc_double(el > 0 ? (double)r->bytes / el : 0, 3));
    jdoc_set(t, "connections_opened", u64(r->connections_opened));
    jdoc_set(t, "in_flight_at_end", u64(r->in_flight_at_end));
    jdoc_set(t, "warmup_requests", u64(r->warmup_requests));
    jdoc_set(t, "due_not_sent", u64(r->due_not_sent));
    jdoc_set(t, "idle_greeted", u64(r->idle_greeted));
    jdoc_set(t, "idle_reopened", u64(r->idle_reopened));
    jdoc_set(t, "clients_served", u64(r->clients_served));
    jdoc_set(t, "kept_greeted", u64(r->kept_greeted));
    jdoc_set(t, "ramp_s", jdoc_double(b->ramp_s, 6));
    if (b->rate > 0) {
        jdoc_set(t, "target_rps", jdoc_double(b->rate, 3));
        jdoc_set(t, "achieved_rps", jdoc_double(lg_sent_rate(r, el), 3));
    }
    jdoc_set(doc, "totals", t);

    json_object *errs = json_object_new_object();
    for (int i = 0; i < E_COUNT; i++)
        jdoc_set(errs, lg_err_names[i], u64(r->errors[i]));
    jdoc_set(doc, "errors", errs);
    /* Which phases of latency_us are timed from the due time (open loop): only the total. */
    json_object *cp = json_object_new_array();
    if (b->rate > 0)
        json_object_array_add(cp, str("total"));
    jdoc_set(doc, "corrected_phases", cp);
    json_lat(doc, "latency_us", r->lat);
    if (r->ncls) {
        /* --mix: each class's total time, beside the totals (never corrected for -R). */
        json_object *by = json_object_new_array_ext((int)r->ncls);
        for (size_t c = 0; c < r->ncls; c++) {
            const struct lg_class *k = &b->classes[c];
            json_object *o = json_object_new_object();
            jdoc_set(o, "work", u64(k->work));
            jdoc_set(o, "bytes", u64(k->bytes));
            jdoc_set(o, "weight", u64(k->weight));
            jdoc_set(o, "requests_ok", u64(r->cls[c].ok));
            jdoc_set(o, "errors", u64(r->cls[c].errors));
            jdoc_set(o, "total", lg_json_hist(&r->cls[c].total));
            json_object_array_add(by, o);
        }
        jdoc_set(doc, "latency_us_by_class", by);
    }
    if (b->rate > 0)
        json_lat(doc, "latency_us_uncorrected", r->lat_unc);
    json_object *tl = json_object_new_array_ext((int)r->nseconds);
    for (size_t i = 0; i < r->nseconds; i++) {
        json_object *o = json_object_new_object();
        jdoc_set(o, "t", u64(i));
        jdoc_set(o, "requests", u64(r->seconds[i].requests));
        jdoc_set(o, "errors", u64(r->seconds[i].errors));
        jdoc_set(o, "p99_us", u64(hist_percentile(r->seconds[i].total, 99)));
        lg_json_buckets(o, r->seconds[i].total);
        json_object_array_add(tl, o);
    }
    jdoc_set(doc, "timeline", tl);
    json_object *cl = json_object_new_object();
    jdoc_set(cl, "utime_s", jdoc_double(b->utime_s, 6));
    jdoc_set(cl, "stime_s", jdoc_double(b->stime_s, 6));
    /* nothing measured: no interval to divide by */
    jdoc_set(cl, "cpu_pct", el > 0 ? jdoc_double((b->utime_s + b->stime_s) / el * 100, 2) : NULL);
    jdoc_set(doc, "client", cl);
}

/* The document's head: the schema, the tool (name) and whether a signal stopped the run. */
json_object *lg_json_head(const char *tool, bool interrupted)
{
    json_object *doc = json_object_new_object();
    if (!doc)
        return NULL;
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    json_object *t = json_object_new_object();
    jdoc_set(t, "name", str(tool));
    jdoc_set(t, "version", str(PROJECT_VERSION));
    jdoc_set(t, "git_commit", str(GIT_COMMIT));
    jdoc_set(t, "compiler", str(BUILD_CC));
    jdoc_set(t, "cflags", str(BUILD_CFLAGS));
    jdoc_set(doc, "tool", t);
    jdoc_set(doc, "interrupted", json_object_new_boolean(interrupted));
    return doc;
}

/* doc as one line of compact JSON, written whole to path (- for stdout) by outfile_write;
 * what names the option in messages. The document is released. 0, or -1 with a message. */
int lg_write_json(const char *path, const char *what, json_object *doc)
{
    char *line = doc ? jdoc_file_text(doc, 0) : NULL;
    int rc = -1;
    if (!line) {
        fprintf(stderr, "loadgen: %s %s: out of memory\n", what, path);
    } else {
        char e[512];
        if (outfile_write(path, line, strlen(line), e, sizeof e) < 0)
            fprintf(stderr, "loadgen: %s %s\n", what, e);
        else
            rc = 0;
    }
    free(line);
    json_object_put(doc);
    return rc;
}

/* A document built in memory (by fill), then written whole by outfile_write. */
int lg_write_doc(const char *path, const char *what, void (*fill)(FILE *, const void *),
                 const void *arg)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    if (!f) {
        fprintf(stderr, "loadgen: %s %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    fill(f, arg);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    char e[512];
    int rc = 0;
    if (bad) {
        fprintf(stderr, "loadgen: %s %s: out of memory\n", what, path);
        rc = -1;
    } else if (outfile_write(path, doc, len, e, sizeof e) < 0) {
        fprintf(stderr, "loadgen: %s %s\n", what, e);
        rc = -1;
    }
    free(doc);
    return rc;
}

struct report {
    const struct lg_opts *o;
    const struct lg_result *r;
    const struct lg_run *ri;
};

static json_object *result_doc(const struct report *rp)
{
    const struct lg_opts *o = rp->o;
    const struct lg_result *r = rp->r;
    const struct lg_run *ri = rp->ri;
    json_object *doc = lg_json_head("loadgen", ri->signal != 0);
    if (!doc)
        return NULL;
    json_context(doc, ri);
    json_config(doc, o);
    struct lg_body b = {.elapsed_s = ri->elapsed_s,
                        .utime_s = ri->utime_s,
                        .stime_s = ri->stime_s,
                        .rate = o->rate,
                        .classes = o->classes,
                        .t0_wall_ns = ri->t0_wall_ns,
                        .measure_wall_ns = ri->measure_wall_ns,
                        .start_at_ns = o->start_at_ns,
                        .ramp_s = ri->ramp_s};
    lg_json_body(doc, r, &b);
    if (r->nreqs) {
        json_object *reqs = json_object_new_array_ext((int)r->nreqs);
        for (size_t i = 0; i < r->nreqs; i++) {
            const struct lg_request *q = &r->reqs[i];
            json_object *e = json_object_new_object();
            jdoc_set(e, "conn", u64(q->conn));
            jdoc_set(e, "seq", u64(q->seq));
            jdoc_set(e, "start_us", json_object_new_int64(q->start_us));
            for (int p = 0; p < PH_COUNT; p++)
                if (q->phase_us[p] >= 0) {
                    char key[32];
                    snprintf(key, sizeof key, "%s_us", lg_phase_names[p]);
                    jdoc_set(e, key, json_object_new_int64(q->phase_us[p]));
                }
            jdoc_set(e, "error", q->error >= 0 ? str(lg_err_names[q->error]) : NULL);
            json_object_array_add(reqs, e);
        }
        jdoc_set(doc, "requests", reqs);
    }
    return doc;
}

static void fill_hdr_log(FILE *f, const void *arg)
{
    const struct report *rp = arg;
    char tool[64];
    snprintf(tool, sizeof tool, "loadgen %s: total latency, microseconds", PROJECT_VERSION);
    hdr_log_header(f, tool, rp->ri->measure_wall_ns);
    for (size_t i = 0; i < rp->r->nseconds; i++) {
        double len = rp->ri->elapsed_s - (double)i;
        if (len > 1)
            len = 1;
        if (len <= 0)
            break;
        hdr_log_interval(f, (double)i, len, rp->r->seconds[i].total);
    }
}

static void fill_hgrm(FILE *f, const void *arg)
{
    const struct report *rp = arg;
    hgrm_write(f, &rp->r->lat[PH_TOTAL], "Recorded Latency");
    if (rp->o->rate > 0) {
        fprintf(f, "\n");
        hgrm_write(f, &rp->r->lat_unc[PH_TOTAL],
                   "Uncorrected Latency (measured without taking delayed starts into account)");
    }
}

int lg_write_outputs(const struct lg_opts *o, const struct lg_result *r, const struct lg_run *ri)
{
    struct report rp = {o, r, ri};
    int rc = 0;
    if (o->json_path && lg_write_json(o->json_path, "--json", result_doc(&rp)) < 0)
        rc = -1;
    if (o->hdr_log_path && lg_write_doc(o->hdr_log_path, "--hdr-log", fill_hdr_log, &rp) < 0)
        rc = -1;
    if (o->hgrm_path && lg_write_doc(o->hgrm_path, "--hgrm", fill_hgrm, &rp) < 0)
        rc = -1;
    return rc;
}
