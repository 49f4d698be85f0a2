/* run.h: what the rooms of bench/run share (run.c, run_check.c, run_json.c). */
#ifndef RUN_H
#define RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "orch.h"

/* run_check.c: the suite file at path into r's values (given: those set on the command line,
 * which the file does not change); then every value checked, the models resolved, the CPUs
 * placed, before the first cell (bad() on the first that fails). */
void run_read_suite(struct run *r, const char *path, bool *given);
void run_check_all(struct run *r);

/* run_json.c: the time now (UTC, ISO 8601), run.json made for a new run, written again
 * (key set to v, taken; NULL key: the cells only), and read back for --resume DIR; whether
 * s is a suite's name (a file of bench/suites, no path). */
void run_iso_now(char *b, size_t n);
void run_json_new(struct run *r);
void run_json_save(struct run *r, const char *key, json_object *v);
void run_load_resume(struct run *r, const char *where);
bool run_suite_name(const char *s);

#endif
