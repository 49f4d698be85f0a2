/* reactor: the event-driven server core shared by reactor-srv and reactor-pool-srv. One
 * thread runs one event loop (lib/loop, with the poller of --poller) that accepts, greets,
 * reads request lines, sends payloads and keeps every timer for all clients, each a conn
 * (lib/conn) driven from readiness. Work per event is bounded (64 KiB written, 16 requests
 * answered) so that one client cannot starve the rest. --timeout bounds a whole request line
 * and each wait of a client that does not read; EMFILE takes the listener out of the poller
 * for a while (a timer: the loop never sleeps); --max-clients stops watching the listener.
 * SIGTERM refuses new clients, closes those between requests and lets the others finish
 * within the grace time.
 *
 * What happens to a whole request is the model's choice: without ops the sieve runs on the
 * loop thread (reactor-srv); with ops->offload it is handed to other threads, which call
 * reactor_work() there, and the loop takes the client back when reactor_work_done() is called
 * on the loop thread (reactor-pool-srv). */
#ifndef REACTOR_H
#define REACTOR_H

#include <stdbool.h>
#include <stdint.h>

struct srv;
struct reactor;
struct client;

struct reactor_ops {
    /* Once the loop exists, before the listening line: start the workers. 0 or -1. */
    int (*start)(void *arg, struct reactor *r);
    /* A request of cl is whole: take its WORK. Returns false when it cannot be taken now
     * (the queue is full); the reactor then stops reading requests and offers it again
     * after the next reactor_work_done(). */
    bool (*offload)(void *arg, struct client *cl, uint64_t work);
    /* After the loop ends: stop and join the workers. */
    void (*stop)(void *arg);
    void *arg;
    /* A request with WORK at most this is counted on the loop thread: its sieve costs less
     * than the two hand-offs would. */
    uint64_t inline_work;
};

/* Runs the server until it has stopped. 0, or -1 when the poller failed (logged). */
int reactor_run(struct srv *s, const struct reactor_ops *ops);

/* Several loops, one per thread (reuseport-srv): the parts of reactor_run. Each loop has its
 * own listener (lfd: one of a SO_REUSEPORT group, REACTOR_SHARED) or watches the server's
 * with EPOLLEXCLUSIVE (REACTOR_SHARED | REACTOR_EXCLUSIVE; s->loops_draining set to the
 * number of loops first). A shared loop takes its stop from the server's stop eventfds (the
 * main thread reads the signals: srv SRV_THREADS); --max-clients counts the clients of every
 * loop. reactor_new: NULL with errno. reactor_serve runs the loop on the calling thread until
 * it has stopped: 0, or -1 when the poller failed (logged). */
enum { REACTOR_SHARED = 1, REACTOR_EXCLUSIVE = 2 };
struct reactor *reactor_new(struct srv *s, const struct reactor_ops *ops, int lfd, unsigned flags);
int reactor_serve(struct reactor *r);
void reactor_free(struct reactor *r);
/* The loop's counters (its connections: the stats line's per_worker_connections). */
struct stats_slot *reactor_slot(struct reactor *r);

/* On a worker thread, with cl handed over by offload: runs the sieve of its request and writes
 * the answer as far as the socket takes it without blocking, as a worker of Apache's event
 * MPM does; the loop completes what is left ("write completion"), reads the next request and
 * keeps the timers. Until reactor_work_done() the loop does not touch cl. */
void reactor_work(struct client *cl, uint64_t work);

/* On the loop thread: cl is back from reactor_work(). */
void reactor_work_done(struct client *cl);

/* The loop of r, to watch a descriptor of the model's (the workers' eventfd). */
struct loop *reactor_loop(struct reactor *r);

#endif
