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

/* ---- where commands run: here, in a namespace, or on a host through pdsh ---- */

/* A word for a remote shell (pdsh's ssh module runs a command line): single-quoted. */
static const char *shell_word(const char *w)
{
    char b[4096];
    size_t u = 0;
    b[u++] = '\'';
    for (const char *p = w; *p && u < sizeof b - 8; p++) {
        if (*p == '\'') {
            memcpy(b + u, "'\\''", 4);
            u += 4;
        } else
            b[u++] = *p;
    }
    b[u++] = '\'';
    b[u] = 0;
    return intern(b);
}

void remote_argv(const struct run *r, const char *host, const char *const *argv, const char **out,
                 size_t n)
{
    size_t k = 0;
    out[k++] = "pdsh";
    out[k++] = "-S";
    out[k++] = "-R";
    bool netns = !strcmp(val(r, "RCMD"), "netns");
    out[k++] = netns ? "exec" : "ssh";
    out[k++] = "-N";
    out[k++] = "-w";
    out[k++] = host;
    if (netns) {
        out[k++] = "ip";
        out[k++] = "netns";
        out[k++] = "exec";
        out[k++] = "%h";
        for (size_t i = 0; argv[i] && k + 1 < n; i++)
            out[k++] = argv[i];
    } else {
        char line[8192];
        size_t u = 0;
        for (size_t i = 0; argv[i]; i++)
            u += (size_t)snprintf(line + u, u < sizeof line ? sizeof line - u : 0, "%s%s",
                                  i ? " " : "", shell_word(argv[i]));
        out[k++] = intern(line);
    }
    out[k] = NULL;
}

/* The argv that runs argv where the server runs (here, its namespace, or its host). */
static void at_server(const struct run *r, const char *const *argv, const char **out, size_t n)
{
    size_t k = 0;
    if (*val(r, "SERVER_HOST")) {
        remote_argv(r, val(r, "SERVER_HOST"), argv, out, n);
        return;
    }
    if (r->srv_ns[0]) {
        out[k++] = "ip";
        out[k++] = "netns";
        out[k++] = "exec";
        out[k++] = r->srv_ns;
    }
    for (size_t i = 0; argv[i] && k + 1 < n; i++)
        out[k++] = argv[i];
    out[k] = NULL;
}

/* Whether loadgen's exit status is a measurement: 0, or 4 when nothing was answered (a
 * pool whose every worker is held by idle clients measures 0 requests: a result, not a
 * failed cell). */
static bool lg_measured(int st)
{
    return WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 4);
}

static int run_quiet(const char *const *argv, char *out, size_t n)
{
    char b[2048];
    return proc_capture(argv, out ? out : b, out ? n : sizeof b, 30000);
}

