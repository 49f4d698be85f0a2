/* evclient: the part of a client's life the event drivers share, the reactor (lib/reactor),
 * the io_uring driver (lib/uring) and Leader/Followers (lib/leader): the client list of a loop
 * and its tally, the peer in log lines, the places under --max-clients, and the drain policy
 * on SIGTERM. A driver's own client embeds a struct ev_client first and does its I/O its own
 * way; what it decides about a client's life it asks here, so that a change of policy is made
 * once. The question a stop asks of each client is every driver's: serve_closes_at_stop.
 *
 * The drain policy: at the stop a loop takes what is already queued on its listener (those
 * clients are "drained": their first request is served), refuses new clients, closes every
 * client between requests (unless a request of its already waits in the socket), lets the
 * others finish, and when the grace time is over drops what is left. */
#ifndef EVCLIENT_H
#define EVCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conn.h"

struct srv;
struct stats_slot;

struct ev_client {
    struct conn c;
    int fd;
    bool logged;  /* its bad request has been logged: its linger has begun */
    bool drained; /* taken from the listener at the stop: its first request is served */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    struct ev_client *prev, *next;
};

/* One loop's clients. */
struct ev_clients {
    struct srv *s;
    struct stats_slot *w; /* the loop's counters */
    struct ev_client *head;
    size_t n;
};

/* A new client of the loop on fd (the peer as accept gave it; len 0: asked of the socket):
 * its conn begins with the greeting, it is listed and counted as a connection. */
void evc_add(struct ev_clients *set, struct ev_client *cl, int fd,
             const struct sockaddr_storage *peer, socklen_t len, bool drained);

/* The client leaves the list; what its conn did goes to the loop's counters. The caller
 * closes the descriptor, frees the client and gives its place back (evc_place_give). */
void evc_remove(struct ev_clients *set, struct ev_client *cl);

/* The conn's tally since the last call, to the loop's counters. */
void evc_count(struct ev_clients *set, struct ev_client *cl);

/* One non-blocking send of the conn's next output, reported to the conn: the bytes sent, 0
 * when the socket is full, -1 when the client reset or went away. */
ssize_t evc_send(struct ev_client *cl);

/* The client's address for a log line. */
const char *evc_peer(const struct ev_client *cl, char *buf, size_t n);

/* Logs, once, why the client got an ERR line. */
void evc_log_bad(struct ev_client *cl);

/* Logs that the client sent no whole request line within --timeout. */
void evc_log_timeout(const struct ev_client *cl, int timeout_ms);

/* --max-clients counts the clients of every loop of the server: a place is taken before a
 * client is taken in (false at the cap; every client counts, so that a close always gives one
 * back), and given back when it is closed. */
bool evc_place_take(struct srv *s);
void evc_place_give(struct srv *s);
bool evc_at_cap(struct srv *s);

/* An answer of the client is out: a drained client is an ordinary one from now on. */
void evc_answered(struct ev_client *cl);

/* At the stop (stopping), is the client done with: between requests, not drained, and no
 * request of its waiting in the socket? (serve_closes_at_stop, the question every driver
 * asks) */
bool evc_done_at_stop(const struct ev_client *cl, bool stopping);

/* The grace time is over: says so when clients are still busy. The driver then closes them. */
void evc_grace_over(const struct ev_clients *set);

/* ---- the readiness state machine (reactor, reactor-pool, Leader/Followers) ---- */

/* One event's share of a client, so that one busy client cannot hold a loop: bytes written
 * (as redis' NET_MAX_WRITES_PER_EVENT), requests answered (as memcached's reqs_per_event),
 * and clients accepted from the listener. */
#define EVC_WRITE_PER_EVENT  (64 * 1024)
#define EVC_REQS_PER_EVENT   16
#define EVC_ACCEPT_PER_EVENT 64

/* What a readiness driver does its own way while evc_run drives one of its clients; ctx is
 * evc_run's. */
struct evc_hooks {
    /* The client's ERR line is queued, its bad request logged and its write side shut: the
     * linger's deadline (CONN_LINGER_MS) is the driver's to arm. -1 closes the client. */
    int (*linger)(void *ctx, struct ev_client *cl);
    /* The request line is whole: its --timeout deadline is over. */
    void (*line_whole)(void *ctx, struct ev_client *cl);
    /* A whole request: true when the driver took it from the loop (given to a worker, or held
     * until one has room); false, or no hook, and its sieve runs here. */
    bool (*hand_off)(void *ctx, struct ev_client *cl);
};

enum evc_next {
    EVC_WAIT,  /* the client waits: for readiness its conn's state says, or for a worker */
    EVC_CLOSE, /* done, gone or failed: the driver closes it */
};

/* Drives the client on readiness (can_read: the event said readable, or hung up) through its
 * conn: reads and parses, runs the sieve or hands the request off, sends, lingers after an
 * ERR, within one event's share; then says whether it waits or is to be closed. What it did
 * is the driver's to count (evc_count) and what it waits for the driver's to watch. */
enum evc_next evc_run(struct ev_client *cl, bool can_read, const struct evc_hooks *h, void *ctx);

#endif
