/* io: byte transfers that survive EINTR and short counts, a bounded line reader, and waits
 * that can be cut short by a stop descriptor. Sends use MSG_NOSIGNAL, so a peer that has gone
 * away gives EPIPE instead of killing the process with SIGPIPE. */
#ifndef IO_H
#define IO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads until n bytes or end of file. Returns the count read (less than n only at end of
 * file), or -1 with errno set. */
ssize_t io_readn(int fd, void *buf, size_t n);

/* Writes all n bytes (send with MSG_NOSIGNAL on sockets, write otherwise). Returns n, or -1
 * with errno set; some bytes may have been written before an error. */
ssize_t io_writen(int fd, const void *buf, size_t n);

/* One non-blocking send (MSG_DONTWAIT | MSG_NOSIGNAL) that retries EINTR. Returns the bytes
 * sent, or -1 with errno (EAGAIN when the socket buffer is full). */
ssize_t io_send_some(int fd, const void *buf, size_t n);

/* One non-blocking recv that retries EINTR. Returns bytes, 0 at end of file, or -1. */
ssize_t io_recv_some(int fd, void *buf, size_t n);

/* Waits until fd has one of events (POLLIN, POLLOUT), or stopfd (when >= 0) is readable, or
 * timeout_ms passes (-1: no limit). Returns IO_READY, IO_STOP, IO_TIMEOUT, or -1 with errno. */
enum { IO_READY = 1, IO_STOP = 2, IO_TIMEOUT = 0 };
int io_wait(int fd, short events, int stopfd, int timeout_ms);

/* Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so that no socket or file
 * opened later lands on a standard stream (where a printf or a daemon's redirection would hit
 * it). Call it first, before anything opens a descriptor. 0, or -1 with errno. */
int io_std_open(void);

#endif
