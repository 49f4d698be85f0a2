/* matrix: a run's cells as records: each dimension's values for a model (the registry says
 * which models take which), every combination of them times the repetitions, the peers beside
 * the models, the order shuffled with the run's seed; a cell's id and its record; and what
 * --dry-run prints: each configuration with its repetitions and the estimated time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "orch.h"
#include "proc.h"

/* ---- the run's values and its cells ---- */

const char *val(const struct run *r, const char *field)
{
    int i = dim_index(field);
    return i < 0 ? "" : r->val[i];
}

const char *cv(const struct cell *c, const char *field)
{
    int i = dim_index(field);
    return i < 0 || !c->v[i] ? "-" : c->v[i];
}

static bool in_bar_list(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list; p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

const char *cell_model(const struct cell *c)
{
    const char *m = cv(c, "MODELS");
    size_t n = strlen(m), k = strlen(AA_SUFFIX);
    return n > k && !strcmp(m + n - k, AA_SUFFIX) ? internf("%.*s", (int)(n - k), m) : m;
}

const char *cell_id(const struct cell *c, bool with_rep, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    bool pool_less = !strcmp(cv(c, "WORKERS"), "-");
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        if (d->kind != DIM_LIST || !d->id || !c->v[i])
            continue;
        const char *v = c->v[i];
        if (!strcmp(v, "-") || (d->id_omit && in_bar_list(d->id_omit, v)))
            continue;
        if (!strcmp(d->field, "LOCKS") && pool_less)
            continue; /* a lock is said with the pool size it goes with */
        char safe[128];
        bufprintf(safe, sizeof safe, "%s", v);
        for (char *p = safe; *p; p++)
            if (*p == ':')
                *p = '-';
            else if (*p == ',')
                *p = '_';
        used += (size_t)snprintf(buf + used, used < n ? n - used : 0, d->id, safe);
    }
    if (with_rep)
        bufprintf(buf + used, used < n ? n - used : 0, "-r%d", c->rep);
    return buf;
}

json_object *cell_record(const struct cell *c)
{
    json_object *o = json_object_new_object();
    if (!o)
        die("out of memory");
    for (size_t i = 0; i < ndims; i++) {
        const struct dim *d = &dims[i];
        if (d->kind != DIM_LIST || !d->json_key)
            continue;
        const char *v = c->v[i] ? c->v[i] : "-";
        json_object *jv;
        if (!strcmp(v, "-") && (d->number || strchr(d->json_key, '.')))
            jv = NULL;
        else if (d->number)
            jv = jdoc_number_text(v);
        else
            jv = json_object_new_string(v);
        jdoc_set(o, dim_record_key(d), jv);
    }
    return o;
}

void cell_record_rep(json_object *o, const struct cell *c, bool with_round)
{
    jdoc_set(o, "rep", json_object_new_int(c->rep));
    if (with_round && c->round > 1)
        jdoc_set(o, "round", json_object_new_int(c->round));
    if (with_round && c->block > 0)
        jdoc_set(o, "block", json_object_new_int(c->block));
}

void add_cell(struct run *r, const struct cell *c)
{
    if (r->ncells == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        struct cell *n = realloc(r->cells, r->cap * sizeof *n);
        if (!n)
            die("out of memory");
        r->cells = n;
    }
    r->cells[r->ncells++] = *c;
}

/* ---- words of a list ---- */

size_t split_words(const char *s, const char **out, size_t max)
{
    size_t n = 0;
    char buf[4096];
    bufprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w && n < max;
         w = strtok_r(NULL, " \t", &save))
        out[n++] = intern(w);
    return n;
}

/* ---- the matrix ---- */

