#include "leader.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "deadline.h"
#include "evclient.h"
#include "log.h"
#include "net.h"
#include "sieve.h"
#include "srv.h"

/* What an event is for, in its data: these, or a struct client (a pointer, never this low). */
enum { T_LISTEN = 1, T_STOP, T_ABORT, T_WAKE, T_KICK };

struct client {
    struct ev_client ev; /* conn, fd, peer, list: the life the event drivers share */
    /* Under the leader's mutex: */
    struct deadline dl; /* --timeout or the linger, in the leader's lists */
    bool expired;       /* the deadline passed: the socket was shut down, to be closed */
    bool waits_line;    /* armed for a request: the stop shuts its read side */
    bool registered;    /* in the epoll set */
    /* The owner's, the thread that took its last event: */
    bool line_armed; /* the deadline of the request line awaited is set (bounds the line) */
    bool lingering;
    long long line_at, linger_at;
};

/* The client whose deadline d is. */
static struct client *client_of(struct deadline *d)
{
    return (struct client *)((char *)d - offsetof(struct client, dl));
}

struct leader {
    struct srv *s;
    int ep, lfd, wakefd;
    int kickfd;          /* written when a deadline comes before the leader's wait ends */
    pthread_mutex_t mu;  /* everything below, and the clients' fields marked so */
    pthread_cond_t turn; /* followers wait here for their turn to lead */
    bool has_leader;
    long long wait_until; /* when the leader's wait ends (monotonic ms), -1 for no limit */
    bool listening;       /* the listener is armed, or a thread is accepting from it */
    bool stopping, aborting, done;
    long long pause_until; /* accepts paused after EMFILE and its kin until then (0: not) */
    long long grace_at;    /* the drain's end, once stopping */
    long long last_warn;
    struct ev_clients set;
    struct deadlines dls;
};

/* ---- deadlines (under mu) ---- */

/* A deadline, or the end of a pause, at `at`: the leader waiting longer is woken to wait again
 * for less (the kick eventfd is edge-triggered and never read: each write is an event). */
