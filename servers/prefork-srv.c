/* prefork-srv: a fixed pool of -w child processes forked at start-up, each blocking in
 * accept() on the listening socket they inherited (the book's fourth model, Stevens' serv02
 * to serv05). No process is created per connection, so the CPU per request stays close to the
 * iterative server's, while -w clients are served at once with the isolation of separate
 * processes: the parent respawns a child that dies. The cost: at most -w clients in service
 * (the rest wait in the backlog), a pool's memory even when idle, and the accept() herd: this
 * kernel wakes one waiter per connection, but --accept-lock fcntl (a lock file, the book's
 * choice) or mutex (a process-shared robust mutex in shared memory) serialises accept() for
 * systems that wake them all. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "srv.h"

struct prefork_srv {
    struct srv *s;
    struct srv_kids kids;
    int lock_fd;              /* LOCK_FCNTL: an unlinked lock file shared by the pool */
    pthread_mutex_t *lock_mu; /* LOCK_MUTEX: in a shared mapping */
    long long window_ms;      /* start of the current respawn window */
    long spawned_in_window;
};

static int lock_init(struct prefork_srv *p)
{
    if (p->s->opt.lock == LOCK_FCNTL) {
        /* A template for mkostemp: the file gets a unique name, is unlinked at once, and
         * only its descriptor, shared by every child, is locked. */
        char path[] = "/tmp/prefork-srv.lock.XXXXXX";
        p->lock_fd = mkostemp(path, O_CLOEXEC);
        if (p->lock_fd < 0)
            return -1;
        unlink(path);
    } else if (p->s->opt.lock == LOCK_MUTEX) {
        p->lock_mu = mmap(NULL, sizeof *p->lock_mu, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p->lock_mu == MAP_FAILED)
            return -1;
        pthread_mutexattr_t a;
        int e = pthread_mutexattr_init(&a);
        if (!e)
            e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        /* Robust: a child killed while holding the lock must not freeze the pool. */
        if (!e)
            e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        if (!e)
            e = pthread_mutex_init(p->lock_mu, &a);
        pthread_mutexattr_destroy(&a);
        if (e) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

static void lock_accept(struct prefork_srv *p, bool take)
{
    if (p->s->opt.lock == LOCK_FCNTL) {
        struct flock fl = {.l_type = take ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET};
        while (fcntl(p->lock_fd, take ? F_SETLKW : F_SETLK, &fl) < 0) {
            if (errno != EINTR) {
                log_msg(LOG_ERR, "fcntl lock: %s", strerror(errno));
                return;
            }
        }
    } else if (p->s->opt.lock == LOCK_MUTEX) {
        if (!take) {
            pthread_mutex_unlock(p->lock_mu);
        } else if (pthread_mutex_lock(p->lock_mu) == EOWNERDEAD) {
            log_msg(LOG_WARNING, "accept lock holder died; recovering the lock");
            pthread_mutex_consistent(p->lock_mu);
        }
    }
}

static void child_main(struct prefork_srv *p)
{
    struct srv *s = p->s;
    if (srv_child_init(s) < 0) {
        log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
        _exit(1);
    }
    struct stats_slot *w = stats_claim(s->stats);
    /* The level without a syscall: a stop between requests shuts the listener (the accept
     * fails), and one during a request is taken by that request's waits. */
    while (serve_stop_level(&s->stop) == 0) {
        struct sockaddr_storage peer;
        socklen_t len;
        int fd;
        lock_accept(p, true);
        int r = srv_accept(s, &fd, &peer, &len);
        lock_accept(p, false);
        if (r < 0)
            break;
        if (r > 0)
            srv_serve(s, w, fd, &peer, len);
    }
    stats_release(w);
    _exit(0);
}

static void spawn(struct prefork_srv *p)
{
    p->spawned_in_window++; /* attempts, failed ones too: the refill loop must end */
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0)
        child_main(p);
    if (srv_kids_add(&p->kids, pid) < 0) {
        log_msg(LOG_ERR, "child table: %s", strerror(errno));
        kill(pid, SIGKILL);
    }
}

/* Keeps the pool full. Children that die as soon as they start (a broken system) are not
 * respawned more than twice the pool size per second; returns the ms to wait, or -1. */
static int refill(struct prefork_srv *p)
{
    long long now = srv_now_ms();
    if (now - p->window_ms >= 1000) {
        p->window_ms = now;
        p->spawned_in_window = 0;
    }
    while (p->kids.live < (size_t)p->s->opt.workers) {
        if (p->spawned_in_window >= 2 * p->s->opt.workers) {
            log_msg(LOG_WARNING, "children keep dying; respawning again in a second");
            return (int)(1000 - (now - p->window_ms));
        }
        spawn(p);
    }
    return -1;
}

static void child_done(size_t slot, int status, void *arg)
{
    struct prefork_srv *p = arg;
    if (srv_level(p->s) > 0)
        return;
    if (WIFSIGNALED(status))
        log_msg(LOG_WARNING, "child in slot %zu killed by %s; respawning", slot,
                strsignal(WTERMSIG(status)));
    else
        log_msg(LOG_WARNING, "child in slot %zu exited with %d; respawning", slot,
                WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"prefork", CAP_WORKERS | CAP_LOCK_MUTEX | CAP_LOCK_FCNTL,
                                           0};
    struct srv s;
    struct prefork_srv p = {.s = &s, .lock_fd = -1};
    srv_start(&s, &model, argc, argv);
    if (lock_init(&p) < 0 || srv_kids_init(&p.kids, (size_t)s.opt.workers) < 0) {
        log_msg(LOG_ERR, "pool set-up: %s", strerror(errno));
        return 1;
    }
    p.window_ms = srv_now_ms();
    int wait_ms = refill(&p);
    srv_pool_size(&s, (long)p.kids.live);

    srv_ready(&s);
    while (srv_level(&s) == 0) {
        struct pollfd pf = {.fd = s.sigfd, .events = POLLIN};
        int r = poll(&pf, 1, wait_ms);
        if (r < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && (srv_signals(&s) & SRV_SIG_CHLD))
            srv_kids_reap(&p.kids, child_done, &p);
        if (srv_level(&s) == 0)
            wait_ms = refill(&p);
        srv_pool_size(&s, (long)p.kids.live);
    }

    /* Wakes every child blocked in accept() (EINVAL) and refuses new clients; children in
     * the middle of a request finish it, then exit on SIGTERM. */
    if (net_stop_accepting(s.lfd) < 0)
        log_msg(LOG_ERR, "shutdown: %s", strerror(errno));
    srv_kids_drain(&s, &p.kids, child_done, &p);
    srv_kids_free(&p.kids);
    if (p.lock_fd >= 0)
        close(p.lock_fd);
    if (p.lock_mu)
        munmap(p.lock_mu, sizeof *p.lock_mu);
    return srv_finish(&s);
}
