#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "evclient.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "sieve.h"
#include "reactor.h"
#include "srv.h"

struct client {
    struct ev_client ev; /* conn, fd, peer, list: the life the event drivers share */
    unsigned watching;
    bool reading_line; /* the --timeout deadline of a request line is armed */
    bool working;      /* its request is with the pool: only the worker touches conn and fd */
    bool dropped;      /* closed while working: closed and freed when the work returns */
    bool send_blocked; /* set by the worker: the socket took less than the whole answer */
    bool send_failed;  /* set by the worker: the client reset or went away */
    struct reactor *r;
    struct loop_timer timer;
    struct client *sprev, *snext; /* in the stalled FIFO (back-pressure) */
    bool stalled;
};

/* The next client of a list of ev_clients (the reactor's are all struct client). */
static struct client *next_of(struct client *cl)
{
    return (struct client *)cl->ev.next;
}

struct reactor {
    struct srv *s;
    const struct reactor_ops *ops;
    struct loop *loop;
    int lfd;         /* its listener: the server's, or its own SO_REUSEPORT one */
    unsigned lwatch; /* how the listener is watched: LOOP_READ, with LOOP_EXCLUSIVE if shared */
    unsigned flags;  /* REACTOR_* */
    struct loop_timer cap_poll; /* one of several loops: --max-clients reached, look again */
    struct ev_clients set;      /* every open connection, for the drain; the loop's counters */
    struct client *stalled_head, *stalled_tail; /* waiting for room in the workers' queue */
    bool listening, stopping;
    bool resuming; /* resume_stalled() is watching readers again */
    bool draining; /* begin_stop() is taking what is queued on the listener */
    struct loop_timer accept_pause, grace;
    long long last_warn;
    long long last_refusal; /* when a refused client was last logged */
    uint64_t refused;       /* clients refused since then, not logged one by one */
};

static void listen_update(struct reactor *r);

static void cap_recheck(struct loop *l, void *arg)
{
    (void)l;
    listen_update(arg);
}

/* --max-clients counts the clients of every loop of the server (s->event_clients): a loop at
 * the cap stops watching its listener, and, when it is one of several, looks again every
 * REACTOR_CAP_POLL_MS, since a client another loop closes does not wake it. */
#define REACTOR_CAP_POLL_MS 20
static void listen_update(struct reactor *r)
{
    bool full = evc_at_cap(r->s);
    bool want = !r->stopping && !loop_timer_armed(&r->accept_pause) && !full;
    if (want != r->listening && loop_mod(r->loop, r->lfd, want ? r->lwatch : 0) == 0)
        r->listening = want;
    if (full && !r->stopping && (r->flags & REACTOR_SHARED) && !loop_timer_armed(&r->cap_poll))
        loop_timer_set(r->loop, &r->cap_poll, REACTOR_CAP_POLL_MS, cap_recheck, r);
}

static void stall(struct client *cl)
{
    struct reactor *r = cl->r;
    if (cl->stalled)
        return;
    cl->stalled = true;
    cl->snext = NULL;
    cl->sprev = r->stalled_tail;
    if (r->stalled_tail)
        r->stalled_tail->snext = cl;
    else
        r->stalled_head = cl;
    r->stalled_tail = cl;
}

static void unstall(struct client *cl)
{
    struct reactor *r = cl->r;
    if (!cl->stalled)
        return;
    cl->stalled = false;
    if (cl->sprev)
        cl->sprev->snext = cl->snext;
    else
        r->stalled_head = cl->snext;
    if (cl->snext)
        cl->snext->sprev = cl->sprev;
    else
        r->stalled_tail = cl->sprev;
}

static void client_close(struct client *cl)
{
    struct reactor *r = cl->r;
    if (cl->working) {
        /* A worker may be writing to it (and it is not watched meanwhile): closed and freed
         * when the work returns. */
        cl->dropped = true;
        loop_timer_cancel(r->loop, &cl->timer);
        return;
    }
    unstall(cl);
    if (cl->ev.fd >= 0) {
        loop_del(r->loop, cl->ev.fd);
        close(cl->ev.fd);
        cl->ev.fd = -1;
    }
    loop_timer_cancel(r->loop, &cl->timer);
    evc_remove(&r->set, &cl->ev);
    free(cl);
    evc_place_give(r->s);
    if (r->stopping && r->set.n == 0)
        loop_stop(r->loop);
    listen_update(r);
}

static void on_timer(struct loop *l, void *arg)
{
    struct client *cl = arg;
    (void)l;
    if (cl->ev.c.state == CONN_READ)
        evc_log_timeout(&cl->ev, cl->r->s->opt.timeout_ms);
    client_close(cl); /* a line not whole in time, a client not reading, or a linger over */
}

