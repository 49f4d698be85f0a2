#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "deadline.h"
#include "daemon.h"
#include "evclient.h"
#include "log.h"
#include "net.h"
#include "sieve.h"
#include "srv.h"

#define RING_ENTRIES 1024
#define BUF_COUNT    1024 /* provided buffers per ring (a power of two) */
#define BUF_SIZE     1024 /* each: two request lines */
#define BUF_GROUP    0
#define CAP_POLL_MS  20 /* a ring at --max-clients looks again this often */

/* What a completion is for, in the low bits of its user_data (the rest: a pointer, 8-byte
 * aligned, or 0). */
enum op { OP_ACCEPT, OP_RECV, OP_SEND, OP_IGNORE, OP_STOP, OP_GRACE, OP_CAP };
#define OP_MASK UINT64_C(7)

struct ring;

/* A client's deadline (--timeout or the linger after an ERR) is in the ring's ordered lists
 * (lib/deadline): the ring waits no longer than the earliest and times out those that are
 * due. One timer per connection and none in the kernel, where a linked timeout on each
 * operation cost a submission and a completion more for every recv and every send. */

struct client {
    struct ev_client ev; /* conn, fd, peer, list: the life the event drivers share */
    struct ring *rg;
    int pending;     /* submitted operations whose last completion has not come */
    bool busy;       /* a recv or send is in flight */
    bool closing;    /* cancelled; freed when pending is 0 */
    bool lingering;  /* its write side is shut: discarding input after an ERR */
    bool line_armed; /* the deadline of the request line awaited is set (bounds the line) */
    struct deadline dl;
};

/* The next client of a ring's list (all of them struct client). */
static struct client *next_of(struct client *cl)
{
    return (struct client *)cl->ev.next;
}

struct ring {
    struct srv *s;
    struct io_uring ring;
    int lfd;
    bool exclusive; /* its listener is shared with the other rings (-U) */
    struct io_uring_buf_ring *br;
    unsigned char *bufs;
    struct ev_clients set; /* its clients and counters */
    int *held;             /* accepted beyond --max-clients: not served until there is room */
    size_t nheld, capheld;
    bool accepting, stopping, done;
    bool ring_gone; /* io_uring_queue_exit done */
    struct __kernel_timespec grace_ts, cap_ts;
    bool cap_armed;
    bool disabled; /* made with IORING_SETUP_R_DISABLED: its thread enables it */
    struct deadlines dls;
};

static void set_ts(struct __kernel_timespec *ts, int64_t ms)
{
    if (ms < 1)
        ms = 1;
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (ms % 1000) * 1000000;
}

static void deadline_clear(struct client *cl)
{
    dl_clear(&cl->rg->dls, &cl->dl);
}

/* The client's deadline, ms from now. */
static void deadline_set(struct client *cl, enum dl_kind k, int64_t ms)
{
    dl_put(&cl->rg->dls, &cl->dl, k, clock_ms() + ms);
}

/* The client whose deadline d is. */
static struct client *client_of(struct deadline *d)
{
    return (struct client *)((char *)d - offsetof(struct client, dl));
}

/* An SQE, submitting what is queued when the submission queue is full. */
static struct io_uring_sqe *sqe_get(struct ring *rg)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&rg->ring);
    if (!sqe) {
        io_uring_submit(&rg->ring);
        sqe = io_uring_get_sqe(&rg->ring);
    }
    return sqe;
}

static void tag(struct io_uring_sqe *sqe, void *p, enum op op)
{
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)p | (uint64_t)op);
}

static void arm_accept(struct ring *rg)
{
    struct io_uring_sqe *sqe = sqe_get(rg);
    if (!sqe)
        return;
    io_uring_prep_multishot_accept(sqe, rg->lfd, NULL, NULL, SOCK_CLOEXEC);
    tag(sqe, rg, OP_ACCEPT);
    rg->accepting = true;
}

static void cancel_accept(struct ring *rg)
{
    struct io_uring_sqe *sqe = sqe_get(rg);
    if (!sqe)
        return;
    io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)rg | OP_ACCEPT, 0);
    tag(sqe, NULL, OP_IGNORE);
}

static bool at_cap(struct ring *rg)
{
    return evc_at_cap(rg->s);
}

