/* engine: one thread of the load generator. Each thread owns its share of the connection
 * slots and drives them from one epoll loop with non-blocking sockets (no thread per
 * connection), registering each socket once, edge-triggered, and running its state machine
 * until the kernel says EAGAIN: connecting -> greeting -> sending -> receiving -> (next request
 * on the same connection, or a new one).
 *
 * Closed loop: a slot sends its next request as soon as the last one ends. Open loop (-R): a
 * slot's requests are due at fixed intervals; a request that starts late is timed from when it
 * was due, so a stalled server shows in the tail instead of silently slowing the client
 * (coordinated omission, corrected as wrk2 does); the uncorrected times are kept too. Only the
 * total is corrected: a connect or greeting time plus the lateness means nothing. Requests due
 * before the end that could not be sent at all (the slot was still waiting on an earlier one)
 * are counted as due_not_sent and recorded in the corrected total as taking at least from
 * their due time to the end, which wrk2 leaves out.
 *
 * What counts as an answer: every reply must begin with the payload's first bytes (checked
 * always, every byte with --verify), so a refusal ("ERR ...") is an err_reply whatever BYTES
 * is, and a byte beyond BYTES is a long_reply. With BYTES 0 no answer comes: the client
 * half-closes after its request and the request ends when the server closes in turn, so an
 * ERR line, or a reply that should not exist, is still seen.
 *
 * Kept connections (-k 0, or -k N above 1): each slot's first connection is opened and
 * greeted before the run starts (as wrk connects before it measures), so that every client
 * asked for has its connection through the whole measured interval; a thread starting them
 * between event rounds would leave thousands unopened while the busy ones take the rounds.
 * Those the server does not greet (a pool smaller than the clients) are closed and connect
 * again at the start, as new connections would. The opening's time is the run's ramp_s.
 *
 * Idle connections (--idle): opened before the run starts, greeted, then held silent and
 * never measured, the C10K setting. They share the thread's epoll set, marked by a tag bit in
 * the event's data. One the server closes is reopened at the next scan (every 100 ms, so a
 * server that refuses them at once is not hammered) and counted in idle_reopened.
 *
 * Slow clients: --think pauses after the greeting (and, in a closed loop, between requests on
 * a kept connection) before the request is sent; the pause is the client's and is taken out
 * of the request's total. --read-rate reads a reply at most that fast: a small receive buffer,
 * and reads of a twentieth of a second's worth each, no earlier than the rate allows. Both
 * park the slot in the same timer queue (client/timerq) as the requests not yet due.
 *
 * Request classes (--mix): each request draws its class (WORK, BYTES) by weight from the
 * thread's generator, seeded from --seed and the thread's index, so a run is repeatable;
 * each class's total times, successes and failures are kept beside the totals.
 *
 * Times: a request starts when its own connect is issued (or, on a kept connection, its
 * send); "sent" is taken before the send, so the response phase never reads below the
 * server's time. A timed run counts what ends before its end, nothing after. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "payload.h"
#include "proto.h"
#include "timerq.h"
#include "slot.h"

/* The first bytes of every reply are checked against the payload even without --verify: it
 * costs nothing and tells a payload from an ERR line. */
#define HEAD_CHECK 16

/* Requests started in a row before pending events are taken (a zero-timeout wait). */
#define START_BATCH 4

const char *const lg_phase_names[PH_COUNT] = {"connect", "greeting", "response", "total"};
const char *const lg_err_names[E_COUNT] = {
    "connect_refused", "connect_timeout", "reset",         "short_read", "err_reply",
    "no_greeting",     "timeout",         "verify_failed", "long_reply", "other"};

/* The slot whose timer queue item it is. */
static struct slot *slot_of(struct tq_item *it)
{
    return (struct slot *)((char *)it - offsetof(struct slot, t));
}

/* Queues s for its wake time (s->t.wake). */
static void heap_push(struct engine *e, struct slot *s)
{
    s->t.id = s->id; /* slots due together start in slot order */
    tq_push(&e->timers, &s->t);
}

