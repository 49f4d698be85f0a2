/* bench/run: runs a benchmark suite, a matrix of models x the suite's dimensions x
 * repetitions, and leaves one directory of JSON behind.
 *
 * The dimensions and settings are one table (dims.c): what an option is called, its make
 * variable, its default, the models that take it, its key in a cell's record. A cell is a
 * record of one value per dimension; the matrix (matrix.c) is every model against the values
 * it takes, shuffled with a recorded seed so that drift favours no model. For every cell (cell.c):
 * the server starts (its ready line gives the port), loadgen runs, the server stops with SIGTERM
 * and its stats line is kept, with the kernel's listen counters and what else the machine did.
 * Configurations not yet known to within --target-ci get further repetitions in rounds
 * (bstats.c decides), a cell disturbed by other work runs again, and every file is written
 * whole: a cell that fails is recorded with its error and the suite goes on. */
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
#include "statcmd.h"

/* This file: the options, the suite file, the checks, run.json, the rounds, the end. */

static struct run R;

/* ---- the suite file: KEY=value lines, read as data ---- */

static void read_suite(struct run *r, const char *path, bool *given)
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
static const char *placement_note;
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
                placement_note =
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

static void check_all(struct run *r)
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

/* ---- run.json ---- */

static void iso_now(char *b, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_object *cells_json(const struct run *r)
{
    json_object *a = json_object_new_array_ext((int)r->ncells);
    for (size_t i = 0; i < r->ncells; i++) {
        json_object *o = cell_record(&r->cells[i]);
        cell_record_rep(o, &r->cells[i], true);
        json_object_array_add(a, o);
    }
    return a;
}

/* run.json again: the members it had, the cells of now, and key set to v (taken; a NULL key
 * sets nothing), written whole. */
static void save_run_json(struct run *r, const char *key, json_object *v)
{
    if (key)
        jdoc_set(r->doc, key, v);
    jdoc_set(r->doc, "cells", cells_json(r));
    const char *text = json_object_to_json_string_ext(
        r->doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *buf = NULL;
    if (!text || asprintf(&buf, "%s\n", text) < 0)
        die("out of memory");
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/run.json", r->dir);
    if (!write_whole(path, buf, strlen(buf)))
        die("cannot update %s (disk full?)", path);
    free(buf);
}

/* The commit of the checkout, and whether it has changes (NULL: not a checkout). */
static void git_info(const struct run *r, char *commit, size_t n, json_object **dirty)
{
    char out[256];
    const char *rev[] = {"git", "-C", r->here, "rev-parse", "--short=12", "HEAD", NULL};
    if (proc_capture(rev, out, sizeof out, 10000) == 0 && out[0]) {
        out[strcspn(out, "\n")] = 0;
        bufprintf(commit, n, "%s", out);
    } else
        bufprintf(commit, n, "unknown");
    *dirty = NULL;
    const char *dir[] = {"git", "-C", r->here, "rev-parse", "--git-dir", NULL};
    if (proc_capture(dir, out, sizeof out, 10000) == 0) {
        const char *st[] = {"git", "-C", r->here, "status", "--porcelain", "--untracked-files=no",
                            NULL};
        char o2[64];
        *dirty = json_object_new_boolean(!(proc_capture(st, o2, sizeof o2, 20000) == 0 && !o2[0]));
    }
}

static json_object *str_or_null(const char *s)
{
    return s && *s ? json_object_new_string(s) : NULL;
}

static void new_run_json(struct run *r)
{
    json_object *doc = json_object_new_object();
    if (!doc)
        die("out of memory");
    char commit[64], started[32], path[PATH_MAX];
    json_object *dirty;
    git_info(r, commit, sizeof commit, &dirty);
    iso_now(started, sizeof started);
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    jdoc_set(doc, "suite", json_object_new_string(r->suite));
    bufprintf(path, sizeof path, "%s/%s", r->suites, r->suite);
    char *text = slurp(path, NULL);
    if (text) {
        size_t tl = strlen(text);
        while (tl && text[tl - 1] == '\n')
            text[--tl] = 0;
    }
    jdoc_set(doc, "suite_file", json_object_new_string(text ? text : ""));
    free(text);
    json_object *m = json_object_new_object();
    for (size_t i = 0; i < ndims; i++)
        if (dims[i].kind == DIM_LIST || dims[i].kind == DIM_VALUE)
            jdoc_set(m, dims[i].field, json_object_new_string(r->val[i]));
    jdoc_set(doc, "matrix", m);
    jdoc_set(doc, "seed", jdoc_number_text(val(r, "SEED")));
    jdoc_set(doc, "git_commit", json_object_new_string(commit));
    jdoc_set(doc, "git_dirty", dirty);
    struct utsname u;
    if (uname(&u) < 0)
        memset(&u, 0, sizeof u);
    char cpu[256] = "", line[512], soma[64];
    FILE *ci = fopen("/proc/cpuinfo", "r");
    while (ci && fgets(line, sizeof line, ci))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            char *v = strchr(line, ':') + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            bufprintf(cpu, sizeof cpu, "%s", v);
            break;
        }
    if (ci)
        fclose(ci);
    first_line("/proc/sys/net/core/somaxconn", soma, sizeof soma);
    json_object *ctx = json_object_new_object();
    jdoc_set(ctx, "host_name", json_object_new_string(u.nodename));
    jdoc_set(ctx, "kernel", json_object_new_string(u.release));
    jdoc_set(ctx, "cpu_model", json_object_new_string(cpu));
    jdoc_set(ctx, "num_cpus", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
    jdoc_set(ctx, "somaxconn", is_whole(soma) ? jdoc_number_text(soma) : NULL);
    context_records(r, ctx);
    jdoc_set(doc, "context", ctx);
    json_object *pl = json_object_new_object();
    jdoc_set(pl, "server_cpus", json_object_new_string(val(r, "SERVER_CPUS")));
    jdoc_set(pl, "client_cpus", json_object_new_string(val(r, "CLIENT_CPUS")));
    jdoc_set(pl, "note", str_or_null(placement_note));
    jdoc_set(doc, "placement", pl);
    jdoc_set(doc, "started_at", json_object_new_string(started));
    json_object *lim = json_object_new_object();
    jdoc_set(lim, "foreign_cpu_pct", json_object_new_int(r->foreign_max));
    jdoc_set(lim, "steal_pct", json_object_new_int(r->steal_max));
    jdoc_set(doc, "interference_limits", lim);
    r->doc = doc;
    r->have_doc = true;
    save_run_json(r, NULL, NULL);
}

/* A cell of run.json's cells back into a record. */
/* A cell of run.json read back: every value goes through its dimension's own check, as the
 * option that sets it does, and a model must be a row of the registry (or a peer); the cell's
 * id and paths are then built from these values, never read. A value that fails refuses the
 * whole run, naming the cell and the key, before anything runs. */
static void cell_from_json(const struct run *r, const char *where, size_t at, json_object *o,
                           struct cell *c)
{
    memset(c, 0, sizeof *c);
    if (!json_object_is_type(o, json_type_object))
        bad("--resume %s: run.json cells[%zu] is not an object", where, at);
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        if (d->kind != DIM_LIST || !d->json_key)
            continue;
        const char *key = dim_record_key(d);
        json_object *v = jdoc_get(o, key);
        /* a field an older run lacks: the run's one value of it then, or its default */
        if (!jdoc_has(o, key)) {
            const char *run = R.val[i] ? R.val[i] : "";
            c->v[i] = *run && !strchr(run, ' ')         ? run
                      : *d->def && !strchr(d->def, ' ') ? d->def
                                                        : "-";
            continue;
        }
        if (!v) {
            c->v[i] = "-";
            continue;
        }
        if (!json_object_is_type(v, json_type_string) && !jdoc_is_num(v))
            bad("--resume %s: run.json cells[%zu].%s is not a value", where, at, key);
        const char *text = json_object_get_string(v); /* a number: its text as written */
        const char *why = NULL;
        if (d->number && !jdoc_is_num(v) && strcmp(text, "-") != 0)
            why = "not a number";
        else if (strcmp(text, "-") != 0 && d->check)
            why = d->check(text);
        if (!why && !strcmp(d->field, "MODELS") && !registry_find(&r->reg, text) &&
            !is_peer_model(text))
            why = "not a model of the registry";
        if (why)
            bad("--resume %s: run.json cells[%zu].%s '%s': %s", where, at, key, text, why);
        c->v[i] = intern(text);
    }
    double rep = jdoc_num(jdoc_get(o, "rep"), 1), round = jdoc_num(jdoc_get(o, "round"), 1);
    if (!(rep >= 1 && rep <= 100000 && rep == (int)rep))
        bad("--resume %s: run.json cells[%zu].rep: a repetition from 1 to 100000", where, at);
    if (!(round >= 1 && round <= 100000 && round == (int)round))
        bad("--resume %s: run.json cells[%zu].round: a round from 1 to 100000", where, at);
    c->rep = (int)rep;
    c->round = (int)round;
}

/* A suite's name: the name of a file of bench/suites and nothing else (no path). */
static bool suite_name(const char *s)
{
    bool ok = islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]);
    for (const char *p = s; ok && *p; p++)
        ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-';
    return ok;
}

