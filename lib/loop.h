/* loop: a small event loop for the event-driven models. Descriptors with a callback each,
 * timers in a binary heap (--timeout, the linger after ERR, the grace time, the pause after
 * EMFILE), and one iteration in a fixed order, as libuv's uv_run: expired timers, then one
 * wait of the poller (bounded by the nearest timer), then the callbacks of what it reported.
 *
 * The poller is chosen at run time (--poller), so it sits behind a struct of function
 * pointers, one file each as redis' ae_epoll.c and ae_select.c: loop_epoll.c, loop_poll.c,
 * loop_select.c. Nothing here exits or sleeps; every error is returned. One loop belongs to
 * one thread. Memory: a table entry per descriptor number up to the highest in use (24
 * bytes each) and the poller's own set. */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LOOP_EXCLUSIVE, with LOOP_READ on a descriptor several loops watch (a shared listener):
 * epoll wakes one of them per event (EPOLLEXCLUSIVE) instead of all; the other pollers
 * ignore it. */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_EXCLUSIVE = 4 };

struct loop;

/* events: what is ready of what fd is watched for; an error or hang-up is reported as all of
 * that, so that the next read or write finds it. */
typedef void loop_fd_fn(struct loop *l, int fd, unsigned events, void *arg);
typedef void loop_timer_fn(struct loop *l, void *arg);

/* A timer lives in its owner's struct; a zeroed one is unarmed. pos is its heap slot. */
struct loop_timer {
    int64_t when_ms;
    long pos;
    loop_timer_fn *fn;
    void *arg;
};

/* A poller backend. set() moves fd from the events it was watched for (old, 0: not watched)
 * to new (0: stop watching). wait() fills out[] with up to max ready descriptors and returns
 * their count, 0 on timeout, -1 with errno (EINTR is not an error for the caller). */
struct loop_fired {
    int fd;
    unsigned events;
};
struct loop_backend {
    const char *name;
    void *(*create)(void);
    void (*destroy)(void *st);
    int (*set)(void *st, int fd, unsigned old, unsigned now);
    int (*wait)(void *st, struct loop_fired *out, int max, int timeout_ms);
};
extern const struct loop_backend loop_epoll, loop_poll, loop_select;

/* A loop over the named poller ("epoll", "poll" or "select"); NULL with errno (EINVAL for an
 * unknown name). */
struct loop *loop_new(const char *poller);
void loop_free(struct loop *l);
const char *loop_poller(const struct loop *l);

/* Watches fd for events (LOOP_READ, LOOP_WRITE, or 0 to keep it registered but silent).
 * -1 with errno: ERANGE when the poller cannot take a descriptor that high (select and
 * FD_SETSIZE), ENOMEM, or the poller's own error. */
int loop_add(struct loop *l, int fd, unsigned events, loop_fd_fn *fn, void *arg);
int loop_mod(struct loop *l, int fd, unsigned events);
/* Forgets fd (before it is closed). Safe from within callbacks: a descriptor removed during
 * an iteration gets no further callback in it. */
void loop_del(struct loop *l, int fd);

/* Arms (or re-arms) t to fire once, ms from now: 0, or -1 (ENOMEM). Cancelling an unarmed
 * timer is harmless. */
int loop_timer_set(struct loop *l, struct loop_timer *t, int64_t ms, loop_timer_fn *fn, void *arg);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* The loop's clock (monotonic ms), read once per iteration. */
int64_t loop_now(const struct loop *l);

/* One iteration: timers due, one wait (at most max_wait_ms, -1 for no bound but the
 * timers), callbacks. 0, or -1 with errno when the poller failed. */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Iterations until loop_stop(). 0, or -1 when the poller failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
