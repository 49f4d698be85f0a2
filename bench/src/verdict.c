/* verdict: which model is faster in each configuration of a run, and by how much, decided in
 * pairs (bench/run --verdicts DIR, read by bench/summarize into summary.json's verdicts).
 *
 * A configuration is what the suite varies beside the model (connections, WORK, BYTES, the
 * backlog, the workload's shape, placement); a contender is a model with its own settings (-w,
 * the accept lock and mode, the pool's sizing, the poller, the sieve's arrays). Two
 * contenders' measurements are paired by the block they ran in (cells that record one), or
 * else by their repetition number; each pair's ratio goes into bstats' paired interval. The
 * contenders are ranked by their median throughput, each has its ratio to the best with its
 * interval, and each neighbour in the ranking is decided against the next: faster or slower
 * when the interval excludes 1, equivalent within the equivalence band, undecided otherwise.
 * Neighbours not told apart share a group. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"
#include "orch.h"
#include "statcmd.h"

#define MAX_PAIRS 256

/* The cell keys that are a model's own settings; every other key but the model and the
 * repetition is the configuration. */
static const char *const own[] = {"workers", "lock", "accept", "spare", "poller", "sieve"};

static bool is_own(const char *key)
{
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (!strcmp(key, own[i]))
            return true;
    return false;
}

struct sample {
    long key; /* the block, or the repetition */
    double rps, p99;
};

struct contender {
    char id[256];    /* the model and its own settings, as JSON text */
    char label[160]; /* what the verdict calls it */
    char model[64];
    json_object *settings;
    struct sample s[MAX_PAIRS];
    size_t n;
    double median;
};