static void load_resume(struct run *r, const char *where)
{
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/run.json", where);
    if (access(path, F_OK) != 0)
        bad("--resume %s: no run.json there", where);
    if (!realpath(where, r->dir))
        bad("--resume %s: %s", where, strerror(errno));
    bufprintf(path, sizeof path, "%s/run.json", r->dir);
    if (!read_json(path, &r->doc) || !json_object_is_type(r->doc, json_type_object))
        bad("--resume %s: run.json is not JSON", where);
    r->have_doc = true;
    json_object *s = jdoc_get(r->doc, "suite");
    const char *suite = jdoc_str(s) ? jdoc_str(s) : "";
    if (!suite_name(suite) || strlen(suite) >= sizeof r->suite)
        bad("--resume %s: suite '%s' in run.json is not a suite's name", where, suite);
    bufprintf(r->suite, sizeof r->suite, "%s", suite);
    json_object *m = jdoc_get(r->doc, "matrix");
    for (size_t i = 0; i < ndims; i++) {
        json_object *v = jdoc_get(m, dims[i].field);
        if (jdoc_str(v) && *jdoc_str(v))
            r->val[i] = intern(jdoc_str(v));
    }
    if (!jdoc_has(m, "MAX_REPS")) { /* a run from before adaptive repetitions and the probe */
        r->val[dim_index("MAX_REPS")] = val(r, "REPS");
        r->val[dim_index("PROBE")] = "0";
    }
    if (!jdoc_has(m, "SERVER_CPUS")) { /* a run from before CPU placement: none */
        r->val[dim_index("SERVER_CPUS")] = "-";
        r->val[dim_index("CLIENT_CPUS")] = "-";
    }
    json_object *cells = jdoc_get(r->doc, "cells");
    for (size_t i = 0; i < jdoc_len(cells); i++) {
        struct cell c;
        cell_from_json(r, where, i, jdoc_at(cells, i), &c);
        add_cell(r, &c);
    }
}

