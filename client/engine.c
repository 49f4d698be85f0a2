/* engine: one thread of the load generator. Each thread owns its share of the connection
 * slots and drives them from one epoll loop with non-blocking sockets (no thread per
 * connection), registering each socket once, edge-triggered, and running its state machine
 * until the kernel says EAGAIN: connecting -> greeting -> sending -> receiving -> (next request
 * on the same connection, or a new one).
 *
 * Closed loop: a slot sends its next request as soon as the last one ends. Open loop (-R): a
 * slot's requests are due at fixed intervals; a request that starts late is timed from when it
 * was due, so a stalled server shows in the tail instead of silently slowing the client
 * (coordinated omission, corrected as wrk2 does); the uncorrected times are kept too. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "payload.h"
#include "proto.h"

enum state { S_IDLE, S_WAIT, S_CONNECTING, S_GREETING, S_SENDING, S_RECEIVING, S_DONE };

struct slot {
    int fd;
    enum state state;
    uint32_t id, seq;
    uint64_t left;    /* measured requests still to do (UINT64_MAX in duration mode) */
    uint64_t on_conn; /* requests started on the current connection */
    bool measured, fresh;
    int64_t intended, start, connected, greeted, sent, deadline;
    uint64_t got;
    size_t linelen, reqoff, heap_pos;
    char head[4];
    char line[PROTO_GREETING_MAX + 1];
};

struct engine {
    const struct lg_shared *sh;
    const struct lg_opts *opt;
    struct lg_result *res;
    struct lg_live *live;
    int ep;
    struct slot *slots;
    size_t nslots, done_slots;
    struct slot **heap; /* open loop: slots waiting for their due time, earliest first */
    size_t heap_len;
    int64_t interval_ns;
    char req[48];
    size_t reqlen;
    uint8_t *buf;
    size_t buflen;
};

const char *const lg_phase_names[PH_COUNT] = {"connect", "greeting", "response", "total"};
const char *const lg_err_names[E_COUNT] = {"connect_refused", "connect_timeout", "reset",
                                           "short_read",      "err_reply",       "no_greeting",
                                           "timeout",         "verify_failed",   "other"};

int64_t lg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Earlier due time first; equal times in slot order, so that slots due together start in a
 * fixed order (a heap alone would pop them in an arbitrary one). */
static bool due_before(const struct slot *a, const struct slot *b)
{
    return a->intended < b->intended || (a->intended == b->intended && a->id < b->id);
}

static void heap_swap(struct engine *e, size_t a, size_t b)
{
    struct slot *t = e->heap[a];
    e->heap[a] = e->heap[b];
    e->heap[b] = t;
    e->heap[a]->heap_pos = a;
    e->heap[b]->heap_pos = b;
}

