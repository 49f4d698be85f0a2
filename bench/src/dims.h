/* dims: the one table of bench/run's dimensions and settings. Each row is an option of
 * bench/run, a field of a suite file and a make variable (the same upper-case name), with its
 * default, the models that take it (a column of the registry), its key in a cell's record and
 * its name in plots and exports. Option parsing and validation, --help, the Makefile's
 * pass-through (--from-make), bash completion (--options), the man page (--man) and
 * --dimensions all come from it: a new dimension is a row here and the lines that hand it to
 * the server or loadgen (cell.c). */
#ifndef DIMS_H
#define DIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum dim_kind {
    DIM_LIST,  /* a dimension: space-separated values, one cell per value */
    DIM_VALUE, /* a setting of the whole run: one value */
    DIM_RUN,   /* how bench/run runs (--out): not a suite field, not in run.json */
    DIM_FLAG,  /* an option without a value (--dry-run); its make variable is 1 or yes */
};

struct dim {
    const char *field;  /* suite field and make variable, e.g. "CONC" */
    const char *option; /* "--conc" */
    enum dim_kind kind;
    const char *def;      /* default ("" for none) */
    const char *json_key; /* its key in a cell's record, or NULL */
    const char *takes;    /* which models: NULL all, or the registry column (w, locks, ...) */
    const char *label;    /* its name in plots and tables, or NULL */
    const char *column;   /* its column in bench/export, or NULL */
    const char *metavar;
    const char *values; /* the values completion offers, space-separated, or NULL */
    const char *help;
    /* Checks one value (each word of a list): NULL, or what it should be. */
    const char *(*check)(const char *v);
    bool number;         /* a number in the cell's record ("-" there is null) */
    const char *id;      /* its part of a cell's id, a printf format ("-c%s"), or NULL */
    const char *id_omit; /* values left out of the id, '|'-separated, or NULL */
    /* The option of the server (srv) or of loadgen (lg) a value becomes, given as the value
     * itself, or NULL: none. Nothing is passed for - or an empty value, a zero duration, or a
     * value of plain ('|'-separated): the program's own default. */
    const char *srv, *lg, *plain;
};

extern const struct dim dims[];
extern const size_t ndims;

const struct dim *dim_by_option(const char *option);
const struct dim *dim_by_field(const char *field);
int dim_index(const char *field);
/* Its key in a cell's record (run.json's cells, the cell files' cell, summary.json's configs):
 * json_key, or for one whose json_key is a path in the cell file (server.cpus) the option's
 * name (server_cpus). NULL for a setting that is not in the record. */
const char *dim_record_key(const struct dim *d);

/* The table as JSON (--dimensions), the options for completion (--options), the options
 * part of --help, and a man page (--man). */
void dims_json(FILE *f);
void dims_options(FILE *f);
void dims_help(FILE *f);
void dims_man(FILE *f);

/* Checks of values, shared with the run's own checks. */
bool is_whole(const char *v);
bool is_positive(const char *v);
bool is_duration(const char *v);
bool is_zero_duration(const char *v);
bool is_number(const char *v); /* a decimal number, fraction allowed */
/* A CPU list as taskset takes it ("0-3,8"), into mask bits (at most 1024 CPUs), or "-". */
bool cpu_list(const char *v, unsigned char mask[128]);

#endif
