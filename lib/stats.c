#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
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
    int r =
        snprintf(buf, n,
                 "{\"event\":\"stats\",\"final\":%s,\"model\":\"%s\",\"workers\":%ld,"
                 "\"peak_workers\":%ld,\"backlog\":%d,\"sieve_alloc\":\"%s\","
                 "\"connections\":%llu,\"requests\":%llu,\"bad_requests\":%llu,"
                 "\"bytes_sent\":%llu,\"primes\":%llu,\"sieve_refused\":%llu,\"utime_s\":%.6f,"
                 "\"stime_s\":%.6f,"
                 "\"max_rss_kb\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld,\"minflt\":%ld,"
                 "\"majflt\":%ld,\"wall_s\":%.6f}\n",
                 info->final ? "true" : "false", info->model, info->workers, info->peak_workers,
                 info->backlog, info->sieve_alloc ? info->sieve_alloc : "fresh",
                 (unsigned long long)c.connections, (unsigned long long)c.requests,
                 (unsigned long long)c.bad_requests, (unsigned long long)c.bytes_sent,
                 (unsigned long long)c.primes, (unsigned long long)info->sieve_refused, u.utime_s,
                 u.stime_s, u.max_rss_kb, u.nvcsw, u.nivcsw, u.minflt, u.majflt, info->wall_s);
    if (r < 0 || (size_t)r >= n)
        return -1;
    if (info->nper_worker > 0) {
        /* per_worker_connections goes before the closing brace and newline. */
        size_t at = (size_t)r - 2;
        int k = snprintf(buf + at, n - at, ",\"per_worker_connections\":[");
        for (size_t i = 0; i < info->nper_worker && k > 0 && at + (size_t)k < n; i++) {
            at += (size_t)k;
            k = snprintf(buf + at, n - at, "%s%llu", i ? "," : "",
                         (unsigned long long)get(&info->per_worker[i]->connections));
        }
        if (k < 0 || at + (size_t)k >= n)
            return -1;
        at += (size_t)k;
        k = snprintf(buf + at, n - at, "]}\n");
        if (k < 0 || at + (size_t)k >= n)
            return -1;
        r = (int)(at + (size_t)k);
    }
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
        char line[1024];
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
