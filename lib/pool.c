#include "pool.h"

long pool_tick(struct pool_ctl *c, long live, long idle)
{
    if (c->rate < 1)
        c->rate = 1;
    if (idle > c->max_spare) {
        c->rate = 1;
        return -1;
    }
    if (idle >= c->min_spare) {
        c->rate = 1;
        return 0;
    }
    long room = c->max_workers - live;
    long n = c->rate < room ? c->rate : room;
    if (n <= 0)
        return 0; /* at max_workers: short of spares, and nothing to be done */
    /* Still short next second: twice as many then, as Apache's idle_spawn_rate. */
    c->rate = c->rate * 2 > POOL_MAX_SPAWN_RATE ? POOL_MAX_SPAWN_RATE : c->rate * 2;
    return n;
}
