/* tune_fit: bench/tune --fit, the Universal Scalability Law fitted alone to lines "N
 * throughput" or to the configurations of a bench/run directory's summary. */
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

/* ---- bench/tune --fit ---- */

struct series {
    char label[512];
    double N[MAXV], X[MAXV];
    size_t n;
};

/* Members of a summary configuration that are not dimensions. */
static bool not_dimension(const char *k)
{
    static const char *const skip[] = {"workers",     "reps",          "failed",      "skipped",
                                       "reruns",      "disturbed",     "median_rep",  "noisy",
                                       "noise_cause", "target_ci_pct", "errors_seen", NULL};
    for (size_t i = 0; skip[i]; i++)
        if (!strcmp(k, skip[i]))
            return true;
    return false;
}

static const char *scalar_text(json_object *v)
{
    if (!v)
        return "-"; /* null */
    if (json_object_is_type(v, json_type_string) || jdoc_is_num(v))
        return json_object_get_string(v);
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? "true" : "false";
    return NULL;
}

/* Whether the lines of text (each ending in a newline) hold line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1)
        if (!strncmp(p, line, n) && p[n] == '\n')
            return true;
    return false;
}

/* The series of a bench/run directory: its configurations with a -w, grouped by every other
 * dimension; labelled by the dimensions that differ between them. */
static size_t dir_series(const char *dir, struct series *s, size_t max)
{
    json_object *sum = NULL;
    if (!read_json(internf("%s/summary.json", dir), &sum))
        bad("--fit %s: no summary.json in it (bench/summarize %s makes one)", dir, dir);
    json_object *cf = jdoc_get(sum, "configs");
    size_t n = 0;
    const char *keys[MAXV * 4];
    size_t ng = 0, cfn = jdoc_len(cf);
    /* the group of each configuration: its dimensions but -w, as text */
    for (size_t i = 0; i < cfn; i++) {
        json_object *g = jdoc_at(cf, i);
        double w = tune_num(g, "workers", 0), x = tune_num(g, "stats.rps.median", NAN);
        if (w < 1 || !(x > 0) || !json_object_is_type(g, json_type_object))
            continue;
        char key[1024] = "";
        json_object_object_foreach(g, k, v)
        {
            const char *t = scalar_text(v);
            if (t && !not_dimension(k))
                bufprintf(key + strlen(key), sizeof key - strlen(key), "%s=%s\n", k, t);
        }
        size_t j = 0;
        while (j < ng && strcmp(keys[j], key))
            j++;
        if (j == ng) {
            if (ng == max || ng == sizeof keys / sizeof *keys)
                continue;
            keys[ng] = intern(key);
            s[ng++] = (struct series){0};
        }
        if (s[j].n < MAXV) {
            s[j].N[s[j].n] = w;
            s[j].X[s[j].n++] = x;
        }
    }
    /* labels: the model, and the dimensions whose value differs between groups */
    for (size_t j = 0; j < ng; j++) {
        char copy[1024], *save = NULL;
        bufprintf(copy, sizeof copy, "%s", keys[j]);
        for (char *kv = strtok_r(copy, "\n", &save); kv; kv = strtok_r(NULL, "\n", &save)) {
            bool differs = false;
            for (size_t o = 0; o < ng && !differs; o++)
                differs = !has_line(keys[o], kv);
            if (differs || !strncmp(kv, "model=", 6))
                bufprintf(s[j].label + strlen(s[j].label), sizeof s[j].label - strlen(s[j].label),
                          "%s%s", s[j].label[0] ? " " : "", kv);
        }
    }
    n = ng;
    json_object_put(sum);
    return n;
}

static void file_series(const char *path, struct series *s)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bad("--fit %s: %s", path, strerror(errno));
    *s = (struct series){0};
    char *line = NULL;
    size_t cap = 0;
    long len;
    for (int no = 1; (len = read_text_line(f, &line, &cap)) != -1; no++) {
        if (len == -2) {
            fclose(f);
            bad("--fit %s:%d: a NUL byte in the line (not a text file?)", path, no);
        }
        char *p = line + strspn(line, " \t");
        if (*p == '#' || !*p)
            continue;
        double n, x;
        char extra;
        if (sscanf(p, "%lf %lf %c", &n, &x, &extra) != 2 || !isfinite(n) || !isfinite(x) || n < 1 ||
            x <= 0) {
            fclose(f);
            bad("--fit %s:%d: not 'N throughput' with N >= 1 and throughput above 0: %.80s", path,
                no, p);
        }
        if (s->n == MAXV) {
            fclose(f);
            bad("--fit %s: at most %d points", path, MAXV);
        }
        s->N[s->n] = n;
        s->X[s->n++] = x;
    }
    free(line);
    fclose(f);
}

