#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net.h"

Test(net, ephemeral_port_ipv4, .timeout = 60)
{
    char err[256];
    int port = -1;
    int lfd = net_listen("127.0.0.1", "0", 16, false, &port, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    cr_expect_gt(port, 0);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    int c = net_connect("127.0.0.1", p, AF_INET, err, sizeof err);
    cr_assert_geq(c, 0, "%s", err);
    struct sockaddr_storage peer;
    socklen_t len;
    int a = net_accept(lfd, &peer, &len);
    cr_assert_geq(a, 0, "accept: %s", strerror(errno));
    char who[NET_ADDRSTR_MAX];
    net_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
    cr_expect(strncmp(who, "127.0.0.1:", 10) == 0, "peer '%s'", who);
    close(a);
    close(c);
    close(lfd);
}

Test(net, ephemeral_port_ipv6, .timeout = 60)
{
    char err[256];
    int port = -1;
    int lfd = net_listen("::1", "0", 16, false, &port, err, sizeof err);
    if (lfd < 0 && errno == EADDRNOTAVAIL)
        cr_skip_test("no IPv6 loopback here: %s", err);
    cr_assert_geq(lfd, 0, "%s", err);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    int c = net_connect("::1", p, AF_INET6, err, sizeof err);
    cr_assert_geq(c, 0, "%s", err);
    struct sockaddr_storage peer;
    socklen_t len;
    int a = net_accept(lfd, &peer, &len);
    cr_assert_geq(a, 0);
    char who[NET_ADDRSTR_MAX];
    net_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
    cr_expect(strncmp(who, "[::1]:", 6) == 0, "peer '%s'", who);
    close(a);
    close(c);
    close(lfd);
}

Test(net, errors_are_returned_with_a_message, .timeout = 60)
{
    char err[256] = "";
    cr_expect_eq(net_listen("no.such.host.invalid", "0", 16, false, NULL, err, sizeof err), -1);
    cr_expect_neq(err[0], '\0');
    err[0] = '\0';
    cr_expect_eq(net_connect("127.0.0.1", "1", AF_INET, err, sizeof err), -1);
    cr_expect_eq(errno, ECONNREFUSED);
    cr_expect(strstr(err, "refused") != NULL, "message '%s'", err);
}

Test(net, nonblocking_accept_with_nothing_pending, .timeout = 60)
{
    char err[256];
    int lfd = net_listen("127.0.0.1", "0", 16, true, NULL, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    struct sockaddr_storage peer;
    socklen_t len;
    cr_expect_eq(net_accept(lfd, &peer, &len), -1);
    cr_expect_eq(errno, EAGAIN);
    close(lfd);
}

/* The highest descriptor this process has open: the test harness and the sanitizers keep some of
 * their own, anywhere in the table. */
static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d, "opendir /proc/self/fd: %s", strerror(errno));
    int top = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != dirfd(d) && fd > top)
            top = fd;
    }
    closedir(d);
    return top;
}

/* With no descriptor left, accept reports EMFILE (after pausing) and leaves the connection
 * queued; once a descriptor is free the same connection is accepted. */
Test(net, emfile_pauses_and_keeps_the_connection, .timeout = 10)
{
    char err[256];
    int port;
    int lfd = net_listen("127.0.0.1", "0", 16, false, &port, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    int c = net_connect("127.0.0.1", p, AF_INET, err, sizeof err);
    cr_assert_geq(c, 0, "%s", err);

    int filler[4096], n = 0;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit low = {(rlim_t)(highest_fd() + 2), rl.rlim_max};
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fd;
    while (n < 4096 && (fd = dup(lfd)) >= 0)
        filler[n++] = fd;
    cr_assert_gt(n, 0, "no descriptor to fill: %s", strerror(errno));

    struct sockaddr_storage peer;
    socklen_t len;
    cr_expect_eq(net_accept(lfd, &peer, &len), -1);
    cr_expect_eq(errno, EMFILE);
    while (n > 0)
        close(filler[--n]);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    int a = net_accept(lfd, &peer, &len);
    cr_expect_geq(a, 0, "accept after freeing descriptors: %s", strerror(errno));
    close(a);
    close(c);
    close(lfd);
}

static void *blocked_accept(void *arg)
{
    int lfd = *(int *)arg;
    struct sockaddr_storage peer;
    socklen_t len;
    int r = net_accept(lfd, &peer, &len);
    return (void *)(intptr_t)(r < 0 ? errno : 0);
}

Test(net, stop_accepting_wakes_blocked_accept, .timeout = 60)
{
    char err[256];
    int port;
    int lfd = net_listen("127.0.0.1", "0", 16, false, &port, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, blocked_accept, &lfd);
    usleep(50000); /* let them block; if they have not yet, accept fails at once anyway */
    cr_assert_eq(net_stop_accepting(lfd), 0);
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_expect_eq((intptr_t)r, EINVAL, "thread %d: errno %ld", i, (long)(intptr_t)r);
    }
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    cr_expect_eq(net_connect("127.0.0.1", p, AF_INET, err, sizeof err), -1, "refused after stop");
    close(lfd);
}

Test(net, unix_socket_and_stale_file, .timeout = 60)
{
    char path[] = "/tmp/cb-net-test.sock";
    char err[256];
    unlink(path);
    int lfd = net_listen_unix(path, 8, false, err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    cr_expect_eq(net_listen_unix(path, 8, false, err, sizeof err), -1, "a live socket is kept");
    cr_expect_eq(errno, EADDRINUSE);
    int c = net_connect_unix(path, err, sizeof err);
    cr_assert_geq(c, 0, "%s", err);
    close(c);
    close(lfd); /* the file stays behind: stale */
    lfd = net_listen_unix(path, 8, false, err, sizeof err);
    cr_expect_geq(lfd, 0, "stale socket replaced: %s", err);
    close(lfd);
    unlink(path);
}

Test(net, a_descriptor_passed_is_the_same_socket, .timeout = 60)
{
    int ch[2], sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, ch), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(net_send_fd(ch[0], sv[0]), 0);
    close(sv[0]);
    int got = -1;
    cr_assert_eq(net_recv_fd(ch[1], &got), 1);
    cr_assert_geq(got, 0);
    cr_assert_eq(write(got, "hi", 2), 2, "the passed descriptor reaches the same peer");
    char buf[2];
    cr_expect_eq(read(sv[1], buf, 2), 2);
    cr_expect(fcntl(got, F_GETFD) & FD_CLOEXEC, "received close-on-exec");
    cr_assert_eq(write(ch[0], "x", 1), 1);
    cr_expect_eq(net_recv_fd(ch[1], &got), -1, "a byte without a descriptor");
    close(ch[0]);
    cr_expect_eq(net_recv_fd(ch[1], &got), 0, "the end of the channel");
    close(ch[1]);
    close(sv[1]);
}
