/* run_check: bench/run's suite file (KEY=value lines, read as data) and the checks every value
 * passes before the first cell runs (run.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bstats.h"
#include "cli.h"
#include "orch.h"
#include "peer.h"
#include "proc.h"
#include "run.h"
#include "statcmd.h"

/* ---- the suite file: KEY=value lines, read as data ---- */

void run_read_suite(struct run *r, const char *path, bool *given)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bad("no suite '%s'", r->suite);
    char *line = NULL;
    size_t cap = 0;
    long len;
    int no = 0;
    while ((len = read_text_line(f, &line, &cap)) != -1) {
        no++;
        if (len == -2)
            die("%s:%d: a NUL byte in the line (not a text file?)", path, no);
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq)
            die("%s:%d: not FIELD=value", path, no);
        *eq = 0;
        char *v = eq + 1;
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = 0;
            v++;
        } else if (*v == '"' || *v == '\'')
            die("%s:%d: a quote without its end", path, no);
        int i = dim_index(p);
        if (i < 0 || dims[i].kind == DIM_RUN || dims[i].kind == DIM_FLAG)
            die("%s:%d: no field '%s'", path, no, p);
        if (!given[i])
            r->val[i] = intern(v);
    }
    free(line);
    fclose(f);
}

/* ---- checks, every one before the first cell ---- */

static void check_value(const struct dim *d, const char *v)
{
    if (!d->check)
        return;
    if (d->kind == DIM_LIST) {
        const char *w[256];
        size_t n = split_words(v, w, 256);
        if (n == 0)
            bad("%s: empty", d->option);
        for (size_t i = 0; i < n; i++) {
            const char *why = d->check(w[i]);
            if (why)
                bad("%s '%s': %s", d->option, w[i], why);
        }
        return;
    }
    const char *why = d->check(v);
    if (why)
        bad("%s '%s': %s", d->option, v, why);
}

static bool host_name(const char *h)
{
    if (!*h || !(isalnum((unsigned char)*h) || *h == '_'))
        return false;
    for (const char *p = h; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._@-", *p))
            return false;
    return true;
}

static bool executable(const char *dir, const char *name)
{
    char p[PATH_MAX];
    bufprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, X_OK) == 0;
}

static const char *registry_names(const struct run *r)
{
    char b[2048] = "";
    size_t u = 0;
    for (size_t i = 0; i < r->reg.n; i++)
        u += (size_t)snprintf(b + u, sizeof b - u, "%s%s", i ? " " : "", r->reg.m[i].name);
    return intern(b);
}

/* MODELS: "all" is every model of the registry; kind=K those of that kind. */
static void resolve_models(struct run *r)
{
    int i = dim_index("MODELS");
    const char *w[256];
    size_t n = split_words(r->val[i], w, 256);
    char out[4096] = "";
    size_t u = 0;
    for (size_t k = 0; k < n; k++) {
        bool all = !strcmp(w[k], "all"), kind = !strncmp(w[k], "kind=", 5);
        if (!all && !kind) {
            if (!registry_find(&r->reg, w[k]))
                bad("--models: no model '%s' (have: %s)", w[k], registry_names(r));
            u += (size_t)snprintf(out + u, sizeof out - u, "%s%s", u ? " " : "", w[k]);
            continue;
        }
        bool any = false;
        for (size_t m = 0; m < r->reg.n; m++)
            if (all || !strcmp(r->reg.m[m].kind, w[k] + 5)) {
                u += (size_t)snprintf(out + u, sizeof out - u, "%s%s", u ? " " : "",
                                      r->reg.m[m].name);
                any = true;
            }
        if (!any)
            bad("--models '%s': no model of that kind (kinds: one spawn pool event)", w[k]);
    }
    r->val[i] = intern(out);
}

/* auto CPU placement: with 4 or more CPUs, the server on the first half and the client on
 * the second; with fewer, none (said in run.json). */
static void resolve_cpus(struct run *r)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    const char *fields[] = {"SERVER_CPUS", "CLIENT_CPUS"};
    for (int k = 0; k < 2; k++) {
        int i = dim_index(fields[k]);
        const char *w[64];
        size_t n = split_words(r->val[i], w, 64);
        char out[1024] = "";
        size_t u = 0;
        for (size_t j = 0; j < n; j++) {
            const char *v = w[j];
            if (!strcmp(v, "auto")) {
                if (ncpu >= 4)
                    v = k == 0 ? internf("0-%ld", ncpu / 2 - 1)
                               : internf("%ld-%ld", ncpu / 2, ncpu - 1);
                else
                    v = "-";
                r->placement_note =
                    ncpu >= 4 ? internf("%ld CPUs: the server on the first half, the client on "
                                        "the second (--server-cpus, --client-cpus)",
                                        ncpu)
                              : internf("%ld CPUs: fewer than 4, so no pinning; the server and "
                                        "the client share them",
                                        ncpu);
            } else if (strcmp(v, "-") != 0) {
                unsigned char m[128];
                cpu_list(v, m);
                for (long c = ncpu; c < 1024; c++)
                    if (m[c / 8] & (1u << (c % 8)))
                        bad("%s '%s': CPU %ld is not online (this machine has %ld)", dims[i].option,
                            v, c, ncpu);
            }
            u += (size_t)snprintf(out + u, sizeof out - u, "%s%s", u ? " " : "", v);
        }
        r->val[i] = intern(out);
    }
}