static void heap_push(struct engine *e, struct slot *s)
{
    size_t i = e->heap_len++;
    e->heap[i] = s;
    s->heap_pos = i;
    while (i > 0 && due_before(e->heap[i], e->heap[(i - 1) / 2])) {
        heap_swap(e, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct slot *heap_pop(struct engine *e)
{
    struct slot *top = e->heap[0];
    e->heap[0] = e->heap[--e->heap_len];
    e->heap[0]->heap_pos = 0;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->heap_len && due_before(e->heap[l], e->heap[m]))
            m = l;
        if (r < e->heap_len && due_before(e->heap[r], e->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(e, i, m);
        i = m;
    }
    return top;
}

static void close_conn(const struct engine *e, struct slot *s)
{
    if (s->fd >= 0) {
        if (e->opt->close_rst) {
            /* An abortive close: no FIN exchange and no TIME_WAIT. Safe here because every
             * byte asked for has been read and nothing of ours is unsent. */
            struct linger lg = {1, 0};
            setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(s->fd); /* close(2) also removes it from the epoll set */
        s->fd = -1;
    }
    s->on_conn = 0;
}

static struct lg_second *second_of(struct engine *e, int64_t t)
{
    if (t < e->sh->measure_ns)
        return NULL;
    size_t i = (size_t)((t - e->sh->measure_ns) / 1000000000);
    struct lg_result *r = e->res;
    if (i >= 86400)
        return NULL;
    while (r->nseconds <= i) {
        if (r->nseconds == r->capseconds) {
            size_t cap = r->capseconds ? 2 * r->capseconds : 64;
            struct lg_second *g = realloc(r->seconds, cap * sizeof *g);
            if (!g)
                return NULL;
            r->seconds = g;
            r->capseconds = cap;
        }
        struct lg_second *sec = &r->seconds[r->nseconds];
        memset(sec, 0, sizeof *sec);
        sec->total = malloc(sizeof *sec->total);
        if (!sec->total || hist_init(sec->total, 2, HIST_MAX_US) < 0) {
            free(sec->total);
            return NULL;
        }
        r->nseconds++;
    }
    return &r->seconds[i];
}

static void log_request(struct engine *e, struct slot *s, const int64_t *ph, int err)
{
    struct lg_result *r = e->res;
    if (e->opt->requests == 0 || e->opt->requests > LG_REQUEST_LOG)
        return;
    if (r->nreqs == r->capreqs) {
        size_t cap = r->capreqs ? 2 * r->capreqs : 64;
        struct lg_request *g = realloc(r->reqs, cap * sizeof *g);
        if (!g)
            return;
        r->reqs = g;
        r->capreqs = cap;
    }
    struct lg_request *q = &r->reqs[r->nreqs++];
    q->conn = s->id;
    q->seq = s->seq;
    q->start_us = (s->intended - e->sh->measure_ns) / 1000;
    for (int p = 0; p < PH_COUNT; p++)
        q->phase_us[p] = ph[p];
    q->error = (int8_t)err;
}

/* After a request ends, ok or not: the next one, now or when it is due. */
static void advance(struct engine *e, struct slot *s, int64_t now)
{
    if (s->measured && s->left != UINT64_MAX)
        s->left--;
    s->seq++;
    if (s->left == 0 || now >= e->sh->end_ns) {
        close_conn(e, s);
        s->state = S_DONE;
        e->done_slots++;
        return;
    }
    if (e->interval_ns == 0) {
        /* Closed loop: due at once; the main loop starts it after this batch of events,
         * which also keeps the stack flat when requests complete back to back. */
        s->intended = now;
        s->state = S_WAIT;
        heap_push(e, s);
        return;
    }
    s->intended += e->interval_ns;
    s->state = S_WAIT;
    heap_push(e, s);
}

static void fail(struct engine *e, struct slot *s, enum err_class c, int64_t now, int sys_errno)
{
    if (s->measured) {
        e->res->errors[c]++;
        atomic_fetch_add_explicit(&e->live->errors, 1, memory_order_relaxed);
        struct lg_second *sec = second_of(e, now);
        if (sec)
            sec->errors++;
        int64_t ph[PH_COUNT] = {-1, -1, -1, -1};
        log_request(e, s, ph, (int)c);
        if (!e->res->first_error[0])
            snprintf(e->res->first_error, sizeof e->res->first_error, "%s%s%s", lg_err_names[c],
                     sys_errno ? ": " : "", sys_errno ? strerror(sys_errno) : "");
    }
    close_conn(e, s);
    advance(e, s, now);
}

static void complete(struct engine *e, struct slot *s, int64_t now)
{
    if (s->measured) {
        struct lg_result *r = e->res;
        int64_t late = s->start - s->intended; /* >0 only in open loop */
        int64_t ph[PH_COUNT] = {-1, -1, -1, -1};
        if (s->fresh) {
            ph[PH_CONNECT] = (s->connected - s->start) / 1000;
            ph[PH_GREETING] = (s->greeted - s->start) / 1000;
        }
        ph[PH_RESPONSE] = (now - s->sent) / 1000;
        ph[PH_TOTAL] = (now - s->start) / 1000;
        for (int p = 0; p < PH_COUNT; p++) {
            if (ph[p] < 0)
                continue;
            if (e->interval_ns) {
                hist_record(&r->lat_unc[p], (uint64_t)ph[p]);
                ph[p] += late / 1000;
            }
            hist_record(&r->lat[p], (uint64_t)ph[p]);
        }
        r->requests_ok++;
        r->bytes += s->got;
        atomic_fetch_add_explicit(&e->live->requests, 1, memory_order_relaxed);
        struct lg_second *sec = second_of(e, now);
        if (sec) {
            sec->requests++;
            hist_record(sec->total, (uint64_t)ph[PH_TOTAL]);
        }
        log_request(e, s, ph, -1);
    } else {
        e->res->warmup_requests++;
    }
    if (e->opt->per_conn != 0 && s->on_conn >= e->opt->per_conn)
        close_conn(e, s);
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

static void start_request(struct engine *e, struct slot *s, int64_t now)
{
    s->start = now;
    s->measured = s->intended >= e->sh->measure_ns;
    s->deadline = now + (int64_t)e->opt->timeout_us * 1000;
    s->got = 0;
    s->reqoff = 0;
    s->on_conn++;
    if (s->fd >= 0) {
        s->fresh = false;
        s->state = S_SENDING;
        drive(e, s, now, EPOLLOUT);
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
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
    if (epoll_ctl(e->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        fail(e, s, E_OTHER, now, errno);
        return;
    }
    s->state = S_CONNECTING;
    if (connect(s->fd, (struct sockaddr *)&o->addr, o->addrlen) == 0) {
        s->connected = now;
        s->state = S_GREETING; /* the greeting's arrival will be an event of its own */
    } else if (errno != EINPROGRESS) {
        int err = errno;
        fail(e, s, errno_class(err, S_CONNECTING), now, err);
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

/* Runs the slot's state machine on an event (ev: the epoll events) until it must wait. Reads
 * are only tried when the event says data is there, and a request just sent waits for its
 * answer's event: the socket is registered edge-triggered, and Linux queues an event for every
 * arrival, so no read is spent on EAGAIN. That keeps a request to socket, epoll_ctl, connect,
 * two recv, one send and close. */
static void drive(struct engine *e, struct slot *s, int64_t now, uint32_t ev)
{
    for (;;) {
        switch (s->state) {
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
            s->connected = lg_now_ns();
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
            s->state = S_SENDING;
            break;
        }
        case S_SENDING: {
            ssize_t n = send(s->fd, e->req + s->reqoff, e->reqlen - s->reqoff, MSG_NOSIGNAL);
            if (n < 0) {
                if (after_error(e, s, now) > 0)
                    continue;
                return;
            }
            s->reqoff += (size_t)n;
            if (s->reqoff < e->reqlen)
                continue;
            s->sent = now = lg_now_ns();
            if (e->opt->bytes == 0) {
                complete(e, s, now); /* nothing comes back: done once sent */
                return;
            }
            s->state = S_RECEIVING;
            return; /* the answer comes as an event */
        }
        case S_RECEIVING: {
            if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
                return;
            uint64_t want = e->opt->bytes - s->got;
            size_t cap = want < e->buflen ? (size_t)want : e->buflen;
            ssize_t n = recv(s->fd, e->buf, cap, 0);
            if (n < 0) {
                if (after_error(e, s, now) > 0)
                    continue;
                return;
            }
            if (n == 0) {
                /* The server closed. An "ERR" line is its refusal; anything else is short. */
                fail(e, s, s->got >= 4 && !memcmp(s->head, "ERR ", 4) ? E_ERR_REPLY : E_SHORT_READ,
                     now, 0);
                return;
            }
            for (size_t i = 0; s->got + i < 4 && i < (size_t)n; i++)
                s->head[s->got + i] = (char)e->buf[i];
            if (e->opt->verify && payload_check(e->buf, (size_t)n, s->got) != (size_t)n) {
                s->got += (uint64_t)n;
                fail(e, s,
                     s->got >= 4 && !memcmp(s->head, "ERR ", 4) ? E_ERR_REPLY : E_VERIFY_FAILED,
                     now, 0);
                return;
            }
            s->got += (uint64_t)n;
            if (s->got == e->opt->bytes) {
                complete(e, s, lg_now_ns());
                return;
            }
            break;
        }
        default:
            return;
        }
    }
}

static void check_timeouts(struct engine *e, int64_t now)
{
    for (size_t i = 0; i < e->nslots; i++) {
        struct slot *s = &e->slots[i];
        if (s->state < S_CONNECTING || s->state > S_RECEIVING || now < s->deadline)
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

int lg_engine_run(const struct lg_shared *sh, int index, struct lg_result *out, char *err,
                  size_t errlen)
{
    const struct lg_opts *o = sh->opt;
    struct engine e = {.sh = sh, .opt = o, .res = out, .live = &sh->live[index]};
    size_t lo = (size_t)(o->conns * index / o->threads);
    size_t hi = (size_t)(o->conns * (index + 1) / o->threads);
    e.nslots = hi - lo;
    e.slots = calloc(e.nslots ? e.nslots : 1, sizeof *e.slots);
    e.heap = calloc(e.nslots ? e.nslots : 1, sizeof *e.heap);
    e.buflen = 256 * 1024;
    e.buf = malloc(e.buflen);
    e.ep = epoll_create1(EPOLL_CLOEXEC);
    int rl = proto_format_request(e.req, sizeof e.req, o->work, o->bytes);
    if (!e.slots || !e.heap || !e.buf || e.ep < 0 || rl < 0) {
        snprintf(err, errlen, "engine set-up: %s", strerror(errno));
        free(e.slots);
        free(e.heap);
        free(e.buf);
        if (e.ep >= 0)
            close(e.ep);
        return -1;
    }
    e.reqlen = (size_t)rl;
    if (o->rate > 0) {
        e.interval_ns = (int64_t)((double)o->conns * 1e9 / o->rate);
        /* The default 50 us timer slack would make every due request start late. */
        prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    }

    for (size_t i = 0; i < e.nslots; i++) {
        struct slot *s = &e.slots[i];
        size_t id = lo + i;
        s->fd = -1;
        s->id = (uint32_t)id;
        if (o->requests) {
            s->left = o->requests / (uint64_t)o->conns + (id < o->requests % (uint64_t)o->conns);
        } else {
            s->left = UINT64_MAX;
        }
        s->state = S_IDLE;
        if (s->left == 0) {
            s->state = S_DONE;
            e.done_slots++;
        }
    }

    int64_t t0 = sh->t0_ns;
    for (size_t i = 0; i < e.nslots; i++) {
        struct slot *s = &e.slots[i];
        if (s->state == S_DONE)
            continue;
        /* Open loop: slot k is due at t0 + k / rate, so the starts are spread evenly. */
        s->intended = e.interval_ns ? t0 + (int64_t)((double)(lo + i) * 1e9 / o->rate) : t0;
        s->state = S_WAIT;
        heap_push(&e, s);
    }

    struct epoll_event evs[256];
    int64_t next_scan = t0 + 100000000;
    for (;;) {
        int64_t now = lg_now_ns();
        while (e.heap_len > 0 && e.heap[0]->intended <= now) {
            struct slot *s = heap_pop(&e);
            start_request(&e, s, now);
        }
        if (now >= sh->end_ns || e.done_slots == e.nslots)
            break;
        int64_t wake = next_scan;
        if (e.heap_len > 0 && e.heap[0]->intended < wake)
            wake = e.heap[0]->intended;
        if (sh->end_ns < wake)
            wake = sh->end_ns;
        int n = wait_events(e.ep, evs, 256, wake > now ? wake - now : 0);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            break;
        }
        now = lg_now_ns();
        for (int i = 0; i < n; i++) {
            struct slot *s = evs[i].data.ptr;
            drive(&e, s, now, evs[i].events);
        }
        if (now >= next_scan) {
            check_timeouts(&e, now);
            next_scan = now + 100000000;
        }
    }

    /* The end of a timed run: what is still under way is counted, not lost. */
    for (size_t i = 0; i < e.nslots; i++) {
        struct slot *s = &e.slots[i];
        if (s->state >= S_CONNECTING && s->state <= S_RECEIVING && s->measured)
            out->in_flight_at_end++;
        close_conn(&e, s);
    }
    close(e.ep);
    free(e.slots);
    free(e.heap);
    free(e.buf);
    return 0;
}
