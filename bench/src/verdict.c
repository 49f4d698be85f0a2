/* verdict: which model is faster in each configuration of a run, and by how much, decided in
 * pairs (bench/run --verdicts DIR, read by bench/summarize into summary.json's verdicts).
 *
 * A configuration is what the suite varies beside the model (connections, WORK, BYTES, the
 * backlog, the workload's shape, placement); a contender is a model with its own settings (-w,
 * the accept lock and mode, the pool's sizing, the poller, the sieve's arrays). Two
 * contenders' measurements are paired by the block they ran in (cells that record one), or
 * else by their repetition number; each pair's ratio goes into bstats' paired interval. The
 * contenders are ranked by their paired ratio to the best, each with that ratio's interval,
 * and each neighbour in the ranking is decided against the next: faster or slower
 * when the interval excludes 1, equivalent within the equivalence band, undecided otherwise.
 * Neighbours not told apart share a group. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"
#include "orch.h"
#include "statcmd.h"

#define MAX_PAIRS 256

/* A key of a cell's record that is a model's own setting (the dimensions a registry column
 * selects); every other key but the model and the repetition is the configuration. */
static bool is_own(const char *key)
{
    for (size_t i = 0; i < ndims; i++) {
        const char *k = dim_record_key(&dims[i]);
        if (k && !strcmp(k, key))
            return dim_is_own(&dims[i]);
    }
    return false;
}

/* The metrics compared: throughput (higher is better), p99 latency and the server's CPU
 * per request (lower is better). */
enum { M_RPS, M_P99, M_CPU, M_N };
static const char *const metric_name[M_N] = {"rps", "p99_us", "cpu_ms_per_req"};

struct sample {
    long key; /* the block, or the repetition */
    double m[M_N];
};

struct contender {
    char id[256];    /* the model and its own settings, as JSON text */
    char cell[512];  /* its cells' id without the repetition */
    char label[160]; /* what the verdict calls it */
    char model[64];
    json_object *settings;
    struct sample s[MAX_PAIRS];
    size_t n;
    double median;
    double to_best; /* its paired throughput ratio to the best, the ranking's order */
};

struct config {
    char key[1024]; /* the configuration's keys and values, as JSON text */
    json_object *dims;
    struct contender *c;
    size_t n, cap;
    bool by_rep; /* a cell without a block: paired by repetition (a run made before blocks) */
};

static int by_median(const void *a, const void *b)
{
    const struct contender *x = a, *y = b;
    return (x->median < y->median) - (x->median > y->median);
}

static int by_ratio(const void *a, const void *b)
{
    const struct contender *x = a, *y = b;
    if (x->to_best != y->to_best)
        return (x->to_best < y->to_best) - (x->to_best > y->to_best);
    return by_median(a, b);
}

static double median_of(const struct contender *c)
{
    double v[MAX_PAIRS];
    for (size_t i = 0; i < c->n; i++)
        v[i] = c->s[i].m[M_RPS];
    return bs_median(v, c->n);
}

struct configs {
    struct config *c;
    size_t n;
};