static void client_free(struct client *cl)
{
    evc_remove(&cl->rg->set, &cl->ev);
    free(cl);
}

static void serve_held(struct ring *rg);

/* Cancels what the client has in flight; its descriptor is closed and it is freed when the
 * last completion is in. */
static void client_close(struct client *cl)
{
    struct ring *rg = cl->rg;
    if (!cl->closing) {
        cl->closing = true;
        deadline_clear(cl);
        evc_place_give(rg->s);
        if (cl->pending > 0) {
            struct io_uring_sqe *sqe = sqe_get(rg);
            if (sqe) {
                io_uring_prep_cancel_fd(sqe, cl->ev.fd, IORING_ASYNC_CANCEL_ALL);
                tag(sqe, NULL, OP_IGNORE);
            } else {
                shutdown(cl->ev.fd, SHUT_RDWR); /* makes what is in flight complete */
            }
        }
    }
    if (cl->pending > 0)
        return;
    close(cl->ev.fd);
    client_free(cl);
    if (!rg->stopping) {
        serve_held(rg);
        if (!rg->accepting && !at_cap(rg))
            arm_accept(rg);
    }
}

/* One recv or send (its deadline, if any, is the client's own). */
static void submit(struct client *cl, enum op op)
{
    struct ring *rg = cl->rg;
    struct io_uring_sqe *sqe = sqe_get(rg);
    if (!sqe) {
        log_msg(LOG_ERR, "io_uring: submission queue full");
        client_close(cl);
        return;
    }
    if (op == OP_RECV) {
        size_t room;
        conn_inbuf(&cl->ev.c, &room);
        io_uring_prep_recv(sqe, cl->ev.fd, NULL, room < BUF_SIZE ? room : BUF_SIZE, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BUF_GROUP;
    } else {
        const void *p;
        size_t n = conn_output(&cl->ev.c, &p);
        io_uring_prep_send(sqe, cl->ev.fd, p, n, MSG_NOSIGNAL);
    }
    tag(sqe, cl, op);
    cl->pending++;
    cl->busy = true;
}

/* Moves the client on until it waits for a completion (or is closed). */
static void drive(struct client *cl)
{
    struct ring *rg = cl->rg;
    int timeout = rg->s->opt.timeout_ms;
    while (!cl->busy && !cl->closing) {
        switch (cl->ev.c.state) {
        case CONN_SEND:
            cl->line_armed = false;
            if (timeout > 0)
                deadline_set(cl, DL_TIMEOUT, timeout); /* each send: the reader's --timeout */
            submit(cl, OP_SEND);
            return;
        case CONN_READ:
            if (evc_done_at_stop(&cl->ev, rg->stopping)) {
                client_close(cl); /* draining: nothing in progress on this connection */
                return;
            }
            if (timeout > 0 && !cl->line_armed) {
                cl->line_armed = true;
                deadline_set(cl, DL_TIMEOUT, timeout); /* bounds the whole line */
            }
            submit(cl, OP_RECV);
            return;
        case CONN_WORK:
            cl->line_armed = false;
            deadline_clear(cl);
            conn_work_done(&cl->ev.c, sieve_count(conn_request(&cl->ev.c)->work));
            evc_count(&rg->set, &cl->ev);
            break;
        case CONN_LINGER:
            if (!cl->lingering) {
                cl->lingering = true;
                evc_log_bad(&cl->ev);
                if (shutdown(cl->ev.fd, SHUT_WR) < 0) {
                    client_close(cl);
                    return;
                }
                deadline_set(cl, DL_LINGER, CONN_LINGER_MS);
            }
            submit(cl, OP_RECV);
            return;
        case CONN_DONE:
            client_close(cl);
            return;
        }
    }
}

/* A new connection: greeted at once, unless --max-clients holds it back. */
static void client_new(struct ring *rg, int fd, bool drained)
{
    struct client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        log_msg(LOG_ERR, "new client: %s", strerror(errno));
        close(fd);
        evc_place_give(rg->s);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* Unix sockets refuse it */
    cl->rg = rg;
    dl_init(&cl->dl);
    evc_add(&rg->set, &cl->ev, fd, NULL, 0, drained);
    drive(cl);
}

static void hold(struct ring *rg, int fd)
{
    if (rg->nheld == rg->capheld) {
        size_t cap = rg->capheld ? 2 * rg->capheld : 16;
        int *g = realloc(rg->held, cap * sizeof *g);
        if (!g) {
            log_msg(LOG_ERR, "holding a client: %s", strerror(errno));
            close(fd);
            return;
        }
        rg->held = g;
        rg->capheld = cap;
    }
    rg->held[rg->nheld++] = fd;
}

/* A place under --max-clients for one more client, counted in event_clients: false at the
 * cap. Every client counts, capped or not, so that a close always gives one back. */
static bool reserve(struct ring *rg)
{
    return evc_place_take(rg->s);
}

/* Clients taken while at the cap, served in order as places free up. */
static void serve_held(struct ring *rg)
{
    size_t i = 0;
    while (i < rg->nheld && reserve(rg))
        client_new(rg, rg->held[i++], false);
    if (i > 0) {
        memmove(rg->held, rg->held + i, (rg->nheld - i) * sizeof *rg->held);
        rg->nheld -= i;
    }
}

/* An accepted connection: served now, or held behind those already waiting for a place. */
static void take(struct ring *rg, int fd, bool drained)
{
    if (rg->nheld > 0 || !reserve(rg))
        hold(rg, fd);
    else
        client_new(rg, fd, drained);
}

/* A timeout after which the ring looks again at accepting (OP_CAP). */
static void look_again(struct ring *rg, int64_t ms)
{
    struct io_uring_sqe *sqe = sqe_get(rg);
    if (!sqe)
        return;
    set_ts(&rg->cap_ts, ms);
    io_uring_prep_timeout(sqe, &rg->cap_ts, 0, 0);
    tag(sqe, rg, OP_CAP);
    rg->cap_armed = true;
}

static void on_accept(struct ring *rg, struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_MORE))
        rg->accepting = false;
    if (cqe->res >= 0) {
        /* One accepted before the stop was seen is served like the queued ones. */
        take(rg, cqe->res, rg->stopping);
    } else if (cqe->res != -ECANCELED && cqe->res != -EINVAL) {
        if (cqe->res == -EMFILE || cqe->res == -ENFILE || cqe->res == -ENOBUFS ||
            cqe->res == -ENOMEM)
            log_msg(LOG_WARNING, "accept: %s; pausing accepts", strerror(-cqe->res));
        else if (cqe->res != -ECONNABORTED && cqe->res != -EPERM)
            log_msg(LOG_ERR, "accept: %s", strerror(-cqe->res));
    }
    if (rg->stopping)
        return;
    if (at_cap(rg) || rg->nheld > 0) {
        if (rg->accepting)
            cancel_accept(rg); /* no more until there is room */
        if (!rg->cap_armed)
            look_again(rg, CAP_POLL_MS); /* another ring's client may free the place */
    } else if (!rg->accepting) {
        if (cqe->res == -EMFILE || cqe->res == -ENFILE || cqe->res == -ENOBUFS ||
            cqe->res == -ENOMEM) {
            /* Descriptors are out: accepting again after a pause (a timeout on the ring, never
             * a sleep), the clients already in served meanwhile. */
            if (!rg->cap_armed)
                look_again(rg, NET_ACCEPT_BACKOFF_MS);
        } else {
            arm_accept(rg);
        }
    }
}

