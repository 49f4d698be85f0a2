/* srv: the server runtime every model's main() shares: start-up (options, logging, signals,
 * listening socket, daemon mode, pid file, the "listening" line) and the closing "stats" line
 * (lib/srv.c); the stop signal and the bounded drain on SIGTERM (srv_stop.c); the accept loop
 * of the servers with one accepting thread (srv_accept.c); child processes (srv_kids.c); and
 * several loops on threads (srv_loops.c). A model file keeps only its concurrency skeleton
 * between srv_start() and srv_finish().
 *
 * Signals: SIGTERM, SIGINT, SIGCHLD and SIGHUP are blocked in every thread from start-up on
 * and taken synchronously from a signalfd (no asynchronous handlers at all); SIGPIPE is
 * ignored. The first SIGTERM or SIGINT drains, a second one (or the grace time) aborts. */
#ifndef SRV_H
#define SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "cli.h"
#include "pool.h"
#include "blocking.h"
#include "stats.h"

enum {
    SRV_NONBLOCK = 1 << 0,  /* the listening socket is polled before accept */
    SRV_THREADS = 1 << 1,   /* workers are threads: stop reaches them through eventfds */
    SRV_EVENT = 1 << 2,     /* an event loop: --max-clients caps connections, not workers */
    SRV_REUSEPORT = 1 << 3, /* the listener joins a SO_REUSEPORT group (after a check that
                               the address is free: a second server is refused, not joined) */
};

struct srv_model {
    const char *name; /* "iterative", "fork", ... */
    unsigned caps;    /* CAP_* of cli.h */
    unsigned flags;   /* SRV_* */
};

struct srv {
    const struct srv_model *model;
    struct srv_opts opt;
    int lfd;
    int port;
    int sigfd;
    struct stats *stats;
    struct serve_cfg serve;
    struct stop stop;
    struct timespec started;
    pid_t main_pid; /* the server's own process (after daemon mode's fork): its children's parent */
    int ready_fd;   /* daemon mode: the pipe to the waiting foreground process */
    _Atomic long pool_now, pool_peak; /* the stats line's workers and peak_workers */
    _Atomic long event_clients;       /* the event loops' clients, for --max-clients */
    _Atomic int loops_draining;       /* loops sharing one listener, not yet stopped */
    /* SRV_REUSEPORT over TCP without --balance exclusive: -w listeners of one SO_REUSEPORT
     * group, made before privileges are dropped (a group takes only sockets of one user);
     * group[0] is lfd. Otherwise ngroup is 0. */
    int *group;
    size_t ngroup;
    /* A model with several loops: their counters, for per_worker_connections */
    struct stats_slot **per_worker;
    size_t nper_worker;
    /* --stats-interval: a thread that prints a stats line every interval until the end */
    struct stats_ticker ticker;
};

/* Start-up: on any error prints a message and exits (2 for bad usage, 1 otherwise); it is
 * the one place besides main that may. On return the socket is bound and listening. */
void srv_start(struct srv *s, const struct srv_model *m, int argc, char **argv);

/* Announces readiness once the model's workers exist: the "listening" line on stdout (in
 * daemon mode, handed to the foreground process, which prints it and exits). With
 * --stats-interval it then starts the thread that prints the periodic stats lines (in this
 * process only: children made by fork() later do not have it). */
void srv_ready(struct srv *s);

/* A pool model's sizing rule from the spare options (lib/pool). With a dynamic pool whose
 * workers accept themselves, the listener gets a 1 s receive timeout, so that a worker idle
 * in accept() wakes to see that it is asked to leave. 0, or -1 (logged). */
int srv_pool_init(struct srv *s, struct pool_ctl *ctl);

/* A pool model reports its size as it changes (the stats line's workers, and peak_workers). */
void srv_pool_size(struct srv *s, long n);
/* A model with a worker per client reports how many it has (peak_workers only: its workers
 * stays the --max-clients cap). */
void srv_peak_workers(struct srv *s, long n);

/* Reads pending signals. Returns a mask of SRV_SIG_STOP (the stop level rose) and
 * SRV_SIG_CHLD. */
enum { SRV_SIG_STOP = 1, SRV_SIG_CHLD = 2 };
unsigned srv_signals(struct srv *s);

