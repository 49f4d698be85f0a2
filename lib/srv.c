#include "sieve.h"
#include "srv.h"

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commit.h"
#include "daemon.h"
#include "io.h"
#include "log.h"
#include "net.h"
#include "outfile.h"
#include "payload.h"

long long srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int make_signalfd(bool with_chld)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (with_chld) {
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGHUP);
    }
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void json_str(char *out, size_t n, const char *s)
{
    size_t j = 0;
    for (; *s && j + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[j++] = '\\';
            out[j++] = (char)c;
        } else if (c < 0x20) {
            j += (size_t)snprintf(out + j, n - j, "\\u%04x", c);
        } else {
            out[j++] = (char)c;
        }
    }
    out[j] = '\0';
}

static void listening_line(struct srv *s, char *buf, size_t n)
{
    char where[1024];
    if (s->opt.unix_path) {
        json_str(where, sizeof where, s->opt.unix_path);
        snprintf(buf, n, "{\"event\":\"listening\",\"model\":\"%s\",\"path\":\"%s\",\"pid\":%ld}\n",
                 s->model->name, where, (long)getpid());
    } else {
        json_str(where, sizeof where, s->opt.host);
        snprintf(buf, n,
                 "{\"event\":\"listening\",\"model\":\"%s\",\"host\":\"%s\",\"port\":%d,"
                 "\"pid\":%ld}\n",
                 s->model->name, where, s->port, (long)getpid());
    }
}

static void make_thread_stop(struct srv *s)
{
    s->stop.own_signals = false;
    s->stop.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->stop.abort_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop.fd < 0 || s->stop.abort_fd < 0)
        err(1, "eventfd");
}

