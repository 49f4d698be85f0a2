#include "green.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <st.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "serve.h"
#include "sieve.h"
#include "srv.h"
#include "stats.h"

/* An ST thread's stack: mapped, and only the pages it touches are resident (a connection's
 * handler, with its conn on the stack, touches two or three). */
#define STACK_SIZE  (64 * 1024)
#define CAP_POLL_MS 20 /* a scheduler at --max-clients looks again this often */
/* Requests a thread answers in a row without being switched out (its client pipelines, and
 * st_read finds data every time) before it yields: as the reactor's share per round. */
#define REQS_IN_A_ROW 16

/* Threads switched in by this process's scheduler (one scheduler per process): a thread that
 * sees the count unchanged since its last request was not switched out meanwhile. */
static unsigned long switches;

static void on_switch_in(void)
{
    switches++;
}

struct green;

struct gclient {
    struct green *g;
    st_netfd_t nfd;
    st_thread_t t;
    bool waiting; /* in a wait for a request line: the stop interrupts it */
    bool drained; /* taken from the listener at the stop: its first request is served */
    struct sockaddr_storage peer;
    int peerlen;
    struct gclient *prev, *next;
};

struct green {
    struct srv *s;
    struct stats_slot *w;
    struct green_places *places; /* every scheduler's clients, for --max-clients */
    size_t slot;                 /* this scheduler's counter in places */
    int lfd;
    st_netfd_t lnfd;
    st_thread_t acceptor;
    bool stopping, aborting;
    struct gclient *head;
    size_t n;
    st_cond_t empty; /* signalled when the last client of a stopping scheduler leaves */
    long long last_warn;
};

static st_utime_t us(long long ms)
{
    return ms < 0 ? ST_UTIME_NO_TIMEOUT : (st_utime_t)ms * 1000;
}

static bool place_take(struct green *g)
{
    long cap = g->s->opt.max_clients;
    atomic_fetch_add(&g->places->held[g->slot], 1);
    if (cap == 0)
        return true;
    long sum = 0;
    for (size_t i = 0; i < g->places->n; i++)
        sum += atomic_load(&g->places->held[i]);
    if (sum <= cap)
        return true;
    atomic_fetch_sub(&g->places->held[g->slot], 1);
    return false;
}

static void place_give(struct green *g)
{
    atomic_fetch_sub(&g->places->held[g->slot], 1);
}

static const char *peer_str(const struct gclient *cl, char *buf, size_t n)
{
    net_addr_str((const struct sockaddr *)&cl->peer, (socklen_t)cl->peerlen, buf, n);
    return buf;
}

/* After an ERR line: the write side shut, input discarded until the peer closes, the conn has
 * seen CONN_LINGER_BYTES, or CONN_LINGER_MS are over. */
static void linger(struct gclient *cl, struct conn *c)
{
    if (shutdown(st_netfd_fileno(cl->nfd), SHUT_WR) < 0)
        return;
    long long end = clock_ms() + CONN_LINGER_MS;
    while (c->state == CONN_LINGER && !cl->g->aborting) {
        long long left = end - clock_ms();
        size_t room;
        char *p = conn_inbuf(c, &room);
        ssize_t got = left > 0 ? st_read(cl->nfd, p, room, us(left)) : -1;
        if (got < 0)
            break;
        conn_received(c, (size_t)got);
    }
}

/* The connection core driven in the blocking models' shape; each st_ call switches this
 * thread out until its descriptor is ready, the timeout passes or the stop interrupts it. */
