/* stats: the server's counters and its closing "stats" JSON line.
 *
 * The counters live in one shared anonymous mapping, so a child made by fork() adds to the
 * same numbers as its parent and its siblings. They are lock-free 64-bit atomics, which on
 * Linux are address-free and therefore safe across processes. Memory: one page. */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct stats {
    _Atomic uint64_t connections;
    _Atomic uint64_t requests;
    _Atomic uint64_t bad_requests;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t primes;
};

/* A zeroed shared mapping, or NULL with errno set. */
struct stats *stats_create(void);
void stats_destroy(struct stats *s);

static inline void stats_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* CPU and memory of this process and of every child it has reaped. */
struct stats_usage {
    double utime_s, stime_s;
    long max_rss_kb;
    long nvcsw, nivcsw;
};
int stats_usage(struct stats_usage *u);

struct stats_line {
    const char *model;
    long workers;
    int backlog;
    double wall_s;
};

/* Formats the one-line JSON stats object ("\n" included) into buf. Returns its length, or -1
 * when buf is too small or the usage could not be read. */
int stats_format(char *buf, size_t n, const struct stats *s, const struct stats_line *info);

#endif