/* After a request ends, ok or not: the next one, now or when it is due. */
static void advance(struct engine *e, struct slot *s, int64_t now)
{
    if (s->measured && s->left != UINT64_MAX)
        s->left--;
    s->seq++;
    if (s->left == 0 || now >= e->sh->end_ns) {
        eng_close_conn(e, s);
        s->state = S_DONE;
        e->done_slots++;
        return;
    }
    /* Closed loop: due at once (after --think on a kept connection); the main loop starts it
     * after this batch of events, which also keeps the stack flat when requests complete
     * back to back. */
    if (e->interval_ns)
        s->intended = eng_due_time(e, s->id, s->seq);
    else
        s->intended = now + (s->fd >= 0 ? (int64_t)e->opt->think_us * 1000 : 0) + s->backoff;
    s->t.wake = s->intended;
    s->state = S_WAIT;
    heap_push(e, s);
}

static void fail(struct engine *e, struct slot *s, enum err_class c, int64_t now, int sys_errno)
{
    if (s->t.queued) /* a paced read that timed out */
        tq_take(&e->timers, s->t.pos);
    if (eng_after_end(e, s, now))
        return;
    if (s->measured)
        eng_count_failed(e, s, c, now, sys_errno);
    /* A refused connect: nothing listens there (or a Unix socket's queue is full). The closed
     * loop waits before this slot tries again, 1 ms doubling to 100 ms while refusals go on
     * and nothing after a connection is made, instead of spinning a core on connect(); the
     * open loop keeps its schedule. */
    if (c == E_CONNECT_REFUSED)
        s->backoff =
            s->backoff ? (s->backoff * 2 < 100000000 ? s->backoff * 2 : 100000000) : 1000000;
    eng_close_conn(e, s);
    advance(e, s, now);
}

static void complete(struct engine *e, struct slot *s, int64_t now)
{
    if (eng_after_end(e, s, now))
        return;
    eng_count_answered(e, s, now);
    if (e->opt->per_conn != 0 && s->on_conn >= e->opt->per_conn)
        eng_close_conn(e, s);
    advance(e, s, now);
}

static enum err_class errno_class(int err, enum state st)
{
    switch (err) {
    case ECONNREFUSED:
    case EAGAIN: /* a Unix socket with a full backlog */
        return st == S_CONNECTING ? E_CONNECT_REFUSED : E_OTHER;
    case ETIMEDOUT:
        return st == S_CONNECTING ? E_CONNECT_TIMEOUT : E_TIMEOUT;
    case ECONNRESET:
    case EPIPE:
        return E_RESET;
    default:
        return E_OTHER;
    }
}

static void drive(struct engine *e, struct slot *s, int64_t now, uint32_t ev);

