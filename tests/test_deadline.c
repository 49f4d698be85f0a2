/* The deadline lists: each kind in the order set, the earliest of all kinds first, a kept
 * deadline left in place, and clearing from any place of a list. */
#include <criterion/criterion.h>

#include "deadline.h"

Test(deadline, taken_in_order_of_time_across_kinds)
{
    struct deadlines q = {0};
    struct deadline d[5];
    for (int i = 0; i < 5; i++)
        dl_init(&d[i]);
    cr_expect_eq(dl_next(&q), -1);
    dl_put(&q, &d[0], DL_TIMEOUT, 100);
    dl_put(&q, &d[1], DL_LINGER, 50);
    dl_put(&q, &d[2], DL_TIMEOUT, 120);
    dl_put(&q, &d[3], DL_LINGER, 130);
    dl_put(&q, &d[4], DL_TIMEOUT, 200);
    cr_expect_eq(dl_next(&q), 50);
    enum dl_kind k;
    cr_expect_null(dl_take_due(&q, 49, &k), "nothing is due before the earliest");
    static const int order[] = {1, 0, 2, 3};
    for (int i = 0; i < 4; i++) {
        struct deadline *got = dl_take_due(&q, 130, &k);
        cr_assert_eq(got, &d[order[i]], "taken %d-th", i);
        cr_expect_eq(k, order[i] % 2 ? DL_LINGER : DL_TIMEOUT);
        cr_expect_not(dl_armed(got));
    }
    cr_expect_null(dl_take_due(&q, 130, &k));
    cr_expect_eq(dl_next(&q), 200);
}

Test(deadline, kept_stays_in_place_and_cleared_from_anywhere)
{
    struct deadlines q = {0};
    struct deadline a, b, c;
    dl_init(&a), dl_init(&b), dl_init(&c);
    dl_put(&q, &a, DL_TIMEOUT, 10);
    dl_put(&q, &b, DL_TIMEOUT, 20);
    dl_put(&q, &c, DL_TIMEOUT, 30);
    dl_put(&q, &a, DL_TIMEOUT, 10); /* a line read in pieces keeps its first deadline */
    enum dl_kind k;
    cr_expect_eq(dl_take_due(&q, 10, &k), &a);
    dl_put(&q, &a, DL_TIMEOUT, 40);
    dl_clear(&q, &c); /* from the middle */
    dl_clear(&q, &c); /* twice: nothing */
    cr_expect_not(dl_armed(&c));
    cr_expect_eq(dl_take_due(&q, 100, &k), &b);
    cr_expect_eq(dl_take_due(&q, 100, &k), &a);
    cr_expect_null(dl_take_due(&q, 100, &k));
    dl_put(&q, &b, DL_LINGER, 5); /* moved to another kind */
    cr_expect_eq(dl_next(&q), 5);
    dl_clear(&q, &b);
    cr_expect_eq(dl_next(&q), -1);
}