/* The values of dimension i that model m takes, of those asked for. */
static size_t values_for(const struct run *r, size_t i, const struct model *m, const char **out,
                         size_t max)
{
    const struct dim *d = &dims[i];
    const char *w[256];
    size_t n = split_words(r->val[i], w, 256), k = 0;
    if (!strcmp(d->field, "RATE_PCT"))
        return out[0] = "-", 1; /* the calibration cells; the rated ones come after */
    /* every value asked for, or none ("-") for a model the dimension does not apply to */
    bool all = !d->takes, pool = d->takes && !strcmp(d->takes, "kind=pool");
    if (all || pool || !strcmp(d->takes, "w")) {
        if ((pool && strcmp(m->kind, "pool")) || (!all && !pool && strcmp(m->w, "yes")))
            return out[0] = "-", 1;
        for (size_t j = 0; j < n && k < max; j++)
            out[k++] = w[j];
        return k;
    }
    if (!strcmp(d->takes, "locks")) {
        for (size_t j = 0; j < n && k < max; j++)
            if (!strcmp(w[j], "none") || list_has(m->locks, w[j]))
                out[k++] = w[j];
        return k ? k : (out[0] = "none", 1);
    }
    if (!strcmp(d->takes, "accept")) {
        /* its default always (self, or reuseport-srv's reuseport), then the others it takes */
        char def[32];
        bufprintf(def, sizeof def, "%.*s", (int)strcspn(m->accept, ","), m->accept);
        out[k++] = intern(strcmp(def, "-") ? def : "self");
        for (size_t j = 0; j < n && k < max; j++)
            if (strcmp(w[j], out[0]) && list_has(m->accept, w[j]))
                out[k++] = w[j];
        return k;
    }
    if (!strcmp(d->takes, "pollers")) {
        if (!strcmp(m->pollers, "-"))
            return out[0] = "-", 1;
        for (size_t j = 0; j < n && k < max; j++)
            if (!strcmp(w[j], "-") || list_has(m->pollers, w[j]))
                out[k++] = w[j];
        return k ? k : (out[0] = "-", 1);
    }
    return 0;
}

static int list_dims[MAX_DIMS];
static size_t nlist;

static void product(struct run *r, const struct model *m, const char ***vals, const size_t *nv,
                    size_t depth, struct cell *c, struct cell **rated, size_t *nrated,
                    size_t *rated_cap)
{
    if (depth == nlist) {
        /* a lock only goes with self */
        if (strcmp(cv(c, "ACCEPTS"), "self") && strcmp(cv(c, "LOCKS"), "none"))
            return;
        int reps = atoi(val(r, "REPS"));
        const char *pct[64];
        size_t np = *val(r, "RATE_PCT") ? split_words(val(r, "RATE_PCT"), pct, 64) : 0;
        for (int k = 1; k <= reps; k++) {
            c->rep = k;
            c->round = 1;
            add_cell(r, c);
            for (size_t p = 0; p < np; p++) {
                if (*nrated == *rated_cap) {
                    *rated_cap = *rated_cap ? *rated_cap * 2 : 64;
                    struct cell *nr = realloc(*rated, *rated_cap * sizeof *nr);
                    if (!nr)
                        die("out of memory");
                    *rated = nr;
                }
                struct cell x = *c;
                x.v[dim_index("RATE_PCT")] = pct[p];
                (*rated)[(*nrated)++] = x;
            }
        }
        return;
    }
    int i = list_dims[depth];
    for (size_t j = 0; j < nv[depth]; j++) {
        c->v[i] = vals[depth][j];
        product(r, m, vals, nv, depth + 1, c, rated, nrated, rated_cap);
    }
}

/* splitmix64: the shuffle's generator, the same order for the same seed everywhere. */
static uint64_t mix_state;
static uint64_t next_random(void)
{
    uint64_t z = (mix_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void shuffle(struct cell *c, size_t n, uint64_t seed)
{
    mix_state = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_random() % i);
        struct cell t = c[i - 1];
        c[i - 1] = c[j];
        c[j] = t;
    }
}

void shuffle_index(size_t *v, size_t n, uint64_t seed)
{
    mix_state = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_random() % i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* A model's own settings (-w, the accept lock and mode, the pool's sizing, the poller): the
 * dimensions a registry column selects. Every other dimension but the model is the
 * configuration in which models are compared. */
bool dim_is_own(const struct dim *d)
{
    return d->kind == DIM_LIST && d->takes != NULL;
}

/* The block a cell belongs to: its configuration and its repetition. */
static void block_key(const struct cell *c, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < ndims && used < n; i++)
        if (dims[i].kind == DIM_LIST && !dim_is_own(&dims[i]) && strcmp(dims[i].field, "MODELS"))
            used += (size_t)snprintf(buf + used, n - used, "%s\x1f", c->v[i] ? c->v[i] : "-");
    if (used < n)
        snprintf(buf + used, n - used, "%d", c->rep);
}

int next_block(const struct run *r)
{
    int b = 0;
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].block > b)
            b = r->cells[i].block;
    return b + 1;
}

