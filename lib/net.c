#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *fmt, const char *what, int e)
{
    if (errlen > 0)
        snprintf(err, errlen, fmt, what, strerror(e));
    errno = e;
    return -1;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static int sock_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* bind() for a listener; with reuseport, only once the address proves free without it. */
static int bind_listener(int fd, const struct sockaddr *sa, socklen_t len, bool reuseport)
{
    if (!reuseport)
        return bind(fd, sa, len);
    int probe = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return -1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    int on = 1;
    if (setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        bind(probe, sa, len) < 0 || getsockname(probe, (struct sockaddr *)&bound, &blen) < 0) {
        int e = errno;
        close(probe);
        errno = e;
        return -1;
    }
    close(probe); /* never listened on: nothing lingers */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
        return -1;
    return bind(fd, (struct sockaddr *)&bound, blen);
}

static int listen_on(const char *host, const char *port, int backlog, bool nonblock, bool reuseport,
                     int *bound_port, char *err, size_t errlen);

int net_listen(const char *host, const char *port, int backlog, bool nonblock, int *bound_port,
               char *err, size_t errlen)
{
    return listen_on(host, port, backlog, nonblock, false, bound_port, err, errlen);
}

int net_listen_group(const char *host, const char *port, int backlog, bool nonblock,
                     int *bound_port, char *err, size_t errlen)
{
    return listen_on(host, port, backlog, nonblock, true, bound_port, err, errlen);
}

int net_listen_member(int lfd, int backlog, bool nonblock, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int on = 1, fd = -1;
    if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0 ||
        (fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return fail(err, errlen, "%s: %s", "another listener", errno);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0 ||
        bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0 ||
        (nonblock && set_nonblock(fd) < 0)) {
        int e = errno;
        close(fd);
        char where[NET_ADDRSTR_MAX];
        net_addr_str((struct sockaddr *)&ss, len, where, sizeof where);
        return fail(err, errlen, "another listener on %s: %s", where, e);
    }
    return fd;
}

static int listen_on(const char *host, const char *port, int backlog, bool nonblock, bool reuseport,
                     int *bound_port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    if (host && !*host)
        host = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        if (errlen > 0)
            snprintf(err, errlen, "%s port %s: %s", host ? host : "*", port, gai_strerror(rc));
        errno = EINVAL;
        return -1;
    }
    /* With no host, prefer the IPv6 wildcard: it also takes IPv4 unless bindv6only is set. */
    int fd = -1, e = 0;
    const struct addrinfo *last = NULL; /* the last address tried */
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (ai = res; ai; ai = ai->ai_next) {
            if (!host && (pass == 0) != (ai->ai_family == AF_INET6))
                continue;
            if (host && pass == 1)
                break;
            last = ai;
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd < 0) {
                e = errno;
                continue;
            }
            int on = 1;
            if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
                bind_listener(fd, ai->ai_addr, ai->ai_addrlen, reuseport) == 0 &&
                listen(fd, backlog) == 0 && (!nonblock || set_nonblock(fd) == 0))
                break;
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        /* Name the address and port that failed, as the user would write them: "[::]:12345". */
        char where[NET_ADDRSTR_MAX];
        if (last)
            net_addr_str(last->ai_addr, last->ai_addrlen, where, sizeof where);
        else
            snprintf(where, sizeof where, "%s:%s", host ? host : "*", port);
        freeaddrinfo(res);
        return fail(err, errlen, "listen on %s: %s", where, e ? e : EADDRNOTAVAIL);
    }
    freeaddrinfo(res);
    if (bound_port)
        *bound_port = sock_port(fd);
    return fd;
}

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return fail(err, errlen, "%s: %s", path, ENAMETOOLONG);
    strcpy(sa->sun_path, path);
    return 0;
}

int net_listen_unix(const char *path, int backlog, bool nonblock, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (unix_addr(path, &sa, err, errlen) < 0)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
            return fail(err, errlen, "%s: socket: %s", path, errno);
        int live = connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        int e = errno;
        close(probe);
        if (live)
            return fail(err, errlen, "%s: %s (a server is accepting there)", path, EADDRINUSE);
        if (e == ECONNREFUSED && unlink(path) < 0)
            return fail(err, errlen, "%s: unlink stale socket: %s", path, errno);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(err, errlen, "%s: socket: %s", path, errno);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0 ||
        (nonblock && set_nonblock(fd) < 0)) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "listen on %s: %s", path, e);
    }
    return fd;
}

int net_connect(const char *host, const char *port, int family, char *err, size_t errlen)
{
    struct addrinfo hints = {
        .ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        if (errlen > 0)
            snprintf(err, errlen, "%s port %s: %s", host, port, gai_strerror(rc));
        errno = EINVAL;
        return -1;
    }
    int fd = -1, e = EADDRNOTAVAIL;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int r;
        do
            r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return fail(err, errlen, "connect to %s: %s", host, e);
    return fd;
}

int net_connect_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (unix_addr(path, &sa, err, errlen) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(err, errlen, "%s: socket: %s", path, errno);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "connect to %s: %s", path, e);
    }
    return fd;
}

int net_accept_now(int lfd, struct sockaddr_storage *peer, socklen_t *peerlen)
{
    for (;;) {
        socklen_t len = sizeof *peer;
        int fd = accept4(lfd, (struct sockaddr *)peer, &len, SOCK_CLOEXEC);
        if (fd >= 0) {
            *peerlen = len;
            return fd;
        }
        if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO)
            return -1;
    }
}

int net_accept(int lfd, struct sockaddr_storage *peer, socklen_t *peerlen)
{
    int fd = net_accept_now(lfd, peer, peerlen);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        int e = errno;
        struct timespec ts = {0, NET_ACCEPT_BACKOFF_MS * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        errno = e;
    }
    return fd;
}

int net_stop_accepting(int lfd)
{
    return shutdown(lfd, SHUT_RD);
}

void net_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN + 1], serv[16];
    if (!sa || len == 0 || sa->sa_family == AF_UNIX) {
        snprintf(buf, n, "unix");
        return;
    }
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, n, "?");
        return;
    }
    if (sa->sa_family == AF_INET6)
        snprintf(buf, n, "[%s]:%s", host, serv);
    else
        snprintf(buf, n, "%s:%s", host, serv);
}

int net_send_fd(int sock, int fd)
{
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    for (;;) {
        ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n >= 0)
            errno = EIO;
        return -1;
    }
}

int net_recv_fd(int sock, int *fd)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    for (;;) {
        ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return (int)n;
        break;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int))) {
        errno = EPROTO; /* a message without a descriptor */
        return -1;
    }
    memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return 1;
}
