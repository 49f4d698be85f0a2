/* iterative-srv: one client at a time, in one process and one thread, as the book's first
 * server. Accepting, reading, computing and sending all happen in sequence, so there is no
 * spawning, no locking and no context switch: the least CPU per request of all models. The
 * cost is concurrency: every client waits in the listen backlog until those before it are
 * done, so waiting time grows linearly with the queue, one slow or idle client stalls all
 * others (up to --timeout), and only one core is ever used. */
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

static void serve_now(void *arg, int fd, struct sockaddr_storage *peer, socklen_t len)
{
    struct srv *s = arg;
    srv_serve(s, &s->stats->slot[0], fd, peer, len); /* the only worker */
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"iterative", CAPS_iterative, SRV_NONBLOCK};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    s.stop.listen_fd = s.lfd; /* a stop seen mid-connection refuses new clients at once */

    srv_ready(&s);
    struct srv_loop loop = {.on_conn = serve_now, .wakefd = -1, .arg = &s};
    srv_accept_loop(&s, &loop);
    return srv_finish(&s);
}
