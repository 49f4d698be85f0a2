/* The epoll poller, level-triggered. Level-triggered because the drivers bound their work per
 * event (64 KiB written, a few requests answered) and then simply return: whatever is left is
 * reported again on the next wait, with no per-descriptor "read until EAGAIN" bookkeeping that
 * edge-triggering needs and that would defeat the bound. The cost is an epoll_ctl whenever a
 * connection switches between reading and writing, a few per request. A descriptor watched for
 * nothing is taken out of the set (EPOLLERR and EPOLLHUP are always reported and, level-
 * triggered, would wake every wait). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct epoll_state {
    int ep;
    struct epoll_event evs[256];
};

static void *ep_create(void)
{
    struct epoll_state *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0) {
        int e = errno;
        free(s);
        errno = e;
        return NULL;
    }
    return s;
}

static void ep_destroy(void *st)
{
    struct epoll_state *s = st;
    close(s->ep);
    free(s);
}

static int ep_set(void *st, int fd, unsigned old, unsigned now)
{
    struct epoll_state *s = st;
    struct epoll_event ev = {.data.fd = fd};
    ev.events = (now & LOOP_READ ? EPOLLIN : 0u) | (now & LOOP_WRITE ? EPOLLOUT : 0u);
    old &= LOOP_READ | LOOP_WRITE;
    bool exclusive = (now & LOOP_EXCLUSIVE) != 0;
    now &= LOOP_READ | LOOP_WRITE;
    if (!old && !now)
        return 0;
    if (!now)
        return epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, &ev);
    if (exclusive) {
        /* EPOLLEXCLUSIVE is only taken by EPOLL_CTL_ADD. */
        ev.events |= EPOLLEXCLUSIVE;
        if (old && epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, &ev) < 0)
            return -1;
        return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
    }
    return epoll_ctl(s->ep, old ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
}

static int ep_wait(void *st, struct loop_fired *out, int max, int timeout_ms)
{
    struct epoll_state *s = st;
    int n = epoll_wait(s->ep, s->evs, max < 256 ? max : 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t e = s->evs[i].events;
        out[i].fd = s->evs[i].data.fd;
        out[i].events = (e & (EPOLLIN | EPOLLERR | EPOLLHUP) ? LOOP_READ : 0u) |
                        (e & (EPOLLOUT | EPOLLERR | EPOLLHUP) ? LOOP_WRITE : 0u);
    }
    return n;
}

const struct loop_backend loop_epoll = {"epoll", ep_create, ep_destroy, ep_set, ep_wait};
