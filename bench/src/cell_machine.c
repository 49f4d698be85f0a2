/* cell_machine: what the machine says around a run and a cell: the records in run.json's
 * context, the kernel's listen counters, and how much else ran during a cell (cell.h). */
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
long long cell_netstat_field(struct run *r, const char *name)
{
    char *text = NULL, buf[16384];
    if (r->srv_ns[0] || *val(r, "SERVER_HOST")) {
        const char *cat[] = {"cat", "/proc/net/netstat", NULL}, *argv[64];
        cell_at_server(r, cat, argv, 64);
        if (cell_run_quiet(argv, buf, sizeof buf) != 0)
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
const char *cell_interference(struct run *r, json_object **out, const struct snap *a,
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
