/* serve: what every driver of a conn shares (the blocking one, lib/blocking; the reactor;
 * the io_uring driver): the settings each connection is served with, the greeting, and how a
 * conn's tally reaches a worker's counters. */
#ifndef SERVE_H
#define SERVE_H

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

#endif
