/* tune_record: bench/tune's record (tune.json, through json-c) and its plots (gnuplot, every
 * string handed to it quoted as data). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orch.h"
#include "proc.h"
#include "tune.h"

/* ---- the record ---- */

/* A number, or null when it is not finite (NAN: not measured). */
json_object *tune_jnum(double v)
{
    return jdoc_number(v);
}

/* A count, or null when it is below min (not measured, none). */
static json_object *jcount(long long v, long long min)
{
    return v >= min ? json_object_new_int64(v) : NULL;
}

json_object *tune_jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

json_object *tune_usl_json(const struct usl *u)
{
    json_object *o = json_object_new_object();
    jdoc_set(o, "lambda", tune_jnum(u->lambda));
    jdoc_set(o, "sigma", tune_jnum(u->sigma));
    jdoc_set(o, "kappa", tune_jnum(u->kappa));
    jdoc_set(o, "peak_n", tune_jnum(u->has_peak ? u->peak_n : NAN));
    jdoc_set(o, "rmse", tune_jnum(u->rmse));
    return o;
}

static json_object *list_json(const struct list *l)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < l->n; i++)
        json_object_array_add(a, json_object_new_int64(l->v[i]));
    return a;
}

/* n with a comma between thousands: 4,210. */
static const char *thousands(double v)
{
    char d[32], b[48];
    bufprintf(d, sizeof d, "%.0f", v);
    size_t n = strlen(d), k = 0, lead = d[0] == '-';
    for (size_t i = 0; i < n; i++) {
        if (i > lead && (n - i) % 3 == 0)
            b[k++] = ',';
        b[k++] = d[i];
    }
    b[k] = 0;
    return intern(b);
}

/* The line a user pastes: the server with the recommended settings, and why. */
const char *tune_server_line(const struct tune *t)
{
    char b[768];
    bufprintf(b, sizeof b, "bin/%s-srv", t->model->name);
    if (t->rec_w > 0)
        bufprintf(b + strlen(b), sizeof b - strlen(b), " -w %ld", t->rec_w);
    bufprintf(b + strlen(b), sizeof b - strlen(b), " -b %ld", t->rec_b);
    size_t pad = strlen(b) < 30 ? 30 - strlen(b) : 1;
    bufprintf(b + strlen(b), sizeof b - strlen(b), "%*s#", (int)pad, "");
    if (t->rec_rps > 0)
        bufprintf(b + strlen(b), sizeof b - strlen(b), " %s req/s, p99 %.3g ms;",
                  thousands(t->rec_rps), t->rec_p99_us / 1000);
    if (t->fitted) {
        bufprintf(b + strlen(b), sizeof b - strlen(b), " USL σ=%.2g κ=%.2g", t->usl.sigma,
                  t->usl.kappa);
        bufprintf(b + strlen(b), sizeof b - strlen(b), "%s;",
                  t->usl.has_peak ? internf(" N*=%.0f", t->usl.peak_n) : " (no peak)");
    }
    if (t->smallest_clean > 0)
        bufprintf(b + strlen(b), sizeof b - strlen(b), " bursts of %ld: no overflow from -b %ld%s",
                  t->clients.v[t->clients.n - 1], t->smallest_clean,
                  t->queue_need >= 0 ? internf(", queue up to %ld", t->queue_need) : "");
    else
        bufprintf(b + strlen(b), sizeof b - strlen(b), " bursts of %ld overflowed every backlog",
                  t->clients.v[t->clients.n - 1]);
    return intern(b);
}

/* With a latency target met: the rate to drive it at. */
const char *tune_slo_line(const struct tune *t)
{
    const struct slo_point *p = &t->sp[t->best_sp];
    char b[512];
    bufprintf(b, sizeof b, "bin/loadgen -c %ld -k %s -R %.0f", t->clients.v[t->clients.n - 1],
              t->keep, p->rate);
    size_t pad = strlen(b) < 30 ? 30 - strlen(b) : 1;
    bufprintf(b + strlen(b), sizeof b - strlen(b), "%*s# %s %.3g ms <= %.3g ms at %s req/s",
              (int)pad, "", t->slo_pct, p->pct_us / 1000, t->slo_us / 1000, thousands(p->rps));
    return intern(b);
}

