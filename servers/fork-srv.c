/* fork-srv: a new child process for every client, the classic Unix server (the book's second
 * model, Stevens' serv01). The parent only accepts and reaps; each child serves one
 * connection and exits, so clients are served concurrently, a crashing request takes down
 * only its own child, and each child could run under its own credentials. The cost is a
 * fork() (page tables, copy-on-write faults) and an exit per connection, which is the most CPU
 * per request of all models, and no bound on processes unless --max-clients is given: beyond
 * the cap, new clients wait in the listen backlog until a child exits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "srv.h"

struct fork_srv {
    struct srv *s;
    struct srv_kids kids;
};

static size_t kids_live(void *arg)
{
    return ((struct fork_srv *)arg)->kids.live;
}

static void kids_reap(void *arg)
{
    srv_kids_reap(&((struct fork_srv *)arg)->kids, NULL, NULL);
}

static void kids_abort(void *arg)
{
    srv_kids_kill(&((struct fork_srv *)arg)->kids, SIGKILL);
}

static void spawn(struct fork_srv *f, int fd, struct sockaddr_storage *peer, socklen_t len)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s; dropping the connection", strerror(errno));
        close(fd);
        return;
    }
    if (pid == 0) {
        close(f->s->lfd);
        if (srv_child_init(f->s) < 0) {
            log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
            _exit(1);
        }
        srv_serve(f->s, fd, peer, len);
        _exit(0);
    }
    close(fd);
    if (srv_kids_add(&f->kids, pid) < 0) {
        log_msg(LOG_ERR, "child table: %s; stopping child %ld", strerror(errno), (long)pid);
        kill(pid, SIGKILL);
    }
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"fork", CAP_MAX_CLIENTS, SRV_NONBLOCK};
    struct srv s;
    struct fork_srv f = {.s = &s};
    srv_start(&s, &model, argc, argv);
    if (srv_kids_init(&f.kids, (size_t)s.opt.max_clients) < 0) {
        log_msg(LOG_ERR, "child table: %s", strerror(errno));
        return 1;
    }

    srv_ready(&s);
    while (srv_level(&s) == 0) {
        bool full = s.opt.max_clients > 0 && f.kids.live >= (size_t)s.opt.max_clients;
        struct pollfd p[2] = {{.fd = s.sigfd, .events = POLLIN}, {.fd = s.lfd, .events = POLLIN}};
        if (poll(p, full ? 1 : 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents) {
            if (srv_signals(&s) & SRV_SIG_CHLD)
                kids_reap(&f);
            continue;
        }
        struct sockaddr_storage peer;
        socklen_t len;
        int fd, r = srv_accept(&s, &fd, &peer, &len);
        if (r < 0)
            break;
        if (r > 0)
            spawn(&f, fd, &peer, len);
    }

    /* Only the parent holds the listening socket: closing it refuses new clients. */
    close(s.lfd);
    s.lfd = -1;
    srv_set_level(&s, 1);
    srv_kids_kill(&f.kids, SIGTERM);
    struct srv_drain_ops ops = {kids_live, kids_reap, kids_abort, -1, &f};
    srv_drain(&s, &ops);
    srv_kids_free(&f.kids);
    return srv_finish(&s);
}