/* Watches what the conn's state needs and arms its timer; false when the client was closed.
 * --timeout bounds a whole request line from the moment it is awaited, and each wait of a
 * client that does not read what it is sent. */
static bool client_wait(struct client *cl)
{
    struct reactor *r = cl->r;
    int timeout = r->s->opt.timeout_ms;
    unsigned want = 0;
    if (cl->working)
        goto watch; /* the worker owns the conn: nothing to watch until it is back */
    switch (cl->ev.c.state) {
    case CONN_SEND:
        want = LOOP_WRITE;
        cl->reading_line = false;
        if (timeout > 0 && loop_timer_set(r->loop, &cl->timer, timeout, on_timer, cl) < 0)
            goto fail;
        break;
    case CONN_WORK:
        if (cl->stalled) {
            want = 0; /* waiting for room in the workers' queue */
            break;
        }
        want = LOOP_WRITE; /* the per-event bound was reached: go on when writable */
        break;
    case CONN_READ:
        if (evc_done_at_stop(&cl->ev, r->stopping)) {
            client_close(cl); /* draining: nothing in progress on this connection */
            return false;
        }
        want = LOOP_READ;
        if (r->stalled_head && !r->resuming) {
            /* The workers' queue is full: no more requests are read until it has room. */
            stall(cl);
            want = 0;
        }
        if (!cl->reading_line) {
            cl->reading_line = true; /* the deadline bounds the whole line, not each byte */
            if (timeout > 0 && loop_timer_set(r->loop, &cl->timer, timeout, on_timer, cl) < 0)
                goto fail;
            if (timeout <= 0)
                loop_timer_cancel(r->loop, &cl->timer);
        }
        break;
    case CONN_LINGER:
        want = LOOP_READ;
        break;
    case CONN_DONE:
        client_close(cl);
        return false;
    }
watch:
    if (want != cl->watching) {
        if (loop_mod(r->loop, cl->ev.fd, want) < 0)
            goto fail;
        cl->watching = want;
    }
    return true;
fail:
    log_msg(LOG_ERR, "watching a client: %s", strerror(errno));
    client_close(cl);
    return false;
}

/* The reactor's part of a client's event (lib/evclient drives it): the linger and the request
 * line's deadline are the client's loop timer, and a request above the pool's inline_work goes
 * to a worker, or waits in the stalled FIFO while the workers' queue is full. */
static int linger(void *ctx, struct ev_client *ev)
{
    struct client *cl = (struct client *)ev;
    (void)ctx;
    return loop_timer_set(cl->r->loop, &cl->timer, CONN_LINGER_MS, on_timer, cl);
}

static void line_whole(void *ctx, struct ev_client *ev)
{
    struct client *cl = (struct client *)ev;
    (void)ctx;
    cl->reading_line = false;
    loop_timer_cancel(cl->r->loop, &cl->timer);
}

static bool hand_off(void *ctx, struct ev_client *ev)
{
    struct client *cl = (struct client *)ev;
    struct reactor *r = cl->r;
    uint64_t work = conn_request(&cl->ev.c)->work;
    (void)ctx;
    if (!r->ops || !r->ops->offload || work <= r->ops->inline_work)
        return false;
    evc_count(&r->set, &cl->ev); /* the worker may own it next */
    if (!r->stalled_head && r->ops->offload(r->ops->arg, cl, work))
        cl->working = true;
    else
        stall(cl); /* offered again when a worker has room */
    return true;
}

static const struct evc_hooks hooks = {linger, line_whole, hand_off};

/* Drives one client on readiness until it must wait, within one event's share. */
static void client_run(struct client *cl, unsigned events)
{
    if (evc_run(&cl->ev, (events & LOOP_READ) != 0, &hooks, NULL) == EVC_CLOSE) {
        client_close(cl);
        return;
    }
    if (!cl->working)
        evc_count(&cl->r->set, &cl->ev);
    client_wait(cl);
}

/* Back from a worker with the socket full: counts what the worker did and watches for room. */
static void client_done_waiting(struct client *cl)
{
    evc_count(&cl->r->set, &cl->ev);
    client_wait(cl);
}

/* Room in the workers' queue: the stalled clients in order, requests first offered again,
 * readers watched again, until the queue is full once more. */
static void resume_stalled(struct reactor *r)
{
    while (r->stalled_head) {
        struct client *cl = r->stalled_head;
        if (cl->ev.c.state == CONN_WORK) {
            if (!r->ops->offload(r->ops->arg, cl, conn_request(&cl->ev.c)->work))
                return;
            unstall(cl);
            cl->working = true;
            continue;
        }
        unstall(cl);
        r->resuming = true;
        client_wait(cl); /* a reader: watched again */
        r->resuming = false;
    }
}

struct loop *reactor_loop(struct reactor *r)
{
    return r->loop;
}

