/* iterative-srv: one client at a time, in one process and one thread, as the book's first
 * server. Accepting, reading, computing and sending all happen in sequence, so there is no
 * spawning, no locking and no context switch: the least CPU per request of all models. The
 * cost is concurrency: every client waits in the listen backlog until those before it are
 * done, so waiting time grows linearly with the queue, one slow or idle client stalls all
 * others (up to --timeout), and only one core is ever used. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "log.h"
#include "srv.h"

int main(int argc, char **argv)
{
    static const struct srv_model model = {"iterative", 0, SRV_NONBLOCK};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    s.stop.listen_fd = s.lfd; /* a stop seen mid-connection refuses new clients at once */

    srv_ready(&s);
    while (srv_level(&s) == 0) {
        struct pollfd p[2] = {{.fd = s.sigfd, .events = POLLIN}, {.fd = s.lfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents) {
            srv_signals(&s);
            continue;
        }
        struct sockaddr_storage peer;
        socklen_t len;
        int fd, r = srv_accept(&s, &fd, &peer, &len);
        if (r < 0)
            break;
        if (r > 0)
            srv_serve(&s, fd, &peer, len);
    }
    return srv_finish(&s);
}
