/* prethread-srv: a fixed pool of -w threads made at start-up, each blocking in accept() on
 * the shared listening socket (the book's fifth model). Nothing is created per connection, so
 * CPU per request is close to the iterative server's while -w clients are served at once.
 * The cost: at most -w clients in service (the rest wait in the backlog, so an idle client
 * holds a thread until --timeout), and no isolation between requests. Linux wakes one thread
 * per connection in accept(); --accept-lock mutex serialises accept() as the book does, for
 * kernels that wake them all. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "srv.h"

struct prethread_srv {
    struct srv *s;
    bool use_lock;
    pthread_mutex_t accept_mu;
    pthread_mutex_t mu;
    size_t live;
    int donefd;
};

static size_t live_count(void *arg)
{
    struct prethread_srv *p = arg;
    pthread_mutex_lock(&p->mu);
    size_t n = p->live;
    pthread_mutex_unlock(&p->mu);
    return n;
}

static void *worker(void *arg)
{
    struct prethread_srv *p = arg;
    struct srv *s = p->s;
    struct stats_slot *w = stats_claim(s->stats);
    while (srv_level(s) == 0) {
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
        if (r > 0)
            srv_serve(s, w, fd, &peer, len);
    }
    stats_release(w);
    /* Decrement and notify under one lock: whoever wakes sees the new count, and the main
     * thread cannot see 0 (and close donefd) before the write. */
    uint64_t one = 1;
    pthread_mutex_lock(&p->mu);
    p->live--;
    if (write(p->donefd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"prethread", CAP_WORKERS | CAP_LOCK_MUTEX, SRV_THREADS};
    struct srv s;
    struct prethread_srv p = {
        .s = &s, .accept_mu = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER};
    srv_start(&s, &model, argc, argv);
    p.use_lock = s.opt.lock == LOCK_MUTEX;
    p.donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_t *tid = calloc((size_t)s.opt.workers, sizeof *tid);
    bool *started = calloc((size_t)s.opt.workers, sizeof *started);
    if (p.donefd < 0 || !tid || !started) {
        log_msg(LOG_ERR, "pool set-up: %s", strerror(errno));
        return 1;
    }

    for (long i = 0; i < s.opt.workers; i++) {
        pthread_mutex_lock(&p.mu);
        p.live++;
        pthread_mutex_unlock(&p.mu);
        int e = pthread_create(&tid[i], NULL, worker, &p);
        if (e != 0) {
            log_msg(LOG_ERR, "worker %ld: pthread_create: %s; continuing without it", i,
                    strerror(e));
            pthread_mutex_lock(&p.mu);
            p.live--;
            pthread_mutex_unlock(&p.mu);
            continue;
        }
        started[i] = true;
    }
    srv_pool_size(&s, (long)live_count(&p));
    if (live_count(&p) == 0) {
        log_msg(LOG_ERR, "no worker thread could be started");
        srv_set_level(&s, 2);
    }

    srv_ready(&s);
    /* The main thread only takes signals; the pool does everything else. */
    while (srv_level(&s) == 0 && live_count(&p) > 0) {
        /* donefd only wakes the loop when a worker has quit on an accept error. */
        struct pollfd pf[2] = {{.fd = s.sigfd, .events = POLLIN},
                               {.fd = p.donefd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (pf[1].revents) {
            uint64_t v;
            if (read(p.donefd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
        }
        srv_signals(&s);
    }

    srv_set_level(&s, 1);
    if (net_stop_accepting(s.lfd) < 0)
        log_msg(LOG_ERR, "shutdown: %s", strerror(errno));
    struct srv_drain_ops ops = {live_count, NULL, NULL, p.donefd, &p};
    srv_drain(&s, &ops);
    for (long i = 0; i < s.opt.workers; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
    free(tid);
    free(started);
    close(p.donefd);
    return srv_finish(&s);
}