void reactor_work(struct client *cl, uint64_t work)
{
    cl->send_blocked = cl->send_failed = false;
    conn_work_done(&cl->ev.c, sieve_count(work));
    while (cl->ev.c.state == CONN_SEND) {
        ssize_t w = evc_send(&cl->ev);
        if (w <= 0) {
            cl->send_blocked = w == 0;
            cl->send_failed = w < 0;
            return;
        }
    }
}

void reactor_work_done(struct client *cl)
{
    struct reactor *r = cl->r;
    cl->working = false;
    if (cl->dropped || cl->send_failed)
        client_close(cl);
    else if (cl->send_blocked)
        client_done_waiting(cl);
    else
        client_run(cl, LOOP_WRITE);
    resume_stalled(r);
}

static void on_client(struct loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    client_run(arg, events);
}

static void resume_accept(struct loop *l, void *arg)
{
    (void)l;
    listen_update(arg);
}

/* Takes what the listener holds (a bounded number per event). EMFILE and its kin take the
 * listener out of the poller for NET_ACCEPT_BACKOFF_MS (a timer, never a sleep on the loop
 * thread); the connection waits in the backlog meanwhile. */
static void on_listen(struct loop *l, int lfd, unsigned events, void *arg)
{
    struct reactor *r = arg;
    (void)events;
    for (int i = 0; i < EVC_ACCEPT_PER_EVENT && r->listening; i++) {
        struct sockaddr_storage peer;
        socklen_t len;
        /* A place under --max-clients is taken before the accept, so that loops sharing the
         * cap never exceed it together. */
        if (!evc_place_take(r->s)) {
            listen_update(r);
            return;
        }
        int fd = net_accept_now(lfd, &peer, &len);
        if (fd < 0)
            evc_place_give(r->s);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                long long now = loop_now(l);
                if (now - r->last_warn >= 1000) {
                    log_msg(LOG_WARNING, "accept: %s; pausing accepts", strerror(errno));
                    r->last_warn = now;
                }
                loop_timer_set(l, &r->accept_pause, NET_ACCEPT_BACKOFF_MS, resume_accept, r);
                listen_update(r);
                return;
            }
            if (errno != ECONNRESET && errno != EPERM && errno != ETIMEDOUT)
                log_msg(LOG_ERR, "accept: %s", strerror(errno));
            return;
        }
        int one = 1;
        struct client *cl = calloc(1, sizeof *cl);
        if (!cl || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
            log_msg(LOG_ERR, "new client: %s", strerror(errno));
            free(cl);
            close(fd);
            evc_place_give(r->s);
            continue;
        }
        /* Payloads go out in several sends: see blocking.c. Unix sockets refuse it, harmlessly. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cl->r = r;
        cl->timer.pos = -1;
        if (loop_add(l, fd, 0, on_client, cl) < 0) {
            /* Logged at most once a second: a client refused this way tends to come back at
             * once, and a line for each would flood the log. */
            long long now = loop_now(l);
            r->refused++;
            if (now - r->last_refusal >= 1000) {
                int e = errno;
                char who[NET_ADDRSTR_MAX];
                net_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
                log_msg(LOG_WARNING,
                        "%s: descriptor %d: %s; closing it (%llu refused since the last such line)",
                        who, fd,
                        e == ERANGE ? "above what select can watch (FD_SETSIZE)" : strerror(e),
                        (unsigned long long)r->refused);
                r->last_refusal = now;
                r->refused = 0;
            }
            free(cl);
            close(fd);
            evc_place_give(r->s);
            continue;
        }
        evc_add(&r->set, &cl->ev, fd, &peer, len, r->draining);
        listen_update(r);
        client_run(cl, LOOP_WRITE); /* the greeting goes out at once */
    }
}

static void abort_all(struct loop *l, void *arg)
{
    struct reactor *r = arg;
    evc_grace_over(&r->set);
    for (struct client *cl = (struct client *)r->set.head, *next; cl; cl = next) {
        next = next_of(cl);
        client_close(cl); /* one whose request is with a worker is freed when it returns */
    }
    loop_stop(l);
}

/* The stop: refuse new clients, close those between requests, let the others finish within
 * the grace time. A loop with a listener of its own (SO_REUSEPORT) first takes every
 * connection already queued on it: closing a listener of a reuseport group drops its queue,
 * which the other listeners' clients would not suffer. */
