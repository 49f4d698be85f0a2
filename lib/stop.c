#include "stop.h"

#include <signal.h>
#include <string.h>
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