static void serve(struct gclient *cl)
{
    struct green *g = cl->g;
    const struct serve_cfg *cfg = &g->s->serve;
    struct conn c;
    long long line_deadline = -1;
    char who[NET_ADDRSTR_MAX];
    unsigned long seen = switches;
    int in_a_row = 0;
    conn_init(&c, &cfg->conn);
    stats_add(&g->w->connections, 1);
    int one = 1; /* a payload is several sends: see blocking.c */
    setsockopt(st_netfd_fileno(cl->nfd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (c.state != CONN_DONE && !g->aborting) {
        switch (c.state) {
        case CONN_SEND: {
            const void *p;
            size_t n = conn_output(&c, &p), resid = n;
            int r = st_write_resid(cl->nfd, p, &resid, us(cfg->timeout_ms));
            conn_sent(&c, n - resid);
            if (c.state != CONN_SEND) {
                serve_count(g->w, conn_tally_take(&c));
                if (c.out != OUT_GREETING)
                    cl->drained = false;
            }
            if (r < 0 && resid > 0)
                goto out; /* reset, not read within --timeout, or the abort */
            break;
        }
        case CONN_READ: {
            /* At the stop, done with between requests unless the next one already waits. */
            if (g->stopping && serve_closes_at_stop(st_netfd_fileno(cl->nfd), cl->drained, c.state))
                goto out;
            long long wait = -1;
            if (cfg->timeout_ms >= 0) { /* the whole line is bounded, not each byte */
                long long now = clock_ms();
                if (line_deadline < 0)
                    line_deadline = now + cfg->timeout_ms;
                wait = line_deadline > now ? line_deadline - now : 0;
            }
            size_t room;
            char *p = conn_inbuf(&c, &room);
            cl->waiting = true;
            ssize_t got = st_read(cl->nfd, p, room, us(wait));
            cl->waiting = false;
            if (got < 0 && errno == EINTR)
                break; /* the stop: the loop looks again */
            if (got < 0 && errno == ETIME) {
                log_msg(LOG_INFO, "%s: no complete request within %d ms, closing",
                        peer_str(cl, who, sizeof who), cfg->timeout_ms);
                goto out;
            }
            if (got < 0)
                goto out; /* a reset: the client is gone */
            conn_received(&c, (size_t)got);
            break;
        }
        case CONN_WORK:
            line_deadline = -1;
            if (switches != seen)
                in_a_row = 0;
            else if (++in_a_row >= REQS_IN_A_ROW) {
                in_a_row = 0;
                st_usleep(0); /* the others run first */
            }
            seen = switches;
            /* On this scheduler's only kernel thread: every other client of the scheduler
             * waits until the sieve is done. */
            conn_work_done(&c, sieve_count(conn_request(&c)->work));
            break;
        case CONN_LINGER:
            log_msg(LOG_NOTICE, "%s: bad request: %s", peer_str(cl, who, sizeof who), c.reason);
            linger(cl, &c);
            goto out;
        case CONN_DONE:
            break;
        }
    }
out:
    serve_count(g->w, conn_tally_take(&c));
}

static void *client_thread(void *arg)
{
    struct gclient *cl = arg;
    struct green *g = cl->g;
    serve(cl);
    st_netfd_close(cl->nfd);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        g->head = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    g->n--;
    place_give(g);
    free(cl);
    if (g->stopping && g->n == 0)
        st_cond_signal(g->empty);
    return NULL;
}

/* A new client: its thread is made (and runs at the scheduler's next switch). */
static void start_client(struct green *g, st_netfd_t nfd, const struct sockaddr_storage *peer,
                         int len)
{
    struct gclient *cl = calloc(1, sizeof *cl);
    if (cl) {
        *cl = (struct gclient){.g = g,
                               .nfd = nfd,
                               .peer = *peer,
                               .peerlen = len,
                               .drained = g->stopping,
                               .next = g->head};
        cl->t = st_thread_create(client_thread, cl, 0, STACK_SIZE);
    }
    if (!cl || !cl->t) {
        log_msg(LOG_ERR, "a thread for a new client: %s", strerror(errno ? errno : ENOMEM));
        free(cl);
        st_netfd_close(nfd);
        place_give(g);
        return;
    }
    if (g->head)
        g->head->prev = cl;
    g->head = cl;
    g->n++;
}

/* Accepts until the stop (the acceptor is this process's first ST thread). A place under
 * --max-clients is taken only once a connection waits on the listener (an acceptor holding one
 * while it waited would starve the other schedulers at a small cap); at the cap it looks again
 * every CAP_POLL_MS, since another scheduler's close does not wake it. EMFILE and its kin
 * pause accepting for NET_ACCEPT_BACKOFF_MS. */
static void accept_loop(struct green *g)
{
    while (!g->stopping) {
        if (st_netfd_poll(g->lnfd, POLLIN, ST_UTIME_NO_TIMEOUT) < 0) {
            if (errno != EINTR) { /* EINTR: the stop (the loop tests it) */
                log_msg(LOG_ERR, "waiting on the listener: %s", strerror(errno));
                st_usleep(us(NET_ACCEPT_BACKOFF_MS));
            }
            continue;
        }
        if (!place_take(g)) {
            st_usleep(us(CAP_POLL_MS));
            continue;
        }
        struct sockaddr_storage peer;
        int len = sizeof peer;
        st_netfd_t nfd = st_accept(g->lnfd, (struct sockaddr *)&peer, &len, ST_UTIME_NO_WAIT);
        if (nfd) {
            start_client(g, nfd, &peer, len);
            continue;
        }
        int e = errno;
        place_give(g);
        if (e == ETIME || e == EINTR || e == ECONNABORTED || e == EPROTO || e == ECONNRESET)
            continue; /* taken by another scheduler (-U), the stop, or a client already gone */
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            long long now = clock_ms();
            if (now - g->last_warn >= 1000) {
                log_msg(LOG_WARNING, "accept: %s; pausing accepts", strerror(e));
                g->last_warn = now;
            }
            st_usleep(us(NET_ACCEPT_BACKOFF_MS));
            continue;
        }
        if (g->stopping)
            break;
        log_msg(LOG_ERR, "accept: %s", strerror(e));
        st_usleep(us(NET_ACCEPT_BACKOFF_MS));
    }
    /* The stop: what is queued is taken (each served its first request), then the listener
     * is shut. */
    while (place_take(g)) {
        struct sockaddr_storage peer;
        int len = sizeof peer;
        st_netfd_t nfd = st_accept(g->lnfd, (struct sockaddr *)&peer, &len, ST_UTIME_NO_WAIT);
        if (!nfd) {
            place_give(g);
            break;
        }
        start_client(g, nfd, &peer, len);
    }
    net_stop_accepting(g->lfd);
}

/* The stop: the acceptor is interrupted (it then takes what is already queued on this
 * scheduler's listener, since closing a listener of a SO_REUSEPORT group drops its queue, and
 * shuts it); clients waiting for a request are interrupted and closed (unless a request of
 * theirs already waits, which is answered first); the others finish. */
static void begin_stop(struct green *g)
{
    if (g->stopping)
        return;
    g->stopping = true;
    st_thread_interrupt(g->acceptor);
    for (struct gclient *cl = g->head; cl; cl = cl->next)
        if (cl->waiting && !cl->drained)
            st_thread_interrupt(cl->t);
}

static void abort_all(struct green *g)
{
    if (g->aborting)
        return;
    g->aborting = true;
    if (g->n)
        log_msg(LOG_WARNING, "grace time of %d ms over; %zu client(s) still busy, dropping them",
                g->s->opt.grace_ms, g->n);
    for (struct gclient *cl = g->head; cl; cl = cl->next)
        st_thread_interrupt(cl->t); /* one in its sieve leaves when the sieve is done */
}

/* The signals, on a thread of their own: a first SIGTERM or SIGINT stops, a second one or
 * the end of the grace time drops every client. */
static void *signal_thread(void *arg)
{
    struct green *g = arg;
    struct srv *s = g->s;
    st_netfd_t sfd = st_netfd_open(s->sigfd);
    if (!sfd) {
        log_msg(LOG_ERR, "signalfd for the scheduler: %s", strerror(errno));
        return NULL;
    }
    long long grace_at = -1;
    while (!g->aborting) { /* the process ends when its clients are gone, whatever this does */
        long long wait = grace_at < 0 ? -1 : grace_at - clock_ms();
        if (grace_at >= 0 && wait <= 0) {
            abort_all(g);
            break;
        }
        if (st_netfd_poll(sfd, POLLIN, us(wait)) < 0) {
            if (errno == ETIME || errno == EINTR)
                continue;
            log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
            abort_all(g);
            break;
        }
        int lv = stop_signals(&s->stop);
        if (lv >= 1 && !g->stopping) {
            grace_at = clock_ms() + s->opt.grace_ms;
            begin_stop(g);
        }
        if (lv >= 2)
            abort_all(g);
    }
    st_netfd_free(sfd);
    return NULL;
}

int green_child(struct srv *s, int lfd, struct green_places *places, size_t slot)
{
    /* Debian's libst has select and poll; poll has no FD_SETSIZE limit. */
    if (st_set_eventsys(ST_EVENTSYS_POLL) < 0 || st_init() < 0) {
        log_msg(LOG_ERR, "State Threads (poll): %s", strerror(errno));
        return 1;
    }
    st_set_switch_in_cb(on_switch_in);
    struct green g = {.s = s, .places = places, .slot = slot, .lfd = lfd, .last_warn = -1000000};
    g.w = stats_claim(s->stats);
    g.lnfd = st_netfd_open_socket(lfd);
    g.empty = st_cond_new();
    g.acceptor = st_thread_self();
    if (!g.lnfd || !g.empty || !st_thread_create(signal_thread, &g, 0, STACK_SIZE)) {
        log_msg(LOG_ERR, "State Threads set-up: %s", strerror(errno));
        return 1;
    }
    accept_loop(&g);
    while (g.n > 0)
        st_cond_wait(g.empty);
    stats_release(g.w);
    return 0;
}
