/* srv_accept: the accept loop of the servers with one accepting thread (iterative, fork,
 * thread) and the accept they and the pools share: EINTR and ECONNABORTED taken again, EMFILE
 * and its kin pausing accepts instead of spinning; a connection is then served by the
 * blocking driver (lib/serve). */
#include "clock.h"
#include "srv.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

int srv_accept(struct srv *s, int *fd, struct sockaddr_storage *peer, socklen_t *len)
{
    static _Atomic long long last_warn;
    *fd = net_accept(s->lfd, peer, len);
    if (*fd >= 0)
        return 1;
    switch (errno) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return 0;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM: {
        /* net_accept has already paused; warn at most once a second. */
        long long now = clock_ms(), prev = atomic_load(&last_warn);
        if (now - prev >= 1000 && atomic_compare_exchange_strong(&last_warn, &prev, now))
            log_msg(LOG_WARNING, "accept: %s; pausing accepts", strerror(errno));
        return 0;
    }
    case EPERM:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ECONNRESET:
        return 0; /* the connection failed before we took it; others are unaffected */
    case EINVAL:
        return -1; /* shut down by net_stop_accepting: the normal way out */
    default:
        log_msg(LOG_ERR, "accept: %s", strerror(errno));
        return -1;
    }
}

void srv_accept_loop(struct srv *s, const struct srv_loop *l)
{
    while (srv_level(s) == 0) {
        bool paused = l->paused && l->paused(l->arg);
        struct pollfd p[3];
        nfds_t n = 0;
        p[n++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
        nfds_t wake = n;
        if (l->wakefd >= 0)
            p[n++] = (struct pollfd){.fd = l->wakefd, .events = POLLIN};
        nfds_t listener = n;
        if (!paused)
            p[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            return;
        }
        if (p[0].revents) {
            if ((srv_signals(s) & SRV_SIG_CHLD) && l->on_chld)
                l->on_chld(l->arg);
            continue;
        }
        if (l->wakefd >= 0 && p[wake].revents) {
            if (l->on_wake)
                l->on_wake(l->arg);
            continue;
        }
        if (paused || !p[listener].revents)
            continue;
        struct sockaddr_storage peer;
        socklen_t len;
        int fd, r = srv_accept(s, &fd, &peer, &len);
        if (r < 0)
            return;
        if (r > 0)
            l->on_conn(l->arg, fd, &peer, len);
    }
}

void srv_serve(struct srv *s, struct stats_slot *w, int fd, const struct sockaddr_storage *peer,
               socklen_t len)
{
    blocking_serve(&s->serve, &s->stop, w, fd, (const struct sockaddr *)peer, len);
    close(fd);
}