void tune_write_record(const struct tune *t)
{
    json_object *doc = json_object_new_object();
    if (!doc)
        die("out of memory");
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    jdoc_set(doc, "model", tune_jstr(t->model->name));
    jdoc_set(doc, "quick", json_object_new_boolean(t->quick));
    json_object *w = json_object_new_object();
    jdoc_set(w, "work", t->mix ? NULL : tune_jstr(t->work));
    jdoc_set(w, "bytes", t->mix ? NULL : tune_jstr(t->bytes));
    jdoc_set(w, "mix", tune_jstr(t->mix));
    jdoc_set(w, "think", tune_jstr(t->think));
    jdoc_set(w, "keep", tune_jstr(t->keep));
    jdoc_set(w, "clients", list_json(&t->clients));
    jdoc_set(w, "duration", tune_jstr(t->duration));
    jdoc_set(w, "reps", json_object_new_int(t->reps));
    jdoc_set(doc, "workload", w);
    json_object *pf = json_object_new_object();
    jdoc_set(pf, "somaxconn", json_object_new_int64(t->somaxconn));
    jdoc_set(pf, "tcp_max_syn_backlog", json_object_new_int64(t->syn_backlog));
    jdoc_set(pf, "tcp_syncookies", json_object_new_int64(t->syncookies));
    jdoc_set(pf, "tcp_abort_on_overflow", json_object_new_int64(t->abort_on_overflow));
    jdoc_set(pf, "nofile",
             t->nofile.rlim_cur == RLIM_INFINITY ? NULL
                                                 : json_object_new_uint64(t->nofile.rlim_cur));
    jdoc_set(doc, "preflight", pf);
    json_object *warn = json_object_new_array();
    for (size_t i = 0; i < t->nwarn; i++)
        json_object_array_add(warn, tune_jstr(t->warnings[i]));
    jdoc_set(doc, "warnings", warn);
    json_object *rec = json_object_new_object();
    jdoc_set(rec, "workers", jcount(t->rec_w, 1));
    jdoc_set(rec, "backlog", json_object_new_int64(t->rec_b));
    jdoc_set(rec, "rps", tune_jnum(t->rec_rps));
    jdoc_set(rec, "p99_us", tune_jnum(t->rec_p99_us));
    jdoc_set(rec, "command", tune_jstr(tune_server_line(t)));
    jdoc_set(rec, "within_noise_workers", jcount(t->noise_w, 1));
    jdoc_set(rec, "queue_peak", jcount(t->queue_need, 0));
    jdoc_set(doc, "recommended", rec);
    jdoc_set(doc, "usl", t->fitted ? tune_usl_json(&t->usl) : NULL);
    json_object *ms = json_object_new_array();
    for (size_t i = 0; i < t->npool; i++) {
        const struct pool_point *p = &t->pool[i];
        json_object *o = json_object_new_object(), *ci = json_object_new_array_ext(2);
        jdoc_set(o, "workers", json_object_new_int64(p->workers));
        jdoc_set(o, "rps", tune_jnum(p->rps));
        json_object_array_add(ci, tune_jnum(p->lo));
        json_object_array_add(ci, tune_jnum(p->hi));
        jdoc_set(o, "rps_ci", ci);
        jdoc_set(o, "p99_us", tune_jnum(p->p99_us));
        jdoc_set(o, "cpu_ms_per_req", tune_jnum(p->cpu_ms));
        jdoc_set(o, "usl_rps", tune_jnum(t->fitted ? usl_x(&t->usl, (double)p->workers) : NAN));
        jdoc_set(o, "residual",
                 tune_jnum(t->fitted ? p->rps - usl_x(&t->usl, (double)p->workers) : NAN));
        jdoc_set(o, "reps", json_object_new_int(p->reps));
        jdoc_set(o, "failed", json_object_new_int(p->failed));
        json_object_array_add(ms, o);
    }
    jdoc_set(doc, "measurements", ms);
    json_object *little = NULL;
    if (t->npool) {
        little = json_object_new_object();
        jdoc_set(little, "service_ms", tune_jnum(t->service_ms));
        jdoc_set(little, "busy_workers", tune_jnum(t->busy_workers));
    }
    jdoc_set(doc, "little", little);
    json_object *bl = json_object_new_object(), *bms = json_object_new_array();
    jdoc_set(bl, "smallest_clean", jcount(t->smallest_clean, 1));
    jdoc_set(bl, "bursts", json_object_new_int(t->bursts));
    for (size_t i = 0; i < t->nbp; i++) {
        const struct burst_point *p = &t->bp[i];
        json_object *o = json_object_new_object();
        jdoc_set(o, "backlog", json_object_new_int64(p->backlog));
        jdoc_set(o, "clients", json_object_new_int64(p->clients));
        jdoc_set(o, "bursts", json_object_new_int(p->bursts));
        jdoc_set(o, "overflowed", json_object_new_int(p->overflowed));
        jdoc_set(o, "overflows", json_object_new_int64(p->overflows));
        jdoc_set(o, "drops", json_object_new_int64(p->drops));
        jdoc_set(o, "errors", json_object_new_int64(p->errors));
        jdoc_set(o, "failed", json_object_new_int(p->failed));
        jdoc_set(o, "counted_by", tune_jstr(p->own_counts ? "listener" : "machine"));
        jdoc_set(o, "accept_queue_peak", tune_jnum(p->queue_peak >= 0 ? p->queue_peak : NAN));
        jdoc_set(o, "connect_p99_us", tune_jnum(p->connect_p99_us));
        json_object_array_add(bms, o);
    }
    jdoc_set(bl, "measurements", bms);
    jdoc_set(doc, "backlog", bl);
    json_object *slo = NULL;
    if (t->slo_us > 0) {
        slo = json_object_new_object();
        jdoc_set(slo, "percentile", tune_jstr(t->slo_pct));
        jdoc_set(slo, "target_us", tune_jnum(t->slo_us));
        jdoc_set(slo, "capacity_rps", tune_jnum(t->capacity));
        jdoc_set(slo, "met", json_object_new_boolean(t->best_sp >= 0));
        jdoc_set(slo, "rate", tune_jnum(t->best_sp >= 0 ? t->sp[t->best_sp].rate : NAN));
        jdoc_set(slo, "latency_us", tune_jnum(t->best_sp >= 0 ? t->sp[t->best_sp].pct_us : NAN));
        json_object *search = json_object_new_array();
        for (size_t i = 0; i < t->nsp; i++) {
            const struct slo_point *p = &t->sp[i];
            json_object *o = json_object_new_object();
            jdoc_set(o, "rate", tune_jnum(p->rate));
            jdoc_set(o, "rps", tune_jnum(p->rps));
            jdoc_set(o, "latency_us", tune_jnum(p->pct_us));
            jdoc_set(o, "errors", json_object_new_int64(p->errors));
            jdoc_set(o, "pass", json_object_new_boolean(p->pass));
            json_object_array_add(search, o);
        }
        jdoc_set(slo, "search", search);
    }
    jdoc_set(doc, "slo", slo);
    json_object *runs = json_object_new_object();
    jdoc_set(runs, "pool", t->npool ? tune_jstr(internf("%s/pool", t->out)) : NULL);
    jdoc_set(runs, "backlog", tune_jstr(internf("%s/backlog", t->out)));
    jdoc_set(runs, "slo", t->slo_us > 0 ? tune_jstr(internf("%s/slo", t->out)) : NULL);
    jdoc_set(doc, "runs", runs);
    bool ok = write_json(t->json, doc, false);
    json_object_put(doc);
    if (!ok)
        die("could not write %s", t->json);
}

