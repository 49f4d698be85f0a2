#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"

Test(stats, counters_are_shared_across_fork)
{
    struct stats *s = stats_create();
    cr_assert(s);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            for (int i = 0; i < 10000; i++)
                stats_add(&s->requests, 1);
            stats_add(&s->bytes_sent, 7);
            _exit(0);
        }
    }
    for (int i = 0; i < 10000; i++)
        stats_add(&s->requests, 1);
    for (int k = 0; k < 4; k++)
        waitpid(kids[k], NULL, 0);
    cr_expect_eq(atomic_load(&s->requests), 50000);
    cr_expect_eq(atomic_load(&s->bytes_sent), 28);
    stats_destroy(s);
}

Test(stats, line_has_every_field)
{
    struct stats *s = stats_create();
    cr_assert(s);
    stats_add(&s->connections, 3);
    stats_add(&s->primes, 22044);
    struct stats_line info = {.model = "iterative", .workers = 1, .backlog = 32, .wall_s = 1.5};
    char buf[1024];
    int n = stats_format(buf, sizeof buf, s, &info);
    cr_assert_gt(n, 0);
    cr_expect_eq(buf[n - 1], '\n');
    static const char *keys[] = {"\"event\":\"stats\"", "\"model\":\"iterative\"",
                                 "\"workers\":1,",      "\"backlog\":32,",
                                 "\"connections\":3,",  "\"requests\":0,",
                                 "\"bad_requests\":0,", "\"bytes_sent\":0,",
                                 "\"primes\":22044,",   "\"utime_s\":",
                                 "\"stime_s\":",        "\"max_rss_kb\":",
                                 "\"nvcsw\":",          "\"nivcsw\":",
                                 "\"wall_s\":1.5"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_expect(strstr(buf, keys[i]), "missing %s in %s", keys[i], buf);
    cr_expect_eq(stats_format(buf, 20, s, &info), -1);
    stats_destroy(s);
}
