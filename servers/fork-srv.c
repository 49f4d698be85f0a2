/* fork-srv: a new child process for every client, the classic Unix server (the book's second
 * model, Stevens' serv01). The parent only accepts and reaps; each child serves one
 * connection and exits, so clients are served concurrently, a crashing request takes down
 * only its own child, and each child could run under its own credentials. The cost is a
 * fork() (page tables, copy-on-write faults) and an exit per connection, which is the most CPU
 * per request of all models, and no bound on processes unless --max-clients is given: beyond
 * the cap, new clients wait in the listen backlog until a child exits. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

struct fork_srv {
    struct srv *s;
    struct srv_kids kids;
};

static bool full(void *arg)
{
    struct fork_srv *f = arg;
    return f->s->opt.max_clients > 0 && f->kids.live >= (size_t)f->s->opt.max_clients;
}

static void reap(void *arg)
{
    srv_kids_reap(&((struct fork_srv *)arg)->kids, NULL, NULL);
}

static void spawn(void *arg, int fd, struct sockaddr_storage *peer, socklen_t len)
{
    struct fork_srv *f = arg;
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s; dropping the connection", strerror(errno));
        close(fd);
        return;
    }
    if (pid == 0) {
        close(f->s->lfd);
        if (srv_child_init(f->s) < 0) {
            log_msg(LOG_ERR, "cannot start a worker: %s", strerror(errno));
            _exit(1);
        }
        struct stats_slot *w = stats_claim(f->s->stats);
        srv_serve(f->s, w, fd, peer, len);
        stats_release(w);
        _exit(0);
    }
    close(fd);
    if (srv_kids_add(&f->kids, pid) >= 0) {
        srv_peak_workers(f->s, (long)f->kids.live);
    } else {
        log_msg(LOG_ERR, "child table: %s; stopping child %ld", strerror(errno), (long)pid);
        kill(pid, SIGKILL);
    }
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"fork", CAPS_fork, SRV_NONBLOCK};
    struct srv s;
    struct fork_srv f = {.s = &s};
    srv_start(&s, &model, argc, argv);
    if (srv_kids_init(&f.kids, (size_t)s.opt.max_clients) < 0) {
        log_msg(LOG_ERR, "child table: %s", strerror(errno));
        return 1;
    }

    srv_ready(&s);
    struct srv_loop loop = {
        .on_conn = spawn, .paused = full, .on_chld = reap, .wakefd = -1, .arg = &f};
    srv_accept_loop(&s, &loop);

    /* Only the parent holds the listening socket: closing it refuses new clients. */
    close(s.lfd);
    s.lfd = -1;
    srv_kids_drain(&s, &f.kids, NULL, NULL);
    srv_kids_free(&f.kids);
    return srv_finish(&s);
}