/* A command whose stderr is wanted (ip and tc say why they refused). */
static int run_err(const char *const *argv, char *err, size_t n)
{
    char path[] = "/tmp/cb-run-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    struct spawn s = {.argv = argv, .out = path, .err_to_out = true};
    char e[256];
    pid_t pid = proc_start(&s, e, sizeof e);
    int st = 0;
    if (pid < 0 || proc_wait(pid, 30000, &st) != 0) {
        unlink(path);
        bufprintf(err, n, "%s", pid < 0 ? e : "timed out");
        return -1;
    }
    char *t = slurp(path, NULL);
    unlink(path);
    bufprintf(err, n, "%s", t ? t : "");
    free(t);
    for (char *p = err; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ' ' : 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* --netem: two private network namespaces, a veth link between them and netem on both ends;
 * the server runs in one, loadgen in the other. The host's interfaces are never touched. */
static bool netem_setup(struct run *r)
{
    if (geteuid() != 0) {
        bufprintf(r->netem_reason, sizeof r->netem_reason,
                  "--netem needs root (network namespaces and tc)");
        return false;
    }
    bufprintf(r->srv_ns, sizeof r->srv_ns, "cb-srv-%d", (int)getpid());
    bufprintf(r->cli_ns, sizeof r->cli_ns, "cb-cli-%d", (int)getpid());
    const char *s = r->srv_ns, *c = r->cli_ns;
    const char *steps[][16] = {
        {"ip", "netns", "add", s, NULL},
        {"ip", "netns", "add", c, NULL},
        {"ip", "link", "add", "cbs0", "netns", s, "type", "veth", "peer", "name", "cbc0", "netns",
         c, NULL},
        {"ip", "-n", s, "addr", "add", "10.231.0.1/30", "dev", "cbs0", NULL},
        {"ip", "-n", c, "addr", "add", "10.231.0.2/30", "dev", "cbc0", NULL},
        {"ip", "-n", s, "link", "set", "lo", "up", NULL},
        {"ip", "-n", c, "link", "set", "lo", "up", NULL},
        {"ip", "-n", s, "link", "set", "cbs0", "up", NULL},
        {"ip", "-n", c, "link", "set", "cbc0", "up", NULL},
    };
    char e[512];
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (run_err(steps[i], e, sizeof e) < 0) {
            bufprintf(r->netem_reason, sizeof r->netem_reason,
                      "--netem: cannot build the namespaces: %s", e);
            return false;
        }
    const char *words[32];
    size_t nw = 0;
    char spec[512];
    bufprintf(spec, sizeof spec, "%s", val(r, "NETEM"));
    for (char *save = NULL, *w = strtok_r(spec, " ", &save); w && nw < 20;
         w = strtok_r(NULL, " ", &save))
        words[nw++] = intern(w);
    for (int side = 0; side < 2; side++) {
        const char *argv[40] = {"tc",   "-n",  side ? c : s,           "qdisc",
                                "add",  "dev", side ? "cbc0" : "cbs0", "root",
                                "netem"};
        size_t k = 9;
        for (size_t i = 0; i < nw; i++)
            argv[k++] = words[i];
        argv[k] = NULL;
        if (run_err(argv, e, sizeof e) < 0) {
            bufprintf(r->netem_reason, sizeof r->netem_reason,
                      "--netem: tc netem %s: %s (this kernel has no netem qdisc, or the "
                      "specification is wrong)",
                      val(r, "NETEM"), e);
            return false;
        }
    }
    bufprintf(r->srv_host, sizeof r->srv_host, "10.231.0.1");
    return true;
}

static pid_t srv_pid = -1;
static char srv_rpid[32];
static struct run *current;

void cell_teardown(struct run *r)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGKILL);
        waitpid(srv_pid, NULL, 0);
        srv_pid = -1;
    }
    if (*val(r, "SERVER_HOST") && srv_rpid[0]) {
        const char *k[] = {"kill", "-KILL", srv_rpid, NULL}, *ra[64];
        remote_argv(r, val(r, "SERVER_HOST"), k, ra, 64);
        run_quiet(ra, NULL, 0);
        srv_rpid[0] = 0;
    }
    for (int i = 0; i < 2; i++) {
        char *ns = i ? r->cli_ns : r->srv_ns;
        if (ns[0]) {
            const char *argv[] = {"ip", "netns", "del", ns, NULL};
            run_quiet(argv, NULL, 0);
            ns[0] = 0;
        }
    }
}

static void teardown_at_exit(void)
{
    if (current)
        cell_teardown(current);
}