void in_blocks(struct cell *c, size_t n, uint64_t seed, int first)
{
    if (n == 0)
        return;
    char(*key)[512] = malloc(n * sizeof *key);
    size_t *of = malloc(n * sizeof *of), *order = malloc(n * sizeof *order);
    struct cell *out = malloc(n * sizeof *out);
    if (!key || !of || !order || !out)
        die("out of memory");
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        block_key(&c[i], key[i], sizeof key[i]);
        size_t b = 0;
        while (b < i && strcmp(key[b], key[i]))
            b++;
        of[i] = b < i ? of[b] : nb++;
    }
    for (size_t b = 0; b < nb; b++)
        order[b] = b;
    shuffle_index(order, nb, seed);
    size_t k = 0;
    for (size_t p = 0; p < nb; p++) {
        size_t from = k;
        for (size_t i = 0; i < n; i++)
            if (of[i] == order[p]) {
                out[k] = c[i];
                out[k++].block = first + (int)p;
            }
        shuffle(out + from, k - from, seed ^ (0x9E3779B97F4A7C15ULL * (p + 1)));
    }
    memcpy(c, out, n * sizeof *c);
    free(key);
    free(of);
    free(order);
    free(out);
}

/* The rated cells (a rate suite's), kept apart: they run after the calibration cells. */
struct rated {
    struct cell *c;
    size_t n, cap;
};

/* Every cell of model m under the name it runs as (its own, or the A/A copy's). */
static void model_cells(struct run *r, const struct model *m, const char *name, struct rated *rt)
{
    const char **vals[MAX_DIMS];
    size_t nv[MAX_DIMS];
    const char *store[MAX_DIMS][64];
    for (size_t d = 0; d < nlist; d++) {
        nv[d] = values_for(r, (size_t)list_dims[d], m, store[d], 64);
        vals[d] = store[d];
    }
    struct cell c;
    memset(&c, 0, sizeof c);
    c.v[dim_index("MODELS")] = name;
    product(r, m, vals, nv, 0, &c, &rt->c, &rt->n, &rt->cap);
}

void build_matrix(struct run *r, bool shuffled)
{
    nlist = 0;
    for (size_t i = 0; i < ndims; i++)
        if (dims[i].kind == DIM_LIST && strcmp(dims[i].field, "MODELS"))
            list_dims[nlist++] = (int)i;
    const char *models[256];
    size_t nm = split_words(val(r, "MODELS"), models, 256);
    struct rated rt = {0};
    for (size_t k = 0; k < nm; k++)
        model_cells(r, registry_find(&r->reg, models[k]), models[k], &rt);
    /* --aa: the baseline again under a second name, in the same blocks */
    if (!strcmp(val(r, "AA"), "yes")) {
        const struct model *m = registry_find(&r->reg, val(r, "BASELINE"));
        model_cells(r, m, internf("%s" AA_SUFFIX, m->name), &rt);
    }
    /* the peers: servers from outside the project, beside the models (peer.c) */
    if (!strcmp(val(r, "PEERS"), "nginx")) {
        static struct model peer_models[2] = {{.name = "nginx"}, {.name = "nginx-cpus"}};
        for (int k = 0; k < 2; k++) {
            struct model *m = &peer_models[k];
            strcpy(m->kind, "peer");
            strcpy(m->w, "-");
            strcpy(m->locks, "-");
            strcpy(m->accept, "-");
            strcpy(m->pollers, "-");
            model_cells(r, m, m->name, &rt);
        }
    }
    struct cell *rated = rt.c;
    size_t nrated = rt.n;
    /* blocks: each configuration's contenders run back to back in a random order, the
     * blocks in a random order, so that two models are compared in measurements adjacent in
     * time (bench/run --verdicts pairs them by block) */
    uint64_t seed = strtoull(val(r, "SEED"), NULL, 10);
    size_t first = r->ncells;
    if (shuffled)
        in_blocks(r->cells, r->ncells, seed, 1);
    for (size_t i = 0; i < nrated; i++)
        add_cell(r, &rated[i]);
    if (shuffled)
        in_blocks(r->cells + first, nrated, seed + 1, next_block(r));
    free(rated);
}

/* ---- --dry-run: the cells and how long they will take ---- */

double dur_s(const char *d)
{
    uint64_t us = 0;
    return *d && cli_duration_us(d, &us) == 0 ? (double)us / 1e6 : 0;
}

void fmt_eta(char *b, size_t n, long s)
{
    if (s >= 60)
        bufprintf(b, n, "%ldm%02lds", s / 60, s % 60);
    else
        bufprintf(b, n, "%lds", s);
}

