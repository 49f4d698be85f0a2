/* net: sockets through getaddrinfo (IPv4 and IPv6) and Unix stream sockets, and one accept
 * wrapper that owns every accept(2) edge case. Functions return -1 and write a message into
 * err (when errlen > 0); they never exit. */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDRSTR_MAX 128

/* Binds host:port (host NULL or "" means every address), SO_REUSEADDR set, and listens with
 * the given backlog (the kernel caps it at net.core.somaxconn). With port "0" the kernel picks
 * a port; *bound_port (if not NULL) receives the port actually bound. nonblock makes the
 * socket O_NONBLOCK, for callers that poll before accepting. */
int net_listen(const char *host, const char *port, int backlog, bool nonblock, int *bound_port,
               char *err, size_t errlen);

/* The same, the socket a member of a SO_REUSEPORT group (reuseport-srv's loops): the address
 * is first bound without SO_REUSEPORT and let go, so that one already in use is refused
 * (EADDRINUSE) instead of being joined by a second server. net_listen_member adds one more
 * socket to lfd's group: the same address and port, SO_REUSEPORT, listening. */
int net_listen_group(const char *host, const char *port, int backlog, bool nonblock,
                     int *bound_port, char *err, size_t errlen);
int net_listen_member(int lfd, int backlog, bool nonblock, char *err, size_t errlen);

/* The same for a Unix stream socket. A stale socket file (nobody accepting) is replaced; a
 * live one is an error (EADDRINUSE). */
int net_listen_unix(const char *path, int backlog, bool nonblock, char *err, size_t errlen);

/* Blocking connect to host:port, trying each address in turn. family is AF_UNSPEC, AF_INET
 * or AF_INET6. */
int net_connect(const char *host, const char *port, int family, char *err, size_t errlen);

int net_connect_unix(const char *path, char *err, size_t errlen);

/* accept4(SOCK_CLOEXEC) that retries EINTR, ECONNABORTED and EPROTO. On EMFILE, ENFILE,
 * ENOBUFS and ENOMEM it sleeps NET_ACCEPT_BACKOFF_MS before returning -1 with that errno, so a
 * caller that simply loops pauses accepting instead of spinning; the connection stays queued
 * in the backlog until descriptors are free. Returns -1 with EAGAIN on a non-blocking socket
 * with nothing pending, and EINVAL once the socket has been shut down (net_stop_accepting). */
#define NET_ACCEPT_BACKOFF_MS 100
int net_accept(int lfd, struct sockaddr_storage *peer, socklen_t *peerlen);

/* The same without the pause, for an event loop, which must never sleep: it pauses by
 * taking the listener out of its poller for NET_ACCEPT_BACKOFF_MS instead. */
int net_accept_now(int lfd, struct sockaddr_storage *peer, socklen_t *peerlen);

/* Stops a listening socket shared by threads or processes: every accept(2) blocked on it, in
 * any process, returns EINVAL, and new connections are refused. Linux semantics. */
int net_stop_accepting(int lfd);

/* "127.0.0.1:5000", "[::1]:5000" or "unix" into buf. */
void net_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t n);

/* Descriptor passing over a Unix stream socket (SCM_RIGHTS), one descriptor and one byte per
 * message. net_send_fd: 0, or -1 with errno. net_recv_fd: 1 with *fd set (close-on-exec),
 * 0 when the peer has closed, -1 with errno. */
int net_send_fd(int sock, int fd);
int net_recv_fd(int sock, int *fd);

#endif
