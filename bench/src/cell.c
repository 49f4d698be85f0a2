/* cell: one cell of a suite, and where it runs. The server starts on an ephemeral port (its
 * ready line gives the port and pid), loadgen runs against it (on this machine, in a network
 * namespace with --netem, or on client hosts through pdsh), the server stops with SIGTERM and
 * its stats line is kept, with the kernel's listen counters before and after and what else the
 * machine did meanwhile. The cell's file is written whole: ok, failed with its error, or
 * skipped with why. */
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

/* ---- one cell ---- */

/* --rate-pct: the median throughput of the calibration cells of a cell's configuration, over
 * the repetitions that ran; 0 when none ran well. */
static double capacity(struct run *r, const struct cell *c)
{
    double v[64];
    size_t n = 0;
    for (size_t i = 0; i < r->ncells && n < 64; i++) {
        const struct cell *o = &r->cells[i];
        if (strcmp(cv(o, "RATE_PCT"), "-"))
            continue;
        struct cell x = *c;
        x.v[dim_index("RATE_PCT")] = "-";
        char a[512], b[512];
        if (strcmp(cell_id(&x, false, a, sizeof a), cell_id(o, false, b, sizeof b)))
            continue;
        char id[512];
        json_object *j = NULL;
        if (!read_json(internf("%s/cells/%s.json", r->dir, cell_id(o, true, id, sizeof id)), &j))
            continue;
        json_object *st = jdoc_get(j, "status"), *rps = jdoc_path(j, "loadgen.totals.rps");
        if (jdoc_str(st) && !strcmp(jdoc_str(st), "ok") && jdoc_is_num(rps))
            v[n++] = jdoc_num(rps, 0);
        json_object_put(j);
    }
    return n ? bs_median(v, n) : 0;
}

/* Whether v is one of the '|'-separated words of list (NULL: none). */
static bool one_of(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && !strncmp(p, v, n))
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

/* The options the table of dimensions says the cell's values become for the server (or for
 * loadgen), appended to out from k; the new count. --mix replaces -w and -b, -n replaces
 * -d; who accepts and a dynamic pool become options of their own (args_by_hand). */
static size_t table_args(const struct run *r, const struct cell *c, bool server, const char **out,
                         size_t k)
{
    bool mix = *val(r, "MIX"), counted = *val(r, "REQUESTS");
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        const char *opt = server ? d->srv : d->lg;
        if (!opt)
            continue;
        const char *v = d->kind == DIM_LIST ? cv(c, d->field) : val(r, d->field);
        bool dur = d->metavar && strstr(d->metavar, "DUR");
        if (!v || !*v || !strcmp(v, "-") || one_of(d->plain, v) || (dur && is_zero_duration(v)))
            continue;
        if ((mix && (!strcmp(d->field, "WORK") || !strcmp(d->field, "BYTES"))) ||
            (counted && !strcmp(d->field, "DURATION")))
            continue;
        out[k++] = opt;
        out[k++] = v;
    }
    return k;
}

/* The server's options that are not one value each: who accepts (--balance for reuseport-srv's
 * exclusive, --accept for the others but the default), and a dynamic pool's three sizes. */
static size_t args_by_hand(const struct cell *c, const char **out, size_t k)
{
    const char *acc = cv(c, "ACCEPTS");
    if (!strcmp(acc, "exclusive")) {
        out[k++] = "--balance";
        out[k++] = "exclusive";
    } else if (strcmp(acc, "self") && strcmp(acc, "reuseport")) {
        out[k++] = "--accept";
        out[k++] = acc;
    }
    unsigned s1, s2, s3;
    if (sscanf(cv(c, "SPARE"), "%u:%u:%u", &s1, &s2, &s3) == 3) {
        out[k++] = "--min-spare";
        out[k++] = internf("%u", s1);
        out[k++] = "--max-spare";
        out[k++] = internf("%u", s2);
        out[k++] = "--max-workers";
        out[k++] = internf("%u", s3);
    }
    return k;
}

/* The server's first line (its ready line), parsed; false until there is one. */
static bool ready_line(const char *path, json_object **j)
{
    char *t = slurp(path, NULL);
    if (!t)
        return false;
    char *nl = strchr(t, '\n');
    bool ok = false;
    if (nl) {
        char err[64];
        ok = jdoc_parse(t, (size_t)(nl - t), j, err, sizeof err) == 0;
    }
    free(t);
    return ok;
}

