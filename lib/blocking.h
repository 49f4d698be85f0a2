/* serve: the blocking driver of a conn (lib/conn.h), the same for every blocking model. The
 * conn says what the protocol needs next (greeting, request line, sieve, payload, ERR line,
 * linger); serve does each step's I/O and waits here, every wait bounded by the timeout and
 * cut short by the stop descriptor, so a drain on SIGTERM never waits on an idle client. */
#ifndef SERVE_H
#define SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conn.h"
#include "proto.h"
#include "stats.h"

/* How a worker learns that the server is stopping. level: 0 running, 1 draining (finish the
 * request in progress, take no new one), 2 aborting (drop everything now).
 *
 * When own_signals is set, fd and abort_fd are both this process's signalfd for SIGTERM and
 * SIGINT, and serve_stop_level() reads it: one signal drains, a second aborts. Otherwise
 * another thread sets level and makes fd readable at level 1 and abort_fd readable at level 2
 * (eventfds that are never drained, so every worker sees them). */
struct serve_stop {
    int fd;
    int abort_fd;
    bool own_signals;
    int listen_fd;         /* with own_signals: a listener stopped (net_stop_accepting) as soon as a
                            * stop is seen, by a process that accepts and serves in one thread; or -1 */
    int grace_ms;          /* with own_signals: the drain turns into an abort after this long */
    long long abort_at_ms; /* set when the drain begins (monotonic ms) */
    atomic_int level;
};

/* The descriptor to poll while at the given level. */
static inline int serve_stop_fd(const struct serve_stop *st, int level)
{
    return level == 0 ? st->fd : st->abort_fd;
}

/* The current level, without a syscall; with own_signals it moves from draining to aborting
 * once the grace time is over. */
int serve_stop_level(struct serve_stop *st);

/* With own_signals, first takes any pending SIGTERM/SIGINT (one step each) from the
 * signalfd; then the current level. Called when st->fd was seen readable. */
int serve_stop_signals(struct serve_stop *st);

struct serve_cfg {
    char greeting[PROTO_GREETING_MAX + 1]; /* "\n"-terminated */
    struct conn_cfg conn;                  /* the greeting and limits, for each conn */
    int timeout_ms;                        /* -1: none */
};

/* Formats cfg->greeting for model and pid, and points cfg->conn at it (so cfg must not be
 * copied afterwards). */
void serve_greeting(struct serve_cfg *cfg, const char *model, long pid);

/* Serves fd until the client closes, errs, times out, or a stop ends it, counting in the
 * caller's slot w (each request as it is answered). Does not close fd. Returns the number of
 * requests answered in full. */
uint64_t serve_conn(const struct serve_cfg *cfg, struct serve_stop *st, struct stats_slot *w,
                    int fd, const struct sockaddr *peer, socklen_t peerlen);

/* Adds a conn's tally to a worker's slot. */
void serve_count(struct stats_slot *w, struct conn_tally t);

#endif
