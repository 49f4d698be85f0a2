/* uring: the io_uring event driver (liburing), beside the reactor: -w threads, each with its
 * own ring and its own listener in a SO_REUSEPORT group. Where the reactor asks "is it ready?"
 * and then makes the call, a ring is handed the calls themselves and reports when they are
 * done: one multishot accept per ring keeps delivering new connections, each client has at
 * most one recv or send in flight, recvs take their buffer from a ring of provided buffers
 * (registered by hand: liburing 2.3 has no helper), sends go straight from the 64 KiB payload
 * block, and each client has one deadline of its own (--timeout bounds a whole request line
 * and each wait of a client that does not read), kept by the ring in user space and waited on
 * with the ring's wait, not a linked timeout per operation. The rings are single-issuer with
 * deferred task work where the kernel has it (6.1+). Closing a client cancels what it has in
 * flight (IORING_OP_ASYNC_CANCEL) and frees it when the last completion is in. A client's
 * life beyond its I/O (the list, the tally, --max-clients, the drain) is lib/evclient's, as it
 * is the reactor's. Kernel 5.19 or later (multishot accept, provided buffer rings). */
#ifndef URING_H
#define URING_H

struct srv;

/* Runs the server s (started by srv_start, SRV_THREADS | SRV_REUSEPORT) on s->opt.workers
 * rings until it has stopped, and ends it (srv_finish). Returns the process exit status: 1,
 * with one line logged, when io_uring cannot run here ("unavailable here: ...": the kernel
 * has none, or a sysctl or a filter refuses it) or the set-up failed (naming the call). */
int uring_run(struct srv *s);

#endif