struct config {
    char key[1024]; /* the configuration's keys and values, as JSON text */
    json_object *dims;
    struct contender *c;
    size_t n, cap;
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int by_median(const void *a, const void *b)
{
    const struct contender *x = a, *y = b;
    return (x->median < y->median) - (x->median > y->median);
}

static double median_of(const struct contender *c)
{
    double v[MAX_PAIRS];
    for (size_t i = 0; i < c->n; i++)
        v[i] = c->s[i].rps;
    return bs_median(v, c->n);
}

/* One ok cell into its configuration and contender. */
static void take(struct config **cfg, size_t *ncfg, json_object *cell)
{
    json_object *rec = jdoc_get(cell, "cell");
    if (!json_object_is_type(rec, json_type_object))
        return;
    json_object *conf = json_object_new_object(), *mine = json_object_new_object();
    json_object_object_foreach(rec, dk, dv)
    {
        if (!strcmp(dk, "model") || !strcmp(dk, "rep"))
            continue;
        jdoc_set(is_own(dk) ? mine : conf, dk, json_object_get(dv));
    }
    const char *model = jdoc_str(jdoc_get(rec, "model"));
    char key[1024], id[256];
    bufprintf(key, sizeof key, "%s", jdoc_text(conf));
    bufprintf(id, sizeof id, "%s %s", model ? model : "?", jdoc_text(mine));
    size_t k = 0;
    while (k < *ncfg && strcmp((*cfg)[k].key, key))
        k++;
    if (k == *ncfg) {
        struct config *more = realloc(*cfg, (*ncfg + 1) * sizeof *more);
        if (!more)
            die("out of memory");
        *cfg = more;
        (*cfg)[k] = (struct config){.dims = conf};
        bufprintf((*cfg)[k].key, sizeof(*cfg)[k].key, "%s", key);
        (*ncfg)++;
    } else {
        json_object_put(conf);
    }
    struct config *g = &(*cfg)[k];
    size_t c = 0;
    while (c < g->n && strcmp(g->c[c].id, id))
        c++;
    if (c == g->n) {
        if (g->n == g->cap) {
            g->cap = g->cap ? 2 * g->cap : 8;
            struct contender *more = realloc(g->c, g->cap * sizeof *more);
            if (!more)
                die("out of memory");
            g->c = more;
        }
        g->c[c] = (struct contender){.settings = mine};
        bufprintf(g->c[c].id, sizeof g->c[c].id, "%s", id);
        bufprintf(g->c[c].model, sizeof g->c[c].model, "%s", model ? model : "?");
        g->n++;
    } else {
        json_object_put(mine);
    }
    struct contender *t = &g->c[c];
    json_object *rps = jdoc_path(cell, "loadgen.totals.rps");
    json_object *p99 = jdoc_path(cell, "loadgen.latency_us.total.p99");
    json_object *block = jdoc_get(cell, "block");
    if (!jdoc_is_num(rps) || t->n == MAX_PAIRS)
        return;
    t->s[t->n++] =
        (struct sample){.key = (long)jdoc_num(jdoc_is_num(block) ? block : jdoc_get(rec, "rep"), 0),
                        .rps = jdoc_num(rps, 0),
                        .p99 = jdoc_num(p99, NAN)};
}

/* The labels: a model's name, and where one model has several contenders in a configuration,
 * the settings in which they differ ("reactor (poller poll)"). */
static void label(struct config *g)
{
    for (size_t i = 0; i < g->n; i++) {
        struct contender *c = &g->c[i];
        bufprintf(c->label, sizeof c->label, "%s", c->model);
        char diff[128] = "";
        for (size_t j = 0; j < g->n; j++) {
            if (j == i || strcmp(g->c[j].model, c->model))
                continue;
            json_object_object_foreach(c->settings, k, v)
            {
                json_object *w = jdoc_get(g->c[j].settings, k);
                const char *vt = jdoc_text(v), *wt = w ? jdoc_text(w) : "null";
                char item[64];
                bufprintf(item, sizeof item, "%s %s", k, jdoc_str(v) ? jdoc_str(v) : vt);
                if (strcmp(vt, wt) && !strstr(diff, item))
                    bufprintf(diff + strlen(diff), sizeof diff - strlen(diff), "%s%s",
                              diff[0] ? ", " : "", item);
            }
        }
        if (diff[0])
            bufprintf(c->label + strlen(c->label), sizeof c->label - strlen(c->label), " (%s)",
                      diff);
    }
}

/* The paired ratio a/b of a metric (0: throughput, 1: p99) over the keys both have. */
static void paired(const struct contender *a, const struct contender *b, int metric,
                   struct bs_paired *out)
{
    double x[MAX_PAIRS], y[MAX_PAIRS];
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (a->s[i].key == b->s[j].key) {
                x[n] = metric ? a->s[i].p99 : a->s[i].rps;
                y[n++] = metric ? b->s[j].p99 : b->s[j].rps;
                break;
            }
    if (bs_paired_ratio(x, y, n, 0.95, out) < 0)
        *out = (struct bs_paired){.ratio = NAN, .lo = NAN, .hi = NAN};
}

static json_object *num4(double v)
{
    return isfinite(v) ? jdoc_number(round(v * 1e4) / 1e4) : NULL;
}

static json_object *interval_of(const struct bs_paired *p)
{
    if (!isfinite(p->lo) || !isfinite(p->hi))
        return NULL;
    json_object *a = json_object_new_array_ext(2);
    json_object_array_add(a, num4(p->lo));
    json_object_array_add(a, num4(p->hi));
    return a;
}

/* faster | slower | equivalent | undecided, for a against b: a higher throughput is faster,
 * a higher p99 slower. */
static const char *word(const struct bs_paired *p, double equivalence, bool lower_is_better)
{
    switch (bs_decide(p, equivalence)) {
    case BS_ABOVE:
        return lower_is_better ? "slower" : "faster";
    case BS_BELOW:
        return lower_is_better ? "faster" : "slower";
    case BS_EQUIVALENT:
        return "equivalent";
    default:
        return "undecided";
    }
}

static json_object *verdict_of(struct config *g, double equivalence)
{
    for (size_t i = 0; i < g->n; i++)
        g->c[i].median = median_of(&g->c[i]);
    qsort(g->c, g->n, sizeof *g->c, by_median);
    label(g);
    json_object *v = json_object_get(g->dims);
    json_object *ranking = json_object_new_array(), *pairs = json_object_new_array();
    int group = 1;
    for (size_t i = 0; i < g->n; i++) {
        struct contender *c = &g->c[i];
        if (i > 0) {
            struct bs_paired p;
            paired(&g->c[i - 1], c, 0, &p);
            const char *w = word(&p, equivalence, false);
            group += !strcmp(w, "faster") || !strcmp(w, "slower");
            for (int metric = 0; metric < 2; metric++) {
                if (metric)
                    paired(&g->c[i - 1], c, 1, &p);
                json_object *o = json_object_new_object();
                jdoc_set(o, "a", json_object_new_string(g->c[i - 1].label));
                jdoc_set(o, "b", json_object_new_string(c->label));
                jdoc_set(o, "metric", json_object_new_string(metric ? "p99_us" : "rps"));
                jdoc_set(o, "ratio", num4(p.ratio));
                jdoc_set(o, "ci", interval_of(&p));
                jdoc_set(o, "n", json_object_new_uint64(p.n));
                jdoc_set(o, "level", num4(p.level));
                jdoc_set(o, "verdict",
                         json_object_new_string(metric ? word(&p, equivalence, true) : w));
                json_object_array_add(pairs, o);
            }
        }
        struct bs_paired best;
        if (i == 0)
            best = (struct bs_paired){.n = c->n, .ratio = 1, .lo = 1, .hi = 1, .level = 1};
        else
            paired(c, &g->c[0], 0, &best);
        json_object *o = json_object_new_object();
        jdoc_set(o, "model", json_object_new_string(c->label));
        jdoc_set(o, "rps", num4(c->median));
        jdoc_set(o, "ratio_to_best", num4(best.ratio));
        jdoc_set(o, "ratio_ci", interval_of(&best));
        jdoc_set(o, "n", json_object_new_uint64(c->n));
        jdoc_set(o, "group", json_object_new_int(group));
        json_object_array_add(ranking, o);
    }
    jdoc_set(v, "ranking", ranking);
    jdoc_set(v, "pairs", pairs);
    return v;
}

int stat_verdicts(const char *dir, double equivalence)
{
    char cells[PATH_MAX];
    bufprintf(cells, sizeof cells, "%s/cells", dir);
    struct dirent **ents;
    int ne = scandir(cells, &ents, NULL, by_name);
    if (ne < 0) {
        say("bench/run --verdicts: %s: cannot read it\n", cells);
        return 1;
    }
    struct config *cfg = NULL;
    size_t ncfg = 0;
    for (int i = 0; i < ne; i++) {
        const char *name = ents[i]->d_name;
        size_t len = strlen(name);
        json_object *j = NULL;
        if (len > 5 && !strcmp(name + len - 5, ".json") &&
            read_json(internf("%s/%s", cells, name), &j)) {
            const char *st = jdoc_str(jdoc_get(j, "status"));
            if (st && !strcmp(st, "ok"))
                take(&cfg, &ncfg, j);
            json_object_put(j);
        }
        free(ents[i]);
    }
    free(ents);
    json_object *all = json_object_new_array();
    for (size_t k = 0; k < ncfg; k++) {
        if (cfg[k].n > 1) /* one contender: nothing to compare */
            json_object_array_add(all, verdict_of(&cfg[k], equivalence));
        for (size_t i = 0; i < cfg[k].n; i++)
            json_object_put(cfg[k].c[i].settings);
        free(cfg[k].c);
        json_object_put(cfg[k].dims);
    }
    free(cfg);
    puts(jdoc_text(all));
    json_object_put(all);
    return 0;
}
