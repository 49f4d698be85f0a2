/* orch: what bench/run's parts share: the run (its settings from the table of dimensions,
 * its directory, the registry) and the cell, a record with one value per dimension. */
#ifndef ORCH_H
#define ORCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "dims.h"
#include "jdoc.h"
#include "registry.h"

#define MAX_DIMS 64

/* A cell: a value for every dimension (the table's DIM_LIST rows, by index; "-" where the
 * dimension does not apply to its model), its repetition, the round that added it and the
 * block it runs in (the contenders of one configuration measured back to back; 0: none, a
 * run made before blocks). */
struct cell {
    const char *v[MAX_DIMS];
    int rep, round, block;
    bool known; /* this run has read its result (rps), for the order of later blocks */
    double rps; /* its throughput, -1: none (failed, skipped) */
};

/* A server started before its cell: a block's servers listen together before the first of its
 * cells is measured, so that no cell's measurement follows a server's start (cell_block_up). */
#define WARM_MAX 64
struct warm_srv {
    char id[512]; /* its cell's id */
    pid_t pid;
    char port[16], rpid[32];
    long long t_ns; /* when it was started (CLOCK_REALTIME) */
};

struct run {
    char here[PATH_MAX], bin[PATH_MAX], results[PATH_MAX], suites[PATH_MAX];
    char dir[PATH_MAX];
    char suite[64];
    const char *val[MAX_DIMS]; /* every row's value */
    bool dry, plots, resume, out_given;
    struct registry reg;
    struct cell *cells; /* the order: run.json's cells */
    size_t ncells, cap;
    json_object *doc;               /* run.json as written */
    const char *placement_note;     /* what CPU placement did, or NULL */
    pid_t srv_pid;                  /* the server of the cell under way, -1: none */
    char srv_rpid[32];              /* its pid on --server-host, "" when not there */
    struct warm_srv warm[WARM_MAX]; /* the block's servers waiting for their cells */
    size_t nwarm;
    int warm_block; /* the block cell_block_up last started, 0: none */
    bool have_doc;
    /* where the server and loadgen run */
    char srv_ns[32], cli_ns[32], srv_host[256], netem_reason[512];
    unsigned char srv_cpus[128], cli_cpus[128];
    long hz;
    int foreign_max, steal_max;
};

/* Interned strings, freed at exit. */
const char *intern(const char *s);
const char *internf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A value of the run (a row of the table by its field name). */
const char *val(const struct run *r, const char *field);
/* A cell's value of the dimension named field. */
const char *cv(const struct cell *c, const char *field);
/* The second name of the baseline's A/A copy (bench/run --aa): MODEL~aa. */
#define AA_SUFFIX "~aa"
/* The model a cell runs: its model's name, without AA_SUFFIX. */
const char *cell_model(const struct cell *c);
/* The cell's id (its file name without .json), into buf. */
const char *cell_id(const struct cell *c, bool with_rep, char *buf, size_t n);
/* The cell record (its value of every dimension) as a JSON object, for run.json and cell files. */
json_object *cell_record(const struct cell *c);
/* Its repetition, and for run.json (with_round) its round past the first and its block. */
void cell_record_rep(json_object *o, const struct cell *c, bool with_round);

/* snprintf whose cut is deliberate (paths and messages bounded by their buffer). */
void bufprintf(char *b, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Messages: die exits 1, bad exits 2 (bad usage); each begins with prog_name (bench/run). */
extern const char *prog_name;
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file (NUL-terminated, *len its length); NULL when it cannot. */
char *slurp(const char *path, size_t *len);
/* The last line of a file (without its newline) into b; empty when it cannot be read. */
void last_line(const char *path, char *b, size_t n);
/* The checkout bench/run and bench/tune belong to: BENCH_ROOT (their sh wrappers set it), or
 * two levels above the running binary (bin/<program>). */
void checkout_dir(const char *argv0, char *here, size_t n);
/* The first line of a file (without its newline) into b; empty when it cannot be read. */
void first_line(const char *path, char *b, size_t n);
/* Parses a JSON file into v; false when missing or not JSON. */
bool read_json(const char *path, json_object **v);
/* Writes the memory stream's text to path whole (temporary file and rename). */
bool write_whole(const char *path, const char *text, size_t len);
/* Writes doc to path whole, compact on one line or pretty, as write_whole. */
bool write_json(const char *path, json_object *doc, bool pretty);

/* The next line of f, whole whatever its length, into *buf (grown as needed, NUL-terminated,
 * without its "\n"): its length, -1 at the end of the file, -2 when it holds a NUL byte (a
 * text file has none: the rest of the line would be lost without a word). */
long read_text_line(FILE *f, char **buf, size_t *cap);

/* matrix.c: the cells. */
void add_cell(struct run *r, const struct cell *c);
/* The words of s (spaces and tabs), interned, into out; their count. */
size_t split_words(const char *s, const char **out, size_t max);
/* The matrix of the run's values into r->cells (the rated cells after the others), shuffled
 * with the seed when shuffled. */
void build_matrix(struct run *r, bool shuffled);
/* Shuffles c[0..n) with seed (the same order for the same seed everywhere). */
void shuffle(struct cell *c, size_t n, uint64_t seed);
void shuffle_index(size_t *v, size_t n, uint64_t seed);
/* Orders c[0..n) in blocks: the cells of one configuration and repetition (every model and
 * its own settings) back to back in a random order, the blocks in a random order, numbered
 * from first in the order they run. */
void in_blocks(struct cell *c, size_t n, uint64_t seed, int first);
/* The number a new block takes: one above the run's highest. */
int next_block(const struct run *r);
/* A model's own settings (a dimension a registry column selects: -w, the lock, the accept
 * mode, the pool's sizing, the poller); the rest but the model is the configuration. */
bool dim_is_own(const struct dim *d);
/* --dry-run: each configuration, its repetitions and seconds per cell, the estimated time. */
void dry_run(struct run *r);
/* A duration (2s, 500ms, 0) in seconds, 0 for none; seconds as 1m05s. */
double dur_s(const char *d);
void fmt_eta(char *b, size_t n, long s);

/* cell.c: the machine, the hosts, one cell. */
void cell_setup(struct run *r);    /* --netem, --server-host: where things run */
void cell_teardown(struct run *r); /* also at exit */
void run_attempts(struct run *r, const struct cell *c);
/* The servers of the n cells of a block (those not yet measured that run a server of their
 * own on this machine) started together, each waiting for its cell; those still waiting
 * stopped. */
void cell_block_up(struct run *r, const struct cell *c, size_t n);
void cell_block_down(struct run *r);
void context_records(struct run *r, json_object *ctx); /* run.json's context beyond the basics */
/* The argv that runs argv on host through pdsh; into out (at most n entries with NULL). */
void remote_argv(const struct run *r, const char *host, const char *const *argv, const char **out,
                 size_t n);
#endif