void cell_setup(struct run *r)
{
    current = r;
    atexit(teardown_at_exit);
    r->hz = sysconf(_SC_CLK_TCK);
    if (r->hz <= 0)
        r->hz = 100;
    bufprintf(r->srv_host, sizeof r->srv_host, "127.0.0.1");
    if (*val(r, "NETEM") && !netem_setup(r)) {
        cell_teardown(r);
        say("bench/run: %s; every cell is recorded as skipped\n", r->netem_reason);
    }
    if (*val(r, "SERVER_HOST")) {
        bufprintf(r->srv_host, sizeof r->srv_host, "%s", val(r, "SERVER_ADDR"));
        /* The binaries are expected at the same path on every host. */
        const char *models[256];
        char list[4096];
        bufprintf(list, sizeof list, "%s", val(r, "MODELS"));
        size_t n = 0;
        for (char *save = NULL, *w = strtok_r(list, " ", &save); w && n < 256;
             w = strtok_r(NULL, " ", &save))
            models[n++] = intern(w);
        for (size_t i = 0; i < n; i++) {
            const char *t[] = {"test", "-x", internf("%s/%s-srv", r->bin, models[i]), NULL},
                       *ra[64];
            remote_argv(r, val(r, "SERVER_HOST"), t, ra, 64);
            if (run_quiet(ra, NULL, 0) != 0)
                die("%s: %s/%s-srv is not there (or pdsh -R %s cannot reach it): the binaries "
                    "must be at the same path on every host (README: Several hosts)",
                    val(r, "SERVER_HOST"), r->bin, models[i], val(r, "RCMD"));
        }
        char hosts[1024];
        bufprintf(hosts, sizeof hosts, "%s", val(r, "CLIENT_HOSTS"));
        for (char *save = NULL, *h = strtok_r(hosts, ",", &save); h;
             h = strtok_r(NULL, ",", &save)) {
            const char *t[] = {"test", "-x", internf("%s/loadgen", r->bin), NULL}, *ra[64];
            remote_argv(r, intern(h), t, ra, 64);
            if (run_quiet(ra, NULL, 0) != 0)
                die("%s: %s/loadgen is not there (or pdsh -R %s cannot reach it): the binaries "
                    "must be at the same path on every host (README: Several hosts)",
                    h, r->bin, val(r, "RCMD"));
        }
    }
}

/* ---- what the machine says ---- */

/* A number when v is a whole one, else a string; null when empty. */
static json_object *num_or_str(const char *v)
{
    if (!*v)
        return NULL;
    return is_whole(v) ? jdoc_number_text(v) : json_object_new_string(v);
}

static json_object *str_or_null(const char *v)
{
    return *v ? json_object_new_string(v) : NULL;
}

static json_object *version_of(const char *path)
{
    const char *argv[] = {path, "--version", NULL};
    char out[512];
    if (proc_capture(argv, out, sizeof out, 10000) < 0)
        out[0] = 0;
    out[strcspn(out, "\n")] = 0;
    return json_object_new_string(out);
}

static json_object *rlim_json(rlim_t v)
{
    return v == RLIM_INFINITY ? json_object_new_string("unlimited") : json_object_new_uint64(v);
}

static json_object *tool_version(const char *tool)
{
    const char *argv[] = {tool, "--version", NULL};
    char o[128];
    if (proc_capture(argv, o, sizeof o, 10000) != 0)
        bufprintf(o, sizeof o, "not installed");
    o[strcspn(o, "\n")] = 0;
    return json_object_new_string(o);
}