/* The buffer a recv selected, back to the ring. */
static void buf_return(struct ring *rg, unsigned id)
{
    io_uring_buf_ring_add(rg->br, rg->bufs + (size_t)id * BUF_SIZE, BUF_SIZE, (unsigned short)id,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(rg->br, 1);
}

static void on_recv(struct client *cl, struct io_uring_cqe *cqe)
{
    struct ring *rg = cl->rg;
    int res = cqe->res;
    if (cqe->flags & IORING_CQE_F_BUFFER) {
        unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        if (res > 0 && !cl->closing) {
            size_t room;
            char *p = conn_inbuf(&cl->ev.c, &room);
            memcpy(p, rg->bufs + (size_t)id * BUF_SIZE, (size_t)res < room ? (size_t)res : room);
        }
        buf_return(rg, id);
    }
    if (cl->closing) {
        client_close(cl); /* freed with its last completion */
        return;
    }
    if (res == -ENOBUFS) {
        drive(cl); /* every buffer in use: simply ask again */
        return;
    }
    if (res < 0) {
        client_close(cl); /* reset, or cancelled */
        return;
    }
    conn_received(&cl->ev.c, (size_t)res);
    if (cl->lingering && res == 0) {
        client_close(cl);
        return;
    }
    drive(cl);
}

static void on_send(struct client *cl, struct io_uring_cqe *cqe)
{
    if (cl->closing) {
        client_close(cl); /* freed with its last completion */
        return;
    }
    if (cqe->res <= 0) {
        client_close(cl); /* gone, reset, or not reading within --timeout */
        return;
    }
    conn_sent(&cl->ev.c, (size_t)cqe->res);
    if (cl->ev.c.state != CONN_SEND) {
        evc_count(&cl->rg->set, &cl->ev);
        evc_answered(&cl->ev); /* its first answer is out: an ordinary client now */
    }
    drive(cl);
}

static void watch_stop(struct ring *rg, int fd)
{
    struct io_uring_sqe *sqe = sqe_get(rg);
    if (!sqe)
        return;
    io_uring_prep_poll_add(sqe, fd, POLLIN);
    tag(sqe, rg, OP_STOP);
}

static void abort_all(struct ring *rg)
{
    evc_grace_over(&rg->set);
    for (struct client *cl = (struct client *)rg->set.head, *next; cl; cl = next) {
        next = next_of(cl);
        client_close(cl);
    }
    rg->done = true;
}

/* The stop: the multishot accept cancelled, what is already queued on the listener taken
 * (closing a listener of a reuseport group would drop it), the listener shut, the clients
 * between requests closed, the others given the grace time. */
static void begin_stop(struct ring *rg)
{
    if (rg->stopping)
        return;
    if (rg->accepting)
        cancel_accept(rg);
    for (int i = 0; i < 65536; i++) {
        struct sockaddr_storage peer;
        socklen_t len;
        int fd = net_accept_now(rg->lfd, &peer, &len);
        if (fd < 0)
            break;
        take(rg, fd, true);
    }
    rg->stopping = true;
    if (!rg->exclusive || atomic_fetch_sub(&rg->s->loops_draining, 1) == 1)
        net_stop_accepting(rg->lfd);
    for (int i = 0; (size_t)i < rg->nheld; i++)
        close(rg->held[i]); /* never greeted: refused like any client after the stop */
    rg->nheld = 0;
    for (struct client *cl = (struct client *)rg->set.head, *next; cl; cl = next) {
        next = next_of(cl);
        if (!cl->closing && evc_done_at_stop(&cl->ev, true))
            client_close(cl); /* between requests; one whose request waits is served */
    }
    struct io_uring_sqe *sqe = sqe_get(rg);
    if (sqe) {
        set_ts(&rg->grace_ts, rg->s->opt.grace_ms);
        io_uring_prep_timeout(sqe, &rg->grace_ts, 0, 0);
        tag(sqe, rg, OP_GRACE);
    }
    watch_stop(rg, rg->s->stop.abort_fd);
}

static void on_ring(struct ring *rg, struct io_uring_cqe *cqe)
{
    enum op op = (enum op)(cqe->user_data & OP_MASK);
    switch (op) {
    case OP_ACCEPT:
        on_accept(rg, cqe);
        break;
    case OP_STOP:
        if (srv_level(rg->s) >= 2)
            abort_all(rg);
        else
            begin_stop(rg);
        break;
    case OP_GRACE:
        if (cqe->res == -ETIME)
            abort_all(rg);
        break;
    case OP_CAP:
        rg->cap_armed = false;
        if (rg->stopping)
            break;
        serve_held(rg);
        if (!rg->accepting && !at_cap(rg) && rg->nheld == 0)
            arm_accept(rg);
        else if (at_cap(rg) || rg->nheld > 0)
            look_again(rg, CAP_POLL_MS);
        break;
    default:
        break;
    }
}

static void on_cqe(struct ring *rg, struct io_uring_cqe *cqe)
{
    enum op op = (enum op)(cqe->user_data & OP_MASK);
    void *p = (void *)(uintptr_t)(cqe->user_data & ~OP_MASK);
    if (op == OP_IGNORE) {
        /* A cancel: a buffer a failed recv took is still returned by
         * its own completion. */
        return;
    }
    if (op != OP_RECV && op != OP_SEND) {
        on_ring(rg, cqe);
        return;
    }
    struct client *cl = p;
    cl->pending--;
    cl->busy = false;
    if (op == OP_RECV)
        on_recv(cl, cqe); /* may free cl */
    else
        on_send(cl, cqe);
}

/* Times out the clients whose deadline is due: a request line not read, a reply not taken
 * within --timeout, a linger over. The ms until the next deadline, or -1 for none. */
static int64_t expire(struct ring *rg)
{
    int64_t now = clock_ms();
    struct deadline *d;
    enum dl_kind kind;
    while ((d = dl_take_due(&rg->dls, now, &kind))) {
        struct client *cl = client_of(d);
        if (kind == DL_TIMEOUT && cl->ev.c.state == CONN_READ && !cl->lingering)
            evc_log_timeout(&cl->ev, rg->s->opt.timeout_ms);
        client_close(cl); /* cancels what is in flight */
    }
    long long next = dl_next(&rg->dls);
    return next < 0 ? -1 : next - now;
}

static void *run(void *arg)
{
    struct ring *rg = arg;
    if (rg->disabled) {
        /* the ring's single issuer is this thread: enabled here, not where it was made */
        /* the register call itself: Debian's liburing 2.3 declares io_uring_enable_rings
         * but does not export it */
        long rc = syscall(__NR_io_uring_register, rg->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
                          NULL, 0);
        if (rc < 0) {
            /* the server cannot serve this ring's share of the clients: it stops */
            log_msg(LOG_ERR, "enabling the ring: %s; stopping", strerror(errno));
            srv_set_level(rg->s, 2);
            rg->done = true;
            return NULL;
        }
    }
    io_uring_register_ring_fd(&rg->ring); /* fewer descriptor look-ups per enter; optional */
    watch_stop(rg, rg->s->stop.fd);
    arm_accept(rg);
    while (!rg->done && !(rg->stopping && rg->set.n == 0)) {
        int64_t wait = expire(rg);
        int rc;
        if (wait < 0) {
            rc = io_uring_submit_and_wait(&rg->ring, 1);
        } else {
            struct __kernel_timespec ts;
            struct io_uring_cqe *first;
            set_ts(&ts, wait);
            rc = io_uring_submit_and_wait_timeout(&rg->ring, &first, 1, &ts, NULL);
            if (rc == -ETIME)
                rc = 0;
        }
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            log_msg(LOG_ERR, "io_uring_submit_and_wait: %s", strerror(-rc));
            abort_all(rg);
            break;
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&rg->ring, head, cqe)
        {
            on_cqe(rg, cqe);
            seen++;
        }
        io_uring_cq_advance(&rg->ring, seen);
    }
    /* Clients whose cancellations are still in flight: the ring goes first (the kernel
     * cancels and waits for what it still holds), then they are closed and freed. */
    io_uring_queue_exit(&rg->ring);
    rg->ring_gone = true;
    while (rg->set.head) {
        struct client *cl = (struct client *)rg->set.head;
        if (!cl->closing)
            evc_place_give(rg->s);
        close(cl->ev.fd);
        client_free(cl);
    }
    return NULL;
}