/* ---- the noise floor ---- */

static void noise_floor(struct run *r)
{
    const char *probe = val(r, "PROBE");
    if (is_zero_duration(probe) || jdoc_get(r->doc, "noise_floor"))
        return;
    say("bench/run: timing the CPU probe, 5 runs of %s\n", probe);
    double rates[5];
    char path[PATH_MAX], out[4096], err[64];
    bufprintf(path, sizeof path, "%s/probe", r->bin);
    for (int i = 0; i < 5; i++) {
        const char *argv[] = {path, "-d", probe, NULL};
        json_object *j = NULL;
        if (proc_capture(argv, out, sizeof out, 600000) != 0 ||
            jdoc_parse(out, strlen(out), &j, err, sizeof err) < 0)
            die("bin/probe failed");
        rates[i] = jdoc_num(jdoc_get(j, "rate"), 0);
        json_object_put(j);
        if (proc_interrupted)
            return;
    }
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    jdoc_set(o, "probe",
             json_object_new_string(
                 internf("bin/probe: sieves of 10^6 on one thread, 5 runs of %s", probe)));
    for (int i = 0; i < 5; i++)
        json_object_array_add(a, jdoc_number(rates[i]));
    jdoc_set(o, "rates", a);
    double sorted[5];
    memcpy(sorted, rates, sizeof sorted);
    jdoc_set(o, "median", jdoc_number(bs_median(sorted, 5)));
    double m = bs_mean(rates, 5), cv = m > 0 ? bs_stddev(rates, 5) / m * 100 : 0;
    jdoc_set(o, "cv_pct", jdoc_number(round(cv * 100) / 100));
    save_run_json(r, "noise_floor", o);
}

