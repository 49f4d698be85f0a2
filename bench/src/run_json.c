/* run_json: a run's record, run.json (through json-c): made at the start, written whole after
 * every change, and read back by --resume, each value through its option's own check. */
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

/* ---- run.json ---- */

void run_iso_now(char *b, size_t n)
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
void run_json_save(struct run *r, const char *key, json_object *v)
{
    if (key)
        jdoc_set(r->doc, key, v);
    jdoc_set(r->doc, "cells", cells_json(r));
    char path[PATH_MAX];
    bufprintf(path, sizeof path, "%s/run.json", r->dir);
    if (!write_json(path, r->doc, true))
        die("cannot update %s (disk full?)", path);
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

void run_json_new(struct run *r)
{
    json_object *doc = json_object_new_object();
    if (!doc)
        die("out of memory");
    char commit[64], started[32], path[PATH_MAX];
    json_object *dirty;
    git_info(r, commit, sizeof commit, &dirty);
    run_iso_now(started, sizeof started);
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
    jdoc_set(pl, "note", str_or_null(r->placement_note));
    jdoc_set(doc, "placement", pl);
    jdoc_set(doc, "started_at", json_object_new_string(started));
    json_object *lim = json_object_new_object();
    jdoc_set(lim, "foreign_cpu_pct", json_object_new_int(r->foreign_max));
    jdoc_set(lim, "steal_pct", json_object_new_int(r->steal_max));
    jdoc_set(doc, "interference_limits", lim);
    r->doc = doc;
    r->have_doc = true;
    run_json_save(r, NULL, NULL);
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
            const char *run = r->val[i] ? r->val[i] : "";
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
        const char *why = NULL, *base = text;
        if (!strcmp(d->field, "MODELS")) {
            /* the baseline's A/A copy: a model of the registry under its second name */
            size_t n = strlen(text), k = strlen(AA_SUFFIX);
            if (n > k && !strcmp(text + n - k, AA_SUFFIX))
                base = internf("%.*s", (int)(n - k), text);
        }
        if (d->number && !jdoc_is_num(v) && strcmp(text, "-") != 0)
            why = "not a number";
        else if (strcmp(text, "-") != 0 && d->check)
            why = d->check(base);
        if (!why && !strcmp(d->field, "MODELS") && !registry_find(&r->reg, base) &&
            (base != text || !is_peer_model(text)))
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
    json_object *bj = jdoc_get(o, "block");
    double block = jdoc_is_num(bj) ? jdoc_num(bj, 0) : bj ? -1 : 0;
    if (!(block >= 0 && block <= 10000000 && block == (int)block))
        bad("--resume %s: run.json cells[%zu].block: a block from 1 to 10000000", where, at);
    c->rep = (int)rep;
    c->round = (int)round;
    c->block = (int)block;
}

/* A suite's name: the name of a file of bench/suites and nothing else (no path). */
bool run_suite_name(const char *s)
{
    bool ok = islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]);
    for (const char *p = s; ok && *p; p++)
        ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-';
    return ok;
}

void run_load_resume(struct run *r, const char *where)
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
    if (!run_suite_name(suite) || strlen(suite) >= sizeof r->suite)
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