/* The final stats line of the server's stdout, or NULL. */
static char *stats_line(const char *path)
{
    char *t = slurp(path, NULL), *found = NULL;
    if (!t)
        return NULL;
    for (char *save = NULL, *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (strstr(l, "\"event\":\"stats\",\"final\":true"))
            found = l;
    char *out = found ? strdup(found) : NULL;
    free(t);
    return out;
}

/* Object o (taken: the result owns it) with "cpus" set last: the CPUs it was placed on, or
 * null. Anything but an object is kept as it is. */
static json_object *with_cpus(json_object *o, const char *cpus)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_del(o, "cpus");
        jdoc_set(o, "cpus", cpus ? json_object_new_string(cpus) : NULL);
    }
    return o;
}

static int cell_reruns;
static const char *cell_why[16];

/* ---- the server ---- */

/* Nothing of an earlier attempt at the cell whose logs begin with log is read as this one's:
 * its loadgen's files, and its server's too unless this attempt's server already runs. */
static void forget_attempt(const char *log, bool server)
{
    static const char *const ends[] = {".lg.json", ".lg.out", ".srv.out", ".srv.err"};
    for (size_t i = 0; i < (server ? 4u : 2u); i++)
        unlink(internf("%s%s", log, ends[i]));
}

/* Cell c's server's argv (its name, then its options from the cell's values) into out (64
 * entries, NULL-terminated); the count. */
static size_t server_args(const struct run *r, const struct cell *c, const char **out)
{
    size_t n = 0;
    out[n++] = internf("%s-srv", cell_model(c));
    out[n++] = "-H";
    out[n++] = r->srv_host;
    out[n++] = "-p";
    out[n++] = "0";
    n = table_args(r, c, true, out, n);
    n = args_by_hand(c, out, n);
    out[n] = NULL;
    return n;
}

/* Starts cell c's server (argv from server_args, its output into log.srv.out and log.srv.err)
 * and waits for its ready line: the port it listens on into port ("" when it did not come up)
 * and its pid where it runs into rpid, when it was started into t_ns. The pid of the process
 * started, -1 when it is gone. */
static pid_t server_up(const struct run *r, const struct cell *c, const char *const *argv, size_t n,
                       const char *log, char *port, size_t nport, char *rpid, size_t nrpid,
                       long long *t_ns)
{
    const char *full[64], *where[96];
    full[0] = internf("%s/%s", r->bin, argv[0]);
    for (size_t i = 1; i <= n; i++)
        full[i] = argv[i];
    cell_at_server(r, full, where, 96);
    unsigned char cpus[128];
    bool pin = cpu_list(cv(c, "SERVER_CPUS"), cpus) && strcmp(cv(c, "SERVER_CPUS"), "-");
    const char *out = internf("%s.srv.out", log);
    struct spawn sp = {.argv = where,
                       .out = out,
                       .err = internf("%s.srv.err", log),
                       .cpus = pin ? cpus : NULL,
                       .group = true};
    char e[256];
    *t_ns = now_ns(CLOCK_REALTIME);
    pid_t pid = proc_start(&sp, e, sizeof e);
    json_object *ready = NULL;
    bool up = false;
    for (int i = 0; i < 200 && pid > 0; i++) {
        if ((up = ready_line(out, &ready)))
            break;
        int st;
        if (proc_wait(pid, 50, &st) == 0) {
            pid = -1;
            up = ready_line(out, &ready);
            break;
        }
        if (proc_interrupted)
            break;
    }
    port[0] = rpid[0] = 0;
    if (up) {
        json_object *p = jdoc_get(ready, "port"), *id = jdoc_get(ready, "pid");
        if (jdoc_is_num(p))
            bufprintf(port, nport, "%s", json_object_get_string(p));
        if (jdoc_is_num(id))
            bufprintf(rpid, nrpid, "%s", json_object_get_string(id));
        json_object_put(ready);
    }
    return pid;
}

/* ---- a block's servers, started together ---- */

