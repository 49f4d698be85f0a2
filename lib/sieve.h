/* sieve: the server's unit of CPU work, as in the book: a sieve of Eratosthenes over a byte
 * array of n + 1 entries. It costs O(n log log n) time and n + 1 bytes of memory per call.
 *
 * Where the array comes from is a choice (--sieve-alloc): fresh, the book's calloc and free
 * per request, so a large array is new pages the kernel must fault in and zero every time;
 * or reuse, one buffer per thread kept between requests (grown to the largest WORK seen, freed
 * when the thread ends), so only the first request of a worker pays the faults. */
#ifndef SIEVE_H
#define SIEVE_H

#include <stdint.h>

enum sieve_alloc { SIEVE_FRESH, SIEVE_REUSE };

/* Sets the allocation for every later sieve_count. Call once, before any thread starts. */
void sieve_set_alloc(enum sieve_alloc a);
enum sieve_alloc sieve_get_alloc(void);

/* Returns the number of primes <= n, or -1 with errno = ENOMEM when the array cannot be
 * allocated. The count is returned (and summed into the server's stats) so that the
 * compiler cannot drop the work. */
int64_t sieve_count(uint64_t n);

#endif
