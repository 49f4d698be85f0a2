/* serve: what every driver of a conn shares (the blocking one, lib/blocking; the reactor;
 * the io_uring driver; Leader/Followers; the user-level threads): the settings each
 * connection is served with, the greeting, how a conn's tally reaches a worker's counters,
 * and the drain policy's question at the stop. */
#ifndef SERVE_H
#define SERVE_H

#include <stdbool.h>

#include "conn.h"
#include "proto.h"
#include "stats.h"

struct serve_cfg {
    char greeting[PROTO_GREETING_MAX + 1]; /* "\n"-terminated */
    struct conn_cfg conn;                  /* the greeting and limits, for each conn */
    int timeout_ms;                        /* -1: none */
};

/* Formats cfg->greeting for model and pid, and points cfg->conn at it (so cfg must not be
 * copied afterwards). */
void serve_greeting(struct serve_cfg *cfg, const char *model, long pid);

/* Adds a conn's tally to a worker's slot. */
void serve_count(struct stats_slot *w, struct conn_tally t);

/* The drain policy, asked by every driver once the server is stopping: is this client done
 * with now? Yes when it is between requests (its conn in CONN_READ), was not taken from the
 * listener at the stop (drained: its first request is served), and no byte of a next request
 * waits in its socket fd. One that waits is answered: closing with it unread would reset the
 * connection, and the client could lose the answer it is still reading. */
bool serve_closes_at_stop(int fd, bool drained, enum conn_state state);

#endif
