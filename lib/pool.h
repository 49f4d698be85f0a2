/* pool: the sizing rule of a dynamic pool, as Apache's prefork and worker MPMs apply it
 * (MinSpareServers, MaxSpareServers, MaxRequestWorkers). Once a second the model counts its
 * idle workers and asks pool_tick() what to do: below min_spare it starts workers, 1 the first
 * second and twice as many each following second that is still short, up to 32 a second;
 * above max_spare it retires one idle worker a second; it never exceeds max_workers. Pure
 * arithmetic, no I/O: prefork-srv (a scoreboard in shared memory) and prethread-srv (counters)
 * do the counting and the starting and retiring. */
#ifndef POOL_H
#define POOL_H

#include <stdbool.h>

#define POOL_MAX_SPAWN_RATE 32

struct pool_ctl {
    long min_spare, max_spare, max_workers;
    long rate; /* workers to start at the next short second; starts at 1 */
};

/* A tick of the rule: > 0 workers to start now, -1 to retire one idle worker, 0 nothing. */
long pool_tick(struct pool_ctl *c, long live, long idle);

#endif
