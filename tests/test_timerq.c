/* loadgen's timer queue: items come out earliest first, ties in id order, and an item taken
 * from the middle leaves the rest in order. */
#include <criterion/criterion.h>

#include "timerq.h"

Test(timerq, earliest_first_ties_by_id_and_taken_from_anywhere)
{
    struct timerq q;
    cr_assert_eq(tq_init(&q, 64), 0);
    struct tq_item it[64];
    for (uint32_t i = 0; i < 64; i++) {
        /* wakes 0..15 four times over, pushed in a scrambled order */
        uint32_t k = (i * 37) % 64;
        it[k] = (struct tq_item){.wake = k % 16, .id = k};
        tq_push(&q, &it[k]);
    }
    /* take out every item with wake 7 from wherever it sits */
    for (uint32_t k = 7; k < 64; k += 16) {
        cr_assert(it[k].queued);
        cr_expect_eq(tq_take(&q, it[k].pos), &it[k]);
        cr_expect_not(it[k].queued);
    }
    int64_t last_wake = -1;
    uint32_t last_id = 0, n = 0;
    for (struct tq_item *t; (t = tq_first(&q)); n++) {
        cr_assert_eq(tq_take(&q, 0), t);
        cr_expect(t->wake > last_wake || (t->wake == last_wake && t->id > last_id),
                  "%lld/%u after %lld/%u", (long long)t->wake, t->id, (long long)last_wake,
                  last_id);
        cr_expect_neq(t->wake, 7);
        last_wake = t->wake;
        last_id = t->id;
    }
    cr_expect_eq(n, 60);
    tq_free(&q);
}