void srv_start(struct srv *s, const struct srv_model *m, int argc, char **argv)
{
    char e[512];
    memset(s, 0, sizeof *s);
    s->model = m;
    s->lfd = -1;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    if (io_std_open() < 0)
        err(1, "/dev/null");

    int rc = cli_parse_server(argc, argv, m->caps, &s->opt, e, sizeof e);
    if (rc == CLI_HELP) {
        cli_usage_server(stdout, argv[0], m->caps);
        exit(0);
    }
    if (rc == CLI_VERS) {
        printf("%s-srv %s (%s; %s; %s)\n", m->name, PROJECT_VERSION, GIT_COMMIT, BUILD_CC,
               BUILD_CFLAGS);
        exit(0);
    }
    if (rc != CLI_OK) {
        fprintf(stderr, "%s-srv: %s\n", m->name, e);
        exit(2);
    }
    sieve_set_alloc(s->opt.sieve_reuse ? SIEVE_REUSE : SIEVE_FRESH); /* before any thread */
    if (sieve_set_budget(s->opt.max_sieve_memory) < 0)
        err(1, "--max-sieve-memory: cannot map its shared counter");
    static char ident[64];
    snprintf(ident, sizeof ident, "%s-srv", m->name);
    log_init(ident, false);

    /* Before any thread or child exists, so that every one inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        err(1, "sigprocmask");
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        err(1, "signal");

    /* One descriptor per client: take the whole hard limit, as nginx's worker_rlimit_nofile. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_msg(LOG_WARNING, "RLIMIT_NOFILE: %s", strerror(errno));
    }

    payload_block();
    /* A slot per worker: a pool's -w, and for the models that make a worker per client room
     * for that many at once before two of them share a slot. */
    size_t slots = 64;
    if ((m->caps & (CAP_WORKERS | CAP_LOOPS)) && (size_t)s->opt.workers > slots)
        slots = (size_t)s->opt.workers;
    s->stats = stats_create(slots + 1);
    if (!s->stats)
        err(1, "shared stats mapping");
    /* The stats line's workers until a pool reports its own size: the pool's -w, an event
     * loop's 1, or the per-client models' --max-clients cap. */
    long workers = (m->caps & (CAP_WORKERS | CAP_LOOPS)) ? s->opt.workers
                   : (m->flags & SRV_EVENT)              ? 1
                   : (m->caps & CAP_MAX_CLIENTS)         ? s->opt.max_clients
                                                         : 1;
    atomic_store(&s->pool_now, workers);
    atomic_store(&s->pool_peak,
                 (m->caps & CAP_MAX_CLIENTS) && !(m->flags & SRV_EVENT) ? 0 : workers);

    /* Every file the server will write is checked now, not found unwritable at the end. */
    if (s->opt.pidfile && (outfile_check(s->opt.pidfile, e, sizeof e) < 0 ||
                           pidfile_check(s->opt.pidfile, e, sizeof e) < 0))
        errx(2, "-P %s", e);
    if (s->opt.stats_file && outfile_check(s->opt.stats_file, e, sizeof e) < 0)
        errx(2, "--stats %s", e);

    bool nb = (m->flags & SRV_NONBLOCK) != 0;
    if (s->opt.unix_path)
        s->lfd = net_listen_unix(s->opt.unix_path, s->opt.backlog, nb, e, sizeof e);
    else
        s->lfd =
            (m->flags & SRV_REUSEPORT)
                ? net_listen_group(s->opt.host, s->opt.port, s->opt.backlog, nb, &s->port, e,
                                   sizeof e)
                : net_listen(s->opt.host, s->opt.port, s->opt.backlog, nb, &s->port, e, sizeof e);
    if (s->lfd < 0)
        errx(1, "%s", e);
    if ((m->flags & SRV_REUSEPORT) && !s->opt.unix_path && !s->opt.exclusive) {
        s->group = calloc((size_t)s->opt.workers, sizeof *s->group);
        if (!s->group)
            err(1, "listeners");
        s->group[0] = s->lfd;
        for (s->ngroup = 1; s->ngroup < (size_t)s->opt.workers; s->ngroup++) {
            s->group[s->ngroup] = net_listen_member(s->lfd, s->opt.backlog, nb, e, sizeof e);
            if (s->group[s->ngroup] < 0)
                errx(1, "%s", e);
        }
    }

    s->ready_fd = -1;
    if (s->opt.daemon) {
        rc = daemon_start(&s->ready_fd, e, sizeof e);
        if (rc < 0)
            errx(1, "%s", e);
        if (rc != DAEMON_CHILD)
            exit(rc == DAEMON_PARENT_OK ? 0 : 1);
        log_init(ident, true);
    }
    /* The pid file is written before privileges are dropped, as daemons do: its directory is
     * often root's (/run). It is handed to the user, so that the server can still empty it at
     * the end where it may not remove it. */
    if (s->opt.pidfile && pidfile_write(s->opt.pidfile, e, sizeof e) < 0) {
        log_msg(LOG_ERR, "%s", e);
        exit(1);
    }
    if (s->opt.daemon && s->opt.user &&
        daemon_drop_privileges(s->opt.user, s->opt.pidfile, e, sizeof e) < 0) {
        log_msg(LOG_ERR, "%s", e);
        pidfile_remove(s->opt.pidfile);
        exit(1);
    }

    s->sigfd = make_signalfd(true);
    if (s->sigfd < 0)
        err(1, "signalfd");
    if (m->flags & SRV_THREADS) {
        make_thread_stop(s);
    } else {
        s->stop.own_signals = true;
        s->stop.fd = s->stop.abort_fd = s->sigfd;
    }
    s->stop.listen_fd = -1;
    s->stop.grace_ms = s->opt.grace_ms;

    serve_greeting(&s->serve, m->name, (long)getpid());
    s->serve.conn.limits.max_work = s->opt.max_work;
    s->serve.conn.limits.max_bytes = s->opt.max_bytes;
    s->serve.timeout_ms = s->opt.timeout_ms > 0 ? s->opt.timeout_ms : -1;
}

