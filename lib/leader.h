/* leader: the Leader/Followers driver (Schmidt et al., POSA2) of leader-srv. -w threads share
 * one epoll set in which every socket is registered with EPOLLONESHOT. One thread at a time,
 * the leader, waits in epoll_wait for one event; when it has one it promotes a follower to
 * leader (a condition variable) and serves the event itself, request and all, then joins the
 * followers. EPOLLONESHOT disarms a socket as its event is delivered, so the thread that took
 * the event owns the connection until it re-arms it: no queue and no hand-off of a request
 * between threads. A connection's deadline (--timeout, the linger after an ERR) is kept in one
 * of two ordered lists; the leader waits no longer than their heads and, at a deadline, shuts
 * the socket down, which wakes the owner-to-be with an event that says the time is up. */
#ifndef LEADER_H
#define LEADER_H

struct srv;

/* Serves s->lfd with s->opt.workers threads until the stop; 0, or 1 after a set-up error
 * (logged). */
int leader_run(struct srv *s);

#endif
