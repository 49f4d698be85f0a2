#include "srv.h"
#include "models.h" /* MODEL_WHATS: from servers/models */

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
#include "jdoc.h"
#include "log.h"
#include "net.h"
#include "outfile.h"
#include "payload.h"
#include "sieve.h"
#include "stop.h"

/* The line that says where the server listens, for whoever started it. */
static void listening_line(struct srv *s, char *buf, size_t n)
{
    json_object *o = json_object_new_object();
    int ok = o && jdoc_set(o, "event", json_object_new_string("listening")) &&
             jdoc_set(o, "model", json_object_new_string(s->model->name));
    if (ok && s->opt.unix_path)
        ok = jdoc_set(o, "path", json_object_new_string(s->opt.unix_path));
    else if (ok)
        ok = jdoc_set(o, "host", json_object_new_string(s->opt.host)) &&
             jdoc_set(o, "port", json_object_new_int(s->port));
    ok = ok && jdoc_set(o, "pid", json_object_new_int64(getpid()));
    if (!ok || jdoc_line(o, buf, n) < 0)
        errx(1, "the listening line: out of memory");
    json_object_put(o);
}

/* What the model is, in the registry's words (servers/models, by way of models.h). */
static const char *model_what(const char *name)
{
#define X(n, w)                                                                                    \
    if (!strcmp(name, n))                                                                          \
        return w;
    MODEL_WHATS
#undef X
    return "this model";
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

    int rc = cli_parse_server(argc, argv, m->caps, model_what(m->name), &s->opt, e, sizeof e);
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

    s->sigfd = stop_signalfd(true);
    if (s->sigfd < 0)
        err(1, "signalfd");
    if (m->flags & SRV_THREADS) {
        if (stop_threads_init(&s->stop) < 0)
            err(1, "eventfd");
    } else {
        s->stop.own_signals = true;
        s->stop.says = true;
        s->stop.fd = s->stop.abort_fd = s->sigfd;
    }
    s->stop.listen_fd = -1;
    s->stop.grace_ms = s->opt.grace_ms;
    s->main_pid = getpid();

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

/* --stats-interval: the running totals, as a line that is not the final one. */
static int ticker_line(void *arg, char *buf, size_t n)
{
    return stats_line(arg, buf, n, false);
}

void srv_ready(struct srv *s)
{
    char line[4096];
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
        stats_ticker_start(&s->ticker, s->opt.stats_interval_ms, ticker_line, s);
}

int srv_finish(struct srv *s)
{
    stats_ticker_stop(&s->ticker);
    char line[65536], e[512];
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