/* A ring with its provided buffers registered. 0, or -errno with the call that failed in
 * *call. */
static int ring_init(struct ring *rg, const char **call)
{
    *call = "io_uring_queue_init";
    /* One thread submits to and reaps from each ring: completions' task work runs when that
     * thread asks for events (6.1+), not as an interrupt of whatever it does; made disabled,
     * so that the ring's thread, not this one, becomes its issuer. Older kernels refuse the
     * flags (EINVAL): the next set. */
    static const unsigned sets[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_R_DISABLED,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN, /* 5.19 */
        IORING_SETUP_SUBMIT_ALL,                             /* 5.18 */
        0,
    };
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof sets / sizeof *sets && rc == -EINVAL; i++) {
        struct io_uring_params p = {0};
        p.flags = sets[i];
        rc = io_uring_queue_init_params(RING_ENTRIES, &rg->ring, &p);
        rg->disabled = rc == 0 && (sets[i] & IORING_SETUP_R_DISABLED);
    }
    if (rc < 0)
        return rc;
    *call = "the provided buffers";
    size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    rg->bufs = malloc((size_t)BUF_COUNT * BUF_SIZE);
    if (mem == MAP_FAILED || !rg->bufs) {
        rc = -ENOMEM;
        goto fail;
    }
    rg->br = mem;
    io_uring_buf_ring_init(rg->br);
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)mem, .ring_entries = BUF_COUNT, .bgid = BUF_GROUP};
    *call = "io_uring_register_buf_ring";
    rc = io_uring_register_buf_ring(&rg->ring, &reg, 0);
    if (rc < 0)
        goto fail;
    for (unsigned i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(rg->br, rg->bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(BUF_COUNT), (int)i);
    io_uring_buf_ring_advance(rg->br, BUF_COUNT);
    return 0;
fail:
    if (mem != MAP_FAILED)
        munmap(mem, ring_bytes);
    rg->br = NULL;
    free(rg->bufs);
    rg->bufs = NULL;
    io_uring_queue_exit(&rg->ring);
    return rc;
}

