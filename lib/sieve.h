/* sieve: the server's unit of CPU work, as in the book: a sieve of Eratosthenes over a byte
 * array of n + 1 entries. It costs O(n log log n) time and n + 1 bytes of memory per call. */
#ifndef SIEVE_H
#define SIEVE_H

#include <stdint.h>

/* Returns the number of primes <= n, or -1 with errno = ENOMEM when the array cannot be
 * allocated. The count is returned (and summed into the server's stats) so that the
 * compiler cannot drop the work. */
int64_t sieve_count(uint64_t n);

#endif
