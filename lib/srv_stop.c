/* srv_stop: how a server learns that it is to stop, and stops: the signals (SIGTERM, SIGINT,
 * SIGCHLD, SIGHUP) taken synchronously from a signalfd, the stop level they raise (0 running,
 * 1 draining, 2 aborting) and how workers see it (their own signalfd in a child process;
 * eventfds made readable for threads), and the bounded drain after the first SIGTERM. */
#include "clock.h"
#include "srv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "stop.h"

int srv_level(struct srv *s)
{
    return atomic_load(&s->stop.level);
}

void srv_set_level(struct srv *s, int level)
{
    if (level > 2)
        level = 2; /* aborting is the last level: a third signal changes nothing */
    int cur = atomic_load(&s->stop.level);
    if (level <= cur)
        return;
    atomic_store(&s->stop.level, level);
    if (!s->stop.own_signals) {
        uint64_t one = 1;
        if (write(s->stop.fd, &one, sizeof one) < 0)
            log_msg(LOG_ERR, "stop eventfd: %s", strerror(errno));
        if (level >= 2 && write(s->stop.abort_fd, &one, sizeof one) < 0)
            log_msg(LOG_ERR, "abort eventfd: %s", strerror(errno));
    }
}

unsigned srv_signals(struct srv *s)
{
    struct signalfd_siginfo si;
    unsigned mask = 0;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            srv_set_level(s, srv_level(s) + 1);
            stop_log((int)si.ssi_signo, srv_level(s));
            mask |= SRV_SIG_STOP;
            break;
        case SIGCHLD:
            mask |= SRV_SIG_CHLD;
            break;
        default:
            break; /* SIGHUP: nothing to reload */
        }
    }
    return mask;
}

int srv_child_init(struct srv *s)
{
    /* Checked after it is set: a server that died before would never send it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        return -1;
    if (getppid() != s->main_pid) {
        errno = ESRCH;
        return -1;
    }
    if (s->ready_fd >= 0) {
        close(s->ready_fd);
        s->ready_fd = -1;
    }
    close(s->sigfd);
    s->sigfd = stop_signalfd(false);
    if (s->sigfd < 0)
        return -1;
    s->stop.own_signals = true;
    s->stop.says = false; /* the parent says it */
    s->stop.fd = s->stop.abort_fd = s->sigfd;
    s->stop.listen_fd = -1;
    s->stop.grace_ms = s->opt.grace_ms;
    atomic_store(&s->stop.level, 0);
    return 0;
}

void srv_drain(struct srv *s, const struct srv_drain_ops *ops)
{
    long long deadline = clock_ms() + s->opt.grace_ms;
    bool aborted = false;

    while (ops->live(ops->arg) > 0) {
        if (!aborted && (srv_level(s) >= 2 || clock_ms() >= deadline)) {
            if (srv_level(s) < 2)
                log_msg(LOG_WARNING,
                        "grace time of %d ms over; %zu worker(s) still busy, "
                        "stopping them",
                        s->opt.grace_ms, ops->live(ops->arg));
            srv_set_level(s, 2);
            if (ops->abort)
                ops->abort(ops->arg);
            aborted = true;
        }
        long long wait = aborted ? 100 : deadline - clock_ms();
        if (wait < 0)
            wait = 0;
        struct pollfd p[2] = {{.fd = s->sigfd, .events = POLLIN},
                              {.fd = ops->wakefd, .events = POLLIN}};
        int r = poll(p, ops->wakefd >= 0 ? 2 : 1, (int)(wait > 1000 ? 1000 : wait));
        if (r < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && p[0].revents)
            srv_signals(s);
        if (r > 0 && ops->wakefd >= 0 && p[1].revents) {
            uint64_t v;
            if (read(ops->wakefd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_msg(LOG_ERR, "read eventfd: %s", strerror(errno));
        }
        if (ops->reap)
            ops->reap(ops->arg);
    }
}
