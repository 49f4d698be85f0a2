/* serve, log and daemon as units: a connection served over a socketpair, one log line, and
 * the pid file's rules. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "io.h"
#include "log.h"
#include "payload.h"
#include "blocking.h"
#include "stats.h"

struct served {
    struct serve_cfg cfg;
    struct stop stop;
    struct stats *stats;
    int fd;
    uint64_t answered;
};

static void *serve_thread(void *arg)
{
    struct served *s = arg;
    s->answered = blocking_serve(&s->cfg, &s->stop, &s->stats->slot[0], s->fd, NULL, 0);
    close(s->fd);
    return NULL;
}

static void start(struct served *s, int *client, pthread_t *t)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(s, 0, sizeof *s);
    serve_greeting(&s->cfg, "unit", 42);
    s->cfg.conn.limits = (struct proto_limits){.max_work = 1000000, .max_bytes = 1 << 20};
    s->cfg.timeout_ms = 5000;
    s->stats = stats_create(1);
    cr_assert(s->stats);
    s->stop.fd = eventfd(0, EFD_NONBLOCK);
    s->stop.abort_fd = eventfd(0, EFD_NONBLOCK);
    s->stop.listen_fd = -1;
    s->fd = sv[0];
    *client = sv[1];
    pthread_create(t, NULL, serve_thread, s);
}

Test(serve, greeting_requests_and_err, .init = NULL, .timeout = 60)
{
    log_init("unit", false);
    struct served s;
    int c;
    pthread_t t;
    start(&s, &c, &t);
    static const char greeting[] = "unit server ready (pid 42): send \"WORK BYTES\"\n";
    char line[sizeof greeting] = "";
    cr_assert_eq(io_readn(c, line, sizeof line - 1), (ssize_t)sizeof line - 1);
    cr_expect_str_eq(line, greeting);
    cr_assert_eq(io_writen(c, "100 70000\n10 3\n", 15), 15);
    static char buf[70003];
    cr_assert_eq(io_readn(c, buf, sizeof buf), (ssize_t)sizeof buf);
    cr_expect_eq(payload_check(buf, 70000, 0), 70000);
    cr_expect_eq(payload_check(buf + 70000, 3, 0), 3, "each answer starts at payload byte 0");
    cr_assert_eq(io_writen(c, "1 2 3\n", 6), 6);
    char reply[64];
    ssize_t n = io_readn(c, reply, sizeof reply - 1);
    reply[n > 0 ? n : 0] = '\0';
    cr_expect_str_eq(reply, "ERR expected two numbers: WORK BYTES\n");
    close(c);
    pthread_join(t, NULL);
    cr_expect_eq(s.answered, 2);
    struct stats_counts sum;
    stats_sum(s.stats, &sum);
    cr_expect_eq(sum.connections, 1);
    cr_expect_eq(sum.requests, 2);
    cr_expect_eq(sum.bad_requests, 1);
    cr_expect_eq(sum.primes, 25 + 4);
    uint64_t sent = sum.bytes_sent;
    cr_expect_eq(sent, 70003, "payload bytes sent: %llu", (unsigned long long)sent);
    stats_destroy(s.stats);
}

Test(serve, a_stop_ends_an_idle_connection, .timeout = 60)
{
    log_init("unit", false);
    struct served s;
    int c;
    pthread_t t;
    start(&s, &c, &t);
    char g[300];
    cr_assert_gt(read(c, g, sizeof g), 0);
    atomic_store(&s.stop.level, 1);
    uint64_t one = 1;
    cr_assert_eq(write(s.stop.fd, &one, sizeof one), (ssize_t)sizeof one);
    pthread_join(t, NULL); /* returns without the client sending anything */
    cr_expect_eq(s.answered, 0);
    cr_expect_eq(read(c, g, sizeof g), 0, "the server closed");
    close(c);
    stats_destroy(s.stats);
}

Test(log, one_whole_line_per_call, .timeout = 60)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    int saved = dup(2);
    dup2(p[1], 2);
    log_init("unit-log", false);
    log_msg(LOG_WARNING, "hello %d", 7);
    dup2(saved, 2);
    close(p[1]);
    char buf[512];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_expect(strstr(buf, "unit-log[") && strstr(buf, "] warning: hello 7\n"), "line '%s'", buf);
    cr_expect_eq(buf[n - 1], '\n');
    cr_expect_eq(strchr(buf, '\n'), buf + n - 1, "a single line");
}

Test(daemon, pid_file_rules, .timeout = 60)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "/tmp/cb-pidfile-%ld", (long)getpid());
    unlink(path);
    cr_expect_eq(pidfile_check(path, err, sizeof err), 0, "absent: fine");
    cr_assert_eq(pidfile_write(path, err, sizeof err), 0, "%s", err);
    FILE *f = fopen(path, "r");
    long pid = 0;
    cr_assert(f);
    cr_expect_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    cr_expect_eq(pid, (long)getpid());

    /* A pid file naming another live process refuses; a stale one does not. */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    f = fopen(path, "w");
    fprintf(f, "%ld\n", (long)child);
    fclose(f);
    cr_expect_eq(pidfile_check(path, err, sizeof err), -1);
    cr_expect(strstr(err, "is running"), "%s", err);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_expect_eq(pidfile_check(path, err, sizeof err), 0, "stale: %s", err);

    pidfile_remove(path); /* names another process: kept */
    cr_expect_eq(access(path, F_OK), 0);
    cr_assert_eq(pidfile_write(path, err, sizeof err), 0);
    pidfile_remove(path);
    cr_expect_neq(access(path, F_OK), 0, "removed when it names this process");
}
