#include "loop.h"

#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fd_entry {
    loop_fd_fn *fn;
    void *arg;
    unsigned events;
    bool used;
};

struct loop {
    const struct loop_backend *be;
    void *st;
    struct fd_entry *fds;
    size_t nfds;
    struct loop_timer **heap;
    size_t heap_len, heap_cap;
    int64_t now;
    bool stop;
    struct loop_fired fired[256];
};

struct loop *loop_new(const char *poller)
{
    static const struct loop_backend *const all[] = {&loop_epoll, &loop_poll, &loop_select};
    const struct loop_backend *be = NULL;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!strcmp(poller, all[i]->name))
            be = all[i];
    if (!be) {
        errno = EINVAL;
        return NULL;
    }
    struct loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->be = be;
    l->st = be->create();
    if (!l->st) {
        int e = errno;
        free(l);
        errno = e;
        return NULL;
    }
    l->now = clock_ms();
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    l->be->destroy(l->st);
    free(l->fds);
    free(l->heap);
    free(l);
}

const char *loop_poller(const struct loop *l)
{
    return l->be->name;
}

int64_t loop_now(const struct loop *l)
{
    return l->now;
}

int loop_add(struct loop *l, int fd, unsigned events, loop_fd_fn *fn, void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= l->nfds) {
        size_t n = l->nfds ? l->nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct fd_entry *g = realloc(l->fds, n * sizeof *g);
        if (!g)
            return -1;
        memset(g + l->nfds, 0, (n - l->nfds) * sizeof *g);
        l->fds = g;
        l->nfds = n;
    }
    if (l->be->set(l->st, fd, 0, events) < 0)
        return -1;
    l->fds[fd] = (struct fd_entry){fn, arg, events, true};
    return 0;
}

int loop_mod(struct loop *l, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used) {
        errno = EBADF;
        return -1;
    }
    struct fd_entry *e = &l->fds[fd];
    if (e->events == events)
        return 0;
    if (l->be->set(l->st, fd, e->events, events) < 0)
        return -1;
    e->events = events;
    return 0;
}

void loop_del(struct loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
        return;
    l->be->set(l->st, fd, l->fds[fd].events, 0);
    l->fds[fd] = (struct fd_entry){0};
}

/* ---- timers: a binary heap on when_ms ---- */

static void heap_place(struct loop *l, size_t i, struct loop_timer *t)
{
    l->heap[i] = t;
    t->pos = (long)i;
}

static void sift_up(struct loop *l, size_t i)
{
    struct loop_timer *t = l->heap[i];
    while (i > 0 && l->heap[(i - 1) / 2]->when_ms > t->when_ms) {
        heap_place(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_place(l, i, t);
}

static void sift_down(struct loop *l, size_t i)
{
    struct loop_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && l->heap[c + 1]->when_ms < l->heap[c]->when_ms)
            c++;
        if (l->heap[c]->when_ms >= t->when_ms)
            break;
        heap_place(l, i, l->heap[c]);
        i = c;
    }
    heap_place(l, i, t);
}

bool loop_timer_armed(const struct loop_timer *t)
{
    return t->pos >= 0 && t->fn != NULL;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
    if (!t->fn || t->pos < 0 || (size_t)t->pos >= l->heap_len || l->heap[t->pos] != t) {
        t->pos = -1;
        return;
    }
    size_t i = (size_t)t->pos;
    struct loop_timer *last = l->heap[--l->heap_len];
    t->pos = -1;
    if (i < l->heap_len) {
        heap_place(l, i, last);
        sift_down(l, i);
        sift_up(l, (size_t)last->pos);
    }
}

int loop_timer_set(struct loop *l, struct loop_timer *t, int64_t ms, loop_timer_fn *fn, void *arg)
{
    loop_timer_cancel(l, t);
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? 2 * l->heap_cap : 64;
        struct loop_timer **g = realloc(l->heap, cap * sizeof *g);
        if (!g)
            return -1;
        l->heap = g;
        l->heap_cap = cap;
    }
    t->when_ms = l->now + ms;
    t->fn = fn;
    t->arg = arg;
    l->heap[l->heap_len] = t;
    t->pos = (long)l->heap_len++;
    sift_up(l, (size_t)t->pos);
    return 0;
}

static void run_timers(struct loop *l)
{
    while (l->heap_len > 0 && l->heap[0]->when_ms <= l->now) {
        struct loop_timer *t = l->heap[0];
        loop_timer_cancel(l, t);
        t->fn(l, t->arg); /* may re-arm t, or free its owner */
    }
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
    l->now = clock_ms();
    run_timers(l);
    int64_t wait = max_wait_ms;
    if (l->heap_len > 0) {
        int64_t until = l->heap[0]->when_ms - l->now;
        if (until < 0)
            until = 0;
        if (wait < 0 || until < wait)
            wait = until;
    }
    if (l->stop)
        wait = 0;
    int n = l->be->wait(l->st, l->fired, (int)(sizeof l->fired / sizeof *l->fired),
                        wait > 86400000 ? 86400000 : (int)wait);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    l->now = clock_ms();
    for (int i = 0; i < n; i++) {
        int fd = l->fired[i].fd;
        /* Removed (or replaced) by an earlier callback of this batch: nothing to do. */
        if ((size_t)fd >= l->nfds || !l->fds[fd].used)
            continue;
        struct fd_entry e = l->fds[fd];
        unsigned ev = l->fired[i].events & e.events;
        if (ev)
            e.fn(l, fd, ev, e.arg);
    }
    return 0;
}

int loop_run(struct loop *l)
{
    l->stop = false;
    while (!l->stop)
        if (loop_run_once(l, -1) < 0)
            return -1;
    return 0;
}

void loop_stop(struct loop *l)
{
    l->stop = true;
}
