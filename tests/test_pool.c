#include <criterion/criterion.h>

#include "pool.h"

Test(pool, short_of_spares_doubles_the_rate_up_to_32, .timeout = 60)
{
    struct pool_ctl c = {.min_spare = 100, .max_spare = 200, .max_workers = 1000};
    static const long want[] = {1, 2, 4, 8, 16, 32, 32, 32};
    long live = 0;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        long n = pool_tick(&c, live, 0);
        cr_expect_eq(n, want[i], "second %zu: %ld started", i, n);
        live += n;
    }
}

Test(pool, enough_spares_resets_the_rate, .timeout = 60)
{
    struct pool_ctl c = {.min_spare = 2, .max_spare = 4, .max_workers = 100};
    cr_expect_eq(pool_tick(&c, 0, 0), 1);
    cr_expect_eq(pool_tick(&c, 1, 0), 2);
    cr_expect_eq(pool_tick(&c, 3, 3), 0, "between the bounds: nothing");
    cr_expect_eq(pool_tick(&c, 3, 0), 1, "the rate starts again at 1");
}

Test(pool, never_above_max_workers, .timeout = 60)
{
    struct pool_ctl c = {.min_spare = 10, .max_spare = 20, .max_workers = 6, .rate = 32};
    cr_expect_eq(pool_tick(&c, 4, 0), 2);
    cr_expect_eq(pool_tick(&c, 6, 0), 0);
}

Test(pool, too_many_spares_retire_one_a_second, .timeout = 60)
{
    struct pool_ctl c = {.min_spare = 1, .max_spare = 3, .max_workers = 50};
    cr_expect_eq(pool_tick(&c, 20, 20), -1);
    cr_expect_eq(pool_tick(&c, 19, 19), -1);
    cr_expect_eq(pool_tick(&c, 3, 3), 0);
}