void context_records(struct run *r, json_object *ctx)
{
    json_object *bin = json_object_new_object();
    jdoc_set(bin, "loadgen", version_of(internf("%s/loadgen", r->bin)));
    char list[4096];
    bufprintf(list, sizeof list, "%s", val(r, "MODELS"));
    for (char *save = NULL, *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
        jdoc_set(bin, internf("%s-srv", w), version_of(internf("%s/%s-srv", r->bin, w)));
    jdoc_set(ctx, "binaries", bin);
    char gov[128], quota[128], mem[64] = "", line[256];
    first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", gov, sizeof gov);
    first_line("/sys/fs/cgroup/cpu.max", quota, sizeof quota);
    if (!quota[0] && access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", R_OK) == 0) {
        char q[64], p[64];
        first_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", q, sizeof q);
        first_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us", p, sizeof p);
        bufprintf(quota, sizeof quota, "%s %s", q, p);
    }
    FILE *mi = fopen("/proc/meminfo", "r");
    while (mi && fgets(line, sizeof line, mi))
        if (sscanf(line, "MemTotal: %63s", mem) == 1)
            break;
    if (mi)
        fclose(mi);
    char aff[256] = "";
    FILE *st = fopen("/proc/self/status", "r");
    while (st && fgets(line, sizeof line, st))
        if (!strncmp(line, "Cpus_allowed_list:", 18)) {
            char *v = line + 18;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            bufprintf(aff, sizeof aff, "%s", v);
        }
    if (st)
        fclose(st);
    jdoc_set(ctx, "memory_kb", num_or_str(mem));
    jdoc_set(ctx, "cpu_governor", num_or_str(gov));
    jdoc_set(ctx, "cgroup_cpu_max", str_or_null(quota));
    jdoc_set(ctx, "cpu_affinity", str_or_null(aff));
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
    json_object *nofile = json_object_new_object();
    jdoc_set(nofile, "soft", rlim_json(rl.rlim_cur));
    jdoc_set(nofile, "hard", rlim_json(rl.rlim_max));
    jdoc_set(ctx, "rlimit_nofile", nofile);
    char v[128];
    json_object *sys = json_object_new_object();
    first_line("/proc/sys/net/ipv4/tcp_max_syn_backlog", v, sizeof v);
    jdoc_set(sys, "tcp_max_syn_backlog", num_or_str(v));
    first_line("/proc/sys/net/ipv4/ip_local_port_range", v, sizeof v);
    for (char *p = v; *p; p++)
        if (*p == '\t')
            *p = ' ';
    jdoc_set(sys, "ip_local_port_range", str_or_null(v));
    first_line("/proc/sys/net/ipv4/tcp_tw_reuse", v, sizeof v);
    jdoc_set(sys, "tcp_tw_reuse", num_or_str(v));
    first_line("/proc/sys/net/ipv4/tcp_syncookies", v, sizeof v);
    jdoc_set(sys, "tcp_syncookies", num_or_str(v));
    jdoc_set(ctx, "sysctl", sys);
    json_object *tools = json_object_new_object();
    jdoc_set(tools, "jq", tool_version("jq"));
    jdoc_set(tools, "gnuplot", tool_version("gnuplot"));
    jdoc_set(ctx, "tools", tools);
}

/* A TcpExt counter of /proc/net/netstat where the server runs; 0 when unreadable. */
static long long netstat_field(struct run *r, const char *name)
{
    char *text = NULL, buf[16384];
    if (r->srv_ns[0] || *val(r, "SERVER_HOST")) {
        const char *cat[] = {"cat", "/proc/net/netstat", NULL}, *argv[64];
        at_server(r, cat, argv, 64);
        if (run_quiet(argv, buf, sizeof buf) != 0)
            return 0;
        text = buf;
    } else {
        text = slurp("/proc/net/netstat", NULL);
        if (!text)
            return 0;
    }
    long long out = 0;
    char *head = strstr(text, "TcpExt:"), *vals = head ? strstr(head + 7, "TcpExt:") : NULL;
    if (head && vals) {
        char h[8192], v[8192];
        bufprintf(h, sizeof h, "%.*s", (int)strcspn(head, "\n"), head);
        bufprintf(v, sizeof v, "%.*s", (int)strcspn(vals, "\n"), vals);
        char *s1 = NULL, *s2 = NULL;
        for (char *a = strtok_r(h, " ", &s1), *b = strtok_r(v, " ", &s2); a && b;
             a = strtok_r(NULL, " ", &s1), b = strtok_r(NULL, " ", &s2))
            if (!strcmp(a, name))
                out = atoll(b);
    }
    if (text != buf)
        free(text);
    return out;
}

static double r2(double v)
{
    return round(v * 100) / 100;
}

/* The interference object (NULL: null) into *out, and its why (NULL when not disturbed). */
static const char *interference(struct run *r, json_object **out, const struct snap *a,
                                const struct snap *b, json_object *stats)
{
    *out = NULL;
    if (!json_object_is_type(stats, json_type_object) || a->t_us == 0 || b->t_us == 0)
        return NULL;
    double win = (double)(b->t_us - a->t_us) / 1e6;
    double busy = (double)(b->busy - a->busy) / (double)r->hz;
    double cli = (double)(b->kids_ms - a->kids_ms) / 1000;
    double srv = jdoc_num(jdoc_get(stats, "utime_s"), 0) + jdoc_num(jdoc_get(stats, "stime_s"), 0);
    double foreign = win > 0 ? (busy - srv - cli) / win * 100 : 0;
    double steal = b->total > a->total
                       ? (double)(b->steal - a->steal) / (double)(b->total - a->total) * 100
                       : 0;
    bool disturbed = foreign > r->foreign_max || steal > r->steal_max;
    json_object *o = json_object_new_object();
    jdoc_set(o, "window_s", jdoc_number(r2(win)));
    jdoc_set(o, "busy_cpu_s", jdoc_number(r2(busy)));
    jdoc_set(o, "server_cpu_s", jdoc_number(round(srv * 1e4) / 1e4));
    jdoc_set(o, "client_cpu_s", jdoc_number(round(cli * 1e4) / 1e4));
    jdoc_set(o, "foreign_cpu_pct", jdoc_number(r2(foreign)));
    jdoc_set(o, "steal_pct", jdoc_number(r2(steal)));
    jdoc_set(
        o, "cpu_pressure_pct",
        a->have_psi && b->have_psi && b->t_us > a->t_us
            ? jdoc_number(r2((double)(b->psi_us - a->psi_us) / (double)(b->t_us - a->t_us) * 100))
            : NULL);
    jdoc_set(o, "disturbed", json_object_new_boolean(disturbed));
    char why[128] = "";
    if (foreign > r->foreign_max)
        bufprintf(why, sizeof why, "foreign CPU %.0f%% of a core", round(foreign));
    if (steal > r->steal_max)
        bufprintf(why + strlen(why), sizeof why - strlen(why), "%ssteal %g%%", why[0] ? ", " : "",
                  r2(steal));
    jdoc_set(o, "why", why[0] ? json_object_new_string(why) : NULL);
    *out = o;
    return why[0] ? intern(why) : NULL;
}

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
static bool run_clients(struct run *r, const char *id, const char *log, long conc, const char *rate,
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
        if (w != 0 || !lg_measured(st)) {
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
    const char *m = cv(c, "MODELS");
    unsigned char scpus[128], ccpus[128];
    bool spin = cpu_list(cv(c, "SERVER_CPUS"), scpus) && strcmp(cv(c, "SERVER_CPUS"), "-");
    bool cpin = cpu_list(cv(c, "CLIENT_CPUS"), ccpus) && strcmp(cv(c, "CLIENT_CPUS"), "-");
    srv_pid = -1;
    srv_rpid[0] = 0;
    /* nothing of an earlier attempt is read as this one's */
    static const char *const ends[] = {".srv.out", ".srv.err", ".lg.json", ".lg.out"};
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++)
        unlink(internf("%s%s", log, ends[i]));

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
        lo0 = netstat_field(r, "ListenOverflows");
        ld0 = netstat_field(r, "ListenDrops");
        int pr = peer_cell(r, c, log, spin ? scpus : NULL, cpin ? ccpus : NULL, err, sizeof err,
                           &stats, &s0, &s1);
        lo1 = netstat_field(r, "ListenOverflows");
        ld1 = netstat_field(r, "ListenDrops");
        if (pr == PEER_SKIPPED)
            status = "skipped";
    } else if (!strcmp(status, "ok") && !err[0]) {
        /* the server's arguments, from the cell's values */
        srv_argv[nsrv++] = internf("%s-srv", m);
        srv_argv[nsrv++] = "-H";
        srv_argv[nsrv++] = r->srv_host;
        srv_argv[nsrv++] = "-p";
        srv_argv[nsrv++] = "0";
        srv_argv[nsrv++] = "-b";
        srv_argv[nsrv++] = cv(c, "BACKLOG");
        if (strcmp(cv(c, "WORKERS"), "-")) {
            srv_argv[nsrv++] = "-w";
            srv_argv[nsrv++] = cv(c, "WORKERS");
            if (strcmp(cv(c, "LOCKS"), "none")) {
                srv_argv[nsrv++] = "--accept-lock";
                srv_argv[nsrv++] = cv(c, "LOCKS");
            }
        }
        const char *acc = cv(c, "ACCEPTS");
        if (!strcmp(acc, "exclusive")) {
            srv_argv[nsrv++] = "--balance";
            srv_argv[nsrv++] = "exclusive";
        } else if (strcmp(acc, "self") && strcmp(acc, "reuseport")) {
            srv_argv[nsrv++] = "--accept";
            srv_argv[nsrv++] = acc;
        }
        unsigned s1v, s2v, s3v;
        if (sscanf(cv(c, "SPARE"), "%u:%u:%u", &s1v, &s2v, &s3v) == 3) {
            srv_argv[nsrv++] = "--min-spare";
            srv_argv[nsrv++] = internf("%u", s1v);
            srv_argv[nsrv++] = "--max-spare";
            srv_argv[nsrv++] = internf("%u", s2v);
            srv_argv[nsrv++] = "--max-workers";
            srv_argv[nsrv++] = internf("%u", s3v);
        }
        if (strcmp(cv(c, "POLLERS"), "-")) {
            srv_argv[nsrv++] = "--poller";
            srv_argv[nsrv++] = cv(c, "POLLERS");
        }
        if (strcmp(cv(c, "SIEVE"), "fresh")) {
            srv_argv[nsrv++] = "--sieve-alloc";
            srv_argv[nsrv++] = cv(c, "SIEVE");
        }
        srv_argv[nsrv] = NULL;
        const char *full[64], *where[96];
        full[0] = internf("%s/%s-srv", r->bin, m);
        for (size_t i = 1; i <= nsrv; i++)
            full[i] = srv_argv[i];
        at_server(r, full, where, 96);
        const char *out = internf("%s.srv.out", log), *errf = internf("%s.srv.err", log);
        struct spawn sp = {
            .argv = where, .out = out, .err = errf, .cpus = spin ? scpus : NULL, .group = true};
        char e[256];
        srv_pid = proc_start(&sp, e, sizeof e);
        json_object *ready = NULL;
        bool up = false;
        for (int i = 0; i < 200 && srv_pid > 0; i++) {
            if ((up = ready_line(out, &ready)))
                break;
            int st;
            if (proc_wait(srv_pid, 50, &st) == 0) {
                srv_pid = -1;
                up = ready_line(out, &ready);
                break;
            }
            if (proc_interrupted)
                break;
        }
        char port[16] = "";
        if (up) {
            json_object *p = jdoc_get(ready, "port"), *pid = jdoc_get(ready, "pid");
            if (jdoc_is_num(p))
                bufprintf(port, sizeof port, "%s", json_object_get_string(p));
            if (jdoc_is_num(pid))
                bufprintf(srv_rpid, sizeof srv_rpid, "%s", json_object_get_string(pid));
            json_object_put(ready);
        }
        lo0 = netstat_field(r, "ListenOverflows");
        ld0 = netstat_field(r, "ListenDrops");
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
            lg[k++] = "-k";
            lg[k++] = cv(c, "KEEP");
            lg[k++] = "--no-progress";
            if (*val(r, "MIX")) {
                lg[k++] = "--mix";
                lg[k++] = val(r, "MIX");
            } else {
                lg[k++] = "-w";
                lg[k++] = cv(c, "WORK");
                lg[k++] = "-b";
                lg[k++] = cv(c, "BYTES");
            }
            if (!*val(r, "REQUESTS")) {
                lg[k++] = "-d";
                lg[k++] = val(r, "DURATION");
            }
            if (*val(r, "WARMUP") && !is_zero_duration(val(r, "WARMUP"))) {
                lg[k++] = "--warmup";
                lg[k++] = val(r, "WARMUP");
            }
            if (strcmp(cv(c, "THINK"), "0")) {
                lg[k++] = "--think";
                lg[k++] = cv(c, "THINK");
            }
            if (*val(r, "READ_RATE")) {
                lg[k++] = "--read-rate";
                lg[k++] = val(r, "READ_RATE");
            }
            if (*val(r, "TIMEOUT")) {
                lg[k++] = "--timeout";
                lg[k++] = val(r, "TIMEOUT");
            }
            /* this machine's CPU accounts for the server and the clients unless they run on
             * other machines (ssh): then there is no interference figure */
            bool local_cpu = strcmp(val(r, "RCMD"), "ssh") != 0;
            if (local_cpu)
                take_snap(&s0);
            long conc = atol(cv(c, "CONC")), idle = atol(cv(c, "IDLE"));
            if (*val(r, "SERVER_HOST")) {
                if (!run_clients(r, id, log, conc, rate, idle, lg, k, &hosts_json, err,
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
                if (w != 0 || !lg_measured(st)) {
                    char last[512];
                    last_line(lgout, last, sizeof last);
                    bufprintf(err, sizeof err, "loadgen failed: %s", w == 1 ? "timed out" : last);
                }
            }
            if (local_cpu)
                take_snap(&s1);
        }
        free(errtext);
        lo1 = netstat_field(r, "ListenOverflows");
        ld1 = netstat_field(r, "ListenDrops");
        struct listener ln;
        if (port[0] && !*val(r, "SERVER_HOST") && !r->srv_ns[0] &&
            listener_read(atoi(port), &ln) == 0 && ln.sockets)
            own_drops = ln.drops;
        /* SIGTERM to the server, wherever it runs; a remote one by its pid on its host */
        int st = 0;
        bool gone = srv_pid > 0 && waitpid(srv_pid, &st, WNOHANG) == srv_pid;
        if (gone)
            srv_pid = -1;
        if (srv_pid > 0) {
            if (*val(r, "SERVER_HOST") && srv_rpid[0]) {
                const char *k2[] = {"kill", "-TERM", srv_rpid, NULL}, *ra[64];
                remote_argv(r, val(r, "SERVER_HOST"), k2, ra, 64);
                run_quiet(ra, NULL, 0);
            } else
                kill(srv_pid, SIGTERM);
            /* its stop is waited for whole: a signal meanwhile stays pending for the run */
            if (proc_reap(srv_pid, 60000, &st) != 0)
                proc_stop(srv_pid, 1000, &st);
            proc_sweep(srv_pid); /* whatever of its group outlived it */
            srv_pid = -1;
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
        srv_rpid[0] = 0;
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
    json_object *argv = NULL;
    if (nsrv) {
        argv = json_object_new_array_ext((int)nsrv);
        for (size_t i = 0; i < nsrv; i++)
            json_object_array_add(argv, json_object_new_string(srv_argv[i]));
    }
    jdoc_set(doc, "server_argv", argv);
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
    const char *why = interference(r, &inter, &s0, &s1, have_st ? stj : NULL);
    jdoc_set(doc, "interference", inter);
    jdoc_set(doc, "reruns", json_object_new_int(cell_reruns));
    json_object *reasons = json_object_new_array();
    for (int i = 0; i < cell_reruns; i++)
        json_object_array_add(reasons, json_object_new_string(cell_why[i]));
    jdoc_set(doc, "rerun_reasons", reasons);
    char *buf = NULL;
    if (asprintf(&buf, "%s\n", jdoc_text(doc)) < 0)
        die("out of memory");
    size_t len = strlen(buf);
    json_object_put(doc); /* the loadgen and server objects with it */
    free(stats);
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
    if (!write_whole(path, buf, len)) {
        free(buf);
        die("cannot write %s (disk full?); the finished cells are kept: bench/run --resume %s",
            path, r->dir);
    }
    free(buf);
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
