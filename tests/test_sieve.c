#include <criterion/criterion.h>
#include <errno.h>
#include <sys/resource.h>

#include "sieve.h"

Test(sieve, known_prime_counts, .timeout = 60)
{
    static const struct {
        uint64_t n;
        int64_t pi;
    } t[] = {{0, 0}, {1, 0}, {2, 1}, {3, 2}, {10, 4}, {100, 25}, {250000, 22044}, {1000000, 78498}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        int64_t got = sieve_count(t[i].n);
        cr_expect_eq(got, t[i].pi, "pi(%llu) = %lld, want %lld", (unsigned long long)t[i].n,
                     (long long)got, (long long)t[i].pi);
    }
}

Test(sieve, allocation_failure_is_an_error, .timeout = 60)
{
    errno = 0;
    cr_expect_eq(sieve_count(UINT64_MAX), -1);
    cr_expect_eq(errno, ENOMEM);
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of address space up front */
    struct rlimit rl = {256 << 20, 256 << 20};
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
    errno = 0;
    cr_expect_eq(sieve_count(UINT64_C(1) << 32), -1);
    cr_expect_eq(errno, ENOMEM);
#endif
    cr_expect_eq(sieve_count(100), 25, "still works after a failure");
}
