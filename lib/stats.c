#include "stats.h"

#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>

struct stats *stats_create(void)
{
    void *p =
        mmap(NULL, sizeof(struct stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    return p; /* mmap zero-fills: every counter starts at 0 */
}

void stats_destroy(struct stats *s)
{
    if (s)
        munmap(s, sizeof *s);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int stats_usage(struct stats_usage *u)
{
    struct rusage self, kids;
    if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
        return -1;
    u->utime_s = tv_s(self.ru_utime) + tv_s(kids.ru_utime);
    u->stime_s = tv_s(self.ru_stime) + tv_s(kids.ru_stime);
    /* ru_maxrss of RUSAGE_CHILDREN is the largest single child, not a sum. */
    u->max_rss_kb = self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss;
    u->nvcsw = self.ru_nvcsw + kids.ru_nvcsw;
    u->nivcsw = self.ru_nivcsw + kids.ru_nivcsw;
    return 0;
}

static unsigned long long get(_Atomic uint64_t *c)
{
    return (unsigned long long)atomic_load_explicit(c, memory_order_relaxed);
}

int stats_format(char *buf, size_t n, const struct stats *cs, const struct stats_line *info)
{
    struct stats *s = (struct stats *)cs;
    struct stats_usage u;
    if (stats_usage(&u) < 0)
        return -1;
    int r = snprintf(buf, n,
                     "{\"event\":\"stats\",\"model\":\"%s\",\"workers\":%ld,\"backlog\":%d,"
                     "\"connections\":%llu,\"requests\":%llu,\"bad_requests\":%llu,"
                     "\"bytes_sent\":%llu,\"primes\":%llu,\"utime_s\":%.6f,\"stime_s\":%.6f,"
                     "\"max_rss_kb\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld,\"wall_s\":%.6f}\n",
                     info->model, info->workers, info->backlog, get(&s->connections),
                     get(&s->requests), get(&s->bad_requests), get(&s->bytes_sent), get(&s->primes),
                     u.utime_s, u.stime_s, u.max_rss_kb, u.nvcsw, u.nivcsw, info->wall_s);
    if (r < 0 || (size_t)r >= n)
        return -1;
    return r;
}