/* ---- configurations: what the cells written say ---- */

struct config {
    char key[512]; /* the cell id without its repetition */
    size_t first;  /* a cell of it (in the order) */
    int reps, failed, skipped;
    double rps[64];
    int nrps;
    double ci_pct; /* -1: not known */
};

static size_t configs_of(struct run *r, struct config **out)
{
    struct config *c = calloc(r->ncells ? r->ncells : 1, sizeof *c);
    size_t n = 0;
    if (!c)
        die("out of memory");
    for (size_t i = 0; i < r->ncells; i++) {
        char key[512], id[512], path[PATH_MAX];
        cell_id(&r->cells[i], false, key, sizeof key);
        cell_id(&r->cells[i], true, id, sizeof id);
        bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
        json_object *j = NULL;
        if (!read_json(path, &j))
            continue; /* not run */
        size_t k = 0;
        while (k < n && strcmp(c[k].key, key))
            k++;
        if (k == n) {
            bufprintf(c[n].key, sizeof c[n].key, "%s", key);
            c[n].first = i;
            n++;
        }
        c[k].reps++;
        json_object *st = jdoc_get(j, "status");
        const char *s = jdoc_str(st) ? jdoc_str(st) : "";
        if (!strcmp(s, "failed"))
            c[k].failed++;
        else if (!strcmp(s, "skipped"))
            c[k].skipped++;
        else if (!strcmp(s, "ok") && c[k].nrps < 64) {
            json_object *v = jdoc_path(j, "loadgen.totals.rps");
            if (jdoc_is_num(v))
                c[k].rps[c[k].nrps++] = jdoc_num(v, 0);
        }
        json_object_put(j);
    }
    for (size_t k = 0; k < n; k++) {
        double v[64];
        memcpy(v, c[k].rps, sizeof v);
        c[k].ci_pct = bs_ci_pct(v, (size_t)c[k].nrps);
    }
    *out = c;
    return n;
}

/* ---- the cells, in order ---- */

static long long t_start;
static size_t ran, done_before;

static size_t count_round(const struct run *r, bool later)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ncells; i++)
        n += later ? r->cells[i].round > 1 : r->cells[i].round <= 1;
    return n;
}

static void on_interrupt(struct run *r)
{
    say("\nbench/run: interrupted; finish it with: bench/run --resume %s\n", r->dir);
    cell_teardown(r);
    exit(130);
}

static void run_order(struct run *r, size_t budget)
{
    for (size_t i = 0; i < r->ncells; i++) {
        char id[512], path[PATH_MAX];
        cell_id(&r->cells[i], true, id, sizeof id);
        bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
        if (access(path, F_OK) == 0)
            continue;
        char eta[160] = "";
        if (ran > 0) {
            long long per_ms = (now_ns(CLOCK_MONOTONIC) - t_start) / 1000000 / (long long)ran;
            long long left = (long long)r->ncells - (long long)done_before - (long long)ran;
            char e[32];
            fmt_eta(e, sizeof e, (long)(per_ms * left / 1000));
            int u = snprintf(eta, sizeof eta, ", ETA %s", e);
            long long more = (long long)budget - (long long)count_round(r, true);
            if (more > 0) {
                fmt_eta(e, sizeof e, (long)(per_ms * (left + more) / 1000));
                bufprintf(eta + u, sizeof eta - (size_t)u, " (at most %s with further repetitions)",
                          e);
            }
        }
        say("[%zu/%zu] %s c=%s rep %d%s\n", i + 1, r->ncells, cv(&r->cells[i], "MODELS"),
            cv(&r->cells[i], "CONC"), r->cells[i].rep, eta);
        run_attempts(r, &r->cells[i]);
        if (proc_interrupted)
            on_interrupt(r);
        ran++;
    }
}

