/* loadgen: the load generator. Threads start together (a barrier, as the book's client
 * threads do), each drives its share of the connections from its own epoll loop (engine.c),
 * and their histograms and counters are merged after join. Prints a short summary like wrk's
 * and, with --json, the full result (written whole or not at all; its path is checked before
 * the run starts).
 *
 * The main thread only waits: for the workers, for SIGINT/SIGTERM (taken through a signalfd;
 * no handler) and for the next progress line. A first signal stops the run and still reports
 * it, marked interrupted; a second one exits at once.
 *
 * Exit status: 0; 1 when the run could not be made (cannot resolve, no descriptors, cannot
 * write the result); 2 for bad usage; 3 with --fail-on-errors when any request failed;
 * 128 + the signal's number when a signal stopped the run. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "loadgen.h"

#define EXIT_USAGE   2
#define EXIT_ERRORS  3
#define EXIT_NOTHING 4 /* no request was answered: nothing listens, or nothing works there */

/* Each connection takes one descriptor; raise the soft limit (and the hard one if allowed). */
static int raise_nofile(long conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    rlim_t need = (rlim_t)conns + 64;
    if (rl.rlim_cur >= need)
        return 0;
    struct rlimit want = {need, rl.rlim_max > need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    want.rlim_max = rl.rlim_max;
    want.rlim_cur = rl.rlim_max;
    if (rl.rlim_max >= need && setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    fprintf(stderr,
            "loadgen: %ld connections need %llu descriptors, but the limit is %llu (hard %llu); "
            "raise it with ulimit -n or use fewer connections\n",
            conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
            (unsigned long long)rl.rlim_max);
    return -1;
}

struct worker {
    pthread_t tid;
    int index;
    struct lg_shared *sh;
    int done_fd; /* an eventfd main waits on: each worker adds 1 when it ends */
    struct lg_result res;
    int rc;
    char err[256];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = lg_engine_run(w->sh, w->index, &w->res, w->err, sizeof w->err);
    uint64_t one = 1;
    if (write(w->done_fd, &one, sizeof one) < 0) {
        /* An eventfd write only fails on overflow, which a count of threads cannot reach;
         * main would then still find the thread ended at its next tick. */
    }
    return NULL;
}

static int cmp_req(const void *a, const void *b)
{
    const struct lg_request *x = a, *y = b;
    if (x->conn != y->conn)
        return x->conn < y->conn ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Waits for the workers, printing progress once a second if asked. The first SIGINT or
 * SIGTERM stops the run (returns its number once the workers are done); a second one exits
 * at once. */
static int wait_workers(const struct lg_opts *o, struct lg_shared *sh, int sigfd, int done_fd,
                        const struct lg_live *live)
{
    long finished = 0;
    int stopped_by = 0;
    uint64_t last = 0;
    int64_t next_tick = sh->t0_ns + 1000000000;
    for (int sec = 1; finished < o->threads;) {
        int timeout = -1;
        if (o->progress) {
            int64_t left = next_tick - lg_now_ns();
            timeout = left > 0 ? (int)((left + 999999) / 1000000) : 0;
        }
        struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = done_fd, .events = POLLIN}};
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: poll");
            break;
        }
        if (n > 0 && p[0].revents) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (stopped_by) {
                    static const char msg[] =
                        "loadgen: second signal: exiting now, nothing saved\n";
                    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
                        /* nothing more to do: we are leaving */
                    }
                    _exit(128 + (int)si.ssi_signo);
                }
                stopped_by = (int)si.ssi_signo;
                atomic_store(&sh->stop_ns, lg_now_ns());
                uint64_t one = 1;
                if (write(sh->stop_fd, &one, sizeof one) < 0)
                    perror("loadgen: eventfd");
                fprintf(stderr,
                        "loadgen: SIG%s: stopping; requests in flight get 1 s to finish "
                        "(again to exit at once)\n",
                        sigabbrev_np(stopped_by));
            }
        }
        if (n > 0 && p[1].revents) {
            uint64_t v;
            if (read(done_fd, &v, sizeof v) == (ssize_t)sizeof v)
                finished += (long)v;
        }
        if (o->progress && lg_now_ns() >= next_tick && finished < o->threads) {
            uint64_t req = 0, err = 0;
            for (long i = 0; i < o->threads; i++) {
                req += atomic_load_explicit(&live[i].requests, memory_order_relaxed);
                err += atomic_load_explicit(&live[i].errors, memory_order_relaxed);
            }
            fprintf(stderr, "[%3ds] %llu requests, %llu/s, %llu errors\n", sec,
                    (unsigned long long)req, (unsigned long long)(req - last),
                    (unsigned long long)err);
            last = req;
            sec++;
            next_tick += 1000000000;
        }
    }
    return stopped_by;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --start-at: waits for the wall clock to reach the agreed time (at once when it has); a
 * signal meanwhile ends the run before anything was measured. */