/* ---- the plots (plots/tune-*.gp; every string handed to gnuplot quoted as data) ---- */

/* s as a gnuplot single-quoted string (a quote doubled; nothing else is special in one); NULL
 * for a string with a control character, which no quoting carries. */
static const char *gpq(const char *s)
{
    char b[PATH_MAX * 2 + 3];
    size_t k = 0;
    b[k++] = '\'';
    for (; *s && k < sizeof b - 3; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return NULL;
        if (*s == '\'')
            b[k++] = '\'';
        b[k++] = *s;
    }
    b[k++] = '\'';
    b[k] = 0;
    return intern(b);
}

static bool gnuplot(const struct tune *t, const char *script, const char *name, const char *vars)
{
    const char *dir = internf("%s/plots", t->out), *data = gpq(internf("%s/data", dir));
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        const char *fmt = i ? "svg" : "png";
        const char *e =
            internf("plotdir=%s; datadir=%s; out=%s; fmt='%s'; ttl=%s; %s",
                    gpq(internf("%s/plots", t->here)), data, gpq(internf("%s/%s", dir, name)), fmt,
                    gpq(internf("bench/tune %s", t->model->name)), vars);
        const char *argv[] = {"gnuplot", "-e", e, internf("%s/plots/%s", t->here, script), NULL};
        const char *log = internf("%s/data/gnuplot.err", dir);
        struct spawn sp = {.argv = argv, .err = log};
        char err[256];
        pid_t pid = proc_start(&sp, err, sizeof err);
        int st = 0;
        ok = pid > 0 && proc_wait(pid, 60000, &st) == 0 && WIFEXITED(st) && !WEXITSTATUS(st);
        if (pid > 0 && !ok)
            proc_stop(pid, 1000, &st);
        if (!ok)
            say("bench/tune: gnuplot failed on %s.%s (%s)\n", name, fmt, log);
    }
    return ok;
}

