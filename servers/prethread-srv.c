/* prethread-srv: a pool of threads made in advance, each blocking in accept() on the shared
 * listening socket (the book's fifth model). Nothing is created per connection, so CPU per
 * request is close to the iterative server's while as many clients as threads are served at
 * once. The cost: at most that many clients in service (the rest wait in the backlog, so an
 * idle client holds a thread until --timeout), and no isolation between requests. Linux wakes
 * one thread per connection in accept(); --accept-lock mutex serialises accept() as the book
 * does, for kernels that wake them all. The pool is -w threads, or, with the spare options,
 * sized as Apache's worker MPM does: the main thread counts idle threads once a second,
 * starts more when too few are idle (doubling up to 32 a second) and retires one when too
 * many are, never above --max-workers; the listener then has a 1 s receive timeout so that an
 * idle thread blocked in accept() wakes to see that it is asked to leave. With --accept main
 * the main thread accepts instead (Stevens' serv08) and hands each descriptor to the pool
 * through a bounded queue; when the queue is full it stops accepting until a worker takes
 * one (serv08 aborts instead). One accepting thread means no herd and no lock, and costs a
 * hand-off (a condition variable) per connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "net.h"
#include "pool.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

enum { W_FREE, W_RUNNING, W_EXITED };

struct prethread_srv;
struct worker_slot {
    struct prethread_srv *p;
    pthread_t tid;
    int state; /* W_*, under p->mu */
};

struct prethread_srv {
    struct srv *s;
    bool use_lock;
    pthread_mutex_t accept_mu;
    pthread_mutex_t mu; /* live, retire and the slots' states */
    size_t live;
    long retire;       /* idle threads asked to leave, not yet gone */
    _Atomic long idle; /* threads waiting for a connection */
    struct worker_slot *slots;
    size_t nslots; /* -w, or --max-workers for a dynamic pool */
    int donefd;    /* a thread that ends adds 1 */
    /* --accept main: connections the main thread accepted, waiting for a worker (under mu) */
    struct queued {
        int fd;
        socklen_t len;
        struct sockaddr_storage peer;
    } * queue;
    size_t qcap, qhead, qlen;
    bool closing;
    pthread_cond_t qcv;
    int roomfd; /* a worker that takes from a full queue adds 1: accept again */
};

