#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t io_readn(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static ssize_t write_once(int fd, const void *buf, size_t n, int flags)
{
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL | flags);
    if (w < 0 && errno == ENOTSOCK && !(flags & MSG_DONTWAIT))
        w = write(fd, buf, n);
    return w;
}

ssize_t io_writen(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write_once(fd, p + done, n - done, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

ssize_t io_send_some(int fd, const void *buf, size_t n)
{
    for (;;) {
        ssize_t w = write_once(fd, buf, n, MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        return w;
    }
}

ssize_t io_recv_some(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

int io_wait(int fd, short events, int stopfd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stopfd, .events = POLLIN}};
    nfds_t n = stopfd >= 0 ? 2 : 1;
    for (;;) {
        int r = poll(p, n, timeout_ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return IO_TIMEOUT;
        if (n == 2 && p[1].revents)
            return IO_STOP;
        /* POLLERR and POLLHUP count as ready: the next read or write reports what happened. */
        return IO_READY;
    }
}

int io_std_open(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* The lowest free descriptor is fd itself, since every one below it is open. */
        int nul = open("/dev/null", O_RDWR);
        if (nul < 0)
            return -1;
        if (nul != fd) {
            close(nul);
            errno = EBADF;
            return -1;
        }
    }
    return 0;
}