/* Whether cell c's server may start before its cell: one of this machine (or of its
 * namespace) for a measurement of its own, not a peer's and not an open-loop rate that
 * calibration cells decide. */
static bool may_warm(const struct run *r, const struct cell *c)
{
    return !r->netem_reason[0] && !*val(r, "SERVER_HOST") && !strcmp(cv(c, "RATE_PCT"), "-") &&
           !is_peer_model(cell_model(c));
}

void cell_block_up(struct run *r, const struct cell *c, size_t n)
{
    cell_block_down(r);
    for (size_t i = 0; i < n && r->nwarm < WARM_MAX && !proc_interrupted; i++) {
        char id[512], log[PATH_MAX];
        cell_id(&c[i], true, id, sizeof id);
        if (!may_warm(r, &c[i]) || access(internf("%s/cells/%s.json", r->dir, id), F_OK) == 0)
            continue;
        bufprintf(log, sizeof log, "%s/logs/%s", r->dir, id);
        forget_attempt(log, true);
        const char *argv[64];
        size_t k = server_args(r, &c[i], argv);
        struct warm_srv *w = &r->warm[r->nwarm];
        w->pid = server_up(r, &c[i], argv, k, log, w->port, sizeof w->port, w->rpid, sizeof w->rpid,
                           &w->t_ns);
        if (!w->port[0]) {
            /* its cell starts it again, and records why it does not start */
            if (w->pid > 0)
                proc_stop(w->pid, 2000, NULL);
            forget_attempt(log, true);
            continue;
        }
        bufprintf(w->id, sizeof w->id, "%s", id);
        r->nwarm++;
    }
}

void cell_block_down(struct run *r)
{
    for (size_t i = 0; i < r->nwarm; i++)
        if (r->warm[i].pid > 0)
            proc_stop(r->warm[i].pid, 2000, NULL);
    r->nwarm = 0;
}

/* The server started for the cell with this id, taken out of the waiting ones into *w. */
static bool take_warm(struct run *r, const char *id, struct warm_srv *w)
{
    for (size_t i = 0; i < r->nwarm; i++)
        if (!strcmp(r->warm[i].id, id)) {
            *w = r->warm[i];
            r->warm[i] = r->warm[--r->nwarm];
            return true;
        }
    return false;
}

