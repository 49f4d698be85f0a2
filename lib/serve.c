#include "serve.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "net.h"
#include "payload.h"
#include "sieve.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int serve_stop_level(struct serve_stop *st)
{
    int lv = atomic_load(&st->level);
    if (lv == 1 && st->own_signals && now_ms() >= st->abort_at_ms) {
        atomic_store(&st->level, 2);
        lv = 2;
    }
    return lv;
}

int serve_stop_signals(struct serve_stop *st)
{
    if (st->own_signals) {
        struct signalfd_siginfo si;
        while (read(st->fd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                int lv = atomic_load(&st->level);
                if (lv < 2)
                    atomic_store(&st->level, lv + 1);
                if (lv == 0)
                    st->abort_at_ms = now_ms() + st->grace_ms;
                if (st->listen_fd >= 0)
                    net_stop_accepting(st->listen_fd); /* new clients are refused at once */
            }
        }
    }
    return serve_stop_level(st);
}

/* How long a wait may last: the timeout, cut to the end of the grace time while draining. */
static int wait_limit(const struct serve_stop *st, int lv, int timeout_ms)
{
    if (!st->own_signals || lv != 1)
        return timeout_ms;
    long long left = st->abort_at_ms - now_ms();
    if (left < 0)
        left = 0;
    return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}

void serve_greeting(struct serve_cfg *cfg, const char *model, long pid)
{
    snprintf(cfg->greeting, sizeof cfg->greeting,
             "%s server ready (pid %ld): send \"WORK BYTES\"\n", model, pid);
}

enum { SEND_OK, SEND_FAIL };

/* Sends n bytes, waiting for the socket to drain between sends. A drain (level 1) lets the
 * send finish; an abort (level 2), the timeout, or a peer error ends it. */
static int send_all(const struct serve_cfg *cfg, struct serve_stop *st, int fd, const void *buf,
                    size_t n, uint64_t *sent)
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
        int lv = serve_stop_level(st);
        if (lv >= 2)
            return SEND_FAIL;
        int limit = wait_limit(st, lv, cfg->timeout_ms);
        int r = io_wait(fd, POLLOUT, serve_stop_fd(st, lv), limit);
        if (r == IO_STOP) {
            serve_stop_signals(st);
            continue;
        }
        if (r == IO_TIMEOUT && limit != cfg->timeout_ms)
            continue; /* the grace time is over: the next pass sees the abort */
        if (r != IO_READY)
            return SEND_FAIL;
    }
    return SEND_OK;
}

static int send_payload(const struct serve_cfg *cfg, struct serve_stop *st, int fd, uint64_t bytes,
                        uint64_t *sent)
{
    const uint8_t *blk = payload_block();
    uint64_t off = 0;
    while (off < bytes) {
        /* Whole 64 KiB blocks line up with the payload's period, so no offset math is needed. */
        size_t chunk = bytes - off < PAYLOAD_BLOCK ? (size_t)(bytes - off) : PAYLOAD_BLOCK;
        if (send_all(cfg, st, fd, blk, chunk, sent) != SEND_OK)
            return SEND_FAIL;
        off += chunk;
    }
    return SEND_OK;
}

/* Sends "ERR <reason>" and closes gently: closing a socket with unread input makes the
 * kernel send a reset, which can reach the client before it has read the ERR line. So the
 * write side is shut first and pending input is discarded, for at most LINGER_MS and
 * LINGER_BYTES, so that an abusive client cannot hold the worker with it. */
#define LINGER_MS    200
#define LINGER_BYTES (64 * 1024)
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

static void reply_err(const struct serve_cfg *cfg, struct serve_stop *st, int fd, struct peer *peer,
                      const char *reason)
{
    char line[128];
    int n = snprintf(line, sizeof line, "ERR %s\n", reason);
    uint64_t sent = 0;
    log_msg(LOG_NOTICE, "%s: bad request: %s", peer_str(peer), reason);
    stats_add(&cfg->stats->bad_requests, 1);
    if (send_all(cfg, st, fd, line, (size_t)n, &sent) != SEND_OK || shutdown(fd, SHUT_WR) < 0)
        return;
    long long end = now_ms() + LINGER_MS;
    size_t drained = 0;
    char junk[4096];
    while (drained < LINGER_BYTES) {
        long long left = end - now_ms();
        if (left <= 0 || io_wait(fd, POLLIN, st->abort_fd, (int)left) != IO_READY)
            break;
        ssize_t got = io_recv_some(fd, junk, sizeof junk);
        if (got <= 0)
            break;
        drained += (size_t)got;
    }
}

uint64_t serve_conn(const struct serve_cfg *cfg, struct serve_stop *st, int fd,
                    const struct sockaddr *peer, socklen_t peerlen)
{
    struct peer who = {.sa = peer, .len = peerlen};
    char buf[2 * PROTO_LINE_MAX + 2];
    size_t len = 0;
    uint64_t answered = 0, sent = 0;
    long long line_deadline = -1; /* while a request line is awaited: when it must be whole */

    stats_add(&cfg->stats->connections, 1);
    /* A payload is several sends; without TCP_NODELAY its last small segment waits for the
     * ACK of the one before, which the client delays (up to 40 ms on Linux). Unix sockets
     * have no such option; the error is ignored. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (send_all(cfg, st, fd, cfg->greeting, strlen(cfg->greeting), &sent) != SEND_OK)
        goto out;

    for (;;) {
        struct proto_request req;
        enum proto_error perr;
        long used = proto_parse(buf, len, &cfg->limits, &req, &perr);

        if (used == PROTO_BAD) {
            reply_err(cfg, st, fd, &who, proto_strerror(perr));
            break;
        }
        if (used == PROTO_INCOMPLETE) {
            if (serve_stop_level(st) >= 1)
                break; /* draining: no request in progress, so this connection is done */
            /* The timeout bounds the whole line, not the gap between bytes: a client that
             * trickles one byte at a time (slowloris) is dropped like an idle one. */
            int wait_ms = -1;
            if (cfg->timeout_ms >= 0) {
                long long now = now_ms();
                if (line_deadline < 0)
                    line_deadline = now + cfg->timeout_ms;
                wait_ms = line_deadline > now ? (int)(line_deadline - now) : 0;
            }
            int r = io_wait(fd, POLLIN, st->fd, wait_ms);
            if (r == IO_STOP) {
                serve_stop_signals(st);
                continue;
            }
            if (r == IO_TIMEOUT) {
                log_msg(LOG_INFO, "%s: no complete request within %d ms, closing", peer_str(&who),
                        cfg->timeout_ms);
                break;
            }
            if (r < 0)
                break;
            ssize_t got = io_recv_some(fd, buf + len, sizeof buf - len);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                break; /* the client closed or reset: the normal end of a connection */
            if (got > 0)
                len += (size_t)got;
            continue;
        }

        line_deadline = -1;
        int64_t primes = sieve_count(req.work);
        if (primes < 0) {
            reply_err(cfg, st, fd, &who, "out of memory for the sieve");
            break;
        }
        stats_add(&cfg->stats->primes, (uint64_t)primes);
        uint64_t before = sent;
        int ok = send_payload(cfg, st, fd, req.bytes, &sent);
        stats_add(&cfg->stats->bytes_sent, sent - before);
        if (ok != SEND_OK)
            break;
        stats_add(&cfg->stats->requests, 1);
        answered++;
        len -= (size_t)used;
        memmove(buf, buf + used, len);
    }
out:
    return answered;
}