/* bench/summarize into summary.json (written whole). */
static void summarize(struct run *r)
{
    char prog[PATH_MAX], out[PATH_MAX], tmp[PATH_MAX];
    bufprintf(prog, sizeof prog, "%s/bench/summarize", r->here);
    bufprintf(out, sizeof out, "%s/summary.json", r->dir);
    bufprintf(tmp, sizeof tmp, "%s/summary.json.tmp.%d", r->dir, (int)getpid());
    const char *argv[] = {prog, r->dir, NULL};
    struct spawn s = {.argv = argv, .out = tmp};
    char err[256];
    pid_t pid = proc_start(&s, err, sizeof err);
    int st = 0;
    if (pid < 0 || proc_wait(pid, -1, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        unlink(tmp);
        die("cannot write %s", out);
    }
    struct stat sb;
    if (stat(tmp, &sb) < 0 || sb.st_size == 0 || rename(tmp, out) < 0) {
        unlink(tmp);
        die("cannot write %s (disk full?)", out);
    }
}

static int cmp_wide(const void *a, const void *b)
{
    const struct config *x = *(struct config *const *)a, *y = *(struct config *const *)b;
    double wx = x->ci_pct < 0 ? 1e9 : x->ci_pct, wy = y->ci_pct < 0 ? 1e9 : y->ci_pct;
    return (wx < wy) - (wx > wy);
}

/* Adaptive repetitions: rounds of one more repetition for the configurations whose
 * throughput is not yet known to within +-TARGET_CI% and that have fewer than MAX_REPS (and
 * no failed or skipped cell), the widest first while the budget lasts, shuffled, calibration
 * cells first. */
static void further_rounds(struct run *r, size_t budget)
{
    int reps = atoi(val(r, "REPS")), max_reps = atoi(val(r, "MAX_REPS"));
    double target = strtod(val(r, "TARGET_CI"), NULL);
    int round = 1;
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].round > round)
            round = r->cells[i].round;
    while (max_reps > reps) {
        summarize(r);
        struct config *c;
        size_t n = configs_of(r, &c);
        struct config **wide = malloc((n ? n : 1) * sizeof *wide);
        size_t nw = 0;
        for (size_t k = 0; k < n; k++)
            if (c[k].failed == 0 && c[k].skipped == 0 && c[k].reps < max_reps &&
                (c[k].ci_pct < 0 || c[k].ci_pct > target))
                wide[nw++] = &c[k];
        qsort(wide, nw, sizeof *wide, cmp_wide);
        size_t spent = count_round(r, true);
        if (nw == 0) {
            free(wide);
            free(c);
            break;
        }
        if (spent >= budget) {
            say("bench/run: %zu configuration(s) still wider than +-%s%%; the budget of %zu "
                "further cells (--budget %s%%) is spent\n",
                nw, val(r, "TARGET_CI"), budget, val(r, "BUDGET"));
            free(wide);
            free(c);
            break;
        }
        size_t take = nw < budget - spent ? nw : budget - spent;
        round++;
        struct cell *more = malloc(take * sizeof *more);
        size_t nm = 0;
        for (int pass = 0; pass < 2; pass++) /* the calibration cells first */
            for (size_t k = 0; k < take; k++) {
                const struct cell *src = &r->cells[wide[k]->first];
                if (!strcmp(cv(src, "RATE_PCT"), "-") != (pass == 0))
                    continue;
                more[nm] = *src;
                more[nm].rep = wide[k]->reps + 1;
                more[nm++].round = round;
            }
        /* shuffle each part with the run's seed and the round */
        uint64_t seed = strtoull(val(r, "SEED"), NULL, 10) + (uint64_t)round;
        size_t calib = 0;
        for (size_t k = 0; k < take; k++)
            calib += !strcmp(cv(&more[k], "RATE_PCT"), "-");
        shuffle(more, calib, seed);
        shuffle(more + calib, take - calib, seed);
        say("bench/run: round %d: %zu configuration(s) not yet within +-%s%%: one more "
            "repetition for %zu\n",
            round, nw, val(r, "TARGET_CI"), take);
        for (size_t k = 0; k < take; k++)
            add_cell(r, &more[k]);
        save_run_json(r, NULL, NULL);
        free(more);
        free(wide);
        free(c);
        run_order(r, budget);
    }
}

/* ---- the end: summary, table, latest link, plots ---- */

