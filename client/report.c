/* report: the run's summary on the terminal, as wrk prints it (latency per phase, totals,
 * errors, rates, the client's CPU), and the book's per-request table. */
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

static void fmt_us(char *buf, size_t n, double us)
{
    if (us < 1000)
        snprintf(buf, n, "%.0fus", us);
    else if (us < 1e6)
        snprintf(buf, n, "%.2fms", us / 1e3);
    else
        snprintf(buf, n, "%.2fs", us / 1e6);
}

static void fmt_bytes(char *buf, size_t n, double b)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) {
        b /= 1000;
        i++;
    }
    snprintf(buf, n, "%.2f%s", b, u[i]);
}

void lg_print_summary(const struct lg_opts *o, const struct lg_result *r, const struct lg_run *ri)
{
    FILE *out = ri->out;
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    static const double ps[] = {50, 90, 99, 99.9};
    fprintf(out, "  %ld threads and %ld connections, WORK %llu BYTES %llu, %s, %s\n", o->threads,
            o->conns, (unsigned long long)o->work, (unsigned long long)o->bytes,
            o->per_conn == 1   ? "a new connection per request"
            : o->per_conn == 0 ? "connections kept for the whole run"
                               : "connections reused",
            o->rate > 0 ? "open loop" : "closed loop");
    if (r->lat[PH_TOTAL].total == 0)
        fprintf(out, "  no request completed\n");
    else
        fprintf(out, "  %-10s %9s %9s %9s %9s %9s %9s %9s\n", "Latency", "p50", "p90", "p99",
                "p99.9", "max", "mean", "stdev");
    for (int p = 0; p < PH_COUNT; p++) {
        const struct hist *h = &r->lat[p];
        if (h->total == 0)
            continue;
        fmt_us(a, sizeof a, (double)hist_percentile(h, ps[0]));
        fmt_us(b, sizeof b, (double)hist_percentile(h, ps[1]));
        fmt_us(c, sizeof c, (double)hist_percentile(h, ps[2]));
        fmt_us(d, sizeof d, (double)hist_percentile(h, ps[3]));
        fmt_us(e, sizeof e, (double)h->max);
        fmt_us(f, sizeof f, hist_mean(h));
        fmt_us(g, sizeof g, hist_stddev(h));
        fprintf(out, "  %-10s %9s %9s %9s %9s %9s %9s %9s\n", lg_phase_names[p], a, b, c, d, e, f,
                g);
    }
    if (o->rate > 0)
        fprintf(out,
                "  (open loop: total is timed from each request's due time%s; the other "
                "phases are not)\n",
                r->due_not_sent ? " and holds the requests due but not sent" : "");
    for (size_t k = 0; k < r->ncls; k++) {
        const struct lg_class *cl = &o->classes[k];
        const struct hist *h = &r->cls[k].total;
        fmt_us(a, sizeof a, (double)hist_percentile(h, 50));
        fmt_us(b, sizeof b, (double)hist_percentile(h, 99));
        fmt_us(d, sizeof d, (double)hist_percentile(h, 99.9));
        fprintf(out,
                "  class WORK %llu BYTES %llu (weight %llu): %llu ok, %llu errors, total p50 "
                "%s p99 %s p99.9 %s\n",
                (unsigned long long)cl->work, (unsigned long long)cl->bytes,
                (unsigned long long)cl->weight, (unsigned long long)r->cls[k].ok,
                (unsigned long long)r->cls[k].errors, h->total ? a : "-", h->total ? b : "-",
                h->total ? d : "-");
    }
    fmt_bytes(a, sizeof a, (double)r->bytes);
    fprintf(out, "  %llu requests in %.2fs, %s read, %llu connections\n",
            (unsigned long long)r->requests_ok, ri->elapsed_s, a,
            (unsigned long long)r->connections_opened);
    if (o->requests == 0 && r->clients_served < (uint64_t)o->conns && !ri->signal)
        fprintf(out, "  %llu of %ld clients served at least once: the others never were\n",
                (unsigned long long)r->clients_served, o->conns);
    if (o->per_conn != 1 && o->conns > 0)
        fprintf(out,
                "  %llu of %ld kept connections opened and greeted before the start, in "
                "%.2fs\n",
                (unsigned long long)r->kept_greeted, o->conns, ri->ramp_s);
    if (o->idle)
        fprintf(out,
                "  %llu idle connections held (%llu greeted before the start), %llu reopened\n",
                (unsigned long long)o->idle, (unsigned long long)r->idle_greeted,
                (unsigned long long)r->idle_reopened);
    if (lg_error_total(r)) {
        fprintf(out, "  Errors:");
        for (int i = 0; i < E_COUNT; i++)
            if (r->errors[i])
                fprintf(out, " %s %llu", lg_err_names[i], (unsigned long long)r->errors[i]);
        fprintf(out, "\n  First error: %s\n", r->first_error);
    }
    if (r->in_flight_at_end)
        fprintf(out, "  In flight at the end: %llu\n", (unsigned long long)r->in_flight_at_end);
    double el = ri->elapsed_s;
    if (el > 0) {
        fmt_bytes(b, sizeof b, (double)r->bytes / el);
        fprintf(out, "Requests/sec: %10.2f\n", (double)r->requests_ok / el);
        fprintf(out, "Bytes/sec:    %10s\n", b);
    } else {
        fprintf(out, "Requests/sec: n/a (nothing measured)\n");
    }
    if (o->rate > 0) {
        fprintf(out, "Target rate:  %10.2f/s, achieved %.2f/s\n", o->rate, lg_sent_rate(r, el));
        if (r->due_not_sent)
            fprintf(out,
                    "  %llu requests were due but never sent: the server could not keep up "
                    "with -R %.0f (they count in the total's tail from their due time)\n",
                    (unsigned long long)r->due_not_sent, o->rate);
    }
    if (el > 0) {
        double cpu = (ri->utime_s + ri->stime_s) / el * 100;
        fprintf(out, "Client CPU:   %9.1f%% (user %.2fs, sys %.2fs)\n", cpu, ri->utime_s,
                ri->stime_s);
        if (el >= 1.0 && cpu > 90.0 * (double)o->threads)
            fprintf(stderr,
                    "loadgen: warning: the client used %.0f%% CPU over %ld thread(s): it may be "
                    "the bottleneck, not the server\n",
                    cpu, o->threads);
    }
    if (ri->signal)
        fprintf(out, "Interrupted by SIG%s: these figures cover the run until then.\n",
                sigabbrev_np(ri->signal));
    if (r->requests_ok == 0 && r->warmup_requests == 0 && !ri->signal) {
        if (r->errors[E_CONNECT_REFUSED] && r->errors[E_CONNECT_REFUSED] == lg_error_total(r))
            fprintf(stderr,
                    "loadgen: nothing answered: every connection to %s was refused (is a "
                    "server listening there?)\n",
                    o->addr_str);
        else
            fprintf(stderr, "loadgen: nothing answered: no request to %s completed%s%s\n",
                    o->addr_str, lg_error_total(r) ? "; first error: " : "", r->first_error);
    }
}

void lg_print_book(const struct lg_opts *o, const struct lg_result *r, FILE *out)
{
    /* As the book's client: each request's wait for the greeting, per client. */
    fprintf(out, "client request   greeting_ms   total_ms\n");
    for (long cl = 0; cl < o->conns; cl++)
        for (size_t i = 0; i < r->nreqs; i++) {
            const struct lg_request *q = &r->reqs[i];
            if ((long)q->conn != cl)
                continue;
            if (q->error >= 0)
                fprintf(out, "%6ld %7u   %s\n", cl + 1, q->seq + 1, lg_err_names[q->error]);
            else
                fprintf(out, "%6ld %7u %13.3f %10.3f\n", cl + 1, q->seq + 1,
                        (double)q->phase_us[PH_GREETING] / 1e3,
                        (double)q->phase_us[PH_TOTAL] / 1e3);
        }
}