/* Runs one cell and writes cells/<id>.json; the interference's why (disturbed) or NULL. */
static const char *run_cell(struct run *r, const struct cell *c)
{
    char id[512], log[PATH_MAX];
    cell_id(c, true, id, sizeof id);
    bufprintf(log, sizeof log, "%s/logs/%s", r->dir, id);
    const char *status = "ok", *rate = val(r, "RATE");
    char err[1024] = "", cap[64] = "";
    const char *srv_argv[64];
    size_t nsrv = 0;
    long long lo0 = 0, ld0 = 0, lo1 = 0, ld1 = 0;
    long long own_drops = -1; /* the listener's own (sock_diag), -1: not read */
    long queue_peak = -1;     /* the longest accept queue sampled, -1: not sampled */
    struct snap s0 = {0}, s1 = {0};
    char *stats = NULL;
    json_object *hosts_json = NULL;
    const char *m = cell_model(c);
    unsigned char scpus[128], ccpus[128];
    bool spin = cpu_list(cv(c, "SERVER_CPUS"), scpus) && strcmp(cv(c, "SERVER_CPUS"), "-");
    bool cpin = cpu_list(cv(c, "CLIENT_CPUS"), ccpus) && strcmp(cv(c, "CLIENT_CPUS"), "-");
    r->srv_pid = -1;
    r->srv_rpid[0] = 0;
    struct warm_srv ws = {.pid = -1};
    bool warm = take_warm(r, id, &ws);
    forget_attempt(log, !warm);

    if (r->netem_reason[0]) {
        status = "skipped";
        bufprintf(err, sizeof err, "%s", r->netem_reason);
    } else if (strcmp(cv(c, "RATE_PCT"), "-")) {
        double capv = capacity(r, c);
        if (capv <= 0)
            bufprintf(err, sizeof err,
                      "no calibration result for this configuration (its closed-loop cells "
                      "failed)");
        else {
            bufprintf(cap, sizeof cap, "%.3f", capv);
            rate = internf("%.3f", capv * strtod(cv(c, "RATE_PCT"), NULL) / 100);
        }
    }
    if (!strcmp(status, "ok") && !err[0] && is_peer_model(m)) {
        lo0 = cell_netstat_field(r, "ListenOverflows");
        ld0 = cell_netstat_field(r, "ListenDrops");
        int pr = peer_cell(r, c, log, spin ? scpus : NULL, cpin ? ccpus : NULL, err, sizeof err,
                           &stats, &s0, &s1);
        lo1 = cell_netstat_field(r, "ListenOverflows");
        ld1 = cell_netstat_field(r, "ListenDrops");
        if (pr == PEER_SKIPPED)
            status = "skipped";
    } else if (!strcmp(status, "ok") && !err[0]) {
        nsrv = server_args(r, c, srv_argv);
        char port[16];
        if (warm) {
            r->srv_pid = ws.pid;
            bufprintf(port, sizeof port, "%s", ws.port);
            bufprintf(r->srv_rpid, sizeof r->srv_rpid, "%s", ws.rpid);
        } else
            r->srv_pid = server_up(r, c, srv_argv, nsrv, log, port, sizeof port, r->srv_rpid,
                                   sizeof r->srv_rpid, &ws.t_ns);
        const char *out = internf("%s.srv.out", log), *errf = internf("%s.srv.err", log);
        char e[256];
        lo0 = cell_netstat_field(r, "ListenOverflows");
        ld0 = cell_netstat_field(r, "ListenDrops");
        char *errtext = slurp(errf, NULL);
        const char *unavail = errtext ? strstr(errtext, "unavailable here:") : NULL;
        if (!port[0] && unavail) {
            /* a model this machine cannot run (uring-srv without io_uring): skipped, with why */
            status = "skipped";
            bufprintf(err, sizeof err, "%s-srv %.*s", m, (int)strcspn(unavail, "\n"), unavail);
        } else if (!port[0]) {
            char last[512];
            last_line(errf, last, sizeof last);
            bufprintf(err, sizeof err, "server did not start: %s", last);
        } else if (!proc_interrupted) {
            /* what every client takes; with several client hosts the connections, -n, -R
             * and --idle are split between them */
            const char *lg[64];
            size_t k = 0;
            lg[k++] = "-H";
            lg[k++] = r->srv_host;
            lg[k++] = "-p";
            lg[k++] = intern(port);
            lg[k++] = "--no-progress";
            k = table_args(r, c, false, lg, k);
            /* this machine's CPU accounts for the server and the clients unless they run on
             * other machines (ssh): then there is no interference figure */
            bool local_cpu = strcmp(val(r, "RCMD"), "ssh") != 0;
            if (local_cpu)
                take_snap(&s0);
            long conc = atol(cv(c, "CONC")), idle = atol(cv(c, "IDLE"));
            if (*val(r, "SERVER_HOST")) {
                if (!cell_run_clients(r, id, log, conc, rate, idle, lg, k, &hosts_json, err,
                                      sizeof err) &&
                    !err[0])
                    bufprintf(err, sizeof err, "interrupted");
            } else {
                lg[k++] = "-c";
                lg[k++] = cv(c, "CONC");
                lg[k++] = "--json";
                lg[k++] = internf("%s.lg.json", log);
                lg[k++] = "--label";
                lg[k++] = intern(id);
                if (*val(r, "REQUESTS")) {
                    lg[k++] = "-n";
                    lg[k++] = val(r, "REQUESTS");
                }
                if (rate && *rate) {
                    lg[k++] = "-R";
                    lg[k++] = rate;
                }
                if (idle) {
                    lg[k++] = "--idle";
                    lg[k++] = cv(c, "IDLE");
                }
                const char *argv[96];
                size_t a = 0;
                if (r->cli_ns[0]) {
                    argv[a++] = "ip";
                    argv[a++] = "netns";
                    argv[a++] = "exec";
                    argv[a++] = r->cli_ns;
                }
                argv[a++] = internf("%s/loadgen", r->bin);
                for (size_t i = 0; i < k; i++)
                    argv[a++] = lg[i];
                argv[a] = NULL;
                const char *lgout = internf("%s.lg.out", log);
                struct spawn ls = {
                    .argv = argv, .out = lgout, .err_to_out = true, .cpus = cpin ? ccpus : NULL};
                pid_t lp = proc_start(&ls, e, sizeof e);
                int st = 0;
                /* a bound on the whole cell: the measured part, the warm-up and a timeout;
                 * a server of this namespace has its listener's queue sampled meanwhile */
                int w = lp > 0 ? 1 : -1;
                if (lp > 0 && !r->srv_ns[0]) {
                    long long end = now_ns(CLOCK_MONOTONIC) + 300000LL * 1000000;
                    struct listener ln;
                    while ((w = proc_wait(lp, 10, &st)) == 1 && now_ns(CLOCK_MONOTONIC) < end)
                        if (listener_read(atoi(port), &ln) == 0 && ln.sockets)
                            queue_peak = ln.queue > queue_peak ? ln.queue : queue_peak;
                } else if (lp > 0)
                    w = proc_wait(lp, 300000, &st);
                if (w == 1 || w == 2)
                    proc_stop(lp, 5000, &st);
                if (w != 0 || !cell_lg_measured(st)) {
                    char last[512];
                    last_line(lgout, last, sizeof last);
                    bufprintf(err, sizeof err, "loadgen failed: %s", w == 1 ? "timed out" : last);
                }
            }
            if (local_cpu)
                take_snap(&s1);
        }
        free(errtext);
        lo1 = cell_netstat_field(r, "ListenOverflows");
        ld1 = cell_netstat_field(r, "ListenDrops");
        struct listener ln;
        if (port[0] && !*val(r, "SERVER_HOST") && !r->srv_ns[0] &&
            listener_read(atoi(port), &ln) == 0 && ln.sockets)
            own_drops = ln.drops;
        /* SIGTERM to the server, wherever it runs; a remote one by its pid on its host */
        int st = 0;
        bool gone = r->srv_pid > 0 && waitpid(r->srv_pid, &st, WNOHANG) == r->srv_pid;
        if (gone)
            r->srv_pid = -1;
        if (r->srv_pid > 0) {
            if (*val(r, "SERVER_HOST") && r->srv_rpid[0]) {
                const char *k2[] = {"kill", "-TERM", r->srv_rpid, NULL}, *ra[64];
                remote_argv(r, val(r, "SERVER_HOST"), k2, ra, 64);
                cell_run_quiet(ra, NULL, 0);
            } else
                kill(r->srv_pid, SIGTERM);
            /* its stop is waited for whole: a signal meanwhile stays pending for the run */
            if (proc_reap(r->srv_pid, 60000, &st) != 0)
                proc_stop(r->srv_pid, 1000, &st);
            proc_sweep(r->srv_pid); /* whatever of its group outlived it */
            r->srv_pid = -1;
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && !err[0])
                bufprintf(err, sizeof err, "server exited with status %d",
                          WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        } else if (port[0]) {
            if (!err[0]) {
                char last[512];
                last_line(errf, last, sizeof last);
                bufprintf(err, sizeof err, "server died during the cell: %s", last);
            }
        }
        r->srv_rpid[0] = 0;
        stats = stats_line(out);
        if (!stats && !err[0])
            bufprintf(err, sizeof err, "server printed no stats line");
    }
    if (err[0] && strcmp(status, "skipped"))
        status = "failed";

    /* the cell's file */
    json_object *lgj = NULL, *stj = NULL;
    bool have_lg = read_json(internf("%s.lg.json", log), &lgj);
    char perr[64];
    bool have_st = stats && jdoc_parse(stats, strlen(stats), &stj, perr, sizeof perr) == 0;
    json_object *doc = json_object_new_object();
    if (!doc)
        die("out of memory");
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    jdoc_set(doc, "id", json_object_new_string(id));
    jdoc_set(doc, "status", json_object_new_string(status));
    jdoc_set(doc, "error", err[0] ? json_object_new_string(err) : NULL);
    /* the record, with the run-wide values a configuration is known by (before rep, as they
     * always have been) */
    json_object *rec = cell_record(c);
    jdoc_set(rec, "mix", *val(r, "MIX") ? json_object_new_string(val(r, "MIX")) : NULL);
    jdoc_set(rec, "read_rate", *val(r, "READ_RATE") ? jdoc_number_text(val(r, "READ_RATE")) : NULL);
    jdoc_set(rec, "netem", *val(r, "NETEM") ? json_object_new_string(val(r, "NETEM")) : NULL);
    cell_record_rep(rec, c, false);
    jdoc_set(doc, "cell", rec);
    jdoc_set(doc, "block", c->block > 0 ? json_object_new_int(c->block) : NULL);
    jdoc_set(doc, "round", json_object_new_int(c->round > 0 ? c->round : 1));
    json_object *argv = NULL;
    if (nsrv) {
        argv = json_object_new_array_ext((int)nsrv);
        for (size_t i = 0; i < nsrv; i++)
            json_object_array_add(argv, json_object_new_string(srv_argv[i]));
    }
    jdoc_set(doc, "server_argv", argv);
    jdoc_set(doc, "server_started", nsrv ? json_object_new_string(warm ? "block" : "cell") : NULL);
    jdoc_set(doc, "server_started_ns", nsrv ? json_object_new_int64(ws.t_ns) : NULL);
    jdoc_set(doc, "target_rps", rate && *rate ? jdoc_number_text(rate) : NULL);
    jdoc_set(doc, "capacity_rps", cap[0] ? jdoc_number_text(cap) : NULL);
    jdoc_set(doc, "loadgen", have_lg ? with_cpus(lgj, cpin ? cv(c, "CLIENT_CPUS") : NULL) : NULL);
    jdoc_set(doc, "server", have_st ? with_cpus(stj, spin ? cv(c, "SERVER_CPUS") : NULL) : NULL);
    jdoc_set(doc, "hosts", hosts_json); /* the document owns them now */
    json_object *k = json_object_new_object();
    jdoc_set(k, "listen_overflows", json_object_new_int64(lo1 - lo0));
    jdoc_set(k, "listen_drops", json_object_new_int64(ld1 - ld0));
    jdoc_set(k, "listener_drops", own_drops >= 0 ? json_object_new_int64(own_drops) : NULL);
    jdoc_set(k, "accept_queue_peak", queue_peak >= 0 ? json_object_new_int64(queue_peak) : NULL);
    jdoc_set(doc, "kernel", k);
    json_object *inter;
    const char *why = cell_interference(r, &inter, &s0, &s1, have_st ? stj : NULL);
    jdoc_set(doc, "interference", inter);
    jdoc_set(doc, "reruns", json_object_new_int(cell_reruns));
    json_object *reasons = json_object_new_array();
    for (int i = 0; i < cell_reruns; i++)
        json_object_array_add(reasons, json_object_new_string(cell_why[i]));
    jdoc_set(doc, "rerun_reasons", reasons);
    free(stats);
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
    bool written = write_json(path, doc, false);
    json_object_put(doc); /* the loadgen and server objects with it */
    if (!written)
        die("cannot write %s (disk full?); the finished cells are kept: bench/run --resume %s",
            path, r->dir);
    if (!strcmp(status, "failed"))
        say("  cell %s failed: %s\n", id, err);
    return !strcmp(status, "ok") ? why : NULL;
}

/* Runs a cell, and again (at most --max-reruns times) while something else on the machine
 * disturbed it; the last attempt is kept, the earlier ones go to logs/<id>.attemptN.json. */
void run_attempts(struct run *r, const struct cell *c)
{
    char id[512];
    cell_id(c, true, id, sizeof id);
    int max = atoi(val(r, "MAX_RERUNS"));
    cell_reruns = 0;
    for (;;) {
        const char *why = run_cell(r, c);
        if (proc_interrupted) {
            /* the cell the interruption cut short is not kept */
            unlink(internf("%s/cells/%s.json", r->dir, id));
            return;
        }
        if (cell_reruns >= max || !why || cell_reruns >= 16)
            break;
        cell_why[cell_reruns++] = why;
        say("  cell %s disturbed (%s): running it again (%d of %d)\n", id, why, cell_reruns, max);
        if (rename(internf("%s/cells/%s.json", r->dir, id),
                   internf("%s/logs/%s.attempt%d.json", r->dir, id, cell_reruns)) < 0)
            die("cannot move %s/cells/%s.json (disk full?)", r->dir, id);
    }
}
