#include "stop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "net.h"

int stop_level(struct stop *st)
{
    int lv = atomic_load(&st->level);
    if (lv == 1 && st->own_signals && clock_ms() >= st->abort_at_ms) {
        atomic_store(&st->level, 2);
        lv = 2;
    }
    return lv;
}

void stop_log(int signo, int level)
{
    log_msg(LOG_INFO, "%s: %s", strsignal(signo),
            level == 1 ? "stopping; requests in flight may finish" : "stopping now");
}

int stop_signals(struct stop *st)
{
    if (st->own_signals) {
        struct signalfd_siginfo si;
        while (read(st->fd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                int lv = atomic_load(&st->level);
                if (lv < 2)
                    atomic_store(&st->level, lv + 1);
                if (lv == 0)
                    st->abort_at_ms = clock_ms() + st->grace_ms;
                if (st->says)
                    stop_log((int)si.ssi_signo, lv < 2 ? lv + 1 : 2);
                if (st->listen_fd >= 0)
                    net_stop_accepting(st->listen_fd); /* new clients are refused at once */
            }
        }
    }
    return stop_level(st);
}

int stop_signalfd(bool with_chld)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (with_chld) {
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGHUP);
    }
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int stop_threads_init(struct stop *st)
{
    st->own_signals = false;
    st->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    st->abort_fd = st->fd < 0 ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (st->abort_fd >= 0)
        return 0;
    int e = errno;
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    errno = e;
    return -1;
}