static void ring_free(struct ring *rg)
{
    if (!rg->br)
        return;
    if (!rg->ring_gone)
        io_uring_queue_exit(&rg->ring);
    munmap(rg->br, BUF_COUNT * sizeof(struct io_uring_buf));
    free(rg->bufs);
    free(rg->held);
}

/* Does the error of the ring's set-up mean that io_uring is refused here (the kernel has
 * none, or a sysctl or a filter forbids it)? NULL, or why. Any other error, EINVAL of a later
 * call among them, is a fault of this server's set-up and is reported as one. */
static const char *unavailable(int rc, const char *call)
{
    if (strcmp(call, "io_uring_queue_init") != 0)
        return NULL;
    switch (-rc) {
    case ENOSYS:
        return "the kernel has no io_uring (built without it, or older than 5.1)";
    case EPERM:
    case EACCES: {
        char v[8] = "";
        FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
        if (f) {
            if (!fgets(v, sizeof v, f))
                v[0] = 0;
            fclose(f);
        }
        return v[0] && v[0] != '0'
                   ? "io_uring is disabled (kernel.io_uring_disabled is not 0)"
                   : "io_uring is refused (a seccomp filter of a sandbox or container, or "
                     "kernel.io_uring_disabled)";
    }
    default:
        return NULL;
    }
}

