/* snap: what the machine did up to a moment, read from /proc and getrusage; a cell's two
 * snapshots around its measured run give the machine's busy share, steal and CPU pressure
 * (bench/src/cell.c, bench/src/peer.c). */
#include "snap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "proc.h"

/* Loadgen counts among the children once it is reaped. */
void take_snap(struct snap *s)
{
    memset(s, 0, sizeof *s);
    s->t_us = now_ns(CLOCK_REALTIME) / 1000;
    char line[512];
    FILE *f = fopen("/proc/stat", "r");
    if (f && fgets(line, sizeof line, f)) {
        long long u, n, sy, id, io, irq, sirq, st;
        if (sscanf(line, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &u, &n, &sy, &id, &io, &irq,
                   &sirq, &st) == 8) {
            s->busy = u + n + sy + irq + sirq;
            s->steal = st;
            s->total = u + n + sy + id + io + irq + sirq + st;
        }
    }
    if (f)
        fclose(f);
    f = fopen("/proc/pressure/cpu", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *t = strstr(line, "total=");
        if (!strncmp(line, "some", 4) && t) {
            s->psi_us = atoll(t + 6);
            s->have_psi = true;
        }
    }
    if (f)
        fclose(f);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    s->kids_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL +
                 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}
