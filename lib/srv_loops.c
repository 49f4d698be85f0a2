/* srv_loops: the servers with several loops, a thread each (reuseport-srv, uring-srv): the
 * threads started, readiness announced once all run, the signals read on the calling thread,
 * the threads joined. */
#include "srv.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct loop_start {
    void *(*run)(void *);
    void *arg;
    int done_fd;
    pthread_t tid;
};

static void *loop_thread(void *p)
{
    struct loop_start *ls = p;
    ls->run(ls->arg);
    uint64_t one = 1;
    if (write(ls->done_fd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "loop done eventfd: %s", strerror(errno));
    return NULL;
}

int srv_run_loops(struct srv *s, size_t n, void *(*run)(void *), void *args, size_t size)
{
    struct loop_start *ls = calloc(n, sizeof *ls);
    int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!ls || done_fd < 0) {
        log_msg(LOG_ERR, "starting %zu loops: %s", n, strerror(errno));
        free(ls);
        if (done_fd >= 0)
            close(done_fd);
        return -1;
    }
    int rc = 0;
    size_t running = 0;
    for (; running < n; running++) {
        ls[running] = (struct loop_start){run, (char *)args + running * size, done_fd, 0};
        int e = pthread_create(&ls[running].tid, NULL, loop_thread, &ls[running]);
        if (e) {
            log_msg(LOG_ERR, "pthread_create: %s", strerror(e));
            rc = -1;
            break;
        }
    }
    size_t started = running;
    if (rc == 0)
        srv_ready(s);
    else
        srv_set_level(s, 2); /* the loops that run stop at once */
    while (running > 0) {
        struct pollfd p[2] = {{s->sigfd, POLLIN, 0}, {done_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            srv_set_level(s, 2);
            break;
        }
        if (p[0].revents)
            srv_signals(s);
        uint64_t k;
        if (p[1].revents && read(done_fd, &k, sizeof k) == (ssize_t)sizeof k)
            running -= k < running ? (size_t)k : running;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(ls[i].tid, NULL);
    close(done_fd);
    free(ls);
    return rc;
}
