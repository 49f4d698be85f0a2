/* stop: how a worker learns that its server is stopping, whatever drives its connections.
 * The server's side (signals in, the level raised) is lib/srv_stop.c; the descriptors a stop
 * is seen on are made here. */
#ifndef STOP_H
#define STOP_H

#include <stdatomic.h>
#include <stdbool.h>

/* How a worker learns that the server is stopping. level: 0 running, 1 draining (finish the
 * request in progress, take no new one), 2 aborting (drop everything now).
 *
 * When own_signals is set, fd and abort_fd are both this process's signalfd for SIGTERM and
 * SIGINT, and stop_level() reads it: one signal drains, a second aborts. Otherwise
 * another thread sets level and makes fd readable at level 1 and abort_fd readable at level 2
 * (eventfds that are never drained, so every worker sees them). */
struct stop {
    int fd;
    int abort_fd;
    bool own_signals;
    int listen_fd;         /* with own_signals: a listener stopped (net_stop_accepting) as soon as a
                            * stop is seen, by a process that accepts and serves in one thread; or -1 */
    int grace_ms;          /* with own_signals: the drain turns into an abort after this long */
    long long abort_at_ms; /* set when the drain begins (monotonic ms) */
    bool says;             /* with own_signals: the server's own process, which logs each stop */
    atomic_int level;
};

/* The descriptor to poll while at the given level. */
static inline int stop_fd(const struct stop *st, int level)
{
    return level == 0 ? st->fd : st->abort_fd;
}

/* The current level, without a syscall; with own_signals it moves from draining to aborting
 * once the grace time is over. */
int stop_level(struct stop *st);

/* With own_signals, first takes any pending SIGTERM/SIGINT (one step each) from the
 * signalfd; then the current level. Called when st->fd was seen readable. */
int stop_signals(struct stop *st);

/* A signalfd for SIGTERM and SIGINT, and with with_chld SIGCHLD and SIGHUP too; -1 on error
 * (errno). The signals are blocked by the caller. */
int stop_signalfd(bool with_chld);

/* The stop of a server whose workers are threads: the eventfds the level makes readable (not
 * own_signals). 0, or -1 (errno) with nothing left open. */
int stop_threads_init(struct stop *st);

/* Logs a stop signal taken, level the level it raised: the one line every model writes,
 * which a user (and a test) reads to know that the signal was seen. */
void stop_log(int signo, int level);

#endif
