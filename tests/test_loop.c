/* The event loop with each poller: readiness of pipes, timers in order, removal from within a
 * callback, and select refusing a descriptor at or above FD_SETSIZE without touching memory. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "loop.h"

struct poller {
    char name[8];
};
static struct poller pollers[] = {{"epoll"}, {"poll"}, {"select"}};
ParameterizedTestParameters(loop, readiness)
{
    return cr_make_param_array(struct poller, pollers, 3);
}

struct seen {
    int calls, fd;
    unsigned events;
    struct loop *l;
    int del_fd; /* removed by the first callback */
};

static void on_fd(struct loop *l, int fd, unsigned events, void *arg)
{
    struct seen *s = arg;
    s->calls++;
    s->fd = fd;
    s->events = events;
    if (s->del_fd >= 0) {
        loop_del(l, s->del_fd);
        s->del_fd = -1;
    }
}

ParameterizedTest(struct poller *p, loop, readiness, .timeout = 60)
{
    struct loop *l = loop_new(p->name);
    cr_assert(l, "%s: %s", p->name, strerror(errno));
    cr_expect_str_eq(loop_poller(l), p->name);
    int a[2], b[2];
    cr_assert_eq(pipe(a), 0);
    cr_assert_eq(pipe(b), 0);
    struct seen s = {.del_fd = -1};
    cr_assert_eq(loop_add(l, a[0], LOOP_READ, on_fd, &s), 0);
    cr_assert_eq(loop_run_once(l, 0), 0);
    cr_expect_eq(s.calls, 0, "%s: nothing readable yet", p->name);
    cr_assert_eq(write(a[1], "x", 1), 1);
    cr_assert_eq(loop_run_once(l, 1000), 0);
    cr_expect(s.calls == 1 && s.fd == a[0] && s.events == LOOP_READ, "%s: %d calls", p->name,
              s.calls);
    cr_assert_eq(loop_run_once(l, 0), 0);
    cr_expect_eq(s.calls, 2, "%s: level-triggered: still readable", p->name);
    cr_assert_eq(loop_mod(l, a[0], 0), 0);
    cr_assert_eq(loop_run_once(l, 0), 0);
    cr_expect_eq(s.calls, 2, "%s: watched for nothing", p->name);
    /* A write end is writable; the first callback removes the other descriptor, which then
     * gets no callback although it was ready in the same wait. */
    struct seen w = {.del_fd = -1};
    cr_assert_eq(loop_mod(l, a[0], LOOP_READ), 0);
    cr_assert_eq(loop_add(l, b[1], LOOP_WRITE, on_fd, &w), 0);
    s.del_fd = b[1];
    w.del_fd = a[0];
    s.calls = w.calls = 0;
    cr_assert_eq(loop_run_once(l, 1000), 0);
    cr_expect_eq(s.calls + w.calls, 1, "%s: a descriptor removed in the batch was called", p->name);
    loop_free(l);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

static int order[8], norder;
static void on_timer(struct loop *l, void *arg)
{
    (void)l;
    order[norder++] = (int)(long)arg;
}

Test(loop, timers_fire_in_order_and_cancel, .timeout = 60)
{
    struct loop *l = loop_new("epoll");
    cr_assert(l);
    struct loop_timer t[5];
    memset(t, 0, sizeof t);
    int64_t ms[5] = {30, 10, 50, 20, 40};
    for (long i = 0; i < 5; i++)
        cr_assert_eq(loop_timer_set(l, &t[i], ms[i], on_timer, (void *)i), 0);
    loop_timer_cancel(l, &t[4]);                        /* 40 ms: never fires */
    loop_timer_set(l, &t[1], 60, on_timer, (void *)1L); /* 10 -> 60 ms */
    cr_expect(!loop_timer_armed(&t[4]) && loop_timer_armed(&t[1]));
    for (int i = 0; i < 50 && norder < 4; i++) /* each wait ends at the next timer */
        cr_assert_eq(loop_run_once(l, 100), 0);
    int want[] = {3, 0, 2, 1};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(order[i], want[i], "timer %d fired %d-th, wanted %d", order[i], i, want[i]);
    cr_expect(!loop_timer_armed(&t[0]), "a fired timer is unarmed");
    loop_free(l);
}

Test(loop, unknown_poller, .timeout = 60)
{
    errno = 0;
    cr_expect_null(loop_new("kqueue"));
    cr_expect_eq(errno, EINVAL);
}

/* select cannot hold a descriptor at or above FD_SETSIZE: it is refused with ERANGE, and the
 * sets (checked by the other descriptor's readiness) are intact. */
Test(loop, select_refuses_descriptors_above_fd_setsize, .timeout = 60)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max <= FD_SETSIZE + 10)
        cr_skip_test("RLIMIT_NOFILE hard limit %llu", (unsigned long long)rl.rlim_max);
    struct rlimit want = {FD_SETSIZE + 10, rl.rlim_max};
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &want), 0);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    int high = dup2(p[0], FD_SETSIZE + 5);
    cr_assert_eq(high, FD_SETSIZE + 5);
    struct loop *l = loop_new("select");
    struct seen s = {.del_fd = -1};
    errno = 0;
    cr_expect_eq(loop_add(l, high, LOOP_READ, on_fd, &s), -1);
    cr_expect_eq(errno, ERANGE);
    cr_assert_eq(loop_add(l, p[0], LOOP_READ, on_fd, &s), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(loop_run_once(l, 1000), 0);
    cr_expect(s.calls == 1 && s.fd == p[0]);
    loop_free(l);
    close(high);
    close(p[0]);
    close(p[1]);
    setrlimit(RLIMIT_NOFILE, &rl);
}
