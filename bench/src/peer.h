/* peer: nginx driven by wrk beside the models (peer.c). */
#ifndef PEER_H
#define PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "orch.h"
#include "snap.h"

enum { PEER_OK, PEER_SKIPPED, PEER_FAILED };

/* A name --peers takes (nginx). */
bool peer_known(const char *name);
/* A model of the matrix that is a peer's: nginx (one worker), nginx-cpus (one per CPU). */
bool is_peer_model(const char *model);

/* Runs the peer's cell: its result as log.lg.json, its stats line into *stats (malloc'd),
 * the machine's snapshots around the measured run. PEER_OK, or PEER_SKIPPED / PEER_FAILED
 * with the reason in err. */
int peer_cell(struct run *r, const struct cell *c, const char *log, const unsigned char *scpus,
              const unsigned char *ccpus, char *err, size_t errlen, char **stats, struct snap *s0,
              struct snap *s1);

#endif
