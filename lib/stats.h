/* stats: the server's counters and its closing "stats" JSON line.
 *
 * Each worker (a thread or a process) counts in a slot of its own, one cache line, so that
 * workers on different cores never write the same line on every request; the totals are the
 * sum of the slots, taken at the end or whenever a reader asks (stats_sum). The slots live
 * in one shared anonymous mapping, so a child made by fork() counts in memory its parent
 * reads. The counters are lock-free 64-bit atomics, which on Linux are address-free and
 * therefore safe across processes; an add is an atomic add, so that a slot shared by two
 * workers (more workers at once than slots) still counts exactly, merely slower. */
#ifndef STATS_H
#define STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stats_slot {
    _Alignas(64) _Atomic uint64_t connections;
    _Atomic uint64_t requests;
    _Atomic uint64_t bad_requests;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t primes;
    _Atomic int taken; /* 1 while a worker holds it */
};

struct stats {
    size_t nslots;
    _Atomic size_t spill; /* where a claim with every slot taken doubles up */
    struct stats_slot slot[];
};

/* A zeroed shared mapping with nslots slots (at least 1), or NULL with errno set. */
struct stats *stats_create(size_t nslots);
void stats_destroy(struct stats *s);

/* A free slot for the calling worker, or, when every slot is taken, one it shares. */
struct stats_slot *stats_claim(struct stats *s);
/* The worker is done with it; its counts stay in the totals. */
void stats_release(struct stats_slot *w);

static inline void stats_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

struct stats_counts {
    uint64_t connections, requests, bad_requests, bytes_sent, primes;
};
/* The totals over every slot, at this moment. */
void stats_sum(const struct stats *s, struct stats_counts *c);

/* CPU and memory of this process and of every child it has reaped. */
struct stats_usage {
    double utime_s, stime_s;
    long max_rss_kb;
    long nvcsw, nivcsw;
    long minflt, majflt; /* page faults: served without and with I/O */
};
int stats_usage(struct stats_usage *u);

struct stats_line {
    const char *model;
    long workers;      /* the pool's size now (a dynamic pool's final size at the end) */
    long peak_workers; /* the largest it has been */
    int backlog;
    const char *sieve_alloc; /* "fresh" or "reuse" */
    uint64_t sieve_refused;  /* requests refused for --max-sieve-memory */
    /* Models with several loops: each loop's counters, for per_worker_connections */
    struct stats_slot *const *per_worker;
    size_t nper_worker;
    double wall_s;
    bool final; /* false for the lines of --stats-interval */
};

/* A thread that writes line(arg)'s text to standard output every interval_ms, on a monotonic
 * schedule, until stopped (--stats-interval). line returns the length, or -1 to skip one. It
 * takes only its own lock: nothing a fork() in another thread could find held. Failing to
 * start is logged, and there are no periodic lines. */
struct stats_ticker {
    pthread_t tid;
    bool running, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int interval_ms;
    int (*line)(void *arg, char *buf, size_t n);
    void *arg;
};
void stats_ticker_start(struct stats_ticker *t, int interval_ms,
                        int (*line)(void *arg, char *buf, size_t n), void *arg);
/* Stops and joins it (nothing when it never started). */
void stats_ticker_stop(struct stats_ticker *t);

/* Formats the one-line JSON stats object ("\n" included) into buf. Returns its length, or -1
 * when buf is too small or the usage could not be read. */
int stats_format(char *buf, size_t n, const struct stats *s, const struct stats_line *info);

#endif
