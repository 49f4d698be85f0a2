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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reactor.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

static void *run(void *arg)
{
    reactor_serve(*(struct reactor **)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"reuseport", CAPS_reuseport,
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
    struct reactor **r = calloc(n, sizeof *r);
    struct stats_slot **slots = calloc(n, sizeof *slots);
    if (!r || !slots) {
        log_msg(LOG_ERR, "setting up %zu loops: %s", n, strerror(errno));
        return 1;
    }
    atomic_store(&s.loops_draining, (int)n);
    unsigned flags = REACTOR_SHARED | (s.opt.exclusive ? REACTOR_EXCLUSIVE : 0);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        r[i] = reactor_new(&s, NULL, i < s.ngroup ? s.group[i] : s.lfd, flags);
        if (!r[i]) {
            log_msg(LOG_ERR, "event loop %zu: %s", i, strerror(errno));
            rc = 1;
        } else {
            slots[i] = reactor_slot(r[i]);
        }
    }
    s.per_worker = slots;
    s.nper_worker = n;
    if (rc == 0 && srv_run_loops(&s, n, run, r, sizeof *r) < 0)
        rc = 1;
    for (size_t i = 0; i < n; i++)
        reactor_free(r[i]); /* its counters stay in the totals and in slots[i] */
    int status = srv_finish(&s);
    free(r);
    free(slots);
    return rc ? rc : status;
}
