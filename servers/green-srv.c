/* green-srv: user-level threads ("Why events are a bad idea", Capriccio; goroutines): the
 * thread-per-connection code of the blocking models, run on an event loop. -w processes
 * (default one per CPU), each one State Threads scheduler (Debian's libst) with its own
 * listener of a SO_REUSEPORT group; in each, a thread of ST's per connection reads, sieves and
 * writes as thread-srv's threads do, but its st_read, st_write and st_accept switch to another
 * thread of the process (a setjmp/longjmp, no system call) where a kernel thread would block,
 * and the scheduler waits for every thread's descriptor in one poll(2). Its strength: the
 * blocking shape (one function per connection, its state on its stack) at about an event
 * loop's cost per request, and a connection costs a small stack, not a kernel thread. Its
 * costs: Debian's libst has select and poll, no epoll, so every wait passes every descriptor
 * of the process to the kernel (O(connections) per wait, which shows at 10,000); a thread
 * that computes holds its whole scheduler (a long sieve stalls every client of that process,
 * as in reuseport-srv); ST is not thread-safe, hence a process, not a kernel thread, per
 * scheduler, and --max-clients is counted in shared memory. The parent only watches: it
 * replaces a scheduler that dies and relays the stop. The driver is lib/green. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "green.h"
#include "log.h"
#include "models.h" /* CAPS_<model>: from servers/models */
#include "srv.h"

struct green_srv {
    struct srv *s;
    struct srv_kids kids;
    struct green_places *places; /* shared: every scheduler's clients */
    size_t places_size;
};

/* The listener of slot i: its own of the SO_REUSEPORT group, or the one shared (-U). */
static int slot_lfd(const struct srv *s, size_t i)
{
    return i < s->ngroup ? s->group[i] : s->lfd;
}

static void spawn(struct green_srv *g, size_t slot)
{
    struct srv *s = g->s;
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        if (srv_child_init(s) < 0) {
            log_msg(LOG_ERR, "cannot start a worker: %s", strerror(errno));
            _exit(1);
        }
        for (size_t i = 0; i < s->ngroup; i++) /* its own listener only */
            if (i != slot)
                close(s->group[i]);
        _exit(green_child(s, slot_lfd(s, slot), g->places, slot));
    }
    if (srv_kids_add(&g->kids, pid) != (long)slot) {
        log_msg(LOG_ERR, "child table: %s", strerror(errno));
        kill(pid, SIGKILL);
    }
}

static void child_done(size_t slot, int status, void *arg)
{
    struct green_srv *g = arg;
    /* the places it held come back: it can no longer give them itself */
    atomic_store(&g->places->held[slot], 0);
    if (srv_level(g->s) > 0)
        return;
    if (WIFSIGNALED(status))
        log_msg(LOG_WARNING, "scheduler in slot %zu killed by %s; respawning", slot,
                strsignal(WTERMSIG(status)));
    else
        log_msg(LOG_WARNING, "scheduler in slot %zu exited with %d; respawning", slot,
                WEXITSTATUS(status));
}

/* Every slot without a live scheduler gets one (at the start, and after one died). */
static void refill(struct green_srv *g)
{
    for (size_t i = 0; i < g->kids.cap && i < (size_t)g->s->opt.workers; i++)
        if (g->kids.pid[i] == 0)
            spawn(g, i);
}

int main(int argc, char **argv)
{
    static const struct srv_model model = {"green", CAPS_green,
                                           SRV_NONBLOCK | SRV_EVENT | SRV_REUSEPORT};
    struct srv s;
    struct green_srv g = {.s = &s};
    srv_start(&s, &model, argc, argv);
    size_t n = (size_t)s.opt.workers;
    g.places_size = sizeof *g.places + n * sizeof g.places->held[0];
    g.places = mmap(NULL, g.places_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g.places == MAP_FAILED || srv_kids_init(&g.kids, n) < 0) {
        log_msg(LOG_ERR, "set-up: %s", strerror(errno));
        return 1;
    }
    g.places->n = n;
    for (size_t i = 0; i < n; i++)
        atomic_store(&g.places->held[i], 0);
    refill(&g);
    srv_ready(&s);
    while (srv_level(&s) == 0) {
        struct pollfd p = {.fd = s.sigfd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (srv_signals(&s) & SRV_SIG_CHLD) {
            srv_kids_reap(&g.kids, child_done, &g);
            if (srv_level(&s) == 0)
                refill(&g);
        }
    }
    srv_kids_drain(&s, &g.kids, child_done, &g);
    srv_kids_free(&g.kids);
    munmap(g.places, g.places_size);
    return srv_finish(&s);
}