/* One ok cell into its configuration and contender. */
static void take(json_object *cell, void *arg)
{
    struct config **cfg = &((struct configs *)arg)->c;
    size_t *ncfg = &((struct configs *)arg)->n;
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
    if (!t->cell[0] && jdoc_str(jdoc_get(cell, "id"))) {
        bufprintf(t->cell, sizeof t->cell, "%s", jdoc_str(jdoc_get(cell, "id")));
        char *r = strrchr(t->cell, '-');
        if (r && r[1] == 'r')
            *r = 0;
    }
    json_object *rps = jdoc_path(cell, "loadgen.totals.rps");
    json_object *p99 = jdoc_path(cell, "loadgen.latency_us.total.p99");
    json_object *block = jdoc_get(cell, "block");
    g->by_rep |= !jdoc_is_num(block);
    if (!jdoc_is_num(rps) || t->n == MAX_PAIRS)
        return;
    double reqs = jdoc_num(jdoc_path(cell, "server.requests"), 0);
    double cpu = reqs > 0 ? (jdoc_num(jdoc_path(cell, "server.utime_s"), NAN) +
                             jdoc_num(jdoc_path(cell, "server.stime_s"), NAN)) /
                                reqs * 1000
                          : NAN;
    t->s[t->n++] =
        (struct sample){.key = (long)jdoc_num(jdoc_is_num(block) ? block : jdoc_get(rec, "rep"), 0),
                        .m = {jdoc_num(rps, 0), jdoc_num(p99, NAN), cpu}};
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
static void paired(const struct contender *a, const struct contender *b, int metric, double level,
                   struct bs_paired *out)
{
    double x[MAX_PAIRS], y[MAX_PAIRS];
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (a->s[i].key == b->s[j].key) {
                x[n] = a->s[i].m[metric];
                y[n++] = b->s[j].m[metric];
                break;
            }
    if (bs_paired_ratio(x, y, n, level, out) < 0)
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

/* The A/A copy of the baseline (bench/run --aa): a model measured under a second name. */
static bool is_aa(const struct contender *c)
{
    size_t n = strlen(c->model);
    return n > 3 && !strcmp(c->model + n - 3, "~aa");
}

static json_object *pair_json(const char *a, const char *b, const char *metric,
                              const struct bs_paired *p, const char *verdict)
{
    json_object *o = json_object_new_object();
    if (a)
        jdoc_set(o, "a", json_object_new_string(a));
    if (b)
        jdoc_set(o, "b", json_object_new_string(b));
    if (metric)
        jdoc_set(o, "metric", json_object_new_string(metric));
    jdoc_set(o, "ratio", num4(p->ratio));
    jdoc_set(o, "ci", interval_of(p));
    jdoc_set(o, "n", json_object_new_uint64(p->n));
    jdoc_set(o, "level", num4(p->level));
    if (verdict)
        jdoc_set(o, "verdict", json_object_new_string(verdict));
    return o;
}

/* The ranked contender (of the first nr) whose A/A copy contender i is: the same model and
 * settings; -1 if none. */
static int baseline_of(const struct config *g, size_t nr, size_t i)
{
    size_t len = strlen(g->c[i].model) - strlen("~aa");
    for (size_t j = 0; j < nr; j++)
        if (strlen(g->c[j].model) == len && !strncmp(g->c[j].model, g->c[i].model, len) &&
            json_object_equal(g->c[j].settings, g->c[i].settings))
            return (int)j;
    return -1;
}

/* Ranks g's contenders (the A/A copy last, out of the ranking) and labels them; the number
 * ranked. The best is the contender of the highest median throughput, or while another's
 * paired ratio to it exceeds 1, that one (at most as many times as there are contenders:
 * Hodges-Lehmann ratios need not be transitive); the others follow by their paired ratio to
 * it, the order the bars show and the one the blocks make precise (a median carries the
 * machine's wander, a paired ratio cancels it). */
static size_t rank(struct config *g, double level)
{
    for (size_t i = 0; i < g->n; i++)
        g->c[i].median = is_aa(&g->c[i]) ? -1 : median_of(&g->c[i]);
    qsort(g->c, g->n, sizeof *g->c, by_median);
    size_t n = 0;
    while (n < g->n && !is_aa(&g->c[n]))
        n++;
    for (size_t tries = 0;; tries++) {
        size_t top = 0;
        g->c[0].to_best = 1;
        for (size_t i = 1; i < n; i++) {
            struct bs_paired p;
            paired(&g->c[i], &g->c[0], M_RPS, level, &p);
            /* no pair in common: the ratio of the medians */
            g->c[i].to_best = isfinite(p.ratio) ? p.ratio : g->c[i].median / g->c[0].median;
            if (isnan(g->c[i].to_best)) /* no throughput at all */
                g->c[i].to_best = 0;
            if (g->c[i].to_best > g->c[top].to_best)
                top = i;
        }
        if (top == 0 || tries == n)
            break;
        struct contender t = g->c[0];
        g->c[0] = g->c[top];
        g->c[top] = t;
    }
    if (n > 1)
        qsort(g->c + 1, n - 1, sizeof *g->c, by_ratio);
    label(g);
    return n;
}

static json_object *verdict_of(struct config *g, const struct vd_rule *rule)
{
    size_t nr = rank(g, rule->level);
    json_object *v = json_object_get(g->dims);
    json_object *ranking = json_object_new_array(), *pairs = json_object_new_array();
    int group = 1;
    for (size_t i = 0; i < nr; i++) {
        struct contender *c = &g->c[i];
        if (i > 0) {
            struct bs_paired p;
            for (int m = 0; m < M_N; m++) {
                paired(&g->c[i - 1], c, m, rule->level, &p);
                const char *w = word(&p, rule->equivalence, m != M_RPS);
                if (m == M_RPS)
                    group += !strcmp(w, "faster") || !strcmp(w, "slower");
                json_object_array_add(
                    pairs, pair_json(g->c[i - 1].label, c->label, metric_name[m], &p, w));
            }
        }
        struct bs_paired best;
        if (i == 0)
            best = (struct bs_paired){.n = c->n, .ratio = 1, .lo = 1, .hi = 1, .level = 1};
        else
            paired(c, &g->c[0], M_RPS, rule->level, &best);
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
    jdoc_set(v, "paired_by", json_object_new_string(g->by_rep ? "repetition" : "block"));
    /* the A/A copy against its model: what this machine resolves in this configuration */
    for (size_t i = nr; i < g->n; i++) {
        int j = baseline_of(g, nr, i);
        if (j < 0)
            continue;
        struct bs_paired p;
        paired(&g->c[j], &g->c[i], M_RPS, rule->level, &p);
        json_object *aa = pair_json(NULL, NULL, NULL, &p, word(&p, rule->equivalence, false));
        jdoc_set(aa, "model", json_object_new_string(g->c[j].label));
        jdoc_set(v, "aa", aa);
    }
    return v;
}

static void load(const char *dir, struct configs *all)
{
    *all = (struct configs){0};
    if (ok_cells(dir, "bench/run --verdicts", take, all) < 0)
        die("cannot read the cells of %s", dir);
}

static void unload(struct configs *all)
{
    for (size_t k = 0; k < all->n; k++) {
        for (size_t i = 0; i < all->c[k].n; i++)
            json_object_put(all->c[k].c[i].settings);
        free(all->c[k].c);
        json_object_put(all->c[k].dims);
    }
    free(all->c);
}

double vd_level(int reps, int max_reps)
{
    /* Bonferroni over the looks that can decide: a pair is looked at with reps, reps + 1,
     * ... max_reps blocks; a look with n blocks can decide at level 1 - a only if the exact
     * signed-rank interval reaches it (1 - 2^(1-n) >= 1 - a). Each look gets 0.05/L, L the
     * fewest looks that can decide at that level. */
    int most = max_reps > reps ? max_reps - reps + 1 : 1;
    for (int l = 1; l < most; l++) {
        int can = 0;
        for (int n = reps; n <= (max_reps > reps ? max_reps : reps); n++)
            can += 1 - ldexp(1, 1 - n) >= 1 - 0.05 / l;
        if (can <= l)
            return 1 - 0.05 / l;
    }
    return 1 - 0.05 / most;
}

int stat_verdicts(const char *dir, const struct vd_rule *rule)
{
    struct configs all;
    load(dir, &all);
    json_object *out = json_object_new_array();
    for (size_t k = 0; k < all.n; k++)
        if (all.c[k].n > 1) /* one contender: nothing to compare */
            json_object_array_add(out, verdict_of(&all.c[k], rule));
    unload(&all);
    puts(jdoc_text(out));
    json_object_put(out);
    return 0;
}

/* Adds the pair (a, b) to o when further blocks could decide it: undecided in fewer than max_n
 * blocks. A lone contender (b NULL) is added as it is. */
static void want_more(struct vd_open **o, size_t *n, size_t *cap, const struct contender *a,
                      const struct contender *b, const struct vd_rule *rule, size_t max_n)
{
    struct bs_paired p = {0};
    if (b) {
        paired(a, b, M_RPS, rule->level, &p);
        if (bs_decide(&p, rule->equivalence) != BS_UNDECIDED || p.n >= max_n)
            return;
    }
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        struct vd_open *more = realloc(*o, *cap * sizeof *more);
        if (!more)
            die("out of memory");
        *o = more;
    }
    (*o)[*n] = (struct vd_open){.n = p.n};
    bufprintf((*o)[*n].a, sizeof(*o)[*n].a, "%s", a->cell);
    if (b)
        bufprintf((*o)[*n].b, sizeof(*o)[*n].b, "%s", b->cell);
    (*n)++;
}

size_t vd_open(const char *dir, const struct vd_rule *rule, size_t max_n, struct vd_open **out)
{
    struct configs all;
    load(dir, &all);
    size_t n = 0, cap = 0;
    struct vd_open *o = NULL;
    for (size_t k = 0; k < all.n; k++) {
        struct config *g = &all.c[k];
        size_t nr = rank(g, rule->level);
        if (g->n == 1)
            want_more(&o, &n, &cap, &g->c[0], NULL, rule, max_n);
        for (size_t i = 0; i + 1 < nr; i++)
            want_more(&o, &n, &cap, &g->c[i], &g->c[i + 1], rule, max_n);
        /* the A/A pair gets the neighbours' looks, so that it shows their false alarms */
        for (size_t i = nr; i < g->n; i++) {
            int j = baseline_of(g, nr, i);
            if (j >= 0)
                want_more(&o, &n, &cap, &g->c[j], &g->c[i], rule, max_n);
        }
    }
    unload(&all);
    *out = o;
    return n;
}
