/* opening: the connections an engine thread opens before the start (client/slot.h): each
 * kept slot's first connection, greeted before the run as wrk connects before it measures,
 * and the --idle connections, greeted and then held silent (reopened when the server closes
 * one). Kept slots open KEPT_WINDOW at a time, so that a burst of thousands does not
 * overflow the server's accept queue. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "slot.h"

void eng_idle_close(struct slot *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = S_IDLE;
}

/* A non-blocking connect of s to the server, registered (edge-triggered) for events with
 * data; 0, or -1 with s's descriptor closed (-1). Idle connections and kept slots opened
 * before the start come this way; a request's own connect is start_request's (it times it). */
static int open_conn(struct engine *e, struct slot *s, uint32_t events, uint64_t data)
{
    const struct lg_opts *o = e->opt;
    s->linelen = 0;
    s->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -1;
    struct epoll_event ev = {.events = events | EPOLLRDHUP | EPOLLET, .data.u64 = data};
    if (epoll_ctl(e->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0 ||
        (connect(s->fd, (struct sockaddr *)&o->addr, o->addrlen) < 0 && errno != EINPROGRESS)) {
        close(s->fd);
        s->fd = -1;
        return -1;
    }
    return 0;
}

/* Opens idle connection s (non-blocking); a failure leaves it closed, for the next scan. */
static void idle_open(struct engine *e, struct slot *s)
{
    if (open_conn(e, s, EPOLLIN, (uint64_t)(uintptr_t)s | IDLE_TAG) < 0) {
        eng_idle_close(s);
        return;
    }
    s->state = S_GREETING;
}

void eng_idle_event(struct engine *e, struct slot *s, uint32_t ev)
{
    if (s->fd < 0 || !(ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
        return;
    for (;;) {
        ssize_t n = recv(s->fd, e->buf, e->buflen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            eng_idle_close(s); /* the server closed it (or it was refused): reopened later */
            return;
        }
        if (s->state == S_GREETING && memchr(e->buf, '\n', (size_t)n))
            s->state = S_WAIT; /* greeted: held silent from now on */
    }
}

/* A kept slot's first connection, opened before the start: registered as the slot (not
 * tagged), connected without a clock; a failure leaves it closed, to connect at the start. */
static void kept_open(struct engine *e, struct slot *s)
{
    if (open_conn(e, s, EPOLLIN | EPOLLOUT, (uint64_t)(uintptr_t)s) < 0)
        return;
    e->res->connections_opened++;
    s->start = lg_now_ns();
    s->connected = 0;
    s->state = S_GREETING;
}

/* An event on a kept slot before the start: its greeting makes it S_WAIT (greeted, its
 * connection kept for the first request); an error or anything but a greeting closes it. */
static void kept_event(struct engine *e, struct slot *s, uint32_t ev)
{
    if (s->fd < 0 || s->state != S_GREETING)
        return;
    if (ev & EPOLLERR) {
        eng_close_conn(e, s);
        return;
    }
    if (!s->connected)
        s->connected = lg_now_ns();
    if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)))
        return; /* connected; the greeting is an event of its own */
    for (;;) {
        ssize_t n = recv(s->fd, s->line + s->linelen, sizeof s->line - s->linelen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            eng_close_conn(e, s);
            return;
        }
        s->linelen += (size_t)n;
        char *nl = memchr(s->line, '\n', s->linelen);
        if (nl && (size_t)(nl - s->line) + 1 == s->linelen) {
            s->greeted = lg_now_ns();
            s->state = S_WAIT;
            return;
        }
        if (nl || s->linelen == sizeof s->line) {
            eng_close_conn(e, s); /* not a greeting: the start connects afresh, and fails then */
            return;
        }
    }
}

/* Kept connections opened at once before the start, per thread: enough to keep the server's
 * accept queue busy, few enough that a burst of thousands does not overflow it (a dropped
 * SYN is sent again after 1 s, then 3 s, 7 s, ...). */
#define KEPT_WINDOW 128