int srv_pool_init(struct srv *s, struct pool_ctl *ctl)
{
    *ctl = (struct pool_ctl){s->opt.min_spare, s->opt.max_spare, s->opt.max_workers, 1};
    if (!s->opt.dynamic || s->opt.accept != ACCEPT_SELF)
        return 0;
    struct timeval tv = {1, 0};
    if (setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        log_msg(LOG_ERR, "SO_RCVTIMEO: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void srv_pool_size(struct srv *s, long n)
{
    atomic_store(&s->pool_now, n);
    srv_peak_workers(s, n);
}

void srv_peak_workers(struct srv *s, long n)
{
    long peak = atomic_load(&s->pool_peak);
    while (n > peak && !atomic_compare_exchange_weak(&s->pool_peak, &peak, n))
        ;
}

/* The stats line, now; -1 when it cannot be made. */
static int stats_line(struct srv *s, char *buf, size_t n, bool final)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct stats_line info = {
        .model = s->model->name,
        .workers = atomic_load(&s->pool_now),
        .peak_workers = atomic_load(&s->pool_peak),
        .backlog = s->opt.backlog,
        .sieve_alloc = s->opt.sieve_reuse ? "reuse" : "fresh",
        .sieve_refused = sieve_refused(),
        .per_worker = s->per_worker,
        .nper_worker = s->nper_worker,
        .wall_s = (double)(now.tv_sec - s->started.tv_sec) +
                  (double)(now.tv_nsec - s->started.tv_nsec) / 1e9,
        .final = final,
    };
    return stats_format(buf, n, s->stats, &info);
}

/* --stats-interval: a line every interval, on a monotonic schedule, until srv_finish. Only
 * atomics, getrusage and write(2): nothing a fork() in another thread could find locked. */
static void *stats_thread(void *arg)
{
    struct srv *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->stats_mu);
    for (;;) {
        next.tv_sec += s->opt.stats_interval_ms / 1000;
        next.tv_nsec += (long)(s->opt.stats_interval_ms % 1000) * 1000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000;
        }
        int e = 0;
        while (!s->stats_stop && e != ETIMEDOUT)
            e = pthread_cond_timedwait(&s->stats_cv, &s->stats_mu, &next);
        if (s->stats_stop)
            break;
        char line[1024];
        int n = stats_line(s, line, sizeof line, false);
        if (n > 0 && io_writen(STDOUT_FILENO, line, (size_t)n) < 0)
            break; /* stdout is gone: the closing line will say so */
    }
    pthread_mutex_unlock(&s->stats_mu);
    return NULL;
}

static void stats_thread_start(struct srv *s)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
        pthread_cond_init(&s->stats_cv, &ca) || pthread_mutex_init(&s->stats_mu, NULL)) {
        log_msg(LOG_ERR, "--stats-interval: cannot set up its timer; no periodic lines");
        return;
    }
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&s->stats_tid, NULL, stats_thread, s);
    if (e != 0) {
        log_msg(LOG_ERR, "--stats-interval: pthread_create: %s; no periodic lines", strerror(e));
        return;
    }
    s->stats_running = true;
}

static void stats_thread_stop(struct srv *s)
{
    if (!s->stats_running)
        return;
    pthread_mutex_lock(&s->stats_mu);
    s->stats_stop = true;
    pthread_cond_signal(&s->stats_cv);
    pthread_mutex_unlock(&s->stats_mu);
    pthread_join(s->stats_tid, NULL);
    s->stats_running = false;
}

void srv_ready(struct srv *s)
{
    char line[1200];
    listening_line(s, line, sizeof line);
    if (s->ready_fd >= 0) {
        daemon_ready(s->ready_fd, line);
        s->ready_fd = -1;
    } else if (io_writen(STDOUT_FILENO, line, strlen(line)) < 0) {
        err(1, "stdout");
    }
    if (s->opt.unix_path)
        log_msg(LOG_INFO, "listening on %s, backlog %d", s->opt.unix_path, s->opt.backlog);
    else
        log_msg(LOG_INFO, "listening on %s port %d, backlog %d", s->opt.host, s->port,
                s->opt.backlog);
    if (s->opt.stats_interval_ms > 0)
        stats_thread_start(s);
}

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
        long long now = srv_now_ms(), prev = atomic_load(&last_warn);
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

int srv_level(struct srv *s)
{
    return atomic_load(&s->stop.level);
}

void srv_set_level(struct srv *s, int level)
{
    if (level > 2)
        level = 2; /* aborting is the last level: a third signal changes nothing */
    int cur = atomic_load(&s->stop.level);
    if (level <= cur)
        return;
    atomic_store(&s->stop.level, level);
    if (!s->stop.own_signals) {
        uint64_t one = 1;
        if (write(s->stop.fd, &one, sizeof one) < 0)
            log_msg(LOG_ERR, "stop eventfd: %s", strerror(errno));
        if (level >= 2 && write(s->stop.abort_fd, &one, sizeof one) < 0)
            log_msg(LOG_ERR, "abort eventfd: %s", strerror(errno));
    }
}

