/* cell.h: what the rooms of one cell share (cell.c, one cell; cell_where.c, where commands
 * run; cell_machine.c, what the machine says; cell_hosts.c, loadgen on several hosts). */
#ifndef CELL_H
#define CELL_H

#include <stdbool.h>
#include <stddef.h>

#include "jdoc.h"
#include "orch.h"
#include "snap.h"

/* cell_where.c: argv as it runs where the server runs (into out, n entries with NULL); a
 * command run quietly, its output into out (NULL: none kept), its status; whether loadgen's
 * exit status st is a measurement (0, or 4: nothing answered). */
void cell_at_server(const struct run *r, const char *const *argv, const char **out, size_t n);
int cell_run_quiet(const char *const *argv, char *out, size_t n);
bool cell_lg_measured(int st);

/* cell_machine.c: a TcpExt counter of /proc/net/netstat where the server runs (0 when
 * unreadable); the interference object of a cell between snapshots a and b (NULL into *out
 * when there is none) and its why (NULL when not disturbed). */
long long cell_netstat_field(struct run *r, const char *name);
const char *cell_interference(struct run *r, json_object **out, const struct snap *a,
                              const struct snap *b, json_object *stats);

/* cell_hosts.c: loadgen on every client host at once, the results merged into log.lg.json,
 * the hosts' records into *hosts_json; false with the error in err. */
bool cell_run_clients(struct run *r, const char *id, const char *log, long conc, const char *rate,
                      long idle, const char **lg, size_t nlg, json_object **hosts_json, char *err,
                      size_t errlen);

#endif
