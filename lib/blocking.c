#include "blocking.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "io.h"
#include "log.h"
#include "net.h"
#include "sieve.h"

/* How long a wait may last: the timeout, cut to the end of the grace time while draining. */
static int wait_limit(const struct stop *st, int lv, int timeout_ms)
{
    if (!st->own_signals || lv != 1)
        return timeout_ms;
    long long left = st->abort_at_ms - clock_ms();
    if (left < 0)
        left = 0;
    return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}

enum { SEND_OK, SEND_FAIL };

/* Sends n bytes, waiting for the socket to drain between sends. A drain (level 1) lets the
 * send finish; an abort (level 2), the timeout, or a peer error ends it. */
static int send_all(const struct serve_cfg *cfg, struct stop *st, int fd, const void *buf, size_t n,
                    uint64_t *sent)
{
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t w = io_send_some(fd, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            *sent += (uint64_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return SEND_FAIL;
        int lv = stop_level(st);
        if (lv >= 2)
            return SEND_FAIL;
        int limit = wait_limit(st, lv, cfg->timeout_ms);
        int r = io_wait(fd, POLLOUT, stop_fd(st, lv), limit);
        if (r == IO_STOP) {
            stop_signals(st);
            continue;
        }
        if (r == IO_TIMEOUT && limit != cfg->timeout_ms)
            continue; /* the grace time is over: the next pass sees the abort */
        if (r != IO_READY)
            return SEND_FAIL;
    }
    return SEND_OK;
}

/* The peer's address, formatted only when something is logged: not on the request path. */
struct peer {
    const struct sockaddr *sa;
    socklen_t len;
    char str[NET_ADDRSTR_MAX];
};

static const char *peer_str(struct peer *p)
{
    if (!p->str[0])
        net_addr_str(p->sa, p->len, p->str, sizeof p->str);
    return p->str;
}

/* After an ERR line: the write side shut, input discarded until the peer closes, the conn
 * has seen CONN_LINGER_BYTES, or CONN_LINGER_MS are over, so an abusive client cannot hold
 * the worker with it. */
static void linger(struct stop *st, int fd, struct conn *c)
{
    if (shutdown(fd, SHUT_WR) < 0)
        return;
    long long end = clock_ms() + CONN_LINGER_MS;
    while (c->state == CONN_LINGER) {
        long long left = end - clock_ms();
        if (left <= 0 || io_wait(fd, POLLIN, st->abort_fd, (int)left) != IO_READY)
            break;
        size_t room;
        char *p = conn_inbuf(c, &room);
        ssize_t got = io_recv_some(fd, p, room);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        conn_received(c, got > 0 ? (size_t)got : 0);
    }
}

/* The blocking driver of a conn: each state's wait is done here, bounded by the timeout and
 * cut short by the stop descriptor. */
uint64_t blocking_serve(const struct serve_cfg *cfg, struct stop *st, struct stats_slot *w, int fd,
                        const struct sockaddr *peer, socklen_t peerlen)
{
    struct peer who = {.sa = peer, .len = peerlen};
    struct conn c;
    uint64_t answered = 0;
    long long line_deadline = -1; /* while a request line is awaited: when it must be whole */

    conn_init(&c, &cfg->conn);
    stats_add(&w->connections, 1);
    /* A payload is several sends; without TCP_NODELAY its last small segment waits for the
     * ACK of the one before, which the client delays (up to 40 ms on Linux). Unix sockets
     * have no such option; the error is ignored. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    while (c.state != CONN_DONE) {
        switch (c.state) {
        case CONN_SEND: {
            const void *p;
            size_t n = conn_output(&c, &p);
            uint64_t sent = 0;
            int ok = send_all(cfg, st, fd, p, n, &sent);
            conn_sent(&c, (size_t)sent);
            if (c.state != CONN_SEND) {
                struct conn_tally t = c.tally;
                answered += t.requests;
                serve_count(w, conn_tally_take(&c));
            }
            if (ok != SEND_OK)
                goto out;
            break;
        }
        case CONN_READ: {
            /* Draining: done with between requests, unless the next one already waits (it is
             * answered, within the grace time). */
            int lv = stop_level(st);
            if (lv >= 2 || (lv == 1 && serve_closes_at_stop(fd, false, c.state)))
                goto out;
            /* The timeout bounds the whole line, not the gap between bytes: a client that
             * trickles one byte at a time (slowloris) is dropped like an idle one. */
            int wait_ms = -1;
            if (cfg->timeout_ms >= 0) {
                long long now = clock_ms();
                if (line_deadline < 0)
                    line_deadline = now + cfg->timeout_ms;
                wait_ms = line_deadline > now ? (int)(line_deadline - now) : 0;
            }
            int r = io_wait(fd, POLLIN, stop_fd(st, lv), wait_limit(st, lv, wait_ms));
            if (r == IO_STOP) {
                stop_signals(st);
                break;
            }
            if (r == IO_TIMEOUT) {
                if (stop_level(st) >= 2)
                    goto out; /* the grace time is over */
                log_msg(LOG_INFO, "%s: no complete request within %d ms, closing", peer_str(&who),
                        cfg->timeout_ms);
                goto out;
            }
            if (r < 0)
                goto out;
            size_t room;
            char *p = conn_inbuf(&c, &room);
            ssize_t got = io_recv_some(fd, p, room);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (got < 0)
                goto out; /* a reset: the client is gone */
            conn_received(&c, (size_t)got);
            break;
        }
        case CONN_WORK: {
            line_deadline = -1;
            conn_work_done(&c, sieve_count(conn_request(&c)->work));
            break;
        }
        case CONN_LINGER:
            log_msg(LOG_NOTICE, "%s: bad request: %s", peer_str(&who), c.reason);
            linger(st, fd, &c);
            goto out;
        case CONN_DONE:
            break;
        }
    }
out:
    serve_count(w, conn_tally_take(&c));
    return answered;
}
