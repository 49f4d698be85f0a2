/* output: the run's result documents, each written whole or not at all: the JSON result
 * (context, config, totals, latencies, timeline), HdrHistogram's interval log and wrk2's
 * percentile text. The body of the JSON is shared with loadgen merge. */
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
#include "json.h"
#include "loadgen.h"
#include "outfile.h"

static void iso_time(char *buf, size_t n, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- JSON ---- */

void lg_json_hist(FILE *f, const struct hist *h)
{
    static const double ps[] = {50, 75, 90, 99, 99.9, 99.99};
    static const char *const names[] = {"p50", "p75", "p90", "p99", "p999", "p9999"};
    fprintf(f, "{\"count\":%llu,\"min\":%llu,\"mean\":%.3f,\"stddev\":%.3f",
            (unsigned long long)h->total, (unsigned long long)(h->total ? h->min : 0), hist_mean(h),
            hist_stddev(h));
    for (int i = 0; i < 6; i++)
        fprintf(f, ",\"%s\":%llu", names[i], (unsigned long long)hist_percentile(h, ps[i]));
    fprintf(f, ",\"max\":%llu,\"spectrum\":[", (unsigned long long)h->max);
    double pct[256];
    uint64_t val[256];
    size_t n = hist_spectrum(h, 5, pct, val, 256);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s[%.6f,%llu]", i ? "," : "", pct[i], (unsigned long long)val[i]);
    fprintf(f, "]");
    lg_json_buckets(f, h);
    fprintf(f, "}");
}

/* What merging needs beside the counters: the exact sums, and the values clamped. */
void lg_json_buckets(FILE *f, const struct hist *h)
{
    fprintf(f, ",\"sum\":%.17g,\"sum_sq\":%.17g,\"clamped\":%llu,\"buckets\":[", h->sum, h->sum_sq,
            (unsigned long long)h->clamped);
    bool first = true;
    for (size_t i = 0; i < h->len; i++)
        if (h->counts[i]) {
            fprintf(f, "%s[%zu,%llu]", first ? "" : ",", i, (unsigned long long)h->counts[i]);
            first = false;
        }
    fprintf(f, "]");
}

static void json_lat(FILE *f, const char *key, const struct hist *lat)
{
    fprintf(f, ",\"%s\":{", key);
    for (int p = 0; p < PH_COUNT; p++) {
        fprintf(f, "%s\"%s\":", p ? "," : "", lg_phase_names[p]);
        lg_json_hist(f, &lat[p]);
    }
    fprintf(f, "}");
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

static void json_context(FILE *f, const struct lg_run *ri)
{
    struct utsname u;
    uname(&u);
    char cpu[256], la[128], smc[32], t1[32], t2[32];
    cpu_model(cpu, sizeof cpu);
    read_first_line("/proc/loadavg", la, sizeof la);
    read_first_line("/proc/sys/net/core/somaxconn", smc, sizeof smc);
    double l1 = 0, l5 = 0, l15 = 0;
    sscanf(la, "%lf %lf %lf", &l1, &l5, &l15);
    iso_time(t1, sizeof t1, ri->started);
    iso_time(t2, sizeof t2, ri->completed);
    fprintf(f, ",\"context\":{\"host_name\":");
    json_write_string(f, u.nodename);
    fprintf(f, ",\"kernel\":");
    json_write_string(f, u.release);
    fprintf(f, ",\"cpu_model\":");
    json_write_string(f, cpu);
    fprintf(f,
            ",\"num_cpus\":%ld,\"load_avg\":[%.2f,%.2f,%.2f],\"somaxconn\":%ld,"
            "\"started_at\":\"%s\",\"completed_at\":\"%s\"}",
            sysconf(_SC_NPROCESSORS_ONLN), l1, l5, l15, atol(smc), t1, t2);
}

static void json_config(FILE *f, const struct lg_opts *o)
{
    fprintf(f, ",\"config\":{\"argv\":[");
    for (int i = 0; i < o->argc; i++) {
        if (i)
            fputc(',', f);
        json_write_string(f, o->argv[i]);
    }
    fprintf(f, "],\"book_form\":%s,\"address\":", o->book ? "true" : "false");
    json_write_string(f, o->addr_str);
    fprintf(f, ",\"host\":");
    json_write_string(f, o->unix_path ? "" : o->host);
    fprintf(f, ",\"port\":%d,\"unix_path\":", o->unix_path ? 0 : atoi(o->port));
    json_write_string(f, o->unix_path ? o->unix_path : "");
    fprintf(f,
            ",\"connections\":%ld,\"threads\":%ld,\"requests\":%llu,\"duration_s\":%.6f,"
            "\"warmup_s\":%.6f,\"work\":%llu,\"bytes\":%llu,\"reqs_per_conn\":%llu,"
            "\"rate_rps\":%.3f,\"mode\":\"%s\",\"timeout_s\":%.6f,\"verify\":%s,"
            "\"close\":\"%s\",\"idle\":%llu,\"seed\":%llu,\"think_s\":%.6f,"
            "\"read_rate_bytes_per_s\":%llu,\"label\":",
            o->conns, o->threads, (unsigned long long)o->requests, (double)o->duration_us / 1e6,
            (double)o->warmup_us / 1e6, (unsigned long long)o->work, (unsigned long long)o->bytes,
            (unsigned long long)o->per_conn, o->rate, o->rate > 0 ? "open" : "closed",
            (double)o->timeout_us / 1e6, o->verify ? "true" : "false", o->close_rst ? "rst" : "fin",
            (unsigned long long)o->idle, (unsigned long long)o->seed, (double)o->think_us / 1e6,
            (unsigned long long)o->read_rate);
    json_write_string(f, o->label ? o->label : "");
    fprintf(f, ",\"mix\":[");
    for (size_t k = 0; o->mix && k < o->nclasses; k++)
        fprintf(f, "%s{\"work\":%llu,\"bytes\":%llu,\"weight\":%llu}", k ? "," : "",
                (unsigned long long)o->classes[k].work, (unsigned long long)o->classes[k].bytes,
                (unsigned long long)o->classes[k].weight);
    fprintf(f, "]}");
}

/* Everything after the config: totals, errors, latencies, timeline and client CPU. */
void lg_json_body(FILE *f, const struct lg_result *r, const struct lg_body *b)
{
    double el = b->elapsed_s;
    fprintf(f,
            ",\"histogram\":{\"significant_digits\":3,\"max_us\":%llu,"
            "\"timeline_significant_digits\":2,\"buckets\":\"[index, count] of every counter "
            "above 0, indexed as HdrHistogram's counts array\"}",
            (unsigned long long)HIST_MAX_US);
    fprintf(f, ",\"wall_clock\":{\"t0_ns\":%lld,\"measure_start_ns\":%lld,\"start_at_ns\":",
            (long long)b->t0_wall_ns, (long long)b->measure_wall_ns);
    if (b->start_at_ns)
        fprintf(f, "%lld,\"started_late_us\":%lld}", (long long)b->start_at_ns,
                (long long)((b->t0_wall_ns - b->start_at_ns) / 1000));
    else
        fprintf(f, "null,\"started_late_us\":null}");
    fprintf(f,
            ",\"totals\":{\"requests_ok\":%llu,\"bytes\":%llu,\"elapsed_s\":%.6f,\"rps\":%.3f,"
            "\"bytes_per_s\":%.3f,\"connections_opened\":%llu,\"in_flight_at_end\":%llu,"
            "\"warmup_requests\":%llu,\"due_not_sent\":%llu,\"idle_greeted\":%llu,"
            "\"idle_reopened\":%llu,\"clients_served\":%llu,\"kept_greeted\":%llu,"
            "\"ramp_s\":%.6f",
            (unsigned long long)r->requests_ok, (unsigned long long)r->bytes, el,
            el > 0 ? (double)r->requests_ok / el : 0, el > 0 ? (double)r->bytes / el : 0,
            (unsigned long long)r->connections_opened, (unsigned long long)r->in_flight_at_end,
            (unsigned long long)r->warmup_requests, (unsigned long long)r->due_not_sent,
            (unsigned long long)r->idle_greeted, (unsigned long long)r->idle_reopened,
            (unsigned long long)r->clients_served, (unsigned long long)r->kept_greeted, b->ramp_s);
    if (b->rate > 0)
        fprintf(f, ",\"target_rps\":%.3f,\"achieved_rps\":%.3f", b->rate, lg_sent_rate(r, el));
    fprintf(f, "}");
    fprintf(f, ",\"errors\":{");
    for (int i = 0; i < E_COUNT; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", lg_err_names[i],
                (unsigned long long)r->errors[i]);
    fprintf(f, "}");
    /* Which phases of latency_us are timed from the due time (open loop): only the total. */
    fprintf(f, ",\"corrected_phases\":[%s]", b->rate > 0 ? "\"total\"" : "");
    json_lat(f, "latency_us", r->lat);
    if (r->ncls) {
        /* --mix: each class's total time, beside the totals (never corrected for -R). */
        fprintf(f, ",\"latency_us_by_class\":[");
        for (size_t c = 0; c < r->ncls; c++) {
            const struct lg_class *k = &b->classes[c];
            fprintf(f,
                    "%s{\"work\":%llu,\"bytes\":%llu,\"weight\":%llu,\"requests_ok\":%llu,"
                    "\"errors\":%llu,\"total\":",
                    c ? "," : "", (unsigned long long)k->work, (unsigned long long)k->bytes,
                    (unsigned long long)k->weight, (unsigned long long)r->cls[c].ok,
                    (unsigned long long)r->cls[c].errors);
            lg_json_hist(f, &r->cls[c].total);
            fprintf(f, "}");
        }
        fprintf(f, "]");
    }
    if (b->rate > 0)
        json_lat(f, "latency_us_uncorrected", r->lat_unc);
    fprintf(f, ",\"timeline\":[");
    for (size_t i = 0; i < r->nseconds; i++) {
        fprintf(f, "%s{\"t\":%zu,\"requests\":%llu,\"errors\":%llu,\"p99_us\":%llu", i ? "," : "",
                i, (unsigned long long)r->seconds[i].requests,
                (unsigned long long)r->seconds[i].errors,
                (unsigned long long)hist_percentile(r->seconds[i].total, 99));
        lg_json_buckets(f, r->seconds[i].total);
        fprintf(f, "}");
    }
    fprintf(f, "]");
    fprintf(f, ",\"client\":{\"utime_s\":%.6f,\"stime_s\":%.6f,\"cpu_pct\":", b->utime_s,
            b->stime_s);
    if (el > 0)
        fprintf(f, "%.2f}", (b->utime_s + b->stime_s) / el * 100);
    else
        fprintf(f, "null}"); /* nothing measured: no interval to divide by */
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

static void fill_json(FILE *f, const void *arg)
{
    const struct report *rp = arg;
    const struct lg_opts *o = rp->o;
    const struct lg_result *r = rp->r;
    const struct lg_run *ri = rp->ri;
    fprintf(f,
            "{\"schema_version\":1,\"tool\":{\"name\":\"loadgen\",\"version\":\"%s\","
            "\"git_commit\":\"%s\",\"compiler\":\"%s\",\"cflags\":\"%s\"},\"interrupted\":%s",
            PROJECT_VERSION, GIT_COMMIT, BUILD_CC, BUILD_CFLAGS, ri->signal ? "true" : "false");
    json_context(f, ri);
    json_config(f, o);
    struct lg_body b = {.elapsed_s = ri->elapsed_s,
                        .utime_s = ri->utime_s,
                        .stime_s = ri->stime_s,
                        .rate = o->rate,
                        .classes = o->classes,
                        .t0_wall_ns = ri->t0_wall_ns,
                        .measure_wall_ns = ri->measure_wall_ns,
                        .start_at_ns = o->start_at_ns,
                        .ramp_s = ri->ramp_s};
    lg_json_body(f, r, &b);
    if (r->nreqs) {
        fprintf(f, ",\"requests\":[");
        for (size_t i = 0; i < r->nreqs; i++) {
            const struct lg_request *q = &r->reqs[i];
            fprintf(f, "%s{\"conn\":%u,\"seq\":%u,\"start_us\":%lld", i ? "," : "", q->conn, q->seq,
                    (long long)q->start_us);
            for (int p = 0; p < PH_COUNT; p++)
                if (q->phase_us[p] >= 0)
                    fprintf(f, ",\"%s_us\":%lld", lg_phase_names[p], (long long)q->phase_us[p]);
            fprintf(f, ",\"error\":");
            if (q->error >= 0)
                json_write_string(f, lg_err_names[q->error]);
            else
                fprintf(f, "null");
            fprintf(f, "}");
        }
        fprintf(f, "]");
    }
    fprintf(f, "}\n");
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
    if (o->json_path && lg_write_doc(o->json_path, "--json", fill_json, &rp) < 0)
        rc = -1;
    if (o->hdr_log_path && lg_write_doc(o->hdr_log_path, "--hdr-log", fill_hdr_log, &rp) < 0)
        rc = -1;
    if (o->hgrm_path && lg_write_doc(o->hgrm_path, "--hgrm", fill_hgrm, &rp) < 0)
        rc = -1;
    return rc;
}
