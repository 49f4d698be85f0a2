/* blocking: the blocking driver of a conn (lib/conn.h), the same for every blocking model
 * (iterative, fork, thread, prefork, prethread). The conn says what the protocol needs next
 * (greeting, request line, sieve, payload, ERR line, linger); the driver does each step's I/O
 * and waits here, every wait bounded by the timeout and cut short by the stop descriptor, so a
 * drain on SIGTERM never waits on an idle client. */
#ifndef BLOCKING_H
#define BLOCKING_H

#include <stdint.h>
#include <sys/socket.h>

#include "serve.h"
#include "stats.h"
#include "stop.h"

/* Serves fd until the client closes, errs, times out, or a stop ends it, counting in the
 * caller's slot w (each request as it is answered). Does not close fd. Returns the number of
 * requests answered in full. */
uint64_t blocking_serve(const struct serve_cfg *cfg, struct stop *st, struct stats_slot *w, int fd,
                        const struct sockaddr *peer, socklen_t peerlen);

#endif
