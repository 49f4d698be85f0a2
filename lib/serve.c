#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

void serve_greeting(struct serve_cfg *cfg, const char *model, long pid)
{
    int n = snprintf(cfg->greeting, sizeof cfg->greeting,
                     "%s server ready (pid %ld): send \"WORK BYTES\"\n", model, pid);
    cfg->conn.greeting = cfg->greeting;
    cfg->conn.greeting_len = n < (int)sizeof cfg->greeting ? (size_t)n : sizeof cfg->greeting - 1;
}

void serve_count(struct stats_slot *w, struct conn_tally t)
{
    if (t.requests)
        stats_add(&w->requests, t.requests);
    if (t.bad_requests)
        stats_add(&w->bad_requests, t.bad_requests);
    if (t.bytes_sent)
        stats_add(&w->bytes_sent, t.bytes_sent);
    if (t.primes)
        stats_add(&w->primes, t.primes);
}

bool serve_closes_at_stop(int fd, bool drained, enum conn_state state)
{
    if (drained || state != CONN_READ)
        return false;
    char c;
    ssize_t n;
    while ((n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT)) < 0 && errno == EINTR)
        ;
    return n <= 0; /* nothing waits (or the peer is gone): done with */
}
