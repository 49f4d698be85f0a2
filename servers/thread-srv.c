/* thread-srv: a new detached thread for every client (the book's third model). Like fork-srv
 * it serves clients concurrently, but a thread shares the address space, so creating one is
 * far cheaper than a fork and the kernel switches between threads without changing page
 * tables. The cost: a thread's creation and stack per connection, no isolation (one crashing
 * request ends the whole server), and no bound unless --max-clients is given: beyond the cap
 * new clients wait in the listen backlog until a thread finishes. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

struct thread_srv {
    struct srv *s;
    pthread_mutex_t mu;
    size_t live;
    int donefd; /* each finishing thread adds 1: wakes the main loop */
    pthread_attr_t attr;
};

struct client {
    struct thread_srv *t;
    int fd;
    socklen_t len;
    struct sockaddr_storage peer;
};

static size_t live_count(void *arg)
{
    struct thread_srv *t = arg;
    pthread_mutex_lock(&t->mu);
    size_t n = t->live;
    pthread_mutex_unlock(&t->mu);
    return n;
}

static bool full(void *arg)
{
    struct thread_srv *t = arg;
    return t->s->opt.max_clients > 0 && live_count(t) >= (size_t)t->s->opt.max_clients;
}

static void drain_wake(void *arg)
{
    uint64_t v;
    if (read(((struct thread_srv *)arg)->donefd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
}

static void *client_thread(void *arg)
{
    struct client *c = arg;
    struct thread_srv *t = c->t;
    struct stats_slot *w = stats_claim(t->s->stats);
    srv_serve(t->s, w, c->fd, &c->peer, c->len);
    stats_release(w);
    free(c);
    /* The last touch of shared state, decrement and notify under one lock: the accept loop,
     * woken, sees the new count (at the --max-clients cap it would otherwise find the pool
     * still full and wait without the listener), and the main thread cannot see 0 (and
     * close donefd) before the write. */
    uint64_t one = 1;
    pthread_mutex_lock(&t->mu);
    t->live--;
    if (write(t->donefd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void spawn(void *arg, int fd, struct sockaddr_storage *peer, socklen_t len)
{
    struct thread_srv *t = arg;
    struct client *c = malloc(sizeof *c);
    if (!c) {
        log_msg(LOG_ERR, "out of memory; dropping the connection");
        close(fd);
        return;
    }
    *c = (struct client){.t = t, .fd = fd, .len = len, .peer = *peer};
    pthread_mutex_lock(&t->mu);
    long live = (long)++t->live;
    pthread_mutex_unlock(&t->mu);
    srv_peak_workers(t->s, live);
    pthread_t tid;
    int e = pthread_create(&tid, &t->attr, client_thread, c);
    if (e != 0) {
        log_msg(LOG_ERR, "pthread_create: %s; dropping the connection", strerror(e));
        pthread_mutex_lock(&t->mu);
        t->live--;
        pthread_mutex_unlock(&t->mu);
        close(fd);
        free(c);
    }
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"thread", CAPS_thread, SRV_NONBLOCK | SRV_THREADS};
    struct srv s;
    struct thread_srv t = {.s = &s, .mu = PTHREAD_MUTEX_INITIALIZER};
    srv_start(&s, &model, argc, argv);

    t.donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t.donefd < 0 || pthread_attr_init(&t.attr) != 0 ||
        pthread_attr_setdetachstate(&t.attr, PTHREAD_CREATE_DETACHED) != 0) {
        log_msg(LOG_ERR, "thread set-up: %s", strerror(errno));
        return 1;
    }

    srv_ready(&s);
    struct srv_loop loop = {
        .on_conn = spawn, .paused = full, .wakefd = t.donefd, .on_wake = drain_wake, .arg = &t};
    srv_accept_loop(&s, &loop);

    close(s.lfd); /* only this thread accepts: closing refuses new clients */
    s.lfd = -1;
    srv_set_level(&s, 1);
    struct srv_drain_ops ops = {live_count, NULL, NULL, t.donefd, &t};
    srv_drain(&s, &ops);
    pthread_attr_destroy(&t.attr);
    int status = srv_finish(&s);
    close(t.donefd);
    return status;
}
