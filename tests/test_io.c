/* io over socketpairs, with a peer that writes one byte at a time. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"

struct trickle {
    int fd;
    const char *data;
    size_t len;
};

static void *trickle_writer(void *arg)
{
    struct trickle *t = arg;
    for (size_t i = 0; i < t->len; i++) {
        if (write(t->fd, t->data + i, 1) != 1)
            break;
        if (i % 7 == 0)
            usleep(100);
    }
    close(t->fd);
    return NULL;
}

static pthread_t start_trickle(int fd, const char *data, size_t len, struct trickle *t)
{
    *t = (struct trickle){fd, data, len};
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, trickle_writer, t), 0);
    return tid;
}

Test(io, readn_gathers_single_bytes, .timeout = 60)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char msg[] = "the quick brown fox jumps over the lazy dog";
    struct trickle t;
    pthread_t tid = start_trickle(sv[1], msg, sizeof msg - 1, &t);
    char buf[64];
    cr_expect_eq(io_readn(sv[0], buf, sizeof msg - 1), (ssize_t)(sizeof msg - 1));
    cr_expect_eq(memcmp(buf, msg, sizeof msg - 1), 0);
    cr_expect_eq(io_readn(sv[0], buf, 10), 0, "end of file after the message");
    pthread_join(tid, NULL);
    close(sv[0]);
}

Test(io, readn_short_at_eof, .timeout = 60)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(write(sv[1], "abc", 3), 3);
    close(sv[1]);
    char buf[10];
    cr_expect_eq(io_readn(sv[0], buf, sizeof buf), 3);
    close(sv[0]);
}

struct reader {
    int fd;
    size_t got;
};

static void *slow_reader(void *arg)
{
    struct reader *r = arg;
    char buf[1000];
    ssize_t n;
    while ((n = read(r->fd, buf, sizeof buf)) > 0) {
        r->got += (size_t)n;
        usleep(50);
    }
    return NULL;
}

Test(io, writen_survives_short_writes, .timeout = 60)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct reader r = {sv[1], 0};
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, slow_reader, &r), 0);
    static char big[1 << 20];
    memset(big, 'x', sizeof big);
    cr_expect_eq(io_writen(sv[0], big, sizeof big), (ssize_t)sizeof big);
    close(sv[0]);
    pthread_join(tid, NULL);
    cr_expect_eq(r.got, sizeof big);
    close(sv[1]);
}

Test(io, writes_to_a_closed_peer_give_epipe_not_sigpipe, .timeout = 60)
{
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill this test */
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    errno = 0;
    cr_expect_eq(io_writen(sv[0], "hello", 5), -1);
    cr_expect_eq(errno, EPIPE);
    cr_expect_eq(io_send_some(sv[0], "hello", 5), -1);
    cr_expect_eq(errno, EPIPE);
    close(sv[0]);
}

Test(io, wait_reports_ready_stop_and_timeout, .timeout = 60)
{
    int sv[2], stop[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pipe(stop), 0);
    cr_expect_eq(io_wait(sv[0], POLLIN, stop[0], 10), IO_TIMEOUT);
    cr_assert_eq(write(stop[1], "x", 1), 1);
    cr_expect_eq(io_wait(sv[0], POLLIN, stop[0], -1), IO_STOP);
    cr_expect_eq(io_wait(sv[0], POLLOUT, -1, -1), IO_READY);
    cr_assert_eq(write(sv[1], "y", 1), 1);
    cr_expect_eq(io_wait(sv[0], POLLIN, -1, -1), IO_READY);
    close(sv[0]);
    close(sv[1]);
    close(stop[0]);
    close(stop[1]);
}

static bool is_dev_null(int fd)
{
    char link[32], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return false;
    target[n] = '\0';
    return strcmp(target, "/dev/null") == 0;
}

/* In a child with stdin and stderr closed: both come back as /dev/null, stdout (open) is left
 * alone, and the next socket lands above the standard streams. */
Test(io, std_open_fills_closed_standard_streams, .timeout = 60)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        struct stat before, after;
        if (fstat(1, &before) < 0)
            _exit(10);
        close(0);
        close(2);
        if (io_std_open() < 0)
            _exit(11);
        if (!is_dev_null(0) || !is_dev_null(2))
            _exit(12);
        if (fstat(1, &after) < 0 || after.st_ino != before.st_ino || after.st_dev != before.st_dev)
            _exit(13);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        _exit(s > 2 ? 0 : 14);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
}