static void begin_stop(struct reactor *r)
{
    struct loop *l = r->loop;
    if (r->stopping)
        return;
    if (r->flags & REACTOR_SHARED) {
        r->listening = r->draining = true;
        for (int i = 0; i < 1024 && r->listening; i++) {
            size_t before = r->set.n;
            on_listen(l, r->lfd, LOOP_READ, r);
            if (r->set.n == before)
                break; /* nothing queued (or the cap is reached) */
        }
        r->draining = false;
    }
    r->stopping = true;
    loop_del(l, r->lfd);
    r->listening = false;
    /* A listener shared by several loops is shut (refusing new clients) by the last of them
     * to have taken what was queued. */
    if (!(r->flags & REACTOR_EXCLUSIVE) || atomic_fetch_sub(&r->s->loops_draining, 1) == 1)
        net_stop_accepting(r->lfd);
    loop_timer_cancel(l, &r->accept_pause);
    loop_timer_cancel(l, &r->cap_poll);
    loop_timer_set(l, &r->grace, r->s->opt.grace_ms, abort_all, r);
    /* A client between requests is closed, unless a request of its is already waiting in
     * the socket: reading it first tells (client_wait closes the others). */
    for (struct client *cl = (struct client *)r->set.head, *next; cl; cl = next) {
        next = next_of(cl);
        if (!cl->working && !cl->ev.drained && cl->ev.c.state == CONN_READ)
            client_run(cl, LOOP_READ);
    }
    if (r->set.n == 0)
        loop_stop(l);
}

/* A loop that reads the signals itself: a first SIGTERM or SIGINT stops, a second drops
 * everything. */
static void on_signal(struct loop *l, int fd, unsigned events, void *arg)
{
    struct reactor *r = arg;
    (void)fd;
    (void)events;
    if (!(srv_signals(r->s) & SRV_SIG_STOP))
        return;
    if (srv_level(r->s) >= 2)
        abort_all(l, r);
    else
        begin_stop(r);
}

/* One of several loops: the main thread reads the signals and raises the stop level, which
 * makes the stop eventfd (level 1) and then the abort one (level 2) readable for good; each is
 * watched once. */
static void on_stop_fd(struct loop *l, int fd, unsigned events, void *arg)
{
    struct reactor *r = arg;
    (void)events;
    loop_del(l, fd);
    if (fd == r->s->stop.abort_fd || srv_level(r->s) >= 2) {
        abort_all(l, r);
        return;
    }
    begin_stop(r);
    if (!r->s->stop.own_signals && loop_add(l, r->s->stop.abort_fd, LOOP_READ, on_stop_fd, r) < 0)
        log_msg(LOG_ERR, "watching the abort eventfd: %s", strerror(errno));
}

struct reactor *reactor_new(struct srv *s, const struct reactor_ops *ops, int lfd, unsigned flags)
{
    struct reactor *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (struct reactor){.s = s,
                          .ops = ops,
                          .lfd = lfd,
                          .flags = flags,
                          .lwatch = LOOP_READ | (flags & REACTOR_EXCLUSIVE ? LOOP_EXCLUSIVE : 0),
                          .listening = true,
                          .last_warn = -1000000,
                          .last_refusal = -1000000};
    r->accept_pause.pos = r->grace.pos = r->cap_poll.pos = -1;
    r->loop = loop_new(s->opt.poller);
    int e = errno;
    if (r->loop) {
        bool threads = !s->stop.own_signals;
        if (loop_add(r->loop, lfd, r->lwatch, on_listen, r) == 0 &&
            (threads ? loop_add(r->loop, s->stop.fd, LOOP_READ, on_stop_fd, r)
                     : loop_add(r->loop, s->sigfd, LOOP_READ, on_signal, r)) == 0) {
            r->set = (struct ev_clients){.s = s, .w = stats_claim(s->stats)};
            return r;
        }
        e = errno;
        loop_free(r->loop);
    }
    free(r);
    errno = e;
    return NULL;
}

int reactor_serve(struct reactor *r)
{
    int rc = loop_run(r->loop);
    if (rc < 0)
        log_msg(LOG_ERR, "event loop (%s): %s", loop_poller(r->loop), strerror(errno));
    if (r->ops && r->ops->stop)
        r->ops->stop(r->ops->arg); /* joins the workers: no result can come after this */
    while (r->set.head) {
        struct client *cl = (struct client *)r->set.head;
        cl->working = false; /* the workers are joined: nobody holds it any more */
        client_close(cl);
    }
    return rc;
}

struct stats_slot *reactor_slot(struct reactor *r)
{
    return r->set.w;
}

void reactor_free(struct reactor *r)
{
    if (!r)
        return;
    loop_free(r->loop);
    stats_release(r->set.w);
    free(r);
}

int reactor_run(struct srv *s, const struct reactor_ops *ops)
{
    struct reactor *r = reactor_new(s, ops, s->lfd, 0);
    if (!r)
        err(1, "event loop (%s)", s->opt.poller);
    if (ops && ops->start && ops->start(ops->arg, r) < 0)
        err(1, "starting the workers");
    srv_ready(s);
    int rc = reactor_serve(r);
    reactor_free(r);
    return rc;
}
