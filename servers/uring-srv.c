/* uring-srv: completion-based I/O with io_uring (through liburing): -w threads (default: one
 * per CPU), each with its own ring and its own listener in a SO_REUSEPORT group. Where the
 * reactors ask "is it ready?" and then make the call, a ring is handed the calls themselves
 * and reports when they are done: one multishot accept per ring keeps delivering new
 * connections, each client has at most one recv or send in flight, recvs take their buffer
 * from a ring of provided buffers (registered by hand: liburing 2.3 has no helper), sends go
 * straight from the 64 KiB payload block, and each client has one deadline kept by the ring
 * (--timeout bounds a whole request line and each wait of a client that does not read).
 * Closing a client cancels what it has in flight (IORING_OP_ASYNC_CANCEL) and frees it when
 * the last completion is in. Its strength: many operations per system call (one
 * io_uring_submit_and_wait per batch), no readiness round trip, no per-operation epoll_ctl;
 * published echo benchmarks gain most at hundreds of connections. Its costs: the sieve runs on
 * the ring's thread (head-of-line blocking, as reactor-srv), the kernel's io_uring is a large
 * attack surface that many sandboxes disable (kernel.io_uring_disabled, seccomp, container
 * runtimes): then it says so in one line at start-up and exits 1, and bench/run records its
 * cells as skipped. Kernel 5.19 or later (multishot accept, provided buffer rings). */
#include "models.h" /* CAPS_<model>: from servers/models */
#include "srv.h"
#include "uring.h"

int main(int argc, char **argv)
{
    static const struct srv_model model = {"uring", CAPS_uring,
                                           SRV_NONBLOCK | SRV_EVENT | SRV_THREADS | SRV_REUSEPORT};
    struct srv s;
    srv_start(&s, &model, argc, argv);
    return uring_run(&s); /* lib/uring: the rings, their loops and the end */
}