unsigned srv_signals(struct srv *s)
{
    struct signalfd_siginfo si;
    unsigned mask = 0;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            srv_set_level(s, srv_level(s) + 1);
            log_msg(LOG_INFO, "%s: %s", strsignal((int)si.ssi_signo),
                    srv_level(s) == 1 ? "stopping; requests in flight may finish" : "stopping now");
            mask |= SRV_SIG_STOP;
            break;
        case SIGCHLD:
            mask |= SRV_SIG_CHLD;
            break;
        default:
            break; /* SIGHUP: nothing to reload */
        }
    }
    return mask;
}

int srv_child_init(struct srv *s)
{
    if (s->ready_fd >= 0) {
        close(s->ready_fd);
        s->ready_fd = -1;
    }
    close(s->sigfd);
    s->sigfd = make_signalfd(false);
    if (s->sigfd < 0)
        return -1;
    s->stop.own_signals = true;
    s->stop.fd = s->stop.abort_fd = s->sigfd;
    s->stop.listen_fd = -1;
    s->stop.grace_ms = s->opt.grace_ms;
    atomic_store(&s->stop.level, 0);
    return 0;
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
    serve_conn(&s->serve, &s->stop, w, fd, (const struct sockaddr *)peer, len);
    close(fd);
}

int srv_kids_init(struct srv_kids *k, size_t cap)
{
    k->cap = cap ? cap : 16;
    k->live = 0;
    k->pid = calloc(k->cap, sizeof *k->pid);
    return k->pid ? 0 : -1;
}

void srv_kids_free(struct srv_kids *k)
{
    free(k->pid);
    k->pid = NULL;
}

long srv_kids_add(struct srv_kids *k, pid_t pid)
{
    for (size_t i = 0; i < k->cap; i++) {
        if (k->pid[i] == 0) {
            k->pid[i] = pid;
            k->live++;
            return (long)i;
        }
    }
    pid_t *grown = realloc(k->pid, 2 * k->cap * sizeof *grown);
    if (!grown)
        return -1;
    memset(grown + k->cap, 0, k->cap * sizeof *grown);
    k->pid = grown;
    k->cap *= 2;
    return srv_kids_add(k, pid);
}

size_t srv_kids_reap(struct srv_kids *k, void (*done)(size_t slot, int status, void *arg),
                     void *arg)
{
    size_t n = 0;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        n++;
        for (size_t i = 0; i < k->cap; i++) {
            if (k->pid[i] == pid) {
                k->pid[i] = 0;
                k->live--;
                if (done)
                    done(i, st, arg);
                break;
            }
        }
    }
    return n;
}

void srv_kids_kill(struct srv_kids *k, int sig)
{
    for (size_t i = 0; i < k->cap; i++)
        if (k->pid[i] > 0 && kill(k->pid[i], sig) < 0 && errno != ESRCH)
            log_msg(LOG_ERR, "kill %ld: %s", (long)k->pid[i], strerror(errno));
}

struct kids_drain {
    struct srv_kids *k;
    void (*done)(size_t slot, int status, void *arg);
    void *arg;
};

static size_t kids_live(void *arg)
{
    return ((struct kids_drain *)arg)->k->live;
}

static void kids_reap(void *arg)
{
    struct kids_drain *d = arg;
    srv_kids_reap(d->k, d->done, d->arg);
}

static void kids_abort(void *arg)
{
    srv_kids_kill(((struct kids_drain *)arg)->k, SIGKILL);
}

void srv_kids_drain(struct srv *s, struct srv_kids *k,
                    void (*done)(size_t slot, int status, void *arg), void *arg)
{
    struct kids_drain d = {k, done, arg};
    struct srv_drain_ops ops = {kids_live, kids_reap, kids_abort, -1, &d};
    srv_set_level(s, 1);
    srv_kids_kill(k, SIGTERM);
    srv_drain(s, &ops);
}