/* What a cell costs besides loadgen's measured time: starting and stopping the server, the
 * kernel counters, the cell's JSON (0.2 to 0.9 s in the reference runs on 2 cores). */
#define CELL_OVERHEAD_S 0.4

static double cell_estimate(struct run *r, const struct cell *c)
{
    if (!*val(r, "REQUESTS"))
        return dur_s(val(r, "WARMUP")) + dur_s(val(r, "DURATION")) + CELL_OVERHEAD_S;
    /* the requests' sieves at the speed this machine sieves WORK (bin/probe -n WORK for 0.1
     * s), spread over the CPUs the model can use */
    static struct {
        char work[32];
        double s;
    } known[64];
    static size_t nk;
    const char *work = cv(c, "WORK");
    double s = -1;
    for (size_t i = 0; i < nk; i++)
        if (!strcmp(known[i].work, work))
            s = known[i].s;
    if (s < 0) {
        char path[PATH_MAX], n[32], out[4096];
        bufprintf(path, sizeof path, "%s/probe", r->bin);
        bufprintf(n, sizeof n, "%llu",
                  strtoull(work, NULL, 10) > 1 ? strtoull(work, NULL, 10) : 2ULL);
        const char *argv[] = {path, "-d", "0.1s", "-n", n, NULL};
        s = 0;
        json_object *j = NULL;
        if (proc_capture(argv, out, sizeof out, 10000) == 0 &&
            jdoc_parse(out, strlen(out), &j, n, sizeof n) == 0) {
            double rate = jdoc_num(jdoc_get(j, "rate"), 0);
            s = rate > 0 ? 1 / rate : 0;
            json_object_put(j);
        }
        if (nk < 64) {
            bufprintf(known[nk].work, sizeof known[nk].work, "%s", work);
            known[nk++].s = s;
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const struct model *m = registry_find(&r->reg, cell_model(c));
    double par = strtod(cv(c, "CONC"), NULL);
    if (m && !strcmp(m->kind, "one"))
        par = 1;
    if (par > cpus)
        par = (double)cpus;
    return strtod(val(r, "REQUESTS"), NULL) * s / par + CELL_OVERHEAD_S;
}

void dry_run(struct run *r)
{
    printf("%-64s %5s %8s\n", "# configuration", "reps", "s/cell");
    double sum = 0;
    size_t configs = 0;
    bool *seen = calloc(r->ncells, 1);
    for (size_t i = 0; i < r->ncells; i++) {
        if (seen[i])
            continue;
        char id[512], other[512];
        cell_id(&r->cells[i], false, id, sizeof id);
        int n = 0;
        for (size_t j = i; j < r->ncells; j++)
            if (!seen[j] && !strcmp(id, cell_id(&r->cells[j], false, other, sizeof other))) {
                seen[j] = true;
                n++;
            }
        double est = cell_estimate(r, &r->cells[i]);
        printf("%-64s %5d %8.2f\n", id, n, est);
        configs++;
        sum += n * strtod(internf("%.2f", est), NULL);
    }
    free(seen);
    double probe_s = is_zero_duration(val(r, "PROBE")) ? 0 : 5 * dur_s(val(r, "PROBE"));
    long reps = atol(val(r, "REPS")), max_reps = atol(val(r, "MAX_REPS"));
    long budget = atol(val(r, "BUDGET"));
    long eta = (long)(sum + probe_s + 0.5), bound = eta;
    if (max_reps > reps)
        bound = (long)(sum * (1 + (double)budget / 100) + probe_s + 0.5);
    char e1[32], e2[32];
    fmt_eta(e1, sizeof e1, eta);
    fmt_eta(e2, sizeof e2, bound);
    printf("cells: %zu (%zu configurations, %ld repetitions each)\n", r->ncells, configs, reps);
    if (max_reps > reps) {
        printf("further blocks: one at a time for each pair of neighbours not yet decided (a "
               "model alone in its configuration: until within +-%s%%), up to %ld, at most %zu "
               "more cells (--budget %ld%%)\n",
               val(r, "TARGET_CI"), max_reps, r->ncells * (size_t)budget / 100, budget);
        printf("estimated time: %s, at most %s with further blocks; a cell disturbed by "
               "other work runs again (up to %s times)\n",
               e1, e2, val(r, "MAX_RERUNS"));
    } else {
        printf("estimated time: %s (no further repetitions: --max-reps is --reps); a cell "
               "disturbed by other work runs again (up to %s times)\n",
               e1, val(r, "MAX_RERUNS"));
    }
}