static int finish(struct run *r)
{
    summarize(r);
    if (ran > 0 || !jdoc_get(r->doc, "completed_at")) {
        char t[40];
        iso_now(t, sizeof t);
        save_run_json(r, "completed_at", json_object_new_string(t));
    }
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/summary.json", r->dir);
    json_object *s = NULL;
    if (!read_json(path, &s))
        die("cannot read %s", path);
    json_object *cfg = jdoc_get(s, "configs");
    long failed = 0, skipped = 0, noisy = 0, reruns = 0;
    bool any_rps = false;
    for (size_t i = 0; i < jdoc_len(cfg); i++) {
        json_object *c = jdoc_at(cfg, i);
        failed += (long)jdoc_num(jdoc_get(c, "failed"), 0);
        skipped += (long)jdoc_num(jdoc_get(c, "skipped"), 0);
        reruns += (long)jdoc_num(jdoc_get(c, "reruns"), 0);
        json_object *nz = jdoc_get(c, "noisy");
        noisy += jdoc_true(nz);
        json_object *rps = jdoc_path(c, "stats.rps");
        any_rps |= json_object_is_type(rps, json_type_object);
    }
    json_object_put(s);
    say("bench/run: done: %zu cells (%ld run again after interference), %ld failed, %ld "
        "skipped, %ld noisy configuration(s) (throughput not within +-%s%%)\n",
        r->ncells, reruns, failed, skipped, noisy, val(r, "TARGET_CI"));
    char prog[PATH_MAX];
    bufprintf(prog, sizeof prog, "%s/bench/export", r->here);
    const char *exp[] = {prog, r->dir, "--format", "md", NULL};
    struct spawn sp = {.argv = exp, .inherit = true};
    char err[256];
    int st;
    pid_t pid = proc_start(&sp, err, sizeof err);
    if (pid > 0)
        proc_wait(pid, -1, &st);
    /* results/<suite>-latest names the newest finished run: beside a run bench/run named
     * (<suite>-<timestamp>), not one given its own name with --out. */
    const char *base = strrchr(r->dir, '/') ? strrchr(r->dir, '/') + 1 : r->dir;
    size_t sl = strlen(r->suite);
    if (!r->out_given && !strncmp(base, r->suite, sl) && base[sl] == '-' &&
        strlen(base + sl + 1) == 16 && base[sl + 9] == 'T' && base[sl + 16] == 'Z') {
        char link[PATH_MAX], tmp[PATH_MAX];
        bufprintf(link, sizeof link, "%.*s/%s-latest", (int)(base - 1 - r->dir), r->dir, r->suite);
        bufprintf(tmp, sizeof tmp, "%s.tmp.%d", link, (int)getpid());
        if (symlink(base, tmp) == 0 && rename(tmp, link) < 0)
            unlink(tmp);
    }
    printf("%s\n", r->dir);
    fflush(stdout);
    if (r->plots && !any_rps) {
        say("bench/run: no cell ran; nothing to plot\n");
    } else if (r->plots) {
        bufprintf(prog, sizeof prog, "%s/bench/plot", r->here);
        const char *plot[] = {prog, r->dir, NULL};
        struct spawn pp = {.argv = plot, .inherit = true};
        pid = proc_start(&pp, err, sizeof err);
        if (pid < 0 || proc_wait(pid, -1, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            say("bench/run: plotting failed; the results are complete\n");
            return 1;
        }
    }
    if (r->plots) {
        /* one page with everything: bench/report, which says where it wrote it */
        bufprintf(prog, sizeof prog, "%s/bench/report", r->here);
        const char *rep[] = {prog, r->dir, NULL};
        struct spawn rp = {.argv = rep, .inherit = true};
        pid = proc_start(&rp, err, sizeof err);
        if (pid < 0 || proc_wait(pid, -1, &st) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            say("bench/run: the report could not be written; the results are complete\n");
            return 1;
        }
    }
    if (failed > 0) {
        say("bench/run: %ld cell(s) failed; see their error in %s/summary.json\n", failed, r->dir);
        return 3;
    }
    return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
    fputs("usage: bench/run SUITE [options]\n"
          "       bench/run --resume DIR [--no-plots]\n"
          "       bench/run --dimensions | --options | --man | -h | --help\n"
          "\n"
          "Runs a benchmark suite: a matrix of models x the dimensions below x repetitions, and\n"
          "leaves one directory of JSON behind. SUITE names a file of bench/suites/ (FIELD=value\n"
          "lines, a field for each option). Every option overrides the suite's field; lists are\n"
          "quoted and space-separated. --models takes names of the registry (servers/models),\n"
          "all, or kind=one|spawn|pool|event. Every value is checked before the first cell.\n"
          "\n",
          f);
    dims_help(f);
    fputs("  --resume DIR          finish an interrupted run (its cells that have no file yet)\n"
          "  --from-make           read each option from the environment variable named by its\n"
          "                        make variable (the Makefile passes every one this way)\n"
          "  --dimensions          print the table of dimensions and settings as JSON\n"
          "\n"
          "The results go to results/<suite>-<timestamp>/ (or --out DIR; BENCH_RESULTS=DIR in the\n"
          "environment puts them under DIR), with results/<suite>-latest naming the newest\n"
          "finished run: run.json (the suite, the matrix, the seed and order, the machine),\n"
          "cells/*.json (loadgen's result, the server's stats line, the kernel's counters, what\n"
          "else the machine did), summary.json (per configuration over its repetitions),\n"
          "plots/ (bench/plot) and report.html (bench/report: all of it on one page, whose path\n"
          "is the last line on stderr). A model this machine cannot run, and --netem where\n"
          "netem is missing, are recorded as skipped with the reason.\n"
          "Exit status: 0 when every cell ran or was skipped; 3 when a cell failed (the suite\n"
          "still goes to the end); 1 when the run could not go on (disk full) or its plots could\n"
          "not be drawn; 2 for bad usage. The run's directory is the one line on stdout.\n",
          f);
}

static bool given[MAX_DIMS];

static void set_option(struct run *r, const struct dim *d, const char *v)
{
    int i = (int)(d - dims);
    if (d->kind == DIM_FLAG) {
        if (!strcmp(d->field, "DRY_RUN"))
            r->dry = true;
        else
            r->plots = false;
        return;
    }
    if (d->kind == DIM_RUN) {
        r->out_given = true;
        r->val[i] = intern(v);
        return;
    }
    r->val[i] = intern(v);
    given[i] = true;
}

static void from_make(struct run *r)
{
    for (size_t i = 0; i < ndims; i++) {
        const char *e = getenv(dims[i].field);
        if (!e || !*e)
            continue;
        if (dims[i].kind == DIM_FLAG && (!strcmp(e, "0") || !strcmp(e, "no")))
            continue;
        set_option(r, &dims[i], e);
    }
}

static void locate(struct run *r, const char *argv0)
{
    checkout_dir(argv0, r->here, sizeof r->here);
    const char *b = getenv("BENCH_BIN"), *res = getenv("BENCH_RESULTS");
    bufprintf(r->bin, sizeof r->bin, "%s", b && *b ? b : internf("%s/bin", r->here));
    bufprintf(r->results, sizeof r->results, "%s",
              res && *res ? res : internf("%s/results", r->here));
    bufprintf(r->suites, sizeof r->suites, "%s/bench/suites", r->here);
}

static const char *list_suites(const struct run *r)
{
    char cmd[PATH_MAX];
    bufprintf(cmd, sizeof cmd, "%s", r->suites);
    const char *argv[] = {"ls", cmd, NULL};
    char out[4096];
    proc_capture(argv, out, sizeof out, 5000);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ' ' : 0;
    return intern(out);
}

int main(int argc, char **argv)
{
    if (proc_std_streams() < 0)
        return 1;
    proc_catch_signals(); /* first: a signal at any instant ends the run with 130 */
    struct run *r = &R;
    r->plots = true;
    r->foreign_max = 10;
    r->steal_max = 2;
    for (size_t i = 0; i < ndims; i++)
        r->val[i] = dims[i].def;
    locate(r, argv[0]);
    const char *resume = NULL;
    int a = 1;
    if (a < argc && argv[a][0] != '-')
        bufprintf(r->suite, sizeof r->suite, "%.63s", argv[a++]);
    const char *suite_arg = a > 1 ? argv[1] : NULL;
    for (; a < argc; a++) {
        const char *o = argv[a];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(o, "--dimensions")) {
            dims_json(stdout);
            return 0;
        }
        if (!strcmp(o, "--options")) {
            dims_options(stdout);
            return 0;
        }
        if (!strcmp(o, "--man")) {
            dims_man(stdout);
            return 0;
        }
        if (!strcmp(o, "--summary-stats")) {
            if (a + 1 >= argc)
                bad("--summary-stats needs a run directory");
            return stat_summary(argv[a + 1]);
        }
        if (!strcmp(o, "--ratio-intervals"))
            return stat_ratios();
        if (!strcmp(o, "--heatmap")) {
            if (a + 1 >= argc)
                bad("--heatmap needs a cell's JSON file");
            return stat_heatmap(argv[a + 1]);
        }
        if (!strcmp(o, "--from-make")) {
            from_make(r);
            continue;
        }
        if (!strcmp(o, "--resume")) {
            if (a + 1 >= argc)
                bad("--resume needs a run directory");
            resume = argv[++a];
            continue;
        }
        const struct dim *d = dim_by_option(o);
        if (!d)
            bad("unknown argument '%s'", o);
        if (d->kind == DIM_FLAG) {
            set_option(r, d, "");
            continue;
        }
        if (a + 1 >= argc)
            bad("%s needs a value", o);
        set_option(r, d, argv[++a]);
    }
    if (!suite_arg && !resume) {
        usage(stderr);
        say("bench/run: no suite given (have: %s)\n", list_suites(r));
        return 2;
    }
    if (suite_arg && resume)
        bad("a suite and --resume are alternatives");
    if (r->dry && resume)
        bad("--dry-run goes with a suite, not --resume");
    char err[256];
    if (registry_read(internf("%s/servers/models", r->here), &r->reg, err, sizeof err) < 0)
        die("%s", err);

    if (resume) {
        load_resume(r, resume);
        r->resume = true;
    } else {
        bool ok = suite_arg && suite_name(suite_arg);
        char path[PATH_MAX];
        bufprintf(path, sizeof path, "%s/%s", r->suites, suite_arg);
        struct stat sb;
        if (!ok || strlen(suite_arg) >= sizeof r->suite || stat(path, &sb) < 0 ||
            !S_ISREG(sb.st_mode))
            bad("no suite '%s' (have: %s)", suite_arg, list_suites(r));
        read_suite(r, path, given);
        if (!*val(r, "SEED"))
            r->val[dim_index("SEED")] = internf("%ld", (long)(time(NULL) % 100000));
    }
    check_all(r);
    if (!r->resume)
        build_matrix(r, !r->dry);
    if (r->dry) {
        dry_run(r);
        return 0;
    }

    if (proc_interrupted) {
        say("bench/run: interrupted before the first cell\n");
        return 130;
    }
    if (!r->resume) {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        const char *out = val(r, "OUT");
        const char *dir = *out ? out : internf("%s/%s-%s", r->results, r->suite, stamp);
        const char *mk[] = {"mkdir", "-p", internf("%s/cells", dir), NULL};
        char o2[512];
        if (proc_capture(mk, o2, sizeof o2, 10000) != 0 || !realpath(dir, r->dir))
            die("cannot create %s", dir);
        new_run_json(r);
    }
    char sub[PATH_MAX];
    bufprintf(sub, sizeof sub, "%s/cells", r->dir);
    mkdir(sub, 0755);
    bufprintf(sub, sizeof sub, "%s/logs", r->dir);
    mkdir(sub, 0755);
    if (access(sub, W_OK) != 0)
        die("cannot write in %s", r->dir);

    cell_setup(r);
    noise_floor(r);
    if (proc_interrupted)
        on_interrupt(r);
    json_object *cvp = jdoc_path(r->doc, "noise_floor.cv_pct");
    if (jdoc_is_num(cvp))
        say("bench/run: noise floor on this machine: CV %s%%\n", json_object_get_string(cvp));
    if (placement_note && !r->resume)
        say("bench/run: CPU placement: %s\n", placement_note);

    for (size_t i = 0; i < r->ncells; i++) {
        char id[512], path[PATH_MAX];
        cell_id(&r->cells[i], true, id, sizeof id);
        bufprintf(path, sizeof path, "%s/cells/%s.json", r->dir, id);
        done_before += access(path, F_OK) == 0;
    }
    size_t first = count_round(r, false);
    size_t budget = first * (size_t)atol(val(r, "BUDGET")) / 100;
    if (atoi(val(r, "MAX_REPS")) <= atoi(val(r, "REPS")))
        budget = 0;
    say("bench/run: suite %s, %zu cells, seed %s, results in %s\n", r->suite, r->ncells,
        val(r, "SEED"), r->dir);
    t_start = now_ns(CLOCK_MONOTONIC);
    run_order(r, budget);
    further_rounds(r, budget);
    int rc = finish(r);
    cell_teardown(r);
    json_object_put(r->doc);
    free(r->cells);
    return rc;
}