/* The next request's class: by weight, from the thread's generator (splitmix64). */
static unsigned draw_class(struct engine *e)
{
    if (e->opt->nclasses < 2)
        return 0;
    uint64_t z = (e->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    uint64_t pick = z % e->weight_total;
    unsigned c = 0;
    while (pick >= e->opt->classes[c].weight)
        pick -= e->opt->classes[c++].weight;
    return c;
}

static void start_request(struct engine *e, struct slot *s, int64_t now)
{
    s->measured = s->intended >= e->sh->measure_ns;
    s->cls = draw_class(e);
    s->bytes = e->opt->classes[s->cls].bytes;
    s->got = 0;
    s->reqoff = 0;
    s->thought = 0;
    s->read_from = 0;
    s->on_conn++;
    if (s->fd >= 0) {
        s->fresh = false;
        s->start = lg_now_ns();
        s->deadline = s->start + (int64_t)e->opt->timeout_us * 1000;
        s->state = S_SENDING;
        drive(e, s, s->start, EPOLLOUT);
        return;
    }
    s->fresh = true;
    s->on_conn = 1;
    s->linelen = 0;
    const struct lg_opts *o = e->opt;
    s->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fail(e, s, E_OTHER, now, errno);
        return;
    }
    /* No TCP_NODELAY: a request is one small write with nothing unacknowledged before it, so
     * Nagle's algorithm never holds it back, and the syscall would cost on every connection. */
    e->res->connections_opened++;
    if (e->read_quantum) {
        /* A small window, so that the server's sends wait on this reader as across a WAN
         * (the kernel doubles it and keeps a floor of its own). */
        int rcv = e->read_quantum < 4096    ? 4096
                  : e->read_quantum > 65536 ? 65536
                                            : (int)e->read_quantum;
        if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0) {
            fail(e, s, E_OTHER, now, errno);
            return;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
    if (epoll_ctl(e->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        fail(e, s, E_OTHER, now, errno);
        return;
    }
    s->state = S_CONNECTING;
    /* The request's own start: slots due together would otherwise share the batch's time
     * and read each other's connect calls as their own latency. */
    s->start = lg_now_ns();
    s->deadline = s->start + (int64_t)o->timeout_us * 1000;
    if (connect(s->fd, (struct sockaddr *)&o->addr, o->addrlen) == 0) {
        s->connected = lg_now_ns();
        s->backoff = 0;
        s->state = S_GREETING; /* the greeting's arrival will be an event of its own */
    } else if (errno != EINPROGRESS) {
        int err = errno;
        fail(e, s, errno_class(err, S_CONNECTING), lg_now_ns(), err);
    }
}

/* After a recv or send returned -1: 1 to try again (EINTR), 0 to wait for the next event
 * (EAGAIN), -1 when the request has failed (counted in its class). */
static int after_error(struct engine *e, struct slot *s, int64_t now)
{
    if (errno == EINTR)
        return 1;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    int err = errno;
    fail(e, s, errno_class(err, s->state), now, err);
    return -1;
}

/* A reply's bytes: the part up to BYTES must be payload (its first HEAD_CHECK bytes always
 * checked, all of it with --verify); a reply that starts with 'E' where the payload has
 * another byte is an ERR line; anything past BYTES is a long reply. Returns true when the
 * slot is finished with (completed or failed). */
static bool take_reply(struct engine *e, struct slot *s, const uint8_t *d, size_t n)
{
    const uint64_t bytes = s->bytes;
    if (s->got == 0 && d[0] == 'E' && (bytes == 0 || payload_byte(0) != 'E')) {
        s->state = S_ERRLINE;
        s->linelen = 0;
        return false; /* the caller reads the line with the next recv */
    }
    size_t in = bytes - s->got < n ? (size_t)(bytes - s->got) : n;
    size_t check = in;
    if (!e->opt->verify && s->got < HEAD_CHECK)
        check = HEAD_CHECK - s->got < in ? (size_t)(HEAD_CHECK - s->got) : in;
    else if (!e->opt->verify)
        check = 0;
    if (check && payload_check(d, check, s->got) != check) {
        fail(e, s, E_VERIFY_FAILED, lg_now_ns(), 0);
        return true;
    }
    s->got += in;
    if (in < n) {
        fail(e, s, E_LONG_REPLY, lg_now_ns(), 0);
        return true;
    }
    return false;
}

/* Runs the slot's state machine on an event (ev: the epoll events) until it must wait. Reads
 * are only tried when the event says data is there, and a request just sent waits for its
 * answer's event: the socket is registered edge-triggered, and Linux queues an event for every
 * arrival, so no read is spent on EAGAIN. That keeps a request to socket, epoll_ctl, connect,
 * two recv, one send and close. */
static void drive(struct engine *e, struct slot *s, int64_t now, uint32_t ev)
{
    for (;;) {
        switch (s->state) {
        case S_WAIT: {
            /* A kept connection between requests: nothing may arrive. Bytes are the tail of
             * a reply longer than asked; an end is the server closing an idle connection,
             * and the next request simply opens a new one. */
            if (s->fd < 0 || !(ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
                return;
            ssize_t n = recv(s->fd, e->buf, e->buflen, 0);
            if (n < 0 && (errno == EINTR))
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            if (n > 0 && s->seq > 0 && now >= e->sh->measure_ns && now < e->sh->end_ns)
                eng_count_error(e, E_LONG_REPLY, now, 0);
            eng_close_conn(e, s);
            return;
        }
        case S_CONNECTING: {
            if (ev & (EPOLLERR | EPOLLHUP)) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                    err = errno;
                fail(e, s, errno_class(err ? err : ECONNREFUSED, S_CONNECTING), now, err);
                return;
            }
            if (!(ev & (EPOLLOUT | EPOLLIN)))
                return;
            s->connected = now;
            s->backoff = 0;
            s->state = S_GREETING;
            if (!(ev & EPOLLIN))
                return;
            break;
        }
        case S_GREETING: {
            if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
                return;
            ssize_t n = recv(s->fd, s->line + s->linelen, sizeof s->line - s->linelen, 0);
            if (n < 0) {
                if (after_error(e, s, now) > 0)
                    continue;
                return;
            }
            if (n == 0) {
                fail(e, s, E_NO_GREETING, now, 0);
                return;
            }
            size_t old = s->linelen;
            s->linelen += (size_t)n;
            char *nl = memchr(s->line + old, '\n', (size_t)n);
            if (!nl) {
                if (s->linelen == sizeof s->line)
                    fail(e, s, E_OTHER, now, EMSGSIZE);
                continue;
            }
            if ((size_t)(nl - s->line) + 1 != s->linelen) {
                fail(e, s, E_OTHER, now, EPROTO); /* bytes after the greeting, unasked */
                return;
            }
            s->greeted = now = lg_now_ns();
            if (e->opt->think_us) {
                s->state = S_THINK;
                s->t.wake = now + (int64_t)e->opt->think_us * 1000;
                heap_push(e, s);
                return;
            }
            s->state = S_SENDING;
            break;
        }
        case S_SENDING: {
            if (s->reqoff == 0)
                s->sent = lg_now_ns(); /* before the send: the server may answer within it */
            ssize_t n = send(s->fd, e->req[s->cls] + s->reqoff, e->reqlen[s->cls] - s->reqoff,
                             MSG_NOSIGNAL);
            if (n < 0) {
                if (after_error(e, s, now) > 0)
                    continue;
                return;
            }
            s->reqoff += (size_t)n;
            if (s->reqoff < e->reqlen[s->cls])
                continue;
            /* With BYTES 0 nothing comes back; a half-close tells the server there is no
             * more, and its close in turn ends the request (after the sieve, or with ERR). */
            if (s->bytes == 0 && shutdown(s->fd, SHUT_WR) < 0) {
                int err = errno;
                fail(e, s, errno_class(err, S_SENDING), lg_now_ns(), err);
                return;
            }
            s->state = S_RECEIVING;
            return; /* the answer comes as an event */
        }
        case S_RECEIVING: {
            if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
                return;
            size_t want = e->buflen;
            if (e->read_quantum && s->got > 0) {
                /* Paced: the next read waits until the bytes read so far are due. */
                int64_t t = lg_now_ns();
                int64_t next =
                    s->read_from + (int64_t)((double)s->got * 1e9 / (double)e->opt->read_rate);
                if (s->t.queued)
                    tq_take(&e->timers, s->t.pos);
                if (t < next) {
                    s->t.wake = next;
                    heap_push(e, s);
                    return;
                }
            }
            if (e->read_quantum)
                want = e->read_quantum;
            ssize_t n = recv(s->fd, e->buf, want, 0);
            if (n < 0) {
                if (after_error(e, s, now) > 0)
                    continue;
                return;
            }
            now = lg_now_ns();
            if (s->read_from == 0)
                s->read_from = now;
            if (n == 0) {
                if (s->got == s->bytes) /* BYTES 0: the server's close is the answer */
                    complete(e, s, now);
                else
                    fail(e, s, E_SHORT_READ, now, 0);
                return;
            }
            if (take_reply(e, s, e->buf, (size_t)n))
                return;
            if (s->state == S_ERRLINE) {
                size_t k = (size_t)n < sizeof s->line - 1 ? (size_t)n : sizeof s->line - 1;
                memcpy(s->line, e->buf, k);
                s->linelen = k;
                if (memchr(s->line, '\n', k) || k == sizeof s->line - 1) {
                    fail(e, s, strncmp(s->line, "ERR", 3) ? E_VERIFY_FAILED : E_ERR_REPLY, now, 0);
                    return;
                }
                continue;
            }
            if (s->got == s->bytes && s->bytes > 0) {
                complete(e, s, now);
                return;
            }
            if (e->read_quantum)
                ev = EPOLLIN; /* the pace, not the next event, says when to read again */
            break;
        }
        case S_ERRLINE: {
            /* The rest of an ERR line: classified at its "\n", at the server's close, or
             * when it outgrows any line the protocol allows. */
            if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
                return;
            ssize_t n = recv(s->fd, s->line + s->linelen, sizeof s->line - 1 - s->linelen, 0);
            if (n < 0) {
                if (after_error(e, s, now) > 0)
                    continue;
                return;
            }
            s->linelen += (size_t)n;
            if (n == 0 || memchr(s->line + s->linelen - (size_t)n, '\n', (size_t)n) ||
                s->linelen == sizeof s->line - 1) {
                fail(e, s, strncmp(s->line, "ERR", 3) ? E_VERIFY_FAILED : E_ERR_REPLY, lg_now_ns(),
                     0);
                return;
            }
            break;
        }
        default:
            return;
        }
    }
}

/* A slot the timer queue hands back that is not waiting to start: the end of its --think pause, or
 * the time for its next paced read. */
static void resume(struct engine *e, struct slot *s, int64_t now)
{
    if (s->state == S_THINK) {
        s->thought = now - s->greeted;
        s->deadline += s->thought;
        s->state = S_SENDING;
        drive(e, s, now, EPOLLOUT);
    } else {
        drive(e, s, now, EPOLLIN);
    }
}

static void check_timeouts(struct engine *e, int64_t now)
{
    for (size_t i = 0; i < e->nslots; i++) {
        struct slot *s = &e->slots[i];
        if (s->state < S_CONNECTING || s->state > S_ERRLINE || s->state == S_THINK ||
            now < s->deadline)
            continue;
        enum err_class c = s->state == S_CONNECTING ? E_CONNECT_TIMEOUT
                           : s->state == S_GREETING ? E_NO_GREETING
                                                    : E_TIMEOUT;
        fail(e, s, c, now, 0);
    }
}

/* epoll_pwait2 takes a timeout in nanoseconds: open-loop requests start when due, not up to
 * a millisecond late as epoll_wait's granularity would make them. Falls back on old kernels. */
static int wait_events(int ep, struct epoll_event *evs, int max, int64_t timeout_ns)
{
    static atomic_bool no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
        int n = epoll_pwait2(ep, evs, max, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
    }
    return epoll_wait(ep, evs, max, (int)((timeout_ns + 999999) / 1000000));
}

/* This thread's CPU time so far (RUSAGE_THREAD: the kernel's exact runtime, split into user
 * and system time by its tick sampling). */
static void thread_cpu(double *user, double *sys)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) < 0) {
        *user = *sys = 0;
        return;
    }
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void begin_measuring(struct engine *e)
{
    double u, sy;
    thread_cpu(&u, &sy);
    e->res->cpu_user_s = -u;
    e->res->cpu_sys_s = -sy;
    e->measuring = true;
}

int lg_engine_run(const struct lg_shared *sh, int index, struct lg_result *out, char *err,
                  size_t errlen)
{
    const struct lg_opts *o = sh->opt;
    struct engine e = {.sh = sh, .opt = o, .res = out, .live = &sh->live[index]};
    size_t lo = (size_t)(o->conns * index / o->threads);
    size_t hi = (size_t)(o->conns * (index + 1) / o->threads);
    e.nslots = hi - lo;
    e.nidle = (size_t)(o->idle * (uint64_t)index / (uint64_t)o->threads);
    e.nidle = (size_t)(o->idle * (uint64_t)(index + 1) / (uint64_t)o->threads) - e.nidle;
    e.slots = calloc(e.nslots ? e.nslots : 1, sizeof *e.slots);
    int tq = tq_init(&e.timers, e.nslots);
    e.idle = calloc(e.nidle ? e.nidle : 1, sizeof *e.idle);
    e.buflen = 256 * 1024;
    if (o->read_rate) {
        uint64_t q = o->read_rate / 20;
        e.read_quantum = q < 1 ? 1 : q > e.buflen ? e.buflen : (size_t)q;
    }
    e.buf = malloc(e.buflen);
    e.ep = epoll_create1(EPOLL_CLOEXEC);
    int rl = 0;
    for (size_t c = 0; c < o->nclasses && rl >= 0; c++) {
        rl = proto_format_request(e.req[c], sizeof e.req[c], o->classes[c].work,
                                  o->classes[c].bytes);
        e.reqlen[c] = rl > 0 ? (size_t)rl : 0;
        e.weight_total += o->classes[c].weight;
    }
    e.rng = o->seed ^ ((uint64_t)(index + 1) * UINT64_C(0xD1B54A32D192ED03));
    bool ok = e.slots && tq == 0 && e.idle && e.buf && e.ep >= 0 && rl >= 0;
    if (ok) {
        for (size_t i = 0; i < e.nidle; i++)
            e.idle[i].fd = -1;
        for (size_t i = 0; i < e.nslots; i++) {
            struct slot *s = &e.slots[i];
            size_t id = lo + i;
            s->fd = -1;
            s->id = (uint32_t)id;
            if (o->requests)
                s->left =
                    o->requests / (uint64_t)o->conns + (id < o->requests % (uint64_t)o->conns);
            else
                s->left = UINT64_MAX;
            s->state = S_IDLE;
            if (s->left == 0) {
                s->state = S_DONE;
                e.done_slots++;
            }
        }
        eng_open_before_start(&e, o->per_conn != 1);
        /* The stop is watched from here on; one asked for meanwhile is an event at once. */
        struct epoll_event sev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
        ok = sh->stop_fd < 0 || epoll_ctl(e.ep, EPOLL_CTL_ADD, sh->stop_fd, &sev) == 0;
    }
    if (!ok)
        snprintf(err, errlen, "engine set-up: %s", strerror(errno));
    if (sh->ready) {
        pthread_barrier_wait(sh->ready);
        pthread_barrier_wait(sh->go); /* main has set t0 between the two */
    }
    if (!ok) {
        for (size_t i = 0; e.idle && i < e.nidle; i++)
            eng_idle_close(&e.idle[i]);
        for (size_t i = 0; e.slots && i < e.nslots; i++)
            eng_close_conn(&e, &e.slots[i]);
        free(e.slots);
        tq_free(&e.timers);
        free(e.idle);
        free(e.buf);
        if (e.ep >= 0)
            close(e.ep);
        return -1;
    }
    if (o->rate > 0) {
        /* Used as "open loop?" and for nothing else since eng_due_time() keeps the schedule. */
        e.interval_ns = (int64_t)((double)o->conns * 1e9 / o->rate);
        if (e.interval_ns < 1)
            e.interval_ns = 1;
        /* The default 50 us timer slack would make every due request start late. */
        prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    }

    int64_t t0 = sh->t0_ns;
    for (size_t i = 0; i < e.nslots; i++) {
        struct slot *s = &e.slots[i];
        if (s->state == S_DONE)
            continue;
        /* Open loop: the slots' first requests are spread evenly over one interval. A kept
         * slot greeted before the start sends its first request on that connection. */
        s->intended = e.interval_ns ? eng_due_time(&e, s->id, 0) : t0;
        if (!e.interval_ns && s->fd >= 0) /* greeted already: --think comes first */
            s->intended += (int64_t)o->think_us * 1000;
        s->t.wake = s->intended;
        s->state = S_WAIT;
        heap_push(&e, s);
    }

    struct epoll_event evs[256];
    int64_t next_scan = t0 + 100000000;
    int64_t end = sh->end_ns; /* becomes the stop's grace limit when a stop comes */
    for (;;) {
        int64_t now = lg_now_ns();
        if (!e.measuring && now >= sh->measure_ns)
            begin_measuring(&e);
        /* A request due at or after the end is not started (a timed run of 1 s at 1200/s
         * sends 1200, not 1201). At most START_BATCH are started before events are looked at
         * again, so that the connections started first are not timed through the set-up of
         * all the others (100 connections due together would read a millisecond more). */
        int started = 0;
        while (tq_first(&e.timers) && tq_first(&e.timers)->wake <= now && started < START_BATCH) {
            struct slot *s = slot_of(tq_take(&e.timers, 0));
            if (s->state != S_WAIT)
                resume(&e, s, now);
            else if (!e.stopping && s->intended < sh->end_ns)
                start_request(&e, s, now);
            else
                continue; /* never started: nothing new after a stop or due after the end */
            started++;
        }
        bool more_due = tq_first(&e.timers) && tq_first(&e.timers)->wake <= now;
        if (now >= end || e.done_slots == e.nslots)
            break;
        if (e.stopping) {
            bool busy = false;
            for (size_t i = 0; i < e.nslots && !busy; i++)
                busy = eng_in_flight(&e.slots[i]);
            if (!busy)
                break;
        }
        int64_t wake = next_scan;
        if (tq_first(&e.timers) && tq_first(&e.timers)->wake < wake)
            wake = tq_first(&e.timers)->wake;
        if (!e.measuring && sh->measure_ns < wake)
            wake = sh->measure_ns;
        if (end < wake)
            wake = end;
        int n = wait_events(e.ep, evs, 256, wake > now && !more_due ? wake - now : 0);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            break;
        }
        now = lg_now_ns();
        if (!e.measuring && now >= sh->measure_ns)
            begin_measuring(&e);
        if (now >= sh->end_ns)
            break; /* what ended after the end is not counted */
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 & IDLE_TAG) {
                eng_idle_event(&e,
                               (struct slot *)(uintptr_t)(evs[i].data.u64 & ~(uint64_t)IDLE_TAG),
                               evs[i].events);
                continue;
            }
            struct slot *s = evs[i].data.ptr;
            if (!s) {
                /* The stop: nothing new from now on; what is in flight gets a grace time. */
                e.stopping = true;
                e.stop_ns = atomic_load(&sh->stop_ns);
                if (e.stop_ns <= 0 || e.stop_ns > now)
                    e.stop_ns = now;
                if (e.stop_ns + LG_STOP_GRACE_NS < end)
                    end = e.stop_ns + LG_STOP_GRACE_NS;
                continue;
            }
            drive(&e, s, now, evs[i].events);
        }
        if (now >= next_scan) {
            check_timeouts(&e, now);
            if (!e.stopping)
                eng_idle_reopen(&e);
            next_scan = now + 100000000;
        }
    }

    if (e.measuring) {
        double u, sy;
        thread_cpu(&u, &sy);
        out->cpu_user_s += u;
        out->cpu_sys_s += sy;
    }
    int64_t due_end = e.stopping && e.stop_ns < sh->end_ns ? e.stop_ns : sh->end_ns;
    if (e.interval_ns && due_end != INT64_MAX)
        eng_count_due_not_sent(&e, due_end);
    /* The end of a timed or stopped run: what is still under way is counted, not lost. */
    for (size_t i = 0; i < e.nslots; i++) {
        struct slot *s = &e.slots[i];
        if (eng_in_flight(s) && s->measured)
            out->in_flight_at_end++;
        eng_close_conn(&e, s);
    }
    for (size_t i = 0; i < e.nidle; i++)
        eng_idle_close(&e.idle[i]);
    close(e.ep);
    free(e.slots);
    tq_free(&e.timers);
    free(e.idle);
    free(e.buf);
    return 0;
}
