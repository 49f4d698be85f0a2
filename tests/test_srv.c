#include <criterion/criterion.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "srv.h"

/* The stop level counts signals up to 2 (abort) and stays there, however many follow. */
Test(srv, stop_level_stays_at_two, .timeout = 60)
{
    log_init("unit", false);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    cr_assert_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
    struct srv s = {0};
    s.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    cr_assert_geq(s.sigfd, 0);
    s.stop.own_signals = true; /* no worker eventfds to write */
    static const int want[] = {1, 2, 2, 2};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(raise(SIGTERM), 0);
        cr_expect_eq(srv_signals(&s) & SRV_SIG_STOP, SRV_SIG_STOP);
        cr_expect_eq(srv_level(&s), want[i], "after %d signals: level %d", i + 1, srv_level(&s));
    }
    close(s.sigfd);
}
