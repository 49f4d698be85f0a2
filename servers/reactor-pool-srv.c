/* reactor-pool-srv: half-sync/half-async, as Apache's event MPM. One loop thread (the reactor
 * of reactor-srv) owns accepting, greetings, reading request lines, every timeout and the
 * clients that wait; a whole request goes through a bounded queue to -w worker threads, and a
 * worker runs the sieve, writes the answer as far as the socket takes it without blocking,
 * and hands the client back through an eventfd; the loop sends what is left (Apache's "write
 * completion") and reads the next request. A request with WORK up to 10,000 is answered on
 * the loop: its sieve costs less than the hand-offs. Its strength: idle and slow clients cost
 * the loop a descriptor and a timer, never a worker, and a long sieve holds one worker
 * instead of every client. Its cost: two hand-offs per request (a mutex, a condition variable
 * and an eventfd write) and a thread switch each way. When the queue is full the loop stops
 * reading requests until a worker frees a place (back-pressure; Stevens' serv08 aborts when
 * its ring fills), so memory stays bounded whatever the load. Why the worker writes: on
 * loopback the sender also runs the receiver's TCP path, so a loop that sent every payload
 * itself spent a whole core on copies and capped the server at that core (measured: the loop
 * thread at 100% CPU, 0.8x prethread-srv on the book workload). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "reactor.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

#define QUEUE_PER_WORKER 4 /* the queue holds 4 requests per worker */
/* A sieve up to 10,000 takes a few microseconds, less than the hand-off to a worker and back
 * (two wake-ups and thread switches): such requests are answered on the loop thread. */
#define INLINE_WORK 10000

struct job {
    struct client *cl;
    uint64_t work;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *queue; /* requests waiting for a worker: a ring of cap */
    size_t cap, head, len;
    struct job *done; /* counted, waiting for the loop */
    size_t ndone;
    size_t outstanding; /* queued + being counted + done: at most cap, so done never overflows */
    bool closing;
    int efd; /* written by a worker when it adds to done */
    pthread_t *tids;
    long nthreads;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->closing && p->len == 0)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->len == 0)
            break; /* closing, and nothing left */
        struct job j = p->queue[p->head];
        p->head = (p->head + 1) % p->cap;
        p->len--;
        pthread_mutex_unlock(&p->mu);
        reactor_work(j.cl, j.work);
        pthread_mutex_lock(&p->mu);
        p->done[p->ndone++] = j;
        uint64_t one = 1;
        if (p->ndone == 1 && write(p->efd, &one, sizeof one) < 0)
            log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static bool offload(void *arg, struct client *cl, uint64_t work)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->mu);
    bool room = p->outstanding < p->cap;
    if (room) {
        p->queue[(p->head + p->len) % p->cap] = (struct job){cl, work};
        p->len++;
        p->outstanding++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return room;
}

/* On the loop thread: the counted requests, handed back to their clients. */
static void on_done(struct loop *l, int fd, unsigned events, void *arg)
{
    struct pool *p = arg;
    (void)l;
    (void)events;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
    struct job batch[256];
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t n = p->ndone < 256 ? p->ndone : 256;
        memcpy(batch, p->done + p->ndone - n, n * sizeof *batch);
        p->ndone -= n;
        p->outstanding -= n;
        pthread_mutex_unlock(&p->mu);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++)
            reactor_work_done(batch[i].cl);
    }
}

static int start(void *arg, struct reactor *r)
{
    struct pool *p = arg;
    if (loop_add(reactor_loop(r), p->efd, LOOP_READ, on_done, p) < 0)
        return -1;
    for (long i = 0; i < p->nthreads; i++) {
        int e = pthread_create(&p->tids[i], NULL, worker, p);
        if (e != 0) {
            errno = e;
            p->nthreads = i;
            return -1;
        }
    }
    return 0;
}

static void stop(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    p->len = 0; /* what no worker has taken yet is dropped with its client */
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (long i = 0; i < p->nthreads; i++)
        pthread_join(p->tids[i], NULL);
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"reactor-pool", CAPS_reactor_pool,
                                           SRV_NONBLOCK | SRV_EVENT};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    struct pool p = {.nthreads = s.opt.workers};
    p.cap = (size_t)s.opt.workers * QUEUE_PER_WORKER;
    p.queue = calloc(p.cap, sizeof *p.queue);
    p.done = calloc(p.cap, sizeof *p.done);
    p.tids = calloc((size_t)p.nthreads, sizeof *p.tids);
    p.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!p.queue || !p.done || !p.tids || p.efd < 0 || pthread_mutex_init(&p.mu, NULL) ||
        pthread_cond_init(&p.cv, NULL)) {
        log_msg(LOG_ERR, "worker pool: %s", strerror(errno));
        return 1;
    }
    struct reactor_ops ops = {start, offload, stop, &p, INLINE_WORK};
    reactor_run(&s, &ops);
    close(p.efd);
    free(p.queue);
    free(p.done);
    free(p.tids);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    return srv_finish(&s);
}
