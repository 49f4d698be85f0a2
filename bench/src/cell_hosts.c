/* cell_hosts: a cell's loadgen on several client hosts at once (pdsh), their clocks compared,
 * their results merged (loadgen merge) (cell.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bstats.h"
#include "diag.h"
#include "orch.h"
#include "peer.h"
#include "snap.h"
#include "proc.h"
#include "cell.h"

/* ---- several hosts: loadgen on each, merged ---- */

struct clock_read {
    long long first_now, offset;
    bool any, have;
};

static void on_clock_line(const char *line, long long now, void *arg)
{
    struct clock_read *c = arg;
    if (!*line || strspn(line, "0123456789") != strlen(line))
        return;
    if (!c->any) {
        c->first_now = now;
        c->any = true;
    }
    long long d = atoll(line) - now;
    if (!c->have || d > c->offset) /* the largest difference: low by one line's transit */
        c->offset = d;
    c->have = true;
}

/* Runs loadgen on every client host with its share, merges into log.lg.json; hosts JSON into
 * *hosts_json (a JSON array) or the error into err. */
bool cell_run_clients(struct run *r, const char *id, const char *log, long conc, const char *rate,
                      long idle, const char **lg, size_t nlg, json_object **hosts_json, char *err,
                      size_t errlen)
{
    char list[1024];
    bufprintf(list, sizeof list, "%s", val(r, "CLIENT_HOSTS"));
    const char *hosts[64];
    size_t n = 0;
    for (char *save = NULL, *h = strtok_r(list, ",", &save); h && n < 64;
         h = strtok_r(NULL, ",", &save))
        hosts[n++] = intern(h);
    long long off[64], rtt[64], maxrtt = 0;
    for (size_t i = 0; i < n; i++) {
        const char *cmd[] = {"sh", "-c", "for i in 1 2 3 4 5; do date +%s%N; sleep 0.02; done",
                             NULL},
                   *ra[64];
        remote_argv(r, hosts[i], cmd, ra, 64);
        struct clock_read c = {0};
        long long t0 = now_ns(CLOCK_REALTIME);
        proc_lines(ra, 60000, on_clock_line, &c);
        if (!c.have) {
            bufprintf(err, errlen, "%s: cannot run a command there (pdsh -R %s)", hosts[i],
                      !strcmp(val(r, "RCMD"), "netns") ? "exec" : "ssh");
            return false;
        }
        off[i] = c.offset;
        rtt[i] = c.first_now - t0;
        if (rtt[i] > maxrtt)
            maxrtt = rtt[i];
    }
    /* time enough for every host to start loadgen and connect its --idle clients */
    long long start = now_ns(CLOCK_REALTIME) + 500000000LL + 3 * maxrtt;
    pid_t pids[64];
    long shares[64];
    size_t used[64], nu = 0;
    long cum = 0, requests = atol(val(r, "REQUESTS"));
    for (size_t i = 0; i < n; i++) {
        long share = conc / (long)n + ((long)i < conc % (long)n ? 1 : 0);
        if (share <= 0)
            continue;
        long prev = cum;
        cum += share;
        const char *argv[96];
        size_t k = 0;
        argv[k++] = internf("%s/loadgen", r->bin);
        for (size_t j = 0; j < nlg; j++)
            argv[k++] = lg[j];
        argv[k++] = "-c";
        argv[k++] = internf("%ld", share);
        argv[k++] = "--start-at";
        argv[k++] = internf("%lld", start);
        argv[k++] = "--json";
        argv[k++] = "-";
        argv[k++] = "--label";
        argv[k++] = internf("%s@%s", id, hosts[i]);
        if (requests) {
            argv[k++] = "-n";
            argv[k++] = internf("%ld", requests * cum / conc - requests * prev / conc);
        }
        if (rate && *rate) {
            argv[k++] = "-R";
            argv[k++] = internf("%.3f", strtod(rate, NULL) * (double)share / (double)conc);
        }
        if (idle) {
            argv[k++] = "--idle";
            argv[k++] = internf("%ld", idle * cum / conc - idle * prev / conc);
        }
        argv[k] = NULL;
        const char *ra[128];
        remote_argv(r, hosts[i], argv, ra, 128);
        struct spawn s = {.argv = ra,
                          .out = internf("%s.lg.%s.json", log, hosts[i]),
                          .err = internf("%s.lg.%s.out", log, hosts[i])};
        char e[256];
        pids[nu] = proc_start(&s, e, sizeof e);
        shares[nu] = share;
        used[nu++] = i;
    }
    err[0] = 0;
    for (size_t u = 0; u < nu; u++) {
        int st = 0;
        int w = pids[u] > 0 ? proc_wait(pids[u], 300000, &st) : -1;
        if (w == 1 || w == 2)
            proc_stop(pids[u], 5000, &st);
        if (w != 0 || !cell_lg_measured(st)) {
            if (!err[0]) {
                char last[512];
                last_line(internf("%s.lg.%s.out", log, hosts[used[u]]), last, sizeof last);
                bufprintf(err, errlen, "loadgen on %s failed: %s", hosts[used[u]], last);
            }
        }
    }
    if (err[0] || proc_interrupted)
        return false;
    const char *merge[80];
    size_t k = 0;
    merge[k++] = internf("%s/loadgen", r->bin);
    merge[k++] = "merge";
    for (size_t u = 0; u < nu; u++)
        merge[k++] = internf("%s.lg.%s.json", log, hosts[used[u]]);
    merge[k++] = "--json";
    merge[k++] = internf("%s.lg.json", log);
    merge[k] = NULL;
    struct spawn s = {.argv = merge, .out = internf("%s.lg.out", log), .err_to_out = true};
    char e[256];
    pid_t pid = proc_start(&s, e, sizeof e);
    int st = 0;
    if (pid < 0 || proc_wait(pid, 60000, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        bufprintf(err, errlen, "loadgen merge failed");
        return false;
    }
    json_object *all = json_object_new_array();
    for (size_t u = 0; u < nu; u++) {
        json_object *j = NULL;
        if (!read_json(internf("%s.lg.%s.json", log, hosts[used[u]]), &j)) {
            json_object_put(all);
            bufprintf(err, errlen, "cannot read the client hosts' results");
            return false;
        }
        size_t i = used[u];
        json_object *h = json_object_new_object();
        jdoc_set(h, "host", json_object_new_string(hosts[i]));
        jdoc_set(h, "kernel", json_object_get(jdoc_path(j, "context.kernel")));
        jdoc_set(h, "num_cpus", json_object_get(jdoc_path(j, "context.num_cpus")));
        jdoc_set(h, "clock_offset_ms", jdoc_number(round((double)off[i] / 1e6 * 1000) / 1000));
        jdoc_set(h, "clock_rtt_ms", jdoc_number(round((double)rtt[i] / 1e6 * 1000) / 1000));
        jdoc_set(h, "connections", json_object_new_int64(shares[u]));
        jdoc_set(h, "rate_rps", json_object_get(jdoc_path(j, "config.rate_rps")));
        jdoc_set(h, "loadgen", j); /* the host's result, whole: h owns it now */
        json_object_array_add(all, h);
    }
    *hosts_json = all;
    return true;
}
