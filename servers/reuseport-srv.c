/* reuseport-srv: per-core reactors, shared-nothing, as nginx's `listen ... reuseport` and
 * seastar. -w threads (default: one per CPU), each with its own event loop (the reactor of
 * reactor-srv, epoll), its own counters and, with --balance reuseport, its own listening
 * socket in a SO_REUSEPORT group: the kernel hashes each new connection to one listener, so
 * no two loops ever touch the same socket and none wakes for another's client. Its strength:
 * an event loop's thrift with every core busy, no lock and no hand-off on the request path.
 * Its costs and pitfalls: the kernel does not know a loop is busy, so a loop stuck in a long
 * sieve keeps receiving connections on its own socket while the others idle (the hash is
 * blind to load); closing one listener of the group drops what is queued on it, so on SIGTERM
 * each loop first takes every connection already queued and only then shuts its listener;
 * --max-clients counts the clients of all loops, and a loop at the cap looks again every
 * 20 ms. --balance exclusive instead shares one listener that every loop watches with
 * EPOLLEXCLUSIVE (nginx's other option): the kernel wakes one waiting loop per connection,
 * but the one that waited last first, so a lightly loaded server sends most connections to
 * one loop. per_worker_connections in the stats line shows how evenly it went. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "reactor.h"
#include "srv.h"

struct loop_thread {
    struct reactor *r;
    int lfd;     /* its own listener of the group, or the server's (exclusive, -U) */
    int done_fd; /* written when its loop has stopped */
    pthread_t tid;
    bool started;
};

static void *run(void *arg)
{
    struct loop_thread *t = arg;
    reactor_serve(t->r);
    uint64_t one = 1;
    if (write(t->done_fd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "loop done eventfd: %s", strerror(errno));
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"reuseport", CAP_LOOPS | CAP_BALANCE | CAP_MAX_CLIENTS,
                                           SRV_NONBLOCK | SRV_EVENT | SRV_THREADS | SRV_REUSEPORT};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    if (s.opt.unix_path && !s.opt.exclusive) {
        /* A Unix socket cannot join a SO_REUSEPORT group: the loops share it. */
        log_msg(LOG_INFO, "-U: a Unix socket has no SO_REUSEPORT; the loops share it "
                          "(--balance exclusive)");
        s.opt.exclusive = true;
    }
    size_t n = (size_t)s.opt.workers;
    struct loop_thread *t = calloc(n, sizeof *t);
    struct stats_slot **slots = calloc(n, sizeof *slots);
    int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!t || !slots || done_fd < 0) {
        log_msg(LOG_ERR, "setting up %zu loops: %s", n, strerror(errno));
        return 1;
    }
    atomic_store(&s.loops_draining, (int)n);
    unsigned flags = REACTOR_SHARED | (s.opt.exclusive ? REACTOR_EXCLUSIVE : 0);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        t[i].lfd = i < s.ngroup ? s.group[i] : s.lfd;
        t[i].done_fd = done_fd;
        t[i].r = reactor_new(&s, NULL, t[i].lfd, flags);
        if (!t[i].r) {
            log_msg(LOG_ERR, "event loop %zu: %s", i, strerror(errno));
            rc = 1;
            break;
        }
        slots[i] = reactor_slot(t[i].r);
    }
    s.per_worker = slots;
    s.nper_worker = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int e = pthread_create(&t[i].tid, NULL, run, &t[i]);
        if (e) {
            log_msg(LOG_ERR, "pthread_create: %s", strerror(e));
            rc = 1;
            break;
        }
        t[i].started = true;
    }
    size_t running = 0;
    for (size_t i = 0; i < n; i++)
        running += t[i].started;
    if (rc == 0)
        srv_ready(&s);
    else
        srv_set_level(&s, 2); /* the loops that run stop at once */

    /* The main thread reads the signals (raising the level wakes the loops) until every loop
     * has stopped. */
    while (running > 0) {
        struct pollfd p[2] = {{s.sigfd, POLLIN, 0}, {done_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            srv_set_level(&s, 2);
            break;
        }
        if (p[0].revents)
            srv_signals(&s);
        uint64_t k;
        if (p[1].revents && read(done_fd, &k, sizeof k) == (ssize_t)sizeof k)
            running -= k < running ? k : running;
    }
    for (size_t i = 0; i < n; i++)
        if (t[i].started)
            pthread_join(t[i].tid, NULL);
    for (size_t i = 0; i < n; i++)
        reactor_free(t[i].r); /* its counters stay in the totals and in slots[i] */
    close(done_fd);
    int status = srv_finish(&s);
    free(t);
    free(slots);
    return rc ? rc : status;
}