static void kick_if_earlier(struct leader *l, long long at)
{
    if (!l->has_leader || (l->wait_until >= 0 && at >= l->wait_until))
        return;
    l->wait_until = at;
    uint64_t one = 1;
    if (write(l->kickfd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "kick eventfd: %s", strerror(errno));
}

/* Puts the client's deadline at `at` in list k (-1: none). A deadline kept across several
 * waits (a request line read in pieces) stays where it is, so the lists stay in order. */
static void deadline_put(struct leader *l, struct client *cl, int k, long long at)
{
    if (k < 0) {
        dl_clear(&l->dls, &cl->dl);
        return;
    }
    if (cl->dl.kind == k && cl->dl.at == at)
        return; /* kept: the leader already waits no longer than it */
    kick_if_earlier(l, at);
    dl_put(&l->dls, &cl->dl, (enum dl_kind)k, at);
}

/* How long the leader may wait: until the earliest deadline, the end of an accept pause or
 * of the grace time; -1 for no limit. */
static int wait_ms(struct leader *l)
{
    long long next = dl_next(&l->dls);
    if (l->pause_until && (next < 0 || l->pause_until < next))
        next = l->pause_until;
    if (l->stopping && !l->aborting && (next < 0 || l->grace_at < next))
        next = l->grace_at;
    long long now = clock_ms();
    if (next < 0 || next - now > 60000)
        next = now + 60000;
    l->wait_until = next;
    return next > now ? (int)(next - now) : 0;
}

/* ---- the listener and the end (under mu) ---- */

static int watch(struct leader *l, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(l->ep, op, fd, &ev);
}

/* Arms the listener again when nothing holds it back: the stop, a pause, --max-clients. */
static void listen_update(struct leader *l)
{
    if (l->listening || l->stopping || l->pause_until || evc_at_cap(l->s))
        return;
    if (watch(l, EPOLL_CTL_MOD, l->lfd, EPOLLIN | EPOLLONESHOT, T_LISTEN) < 0) {
        log_msg(LOG_ERR, "watching the listener: %s", strerror(errno));
        return;
    }
    l->listening = true;
}

/* Every thread leaves: the one waiting in epoll_wait through the wake eventfd (never read,
 * so it stays readable), the followers through the condition variable. */
static void finish(struct leader *l)
{
    if (l->done)
        return;
    l->done = true;
    pthread_cond_broadcast(&l->turn);
    uint64_t one = 1;
    if (write(l->wakefd, &one, sizeof one) < 0)
        log_msg(LOG_ERR, "wake eventfd: %s", strerror(errno));
}

/* The grace time is over, or a second signal came: every socket is shut down, so that each
 * client's next event (or its owner's next send) fails and closes it; a sieve in progress
 * finishes first. */
static void abort_all(struct leader *l)
{
    if (l->aborting)
        return;
    l->aborting = true;
    evc_grace_over(&l->set);
    for (struct ev_client *c = l->set.head; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    if (l->set.n == 0)
        finish(l);
}

/* The stop: no new clients; a client waiting for a request has its read side shut, so that
 * it is closed once what it already sent is answered; the others finish their request. */
static void begin_stop(struct leader *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    l->grace_at = clock_ms() + l->s->opt.grace_ms;
    net_stop_accepting(l->lfd);
    for (struct ev_client *c = l->set.head; c; c = c->next)
        if (((struct client *)c)->waits_line)
            shutdown(c->fd, SHUT_RD);
    if (watch(l, EPOLL_CTL_ADD, l->s->stop.abort_fd, EPOLLIN | EPOLLONESHOT, T_ABORT) < 0)
        log_msg(LOG_ERR, "watching the abort eventfd: %s", strerror(errno));
    if (l->set.n == 0)
        finish(l);
}

/* The leader, back from its wait: the deadlines that are due (their sockets shut down: the
 * owner-to-be sees the end and closes the client), the end of an accept pause, the grace. */
static void expire(struct leader *l)
{
    long long now = clock_ms();
    struct deadline *d;
    enum dl_kind kind;
    while ((d = dl_take_due(&l->dls, now, &kind))) {
        struct client *cl = client_of(d);
        cl->expired = true;
        shutdown(cl->ev.fd, SHUT_RDWR);
    }
    if (l->pause_until && now >= l->pause_until) {
        l->pause_until = 0;
        listen_update(l);
    }
    if (l->stopping && now >= l->grace_at)
        abort_all(l);
}

/* ---- a client, by the thread that owns it ---- */

static void client_close(struct leader *l, struct client *cl)
{
    pthread_mutex_lock(&l->mu);
    dl_clear(&l->dls, &cl->dl);
    bool timed_out = cl->expired;
    evc_remove(&l->set, &cl->ev); /* no one reaches its descriptor after this */
    pthread_mutex_unlock(&l->mu);
    if (timed_out && cl->ev.c.state == CONN_READ && !cl->lingering)
        evc_log_timeout(&cl->ev, l->s->opt.timeout_ms);
    close(cl->ev.fd);
    free(cl);
    evc_place_give(l->s);
    pthread_mutex_lock(&l->mu);
    listen_update(l);
    if (l->stopping && l->set.n == 0)
        finish(l);
    pthread_mutex_unlock(&l->mu);
}

/* Arms the client's next event as its conn's state needs, with its deadline; the client may
 * be taken by another thread as soon as it is armed. */
static void client_wait(struct leader *l, struct client *cl)
{
    enum conn_state st = cl->ev.c.state;
    if (st == CONN_DONE) {
        client_close(l, cl);
        return;
    }
    int timeout = l->s->opt.timeout_ms;
    long long now = clock_ms();
    uint32_t want = EPOLLOUT;
    int kind = -1;
    long long at = 0;
    switch (st) {
    case CONN_SEND: /* each wait of a client that does not read is bounded */
        cl->line_armed = false;
        if (timeout > 0)
            kind = DL_TIMEOUT, at = now + timeout;
        break;
    case CONN_READ: /* the whole line is bounded, from the moment it is awaited */
        want = EPOLLIN | EPOLLRDHUP;
        if (!cl->line_armed) {
            cl->line_armed = true;
            cl->line_at = now + timeout;
        }
        if (timeout > 0)
            kind = DL_TIMEOUT, at = cl->line_at;
        break;
    case CONN_LINGER:
        want = EPOLLIN | EPOLLRDHUP;
        kind = DL_LINGER, at = cl->linger_at;
        break;
    default: /* CONN_WORK: the per-event bound was reached; writable at once, so go on soon */
        break;
    }
    /* The client is armed under the lock: once armed, another thread may own it, and the
     * mutex, taken by every thread after its wait, is what orders the two owners' accesses
     * (ThreadSanitizer sees no order in epoll itself). */
    pthread_mutex_lock(&l->mu);
    bool gone = l->aborting || cl->expired;
    /* At the stop, a client between requests is done with (evc_done_at_stop peeks at the
     * socket: a system call under the lock, only while stopping). */
    if (!gone && st == CONN_READ && evc_done_at_stop(&cl->ev, l->stopping))
        gone = true;
    int err = 0;
    if (!gone) {
        deadline_put(l, cl, kind, at);
        cl->waits_line = st == CONN_READ;
        struct epoll_event ev = {.events = want | EPOLLONESHOT, .data.ptr = cl};
        if (epoll_ctl(l->ep, cl->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, cl->ev.fd, &ev) < 0)
            err = errno;
        else
            cl->registered = true;
    }
    pthread_mutex_unlock(&l->mu);
    if (err) /* not armed: still this thread's */
        log_msg(LOG_ERR, "watching a client: %s", strerror(err));
    if (gone || err)
        client_close(l, cl); /* timed out or aborted, done with at the stop, or not armed */
}

/* The driver's part of a client's event (lib/evclient drives it): the linger's and the request
 * line's deadlines are in the leader's lists, under its mutex. */
static int linger(void *ctx, struct ev_client *ev)
{
    struct client *cl = (struct client *)ev;
    (void)ctx;
    cl->lingering = true;
    cl->linger_at = clock_ms() + CONN_LINGER_MS; /* armed by client_wait */
    return 0;
}

static void line_whole(void *ctx, struct ev_client *ev)
{
    struct client *cl = (struct client *)ev;
    struct leader *l = ctx;
    if (!cl->line_armed)
        return;
    cl->line_armed = false;
    pthread_mutex_lock(&l->mu);
    dl_clear(&l->dls, &cl->dl);
    pthread_mutex_unlock(&l->mu);
}

static const struct evc_hooks hooks = {linger, line_whole, NULL};

/* Serves the client's event as the reactor does (the same shares), the sieve included, then
 * arms its next one. */
static void client_run(struct leader *l, struct client *cl, uint32_t events)
{
    bool can_read = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    if (evc_run(&cl->ev, can_read, &hooks, l) == EVC_CLOSE) {
        client_close(l, cl);
        return;
    }
    evc_count(&l->set, &cl->ev);
    client_wait(l, cl);
}

/* Takes what the listener holds (a bounded number per event), greets each new client and
 * arms it, then arms the listener again unless something holds it back. */
static void on_listen(struct leader *l)
{
    struct srv *s = l->s;
    bool pause = false;
    for (int i = 0; i < EVC_ACCEPT_PER_EVENT; i++) {
        if (!evc_place_take(s))
            break; /* at --max-clients: a close arms the listener again */
        struct sockaddr_storage peer;
        socklen_t len;
        int fd = net_accept_now(l->lfd, &peer, &len);
        if (fd < 0) {
            int e = errno;
            evc_place_give(s);
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                pause = true;
                long long now = clock_ms();
                pthread_mutex_lock(&l->mu);
                bool warn = now - l->last_warn >= 1000;
                if (warn)
                    l->last_warn = now;
                pthread_mutex_unlock(&l->mu);
                if (warn)
                    log_msg(LOG_WARNING, "accept: %s; pausing accepts", strerror(e));
            } else if (e != EAGAIN && e != EWOULDBLOCK && e != ECONNRESET && e != EPERM &&
                       e != ETIMEDOUT && e != EINVAL) { /* EINVAL: shut by the stop */
                log_msg(LOG_ERR, "accept: %s", strerror(e));
            }
            break;
        }
        struct client *cl = calloc(1, sizeof *cl);
        int fl = fcntl(fd, F_GETFL);
        if (!cl || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            log_msg(LOG_ERR, "new client: %s", strerror(errno));
            free(cl);
            close(fd);
            evc_place_give(s);
            continue;
        }
        int one = 1; /* payloads go out in several sends: see blocking.c */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        dl_init(&cl->dl);
        pthread_mutex_lock(&l->mu);
        evc_add(&l->set, &cl->ev, fd, &peer, len, false);
        pthread_mutex_unlock(&l->mu);
        client_run(l, cl, EPOLLOUT); /* the greeting goes out at once */
    }
    pthread_mutex_lock(&l->mu);
    l->listening = false;
    if (pause) {
        l->pause_until = clock_ms() + NET_ACCEPT_BACKOFF_MS;
        kick_if_earlier(l, l->pause_until);
    }
    listen_update(l);
    pthread_mutex_unlock(&l->mu);
}

/* ---- the threads ---- */

/* Each thread: waits its turn as a follower, leads (waits for one event), promotes the next
 * follower, serves what it got, and joins the followers again. */
static void *lf_thread(void *arg)
{
    struct leader *l = *(struct leader **)arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (l->has_leader && !l->done)
            pthread_cond_wait(&l->turn, &l->mu);
        if (l->done)
            break;
        l->has_leader = true;
        int timeout = wait_ms(l);
        pthread_mutex_unlock(&l->mu);
        struct epoll_event ev;
        int n = epoll_wait(l->ep, &ev, 1, timeout);
        int e = errno;
        pthread_mutex_lock(&l->mu);
        l->has_leader = false;
        pthread_cond_signal(&l->turn); /* promote a follower */
        if (n < 0 && e != EINTR) {
            log_msg(LOG_ERR, "epoll_wait: %s", strerror(e));
            srv_set_level(l->s, 2);
            begin_stop(l);
            abort_all(l);
        }
        expire(l);
        if (n <= 0)
            continue;
        switch (ev.data.u64) {
        case T_WAKE: /* done */
        case T_KICK: /* a nearer deadline: the next leader waits for less */
            continue;
        case T_STOP:
            begin_stop(l);
            if (srv_level(l->s) >= 2)
                abort_all(l);
            continue;
        case T_ABORT:
            abort_all(l);
            continue;
        }
        pthread_mutex_unlock(&l->mu);
        if (ev.data.u64 == T_LISTEN)
            on_listen(l);
        else
            client_run(l, ev.data.ptr, ev.events);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int leader_run(struct srv *s)
{
    struct leader *l = calloc(1, sizeof *l);
    size_t n = (size_t)s->opt.workers;
    struct leader **args = calloc(n, sizeof *args);
    if (!l || !args) {
        log_msg(LOG_ERR, "setting up %zu threads: %s", n, strerror(errno));
        free(l);
        free(args);
        return 1;
    }
    *l = (struct leader){.s = s, .lfd = s->lfd, .listening = true, .last_warn = -1000000};
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    l->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = 0;
    if (l->ep < 0 || l->wakefd < 0 || l->kickfd < 0 ||
        watch(l, EPOLL_CTL_ADD, l->lfd, EPOLLIN | EPOLLONESHOT, T_LISTEN) < 0 ||
        watch(l, EPOLL_CTL_ADD, s->stop.fd, EPOLLIN | EPOLLONESHOT, T_STOP) < 0 ||
        watch(l, EPOLL_CTL_ADD, l->wakefd, EPOLLIN, T_WAKE) < 0 ||
        watch(l, EPOLL_CTL_ADD, l->kickfd, EPOLLIN | EPOLLET, T_KICK) < 0) {
        log_msg(LOG_ERR, "setting up the epoll set: %s", strerror(errno));
        rc = 1;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->turn, NULL);
    l->set = (struct ev_clients){.s = s, .w = stats_claim(s->stats)};
    for (size_t i = 0; i < n; i++)
        args[i] = l;
    if (rc == 0 && srv_run_loops(s, n, lf_thread, args, sizeof *args) < 0)
        rc = 1;
    while (l->set.head) { /* none, unless the threads could not all start */
        struct client *cl = (struct client *)l->set.head;
        evc_remove(&l->set, &cl->ev);
        close(cl->ev.fd);
        free(cl);
        evc_place_give(s);
    }
    stats_release(l->set.w);
    pthread_cond_destroy(&l->turn);
    pthread_mutex_destroy(&l->mu);
    if (l->ep >= 0)
        close(l->ep);
    if (l->wakefd >= 0)
        close(l->wakefd);
    if (l->kickfd >= 0)
        close(l->kickfd);
    free(l);
    free(args);
    return rc;
}