/* Before the start: every idle connection and every kept slot's first connection opened and
 * greeted, or, for a server that greets only as many as it has workers, until nothing has
 * been greeted for a second; never longer than --timeout. Kept slots are opened KEPT_WINDOW
 * at a time; those not greeted by the end are closed and connect at the start. Sets
 * idle_greeted and kept_greeted. */
void eng_open_before_start(struct engine *e, bool kept)
{
    size_t nkept = kept ? e->nslots : 0, next = 0, waiting = 0;
    for (size_t i = 0; i < e->nidle; i++)
        idle_open(e, &e->idle[i]);
    int64_t now = lg_now_ns(), last = now;
    int64_t limit = now + (int64_t)e->opt->timeout_us * 1000;
    struct epoll_event evs[256];
    for (;;) {
        for (; next < nkept && waiting < KEPT_WINDOW; next++) {
            struct slot *s = &e->slots[next];
            if (s->state == S_DONE)
                continue;
            kept_open(e, s);
            waiting += s->state == S_GREETING;
        }
        size_t greeted = 0;
        for (size_t i = 0; i < e->nidle; i++)
            greeted += e->idle[i].state == S_WAIT;
        if ((greeted == e->nidle && waiting == 0 && next == nkept) || now - last >= 1000000000 ||
            now >= limit)
            break;
        int n = epoll_wait(e->ep, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            break;
        now = lg_now_ns();
        for (int i = 0; i < n; i++) {
            struct slot *s = (struct slot *)(uintptr_t)(evs[i].data.u64 & ~(uint64_t)IDLE_TAG);
            enum state before = s->state;
            if (evs[i].data.u64 & IDLE_TAG) {
                eng_idle_event(e, s, evs[i].events);
            } else {
                kept_event(e, s, evs[i].events);
                if (before == S_GREETING && (s->state != S_GREETING || s->fd < 0))
                    waiting--; /* greeted, or closed: room for the next */
            }
            if (s->state != before)
                last = now;
        }
    }
    for (size_t i = 0; i < e->nidle; i++)
        e->res->idle_greeted += e->idle[i].state == S_WAIT;
    /* The connections' connect and greeting times are those of the opening: recorded once,
     * as a new connection's are with its first request. */
    for (size_t i = 0; i < nkept; i++) {
        struct slot *s = &e->slots[i];
        if (s->state == S_WAIT && s->fd >= 0) {
            e->res->kept_greeted++;
            uint64_t ph[2] = {(uint64_t)(s->connected - s->start) / 1000,
                              (uint64_t)(s->greeted - s->start) / 1000};
            for (int p = 0; p < 2; p++) {
                if (e->opt->rate > 0)
                    hist_record(&e->res->lat_unc[PH_CONNECT + p], ph[p]);
                hist_record(&e->res->lat[PH_CONNECT + p], ph[p]);
            }
        } else if (s->state != S_DONE) {
            eng_close_conn(e, s);
            s->state = S_IDLE;
        }
    }
}

void eng_idle_reopen(struct engine *e)
{
    for (size_t i = 0; i < e->nidle; i++) {
        if (e->idle[i].state != S_IDLE)
            continue;
        idle_open(e, &e->idle[i]);
        e->res->idle_reopened++;
    }
}

void eng_close_conn(const struct engine *e, struct slot *s)
{
    if (s->fd >= 0) {
        if (e->opt->close_rst) {
            /* An abortive close (the default): no FIN exchange and no TIME_WAIT. In this
             * protocol the client closes first, so a normal close leaves the TIME_WAIT here,
             * and with tens of thousands of them every connect searches the port space for a
             * free port (half of a new connection's client CPU on loopback) and new
             * connections are capped at the ports over TIME_WAIT's length. Safe: a connection
             * is closed once every byte asked for is read (or the request failed), and
             * nothing of ours is unsent. */
            struct linger lg = {1, 0};
            setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(s->fd); /* close(2) also removes it from the epoll set */
        s->fd = -1;
    }
    s->on_conn = 0;
}
