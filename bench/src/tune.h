/* tune.h: what the rooms of bench/tune share (bench/src/tune.c, the command line and the
 * order of the steps; tune_steps.c, bench/run as the measuring instrument and the steps;
 * tune_record.c, the record (tune.json) and the plots; tune_fit.c, --fit). */
#ifndef TUNE_H
#define TUNE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

#include "jdoc.h"
#include "registry.h"
#include "usl.h"

#define MAXV 32

struct list {
    long v[MAXV];
    size_t n;
};

/* One -w of the pool sweep: medians over its repetitions. */
struct pool_point {
    long workers;
    double rps, lo, hi, p99_us, cpu_ms;
    int reps, failed;
};

/* One burst size at one backlog, over its bursts. */
struct burst_point {
    long backlog, clients;
    int bursts, failed, overflowed; /* failed: no result; overflowed: with an overflow */
    long long overflows, drops;     /* summed over the bursts */
    long long errors;               /* clients not served (a stalled handshake times out) */
    double queue_peak;              /* the longest accept queue sampled, -1: none */
    bool own_counts;                /* overflows are the listener's own drops */
    double connect_p99_us;          /* the worst burst's */
};

/* One open-loop rate of the latency target's search. */
struct slo_point {
    double rate, rps, pct_us;
    long long errors;
    bool ok, pass;
};

struct tune {
    char here[PATH_MAX], bin[PATH_MAX], out[PATH_MAX], json[PATH_MAX];
    const struct model *model;
    struct registry reg;
    /* the workload, passed to bench/run as given */
    const char *work, *bytes, *mix, *think, *keep, *duration;
    struct list clients, workers, backlogs;
    int reps, bursts, slo_steps;
    bool quick, plots, takes_w;
    char slo_pct[8]; /* p99 ... */
    double slo_us;   /* 0: no target */
    /* preflight */
    long somaxconn, syn_backlog, syncookies, abort_on_overflow;
    struct rlimit nofile;
    const char *warnings[32];
    size_t nwarn;
    /* results */
    struct pool_point pool[MAXV];
    size_t npool;
    bool fitted;
    struct usl usl;
    char fit_err[128];
    long rec_w;   /* -1: the model takes no -w */
    long noise_w; /* a smaller -w whose interval reaches the best's, or -1 */
    double rec_rps, rec_p99_us, service_ms, busy_workers;
    struct burst_point bp[MAXV * 4];
    size_t nbp;
    long smallest_clean, rec_b; /* -1: none clean */
    long queue_need;            /* the longest accept queue sampled where none overflowed */
    struct slo_point sp[32];
    size_t nsp;
    double capacity; /* the closed-loop throughput the search starts from */
    int best_sp;     /* the highest passing rate, or -1 */
};

/* tune_steps.c: a number of a cell or summary at a path, def when absent or not a number. */
double tune_num(json_object *o, const char *path, double def);
/* The steps, in order: the kernel's limits, the pool sweep, the backlog bursts, the latency
 * target's search; each runs its bench/run suite into t->out and reads its cells. */
void tune_preflight(struct tune *t);
void tune_pool_step(struct tune *t);
void tune_backlog_step(struct tune *t);
void tune_slo_step(struct tune *t);

/* tune_record.c: the recommended server command line, the rate to drive it at for the
 * target, the record (t->json) and the plots (false when gnuplot failed). */
const char *tune_server_line(const struct tune *t);
const char *tune_slo_line(const struct tune *t);
void tune_write_record(const struct tune *t);
bool tune_draw(const struct tune *t);
/* JSON values: a number (null when not finite), a string (null for NULL), a USL fit. */
json_object *tune_jnum(double v);
json_object *tune_jstr(const char *s);
json_object *tune_usl_json(const struct usl *u);

/* tune_fit.c: bench/tune --fit FILE|RUN [--json OUT]; the exit status. */
int tune_fit_main(const char *path, const char *json_out);

#endif