void srv_drain(struct srv *s, const struct srv_drain_ops *ops)
{
    long long deadline = srv_now_ms() + s->opt.grace_ms;
    bool aborted = false;

    while (ops->live(ops->arg) > 0) {
        if (!aborted && (srv_level(s) >= 2 || srv_now_ms() >= deadline)) {
            if (srv_level(s) < 2)
                log_msg(LOG_WARNING,
                        "grace time of %d ms over; %zu worker(s) still busy, "
                        "stopping them",
                        s->opt.grace_ms, ops->live(ops->arg));
            srv_set_level(s, 2);
            if (ops->abort)
                ops->abort(ops->arg);
            aborted = true;
        }
        long long wait = aborted ? 100 : deadline - srv_now_ms();
        if (wait < 0)
            wait = 0;
        struct pollfd p[2] = {{.fd = s->sigfd, .events = POLLIN},
                              {.fd = ops->wakefd, .events = POLLIN}};
        int r = poll(p, ops->wakefd >= 0 ? 2 : 1, (int)(wait > 1000 ? 1000 : wait));
        if (r < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && p[0].revents)
            srv_signals(s);
        if (r > 0 && ops->wakefd >= 0 && p[1].revents) {
            uint64_t v;
            if (read(ops->wakefd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_msg(LOG_ERR, "read eventfd: %s", strerror(errno));
        }
        if (ops->reap)
            ops->reap(ops->arg);
    }
}

int srv_finish(struct srv *s)
{
    stats_thread_stop(s);
    char line[1024], e[512];
    int status = 0;
    if (stats_line(s, line, sizeof line, true) < 0) {
        log_msg(LOG_ERR, "stats: %s", strerror(errno));
        status = 1;
    } else {
        if (io_writen(STDOUT_FILENO, line, strlen(line)) < 0)
            status = 1;
        if (s->opt.stats_file && outfile_write(s->opt.stats_file, line, strlen(line), e, sizeof e))
            log_msg(LOG_ERR, "--stats %s", e);
    }
    if (s->lfd >= 0)
        close(s->lfd);
    for (size_t i = 1; i < s->ngroup; i++)
        close(s->group[i]);
    free(s->group);
    if (s->opt.unix_path)
        unlink(s->opt.unix_path);
    pidfile_remove(s->opt.pidfile);
    if (!s->stop.own_signals) {
        close(s->stop.fd);
        close(s->stop.abort_fd);
    }
    close(s->sigfd);
    stats_destroy(s->stats);
    log_msg(LOG_INFO, "stopped");
    return status;
}

struct loop_start {
    void *(*run)(void *);
    void *arg;
    int done_fd;
    pthread_t tid;
};

static void *loop_thread(void *p)
{
    struct loop_start *ls = p;
    ls->run(ls->arg);
    uint64_t one = 1;
    if (write(ls->done_fd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "loop done eventfd: %s", strerror(errno));
    return NULL;
}

int srv_run_loops(struct srv *s, size_t n, void *(*run)(void *), void *args, size_t size)
{
    struct loop_start *ls = calloc(n, sizeof *ls);
    int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!ls || done_fd < 0) {
        log_msg(LOG_ERR, "starting %zu loops: %s", n, strerror(errno));
        free(ls);
        if (done_fd >= 0)
            close(done_fd);
        return -1;
    }
    int rc = 0;
    size_t running = 0;
    for (; running < n; running++) {
        ls[running] = (struct loop_start){run, (char *)args + running * size, done_fd, 0};
        int e = pthread_create(&ls[running].tid, NULL, loop_thread, &ls[running]);
        if (e) {
            log_msg(LOG_ERR, "pthread_create: %s", strerror(e));
            rc = -1;
            break;
        }
    }
    size_t started = running;
    if (rc == 0)
        srv_ready(s);
    else
        srv_set_level(s, 2); /* the loops that run stop at once */
    while (running > 0) {
        struct pollfd p[2] = {{s->sigfd, POLLIN, 0}, {done_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            srv_set_level(s, 2);
            break;
        }
        if (p[0].revents)
            srv_signals(s);
        uint64_t k;
        if (p[1].revents && read(done_fd, &k, sizeof k) == (ssize_t)sizeof k)
            running -= k < running ? (size_t)k : running;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(ls[i].tid, NULL);
    close(done_fd);
    free(ls);
    return rc;
}
