/* The poll(2) poller: an array of pollfd, one entry per watched descriptor, with an index
 * from descriptor to entry so that a change is O(1) (the removed entry's place is taken by
 * the last one). Each wait passes the whole array to the kernel: O(n) per wait in watched
 * descriptors, which is what the benchmark against epoll shows. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"

struct poll_state {
    struct pollfd *pfd;
    size_t len, cap;
    long *where; /* descriptor -> index in pfd, or -1 */
    size_t nwhere;
};

static void *pl_create(void)
{
    return calloc(1, sizeof(struct poll_state));
}

static void pl_destroy(void *st)
{
    struct poll_state *s = st;
    free(s->pfd);
    free(s->where);
    free(s);
}

static short pl_events(unsigned ev)
{
    return (short)((ev & LOOP_READ ? POLLIN : 0) | (ev & LOOP_WRITE ? POLLOUT : 0));
}

static int pl_set(void *st, int fd, unsigned old, unsigned now)
{
    struct poll_state *s = st;
    (void)old;
    if ((size_t)fd >= s->nwhere) {
        size_t n = s->nwhere ? s->nwhere : 64;
        while (n <= (size_t)fd)
            n *= 2;
        long *g = realloc(s->where, n * sizeof *g);
        if (!g)
            return -1;
        for (size_t i = s->nwhere; i < n; i++)
            g[i] = -1;
        s->where = g;
        s->nwhere = n;
    }
    long at = s->where[fd];
    if (!now) {
        if (at >= 0) {
            s->pfd[at] = s->pfd[--s->len];
            if ((size_t)at < s->len)
                s->where[s->pfd[at].fd] = at;
            s->where[fd] = -1;
        }
        return 0;
    }
    if (at < 0) {
        if (s->len == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 64;
            struct pollfd *g = realloc(s->pfd, cap * sizeof *g);
            if (!g)
                return -1;
            s->pfd = g;
            s->cap = cap;
        }
        at = (long)s->len++;
        s->where[fd] = at;
        s->pfd[at].fd = fd;
    }
    s->pfd[at].events = pl_events(now);
    return 0;
}

static int pl_wait(void *st, struct loop_fired *out, int max, int timeout_ms)
{
    struct poll_state *s = st;
    int n = poll(s->pfd, s->len, timeout_ms);
    if (n <= 0)
        return n;
    int k = 0;
    for (size_t i = 0; i < s->len && k < max; i++) {
        short r = s->pfd[i].revents;
        if (!r)
            continue;
        out[k].fd = s->pfd[i].fd;
        out[k].events = (r & (POLLIN | POLLERR | POLLHUP | POLLNVAL) ? LOOP_READ : 0u) |
                        (r & (POLLOUT | POLLERR | POLLHUP | POLLNVAL) ? LOOP_WRITE : 0u);
        k++;
    }
    return k;
}

const struct loop_backend loop_poll = {"poll", pl_create, pl_destroy, pl_set, pl_wait};
