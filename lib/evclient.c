#include "evclient.h"

#include <errno.h>
#include <stdatomic.h>

#include "log.h"
#include "net.h"
#include "serve.h"
#include "sieve.h"
#include "srv.h"
#include "stats.h"

void evc_add(struct ev_clients *set, struct ev_client *cl, int fd,
             const struct sockaddr_storage *peer, socklen_t len, bool drained)
{
    cl->fd = fd;
    cl->drained = drained;
    if (peer && len > 0) {
        cl->peer = *peer;
        cl->peerlen = len;
    } else {
        cl->peerlen = sizeof cl->peer;
        if (getpeername(fd, (struct sockaddr *)&cl->peer, &cl->peerlen) < 0)
            cl->peerlen = 0;
    }
    conn_init(&cl->c, &set->s->serve.conn);
    cl->prev = NULL;
    cl->next = set->head;
    if (set->head)
        set->head->prev = cl;
    set->head = cl;
    set->n++;
    stats_add(&set->w->connections, 1);
}

void evc_count(struct ev_clients *set, struct ev_client *cl)
{
    serve_count(set->w, conn_tally_take(&cl->c));
}

void evc_remove(struct ev_clients *set, struct ev_client *cl)
{
    evc_count(set, cl);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        set->head = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->prev = cl->next = NULL;
    set->n--;
}

ssize_t evc_send(struct ev_client *cl)
{
    const void *p;
    size_t n = conn_output(&cl->c, &p);
    for (;;) {
        ssize_t w = send(cl->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w >= 0) {
            conn_sent(&cl->c, (size_t)w);
            return w;
        }
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

const char *evc_peer(const struct ev_client *cl, char *buf, size_t n)
{
    net_addr_str((const struct sockaddr *)&cl->peer, cl->peerlen, buf, n);
    return buf;
}

void evc_log_bad(struct ev_client *cl)
{
    if (cl->logged)
        return;
    cl->logged = true;
    char who[NET_ADDRSTR_MAX];
    log_msg(LOG_NOTICE, "%s: bad request: %s", evc_peer(cl, who, sizeof who), cl->c.reason);
}

void evc_log_timeout(const struct ev_client *cl, int timeout_ms)
{
    char who[NET_ADDRSTR_MAX];
    log_msg(LOG_INFO, "%s: no complete request within %d ms, closing",
            evc_peer(cl, who, sizeof who), timeout_ms);
}

bool evc_place_take(struct srv *s)
{
    long cap = s->opt.max_clients;
    if (atomic_fetch_add(&s->event_clients, 1) < cap || cap == 0)
        return true;
    atomic_fetch_sub(&s->event_clients, 1);
    return false;
}

void evc_place_give(struct srv *s)
{
    atomic_fetch_sub(&s->event_clients, 1);
}

bool evc_at_cap(struct srv *s)
{
    long cap = s->opt.max_clients;
    return cap > 0 && atomic_load(&s->event_clients) >= cap;
}

void evc_answered(struct ev_client *cl)
{
    if (cl->c.out != OUT_GREETING)
        cl->drained = false;
}

bool evc_done_at_stop(const struct ev_client *cl, bool stopping)
{
    return stopping && serve_closes_at_stop(cl->fd, cl->drained, cl->c.state);
}

void evc_grace_over(const struct ev_clients *set)
{
    if (set->n)
        log_msg(LOG_WARNING, "grace time of %d ms over; %zu client(s) still busy, dropping them",
                set->s->opt.grace_ms, set->n);
}

enum evc_next evc_run(struct ev_client *cl, bool can_read, const struct evc_hooks *h, void *ctx)
{
    size_t written = 0;
    int answered = 0;
    for (;;) {
        switch (cl->c.state) {
        case CONN_SEND: {
            if (written >= EVC_WRITE_PER_EVENT)
                return EVC_WAIT;
            ssize_t w = evc_send(cl);
            if (w == 0)
                return EVC_WAIT;
            if (w < 0)
                return EVC_CLOSE;
            written += (size_t)w;
            if (cl->c.state != CONN_SEND)
                evc_answered(cl); /* its first answer is out: an ordinary client now */
            break;
        }
        case CONN_READ:
        case CONN_LINGER: {
            if (cl->c.state == CONN_LINGER && !cl->logged) {
                evc_log_bad(cl);
                if (shutdown(cl->fd, SHUT_WR) < 0 || (h->linger && h->linger(ctx, cl) < 0))
                    return EVC_CLOSE;
            }
            if (!can_read)
                return EVC_WAIT;
            size_t room;
            char *p = conn_inbuf(&cl->c, &room);
            if (room == 0)
                return EVC_WAIT;
            ssize_t got = recv(cl->fd, p, room, MSG_DONTWAIT);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                return errno == EAGAIN || errno == EWOULDBLOCK ? EVC_WAIT : EVC_CLOSE;
            }
            if ((size_t)got < room)
                can_read = false; /* most likely drained: the next event says if not */
            conn_received(&cl->c, (size_t)got);
            break;
        }
        case CONN_WORK:
            if (answered >= EVC_REQS_PER_EVENT)
                return EVC_WAIT;
            if (h->line_whole)
                h->line_whole(ctx, cl);
            if (h->hand_off && h->hand_off(ctx, cl))
                return EVC_WAIT;
            conn_work_done(&cl->c, sieve_count(conn_request(&cl->c)->work));
            /* Every request counts toward the share, whatever its BYTES: answers with no
             * payload never pass through CONN_SEND, and a pipeline of them must not hold the
             * loop. */
            answered++;
            if (cl->c.state != CONN_SEND)
                evc_answered(cl);
            break;
        case CONN_DONE:
            return EVC_CLOSE;
        }
    }
}