static FILE *data_file(const struct tune *t, const char *name)
{
    FILE *f = fopen(internf("%s/plots/data/%s", t->out, name), "w");
    if (!f)
        die("cannot write %s/plots/data/%s: %s", t->out, name, strerror(errno));
    return f;
}

bool tune_draw(const struct tune *t)
{
    const char *dir = internf("%s/plots", t->out);
    mkdir(dir, 0755);
    mkdir(internf("%s/data", dir), 0755);
    if (!gpq(t->out) || !gpq(t->here)) {
        say("bench/tune: no plots: a path holds a control character\n");
        return false;
    }
    bool ok = true;
    if (t->npool) {
        FILE *f = data_file(t, "pool.tsv");
        for (size_t i = 0; i < t->npool; i++) {
            const struct pool_point *p = &t->pool[i];
            if (isfinite(p->rps))
                fprintf(f, "%ld\t%.3f\t%.3f\t%.3f\t%.3f\n", p->workers, p->rps, p->lo, p->hi,
                        p->p99_us / 1000);
        }
        fclose(f);
        ok &= gnuplot(t, "tune-pool.gp", "pool",
                      internf("fitted=%d; lambda=%.9g; sigma=%.9g; kappa=%.9g; peak=%.9g; "
                              "recw=%ld; wmax=%ld",
                              t->fitted, t->usl.lambda, t->usl.sigma, t->usl.kappa,
                              t->usl.has_peak ? t->usl.peak_n : 0.0, t->rec_w,
                              t->pool[t->npool - 1].workers));
    }
    if (t->nbp) {
        char series[512] = "";
        for (size_t c = 0; c < t->clients.n; c++) {
            FILE *f = data_file(t, internf("backlog-%ld.tsv", t->clients.v[c]));
            for (size_t i = 0; i < t->nbp; i++) {
                const struct burst_point *p = &t->bp[i];
                if (p->clients == t->clients.v[c] && p->bursts > p->failed)
                    fprintf(f, "%ld\t%.3f\t%.3f\n", p->backlog,
                            (double)p->overflows / (p->bursts - p->failed),
                            p->connect_p99_us / 1000);
            }
            fclose(f);
            bufprintf(series + strlen(series), sizeof series - strlen(series), "%s%ld",
                      c ? " " : "", t->clients.v[c]);
        }
        ok &= gnuplot(
            t, "tune-backlog.gp", "backlog",
            internf("series='%s'; recb=%ld; somaxconn=%ld", series, t->rec_b, t->somaxconn));
    }
    if (t->nsp) {
        FILE *f = data_file(t, "slo.tsv");
        for (size_t i = 0; i < t->nsp; i++) /* by rate */
            for (size_t k = 0; k < t->nsp; k++) {
                size_t below = 0;
                for (size_t j = 0; j < t->nsp; j++)
                    below += t->sp[j].rate < t->sp[k].rate;
                if (below == i && isfinite(t->sp[k].pct_us))
                    fprintf(f, "%.3f\t%.3f\t%.3f\t%d\n", t->sp[k].rate, t->sp[k].rps,
                            t->sp[k].pct_us / 1000, t->sp[k].pass);
            }
        fclose(f);
        ok &= gnuplot(t, "tune-slo.gp", "slo",
                      internf("target=%.6g; pct='%s'", t->slo_us / 1000, t->slo_pct));
    }
    return ok;
}
