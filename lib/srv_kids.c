/* srv_kids: the child processes of the process models (fork, prefork): a table by slot,
 * reaping without blocking, and the end of a server with children (SIGTERM to each, a
 * bounded drain, SIGKILL at the grace deadline). */
#include "srv.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "log.h"
#include "sieve.h"

int srv_kids_init(struct srv_kids *k, size_t cap)
{
    k->cap = cap ? cap : 16;
    k->live = 0;
    k->pid = calloc(k->cap, sizeof *k->pid);
    return k->pid ? 0 : -1;
}

void srv_kids_free(struct srv_kids *k)
{
    free(k->pid);
    k->pid = NULL;
}

long srv_kids_add(struct srv_kids *k, pid_t pid)
{
    for (size_t i = 0; i < k->cap; i++) {
        if (k->pid[i] == 0) {
            k->pid[i] = pid;
            k->live++;
            return (long)i;
        }
    }
    pid_t *grown = realloc(k->pid, 2 * k->cap * sizeof *grown);
    if (!grown)
        return -1;
    memset(grown + k->cap, 0, k->cap * sizeof *grown);
    k->pid = grown;
    k->cap *= 2;
    return srv_kids_add(k, pid);
}

size_t srv_kids_reap(struct srv_kids *k, void (*done)(size_t slot, int status, void *arg),
                     void *arg)
{
    size_t n = 0;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        n++;
        sieve_reclaim(pid); /* a share of the sieve budget it died holding */
        for (size_t i = 0; i < k->cap; i++) {
            if (k->pid[i] == pid) {
                k->pid[i] = 0;
                k->live--;
                if (done)
                    done(i, st, arg);
                break;
            }
        }
    }
    return n;
}

void srv_kids_kill(struct srv_kids *k, int sig)
{
    for (size_t i = 0; i < k->cap; i++)
        if (k->pid[i] > 0 && kill(k->pid[i], sig) < 0 && errno != ESRCH)
            log_msg(LOG_ERR, "kill %ld: %s", (long)k->pid[i], strerror(errno));
}

struct kids_drain {
    struct srv_kids *k;
    void (*done)(size_t slot, int status, void *arg);
    void *arg;
};

static size_t kids_live(void *arg)
{
    return ((struct kids_drain *)arg)->k->live;
}

static void kids_reap(void *arg)
{
    struct kids_drain *d = arg;
    srv_kids_reap(d->k, d->done, d->arg);
}

static void kids_abort(void *arg)
{
    srv_kids_kill(((struct kids_drain *)arg)->k, SIGKILL);
}

void srv_kids_drain(struct srv *s, struct srv_kids *k,
                    void (*done)(size_t slot, int status, void *arg), void *arg)
{
    struct kids_drain d = {k, done, arg};
    struct srv_drain_ops ops = {kids_live, kids_reap, kids_abort, -1, &d};
    srv_set_level(s, 1);
    srv_kids_kill(k, SIGTERM);
    srv_drain(s, &ops);
}