static int wait_start(const struct lg_opts *o, int sigfd)
{
    for (;;) {
        int64_t left = o->start_at_ns - wall_ns();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = sigfd, .events = POLLIN};
        int n = poll(&p, 1, left > 1000000 ? (int)(left / 1000000) : 0);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: poll");
            return -1;
        }
        if (n > 0) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                fprintf(stderr, "loadgen: SIG%s before the start: nothing measured\n",
                        sigabbrev_np((int)si.ssi_signo));
                exit(128 + (int)si.ssi_signo);
            }
        }
        if (left <= 1000000) {
            struct timespec ts = {(time_t)(o->start_at_ns / 1000000000),
                                  (long)(o->start_at_ns % 1000000000)};
            while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "merge"))
        return lg_merge_main(argc - 1, argv + 1);
    if (io_std_open() < 0) {
        perror("loadgen: /dev/null");
        return 1;
    }
    struct lg_opts o;
    int rc = lg_parse_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_USAGE;
    if (lg_resolve(&o) < 0 || raise_nofile(o.conns + (long)o.idle) < 0)
        return 1;
    /* With the JSON on standard output, the summary goes to standard error. */
    bool json_out = o.json_path &&
                    (!strcmp(o.json_path, "-") || !strcmp(o.json_path, "/dev/stdout") ||
                     !strcmp(o.json_path, "/dev/fd/1") || !strcmp(o.json_path, "/proc/self/fd/1"));
    struct lg_run ri = {.out = json_out ? stderr : stdout};

    /* Blocked before any thread exists, so that every thread inherits the mask and the
     * signals reach only the signalfd. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0) {
        fprintf(stderr, "loadgen: cannot block signals\n");
        return 1;
    }
    int sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct lg_live *live = calloc((size_t)o.threads, sizeof *live);
    struct worker *w = calloc((size_t)o.threads, sizeof *w);
    struct lg_shared sh = {.opt = &o, .live = live, .stop_fd = stop_fd};
    pthread_barrier_t ready, go;
    if (sigfd < 0 || done_fd < 0 || stop_fd < 0) {
        perror("loadgen: signalfd/eventfd");
        return 1;
    }
    if (!live || !w || pthread_barrier_init(&ready, NULL, (unsigned)o.threads + 1) ||
        pthread_barrier_init(&go, NULL, (unsigned)o.threads + 1)) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    sh.ready = &ready;
    sh.go = &go;
    int64_t spawned = lg_now_ns(); /* the ramp: from here until every thread is ready */
    for (long i = 0; i < o.threads; i++) {
        w[i].index = (int)i;
        w[i].sh = &sh;
        w[i].done_fd = done_fd;
        if (lg_result_init(&w[i].res, o.rate > 0, o.mix ? o.nclasses : 0) < 0) {
            fprintf(stderr, "loadgen: out of memory for histograms\n");
            return 1;
        }
        int e = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
        if (e != 0) {
            fprintf(stderr, "loadgen: thread %ld: %s\n", i, strerror(e));
            return 1;
        }
    }

    if (!o.book)
        fprintf(ri.out, "Running %s%s test @ %s\n", o.requests ? "" : "timed ",
                o.rate > 0 ? "open-loop" : "closed-loop", o.addr_str);
    fflush(ri.out);
    pthread_barrier_wait(&ready);
    ri.ramp_s = (double)(lg_now_ns() - spawned) / 1e9;
    if (o.start_at_ns && wait_start(&o, sigfd) < 0)
        return 1;
    ri.started = time(NULL);
    sh.t0_ns = lg_now_ns();
    ri.t0_wall_ns = wall_ns();
    ri.measure_wall_ns = ri.t0_wall_ns + (int64_t)o.warmup_us * 1000;
    sh.measure_ns = sh.t0_ns + (int64_t)o.warmup_us * 1000;
    sh.end_ns = o.requests ? INT64_MAX : sh.measure_ns + (int64_t)o.duration_us * 1000;
    pthread_barrier_wait(&go);

    ri.signal = wait_workers(&o, &sh, sigfd, done_fd, live);
    for (long i = 0; i < o.threads; i++)
        pthread_join(w[i].tid, NULL);
    ri.completed = time(NULL);

    struct lg_result total;
    if (lg_result_init(&total, o.rate > 0, o.mix ? o.nclasses : 0) < 0)
        return 1;
    int status = 0;
    for (long i = 0; i < o.threads; i++) {
        if (w[i].rc != 0) {
            fprintf(stderr, "loadgen: thread %ld: %s\n", i, w[i].err);
            status = 1;
        }
        if (lg_result_merge(&total, &w[i].res) < 0) {
            fprintf(stderr, "loadgen: out of memory merging results\n");
            return 1;
        }
        lg_result_free(&w[i].res);
    }

    /* The measured interval: a timed run's duration (cut short by a stop), or until the last
     * measured request ended; never a later wake-up of this thread. */
    int64_t stop = atomic_load(&sh.stop_ns);
    int64_t end = total.last_end_ns;
    if (!o.requests)
        end = sh.end_ns;
    if (ri.signal && stop > 0 && (o.requests || stop < end))
        end = stop > total.last_end_ns ? stop : total.last_end_ns;
    ri.elapsed_s = end > sh.measure_ns ? (double)(end - sh.measure_ns) / 1e9 : 0;
    ri.utime_s = total.cpu_user_s;
    ri.stime_s = total.cpu_sys_s;

    if (total.nreqs > 1)
        qsort(total.reqs, total.nreqs, sizeof *total.reqs, cmp_req);
    if (o.book)
        lg_print_book(&o, &total, ri.out);
    lg_print_summary(&o, &total, &ri);
    fflush(ri.out);
    if (lg_write_outputs(&o, &total, &ri) < 0)
        status = 1;
    if (status == 0 && o.fail_on_errors && lg_error_total(&total) > 0) {
        fprintf(stderr, "loadgen: %llu request(s) failed (--fail-on-errors)\n",
                (unsigned long long)lg_error_total(&total));
        status = EXIT_ERRORS;
    }
    if (status == 0 && total.requests_ok == 0 && total.warmup_requests == 0)
        status = EXIT_NOTHING; /* the summary said why ("nothing answered: ...") */
    if (ri.signal)
        status = 128 + ri.signal;
    lg_result_free(&total);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&go);
    free(w);
    free(live);
    close(sigfd);
    close(done_fd);
    close(stop_fd);
    return status;
}
