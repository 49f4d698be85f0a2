/* prefork-srv: a pool of child processes forked in advance, each blocking in accept() on the
 * listening socket they inherited (the book's fourth model, Stevens' serv02 to serv05). No
 * process is created per connection, so the CPU per request stays close to the iterative
 * server's, while as many clients as children are served at once with the isolation of
 * separate processes: the parent replaces a child that dies. The cost: at most that many
 * clients in service (the rest wait in the backlog), a pool's memory even when idle, and the
 * accept() herd: this kernel wakes one waiter per connection, but --accept-lock fcntl (a lock
 * file, the book's choice) or mutex (a process-shared robust mutex in shared memory)
 * serialises accept() for systems that wake them all. The pool is -w children, or, with the
 * spare options, sized as Apache's prefork MPM does: each child marks itself idle or busy in
 * a scoreboard in shared memory, and once a second the parent starts children when too few
 * are idle (doubling up to 32 a second) or asks one idle child to leave when too many are,
 * never above --max-workers; the listener then has a 1 s receive timeout so that an idle
 * child blocked in accept() wakes to see the request. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "pool.h"
#include "srv.h"

/* A child's entry in the scoreboard (shared memory), at its slot of the child table. */
enum { SB_STARTING, SB_IDLE, SB_BUSY };
struct board {
    _Atomic int state;  /* SB_*, written by the child */
    _Atomic int retire; /* set by the parent: leave when next idle */
};

struct prefork_srv {
    struct srv *s;
    struct srv_kids kids;
    struct board *board; /* one per slot of kids (nslots) */
    size_t nslots;
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

static void child_main(struct prefork_srv *p, size_t slot)
{
    struct srv *s = p->s;
    struct board *b = &p->board[slot];
    if (srv_child_init(s) < 0) {
        log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
        _exit(1);
    }
    struct stats_slot *w = stats_claim(s->stats);
    /* The level without a syscall: a stop between requests shuts the listener (the accept
     * fails), and one during a request is taken by that request's waits. */
    atomic_store(&b->state, SB_IDLE);
    while (serve_stop_level(&s->stop) == 0 && !atomic_load(&b->retire)) {
        struct sockaddr_storage peer;
        socklen_t len;
        int fd;
        lock_accept(p, true);
        int r = srv_accept(s, &fd, &peer, &len);
        lock_accept(p, false);
        if (r < 0)
            break;
        if (r > 0) {
            atomic_store(&b->state, SB_BUSY);
            srv_serve(s, w, fd, &peer, len);
            atomic_store(&b->state, SB_IDLE);
        }
    }
    stats_release(w);
    _exit(0);
}

/* The slot srv_kids_add() will give the next child (the lowest free one), or -1. */
static long free_slot(const struct prefork_srv *p)
{
    for (size_t i = 0; i < p->nslots && i < p->kids.cap; i++)
        if (p->kids.pid[i] == 0)
            return (long)i;
    return -1;
}

static void spawn(struct prefork_srv *p)
{
    p->spawned_in_window++; /* attempts, failed ones too: the refill loop must end */
    long slot = free_slot(p);
    if (slot < 0)
        return;
    atomic_store(&p->board[slot].state, SB_STARTING);
    atomic_store(&p->board[slot].retire, 0);
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0)
        child_main(p, (size_t)slot);
    if (srv_kids_add(&p->kids, pid) != slot) {
        log_msg(LOG_ERR, "child table: %s", strerror(errno));
        kill(pid, SIGKILL);
    }
}

/* Once a second with a dynamic pool: the sizing rule of lib/pool over the scoreboard. */
static void maintain(struct prefork_srv *p, struct pool_ctl *ctl)
{
    long idle = 0;
    long spare = -1; /* an idle child not yet asked to leave */
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->kids.pid[i] == 0 || atomic_load(&p->board[i].retire) ||
            atomic_load(&p->board[i].state) != SB_IDLE)
            continue;
        idle++;
        spare = (long)i;
    }
    long n = pool_tick(ctl, (long)p->kids.live, idle);
    for (long i = 0; i < n; i++)
        spawn(p);
    if (n < 0 && spare >= 0)
        atomic_store(&p->board[spare].retire, 1);
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
    if (srv_level(p->s) > 0 || (slot < p->nslots && atomic_load(&p->board[slot].retire)))
        return; /* stopping, or retired from a dynamic pool */
    const char *then = p->s->opt.dynamic ? "the pool is sized again within a second" : "respawning";
    if (WIFSIGNALED(status))
        log_msg(LOG_WARNING, "child in slot %zu killed by %s; %s", slot,
                strsignal(WTERMSIG(status)), then);
    else
        log_msg(LOG_WARNING, "child in slot %zu exited with %d; %s", slot, WEXITSTATUS(status),
                then);
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {
        "prefork", CAP_WORKERS | CAP_LOCK_MUTEX | CAP_LOCK_FCNTL | CAP_SPARE, 0};
    struct srv s;
    struct prefork_srv p = {.s = &s, .lock_fd = -1};
    srv_start(&s, &model, argc, argv);
    p.nslots = (size_t)(s.opt.dynamic ? s.opt.max_workers : s.opt.workers);
    p.board = mmap(NULL, p.nslots * sizeof *p.board, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p.board == MAP_FAILED || lock_init(&p) < 0 || srv_kids_init(&p.kids, p.nslots) < 0) {
        log_msg(LOG_ERR, "pool set-up: %s", strerror(errno));
        return 1;
    }
    struct pool_ctl ctl = {s.opt.min_spare, s.opt.max_spare, s.opt.max_workers, 1};
    if (s.opt.dynamic) {
        /* accept() wakes every second, so that an idle child sees that it is to leave. */
        struct timeval tv = {1, 0};
        if (setsockopt(s.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
            log_msg(LOG_ERR, "SO_RCVTIMEO: %s", strerror(errno));
            return 1;
        }
    }
    p.window_ms = srv_now_ms();
    int wait_ms = refill(&p); /* a dynamic pool starts at -w too */
    srv_pool_size(&s, (long)p.kids.live);

    srv_ready(&s);
    long long next_tick = srv_now_ms() + 1000;
    while (srv_level(&s) == 0) {
        if (s.opt.dynamic) {
            long long left = next_tick - srv_now_ms();
            wait_ms = left > 0 ? (int)left : 0;
        }
        struct pollfd pf = {.fd = s.sigfd, .events = POLLIN};
        int r = poll(&pf, 1, wait_ms);
        if (r < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && (srv_signals(&s) & SRV_SIG_CHLD))
            srv_kids_reap(&p.kids, child_done, &p);
        if (srv_level(&s) == 0 && !s.opt.dynamic)
            wait_ms = refill(&p);
        if (srv_level(&s) == 0 && s.opt.dynamic && srv_now_ms() >= next_tick) {
            maintain(&p, &ctl);
            next_tick = srv_now_ms() + 1000;
        }
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
    munmap(p.board, p.nslots * sizeof *p.board);
    return srv_finish(&s);
}
