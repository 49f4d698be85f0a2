#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"

static uint64_t total_requests(const struct stats *s)
{
    struct stats_counts c;
    stats_sum(s, &c);
    return c.requests;
}

Test(stats, each_process_counts_in_its_own_slot_and_the_sum_is_exact, .timeout = 60)
{
    struct stats *s = stats_create(8);
    cr_assert(s);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            struct stats_slot *w = stats_claim(s);
            for (int i = 0; i < 10000; i++)
                stats_add(&w->requests, 1);
            stats_add(&w->bytes_sent, 7);
            stats_release(w);
            _exit(0);
        }
    }
    struct stats_slot *me = stats_claim(s);
    for (int i = 0; i < 10000; i++)
        stats_add(&me->requests, 1);
    for (int k = 0; k < 4; k++)
        waitpid(kids[k], NULL, 0);
    struct stats_counts c;
    stats_sum(s, &c);
    cr_expect_eq(c.requests, 50000);
    cr_expect_eq(c.bytes_sent, 28);
    stats_destroy(s);
}

Test(stats, slots_are_distinct_cache_lines_until_they_run_out, .timeout = 60)
{
    struct stats *s = stats_create(3);
    cr_assert(s);
    struct stats_slot *a = stats_claim(s), *b = stats_claim(s), *c = stats_claim(s);
    cr_expect(a != b && b != c && a != c);
    cr_expect_eq((uintptr_t)a % 64, 0);
    cr_expect_eq((uintptr_t)b % 64, 0);
    /* All three taken: the next worker shares one, and still counts exactly. */
    struct stats_slot *d = stats_claim(s);
    cr_expect(d == a || d == b || d == c);
    stats_add(&a->requests, 2);
    stats_add(&d->requests, 3);
    cr_expect_eq(total_requests(s), 5);
    /* A released slot is handed out again; what it counted stays in the totals. */
    stats_release(b);
    cr_expect_eq(stats_claim(s), b);
    stats_add(&b->requests, 1);
    cr_expect_eq(total_requests(s), 6);
    stats_destroy(s);
}

static void *count_thread(void *arg)
{
    struct stats *s = arg;
    struct stats_slot *w = stats_claim(s);
    for (int i = 0; i < 100000; i++)
        stats_add(&w->requests, 1);
    stats_release(w);
    return NULL;
}

Test(stats, a_sum_taken_while_threads_count_is_safe_and_the_last_is_exact, .timeout = 60)
{
    struct stats *s = stats_create(2); /* 4 threads, 2 slots: two share each */
    cr_assert(s);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, count_thread, s), 0);
    uint64_t last = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t now = total_requests(s);
        cr_expect_geq(now, last, "a sum on demand never goes back");
        last = now;
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(total_requests(s), 400000);
    stats_destroy(s);
}

Test(stats, line_has_every_field, .timeout = 60)
{
    struct stats *s = stats_create(4);
    cr_assert(s);
    stats_add(&stats_claim(s)->connections, 2);
    stats_add(&stats_claim(s)->connections, 1);
    stats_add(&s->slot[3].primes, 22044);
    struct stats_line info = {.model = "iterative",
                              .workers = 1,
                              .peak_workers = 3,
                              .backlog = 32,
                              .wall_s = 1.5,
                              .final = true};
    char buf[1024];
    int n = stats_format(buf, sizeof buf, s, &info);
    cr_assert_gt(n, 0);
    cr_expect_eq(buf[n - 1], '\n');
    static const char *keys[] = {"\"event\":\"stats\"", "\"model\":\"iterative\"",
                                 "\"workers\":1,",      "\"peak_workers\":3,",
                                 "\"final\":true,",     "\"backlog\":32,",
                                 "\"connections\":3,",  "\"requests\":0,",
                                 "\"bad_requests\":0,", "\"bytes_sent\":0,",
                                 "\"primes\":22044,",   "\"utime_s\":",
                                 "\"stime_s\":",        "\"max_rss_kb\":",
                                 "\"nvcsw\":",          "\"nivcsw\":",
                                 "\"minflt\":",         "\"majflt\":",
                                 "\"wall_s\":1.5"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_expect(strstr(buf, keys[i]), "missing %s in %s", keys[i], buf);
    cr_expect_eq(stats_format(buf, 20, s, &info), -1);
    stats_destroy(s);
}