int uring_run(struct srv *s)
{
    size_t n = (size_t)s->opt.workers;
    struct ring *rings = calloc(n, sizeof *rings);
    struct stats_slot **slots = calloc(n, sizeof *slots);
    if (!rings || !slots) {
        log_msg(LOG_ERR, "setting up %zu rings: %s", n, strerror(errno));
        free(rings);
        free(slots);
        return 1;
    }
    bool shared = s->opt.unix_path != NULL; /* a Unix socket has no SO_REUSEPORT */
    atomic_store(&s->loops_draining, (int)n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct ring *rg = &rings[i];
        *rg =
            (struct ring){.s = s, .lfd = i < s->ngroup ? s->group[i] : s->lfd, .exclusive = shared};
        const char *call;
        int r = ring_init(rg, &call);
        if (r < 0) {
            const char *why = unavailable(r, call);
            if (why)
                log_msg(LOG_ERR, "unavailable here: %s (%s)", why, strerror(-r));
            else
                log_msg(LOG_ERR, "io_uring set-up: %s: %s", call, strerror(-r));
            rc = 1;
            break;
        }
        rg->set = (struct ev_clients){.s = s, .w = stats_claim(s->stats)};
        slots[i] = rg->set.w;
    }
    s->per_worker = slots;
    s->nper_worker = n;
    bool started = rc == 0;
    if (started && srv_run_loops(s, n, run, rings, sizeof *rings) < 0)
        rc = 1;
    for (size_t i = 0; i < n; i++) {
        ring_free(&rings[i]);
        if (rings[i].set.w)
            stats_release(rings[i].set.w);
    }
    if (!started) {
        /* Not started: no listening line was printed, so no stats line either. */
        pidfile_remove(s->opt.pidfile);
        if (s->opt.unix_path)
            unlink(s->opt.unix_path);
        for (size_t i = 1; i < s->ngroup; i++)
            close(s->group[i]);
        free(s->group);
        free(rings);
        free(slots);
        return 1;
    }
    int status = srv_finish(s);
    free(rings);
    free(slots);
    return rc ? rc : status;
}