void run_check_all(struct run *r)
{
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        if (d->kind == DIM_RUN || d->kind == DIM_FLAG)
            continue;
        if (!strcmp(d->field, "DURATION") && *val(r, "REQUESTS"))
            continue; /* a count of requests instead */
        if (d->kind == DIM_LIST && !*r->val[i] && !strcmp(d->field, "RATE_PCT"))
            continue;
        check_value(d, r->val[i]);
    }
    resolve_models(r);
    const char *w[256];
    size_t n = split_words(val(r, "MODELS"), w, 256);
    for (size_t k = 0; k < n; k++) {
        char name[64];
        bufprintf(name, sizeof name, "%s-srv", w[k]);
        if (!executable(r->bin, name))
            bad("%s/%s is missing; run make first", r->bin, name);
    }
    if (!executable(r->bin, "loadgen"))
        bad("%s/loadgen is missing; run make first", r->bin);
    /* --aa: the baseline, one of the run's models, measured twice */
    if (!strcmp(val(r, "AA"), "yes")) {
        int b = dim_index("BASELINE");
        if (n == 0)
            bad("--aa: no model to measure twice");
        if (!*r->val[b])
            r->val[b] = w[0];
        bool in = false;
        for (size_t k = 0; k < n; k++)
            in |= !strcmp(w[k], r->val[b]);
        if (!in)
            bad("--baseline '%s': not one of the run's models (%s)", r->val[b], val(r, "MODELS"));
    }
    const char *sp[64], *wk[64];
    size_t nsp = split_words(val(r, "SPARE"), sp, 64), nwk = split_words(val(r, "WORKERS"), wk, 64);
    for (size_t k = 0; k < nsp; k++) {
        unsigned a, b, c;
        if (sscanf(sp[k], "%u:%u:%u", &a, &b, &c) != 3)
            continue;
        if (a >= b)
            bad("--spare '%s': MIN must be below MAX", sp[k]);
        for (size_t j = 0; j < nwk; j++)
            if (strtoul(wk[j], NULL, 10) > c)
                bad("--spare '%s': the pool starts at -w %s, above MAXW %u", sp[k], wk[j], c);
    }
    if (*val(r, "RATE_PCT") && *val(r, "RATE"))
        bad("--rate and --rate-pct are alternatives: give one");
    if (strtoul(val(r, "MAX_REPS"), NULL, 10) < strtoul(val(r, "REPS"), NULL, 10))
        r->val[dim_index("MAX_REPS")] = val(r, "REPS");
    if (!is_zero_duration(val(r, "PROBE")) && !executable(r->bin, "probe"))
        bad("%s/probe is missing; run make first (or --probe 0)", r->bin);
    resolve_cpus(r);

    const char *sh = val(r, "SERVER_HOST"), *ch = val(r, "CLIENT_HOSTS"), *rc = val(r, "RCMD"),
               *sa = val(r, "SERVER_ADDR");
    if (*sh || *ch || *rc || *sa) {
        if (!*sh)
            bad("--client-hosts and --rcmd go with --server-host HOST");
        if (!*ch)
            bad("--server-host goes with --client-hosts H1,H2,...");
        if (!*rc)
            r->val[dim_index("RCMD")] = rc = "ssh";
        if (!host_name(sh))
            bad("--server-host '%s': not a host name", sh);
        if (!*sa)
            r->val[dim_index("SERVER_ADDR")] = sa = sh;
        for (const char *p = sa; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr(".:_-", *p))
                bad("--server-addr '%s': not an address", sa);
        char hosts[1024];
        bufprintf(hosts, sizeof hosts, "%s", ch);
        for (char *save = NULL, *h = strtok_r(hosts, ",", &save); h; h = strtok_r(NULL, ",", &save))
            if (!host_name(h)) {
                char *sp2 = strpbrk(h, " \t");
                if (sp2) /* name the word that is wrong */
                    for (char *s2 = NULL, *t = strtok_r(h, " \t", &s2); t;
                         t = strtok_r(NULL, " \t", &s2))
                        if (!host_name(t))
                            bad("--client-hosts: '%s' is not a host name", t);
                bad("--client-hosts: '%s' is not a host name", h);
            }
        if (*val(r, "NETEM"))
            bad("--netem and --server-host are alternatives: give one");
        char out[64];
        const char *which[] = {"sh", "-c", "command -v pdsh", NULL};
        if (proc_capture(which, out, sizeof out, 5000) != 0)
            bad("--server-host needs pdsh (apt-get install pdsh)");
        if (!strcmp(rc, "netns")) {
            if (geteuid() != 0)
                bad("--rcmd netns needs root (ip netns exec)");
            char list[8192];
            const char *ls[] = {"ip", "netns", "list", NULL};
            proc_capture(ls, list, sizeof list, 5000);
            char all[1024];
            bufprintf(all, sizeof all, "%s,%s", sh, ch);
            for (char *save = NULL, *h = strtok_r(all, ",", &save); h;
                 h = strtok_r(NULL, ",", &save)) {
                bool found = false;
                for (char *s2 = NULL, *l = strtok_r(list, "\n", &s2); l && !found;
                     l = strtok_r(NULL, "\n", &s2)) {
                    size_t hl = strlen(h);
                    found = !strncmp(l, h, hl) && (l[hl] == 0 || l[hl] == ' ');
                    if (l + strlen(l) < list + sizeof list - 1 && s2)
                        l[strlen(l)] = '\n'; /* keep the list whole for the next host */
                }
                if (!found)
                    bad("--rcmd netns: no network namespace '%s'", h);
            }
        }
    }
}
