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
 * child blocked in accept() wakes to see the request. With --accept pass the parent accepts
 * instead and passes each descriptor to an idle child over a Unix socket pair (SCM_RIGHTS,
 * Stevens' serv05); a child writes a byte back when it is free again, and the parent stops
 * watching the listener while no child is free. No herd and no lock, at the cost of a
 * sendmsg, a recvmsg and a byte back per connection, and a parent that is on every
 * connection's path. */
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

#include "clock.h"
#include "log.h"
#include "net.h"
#include "pool.h"
#include "srv.h"
#include "models.h" /* CAPS_<model>: from servers/models */

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
    int *chan;   /* --accept pass: the parent's end of each child's socket pair, or -1 */
    bool *busy;  /* --accept pass: a descriptor was passed and the child is not free yet */
    int lock_fd; /* LOCK_FCNTL: an unlinked lock file shared by the pool */
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

static void child_main(struct prefork_srv *p, size_t slot, int chan)
{
    struct srv *s = p->s;
    struct board *b = &p->board[slot];
    if (srv_child_init(s) < 0) {
        log_msg(LOG_ERR, "cannot start a worker: %s", strerror(errno));
        _exit(1);
    }
    struct stats_slot *w = stats_claim(s->stats);
    atomic_store(&b->state, SB_IDLE);
    /* --accept pass: descriptors come over the channel; its end (the parent closed it, to
     * stop or retire this child) ends the child. */
    while (s->opt.accept == ACCEPT_PASS) {
        int fd;
        int r = net_recv_fd(chan, &fd);
        if (r <= 0) {
            if (r < 0)
                log_msg(LOG_ERR, "slot %zu: receiving a client: %s", slot, strerror(errno));
            break;
        }
        atomic_store(&b->state, SB_BUSY);
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
            len = 0;
        srv_serve(s, w, fd, &peer, len);
        atomic_store(&b->state, SB_IDLE);
        if (write(chan, "", 1) < 0)
            break; /* the parent has closed the channel */
    }
    /* The level without a syscall: a stop between requests shuts the listener (the accept
     * fails), and one during a request is taken by that request's waits. */
    while (s->opt.accept == ACCEPT_SELF && stop_level(&s->stop) == 0 && !atomic_load(&b->retire)) {
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
    int ch[2] = {-1, -1};
    if (p->s->opt.accept == ACCEPT_PASS &&
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch) < 0) {
        log_msg(LOG_ERR, "socketpair: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        if (ch[0] >= 0) {
            close(ch[0]);
            close(ch[1]);
        }
        return;
    }
    if (pid == 0) {
        if (ch[0] >= 0) {
            /* The child needs its own end only: not the listener, not the others' channels. */
            close(ch[0]);
            close(p->s->lfd);
            for (size_t i = 0; i < p->nslots; i++)
                if (p->chan[i] >= 0)
                    close(p->chan[i]);
        }
        child_main(p, (size_t)slot, ch[1]);
    }
    if (ch[1] >= 0)
        close(ch[1]);
    if (srv_kids_add(&p->kids, pid) != slot) {
        log_msg(LOG_ERR, "child table: %s", strerror(errno));
        kill(pid, SIGKILL);
        if (ch[0] >= 0)
            close(ch[0]);
        return;
    }
    if (ch[0] >= 0) {
        p->chan[slot] = ch[0];
        p->busy[slot] = false;
    }
}

/* --accept pass: the parent closes a child's channel, which ends the child once idle. */
static void close_chan(struct prefork_srv *p, size_t slot)
{
    if (p->chan[slot] >= 0)
        close(p->chan[slot]);
    p->chan[slot] = -1;
    p->busy[slot] = false;
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
    if (n < 0 && spare >= 0) {
        atomic_store(&p->board[spare].retire, 1);
        if (p->s->opt.accept == ACCEPT_PASS && !p->busy[spare])
            close_chan(p, (size_t)spare);
    }
}

/* --accept pass: takes what the listener has and passes each client to a free child, while
 * there is one. -1 when the listener failed, else 0. */
static int pass_clients(struct prefork_srv *p)
{
    for (;;) {
        size_t i = 0;
        while (i < p->nslots && (p->chan[i] < 0 || p->busy[i] || atomic_load(&p->board[i].retire)))
            i++;
        if (i == p->nslots)
            return 0; /* nobody free: the listener is not watched until a child is */
        struct sockaddr_storage peer;
        socklen_t len;
        int fd, r = srv_accept(p->s, &fd, &peer, &len);
        if (r <= 0)
            return r;
        while (i < p->nslots && net_send_fd(p->chan[i], fd) < 0) {
            close_chan(p, i); /* that child is gone: try the next free one */
            while (i < p->nslots &&
                   (p->chan[i] < 0 || p->busy[i] || atomic_load(&p->board[i].retire)))
                i++;
        }
        if (i == p->nslots)
            log_msg(LOG_ERR, "no child took a client; closing it");
        else
            p->busy[i] = true;
        close(fd); /* the child has its own copy */
    }
}

/* --accept pass: a byte from a child says it is free; the channel's end says it is gone. */
static void child_free(struct prefork_srv *p, size_t slot)
{
    char buf[64];
    ssize_t n = read(p->chan[slot], buf, sizeof buf);
    if (n > 0) {
        p->busy[slot] = false;
        if (atomic_load(&p->board[slot].retire))
            close_chan(p, slot);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_chan(p, slot);
    }
}

/* Keeps the pool full. Children that die as soon as they start (a broken system) are not
 * respawned more than twice the pool size per second; returns the ms to wait, or -1. */
static int refill(struct prefork_srv *p)
{
    long long now = clock_ms();
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
    if (slot < p->nslots && p->chan)
        close_chan(p, slot);
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
    static const struct srv_model model = {"prefork", CAPS_prefork, 0};
    struct srv s;
    struct prefork_srv p = {.s = &s, .lock_fd = -1};
    srv_start(&s, &model, argc, argv);
    p.nslots = (size_t)(s.opt.dynamic ? s.opt.max_workers : s.opt.workers);
    p.board = mmap(NULL, p.nslots * sizeof *p.board, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    p.chan = malloc(p.nslots * sizeof *p.chan);
    p.busy = calloc(p.nslots, sizeof *p.busy);
    /* The parent's poll set: signals, the listener, and a channel per child (pass). */
    struct pollfd *pf = calloc(p.nslots + 2, sizeof *pf);
    size_t *pf_slot = calloc(p.nslots + 2, sizeof *pf_slot);
    if (p.board == MAP_FAILED || !p.chan || !p.busy || !pf || !pf_slot || lock_init(&p) < 0 ||
        srv_kids_init(&p.kids, p.nslots) < 0 ||
        (s.opt.accept == ACCEPT_PASS &&
         fcntl(s.lfd, F_SETFL, fcntl(s.lfd, F_GETFL) | O_NONBLOCK) < 0)) {
        log_msg(LOG_ERR, "pool set-up: %s", strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < p.nslots; i++)
        p.chan[i] = -1;
    struct pool_ctl ctl;
    if (srv_pool_init(&s, &ctl) < 0)
        return 1;
    p.window_ms = clock_ms();
    int wait_ms = refill(&p); /* a dynamic pool starts at -w too */
    srv_pool_size(&s, (long)p.kids.live);

    srv_ready(&s);
    long long next_tick = clock_ms() + 1000;
    while (srv_level(&s) == 0) {
        if (s.opt.dynamic) {
            long long left = next_tick - clock_ms();
            wait_ms = left > 0 ? (int)left : 0;
        }
        nfds_t n = 0;
        pf[n++] = (struct pollfd){.fd = s.sigfd, .events = POLLIN};
        bool listening = false;
        for (size_t i = 0; s.opt.accept == ACCEPT_PASS && i < p.nslots; i++) {
            if (p.chan[i] < 0)
                continue;
            if (!p.busy[i] && !atomic_load(&p.board[i].retire))
                listening = true; /* someone is free: watch the listener */
            pf_slot[n] = i;
            pf[n++] = (struct pollfd){.fd = p.chan[i], .events = POLLIN};
        }
        nfds_t lpos = n;
        if (listening)
            pf[n++] = (struct pollfd){.fd = s.lfd, .events = POLLIN};
        int r = poll(pf, n, wait_ms);
        if (r < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        for (nfds_t k = 1; r > 0 && k < lpos; k++)
            if (pf[k].revents)
                child_free(&p, pf_slot[k]);
        if (r > 0 && listening && pf[lpos].revents && pass_clients(&p) < 0)
            break;
        if (r > 0 && pf[0].revents && (srv_signals(&s) & SRV_SIG_CHLD))
            srv_kids_reap(&p.kids, child_done, &p);
        if (srv_level(&s) == 0 && !s.opt.dynamic)
            wait_ms = refill(&p);
        if (srv_level(&s) == 0 && s.opt.dynamic && clock_ms() >= next_tick) {
            maintain(&p, &ctl);
            next_tick = clock_ms() + 1000;
        }
        srv_pool_size(&s, (long)p.kids.live);
    }

    /* Wakes every child blocked in accept() (EINVAL) and refuses new clients; children in
     * the middle of a request finish it, then exit on SIGTERM (with --accept pass, at the end
     * of their channel). */
    if (net_stop_accepting(s.lfd) < 0)
        log_msg(LOG_ERR, "shutdown: %s", strerror(errno));
    for (size_t i = 0; i < p.nslots; i++)
        close_chan(&p, i);
    srv_kids_drain(&s, &p.kids, child_done, &p);
    srv_kids_free(&p.kids);
    if (p.lock_fd >= 0)
        close(p.lock_fd);
    if (p.lock_mu)
        munmap(p.lock_mu, sizeof *p.lock_mu);
    munmap(p.board, p.nslots * sizeof *p.board);
    free(p.chan);
    free(p.busy);
    free(pf);
    free(pf_slot);
    return srv_finish(&s);
}
