#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "jdoc.h"
#include "log.h"

static size_t mapping_size(size_t nslots)
{
    return sizeof(struct stats) + nslots * sizeof(struct stats_slot);
}

struct stats *stats_create(size_t nslots)
{
    if (nslots == 0)
        nslots = 1;
    if (nslots > (SIZE_MAX - sizeof(struct stats)) / sizeof(struct stats_slot)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p =
        mmap(NULL, mapping_size(nslots), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct stats *s = p; /* mmap zero-fills: every counter starts at 0, every slot free */
    s->nslots = nslots;
    return s;
}

void stats_destroy(struct stats *s)
{
    if (s)
        munmap(s, mapping_size(s->nslots));
}

struct stats_slot *stats_claim(struct stats *s)
{
    for (size_t i = 0; i < s->nslots; i++) {
        int free_ = 0;
        if (atomic_compare_exchange_strong(&s->slot[i].taken, &free_, 1))
            return &s->slot[i];
    }
    return &s->slot[atomic_fetch_add(&s->spill, 1) % s->nslots];
}

void stats_release(struct stats_slot *w)
{
    atomic_store(&w->taken, 0);
}

static uint64_t get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

void stats_sum(const struct stats *s, struct stats_counts *c)
{
    *c = (struct stats_counts){0};
    for (size_t i = 0; i < s->nslots; i++) {
        const struct stats_slot *w = &s->slot[i];
        c->connections += get(&w->connections);
        c->requests += get(&w->requests);
        c->bad_requests += get(&w->bad_requests);
        c->bytes_sent += get(&w->bytes_sent);
        c->primes += get(&w->primes);
    }
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* This process's own peak resident set (VmHWM), in kB; -1 where /proc cannot say. Not
 * ru_maxrss: Linux carries that across exec, so a server would report the peak of whatever
 * process started it when that was larger than its own. */
static long own_peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

int stats_usage(struct stats_usage *u)
{
    struct rusage self, kids;
    if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
        return -1;
    u->utime_s = tv_s(self.ru_utime) + tv_s(kids.ru_utime);
    u->stime_s = tv_s(self.ru_stime) + tv_s(kids.ru_stime);
    /* ru_maxrss of RUSAGE_CHILDREN is the largest single child, not a sum. */
    long own = own_peak_rss_kb();
    if (own < 0)
        own = self.ru_maxrss;
    u->max_rss_kb = own > kids.ru_maxrss ? own : kids.ru_maxrss;
    u->nvcsw = self.ru_nvcsw + kids.ru_nvcsw;
    u->nivcsw = self.ru_nivcsw + kids.ru_nivcsw;
    u->minflt = self.ru_minflt + kids.ru_minflt;
    u->majflt = self.ru_majflt + kids.ru_majflt;
    return 0;
}

int stats_format(char *buf, size_t n, const struct stats *s, const struct stats_line *info)
{
    struct stats_usage u;
    if (stats_usage(&u) < 0)
        return -1;
    struct stats_counts c;
    stats_sum(s, &c);
    json_object *o = json_object_new_object();
    if (!o)
        return -1;
    int ok = jdoc_set(o, "event", json_object_new_string("stats")) &&
             jdoc_set(o, "final", json_object_new_boolean(info->final)) &&
             jdoc_set(o, "model", json_object_new_string(info->model)) &&
             jdoc_set(o, "workers", json_object_new_int64(info->workers)) &&
             jdoc_set(o, "peak_workers", json_object_new_int64(info->peak_workers)) &&
             jdoc_set(o, "backlog", json_object_new_int64(info->backlog)) &&
             jdoc_set(o, "sieve_alloc",
                      json_object_new_string(info->sieve_alloc ? info->sieve_alloc : "fresh")) &&
             jdoc_set(o, "connections", json_object_new_uint64(c.connections)) &&
             jdoc_set(o, "requests", json_object_new_uint64(c.requests)) &&
             jdoc_set(o, "bad_requests", json_object_new_uint64(c.bad_requests)) &&
             jdoc_set(o, "bytes_sent", json_object_new_uint64(c.bytes_sent)) &&
             jdoc_set(o, "primes", json_object_new_uint64(c.primes)) &&
             jdoc_set(o, "sieve_refused", json_object_new_uint64(info->sieve_refused)) &&
             jdoc_set(o, "utime_s", jdoc_double(u.utime_s, 6)) &&
             jdoc_set(o, "stime_s", jdoc_double(u.stime_s, 6)) &&
             jdoc_set(o, "max_rss_kb", json_object_new_int64(u.max_rss_kb)) &&
             jdoc_set(o, "nvcsw", json_object_new_int64(u.nvcsw)) &&
             jdoc_set(o, "nivcsw", json_object_new_int64(u.nivcsw)) &&
             jdoc_set(o, "minflt", json_object_new_int64(u.minflt)) &&
             jdoc_set(o, "majflt", json_object_new_int64(u.majflt)) &&
             jdoc_set(o, "wall_s", jdoc_double(info->wall_s, 6));
    if (ok && info->nper_worker > 0) {
        json_object *per = json_object_new_array();
        ok = jdoc_set(o, "per_worker_connections", per) && per;
        for (size_t i = 0; ok && i < info->nper_worker; i++)
            ok = json_object_array_add(
                     per, json_object_new_uint64(get(&info->per_worker[i]->connections))) == 0;
    }
    int r = ok ? jdoc_line(o, buf, n) : -1;
    json_object_put(o);
    return r;
}

static void *ticker_thread(void *arg)
{
    struct stats_ticker *t = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&t->mu);
    for (;;) {
        next.tv_sec += t->interval_ms / 1000;
        next.tv_nsec += (long)(t->interval_ms % 1000) * 1000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000;
        }
        int e = 0;
        while (!t->stop && e != ETIMEDOUT)
            e = pthread_cond_timedwait(&t->cv, &t->mu, &next);
        if (t->stop)
            break;
        char line[65536];
        int n = t->line(t->arg, line, sizeof line);
        if (n > 0 && io_writen(STDOUT_FILENO, line, (size_t)n) < 0)
            break; /* stdout is gone: the closing line will say so */
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

void stats_ticker_start(struct stats_ticker *t, int interval_ms,
                        int (*line)(void *arg, char *buf, size_t n), void *arg)
{
    *t = (struct stats_ticker){.interval_ms = interval_ms, .line = line, .arg = arg};
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
        pthread_cond_init(&t->cv, &ca) || pthread_mutex_init(&t->mu, NULL)) {
        log_msg(LOG_ERR, "--stats-interval: cannot set up its timer; no periodic lines");
        return;
    }
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&t->tid, NULL, ticker_thread, t);
    if (e != 0) {
        log_msg(LOG_ERR, "--stats-interval: pthread_create: %s; no periodic lines", strerror(e));
        return;
    }
    t->running = true;
}

void stats_ticker_stop(struct stats_ticker *t)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->tid, NULL);
    t->running = false;
}