/* The points of a series with the fitted throughput at each (null when not fitted). */
static json_object *points_json(const struct series *s, const struct usl *u)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < s->n; i++) {
        json_object *o = json_object_new_object();
        jdoc_set(o, "workers", tune_jnum(s->N[i]));
        jdoc_set(o, "rps", tune_jnum(s->X[i]));
        jdoc_set(o, "usl_rps", tune_jnum(u ? usl_x(u, s->N[i]) : NAN));
        json_object_array_add(a, o);
    }
    return a;
}

int tune_fit_main(const char *path, const char *json_out)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        bad("--fit %s: %s", path, strerror(errno));
    static struct series s[MAXV];
    size_t ns = 1;
    if (S_ISDIR(sb.st_mode)) {
        ns = dir_series(path, s, MAXV);
        if (!ns)
            bad("--fit %s: no configuration with a pool size (-w) and a throughput", path);
    } else
        file_series(path, &s[0]);
    json_object *doc = json_object_new_object(), *series = json_object_new_array();
    if (!doc || !series)
        die("out of memory");
    jdoc_set(doc, "schema_version", json_object_new_int(1));
    jdoc_set(doc, "source", tune_jstr(path));
    int fitted = 0;
    for (size_t j = 0; j < ns; j++) {
        struct usl u;
        char err[128];
        bool ok = usl_fit(s[j].N, s[j].X, s[j].n, &u, err, sizeof err) == 0;
        if (ns > 1 || s[j].label[0])
            printf("%s%s\n", j ? "\n" : "", s[j].label);
        if (!ok)
            printf("  not fitted: %s\n", err);
        else {
            fitted++;
            double mean = 0;
            for (size_t i = 0; i < s[j].n; i++)
                mean += s[j].X[i] / (double)s[j].n;
            printf("  USL over %zu points: lambda %.4g per unit of N, sigma %.4g, kappa %.4g\n",
                   s[j].n, u.lambda, u.sigma, u.kappa);
            if (u.has_peak)
                printf("  N* = %.1f: the throughput peaks there (%.4g) and falls beyond\n",
                       u.peak_n, usl_x(&u, u.peak_n));
            else
                printf("  no peak (kappa 0): the throughput levels off towards %s\n",
                       u.sigma > 0 ? internf("%.4g (lambda / sigma)", u.lambda / u.sigma)
                                   : "no limit (linear)");
            printf("  residuals: rmse %.4g (%.1f%% of the mean throughput)\n", u.rmse,
                   mean > 0 ? 100 * u.rmse / mean : 0);
            printf("  %8s %12s %12s %10s\n", "N", "measured", "fitted", "residual");
            for (size_t i = 0; i < s[j].n; i++)
                printf("  %8g %12.4g %12.4g %+10.3g\n", s[j].N[i], s[j].X[i], usl_x(&u, s[j].N[i]),
                       s[j].X[i] - usl_x(&u, s[j].N[i]));
        }
        if (j == 0 && ns == 1) {
            /* one series: its fit and points at the top, as tune.json has them */
            jdoc_set(doc, "usl", ok ? tune_usl_json(&u) : NULL);
            jdoc_set(doc, "measurements", points_json(&s[j], ok ? &u : NULL));
        }
        json_object *o = json_object_new_object();
        jdoc_set(o, "label", s[j].label[0] ? tune_jstr(s[j].label) : NULL);
        jdoc_set(o, "usl", ok ? tune_usl_json(&u) : NULL);
        jdoc_set(o, "error", ok ? NULL : tune_jstr(err));
        jdoc_set(o, "measurements", points_json(&s[j], ok ? &u : NULL));
        json_object_array_add(series, o);
    }
    jdoc_set(doc, "series", series);
    bool ok = !json_out || write_json(json_out, doc, false);
    json_object_put(doc);
    if (!ok)
        die("could not write %s", json_out);
    return fitted ? 0 : 1;
}