/* Raises the stop level (never lowers it) and wakes threaded workers. */
void srv_set_level(struct srv *s, int level);
int srv_level(struct srv *s);

/* In a child made by fork(): it dies with the server (SIGKILL when the server's process ends,
 * however it ends: no worker outlives a server killed with -9), and its own signalfd for
 * SIGTERM/SIGINT, at level 0, as s->stop. 0, or -1 with errno set (ESRCH: the server was
 * already gone). */
int srv_child_init(struct srv *s);

/* One accept on s->lfd. Returns 1 with *fd set; 0 when there is nothing to take this time
 * (nothing pending, or descriptors exhausted and accepting paused briefly); -1 when the
 * listener is gone (shut down for a stop, or an unexpected error, which is logged). */
int srv_accept(struct srv *s, int *fd, struct sockaddr_storage *peer, socklen_t *len);

/* The loop of a server with one accepting thread (iterative, fork, thread): waits on the
 * signals, on wakefd when it is not -1, and on the listener unless paused(arg) says a cap is
 * reached; gives every accepted connection to on_conn, which owns it from then on; runs
 * on_chld(arg) after SIGCHLD and on_wake(arg) when wakefd is readable. Returns when a stop
 * begins or the listener fails. */
struct srv_loop {
    void (*on_conn)(void *arg, int fd, struct sockaddr_storage *peer, socklen_t len);
    bool (*paused)(void *arg);
    void (*on_chld)(void *arg);
    int wakefd;
    void (*on_wake)(void *arg);
    void *arg;
};
void srv_accept_loop(struct srv *s, const struct srv_loop *l);

/* Serves one accepted connection and closes it, counting in the worker's slot w (from
 * stats_claim(s->stats)). */
void srv_serve(struct srv *s, struct stats_slot *w, int fd, const struct sockaddr_storage *peer,
               socklen_t len);

/* Child processes by slot (prefork keeps a fixed slot per child). */
struct srv_kids {
    pid_t *pid; /* 0: free slot */
    size_t cap, live;
};
int srv_kids_init(struct srv_kids *k, size_t cap);
void srv_kids_free(struct srv_kids *k);
/* Stores pid in a free slot (growing the table); returns the slot or -1 (ENOMEM). */
long srv_kids_add(struct srv_kids *k, pid_t pid);
/* Reaps every exited child without blocking; for each calls done(slot, status, arg) when
 * done is not NULL. Returns the number reaped. */
size_t srv_kids_reap(struct srv_kids *k, void (*done)(size_t slot, int status, void *arg),
                     void *arg);
void srv_kids_kill(struct srv_kids *k, int sig);

/* The end of a server with child processes: SIGTERM to every child, then srv_drain until all
 * are reaped (SIGKILL at the grace deadline or on a second signal); done as in
 * srv_kids_reap. */
void srv_kids_drain(struct srv *s, struct srv_kids *k,
                    void (*done)(size_t slot, int status, void *arg), void *arg);

/* The drain after the first SIGTERM: waits until live(arg) is 0. wakefd (or -1) is an eventfd
 * that workers write when they finish. reap(arg) runs on SIGCHLD and on every wake; at the
 * grace deadline or on a second signal the level goes to 2 and abort(arg) runs once. */
struct srv_drain_ops {
    size_t (*live)(void *arg);
    void (*reap)(void *arg);
    void (*abort)(void *arg);
    int wakefd;
    void *arg;
};
void srv_drain(struct srv *s, const struct srv_drain_ops *ops);

/* The closing: stats line on stdout (and --stats FILE), pid file and socket file removed.
 * Returns the process exit status. */
int srv_finish(struct srv *s);

/* Several loops, a thread each (reuseport-srv, uring-srv): runs run(args + i * size) on n
 * threads, announces readiness (srv_ready) once all have started, then reads the signals on
 * the calling thread (raising the stop level is what stops the loops) until every thread has
 * returned, and joins them. When a thread cannot start, the ones started are stopped (level
 * 2) and -1 is returned (logged); otherwise 0. */
int srv_run_loops(struct srv *s, size_t n, void *(*run)(void *), void *args, size_t size);

#endif
