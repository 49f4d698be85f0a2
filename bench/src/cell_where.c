/* cell_where: where a cell's commands run (here, in a network namespace made for --netem, or
 * on a host through pdsh) and the setting up and tearing down of those places (cell.h). */
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
void cell_at_server(const struct run *r, const char *const *argv, const char **out, size_t n)
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
bool cell_lg_measured(int st)
{
    return WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 4);
}

int cell_run_quiet(const char *const *argv, char *out, size_t n)
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

static struct run *current;

void cell_teardown(struct run *r)
{
    for (size_t i = 0; i < r->nwarm; i++)
        if (r->warm[i].pid > 0) {
            kill(r->warm[i].pid, SIGKILL);
            waitpid(r->warm[i].pid, NULL, 0);
            proc_sweep(r->warm[i].pid);
        }
    r->nwarm = 0;
    if (r->srv_pid > 0) {
        kill(r->srv_pid, SIGKILL);
        waitpid(r->srv_pid, NULL, 0);
        proc_sweep(r->srv_pid);
        r->srv_pid = -1;
    }
    if (*val(r, "SERVER_HOST") && r->srv_rpid[0]) {
        const char *k[] = {"kill", "-KILL", r->srv_rpid, NULL}, *ra[64];
        remote_argv(r, val(r, "SERVER_HOST"), k, ra, 64);
        cell_run_quiet(ra, NULL, 0);
        r->srv_rpid[0] = 0;
    }
    for (int i = 0; i < 2; i++) {
        char *ns = i ? r->cli_ns : r->srv_ns;
        if (ns[0]) {
            const char *argv[] = {"ip", "netns", "del", ns, NULL};
            cell_run_quiet(argv, NULL, 0);
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
            if (cell_run_quiet(ra, NULL, 0) != 0)
                die("%s: %s/%s-srv is not there (or pdsh -R %s cannot reach it): the binaries "
                    "must be at the same path on every host (docs/hosts.md)",
                    val(r, "SERVER_HOST"), r->bin, models[i], val(r, "RCMD"));
        }
        char hosts[1024];
        bufprintf(hosts, sizeof hosts, "%s", val(r, "CLIENT_HOSTS"));
        for (char *save = NULL, *h = strtok_r(hosts, ",", &save); h;
             h = strtok_r(NULL, ",", &save)) {
            const char *t[] = {"test", "-x", internf("%s/loadgen", r->bin), NULL}, *ra[64];
            remote_argv(r, intern(h), t, ra, 64);
            if (cell_run_quiet(ra, NULL, 0) != 0)
                die("%s: %s/loadgen is not there (or pdsh -R %s cannot reach it): the binaries "
                    "must be at the same path on every host (docs/hosts.md)",
                    h, r->bin, val(r, "RCMD"));
        }
    }
}
