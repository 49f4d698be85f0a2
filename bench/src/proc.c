#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t proc_interrupted;

static void on_signal(int sig)
{
    proc_interrupted = sig;
}

void proc_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

long long now_ns(int clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int proc_std_streams(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int f = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (f < 0)
            return -1;
        if (f != fd) { /* a lower one was closed too and took f: that one is done */
            if (dup2(f, fd) < 0)
                return -1;
            close(f);
        }
    }
    return 0;
}

/* In the child: the stream fd onto path (or /dev/null); false on failure. */
static bool redirect(int fd, const char *path, int flags)
{
    int f = open(path ? path : "/dev/null", flags, 0644);
    if (f < 0)
        return false;
    if (f == fd) /* fd was closed: open gave it back, with flags' O_CLOEXEC */
        return fcntl(fd, F_SETFD, 0) == 0;
    if (dup2(f, fd) < 0)
        return false;
    close(f);
    return true;
}

/* In the child, first: it dies with this process (death_sig when the orchestrator's process
 * ends, however it ends, checked against its pid after it is set: an orchestrator killed
 * in between would never send it), and with group, leads a process group of its own. */
static void child_defaults(pid_t parent, int death_sig, bool group)
{
    if (prctl(PR_SET_PDEATHSIG, death_sig) < 0 || getppid() != parent)
        _exit(126);
    if (group && setpgid(0, 0) < 0)
        _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
}

pid_t proc_start(const struct spawn *s, char *err, size_t errlen)
{
    cpu_set_t set;
    if (s->cpus) {
        CPU_ZERO(&set);
        for (int c = 0; c < 1024 && c < CPU_SETSIZE; c++)
            if (s->cpus[c / 8] & (1u << (c % 8)))
                CPU_SET(c, &set);
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        if (s->group) /* set on both sides, so that it holds whichever runs first */
            setpgid(pid, pid);
        return pid;
    }
    child_defaults(parent, s->parent_death ? s->parent_death : SIGKILL, s->group);
    /* O_NOFOLLOW: a link planted where a log goes (a run directory is shared) is refused. */
    int wflags = O_WRONLY | O_CREAT | (s->append ? O_APPEND : O_TRUNC) | O_CLOEXEC | O_NOFOLLOW;
    if (s->inherit) {
        if (!redirect(0, s->in, O_RDONLY) || dup2(2, 1) != 1)
            _exit(126);
    } else if (!redirect(0, s->in, O_RDONLY) || !redirect(1, s->out, wflags) ||
               !(s->err_to_out ? dup2(1, 2) == 2 : redirect(2, s->err, wflags)))
        _exit(126);
    if (s->cpus && sched_setaffinity(0, sizeof set, &set) < 0) {
        dprintf(2, "%s: cannot set the CPU affinity: %s\n", s->argv[0], strerror(errno));
        _exit(126);
    }
    execvp(s->argv[0], (char *const *)s->argv);
    dprintf(2, "%s: %s\n", s->argv[0], strerror(errno));
    _exit(127);
}

/* proc_wait, and with through set proc_reap: the same wait, not cut short by a signal. */
static int wait_for(pid_t pid, int timeout_ms, int *status, bool through)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    long long deadline = timeout_ms < 0 ? 0 : now_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000LL;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            if (pfd >= 0)
                close(pfd);
            if (r < 0)
                *status = 0;
            return 0;
        }
        if (proc_interrupted && !through) {
            if (pfd >= 0)
                close(pfd);
            return 2;
        }
        int left = -1;
        if (timeout_ms >= 0) {
            long long ms = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
            if (ms <= 0) {
                if (pfd >= 0)
                    close(pfd);
                return 1;
            }
            left = (int)ms;
        }
        if (pfd >= 0) {
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            poll(&p, 1, left); /* EINTR: the loop looks at the flag */
        } else {
            /* No pidfd (a kernel before 5.3): look again every 10 ms. */
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
    }
}

int proc_wait(pid_t pid, int timeout_ms, int *status)
{
    return wait_for(pid, timeout_ms, status, false);
}

int proc_reap(pid_t pid, int timeout_ms, int *status)
{
    return wait_for(pid, timeout_ms, status, true);
}

void proc_stop(pid_t pid, int grace_ms, int *status)
{
    int st = 0;
    kill(pid, SIGTERM);
    if (proc_reap(pid, grace_ms, &st) != 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    proc_sweep(pid);
    if (status)
        *status = st;
}

void proc_sweep(pid_t pid)
{
    /* A group's id stays taken while a member lives, so this reaches only pid's group. */
    kill(-pid, SIGKILL);
}

static int shell_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct capture {
    char *buf;
    size_t len, used;
};

static void keep_line(const char *line, long long now, void *arg)
{
    (void)now;
    struct capture *c = arg;
    size_t n = strlen(line);
    if (c->used + n + 2 > c->len)
        n = c->len > c->used + 2 ? c->len - c->used - 2 : 0;
    memcpy(c->buf + c->used, line, n);
    c->used += n;
    if (c->used + 1 < c->len)
        c->buf[c->used++] = '\n';
    c->buf[c->used] = 0;
}

int proc_capture(const char *const *argv, char *buf, size_t len, int timeout_ms)
{
    struct capture c = {buf, len, 0};
    if (len)
        buf[0] = 0;
    return proc_lines(argv, timeout_ms, keep_line, &c);
}

int proc_lines(const char *const *argv, int timeout_ms,
               void (*fn)(const char *line, long long now_ns, void *arg), void *arg)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        child_defaults(parent, SIGKILL, false);
        if (dup2(p[1], 1) < 0 || !redirect(0, NULL, O_RDONLY) || !redirect(2, NULL, O_WRONLY))
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    long long deadline = now_ns(CLOCK_MONOTONIC) + (long long)timeout_ms * 1000000LL;
    char line[8192];
    size_t used = 0;
    bool timed_out = false;
    for (;;) {
        long long ms = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
        if (ms <= 0 || proc_interrupted) {
            timed_out = true;
            break;
        }
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        int r = poll(&pf, 1, (int)ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(p[0], line + used, sizeof line - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        long long now = now_ns(CLOCK_REALTIME);
        used += (size_t)n;
        line[used] = 0;
        char *start = line, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            fn(start, now, arg);
            start = nl + 1;
        }
        used = (size_t)(line + used - start);
        memmove(line, start, used);
        if (used == sizeof line - 1) { /* a line longer than the buffer: handed over cut */
            line[used] = 0;
            fn(line, now, arg);
            used = 0;
        }
    }
    if (used && !timed_out) {
        line[used] = 0;
        fn(line, now_ns(CLOCK_REALTIME), arg);
    }
    close(p[0]);
    int st;
    if (timed_out) {
        proc_stop(pid, 2000, &st);
        return proc_interrupted ? 130 : 124;
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return shell_status(st);
}