static size_t live_count(void *arg)
{
    struct prethread_srv *p = arg;
    pthread_mutex_lock(&p->mu);
    size_t n = p->live;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* True (and the request taken) when this idle thread is to leave the pool. */
static bool retiring(struct prethread_srv *p)
{
    pthread_mutex_lock(&p->mu);
    bool r = p->retire > 0;
    if (r)
        p->retire--;
    pthread_mutex_unlock(&p->mu);
    return r;
}

/* --accept main: the next queued connection, or false when this thread is to leave (the
 * pool is closing, or it was asked to retire while idle). */
static bool take_queued(struct prethread_srv *p, struct queued *q)
{
    pthread_mutex_lock(&p->mu);
    while (p->qlen == 0 && !p->closing && p->retire == 0)
        pthread_cond_wait(&p->qcv, &p->mu);
    bool got = p->qlen > 0;
    if (got) {
        bool was_full = p->qlen == p->qcap;
        *q = p->queue[p->qhead];
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
        uint64_t one = 1;
        if (was_full && write(p->roomfd, &one, sizeof one) < 0)
            log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
    } else if (!p->closing) {
        p->retire--;
    }
    pthread_mutex_unlock(&p->mu);
    return got;
}

static void *worker(void *arg)
{
    struct worker_slot *me = arg;
    struct prethread_srv *p = me->p;
    struct srv *s = p->s;
    struct stats_slot *w = stats_claim(s->stats);
    atomic_fetch_add(&p->idle, 1);
    while (s->opt.accept == ACCEPT_MAIN) {
        struct queued q;
        if (!take_queued(p, &q))
            break;
        atomic_fetch_sub(&p->idle, 1);
        srv_serve(s, w, q.fd, &q.peer, q.len);
        atomic_fetch_add(&p->idle, 1);
    }
    while (s->opt.accept == ACCEPT_SELF && srv_level(s) == 0) {
        struct sockaddr_storage peer;
        socklen_t len;
        int fd;
        if (p->use_lock)
            pthread_mutex_lock(&p->accept_mu);
        int r = srv_accept(s, &fd, &peer, &len);
        if (p->use_lock)
            pthread_mutex_unlock(&p->accept_mu);
        if (r < 0)
            break;
        if (r > 0) {
            atomic_fetch_sub(&p->idle, 1);
            srv_serve(s, w, fd, &peer, len);
            atomic_fetch_add(&p->idle, 1);
        }
        if (p->s->opt.dynamic && retiring(p))
            break;
    }
    atomic_fetch_sub(&p->idle, 1);
    stats_release(w);
    /* Decrement and notify under one lock: whoever wakes sees the new count, and the main
     * thread cannot see 0 (and close donefd) before the write. */
    uint64_t one = 1;
    pthread_mutex_lock(&p->mu);
    p->live--;
    me->state = W_EXITED;
    if (write(p->donefd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts up to n threads in free slots; returns how many started. */
static long start_workers(struct prethread_srv *p, long n)
{
    long started = 0;
    for (size_t i = 0; i < p->nslots && started < n; i++) {
        struct worker_slot *ws = &p->slots[i];
        pthread_mutex_lock(&p->mu);
        bool free_slot = ws->state == W_FREE;
        if (free_slot) {
            ws->state = W_RUNNING;
            p->live++;
        }
        pthread_mutex_unlock(&p->mu);
        if (!free_slot)
            continue;
        int e = pthread_create(&ws->tid, NULL, worker, ws);
        if (e != 0) {
            log_msg(LOG_ERR, "worker %zu: pthread_create: %s; continuing without it", i,
                    strerror(e));
            pthread_mutex_lock(&p->mu);
            ws->state = W_FREE;
            p->live--;
            pthread_mutex_unlock(&p->mu);
            if (e == EAGAIN && p->s->opt.dynamic)
                break; /* out of threads or memory: the next tick tries again */
            continue;
        }
        started++;
    }
    srv_pool_size(p->s, (long)live_count(p));
    return started;
}

/* Joins the threads that have left (retired, or ended on an accept error). */
static void join_exited(struct prethread_srv *p)
{
    for (size_t i = 0; i < p->nslots; i++) {
        struct worker_slot *ws = &p->slots[i];
        pthread_mutex_lock(&p->mu);
        bool exited = ws->state == W_EXITED;
        pthread_mutex_unlock(&p->mu);
        if (!exited)
            continue;
        pthread_join(ws->tid, NULL);
        pthread_mutex_lock(&p->mu);
        ws->state = W_FREE;
        pthread_mutex_unlock(&p->mu);
    }
}

/* Once a second with a dynamic pool: the sizing rule of lib/pool. */
static void maintain(struct prethread_srv *p, struct pool_ctl *ctl)
{
    join_exited(p);
    long live = (long)live_count(p), idle = atomic_load(&p->idle);
    pthread_mutex_lock(&p->mu);
    idle -= p->retire; /* those already asked to leave are not spares */
    pthread_mutex_unlock(&p->mu);
    long n = pool_tick(ctl, live, idle);
    if (n > 0) {
        start_workers(p, n);
    } else if (n < 0) {
        pthread_mutex_lock(&p->mu);
        p->retire++;
        pthread_cond_broadcast(&p->qcv); /* --accept main: an idle worker waits there */
        pthread_mutex_unlock(&p->mu);
    }
    srv_pool_size(p->s, (long)live_count(p));
}

/* --accept main: takes what the listener has, while the queue has room. -1 when the listener
 * failed (logged), else 0. */
static int accept_into_queue(struct prethread_srv *p)
{
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool room = p->qlen < p->qcap;
        pthread_mutex_unlock(&p->mu);
        if (!room)
            return 0;
        struct queued q;
        q.len = sizeof q.peer;
        int r = srv_accept(p->s, &q.fd, &q.peer, &q.len);
        if (r <= 0)
            return r;
        pthread_mutex_lock(&p->mu);
        p->queue[(p->qhead + p->qlen) % p->qcap] = q;
        p->qlen++;
        pthread_cond_signal(&p->qcv);
        pthread_mutex_unlock(&p->mu);
    }
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"prethread", CAPS_prethread, SRV_THREADS};
    struct srv s;
    struct prethread_srv p = {
        .s = &s, .accept_mu = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER};
    srv_start(&s, &model, argc, argv);
    p.use_lock = s.opt.lock == LOCK_MUTEX;
    p.donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    p.nslots = (size_t)(s.opt.dynamic ? s.opt.max_workers : s.opt.workers);
    p.slots = calloc(p.nslots, sizeof *p.slots);
    p.qcap = p.nslots; /* --accept main: a connection waiting per worker at most */
    p.queue = calloc(p.qcap, sizeof *p.queue);
    p.roomfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p.donefd < 0 || !p.slots || !p.queue || p.roomfd < 0 || pthread_cond_init(&p.qcv, NULL) ||
        (s.opt.accept == ACCEPT_MAIN &&
         fcntl(s.lfd, F_SETFL, fcntl(s.lfd, F_GETFL) | O_NONBLOCK) < 0)) {
        log_msg(LOG_ERR, "pool set-up: %s", strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < p.nslots; i++)
        p.slots[i].p = &p;
    struct pool_ctl ctl;
    if (srv_pool_init(&s, &ctl) < 0)
        return 1;

    start_workers(&p, s.opt.workers);
    if (live_count(&p) == 0 && !s.opt.dynamic) {
        log_msg(LOG_ERR, "no worker thread could be started");
        srv_set_level(&s, 2);
    }

    srv_ready(&s);
    /* The main thread takes signals, sizes a dynamic pool and, with --accept main, accepts;
     * the pool does the rest. */
    long long next_tick = clock_ms() + 1000;
    while (srv_level(&s) == 0 && (s.opt.dynamic || live_count(&p) > 0)) {
        int wait = -1;
        if (s.opt.dynamic) {
            long long left = next_tick - clock_ms();
            wait = left > 0 ? (int)left : 0;
        }
        struct pollfd pf[4] = {{.fd = s.sigfd, .events = POLLIN},
                               {.fd = p.donefd, .events = POLLIN},
                               {.fd = p.roomfd, .events = POLLIN},
                               {.fd = s.lfd, .events = POLLIN}};
        nfds_t n = 2;
        if (s.opt.accept == ACCEPT_MAIN) {
            pthread_mutex_lock(&p.mu);
            bool room = p.qlen < p.qcap;
            pthread_mutex_unlock(&p.mu);
            n = room ? 4 : 3; /* a full queue: stop accepting until a worker takes one */
        }
        if (poll(pf, n, wait) < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (n >= 3 && pf[2].revents) {
            uint64_t v;
            if (read(p.roomfd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
        }
        if (n == 4 && pf[3].revents && accept_into_queue(&p) < 0)
            break;
        if (pf[1].revents) {
            uint64_t v;
            if (read(p.donefd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
            if (!s.opt.dynamic)
                srv_pool_size(&s, (long)live_count(&p)); /* one ended on an accept error */
        }
        srv_signals(&s);
        if (s.opt.dynamic && srv_level(&s) == 0 && clock_ms() >= next_tick) {
            maintain(&p, &ctl);
            next_tick += 1000;
        }
    }

    srv_set_level(&s, 1);
    if (net_stop_accepting(s.lfd) < 0)
        log_msg(LOG_ERR, "shutdown: %s", strerror(errno));
    /* --accept main: connections still queued were never greeted; they are closed, and the
     * workers leave once their request in progress is done. */
    pthread_mutex_lock(&p.mu);
    for (; p.qlen > 0; p.qlen--, p.qhead = (p.qhead + 1) % p.qcap)
        close(p.queue[p.qhead].fd);
    p.closing = true;
    pthread_cond_broadcast(&p.qcv);
    pthread_mutex_unlock(&p.mu);
    struct srv_drain_ops ops = {live_count, NULL, NULL, p.donefd, &p};
    srv_drain(&s, &ops);
    for (size_t i = 0; i < p.nslots; i++)
        if (p.slots[i].state != W_FREE)
            pthread_join(p.slots[i].tid, NULL);
    free(p.slots);
    free(p.queue);
    pthread_cond_destroy(&p.qcv);
    close(p.roomfd);
    close(p.donefd);
    return srv_finish(&s);
}
